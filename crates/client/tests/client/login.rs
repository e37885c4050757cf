//! `Client::login` and `Client::signup`: the token they get, and what their
//! errors say.

use appmixer_client::{Client, ClientError, RetryPolicy};
use httpmock::MockServer;
use serde_json::json;

use crate::common;

fn user() -> serde_json::Value {
    json!({"id": "5c6fc9932ff3ff000747ead4", "username": "jane@example.com"})
}

async fn login_refused_with(status: u16, reason: &str) -> ClientError {
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/user/auth");
            then.status(status)
                .json_body(common::boom(status, reason, "Invalid credentials."));
        })
        .await;

    Client::login(server.base_url(), "jane@example.com", "pw")
        .await
        .unwrap_err()
}

#[tokio::test]
async fn login_sends_the_token_it_got() {
    let server = common::engine().await;
    let auth = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/user/auth")
                .json_body(json!({"username": "jane@example.com", "password": "pw"}));
            then.status(200)
                .json_body(json!({"user": user(), "token": "fresh-token"}));
        })
        .await;
    let me = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/user")
                .header("authorization", "Bearer fresh-token");
            then.status(200).json_body(user());
        })
        .await;

    let client = Client::login(server.base_url(), "jane@example.com", "pw")
        .await
        .unwrap();
    let found = client.get_user().send().await.unwrap();

    auth.assert_async().await;
    me.assert_async().await;
    assert_eq!(found.username, "jane@example.com");
    assert_eq!(client.token().unwrap().expose(), "fresh-token");
}

#[tokio::test]
async fn login_answered_403_says_the_user_does_not_exist() {
    let error = login_refused_with(403, "Forbidden").await;

    assert!(matches!(error, ClientError::UnknownUser { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("does not exist"), "{message}");
    assert!(message.contains("jane@example.com"), "{message}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
}

#[tokio::test]
async fn login_answered_401_says_the_password_is_wrong() {
    let error = login_refused_with(401, "Unauthorized").await;

    assert!(
        matches!(error, ClientError::WrongPassword { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("wrong password"), "{error}");
}

#[tokio::test]
async fn login_answered_otherwise_keeps_the_boom_message() {
    let error = login_refused_with(400, "Bad Request").await;

    assert!(matches!(error, ClientError::Api(_)), "{error}");
    assert_eq!(error.message(), Some("Invalid credentials."));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn login_with_a_bad_base_url_sends_nothing() {
    let error = Client::login("localhost:2200", "jane", "pw")
        .await
        .unwrap_err();

    assert!(
        matches!(error, ClientError::InvalidBaseUrl { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("`localhost:2200`"), "{error}");
}

async fn signup_server(status: u16) -> MockServer {
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/user")
                .header_missing("authorization")
                .json_body(json!({"username": "joe@example.com", "password": "pw"}));
            then.status(status).json_body(json!({"token": "joe-token"}));
        })
        .await;
    server
}

#[tokio::test]
async fn signup_sends_the_new_users_token() {
    let server = signup_server(201).await;
    let me = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/user")
                .header("authorization", "Bearer joe-token");
            then.status(200)
                .json_body(json!({"id": "u2", "username": "joe@example.com"}));
        })
        .await;

    let client = Client::signup(server.base_url(), "joe@example.com", "pw")
        .await
        .unwrap();
    let found = client.get_user().send().await.unwrap();

    me.assert_async().await;
    assert_eq!(found.id, "u2");
}

#[tokio::test]
async fn signup_answered_409_says_the_user_exists() {
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/user");
            then.status(409)
                .json_body(common::boom(409, "Conflict", "User already exists."));
        })
        .await;

    let error = Client::builder(server.base_url())
        .retry(RetryPolicy::none())
        .signup("joe@example.com", "pw")
        .await
        .unwrap_err();

    assert!(matches!(error, ClientError::UserExists { .. }), "{error}");
    assert!(error.to_string().contains("already exists"), "{error}");
}

#[tokio::test]
async fn signup_keeps_the_credentials_to_log_in_again() {
    let server = signup_server(200).await;
    let refused = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/user")
                .header("authorization", "Bearer joe-token");
            then.status(401)
                .json_body(common::boom(401, "Unauthorized", "Token expired."));
        })
        .await;
    let auth = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/user/auth")
                .json_body(json!({"username": "joe@example.com", "password": "pw"}));
            then.status(200).json_body(json!({
                "user": {"id": "u2", "username": "joe@example.com"}, "token": "joe-token-2"
            }));
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/user")
                .header("authorization", "Bearer joe-token-2");
            then.status(200)
                .json_body(json!({"id": "u2", "username": "joe@example.com"}));
        })
        .await;
    let client = Client::signup(server.base_url(), "joe@example.com", "pw")
        .await
        .unwrap();

    let found = client.get_user().send().await;

    assert!(found.is_ok(), "{found:?}");
    assert_eq!(refused.calls_async().await, 1);
    assert_eq!(auth.calls_async().await, 1);
    assert_eq!(accepted.calls_async().await, 1);
}
