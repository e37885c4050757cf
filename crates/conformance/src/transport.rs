//! The one place every request of a run goes through.
//!
//! A [`Call`] names an operation of the spec and gives its parameters and
//! body; [`Transport::send`] turns it into an HTTP request from the catalog
//! (path template with percent-encoded path parameters, query parameters with
//! repeated keys for arrays, a JSON or `text/plain` body, a bearer token
//! unless the operation is public), sends it, and returns the whole
//! [`Exchange`]. Only a call that the spec declares can be sent: a parameter
//! the operation does not have is refused before anything goes on the wire.
//! A call may also carry raw bytes under a content type of its own
//! ([`Call::raw_body`]), which is how malformed JSON and wrong media types
//! are sent on purpose; such calls, like token probes, are marked
//! [`Call::invalid`], so that the generic checks know a refusal is what they
//! are after.
//!
//! The transport also holds the run's safety guards ([`crate::guards`]):
//! `--read-only` refuses every request but `GET` and `HEAD` before it is
//! sent, the request budget (`--max-requests`), the rate limit (`--rate`)
//! and the streak of failed requests (`--max-consecutive-failures`). It
//! retries transport errors on `GET` only (other methods may have taken
//! effect), and `429`/`503` answers a bounded number of times, waiting as
//! long as their `Retry-After` asks, in seconds or as an HTTP date (at most
//! [`MAX_RETRY_AFTER`]), or backing off exponentially when they do not say;
//! one that asks for more than [`guards::RETRY_AFTER_LIMIT`] stops the run.
//! A 429 still refused after its retries and a 401 to the session's own
//! token count towards the failure streak like a 5xx.
//! A response body is read up to a limit (`--max-body`, [`DEFAULT_MAX_BODY`]
//! by default): a server that sends more, or never ends its body, fails that
//! exchange instead of filling the harness's memory. The transport counts
//! what it sent, per method, and how long it waited for answers, and with
//! `--record` writes every exchange to a file ([`crate::recording`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::Value;
use url::Url;

use crate::catalog::{Catalog, Location, OperationShape, TokenPolicy};
use crate::guards::{self, FailureStreak, Guards, MethodCounts, Refusal, Stop, TokenBucket};
use crate::recording::{self, Recorder};
use crate::redact;
use crate::report::progress::Progress;

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

/// The longest response body read when no `--max-body` is given: 64 MiB.
pub const DEFAULT_MAX_BODY: u64 = 64 * 1024 * 1024;

/// The pause before retrying a `GET` after a transport error.
const TRANSPORT_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// The first pause after a `429` or `503` without `Retry-After`; it doubles
/// with each retry.
const BACKOFF_START: Duration = Duration::from_millis(500);

/// Which credentials a call carries.
#[derive(Clone, PartialEq, Eq)]
enum CallAuth {
    /// The token of the session's user, where the operation takes one.
    Session,
    /// No token at all.
    None,
    /// Another token of a user the run signed in (a second user).
    User(String),
    /// A token meant to be refused: malformed, forged or foreign.
    Probe(String),
}

/// Which credentials an exchange went out with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentAuth {
    /// A token of a user the run signed in.
    RunUser,
    /// A token meant to be refused.
    Probe,
    /// No token.
    None,
}

/// A request to one operation, before it is built.
#[derive(Debug, Clone)]
pub struct Call {
    operation: String,
    path: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Body>,
    auth: CallAuth,
    invalid: bool,
}

/// What a call sends as its body.
#[derive(Debug, Clone)]
enum Body {
    /// A value, encoded as the operation's media type asks.
    Value(Value),
    /// Bytes sent as they are, under this content type.
    Raw {
        content_type: String,
        bytes: Vec<u8>,
    },
}

impl fmt::Debug for CallAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallAuth::Session => "Session",
            CallAuth::None => "None",
            CallAuth::User(_) => "User(<redacted>)",
            CallAuth::Probe(_) => "Probe(<redacted>)",
        })
    }
}

impl Call {
    /// A call to the operation with this `operationId`.
    pub fn new(operation: &str) -> Self {
        Self {
            operation: operation.to_string(),
            path: Vec::new(),
            query: Vec::new(),
            body: None,
            auth: CallAuth::Session,
            invalid: false,
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
        self.body = Some(Body::Value(body));
        self
    }

    /// Sets the body to `bytes`, sent as they are with `content_type`
    /// whatever the operation's media type: malformed JSON, or JSON under a
    /// media type the operation does not take. The operation must take a
    /// body.
    pub fn raw_body(mut self, content_type: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some(Body::Raw {
            content_type: content_type.to_string(),
            bytes: bytes.into(),
        });
        self
    }

    /// Marks the call as deliberately invalid (bad input or credentials):
    /// a refusal is what it is after, and the expectation that sent it
    /// judges its status, so the generic `spec.no-server-error` check
    /// leaves it alone.
    pub fn invalid(mut self) -> Self {
        self.invalid = true;
        self
    }

    /// Sends no token even where the operation accepts one.
    pub fn without_token(mut self) -> Self {
        self.auth = CallAuth::None;
        self
    }

    /// Sends `token`, a token of another user the run signed in, instead of
    /// the session's.
    pub fn as_user(mut self, token: &str) -> Self {
        self.auth = CallAuth::User(token.to_string());
        self
    }

    /// Sends `token`, which the server is meant to refuse, as the bearer
    /// token, even to an operation whose token is optional.
    pub fn with_probe_token(mut self, token: &str) -> Self {
        self.auth = CallAuth::Probe(token.to_string());
        self.invalid = true;
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
    /// The body parsed as JSON, when it is JSON: parsed once, here, for the
    /// spec checks and every expectation that reads the answer. Shared, as
    /// exchanges are copied into traces and failures.
    json: Option<Arc<Value>>,
}

impl Received {
    /// A response with `body`, which is parsed as JSON once, here.
    pub fn new(
        status: u16,
        headers: Vec<(String, String)>,
        content_type: Option<String>,
        body: Vec<u8>,
    ) -> Self {
        Self::unparsed(status, headers, content_type, body).parsed()
    }

    /// A response whose body is not parsed yet: the transport parses it
    /// after it stops the clock on the answer, as parsing is the harness's
    /// time, not the server's.
    fn unparsed(
        status: u16,
        headers: Vec<(String, String)>,
        content_type: Option<String>,
        body: Vec<u8>,
    ) -> Self {
        Self {
            status,
            headers,
            content_type,
            body,
            json: None,
        }
    }

    /// The response with its body parsed as JSON, when it is JSON.
    fn parsed(mut self) -> Self {
        self.json = serde_json::from_slice(&self.body).ok().map(Arc::new);
        self
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<&Value> {
        self.json.as_deref()
    }
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
    /// Which credentials it carried.
    pub auth: SentAuth,
    /// Whether the call was deliberately invalid ([`Call::invalid`]).
    pub invalid: bool,
    /// The request's number in the run, from 1, retries included: the
    /// `requests.total` of the report counts the same way.
    pub number: u64,
    /// When the final attempt was sent, since the transport was made at
    /// the start of the run.
    pub at: Duration,
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

    /// A copy of the response body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        self.json_ref().cloned()
    }

    /// The response body parsed as JSON, if it is JSON, without a copy.
    pub fn json_ref(&self) -> Option<&Value> {
        self.response.json()
    }

    /// The string at `pointer` in the JSON body, if there is one.
    pub fn str_at(&self, pointer: &str) -> Option<String> {
        self.json_ref()?
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

    /// The server failed too many requests in a row.
    #[error(
        "the server failed {count} requests in a row (last: {last}); check that it is healthy, \
         or raise `--max-consecutive-failures`"
    )]
    FailureStreak {
        /// How many failed in a row.
        count: u32,
        /// What the last failure was.
        last: String,
    },

    /// The server asked for a pause longer than a run waits.
    #[error("{}", guards::retry_after_message(operation, value))]
    RetryAfter {
        /// The `operationId` whose answer asked for it.
        operation: String,
        /// The `Retry-After` value, as sent.
        value: String,
    },

    /// `--read-only` refused a request that could change something.
    #[error(
        "`--read-only` refused {method} {path} ({operation}): only GET and HEAD requests are sent"
    )]
    ReadOnly {
        /// The `operationId`.
        operation: String,
        /// The method.
        method: Method,
        /// The path template.
        path: String,
    },

    /// The response's body is longer than the transport reads.
    #[error(
        "{method} {url} ({operation}) answered {status} with a body longer than {limit} bytes; \
         the harness stopped reading it (raise `--max-body` if the server's answers are \
         really that large)"
    )]
    BodyTooLarge {
        /// The `operationId`.
        operation: String,
        /// The method.
        method: Method,
        /// The redacted URL.
        url: String,
        /// The response status.
        status: u16,
        /// The most bytes the transport reads.
        limit: u64,
    },

    /// The request was sent but no usable response came back.
    #[error(
        "{method} {url} ({operation}) {}: {reason}",
        if *not_http { "answered, but not in HTTP" } else { "got no answer" }
    )]
    Network {
        /// The `operationId`.
        operation: String,
        /// The method.
        method: Method,
        /// The redacted URL.
        url: String,
        /// What went wrong, e.g. a timeout or a refused connection.
        reason: String,
        /// Whether the server answered, but not in HTTP: a protocol error,
        /// not a slow or absent server.
        not_http: bool,
    },
}

/// What the server did with a request: what a guard's message names when
/// the run stops before it got what it was after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastAnswer {
    /// It answered with `status`.
    Status {
        /// The `operationId` of the request.
        operation: String,
        /// The status.
        status: u16,
        /// Its `Retry-After` header, as sent.
        retry_after: Option<String>,
    },
    /// No usable answer came back.
    Failed {
        /// The `operationId` of the request.
        operation: String,
        /// What went wrong.
        reason: String,
    },
}

impl LastAnswer {
    /// Whether the server asked for fewer requests (429 or 503).
    pub fn is_throttling(&self) -> bool {
        matches!(
            self,
            LastAnswer::Status {
                status: 429 | 503,
                ..
            }
        )
    }
}

impl fmt::Display for LastAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LastAnswer::Status {
                operation,
                status,
                retry_after,
            } => {
                write!(f, "{operation} answered {status}")?;
                let reason = reqwest::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|code| code.canonical_reason());
                if let Some(reason) = reason {
                    write!(f, " ({reason})")?;
                }
                match retry_after {
                    Some(value) => write!(f, " with `Retry-After: {value}`"),
                    None => Ok(()),
                }
            }
            LastAnswer::Failed { operation, reason } => {
                write!(f, "{operation} got no usable answer ({reason})")
            }
        }
    }
}

/// Time a run spent on the wire and in pauses the guards asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireTimes {
    /// Waiting for answers, over every attempt.
    pub waiting: Duration,
    /// Pausing for the rate limit and for retries.
    pub pausing: Duration,
}

/// Sends calls to one server, counting and recording them.
pub struct Transport {
    client: reqwest::Client,
    base: Url,
    catalog: Arc<Catalog>,
    token: Option<String>,
    guards: Guards,
    guards_lifted: bool,
    sent: u64,
    methods: MethodCounts,
    streak: FailureStreak,
    bucket: Option<TokenBucket>,
    refusals: Vec<Refusal>,
    stop: Option<Stop>,
    times: WireTimes,
    progress: Option<Progress>,
    max_body: u64,
    /// When the transport was made, which the exchanges' times count from.
    created: Instant,
    /// Where every exchange is written, with `--record`.
    recorder: Option<Recorder>,
    last_answer: Option<LastAnswer>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("sent", &self.sent)
            .field("guards", &self.guards)
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
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none());
        if base.scheme() == "http" {
            // Redirects are not followed, so a client of a plain-HTTP server
            // never opens a TLS connection: it need not read the system's
            // certificate authorities, which takes longer than many runs'
            // requests.
            builder = builder.tls_certs_only(std::iter::empty::<reqwest::Certificate>());
        }
        let client = builder.build()?;
        let guards = Guards {
            max_requests: limit,
            ..Guards::default()
        };
        Ok(Self {
            client,
            base,
            catalog: Arc::new(catalog),
            token: None,
            streak: FailureStreak::new(guards.max_consecutive_failures),
            bucket: None,
            guards,
            guards_lifted: false,
            sent: 0,
            methods: MethodCounts::default(),
            refusals: Vec::new(),
            stop: None,
            times: WireTimes::default(),
            progress: None,
            max_body: DEFAULT_MAX_BODY,
            created: Instant::now(),
            recorder: None,
            last_answer: None,
        })
    }

    /// Reads at most `limit` bytes of each response body from now on; a
    /// longer body fails its exchange with [`TransportError::BodyTooLarge`].
    pub fn with_max_body(mut self, limit: u64) -> Self {
        self.max_body = limit;
        self
    }

    /// Enforces `guards` from now on, in place of the budget given to [`Transport::new`].
    pub fn with_guards(mut self, guards: Guards) -> Self {
        self.streak = FailureStreak::new(guards.max_consecutive_failures);
        self.bucket = guards.rate.map(TokenBucket::new);
        self.guards = guards;
        self
    }

    /// Writes every exchange to `recorder` from now on.
    pub fn record_to(&mut self, recorder: Recorder) {
        self.recorder = Some(recorder);
    }

    /// Stops recording and hands the recorder back, to be finished.
    pub fn take_recorder(&mut self) -> Option<Recorder> {
        self.recorder.take()
    }

    /// Counts every request in `progress` from now on.
    pub fn set_progress(&mut self, progress: Progress) {
        self.progress = Some(progress);
    }

    /// Uses `token` as the bearer token from now on.
    pub fn set_token(&mut self, token: String) {
        self.token = Some(token);
    }

    /// The session user's token, once signed in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// How many requests were sent, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.sent
    }

    /// How many requests were sent with each method, retries included.
    pub fn method_counts(&self) -> &MethodCounts {
        &self.methods
    }

    /// The requests `--read-only` refused to send.
    pub fn refusals(&self) -> &[Refusal] {
        &self.refusals
    }

    /// Why a guard stopped the run, once one did.
    pub fn stop(&self) -> Option<&Stop> {
        self.stop.as_ref()
    }

    /// What the server did with the last request sent, once one was.
    pub fn last_answer(&self) -> Option<&LastAnswer> {
        self.last_answer.as_ref()
    }

    /// Notes that the run was stopped from outside (Ctrl-C, SIGTERM or SIGHUP).
    pub fn interrupted(&mut self) {
        self.stop.get_or_insert(Stop::Interrupted);
    }

    /// Time spent waiting for answers and pausing.
    pub fn wire_times(&self) -> WireTimes {
        self.times
    }

    /// The most bytes of a response body the transport reads.
    pub fn max_body(&self) -> u64 {
        self.max_body
    }

    /// The guards this transport enforces.
    pub fn guards(&self) -> &Guards {
        &self.guards
    }

    /// Stops enforcing the budget and the failure streak. Cleanup runs this
    /// way: deleting what the run created is bounded by what it created and
    /// always worth sending. The read-only guard and the rate limit stay.
    pub fn lift_budget(&mut self) {
        self.guards_lifted = true;
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
        // A handle of its own on the catalog, so that the operation stays
        // borrowed while the guards below take `self` mutably.
        let catalog = Arc::clone(&self.catalog);
        let operation = catalog
            .get(&call.operation)
            .ok_or_else(|| TransportError::NotInSpec {
                operation: call.operation.clone(),
                reason: "the spec declares no operation with this id".into(),
            })?;
        let url = build_url(&self.base, operation, &call)?;
        let (content_type, body) = encode_body(operation, &call)?;
        let (headers, auth) = self.headers(operation, &call, content_type.as_deref())?;
        if self.guards.read_only && !guards::allows_in_read_only(&operation.method, &operation.id) {
            tracing::warn!(
                operation = %operation.id,
                method = %operation.method,
                "read-only: refused a request that could change something"
            );
            self.refusals.push(Refusal {
                operation: operation.id.clone(),
                method: operation.method.to_string(),
                path: operation.path.clone(),
            });
            return Err(TransportError::ReadOnly {
                operation: operation.id.clone(),
                method: operation.method.clone(),
                path: operation.path.clone(),
            });
        }
        let shown_url = redact::url(&url);
        let own_token = call.auth == CallAuth::Session && auth == SentAuth::RunUser;
        let mut retries = 0;

        loop {
            self.admit()?;
            self.pace().await;
            self.sent += 1;
            self.methods.add(&operation.method);
            if let Some(progress) = &self.progress {
                progress.request();
            }
            let started = Instant::now();
            let mut request = self
                .client
                .request(operation.method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            let outcome = match request.send().await {
                Ok(response) => read_response(response, self.max_body).await,
                Err(error) => Err(ReadError::failed(&error, "")),
            };
            let elapsed = started.elapsed();
            self.times.waiting += elapsed;

            self.last_answer = Some(match &outcome {
                Ok(response) => LastAnswer::Status {
                    operation: operation.id.clone(),
                    status: response.status,
                    retry_after: retry_after_of(response).map(str::to_string),
                },
                Err(ReadError::TooLarge { status }) => LastAnswer::Status {
                    operation: operation.id.clone(),
                    status: *status,
                    retry_after: None,
                },
                Err(ReadError::Failed { reason, .. }) => LastAnswer::Failed {
                    operation: operation.id.clone(),
                    reason: reason.clone(),
                },
            });
            match outcome.map(Received::parsed) {
                Ok(response) => {
                    if let Some(value) = self.too_long_a_pause(&response) {
                        tracing::warn!(
                            operation = %operation.id,
                            status = response.status,
                            retry_after = %value,
                            "the server asked for a longer pause than a run waits; stopping"
                        );
                        self.stop.get_or_insert(Stop::RetryAfter {
                            operation: operation.id.clone(),
                            value: value.clone(),
                        });
                        return Err(TransportError::RetryAfter {
                            operation: operation.id.clone(),
                            value,
                        });
                    }
                    let pause = retry_pause(&response, retries, SystemTime::now())
                        .filter(|_| retries < MAX_RETRIES);
                    let failed = match response.status {
                        status if status >= 500 => {
                            Some(format!("{} answered {status}", operation.id))
                        }
                        429 => Some(format!(
                            "{} answered 429 after {retries} retries",
                            operation.id
                        )),
                        401 if own_token => Some(format!(
                            "{} answered 401 to the run's own token: are the credentials \
                             (or `--token`) right?",
                            operation.id
                        )),
                        _ => None,
                    };
                    // A 429 that is retried has not failed yet: its retry says.
                    if response.status != 429 || pause.is_none() {
                        self.streak.observe(failed);
                    }
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
                    if let Some(pause) = pause {
                        retries += 1;
                        tracing::info!(
                            operation = %operation.id,
                            status = response.status,
                            pause_ms = pause.as_millis() as u64,
                            "server asked to retry later"
                        );
                        self.pause(pause).await;
                        continue;
                    }
                    if let Some(recorder) = &mut self.recorder {
                        recorder.write(recording::Raw {
                            method: &operation.method,
                            url: &url,
                            content_type: content_type.as_deref(),
                            authorization: headers
                                .get(AUTHORIZATION)
                                .and_then(|value| value.to_str().ok()),
                            body: body.as_deref(),
                            status: response.status,
                            response: &response.body,
                            response_json: response.json(),
                        });
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
                        auth,
                        invalid: call.invalid,
                        number: self.sent,
                        at: started.duration_since(self.created),
                    });
                }
                Err(ReadError::TooLarge { status }) => {
                    self.streak.observe(Some(format!(
                        "{} answered a body over {} bytes",
                        operation.id, self.max_body
                    )));
                    tracing::warn!(
                        operation = %operation.id,
                        method = %operation.method,
                        url = %shown_url,
                        status,
                        limit = self.max_body,
                        "response body too long; stopped reading it"
                    );
                    // Reading it again would only fill the memory again.
                    return Err(TransportError::BodyTooLarge {
                        operation: operation.id.clone(),
                        method: operation.method.clone(),
                        url: shown_url,
                        status,
                        limit: self.max_body,
                    });
                }
                Err(ReadError::Failed { reason, not_http }) => {
                    let what = if not_http {
                        "answered, but not in HTTP"
                    } else {
                        "got no answer"
                    };
                    self.streak
                        .observe(Some(format!("{} {what}: {reason}", operation.id)));
                    tracing::debug!(
                        operation = %operation.id,
                        method = %operation.method,
                        url = %shown_url,
                        %reason,
                        "no answer"
                    );
                    if operation.method == Method::GET && retries < MAX_RETRIES {
                        retries += 1;
                        self.pause(TRANSPORT_RETRY_PAUSE * retries).await;
                        continue;
                    }
                    return Err(TransportError::Network {
                        operation: operation.id.clone(),
                        method: operation.method.clone(),
                        url: shown_url,
                        reason,
                        not_http,
                    });
                }
            }
        }
    }

    /// Refuses the next attempt when the budget is used up or the server
    /// failed too often in a row, remembering which guard stopped the run.
    fn admit(&mut self) -> Result<(), TransportError> {
        if self.guards_lifted {
            return Ok(());
        }
        if self.sent >= self.guards.max_requests {
            let limit = self.guards.max_requests;
            self.stop.get_or_insert(Stop::Budget { limit });
            return Err(TransportError::Budget { limit });
        }
        if let Some(stop) = self.streak.stop() {
            let error = match &stop {
                Stop::FailureStreak { count, last } => TransportError::FailureStreak {
                    count: *count,
                    last: last.clone(),
                },
                _ => unreachable!("a failure streak only stops with `Stop::FailureStreak`"),
            };
            self.stop.get_or_insert(stop);
            return Err(error);
        }
        Ok(())
    }

    /// The `Retry-After` of `response` when it asks for a longer pause than
    /// [`guards::RETRY_AFTER_LIMIT`] and the guards are enforced (cleanup
    /// records such an answer instead of stopping).
    fn too_long_a_pause(&self, response: &Received) -> Option<String> {
        if self.guards_lifted || !matches!(response.status, 429 | 503) {
            return None;
        }
        let value = retry_after_of(response)?;
        let pause = asked_pause(value.trim(), SystemTime::now())?;
        (pause > guards::RETRY_AFTER_LIMIT).then(|| value.to_string())
    }

    /// Waits for the rate limit, if there is one.
    async fn pace(&mut self) {
        let wait = match &mut self.bucket {
            Some(bucket) => bucket.take(Instant::now()),
            None => return,
        };
        if !wait.is_zero() {
            self.pause(wait).await;
        }
    }

    async fn pause(&mut self, pause: Duration) {
        self.times.pausing += pause;
        tokio::time::sleep(pause).await;
    }

    fn headers(
        &self,
        operation: &OperationShape,
        call: &Call,
        content_type: Option<&str>,
    ) -> Result<(HeaderMap, SentAuth), TransportError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(content_type) = content_type {
            let value =
                HeaderValue::from_str(content_type).map_err(|_| TransportError::NotInSpec {
                    operation: operation.id.clone(),
                    reason: format!("`{content_type}` cannot be sent as a `Content-Type`"),
                })?;
            headers.insert(CONTENT_TYPE, value);
        }
        let takes_token = operation.token != TokenPolicy::None;
        let (token, auth) = match &call.auth {
            CallAuth::Session if takes_token => (self.token.as_deref(), SentAuth::RunUser),
            CallAuth::User(token) if takes_token => (Some(token.as_str()), SentAuth::RunUser),
            // A probe goes out even to a public operation: what the server
            // does with an unwanted token is part of what is probed.
            CallAuth::Probe(token) => (Some(token.as_str()), SentAuth::Probe),
            _ => (None, SentAuth::None),
        };
        let Some(token) = token else {
            return Ok((headers, SentAuth::None));
        };
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            TransportError::NotInSpec {
                operation: operation.id.clone(),
                reason: "the token holds characters a header cannot carry".into(),
            }
        })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        Ok((headers, auth))
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
) -> Result<(Option<String>, Option<Vec<u8>>), TransportError> {
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
        (
            Some(_),
            Some(Body::Raw {
                content_type,
                bytes,
            }),
        ) => Ok((Some(content_type.clone()), Some(bytes.clone()))),
        (Some(media), Some(Body::Value(body))) if media == "text/plain" => match body {
            Value::String(text) => Ok((
                Some("text/plain; charset=utf-8".into()),
                Some(text.clone().into_bytes()),
            )),
            _ => Err(not_in_spec(format!(
                "{} takes a `text/plain` body, so the value must be a string",
                operation.route()
            ))),
        },
        (Some(media), Some(Body::Value(body))) if is_json(media) => Ok((
            Some("application/json".into()),
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

/// Why a response could not be read.
enum ReadError {
    /// The connection failed, timed out or broke off, or what came back
    /// was not HTTP.
    Failed {
        /// What went wrong.
        reason: String,
        /// Whether the server answered, but not in HTTP.
        not_http: bool,
    },
    /// The body is longer than the limit; the rest was not read.
    TooLarge {
        /// The response status.
        status: u16,
    },
}

async fn read_response(mut response: reqwest::Response, limit: u64) -> Result<Received, ReadError> {
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
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(ReadError::TooLarge { status });
    }
    // Chunk by chunk, so that an endless body stops at the limit instead of
    // being collected whole.
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ReadError::failed(&e, "the body could not be read: "))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(ReadError::TooLarge { status });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received::unparsed(status, headers, content_type, body))
}

/// How long to wait before retrying `response`, the answer to the attempt
/// after `retries` retries, at `now`, or `None` when it is not to be retried.
fn retry_pause(response: &Received, retries: u32, now: SystemTime) -> Option<Duration> {
    if response.status != 429 && response.status != 503 {
        return None;
    }
    let retry_after = retry_after_of(response).and_then(|value| asked_pause(value.trim(), now));
    match retry_after {
        // A server asking for a longer pause than a run can afford gets its
        // answer recorded instead.
        Some(pause) => (pause <= MAX_RETRY_AFTER).then_some(pause),
        None => Some(BACKOFF_START * 2u32.saturating_pow(retries)),
    }
}

/// The `Retry-After` header of `response`, as sent.
pub(crate) fn retry_after_of(response: &Received) -> Option<&str> {
    response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(RETRY_AFTER.as_str()))
        .map(|(_, value)| value.as_str())
}

/// The pause a `Retry-After` value asks for at `now`: a number of seconds,
/// or an HTTP date (a date already past asks for none). `None` when the
/// value is neither.
fn asked_pause(value: &str, now: SystemTime) -> Option<Duration> {
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // Digits are a number of seconds however many there are: one too
        // large for a u64 asks for more than any pause, not for none.
        return Some(value.parse().map_or(Duration::MAX, Duration::from_secs));
    }
    // The HTTP date format (IMF-fixdate) is RFC 2822's with `GMT`.
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(date.with_timezone(&chrono::Utc));
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

impl ReadError {
    /// The failure `error` reports, its account after `context`.
    fn failed(error: &reqwest::Error, context: &str) -> Self {
        ReadError::Failed {
            reason: format!("{context}{}", describe(error)),
            not_http: is_not_http(error),
        }
    }
}

/// Whether `error` is the server answering in something other than HTTP
/// (another protocol on the port, TLS where plain HTTP was expected, a head
/// too large to parse): a protocol error, which a longer `--timeout` does
/// not cure.
fn is_not_http(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse)
        {
            return true;
        }
        source = cause.source();
    }
    false
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

        assert_eq!(content_type.as_deref(), Some("text/plain; charset=utf-8"));
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
                .0
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
        assert_eq!(
            has_token(&protected, Call::new("op").as_user("b-token")),
            Some("Bearer b-token".into())
        );
        assert_eq!(has_token(&public, Call::new("op").as_user("b-token")), None);
        assert_eq!(
            has_token(&public, Call::new("op").with_probe_token("forged")),
            Some("Bearer forged".into())
        );
    }

    #[test]
    fn each_exchange_says_which_credentials_it_carried() {
        let base = Url::parse("http://127.0.0.1:9").unwrap();
        let mut transport =
            Transport::new(base, Catalog::default(), Duration::from_secs(1), 10).unwrap();
        transport.set_token("t0k3n".into());
        let protected = operation("/user", vec![], None);
        let auth = |call: Call| transport.headers(&protected, &call, None).unwrap().1;

        assert_eq!(auth(Call::new("op")), SentAuth::RunUser);
        assert_eq!(auth(Call::new("op").as_user("b")), SentAuth::RunUser);
        assert_eq!(auth(Call::new("op").with_probe_token("x")), SentAuth::Probe);
        assert_eq!(auth(Call::new("op").without_token()), SentAuth::None);
    }

    #[test]
    fn retry_after_is_honoured_only_for_429_and_503_within_bounds() {
        let now = SystemTime::now();
        let answer = |status, retry_after: &str| {
            Received::new(
                status,
                vec![("retry-after".into(), retry_after.into())],
                None,
                Vec::new(),
            )
        };

        assert_eq!(
            retry_pause(&answer(429, "2"), 0, now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_pause(&answer(503, "0"), 2, now), Some(Duration::ZERO));
        assert_eq!(retry_pause(&answer(500, "2"), 0, now), None);
        assert_eq!(retry_pause(&answer(429, "3600"), 0, now), None);
    }

    #[test]
    fn a_retry_after_too_large_for_any_integer_asks_for_longer_than_a_run_waits() {
        let now = SystemTime::now();
        let huge = "99999999999999999999";
        let answer = Received::new(429, vec![("Retry-After".into(), huge.into())], None, vec![]);

        let asked = asked_pause(huge, now);
        let retried = retry_pause(&answer, 0, now);

        assert_eq!(asked, Some(Duration::MAX));
        assert_eq!(retried, None, "a pause over the limit is not waited for");
    }

    #[test]
    fn retry_after_as_an_http_date_waits_until_then_within_bounds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let answer = |retry_after: &str| {
            Received::new(
                503,
                vec![("Retry-After".into(), retry_after.into())],
                None,
                Vec::new(),
            )
        };

        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        assert_eq!(
            retry_pause(&answer("Sun, 06 Nov 1994 08:49:40 GMT"), 0, now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_pause(&answer("Sun, 06 Nov 1994 08:00:00 GMT"), 0, now),
            Some(Duration::ZERO),
            "a date already past asks for no pause"
        );
        assert_eq!(
            retry_pause(&answer("Sun, 06 Nov 1994 09:49:37 GMT"), 0, now),
            None,
            "an hour is longer than a run waits"
        );
        assert_eq!(
            retry_pause(&answer("soon"), 1, now),
            Some(BACKOFF_START * 2),
            "a value that is neither backs off"
        );
    }

    #[test]
    fn without_retry_after_429_and_503_back_off_exponentially() {
        let now = SystemTime::now();
        let bare = |status| Received::new(status, Vec::new(), None, Vec::new());

        assert_eq!(retry_pause(&bare(429), 0, now), Some(BACKOFF_START));
        assert_eq!(retry_pause(&bare(503), 1, now), Some(BACKOFF_START * 2));
        assert_eq!(retry_pause(&bare(429), 2, now), Some(BACKOFF_START * 4));
        assert_eq!(retry_pause(&bare(502), 0, now), None);
    }

    #[test]
    fn a_raw_body_goes_out_as_given_with_its_content_type() {
        let op = operation("/flows", vec![], Some("application/json"));
        let call = Call::new("op").raw_body("text/plain", "{\"name\": ");

        let (content_type, body) = encode_body(&op, &call).unwrap();

        assert_eq!(content_type.as_deref(), Some("text/plain"));
        assert_eq!(body.unwrap(), b"{\"name\": ");
        let bodiless = operation("/flows/{flowId}", vec![], None);
        assert!(encode_body(&bodiless, &call).is_err());
    }

    #[test]
    fn only_probes_and_calls_marked_invalid_are_deliberately_invalid() {
        assert!(!Call::new("op").invalid);
        assert!(!Call::new("op").without_token().invalid);
        assert!(!Call::new("op").as_user("b").invalid);
        assert!(Call::new("op").with_probe_token("forged").invalid);
        assert!(Call::new("op").invalid().invalid);
    }
}
