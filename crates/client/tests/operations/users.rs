//! Users: `authenticateUser`, `getUser`, `signupUser`.

use appmixer_client::types;
use serde_json::json;

use crate::{Call, call, common};

pub fn calls() -> Vec<Call> {
    vec![
        call!(public "authenticateUser", POST "/user/auth", |c| c
            .authenticate_user()
            .body(types::Credentials::builder()
                .username(Some(String::from("jane")))
                .password("pw"))),
        call!("getUser", GET "/user", |c| c.get_user()),
        call!(public "signupUser", POST "/user", |c| c
            .signup_user()
            .body(types::Signup::builder().username("jane").password("pw"))),
    ]
}

#[tokio::test]
async fn authenticate_user_posts_credentials_without_a_token_and_decodes_the_user() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/user/auth")
                .header("content-type", "application/json")
                .header_missing("authorization")
                .json_body(json!({"username": "jane@example.com", "password": "pw"}));
            then.status(200).json_body(json!({
                "user": {"id": "5c6fc9932ff3ff000747ead4", "username": "jane@example.com",
                         "isActive": true, "plan": "free"},
                "token": "new-token"
            }));
        })
        .await;
    let client = common::client(&server);

    let answer = client
        .authenticate_user()
        .body(
            types::Credentials::builder()
                .username(Some(String::from("jane@example.com")))
                .password("pw"),
        )
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(answer.token, "new-token");
    assert_eq!(answer.user.id, "5c6fc9932ff3ff000747ead4");
    assert_eq!(answer.user.is_active, Some(true));
}

#[tokio::test]
async fn get_user_decodes_the_user() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path("/user")
                .header("authorization", common::bearer());
            then.status(200).json_body(json!({
                "id": "5c6fc9932ff3ff000747ead4", "username": "jane@example.com",
                "email": "jane@example.com", "scope": ["user"], "metadata": {"team": "ops"}
            }));
        })
        .await;
    let client = common::client(&server);

    let user = client.get_user().send().await.unwrap().into_inner();

    mock.assert_async().await;
    assert_eq!(user.username, "jane@example.com");
    assert_eq!(user.scope, ["user"]);
    assert_eq!(user.metadata["team"], "ops");
}

async fn signup_answered_with(status: u16) -> types::SignupResult {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/user")
                .header_missing("authorization")
                .json_body(
                    json!({"username": "joe", "email": "joe@example.com", "password": "pw"}),
                );
            then.status(status).json_body(json!({"token": "joe-token"}));
        })
        .await;
    let client = common::client(&server);

    let answer = client
        .signup_user()
        .body(
            types::Signup::builder()
                .username("joe")
                .email(Some(
                    types::SignupEmail::try_from("joe@example.com").unwrap(),
                ))
                .password("pw"),
        )
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(answer.status().as_u16(), status);
    answer.into_inner()
}

#[tokio::test]
async fn signup_user_accepts_200() {
    assert_eq!(signup_answered_with(200).await.token, "joe-token");
}

#[tokio::test]
async fn signup_user_accepts_201() {
    assert_eq!(signup_answered_with(201).await.token, "joe-token");
}

#[tokio::test]
async fn signup_user_rejects_an_empty_username_before_sending() {
    let server = common::engine().await;
    let client = common::client(&server);

    let error = client
        .signup_user()
        .body(types::Signup::builder().username("").password("pw"))
        .send()
        .await
        .unwrap_err();

    assert!(
        matches!(error, appmixer_client::Error::InvalidRequest(_)),
        "{error}"
    );
}
