//! Boom error bodies, built in one place.
//!
//! Every refusal the server makes, whatever its cause (a handler's rule, an
//! extractor's rejection, an unknown route, a panic), leaves through
//! [`ApiError`], so clients always see Appmixer's Boom shape:
//! `{"statusCode", "error", "message"}`, plus `"validation"` when the request
//! itself failed validation.

use axum::Json;
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// The result of a handler or extractor: a value or a Boom error.
pub type ApiResult<T> = Result<T, ApiError>;

/// Which part of the request failed validation, as Boom's `validation.source` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The request body.
    Payload,
    /// The query string.
    Query,
    /// The path parameters.
    Params,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Payload => "payload",
            Source::Query => "query",
            Source::Params => "params",
        }
    }
}

/// A refused request: its status, a message saying what is wrong, and for
/// validation failures the part of the request and the keys at fault.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    status: StatusCode,
    message: String,
    validation: Option<(Source, Vec<String>)>,
    /// Whether the answer ends the connection: after a request whose body
    /// was not read whole, the next bytes on it are no request head.
    closes_connection: bool,
}

impl ApiError {
    /// An error with any status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            validation: None,
            closes_connection: false,
        }
    }

    /// A 400 that names the part of the request and the key that failed validation.
    pub fn invalid(source: Source, key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            validation: Some((source, vec![key.into()])),
            closes_connection: false,
        }
    }

    /// A 400 without validation details.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// A 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// A 404 for a thing that does not exist or is not the caller's: "Flow not found.".
    pub fn not_found(thing: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{thing} not found."))
    }

    /// A 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// A 408 that closes the connection, for a request body that did not
    /// arrive in time.
    pub fn request_timeout(message: impl Into<String>) -> Self {
        Self {
            closes_connection: true,
            ..Self::new(StatusCode::REQUEST_TIMEOUT, message)
        }
    }

    /// A 500 with Boom's default message; the cause is logged, never sent.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal server error occurred",
        )
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The Boom body of this error.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("statusCode".into(), self.status.as_u16().into());
        let reason = self.status.canonical_reason().unwrap_or("Unknown");
        body.insert("error".into(), reason.into());
        body.insert("message".into(), self.message.clone().into());
        if let Some((source, keys)) = &self.validation {
            let mut validation = Map::new();
            validation.insert("source".into(), source.as_str().into());
            validation.insert("keys".into(), keys.clone().into());
            body.insert("validation".into(), validation.into());
        }
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::debug!(status = self.status.as_u16(), message = %self.message, "refused");
        let mut response = (self.status, Json(self.body())).into_response();
        if self.closes_connection {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// What kind of JSON value `value` is, for messages ("got a number").
///
/// Messages name the kind rather than echo the value, because the value may
/// be a password, a token or a secret.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
