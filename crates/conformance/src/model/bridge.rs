//! Runs the model's cases, asked for from a synchronous thread, through the
//! run's asynchronous session.
//!
//! proptest's runner is synchronous: it calls the test once per case and
//! again and again while it shrinks a failure. The requests must still go
//! through the run's one [`Session`] (its transport counts them against the
//! budget, applies the guards and keeps the token), and that session lives
//! on the async side, borrowed by the run. So the runner runs inside
//! [`tokio::task::spawn_blocking`], and each case it wants run travels to
//! the async side over a channel; the async side runs the whole case with a
//! [`Driver`] on the session (every step, every read that checks it, the
//! teardown) and hands back what it found. Handing work from thread to
//! thread costs more than many a request, so it happens once per case, not
//! once per request. Nothing needs `'static` access to the session, and the
//! embedded server keeps being driven by the runtime while the runner
//! blocks. If the run is dropped (Ctrl-C, SIGTERM) the channel closes: the
//! runner sees it ([`Http::is_closed`]) and stops drawing at its next step,
//! so no thread is left busy after the run is over.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use tokio::sync::{mpsc, oneshot};

use crate::model::driver::{CaseError, Check, Driver, StepTrace};
use crate::model::state::Step;
use crate::session::Session;
use crate::transport::TransportError;

/// Why the model cannot go on at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A guard stopped the run (the request budget, a failure streak).
    Budget(String),
    /// `--read-only` refuses the model's writes; nothing was sent.
    ReadOnly,
    /// A request got no answer.
    Network(String),
    /// The harness built a call the spec does not declare.
    NotInSpec(String),
    /// The run was dropped (interrupted).
    Closed,
}

/// Why a call the model sent produced no exchange, as the model sees it.
pub fn stop_of(error: TransportError) -> Stop {
    match error {
        error @ (TransportError::Budget { .. }
        | TransportError::FailureStreak { .. }
        | TransportError::RetryAfter { .. }) => Stop::Budget(error.to_string()),
        TransportError::ReadOnly { .. } => Stop::ReadOnly,
        error @ (TransportError::Network { .. } | TransportError::BodyTooLarge { .. }) => {
            Stop::Network(error.to_string())
        }
        error @ TransportError::NotInSpec { .. } => Stop::NotInSpec(error.to_string()),
    }
}

/// What running one case found.
#[derive(Debug)]
pub struct CaseRun {
    /// Whether every check held, or the first mismatch, or why it stopped.
    pub outcome: Result<(), CaseError>,
    /// The checks that held, in order.
    pub checks: Vec<Check>,
    /// The steps executed and the requests that carried them out.
    pub trace: Vec<StepTrace>,
}

/// One case for the async side to run.
struct Order {
    case: String,
    email: String,
    checked: bool,
    steps: Vec<Step>,
    seen: Option<Arc<AtomicUsize>>,
    reply: oneshot::Sender<CaseRun>,
}

/// The synchronous side's handle on the session.
#[derive(Debug, Clone)]
pub struct Http {
    orders: mpsc::Sender<Order>,
}

impl Http {
    /// Runs `steps` as the case tagged `case`, acting as the user `email`,
    /// and waits for what it found; `seen`, when given, counts the steps
    /// run. A `checked` case's exchanges are also checked against the spec
    /// and counted in the report; shrinking runs its repeats unchecked so
    /// that one fault is not reported a hundred times.
    pub fn run_case(
        &self,
        case: String,
        email: String,
        checked: bool,
        steps: Vec<Step>,
        seen: Option<Arc<AtomicUsize>>,
    ) -> CaseRun {
        let closed = || CaseRun {
            outcome: Err(CaseError::Stop(Stop::Closed)),
            checks: Vec::new(),
            trace: Vec::new(),
        };
        let (reply, answer) = oneshot::channel();
        let order = Order {
            case,
            email,
            checked,
            steps,
            seen,
            reply,
        };
        if self.orders.blocking_send(order).is_err() {
            return closed();
        }
        answer.blocking_recv().unwrap_or_else(|_| closed())
    }

    /// Whether the async side is gone: the run is over and runs no more cases.
    pub fn is_closed(&self) -> bool {
        self.orders.is_closed()
    }
}

/// Runs `work` on a blocking thread, running the cases it asks for with
/// `session` until it returns.
pub async fn serve<T: Send + 'static>(
    session: &mut Session,
    work: impl FnOnce(Http) -> T + Send + 'static,
) -> T {
    let (orders, mut incoming) = mpsc::channel(1);
    let worker = tokio::task::spawn_blocking(move || work(Http { orders }));
    while let Some(order) = incoming.recv().await {
        let mut driver = Driver::new(session, order.case, order.email, order.checked);
        let outcome = driver.run_case(&order.steps, order.seen.as_deref()).await;
        let _ = order.reply.send(CaseRun {
            outcome,
            checks: driver.checks,
            trace: driver.trace,
        });
    }
    match worker.await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::runner::{self, Plan};

    #[test]
    fn a_runner_whose_run_is_over_stops_drawing_cases_at_once() {
        let (orders, incoming) = mpsc::channel(1);
        drop(incoming);
        let http = Http { orders };
        let plan = Plan {
            seed: 1,
            cases: crate::MAX_CASES,
            steps: crate::MAX_STEPS,
            tag: "amxc-00000000".into(),
            email: "amxc-00000000@example.com".into(),
        };
        let (done, verdict) = std::sync::mpsc::channel();

        // On a thread of its own, so that a runner that keeps drawing fails
        // the test instead of holding it up for hours.
        std::thread::spawn(move || {
            // The test may have given up waiting; then nobody reads this.
            let _ = done.send(runner::run(&http, &plan));
        });
        let verdict = verdict
            .recv_timeout(Duration::from_secs(20))
            .expect("the runner returns within 20 s of its run being over");

        assert_eq!(verdict.stop, Some(Stop::Closed));
        assert_eq!(verdict.cases_run, 0);
    }
}
