//! Pages partition lists.
//!
//! [`run`] creates seven objects of each pageable kind (flows, records,
//! people tasks, charts, log entries) and checks that pages of three
//! (`limit`/`offset`; for logs `from`/`size`) are exactly the consecutive
//! slices of the full list: `limit` respected, no gaps, no duplicates, and an
//! offset past the end gives an empty page (property `paging.partition`,
//! recorded against the list operation).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::properties::{
    Ctx, create_chart, create_flow, create_store, create_task, delete, ids, list, scope_filter,
    set_record,
};
use crate::session::{Session, Step};
use crate::transport::Call;

const PROPERTY: &str = "paging.partition";
const OBJECTS: usize = 7;
const PAGE: usize = 3;

fn with(call: Call, query: &[(&str, String)]) -> Call {
    query
        .iter()
        .fold(call, |call, (name, value)| call.query(name, value))
}

/// Pages of `operation` with `query` are the slices of its full list.
async fn partition(
    s: &mut Session,
    operation: &str,
    query: &[(&str, String)],
    id_field: &str,
) -> Step<()> {
    let Some((_, full)) = list(s, with(Call::new(operation), query)).await? else {
        return Ok(());
    };
    let full = ids(&full, id_field);
    if full.len() < OBJECTS {
        return Ok(());
    }
    let past_end = full.len() + 2;
    for offset in [0, PAGE, 2 * PAGE, past_end] {
        let call = with(Call::new(operation), query)
            .query("limit", PAGE)
            .query("offset", offset);
        let Some((exchange, page)) = list(s, call).await? else {
            continue;
        };
        let page = ids(&page, id_field);
        let wanted: Vec<String> = full.iter().skip(offset).take(PAGE).cloned().collect();
        s.expect(
            operation,
            PROPERTY,
            Some(&exchange),
            page == wanted,
            || format!("items {offset}.. of the full list (at most {PAGE}): {wanted:?}"),
            || format!("{page:?}"),
        );
    }
    Ok(())
}

/// Log pages (`from`/`size`) cover the full search once, `size` respected.
async fn partition_logs(s: &mut Session, flow_id: &str) -> Step<()> {
    let query = [
        ("query", format!("+flowId:{flow_id}")),
        ("sort", "@timestamp".to_string()),
    ];
    let hits = |body: &Value| -> Vec<String> {
        ids(
            body.get("hits")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            "_id",
        )
    };
    let exchange = s.call(with(Call::new("getLogs"), &query)).await?;
    let Some(body) = exchange.is_success().then(|| exchange.json_ref()).flatten() else {
        return Ok(());
    };
    let full = hits(body);
    if full.len() < OBJECTS {
        return Ok(());
    }
    let mut seen: Vec<String> = Vec::new();
    for from in [0, PAGE, 2 * PAGE, full.len() + 2] {
        let exchange = s
            .call(
                with(Call::new("getLogs"), &query)
                    .query("from", from)
                    .query("size", PAGE),
            )
            .await?;
        let Some(body) = exchange.is_success().then(|| exchange.json_ref()).flatten() else {
            continue;
        };
        let page = hits(body);
        let expected_len = full.len().saturating_sub(from).min(PAGE);
        s.expect(
            "getLogs",
            PROPERTY,
            Some(&exchange),
            page.len() == expected_len && page.iter().all(|id| full.contains(id)),
            || format!("{expected_len} entries of the full search from {from}"),
            || format!("{page:?}"),
        );
        seen.extend(page);
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    let all: BTreeSet<&String> = full.iter().collect();
    s.expect(
        "getLogs",
        PROPERTY,
        None,
        unique.len() == seen.len() && unique == all,
        || format!("the pages cover the {} entries once each", full.len()),
        || {
            format!(
                "{} entries over the pages, {} distinct",
                seen.len(),
                unique.len()
            )
        },
    );
    Ok(())
}

/// Pages of flows, records, tasks, charts and logs partition their lists.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("paging");
    let mut flows = Vec::new();
    for number in 0..OBJECTS {
        if let Some(id) = create_flow(s, &tag, &format!("{tag} page {number}"), json!({})).await? {
            flows.push(id);
        }
    }
    partition(
        s,
        "getFlows",
        &[("filter", scope_filter(&tag)), ("sort", "name:1".into())],
        "flowId",
    )
    .await?;

    if let Some(store) = create_store(s, &format!("{tag} store")).await? {
        for number in 0..OBJECTS {
            set_record(s, &store, &format!("key {number}"), "value").await?;
        }
        partition(
            s,
            "getStoreRecords",
            &[("storeId", store.clone()), ("sort", "key:1".into())],
            "key",
        )
        .await?;
        delete(s, Kind::Store, &store).await?;
    }

    let email = s.email();
    for number in 0..OBJECTS {
        create_task(s, &format!("{tag} page {number}"), &email).await?;
    }
    partition(
        s,
        "getPeopleTasks",
        &[("pattern", regex::escape(&tag)), ("sort", "title:1".into())],
        "id",
    )
    .await?;

    let mut charts = Vec::new();
    for number in 0..OBJECTS {
        let body = json!({"name": format!("{tag} page {number}"), "index": number, "type": "bar"});
        if let Some(id) = create_chart(s, body).await? {
            charts.push(id);
        }
    }
    partition(
        s,
        "getCharts",
        &[("pattern", tag.clone()), ("sort", "name:1".into())],
        "chartId",
    )
    .await?;

    let webhook = uuid::Uuid::new_v4().to_string();
    let descriptor =
        json!({webhook.as_str(): {"type": crate::model::state::WEBHOOK_TYPE, "source": {}}});
    if let Some(flow) =
        create_flow(s, &tag, &format!("{tag} logs"), json!({"flow": descriptor})).await?
    {
        let started = s
            .call(
                Call::new("sendFlowCommand")
                    .path("flowId", &flow)
                    .body(json!({"command": "start"})),
            )
            .await?;
        if started.is_success() {
            for number in 0..OBJECTS {
                s.call(
                    Call::new("sendComponentMessage")
                        .path("flowId", &flow)
                        .path("componentId", &webhook)
                        .body(json!({"page": number})),
                )
                .await?;
            }
            partition_logs(s, &flow).await?;
        }
        flows.push(flow);
    }

    for id in flows {
        delete(s, Kind::Flow, &id).await?;
    }
    for id in charts {
        delete(s, Kind::Chart, &id).await?;
    }
    Ok(())
}
