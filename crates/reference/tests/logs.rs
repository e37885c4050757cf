//! Logs: the entries component messages leave, their search (query terms,
//! flow and port filters, sort, paging, the daily histogram), one entry
//! with its message, and isolation between users.

mod common;

use common::{Api, Body, field_of};
use reqwest::Method;
use serde_json::{Value, json};

/// A running flow with components `a` and `b`, and its id.
async fn running_flow(api: &Api, token: &str) -> String {
    let flow_id = api
        .flow(
            token,
            json!({ "name": "n", "flow": {
            "a": { "type": "appmixer.utils.http.Webhook" },
            "b": { "type": "appmixer.slack.list.SendChannelMessage" },
        } }),
        )
        .await;
    api.start_flow(token, &flow_id).await;
    flow_id
}

async fn message(api: &Api, flow_id: &str, component: &str, body: Value) {
    let answer = api
        .send(
            Method::POST,
            &format!("/flows/{flow_id}/components/{component}"),
            None,
            Body::Json(body),
        )
        .await;
    assert_eq!(answer.status, 202, "{answer:?}");
}

fn query(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

#[tokio::test]
async fn a_message_leaves_an_entry_and_get_log_answers_it_with_the_message() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let flow_id = running_flow(&api, &token).await;

    message(&api, &flow_id, "b", json!({ "text": "hello" })).await;

    let search = api.get("/logs", &token).await.ok();
    let hit = &search["hits"][0];
    assert_eq!(hit["flowId"], flow_id);
    assert_eq!(hit["componentId"], "b");
    assert_eq!(
        hit["componentType"],
        "appmixer.slack.list.SendChannelMessage"
    );
    assert_eq!(hit["portType"], "in");
    assert_eq!(hit["port"], "in");
    assert_eq!(hit["severity"], "info");
    assert!(hit.get("msg").is_none(), "searches leave the message out");
    let id = hit["_id"].as_str().unwrap();
    assert_eq!(id.len(), 20);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let index = hit["_index"].as_str().unwrap();
    let stamp = hit["@timestamp"].as_str().unwrap();
    assert_eq!(index, format!("appmixer-{}{}", &stamp[0..4], &stamp[5..7]));
    let entry = api.get(&format!("/logs/{index}/{id}"), &token).await.ok();
    assert_eq!(entry["_id"], id);
    assert_eq!(entry["_index"], index);
    assert_eq!(entry["_type"], "_doc");
    assert_eq!(entry["_version"], 1);
    assert_eq!(entry["_source"]["msg"], json!({ "text": "hello" }));
    assert_eq!(entry["_source"]["flowId"], flow_id);
}

#[tokio::test]
async fn hits_are_newest_first_by_default_and_sort_asks_otherwise() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let flow_id = running_flow(&api, &token).await;
    for n in 0..3 {
        message(&api, &flow_id, "a", json!({ "n": n })).await;
    }

    let default = api.get("/logs", &token).await.ok();
    let oldest_first = api.get("/logs?sort=@timestamp", &token).await.ok();
    let explicit = api.get("/logs?sort=@timestamp:asc", &token).await.ok();

    let stamps = field_of(&default["hits"], "@timestamp");
    let mut sorted = stamps.clone();
    sorted.sort_by(|a, b| b.as_str().cmp(&a.as_str()));
    assert_eq!(stamps, sorted);
    let mut reversed = field_of(&default["hits"], "_id");
    reversed.reverse();
    assert_eq!(field_of(&oldest_first["hits"], "_id"), reversed);
    assert_eq!(explicit["hits"], oldest_first["hits"]);
}

#[tokio::test]
async fn from_and_size_partition_the_hits_and_buckets_count_them_all() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let flow_id = running_flow(&api, &token).await;
    for n in 0..7 {
        message(&api, &flow_id, "a", json!({ "n": n })).await;
    }
    let all = api.get("/logs?sort=@timestamp:asc", &token).await.ok();

    let mut ids = Vec::new();
    for from in [0, 3, 6] {
        let page = api
            .get(
                &format!("/logs?sort=@timestamp:asc&from={from}&size=3"),
                &token,
            )
            .await
            .ok();
        let total: u64 = page["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|bucket| bucket["doc_count"].as_u64().unwrap())
            .sum();
        assert_eq!(total, 7, "buckets cover the whole selection");
        ids.extend(field_of(&page["hits"], "_id"));
    }

    assert_eq!(ids, field_of(&all["hits"], "_id"));
    let empty = api.get("/logs?size=0", &token).await.ok();
    assert_eq!(empty["hits"], json!([]));
}

#[tokio::test]
async fn from_and_size_without_an_upper_bound_page_as_their_size_says() {
    // At, just past and far past `u64::MAX`: the spec sets `minimum: 0` and
    // no maximum, so all are valid.
    let huge_counts = [
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999",
    ];
    let api = Api::start().await;
    let token = api.user("jane").await;
    let flow_id = running_flow(&api, &token).await;
    for n in 0..3 {
        message(&api, &flow_id, "a", json!({ "n": n })).await;
    }
    let all = api.get("/logs?sort=@timestamp:asc", &token).await.ok();
    assert_eq!(all["hits"].as_array().unwrap().len(), 3, "{all}");

    for huge in huge_counts {
        let everything = api
            .get(&format!("/logs?sort=@timestamp:asc&size={huge}"), &token)
            .await
            .ok();
        let past_the_end = api
            .get(&format!("/logs?from={huge}&size={huge}"), &token)
            .await
            .ok();

        assert_eq!(everything["hits"], all["hits"], "{huge}");
        assert_eq!(past_the_end["hits"], json!([]), "{huge}");
        assert_eq!(past_the_end["buckets"], all["buckets"], "{huge}");
    }
}

#[tokio::test]
async fn buckets_are_days_at_midnight() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let flow_id = running_flow(&api, &token).await;
    message(&api, &flow_id, "a", json!({})).await;

    let search = api.get("/logs", &token).await.ok();

    let bucket = &search["buckets"][0];
    let stamp = search["hits"][0]["@timestamp"].as_str().unwrap();
    let midnight = format!("{}T00:00:00.000Z", &stamp[..10]);
    assert_eq!(bucket["key_as_string"], midnight);
    let key = chrono::DateTime::parse_from_rfc3339(&midnight)
        .unwrap()
        .timestamp_millis();
    assert_eq!(bucket["key"], key);
    assert_eq!(bucket["doc_count"], 1);
}

#[tokio::test]
async fn query_terms_select_by_field_and_time_range() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let first = running_flow(&api, &token).await;
    let second = running_flow(&api, &token).await;
    message(&api, &first, "a", json!({})).await;
    message(&api, &first, "b", json!({})).await;
    message(&api, &second, "a", json!({})).await;
    let all = api.get("/logs", &token).await.ok();
    let stamp = all["hits"][0]["@timestamp"].as_str().unwrap().to_owned();
    let today = &stamp[..10];
    let count = |search: &Value| search["hits"].as_array().unwrap().len();

    let by_flow = api
        .get(
            &format!("/logs?query={}", query(&format!("+flowId:{first}"))),
            &token,
        )
        .await
        .ok();
    let by_both = api
        .get(
            &format!(
                "/logs?query={}",
                query(&format!("flowId:{first} AND componentId:b"))
            ),
            &token,
        )
        .await
        .ok();
    let today_range = api
        .get(
            &format!(
                "/logs?query={}",
                query(&format!("@timestamp:[{today} TO {today}] AND *"))
            ),
            &token,
        )
        .await
        .ok();
    let past = api
        .get(
            &format!(
                "/logs?query={}",
                query("@timestamp:[2001-01-01 TO 2001-12-31]")
            ),
            &token,
        )
        .await
        .ok();
    let from_now = api
        .get(
            &format!(
                "/logs?query={}",
                query(&format!("@timestamp:[{stamp} TO *]"))
            ),
            &token,
        )
        .await
        .ok();

    assert_eq!(count(&by_flow), 2);
    assert_eq!(count(&by_both), 1);
    assert_eq!(by_both["hits"][0]["componentId"], "b");
    assert_eq!(count(&today_range), 3);
    assert_eq!(count(&past), 0);
    assert_eq!(past["buckets"], json!([]));
    assert_eq!(count(&from_now), 1, "an ISO bound is inclusive");
}

#[tokio::test]
async fn flow_id_and_port_type_parameters_narrow_the_search() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let first = running_flow(&api, &token).await;
    let second = running_flow(&api, &token).await;
    let third = running_flow(&api, &token).await;
    for flow in [&first, &second, &third] {
        message(&api, flow, "a", json!({})).await;
    }

    let two = api
        .get(&format!("/logs?flowId={first}&flowId={second}"), &token)
        .await
        .ok();
    let inputs = api.get("/logs?portType=in", &token).await.ok();
    let outputs = api.get("/logs?portType=out", &token).await.ok();

    let mut flows = field_of(&two["hits"], "flowId");
    flows.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    let mut expected = vec![json!(first), json!(second)];
    expected.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert_eq!(flows, expected);
    assert_eq!(inputs["hits"].as_array().unwrap().len(), 3);
    assert_eq!(outputs["hits"], json!([]));
}

#[tokio::test]
async fn a_bad_query_sort_or_paging_is_refused() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let cases = [
        (format!("query={}", query("hello")), "query"),
        (format!("query={}", query("colour:red")), "query"),
        (
            format!("query={}", query("@timestamp:[yesterday TO *]")),
            "query",
        ),
        (format!("query={}", query("@timestamp:2020-01-01")), "query"),
        (format!("query={}", query("flowId:a OR flowId:b")), "query"),
        ("sort=colour".to_owned(), "sort"),
        ("sort=@timestamp:down".to_owned(), "sort"),
        ("from=-1".to_owned(), "from"),
        ("size=many".to_owned(), "size"),
        ("size=-99999999999999999999".to_owned(), "size"),
    ];
    for (raw, key) in cases {
        let message = api
            .get(&format!("/logs?{raw}"), &token)
            .await
            .invalid("query", key);
        assert!(message.contains(key), "{message}");
    }
}

#[tokio::test]
async fn another_users_logs_are_invisible() {
    let api = Api::start().await;
    let owner = api.user("owner").await;
    let other = api.user("other").await;
    let flow_id = running_flow(&api, &owner).await;
    message(&api, &flow_id, "a", json!({ "secret": 1 })).await;
    let hit = api.get("/logs", &owner).await.ok()["hits"][0].clone();

    let search = api.get("/logs", &other).await.ok();
    let entry = api
        .get(
            &format!(
                "/logs/{}/{}",
                hit["_index"].as_str().unwrap(),
                hit["_id"].as_str().unwrap()
            ),
            &other,
        )
        .await;
    let unknown = api
        .get("/logs/appmixer-202001/AAAAAAAAAAAAAAAAAAAA", &other)
        .await;

    assert_eq!(search, json!({ "buckets": [], "hits": [] }));
    assert_eq!(entry.boom(404), "Log not found.");
    assert_eq!(unknown.boom(404), "Log not found.");
}
