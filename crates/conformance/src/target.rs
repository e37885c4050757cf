//! Which server a run checks, and as which user.
//!
//! Without `--url` the harness starts the embedded reference server on
//! 127.0.0.1 and signs a user up there; with `--url` it checks that server,
//! either signing its own run-tagged user up (`--signup`), logging in with
//! the given credentials, or using a token it was given (`--token`, which
//! lets a `--read-only` run send nothing but reads). Signing in is also the
//! connection check: a server that cannot be reached, answers too slowly,
//! answers with something that is not the API, or refuses the credentials
//! ends the run here with a one-line [`RunError`] instead of a report full
//! of failures.

use serde_json::{Value, json};
use url::Url;

use crate::cleanup::Kind;
use crate::error::RunError;
use crate::guards::Stop;
use crate::redact;
use crate::session::{Session, User};
use crate::transport::{Call, Exchange, TransportError};

/// How the run gets its user.
#[derive(Clone, PartialEq, Eq)]
pub enum Login {
    /// Sign a new user up, named after the run tag.
    Signup,
    /// Log in as an existing user.
    Credentials {
        /// The username (or e-mail).
        username: String,
        /// The password.
        password: String,
    },
    /// Use a token obtained elsewhere.
    Token(String),
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Login::Signup => f.write_str("Signup"),
            Login::Token(_) => f.write_str("Token(<redacted>)"),
            Login::Credentials { username, .. } => f
                .debug_struct("Credentials")
                .field("username", username)
                .field("password", &redact::REDACTED)
                .finish(),
        }
    }
}

/// Checks that `text` is an http(s) URL with a host, a valid port and no
/// credentials in it.
///
/// Credentials in the URL (`http://user:password@host`) are refused rather
/// than used: they would be sent as Basic auth on every request and printed
/// wherever the URL is; the run's user is given with `--username` and
/// `--password`. No error repeats a password given that way.
pub fn parse_url(text: &str) -> Result<Url, RunError> {
    let shown = without_userinfo(text);
    let invalid = || RunError::InvalidUrl { url: shown.clone() };
    let url = match Url::parse(text) {
        Ok(url) => url,
        Err(url::ParseError::InvalidPort) => {
            return Err(RunError::InvalidPort {
                url: shown.clone(),
                port: port_text(&shown),
            });
        }
        Err(url::ParseError::EmptyHost) if has_http_scheme(text) => {
            return Err(RunError::MissingHost { url: shown });
        }
        Err(_) => return Err(invalid()),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RunError::MissingHost { url: shown });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RunError::CredentialsInUrl { url: shown });
    }
    if url.port() == Some(0) {
        return Err(RunError::InvalidPort {
            url: shown,
            port: "0".into(),
        });
    }
    Ok(url)
}

fn has_http_scheme(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// `text` with the userinfo of its authority (`user:password@`) replaced,
/// so that a password in a URL is never shown.
fn without_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{}@{host}{tail}", redact::REDACTED),
        None => text.to_string(),
    }
}

/// The port of a URL's authority, as written (empty when it has none).
fn port_text(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if host_port.ends_with(']') {
        return String::new();
    }
    host_port
        .rsplit_once(':')
        .map(|(_, port)| port.to_string())
        .unwrap_or_default()
}

/// The server under test: the embedded reference server or a URL.
pub struct Target {
    /// The base URL requests go to.
    pub base_url: Url,
    embedded: Option<appmixer_reference::Server>,
}

impl Target {
    /// Starts the embedded reference server.
    pub async fn embedded() -> Result<Self, RunError> {
        let server = appmixer_reference::spawn()
            .await
            .map_err(RunError::Embedded)?;
        let base_url = parse_url(&server.base_url())?;
        tracing::info!(url = %base_url, "embedded reference server started");
        Ok(Self {
            base_url,
            embedded: Some(server),
        })
    }

    /// A server reached at `url`.
    pub fn remote(url: Url) -> Self {
        Self {
            base_url: url,
            embedded: None,
        }
    }

    /// Whether this is the embedded reference server.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Stops the embedded server, if there is one.
    pub async fn stop(self) {
        if let Some(server) = self.embedded {
            server.shutdown().await;
        }
    }
}

/// Why the log-in and sign-up checks do not apply with `--token`.
pub const TOKEN_MODE: &str = "token mode: no password to log in with";

/// The operations whose checks need the run user's password, waived in
/// token mode: a duplicate sign-up must repeat the password, lest a server
/// that wrongly accepts it lock the operator out.
pub const NEEDS_PASSWORD: &[&str] = &["signupUser"];

/// The username a signed-up user of run `tag` gets.
pub fn signup_username(tag: &str) -> String {
    format!("{tag}@example.com")
}

/// Signs the run's user in and gives the session its token.
pub async fn sign_in(session: &mut Session, login: &Login) -> Result<(), RunError> {
    match login {
        Login::Signup => sign_up(session).await,
        Login::Credentials { username, password } => log_in(session, username, password).await,
        Login::Token(token) => use_token(session, token).await,
    }
}

async fn use_token(session: &mut Session, token: &str) -> Result<(), RunError> {
    tracing::info!("using the given token");
    session.transport.set_token(token.to_string());
    let exchange = send(session, Call::new("getUser")).await?;
    let body = api_answer(session, &exchange)?;
    if exchange.status() == 404 {
        // Appmixer answers 404 for a token whose user is gone, and any
        // server does for a path it does not serve: both are possible.
        return Err(RunError::Connection {
            url: session.transport.base_url().to_string(),
            reason: format!(
                "`getUser` with the given token answered 404 at {} ({}): either `--url` is \
                 not the API's base URL (the API's paths such as `/user` follow it) or the \
                 token's user no longer exists; check the base URL first, then `--token` (or \
                 APPMIXER_TOKEN)",
                exchange.request.url,
                message_of(&body)
            ),
        });
    }
    if !exchange.is_success() {
        return Err(RunError::Connection {
            url: session.transport.base_url().to_string(),
            reason: format!(
                "`getUser` with the given token answered {} ({}); check `--token` (or \
                 APPMIXER_TOKEN)",
                exchange.status(),
                message_of(&body)
            ),
        });
    }
    let username = body
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or(&username)
        .to_string();
    session.user = Some(User {
        username,
        password: String::new(),
        email,
        signed_up: false,
        by_token: true,
    });
    Ok(())
}

async fn sign_up(session: &mut Session) -> Result<(), RunError> {
    let username = signup_username(&session.tag);
    // Random and used only for this run's own user.
    let password = format!("Amxc-{}!", uuid::Uuid::new_v4().simple());
    tracing::info!(%username, "signing up the run's user");

    let exchange = send(
        session,
        Call::new("signupUser").body(json!({"username": username, "password": password})),
    )
    .await?;
    let body = api_answer(session, &exchange)?;
    if exchange.status() >= 500 {
        return Err(RunError::Connection {
            url: session.transport.base_url().to_string(),
            reason: format!(
                "signing up `{username}` failed with a server error ({}: {}); check that the \
                 server is healthy (its log should say what failed)",
                exchange.status(),
                message_of(&body)
            ),
        });
    }
    if exchange.status() == 404 {
        return Err(RunError::Connection {
            url: session.transport.base_url().to_string(),
            reason: format!(
                "signing up `{username}` answered 404 at {} ({}): no sign-up there; check \
                 the base URL given as `--url` (the API's paths such as `/user` follow it)",
                exchange.request.url,
                message_of(&body)
            ),
        });
    }
    if !exchange.is_success() {
        return Err(RunError::Connection {
            url: session.transport.base_url().to_string(),
            reason: format!(
                "signing up `{username}` was refused ({}: {}); the server may restrict user \
                 creation: use `--username` and `--password` instead of `--signup`",
                exchange.status(),
                message_of(&body)
            ),
        });
    }
    let token = token_of(session, &exchange, &body, "/token")?;
    session.created(Kind::User, &username);
    session.transport.set_token(token);
    session.user = Some(User {
        email: username.clone(),
        username,
        password,
        signed_up: true,
        by_token: false,
    });
    Ok(())
}

async fn log_in(session: &mut Session, username: &str, password: &str) -> Result<(), RunError> {
    tracing::info!(%username, "logging in");
    let exchange = send(
        session,
        Call::new("authenticateUser").body(json!({"username": username, "password": password})),
    )
    .await?;
    let body = api_answer(session, &exchange)?;
    // Appmixer refuses an unknown user with 403 and a wrong password with
    // 400 or 401; a 404 means the log-in is not at this URL.
    if exchange.status() == 404 {
        return Err(RunError::Connection {
            url: session.transport.base_url().to_string(),
            reason: format!(
                "logging `{username}` in answered 404 at {} ({}): no log-in there; check the \
                 base URL given as `--url` (the API's paths such as `/user/auth` follow it)",
                exchange.request.url,
                message_of(&body)
            ),
        });
    }
    if matches!(exchange.status(), 400 | 401 | 403) {
        return Err(RunError::Login {
            url: session.transport.base_url().to_string(),
            username: username.to_string(),
            status: exchange.status(),
            message: message_of(&body),
        });
    }
    if !exchange.is_success() {
        return Err(RunError::Connection {
            url: session.transport.base_url().to_string(),
            reason: format!(
                "logging in answered {} ({}); check that the server is healthy",
                exchange.status(),
                message_of(&body)
            ),
        });
    }
    let token = token_of(session, &exchange, &body, "/token")?;
    let email = body
        .pointer("/user/email")
        .and_then(Value::as_str)
        .unwrap_or(username)
        .to_string();
    session.transport.set_token(token);
    session.user = Some(User {
        username: username.to_string(),
        password: password.to_string(),
        email,
        signed_up: false,
        by_token: false,
    });
    Ok(())
}

/// Sends a sign-in call, turning a missing answer into a connection error.
async fn send(session: &mut Session, call: Call) -> Result<Exchange, RunError> {
    let url = session.transport.base_url().to_string();
    match session.transport.send(call).await {
        Ok(exchange) => {
            session.check(&exchange);
            Ok(exchange)
        }
        Err(TransportError::Network {
            reason,
            not_http: true,
            ..
        }) => Err(RunError::Connection {
            url,
            reason: format!(
                "the server answered, but not in HTTP ({reason}): a protocol error, not a \
                 slow server; check that `--url` names the Appmixer engine's HTTP port, with \
                 the scheme it speaks (http:// or https://)"
            ),
        }),
        Err(TransportError::Network { reason, .. }) => Err(RunError::Connection {
            url,
            reason: format!(
                "no answer ({reason}); check that `--url` points at a running Appmixer \
                 engine, or raise `--timeout` if it is slow"
            ),
        }),
        Err(
            error @ (TransportError::Budget { .. }
            | TransportError::FailureStreak { .. }
            | TransportError::RetryAfter { .. }),
        ) => Err(stopped_signing_in(session, error.to_string())),
        Err(error) => Err(RunError::Connection {
            url,
            reason: error.to_string(),
        }),
    }
}

/// The error of a sign-in that a safety guard stopped, `reason` saying
/// which. A used-up budget says nothing of why the sign-in needed more
/// requests than it had: the server's last answer does, and is named.
pub(crate) fn stopped_signing_in(session: &Session, reason: String) -> RunError {
    let mut reason = reason;
    let last = session.transport.last_answer();
    if let (Some(Stop::Budget { .. }), Some(last)) = (session.transport.stop(), last) {
        reason.push_str(&format!(". The server's last answer: {last}"));
        if last.is_throttling() {
            reason.push_str(
                ", so it is limiting requests: wait until it accepts them and run again, or \
                 lower `--rate`",
            );
        }
    }
    RunError::Stopped {
        url: session.transport.base_url().to_string(),
        reason,
    }
}

/// The JSON body of a sign-in answer, or an error saying the server does not
/// speak the API.
///
/// A redirect and a 429 are named as such first: neither is the API's
/// answer, and the harness follows no redirect (a redirect could carry the
/// credentials elsewhere) and retries a 429 only briefly.
fn api_answer(session: &Session, exchange: &Exchange) -> Result<Value, RunError> {
    let connection = |reason: String| RunError::Connection {
        url: session.transport.base_url().to_string(),
        reason,
    };
    let status = exchange.status();
    if matches!(status, 301 | 302 | 303 | 307 | 308) {
        let location = header_of(exchange, "location").unwrap_or("no `Location`");
        return Err(connection(format!(
            "{} at {} answered {status}, a redirect to `{location}`; the harness does not \
             follow redirects: give the URL the API answers at as `--url`",
            exchange.operation, exchange.request.url
        )));
    }
    if status == 429 {
        let retry_after = header_of(exchange, "retry-after")
            .map(|value| format!("`Retry-After: {value}`"))
            .unwrap_or_else(|| "no `Retry-After`".into());
        return Err(connection(format!(
            "{} answered 429 (too many requests) with {retry_after}, still after the \
             transport's retries; wait that long and run again, or lower `--rate`",
            exchange.operation
        )));
    }
    let content_type = exchange
        .response
        .content_type
        .clone()
        .unwrap_or_else(|| "no content type".into());
    let body = exchange.json();
    if status == 404 && !body.as_ref().is_some_and(Value::is_object) {
        return Err(connection(format!(
            "{} answered 404 at {}: the API is not there; check the base URL given as \
             `--url` (the API's paths such as `/user` follow it)",
            exchange.operation, exchange.request.url
        )));
    }
    match body {
        Some(body) if body.is_object() => Ok(body),
        Some(_) => Err(connection(format!(
            "{} answered {status} with JSON that is not an object ({}); check that `--url` \
             is the base URL of an Appmixer API",
            exchange.operation,
            redact::body_preview(&exchange.response.body, 60)
        ))),
        None => Err(connection(format!(
            "{} answered {status} with a body that is not JSON ({content_type}): is this an \
             Appmixer API URL? ({})",
            exchange.operation,
            redact::body_preview(&exchange.response.body, 60)
        ))),
    }
}

/// The value of the response header `name`, as sent.
fn header_of<'a>(exchange: &'a Exchange, name: &str) -> Option<&'a str> {
    exchange
        .response
        .headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn token_of(
    session: &Session,
    exchange: &Exchange,
    body: &Value,
    pointer: &str,
) -> Result<String, RunError> {
    let wrong_type = |found: &str| RunError::Connection {
        url: session.transport.base_url().to_string(),
        reason: format!(
            "{} answered {} with a `token` of the wrong type ({found}, expected a string); \
             check that `--url` is the base URL of an Appmixer API",
            exchange.operation,
            exchange.status()
        ),
    };
    match body.pointer(pointer) {
        Some(Value::String(token)) if !token.is_empty() => Ok(token.to_string()),
        Some(Value::Number(_)) => Err(wrong_type("a number")),
        Some(Value::Bool(_)) => Err(wrong_type("a boolean")),
        Some(Value::Array(_)) => Err(wrong_type("an array")),
        Some(Value::Object(_)) => Err(wrong_type("an object")),
        _ => Err(RunError::Connection {
            url: session.transport.base_url().to_string(),
            reason: format!(
                "{} answered {} without a `token`; check that `--url` is the base URL of an \
                 Appmixer API",
                exchange.operation,
                exchange.status()
            ),
        }),
    }
}

fn message_of(body: &Value) -> String {
    body.get("message")
        .and_then(Value::as_str)
        .map(|m| redact::truncate(m, 120))
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host_are_accepted() {
        assert!(parse_url("http://127.0.0.1:2200").is_ok());
        assert!(parse_url("https://api.example.com/base").is_ok());

        let error = parse_url("ftp://x").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`--url` must be an http(s) URL, got `ftp://x`: only http and https are supported"
        );
        assert!(parse_url("localhost:2200").is_err());
        let no_host = parse_url("http://").unwrap_err().to_string();
        assert!(no_host.contains("has no host in `http://`"), "{no_host}");
    }

    #[test]
    fn a_port_out_of_range_is_named_as_the_problem() {
        let too_big = parse_url("http://127.0.0.1:99999").unwrap_err();
        let zero = parse_url("http://127.0.0.1:0/api").unwrap_err();

        assert_eq!(
            too_big.to_string(),
            "`--url` has an invalid port `99999` in `http://127.0.0.1:99999`: a port is a \
             number from 1 to 65535"
        );
        assert!(zero.to_string().contains("invalid port `0`"), "{zero}");
        assert_eq!(too_big.exit_code(), 2);
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_showing_the_password() {
        let error = parse_url("http://jane:hunter2@127.0.0.1:2200/api").unwrap_err();
        let bad_port = parse_url("http://jane:hunter2@127.0.0.1:99999").unwrap_err();
        let user_only = parse_url("http://jane@127.0.0.1:2200").unwrap_err();

        let shown = error.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("`--username` and `--password`"), "{shown}");
        assert!(
            shown.contains("http://<redacted>@127.0.0.1:2200/api"),
            "{shown}"
        );
        assert!(!bad_port.to_string().contains("hunter2"), "{bad_port}");
        assert!(matches!(user_only, RunError::CredentialsInUrl { .. }));
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn debug_of_credentials_hides_the_password() {
        let login = Login::Credentials {
            username: "jane".into(),
            password: "hunter2".into(),
        };

        let shown = format!("{login:?}");

        assert!(
            shown.contains("jane") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
