//! Snapshots: normalised transcripts of fixed scenarios, one per API area.
//!
//! Each scenario ([`SCENARIOS`]) sends a fixed sequence of calls and keeps
//! every exchange; [`Transcript`] renders them as text, one step per
//! exchange: the request line, the status and the media type of the
//! answer, and the JSON body, with ids, timestamps, tokens, secrets and run
//! tags replaced by stable placeholders ([`Normaliser`]). The committed transcripts live in
//! `crates/conformance/tests/snapshots/` as insta snapshot files;
//! `cargo test -p appmixer-conformance` compares a fresh recording with
//! them (against the embedded server, or the one in `APPMIXER_URL`), and
//! `appmixer-conformance snapshots --url …` does the same for a live server
//! and prints a unified diff per scenario that differs ([`compare`]).
//!
//! Lists that the API cannot narrow to the run's objects (`getStores`,
//! `getAccounts`) are shown with the run's objects only, so that a user's
//! other objects on a live server do not show up as differences.

mod normalise;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use similar::TextDiff;

pub use normalise::Normaliser;

use crate::catalog::Catalog;
use crate::cleanup::Kind;
use crate::error::RunError;
use crate::session::{Session, Step};
use crate::transport::{Call, Exchange};

/// The scenarios, one per API area, in the order they run.
pub const SCENARIOS: [&str; 9] = [
    "users",
    "flows",
    "stores",
    "records",
    "accounts",
    "logs",
    "people-tasks",
    "charts",
    "flow-authentication",
];

/// The test file whose insta snapshots these are, as their header names it.
pub const SNAPSHOT_SOURCE: &str = "crates/conformance/tests/snapshot_transcripts.rs";

/// The expression the test asserts, as the snapshot header names it.
const SNAPSHOT_EXPRESSION: &str = "transcript";

/// How many times a log search is tried before the transcript shows it empty.
const LOG_SEARCHES: u32 = 8;

/// The pause before the second log search; each later one waits longer.
const LOG_SEARCH_PAUSE: Duration = Duration::from_millis(200);

/// The directory of the committed snapshots.
pub fn default_dir() -> PathBuf {
    appmixer_spec::workspace_root().join("crates/conformance/tests/snapshots")
}

/// One scenario's normalised transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The scenario's name, also its snapshot's name.
    pub name: &'static str,
    /// The transcript, one blank-line-separated step per exchange.
    pub text: String,
}

/// A step as recorded: the exchange and how to show its body.
struct Recorded {
    exchange: Exchange,
    /// Keep only the list items whose `field` is one of these ids.
    only: Option<(&'static str, Vec<String>)>,
}

/// Records the exchanges of one scenario.
struct Recorder<'a> {
    s: &'a mut Session,
    steps: Vec<Recorded>,
    /// Ids the scenario chose itself, registered before anything else so
    /// that their numbering does not depend on their values.
    chosen: Vec<(String, &'static str)>,
}

impl<'a> Recorder<'a> {
    fn new(s: &'a mut Session) -> Self {
        Self {
            s,
            steps: Vec::new(),
            chosen: Vec::new(),
        }
    }

    fn choose(&mut self, kind: &'static str) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.chosen.push((id.clone(), kind));
        id
    }

    async fn send(&mut self, call: Call) -> Step<Exchange> {
        let exchange = self.s.call(call).await?;
        self.steps.push(Recorded {
            exchange: exchange.clone(),
            only: None,
        });
        Ok(exchange)
    }

    /// Sends a list call whose answer is shown with only the items whose
    /// `field` is among `ids`.
    async fn send_only(&mut self, call: Call, field: &'static str, ids: &[&str]) -> Step<Exchange> {
        let exchange = self.s.call(call).await?;
        self.steps.push(Recorded {
            exchange: exchange.clone(),
            only: Some((field, ids.iter().map(|id| id.to_string()).collect())),
        });
        Ok(exchange)
    }

    /// Sends a create call and notes the object, whose id is the string at
    /// `pointer` of the answer, as the run's, for cleanup.
    async fn create(&mut self, call: Call, pointer: &str, kind: Kind) -> Step<String> {
        let created = self.send(call).await?;
        let id = self.str_at(&created, pointer)?;
        self.s.created(kind, &id);
        Ok(id)
    }

    /// The string at `pointer` of the last answer, or a step failure.
    fn str_at(&self, exchange: &Exchange, pointer: &str) -> Step<String> {
        exchange.str_at(pointer).ok_or(crate::session::Abort::Step)
    }

    fn render(self, name: &'static str, catalog: &Catalog) -> Transcript {
        let mut normaliser = Normaliser::new(&self.s.tag);
        if let Some(user) = &self.s.user {
            normaliser.fixed(&user.email, "<user>");
            normaliser.fixed(&user.username, "<user>");
        }
        for (id, kind) in &self.chosen {
            normaliser.id(id, kind);
        }
        let mut text = format!("# {name}\n");
        for step in &self.steps {
            let exchange = &step.exchange;
            text.push('\n');
            text.push_str(&normaliser.request_line(
                catalog,
                &exchange.operation,
                exchange.request.method.as_str(),
                &exchange.request.url,
            ));
            if step.only.is_some() {
                text.push_str("  (the run's objects only)");
            }
            text.push('\n');
            match media_type(exchange.response.content_type.as_deref()) {
                Some(media_type) => {
                    text.push_str(&format!("→ {} {media_type}\n", exchange.status()))
                }
                None => text.push_str(&format!("→ {}\n", exchange.status())),
            }
            let body = &exchange.response.body;
            if body.is_empty() {
                text.push_str("(no body)\n");
                continue;
            }
            match exchange.json() {
                Some(value) => {
                    let value = match &step.only {
                        Some((field, ids)) => only(value, field, ids),
                        None => value,
                    };
                    let id_kind = id_kind_of(&exchange.operation);
                    let shown = normaliser.json(&value, id_kind);
                    text.push_str(
                        &serde_json::to_string_pretty(&shown)
                            .expect("a JSON value always serializes"),
                    );
                    text.push('\n');
                }
                None => {
                    let raw = String::from_utf8_lossy(body);
                    text.push_str(&normaliser.text(&raw));
                    text.push('\n');
                }
            }
        }
        Transcript { name, text }
    }
}

/// The media type of a `Content-Type` header, lower-cased and without its
/// parameters: a `charset` says how the text is encoded, which the body as
/// shown already settles, while the media type says what the body is.
fn media_type(content_type: Option<&str>) -> Option<String> {
    let essence = content_type?.split(';').next()?.trim();
    (!essence.is_empty()).then(|| essence.to_ascii_lowercase())
}

/// What a plain `id` field identifies in the answers of `operation`.
fn id_kind_of(operation: &str) -> &'static str {
    if operation.contains("Task") {
        "task"
    } else if operation.contains("User") {
        "user"
    } else {
        "id"
    }
}

fn only(value: Value, field: &str, ids: &[String]) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|item| {
                    item.get(field)
                        .and_then(Value::as_str)
                        .is_some_and(|id| ids.iter().any(|wanted| wanted == id))
                })
                .collect(),
        ),
        other => other,
    }
}

/// Records every scenario's transcript in `session`, then cleans up.
pub async fn record_all(s: &mut Session, catalog: &Catalog) -> Vec<Transcript> {
    let mut transcripts = Vec::new();
    for name in SCENARIOS {
        let mut recorder = Recorder::new(s);
        let outcome = match name {
            "users" => users(&mut recorder).await,
            "flows" => flows(&mut recorder).await,
            "stores" => stores(&mut recorder).await,
            "records" => records(&mut recorder).await,
            "accounts" => accounts(&mut recorder).await,
            "logs" => logs(&mut recorder).await,
            "people-tasks" => people_tasks(&mut recorder).await,
            "charts" => charts(&mut recorder).await,
            "flow-authentication" => flow_authentication(&mut recorder).await,
            other => unreachable!("no snapshot scenario is called `{other}`"),
        };
        let stopped = outcome.is_err();
        let mut transcript = recorder.render(name, catalog);
        if stopped {
            // The rest of the scenario depended on a step that did not
            // give what it needed; the transcript shows where.
            transcript.text.push_str(
                "\n(the scenario stopped here: the last answer lacks what the next step needs)\n",
            );
        }
        transcripts.push(transcript);
    }
    transcripts
}

async fn users(r: &mut Recorder<'_>) -> Step<()> {
    r.send(Call::new("getUser")).await?;
    r.send(Call::new("getUser").without_token()).await?;
    let user = r.s.user.clone();
    if let Some(user) = user.filter(|u| !u.password.is_empty()) {
        r.send(Call::new("authenticateUser").body(json!({
            "username": user.username,
            "password": user.password,
        })))
        .await?;
    }
    r.send(Call::new("authenticateUser").body(json!({
        "username": format!("{}-nobody@example.com", r.s.tag),
        "password": "not-a-password",
    })))
    .await?;
    Ok(())
}

fn descriptor(trigger: &str, action: &str, action_type: &str) -> Value {
    json!({
        trigger: {"type": "appmixer.utils.http.Webhook", "label": "Orders", "x": 0, "y": 0,
                  "source": {}, "config": {"properties": {"immediateResponse": true}}},
        action: {"type": action_type, "x": 240, "y": 0,
                 "source": {"in": {trigger: ["out"]}}, "config": {}},
    })
}

async fn flows(r: &mut Recorder<'_>) -> Step<()> {
    let trigger = r.choose("component");
    let condition = r.choose("component");
    let flow_id = r
        .create(
            Call::new("createFlow").body(json!({
                "name": r.s.name("snapshot flow"),
                "flow": descriptor(&trigger, &condition, "appmixer.utils.controls.Condition"),
                "customFields": {"category": "snapshot"},
            })),
            "/flowId",
            Kind::Flow,
        )
        .await?;
    r.send(Call::new("getFlow").path("flowId", &flow_id))
        .await?;
    r.send(
        Call::new("updateFlow")
            .path("flowId", &flow_id)
            .body(json!({"name": r.s.name("snapshot flow (renamed)")})),
    )
    .await?;
    for command in ["start", "stop"] {
        r.send(
            Call::new("sendFlowCommand")
                .path("flowId", &flow_id)
                .body(json!({"command": command})),
        )
        .await?;
        r.send(
            Call::new("getFlow")
                .path("flowId", &flow_id)
                .query("projection", "name,stage"),
        )
        .await?;
    }
    let clone_id = r
        .create(
            Call::new("cloneFlow")
                .path("flowId", &flow_id)
                .body(json!({"prefix": "Copy of "})),
            "/cloneId",
            Kind::Flow,
        )
        .await?;
    let tag = r.s.tag.clone();
    r.send(
        Call::new("getFlows")
            .query("pattern", &tag)
            .query("sort", "name:1")
            .query("projection", "-flow,-thumbnail"),
    )
    .await?;
    r.send(Call::new("getFlowsCount").query("pattern", &tag))
        .await?;
    for id in [&flow_id, &clone_id] {
        r.send(Call::new("deleteFlow").path("flowId", id)).await?;
        r.s.deleted(Kind::Flow, id);
    }
    r.send(Call::new("getFlow").path("flowId", &flow_id))
        .await?;
    Ok(())
}

async fn stores(r: &mut Recorder<'_>) -> Step<()> {
    let store_id = r
        .create(
            Call::new("createStore").body(json!({"name": r.s.name("snapshot store")})),
            "/storeId",
            Kind::Store,
        )
        .await?;
    r.send(Call::new("getStore").path("storeId", &store_id))
        .await?;
    r.send_only(Call::new("getStores"), "storeId", &[&store_id])
        .await?;
    r.send(
        Call::new("renameStore")
            .path("storeId", &store_id)
            .body(json!({"name": r.s.name("snapshot store (renamed)")})),
    )
    .await?;
    r.send(Call::new("getStore").path("storeId", &store_id))
        .await?;
    r.send(Call::new("deleteStore").path("storeId", &store_id))
        .await?;
    r.s.deleted(Kind::Store, &store_id);
    r.send(Call::new("getStore").path("storeId", &store_id))
        .await?;
    Ok(())
}

async fn records(r: &mut Recorder<'_>) -> Step<()> {
    let store_id = r
        .create(
            Call::new("createStore").body(json!({"name": r.s.name("snapshot records")})),
            "/storeId",
            Kind::Store,
        )
        .await?;
    let first = format!("{} order ü?#1", r.s.tag);
    let second = format!("{} order 2", r.s.tag);
    for (key, value) in [(&first, "shipped 𝄞"), (&second, "pending")] {
        r.send(
            Call::new("createStoreItem")
                .path("storeId", &store_id)
                .path("key", key.as_str())
                .body(json!(value)),
        )
        .await?;
    }
    r.send(
        Call::new("getStoreItem")
            .path("storeId", &store_id)
            .path("key", first.as_str()),
    )
    .await?;
    r.send(
        Call::new("getStoreRecords")
            .query("storeId", &store_id)
            .query("sort", "key:1"),
    )
    .await?;
    r.send(Call::new("getStoreRecordsCount").query("storeId", &store_id))
        .await?;
    r.send(
        Call::new("getStoreRecordsCount")
            .query("storeId", &store_id)
            .query("pattern", "PENDING"),
    )
    .await?;
    r.send(
        Call::new("deleteStoreItem")
            .path("storeId", &store_id)
            .path("key", first.as_str()),
    )
    .await?;
    r.send(
        Call::new("getStoreItem")
            .path("storeId", &store_id)
            .path("key", first.as_str()),
    )
    .await?;
    r.send(Call::new("deleteStoreItems").body(json!([
        {"key": second, "storeId": store_id},
        {"key": format!("{} never set", r.s.tag), "storeId": store_id},
    ])))
    .await?;
    r.send(Call::new("deleteStore").path("storeId", &store_id))
        .await?;
    r.s.deleted(Kind::Store, &store_id);
    Ok(())
}

fn slack_account(r: &Recorder<'_>, name: &str) -> Call {
    Call::new("createAccount")
        .query("validateScope", false)
        .query("requestProfileInfo", false)
        .body(json!({
            "service": "appmixer:slack",
            "token": {"accessToken": format!("xoxb-{}-not-real", r.s.tag), "scope": ["chat:write"]},
            "name": r.s.name(name),
        }))
}

async fn accounts(r: &mut Recorder<'_>) -> Step<()> {
    let account_id = r
        .create(
            slack_account(r, "snapshot account"),
            "/accountId",
            Kind::Account,
        )
        .await?;
    r.send_only(
        Call::new("getAccounts").query("filter", "service:appmixer:slack"),
        "accountId",
        &[&account_id],
    )
    .await?;
    r.send(
        Call::new("setAccountName")
            .path("accountId", &account_id)
            .body(json!({"displayName": r.s.name("snapshot account (renamed)")})),
    )
    .await?;
    r.send_only(Call::new("getAccounts"), "accountId", &[&account_id])
        .await?;
    r.send(Call::new("getAccountFlows").path("accountId", &account_id))
        .await?;
    r.send(Call::new("deleteAccount").path("accountId", &account_id))
        .await?;
    r.s.deleted(Kind::Account, &account_id);
    Ok(())
}

async fn logs(r: &mut Recorder<'_>) -> Step<()> {
    let webhook = r.choose("component");
    let flow_id = r.create(Call::new("createFlow").body(json!({
            "name": r.s.name("snapshot logs"),
            "flow": {webhook.as_str(): {"type": "appmixer.utils.http.Webhook", "x": 0, "y": 0, "source": {}}},
        })), "/flowId", Kind::Flow).await?;
    r.send(
        Call::new("sendFlowCommand")
            .path("flowId", &flow_id)
            .body(json!({"command": "start"})),
    )
    .await?;
    r.send(
        Call::new("sendComponentMessage")
            .path("flowId", &flow_id)
            .path("componentId", &webhook)
            .body(json!({"order": 1001, "total": 125.5, "note": "snapshot 𝄞"})),
    )
    .await?;
    // Engines index logs asynchronously; only the search that found the
    // entry (or the last one) goes into the transcript.
    let mut attempt = 0;
    let hit = loop {
        attempt += 1;
        let exchange =
            r.s.call(Call::new("getLogs").query("query", format!("+flowId:{flow_id}")))
                .await?;
        let hit = exchange.json().and_then(|b| b.pointer("/hits/0").cloned());
        if hit.is_some() || attempt >= LOG_SEARCHES {
            r.steps.push(Recorded {
                exchange,
                only: None,
            });
            break hit;
        }
        tokio::time::sleep(LOG_SEARCH_PAUSE * attempt).await;
    };
    if let Some(hit) = hit {
        let field = |name: &str| {
            hit.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        r.send(
            Call::new("getLog")
                .path("index", field("_index"))
                .path("logId", field("_id")),
        )
        .await?;
    }
    r.send(
        Call::new("sendFlowCommand")
            .path("flowId", &flow_id)
            .body(json!({"command": "stop"})),
    )
    .await?;
    r.send(Call::new("deleteFlow").path("flowId", &flow_id))
        .await?;
    r.s.deleted(Kind::Flow, &flow_id);
    Ok(())
}

async fn people_tasks(r: &mut Recorder<'_>) -> Step<()> {
    let email = r.s.email();
    let created = r
        .send(Call::new("createPeopleTask").body(json!({
            "title": r.s.name("snapshot approval"),
            "description": "Created by the conformance harness.",
            "requester": email,
            "approver": email,
            "decisionBy": "2099-12-31T23:00:00.000Z",
        })))
        .await?;
    let task_id = r.str_at(&created, "/id")?;
    r.s.created(Kind::PeopleTask, &task_id);
    let requester_secret = r.str_at(&created, "/requesterSecret")?;
    r.send(Call::new("getPeopleTask").path("id", &task_id))
        .await?;
    let tag = r.s.tag.clone();
    r.send(
        Call::new("getPeopleTasks")
            .query("role", "approver")
            .query("pattern", &tag),
    )
    .await?;
    r.send(
        Call::new("getPeopleTasksCount")
            .query("role", "approver")
            .query("pattern", &tag),
    )
    .await?;
    r.send(
        Call::new("approveTask")
            .path("id", &task_id)
            .body(json!({})),
    )
    .await?;
    r.send(Call::new("rejectTask").path("id", &task_id).body(json!({})))
        .await?;
    r.send(
        Call::new("getPeopleTask")
            .path("id", &task_id)
            .query("secret", &requester_secret)
            .without_token(),
    )
    .await?;
    r.send(
        Call::new("getPeopleTask")
            .path("id", &task_id)
            .without_token(),
    )
    .await?;
    Ok(())
}

async fn charts(r: &mut Recorder<'_>) -> Step<()> {
    let trace = r.choose("trace");
    let chart_id = r.create(Call::new("createChart").body(json!({
            "name": r.s.name("snapshot chart"),
            "index": 1,
            "type": "bar",
            "query": {"range": {"from": {"endOf": "day", "subtract": [7, "days"]}}},
            "options": {"showlegend": true},
            "traces": {trace.as_str(): {"name": "Messages", "agg": {"date_histogram": {"interval": "1d"}}}},
        })), "/chartId", Kind::Chart).await?;
    r.send(Call::new("getChart").path("chartId", &chart_id))
        .await?;
    let tag = r.s.tag.clone();
    r.send(
        Call::new("getCharts")
            .query("pattern", &tag)
            .query("projection", "-traces"),
    )
    .await?;
    r.send(
        Call::new("updateChart")
            .path("chartId", &chart_id)
            .body(json!({"name": r.s.name("snapshot chart (renamed)"), "type": "line"})),
    )
    .await?;
    r.send(Call::new("deleteChart").path("chartId", &chart_id))
        .await?;
    r.s.deleted(Kind::Chart, &chart_id);
    r.send(Call::new("getChart").path("chartId", &chart_id))
        .await?;
    Ok(())
}

async fn flow_authentication(r: &mut Recorder<'_>) -> Step<()> {
    let trigger = r.choose("component");
    let slack = r.choose("component");
    let flow_id = r
        .create(
            Call::new("createFlow").body(json!({
                "name": r.s.name("snapshot flow authentication"),
                "flow": descriptor(&trigger, &slack, "appmixer.slack.list.SendChannelMessage"),
            })),
            "/flowId",
            Kind::Flow,
        )
        .await?;
    let account_id = r
        .create(
            slack_account(r, "snapshot flow account"),
            "/accountId",
            Kind::Account,
        )
        .await?;
    r.send(Call::new("getFlowAuthentication").path("flowId", &flow_id))
        .await?;
    r.send(
        Call::new("assignAccount")
            .path("componentId", &slack)
            .path("accountId", &account_id),
    )
    .await?;
    r.send(Call::new("getFlowAuthentication").path("flowId", &flow_id))
        .await?;
    r.send(
        Call::new("getComponentAccounts")
            .path("componentType", "appmixer.slack.list.SendChannelMessage")
            .query("componentId", &slack),
    )
    .await?;
    r.send(Call::new("getAccountFlows").path("accountId", &account_id))
        .await?;
    r.send(Call::new("deleteAccount").path("accountId", &account_id))
        .await?;
    r.s.deleted(Kind::Account, &account_id);
    r.send(Call::new("deleteFlow").path("flowId", &flow_id))
        .await?;
    r.s.deleted(Kind::Flow, &flow_id);
    Ok(())
}

/// How one scenario's fresh transcript differs from its committed snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The scenario.
    pub name: &'static str,
    /// A unified diff, committed (`-`) to fresh (`+`).
    pub diff: String,
}

/// The snapshot file of `name` in `dir`.
pub fn snapshot_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.snap"))
}

/// The contents of an insta snapshot file, without its header.
pub fn read_snapshot(path: &Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let body = match text.strip_prefix("---\n") {
        Some(rest) => match rest.find("\n---\n") {
            Some(end) => &rest[end + 5..],
            None => rest,
        },
        None => &text,
    };
    Ok(body.trim_end().replace("\r\n", "\n"))
}

/// Compares each transcript with its snapshot in `dir`; a missing snapshot
/// is a difference against nothing.
pub fn compare(dir: &Path, transcripts: &[Transcript]) -> Vec<Difference> {
    transcripts
        .iter()
        .filter_map(|transcript| {
            let path = snapshot_path(dir, transcript.name);
            let committed = read_snapshot(&path).unwrap_or_default();
            let fresh = transcript.text.trim_end();
            if committed == fresh {
                return None;
            }
            let committed = format!("{committed}\n");
            let fresh = format!("{fresh}\n");
            let diff = TextDiff::from_lines(&committed, &fresh)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{} (committed)", path.display()),
                    &format!("{} (this server)", transcript.name),
                )
                .to_string();
            Some(Difference {
                name: transcript.name,
                diff,
            })
        })
        .collect()
}

/// Writes each transcript as the insta snapshot file of its scenario.
pub fn write(dir: &Path, transcripts: &[Transcript]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for transcript in transcripts {
        let contents = format!(
            "---\nsource: {SNAPSHOT_SOURCE}\nexpression: {SNAPSHOT_EXPRESSION}\n---\n{}\n",
            transcript.text.trim_end()
        );
        std::fs::write(snapshot_path(dir, transcript.name), contents)?;
    }
    Ok(())
}

/// Records every transcript against the server `options` name (the
/// embedded one without a URL), signing in as they say, then cleans up.
pub async fn record(options: &crate::Options) -> Result<Vec<Transcript>, RunError> {
    let mut connected = crate::connect(options).await?;
    let transcripts = record_all(&mut connected.session, &connected.catalog).await;
    let cleanup = crate::cleanup::run(&mut connected.session).await;
    for leftover in &cleanup.leftovers {
        tracing::warn!(kind = %leftover.kind, id = %leftover.id, reason = %leftover.reason, "left over");
    }
    connected.close().await;
    Ok(transcripts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "amxc-snapshots-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_media_type_drops_parameters_and_case() {
        assert_eq!(
            media_type(Some("Application/JSON; charset=utf-8")).as_deref(),
            Some("application/json")
        );
        assert_eq!(
            media_type(Some("text/plain")).as_deref(),
            Some("text/plain")
        );
        assert_eq!(media_type(Some(" ; charset=utf-8")), None);
        assert_eq!(media_type(None), None);
    }

    #[test]
    fn a_written_snapshot_reads_back_as_its_transcript() {
        let dir = scratch("roundtrip");
        let transcript = Transcript {
            name: "users",
            text: "# users\n\nGET /user\n→ 200\n{}\n".into(),
        };

        write(&dir, std::slice::from_ref(&transcript)).unwrap();

        assert_eq!(
            read_snapshot(&snapshot_path(&dir, "users")).unwrap(),
            transcript.text.trim_end()
        );
        assert!(compare(&dir, &[transcript]).is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_changed_line_shows_as_a_unified_diff() {
        let dir = scratch("diff");
        let committed = Transcript {
            name: "stores",
            text: "# stores\n\nGET /stores/<store-1>\n→ 200\n".into(),
        };
        write(&dir, &[committed]).unwrap();
        let fresh = Transcript {
            name: "stores",
            text: "# stores\n\nGET /stores/<store-1>\n→ 404\n".into(),
        };

        let differences = compare(&dir, &[fresh]);

        assert_eq!(differences.len(), 1);
        let diff = &differences[0].diff;
        assert!(diff.contains("-→ 200") && diff.contains("+→ 404"), "{diff}");
        assert!(diff.contains("@@"), "{diff}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
