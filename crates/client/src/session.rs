//! What a [`Client`](crate::Client) knows about its user: the token, the
//! credentials to log in again, and how to retry.
//!
//! The generated client stores a [`Session`] as its `inner` value; clones of a
//! client share one session, so a token that one clone gets by logging in again
//! is used by all of them. There is no refresh endpoint in Appmixer: when the
//! server answers 401 to a request made with an expired token, the session logs
//! in once more with the credentials it keeps, if it has them.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use reqwest::header::{AUTHORIZATION, HeaderValue};

use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// A username and its password, kept to log in again.
#[derive(Clone, Debug)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: Secret,
}

/// The state shared by a client and its clones.
///
/// A session is made by [`ClientBuilder`](crate::ClientBuilder); its `Debug`
/// output shows whether a token is set but never the token or the password.
#[derive(Clone)]
pub struct Session(Arc<State>);

struct State {
    token: RwLock<Option<Secret>>,
    credentials: Option<Credentials>,
    retry: RetryPolicy,
    /// The largest response body read, in bytes.
    max_body_size: u64,
    /// Held while logging in again, so that requests rejected together cause
    /// one login, not one each.
    relogin: tokio::sync::Mutex<()>,
}

impl Session {
    pub(crate) fn new(
        token: Option<Secret>,
        credentials: Option<Credentials>,
        retry: RetryPolicy,
    ) -> Self {
        Self(Arc::new(State {
            token: RwLock::new(token),
            credentials,
            retry,
            max_body_size: u64::MAX,
            relogin: tokio::sync::Mutex::new(()),
        }))
    }

    /// The session with a limit on the size of response bodies; only a
    /// session nobody shares yet can take one.
    pub(crate) fn with_max_body_size(mut self, bytes: u64) -> Self {
        if let Some(state) = Arc::get_mut(&mut self.0) {
            state.max_body_size = bytes;
        }
        self
    }

    /// The largest response body the client reads, in bytes.
    pub fn max_body_size(&self) -> u64 {
        self.0.max_body_size
    }

    /// The token requests are sent with, if there is one.
    pub fn token(&self) -> Option<Secret> {
        self.0
            .token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the session can log in again when its token expires.
    pub fn can_log_in_again(&self) -> bool {
        self.0.credentials.is_some()
    }

    /// The retry policy of every request.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.0.retry
    }

    pub(crate) fn set_token(&self, token: Secret) {
        *self.0.token.write().unwrap_or_else(PoisonError::into_inner) = Some(token);
    }

    pub(crate) fn credentials(&self) -> Option<&Credentials> {
        self.0.credentials.as_ref()
    }

    pub(crate) fn relogin_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.0.relogin
    }

    /// Puts `Authorization: Bearer <token>` on `request`, marked sensitive so
    /// that `reqwest` and `http` never print it; returns the token used, or
    /// `None` (and removes any stale header) when the session has none.
    pub(crate) fn authorize(&self, request: &mut reqwest::Request) -> Option<Secret> {
        let Some(token) = self.token() else {
            request.headers_mut().remove(AUTHORIZATION);
            return None;
        };
        match HeaderValue::from_str(&format!("Bearer {}", token.expose())) {
            Ok(mut value) => {
                value.set_sensitive(true);
                request.headers_mut().insert(AUTHORIZATION, value);
                Some(token)
            }
            Err(_) => {
                // A token with control characters cannot be a JWT; sending the
                // request without it gets the server's 401, which says more
                // than a local error would.
                tracing::warn!("the token is not a valid header value; sending without it");
                request.headers_mut().remove(AUTHORIZATION);
                None
            }
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = self.token();
        f.debug_struct("Session")
            .field("token", &token)
            .field("credentials", &self.0.credentials)
            .field("retry", &self.0.retry)
            .field("max_body_size", &self.0.max_body_size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session_with(token: &str) -> Session {
        let credentials = Credentials {
            username: String::from("jane@example.com"),
            password: Secret::new("correct horse"),
        };
        Session::new(
            Some(Secret::new(token)),
            Some(credentials),
            RetryPolicy::none(),
        )
    }

    #[test]
    fn debug_shows_the_username_but_no_secret() {
        let session = session_with("eyJ.token.sig");

        let printed = format!("{session:?}");

        assert!(printed.contains("jane@example.com"), "{printed}");
        assert!(!printed.contains("eyJ.token.sig"), "{printed}");
        assert!(!printed.contains("correct horse"), "{printed}");
    }

    #[test]
    fn authorize_sets_a_sensitive_bearer_header() {
        let session = session_with("abc");
        let mut request = reqwest::Request::new(
            reqwest::Method::GET,
            "http://127.0.0.1/flows".parse().unwrap(),
        );

        let used = session.authorize(&mut request);

        let value = &request.headers()[AUTHORIZATION];
        assert_eq!(used, Some(Secret::new("abc")));
        assert_eq!(value, "Bearer abc");
        assert!(value.is_sensitive());
    }

    #[test]
    fn clones_share_a_new_token() {
        let session = session_with("old");
        let clone = session.clone();

        session.set_token(Secret::new("new"));

        assert_eq!(clone.token(), Some(Secret::new("new")));
    }
}
