//! What the client logs: one span per request with the operation, method,
//! path, status, attempts and latency, a child span per attempt, and never a
//! token, password or secret.
//!
//! One subscriber serves the whole binary, so that every callsite is enabled
//! whichever test reaches it first; it writes each thread's events into that
//! thread's buffer, and each test runs on a single thread of its own.

mod common;

use std::cell::RefCell;
use std::io;
use std::sync::Once;
use std::time::Duration;

use appmixer_client::{Client, RetryPolicy, types};
use serde_json::json;

const PASSWORD: &str = "correct-horse-battery";
const TOKEN: &str = "eyJ.logged-in-token.sig";
const TASK_SECRET: &str = "approver-secret-42";

thread_local! {
    static LOGS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Appends to the buffer of the thread that logs.
struct ThreadBuffer;

impl io::Write for ThreadBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        LOGS.with(|logs| logs.borrow_mut().extend_from_slice(bytes));
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the subscriber (once) and empties this thread's buffer.
fn capture() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_writer(|| ThreadBuffer)
            .init();
    });
    LOGS.with(|logs| logs.borrow_mut().clear());
}

/// What this thread logged since [`capture`].
fn captured() -> String {
    LOGS.with(|logs| String::from_utf8_lossy(&logs.borrow()).into_owned())
}

#[tokio::test(flavor = "current_thread")]
async fn logs_name_the_operation_and_path_but_no_secret() {
    capture();
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/user/auth");
            then.status(200).json_body(json!({
                "user": {"id": "u1", "username": "jane@example.com"}, "token": TOKEN
            }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/people-task/tasks");
            then.status(200).json_body(json!([]));
        })
        .await;
    let client = Client::builder(server.base_url())
        .retry(RetryPolicy::none())
        .login("jane@example.com", PASSWORD)
        .await
        .unwrap();

    let tasks = client.get_people_tasks().secret(TASK_SECRET).send().await;

    assert!(tasks.is_ok(), "{tasks:?}");
    let logs = captured();
    assert!(logs.contains("operation=\"get_people_tasks\""), "{logs}");
    assert!(logs.contains("operation=\"authenticate_user\""), "{logs}");
    assert!(logs.contains("path=/people-task/tasks"), "{logs}");
    assert!(logs.contains("status=200"), "{logs}");
    assert!(logs.contains("attempt=1"), "{logs}");
    assert!(logs.contains("latency_ms="), "{logs}");
    for secret in [TOKEN, PASSWORD, TASK_SECRET] {
        assert!(
            !logs.contains(secret),
            "{secret} leaked into the logs:\n{logs}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_post_that_cannot_connect_is_retried() {
    capture();
    let client = Client::builder(common::closed_port())
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();

    let error = client
        .create_store()
        .body(types::StoreName::builder().name("Orders"))
        .send()
        .await
        .unwrap_err();

    assert!(
        matches!(error, appmixer_client::Error::CommunicationError(_)),
        "{error}"
    );
    let logs = captured();
    let failures = logs
        .lines()
        .filter(|line| line.contains("no response"))
        .count();
    assert_eq!(failures, 3, "{logs}");
    assert!(logs.contains("connection refused"), "{logs}");
    assert!(logs.contains("attempt=3"), "{logs}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_retried_request_records_its_fields_once() {
    capture();
    let client = Client::builder(common::closed_port())
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();

    let outcome = client.get_user().send().await;

    assert!(outcome.is_err());
    let logs = captured();
    for line in logs.lines() {
        for field in ["attempt=", "attempts=", "latency_ms=", "status="] {
            assert!(
                line.matches(field).count() <= 1,
                "`{field}` twice in one line:\n{line}"
            );
        }
    }
    let closed: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("appmixer.request{") && line.contains("close"))
        .filter(|line| !line.contains("appmixer.attempt{"))
        .collect();
    assert_eq!(closed.len(), 1, "{logs}");
    assert!(closed[0].contains("attempts=3"), "{logs}");
    for attempt in 1..=3 {
        let span = format!("appmixer.attempt{{attempt={attempt}}}");
        assert!(logs.contains(&span), "{span} missing:\n{logs}");
    }
}
