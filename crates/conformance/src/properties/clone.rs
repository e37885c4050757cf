//! Clones are new, equal and independent copies.
//!
//! [`run`] clones a running flow with a rich body and checks that the copy
//! has a new id (`clone.new-id`), equals the original apart from the
//! identity fields (`flowId`, `btime`, `mtime`, `stage`, `started`,
//! `stopped`, and the name, which gains the prefix) and is `stopped`
//! (`clone.same-content`), and that changing either leaves the other as it
//! was (`clone.independent`), all recorded against `cloneFlow`.

use serde_json::{Map, Value, json};

use crate::cleanup::Kind;
use crate::properties::{Ctx, create_flow, delete};
use crate::session::{Session, Step};
use crate::transport::Call;

/// Fields a copy may (or must) have of its own.
const IDENTITY: &[&str] = &[
    "flowId", "btime", "mtime", "stage", "started", "stopped", "name",
];

fn without_identity(flow: &Value) -> Map<String, Value> {
    flow.as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| !IDENTITY.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

async fn read(s: &mut Session, id: &str) -> Step<Option<Value>> {
    let exchange = s.call(Call::new("getFlow").path("flowId", id)).await?;
    Ok(exchange.is_success().then(|| exchange.json()).flatten())
}

/// A clone has a new id, the original's content, and a life of its own.
pub async fn run(s: &mut Session, ctx: &Ctx<'_>) -> Step<()> {
    let tag = ctx.tag("clone");
    let component = uuid::Uuid::new_v4().to_string();
    let extra = json!({
        "flow": {component.as_str(): {"type": crate::model::state::WEBHOOK_TYPE, "label": "𝄞 in", "x": 1, "y": 2, "source": {}}},
        "description": "to be cloned",
        "customFields": {"category": "crm", "nested": {"list": [1, "two", null]}},
        "thumbnail": "data:image/svg+xml;base64,PHN2Zy8+",
        "wizard": {"steps": ["a", "b"]},
    });
    let Some(original) = create_flow(s, &tag, &format!("{tag} original"), extra).await? else {
        return Ok(());
    };
    s.call(
        Call::new("sendFlowCommand")
            .path("flowId", &original)
            .body(json!({"command": "start"})),
    )
    .await?;
    let Some(before) = read(s, &original).await? else {
        return delete(s, Kind::Flow, &original).await;
    };

    let prefix = "Copy ✂ of ";
    let call = Call::new("cloneFlow")
        .path("flowId", &original)
        .body(json!({"prefix": prefix}));
    let exchange = s.call(call).await?;
    let clone = create_answer(s, &exchange);
    let Some(clone) = clone else {
        return delete(s, Kind::Flow, &original).await;
    };
    s.expect(
        "cloneFlow",
        "clone.new-id",
        Some(&exchange),
        clone != original,
        || format!("an id other than {original}"),
        || clone.clone(),
    );

    if let Some(copy) = read(s, &clone).await? {
        let name = before
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let same = without_identity(&before) == without_identity(&copy);
        s.expect(
            "cloneFlow",
            "clone.same-content",
            Some(&exchange),
            same && copy.get("name") == Some(&json!(format!("{prefix}{name}")))
                && copy.get("stage") == Some(&json!("stopped")),
            || "the original's fields, the prefixed name and stage `stopped`".into(),
            || {
                crate::compare::first_difference(
                    &Value::Object(without_identity(&before)),
                    Some(&Value::Object(without_identity(&copy))),
                )
                .map(|d| d.actual_text())
                .unwrap_or_else(|| {
                    format!("name {:?}, stage {:?}", copy.get("name"), copy.get("stage"))
                })
            },
        );

        let changed = s
            .call(
                Call::new("updateFlow")
                    .path("flowId", &clone)
                    .body(json!({"name": format!("{tag} changed copy"), "flow": {}, "customFields": {"amxcProperty": tag}})),
            )
            .await?;
        if changed.is_success()
            && let Some(after) = read(s, &original).await?
        {
            s.expect(
                "cloneFlow",
                "clone.independent",
                Some(&changed),
                after == before,
                || "the original as it was after changing the copy".into(),
                || {
                    crate::compare::first_difference(&before, Some(&after))
                        .map(|d| d.actual_text())
                        .unwrap_or_default()
                },
            );
        }
        let copy_before = read(s, &clone).await?;
        let changed = s
            .call(
                Call::new("updateFlow")
                    .path("flowId", &original)
                    .query("forceUpdate", true)
                    .body(json!({"name": format!("{tag} changed original"), "description": "changed"})),
            )
            .await?;
        if let (true, Some(copy_before)) = (changed.is_success(), copy_before)
            && let Some(copy_after) = read(s, &clone).await?
        {
            s.expect(
                "cloneFlow",
                "clone.independent",
                Some(&changed),
                copy_after == copy_before,
                || "the copy as it was after changing the original".into(),
                || {
                    crate::compare::first_difference(&copy_before, Some(&copy_after))
                        .map(|d| d.actual_text())
                        .unwrap_or_default()
                },
            );
        }
    }
    delete(s, Kind::Flow, &clone).await?;
    delete(s, Kind::Flow, &original).await
}

fn create_answer(s: &mut Session, exchange: &crate::transport::Exchange) -> Option<String> {
    let id = exchange
        .is_success()
        .then(|| exchange.str_at("/cloneId"))
        .flatten()
        .filter(|id| !id.is_empty())?;
    s.created(Kind::Flow, &id);
    Some(id)
}
