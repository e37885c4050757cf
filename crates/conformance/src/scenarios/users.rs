//! Users: who the token belongs to, logging in, and signing up.
//!
//! `getUser` must name the signed-in user and refuse a call without a token;
//! `authenticateUser` must answer the user and a token, 403 for a user that
//! does not exist and, for the run's own user, 401 for a wrong password. A
//! duplicate `signupUser` of the run's user must be refused with a 4xx: in
//! credentials mode that is the only sign-up sent, so nothing is created on
//! a live server. With `--token` the run knows no password: the log-in as
//! the run's user and the duplicate sign-up are not applicable and noted as
//! such; the unknown user's log-in is still checked.

use serde_json::{Value, json};

use crate::checks::{CheckKind, Unchecked};
use crate::session::{Session, StatusRule, Step};
use crate::target::TOKEN_MODE;
use crate::transport::Call;

/// The expectations that need the run user's password, not made in token
/// mode, each with its operation.
const NEED_PASSWORD: [(&str, &str); 4] = [
    ("authenticateUser", "users.auth-succeeds"),
    ("authenticateUser", "users.auth-answers-user"),
    ("authenticateUser", "users.auth-answers-token"),
    ("signupUser", "users.duplicate-signup-refused"),
];

/// Checks `getUser`, `authenticateUser` and a duplicate `signupUser`.
pub async fn run(s: &mut Session) -> Step<()> {
    let Some(user) = s.user.clone() else {
        return Ok(());
    };

    let exchange = s.call(Call::new("getUser")).await?;
    let body = s.require_success("getUser", "users.get-user-succeeds", &exchange)?;
    s.expect_json(
        "getUser",
        "users.get-user-is-caller",
        Some(&exchange),
        &json!(user.username),
        body.get("username"),
    );
    if let Some(email) = body.get("email").and_then(Value::as_str)
        && let Some(known) = s.user.as_mut()
    {
        known.email = email.to_string();
    }

    let anonymous = s.call(Call::new("getUser").without_token()).await?;
    s.expect_status(
        "getUser",
        "users.get-user-needs-token",
        &anonymous,
        StatusRule::Exactly(401),
    );

    if user.by_token {
        for (operation, expectation) in NEED_PASSWORD {
            s.results.record_unchecked(Unchecked {
                operation: operation.into(),
                kind: CheckKind::Semantics,
                expectation: expectation.into(),
                reason: format!("not applicable: {TOKEN_MODE}"),
            });
        }
    } else {
        log_in_as_run_user(s, &user.username, &user.password).await?;
    }

    let nobody = format!("{}-nobody@example.com", s.tag);
    let unknown = s
        .call(Call::new("authenticateUser").body(json!({
            "username": nobody,
            "password": "not-a-password",
        })))
        .await?;
    s.expect_status(
        "authenticateUser",
        "users.unknown-user-auth-is-403",
        &unknown,
        StatusRule::Exactly(403),
    );

    // Only for the run's own user: a wrong password against a real account
    // could count towards a lock-out.
    if user.signed_up {
        let wrong = s
            .call(Call::new("authenticateUser").body(json!({
                "username": user.username,
                "password": format!("{}-wrong", user.password),
            })))
            .await?;
        s.expect_status(
            "authenticateUser",
            "users.wrong-password-is-401",
            &wrong,
            StatusRule::Exactly(401),
        );
    }

    if user.by_token {
        return Ok(());
    }
    // The same password: should a server wrongly accept the duplicate and
    // replace the user, the operator's credentials still work.
    let duplicate = s
        .call(Call::new("signupUser").body(json!({
            "username": user.username,
            "password": user.password,
        })))
        .await?;
    s.expect_status(
        "signupUser",
        "users.duplicate-signup-refused",
        &duplicate,
        StatusRule::ClientError,
    );
    Ok(())
}

/// Logs in as the run's user and expects the user and a token back.
async fn log_in_as_run_user(s: &mut Session, username: &str, password: &str) -> Step<()> {
    let login = s
        .call(Call::new("authenticateUser").body(json!({
            "username": username,
            "password": password,
        })))
        .await?;
    let body = s.require_success("authenticateUser", "users.auth-succeeds", &login)?;
    s.expect_json(
        "authenticateUser",
        "users.auth-answers-user",
        Some(&login),
        &json!(username),
        body.pointer("/user/username"),
    );
    let has_token = body
        .get("token")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    s.expect(
        "authenticateUser",
        "users.auth-answers-token",
        Some(&login),
        has_token,
        || "a non-empty `token`".into(),
        || "no token".into(),
    );
    Ok(())
}
