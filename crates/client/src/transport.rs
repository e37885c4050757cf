//! How every request leaves the client: token, retries, re-login, tracing.
//!
//! The generated builders hand each request to `ClientHooks::exec`, which this
//! module implements for `Client` (not `&Client`), so that progenitor's
//! auto-ref specialisation picks it over the generated no-op. Per request it
//! removes progenitor's `api-version` header, sets the bearer token unless the
//! operation is public, sends, retries by the [`RetryPolicy`](crate::RetryPolicy), and on a 401 to
//! a request that carried a token logs in again once and resends (that resend
//! is not a retry and is made whatever the policy, but counts as an attempt).
//!
//! Each request runs in one `appmixer.request` span with the fields
//! `operation`, `method` and `path` (without the query string, which may carry
//! a people-task secret), and, recorded once when the request is done,
//! `status` (of the last answer), `attempts` and `latency_ms` (of the whole
//! request, waits between retries included). Each attempt runs in a child
//! `appmixer.attempt` span with its `attempt` number, and its response (or
//! failure) is a debug event with the attempt's own `status` and
//! `latency_ms`. Neither headers nor bodies are logged.
//!
//! The body of the response handed back is limited to the session's
//! `max_body_size`: reading more fails with [`BodyTooLarge`], so that a
//! runaway or hostile server cannot make the client hold gigabytes.

use std::fmt;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::{Method, Request, Response, StatusCode};
use tracing::Instrument;
use tracing::field::Empty;

use crate::error::TransportKind;
use crate::{Client, Secret, Session, auth};

impl ClientHooks<Session> for Client {
    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        execute(self, request, info.operation_id).await
    }
}

/// Whether `operation` (progenitor's snake_case id) is sent without a token:
/// the spec gives it `security: []`.
fn is_public(operation: &str) -> bool {
    crate::generated::PUBLIC_OPERATIONS.contains(&operation)
}

/// Sends `request` for `operation` with the session's token, retrying and
/// logging in again as the module docs describe.
pub(crate) async fn execute(
    client: &Client,
    mut request: Request,
    operation: &'static str,
) -> reqwest::Result<Response> {
    // progenitor sends the spec's version as `api-version`; Appmixer engines
    // do not read it, and the SDK does not send it.
    request.headers_mut().remove("api-version");

    let method = request.method().clone();
    let span = tracing::debug_span!(
        "appmixer.request",
        operation,
        method = %method,
        path = %request.url().path(),
        status = Empty,
        attempts = Empty,
        latency_ms = Empty,
    );
    let limit = client.session().max_body_size();
    let started = Instant::now();

    let (outcome, attempts) = send_with_retries(client, request, operation, method)
        .instrument(span.clone())
        .await;

    // Recorded here, once: a field recorded again per attempt is appended
    // again by most subscribers, and the span would list every attempt's.
    span.record("attempts", attempts);
    span.record("latency_ms", millis(started.elapsed()));
    if let Ok(response) = &outcome {
        span.record("status", response.status().as_u16());
    }
    outcome
        .map(|response| limit_body(response, limit))
        .map_err(without_query)
}

/// A response body was larger than the client reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the response body is larger than the client's limit of {limit} bytes{declared}; \
     if the server is right to send that much, raise the limit with \
     `ClientBuilder::max_body_size`",
    declared = Declared(*.declared)
)]
pub struct BodyTooLarge {
    /// The limit, in bytes.
    pub limit: u64,
    /// The size the server announced in `Content-Length`, when it did.
    pub declared: Option<u64>,
}

/// `Content-Length`, when known, for [`BodyTooLarge`]'s message.
struct Declared(Option<u64>);

impl fmt::Display for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(bytes) => write!(f, " (it announced {bytes} bytes)"),
            None => Ok(()),
        }
    }
}

/// `response` with a body that fails with [`BodyTooLarge`] after `limit`
/// bytes, or at once when its `Content-Length` is larger already.
fn limit_body(response: Response, limit: u64) -> Response {
    let url = response.url().clone();
    let declared = response.content_length();
    let (mut parts, body) = http::Response::from(response).into_parts();
    let too_large = BodyTooLarge { limit, declared };

    let body = if declared.is_some_and(|bytes| bytes > limit) {
        // Failing before reading spares the download; the connection is
        // dropped with the body.
        drop(body);
        reqwest::Body::wrap_stream(futures::stream::once(async move {
            Err::<bytes::Bytes, _>(too_large)
        }))
    } else {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let limited = http_body_util::Limited::new(body, limit);
        reqwest::Body::wrap(http_body_util::BodyExt::map_err(
            limited,
            move |error| -> Box<dyn std::error::Error + Send + Sync> {
                if error.is::<http_body_util::LengthLimitError>() {
                    Box::new(too_large.clone())
                } else {
                    error
                }
            },
        ))
    };

    // Converting drops the URL `reqwest` keeps next to the response; it goes
    // back in through the extension `reqwest` reads it from.
    use reqwest::ResponseBuilderExt;
    if let Ok(carrier) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(carrier.into_parts().0.extensions);
    }
    Response::from(http::Response::from_parts(parts, body))
}

/// Sends `request` until the retry policy and the re-login are done with it;
/// returns the last outcome and how many attempts it took.
async fn send_with_retries(
    client: &Client,
    mut request: Request,
    operation: &'static str,
    method: Method,
) -> (reqwest::Result<Response>, u32) {
    let session = client.session();
    let policy = session.retry_policy();
    let public = is_public(operation);
    // Kept to send the request again; a streaming body cannot be copied, and
    // such a request is sent once.
    let template = request.try_clone();
    let started = Instant::now();
    let mut attempt = 0u32;
    let mut logged_in_again = false;

    loop {
        attempt += 1;
        let token = if public {
            None
        } else {
            session.authorize(&mut request)
        };

        let attempt_span = tracing::debug_span!("appmixer.attempt", attempt);
        let sent = Instant::now();
        let outcome = client
            .client()
            .execute(request)
            .instrument(attempt_span.clone())
            .await;
        let latency_ms = millis(sent.elapsed());
        attempt_span.in_scope(|| match &outcome {
            Ok(response) => {
                let status = response.status().as_u16();
                tracing::debug!(status, latency_ms, "response");
            }
            Err(error) => {
                tracing::debug!(error = %describe(error), latency_ms, "no response");
            }
        });
        let mut copy = template.as_ref().and_then(Request::try_clone);

        let refused =
            matches!(&outcome, Ok(response) if response.status() == StatusCode::UNAUTHORIZED);
        if refused
            && !logged_in_again
            && session.can_log_in_again()
            && let Some(stale) = &token
            && let Some(resend) = copy.take()
        {
            logged_in_again = true;
            if log_in_again(client, stale).await {
                request = resend;
                continue;
            }
            return (outcome, attempt);
        }

        let delay = policy.next_delay(&method, &outcome, attempt, started.elapsed());
        let (Some(delay), Some(copy)) = (delay, copy) else {
            return (outcome, attempt);
        };
        tracing::debug!(delay_ms = millis(delay), attempt, "retrying");
        // The response, if any, is dropped before waiting so that its
        // connection goes back to the pool.
        drop(outcome);
        tokio::time::sleep(delay).await;
        request = copy;
    }
}

/// Replaces the session's token after a 401 to a request sent with `stale`;
/// resolves to whether the request should be sent again.
///
/// Requests rejected at the same time wait for one login: whoever comes after
/// it finds a token other than the stale one and just resends. The login goes
/// through the generated `authenticate_user`, and so through this module
/// again; the boxed future, a named type, is what lets the compiler see the
/// end of that cycle.
fn log_in_again<'a>(client: &'a Client, stale: &'a Secret) -> BoxFuture<'a, bool> {
    Box::pin(async move {
        let session = client.session();
        let _one_at_a_time = session.relogin_lock().lock().await;
        if session.token().as_ref() != Some(stale) {
            return true;
        }
        let Some(credentials) = session.credentials() else {
            return false;
        };
        match auth::authenticate(client, credentials).await {
            Ok(token) => {
                session.set_token(token);
                tracing::info!(
                    username = %credentials.username,
                    "the token was refused; logged in again"
                );
                true
            }
            Err(error) => {
                tracing::warn!(
                    username = %credentials.username,
                    error = %error,
                    "the token was refused and logging in again failed"
                );
                false
            }
        }
    })
}

/// A transport error without the URL that `reqwest` prints, whose query
/// string may carry a people-task secret.
fn describe(error: &reqwest::Error) -> String {
    let kind = TransportKind::of(error).label();
    match crate::error::causes(error) {
        causes if causes.is_empty() => kind.to_owned(),
        causes => format!("{kind}: {causes}"),
    }
}

/// Drops the query string from the URL an error carries, for the same reason.
fn without_query(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut() {
        url.set_query(None);
    }
    error
}

/// Milliseconds of `duration`, for log fields.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
