//! Logs: the entries component messages leave, and their search.
//!
//! Every message `sendComponentMessage` accepts becomes one entry owned by
//! the flow's owner. `getLogs` understands the subset of Elasticsearch's
//! query-string syntax that Appmixer's clients send: terms joined by `AND`,
//! each a `@timestamp:[A TO B]` range, a `field:value` (or `+field:value`)
//! match on a hit field, or `*`. Anything else is refused with 400 rather
//! than silently matching nothing. Sorting, paging (`from`/`size`) and the
//! per-day histogram (`buckets`) work over the caller's entries only.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::clock::{Clock, iso};
use crate::errors::{ApiError, ApiResult, Source};
use crate::extractors::PathParams;
use crate::ids;
use crate::query::{QueryParams, compare_values};
use crate::state::{SharedState, read};
use crate::users::Caller;

/// Hit fields a `field:value` term may match.
const MATCHABLE: [&str; 6] = [
    "flowId",
    "componentId",
    "componentType",
    "portType",
    "severity",
    "_id",
];

/// Hit fields `sort` may name; `_id` is the tie-breaker `searchAfter` paging sorts by last.
const SORTABLE: [&str; 8] = [
    "@timestamp",
    "gridTimestamp",
    "severity",
    "componentType",
    "componentId",
    "flowId",
    "portType",
    "_id",
];

const DEFAULT_SIZE: u64 = 50;

static AND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s+AND\s+").expect("the AND separator is a valid pattern"));
static TO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s+TO\s+").expect("the TO separator is a valid pattern"));

/// The routes of this area.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/logs", get(get_logs))
        .route("/logs/{index}/{logId}", get(get_log))
}

/// Every log entry of the server, oldest first.
#[derive(Default)]
pub struct Logs {
    entries: Vec<LogEntry>,
}

struct LogEntry {
    owner: String,
    time: DateTime<Utc>,
    /// The entry as a search answers it.
    hit: Map<String, Value>,
    /// The message, answered only by `getLog`.
    msg: Value,
}

impl Logs {
    /// Writes the entry for a message that reached a component's `in` port.
    pub fn record(
        &mut self,
        clock: &Clock,
        owner: &str,
        flow_id: &str,
        component_id: &str,
        component_type: &str,
        msg: Value,
    ) {
        let time = clock.now();
        let stamp = iso(time);
        let mut hit = Map::new();
        hit.insert("_id".into(), ids::log_id().into());
        hit.insert(
            "_index".into(),
            time.format("appmixer-%Y%m").to_string().into(),
        );
        hit.insert("flowId".into(), flow_id.into());
        hit.insert("componentId".into(), component_id.into());
        hit.insert("componentType".into(), component_type.into());
        hit.insert("portType".into(), "in".into());
        hit.insert("port".into(), "in".into());
        hit.insert("severity".into(), "info".into());
        hit.insert("@timestamp".into(), stamp.clone().into());
        hit.insert("gridTimestamp".into(), stamp.into());
        hit.insert("id".into(), ids::uuid().into());
        hit.insert("correlationId".into(), ids::uuid().into());
        self.entries.push(LogEntry {
            owner: owner.to_owned(),
            time,
            hit,
            msg,
        });
    }

    /// The owner of entry `log_id` of index `index`, if there is one.
    pub fn owner_of(&self, index: &str, log_id: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|entry| {
                entry.hit.get("_id").and_then(Value::as_str) == Some(log_id)
                    && entry.hit.get("_index").and_then(Value::as_str) == Some(index)
            })
            .map(|entry| entry.owner.as_str())
    }
}

/// One term of a `query`.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    /// `*`.
    All,
    /// `@timestamp:[A TO B]`, both ends inclusive; `None` is open.
    Range {
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
    /// `field:value` or `+field:value`.
    Field { field: String, value: String },
}

impl Term {
    fn matches(&self, entry: &LogEntry) -> bool {
        match self {
            Term::All => true,
            Term::Range { from, to } => {
                from.is_none_or(|from| entry.time >= from) && to.is_none_or(|to| entry.time <= to)
            }
            Term::Field { field, value } => {
                entry.hit.get(field).and_then(Value::as_str) == Some(value.as_str())
            }
        }
    }
}

fn bad_term(term: &str, why: &str) -> ApiError {
    ApiError::invalid(
        Source::Query,
        "query",
        format!("`query` term `{term}` is not understood: {why}"),
    )
}

/// Splits a query string into its `AND`-joined terms.
fn parse_query(raw: &str) -> ApiResult<Vec<Term>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(vec![Term::All]);
    }
    AND.split(raw).map(|term| parse_term(term.trim())).collect()
}

fn parse_term(term: &str) -> ApiResult<Term> {
    if term == "*" {
        return Ok(Term::All);
    }
    if let Some(range) = term.strip_prefix("@timestamp:") {
        return parse_range(term, range);
    }
    let Some((field, value)) = term.strip_prefix('+').unwrap_or(term).split_once(':') else {
        return Err(bad_term(
            term,
            "use `field:value`, `@timestamp:[A TO B]` or `*`, joined by `AND`",
        ));
    };
    if !MATCHABLE.contains(&field) {
        return Err(bad_term(
            term,
            &format!("searchable fields are {}", MATCHABLE.join(", ")),
        ));
    }
    let value = match value.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
        Some(quoted) => quoted,
        None if value.contains(char::is_whitespace) => {
            return Err(bad_term(
                term,
                "only `AND` joins terms; put a value that holds spaces in double quotes",
            ));
        }
        None => value,
    };
    if value.is_empty() {
        return Err(bad_term(term, "the value after the colon is empty"));
    }
    Ok(Term::Field {
        field: field.to_owned(),
        value: value.to_owned(),
    })
}

fn parse_range(term: &str, range: &str) -> ApiResult<Term> {
    let inner = range
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(|| bad_term(term, "a range is written `[A TO B]`"))?;
    let bounds: Vec<&str> = TO.split(inner.trim()).collect();
    let [from, to] = bounds[..] else {
        return Err(bad_term(term, "a range is written `[A TO B]`"));
    };
    Ok(Term::Range {
        from: parse_bound(term, from.trim(), false)?,
        to: parse_bound(term, to.trim(), true)?,
    })
}

/// A range end: `*`, an ISO-8601 time, or a `YYYY-MM-DD` day, which as the
/// upper end covers that whole day.
fn parse_bound(term: &str, bound: &str, upper: bool) -> ApiResult<Option<DateTime<Utc>>> {
    if bound == "*" {
        return Ok(None);
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(bound) {
        return Ok(Some(time.with_timezone(&Utc)));
    }
    let day = NaiveDate::parse_from_str(bound, "%Y-%m-%d").map_err(|_| {
        bad_term(
            term,
            &format!("`{bound}` is not `*`, a `YYYY-MM-DD` date or an ISO-8601 time"),
        )
    })?;
    let start = day.and_hms_opt(0, 0, 0).map(|midnight| midnight.and_utc());
    if !upper {
        return Ok(start);
    }
    let end = day
        .checked_add_days(Days::new(1))
        .and_then(|next| next.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc() - TimeDelta::milliseconds(1));
    Ok(end)
}

/// One `sort` key of a log search.
struct LogSort {
    field: String,
    descending: bool,
}

fn parse_sorts(query: &QueryParams) -> ApiResult<Vec<LogSort>> {
    let raw = query.all("sort");
    if raw.is_empty() {
        return Ok(vec![LogSort {
            field: "@timestamp".into(),
            descending: true,
        }]);
    }
    raw.into_iter()
        .map(|item| {
            let (field, descending) = match item.rsplit_once(':') {
                Some((field, "desc")) => (field, true),
                Some((field, "asc")) => (field, false),
                Some((_, direction)) => {
                    return Err(ApiError::invalid(
                        Source::Query,
                        "sort",
                        format!("`sort` direction must be `asc` or `desc`, got `{direction}`"),
                    ));
                }
                None => (item, false),
            };
            if !SORTABLE.contains(&field) {
                return Err(ApiError::invalid(
                    Source::Query,
                    "sort",
                    format!(
                        "`sort` cannot sort on `{field}`; sortable fields are {}",
                        SORTABLE.join(", ")
                    ),
                ));
            }
            Ok(LogSort {
                field: field.to_owned(),
                descending,
            })
        })
        .collect()
}

/// The per-day histogram of `entries`, oldest day first.
fn buckets(entries: &[&LogEntry]) -> Vec<Value> {
    let mut days: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for entry in entries {
        *days.entry(entry.time.date_naive()).or_default() += 1;
    }
    days.into_iter()
        .filter_map(|(day, count)| {
            let midnight = day.and_hms_opt(0, 0, 0)?.and_utc();
            Some(json!({
                "key_as_string": iso(midnight),
                "key": midnight.timestamp_millis(),
                "doc_count": count,
            }))
        })
        .collect()
}

/// `GET /logs`.
async fn get_logs(
    State(state): State<SharedState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let from = query.count("from", 0)?;
    let size = query.count("size", DEFAULT_SIZE)?;
    let sorts = parse_sorts(&query)?;
    let terms = parse_query(query.one("query")?.unwrap_or_default())?;
    let flow_ids = query.all("flowId");
    let port_types = query.all("portType");

    let logs = read(&state.logs);
    let field_in = |entry: &LogEntry, field: &str, allowed: &[&str]| {
        allowed.is_empty()
            || entry
                .hit
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|value| allowed.contains(&value))
    };
    let mut selected: Vec<&LogEntry> = logs
        .entries
        .iter()
        .filter(|entry| entry.owner == caller.id)
        .filter(|entry| field_in(entry, "flowId", &flow_ids))
        .filter(|entry| field_in(entry, "portType", &port_types))
        .filter(|entry| terms.iter().all(|term| term.matches(entry)))
        .collect();
    selected.sort_by(|a, b| {
        sorts
            .iter()
            .map(|sort| {
                let order = compare_values(a.hit.get(&sort.field), b.hit.get(&sort.field));
                if sort.descending {
                    order.reverse()
                } else {
                    order
                }
            })
            .find(|order| order.is_ne())
            .unwrap_or_else(|| compare_values(a.hit.get("_id"), b.hit.get("_id")))
    });

    let histogram = buckets(&selected);
    let skip = usize::try_from(from).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    let hits: Vec<Value> = selected
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|entry| Value::Object(entry.hit.clone()))
        .collect();
    Ok(Json(json!({ "buckets": histogram, "hits": hits })))
}

/// `GET /logs/{index}/{logId}`: one entry with its message.
async fn get_log(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams((index, log_id)): PathParams<(String, String)>,
) -> ApiResult<Json<Value>> {
    let logs = read(&state.logs);
    let entry = logs
        .entries
        .iter()
        .find(|entry| {
            entry.owner == caller.id
                && entry.hit.get("_id").and_then(Value::as_str) == Some(log_id.as_str())
                && entry.hit.get("_index").and_then(Value::as_str) == Some(index.as_str())
        })
        .ok_or_else(|| ApiError::not_found("Log"))?;
    let mut source: Map<String, Value> = entry
        .hit
        .iter()
        .filter(|(key, _)| *key != "_id" && *key != "_index")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    source.insert("msg".into(), entry.msg.clone());
    Ok(Json(json!({
        "_index": index,
        "_type": "_doc",
        "_id": log_id,
        "_version": 1,
        "_source": source,
    })))
}
