//! The goals the benchmark holds each part to, and whether the measured
//! figures meet them. Every goal is judged here, once, for the goals table,
//! the terminal summary and the sections' explanations.

use crate::bench::harness::HarnessFigures;
use crate::bench::load::memory::Memory;
use crate::bench::load::throughput::{Endpoint, Throughput};
use crate::bench::stats::{median, paired_ratio, ratio};

use super::Results;
use super::table::{millis_from_us, thousands, times};

/// Whether a goal is met.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Met.
    Met,
    /// Missed; the text says by how much.
    Missed(String),
    /// Not measured; the text says why.
    Unknown(String),
}

impl Verdict {
    /// The verdict as the goals table shows it.
    pub(super) fn shown(&self) -> String {
        match self {
            Verdict::Met => "yes".into(),
            Verdict::Missed(by) => format!("**no**: {by}"),
            Verdict::Unknown(why) => format!("not measured: {why}"),
        }
    }
}

/// At most `limit`: met, or missed by how many percent.
pub fn at_most(value: f64, limit: f64) -> Verdict {
    if value <= limit {
        Verdict::Met
    } else {
        Verdict::Missed(format!("{} % over", percent(value / limit - 1.0)))
    }
}

/// At least `floor`: met, or missed by how many percent.
pub fn at_least(value: f64, floor: f64) -> Verdict {
    if value >= floor {
        Verdict::Met
    } else {
        Verdict::Missed(format!("{} % short", percent(1.0 - value / floor)))
    }
}

/// `fraction` as a percentage: whole numbers, one decimal below 10 so that a
/// near miss does not read as 0 %.
pub(super) fn percent(fraction: f64) -> String {
    let percent = 100.0 * fraction;
    if percent < 10.0 {
        format!("{percent:.1}")
    } else {
        format!("{percent:.0}")
    }
}

/// One line of the goals table.
pub(super) struct Goal {
    /// What is measured.
    pub(super) name: String,
    /// The goal.
    pub(super) target: String,
    /// The measured figure.
    pub(super) measured: String,
    /// Whether the figure meets the goal.
    pub(super) verdict: Verdict,
}

/// The median of `pick` over `runs`.
pub(super) fn median_of<T>(runs: &[T], pick: impl Fn(&T) -> f64) -> f64 {
    let values: Vec<f64> = runs.iter().map(pick).collect();
    median(&values).unwrap_or(f64::NAN)
}

/// The runs of endpoint `key` (e.g. `get-flow`), if it was measured.
pub(super) fn endpoint<'a>(throughput: &'a Throughput, key: &str) -> Option<&'a Endpoint> {
    throughput
        .endpoints
        .iter()
        .find(|endpoint| endpoint.key == key)
}

/// Per-flow growth of the resident size between consecutive checkpoints,
/// from the baseline, in bytes per flow.
pub fn growth_per_flow(memory: &Memory) -> Vec<f64> {
    let mut previous = (0usize, memory.baseline_bytes);
    let mut slopes = Vec::new();
    for checkpoint in &memory.checkpoints {
        let flows = checkpoint.flows.saturating_sub(previous.0);
        if flows > 0 {
            let bytes = checkpoint.resident_bytes as f64 - previous.1 as f64;
            slopes.push(bytes / flows as f64);
        }
        previous = (checkpoint.flows, checkpoint.resident_bytes);
    }
    slopes
}

/// Whether growth is linear: every segment's per-flow growth within 25 % of
/// the overall per-flow growth. Returns the largest deviation.
pub fn linearity(memory: &Memory) -> Option<f64> {
    let last = memory.checkpoints.last()?;
    let overall =
        (last.resident_bytes as f64 - memory.baseline_bytes as f64) / last.flows.max(1) as f64;
    growth_per_flow(memory)
        .into_iter()
        .map(|slope| (slope / overall - 1.0).abs())
        .reduce(f64::max)
}

/// `(RSS growth over the baseline) / stored JSON` at the last checkpoint.
pub fn memory_factor(memory: &Memory) -> Option<f64> {
    let last = memory.checkpoints.last()?;
    ratio(
        last.resident_bytes as f64 - memory.baseline_bytes as f64,
        last.stored_json_bytes as f64,
    )
}

/// Every goal, judged on `results`, in the order of the report.
pub(super) fn goals(results: &Results) -> Vec<Goal> {
    let mut goals = Vec::new();
    let unknown = |error: Option<&String>| {
        Verdict::Unknown(error.cloned().unwrap_or_else(|| "section skipped".into()))
    };

    let client = results.client.as_ref();
    for (name, pick) in [
        ("client per call: get one flow", 0),
        ("client per call: list 100 flows", 1),
    ] {
        let (measured, verdict) = match client {
            Some(Ok(figures)) => {
                let paired = if pick == 0 {
                    &figures.overhead.get_flow
                } else {
                    &figures.overhead.list_flows
                };
                let value = paired_ratio(&paired.client_us, &paired.raw_us);
                (
                    times(value),
                    value.map_or(Verdict::Unknown("no rounds".into()), |v| at_most(v, 1.10)),
                )
            }
            other => ("–".into(), unknown(other.and_then(|r| r.as_ref().err()))),
        };
        goals.push(Goal {
            name: name.into(),
            target: "≤ 1.10× hand-written reqwest + serde".into(),
            measured,
            verdict,
        });
    }
    let (measured, verdict) = match client {
        Some(Ok(figures)) => {
            let d = &figures.decoding;
            let value = paired_ratio(&d.client_ms, &d.typed_ms);
            (
                times(value),
                value.map_or(Verdict::Unknown("no rounds".into()), |v| at_most(v, 1.2)),
            )
        }
        other => ("–".into(), unknown(other.and_then(|r| r.as_ref().err()))),
    };
    goals.push(Goal {
        name: "client decoding: 10,000 flows".into(),
        target: "≤ 1.2× `serde_json::from_slice` into the same types".into(),
        measured,
        verdict,
    });

    let throughput = results.throughput.as_ref();
    let single = match throughput {
        Some(Ok(t)) => endpoint(t, "get-flow").map(|e| e.runs.as_slice()),
        _ => None,
    };
    let throughput_error = || unknown(throughput.and_then(|r| r.as_ref().err()));
    let (measured, verdict) = match single {
        Some(runs) => {
            let rps = median_of(runs, |r| r.requests_per_second);
            (format!("{} req/s", thousands(rps)), at_least(rps, 20_000.0))
        }
        None => ("–".into(), throughput_error()),
    };
    goals.push(Goal {
        name: "server: single-flow read throughput".into(),
        target: "≥ 20,000 req/s on 2 cores".into(),
        measured,
        verdict,
    });
    let (measured, verdict) = match single {
        Some(runs) => {
            let p99 = median_of(runs, |r| r.p99_us as f64);
            (
                format!("{} ms", millis_from_us(p99)),
                if p99 < 5_000.0 {
                    Verdict::Met
                } else {
                    at_most(p99, 5_000.0)
                },
            )
        }
        None => ("–".into(), throughput_error()),
    };
    goals.push(Goal {
        name: "server: single-flow read p99".into(),
        target: "< 5 ms".into(),
        measured,
        verdict,
    });

    let memory = results.memory.as_ref();
    let memory_error = || unknown(memory.and_then(|r| r.as_ref().err()));
    let (measured, verdict) = match memory {
        Some(Ok(m)) => match linearity(m) {
            Some(deviation) => (
                format!(
                    "per-flow growth within {} % of its mean",
                    percent(deviation)
                ),
                at_most(deviation, 0.25),
            ),
            None => ("–".into(), Verdict::Unknown("no checkpoints".into())),
        },
        _ => ("–".into(), memory_error()),
    };
    goals.push(Goal {
        name: "server: memory grows linearly".into(),
        target: "each segment's growth per flow within 25 % of the mean".into(),
        measured,
        verdict,
    });
    let (measured, verdict) = match memory {
        Some(Ok(m)) => match memory_factor(m) {
            Some(factor) => (
                format!("{factor:.2}× the stored JSON"),
                at_most(factor, 2.0),
            ),
            None => ("–".into(), Verdict::Unknown("no checkpoints".into())),
        },
        _ => ("–".into(), memory_error()),
    };
    goals.push(Goal {
        name: "server: memory at 100,000 flows".into(),
        target: "≤ 2× the size of the stored JSON".into(),
        measured,
        verdict,
    });

    let (measured, verdict) = match results.concurrency.as_ref() {
        Some(Ok(c)) => (
            format!(
                "{} lost, {} torn, {} phantom, {} stale reads, {} errors",
                c.records.lost.len() + c.flows.lost.len(),
                c.records.torn.len() + c.flows.torn.len(),
                c.records.phantom.len() + c.flows.phantom.len(),
                c.stale_reads,
                c.errors
            ),
            if c.is_clean() {
                Verdict::Met
            } else {
                Verdict::Missed("see the many-writers table".into())
            },
        ),
        other => ("–".into(), unknown(other.and_then(|r| r.as_ref().err()))),
    };
    goals.push(Goal {
        name: "server: 64 writers at once".into(),
        target: "no lost or torn write, no error".into(),
        measured,
        verdict,
    });

    let (measured, verdict) = match results.harness.as_ref() {
        Some(Ok(h)) => match harness_ratio(h) {
            Some(value) => (format!("{value:.2} of the ceiling"), at_least(value, 0.5)),
            None => (
                "–".into(),
                Verdict::Unknown(
                    h.replay_error
                        .clone()
                        .or_else(|| h.ceiling_error.clone())
                        .unwrap_or_else(|| "no request rate".into()),
                ),
            ),
        },
        other => ("–".into(), unknown(other.and_then(|r| r.as_ref().err()))),
    };
    goals.push(Goal {
        name: "harness: standard profile, requests/s".into(),
        target: "≥ ½ the loopback ceiling (its own requests sent again to a server process, \
                 one connection)"
            .into(),
        measured,
        verdict,
    });
    goals
}

/// The median requests/s of the harness's own requests sent again, if
/// they were.
pub(super) fn replay_ceiling(harness: &HarnessFigures) -> Option<f64> {
    (!harness.replays.is_empty()).then(|| median_of(&harness.replays, |r| r.requests_per_second))
}

/// The harness's median requests/s against server processes, if it ran so.
pub(super) fn process_rate(harness: &HarnessFigures) -> Option<f64> {
    let rates: Vec<f64> = harness
        .process_runs
        .iter()
        .filter_map(|run| run.requests_per_second)
        .collect();
    median(&rates)
}

/// The harness's median requests/s over the ceiling's. With a replay of its
/// own requests, both sides run against a fresh server process each and the
/// goal compares like with like; without one, the embedded runs are set
/// against the method mix over one connection.
pub(super) fn harness_ratio(harness: &HarnessFigures) -> Option<f64> {
    if let (Some(process), Some(ceiling)) = (process_rate(harness), replay_ceiling(harness)) {
        return ratio(process, ceiling);
    }
    let rates: Vec<f64> = harness
        .runs
        .iter()
        .filter_map(|run| run.requests_per_second)
        .collect();
    let level = harness
        .ceiling
        .as_ref()?
        .levels
        .iter()
        .find(|level| level.connections == 1)?;
    ratio(
        median(&rates)?,
        median_of(&level.runs, |r| r.requests_per_second),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::load::memory::Checkpoint;

    #[test]
    fn goals_say_by_how_much_they_are_missed() {
        assert_eq!(at_most(1.05, 1.10), Verdict::Met);
        assert_eq!(at_most(1.32, 1.10), Verdict::Missed("20 % over".into()));
        assert_eq!(at_most(1.1011, 1.10), Verdict::Missed("0.1 % over".into()));
        assert_eq!(
            at_least(15_000.0, 20_000.0),
            Verdict::Missed("25 % short".into())
        );
        assert_eq!(at_least(25_000.0, 20_000.0), Verdict::Met);
    }

    fn memory(points: &[(usize, u64)]) -> Memory {
        Memory {
            baseline_bytes: 1_000,
            checkpoints: points
                .iter()
                .map(|&(flows, resident_bytes)| Checkpoint {
                    flows,
                    resident_bytes,
                    stored_json_bytes: flows as u64 * 10,
                })
                .collect(),
            load_seconds: 1.0,
        }
    }

    #[test]
    fn linear_growth_has_no_deviation() {
        let m = memory(&[(10, 1_200), (50, 2_000), (100, 3_000)]);

        assert_eq!(growth_per_flow(&m), vec![20.0, 20.0, 20.0]);
        assert_eq!(linearity(&m), Some(0.0));
        assert_eq!(memory_factor(&m), Some(2.0));
    }

    #[test]
    fn growth_that_bends_is_not_linear() {
        let m = memory(&[(10, 1_200), (50, 2_000), (100, 6_000)]);

        assert!(linearity(&m).unwrap() > 0.25);
    }
}
