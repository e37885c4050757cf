//! The query semantics the spec documents, as the oracle that list answers
//! are compared with.
//!
//! - `pattern` of flows, charts and records: a case-insensitive substring
//!   (of a flow's `name` or `flowId`, of a chart's `name`, of a record's key
//!   or value); of people tasks: a case-insensitive regular expression on the
//!   `title`.
//! - `filter`: `path:value`, the value after the first colon, dotted paths
//!   into nested objects, a leading `!` negating; every filter must hold.
//! - `sort`: by one field, ascending or descending; only distinct values are
//!   ordered, ties may come in any order.
//! - `projection`: `a,b` keeps only the named fields, `-a,-b` leaves them
//!   out; the identity field is always kept.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde_json::Value;

/// Case-insensitive substring match.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// Whether a flow matches `pattern` (its name or id contains it).
pub fn flow_matches(flow: &Value, pattern: &str) -> bool {
    ["name", "flowId"]
        .iter()
        .filter_map(|field| flow.get(field).and_then(Value::as_str))
        .any(|text| contains_ci(text, pattern))
}

/// Whether a record matches `pattern` (its key, or its value as text or as
/// JSON text, contains it).
pub fn record_matches(key: &str, value: &Value, pattern: &str) -> bool {
    let value_text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    contains_ci(key, pattern) || contains_ci(&value_text, pattern)
}

/// A people-task `pattern`: a case-insensitive regular expression on the
/// title, compiled once for all the titles it is held against; an invalid
/// one matches nothing.
#[derive(Debug, Clone)]
pub struct TitlePattern(Option<regex::Regex>);

impl TitlePattern {
    /// The compiled `pattern`.
    pub fn new(pattern: &str) -> Self {
        Self(
            regex::RegexBuilder::new(pattern)
                .case_insensitive(true)
                .build()
                .ok(),
        )
    }

    /// Whether `title` matches.
    pub fn matches(&self, title: &str) -> bool {
        self.0.as_ref().is_some_and(|re| re.is_match(title))
    }
}

/// Whether `title` matches the people-task `pattern` (see [`TitlePattern`]).
pub fn title_matches(title: &str, pattern: &str) -> bool {
    TitlePattern::new(pattern).matches(title)
}

/// The value at a dotted `path` of `object`.
pub fn at_path<'v>(object: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(object, |value, part| value.get(part))
}

/// Whether `object` satisfies one `filter` (`path:value`, `path:!value`).
pub fn filter_holds(object: &Value, filter: &str) -> bool {
    let Some((path, wanted)) = filter.split_once(':') else {
        return false;
    };
    let (negated, wanted) = match wanted.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, wanted),
    };
    let equal = match at_path(object, path) {
        Some(Value::String(text)) => text == wanted,
        Some(Value::Bool(flag)) => flag.to_string() == wanted,
        Some(Value::Number(number)) => number.to_string() == wanted,
        _ => false,
    };
    equal != negated
}

/// Whether `object` satisfies every filter.
pub fn filters_hold(object: &Value, filters: &[String]) -> bool {
    filters.iter().all(|filter| filter_holds(object, filter))
}

/// Compares two field values the way a sort orders them: numbers by value,
/// timestamps by instant, other strings by code point, booleans false
/// first. `None` for values of different kinds (or missing), which the
/// oracle leaves unordered.
pub fn compare_values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => {
            let instant = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
            match (instant(x), instant(y)) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => Some(x.cmp(y)),
            }
        }
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The first pair of positions whose distinct values are out of order for
/// the direction (`ascending` or not), if any.
pub fn first_out_of_order(values: &[Value], ascending: bool) -> Option<(usize, usize)> {
    for later in 1..values.len() {
        for earlier in 0..later {
            let order = compare_values(&values[earlier], &values[later]);
            let wrong = match order {
                Some(Ordering::Greater) => ascending,
                Some(Ordering::Less) => !ascending,
                _ => false,
            };
            if wrong {
                return Some((earlier, later));
            }
        }
    }
    None
}

/// The fields `projection` leaves of an object with `fields`, `identity`
/// always kept.
pub fn projected_fields(
    fields: &BTreeSet<String>,
    projection: &str,
    identity: &str,
) -> BTreeSet<String> {
    let named: Vec<&str> = projection
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    let excluding = named.iter().all(|name| name.starts_with('-'));
    let mut kept: BTreeSet<String> = if excluding {
        let left_out: BTreeSet<&str> = named
            .iter()
            .map(|name| name.trim_start_matches('-'))
            .collect();
        fields
            .iter()
            .filter(|field| !left_out.contains(field.as_str()))
            .cloned()
            .collect()
    } else {
        fields
            .iter()
            .filter(|field| named.contains(&field.as_str()))
            .cloned()
            .collect()
    };
    if fields.contains(identity) {
        kept.insert(identity.to_string());
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_filter_value_keeps_everything_after_the_first_colon_and_bang_negates() {
        let account = json!({"service": "appmixer:slack", "meta": {"n": 3}});

        assert!(filter_holds(&account, "service:appmixer:slack"));
        assert!(!filter_holds(&account, "service:!appmixer:slack"));
        assert!(filter_holds(&account, "service:!appmixer:jira"));
        assert!(filter_holds(&account, "meta.n:3"));
    }

    #[test]
    fn patterns_ignore_case_and_task_patterns_are_regular_expressions() {
        let flow = json!({"flowId": "9089f275", "name": "New Contacts 𝄞"});

        assert!(flow_matches(&flow, "contacts"));
        assert!(flow_matches(&flow, "9089"));
        assert!(!flow_matches(&flow, "orders"));
        assert!(title_matches("Approve the refund", "^approve.*REFUND$"));
        assert!(!title_matches("Approve", "("));
    }

    #[test]
    fn only_distinct_values_out_of_order_count() {
        let values = [json!("a"), json!("b"), json!("b"), json!("c")];
        let descending = [json!(3), json!(3), json!(1)];

        assert_eq!(first_out_of_order(&values, true), None);
        assert_eq!(first_out_of_order(&values, false), Some((0, 1)));
        assert_eq!(first_out_of_order(&descending, false), None);
    }

    #[test]
    fn timestamps_order_by_instant() {
        let earlier = json!("2024-01-01T00:00:00.900Z");
        let later = json!("2024-01-01T01:00:00+01:00");

        assert_eq!(compare_values(&earlier, &later), Some(Ordering::Greater));
    }

    #[test]
    fn projection_keeps_or_leaves_out_the_named_fields_and_always_the_identity() {
        let fields: BTreeSet<String> = ["flowId", "name", "flow", "stage"]
            .into_iter()
            .map(String::from)
            .collect();

        let kept = projected_fields(&fields, "name", "flowId");
        let left = projected_fields(&fields, "-flow,-flowId", "flowId");

        assert_eq!(
            kept,
            ["flowId", "name"].into_iter().map(String::from).collect()
        );
        assert_eq!(
            left,
            ["flowId", "name", "stage"]
                .into_iter()
                .map(String::from)
                .collect()
        );
    }
}
