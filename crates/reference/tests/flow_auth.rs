//! Flow authentication: the rule that names the service a component type
//! needs, and which accounts each component is offered.

mod common;

use common::{Api, keys};
use serde_json::json;

#[tokio::test]
async fn the_service_comes_from_the_type_name() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let flow_id = api
        .flow(
            &token,
            json!({ "name": "n", "flow": {
            "short": { "type": "appmixer.slack.Send" },
            "hook": { "type": "appmixer.utils.http.Webhook" },
            "ftp": { "type": "appmixer.utils.ftp.Upload" },
            "crm": { "type": "acme.crm.contacts.CreateContact" },
            "slack": { "type": "appmixer.slack.list.SendChannelMessage" },
        } }),
        )
        .await;

    let answer = api.get(&format!("/auth/flow/{flow_id}"), &token).await.ok();

    assert_eq!(keys(&answer), ["ftp", "crm", "slack"]);
    assert_eq!(answer["ftp"]["service"], "appmixer:utils:ftp");
    assert_eq!(answer["crm"]["service"], "acme:crm");
    assert_eq!(answer["slack"]["service"], "appmixer:slack");
    assert_eq!(
        answer["slack"]["componentType"],
        "appmixer.slack.list.SendChannelMessage"
    );
}

#[tokio::test]
async fn components_are_offered_only_the_callers_accounts_of_their_service() {
    let api = Api::start().await;
    let jane = api.user("jane").await;
    let joe = api.user("joe").await;
    let flow_id = api
        .flow(
            &jane,
            json!({ "name": "n", "flow": { "c": { "type": "appmixer.slack.list.Send" } } }),
        )
        .await;
    let mine = api
        .post(
            "/accounts",
            &jane,
            json!({ "service": "appmixer:slack", "token": { "scope": ["chat:write"] } }),
        )
        .await
        .ok();
    api.post(
        "/accounts",
        &joe,
        json!({ "service": "appmixer:slack", "token": {} }),
    )
    .await
    .ok();

    let answer = api.get(&format!("/auth/flow/{flow_id}"), &jane).await.ok();

    let account_id = mine["accountId"].as_str().unwrap();
    assert_eq!(keys(&answer["c"]["accounts"]), [account_id]);
    let entry = &answer["c"]["accounts"][account_id];
    assert_eq!(entry["accountId"], account_id);
    assert_eq!(entry["name"], "appmixer:slack");
    assert_eq!(entry["displayName"], json!(null));
    assert_eq!(entry["accessTokenValid"], true);
    assert_eq!(entry["scopeValid"], true);
    assert_eq!(entry["authorizedScope"], json!(["chat:write"]));
    assert_eq!(entry["componentAssigned"], false);
    assert_eq!(entry["tokenId"].as_str().unwrap().len(), 24);
}

#[tokio::test]
async fn a_flow_without_connectors_needs_nothing() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let flow_id = api.flow(&token, json!({ "name": "n" })).await;

    let answer = api.get(&format!("/auth/flow/{flow_id}"), &token).await.ok();

    assert_eq!(answer, json!({}));
}

#[tokio::test]
async fn flow_authentication_of_an_unknown_flow_is_404() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let answer = api
        .get(&format!("/auth/flow/{}", uuid::Uuid::new_v4()), &token)
        .await;

    assert_eq!(answer.boom(404), "Flow not found.");
}
