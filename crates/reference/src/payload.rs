//! Typed reads of a JSON request body's fields.
//!
//! Bodies are kept as `serde_json` objects (so unknown fields survive and key
//! order is preserved) and checked field by field here. Each check refuses a
//! wrong type or a missing field with a 400 that names the field and, via
//! `validation.keys`, points at it. Fields only the server sets are refused
//! by name, so that a client learns that its value would not be kept.

use serde_json::{Map, Value};

use crate::errors::{ApiError, ApiResult, Source, kind};

/// The fields of a JSON object body, or of an object nested in one.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: &'a str,
}

impl<'a> Fields<'a> {
    /// The fields of a top-level body.
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Self { map, prefix: "" }
    }

    /// The fields of an object found at `prefix` (ending in `.`), which
    /// errors name in full: `additional.name`.
    pub fn nested(map: &'a Map<String, Value>, prefix: &'a str) -> Self {
        Self { map, prefix }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Refuses the body when it names one of `server_fields`, which only
    /// the server sets.
    pub fn refuse_server_fields(&self, server_fields: &[&str]) -> ApiResult<()> {
        match server_fields
            .iter()
            .find(|field| self.map.contains_key(**field))
        {
            None => Ok(()),
            Some(field) => {
                let key = self.key(field);
                Err(ApiError::invalid(
                    Source::Payload,
                    &key,
                    format!(
                        "`{key}` is set by the server and cannot be given; remove it from the payload"
                    ),
                ))
            }
        }
    }

    /// A string field, if present.
    pub fn string(&self, key: &str) -> ApiResult<Option<&'a str>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(wrong_type(&self.key(key), "a string", other)),
        }
    }

    /// A string field that must be present.
    pub fn required_string(&self, key: &str) -> ApiResult<&'a str> {
        self.string(key)?.ok_or_else(|| missing(&self.key(key)))
    }

    /// A string field that must be present and not empty.
    pub fn non_empty_string(&self, key: &str) -> ApiResult<&'a str> {
        let text = self.required_string(key)?;
        if text.is_empty() {
            let key = self.key(key);
            return Err(ApiError::invalid(
                Source::Payload,
                &key,
                format!("`{key}` must not be empty"),
            ));
        }
        Ok(text)
    }

    /// Refuses `text`, the value of field `key`, when it is longer than
    /// `max` characters.
    ///
    /// Characters, not bytes, as JSON Schema's `maxLength` counts them, so
    /// that the spec's bound and the server's are the same.
    pub fn at_most(&self, key: &str, text: &str, max: usize) -> ApiResult<()> {
        if text.chars().nth(max).is_none() {
            return Ok(());
        }
        let key = self.key(key);
        Err(ApiError::invalid(
            Source::Payload,
            &key,
            format!(
                "`{key}` must be at most {max} characters, got {}; shorten it",
                text.chars().count()
            ),
        ))
    }

    /// A string or `null` field, if present.
    pub fn nullable_string(&self, key: &str) -> ApiResult<()> {
        match self.map.get(key) {
            None | Some(Value::Null | Value::String(_)) => Ok(()),
            Some(other) => Err(wrong_type(&self.key(key), "a string or null", other)),
        }
    }

    /// An object field, if present.
    pub fn object(&self, key: &str) -> ApiResult<Option<&'a Map<String, Value>>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Object(object)) => Ok(Some(object)),
            Some(other) => Err(wrong_type(&self.key(key), "an object", other)),
        }
    }

    /// An array field, if present.
    pub fn array(&self, key: &str) -> ApiResult<Option<&'a Vec<Value>>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(wrong_type(&self.key(key), "an array", other)),
        }
    }

    /// A boolean field, if present.
    pub fn boolean(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(wrong_type(&self.key(key), "a boolean", other)),
        }
    }

    /// An integer field, if present.
    pub fn integer(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(value @ Value::Number(number)) => number
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(&self.key(key), "an integer", value)),
            Some(other) => Err(wrong_type(&self.key(key), "an integer", other)),
        }
    }
}

/// A 400 for a field of the wrong type; names the kind, never the value.
pub fn wrong_type(key: &str, expected: &str, got: &Value) -> ApiError {
    let got = match got {
        Value::Number(_) if expected == "an integer" => "a non-integer number",
        other => kind(other),
    };
    ApiError::invalid(
        Source::Payload,
        key,
        format!("`{key}` must be {expected}, got {got}"),
    )
}

/// A 400 for a required field that is absent.
pub fn missing(key: &str) -> ApiError {
    ApiError::invalid(Source::Payload, key, format!("`{key}` is required"))
}
