//! Data stores: create, list, get, rename, delete (with their records), and
//! isolation between users.

mod common;

use common::{Api, Body, field_of};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_store_is_created_listed_and_read() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let user_id = api.get("/user", &token).await.ok()["id"].clone();

    let first = api.store(&token, "Orders").await;
    let second = api.store(&token, "Customers").await;

    assert_eq!(first.len(), 24);
    let store = api.get(&format!("/stores/{first}"), &token).await.ok();
    assert_eq!(
        store,
        json!({ "storeId": first, "name": "Orders", "userId": user_id })
    );
    let listed = api.get("/stores", &token).await.ok();
    assert_eq!(field_of(&listed, "storeId"), [json!(first), json!(second)]);
}

#[tokio::test]
async fn a_store_name_must_be_a_non_empty_string() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    for body in [json!({}), json!({ "name": "" }), json!({ "name": 5 })] {
        api.post("/stores", &token, body)
            .await
            .invalid("payload", "name");
    }

    assert_eq!(api.get("/stores", &token).await.ok(), json!([]));
}

#[tokio::test]
async fn rename_answers_the_old_name() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "Orders").await;

    let answer = api
        .put(
            &format!("/stores/{store_id}"),
            &token,
            json!({ "name": "Archive" }),
        )
        .await
        .ok();

    assert_eq!(answer, json!({ "storeId": store_id, "oldName": "Orders" }));
    let store = api.get(&format!("/stores/{store_id}"), &token).await.ok();
    assert_eq!(store["name"], "Archive");
}

#[tokio::test]
async fn delete_answers_an_empty_body_and_removes_the_records() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "Orders").await;
    api.send(
        Method::POST,
        &format!("/store/{store_id}/k"),
        Some(&token),
        Body::Raw("text/plain", b"v".to_vec()),
    )
    .await
    .ok();

    let answer = api.delete(&format!("/stores/{store_id}"), &token).await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "");
    api.get(&format!("/stores/{store_id}"), &token)
        .await
        .boom(404);
    api.get(&format!("/store/{store_id}/k"), &token)
        .await
        .boom(404);
    api.get(&format!("/store?storeId={store_id}"), &token)
        .await
        .boom(404);
    assert_eq!(api.get("/stores", &token).await.ok(), json!([]));
}

#[tokio::test]
async fn another_users_store_answers_like_an_unknown_one_and_stays_unchanged() {
    let api = Api::start().await;
    let owner = api.user("owner").await;
    let other = api.user("other").await;
    let store_id = api.store(&owner, "Orders").await;
    let unknown = "0123456789abcdef01234567";

    for target in [store_id.as_str(), unknown] {
        let answers = [
            api.get(&format!("/stores/{target}"), &other).await,
            api.put(&format!("/stores/{target}"), &other, json!({ "name": "x" }))
                .await,
            api.delete(&format!("/stores/{target}"), &other).await,
        ];
        for answer in answers {
            assert_eq!(answer.boom(404), "Store not found.");
        }
    }

    assert_eq!(
        api.get(&format!("/stores/{store_id}"), &owner).await.ok()["name"],
        "Orders"
    );
    assert_eq!(api.get("/stores", &other).await.ok(), json!([]));
}

#[tokio::test]
async fn server_fields_in_a_store_body_are_refused_by_name() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "Orders").await;
    let before = api.get("/stores", &token).await.ok();

    for field in ["storeId", "userId"] {
        let mut body = json!({ "name": "Other" });
        body[field] = json!("0123456789abcdef01234567");
        let message = api
            .post("/stores", &token, body.clone())
            .await
            .invalid("payload", field);
        assert!(message.contains(field), "{message}");
        api.put(&format!("/stores/{store_id}"), &token, body)
            .await
            .invalid("payload", field);
    }

    assert_eq!(api.get("/stores", &token).await.ok(), before);
}
