//! Records: setting values as text or JSON, reading, listing with pattern,
//! sort and paging, deleting one or many, and isolation between users.

mod common;

use common::{Answer, Api, Body, field_of};
use reqwest::Method;
use serde_json::{Value, json};

async fn set_text(api: &Api, token: &str, store_id: &str, key: &str, text: &str) -> Answer {
    api.send(
        Method::POST,
        &format!("/store/{store_id}/{key}"),
        Some(token),
        Body::Raw("text/plain", text.as_bytes().to_vec()),
    )
    .await
}

async fn set_json(api: &Api, token: &str, store_id: &str, key: &str, value: Value) -> Answer {
    api.send(
        Method::POST,
        &format!("/store/{store_id}/{key}"),
        Some(token),
        Body::Json(value),
    )
    .await
}

#[tokio::test]
async fn a_text_value_is_stored_exactly() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;
    let user_id = api.get("/user", &token).await.ok()["id"].clone();
    let text = "  {not json} \n žluťoučký 🐴 ";

    let created = set_text(&api, &token, &store_id, "k", text).await.ok();

    let read = api.get(&format!("/store/{store_id}/k"), &token).await.ok();
    assert_eq!(read, created);
    assert_eq!(read["key"], "k");
    assert_eq!(read["value"], text);
    assert_eq!(read["storeId"], store_id);
    assert_eq!(read["userId"], user_id);
    assert_eq!(read["createdAt"], read["updatedAt"]);
}

#[tokio::test]
async fn a_json_value_is_stored_parsed() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;

    let created = set_json(&api, &token, &store_id, "k", json!({ "n": [1, 2] }))
        .await
        .ok();

    assert_eq!(created["value"], json!({ "n": [1, 2] }));
}

#[tokio::test]
async fn a_value_of_another_media_type_is_415_and_stores_nothing() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;

    let answer = api
        .send(
            Method::POST,
            &format!("/store/{store_id}/k"),
            Some(&token),
            Body::Raw("application/octet-stream", b"v".to_vec()),
        )
        .await;

    answer.boom(415);
    api.get(&format!("/store/{store_id}/k"), &token)
        .await
        .boom(404);
}

#[tokio::test]
async fn invalid_utf8_text_and_malformed_json_are_400() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;
    let path = format!("/store/{store_id}/k");

    let text = api
        .send(
            Method::POST,
            &path,
            Some(&token),
            Body::Raw("text/plain", vec![0xff, 0xfe]),
        )
        .await;
    let malformed = api
        .send(
            Method::POST,
            &path,
            Some(&token),
            Body::Raw("application/json", b"{".to_vec()),
        )
        .await;

    text.boom(400);
    malformed.boom(400);
    api.get(&path, &token).await.boom(404);
}

#[tokio::test]
async fn setting_an_existing_key_keeps_created_at_and_moves_updated_at() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;
    let first = set_text(&api, &token, &store_id, "k", "one").await.ok();

    let second = set_text(&api, &token, &store_id, "k", "two").await.ok();

    assert_eq!(second["value"], "two");
    assert_eq!(second["createdAt"], first["createdAt"]);
    assert!(second["updatedAt"].as_str().unwrap() > first["updatedAt"].as_str().unwrap());
    let count = api
        .get(&format!("/store/count?storeId={store_id}"), &token)
        .await
        .ok();
    assert_eq!(count["count"], 1);
}

#[tokio::test]
async fn the_same_key_in_two_stores_is_two_records() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let first = api.store(&token, "a").await;
    let second = api.store(&token, "b").await;
    set_text(&api, &token, &first, "k", "in a").await.ok();
    set_text(&api, &token, &second, "k", "in b").await.ok();

    api.delete(&format!("/store/{first}/k"), &token).await.ok();

    api.get(&format!("/store/{first}/k"), &token)
        .await
        .boom(404);
    let kept = api.get(&format!("/store/{second}/k"), &token).await.ok();
    assert_eq!(kept["value"], "in b");
}

#[tokio::test]
async fn a_percent_encoded_key_is_one_path_segment() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;

    let created = set_text(&api, &token, &store_id, "orders%2F1001%20x", "v")
        .await
        .ok();

    assert_eq!(created["key"], "orders/1001 x");
    let read = api
        .get(&format!("/store/{store_id}/orders%2F1001%20x"), &token)
        .await
        .ok();
    assert_eq!(read["value"], "v");
}

#[tokio::test]
async fn listing_needs_a_store_id_of_the_callers() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let other = api.user("joe").await;
    let store_id = api.store(&other, "theirs").await;

    api.get("/store", &token).await.invalid("query", "storeId");
    api.get("/store/count", &token)
        .await
        .invalid("query", "storeId");
    assert_eq!(
        api.get(&format!("/store?storeId={store_id}"), &token)
            .await
            .boom(404),
        "Store not found."
    );
    api.get(&format!("/store/count?storeId={store_id}"), &token)
        .await
        .boom(404);
}

#[tokio::test]
async fn pattern_searches_keys_and_values_ignoring_case_and_count_agrees() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;
    set_text(&api, &token, &store_id, "ORDER-1", "shipped")
        .await
        .ok();
    set_text(&api, &token, &store_id, "customer", "Has an Order")
        .await
        .ok();
    set_json(&api, &token, &store_id, "numbers", json!({ "total": 4711 }))
        .await
        .ok();
    set_text(&api, &token, &store_id, "other", "nothing")
        .await
        .ok();

    let orders = api
        .get(&format!("/store?storeId={store_id}&pattern=order"), &token)
        .await
        .ok();
    let numbers = api
        .get(&format!("/store?storeId={store_id}&pattern=4711"), &token)
        .await
        .ok();
    let count = api
        .get(
            &format!("/store/count?storeId={store_id}&pattern=order"),
            &token,
        )
        .await
        .ok();

    assert_eq!(field_of(&orders, "key"), ["ORDER-1", "customer"]);
    assert_eq!(field_of(&numbers, "key"), ["numbers"]);
    assert_eq!(count["count"], 2);
}

#[tokio::test]
async fn records_sort_by_creation_by_default_and_by_a_named_field() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;
    for key in ["b", "c", "a"] {
        set_text(&api, &token, &store_id, key, key).await.ok();
    }
    set_text(&api, &token, &store_id, "b", "again").await.ok();

    let default = api
        .get(&format!("/store?storeId={store_id}"), &token)
        .await
        .ok();
    let by_key = api
        .get(&format!("/store?storeId={store_id}&sort=key:-1"), &token)
        .await
        .ok();
    let by_update = api
        .get(
            &format!("/store?storeId={store_id}&sort=updatedAt:-1"),
            &token,
        )
        .await
        .ok();

    assert_eq!(field_of(&default, "key"), ["b", "c", "a"]);
    assert_eq!(field_of(&by_key, "key"), ["c", "b", "a"]);
    assert_eq!(field_of(&by_update, "key"), ["b", "a", "c"]);
    api.get(&format!("/store?storeId={store_id}&sort=value:1"), &token)
        .await
        .invalid("query", "sort");
}

#[tokio::test]
async fn record_pages_partition_the_list() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;
    let keys: Vec<String> = (0..10).map(|i| format!("k{i:02}")).collect();
    for key in &keys {
        set_text(&api, &token, &store_id, key, "v").await.ok();
    }

    let mut seen = Vec::new();
    for offset in (0..12).step_by(4) {
        let page = api
            .get(
                &format!("/store?storeId={store_id}&sort=key:1&limit=4&offset={offset}"),
                &token,
            )
            .await
            .ok();
        seen.extend(field_of(&page, "key"));
    }

    assert_eq!(seen, keys.iter().map(|k| json!(k)).collect::<Vec<_>>());
    api.get(&format!("/store?storeId={store_id}&limit=x"), &token)
        .await
        .invalid("query", "limit");
}

#[tokio::test]
async fn delete_many_counts_what_it_deleted_and_skips_the_rest() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let other = api.user("joe").await;
    let mine = api.store(&token, "mine").await;
    let theirs = api.store(&other, "theirs").await;
    set_text(&api, &token, &mine, "a", "1").await.ok();
    set_text(&api, &token, &mine, "b", "2").await.ok();
    set_text(&api, &other, &theirs, "a", "3").await.ok();

    let answer = api
        .send(
            Method::DELETE,
            "/store",
            Some(&token),
            Body::Json(json!([
                { "key": "a", "storeId": mine },
                { "key": "a", "storeId": mine },
                { "key": "nope", "storeId": mine },
                { "key": "a", "storeId": theirs },
                { "key": "a", "storeId": "0123456789abcdef01234567" },
            ])),
        )
        .await
        .ok();

    assert_eq!(answer, json!({ "deletedCount": 1 }));
    api.get(&format!("/store/{mine}/a"), &token).await.boom(404);
    api.get(&format!("/store/{mine}/b"), &token).await.ok();
    api.get(&format!("/store/{theirs}/a"), &other).await.ok();
}

#[tokio::test]
async fn a_malformed_delete_many_is_400_and_deletes_nothing() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;
    set_text(&api, &token, &store_id, "a", "1").await.ok();

    let cases = [
        (json!({ "key": "a", "storeId": store_id }), "payload"),
        (
            json!([{ "key": "a", "storeId": store_id }, { "key": "a" }]),
            "1.storeId",
        ),
        (json!([{ "key": 1, "storeId": store_id }]), "0.key"),
        (json!(["a"]), "0"),
    ];
    for (body, key) in cases {
        api.send(Method::DELETE, "/store", Some(&token), Body::Json(body))
            .await
            .invalid("payload", key);
    }

    api.get(&format!("/store/{store_id}/a"), &token).await.ok();
}

#[tokio::test]
async fn deleting_one_record_answers_an_empty_body_and_unknown_keys_404() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let store_id = api.store(&token, "s").await;
    set_text(&api, &token, &store_id, "a", "1").await.ok();

    let answer = api.delete(&format!("/store/{store_id}/a"), &token).await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "");
    assert_eq!(
        api.delete(&format!("/store/{store_id}/a"), &token)
            .await
            .boom(404),
        "Record not found."
    );
    assert_eq!(
        api.get(&format!("/store/{store_id}/a"), &token)
            .await
            .boom(404),
        "Record not found."
    );
}

#[tokio::test]
async fn another_users_records_answer_like_unknown_ones_and_stay_unchanged() {
    let api = Api::start().await;
    let owner = api.user("owner").await;
    let other = api.user("other").await;
    let store_id = api.store(&owner, "s").await;
    set_text(&api, &owner, &store_id, "k", "v").await.ok();
    let unknown = "0123456789abcdef01234567";

    for target in [store_id.as_str(), unknown] {
        let answers = [
            api.get(&format!("/store/{target}/k"), &other).await,
            set_text(&api, &other, target, "k", "stolen").await,
            api.delete(&format!("/store/{target}/k"), &other).await,
        ];
        for answer in answers {
            assert_eq!(answer.boom(404), "Store not found.");
        }
    }

    let kept = api.get(&format!("/store/{store_id}/k"), &owner).await.ok();
    assert_eq!(kept["value"], "v");
}
