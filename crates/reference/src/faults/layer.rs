//! The fault middleware: where planted faults meet requests.
//!
//! [`wrap`] puts one middleware around the whole router. For each request it
//! picks the switched-on faults whose route matches; when none does, the
//! request goes straight on, unread. Otherwise the request is read into a
//! [`Call`] and handed down a [`Chain`]: each fault may rewrite the call, the
//! [`Answer`] coming back, or the state, and passes on to the next fault and
//! finally to the clean handlers.
//!
//! The middleware also keeps what faults must remember between requests
//! ([`Memory`]), numbers the requests, and logs the first time each fault
//! changes an answer (`fault fired for the first time`, with the request's
//! number, method and path), so that a benchmark can tell when a fault
//! became visible.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode, Uri, request, response};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::Fault;
use crate::errors::ApiError;
use crate::extractors::within_body_read_timeout;
use crate::state::SharedState;
use crate::users::{self, Caller};

/// Puts the middleware for `faults` around `router`, whose state is `app`.
pub fn wrap(router: Router, app: SharedState, faults: &BTreeSet<Fault>) -> Router {
    tracing::warn!(
        faults = ?faults.iter().map(|fault| fault.name()).collect::<Vec<_>>(),
        "planted faults are switched on; this server breaks Appmixer's rules on purpose"
    );
    let planted = Arc::new(Planted {
        app,
        faults: faults.iter().copied().collect(),
        memory: Mutex::default(),
        requests: AtomicU64::new(0),
        fired: Mutex::default(),
    });
    router.layer(middleware::from_fn_with_state(planted, intercept))
}

/// The switched-on faults and what they share.
struct Planted {
    app: SharedState,
    faults: Vec<Fault>,
    memory: Mutex<Memory>,
    requests: AtomicU64,
    fired: Mutex<HashSet<Fault>>,
}

/// What faults remember between requests.
#[derive(Debug, Default)]
pub struct Memory {
    /// Flows answered as deleted that are still kept.
    pub zombie_flows: HashSet<String>,
    /// Stores that were renamed at least once.
    pub renamed_stores: HashSet<String>,
    /// Deleted charts, by id: their owner and last document.
    pub deleted_charts: HashMap<String, (String, Map<String, Value>)>,
}

async fn intercept(State(planted): State<Arc<Planted>>, request: Request, next: Next) -> Response {
    let number = planted.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let path = request.uri().path().to_owned();
    let matching: Vec<Fault> = planted
        .faults
        .iter()
        .copied()
        .filter(|fault| fault.applies(request.method(), &path))
        .collect();
    if matching.is_empty() {
        return next.run(request).await;
    }

    let (parts, body) = request.into_parts();
    let config = &planted.app.config;
    let limit = config.body_limit;
    let reading = to_bytes(body, limit);
    let body = match within_body_read_timeout(config.body_read_timeout, reading).await {
        Ok(read) => read,
        Err(timed_out) => return timed_out.into_response(),
    };
    let Ok(body) = body else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload content length greater than maximum allowed: {limit} bytes"),
        )
        .into_response();
    };
    let ctx = Ctx {
        planted: &planted,
        request: number,
        method: parts.method.clone(),
        path,
    };
    let chain = Chain {
        ctx: &ctx,
        rest: &matching,
        next,
    };
    chain.run(Call { parts, body }).await.into_response()
}

/// What a fault sees of the server while it handles one request.
pub struct Ctx<'a> {
    planted: &'a Planted,
    request: u64,
    method: Method,
    /// The request's path; never its query, which may carry secrets.
    path: String,
}

impl Ctx<'_> {
    /// The server's state.
    pub fn app(&self) -> &SharedState {
        &self.planted.app
    }

    /// What faults remember between requests; never hold it across an `.await`.
    pub fn memory(&self) -> MutexGuard<'_, Memory> {
        self.planted
            .memory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes that `fault` changed what the server did for this request.
    pub fn fired(&self, fault: Fault) {
        let first = self
            .planted
            .fired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(fault);
        if first {
            tracing::warn!(
                fault = fault.name(),
                request = self.request,
                method = %self.method,
                path = %self.path,
                "fault fired for the first time"
            );
        } else {
            tracing::debug!(
                fault = fault.name(),
                request = self.request,
                method = %self.method,
                path = %self.path,
                "fault fired"
            );
        }
    }

    /// Makes `call` act as user `user_id`, with a fresh token of theirs.
    pub fn act_as(&self, call: &mut Call, user_id: &str) -> bool {
        match users::issue_token(self.app(), user_id) {
            Ok(token) => {
                call.set_bearer(&token);
                true
            }
            Err(_) => false,
        }
    }
}

/// Runs `call` as `owner` when the caller is another user, noting `fault` as
/// fired when that answers with success; runs it as sent when the caller is
/// unknown, is the owner, or `owner` is `None`.
pub async fn run_as_owner(
    fault: Fault,
    ctx: &Ctx<'_>,
    mut call: Call,
    owner: Option<String>,
    inner: Chain<'_>,
) -> Answer {
    let caller = call.caller(ctx.app());
    let (Some(caller), Some(owner)) = (caller, owner) else {
        return inner.run(call).await;
    };
    if owner == caller.id || !ctx.act_as(&mut call, &owner) {
        return inner.run(call).await;
    }
    let answer = inner.run(call).await;
    if answer.is_success() {
        ctx.fired(fault);
    }
    answer
}

/// Runs `call` with each query pair passed through `edit`, which says
/// whether it changed the pair, noting `fault` as fired when a changed call
/// answers with success. A call that `edit` leaves alone, and that was not
/// `changed` before (its body, say), goes on as sent.
pub async fn run_with_query_edited(
    fault: Fault,
    ctx: &Ctx<'_>,
    mut call: Call,
    mut changed: bool,
    inner: Chain<'_>,
    mut edit: impl FnMut(&str, &mut String) -> bool,
) -> Answer {
    let mut pairs = call.query();
    for (key, value) in &mut pairs {
        changed |= edit(key, value);
    }
    if !changed {
        return inner.run(call).await;
    }
    call.set_query(&pairs);
    let answer = inner.run(call).await;
    if answer.is_success() {
        ctx.fired(fault);
    }
    answer
}

/// The rest of the server below one fault: the next faults, then the handlers.
pub struct Chain<'a> {
    ctx: &'a Ctx<'a>,
    rest: &'a [Fault],
    next: Next,
}

impl<'a> Chain<'a> {
    /// Hands `call` on and reads what comes back.
    pub fn run(self, call: Call) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>> {
        Box::pin(async move {
            match self.rest.split_first() {
                None => Answer::read(self.next.run(call.into_request()).await).await,
                Some((fault, rest)) => {
                    let inner = Chain {
                        ctx: self.ctx,
                        rest,
                        next: self.next,
                    };
                    fault.apply(self.ctx, call, inner).await
                }
            }
        })
    }
}

/// A request, read whole so that faults can look at and rewrite it.
pub struct Call {
    parts: request::Parts,
    body: Bytes,
}

impl Call {
    /// The request method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The decoded path segments matched by `pattern`'s `{}` placeholders,
    /// e.g. `/flows/{}/clone`; `None` when the path has another shape.
    pub fn captures(&self, pattern: &str) -> Option<Vec<String>> {
        captures(self.parts.uri.path(), pattern)
    }

    /// The query's pairs, decoded, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        self.parts
            .uri
            .query()
            .map(|raw| {
                url::form_urlencoded::parse(raw.as_bytes())
                    .map(|(key, value)| (key.into_owned(), value.into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first value of query parameter `name`.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Replaces the query with `pairs`.
    pub fn set_query(&mut self, pairs: &[(String, String)]) {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            serializer.append_pair(key, value);
        }
        let query = serializer.finish();
        let path = self.parts.uri.path();
        let target = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        if let Ok(uri) = Uri::try_from(target) {
            self.parts.uri = uri;
        }
    }

    /// The body as a JSON object, if it is one.
    pub fn json_object(&self) -> Option<Map<String, Value>> {
        match serde_json::from_slice(&self.body) {
            Ok(Value::Object(object)) => Some(object),
            _ => None,
        }
    }

    /// Replaces the body with `value` as JSON.
    pub fn set_json(&mut self, value: &Value) {
        self.body = Bytes::from(value.to_string());
    }

    /// The body as text, if it is UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }

    /// Replaces the body with `text`, keeping its media type.
    pub fn set_text(&mut self, text: String) {
        self.body = Bytes::from(text);
    }

    /// Whether the request carries an `Authorization` header at all.
    pub fn has_authorization(&self) -> bool {
        self.parts.headers.contains_key(AUTHORIZATION)
    }

    /// The bearer token, if the request has one.
    pub fn bearer(&self) -> Option<&str> {
        self.parts
            .headers
            .get(AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")
            .map(str::trim)
    }

    /// Sends the request with `token` as its bearer token.
    pub fn set_bearer(&mut self, token: &str) {
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            self.parts.headers.insert(AUTHORIZATION, value);
        }
    }

    /// The user the request's token names, when the token is valid.
    pub fn caller(&self, app: &SharedState) -> Option<Caller> {
        let header = self.parts.headers.get(AUTHORIZATION)?;
        users::caller_from_header(app, header).ok()
    }

    fn into_request(mut self) -> Request {
        // A rewritten body has another length; the old header would lie.
        self.parts.headers.remove(CONTENT_LENGTH);
        if !self.body.is_empty() {
            self.parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        }
        Request::from_parts(self.parts, Body::from(self.body))
    }
}

/// The decoded segments of `path` at the `{}` placeholders of `pattern`.
pub fn captures(path: &str, pattern: &str) -> Option<Vec<String>> {
    let segments: Vec<&str> = path.split('/').collect();
    let expected: Vec<&str> = pattern.split('/').collect();
    if segments.len() != expected.len() {
        return None;
    }
    let mut captured = Vec::new();
    for (segment, expected) in segments.iter().zip(&expected) {
        if *expected == "{}" {
            if segment.is_empty() {
                return None;
            }
            captured.push(percent_decode_str(segment).decode_utf8_lossy().into_owned());
        } else if segment != expected {
            return None;
        }
    }
    Some(captured)
}

/// An answer, read whole so that faults can look at and rewrite it.
pub struct Answer {
    parts: response::Parts,
    body: Bytes,
}

impl Answer {
    async fn read(response: Response) -> Self {
        let (parts, body) = response.into_parts();
        match to_bytes(body, usize::MAX).await {
            Ok(body) => Self { parts, body },
            Err(error) => {
                tracing::error!(%error, "reading an answer failed");
                Self::error(&ApiError::internal())
            }
        }
    }

    /// A JSON answer with `status`.
    pub fn json(status: StatusCode, value: &Value) -> Self {
        let (mut parts, ()) = Response::new(()).into_parts();
        parts.status = status;
        parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Self {
            parts,
            body: Bytes::from(value.to_string()),
        }
    }

    /// The Boom answer of `error`.
    pub fn error(error: &ApiError) -> Self {
        Self::json(error.status(), &error.body())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.parts.status.is_success()
    }

    /// The body as JSON, if it is JSON.
    pub fn body(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Replaces the body with `value` as JSON.
    pub fn set_body(&mut self, value: &Value) {
        self.body = Bytes::from(value.to_string());
    }

    /// Answers 204 with no body and no content type.
    pub fn set_no_content(&mut self) {
        self.parts.status = StatusCode::NO_CONTENT;
        self.parts.headers.remove(CONTENT_TYPE);
        self.body = Bytes::new();
    }

    /// Declares the body's media type as `value`.
    pub fn set_content_type(&mut self, value: &'static str) {
        self.parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(value));
    }

    fn into_response(mut self) -> Response {
        self.parts.headers.remove(CONTENT_LENGTH);
        Response::from_parts(self.parts, Body::from(self.body))
    }
}

#[cfg(test)]
mod tests {
    use super::captures;

    #[test]
    fn captures_decode_placeholders_and_need_the_same_shape() {
        assert_eq!(
            captures("/store/abc/a%20b%2Fc", "/store/{}/{}"),
            Some(vec!["abc".to_owned(), "a b/c".to_owned()])
        );
        assert_eq!(
            captures("/flows/x/clone", "/flows/{}/clone"),
            Some(vec!["x".to_owned()])
        );
        assert_eq!(captures("/flows/x", "/flows/{}/clone"), None);
        assert_eq!(captures("/flows/x/start", "/flows/{}/clone"), None);
        assert_eq!(captures("/flows/", "/flows/{}"), None);
    }
}
