//! Faults of people tasks: a second, opposite decision, a requester secret
//! that decides, a count of the wrong type, and a task without an approver.

use axum::http::Method;
use serde_json::{Value, json};

use super::Fault;
use super::layer::{Answer, Call, Chain, Ctx, captures, run_with_query_edited};
use crate::state::{read, write};

/// Whether `fault`, one of this area's, may change a request to `method` `path`.
pub fn applies(fault: Fault, method: &Method, path: &str) -> bool {
    let on =
        |expected: Method, pattern: &str| method == expected && captures(path, pattern).is_some();
    let decision = on(Method::PUT, "/people-task/tasks/{}/approve")
        || on(Method::PUT, "/people-task/tasks/{}/reject");
    match fault {
        Fault::OppositeDecisionOverrides | Fault::RequesterSecretDecides => decision,
        Fault::TasksCountAsString => on(Method::GET, "/people-task/tasks-count"),
        Fault::MissingApproverAccepted => on(Method::POST, "/people-task/tasks"),
        _ => false,
    }
}

/// Handles `call` with `fault`, one of this area's, switched on.
pub async fn apply(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    match fault {
        Fault::OppositeDecisionOverrides => decide_again(fault, ctx, call, inner).await,
        Fault::RequesterSecretDecides => promote_secret(fault, ctx, call, inner).await,
        Fault::TasksCountAsString => count_as_string(fault, ctx, call, inner).await,
        Fault::MissingApproverAccepted => default_approver(fault, ctx, call, inner).await,
        _ => inner.run(call).await,
    }
}

/// The task id and the verb (`approve` or `reject`) of a decision.
fn decision(call: &Call) -> Option<(String, String)> {
    let [id, verb] = <[String; 2]>::try_from(call.captures("/people-task/tasks/{}/{}")?).ok()?;
    Some((id, verb))
}

/// Reopens a task decided the other way, so the handler decides it again.
async fn decide_again(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let Some((id, verb)) = decision(&call) else {
        return inner.run(call).await;
    };
    let opposite = if verb == "approve" {
        "rejected"
    } else {
        "approved"
    };
    let reopened = {
        let mut tasks = write(&ctx.app().tasks);
        let decided_otherwise = tasks.status(&id) == Some(opposite);
        if decided_otherwise {
            tasks.set_status(&id, "pending");
        }
        decided_otherwise
    };
    if !reopened {
        return inner.run(call).await;
    }
    let answer = inner.run(call).await;
    if answer.is_success() {
        ctx.fired(fault);
    } else {
        write(&ctx.app().tasks).set_status(&id, opposite);
    }
    answer
}

/// Swaps a requester secret for the approver secret of the same task.
async fn promote_secret(fault: Fault, ctx: &Ctx<'_>, mut call: Call, inner: Chain<'_>) -> Answer {
    let Some((id, _)) = decision(&call) else {
        return inner.run(call).await;
    };
    let Some((approver, requester)) = read(&ctx.app().tasks)
        .secrets(&id)
        .map(|(approver, requester)| (approver.to_owned(), requester.to_owned()))
    else {
        return inner.run(call).await;
    };
    let mut promoted = false;
    if let Some(mut body) = call.json_object()
        && body.get("secret").and_then(Value::as_str) == Some(requester.as_str())
    {
        body.insert("secret".into(), approver.clone().into());
        call.set_json(&Value::Object(body));
        promoted = true;
    }
    run_with_query_edited(fault, ctx, call, promoted, inner, |key, value| {
        let requester_secret = key == "secret" && *value == requester;
        if requester_secret {
            value.clone_from(&approver);
        }
        requester_secret
    })
    .await
}

/// Answers `{"count": "N"}`.
async fn count_as_string(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let mut answer = inner.run(call).await;
    if !answer.is_success() {
        return answer;
    }
    if let Some(count) = answer.body().and_then(|body| body["count"].as_u64()) {
        answer.set_body(&json!({ "count": count.to_string() }));
        ctx.fired(fault);
    }
    answer
}

/// Makes the requester the approver of a task created without one.
async fn default_approver(fault: Fault, ctx: &Ctx<'_>, mut call: Call, inner: Chain<'_>) -> Answer {
    let Some(mut body) = call
        .json_object()
        .filter(|body| !body.contains_key("approver"))
    else {
        return inner.run(call).await;
    };
    let Some(requester) = body
        .get("requester")
        .filter(|value| value.is_string())
        .cloned()
    else {
        return inner.run(call).await;
    };
    body.insert("approver".into(), requester);
    call.set_json(&Value::Object(body));
    let answer = inner.run(call).await;
    if answer.is_success() {
        ctx.fired(fault);
    }
    answer
}
