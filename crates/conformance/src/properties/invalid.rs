//! Invalid input is refused and changes nothing.
//!
//! [`run`] sends, for each writing operation, bodies with a required field
//! left out and with a field of the wrong type (both derived from the
//! request schema in the spec at run time), calls with unknown ids, and
//! reads with a bad `limit`, `offset`, `sort` (a field the spec's
//! `x-sortable` does not name, a direction other than `1`/`-1`),
//! `projection` (keeping and leaving out at once) or log `query`. Each must
//! get a 4xx, and the objects the property made must read back as before
//! (property `invalid.rejected-unchanged`, recorded against the operation
//! sent).
//
// TODO: malformed JSON bodies are not sent yet: every request goes through
// the transport, which serialises a JSON value and has no way to send raw
// bytes.

use serde_json::{Map, Value, json};

use appmixer_spec::Spec;

use crate::cleanup::Kind;
use crate::properties::{
    Ctx, create, create_chart, create_flow, create_store, create_task, scope_filter,
};
use crate::session::{Session, Step};
use crate::transport::Call;

const PROPERTY: &str = "invalid.rejected-unchanged";

/// The request schema of `operation`, resolved to its component.
fn request_schema<'s>(spec: &'s Spec, operation: &str) -> Option<&'s Value> {
    let op = spec.operation(operation)?;
    let body = op.request_body().ok()??;
    let name = body.content.schema_name()?.to_string();
    spec.document()
        .pointer(&format!("/components/schemas/{name}"))
}

fn wrong_value(schema: &Value) -> Option<Value> {
    if schema.get("enum").is_some() {
        return Some(json!("not-one-of-the-enum"));
    }
    let schema = match schema.get("$ref") {
        Some(_) => return Some(json!(12345)),
        None => schema,
    };
    match schema.get("type").and_then(Value::as_str)? {
        "string" => Some(json!(12345)),
        "integer" | "number" => Some(json!("not a number")),
        "boolean" => Some(json!("not a boolean")),
        "object" => Some(json!("not an object")),
        "array" => Some(json!("not an array")),
        _ => None,
    }
}

/// Bodies derived from `base` that the schema of `operation` forbids: each
/// required field left out, each typed field with a value of another type.
fn invalid_bodies(spec: &Spec, operation: &str, base: &Value) -> Vec<(String, Value)> {
    let Some(schema) = request_schema(spec, operation) else {
        return Vec::new();
    };
    let mut bodies = Vec::new();
    for field in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(field) = field.as_str() else {
            continue;
        };
        if let Some(mut body) = base.as_object().cloned() {
            body.remove(field);
            bodies.push((format!("without required `{field}`"), Value::Object(body)));
        }
    }
    let properties: Map<String, Value> = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (field, property) in properties {
        let Some(wrong) = wrong_value(&property) else {
            continue;
        };
        if let Some(mut body) = base.as_object().cloned() {
            body.insert(field.clone(), wrong.clone());
            bodies.push((format!("`{field}` as {wrong}"), Value::Object(body)));
        }
    }
    bodies
}

/// What the property's objects look like, to compare after each refusal.
async fn snapshot(s: &mut Session, reads: &[Call]) -> Step<Vec<Option<Value>>> {
    let mut seen = Vec::new();
    for call in reads {
        let exchange = s.call(call.clone()).await?;
        seen.push(exchange.is_success().then(|| exchange.json()).flatten());
    }
    Ok(seen)
}

async fn refused(s: &mut Session, call: Call, what: &str, reads: &[Call]) -> Step<()> {
    let operation = call.operation().to_string();
    let before = snapshot(s, reads).await?;
    let exchange = s.call(call).await?;
    // Whatever an accepted create made must still be cleaned up.
    if exchange.is_success() && (operation.starts_with("create") || operation == "cloneFlow") {
        let made = [
            ("/flowId", Kind::Flow),
            ("/cloneId", Kind::Flow),
            ("/storeId", Kind::Store),
            ("/chartId", Kind::Chart),
            ("/accountId", Kind::Account),
            ("/id", Kind::PeopleTask),
        ];
        for (pointer, kind) in made {
            if let Some(id) = exchange.str_at(pointer) {
                s.created(kind, &id);
            }
        }
    }
    let after = snapshot(s, reads).await?;
    let status = exchange.status();
    s.expect(
        &operation,
        PROPERTY,
        Some(&exchange),
        (400..500).contains(&status) && before == after,
        || format!("{what}: a 4xx and nothing changed"),
        || {
            if (400..500).contains(&status) {
                "a 4xx, but the objects read back differently".into()
            } else {
                format!("status {status}")
            }
        },
    );
    Ok(())
}

/// Invalid bodies, unknown ids and bad query parameters are refused.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("invalid");
    let Some(flow) = create_flow(s, &tag, &format!("{tag} flow"), json!({})).await? else {
        return Ok(());
    };
    let store = create_store(s, &format!("{tag} store")).await?;
    let chart = create_chart(
        s,
        json!({"name": format!("{tag} chart"), "index": 1, "type": "bar"}),
    )
    .await?;
    let email = s.email();
    let task = create_task(s, &format!("{tag} task"), &email).await?;
    let account = create(
        s,
        Call::new("createAccount")
            .query("validateScope", false)
            .query("requestProfileInfo", false)
            .body(json!({"service": "appmixer:slack", "token": {"accessToken": "not-a-real-token"}, "name": format!("{tag} account")})),
        Kind::Account,
        "/accountId",
    )
    .await?;

    let mut reads = vec![
        Call::new("getFlow").path("flowId", &flow),
        Call::new("getFlowsCount"),
        Call::new("getStores"),
        Call::new("getAccounts"),
        Call::new("getPeopleTasksCount").query("pattern", regex::escape(&tag)),
        Call::new("getCharts").query("pattern", &tag),
    ];
    if let Some(store) = &store {
        reads.push(Call::new("getStoreRecordsCount").query("storeId", store));
    }

    let mut sends: Vec<(Call, String)> = Vec::new();
    let writes: Vec<(Call, Value)> = [
        Some((Call::new("createFlow"), json!({"name": format!("{tag} bad"), "flow": {}, "customFields": {"amxcProperty": tag}}))),
        Some((Call::new("updateFlow").path("flowId", &flow), json!({"name": format!("{tag} renamed")}))),
        Some((Call::new("sendFlowCommand").path("flowId", &flow), json!({"command": "stop"}))),
        Some((Call::new("createStore"), json!({"name": format!("{tag} bad store")}))),
        store.as_ref().map(|store| (Call::new("renameStore").path("storeId", store), json!({"name": format!("{tag} renamed")}))),
        Some((Call::new("createChart"), json!({"name": format!("{tag} bad chart"), "index": 2, "type": "line"}))),
        chart.as_ref().map(|chart| (Call::new("updateChart").path("chartId", chart), json!({"name": format!("{tag} renamed"), "index": 3, "type": "pie"}))),
        Some((Call::new("createPeopleTask"), json!({"title": format!("{tag} bad task"), "requester": email, "approver": email, "decisionBy": crate::properties::DECISION_BY}))),
        account.as_ref().map(|account| (Call::new("setAccountName").path("accountId", account), json!({"displayName": format!("{tag} renamed")}))),
        Some((Call::new("createAccount").query("validateScope", false).query("requestProfileInfo", false), json!({"service": "appmixer:slack", "token": {"accessToken": "x"}, "name": format!("{tag} bad")}))),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (call, base) in writes {
        let operation = call.operation().to_string();
        for (what, body) in invalid_bodies(ctx.spec, &operation, &base) {
            // The spec allows `null` for nullable fields and any extra field;
            // only mutations it forbids are sent.
            sends.push((call.clone().body(body), format!("{operation} {what}")));
        }
        sends.push((
            call.clone().body(json!(["not", "an", "object"])),
            format!("{operation} with an array body"),
        ));
    }

    let unknown_flow = uuid::Uuid::new_v4().to_string();
    let unknown_hex = "0123456789abcdef01234567".to_string();
    sends.extend([
        (
            Call::new("updateFlow")
                .path("flowId", &unknown_flow)
                .body(json!({"name": "x"})),
            "updateFlow of an unknown flow".into(),
        ),
        (
            Call::new("deleteFlow").path("flowId", &unknown_flow),
            "deleteFlow of an unknown flow".into(),
        ),
        (
            Call::new("cloneFlow")
                .path("flowId", &unknown_flow)
                .body(json!({})),
            "cloneFlow of an unknown flow".into(),
        ),
        (
            Call::new("sendFlowCommand")
                .path("flowId", &unknown_flow)
                .body(json!({"command": "start"})),
            "start of an unknown flow".into(),
        ),
        (
            Call::new("getFlow").path("flowId", &unknown_flow),
            "getFlow of an unknown flow".into(),
        ),
        (
            Call::new("getStore").path("storeId", &unknown_hex),
            "getStore of an unknown store".into(),
        ),
        (
            Call::new("renameStore")
                .path("storeId", &unknown_hex)
                .body(json!({"name": "x"})),
            "renameStore of an unknown store".into(),
        ),
        (
            Call::new("getChart").path("chartId", &unknown_hex),
            "getChart of an unknown chart".into(),
        ),
        (
            Call::new("deleteChart").path("chartId", &unknown_hex),
            "deleteChart of an unknown chart".into(),
        ),
        (
            Call::new("getPeopleTask").path("id", &unknown_hex),
            "getPeopleTask of an unknown task".into(),
        ),
        (
            Call::new("approveTask")
                .path("id", &unknown_hex)
                .body(json!({})),
            "approveTask of an unknown task".into(),
        ),
        (
            Call::new("deleteAccount").path("accountId", &unknown_hex),
            "deleteAccount of an unknown account".into(),
        ),
    ]);
    if let Some(store) = &store {
        sends.push((
            Call::new("getStoreItem")
                .path("storeId", store)
                .path("key", "never set"),
            "getStoreItem of an unknown key".into(),
        ));
    }
    if let Some((task, _)) = &task {
        sends.push((
            Call::new("getPeopleTasks")
                .query("pattern", regex::escape(task))
                .query("sort", "nosuchfield:1"),
            "getPeopleTasks sorted by a field the spec does not name".into(),
        ));
    }

    let scope = scope_filter(&tag);
    for (name, value) in [
        ("limit", "-1"),
        ("limit", "many"),
        ("offset", "-3"),
        ("sort", "nosuchfield:1"),
        ("sort", "name:2"),
        ("projection", "name,-flow"),
    ] {
        sends.push((
            Call::new("getFlows")
                .query("filter", &scope)
                .query(name, value),
            format!("getFlows with {name}={value}"),
        ));
    }
    sends.push((
        Call::new("getCharts").query("sort", "nosuchfield:-1"),
        "getCharts sorted by a field the spec does not name".into(),
    ));
    if let Some(store) = &store {
        sends.push((
            Call::new("getStoreRecords")
                .query("storeId", store)
                .query("limit", "-1"),
            "getStoreRecords with limit=-1".into(),
        ));
    }
    for (name, value) in [
        ("size", "-1"),
        ("from", "-1"),
        ("sort", "nosuchfield"),
        ("query", "@timestamp:[2020-01-01 TO"),
    ] {
        sends.push((
            Call::new("getLogs")
                .query("flowId", &flow)
                .query(name, value),
            format!("getLogs with {name}={value}"),
        ));
    }

    for (call, what) in sends {
        refused(s, call, &what, &reads).await?;
    }

    crate::properties::delete(s, Kind::Flow, &flow).await?;
    if let Some(store) = store {
        crate::properties::delete(s, Kind::Store, &store).await?;
    }
    if let Some(chart) = chart {
        crate::properties::delete(s, Kind::Chart, &chart).await?;
    }
    if let Some(account) = account {
        crate::properties::delete(s, Kind::Account, &account).await?;
    }
    Ok(())
}
