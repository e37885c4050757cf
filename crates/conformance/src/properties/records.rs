//! Records belong to their store.
//!
//! [`run`] sets the same key in two stores to different values and reads
//! the record back from each store, by key, in its list and in its count:
//! each store must answer its own record and only that (property
//! `records.scoped-to-store`, recorded against the reading operation). An
//! engine that looks records up by key alone answers the other store's.

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::properties::{Ctx, count, create_store, delete, list, set_record};
use crate::session::{Session, Step};
use crate::transport::Call;

/// The property's name.
pub(crate) const PROPERTY: &str = "records.scoped-to-store";

/// The key both stores hold.
const SHARED_KEY: &str = "shared key 𝄞";

/// A key only the second store holds.
const ONLY_IN_SECOND: &str = "only in the second store";

/// The same key in two stores reads back as each store's own record.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("records");
    // Each store with the value of its shared key and how many records it has.
    let mut stores: Vec<(String, &str, usize)> = Vec::new();
    for (name, value) in [("first", "the first store's"), ("second", "the second's")] {
        let Some(store) = create_store(s, &format!("{tag} {name} store")).await? else {
            continue;
        };
        if set_record(s, &store, SHARED_KEY, value).await? {
            stores.push((store, value, 1));
        } else {
            delete(s, Kind::Store, &store).await?;
        }
    }
    if let [(first, _, _), (second, _, second_records)] = stores.as_mut_slice()
        && set_record(s, second, ONLY_IN_SECOND, "second only").await?
    {
        *second_records += 1;
        let exchange = s
            .call(
                Call::new("getStoreItem")
                    .path("storeId", first.as_str())
                    .path("key", ONLY_IN_SECOND),
            )
            .await?;
        let status = exchange.status();
        s.expect(
            "getStoreItem",
            PROPERTY,
            Some(&exchange),
            status == 404,
            || format!("status 404: store {first} has no record `{ONLY_IN_SECOND}`"),
            || format!("status {status}"),
        );
    }
    if stores.len() == 2 {
        for (store, value, records) in &stores {
            read_back(s, store, value, *records).await?;
        }
    }
    for (store, _, _) in stores {
        delete(s, Kind::Store, &store).await?;
    }
    Ok(())
}

/// Expects `store` to answer `value` for the shared key, to list exactly
/// its own `records` and to count them.
async fn read_back(s: &mut Session, store: &str, value: &str, records: usize) -> Step<()> {
    let exchange = s
        .call(
            Call::new("getStoreItem")
                .path("storeId", store)
                .path("key", SHARED_KEY),
        )
        .await?;
    if exchange.is_success() {
        let body = exchange.json_ref().unwrap_or(&Value::Null);
        let answered_store = body.get("storeId").and_then(Value::as_str);
        s.expect(
            "getStoreItem",
            PROPERTY,
            Some(&exchange),
            body.get("value") == Some(&json!(value))
                && answered_store.is_none_or(|answered| answered == store),
            || format!("store {store}'s own record: value {value:?}"),
            || {
                format!(
                    "value {} of store {}",
                    body.get("value").unwrap_or(&Value::Null),
                    answered_store.unwrap_or("(not given)")
                )
            },
        );
    }
    if let Some((exchange, listed)) =
        list(s, Call::new("getStoreRecords").query("storeId", store)).await?
    {
        let values: Vec<&Value> = listed
            .iter()
            .filter(|record| record.get("key") == Some(&json!(SHARED_KEY)))
            .filter_map(|record| record.get("value"))
            .collect();
        s.expect(
            "getStoreRecords",
            PROPERTY,
            Some(&exchange),
            values == [&json!(value)] && listed.len() == records,
            || format!("{records} records, `{SHARED_KEY}` once with value {value:?}"),
            || format!("{} records, `{SHARED_KEY}` with {values:?}", listed.len()),
        );
    }
    if let Some((exchange, counted)) =
        count(s, Call::new("getStoreRecordsCount").query("storeId", store)).await?
    {
        s.expect(
            "getStoreRecordsCount",
            PROPERTY,
            Some(&exchange),
            counted == records as u64,
            || format!("count {records}, the store's own records"),
            || format!("count {counted}"),
        );
    }
    Ok(())
}
