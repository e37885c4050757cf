//! The guards that make the harness safe to aim at a live deployment:
//! `--read-only`, the failure streak, the limit on response bodies, "not
//! checked" for a run whose token is refused everywhere, Ctrl-C, and the
//! `cleanup` subcommand.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use appmixer_conformance::Options;
use appmixer_conformance::catalog::Catalog;
use appmixer_conformance::checks::CheckKind;
use appmixer_conformance::guards::{Guards, Stop};
use appmixer_conformance::report::evidence::CREDENTIALS_HINT;
use appmixer_conformance::transport::{Call, Transport, TransportError};

fn boom(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({
            "statusCode": status.as_u16(),
            "error": status.canonical_reason().unwrap_or_default(),
            "message": message,
        })
        .to_string(),
    )
        .into_response()
}

/// Sends `method path` with `token` and a JSON (or text) `body`; answers
/// the JSON reply.
async fn send(base: &str, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let client = common::client();
    let mut request = client
        .request(method.clone(), format!("{base}{path}"))
        .bearer_auth(token);
    request = match body {
        Some(Value::String(text)) => request
            .header(header::CONTENT_TYPE, "text/plain")
            .body(text),
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.expect("the request is answered");
    assert!(
        response.status().is_success(),
        "{method} {path} answered {}",
        response.status()
    );
    let bytes = response.bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// Gives the account of `token` one object of every kind, for reads.
async fn seed(base: &str, token: &str, email: &str, name: &str) {
    let webhook = uuid::Uuid::new_v4().to_string();
    let slack = uuid::Uuid::new_v4().to_string();
    let flow = send(base, Method::POST, "/flows", token, Some(json!({
        "name": name,
        "flow": {
            webhook.as_str(): {"type": "appmixer.utils.http.Webhook", "x": 0, "y": 0, "source": {}},
            slack.as_str(): {"type": "appmixer.slack.list.SendChannelMessage", "x": 1, "y": 0,
                             "source": {"in": {webhook.as_str(): ["out"]}}},
        },
    })))
    .await;
    let flow_id = flow["flowId"].as_str().unwrap().to_string();
    let store = send(
        base,
        Method::POST,
        "/stores",
        token,
        Some(json!({"name": name})),
    )
    .await;
    let store_id = store["storeId"].as_str().unwrap();
    send(
        base,
        Method::POST,
        &format!("/store/{store_id}/order-1"),
        token,
        Some(json!("shipped")),
    )
    .await;
    send(
        base,
        Method::POST,
        "/accounts?validateScope=false&requestProfileInfo=false",
        token,
        Some(
            json!({"service": "appmixer:slack", "token": {"accessToken": "xoxb-x"}, "name": name}),
        ),
    )
    .await;
    send(
        base,
        Method::POST,
        "/charts",
        token,
        Some(json!({"name": name, "type": "bar"})),
    )
    .await;
    send(
        base,
        Method::POST,
        "/people-task/tasks",
        token,
        Some(json!({"title": name, "requester": email, "approver": email})),
    )
    .await;
    let coordinator = format!("/flows/{flow_id}/coordinator");
    send(
        base,
        Method::POST,
        &coordinator,
        token,
        Some(json!({"command": "start"})),
    )
    .await;
    send(
        base,
        Method::POST,
        &format!("/flows/{flow_id}/components/{webhook}"),
        token,
        Some(json!({"order": 1})),
    )
    .await;
    send(
        base,
        Method::POST,
        &coordinator,
        token,
        Some(json!({"command": "stop"})),
    )
    .await;
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"));
    for variable in [
        "APPMIXER_URL",
        "APPMIXER_USERNAME",
        "APPMIXER_PASSWORD",
        "APPMIXER_TOKEN",
        "APPMIXER_USERNAME_B",
        "APPMIXER_PASSWORD_B",
    ] {
        command.env_remove(variable);
    }
    command
}

#[tokio::test]
async fn the_read_only_transport_refuses_a_write_before_it_is_sent() {
    let received = Arc::new(AtomicU32::new(0));
    let counter = received.clone();
    let app = common::reference_router().layer(middleware::from_fn(
        move |request: Request, next: Next| {
            counter.fetch_add(1, Ordering::SeqCst);
            next.run(request)
        },
    ));
    let base = common::serve(app).await;
    let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).unwrap();
    let catalog = Catalog::from_spec(&spec).unwrap();
    let mut transport = Transport::new(base.parse().unwrap(), catalog, Duration::from_secs(5), 100)
        .unwrap()
        .with_guards(Guards {
            read_only: true,
            ..Guards::default()
        });

    let write = transport
        .send(Call::new("createFlow").body(json!({"name": "must not be sent"})))
        .await;
    let read = transport.send(Call::new("getFlows")).await;

    assert!(
        matches!(write, Err(TransportError::ReadOnly { ref operation, .. }) if operation == "createFlow"),
        "{write:?}"
    );
    assert!(read.is_ok(), "a read goes out");
    assert_eq!(
        received.load(Ordering::SeqCst),
        1,
        "only the read reached the server"
    );
    assert_eq!(transport.refusals().len(), 1);
    assert_eq!(transport.refusals()[0].operation, "createFlow");
    assert_eq!(transport.method_counts().not_get_or_head(), 0);
    assert_eq!(transport.method_counts().by_method().get("GET"), Some(&1));
}

/// An answer whose body never ends.
fn endless_body() -> Response {
    let chunk = axum::body::Bytes::from(vec![b'x'; 64 * 1024]);
    let chunks = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
    (
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(chunks),
    )
        .into_response()
}

#[tokio::test]
async fn an_endless_body_fails_its_exchange_at_the_limit_without_a_retry() {
    let received = Arc::new(AtomicU32::new(0));
    let counter = received.clone();
    let app = axum::Router::new().route(
        "/flows",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { endless_body() }
        }),
    );
    let base = common::serve(app).await;
    let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).unwrap();
    let catalog = Catalog::from_spec(&spec).unwrap();
    let mut transport = Transport::new(base.parse().unwrap(), catalog, Duration::from_secs(5), 100)
        .unwrap()
        .with_max_body(1 << 20);

    let outcome = transport.send(Call::new("getFlows")).await;

    match outcome {
        Err(error @ TransportError::BodyTooLarge { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains("getFlows") && message.contains("longer than 1048576 bytes"),
                "{message}"
            );
            assert!(message.contains("`--max-body`"), "{message}");
        }
        other => panic!("expected a body over the limit, got {other:?}"),
    }
    assert_eq!(
        received.load(Ordering::SeqCst),
        1,
        "a body over the limit is not read again"
    );
}

#[tokio::test]
async fn a_read_only_run_sends_nothing_but_reads_and_its_report_proves_it() {
    let methods: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = methods.clone();
    let app = common::reference_router().layer(middleware::from_fn(
        move |request: Request, next: Next| {
            seen.lock().unwrap().push(request.method().to_string());
            next.run(request)
        },
    ));
    let base = common::serve(app).await;
    let token = common::sign_up(&base, "reader@example.com", "pw-reader-1234").await;
    seed(&base, &token, "reader@example.com", "existing objects").await;
    methods.lock().unwrap().clear();
    let options = Options {
        url: Some(base.clone()),
        token: Some(token),
        read_only: true,
        ..Options::default()
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    let methods = methods.lock().unwrap().clone();
    assert!(!methods.is_empty());
    assert!(
        methods.iter().all(|m| m == "GET"),
        "the server saw {methods:?}"
    );
    assert_eq!(
        report
            .traffic
            .methods
            .by_method()
            .keys()
            .collect::<Vec<_>>(),
        vec!["GET"]
    );
    assert_eq!(report.writes_sent(), 0);
    assert!(report.traffic.refusals.is_empty(), "nothing tried to write");
    assert_eq!(report.exit_code(), 0, "{report}");
    let text = report.to_string();
    assert!(text.contains("read-only: 0 writes sent"), "{text}");
    assert!(
        report
            .row("getFlow")
            .is_some_and(|row| row.tally(CheckKind::Auth).total == 3),
        "reads get their auth probes"
    );
}

#[tokio::test]
async fn a_server_failing_every_request_after_sign_up_stops_the_run_with_exit_4() {
    let app = common::reference_router().layer(middleware::from_fn(
        |request: Request, next: Next| async move {
            if request.method() == Method::POST && request.uri().path() == "/user" {
                return next.run(request).await;
            }
            boom(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An internal server error occurred",
            )
        },
    ));
    let base = common::serve(app).await;

    let report = appmixer_conformance::run(common::signup_options(&base))
        .await
        .expect("the run starts");

    assert_eq!(report.exit_code(), 4, "{report}");
    assert!(
        matches!(report.stop, Some(Stop::FailureStreak { count: 20, .. })),
        "{:?}",
        report.stop
    );
    assert!(
        report.to_string().contains("failed 20 requests in a row"),
        "{report}"
    );
    assert!(
        report.requests < 100,
        "the run stopped soon after the streak: {} requests",
        report.requests
    );
}

#[tokio::test]
async fn a_server_refusing_the_runs_token_everywhere_stops_with_exit_4_and_the_credentials_hint() {
    let app = common::reference_router().layer(middleware::from_fn(
        |request: Request, next: Next| async move {
            let signs_in = request.method() == Method::POST
                && matches!(request.uri().path(), "/user" | "/user/auth");
            if signs_in {
                return next.run(request).await;
            }
            boom(
                StatusCode::UNAUTHORIZED,
                "Invalid JWT: key or signature is invalid",
            )
        },
    ));
    let base = common::serve(app).await;

    let report = appmixer_conformance::run(Options {
        cases: 1,
        ..common::signup_options(&base)
    })
    .await
    .expect("the run starts");

    assert!(report.failures.is_empty(), "401s are no evidence: {report}");
    assert_eq!(report.exit_code(), 4, "{report}");
    assert!(
        matches!(report.stop, Some(Stop::FailureStreak { .. })),
        "{:?}",
        report.stop
    );
    assert!(
        report
            .to_string()
            .contains("answered 401 to the run's own token"),
        "{report}"
    );
    let required: Vec<_> = report.not_checked.iter().filter(|n| n.required).collect();
    assert!(
        required
            .iter()
            .any(|n| n.operation == "getFlows" && n.kind == CheckKind::Semantics),
        "{required:?}"
    );
    assert!(
        required.iter().all(|n| n.reason == CREDENTIALS_HINT),
        "{required:?}"
    );
    assert!(
        report.to_string().contains("are the credentials right?"),
        "{report}"
    );
}

#[tokio::test]
async fn sigint_makes_the_binary_clean_up_and_exit_4() {
    // The first read of a flow's authentication (the isolation phase, when
    // the run holds objects of every kind) never gets an answer; reaching
    // it tells the test to interrupt the run.
    let reached = Arc::new(tokio::sync::Notify::new());
    let first = Arc::new(AtomicBool::new(true));
    let signal = reached.clone();
    let app = common::reference_router().layer(middleware::from_fn(
        move |request: Request, next: Next| {
            let signal = signal.clone();
            let first = first.clone();
            async move {
                if request.uri().path().starts_with("/auth/flow/")
                    && first.swap(false, Ordering::SeqCst)
                {
                    signal.notify_one();
                    std::future::pending::<()>().await;
                }
                next.run(request).await
            }
        },
    ));
    let base = common::serve(app).await;
    let token = common::sign_up(&base, "op@example.com", "pw-op-123456").await;
    let token_b = common::sign_up(&base, "op-b@example.com", "pw-op-b-123456").await;
    let child = binary()
        .args([
            "--url",
            &base,
            "--username",
            "op@example.com",
            "--password",
            "pw-op-123456",
        ])
        .args([
            "--username-b",
            "op-b@example.com",
            "--password-b",
            "pw-op-b-123456",
        ])
        .args(["--cases", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id().to_string();

    reached.notified().await;
    let held = common::get_json(&base, "/flows", &token).await;
    let killed = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();

    assert!(killed.success());
    assert_ne!(
        held,
        json!([]),
        "the run held objects when it was interrupted"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(4), "{stdout}");
    assert!(
        stdout.contains("run aborted: interrupted (Ctrl-C)"),
        "{stdout}"
    );
    assert!(stdout.contains("0 left over"), "{stdout}");
    for path in ["/flows", "/stores", "/accounts", "/charts"] {
        for token in [&token, &token_b] {
            assert_eq!(
                common::get_json(&base, path, token).await,
                json!([]),
                "{path} still lists objects of the interrupted run"
            );
        }
    }
}

#[tokio::test]
async fn the_cleanup_subcommand_removes_tagged_leftovers_and_reports_them() {
    let server = appmixer_reference::spawn().await.unwrap();
    let base = server.base_url();
    let token = common::sign_up(&base, "ops@example.com", "pw-ops-123456").await;
    for (path, name) in [
        ("/flows", "amxc-1a2b3c4d flows lifecycle"),
        ("/flows", "amxc-99999999 another run"),
        ("/stores", "amxc-1a2b3c4d store"),
        ("/stores", "Orders"),
        ("/charts", "amxc-1a2b3c4d chart"),
    ] {
        send(
            &base,
            Method::POST,
            path,
            &token,
            Some(json!({"name": name})),
        )
        .await;
    }
    send(
        &base,
        Method::POST,
        "/accounts?validateScope=false&requestProfileInfo=false",
        &token,
        Some(
            json!({"service": "appmixer:slack", "token": {"accessToken": "x"},
                    "name": "amxc-1a2b3c4d slack account"}),
        ),
    )
    .await;
    let cleanup = |selector: &'static [&'static str]| {
        let base = base.clone();
        tokio::task::spawn_blocking(move || {
            binary()
                .args(["cleanup", "--url", &base, "--username", "ops@example.com"])
                .args(["--password", "pw-ops-123456"])
                .args(selector)
                .output()
                .unwrap()
        })
    };
    let names = |listed: Value| -> Vec<String> {
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };

    let one_tag = cleanup(&["--tag", "amxc-1a2b3c4d"]).await.unwrap();

    let stdout = String::from_utf8_lossy(&one_tag.stdout);
    assert_eq!(one_tag.status.code(), Some(0), "{stdout}");
    for removed in [
        "removed flow",
        "removed store",
        "removed account",
        "removed chart",
    ] {
        assert!(stdout.contains(removed), "{stdout}");
    }
    assert!(
        stdout.contains("cleanup: 4 removed, 0 left over"),
        "{stdout}"
    );
    assert_eq!(
        names(common::get_json(&base, "/flows", &token).await),
        vec!["amxc-99999999 another run"]
    );
    assert_eq!(
        names(common::get_json(&base, "/stores", &token).await),
        vec!["Orders"]
    );

    let all_tags = cleanup(&["--all-tags"]).await.unwrap();

    assert_eq!(all_tags.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&all_tags.stdout).contains("cleanup: 1 removed"));
    assert_eq!(common::get_json(&base, "/flows", &token).await, json!([]));
    assert_eq!(
        names(common::get_json(&base, "/stores", &token).await),
        vec!["Orders"],
        "untagged objects stay"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn read_only_refuses_to_sign_a_user_up() {
    for options in [
        Options {
            read_only: true,
            ..Options::default()
        },
        Options {
            read_only: true,
            ..common::signup_options("http://127.0.0.1:9")
        },
    ] {
        let error = appmixer_conformance::run(options)
            .await
            .expect_err("a read-only run cannot sign up");

        assert_eq!(error.exit_code(), 2);
        assert!(
            error
                .to_string()
                .contains("`--read-only` cannot sign a user up"),
            "{error}"
        );
    }
}

#[test]
fn the_cleanup_help_offers_only_what_cleanup_accepts() {
    let output = binary().args(["cleanup", "--help"]).output().unwrap();

    let help = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{help}");
    assert!(!help.contains("--signup"), "{help}");
    assert!(
        !help.contains("embedded reference server is started"),
        "{help}"
    );
    assert!(
        help.contains("Base URL of the server to clean up. Required"),
        "{help}"
    );
}

#[test]
fn cleanup_refuses_signup_as_an_option_it_does_not_have() {
    let output = binary()
        .args([
            "cleanup",
            "--url",
            "http://127.0.0.1:9",
            "--signup",
            "--all-tags",
        ])
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unexpected argument '--signup'"),
        "{stderr}"
    );
}
