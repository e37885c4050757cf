//! Faults of records: lookups by key alone, and characters outside the
//! Basic Multilingual Plane mangled on the way in.

use axum::http::Method;
use serde_json::Value;

use super::Fault;
use super::layer::{Answer, Call, Chain, Ctx, captures};
use crate::records::record_document;
use crate::state::read;

/// Whether `fault`, one of this area's, may change a request to `method` `path`.
pub fn applies(fault: Fault, method: &Method, path: &str) -> bool {
    let on =
        |expected: Method, pattern: &str| method == expected && captures(path, pattern).is_some();
    match fault {
        Fault::SameKeyReadsOtherStore => on(Method::GET, "/store/{}/{}"),
        Fault::NonBmpRecordValueMangled => on(Method::POST, "/store/{}/{}"),
        _ => false,
    }
}

/// Handles `call` with `fault`, one of this area's, switched on.
pub async fn apply(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    match fault {
        Fault::SameKeyReadsOtherStore => read_other_store(fault, ctx, call, inner).await,
        Fault::NonBmpRecordValueMangled => mangle_non_bmp(fault, ctx, call, inner).await,
        _ => inner.run(call).await,
    }
}

/// Answers the record of the caller's other store (the one with the lowest
/// id) that has the same key, as an index on the key alone would.
async fn read_other_store(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let Some([store_id, key]) = call
        .captures("/store/{}/{}")
        .and_then(|ids| <[String; 2]>::try_from(ids).ok())
    else {
        return inner.run(call).await;
    };
    let caller = call.caller(ctx.app());
    let mut answer = inner.run(call).await;
    let Some(caller) = caller.filter(|_| answer.is_success()) else {
        return answer;
    };
    let other: Option<Value> = {
        let stores = read(&ctx.app().stores);
        let mut holders: Vec<_> = stores
            .iter()
            .filter(|store| store.owner == caller.id && store.id != store_id)
            .filter(|store| store.records.contains_key(&key))
            .collect();
        holders.sort_by(|a, b| a.id.cmp(&b.id));
        holders
            .first()
            .map(|store| Value::Object(record_document(store, &key, &store.records[&key])))
    };
    if let Some(other) = other {
        answer.set_body(&other);
        ctx.fired(fault);
    }
    answer
}

/// Replaces each character outside the Basic Multilingual Plane with U+FFFD,
/// as a store that keeps UCS-2 would.
async fn mangle_non_bmp(fault: Fault, ctx: &Ctx<'_>, mut call: Call, inner: Chain<'_>) -> Answer {
    let mangled = call
        .text()
        .filter(|text| text.chars().any(beyond_bmp))
        .map(|text| {
            text.chars()
                .map(|c| {
                    if beyond_bmp(c) {
                        char::REPLACEMENT_CHARACTER
                    } else {
                        c
                    }
                })
                .collect::<String>()
        });
    let Some(mangled) = mangled else {
        return inner.run(call).await;
    };
    call.set_text(mangled);
    let answer = inner.run(call).await;
    if answer.is_success() {
        ctx.fired(fault);
    }
    answer
}

fn beyond_bmp(c: char) -> bool {
    u32::from(c) > 0xFFFF
}
