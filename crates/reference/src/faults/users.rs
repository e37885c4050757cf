//! Faults of users and tokens: a duplicate sign-up, forged tokens.

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::Fault;
use super::layer::{Answer, Call, Chain, Ctx};
use crate::state::{read, write};
use crate::users;

/// Whether `fault`, one of this area's, may change a request to `method` `path`.
pub fn applies(fault: Fault, method: &Method, path: &str) -> bool {
    match fault {
        Fault::DuplicateSignupAccepted => method == Method::POST && path == "/user",
        // Every operation that takes a token.
        Fault::ForgedTokenAccepted => true,
        _ => false,
    }
}

/// Handles `call` with `fault`, one of this area's, switched on.
pub async fn apply(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    match fault {
        Fault::DuplicateSignupAccepted => duplicate_signup(fault, ctx, call, inner).await,
        Fault::ForgedTokenAccepted => forged_token(fault, ctx, call, inner).await,
        _ => inner.run(call).await,
    }
}

/// Signs a duplicate up as a second user instead of answering 409.
async fn duplicate_signup(fault: Fault, ctx: &Ctx<'_>, call: Call, inner: Chain<'_>) -> Answer {
    let Some(body) = call.json_object() else {
        return inner.run(call).await;
    };
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    };
    let (Some(username), Some(password)) = (text("username"), text("password")) else {
        return inner.run(call).await;
    };
    let email = text("email").unwrap_or(username);
    let duplicate = {
        let mut users = write(&ctx.app().users);
        (users.has_login(username) || users.has_login(email)).then(|| {
            let metadata = body.get("metadata").and_then(Value::as_object).cloned();
            users.add(username, email, password, metadata)
        })
    };
    let Some(user_id) = duplicate else {
        return inner.run(call).await;
    };
    match users::issue_token(ctx.app(), &user_id) {
        Ok(token) => {
            ctx.fired(fault);
            Answer::json(StatusCode::CREATED, &json!({ "token": token }))
        }
        Err(error) => Answer::error(&error),
    }
}

/// Swaps a token the server's key did not sign for a genuine one of the user
/// its `id` claim names.
async fn forged_token(fault: Fault, ctx: &Ctx<'_>, mut call: Call, inner: Chain<'_>) -> Answer {
    let forged_for = call
        .bearer()
        .filter(|_| call.caller(ctx.app()).is_none())
        .and_then(unverified_user_id)
        .filter(|user_id| read(&ctx.app().users).contains(user_id));
    let Some(user_id) = forged_for else {
        return inner.run(call).await;
    };
    if !ctx.act_as(&mut call, &user_id) {
        return inner.run(call).await;
    }
    let answer = inner.run(call).await;
    ctx.fired(fault);
    answer
}

/// The `id` claim of a JWT, read without checking its signature.
fn unverified_user_id(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("id")?.as_str().map(str::to_owned)
}
