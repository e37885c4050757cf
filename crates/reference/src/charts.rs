//! Insights charts: a user's dashboard of log visualisations.
//!
//! A chart's `query`, `options` and `traces` are free objects the server
//! keeps as given. Charts are listed by `index` (their place on the
//! dashboard) unless `sort` says otherwise; a chart created without an
//! `index` goes after the user's existing charts. The server sets
//! `chartId`, `userId` and `mtime`; a body that names one is refused.

use std::collections::HashMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::errors::{ApiError, ApiResult, Source};
use crate::extractors::{JsonObject, PathParams};
use crate::ids;
use crate::payload::Fields;
use crate::query::{QueryParams, SortKey, contains_ignore_case, sort_documents};
use crate::state::{SharedState, read, write};
use crate::users::Caller;

const SORTABLE: [&str; 3] = ["name", "index", "mtime"];

/// The chart types the spec's `ChartType` enum allows.
pub const TYPES: [&str; 5] = ["bar", "line", "scatter", "area", "pie"];

/// The fields a client may write, in the order a chart answers them.
const WRITABLE: [&str; 6] = ["name", "index", "type", "query", "options", "traces"];

/// The fields only the server sets.
const SERVER_FIELDS: [&str; 3] = ["chartId", "userId", "mtime"];

/// The routes of this area.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/charts", get(get_charts).post(create_chart))
        .route(
            "/charts/{chartId}",
            get(get_chart).put(update_chart).delete(delete_chart),
        )
}

/// Every chart of the server, keyed by `chartId`.
#[derive(Default)]
pub struct Charts {
    by_id: HashMap<String, Chart>,
}

struct Chart {
    owner: String,
    document: Map<String, Value>,
}

impl Charts {
    /// The owner and document of chart `chart_id`, whoever owns it.
    pub fn get(&self, chart_id: &str) -> Option<(&str, &Map<String, Value>)> {
        self.by_id
            .get(chart_id)
            .map(|chart| (chart.owner.as_str(), &chart.document))
    }

    /// The document of chart `chart_id`, whoever owns it, for changing it.
    pub fn document_mut(&mut self, chart_id: &str) -> Option<&mut Map<String, Value>> {
        self.by_id
            .get_mut(chart_id)
            .map(|chart| &mut chart.document)
    }

    fn owned_mut(&mut self, caller: &Caller, chart_id: &str) -> ApiResult<&mut Chart> {
        self.by_id
            .get_mut(chart_id)
            .filter(|chart| chart.owner == caller.id)
            .ok_or_else(|| ApiError::not_found("Chart"))
    }
}

/// The writable fields of a chart body, checked; server fields are
/// refused and other fields ignored.
fn writable_fields(body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let fields = Fields::new(body);
    fields.refuse_server_fields(&SERVER_FIELDS)?;
    fields.string("name")?;
    fields.integer("index")?;
    if let Some(kind) = fields.string("type")?
        && !TYPES.contains(&kind)
    {
        return Err(ApiError::invalid(
            Source::Payload,
            "type",
            format!("`type` must be one of {}, got `{kind}`", TYPES.join(", ")),
        ));
    }
    for object in ["query", "options", "traces"] {
        fields.object(object)?;
    }
    Ok(WRITABLE
        .iter()
        .filter_map(|key| {
            body.get(*key)
                .map(|value| ((*key).to_owned(), value.clone()))
        })
        .collect())
}

/// `GET /charts`.
async fn get_charts(
    State(state): State<SharedState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let pattern = query.one("pattern")?;
    let sort = query.sort(&SORTABLE, SortKey::ascending("index"))?;
    let projection = query.projection()?;
    let page = query.page()?;

    let charts = read(&state.charts);
    let mut selected: Vec<&Map<String, Value>> = charts
        .by_id
        .values()
        .filter(|chart| chart.owner == caller.id)
        .map(|chart| &chart.document)
        .filter(|document| {
            pattern.is_none_or(|pattern| {
                let name = document
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                contains_ignore_case(name, pattern)
            })
        })
        .collect();
    sort_documents(&mut selected, &sort, "chartId", |document| document);
    let answer = page
        .apply(selected)
        .into_iter()
        .map(|document| Value::Object(projection.apply(document, "chartId")))
        .collect();
    Ok(Json(Value::Array(answer)))
}

/// `POST /charts`.
async fn create_chart(
    State(state): State<SharedState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let mut given = writable_fields(&body)?;
    Fields::new(&body).required_string("name")?;

    let mut charts = write(&state.charts);
    let next_index = charts
        .by_id
        .values()
        .filter(|chart| chart.owner == caller.id)
        .count();
    let chart_id = ids::object_id();
    let mut document = Map::new();
    document.insert("chartId".into(), chart_id.clone().into());
    document.insert("userId".into(), caller.id.clone().into());
    for key in WRITABLE {
        let value = match (given.remove(key), key) {
            (Some(value), _) => value,
            (None, "index") => next_index.into(),
            (None, "query" | "options" | "traces") => json!({}),
            (None, _) => continue,
        };
        document.insert(key.into(), value);
    }
    document.insert("mtime".into(), iso(state.clock.now()).into());
    charts.by_id.insert(
        chart_id.clone(),
        Chart {
            owner: caller.id.clone(),
            document,
        },
    );
    Ok(Json(json!({ "chartId": chart_id })))
}

/// `GET /charts/{chartId}`.
async fn get_chart(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(chart_id): PathParams<String>,
) -> ApiResult<Json<Value>> {
    let charts = read(&state.charts);
    let chart = charts
        .by_id
        .get(&chart_id)
        .filter(|chart| chart.owner == caller.id)
        .ok_or_else(|| ApiError::not_found("Chart"))?;
    Ok(Json(Value::Object(chart.document.clone())))
}

/// `PUT /charts/{chartId}`: replaces each named field and answers the chart.
async fn update_chart(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(chart_id): PathParams<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let given = writable_fields(&body)?;
    let mut charts = write(&state.charts);
    let chart = charts.owned_mut(&caller, &chart_id)?;
    chart.document.extend(given);
    chart
        .document
        .insert("mtime".into(), iso(state.clock.now()).into());
    Ok(Json(Value::Object(chart.document.clone())))
}

/// `DELETE /charts/{chartId}`: answers 200 with an empty body.
async fn delete_chart(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(chart_id): PathParams<String>,
) -> ApiResult<()> {
    let mut charts = write(&state.charts);
    charts.owned_mut(&caller, &chart_id)?;
    charts.by_id.remove(&chart_id);
    Ok(())
}
