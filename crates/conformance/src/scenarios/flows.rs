//! Flows: the lifecycle of one flow and its clone.
//!
//! Create → get (the fields come back as sent, the flow is `stopped`) →
//! update (name and descriptor) → get reflects it → start → `running` →
//! start again changes nothing → update without `forceUpdate` is refused and
//! changes nothing, with `forceUpdate=true` it is accepted → stop →
//! `stopped` → stop again changes nothing → clone (new id, same descriptor,
//! `stopped`) → `getFlows`/`getFlowsCount` with the run tag as `pattern` find
//! exactly the run's flows → delete both → get, delete and update of a
//! deleted flow answer 404, and the list no longer has them.

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::scenarios::{ids_of, items};
use crate::session::{Session, StatusRule, Step};
use crate::transport::{Call, Exchange};

/// A small descriptor: a webhook trigger feeding a condition.
fn first_descriptor(trigger: &str, condition: &str) -> Value {
    json!({
        trigger: {
            "type": "appmixer.utils.http.Webhook",
            "label": "Incoming order",
            "x": 80,
            "y": -40,
            "source": {},
            "config": {"properties": {"immediateResponse": true}},
        },
        condition: {
            "type": "appmixer.utils.controls.Condition",
            "x": 320,
            "y": -40,
            "version": "1.0.0",
            "source": {"in": {trigger: ["out"]}},
            "config": {
                "transform": {"in": {trigger: {"out": {
                    "type": "json2new",
                    "modifiers": {},
                    "lambda": {"expression": {"AND": [{"field": "{{{total}}}", "expected": 100}]}},
                }}}},
            },
        },
    })
}

/// The descriptor after the update: the condition moved, a label changed.
fn second_descriptor(trigger: &str, condition: &str) -> Value {
    let mut descriptor = first_descriptor(trigger, condition);
    descriptor[condition]["x"] = json!(480);
    descriptor[condition]["label"] = json!("Big orders 🧾");
    descriptor[trigger]["config"]["properties"]["immediateResponse"] = json!(false);
    descriptor
}

/// Reads a flow, requiring a 2xx JSON answer.
async fn read(s: &mut Session, flow_id: &str) -> Step<(Exchange, Value)> {
    let exchange = s.call(Call::new("getFlow").path("flowId", flow_id)).await?;
    let body = s.require_success("getFlow", "flows.get-finds-flow", &exchange)?;
    Ok((exchange, body))
}

/// Expects each field of `sent` to come back unchanged in `body`.
fn expect_fields(
    s: &mut Session,
    operation: &str,
    expectation: &str,
    exchange: &Exchange,
    sent: &Value,
    body: &Value,
) {
    let echoed: serde_json::Map<String, Value> = sent
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, _)| body.get(key).map(|value| (key.clone(), value.clone())))
        .collect();
    s.expect_json(
        operation,
        expectation,
        Some(exchange),
        sent,
        Some(&Value::Object(echoed)),
    );
}

fn expect_stage(
    s: &mut Session,
    operation: &str,
    expectation: &str,
    exchange: &Exchange,
    body: &Value,
    stage: &str,
) {
    s.expect_json(
        operation,
        expectation,
        Some(exchange),
        &json!(stage),
        body.get("stage"),
    );
}

async fn command(s: &mut Session, flow_id: &str, command: &str, expectation: &str) -> Step<()> {
    let exchange = s
        .call(
            Call::new("sendFlowCommand")
                .path("flowId", flow_id)
                .body(json!({"command": command})),
        )
        .await?;
    let body = s.require_success("sendFlowCommand", expectation, &exchange)?;
    s.expect_json(
        "sendFlowCommand",
        "flows.command-answers-id",
        Some(&exchange),
        &json!(flow_id),
        body.get("flowId"),
    );
    Ok(())
}

/// Walks one flow and its clone through their lifecycle.
pub async fn run(s: &mut Session) -> Step<()> {
    let trigger = uuid::Uuid::new_v4().to_string();
    let condition = uuid::Uuid::new_v4().to_string();
    let created = json!({
        "name": s.name("flows lifecycle"),
        "flow": first_descriptor(&trigger, &condition),
        "customFields": {"conformanceRun": s.tag, "category": "conformance"},
    });

    let exchange = s
        .call(Call::new("createFlow").body(created.clone()))
        .await?;
    let flow_id = s.require_str(
        "createFlow",
        "flows.create-answers-id",
        &exchange,
        "/flowId",
    )?;
    s.created(Kind::Flow, &flow_id);

    let (exchange, body) = read(s, &flow_id).await?;
    s.expect_json(
        "getFlow",
        "flows.get-answers-id",
        Some(&exchange),
        &json!(flow_id),
        body.get("flowId"),
    );
    expect_fields(
        s,
        "createFlow",
        "flows.create-persists",
        &exchange,
        &created,
        &body,
    );
    expect_stage(
        s,
        "createFlow",
        "flows.new-flow-is-stopped",
        &exchange,
        &body,
        "stopped",
    );

    // Name and descriptor change; customFields are not named and must stay.
    let update = json!({
        "name": s.name("flows lifecycle (renamed)"),
        "flow": second_descriptor(&trigger, &condition),
    });
    let exchange = s
        .call(
            Call::new("updateFlow")
                .path("flowId", &flow_id)
                .body(update.clone()),
        )
        .await?;
    let body = s.require_success("updateFlow", "flows.update-succeeds", &exchange)?;
    s.expect_json(
        "updateFlow",
        "flows.update-answers-updated",
        Some(&exchange),
        &json!({"flowId": flow_id, "result": "updated"}),
        Some(&json!({"flowId": body.get("flowId"), "result": body.get("result")})),
    );
    let (exchange, body) = read(s, &flow_id).await?;
    expect_fields(
        s,
        "updateFlow",
        "flows.update-persists",
        &exchange,
        &update,
        &body,
    );
    s.expect_json(
        "updateFlow",
        "flows.update-keeps-other-fields",
        Some(&exchange),
        &created["customFields"],
        body.get("customFields"),
    );

    command(s, &flow_id, "start", "flows.start-succeeds").await?;
    let (exchange, body) = read(s, &flow_id).await?;
    expect_stage(
        s,
        "sendFlowCommand",
        "flows.start-sets-running",
        &exchange,
        &body,
        "running",
    );
    command(s, &flow_id, "start", "flows.start-twice-succeeds").await?;
    let (exchange, body) = read(s, &flow_id).await?;
    expect_stage(
        s,
        "sendFlowCommand",
        "flows.start-is-idempotent",
        &exchange,
        &body,
        "running",
    );

    let refused_name = s.name("flows lifecycle (must not stick)");
    let exchange = s
        .call(
            Call::new("updateFlow")
                .path("flowId", &flow_id)
                .body(json!({"name": refused_name})),
        )
        .await?;
    s.expect_status(
        "updateFlow",
        "flows.update-running-needs-force",
        &exchange,
        StatusRule::ClientError,
    );
    let (exchange, body) = read(s, &flow_id).await?;
    s.expect_json(
        "updateFlow",
        "flows.refused-update-changes-nothing",
        Some(&exchange),
        &update["name"],
        body.get("name"),
    );

    let forced_name = s.name("flows lifecycle (forced)");
    let exchange = s
        .call(
            Call::new("updateFlow")
                .path("flowId", &flow_id)
                .query("forceUpdate", true)
                .body(json!({"name": forced_name})),
        )
        .await?;
    s.require_success("updateFlow", "flows.forced-update-succeeds", &exchange)?;
    let (exchange, body) = read(s, &flow_id).await?;
    s.expect_json(
        "updateFlow",
        "flows.forced-update-persists",
        Some(&exchange),
        &json!(forced_name),
        body.get("name"),
    );

    command(s, &flow_id, "stop", "flows.stop-succeeds").await?;
    let (exchange, body) = read(s, &flow_id).await?;
    expect_stage(
        s,
        "sendFlowCommand",
        "flows.stop-sets-stopped",
        &exchange,
        &body,
        "stopped",
    );
    command(s, &flow_id, "stop", "flows.stop-twice-succeeds").await?;
    let (exchange, body) = read(s, &flow_id).await?;
    expect_stage(
        s,
        "sendFlowCommand",
        "flows.stop-is-idempotent",
        &exchange,
        &body,
        "stopped",
    );
    let descriptor = body.get("flow").cloned().unwrap_or(Value::Null);

    let exchange = s
        .call(
            Call::new("cloneFlow")
                .path("flowId", &flow_id)
                .body(json!({})),
        )
        .await?;
    let clone_id = s.require_str("cloneFlow", "flows.clone-answers-id", &exchange, "/cloneId")?;
    s.created(Kind::Flow, &clone_id);
    s.expect(
        "cloneFlow",
        "flows.clone-new-id",
        Some(&exchange),
        clone_id != flow_id,
        || format!("an id other than {flow_id}"),
        || clone_id.clone(),
    );
    let (exchange, body) = read(s, &clone_id).await?;
    s.expect_json(
        "cloneFlow",
        "flows.clone-same-descriptor",
        Some(&exchange),
        &descriptor,
        body.get("flow"),
    );
    expect_stage(
        s,
        "cloneFlow",
        "flows.clone-is-stopped",
        &exchange,
        &body,
        "stopped",
    );

    // Both carry the lifecycle's customFields: given to the first, copied
    // to its clone.
    check_listing(s, &[&flow_id, &clone_id]).await?;

    for id in [&flow_id, &clone_id] {
        let exchange = s.call(Call::new("deleteFlow").path("flowId", id)).await?;
        let body = s.require_success("deleteFlow", "flows.delete-succeeds", &exchange)?;
        s.deleted(Kind::Flow, id);
        s.expect_json(
            "deleteFlow",
            "flows.delete-answers-id",
            Some(&exchange),
            &json!(id),
            body.get("flowId"),
        );
        let exchange = s.call(Call::new("getFlow").path("flowId", id)).await?;
        s.expect_status(
            "getFlow",
            "flows.get-after-delete-is-404",
            &exchange,
            StatusRule::Exactly(404),
        );
    }

    let exchange = s
        .call(Call::new("deleteFlow").path("flowId", &flow_id))
        .await?;
    s.expect_status(
        "deleteFlow",
        "flows.delete-unknown-is-404",
        &exchange,
        StatusRule::Exactly(404),
    );
    let exchange = s
        .call(
            Call::new("updateFlow")
                .path("flowId", &flow_id)
                .body(json!({"name": s.name("flows lifecycle (deleted)")})),
        )
        .await?;
    if exchange.is_success() {
        // A server that creates on PUT now holds a flow under this id.
        s.created(Kind::Flow, &flow_id);
    }
    s.expect_status(
        "updateFlow",
        "flows.update-unknown-is-404",
        &exchange,
        StatusRule::Exactly(404),
    );

    let exchange = s
        .call(Call::new("getFlows").query("pattern", s.tag.clone()))
        .await?;
    let body = s.require_success("getFlows", "flows.list-succeeds", &exchange)?;
    let listed = ids_of(items(&body), "flowId");
    let gone: Vec<&String> = listed
        .iter()
        .filter(|id| **id == flow_id || **id == clone_id)
        .collect();
    s.expect(
        "getFlows",
        "flows.list-after-delete-excludes",
        Some(&exchange),
        gone.is_empty(),
        || "neither deleted flow".into(),
        || format!("{gone:?} still listed"),
    );
    Ok(())
}

/// `getFlows` and `getFlowsCount` with the run tag find exactly the run's
/// live flows, and the filter on the lifecycle's customFields exactly the
/// flows that carry them, `with_fields`: other live flows of the run (an
/// isolation fixture's, left when its phase stopped early) have the tag in
/// their names but not those fields.
async fn check_listing(s: &mut Session, with_fields: &[&str]) -> Step<()> {
    let tag = s.tag.clone();
    let mut expected = s.ledger.alive(Kind::Flow);
    expected.sort();
    let mut matching: Vec<&str> = with_fields.to_vec();
    matching.sort_unstable();

    let exchange = s.call(Call::new("getFlows").query("pattern", &tag)).await?;
    let body = s.require_success("getFlows", "flows.list-succeeds", &exchange)?;
    let mut listed = ids_of(items(&body), "flowId");
    listed.sort();
    s.expect_json(
        "getFlows",
        "flows.pattern-finds-exactly-created",
        Some(&exchange),
        &json!(expected),
        Some(&json!(listed)),
    );

    let exchange = s
        .call(Call::new("getFlowsCount").query("pattern", &tag))
        .await?;
    let body = s.require_success("getFlowsCount", "flows.count-succeeds", &exchange)?;
    s.expect_json(
        "getFlowsCount",
        "flows.count-matches-list",
        Some(&exchange),
        &json!(listed.len()),
        body.get("count"),
    );

    let exchange = s
        .call(
            Call::new("getFlows")
                .query("filter", format!("customFields.conformanceRun:{tag}"))
                .query("filter", "customFields.category:conformance"),
        )
        .await?;
    let body = s.require_success("getFlows", "flows.list-succeeds", &exchange)?;
    let mut filtered = ids_of(items(&body), "flowId");
    filtered.sort();
    s.expect_json(
        "getFlows",
        "flows.filter-finds-exactly-matching",
        Some(&exchange),
        &json!(matching),
        Some(&json!(filtered)),
    );
    Ok(())
}
