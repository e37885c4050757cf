//! Many clients at once: writers on their own connections set records (keys
//! of their own and keys every writer shares), read their own keys back, and
//! create flows; at the end everything the server holds is read and compared
//! with what the writers were told it stored.
//!
//! Each value names its writer and sequence number and carries a filler
//! derived from both, so a value spliced from two writes cannot pass for
//! either of them.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use hyper::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::consistency::{self, Ledger, Verdict};
use super::http::{Answer, Api, Connection};
use super::{Target, progress, setup};

/// The options of the many-writers scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Writers, each on its own connection.
    #[arg(long, default_value_t = 64)]
    pub writers: usize,
    /// Rounds per writer; a round writes and reads back an own key and
    /// writes a shared key.
    #[arg(long, default_value_t = 100)]
    pub rounds: usize,
    /// Keys of its own per writer.
    #[arg(long, default_value_t = 4)]
    pub own_keys: usize,
    /// Keys all writers share.
    #[arg(long, default_value_t = 8)]
    pub shared_keys: usize,
    /// Every this many rounds a writer also creates a flow.
    #[arg(long, default_value_t = 5)]
    pub flow_every: usize,
}

/// What the many-writers run found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Concurrency {
    /// Writers at once.
    pub writers: usize,
    /// Requests sent, the final reads excepted.
    pub requests: u64,
    /// Requests answered unexpectedly or not at all.
    pub errors: u64,
    /// The first error, to show what went wrong.
    pub first_error: Option<String>,
    /// Reads of an own key that did not answer the writer's last write.
    pub stale_reads: u64,
    /// Records compared with the ledger.
    pub records: Verdict,
    /// Flows compared with the ledger (flow id to name).
    pub flows: Verdict,
    /// Seconds the writing took.
    pub seconds: f64,
}

impl Concurrency {
    /// Whether nothing was lost, torn, stale or refused.
    pub fn is_clean(&self) -> bool {
        self.errors == 0
            && self.stale_reads == 0
            && self.records.is_consistent()
            && self.flows.is_consistent()
    }
}

/// What one writer brings back.
#[derive(Default)]
struct Writer {
    records: Ledger,
    flows: Ledger,
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    stale_reads: u64,
}

impl Writer {
    fn fail(&mut self, error: String) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }
}

/// Runs the writers and compares.
pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Concurrency> {
    let api = Api::new(&target.url)?;
    let api = setup::signup(&api, "writers").await?;
    let store = setup::create_store(&api, "bench writers").await?;
    let connections = api.connect_many(args.writers).await?;

    let started = Instant::now();
    let tasks: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(number, connection)| {
            let api = api.clone();
            let store = store.clone();
            let args = args.clone();
            tokio::spawn(async move { write(api, connection, number, &store, &args).await })
        })
        .collect();
    let mut records = Ledger::default();
    let mut flows = Ledger::default();
    let (mut requests, mut errors, mut stale_reads) = (0, 0, 0);
    let mut first_error = None;
    for task in tasks {
        let writer = task.await?;
        records.merge(writer.records);
        flows.merge(writer.flows);
        requests += writer.requests;
        errors += writer.errors;
        stale_reads += writer.stale_reads;
        first_error = first_error.or(writer.first_error);
    }
    let seconds = started.elapsed().as_secs_f64();
    progress(&format!(
        "{} writers sent {requests} requests in {seconds:.1} s",
        args.writers
    ));

    let mut connection = api.connect().await?;
    let stored_records = read_records(&api, &mut connection, &store).await?;
    let stored_flows = read_flows(&api, &mut connection).await?;
    Ok(Concurrency {
        writers: args.writers,
        requests,
        errors,
        first_error,
        stale_reads,
        records: consistency::check(&records, &stored_records),
        flows: consistency::check(&flows, &stored_flows),
        seconds,
    })
}

/// The value writer `writer` sends in round `round` to a key of `kind`.
pub fn value_of(writer: usize, round: usize, kind: &str) -> String {
    // The filler repeats a digest of writer and round, so every value is
    // unique along its whole length.
    let digest = (writer as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ round as u64;
    let filler = format!("{digest:016x}").repeat(6);
    format!("w{writer:02}-r{round:04}-{kind}-{filler}")
}

async fn write(
    api: Api,
    mut connection: Connection,
    number: usize,
    store: &str,
    args: &Args,
) -> Writer {
    let mut writer = Writer::default();
    for round in 0..args.rounds {
        let own = format!("own-{number:02}-{}", round % args.own_keys.max(1));
        let value = value_of(number, round, "own");
        if set(&api, &mut connection, &mut writer, store, &own, &value).await {
            writer.records.record(number, &own, &value);
            match read_back(&api, &mut connection, store, &own).await {
                Ok(Some(read)) if read == value => {}
                Ok(_) => writer.stale_reads += 1,
                Err(error) => writer.fail(format!("getStoreItem: {error:#}")),
            }
            writer.requests += 1;
        }

        let shared = format!("shared-{}", (number + round) % args.shared_keys.max(1));
        let value = value_of(number, round, "shared");
        if set(&api, &mut connection, &mut writer, store, &shared, &value).await {
            writer.records.record(number, &shared, &value);
        }

        if round % args.flow_every.max(1) == 0 {
            let name = format!("writer {number:02} flow {round:04}");
            let body = Bytes::from(json!({"name": name, "flow": {}}).to_string());
            writer.requests += 1;
            let answer = match api.json(Method::POST, "/flows", body) {
                Ok(request) => send(&mut connection, &api, request).await,
                Err(error) => Err(error.into()),
            };
            match answer.and_then(|answer| setup::flow_id(&answer)) {
                Ok(id) => writer.flows.record(number, &id, &name),
                Err(error) => writer.fail(format!("createFlow: {error:#}")),
            }
        }
    }
    writer
}

/// Sets `key` to `value`; whether the server acknowledged it.
async fn set(
    api: &Api,
    connection: &mut Connection,
    writer: &mut Writer,
    store: &str,
    key: &str,
    value: &str,
) -> bool {
    writer.requests += 1;
    let path = format!("/store/{store}/{key}");
    let answer = match api.text(Method::POST, &path, Bytes::from(value.to_owned())) {
        Ok(request) => send(connection, api, request).await,
        Err(error) => Err(error.into()),
    };
    match answer.and_then(|answer| setup::expect_json(&answer, "createStoreItem")) {
        Ok(_) => true,
        Err(error) => {
            writer.fail(format!("{error:#}"));
            false
        }
    }
}

/// The value `getStoreItem` answers for `key`.
async fn read_back(
    api: &Api,
    connection: &mut Connection,
    store: &str,
    key: &str,
) -> anyhow::Result<Option<String>> {
    let request = api.empty(Method::GET, &format!("/store/{store}/{key}"))?;
    let answer = send(connection, api, request).await?;
    let record = setup::expect_json(&answer, "getStoreItem")?;
    Ok(record
        .get("value")
        .and_then(Value::as_str)
        .map(str::to_owned))
}

/// Sends `request`, opening a new connection first if the old one broke.
async fn send(
    connection: &mut Connection,
    api: &Api,
    request: super::http::Outgoing,
) -> anyhow::Result<Answer> {
    match connection.send(request).await {
        Ok(answer) => Ok(answer),
        Err(error) => {
            *connection = api.connect().await?;
            Err(error.into())
        }
    }
}

/// Page size of the final reads.
const PAGE: usize = 1_000;

/// Every record of `store`, key to value.
async fn read_records(
    api: &Api,
    connection: &mut Connection,
    store: &str,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut stored = BTreeMap::new();
    for offset in (0..).step_by(PAGE) {
        let path = format!("/store?storeId={store}&sort=key:1&limit={PAGE}&offset={offset}");
        let page = read_page(api, connection, &path, "getStoreRecords").await?;
        for record in &page {
            let key = record.get("key").and_then(Value::as_str);
            let key = key.context("a listed record has no `key`")?;
            // A value that is not a string is kept as its JSON text, which
            // no writer sent, so it counts as torn.
            let value = match record.get("value") {
                Some(Value::String(text)) => text.clone(),
                other => other.map(Value::to_string).unwrap_or_default(),
            };
            stored.insert(key.to_owned(), value);
        }
        if page.len() < PAGE {
            break;
        }
    }
    Ok(stored)
}

/// Every flow of the user, id to name.
async fn read_flows(
    api: &Api,
    connection: &mut Connection,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut stored = BTreeMap::new();
    for offset in (0..).step_by(PAGE) {
        let path = format!("/flows?projection=name&sort=name:1&limit={PAGE}&offset={offset}");
        let page = read_page(api, connection, &path, "getFlows").await?;
        for flow in &page {
            let id = flow.get("flowId").and_then(Value::as_str);
            let id = id.context("a listed flow has no `flowId`")?;
            let name = flow.get("name").and_then(Value::as_str).unwrap_or_default();
            stored.insert(id.to_owned(), name.to_owned());
        }
        if page.len() < PAGE {
            break;
        }
    }
    Ok(stored)
}

async fn read_page(
    api: &Api,
    connection: &mut Connection,
    path: &str,
    operation: &str,
) -> anyhow::Result<Vec<Value>> {
    let answer = send(connection, api, api.empty(Method::GET, path)?).await?;
    match setup::expect_json(&answer, operation)? {
        Value::Array(items) => Ok(items),
        other => {
            let shown: String = other.to_string().chars().take(80).collect();
            anyhow::bail!("{operation} answered `{shown}` instead of an array")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_differ_by_writer_round_and_kind() {
        let a = value_of(1, 2, "own");

        assert_ne!(a, value_of(2, 2, "own"));
        assert_ne!(a, value_of(1, 3, "own"));
        assert_ne!(a, value_of(1, 2, "shared"));
        assert_eq!(a, value_of(1, 2, "own"));
        assert!(a.starts_with("w01-r0002-own-"));
    }

    #[test]
    fn a_value_spliced_from_two_writes_is_neither() {
        let first = value_of(3, 7, "shared");
        let second = value_of(4, 7, "shared");
        let half = first.len() / 2;

        let spliced = format!("{}{}", &first[..half], &second[half..]);

        assert_ne!(spliced, first);
        assert_ne!(spliced, second);
    }
}
