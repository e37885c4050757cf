//! Comparing JSON values and saying where they differ.
//!
//! Round trips (a descriptor sent, then read back) are judged by JSON value
//! equality: key order and formatting do not matter, everything else does.
//! When two values differ, [`first_difference`] names the JSON pointer of the
//! first place they part, so a failure in a 400 kB flow points at the one
//! string that changed instead of printing both documents.

use std::fmt::Write as _;

use serde_json::Value;

use crate::redact;

/// How many characters of each side a difference shows.
const SHOWN: usize = 160;

/// Where and how two JSON values differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The JSON pointer of the differing value (`""` for the whole value).
    pub pointer: String,
    /// The expected value there, `None` when it should be absent.
    pub expected: Option<Value>,
    /// The actual value there, `None` when it is missing.
    pub actual: Option<Value>,
}

impl Difference {
    /// The expected side, for a report.
    pub fn expected_text(&self) -> String {
        self.side(self.expected.as_ref())
    }

    /// The actual side, for a report.
    pub fn actual_text(&self) -> String {
        self.side(self.actual.as_ref())
    }

    /// One side: the value, and where it is unless the values differ as a
    /// whole.
    fn side(&self, value: Option<&Value>) -> String {
        match (self.pointer.as_str(), value) {
            ("", None) => "nothing: the answer has no such value".into(),
            ("", Some(_)) => show(value),
            (pointer, None) => format!("nothing at `{pointer}`"),
            (pointer, Some(_)) => format!("{} at `{pointer}`", show(value)),
        }
    }
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "nothing".into(),
        Some(value) => redact::truncate(&redact::json(value).to_string(), SHOWN),
    }
}

/// The first place where `actual` differs from `expected`, if any.
pub fn first_difference(expected: &Value, actual: Option<&Value>) -> Option<Difference> {
    let mut pointer = String::new();
    walk(expected, actual, &mut pointer)
}

/// The first place where a field that `expected`, an object, names differs
/// in `actual`; the fields `actual` has beyond those are not compared. The
/// same as [`first_difference`] against `actual` cut down to `expected`'s
/// fields, without copying them.
pub fn first_difference_in_fields(expected: &Value, actual: &Value) -> Option<Difference> {
    let Some(want) = expected.as_object() else {
        // Nothing of `actual` is echoed for a value that names no fields.
        return first_difference(expected, Some(&Value::Object(serde_json::Map::new())));
    };
    let mut pointer = String::new();
    for (key, value) in want {
        push_token(&mut pointer, key);
        let found = walk(value, actual.get(key), &mut pointer);
        if found.is_some() {
            return found;
        }
        pointer.clear();
    }
    None
}

fn walk(expected: &Value, actual: Option<&Value>, pointer: &mut String) -> Option<Difference> {
    let differ = |pointer: &str| {
        Some(Difference {
            pointer: pointer.to_string(),
            expected: Some(expected.clone()),
            actual: actual.cloned(),
        })
    };
    let Some(actual) = actual else {
        return differ(pointer);
    };
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for (key, value) in want {
                let length = pointer.len();
                push_token(pointer, key);
                let found = walk(value, got.get(key), pointer);
                pointer.truncate(length);
                if found.is_some() {
                    return found;
                }
            }
            got.iter()
                .find(|(key, _)| !want.contains_key(*key))
                .map(|(key, value)| {
                    let mut at = pointer.clone();
                    push_token(&mut at, key);
                    Difference {
                        pointer: at,
                        expected: None,
                        actual: Some(value.clone()),
                    }
                })
        }
        (Value::Array(want), Value::Array(got)) if want.len() == got.len() => {
            for (index, (value, other)) in want.iter().zip(got).enumerate() {
                let length = pointer.len();
                // Written in place: a pointer is only kept when a value differs.
                let _ = write!(pointer, "/{index}");
                let found = walk(value, Some(other), pointer);
                pointer.truncate(length);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        _ if expected == actual => None,
        _ => differ(pointer),
    }
}

/// Appends `key` to `pointer` as one RFC 6901 reference token.
fn push_token(pointer: &mut String, key: &str) {
    pointer.push('/');
    for c in key.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_fields_expected_names_are_compared_as_if_cut_down() {
        let expected = json!({"name": "a", "stage": "running"});
        let actual = json!({"name": "a", "stage": "stopped", "mtime": "now"});
        let cut_down = json!({"name": "a", "stage": "stopped"});

        let difference = first_difference_in_fields(&expected, &actual);

        assert_eq!(difference, first_difference(&expected, Some(&cut_down)));
        assert_eq!(difference.unwrap().pointer, "/stage");
        assert_eq!(
            first_difference_in_fields(&json!({"name": "a"}), &json!({"name": "a", "x": 1})),
            None
        );
        assert_eq!(
            first_difference_in_fields(&json!({"gone": 1}), &json!({}))
                .unwrap()
                .actual,
            None
        );
    }

    #[test]
    fn equal_values_have_no_difference_whatever_the_key_order() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"c":[1,2]}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":{"c":[1,2]},"a":1}"#).unwrap();

        assert_eq!(first_difference(&a, Some(&b)), None);
    }

    #[test]
    fn the_first_changed_leaf_is_named_by_its_pointer() {
        let sent = json!({"flow": {"c/1": {"label": "𝄞", "x": 1}}});
        let back = json!({"flow": {"c/1": {"label": "?", "x": 1}}});

        let difference = first_difference(&sent, Some(&back)).unwrap();

        assert_eq!(difference.pointer, "/flow/c~11/label");
        assert_eq!(difference.expected, Some(json!("𝄞")));
        assert_eq!(difference.actual, Some(json!("?")));
    }

    #[test]
    fn a_missing_and_an_added_field_are_both_differences() {
        let missing = first_difference(&json!({"a": 1}), Some(&json!({}))).unwrap();
        let added = first_difference(&json!({}), Some(&json!({"z": null}))).unwrap();

        assert_eq!((missing.pointer.as_str(), missing.actual), ("/a", None));
        assert_eq!((added.pointer.as_str(), added.expected), ("/z", None));
    }

    #[test]
    fn a_difference_of_the_whole_value_names_no_pointer() {
        let missing = first_difference(&json!(2), None).unwrap();
        let wrong_type = first_difference(&json!(2), Some(&json!("2"))).unwrap();
        let nested = first_difference(&json!({"a": 1}), Some(&json!({}))).unwrap();

        assert_eq!(missing.expected_text(), "2");
        assert_eq!(
            missing.actual_text(),
            "nothing: the answer has no such value"
        );
        assert_eq!(wrong_type.actual_text(), "\"2\"");
        assert_eq!(nested.expected_text(), "1 at `/a`");
        assert_eq!(nested.actual_text(), "nothing at `/a`");
    }

    #[test]
    fn an_integer_and_an_equal_float_differ() {
        let difference = first_difference(&json!({"n": 1.5}), Some(&json!({"n": 1})));

        assert!(difference.is_some());
    }
}
