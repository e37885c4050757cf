//! Users: sign-up, log-in, the current user, and the tokens that name them.
//!
//! Tokens are HS256 JWTs carrying `{id, scope: ["user"], iat, exp}`, signed
//! with the server's secret. Every other area learns who is calling from
//! [`Caller`], which the extractors build from the `Authorization: Bearer`
//! header through [`caller_from_header`]. Passwords are kept only as a
//! salted SHA-256 digest and are never logged or echoed. Usernames, e-mails
//! and passwords have a length bound, so that a sign-up cannot make the
//! server keep megabytes per user.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::errors::{ApiError, ApiResult};
use crate::extractors::JsonObject;
use crate::ids;
use crate::payload::{Fields, missing};
use crate::state::{SharedState, read, write};

const INVALID_TOKEN: &str = "Invalid JWT: key or signature is invalid";

/// The longest username and e-mail, in characters, as `signupUser` in the
/// spec states (and `Signup.username` declares as its `maxLength`).
const MAX_LOGIN: usize = 256;

/// The longest password, in characters, as `Signup.password` declares.
const MAX_PASSWORD: usize = 1024;

/// The routes of this area.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/user", get(get_user).post(signup_user))
        .route("/user/auth", post(authenticate_user))
}

/// The keys that sign and check tokens, derived once from the secret.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Keys {
    /// Keys for HS256 with `secret`.
    ///
    /// # Panics
    ///
    /// When `secret` is empty: HS256 has no empty key.
    pub fn new(secret: &[u8]) -> Self {
        const EMPTY: &str =
            "`Config::jwt_secret` must not be empty; leave the default or give a key";
        Self {
            encoding: EncodingKey::from_secret(secret).expect(EMPTY),
            decoding: DecodingKey::from_secret(secret).expect(EMPTY),
        }
    }
}

/// The payload of a token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    id: String,
    scope: Vec<String>,
    iat: i64,
    exp: i64,
}

/// Every user of the server, keyed by id.
#[derive(Default)]
pub struct Users {
    by_id: HashMap<String, User>,
}

struct User {
    id: String,
    username: String,
    email: String,
    metadata: Option<Map<String, Value>>,
    salt: [u8; 16],
    password_hash: Vec<u8>,
}

impl Users {
    /// The user whose username or e-mail is `login`.
    fn find_by_login(&self, login: &str) -> Option<&User> {
        self.by_id
            .values()
            .find(|user| user.username == login || user.email == login)
    }

    /// Whether a user's username or e-mail is `login`.
    pub fn has_login(&self, login: &str) -> bool {
        self.find_by_login(login).is_some()
    }

    /// Whether user `user_id` exists.
    pub fn contains(&self, user_id: &str) -> bool {
        self.by_id.contains_key(user_id)
    }

    /// Adds a user without checking that the login is free, and returns its id.
    pub fn add(
        &mut self,
        username: &str,
        email: &str,
        password: &str,
        metadata: Option<Map<String, Value>>,
    ) -> String {
        let salt: [u8; 16] = rand::rng().random();
        let user = User {
            id: ids::object_id(),
            username: username.to_owned(),
            email: email.to_owned(),
            metadata,
            password_hash: hash_password(&salt, password),
            salt,
        };
        let id = user.id.clone();
        self.by_id.insert(id.clone(), user);
        id
    }
}

/// The authenticated user a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user's id (24 hex digits).
    pub id: String,
    /// The user's username.
    pub username: String,
    /// The user's e-mail, which names them as a people-task party and in `sharedWith`.
    pub email: String,
}

/// The caller named by an `Authorization` header: 401 when it is not a
/// bearer token, or when the token is malformed, forged, expired or names no user.
pub fn caller_from_header(state: &SharedState, header: &HeaderValue) -> ApiResult<Caller> {
    let token = header
        .to_str()
        .ok()
        .and_then(bearer_token)
        .ok_or_else(|| ApiError::unauthorized("Missing authentication"))?;
    let user_id = verify_token(state, token)?;
    let users = read(&state.users);
    let user = users
        .by_id
        .get(&user_id)
        .ok_or_else(|| ApiError::unauthorized(INVALID_TOKEN))?;
    Ok(Caller {
        id: user.id.clone(),
        username: user.username.clone(),
        email: user.email.clone(),
    })
}

/// The token of an `Authorization` value that uses the bearer scheme.
///
/// Auth schemes are case-insensitive (RFC 7235), so `bearer` and `BEARER`
/// are the same scheme; the token follows after at least one space.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The user id a token names, if the token is genuine and not expired.
fn verify_token(state: &SharedState, token: &str) -> ApiResult<String> {
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is exact: a token is refused from the second its `exp` names.
    validation.leeway = 0;
    match jsonwebtoken::decode::<Claims>(token, &state.keys.decoding, &validation) {
        Ok(data) => Ok(data.claims.id),
        Err(error) if matches!(error.kind(), ErrorKind::ExpiredSignature) => {
            Err(ApiError::unauthorized("Token expired"))
        }
        Err(_) => Err(ApiError::unauthorized(INVALID_TOKEN)),
    }
}

/// A fresh token for `user_id`, valid for the configured lifetime.
pub fn issue_token(state: &SharedState, user_id: &str) -> ApiResult<String> {
    let issued = state.clock.now().timestamp();
    let lifetime = i64::try_from(state.config.token_lifetime.as_secs()).unwrap_or(i64::MAX);
    let claims = Claims {
        id: user_id.to_owned(),
        scope: vec!["user".to_owned()],
        iat: issued,
        exp: issued.saturating_add(lifetime),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &state.keys.encoding,
    )
    .map_err(|error| {
        tracing::error!(%error, "signing a token failed");
        ApiError::internal()
    })
}

fn hash_password(salt: &[u8], password: &str) -> Vec<u8> {
    Sha256::new()
        .chain_update(salt)
        .chain_update(password.as_bytes())
        .finalize()
        .to_vec()
}

/// The user as `getUser` and `authenticateUser` answer it.
fn user_document(user: &User) -> Value {
    let mut document = json!({
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "isActive": true,
        "scope": ["user"],
        "plan": "free",
    });
    if let (Some(metadata), Value::Object(fields)) = (&user.metadata, &mut document) {
        fields.insert("metadata".into(), Value::Object(metadata.clone()));
    }
    document
}

/// `POST /user`: creates a user and answers 201 with a token.
async fn signup_user(
    State(state): State<SharedState>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let fields = Fields::new(&body);
    let username = fields.non_empty_string("username")?;
    let password = fields.non_empty_string("password")?;
    let email = match fields.string("email")? {
        Some(_) => fields.non_empty_string("email")?,
        None => username,
    };
    fields.at_most("username", username, MAX_LOGIN)?;
    fields.at_most("email", email, MAX_LOGIN)?;
    fields.at_most("password", password, MAX_PASSWORD)?;
    let metadata = fields.object("metadata")?.cloned();

    let user_id = {
        let mut users = write(&state.users);
        for login in [username, email] {
            if users.find_by_login(login).is_some() {
                return Err(ApiError::conflict(format!(
                    "A user with the username or e-mail `{login}` already exists; \
                     log in with `POST /user/auth` instead"
                )));
            }
        }
        users.add(username, email, password, metadata)
    };
    tracing::debug!(user_id = %user_id, "user signed up");

    let token = issue_token(&state, &user_id)?;
    Ok((StatusCode::CREATED, Json(json!({ "token": token }))))
}

/// `POST /user/auth`: exchanges a username (or e-mail) and password for a token.
async fn authenticate_user(
    State(state): State<SharedState>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let fields = Fields::new(&body);
    let username = fields.string("username")?;
    let email = fields.string("email")?;
    let password = fields.required_string("password")?;
    let login = username.or(email).ok_or_else(|| missing("username"))?;

    let (user_id, document) = {
        let users = read(&state.users);
        let user = users.find_by_login(login).ok_or_else(|| {
            ApiError::forbidden(format!(
                "User `{login}` does not exist; sign up with `POST /user` first"
            ))
        })?;
        if hash_password(&user.salt, password) != user.password_hash {
            return Err(ApiError::unauthorized(format!(
                "Wrong password for user `{login}`"
            )));
        }
        (user.id.clone(), user_document(user))
    };

    let token = issue_token(&state, &user_id)?;
    Ok(Json(json!({ "user": document, "token": token })))
}

/// `GET /user`: the user the token belongs to.
async fn get_user(State(state): State<SharedState>, caller: Caller) -> ApiResult<Json<Value>> {
    let users = read(&state.users);
    let user = users
        .by_id
        .get(&caller.id)
        .ok_or_else(|| ApiError::unauthorized(INVALID_TOKEN))?;
    Ok(Json(user_document(user)))
}
