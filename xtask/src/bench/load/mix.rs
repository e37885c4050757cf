//! The loopback ceiling for the conformance harness's request mix: requests
//! sent in the same proportion of methods as the harness sent them, as fast
//! as the server answers, over one connection (as the harness sends) and
//! over several.
//!
//! Each method stands for the harness's requests with it, on flows with
//! small bodies: `GET` reads a flow, `POST` creates one, `PUT` renames one,
//! `DELETE` deletes one the same connection created. A `DELETE` with nothing
//! left to delete asks for an unknown flow and expects 404, and is counted.

use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::http::{Answer, Api, Outgoing};
use super::run::{self, RunFigures, Script};
use super::{Target, progress, setup};

/// The options of the mix scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Requests per method, e.g. `GET=120,POST=40,PUT=6,DELETE=30`.
    #[arg(long)]
    pub mix: String,
    /// The connection counts to measure, e.g. `1,16`.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub connections: Vec<usize>,
    /// Seconds per measured run.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Measured runs per connection count.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

/// What the mix scenario measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mix {
    /// The weights used, by method.
    pub weights: Vec<(String, u64)>,
    /// One entry per connection count.
    pub levels: Vec<Level>,
}

/// The runs at one connection count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Level {
    /// Connections sending at once.
    pub connections: usize,
    /// The measured runs.
    pub runs: Vec<RunFigures>,
    /// `DELETE`s that found nothing of their own to delete.
    pub empty_deletes: u64,
}

/// Parses `GET=120,POST=40`: method names and positive weights.
pub fn parse_weights(text: &str) -> anyhow::Result<Vec<(Method, u64)>> {
    let mut weights = Vec::new();
    for part in text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (method, weight) = part
            .split_once('=')
            .with_context(|| format!("`--mix` entries are METHOD=COUNT, got `{part}`"))?;
        let method: Method = method
            .trim()
            .to_ascii_uppercase()
            .parse()
            .with_context(|| format!("`{method}` in `--mix` is not an HTTP method"))?;
        let weight: u64 = weight
            .trim()
            .parse()
            .with_context(|| format!("`{weight}` in `--mix` is not a count"))?;
        if weight > 0 {
            weights.push((method, weight));
        }
    }
    if weights.is_empty() {
        bail!("`--mix` names no method with a count above 0, got `{text}`");
    }
    Ok(weights)
}

/// Picks methods in proportion to their weights, evenly interleaved
/// (smooth weighted round robin): over every `sum of weights` picks, each
/// method comes up exactly its weight's times.
#[derive(Debug, Clone)]
pub struct WeightedCycle {
    weights: Vec<(Method, i64)>,
    current: Vec<i64>,
    total: i64,
}

impl WeightedCycle {
    /// A cycle over `weights`, which must not be empty.
    pub fn new(weights: &[(Method, u64)]) -> Self {
        let weights: Vec<(Method, i64)> = weights
            .iter()
            .map(|(method, weight)| (method.clone(), i64::try_from(*weight).unwrap_or(i64::MAX)))
            .collect();
        let total = weights.iter().map(|(_, weight)| weight).sum();
        Self {
            current: vec![0; weights.len()],
            weights,
            total,
        }
    }

    /// The next method.
    pub fn next_method(&mut self) -> Method {
        let mut best = 0;
        for (index, (_, weight)) in self.weights.iter().enumerate() {
            self.current[index] += weight;
            if self.current[index] > self.current[best] {
                best = index;
            }
        }
        self.current[best] -= self.total;
        self.weights[best].0.clone()
    }
}

/// One connection's share of the mix.
struct MixScript {
    cycle: WeightedCycle,
    lane: usize,
    shared: std::sync::Arc<Vec<String>>,
    own: Vec<String>,
    pending: Option<Method>,
    empty_deletes: u64,
}

impl Script for MixScript {
    fn next(&mut self, api: &Api, seq: u64) -> Result<Outgoing, hyper::http::Error> {
        let method = self.cycle.next_method();
        self.pending = Some(method.clone());
        let shared = &self.shared[(self.lane + seq as usize * 7) % self.shared.len()];
        match method {
            Method::POST => {
                let body = json!({"name": format!("mix {} {seq}", self.lane), "flow": {}});
                api.json(Method::POST, "/flows", Bytes::from(body.to_string()))
            }
            Method::PUT => {
                let body = json!({"name": format!("renamed {seq}")});
                let path = format!("/flows/{shared}");
                api.json(Method::PUT, &path, Bytes::from(body.to_string()))
            }
            Method::DELETE => match self.own.pop() {
                Some(id) => api.empty(Method::DELETE, &format!("/flows/{id}")),
                None => {
                    self.empty_deletes += 1;
                    self.pending = None;
                    let unknown = "00000000-0000-4000-8000-000000000000";
                    api.empty(Method::DELETE, &format!("/flows/{unknown}"))
                }
            },
            _ => api.empty(Method::GET, &format!("/flows/{shared}")),
        }
    }

    fn judge(&mut self, answer: &Answer) -> bool {
        match self.pending.take() {
            Some(Method::POST) => match setup::flow_id(answer) {
                Ok(id) => {
                    self.own.push(id);
                    true
                }
                Err(_) => false,
            },
            // A DELETE without a flow of its own expects 404.
            None => answer.status == StatusCode::NOT_FOUND,
            Some(_) => answer.is_success(),
        }
    }
}

/// Measures the mix at each connection count.
pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Mix> {
    let weights = parse_weights(&args.mix)?;
    let api = Api::new(&target.url)?;
    let api = setup::signup(&api, "mix").await?;
    let shared = setup::bulk(
        &api,
        4,
        200,
        |api, index| {
            let body = json!({"name": format!("mix shared {index}"), "flow": {}});
            api.json(Method::POST, "/flows", Bytes::from(body.to_string()))
        },
        setup::flow_id,
    )
    .await?;
    let shared = std::sync::Arc::new(shared);

    let mut levels = Vec::new();
    for &connections in &args.connections {
        let lanes = run::lanes(&api, connections, |lane| MixScript {
            cycle: WeightedCycle::new(&weights),
            lane,
            shared: std::sync::Arc::clone(&shared),
            own: Vec::new(),
            pending: None,
            empty_deletes: 0,
        })
        .await?;
        let mut runs = Vec::with_capacity(args.runs);
        let mut lanes = lanes;
        let warmup = Duration::from_secs(1);
        let duration = Duration::from_secs_f64(args.seconds);
        (_, lanes) = run::timed(&api, lanes, warmup, target.server_pid).await?;
        let before: u64 = lanes.iter().map(|(_, script)| script.empty_deletes).sum();
        for _ in 0..args.runs {
            let (figures, next) = run::timed(&api, lanes, duration, target.server_pid).await?;
            runs.push(figures);
            lanes = next;
        }
        let after: u64 = lanes.iter().map(|(_, script)| script.empty_deletes).sum();
        let empty_deletes = after - before;
        progress(&format!(
            "mix over {connections} connection(s): {:.0} requests/s in the first run",
            runs.first().map_or(0.0, |r| r.requests_per_second)
        ));
        levels.push(Level {
            connections,
            runs,
            empty_deletes,
        });
    }
    Ok(Mix {
        weights: weights
            .iter()
            .map(|(method, weight)| (method.to_string(), *weight))
            .collect(),
        levels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_from_method_counts() {
        let weights = parse_weights("GET=120, post=40,PUT=0,DELETE=30").unwrap();

        assert_eq!(
            weights,
            vec![(Method::GET, 120), (Method::POST, 40), (Method::DELETE, 30)]
        );
    }

    #[test]
    fn weights_without_a_count_are_refused() {
        assert!(parse_weights("GET").is_err());
        assert!(parse_weights("GET=0").is_err());
        assert!(parse_weights("GET=many").is_err());
    }

    #[test]
    fn cycle_picks_each_method_as_often_as_its_weight() {
        let mut cycle =
            WeightedCycle::new(&[(Method::GET, 5), (Method::POST, 2), (Method::PUT, 1)]);

        let picks: Vec<Method> = (0..16).map(|_| cycle.next_method()).collect();

        let count = |method: Method| picks.iter().filter(|m| **m == method).count();
        assert_eq!(count(Method::GET), 10);
        assert_eq!(count(Method::POST), 4);
        assert_eq!(count(Method::PUT), 2);
    }

    #[test]
    fn cycle_interleaves_instead_of_bunching() {
        let mut cycle = WeightedCycle::new(&[(Method::GET, 1), (Method::POST, 1)]);

        let picks: Vec<Method> = (0..4).map(|_| cycle.next_method()).collect();

        assert_eq!(
            picks,
            vec![Method::GET, Method::POST, Method::GET, Method::POST]
        );
    }
}
