//! Logs: the search and one entry.

use serde_json::json;

use crate::{Call, call, common};

const FLOW_A: &str = "9089f275-f5a5-4796-ba23-365412c5666e";
const FLOW_B: &str = "7f8d2a40-3b0e-4c8e-9a57-0c1f4d2b9e11";

pub fn calls() -> Vec<Call> {
    vec![
        call!("getLogs", GET "/logs", |c| c.get_logs()),
        call!("getLog", GET "/logs/appmixer-201804/l1", |c| c
            .get_log()
            .index("appmixer-201804")
            .log_id("l1")),
    ]
}

#[tokio::test]
async fn get_logs_repeats_sort_flow_id_and_port_type() {
    let query = "@timestamp:[2018-01-01 TO 2018-01-31] AND +flowId:abc";
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/logs").is_true(move |request| {
                common::query_is(
                    request,
                    &[
                        ("from", "50"),
                        ("size", "25"),
                        ("sort", "@timestamp:desc"),
                        ("sort", "flowId"),
                        ("query", query),
                        ("flowId", FLOW_A),
                        ("flowId", FLOW_B),
                        ("portType", "in"),
                        ("portType", "out"),
                    ],
                )
            });
            then.status(200).json_body(json!({
                "buckets": [{"key_as_string": "2018-01-01T00:00:00.000Z",
                             "key": 1514764800000i64, "doc_count": 2}],
                "hits": [{"_id": "AWKk", "_index": "appmixer-201801", "id": "message-1",
                          "severity": "info", "flowId": FLOW_A, "portType": "in",
                          "@timestamp": "2018-01-01T10:00:00.000Z"}]
            }));
        })
        .await;
    let client = common::client(&server);

    let search = client
        .get_logs()
        .from(50u64)
        .size(25u64)
        .sort(vec![
            String::from("@timestamp:desc"),
            String::from("flowId"),
        ])
        .query(query)
        .flow_id(vec![FLOW_A.to_owned(), FLOW_B.to_owned()])
        .port_type(vec![String::from("in"), String::from("out")])
        .send()
        .await
        .unwrap()
        .into_inner();

    mock.assert_async().await;
    assert_eq!(search.buckets[0].key, 1_514_764_800_000);
    assert_eq!(search.buckets[0].doc_count, 2);
    let hit = &search.hits[0];
    assert_eq!(hit.id, "AWKk");
    assert_eq!(hit.index, "appmixer-201801");
    assert_eq!(hit.extra["id"], "message-1");
    assert!(hit.timestamp.is_some());
}

#[tokio::test]
async fn get_logs_encodes_the_query_string() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/logs").is_true(|request| {
                common::raw_query(request) == "query=%2BflowId%3Aa+AND+severity%3Aerror"
            });
            then.status(200)
                .json_body(json!({"buckets": [], "hits": []}));
        })
        .await;
    let client = common::client(&server);

    let search = client
        .get_logs()
        .query("+flowId:a AND severity:error")
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert!(search.hits.is_empty());
}

#[tokio::test]
async fn get_log_decodes_the_entry_with_its_message() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/logs/appmixer-201804/AWKk%2F1");
            then.status(200).json_body(json!({
                "_id": "AWKk/1", "_index": "appmixer-201804", "_type": "engine", "_version": 1,
                "_source": {"severity": "info", "msg": {"email": "jane@example.com"}}
            }));
        })
        .await;
    let client = common::client(&server);

    let entry = client
        .get_log()
        .index("appmixer-201804")
        .log_id("AWKk/1")
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(entry.version, Some(1));
    assert_eq!(entry.source["msg"]["email"], "jane@example.com");
}
