//! Faults of Insights charts: a projection that drops the identity, a soft
//! delete, unchecked types and a list served with the wrong media type.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::Fault;
use super::layer::{Answer, Call, Chain, Ctx, captures};
use crate::charts::TYPES;
use crate::state::{read, write};

/// Whether `fault`, one of this area's, may change a request to `method` `path`.
pub fn applies(fault: Fault, method: &Method, path: &str) -> bool {
    let on =
        |expected: Method, pattern: &str| method == expected && captures(path, pattern).is_some();
    match fault {
        Fault::IncludeProjectionDropsChartId | Fault::ChartsListServedAsText => {
            on(Method::GET, "/charts")
        }
        Fault::DeletedChartStillReadable => {
            on(Method::DELETE, "/charts/{}") || on(Method::GET, "/charts/{}")
        }
        Fault::UnknownChartTypeAccepted => {
            on(Method::POST, "/charts") || on(Method::PUT, "/charts/{}")
        }
        _ => false,
    }
}

/// Handles `call` with `fault`, one of this area's, switched on.
pub async fn apply(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    match fault {
        Fault::IncludeProjectionDropsChartId => drop_ids(fault, ctx, call, inner).await,
        Fault::DeletedChartStillReadable => soft_delete(fault, ctx, call, inner).await,
        Fault::UnknownChartTypeAccepted => store_any_type(fault, ctx, call, inner).await,
        Fault::ChartsListServedAsText => serve_as_text(fault, ctx, call, inner).await,
        _ => inner.run(call).await,
    }
}

/// Whether `projection` keeps named fields and does not name `chartId`.
fn keeps_fields_but_not_id(projection: &str) -> bool {
    let fields: Vec<&str> = projection.split(',').map(str::trim).collect();
    fields
        .iter()
        .all(|field| !field.is_empty() && !field.starts_with('-'))
        && !fields.contains(&"chartId")
}

/// Drops `chartId` from the items of a list projected to named fields.
async fn drop_ids(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let applies = call
        .query_value("projection")
        .is_some_and(|projection| keeps_fields_but_not_id(&projection));
    let mut answer = inner.run(call).await;
    if !applies || !answer.is_success() {
        return answer;
    }
    let Some(Value::Array(mut listed)) = answer.body() else {
        return answer;
    };
    let mut dropped = false;
    for item in &mut listed {
        if let Value::Object(fields) = item {
            dropped |= fields.shift_remove("chartId").is_some();
        }
    }
    if dropped {
        answer.set_body(&Value::Array(listed));
        ctx.fired(fault);
    }
    answer
}

/// Keeps a deleted chart readable by its owner through `getChart`.
async fn soft_delete(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let Some(id) = call
        .captures("/charts/{}")
        .and_then(|ids| ids.into_iter().next())
    else {
        return inner.run(call).await;
    };
    if call.method() == Method::DELETE {
        let before = read(&ctx.app().charts)
            .get(&id)
            .map(|(owner, document)| (owner.to_owned(), document.clone()));
        let answer = inner.run(call).await;
        if let (true, Some(before)) = (answer.is_success(), before) {
            ctx.memory().deleted_charts.insert(id, before);
        }
        return answer;
    }
    let caller = call.caller(ctx.app());
    let answer = inner.run(call).await;
    if answer.is_success() {
        return answer;
    }
    let kept = ctx.memory().deleted_charts.get(&id).cloned();
    match (caller, kept) {
        (Some(caller), Some((owner, document))) if caller.id == owner => {
            ctx.fired(fault);
            Answer::json(StatusCode::OK, &Value::Object(document))
        }
        _ => answer,
    }
}

/// Hides an unknown `type` from the handler's check and stores it afterwards.
async fn store_any_type(fault: Fault, ctx: &Ctx<'_>, mut call: Call, inner: Chain<'_>) -> Answer {
    let path_id = call
        .captures("/charts/{}")
        .and_then(|ids| ids.into_iter().next());
    let updating = path_id.is_some();
    let Some(mut body) = call.json_object() else {
        return inner.run(call).await;
    };
    let Some(kind) = body
        .get("type")
        .and_then(Value::as_str)
        .filter(|kind| !TYPES.contains(kind))
        .map(str::to_owned)
    else {
        return inner.run(call).await;
    };
    body.shift_remove("type");
    call.set_json(&Value::Object(body));
    let mut answer = inner.run(call).await;
    if !answer.is_success() {
        return answer;
    }
    let Some(mut answered) = answer.body() else {
        return answer;
    };
    let Some(id) = path_id.or_else(|| answered["chartId"].as_str().map(str::to_owned)) else {
        return answer;
    };
    if let Some(document) = write(&ctx.app().charts).document_mut(&id) {
        document.insert("type".into(), kind.clone().into());
        ctx.fired(fault);
    }
    if let (true, Value::Object(fields)) = (updating, &mut answered) {
        fields.insert("type".into(), kind.into());
        answer.set_body(&answered);
    }
    answer
}

/// Declares the list's JSON as `text/plain`.
async fn serve_as_text(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let mut answer = inner.run(call).await;
    if answer.is_success() {
        answer.set_content_type("text/plain; charset=utf-8");
        ctx.fired(fault);
    }
    answer
}
