//! How a reference server is set up.
//!
//! [`Config::default`] is what tests and the harness want: a random JWT
//! secret per server (so tokens of one server are refused by another),
//! Appmixer's 30-day token lifetime, a 16 MiB body limit, 30 seconds to
//! send a request head and 30 more to send its body, 5 seconds for open
//! requests to finish at shutdown, and no planted faults. The `with_*` methods change one setting each.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use rand::RngExt;

use crate::faults::Fault;

/// The settings of one reference server.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The HS256 key that signs and checks tokens; it must not be empty.
    pub jwt_secret: Vec<u8>,
    /// How long a token stays valid after it is issued.
    pub token_lifetime: Duration,
    /// The largest request body accepted, in bytes; larger bodies answer 413.
    pub body_limit: usize,
    /// How long a client may take to send a request head, counted from the
    /// moment the server starts reading one (also while a kept-alive
    /// connection waits for its next request); the connection is closed
    /// when it runs out.
    pub header_read_timeout: Duration,
    /// How long a client may take to send a whole request body, counted
    /// from the moment the server starts reading it; when it runs out the
    /// request answers 408 and the connection is closed.
    pub body_read_timeout: Duration,
    /// How long open requests may take to finish once shutdown begins;
    /// connections still open after it are dropped.
    pub shutdown_grace: Duration,
    /// The planted faults to switch on; empty for a correct server.
    pub faults: BTreeSet<Fault>,
}

impl Config {
    /// Signs tokens with `secret` instead of a random key.
    ///
    /// # Panics
    ///
    /// When `secret` is empty: HS256 has no empty key.
    pub fn with_jwt_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.jwt_secret = secret.into();
        assert!(
            !self.jwt_secret.is_empty(),
            "the JWT secret must not be empty; leave the default or give a key"
        );
        self
    }

    /// Issues tokens that expire `lifetime` after they are issued.
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Refuses request bodies larger than `bytes` with 413.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Closes a connection whose request head takes longer than `timeout`
    /// to arrive.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Answers 408 and closes the connection when a request body takes
    /// longer than `timeout` to arrive.
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Gives open requests `grace` to finish at shutdown before their
    /// connections are dropped.
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Switches `fault` on: the server then breaks one of Appmixer's rules on
    /// purpose, as the fault's description says.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.faults.insert(fault);
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        let secret: [u8; 32] = rand::rng().random();
        Self {
            jwt_secret: secret.to_vec(),
            token_lifetime: Duration::from_secs(30 * 24 * 60 * 60),
            body_limit: 16 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
            faults: BTreeSet::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("jwt_secret", &"<redacted>")
            .field("token_lifetime", &self.token_lifetime)
            .field("body_limit", &self.body_limit)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("faults", &self.faults)
            .finish()
    }
}
