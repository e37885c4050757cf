//! Connected accounts and their use by components, and the accounts a flow's
//! components need.

use appmixer_client::types;
use serde_json::json;

use crate::{Call, call, common};

const ACCOUNT_ID: &str = "5a6e21f3b266224186ac7d03";
const COMPONENT_ID: &str = "e25dc901-f92a-46a2-8d29-2573d4ad65e5";
const FLOW_ID: &str = "9089f275-f5a5-4796-ba23-365412c5666e";

pub fn calls() -> Vec<Call> {
    vec![
        call!("getAccounts", GET "/accounts", |c| c.get_accounts()),
        call!("createAccount", POST "/accounts", |c| c
            .create_account()
            .body(types::AccountCreate::builder()
                .service("appmixer:slack")
                .token(serde_json::Map::new()))),
        call!("setAccountName", PUT "/accounts/a1", |c| c
            .set_account_name()
            .account_id("a1")
            .body(types::AccountName::builder().display_name("d"))),
        call!("deleteAccount", DELETE "/accounts/a1", |c| c.delete_account().account_id("a1")),
        call!("getAccountFlows", GET "/accounts/a1/flows", |c| c
            .get_account_flows()
            .account_id("a1")),
        call!("assignAccount", PUT "/auth/component/c1/a1", |c| c
            .assign_account()
            .component_id("c1")
            .account_id("a1")),
        call!("getFlowAuthentication", GET "/auth/flow/f1", |c| c
            .get_flow_authentication()
            .flow_id("f1")),
        call!("getComponentAccounts", GET "/auth/appmixer.slack.list.SendChannelMessage", |c| c
            .get_component_accounts()
            .component_type("appmixer.slack.list.SendChannelMessage")),
    ]
}

#[tokio::test]
async fn get_accounts_repeats_filters_whose_values_hold_colons() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/accounts").is_true(|request| {
                common::query_is(
                    request,
                    &[
                        ("filter", "service:appmixer:slack"),
                        ("filter", "revoked:!true"),
                    ],
                )
            });
            then.status(200).json_body(json!([{
                "accountId": ACCOUNT_ID, "name": "Team workspace", "displayName": null,
                "service": "appmixer:slack", "profileInfo": {"team": "acme"}
            }]));
        })
        .await;
    let client = common::client(&server);

    let accounts = client
        .get_accounts()
        .filter(vec![
            String::from("service:appmixer:slack"),
            String::from("revoked:!true"),
        ])
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(accounts[0].account_id, ACCOUNT_ID);
    assert_eq!(accounts[0].display_name, None);
    assert_eq!(accounts[0].profile_info["team"], "acme");
}

#[tokio::test]
async fn create_account_sends_params_as_query_and_data_as_body() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/accounts")
                .is_true(|request| {
                    common::query_is(
                        request,
                        &[("validateScope", "false"), ("requestProfileInfo", "true")],
                    )
                })
                .json_body(json!({
                    "service": "appmixer:slack",
                    "token": {"accessToken": "xoxb-not-a-real-token"},
                    "name": "Team workspace"
                }));
            then.status(200).json_body(json!({
                "accountId": ACCOUNT_ID, "service": "appmixer:slack", "name": "Team workspace"
            }));
        })
        .await;
    let client = common::client(&server);
    let token =
        serde_json::Map::from_iter([(String::from("accessToken"), json!("xoxb-not-a-real-token"))]);

    let account = client
        .create_account()
        .validate_scope(false)
        .request_profile_info(true)
        .body(
            types::AccountCreate::builder()
                .service("appmixer:slack")
                .token(token)
                .name(Some(String::from("Team workspace"))),
        )
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(account.name.as_deref(), Some("Team workspace"));
}

#[tokio::test]
async fn set_account_name_accepts_an_empty_body() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path(format!("/accounts/{ACCOUNT_ID}"))
                .json_body(json!({"displayName": "Marketing workspace"}));
            then.status(200);
        })
        .await;
    let client = common::client(&server);

    let answer = client
        .set_account_name()
        .account_id(ACCOUNT_ID)
        .body(types::AccountName::builder().display_name("Marketing workspace"))
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(answer.status().as_u16(), 200);
}

#[tokio::test]
async fn delete_account_decodes_the_id() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("DELETE")
                .path(format!("/accounts/{ACCOUNT_ID}"));
            then.status(200).json_body(json!({"accountId": ACCOUNT_ID}));
        })
        .await;
    let client = common::client(&server);

    let deleted = client
        .delete_account()
        .account_id(ACCOUNT_ID)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(deleted.account_id, ACCOUNT_ID);
}

#[tokio::test]
async fn get_account_flows_decodes_the_flows() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(format!("/accounts/{ACCOUNT_ID}/flows"));
            then.status(200)
                .json_body(json!([{"flowId": FLOW_ID, "name": "New contacts to Slack"}]));
        })
        .await;
    let client = common::client(&server);

    let flows = client
        .get_account_flows()
        .account_id(ACCOUNT_ID)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(flows[0].flow_id.to_string(), FLOW_ID);
    assert_eq!(flows[0].name, "New contacts to Slack");
}

#[tokio::test]
async fn assign_account_puts_without_a_body() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path(format!("/auth/component/{COMPONENT_ID}/{ACCOUNT_ID}"))
                .body("");
            then.status(200)
                .json_body(json!({"accountId": ACCOUNT_ID, "componentId": COMPONENT_ID}));
        })
        .await;
    let client = common::client(&server);

    let assignment = client
        .assign_account()
        .component_id(COMPONENT_ID)
        .account_id(ACCOUNT_ID)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(assignment.component_id, COMPONENT_ID);
}

#[tokio::test]
async fn get_flow_authentication_decodes_components_by_id() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path(format!("/auth/flow/{FLOW_ID}"));
            then.status(200).json_body(json!({
                COMPONENT_ID: {
                    "componentId": COMPONENT_ID,
                    "componentType": "appmixer.slack.list.SendChannelMessage",
                    "service": "appmixer:slack",
                    "accounts": {ACCOUNT_ID: {"accountId": ACCOUNT_ID, "accessTokenValid": true}}
                }
            }));
        })
        .await;
    let client = common::client(&server);

    let components = client
        .get_flow_authentication()
        .flow_id(FLOW_ID)
        .send()
        .await
        .unwrap()
        .into_inner();

    mock.assert_async().await;
    let component = &components[COMPONENT_ID];
    assert_eq!(component.service, "appmixer:slack");
    assert_eq!(
        component.accounts[ACCOUNT_ID].access_token_valid,
        Some(true)
    );
}

#[tokio::test]
async fn get_component_accounts_keeps_the_dotted_type_in_one_segment() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/auth/appmixer.slack.list.SendChannelMessage")
                .query_param("componentId", COMPONENT_ID);
            then.status(200).json_body(json!({
                "componentType": "appmixer.slack.list.SendChannelMessage",
                "auth": {"accounts": {ACCOUNT_ID: {
                    "accountId": ACCOUNT_ID, "componentAssigned": true,
                    "componentId": COMPONENT_ID, "authorizedScope": ["chat:write"]
                }}}
            }));
        })
        .await;
    let client = common::client(&server);

    let accounts = client
        .get_component_accounts()
        .component_type("appmixer.slack.list.SendChannelMessage")
        .component_id(COMPONENT_ID)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    let account = &accounts.auth.accounts[ACCOUNT_ID];
    assert_eq!(account.component_assigned, Some(true));
    assert_eq!(account.authorized_scope, ["chat:write"]);
}
