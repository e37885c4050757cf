//! People tasks: approval by the approver, and by secret alone.
//!
//! The first task names the user's own e-mail as requester and approver. Its
//! creation answers both secrets and status `pending`; reads (get and list)
//! leave the secrets out; the list by role and the count agree; the approver
//! approves it; a second decision answers 400 and leaves the first in place.
//! The second task is handled with its secrets only and no token: the
//! requester secret may not approve it (403), the approver secret lists and
//! counts it and rejects it, and the requester secret reads the result.

use serde_json::{Value, json};

use crate::cleanup::Kind;
use crate::scenarios::{ids_of, items};
use crate::session::{Session, StatusRule, Step};
use crate::transport::{Call, Exchange};

/// A decision date far enough ahead that no task of a run falls due.
const DECISION_BY: &str = "2099-12-31T23:00:00.000Z";

struct Created {
    id: String,
    approver_secret: String,
    requester_secret: String,
}

fn has_secrets(value: &Value) -> bool {
    value.get("approverSecret").is_some() || value.get("requesterSecret").is_some()
}

async fn create(s: &mut Session, title: &str) -> Step<Created> {
    let email = s.email();
    let sent = json!({
        "title": title,
        "description": "Created by the conformance harness; decide it freely.",
        "requester": email,
        "approver": email,
        "decisionBy": DECISION_BY,
    });
    let exchange = s
        .call(Call::new("createPeopleTask").body(sent.clone()))
        .await?;
    let id = s.require_str(
        "createPeopleTask",
        "tasks.create-answers-id",
        &exchange,
        "/id",
    )?;
    s.created(Kind::PeopleTask, &id);
    let approver_secret = s.require_str(
        "createPeopleTask",
        "tasks.create-answers-secrets",
        &exchange,
        "/approverSecret",
    )?;
    let requester_secret = s.require_str(
        "createPeopleTask",
        "tasks.create-answers-secrets",
        &exchange,
        "/requesterSecret",
    )?;
    let body = exchange.json_ref().unwrap_or(&Value::Null);
    s.expect_json(
        "createPeopleTask",
        "tasks.new-task-is-pending",
        Some(&exchange),
        &json!("pending"),
        body.get("status"),
    );
    Ok(Created {
        id,
        approver_secret,
        requester_secret,
    })
}

fn expect_status_field(
    s: &mut Session,
    operation: &str,
    expectation: &str,
    exchange: &Exchange,
    status: &str,
) {
    let body = exchange.json_ref().unwrap_or(&Value::Null);
    s.expect_json(
        operation,
        expectation,
        Some(exchange),
        &json!(status),
        body.get("status"),
    );
}

/// Decides two people tasks, by token and by secret.
pub async fn run(s: &mut Session) -> Step<()> {
    let email = s.email();
    let title = s.name("approve the refund");
    let first = create(s, &title).await?;

    let exchange = s
        .call(Call::new("getPeopleTask").path("id", &first.id))
        .await?;
    let body = s.require_success("getPeopleTask", "tasks.get-succeeds", &exchange)?;
    s.expect_json(
        "getPeopleTask",
        "tasks.get-returns-task",
        Some(&exchange),
        &json!({"id": first.id, "title": title, "approver": email, "requester": email}),
        Some(&json!({
            "id": body.get("id"),
            "title": body.get("title"),
            "approver": body.get("approver"),
            "requester": body.get("requester"),
        })),
    );
    s.expect(
        "getPeopleTask",
        "tasks.reads-omit-secrets",
        Some(&exchange),
        !has_secrets(&body),
        || "a task without `approverSecret` and `requesterSecret`".into(),
        || "a task with a secret".into(),
    );

    let tag = s.tag.clone();
    let exchange = s
        .call(
            Call::new("getPeopleTasks")
                .query("role", "approver")
                .query("pattern", &tag),
        )
        .await?;
    let body = s.require_success("getPeopleTasks", "tasks.list-succeeds", &exchange)?;
    let listed = ids_of(items(&body), "id");
    s.expect(
        "getPeopleTasks",
        "tasks.list-by-role-includes",
        Some(&exchange),
        listed.contains(&first.id),
        || format!("task {} among the approver's tasks", first.id),
        || format!("tasks {listed:?}"),
    );
    s.expect(
        "getPeopleTasks",
        "tasks.reads-omit-secrets",
        Some(&exchange),
        !items(&body).iter().any(has_secrets),
        || "tasks without secrets".into(),
        || "a task with a secret".into(),
    );
    let exchange = s
        .call(
            Call::new("getPeopleTasksCount")
                .query("role", "approver")
                .query("pattern", &tag),
        )
        .await?;
    let body = s.require_success("getPeopleTasksCount", "tasks.count-succeeds", &exchange)?;
    s.expect_json(
        "getPeopleTasksCount",
        "tasks.count-matches-list",
        Some(&exchange),
        &json!(listed.len()),
        body.get("count"),
    );

    let exchange = s
        .call(
            Call::new("approveTask")
                .path("id", &first.id)
                .body(json!({})),
        )
        .await?;
    s.require_success("approveTask", "tasks.approve-succeeds", &exchange)?;
    expect_status_field(
        s,
        "approveTask",
        "tasks.approve-sets-status",
        &exchange,
        "approved",
    );
    let exchange = s
        .call(Call::new("getPeopleTask").path("id", &first.id))
        .await?;
    expect_status_field(
        s,
        "approveTask",
        "tasks.approve-persists",
        &exchange,
        "approved",
    );

    let exchange = s
        .call(
            Call::new("approveTask")
                .path("id", &first.id)
                .body(json!({})),
        )
        .await?;
    s.expect_status(
        "approveTask",
        "tasks.decided-once",
        &exchange,
        StatusRule::Exactly(400),
    );
    let exchange = s
        .call(
            Call::new("rejectTask")
                .path("id", &first.id)
                .body(json!({})),
        )
        .await?;
    s.expect_status(
        "rejectTask",
        "tasks.decided-once",
        &exchange,
        StatusRule::Exactly(400),
    );
    let exchange = s
        .call(Call::new("getPeopleTask").path("id", &first.id))
        .await?;
    expect_status_field(
        s,
        "rejectTask",
        "tasks.first-decision-stays",
        &exchange,
        "approved",
    );

    by_secret(s).await
}

async fn by_secret(s: &mut Session) -> Step<()> {
    let title = s.name("reject by secret");
    let second = create(s, &title).await?;

    let exchange = s
        .call(
            Call::new("approveTask")
                .path("id", &second.id)
                .body(json!({"secret": second.requester_secret}))
                .without_token(),
        )
        .await?;
    s.expect_status(
        "approveTask",
        "tasks.requester-secret-cannot-decide",
        &exchange,
        StatusRule::Exactly(403),
    );

    let exchange = s
        .call(
            Call::new("getPeopleTasks")
                .query("secret", &second.approver_secret)
                .without_token(),
        )
        .await?;
    let body = s.require_success("getPeopleTasks", "tasks.list-by-secret-succeeds", &exchange)?;
    let listed = ids_of(items(&body), "id");
    s.expect(
        "getPeopleTasks",
        "tasks.secret-lists-task",
        Some(&exchange),
        listed.contains(&second.id),
        || format!("task {} for its approver secret", second.id),
        || format!("tasks {listed:?}"),
    );
    let exchange = s
        .call(
            Call::new("getPeopleTasksCount")
                .query("secret", &second.approver_secret)
                .without_token(),
        )
        .await?;
    let body = s.require_success(
        "getPeopleTasksCount",
        "tasks.count-by-secret-succeeds",
        &exchange,
    )?;
    s.expect_json(
        "getPeopleTasksCount",
        "tasks.count-by-secret-matches-list",
        Some(&exchange),
        &json!(listed.len()),
        body.get("count"),
    );

    let exchange = s
        .call(
            Call::new("rejectTask")
                .path("id", &second.id)
                .body(json!({"secret": second.approver_secret}))
                .without_token(),
        )
        .await?;
    s.require_success("rejectTask", "tasks.reject-with-secret-succeeds", &exchange)?;
    expect_status_field(
        s,
        "rejectTask",
        "tasks.reject-sets-status",
        &exchange,
        "rejected",
    );

    let exchange = s
        .call(
            Call::new("getPeopleTask")
                .path("id", &second.id)
                .query("secret", &second.requester_secret)
                .without_token(),
        )
        .await?;
    s.require_success("getPeopleTask", "tasks.get-by-secret-succeeds", &exchange)?;
    expect_status_field(
        s,
        "rejectTask",
        "tasks.reject-persists",
        &exchange,
        "rejected",
    );
    Ok(())
}
