//! Records: the key–value items of a data store.
//!
//! A record is named by its store and key; the same key in two stores is two
//! records. `createStoreItem` stores a `text/plain` body as the exact string
//! and an `application/json` body as the parsed value, and updates a key that
//! exists (its `createdAt` stays, its `updatedAt` moves). Lists are
//! `pattern`-searched over key and value, sorted and paged like every list;
//! a store may hold many records, so a list sorts only what comes before
//! its page's end and builds the answer of the page's records alone.

use std::cmp::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::errors::{ApiError, ApiResult, Source, kind};
use crate::extractors::{JsonBody, PathParams, RawBody};
use crate::payload::{missing, wrong_type};
use crate::query::{Pattern, QueryParams, SortKey, sorted_page};
use crate::state::{SharedState, read, write};
use crate::stores::Store;
use crate::users::Caller;

const SORTABLE: [&str; 3] = ["key", "createdAt", "updatedAt"];

/// The routes of this area.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/store", get(get_store_records).delete(delete_store_items))
        .route("/store/count", get(get_store_records_count))
        .route(
            "/store/{storeId}/{key}",
            get(get_store_item)
                .post(create_store_item)
                .delete(delete_store_item),
        )
}

/// One record's value and times; its key and store are where it is kept.
pub struct Record {
    value: Value,
    created_at: String,
    updated_at: String,
}

/// The record as answered.
pub fn record_document(store: &Store, key: &str, record: &Record) -> Map<String, Value> {
    let mut document = Map::new();
    document.insert("key".into(), key.into());
    document.insert("value".into(), record.value.clone());
    document.insert("storeId".into(), store.id.clone().into());
    document.insert("userId".into(), store.owner.clone().into());
    document.insert("createdAt".into(), record.created_at.clone().into());
    document.insert("updatedAt".into(), record.updated_at.clone().into());
    document
}

/// Whether `pattern` is in the key or in the value (a non-string value is
/// searched as its JSON text).
fn matches_pattern(key: &str, value: &Value, pattern: &Pattern) -> bool {
    pattern.is_in(key)
        || match value {
            Value::String(text) => pattern.is_in(text),
            other => pattern.is_in(&other.to_string()),
        }
}

/// Which records `getStoreRecords` and `getStoreRecordsCount` select: the
/// store's id and the pattern, if any.
fn selection(query: &QueryParams) -> ApiResult<(&str, Option<Pattern>)> {
    let store_id = query.one("storeId")?.ok_or_else(|| {
        ApiError::invalid(
            Source::Query,
            "storeId",
            "`storeId` is required: name the store whose records to read",
        )
    })?;
    Ok((store_id, query.one("pattern")?.map(Pattern::new)))
}

/// A record with its key, as lists select them.
type Entry<'a> = (&'a String, &'a Record);

/// The records of `store` that `pattern` selects, unsorted.
fn select<'a>(store: &'a Store, pattern: Option<&'a Pattern>) -> impl Iterator<Item = Entry<'a>> {
    store
        .records
        .iter()
        .filter(move |(key, record)| pattern.is_none_or(|p| matches_pattern(key, &record.value, p)))
}

/// The order `sort` gives records: its field, then the key ascending.
fn order(sort: &SortKey) -> impl Fn(&Entry<'_>, &Entry<'_>) -> Ordering + use<> {
    let field: for<'a> fn(&Entry<'a>) -> &'a str = match sort.field.as_str() {
        "createdAt" => |&(_, record)| record.created_at.as_str(),
        "updatedAt" => |&(_, record)| record.updated_at.as_str(),
        _ => |&(key, _)| key.as_str(),
    };
    let descending = sort.descending;
    move |a, b| {
        let primary = field(a).cmp(field(b));
        let primary = if descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| a.0.cmp(b.0))
    }
}

/// `GET /store`.
async fn get_store_records(
    State(state): State<SharedState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let sort = query.sort(&SORTABLE, SortKey::ascending("createdAt"))?;
    let page = query.page()?;
    let (store_id, pattern) = selection(&query)?;
    let stores = read(&state.stores);
    let store = stores.owned(&caller, store_id)?;
    let selected: Vec<_> = select(store, pattern.as_ref()).collect();
    Ok(Json(
        sorted_page(selected, &page, order(&sort))
            .into_iter()
            .map(|(key, record)| Value::Object(record_document(store, key, record)))
            .collect(),
    ))
}

/// `GET /store/count`.
async fn get_store_records_count(
    State(state): State<SharedState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let (store_id, pattern) = selection(&query)?;
    let stores = read(&state.stores);
    let count = select(stores.owned(&caller, store_id)?, pattern.as_ref()).count();
    Ok(Json(json!({ "count": count })))
}

/// `DELETE /store`: deletes each named record of the caller's; the others
/// are skipped.
async fn delete_store_items(
    State(state): State<SharedState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let Value::Array(items) = body else {
        return Err(ApiError::invalid(
            Source::Payload,
            "payload",
            format!(
                "The request payload must be an array of `{{key, storeId}}`, got {}",
                kind(&body)
            ),
        ));
    };
    let mut refs = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(wrong_type(&index.to_string(), "an object", item));
        };
        let field = |name: &str| match item.get(name) {
            Some(Value::String(text)) => Ok(text.clone()),
            Some(other) => Err(wrong_type(&format!("{index}.{name}"), "a string", other)),
            None => Err(missing(&format!("{index}.{name}"))),
        };
        refs.push((field("storeId")?, field("key")?));
    }

    let mut stores = write(&state.stores);
    let mut deleted = 0;
    for (store_id, key) in refs {
        if let Ok(store) = stores.owned_mut(&caller, &store_id)
            && store.records.remove(&key).is_some()
        {
            deleted += 1;
        }
    }
    Ok(Json(json!({ "deletedCount": deleted })))
}

/// `GET /store/{storeId}/{key}`.
async fn get_store_item(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams((store_id, key)): PathParams<(String, String)>,
) -> ApiResult<Json<Value>> {
    let stores = read(&state.stores);
    let store = stores.owned(&caller, &store_id)?;
    let record = store
        .records
        .get(&key)
        .ok_or_else(|| ApiError::not_found("Record"))?;
    Ok(Json(Value::Object(record_document(store, &key, record))))
}

/// The value a `createStoreItem` body carries: the text of a `text/plain`
/// body, the parsed value of an `application/json` one.
fn record_value(body: RawBody) -> ApiResult<Value> {
    match body.media_type.as_deref() {
        Some("text/plain") => String::from_utf8(body.bytes.to_vec())
            .map(Value::String)
            .map_err(|_| {
                ApiError::invalid(
                    Source::Payload,
                    "payload",
                    "A `text/plain` record value must be valid UTF-8",
                )
            }),
        Some(json) if json == "application/json" || json.ends_with("+json") => {
            serde_json::from_slice(&body.bytes).map_err(|error| {
                ApiError::bad_request(format!("Invalid request payload JSON format: {error}"))
            })
        }
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "A record value must be sent as `text/plain` or `application/json`, got `{}`",
                other.unwrap_or("no Content-Type")
            ),
        )),
    }
}

/// `POST /store/{storeId}/{key}`: sets the value, creating the record if needed.
async fn create_store_item(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams((store_id, key)): PathParams<(String, String)>,
    body: RawBody,
) -> ApiResult<Json<Value>> {
    let value = record_value(body)?;
    let mut stores = write(&state.stores);
    let store = stores.owned_mut(&caller, &store_id)?;
    let now = iso(state.clock.now());
    store
        .records
        .entry(key.clone())
        .and_modify(|record| {
            record.value = value.clone();
            record.updated_at = now.clone();
        })
        .or_insert_with(|| Record {
            value,
            created_at: now.clone(),
            updated_at: now,
        });
    let store = &*store;
    Ok(Json(Value::Object(record_document(
        store,
        &key,
        &store.records[&key],
    ))))
}

/// `DELETE /store/{storeId}/{key}`: answers 200 with an empty body.
async fn delete_store_item(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams((store_id, key)): PathParams<(String, String)>,
) -> ApiResult<()> {
    let mut stores = write(&state.stores);
    let store = stores.owned_mut(&caller, &store_id)?;
    store
        .records
        .remove(&key)
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found("Record"))
}
