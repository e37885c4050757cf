//! The one place every request of a run goes through.
//!
//! A [`Call`] names an operation of the spec and gives its parameters and
//! body; [`Transport::send`] turns it into an HTTP request from the catalog
//! (path template with percent-encoded path parameters, query parameters with
//! repeated keys for arrays, a JSON or `text/plain` body, a bearer token
//! unless the operation is public), sends it, and returns the whole
//! [`Exchange`]. Only a call that the spec declares can be sent: a parameter
//! the operation does not have is refused before anything goes on the wire.
//!
//! The transport also holds the run's safety guards: the request budget
//! (`--max-requests`) and the retry policy. It retries transport errors on
//! `GET` only (other methods may have taken effect) and `429`/`503` answers
//! that carry a `Retry-After` of at most [`MAX_RETRY_AFTER`], a bounded
//! number of times.

use std::fmt;
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::Value;
use url::Url;

use crate::catalog::{Catalog, Location, OperationShape, TokenPolicy};
use crate::redact;

/// Characters left alone in a path segment: RFC 3986 unreserved ones.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How many times a request is retried after the first attempt.
const MAX_RETRIES: u32 = 3;

/// The longest `Retry-After` the transport waits for; longer ones are failures.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// The pause before retrying a `GET` after a transport error.
const TRANSPORT_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// A request to one operation, before it is built.
#[derive(Debug, Clone)]
pub struct Call {
    operation: String,
    path: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Value>,
    send_token: bool,
}

impl Call {
    /// A call to the operation with this `operationId`.
    pub fn new(operation: &str) -> Self {
        Self {
            operation: operation.to_string(),
            path: Vec::new(),
            query: Vec::new(),
            body: None,
            send_token: true,
        }
    }

    /// Sets the path parameter `name`.
    pub fn path(mut self, name: &str, value: impl Into<String>) -> Self {
        self.path.push((name.to_string(), value.into()));
        self
    }

    /// Adds the query parameter `name`; call again to repeat an array parameter.
    pub fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body: a JSON value, or a JSON string for a `text/plain` body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sends no token even where the operation accepts one.
    pub fn without_token(mut self) -> Self {
        self.send_token = false;
        self
    }

    /// The `operationId` this call is for.
    pub fn operation(&self) -> &str {
        &self.operation
    }
}

/// The request as it was sent, for reports.
#[derive(Clone)]
pub struct SentRequest {
    /// The HTTP method.
    pub method: Method,
    /// The full URL, with secrets in the query redacted.
    pub url: String,
    /// The headers the harness set, with `Authorization` redacted.
    pub headers: Vec<(String, String)>,
    /// The body as sent, if any.
    pub body: Option<Vec<u8>>,
}

/// The response as it was received.
#[derive(Clone)]
pub struct Received {
    /// The HTTP status code.
    pub status: u16,
    /// All response headers.
    pub headers: Vec<(String, String)>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// One request and its response.
#[derive(Clone)]
pub struct Exchange {
    /// The `operationId` of the call.
    pub operation: String,
    /// What was sent.
    pub request: SentRequest,
    /// What came back.
    pub response: Received,
    /// How long the final attempt took.
    pub elapsed: Duration,
}

impl Exchange {
    /// The response status.
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.response.status)
    }

    /// The response body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.response.body).ok()
    }

    /// The string at `pointer` in the JSON body, if there is one.
    pub fn str_at(&self, pointer: &str) -> Option<String> {
        self.json()?
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

impl fmt::Debug for Exchange {
    // Bodies and headers may carry tokens and secrets; the debug form shows
    // only what identifies the exchange.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("operation", &self.operation)
            .field("method", &self.request.method)
            .field("url", &self.request.url)
            .field("status", &self.response.status)
            .finish_non_exhaustive()
    }
}

/// Why a call produced no exchange.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The request budget is used up.
    #[error(
        "the request budget of {limit} requests is used up; \
         raise `--max-requests` to let the run go further"
    )]
    Budget {
        /// The budget.
        limit: u64,
    },

    /// The call does not fit the spec (unknown operation or parameter).
    #[error("cannot call `{operation}`: {reason}")]
    NotInSpec {
        /// The `operationId`.
        operation: String,
        /// What does not fit.
        reason: String,
    },

    /// The request was sent but no usable response came back.
    #[error("{method} {url} ({operation}) got no answer: {reason}")]
    Network {
        /// The `operationId`.
        operation: String,
        /// The method.
        method: Method,
        /// The redacted URL.
        url: String,
        /// What went wrong, e.g. a timeout or a refused connection.
        reason: String,
    },
}

/// Sends calls to one server, counting and recording them.
pub struct Transport {
    client: reqwest::Client,
    base: Url,
    catalog: Catalog,
    token: Option<String>,
    sent: u64,
    limit: u64,
    budget_enforced: bool,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("sent", &self.sent)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport to `base` that times each request out after `timeout` and
    /// sends at most `limit` requests while the budget is enforced.
    pub fn new(
        base: Url,
        catalog: Catalog,
        timeout: Duration,
        limit: u64,
    ) -> Result<Self, reqwest::Error> {
        // reqwest is built without a TLS provider of its own and refuses to
        // build a client until the process has one; a second install by
        // another part of the process is refused harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            base,
            catalog,
            token: None,
            sent: 0,
            limit,
            budget_enforced: true,
        })
    }

    /// Uses `token` as the bearer token from now on.
    pub fn set_token(&mut self, token: String) {
        self.token = Some(token);
    }

    /// How many requests were sent, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.sent
    }

    /// Stops enforcing the budget. Cleanup runs this way: deleting what the
    /// run created is bounded by what it created and always worth sending.
    pub fn lift_budget(&mut self) {
        self.budget_enforced = false;
    }

    /// The catalog the transport builds requests from.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Builds, sends and records one call.
    pub async fn send(&mut self, call: Call) -> Result<Exchange, TransportError> {
        let operation = self.catalog.get(&call.operation).cloned().ok_or_else(|| {
            TransportError::NotInSpec {
                operation: call.operation.clone(),
                reason: "the spec declares no operation with this id".into(),
            }
        })?;
        let url = build_url(&self.base, &operation, &call)?;
        let (content_type, body) = encode_body(&operation, &call)?;
        let headers = self.headers(&operation, &call, content_type)?;
        let shown_url = redact::url(&url);
        let mut retries = 0;

        loop {
            if self.budget_enforced && self.sent >= self.limit {
                return Err(TransportError::Budget { limit: self.limit });
            }
            self.sent += 1;
            let started = Instant::now();
            let mut request = self
                .client
                .request(operation.method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            let outcome = match request.send().await {
                Ok(response) => read_response(response).await,
                Err(error) => Err(describe(&error)),
            };
            let elapsed = started.elapsed();

            match outcome {
                Ok(response) => {
                    tracing::debug!(
                        operation = %operation.id,
                        method = %operation.method,
                        url = %shown_url,
                        status = response.status,
                        elapsed_ms = elapsed.as_millis() as u64,
                        "exchange"
                    );
                    tracing::trace!(
                        operation = %operation.id,
                        body = %redact::body_preview(&response.body, 2048),
                        "response body"
                    );
                    if let Some(pause) = retry_pause(&response)
                        && retries < MAX_RETRIES
                    {
                        retries += 1;
                        tracing::info!(
                            operation = %operation.id,
                            status = response.status,
                            pause_ms = pause.as_millis() as u64,
                            "server asked to retry later"
                        );
                        tokio::time::sleep(pause).await;
                        continue;
                    }
                    return Ok(Exchange {
                        operation: operation.id.clone(),
                        request: SentRequest {
                            method: operation.method.clone(),
                            url: shown_url,
                            headers: redact::headers(&headers),
                            body,
                        },
                        response,
                        elapsed,
                    });
                }
                Err(reason) => {
                    tracing::debug!(
                        operation = %operation.id,
                        method = %operation.method,
                        url = %shown_url,
                        %reason,
                        "no answer"
                    );
                    if operation.method == Method::GET && retries < MAX_RETRIES {
                        retries += 1;
                        tokio::time::sleep(TRANSPORT_RETRY_PAUSE * retries).await;
                        continue;
                    }
                    return Err(TransportError::Network {
                        operation: operation.id.clone(),
                        method: operation.method.clone(),
                        url: shown_url,
                        reason,
                    });
                }
            }
        }
    }

    fn headers(
        &self,
        operation: &OperationShape,
        call: &Call,
        content_type: Option<&'static str>,
    ) -> Result<HeaderMap, TransportError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        let wants_token = operation.token != TokenPolicy::None && call.send_token;
        if let (true, Some(token)) = (wants_token, &self.token) {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                TransportError::NotInSpec {
                    operation: operation.id.clone(),
                    reason: "the token holds characters a header cannot carry".into(),
                }
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(headers)
    }
}

fn build_url(base: &Url, operation: &OperationShape, call: &Call) -> Result<Url, TransportError> {
    let not_in_spec = |reason: String| TransportError::NotInSpec {
        operation: operation.id.clone(),
        reason,
    };
    for (name, _) in &call.path {
        if operation.parameter(name, Location::Path).is_none() {
            return Err(not_in_spec(format!(
                "{} has no path parameter `{name}`",
                operation.route()
            )));
        }
    }

    let mut path = String::new();
    let mut rest = operation.path.as_str();
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|i| open + i)
            .ok_or_else(|| not_in_spec(format!("unclosed `{{` in `{}`", operation.path)))?;
        let name = &rest[open + 1..close];
        let value = call
            .path
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| not_in_spec(format!("path parameter `{name}` is missing")))?;
        path.push_str(&rest[..open]);
        path.extend(utf8_percent_encode(value, PATH_SEGMENT));
        rest = &rest[close + 1..];
    }
    path.push_str(rest);

    let base_path = base.path().trim_end_matches('/');
    let mut url = base.clone();
    url.set_path(&format!("{base_path}{path}"));
    url.set_query(None);

    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in &call.query {
        let parameter = operation.parameter(name, Location::Query).ok_or_else(|| {
            not_in_spec(format!(
                "{} has no query parameter `{name}`",
                operation.route()
            ))
        })?;
        if !parameter.repeated && seen.contains(&name.as_str()) {
            return Err(not_in_spec(format!(
                "query parameter `{name}` is not an array and cannot repeat"
            )));
        }
        seen.push(name);
    }
    if !call.query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in &call.query {
            pairs.append_pair(name, value);
        }
    }
    Ok(url)
}

fn encode_body(
    operation: &OperationShape,
    call: &Call,
) -> Result<(Option<&'static str>, Option<Vec<u8>>), TransportError> {
    let not_in_spec = |reason: String| TransportError::NotInSpec {
        operation: operation.id.clone(),
        reason,
    };
    match (&operation.body_media_type, &call.body) {
        (None, None) => Ok((None, None)),
        (None, Some(_)) => Err(not_in_spec(format!(
            "{} takes no request body",
            operation.route()
        ))),
        (Some(media), None) => Err(not_in_spec(format!(
            "{} needs a `{media}` body",
            operation.route()
        ))),
        (Some(media), Some(body)) if media == "text/plain" => match body {
            Value::String(text) => Ok((
                Some("text/plain; charset=utf-8"),
                Some(text.clone().into_bytes()),
            )),
            _ => Err(not_in_spec(format!(
                "{} takes a `text/plain` body, so the value must be a string",
                operation.route()
            ))),
        },
        (Some(media), Some(body)) if is_json(media) => Ok((
            Some("application/json"),
            Some(serde_json::to_vec(body).expect("a JSON value always serializes")),
        )),
        (Some(media), Some(_)) => Err(not_in_spec(format!(
            "{} takes `{media}`, which the harness cannot send",
            operation.route()
        ))),
    }
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

async fn read_response(response: reqwest::Response) -> Result<Received, String> {
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("the body could not be read: {}", describe(&e)))?;
    Ok(Received {
        status,
        headers,
        content_type,
        body: body.to_vec(),
    })
}

fn retry_pause(response: &Received) -> Option<Duration> {
    if response.status != 429 && response.status != 503 {
        return None;
    }
    let value = response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(RETRY_AFTER.as_str()))?;
    let pause = Duration::from_secs(value.1.trim().parse().ok()?);
    (pause <= MAX_RETRY_AFTER).then_some(pause)
}

/// A one-line account of a reqwest error, with its causes.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Parameter;

    fn operation(path: &str, parameters: Vec<Parameter>, body: Option<&str>) -> OperationShape {
        OperationShape {
            id: "op".into(),
            method: Method::GET,
            path: path.into(),
            parameters,
            body_media_type: body.map(str::to_string),
            token: TokenPolicy::Required,
        }
    }

    fn parameter(name: &str, location: Location, repeated: bool) -> Parameter {
        Parameter {
            name: name.into(),
            location,
            repeated,
        }
    }

    #[test]
    fn path_parameters_are_percent_encoded_as_one_segment() {
        let op = operation(
            "/store/{storeId}/{key}",
            vec![
                parameter("storeId", Location::Path, false),
                parameter("key", Location::Path, false),
            ],
            None,
        );
        let call = Call::new("op")
            .path("storeId", "s1")
            .path("key", "a b/c?d#ü");
        let base = Url::parse("http://127.0.0.1:9/api/").unwrap();

        let url = build_url(&base, &op, &call).unwrap();

        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/api/store/s1/a%20b%2Fc%3Fd%23%C3%BC"
        );
    }

    #[test]
    fn array_query_parameters_repeat_their_key() {
        let op = operation(
            "/logs",
            vec![parameter("flowId", Location::Query, true)],
            None,
        );
        let call = Call::new("op").query("flowId", "a").query("flowId", "b");
        let base = Url::parse("http://127.0.0.1:9").unwrap();

        let url = build_url(&base, &op, &call).unwrap();

        assert_eq!(url.query(), Some("flowId=a&flowId=b"));
    }

    #[test]
    fn a_scalar_query_parameter_cannot_repeat() {
        let op = operation(
            "/flows",
            vec![parameter("pattern", Location::Query, false)],
            None,
        );
        let call = Call::new("op").query("pattern", "a").query("pattern", "b");
        let base = Url::parse("http://127.0.0.1:9").unwrap();

        let error = build_url(&base, &op, &call).unwrap_err();

        assert!(error.to_string().contains("cannot repeat"), "{error}");
    }

    #[test]
    fn undeclared_parameters_are_refused_before_sending() {
        let op = operation("/flows", vec![], None);
        let call = Call::new("op").query("nonsense", "1");
        let base = Url::parse("http://127.0.0.1:9").unwrap();

        let error = build_url(&base, &op, &call).unwrap_err();

        assert!(
            error.to_string().contains("no query parameter `nonsense`"),
            "{error}"
        );
    }

    #[test]
    fn text_plain_bodies_are_sent_as_the_raw_string() {
        let op = operation("/x", vec![], Some("text/plain"));
        let call = Call::new("op").body(Value::String("ok 𝄞".into()));

        let (content_type, body) = encode_body(&op, &call).unwrap();

        assert_eq!(content_type, Some("text/plain; charset=utf-8"));
        assert_eq!(body.unwrap(), "ok 𝄞".as_bytes());
    }

    #[test]
    fn the_token_goes_only_where_the_operation_takes_one() {
        let base = Url::parse("http://127.0.0.1:9").unwrap();
        let mut transport =
            Transport::new(base, Catalog::default(), Duration::from_secs(1), 10).unwrap();
        transport.set_token("t0k3n".into());
        let mut public = operation("/user/auth", vec![], None);
        public.token = TokenPolicy::None;
        let mut optional = operation("/people-task/tasks", vec![], None);
        optional.token = TokenPolicy::Optional;
        let protected = operation("/user", vec![], None);
        let has_token = |op: &OperationShape, call: Call| {
            transport
                .headers(op, &call, None)
                .unwrap()
                .get(AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_string())
        };

        assert_eq!(
            has_token(&protected, Call::new("op")),
            Some("Bearer t0k3n".into())
        );
        assert_eq!(
            has_token(&optional, Call::new("op")),
            Some("Bearer t0k3n".into())
        );
        assert_eq!(has_token(&optional, Call::new("op").without_token()), None);
        assert_eq!(has_token(&public, Call::new("op")), None);
    }

    #[test]
    fn retry_after_is_honoured_only_for_429_and_503_within_bounds() {
        let answer = |status, retry_after: &str| Received {
            status,
            headers: vec![("retry-after".into(), retry_after.into())],
            content_type: None,
            body: Vec::new(),
        };

        assert_eq!(retry_pause(&answer(429, "2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_pause(&answer(503, "0")), Some(Duration::ZERO));
        assert_eq!(retry_pause(&answer(500, "2")), None);
        assert_eq!(retry_pause(&answer(429, "3600")), None);
    }
}
