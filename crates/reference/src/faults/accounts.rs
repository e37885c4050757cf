//! Faults of connected accounts: negated filters read plainly, tokens leaked
//! in lists, and renames of other users' accounts.

use axum::http::Method;
use serde_json::Value;

use super::Fault;
use super::layer::{Answer, Call, Chain, Ctx, captures, run_as_owner, run_with_query_edited};
use crate::state::read;

/// Whether `fault`, one of this area's, may change a request to `method` `path`.
pub fn applies(fault: Fault, method: &Method, path: &str) -> bool {
    let on =
        |expected: Method, pattern: &str| method == expected && captures(path, pattern).is_some();
    match fault {
        Fault::NegatedAccountFilterIgnored | Fault::AccountListLeaksToken => {
            on(Method::GET, "/accounts")
        }
        Fault::RenameOtherUsersAccount => on(Method::PUT, "/accounts/{}"),
        _ => false,
    }
}

/// Handles `call` with `fault`, one of this area's, switched on.
pub async fn apply(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    match fault {
        Fault::NegatedAccountFilterIgnored => drop_negation(fault, ctx, call, inner).await,
        Fault::AccountListLeaksToken => leak_tokens(fault, ctx, call, inner).await,
        Fault::RenameOtherUsersAccount => rename_for_anyone(fault, ctx, call, inner).await,
        _ => inner.run(call).await,
    }
}

/// Reads `filter=path:!value` as `filter=path:value`.
async fn drop_negation(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    run_with_query_edited(fault, ctx, call, false, inner, |key, value| {
        let Some((path, negated)) = value.split_once(':').filter(|_| key == "filter") else {
            return false;
        };
        let Some(plain) = negated.strip_prefix('!') else {
            return false;
        };
        *value = format!("{path}:{plain}");
        true
    })
    .await
}

/// Adds each listed account's stored `token` to it.
async fn leak_tokens(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let mut answer = inner.run(call).await;
    let Some(Value::Array(mut listed)) = answer.body().filter(|_| answer.is_success()) else {
        return answer;
    };
    let mut leaked = false;
    {
        let accounts = read(&ctx.app().accounts);
        for item in &mut listed {
            let token = item["accountId"]
                .as_str()
                .and_then(|id| accounts.get(id))
                .map(|account| Value::Object(account.token().clone()));
            if let (Some(token), Value::Object(fields)) = (token, item) {
                fields.insert("token".into(), token);
                leaked = true;
            }
        }
    }
    if leaked {
        answer.set_body(&Value::Array(listed));
        ctx.fired(fault);
    }
    answer
}

/// Lets anyone rename an account, by acting as its owner.
async fn rename_for_anyone(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let owner = call
        .captures("/accounts/{}")
        .and_then(|ids| ids.into_iter().next())
        .and_then(|id| {
            read(&ctx.app().accounts)
                .get(&id)
                .map(|account| account.owner.clone())
        });
    run_as_owner(fault, ctx, call, owner, inner).await
}
