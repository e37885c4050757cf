//! `sort` orders by the field, in both directions.
//!
//! [`run`] reads the `x-sortable` fields of each operation's `sort`
//! parameter from the spec at run time, creates objects whose values differ
//! in each, and checks that every `field:1` / `field:-1` answer (logs:
//! `field` / `field:desc`) lists the same objects as the unsorted list, in
//! the order of the model's values for the fields it knows (names, keys,
//! titles, stages, statuses, indexes, decision dates) and of the server's
//! own values for those it makes (timestamps). Ties may come in any order
//! (property `sort.orders-by-field`, recorded against the list operation).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::model::oracle;
use crate::properties::{
    Ctx, create_chart, create_flow, create_store, delete, ids, list, scope_filter, set_record,
    sortable,
};
use crate::session::{Session, Step};
use crate::transport::Call;

const PROPERTY: &str = "sort.orders-by-field";

/// The values the model knows, per object id and field.
type Known = BTreeMap<String, BTreeMap<String, Value>>;

struct Target<'a> {
    operation: &'static str,
    query: Vec<(&'a str, String)>,
    id_field: &'static str,
    known: Known,
    logs: bool,
}

fn with(call: Call, query: &[(&str, String)]) -> Call {
    query
        .iter()
        .fold(call, |call, (name, value)| call.query(name, value))
}

fn items_of(target: &Target<'_>, body: &Value) -> Vec<Value> {
    let list = if target.logs {
        body.get("hits").unwrap_or(&Value::Null)
    } else {
        body
    };
    list.as_array().cloned().unwrap_or_default()
}

async fn read(
    s: &mut Session,
    target: &Target<'_>,
    call: Call,
) -> Step<Option<(crate::transport::Exchange, Vec<Value>)>> {
    if !target.logs {
        return list(s, call).await;
    }
    let exchange = s.call(call).await?;
    let items = exchange
        .is_success()
        .then(|| exchange.json_ref())
        .flatten()
        .map(|body| items_of(target, body));
    Ok(items.map(|items| (exchange, items)))
}

async fn check_sorts(s: &mut Session, ctx: &Ctx<'_>, target: Target<'_>) -> Step<()> {
    let Some((_, unsorted)) =
        read(s, &target, with(Call::new(target.operation), &target.query)).await?
    else {
        return Ok(());
    };
    let observed: BTreeMap<String, Value> = unsorted
        .iter()
        .filter_map(|item| {
            Some((
                item.get(target.id_field)?.as_str()?.to_string(),
                item.clone(),
            ))
        })
        .collect();
    if observed.len() < 2 {
        return Ok(());
    }
    let all: BTreeSet<&String> = observed.keys().collect();
    for field in sortable(ctx.spec, target.operation) {
        for ascending in [true, false] {
            let sort = match (target.logs, ascending) {
                (true, true) => field.clone(),
                (true, false) => format!("{field}:desc"),
                (false, true) => format!("{field}:1"),
                (false, false) => format!("{field}:-1"),
            };
            let call = with(Call::new(target.operation), &target.query).query("sort", &sort);
            let Some((exchange, sorted)) = read(s, &target, call).await? else {
                continue;
            };
            let order = ids(&sorted, target.id_field);
            let listed: BTreeSet<&String> = order.iter().collect();
            if listed != all {
                s.expect(
                    target.operation,
                    PROPERTY,
                    Some(&exchange),
                    false,
                    || format!("the same {} objects sorted by `{sort}`", all.len()),
                    || format!("{} objects", listed.len()),
                );
                continue;
            }
            let values: Vec<Value> = order
                .iter()
                .map(|id| {
                    target
                        .known
                        .get(id)
                        .and_then(|fields| fields.get(&field))
                        .cloned()
                        .or_else(|| {
                            observed
                                .get(id)
                                .and_then(|o| oracle::at_path(o, &field))
                                .cloned()
                        })
                        .unwrap_or(Value::Null)
                })
                .collect();
            let wrong = oracle::first_out_of_order(&values, ascending);
            s.expect(
                target.operation,
                PROPERTY,
                Some(&exchange),
                wrong.is_none(),
                || {
                    format!(
                        "`{sort}`: values in {} order",
                        if ascending { "ascending" } else { "descending" }
                    )
                },
                || match wrong {
                    Some((a, b)) => {
                        format!("{} (item {a}) before {} (item {b})", values[a], values[b])
                    }
                    None => String::new(),
                },
            );
        }
    }
    Ok(())
}

fn known(entries: Vec<(String, Vec<(&str, Value)>)>) -> Known {
    entries
        .into_iter()
        .map(|(id, fields)| {
            (
                id,
                fields
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value))
                    .collect(),
            )
        })
        .collect()
}

async fn command(s: &mut Session, flow: &str, command: &str) -> Step<bool> {
    let exchange = s
        .call(
            Call::new("sendFlowCommand")
                .path("flowId", flow)
                .body(json!({"command": command})),
        )
        .await?;
    Ok(exchange.is_success())
}

/// Every sortable field of flows, records, tasks, charts and logs sorts.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("sorting");
    let mut flows = Vec::new();
    let mut flow_known = Vec::new();
    let names = ["Beta", "alpha", "Ω omega", "gamma 𝄞", "Delta"];
    for (number, name) in names.iter().enumerate() {
        let full = format!("{tag} {name}");
        let Some(id) = create_flow(s, &tag, &full, json!({})).await? else {
            continue;
        };
        // Every flow gets `started` and `stopped`; two end up running.
        command(s, &id, "start").await?;
        command(s, &id, "stop").await?;
        let running = number % 2 == 1 && command(s, &id, "start").await?;
        let stage = if running { "running" } else { "stopped" };
        flow_known.push((
            id.clone(),
            vec![("name", json!(full)), ("stage", json!(stage))],
        ));
        flows.push(id);
    }
    check_sorts(
        s,
        ctx,
        Target {
            operation: "getFlows",
            query: vec![("filter", scope_filter(&tag))],
            id_field: "flowId",
            known: known(flow_known),
            logs: false,
        },
    )
    .await?;

    if let Some(store) = create_store(s, &format!("{tag} store")).await? {
        let keys = ["b", "A", "é", "c 𝄞", "a"];
        for key in keys {
            set_record(s, &store, key, "first").await?;
        }
        for key in ["A", "c 𝄞"] {
            set_record(s, &store, key, "second").await?;
        }
        let record_known = keys
            .iter()
            .map(|key| (key.to_string(), vec![("key", json!(key))]))
            .collect();
        check_sorts(
            s,
            ctx,
            Target {
                operation: "getStoreRecords",
                query: vec![("storeId", store.clone())],
                id_field: "key",
                known: known(record_known),
                logs: false,
            },
        )
        .await?;
        delete(s, Kind::Store, &store).await?;
    }

    let email = s.email();
    let mut task_known = Vec::new();
    for (number, title) in ["refund b", "Refund a", "refund 𝄞", "refund c"]
        .iter()
        .enumerate()
    {
        let full = format!("{tag} {title}");
        let decision_by = format!("209{number}-0{}-01T00:00:00.000Z", 4 - number);
        let exchange = s
            .call(Call::new("createPeopleTask").body(json!({
                "title": full,
                "requester": email,
                "approver": email,
                "decisionBy": decision_by,
            })))
            .await?;
        let Some(id) = exchange
            .is_success()
            .then(|| exchange.str_at("/id"))
            .flatten()
        else {
            continue;
        };
        s.created(Kind::PeopleTask, &id);
        let mut status = "pending";
        if number < 2 {
            let (operation, decided) = if number == 0 {
                ("approveTask", "approved")
            } else {
                ("rejectTask", "rejected")
            };
            let answer = s
                .call(Call::new(operation).path("id", &id).body(json!({})))
                .await?;
            if answer.is_success() {
                status = decided;
            }
        }
        task_known.push((
            id,
            vec![
                ("title", json!(full)),
                ("status", json!(status)),
                ("decisionBy", json!(decision_by)),
            ],
        ));
    }
    check_sorts(
        s,
        ctx,
        Target {
            operation: "getPeopleTasks",
            query: vec![("pattern", regex::escape(&tag))],
            id_field: "id",
            known: known(task_known),
            logs: false,
        },
    )
    .await?;

    let mut charts = Vec::new();
    let mut chart_known = Vec::new();
    for (name, index) in [("b", 2), ("A", 0), ("é", 1), ("c", 1), ("a 𝄞", 4)] {
        let full = format!("{tag} {name}");
        let body = json!({"name": full, "index": index, "type": "line"});
        if let Some(id) = create_chart(s, body).await? {
            chart_known.push((
                id.clone(),
                vec![("name", json!(full)), ("index", json!(index))],
            ));
            charts.push(id);
        }
    }
    check_sorts(
        s,
        ctx,
        Target {
            operation: "getCharts",
            query: vec![("pattern", tag.clone())],
            id_field: "chartId",
            known: known(chart_known),
            logs: false,
        },
    )
    .await?;

    let mut log_query = Vec::new();
    for number in 0..2 {
        let webhook = uuid::Uuid::new_v4().to_string();
        let descriptor =
            json!({webhook.as_str(): {"type": crate::model::state::WEBHOOK_TYPE, "source": {}}});
        let name = format!("{tag} logs {number}");
        let Some(flow) = create_flow(s, &tag, &name, json!({"flow": descriptor})).await? else {
            continue;
        };
        if command(s, &flow, "start").await? {
            for message in 0..3 {
                s.call(
                    Call::new("sendComponentMessage")
                        .path("flowId", &flow)
                        .path("componentId", &webhook)
                        .body(json!({"message": message})),
                )
                .await?;
            }
            log_query.push(("flowId", flow.clone()));
        }
        flows.push(flow);
    }
    if !log_query.is_empty() {
        check_sorts(
            s,
            ctx,
            Target {
                operation: "getLogs",
                query: log_query,
                id_field: "_id",
                known: Known::new(),
                logs: true,
            },
        )
        .await?;
    }

    for id in flows {
        delete(s, Kind::Flow, &id).await?;
    }
    for id in charts {
        delete(s, Kind::Chart, &id).await?;
    }
    Ok(())
}
