//! The safety guards that make a run fit to aim at a production deployment.
//!
//! The transport consults these on every request: the read-only policy
//! ([`allows_in_read_only`]), the request budget, the rate limit
//! ([`TokenBucket`]) and the streak of failed requests ([`FailureStreak`]).
//! When a guard stops the run it says why in a [`Stop`], which the report
//! turns into exit status 4. [`MethodCounts`] is the record that proves what
//! a run sent, e.g. that a `--read-only` run sent no write.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use reqwest::Method;

/// How many failed requests in a row stop the run when none is given.
pub const DEFAULT_MAX_CONSECUTIVE_FAILURES: u32 = 20;

/// A `Retry-After` longer than this stops the run (exit status 4): a server
/// that asks for a pause that long is not going to answer a run in time.
pub const RETRY_AFTER_LIMIT: Duration = Duration::from_secs(60);

/// The operations that are sent with a method other than `GET` or `HEAD`
/// but change nothing on the server: logging in only exchanges credentials
/// for a token, so `--read-only` runs with credentials may send it.
pub const NON_WRITING_OPERATIONS: &[&str] = &["authenticateUser"];

/// The guards a transport enforces.
#[derive(Debug, Clone, PartialEq)]
pub struct Guards {
    /// Refuse every request but `GET` and `HEAD` (and the log-in).
    pub read_only: bool,
    /// The most requests the run may send while the budget is enforced.
    pub max_requests: u64,
    /// The most requests per second, or `None` for no limit.
    pub rate: Option<f64>,
    /// How many failed requests in a row stop the run (see
    /// [`FailureStreak`]); 0 never stops it.
    pub max_consecutive_failures: u32,
}

impl Default for Guards {
    fn default() -> Self {
        Self {
            read_only: false,
            max_requests: u64::MAX,
            rate: None,
            max_consecutive_failures: DEFAULT_MAX_CONSECUTIVE_FAILURES,
        }
    }
}

/// Whether `--read-only` lets a request of `operation` with `method` go out.
pub fn allows_in_read_only(method: &Method, operation: &str) -> bool {
    *method == Method::GET || *method == Method::HEAD || NON_WRITING_OPERATIONS.contains(&operation)
}

/// Why a guard stopped the run before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The request budget (`--max-requests`) is used up.
    Budget {
        /// The budget.
        limit: u64,
    },
    /// The server failed this many requests in a row.
    FailureStreak {
        /// How many failed in a row.
        count: u32,
        /// What the last failure was.
        last: String,
    },
    /// The server asked for a pause longer than [`RETRY_AFTER_LIMIT`].
    RetryAfter {
        /// The operation whose answer asked for it.
        operation: String,
        /// The `Retry-After` value, as sent.
        value: String,
    },
    /// The operator interrupted the run (Ctrl-C, SIGTERM or SIGHUP).
    Interrupted,
}

impl Stop {
    /// A short name for reports: `budget`, `consecutive-failures`,
    /// `retry-after` or `interrupted`.
    pub fn name(&self) -> &'static str {
        match self {
            Stop::Budget { .. } => "budget",
            Stop::FailureStreak { .. } => "consecutive-failures",
            Stop::RetryAfter { .. } => "retry-after",
            Stop::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Budget { limit } => write!(
                f,
                "the request budget of {limit} requests is used up; \
                 raise `--max-requests` to let the run go further"
            ),
            Stop::FailureStreak { count, last } => write!(
                f,
                "the server failed {count} requests in a row (last: {last}); check that it is \
                 healthy, or raise `--max-consecutive-failures`"
            ),
            Stop::RetryAfter { operation, value } => {
                f.write_str(&retry_after_message(operation, value))
            }
            Stop::Interrupted => {
                f.write_str("interrupted (Ctrl-C, SIGTERM or SIGHUP); cleaning up")
            }
        }
    }
}

/// Why a run stops at a `Retry-After` of `value` on `operation`.
pub fn retry_after_message(operation: &str, value: &str) -> String {
    format!(
        "{operation} answered `Retry-After: {value}`, a longer pause than the {} s a run \
         waits; the run stops: try again when the server accepts requests, or lower `--rate`",
        RETRY_AFTER_LIMIT.as_secs()
    )
}

/// Counts consecutive failed requests: transport errors, 5xx answers, 429
/// answers still refused after their retries, and 401 answers to the
/// session's own token (the run has no other to use, so every later request
/// would be refused alike).
#[derive(Debug, Clone)]
pub struct FailureStreak {
    limit: u32,
    current: u32,
    last: String,
}

impl FailureStreak {
    /// A streak that trips after `limit` failures in a row; 0 never trips.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            current: 0,
            last: String::new(),
        }
    }

    /// Notes one request's outcome: `Some(what)` when it failed.
    pub fn observe(&mut self, failure: Option<String>) {
        match failure {
            Some(what) => {
                self.current += 1;
                self.last = what;
            }
            None => self.current = 0,
        }
    }

    /// The stop this streak calls for, once it reached its limit.
    pub fn stop(&self) -> Option<Stop> {
        (self.limit > 0 && self.current >= self.limit).then(|| Stop::FailureStreak {
            count: self.current,
            last: self.last.clone(),
        })
    }
}

/// A token bucket: at most `rate` requests per second on average, with
/// bursts of up to one second's worth.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    /// A full bucket refilling at `rate` tokens per second.
    ///
    /// # Panics
    ///
    /// When `rate` is not a positive finite number; the command line checks
    /// `--rate` before it gets here.
    pub fn new(rate: f64) -> Self {
        assert!(
            rate.is_finite() && rate > 0.0,
            "a token bucket needs a positive rate, got {rate}"
        );
        let capacity = rate.max(1.0);
        Self {
            rate,
            capacity,
            tokens: capacity,
            last: None,
        }
    }

    /// Takes one token at `now`, answering how long to wait before the
    /// request may go; the token is spent either way.
    pub fn take(&mut self, now: Instant) -> Duration {
        if let Some(last) = self.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + refill).min(self.capacity);
        }
        self.last = Some(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

/// How many requests went out, per HTTP method.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MethodCounts {
    counts: BTreeMap<String, u64>,
}

impl MethodCounts {
    /// Counts one request sent with `method`.
    pub fn add(&mut self, method: &Method) {
        *self.counts.entry(method.to_string()).or_default() += 1;
    }

    /// The count of each method that was sent, by method name.
    pub fn by_method(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    /// How many requests used a method other than `GET` and `HEAD`.
    pub fn not_get_or_head(&self) -> u64 {
        self.counts
            .iter()
            .filter(|(method, _)| *method != "GET" && *method != "HEAD")
            .map(|(_, count)| count)
            .sum()
    }
}

/// A request the read-only guard refused to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The `operationId` of the call.
    pub operation: String,
    /// Its method.
    pub method: String,
    /// Its path template.
    pub path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_allows_get_head_and_the_log_in_only() {
        assert!(allows_in_read_only(&Method::GET, "getFlows"));
        assert!(allows_in_read_only(&Method::HEAD, "getFlows"));
        assert!(allows_in_read_only(&Method::POST, "authenticateUser"));
        assert!(!allows_in_read_only(&Method::POST, "createFlow"));
        assert!(!allows_in_read_only(&Method::DELETE, "deleteFlow"));
        assert!(!allows_in_read_only(&Method::PUT, "updateFlow"));
    }

    #[test]
    fn a_streak_trips_at_its_limit_and_a_success_resets_it() {
        let mut streak = FailureStreak::new(3);

        streak.observe(Some("500".into()));
        streak.observe(Some("500".into()));
        streak.observe(None);
        streak.observe(Some("500".into()));
        streak.observe(Some("502".into()));
        assert_eq!(streak.stop(), None);
        streak.observe(Some("503".into()));

        assert_eq!(
            streak.stop(),
            Some(Stop::FailureStreak {
                count: 3,
                last: "503".into()
            })
        );
    }

    #[test]
    fn a_streak_limit_of_zero_never_trips() {
        let mut streak = FailureStreak::new(0);

        for _ in 0..100 {
            streak.observe(Some("500".into()));
        }

        assert_eq!(streak.stop(), None);
    }

    #[test]
    fn a_bucket_lets_a_burst_through_then_spaces_requests_by_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2.0);

        let burst: Vec<Duration> = (0..2).map(|_| bucket.take(start)).collect();
        let third = bucket.take(start);
        let fourth = bucket.take(start);

        assert_eq!(burst, vec![Duration::ZERO, Duration::ZERO]);
        assert_eq!(third, Duration::from_millis(500));
        assert_eq!(fourth, Duration::from_millis(1000));
    }

    #[test]
    fn a_bucket_refills_with_time_up_to_its_capacity() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(1.0);
        assert_eq!(bucket.take(start), Duration::ZERO);

        let later = bucket.take(start + Duration::from_secs(10));
        let after_that = bucket.take(start + Duration::from_secs(10));

        assert_eq!(later, Duration::ZERO);
        assert_eq!(after_that, Duration::from_secs(1));
    }

    #[test]
    fn method_counts_separate_reads_from_everything_else() {
        let mut counts = MethodCounts::default();

        counts.add(&Method::GET);
        counts.add(&Method::GET);
        counts.add(&Method::POST);

        assert_eq!(counts.by_method().get("GET"), Some(&2));
        assert_eq!(counts.not_get_or_head(), 1);
    }
}
