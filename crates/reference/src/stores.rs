//! Data stores: named containers of records, one owner each.
//!
//! A store holds its records (see [`crate::records`]) so that deleting a
//! store deletes them under the same lock. Another user's `storeId` answers
//! the same 404 as an unknown one. The server sets `storeId` and `userId`;
//! a create or rename body that names either is refused.

use std::collections::HashMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::errors::{ApiError, ApiResult};
use crate::extractors::{JsonObject, PathParams};
use crate::ids;
use crate::payload::Fields;
use crate::records::Record;
use crate::state::{SharedState, read, write};
use crate::users::Caller;

/// The fields only the server sets.
const SERVER_FIELDS: [&str; 2] = ["storeId", "userId"];

/// The routes of this area.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/stores", get(get_stores).post(create_store))
        .route(
            "/stores/{storeId}",
            get(get_store).put(rename_store).delete(delete_store),
        )
}

/// Every store of the server, keyed by `storeId`.
#[derive(Default)]
pub struct Stores {
    by_id: HashMap<String, Store>,
}

/// One data store and its records.
pub struct Store {
    /// The `storeId`.
    pub id: String,
    /// The owner's user id.
    pub owner: String,
    /// The store's name.
    pub name: String,
    /// When it was created, which orders `getStores`.
    created: String,
    /// The records, keyed by their key.
    pub records: HashMap<String, Record>,
}

impl Stores {
    /// The caller's store `store_id`; 404 when unknown or another user's.
    pub fn owned(&self, caller: &Caller, store_id: &str) -> ApiResult<&Store> {
        self.by_id
            .get(store_id)
            .filter(|store| store.owner == caller.id)
            .ok_or_else(|| ApiError::not_found("Store"))
    }

    /// Every store, whoever owns it, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Store> {
        self.by_id.values()
    }

    /// Store `store_id`, whoever owns it, for changing it.
    pub fn get_mut(&mut self, store_id: &str) -> Option<&mut Store> {
        self.by_id.get_mut(store_id)
    }

    /// The caller's store `store_id`, for changing it.
    pub fn owned_mut(&mut self, caller: &Caller, store_id: &str) -> ApiResult<&mut Store> {
        self.by_id
            .get_mut(store_id)
            .filter(|store| store.owner == caller.id)
            .ok_or_else(|| ApiError::not_found("Store"))
    }
}

/// The store as `getStore` answers it.
pub fn store_document(store: &Store) -> Value {
    json!({ "storeId": store.id, "name": store.name, "userId": store.owner })
}

/// The `name` of a create or rename body, which names no server field.
fn store_name(body: &Map<String, Value>) -> ApiResult<&str> {
    let fields = Fields::new(body);
    fields.refuse_server_fields(&SERVER_FIELDS)?;
    fields.non_empty_string("name")
}

/// `GET /stores`: the caller's stores, oldest first.
async fn get_stores(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    let stores = read(&state.stores);
    let mut owned: Vec<&Store> = stores
        .by_id
        .values()
        .filter(|store| store.owner == caller.id)
        .collect();
    owned.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
    Ok(Json(owned.into_iter().map(store_document).collect()))
}

/// `POST /stores`.
async fn create_store(
    State(state): State<SharedState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let name = store_name(&body)?;
    let store = Store {
        id: ids::object_id(),
        owner: caller.id.clone(),
        name: name.to_owned(),
        created: iso(state.clock.now()),
        records: HashMap::new(),
    };
    let store_id = store.id.clone();
    write(&state.stores).by_id.insert(store_id.clone(), store);
    Ok(Json(json!({ "storeId": store_id })))
}

/// `GET /stores/{storeId}`.
async fn get_store(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(store_id): PathParams<String>,
) -> ApiResult<Json<Value>> {
    let stores = read(&state.stores);
    Ok(Json(store_document(stores.owned(&caller, &store_id)?)))
}

/// `PUT /stores/{storeId}`: answers the id and the name before the change.
async fn rename_store(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(store_id): PathParams<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let name = store_name(&body)?;
    let mut stores = write(&state.stores);
    let store = stores.owned_mut(&caller, &store_id)?;
    let old_name = std::mem::replace(&mut store.name, name.to_owned());
    Ok(Json(json!({ "storeId": store_id, "oldName": old_name })))
}

/// `DELETE /stores/{storeId}`: deletes the store with its records and
/// answers 200 with an empty body.
async fn delete_store(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(store_id): PathParams<String>,
) -> ApiResult<()> {
    let mut stores = write(&state.stores);
    stores.owned(&caller, &store_id)?;
    stores.by_id.remove(&store_id);
    Ok(())
}
