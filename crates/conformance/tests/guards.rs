//! The transport's guards: the request budget stops a run cleanly (and
//! cleanup still runs), and `429` answers with `Retry-After` are retried.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use appmixer_conformance::Options;
use appmixer_conformance::cleanup::Kind;

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
