//! Deleted objects are gone.
//!
//! [`run`] deletes a flow, a running flow, a store, a record, an account
//! and a chart and checks that each is gone from `get` (404), from its list
//! and from its count (property `deletion.gone`, recorded against the
//! delete operation). The running flow matters: the spec says it is stopped
//! first, and an engine that only stops it, or hides it from `get` alone,
//! leaves it behind in the list and the count. A count is held to the list
//! read just before it: when the list shows the object gone and the count
//! still has it, the count is wrong, not the delete, and the failure is the
//! count operation's (`counts.match-list`).

use serde_json::json;

use crate::cleanup::Kind;
use crate::properties::{
    Ctx, count, create, create_chart, create_flow, create_store, ids, list, scope_filter,
    set_record,
};
use crate::session::{Session, Step};
use crate::transport::{Call, Exchange};

const PROPERTY: &str = "deletion.gone";

fn gone(s: &mut Session, operation: &str, exchange: &Exchange, what: &str, holds: bool) {
    s.expect(
        operation,
        PROPERTY,
        Some(exchange),
        holds,
        || format!("the deleted object gone from {what}"),
        || format!("still in {what} (status {})", exchange.status()),
    );
}

/// Expects `counted`, what the count operation of `exchange` answered after
/// `delete`, to be `expected`; `listed_gone` says whether the list read just
/// before showed the object gone.
fn count_gone(
    s: &mut Session,
    delete: &str,
    exchange: &Exchange,
    (counted, expected): (u64, u64),
    listed_gone: bool,
) {
    let count_operation = exchange.operation.clone();
    if listed_gone && counted != expected {
        s.expect(
            &count_operation,
            "counts.match-list",
            Some(exchange),
            false,
            || format!("count {expected}, as listed after {delete}"),
            || format!("count {counted}"),
        );
        return;
    }
    gone(s, delete, exchange, &count_operation, counted == expected);
}

async fn deleted(s: &mut Session, kind: Kind, id: &str) -> Step<bool> {
    let (operation, parameter) = kind.delete_operation().expect("a deletable kind");
    let exchange = s.call(Call::new(operation).path(parameter, id)).await?;
    if exchange.is_success() {
        s.deleted(kind, id);
    }
    Ok(exchange.is_success())
}

/// Flows, stores, records, accounts and charts are gone once deleted.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("deletion");
    for running in [false, true] {
        let scope = if running {
            format!("{tag}-running")
        } else {
            tag.clone()
        };
        let what = if running { "running flow" } else { "flow" };
        let Some(flow) = create_flow(s, &scope, &format!("{tag} {what}"), json!({})).await? else {
            continue;
        };
        if running {
            let started = s
                .call(
                    Call::new("sendFlowCommand")
                        .path("flowId", &flow)
                        .body(json!({"command": "start"})),
                )
                .await?;
            if !started.is_success() {
                continue;
            }
        }
        if !deleted(s, Kind::Flow, &flow).await? {
            continue;
        }
        let get = s.call(Call::new("getFlow").path("flowId", &flow)).await?;
        gone(
            s,
            "deleteFlow",
            &get,
            &format!("getFlow ({what})"),
            get.status() == 404,
        );
        let filter = scope_filter(&scope);
        let mut listed_gone = false;
        if let Some((exchange, listed)) =
            list(s, Call::new("getFlows").query("filter", &filter)).await?
        {
            listed_gone = !ids(&listed, "flowId").contains(&flow);
            gone(
                s,
                "deleteFlow",
                &exchange,
                &format!("getFlows ({what})"),
                listed_gone,
            );
        }
        if let Some((exchange, counted)) =
            count(s, Call::new("getFlowsCount").query("filter", &filter)).await?
        {
            count_gone(s, "deleteFlow", &exchange, (counted, 0), listed_gone);
        }
    }

    if let Some(store) = create_store(s, &format!("{tag} store")).await? {
        if set_record(s, &store, "doomed 𝄞", "value").await?
            && set_record(s, &store, "kept", "value").await?
        {
            let exchange = s
                .call(
                    Call::new("deleteStoreItem")
                        .path("storeId", &store)
                        .path("key", "doomed 𝄞"),
                )
                .await?;
            if exchange.is_success() {
                let get = s
                    .call(
                        Call::new("getStoreItem")
                            .path("storeId", &store)
                            .path("key", "doomed 𝄞"),
                    )
                    .await?;
                gone(
                    s,
                    "deleteStoreItem",
                    &get,
                    "getStoreItem",
                    get.status() == 404,
                );
                let mut listed_gone = false;
                if let Some((exchange, listed)) =
                    list(s, Call::new("getStoreRecords").query("storeId", &store)).await?
                {
                    listed_gone = ids(&listed, "key") == ["kept"];
                    gone(
                        s,
                        "deleteStoreItem",
                        &exchange,
                        "getStoreRecords",
                        listed_gone,
                    );
                }
                if let Some((exchange, counted)) = count(
                    s,
                    Call::new("getStoreRecordsCount").query("storeId", &store),
                )
                .await?
                {
                    count_gone(s, "deleteStoreItem", &exchange, (counted, 1), listed_gone);
                }
            }
        }
        if deleted(s, Kind::Store, &store).await? {
            let get = s
                .call(Call::new("getStore").path("storeId", &store))
                .await?;
            gone(s, "deleteStore", &get, "getStore", get.status() == 404);
            if let Some((exchange, listed)) = list(s, Call::new("getStores")).await? {
                gone(
                    s,
                    "deleteStore",
                    &exchange,
                    "getStores",
                    !ids(&listed, "storeId").contains(&store),
                );
            }
        }
    }

    let call = Call::new("createAccount")
        .query("validateScope", false)
        .query("requestProfileInfo", false)
        .body(json!({"service": "appmixer:slack", "token": {"accessToken": "not-a-real-token"}, "name": format!("{tag} account")}));
    if let Some(account) = create(s, call, Kind::Account, "/accountId").await?
        && deleted(s, Kind::Account, &account).await?
        && let Some((exchange, listed)) = list(s, Call::new("getAccounts")).await?
    {
        gone(
            s,
            "deleteAccount",
            &exchange,
            "getAccounts",
            !ids(&listed, "accountId").contains(&account),
        );
    }

    if let Some(chart) =
        create_chart(s, json!({"name": format!("{tag} chart"), "type": "bar"})).await?
        && deleted(s, Kind::Chart, &chart).await?
    {
        let get = s
            .call(Call::new("getChart").path("chartId", &chart))
            .await?;
        gone(s, "deleteChart", &get, "getChart", get.status() == 404);
        if let Some((exchange, listed)) =
            list(s, Call::new("getCharts").query("pattern", &tag)).await?
        {
            gone(
                s,
                "deleteChart",
                &exchange,
                "getCharts",
                !ids(&listed, "chartId").contains(&chart),
            );
        }
    }
    Ok(())
}
