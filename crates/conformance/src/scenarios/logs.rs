//! Logs: a message sent to a running flow can be found and read back.
//!
//! A flow with a webhook trigger is started and sent a message through
//! `sendComponentMessage`, without a token as webhooks are called. `getLogs`
//! with `query=+flowId:ID` must then find an entry for the component (real
//! engines index asynchronously, so the search is repeated a few times, with
//! growing pauses, before it counts as failed), every hit must belong to the
//! flow, the `flowId` parameter must find the same entry and, once a second
//! flow has logged a message too, only entries of the flow it names; and
//! `getLog` with the entry's `_index` and `_id` must return the message that
//! was sent. Once the flow is stopped, a message to it is refused.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::scenarios::items;
use crate::session::{Session, StatusRule, Step};
use crate::transport::{Call, Exchange};

/// How many times the search is tried before the entry counts as missing.
const SEARCH_ATTEMPTS: u32 = 8;

/// The pause before the second search; each later one waits this much longer.
const SEARCH_PAUSE: Duration = Duration::from_millis(250);

const WEBHOOK_TYPE: &str = "appmixer.utils.http.Webhook";

/// Sends a message to a running flow and finds it in the logs.
pub async fn run(s: &mut Session) -> Step<()> {
    let webhook = uuid::Uuid::new_v4().to_string();
    let exchange = s
        .call(Call::new("createFlow").body(json!({
            "name": s.name("flow for logs"),
            "flow": {webhook.as_str(): {"type": WEBHOOK_TYPE, "x": 0, "y": 0, "source": {}}},
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
            Call::new("sendFlowCommand")
                .path("flowId", &flow_id)
                .body(json!({"command": "start"})),
        )
        .await?;
    s.require_success("sendFlowCommand", "flows.start-succeeds", &exchange)?;

    let message =
        json!({"probe": s.tag, "text": "hello 𝄞", "total": 125.5, "items": [1, null, true]});
    let exchange = s
        .call(
            Call::new("sendComponentMessage")
                .path("flowId", &flow_id)
                .path("componentId", &webhook)
                .body(message.clone()),
        )
        .await?;
    let body = s.require_success("sendComponentMessage", "flows.message-accepted", &exchange)?;
    s.expect_json(
        "sendComponentMessage",
        "flows.message-answers-ids",
        Some(&exchange),
        &json!({"flowId": flow_id, "componentId": webhook}),
        Some(&json!({"flowId": body.get("flowId"), "componentId": body.get("componentId")})),
    );

    let (exchange, hit) = search(s, &flow_id, &webhook).await?;
    let found = s.expect(
        "getLogs",
        "logs.search-finds-message",
        Some(&exchange),
        hit.is_some(),
        || format!("an entry of component {webhook} for `+flowId:{flow_id}`"),
        || format!("none after {SEARCH_ATTEMPTS} searches"),
    );
    let hits = exchange
        .json()
        .map(|b| b.get("hits").cloned().unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    let strays: Vec<&Value> = items(&hits)
        .iter()
        .filter(|h| h.get("flowId").and_then(Value::as_str) != Some(flow_id.as_str()))
        .collect();
    s.expect(
        "getLogs",
        "logs.search-is-scoped-to-flow",
        Some(&exchange),
        strays.is_empty(),
        || format!("only entries of flow {flow_id}"),
        || format!("{} entries of other flows", strays.len()),
    );

    if let (true, Some(hit)) = (found, hit) {
        let index = hit
            .get("_index")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let log_id = hit
            .get("_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();

        // Another flow's entry, which a search by `flowId` must leave out.
        let (other_flow, other_entry) = other_flow_entry(s).await?;
        let exchange = s
            .call(Call::new("getLogs").query("flowId", &flow_id))
            .await?;
        let body = s.require_success("getLogs", "logs.search-succeeds", &exchange)?;
        let hits = items(body.get("hits").unwrap_or(&Value::Null));
        let ids: Vec<&str> = hits
            .iter()
            .filter_map(|h| h.get("_id").and_then(Value::as_str))
            .collect();
        s.expect(
            "getLogs",
            "logs.flow-filter-finds-message",
            Some(&exchange),
            ids.contains(&log_id.as_str()),
            || format!("entry {log_id} for `flowId={flow_id}`"),
            || format!("entries {ids:?}"),
        );
        if let (Some(other_flow), Some(other_id)) = (&other_flow, &other_entry) {
            let strays: Vec<&str> = hits
                .iter()
                .filter(|h| h.get("flowId").and_then(Value::as_str) != Some(flow_id.as_str()))
                .filter_map(|h| h.get("_id").and_then(Value::as_str))
                .collect();
            s.expect(
                "getLogs",
                "logs.flow-filter-is-scoped-to-flow",
                Some(&exchange),
                strays.is_empty() && !ids.contains(&other_id.as_str()),
                || format!("only entries of flow {flow_id}, not {other_id} of flow {other_flow}"),
                || format!("entries of other flows too: {strays:?}"),
            );
        }
        if let Some(other_flow) = other_flow {
            let deleted = s
                .call(Call::new("deleteFlow").path("flowId", &other_flow))
                .await?;
            if deleted.is_success() {
                s.deleted(Kind::Flow, &other_flow);
            }
        }

        let exchange = s
            .call(
                Call::new("getLog")
                    .path("index", &index)
                    .path("logId", &log_id),
            )
            .await?;
        let body = s.require_success("getLog", "logs.get-succeeds", &exchange)?;
        s.expect_json(
            "getLog",
            "logs.get-returns-entry",
            Some(&exchange),
            &json!({"_index": index, "_id": log_id}),
            Some(&json!({"_index": body.get("_index"), "_id": body.get("_id")})),
        );
        s.expect_json(
            "getLog",
            "logs.get-returns-message",
            Some(&exchange),
            &message,
            body.pointer("/_source/msg"),
        );
    }

    let exchange = s
        .call(
            Call::new("sendFlowCommand")
                .path("flowId", &flow_id)
                .body(json!({"command": "stop"})),
        )
        .await?;
    s.require_success("sendFlowCommand", "flows.stop-succeeds", &exchange)?;
    let exchange = s
        .call(
            Call::new("sendComponentMessage")
                .path("flowId", &flow_id)
                .path("componentId", &webhook)
                .body(json!({"probe": "after stop"})),
        )
        .await?;
    s.expect_status(
        "sendComponentMessage",
        "flows.message-to-stopped-flow-refused",
        &exchange,
        StatusRule::ClientError,
    );

    let exchange = s
        .call(Call::new("deleteFlow").path("flowId", &flow_id))
        .await?;
    if exchange.is_success() {
        s.deleted(Kind::Flow, &flow_id);
    }
    Ok(())
}

/// Creates and starts a second flow, sends it a message and waits for its
/// entry: the flow, if it was created, and the entry's `_id`, if it logged.
async fn other_flow_entry(s: &mut Session) -> Step<(Option<String>, Option<String>)> {
    let webhook = uuid::Uuid::new_v4().to_string();
    let exchange = s
        .call(Call::new("createFlow").body(json!({
            "name": s.name("second flow for logs"),
            "flow": {webhook.as_str(): {"type": WEBHOOK_TYPE, "x": 0, "y": 0, "source": {}}},
        })))
        .await?;
    let Some(flow_id) = exchange
        .is_success()
        .then(|| exchange.str_at("/flowId"))
        .flatten()
    else {
        return Ok((None, None));
    };
    s.created(Kind::Flow, &flow_id);
    let started = s
        .call(
            Call::new("sendFlowCommand")
                .path("flowId", &flow_id)
                .body(json!({"command": "start"})),
        )
        .await?;
    let mut entry = None;
    if started.is_success() {
        let sent = s
            .call(
                Call::new("sendComponentMessage")
                    .path("flowId", &flow_id)
                    .path("componentId", &webhook)
                    .body(json!({"probe": "the second flow"})),
            )
            .await?;
        if sent.is_success() {
            let (_, hit) = search(s, &flow_id, &webhook).await?;
            entry = hit.and_then(|hit| hit.get("_id").and_then(Value::as_str).map(str::to_string));
        }
    }
    Ok((Some(flow_id), entry))
}

/// Searches the flow's logs until an entry of `component` shows up.
async fn search(
    s: &mut Session,
    flow_id: &str,
    component: &str,
) -> Step<(Exchange, Option<Value>)> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let exchange = s
            .call(
                Call::new("getLogs")
                    .query("query", format!("+flowId:{flow_id}"))
                    .query("sort", "@timestamp:desc"),
            )
            .await?;
        let body = s.require_success("getLogs", "logs.search-succeeds", &exchange)?;
        let hit = items(body.get("hits").unwrap_or(&Value::Null))
            .iter()
            .find(|h| h.get("componentId").and_then(Value::as_str) == Some(component))
            .cloned();
        if hit.is_some() || attempt >= SEARCH_ATTEMPTS {
            return Ok((exchange, hit));
        }
        tokio::time::sleep(SEARCH_PAUSE * attempt).await;
    }
}
