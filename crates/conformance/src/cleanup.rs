//! Remembering what a run created and removing it at the end.
//!
//! Every object a scenario creates goes into the [`Ledger`] at once, before
//! anything else can fail. [`run`] deletes whatever is still alive (flows,
//! stores, accounts, charts), also after failed checks and aborted runs,
//! and then lists the user's objects again to verify that nothing carrying
//! the run tag is left. People tasks and users have no delete operation in
//! the API; they are reported as such rather than silently left behind.

use std::fmt;

use serde_json::Value;

use crate::session::{Session, Step};
use crate::transport::Call;

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

#[derive(Debug, Clone)]
struct Entry {
    kind: Kind,
    id: String,
    deleted: bool,
}

/// The objects a run created, in creation order.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
}

impl Ledger {
    /// Records a created object.
    pub fn add(&mut self, kind: Kind, id: &str) {
        if !self.entries.iter().any(|e| e.kind == kind && e.id == id) {
            self.entries.push(Entry {
                kind,
                id: id.to_string(),
                deleted: false,
            });
        }
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

    for kind in [Kind::Flow, Kind::Store, Kind::Account, Kind::Chart] {
        let (operation, parameter) = kind.delete_operation().expect("these kinds are deletable");
        for id in session.ledger.alive(kind) {
            let outcome = session
                .transport
                .send(Call::new(operation).path(parameter, id.as_str()))
                .await;
            match outcome {
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

    if let Ok(found) = relist(session).await {
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

/// The objects whose name carries the run tag that the server still lists.
async fn relist(session: &mut Session) -> Step<Vec<(Kind, String)>> {
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
    fn people_tasks_and_users_have_no_delete_operation() {
        assert_eq!(Kind::PeopleTask.delete_operation(), None);
        assert_eq!(Kind::User.delete_operation(), None);
        assert_eq!(
            Kind::Flow.delete_operation(),
            Some(("deleteFlow", "flowId"))
        );
    }
}
