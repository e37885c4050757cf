//! What the client prints: never a token, a password or a secret.

use appmixer_client::{Client, RetryPolicy};
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
