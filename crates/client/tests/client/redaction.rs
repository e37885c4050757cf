//! What the client prints: never a token, a password or a secret.

use appmixer_client::{Client, RetryPolicy, types};
use serde_json::json;

use crate::common;

const PASSWORD: &str = "correct-horse-battery";
const TOKEN: &str = "eyJ.logged-in-token.sig";
const TASK_SECRET: &str = "approver-secret-42";

async fn logged_in_client(server: &httpmock::MockServer) -> Client {
    server
        .mock_async(|when, then| {
            when.method("POST").path("/user/auth");
            then.status(200).json_body(json!({
                "user": {"id": "u1", "username": "jane@example.com"}, "token": TOKEN
            }));
        })
        .await;
    Client::builder(server.base_url())
        .retry(RetryPolicy::none())
        .login("jane@example.com", PASSWORD)
        .await
        .unwrap()
}

#[tokio::test]
async fn debug_of_a_logged_in_client_shows_neither_token_nor_password() {
    let server = common::engine().await;
    let client = logged_in_client(&server).await;

    let printed = format!("{client:?} {client:#?}");

    assert!(!printed.contains(TOKEN), "{printed}");
    assert!(!printed.contains(PASSWORD), "{printed}");
    assert!(printed.contains("[redacted]"), "{printed}");
}

#[test]
fn debug_of_a_builder_with_a_token_hides_it() {
    let builder = Client::builder("http://127.0.0.1:2200").token(TOKEN);

    let printed = format!("{builder:?}");

    assert!(!printed.contains(TOKEN), "{printed}");
}

#[tokio::test]
async fn a_transport_error_does_not_show_the_query_string() {
    let client = Client::builder(common::closed_port())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    let error = client
        .get_people_task()
        .id("t1")
        .secret(TASK_SECRET)
        .send()
        .await
        .unwrap_err();

    let printed = format!("{error} {error:?} {error:#}");
    assert!(!printed.contains(TASK_SECRET), "{printed}");
    assert!(printed.contains("/people-task/tasks/t1"), "{printed}");
}

#[test]
fn debug_of_a_builder_hides_credentials_in_its_url() {
    let builder = Client::builder(format!("http://jane:{PASSWORD}@127.0.0.1:2200"));

    let printed = format!("{builder:?} {builder:#?}");

    assert!(!printed.contains(PASSWORD), "{printed}");
    assert!(printed.contains("127.0.0.1:2200"), "{printed}");
}

/// `value` as the spec's type `T`, printed with `{:?}` and `{:#?}`.
fn debug_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(value: serde_json::Value) -> String {
    let typed: T = serde_json::from_value(value).expect("the value has the type's shape");
    format!("{typed:?} {typed:#?}")
}

#[test]
fn debug_of_credentials_and_signup_hides_the_password() {
    let body = json!({"username": "jane@example.com", "password": PASSWORD});

    let printed = [
        debug_of::<types::Credentials>(body.clone()),
        debug_of::<types::Signup>(body.clone()),
        debug_of::<types::SignupPassword>(json!(PASSWORD)),
    ]
    .join(" ");

    assert!(!printed.contains(PASSWORD), "{printed}");
    assert!(printed.contains("jane@example.com"), "{printed}");
    assert!(printed.contains("[redacted]"), "{printed}");
}

#[test]
fn debug_of_login_and_signup_answers_hides_the_token() {
    let user = json!({"id": "u1", "username": "jane@example.com"});

    let printed = [
        debug_of::<types::Authentication>(json!({"user": user, "token": TOKEN})),
        debug_of::<types::SignupResult>(json!({"token": TOKEN})),
    ]
    .join(" ");

    assert!(!printed.contains(TOKEN), "{printed}");
    assert!(printed.contains("jane@example.com"), "{printed}");
}

#[test]
fn debug_of_a_new_account_hides_its_token_object() {
    let account = json!({"service": "appmixer:slack", "token": {"accessToken": "xoxb-42"}});

    let printed = debug_of::<types::AccountCreate>(account);

    assert!(!printed.contains("xoxb-42"), "{printed}");
    assert!(printed.contains("appmixer:slack"), "{printed}");
}

#[test]
fn debug_of_people_tasks_and_decisions_hides_their_secrets() {
    let task = json!({
        "id": "t1", "title": "Refund", "status": "pending", "approver": "joe@example.com",
        "requester": "jane@example.com", "approverSecret": TASK_SECRET,
        "requesterSecret": "requester-secret-7",
    });

    let printed = [
        debug_of::<types::PeopleTask>(task),
        debug_of::<types::Decision>(json!({"secret": TASK_SECRET})),
    ]
    .join(" ");

    assert!(!printed.contains(TASK_SECRET), "{printed}");
    assert!(!printed.contains("requester-secret-7"), "{printed}");
    assert!(printed.contains("Refund"), "{printed}");
}

#[test]
fn debug_of_builders_hides_the_secrets_given_to_them() {
    let client = Client::builder("http://127.0.0.1:2200").build().unwrap();
    let credentials = types::Credentials::builder()
        .username(Some("jane@example.com".to_owned()))
        .password(PASSWORD);
    let login = client.authenticate_user().body(credentials.clone());
    let tasks = client.get_people_tasks().secret(TASK_SECRET);

    let printed = format!("{credentials:?} {login:?} {tasks:?}");

    assert!(!printed.contains(PASSWORD), "{printed}");
    assert!(!printed.contains(TASK_SECRET), "{printed}");
    assert!(printed.contains("jane@example.com"), "{printed}");
}
