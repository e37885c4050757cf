//! `pattern` and `filter` select exactly the matching objects.
//!
//! [`run`] creates flows, records, people tasks, charts and accounts with
//! names in several scripts (letters of both cases, characters outside the
//! BMP, combining marks, CJK) and checks that each `pattern` and `filter`
//! answer lists exactly the objects the oracle ([`oracle`]) says match, and
//! that the count for the same query agrees (property
//! `selection.exact-match`, recorded against the list or count operation).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::model::oracle;
use crate::properties::{
    Ctx, count, create, create_chart, create_flow, create_store, create_task, delete, ids, list,
    scope_filter, set_record,
};
use crate::session::{Session, Step};
use crate::transport::Call;

const PROPERTY: &str = "selection.exact-match";

fn with(call: Call, query: &[(&str, String)]) -> Call {
    query
        .iter()
        .fold(call, |call, (name, value)| call.query(name, value))
}

/// Lists with `query` and expects exactly `expected` (ids) among `known`;
/// objects the property did not create are ignored unless `exact`.
#[allow(clippy::too_many_arguments)]
async fn expect_selection(
    s: &mut Session,
    operation: &str,
    count_operation: Option<&str>,
    query: &[(&str, String)],
    id_field: &str,
    known: &BTreeSet<String>,
    expected: BTreeSet<String>,
) -> Step<()> {
    if let Some((exchange, listed)) = list(s, with(Call::new(operation), query)).await? {
        let listed: BTreeSet<String> = ids(&listed, id_field)
            .into_iter()
            .filter(|id| known.contains(id))
            .collect();
        s.expect(
            operation,
            PROPERTY,
            Some(&exchange),
            listed == expected,
            || format!("exactly {expected:?} for {query:?}"),
            || format!("{listed:?}"),
        );
    }
    if let Some(count_operation) = count_operation
        && let Some((exchange, counted)) = count(s, with(Call::new(count_operation), query)).await?
    {
        s.expect(
            count_operation,
            PROPERTY,
            Some(&exchange),
            counted == expected.len() as u64,
            || format!("count {} for {query:?}", expected.len()),
            || format!("count {counted}"),
        );
    }
    Ok(())
}

/// Flows, records, tasks, charts and accounts: selections match the oracle.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("selection");
    let scope = scope_filter(&tag);

    let mut flows: Vec<Value> = Vec::new();
    for (name, category) in [
        ("alpha 𝄞 order", "crm"),
        ("ALPHA beta", "sales"),
        ("e\u{301}clair", "ops:eu"),
        ("東京 gamma", "crm"),
        ("Ünïcode delta", "sales"),
    ] {
        let full = format!("{tag} {name}");
        let extra = json!({"customFields": {"category": category}});
        if let Some(id) = create_flow(s, &tag, &full, extra.clone()).await? {
            flows.push(json!({
                "flowId": id,
                "name": full,
                "stage": "stopped",
                "customFields": {"amxcProperty": tag, "category": category},
            }));
        }
    }
    if let Some(first) = flows.first_mut() {
        let id = first["flowId"].as_str().unwrap_or_default().to_string();
        let started = s
            .call(
                Call::new("sendFlowCommand")
                    .path("flowId", &id)
                    .body(json!({"command": "start"})),
            )
            .await?;
        if started.is_success() {
            first["stage"] = json!("running");
        }
    }
    let flow_ids: BTreeSet<String> = ids(&flows, "flowId").into_iter().collect();
    if !flows.is_empty() {
        let id_part: String = flows[0]["flowId"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(13)
            .collect();
        for pattern in [
            "alpha",
            "ALPHA",
            "𝄞",
            "e\u{301}",
            "東京",
            "ünïcode",
            id_part.as_str(),
        ] {
            let expected = flows
                .iter()
                .filter(|f| oracle::flow_matches(f, pattern))
                .filter_map(|f| f["flowId"].as_str().map(str::to_string))
                .collect();
            let query = [("pattern", pattern.to_string()), ("filter", scope.clone())];
            expect_selection(
                s,
                "getFlows",
                Some("getFlowsCount"),
                &query,
                "flowId",
                &flow_ids,
                expected,
            )
            .await?;
        }
        for filter in [
            "customFields.category:crm",
            "customFields.category:!crm",
            "customFields.category:ops:eu",
            "stage:running",
            "stage:!running",
        ] {
            let filters = vec![scope.clone(), filter.to_string()];
            let expected = flows
                .iter()
                .filter(|f| oracle::filters_hold(f, &filters))
                .filter_map(|f| f["flowId"].as_str().map(str::to_string))
                .collect();
            let query = [("filter", scope.clone()), ("filter", filter.to_string())];
            expect_selection(
                s,
                "getFlows",
                Some("getFlowsCount"),
                &query,
                "flowId",
                &flow_ids,
                expected,
            )
            .await?;
        }
    }

    if let Some(store) = create_store(s, &format!("{tag} store")).await? {
        let records = [
            ("alpha 1", "shipped 𝄞"),
            ("Alpha 2", "pending"),
            ("beta é", "SHIPPED"),
            ("東京", "alpha in the value"),
        ];
        let mut keys = BTreeSet::new();
        for (key, value) in records {
            if set_record(s, &store, key, value).await? {
                keys.insert(key.to_string());
            }
        }
        for pattern in ["alpha", "shipped", "𝄞", "東京", "É"] {
            let expected = records
                .iter()
                .filter(|(key, value)| {
                    keys.contains(*key) && oracle::record_matches(key, &json!(value), pattern)
                })
                .map(|(key, _)| key.to_string())
                .collect();
            let query = [("storeId", store.clone()), ("pattern", pattern.to_string())];
            expect_selection(
                s,
                "getStoreRecords",
                Some("getStoreRecordsCount"),
                &query,
                "key",
                &keys,
                expected,
            )
            .await?;
        }
        delete(s, Kind::Store, &store).await?;
    }

    let email = s.email();
    let mut tasks: Vec<(String, String, &str)> = Vec::new();
    for (title, decide) in [
        ("alpha refund 𝄞", true),
        ("Beta refund", false),
        ("ALPHA order", false),
    ] {
        let full = format!("{tag} {title}");
        let Some((id, _)) = create_task(s, &full, &email).await? else {
            continue;
        };
        let mut status = "pending";
        if decide {
            let answer = s
                .call(Call::new("approveTask").path("id", &id).body(json!({})))
                .await?;
            if answer.is_success() {
                status = "approved";
            }
        }
        tasks.push((id, full, status));
    }
    let task_ids: BTreeSet<String> = tasks.iter().map(|t| t.0.clone()).collect();
    let escaped = regex::escape(&tag);
    for (pattern, filter) in [
        (format!("{escaped} alpha"), None),
        (format!("{escaped} (alpha|beta) refund"), None),
        (format!("^{escaped}.*𝄞$"), None),
        (escaped.clone(), Some("status:approved")),
        (escaped.clone(), Some("status:!approved")),
    ] {
        let matcher = oracle::TitlePattern::new(&pattern);
        let expected = tasks
            .iter()
            .filter(|(_, title, status)| {
                matcher.matches(title)
                    && filter.is_none_or(|f| oracle::filter_holds(&json!({"status": status}), f))
            })
            .map(|t| t.0.clone())
            .collect();
        let mut query = vec![("pattern", pattern.clone())];
        if let Some(filter) = filter {
            query.push(("filter", filter.to_string()));
        }
        expect_selection(
            s,
            "getPeopleTasks",
            Some("getPeopleTasksCount"),
            &query,
            "id",
            &task_ids,
            expected,
        )
        .await?;
    }

    let mut charts: Vec<(String, String)> = Vec::new();
    for name in ["Alpha 𝄞", "beta", "alpha e\u{301}"] {
        let full = format!("{tag} {name}");
        if let Some(id) = create_chart(s, json!({"name": full, "index": 0, "type": "pie"})).await? {
            charts.push((id, full));
        }
    }
    let chart_ids: BTreeSet<String> = charts.iter().map(|c| c.0.clone()).collect();
    for pattern in [
        format!("{tag} ALPHA"),
        format!("{tag} beta"),
        "𝄞".to_string(),
    ] {
        let expected = charts
            .iter()
            .filter(|(_, name)| oracle::contains_ci(name, &pattern))
            .map(|c| c.0.clone())
            .collect();
        expect_selection(
            s,
            "getCharts",
            None,
            &[("pattern", pattern.clone())],
            "chartId",
            &chart_ids,
            expected,
        )
        .await?;
    }

    let mut accounts: Vec<(String, &str)> = Vec::new();
    for service in ["appmixer:slack", "appmixer:jira"] {
        let call = Call::new("createAccount")
            .query("validateScope", false)
            .query("requestProfileInfo", false)
            .body(json!({
                "service": service,
                "token": {"accessToken": format!("{tag}-not-a-real-token")},
                "name": format!("{tag} {service}"),
            }));
        if let Some(id) = create(s, call, Kind::Account, "/accountId").await? {
            accounts.push((id, service));
        }
    }
    let account_ids: BTreeSet<String> = accounts.iter().map(|a| a.0.clone()).collect();
    for filter in ["service:appmixer:slack", "service:!appmixer:slack"] {
        let expected = accounts
            .iter()
            .filter(|(_, service)| oracle::filter_holds(&json!({"service": service}), filter))
            .map(|a| a.0.clone())
            .collect();
        expect_selection(
            s,
            "getAccounts",
            None,
            &[("filter", filter.to_string())],
            "accountId",
            &account_ids,
            expected,
        )
        .await?;
    }

    for id in flow_ids {
        delete(s, Kind::Flow, &id).await?;
    }
    for id in chart_ids {
        delete(s, Kind::Chart, &id).await?;
    }
    for id in account_ids {
        delete(s, Kind::Account, &id).await?;
    }
    Ok(())
}
