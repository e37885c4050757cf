//! The report as JSON (`--report json=PATH`), stable and diffable.
//!
//! Two runs with the same seed against the same kind of server give the same
//! file, byte for byte: keys are sorted, nothing depends on the clock, and
//! the values that differ by nature from run to run (ids, the run tag, the
//! embedded server's port, timestamps in bodies) are replaced with
//! placeholders by the same [`Normaliser`] the snapshots use. `--timings`
//! adds a `run` section with the tag and the timings, which do differ, and
//! to each failure the seconds into the run of its first exchange
//! (`elapsed_s`); its number among the run's requests (`request`) is there
//! always.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::Report;
use crate::checks::{ExchangeView, Failure};
use crate::snapshots::Normaliser;

/// The format's name and version, first in every file.
pub const FORMAT: &str = "appmixer-conformance-report/1";

/// `report` as pretty-printed JSON with sorted keys, ending in a newline.
pub fn render(report: &Report, timings: bool) -> String {
    let mut text = serde_json::to_string_pretty(&sorted(to_value(report, timings)))
        .expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// `report` as a JSON value (keys not yet sorted).
pub fn to_value(report: &Report, timings: bool) -> Value {
    let mut normaliser = Normaliser::new(&report.tag);
    let operations: Map<String, Value> = report
        .rows
        .iter()
        .map(|row| {
            let mut kinds: Vec<_> = row.tallies.keys().chain(row.planned.keys()).collect();
            kinds.sort();
            kinds.dedup();
            let properties: Map<String, Value> = kinds
                .into_iter()
                .map(|kind| {
                    let tally = row.tally(*kind);
                    let failed = report.failures_of(&row.operation, *kind).count();
                    (
                        kind.label().to_string(),
                        json!({
                            "checked": tally.total,
                            "passed": tally.passed,
                            "failed": failed,
                            "planned": row.planned.contains_key(kind),
                            "required": row.planned.get(kind).copied().unwrap_or(false),
                        }),
                    )
                })
                .collect();
            (
                row.operation.clone(),
                json!({"route": row.route, "calls": row.calls, "properties": properties}),
            )
        })
        .collect();
    let failures: Vec<Value> = report
        .failure_groups()
        .iter()
        .map(|group| {
            let mut value = failure_value(&mut normaliser, group.first, timings);
            value["count"] = json!(group.count);
            value
        })
        .collect();
    let not_checked: Vec<Value> = report
        .not_checked
        .iter()
        .map(|n| {
            json!({
                "operation": n.operation,
                "property": n.kind.label(),
                "required": n.required,
                "reason": normaliser.text(&n.reason),
            })
        })
        .collect();
    let not_applicable: Vec<Value> = report
        .not_applicable
        .iter()
        .map(|n| {
            json!({
                "operation": n.operation,
                "property": n.kind.label(),
                "reason": n.reason,
            })
        })
        .collect();
    let unchecked: Vec<Value> = report
        .unchecked
        .iter()
        .map(|u| {
            json!({
                "operation": u.operation,
                "property": u.kind.label(),
                "expectation": u.expectation,
                "reason": normaliser.text(&u.reason),
            })
        })
        .collect();
    let mut kept: BTreeMap<String, u64> = BTreeMap::new();
    for object in &report.cleanup.undeletable {
        *kept.entry(object.kind.to_string()).or_default() += 1;
    }
    let leftovers: Vec<Value> = report
        .cleanup
        .leftovers
        .iter()
        .map(|l| json!({"kind": l.kind.to_string(), "id": l.id, "reason": l.reason}))
        .collect();
    let refused: Vec<Value> = report
        .traffic
        .refusals
        .iter()
        .map(|r| json!({"operation": r.operation, "method": r.method, "path": r.path}))
        .collect();
    let d = &report.descriptors;

    let mut value = json!({
        "format": FORMAT,
        "target": if report.embedded { "embedded".to_string() } else { report.target.clone() },
        "profile": report.profile.name(),
        "spec": report.spec.to_string(),
        "seed": report.seed,
        "exit_code": report.exit_code(),
        "checks": report.checks(),
        "operations": operations,
        "failures": failures,
        "not_checked": not_checked,
        "not_applicable": not_applicable,
        "unchecked": unchecked,
        "descriptors": {
            "generated_checked": d.generated_checked,
            "generated_passed": d.generated_passed,
            "files_checked": d.files_checked,
            "files_passed": d.files_passed,
            "stripped": d.stripped.iter().map(|(file, fields)| json!({"file": file, "fields": fields})).collect::<Vec<_>>(),
        },
        "cleanup": {"deleted": report.cleanup.deleted, "leftovers": leftovers, "kept": kept},
        "requests": {
            "total": report.requests,
            "by_method": report.traffic.methods.by_method(),
            "writes": report.writes_sent(),
            "read_only": report.traffic.read_only,
            "refused": refused,
        },
        "stopped": report.stop.as_ref().map(|stop| json!({
            "guard": stop.name(),
            "reason": stop.to_string(),
        })),
        "stopped_scenarios": report.stopped_scenarios,
    });
    if timings {
        let t = report.timings;
        value["run"] = json!({
            "tag": report.tag,
            "target": report.target,
            "wall_ms": t.wall.as_millis() as u64,
            "waiting_ms": t.waiting.as_millis() as u64,
            "pausing_ms": t.pausing.as_millis() as u64,
            "harness_ms": t.in_harness().as_millis() as u64,
        });
    }
    value
}

fn failure_value(normaliser: &mut Normaliser, failure: &Failure, timings: bool) -> Value {
    let mut value = json!({
        "operation": failure.operation,
        "property": failure.kind.label(),
        "expectation": failure.expectation,
        "expected": normaliser.text(&failure.expected),
        "actual": normaliser.text(&failure.actual),
        "exchange": failure.exchange.as_ref().map(|e| exchange_value(normaliser, e)),
        "reproduction": failure
            .reproduction
            .as_deref()
            .map(|r| normaliser.text(&SERVER.replace_all(r, "<server>"))),
        // The same seed sends the same requests, so the number is stable;
        // the time is not, and is added only with `--timings`.
        "request": failure.exchange.as_ref().map(|e| e.number),
    });
    if timings && let Some(exchange) = &failure.exchange {
        let tenths = exchange.at.as_millis() / 100;
        value["elapsed_s"] = json!(tenths as f64 / 10.0);
    }
    value
}

/// The scheme and authority of a URL: the embedded server's port differs
/// between runs, and a reproduction's `curl` lines name it.
static SERVER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"https?://[^/\s'\x22]+").expect("a valid pattern"));

fn exchange_value(normaliser: &mut Normaliser, exchange: &ExchangeView) -> Value {
    // The host and port differ between runs of the embedded server; the
    // path and query are what identify the request.
    let url = url::Url::parse(&exchange.url)
        .map(|url| match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        })
        .unwrap_or_else(|_| exchange.url.clone());
    json!({
        "method": exchange.method,
        "url": normaliser.text(&url),
        "request_headers": exchange
            .request_headers
            .iter()
            .map(|(name, value)| (name.clone(), Value::String(value.clone())))
            .collect::<Map<String, Value>>(),
        "request_body": exchange.request_body.as_deref().map(|b| normaliser.text(b)),
        "status": exchange.status,
        "content_type": exchange.content_type,
        "response_body": normaliser.text(&exchange.response_body),
    })
}

/// `value` with the keys of every object in sorted order.
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_at_every_depth() {
        let value = json!({"b": {"z": 1, "a": [{"y": 1, "x": 2}]}, "a": 0});

        let text = serde_json::to_string(&sorted(value)).unwrap();

        assert_eq!(text, r#"{"a":0,"b":{"a":[{"x":2,"y":1}],"z":1}}"#);
    }
}
