//! What went wrong, in terms a caller can act on.
//!
//! The generated builders return progenitor's [`Error`] with the spec's Boom
//! payload ([`types::BoomError`]); [`ApiErrorExt`] reads it without matching
//! on progenitor's variants. The hand-written parts of the client (building,
//! logging in, signing up) return [`ClientError`], which says what to fix.

use reqwest::StatusCode;

use crate::{Error, types};

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
}

/// An error of the hand-written part of the client.
#[derive(Debug, thiserror::Error)]
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
    #[error(transparent)]
    Api(Box<ApiError>),
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
