//! Accounts: creation, listing and filters, renaming, assignment to
//! components, the flows that use an account, deletion, and isolation.

mod common;

use common::{Api, field_of, keys};
use serde_json::{Value, json};

async fn account(api: &Api, token: &str, body: Value) -> Value {
    api.post("/accounts", token, body).await.ok()
}

async fn slack_flow(api: &Api, token: &str) -> String {
    api.flow(
        token,
        json!({ "name": "Slack flow", "flow": {
            "send": { "type": "appmixer.slack.list.SendChannelMessage" },
            "start": { "type": "appmixer.utils.controls.OnStart" },
        } }),
    )
    .await
}

#[tokio::test]
async fn a_new_account_has_defaults_and_never_shows_its_token() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let user_id = api.get("/user", &token).await.ok()["id"].clone();

    let created = account(
        &api,
        &token,
        json!({ "service": "appmixer:slack", "token": { "accessToken": "xoxb-very-secret" } }),
    )
    .await;

    let id = created["accountId"].as_str().unwrap();
    assert_eq!(id.len(), 24);
    assert_eq!(created["name"], "appmixer:slack");
    assert_eq!(created["displayName"], json!(null));
    assert_eq!(created["service"], "appmixer:slack");
    assert_eq!(created["userId"], user_id);
    assert_eq!(created["profileInfo"], json!({}));
    assert!(created["icon"].as_str().unwrap().starts_with("data:"));
    assert!(created["label"].is_string());
    assert_eq!(created["revoked"], false);
    assert_eq!(created["pre"], json!({}));
    let listed = api.get("/accounts", &token).await;
    assert_eq!(listed.body, json!([created]));
    assert!(!listed.text.contains("xoxb-very-secret"));
    assert!(!created.to_string().contains("xoxb-very-secret"));
}

#[tokio::test]
async fn given_names_and_profile_are_kept() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let created = account(
        &api,
        &token,
        json!({ "service": "appmixer:slack", "token": {}, "name": "Team", "displayName": "Ours",
                "profileInfo": { "id": 7 } }),
    )
    .await;

    assert_eq!(created["name"], "Team");
    assert_eq!(created["displayName"], "Ours");
    assert_eq!(created["profileInfo"], json!({ "id": 7 }));
}

#[tokio::test]
async fn a_bad_account_body_or_query_is_refused_and_creates_nothing() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let bodies = [
        (json!({ "service": "slack", "token": {} }), "service"),
        (json!({ "service": ":slack", "token": {} }), "service"),
        (json!({ "service": "appmixer:slack" }), "token"),
        (
            json!({ "service": "appmixer:slack", "token": "t" }),
            "token",
        ),
        (json!({ "token": {} }), "service"),
        (
            json!({ "service": "a:b", "token": {}, "profileInfo": 1 }),
            "profileInfo",
        ),
    ];
    for (body, key) in bodies {
        api.post("/accounts", &token, body)
            .await
            .invalid("payload", key);
    }
    for query in ["validateScope=maybe", "requestProfileInfo=1"] {
        let key = query.split('=').next().unwrap();
        api.post(
            &format!("/accounts?{query}"),
            &token,
            json!({ "service": "a:b", "token": {} }),
        )
        .await
        .invalid("query", key);
    }

    assert_eq!(api.get("/accounts", &token).await.ok(), json!([]));
}

#[tokio::test]
async fn profile_and_scope_flags_are_accepted() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let answer = api
        .post(
            "/accounts?validateScope=false&requestProfileInfo=true",
            &token,
            json!({ "service": "a:b", "token": {} }),
        )
        .await;

    answer.ok();
}

#[tokio::test]
async fn filters_select_accounts_by_service_and_negate() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let slack = account(
        &api,
        &token,
        json!({ "service": "appmixer:slack", "token": {} }),
    )
    .await;
    let jira = account(
        &api,
        &token,
        json!({ "service": "appmixer:jira", "token": {} }),
    )
    .await;

    let only_slack = api
        .get("/accounts?filter=service:appmixer:slack", &token)
        .await
        .ok();
    let not_slack = api
        .get("/accounts?filter=service:!appmixer:slack", &token)
        .await
        .ok();

    assert_eq!(
        field_of(&only_slack, "accountId"),
        [slack["accountId"].clone()]
    );
    assert_eq!(
        field_of(&not_slack, "accountId"),
        [jira["accountId"].clone()]
    );
}

#[tokio::test]
async fn set_account_name_changes_display_name_with_an_empty_answer() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let created = account(&api, &token, json!({ "service": "a:b", "token": {} })).await;
    let id = created["accountId"].as_str().unwrap();

    let answer = api
        .put(
            &format!("/accounts/{id}"),
            &token,
            json!({ "displayName": "Marketing" }),
        )
        .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "");
    let listed = api.get("/accounts", &token).await.ok();
    assert_eq!(listed[0]["displayName"], "Marketing");
    api.put(
        &format!("/accounts/{id}"),
        &token,
        json!({ "displayName": 3 }),
    )
    .await
    .invalid("payload", "displayName");
    assert_eq!(
        api.get("/accounts", &token).await.ok()[0]["displayName"],
        "Marketing"
    );
}

#[tokio::test]
async fn an_assigned_account_lists_its_flow_and_marks_the_component() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let flow_id = slack_flow(&api, &token).await;
    let created = account(
        &api,
        &token,
        json!({ "service": "appmixer:slack", "token": {} }),
    )
    .await;
    let id = created["accountId"].as_str().unwrap();

    let assigned = api
        .put(&format!("/auth/component/send/{id}"), &token, json!({}))
        .await
        .ok();

    assert_eq!(assigned, json!({ "accountId": id, "componentId": "send" }));
    let flows = api.get(&format!("/accounts/{id}/flows"), &token).await.ok();
    assert_eq!(flows, json!([{ "flowId": flow_id, "name": "Slack flow" }]));
    let component = api
        .get(
            "/auth/appmixer.slack.list.SendChannelMessage?componentId=send",
            &token,
        )
        .await
        .ok();
    assert_eq!(
        component["componentType"],
        "appmixer.slack.list.SendChannelMessage"
    );
    assert_eq!(component["auth"]["accounts"][id]["componentAssigned"], true);
    assert_eq!(component["auth"]["accounts"][id]["componentId"], "send");
    let unassigned = api
        .get("/auth/appmixer.slack.list.SendChannelMessage", &token)
        .await
        .ok();
    assert_eq!(
        unassigned["auth"]["accounts"][id]["componentAssigned"],
        false
    );
}

#[tokio::test]
async fn a_component_holds_at_most_one_account() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    slack_flow(&api, &token).await;
    let first = account(
        &api,
        &token,
        json!({ "service": "appmixer:slack", "token": {} }),
    )
    .await;
    let second = account(
        &api,
        &token,
        json!({ "service": "appmixer:slack", "token": {} }),
    )
    .await;
    let (first, second) = (
        first["accountId"].as_str().unwrap(),
        second["accountId"].as_str().unwrap(),
    );

    api.put(&format!("/auth/component/send/{first}"), &token, json!({}))
        .await
        .ok();
    api.put(&format!("/auth/component/send/{second}"), &token, json!({}))
        .await
        .ok();

    let component = api
        .get(
            "/auth/appmixer.slack.list.SendChannelMessage?componentId=send",
            &token,
        )
        .await
        .ok();
    assert_eq!(
        component["auth"]["accounts"][first]["componentAssigned"],
        false
    );
    assert_eq!(
        component["auth"]["accounts"][second]["componentAssigned"],
        true
    );
    assert_eq!(
        api.get(&format!("/accounts/{first}/flows"), &token)
            .await
            .ok(),
        json!([])
    );
}

#[tokio::test]
async fn assignment_is_refused_for_wrong_services_and_foreign_components() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let other = api.user("joe").await;
    slack_flow(&api, &token).await;
    let jira = account(
        &api,
        &token,
        json!({ "service": "appmixer:jira", "token": {} }),
    )
    .await;
    let slack = account(
        &api,
        &token,
        json!({ "service": "appmixer:slack", "token": {} }),
    )
    .await;
    let joes = account(
        &api,
        &other,
        json!({ "service": "appmixer:slack", "token": {} }),
    )
    .await;
    let (jira, slack, joes) = (
        jira["accountId"].as_str().unwrap(),
        slack["accountId"].as_str().unwrap(),
        joes["accountId"].as_str().unwrap(),
    );

    api.put(&format!("/auth/component/send/{jira}"), &token, json!({}))
        .await
        .boom(400);
    api.put(&format!("/auth/component/start/{slack}"), &token, json!({}))
        .await
        .boom(400);
    // A component in none of the caller's flows: nothing to assign to.
    api.put(&format!("/auth/component/nope/{slack}"), &token, json!({}))
        .await
        .boom(404);
    api.put(&format!("/auth/component/send/{slack}"), &other, json!({}))
        .await
        .boom(404);
    api.put(&format!("/auth/component/send/{joes}"), &token, json!({}))
        .await
        .boom(404);

    assert_eq!(
        api.get(&format!("/accounts/{slack}/flows"), &token)
            .await
            .ok(),
        json!([])
    );
    assert_eq!(
        api.get(&format!("/accounts/{jira}/flows"), &token)
            .await
            .ok(),
        json!([])
    );
}

#[tokio::test]
async fn deleting_an_account_unassigns_it_and_stops_its_flows() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let flow_id = slack_flow(&api, &token).await;
    let created = account(
        &api,
        &token,
        json!({ "service": "appmixer:slack", "token": {} }),
    )
    .await;
    let id = created["accountId"].as_str().unwrap();
    api.put(&format!("/auth/component/send/{id}"), &token, json!({}))
        .await
        .ok();
    api.start_flow(&token, &flow_id).await;

    let answer = api.delete(&format!("/accounts/{id}"), &token).await.ok();

    assert_eq!(answer, json!({ "accountId": id }));
    let flow = api.get(&format!("/flows/{flow_id}"), &token).await.ok();
    assert_eq!(flow["stage"], "stopped");
    assert_eq!(api.get("/accounts", &token).await.ok(), json!([]));
    api.get(&format!("/accounts/{id}/flows"), &token)
        .await
        .boom(404);
}

#[tokio::test]
async fn deleting_a_flow_or_its_component_drops_the_assignment() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let kept = slack_flow(&api, &token).await;
    let deleted = slack_flow(&api, &token).await;
    let created = account(
        &api,
        &token,
        json!({ "service": "appmixer:slack", "token": {} }),
    )
    .await;
    let id = created["accountId"].as_str().unwrap();
    api.put(&format!("/auth/component/send/{id}"), &token, json!({}))
        .await
        .ok();
    assert_eq!(
        api.get(&format!("/accounts/{id}/flows"), &token)
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    api.delete(&format!("/flows/{deleted}"), &token).await.ok();
    let after_delete = api.get(&format!("/accounts/{id}/flows"), &token).await.ok();
    api.put(&format!("/flows/{kept}"), &token, json!({ "flow": {} }))
        .await
        .ok();
    let after_update = api.get(&format!("/accounts/{id}/flows"), &token).await.ok();

    assert_eq!(field_of(&after_delete, "flowId"), [json!(kept)]);
    assert_eq!(after_update, json!([]));
}

#[tokio::test]
async fn component_accounts_of_a_type_needing_nothing_are_empty() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    account(
        &api,
        &token,
        json!({ "service": "appmixer:utils", "token": {} }),
    )
    .await;

    let answer = api
        .get("/auth/appmixer.utils.controls.OnStart", &token)
        .await
        .ok();

    assert_eq!(
        answer,
        json!({ "componentType": "appmixer.utils.controls.OnStart", "auth": { "accounts": {} } })
    );
}

#[tokio::test]
async fn another_users_account_answers_like_an_unknown_one_and_stays_unchanged() {
    let api = Api::start().await;
    let owner = api.user("owner").await;
    let other = api.user("other").await;
    let created = account(&api, &owner, json!({ "service": "a:b", "token": {} })).await;
    let id = created["accountId"].as_str().unwrap();
    let unknown = "0123456789abcdef01234567";

    for target in [id, unknown] {
        let answers = [
            api.put(
                &format!("/accounts/{target}"),
                &other,
                json!({ "displayName": "x" }),
            )
            .await,
            api.delete(&format!("/accounts/{target}"), &other).await,
            api.get(&format!("/accounts/{target}/flows"), &other).await,
        ];
        for answer in answers {
            assert_eq!(answer.boom(404), "Account not found.");
        }
    }

    assert_eq!(api.get("/accounts", &owner).await.ok(), json!([created]));
    assert_eq!(api.get("/accounts", &other).await.ok(), json!([]));
    let seen = api.get("/auth/a.b.c.D", &other).await.ok();
    assert_eq!(keys(&seen["auth"]["accounts"]), Vec::<String>::new());
}

#[tokio::test]
async fn server_fields_in_an_account_body_are_refused_by_name() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let created = account(&api, &token, json!({ "service": "a:b", "token": {} })).await;
    let id = created["accountId"].as_str().unwrap();

    for field in ["accountId", "userId"] {
        let mut body = json!({ "service": "a:b", "token": {} });
        body[field] = json!("0123456789abcdef01234567");
        let message = api
            .post("/accounts", &token, body)
            .await
            .invalid("payload", field);
        assert!(message.contains(field), "{message}");
        let mut rename = json!({ "displayName": "Renamed" });
        rename[field] = json!("0123456789abcdef01234567");
        api.put(&format!("/accounts/{id}"), &token, rename)
            .await
            .invalid("payload", field);
    }

    assert_eq!(api.get("/accounts", &token).await.ok(), json!([created]));
}
