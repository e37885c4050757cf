//! The transport's guards: the request budget stops a run cleanly (and
//! cleanup still runs), `429` answers with `Retry-After` are retried, a
//! server that keeps answering 429 trips the failure streak, and one that
//! asks for a pause longer than a run waits stops it at once. A guard that
//! stops the run while it signs in exits 4 as well, naming what the server
//! last answered.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use appmixer_conformance::Options;
use appmixer_conformance::cleanup::Kind;
use appmixer_conformance::guards::Stop;

/// A router that lets the signing in through (`POST /user`, `POST
/// /user/auth`, `GET /user`) and answers every other request 429 with
/// `retry_after`, counting what it refused.
fn refusing_after_signup(retry_after: &'static str, refused: Arc<AtomicU32>) -> axum::Router {
    common::reference_router().layer(middleware::from_fn(move |request: Request, next: Next| {
        let refused = refused.clone();
        async move {
            let signs_in = request.uri().path().starts_with("/user");
            if signs_in {
                return next.run(request).await;
            }
            refused.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after)],
                "slow down",
            )
                .into_response()
        }
    }))
}

#[tokio::test]
async fn an_exhausted_budget_stops_the_run_and_cleanup_still_deletes() {
    let server = appmixer_reference::spawn().await.unwrap();
    let options = Options {
        max_requests: 30,
        ..common::signup_options(&server.base_url())
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert_eq!(report.exit_code(), 4, "a guard stop is exit status 4");
    let reason = report
        .aborted
        .as_deref()
        .expect("the run says it was aborted");
    assert!(reason.contains("--max-requests"), "{reason}");
    assert!(report.cleanup.leftovers.is_empty(), "{report}");
    assert!(
        !report.uncalled().is_empty(),
        "a cut-short run cannot cover every operation"
    );
    assert!(
        report
            .to_string()
            .contains("run aborted: the request budget of 30 requests")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn cleanup_deletes_what_an_aborted_scenario_left_behind() {
    let server = appmixer_reference::spawn().await.unwrap();
    // Enough budget to create objects, not to delete them all.
    let options = Options {
        max_requests: 40,
        ..common::signup_options(&server.base_url())
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert!(report.aborted.is_some());
    assert!(report.cleanup.deleted > 0, "{report}");
    assert!(report.cleanup.leftovers.is_empty(), "{report}");
    assert!(
        report
            .cleanup
            .undeletable
            .iter()
            .any(|kept| kept.kind == Kind::User)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_and_the_run_passes() {
    let refused = Arc::new(AtomicU32::new(0));
    let counter = refused.clone();
    let app = common::reference_router().layer(middleware::from_fn(
        move |request: Request, next: Next| {
            let counter = counter.clone();
            async move {
                let first_get_user = request.method() == Method::GET
                    && request.uri().path() == "/user"
                    && counter.fetch_add(1, Ordering::SeqCst) == 0;
                if first_get_user {
                    return (
                        StatusCode::TOO_MANY_REQUESTS,
                        [(header::RETRY_AFTER, "0")],
                        "slow down",
                    )
                        .into_response();
                }
                let response: Response = next.run(request).await;
                response
            }
        },
    ));
    let base = common::serve(app).await;

    let report = appmixer_conformance::run(common::signup_options(&base))
        .await
        .expect("the run starts");

    assert!(
        refused.load(Ordering::SeqCst) >= 2,
        "the refused call was sent again"
    );
    assert!(report.failures.is_empty(), "unexpected failures:\n{report}");
}

#[tokio::test]
async fn a_server_answering_only_429_trips_the_failure_streak_long_before_the_budget() {
    let refused = Arc::new(AtomicU32::new(0));
    let base = common::serve(refusing_after_signup("1", refused.clone())).await;

    let report = appmixer_conformance::run(Options {
        max_consecutive_failures: 3,
        ..common::signup_options(&base)
    })
    .await
    .expect("the run starts");

    assert_eq!(report.exit_code(), 4, "{report}");
    assert!(
        matches!(report.stop, Some(Stop::FailureStreak { count: 3, .. })),
        "{:?}",
        report.stop
    );
    assert!(
        report.to_string().contains("answered 429 after 3 retries"),
        "{report}"
    );
    // Three calls of four attempts each, and cleanup's few.
    let sent = refused.load(Ordering::SeqCst);
    assert!(sent < 40, "{sent} requests refused before the run stopped");
    assert!(report.requests < common::signup_options(&base).max_requests / 100);
}

#[tokio::test]
async fn a_retry_after_of_an_hour_stops_the_run_at_once_and_names_it() {
    let refused = Arc::new(AtomicU32::new(0));
    let base = common::serve(refusing_after_signup("3600", refused.clone())).await;

    let report = appmixer_conformance::run(common::signup_options(&base))
        .await
        .expect("the run starts");

    assert_eq!(report.exit_code(), 4, "{report}");
    assert!(
        matches!(&report.stop, Some(Stop::RetryAfter { value, .. }) if value == "3600"),
        "{:?}",
        report.stop
    );
    let printed = report.to_string();
    assert!(printed.contains("Retry-After: 3600"), "{printed}");
    assert!(printed.contains("60 s"), "{printed}");
    // The refused request, then cleanup's lists and deletes, none retried.
    let sent = refused.load(Ordering::SeqCst);
    assert!(sent < 20, "{sent} requests refused before the run stopped");
}

#[tokio::test]
async fn a_retry_after_too_large_for_any_integer_stops_the_run_like_an_hour() {
    let huge = "99999999999999999999";
    let refused = Arc::new(AtomicU32::new(0));
    let base = common::serve(refusing_after_signup(huge, refused.clone())).await;

    let report = appmixer_conformance::run(common::signup_options(&base))
        .await
        .expect("the run starts");

    assert_eq!(report.exit_code(), 4, "{report}");
    assert!(
        matches!(&report.stop, Some(Stop::RetryAfter { value, .. }) if value == huge),
        "{:?}",
        report.stop
    );
    let sent = refused.load(Ordering::SeqCst);
    assert!(sent < 20, "{sent} requests refused before the run stopped");
}

#[tokio::test]
async fn a_budget_used_up_while_signing_in_exits_4_naming_the_budget_and_the_last_answer() {
    let throttling = axum::Router::new().fallback(|| async {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "slow down",
        )
            .into_response()
    });
    let base = common::serve(throttling).await;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"));
    command
        .env_remove("APPMIXER_USERNAME")
        .env_remove("APPMIXER_PASSWORD");
    command.args(["--url", &base, "--token", "abc", "--max-requests", "2"]);

    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("the request budget of 2 requests is used up"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "last answer: getUser answered 429 (Too Many Requests) with `Retry-After: 1`"
        ),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}
