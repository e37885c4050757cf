//! Request extractors that refuse with Boom bodies.
//!
//! axum's own `Json`, `Path` and body extractors answer plain-text
//! rejections; these wrap the same work so that every refusal is an
//! [`ApiError`]: a body of the wrong media type is 415, one over the limit
//! 413, one that does not arrive within the body-read timeout 408,
//! malformed JSON 400, a missing or bad token 401.

use std::future::Future;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::errors::{ApiError, ApiResult, Source, kind};
use crate::state::SharedState;
use crate::users::{self, Caller};

/// The media type of a request, lowercased and without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = raw.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// Awaits `reading`, the collection of a request body, for at most
/// `timeout`; refuses with a 408 that closes the connection when it runs out.
///
/// hyper's header-read timeout ends with the request head, so without this
/// a client that announces a body and sends half of it holds its
/// connection and a task for as long as it likes.
pub async fn within_body_read_timeout<T>(
    timeout: Duration,
    reading: impl Future<Output = T>,
) -> ApiResult<T> {
    tokio::time::timeout(timeout, reading).await.map_err(|_| {
        ApiError::request_timeout(format!(
            "The request body did not arrive within {} seconds of the server starting to read it; \
             send the whole body promptly",
            timeout.as_secs_f64()
        ))
    })
}

/// A request body as bytes, with its media type; refuses bodies over the
/// limit and bodies that stall.
#[derive(Debug, Clone)]
pub struct RawBody {
    /// The body's media type, if the request named one.
    pub media_type: Option<String>,
    /// The body.
    pub bytes: Bytes,
}

impl FromRequest<SharedState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &SharedState) -> ApiResult<Self> {
        let media_type = media_type(request.headers());
        let reading = Bytes::from_request(request, state);
        let bytes = within_body_read_timeout(state.config.body_read_timeout, reading)
            .await?
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "Payload content length greater than maximum allowed: {} bytes",
                            state.config.body_limit
                        ),
                    )
                } else {
                    ApiError::bad_request(format!(
                        "The request body could not be read: {}",
                        rejection.body_text()
                    ))
                }
            })?;
        Ok(Self { media_type, bytes })
    }
}

/// A JSON request body of any shape.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Value);

impl FromRequest<SharedState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &SharedState) -> ApiResult<Self> {
        let unsupported = |got: &str| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("This operation takes `application/json` bodies, got `{got}`"),
            )
        };
        // Refuse a wrong media type before reading a possibly large body.
        if let Some(media_type) = media_type(request.headers())
            && !is_json(&media_type)
        {
            return Err(unsupported(&media_type));
        }
        let body = RawBody::from_request(request, state).await?;
        if body.bytes.is_empty() {
            return Err(ApiError::invalid(
                Source::Payload,
                "payload",
                "Request payload is required: send a JSON body with `Content-Type: application/json`",
            ));
        }
        if body.media_type.is_none() {
            return Err(unsupported("no Content-Type"));
        }
        serde_json::from_slice(&body.bytes)
            .map(JsonBody)
            .map_err(|error| {
                ApiError::bad_request(format!("Invalid request payload JSON format: {error}"))
            })
    }
}

/// A JSON request body that must be an object.
#[derive(Debug, Clone)]
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest<SharedState> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &SharedState) -> ApiResult<Self> {
        match JsonBody::from_request(request, state).await?.0 {
            Value::Object(object) => Ok(Self(object)),
            other => Err(ApiError::invalid(
                Source::Payload,
                "payload",
                format!(
                    "The request payload must be a JSON object, got {}",
                    kind(&other)
                ),
            )),
        }
    }
}

/// Path parameters, refused with a Boom 400 when they cannot be decoded.
#[derive(Debug, Clone)]
pub struct PathParams<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) if rejection.status().is_client_error() => Err(ApiError::invalid(
                Source::Params,
                "path",
                format!("The path could not be decoded: {}", rejection.body_text()),
            )),
            Err(rejection) => {
                tracing::error!(error = %rejection.body_text(), "path extraction failed");
                Err(ApiError::internal())
            }
        }
    }
}

/// The user a request's bearer token belongs to; refuses with 401 otherwise.
impl FromRequestParts<SharedState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> ApiResult<Self> {
        MaybeCaller::from_request_parts(parts, state)
            .await?
            .0
            .ok_or_else(|| ApiError::unauthorized("Missing authentication"))
    }
}

/// The caller when the request carries a token; a token that is present but
/// not valid is still refused with 401.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<SharedState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> ApiResult<Self> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Self(None));
        };
        users::caller_from_header(state, header).map(|caller| Self(Some(caller)))
    }
}
