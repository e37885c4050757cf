//! Streams over every page: flows, records, tasks, charts and log hits.

use appmixer_client::{ApiErrorExt, Paginate};
use futures::{StreamExt, TryStreamExt};
use httpmock::{Mock, MockServer};
use serde_json::{Value, json};

use crate::common;

fn flow(n: usize) -> Value {
    json!({"flowId": format!("00000000-0000-4000-8000-{n:012}"), "name": format!("flow {n}")})
}

/// Mocks the page of `/flows` at `offset` with `limit` to hold the flows
/// numbered `flows`, answering only if the other parameters came too.
async fn flows_page<'a>(
    server: &'a MockServer,
    offset: u64,
    limit: u64,
    flows: &[usize],
) -> Mock<'a> {
    let body: Vec<Value> = flows.iter().copied().map(flow).collect();
    let (offset, limit) = (offset.to_string(), limit.to_string());
    server
        .mock_async(|when, then| {
            when.method("GET").path("/flows").is_true(move |request| {
                common::query_is(
                    request,
                    &[
                        ("offset", &offset),
                        ("limit", &limit),
                        ("pattern", "crm"),
                        ("sort", "name:1"),
                        ("filter", "stage:running"),
                        ("filter", "customFields.team:ops"),
                    ],
                )
            });
            then.status(200).json_body(Value::Array(body));
        })
        .await
}

fn names(flows: &[appmixer_client::types::Flow]) -> Vec<String> {
    flows
        .iter()
        .map(|flow| flow.name.clone().unwrap_or_default())
        .collect()
}

fn configured(client: &appmixer_client::Client) -> appmixer_client::builder::GetFlows<'_> {
    client
        .get_flows()
        .pattern("crm")
        .sort("name:1")
        .filter(vec![
            String::from("stage:running"),
            String::from("customFields.team:ops"),
        ])
}

#[tokio::test]
async fn flows_are_walked_page_by_page_until_a_short_page() {
    let server = common::engine().await;
    let pages = [
        flows_page(&server, 0, 2, &[1, 2]).await,
        flows_page(&server, 2, 2, &[3, 4]).await,
        flows_page(&server, 4, 2, &[5]).await,
    ];
    let client = common::client(&server);

    let flows: Vec<_> = configured(&client)
        .stream_with_page_size(2)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(
        names(&flows),
        ["flow 1", "flow 2", "flow 3", "flow 4", "flow 5"]
    );
    for page in &pages {
        assert_eq!(page.calls_async().await, 1);
    }
}

#[tokio::test]
async fn a_full_last_page_is_followed_by_one_empty_page() {
    let server = common::engine().await;
    let pages = [
        flows_page(&server, 0, 2, &[1, 2]).await,
        flows_page(&server, 2, 2, &[3, 4]).await,
        flows_page(&server, 4, 2, &[]).await,
    ];
    let client = common::client(&server);

    let flows: Vec<_> = configured(&client)
        .stream_with_page_size(2)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(flows.len(), 4);
    for page in &pages {
        assert_eq!(page.calls_async().await, 1);
    }
}

#[tokio::test]
async fn an_empty_list_is_one_request_and_no_items() {
    let server = common::engine().await;
    let page = flows_page(&server, 0, 100, &[]).await;
    let client = common::client(&server);

    let flows: Vec<_> = configured(&client).stream().try_collect().await.unwrap();

    assert!(flows.is_empty());
    assert_eq!(page.calls_async().await, 1);
}

#[tokio::test]
async fn an_error_in_the_middle_ends_the_stream_after_the_items_before_it() {
    let server = common::engine().await;
    let first = flows_page(&server, 0, 2, &[1, 2]).await;
    let broken = server
        .mock_async(|when, then| {
            when.method("GET").path("/flows").query_param("offset", "2");
            then.status(500).json_body(common::boom(
                500,
                "Internal Server Error",
                "Database down.",
            ));
        })
        .await;
    let after = flows_page(&server, 4, 2, &[5]).await;
    let client = common::client(&server);

    let results: Vec<_> = configured(&client).stream_with_page_size(2).collect().await;

    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok());
    let error = results[2].as_ref().unwrap_err();
    assert_eq!(error.message(), Some("Database down."));
    assert_eq!(first.calls_async().await, 1);
    assert_eq!(broken.calls_async().await, 1);
    assert_eq!(after.calls_async().await, 0);
}

#[tokio::test]
async fn store_records_keep_the_store_on_every_page() {
    let server = common::engine().await;
    let page = |offset: &'static str, keys: &[&str]| {
        let body: Vec<Value> = keys
            .iter()
            .map(|key| json!({"key": key, "value": 1}))
            .collect();
        let server = &server;
        async move {
            server
                .mock_async(|when, then| {
                    when.method("GET")
                        .path("/store")
                        .query_param("storeId", "s1")
                        .query_param("sort", "key:1")
                        .query_param("offset", offset)
                        .query_param("limit", "2");
                    then.status(200).json_body(Value::Array(body));
                })
                .await
        }
    };
    let first = page("0", &["a", "b"]).await;
    let second = page("2", &["c"]).await;
    let client = common::client(&server);

    let keys: Vec<_> = client
        .get_store_records()
        .store_id("s1")
        .sort("key:1")
        .stream_with_page_size(2)
        .map_ok(|record| record.key)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(keys, ["a", "b", "c"]);
    assert_eq!(first.calls_async().await, 1);
    assert_eq!(second.calls_async().await, 1);
}

#[tokio::test]
async fn people_tasks_and_charts_are_walked_too() {
    let server = common::engine().await;
    let tasks = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/people-task/tasks")
                .query_param("role", "approver")
                .query_param("offset", "0")
                .query_param("limit", "100");
            then.status(200)
                .json_body(json!([{"id": "t1"}, {"id": "t2"}]));
        })
        .await;
    let charts = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/charts")
                .query_param("projection", "-traces")
                .query_param("offset", "0")
                .query_param("limit", "100");
            then.status(200).json_body(json!([{"chartId": "c1"}]));
        })
        .await;
    let client = common::client(&server);

    let task_ids: Vec<_> = client
        .get_people_tasks()
        .role(appmixer_client::types::TaskRole::Approver)
        .stream()
        .map_ok(|task| task.id)
        .try_collect()
        .await
        .unwrap();
    let chart_ids: Vec<_> = client
        .get_charts()
        .projection("-traces")
        .stream()
        .map_ok(|chart| chart.chart_id)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(task_ids, ["t1", "t2"]);
    assert_eq!(chart_ids, ["c1"]);
    assert_eq!(tasks.calls_async().await, 1);
    assert_eq!(charts.calls_async().await, 1);
}

#[tokio::test]
async fn log_hits_are_walked_with_from_and_size() {
    let server = common::engine().await;
    let page = |from: &'static str, ids: &[&str]| {
        let hits: Vec<Value> = ids
            .iter()
            .map(|id| json!({"_id": id, "_index": "appmixer-201801"}))
            .collect();
        let server = &server;
        async move {
            server
                .mock_async(|when, then| {
                    when.method("GET").path("/logs").is_true(move |request| {
                        common::query_is(
                            request,
                            &[
                                ("from", from),
                                ("size", "2"),
                                ("sort", "@timestamp:desc"),
                                ("sort", "flowId"),
                                ("flowId", "f1"),
                            ],
                        )
                    });
                    then.status(200)
                        .json_body(json!({"buckets": [], "hits": hits}));
                })
                .await
        }
    };
    let pages = [
        page("0", &["h1", "h2"]).await,
        page("2", &["h3", "h4"]).await,
        page("4", &[]).await,
    ];
    let client = common::client(&server);

    let ids: Vec<_> = client
        .get_logs()
        .sort(vec![
            String::from("@timestamp:desc"),
            String::from("flowId"),
        ])
        .flow_id(vec![String::from("f1")])
        .stream_with_page_size(2)
        .map_ok(|hit| hit.id)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(ids, ["h1", "h2", "h3", "h4"]);
    for page in &pages {
        assert_eq!(page.calls_async().await, 1);
    }
}

/// Mocks `/flows` to answer every request with the same `count` flows,
/// whatever its paging parameters say.
async fn flows_regardless_of_paging(server: &MockServer, count: usize) -> Mock<'_> {
    let body: Vec<Value> = (0..count).map(flow).collect();
    server
        .mock_async(|when, then| {
            when.method("GET").path("/flows");
            then.status(200).json_body(Value::Array(body));
        })
        .await
}

/// Whether the stream's error says that the server ignores paging.
fn says_paging_is_ignored(
    result: &Result<appmixer_client::types::Flow, appmixer_client::ApiError>,
) -> bool {
    match result {
        Err(appmixer_client::Error::Custom(message)) => message.contains("ignores"),
        _ => false,
    }
}

#[tokio::test]
async fn a_server_ignoring_offset_and_limit_ends_the_stream_with_an_error() {
    let server = common::engine().await;
    let every_request = flows_regardless_of_paging(&server, 250).await;
    let client = common::client(&server);

    // Bounded, so that a walk that never ends fails instead of hanging.
    let results: Vec<_> = client
        .get_flows()
        .stream_with_page_size(100)
        .take(1000)
        .collect()
        .await;

    assert_eq!(results.len(), 251, "one page of items, then the error");
    assert!(results[..250].iter().all(Result::is_ok));
    assert!(says_paging_is_ignored(&results[250]), "{:?}", results[250]);
    assert_eq!(every_request.calls_async().await, 2);
}

#[tokio::test]
async fn a_server_ignoring_offset_ends_the_stream_when_a_page_repeats() {
    let server = common::engine().await;
    let every_request = flows_regardless_of_paging(&server, 2).await;
    let client = common::client(&server);

    let results: Vec<_> = client
        .get_flows()
        .stream_with_page_size(2)
        .take(1000)
        .collect()
        .await;

    assert_eq!(results.len(), 3, "one page of items, then the error");
    assert!(results[0].is_ok() && results[1].is_ok());
    let Err(appmixer_client::Error::Custom(message)) = &results[2] else {
        panic!("expected the paging error, got {:?}", results[2]);
    };
    assert!(message.contains("`offset`"), "{message}");
    assert!(message.contains("offset 2"), "{message}");
    assert_eq!(every_request.calls_async().await, 2);
}

#[tokio::test]
async fn a_server_ignoring_only_limit_is_walked_in_two_requests() {
    let server = common::engine().await;
    let all: Vec<Value> = (0..250).map(flow).collect();
    let first = server
        .mock_async(|when, then| {
            when.method("GET").path("/flows").query_param("offset", "0");
            then.status(200).json_body(Value::Array(all));
        })
        .await;
    let rest = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/flows")
                .query_param("offset", "250");
            then.status(200).json_body(json!([]));
        })
        .await;
    let client = common::client(&server);

    let flows: Vec<_> = client
        .get_flows()
        .stream_with_page_size(100)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(flows.len(), 250);
    assert_eq!(names(&flows[249..]), ["flow 249"]);
    assert_eq!(first.calls_async().await, 1);
    assert_eq!(rest.calls_async().await, 1);
}
