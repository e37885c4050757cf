//! Logging in again, once, when the server refuses an expired token.

use appmixer_client::{ApiErrorExt, Client, RetryPolicy};
use httpmock::{Mock, MockServer};
use serde_json::json;

use crate::common;

/// Mocks `POST /user/auth` to hand out `first`, then `second` forever after.
async fn tokens<'a>(server: &'a MockServer, first: &str, second: &str) -> (Mock<'a>, Mock<'a>) {
    let answer =
        |token: &str| json!({"user": {"id": "u1", "username": "jane@example.com"}, "token": token});
    let first = server
        .mock_async(|when, then| {
            when.method("POST").path("/user/auth");
            then.status(200).json_body(answer(first)).up_to_n_times(1);
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method("POST").path("/user/auth");
            then.status(200).json_body(answer(second));
        })
        .await;
    (first, second)
}

/// Mocks `GET /flows` to answer `status` to requests that carry `token`.
async fn flows_with<'a>(server: &'a MockServer, token: &str, status: u16) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/flows")
                .header("authorization", format!("Bearer {token}"));
            if status == 200 {
                then.status(200).json_body(json!([]));
            } else {
                then.status(status).json_body(common::boom(
                    status,
                    "Unauthorized",
                    "Token expired.",
                ));
            }
        })
        .await
}

async fn logged_in(server: &MockServer) -> Client {
    Client::builder(server.base_url())
        .retry(RetryPolicy::none())
        .login("jane@example.com", "pw")
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refused_token_is_renewed_and_the_request_sent_again() {
    let server = common::engine().await;
    let (first_login, second_login) = tokens(&server, "t1", "t2").await;
    let refused = flows_with(&server, "t1", 401).await;
    let accepted = flows_with(&server, "t2", 200).await;
    let client = logged_in(&server).await;

    let flows = client.get_flows().send().await;

    assert!(flows.is_ok(), "{flows:?}");
    assert_eq!(first_login.calls_async().await, 1);
    assert_eq!(second_login.calls_async().await, 1);
    assert_eq!(refused.calls_async().await, 1);
    assert_eq!(accepted.calls_async().await, 1);
    assert_eq!(client.token().unwrap().expose(), "t2");
}

#[tokio::test]
async fn a_renewed_token_that_is_refused_too_is_not_renewed_again() {
    let server = common::engine().await;
    let (_, second_login) = tokens(&server, "t1", "t2").await;
    let refused_first = flows_with(&server, "t1", 401).await;
    let refused_again = flows_with(&server, "t2", 401).await;
    let client = logged_in(&server).await;

    let error = client.get_flows().send().await.unwrap_err();

    assert!(error.is_unauthorized(), "{error}");
    assert_eq!(second_login.calls_async().await, 1);
    assert_eq!(refused_first.calls_async().await, 1);
    assert_eq!(refused_again.calls_async().await, 1);
}

#[tokio::test]
async fn a_client_without_credentials_does_not_log_in() {
    let server = common::engine().await;
    let (first_login, second_login) = tokens(&server, "t1", "t2").await;
    let refused = flows_with(&server, common::TOKEN, 401).await;
    let client = common::client(&server);

    let error = client.get_flows().send().await.unwrap_err();

    assert!(error.is_unauthorized(), "{error}");
    assert_eq!(refused.calls_async().await, 1);
    assert_eq!(first_login.calls_async().await, 0);
    assert_eq!(second_login.calls_async().await, 0);
}

#[tokio::test]
async fn a_failed_new_login_returns_the_original_refusal() {
    let server = common::engine().await;
    let first_login = server
        .mock_async(|when, then| {
            when.method("POST").path("/user/auth");
            then.status(200)
                .json_body(json!({"user": {"id": "u1", "username": "jane"}, "token": "t1"}))
                .up_to_n_times(1);
        })
        .await;
    let password_changed = server
        .mock_async(|when, then| {
            when.method("POST").path("/user/auth");
            then.status(401)
                .json_body(common::boom(401, "Unauthorized", "Wrong password."));
        })
        .await;
    let refused = flows_with(&server, "t1", 401).await;
    let client = logged_in(&server).await;

    let error = client.get_flows().send().await.unwrap_err();

    assert_eq!(error.message(), Some("Token expired."));
    assert_eq!(first_login.calls_async().await, 1);
    assert_eq!(password_changed.calls_async().await, 1);
    assert_eq!(refused.calls_async().await, 1);
    assert_eq!(client.token().unwrap().expose(), "t1");
}

#[tokio::test]
async fn requests_refused_together_share_one_new_login() {
    let server = common::engine().await;
    let (_, second_login) = tokens(&server, "t1", "t2").await;
    let refused = flows_with(&server, "t1", 401).await;
    let accepted = flows_with(&server, "t2", 200).await;
    let client = logged_in(&server).await;

    let (a, b, c) = tokio::join!(
        client.get_flows().send(),
        client.get_flows().send(),
        client.get_flows().send()
    );

    assert!(a.is_ok() && b.is_ok() && c.is_ok(), "{a:?} {b:?} {c:?}");
    assert_eq!(second_login.calls_async().await, 1);
    assert_eq!(refused.calls_async().await, 3);
    assert_eq!(accepted.calls_async().await, 3);
}

#[tokio::test]
async fn a_public_operation_refused_with_401_does_not_log_in_again() {
    let server = common::engine().await;
    let (_, second_login) = tokens(&server, "t1", "t2").await;
    let webhook = server
        .mock_async(|when, then| {
            when.method("POST").path("/flows/f1/components/c1");
            then.status(401)
                .json_body(common::boom(401, "Unauthorized", "No."));
        })
        .await;
    let client = logged_in(&server).await;

    let error = client
        .send_component_message()
        .flow_id("f1")
        .component_id("c1")
        .body(serde_json::Map::new())
        .send()
        .await
        .unwrap_err();

    assert!(error.is_unauthorized(), "{error}");
    assert_eq!(webhook.calls_async().await, 1);
    assert_eq!(second_login.calls_async().await, 0);
}
