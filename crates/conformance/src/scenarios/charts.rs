//! Insights charts: create, list, get, update, delete.
//!
//! A created chart is listed under the run tag and read back as sent; an
//! update of its name and type answers the whole chart, persists, and keeps
//! the fields it did not name; after deletion `getChart` answers 404 and the
//! list no longer has it.

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::scenarios::{ids_of, items};
use crate::session::{Session, StatusRule, Step};
use crate::transport::{Call, Exchange};

/// The chart's fields as `getChart` answers them, for the fields of `sent`.
fn echoed(sent: &Value, body: &Value) -> Value {
    Value::Object(
        sent.as_object()
            .into_iter()
            .flatten()
            .filter_map(|(key, _)| body.get(key).map(|v| (key.clone(), v.clone())))
            .collect(),
    )
}

async fn read(s: &mut Session, chart_id: &str) -> Step<(Exchange, Value)> {
    let exchange = s
        .call(Call::new("getChart").path("chartId", chart_id))
        .await?;
    let body = s.require_success("getChart", "charts.get-finds-chart", &exchange)?;
    Ok((exchange, body))
}

/// Walks an Insights chart through its lifecycle.
pub async fn run(s: &mut Session) -> Step<()> {
    let trace = uuid::Uuid::new_v4().to_string();
    let sent = json!({
        "name": s.name("messages per day"),
        "index": 3,
        "type": "bar",
        "query": {"range": {"from": {"endOf": "day", "subtract": [7, "days"]}, "to": {"endOf": "day"}}},
        "options": {"showlegend": true, "barmode": "stack"},
        "traces": {trace.as_str(): {"name": "Messages 📨", "agg": {"date_histogram": {"interval": "1d"}}}},
    });
    let exchange = s.call(Call::new("createChart").body(sent.clone())).await?;
    let chart_id = s.require_str(
        "createChart",
        "charts.create-answers-id",
        &exchange,
        "/chartId",
    )?;
    s.created(Kind::Chart, &chart_id);

    let tag = s.tag.clone();
    let exchange = s
        .call(Call::new("getCharts").query("pattern", &tag))
        .await?;
    let body = s.require_success("getCharts", "charts.list-succeeds", &exchange)?;
    let listed = ids_of(items(&body), "chartId");
    s.expect(
        "getCharts",
        "charts.list-includes-created",
        Some(&exchange),
        listed.contains(&chart_id),
        || format!("a list with {chart_id}"),
        || format!("charts {listed:?}"),
    );

    let (exchange, body) = read(s, &chart_id).await?;
    s.expect_json(
        "getChart",
        "charts.get-answers-id",
        Some(&exchange),
        &json!(chart_id),
        body.get("chartId"),
    );
    s.expect_json(
        "createChart",
        "charts.create-persists",
        Some(&exchange),
        &sent,
        Some(&echoed(&sent, &body)),
    );

    let update = json!({"name": s.name("messages per week"), "type": "line"});
    let exchange = s
        .call(
            Call::new("updateChart")
                .path("chartId", &chart_id)
                .body(update.clone()),
        )
        .await?;
    let body = s.require_success("updateChart", "charts.update-succeeds", &exchange)?;
    let mut expected = sent.clone();
    expected["name"] = update["name"].clone();
    expected["type"] = update["type"].clone();
    s.expect_json(
        "updateChart",
        "charts.update-answers-chart",
        Some(&exchange),
        &expected,
        Some(&echoed(&expected, &body)),
    );
    let (exchange, body) = read(s, &chart_id).await?;
    s.expect_json(
        "updateChart",
        "charts.update-persists",
        Some(&exchange),
        &expected,
        Some(&echoed(&expected, &body)),
    );

    let exchange = s
        .call(Call::new("deleteChart").path("chartId", &chart_id))
        .await?;
    s.require_success("deleteChart", "charts.delete-succeeds", &exchange)?;
    s.deleted(Kind::Chart, &chart_id);
    let exchange = s
        .call(Call::new("getChart").path("chartId", &chart_id))
        .await?;
    s.expect_status(
        "getChart",
        "charts.get-after-delete-is-404",
        &exchange,
        StatusRule::Exactly(404),
    );
    let exchange = s
        .call(Call::new("getCharts").query("pattern", &tag))
        .await?;
    let body = s.require_success("getCharts", "charts.list-succeeds", &exchange)?;
    s.expect(
        "getCharts",
        "charts.list-after-delete-excludes",
        Some(&exchange),
        !ids_of(items(&body), "chartId").contains(&chart_id),
        || format!("a list without {chart_id}"),
        || "a list that still has it".into(),
    );
    Ok(())
}
