//! Users and tokens: sign-up, log-in, the current user, and how a request
//! without a valid token is refused.

mod common;

use appmixer_reference::Config;
use common::{Api, Body};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::json;

async fn signup(api: &Api, body: serde_json::Value) -> common::Answer {
    api.send(Method::POST, "/user", None, Body::Json(body))
        .await
}

async fn login(api: &Api, body: serde_json::Value) -> common::Answer {
    api.send(Method::POST, "/user/auth", None, Body::Json(body))
        .await
}

#[tokio::test]
async fn signup_answers_201_with_a_token_that_names_the_user() {
    let api = Api::start().await;

    let answer = signup(&api, json!({ "username": "jane", "password": "pw" })).await;

    assert_eq!(answer.status, 201);
    let token = answer.body["token"].as_str().unwrap();
    let user = api.get("/user", token).await.ok();
    assert_eq!(user["username"], "jane");
    assert_eq!(user["email"], "jane", "email defaults to the username");
    assert_eq!(user["isActive"], true);
    assert_eq!(user["scope"], json!(["user"]));
    assert_eq!(user["plan"], "free");
    let id = user["id"].as_str().unwrap();
    assert_eq!(id.len(), 24);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
}

#[tokio::test]
async fn signup_keeps_email_and_metadata() {
    let api = Api::start().await;

    let answer = signup(
        &api,
        json!({ "username": "jane", "password": "pw", "email": "jane@example.com",
                "metadata": { "plan": "gold" } }),
    )
    .await;

    let user = api
        .get("/user", answer.body["token"].as_str().unwrap())
        .await
        .ok();
    assert_eq!(user["email"], "jane@example.com");
    assert_eq!(user["metadata"], json!({ "plan": "gold" }));
}

#[tokio::test]
async fn signup_of_an_existing_username_is_a_conflict() {
    let api = Api::start().await;
    api.user("jane").await;

    let answer = signup(&api, json!({ "username": "jane", "password": "other" })).await;

    answer.boom(409);
    let still = login(
        &api,
        json!({ "username": "jane", "password": "secret-password" }),
    )
    .await;
    assert_eq!(still.status, 200, "the first user's password is unchanged");
}

#[tokio::test]
async fn signup_without_password_or_with_wrong_types_is_refused() {
    let api = Api::start().await;

    signup(&api, json!({ "username": "jane" }))
        .await
        .invalid("payload", "password");
    signup(&api, json!({ "username": 7, "password": "pw" }))
        .await
        .invalid("payload", "username");
    signup(&api, json!({ "username": "", "password": "pw" }))
        .await
        .invalid("payload", "username");
    signup(
        &api,
        json!({ "username": "jane", "password": "pw", "metadata": [] }),
    )
    .await
    .invalid("payload", "metadata");

    let answer = login(&api, json!({ "username": "jane", "password": "pw" })).await;
    answer.boom(403);
}

#[tokio::test]
async fn login_by_username_or_email_answers_the_user_and_a_token() {
    let api = Api::start().await;
    signup(
        &api,
        json!({ "username": "jane", "email": "jane@example.com", "password": "pw" }),
    )
    .await;

    let by_name = login(&api, json!({ "username": "jane", "password": "pw" }))
        .await
        .ok();
    let by_email = login(
        &api,
        json!({ "email": "jane@example.com", "password": "pw" }),
    )
    .await
    .ok();

    assert_eq!(by_name["user"]["username"], "jane");
    assert_eq!(by_email["user"]["id"], by_name["user"]["id"]);
    let user = api
        .get("/user", by_email["token"].as_str().unwrap())
        .await
        .ok();
    assert_eq!(user, by_name["user"]);
}

#[tokio::test]
async fn login_of_an_unknown_user_is_403_and_a_wrong_password_401() {
    let api = Api::start().await;
    api.user("jane").await;

    login(&api, json!({ "username": "joe", "password": "pw" }))
        .await
        .boom(403);
    login(&api, json!({ "username": "jane", "password": "wrong" }))
        .await
        .boom(401);
}

#[tokio::test]
async fn a_refused_password_is_never_echoed() {
    let api = Api::start().await;
    api.user("jane").await;

    let wrong = login(
        &api,
        json!({ "username": "jane", "password": "hunter2-guess" }),
    )
    .await;
    let mistyped = signup(&api, json!({ "username": "joe", "password": 12345 })).await;

    assert!(!wrong.text.contains("hunter2-guess"));
    assert!(!mistyped.text.contains("12345"));
}

#[tokio::test]
async fn a_request_without_a_token_is_401_missing_authentication() {
    let api = Api::start().await;

    let answer = api.send(Method::GET, "/flows", None, Body::None).await;

    assert_eq!(answer.boom(401), "Missing authentication");
}

#[tokio::test]
async fn a_malformed_or_forged_token_is_401_invalid_jwt() {
    let api = Api::start().await;
    let other = Api::start().await;
    let foreign = other.user("jane").await;
    api.user("jane").await;

    for token in ["not-a-jwt", "a.b.c", foreign.as_str()] {
        let answer = api.get("/user", token).await;
        assert_eq!(answer.boom(401), "Invalid JWT: key or signature is invalid");
    }
}

#[tokio::test]
async fn an_expired_token_is_401_token_expired() {
    let secret = b"a-known-test-secret".to_vec();
    let api = Api::start_with(Config::default().with_jwt_secret(secret.clone())).await;
    let token = api.user("jane").await;
    let id = api.get("/user", &token).await.ok()["id"].clone();
    let claims = json!({ "id": id, "scope": ["user"], "iat": 1_000_000_000, "exp": 1_000_000_060 });
    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&secret).unwrap(),
    )
    .unwrap();

    let answer = api.get("/user", &expired).await;

    assert_eq!(answer.boom(401), "Token expired");
}

#[tokio::test]
async fn a_token_carries_id_scope_and_a_thirty_day_lifetime() {
    let secret = b"another-known-secret".to_vec();
    let api = Api::start_with(Config::default().with_jwt_secret(secret.clone())).await;
    let token = api.user("jane").await;

    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(&secret).unwrap(),
        &validation,
    )
    .unwrap();

    let claims = data.claims;
    assert_eq!(claims["scope"], json!(["user"]));
    assert_eq!(claims["id"], api.get("/user", &token).await.ok()["id"]);
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 30 * 24 * 60 * 60);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let url = format!("{}/user", api.server.base_url());

    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let answer = api
            .client
            .get(&url)
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();

        assert_eq!(answer.status(), 200, "scheme `{scheme}`");
    }
}

#[tokio::test]
async fn a_scheme_other_than_bearer_is_401_missing_authentication() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let url = format!("{}/user", api.server.base_url());

    for header in [
        format!("Basic {token}"),
        format!("Bearer{token}"),
        "Bearer ".into(),
    ] {
        let answer = api
            .client
            .get(&url)
            .header("authorization", header.as_str())
            .send()
            .await
            .unwrap();

        assert_eq!(answer.status(), 401, "`{header}`");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["message"], "Missing authentication", "`{header}`");
    }
}

#[tokio::test]
async fn signup_refuses_an_overlong_username_email_or_password_by_name_and_limit() {
    let api = Api::start().await;
    let cases = [
        (
            "username",
            256,
            json!({ "username": "u".repeat(257), "password": "pw" }),
        ),
        (
            "email",
            256,
            json!({ "username": "jane", "email": "e".repeat(257), "password": "pw" }),
        ),
        (
            "password",
            1024,
            json!({ "username": "jane", "password": "p".repeat(1025) }),
        ),
    ];

    for (field, limit, body) in cases {
        let message = signup(&api, body).await.invalid("payload", field);

        assert!(message.contains(field), "{message}");
        assert!(message.contains(&limit.to_string()), "{message}");
    }
    login(&api, json!({ "username": "jane", "password": "pw" }))
        .await
        .boom(403);
}

#[tokio::test]
async fn signup_accepts_a_username_email_and_password_at_their_limits() {
    let api = Api::start().await;
    // Limits count characters, as JSON Schema's `maxLength` does, not bytes.
    let username = "𝄞".repeat(256);
    let email = "é".repeat(256);
    let password = "p".repeat(1024);

    let answer = signup(
        &api,
        json!({ "username": username, "email": email, "password": password }),
    )
    .await;

    assert_eq!(answer.status, 201, "{answer:?}");
    login(&api, json!({ "username": username, "password": password }))
        .await
        .ok();
}

#[tokio::test]
async fn a_megabyte_username_is_refused_without_being_echoed() {
    let api = Api::start().await;
    let username = "x".repeat(1024 * 1024);

    let answer = signup(&api, json!({ "username": username, "password": "pw" })).await;

    answer.invalid("payload", "username");
    assert!(answer.text.len() < 1024, "{} bytes", answer.text.len());
}
