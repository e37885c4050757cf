//! Insights charts: create with defaults, list with pattern, sort,
//! projection and paging, update, delete, and isolation between users.

mod common;

use common::{Api, field_of, keys};
use serde_json::{Value, json};

async fn chart(api: &Api, token: &str, body: Value) -> String {
    let answer = api.post("/charts", token, body).await.ok();
    answer["chartId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_chart_has_defaults_and_the_given_fields() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let user_id = api.get("/user", &token).await.ok()["id"].clone();

    let chart_id = chart(
        &api,
        &token,
        json!({ "name": "Messages", "type": "bar", "traces": { "t": 1 } }),
    )
    .await;

    let stored = api.get(&format!("/charts/{chart_id}"), &token).await.ok();
    assert_eq!(chart_id.len(), 24);
    assert_eq!(stored["chartId"], chart_id);
    assert_eq!(stored["userId"], user_id);
    assert_eq!(stored["name"], "Messages");
    assert_eq!(stored["type"], "bar");
    assert_eq!(stored["index"], 0);
    assert_eq!(stored["query"], json!({}));
    assert_eq!(stored["options"], json!({}));
    assert_eq!(stored["traces"], json!({ "t": 1 }));
    assert!(chrono::DateTime::parse_from_rfc3339(stored["mtime"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn a_bad_chart_body_is_refused_and_creates_nothing() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let cases = [
        (json!({}), "name"),
        (json!({ "name": 1 }), "name"),
        (json!({ "name": "n", "type": "donut" }), "type"),
        (json!({ "name": "n", "index": 1.5 }), "index"),
        (json!({ "name": "n", "index": "1" }), "index"),
        (json!({ "name": "n", "query": [] }), "query"),
        (json!({ "name": "n", "options": "x" }), "options"),
    ];
    for (body, key) in cases {
        api.post("/charts", &token, body)
            .await
            .invalid("payload", key);
    }

    assert_eq!(api.get("/charts", &token).await.ok(), json!([]));
}

#[tokio::test]
async fn charts_list_by_index_and_sort_pattern_and_paging_apply() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let third = chart(&api, &token, json!({ "name": "Gamma", "index": 2 })).await;
    let first = chart(&api, &token, json!({ "name": "alpha", "index": 0 })).await;
    let second = chart(&api, &token, json!({ "name": "Beta", "index": 1 })).await;

    let default = api.get("/charts", &token).await.ok();
    let by_name = api.get("/charts?sort=name:-1", &token).await.ok();
    let pattern = api.get("/charts?pattern=ALP", &token).await.ok();
    let page = api.get("/charts?limit=1&offset=1", &token).await.ok();
    let projected = api
        .get("/charts?projection=-traces,-query,-options&limit=1", &token)
        .await
        .ok();

    assert_eq!(
        field_of(&default, "chartId"),
        [json!(first), json!(second), json!(third)]
    );
    assert_eq!(field_of(&by_name, "name"), ["alpha", "Gamma", "Beta"]);
    assert_eq!(field_of(&pattern, "chartId"), [json!(first)]);
    assert_eq!(field_of(&page, "chartId"), [json!(second)]);
    assert_eq!(
        keys(&projected[0]),
        ["chartId", "userId", "name", "index", "mtime"]
    );
    api.get("/charts?sort=type:1", &token)
        .await
        .invalid("query", "sort");
    api.get("/charts?offset=-2", &token)
        .await
        .invalid("query", "offset");
}

#[tokio::test]
async fn update_replaces_named_fields_bumps_mtime_and_answers_the_chart() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let chart_id = chart(
        &api,
        &token,
        json!({ "name": "Old", "type": "bar", "options": { "a": 1 } }),
    )
    .await;
    let before = api.get(&format!("/charts/{chart_id}"), &token).await.ok();

    let answer = api
        .put(
            &format!("/charts/{chart_id}"),
            &token,
            json!({ "name": "New", "options": { "b": 2 } }),
        )
        .await
        .ok();

    assert_eq!(answer["name"], "New");
    assert_eq!(answer["options"], json!({ "b": 2 }));
    assert_eq!(answer["type"], "bar");
    assert!(answer["mtime"].as_str().unwrap() > before["mtime"].as_str().unwrap());
    assert_eq!(
        api.get(&format!("/charts/{chart_id}"), &token).await.ok(),
        answer
    );
    api.put(
        &format!("/charts/{chart_id}"),
        &token,
        json!({ "type": "donut" }),
    )
    .await
    .invalid("payload", "type");
    assert_eq!(
        api.get(&format!("/charts/{chart_id}"), &token).await.ok(),
        answer
    );
}

#[tokio::test]
async fn delete_answers_an_empty_body_and_the_chart_is_gone() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let chart_id = chart(&api, &token, json!({ "name": "n" })).await;

    let answer = api.delete(&format!("/charts/{chart_id}"), &token).await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "");
    assert_eq!(
        api.get(&format!("/charts/{chart_id}"), &token)
            .await
            .boom(404),
        "Chart not found."
    );
}

#[tokio::test]
async fn another_users_chart_answers_like_an_unknown_one_and_stays_unchanged() {
    let api = Api::start().await;
    let owner = api.user("owner").await;
    let other = api.user("other").await;
    let chart_id = chart(&api, &owner, json!({ "name": "mine" })).await;
    let before = api.get(&format!("/charts/{chart_id}"), &owner).await.ok();
    let unknown = "0123456789abcdef01234567";

    for target in [chart_id.as_str(), unknown] {
        let answers = [
            api.get(&format!("/charts/{target}"), &other).await,
            api.put(&format!("/charts/{target}"), &other, json!({ "name": "x" }))
                .await,
            api.delete(&format!("/charts/{target}"), &other).await,
        ];
        for answer in answers {
            assert_eq!(answer.boom(404), "Chart not found.");
        }
    }

    assert_eq!(
        api.get(&format!("/charts/{chart_id}"), &owner).await.ok(),
        before
    );
    assert_eq!(api.get("/charts", &other).await.ok(), json!([]));
}

#[tokio::test]
async fn server_fields_in_a_chart_body_are_refused_by_name() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let chart_id = chart(&api, &token, json!({ "name": "n" })).await;
    let before = api.get(&format!("/charts/{chart_id}"), &token).await.ok();

    for field in ["chartId", "userId", "mtime"] {
        let mut body = json!({ "name": "other" });
        body[field] = json!("x");
        let message = api
            .post("/charts", &token, body.clone())
            .await
            .invalid("payload", field);
        assert!(message.contains(field), "{message}");
        api.put(&format!("/charts/{chart_id}"), &token, body)
            .await
            .invalid("payload", field);
    }

    assert_eq!(api.get("/charts", &token).await.ok(), json!([before]));
}
