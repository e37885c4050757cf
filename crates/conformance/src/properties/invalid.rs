//! Invalid input is refused and changes nothing.
//!
//! [`run`] sends, for each writing operation, bodies with a required field
//! left out, with a field of the wrong type and with a value outside a
//! field's `enum` (all derived from the request schema in the spec at run
//! time, `$ref`s resolved), a body that is not an object, malformed JSON and
//! JSON under a media type the operation does not take; calls with unknown
//! ids; and reads with a bad `limit`, `offset`, `sort` (a field the spec's
//! `x-sortable` does not name, a direction other than `1`/`-1`),
//! `projection` (keeping and leaving out at once) or log `query`. Each must
//! get a 4xx, and the objects the property made must read back as before
//! (property `invalid.rejected-unchanged`, recorded against the operation
//! sent). Every such call is marked [`Call::invalid`]: a refusal is what it
//! is after.

use serde_json::{Map, Value, json};

use appmixer_spec::Spec;

use crate::cleanup::Kind;
use crate::properties::{
    Ctx, create, create_chart, create_flow, create_store, create_task, scope_filter,
};
use crate::session::{Session, Step};
use crate::transport::Call;

const PROPERTY: &str = "invalid.rejected-unchanged";

/// The writes that are also sent malformed JSON and a JSON body under the
/// wrong media type: one per area, enough to show how a server parses.
const RAW_BODIES: &[&str] = &[
    "createFlow",
    "updateFlow",
    "createStore",
    "createChart",
    "createPeopleTask",
];

/// The request schema of `operation`, resolved to its component.
fn request_schema<'s>(spec: &'s Spec, operation: &str) -> Option<&'s Value> {
    let op = spec.operation(operation)?;
    let body = op.request_body().ok()??;
    let name = body.content.schema_name()?.to_string();
    spec.document()
        .pointer(&format!("/components/schemas/{name}"))
}

/// The component a `$ref` names, or `schema` itself.
fn resolve<'s>(spec: &'s Spec, schema: &'s Value) -> Option<&'s Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => spec.document().pointer(reference.strip_prefix('#')?),
        None => Some(schema),
    }
}

/// A string that none of `allowed` is.
fn outside(allowed: &[Value]) -> Value {
    let first = allowed.first().and_then(Value::as_str).unwrap_or("value");
    let mut wrong = format!("not-{first}");
    while allowed.contains(&json!(wrong)) {
        wrong.push('!');
    }
    json!(wrong)
}

/// Values that `schema` (a property of a request schema) forbids: one of
/// another type, and one outside its `enum` when it has one.
fn wrong_values(spec: &Spec, schema: &Value) -> Vec<Value> {
    let Some(schema) = resolve(spec, schema) else {
        return vec![json!(12345)];
    };
    let mut wrong = Vec::new();
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        wrong.push(outside(allowed));
    }
    let of_another_type = match schema.get("type").and_then(Value::as_str) {
        Some("string") => Some(json!(12345)),
        Some("integer" | "number") => Some(json!("not a number")),
        Some("boolean") => Some(json!("not a boolean")),
        Some("object") => Some(json!("not an object")),
        Some("array") => Some(json!("not an array")),
        _ => None,
    };
    wrong.extend(of_another_type);
    wrong
}

/// Bodies derived from `base` that the schema of `operation` forbids: each
/// required field left out, each typed field with a value of another type,
/// each enumerated field with a value outside its enum.
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
        for wrong in wrong_values(spec, &property) {
            if let Some(mut body) = base.as_object().cloned() {
                body.insert(field.clone(), wrong.clone());
                bodies.push((format!("`{field}` as {wrong}"), Value::Object(body)));
            }
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

/// Sends `call`, which must be refused, and compares the reads after it
/// with `before`, the reads just before it; returns the reads after it,
/// which are the next call's `before`.
async fn refused(
    s: &mut Session,
    call: Call,
    what: &str,
    reads: &[Call],
    before: Vec<Option<Value>>,
) -> Step<Vec<Option<Value>>> {
    let operation = call.operation().to_string();
    let exchange = s.call(call.invalid()).await?;
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
    Ok(after)
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
        if RAW_BODIES.contains(&operation.as_str()) {
            let text = serde_json::to_string(&base).expect("a JSON value always serializes");
            // The body cut off half-way: a JSON parser must refuse it.
            let mut half = text.len() / 2;
            while !text.is_char_boundary(half) {
                half -= 1;
            }
            let cut = &text[..half];
            sends.push((
                call.clone().raw_body("application/json", cut),
                format!("{operation} with malformed JSON `{cut}`"),
            ));
            sends.push((
                call.clone().raw_body("text/plain", text.clone()),
                format!("{operation} with its JSON body sent as `text/plain`"),
            ));
        }
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

    let mut before = snapshot(s, &reads).await?;
    for (call, what) in sends {
        before = refused(s, call, &what, &reads, before).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec::load(&appmixer_spec::default_path()).expect("the spec loads")
    }

    #[test]
    fn an_enumerated_field_behind_a_ref_gets_a_value_outside_its_enum() {
        let base = json!({"name": "c", "index": 1, "type": "bar"});

        let bodies = invalid_bodies(&spec(), "createChart", &base);

        let types: Vec<&Value> = bodies
            .iter()
            .filter(|(what, _)| what.starts_with("`type`"))
            .filter_map(|(_, body)| body.get("type"))
            .collect();
        assert_eq!(types, [&json!("not-bar"), &json!(12345)], "{bodies:?}");
    }

    #[test]
    fn required_fields_are_left_out_one_at_a_time() {
        let base = json!({"title": "t", "requester": "a@example.com", "approver": "b@example.com"});

        let bodies = invalid_bodies(&spec(), "createPeopleTask", &base);

        for field in ["title", "requester", "approver"] {
            assert!(
                bodies
                    .iter()
                    .any(|(what, body)| what.contains(field) && body.get(field).is_none()),
                "no body without `{field}`: {bodies:?}"
            );
        }
    }

    #[test]
    fn a_value_outside_an_enum_is_none_of_its_values() {
        let allowed = vec![json!("a"), json!("not-a")];

        assert_eq!(outside(&allowed), json!("not-a!"));
    }
}
