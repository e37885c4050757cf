//! What the client's errors say: one line with the URL, the kind of failure
//! and what to check, the status and Boom's words, and of a body only its
//! length and a short redacted preview.

use appmixer_client::{ApiErrorExt, BodyTooLarge, Client, ClientError, RetryPolicy};
use serde_json::json;

use crate::common;

const PASSWORD: &str = "correct-horse-battery";

/// Logs in at `base_url` once, without retries.
async fn login_error(base_url: String) -> ClientError {
    Client::builder(base_url)
        .retry(RetryPolicy::none())
        .login("jane@example.com", PASSWORD)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_truncated_login_body_shows_neither_the_token_start_nor_the_password() {
    let base_url = common::raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 21\r\n\r\n\
          {\"token\": \"eyJhbGciOi",
    )
    .await;

    let error = login_error(base_url).await;

    let printed = format!("{error} {error:?}");
    assert!(!printed.contains("eyJhbGciOi"), "{printed}");
    assert!(!printed.contains(PASSWORD), "{printed}");
    assert!(printed.contains("21 bytes"), "{printed}");
    assert!(printed.contains("[redacted]"), "{printed}");
}

#[tokio::test]
async fn a_large_body_that_does_not_parse_is_quoted_short() {
    let server = common::engine().await;
    let body = "x".repeat(4 * 1024 * 1024);
    server
        .mock_async(|when, then| {
            when.method("POST").path("/user/auth");
            then.status(200)
                .header("content-type", "application/json")
                .body(&body);
        })
        .await;

    let error = login_error(server.base_url()).await;

    let printed = format!("{error}");
    let debugged = format!("{error:?}");
    assert!(printed.len() < 1000, "{} bytes printed", printed.len());
    assert!(debugged.len() < 1000, "{} bytes printed", debugged.len());
    assert!(
        printed.contains(&format!("{} bytes", body.len())),
        "{printed}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_fails_naming_the_limit_and_how_to_raise_it() {
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/user");
            then.status(200)
                .json_body(json!({"id": "u1", "username": "x".repeat(4096)}));
        })
        .await;
    let client = Client::builder(server.base_url())
        .retry(RetryPolicy::none())
        .max_body_size(1024)
        .build()
        .unwrap();

    let error = client.get_user().send().await.unwrap_err();

    let appmixer_client::Error::ResponseBodyError(cause) = &error else {
        panic!("expected a body error, got {}", error.summary());
    };
    let too_large = std::iter::successors(std::error::Error::source(cause), |cause| cause.source())
        .find_map(|cause| cause.downcast_ref::<BodyTooLarge>())
        .expect("a cause is BodyTooLarge");
    assert_eq!(too_large.limit, 1024);
    let summary = error.summary();
    assert!(summary.contains("1024 bytes"), "{summary}");
    assert!(
        summary.contains("ClientBuilder::max_body_size"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_fails_too() {
    let base_url = common::raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
          transfer-encoding: chunked\r\n\r\n\
          40\r\n[1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2\r\n\
          40\r\n,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2\r\n\
          1\r\n]\r\n0\r\n\r\n",
    )
    .await;
    let client = Client::builder(base_url)
        .retry(RetryPolicy::none())
        .max_body_size(100)
        .build()
        .unwrap();

    let error = client.get_flows().send().await.unwrap_err();

    let summary = error.summary();
    assert!(summary.contains("limit of 100 bytes"), "{summary}");
}

#[tokio::test]
async fn a_body_within_the_limit_is_read_whole() {
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/user");
            then.status(200)
                .json_body(json!({"id": "u1", "username": "jane@example.com"}));
        })
        .await;
    let client = Client::builder(server.base_url())
        .retry(RetryPolicy::none())
        .max_body_size(1024)
        .build()
        .unwrap();

    let user = client.get_user().send().await;

    assert_eq!(user.unwrap().username, "jane@example.com");
}

/// The summary of `GET /user` at `base_url`, sent once.
async fn get_user_summary(client: Client) -> String {
    client.get_user().send().await.unwrap_err().summary()
}

fn once(base_url: String) -> Client {
    Client::builder(base_url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_refused_connection_names_the_url_the_kind_and_what_to_check() {
    let base_url = common::closed_port();

    let summary = get_user_summary(once(base_url.clone())).await;

    assert!(summary.contains(&format!("{base_url}/user")), "{summary}");
    assert!(summary.contains("connection refused"), "{summary}");
    assert!(summary.contains("check that the engine runs"), "{summary}");
}

#[tokio::test]
async fn a_closed_connection_is_told_apart() {
    let base_url = common::raw_server(b"").await;

    let summary = get_user_summary(once(base_url)).await;

    assert!(summary.contains("connection closed"), "{summary}");
}

#[tokio::test]
async fn a_timeout_names_the_setting_to_raise() {
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/user");
            then.status(200)
                .delay(std::time::Duration::from_secs(5))
                .json_body(json!({"id": "u1", "username": "jane"}));
        })
        .await;
    let client = Client::builder(server.base_url())
        .retry(RetryPolicy::none())
        .timeout(std::time::Duration::from_millis(100))
        .build()
        .unwrap();

    let summary = get_user_summary(client).await;

    assert!(summary.contains("timed out"), "{summary}");
    assert!(summary.contains("ClientBuilder::timeout"), "{summary}");
}

#[tokio::test]
async fn an_http_error_is_one_line_with_status_and_boom_words_but_no_headers() {
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/user");
            then.status(500)
                .header("x-internal", "do-not-print")
                .json_body(common::boom(500, "Internal Server Error", "boom"));
        })
        .await;

    let error = ClientError::from(once(server.base_url()).get_user().send().await.unwrap_err());

    let printed = format!("{error}");
    assert_eq!(
        printed,
        "the server answered 500 Internal Server Error: boom; the server failed; see its logs, \
         and retry later"
    );
    assert_eq!(format!("{error:?}"), format!("ClientError::Api({printed})"));
}

#[tokio::test]
async fn too_many_requests_says_to_slow_down() {
    let server = common::engine().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/user");
            then.status(429)
                .json_body(common::boom(429, "Too Many Requests", "slow down"));
        })
        .await;

    let summary = get_user_summary(once(server.base_url())).await;

    assert!(
        summary.starts_with("the server answered 429 Too Many Requests: slow down;"),
        "{summary}"
    );
    assert!(!summary.contains('\n'), "{summary}");
}
