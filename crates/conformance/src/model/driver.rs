//! The system under test: each model step sent to the server, and the
//! server's observable state compared with the model after it.
//!
//! This is the `StateMachineTest` half of the state machine, written as a
//! plain struct rather than that trait because the trait reports a failure
//! by panicking, and a server that breaks a rule is an expected outcome here
//! that must come back as data ([`Mismatch`]) to be shrunk, saved and
//! reported.
//!
//! After every step the driver checks, in order: the step's own answer (its
//! status and body, [`STEP_ANSWER`]); then it reads back every area the
//! sequence has used (flows, stores and their records, accounts, people
//! tasks, charts; lists scoped to the case, counts, a `get` of the object
//! the step acted on, and the logs after a message) and compares each
//! object with the model: objects the step acted on must show its effect
//! ([`READ_YOUR_WRITES`]), all others must be exactly as they were last
//! read ([`FRAME`]). Fields the model cannot predict (timestamps, `userId`)
//! are held to the last reading too, except the timestamps the step may
//! move, which may only move forward.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value, json};

use crate::cleanup::Kind;
use crate::compare;
use crate::model::bridge::{self, Stop};
use crate::model::state::{Area, FieldsUpdate, Handle, Model, Step};
use crate::scenarios::{count_of, describe_count, items};
use crate::session::Session;
use crate::session::StatusRule;
use crate::transport::{Call, Exchange};

/// The step got the answer the model predicts (status and body).
pub const STEP_ANSWER: &str = "model.step-answer";

/// Reads after a step show its effect on the objects it acted on.
pub const READ_YOUR_WRITES: &str = "model.read-your-writes";

/// Objects a step did not act on are exactly as they were.
pub const FRAME: &str = "model.frame";

/// A decision date no task of a run reaches.
const DECISION_BY: &str = "2099-12-31T23:00:00.000Z";

/// How often the logs are searched before a message counts as missing.
const LOG_ATTEMPTS: u32 = 8;

/// One check made while running a case.
#[derive(Debug, Clone)]
pub struct Check {
    /// The operation it concerns.
    pub operation: String,
    /// The property's name.
    pub expectation: &'static str,
}

/// A check that did not hold.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The index of the step after which it was seen.
    pub step: usize,
    /// The operation it concerns.
    pub operation: String,
    /// The property's name.
    pub expectation: &'static str,
    /// What the model predicts.
    pub expected: String,
    /// What the server answered.
    pub actual: String,
    /// The exchange that shows it.
    pub exchange: Option<Exchange>,
}

impl Mismatch {
    /// The operation and property, which say whether two failures are the
    /// same fault.
    pub fn key(&self) -> (String, &'static str) {
        (self.operation.clone(), self.expectation)
    }
}

/// Why a case ended early.
#[derive(Debug, Clone)]
pub enum CaseError {
    /// A check did not hold.
    Mismatch(Box<Mismatch>),
    /// The model cannot go on at all.
    Stop(Stop),
}

impl From<Stop> for CaseError {
    fn from(stop: Stop) -> Self {
        CaseError::Stop(stop)
    }
}

type Checked<T> = Result<T, CaseError>;

/// One executed step and the requests that carried it out.
#[derive(Debug, Clone)]
pub struct StepTrace {
    /// What the step does.
    pub description: String,
    /// The step's own exchanges (not the reads that followed).
    pub exchanges: Vec<Exchange>,
}

/// One expected object of a listing.
struct Expected {
    id: String,
    touched: bool,
    prediction: Value,
    volatile: &'static [&'static str],
}

/// Runs cases against the server.
pub struct Driver<'s> {
    session: &'s mut Session,
    checked: bool,
    case: String,
    email: String,
    ids: BTreeMap<Handle, String>,
    secrets: BTreeMap<Handle, String>,
    seen: BTreeMap<String, Value>,
    areas: BTreeSet<Area>,
    current: usize,
    /// The checks that held, in order.
    pub checks: Vec<Check>,
    /// The steps executed so far.
    pub trace: Vec<StepTrace>,
}

impl<'s> Driver<'s> {
    /// A driver for one case, tagged `case`, acting as the user `email`.
    /// `checked` exchanges go through the spec checks of the report.
    pub fn new(session: &'s mut Session, case: String, email: String, checked: bool) -> Self {
        Self {
            session,
            checked,
            case,
            email,
            ids: BTreeMap::new(),
            secrets: BTreeMap::new(),
            seen: BTreeMap::new(),
            areas: BTreeSet::new(),
            current: 0,
            checks: Vec::new(),
            trace: Vec::new(),
        }
    }

    /// Runs `steps` from an empty model, stopping at the first mismatch, and
    /// deletes what the case created whatever happened.
    pub async fn run_case(&mut self, steps: &[Step], seen: Option<&AtomicUsize>) -> Checked<()> {
        let mut model = Model::default();
        let mut outcome = Ok(());
        for (index, step) in steps.iter().enumerate() {
            if let Some(counter) = seen {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            let before = model.clone();
            model = before.clone().apply(step);
            if let Err(error) = self.step(index, step, &before, &model).await {
                outcome = Err(error);
                break;
            }
        }
        self.teardown(&model).await;
        outcome
    }

    /// Runs every step of `steps`, going on after mismatches, and says for
    /// each whether all its checks held.
    pub async fn run_each(&mut self, steps: &[Step]) -> Result<Vec<Option<Mismatch>>, Stop> {
        let mut model = Model::default();
        let mut verdicts = Vec::new();
        let mut stopped = None;
        for (index, step) in steps.iter().enumerate() {
            let before = model.clone();
            model = before.clone().apply(step);
            match self.step(index, step, &before, &model).await {
                Ok(()) => verdicts.push(None),
                Err(CaseError::Mismatch(mismatch)) => {
                    // Later steps are judged on their own, against what the
                    // server shows now.
                    self.seen.clear();
                    verdicts.push(Some(*mismatch));
                }
                Err(CaseError::Stop(stop)) => {
                    stopped = Some(stop);
                    break;
                }
            }
        }
        self.teardown(&model).await;
        match stopped {
            Some(stop) => Err(stop),
            None => Ok(verdicts),
        }
    }

    async fn send(&mut self, call: Call) -> Checked<Exchange> {
        let exchange = self
            .session
            .transport
            .send(call)
            .await
            .map_err(bridge::stop_of)?;
        if self.checked {
            self.session.check(&exchange);
        }
        Ok(exchange)
    }

    async fn send_step(&mut self, call: Call) -> Checked<Exchange> {
        let exchange = self.send(call).await?;
        if let Some(trace) = self.trace.last_mut() {
            trace.exchanges.push(exchange.clone());
        }
        Ok(exchange)
    }

    /// Sends the count operation `call` and checks, as `expectation`, that
    /// it answers `{"count": expected}`.
    async fn check_count(
        &mut self,
        call: Call,
        expectation: &'static str,
        expected: usize,
    ) -> Checked<()> {
        let operation = call.operation().to_owned();
        let exchange = self.send(call).await?;
        let counted = exchange.json_ref().and_then(count_of);
        let mismatch = (counted != Some(expected as u64))
            .then(|| (format!("count {expected}"), describe_count(counted)));
        self.check(&operation, expectation, Some(&exchange), mismatch)
    }

    fn check(
        &mut self,
        operation: &str,
        expectation: &'static str,
        exchange: Option<&Exchange>,
        mismatch: Option<(String, String)>,
    ) -> Checked<()> {
        match mismatch {
            None => {
                self.checks.push(Check {
                    operation: operation.to_string(),
                    expectation,
                });
                Ok(())
            }
            Some((expected, actual)) => Err(CaseError::Mismatch(Box::new(Mismatch {
                step: self.current,
                operation: operation.to_string(),
                expectation,
                expected,
                actual,
                exchange: exchange.cloned(),
            }))),
        }
    }

    fn check_status(
        &mut self,
        operation: &str,
        expectation: &'static str,
        exchange: &Exchange,
        rule: StatusRule,
    ) -> Checked<()> {
        let status = exchange.status();
        let mismatch =
            (!rule.accepts(status)).then(|| (rule.describe(), format!("status {status}")));
        self.check(operation, expectation, Some(exchange), mismatch)
    }

    fn id(&self, handle: Handle) -> String {
        self.ids.get(&handle).cloned().unwrap_or_default()
    }

    fn render(&self, name: &str) -> String {
        format!("{} {name}", self.case)
    }

    fn custom_fields(&self, category: &Option<String>) -> Value {
        let mut fields = json!({"amxcCase": self.case});
        if let Some(category) = category {
            fields["category"] = json!(category);
        }
        fields
    }

    fn other_approver(&self) -> String {
        format!("{}-approver@example.com", self.case.replace(' ', "-"))
    }

    async fn step(
        &mut self,
        index: usize,
        step: &Step,
        before: &Model,
        after: &Model,
    ) -> Checked<()> {
        self.current = index;
        self.trace.push(StepTrace {
            description: step.describe(),
            exchanges: Vec::new(),
        });
        self.areas.insert(step.area());
        let rule = before.answer(step);
        let operation = step.operation();
        let exchange = self.send_step(self.call_for(step, before)).await?;
        self.check_status(operation, STEP_ANSWER, &exchange, rule)?;
        if exchange.is_success() {
            self.check_answer(step, before, after, &exchange)?;
        }
        self.observe(step, before, after).await
    }

    fn call_for(&self, step: &Step, before: &Model) -> Call {
        match step {
            Step::CreateFlow {
                name,
                descriptor,
                category,
                ..
            } => Call::new("createFlow").body(json!({
                "name": self.render(name),
                "flow": descriptor,
                "customFields": self.custom_fields(category),
            })),
            Step::UpdateFlow {
                flow,
                name,
                descriptor,
                custom_fields,
                force,
            } => {
                let mut body = Map::new();
                if let Some(name) = name {
                    body.insert("name".into(), json!(self.render(name)));
                }
                if let Some(descriptor) = descriptor {
                    body.insert("flow".into(), descriptor.clone());
                }
                let fields = match custom_fields {
                    FieldsUpdate::Unchanged => None,
                    FieldsUpdate::Category(category) => Some(Some(category.clone())),
                    FieldsUpdate::TagOnly => Some(None),
                };
                if let Some(category) = fields {
                    body.insert("customFields".into(), self.custom_fields(&category));
                }
                let mut call = Call::new("updateFlow").path("flowId", self.id(*flow));
                if *force {
                    call = call.query("forceUpdate", true);
                }
                call.body(Value::Object(body))
            }
            Step::StartFlow { flow } | Step::StopFlow { flow } => {
                let command = if matches!(step, Step::StartFlow { .. }) {
                    "start"
                } else {
                    "stop"
                };
                Call::new("sendFlowCommand")
                    .path("flowId", self.id(*flow))
                    .body(json!({"command": command}))
            }
            Step::CloneFlow { source, prefix, .. } => Call::new("cloneFlow")
                .path("flowId", self.id(*source))
                .body(json!({"prefix": prefix})),
            Step::DeleteFlow { flow } => Call::new("deleteFlow").path("flowId", self.id(*flow)),
            Step::SendMessage { flow, text } => Call::new("sendComponentMessage")
                .path("flowId", self.id(*flow))
                .path("componentId", before.flows[flow].webhook.clone())
                .body(json!({"text": text, "case": self.case})),
            Step::CreateStore { name, .. } => {
                Call::new("createStore").body(json!({"name": self.render(name)}))
            }
            Step::RenameStore { store, name } => Call::new("renameStore")
                .path("storeId", self.id(*store))
                .body(json!({"name": self.render(name)})),
            Step::DeleteStore { store } => {
                Call::new("deleteStore").path("storeId", self.id(*store))
            }
            Step::SetRecord { store, key, value } => Call::new("createStoreItem")
                .path("storeId", self.id(*store))
                .path("key", key.clone())
                .body(json!(value)),
            Step::DeleteRecord { store, key } => Call::new("deleteStoreItem")
                .path("storeId", self.id(*store))
                .path("key", key.clone()),
            Step::DeleteRecords { store, keys } => {
                let store_id = self.id(*store);
                let refs: Vec<Value> = keys
                    .iter()
                    .map(|key| json!({"key": key, "storeId": store_id}))
                    .collect();
                Call::new("deleteStoreItems").body(Value::Array(refs))
            }
            Step::CreateAccount { service, name, .. } => Call::new("createAccount")
                .query("validateScope", false)
                .query("requestProfileInfo", false)
                .body(json!({
                    "service": service,
                    "token": {"accessToken": format!("{}-not-a-real-token", self.case)},
                    "name": self.render(name),
                })),
            Step::RenameAccount {
                account,
                display_name,
            } => Call::new("setAccountName")
                .path("accountId", self.id(*account))
                .body(json!({"displayName": self.render(display_name)})),
            Step::DeleteAccount { account } => {
                Call::new("deleteAccount").path("accountId", self.id(*account))
            }
            Step::CreateTask {
                title,
                approver_is_caller,
                ..
            } => {
                let approver = if *approver_is_caller {
                    self.email.clone()
                } else {
                    self.other_approver()
                };
                Call::new("createPeopleTask").body(json!({
                    "title": self.render(title),
                    "description": "Created by the conformance harness's model.",
                    "requester": self.email,
                    "approver": approver,
                    "decisionBy": DECISION_BY,
                }))
            }
            Step::DecideTask {
                task,
                approve,
                with_secret,
            } => {
                let operation = if *approve {
                    "approveTask"
                } else {
                    "rejectTask"
                };
                let call = Call::new(operation).path("id", self.id(*task));
                if *with_secret {
                    let secret = self.secrets.get(task).cloned().unwrap_or_default();
                    call.body(json!({"secret": secret})).without_token()
                } else {
                    call.body(json!({}))
                }
            }
            Step::CreateChart {
                name, index, kind, ..
            } => Call::new("createChart").body(json!({
                "name": self.render(name),
                "index": index,
                "type": kind,
                "query": {},
                "options": {"showlegend": true},
                "traces": {},
            })),
            Step::UpdateChart {
                chart,
                name,
                index,
                kind,
            } => {
                let mut body = Map::new();
                if let Some(name) = name {
                    body.insert("name".into(), json!(self.render(name)));
                }
                if let Some(index) = index {
                    body.insert("index".into(), json!(index));
                }
                if let Some(kind) = kind {
                    body.insert("type".into(), json!(kind));
                }
                Call::new("updateChart")
                    .path("chartId", self.id(*chart))
                    .body(Value::Object(body))
            }
            Step::DeleteChart { chart } => {
                Call::new("deleteChart").path("chartId", self.id(*chart))
            }
        }
    }

    /// Expects each field of `expected` in `actual` (and nothing about the
    /// fields it does not name).
    fn fields_differ(expected: &Value, actual: Option<&Value>) -> Option<(String, String)> {
        let actual = actual?;
        compare::first_difference_in_fields(expected, actual)
            .map(|d| (d.expected_text(), d.actual_text()))
    }

    fn expect_fields(
        &mut self,
        operation: &str,
        expectation: &'static str,
        exchange: &Exchange,
        expected: &Value,
    ) -> Checked<()> {
        let mismatch = match exchange.json_ref() {
            None => Some((
                "a JSON body".to_string(),
                "a body that is not JSON".to_string(),
            )),
            Some(body) => Self::fields_differ(expected, Some(body)),
        };
        self.check(operation, expectation, Some(exchange), mismatch)
    }

    fn learn_id(
        &mut self,
        handle: Handle,
        kind: Kind,
        exchange: &Exchange,
        pointer: &str,
    ) -> Checked<()> {
        let id = exchange.str_at(pointer).filter(|id| !id.is_empty());
        let operation = exchange.operation.clone();
        self.check(
            &operation,
            STEP_ANSWER,
            Some(exchange),
            id.is_none()
                .then(|| (format!("a new id at `{pointer}`"), "none".to_string())),
        )?;
        let id = id.expect("checked above");
        self.session.created(kind, &id);
        if let Some(existing) = self.ids.iter().find(|(_, known)| **known == id) {
            let existing = *existing.0;
            self.check(
                &operation,
                STEP_ANSWER,
                Some(exchange),
                Some((
                    "an id no other object has".into(),
                    format!("{id}, the id of {existing:?}"),
                )),
            )?;
        }
        self.ids.insert(handle, id);
        Ok(())
    }

    fn check_answer(
        &mut self,
        step: &Step,
        before: &Model,
        after: &Model,
        exchange: &Exchange,
    ) -> Checked<()> {
        let op = step.operation();
        match step {
            Step::CreateFlow { flow, .. } => self.learn_id(*flow, Kind::Flow, exchange, "/flowId"),
            Step::CloneFlow { clone, .. } => {
                self.learn_id(*clone, Kind::Flow, exchange, "/cloneId")
            }
            Step::UpdateFlow { flow, .. } => {
                let expected = json!({"flowId": self.id(*flow), "result": "updated"});
                self.expect_fields(op, STEP_ANSWER, exchange, &expected)
            }
            Step::StartFlow { flow } | Step::StopFlow { flow } => {
                let expected = json!({"flowId": self.id(*flow)});
                self.expect_fields(op, STEP_ANSWER, exchange, &expected)
            }
            Step::DeleteFlow { flow } => {
                self.session.deleted(Kind::Flow, &self.id(*flow));
                let expected = json!({"flowId": self.id(*flow)});
                self.expect_fields(op, STEP_ANSWER, exchange, &expected)
            }
            Step::SendMessage { flow, .. } => {
                let expected = json!({
                    "flowId": self.id(*flow),
                    "componentId": before.flows[flow].webhook,
                });
                self.expect_fields(op, STEP_ANSWER, exchange, &expected)
            }
            Step::CreateStore { store, .. } => {
                self.learn_id(*store, Kind::Store, exchange, "/storeId")
            }
            Step::RenameStore { store, .. } => {
                let expected = json!({
                    "storeId": self.id(*store),
                    "oldName": self.render(&before.stores[store].name),
                });
                self.expect_fields(op, STEP_ANSWER, exchange, &expected)
            }
            Step::DeleteStore { store } => {
                self.session.deleted(Kind::Store, &self.id(*store));
                Ok(())
            }
            Step::SetRecord { key, value, .. } => self.expect_fields(
                op,
                STEP_ANSWER,
                exchange,
                &json!({"key": key, "value": value}),
            ),
            Step::DeleteRecords { store, keys } => {
                let existing: BTreeSet<&String> = keys
                    .iter()
                    .filter(|key| before.stores[store].records.contains_key(*key))
                    .collect();
                let expected = json!({"deletedCount": existing.len()});
                self.expect_fields(op, STEP_ANSWER, exchange, &expected)
            }
            Step::CreateAccount {
                account, service, ..
            } => {
                self.learn_id(*account, Kind::Account, exchange, "/accountId")?;
                self.expect_fields(op, STEP_ANSWER, exchange, &json!({"service": service}))?;
                let leaked =
                    String::from_utf8_lossy(&exchange.response.body).contains("-not-a-real-token");
                self.check(
                    op,
                    STEP_ANSWER,
                    Some(exchange),
                    leaked.then(|| {
                        (
                            "an account without its token".into(),
                            "the token in the answer".into(),
                        )
                    }),
                )
            }
            Step::DeleteAccount { account } => {
                self.session.deleted(Kind::Account, &self.id(*account));
                let expected = json!({"accountId": self.id(*account)});
                self.expect_fields(op, STEP_ANSWER, exchange, &expected)
            }
            Step::CreateTask { task, .. } => {
                self.learn_id(*task, Kind::PeopleTask, exchange, "/id")?;
                let secrets = (
                    exchange.str_at("/approverSecret"),
                    exchange.str_at("/requesterSecret"),
                );
                let missing =
                    !matches!(&secrets, (Some(a), Some(r)) if !a.is_empty() && !r.is_empty());
                self.check(
                    op,
                    STEP_ANSWER,
                    Some(exchange),
                    missing.then(|| {
                        (
                            "both `approverSecret` and `requesterSecret`".into(),
                            "a task without them".into(),
                        )
                    }),
                )?;
                if let Some(secret) = secrets.0 {
                    self.secrets.insert(*task, secret);
                }
                self.expect_fields(op, STEP_ANSWER, exchange, &json!({"status": "pending"}))
            }
            Step::DecideTask { task, .. } => {
                let status = after.tasks[task].status.as_str();
                self.expect_fields(op, STEP_ANSWER, exchange, &json!({"status": status}))
            }
            Step::CreateChart { chart, .. } => {
                self.learn_id(*chart, Kind::Chart, exchange, "/chartId")
            }
            Step::UpdateChart { chart, .. } => {
                let expected = self.predict_chart(*chart, after);
                self.expect_fields(op, STEP_ANSWER, exchange, &expected)
            }
            Step::DeleteChart { chart } => {
                self.session.deleted(Kind::Chart, &self.id(*chart));
                Ok(())
            }
            Step::DeleteRecord { .. } | Step::RenameAccount { .. } => Ok(()),
        }
    }

    fn predict_flow(&self, handle: Handle, model: &Model) -> Value {
        let flow = &model.flows[&handle];
        json!({
            "flowId": self.id(handle),
            "name": format!("{}{}", flow.prefix, self.render(&flow.name)),
            "stage": if flow.running { "running" } else { "stopped" },
            "flow": flow.descriptor,
            "customFields": self.custom_fields(&flow.category),
        })
    }

    fn predict_store(&self, handle: Handle, model: &Model) -> Value {
        json!({"storeId": self.id(handle), "name": self.render(&model.stores[&handle].name)})
    }

    fn predict_account(&self, handle: Handle, model: &Model) -> Value {
        let account = &model.accounts[&handle];
        let mut expected = json!({
            "accountId": self.id(handle),
            "service": account.service,
            "name": self.render(&account.name),
        });
        if let Some(display_name) = &account.display_name {
            expected["displayName"] = json!(self.render(display_name));
        }
        expected
    }

    fn predict_task(&self, handle: Handle, model: &Model) -> Value {
        let task = &model.tasks[&handle];
        let approver = if task.approver_is_caller {
            self.email.clone()
        } else {
            self.other_approver()
        };
        json!({
            "id": self.id(handle),
            "title": self.render(&task.title),
            "status": task.status.as_str(),
            "approver": approver,
            "requester": self.email,
        })
    }

    fn predict_chart(&self, handle: Handle, model: &Model) -> Value {
        let chart = &model.charts[&handle];
        json!({
            "chartId": self.id(handle),
            "name": self.render(&chart.name),
            "index": chart.index,
            "type": chart.kind,
        })
    }

    fn expectation_for(touched: bool) -> &'static str {
        if touched { READ_YOUR_WRITES } else { FRAME }
    }

    /// Reads a list answer into objects keyed by `id_field`.
    async fn listing(
        &mut self,
        call: Call,
        id_field: &str,
    ) -> Checked<(Exchange, BTreeMap<String, Value>)> {
        let operation = call.operation().to_string();
        let exchange = self.send(call).await?;
        self.check_status(&operation, READ_YOUR_WRITES, &exchange, StatusRule::Success)?;
        let body = exchange.json_ref().unwrap_or(&Value::Null);
        let listed = items(body)
            .iter()
            .filter_map(|item| {
                let id = item.get(id_field).and_then(Value::as_str)?;
                Some((id.to_string(), item.clone()))
            })
            .collect();
        Ok((exchange, listed))
    }

    /// Compares a listing with what the model expects in it.
    fn compare_listing(
        &mut self,
        (operation, exchange, listed): (&str, &Exchange, &BTreeMap<String, Value>),
        scope: &str,
        expected: Vec<Expected>,
        gone: Vec<(String, bool)>,
        exact: bool,
    ) -> Checked<()> {
        let mut kinds = BTreeSet::new();
        let known: BTreeSet<String> = expected.iter().map(|e| e.id.clone()).collect();
        for entry in &expected {
            let expectation = Self::expectation_for(entry.touched);
            kinds.insert(expectation);
            let Some(item) = listed.get(&entry.id) else {
                return self.check(
                    operation,
                    expectation,
                    Some(exchange),
                    Some((
                        format!("{} listed", entry.id),
                        format!("{} objects without it", listed.len()),
                    )),
                );
            };
            let mismatch = Self::fields_differ(&entry.prediction, Some(item))
                .map(|(e, a)| (format!("{}: {e}", entry.id), format!("{}: {a}", entry.id)));
            self.check(operation, expectation, Some(exchange), mismatch)?;
            let key = format!("{scope}/{}", entry.id);
            if let Some(previous) = self.seen.get(&key) {
                let mismatch = unchanged(previous, item, &entry.prediction, entry.volatile)
                    .map(|(e, a)| (format!("{}: {e}", entry.id), format!("{}: {a}", entry.id)));
                self.check(operation, expectation, Some(exchange), mismatch)?;
            }
            self.seen.insert(key, item.clone());
        }
        for (id, touched) in gone {
            let expectation = Self::expectation_for(touched);
            kinds.insert(expectation);
            self.seen.remove(&format!("{scope}/{id}"));
            let mismatch = listed.contains_key(&id).then(|| {
                (
                    format!("{id} no longer listed (deleted)"),
                    "still listed".to_string(),
                )
            });
            self.check(operation, expectation, Some(exchange), mismatch)?;
        }
        if exact {
            let strays: Vec<&String> = listed.keys().filter(|id| !known.contains(*id)).collect();
            let mismatch = (!strays.is_empty()).then(|| {
                (
                    "only the objects the model has".to_string(),
                    format!("also {strays:?}"),
                )
            });
            self.check(operation, FRAME, Some(exchange), mismatch)?;
        }
        Ok(())
    }

    async fn observe(&mut self, step: &Step, before: &Model, after: &Model) -> Checked<()> {
        let acted_on: BTreeSet<Handle> = step
            .creates()
            .into_iter()
            .chain(step.target())
            .map(|(_, h)| h)
            .collect();
        for area in self.areas.clone() {
            match area {
                Area::Flow => self.observe_flows(step, before, after, &acted_on).await?,
                Area::Store => self.observe_stores(step, before, after, &acted_on).await?,
                Area::Account => {
                    self.observe_accounts(step, before, after, &acted_on)
                        .await?
                }
                Area::Task => self.observe_tasks(step, before, after, &acted_on).await?,
                Area::Chart => self.observe_charts(step, before, after, &acted_on).await?,
            }
        }
        self.observe_target(step, before, after).await?;
        if let Step::SendMessage { flow, .. } = step
            && before.answer(step).accepts(202)
        {
            self.observe_logs(*flow, after).await?;
        }
        Ok(())
    }

    fn gone_ids(
        &self,
        area: Area,
        model: &Model,
        acted_on: &BTreeSet<Handle>,
    ) -> Vec<(String, bool)> {
        model
            .gone_of(area)
            .into_iter()
            .map(|h| (self.id(h), acted_on.contains(&h)))
            .collect()
    }

    async fn observe_flows(
        &mut self,
        step: &Step,
        before: &Model,
        after: &Model,
        acted_on: &BTreeSet<Handle>,
    ) -> Checked<()> {
        let filter = format!("customFields.amxcCase:{}", self.case);
        let (exchange, listed) = self
            .listing(Call::new("getFlows").query("filter", &filter), "flowId")
            .await?;
        let expected = after
            .flows
            .keys()
            .map(|h| Expected {
                id: self.id(*h),
                touched: acted_on.contains(h),
                prediction: self.predict_flow(*h, after),
                volatile: before.volatile(step, *h),
            })
            .collect();
        let gone = self.gone_ids(Area::Flow, after, acted_on);
        self.compare_listing(
            ("getFlows", &exchange, &listed),
            "flow",
            expected,
            gone,
            true,
        )?;

        let changed = before.flows.len() != after.flows.len();
        self.check_count(
            Call::new("getFlowsCount").query("filter", &filter),
            Self::expectation_for(changed),
            after.flows.len(),
        )
        .await
    }

    async fn observe_stores(
        &mut self,
        step: &Step,
        before: &Model,
        after: &Model,
        acted_on: &BTreeSet<Handle>,
    ) -> Checked<()> {
        let (exchange, listed) = self.listing(Call::new("getStores"), "storeId").await?;
        let expected = after
            .stores
            .keys()
            .map(|h| Expected {
                id: self.id(*h),
                touched: acted_on.contains(h),
                prediction: self.predict_store(*h, after),
                volatile: &[],
            })
            .collect();
        let gone = self.gone_ids(Area::Store, after, acted_on);
        self.compare_listing(
            ("getStores", &exchange, &listed),
            "store",
            expected,
            gone,
            false,
        )?;

        for (handle, store) in &after.stores {
            let store_id = self.id(*handle);
            let touched_keys: BTreeSet<&str> = if acted_on.contains(handle) {
                step.record_keys().into_iter().collect()
            } else {
                BTreeSet::new()
            };
            let (exchange, listed) = self
                .listing(
                    Call::new("getStoreRecords").query("storeId", &store_id),
                    "key",
                )
                .await?;
            let previous = before.stores.get(handle);
            let expected = store
                .records
                .iter()
                .map(|(key, value)| {
                    let touched = touched_keys.contains(key.as_str());
                    let overwritten = touched
                        && matches!(step, Step::SetRecord { .. })
                        && previous.is_some_and(|s| s.records.contains_key(key));
                    Expected {
                        id: key.clone(),
                        touched,
                        prediction: json!({"key": key, "value": value}),
                        volatile: if overwritten { &["updatedAt"] } else { &[] },
                    }
                })
                .collect();
            let gone = previous
                .into_iter()
                .flat_map(|s| s.records.keys())
                .filter(|key| !store.records.contains_key(*key))
                .map(|key| (key.clone(), true))
                .collect();
            let scope = format!("record/{store_id}");
            self.compare_listing(
                ("getStoreRecords", &exchange, &listed),
                &scope,
                expected,
                gone,
                true,
            )?;
            if acted_on.contains(handle) {
                self.check_count(
                    Call::new("getStoreRecordsCount").query("storeId", &store_id),
                    READ_YOUR_WRITES,
                    store.records.len(),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn observe_accounts(
        &mut self,
        step: &Step,
        before: &Model,
        after: &Model,
        acted_on: &BTreeSet<Handle>,
    ) -> Checked<()> {
        let (exchange, listed) = self.listing(Call::new("getAccounts"), "accountId").await?;
        let expected = after
            .accounts
            .keys()
            .map(|h| Expected {
                id: self.id(*h),
                touched: acted_on.contains(h),
                prediction: self.predict_account(*h, after),
                volatile: before.volatile(step, *h),
            })
            .collect();
        let gone = self.gone_ids(Area::Account, after, acted_on);
        self.compare_listing(
            ("getAccounts", &exchange, &listed),
            "account",
            expected,
            gone,
            false,
        )
    }

    fn task_pattern(&self) -> String {
        regex::escape(&self.case)
    }

    async fn observe_tasks(
        &mut self,
        step: &Step,
        before: &Model,
        after: &Model,
        acted_on: &BTreeSet<Handle>,
    ) -> Checked<()> {
        let pattern = self.task_pattern();
        let (exchange, listed) = self
            .listing(Call::new("getPeopleTasks").query("pattern", &pattern), "id")
            .await?;
        let leaked = listed.values().any(|task| {
            task.get("approverSecret").is_some() || task.get("requesterSecret").is_some()
        });
        self.check(
            "getPeopleTasks",
            FRAME,
            Some(&exchange),
            leaked.then(|| {
                (
                    "tasks without secrets".into(),
                    "a task with a secret".into(),
                )
            }),
        )?;
        let expected = after
            .tasks
            .keys()
            .map(|h| Expected {
                id: self.id(*h),
                touched: acted_on.contains(h),
                prediction: self.predict_task(*h, after),
                volatile: before.volatile(step, *h),
            })
            .collect();
        self.compare_listing(
            ("getPeopleTasks", &exchange, &listed),
            "task",
            expected,
            Vec::new(),
            true,
        )?;
        if step.area() == Area::Task {
            self.check_count(
                Call::new("getPeopleTasksCount").query("pattern", &pattern),
                READ_YOUR_WRITES,
                after.tasks.len(),
            )
            .await?;
        }
        Ok(())
    }

    async fn observe_charts(
        &mut self,
        step: &Step,
        before: &Model,
        after: &Model,
        acted_on: &BTreeSet<Handle>,
    ) -> Checked<()> {
        let (exchange, listed) = self
            .listing(
                Call::new("getCharts").query("pattern", &self.case),
                "chartId",
            )
            .await?;
        let expected = after
            .charts
            .keys()
            .map(|h| Expected {
                id: self.id(*h),
                touched: acted_on.contains(h),
                prediction: self.predict_chart(*h, after),
                volatile: before.volatile(step, *h),
            })
            .collect();
        let gone = self.gone_ids(Area::Chart, after, acted_on);
        self.compare_listing(
            ("getCharts", &exchange, &listed),
            "chart",
            expected,
            gone,
            true,
        )
    }

    /// Reads the object the step created or acted on by itself.
    async fn observe_target(&mut self, step: &Step, before: &Model, after: &Model) -> Checked<()> {
        let Some((area, handle)) = step.creates().or_else(|| step.target()) else {
            return Ok(());
        };
        if !self.ids.contains_key(&handle) {
            return Ok(());
        }
        let id = self.id(handle);
        let (call, prediction) = match area {
            Area::Flow => (
                Call::new("getFlow").path("flowId", &id),
                after
                    .flows
                    .contains_key(&handle)
                    .then(|| self.predict_flow(handle, after)),
            ),
            Area::Store => {
                self.observe_records(step, handle, before, after).await?;
                (
                    Call::new("getStore").path("storeId", &id),
                    after
                        .stores
                        .contains_key(&handle)
                        .then(|| self.predict_store(handle, after)),
                )
            }
            Area::Task => {
                let mut prediction = self.predict_task(handle, after);
                prediction["isApprover"] = json!(after.tasks[&handle].approver_is_caller);
                (Call::new("getPeopleTask").path("id", &id), Some(prediction))
            }
            Area::Chart => (
                Call::new("getChart").path("chartId", &id),
                after
                    .charts
                    .contains_key(&handle)
                    .then(|| self.predict_chart(handle, after)),
            ),
            Area::Account => return Ok(()),
        };
        let operation = call.operation().to_string();
        let exchange = self.send(call).await?;
        match prediction {
            Some(prediction) => {
                self.check_status(&operation, READ_YOUR_WRITES, &exchange, StatusRule::Success)?;
                let body = exchange.json_ref();
                let mut prediction = prediction;
                // `isApprover` is optional; only a wrong one is wrong.
                if body.is_some_and(|b| b.get("isApprover").is_none())
                    && let Some(fields) = prediction.as_object_mut()
                {
                    fields.remove("isApprover");
                }
                let mismatch = Self::fields_differ(&prediction, body);
                self.check(&operation, READ_YOUR_WRITES, Some(&exchange), mismatch)
            }
            None => self.check_status(
                &operation,
                READ_YOUR_WRITES,
                &exchange,
                StatusRule::Exactly(404),
            ),
        }
    }

    async fn observe_records(
        &mut self,
        step: &Step,
        handle: Handle,
        before: &Model,
        after: &Model,
    ) -> Checked<()> {
        let Some(store) = after.stores.get(&handle) else {
            return Ok(());
        };
        let store_id = self.id(handle);
        let keys: BTreeSet<&str> = step.record_keys().into_iter().collect();
        for key in keys {
            let exchange = self
                .send(
                    Call::new("getStoreItem")
                        .path("storeId", &store_id)
                        .path("key", key),
                )
                .await?;
            match store.records.get(key) {
                Some(value) => {
                    self.check_status(
                        "getStoreItem",
                        READ_YOUR_WRITES,
                        &exchange,
                        StatusRule::Success,
                    )?;
                    let body = exchange.json_ref();
                    let mut expected = json!({"key": key, "value": value});
                    // `storeId` is optional; when given it must be this store's.
                    if body.is_some_and(|b| b.get("storeId").is_some()) {
                        expected["storeId"] = json!(store_id);
                    }
                    let mismatch = Self::fields_differ(&expected, body);
                    self.check("getStoreItem", READ_YOUR_WRITES, Some(&exchange), mismatch)?;
                }
                None => {
                    let existed = before
                        .stores
                        .get(&handle)
                        .is_some_and(|s| s.records.contains_key(key));
                    let expectation = if existed { READ_YOUR_WRITES } else { FRAME };
                    self.check_status(
                        "getStoreItem",
                        expectation,
                        &exchange,
                        StatusRule::Exactly(404),
                    )?;
                }
            }
        }
        Ok(())
    }

    async fn observe_logs(&mut self, flow: Handle, after: &Model) -> Checked<()> {
        let Some(model_flow) = after.flows.get(&flow) else {
            return Ok(());
        };
        let flow_id = self.id(flow);
        let webhook = model_flow.webhook.clone();
        let wanted = model_flow.messages as usize;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let exchange = self
                .send(
                    Call::new("getLogs")
                        .query("query", format!("+flowId:{flow_id}"))
                        .query("size", 100),
                )
                .await?;
            self.check_status("getLogs", READ_YOUR_WRITES, &exchange, StatusRule::Success)?;
            let body = exchange.json_ref().unwrap_or(&Value::Null);
            let hits = items(body.get("hits").unwrap_or(&Value::Null))
                .iter()
                .filter(|hit| {
                    hit.get("componentId").and_then(Value::as_str) == Some(webhook.as_str())
                        && hit.get("portType").and_then(Value::as_str).unwrap_or("in") == "in"
                })
                .count();
            // Real engines index log entries asynchronously: too few may
            // still arrive, too many never go away.
            if hits >= wanted || attempt >= LOG_ATTEMPTS {
                let mismatch = (hits != wanted).then(|| {
                    (
                        format!("{wanted} entries of component {webhook}"),
                        format!("{hits} entries"),
                    )
                });
                return self.check("getLogs", READ_YOUR_WRITES, Some(&exchange), mismatch);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
        }
    }

    /// Deletes what the case left alive. Failures here are cleanup's to
    /// report: the ledger still holds every object.
    async fn teardown(&mut self, model: &Model) {
        let live: Vec<(Kind, &str, &str, Handle)> = model
            .flows
            .keys()
            .map(|h| (Kind::Flow, "deleteFlow", "flowId", *h))
            .chain(
                model
                    .stores
                    .keys()
                    .map(|h| (Kind::Store, "deleteStore", "storeId", *h)),
            )
            .chain(
                model
                    .accounts
                    .keys()
                    .map(|h| (Kind::Account, "deleteAccount", "accountId", *h)),
            )
            .chain(
                model
                    .charts
                    .keys()
                    .map(|h| (Kind::Chart, "deleteChart", "chartId", *h)),
            )
            .collect();
        for (kind, operation, parameter, handle) in live {
            let Some(id) = self.ids.get(&handle).cloned() else {
                continue;
            };
            match self.send(Call::new(operation).path(parameter, &id)).await {
                Ok(exchange) if exchange.is_success() || exchange.status() == 404 => {
                    self.session.deleted(kind, &id);
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }
}

/// Whether `now` keeps every field of `previous` that the model does not
/// predict, letting the `volatile` timestamps only move forward.
fn unchanged(
    previous: &Value,
    now: &Value,
    predicted: &Value,
    volatile: &[&str],
) -> Option<(String, String)> {
    let (Some(previous), Some(now)) = (previous.as_object(), now.as_object()) else {
        return None;
    };
    let keys: BTreeSet<&String> = previous.keys().chain(now.keys()).collect();
    for key in keys {
        if predicted.get(key).is_some() {
            continue;
        }
        let (was, is) = (previous.get(key), now.get(key));
        if volatile.contains(&key.as_str()) {
            if let (Some(was), Some(is)) = (was, is)
                && moved_back(was, is)
            {
                return Some((
                    format!("`{key}` at or after {was}"),
                    format!("`{key}` {is}"),
                ));
            }
            if was.is_some() && is.is_none() {
                return Some((format!("`{key}` kept"), format!("`{key}` gone")));
            }
            continue;
        }
        if was != is {
            let show = |v: Option<&Value>| {
                v.map(|v| crate::redact::truncate(&v.to_string(), 120))
                    .unwrap_or_else(|| "nothing".into())
            };
            return Some((
                format!("`{key}` unchanged: {}", show(was)),
                format!("`{key}` {}", show(is)),
            ));
        }
    }
    None
}

fn moved_back(was: &Value, is: &Value) -> bool {
    let parse = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    match (parse(was), parse(is)) {
        (Some(was), Some(is)) => is < was,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpredicted_fields_must_stay_and_volatile_timestamps_only_move_forward() {
        let before = json!({"id": "1", "userId": "u", "mtime": "2024-01-01T00:00:01.000Z"});
        let later = json!({"id": "1", "userId": "u", "mtime": "2024-01-01T00:00:02.000Z"});
        let earlier = json!({"id": "1", "userId": "u", "mtime": "2023-01-01T00:00:00.000Z"});
        let moved = json!({"id": "1", "userId": "v", "mtime": "2024-01-01T00:00:01.000Z"});
        let predicted = json!({"id": "1"});

        assert_eq!(unchanged(&before, &later, &predicted, &["mtime"]), None);
        assert!(unchanged(&before, &earlier, &predicted, &["mtime"]).is_some());
        assert!(unchanged(&before, &later, &predicted, &[]).is_some());
        assert!(unchanged(&before, &moved, &predicted, &["mtime"]).is_some());
    }
}
