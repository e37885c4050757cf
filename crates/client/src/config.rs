//! Building a [`Client`]: base URL, token, timeouts, retries, user agent.
//!
//! [`ClientBuilder`] is the one way in: it checks the base URL, builds the
//! `reqwest` client (TLS through rustls with the `ring` provider) and hands
//! both, with a fresh [`Session`], to the generated constructor.
//!
//! A base URL may not carry credentials (`http://user:password@host`):
//! reqwest would send them as Basic auth with every request, and the
//! generated client prints its base URL in `Debug`. Credentials go to
//! [`Client::login`] instead, which keeps the password as a [`Secret`].

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use reqwest::Url;

use crate::error::ClientError;
use crate::retry::RetryPolicy;
use crate::session::{Credentials, Session};
use crate::{Client, Secret};

/// How long to wait for a connection to open, unless configured.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a whole request may take, unless configured.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest response body the client reads, unless configured.
const MAX_BODY_SIZE: u64 = 64 * 1024 * 1024;

/// The `User-Agent` sent unless configured.
const USER_AGENT: &str = concat!("appmixer-client/", env!("CARGO_PKG_VERSION"));

/// Configures and builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use appmixer_client::{Client, RetryPolicy};
///
/// let client = Client::builder("https://api.acme.appmixer.cloud")
///     .token("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl")
///     .timeout(Duration::from_secs(10))
///     .retry(RetryPolicy::default().max_attempts(3))
///     .build()?;
/// # Ok::<(), appmixer_client::ClientError>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    token: Option<Secret>,
    credentials: Option<Credentials>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    max_body_size: u64,
}

impl fmt::Debug for ClientBuilder {
    // A base URL with credentials is refused by `build`, but it may be
    // printed before.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &redact_userinfo(&self.base_url))
            .field("token", &self.token)
            .field("credentials", &self.credentials)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("max_body_size", &self.max_body_size)
            .finish()
    }
}

impl Client {
    /// Starts configuring a client for the engine at `base_url`.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// The token this client sends, if it has one, e.g. to keep it for the
    /// next run.
    pub fn token(&self) -> Option<Secret> {
        self.session().token()
    }

    /// The session progenitor keeps as the client's `inner` value.
    pub(crate) fn session(&self) -> &Session {
        &self.inner
    }
}

impl ClientBuilder {
    /// Starts configuring a client for the engine at `base_url`, e.g.
    /// `https://api.acme.appmixer.cloud` or `http://localhost:2200`.
    ///
    /// [`build`](Self::build) refuses a URL with credentials
    /// (`http://user:password@host`); log in with [`login`](Self::login).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            token: None,
            credentials: None,
            connect_timeout: CONNECT_TIMEOUT,
            timeout: REQUEST_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent: USER_AGENT.to_owned(),
            max_body_size: MAX_BODY_SIZE,
        }
    }

    /// Sends `token` as `Authorization: Bearer <token>`.
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    pub(crate) fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Gives up on opening a connection after `timeout` (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Gives up on a request, body included, after `timeout` (default 30 s);
    /// each retry gets the whole time again.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries failed requests by `policy` (default [`RetryPolicy::default`];
    /// [`RetryPolicy::none`] sends each request once).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sends `user_agent` as `User-Agent` (default `appmixer-client/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Reads response bodies of at most `bytes` bytes (default 64 MiB); a
    /// larger one fails the request with an error that names the limit,
    /// before more than `bytes` bytes are held in memory.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Checks the base URL and builds the client.
    pub fn build(self) -> Result<Client, ClientError> {
        let base_url = base_url(&self.base_url)?;
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(ClientError::HttpClient)?;
        let session = Session::new(self.token, self.credentials, self.retry)
            .with_max_body_size(self.max_body_size);
        Ok(Client::new_with_client(&base_url, http, session))
    }
}

/// Checks `value` and returns it without a trailing slash, as the generated
/// code appends paths that start with one.
fn base_url(value: &str) -> Result<String, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidBaseUrl {
        value: redact_userinfo(value).into_owned(),
        reason: reason.to_owned(),
    };
    let url =
        Url::parse(value).map_err(|error| invalid(&format!("it does not parse ({error})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it carries credentials before the host, which would be sent as Basic auth with \
             every request and printed with the client; remove them and pass the username and \
             password to `Client::login` (or `ClientBuilder::login`) instead",
        ));
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(&format!(
            "the scheme is `{}`, not `http` or `https`",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "it has a query or a fragment, which would end up in the middle of every request URL",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `value` with whatever stands before an `@` in its authority replaced by
/// `[redacted]`: `http://jane:pw@host/` gives `http://[redacted]@host/`.
///
/// It works on the text, so that a URL too broken to parse is redacted too.
fn redact_userinfo(value: &str) -> Cow<'_, str> {
    let Some(scheme_end) = value.find("://") else {
        return Cow::Borrowed(value);
    };
    let authority_start = scheme_end + "://".len();
    let authority_len = value[authority_start..]
        .find(['/', '?', '#', '\\'])
        .unwrap_or(value.len() - authority_start);
    let authority = &value[authority_start..authority_start + authority_len];
    match authority.rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}[redacted]{}",
            &value[..authority_start],
            &value[authority_start + at..]
        )),
        None => Cow::Borrowed(value),
    }
}

/// Makes `ring` the process's rustls crypto provider unless one is installed.
///
/// The workspace builds `reqwest` with `rustls-no-provider`, which panics on
/// building a client when no provider is installed, for `http` URLs too. An
/// application that installed its own provider keeps it: installing fails then,
/// and that failure is the expected case, not an error.
fn install_crypto_provider() {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_drops_a_trailing_slash() {
        assert_eq!(
            base_url("http://localhost:2200/").unwrap(),
            "http://localhost:2200"
        );
        assert_eq!(
            base_url("https://example.com/api/").unwrap(),
            "https://example.com/api"
        );
    }

    #[test]
    fn base_url_rejects_other_schemes_and_names_the_value() {
        let error = base_url("ftp://example.com").unwrap_err();

        let message = error.to_string();
        assert!(message.contains("`ftp://example.com`"), "{message}");
        assert!(message.contains("`ftp`"), "{message}");
    }

    #[test]
    fn redact_userinfo_hides_everything_before_the_host() {
        assert_eq!(
            redact_userinfo("http://jane:pw@example.com:8080/api"),
            "http://[redacted]@example.com:8080/api"
        );
        assert_eq!(
            redact_userinfo("https://key@example.com"),
            "https://[redacted]@example.com"
        );
        assert_eq!(redact_userinfo("http://jane:pw@"), "http://[redacted]@");
        assert_eq!(
            redact_userinfo("http://example.com/a@b"),
            "http://example.com/a@b"
        );
    }

    #[test]
    fn base_url_rejects_relative_urls_and_queries() {
        assert!(base_url("example.com").is_err());
        assert!(base_url("/flows").is_err());
        assert!(base_url("http://example.com/?a=1").is_err());
    }
}
