//! Faults of data stores: a list without an owner filter, a rename without
//! effect, a crash on long names, and a renamed store without its name.

use axum::http::Method;
use serde_json::Value;

use super::Fault;
use super::layer::{Answer, Call, Chain, Ctx, captures};
use crate::errors::ApiError;
use crate::state::{read, write};
use crate::stores::store_document;

/// The longest name the faulty server handles.
const LONGEST_NAME: usize = 255;

/// Whether `fault`, one of this area's, may change a request to `method` `path`.
pub fn applies(fault: Fault, method: &Method, path: &str) -> bool {
    let on =
        |expected: Method, pattern: &str| method == expected && captures(path, pattern).is_some();
    match fault {
        Fault::StoresListIncludesOtherUsers => on(Method::GET, "/stores"),
        Fault::StoreRenameWithoutEffect => on(Method::PUT, "/stores/{}"),
        Fault::CrashOnLongStoreName => on(Method::POST, "/stores") || on(Method::PUT, "/stores/{}"),
        Fault::RenamedStoreOmitsName => {
            on(Method::PUT, "/stores/{}") || on(Method::GET, "/stores/{}")
        }
        _ => false,
    }
}

/// Handles `call` with `fault`, one of this area's, switched on.
pub async fn apply(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    match fault {
        Fault::StoresListIncludesOtherUsers => list_everyone(fault, ctx, call, inner).await,
        Fault::StoreRenameWithoutEffect => rename_back(fault, ctx, call, inner).await,
        Fault::CrashOnLongStoreName => crash_on_long_name(fault, ctx, call, inner).await,
        Fault::RenamedStoreOmitsName => omit_renamed_name(fault, ctx, call, inner).await,
        _ => inner.run(call).await,
    }
}

/// Appends every other user's stores to the caller's list.
async fn list_everyone(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let caller = call.caller(ctx.app());
    let mut answer = inner.run(call).await;
    let (Some(caller), Some(Value::Array(mut listed))) = (caller, answer.body()) else {
        return answer;
    };
    if !answer.is_success() {
        return answer;
    }
    let others: Vec<Value> = {
        let stores = read(&ctx.app().stores);
        let mut others: Vec<_> = stores
            .iter()
            .filter(|store| store.owner != caller.id)
            .collect();
        others.sort_by(|a, b| a.id.cmp(&b.id));
        others.into_iter().map(store_document).collect()
    };
    if others.is_empty() {
        return answer;
    }
    listed.extend(others);
    answer.set_body(&Value::Array(listed));
    ctx.fired(fault);
    answer
}

/// Puts the old name back after a successful rename.
async fn rename_back(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let id = call
        .captures("/stores/{}")
        .and_then(|ids| ids.into_iter().next());
    let answer = inner.run(call).await;
    let (Some(id), true) = (id, answer.is_success()) else {
        return answer;
    };
    let Some(old_name) = answer
        .body()
        .and_then(|body| body["oldName"].as_str().map(str::to_owned))
    else {
        return answer;
    };
    if let Some(store) = write(&ctx.app().stores).get_mut(&id) {
        store.name = old_name;
        ctx.fired(fault);
    }
    answer
}

/// Answers 500 to a store name longer than [`LONGEST_NAME`] characters.
async fn crash_on_long_name(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let too_long = call.json_object().is_some_and(|body| {
        body.get("name")
            .and_then(Value::as_str)
            .is_some_and(|name| name.chars().count() > LONGEST_NAME)
    });
    if !too_long {
        return inner.run(call).await;
    }
    ctx.fired(fault);
    tracing::error!("the store name does not fit its column (planted fault)");
    Answer::error(&ApiError::internal())
}

/// Remembers renamed stores and answers them without `name`.
async fn omit_renamed_name(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let Some(id) = call
        .captures("/stores/{}")
        .and_then(|ids| ids.into_iter().next())
    else {
        return inner.run(call).await;
    };
    let renaming = call.method() == Method::PUT;
    let mut answer = inner.run(call).await;
    if !answer.is_success() {
        return answer;
    }
    if renaming {
        ctx.memory().renamed_stores.insert(id);
        return answer;
    }
    if !ctx.memory().renamed_stores.contains(&id) {
        return answer;
    }
    if let Some(Value::Object(mut store)) = answer.body() {
        store.shift_remove("name");
        answer.set_body(&Value::Object(store));
        ctx.fired(fault);
    }
    answer
}
