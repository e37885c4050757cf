//! Verdicts, per operation and per kind of check.
//!
//! Every exchange of a run is checked against the spec here: is its status
//! documented for the operation, is its content type one the spec declares,
//! does its body (error bodies too) validate against the schema. The
//! validator of `appmixer_spec` gives the verdicts; this module records them
//! in [`Results`], next to the semantic expectations that the scenarios
//! record through the same [`Results::record`]. A failure keeps a redacted,
//! truncated copy of the exchange that shows it.

use std::collections::BTreeMap;
use std::fmt;

use appmixer_spec::schema::{Validator, Verdict};

use crate::redact;
use crate::transport::Exchange;

/// How many characters of a body a failure keeps.
const BODY_LIMIT: usize = 600;

/// The kinds of check, one column each in the report.
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
}

impl CheckKind {
    /// All kinds, in the report's column order.
    pub const ALL: [CheckKind; 4] = [
        CheckKind::Status,
        CheckKind::ContentType,
        CheckKind::Schema,
        CheckKind::Semantics,
    ];

    /// The column heading.
    pub fn label(self) -> &'static str {
        match self {
            CheckKind::Status => "status",
            CheckKind::ContentType => "content-type",
            CheckKind::Schema => "schema",
            CheckKind::Semantics => "semantics",
        }
    }

    fn index(self) -> usize {
        self as usize
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
    tallies: [Tally; 4],
}

impl OperationTally {
    /// The tally of one check kind.
    pub fn tally(&self, kind: CheckKind) -> Tally {
        self.tallies[kind.index()]
    }
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
}

impl Results {
    /// Records one outcome, keeping `exchange` with a failure.
    pub fn record(&mut self, outcome: Outcome, exchange: Option<&Exchange>) {
        let tally = &mut self
            .operations
            .entry(outcome.operation.clone())
            .or_default()
            .tallies[outcome.kind.index()];
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
                });
            }
        }
    }

    /// Counts one exchange of `operation`.
    pub fn count_call(&mut self, operation: &str) {
        self.operations
            .entry(operation.to_string())
            .or_default()
            .calls += 1;
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

/// Checks `exchange` against the spec and records the three generic verdicts.
pub fn check_exchange(validator: &Validator, exchange: &Exchange, results: &mut Results) {
    results.count_call(&exchange.operation);
    let check = validator.check_response(
        &exchange.operation,
        exchange.response.status,
        exchange.response.content_type.as_deref(),
        &exchange.response.body,
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
    for (kind, expectation, verdict, expected) in verdicts {
        let mismatch = match verdict {
            Verdict::Pass => None,
            Verdict::NotApplicable => continue,
            Verdict::Fail(reason) => Some((expected.to_string(), reason)),
        };
        results.record(
            Outcome {
                operation: exchange.operation.clone(),
                kind,
                expectation: expectation.to_string(),
                mismatch,
            },
            Some(exchange),
        );
    }
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
