//! The report as JUnit XML (`--report junit=PATH`) for CI dashboards.
//!
//! One test suite per operation, one test case per property of it that was
//! checked or planned: a success when every check held, a failure listing
//! the failed expectations, a failure of type `not-checked` when a required
//! property was never checked (with the reason), and a skip when an
//! optional one was not. Like the JSON form it carries no timestamps, so
//! two runs with the same seed give the same file.

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::checks::CheckKind;

/// `report` as a JUnit XML document.
pub fn render(report: &Report) -> String {
    let mut junit = quick_junit::Report::new("appmixer-conformance");
    for row in &report.rows {
        let mut kinds: Vec<CheckKind> = row
            .tallies
            .keys()
            .chain(row.planned.keys())
            .copied()
            .collect();
        kinds.sort();
        kinds.dedup();
        if kinds.is_empty() {
            continue;
        }
        let mut suite = TestSuite::new(row.operation.as_str());
        suite.add_property(Property::new("route", row.route.as_str()));
        for kind in kinds {
            suite.add_test_case(test_case(report, &row.operation, kind, row.tally(kind)));
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .expect("a JUnit report of plain strings always serializes")
}

fn test_case(
    report: &Report,
    operation: &str,
    kind: CheckKind,
    tally: crate::checks::Tally,
) -> TestCase {
    let failures: Vec<_> = report.failures_of(operation, kind).collect();
    let not_checked = report
        .not_checked
        .iter()
        .find(|n| n.operation == operation && n.kind == kind);
    let status = if !failures.is_empty() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_type("property-failed");
        status.set_message(format!(
            "{} of {} checks failed; first: {}",
            failures.len(),
            tally.total,
            failures[0].expectation
        ));
        let details: Vec<String> = super::groups::group(failures.iter().copied())
            .iter()
            .map(|group| {
                let f = group.first;
                let times = match group.count {
                    1 => String::new(),
                    count => format!(" (×{count})"),
                };
                let mut detail = format!(
                    "{}{times}: expected {}, got {}",
                    f.expectation, f.expected, f.actual
                );
                if let Some(reproduction) = &f.reproduction {
                    detail.push_str("\nreproduction:\n");
                    detail.push_str(reproduction);
                }
                detail
            })
            .collect();
        status.set_description(details.join("\n"));
        status
    } else if let Some(missing) = not_checked {
        if missing.required {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_type("not-checked");
            status.set_message(format!("never checked: {}", missing.reason));
            status
        } else {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("not checked: {}", missing.reason));
            status
        }
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new(kind.label(), status);
    case.set_classname(operation);
    case.set_assertions(tally.total as usize);
    case
}
