//! The terminal summary: a matrix of operations × properties, the notes of
//! each stage, what was not checked and why, every failure with its
//! exchange, and a verdict line.
//!
//! A cell is `passed/checked`; `-` when the property does not apply to the
//! operation; `0/0!` when the run meant to check it and did not (the `!`
//! marks a required property, which fails the run with exit status 3).

use std::fmt::{self, Write as _};

use super::{EXIT_FAILED, EXIT_PASSED, EXIT_STOPPED, EXIT_UNCHECKED, FailureGroup, Report};
use crate::checks::CheckKind;

/// How many kinds of check that could not be made the summary lists.
const NOT_EXERCISED_SHOWN: usize = 10;

fn cell(report: &Report, row: &super::OperationRow, kind: CheckKind) -> String {
    let tally = row.tally(kind);
    match (tally.total, row.planned.get(&kind)) {
        (0, Some(true)) => "0/0!".into(),
        (0, Some(false)) => "0/0".into(),
        (0, None) => "-".into(),
        _ if report.failures_of(&row.operation, kind).next().is_some() || !tally.all_passed() => {
            format!("{}/{}✗", tally.passed, tally.total)
        }
        _ => format!("{}/{}", tally.passed, tally.total),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Appmixer conformance of {} (run tag {}, profile {}, seed {})",
            self.target, self.tag, self.profile, self.seed
        )?;
        writeln!(f, "spec: {}", self.spec)?;
        writeln!(f)?;
        self.write_table(f)?;
        writeln!(f)?;
        self.write_notes(f)?;
        self.write_not_checked(f)?;
        self.write_not_applicable(f)?;
        if !self.failures.is_empty() {
            let groups = self.failure_groups();
            writeln!(f)?;
            if groups.len() == self.failures.len() {
                writeln!(f, "FAILURES ({})", self.failures.len())?;
            } else {
                writeln!(
                    f,
                    "FAILURES ({}, {} distinct)",
                    self.failures.len(),
                    groups.len()
                )?;
            }
            for (number, group) in groups.iter().enumerate() {
                writeln!(f)?;
                write_failure(f, number + 1, group)?;
            }
        }
        writeln!(f)?;
        let verdict = match self.exit_code() {
            EXIT_PASSED => "PASSED",
            EXIT_FAILED => "FAILED",
            EXIT_UNCHECKED => "NOT CHECKED",
            EXIT_STOPPED => "STOPPED",
            _ => "ERROR",
        };
        let required_missing = self.not_checked.iter().filter(|n| n.required).count();
        // Leftovers fail a run whose checks all held; the verdict names
        // them, or it would read as a failure without one.
        let leftovers = self.cleanup.leftovers.len();
        let why = match (self.exit_code(), self.failures.is_empty(), leftovers) {
            (EXIT_FAILED, true, 1) => " 1 object left behind;".to_string(),
            (EXIT_FAILED, true, n) if n > 1 => format!(" {n} objects left behind;"),
            _ => String::new(),
        };
        writeln!(
            f,
            "{verdict}:{why} {} checks, {} failed, {} required not checked, {} requests",
            self.checks(),
            self.failures.len(),
            required_missing,
            self.requests
        )
    }
}

impl Report {
    fn write_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let properties = self.properties();
        let mut header = vec!["operation".to_string(), "route".into(), "calls".into()];
        header.extend(properties.iter().map(|k| k.label().to_string()));
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
                line.extend(properties.iter().map(|kind| cell(self, row, *kind)));
                let missing = self
                    .not_checked
                    .iter()
                    .any(|n| n.operation == row.operation && n.required);
                line.push(
                    match (row.calls, row.passed(), missing) {
                        (0, _, _) => "NOT CALLED",
                        (_, false, _) => "FAIL",
                        (_, true, true) => "NOT CHECKED",
                        (_, true, false) => "ok",
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
        for (file, fields) in &d.stripped {
            writeln!(
                f,
                "  {file}: stripped the server-set {} before sending, not compared",
                fields.join(", ")
            )?;
        }
        for scenario in &self.stopped_scenarios {
            writeln!(f, "scenario stopped early: {scenario}")?;
        }
        if let Some(reason) = &self.aborted {
            writeln!(f, "run aborted: {reason}")?;
        }
        self.write_not_exercised(f)?;
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
        let methods: Vec<String> = self
            .traffic
            .methods
            .by_method()
            .iter()
            .map(|(method, count)| format!("{method} {count}"))
            .collect();
        writeln!(f, "requests by method: {}", methods.join(", "))?;
        if self.traffic.read_only {
            writeln!(
                f,
                "read-only: {} writes sent, {} refused by the transport",
                self.writes_sent(),
                self.traffic.refusals.len()
            )?;
            for refusal in &self.traffic.refusals {
                writeln!(
                    f,
                    "  refused: {} {} ({})",
                    refusal.method, refusal.path, refusal.operation
                )?;
            }
        }
        Ok(())
    }

    /// The checks that could not be made, one line per expectation and
    /// reason, at most [`NOT_EXERCISED_SHOWN`] of them.
    fn write_not_exercised(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unchecked.is_empty() {
            return Ok(());
        }
        let mut groups: Vec<(&str, &str, usize)> = Vec::new();
        for unchecked in &self.unchecked {
            match groups.iter_mut().find(|(expectation, reason, _)| {
                *expectation == unchecked.expectation && *reason == unchecked.reason
            }) {
                Some((_, _, count)) => *count += 1,
                None => groups.push((&unchecked.expectation, &unchecked.reason, 1)),
            }
        }
        writeln!(f, "not exercised: {} checks", self.unchecked.len())?;
        for (expectation, reason, count) in groups.iter().take(NOT_EXERCISED_SHOWN) {
            let times = if *count > 1 {
                format!(" ({count} times)")
            } else {
                String::new()
            };
            writeln!(f, "  {expectation}: {reason}{times}")?;
        }
        if groups.len() > NOT_EXERCISED_SHOWN {
            writeln!(
                f,
                "  … and {} more (see the JSON report)",
                groups.len() - NOT_EXERCISED_SHOWN
            )?;
        }
        Ok(())
    }

    fn write_not_checked(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.not_checked.is_empty() {
            return Ok(());
        }
        writeln!(f)?;
        let required = self.not_checked.iter().filter(|n| n.required).count();
        writeln!(
            f,
            "NOT CHECKED ({} required, {} optional)",
            required,
            self.not_checked.len() - required
        )?;
        // One line per reason, naming its operations, so that one cause
        // (wrong credentials, a missing second user) reads as one cause.
        let mut by_reason: Vec<(&str, bool, Vec<String>)> = Vec::new();
        for n in &self.not_checked {
            let name = format!("{} · {}", n.operation, n.kind);
            match by_reason
                .iter_mut()
                .find(|(reason, req, _)| *reason == n.reason && *req == n.required)
            {
                Some((_, _, names)) => names.push(name),
                None => by_reason.push((&n.reason, n.required, vec![name])),
            }
        }
        for (reason, required, names) in by_reason {
            let mark = if required { "required" } else { "optional" };
            writeln!(f, "  {mark}, {}: {reason}", names.len())?;
            writeln!(f, "    {}", names.join(", "))?;
        }
        Ok(())
    }

    /// The properties that do not apply to this run, one line per reason.
    fn write_not_applicable(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.not_applicable.is_empty() {
            return Ok(());
        }
        writeln!(f)?;
        writeln!(f, "NOT APPLICABLE ({})", self.not_applicable.len())?;
        let mut by_reason: Vec<(&str, Vec<String>)> = Vec::new();
        for n in &self.not_applicable {
            let name = format!("{} · {}", n.operation, n.kind);
            match by_reason.iter_mut().find(|(reason, _)| *reason == n.reason) {
                Some((_, names)) => names.push(name),
                None => by_reason.push((&n.reason, vec![name])),
            }
        }
        for (reason, names) in by_reason {
            writeln!(f, "  {}: {reason}", names.len())?;
            writeln!(f, "    {}", names.join(", "))?;
        }
        Ok(())
    }

    /// Requests sent with a method other than `GET` and `HEAD`, less the
    /// log-ins, which change nothing.
    pub fn writes_sent(&self) -> u64 {
        let log_ins = self
            .row("authenticateUser")
            .map(|row| u64::from(row.calls))
            .unwrap_or(0);
        self.traffic
            .methods
            .not_get_or_head()
            .saturating_sub(log_ins)
    }
}

fn write_failure(f: &mut fmt::Formatter<'_>, number: usize, group: &FailureGroup) -> fmt::Result {
    let failure = group.first;
    let times = match group.count {
        1 => String::new(),
        count => format!(" ×{count} (the first shown)"),
    };
    writeln!(
        f,
        "{number}. {} · {} · {}{times}",
        failure.operation, failure.kind, failure.expectation
    )?;
    writeln!(f, "   expected: {}", failure.expected)?;
    writeln!(f, "   actual:   {}", failure.actual)?;
    if let Some(exchange) = &failure.exchange {
        let first = if group.count > 1 { "first " } else { "" };
        writeln!(f, "   {first}at request {}", exchange.number)?;
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
    if let Some(reproduction) = &failure.reproduction {
        writeln!(f, "   reproduction:")?;
        for line in reproduction.lines() {
            writeln!(f, "             {line}")?;
        }
    }
    Ok(())
}

/// The `--bench` lines of `report`.
pub(super) fn bench(report: &Report) -> String {
    let t = report.timings;
    let wall = t.wall.as_secs_f64();
    let per_second = |count: f64| if wall > 0.0 { count / wall } else { 0.0 };
    let share = |part: std::time::Duration| {
        if wall > 0.0 {
            100.0 * part.as_secs_f64() / wall
        } else {
            0.0
        }
    };
    let checks = report.checks();
    format!(
        "bench: wall time {wall:.2} s\n\
         bench: {} requests, {:.1} requests/s\n\
         bench: {checks} checks, {:.1} checks/s\n\
         bench: waiting on responses {:.2} s ({:.0} %), pausing {:.2} s ({:.0} %), \
         in the harness {:.2} s ({:.0} %)\n",
        report.requests,
        per_second(report.requests as f64),
        per_second(checks as f64),
        t.waiting.as_secs_f64(),
        share(t.waiting),
        t.pausing.as_secs_f64(),
        share(t.pausing),
        t.in_harness().as_secs_f64(),
        share(t.in_harness()),
    )
}

#[cfg(test)]
mod tests {
    use crate::checks::{CheckKind, Outcome, Results};
    use crate::report::tests::{catalog, report};
    use crate::report::{Plan, Report};

    #[test]
    fn a_run_failed_only_by_leftovers_says_so_in_its_verdict() {
        let mut report = report(false, Plan::default());
        report.cleanup.leftovers.push(crate::cleanup::Leftover {
            kind: crate::cleanup::Kind::Flow,
            id: "f1".into(),
            reason: "still listed after cleanup".into(),
        });

        let text = report.to_string();

        assert!(
            text.contains("FAILED: 1 object left behind; 1 checks, 0 failed"),
            "{text}"
        );
    }

    #[test]
    fn the_matrix_has_a_row_per_operation_and_marks_uncalled_ones() {
        let text = report(false, Plan::default()).to_string();

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
        let text = report(true, Plan::default()).to_string();

        assert!(
            text.contains("1. getFlow · semantics · flows.get-after-delete-is-404"),
            "{text}"
        );
        assert!(text.contains("expected: status 404"), "{text}");
        assert!(text.contains("actual:   status 200"), "{text}");
        assert!(
            text.contains("FAILED: 1 checks, 1 failed, 0 required not checked, 1 requests"),
            "{text}"
        );
    }

    #[test]
    fn a_reproduction_is_printed_under_its_failure_and_not_in_actual() {
        let mut results = Results::default();
        results.count_call("getFlow");
        results.record_reproducible(
            Outcome {
                operation: "getFlow".into(),
                kind: CheckKind::Semantics,
                expectation: "model.read-your-writes".into(),
                mismatch: Some(("status 404".to_string(), "status 200".to_string())),
            },
            None,
            "seed 7; shrunk from 9 to 2 steps\n1. create flow F0\n   curl -X POST \
             'http://127.0.0.1:4242/flows'"
                .into(),
        );

        let report = Report::assemble(
            &catalog(),
            crate::report::tests::record(results, Plan::default()),
        );
        let text = report.to_string();

        assert_eq!(report.failures[0].actual, "status 200");
        assert!(
            text.contains(
                "   actual:   status 200\n   reproduction:\n             seed 7; shrunk from 9 \
                 to 2 steps\n             1. create flow F0\n"
            ),
            "{text}"
        );
        let json = crate::report::json::to_value(&report, false);
        assert_eq!(
            json["failures"][0]["reproduction"],
            "seed 7; shrunk from 9 to 2 steps\n1. create flow F0\n   curl -X POST \
             '<server>/flows'",
            "the port, which differs between runs, is left out"
        );
    }

    #[test]
    fn a_property_whose_setup_failed_is_listed_as_not_exercised() {
        let mut results = Results::default();
        results.count_call("getFlow");
        for _ in 0..2 {
            results.record_unchecked(crate::checks::Unchecked {
                operation: "createStore".into(),
                kind: CheckKind::Semantics,
                expectation: "strings.round-trip".into(),
                reason: "its setup request createStore answered 500 (a server error), so it \
                         was not exercised there"
                    .into(),
            });
        }

        let report = Report::assemble(
            &catalog(),
            crate::report::tests::record(results, Plan::default()),
        );
        let text = report.to_string();

        assert!(
            text.contains(
                "not exercised: 2 checks\n  strings.round-trip: its setup request createStore \
                 answered 500 (a server error), so it was not exercised there (2 times)\n"
            ),
            "{text}"
        );
        let json = crate::report::json::to_value(&report, false);
        assert_eq!(json["unchecked"][0]["expectation"], "strings.round-trip");
    }

    #[test]
    fn a_required_property_never_checked_is_marked_in_its_cell_and_explained() {
        let mut plan = Plan::default();
        plan.skip("getFlow", CheckKind::Isolation, "needs a second user");

        let text = report(false, plan).to_string();

        let flow_line = text.lines().find(|l| l.starts_with("getFlow")).unwrap();
        assert!(
            flow_line.contains("0/0!") && flow_line.ends_with("NOT CHECKED"),
            "{flow_line}"
        );
        assert!(text.contains("required, 1: needs a second user"), "{text}");
        assert!(text.contains("getFlow · isolation"), "{text}");
        assert!(text.contains("NOT CHECKED: 1 checks"), "{text}");
    }
}
