//! Model-based testing: generated sequences of operations, checked step by
//! step against a reference model of the server's state.
//!
//! [`state`] is the model (written from the spec's descriptions only),
//! [`machine`] turns it into a `proptest-state-machine` reference machine
//! that generates sequences, [`driver`] sends each step to the server and
//! compares what it shows with the model after every step, [`runner`]
//! drives proptest's runner and shrinks a failure to a minimal sequence, and
//! [`bridge`] lets that synchronous runner have its cases run through the
//! run's asynchronous session. [`oracle`] holds the query semantics
//! (`pattern`, `filter`, `sort`, `projection`) that the properties compare
//! servers with, and [`text`] the hard strings both send.
//!
//! The phase ([`run`]) records every check under its property name and the
//! operation it concerns; a failure carries its reproduction (the failure's
//! `reproduction` field): the seed, the shrunk sequence as numbered steps
//! with a `curl` command each, and the path of the saved case that
//! `appmixer-conformance replay` runs again.

pub mod bridge;
pub mod driver;
pub mod machine;
pub mod oracle;
pub mod runner;
pub mod state;
pub mod text;

use std::path::PathBuf;

use crate::checks::{CheckKind, Outcome};
use crate::model::bridge::Stop;
use crate::model::runner::{Plan, Verdict};
use crate::replay::{SavedCase, ServerKind};
use crate::session::{Abort, Session, Step};

/// What the model phase needs besides the session.
#[derive(Debug, Clone)]
pub struct Phase {
    /// The seed of the sequences.
    pub seed: u64,
    /// How many sequences.
    pub cases: u32,
    /// The longest sequence.
    pub steps: u32,
    /// Where failing cases are saved.
    pub save_failures: PathBuf,
    /// Which kind of server is checked.
    pub server: ServerKind,
    /// The SHA-256 of the spec the run checks against.
    pub spec_sha256: String,
}

/// Runs the model's cases and records what they found.
pub async fn run(session: &mut Session, phase: &Phase) -> Step<()> {
    let plan = Plan {
        seed: phase.seed,
        cases: phase.cases,
        steps: phase.steps,
        tag: session.tag.clone(),
        email: session.email(),
    };
    tracing::info!(
        seed = plan.seed,
        cases = plan.cases,
        steps = plan.steps,
        "model: generating sequences"
    );
    let worker_plan = plan.clone();
    let verdict: Verdict =
        bridge::serve(session, move |http| runner::run(&http, &worker_plan)).await;
    tracing::info!(
        cases = verdict.cases_run,
        checks = verdict.checks.len(),
        failed = verdict.counterexample.is_some(),
        "model: done"
    );

    for check in &verdict.checks {
        session
            .results
            .record_pass(&check.operation, CheckKind::Semantics);
    }

    if let Some(counterexample) = &verdict.counterexample {
        let saved = SavedCase::of(phase, counterexample);
        let (path, not_saved) = match saved.save(&phase.save_failures) {
            Ok(path) => (Some(path.display().to_string()), None),
            Err(error) => {
                let dir = phase.save_failures.display();
                tracing::warn!(%error, "the failing case could not be saved to {dir}");
                let note = format!(
                    "not saved: cannot write the case to {dir} ({error}); \
                     give `--save-failures` a writable directory\n"
                );
                (None, Some(note))
            }
        };
        let mut reproduction = runner::reproduction(counterexample, phase.seed, path.as_deref());
        if let Some(note) = not_saved {
            reproduction.insert_str(0, &note);
        }
        let mismatch = &counterexample.mismatch;
        session.results.record_reproducible(
            Outcome {
                operation: mismatch.operation.clone(),
                kind: CheckKind::Semantics,
                expectation: mismatch.expectation.to_string(),
                mismatch: Some((
                    format!("after step {}: {}", mismatch.step + 1, mismatch.expected),
                    mismatch.actual.clone(),
                )),
            },
            mismatch.exchange.as_ref(),
            reproduction,
        );
    }

    match verdict.stop {
        None | Some(Stop::Closed) | Some(Stop::ReadOnly) => Ok(()),
        Some(Stop::Budget(reason)) => Err(Abort::Budget(reason)),
        Some(Stop::Network(reason)) | Some(Stop::NotInSpec(reason)) => {
            session.results.record(
                Outcome {
                    operation: "model".into(),
                    kind: CheckKind::Semantics,
                    expectation: "model.runs".into(),
                    mismatch: Some(("every step answered".into(), reason)),
                },
                None,
            );
            Err(Abort::Step)
        }
    }
}
