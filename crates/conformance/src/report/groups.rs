//! Failures that show one departure, listed once with how often it was seen.
//!
//! A server that gets one thing wrong gets it wrong on every answer of that
//! kind: one body that misses a field fails `spec.body-matches-schema` on
//! every list it serves. The report lists such a departure once, with its
//! count and its first exchange, so that a hundred failures of one cause do
//! not bury the one failure of another. Two failures are the same departure
//! when they are about the same operation, property and expectation, and
//! their expected and actual texts have the same shape once ids and numbers
//! are set aside and a list of errors (`; `-separated, one per item of an
//! answer) is reduced to its distinct kinds: a list of three items that all
//! miss a field departs the same way as a list of thirty.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::checks::{CheckKind, Failure};

/// One departure: its first failure and how many failures showed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureGroup<'a> {
    /// The first failure of the group, whose exchange the report shows.
    pub first: &'a Failure,
    /// How many failures the group holds, at least 1.
    pub count: usize,
}

/// `failures` grouped by departure, in the order each was first seen.
pub fn group<'a>(failures: impl IntoIterator<Item = &'a Failure>) -> Vec<FailureGroup<'a>> {
    let mut groups: Vec<FailureGroup<'a>> = Vec::new();
    let mut index: HashMap<(&str, CheckKind, &str, String, String), usize> = HashMap::new();
    for failure in failures {
        let key = (
            failure.operation.as_str(),
            failure.kind,
            failure.expectation.as_str(),
            shape(&failure.expected),
            shape(&failure.actual),
        );
        match index.get(&key) {
            Some(&at) => groups[at].count += 1,
            None => {
                index.insert(key, groups.len());
                groups.push(FailureGroup {
                    first: failure,
                    count: 1,
                });
            }
        }
    }
    groups
}

/// Runs of hex digits and dashes long enough to be an id (an ObjectId, a
/// UUID, a run tag's suffix).
static ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9a-fA-F][0-9a-fA-F-]{7,}\b").expect("a valid pattern"));

static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d+(\.\d+)?").expect("a valid pattern"));

/// `text` with every id and number replaced by a placeholder, and each
/// `; `-separated part that repeats an earlier one left out.
fn shape(text: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in text.split("; ").map(shape_of_part) {
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    parts.join("; ")
}

/// One part of a text with every id and number replaced by a placeholder.
fn shape_of_part(text: &str) -> String {
    let ids = ID.replace_all(text, |found: &regex::Captures<'_>| {
        let token = &found[0];
        if token.bytes().any(|b| b.is_ascii_digit()) {
            "<id>".to_string()
        } else {
            token.to_string()
        }
    });
    NUMBER.replace_all(&ids, "<n>").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(operation: &str, expectation: &str, actual: &str) -> Failure {
        Failure {
            operation: operation.into(),
            kind: CheckKind::Schema,
            expectation: expectation.into(),
            expected: "a body that matches the schema".into(),
            actual: actual.into(),
            exchange: None,
            reproduction: None,
        }
    }

    #[test]
    fn failures_that_differ_only_in_ids_and_numbers_are_one_group() {
        let failures = [
            failure(
                "getFlow",
                "spec.body-matches-schema",
                "/flowId: 65f1c2d3e4b5a69788990011 is missing `name` at item 3",
            ),
            failure("getFlows", "spec.body-matches-schema", "missing `name`"),
            failure(
                "getFlow",
                "spec.body-matches-schema",
                "/flowId: 0a1b2c3d-0000-4000-8000-123456789abc is missing `name` at item 17",
            ),
            failure(
                "getFlow",
                "spec.body-matches-schema",
                "/flowId: 65f1c2d3e4b5a69788990011 has the wrong type",
            ),
        ];

        let groups = group(&failures);

        let counts: Vec<(&str, usize)> = groups
            .iter()
            .map(|g| (g.first.actual.as_str(), g.count))
            .collect();
        assert_eq!(
            counts,
            [
                (failures[0].actual.as_str(), 2),
                ("missing `name`", 1),
                (failures[3].actual.as_str(), 1),
            ]
        );
        assert!(
            std::ptr::eq(groups[0].first, &failures[0]),
            "the first is kept"
        );
    }

    #[test]
    fn lists_that_fail_alike_item_by_item_are_one_group_whatever_their_length() {
        let item = |n: usize| format!("/{n}: \"flowId\" is a required property");
        let errors = |count: usize| (0..count).map(item).collect::<Vec<_>>().join("; ");
        let failures = [
            failure("getFlows", "spec.body-matches-schema", &errors(3)),
            failure("getFlows", "spec.body-matches-schema", &errors(30)),
            failure("getFlows", "spec.body-matches-schema", &errors(1)),
            failure(
                "getFlows",
                "spec.body-matches-schema",
                &format!("{}; /2: \"name\" is not a string", errors(2)),
            ),
        ];

        let groups = group(&failures);

        let counts: Vec<usize> = groups.iter().map(|g| g.count).collect();
        assert_eq!(counts, [3, 1]);
    }

    #[test]
    fn words_made_of_hex_letters_are_not_ids() {
        assert_eq!(
            shape("deadbeefcafe accepted 12"),
            "deadbeefcafe accepted <n>"
        );
        assert_eq!(shape("run amxc-1a2b3c4d"), "run amxc-<id>");
    }
}
