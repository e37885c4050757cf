//! Isolation: a second user can neither see nor change the first user's
//! objects, and people-task secrets grant exactly what they should.
//!
//! Which operations are probed comes from the spec: every operation that
//! takes a token and names an object in its path ([`fixture::OWNED_PARAMETERS`])
//! is sent by the second user, B, with the ids of the first user's objects
//! ([`Fixture`]). Each must be refused with 403 or 404 (people tasks with
//! 403, as the spec says), the same status for every attempt of that
//! operation (the first user's object and one that does not exist: a 403
//! for one and a 404 for the other tells B what exists), and must change
//! nothing, which the first user reads back. Every list and count B can
//! call must leave out the first user's objects. People tasks grant by
//! party and by secret: the approver secret reads and decides, the
//! requester secret reads but may not decide, a party by e-mail reads, a
//! non-party is refused.
//!
//! Everything here is recorded as the `isolation` property. Without a
//! second user (credentials mode without `--username-b`), the probes that
//! need one are planned but skipped, with the reason, so that the run ends
//! with "not checked" rather than a pass.

pub mod fixture;

use serde_json::{Value, json};

use crate::catalog::{Catalog, OperationShape, TokenPolicy};
use crate::checks::CheckKind;
use crate::cleanup::Kind;
use crate::error::RunError;
use crate::redact;
use crate::session::{Abort, Session, StatusRule, Step};
use crate::target::{self, Login};
use crate::transport::{Call, Exchange};

pub use fixture::{Examples, Fixture};

use fixture::OWNED_PARAMETERS;

/// The reason isolation is not checked without a second user.
pub const NEEDS_SECOND_USER: &str = "needs a second user: give `--username-b` and \
     `--password-b` (or APPMIXER_USERNAME_B and APPMIXER_PASSWORD_B), or use `--signup`";

const KIND: CheckKind = CheckKind::Isolation;

/// The second user, B.
#[derive(Clone)]
pub struct SecondUser {
    /// The username B logs in with.
    pub username: String,
    /// B's e-mail.
    pub email: String,
    /// B's token.
    pub token: String,
}

impl std::fmt::Debug for SecondUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondUser")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("token", &redact::REDACTED)
            .finish()
    }
}

/// How one operation is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// It names an object in its path: B must be refused.
    Refusal,
    /// A read without an object in its path: B's answer must leave the
    /// first user's objects out.
    List,
    /// A write whose body names objects: B's call must change nothing.
    BodyReferences,
}

/// Every operation isolation probes, and how, in the spec's order.
pub fn planned(catalog: &Catalog, examples: &Examples) -> Vec<(String, Probe)> {
    catalog
        .operations()
        .iter()
        .filter(|op| op.token != TokenPolicy::None)
        .filter_map(|op| {
            let path: Vec<&str> = op
                .parameters
                .iter()
                .filter(|p| p.location == crate::catalog::Location::Path)
                .map(|p| p.name.as_str())
                .collect();
            let probe = if !path.is_empty() && path.iter().all(|p| OWNED_PARAMETERS.contains(p)) {
                Probe::Refusal
            } else if op.method == reqwest::Method::GET {
                Probe::List
            } else if examples.body(&op.id).is_some_and(names_objects) {
                Probe::BodyReferences
            } else {
                return None;
            };
            Some((op.id.clone(), probe))
        })
        .collect()
}

fn names_objects(value: &Value) -> bool {
    match value {
        // Ids are strings; a chart's `index` is a number, not a log index.
        Value::Object(map) => map.iter().any(|(key, inner)| {
            (inner.is_string() && OWNED_PARAMETERS.contains(&key.as_str())) || names_objects(inner)
        }),
        Value::Array(items) => items.iter().any(names_objects),
        _ => false,
    }
}

/// Signs the second user up (`login` is [`Login::Signup`]) or logs them in.
pub async fn sign_in_second(s: &mut Session, login: &Login) -> Result<SecondUser, RunError> {
    let base = s.transport.base_url().to_string();
    let refused = |what: &str, exchange: &Exchange| RunError::Connection {
        url: base.clone(),
        reason: format!(
            "{what} the second user was refused ({}: {}); check `--username-b` and \
             `--password-b`, or leave them out to skip the isolation checks",
            exchange.status(),
            redact::body_preview(&exchange.response.body, 120)
        ),
    };
    let unanswered = |s: &Session, abort: Abort| match abort {
        Abort::Budget(reason) => {
            target::stopped_signing_in(s, format!("signing the second user in: {reason}"))
        }
        Abort::Step => RunError::Connection {
            url: s.transport.base_url().to_string(),
            reason: "the server did not answer while signing the second user in".into(),
        },
    };
    let (username, exchange) = match login {
        Login::Signup => {
            let username = format!("{}-b@example.com", s.tag);
            // Random and used only for this run's second user.
            let password = format!("Amxc-{}!", uuid::Uuid::new_v4().simple());
            let exchange = s
                .call(
                    Call::new("signupUser")
                        .body(json!({"username": username, "password": password})),
                )
                .await
                .map_err(|abort| unanswered(s, abort))?;
            if !exchange.is_success() {
                return Err(refused("signing up", &exchange));
            }
            s.created(Kind::User, &username);
            (username, exchange)
        }
        Login::Credentials { username, password } => {
            let exchange = s
                .call(
                    Call::new("authenticateUser")
                        .body(json!({"username": username, "password": password})),
                )
                .await
                .map_err(|abort| unanswered(s, abort))?;
            if !exchange.is_success() {
                return Err(refused("logging in", &exchange));
            }
            (username.clone(), exchange)
        }
        Login::Token(_) => {
            return Err(RunError::Usage(
                "the second user logs in with `--username-b` and `--password-b`".into(),
            ));
        }
    };
    let token = exchange
        .str_at("/token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| refused("signing in", &exchange))?;
    let me = s
        .call(Call::new("getUser").as_user(&token))
        .await
        .map_err(|abort| unanswered(s, abort))?;
    let email = me.str_at("/email").unwrap_or_else(|| username.clone());
    if me.str_at("/username").as_deref() == s.user.as_ref().map(|u| u.username.as_str()) {
        return Err(RunError::Usage(
            "`--username-b` names the same user as `--username`; isolation needs two users".into(),
        ));
    }
    Ok(SecondUser {
        username,
        email,
        token,
    })
}

/// Plans the isolation property on every probed operation: expected when
/// it can be checked, skipped with `reason` when it cannot.
pub fn plan(s: &mut Session, planned: &[(String, Probe)], reason: Option<&str>) {
    for (operation, _) in planned {
        match reason {
            Some(reason) => s.plan.skip(operation, KIND, reason),
            None => s.plan.expect(operation, KIND),
        }
    }
}

/// Runs every isolation probe against `fixture`, B being `second`.
pub async fn run(
    s: &mut Session,
    catalog: &Catalog,
    examples: &Examples,
    fixture: &Fixture,
    second: Option<&SecondUser>,
) -> Step<()> {
    let planned = planned(catalog, examples);
    let Some(second) = second else {
        secrets(s, fixture, None).await?;
        return Ok(());
    };
    let mut ordered: Vec<(&OperationShape, Probe)> = planned
        .iter()
        .filter_map(|(id, probe)| catalog.get(id).map(|op| (op, *probe)))
        .collect();
    // Reads first, deletes last: a delete wrongly allowed would spoil
    // every probe after it.
    ordered.sort_by_key(|(op, _)| match op.method.as_str() {
        "GET" => 0,
        "DELETE" => 2,
        _ => 1,
    });

    for (op, probe) in &ordered {
        match probe {
            Probe::List => list(s, catalog, examples, fixture, second, op).await?,
            Probe::Refusal => refusal(s, examples, fixture, second, op).await?,
            Probe::BodyReferences => body_references(s, examples, fixture, second, op).await?,
        }
    }
    secrets(s, fixture, Some(second)).await
}

/// B's attempts on one operation that names objects in its path.
async fn refusal(
    s: &mut Session,
    examples: &Examples,
    fixture: &Fixture,
    second: &SecondUser,
    op: &OperationShape,
) -> Step<()> {
    let Some(call) = fixture.call(op, examples) else {
        s.plan.skip(&op.id, KIND, &fixture.why_no_call(op));
        return Ok(());
    };
    // The spec gives people tasks 403 for a non-party; elsewhere a 404
    // (not yours, so not there) is as good as a 403.
    let task = op.token == TokenPolicy::Optional;
    let rule = |status: u16| {
        if task {
            status == 403
        } else {
            status == 403 || status == 404
        }
    };
    let expected = if task {
        "status 403"
    } else {
        "status 403 or 404"
    };
    let writes = op.method != reqwest::Method::GET;

    let before = if writes {
        Some(digest(s, fixture, op).await?)
    } else {
        None
    };
    let exchange = s.call(call.as_user(&second.token)).await?;
    adopt(s, second, &exchange);
    let first = exchange.status();
    s.expect_as(
        KIND,
        &op.id,
        "isolation.other-users-object-refused",
        Some(&exchange),
        rule(first),
        || format!("{expected} for the second user"),
        || format!("status {first}"),
    );
    if let Some(before) = before {
        let after = digest(s, fixture, op).await?;
        s.expect_as(
            KIND,
            &op.id,
            "isolation.refused-write-changes-nothing",
            Some(&exchange),
            before == after,
            || "the first user's objects as they were".into(),
            || describe_change(&before, &after),
        );
    }

    // A second attempt, to compare statuses: the secrets task for people
    // tasks (a 404 for an unknown task is documented, so an unknown id
    // would tell nothing), an unknown object everywhere else.
    let other = if task {
        fixture.secret_task.as_ref().and_then(|t| {
            fixture.call_with(op, examples, |name| match name {
                "id" => Some(t.id.clone()),
                other => fixture.value(other).map(str::to_string),
            })
        })
    } else {
        fixture.unknown_call(op, examples)
    };
    let Some(other) = other else {
        return Ok(());
    };
    let exchange = s.call(other.as_user(&second.token)).await?;
    adopt(s, second, &exchange);
    let again = exchange.status();
    s.expect_as(
        KIND,
        &op.id,
        "isolation.same-refusal-every-attempt",
        Some(&exchange),
        again == first,
        || format!("status {first}, as for the first user's object"),
        || format!("status {again}"),
    );
    Ok(())
}

/// Records the copy B managed to make of the first user's flow, so that
/// cleanup deletes it as B.
fn adopt(s: &mut Session, second: &SecondUser, exchange: &Exchange) {
    if exchange.operation == "cloneFlow"
        && exchange.is_success()
        && let Some(id) = exchange.str_at("/cloneId")
    {
        s.ledger.add_owned(Kind::Flow, &id, &second.token);
    }
}

/// A list or count as B: the first user's objects must not be in it.
async fn list(
    s: &mut Session,
    catalog: &Catalog,
    examples: &Examples,
    fixture: &Fixture,
    second: &SecondUser,
    op: &OperationShape,
) -> Step<()> {
    let Some(call) = fixture.call(op, examples) else {
        return Ok(());
    };
    let exchange = s.call(call.clone().as_user(&second.token)).await?;
    let status = exchange.status();
    if matches!(status, 403 | 404) {
        // Refusing a list that names the first user's object (a store's
        // records) shows nothing of it.
        s.expect_as(
            KIND,
            &op.id,
            "isolation.lists-leave-out-other-users-objects",
            Some(&exchange),
            true,
            String::new,
            String::new,
        );
        return Ok(());
    }
    let body = exchange.json_ref().unwrap_or(&Value::Null);
    let leaked: Vec<&String> = fixture
        .private
        .iter()
        .filter(|value| !exchange.request.url.contains(value.as_str()) && contains(body, value))
        .collect();
    s.expect_as(
        KIND,
        &op.id,
        "isolation.lists-leave-out-other-users-objects",
        Some(&exchange),
        exchange.is_success() && leaked.is_empty(),
        || "a 2xx answer (or 403/404) without the first user's objects".into(),
        || {
            if exchange.is_success() {
                format!("the first user's {leaked:?}")
            } else {
                format!("status {status}")
            }
        },
    );

    if op.id == "getUser" {
        let named = body.get("username").and_then(Value::as_str);
        s.expect_as(
            KIND,
            "getUser",
            "isolation.user-is-the-tokens-owner",
            Some(&exchange),
            named == Some(second.username.as_str())
                || body.get("email").and_then(Value::as_str) == Some(second.username.as_str()),
            || format!("the second user, {}", second.username),
            || format!("{named:?}"),
        );
    }
    if let Some(count) = crate::scenarios::count_of(body)
        && let Some(list_op) = op.id.strip_suffix("Count").and_then(|id| catalog.get(id))
        && let Some(list_call) = fixture.call(list_op, examples)
    {
        let listed = s.call(list_call.as_user(&second.token)).await?;
        let length = if listed.is_success() {
            crate::scenarios::items(&listed.json().unwrap_or(Value::Null)).len() as u64
        } else {
            0
        };
        s.expect_as(
            KIND,
            &op.id,
            "isolation.counts-leave-out-other-users-objects",
            Some(&exchange),
            count == length,
            || {
                format!(
                    "count {length}, the length of the second user's `{}`",
                    list_op.id
                )
            },
            || format!("count {count}"),
        );
    }
    if op.id == "getPeopleTasks"
        && let Some(shared) = &fixture.shared_task
    {
        let ids = crate::scenarios::ids_of(crate::scenarios::items(body), "id");
        s.expect_as(
            KIND,
            &op.id,
            "isolation.party-lists-task",
            Some(&exchange),
            ids.contains(&shared.id),
            || format!("task {} that the second user requested", shared.id),
            || format!("tasks {ids:?}"),
        );
    }
    Ok(())
}

/// B's write whose body names the first user's objects.
async fn body_references(
    s: &mut Session,
    examples: &Examples,
    fixture: &Fixture,
    second: &SecondUser,
    op: &OperationShape,
) -> Step<()> {
    let Some(call) = fixture.call(op, examples) else {
        s.plan.skip(&op.id, KIND, &fixture.why_no_call(op));
        return Ok(());
    };
    let before = digest(s, fixture, op).await?;
    let exchange = s.call(call.as_user(&second.token)).await?;
    let after = digest(s, fixture, op).await?;
    s.expect_as(
        KIND,
        &op.id,
        "isolation.refused-write-changes-nothing",
        Some(&exchange),
        before == after,
        || "the first user's objects as they were".into(),
        || describe_change(&before, &after),
    );
    Ok(())
}

/// People tasks by secret and by party.
async fn secrets(s: &mut Session, fixture: &Fixture, second: Option<&SecondUser>) -> Step<()> {
    let Some(task) = fixture.secret_task.clone() else {
        if let Some(reason) = fixture.missing("id") {
            for operation in ["getPeopleTask", "approveTask", "rejectTask"] {
                s.plan.skip(operation, KIND, reason);
            }
        }
        return Ok(());
    };
    let read = |secret: &str| {
        Call::new("getPeopleTask")
            .path("id", &task.id)
            .query("secret", secret)
            .without_token()
    };
    for (secret, expectation) in [
        (&task.approver_secret, "isolation.approver-secret-reads"),
        (&task.requester_secret, "isolation.requester-secret-reads"),
    ] {
        let exchange = s.call(read(secret)).await?;
        expect_status(
            s,
            "getPeopleTask",
            expectation,
            &exchange,
            StatusRule::Success,
        );
    }

    decision_refused(
        s,
        &task.id,
        Call::new("approveTask")
            .path("id", &task.id)
            .body(json!({"secret": task.requester_secret}))
            .without_token(),
        "isolation.requester-secret-cannot-decide",
    )
    .await?;

    if let (Some(second), Some(shared)) = (second, &fixture.shared_task) {
        let exchange = s
            .call(
                Call::new("getPeopleTask")
                    .path("id", &shared.id)
                    .as_user(&second.token),
            )
            .await?;
        expect_status(
            s,
            "getPeopleTask",
            "isolation.party-reads-task",
            &exchange,
            StatusRule::Success,
        );
        for operation in ["approveTask", "rejectTask"] {
            decision_refused(
                s,
                &shared.id,
                Call::new(operation)
                    .path("id", &shared.id)
                    .body(json!({}))
                    .as_user(&second.token),
                "isolation.requester-cannot-decide",
            )
            .await?;
        }
    }

    let exchange = s
        .call(
            Call::new("approveTask")
                .path("id", &task.id)
                .body(json!({"secret": task.approver_secret}))
                .without_token(),
        )
        .await?;
    expect_status(
        s,
        "approveTask",
        "isolation.approver-secret-decides",
        &exchange,
        StatusRule::Success,
    );
    let state = task_state(s, &task.id).await?;
    s.expect_as(
        KIND,
        "approveTask",
        "isolation.approver-secret-decides",
        Some(&exchange),
        state.first().and_then(|(_, _, v)| v.get("status")) == Some(&json!("approved")),
        || "the task approved".into(),
        || describe_state(&state),
    );
    Ok(())
}

/// Sends `decision`, a call that must not decide task `task_id`, and
/// checks that it is refused with 403 (as `expectation`) and that the task
/// stays as it was.
async fn decision_refused(
    s: &mut Session,
    task_id: &str,
    decision: Call,
    expectation: &str,
) -> Step<()> {
    let operation = decision.operation().to_owned();
    let before = task_state(s, task_id).await?;
    let exchange = s.call(decision).await?;
    expect_status(
        s,
        &operation,
        expectation,
        &exchange,
        StatusRule::Exactly(403),
    );
    let after = task_state(s, task_id).await?;
    s.expect_as(
        KIND,
        &operation,
        "isolation.refused-write-changes-nothing",
        Some(&exchange),
        before == after,
        || "the task as it was".into(),
        || describe_change(&before, &after),
    );
    Ok(())
}

fn expect_status(
    s: &mut Session,
    operation: &str,
    expectation: &str,
    exchange: &Exchange,
    rule: StatusRule,
) {
    fixture::expect_status_as(s, KIND, operation, expectation, exchange, rule);
}

/// What the first user reads of some objects: `(what, status, body)`.
type Digest = Vec<(String, u16, Value)>;

async fn task_state(s: &mut Session, id: &str) -> Step<Digest> {
    let exchange = s.call(Call::new("getPeopleTask").path("id", id)).await?;
    Ok(vec![read_back("task", &exchange)])
}

fn read_back(what: &str, exchange: &Exchange) -> (String, u16, Value) {
    (
        what.to_string(),
        exchange.status(),
        exchange.json().unwrap_or(Value::Null),
    )
}

/// The first user's reads of the objects `op` names (path parameters, or
/// objects named in its body).
async fn digest(s: &mut Session, fixture: &Fixture, op: &OperationShape) -> Step<Digest> {
    let mut names: Vec<&str> = op
        .parameters
        .iter()
        .filter(|p| p.location == crate::catalog::Location::Path)
        .map(|p| p.name.as_str())
        .collect();
    if names.is_empty() {
        // A body that names objects: deleteStoreItems names records.
        names = vec!["storeId", "key"];
    }
    let value = |name: &str| fixture.value(name).unwrap_or_default().to_string();
    let mut reads: Vec<(&str, Call)> = Vec::new();
    for name in names {
        match name {
            "flowId" => reads.push(("flow", Call::new("getFlow").path("flowId", value(name)))),
            "storeId" => reads.push(("store", Call::new("getStore").path("storeId", value(name)))),
            "key" => {
                reads.push((
                    "record",
                    Call::new("getStoreItem")
                        .path("storeId", value("storeId"))
                        .path("key", value("key")),
                ));
                reads.push((
                    "record count",
                    Call::new("getStoreRecordsCount").query("storeId", value("storeId")),
                ));
            }
            "accountId" => {
                reads.push(("accounts", Call::new("getAccounts")));
                reads.push((
                    "account flows",
                    Call::new("getAccountFlows").path("accountId", value(name)),
                ));
            }
            "componentId" => reads.push((
                "flow authentication",
                Call::new("getFlowAuthentication").path("flowId", value("flowId")),
            )),
            "chartId" => reads.push(("chart", Call::new("getChart").path("chartId", value(name)))),
            "id" => reads.push(("task", Call::new("getPeopleTask").path("id", value(name)))),
            _ => {}
        }
    }
    let account = fixture.value("accountId").unwrap_or_default().to_string();
    let mut digest = Vec::new();
    for (what, call) in reads {
        let exchange = s.call(call).await?;
        let (what, status, mut body) = read_back(what, &exchange);
        if what == "accounts" {
            // Only the first user's account matters, not the whole list.
            body = crate::scenarios::items(&body)
                .iter()
                .find(|a| a.get("accountId").and_then(Value::as_str) == Some(account.as_str()))
                .cloned()
                .unwrap_or(Value::Null);
        }
        digest.push((what, status, body));
    }
    Ok(digest)
}

fn describe_change(before: &Digest, after: &Digest) -> String {
    before
        .iter()
        .zip(after)
        .find(|(b, a)| b != a)
        .map(|((what, status, body), (_, new_status, new_body))| {
            match crate::compare::first_difference(body, Some(new_body)) {
                Some(difference) if status == new_status => format!(
                    "the {what} changed: {} became {}",
                    difference.expected_text(),
                    difference.actual_text()
                ),
                _ => format!("reading the {what} answered {status} before, {new_status} after"),
            }
        })
        .unwrap_or_else(|| "a change".into())
}

fn describe_state(state: &Digest) -> String {
    state
        .first()
        .map(|(what, status, body)| {
            format!(
                "the {what} answered {status} with status {}",
                body.get("status").unwrap_or(&Value::Null)
            )
        })
        .unwrap_or_default()
}

/// Whether `needle` is a string, or an object key, anywhere in `value`.
fn contains(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(text) => text == needle,
        Value::Array(items) => items.iter().any(|item| contains(item, needle)),
        Value::Object(map) => map
            .iter()
            .any(|(key, inner)| key == needle || contains(inner, needle)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> (Catalog, Examples) {
        let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).unwrap();
        (
            Catalog::from_spec(&spec).unwrap(),
            Examples::from_spec(&spec),
        )
    }

    #[test]
    fn operations_naming_objects_in_their_path_are_refusal_probes() {
        let (catalog, examples) = catalog();

        let planned = planned(&catalog, &examples);
        let probe = |id: &str| planned.iter().find(|(op, _)| op == id).map(|(_, p)| *p);

        assert_eq!(probe("getFlow"), Some(Probe::Refusal));
        assert_eq!(probe("deleteStoreItem"), Some(Probe::Refusal));
        assert_eq!(probe("assignAccount"), Some(Probe::Refusal));
        assert_eq!(probe("approveTask"), Some(Probe::Refusal));
        assert_eq!(probe("getLog"), Some(Probe::Refusal));
        assert_eq!(probe("getFlows"), Some(Probe::List));
        assert_eq!(probe("getComponentAccounts"), Some(Probe::List));
        assert_eq!(probe("getStoreRecordsCount"), Some(Probe::List));
        assert_eq!(probe("deleteStoreItems"), Some(Probe::BodyReferences));
        // Public operations and creates name no object of another user.
        assert_eq!(probe("sendComponentMessage"), None);
        assert_eq!(probe("signupUser"), None);
        assert_eq!(probe("createFlow"), None);
        assert_eq!(probe("createChart"), None);
    }

    #[test]
    fn a_value_is_found_as_a_string_or_a_key_at_any_depth() {
        let body = json!({"hits": [{"flowId": "f1"}], "accounts": {"a1": {}}});

        assert!(contains(&body, "f1"));
        assert!(contains(&body, "a1"));
        assert!(!contains(&body, "f"));
    }
}
