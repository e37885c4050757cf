//! What went wrong, in terms a caller can act on.
//!
//! The generated builders return progenitor's [`Error`] with the spec's Boom
//! payload ([`types::BoomError`]); [`ApiErrorExt`] reads it without matching
//! on progenitor's variants. The hand-written parts of the client (building,
//! logging in, signing up) return [`ClientError`], which says what to fix.
//!
//! progenitor's own `Display` of an [`ApiError`] quotes the whole response
//! body (a login answer holds a token) and every response header, and says
//! only "error sending request" about a transport failure. The client's
//! messages ([`ClientError`]'s `Display` and `Debug`, [`ApiErrorExt::summary`])
//! are one line instead: the URL and kind of a transport failure with what to
//! check, the status with Boom's `error` and `message` of an HTTP error, and
//! of a body that does not parse its length and a short redacted preview.

use std::fmt;

use reqwest::StatusCode;

use crate::{Error, redact, types};

/// The error of every generated operation.
pub type ApiError = Error<types::BoomError>;

/// Reading an [`ApiError`]: its status, the server's Boom payload and message.
pub trait ApiErrorExt {
    /// The Boom payload the server answered with, when it sent one.
    fn boom(&self) -> Option<&types::BoomError>;

    /// The server's explanation (Boom's `message`), when it sent one.
    fn message(&self) -> Option<&str> {
        self.boom().map(|boom| boom.message.as_str())
    }

    /// The HTTP status, when the server answered at all.
    fn http_status(&self) -> Option<StatusCode>;

    /// Whether the server answered 404 Not Found.
    fn is_not_found(&self) -> bool {
        self.http_status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the server answered 401 Unauthorized: no token, or a bad one.
    fn is_unauthorized(&self) -> bool {
        self.http_status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// Whether the server answered 403 Forbidden.
    fn is_forbidden(&self) -> bool {
        self.http_status() == Some(StatusCode::FORBIDDEN)
    }

    /// Whether the server answered 409 Conflict.
    fn is_conflict(&self) -> bool {
        self.http_status() == Some(StatusCode::CONFLICT)
    }

    /// What went wrong, in one line without secrets: use it instead of the
    /// error's own `Display`, which prints whole bodies and headers.
    fn summary(&self) -> String;
}

impl ApiErrorExt for ApiError {
    fn boom(&self) -> Option<&types::BoomError> {
        match self {
            Error::ErrorResponse(response) => Some(response.as_ref()),
            _ => None,
        }
    }

    fn http_status(&self) -> Option<StatusCode> {
        self.status()
    }

    fn summary(&self) -> String {
        summarize(self)
    }
}

/// An error of the hand-written part of the client.
///
/// Its `Display` and `Debug` are the same one line; neither prints a body
/// beyond a short redacted preview, nor a header.
#[derive(thiserror::Error)]
pub enum ClientError {
    /// The base URL is not an absolute `http` or `https` URL with a host.
    #[error(
        "base URL `{value}` is not usable: {reason}; give the engine's address, \
         e.g. `https://api.acme.appmixer.cloud` or `http://localhost:2200`"
    )]
    InvalidBaseUrl {
        /// The URL as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// `reqwest` could not build its client (TLS or system configuration).
    #[error("cannot build the HTTP client: {0}; check the TLS and proxy configuration")]
    HttpClient(#[source] reqwest::Error),

    /// The login was answered 403: Appmixer's way of saying the user does not
    /// exist.
    #[error(
        "user `{username}` does not exist (the login was answered 403 Forbidden); \
         sign the user up first, e.g. with `Client::signup`"
    )]
    UnknownUser {
        /// The username that was tried.
        username: String,
    },

    /// The login was answered 401: the user exists, the password is wrong.
    #[error(
        "wrong password for user `{username}` (the login was answered 401 Unauthorized); \
         check the password"
    )]
    WrongPassword {
        /// The username that was tried.
        username: String,
    },

    /// The signup was answered 409: the username is taken.
    #[error(
        "user `{username}` already exists (the signup was answered 409 Conflict); \
         log in instead, e.g. with `Client::login`"
    )]
    UserExists {
        /// The username that was tried.
        username: String,
    },

    /// Any other failure of a request. Boxed: progenitor's error is large,
    /// and every `Result` carrying a `ClientError` would be as large.
    ///
    /// The message is [`ApiErrorExt::summary`]; the error is not given as a
    /// `source`, since a chain printer would print its body in full.
    #[error("{}", summarize(.0))]
    Api(Box<ApiError>),
}

impl fmt::Debug for ClientError {
    // The derived `Debug` would print progenitor's error, whose `Debug` is
    // its `Display`: the whole body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            Self::InvalidBaseUrl { .. } => "InvalidBaseUrl",
            Self::HttpClient(_) => "HttpClient",
            Self::UnknownUser { .. } => "UnknownUser",
            Self::WrongPassword { .. } => "WrongPassword",
            Self::UserExists { .. } => "UserExists",
            Self::Api(_) => "Api",
        };
        write!(f, "ClientError::{variant}({self})")
    }
}

impl From<ApiError> for ClientError {
    fn from(error: ApiError) -> Self {
        Self::Api(Box::new(error))
    }
}

impl ClientError {
    /// The HTTP status, when the error comes from a server's answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::InvalidBaseUrl { .. } | Self::HttpClient(_) => None,
            Self::UnknownUser { .. } => Some(StatusCode::FORBIDDEN),
            Self::WrongPassword { .. } => Some(StatusCode::UNAUTHORIZED),
            Self::UserExists { .. } => Some(StatusCode::CONFLICT),
            Self::Api(error) => error.status(),
        }
    }

    /// The server's Boom `message`, when the error carries one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Api(error) => error.message(),
            _ => None,
        }
    }

    /// Whether the server answered 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
}

/// The one-line message of `error` (see the module docs).
fn summarize(error: &ApiError) -> String {
    match error {
        Error::InvalidRequest(reason) => format!(
            "the request could not be built: {reason}; check the values given to the \
             operation's builder"
        ),
        Error::CommunicationError(error) => transport_failure(error),
        Error::InvalidUpgrade(error) => {
            format!(
                "the connection upgrade failed: {}",
                transport_failure(error)
            )
        }
        Error::ErrorResponse(response) => http_failure(response.status(), response.as_ref()),
        Error::ResponseBodyError(error) => {
            let at = error
                .url()
                .map(|url| format!(" from {}", without_query(url)))
                .unwrap_or_default();
            format!(
                "the body of the answer{at} could not be read: {}",
                causes(error)
            )
        }
        Error::InvalidResponsePayload(body, parse) => format!(
            "the answer's body does not have the shape the spec gives ({}); the body is {} \
             bytes and starts `{}`; check that the base URL points at an Appmixer engine",
            redact::parse_error(&parse.to_string()),
            body.len(),
            redact::body_preview(body),
        ),
        Error::UnexpectedResponse(response) => format!(
            "{} answered {}, which the spec does not list for this operation; check that the \
             base URL points at an Appmixer engine and not at a proxy or another service",
            without_query(response.url()),
            status_text(response.status()),
        ),
        Error::Custom(message) => message.clone(),
    }
}

/// `500 Internal Server Error`.
fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// An HTTP error with a Boom payload: status, Boom's `error` and `message`,
/// and what the status usually calls for.
fn http_failure(status: StatusCode, boom: &types::BoomError) -> String {
    let reason = if boom.error.is_empty() {
        status.canonical_reason().unwrap_or_default().to_owned()
    } else {
        redact::server_message(&boom.error)
    };
    let message = redact::server_message(&boom.message);
    let advice = match status.as_u16() {
        400 | 422 => "check the values sent",
        401 => "log in again or give a valid token",
        403 => "the user may not do this; check the user and the object's owner",
        404 => "check the id or name in the request",
        409 => "the object exists or is in a state that forbids this",
        408 | 429 => "the server asks to slow down; wait, or let the retry policy retry",
        500..=599 => "the server failed; see its logs, and retry later",
        _ => "see the server's message",
    };
    format!(
        "the server answered {} {reason}: {message}; {advice}",
        status.as_u16()
    )
}

/// What kind of transport failure an error is, judged from its causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportKind {
    /// Nothing listens at the address.
    Refused,
    /// Opening the connection took longer than the connect timeout.
    ConnectTimedOut,
    /// The answer took longer than the request timeout.
    TimedOut,
    /// The connection was closed or reset before the answer was complete.
    Closed,
    /// The TLS handshake failed.
    Tls,
    /// The host name did not resolve.
    Dns,
    /// Anything else.
    Other,
}

impl TransportKind {
    /// Classifies `error` by `reqwest`'s flags and the causes it wraps.
    pub(crate) fn of(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            return if error.is_connect() {
                Self::ConnectTimedOut
            } else {
                Self::TimedOut
            };
        }
        let mut source = std::error::Error::source(error);
        let mut text = String::new();
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => return Self::Refused,
                    std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof => return Self::Closed,
                    _ => {}
                }
            }
            if cause.downcast_ref::<rustls::Error>().is_some() {
                return Self::Tls;
            }
            text.push_str(&cause.to_string().to_lowercase());
            text.push('\n');
            source = cause.source();
        }
        // hyper's and the resolver's errors are not public types; their
        // messages are what tells them apart.
        if text.contains("dns error") || text.contains("failed to lookup address") {
            Self::Dns
        } else if text.contains("connection closed")
            || text.contains("connection reset")
            || text.contains("incomplete message")
        {
            Self::Closed
        } else if text.contains("certificate") || text.contains("tls") || text.contains("ssl") {
            Self::Tls
        } else if text.contains("connection refused") {
            Self::Refused
        } else {
            Self::Other
        }
    }

    /// A few words for the kind, for messages and logs.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Refused => "connection refused",
            Self::ConnectTimedOut => "connecting timed out",
            Self::TimedOut => "timed out waiting for the answer",
            Self::Closed => "connection closed before the answer was complete",
            Self::Tls => "TLS handshake failed",
            Self::Dns => "the host name does not resolve",
            Self::Other => "request failed",
        }
    }

    /// What to check, for messages.
    fn advice(self) -> String {
        let connect = crate::config::CONNECT_TIMEOUT.as_secs();
        let request = crate::config::REQUEST_TIMEOUT.as_secs();
        match self {
            Self::Refused => String::from(
                "nothing listens there: check that the engine runs and that the base URL's host \
                 and port are right",
            ),
            Self::ConnectTimedOut => format!(
                "check that the host is reachable (firewall, VPN, proxy), or raise \
                 `ClientBuilder::connect_timeout` ({connect} s unless set)"
            ),
            Self::TimedOut => format!(
                "the server is slow or stuck: check its health, or raise \
                 `ClientBuilder::timeout` ({request} s unless set)"
            ),
            Self::Closed => String::from(
                "the server or a proxy in between dropped the connection: check the server's \
                 logs and that the URL's scheme (http or https) is the one it speaks",
            ),
            Self::Tls => String::from(
                "check that the server speaks https on that port and that its certificate is \
                 valid for the host",
            ),
            Self::Dns => String::from("check the base URL's host name"),
            Self::Other => String::from("check the base URL and the network"),
        }
    }
}

/// A transport failure: URL, kind, causes and what to check.
fn transport_failure(error: &reqwest::Error) -> String {
    let kind = TransportKind::of(error);
    let url = error
        .url()
        .map(|url| without_query(url).to_string())
        .unwrap_or_else(|| String::from("the server"));
    let causes = causes(error);
    let causes = if causes.is_empty() {
        String::new()
    } else {
        format!(" ({causes})")
    };
    format!(
        "cannot reach {url}: {}{causes}; {}",
        kind.label(),
        kind.advice()
    )
}

/// The messages of the causes of `error`, joined by `: `, secrets redacted.
/// `reqwest`'s own message is left out: it only repeats the URL.
pub(crate) fn causes(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        parts.push(redact::server_message(&cause.to_string()));
        source = cause.source();
    }
    parts.join(": ")
}

/// `url` without its query string, which may carry a people-task secret.
fn without_query(url: &reqwest::Url) -> reqwest::Url {
    let mut url = url.clone();
    url.set_query(None);
    url
}
