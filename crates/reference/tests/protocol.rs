//! What every operation shares: Boom bodies for unknown routes, wrong
//! methods and bad bodies, the body limit, and the server's lifecycle.

mod common;

use appmixer_reference::Config;
use common::{Api, Body};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn an_unknown_route_is_a_boom_404() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let answer = api.get("/no/such/route", &token).await;

    assert!(answer.boom(404).contains("/no/such/route"));
}

#[tokio::test]
async fn a_wrong_method_is_a_boom_405_with_allow() {
    let api = Api::start().await;
    let url = format!("{}/flows", api.server.base_url());

    let response = api.client.patch(url).send().await.unwrap();

    assert_eq!(response.status(), 405);
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], 405);
    assert_eq!(body["error"], "Method Not Allowed");
}

#[tokio::test]
async fn malformed_json_is_400_and_creates_nothing() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let answer = api
        .send(
            Method::POST,
            "/flows",
            Some(&token),
            Body::Raw("application/json", b"{\"name\": \"x\",".to_vec()),
        )
        .await;

    assert!(
        answer
            .boom(400)
            .starts_with("Invalid request payload JSON format")
    );
    assert_eq!(api.get("/flows/count", &token).await.ok()["count"], 0);
}

#[tokio::test]
async fn a_json_operation_sent_another_media_type_is_415() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let answer = api
        .send(
            Method::POST,
            "/stores",
            Some(&token),
            Body::Raw("text/plain", b"{\"name\": \"x\"}".to_vec()),
        )
        .await;

    answer.boom(415);
    assert_eq!(api.get("/stores", &token).await.ok(), json!([]));
}

#[tokio::test]
async fn a_missing_body_is_400() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let answer = api
        .send(Method::POST, "/stores", Some(&token), Body::None)
        .await;

    answer.invalid("payload", "payload");
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_400() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    for body in [json!([]), json!("name"), json!(3), json!(null)] {
        api.post("/charts", &token, body)
            .await
            .invalid("payload", "payload");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_creates_nothing() {
    let api = Api::start_with(Config::default().with_body_limit(1024)).await;
    let token = api.user("jane").await;
    let big = json!({ "name": "x", "thumbnail": "a".repeat(4096) });

    let answer = api.post("/flows", &token, big).await;

    answer.boom(413);
    assert_eq!(api.get("/flows/count", &token).await.ok()["count"], 0);
}

#[tokio::test]
async fn the_default_body_limit_accepts_a_large_descriptor() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let large = json!({ "name": "x", "thumbnail": "a".repeat(3 * 1024 * 1024) });

    let answer = api.post("/flows", &token, large).await;

    answer.ok();
}

#[tokio::test]
async fn base_url_names_the_local_address() {
    let api = Api::start().await;

    let addr = api.server.addr();

    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_eq!(
        api.server.base_url(),
        format!("http://127.0.0.1:{}", addr.port())
    );
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let server = appmixer_reference::spawn().await.unwrap();
    let addr = server.addr();

    server.shutdown().await;

    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn two_servers_keep_separate_state() {
    let first = Api::start().await;
    let second = Api::start().await;
    let token = first.user("jane").await;
    first.store(&token, "orders").await;

    let other = second.user("jane").await;

    assert_eq!(second.get("/stores", &other).await.ok(), json!([]));
}

#[tokio::test]
async fn a_body_over_the_default_sixteen_mebibytes_is_413() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let huge = json!({ "name": "x", "thumbnail": "a".repeat(17 * 1024 * 1024) });

    let answer = api.post("/flows", &token, huge).await;

    answer.boom(413);
    assert_eq!(api.get("/flows/count", &token).await.ok()["count"], 0);
}

#[tokio::test]
async fn a_long_path_within_hyper_s_limit_reaches_the_router_as_a_boom_404() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let path = format!("/{}", "a".repeat(60_000));

    let answer = api.get(&path, &token).await;

    answer.boom(404);
}

/// hyper refuses what it cannot parse before the router sees it, with an
/// empty body (see `server::serve`); the status still tells the client why.
#[tokio::test]
async fn requests_hyper_cannot_parse_are_refused_with_a_4xx_status() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let api = Api::start().await;
    let long = format!("/{}", "a".repeat(70_000));
    let cases = [("/flows?pattern=\"x\"", "400"), (long.as_str(), "414")];

    for (target, status) in cases {
        let mut stream = tokio::net::TcpStream::connect(api.server.addr())
            .await
            .unwrap();
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();

        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{target:.40}: {answer}"
        );
    }
}
