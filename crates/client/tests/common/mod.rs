//! Helpers shared by the integration tests: a mock engine on 127.0.0.1 and
//! clients aimed at it.

#![allow(dead_code)]

use appmixer_client::{Client, RetryPolicy};
use httpmock::MockServer;
use httpmock::prelude::HttpMockRequest;
use serde_json::{Value, json};

/// The token the test clients send.
pub const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.test-token.c2lnbmF0dXJl";

/// A mock server on 127.0.0.1 with a port the system chose.
pub async fn engine() -> MockServer {
    MockServer::start_async().await
}

/// A client of `server` that sends [`TOKEN`] and never retries, so that each
/// call is exactly one request.
pub fn client(server: &MockServer) -> Client {
    Client::builder(server.base_url())
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .expect("a client for the mock server")
}

/// A client of `server` without a token.
pub fn anonymous(server: &MockServer) -> Client {
    Client::builder(server.base_url())
        .retry(RetryPolicy::none())
        .build()
        .expect("a client for the mock server")
}

/// The value of `Authorization` the test clients send.
pub fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

/// A Boom error payload as Appmixer sends it.
pub fn boom(status: u16, error: &str, message: &str) -> Value {
    json!({"statusCode": status, "error": error, "message": message})
}

/// Whether the query of `request` holds exactly `expected`, each pair as
/// often as listed; the order of different names does not matter, the order
/// of repeated values of one name does.
pub fn query_is(request: &HttpMockRequest, expected: &[(&str, &str)]) -> bool {
    let mut actual = request.query_params();
    actual.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    actual == expected
}

/// The raw query string of `request`, percent-encoding included.
pub fn raw_query(request: &HttpMockRequest) -> String {
    request.uri().query().unwrap_or_default().to_owned()
}

/// A base URL on 127.0.0.1 where nothing listens: connecting is refused.
pub fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = listener.local_addr().expect("the port's address");
    drop(listener);
    format!("http://{address}")
}

/// A server on 127.0.0.1 that answers every connection with `answer`, raw
/// bytes written as they are (a status line, headers and a body, or nothing),
/// after reading the request's head, and then closes the connection.
pub async fn raw_server(answer: &'static [u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("the port's address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{address}")
}
