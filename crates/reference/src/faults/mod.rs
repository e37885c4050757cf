//! Planted faults: a catalogue of ways to break Appmixer's rules on purpose.
//!
//! A conformance harness that passes a correct server proves nothing by
//! itself; it must also fail servers that are wrong. Each [`Fault`] is one
//! such wrong server: a bug of a kind real engines have had (a count off by
//! one, a page that skips an item, a token nobody checked, a secret that
//! grants too much), with the harness property that must catch it. Many only
//! show under a condition (an `offset` above 0, a character outside the
//! Basic Multilingual Plane, the same key in two stores), so a harness must
//! create the condition, not just call the endpoint.
//!
//! Faults are off by default and live in a separate layer: [`crate::router`]
//! adds the fault middleware only when [`crate::Config::faults`] is not
//! empty, so the clean server never consults them. The middleware rewrites
//! requests, answers or the state around the clean handlers; no handler
//! knows about faults. One module per API area holds that area's faults.

mod accounts;
mod charts;
mod flow_auth;
mod flows;
mod layer;
mod logs;
mod people_tasks;
mod records;
mod stores;
mod users;

use std::fmt;
use std::str::FromStr;

use axum::http::Method;

pub(crate) use layer::wrap;
use layer::{Answer, Call, Chain, Ctx};

/// The API area a fault breaks, named like the spec's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// Sign-up, log-in and tokens.
    Users,
    /// Flows, their commands and clones.
    Flows,
    /// Data stores.
    Stores,
    /// The records of data stores.
    Records,
    /// Connected accounts.
    Accounts,
    /// Log search and entries.
    Logs,
    /// People tasks and their secrets.
    PeopleTasks,
    /// Insights charts.
    Charts,
    /// Which components of a flow need an account.
    FlowAuthentication,
}

impl Area {
    /// The area's name, as the spec's tag spells it: `people-tasks`.
    pub fn name(self) -> &'static str {
        match self {
            Area::Users => "users",
            Area::Flows => "flows",
            Area::Stores => "stores",
            Area::Records => "records",
            Area::Accounts => "accounts",
            Area::Logs => "logs",
            Area::PeopleTasks => "people-tasks",
            Area::Charts => "charts",
            Area::FlowAuthentication => "flow-authentication",
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of rule a fault breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultClass {
    /// A 5xx answer to valid input.
    Crash,
    /// An answer the spec does not allow: a missing required field, a wrong
    /// type, a wrong content type, an undocumented status.
    Contract,
    /// Objects that outlive their deletion, or commands that report success
    /// without effect.
    Lifecycle,
    /// Counts, pages, sorting, filters, projection, clones and updates that
    /// answer the wrong thing.
    Semantics,
    /// A transition the state machine forbids, such as deciding a decided
    /// people task again.
    StateMachine,
    /// Access the caller must not have: a missing or forged token accepted,
    /// another user's objects, secrets that grant too much.
    Security,
    /// Invalid input accepted and stored.
    Validation,
    /// A duplicate of something that must be unique.
    Uniqueness,
}

impl FaultClass {
    /// The class's name: `state-machine`.
    pub fn name(self) -> &'static str {
        match self {
            FaultClass::Crash => "crash",
            FaultClass::Contract => "contract",
            FaultClass::Lifecycle => "lifecycle",
            FaultClass::Semantics => "semantics",
            FaultClass::StateMachine => "state-machine",
            FaultClass::Security => "security",
            FaultClass::Validation => "validation",
            FaultClass::Uniqueness => "uniqueness",
        }
    }
}

impl fmt::Display for FaultClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything the catalogue says about one fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultInfo {
    /// The name `--fault` takes, `area.what-goes-wrong`.
    pub name: &'static str,
    /// The API area it breaks.
    pub area: Area,
    /// The kind of rule it breaks.
    pub class: FaultClass,
    /// What the server does wrong, in one sentence.
    pub description: &'static str,
    /// When it shows; `None` when it shows on every call of its operation.
    pub condition: Option<&'static str>,
    /// The conformance harness's property (its expectation name) that must
    /// report it.
    pub property: &'static str,
    /// What that property has to do to catch the fault, in one sentence.
    pub check: &'static str,
}

macro_rules! faults {
    ($(
        $(#[$doc:meta])*
        $variant:ident {
            name: $name:literal,
            area: $area:ident,
            class: $class:ident,
            condition: $condition:expr,
            property: $property:literal,
            check: $check:literal,
            description: $description:literal $(,)?
        }
    ),+ $(,)?) => {
        /// One planted fault; see [`Fault::info`] for what it does.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Fault {
            $($(#[$doc])* $variant,)+
        }

        impl Fault {
            /// Every fault, in catalogue order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant),+];

            /// The catalogue's entry for this fault.
            pub fn info(self) -> FaultInfo {
                match self {
                    $(Fault::$variant => FaultInfo {
                        name: $name,
                        area: Area::$area,
                        class: FaultClass::$class,
                        description: $description,
                        condition: $condition,
                        property: $property,
                        check: $check,
                    },)+
                }
            }
        }
    };
}

faults! {
    /// A duplicate sign-up creates a second user with the same login.
    DuplicateSignupAccepted {
        name: "users.duplicate-signup-accepted",
        area: Users,
        class: Uniqueness,
        condition: None,
        property: "users.duplicate-signup-refused",
        check: "Sign an existing username up again and expect a 4xx.",
        description: "Signing up a username that exists answers 201 with a token and creates a second user with the same login.",
    },
    /// Token signatures are not checked.
    ForgedTokenAccepted {
        name: "users.forged-token-accepted",
        area: Users,
        class: Security,
        condition: Some("the token's `id` claim names an existing user"),
        property: "auth.forged-token-is-401",
        check: "Send a token whose `id` claim names a real user but which is signed with another key, and expect 401.",
        description: "A token signed with any key is accepted as the user its `id` claim names.",
    },
    /// One route forgot its authentication.
    DeleteFlowWithoutToken {
        name: "flows.delete-without-token-accepted",
        area: Flows,
        class: Security,
        condition: None,
        property: "auth.no-token-is-401",
        check: "Call `deleteFlow` on an existing flow without a token; expect 401 and the flow still there.",
        description: "`deleteFlow` without a token deletes the flow instead of answering 401.",
    },
    /// The count's query adds one when a pattern is given.
    FlowsCountOffByOneWithPattern {
        name: "flows.count-off-by-one-with-pattern",
        area: Flows,
        class: Semantics,
        condition: Some("`getFlowsCount` is given a `pattern`"),
        property: "counts.match-list",
        check: "Compare `getFlowsCount` with a `pattern` to the length of `getFlows` with the same `pattern`.",
        description: "`getFlowsCount` answers one more than the number of flows that match.",
    },
    /// Paging skips one item too many past the first page.
    FlowsPageSkipsOneAfterOffset {
        name: "flows.page-skips-one-after-offset",
        area: Flows,
        class: Semantics,
        condition: Some("`getFlows` is given an `offset` above 0"),
        property: "paging.partition",
        check: "Page through `getFlows` with `limit` and `offset` above 0 and check that the pages join up to the whole list, with no gap.",
        description: "`getFlows` skips one flow more than `offset` asks, so consecutive pages leave a gap.",
    },
    /// Descending order on `name` is lost.
    FlowsSortByNameDescendingAscends {
        name: "flows.sort-by-name-descending-ascends",
        area: Flows,
        class: Semantics,
        condition: Some("`getFlows` is sorted by `name:-1`"),
        property: "sort.orders-by-field",
        check: "Sort flows by `name:-1` and check that the names descend.",
        description: "Sorting flows by `name:-1` answers them in ascending order.",
    },
    /// An update merges `customFields` instead of replacing them.
    FlowUpdateMergesCustomFields {
        name: "flows.update-merges-custom-fields",
        area: Flows,
        class: Semantics,
        condition: Some("the stored `customFields` has a key that the update leaves out"),
        property: "model.read-your-writes",
        check: "Update a flow's `customFields` leaving out a stored key and read back exactly the new object.",
        description: "`updateFlow` merges the given `customFields` into the stored ones instead of replacing them.",
    },
    /// Starting a running flow is not idempotent.
    StartTwiceMovesStarted {
        name: "flows.start-twice-moves-started",
        area: Flows,
        class: StateMachine,
        condition: Some("the flow is already running"),
        property: "commands.repeat-changes-nothing",
        check: "Start a running flow and check that `started` is unchanged.",
        description: "Starting a running flow stamps a new `started` instead of changing nothing.",
    },
    /// Deleting a running flow leaves a zombie behind.
    DeletedRunningFlowStillListed {
        name: "flows.deleted-running-flow-still-listed",
        area: Flows,
        class: Lifecycle,
        condition: Some("the flow is running when it is deleted"),
        property: "deletion.gone",
        check: "Delete a running flow and check that `getFlows` and `getFlowsCount` no longer hold it.",
        description: "Deleting a running flow answers 200 and hides it from `getFlow`, but it stays, stopped, in `getFlows` and `getFlowsCount`.",
    },
    /// A clone with a prefix loses the original's custom fields.
    CloneDropsCustomFieldsWithPrefix {
        name: "flows.clone-drops-custom-fields-with-prefix",
        area: Flows,
        class: Semantics,
        condition: Some("`cloneFlow` is given a non-empty `prefix`"),
        property: "clone.same-content",
        check: "Clone a flow that has `customFields` with a `prefix` and compare the copy's fields, identity fields and name aside, with the original's.",
        description: "The copy lacks the original's `customFields`.",
    },
    /// A pattern outside ASCII crashes the flow search.
    CrashOnNonAsciiPattern {
        name: "flows.crash-on-non-ascii-pattern",
        area: Flows,
        class: Crash,
        condition: Some("`pattern` holds a character outside ASCII"),
        property: "spec.no-server-error",
        check: "Search flows with a `pattern` outside ASCII (e.g. `é`), a valid request, and expect an answer that is not a 5xx.",
        description: "`getFlows` and `getFlowsCount` answer 500.",
    },
    /// The store list forgets the owner filter.
    StoresListIncludesOtherUsers {
        name: "stores.list-includes-other-users",
        area: Stores,
        class: Security,
        condition: None,
        property: "isolation.lists-leave-out-other-users-objects",
        check: "List stores as a second user and check that none of the first user's stores is listed.",
        description: "`getStores` lists the stores of every user, not only the caller's.",
    },
    /// A rename answers success and changes nothing.
    StoreRenameWithoutEffect {
        name: "stores.rename-without-effect",
        area: Stores,
        class: Lifecycle,
        condition: None,
        property: "stores.rename-persists",
        check: "Rename a store and read the new name back with `getStore`.",
        description: "`renameStore` answers 200 with the old name but the store keeps it.",
    },
    /// Long store names crash the server.
    CrashOnLongStoreName {
        name: "stores.crash-on-long-name",
        area: Stores,
        class: Crash,
        condition: Some("the name is longer than 255 characters"),
        property: "spec.no-server-error",
        check: "Create a store with a name longer than 255 characters, a valid request, and expect an answer that is not a 5xx.",
        description: "`createStore` and `renameStore` answer 500.",
    },
    /// A renamed store loses its required `name`.
    RenamedStoreOmitsName {
        name: "stores.renamed-store-omits-name",
        area: Stores,
        class: Contract,
        condition: Some("the store was renamed"),
        property: "spec.body-matches-schema",
        check: "Rename a store, then validate `getStore`'s answer against the `Store` schema.",
        description: "`getStore` answers a renamed store without its required `name`.",
    },
    /// Records are looked up by key alone.
    SameKeyReadsOtherStore {
        name: "records.same-key-reads-other-store",
        area: Records,
        class: Semantics,
        condition: Some("the same key exists in another of the user's stores"),
        property: "records.scoped-to-store",
        check: "Set the same key in two stores to different values and read each record back from its own store.",
        description: "`getStoreItem` answers the record of the user's other store with that key.",
    },
    /// Characters outside the BMP are mangled on the way in.
    NonBmpRecordValueMangled {
        name: "records.non-bmp-value-mangled",
        area: Records,
        class: Semantics,
        condition: Some("the value holds a character outside the Basic Multilingual Plane"),
        property: "strings.round-trip",
        check: "Set a record value holding a character outside the BMP (e.g. 😀) and read it back unchanged.",
        description: "`createStoreItem` stores each character outside the Basic Multilingual Plane as U+FFFD.",
    },
    /// A negated filter is read as a plain one.
    NegatedAccountFilterIgnored {
        name: "accounts.negated-filter-ignored",
        area: Accounts,
        class: Semantics,
        condition: Some("a `filter` value starts with `!`"),
        property: "selection.exact-match",
        check: "List accounts with `filter=service:!S` and expect exactly the accounts whose service is not `S`.",
        description: "`getAccounts` drops the `!` of a filter and answers the accounts it should leave out.",
    },
    /// Account lists leak the stored tokens.
    AccountListLeaksToken {
        name: "accounts.list-leaks-token",
        area: Accounts,
        class: Security,
        condition: None,
        property: "accounts.token-never-returned",
        check: "Check that no account `getAccounts` answers carries a `token`.",
        description: "`getAccounts` answers each account with its stored `token`.",
    },
    /// Renaming checks no owner.
    RenameOtherUsersAccount {
        name: "accounts.rename-other-users-account",
        area: Accounts,
        class: Security,
        condition: None,
        property: "isolation.other-users-object-refused",
        check: "Have a second user call `setAccountName` on the first user's account; expect 403 or 404 and the name unchanged.",
        description: "`setAccountName` renames another user's account.",
    },
    /// Log search ignores `from`.
    LogsFromIgnoredOnLaterPages {
        name: "logs.from-ignored-on-later-pages",
        area: Logs,
        class: Semantics,
        condition: Some("`getLogs` is given a `from` above 0"),
        property: "paging.partition",
        check: "Page through `getLogs` with `size` and `from` above 0 and check that the pages join up to the whole search.",
        description: "`getLogs` ignores `from`, so every page repeats the first.",
    },
    /// A log entry is read without an owner check.
    LogEntryReadableByOtherUser {
        name: "logs.entry-readable-by-other-user",
        area: Logs,
        class: Security,
        condition: None,
        property: "isolation.other-users-object-refused",
        check: "Have a second user call `getLog` on the first user's entry and expect 403 or 404.",
        description: "`getLog` answers another user's log entry.",
    },
    /// A decided task can be decided the other way.
    OppositeDecisionOverrides {
        name: "people-tasks.opposite-decision-overrides",
        area: PeopleTasks,
        class: StateMachine,
        condition: Some("the second decision is the opposite of the first"),
        property: "tasks.decided-once",
        check: "Reject an approved task (or approve a rejected one); expect a 4xx and the first decision kept.",
        description: "Rejecting an approved task, or approving a rejected one, answers 200 and flips its status.",
    },
    /// The requester secret decides.
    RequesterSecretDecides {
        name: "people-tasks.requester-secret-decides",
        area: PeopleTasks,
        class: Security,
        condition: None,
        property: "isolation.requester-secret-cannot-decide",
        check: "Approve or reject a task with its requester secret and expect 403.",
        description: "The requester secret approves and rejects a task, like the approver secret.",
    },
    /// The task count is a string.
    TasksCountAsString {
        name: "people-tasks.count-as-string",
        area: PeopleTasks,
        class: Contract,
        condition: None,
        property: "spec.body-matches-schema",
        check: "Validate `getPeopleTasksCount`'s answer against the `Count` schema.",
        description: "`getPeopleTasksCount` answers the count as a string, e.g. `{\"count\": \"2\"}`.",
    },
    /// A task without an approver is stored.
    MissingApproverAccepted {
        name: "people-tasks.missing-approver-accepted",
        area: PeopleTasks,
        class: Validation,
        condition: None,
        property: "invalid.rejected-unchanged",
        check: "Create a task without `approver`; expect 400 and no new task.",
        description: "`createPeopleTask` without `approver` stores the task with the requester as approver instead of answering 400.",
    },
    /// An include projection drops the identity.
    IncludeProjectionDropsChartId {
        name: "charts.include-projection-drops-id",
        area: Charts,
        class: Semantics,
        condition: Some("`getCharts` is given a `projection` of fields to keep that leaves out `chartId`"),
        property: "projection.fields",
        check: "List charts with `projection=name` and check that every item keeps `chartId`.",
        description: "The listed charts lack their `chartId`, which a projection must always keep.",
    },
    /// Chart deletion is only a soft delete.
    DeletedChartStillReadable {
        name: "charts.deleted-chart-still-readable",
        area: Charts,
        class: Lifecycle,
        condition: None,
        property: "deletion.gone",
        check: "Call `getChart` on a deleted chart and expect 404.",
        description: "A deleted chart leaves `getCharts`, but `getChart` still answers it.",
    },
    /// Chart types are not checked.
    UnknownChartTypeAccepted {
        name: "charts.unknown-type-accepted",
        area: Charts,
        class: Validation,
        condition: None,
        property: "invalid.rejected-unchanged",
        check: "Create a chart with a `type` outside the enum; expect 400 and nothing stored.",
        description: "`createChart` and `updateChart` store a `type` outside the spec's enum instead of answering 400.",
    },
    /// The chart list is served with the wrong media type.
    ChartsListServedAsText {
        name: "charts.list-served-as-text",
        area: Charts,
        class: Contract,
        condition: None,
        property: "spec.content-type-documented",
        check: "Check that `getCharts` answers with a content type the spec declares (`application/json`).",
        description: "`getCharts` answers its JSON with `Content-Type: text/plain`.",
    },
    /// Flow authentication checks no owner.
    OtherUsersFlowAuthenticationReadable {
        name: "flow-authentication.other-users-flow-readable",
        area: FlowAuthentication,
        class: Security,
        condition: None,
        property: "isolation.other-users-object-refused",
        check: "Have a second user call `getFlowAuthentication` on the first user's flow and expect 403 or 404.",
        description: "`getFlowAuthentication` answers for another user's flow.",
    },
    /// An empty answer becomes an undocumented 204.
    NoAuthComponentsAnswer204 {
        name: "flow-authentication.no-auth-answers-204",
        area: FlowAuthentication,
        class: Contract,
        condition: Some("no component of the flow needs an account"),
        property: "spec.status-documented",
        check: "Call `getFlowAuthentication` on a flow whose components need no account and check that the status is documented.",
        description: "`getFlowAuthentication` answers 204 with no body instead of 200 with `{}`.",
    },
}

impl Fault {
    /// The fault's name, as `--fault` takes it.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Whether the fault may change a request to `method` `path`; the
    /// middleware passes every other request by untouched.
    fn applies(self, method: &Method, path: &str) -> bool {
        match self.info().area {
            Area::Users => users::applies(self, method, path),
            Area::Flows => flows::applies(self, method, path),
            Area::Stores => stores::applies(self, method, path),
            Area::Records => records::applies(self, method, path),
            Area::Accounts => accounts::applies(self, method, path),
            Area::Logs => logs::applies(self, method, path),
            Area::PeopleTasks => people_tasks::applies(self, method, path),
            Area::Charts => charts::applies(self, method, path),
            Area::FlowAuthentication => flow_auth::applies(self, method, path),
        }
    }

    /// Handles `call` with the fault switched on; `inner` is the rest of the
    /// server (further faults, then the clean handlers).
    async fn apply(self, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
        match self.info().area {
            Area::Users => users::apply(self, ctx, call, inner).await,
            Area::Flows => flows::apply(self, ctx, call, inner).await,
            Area::Stores => stores::apply(self, ctx, call, inner).await,
            Area::Records => records::apply(self, ctx, call, inner).await,
            Area::Accounts => accounts::apply(self, ctx, call, inner).await,
            Area::Logs => logs::apply(self, ctx, call, inner).await,
            Area::PeopleTasks => people_tasks::apply(self, ctx, call, inner).await,
            Area::Charts => charts::apply(self, ctx, call, inner).await,
            Area::FlowAuthentication => flow_auth::apply(self, ctx, call, inner).await,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no planted fault is called `{0}`; `appmixer-reference --list-faults` lists the {count} there are",
    count = Fault::ALL.len()
)]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let name = name.trim();
        Fault::ALL
            .iter()
            .copied()
            .find(|fault| fault.name() == name)
            .ok_or_else(|| UnknownFault(name.to_owned()))
    }
}

/// The catalogue as `--list-faults` prints it: one block per fault with its
/// area, class, condition and the property that must catch it.
pub fn catalogue() -> String {
    let mut text = String::new();
    for fault in Fault::ALL {
        let info = fault.info();
        text.push_str(&format!(
            "{}\n  area: {}  class: {}  caught by: {}\n  {}\n  when: {}\n  check: {}\n",
            info.name,
            info.area,
            info.class,
            info.property,
            info.description,
            info.condition.unwrap_or("on every call"),
            info.check,
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_name_is_unique_and_starts_with_its_area() {
        let names: HashSet<&str> = Fault::ALL.iter().map(|fault| fault.name()).collect();

        assert_eq!(names.len(), Fault::ALL.len());
        for fault in Fault::ALL {
            let info = fault.info();
            assert!(
                info.name.starts_with(&format!("{}.", info.area)),
                "{} is not named after its area {}",
                info.name,
                info.area
            );
        }
    }

    #[test]
    fn names_parse_back_to_their_fault() {
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(*fault));
        }
        let unknown = "flows.no-such-fault".parse::<Fault>().unwrap_err();
        assert!(unknown.to_string().contains("--list-faults"), "{unknown}");
    }
}
