//! Reading the spec's text, YAML or JSON, into one [`serde_json::Value`] with
//! keys in document order and no key twice in one mapping.
//!
//! Left to themselves, serde_yaml and serde_json keep the last of two equal
//! keys when they build a `serde_json::Value`, so a repeated `'200':` would
//! quietly replace the first response. The value is therefore built by a
//! visitor of its own, which refuses a repeated key and leaves the parser to
//! say where it stopped. serde_yaml locates such an error at the start of the
//! mapping rather than at the repeated key, so the key's own line is then
//! looked up in the text.

use std::cell::RefCell;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{SpecError, SyntaxFormat};

/// The format of `text`: JSON when its first non-blank character is `{`.
pub(crate) fn format_of(text: &str) -> SyntaxFormat {
    if text.trim_start().starts_with('{') {
        SyntaxFormat::Json
    } else {
        SyntaxFormat::Yaml
    }
}

/// Parses `text` as `format` into a value, refusing repeated keys.
pub(crate) fn document(text: &str, format: SyntaxFormat, origin: &str) -> Result<Value, SpecError> {
    let repeated = RefCell::new(None);
    let seed = UniqueKeys {
        repeated: &repeated,
    };
    match format {
        SyntaxFormat::Json => {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let parsed = seed
                .deserialize(&mut deserializer)
                .and_then(|value| deserializer.end().map(|()| value));
            parsed.map_err(|error| match repeated.take() {
                Some(key) => SpecError::DuplicateKey {
                    origin: origin.to_owned(),
                    key,
                    line: error.line(),
                    column: error.column(),
                    within: String::new(),
                },
                None => json_error(&error, origin, false),
            })
        }
        SyntaxFormat::Yaml => seed
            .deserialize(serde_yaml::Deserializer::from_str(text))
            .map_err(|error| match repeated.take() {
                Some(key) => yaml_duplicate(&error, text, key, origin),
                None => yaml_error(&error, origin, false),
            }),
    }
}

/// Builds a [`Value`] like serde_json's own visitor, except that a mapping
/// that repeats a key is an error; the key is kept in `repeated` so that the
/// caller can tell this error from the parser's own.
#[derive(Clone, Copy)]
struct UniqueKeys<'a> {
    repeated: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON-compatible value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Value, E> {
        Number::from_i128(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("the integer {value} is out of range")))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Value, E> {
        Number::from_u128(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("the integer {value} is out of range")))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // As in serde_json: JSON has no NaN or infinity, they become null.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(sequence.size_hint().unwrap_or(0));
        while let Some(item) = sequence.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut mapping: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = mapping.next_key::<String>()? {
            if object.contains_key(&key) {
                let error = de::Error::custom(format!("duplicate key `{key}`"));
                self.repeated.replace(Some(key));
                return Err(error);
            }
            let value = mapping.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// The error for a key repeated in YAML, at the repeated key when the text
/// shows where it is, else at the start of its mapping.
fn yaml_duplicate(error: &serde_yaml::Error, text: &str, key: String, origin: &str) -> SpecError {
    let text_of_error = error.to_string();
    let (mapping_line, mapping_column) = error
        .location()
        .map_or((0, 0), |location| (location.line(), location.column()));
    // serde_yaml prefixes the message with the path of the mapping, e.g.
    // `paths./flows.get: duplicate key …`; nothing at the document root.
    let within = text_of_error
        .split_once(": duplicate key `")
        .map(|(path, _)| format!(" (in `{path}`)"))
        .unwrap_or_default();
    let (line, column) = repeated_key_position(text, &key, mapping_line, mapping_column)
        .unwrap_or((mapping_line, mapping_column));
    SpecError::DuplicateKey {
        origin: origin.to_owned(),
        key,
        line,
        column,
        within,
    }
}

/// Where `key` is written for the second time in the block mapping whose
/// first key is at `line` and `column` (1-based), if the text shows it.
///
/// The keys of a block mapping all start in the mapping's column; the mapping
/// ends at the first line indented less. A flow mapping (`{a: 1, a: 2}`) is
/// not searched and gives `None`.
fn repeated_key_position(
    text: &str,
    key: &str,
    line: usize,
    column: usize,
) -> Option<(usize, usize)> {
    let indent = column.checked_sub(1)?;
    let spellings = [
        format!("{key}:"),
        format!("'{key}':"),
        format!("\"{key}\":"),
    ];
    let mut seen = 0;
    for (index, content) in text.lines().enumerate().skip(line.checked_sub(1)?) {
        let is_first = index + 1 == line;
        let (before, rest) = split_at_char(content, indent)?;
        if !is_first {
            let trimmed = content.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if !before.chars().all(|c| c == ' ') {
                return None;
            }
        }
        let starts_key = spellings.iter().any(|spelling| {
            rest.strip_prefix(spelling.as_str())
                .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t']))
        });
        if starts_key {
            seen += 1;
            if seen == 2 {
                return Some((index + 1, column));
            }
        }
    }
    None
}

/// `line` split before its `at`-th character, `None` when it is shorter.
fn split_at_char(line: &str, at: usize) -> Option<(&str, &str)> {
    let byte = match line.char_indices().nth(at) {
        Some((byte, _)) => byte,
        None if line.chars().count() == at => line.len(),
        None => return None,
    };
    Some(line.split_at(byte))
}

/// A serde_json error as a syntax error, or, reading the model, as a model error.
pub(crate) fn json_error(error: &serde_json::Error, origin: &str, model: bool) -> SpecError {
    let (line, column) = (error.line(), error.column());
    let message = strip_location(&error.to_string(), line, column);
    if model && error.is_data() {
        SpecError::Model {
            origin: origin.to_owned(),
            location: format!(" at line {line}, column {column}"),
            message,
        }
    } else {
        SpecError::Syntax {
            origin: origin.to_owned(),
            format: SyntaxFormat::Json,
            line,
            column,
            message,
        }
    }
}

/// A serde_yaml error as a syntax error, or, reading the model, as a model error.
pub(crate) fn yaml_error(error: &serde_yaml::Error, origin: &str, model: bool) -> SpecError {
    let text = error.to_string();
    match error.location() {
        Some(location) if !model => SpecError::Syntax {
            origin: origin.to_owned(),
            format: SyntaxFormat::Yaml,
            line: location.line(),
            column: location.column(),
            message: strip_location(&text, location.line(), location.column()),
        },
        Some(location) => SpecError::Model {
            origin: origin.to_owned(),
            location: format!(" at line {}, column {}", location.line(), location.column()),
            message: strip_location(&text, location.line(), location.column()),
        },
        None => SpecError::Model {
            origin: origin.to_owned(),
            location: String::new(),
            message: text,
        },
    }
}

/// Removes the parser's own " at line L column C", which the error repeats.
fn strip_location(message: &str, line: usize, column: usize) -> String {
    message.replacen(&format!(" at line {line} column {column}"), "", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_spelling_of_a_key_is_found_below_its_mapping() {
        let text = "a:\n  b: 1\n  # a comment\n  c:\n    b: 2\n  'b': 3\n";

        assert_eq!(repeated_key_position(text, "b", 2, 3), Some((6, 3)));
    }

    #[test]
    fn the_search_stops_where_the_mapping_ends() {
        let text = "a:\n  b: 1\nc:\n  b: 2\n";

        assert_eq!(repeated_key_position(text, "b", 2, 3), None);
    }

    #[test]
    fn the_first_key_of_a_sequence_item_counts() {
        let text = "- name: a\n  in: query\n  name: b\n";

        assert_eq!(repeated_key_position(text, "name", 1, 3), Some((3, 3)));
    }

    #[test]
    fn a_key_that_merely_starts_alike_is_not_the_key() {
        let text = "a:\n  type: object\n  types: 1\n";

        assert_eq!(repeated_key_position(text, "type", 2, 3), None);
    }

    #[test]
    fn unique_keys_build_the_same_value_as_serde_json() {
        let text = r#"{"a": [1, -2, 3.5, true, null, "s"], "b": {"c": {}}}"#;

        let value = document(text, SyntaxFormat::Json, "spec text").unwrap();

        assert_eq!(value, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn yaml_keys_keep_their_document_order() {
        let text = "z: 1\na: 2\nm: 3\n";

        let value = document(text, SyntaxFormat::Yaml, "spec text").unwrap();

        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }
}
