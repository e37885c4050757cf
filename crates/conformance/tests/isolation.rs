//! Isolation against servers that break it: a second user who can read the
//! first user's flow, a requester secret that decides a task, and a run
//! without a second user, which must say it did not check isolation.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::Value;

use appmixer_conformance::checks::CheckKind;
use appmixer_conformance::isolation::NEEDS_SECOND_USER;
use appmixer_conformance::{Options, Report};

/// Whether `path` is `/flows/{flowId}` (and not `/flows/count`).
fn is_one_flow(path: &str) -> bool {
    path.strip_prefix("/flows/")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/') && rest != "count")
}

async fn body_json(response: Response) -> (axum::http::response::Parts, Value) {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = to_bytes(body, usize::MAX).await.expect("a readable body");
    (parts, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn isolation_failures(report: &Report) -> Vec<(String, String)> {
    report
        .failures
        .iter()
        .filter(|f| f.kind == CheckKind::Isolation)
        .map(|f| (f.operation.clone(), f.expectation.clone()))
        .collect()
}

async fn run_against(app: axum::Router) -> Report {
    let base = common::serve(app).await;
    appmixer_conformance::run(Options {
        cases: 1,
        ..common::signup_options(&base)
    })
    .await
    .expect("the run starts")
}

#[tokio::test]
async fn a_second_user_who_can_read_the_first_users_flow_fails_isolation_of_get_flow() {
    // Remembers who created each flow, and reads every flow as its creator,
    // whoever asks: any user can read any flow.
    let owners: Arc<Mutex<HashMap<String, HeaderValue>>> = Arc::default();
    let app = common::reference_router().layer(middleware::from_fn(
        move |mut request: Request, next: Next| {
            let owners = owners.clone();
            async move {
                let path = request.uri().path().to_string();
                let creates = request.method() == Method::POST && path == "/flows";
                let auth = request.headers().get(header::AUTHORIZATION).cloned();
                if request.method() == Method::GET && is_one_flow(&path) {
                    let id = path.trim_start_matches("/flows/");
                    if let Some(owner) = owners.lock().unwrap().get(id) {
                        request
                            .headers_mut()
                            .insert(header::AUTHORIZATION, owner.clone());
                    }
                }
                let response = next.run(request).await;
                if !creates || !response.status().is_success() {
                    return response;
                }
                let (parts, body) = body_json(response).await;
                if let (Some(id), Some(auth)) = (body["flowId"].as_str(), auth) {
                    owners.lock().unwrap().insert(id.to_string(), auth);
                }
                Response::from_parts(parts, Body::from(body.to_string()))
            }
        },
    ));

    let report = run_against(app).await;

    assert_eq!(report.exit_code(), 1, "{report}");
    let failures = isolation_failures(&report);
    assert!(
        failures.contains(&(
            "getFlow".into(),
            "isolation.other-users-object-refused".into()
        )),
        "{failures:?}"
    );
    let refused = report
        .failures_of("getFlow", CheckKind::Isolation)
        .find(|f| f.expectation == "isolation.other-users-object-refused")
        .expect("the refusal failure");
    assert_eq!(refused.expected, "status 403 or 404 for the second user");
    assert_eq!(refused.actual, "status 200");
    assert!(
        failures.iter().all(|(operation, _)| operation == "getFlow"),
        "isolation failures beyond getFlow: {failures:?}"
    );
    assert!(
        report
            .to_string()
            .contains("getFlow · isolation · isolation.other-users-object-refused"),
        "the summary names the operation"
    );
}

#[tokio::test]
async fn a_requester_secret_that_decides_a_task_fails_isolation_of_approve_task() {
    // Remembers both secrets of every task and treats the requester secret
    // as the approver secret when a decision is asked for.
    let secrets: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let app = common::reference_router().layer(middleware::from_fn(
        move |request: Request, next: Next| {
            let secrets = secrets.clone();
            async move {
                let path = request.uri().path().to_string();
                let creates = request.method() == Method::POST && path == "/people-task/tasks";
                let decides = request.method() == Method::PUT && path.ends_with("/approve");
                let request = if decides {
                    let (parts, body) = request.into_parts();
                    let bytes = to_bytes(body, usize::MAX).await.unwrap();
                    let mut value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    let swapped = value["secret"]
                        .as_str()
                        .and_then(|s| secrets.lock().unwrap().get(s).cloned());
                    if let Some(approver) = swapped {
                        value["secret"] = Value::String(approver);
                    }
                    let mut parts = parts;
                    parts.headers.remove(header::CONTENT_LENGTH);
                    Request::from_parts(parts, Body::from(value.to_string()))
                } else {
                    request
                };
                let response = next.run(request).await;
                if !creates || !response.status().is_success() {
                    return response;
                }
                let (parts, body) = body_json(response).await;
                if let (Some(requester), Some(approver)) = (
                    body["requesterSecret"].as_str(),
                    body["approverSecret"].as_str(),
                ) {
                    secrets
                        .lock()
                        .unwrap()
                        .insert(requester.to_string(), approver.to_string());
                }
                Response::from_parts(parts, Body::from(body.to_string()))
            }
        },
    ));

    let report = run_against(app).await;

    assert_eq!(report.exit_code(), 1, "{report}");
    let failures = isolation_failures(&report);
    assert!(
        failures.contains(&(
            "approveTask".into(),
            "isolation.requester-secret-cannot-decide".into()
        )),
        "{failures:?}"
    );
}

#[tokio::test]
async fn without_a_second_user_isolation_is_not_checked_and_the_run_exits_3() {
    let server = appmixer_reference::spawn().await.unwrap();
    let base = server.base_url();
    common::sign_up(&base, "alone@example.com", "pw-alone-1234").await;
    let options = Options {
        url: Some(base.clone()),
        username: Some("alone@example.com".into()),
        password: Some("pw-alone-1234".into()),
        cases: 1,
        ..Options::default()
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(report.exit_code(), 3, "{report}");
    let skipped: Vec<_> = report
        .not_checked
        .iter()
        .filter(|n| n.kind == CheckKind::Isolation)
        .collect();
    assert!(
        skipped.iter().any(|n| n.operation == "getFlow"),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .filter(|n| n.operation != "approveTask" && n.operation != "getPeopleTask")
            .all(|n| n.required && n.reason == NEEDS_SECOND_USER),
        "{skipped:?}"
    );
    let text = report.to_string();
    assert!(text.contains("needs a second user"), "{text}");
    assert!(text.contains("NOT CHECKED"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_fixture_object_the_server_will_not_make_leaves_the_other_areas_checked() {
    // Every chart request answers 404: the fixture gets no chart.
    let app = common::reference_router().layer(middleware::from_fn(
        |request: Request, next: Next| async move {
            if request.uri().path().starts_with("/charts") {
                return Response::builder()
                    .status(404)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        r#"{"statusCode":404,"error":"Not Found","message":"Not Found"}"#,
                    ))
                    .unwrap();
            }
            next.run(request).await
        },
    ));

    let report = run_against(app).await;

    assert!(
        report
            .failures
            .iter()
            .any(|f| f.expectation == "fixture.chart-created"),
        "{report}"
    );
    for (operation, kind) in [
        ("getFlow", CheckKind::Isolation),
        ("getStore", CheckKind::Isolation),
        ("deleteFlow", CheckKind::Auth),
    ] {
        let tally = report.row(operation).unwrap().tally(kind);
        assert!(
            tally.total > 0,
            "{operation} {kind:?} was not checked:\n{report}"
        );
    }
    let chart = report
        .not_checked
        .iter()
        .find(|n| n.operation == "getChart" && n.kind == CheckKind::Isolation)
        .unwrap_or_else(|| panic!("getChart's isolation is not listed as not checked:\n{report}"));
    assert!(
        chart.reason.contains("chart could not be made"),
        "{}",
        chart.reason
    );
}

#[tokio::test]
async fn a_tagged_flow_whose_create_answer_was_lost_is_deleted_by_cleanup_all_the_same() {
    // The first flow is made, but its answer is replaced by a 500: the run
    // never learns its id, as when a signal cuts a create short.
    let first = Arc::new(Mutex::new(true));
    let app = common::reference_router().layer(middleware::from_fn(
        move |request: Request, next: Next| {
            let first = first.clone();
            async move {
                let creates = request.method() == Method::POST && request.uri().path() == "/flows";
                let response = next.run(request).await;
                if creates && std::mem::replace(&mut *first.lock().unwrap(), false) {
                    return Response::builder()
                        .status(500)
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from(
                            r#"{"statusCode":500,"error":"Internal Server Error","message":"lost"}"#,
                        ))
                        .unwrap();
                }
                response
            }
        },
    ));

    let report = run_against(app).await;

    assert!(
        report.cleanup.leftovers.is_empty(),
        "left over: {:?}\n{report}",
        report.cleanup.leftovers
    );
}
