//! Properties: semantic rules of the API, each checked on objects the
//! harness creates for it and compared with the model's query semantics
//! ([`crate::model::oracle`]).
//!
//! One module per family. Each property says in its doc sentence what it
//! checks, records a check under its name only when it was exercised (the
//! requests it needs were answered with a 2xx where that was needed), and
//! deletes what it created. A setup request that gets no 2xx is noted as
//! the property not exercised ([`Session::setup_failed`]), and the generic
//! checks judge the answer itself (a 5xx fails `spec.no-server-error`).

mod clone;
mod commands;
mod counts;
mod deletion;
mod invalid;
mod paging;
mod projection;
mod records;
mod selection;
mod sorting;
mod strings;

use serde_json::{Value, json};

use appmixer_spec::Spec;
use openapiv3::Parameter;

use crate::cleanup::Kind;
use crate::scenarios::{Outcome, count_of, items};
use crate::session::{Abort, Session, Step};
use crate::transport::{Call, Exchange};

/// A decision date no task of a run reaches.
pub(crate) const DECISION_BY: &str = "2099-12-31T23:00:00.000Z";

/// What every property family gets.
pub(crate) struct Ctx<'a> {
    /// The spec the run checks against.
    pub spec: &'a Spec,
    /// The run's seed.
    pub seed: u64,
    /// How many generated cases a generated property runs.
    pub cases: u32,
    /// The run tag.
    pub tag: String,
}

impl Ctx<'_> {
    /// The tag of one family's objects, e.g. `amxc-1a2b3c4d-counts`.
    pub fn tag(&self, family: &str) -> String {
        format!("{}-{family}", self.tag)
    }
}

/// The families, in the order they run, each with the property (or the
/// prefix of the properties) it checks.
const FAMILIES: [(&str, &str); 11] = [
    ("counts", "counts.match-list"),
    ("paging", "paging.partition"),
    ("sorting", "sort.orders-by-field"),
    ("selection", "selection.exact-match"),
    ("projection", "projection.fields"),
    ("clone", "clone"),
    ("commands", "commands.repeat-changes-nothing"),
    ("deletion", "deletion.gone"),
    ("invalid input", "invalid.rejected-unchanged"),
    ("strings", "strings.round-trip"),
    ("records", records::PROPERTY),
];

async fn run_family(name: &str, s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    match name {
        "counts" => counts::run(s, ctx).await,
        "paging" => paging::run(s, ctx).await,
        "sorting" => sorting::run(s, ctx).await,
        "selection" => selection::run(s, ctx).await,
        "projection" => projection::run(s, ctx).await,
        "clone" => clone::run(s, ctx).await,
        "commands" => commands::run(s, ctx).await,
        "deletion" => deletion::run(s, ctx).await,
        "invalid input" => invalid::run(s, ctx).await,
        "strings" => strings::run(s, ctx).await,
        "records" => records::run(s, ctx).await,
        other => unreachable!("no property family is called `{other}`"),
    }
}

/// Runs every property family; `seed` and `cases` size the generated ones.
pub async fn run_all(session: &mut Session, spec: &Spec, seed: u64, cases: u32) -> Outcome {
    let ctx = Ctx {
        spec,
        seed,
        cases,
        tag: session.tag.clone(),
    };
    let mut outcome = Outcome::default();
    for (name, property) in FAMILIES {
        tracing::info!(family = name, "properties");
        session.exercising = Some(property.to_string());
        let result = run_family(name, session, &ctx).await;
        session.exercising = None;
        match result {
            Ok(()) => {}
            Err(Abort::Step) => outcome.stopped.push(format!("properties: {name}")),
            Err(Abort::Budget(reason)) => {
                outcome.stopped.push(format!("properties: {name}"));
                outcome.aborted = Some(reason);
                break;
            }
        }
    }
    outcome
}

/// The `x-sortable` fields the spec names for `operation`'s `sort`.
pub(crate) fn sortable(spec: &Spec, operation: &str) -> Vec<String> {
    let Some(op) = spec.operation(operation) else {
        return Vec::new();
    };
    let Ok(parameters) = op.parameters() else {
        return Vec::new();
    };
    parameters
        .into_iter()
        .filter_map(|parameter| match parameter {
            Parameter::Query { parameter_data, .. } if parameter_data.name == "sort" => {
                parameter_data.extensions.get("x-sortable").cloned()
            }
            _ => None,
        })
        .flat_map(|list| {
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Sends a creating call and returns the new id at `pointer`, registered for
/// cleanup, or `None` when the server refused it.
pub(crate) async fn create(
    s: &mut Session,
    call: Call,
    kind: Kind,
    pointer: &str,
) -> Step<Option<String>> {
    let exchange = s.call(call).await?;
    let id = exchange
        .is_success()
        .then(|| exchange.str_at(pointer))
        .flatten()
        .filter(|id| !id.is_empty());
    match &id {
        Some(id) => s.created(kind, id),
        None => s.setup_failed(&exchange),
    }
    Ok(id)
}

/// Creates a flow tagged `scope` in `customFields.amxcProperty`.
pub(crate) async fn create_flow(
    s: &mut Session,
    scope: &str,
    name: &str,
    extra: Value,
) -> Step<Option<String>> {
    let mut body = json!({
        "name": name,
        "flow": {},
        "customFields": {"amxcProperty": scope},
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            if key == "customFields" {
                let mut fields = value.clone();
                fields["amxcProperty"] = json!(scope);
                body.insert(key.clone(), fields);
            } else {
                body.insert(key.clone(), value.clone());
            }
        }
    }
    create(s, Call::new("createFlow").body(body), Kind::Flow, "/flowId").await
}

/// The filter that selects the flows of `scope`.
pub(crate) fn scope_filter(scope: &str) -> String {
    format!("customFields.amxcProperty:{scope}")
}

/// Creates a store.
pub(crate) async fn create_store(s: &mut Session, name: &str) -> Step<Option<String>> {
    create(
        s,
        Call::new("createStore").body(json!({"name": name})),
        Kind::Store,
        "/storeId",
    )
    .await
}

/// Sets a record; whether it was accepted.
pub(crate) async fn set_record(s: &mut Session, store: &str, key: &str, value: &str) -> Step<bool> {
    let exchange = s
        .call(
            Call::new("createStoreItem")
                .path("storeId", store)
                .path("key", key)
                .body(json!(value)),
        )
        .await?;
    if !exchange.is_success() {
        s.setup_failed(&exchange);
    }
    Ok(exchange.is_success())
}

/// Creates a people task requested by the caller; its id and approver
/// secret.
pub(crate) async fn create_task(
    s: &mut Session,
    title: &str,
    approver: &str,
) -> Step<Option<(String, String)>> {
    let email = s.email();
    let exchange = s
        .call(Call::new("createPeopleTask").body(json!({
            "title": title,
            "requester": email,
            "approver": approver,
            "decisionBy": DECISION_BY,
        })))
        .await?;
    let id = exchange
        .is_success()
        .then(|| exchange.str_at("/id"))
        .flatten();
    let secret = exchange.str_at("/approverSecret").unwrap_or_default();
    match &id {
        Some(id) => s.created(Kind::PeopleTask, id),
        None => s.setup_failed(&exchange),
    }
    Ok(id.map(|id| (id, secret)))
}

/// Creates a chart.
pub(crate) async fn create_chart(s: &mut Session, body: Value) -> Step<Option<String>> {
    create(
        s,
        Call::new("createChart").body(body),
        Kind::Chart,
        "/chartId",
    )
    .await
}

/// Deletes an object the property created, whatever the answer.
pub(crate) async fn delete(s: &mut Session, kind: Kind, id: &str) -> Step<()> {
    let Some((operation, parameter)) = kind.delete_operation() else {
        return Ok(());
    };
    let exchange = s.call(Call::new(operation).path(parameter, id)).await?;
    if exchange.is_success() || exchange.status() == 404 {
        s.deleted(kind, id);
    }
    Ok(())
}

/// A list answer's items, or `None` when it was not a 2xx JSON array.
pub(crate) async fn list(s: &mut Session, call: Call) -> Step<Option<(Exchange, Vec<Value>)>> {
    let exchange = s.call(call).await?;
    let listed = match exchange.json_ref() {
        Some(body) if exchange.is_success() && body.is_array() => items(body).to_vec(),
        _ => return Ok(None),
    };
    Ok(Some((exchange, listed)))
}

/// Every item of a list, paged through with `limit`/`offset`; `None` when a
/// page was refused.
pub(crate) async fn list_all(s: &mut Session, call: impl Fn() -> Call) -> Step<Option<Vec<Value>>> {
    const PAGE: usize = 100;
    let mut all = Vec::new();
    for page in 0..50 {
        let Some((_, listed)) =
            list(s, call().query("limit", PAGE).query("offset", page * PAGE)).await?
        else {
            return Ok(None);
        };
        let short = listed.len() < PAGE;
        all.extend(listed);
        if short {
            break;
        }
    }
    Ok(Some(all))
}

/// A count answer's `count`, or `None` when it was not a 2xx count.
pub(crate) async fn count(s: &mut Session, call: Call) -> Step<Option<(Exchange, u64)>> {
    let exchange = s.call(call).await?;
    let counted = exchange
        .is_success()
        .then(|| exchange.json_ref())
        .flatten()
        .and_then(count_of);
    Ok(counted.map(|counted| (exchange, counted)))
}

/// The string values of `field` in `items`, in order.
pub(crate) fn ids(items: &[Value], field: &str) -> Vec<String> {
    crate::scenarios::ids_of(items, field)
}
