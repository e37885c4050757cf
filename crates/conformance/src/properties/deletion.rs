//! Deleted objects are gone.
//!
//! [`run`] deletes a flow, a store, a record, an account and a chart and
//! checks that each is gone from `get` (404), from its list and from its
//! count (property `deletion.gone`, recorded against the delete operation).

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
    if let Some(flow) = create_flow(s, &tag, &format!("{tag} flow"), json!({})).await?
        && deleted(s, Kind::Flow, &flow).await?
    {
        let get = s.call(Call::new("getFlow").path("flowId", &flow)).await?;
        gone(s, "deleteFlow", &get, "getFlow", get.status() == 404);
        let filter = scope_filter(&tag);
        if let Some((exchange, listed)) =
            list(s, Call::new("getFlows").query("filter", &filter)).await?
        {
            gone(
                s,
                "deleteFlow",
                &exchange,
                "getFlows",
                !ids(&listed, "flowId").contains(&flow),
            );
        }
        if let Some((exchange, counted)) =
            count(s, Call::new("getFlowsCount").query("filter", &filter)).await?
        {
            gone(s, "deleteFlow", &exchange, "getFlowsCount", counted == 0);
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
                if let Some((exchange, listed)) =
                    list(s, Call::new("getStoreRecords").query("storeId", &store)).await?
                {
                    gone(
                        s,
                        "deleteStoreItem",
                        &exchange,
                        "getStoreRecords",
                        ids(&listed, "key") == ["kept"],
                    );
                }
                if let Some((exchange, counted)) = count(
                    s,
                    Call::new("getStoreRecordsCount").query("storeId", &store),
                )
                .await?
                {
                    gone(
                        s,
                        "deleteStoreItem",
                        &exchange,
                        "getStoreRecordsCount",
                        counted == 1,
                    );
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
