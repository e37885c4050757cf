//! `cargo xtask faults [--budget small|full]`: how many planted faults the
//! conformance harness catches.
//!
//! A harness that passes a correct server proves nothing by itself. This
//! benchmark builds the reference server and the harness (debug profile,
//! the workspace's `target/`), then runs them as separate processes on
//! 127.0.0.1:
//! 1. the clean server five times, with five seeds: every run must pass;
//! 2. each fault of `appmixer-reference --list-faults` alone, with the same
//!    harness options and a fixed seed;
//! 3. for each fault whose own property failed, the proof that the failure
//!    is the fault's: the saved case replayed against a clean server when
//!    the harness saved one, else the clean run with the same seed and
//!    options, which must not have failed that property.
//!
//! It prints the matrix, writes it to `docs/faults.md` and
//! `docs/faults.json`, and exits non-zero when a clean run failed or a fault
//! was missed. Every process it starts is killed at the end, also on error
//! or Ctrl-C. Each run's server log, harness output and report are kept
//! under `target/faults/<budget>/`.

mod harness;
mod matrix;
mod process;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use appmixer_reference::Fault;
use futures::StreamExt as _;
use serde_json::Value;

use harness::{Capabilities, Source, Verdicts};
use matrix::{Benchmark, CleanRow, Confirmation, FaultRow, Verdict};
use process::{Ended, Server};

/// The seeds of the clean runs; the first is also the fault runs' seed.
const CLEAN_SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

/// How much each harness run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Budget {
    /// What CI runs: the whole benchmark well under 5 minutes.
    Small,
    /// The standard budget: the whole benchmark under 10 minutes.
    Full,
}

impl Budget {
    /// The budget's name.
    pub fn name(self) -> &'static str {
        match self {
            Budget::Small => "small",
            Budget::Full => "full",
        }
    }

    /// Generated descriptor cases and model steps per run.
    pub fn sizes(self) -> (u32, u32) {
        match self {
            Budget::Small => (4, 60),
            Budget::Full => (32, 400),
        }
    }

    /// How long one harness run may take before it counts as broken.
    fn deadline(self) -> Duration {
        match self {
            Budget::Small => Duration::from_secs(120),
            Budget::Full => Duration::from_secs(240),
        }
    }
}

/// Options of `cargo xtask faults`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How much each harness run does: `small` (CI) or `full`.
    #[arg(long, value_enum, default_value_t = Budget::Small)]
    pub budget: Budget,

    /// How many runs go at once (each is a server and a harness).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub jobs: u8,

    /// Only this fault (repeatable); every fault by default.
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<Fault>,

    /// Where `faults.md` and `faults.json` are written, relative to the
    /// workspace root.
    #[arg(long, value_name = "DIR", default_value = "docs")]
    pub out: PathBuf,
}

/// Runs the benchmark on the workspace at `root`.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let binaries = build(root)?;
    let capabilities = Capabilities::probe(&binaries.harness)?;
    if !capabilities.json_report {
        eprintln!(
            "note: the harness has no `--report json=PATH`; verdicts are read from its text summary"
        );
    }
    let faults: Vec<Fault> = if args.faults.is_empty() {
        Fault::ALL.to_vec()
    } else {
        args.faults.clone()
    };
    let work = binaries.target_dir.join("faults").join(args.budget.name());
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clear `{}`", work.display()))?;
    }
    let bench = Bench {
        binaries,
        capabilities,
        budget: args.budget,
        work,
        jobs: usize::from(args.jobs),
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = bench.run(&faults, started) => outcome,
            interrupted = tokio::signal::ctrl_c() => {
                interrupted.context("cannot wait for Ctrl-C")?;
                bail!("interrupted (Ctrl-C); every server and harness started was killed")
            }
        }
    });
    // Dropping the runtime drops every task still holding a child, which
    // kills it (`kill_on_drop`).
    runtime.shutdown_timeout(Duration::from_secs(5));
    let benchmark = outcome?;

    print!("{}", matrix::table(&benchmark));
    let out = root.join(&args.out);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create `{}`", out.display()))?;
    let md = out.join("faults.md");
    std::fs::write(&md, matrix::markdown(&benchmark))
        .with_context(|| format!("cannot write `{}`", md.display()))?;
    let json = out.join("faults.json");
    let mut text = serde_json::to_string_pretty(&matrix::json(&benchmark))?;
    text.push('\n');
    std::fs::write(&json, text).with_context(|| format!("cannot write `{}`", json.display()))?;
    println!("wrote {} and {}", md.display(), json.display());
    Ok(if benchmark.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The two binaries the benchmark runs.
struct Binaries {
    reference: PathBuf,
    harness: PathBuf,
    target_dir: PathBuf,
}

/// Builds both binaries and finds them in cargo's own report of what it built.
fn build(root: &Path) -> anyhow::Result<Binaries> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building appmixer-reference and appmixer-conformance (debug)…");
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--package",
            "appmixer-reference",
            "--package",
            "appmixer-conformance",
            "--bins",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run `cargo build`")?;
    anyhow::ensure!(
        output.status.success(),
        "`cargo build` of the reference server and the harness failed; see above"
    );
    let mut reference = None;
    let mut harness = None;
    let mut target_dir = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(executable) = message.get("executable").and_then(Value::as_str) else {
            continue;
        };
        let path = PathBuf::from(executable);
        match message.pointer("/target/name").and_then(Value::as_str) {
            Some("appmixer-reference") => reference = Some(path),
            Some("appmixer-conformance") => harness = Some(path),
            _ => continue,
        }
        // `target/debug/NAME`: the target directory is two levels up.
        target_dir = Path::new(executable)
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
    }
    match (reference, harness, target_dir) {
        (Some(reference), Some(harness), Some(target_dir)) => Ok(Binaries {
            reference,
            harness,
            target_dir,
        }),
        _ => bail!("`cargo build` did not report both binaries; is the workspace intact?"),
    }
}

/// Everything the runs share.
struct Bench {
    binaries: Binaries,
    capabilities: Capabilities,
    budget: Budget,
    work: PathBuf,
    jobs: usize,
}

/// What one harness run against one server found.
struct RunOutcome {
    ended: Ended,
    verdicts: Verdicts,
    fired: Option<(u64, String, f64)>,
    saved: Vec<harness::SavedCase>,
    seconds: f64,
}

impl Bench {
    async fn run(&self, faults: &[Fault], started: Instant) -> anyhow::Result<Benchmark> {
        let fault_seed = CLEAN_SEEDS[0];
        eprintln!(
            "clean server: {} runs (seeds {CLEAN_SEEDS:?}), {} at a time",
            CLEAN_SEEDS.len(),
            self.jobs
        );
        let clean: Vec<anyhow::Result<(u64, RunOutcome)>> =
            futures::stream::iter(CLEAN_SEEDS.map(|seed| async move {
                let outcome = self.run_once(&format!("clean-{seed}"), None, seed).await?;
                eprintln!("  clean seed {seed}: exit {:?}", outcome.ended);
                Ok((seed, outcome))
            }))
            .buffered(self.jobs)
            .collect()
            .await;
        let clean: Vec<(u64, RunOutcome)> = clean.into_iter().collect::<anyhow::Result<_>>()?;

        eprintln!(
            "faults: {} runs (seed {fault_seed}), {} at a time",
            faults.len(),
            self.jobs
        );
        let runs: Vec<anyhow::Result<(Fault, RunOutcome)>> =
            futures::stream::iter(faults.iter().map(|&fault| async move {
                let outcome = self.run_once(fault.name(), Some(fault), fault_seed).await?;
                Ok((fault, outcome))
            }))
            .buffered(self.jobs)
            .collect()
            .await;
        let mut rows = Vec::new();
        for run in runs {
            let (fault, outcome) = run?;
            let clean_run = clean
                .iter()
                .find(|(seed, _)| *seed == fault_seed)
                .map(|(_, outcome)| outcome);
            let row = self.judge(fault, outcome, clean_run, fault_seed).await?;
            eprintln!("  {}: {}", fault.name(), row.verdict.word());
            rows.push(row);
        }

        Ok(Benchmark {
            budget: self.budget.name().to_owned(),
            options: self.capabilities.budget_args(self.budget),
            source: if self.capabilities.json_report {
                Source::Json.name()
            } else {
                Source::Text.name()
            },
            fault_seed,
            clean: clean
                .into_iter()
                .map(|(seed, outcome)| CleanRow {
                    seed,
                    exit: match outcome.ended {
                        Ended::Exited(code) => code,
                        Ended::TimedOut => None,
                    },
                    failed: outcome.verdicts.failed_expectations().into_iter().collect(),
                    requests: outcome.verdicts.requests,
                    seconds: outcome.seconds,
                })
                .collect(),
            faults: rows,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Runs the harness once against a fresh server with `fault` on (or none).
    async fn run_once(
        &self,
        name: &str,
        fault: Option<Fault>,
        seed: u64,
    ) -> anyhow::Result<RunOutcome> {
        let dir = self.work.join(name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let names: Vec<&str> = fault.iter().map(|fault| fault.name()).collect();
        let server =
            Server::start(&self.binaries.reference, &names, dir.join("server.log")).await?;
        let report = dir.join("report.json");
        let failures = dir.join("failures");
        let args = self
            .capabilities
            .run_args(self.budget, seed, &server.url, &report, &failures);
        let started = Instant::now();
        let ended = process::run_command(
            &self.binaries.harness,
            &args,
            &dir.join("harness.out"),
            &dir.join("harness.err"),
            self.budget.deadline(),
        )
        .await?;
        let seconds = started.elapsed().as_secs_f64();
        let fired = server
            .fired()
            .into_iter()
            .find(|fired| Some(fired.fault.as_str()) == fault.map(Fault::name))
            .map(|fired| {
                let after = fired.at.saturating_duration_since(started);
                (fired.request, fired.route, after.as_secs_f64())
            });
        server.stop().await;

        let verdicts = if self.capabilities.json_report && report.exists() {
            let text = std::fs::read_to_string(&report)
                .with_context(|| format!("cannot read `{}`", report.display()))?;
            harness::parse_json(&text).with_context(|| format!("in `{}`", report.display()))?
        } else {
            let text = std::fs::read_to_string(dir.join("harness.out")).unwrap_or_default();
            harness::parse_text(&text)
        };
        Ok(RunOutcome {
            ended,
            verdicts,
            fired,
            saved: harness::saved_cases(&failures),
            seconds,
        })
    }

    /// Decides whether `outcome`, the run with `fault` on, caught it.
    async fn judge(
        &self,
        fault: Fault,
        outcome: RunOutcome,
        clean: Option<&RunOutcome>,
        seed: u64,
    ) -> anyhow::Result<FaultRow> {
        let property = fault.info().property;
        let failed: Vec<String> = outcome.verdicts.failed_expectations().into_iter().collect();
        let own = failed
            .iter()
            .any(|expectation| is_property(expectation, property));
        let saved = outcome
            .saved
            .iter()
            .filter(|case| is_property(&case.expectation, property))
            .min_by_key(|case| case.steps);
        let broken = match outcome.ended {
            Ended::TimedOut => Some("the harness ran out of time".to_owned()),
            Ended::Exited(Some(2)) => Some(
                "the harness exited 2 (usage, spec or connection error); see harness.err".into(),
            ),
            Ended::Exited(None) => Some("the harness was killed by a signal".into()),
            Ended::Exited(Some(_)) => None,
        };

        let replayed = match saved {
            Some(case) if own && self.capabilities.replay => self.replay(fault, &case.path).await?,
            _ => Replayed::Unusable,
        };
        let clean_fails = clean.is_none_or(|clean| {
            clean
                .verdicts
                .failures
                .iter()
                .any(|failure| is_property(&failure.expectation, property))
        });
        let (verdict, confirmed) = decide(own, broken, replayed, clean_fails, seed);
        let caught = outcome
            .verdicts
            .first_failure(|expectation| is_property(expectation, property));
        Ok(FaultRow {
            fault,
            verdict,
            confirmed,
            failed,
            exit: match outcome.ended {
                Ended::Exited(code) => code,
                Ended::TimedOut => None,
            },
            shrunk_steps: saved.map(|case| case.steps),
            fired_at_request: outcome.fired.as_ref().map(|(request, _, _)| *request),
            fired_route: outcome.fired.as_ref().map(|(_, route, _)| route.clone()),
            fired_after: outcome.fired.as_ref().map(|(_, _, after)| *after),
            caught_at_request: caught.and_then(|failure| failure.request),
            caught_after: caught
                .and_then(|failure| failure.elapsed_ms)
                .map(|ms| ms as f64 / 1000.0),
            requests: outcome.verdicts.requests,
            seconds: outcome.seconds,
        })
    }

    /// Replays a saved case against a fresh clean server.
    async fn replay(&self, fault: Fault, case: &Path) -> anyhow::Result<Replayed> {
        let dir = self.work.join(fault.name());
        let server =
            Server::start(&self.binaries.reference, &[], dir.join("replay-server.log")).await?;
        let args = self.capabilities.replay_args(case, &server.url);
        let ended = process::run_command(
            &self.binaries.harness,
            &args,
            &dir.join("replay.out"),
            &dir.join("replay.err"),
            self.budget.deadline(),
        )
        .await?;
        server.stop().await;
        Ok(match ended {
            Ended::Exited(Some(0)) => Replayed::Passed,
            Ended::Exited(Some(1)) => Replayed::Failed,
            // A usage error or a timeout says nothing about the case.
            _ => Replayed::Unusable,
        })
    }
}

/// The verdict on a fault: did its own property fail (`own`), did the run
/// break, and did the failure pass on a clean server, by replay or in the
/// clean run with the same `seed` (`clean_fails`: it failed there too)?
fn decide(
    own: bool,
    broken: Option<String>,
    replayed: Replayed,
    clean_fails: bool,
    seed: u64,
) -> (Verdict, Option<Confirmation>) {
    match (own, broken, replayed) {
        (false, Some(reason), _) => (Verdict::Broken(reason), None),
        (false, None, _) => (Verdict::Missed, None),
        (true, _, Replayed::Passed) => (Verdict::Caught, Some(Confirmation::Replay)),
        (true, _, Replayed::Failed) => (Verdict::FalseAlarm, None),
        // Without a usable saved case, the clean run with the same seed and
        // options is the same reproduction.
        (true, _, Replayed::Unusable) if clean_fails => (Verdict::FalseAlarm, None),
        (true, _, Replayed::Unusable) => (Verdict::Caught, Some(Confirmation::CleanRun(seed))),
    }
}

/// How a saved case fared against a clean server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replayed {
    /// Every step passed: the failure was the fault's.
    Passed,
    /// It fails on a clean server too.
    Failed,
    /// No case to replay, or the replay could not run.
    Unusable,
}

/// Whether a reported `expectation` is `property` or one of its cases
/// (`property.something`).
fn is_property(expectation: &str, property: &str) -> bool {
    expectation == property
        || expectation
            .strip_prefix(property)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_property_matches_itself_and_its_cases_only() {
        assert!(is_property(
            "flows.count-matches-list",
            "flows.count-matches-list"
        ));
        assert!(is_property("isolation.lists.getStores", "isolation.lists"));
        assert!(!is_property(
            "flows.count-matches-list-too",
            "flows.count-matches-list"
        ));
        assert!(!is_property("flows.count", "flows.count-matches-list"));
    }

    #[test]
    fn a_catch_needs_the_own_property_and_a_clean_pass() {
        let caught = decide(true, None, Replayed::Unusable, false, 1);
        let replayed = decide(true, None, Replayed::Passed, true, 1);
        let clean_too = decide(true, None, Replayed::Unusable, true, 1);
        let replay_fails = decide(true, None, Replayed::Failed, false, 1);
        let missed = decide(false, None, Replayed::Unusable, false, 1);
        let broken = decide(
            false,
            Some("timed out".into()),
            Replayed::Unusable,
            false,
            1,
        );

        assert_eq!(caught, (Verdict::Caught, Some(Confirmation::CleanRun(1))));
        assert_eq!(replayed, (Verdict::Caught, Some(Confirmation::Replay)));
        assert_eq!(clean_too.0, Verdict::FalseAlarm);
        assert_eq!(replay_fails.0, Verdict::FalseAlarm);
        assert_eq!(missed.0, Verdict::Missed);
        assert_eq!(broken.0, Verdict::Broken("timed out".into()));
    }

    #[test]
    fn the_small_budget_is_smaller_than_the_full_one() {
        let (small_cases, small_steps) = Budget::Small.sizes();
        let (full_cases, full_steps) = Budget::Full.sizes();

        assert!(small_cases < full_cases && small_steps < full_steps);
        assert!(Budget::Small.deadline() <= Budget::Full.deadline());
    }
}
