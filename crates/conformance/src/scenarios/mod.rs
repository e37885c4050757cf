//! Scenarios: operations called with valid input, and what Appmixer promises
//! about their results.
//!
//! One module per API area. Each scenario walks a lifecycle (create, read,
//! change, read again, delete, read again) and states its expectations by
//! name, e.g. `flows.get-after-delete-is-404`, each recorded against the
//! operation it is about. The expectations come from the API's documented
//! behaviour and the spec's readings; they are written here, independently
//! of any server, so that a server's bug cannot hide behind a shared helper.
//!
//! A scenario stops at the first step its remaining steps depend on; the
//! failure is recorded and the next scenario runs. Only an exhausted request
//! budget stops the whole run.

mod accounts;
mod charts;
mod flows;
mod logs;
mod stores;
mod tasks;
mod users;

use crate::session::{Abort, Session, Step};

/// The scenarios, in the order they run.
const SCENARIOS: [&str; 7] = [
    "users",
    "flows",
    "stores and records",
    "accounts and flow authentication",
    "logs",
    "people tasks",
    "charts",
];

async fn run_one(name: &str, session: &mut Session) -> Step<()> {
    match name {
        "users" => users::run(session).await,
        "flows" => flows::run(session).await,
        "stores and records" => stores::run(session).await,
        "accounts and flow authentication" => accounts::run(session).await,
        "logs" => logs::run(session).await,
        "people tasks" => tasks::run(session).await,
        "charts" => charts::run(session).await,
        other => unreachable!("no scenario is called `{other}`"),
    }
}

/// The names of the scenarios, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    SCENARIOS.iter().copied()
}

/// What running the scenarios came to.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Scenarios that stopped before their end.
    pub stopped: Vec<String>,
    /// Why the whole run stopped, if it did.
    pub aborted: Option<String>,
}

/// Runs every scenario in order; `progress` is told each phase's name.
pub async fn run_all(session: &mut Session, mut progress: impl FnMut(&str)) -> Outcome {
    let mut outcome = Outcome::default();
    for name in SCENARIOS {
        progress(name);
        match run_one(name, session).await {
            Ok(()) => {}
            Err(Abort::Step) => {
                tracing::info!(scenario = name, "scenario stopped early; see its failures");
                outcome.stopped.push(name.to_string());
            }
            Err(Abort::Budget(reason)) => {
                outcome.stopped.push(name.to_string());
                outcome.aborted = Some(reason);
                break;
            }
        }
    }
    outcome
}

/// The items of a JSON array answer, or none.
pub(crate) fn items(body: &serde_json::Value) -> &[serde_json::Value] {
    body.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The string values of `field` in `items`.
pub(crate) fn ids_of(items: &[serde_json::Value], field: &str) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| item.get(field).and_then(serde_json::Value::as_str))
        .map(str::to_string)
        .collect()
}

/// The `count` of a count answer.
pub(crate) fn count_of(body: &serde_json::Value) -> Option<u64> {
    body.get("count").and_then(serde_json::Value::as_u64)
}

/// A count as a failure shows it: `count 3`, or what is wrong when the
/// answer had no usable count.
pub(crate) fn describe_count(count: Option<u64>) -> String {
    match count {
        Some(count) => format!("count {count}"),
        None => "no count: the answer has no non-negative integer `count`".into(),
    }
}
