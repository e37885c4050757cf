//! Connected accounts and their assignment to flow components.
//!
//! An account belongs to one user and one service (`vendor:service`). Its
//! token is stored and never answered. A component of one of the user's
//! flows uses an account once `assignAccount` ties them; the tie is kept per
//! `(flowId, componentId)`, at most one account each. Deleting an account
//! removes its ties and stops the flows that had one; deleting a flow, or
//! dropping a component from its descriptor, removes that flow's ties.
//!
//! Component ids are meant to be unique across flows, but a clone keeps the
//! original's ids, so one component id may sit in several of a user's flows.
//! `assignAccount` then ties the account in every one of them.
//!
//! The server sets `accountId` and `userId`; a create or rename body that
//! names either is refused.

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::errors::{ApiError, ApiResult, Source};
use crate::extractors::{JsonObject, PathParams};
use crate::flow_auth::required_service;
use crate::flows::{self, Flows};
use crate::ids;
use crate::payload::{Fields, missing};
use crate::query::{QueryParams, SortKey, matches_all};
use crate::state::{SharedState, read, write};
use crate::users::Caller;

/// The picture every account answers as its `icon`.
const ICON: &str = "data:image/svg+xml,%3Csvg%20xmlns%3D%27http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%27%20\
viewBox%3D%270%200%2016%2016%27%3E%3Crect%20width%3D%2716%27%20height%3D%2716%27%20rx%3D%273%27%20\
fill%3D%27%23607d8b%27%2F%3E%3C%2Fsvg%3E";

/// The fields only the server sets.
const SERVER_FIELDS: [&str; 2] = ["accountId", "userId"];

/// The routes of this area.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/accounts", get(get_accounts).post(create_account))
        .route(
            "/accounts/{accountId}",
            put(set_account_name).delete(delete_account),
        )
        .route("/accounts/{accountId}/flows", get(get_account_flows))
        .route(
            "/auth/component/{componentId}/{accountId}",
            put(assign_account),
        )
        .route("/auth/{componentType}", get(get_component_accounts))
}

/// Every account of the server and every assignment.
#[derive(Default)]
pub struct Accounts {
    by_id: HashMap<String, Account>,
    /// `(flowId, componentId)` → `accountId`.
    assignments: HashMap<(String, String), String>,
}

/// One connected account.
pub struct Account {
    /// The `accountId`.
    pub id: String,
    /// The owner's user id.
    pub owner: String,
    /// When it was created, which orders lists.
    created: String,
    /// The id of its stored token.
    token_id: String,
    /// The token as given; never answered.
    token: Map<String, Value>,
    /// The account as answered.
    pub document: Map<String, Value>,
}

impl Account {
    /// The account's `service`.
    pub fn service(&self) -> &str {
        self.document
            .get("service")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The token as it was given.
    pub fn token(&self) -> &Map<String, Value> {
        &self.token
    }

    /// The scope the token grants: its `scope`, as a list or a space- or
    /// comma-separated string.
    fn authorized_scope(&self) -> Vec<String> {
        match self.token.get("scope") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(text)) => text
                .split([' ', ','])
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Accounts {
    /// The caller's account `account_id`; 404 when unknown or another user's.
    pub fn owned(&self, caller: &Caller, account_id: &str) -> ApiResult<&Account> {
        self.by_id
            .get(account_id)
            .filter(|account| account.owner == caller.id)
            .ok_or_else(|| ApiError::not_found("Account"))
    }

    /// Account `account_id`, whoever owns it.
    pub fn get(&self, account_id: &str) -> Option<&Account> {
        self.by_id.get(account_id)
    }

    /// The accounts of user `user_id`, oldest first.
    pub fn of_user(&self, user_id: &str) -> Vec<&Account> {
        let mut accounts: Vec<&Account> = self
            .by_id
            .values()
            .filter(|account| account.owner == user_id)
            .collect();
        accounts.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
        accounts
    }

    /// The accounts of user `user_id` for `service`, oldest first.
    pub fn of_service(&self, user_id: &str, service: &str) -> Vec<&Account> {
        let mut accounts = self.of_user(user_id);
        accounts.retain(|account| account.service() == service);
        accounts
    }

    /// The account assigned to component `component_id` of flow `flow_id`.
    pub fn assigned(&self, flow_id: &str, component_id: &str) -> Option<&str> {
        self.assignments
            .get(&(flow_id.to_owned(), component_id.to_owned()))
            .map(String::as_str)
    }

    /// Removes the assignments of flow `flow_id`.
    pub fn drop_flow(&mut self, flow_id: &str) {
        self.assignments.retain(|(flow, _), _| flow != flow_id);
    }

    /// Removes the assignments of flow `flow_id` whose component is not in `present`.
    pub fn retain_components(&mut self, flow_id: &str, present: &HashSet<String>) {
        self.assignments
            .retain(|(flow, component), _| flow != flow_id || present.contains(component));
    }

    /// Gives flow `to` the assignments flow `from` has.
    pub fn copy_assignments(&mut self, from: &str, to: &str) {
        let copies: Vec<((String, String), String)> = self
            .assignments
            .iter()
            .filter(|((flow, _), _)| flow == from)
            .map(|((_, component), account)| ((to.to_owned(), component.clone()), account.clone()))
            .collect();
        self.assignments.extend(copies);
    }
}

/// One account as a component sees it, for `getComponentAccounts` and
/// `getFlowAuthentication`.
pub fn authentication_entry(
    account: &Account,
    component_id: Option<&str>,
    assigned: bool,
) -> Value {
    let mut entry = json!({
        "accountId": account.id,
        "tokenId": account.token_id,
        "name": account.document.get("name").cloned().unwrap_or(Value::Null),
        "displayName": account.document.get("displayName").cloned().unwrap_or(Value::Null),
        "accessTokenValid": true,
        "scopeValid": true,
        "authorizedScope": account.authorized_scope(),
        "componentAssigned": assigned,
    });
    if let Some(component_id) = component_id {
        entry["componentId"] = component_id.into();
    }
    entry
}

/// The label of a service: its last part, capitalised (`appmixer:slack` → `Slack`).
fn service_label(service: &str) -> String {
    let last = service.rsplit(':').next().unwrap_or(service);
    let mut chars = last.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `GET /accounts`.
async fn get_accounts(
    State(state): State<SharedState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let filters = query.filters()?;
    let accounts = read(&state.accounts);
    let answer = accounts
        .of_user(&caller.id)
        .into_iter()
        .filter(|account| matches_all(&filters, &account.document))
        .map(|account| Value::Object(account.document.clone()))
        .collect();
    Ok(Json(Value::Array(answer)))
}

/// `POST /accounts`.
async fn create_account(
    State(state): State<SharedState>,
    caller: Caller,
    query: QueryParams,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    // The server cannot reach a service to check a scope or fetch a profile,
    // so these only have to be well-formed.
    query.boolean("validateScope")?;
    query.boolean("requestProfileInfo")?;
    let fields = Fields::new(&body);
    fields.refuse_server_fields(&SERVER_FIELDS)?;
    let service = fields.non_empty_string("service")?;
    if !service.contains(':') || service.split(':').any(str::is_empty) {
        return Err(ApiError::invalid(
            Source::Payload,
            "service",
            format!("`service` must be `vendor:service`, e.g. `appmixer:slack`, got `{service}`"),
        ));
    }
    let token = fields
        .object("token")?
        .ok_or_else(|| missing("token"))?
        .clone();
    let name = fields.string("name")?.unwrap_or(service);
    let display_name = fields.string("displayName")?;
    let profile_info = fields.object("profileInfo")?.cloned().unwrap_or_default();

    let account_id = ids::object_id();
    let mut document = Map::new();
    document.insert("accountId".into(), account_id.clone().into());
    document.insert("name".into(), name.into());
    document.insert("displayName".into(), display_name.into());
    document.insert("service".into(), service.into());
    document.insert("userId".into(), caller.id.clone().into());
    document.insert("profileInfo".into(), Value::Object(profile_info));
    document.insert("icon".into(), ICON.into());
    document.insert("label".into(), service_label(service).into());
    document.insert("revoked".into(), false.into());
    document.insert("pre".into(), json!({}));
    let account = Account {
        id: account_id.clone(),
        owner: caller.id.clone(),
        created: iso(state.clock.now()),
        token_id: ids::object_id(),
        token,
        document: document.clone(),
    };
    write(&state.accounts).by_id.insert(account_id, account);
    Ok(Json(Value::Object(document)))
}

/// `PUT /accounts/{accountId}`: answers 200 with an empty body.
async fn set_account_name(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(account_id): PathParams<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<()> {
    let fields = Fields::new(&body);
    fields.refuse_server_fields(&SERVER_FIELDS)?;
    let display_name = fields.required_string("displayName")?;
    let mut accounts = write(&state.accounts);
    accounts.owned(&caller, &account_id)?;
    if let Some(account) = accounts.by_id.get_mut(&account_id) {
        account
            .document
            .insert("displayName".into(), display_name.into());
    }
    Ok(())
}

/// `DELETE /accounts/{accountId}`: also unassigns it and stops its flows.
async fn delete_account(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(account_id): PathParams<String>,
) -> ApiResult<Json<Value>> {
    let mut flows = write(&state.flows);
    let mut accounts = write(&state.accounts);
    accounts.owned(&caller, &account_id)?;
    accounts.by_id.remove(&account_id);
    let mut flows_using = HashSet::new();
    accounts.assignments.retain(|(flow, _), account| {
        let keep = *account != account_id;
        if !keep {
            flows_using.insert(flow.clone());
        }
        keep
    });
    let now = iso(state.clock.now());
    for flow_id in flows_using {
        if let Some(flow) = flows.get_mut(&flow_id) {
            flows::stop(flow, &now);
        }
    }
    Ok(Json(json!({ "accountId": account_id })))
}

/// `GET /accounts/{accountId}/flows`: the caller's flows with a component
/// assigned to the account, oldest first.
async fn get_account_flows(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(account_id): PathParams<String>,
) -> ApiResult<Json<Value>> {
    let flows = read(&state.flows);
    let accounts = read(&state.accounts);
    accounts.owned(&caller, &account_id)?;
    let using: HashSet<&str> = accounts
        .assignments
        .iter()
        .filter(|(_, account)| **account == account_id)
        .map(|((flow, _), _)| flow.as_str())
        .collect();
    let mut selected: Vec<_> = flows
        .of_user(&caller.id)
        .filter(|flow| using.contains(flow.id.as_str()))
        .collect();
    selected.sort_by(flows::order(&SortKey::ascending("btime")));
    let answer = selected
        .into_iter()
        .map(|flow| json!({ "flowId": flow.id, "name": flow.name() }))
        .collect();
    Ok(Json(Value::Array(answer)))
}

/// The caller's flows whose descriptor has component `component_id`, with its type.
fn flows_with_component<'a>(
    flows: &'a Flows,
    caller: &'a Caller,
    component_id: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    flows.of_user(&caller.id).filter_map(move |flow| {
        flow.component_type(component_id)
            .map(|kind| (flow.id.as_str(), kind))
    })
}

/// `PUT /auth/component/{componentId}/{accountId}`.
async fn assign_account(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams((component_id, account_id)): PathParams<(String, String)>,
) -> ApiResult<Json<Value>> {
    let flows = read(&state.flows);
    let mut accounts = write(&state.accounts);
    let service = accounts.owned(&caller, &account_id)?.service().to_owned();
    let holders: Vec<(&str, &str)> = flows_with_component(&flows, &caller, &component_id).collect();
    if holders.is_empty() {
        // The path names nothing to assign to: the same 404 as an unknown account.
        return Err(ApiError::not_found("Component"));
    }
    for (_, kind) in &holders {
        match required_service(kind) {
            Some(needed) if needed == service => {}
            Some(needed) => {
                return Err(ApiError::invalid(
                    Source::Params,
                    "accountId",
                    format!(
                        "Component `{component_id}` of type `{kind}` needs a `{needed}` account, \
                         not a `{service}` one"
                    ),
                ));
            }
            None => {
                return Err(ApiError::invalid(
                    Source::Params,
                    "componentId",
                    format!("Component `{component_id}` of type `{kind}` needs no account"),
                ));
            }
        }
    }
    for (flow_id, _) in holders {
        accounts.assignments.insert(
            (flow_id.to_owned(), component_id.clone()),
            account_id.clone(),
        );
    }
    Ok(Json(
        json!({ "accountId": account_id, "componentId": component_id }),
    ))
}

/// `GET /auth/{componentType}`: the caller's accounts of the type's service.
async fn get_component_accounts(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(component_type): PathParams<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let component_id = query.one("componentId")?;
    let flows = read(&state.flows);
    let accounts = read(&state.accounts);
    let mut entries = Map::new();
    if let Some(service) = required_service(&component_type) {
        let holders: Vec<&str> = component_id
            .map(|component| {
                flows_with_component(&flows, &caller, component)
                    .map(|(flow, _)| flow)
                    .collect()
            })
            .unwrap_or_default();
        for account in accounts.of_service(&caller.id, &service) {
            let assigned = component_id.is_some_and(|component| {
                holders
                    .iter()
                    .any(|flow| accounts.assigned(flow, component) == Some(account.id.as_str()))
            });
            entries.insert(
                account.id.clone(),
                authentication_entry(account, component_id, assigned),
            );
        }
    }
    Ok(Json(json!({
        "componentType": component_type,
        "auth": { "accounts": entries },
    })))
}
