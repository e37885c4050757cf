//! People tasks: creation with secrets, who may read and decide a task,
//! lists by role, pattern, filter, sort and paging, and decisions made once.

mod common;

use common::{Answer, Api, Body, field_of};
use reqwest::Method;
use serde_json::{Value, json};

const APPROVER: &str = "joe@example.com";
const REQUESTER: &str = "jane@example.com";

struct Parties {
    api: Api,
    requester: String,
    approver: String,
    stranger: String,
}

async fn parties() -> Parties {
    let api = Api::start().await;
    let requester = api.user(REQUESTER).await;
    let approver = api.user(APPROVER).await;
    let stranger = api.user("eve@example.com").await;
    Parties {
        api,
        requester,
        approver,
        stranger,
    }
}

async fn create(api: &Api, token: &str, title: &str) -> Value {
    api.post(
        "/people-task/tasks",
        token,
        json!({ "title": title, "requester": REQUESTER, "approver": APPROVER,
                "description": "Order 1001", "decisionBy": "2030-01-01T19:00:00Z" }),
    )
    .await
    .ok()
}

async fn anonymous(api: &Api, method: Method, path: &str, body: Body) -> Answer {
    api.send(method, path, None, body).await
}

#[tokio::test]
async fn a_new_task_is_pending_and_only_its_creation_shows_the_secrets() {
    let p = parties().await;

    let task = create(&p.api, &p.requester, "Approve the refund").await;

    let id = task["id"].as_str().unwrap();
    assert_eq!(task["status"], "pending");
    assert_eq!(task["title"], "Approve the refund");
    assert_eq!(task["description"], "Order 1001");
    assert_eq!(task["public"], false);
    assert_eq!(task["decisionBy"], "2030-01-01T19:00:00.000Z");
    assert_eq!(task["isApprover"], false);
    assert_eq!(task["created"], task["mtime"]);
    let approver_secret = task["approverSecret"].as_str().unwrap();
    let requester_secret = task["requesterSecret"].as_str().unwrap();
    assert!(approver_secret.len() >= 32 && requester_secret.len() >= 32);
    assert_ne!(approver_secret, requester_secret);
    let read = p
        .api
        .get(&format!("/people-task/tasks/{id}"), &p.approver)
        .await;
    let listed = p.api.get("/people-task/tasks", &p.approver).await;
    for answer in [&read, &listed] {
        assert!(!answer.text.contains(approver_secret), "{}", answer.text);
        assert!(!answer.text.contains(requester_secret));
    }
    assert_eq!(read.body["isApprover"], true);
}

#[tokio::test]
async fn a_bad_task_body_is_refused_and_creates_nothing() {
    let p = parties().await;
    let base = json!({ "title": "t", "requester": REQUESTER, "approver": APPROVER });

    let mut cases = Vec::new();
    for field in ["title", "requester", "approver"] {
        let mut missing = base.clone();
        missing.as_object_mut().unwrap().remove(field);
        cases.push((missing, field));
        let mut empty = base.clone();
        empty[field] = json!("");
        cases.push((empty, field));
    }
    let mut late = base.clone();
    late["decisionBy"] = json!("tomorrow");
    cases.push((late, "decisionBy"));
    let mut public = base.clone();
    public["public"] = json!("yes");
    cases.push((public, "public"));
    for (body, key) in cases {
        p.api
            .post("/people-task/tasks", &p.requester, body)
            .await
            .invalid("payload", key);
    }

    let count = p
        .api
        .get("/people-task/tasks-count", &p.requester)
        .await
        .ok();
    assert_eq!(count["count"], 0);
}

#[tokio::test]
async fn creating_a_task_needs_a_token() {
    let p = parties().await;

    let answer = anonymous(
        &p.api,
        Method::POST,
        "/people-task/tasks",
        Body::Json(json!({ "title": "t", "requester": REQUESTER, "approver": APPROVER })),
    )
    .await;

    answer.boom(401);
}

#[tokio::test]
async fn parties_list_their_tasks_and_role_narrows() {
    let p = parties().await;
    let task = create(&p.api, &p.requester, "t").await;
    let id = task["id"].clone();

    let as_approver = p
        .api
        .get("/people-task/tasks?role=approver", &p.approver)
        .await
        .ok();
    let as_requester = p
        .api
        .get("/people-task/tasks?role=requester", &p.approver)
        .await
        .ok();
    let requester_all = p.api.get("/people-task/tasks", &p.requester).await.ok();
    let stranger = p.api.get("/people-task/tasks", &p.stranger).await.ok();

    assert_eq!(field_of(&as_approver, "id"), std::slice::from_ref(&id));
    assert_eq!(as_requester, json!([]));
    assert_eq!(field_of(&requester_all, "id"), [id]);
    assert_eq!(requester_all[0]["isApprover"], false);
    assert_eq!(stranger, json!([]));
    p.api
        .get("/people-task/tasks?role=boss", &p.approver)
        .await
        .invalid("query", "role");
}

#[tokio::test]
async fn a_secret_lists_its_task_without_a_token() {
    let p = parties().await;
    let task = create(&p.api, &p.requester, "t").await;
    create(&p.api, &p.requester, "other").await;
    let secret = task["approverSecret"].as_str().unwrap();

    let listed = anonymous(
        &p.api,
        Method::GET,
        &format!("/people-task/tasks?secret={secret}"),
        Body::None,
    )
    .await;
    let as_requester = anonymous(
        &p.api,
        Method::GET,
        &format!("/people-task/tasks?secret={secret}&role=requester"),
        Body::None,
    )
    .await;
    let count = anonymous(
        &p.api,
        Method::GET,
        &format!("/people-task/tasks-count?secret={secret}"),
        Body::None,
    )
    .await;

    let listed = listed.ok();
    assert_eq!(field_of(&listed, "id"), [task["id"].clone()]);
    assert_eq!(listed[0]["isApprover"], true);
    assert_eq!(as_requester.ok(), json!([]));
    assert_eq!(count.ok()["count"], 1);
}

#[tokio::test]
async fn reading_tasks_without_token_or_secret_is_401() {
    let p = parties().await;
    let task = create(&p.api, &p.requester, "t").await;
    let id = task["id"].as_str().unwrap();

    for path in [
        "/people-task/tasks".to_owned(),
        "/people-task/tasks-count".to_owned(),
        format!("/people-task/tasks/{id}"),
    ] {
        anonymous(&p.api, Method::GET, &path, Body::None)
            .await
            .boom(401);
    }
}

#[tokio::test]
async fn a_task_is_open_to_its_parties_and_secret_holders_only() {
    let p = parties().await;
    let task = create(&p.api, &p.requester, "t").await;
    let id = task["id"].as_str().unwrap();
    let path = format!("/people-task/tasks/{id}");
    let requester_secret = task["requesterSecret"].as_str().unwrap();

    p.api.get(&path, &p.requester).await.ok();
    p.api.get(&path, &p.approver).await.ok();
    let by_secret = p
        .api
        .get(&format!("{path}?secret={requester_secret}"), &p.stranger)
        .await
        .ok();
    let anonymous_secret = anonymous(
        &p.api,
        Method::GET,
        &format!("{path}?secret={requester_secret}"),
        Body::None,
    )
    .await
    .ok();

    assert_eq!(by_secret["id"], id);
    assert_eq!(anonymous_secret["isApprover"], false);
    p.api.get(&path, &p.stranger).await.boom(403);
    p.api
        .get(&format!("{path}?secret=wrong"), &p.stranger)
        .await
        .boom(403);
    let unknown = p
        .api
        .get("/people-task/tasks/0123456789abcdef01234567", &p.approver)
        .await;
    assert_eq!(unknown.boom(404), "Task not found.");
}

#[tokio::test]
async fn the_approver_approves_once_and_the_decision_stays() {
    let p = parties().await;
    let task = create(&p.api, &p.requester, "t").await;
    let id = task["id"].as_str().unwrap();

    let approved = p
        .api
        .put(
            &format!("/people-task/tasks/{id}/approve"),
            &p.approver,
            json!({}),
        )
        .await
        .ok();
    let again = p
        .api
        .put(
            &format!("/people-task/tasks/{id}/approve"),
            &p.approver,
            json!({}),
        )
        .await;
    let reject = p
        .api
        .put(
            &format!("/people-task/tasks/{id}/reject"),
            &p.approver,
            json!({}),
        )
        .await;

    assert_eq!(approved["status"], "approved");
    assert!(approved["decisionMade"].is_string());
    assert!(approved["mtime"].as_str().unwrap() > task["mtime"].as_str().unwrap());
    assert_eq!(again.boom(400), "Cannot approve task, already approved");
    assert_eq!(reject.boom(400), "Cannot reject task, already approved");
    let read = p
        .api
        .get(&format!("/people-task/tasks/{id}"), &p.requester)
        .await
        .ok();
    assert_eq!(read["status"], "approved");
    assert_eq!(read["decisionMade"], approved["decisionMade"]);
}

#[tokio::test]
async fn a_rejected_task_stays_rejected() {
    let p = parties().await;
    let task = create(&p.api, &p.requester, "t").await;
    let id = task["id"].as_str().unwrap();

    let rejected = p
        .api
        .put(
            &format!("/people-task/tasks/{id}/reject"),
            &p.approver,
            json!({}),
        )
        .await
        .ok();
    let approve = p
        .api
        .put(
            &format!("/people-task/tasks/{id}/approve"),
            &p.approver,
            json!({}),
        )
        .await;

    assert_eq!(rejected["status"], "rejected");
    assert_eq!(approve.boom(400), "Cannot approve task, already rejected");
    let read = p
        .api
        .get(&format!("/people-task/tasks/{id}"), &p.approver)
        .await
        .ok();
    assert_eq!(read["status"], "rejected");
}

#[tokio::test]
async fn the_approver_secret_decides_in_the_body_or_the_query() {
    let p = parties().await;
    let first = create(&p.api, &p.requester, "first").await;
    let second = create(&p.api, &p.requester, "second").await;
    let (first_id, second_id) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );

    let by_body = anonymous(
        &p.api,
        Method::PUT,
        &format!("/people-task/tasks/{first_id}/approve"),
        Body::Json(json!({ "secret": first["approverSecret"] })),
    )
    .await;
    let by_query = p
        .api
        .put(
            &format!(
                "/people-task/tasks/{second_id}/reject?secret={}",
                second["approverSecret"].as_str().unwrap()
            ),
            &p.stranger,
            json!({}),
        )
        .await;

    assert_eq!(by_body.ok()["status"], "approved");
    assert_eq!(by_query.ok()["status"], "rejected");
}

#[tokio::test]
async fn the_requester_and_the_requester_secret_cannot_decide() {
    let p = parties().await;
    let task = create(&p.api, &p.requester, "t").await;
    let id = task["id"].as_str().unwrap();

    let requester = p
        .api
        .put(
            &format!("/people-task/tasks/{id}/approve"),
            &p.requester,
            json!({}),
        )
        .await;
    let requester_secret = anonymous(
        &p.api,
        Method::PUT,
        &format!("/people-task/tasks/{id}/approve"),
        Body::Json(json!({ "secret": task["requesterSecret"] })),
    )
    .await;
    let stranger = p
        .api
        .put(
            &format!("/people-task/tasks/{id}/reject"),
            &p.stranger,
            json!({}),
        )
        .await;
    let nobody = anonymous(
        &p.api,
        Method::PUT,
        &format!("/people-task/tasks/{id}/approve"),
        Body::Json(json!({})),
    )
    .await;

    requester.boom(403);
    requester_secret.boom(403);
    stranger.boom(403);
    nobody.boom(401);
    let read = p
        .api
        .get(&format!("/people-task/tasks/{id}"), &p.requester)
        .await
        .ok();
    assert_eq!(read["status"], "pending");
    assert!(read.get("decisionMade").is_none());
}

#[tokio::test]
async fn deciding_an_unknown_task_is_404() {
    let p = parties().await;

    let answer = p
        .api
        .put(
            "/people-task/tasks/0123456789abcdef01234567/approve",
            &p.approver,
            json!({}),
        )
        .await;

    assert_eq!(answer.boom(404), "Task not found.");
}

#[tokio::test]
async fn pattern_is_a_case_insensitive_regex_on_the_title_and_count_agrees() {
    let p = parties().await;
    create(&p.api, &p.requester, "Refund order 1001").await;
    create(&p.api, &p.requester, "REFUND order 1002").await;
    create(&p.api, &p.requester, "Holiday").await;

    let refunds = p
        .api
        .get(
            "/people-task/tasks?pattern=^refund.*100[12]$&sort=title:1",
            &p.approver,
        )
        .await
        .ok();
    let count = p
        .api
        .get("/people-task/tasks-count?pattern=refund", &p.approver)
        .await
        .ok();
    let bad = p
        .api
        .get("/people-task/tasks?pattern=(unclosed", &p.approver)
        .await;

    assert_eq!(
        field_of(&refunds, "title"),
        ["REFUND order 1002", "Refund order 1001"]
    );
    assert_eq!(count["count"], 2);
    bad.invalid("query", "pattern");
}

#[tokio::test]
async fn filters_sort_projection_and_paging_work_on_tasks() {
    let p = parties().await;
    let mut ids = Vec::new();
    for title in ["c", "a", "b", "d"] {
        ids.push(create(&p.api, &p.requester, title).await["id"].clone());
    }
    p.api
        .put(
            &format!("/people-task/tasks/{}/approve", ids[0].as_str().unwrap()),
            &p.approver,
            json!({}),
        )
        .await
        .ok();

    let pending = p
        .api
        .get(
            "/people-task/tasks?filter=status:pending&sort=title:-1",
            &p.approver,
        )
        .await
        .ok();
    let first_page = p
        .api
        .get("/people-task/tasks?sort=title:1&limit=2", &p.approver)
        .await
        .ok();
    let second_page = p
        .api
        .get(
            "/people-task/tasks?sort=title:1&limit=2&offset=2",
            &p.approver,
        )
        .await
        .ok();
    let projected = p
        .api
        .get("/people-task/tasks?projection=title&limit=1", &p.approver)
        .await
        .ok();
    let count = p
        .api
        .get(
            "/people-task/tasks-count?filter=status:!pending",
            &p.approver,
        )
        .await
        .ok();

    assert_eq!(field_of(&pending, "title"), ["d", "b", "a"]);
    let mut titles = field_of(&first_page, "title");
    titles.extend(field_of(&second_page, "title"));
    assert_eq!(titles, ["a", "b", "c", "d"]);
    assert_eq!(projected, json!([{ "id": ids[0], "title": "c" }]));
    assert_eq!(count["count"], 1);
    p.api
        .get("/people-task/tasks?sort=approver:1", &p.approver)
        .await
        .invalid("query", "sort");
}

#[tokio::test]
async fn server_fields_in_a_task_body_are_refused_by_name() {
    let p = parties().await;
    let task = create(&p.api, &p.requester, "t").await;
    let id = task["id"].as_str().unwrap();
    let before = p
        .api
        .get(&format!("/people-task/tasks/{id}"), &p.requester)
        .await
        .ok();

    for field in [
        "id",
        "status",
        "approverSecret",
        "requesterSecret",
        "created",
        "mtime",
        "decisionMade",
    ] {
        let mut body = json!({ "title": "t2", "requester": REQUESTER, "approver": APPROVER });
        body[field] = json!("approved");
        let message = p
            .api
            .post("/people-task/tasks", &p.requester, body)
            .await
            .invalid("payload", field);
        assert!(message.contains(field), "{message}");
        let mut decision = json!({});
        decision[field] = json!("rejected");
        p.api
            .put(
                &format!("/people-task/tasks/{id}/approve"),
                &p.approver,
                decision,
            )
            .await
            .invalid("payload", field);
    }

    let count = p
        .api
        .get("/people-task/tasks-count", &p.requester)
        .await
        .ok();
    assert_eq!(count["count"], 1);
    let after = p
        .api
        .get(&format!("/people-task/tasks/{id}"), &p.requester)
        .await
        .ok();
    assert_eq!(after, before);
}
