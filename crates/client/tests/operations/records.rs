//! Records of data stores: listing, counting, reading, setting and deleting.

use appmixer_client::types;
use serde_json::json;

use crate::{Call, call, common};

const STORE_ID: &str = "5c6fc9932ff3ff000747ead4";

/// A key that needs every kind of escaping in a path segment.
const AWKWARD_KEY: &str = "a/b c?ü";

/// [`AWKWARD_KEY`] as one encoded path segment.
const AWKWARD_SEGMENT: &str = "a%2Fb%20c%3F%C3%BC";

pub fn calls() -> Vec<Call> {
    vec![
        call!("getStoreRecords", GET "/store", |c| c.get_store_records().store_id("s1")),
        call!("deleteStoreItems", DELETE "/store", |c| c
            .delete_store_items()
            .body(Vec::<types::RecordRef>::new())),
        call!("getStoreRecordsCount", GET "/store/count", |c| c
            .get_store_records_count()
            .store_id("s1")),
        call!("getStoreItem", GET "/store/s1/k1", |c| c
            .get_store_item()
            .store_id("s1")
            .key("k1")),
        call!("createStoreItem", POST "/store/s1/k1", |c| c
            .create_store_item()
            .store_id("s1")
            .key("k1")
            .body("v")),
        call!("deleteStoreItem", DELETE "/store/s1/k1", |c| c
            .delete_store_item()
            .store_id("s1")
            .key("k1")),
    ]
}

#[tokio::test]
async fn get_store_records_sends_the_store_and_paging() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/store").is_true(|request| {
                common::query_is(
                    request,
                    &[
                        ("storeId", STORE_ID),
                        ("pattern", "ship"),
                        ("sort", "updatedAt:-1"),
                        ("limit", "2"),
                        ("offset", "4"),
                    ],
                )
            });
            then.status(200).json_body(json!([
                {"key": "order-1001", "value": "shipped", "storeId": STORE_ID,
                 "createdAt": "2019-02-22T13:34:54.215Z", "updatedAt": "2019-02-22T13:34:54.215Z"},
                {"key": "order-1002", "value": {"parsed": [1, 2]}, "storeId": STORE_ID}
            ]));
        })
        .await;
    let client = common::client(&server);

    let records = client
        .get_store_records()
        .store_id(STORE_ID)
        .pattern("ship")
        .sort("updatedAt:-1")
        .limit(2u64)
        .offset(4u64)
        .send()
        .await
        .unwrap()
        .into_inner();

    mock.assert_async().await;
    assert_eq!(records[0].value, json!("shipped"));
    assert_eq!(records[1].value, json!({"parsed": [1, 2]}));
    assert!(records[0].created_at.is_some());
}

#[tokio::test]
async fn get_store_records_requires_the_store() {
    let server = common::engine().await;
    let client = common::client(&server);

    let error = client.get_store_records().send().await.unwrap_err();

    assert!(
        matches!(error, appmixer_client::Error::InvalidRequest(_)),
        "{error}"
    );
}

#[tokio::test]
async fn delete_store_items_sends_a_json_array_with_the_delete() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("DELETE")
                .path("/store")
                .header("content-type", "application/json")
                .json_body(json!([
                    {"key": "order-1001", "storeId": STORE_ID},
                    {"key": AWKWARD_KEY, "storeId": STORE_ID}
                ]));
            then.status(200).json_body(json!({"deletedCount": 2}));
        })
        .await;
    let client = common::client(&server);
    let record = |key: &str| types::RecordRef {
        key: key.to_owned(),
        store_id: STORE_ID.to_owned(),
    };

    let deleted = client
        .delete_store_items()
        .body(vec![record("order-1001"), record(AWKWARD_KEY)])
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(deleted.deleted_count, 2);
}

#[tokio::test]
async fn get_store_records_count_sends_store_and_pattern() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/store/count").is_true(|request| {
                common::query_is(request, &[("storeId", STORE_ID), ("pattern", "a b")])
            });
            then.status(200).json_body(json!({"count": 0}));
        })
        .await;
    let client = common::client(&server);

    let count = client
        .get_store_records_count()
        .store_id(STORE_ID)
        .pattern("a b")
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(count.count, 0);
}

#[tokio::test]
async fn get_store_item_sends_the_key_as_one_encoded_segment() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(format!("/store/{STORE_ID}/{AWKWARD_SEGMENT}"));
            then.status(200)
                .json_body(json!({"key": AWKWARD_KEY, "value": null}));
        })
        .await;
    let client = common::client(&server);

    let record = client
        .get_store_item()
        .store_id(STORE_ID)
        .key(AWKWARD_KEY)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(record.key, AWKWARD_KEY);
    assert_eq!(record.value, serde_json::Value::Null);
}

#[tokio::test]
async fn create_store_item_sends_the_value_as_plain_text() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("/store/{STORE_ID}/{AWKWARD_SEGMENT}"))
                .header("content-type", "text/plain")
                .body("{\"not\": \"parsed\"} ü");
            then.status(200).json_body(json!({
                "key": AWKWARD_KEY, "value": "{\"not\": \"parsed\"} ü", "storeId": STORE_ID
            }));
        })
        .await;
    let client = common::client(&server);

    let record = client
        .create_store_item()
        .store_id(STORE_ID)
        .key(AWKWARD_KEY)
        .body("{\"not\": \"parsed\"} ü")
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(record.value, json!("{\"not\": \"parsed\"} ü"));
}

#[tokio::test]
async fn delete_store_item_accepts_an_empty_body() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("DELETE")
                .path(format!("/store/{STORE_ID}/{AWKWARD_SEGMENT}"));
            then.status(200);
        })
        .await;
    let client = common::client(&server);

    let answer = client
        .delete_store_item()
        .store_id(STORE_ID)
        .key(AWKWARD_KEY)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(answer.status().as_u16(), 200);
}
