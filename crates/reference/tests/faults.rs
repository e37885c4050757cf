//! Planted faults, over HTTP: each fault changes what the server answers
//! when its condition holds, leaves the answer alone when it does not, and a
//! server without faults answers the same requests correctly.
//!
//! Every test runs one scenario twice, against a clean server and against
//! one with the fault on, and compares what each observed.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use appmixer_reference::{Config, Fault};
use common::{Api, Body, field_of};
use reqwest::Method;
use serde_json::{Value, json};

/// What `observe` sees on a clean server and on one with `fault` on.
async fn both<T>(fault: Fault, observe: impl AsyncFn(&Api) -> T) -> (T, T) {
    let clean = Api::start().await;
    let broken = Api::start_with(Config::default().with_fault(fault)).await;
    (observe(&clean).await, observe(&broken).await)
}

fn names(list: &Value) -> Vec<Value> {
    field_of(list, "name")
}

async fn text_record(api: &Api, token: &str, store_id: &str, key: &str, value: &str) -> Value {
    api.send(
        Method::POST,
        &format!("/store/{store_id}/{key}"),
        Some(token),
        Body::Raw("text/plain", value.as_bytes().to_vec()),
    )
    .await
    .ok()
}

/// A running flow with a webhook component `hook`, and its id.
async fn running_webhook_flow(api: &Api, token: &str) -> String {
    let flow_id = api
        .flow(
            token,
            json!({ "name": "hooks", "flow": { "hook": { "type": "appmixer.utils.http.Webhook" } } }),
        )
        .await;
    api.start_flow(token, &flow_id).await;
    flow_id
}

async fn message(api: &Api, flow_id: &str, n: u64) {
    let answer = api
        .send(
            Method::POST,
            &format!("/flows/{flow_id}/components/hook"),
            None,
            Body::Json(json!({ "n": n })),
        )
        .await;
    assert_eq!(answer.status, 202, "{answer:?}");
}

/// A task that jane requests of joe, created by jane: `(jane, joe, task)`.
async fn task(api: &Api) -> (String, String, Value) {
    let jane = api.user("jane").await;
    let joe = api.user("joe").await;
    let task = api
        .post(
            "/people-task/tasks",
            &jane,
            json!({ "title": "Refund", "requester": "jane", "approver": "joe" }),
        )
        .await
        .ok();
    (jane, joe, task)
}

// Users

#[tokio::test]
async fn duplicate_signup_accepted_creates_a_second_user_with_the_same_login() {
    async fn observe(api: &Api) -> (u16, Option<bool>) {
        let first = api.user("jane").await;
        let again = api
            .send(
                Method::POST,
                "/user",
                None,
                Body::Json(json!({ "username": "jane", "password": "another-password" })),
            )
            .await;
        let second = again.body["token"].as_str().map(str::to_owned);
        let distinct = match second {
            Some(second) => {
                let one = api.get("/user", &first).await.ok();
                let two = api.get("/user", &second).await.ok();
                Some(one["id"] != two["id"] && one["username"] == two["username"])
            }
            None => None,
        };
        (again.status.as_u16(), distinct)
    }

    let (clean, broken) = both(Fault::DuplicateSignupAccepted, observe).await;

    assert_eq!(clean, (409, None));
    assert_eq!(broken, (201, Some(true)));
}

#[tokio::test]
async fn forged_token_accepted_only_when_its_claims_name_a_user() {
    async fn observe(api: &Api) -> (u16, u16) {
        let token = api.user("jane").await;
        let id = api.get("/user", &token).await.ok()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let forge = |id: &str| {
            let claims = json!({ "id": id, "scope": ["user"], "iat": 1, "exp": 4_000_000_000u64 });
            jsonwebtoken::encode(
                &jsonwebtoken::Header::default(),
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(b"not the server's key").unwrap(),
            )
            .unwrap()
        };

        let as_jane = api.get("/user", &forge(&id)).await.status.as_u16();
        let as_nobody = api
            .get("/user", &forge("000000000000000000000000"))
            .await
            .status
            .as_u16();
        (as_jane, as_nobody)
    }

    let (clean, broken) = both(Fault::ForgedTokenAccepted, observe).await;

    assert_eq!(clean, (401, 401));
    assert_eq!(broken, (200, 401));
}

// Flows

#[tokio::test]
async fn delete_without_token_accepted_deletes_the_flow() {
    async fn observe(api: &Api) -> (u16, u64) {
        let token = api.user("jane").await;
        let flow_id = api.flow(&token, json!({ "name": "f" })).await;

        let answer = api
            .send(
                Method::DELETE,
                &format!("/flows/{flow_id}"),
                None,
                Body::None,
            )
            .await;

        let left = api.get("/flows/count", &token).await.ok()["count"]
            .as_u64()
            .unwrap();
        (answer.status.as_u16(), left)
    }

    let (clean, broken) = both(Fault::DeleteFlowWithoutToken, observe).await;

    assert_eq!(clean, (401, 1));
    assert_eq!(broken, (200, 0));
}

#[tokio::test]
async fn count_off_by_one_only_with_a_pattern() {
    async fn observe(api: &Api) -> (Value, Value) {
        let token = api.user("jane").await;
        api.flow(&token, json!({ "name": "alpha" })).await;
        api.flow(&token, json!({ "name": "beta" })).await;

        let with_pattern = api.get("/flows/count?pattern=alp", &token).await.ok();
        let without = api.get("/flows/count", &token).await.ok();
        (with_pattern["count"].clone(), without["count"].clone())
    }

    let (clean, broken) = both(Fault::FlowsCountOffByOneWithPattern, observe).await;

    assert_eq!(clean, (json!(1), json!(2)));
    assert_eq!(broken, (json!(2), json!(2)));
}

#[tokio::test]
async fn page_skips_one_only_past_the_first_page() {
    async fn observe(api: &Api) -> (Vec<Value>, Vec<Value>) {
        let token = api.user("jane").await;
        for name in ["f0", "f1", "f2", "f3", "f4"] {
            api.flow(&token, json!({ "name": name })).await;
        }

        let first = api.get("/flows?limit=2&offset=0", &token).await.ok();
        let second = api.get("/flows?limit=2&offset=2", &token).await.ok();
        (names(&first), names(&second))
    }

    let (clean, broken) = both(Fault::FlowsPageSkipsOneAfterOffset, observe).await;

    assert_eq!(
        clean,
        (
            vec![json!("f0"), json!("f1")],
            vec![json!("f2"), json!("f3")]
        )
    );
    assert_eq!(
        broken,
        (
            vec![json!("f0"), json!("f1")],
            vec![json!("f3"), json!("f4")]
        )
    );
}

#[tokio::test]
async fn sort_by_name_descending_ascends_and_other_sorts_stay() {
    async fn observe(api: &Api) -> (Vec<Value>, Vec<Value>) {
        let token = api.user("jane").await;
        for name in ["b", "a", "c"] {
            api.flow(&token, json!({ "name": name })).await;
        }

        let by_name = api.get("/flows?sort=name:-1", &token).await.ok();
        let by_btime = api.get("/flows?sort=btime:-1", &token).await.ok();
        (names(&by_name), names(&by_btime))
    }

    let (clean, broken) = both(Fault::FlowsSortByNameDescendingAscends, observe).await;

    let btime_descending = vec![json!("c"), json!("a"), json!("b")];
    assert_eq!(
        clean,
        (
            vec![json!("c"), json!("b"), json!("a")],
            btime_descending.clone()
        )
    );
    assert_eq!(
        broken,
        (vec![json!("a"), json!("b"), json!("c")], btime_descending)
    );
}

#[tokio::test]
async fn update_merges_custom_fields_only_when_a_stored_key_is_left_out() {
    async fn observe(api: &Api) -> (Value, Value) {
        let token = api.user("jane").await;
        let flow_id = api
            .flow(
                &token,
                json!({ "name": "f", "customFields": { "a": 1, "b": 2 } }),
            )
            .await;
        let path = format!("/flows/{flow_id}");

        api.put(&path, &token, json!({ "customFields": { "a": 3, "b": 4 } }))
            .await
            .ok();
        let covering = api.get(&path, &token).await.ok()["customFields"].clone();
        api.put(&path, &token, json!({ "customFields": { "a": 5 } }))
            .await
            .ok();
        let partial = api.get(&path, &token).await.ok()["customFields"].clone();
        (covering, partial)
    }

    let (clean, broken) = both(Fault::FlowUpdateMergesCustomFields, observe).await;

    assert_eq!(clean, (json!({ "a": 3, "b": 4 }), json!({ "a": 5 })));
    assert_eq!(
        broken,
        (json!({ "a": 3, "b": 4 }), json!({ "a": 5, "b": 4 }))
    );
}

#[tokio::test]
async fn start_twice_moves_started_only_when_the_flow_is_running() {
    async fn observe(api: &Api) -> (bool, bool) {
        let token = api.user("jane").await;
        let flow_id = api.flow(&token, json!({ "name": "f" })).await;
        let path = format!("/flows/{flow_id}");

        api.start_flow(&token, &flow_id).await;
        let first = api.get(&path, &token).await.ok();
        api.start_flow(&token, &flow_id).await;
        let second = api.get(&path, &token).await.ok();

        (
            first["started"].is_string(),
            first["started"] == second["started"],
        )
    }

    let (clean, broken) = both(Fault::StartTwiceMovesStarted, observe).await;

    assert_eq!(clean, (true, true));
    assert_eq!(broken, (true, false));
}

#[tokio::test]
async fn a_deleted_running_flow_stays_listed_and_a_deleted_stopped_one_does_not() {
    async fn observe(api: &Api) -> (u16, Vec<Value>, Value) {
        let token = api.user("jane").await;
        let running = api.flow(&token, json!({ "name": "running" })).await;
        let stopped = api.flow(&token, json!({ "name": "stopped" })).await;
        api.start_flow(&token, &running).await;

        for id in [&running, &stopped] {
            api.delete(&format!("/flows/{id}"), &token).await.ok();
        }

        let get = api.get(&format!("/flows/{running}"), &token).await.status;
        let listed = api.get("/flows", &token).await.ok();
        let count = api.get("/flows/count", &token).await.ok()["count"].clone();
        (get.as_u16(), names(&listed), count)
    }

    let (clean, broken) = both(Fault::DeletedRunningFlowStillListed, observe).await;

    assert_eq!(clean, (404, vec![], json!(0)));
    assert_eq!(broken, (404, vec![json!("running")], json!(1)));
}

#[tokio::test]
async fn clone_drops_custom_fields_only_with_a_prefix() {
    async fn observe(api: &Api) -> (Value, Value) {
        let token = api.user("jane").await;
        let flow_id = api
            .flow(
                &token,
                json!({ "name": "f", "customFields": { "team": "crm" } }),
            )
            .await;
        let clone = async |body: Value| {
            let answer = api
                .post(&format!("/flows/{flow_id}/clone"), &token, body)
                .await
                .ok();
            let id = answer["cloneId"].as_str().unwrap().to_owned();
            api.get(&format!("/flows/{id}"), &token).await.ok()["customFields"].clone()
        };

        let plain = clone(json!({})).await;
        let prefixed = clone(json!({ "prefix": "Copy of " })).await;
        (plain, prefixed)
    }

    let (clean, broken) = both(Fault::CloneDropsCustomFieldsWithPrefix, observe).await;

    assert_eq!(clean, (json!({ "team": "crm" }), json!({ "team": "crm" })));
    assert_eq!(broken, (json!({ "team": "crm" }), Value::Null));
}

#[tokio::test]
async fn a_pattern_outside_ascii_crashes_the_flow_search_and_an_ascii_one_does_not() {
    async fn observe(api: &Api) -> (u16, u16, u16) {
        let token = api.user("jane").await;
        api.flow(&token, json!({ "name": "Café" })).await;

        let ascii = api.get("/flows?pattern=caf", &token).await.status;
        let accented = api.get("/flows?pattern=caf%C3%A9", &token).await.status;
        let count = api.get("/flows/count?pattern=%C3%A9", &token).await.status;
        (ascii.as_u16(), accented.as_u16(), count.as_u16())
    }

    let (clean, broken) = both(Fault::CrashOnNonAsciiPattern, observe).await;

    assert_eq!(clean, (200, 200, 200));
    assert_eq!(broken, (200, 500, 500));
}

// Stores

#[tokio::test]
async fn the_store_list_includes_other_users_stores() {
    async fn observe(api: &Api) -> Vec<Value> {
        let jane = api.user("jane").await;
        let joe = api.user("joe").await;
        api.store(&jane, "Jane's").await;
        api.store(&joe, "Joe's").await;

        names(&api.get("/stores", &jane).await.ok())
    }

    let (clean, broken) = both(Fault::StoresListIncludesOtherUsers, observe).await;

    assert_eq!(clean, vec![json!("Jane's")]);
    assert_eq!(broken, vec![json!("Jane's"), json!("Joe's")]);
}

#[tokio::test]
async fn a_rename_without_effect_answers_the_old_name_and_keeps_it() {
    async fn observe(api: &Api) -> (Value, Value) {
        let token = api.user("jane").await;
        let store_id = api.store(&token, "Orders").await;
        let path = format!("/stores/{store_id}");

        let answer = api
            .put(&path, &token, json!({ "name": "Archive" }))
            .await
            .ok();

        let store = api.get(&path, &token).await.ok();
        (answer["oldName"].clone(), store["name"].clone())
    }

    let (clean, broken) = both(Fault::StoreRenameWithoutEffect, observe).await;

    assert_eq!(clean, (json!("Orders"), json!("Archive")));
    assert_eq!(broken, (json!("Orders"), json!("Orders")));
}

#[tokio::test]
async fn a_store_name_over_255_characters_crashes_and_255_do_not() {
    async fn observe(api: &Api) -> (u16, u16, u16) {
        let token = api.user("jane").await;
        let fits = "é".repeat(255);
        let too_long = "é".repeat(256);

        let created = api.post("/stores", &token, json!({ "name": fits })).await;
        let store_id = created.body["storeId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let long = api
            .post("/stores", &token, json!({ "name": too_long }))
            .await;
        let rename = api
            .put(
                &format!("/stores/{store_id}"),
                &token,
                json!({ "name": too_long }),
            )
            .await;
        (
            created.status.as_u16(),
            long.status.as_u16(),
            rename.status.as_u16(),
        )
    }

    let (clean, broken) = both(Fault::CrashOnLongStoreName, observe).await;

    assert_eq!(clean, (200, 200, 200));
    assert_eq!(broken, (200, 500, 500));
}

#[tokio::test]
async fn a_renamed_store_loses_its_name_and_a_new_one_keeps_it() {
    async fn observe(api: &Api) -> (Value, Value) {
        let token = api.user("jane").await;
        let store_id = api.store(&token, "Orders").await;
        let path = format!("/stores/{store_id}");

        let before = api.get(&path, &token).await.ok();
        api.put(&path, &token, json!({ "name": "Archive" }))
            .await
            .ok();
        let after = api.get(&path, &token).await.ok();
        (before["name"].clone(), after["name"].clone())
    }

    let (clean, broken) = both(Fault::RenamedStoreOmitsName, observe).await;

    assert_eq!(clean, (json!("Orders"), json!("Archive")));
    assert_eq!(broken, (json!("Orders"), Value::Null));
}

// Records

#[tokio::test]
async fn the_same_key_in_two_stores_reads_the_other_store_and_a_unique_key_does_not() {
    async fn observe(api: &Api) -> (Value, Value) {
        let token = api.user("jane").await;
        let first = api.store(&token, "First").await;
        let second = api.store(&token, "Second").await;
        text_record(api, &token, &first, "shared", "in first").await;
        text_record(api, &token, &second, "shared", "in second").await;
        text_record(api, &token, &second, "own", "only in second").await;

        let shared = api
            .get(&format!("/store/{second}/shared"), &token)
            .await
            .ok();
        let own = api.get(&format!("/store/{second}/own"), &token).await.ok();
        (shared["value"].clone(), own["value"].clone())
    }

    let (clean, broken) = both(Fault::SameKeyReadsOtherStore, observe).await;

    assert_eq!(clean, (json!("in second"), json!("only in second")));
    assert_eq!(broken, (json!("in first"), json!("only in second")));
}

#[tokio::test]
async fn characters_outside_the_bmp_are_mangled_and_others_are_kept() {
    async fn observe(api: &Api) -> (Value, Value) {
        let token = api.user("jane").await;
        let store_id = api.store(&token, "Orders").await;

        let emoji = text_record(api, &token, &store_id, "emoji", "ok 😀 done").await;
        let accents = text_record(api, &token, &store_id, "accents", "naïve café").await;
        (emoji["value"].clone(), accents["value"].clone())
    }

    let (clean, broken) = both(Fault::NonBmpRecordValueMangled, observe).await;

    assert_eq!(clean, (json!("ok 😀 done"), json!("naïve café")));
    assert_eq!(broken, (json!("ok \u{FFFD} done"), json!("naïve café")));
}

// Accounts

#[tokio::test]
async fn a_negated_account_filter_is_read_plainly_and_a_plain_one_is_unchanged() {
    async fn observe(api: &Api) -> (Vec<Value>, Vec<Value>) {
        let token = api.user("jane").await;
        for service in ["appmixer:slack", "appmixer:jira"] {
            api.post(
                "/accounts",
                &token,
                json!({ "service": service, "token": {} }),
            )
            .await
            .ok();
        }

        let negated = api
            .get("/accounts?filter=service:!appmixer:slack", &token)
            .await
            .ok();
        let plain = api
            .get("/accounts?filter=service:appmixer:slack", &token)
            .await
            .ok();
        (field_of(&negated, "service"), field_of(&plain, "service"))
    }

    let (clean, broken) = both(Fault::NegatedAccountFilterIgnored, observe).await;

    assert_eq!(
        clean,
        (vec![json!("appmixer:jira")], vec![json!("appmixer:slack")])
    );
    assert_eq!(
        broken,
        (vec![json!("appmixer:slack")], vec![json!("appmixer:slack")])
    );
}

#[tokio::test]
async fn the_account_list_leaks_the_stored_token() {
    async fn observe(api: &Api) -> Value {
        let token = api.user("jane").await;
        api.post(
            "/accounts",
            &token,
            json!({ "service": "appmixer:slack", "token": { "accessToken": "xoxb-secret" } }),
        )
        .await
        .ok();

        api.get("/accounts", &token).await.ok()[0]["token"].clone()
    }

    let (clean, broken) = both(Fault::AccountListLeaksToken, observe).await;

    assert_eq!(clean, Value::Null);
    assert_eq!(broken, json!({ "accessToken": "xoxb-secret" }));
}

#[tokio::test]
async fn another_user_renames_an_account() {
    async fn observe(api: &Api) -> (u16, Value) {
        let jane = api.user("jane").await;
        let joe = api.user("joe").await;
        let account = api
            .post(
                "/accounts",
                &jane,
                json!({ "service": "appmixer:slack", "token": {} }),
            )
            .await
            .ok();
        let id = account["accountId"].as_str().unwrap();

        let answer = api
            .put(
                &format!("/accounts/{id}"),
                &joe,
                json!({ "displayName": "Joe's now" }),
            )
            .await;

        let listed = api.get("/accounts", &jane).await.ok();
        (answer.status.as_u16(), listed[0]["displayName"].clone())
    }

    let (clean, broken) = both(Fault::RenameOtherUsersAccount, observe).await;

    assert_eq!(clean, (404, Value::Null));
    assert_eq!(broken, (200, json!("Joe's now")));
}

// Logs

#[tokio::test]
async fn log_search_ignores_from_past_the_first_page() {
    async fn observe(api: &Api) -> (Vec<Value>, Vec<Value>) {
        let token = api.user("jane").await;
        let flow_id = running_webhook_flow(api, &token).await;
        for n in 0..3 {
            message(api, &flow_id, n).await;
        }
        let page = async |from: u64| {
            let search = api
                .get(
                    &format!("/logs?sort=%40timestamp&size=1&from={from}"),
                    &token,
                )
                .await
                .ok();
            let hits = &search["hits"];
            let mut messages = Vec::new();
            for hit in hits.as_array().unwrap() {
                let path = format!(
                    "/logs/{}/{}",
                    hit["_index"].as_str().unwrap(),
                    hit["_id"].as_str().unwrap()
                );
                messages.push(api.get(&path, &token).await.ok()["_source"]["msg"]["n"].clone());
            }
            messages
        };

        (page(0).await, page(1).await)
    }

    let (clean, broken) = both(Fault::LogsFromIgnoredOnLaterPages, observe).await;

    assert_eq!(clean, (vec![json!(0)], vec![json!(1)]));
    assert_eq!(broken, (vec![json!(0)], vec![json!(0)]));
}

#[tokio::test]
async fn another_user_reads_a_log_entry() {
    async fn observe(api: &Api) -> u16 {
        let jane = api.user("jane").await;
        let joe = api.user("joe").await;
        let flow_id = running_webhook_flow(api, &jane).await;
        message(api, &flow_id, 1).await;
        let hit = api.get("/logs", &jane).await.ok()["hits"][0].clone();
        let path = format!(
            "/logs/{}/{}",
            hit["_index"].as_str().unwrap(),
            hit["_id"].as_str().unwrap()
        );

        api.get(&path, &joe).await.status.as_u16()
    }

    let (clean, broken) = both(Fault::LogEntryReadableByOtherUser, observe).await;

    assert_eq!(clean, 404);
    assert_eq!(broken, 200);
}

// People tasks

#[tokio::test]
async fn an_opposite_second_decision_flips_the_status_and_a_repeated_one_is_refused() {
    async fn observe(api: &Api) -> (u16, u16, Value) {
        let (_, joe, task) = task(api).await;
        let id = task["id"].as_str().unwrap();
        let path = |verb: &str| format!("/people-task/tasks/{id}/{verb}");
        api.put(&path("approve"), &joe, json!({})).await.ok();

        let again = api.put(&path("approve"), &joe, json!({})).await.status;
        let opposite = api.put(&path("reject"), &joe, json!({})).await.status;

        let status = api
            .get(&format!("/people-task/tasks/{id}"), &joe)
            .await
            .ok()["status"]
            .clone();
        (again.as_u16(), opposite.as_u16(), status)
    }

    let (clean, broken) = both(Fault::OppositeDecisionOverrides, observe).await;

    assert_eq!(clean, (400, 400, json!("approved")));
    assert_eq!(broken, (400, 200, json!("rejected")));
}

#[tokio::test]
async fn the_requester_secret_decides_a_task() {
    async fn observe(api: &Api) -> (u16, Value) {
        let (jane, _, task) = task(api).await;
        let id = task["id"].as_str().unwrap();
        let secret = task["requesterSecret"].as_str().unwrap();

        let answer = api
            .send(
                Method::PUT,
                &format!("/people-task/tasks/{id}/approve"),
                None,
                Body::Json(json!({ "secret": secret })),
            )
            .await;

        let status = api
            .get(&format!("/people-task/tasks/{id}"), &jane)
            .await
            .ok()["status"]
            .clone();
        (answer.status.as_u16(), status)
    }

    let (clean, broken) = both(Fault::RequesterSecretDecides, observe).await;

    assert_eq!(clean, (403, json!("pending")));
    assert_eq!(broken, (200, json!("approved")));
}

#[tokio::test]
async fn the_task_count_is_answered_as_a_string() {
    async fn observe(api: &Api) -> Value {
        let (jane, _, _) = task(api).await;

        api.get("/people-task/tasks-count", &jane).await.ok()["count"].clone()
    }

    let (clean, broken) = both(Fault::TasksCountAsString, observe).await;

    assert_eq!(clean, json!(1));
    assert_eq!(broken, json!("1"));
}

#[tokio::test]
async fn a_task_without_approver_is_stored_with_the_requester_as_approver() {
    async fn observe(api: &Api) -> (u16, Value) {
        let jane = api.user("jane").await;

        let answer = api
            .post(
                "/people-task/tasks",
                &jane,
                json!({ "title": "Refund", "requester": "jane" }),
            )
            .await;

        (answer.status.as_u16(), answer.body["approver"].clone())
    }

    let (clean, broken) = both(Fault::MissingApproverAccepted, observe).await;

    assert_eq!(clean, (400, Value::Null));
    assert_eq!(broken, (200, json!("jane")));
}

// Charts

#[tokio::test]
async fn an_include_projection_drops_the_chart_id_unless_it_names_it() {
    async fn observe(api: &Api) -> [bool; 3] {
        let token = api.user("jane").await;
        api.post("/charts", &token, json!({ "name": "Daily" }))
            .await
            .ok();
        let has_id = async |projection: &str| {
            let listed = api
                .get(&format!("/charts?projection={projection}"), &token)
                .await
                .ok();
            listed[0]["chartId"].is_string()
        };

        [
            has_id("name").await,
            has_id("name,chartId").await,
            has_id("-options").await,
        ]
    }

    let (clean, broken) = both(Fault::IncludeProjectionDropsChartId, observe).await;

    assert_eq!(clean, [true, true, true]);
    assert_eq!(broken, [false, true, true]);
}

#[tokio::test]
async fn a_deleted_chart_leaves_the_list_but_stays_readable() {
    async fn observe(api: &Api) -> (u16, Value) {
        let token = api.user("jane").await;
        let created = api
            .post("/charts", &token, json!({ "name": "Daily" }))
            .await
            .ok();
        let path = format!("/charts/{}", created["chartId"].as_str().unwrap());

        api.delete(&path, &token).await.ok();

        let get = api.get(&path, &token).await.status;
        (get.as_u16(), api.get("/charts", &token).await.ok())
    }

    let (clean, broken) = both(Fault::DeletedChartStillReadable, observe).await;

    assert_eq!(clean, (404, json!([])));
    assert_eq!(broken, (200, json!([])));
}

#[tokio::test]
async fn an_unknown_chart_type_is_stored_and_a_known_one_as_before() {
    async fn observe(api: &Api) -> (u16, Value, Value) {
        let token = api.user("jane").await;
        let created = api
            .post(
                "/charts",
                &token,
                json!({ "name": "Daily", "type": "donut" }),
            )
            .await;
        let known = api
            .post(
                "/charts",
                &token,
                json!({ "name": "Weekly", "type": "pie" }),
            )
            .await
            .ok();

        let listed = api.get("/charts?sort=name:1", &token).await.ok();
        (
            created.status.as_u16(),
            field_of(&listed, "type").into(),
            known["chartId"].is_string().into(),
        )
    }

    let (clean, broken) = both(Fault::UnknownChartTypeAccepted, observe).await;

    assert_eq!(clean, (400, json!(["pie"]), json!(true)));
    assert_eq!(broken, (200, json!(["donut", "pie"]), json!(true)));
}

#[tokio::test]
async fn an_updated_unknown_chart_type_is_stored_and_answered() {
    async fn observe(api: &Api) -> (u16, Value, Value) {
        let token = api.user("jane").await;
        let created = api
            .post("/charts", &token, json!({ "name": "Daily", "type": "bar" }))
            .await
            .ok();
        let path = format!("/charts/{}", created["chartId"].as_str().unwrap());

        let answer = api.put(&path, &token, json!({ "type": "donut" })).await;

        let stored = api.get(&path, &token).await.ok()["type"].clone();
        (answer.status.as_u16(), answer.body["type"].clone(), stored)
    }

    let (clean, broken) = both(Fault::UnknownChartTypeAccepted, observe).await;

    assert_eq!(clean.0, 400);
    assert_eq!(clean.2, json!("bar"));
    assert_eq!(broken, (200, json!("donut"), json!("donut")));
}

#[tokio::test]
async fn the_chart_list_is_served_as_text() {
    async fn observe(api: &Api) -> Option<String> {
        let token = api.user("jane").await;

        api.get("/charts", &token).await.media_type
    }

    let (clean, broken) = both(Fault::ChartsListServedAsText, observe).await;

    assert_eq!(clean.as_deref(), Some("application/json"));
    assert_eq!(broken.as_deref(), Some("text/plain; charset=utf-8"));
}

// Flow authentication

#[tokio::test]
async fn another_user_reads_a_flows_authentication() {
    async fn observe(api: &Api) -> u16 {
        let jane = api.user("jane").await;
        let joe = api.user("joe").await;
        let flow_id = api
            .flow(
                &jane,
                json!({ "name": "f", "flow": { "s": { "type": "appmixer.slack.list.SendChannelMessage" } } }),
            )
            .await;

        api.get(&format!("/auth/flow/{flow_id}"), &joe)
            .await
            .status
            .as_u16()
    }

    let (clean, broken) = both(Fault::OtherUsersFlowAuthenticationReadable, observe).await;

    assert_eq!(clean, 404);
    assert_eq!(broken, 200);
}

#[tokio::test]
async fn a_flow_without_auth_components_answers_204_and_one_with_them_200() {
    async fn observe(api: &Api) -> ((u16, String), (u16, String)) {
        let token = api.user("jane").await;
        let plain = api
            .flow(
                &token,
                json!({ "name": "f", "flow": { "w": { "type": "appmixer.utils.http.Webhook" } } }),
            )
            .await;
        let slack = api
            .flow(
                &token,
                json!({ "name": "g", "flow": { "s": { "type": "appmixer.slack.list.SendChannelMessage" } } }),
            )
            .await;
        let read = async |id: &str| {
            let answer = api.get(&format!("/auth/flow/{id}"), &token).await;
            (
                answer.status.as_u16(),
                answer.text.chars().take(6).collect::<String>(),
            )
        };

        (read(&plain).await, read(&slack).await)
    }

    let (clean, broken) = both(Fault::NoAuthComponentsAnswer204, observe).await;

    assert_eq!(clean, ((200, "{}".into()), (200, "{\"s\":{".into())));
    assert_eq!(broken, ((204, String::new()), (200, "{\"s\":{".into())));
}

// Several faults, the catalogue and the binary

#[tokio::test]
async fn faults_switched_on_together_each_keep_their_effect() {
    let api = Api::start_with(
        Config::default()
            .with_fault(Fault::FlowsCountOffByOneWithPattern)
            .with_fault(Fault::CrashOnNonAsciiPattern),
    )
    .await;
    let token = api.user("jane").await;
    api.flow(&token, json!({ "name": "alpha" })).await;

    let off_by_one = api.get("/flows/count?pattern=alp", &token).await.ok();
    let crash = api.get("/flows/count?pattern=%C3%A9", &token).await;

    assert_eq!(off_by_one["count"], 2);
    assert_eq!(crash.boom(500), "An internal server error occurred");
}

#[test]
fn the_catalogue_covers_every_area_and_class_and_a_third_is_conditional() {
    use appmixer_reference::{Area, FaultClass};
    use std::collections::BTreeSet;

    let areas: BTreeSet<Area> = Fault::ALL.iter().map(|f| f.info().area).collect();
    let classes: BTreeSet<FaultClass> = Fault::ALL.iter().map(|f| f.info().class).collect();
    let conditional = Fault::ALL
        .iter()
        .filter(|f| f.info().condition.is_some())
        .count();

    assert!(Fault::ALL.len() >= 24, "{} faults", Fault::ALL.len());
    assert_eq!(areas.len(), 9, "{areas:?}");
    assert_eq!(classes.len(), 8, "{classes:?}");
    assert!(
        conditional * 3 >= Fault::ALL.len(),
        "{conditional} conditional"
    );
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_appmixer-reference"))
}

/// A child process that is killed when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn list_faults_prints_every_fault_with_its_property() {
    let output = binary().arg("--list-faults").output().unwrap();

    assert!(output.status.success());
    let listing = String::from_utf8(output.stdout).unwrap();
    for fault in Fault::ALL {
        let info = fault.info();
        assert!(listing.contains(info.name), "{} missing", info.name);
        assert!(listing.contains(info.property), "{} missing", info.property);
    }
}

#[test]
fn an_unknown_fault_name_is_refused_with_the_way_to_list_them() {
    let output = binary()
        .args(["--port", "0", "--fault", "flows.no-such-fault"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(
        error.contains("flows.no-such-fault") && error.contains("--list-faults"),
        "{error}"
    );
}

#[test]
fn an_empty_fault_environment_variable_switches_no_fault_on() {
    let mut server = Running(
        binary()
            .args(["--port", "0"])
            .env("APPMIXER_REFERENCE_FAULTS", "")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();

    // A value clap could not parse would have ended the binary before it
    // printed the address.
    assert!(line.contains("listening on http://127.0.0.1:"), "{line:?}");
}

#[tokio::test]
async fn the_environment_switches_faults_on_in_the_binary() {
    let mut server = Running(
        binary()
            .args(["--port", "0"])
            .env(
                "APPMIXER_REFERENCE_FAULTS",
                "charts.list-served-as-text,people-tasks.count-as-string",
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let signup = client
        .post(format!("{base}/user"))
        .json(&json!({ "username": "jane", "password": "secret" }))
        .send()
        .await
        .unwrap();
    let token = signup.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let charts = client
        .get(format!("{base}/charts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let count = client
        .get(format!("{base}/people-task/tasks-count"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(
        charts.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(count.text().await.unwrap(), r#"{"count":"0"}"#);
}
