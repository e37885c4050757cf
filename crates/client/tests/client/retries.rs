//! Which failures are retried, how often, and `Retry-After`; attempts are
//! counted by the mock, never by the clock.

use std::time::Duration;

use appmixer_client::{Client, RetryPolicy, types};
use httpmock::{Mock, MockServer};
use serde_json::json;

use crate::common;

/// Retries quickly: the tests count attempts, not time.
fn eager() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .initial_backoff(Duration::from_millis(1))
        .jitter(false)
}

fn client_with(server: &MockServer, policy: RetryPolicy) -> Client {
    Client::builder(server.base_url())
        .token(common::TOKEN)
        .retry(policy)
        .build()
        .unwrap()
}

/// Mocks `method path` to fail with `status` `times` times, then to answer
/// 200 with a body that decodes as a `Count` and as a `Chart`.
async fn flaky<'a>(
    server: &'a MockServer,
    method: &'static str,
    path: &'static str,
    status: u16,
    times: usize,
) -> (Mock<'a>, Mock<'a>) {
    let failing = server
        .mock_async(|when, then| {
            when.method(method).path(path);
            then.status(status)
                .json_body(common::boom(status, "Unavailable", "Try again."))
                .up_to_n_times(times);
        })
        .await;
    let healthy = server
        .mock_async(|when, then| {
            when.method(method).path(path);
            then.status(200)
                .json_body(json!({"count": 1, "chartId": "c1"}));
        })
        .await;
    (failing, healthy)
}

#[tokio::test]
async fn a_get_answered_503_is_retried_and_succeeds() {
    let server = common::engine().await;
    let (failing, healthy) = flaky(&server, "GET", "/flows/count", 503, 1).await;
    let client = client_with(&server, eager());

    let count = client.get_flows_count().send().await.unwrap();

    assert_eq!(count.count, 1);
    assert_eq!(failing.calls_async().await, 1);
    assert_eq!(healthy.calls_async().await, 1);
}

#[tokio::test]
async fn every_transient_status_is_retried_for_a_get() {
    for status in [408, 429, 502, 503, 504] {
        let server = common::engine().await;
        let (failing, healthy) = flaky(&server, "GET", "/flows/count", status, 1).await;
        let client = client_with(&server, eager());

        let count = client.get_flows_count().send().await;

        assert!(count.is_ok(), "{status}: {count:?}");
        assert_eq!(failing.calls_async().await, 1, "{status}");
        assert_eq!(healthy.calls_async().await, 1, "{status}");
    }
}

#[tokio::test]
async fn a_500_is_not_retried() {
    let server = common::engine().await;
    let (failing, healthy) = flaky(&server, "GET", "/flows/count", 500, 1).await;
    let client = client_with(&server, eager());

    let error = client.get_flows_count().send().await.unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(failing.calls_async().await, 1);
    assert_eq!(healthy.calls_async().await, 0);
}

#[tokio::test]
async fn a_put_and_a_delete_are_retried() {
    let server = common::engine().await;
    let (failing_put, _) = flaky(&server, "PUT", "/charts/c1", 503, 1).await;
    let (failing_delete, _) = flaky(&server, "DELETE", "/charts/c1", 502, 1).await;
    let client = client_with(&server, eager());

    let put = client
        .update_chart()
        .chart_id("c1")
        .body(types::ChartWrite::builder())
        .send()
        .await;
    let delete = client.delete_chart().chart_id("c1").send().await;

    assert!(put.is_ok(), "{put:?}");
    assert!(delete.is_ok(), "{delete:?}");
    assert_eq!(failing_put.calls_async().await, 1);
    assert_eq!(failing_delete.calls_async().await, 1);
}

#[tokio::test]
async fn a_post_answered_503_is_not_retried() {
    let server = common::engine().await;
    let (failing, healthy) = flaky(&server, "POST", "/stores", 503, 1).await;
    let client = client_with(&server, eager());

    let error = client
        .create_store()
        .body(types::StoreName::builder().name("Orders"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(failing.calls_async().await, 1);
    assert_eq!(healthy.calls_async().await, 0);
}

#[tokio::test]
async fn attempts_stop_at_the_maximum() {
    let server = common::engine().await;
    let (failing, _) = flaky(&server, "GET", "/flows/count", 503, 10).await;
    let client = client_with(&server, eager().max_attempts(3));

    let error = client.get_flows_count().send().await.unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(failing.calls_async().await, 3);
}

#[tokio::test]
async fn retry_policy_none_sends_once() {
    let server = common::engine().await;
    let (failing, _) = flaky(&server, "GET", "/flows/count", 503, 10).await;
    let client = client_with(&server, RetryPolicy::none());

    let error = client.get_flows_count().send().await.unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(failing.calls_async().await, 1);
}

async fn retry_after_one_second<'a>(server: &'a MockServer) -> (Mock<'a>, Mock<'a>) {
    let failing = server
        .mock_async(|when, then| {
            when.method("GET").path("/flows/count");
            then.status(429)
                .header("retry-after", "1")
                .json_body(common::boom(429, "Too Many Requests", "Slow down."))
                .up_to_n_times(1);
        })
        .await;
    let healthy = server
        .mock_async(|when, then| {
            when.method("GET").path("/flows/count");
            then.status(200).json_body(json!({"count": 1}));
        })
        .await;
    (failing, healthy)
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let server = common::engine().await;
    let (failing, healthy) = retry_after_one_second(&server).await;
    let client = client_with(&server, eager().max_elapsed(Duration::from_secs(5)));

    let count = client.get_flows_count().send().await;

    assert!(count.is_ok(), "{count:?}");
    assert_eq!(failing.calls_async().await, 1);
    assert_eq!(healthy.calls_async().await, 1);
}

#[tokio::test]
async fn retry_after_beyond_the_time_budget_ends_the_retries() {
    let server = common::engine().await;
    let (failing, healthy) = retry_after_one_second(&server).await;
    // The 1 ms backoff would fit the budget; the server's one second does not.
    let client = client_with(&server, eager().max_elapsed(Duration::from_millis(500)));

    let error = client.get_flows_count().send().await.unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(failing.calls_async().await, 1);
    assert_eq!(healthy.calls_async().await, 0);
}
