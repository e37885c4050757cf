//! People tasks: listing, counting, creating, reading and deciding them.

use appmixer_client::types;
use serde_json::{Value, json};

use crate::{Call, call, common};

const TASK_ID: &str = "5d1df81d7fd4230010adb8a5";

pub fn calls() -> Vec<Call> {
    vec![
        call!("getPeopleTasks", GET "/people-task/tasks", |c| c.get_people_tasks()),
        call!("createPeopleTask", POST "/people-task/tasks", |c| c
            .create_people_task()
            .body(types::PeopleTaskCreate::builder()
                .title("t")
                .requester("r@example.com")
                .approver("a@example.com"))),
        call!("getPeopleTasksCount", GET "/people-task/tasks-count", |c| c
            .get_people_tasks_count()),
        call!("getPeopleTask", GET "/people-task/tasks/t1", |c| c.get_people_task().id("t1")),
        call!("approveTask", PUT "/people-task/tasks/t1/approve", |c| c
            .approve_task()
            .id("t1")
            .body(types::Decision::builder())),
        call!("rejectTask", PUT "/people-task/tasks/t1/reject", |c| c
            .reject_task()
            .id("t1")
            .body(types::Decision::builder())),
    ]
}

fn task(status: &str) -> Value {
    json!({
        "id": TASK_ID, "title": "Approve the refund", "status": status, "public": false,
        "approver": "joe@example.com", "requester": "jane@example.com",
        "decisionBy": "2030-01-01T19:00:00.000Z", "isApprover": true
    })
}

#[tokio::test]
async fn get_people_tasks_sends_role_secret_and_filters() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/people-task/tasks")
                .is_true(|request| {
                    common::query_is(
                        request,
                        &[
                            ("role", "approver"),
                            ("pattern", "^Approve"),
                            ("secret", "s3cr3t"),
                            ("filter", "status:pending"),
                            ("sort", "decisionBy:-1"),
                            ("projection", "-description"),
                            ("limit", "5"),
                            ("offset", "0"),
                        ],
                    )
                });
            then.status(200).json_body(json!([task("pending")]));
        })
        .await;
    let client = common::client(&server);

    let tasks = client
        .get_people_tasks()
        .role(types::TaskRole::Approver)
        .pattern("^Approve")
        .secret("s3cr3t")
        .filter(vec![String::from("status:pending")])
        .sort("decisionBy:-1")
        .projection("-description")
        .limit(5u64)
        .offset(0u64)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(tasks[0].status, Some(types::TaskStatus::Pending));
    assert_eq!(tasks[0].is_approver, Some(true));
}

#[tokio::test]
async fn create_people_task_decodes_both_secrets() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/people-task/tasks")
                .json_body(json!({
                    "title": "Approve the refund", "requester": "jane@example.com",
                    "approver": "joe@example.com", "decisionBy": "2030-01-01T19:00:00Z"
                }));
            let mut created = task("pending");
            created["approverSecret"] = json!("a-secret");
            created["requesterSecret"] = json!("r-secret");
            then.status(200).json_body(created);
        })
        .await;
    let client = common::client(&server);
    let decision_by = "2030-01-01T19:00:00Z".parse::<chrono::DateTime<chrono::Utc>>();

    let created = client
        .create_people_task()
        .body(
            types::PeopleTaskCreate::builder()
                .title("Approve the refund")
                .requester("jane@example.com")
                .approver("joe@example.com")
                .decision_by(decision_by.ok()),
        )
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(created.approver_secret.as_deref(), Some("a-secret"));
    assert_eq!(created.requester_secret.as_deref(), Some("r-secret"));
}

#[tokio::test]
async fn get_people_tasks_count_sends_the_selectors() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/people-task/tasks-count")
                .is_true(|request| {
                    common::query_is(request, &[("role", "requester"), ("filter", "status:due")])
                });
            then.status(200).json_body(json!({"count": 4}));
        })
        .await;
    let client = common::client(&server);

    let count = client
        .get_people_tasks_count()
        .role(types::TaskRole::Requester)
        .filter(vec![String::from("status:due")])
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(count.count, 4);
}

#[tokio::test]
async fn get_people_task_sends_the_secret_as_query() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(format!("/people-task/tasks/{TASK_ID}"))
                .query_param("secret", "s3cr3t");
            then.status(200).json_body(task("pending"));
        })
        .await;
    let client = common::client(&server);

    let found = client
        .get_people_task()
        .id(TASK_ID)
        .secret("s3cr3t")
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(found.id, TASK_ID);
}

#[tokio::test]
async fn approve_task_sends_the_secret_in_the_body() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path(format!("/people-task/tasks/{TASK_ID}/approve"))
                .json_body(json!({"secret": "a-secret"}));
            then.status(200).json_body(task("approved"));
        })
        .await;
    let client = common::client(&server);

    let approved = client
        .approve_task()
        .id(TASK_ID)
        .body(types::Decision::builder().secret(Some(String::from("a-secret"))))
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(approved.status, Some(types::TaskStatus::Approved));
}

#[tokio::test]
async fn reject_task_sends_an_empty_decision() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path(format!("/people-task/tasks/{TASK_ID}/reject"))
                .query_param("secret", "a-secret")
                .json_body(json!({}));
            then.status(200).json_body(task("rejected"));
        })
        .await;
    let client = common::client(&server);

    let rejected = client
        .reject_task()
        .id(TASK_ID)
        .secret("a-secret")
        .body(types::Decision::builder())
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(rejected.status, Some(types::TaskStatus::Rejected));
}
