//! A recording of every exchange of a run (`--record FILE`), for sending the
//! same requests again without the harness.
//!
//! `cargo xtask bench` measures the harness against its loopback ceiling: a
//! bare client that sends exactly the requests the harness sent, in the
//! same order, to a fresh server. This module writes what that client needs,
//! one JSON object a line: the method, the path and query, the body, the
//! `Authorization` header, and the status and body of the answer. The
//! answers are there so that the client can learn which of its own ids and
//! tokens stand for the recorded ones.
//!
//! Nothing secret is written: a password, a token or a people-task secret
//! (a JSON field or query parameter with a secret's name, and every bearer
//! token sent) is replaced wherever it appears by a placeholder,
//! `SECRET-0001`, the same one for the same value throughout the file. A
//! client sending the recording again signs up with the placeholder as its
//! password and learns the tokens from its own answers.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::redact;

/// The shortest value taken for a secret: shorter ones would be replaced
/// where they are only a part of other text.
const SHORTEST_SECRET: usize = 6;

/// One exchange as the recording holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The request's method.
    pub method: String,
    /// The path and query, as sent.
    pub target: String,
    /// The request's `Content-Type`, when it had a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The `Authorization` header, its token replaced by a placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// The request body, when it had one and it is text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The request body in hexadecimal, when it is not text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_hex: Option<String>,
    /// The answer's status.
    pub status: u16,
    /// The answer's body, when it is text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// Writes the exchanges of a run to a file, secrets replaced.
pub struct Recorder {
    path: PathBuf,
    out: BufWriter<File>,
    secrets: Secrets,
    written: u64,
    failed: Option<io::Error>,
}

/// The exchange to write: the transport's view of it, before redaction.
pub struct Raw<'a> {
    /// The method.
    pub method: &'a Method,
    /// The full URL, unredacted.
    pub url: &'a Url,
    /// The request's `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// The `Authorization` header as sent, if any.
    pub authorization: Option<&'a str>,
    /// The request body as sent.
    pub body: Option<&'a [u8]>,
    /// The answer's status.
    pub status: u16,
    /// The answer's body.
    pub response: &'a [u8],
    /// The answer's body as JSON, when it is: the transport parsed it
    /// already.
    pub response_json: Option<&'a Value>,
}

impl std::fmt::Debug for Recorder {
    // The secrets it has seen stay out of the debug form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Creates (or empties) the file at `path`; it fails before the run
    /// sends anything when the file cannot be written.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::create(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            secrets: Secrets::default(),
            written: 0,
            failed: None,
        })
    }

    /// Writes one exchange. A write error is kept for [`Recorder::finish`]
    /// rather than failing the exchange: the run's checks do not depend on
    /// the recording.
    pub fn write(&mut self, raw: Raw<'_>) {
        if self.failed.is_some() {
            return;
        }
        let line = self.secrets.recorded(raw);
        let written = serde_json::to_writer(&mut self.out, &line)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        match written {
            Ok(()) => self.written += 1,
            Err(error) => self.failed = Some(error),
        }
    }

    /// Flushes the file and says how many exchanges it holds, or why it
    /// is incomplete.
    pub fn finish(mut self) -> Result<(PathBuf, u64), (PathBuf, io::Error)> {
        let flushed = match self.failed.take() {
            Some(error) => Err(error),
            None => self.out.flush(),
        };
        match flushed {
            Ok(()) => Ok((self.path, self.written)),
            Err(error) => Err((self.path, error)),
        }
    }
}

/// Secret values seen so far, and the placeholder of each.
#[derive(Default)]
struct Secrets {
    placeholders: HashMap<String, String>,
    /// The values, longest first, so that a secret that contains another
    /// is replaced whole.
    by_length: Vec<String>,
    /// How many secrets have a placeholder.
    count: usize,
}

impl Secrets {
    fn recorded(&mut self, raw: Raw<'_>) -> Recorded {
        // Each secret of the query as it was decoded and as it was sent.
        for piece in raw.url.query().unwrap_or_default().split('&') {
            let sent = piece.split_once('=').map_or("", |(_, value)| value);
            if let Some((name, value)) = url::form_urlencoded::parse(piece.as_bytes()).next()
                && redact::is_secret_name(&name)
                && let Some(placeholder) = self.learn(&value)
            {
                self.add_form(sent.to_owned(), placeholder);
            }
        }
        if let Some(token) = raw
            .authorization
            .and_then(|value| value.split_once(' '))
            .map(|(_, token)| token)
        {
            self.learn(token);
        }
        if let Some(value) = raw
            .body
            .and_then(|body| serde_json::from_slice::<Value>(body).ok())
        {
            self.learn_fields(&value);
        }
        if let Some(value) = raw.response_json {
            self.learn_fields(value);
        }

        let target = &raw.url[url::Position::BeforePath..];
        let (body, body_hex) = match raw.body {
            None => (None, None),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => (Some(self.hide(text)), None),
                Err(_) => (None, Some(hex(bytes))),
            },
        };
        Recorded {
            method: raw.method.to_string(),
            target: self.hide(target),
            content_type: raw.content_type.map(str::to_owned),
            authorization: raw.authorization.map(|value| self.hide(value)),
            body,
            body_hex,
            status: raw.status,
            response: std::str::from_utf8(raw.response)
                .ok()
                .map(|text| self.hide(text)),
        }
    }

    fn learn_fields(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match inner {
                        Value::String(secret) if redact::is_secret_name(key) => {
                            self.learn(secret);
                        }
                        _ => self.learn_fields(inner),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.learn_fields(item)),
            _ => {}
        }
    }

    /// Takes `value` for a secret, unless it is too short to be one, and
    /// returns its placeholder.
    fn learn(&mut self, value: &str) -> Option<String> {
        if value.chars().count() < SHORTEST_SECRET {
            return None;
        }
        if let Some(known) = self.placeholders.get(value) {
            return Some(known.clone());
        }
        self.count += 1;
        let placeholder = format!("SECRET-{:04}", self.count);
        self.add_form(value.to_owned(), placeholder.clone());
        // A secret as it appears inside a JSON string or a query: the
        // escaped and encoded forms are replaced too.
        if let Ok(quoted) = serde_json::to_string(value) {
            self.add_form(quoted[1..quoted.len() - 1].to_owned(), placeholder.clone());
        }
        let encoded = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        self.add_form(encoded, placeholder.clone());
        Some(placeholder)
    }

    fn add_form(&mut self, form: String, placeholder: String) {
        if form.is_empty() || self.placeholders.contains_key(&form) {
            return;
        }
        let at = self
            .by_length
            .partition_point(|known| known.len() >= form.len());
        self.by_length.insert(at, form.clone());
        self.placeholders.insert(form, placeholder);
    }

    fn hide(&self, text: &str) -> String {
        let mut hidden = text.to_owned();
        for secret in &self.by_length {
            if hidden.contains(secret.as_str()) {
                hidden = hidden.replace(secret.as_str(), &self.placeholders[secret]);
            }
        }
        hidden
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(
        method: &'a Method,
        url: &'a Url,
        authorization: Option<&'a str>,
        body: Option<&'a [u8]>,
        response: &'a [u8],
    ) -> Raw<'a> {
        Raw {
            method,
            url,
            content_type: body.map(|_| "application/json"),
            authorization,
            body,
            status: 200,
            response,
            response_json: None,
        }
    }

    #[test]
    fn a_password_and_the_token_it_earns_never_reach_the_file() {
        let mut secrets = Secrets::default();
        let post = Method::POST;
        let signup = Url::parse("http://127.0.0.1:1/user").unwrap();
        let flows = Url::parse("http://127.0.0.1:1/flows?limit=5").unwrap();

        let answer = br#"{"id":"u1","token":"eyJhbGciOi.payload.sig"}"#;
        let parsed: Value = serde_json::from_slice(answer).unwrap();
        let first = secrets.recorded(Raw {
            response_json: Some(&parsed),
            ..raw(
                &post,
                &signup,
                None,
                Some(br#"{"username":"a@example.com","password":"hunter2-long"}"#),
                answer,
            )
        });
        let get = Method::GET;
        let second = secrets.recorded(raw(
            &get,
            &flows,
            Some("Bearer eyJhbGciOi.payload.sig"),
            None,
            b"[]",
        ));

        let file = format!("{first:?}{second:?}");
        assert!(!file.contains("hunter2-long"), "{file}");
        assert!(!file.contains("eyJhbGciOi"), "{file}");
        assert_eq!(
            first.body.as_deref(),
            Some(r#"{"username":"a@example.com","password":"SECRET-0001"}"#)
        );
        assert_eq!(
            first.response.as_deref(),
            Some(r#"{"id":"u1","token":"SECRET-0002"}"#)
        );
        assert_eq!(second.authorization.as_deref(), Some("Bearer SECRET-0002"));
        assert_eq!(second.target, "/flows?limit=5");
    }

    #[test]
    fn a_secret_in_the_query_is_replaced_in_its_encoded_form() {
        let mut secrets = Secrets::default();
        let get = Method::GET;
        let url =
            Url::parse("http://127.0.0.1:1/people-task/tasks/t1?secret=a%2Bb%2Fc%3D%3D").unwrap();

        let line = secrets.recorded(raw(&get, &url, None, None, br#"{"id":"t1"}"#));

        assert_eq!(line.target, "/people-task/tasks/t1?secret=SECRET-0001");
    }

    #[test]
    fn an_unknown_bearer_token_is_hidden_as_well() {
        let mut secrets = Secrets::default();
        let get = Method::GET;
        let url = Url::parse("http://127.0.0.1:1/user").unwrap();

        let line = secrets.recorded(raw(&get, &url, Some("Bearer opaque-token-1"), None, b"{}"));

        assert_eq!(line.authorization.as_deref(), Some("Bearer SECRET-0001"));
    }

    #[test]
    fn a_body_that_is_not_text_is_kept_in_hexadecimal() {
        let mut secrets = Secrets::default();
        let post = Method::POST;
        let url = Url::parse("http://127.0.0.1:1/flows").unwrap();

        let line = secrets.recorded(raw(&post, &url, None, Some(&[0xff, 0x00, 0x7b]), b"{}"));

        assert_eq!(line.body, None);
        assert_eq!(line.body_hex.as_deref(), Some("ff007b"));
    }

    #[test]
    fn the_file_holds_one_json_line_per_exchange() {
        let dir = std::env::temp_dir().join(format!("amxc-recording-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.jsonl");
        let mut recorder = Recorder::create(&path).unwrap();
        let get = Method::GET;
        let url = Url::parse("http://127.0.0.1:1/flows/count").unwrap();

        recorder.write(raw(&get, &url, None, None, br#"{"count":0}"#));
        recorder.write(raw(&get, &url, None, None, br#"{"count":1}"#));
        let (written_to, count) = recorder.finish().unwrap();

        let text = std::fs::read_to_string(&written_to).unwrap();
        let lines: Vec<Recorded> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(count, 2);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].response.as_deref(), Some(r#"{"count":1}"#));
    }
}
