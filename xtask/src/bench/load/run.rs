//! Timed runs: every connection sends what its [`Script`] says, one request
//! at a time, until the run's time is up; the run then reports requests per
//! second, latency percentiles, errors and the CPU time the server and the
//! generator used meanwhile.
//!
//! The CPU figures are the breakdown behind a throughput: with both
//! processes on one small machine, a low request rate is explained by who
//! used the cores, per request.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::http::{Answer, Api, Connection, Outgoing};
use crate::bench::process;
use crate::bench::stats::percentile;

/// What one simulated client sends next and how its answers are judged.
pub trait Script: Send + 'static {
    /// The next request; `seq` counts this client's requests from 0.
    fn next(&mut self, api: &Api, seq: u64) -> Result<Outgoing, hyper::http::Error>;

    /// Whether `answer` is the one expected; a script may also keep what it
    /// needs from it (an id to delete later).
    fn judge(&mut self, answer: &Answer) -> bool {
        answer.status.is_success()
    }
}

/// A script that sends the request its closure builds from the sequence
/// number and expects a 2xx answer.
pub struct Repeat<F>(pub F);

impl<F> Script for Repeat<F>
where
    F: FnMut(&Api, u64) -> Result<Outgoing, hyper::http::Error> + Send + 'static,
{
    fn next(&mut self, api: &Api, seq: u64) -> Result<Outgoing, hyper::http::Error> {
        (self.0)(api, seq)
    }
}

/// The figures of one timed run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunFigures {
    /// Requests answered, as expected or not.
    pub requests: u64,
    /// Requests answered unexpectedly or not at all.
    pub errors: u64,
    /// The first error, to show what went wrong.
    pub first_error: Option<String>,
    /// From the first request to the last answer.
    pub seconds: f64,
    /// `requests / seconds`.
    pub requests_per_second: f64,
    /// Median latency, in microseconds.
    pub p50_us: u64,
    /// 99th-percentile latency, in microseconds.
    pub p99_us: u64,
    /// The slowest request, in microseconds.
    pub max_us: u64,
    /// Bytes of response bodies received.
    pub response_bytes: u64,
    /// CPU seconds the server used during the run.
    pub server_cpu_seconds: f64,
    /// CPU seconds the generator used during the run.
    pub generator_cpu_seconds: f64,
    /// CPU seconds every process of the machine used during the run.
    #[serde(default)]
    pub machine_cpu_seconds: f64,
}

impl RunFigures {
    /// Server CPU per answered request, in microseconds.
    pub fn server_cpu_us_per_request(&self) -> f64 {
        per_request_us(self.server_cpu_seconds, self.requests)
    }

    /// Generator CPU per answered request, in microseconds.
    pub fn generator_cpu_us_per_request(&self) -> f64 {
        per_request_us(self.generator_cpu_seconds, self.requests)
    }

    /// The cores other processes kept busy during the run, on average.
    pub fn other_cores_busy(&self) -> f64 {
        let others =
            self.machine_cpu_seconds - self.server_cpu_seconds - self.generator_cpu_seconds;
        if self.seconds > 0.0 {
            (others / self.seconds).max(0.0)
        } else {
            0.0
        }
    }
}

fn per_request_us(seconds: f64, requests: u64) -> f64 {
    if requests == 0 {
        0.0
    } else {
        seconds * 1e6 / requests as f64
    }
}

/// What one connection's task brings back.
struct Lane<S> {
    connection: Option<Connection>,
    script: S,
    seq: u64,
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    bytes: u64,
}

/// Runs `lanes` (a connection and its script each) for `duration` against
/// the server `server_pid`, and gives the lanes back for the next run.
pub async fn timed<S: Script>(
    api: &Api,
    lanes: Vec<(Connection, S)>,
    duration: Duration,
    server_pid: u32,
) -> anyhow::Result<(RunFigures, Vec<(Connection, S)>)> {
    let server_before = process::cpu_seconds(&server_pid.to_string())?;
    let generator_before = process::cpu_seconds("self")?;
    let machine_before = process::machine_cpu_seconds()?;
    let started = Instant::now();
    let deadline = started + duration;

    let tasks: Vec<_> = lanes
        .into_iter()
        .map(|(connection, script)| {
            let api = api.clone();
            tokio::spawn(drive(api, connection, script, deadline))
        })
        .collect();
    let mut finished = Vec::with_capacity(tasks.len());
    for task in tasks {
        finished.push(task.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let server_cpu_seconds = process::cpu_seconds(&server_pid.to_string())? - server_before;
    let generator_cpu_seconds = process::cpu_seconds("self")? - generator_before;
    let machine_cpu_seconds = process::machine_cpu_seconds()? - machine_before;

    let mut latencies: Vec<u64> = finished
        .iter()
        .flat_map(|lane| lane.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let requests = latencies.len() as u64;
    let figures = RunFigures {
        requests,
        errors: finished.iter().map(|lane| lane.errors).sum(),
        first_error: finished.iter().find_map(|lane| lane.first_error.clone()),
        seconds,
        requests_per_second: requests as f64 / seconds,
        p50_us: percentile(&latencies, 50.0).unwrap_or(0),
        p99_us: percentile(&latencies, 99.0).unwrap_or(0),
        max_us: latencies.last().copied().unwrap_or(0),
        response_bytes: finished.iter().map(|lane| lane.bytes).sum(),
        server_cpu_seconds,
        generator_cpu_seconds,
        machine_cpu_seconds,
    };
    let mut lanes = Vec::with_capacity(finished.len());
    for lane in finished {
        let connection = match lane.connection {
            Some(connection) => connection,
            None => api.connect().await?,
        };
        lanes.push((connection, lane.script));
    }
    Ok((figures, lanes))
}

async fn drive<S: Script>(
    api: Api,
    connection: Connection,
    script: S,
    deadline: Instant,
) -> Lane<S> {
    let mut lane = Lane {
        connection: Some(connection),
        script,
        seq: 0,
        // About what a fast endpoint answers on one connection in a run.
        latencies_us: Vec::with_capacity(16 * 1024),
        errors: 0,
        first_error: None,
        bytes: 0,
    };
    while Instant::now() < deadline {
        let Some(connection) = lane.connection.as_mut() else {
            break;
        };
        let request = match lane.script.next(&api, lane.seq) {
            Ok(request) => request,
            Err(error) => {
                lane.fail(format!("cannot build a request: {error}"));
                break;
            }
        };
        lane.seq += 1;
        let sent = Instant::now();
        let outcome = connection.send(request).await;
        let latency = sent.elapsed();
        match outcome {
            Ok(answer) => {
                lane.latencies_us.push(latency.as_micros() as u64);
                lane.bytes += answer.body.len() as u64;
                if !lane.script.judge(&answer) {
                    let body = String::from_utf8_lossy(&answer.body);
                    let body: String = body.chars().take(300).collect();
                    lane.fail(format!("answered {}: {body}", answer.status));
                }
            }
            Err(error) => {
                lane.fail(format!("no answer: {error}"));
                // The connection is gone; the lane goes on with a new one.
                lane.connection = api.connect().await.ok();
            }
        }
    }
    lane
}

impl<S> Lane<S> {
    fn fail(&mut self, error: String) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }
}

/// Opens `count` connections with a script each from `script`.
pub async fn lanes<S: Script>(
    api: &Api,
    count: usize,
    mut script: impl FnMut(usize) -> S,
) -> anyhow::Result<Vec<(Connection, S)>> {
    let connections = api.connect_many(count).await?;
    Ok(connections
        .into_iter()
        .enumerate()
        .map(|(index, connection)| (connection, script(index)))
        .collect())
}

/// Runs one unmeasured warm-up of `warmup`, then `runs` measured runs of
/// `duration` each.
pub async fn repeated<S: Script>(
    api: &Api,
    mut lanes: Vec<(Connection, S)>,
    warmup: Duration,
    duration: Duration,
    runs: usize,
    server_pid: u32,
) -> anyhow::Result<Vec<RunFigures>> {
    if !warmup.is_zero() {
        (_, lanes) = timed(api, lanes, warmup, server_pid).await?;
    }
    let mut figures = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (run, next) = timed(api, lanes, duration, server_pid).await?;
        figures.push(run);
        lanes = next;
    }
    Ok(figures)
}
