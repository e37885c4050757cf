//! Flows: their descriptors and metadata, start and stop, clones, and the
//! webhook endpoint that feeds a running flow's components.
//!
//! A flow is kept as the JSON object `getFlow` answers, so every field a
//! client gives at creation comes back exactly, key order included. The
//! server owns `flowId`, `userId`, `stage`, `btime`, `mtime`, `started` and
//! `stopped`; a body that names one of them is refused. A user sees only
//! their own flows; another user's `flowId` answers the same 404 as an
//! unknown one. The one exception is `sharedWithPermissions`, which adds
//! flows whose `sharedWith` names the caller's e-mail to a list.

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::errors::{ApiError, ApiResult, Source};
use crate::extractors::{JsonObject, PathParams};
use crate::ids;
use crate::payload::{Fields, wrong_type};
use crate::query::{
    Filter, Projection, QueryParams, SortKey, contains_ignore_case, matches_all, sort_documents,
};
use crate::state::{SharedState, read, write};
use crate::users::Caller;

/// The fields only the server sets.
pub const SERVER_FIELDS: [&str; 7] = [
    "flowId", "userId", "stage", "btime", "mtime", "started", "stopped",
];

const SORTABLE: [&str; 6] = ["name", "btime", "mtime", "stage", "started", "stopped"];

const PERMISSIONS: [&str; 3] = ["read", "start", "stop"];

/// The routes of this area.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/flows", get(get_flows).post(create_flow))
        .route("/flows/count", get(get_flows_count))
        .route(
            "/flows/{flowId}",
            get(get_flow).put(update_flow).delete(delete_flow),
        )
        .route("/flows/{flowId}/coordinator", post(send_flow_command))
        .route("/flows/{flowId}/clone", post(clone_flow))
        .route(
            "/flows/{flowId}/components/{componentId}",
            post(send_component_message),
        )
}

/// Every flow of the server, keyed by `flowId`.
#[derive(Default)]
pub struct Flows {
    by_id: HashMap<String, Flow>,
}

/// One flow: its owner and the document `getFlow` answers.
pub struct Flow {
    /// The `flowId`.
    pub id: String,
    /// The owner's user id.
    pub owner: String,
    /// The flow as stored and answered.
    pub document: Map<String, Value>,
}

impl Flow {
    /// The flow's `name`.
    pub fn name(&self) -> &str {
        self.document
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Whether the flow's `stage` is `running`.
    pub fn is_running(&self) -> bool {
        self.document.get("stage").and_then(Value::as_str) == Some("running")
    }

    /// The components of the descriptor, in its order, as `(id, type)`.
    pub fn components(&self) -> impl Iterator<Item = (&str, &str)> {
        self.document
            .get("flow")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(id, component)| {
                let kind = component.get("type")?.as_str()?;
                Some((id.as_str(), kind))
            })
    }

    /// The type of component `component_id`, if the descriptor has it.
    pub fn component_type(&self, component_id: &str) -> Option<&str> {
        self.components()
            .find(|(id, _)| *id == component_id)
            .map(|(_, kind)| kind)
    }
}

impl Flows {
    /// The caller's flow `flow_id`; 404 when unknown or another user's.
    pub fn owned(&self, caller: &Caller, flow_id: &str) -> ApiResult<&Flow> {
        self.by_id
            .get(flow_id)
            .filter(|flow| flow.owner == caller.id)
            .ok_or_else(|| ApiError::not_found("Flow"))
    }

    /// The caller's flow `flow_id`, for changing it.
    pub fn owned_mut(&mut self, caller: &Caller, flow_id: &str) -> ApiResult<&mut Flow> {
        self.by_id
            .get_mut(flow_id)
            .filter(|flow| flow.owner == caller.id)
            .ok_or_else(|| ApiError::not_found("Flow"))
    }

    /// The flows of user `user_id`, in no particular order.
    pub fn of_user<'a>(&'a self, user_id: &'a str) -> impl Iterator<Item = &'a Flow> {
        self.by_id
            .values()
            .filter(move |flow| flow.owner == user_id)
    }

    /// Flow `flow_id`, whoever owns it.
    pub fn get(&self, flow_id: &str) -> Option<&Flow> {
        self.by_id.get(flow_id)
    }

    /// Flow `flow_id`, whoever owns it, for changing it.
    pub fn get_mut(&mut self, flow_id: &str) -> Option<&mut Flow> {
        self.by_id.get_mut(flow_id)
    }
}

/// Refuses a flow body (or `at`-prefixed part of one) that names a server
/// field or gives a declared field the wrong type.
fn check_fields(body: &Map<String, Value>, at: &str) -> ApiResult<()> {
    let fields = Fields::nested(body, at);
    fields.refuse_server_fields(&SERVER_FIELDS)?;
    fields.string("name")?;
    fields.string("thumbnail")?;
    fields.nullable_string("description")?;
    fields.object("customFields")?;
    if let Some(descriptor) = body.get("flow") {
        check_descriptor(descriptor, &format!("{at}flow"))?;
    }
    if let Some(shared) = fields.array("sharedWith")? {
        check_shared_with(shared, &format!("{at}sharedWith"))?;
    }
    Ok(())
}

/// A descriptor is an object whose values are components: objects with a
/// string `type` and, when present, the declared types of `label`,
/// `version`, `x`, `y`, `config` and `source`.
fn check_descriptor(descriptor: &Value, key: &str) -> ApiResult<()> {
    let Value::Object(components) = descriptor else {
        return Err(wrong_type(key, "an object of components", descriptor));
    };
    for (id, component) in components {
        let at = format!("{key}.{id}");
        let Value::Object(component) = component else {
            return Err(wrong_type(&at, "an object", component));
        };
        let prefix = format!("{at}.");
        let fields = Fields::nested(component, &prefix);
        if fields.string("type")?.is_none() {
            return Err(ApiError::invalid(
                Source::Payload,
                format!("{at}.type"),
                format!("`{at}.type` is required: every component needs a type"),
            ));
        }
        fields.string("label")?;
        fields.string("version")?;
        fields.integer("x")?;
        fields.integer("y")?;
        fields.object("config")?;
        if let Some(source) = fields.object("source")? {
            check_source(source, &format!("{at}.source"))?;
        }
    }
    Ok(())
}

/// A component's `source` maps input ports to `{componentId: [outPort, …]}`.
fn check_source(source: &Map<String, Value>, key: &str) -> ApiResult<()> {
    for (port, feeds) in source {
        let at = format!("{key}.{port}");
        let Value::Object(feeds) = feeds else {
            return Err(wrong_type(&at, "an object of components", feeds));
        };
        for (component, ports) in feeds {
            let at = format!("{at}.{component}");
            let is_port_list = ports
                .as_array()
                .is_some_and(|ports| ports.iter().all(Value::is_string));
            if !is_port_list {
                return Err(wrong_type(&at, "an array of output port names", ports));
            }
        }
    }
    Ok(())
}

/// `sharedWith` is a list of `{email, permissions}` with known permissions.
fn check_shared_with(shared: &[Value], key: &str) -> ApiResult<()> {
    for (index, entry) in shared.iter().enumerate() {
        let at = format!("{key}.{index}");
        let Value::Object(entry) = entry else {
            return Err(wrong_type(&at, "an object", entry));
        };
        match entry.get("email") {
            Some(Value::String(_)) => {}
            Some(other) => return Err(wrong_type(&format!("{at}.email"), "a string", other)),
            None => {
                return Err(ApiError::invalid(
                    Source::Payload,
                    format!("{at}.email"),
                    format!("`{at}.email` is required"),
                ));
            }
        }
        let permissions = match entry.get("permissions") {
            Some(Value::Array(permissions)) => permissions,
            Some(other) => {
                return Err(wrong_type(&format!("{at}.permissions"), "an array", other));
            }
            None => {
                return Err(ApiError::invalid(
                    Source::Payload,
                    format!("{at}.permissions"),
                    format!("`{at}.permissions` is required"),
                ));
            }
        };
        for permission in permissions {
            if !permission
                .as_str()
                .is_some_and(|p| PERMISSIONS.contains(&p))
            {
                return Err(ApiError::invalid(
                    Source::Payload,
                    format!("{at}.permissions"),
                    format!(
                        "`{at}.permissions` may hold only `read`, `start` and `stop`, got {permission}"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The document of a new flow: the server's fields around the client's, in
/// the client's order, with an empty descriptor when none is given.
fn new_document(
    flow_id: &str,
    owner: &str,
    fields: Map<String, Value>,
    now: &str,
) -> Map<String, Value> {
    let mut document = Map::new();
    document.insert("flowId".into(), flow_id.into());
    document.insert("userId".into(), owner.into());
    document.extend(fields);
    document.entry("flow").or_insert_with(|| json!({}));
    document.insert("stage".into(), "stopped".into());
    document.insert("btime".into(), now.into());
    document.insert("mtime".into(), now.into());
    document
}

/// Whether `pattern` is a case-insensitive substring of the flow's name or id.
fn matches_pattern(flow: &Flow, pattern: &str) -> bool {
    contains_ignore_case(flow.name(), pattern) || contains_ignore_case(&flow.id, pattern)
}

/// Whether the flow's `sharedWith` gives `email` every one of `permissions`.
fn is_shared_with(flow: &Flow, email: &str, permissions: &[String]) -> bool {
    let Some(Value::Array(entries)) = flow.document.get("sharedWith") else {
        return false;
    };
    entries.iter().any(|entry| {
        let granted: Vec<&str> = entry
            .get("permissions")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        entry.get("email").and_then(Value::as_str) == Some(email)
            && permissions.iter().all(|p| granted.contains(&p.as_str()))
    })
}

/// Which flows `getFlows` and `getFlowsCount` select.
struct Selection {
    pattern: Option<String>,
    filters: Vec<Filter>,
    shared: Option<Vec<String>>,
}

impl Selection {
    fn parse(query: &QueryParams) -> ApiResult<Self> {
        let shared = match query.one("sharedWithPermissions")? {
            None => None,
            Some(raw) => {
                let permissions: Vec<String> =
                    raw.split(',').map(|p| p.trim().to_owned()).collect();
                if let Some(bad) = permissions
                    .iter()
                    .find(|p| !PERMISSIONS.contains(&p.as_str()))
                {
                    return Err(ApiError::invalid(
                        Source::Query,
                        "sharedWithPermissions",
                        format!(
                            "`sharedWithPermissions` must list `read`, `start` or `stop`, got `{bad}`"
                        ),
                    ));
                }
                Some(permissions)
            }
        };
        Ok(Self {
            pattern: query.one("pattern")?.map(str::to_owned),
            filters: query.filters()?,
            shared,
        })
    }

    fn select<'a>(&self, flows: &'a Flows, caller: &Caller) -> Vec<&'a Flow> {
        flows
            .by_id
            .values()
            .filter(|flow| {
                flow.owner == caller.id
                    || self
                        .shared
                        .as_ref()
                        .is_some_and(|perms| is_shared_with(flow, &caller.email, perms))
            })
            .filter(|flow| {
                self.pattern
                    .as_ref()
                    .is_none_or(|pattern| matches_pattern(flow, pattern))
            })
            .filter(|flow| matches_all(&self.filters, &flow.document))
            .collect()
    }
}

/// `GET /flows`.
async fn get_flows(
    State(state): State<SharedState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let selection = Selection::parse(&query)?;
    let sort = query.sort(&SORTABLE, SortKey::ascending("btime"))?;
    let projection = query.projection()?;
    let page = query.page()?;

    let flows = read(&state.flows);
    let mut selected = selection.select(&flows, &caller);
    sort_documents(&mut selected, &sort, "flowId", |flow| &flow.document);
    let answer = page
        .apply(selected)
        .into_iter()
        .map(|flow| Value::Object(projection.apply(&flow.document, "flowId")))
        .collect();
    Ok(Json(Value::Array(answer)))
}

/// `GET /flows/count`.
async fn get_flows_count(
    State(state): State<SharedState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let selection = Selection::parse(&query)?;
    let flows = read(&state.flows);
    let count = selection.select(&flows, &caller).len();
    Ok(Json(json!({ "count": count })))
}

/// `POST /flows`.
async fn create_flow(
    State(state): State<SharedState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    check_fields(&body, "")?;
    Fields::new(&body).required_string("name")?;

    let flow_id = ids::uuid();
    let now = iso(state.clock.now());
    let document = new_document(&flow_id, &caller.id, body, &now);
    let flow = Flow {
        id: flow_id.clone(),
        owner: caller.id.clone(),
        document,
    };
    write(&state.flows).by_id.insert(flow_id.clone(), flow);
    tracing::debug!(flow_id = %flow_id, "flow created");
    Ok(Json(json!({ "flowId": flow_id })))
}

/// `GET /flows/{flowId}`.
async fn get_flow(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(flow_id): PathParams<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let projection = query.projection()?;
    let flows = read(&state.flows);
    let flow = flows.owned(&caller, &flow_id)?;
    Ok(Json(Value::Object(
        projection.apply(&flow.document, "flowId"),
    )))
}

/// Replaces each field `body` names and bumps `mtime`.
fn apply_update(flow: &mut Flow, body: Map<String, Value>, now: &str) {
    flow.document.extend(body);
    flow.document.insert("mtime".into(), now.into());
}

/// `PUT /flows/{flowId}`.
async fn update_flow(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(flow_id): PathParams<String>,
    query: QueryParams,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let force = query.boolean("forceUpdate")?.unwrap_or(false);
    check_fields(&body, "")?;

    let mut flows = write(&state.flows);
    let flow = flows.owned_mut(&caller, &flow_id)?;
    if flow.is_running() && !force {
        return Err(ApiError::conflict(format!(
            "Flow `{flow_id}` is running; stop it first or pass `forceUpdate=true`"
        )));
    }
    let replaces_descriptor = body.contains_key("flow");
    apply_update(flow, body, &iso(state.clock.now()));
    if replaces_descriptor {
        let present: HashSet<String> = flow.components().map(|(id, _)| id.to_owned()).collect();
        write(&state.accounts).retain_components(&flow_id, &present);
    }
    Ok(Json(json!({ "flowId": flow_id, "result": "updated" })))
}

/// `DELETE /flows/{flowId}`.
async fn delete_flow(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(flow_id): PathParams<String>,
) -> ApiResult<Json<Value>> {
    let mut flows = write(&state.flows);
    flows.owned(&caller, &flow_id)?;
    flows.by_id.remove(&flow_id);
    write(&state.accounts).drop_flow(&flow_id);
    Ok(Json(json!({ "flowId": flow_id })))
}

/// Starts the flow; a running flow stays as it is.
pub fn start(flow: &mut Flow, now: &str) {
    if !flow.is_running() {
        flow.document.insert("stage".into(), "running".into());
        flow.document.insert("started".into(), now.into());
    }
}

/// Stops the flow; a stopped flow stays as it is.
pub fn stop(flow: &mut Flow, now: &str) {
    if flow.is_running() {
        flow.document.insert("stage".into(), "stopped".into());
        flow.document.insert("stopped".into(), now.into());
    }
}

/// `POST /flows/{flowId}/coordinator`.
async fn send_flow_command(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(flow_id): PathParams<String>,
    query: QueryParams,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let background = query.boolean("background")?.unwrap_or(false);
    let command = Fields::new(&body).required_string("command")?;
    if command != "start" && command != "stop" {
        return Err(ApiError::invalid(
            Source::Payload,
            "command",
            format!("`command` must be `start` or `stop`, got `{command}`"),
        ));
    }

    let mut flows = write(&state.flows);
    let flow = flows.owned_mut(&caller, &flow_id)?;
    let now = iso(state.clock.now());
    let mut answer = json!({ "flowId": flow_id });
    if command == "start" {
        start(flow, &now);
    } else {
        stop(flow, &now);
        if background {
            answer["ticket"] = flow_id.clone().into();
        }
    }
    Ok(Json(answer))
}

/// The options of `cloneFlow`.
struct CloneOptions {
    prefix: String,
    projection: Projection,
    connect_accounts: bool,
    set_origin_flow_id: bool,
    additional: Map<String, Value>,
}

impl CloneOptions {
    fn parse(body: &Map<String, Value>) -> ApiResult<Self> {
        let fields = Fields::new(body);
        let projection = match fields.string("projection")? {
            Some(raw) => Projection::parse(raw, "projection", Source::Payload)?,
            None => Projection::All,
        };
        // The server keeps component ids in the copy (its descriptor equals the
        // original's), so these two have nothing to change; they are still
        // checked, like every declared field.
        fields.boolean("isTemplateInstance")?;
        fields.boolean("setComponentIdMap")?;
        let additional = fields.object("additional")?.cloned().unwrap_or_default();
        check_fields(&additional, "additional.")?;
        Ok(Self {
            prefix: fields.string("prefix")?.unwrap_or_default().to_owned(),
            projection,
            connect_accounts: fields.boolean("connectAccounts")?.unwrap_or(false),
            set_origin_flow_id: fields.boolean("setOriginFlowId")?.unwrap_or(false),
            additional,
        })
    }
}

/// The client fields of the copy of `original`: a deep copy less what the
/// projection leaves out (never the name), then `additional`, then the prefix.
fn clone_fields(original: &Flow, options: &CloneOptions) -> Map<String, Value> {
    let mut fields: Map<String, Value> = original
        .document
        .iter()
        .filter(|(key, _)| !SERVER_FIELDS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    fields = options.projection.apply(&fields, "name");
    fields.extend(options.additional.clone());
    let name = fields
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = format!("{}{name}", options.prefix);
    fields.insert("name".into(), name.into());
    if options.set_origin_flow_id {
        fields.insert("originFlowId".into(), original.id.clone().into());
    }
    fields
}

/// `POST /flows/{flowId}/clone`.
async fn clone_flow(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(flow_id): PathParams<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let options = CloneOptions::parse(&body)?;

    let mut flows = write(&state.flows);
    let fields = clone_fields(flows.owned(&caller, &flow_id)?, &options);
    let clone_id = ids::uuid();
    let now = iso(state.clock.now());
    let clone = Flow {
        id: clone_id.clone(),
        owner: caller.id.clone(),
        document: new_document(&clone_id, &caller.id, fields, &now),
    };
    flows.by_id.insert(clone_id.clone(), clone);
    if options.connect_accounts {
        write(&state.accounts).copy_assignments(&flow_id, &clone_id);
    }
    Ok(Json(json!({ "cloneId": clone_id })))
}

/// `POST /flows/{flowId}/components/{componentId}`: needs no token, like a
/// webhook; the message becomes a log entry of the flow's owner.
async fn send_component_message(
    State(state): State<SharedState>,
    PathParams((flow_id, component_id)): PathParams<(String, String)>,
    JsonObject(message): JsonObject,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let flows = read(&state.flows);
    let flow = flows
        .by_id
        .get(&flow_id)
        .ok_or_else(|| ApiError::not_found("Flow"))?;
    let component_type = flow
        .component_type(&component_id)
        .ok_or_else(|| ApiError::not_found("Component"))?;
    if !flow.is_running() {
        return Err(ApiError::conflict(format!(
            "Flow `{flow_id}` is not running; start it before sending messages to its components"
        )));
    }
    write(&state.logs).record(
        &state.clock,
        &flow.owner,
        &flow_id,
        &component_id,
        component_type,
        Value::Object(message),
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "flowId": flow_id, "componentId": component_id })),
    ))
}
