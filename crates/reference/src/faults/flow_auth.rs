//! Faults of flow authentication: another user's flow readable, and an
//! undocumented 204 for flows that need no account.

use axum::http::Method;

use super::Fault;
use super::layer::{Answer, Call, Chain, Ctx, captures, run_as_owner};
use crate::state::read;

/// Whether `fault`, one of this area's, may change a request to `method` `path`.
pub fn applies(fault: Fault, method: &Method, path: &str) -> bool {
    let flow_authentication = method == Method::GET && captures(path, "/auth/flow/{}").is_some();
    match fault {
        Fault::OtherUsersFlowAuthenticationReadable | Fault::NoAuthComponentsAnswer204 => {
            flow_authentication
        }
        _ => false,
    }
}

/// Handles `call` with `fault`, one of this area's, switched on.
pub async fn apply(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    match fault {
        Fault::OtherUsersFlowAuthenticationReadable => {
            read_for_anyone(fault, ctx, call, inner).await
        }
        Fault::NoAuthComponentsAnswer204 => empty_is_no_content(fault, ctx, call, inner).await,
        _ => inner.run(call).await,
    }
}

/// Lets anyone read a flow's authentication, by acting as its owner.
async fn read_for_anyone(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let owner = call
        .captures("/auth/flow/{}")
        .and_then(|ids| ids.into_iter().next())
        .and_then(|id| {
            read(&ctx.app().flows)
                .get(&id)
                .map(|flow| flow.owner.clone())
        });
    run_as_owner(fault, ctx, call, owner, inner).await
}

/// Answers 204 where the clean server answers 200 with `{}`.
async fn empty_is_no_content(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let mut answer = inner.run(call).await;
    let empty = answer
        .body()
        .is_some_and(|body| body.as_object().is_some_and(|fields| fields.is_empty()));
    if answer.is_success() && empty {
        answer.set_no_content();
        ctx.fired(fault);
    }
    answer
}
