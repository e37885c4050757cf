//! What a run found, for people and for the exit status.
//!
//! A [`Report`] holds one row per operation of the spec (how often it was
//! called and, for each kind of check, how many of its checks passed), every
//! failure with its expectation name, expected and actual values and the
//! exchange that shows it, and what the descriptor and cleanup stages did.
//! Its [`fmt::Display`] is the summary printed on stdout; [`Report::exit_code`]
//! is 0 when everything passed and 1 otherwise.

use std::fmt::{self, Write as _};

use crate::catalog::Catalog;
use crate::checks::{CheckKind, Failure, Results, Tally};
use crate::cleanup::CleanupSummary;
use crate::descriptors::DescriptorSummary;

/// One operation's line of the summary table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRow {
    /// The `operationId`.
    pub operation: String,
    /// `METHOD /path`.
    pub route: String,
    /// How many exchanges were recorded for it.
    pub calls: u32,
    /// Status, content-type, schema and semantics tallies, in that order.
    pub tallies: [Tally; 4],
}

impl OperationRow {
    /// The tally of one check kind.
    pub fn tally(&self, kind: CheckKind) -> Tally {
        self.tallies[CheckKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)]
    }

    /// Whether every check of the operation passed.
    pub fn passed(&self) -> bool {
        self.tallies.iter().all(Tally::all_passed)
    }
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The server's base URL, or the embedded server's.
    pub target: String,
    /// The run tag carried by every created object's name.
    pub tag: String,
    /// One row per operation of the spec, in the spec's order.
    pub rows: Vec<OperationRow>,
    /// Every failed check, in the order they happened.
    pub failures: Vec<Failure>,
    /// What the descriptor stage did.
    pub descriptors: DescriptorSummary,
    /// What cleanup did.
    pub cleanup: CleanupSummary,
    /// Scenarios that stopped early because a step they depend on failed.
    pub stopped_scenarios: Vec<String>,
    /// Why the run stopped before its end, if it did.
    pub aborted: Option<String>,
    /// How many requests were sent, retries included.
    pub requests: u64,
}

impl Report {
    /// Assembles the report from a run's verdicts.
    pub(crate) fn assemble(
        target: String,
        tag: String,
        catalog: &Catalog,
        results: Results,
        requests: u64,
    ) -> Self {
        let rows = catalog
            .operations()
            .iter()
            .map(|op| {
                let tally = results.operation(&op.id);
                OperationRow {
                    operation: op.id.clone(),
                    route: op.route(),
                    calls: tally.calls,
                    tallies: CheckKind::ALL.map(|kind| tally.tally(kind)),
                }
            })
            .collect();
        let (_, failures) = results.into_parts();
        Self {
            target,
            tag,
            rows,
            failures,
            descriptors: DescriptorSummary::default(),
            cleanup: CleanupSummary::default(),
            stopped_scenarios: Vec::new(),
            aborted: None,
            requests,
        }
    }

    /// Whether every check passed, the run finished and cleanup left nothing.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.aborted.is_none() && self.cleanup.leftovers.is_empty()
    }

    /// The process exit status: 0 when everything passed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.passed() { 0 } else { 1 }
    }

    /// The row of `operation`.
    pub fn row(&self, operation: &str) -> Option<&OperationRow> {
        self.rows.iter().find(|row| row.operation == operation)
    }

    /// The failures of `operation` of one kind.
    pub fn failures_of<'a>(
        &'a self,
        operation: &'a str,
        kind: CheckKind,
    ) -> impl Iterator<Item = &'a Failure> + 'a {
        self.failures
            .iter()
            .filter(move |f| f.operation == operation && f.kind == kind)
    }

    /// Operations of the spec that were never called.
    pub fn uncalled(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|row| row.calls == 0)
            .map(|row| row.operation.as_str())
            .collect()
    }
}

fn cell(tally: Tally) -> String {
    if tally.total == 0 {
        "-".into()
    } else {
        format!("{}/{}", tally.passed, tally.total)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Appmixer conformance of {} (run tag {})",
            self.target, self.tag
        )?;
        writeln!(f)?;
        self.write_table(f)?;
        writeln!(f)?;
        self.write_notes(f)?;
        if !self.failures.is_empty() {
            writeln!(f)?;
            writeln!(f, "FAILURES ({})", self.failures.len())?;
            for (number, failure) in self.failures.iter().enumerate() {
                writeln!(f)?;
                write_failure(f, number + 1, failure)?;
            }
        }
        writeln!(f)?;
        let verdict = if self.passed() { "PASSED" } else { "FAILED" };
        let checks: u32 = self
            .rows
            .iter()
            .flat_map(|row| row.tallies.iter().map(|t| t.total))
            .sum();
        writeln!(
            f,
            "{verdict}: {} checks, {} failed, {} requests",
            checks,
            self.failures.len(),
            self.requests
        )
    }
}

impl Report {
    fn write_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut header = vec!["operation".to_string(), "route".into(), "calls".into()];
        header.extend(CheckKind::ALL.iter().map(|k| k.label().to_string()));
        header.push("result".into());
        let lines: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let mut line = vec![
                    row.operation.clone(),
                    row.route.clone(),
                    row.calls.to_string(),
                ];
                line.extend(row.tallies.iter().map(|t| cell(*t)));
                line.push(
                    match (row.calls, row.passed()) {
                        (0, _) => "NOT CALLED",
                        (_, true) => "ok",
                        (_, false) => "FAIL",
                    }
                    .into(),
                );
                line
            })
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|column| {
                lines
                    .iter()
                    .chain(std::iter::once(&header))
                    .map(|line| line[column].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let render = |line: &[String]| {
            let mut text = String::new();
            for (column, value) in line.iter().enumerate() {
                let pad = widths[column] - value.chars().count();
                // Names left-aligned, counts right-aligned.
                if column < 2 || column == line.len() - 1 {
                    let _ = write!(text, "{value}{}  ", " ".repeat(pad));
                } else {
                    let _ = write!(text, "{}{value}  ", " ".repeat(pad));
                }
            }
            text.trim_end().to_string()
        };
        writeln!(f, "{}", render(&header))?;
        let rule: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        writeln!(f, "{}", "-".repeat(rule))?;
        for line in &lines {
            writeln!(f, "{}", render(line))?;
        }
        Ok(())
    }

    fn write_notes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.descriptors;
        writeln!(
            f,
            "generated descriptors: {} of {} round-tripped unchanged (seed {})",
            d.generated_passed, d.generated_checked, d.seed
        )?;
        if d.files_checked > 0 {
            writeln!(
                f,
                "descriptor files: {} checked, {} round-tripped unchanged",
                d.files_checked, d.files_passed
            )?;
        }
        for scenario in &self.stopped_scenarios {
            writeln!(f, "scenario stopped early: {scenario}")?;
        }
        if let Some(reason) = &self.aborted {
            writeln!(f, "run aborted: {reason}")?;
        }
        let c = &self.cleanup;
        writeln!(
            f,
            "cleanup: {} deleted, {} left over",
            c.deleted,
            c.leftovers.len()
        )?;
        for leftover in &c.leftovers {
            writeln!(
                f,
                "  left over: {} {}: {}",
                leftover.kind, leftover.id, leftover.reason
            )?;
        }
        for kept in &c.undeletable {
            writeln!(f, "  kept: {} {}: {}", kept.kind, kept.id, kept.reason)?;
        }
        Ok(())
    }
}

fn write_failure(f: &mut fmt::Formatter<'_>, number: usize, failure: &Failure) -> fmt::Result {
    writeln!(
        f,
        "{number}. {} · {} · {}",
        failure.operation, failure.kind, failure.expectation
    )?;
    writeln!(f, "   expected: {}", failure.expected)?;
    writeln!(f, "   actual:   {}", failure.actual)?;
    if let Some(exchange) = &failure.exchange {
        writeln!(f, "   request:  {} {}", exchange.method, exchange.url)?;
        for (name, value) in &exchange.request_headers {
            writeln!(f, "             {name}: {value}")?;
        }
        if let Some(body) = &exchange.request_body {
            writeln!(f, "             {body}")?;
        }
        writeln!(
            f,
            "   response: {} {}",
            exchange.status,
            exchange
                .content_type
                .as_deref()
                .unwrap_or("(no content type)")
        )?;
        if !exchange.response_body.is_empty() {
            writeln!(f, "             {}", exchange.response_body)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{OperationShape, TokenPolicy};
    use crate::checks::Outcome;

    fn catalog() -> Catalog {
        let operation = |id: &str, path: &str| OperationShape {
            id: id.into(),
            method: reqwest::Method::GET,
            path: path.into(),
            parameters: Vec::new(),
            body_media_type: None,
            token: TokenPolicy::Required,
        };
        Catalog::from_operations(vec![
            operation("getFlow", "/flows/{flowId}"),
            operation("getChart", "/charts/{chartId}"),
        ])
    }

    fn report_with(failed: bool) -> Report {
        let mut results = Results::default();
        results.count_call("getFlow");
        results.record(
            Outcome {
                operation: "getFlow".into(),
                kind: CheckKind::Semantics,
                expectation: "flows.get-after-delete-is-404".into(),
                mismatch: failed.then(|| ("status 404".to_string(), "status 200".to_string())),
            },
            None,
        );
        Report::assemble(
            "http://127.0.0.1:1/".into(),
            "amxc-00000000".into(),
            &catalog(),
            results,
            1,
        )
    }

    #[test]
    fn a_failed_check_makes_the_exit_code_1() {
        assert_eq!(report_with(true).exit_code(), 1);
        assert_eq!(report_with(false).exit_code(), 0);
    }

    #[test]
    fn the_table_has_a_row_per_operation_and_marks_uncalled_ones() {
        let report = report_with(false);

        let text = report.to_string();

        assert_eq!(report.uncalled(), vec!["getChart"]);
        let chart_line = text.lines().find(|l| l.starts_with("getChart")).unwrap();
        assert!(chart_line.ends_with("NOT CALLED"), "{chart_line}");
        let flow_line = text.lines().find(|l| l.starts_with("getFlow")).unwrap();
        assert!(
            flow_line.contains("1/1") && flow_line.ends_with("ok"),
            "{flow_line}"
        );
    }

    #[test]
    fn each_failure_is_printed_with_its_expectation_and_both_sides() {
        let text = report_with(true).to_string();

        assert!(
            text.contains("1. getFlow · semantics · flows.get-after-delete-is-404"),
            "{text}"
        );
        assert!(text.contains("expected: status 404"), "{text}");
        assert!(text.contains("actual:   status 200"), "{text}");
        assert!(
            text.contains("FAILED: 1 checks, 1 failed, 1 requests"),
            "{text}"
        );
    }

    #[test]
    fn leftovers_after_cleanup_fail_the_run() {
        let mut report = report_with(false);

        report.cleanup.leftovers.push(crate::cleanup::Leftover {
            kind: crate::cleanup::Kind::Flow,
            id: "f1".into(),
            reason: "still listed after cleanup".into(),
        });

        assert_eq!(report.exit_code(), 1);
        assert!(
            report
                .to_string()
                .contains("left over: flow f1: still listed after cleanup")
        );
    }
}
