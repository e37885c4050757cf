//! Counts agree with lists.
//!
//! [`run`] checks that `getFlowsCount`, `getStoreRecordsCount` and
//! `getPeopleTasksCount` equal the length of the unpaginated list for the
//! same query, with and without `pattern` and `filter` (property
//! `counts.match-list`, recorded against the count operation).

use serde_json::json;

use crate::cleanup::Kind;
use crate::properties::{
    Ctx, count, create_flow, create_store, create_task, delete, list_all, scope_filter, set_record,
};
use crate::session::{Session, Step};
use crate::transport::Call;

const PROPERTY: &str = "counts.match-list";

/// A list query: its parameters.
type Query = Vec<(&'static str, String)>;

fn with(call: Call, query: &Query) -> Call {
    query
        .iter()
        .fold(call, |call, (name, value)| call.query(name, value))
}

async fn compare(
    s: &mut Session,
    list_op: &str,
    count_op: &'static str,
    base: &[(&'static str, String)],
    query: &Query,
) -> Step<()> {
    let all: Query = base.iter().cloned().chain(query.iter().cloned()).collect();
    let listed = list_all(s, || with(Call::new(list_op), &all)).await?;
    let counted = count(s, with(Call::new(count_op), &all)).await?;
    if let (Some(listed), Some((exchange, counted))) = (listed, counted) {
        s.expect(
            count_op,
            PROPERTY,
            Some(&exchange),
            counted == listed.len() as u64,
            || format!("count {} for {all:?}, as many as listed", listed.len()),
            || format!("count {counted}"),
        );
    }
    Ok(())
}

/// Counts of flows, records and people tasks equal their unpaginated lists.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("counts");
    let mut flows = Vec::new();
    for (name, category) in [
        ("alpha 𝄞", "crm"),
        ("ALPHA beta", "sales"),
        ("gamma e\u{301}", "crm"),
        ("delta 東京", "ops:eu"),
    ] {
        let extra = json!({"customFields": {"category": category}});
        if let Some(id) = create_flow(s, &tag, &format!("{tag} {name}"), extra).await? {
            flows.push(id);
        }
    }
    let scope = scope_filter(&tag);
    let flow_queries: Vec<Query> = vec![
        vec![],
        vec![("pattern", tag.clone())],
        vec![("pattern", "alpha".into()), ("filter", scope.clone())],
        vec![("filter", scope.clone())],
        vec![
            ("filter", scope.clone()),
            ("filter", "customFields.category:crm".into()),
        ],
        vec![("pattern", "𝄞".into()), ("filter", scope.clone())],
        vec![
            ("filter", scope.clone()),
            ("filter", "customFields.category:ops:eu".into()),
        ],
    ];
    if !flows.is_empty() {
        for query in &flow_queries {
            compare(s, "getFlows", "getFlowsCount", &[], query).await?;
        }
    }

    if let Some(store) = create_store(s, &format!("{tag} store")).await? {
        let records = [
            ("alpha 1", "shipped 𝄞"),
            ("Alpha 2", "pending"),
            ("beta é", "SHIPPED"),
            ("gamma", "alpha in the value"),
            ("delta 東京", "returned"),
        ];
        let mut set = 0;
        for (key, value) in records {
            set += usize::from(set_record(s, &store, key, value).await?);
        }
        if set > 0 {
            let base = [("storeId", store.clone())];
            for query in [
                vec![],
                vec![("pattern", "alpha".to_string())],
                vec![("pattern", "shipped".to_string())],
                vec![("pattern", "𝄞".to_string())],
                vec![("pattern", "nothing matches this".to_string())],
            ] {
                compare(s, "getStoreRecords", "getStoreRecordsCount", &base, &query).await?;
            }
        }
        delete(s, Kind::Store, &store).await?;
    }

    let email = s.email();
    let mut tasks = 0;
    for (title, approver) in [
        ("alpha refund", email.clone()),
        ("beta refund", format!("{tag}-other@example.com")),
        ("Alpha order", email.clone()),
    ] {
        tasks += usize::from(
            create_task(s, &format!("{tag} {title}"), &approver)
                .await?
                .is_some(),
        );
    }
    if tasks > 0 {
        let pattern = regex::escape(&tag);
        for query in [
            vec![],
            vec![("pattern", pattern.clone())],
            vec![("pattern", pattern.clone()), ("role", "approver".into())],
            vec![("pattern", pattern.clone()), ("role", "requester".into())],
            vec![("pattern", format!("{pattern} alpha"))],
            vec![
                ("pattern", pattern.clone()),
                ("filter", "status:pending".into()),
            ],
        ] {
            compare(s, "getPeopleTasks", "getPeopleTasksCount", &[], &query).await?;
        }
    }

    for id in flows {
        delete(s, Kind::Flow, &id).await?;
    }
    Ok(())
}
