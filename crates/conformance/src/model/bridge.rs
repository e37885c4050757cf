//! Sends the model's requests from a synchronous thread through the run's
//! asynchronous session.
//!
//! proptest's runner is synchronous: it calls the test once per case and
//! again and again while it shrinks a failure. The requests must still go
//! through the run's one [`Session`] (its transport counts them against the
//! budget, applies the guards and keeps the token), and that session lives
//! on the async side, borrowed by the run. So the runner runs inside
//! [`tokio::task::spawn_blocking`], and each request travels to the async
//! side over a channel; the async side sends it with the session and hands
//! the exchange back. Nothing needs `'static` access to the session, the
//! embedded server keeps being driven by the runtime while the runner
//! blocks, and if the run is dropped (Ctrl-C) the channel closes and the
//! runner stops at its next request.

use tokio::sync::{mpsc, oneshot};

use crate::cleanup::Kind;
use crate::session::Session;
use crate::transport::{Call, Exchange, TransportError};

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

enum Request {
    Send {
        call: Call,
        checked: bool,
        reply: oneshot::Sender<Result<Exchange, TransportError>>,
    },
    Ledger {
        kind: Kind,
        id: String,
        created: bool,
    },
}

/// The synchronous side's handle on the session.
#[derive(Debug, Clone)]
pub struct Http {
    requests: mpsc::Sender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Send { call, .. } => write!(f, "Send({})", call.operation()),
            Request::Ledger { kind, .. } => write!(f, "Ledger({kind})"),
        }
    }
}

impl Http {
    /// Sends `call` and waits for its exchange. A `checked` exchange is also
    /// checked against the spec and counted in the report; shrinking sends
    /// its repeats unchecked so that one fault is not reported a hundred
    /// times.
    pub fn send(&self, call: Call, checked: bool) -> Result<Exchange, Stop> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .blocking_send(Request::Send {
                call,
                checked,
                reply,
            })
            .map_err(|_| Stop::Closed)?;
        match answer.blocking_recv().map_err(|_| Stop::Closed)? {
            Ok(exchange) => Ok(exchange),
            Err(error @ (TransportError::Budget { .. } | TransportError::FailureStreak { .. })) => {
                Err(Stop::Budget(error.to_string()))
            }
            Err(TransportError::ReadOnly { .. }) => Err(Stop::ReadOnly),
            Err(error @ (TransportError::Network { .. } | TransportError::BodyTooLarge { .. })) => {
                Err(Stop::Network(error.to_string()))
            }
            Err(error @ TransportError::NotInSpec { .. }) => {
                Err(Stop::NotInSpec(error.to_string()))
            }
        }
    }

    /// Tells the session's ledger that an object was created, so that
    /// cleanup removes it whatever happens to the model.
    pub fn created(&self, kind: Kind, id: &str) {
        self.ledger(kind, id, true);
    }

    /// Tells the session's ledger that an object is gone.
    pub fn deleted(&self, kind: Kind, id: &str) {
        self.ledger(kind, id, false);
    }

    fn ledger(&self, kind: Kind, id: &str, created: bool) {
        // A closed channel means the run is gone, and its ledger with it.
        let _ = self.requests.blocking_send(Request::Ledger {
            kind,
            id: id.to_string(),
            created,
        });
    }
}

/// Runs `work` on a blocking thread, serving its requests with `session`
/// until it returns.
pub async fn serve<T: Send + 'static>(
    session: &mut Session,
    work: impl FnOnce(Http) -> T + Send + 'static,
) -> T {
    let (requests, mut incoming) = mpsc::channel(1);
    let worker = tokio::task::spawn_blocking(move || work(Http { requests }));
    while let Some(request) = incoming.recv().await {
        match request {
            Request::Send {
                call,
                checked,
                reply,
            } => {
                let outcome = session.transport.send(call).await;
                if let (true, Ok(exchange)) = (checked, &outcome) {
                    session.check(exchange);
                }
                let _ = reply.send(outcome);
            }
            Request::Ledger { kind, id, created } if created => session.created(kind, &id),
            Request::Ledger { kind, id, .. } => session.deleted(kind, &id),
        }
    }
    match worker.await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}
