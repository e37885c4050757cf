//! Turning exchanges into text that is the same from run to run.
//!
//! Ids, timestamps, tokens, secrets and run tags differ in every run; a
//! [`Normaliser`] replaces them with stable placeholders: each id gets one
//! placeholder named after what it identifies and numbered by first
//! appearance (`<flow-1>`, `<store-1>`, `<component-2>`), wherever it shows
//! up again (a path, a query, a body, an object key); timestamps become
//! `<time>`, the run tag `<tag>`, secrets `<redacted>`. What an id
//! identifies comes from where it appears: the field that holds it
//! (`flowId`, `storeId`), the path parameter it fills, or the object it
//! keys (a descriptor's components, a chart's traces).
//!
//! Numbering by first appearance is only stable when ids first appear in a
//! stable order; callers register the ids they chose themselves (component
//! ids of a descriptor) with [`Normaliser::id`] before normalising.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use percent_encoding::percent_decode_str;
use regex::Regex;
use serde_json::{Map, Value};
use url::Url;

use crate::catalog::Catalog;
use crate::redact;

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
        .expect("the timestamp pattern is valid")
});

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
        .expect("the UUID pattern is valid")
});

static OBJECT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9a-f]{24}\b").expect("the ObjectId pattern is valid"));

static RUN_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"amxc-[0-9a-f]{8}").expect("the run tag pattern is valid"));

/// Known values shorter than this are replaced only where they are a whole
/// value, never inside text: a short id such as `7` would otherwise eat
/// every digit 7.
const SHORTEST_REPLACED_IN_TEXT: usize = 6;

/// Epoch milliseconds after this are timestamps (2001-09-09).
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// What the id in a field or path parameter called `name` identifies.
fn kind_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "flowId" | "cloneId" | "originFlowId" => "flow",
        "storeId" => "store",
        "accountId" => "account",
        "chartId" => "chart",
        "userId" => "user",
        "componentId" | "senderId" => "component",
        "_id" | "logId" => "log",
        "_index" | "index" => "log-index",
        "tokenId" => "account-token",
        "ticket" => "ticket",
        "correlationId" => "correlation",
        "webhookId" => "webhook",
        _ => return None,
    })
}

/// What the ids keying an object held in a field called `name` identify.
fn kind_of_keys(name: &str) -> &'static str {
    match name {
        "flow" | "in" | "source" => "component",
        "traces" => "trace",
        "accounts" => "account",
        _ => "id",
    }
}

/// Replaces run-specific values with stable placeholders.
#[derive(Debug, Clone, Default)]
pub struct Normaliser {
    /// Values replaced wherever they occur, longest first.
    known: Vec<(String, String)>,
    counters: BTreeMap<String, usize>,
}

impl Normaliser {
    /// A normaliser for the run tagged `tag`.
    pub fn new(tag: &str) -> Self {
        let mut normaliser = Self::default();
        normaliser.fixed(tag, "<tag>");
        normaliser
    }

    /// Replaces `value` with `placeholder` wherever it occurs.
    pub fn fixed(&mut self, value: &str, placeholder: &str) {
        if !value.is_empty() && !self.known.iter().any(|(v, _)| v == value) {
            self.known
                .push((value.to_string(), placeholder.to_string()));
            // Longer values first, so that an id inside a longer known
            // value does not break it apart.
            self.known
                .sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        }
    }

    /// The placeholder of the id `value` of a `kind`, numbering it if new.
    pub fn id(&mut self, value: &str, kind: &str) -> String {
        if let Some((_, placeholder)) = self.known.iter().find(|(v, _)| v == value) {
            return placeholder.clone();
        }
        let counter = self.counters.entry(kind.to_string()).or_default();
        *counter += 1;
        let placeholder = format!("<{kind}-{counter}>");
        self.fixed(value, &placeholder);
        placeholder
    }

    /// `text` with known values, unknown ids, run tags and timestamps
    /// replaced.
    pub fn text(&mut self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, placeholder) in &self.known {
            if value.len() >= SHORTEST_REPLACED_IN_TEXT && out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        for pattern in [&*UUID, &*OBJECT_ID] {
            let found: Vec<String> = pattern
                .find_iter(&out)
                .map(|m| m.as_str().to_string())
                .collect();
            for value in found {
                let placeholder = self.id(&value, "id");
                out = out.replace(&value, &placeholder);
            }
        }
        let out = RUN_TAG.replace_all(&out, "<other-tag>");
        TIME.replace_all(&out, "<time>").into_owned()
    }

    /// `value` with secrets redacted and ids, tags and timestamps replaced;
    /// object keys come out sorted. `id_kind` is what a plain `id` field
    /// identifies in this answer (`task`, `user`).
    pub fn json(&mut self, value: &Value, id_kind: &str) -> Value {
        self.walk(&redact::json(value), None, id_kind)
    }

    fn walk(&mut self, value: &Value, field: Option<&str>, id_kind: &str) -> Value {
        match value {
            Value::Object(map) => {
                let keys_kind = field.map(kind_of_keys).unwrap_or("id");
                let mut entries: Vec<(String, Value)> = Vec::with_capacity(map.len());
                for (raw, inner) in map {
                    let key = self.key(raw, keys_kind);
                    let walked = self.walk(inner, Some(raw), id_kind);
                    entries.push((key, walked));
                }
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().collect::<Map<String, Value>>())
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.walk(item, field, id_kind))
                    .collect(),
            ),
            Value::String(text) => Value::String(self.string(text, field, id_kind)),
            Value::Number(number) => match (field, number.as_u64()) {
                (Some("key"), Some(ms)) if ms >= EPOCH_MS_FLOOR => Value::String("<time>".into()),
                _ => value.clone(),
            },
            other => other.clone(),
        }
    }

    fn key(&mut self, key: &str, kind: &str) -> String {
        if let Some((_, placeholder)) = self.known.iter().find(|(v, _)| v == key) {
            return placeholder.clone();
        }
        let whole = |pattern: &Regex| pattern.find(key).is_some_and(|m| m.len() == key.len());
        if whole(&UUID) || whole(&OBJECT_ID) {
            self.id(key, kind)
        } else {
            self.text(key)
        }
    }

    fn string(&mut self, text: &str, field: Option<&str>, id_kind: &str) -> String {
        if text == redact::REDACTED {
            return text.to_string();
        }
        if TIME.find(text).is_some_and(|m| m.len() == text.len()) {
            return "<time>".into();
        }
        let kind = match field {
            Some("id") => Some(id_kind),
            Some(name) => kind_of(name),
            None => None,
        };
        match kind {
            // An id field holds one token; text with spaces is a name.
            Some(kind) if !text.is_empty() && !text.contains(char::is_whitespace) => {
                self.id(text, kind)
            }
            _ => self.text(text),
        }
    }

    /// The request line of an exchange: method, then the path with its
    /// parameters decoded and normalised, then the query.
    pub fn request_line(
        &mut self,
        catalog: &Catalog,
        operation: &str,
        method: &str,
        url: &str,
    ) -> String {
        let Ok(url) = Url::parse(url) else {
            return format!("{method} {}", self.text(url));
        };
        let template = catalog.get(operation).map(|op| op.path.clone());
        let segments: Vec<String> = url
            .path_segments()
            .map(|s| s.map(decode).collect())
            .unwrap_or_default();
        let mut path = String::new();
        match template {
            Some(template) => {
                let names: Vec<&str> = template.trim_start_matches('/').split('/').collect();
                // The base URL may have a path of its own; the template
                // matches the last segments.
                let skip = segments.len().saturating_sub(names.len());
                for (name, segment) in names.iter().zip(&segments[skip..]) {
                    path.push('/');
                    let parameter = name.strip_prefix('{').and_then(|n| n.strip_suffix('}'));
                    match parameter.and_then(|p| kind_of(p).or(id_parameter(p))) {
                        Some(kind) => path.push_str(&self.id(segment, kind)),
                        None => path.push_str(&self.text(segment)),
                    }
                }
            }
            None => {
                for segment in &segments {
                    path.push('/');
                    path.push_str(&self.text(segment));
                }
            }
        }
        let query: Vec<String> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = match kind_of(&name) {
                    Some(kind) => self.id(&value, kind),
                    None => self.text(&value),
                };
                format!("{name}={value}")
            })
            .collect();
        if query.is_empty() {
            format!("{method} {path}")
        } else {
            format!("{method} {path}?{}", query.join("&"))
        }
    }
}

/// What a path parameter that no field shares a name with identifies.
fn id_parameter(name: &str) -> Option<&'static str> {
    match name {
        "id" => Some("task"),
        _ => None,
    }
}

fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_id_gets_one_placeholder_everywhere() {
        let mut normaliser = Normaliser::new("amxc-1a2b3c4d");
        let flow = "9089f275-f5a5-4796-ba23-365412c5666e";

        let created = normaliser.json(&json!({"flowId": flow}), "id");
        let text = normaliser.text(&format!("+flowId:{flow}"));

        assert_eq!(created, json!({"flowId": "<flow-1>"}));
        assert_eq!(text, "+flowId:<flow-1>");
    }

    #[test]
    fn timestamps_tags_and_secrets_are_replaced() {
        let mut normaliser = Normaliser::new("amxc-1a2b3c4d");

        let shown = normaliser.json(
            &json!({
                "name": "amxc-1a2b3c4d store",
                "mtime": "2024-06-01T12:00:00.123Z",
                "token": "eyJhbGciOi",
                "approverSecret": "s3cr3t",
                "key": 1_717_243_200_000u64,
            }),
            "id",
        );

        assert_eq!(
            shown,
            json!({
                "approverSecret": "<redacted>",
                "key": "<time>",
                "mtime": "<time>",
                "name": "<tag> store",
                "token": "<redacted>",
            })
        );
    }

    #[test]
    fn ids_keying_a_descriptor_are_components_and_keys_come_out_sorted() {
        let mut normaliser = Normaliser::new("amxc-1a2b3c4d");
        let first = "ffffffff-0000-4000-8000-000000000001";
        let second = "00000000-0000-4000-8000-000000000002";
        normaliser.id(first, "component");
        normaliser.id(second, "component");

        let shown = normaliser.json(
            &json!({"flow": {
                second: {"type": "b", "source": {"in": {first: ["out"]}}},
                first: {"type": "a"},
            }}),
            "id",
        );

        assert_eq!(
            serde_json::to_string(&shown).unwrap(),
            r#"{"flow":{"<component-1>":{"type":"a"},"<component-2>":{"source":{"in":{"<component-1>":["out"]}},"type":"b"}}}"#
        );
    }

    #[test]
    fn request_lines_name_path_parameters_by_what_they_identify() {
        let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).unwrap();
        let catalog = Catalog::from_spec(&spec).unwrap();
        let mut normaliser = Normaliser::new("amxc-1a2b3c4d");

        let line = normaliser.request_line(
            &catalog,
            "getStoreItem",
            "GET",
            "http://127.0.0.1:4242/store/5c6fc9932ff3ff000747ead4/amxc-1a2b3c4d%20order%20%C3%BC%3F",
        );
        let query = normaliser.request_line(
            &catalog,
            "getStoreRecords",
            "GET",
            "http://127.0.0.1:4242/store?storeId=5c6fc9932ff3ff000747ead4&pattern=amxc-1a2b3c4d",
        );

        assert_eq!(line, "GET /store/<store-1>/<tag> order ü?");
        assert_eq!(query, "GET /store?storeId=<store-1>&pattern=<tag>");
    }

    #[test]
    fn an_id_field_holding_a_name_is_left_as_text() {
        let mut normaliser = Normaliser::new("amxc-1a2b3c4d");

        let shown = normaliser.json(&json!({"componentId": "not an id"}), "id");

        assert_eq!(shown, json!({"componentId": "not an id"}));
    }
}
