//! Verdicts, per operation and per kind of check.
//!
//! Every exchange of a run is checked against the spec here: is its status
//! documented for the operation, is its content type one the spec declares,
//! does its body (error bodies too) validate against the schema, and, for a
//! request the harness believes valid, is the answer anything but a server
//! error ([`NO_SERVER_ERROR`]: the spec declares `5XX` for every operation,
//! but a 5xx to valid input is a crash, not a documented outcome). The
//! validator of `appmixer_spec` gives the verdicts; this module records them
//! in [`Results`], next to the semantic expectations that the scenarios
//! record through the same [`Results::record`]. A failure keeps a redacted,
//! truncated copy of the exchange that shows it.
//!
//! A check that could not be made is not a pass: [`Results::record_unchecked`]
//! keeps it apart, with the reason, so that the report can tell evidence from
//! silence (an answer of 401 to the run's own token proves nothing about the
//! property a step was after).

use std::collections::BTreeMap;
use std::fmt;

use appmixer_spec::schema::{Validator, Verdict};

use crate::redact;
use crate::transport::{Exchange, SentAuth};

/// How many characters of a body a failure keeps.
const BODY_LIMIT: usize = 600;

/// The expectation that a request the harness believes valid gets no 5xx.
pub const NO_SERVER_ERROR: &str = "spec.no-server-error";

/// The kinds of check (the properties of the report), one column each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckKind {
    /// The status is documented for the operation.
    Status,
    /// The content type is one the spec declares for that status.
    ContentType,
    /// The body validates against the declared schema.
    Schema,
    /// A named expectation about Appmixer's behaviour holds.
    Semantics,
    /// A second user can neither see nor change the first user's objects.
    Isolation,
    /// Requests without a valid token are refused with 401.
    Auth,
}

impl CheckKind {
    /// All kinds, in the report's column order.
    pub const ALL: [CheckKind; 6] = [
        CheckKind::Status,
        CheckKind::ContentType,
        CheckKind::Schema,
        CheckKind::Semantics,
        CheckKind::Isolation,
        CheckKind::Auth,
    ];

    /// The column heading.
    pub fn label(self) -> &'static str {
        match self {
            CheckKind::Status => "status",
            CheckKind::ContentType => "content-type",
            CheckKind::Schema => "schema",
            CheckKind::Semantics => "semantics",
            CheckKind::Isolation => "isolation",
            CheckKind::Auth => "auth",
        }
    }

    /// Whether the kind is one of the checks every exchange gets against
    /// the spec (status, content type, schema), which an answer of 401 is
    /// as much evidence for as any other.
    pub fn is_generic(self) -> bool {
        matches!(
            self,
            CheckKind::Status | CheckKind::ContentType | CheckKind::Schema
        )
    }

    /// The kind whose label is `label`.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.label() == label)
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An exchange as a report shows it: secrets redacted, bodies truncated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeView {
    /// The request method.
    pub method: String,
    /// The request URL.
    pub url: String,
    /// The request headers the harness set.
    pub request_headers: Vec<(String, String)>,
    /// The request body, if any.
    pub request_body: Option<String>,
    /// The response status.
    pub status: u16,
    /// The response content type.
    pub content_type: Option<String>,
    /// The response body.
    pub response_body: String,
    /// The request's number in the run ([`Exchange::number`]).
    pub number: u64,
    /// When it was sent, since the start of the run.
    pub at: std::time::Duration,
}

impl ExchangeView {
    /// The view of `exchange`.
    pub fn of(exchange: &Exchange) -> Self {
        Self {
            method: exchange.request.method.to_string(),
            url: exchange.request.url.clone(),
            request_headers: exchange.request.headers.clone(),
            request_body: exchange
                .request
                .body
                .as_deref()
                .map(|body| redact::body_preview(body, BODY_LIMIT)),
            status: exchange.response.status,
            content_type: exchange.response.content_type.clone(),
            response_body: redact::body_preview(&exchange.response.body, BODY_LIMIT),
            number: exchange.number,
            at: exchange.at,
        }
    }
}

/// One check that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The `operationId` the check is about.
    pub operation: String,
    /// The kind of check.
    pub kind: CheckKind,
    /// The expectation's name, e.g. `flows.get-after-delete-is-404`.
    pub expectation: String,
    /// What should have been seen.
    pub expected: String,
    /// What was seen.
    pub actual: String,
    /// The exchange that shows it, if one does.
    pub exchange: Option<ExchangeView>,
    /// How to reproduce it, when the check that failed can say: a model
    /// failure's seed, numbered steps with a `curl` line each, and the saved
    /// case to replay.
    pub reproduction: Option<String>,
}

/// Passed and total counts of one check kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many checks held.
    pub passed: u32,
    /// How many checks were made.
    pub total: u32,
}

impl Tally {
    /// Whether every check made held.
    pub fn all_passed(&self) -> bool {
        self.passed == self.total
    }
}

/// What was seen of one operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationTally {
    /// How many exchanges were recorded for it.
    pub calls: u32,
    /// How many of them carried a token of a user the run signed in.
    pub own_token_calls: u32,
    /// How many of those were answered 401.
    pub own_token_refusals: u32,
    tallies: BTreeMap<CheckKind, Tally>,
}

impl OperationTally {
    /// The tally of one check kind.
    pub fn tally(&self, kind: CheckKind) -> Tally {
        self.tallies.get(&kind).copied().unwrap_or_default()
    }

    /// The tally of one check kind, made empty on first use.
    fn tally_mut(&mut self, kind: CheckKind) -> &mut Tally {
        self.tallies.entry(kind).or_default()
    }

    /// Counts one check of `kind` that held.
    fn pass(&mut self, kind: CheckKind) {
        let tally = self.tally_mut(kind);
        tally.total += 1;
        tally.passed += 1;
    }
}

/// A check that was meant to be made but could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked {
    /// The `operationId` the check is about.
    pub operation: String,
    /// The kind of check.
    pub kind: CheckKind,
    /// The expectation's name.
    pub expectation: String,
    /// Why it could not be made, e.g. `answered 401 to the run's own token`.
    pub reason: String,
}

/// An outcome to record.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The `operationId` the check is about.
    pub operation: String,
    /// The kind of check.
    pub kind: CheckKind,
    /// The expectation's name.
    pub expectation: String,
    /// `None` when it held, or what was expected and what was seen.
    pub mismatch: Option<(String, String)>,
}

/// All verdicts of a run.
#[derive(Debug, Clone, Default)]
pub struct Results {
    operations: BTreeMap<String, OperationTally>,
    failures: Vec<Failure>,
    unchecked: Vec<Unchecked>,
}

impl Results {
    /// Records one outcome, keeping `exchange` with a failure.
    ///
    /// A failed expectation whose exchange is [`inconclusive`] is recorded
    /// as not checked instead: whatever stage made it.
    pub fn record(&mut self, outcome: Outcome, exchange: Option<&Exchange>) {
        self.record_with(outcome, exchange, None);
    }

    /// Records one outcome like [`Results::record`], keeping `reproduction`
    /// with a failure.
    pub fn record_reproducible(
        &mut self,
        outcome: Outcome,
        exchange: Option<&Exchange>,
        reproduction: String,
    ) {
        self.record_with(outcome, exchange, Some(reproduction));
    }

    fn record_with(
        &mut self,
        outcome: Outcome,
        exchange: Option<&Exchange>,
        reproduction: Option<String>,
    ) {
        if outcome.mismatch.is_some()
            && !outcome.kind.is_generic()
            && let Some(reason) = inconclusive(exchange)
        {
            self.record_unchecked(Unchecked {
                operation: outcome.operation,
                kind: outcome.kind,
                expectation: outcome.expectation,
                reason,
            });
            return;
        }
        let tally = self.tally_mut(&outcome.operation, outcome.kind);
        tally.total += 1;
        match outcome.mismatch {
            None => tally.passed += 1,
            Some((expected, actual)) => {
                tracing::debug!(
                    operation = %outcome.operation,
                    check = %outcome.kind,
                    expectation = %outcome.expectation,
                    "check failed"
                );
                self.failures.push(Failure {
                    operation: outcome.operation,
                    kind: outcome.kind,
                    expectation: outcome.expectation,
                    expected,
                    actual,
                    exchange: exchange.map(ExchangeView::of),
                    reproduction,
                });
            }
        }
    }

    /// Records a check of `kind` on `operation` that held: the common case,
    /// which needs no [`Outcome`] (a passed check keeps nothing but its count).
    pub fn record_pass(&mut self, operation: &str, kind: CheckKind) {
        self.operation_mut(operation).pass(kind);
    }

    /// What was seen of `operation`, made empty on first use.
    fn operation_mut(&mut self, operation: &str) -> &mut OperationTally {
        // Looked up before it is inserted, so that the operation's name is
        // copied once per run, not once per check.
        if !self.operations.contains_key(operation) {
            self.operations
                .insert(operation.to_string(), OperationTally::default());
        }
        self.operations
            .get_mut(operation)
            .expect("inserted above when missing")
    }

    /// The tally of `kind` on `operation`, made empty on first use.
    fn tally_mut(&mut self, operation: &str, kind: CheckKind) -> &mut Tally {
        self.operation_mut(operation).tally_mut(kind)
    }

    /// Records a check that could not be made, and why.
    pub fn record_unchecked(&mut self, unchecked: Unchecked) {
        tracing::debug!(
            operation = %unchecked.operation,
            check = %unchecked.kind,
            expectation = %unchecked.expectation,
            reason = %unchecked.reason,
            "check not made"
        );
        self.unchecked.push(unchecked);
    }

    /// Counts one exchange of `operation`.
    pub fn count_call(&mut self, operation: &str) {
        self.operation_mut(operation).calls += 1;
    }

    /// The checks that could not be made, in the order they came up.
    pub fn unchecked(&self) -> &[Unchecked] {
        &self.unchecked
    }

    /// What was seen of `operation`.
    pub fn operation(&self, operation: &str) -> OperationTally {
        self.operations.get(operation).cloned().unwrap_or_default()
    }

    /// Every operation with a recorded exchange or verdict.
    pub fn operations(&self) -> impl Iterator<Item = (&str, &OperationTally)> {
        self.operations
            .iter()
            .map(|(id, tally)| (id.as_str(), tally))
    }

    /// The failures, in the order they happened.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// Moves the failures out, leaving the tallies.
    pub fn into_parts(self) -> (BTreeMap<String, OperationTally>, Vec<Failure>) {
        (self.operations, self.failures)
    }
}

/// Why `exchange`, if any, cannot show whether an expectation holds: an
/// answer of 401 to a token the run obtained by signing in says nothing
/// about what the step was after (and much about the credentials).
pub fn inconclusive(exchange: Option<&Exchange>) -> Option<String> {
    let exchange = exchange?;
    (exchange.auth == SentAuth::RunUser && exchange.status() == 401).then(|| {
        format!(
            "{} answered 401 to the token of a user the run signed in",
            exchange.operation
        )
    })
}

/// Checks `exchange` against the spec and records the generic verdicts:
/// status, content type and body, and, unless the call was deliberately
/// invalid, that the answer is no server error.
pub fn check_exchange(validator: &Validator, exchange: &Exchange, results: &mut Results) {
    let check = validator.check_parsed_response(
        &exchange.operation,
        exchange.response.status,
        exchange.response.content_type.as_deref(),
        &exchange.response.body,
        exchange.json_ref(),
    );
    let verdicts = [
        (
            CheckKind::Status,
            "spec.status-documented",
            check.status,
            "a status the spec documents for the operation",
        ),
        (
            CheckKind::ContentType,
            "spec.content-type-documented",
            check.content_type,
            "a content type the spec declares for this status",
        ),
        (
            CheckKind::Schema,
            "spec.body-matches-schema",
            check.body,
            "a body valid against the declared schema",
        ),
    ];
    // The counts and the checks that held go into the operation's tally in
    // one visit; the failures, rare, are recorded afterwards, in order.
    let mut failed = Vec::new();
    let tally = results.operation_mut(&exchange.operation);
    tally.calls += 1;
    if exchange.auth == SentAuth::RunUser {
        tally.own_token_calls += 1;
        tally.own_token_refusals += u32::from(exchange.status() == 401);
    }
    for (kind, expectation, verdict, expected) in verdicts {
        match verdict {
            Verdict::Pass => tally.pass(kind),
            Verdict::NotApplicable => {}
            Verdict::Fail(reason) => {
                failed.push((kind, expectation, (expected.to_string(), reason)))
            }
        }
    }
    if !exchange.invalid {
        match server_error(exchange) {
            None => tally.pass(CheckKind::Status),
            Some(mismatch) => failed.push((CheckKind::Status, NO_SERVER_ERROR, mismatch)),
        }
    }
    for (kind, expectation, mismatch) in failed {
        results.record(
            Outcome {
                operation: exchange.operation.clone(),
                kind,
                expectation: expectation.to_string(),
                mismatch: Some(mismatch),
            },
            Some(exchange),
        );
    }
}

/// What a 5xx answer to a valid request was, as expected and actual text.
fn server_error(exchange: &Exchange) -> Option<(String, String)> {
    let status = exchange.status();
    if status < 500 {
        return None;
    }
    let message = exchange
        .str_at("/message")
        .map(|message| format!(" ({})", redact::truncate(&message, 120)))
        .unwrap_or_default();
    Some((
        "an answer that is not a server error: the request is one the spec allows".into(),
        format!("status {status}{message}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(operation: &str, kind: CheckKind, failed: bool) -> Outcome {
        Outcome {
            operation: operation.into(),
            kind,
            expectation: "x.y".into(),
            mismatch: failed.then(|| ("a".to_string(), "b".to_string())),
        }
    }

    fn exchange(status: u16, invalid: bool) -> Exchange {
        use crate::transport::{Received, SentRequest};
        Exchange {
            operation: "getFlows".into(),
            request: SentRequest {
                method: reqwest::Method::GET,
                url: "http://127.0.0.1:1/flows?pattern=%C3%A9".into(),
                headers: Vec::new(),
                body: None,
            },
            response: Received::new(
                status,
                Vec::new(),
                Some("application/json".into()),
                if status >= 500 {
                    br#"{"statusCode":500,"error":"Internal Server Error","message":"boom"}"#
                        .to_vec()
                } else {
                    b"[]".to_vec()
                },
            ),
            elapsed: std::time::Duration::ZERO,
            auth: SentAuth::RunUser,
            invalid,
            number: 1,
            at: std::time::Duration::ZERO,
        }
    }

    fn validator() -> Validator {
        let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).unwrap();
        Validator::new(&spec).unwrap()
    }

    #[test]
    fn a_server_error_to_a_valid_request_fails_no_server_error_on_its_operation() {
        let validator = validator();
        let mut results = Results::default();

        check_exchange(&validator, &exchange(500, false), &mut results);
        check_exchange(&validator, &exchange(200, false), &mut results);

        let failures: Vec<&Failure> = results
            .failures()
            .iter()
            .filter(|f| f.expectation == NO_SERVER_ERROR)
            .collect();
        assert_eq!(failures.len(), 1, "{:?}", results.failures());
        assert_eq!(failures[0].operation, "getFlows");
        assert_eq!(failures[0].kind, CheckKind::Status);
        assert_eq!(failures[0].actual, "status 500 (boom)");
        assert!(
            results
                .failures()
                .iter()
                .all(|f| f.expectation == NO_SERVER_ERROR),
            "a documented 5XX passes the other generic checks: {:?}",
            results.failures()
        );
    }

    #[test]
    fn a_deliberately_invalid_request_is_left_to_its_own_expectation() {
        let validator = validator();
        let mut results = Results::default();

        check_exchange(&validator, &exchange(500, true), &mut results);

        assert!(results.failures().is_empty(), "{:?}", results.failures());
        assert_eq!(results.operation("getFlows").calls, 1);
    }

    #[test]
    fn tallies_count_passes_and_totals_per_operation_and_kind() {
        let mut results = Results::default();

        results.record(outcome("getFlow", CheckKind::Status, false), None);
        results.record(outcome("getFlow", CheckKind::Status, true), None);
        results.record(outcome("getFlow", CheckKind::Semantics, false), None);

        let tally = results.operation("getFlow");
        assert_eq!(
            tally.tally(CheckKind::Status),
            Tally {
                passed: 1,
                total: 2
            }
        );
        assert_eq!(
            tally.tally(CheckKind::Semantics),
            Tally {
                passed: 1,
                total: 1
            }
        );
        assert_eq!(tally.tally(CheckKind::Schema), Tally::default());
        assert_eq!(results.failures().len(), 1);
        assert_eq!(results.failures()[0].operation, "getFlow");
    }
}
