//! Flows: their descriptors and metadata, start and stop, clones, and the
//! webhook endpoint that feeds a running flow's components.
//!
//! A flow is kept as the JSON text `getFlow` answers (a [`Document`]), so
//! every field a client gives at creation comes back exactly, key order
//! included, and a read copies no descriptor. Beside it sit parsed copies
//! of what lists sort on and of the descriptor's components, which every
//! change keeps in step with the text.
//!
//! The server owns `flowId`, `userId`, `stage`, `btime`, `mtime`, `started`
//! and `stopped`; a body that names one of them is refused. A user sees only
//! their own flows; another user's `flowId` answers the same 404 as an
//! unknown one. The one exception is `sharedWithPermissions`, which adds
//! flows whose `sharedWith` names the caller's e-mail to a list.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::document::{self, Builder, Document, JsonText};
use crate::errors::{ApiError, ApiResult, Source};
use crate::extractors::{JsonObject, PathParams};
use crate::ids;
use crate::payload::{Fields, wrong_type};
use crate::query::{Filter, Pattern, Projection, QueryParams, SortKey, sorted_page};
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

/// One flow: its owner, the document `getFlow` answers, and what lists and
/// component lookups need of it, parsed.
pub struct Flow {
    /// The `flowId`.
    pub id: String,
    /// The owner's user id.
    pub owner: String,
    /// The flow as stored and answered.
    document: Document,
    /// The fields lists sort on, in [`SORTABLE`]'s order. Each is a string
    /// when present (`name` is checked to be one, the others are the
    /// server's), so they order as MongoDB orders them: missing first.
    sortable: [Option<Box<str>>; SORTABLE.len()],
    /// The descriptor's components.
    components: Components,
}

impl Flow {
    /// The flow of `document`, whose fields are in the order to answer them.
    fn new(id: String, owner: String, document: &Map<String, Value>) -> Self {
        Self {
            id,
            owner,
            sortable: SORTABLE.map(|field| text(document.get(field))),
            components: Components::of(document.get("flow")),
            document: Document::new(document),
        }
    }

    /// The flow of `document`.
    fn from_document(id: String, owner: String, document: Document) -> Self {
        Self {
            id,
            owner,
            sortable: SORTABLE.map(|field| text(document.get(field).as_ref())),
            components: Components::of(document.get("flow").as_ref()),
            document,
        }
    }

    /// The flow's `name`.
    pub fn name(&self) -> &str {
        self.sort_value(sortable_index("name")).unwrap_or_default()
    }

    /// Whether the flow's `stage` is `running`.
    pub fn is_running(&self) -> bool {
        self.sort_value(sortable_index("stage")) == Some("running")
    }

    /// The components of the descriptor, in its order, as `(id, type)`.
    pub fn components(&self) -> impl Iterator<Item = (&str, &str)> {
        self.components.iter()
    }

    /// The type of component `component_id`, if the descriptor has it.
    pub fn component_type(&self, component_id: &str) -> Option<&str> {
        self.components()
            .find(|(id, _)| *id == component_id)
            .map(|(_, kind)| kind)
    }

    /// The value of field `key`, parsed: for reading strings, as
    /// [`Document::get`] explains.
    pub fn field(&self, key: &str) -> Option<Value> {
        self.document.get(key)
    }

    /// Sets field `key` to `value`, in its place or last.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.change(&[(key.to_owned(), Some(value.into()))]);
    }

    /// Removes field `key`; answers whether the flow had it.
    pub fn remove(&mut self, key: &str) -> bool {
        let had = self.document.contains(key);
        if had {
            self.change(&[(key.to_owned(), None)]);
        }
        had
    }

    /// Makes `changes` in turn: a value sets the field in its place or
    /// last, `None` removes it.
    fn change(&mut self, changes: &[(String, Option<Value>)]) {
        for (key, change) in changes {
            if let Some(index) = sortable_index(key) {
                self.sortable[index] = text(change.as_ref());
            }
            if key == "flow" {
                self.components = Components::of(change.as_ref());
            }
        }
        self.document = self.document.changed(changes);
    }

    /// The JSON text of the flow as `projection` keeps it.
    fn answer(&self, projection: &Projection) -> Bytes {
        self.document.project(projection, "flowId")
    }

    fn sort_value(&self, index: Option<usize>) -> Option<&str> {
        index.and_then(|index| self.sortable[index].as_deref())
    }
}

/// Where `field` is in [`SORTABLE`].
fn sortable_index(field: &str) -> Option<usize> {
    SORTABLE.iter().position(|sortable| *sortable == field)
}

/// The text of a string value.
fn text(value: Option<&Value>) -> Option<Box<str>> {
    value.and_then(Value::as_str).map(Box::from)
}

/// The `(id, type)` of each component of a descriptor, in its order, in one
/// buffer: a descriptor has tens of components, and webhook messages,
/// account assignments and flow authentication look them up.
#[derive(Debug, Default)]
struct Components {
    /// Each component's id, then its type, back to back.
    text: Box<str>,
    /// Where each id ends and where its type ends, in `text`.
    ends: Box<[(usize, usize)]>,
}

impl Components {
    /// The components of `descriptor`: its values that have a string `type`.
    fn of(descriptor: Option<&Value>) -> Self {
        let mut text = String::new();
        let mut ends = Vec::new();
        for (id, component) in descriptor.and_then(Value::as_object).into_iter().flatten() {
            let Some(kind) = component.get("type").and_then(Value::as_str) else {
                continue;
            };
            text.push_str(id);
            let id_end = text.len();
            text.push_str(kind);
            ends.push((id_end, text.len()));
        }
        Self {
            text: text.into(),
            ends: ends.into(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut start = 0;
        self.ends.iter().map(move |&(id_end, end)| {
            let component = (&self.text[start..id_end], &self.text[id_end..end]);
            start = end;
            component
        })
    }
}

/// The order `sort` gives flows: its field, then `flowId` ascending, so
/// that it is total.
pub fn order(sort: &SortKey) -> impl Fn(&&Flow, &&Flow) -> Ordering + use<> {
    let index = sortable_index(&sort.field);
    let descending = sort.descending;
    move |a, b| {
        let primary = a.sort_value(index).cmp(&b.sort_value(index));
        let primary = if descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| a.id.cmp(&b.id))
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

/// Whether `pattern` is in the flow's name or id.
fn matches_pattern(flow: &Flow, pattern: &Pattern) -> bool {
    pattern.is_in(flow.name()) || pattern.is_in(&flow.id)
}

/// Whether the flow's `sharedWith` gives `email` every one of `permissions`.
fn is_shared_with(flow: &Flow, email: &str, permissions: &[String]) -> bool {
    let Some(Value::Array(entries)) = flow.field("sharedWith") else {
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
    pattern: Option<Pattern>,
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
            pattern: query.one("pattern")?.map(Pattern::new),
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
            .filter(|flow| {
                self.filters
                    .iter()
                    .all(|filter| filter.matches_json(flow.document.lookup(filter.path())))
            })
            .collect()
    }
}

/// `GET /flows`.
async fn get_flows(
    State(state): State<SharedState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<JsonText> {
    let selection = Selection::parse(&query)?;
    let sort = query.sort(&SORTABLE, SortKey::ascending("btime"))?;
    let projection = query.projection()?;
    let page = query.page()?;

    let flows = read(&state.flows);
    let selected = selection.select(&flows, &caller);
    let answers: Vec<Bytes> = sorted_page(selected, &page, order(&sort))
        .into_iter()
        .map(|flow| flow.answer(&projection))
        .collect();
    drop(flows);
    Ok(JsonText(document::array(&answers)))
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
    let flow = Flow::new(flow_id.clone(), caller.id.clone(), &document);
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
) -> ApiResult<JsonText> {
    let projection = query.projection()?;
    let flows = read(&state.flows);
    let answer = flows.owned(&caller, &flow_id)?.answer(&projection);
    drop(flows);
    Ok(JsonText(answer))
}

/// Replaces each field `body` names and bumps `mtime`.
fn apply_update(flow: &mut Flow, body: Map<String, Value>, now: &str) {
    let mut changes: Vec<(String, Option<Value>)> = body
        .into_iter()
        .map(|(key, value)| (key, Some(value)))
        .collect();
    changes.push(("mtime".into(), Some(now.into())));
    flow.change(&changes);
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
        flow.change(&[
            ("stage".into(), Some("running".into())),
            ("started".into(), Some(now.into())),
        ]);
    }
}

/// Stops the flow; a stopped flow stays as it is.
pub fn stop(flow: &mut Flow, now: &str) {
    if flow.is_running() {
        flow.change(&[
            ("stage".into(), Some("stopped".into())),
            ("stopped".into(), Some(now.into())),
        ]);
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

/// The document of `clone_id`, the copy of `original`: the server's fields
/// around the original's client fields less what the projection leaves out
/// (never the name), then `additional`, then the prefixed name, as
/// [`new_document`] puts them together.
fn clone_document(
    original: &Flow,
    options: &CloneOptions,
    clone_id: &str,
    owner: &str,
    now: &str,
) -> Document {
    let client = document::project(
        original
            .document
            .fields()
            .filter(|(key, _)| !SERVER_FIELDS.contains(key)),
        &options.projection,
        "name",
    );
    let client = document::object_fields(&client).unwrap_or_default();

    let mut builder = Builder::default();
    builder.set_str("flowId", clone_id);
    builder.set_str("userId", owner);
    for (key, text) in &client {
        builder.set_text(key, text);
    }
    for (key, value) in &options.additional {
        builder.set(key, value);
    }
    let name = builder.string("name").unwrap_or_default();
    builder.set_str("name", &format!("{}{name}", options.prefix));
    if options.set_origin_flow_id {
        builder.set_str("originFlowId", &original.id);
    }
    if !builder.contains("flow") {
        builder.set_text("flow", b"{}");
    }
    builder.set_str("stage", "stopped");
    builder.set_str("btime", now);
    builder.set_str("mtime", now);
    builder.build()
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
    let original = flows.owned(&caller, &flow_id)?;
    let clone_id = ids::uuid();
    let now = iso(state.clock.now());
    let document = clone_document(original, &options, &clone_id, &caller.id, &now);
    let clone = Flow::from_document(clone_id.clone(), caller.id.clone(), document);
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
