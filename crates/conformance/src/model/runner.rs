//! Generating cases, shrinking a failure, and telling how to reproduce it.
//!
//! proptest's [`TestRunner`], seeded from the run's seed, draws `cases`
//! sequences of at most `steps` steps from [`Machine`] and runs each through
//! a [`Driver`]. When one fails, the runner shrinks it: it keeps deleting and
//! simplifying steps (the preconditions keep every candidate possible) for as
//! long as the same fault (same operation and property) still shows. The
//! smallest sequence is then run once more with its exchanges checked, so
//! that the reported failure is one that was seen on its own, and described
//! step by step with a `curl` command for each request (secrets redacted).

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::rc::Rc;

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use proptest_state_machine::ReferenceStateMachine;

use crate::model::bridge::{Http, Stop};
use crate::model::driver::{CaseError, Check, Mismatch, StepTrace};
use crate::model::machine::{self, Machine};
use crate::model::state::Step;
use crate::redact;
use crate::transport::Exchange;

/// How many simplifications shrinking tries at most.
const MAX_SHRINK_ITERS: u32 = 400;

/// How long shrinking may take, in milliseconds, before the smallest
/// failure found so far is reported.
const MAX_SHRINK_MILLIS: u32 = 120_000;

/// What the model phase is asked to do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The seed; the same seed gives the same sequences.
    pub seed: u64,
    /// How many sequences to run.
    pub cases: u32,
    /// The longest sequence.
    pub steps: u32,
    /// The run tag, part of every case's tag.
    pub tag: String,
    /// The signed-in user's e-mail.
    pub email: String,
}

/// The smallest failing sequence found.
#[derive(Debug, Clone)]
pub struct Counterexample {
    /// The steps.
    pub steps: Vec<Step>,
    /// How many steps the first failing sequence had.
    pub original_length: usize,
    /// The failure.
    pub mismatch: Mismatch,
    /// What each step sent.
    pub trace: Vec<StepTrace>,
    /// Whether the final run of the steps showed the failure again.
    pub reproduced: bool,
}

/// What the model phase came to.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// Checks that held in passing cases (and in the counterexample's run
    /// before it failed).
    pub checks: Vec<Check>,
    /// How many cases ran to their end or failure.
    pub cases_run: u32,
    /// The counterexample, if a case failed.
    pub counterexample: Option<Counterexample>,
    /// Why the model stopped early, if it did.
    pub stop: Option<Stop>,
}

#[derive(Default)]
struct Progress {
    checks: Vec<Check>,
    cases_run: u32,
    fault: Option<(String, &'static str)>,
    original_length: usize,
    last: Option<(Mismatch, Vec<StepTrace>)>,
    stop: Option<Stop>,
    executions: u32,
}

/// The RNG of a run with `seed`.
pub fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// The runner's configuration: `cases` cases, no persistence, no forking
/// (whatever `PROPTEST_*` variables say), bounded shrinking.
pub fn config(cases: u32) -> Config {
    Config {
        cases: cases.max(1),
        max_shrink_iters: MAX_SHRINK_ITERS,
        max_shrink_time: MAX_SHRINK_MILLIS,
        max_global_rejects: 10_000,
        failure_persistence: None,
        fork: false,
        timeout: 0,
        verbose: 0,
        ..Config::default()
    }
}

fn case_tag(tag: &str, number: u32) -> String {
    format!("{tag}-m{number:05}")
}

/// Runs the model's cases against the server behind `http`.
///
/// Once a case stops (a guard, no answer) or the run is over (its session
/// closed the channel), no further step is drawn: proptest's runner gives up
/// at the next one instead of drawing the remaining cases for nothing.
pub fn run(http: &Http, plan: &Plan) -> Verdict {
    let progress = RefCell::new(Progress::default());
    let stopped = Rc::new(Cell::new(false));
    let over = {
        let (stopped, http) = (Rc::clone(&stopped), http.clone());
        move || stopped.get() || http.is_closed()
    };
    let _drawing = machine::draw_while({
        let over = over.clone();
        move || !over()
    });
    let mut runner = TestRunner::new_with_rng(config(plan.cases), rng(plan.seed));
    let strategy = Machine::sequential_strategy(1..=plan.steps.max(1) as usize);

    let result = runner.run(&strategy, |(_, steps, seen)| {
        let (shrinking, number) = {
            let mut p = progress.borrow_mut();
            if p.stop.is_some() {
                return Ok(());
            }
            p.executions += 1;
            (p.fault.is_some(), p.executions)
        };
        let length = steps.len();
        let run = http.run_case(
            case_tag(&plan.tag, number),
            plan.email.clone(),
            !shrinking,
            steps,
            seen,
        );
        let mut p = progress.borrow_mut();
        match run.outcome {
            Ok(()) => {
                if !shrinking {
                    p.cases_run += 1;
                    p.checks.extend(run.checks);
                }
                Ok(())
            }
            Err(CaseError::Stop(stop)) => {
                p.stop = Some(stop);
                stopped.set(true);
                Ok(())
            }
            Err(CaseError::Mismatch(mismatch)) => {
                let key = mismatch.key();
                match &p.fault {
                    None => {
                        p.cases_run += 1;
                        p.fault = Some(key);
                        p.original_length = length;
                    }
                    // Another fault is not a smaller case of this one.
                    Some(fault) if *fault != key => return Ok(()),
                    Some(_) => {}
                }
                let reason = format!("{}: {}", mismatch.expectation, mismatch.actual);
                p.last = Some((*mismatch, run.trace));
                Err(TestCaseError::fail(reason))
            }
        }
    });

    let mut progress = progress.into_inner();
    let mut verdict = Verdict {
        cases_run: progress.cases_run,
        stop: progress.stop.take(),
        ..Verdict::default()
    };
    if http.is_closed() {
        verdict.stop.get_or_insert(Stop::Closed);
    }
    match result {
        Ok(()) => {}
        Err(TestError::Abort(_)) if over() => {}
        Err(TestError::Abort(reason)) => {
            tracing::warn!(%reason, "the model's generator gave up");
        }
        Err(TestError::Fail(_, (_, steps, _))) => {
            let counterexample = confirm(http, plan, steps, &mut progress, &mut verdict.checks);
            verdict.counterexample = counterexample;
        }
    }
    verdict.checks.splice(0..0, progress.checks);
    verdict
}

/// Runs the smallest failing sequence once more, with its exchanges checked.
fn confirm(
    http: &Http,
    plan: &Plan,
    steps: Vec<Step>,
    progress: &mut Progress,
    checks: &mut Vec<Check>,
) -> Option<Counterexample> {
    let number = progress.executions + 1;
    let run = http.run_case(
        case_tag(&plan.tag, number),
        plan.email.clone(),
        true,
        steps.clone(),
        None,
    );
    let original_length = progress.original_length;
    match run.outcome {
        Err(CaseError::Mismatch(mismatch)) => {
            checks.extend(run.checks);
            Some(Counterexample {
                steps,
                original_length,
                mismatch: *mismatch,
                trace: run.trace,
                reproduced: true,
            })
        }
        Err(CaseError::Stop(stop)) => {
            progress.stop.get_or_insert(stop);
            last_seen(progress, steps, original_length)
        }
        Ok(()) => last_seen(progress, steps, original_length),
    }
}

fn last_seen(
    progress: &mut Progress,
    steps: Vec<Step>,
    original_length: usize,
) -> Option<Counterexample> {
    let (mismatch, trace) = progress.last.take()?;
    Some(Counterexample {
        steps,
        original_length,
        mismatch,
        trace,
        reproduced: false,
    })
}

/// `exchange` as a `curl` command line; secrets are already redacted in the
/// URL and headers, and are redacted in the body here.
pub fn curl(exchange: &Exchange) -> String {
    let mut line = format!(
        "curl -X {} {}",
        exchange.request.method,
        quote(&exchange.request.url)
    );
    for (name, value) in &exchange.request.headers {
        let _ = write!(line, " -H {}", quote(&format!("{name}: {value}")));
    }
    if let Some(body) = &exchange.request.body {
        let shown = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value) if !is_text_plain(exchange) => redact::json(&value).to_string(),
            _ => String::from_utf8_lossy(body).into_owned(),
        };
        let _ = write!(line, " --data-raw {}", quote(&shown));
    }
    line
}

fn is_text_plain(exchange: &Exchange) -> bool {
    exchange.request.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type") && value.starts_with("text/plain")
    })
}

/// `text` in single quotes for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The counterexample as numbered steps with their `curl` commands, and the
/// read that showed the failure.
pub fn reproduction(counterexample: &Counterexample, seed: u64, saved: Option<&str>) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "seed {seed}; shrunk from {} to {} steps{}",
        counterexample.original_length,
        counterexample.steps.len(),
        if counterexample.reproduced {
            ""
        } else {
            " (the last run of these steps did not fail again: the fault may be intermittent)"
        }
    );
    if let Some(path) = saved {
        let _ = writeln!(
            text,
            "saved to {path}; run it again with `appmixer-conformance replay {path}`"
        );
    }
    for (number, trace) in counterexample.trace.iter().enumerate() {
        let _ = writeln!(text, "{}. {}", number + 1, trace.description);
        for exchange in &trace.exchanges {
            let _ = writeln!(text, "   {}", curl(exchange));
            let _ = writeln!(text, "   -> {}", exchange.status());
        }
    }
    if let Some(exchange) = &counterexample.mismatch.exchange {
        let _ = writeln!(text, "then the read that shows it:");
        let _ = writeln!(text, "   {}", curl(exchange));
        let _ = writeln!(
            text,
            "   -> {} {}",
            exchange.status(),
            redact::body_preview(&exchange.response.body, 400)
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_single_quotes() {
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn case_tags_of_different_cases_are_not_substrings_of_each_other() {
        let first = case_tag("amxc-00000000", 1);
        let tenth = case_tag("amxc-00000000", 10);

        assert!(!tenth.contains(&first) && !first.contains(&tenth));
    }
}
