//! Repeated commands change nothing.
//!
//! [`run`] starts a flow twice (it stays `running`, `started` unchanged),
//! stops it twice (it stays `stopped`), deletes it twice (the second answers
//! 404 and the list is as before), and decides a decided people task again
//! (approve or reject: 400, the first decision stands). Property
//! `commands.repeat-changes-nothing`, recorded against the command.

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::properties::{Ctx, create_flow, create_task, list, scope_filter};
use crate::session::{Session, StatusRule, Step};
use crate::transport::Call;

const PROPERTY: &str = "commands.repeat-changes-nothing";

async fn read(s: &mut Session, id: &str) -> Step<Option<Value>> {
    let exchange = s.call(Call::new("getFlow").path("flowId", id)).await?;
    Ok(exchange.is_success().then(|| exchange.json()).flatten())
}

async fn command(s: &mut Session, id: &str, command: &str) -> Step<crate::transport::Exchange> {
    s.call(
        Call::new("sendFlowCommand")
            .path("flowId", id)
            .body(json!({"command": command})),
    )
    .await
}

/// Start, stop, delete and decide twice: the second time changes nothing.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("commands");
    if let Some(flow) = create_flow(s, &tag, &format!("{tag} flow"), json!({})).await? {
        for name in ["start", "stop"] {
            let first = command(s, &flow, name).await?;
            let Some(once) = first.is_success().then_some(()).and(read(s, &flow).await?) else {
                continue;
            };
            let again = command(s, &flow, name).await?;
            let twice = read(s, &flow).await?;
            s.expect(
                "sendFlowCommand",
                PROPERTY,
                Some(&again),
                again.is_success() && twice.as_ref() == Some(&once),
                || format!("`{name}` again succeeds and leaves the flow as it was: {once}"),
                || {
                    format!(
                        "status {}, flow {}",
                        again.status(),
                        twice.unwrap_or(Value::Null)
                    )
                },
            );
        }
        let scope = [("filter", scope_filter(&tag))];
        let first = s
            .call(Call::new("deleteFlow").path("flowId", &flow))
            .await?;
        if first.is_success() {
            s.deleted(Kind::Flow, &flow);
            let before = list(s, Call::new("getFlows").query(scope[0].0, &scope[0].1)).await?;
            let again = s
                .call(Call::new("deleteFlow").path("flowId", &flow))
                .await?;
            let after = list(s, Call::new("getFlows").query(scope[0].0, &scope[0].1)).await?;
            s.expect(
                "deleteFlow",
                PROPERTY,
                Some(&again),
                StatusRule::Exactly(404).accepts(again.status())
                    && before.map(|b| b.1) == after.map(|a| a.1),
                || "status 404 and the same list of flows".into(),
                || format!("status {}", again.status()),
            );
        }
    }

    let email = s.email();
    for (first, second) in [
        ("approveTask", "approveTask"),
        ("approveTask", "rejectTask"),
        ("rejectTask", "approveTask"),
    ] {
        let Some((id, _)) = create_task(s, &format!("{tag} {first} then {second}"), &email).await?
        else {
            continue;
        };
        let decided = s
            .call(Call::new(first).path("id", &id).body(json!({})))
            .await?;
        if !decided.is_success() {
            continue;
        }
        let status = decided.str_at("/status");
        let again = s
            .call(Call::new(second).path("id", &id).body(json!({})))
            .await?;
        let read = s.call(Call::new("getPeopleTask").path("id", &id)).await?;
        let now = read.str_at("/status");
        s.expect(
            second,
            PROPERTY,
            Some(&again),
            again.status() == 400 && now == status && now.is_some(),
            || format!("status 400 and the task still {status:?}"),
            || format!("status {}, task {now:?}", again.status()),
        );
    }
    Ok(())
}
