//! Faults of flows: a route without authentication, counts, pages, sorting,
//! updates, repeated commands, deletion, clones and a crash.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::Fault;
use super::layer::{Answer, Call, Chain, Ctx, captures, run_with_query_edited};
use crate::clock::iso;
use crate::errors::ApiError;
use crate::flows;
use crate::state::{read, write};

/// Whether `fault`, one of this area's, may change a request to `method` `path`.
pub fn applies(fault: Fault, method: &Method, path: &str) -> bool {
    let on =
        |expected: Method, pattern: &str| method == expected && captures(path, pattern).is_some();
    match fault {
        Fault::DeleteFlowWithoutToken => on(Method::DELETE, "/flows/{}"),
        Fault::FlowsCountOffByOneWithPattern => on(Method::GET, "/flows/count"),
        Fault::FlowsPageSkipsOneAfterOffset | Fault::FlowsSortByNameDescendingAscends => {
            on(Method::GET, "/flows")
        }
        Fault::FlowUpdateMergesCustomFields => on(Method::PUT, "/flows/{}"),
        Fault::StartTwiceMovesStarted => on(Method::POST, "/flows/{}/coordinator"),
        // Every route that names a flow, so that a zombie answers 404 on all.
        Fault::DeletedRunningFlowStillListed => {
            path.starts_with("/flows/") || path.starts_with("/auth/flow/")
        }
        Fault::CloneDropsCustomFieldsWithPrefix => on(Method::POST, "/flows/{}/clone"),
        Fault::CrashOnNonAsciiPattern => {
            on(Method::GET, "/flows") || on(Method::GET, "/flows/count")
        }
        _ => false,
    }
}

/// Handles `call` with `fault`, one of this area's, switched on.
pub async fn apply(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    match fault {
        Fault::DeleteFlowWithoutToken => delete_without_token(fault, ctx, call, inner).await,
        Fault::FlowsCountOffByOneWithPattern => count_off_by_one(fault, ctx, call, inner).await,
        Fault::FlowsPageSkipsOneAfterOffset => skip_one_more(fault, ctx, call, inner).await,
        Fault::FlowsSortByNameDescendingAscends => ascend_by_name(fault, ctx, call, inner).await,
        Fault::FlowUpdateMergesCustomFields => merge_custom_fields(fault, ctx, call, inner).await,
        Fault::StartTwiceMovesStarted => restart(fault, ctx, call, inner).await,
        Fault::DeletedRunningFlowStillListed => keep_zombie(fault, ctx, call, inner).await,
        Fault::CloneDropsCustomFieldsWithPrefix => {
            clone_without_custom_fields(fault, ctx, call, inner).await
        }
        Fault::CrashOnNonAsciiPattern => crash_on_non_ascii(fault, ctx, call, inner).await,
        _ => inner.run(call).await,
    }
}

/// The flow id of a call to `/flows/{flowId}…`.
fn flow_id(call: &Call, pattern: &str) -> Option<String> {
    call.captures(pattern)?.into_iter().next()
}

/// Lets a token-less `deleteFlow` act as the flow's owner.
async fn delete_without_token(
    fault: Fault,
    ctx: &Ctx<'_>,
    mut call: Call,
    inner: Chain<'_>,
) -> Answer {
    let owner = flow_id(&call, "/flows/{}")
        .filter(|_| !call.has_authorization())
        .and_then(|id| {
            read(&ctx.app().flows)
                .get(&id)
                .map(|flow| flow.owner.clone())
        });
    let Some(owner) = owner else {
        return inner.run(call).await;
    };
    if !ctx.act_as(&mut call, &owner) {
        return inner.run(call).await;
    }
    let answer = inner.run(call).await;
    if answer.is_success() {
        ctx.fired(fault);
    }
    answer
}

/// Adds one to the count when a `pattern` is given.
async fn count_off_by_one(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let has_pattern = call.query_value("pattern").is_some();
    let mut answer = inner.run(call).await;
    if !has_pattern || !answer.is_success() {
        return answer;
    }
    if let Some(count) = answer.body().and_then(|body| body["count"].as_u64()) {
        answer.set_body(&json!({ "count": count + 1 }));
        ctx.fired(fault);
    }
    answer
}

/// Asks the handler for `offset + 1` when `offset` is above 0.
async fn skip_one_more(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    run_with_query_edited(fault, ctx, call, false, inner, |key, value| {
        let Some(offset @ 1..) = (key == "offset")
            .then(|| value.parse::<u64>().ok())
            .flatten()
        else {
            return false;
        };
        *value = offset.saturating_add(1).to_string();
        true
    })
    .await
}

/// Reads `sort=name:-1` as `name:1`.
async fn ascend_by_name(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    run_with_query_edited(fault, ctx, call, false, inner, |key, value| {
        let descending = key == "sort" && value == "name:-1";
        if descending {
            *value = "name:1".into();
        }
        descending
    })
    .await
}

/// Merges the update's `customFields` into the stored ones.
async fn merge_custom_fields(
    fault: Fault,
    ctx: &Ctx<'_>,
    mut call: Call,
    inner: Chain<'_>,
) -> Answer {
    let (Some(id), Some(mut body)) = (flow_id(&call, "/flows/{}"), call.json_object()) else {
        return inner.run(call).await;
    };
    let Some(Value::Object(given)) = body.get("customFields").cloned() else {
        return inner.run(call).await;
    };
    let stored = read(&ctx.app().flows)
        .get(&id)
        .and_then(|flow| flow.field("customFields"));
    let stored = match stored {
        Some(Value::Object(stored)) => Some(stored),
        _ => None,
    };
    let Some(mut merged) =
        stored.filter(|stored| stored.keys().any(|key| !given.contains_key(key)))
    else {
        return inner.run(call).await;
    };
    merged.extend(given);
    body.insert("customFields".into(), Value::Object(merged));
    call.set_json(&Value::Object(body));
    let answer = inner.run(call).await;
    if answer.is_success() {
        ctx.fired(fault);
    }
    answer
}

/// Stamps a new `started` when a running flow is started again.
async fn restart(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let is_start = call
        .json_object()
        .is_some_and(|body| body.get("command").and_then(Value::as_str) == Some("start"));
    let Some(id) = flow_id(&call, "/flows/{}/coordinator").filter(|_| is_start) else {
        return inner.run(call).await;
    };
    let was_running = read(&ctx.app().flows)
        .get(&id)
        .is_some_and(flows::Flow::is_running);
    let answer = inner.run(call).await;
    if !was_running || !answer.is_success() {
        return answer;
    }
    let now = iso(ctx.app().clock.now());
    if let Some(flow) = write(&ctx.app().flows).get_mut(&id)
        && flow.is_running()
    {
        flow.set("started", now);
        ctx.fired(fault);
    }
    answer
}

/// Deleting a running flow only stops it and hides it from the routes that
/// name it; lists and counts still hold it.
async fn keep_zombie(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let named = flow_id(&call, "/flows/{}")
        .or_else(|| {
            call.captures("/flows/{}/{}")
                .and_then(|ids| ids.into_iter().next())
        })
        .or_else(|| {
            call.captures("/flows/{}/components/{}")
                .and_then(|ids| ids.into_iter().next())
        })
        .or_else(|| flow_id(&call, "/auth/flow/{}"));
    let Some(id) = named else {
        return inner.run(call).await;
    };
    if ctx.memory().zombie_flows.contains(&id) {
        ctx.fired(fault);
        return Answer::error(&ApiError::not_found("Flow"));
    }
    if call.method() != Method::DELETE || call.captures("/flows/{}").is_none() {
        return inner.run(call).await;
    }
    let Some(caller) = call.caller(ctx.app()) else {
        return inner.run(call).await;
    };
    let now = iso(ctx.app().clock.now());
    let stopped = {
        let mut flows = write(&ctx.app().flows);
        match flows.get_mut(&id) {
            Some(flow) if flow.owner == caller.id && flow.is_running() => {
                flows::stop(flow, &now);
                true
            }
            _ => false,
        }
    };
    if !stopped {
        return inner.run(call).await;
    }
    ctx.memory().zombie_flows.insert(id.clone());
    ctx.fired(fault);
    Answer::json(StatusCode::OK, &json!({ "flowId": id }))
}

/// Removes `customFields` from a copy made with a `prefix`.
async fn clone_without_custom_fields(
    fault: Fault,
    ctx: &Ctx<'_>,
    call: Call,
    inner: Chain<'_>,
) -> Answer {
    let has_prefix = call.json_object().is_some_and(|body| {
        body.get("prefix")
            .and_then(Value::as_str)
            .is_some_and(|prefix| !prefix.is_empty())
    });
    let answer = inner.run(call).await;
    if !has_prefix || !answer.is_success() {
        return answer;
    }
    let Some(clone_id) = answer
        .body()
        .and_then(|body| body["cloneId"].as_str().map(str::to_owned))
    else {
        return answer;
    };
    if let Some(clone) = write(&ctx.app().flows).get_mut(&clone_id)
        && clone.remove("customFields")
    {
        ctx.fired(fault);
    }
    answer
}

/// Answers 500 to a `pattern` with a character outside ASCII.
async fn crash_on_non_ascii(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let non_ascii = call
        .query_value("pattern")
        .is_some_and(|pattern| !pattern.is_ascii());
    if !non_ascii {
        return inner.run(call).await;
    }
    ctx.fired(fault);
    tracing::error!("the flow search cannot handle a pattern outside ASCII (planted fault)");
    Answer::error(&ApiError::internal())
}
