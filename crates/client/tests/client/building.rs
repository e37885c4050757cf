//! Building a client: base URLs, TLS, timeouts.

use std::time::Duration;

use appmixer_client::{Client, ClientError, RetryPolicy};
use serde_json::json;

use crate::common;

#[test]
fn an_https_client_builds_without_network() {
    let client = Client::builder("https://api.acme.appmixer.cloud").build();

    assert!(client.is_ok(), "{:?}", client.err());
}

#[test]
fn a_bad_base_url_is_refused_with_its_value() {
    let error = Client::builder("ftp://files.example.com")
        .build()
        .unwrap_err();

    assert!(
        matches!(error, ClientError::InvalidBaseUrl { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("ftp://files.example.com"),
        "{error}"
    );
}

#[test]
fn a_base_url_without_a_host_is_refused() {
    let error = Client::builder("http://").build().unwrap_err();

    assert!(
        matches!(error, ClientError::InvalidBaseUrl { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_trailing_slash_in_the_base_url_does_not_double_the_slash() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/user");
            then.status(200)
                .json_body(json!({"id": "u1", "username": "jane"}));
        })
        .await;
    let client = Client::builder(format!("{}/", server.base_url()))
        .build()
        .unwrap();

    let user = client.get_user().send().await;

    assert!(user.is_ok(), "{user:?}");
    mock.assert_async().await;
}

#[tokio::test]
async fn the_user_agent_is_sent() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/user")
                .header("user-agent", "acme-sync/2.1");
            then.status(200)
                .json_body(json!({"id": "u1", "username": "jane"}));
        })
        .await;
    let client = Client::builder(server.base_url())
        .user_agent("acme-sync/2.1")
        .build()
        .unwrap();

    let user = client.get_user().send().await;

    assert!(user.is_ok(), "{user:?}");
    mock.assert_async().await;
}

#[tokio::test]
async fn the_default_user_agent_names_the_crate() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/user")
                .header_prefix("user-agent", "appmixer-client/");
            then.status(200)
                .json_body(json!({"id": "u1", "username": "jane"}));
        })
        .await;
    let client = common::client(&server);

    let user = client.get_user().send().await;

    assert!(user.is_ok(), "{user:?}");
    mock.assert_async().await;
}

#[tokio::test]
async fn the_request_timeout_applies() {
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/user");
            then.status(200)
                .delay(Duration::from_secs(5))
                .json_body(json!({"id": "u1", "username": "jane"}));
        })
        .await;
    let client = Client::builder(server.base_url())
        .timeout(Duration::from_millis(100))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    let error = client.get_user().send().await.unwrap_err();

    let appmixer_client::Error::CommunicationError(error) = error else {
        panic!("expected a transport error, got {error}");
    };
    assert!(error.is_timeout(), "{error}");
}

#[test]
fn requests_logins_and_streams_can_move_to_other_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let client = Client::builder("http://127.0.0.1:2200").build().unwrap();

    let request = client.get_flows().send();
    let login = Client::login("http://127.0.0.1:2200", "jane", "pw");
    let start = client.start_flow("f1");
    let stream = appmixer_client::Paginate::stream(client.get_flows());

    assert_send(&request);
    assert_send(&login);
    assert_send(&start);
    assert_send(&stream);
}

#[test]
fn a_base_url_with_credentials_is_refused_without_showing_them() {
    let error = Client::builder("http://jane:hunter2@127.0.0.1:2200")
        .build()
        .unwrap_err();

    assert!(
        matches!(error, ClientError::InvalidBaseUrl { .. }),
        "{error}"
    );
    let printed = format!("{error} {error:?}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("127.0.0.1:2200"), "{printed}");
    assert!(printed.contains("`Client::login`"), "{printed}");
}

#[test]
fn a_base_url_with_only_a_username_is_refused_too() {
    let error = Client::builder("https://api-key-1234@api.acme.appmixer.cloud")
        .build()
        .unwrap_err();

    assert!(
        matches!(error, ClientError::InvalidBaseUrl { .. }),
        "{error}"
    );
    assert!(!error.to_string().contains("api-key-1234"), "{error}");
}

#[tokio::test]
async fn a_login_at_a_url_with_credentials_sends_nothing() {
    let server = common::engine().await;
    let any_request = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let address = server.address();

    let error = Client::login(format!("http://jane:hunter2@{address}"), "jane", "pw")
        .await
        .unwrap_err();

    assert!(
        matches!(error, ClientError::InvalidBaseUrl { .. }),
        "{error}"
    );
    assert_eq!(any_request.calls_async().await, 0);
}
