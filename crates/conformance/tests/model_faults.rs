//! The model catches servers that break what the spec promises, shrinks the
//! failing sequence to a few steps, saves it, and replays it.
//!
//! Each test wraps the reference router in a small middleware that breaks
//! one rule, or switches a planted fault on, runs the harness against it by
//! URL, and expects a model failure with a short saved sequence.

mod common;

use std::path::{Path, PathBuf};

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use appmixer_conformance::replay::{SavedCase, replay};
use appmixer_conformance::{Options, Report};

fn options(url: &str, dir: &Path) -> Options {
    Options {
        url: Some(url.to_string()),
        signup: true,
        cases: 16,
        steps: 10,
        seed: Some(11),
        save_failures: dir.to_path_buf(),
        ..Options::default()
    }
}

fn saved_cases(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .collect()
        })
        .unwrap_or_default()
}

fn model_failures(report: &Report) -> Vec<String> {
    report
        .failures
        .iter()
        .filter(|f| f.expectation.starts_with("model."))
        .map(|f| format!("{} {}", f.operation, f.expectation))
        .collect()
}

/// A flow delete that answers 200 but deletes nothing.
async fn keep_deleted_flows(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let one_flow = path
        .strip_prefix("/flows/")
        .is_some_and(|rest| !rest.contains('/') && rest != "count");
    if request.method() == Method::DELETE && one_flow {
        let flow_id = path.trim_start_matches("/flows/").to_string();
        return (StatusCode::OK, axum::Json(json!({"flowId": flow_id}))).into_response();
    }
    next.run(request).await
}

/// A second decision that answers 200 instead of 400.
async fn accept_second_decisions(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let decision = request.method() == Method::PUT
        && path.starts_with("/people-task/tasks/")
        && (path.ends_with("/approve") || path.ends_with("/reject"));
    let response = next.run(request).await;
    if !decision || response.status() != StatusCode::BAD_REQUEST {
        return response;
    }
    let id = path.split('/').nth(3).unwrap_or_default().to_string();
    let status = if path.ends_with("/approve") {
        "approved"
    } else {
        "rejected"
    };
    let (mut parts, body) = response.into_parts();
    let _ = to_bytes(body, usize::MAX).await;
    parts.status = StatusCode::OK;
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = json!({"id": id, "status": status}).to_string();
    Response::from_parts(parts, Body::from(body))
}

#[tokio::test]
async fn a_delete_that_keeps_the_flow_fails_the_model_with_a_short_saved_sequence() {
    let dir = common::scratch_dir("model-delete");
    let app = common::reference_router().layer(middleware::from_fn(keep_deleted_flows));
    let base = common::serve(app).await;

    let report = appmixer_conformance::run(options(&base, &dir))
        .await
        .expect("the run starts");

    assert_eq!(report.exit_code(), 1);
    let failure = report
        .failures
        .iter()
        .find(|f| f.expectation == "model.read-your-writes")
        .unwrap_or_else(|| panic!("no model failure: {:?}\n{report}", model_failures(&report)));
    let reproduction = failure
        .reproduction
        .as_deref()
        .expect("a model failure carries its reproduction");
    assert!(reproduction.contains("seed 11"), "{reproduction}");
    assert!(reproduction.contains("curl -X DELETE"), "{reproduction}");
    assert!(!reproduction.contains("Bearer ey"), "{reproduction}");
    assert!(
        !failure.actual.contains("curl"),
        "the reproduction is not part of `actual`: {}",
        failure.actual
    );
    let saved = saved_cases(&dir);
    assert_eq!(saved.len(), 1, "{saved:?}");
    let case = SavedCase::load(&saved[0]).expect("the saved case loads");
    assert!(case.steps.len() <= 3, "not shrunk: {:?}", case.steps);
    assert!(
        case.steps
            .iter()
            .any(|step| step.operation() == "deleteFlow"),
        "{:?}",
        case.steps
    );

    let still_broken = replay(
        Options {
            url: Some(base.clone()),
            signup: true,
            ..Options::default()
        },
        &saved[0],
    )
    .await
    .expect("the replay starts");
    let fixed = replay(Options::default(), &saved[0])
        .await
        .expect("the replay starts");

    assert!(!still_broken.fixed(), "{still_broken}");
    assert!(
        still_broken.to_string().contains("FAILED"),
        "{still_broken}"
    );
    assert!(fixed.fixed(), "{fixed}");
    assert!(fixed.to_string().contains(": FIXED"), "{fixed}");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_second_decision_that_succeeds_fails_the_model_and_the_commands_property() {
    let dir = common::scratch_dir("model-decide");
    let app = common::reference_router().layer(middleware::from_fn(accept_second_decisions));
    let base = common::serve(app).await;

    let report = appmixer_conformance::run(options(&base, &dir))
        .await
        .expect("the run starts");

    assert_eq!(report.exit_code(), 1);
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.expectation == "commands.repeat-changes-nothing"),
        "{report}"
    );
    let saved = saved_cases(&dir);
    if let Some(path) = saved.first() {
        let case = SavedCase::load(path).expect("the saved case loads");
        assert!(case.steps.len() <= 4, "not shrunk: {:?}", case.steps);
        assert!(
            case.steps
                .iter()
                .filter(|step| matches!(step.operation(), "approveTask" | "rejectTask"))
                .count()
                >= 2,
            "{:?}",
            case.steps
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn an_update_that_merges_custom_fields_fails_read_your_writes_in_two_steps() {
    let dir = common::scratch_dir("model-merge");
    let config = appmixer_reference::Config::default()
        .with_fault(appmixer_reference::Fault::FlowUpdateMergesCustomFields);
    let base = common::serve(appmixer_reference::router(config)).await;

    let report = appmixer_conformance::run(options(&base, &dir))
        .await
        .expect("the run starts");

    let failure = report
        .failures
        .iter()
        .find(|f| f.expectation == "model.read-your-writes")
        .unwrap_or_else(|| panic!("no model failure: {:?}\n{report}", model_failures(&report)));
    assert!(
        failure.actual.contains("/customFields/category"),
        "{}",
        failure.actual
    );
    let saved = saved_cases(&dir);
    assert_eq!(saved.len(), 1, "{saved:?}");
    let case = SavedCase::load(&saved[0]).expect("the saved case loads");
    let operations: Vec<&str> = case.steps.iter().map(|step| step.operation()).collect();
    assert_eq!(operations, ["createFlow", "updateFlow"], "{:?}", case.steps);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_replay_subcommand_says_fixed_for_a_case_the_clean_server_gets_right() {
    use appmixer_conformance::model::state::{Handle, Step};
    use appmixer_conformance::replay::{FORMAT, ServerKind, sha256_hex};
    let dir = common::scratch_dir("replay-cli");
    let spec = std::fs::read(appmixer_spec::default_path()).expect("the spec reads");
    let case = SavedCase {
        format: FORMAT,
        seed: 3,
        server: ServerKind::Url,
        spec_sha256: sha256_hex(&spec),
        operation: "getStoreItem".into(),
        expectation: "model.read-your-writes".into(),
        expected: "value \"shipped\"".into(),
        actual: "status 404".into(),
        steps: vec![
            Step::CreateStore {
                store: Handle(0),
                name: "orders".into(),
            },
            Step::SetRecord {
                store: Handle(0),
                key: "order 1".into(),
                value: "shipped".into(),
            },
        ],
    };
    let path = case.save(&dir).expect("the case saves");

    let output = replay_binary(&path);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("1. create store S0 named \"orders\": FIXED"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("FIXED"), "{stdout}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_replay_subcommand_refuses_a_file_that_is_not_a_saved_case() {
    let dir = common::scratch_dir("replay-cli-bad");
    let path = dir.join("notes.json");
    std::fs::write(&path, "{\"hello\": 1}").unwrap();

    let output = replay_binary(&path);

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("notes.json") && stderr.contains("is not a saved case"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).ok();
}

/// Saves a case whose steps are `steps` (as JSON) and runs `replay` on it
/// against the embedded server; returns the exit status and stderr.
fn replay_saved_steps(name: &str, steps: serde_json::Value) -> (Option<i32>, String) {
    use appmixer_conformance::replay::{FORMAT, sha256_hex};
    let dir = common::scratch_dir(name);
    let spec = std::fs::read(appmixer_spec::default_path()).expect("the spec reads");
    let case = json!({
        "format": FORMAT,
        "seed": 5,
        "server": "url",
        "specSha256": sha256_hex(&spec),
        "operation": "getFlows",
        "expectation": "model.read-your-writes",
        "expected": "nothing at `/customFields/category`",
        "actual": "\"crm\" at `/customFields/category`",
        "steps": steps,
    });
    let path = dir.join("case.json");
    std::fs::write(&path, case.to_string()).unwrap();

    let output = replay_binary(&path);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("FIXED"), "{stdout}");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_replay_subcommand_refuses_a_case_without_steps() {
    let (status, stderr) = replay_saved_steps("replay-cli-empty", json!([]));

    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("has no steps, so there is nothing to replay"),
        "{stderr}"
    );
}

#[test]
fn the_replay_subcommand_refuses_a_step_on_a_flow_no_earlier_step_creates() {
    let steps = json!([
        {
            "op": "createFlow",
            "flow": 0,
            "name": "alpha",
            "descriptor": {
                "00000000-0000-4000-8000-000000000000": {
                    "type": "appmixer.utils.http.Webhook",
                    "x": 0,
                    "y": 0,
                    "source": {},
                    "config": {"properties": {"immediateResponse": true}}
                }
            },
            "category": "crm"
        },
        {
            "op": "updateFlow",
            "flow": 0,
            "name": null,
            "descriptor": null,
            "customFields": "tagOnly",
            "force": false
        },
        {"op": "deleteFlow", "flow": 7}
    ]);

    let (status, stderr) = replay_saved_steps("replay-cli-unknown-flow", steps);

    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("step 3 (delete flow F7) refers to flow F7, which no earlier step creates"),
        "{stderr}"
    );
}

/// Runs `appmixer-conformance replay PATH` against the embedded server.
fn replay_binary(path: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"))
        .env_remove("APPMIXER_URL")
        .arg("replay")
        .arg(path)
        .output()
        .expect("the binary runs")
}
