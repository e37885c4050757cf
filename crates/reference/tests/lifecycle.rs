//! How a server treats slow clients and how it stops: a request head that
//! never completes is cut off by the header-read timeout, a body that stalls
//! by the body-read timeout, and shutdown lets open requests finish for the
//! configured grace, then drops them.
//!
//! These tests speak raw HTTP/1.1 over TCP, because they need a client that
//! stalls halfway, which no HTTP client library does on purpose.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use appmixer_reference::{Config, Fault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for something that must happen before it gives up.
///
/// It bounds a regression (a server that never closes a connection would
/// otherwise hang the test run); the behaviour under test takes a fraction
/// of it, and no assertion depends on how long anything took.
const GIVE_UP: Duration = Duration::from_secs(60);

/// A grace no test waits out: shutdown must not need it.
const FOREVER: Duration = Duration::from_secs(3600);

/// A sign-up body.
const SIGNUP: &str = r#"{"username":"jane","password":"secret-password"}"#;

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(GIVE_UP, future)
        .await
        .unwrap_or_else(|_| panic!("gave up after {GIVE_UP:?} waiting until {what}"))
}

/// Reads until the blank line that ends an answer's head, and returns the head.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = stream.read(&mut byte).await.expect("the head can be read");
        assert_ne!(read, 0, "the connection closed mid-head: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("a head is ASCII")
}

/// Reads until the server closes the connection; answers what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return received,
            Ok(read) => received.extend_from_slice(&buffer[..read]),
        }
    }
}

/// Starts a sign-up whose body is announced but not yet sent, and returns
/// once the server has read the head and is waiting for the body, which
/// its `100 Continue` proves.
async fn open_request(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("the server accepts");
    let head = format!(
        "POST /user HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        SIGNUP.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let interim = within("the server asks for the body", read_head(&mut stream)).await;
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");
    stream
}

#[tokio::test]
async fn a_client_that_stops_sending_its_head_is_disconnected_after_the_header_read_timeout() {
    let config = Config::default().with_header_read_timeout(Duration::from_millis(100));
    let server = appmixer_reference::spawn_with(config).await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();

    stream
        .write_all(b"GET /flows HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let received = within("the server closes the stalled connection", async {
        read_until_closed(&mut stream).await
    })
    .await;

    // hyper closes without an answer; a 408 would be as good.
    let received = String::from_utf8_lossy(&received);
    assert!(
        received.is_empty() || received.starts_with("HTTP/1.1 408"),
        "{received}"
    );
}

/// Sends a sign-up head and half its body, then stalls, and returns what
/// the server sent until it closed the connection.
async fn stall_halfway_through_the_body(config: Config) -> String {
    let server = appmixer_reference::spawn_with(config).await.unwrap();
    let addr = server.addr();
    let mut stream = TcpStream::connect(addr).await.expect("the server accepts");
    let head = format!(
        "POST /user HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        SIGNUP.len()
    );

    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&SIGNUP.as_bytes()[..SIGNUP.len() / 2])
        .await
        .unwrap();
    let received = within("the server answers the stalled body and closes", async {
        read_until_closed(&mut stream).await
    })
    .await;

    String::from_utf8(received).expect("the answer is UTF-8")
}

/// Asserts that `answer` is a whole 408 with a Boom body that closes the
/// connection.
fn assert_body_timeout(answer: &str) {
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout"),
        "{answer}"
    );
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    assert!(
        head.to_ascii_lowercase().contains("\r\nconnection: close"),
        "{head}"
    );
    let body: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(body["statusCode"], 408, "{body}");
    assert_eq!(body["error"], "Request Timeout", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("request body"),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_that_stalls_halfway_answers_408_and_closes_the_connection() {
    let config = Config::default().with_body_read_timeout(Duration::from_millis(100));

    let answer = stall_halfway_through_the_body(config).await;

    assert_body_timeout(&answer);
}

#[tokio::test]
async fn a_body_that_stalls_answers_408_also_when_a_fault_reads_the_body_first() {
    // The fault layer reads the whole body before any handler does, so it
    // needs the timeout of its own.
    let fault: Fault = "users.duplicate-signup-accepted".parse().unwrap();
    let config = Config::default()
        .with_fault(fault)
        .with_body_read_timeout(Duration::from_millis(100));

    let answer = stall_halfway_through_the_body(config).await;

    assert_body_timeout(&answer);
}

#[tokio::test]
async fn shutdown_drops_an_open_request_after_the_grace() {
    let config = Config::default().with_shutdown_grace(Duration::from_millis(100));
    let server = appmixer_reference::spawn_with(config).await.unwrap();
    let mut stream = open_request(server.addr()).await;

    within("shutdown returns", server.shutdown()).await;

    let received = within("the open connection is dropped", async {
        read_until_closed(&mut stream).await
    })
    .await;
    assert!(received.is_empty(), "{received:?}");
}

#[tokio::test]
async fn shutdown_lets_an_open_request_finish_within_the_grace() {
    let config = Config::default().with_shutdown_grace(FOREVER);
    let server = appmixer_reference::spawn_with(config).await.unwrap();
    let addr = server.addr();
    let mut stream = open_request(addr).await;

    let stopping = tokio::spawn(server.shutdown());
    within("the listener closes", async {
        while TcpStream::connect(addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    stream.write_all(SIGNUP.as_bytes()).await.unwrap();
    let answer = within("the open request is answered", async {
        read_until_closed(&mut stream).await
    })
    .await;

    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201 Created"), "{answer}");
    assert!(answer.contains("\"token\""), "{answer}");
    within("shutdown returns", stopping).await.unwrap();
}

#[tokio::test]
async fn shutdown_closes_an_idle_connection_without_waiting_for_the_grace() {
    let config = Config::default().with_shutdown_grace(FOREVER);
    let server = appmixer_reference::spawn_with(config).await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /user HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let head = within("the request is answered", read_head(&mut stream)).await;
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");

    within("shutdown returns", server.shutdown()).await;
}
