//! `projection` keeps or leaves out exactly the named fields.
//!
//! [`run`] reads a flow, people tasks and charts in full and with each kind
//! of projection (`a,b` keeps only those, `-a,-b` leaves them out) and checks
//! that the projected object has exactly the fields the oracle
//! ([`oracle::projected_fields`]) leaves, the identity field always among
//! them, with the values of the full object (property `projection.fields`,
//! recorded against the operation read).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::model::oracle;
use crate::properties::{Ctx, create_chart, create_flow, delete, list, scope_filter};
use crate::session::{Session, Step};
use crate::transport::{Call, Exchange};

const PROPERTY: &str = "projection.fields";

fn fields(object: &Value) -> BTreeSet<String> {
    object
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default()
}

fn expect_projected(
    s: &mut Session,
    operation: &str,
    exchange: &Exchange,
    full: &Value,
    projected: &Value,
    projection: &str,
    identity: &str,
) {
    let wanted = oracle::projected_fields(&fields(full), projection, identity);
    let got = fields(projected);
    let same_values = got
        .iter()
        .all(|field| full.get(field) == projected.get(field));
    s.expect(
        operation,
        PROPERTY,
        Some(exchange),
        got == wanted && same_values,
        || format!("`{projection}`: fields {wanted:?} with the full object's values"),
        || {
            format!(
                "fields {got:?}{}",
                if same_values { "" } else { ", other values" }
            )
        },
    );
}

async fn project_list(
    s: &mut Session,
    operation: &str,
    query: &[(&str, String)],
    id_field: &str,
    projections: &[&str],
) -> Step<()> {
    let with = |call: Call| {
        query
            .iter()
            .fold(call, |call, (name, value)| call.query(name, value))
    };
    let Some((_, full)) = list(s, with(Call::new(operation))).await? else {
        return Ok(());
    };
    let full: BTreeMap<String, Value> = full
        .into_iter()
        .filter_map(|item| Some((item.get(id_field)?.as_str()?.to_string(), item)))
        .collect();
    if full.is_empty() {
        return Ok(());
    }
    for projection in projections {
        let Some((exchange, projected)) = list(
            s,
            with(Call::new(operation)).query("projection", projection),
        )
        .await?
        else {
            continue;
        };
        for item in &projected {
            let Some(original) = item
                .get(id_field)
                .and_then(Value::as_str)
                .and_then(|id| full.get(id))
            else {
                s.expect(
                    operation,
                    PROPERTY,
                    Some(&exchange),
                    false,
                    || format!("every item keeps `{id_field}`"),
                    || format!("an item without it: {item}"),
                );
                continue;
            };
            expect_projected(
                s, operation, &exchange, original, item, projection, id_field,
            );
        }
    }
    Ok(())
}

/// Projections of flows, tasks and charts keep exactly the named fields.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("projection");
    let extra = json!({
        "flow": {},
        "description": "projected",
        "thumbnail": "data:image/svg+xml;base64,PHN2Zy8+",
        "customFields": {"category": "crm"},
    });
    let flow = create_flow(s, &tag, &format!("{tag} flow"), extra).await?;
    if let Some(flow) = &flow {
        let exchange = s.call(Call::new("getFlow").path("flowId", flow)).await?;
        if let Some(full) = exchange.is_success().then(|| exchange.json_ref()).flatten() {
            for projection in [
                "name,stage",
                "name",
                "-flow,-thumbnail",
                "-customFields",
                "flowId",
            ] {
                let exchange = s
                    .call(
                        Call::new("getFlow")
                            .path("flowId", flow)
                            .query("projection", projection),
                    )
                    .await?;
                if let Some(projected) =
                    exchange.is_success().then(|| exchange.json_ref()).flatten()
                {
                    expect_projected(
                        s, "getFlow", &exchange, full, projected, projection, "flowId",
                    );
                }
            }
        }
        project_list(
            s,
            "getFlows",
            &[("filter", scope_filter(&tag))],
            "flowId",
            &["name,mtime", "-flow,-thumbnail"],
        )
        .await?;
    }

    let email = s.email();
    let mut with_description = false;
    for title in ["first", "second"] {
        let exchange = s
            .call(Call::new("createPeopleTask").body(json!({
                "title": format!("{tag} {title}"),
                "description": "projected away",
                "requester": email,
                "approver": email,
                "decisionBy": crate::properties::DECISION_BY,
            })))
            .await?;
        if let Some(id) = exchange
            .is_success()
            .then(|| exchange.str_at("/id"))
            .flatten()
        {
            s.created(Kind::PeopleTask, &id);
            with_description = true;
        }
    }
    if with_description {
        project_list(
            s,
            "getPeopleTasks",
            &[("pattern", regex::escape(&tag))],
            "id",
            &["title", "title,status", "-description"],
        )
        .await?;
    }

    let chart = create_chart(
        s,
        json!({"name": format!("{tag} chart"), "index": 1, "type": "area", "query": {}, "options": {}, "traces": {}}),
    )
    .await?;
    if chart.is_some() {
        project_list(
            s,
            "getCharts",
            &[("pattern", tag.clone())],
            "chartId",
            &["name,type", "-traces,-options"],
        )
        .await?;
    }

    if let Some(flow) = flow {
        delete(s, Kind::Flow, &flow).await?;
    }
    if let Some(chart) = chart {
        delete(s, Kind::Chart, &chart).await?;
    }
    Ok(())
}
