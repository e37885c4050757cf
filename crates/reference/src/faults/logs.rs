//! Faults of logs: `from` ignored, and entries read without an owner check.

use axum::http::Method;

use super::Fault;
use super::layer::{Answer, Call, Chain, Ctx, captures, run_as_owner};
use crate::state::read;

/// Whether `fault`, one of this area's, may change a request to `method` `path`.
pub fn applies(fault: Fault, method: &Method, path: &str) -> bool {
    let on =
        |expected: Method, pattern: &str| method == expected && captures(path, pattern).is_some();
    match fault {
        Fault::LogsFromIgnoredOnLaterPages => on(Method::GET, "/logs"),
        Fault::LogEntryReadableByOtherUser => on(Method::GET, "/logs/{}/{}"),
        _ => false,
    }
}

/// Handles `call` with `fault`, one of this area's, switched on.
pub async fn apply(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    match fault {
        Fault::LogsFromIgnoredOnLaterPages => ignore_from(fault, ctx, call, inner).await,
        Fault::LogEntryReadableByOtherUser => read_for_anyone(fault, ctx, call, inner).await,
        _ => inner.run(call).await,
    }
}

/// Drops a `from` above 0, so the search answers the first page.
async fn ignore_from(fault: Fault, ctx: &Ctx<'_>, mut call: Call, inner: Chain<'_>) -> Answer {
    let pairs = call.query();
    let later_page = pairs
        .iter()
        .any(|(key, value)| key == "from" && value.parse::<u64>().is_ok_and(|from| from > 0));
    if !later_page {
        return inner.run(call).await;
    }
    let kept: Vec<(String, String)> = pairs.into_iter().filter(|(key, _)| key != "from").collect();
    call.set_query(&kept);
    let answer = inner.run(call).await;
    if answer.is_success() {
        ctx.fired(fault);
    }
    answer
}

/// Lets anyone read an entry, by acting as its owner.
async fn read_for_anyone(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let owner = call
        .captures("/logs/{}/{}")
        .and_then(|ids| <[String; 2]>::try_from(ids).ok())
        .and_then(|[index, log_id]| {
            read(&ctx.app().logs)
                .owner_of(&index, &log_id)
                .map(str::to_owned)
        });
    run_as_owner(fault, ctx, call, owner, inner).await
}
