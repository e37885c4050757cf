//! Connected accounts and flow authentication.
//!
//! An `appmixer:slack` account is created with a token that is not real
//! (scope validation and profile lookup off, so no request reaches Slack)
//! and must never be echoed. It is found by a `service` filter, renamed,
//! and assigned to the `SendChannelMessage` component of a flow; then the
//! account's flows list that flow, the component type's accounts mark it
//! assigned, and the flow's authentication lists the component with its
//! service while leaving out the trigger, whose type needs no account; a
//! flow of nothing but such components has an empty authentication (200
//! with `{}`). Deleting the account removes it from the list.

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::scenarios::{ids_of, items};
use crate::session::{Session, Step};
use crate::transport::{Call, Exchange};

const SERVICE: &str = "appmixer:slack";
const COMPONENT_TYPE: &str = "appmixer.slack.list.SendChannelMessage";
const TRIGGER_TYPE: &str = "appmixer.utils.controls.OnStart";

fn leaks(exchange: &Exchange, secret: &str) -> bool {
    String::from_utf8_lossy(&exchange.response.body).contains(secret)
}

/// Creates, finds, renames, assigns and deletes an account.
pub async fn run(s: &mut Session) -> Step<()> {
    let secret = format!("xoxb-{}-not-a-real-token", s.tag);
    let name = s.name("slack account");
    let exchange = s
        .call(
            Call::new("createAccount")
                .query("validateScope", false)
                .query("requestProfileInfo", false)
                .body(json!({
                    "service": SERVICE,
                    "token": {"accessToken": secret, "scope": ["chat:write"]},
                    "name": name,
                })),
        )
        .await?;
    let account_id = s.require_str(
        "createAccount",
        "accounts.create-answers-account",
        &exchange,
        "/accountId",
    )?;
    s.created(Kind::Account, &account_id);
    let body = exchange.json_ref().unwrap_or(&Value::Null);
    s.expect_json(
        "createAccount",
        "accounts.create-keeps-service",
        Some(&exchange),
        &json!(SERVICE),
        body.get("service"),
    );
    s.expect(
        "createAccount",
        "accounts.token-never-returned",
        Some(&exchange),
        !leaks(&exchange, &secret),
        || "an answer without the account's token".into(),
        || "the token in the answer".into(),
    );

    let filter = format!("service:{SERVICE}");
    let exchange = s
        .call(Call::new("getAccounts").query("filter", &filter))
        .await?;
    let body = s.require_success("getAccounts", "accounts.list-succeeds", &exchange)?;
    let listed = items(&body);
    let services: Vec<Option<&str>> = listed
        .iter()
        .map(|a| a.get("service").and_then(Value::as_str))
        .collect();
    s.expect(
        "getAccounts",
        "accounts.filter-by-service",
        Some(&exchange),
        ids_of(listed, "accountId").contains(&account_id)
            && services.iter().all(|sv| *sv == Some(SERVICE)),
        || format!("only {SERVICE} accounts, {account_id} among them"),
        || format!("services {services:?}"),
    );
    s.expect(
        "getAccounts",
        "accounts.token-never-returned",
        Some(&exchange),
        !leaks(&exchange, &secret),
        || "a list without the account's token".into(),
        || "the token in the list".into(),
    );

    let display_name = s.name("slack account (renamed)");
    let exchange = s
        .call(
            Call::new("setAccountName")
                .path("accountId", &account_id)
                .body(json!({"displayName": display_name})),
        )
        .await?;
    s.require_success("setAccountName", "accounts.rename-succeeds", &exchange)?;
    let exchange = s
        .call(Call::new("getAccounts").query("filter", &filter))
        .await?;
    let body = s.require_success("getAccounts", "accounts.list-succeeds", &exchange)?;
    let renamed = items(&body)
        .iter()
        .find(|a| a.get("accountId").and_then(Value::as_str) == Some(account_id.as_str()))
        .and_then(|a| a.get("displayName"))
        .cloned();
    s.expect_json(
        "setAccountName",
        "accounts.rename-persists",
        Some(&exchange),
        &json!(display_name),
        renamed.as_ref(),
    );

    assignment(s, &account_id).await?;

    let exchange = s
        .call(Call::new("deleteAccount").path("accountId", &account_id))
        .await?;
    let body = s.require_success("deleteAccount", "accounts.delete-succeeds", &exchange)?;
    s.deleted(Kind::Account, &account_id);
    s.expect_json(
        "deleteAccount",
        "accounts.delete-answers-id",
        Some(&exchange),
        &json!(account_id),
        body.get("accountId"),
    );
    let exchange = s.call(Call::new("getAccounts")).await?;
    let body = s.require_success("getAccounts", "accounts.list-succeeds", &exchange)?;
    s.expect(
        "getAccounts",
        "accounts.list-after-delete-excludes",
        Some(&exchange),
        !ids_of(items(&body), "accountId").contains(&account_id),
        || format!("a list without {account_id}"),
        || "a list that still has it".into(),
    );
    Ok(())
}

async fn assignment(s: &mut Session, account_id: &str) -> Step<()> {
    let trigger = uuid::Uuid::new_v4().to_string();
    let sender = uuid::Uuid::new_v4().to_string();
    let flow_name = s.name("flow with a Slack component");
    let exchange = s
        .call(Call::new("createFlow").body(json!({
            "name": flow_name,
            "flow": {
                trigger.as_str(): {"type": TRIGGER_TYPE, "x": 0, "y": 0, "source": {}},
                sender.as_str(): {
                    "type": COMPONENT_TYPE,
                    "x": 200,
                    "y": 0,
                    "source": {"in": {trigger.as_str(): ["out"]}},
                    "config": {"properties": {"channelId": "C0000000000"}},
                },
            },
        })))
        .await?;
    let flow_id = s.require_str(
        "createFlow",
        "flows.create-answers-id",
        &exchange,
        "/flowId",
    )?;
    s.created(Kind::Flow, &flow_id);

    let exchange = s
        .call(
            Call::new("assignAccount")
                .path("componentId", &sender)
                .path("accountId", account_id),
        )
        .await?;
    let body = s.require_success("assignAccount", "accounts.assign-succeeds", &exchange)?;
    s.expect_json(
        "assignAccount",
        "accounts.assign-answers-ids",
        Some(&exchange),
        &json!({"accountId": account_id, "componentId": sender}),
        Some(&json!({"accountId": body.get("accountId"), "componentId": body.get("componentId")})),
    );

    let exchange = s
        .call(Call::new("getAccountFlows").path("accountId", account_id))
        .await?;
    let body = s.require_success("getAccountFlows", "accounts.flows-succeeds", &exchange)?;
    let entry = items(&body)
        .iter()
        .find(|f| f.get("flowId").and_then(Value::as_str) == Some(flow_id.as_str()))
        .cloned();
    s.expect_json(
        "getAccountFlows",
        "accounts.flows-lists-assigned-flow",
        Some(&exchange),
        &json!({"flowId": flow_id, "name": flow_name}),
        entry.as_ref(),
    );

    let exchange = s
        .call(
            Call::new("getComponentAccounts")
                .path("componentType", COMPONENT_TYPE)
                .query("componentId", &sender),
        )
        .await?;
    let body = s.require_success(
        "getComponentAccounts",
        "accounts.component-accounts-succeeds",
        &exchange,
    )?;
    s.expect_json(
        "getComponentAccounts",
        "accounts.component-accounts-names-type",
        Some(&exchange),
        &json!(COMPONENT_TYPE),
        body.get("componentType"),
    );
    let assigned = body.pointer(&format!("/auth/accounts/{account_id}/componentAssigned"));
    s.expect_json(
        "getComponentAccounts",
        "accounts.component-accounts-marks-assigned",
        Some(&exchange),
        &json!(true),
        assigned,
    );

    let exchange = s
        .call(Call::new("getFlowAuthentication").path("flowId", &flow_id))
        .await?;
    let body = s.require_success("getFlowAuthentication", "flow-auth.succeeds", &exchange)?;
    let entry = body.get(&sender);
    s.expect_json(
        "getFlowAuthentication",
        "flow-auth.lists-component-with-service",
        Some(&exchange),
        &json!({"componentId": sender, "componentType": COMPONENT_TYPE, "service": SERVICE}),
        Some(&json!({
            "componentId": entry.and_then(|e| e.get("componentId")),
            "componentType": entry.and_then(|e| e.get("componentType")),
            "service": entry.and_then(|e| e.get("service")),
        })),
    );
    let offers_account = entry
        .and_then(|e| e.pointer(&format!("/accounts/{account_id}")))
        .is_some();
    s.expect(
        "getFlowAuthentication",
        "flow-auth.lists-user-accounts",
        Some(&exchange),
        offers_account,
        || format!("account {account_id} among the component's accounts"),
        || "no such account there".into(),
    );
    s.expect(
        "getFlowAuthentication",
        "flow-auth.leaves-out-components-without-auth",
        Some(&exchange),
        body.get(&trigger).is_none(),
        || format!("no entry for the {TRIGGER_TYPE} component"),
        || "an entry for it".into(),
    );

    let exchange = s
        .call(Call::new("deleteFlow").path("flowId", &flow_id))
        .await?;
    if exchange.is_success() {
        s.deleted(Kind::Flow, &flow_id);
    }
    without_accounts(s).await
}

/// A flow whose components need no account has an empty authentication.
async fn without_accounts(s: &mut Session) -> Step<()> {
    let trigger = uuid::Uuid::new_v4().to_string();
    let exchange = s
        .call(Call::new("createFlow").body(json!({
            "name": s.name("flow without accounts"),
            "flow": {trigger.as_str(): {"type": TRIGGER_TYPE, "x": 0, "y": 0, "source": {}}},
        })))
        .await?;
    let flow_id = s.require_str(
        "createFlow",
        "flows.create-answers-id",
        &exchange,
        "/flowId",
    )?;
    s.created(Kind::Flow, &flow_id);

    let exchange = s
        .call(Call::new("getFlowAuthentication").path("flowId", &flow_id))
        .await?;
    let body = s.require_success("getFlowAuthentication", "flow-auth.succeeds", &exchange)?;
    s.expect_json(
        "getFlowAuthentication",
        "flow-auth.empty-without-components-that-need-accounts",
        Some(&exchange),
        &json!({}),
        Some(&body),
    );

    let exchange = s
        .call(Call::new("deleteFlow").path("flowId", &flow_id))
        .await?;
    if exchange.is_success() {
        s.deleted(Kind::Flow, &flow_id);
    }
    Ok(())
}
