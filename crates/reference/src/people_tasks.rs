//! People tasks: approvals a requester asks of an approver, both named by
//! e-mail.
//!
//! Unlike every other area, tasks are not private to one user: they are
//! open to their parties (the users whose e-mail is the approver or the
//! requester) and to anyone holding one of their two secrets, which only the
//! answer to `createPeopleTask` reveals. Others get 403. Only the approver,
//! or a holder of the approver secret, decides a task, and it is decided
//! once: a second decision is refused with 400 and changes nothing.
//!
//! The server sets a task's id, status, secrets and timestamps; a create or
//! decision body that names one of them is refused.

use std::collections::HashMap;

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::errors::{ApiError, ApiResult, Source};
use crate::extractors::{JsonObject, MaybeCaller, PathParams};
use crate::ids;
use crate::payload::Fields;
use crate::query::{Filter, QueryParams, SortKey, matches_all, sort_documents};
use crate::state::{SharedState, read, write};
use crate::users::Caller;

const SORTABLE: [&str; 5] = ["title", "status", "decisionBy", "created", "mtime"];

/// The fields only the server sets.
const SERVER_FIELDS: [&str; 7] = [
    "id",
    "status",
    "approverSecret",
    "requesterSecret",
    "created",
    "mtime",
    "decisionMade",
];

/// The routes of this area.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route(
            "/people-task/tasks",
            get(get_people_tasks).post(create_people_task),
        )
        .route("/people-task/tasks-count", get(get_people_tasks_count))
        .route("/people-task/tasks/{id}", get(get_people_task))
        .route("/people-task/tasks/{id}/approve", put(approve_task))
        .route("/people-task/tasks/{id}/reject", put(reject_task))
}

/// Every people task of the server, keyed by id.
#[derive(Default)]
pub struct Tasks {
    by_id: HashMap<String, Task>,
}

impl Tasks {
    /// The `status` of task `task_id`, if it exists.
    pub fn status(&self, task_id: &str) -> Option<&str> {
        self.by_id.get(task_id).map(|task| task.field("status"))
    }

    /// Sets the `status` of task `task_id`, if it exists.
    pub fn set_status(&mut self, task_id: &str, status: &str) {
        if let Some(task) = self.by_id.get_mut(task_id) {
            task.document.insert("status".into(), status.into());
        }
    }

    /// The approver and requester secrets of task `task_id`, if it exists.
    pub fn secrets(&self, task_id: &str) -> Option<(&str, &str)> {
        self.by_id.get(task_id).map(|task| {
            (
                task.approver_secret.as_str(),
                task.requester_secret.as_str(),
            )
        })
    }
}

struct Task {
    /// The task as answered, less `isApprover`, which depends on the caller.
    document: Map<String, Value>,
    approver_secret: String,
    requester_secret: String,
}

impl Task {
    fn field(&self, name: &str) -> &str {
        self.document
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// Who is asking: the caller's e-mail, a secret, or both.
struct Viewer {
    email: Option<String>,
    secret: Option<String>,
}

impl Viewer {
    /// 401 when the request carries neither a token nor a secret.
    fn new(caller: Option<Caller>, secret: Option<&str>) -> ApiResult<Self> {
        let secret = secret.filter(|secret| !secret.is_empty());
        if caller.is_none() && secret.is_none() {
            return Err(ApiError::unauthorized("Missing authentication"));
        }
        Ok(Self {
            email: caller.map(|caller| caller.email),
            secret: secret.map(str::to_owned),
        })
    }

    fn is_email(&self, email: &str) -> bool {
        self.email.as_deref() == Some(email)
    }

    fn holds(&self, secret: &str) -> bool {
        self.secret.as_deref() == Some(secret)
    }

    /// Whether the viewer is the approver or holds the approver secret.
    fn is_approver(&self, task: &Task) -> bool {
        self.is_email(task.field("approver")) || self.holds(&task.approver_secret)
    }

    /// Whether the viewer may read the task.
    fn may_read(&self, task: &Task) -> bool {
        self.is_approver(task)
            || self.is_email(task.field("requester"))
            || self.holds(&task.requester_secret)
    }

    /// Whether a list for this viewer holds the task: with a secret, the
    /// task(s) it opens; without, the caller's; `role` narrows either.
    fn lists(&self, task: &Task, role: Option<Role>) -> bool {
        let (as_approver, as_requester) = match &self.secret {
            Some(_) => (
                self.holds(&task.approver_secret),
                self.holds(&task.requester_secret),
            ),
            None => (
                self.is_email(task.field("approver")),
                self.is_email(task.field("requester")),
            ),
        };
        match role {
            None => as_approver || as_requester,
            Some(Role::Approver) => as_approver,
            Some(Role::Requester) => as_requester,
        }
    }

    /// The task as this viewer sees it.
    fn view(&self, task: &Task) -> Map<String, Value> {
        let mut view = task.document.clone();
        view.insert("isApprover".into(), self.is_approver(task).into());
        view
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Approver,
    Requester,
}

/// What `getPeopleTasks` and `getPeopleTasksCount` select.
struct Selection {
    viewer: Viewer,
    role: Option<Role>,
    pattern: Option<Regex>,
    filters: Vec<Filter>,
}

impl Selection {
    fn parse(caller: Option<Caller>, query: &QueryParams) -> ApiResult<Self> {
        let viewer = Viewer::new(caller, query.one("secret")?)?;
        let role = match query.one("role")? {
            None => None,
            Some("approver") => Some(Role::Approver),
            Some("requester") => Some(Role::Requester),
            Some(other) => {
                return Err(ApiError::invalid(
                    Source::Query,
                    "role",
                    format!("`role` must be `approver` or `requester`, got `{other}`"),
                ));
            }
        };
        let pattern = query
            .one("pattern")?
            .map(|raw| {
                RegexBuilder::new(raw)
                    .case_insensitive(true)
                    .build()
                    .map_err(|error| {
                        ApiError::invalid(
                            Source::Query,
                            "pattern",
                            format!("`pattern` must be a regular expression: {error}"),
                        )
                    })
            })
            .transpose()?;
        Ok(Self {
            viewer,
            role,
            pattern,
            filters: query.filters()?,
        })
    }

    /// The selected tasks, as the viewer sees them.
    fn select(&self, tasks: &Tasks) -> Vec<Map<String, Value>> {
        tasks
            .by_id
            .values()
            .filter(|task| self.viewer.lists(task, self.role))
            .filter(|task| {
                self.pattern
                    .as_ref()
                    .is_none_or(|pattern| pattern.is_match(task.field("title")))
            })
            .map(|task| self.viewer.view(task))
            .filter(|view| matches_all(&self.filters, view))
            .collect()
    }
}

/// `GET /people-task/tasks`.
async fn get_people_tasks(
    State(state): State<SharedState>,
    MaybeCaller(caller): MaybeCaller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let selection = Selection::parse(caller, &query)?;
    let sort = query.sort(&SORTABLE, SortKey::ascending("created"))?;
    let projection = query.projection()?;
    let page = query.page()?;

    let mut views = selection.select(&read(&state.tasks));
    sort_documents(&mut views, &sort, "id", |view| view);
    let answer = page
        .apply(views)
        .into_iter()
        .map(|view| Value::Object(projection.apply(&view, "id")))
        .collect();
    Ok(Json(Value::Array(answer)))
}

/// `GET /people-task/tasks-count`.
async fn get_people_tasks_count(
    State(state): State<SharedState>,
    MaybeCaller(caller): MaybeCaller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let selection = Selection::parse(caller, &query)?;
    let count = selection.select(&read(&state.tasks)).len();
    Ok(Json(json!({ "count": count })))
}

/// `decisionBy` as the server stores it, or 400.
fn parse_decision_by(raw: &str) -> ApiResult<String> {
    DateTime::parse_from_rfc3339(raw)
        .map(|time| iso(time.with_timezone(&Utc)))
        .map_err(|_| {
            ApiError::invalid(
                Source::Payload,
                "decisionBy",
                format!(
                    "`decisionBy` must be an ISO-8601 date-time such as \
                     `2030-01-01T19:00:00.000Z`, got `{raw}`"
                ),
            )
        })
}

/// `POST /people-task/tasks`: the only answer that carries the secrets.
async fn create_people_task(
    State(state): State<SharedState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let fields = Fields::new(&body);
    fields.refuse_server_fields(&SERVER_FIELDS)?;
    let title = fields.non_empty_string("title")?;
    let requester = fields.non_empty_string("requester")?;
    let approver = fields.non_empty_string("approver")?;
    let description = fields.string("description")?;
    let decision_by = fields
        .string("decisionBy")?
        .map(parse_decision_by)
        .transpose()?;
    let public = fields.boolean("public")?.unwrap_or(false);

    let now = iso(state.clock.now());
    let id = ids::object_id();
    let mut document = Map::new();
    document.insert("id".into(), id.clone().into());
    document.insert("title".into(), title.into());
    if let Some(description) = description {
        document.insert("description".into(), description.into());
    }
    document.insert("status".into(), "pending".into());
    document.insert("public".into(), public.into());
    document.insert("approver".into(), approver.into());
    document.insert("requester".into(), requester.into());
    if let Some(decision_by) = decision_by {
        document.insert("decisionBy".into(), decision_by.into());
    }
    document.insert("created".into(), now.clone().into());
    document.insert("mtime".into(), now.into());
    let task = Task {
        document,
        approver_secret: ids::secret(),
        requester_secret: ids::secret(),
    };

    let viewer = Viewer::new(Some(caller), None)?;
    let mut answer = viewer.view(&task);
    answer.insert("approverSecret".into(), task.approver_secret.clone().into());
    answer.insert(
        "requesterSecret".into(),
        task.requester_secret.clone().into(),
    );
    write(&state.tasks).by_id.insert(id, task);
    Ok(Json(Value::Object(answer)))
}

/// `GET /people-task/tasks/{id}`.
async fn get_people_task(
    State(state): State<SharedState>,
    MaybeCaller(caller): MaybeCaller,
    PathParams(task_id): PathParams<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let viewer = Viewer::new(caller, query.one("secret")?)?;
    let tasks = read(&state.tasks);
    let task = tasks
        .by_id
        .get(&task_id)
        .ok_or_else(|| ApiError::not_found("Task"))?;
    if !viewer.may_read(task) {
        return Err(ApiError::forbidden(
            "Only the task's approver and requester, or a holder of one of its secrets, may read it",
        ));
    }
    Ok(Json(Value::Object(viewer.view(task))))
}

/// The decision `approveTask` or `rejectTask` makes.
#[derive(Debug, Clone, Copy)]
enum Decision {
    Approve,
    Reject,
}

impl Decision {
    fn verb(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }

    fn status(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }
}

/// Decides a pending task for its approver or a holder of its approver secret.
fn decide(
    state: &SharedState,
    caller: Option<Caller>,
    task_id: &str,
    query: &QueryParams,
    body: &Map<String, Value>,
    decision: Decision,
) -> ApiResult<Value> {
    let fields = Fields::new(body);
    fields.refuse_server_fields(&SERVER_FIELDS)?;
    let secret = match fields.string("secret")? {
        Some(secret) => Some(secret),
        None => query.one("secret")?,
    };
    let viewer = Viewer::new(caller, secret)?;
    let mut tasks = write(&state.tasks);
    let task = tasks
        .by_id
        .get_mut(task_id)
        .ok_or_else(|| ApiError::not_found("Task"))?;
    if !viewer.is_approver(task) {
        return Err(ApiError::forbidden(format!(
            "Only the task's approver, or a holder of its approver secret, may {} it",
            decision.verb()
        )));
    }
    let status = task.field("status");
    if status != "pending" {
        return Err(ApiError::bad_request(format!(
            "Cannot {} task, already {status}",
            decision.verb()
        )));
    }
    let now = iso(state.clock.now());
    task.document
        .insert("status".into(), decision.status().into());
    task.document
        .insert("decisionMade".into(), now.clone().into());
    task.document.insert("mtime".into(), now.into());
    Ok(Value::Object(viewer.view(task)))
}

/// `PUT /people-task/tasks/{id}/approve`.
async fn approve_task(
    State(state): State<SharedState>,
    MaybeCaller(caller): MaybeCaller,
    PathParams(task_id): PathParams<String>,
    query: QueryParams,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    decide(&state, caller, &task_id, &query, &body, Decision::Approve).map(Json)
}

/// `PUT /people-task/tasks/{id}/reject`.
async fn reject_task(
    State(state): State<SharedState>,
    MaybeCaller(caller): MaybeCaller,
    PathParams(task_id): PathParams<String>,
    query: QueryParams,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    decide(&state, caller, &task_id, &query, &body, Decision::Reject).map(Json)
}
