//! Concurrent writers lose nothing: every accepted write is visible after.

mod common;

use common::{Api, Body};
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

/// Sets record `key` of `store_id` to `text`.
async fn set_text(
    api: &Api,
    token: &str,
    store_id: &str,
    key: String,
    text: String,
) -> common::Answer {
    let path = format!("/store/{store_id}/{key}");
    api.send(
        Method::POST,
        &path,
        Some(token),
        Body::Raw("text/plain", text.into_bytes()),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_writers_lose_nothing() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;

    let records = (0..64).map(|i| {
        set_text(
            &api,
            &token,
            &store_id,
            format!("key-{i}"),
            format!("value-{i}"),
        )
    });
    let flows = (0..64).map(|i| api.post("/flows", &token, json!({ "name": format!("flow-{i}") })));
    let (records, flows) = futures::join!(join_all(records), join_all(flows));

    assert!(records.into_iter().all(|answer| answer.status == 200));
    assert!(flows.into_iter().all(|answer| answer.status == 200));
    let record_count = api
        .get(&format!("/store/count?storeId={store_id}"), &token)
        .await
        .ok();
    let flow_count = api.get("/flows/count", &token).await.ok();
    assert_eq!(record_count["count"], 64);
    assert_eq!(flow_count["count"], 64);
    let listed = api
        .get(&format!("/store?storeId={store_id}&limit=100"), &token)
        .await
        .ok();
    let mut values: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["value"].as_str().unwrap().to_owned())
        .collect();
    values.sort();
    let mut expected: Vec<String> = (0..64).map(|i| format!("value-{i}")).collect();
    expected.sort();
    assert_eq!(values, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_of_one_record_leave_one_of_the_written_values() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;

    let writes = (0..64).map(|i| {
        set_text(
            &api,
            &token,
            &store_id,
            "shared".into(),
            format!("value-{i}"),
        )
    });
    let answers = join_all(writes).await;

    assert!(answers.iter().all(|answer| answer.status == 200));
    let created: Vec<&serde_json::Value> = answers.iter().map(|a| &a.body["createdAt"]).collect();
    assert!(
        created.windows(2).all(|pair| pair[0] == pair[1]),
        "one record, created once"
    );
    let record = api
        .get(&format!("/store/{store_id}/shared"), &token)
        .await
        .ok();
    let value = record["value"].as_str().unwrap();
    assert!((0..64).any(|i| value == format!("value-{i}")));
    let count = api
        .get(&format!("/store/count?storeId={store_id}"), &token)
        .await
        .ok();
    assert_eq!(count["count"], 1);
}
