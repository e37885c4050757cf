//! Remembering what a run created and removing it at the end.
//!
//! Every object a scenario creates goes into the [`Ledger`] at once, before
//! anything else can fail, with the token of the user that owns it when that
//! is not the session's user. [`run`] deletes whatever is still alive
//! (flows, stores, accounts, charts), also after failed checks, aborted and
//! interrupted runs, and then lists each owner's objects again to verify
//! that nothing carrying the run tag is left. People tasks and users have no
//! delete operation in the API; they are reported as such rather than
//! silently left behind.
//!
//! [`sweep`] is the `cleanup` subcommand: it removes what earlier,
//! interrupted runs left behind, found by the harness tag in their names.

use std::fmt;

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::session::{Session, Step};
use crate::transport::{Call, Exchange, TransportError};

/// What every run tag looks like: `amxc-` and 8 hex digits.
static RUN_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"amxc-[0-9a-f]{8}").expect("the run tag pattern is valid"));

/// The kinds cleanup can delete, in the order it deletes them: flows first,
/// as deleting an account stops the flows that use it.
const DELETABLE: [Kind; 4] = [Kind::Flow, Kind::Store, Kind::Account, Kind::Chart];

/// The kinds of object a run creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A flow (`createFlow`, `cloneFlow`).
    Flow,
    /// A data store (`createStore`).
    Store,
    /// A connected account (`createAccount`).
    Account,
    /// An Insights chart (`createChart`).
    Chart,
    /// A people task (`createPeopleTask`).
    PeopleTask,
    /// A user (`signupUser`).
    User,
}

impl Kind {
    /// The `operationId` that deletes objects of this kind and its path
    /// parameter, or `None` when the API cannot delete them.
    pub fn delete_operation(self) -> Option<(&'static str, &'static str)> {
        match self {
            Kind::Flow => Some(("deleteFlow", "flowId")),
            Kind::Store => Some(("deleteStore", "storeId")),
            Kind::Account => Some(("deleteAccount", "accountId")),
            Kind::Chart => Some(("deleteChart", "chartId")),
            Kind::PeopleTask | Kind::User => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Flow => "flow",
            Kind::Store => "store",
            Kind::Account => "account",
            Kind::Chart => "chart",
            Kind::PeopleTask => "people task",
            Kind::User => "user",
        })
    }
}

#[derive(Clone)]
struct Entry {
    kind: Kind,
    id: String,
    deleted: bool,
    /// The owner's token when it is not the session's user.
    owner: Option<String>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("deleted", &self.deleted)
            .field(
                "owner",
                &self.owner.as_ref().map(|_| crate::redact::REDACTED),
            )
            .finish()
    }
}

/// The objects a run created, in creation order.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
}

impl Ledger {
    /// Records a created object of the session's user.
    pub fn add(&mut self, kind: Kind, id: &str) {
        self.push(kind, id, None);
    }

    /// Records a created object of another user, whose `token` deletes it.
    pub fn add_owned(&mut self, kind: Kind, id: &str, token: &str) {
        self.push(kind, id, Some(token.to_string()));
    }

    fn push(&mut self, kind: Kind, id: &str, owner: Option<String>) {
        if !self.entries.iter().any(|e| e.kind == kind && e.id == id) {
            self.entries.push(Entry {
                kind,
                id: id.to_string(),
                deleted: false,
                owner,
            });
        }
    }

    /// The objects of `kind` not yet deleted, each with its owner's token
    /// when that is not the session's user.
    fn alive_with_owner(&self, kind: Kind) -> Vec<(String, Option<String>)> {
        self.entries
            .iter()
            .filter(|e| e.kind == kind && !e.deleted)
            .map(|e| (e.id.clone(), e.owner.clone()))
            .collect()
    }

    /// The tokens of the other users that own objects in the ledger.
    fn other_owners(&self) -> Vec<String> {
        let mut owners: Vec<String> = self
            .entries
            .iter()
            .filter_map(|e| e.owner.clone())
            .collect();
        owners.sort();
        owners.dedup();
        owners
    }

    /// Records that an object is gone.
    pub fn mark_deleted(&mut self, kind: Kind, id: &str) {
        for entry in &mut self.entries {
            if entry.kind == kind && entry.id == id {
                entry.deleted = true;
            }
        }
    }

    /// The ids of objects of `kind` not yet deleted.
    pub fn alive(&self, kind: Kind) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.kind == kind && !e.deleted)
            .map(|e| e.id.clone())
            .collect()
    }

    /// How many objects of `kind` were created.
    pub fn created_count(&self, kind: Kind) -> usize {
        self.entries.iter().filter(|e| e.kind == kind).count()
    }
}

/// An object cleanup could not remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// Its kind.
    pub kind: Kind,
    /// Its id (or username).
    pub id: String,
    /// Why it is still there.
    pub reason: String,
}

/// What cleanup did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupSummary {
    /// How many objects cleanup deleted.
    pub deleted: usize,
    /// Objects that a delete did not remove, or that re-listing still found.
    pub leftovers: Vec<Leftover>,
    /// Objects the API has no way to delete.
    pub undeletable: Vec<Leftover>,
}

/// Deletes everything still alive in the ledger and verifies by re-listing.
pub async fn run(session: &mut Session) -> CleanupSummary {
    session.transport.lift_budget();
    let mut summary = CleanupSummary::default();

    for kind in DELETABLE {
        let (operation, _) = kind.delete_operation().expect("these kinds are deletable");
        for (id, owner) in session.ledger.alive_with_owner(kind) {
            match delete(session, kind, &id, owner.as_deref()).await {
                // Cleanup's own deletes are checked against the spec like any
                // other exchange, but a 404 here only means the object is gone.
                Ok(exchange) if exchange.is_success() || exchange.status() == 404 => {
                    session.check(&exchange);
                    session.deleted(kind, &id);
                    summary.deleted += usize::from(exchange.is_success());
                }
                Ok(exchange) => {
                    session.check(&exchange);
                    summary.leftovers.push(Leftover {
                        kind,
                        id,
                        reason: format!("{operation} answered {}", exchange.status()),
                    });
                }
                Err(error) => summary.leftovers.push(Leftover {
                    kind,
                    id,
                    reason: error.to_string(),
                }),
            }
        }
    }

    let mut owners = vec![None];
    owners.extend(session.ledger.other_owners().into_iter().map(Some));
    for owner in owners {
        let Ok(mut found) = relist(session, owner.as_deref()).await else {
            continue;
        };
        // A tagged object the ledger never heard of is still the run's: its
        // create was cut short (a signal, a lost answer) after the server
        // made it. It is deleted too, and the list read again.
        let mut deleted_unknown = false;
        for (kind, id) in &found {
            let known = summary
                .leftovers
                .iter()
                .any(|l| l.kind == *kind && l.id == *id);
            if known {
                continue;
            }
            if let Ok(exchange) = delete(session, *kind, id, owner.as_deref()).await {
                session.check(&exchange);
                if exchange.is_success() {
                    tracing::info!(%kind, %id, "deleted a tagged object the run had not noted");
                    summary.deleted += 1;
                    deleted_unknown = true;
                }
            }
        }
        if deleted_unknown && let Ok(again) = relist(session, owner.as_deref()).await {
            found = again;
        }
        for (kind, id) in found {
            if !summary
                .leftovers
                .iter()
                .any(|l| l.kind == kind && l.id == id)
            {
                summary.leftovers.push(Leftover {
                    kind,
                    id,
                    reason: "still listed after cleanup".into(),
                });
            }
        }
    }

    for (kind, why) in [
        (
            Kind::PeopleTask,
            "the API has no operation that deletes people tasks",
        ),
        (Kind::User, "the API has no operation that deletes users"),
    ] {
        for id in session.ledger.alive(kind) {
            summary.undeletable.push(Leftover {
                kind,
                id,
                reason: why.into(),
            });
        }
    }
    summary
}

/// Sends the delete of `kind` `id`, as `owner` when another user owns it,
/// straight through the transport: cleanup runs past the run's budget.
async fn delete(
    session: &mut Session,
    kind: Kind,
    id: &str,
    owner: Option<&str>,
) -> Result<Exchange, TransportError> {
    let (operation, parameter) = kind.delete_operation().expect("these kinds are deletable");
    let mut call = Call::new(operation).path(parameter, id);
    if let Some(token) = owner {
        call = call.as_user(token);
    }
    session.transport.send(call).await
}

/// Deletes every object still alive, within the budget, so that a stage
/// hands the next a clean account; what cannot be deleted stays in the
/// ledger for [`run`].
pub async fn release(session: &mut Session) -> Step<()> {
    for kind in DELETABLE {
        let (operation, parameter) = kind.delete_operation().expect("these kinds are deletable");
        for (id, owner) in session.ledger.alive_with_owner(kind) {
            let mut call = Call::new(operation).path(parameter, id.as_str());
            if let Some(token) = &owner {
                call = call.as_user(token);
            }
            let exchange = session.call(call).await?;
            if exchange.is_success() || exchange.status() == 404 {
                session.deleted(kind, &id);
            }
        }
    }
    Ok(())
}

/// What cleanup leaves when it is stopped before it could run (a second
/// Ctrl-C): every object still alive, as a leftover.
pub fn abandoned(session: &Session) -> CleanupSummary {
    let mut summary = CleanupSummary::default();
    for kind in DELETABLE {
        for id in session.ledger.alive(kind) {
            summary.leftovers.push(Leftover {
                kind,
                id,
                reason: format!(
                    "cleanup was interrupted; remove it with `appmixer-conformance cleanup --tag {}`",
                    session.tag
                ),
            });
        }
    }
    summary
}

/// The objects whose name carries the run tag that the server still lists
/// for the owner of `token` (the session's user when `None`).
async fn relist(session: &mut Session, token: Option<&str>) -> Step<Vec<(Kind, String)>> {
    let tag = session.tag.clone();
    let mut found = Vec::new();
    let lists = [
        (
            Kind::Flow,
            Call::new("getFlows").query("pattern", &tag),
            "flowId",
        ),
        (Kind::Store, Call::new("getStores"), "storeId"),
        (Kind::Account, Call::new("getAccounts"), "accountId"),
        (
            Kind::Chart,
            Call::new("getCharts").query("pattern", &tag),
            "chartId",
        ),
    ];
    for (kind, call, id_field) in lists {
        let call = match token {
            Some(token) => call.as_user(token),
            None => call,
        };
        let exchange = session.call(call).await?;
        if !exchange.is_success() {
            continue;
        }
        let Some(Value::Array(items)) = exchange.json() else {
            continue;
        };
        for item in items {
            let tagged = ["name", "displayName"]
                .iter()
                .filter_map(|field| item.get(field).and_then(Value::as_str))
                .any(|name| name.contains(&tag));
            if let (true, Some(id)) = (tagged, item.get(id_field).and_then(Value::as_str)) {
                found.push((kind, id.to_string()));
            }
        }
    }
    Ok(found)
}

/// Which leftovers [`sweep`] removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagSelector {
    /// Objects whose name carries this run tag.
    Tag(String),
    /// Objects whose name carries any run tag (`amxc-` and 8 hex digits).
    AllTags,
}

impl TagSelector {
    /// Whether an object named `name` is one to remove.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            TagSelector::Tag(tag) => name.contains(tag.as_str()),
            TagSelector::AllTags => RUN_TAG.is_match(name),
        }
    }

    /// The `pattern` that narrows a list to candidates on the server.
    fn pattern(&self) -> &str {
        match self {
            TagSelector::Tag(tag) => tag,
            TagSelector::AllTags => "amxc-",
        }
    }
}

/// Checks that `tag` looks like a run tag, `amxc-` and 8 hex digits.
pub fn parse_tag(tag: &str) -> Result<String, String> {
    match RUN_TAG.find(tag) {
        Some(m) if m.len() == tag.len() => Ok(tag.to_string()),
        _ => Err(format!(
            "`--tag` must be a run tag such as `amxc-1a2b3c4d` (as printed by a run), got `{tag}`"
        )),
    }
}

/// An object [`sweep`] removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swept {
    /// Its kind.
    pub kind: Kind,
    /// Its id.
    pub id: String,
    /// Its name, which carries the tag.
    pub name: String,
}

/// What [`sweep`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepSummary {
    /// The objects removed.
    pub removed: Vec<Swept>,
    /// Tagged objects still there afterwards, with the reason.
    pub remaining: Vec<Leftover>,
}

impl SweepSummary {
    /// 0 when everything tagged is gone, 1 when something is left.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.remaining.is_empty())
    }
}

impl fmt::Display for SweepSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for swept in &self.removed {
            writeln!(f, "removed {} {} ({})", swept.kind, swept.id, swept.name)?;
        }
        for left in &self.remaining {
            writeln!(f, "left over: {} {}: {}", left.kind, left.id, left.reason)?;
        }
        writeln!(
            f,
            "cleanup: {} removed, {} left over",
            self.removed.len(),
            self.remaining.len()
        )
    }
}

/// Removes the session user's flows, stores, accounts and charts whose
/// names `selector` matches, then lists again to verify they are gone.
pub async fn sweep(session: &mut Session, selector: &TagSelector) -> Step<SweepSummary> {
    let mut summary = SweepSummary::default();
    let found = tagged(session, selector).await?;
    for (kind, id, name) in found {
        let (operation, parameter) = kind.delete_operation().expect("these kinds are deletable");
        let exchange = session
            .call(Call::new(operation).path(parameter, id.as_str()))
            .await?;
        if exchange.is_success() || exchange.status() == 404 {
            tracing::info!(%kind, %id, "removed");
            summary.removed.push(Swept { kind, id, name });
        } else {
            summary.remaining.push(Leftover {
                kind,
                id,
                reason: format!("{operation} answered {}", exchange.status()),
            });
        }
    }
    for (kind, id, _) in tagged(session, selector).await? {
        if !summary
            .remaining
            .iter()
            .any(|l| l.kind == kind && l.id == id)
        {
            summary.remaining.push(Leftover {
                kind,
                id,
                reason: "still listed after deleting it".into(),
            });
        }
    }
    Ok(summary)
}

/// How many items one page of a paged list asks for.
const PAGE: usize = 100;

/// The objects whose names `selector` matches, with their names.
async fn tagged(
    session: &mut Session,
    selector: &TagSelector,
) -> Step<Vec<(Kind, String, String)>> {
    let mut found = Vec::new();
    let lists = [
        (Kind::Flow, "getFlows", "flowId", true),
        (Kind::Store, "getStores", "storeId", false),
        (Kind::Account, "getAccounts", "accountId", false),
        (Kind::Chart, "getCharts", "chartId", true),
    ];
    for (kind, operation, id_field, paged) in lists {
        let mut offset = 0;
        loop {
            let mut call = Call::new(operation);
            if paged {
                call = call
                    .query("pattern", selector.pattern())
                    .query("limit", PAGE)
                    .query("offset", offset);
            }
            let exchange = session.call(call).await?;
            let Some(Value::Array(items)) =
                exchange.is_success().then(|| exchange.json_ref()).flatten()
            else {
                break;
            };
            for item in items {
                let names: Vec<&str> = ["name", "displayName"]
                    .iter()
                    .filter_map(|field| item.get(field).and_then(Value::as_str))
                    .collect();
                let id = item.get(id_field).and_then(Value::as_str);
                if let (Some(name), Some(id)) = (names.iter().find(|n| selector.matches(n)), id) {
                    found.push((kind, id.to_string(), name.to_string()));
                }
            }
            if !paged || items.len() < PAGE {
                break;
            }
            offset += PAGE;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_objects_are_no_longer_alive() {
        let mut ledger = Ledger::default();
        ledger.add(Kind::Flow, "f1");
        ledger.add(Kind::Flow, "f2");
        ledger.add(Kind::Store, "s1");

        ledger.mark_deleted(Kind::Flow, "f1");

        assert_eq!(ledger.alive(Kind::Flow), vec!["f2".to_string()]);
        assert_eq!(ledger.alive(Kind::Store), vec!["s1".to_string()]);
        assert_eq!(ledger.created_count(Kind::Flow), 2);
    }

    #[test]
    fn an_object_recorded_twice_is_one_entry() {
        let mut ledger = Ledger::default();

        ledger.add(Kind::Chart, "c1");
        ledger.add(Kind::Chart, "c1");

        assert_eq!(ledger.created_count(Kind::Chart), 1);
    }

    #[test]
    fn objects_of_other_users_keep_their_owner() {
        let mut ledger = Ledger::default();

        ledger.add(Kind::Flow, "a1");
        ledger.add_owned(Kind::Flow, "b1", "token-b");

        assert_eq!(
            ledger.alive_with_owner(Kind::Flow),
            vec![
                ("a1".to_string(), None),
                ("b1".to_string(), Some("token-b".into()))
            ]
        );
        assert_eq!(ledger.other_owners(), vec!["token-b".to_string()]);
        assert!(!format!("{ledger:?}").contains("token-b"));
    }

    #[test]
    fn selectors_match_one_tag_or_any_tag() {
        let one = TagSelector::Tag("amxc-1a2b3c4d".into());

        assert!(one.matches("amxc-1a2b3c4d store"));
        assert!(!one.matches("amxc-99999999 store"));
        assert!(TagSelector::AllTags.matches("amxc-99999999 store"));
        assert!(!TagSelector::AllTags.matches("Orders"));
        assert!(!TagSelector::AllTags.matches("amxc-xyz store"));
    }

    #[test]
    fn a_tag_must_look_like_a_run_tag() {
        assert_eq!(parse_tag("amxc-1a2b3c4d"), Ok("amxc-1a2b3c4d".into()));

        let error = parse_tag("amxc-").unwrap_err();

        assert!(error.contains("`amxc-`"), "{error}");
        assert!(parse_tag("x amxc-1a2b3c4d").is_err());
    }

    #[test]
    fn people_tasks_and_users_have_no_delete_operation() {
        assert_eq!(Kind::PeopleTask.delete_operation(), None);
        assert_eq!(Kind::User.delete_operation(), None);
        assert_eq!(
            Kind::Flow.delete_operation(),
            Some(("deleteFlow", "flowId"))
        );
    }
}
