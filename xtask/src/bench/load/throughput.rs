//! Sustained load on a loaded server: 10,000 real-sized flows and 100,000
//! records, then timed runs of each endpoint under test.
//!
//! Besides the endpoints the goals name, two reads bound the single-flow
//! read from below: `getUser` (routing, token check and a tiny body) and
//! `getFlow` with a projection that keeps only the name (the same lookup
//! without serialising the descriptor). The three together say where the
//! single-flow read spends its time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;
use serde::{Deserialize, Serialize};

use super::flows::FlowTemplates;
use super::http::Api;
use super::run::{self, Repeat, RunFigures};
use super::{Target, progress, setup};

/// The options of the throughput scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The directory of real flow files to load.
    #[arg(long)]
    pub flows_dir: PathBuf,
    /// How many flows to load.
    #[arg(long, default_value_t = 10_000)]
    pub flows: usize,
    /// How many records to load into one store.
    #[arg(long, default_value_t = 100_000)]
    pub records: usize,
    /// Connections sending at once to the endpoints that answer one object.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Connections sending at once to the list endpoints, whose answers
    /// take far longer; more would only queue behind the first.
    #[arg(long, default_value_t = 2)]
    pub list_connections: usize,
    /// Seconds per measured run.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Measured runs per endpoint.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

/// What the throughput scenario measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Throughput {
    /// Flows loaded before the runs.
    pub flows: usize,
    /// Records loaded before the runs.
    pub records: usize,
    /// Seconds the loading took.
    pub load_seconds: f64,
    /// Connections per run to the endpoints that answer one object.
    pub connections: usize,
    /// One entry per endpoint, in the order they ran.
    pub endpoints: Vec<Endpoint>,
}

/// The runs of one endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    /// A stable key, e.g. `get-flow`.
    pub key: String,
    /// The request, e.g. `GET /flows/{flowId}`.
    pub route: String,
    /// Connections sending at once.
    pub connections: usize,
    /// The measured runs.
    pub runs: Vec<RunFigures>,
}

/// Loads the server and measures each endpoint.
pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Throughput> {
    let api = Api::new(&target.url)?;
    let api = setup::signup(&api, "throughput").await?;
    let templates = FlowTemplates::load(&args.flows_dir)?;

    let loading = Instant::now();
    let ids = setup::create_flows(&api, &templates, 0, args.flows, 8).await?;
    let store = setup::create_store(&api, "bench records").await?;
    setup::create_records(&api, &store, args.records, 8).await?;
    let load_seconds = loading.elapsed().as_secs_f64();
    progress(&format!(
        "loaded {} flows and {} records in {load_seconds:.1} s",
        ids.len(),
        args.records
    ));

    let timing = Timing {
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs_f64(args.seconds),
        runs: args.runs,
        server_pid: target.server_pid,
    };
    let mut endpoints = Vec::new();

    let lanes = run::lanes(&api, args.connections, |_| {
        Repeat(|api: &Api, _| api.empty(Method::GET, "/user"))
    })
    .await?;
    endpoints.push(measure(&api, "get-user", "GET /user", lanes, &timing).await?);

    let lanes = run::lanes(&api, args.connections, |lane| {
        let ids = ids.clone();
        Repeat(move |api: &Api, seq| {
            let id = &ids[spread(lane, seq, ids.len())];
            api.empty(Method::GET, &format!("/flows/{id}?projection=name"))
        })
    })
    .await?;
    endpoints.push(
        measure(
            &api,
            "get-flow-name",
            "GET /flows/{flowId}?projection=name",
            lanes,
            &timing,
        )
        .await?,
    );

    let lanes = run::lanes(&api, args.connections, |lane| {
        let ids = ids.clone();
        Repeat(move |api: &Api, seq| {
            let id = &ids[spread(lane, seq, ids.len())];
            api.empty(Method::GET, &format!("/flows/{id}"))
        })
    })
    .await?;
    endpoints.push(measure(&api, "get-flow", "GET /flows/{flowId}", lanes, &timing).await?);

    let lanes = run::lanes(&api, args.list_connections, |_| {
        Repeat(|api: &Api, _| api.empty(Method::GET, "/flows?limit=100"))
    })
    .await?;
    endpoints.push(measure(&api, "list-flows", "GET /flows?limit=100", lanes, &timing).await?);

    let lanes = run::lanes(&api, args.list_connections, |_| {
        let path = format!("/store?storeId={store}&limit=100");
        Repeat(move |api: &Api, _| api.empty(Method::GET, &path))
    })
    .await?;
    endpoints.push(
        measure(
            &api,
            "list-records",
            "GET /store?storeId=…&limit=100",
            lanes,
            &timing,
        )
        .await?,
    );

    // Bodies are serialised once: the generator's time belongs to sending.
    let bodies: Vec<Bytes> = (0..templates.len())
        .map(|index| templates.body("post", index))
        .collect();
    let lanes = run::lanes(&api, args.connections, |lane| {
        let bodies = bodies.clone();
        Repeat(move |api: &Api, seq| {
            let body = bodies[spread(lane, seq, bodies.len())].clone();
            api.json(Method::POST, "/flows", body)
        })
    })
    .await?;
    endpoints.push(measure(&api, "create-flow", "POST /flows", lanes, &timing).await?);

    Ok(Throughput {
        flows: ids.len(),
        records: args.records,
        load_seconds,
        connections: args.connections,
        endpoints,
    })
}

/// How the runs of each endpoint are timed.
struct Timing {
    warmup: Duration,
    duration: Duration,
    runs: usize,
    server_pid: u32,
}

/// Runs `lanes` as `timing` says.
async fn measure<S: run::Script>(
    api: &Api,
    key: &str,
    route: &str,
    lanes: Vec<(super::http::Connection, S)>,
    timing: &Timing,
) -> anyhow::Result<Endpoint> {
    let connections = lanes.len();
    let runs = run::repeated(
        api,
        lanes,
        timing.warmup,
        timing.duration,
        timing.runs,
        timing.server_pid,
    )
    .await?;
    progress(&format!(
        "{route}: {:.0} requests/s in the first run",
        runs.first().map_or(0.0, |r| r.requests_per_second)
    ));
    Ok(Endpoint {
        key: key.into(),
        route: route.into(),
        connections,
        runs,
    })
}

/// Which of `len` items request `seq` of connection `lane` uses: every
/// item in turn, each connection starting elsewhere, so that reads spread
/// over the whole store instead of hitting one cached entry.
fn spread(lane: usize, seq: u64, len: usize) -> usize {
    // A prime stride visits every index when `len` is not a multiple of it.
    ((lane as u64 * 7_919 + seq * 104_729) % len as u64) as usize
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn spread_visits_every_item_from_each_connection() {
        let visited: BTreeSet<usize> = (0..10_000).map(|seq| spread(3, seq, 10_000)).collect();

        assert_eq!(visited.len(), 10_000);
    }
}
