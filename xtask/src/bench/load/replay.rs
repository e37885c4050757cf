//! The harness's exact ceiling: the requests a harness run recorded
//! (`appmixer-conformance --record FILE`), sent again in the same order over
//! one connection to a fresh server, as fast as it answers.
//!
//! The recording holds the harness's ids and tokens, which a fresh server
//! does not know. The replay learns its own: wherever an answer differs from
//! the recorded one, each recorded string that looks like an identifier
//! (letters, digits, `-`, `_`, `.`; a token or a `SECRET-0001` placeholder
//! too) is mapped to the string at the same place in the new answer, the
//! first time it is seen. Later requests have every such word of their
//! path, query, body and `Authorization` header replaced by its mapping.
//! The answers whose status differs from the recorded one are counted, so
//! the report says how faithful the replay was. A run recorded with
//! `--token` cannot be replayed: no recorded answer hands out its token.
//!
//! A ceiling must cost the client as little as it can: before the clock
//! starts, each recorded answer is parsed and reduced to the ids in it that
//! a later request uses, and during the replay an answer is parsed only
//! while one of those is still to be learned.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::Api;
use super::{Target, progress};
use crate::bench::process;

/// The options of the replay scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The recording, from `appmixer-conformance --record FILE`.
    #[arg(long)]
    pub file: PathBuf,
}

/// One recorded exchange, as `appmixer-conformance --record` writes it.
#[derive(Debug, Clone, Deserialize)]
struct Line {
    method: String,
    target: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    authorization: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_hex: Option<String>,
    status: u16,
    #[serde(default)]
    response: Option<String>,
}

/// A recorded exchange, ready to send: its answer parsed before the clock
/// starts.
#[derive(Debug)]
struct Step {
    method: Method,
    target: String,
    content_type: Option<String>,
    authorization: Option<String>,
    body: Option<Bytes>,
    status: u16,
    response: Option<String>,
    response_json: Option<Value>,
    /// The ids of the recorded answer that a later request uses: the
    /// answer is worth parsing only while one of them has no mapping.
    needed: Vec<String>,
}

/// What the replay measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Replay {
    /// Requests sent.
    pub requests: u64,
    /// From the first request to the last answer.
    pub seconds: f64,
    /// `requests / seconds`.
    pub requests_per_second: f64,
    /// Answers with the recorded status.
    pub same_status: u64,
    /// The first answers whose status differs: method, path, recorded and
    /// received status.
    pub differing: Vec<String>,
    /// Requests that got no answer (the connection is then opened again).
    pub unanswered: u64,
    /// Ids and tokens of the recording mapped to the fresh server's.
    pub mapped: u64,
    /// CPU seconds the server used during the replay.
    pub server_cpu_seconds: f64,
    /// CPU seconds the generator used during the replay.
    pub generator_cpu_seconds: f64,
}

/// How many differing answers the result names.
const DIFFERING_SHOWN: usize = 5;

/// Sends the recording once and measures it.
pub async fn run(target: &Target, args: &Args) -> anyhow::Result<Replay> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read the recording {}", args.file.display()))?;
    let steps = parse(&text)
        .with_context(|| format!("{} is not a harness recording", args.file.display()))?;
    let api = Api::new(&target.url)?;
    let host = HeaderValue::from_str(target.url.trim_start_matches("http://"))?;
    let server_pid = target.server_pid.to_string();
    // On the runtime's worker, beside the connection's own task: sent from
    // the thread that blocks on the runtime, every request and answer would
    // wake the other thread, a cost the harness does not pay.
    tokio::spawn(async move { replay(&api, &host, &steps, &server_pid).await })
        .await
        .context("the replay task failed")?
}

async fn replay(
    api: &Api,
    host: &HeaderValue,
    steps: &[Step],
    server_pid: &str,
) -> anyhow::Result<Replay> {
    let mut connection = api.connect().await?;
    let mut ids = Ids::default();
    let mut result = Replay::default();

    let server_before = process::cpu_seconds(server_pid)?;
    let generator_before = process::cpu_seconds("self")?;
    let started = Instant::now();
    for step in steps {
        let request = ids.request(step, host)?;
        result.requests += 1;
        let answer = match connection.send(request).await {
            Ok(answer) => answer,
            Err(error) => {
                result.unanswered += 1;
                if result.differing.len() < DIFFERING_SHOWN {
                    result.differing.push(format!(
                        "{} {}: recorded {}, no answer ({error})",
                        step.method, step.target, step.status
                    ));
                }
                connection = api.connect().await?;
                continue;
            }
        };
        if answer.status.as_u16() == step.status {
            result.same_status += 1;
        } else if result.differing.len() < DIFFERING_SHOWN {
            result.differing.push(format!(
                "{} {}: recorded {}, got {}",
                step.method,
                step.target,
                step.status,
                answer.status.as_u16()
            ));
        }
        ids.learn(step, &answer.body);
    }
    result.seconds = started.elapsed().as_secs_f64();
    result.server_cpu_seconds = process::cpu_seconds(server_pid)? - server_before;
    result.generator_cpu_seconds = process::cpu_seconds("self")? - generator_before;
    result.requests_per_second = result.requests as f64 / result.seconds.max(f64::EPSILON);
    result.mapped = ids.mapped.len() as u64;
    progress(&format!(
        "replay: {} requests in {:.2} s, {} with the recorded status",
        result.requests, result.seconds, result.same_status
    ));
    Ok(result)
}

fn parse(text: &str) -> anyhow::Result<Vec<Step>> {
    let mut steps = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line: Line =
            serde_json::from_str(line).with_context(|| format!("line {}", number + 1))?;
        let method: Method = line
            .method
            .parse()
            .with_context(|| format!("line {}: `{}` is no method", number + 1, line.method))?;
        let body = match (line.body, line.body_hex) {
            (Some(text), _) => Some(Bytes::from(text)),
            (None, Some(hex)) => {
                Some(Bytes::from(from_hex(&hex).with_context(|| {
                    format!("line {}: `body_hex`", number + 1)
                })?))
            }
            (None, None) => None,
        };
        steps.push(Step {
            method,
            target: line.target,
            content_type: line.content_type,
            authorization: line.authorization,
            body,
            status: line.status,
            response_json: line
                .response
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            response: line.response,
            needed: Vec::new(),
        });
    }
    if steps.is_empty() {
        bail!("it holds no exchange");
    }
    mark_needed(&mut steps);
    Ok(steps)
}

/// Fills each step's `needed`: the ids of its answer that a later request
/// holds in its path, query, body or `Authorization` header.
fn mark_needed(steps: &mut [Step]) {
    let mut last_use: HashMap<String, usize> = HashMap::new();
    for (index, step) in steps.iter().enumerate() {
        let body = step
            .body
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok());
        for text in [
            Some(step.target.as_str()),
            step.authorization.as_deref(),
            body,
        ]
        .into_iter()
        .flatten()
        {
            for word in words(text) {
                last_use.insert(word.to_owned(), index);
            }
        }
    }
    for (index, step) in steps.iter_mut().enumerate() {
        let mut ids = Vec::new();
        if let Some(recorded) = &step.response_json {
            collect_ids(recorded, &mut ids);
        }
        ids.retain(|id| last_use.get(id).is_some_and(|&used| used > index));
        ids.sort();
        ids.dedup();
        step.needed = ids;
    }
}

fn collect_ids(value: &Value, ids: &mut Vec<String>) {
    match value {
        Value::String(text) if is_identifier(text) => ids.push(text.clone()),
        Value::Object(map) => map.values().for_each(|inner| collect_ids(inner, ids)),
        Value::Array(items) => items.iter().for_each(|item| collect_ids(item, ids)),
        _ => {}
    }
}

/// The identifier-like words of `text`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_char(c))
        .filter(|word| !word.is_empty())
}

fn from_hex(hex: &str) -> anyhow::Result<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        bail!("an odd number of hexadecimal digits");
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| {
            u8::from_str_radix(&hex[at..at + 2], 16)
                .with_context(|| format!("`{}` is no hexadecimal byte", &hex[at..at + 2]))
        })
        .collect()
}

/// The recording's ids and tokens, mapped to the fresh server's.
#[derive(Debug, Default)]
struct Ids {
    mapped: HashMap<String, String>,
}

impl Ids {
    /// `step` as a request to the fresh server, with its ids mapped.
    fn request(&self, step: &Step, host: &HeaderValue) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut builder = Request::builder()
            .method(step.method.clone())
            .uri(self.rewrite(&step.target))
            .header(HOST, host.clone());
        if let Some(authorization) = &step.authorization {
            builder = builder.header(AUTHORIZATION, self.rewrite(authorization));
        }
        if let Some(content_type) = &step.content_type {
            builder = builder.header(CONTENT_TYPE, content_type.as_str());
        }
        let body = match &step.body {
            Some(body) => match std::str::from_utf8(body) {
                Ok(text) => Bytes::from(self.rewrite(text)),
                Err(_) => body.clone(),
            },
            None => Bytes::new(),
        };
        builder
            .body(Full::new(body))
            .with_context(|| format!("cannot build {} {}", step.method, step.target))
    }

    /// `text` with every identifier-like word that has a mapping replaced.
    fn rewrite(&self, text: &str) -> String {
        if self.mapped.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut word_start = None;
        for (at, c) in text.char_indices() {
            match (is_word_char(c), word_start) {
                (true, None) => word_start = Some(at),
                (false, Some(start)) => {
                    out.push_str(self.mapped_word(&text[start..at]));
                    word_start = None;
                    out.push(c);
                }
                (false, None) => out.push(c),
                (true, Some(_)) => {}
            }
        }
        if let Some(start) = word_start {
            out.push_str(self.mapped_word(&text[start..]));
        }
        out
    }

    fn mapped_word<'a>(&'a self, word: &'a str) -> &'a str {
        self.mapped.get(word).map_or(word, String::as_str)
    }

    /// Learns the ids in `received` that stand for the recorded ones.
    fn learn(&mut self, step: &Step, received: &[u8]) {
        let Some(recorded) = &step.response_json else {
            return;
        };
        if step.needed.iter().all(|id| self.mapped.contains_key(id)) {
            return;
        }
        if step.response.as_deref().map(str::as_bytes) == Some(received) {
            return;
        }
        if let Ok(received) = serde_json::from_slice::<Value>(received) {
            self.pair(recorded, &received);
        }
    }

    fn pair(&mut self, recorded: &Value, received: &Value) {
        match (recorded, received) {
            // The same id in both answers is learned too, so that its
            // answers are not parsed again for it.
            (Value::String(old), Value::String(new))
                if is_identifier(old) && !self.mapped.contains_key(old) =>
            {
                self.mapped.insert(old.clone(), new.clone());
            }
            (Value::Object(old), Value::Object(new)) => {
                for (key, old) in old {
                    if let Some(new) = new.get(key) {
                        self.pair(old, new);
                    }
                }
            }
            (Value::Array(old), Value::Array(new)) => {
                for (old, new) in old.iter().zip(new) {
                    self.pair(old, new);
                }
            }
            _ => {}
        }
    }
}

/// The shortest recorded string taken for an id: shorter ones are words
/// that could stand anywhere.
const SHORTEST_ID: usize = 6;

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

fn is_identifier(text: &str) -> bool {
    text.len() >= SHORTEST_ID && text.chars().all(is_word_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(method: &str, target: &str, body: Option<&str>, response: &str) -> Step {
        Step {
            method: method.parse().unwrap(),
            target: target.into(),
            content_type: body.map(|_| "application/json".into()),
            authorization: Some("Bearer SECRET-0002".into()),
            body: body.map(|text| Bytes::from(text.to_owned())),
            status: 200,
            response: Some(response.into()),
            response_json: serde_json::from_str(response).ok(),
            needed: serde_json::from_str(response)
                .map(|value: Value| {
                    let mut ids = Vec::new();
                    collect_ids(&value, &mut ids);
                    ids
                })
                .unwrap_or_default(),
        }
    }

    #[test]
    fn ids_learned_from_an_answer_replace_the_recorded_ones_later() {
        let mut ids = Ids::default();
        let created = step(
            "POST",
            "/flows",
            Some(r#"{"name":"a"}"#),
            r#"{"flowId":"old-flow-1"}"#,
        );
        let signed_up = step("POST", "/user", None, r#"{"token":"SECRET-0002"}"#);
        let read = step(
            "PUT",
            "/flows/old-flow-1?x=old-flow-1",
            Some(r#"{"flowId":"old-flow-1","name":"old-flow-1 copy"}"#),
            "{}",
        );

        ids.learn(&created, br#"{"flowId":"new-flow-9"}"#);
        ids.learn(&signed_up, br#"{"token":"eyJ.new.token"}"#);
        let host = HeaderValue::from_static("127.0.0.1:1");
        let request = ids.request(&read, &host).unwrap();

        assert_eq!(request.uri(), "/flows/new-flow-9?x=new-flow-9");
        assert_eq!(request.headers()[AUTHORIZATION], "Bearer eyJ.new.token");
        let body = format!("{:?}", request.body());
        assert!(body.contains("new-flow-9 copy"), "{body}");
        assert!(!body.contains("old-flow-1"), "{body}");
    }

    #[test]
    fn a_mapping_is_learned_once_and_only_for_identifiers() {
        let mut ids = Ids::default();
        let first = step(
            "POST",
            "/flows",
            None,
            r#"{"flowId":"old-flow-1","name":"a b c"}"#,
        );
        let listed = step("GET", "/flows", None, r#"[{"flowId":"old-flow-1"}]"#);

        ids.learn(&first, br#"{"flowId":"new-flow-9","name":"x y z"}"#);
        ids.learn(&listed, br#"[{"flowId":"other-flow"}]"#);

        assert_eq!(ids.mapped.len(), 1);
        assert_eq!(ids.mapped["old-flow-1"], "new-flow-9");
    }

    #[test]
    fn only_ids_a_later_request_uses_are_needed() {
        let text = concat!(
            r#"{"method":"POST","target":"/flows","status":201,"response":"{\"flowId\":\"flow-aaaa\",\"type\":\"appmixer.utils.Webhook\"}"}"#,
            "\n",
            r#"{"method":"GET","target":"/flows/flow-aaaa","status":200,"response":"{\"flowId\":\"flow-aaaa\"}"}"#,
            "\n"
        );

        let steps = parse(text).unwrap();

        assert_eq!(steps[0].needed, vec!["flow-aaaa".to_string()]);
        assert!(steps[1].needed.is_empty());
    }

    #[test]
    fn an_answer_whose_ids_are_all_known_is_not_parsed_again() {
        let mut ids = Ids::default();
        ids.mapped.insert("old-flow-1".into(), "new-flow-9".into());
        let listed = step(
            "GET",
            "/flows",
            None,
            r#"[{"flowId":"old-flow-1","x":"other-id-7"}]"#,
        );
        let listed = Step {
            needed: vec!["old-flow-1".into()],
            ..listed
        };

        ids.learn(&listed, br#"[{"flowId":"new-flow-9","x":"fresh-id-8"}]"#);

        assert!(!ids.mapped.contains_key("other-id-7"));
    }

    #[test]
    fn words_are_replaced_whole_not_inside_longer_ones() {
        let mut ids = Ids::default();
        ids.mapped.insert("abcdef".into(), "XYZXYZ".into());

        assert_eq!(
            ids.rewrite("/a/abcdef/abcdefg?q=abcdef&r=xabcdef"),
            "/a/XYZXYZ/abcdefg?q=XYZXYZ&r=xabcdef"
        );
        assert_eq!(ids.rewrite("abcdef"), "XYZXYZ");
    }

    #[test]
    fn a_recording_parses_with_text_and_hexadecimal_bodies() {
        let text = concat!(
            r#"{"method":"POST","target":"/flows","content_type":"application/json","body":"{}","status":201,"response":"{\"flowId\":\"f1\"}"}"#,
            "\n",
            r#"{"method":"POST","target":"/flows","content_type":"application/json","body_hex":"ff7b","status":400}"#,
            "\n"
        );

        let steps = parse(text).unwrap();

        assert_eq!(steps.len(), 2);
        assert_eq!(
            steps[0].response_json,
            Some(serde_json::json!({"flowId": "f1"}))
        );
        assert_eq!(steps[1].body.as_deref(), Some(&[0xff, 0x7b][..]));
        assert!(parse("").is_err());
        assert!(parse("{\"method\":\"GET\"}").is_err());
    }
}
