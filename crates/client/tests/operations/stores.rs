//! Data stores: listing, creating, reading, renaming and deleting them.

use appmixer_client::types;
use serde_json::json;

use crate::{Call, call, common};

const STORE_ID: &str = "5c6fc9932ff3ff000747ead4";

pub fn calls() -> Vec<Call> {
    vec![
        call!("getStores", GET "/stores", |c| c.get_stores()),
        call!("createStore", POST "/stores", |c| c
            .create_store()
            .body(types::StoreName::builder().name("s"))),
        call!("getStore", GET "/stores/s1", |c| c.get_store().store_id("s1")),
        call!("renameStore", PUT "/stores/s1", |c| c
            .rename_store()
            .store_id("s1")
            .body(types::StoreName::builder().name("s"))),
        call!("deleteStore", DELETE "/stores/s1", |c| c.delete_store().store_id("s1")),
    ]
}

#[tokio::test]
async fn get_stores_decodes_a_bare_array() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/stores");
            then.status(200).json_body(json!([
                {"storeId": STORE_ID, "name": "Processed orders"},
                {"storeId": "5c6fc9932ff3ff000747ead5", "name": "Leads", "userId": "u1"}
            ]));
        })
        .await;
    let client = common::client(&server);

    let stores = client.get_stores().send().await.unwrap().into_inner();

    mock.assert_async().await;
    let names: Vec<_> = stores.iter().map(|store| store.name.as_str()).collect();
    assert_eq!(names, ["Processed orders", "Leads"]);
    assert_eq!(stores[1].user_id.as_deref(), Some("u1"));
}

#[tokio::test]
async fn create_store_sends_the_name() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/stores")
                .json_body(json!({"name": "Processed orders"}));
            then.status(200).json_body(json!({"storeId": STORE_ID}));
        })
        .await;
    let client = common::client(&server);

    let created = client
        .create_store()
        .body(types::StoreName::builder().name("Processed orders"))
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(created.store_id, STORE_ID);
}

#[tokio::test]
async fn create_store_refuses_an_empty_name_before_sending() {
    let server = common::engine().await;
    let client = common::client(&server);

    let error = client
        .create_store()
        .body(types::StoreName::builder().name(""))
        .send()
        .await
        .unwrap_err();

    assert!(
        matches!(error, appmixer_client::Error::InvalidRequest(_)),
        "{error}"
    );
}

#[tokio::test]
async fn get_store_encodes_the_id() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/stores/a%2Fb%20c%3F");
            then.status(200)
                .json_body(json!({"storeId": "a/b c?", "name": "Odd"}));
        })
        .await;
    let client = common::client(&server);

    let store = client.get_store().store_id("a/b c?").send().await.unwrap();

    mock.assert_async().await;
    assert_eq!(store.store_id, "a/b c?");
}

#[tokio::test]
async fn rename_store_decodes_the_old_name() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path(format!("/stores/{STORE_ID}"))
                .json_body(json!({"name": "Orders (archived)"}));
            then.status(200)
                .json_body(json!({"storeId": STORE_ID, "oldName": "Processed orders"}));
        })
        .await;
    let client = common::client(&server);

    let renamed = client
        .rename_store()
        .store_id(STORE_ID)
        .body(types::StoreName::builder().name("Orders (archived)"))
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(renamed.old_name, "Processed orders");
}

#[tokio::test]
async fn delete_store_accepts_an_empty_body() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("DELETE").path(format!("/stores/{STORE_ID}"));
            then.status(200);
        })
        .await;
    let client = common::client(&server);

    let answer = client
        .delete_store()
        .store_id(STORE_ID)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(answer.status().as_u16(), 200);
}

#[tokio::test]
async fn delete_store_ignores_a_body_it_did_not_expect() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("DELETE").path(format!("/stores/{STORE_ID}"));
            then.status(200).json_body(json!({"storeId": STORE_ID}));
        })
        .await;
    let client = common::client(&server);

    let answer = client.delete_store().store_id(STORE_ID).send().await;

    mock.assert_async().await;
    assert!(answer.is_ok(), "{answer:?}");
}
