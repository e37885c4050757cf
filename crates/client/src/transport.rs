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
//! `operation`, `method`, `path` (without the query string, which may carry a
//! people-task secret), `status`, `latency_ms` and `attempt`; each response is
//! a debug event. Neither headers nor bodies are logged.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::{Method, Request, Response, StatusCode};
use tracing::Instrument;
use tracing::field::Empty;

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
        latency_ms = Empty,
        attempt = Empty,
    );
    send_with_retries(client, request, operation, method)
        .instrument(span)
        .await
        .map_err(without_query)
}

async fn send_with_retries(
    client: &Client,
    mut request: Request,
    operation: &'static str,
    method: Method,
) -> reqwest::Result<Response> {
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

        let span = tracing::Span::current();
        span.record("attempt", attempt);
        let sent = Instant::now();
        let outcome = client.client().execute(request).await;
        let latency_ms = millis(sent.elapsed());
        span.record("latency_ms", latency_ms);
        match &outcome {
            Ok(response) => {
                let status = response.status().as_u16();
                span.record("status", status);
                tracing::debug!(status, latency_ms, attempt, "response");
            }
            Err(error) => {
                tracing::debug!(error = %describe(error), latency_ms, attempt, "no response");
            }
        }
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
            return outcome;
        }

        let delay = policy.next_delay(&method, &outcome, attempt, started.elapsed());
        let (Some(delay), Some(copy)) = (delay, copy) else {
            return outcome;
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
    let kind = if error.is_connect() {
        "cannot connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() {
        "body failed"
    } else {
        "request failed"
    };
    let mut text = String::from(kind);
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
