//! Data stores and their records.
//!
//! Store: create → get → listed → rename (answers the old name) → get shows
//! the new name. Records, with a key that needs percent-encoding and a
//! `text/plain` value outside the BMP: set → get, list and count agree →
//! setting the same key again overwrites without adding a record (as the
//! list shows) → a `pattern` narrows the count → delete one (then get is
//! 404) → delete many (existing keys counted, missing ones skipped) → the
//! list is empty. Each count is held to the list read just before it, so a
//! wrong count is blamed on `getStoreRecordsCount` alone. Finally the store
//! is deleted and `getStore` answers 404.

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::scenarios::{count_of, describe_count, ids_of, items};
use crate::session::{Session, StatusRule, Step};
use crate::transport::{Call, Exchange};

/// Walks a data store and its records through their lifecycle.
pub async fn run(s: &mut Session) -> Step<()> {
    let name = s.name("store");
    let exchange = s
        .call(Call::new("createStore").body(json!({"name": name})))
        .await?;
    let store_id = s.require_str(
        "createStore",
        "stores.create-answers-id",
        &exchange,
        "/storeId",
    )?;
    s.created(Kind::Store, &store_id);

    let exchange = s
        .call(Call::new("getStore").path("storeId", &store_id))
        .await?;
    let body = s.require_success("getStore", "stores.get-finds-store", &exchange)?;
    s.expect_json(
        "createStore",
        "stores.create-persists",
        Some(&exchange),
        &json!({"storeId": store_id, "name": name}),
        Some(&json!({"storeId": body.get("storeId"), "name": body.get("name")})),
    );

    let exchange = s.call(Call::new("getStores")).await?;
    let body = s.require_success("getStores", "stores.list-succeeds", &exchange)?;
    let listed = ids_of(items(&body), "storeId");
    s.expect(
        "getStores",
        "stores.list-includes-created",
        Some(&exchange),
        listed.contains(&store_id),
        || format!("a list with {store_id}"),
        || format!("{} stores without it", listed.len()),
    );

    let new_name = s.name("store (renamed)");
    let exchange = s
        .call(
            Call::new("renameStore")
                .path("storeId", &store_id)
                .body(json!({"name": new_name})),
        )
        .await?;
    let body = s.require_success("renameStore", "stores.rename-succeeds", &exchange)?;
    s.expect_json(
        "renameStore",
        "stores.rename-answers-old-name",
        Some(&exchange),
        &json!({"storeId": store_id, "oldName": name}),
        Some(&json!({"storeId": body.get("storeId"), "oldName": body.get("oldName")})),
    );
    let exchange = s
        .call(Call::new("getStore").path("storeId", &store_id))
        .await?;
    let body = s.require_success("getStore", "stores.get-finds-store", &exchange)?;
    s.expect_json(
        "renameStore",
        "stores.rename-persists",
        Some(&exchange),
        &json!(new_name),
        body.get("name"),
    );

    records(s, &store_id).await?;

    let exchange = s
        .call(Call::new("deleteStore").path("storeId", &store_id))
        .await?;
    s.require_success("deleteStore", "stores.delete-succeeds", &exchange)?;
    s.deleted(Kind::Store, &store_id);
    let exchange = s
        .call(Call::new("getStore").path("storeId", &store_id))
        .await?;
    s.expect_status(
        "getStore",
        "stores.get-after-delete-is-404",
        &exchange,
        StatusRule::Exactly(404),
    );
    let exchange = s.call(Call::new("getStores")).await?;
    let body = s.require_success("getStores", "stores.list-succeeds", &exchange)?;
    let listed = ids_of(items(&body), "storeId");
    s.expect(
        "getStores",
        "stores.list-after-delete-excludes",
        Some(&exchange),
        !listed.contains(&store_id),
        || format!("a list without {store_id}"),
        || "a list that still has it".into(),
    );
    Ok(())
}

async fn set(s: &mut Session, store_id: &str, key: &str, value: &str) -> Step<Value> {
    let exchange = s
        .call(
            Call::new("createStoreItem")
                .path("storeId", store_id)
                .path("key", key)
                .body(json!(value)),
        )
        .await?;
    let body = s.require_success("createStoreItem", "records.set-succeeds", &exchange)?;
    s.expect_json(
        "createStoreItem",
        "records.set-answers-record",
        Some(&exchange),
        &json!({"key": key, "value": value}),
        Some(&json!({"key": body.get("key"), "value": body.get("value")})),
    );
    Ok(body)
}

async fn count(s: &mut Session, store_id: &str, pattern: Option<&str>) -> Step<Option<u64>> {
    let mut call = Call::new("getStoreRecordsCount").query("storeId", store_id);
    if let Some(pattern) = pattern {
        call = call.query("pattern", pattern);
    }
    let exchange = s.call(call).await?;
    let body = s.require_success("getStoreRecordsCount", "records.count-succeeds", &exchange)?;
    Ok(count_of(&body))
}

async fn records(s: &mut Session, store_id: &str) -> Step<()> {
    // A space, a question mark, a hash and a non-ASCII letter: the key only
    // arrives intact if the path parameter is percent-encoded and decoded.
    let key = format!("{} order ü?#1", s.tag);
    let other_key = format!("{} order 2", s.tag);
    let value = "shipped 𝄞 e\u{301}";

    set(s, store_id, &key, value).await?;
    let exchange = s
        .call(
            Call::new("getStoreItem")
                .path("storeId", store_id)
                .path("key", &key),
        )
        .await?;
    let body = s.require_success("getStoreItem", "records.get-succeeds", &exchange)?;
    s.expect_json(
        "getStoreItem",
        "records.get-returns-value",
        Some(&exchange),
        &json!(value),
        body.get("value"),
    );
    s.expect_json(
        "getStoreItem",
        "records.get-returns-key",
        Some(&exchange),
        &json!(key),
        body.get("key"),
    );

    set(s, store_id, &other_key, "pending").await?;
    let exchange = s
        .call(Call::new("getStoreRecords").query("storeId", store_id))
        .await?;
    let body = s.require_success("getStoreRecords", "records.list-succeeds", &exchange)?;
    let listed: Vec<(Option<&str>, Option<&Value>)> = items(&body)
        .iter()
        .map(|record| {
            (
                record.get("key").and_then(Value::as_str),
                record.get("value"),
            )
        })
        .collect();
    s.expect(
        "getStoreRecords",
        "records.list-includes-created",
        Some(&exchange),
        listed.contains(&(Some(key.as_str()), Some(&json!(value))))
            && listed.iter().any(|(k, _)| *k == Some(other_key.as_str())),
        || "both records, with their values".into(),
        || format!("{} records: {listed:?}", listed.len()),
    );
    let listed_count = listed.len() as u64;
    let counted = count(s, store_id, None).await?;
    s.expect(
        "getStoreRecordsCount",
        "records.count-matches-list",
        None,
        counted == Some(listed_count),
        || format!("count {listed_count}, as listed"),
        || describe_count(counted),
    );

    set(s, store_id, &other_key, "delivered").await?;
    // The list shows what the overwrite did; the count is held to the list,
    // so that a wrong count is blamed on the count alone.
    let (exchange, listed) = list(s, store_id).await?;
    let overwritten = listed.iter().filter(|(k, _)| *k == other_key).count() == 1
        && listed.contains(&(other_key.clone(), json!("delivered")));
    s.expect(
        "createStoreItem",
        "records.set-overwrites",
        Some(&exchange),
        overwritten && listed.len() as u64 == listed_count,
        || format!("{listed_count} records, `{other_key}` once with the new value"),
        || format!("{} records: {listed:?}", listed.len()),
    );
    let counted = count(s, store_id, None).await?;
    s.expect(
        "getStoreRecordsCount",
        "records.count-matches-list",
        None,
        counted == Some(listed.len() as u64),
        || format!("count {}, as listed", listed.len()),
        || describe_count(counted),
    );
    let counted = count(s, store_id, Some("DELIVERED")).await?;
    s.expect(
        "getStoreRecordsCount",
        "records.pattern-narrows-count",
        None,
        counted == Some(1),
        || "count 1 for the pattern `DELIVERED` (case-insensitive, in one value)".into(),
        || describe_count(counted),
    );

    let exchange = s
        .call(
            Call::new("deleteStoreItem")
                .path("storeId", store_id)
                .path("key", &key),
        )
        .await?;
    s.require_success("deleteStoreItem", "records.delete-succeeds", &exchange)?;
    let exchange = s
        .call(
            Call::new("getStoreItem")
                .path("storeId", store_id)
                .path("key", &key),
        )
        .await?;
    s.expect_status(
        "getStoreItem",
        "records.get-after-delete-is-404",
        &exchange,
        StatusRule::Exactly(404),
    );

    let exchange = s
        .call(Call::new("deleteStoreItems").body(json!([
            {"key": other_key, "storeId": store_id},
            {"key": format!("{} never set", s.tag), "storeId": store_id},
        ])))
        .await?;
    let body = s.require_success(
        "deleteStoreItems",
        "records.delete-many-succeeds",
        &exchange,
    )?;
    s.expect_json(
        "deleteStoreItems",
        "records.delete-many-counts-deleted",
        Some(&exchange),
        &json!(1),
        body.get("deletedCount"),
    );
    let (exchange, listed) = list(s, store_id).await?;
    s.expect(
        "deleteStoreItems",
        "records.list-after-delete-is-empty",
        Some(&exchange),
        listed.is_empty(),
        || "no records left".into(),
        || format!("{} records: {listed:?}", listed.len()),
    );
    let counted = count(s, store_id, None).await?;
    s.expect(
        "getStoreRecordsCount",
        "records.count-matches-list",
        None,
        counted == Some(0),
        || "count 0, as listed".into(),
        || describe_count(counted),
    );
    Ok(())
}

/// The store's records, as key and value.
async fn list(s: &mut Session, store_id: &str) -> Step<(Exchange, Vec<(String, Value)>)> {
    let exchange = s
        .call(Call::new("getStoreRecords").query("storeId", store_id))
        .await?;
    let body = s.require_success("getStoreRecords", "records.list-succeeds", &exchange)?;
    let listed = items(&body)
        .iter()
        .map(|record| {
            (
                record
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                record.get("value").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    Ok((exchange, listed))
}
