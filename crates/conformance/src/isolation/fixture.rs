//! The first user's objects that the isolation and auth probes aim at, and
//! how a call of any operation is filled from them.
//!
//! [`Fixture::create`] makes one object of every kind as the run's user: a
//! flow (a webhook trigger feeding a Slack component), a data store with one
//! record, a Slack account, an Insights chart, a log entry (a message sent
//! to the flow while it runs), and people tasks. [`Fixture::discover`] is
//! the `--read-only` counterpart: it finds existing objects by listing, and
//! checks along the way what can be checked without writing (a listed item
//! can be read back, a count matches its list).
//!
//! Calls are filled by parameter name, from the spec: a path or query
//! parameter `flowId` gets the fixture's flow, `storeId` its store, and so
//! on; a body is the operation's request example from the spec, with names
//! carrying the run tag and people named by the run's e-mail.

use std::collections::BTreeMap;
use std::time::Duration;

use appmixer_spec::Spec;
use serde_json::{Value, json};

use crate::catalog::{Location, OperationShape};
use crate::checks::CheckKind;
use crate::cleanup::Kind;
use crate::scenarios::{count_of, ids_of, items};
use crate::session::{Abort, Session, StatusRule, Step};
use crate::transport::{Call, Exchange};

/// The type of the trigger of the fixture's flow; it needs no account.
pub const WEBHOOK_TYPE: &str = "appmixer.utils.http.Webhook";

/// The type of the component that needs an account.
pub const SLACK_TYPE: &str = "appmixer.slack.list.SendChannelMessage";

/// The service of [`SLACK_TYPE`].
pub const SLACK_SERVICE: &str = "appmixer:slack";

/// How many times a log search is tried before the entry counts as missing.
const LOG_SEARCHES: u32 = 6;

/// The pause before the second log search; each later one waits longer.
const LOG_SEARCH_PAUSE: Duration = Duration::from_millis(200);

/// A decision date no fixture task falls due before.
const DECISION_BY: &str = "2099-12-31T23:00:00.000Z";

/// The request examples of the spec, by `operationId`.
#[derive(Debug, Clone, Default)]
pub struct Examples {
    bodies: BTreeMap<String, Value>,
}

impl Examples {
    /// The request body examples of every operation of `spec`.
    pub fn from_spec(spec: &Spec) -> Self {
        let bodies = spec
            .operations()
            .iter()
            .filter_map(|op| {
                let body = op.request_body().ok()??;
                let example = body
                    .body
                    .content
                    .get(body.content.media_type)?
                    .example
                    .clone()?;
                Some((op.id.to_string(), example))
            })
            .collect();
        Self { bodies }
    }

    /// The example body of `operation`, if the spec gives one.
    pub fn body(&self, operation: &str) -> Option<&Value> {
        self.bodies.get(operation)
    }
}

/// One people task of the fixture, with its secrets.
#[derive(Clone)]
pub struct FixtureTask {
    /// Its id.
    pub id: String,
    /// The approver secret.
    pub approver_secret: String,
    /// The requester secret.
    pub requester_secret: String,
}

impl std::fmt::Debug for FixtureTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixtureTask")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The first user's objects, by the parameter name that takes their id.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    values: BTreeMap<&'static str, String>,
    /// Strings only the first user's objects hold (ids, a record's value):
    /// none may show up in another user's answers.
    pub private: Vec<String>,
    /// The run's tag, for names and patterns.
    pub tag: String,
    /// The first user's e-mail, for people tasks.
    pub email: String,
    /// The first user's id.
    pub user_id: String,
    /// A task between the first user and themselves (the second user is no party).
    pub own_task: Option<FixtureTask>,
    /// Another such task, which the secrets are tried on.
    pub secret_task: Option<FixtureTask>,
    /// A task the second user requested of the first.
    pub shared_task: Option<FixtureTask>,
    /// Why a parameter has no value, for the objects that could not be made.
    missing: BTreeMap<&'static str, String>,
}

/// The parameter names that take the id of an object a user owns.
pub const OWNED_PARAMETERS: &[&str] = &[
    "flowId",
    "componentId",
    "storeId",
    "key",
    "accountId",
    "chartId",
    "id",
    "index",
    "logId",
];

impl Fixture {
    /// The fixture's value for the parameter `name`, if it has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn set(&mut self, name: &'static str, value: &str) {
        self.values.insert(name, value.to_string());
        self.private.push(value.to_string());
    }

    /// A value for the parameter `name` that names no object at all.
    pub fn unknown(&self, name: &str) -> String {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        match name {
            "flowId" | "componentId" => uuid::Uuid::new_v4().to_string(),
            "key" => format!("{} never set", self.tag),
            "index" => self.value("index").unwrap_or("appmixer-000000").to_string(),
            "componentType" => SLACK_TYPE.to_string(),
            _ => hex[..24].to_string(),
        }
    }

    /// A call of `op` with every path parameter, and every query parameter
    /// the fixture has a value for, filled by `fill`; `None` when a path
    /// parameter has no value.
    pub fn call_with(
        &self,
        op: &OperationShape,
        examples: &Examples,
        mut fill: impl FnMut(&str) -> Option<String>,
    ) -> Option<Call> {
        let mut call = Call::new(&op.id);
        for parameter in &op.parameters {
            let value = match (parameter.location, parameter.name.as_str()) {
                (Location::Path, "componentType") => Some(SLACK_TYPE.to_string()),
                (Location::Path, name) => Some(fill(name)?),
                // Only the query parameters that name an object, and the
                // pattern that narrows a list to the run's objects.
                (Location::Query, "pattern") => Some(self.tag.clone()),
                (Location::Query, name) if OWNED_PARAMETERS.contains(&name) => fill(name),
                (Location::Query, _) => None,
            };
            if let Some(value) = value {
                call = match parameter.location {
                    Location::Path => call.path(&parameter.name, value),
                    Location::Query => call.query(&parameter.name, value),
                };
            }
        }
        if op.body_media_type.is_some() {
            call = call.body(self.body(op, examples));
        }
        Some(call)
    }

    /// A call of `op` on the fixture's objects.
    pub fn call(&self, op: &OperationShape, examples: &Examples) -> Option<Call> {
        self.call_with(op, examples, |name| self.value(name).map(str::to_string))
    }

    /// A call of `op` on objects that do not exist.
    pub fn unknown_call(&self, op: &OperationShape, examples: &Examples) -> Option<Call> {
        self.call_with(op, examples, |name| Some(self.unknown(name)))
    }

    /// The body of `op`: its spec example with names carrying the run tag,
    /// people named by the run's e-mail and object ids the fixture's.
    pub fn body(&self, op: &OperationShape, examples: &Examples) -> Value {
        let example = examples.body(&op.id).cloned().unwrap_or_else(|| json!({}));
        if op.body_media_type.as_deref() == Some("text/plain") {
            return match example {
                Value::String(text) => Value::String(text),
                other => Value::String(other.to_string()),
            };
        }
        self.adapt(example)
    }

    fn adapt(&self, value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(key, inner)| {
                        let adapted = match (key.as_str(), inner) {
                            ("name" | "title" | "displayName" | "prefix", Value::String(text)) => {
                                Value::String(format!("{} {text}", self.tag))
                            }
                            ("requester" | "approver", Value::String(_)) => {
                                Value::String(self.email.clone())
                            }
                            (name, Value::String(text)) if OWNED_PARAMETERS.contains(&name) => {
                                Value::String(self.value(name).map(str::to_string).unwrap_or(text))
                            }
                            (_, other) => self.adapt(other),
                        };
                        (key, adapted)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.adapt(v)).collect()),
            other => other,
        }
    }

    /// Creates one object of every kind as the session's user.
    /// `second_email` is the other user's e-mail, for a task between them.
    ///
    /// An object the server refuses to create is a failure of its own
    /// (`fixture.*-created`, recorded by the step), not the end of the
    /// fixture: the others are still made, and [`Fixture::missing`] says why
    /// the operations on the missing one cannot be tried. Only the first
    /// user's id is needed for everything.
    pub async fn create(s: &mut Session, second_email: Option<&str>) -> Step<Self> {
        let mut fixture = Self {
            tag: s.tag.clone(),
            email: s.email(),
            ..Self::default()
        };
        fixture.user_id = user_id(s).await?;

        let webhook = uuid::Uuid::new_v4().to_string();
        let created = fixture.create_flow(s, &webhook).await;
        fixture.settle(created, &["flowId", "componentId"], "flow")?;
        let created = fixture.create_store(s).await;
        fixture.settle(created, &["storeId", "key"], "store and its record")?;
        let created = fixture.create_account(s).await;
        fixture.settle(created, &["accountId"], "account")?;
        let created = fixture.create_chart(s).await;
        fixture.settle(created, &["chartId"], "chart")?;
        match fixture.value("flowId").map(str::to_string) {
            Some(flow_id) => {
                let found = fixture.log_entry(s, &flow_id, &webhook).await;
                fixture.settle(found, &["index", "logId"], "log entry")?;
            }
            None => {
                for name in ["index", "logId"] {
                    fixture.missing.insert(
                        name,
                        "the first user has no flow to write a log entry (creating it failed)"
                            .into(),
                    );
                }
            }
        }
        let created = fixture.create_tasks(s, second_email).await;
        fixture.settle(created, &["id"], "people tasks")?;
        Ok(fixture)
    }

    /// Why the fixture has no value for the parameter `name`, when a step
    /// that should have made it failed.
    pub fn missing(&self, name: &str) -> Option<&str> {
        self.missing.get(name).map(String::as_str)
    }

    /// Why `op` cannot be called on the first user's objects: the reason of
    /// the first path parameter the fixture has no value for.
    pub fn why_no_call(&self, op: &OperationShape) -> String {
        op.parameters
            .iter()
            .filter(|p| p.location == Location::Path && self.value(&p.name).is_none())
            .find_map(|p| self.missing(&p.name).map(str::to_string))
            .unwrap_or_else(|| "the first user has no object to try it on".into())
    }

    /// Keeps going after a failed step, noting which parameters it leaves
    /// without a value; a stop of the whole run still stops the fixture.
    fn settle(&mut self, outcome: Step<()>, names: &[&'static str], what: &str) -> Step<()> {
        match outcome {
            Ok(()) => Ok(()),
            Err(Abort::Budget(reason)) => Err(Abort::Budget(reason)),
            Err(Abort::Step) => {
                for name in names {
                    if self.value(name).is_none() {
                        self.missing.insert(
                            name,
                            format!(
                                "the first user's {what} could not be made (see the failed \
                                 `fixture.*` check), so nothing could be tried on it"
                            ),
                        );
                    }
                }
                Ok(())
            }
        }
    }

    async fn create_flow(&mut self, s: &mut Session, webhook: &str) -> Step<()> {
        let slack = uuid::Uuid::new_v4().to_string();
        let exchange = s
            .call(Call::new("createFlow").body(json!({
                "name": s.name("isolation flow"),
                "flow": {
                    webhook: {"type": WEBHOOK_TYPE, "x": 0, "y": 0, "source": {}},
                    slack.as_str(): {
                        "type": SLACK_TYPE, "x": 200, "y": 0,
                        "source": {"in": {webhook: ["out"]}},
                    },
                },
            })))
            .await?;
        let flow_id = s.require_str("createFlow", "fixture.flow-created", &exchange, "/flowId")?;
        s.created(Kind::Flow, &flow_id);
        self.set("flowId", &flow_id);
        self.set("componentId", &slack);
        Ok(())
    }

    async fn create_store(&mut self, s: &mut Session) -> Step<()> {
        let exchange = s
            .call(Call::new("createStore").body(json!({"name": s.name("isolation store")})))
            .await?;
        let store_id = s.require_str(
            "createStore",
            "fixture.store-created",
            &exchange,
            "/storeId",
        )?;
        s.created(Kind::Store, &store_id);
        self.set("storeId", &store_id);
        let key = format!("{} isolation record", s.tag);
        let value = format!(
            "private to the first user {}",
            uuid::Uuid::new_v4().simple()
        );
        let exchange = s
            .call(
                Call::new("createStoreItem")
                    .path("storeId", &store_id)
                    .path("key", &key)
                    .body(json!(value)),
            )
            .await?;
        s.require_success("createStoreItem", "fixture.record-created", &exchange)?;
        self.set("key", &key);
        self.private.push(value);
        Ok(())
    }

    async fn create_account(&mut self, s: &mut Session) -> Step<()> {
        let exchange = s
            .call(
                Call::new("createAccount")
                    .query("validateScope", false)
                    .query("requestProfileInfo", false)
                    .body(json!({
                        "service": SLACK_SERVICE,
                        "token": {"accessToken": format!("xoxb-{}-not-real", s.tag)},
                        "name": s.name("isolation account"),
                    })),
            )
            .await?;
        let account_id = s.require_str(
            "createAccount",
            "fixture.account-created",
            &exchange,
            "/accountId",
        )?;
        s.created(Kind::Account, &account_id);
        self.set("accountId", &account_id);
        Ok(())
    }

    async fn create_chart(&mut self, s: &mut Session) -> Step<()> {
        let exchange = s
            .call(Call::new("createChart").body(json!({
                "name": s.name("isolation chart"), "index": 0, "type": "bar",
                "query": {}, "options": {}, "traces": {},
            })))
            .await?;
        let chart_id = s.require_str(
            "createChart",
            "fixture.chart-created",
            &exchange,
            "/chartId",
        )?;
        s.created(Kind::Chart, &chart_id);
        self.set("chartId", &chart_id);
        Ok(())
    }

    async fn create_tasks(&mut self, s: &mut Session, second_email: Option<&str>) -> Step<()> {
        let email = self.email.clone();
        self.own_task = Some(task(s, "isolation task", &email, &email).await?);
        self.secret_task = Some(task(s, "isolation secrets", &email, &email).await?);
        if let Some(second) = second_email {
            self.shared_task = Some(task(s, "isolation shared task", second, &email).await?);
        }
        let own = self.own_task.as_ref().map(|t| t.id.clone());
        if let Some(id) = own {
            self.set("id", &id);
        }
        Ok(())
    }

    /// Starts the flow, sends its webhook a message, finds the log entry and
    /// stops the flow again.
    async fn log_entry(&mut self, s: &mut Session, flow_id: &str, webhook: &str) -> Step<()> {
        command(s, flow_id, "start").await?;
        let exchange = s
            .call(
                Call::new("sendComponentMessage")
                    .path("flowId", flow_id)
                    .path("componentId", webhook)
                    .body(json!({"probe": self.tag})),
            )
            .await?;
        s.require_success(
            "sendComponentMessage",
            "fixture.message-accepted",
            &exchange,
        )?;
        let mut attempt = 0;
        let hit = loop {
            attempt += 1;
            let exchange = s
                .call(Call::new("getLogs").query("query", format!("+flowId:{flow_id}")))
                .await?;
            let body = s.require_success("getLogs", "fixture.logs-searched", &exchange)?;
            let hit = items(body.get("hits").unwrap_or(&Value::Null))
                .first()
                .cloned();
            if hit.is_some() || attempt >= LOG_SEARCHES {
                break hit;
            }
            tokio::time::sleep(LOG_SEARCH_PAUSE * attempt).await;
        };
        command(s, flow_id, "stop").await?;
        let field = |name: &str| {
            hit.as_ref()
                .and_then(|h| h.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if let (Some(index), Some(id)) = (field("_index"), field("_id")) {
            self.values.insert("index", index);
            self.set("logId", &id);
        }
        Ok(())
    }

    /// Finds existing objects by listing, for a run that may not write, and
    /// checks what reads alone can show.
    pub async fn discover(s: &mut Session) -> Step<Self> {
        let mut fixture = Self {
            tag: s.tag.clone(),
            email: s.email(),
            ..Self::default()
        };
        fixture.user_id = user_id(s).await?;
        let mut reader = Reader { s };

        if let Some(flow) = reader
            .list("getFlows", "getFlowsCount", "flowId", &[])
            .await?
        {
            let flow_id = str_of(&flow, "flowId");
            fixture.set("flowId", &flow_id);
            let read = reader.get("getFlow", "flowId", &flow_id, "flowId").await?;
            let component = read
                .as_ref()
                .and_then(|f| f.get("flow"))
                .and_then(Value::as_object)
                .and_then(|d| d.keys().next().cloned());
            if let Some(component) = component {
                fixture.set("componentId", &component);
            }
            reader.flow_authentication(&flow_id, read.as_ref()).await?;
        } else {
            reader.nothing_to_read(&["getFlow", "getFlowAuthentication"], "flows");
        }

        if let Some(store) = reader.list("getStores", "", "storeId", &[]).await? {
            let store_id = str_of(&store, "storeId");
            fixture.set("storeId", &store_id);
            reader
                .get("getStore", "storeId", &store_id, "storeId")
                .await?;
            let query = [("storeId", store_id.as_str())];
            if let Some(record) = reader
                .list("getStoreRecords", "getStoreRecordsCount", "key", &query)
                .await?
            {
                let key = str_of(&record, "key");
                fixture.set("key", &key);
                reader.record(&store_id, &record).await?;
            } else {
                reader.nothing_to_read(&["getStoreItem"], "records in its first store");
            }
        } else {
            reader.nothing_to_read(
                &[
                    "getStore",
                    "getStoreRecords",
                    "getStoreRecordsCount",
                    "getStoreItem",
                ],
                "data stores",
            );
        }

        if let Some(account) = reader.list("getAccounts", "", "accountId", &[]).await? {
            let account_id = str_of(&account, "accountId");
            fixture.set("accountId", &account_id);
            reader.account_flows(&account_id).await?;
        } else {
            reader.nothing_to_read(&["getAccountFlows"], "connected accounts");
        }
        reader.component_accounts().await?;

        if let Some(chart) = reader.list("getCharts", "", "chartId", &[]).await? {
            let chart_id = str_of(&chart, "chartId");
            fixture.set("chartId", &chart_id);
            reader
                .get("getChart", "chartId", &chart_id, "chartId")
                .await?;
        } else {
            reader.nothing_to_read(&["getChart"], "charts");
        }

        if let Some(task) = reader
            .list("getPeopleTasks", "getPeopleTasksCount", "id", &[])
            .await?
        {
            let task_id = str_of(&task, "id");
            fixture.set("id", &task_id);
            reader.get("getPeopleTask", "id", &task_id, "id").await?;
        } else {
            reader.nothing_to_read(&["getPeopleTask"], "people tasks");
        }

        if let Some((index, log_id)) = reader.logs().await? {
            fixture.values.insert("index", index.clone());
            fixture.set("logId", &log_id);
            reader.log(&index, &log_id).await?;
        } else {
            reader.nothing_to_read(&["getLog"], "log entries");
        }
        reader.user().await?;
        Ok(fixture)
    }
}

fn str_of(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The session user's id, from `getUser`.
async fn user_id(s: &mut Session) -> Step<String> {
    let exchange = s.call(Call::new("getUser")).await?;
    s.require_str("getUser", "fixture.user-known", &exchange, "/id")
}

async fn command(s: &mut Session, flow_id: &str, command: &str) -> Step<()> {
    let exchange = s
        .call(
            Call::new("sendFlowCommand")
                .path("flowId", flow_id)
                .body(json!({"command": command})),
        )
        .await?;
    s.require_success("sendFlowCommand", "fixture.flow-commanded", &exchange)?;
    Ok(())
}

async fn task(s: &mut Session, title: &str, requester: &str, approver: &str) -> Step<FixtureTask> {
    let exchange = s
        .call(Call::new("createPeopleTask").body(json!({
            "title": s.name(title),
            "description": "Created by the conformance harness; it checks who may see it.",
            "requester": requester,
            "approver": approver,
            "decisionBy": DECISION_BY,
        })))
        .await?;
    let id = s.require_str("createPeopleTask", "fixture.task-created", &exchange, "/id")?;
    s.created(Kind::PeopleTask, &id);
    let approver_secret = s.require_str(
        "createPeopleTask",
        "fixture.task-created",
        &exchange,
        "/approverSecret",
    )?;
    let requester_secret = s.require_str(
        "createPeopleTask",
        "fixture.task-created",
        &exchange,
        "/requesterSecret",
    )?;
    Ok(FixtureTask {
        id,
        approver_secret,
        requester_secret,
    })
}

/// The read checks of a `--read-only` run.
struct Reader<'a> {
    s: &'a mut Session,
}

/// How many items a list answers when no `limit` is given.
const DEFAULT_LIMIT: usize = 100;

impl Reader<'_> {
    /// Lists with `operation`, checks that the list names each item once
    /// and that `count` (if any) agrees, and answers the first item.
    async fn list(
        &mut self,
        operation: &str,
        count: &str,
        id_field: &str,
        query: &[(&str, &str)],
    ) -> Step<Option<Value>> {
        let mut call = Call::new(operation);
        for (name, value) in query {
            call = call.query(name, value);
        }
        let exchange = self.s.call(call.clone()).await?;
        let body = self
            .s
            .require_success(operation, "read.list-succeeds", &exchange)?;
        let listed = items(&body);
        let mut ids = ids_of(listed, id_field);
        let all = ids.len();
        ids.sort();
        ids.dedup();
        self.s.expect(
            operation,
            "read.list-names-each-item-once",
            Some(&exchange),
            ids.len() == all,
            || format!("{all} distinct `{id_field}` values"),
            || format!("{} distinct among {all}", ids.len()),
        );
        if !count.is_empty() {
            let mut count_call = Call::new(count);
            for (name, value) in query {
                count_call = count_call.query(name, value);
            }
            let answer = self.s.call(count_call).await?;
            let counted = self
                .s
                .require_success(count, "read.count-succeeds", &answer)?;
            if listed.len() < DEFAULT_LIMIT {
                self.s.expect_json(
                    count,
                    "read.count-matches-list",
                    Some(&answer),
                    &json!(listed.len()),
                    counted.get("count"),
                );
            } else {
                // A full page says nothing about the total; a count is only
                // checked for being at least the page.
                let counted = count_of(&counted).unwrap_or(0);
                self.s.expect(
                    count,
                    "read.count-covers-list",
                    Some(&answer),
                    counted >= listed.len() as u64,
                    || format!("a count of at least {}", listed.len()),
                    || format!("count {counted}"),
                );
            }
        }
        Ok(listed.first().cloned())
    }

    /// Reads one listed item back and checks that it is the one asked for.
    async fn get(
        &mut self,
        operation: &str,
        parameter: &str,
        id: &str,
        id_field: &str,
    ) -> Step<Option<Value>> {
        let exchange = self
            .s
            .call(Call::new(operation).path(parameter, id))
            .await?;
        let body = self
            .s
            .require_success(operation, "read.listed-item-readable", &exchange)?;
        self.s.expect_json(
            operation,
            "read.get-answers-listed-id",
            Some(&exchange),
            &json!(id),
            body.get(id_field),
        );
        Ok(Some(body))
    }

    async fn record(&mut self, store_id: &str, listed: &Value) -> Step<()> {
        let key = str_of(listed, "key");
        let exchange = self
            .s
            .call(
                Call::new("getStoreItem")
                    .path("storeId", store_id)
                    .path("key", &key),
            )
            .await?;
        let body =
            self.s
                .require_success("getStoreItem", "read.listed-item-readable", &exchange)?;
        self.s.expect_json(
            "getStoreItem",
            "read.get-matches-list",
            Some(&exchange),
            &json!({"key": key, "value": listed.get("value")}),
            Some(&json!({"key": body.get("key"), "value": body.get("value")})),
        );
        Ok(())
    }

    async fn flow_authentication(&mut self, flow_id: &str, flow: Option<&Value>) -> Step<()> {
        let exchange = self
            .s
            .call(Call::new("getFlowAuthentication").path("flowId", flow_id))
            .await?;
        let body = self.s.require_success(
            "getFlowAuthentication",
            "read.flow-authentication-readable",
            &exchange,
        )?;
        let descriptor = flow.and_then(|f| f.get("flow"));
        let strays: Vec<&String> = body
            .as_object()
            .into_iter()
            .flat_map(|entries| entries.keys())
            .filter(|component| descriptor.and_then(|d| d.get(component.as_str())).is_none())
            .collect();
        self.s.expect(
            "getFlowAuthentication",
            "read.flow-authentication-names-components-of-the-flow",
            Some(&exchange),
            strays.is_empty(),
            || "only components of the flow's descriptor".into(),
            || format!("components {strays:?}, which the descriptor lacks"),
        );
        Ok(())
    }

    async fn account_flows(&mut self, account_id: &str) -> Step<()> {
        let exchange = self
            .s
            .call(Call::new("getAccountFlows").path("accountId", account_id))
            .await?;
        let body =
            self.s
                .require_success("getAccountFlows", "read.account-flows-readable", &exchange)?;
        let flows = ids_of(items(&body), "flowId");
        let mut distinct = flows.clone();
        distinct.sort();
        distinct.dedup();
        self.s.expect(
            "getAccountFlows",
            "read.list-names-each-item-once",
            Some(&exchange),
            distinct.len() == flows.len(),
            || "each flow once".into(),
            || format!("{flows:?}"),
        );
        Ok(())
    }

    async fn component_accounts(&mut self) -> Step<()> {
        let exchange = self
            .s
            .call(Call::new("getComponentAccounts").path("componentType", SLACK_TYPE))
            .await?;
        let body = self.s.require_success(
            "getComponentAccounts",
            "read.component-accounts-readable",
            &exchange,
        )?;
        self.s.expect_json(
            "getComponentAccounts",
            "read.component-accounts-answers-type",
            Some(&exchange),
            &json!(SLACK_TYPE),
            body.get("componentType"),
        );
        Ok(())
    }

    async fn logs(&mut self) -> Step<Option<(String, String)>> {
        let exchange = self.s.call(Call::new("getLogs").query("size", 5)).await?;
        let body = self
            .s
            .require_success("getLogs", "read.list-succeeds", &exchange)?;
        let hits = items(body.get("hits").unwrap_or(&Value::Null));
        self.s.expect(
            "getLogs",
            "read.logs-respect-size",
            Some(&exchange),
            hits.len() <= 5,
            || "at most 5 hits for `size=5`".into(),
            || format!("{} hits", hits.len()),
        );
        Ok(hits
            .first()
            .map(|hit| (str_of(hit, "_index"), str_of(hit, "_id"))))
    }

    async fn log(&mut self, index: &str, log_id: &str) -> Step<()> {
        let exchange = self
            .s
            .call(
                Call::new("getLog")
                    .path("index", index)
                    .path("logId", log_id),
            )
            .await?;
        let body = self
            .s
            .require_success("getLog", "read.listed-item-readable", &exchange)?;
        self.s.expect_json(
            "getLog",
            "read.get-answers-listed-id",
            Some(&exchange),
            &json!({"_index": index, "_id": log_id}),
            Some(&json!({"_index": body.get("_index"), "_id": body.get("_id")})),
        );
        Ok(())
    }

    async fn user(&mut self) -> Step<()> {
        let exchange = self.s.call(Call::new("getUser")).await?;
        let body = self
            .s
            .require_success("getUser", "read.user-readable", &exchange)?;
        let expected = self.s.user.as_ref().map(|u| u.username.clone());
        let named = body.get("username").and_then(Value::as_str);
        let holds = match &expected {
            // Logged in by name: the token must be that user's (or its e-mail's).
            Some(username) if !username.is_empty() => {
                named == Some(username.as_str())
                    || body.get("email").and_then(Value::as_str) == Some(username.as_str())
            }
            _ => named.is_some_and(|n| !n.is_empty()),
        };
        self.s.expect(
            "getUser",
            "read.user-is-caller",
            Some(&exchange),
            holds,
            || format!("the user {}", expected.clone().unwrap_or_default()),
            || format!("{named:?}"),
        );
        Ok(())
    }

    /// Notes that `operations` could not be read because the account has
    /// no `what`.
    fn nothing_to_read(&mut self, operations: &[&str], what: &str) {
        for operation in operations {
            self.s.results.record_unchecked(crate::checks::Unchecked {
                operation: operation.to_string(),
                kind: CheckKind::Semantics,
                expectation: "read.listed-item-readable".into(),
                reason: format!("nothing to read: the account has no {what}"),
            });
        }
    }
}

/// Expects the status of `exchange` to satisfy `rule`, as the property
/// `kind` of `operation`.
pub fn expect_status_as(
    s: &mut Session,
    kind: CheckKind,
    operation: &str,
    expectation: &str,
    exchange: &Exchange,
    rule: StatusRule,
) -> bool {
    let status = exchange.status();
    s.expect_as(
        kind,
        operation,
        expectation,
        Some(exchange),
        rule.accepts(status),
        || rule.describe(),
        || format!("status {status}"),
    )
}
