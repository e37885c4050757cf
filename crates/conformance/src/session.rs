//! The state a run carries from stage to stage.
//!
//! A [`Session`] owns the transport, the spec's validator, the verdicts so
//! far and the ledger of created objects. Scenarios call operations through
//! [`Session::call`], which checks every exchange against the spec on the
//! way back, and state what they expect with the `expect_*` methods, each
//! naming its expectation and the operation it is about. A step whose result
//! the rest of a scenario depends on uses the `require_*` methods, which
//! record the failure and stop that scenario with [`Abort::Step`].
//!
//! An expectation that does not hold because the server answered 401 to the
//! token of a user the run signed in is recorded as not checked rather than
//! failed ([`checks::inconclusive`]): such an answer is about the
//! credentials, not about the property; [`Results::record`] sees to it for
//! every stage. Each stage states what it means to check in
//! [`Session::plan`], so that the report can tell what never was.

use appmixer_spec::schema::Validator;
use serde_json::Value;

use crate::checks::{self, CheckKind, Outcome, Results, Unchecked};
use crate::cleanup::{Kind, Ledger};
use crate::compare;
use crate::redact;
use crate::report::Plan;
use crate::transport::{Call, Exchange, Transport, TransportError};

/// Why a scenario stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Abort {
    /// A step failed (already recorded) and the rest depends on it.
    Step,
    /// A guard (the request budget, the failure streak) stopped the whole
    /// run; the reason says which.
    Budget(String),
}

/// The result of a scenario step.
pub type Step<T> = Result<T, Abort>;

/// What status an expectation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRule {
    /// Exactly this status.
    Exactly(u16),
    /// Any 2xx.
    Success,
    /// Any 4xx.
    ClientError,
}

impl StatusRule {
    /// Whether `status` satisfies the rule.
    pub fn accepts(self, status: u16) -> bool {
        match self {
            StatusRule::Exactly(expected) => status == expected,
            StatusRule::Success => (200..300).contains(&status),
            StatusRule::ClientError => (400..500).contains(&status),
        }
    }

    /// The rule in words, e.g. `status 404`.
    pub fn describe(self) -> String {
        match self {
            StatusRule::Exactly(expected) => format!("status {expected}"),
            StatusRule::Success => "a 2xx status".into(),
            StatusRule::ClientError => "a 4xx status".into(),
        }
    }
}

/// The user a run acts as.
#[derive(Clone)]
pub struct User {
    /// The username it logs in with.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Its e-mail as `getUser` reports it (the username when none is).
    pub email: String,
    /// Whether the harness signed it up in this run.
    pub signed_up: bool,
    /// Whether the run was given a token for it (`--token`) and so knows
    /// no password to log in with.
    pub by_token: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password", &redact::REDACTED)
            .field("email", &self.email)
            .field("signed_up", &self.signed_up)
            .field("by_token", &self.by_token)
            .finish()
    }
}

/// Everything a run's stages share.
pub struct Session {
    /// Sends the requests.
    pub transport: Transport,
    validator: Validator,
    /// The verdicts so far.
    pub results: Results,
    /// The objects created so far.
    pub ledger: Ledger,
    /// The run tag, e.g. `amxc-1a2b3c4d`, part of every created name.
    pub tag: String,
    /// The user the run acts as, once signed in.
    pub user: Option<User>,
    /// What the run means to check, per operation and property.
    pub plan: Plan,
    /// The property (or property family) being exercised now, which a
    /// refused setup request is reported against.
    pub exercising: Option<String>,
}

impl Session {
    /// A session over `transport`, checking against `validator`.
    pub fn new(transport: Transport, validator: Validator, tag: String) -> Self {
        Self {
            transport,
            validator,
            results: Results::default(),
            ledger: Ledger::default(),
            tag,
            user: None,
            plan: Plan::default(),
            exercising: None,
        }
    }

    /// Ends the session: closes its connections and hands back the verdicts
    /// and the number of requests sent.
    pub fn finish(self) -> (Results, u64) {
        (self.results, self.transport.requests_sent())
    }

    /// `what`, prefixed with the run tag: the name of a created object.
    pub fn name(&self, what: &str) -> String {
        format!("{} {what}", self.tag)
    }

    /// The signed-in user's e-mail.
    pub fn email(&self) -> String {
        self.user
            .as_ref()
            .map(|user| user.email.clone())
            .unwrap_or_default()
    }

    /// Remembers a created object for cleanup.
    pub fn created(&mut self, kind: Kind, id: &str) {
        self.ledger.add(kind, id);
    }

    /// Notes that a created object is gone.
    pub fn deleted(&mut self, kind: Kind, id: &str) {
        self.ledger.mark_deleted(kind, id);
    }

    /// Sends `call` and checks its exchange against the spec.
    ///
    /// A call that gets no answer is recorded as a failure of its operation
    /// and stops the scenario.
    pub async fn call(&mut self, call: Call) -> Step<Exchange> {
        let operation = call.operation().to_string();
        match self.transport.send(call).await {
            Ok(exchange) => {
                self.check(&exchange);
                Ok(exchange)
            }
            Err(
                error @ (TransportError::Budget { .. }
                | TransportError::FailureStreak { .. }
                | TransportError::RetryAfter { .. }),
            ) => Err(Abort::Budget(error.to_string())),
            // The transport recorded the refusal; nothing was sent.
            Err(TransportError::ReadOnly { .. }) => Err(Abort::Step),
            Err(error @ TransportError::Network { .. }) => {
                self.results.count_call(&operation);
                self.fail(
                    &operation,
                    CheckKind::Status,
                    "transport.answered",
                    None,
                    "an HTTP answer",
                    &error.to_string(),
                );
                Err(Abort::Step)
            }
            Err(error @ TransportError::BodyTooLarge { .. }) => {
                self.results.count_call(&operation);
                let limit = self.transport.max_body();
                self.fail(
                    &operation,
                    CheckKind::Status,
                    "transport.body-within-limit",
                    None,
                    &format!("a body of at most {limit} bytes"),
                    &error.to_string(),
                );
                Err(Abort::Step)
            }
            Err(error @ TransportError::NotInSpec { .. }) => {
                self.fail(
                    &operation,
                    CheckKind::Semantics,
                    "spec.declares-call",
                    None,
                    "an operation and parameters the spec declares",
                    &error.to_string(),
                );
                Err(Abort::Step)
            }
        }
    }

    /// Notes that the property being exercised could not be, because
    /// `exchange`, one of its setup requests, got no 2xx. The answer itself
    /// is judged by the generic checks (a 5xx fails `spec.no-server-error`);
    /// this says what the failure cost, so that a property is never silently
    /// missing from the evidence.
    pub fn setup_failed(&mut self, exchange: &Exchange) {
        let property = self
            .exercising
            .clone()
            .unwrap_or_else(|| "properties".into());
        let status = exchange.status();
        let not_json;
        let answer = if status >= 500 {
            "a server error"
        } else if (200..300).contains(&status) && exchange.json().is_none() {
            let content_type = exchange
                .response
                .content_type
                .as_deref()
                .unwrap_or("no content type");
            not_json = format!("not JSON ({content_type}): is this an Appmixer API URL?");
            &not_json
        } else {
            "a refusal"
        };
        tracing::warn!(
            operation = %exchange.operation,
            status,
            %property,
            "a property's setup got no 2xx; the property is not exercised there"
        );
        self.results.record_unchecked(Unchecked {
            operation: exchange.operation.clone(),
            kind: CheckKind::Semantics,
            expectation: property,
            reason: format!(
                "its setup request {} answered {status} ({answer}), so it was not exercised there",
                exchange.operation
            ),
        });
    }

    /// Checks an exchange sent directly through the transport against the spec.
    pub fn check(&mut self, exchange: &Exchange) {
        checks::check_exchange(&self.validator, exchange, &mut self.results);
    }

    fn fail(
        &mut self,
        operation: &str,
        kind: CheckKind,
        expectation: &str,
        exchange: Option<&Exchange>,
        expected: &str,
        actual: &str,
    ) {
        self.results.record(
            Outcome {
                operation: operation.to_string(),
                kind,
                expectation: expectation.to_string(),
                mismatch: Some((expected.to_string(), actual.to_string())),
            },
            exchange,
        );
    }

    /// Records a semantic expectation; returns whether it held.
    pub fn expect(
        &mut self,
        operation: &str,
        expectation: &str,
        exchange: Option<&Exchange>,
        holds: bool,
        expected: impl FnOnce() -> String,
        actual: impl FnOnce() -> String,
    ) -> bool {
        self.expect_as(
            CheckKind::Semantics,
            operation,
            expectation,
            exchange,
            holds,
            expected,
            actual,
        )
    }

    /// Records an expectation of the property `kind`; returns whether it held.
    #[allow(clippy::too_many_arguments)]
    pub fn expect_as(
        &mut self,
        kind: CheckKind,
        operation: &str,
        expectation: &str,
        exchange: Option<&Exchange>,
        holds: bool,
        expected: impl FnOnce() -> String,
        actual: impl FnOnce() -> String,
    ) -> bool {
        if holds {
            self.results.record_pass(operation, kind);
            return true;
        }
        let mismatch = Some((expected(), actual()));
        self.results.record(
            Outcome {
                operation: operation.to_string(),
                kind,
                expectation: expectation.to_string(),
                mismatch,
            },
            exchange,
        );
        holds
    }

    /// Expects the exchange's status to satisfy `rule`.
    pub fn expect_status(
        &mut self,
        operation: &str,
        expectation: &str,
        exchange: &Exchange,
        rule: StatusRule,
    ) -> bool {
        let status = exchange.status();
        self.expect(
            operation,
            expectation,
            Some(exchange),
            rule.accepts(status),
            || rule.describe(),
            || format!("status {status}"),
        )
    }

    /// Expects `actual` to equal `expected` as JSON values.
    pub fn expect_json(
        &mut self,
        operation: &str,
        expectation: &str,
        exchange: Option<&Exchange>,
        expected: &Value,
        actual: Option<&Value>,
    ) -> bool {
        match compare::first_difference(expected, actual) {
            None => self.expect(
                operation,
                expectation,
                exchange,
                true,
                String::new,
                String::new,
            ),
            Some(difference) => self.expect(
                operation,
                expectation,
                exchange,
                false,
                || difference.expected_text(),
                || difference.actual_text(),
            ),
        }
    }

    /// Requires a 2xx answer with a JSON body (or none) to go on.
    pub fn require_success(
        &mut self,
        operation: &str,
        expectation: &str,
        exchange: &Exchange,
    ) -> Step<Value> {
        if !self.expect_status(operation, expectation, exchange, StatusRule::Success) {
            return Err(Abort::Step);
        }
        if exchange.response.body.is_empty() {
            return Ok(Value::Null);
        }
        match exchange.json() {
            Some(value) => Ok(value),
            None => {
                self.fail(
                    operation,
                    CheckKind::Semantics,
                    expectation,
                    Some(exchange),
                    "a JSON body",
                    "a body that is not JSON",
                );
                Err(Abort::Step)
            }
        }
    }

    /// Requires a non-empty string at `pointer` of a 2xx answer to go on.
    pub fn require_str(
        &mut self,
        operation: &str,
        expectation: &str,
        exchange: &Exchange,
        pointer: &str,
    ) -> Step<String> {
        let body = self.require_success(operation, expectation, exchange)?;
        match body.pointer(pointer).and_then(Value::as_str) {
            Some(value) if !value.is_empty() => Ok(value.to_string()),
            other => {
                let actual = match other {
                    Some(_) => "an empty string".to_string(),
                    None => format!("{} at `{pointer}`", describe_at(&body, pointer)),
                };
                self.fail(
                    operation,
                    CheckKind::Semantics,
                    expectation,
                    Some(exchange),
                    &format!("a non-empty string at `{pointer}`"),
                    &actual,
                );
                Err(Abort::Step)
            }
        }
    }
}

fn describe_at(body: &Value, pointer: &str) -> String {
    match body.pointer(pointer) {
        None => "nothing".into(),
        Some(value) => redact::truncate(&value.to_string(), 80),
    }
}
