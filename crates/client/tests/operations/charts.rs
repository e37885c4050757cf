//! Insights charts: listing, creating, reading, changing and deleting them.

use appmixer_client::types;
use serde_json::{Value, json};

use crate::{Call, call, common};

const CHART_ID: &str = "5c6fc9932ff3ff000747ead5";

pub fn calls() -> Vec<Call> {
    vec![
        call!("getCharts", GET "/charts", |c| c.get_charts()),
        call!("createChart", POST "/charts", |c| c
            .create_chart()
            .body(types::ChartCreate::builder().name("Messages per day"))),
        call!("getChart", GET "/charts/c1", |c| c.get_chart().chart_id("c1")),
        call!("updateChart", PUT "/charts/c1", |c| c
            .update_chart()
            .chart_id("c1")
            .body(types::ChartWrite::builder())),
        call!("deleteChart", DELETE "/charts/c1", |c| c.delete_chart().chart_id("c1")),
    ]
}

fn chart() -> Value {
    json!({
        "chartId": CHART_ID, "userId": "5c6fc9932ff3ff000747ead4", "name": "Messages per day",
        "index": 0, "type": "bar", "query": {}, "options": {"stacked": true}, "traces": {},
        "mtime": "2019-02-22T13:34:54.215Z"
    })
}

#[tokio::test]
async fn get_charts_sends_pattern_sort_projection_and_paging() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/charts").is_true(|request| {
                common::query_is(
                    request,
                    &[
                        ("pattern", "per day"),
                        ("sort", "index:1"),
                        ("projection", "-traces"),
                        ("limit", "3"),
                        ("offset", "6"),
                    ],
                )
            });
            then.status(200).json_body(json!([chart()]));
        })
        .await;
    let client = common::client(&server);

    let charts = client
        .get_charts()
        .pattern("per day")
        .sort("index:1")
        .projection("-traces")
        .limit(3u64)
        .offset(6u64)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(charts[0].type_, Some(types::ChartType::Bar));
    assert_eq!(charts[0].options["stacked"], true);
}

#[tokio::test]
async fn create_chart_sends_empty_objects_it_was_given() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST").path("/charts").json_body(json!({
                "name": "Messages per day", "index": 0, "type": "bar",
                "query": {}, "options": {}, "traces": {}
            }));
            then.status(200).json_body(json!({"chartId": CHART_ID}));
        })
        .await;
    let client = common::client(&server);
    let empty = || Some(serde_json::Map::new());

    let created = client
        .create_chart()
        .body(
            types::ChartCreate::builder()
                .name("Messages per day")
                .index(Some(0))
                .type_(Some(types::ChartType::Bar))
                .query(empty())
                .options(empty())
                .traces(empty()),
        )
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(created.chart_id, CHART_ID);
}

#[tokio::test]
async fn get_chart_decodes_the_chart() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path(format!("/charts/{CHART_ID}"));
            then.status(200).json_body(chart());
        })
        .await;
    let client = common::client(&server);

    let found = client.get_chart().chart_id(CHART_ID).send().await.unwrap();

    mock.assert_async().await;
    assert_eq!(found.name.as_deref(), Some("Messages per day"));
    assert_eq!(found.index, Some(0));
}

#[tokio::test]
async fn update_chart_sends_only_what_was_set() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path(format!("/charts/{CHART_ID}"))
                .json_body(json!({"name": "Messages per week"}));
            let mut changed = chart();
            changed["name"] = json!("Messages per week");
            then.status(200).json_body(changed);
        })
        .await;
    let client = common::client(&server);

    let changed = client
        .update_chart()
        .chart_id(CHART_ID)
        .body(types::ChartWrite::builder().name(Some(String::from("Messages per week"))))
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(changed.name.as_deref(), Some("Messages per week"));
}

#[tokio::test]
async fn delete_chart_accepts_an_empty_body() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("DELETE").path(format!("/charts/{CHART_ID}"));
            then.status(200);
        })
        .await;
    let client = common::client(&server);

    let answer = client
        .delete_chart()
        .chart_id(CHART_ID)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(answer.status().as_u16(), 200);
}
