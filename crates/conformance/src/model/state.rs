//! The reference model: the server's observable state, as the spec says it
//! must be after each operation.
//!
//! [`Model`] holds what one user can see: flows and their stage, data stores
//! and their records, connected accounts, people tasks and their status, and
//! Insights charts. A [`Step`] is one API operation; [`Model::answer`] says
//! which status it must get, [`Model::apply`] what the state is afterwards
//! and [`Model::volatile`] which server-made fields (timestamps) it may
//! change. Everything here is read from the operations' descriptions in
//! `spec/appmixer.yaml` and nothing else; it never looks at a server.
//!
//! Objects are named by [`Handle`]s that the creating step carries, so that a
//! shrunk sequence keeps its meaning: `F3` is the flow that `create flow F3`
//! made, whichever steps around it were removed.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::session::StatusRule;

/// The component type that receives webhook messages.
pub const WEBHOOK_TYPE: &str = "appmixer.utils.http.Webhook";

/// A model object's name, carried by the step that creates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Handle(pub u32);

/// The kinds of object the model keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Area {
    /// Flows.
    Flow,
    /// Data stores (their records live inside them).
    Store,
    /// Connected accounts.
    Account,
    /// People tasks.
    Task,
    /// Insights charts.
    Chart,
}

impl Area {
    /// The kind of object in words, e.g. `people task`.
    pub fn noun(self) -> &'static str {
        match self {
            Area::Flow => "flow",
            Area::Store => "store",
            Area::Account => "account",
            Area::Task => "people task",
            Area::Chart => "chart",
        }
    }

    fn letter(self) -> char {
        match self {
            Area::Flow => 'F',
            Area::Store => 'S',
            Area::Account => 'A',
            Area::Task => 'T',
            Area::Chart => 'C',
        }
    }
}

/// A handle shown with its area's letter, e.g. `F3`.
#[derive(Debug, Clone, Copy)]
pub struct Named(pub Area, pub Handle);

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.0.letter(), self.1.0)
    }
}

/// A flow as the model predicts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Prefixes that clones put in front of the name, outermost first.
    pub prefix: String,
    /// The name after the case tag (the driver puts the tag in front).
    pub name: String,
    /// The descriptor, as sent.
    pub descriptor: Value,
    /// `customFields.category`, when set.
    pub category: Option<String>,
    /// Whether the flow is `running`.
    pub running: bool,
    /// The id of the descriptor's webhook component.
    pub webhook: String,
    /// How many messages its webhook component accepted.
    pub messages: u32,
}

/// A data store and its records.
#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    /// The name after the case tag.
    pub name: String,
    /// Record keys and their `text/plain` values.
    pub records: BTreeMap<String, String>,
}

/// A connected account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// `vendor:service`.
    pub service: String,
    /// The name after the case tag.
    pub name: String,
    /// The display name, once renamed.
    pub display_name: Option<String>,
}

/// A people task's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TaskStatus {
    /// Not decided yet.
    Pending,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
}

impl TaskStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Approved => "approved",
            TaskStatus::Rejected => "rejected",
        }
    }
}

/// A people task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The title after the case tag.
    pub title: String,
    /// Whether the caller is the approver (else someone else is).
    pub approver_is_caller: bool,
    /// Its status.
    pub status: TaskStatus,
}

/// An Insights chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The name after the case tag.
    pub name: String,
    /// Its position on the dashboard.
    pub index: i64,
    /// Its `type`.
    pub kind: String,
}

/// What an update sends as a flow's `customFields`, which replace the
/// stored ones as a whole (the spec: "replaced as a whole, not merged").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldsUpdate {
    /// No `customFields` in the body: the stored ones stay.
    Unchanged,
    /// The case tag and this `category`.
    Category(String),
    /// The case tag alone: a stored `category` is left out, and so goes.
    TagOnly,
}

/// One API operation of a generated sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Step {
    /// `createFlow`.
    CreateFlow {
        /// The new flow.
        flow: Handle,
        /// Its name.
        name: String,
        /// Its descriptor (always with one webhook component).
        descriptor: Value,
        /// Its `customFields.category`.
        category: Option<String>,
    },
    /// `updateFlow`.
    UpdateFlow {
        /// The flow.
        flow: Handle,
        /// A new name.
        name: Option<String>,
        /// A new descriptor.
        descriptor: Option<Value>,
        /// New `customFields`, if any.
        custom_fields: FieldsUpdate,
        /// Whether `forceUpdate=true` is sent.
        force: bool,
    },
    /// `sendFlowCommand` with `start`.
    StartFlow {
        /// The flow.
        flow: Handle,
    },
    /// `sendFlowCommand` with `stop`.
    StopFlow {
        /// The flow.
        flow: Handle,
    },
    /// `cloneFlow`.
    CloneFlow {
        /// The original.
        source: Handle,
        /// The copy.
        clone: Handle,
        /// The `prefix` option.
        prefix: String,
    },
    /// `deleteFlow`.
    DeleteFlow {
        /// The flow.
        flow: Handle,
    },
    /// `sendComponentMessage` to the flow's webhook component.
    SendMessage {
        /// The flow.
        flow: Handle,
        /// The message's `text`.
        text: String,
    },
    /// `createStore`.
    CreateStore {
        /// The new store.
        store: Handle,
        /// Its name.
        name: String,
    },
    /// `renameStore`.
    RenameStore {
        /// The store.
        store: Handle,
        /// The new name.
        name: String,
    },
    /// `deleteStore`.
    DeleteStore {
        /// The store.
        store: Handle,
    },
    /// `createStoreItem`.
    SetRecord {
        /// The store.
        store: Handle,
        /// The record's key.
        key: String,
        /// Its value.
        value: String,
    },
    /// `deleteStoreItem`.
    DeleteRecord {
        /// The store.
        store: Handle,
        /// The key.
        key: String,
    },
    /// `deleteStoreItems`.
    DeleteRecords {
        /// The store.
        store: Handle,
        /// The keys, existing or not.
        keys: Vec<String>,
    },
    /// `createAccount`.
    CreateAccount {
        /// The new account.
        account: Handle,
        /// Its service.
        service: String,
        /// Its name.
        name: String,
    },
    /// `setAccountName`.
    RenameAccount {
        /// The account.
        account: Handle,
        /// The new display name.
        display_name: String,
    },
    /// `deleteAccount`.
    DeleteAccount {
        /// The account.
        account: Handle,
    },
    /// `createPeopleTask`, the caller being the requester.
    CreateTask {
        /// The new task.
        task: Handle,
        /// Its title.
        title: String,
        /// Whether the caller is also the approver.
        approver_is_caller: bool,
    },
    /// `approveTask` or `rejectTask`.
    DecideTask {
        /// The task.
        task: Handle,
        /// Approve (else reject).
        approve: bool,
        /// Decide with the approver secret and no token (else with the token).
        with_secret: bool,
    },
    /// `createChart`.
    CreateChart {
        /// The new chart.
        chart: Handle,
        /// Its name.
        name: String,
        /// Its index.
        index: i64,
        /// Its type.
        kind: String,
    },
    /// `updateChart`.
    UpdateChart {
        /// The chart.
        chart: Handle,
        /// A new name.
        name: Option<String>,
        /// A new index.
        index: Option<i64>,
        /// A new type.
        kind: Option<String>,
    },
    /// `deleteChart`.
    DeleteChart {
        /// The chart.
        chart: Handle,
    },
}

impl Step {
    /// The `operationId` the step calls.
    pub fn operation(&self) -> &'static str {
        match self {
            Step::CreateFlow { .. } => "createFlow",
            Step::UpdateFlow { .. } => "updateFlow",
            Step::StartFlow { .. } | Step::StopFlow { .. } => "sendFlowCommand",
            Step::CloneFlow { .. } => "cloneFlow",
            Step::DeleteFlow { .. } => "deleteFlow",
            Step::SendMessage { .. } => "sendComponentMessage",
            Step::CreateStore { .. } => "createStore",
            Step::RenameStore { .. } => "renameStore",
            Step::DeleteStore { .. } => "deleteStore",
            Step::SetRecord { .. } => "createStoreItem",
            Step::DeleteRecord { .. } => "deleteStoreItem",
            Step::DeleteRecords { .. } => "deleteStoreItems",
            Step::CreateAccount { .. } => "createAccount",
            Step::RenameAccount { .. } => "setAccountName",
            Step::DeleteAccount { .. } => "deleteAccount",
            Step::CreateTask { .. } => "createPeopleTask",
            Step::DecideTask { approve: true, .. } => "approveTask",
            Step::DecideTask { approve: false, .. } => "rejectTask",
            Step::CreateChart { .. } => "createChart",
            Step::UpdateChart { .. } => "updateChart",
            Step::DeleteChart { .. } => "deleteChart",
        }
    }

    /// The object the step creates, if it creates one.
    pub fn creates(&self) -> Option<(Area, Handle)> {
        match self {
            Step::CreateFlow { flow, .. } => Some((Area::Flow, *flow)),
            Step::CloneFlow { clone, .. } => Some((Area::Flow, *clone)),
            Step::CreateStore { store, .. } => Some((Area::Store, *store)),
            Step::CreateAccount { account, .. } => Some((Area::Account, *account)),
            Step::CreateTask { task, .. } => Some((Area::Task, *task)),
            Step::CreateChart { chart, .. } => Some((Area::Chart, *chart)),
            _ => None,
        }
    }

    /// The existing object the step acts on, if any.
    pub fn target(&self) -> Option<(Area, Handle)> {
        match self {
            Step::UpdateFlow { flow, .. }
            | Step::StartFlow { flow }
            | Step::StopFlow { flow }
            | Step::DeleteFlow { flow }
            | Step::SendMessage { flow, .. } => Some((Area::Flow, *flow)),
            Step::CloneFlow { source, .. } => Some((Area::Flow, *source)),
            Step::RenameStore { store, .. }
            | Step::DeleteStore { store }
            | Step::SetRecord { store, .. }
            | Step::DeleteRecord { store, .. }
            | Step::DeleteRecords { store, .. } => Some((Area::Store, *store)),
            Step::RenameAccount { account, .. } | Step::DeleteAccount { account } => {
                Some((Area::Account, *account))
            }
            Step::DecideTask { task, .. } => Some((Area::Task, *task)),
            Step::UpdateChart { chart, .. } | Step::DeleteChart { chart } => {
                Some((Area::Chart, *chart))
            }
            _ => None,
        }
    }

    /// The area the step belongs to.
    pub fn area(&self) -> Area {
        self.creates()
            .or_else(|| self.target())
            .map(|(area, _)| area)
            .expect("every step creates or targets an object")
    }

    /// The record keys whose records the step may change.
    pub fn record_keys(&self) -> Vec<&str> {
        match self {
            Step::SetRecord { key, .. } | Step::DeleteRecord { key, .. } => vec![key.as_str()],
            Step::DeleteRecords { keys, .. } => keys.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// A one-line account of the step, for reports.
    pub fn describe(&self) -> String {
        let flow = |h: &Handle| Named(Area::Flow, *h);
        let store = |h: &Handle| Named(Area::Store, *h);
        match self {
            Step::CreateFlow { flow: h, name, .. } => {
                format!("create flow {} named {name:?}", flow(h))
            }
            Step::UpdateFlow {
                flow: h,
                name,
                descriptor,
                custom_fields,
                force,
            } => {
                let mut parts = Vec::new();
                if let Some(name) = name {
                    parts.push(format!("name {name:?}"));
                }
                if descriptor.is_some() {
                    parts.push("a new descriptor".into());
                }
                match custom_fields {
                    FieldsUpdate::Unchanged => {}
                    FieldsUpdate::Category(category) => {
                        parts.push(format!("customFields with category {category:?}"));
                    }
                    FieldsUpdate::TagOnly => parts.push("customFields without a category".into()),
                }
                let force = if *force { " with forceUpdate=true" } else { "" };
                format!("update flow {}: {}{force}", flow(h), parts.join(", "))
            }
            Step::StartFlow { flow: h } => format!("start flow {}", flow(h)),
            Step::StopFlow { flow: h } => format!("stop flow {}", flow(h)),
            Step::CloneFlow {
                source,
                clone,
                prefix,
            } => format!(
                "clone flow {} as {} with prefix {prefix:?}",
                flow(source),
                flow(clone)
            ),
            Step::DeleteFlow { flow: h } => format!("delete flow {}", flow(h)),
            Step::SendMessage { flow: h, text } => {
                format!("send {text:?} to the webhook of flow {}", flow(h))
            }
            Step::CreateStore { store: h, name } => {
                format!("create store {} named {name:?}", store(h))
            }
            Step::RenameStore { store: h, name } => {
                format!("rename store {} to {name:?}", store(h))
            }
            Step::DeleteStore { store: h } => format!("delete store {}", store(h)),
            Step::SetRecord {
                store: h,
                key,
                value,
            } => format!("set record {key:?} of store {} to {value:?}", store(h)),
            Step::DeleteRecord { store: h, key } => {
                format!("delete record {key:?} of store {}", store(h))
            }
            Step::DeleteRecords { store: h, keys } => {
                format!("delete records {keys:?} of store {}", store(h))
            }
            Step::CreateAccount {
                account,
                service,
                name,
            } => format!(
                "create {service} account {} named {name:?}",
                Named(Area::Account, *account)
            ),
            Step::RenameAccount {
                account,
                display_name,
            } => format!(
                "rename account {} to {display_name:?}",
                Named(Area::Account, *account)
            ),
            Step::DeleteAccount { account } => {
                format!("delete account {}", Named(Area::Account, *account))
            }
            Step::CreateTask {
                task,
                title,
                approver_is_caller,
            } => format!(
                "create people task {} titled {title:?}, approved by {}",
                Named(Area::Task, *task),
                if *approver_is_caller {
                    "the caller"
                } else {
                    "someone else"
                }
            ),
            Step::DecideTask {
                task,
                approve,
                with_secret,
            } => format!(
                "{} people task {} {}",
                if *approve { "approve" } else { "reject" },
                Named(Area::Task, *task),
                if *with_secret {
                    "with its approver secret"
                } else {
                    "with the token"
                }
            ),
            Step::CreateChart {
                chart,
                name,
                index,
                kind,
            } => format!(
                "create {kind} chart {} named {name:?} at index {index}",
                Named(Area::Chart, *chart)
            ),
            Step::UpdateChart {
                chart,
                name,
                index,
                kind,
            } => format!(
                "update chart {}: name {name:?}, index {index:?}, type {kind:?}",
                Named(Area::Chart, *chart)
            ),
            Step::DeleteChart { chart } => format!("delete chart {}", Named(Area::Chart, *chart)),
        }
    }
}

/// The observable state of one user's objects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// The next handle a creating step gets.
    pub next: u32,
    /// Live flows.
    pub flows: BTreeMap<Handle, Flow>,
    /// Live stores.
    pub stores: BTreeMap<Handle, Store>,
    /// Live accounts.
    pub accounts: BTreeMap<Handle, Account>,
    /// People tasks (the API cannot delete them).
    pub tasks: BTreeMap<Handle, Task>,
    /// Live charts.
    pub charts: BTreeMap<Handle, Chart>,
    /// Deleted objects.
    pub gone: BTreeMap<Handle, Area>,
}

impl Model {
    /// Whether `handle` names an object of `area`, live or deleted.
    pub fn knows(&self, area: Area, handle: Handle) -> bool {
        self.is_live(area, handle) || self.gone.get(&handle) == Some(&area)
    }

    /// Whether `handle` names a live object of `area`.
    pub fn is_live(&self, area: Area, handle: Handle) -> bool {
        match area {
            Area::Flow => self.flows.contains_key(&handle),
            Area::Store => self.stores.contains_key(&handle),
            Area::Account => self.accounts.contains_key(&handle),
            Area::Task => self.tasks.contains_key(&handle),
            Area::Chart => self.charts.contains_key(&handle),
        }
    }

    fn is_unused(&self, handle: Handle) -> bool {
        let areas = [
            Area::Flow,
            Area::Store,
            Area::Account,
            Area::Task,
            Area::Chart,
        ];
        !areas.iter().any(|area| self.knows(*area, handle))
    }

    /// Whether `step` can be taken in this state: what it creates is new,
    /// what it acts on exists (or, for steps that must refuse, existed).
    pub fn accepts(&self, step: &Step) -> bool {
        if let Some((_, handle)) = step.creates()
            && !self.is_unused(handle)
        {
            return false;
        }
        match step {
            // Records live in stores: acting on those of a deleted store has
            // no documented answer.
            Step::SetRecord { store, .. }
            | Step::DeleteRecord { store, .. }
            | Step::DeleteRecords { store, .. } => self.stores.contains_key(store),
            Step::CloneFlow { source, .. } => self.flows.contains_key(source),
            Step::SendMessage { flow, .. } => self.flows.contains_key(flow),
            Step::DecideTask { task, .. } => self.tasks.contains_key(task),
            _ => match step.target() {
                Some((area, handle)) => self.knows(area, handle),
                None => true,
            },
        }
    }

    /// The status the server must answer `step` with in this state.
    pub fn answer(&self, step: &Step) -> StatusRule {
        let unknown = |area, handle| !self.is_live(area, handle);
        match step {
            Step::UpdateFlow { flow, force, .. } => match self.flows.get(flow) {
                None => StatusRule::Exactly(404),
                Some(f) if f.running && !force => StatusRule::ClientError,
                Some(_) => StatusRule::Success,
            },
            Step::DeleteFlow { flow } if unknown(Area::Flow, *flow) => StatusRule::Exactly(404),
            Step::SendMessage { flow, .. } => match self.flows.get(flow) {
                Some(f) if f.running => StatusRule::Exactly(202),
                _ => StatusRule::ClientError,
            },
            Step::DeleteRecord { store, key } => match self.stores.get(store) {
                Some(s) if !s.records.contains_key(key) => StatusRule::Exactly(404),
                _ => StatusRule::Success,
            },
            Step::DecideTask {
                task, with_secret, ..
            } => {
                let task = &self.tasks[task];
                let allowed = *with_secret || task.approver_is_caller;
                match (task.status == TaskStatus::Pending, allowed) {
                    (true, true) => StatusRule::Success,
                    (true, false) => StatusRule::Exactly(403),
                    (false, true) => StatusRule::Exactly(400),
                    // Both refusals apply; the spec does not rank them.
                    (false, false) => StatusRule::ClientError,
                }
            }
            _ => match step.target() {
                Some((area, handle)) if unknown(area, handle) => StatusRule::ClientError,
                _ => StatusRule::Success,
            },
        }
    }

    /// The server-made fields of `handle`'s object that `step` may change in
    /// this state, besides the fields the model predicts.
    pub fn volatile(&self, step: &Step, handle: Handle) -> &'static [&'static str] {
        if step.target().map(|(_, h)| h) != Some(handle) || !self.answer(step).accepts(200) {
            return &[];
        }
        match step {
            Step::UpdateFlow { .. } => &["mtime"],
            Step::StartFlow { flow } if !self.flows[flow].running => &["started", "mtime"],
            Step::StopFlow { flow } if self.flows[flow].running => &["stopped", "mtime"],
            Step::DecideTask { .. } => &["decisionMade", "mtime"],
            Step::UpdateChart { .. } => &["mtime"],
            Step::SetRecord { .. } => &["updatedAt"],
            _ => &[],
        }
    }

    /// The state after `step`.
    pub fn apply(mut self, step: &Step) -> Model {
        let succeeds = self.answer(step).accepts(match step {
            Step::SendMessage { .. } => 202,
            _ => 200,
        });
        if let Some((_, handle)) = step.creates() {
            self.next = self.next.max(handle.0.saturating_add(1));
        }
        if !succeeds {
            return self;
        }
        match step.clone() {
            Step::CreateFlow {
                flow,
                name,
                descriptor,
                category,
            } => {
                let webhook = webhook_of(&descriptor);
                self.flows.insert(
                    flow,
                    Flow {
                        prefix: String::new(),
                        name,
                        descriptor,
                        category,
                        running: false,
                        webhook,
                        messages: 0,
                    },
                );
            }
            Step::UpdateFlow {
                flow,
                name,
                descriptor,
                custom_fields,
                ..
            } => {
                let f = self.flows.get_mut(&flow).expect("a live flow");
                if let Some(name) = name {
                    f.prefix.clear();
                    f.name = name;
                }
                if let Some(descriptor) = descriptor {
                    f.webhook = webhook_of(&descriptor);
                    f.descriptor = descriptor;
                }
                match custom_fields {
                    FieldsUpdate::Unchanged => {}
                    FieldsUpdate::Category(category) => f.category = Some(category),
                    FieldsUpdate::TagOnly => f.category = None,
                }
            }
            Step::StartFlow { flow } => {
                self.flows.get_mut(&flow).expect("a live flow").running = true
            }
            Step::StopFlow { flow } => {
                self.flows.get_mut(&flow).expect("a live flow").running = false
            }
            Step::CloneFlow {
                source,
                clone,
                prefix,
            } => {
                let original = &self.flows[&source];
                let copy = Flow {
                    prefix: format!("{prefix}{}", original.prefix),
                    running: false,
                    messages: 0,
                    ..original.clone()
                };
                self.flows.insert(clone, copy);
            }
            Step::DeleteFlow { flow } => {
                self.flows.remove(&flow);
                self.gone.insert(flow, Area::Flow);
            }
            Step::SendMessage { flow, .. } => {
                self.flows.get_mut(&flow).expect("a live flow").messages += 1;
            }
            Step::CreateStore { store, name } => {
                self.stores.insert(
                    store,
                    Store {
                        name,
                        records: BTreeMap::new(),
                    },
                );
            }
            Step::RenameStore { store, name } => {
                self.stores.get_mut(&store).expect("a live store").name = name;
            }
            Step::DeleteStore { store } => {
                self.stores.remove(&store);
                self.gone.insert(store, Area::Store);
            }
            Step::SetRecord { store, key, value } => {
                let s = self.stores.get_mut(&store).expect("a live store");
                s.records.insert(key, value);
            }
            Step::DeleteRecord { store, key } => {
                let s = self.stores.get_mut(&store).expect("a live store");
                s.records.remove(&key);
            }
            Step::DeleteRecords { store, keys } => {
                let s = self.stores.get_mut(&store).expect("a live store");
                for key in keys {
                    s.records.remove(&key);
                }
            }
            Step::CreateAccount {
                account,
                service,
                name,
            } => {
                self.accounts.insert(
                    account,
                    Account {
                        service,
                        name,
                        display_name: None,
                    },
                );
            }
            Step::RenameAccount {
                account,
                display_name,
            } => {
                self.accounts
                    .get_mut(&account)
                    .expect("a live account")
                    .display_name = Some(display_name);
            }
            Step::DeleteAccount { account } => {
                self.accounts.remove(&account);
                self.gone.insert(account, Area::Account);
            }
            Step::CreateTask {
                task,
                title,
                approver_is_caller,
            } => {
                self.tasks.insert(
                    task,
                    Task {
                        title,
                        approver_is_caller,
                        status: TaskStatus::Pending,
                    },
                );
            }
            Step::DecideTask { task, approve, .. } => {
                self.tasks.get_mut(&task).expect("a task").status = if approve {
                    TaskStatus::Approved
                } else {
                    TaskStatus::Rejected
                };
            }
            Step::CreateChart {
                chart,
                name,
                index,
                kind,
            } => {
                self.charts.insert(chart, Chart { name, index, kind });
            }
            Step::UpdateChart {
                chart,
                name,
                index,
                kind,
            } => {
                let c = self.charts.get_mut(&chart).expect("a live chart");
                if let Some(name) = name {
                    c.name = name;
                }
                if let Some(index) = index {
                    c.index = index;
                }
                if let Some(kind) = kind {
                    c.kind = kind;
                }
            }
            Step::DeleteChart { chart } => {
                self.charts.remove(&chart);
                self.gone.insert(chart, Area::Chart);
            }
        }
        self
    }

    /// Handles of `area` that were deleted.
    pub fn gone_of(&self, area: Area) -> Vec<Handle> {
        self.gone
            .iter()
            .filter(|(_, a)| **a == area)
            .map(|(h, _)| *h)
            .collect()
    }
}

/// Why a sequence of steps is not one the model could have generated, so
/// that running it would predict nothing meaningful.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    /// There is no step at all.
    #[error("it has no steps")]
    Empty,
    /// A step acts on an object that no earlier step creates.
    #[error("step {step} ({description}) refers to {noun} {object}, which no earlier step creates")]
    Unknown {
        /// The step's number, from 1.
        step: usize,
        /// The step in words.
        description: String,
        /// The kind of object.
        noun: &'static str,
        /// The object's handle, e.g. `F7`.
        object: String,
    },
    /// A step creates an object under a handle an earlier step used.
    #[error(
        "step {step} ({description}) creates {object}, but step {earlier} already created \
         {noun} {taken} under the same number"
    )]
    Reused {
        /// The step's number, from 1.
        step: usize,
        /// The step in words.
        description: String,
        /// The handle the step creates, e.g. `S3`.
        object: String,
        /// The number of the step that used the handle first.
        earlier: usize,
        /// The kind of object that step created.
        noun: &'static str,
        /// Its handle, e.g. `F3`.
        taken: String,
    },
    /// A step needs a live object that an earlier step deleted.
    #[error(
        "step {step} ({description}) acts on {noun} {object}, which step {deleted} deleted; \
         only deleting it again has a prediction"
    )]
    Deleted {
        /// The step's number, from 1.
        step: usize,
        /// The step in words.
        description: String,
        /// The kind of object.
        noun: &'static str,
        /// The object's handle.
        object: String,
        /// The number of the step that deleted it.
        deleted: usize,
    },
}

/// Checks that `steps` is a sequence the model could have generated: not
/// empty, every object a step acts on (flow, store, account, people task or
/// chart) created by an earlier step as that kind, every handle created once,
/// and nothing but a repeated delete done to a deleted object. A saved case
/// that fails this was edited or damaged: the model would have no
/// prediction for its steps.
pub fn check_sequence(steps: &[Step]) -> Result<(), SequenceError> {
    if steps.is_empty() {
        return Err(SequenceError::Empty);
    }
    let mut model = Model::default();
    // Which step created each handle, and as what.
    let mut created: BTreeMap<Handle, (Area, usize)> = BTreeMap::new();
    let mut deleted: BTreeMap<Handle, usize> = BTreeMap::new();
    for (index, step) in steps.iter().enumerate() {
        let number = index + 1;
        if let Some((area, handle)) = step.target()
            && created.get(&handle).map(|(kind, _)| *kind) != Some(area)
        {
            return Err(SequenceError::Unknown {
                step: number,
                description: step.describe(),
                noun: area.noun(),
                object: Named(area, handle).to_string(),
            });
        }
        if let Some((area, handle)) = step.creates()
            && let Some((kind, earlier)) = created.get(&handle)
        {
            return Err(SequenceError::Reused {
                step: number,
                description: step.describe(),
                object: Named(area, handle).to_string(),
                earlier: *earlier,
                noun: kind.noun(),
                taken: Named(*kind, handle).to_string(),
            });
        }
        if !model.accepts(step) {
            let (area, handle) = step
                .target()
                .expect("a step that creates a new handle fails only on what it acts on");
            return Err(SequenceError::Deleted {
                step: number,
                description: step.describe(),
                noun: area.noun(),
                object: Named(area, handle).to_string(),
                deleted: deleted.get(&handle).copied().unwrap_or_default(),
            });
        }
        if let Some((area, handle)) = step.creates() {
            created.insert(handle, (area, number));
        }
        if is_delete(step)
            && let Some((_, handle)) = step.target()
        {
            deleted.entry(handle).or_insert(number);
        }
        model = model.apply(step);
    }
    Ok(())
}

fn is_delete(step: &Step) -> bool {
    matches!(
        step,
        Step::DeleteFlow { .. }
            | Step::DeleteStore { .. }
            | Step::DeleteAccount { .. }
            | Step::DeleteChart { .. }
    )
}

/// The id of the webhook component of `descriptor` (empty when it has none).
pub fn webhook_of(descriptor: &Value) -> String {
    descriptor
        .as_object()
        .into_iter()
        .flatten()
        .find(|(_, component)| component.get("type").and_then(Value::as_str) == Some(WEBHOOK_TYPE))
        .map(|(id, _)| id.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create_flow(handle: u32) -> Step {
        Step::CreateFlow {
            flow: Handle(handle),
            name: "a".into(),
            descriptor: json!({"w1": {"type": WEBHOOK_TYPE}}),
            category: None,
        }
    }

    #[test]
    fn a_running_flow_refuses_an_update_without_force_and_keeps_its_name() {
        let model = Model::default()
            .apply(&create_flow(0))
            .apply(&Step::StartFlow { flow: Handle(0) });
        let update = Step::UpdateFlow {
            flow: Handle(0),
            name: Some("b".into()),
            descriptor: None,
            custom_fields: FieldsUpdate::Unchanged,
            force: false,
        };

        let rule = model.answer(&update);
        let after = model.clone().apply(&update);

        assert_eq!(rule, StatusRule::ClientError);
        assert_eq!(after.flows[&Handle(0)].name, "a");
    }

    #[test]
    fn an_update_without_the_category_replaces_the_custom_fields_and_drops_it() {
        let mut create = create_flow(0);
        if let Step::CreateFlow { category, .. } = &mut create {
            *category = Some("crm".into());
        }
        let update = |custom_fields| Step::UpdateFlow {
            flow: Handle(0),
            name: None,
            descriptor: None,
            custom_fields,
            force: false,
        };
        let model = Model::default().apply(&create);

        let kept = model.clone().apply(&update(FieldsUpdate::Unchanged));
        let dropped = model.apply(&update(FieldsUpdate::TagOnly));

        assert_eq!(kept.flows[&Handle(0)].category.as_deref(), Some("crm"));
        assert_eq!(dropped.flows[&Handle(0)].category, None);
    }

    #[test]
    fn starting_a_running_flow_changes_nothing_the_server_makes() {
        let model = Model::default()
            .apply(&create_flow(0))
            .apply(&Step::StartFlow { flow: Handle(0) });

        let volatile = model.volatile(&Step::StartFlow { flow: Handle(0) }, Handle(0));

        assert!(volatile.is_empty());
    }

    #[test]
    fn a_second_decision_is_refused_with_400_and_the_first_stands() {
        let model = Model::default()
            .apply(&Step::CreateTask {
                task: Handle(0),
                title: "t".into(),
                approver_is_caller: true,
            })
            .apply(&Step::DecideTask {
                task: Handle(0),
                approve: true,
                with_secret: false,
            });
        let reject = Step::DecideTask {
            task: Handle(0),
            approve: false,
            with_secret: false,
        };

        assert_eq!(model.answer(&reject), StatusRule::Exactly(400));
        assert_eq!(
            model.apply(&reject).tasks[&Handle(0)].status,
            TaskStatus::Approved
        );
    }

    #[test]
    fn deleting_twice_answers_404_and_a_clone_copies_name_after_prefix() {
        let model = Model::default()
            .apply(&create_flow(0))
            .apply(&Step::CloneFlow {
                source: Handle(0),
                clone: Handle(1),
                prefix: "Copy ".into(),
            });
        let deleted = model.clone().apply(&Step::DeleteFlow { flow: Handle(0) });

        assert_eq!(model.flows[&Handle(1)].prefix, "Copy ");
        assert!(!model.flows[&Handle(1)].running);
        assert_eq!(
            deleted.answer(&Step::DeleteFlow { flow: Handle(0) }),
            StatusRule::Exactly(404)
        );
        assert!(deleted.accepts(&Step::DeleteFlow { flow: Handle(0) }));
        assert!(!deleted.accepts(&create_flow(1)));
    }

    /// One step of every kind that acts on an existing object, each on the
    /// object with handle 7 of its area.
    fn steps_on_object_7() -> Vec<(Area, Step)> {
        let (flow, store, h) = (Area::Flow, Area::Store, Handle(7));
        vec![
            (
                flow,
                Step::UpdateFlow {
                    flow: h,
                    name: Some("b".into()),
                    descriptor: None,
                    custom_fields: FieldsUpdate::Unchanged,
                    force: false,
                },
            ),
            (flow, Step::StartFlow { flow: h }),
            (flow, Step::StopFlow { flow: h }),
            (flow, Step::DeleteFlow { flow: h }),
            (
                flow,
                Step::SendMessage {
                    flow: h,
                    text: "hi".into(),
                },
            ),
            (
                flow,
                Step::CloneFlow {
                    source: h,
                    clone: Handle(8),
                    prefix: String::new(),
                },
            ),
            (
                store,
                Step::RenameStore {
                    store: h,
                    name: "b".into(),
                },
            ),
            (store, Step::DeleteStore { store: h }),
            (
                store,
                Step::SetRecord {
                    store: h,
                    key: "k".into(),
                    value: "v".into(),
                },
            ),
            (
                store,
                Step::DeleteRecord {
                    store: h,
                    key: "k".into(),
                },
            ),
            (
                store,
                Step::DeleteRecords {
                    store: h,
                    keys: vec!["k".into()],
                },
            ),
            (
                Area::Account,
                Step::RenameAccount {
                    account: h,
                    display_name: "b".into(),
                },
            ),
            (Area::Account, Step::DeleteAccount { account: h }),
            (
                Area::Task,
                Step::DecideTask {
                    task: h,
                    approve: true,
                    with_secret: false,
                },
            ),
            (
                Area::Chart,
                Step::UpdateChart {
                    chart: h,
                    name: None,
                    index: Some(1),
                    kind: None,
                },
            ),
            (Area::Chart, Step::DeleteChart { chart: h }),
        ]
    }

    #[test]
    fn a_sequence_without_steps_is_refused() {
        assert_eq!(check_sequence(&[]), Err(SequenceError::Empty));
    }

    #[test]
    fn every_kind_of_step_on_an_object_no_earlier_step_creates_is_refused_naming_it() {
        for (area, step) in steps_on_object_7() {
            let steps = [create_flow(0), step];

            let error = check_sequence(&steps).unwrap_err();

            let object = Named(area, Handle(7)).to_string();
            assert!(
                matches!(&error, SequenceError::Unknown { step: 2, object: o, .. } if *o == object),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(
                message.contains(&format!(
                    "refers to {} {object}, which no earlier",
                    area.noun()
                )),
                "{message}"
            );
        }
    }

    #[test]
    fn a_step_on_an_object_created_as_another_kind_is_refused() {
        let steps = [
            Step::CreateStore {
                store: Handle(7),
                name: "s".into(),
            },
            Step::DeleteFlow { flow: Handle(7) },
        ];

        let error = check_sequence(&steps).unwrap_err().to_string();

        assert_eq!(
            error,
            "step 2 (delete flow F7) refers to flow F7, which no earlier step creates"
        );
    }

    #[test]
    fn a_handle_created_twice_is_refused_naming_both_steps() {
        let steps = [
            create_flow(3),
            Step::CloneFlow {
                source: Handle(3),
                clone: Handle(3),
                prefix: String::new(),
            },
        ];

        let error = check_sequence(&steps).unwrap_err().to_string();

        assert!(
            error.starts_with(
                "step 2 (clone flow F3 as F3 with prefix \"\") creates F3, but step 1"
            ),
            "{error}"
        );
    }

    #[test]
    fn a_step_that_needs_a_deleted_object_is_refused_but_deleting_it_again_is_not() {
        let created = [
            Step::CreateStore {
                store: Handle(1),
                name: "s".into(),
            },
            Step::DeleteStore { store: Handle(1) },
        ];
        let set = Step::SetRecord {
            store: Handle(1),
            key: "k".into(),
            value: "v".into(),
        };
        let again = Step::DeleteStore { store: Handle(1) };

        let refused = check_sequence(&[created[0].clone(), created[1].clone(), set]);
        let repeated = check_sequence(&[created[0].clone(), created[1].clone(), again]);

        let error = refused.unwrap_err().to_string();
        assert!(
            error.contains("acts on store S1, which step 2 deleted"),
            "{error}"
        );
        assert_eq!(repeated, Ok(()));
    }

    #[test]
    fn the_largest_handle_is_checked_without_overflowing() {
        let steps = [
            create_flow(u32::MAX),
            Step::DeleteFlow {
                flow: Handle(u32::MAX),
            },
        ];

        assert_eq!(check_sequence(&steps), Ok(()));
    }
}
