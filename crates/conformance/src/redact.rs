//! Keeping secrets out of logs and reports.
//!
//! Exchanges carry the user's password (log-in and sign-up bodies), bearer
//! tokens (headers and the answers that issue them), account tokens and the
//! approver and requester secrets of people tasks. Everything the harness
//! prints or logs goes through these functions first, which replace such
//! values with [`REDACTED`] and cut long bodies short.

use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

/// What stands in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// JSON fields and query parameters whose values are secrets.
const SECRET_NAMES: &[&str] = &[
    "password",
    "token",
    "accesstoken",
    "refreshtoken",
    "apikey",
    "secret",
    "approversecret",
    "requestersecret",
];

/// Whether a JSON field or query parameter of this name holds a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES
        .iter()
        .any(|secret| secret.eq_ignore_ascii_case(name))
}

/// `url` with the values of secret query parameters replaced.
pub fn url(url: &Url) -> String {
    if !url.query_pairs().any(|(name, _)| is_secret_name(&name)) {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if is_secret_name(&name) {
                REDACTED.to_string()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    let mut shown = url.clone();
    shown.query_pairs_mut().clear().extend_pairs(pairs);
    shown.to_string()
}

/// The headers as name/value pairs, `Authorization` and other sensitive
/// values replaced.
pub fn headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let shown = if value.is_sensitive() || name == reqwest::header::AUTHORIZATION {
                match value.to_str().ok().and_then(|v| v.split_once(' ')) {
                    Some((scheme, _)) => format!("{scheme} {REDACTED}"),
                    None => REDACTED.to_string(),
                }
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_string(), shown)
        })
        .collect()
}

/// `value` with every secret field, at any depth, replaced.
pub fn json(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, inner)| {
                    let shown = if is_secret_name(key) && !inner.is_null() {
                        Value::String(REDACTED.into())
                    } else {
                        json(inner)
                    };
                    (key.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(json).collect()),
        other => other.clone(),
    }
}

/// A body for a report: JSON with secrets redacted, other text as it is,
/// either cut after `limit` characters.
pub fn body_preview(body: &[u8], limit: usize) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(value) => json(&value).to_string(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    truncate(&text, limit)
}

/// `text` cut after `limit` characters, saying how much was left out.
pub fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_string(),
        Some((cut, _)) => {
            let left_out = text[cut..].chars().count();
            format!("{}… ({left_out} more characters)", &text[..cut])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{AUTHORIZATION, HeaderValue};
    use serde_json::json;

    #[test]
    fn secret_fields_are_redacted_at_any_depth() {
        let value = json!({
            "username": "a@example.com",
            "password": "hunter2",
            "user": {"token": "abc"},
            "tasks": [{"approverSecret": "s1", "title": "t"}]
        });

        let shown = json(&value);

        assert_eq!(
            shown,
            json!({
                "username": "a@example.com",
                "password": REDACTED,
                "user": {"token": REDACTED},
                "tasks": [{"approverSecret": REDACTED, "title": "t"}]
            })
        );
    }

    #[test]
    fn authorization_keeps_its_scheme_only() {
        let mut map = HeaderMap::new();
        map.insert(AUTHORIZATION, HeaderValue::from_static("Bearer eyJhbGciOi"));

        let shown = headers(&map);

        assert_eq!(
            shown,
            vec![("authorization".into(), "Bearer <redacted>".into())]
        );
    }

    #[test]
    fn secret_query_parameters_are_redacted() {
        let url_with_secret =
            Url::parse("http://h/people-task/tasks?secret=abc&role=approver").unwrap();

        let shown = url(&url_with_secret);

        assert_eq!(
            shown,
            "http://h/people-task/tasks?secret=%3Credacted%3E&role=approver"
        );
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("ééééé", 2), "éé… (3 more characters)");
        assert_eq!(truncate("short", 10), "short");
    }
}
