//! A string that must never be printed: a token, a password, a task secret.
//!
//! `Secret` is what the client keeps its token and the user's password in.
//! Its `Debug` prints `[redacted]`, so a `Debug` of the client, of its session
//! or of anything that holds one shows no secret; the value is read only where
//! it is sent, through [`Secret::expose`].

use std::fmt;

/// A secret string whose `Debug` output is `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for sending it; never log what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_hides_the_value() {
        let secret = Secret::new("hunter2");

        let printed = format!("{secret:?} {:?}", Some(&secret));

        assert!(!printed.contains("hunter2"), "{printed}");
        assert_eq!(printed, "[redacted] Some([redacted])");
    }

    #[test]
    fn expose_returns_the_value() {
        assert_eq!(Secret::from("hunter2").expose(), "hunter2");
    }
}
