//! Why a run could not be carried out at all.
//!
//! A [`RunError`] is a usage, spec or connection problem: the run never got
//! to checking the server, and the process exits with status 2; or a safety
//! guard stopped it while it signed in, which exits with status 4 as every
//! guard's stop does. Failed checks are not errors; they are part of the
//! [`crate::Report`].

use std::path::PathBuf;

/// A usage, spec or connection problem that prevents a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The options contradict each other or miss something.
    #[error("{0}")]
    Usage(String),

    /// `--url` is not an http(s) URL with a host.
    #[error("`--url` must be an http(s) URL, got `{url}`: only http and https are supported")]
    InvalidUrl {
        /// The URL as given, credentials replaced.
        url: String,
    },

    /// `--url` has no host, e.g. `http://`.
    #[error("`--url` has no host in `{url}`: give one, e.g. `http://127.0.0.1:2200`")]
    MissingHost {
        /// The URL as given, credentials replaced.
        url: String,
    },

    /// `--url` has a port that is not a number from 1 to 65535.
    #[error("`--url` has an invalid port `{port}` in `{url}`: a port is a number from 1 to 65535")]
    InvalidPort {
        /// The URL as given, credentials replaced.
        url: String,
        /// The port as written.
        port: String,
    },

    /// `--url` carries a username or password.
    #[error(
        "`--url` must not carry credentials (`{url}`): they would be sent as Basic auth and \
         shown in reports; give the URL without `user:password@` and pass the user with \
         `--username` and `--password` (or APPMIXER_USERNAME and APPMIXER_PASSWORD), or use \
         `--token` or `--signup`"
    )]
    CredentialsInUrl {
        /// The URL with its credentials replaced.
        url: String,
    },

    /// A `--descriptors` file or directory cannot be used.
    #[error("`--descriptors`: {} {reason}", path.display())]
    Descriptors {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it and what to do.
        reason: String,
    },

    /// The spec cannot be loaded or compiled.
    #[error("{0}")]
    Spec(#[from] appmixer_spec::SpecError),

    /// The spec loads but cannot be checked against: a directory, or a
    /// document without operations.
    #[error("`--spec`: {} {reason}", path.display())]
    SpecUnusable {
        /// The path given.
        path: PathBuf,
        /// What is wrong with it and what to do.
        reason: String,
    },

    /// The embedded reference server did not start.
    #[error("cannot start the embedded reference server: {0}")]
    Embedded(std::io::Error),

    /// The server cannot be reached or does not speak the API.
    #[error("cannot use the server at {url}: {reason}")]
    Connection {
        /// The base URL.
        url: String,
        /// What happened, and what to check.
        reason: String,
    },

    /// A safety guard (the request budget, a failure streak, a long
    /// `Retry-After`) stopped the run while it signed in.
    #[error("a safety guard stopped the run while it signed in at {url}: {reason}")]
    Stopped {
        /// The base URL.
        url: String,
        /// Which guard, and what the server last answered.
        reason: String,
    },

    /// The server refused the credentials.
    #[error(
        "the server at {url} refused to log `{username}` in ({status}: {message}); \
         check `--username` and `--password` (or APPMIXER_USERNAME and APPMIXER_PASSWORD)"
    )]
    Login {
        /// The base URL.
        url: String,
        /// The username that was tried.
        username: String,
        /// The status of the refusal.
        status: u16,
        /// The server's message.
        message: String,
    },
}

impl RunError {
    /// The process exit status for this error: 4 when a safety guard
    /// stopped the run, else 2.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Stopped { .. } => crate::report::EXIT_STOPPED,
            _ => crate::report::EXIT_ERROR,
        }
    }
}
