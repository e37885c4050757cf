//! When a failed request is sent again, and after how long.
//!
//! Only what cannot have changed anything on the server is retried: an
//! idempotent request (GET, HEAD, PUT, DELETE, OPTIONS) that failed in transit
//! or was answered 408, 429, 502, 503 or 504, and any request, POST included,
//! whose connection could not even be opened. The wait doubles from attempt to
//! attempt up to a cap, with jitter so that clients rejected together do not
//! come back together; a `Retry-After` header replaces the computed wait. Both
//! the number of attempts and the total time are bounded.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

/// How often and how patiently a request is retried.
///
/// The default makes at most 4 attempts within 30 seconds, waiting about
/// 200 ms, 400 ms, 800 ms … (at most 5 s) between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries: every request is sent once.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sends a request at most `attempts` times in all (at least once).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Waits `backoff` before the first retry; each later wait doubles it.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Never waits longer than `cap` between attempts, unless the server asks
    /// for more with `Retry-After`.
    pub fn max_backoff(mut self, cap: Duration) -> Self {
        self.max_backoff = cap;
        self
    }

    /// Gives up instead of retrying when the wait would end more than `budget`
    /// after the first attempt started.
    pub fn max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// Whether to shorten each wait by a random part of up to half; on by
    /// default.
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The wait before attempt `attempt + 1` when the server gives no
    /// `Retry-After`: `initial × 2^(attempt − 1)`, capped, jittered.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let full = self
            .initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff);
        if self.jitter {
            full.mul_f64(rand::random_range(0.5..=1.0))
        } else {
            full
        }
    }

    /// How long to wait before sending the request again, or `None` to give
    /// up and return `outcome` as it is.
    ///
    /// `attempt` counts from 1; `elapsed` is the time since the first attempt
    /// started.
    pub(crate) fn next_delay(
        &self,
        method: &Method,
        outcome: &reqwest::Result<reqwest::Response>,
        attempt: u32,
        elapsed: Duration,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let delay = match outcome {
            Err(error) if retryable_error(method, error) => self.backoff(attempt),
            Err(_) => return None,
            Ok(response) if idempotent(method) && retryable_status(response.status()) => {
                retry_after(response.headers(), SystemTime::now())
                    .unwrap_or_else(|| self.backoff(attempt))
            }
            Ok(_) => return None,
        };
        (elapsed.saturating_add(delay) <= self.max_elapsed).then_some(delay)
    }
}

/// Methods that mean the same when sent twice (RFC 9110, section 9.2.2).
pub(crate) fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Statuses that say "try again later" rather than "this request is wrong".
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::REQUEST_TIMEOUT
            | StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// A connection that could not be opened sent nothing, so any method may be
/// retried; a failure after that may have reached the server, so only
/// idempotent methods are.
fn retryable_error(method: &Method, error: &reqwest::Error) -> bool {
    if error.is_connect() {
        return true;
    }
    idempotent(method) && (error.is_timeout() || error.is_request())
}

/// The wait a `Retry-After` header asks for: a number of seconds or an HTTP
/// date (a date in the past means no wait). `None` when absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(date);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers_with_retry_after(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn retry_after_reads_seconds() {
        let headers = headers_with_retry_after("7");

        let wait = retry_after(&headers, SystemTime::now());

        assert_eq!(wait, Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_reads_an_http_date() {
        let headers = headers_with_retry_after("Sun, 06 Nov 1994 08:49:37 GMT");
        let now =
            SystemTime::from(chrono::DateTime::parse_from_rfc3339("1994-11-06T08:49:07Z").unwrap());

        let wait = retry_after(&headers, now);

        assert_eq!(wait, Some(Duration::from_secs(30)));
    }

    #[test]
    fn retry_after_in_the_past_means_no_wait() {
        let headers = headers_with_retry_after("Sun, 06 Nov 1994 08:49:37 GMT");

        let wait = retry_after(&headers, SystemTime::now());

        assert_eq!(wait, Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_ignores_garbage() {
        let headers = headers_with_retry_after("soon");

        assert_eq!(retry_after(&headers, SystemTime::now()), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default()
            .jitter(false)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(350));

        let waits: Vec<_> = (1..=4).map(|attempt| policy.backoff(attempt)).collect();

        let millis = |ms| Duration::from_millis(ms);
        assert_eq!(waits, [millis(100), millis(200), millis(350), millis(350)]);
    }

    #[test]
    fn jitter_keeps_the_wait_between_half_and_full() {
        let policy = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(400))
            .max_backoff(Duration::from_secs(10));

        for _ in 0..100 {
            let wait = policy.backoff(2);
            assert!(wait >= Duration::from_millis(400), "{wait:?}");
            assert!(wait <= Duration::from_millis(800), "{wait:?}");
        }
    }

    #[test]
    fn only_idempotent_methods_count_as_idempotent() {
        let idempotent_methods = [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ];

        assert!(idempotent_methods.iter().all(idempotent));
        assert!(!idempotent(&Method::POST));
        assert!(!idempotent(&Method::PATCH));
    }

    #[test]
    fn retryable_statuses_are_the_transient_ones() {
        let transient = [408, 429, 502, 503, 504];

        for code in 100..600 {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(
                retryable_status(status),
                transient.contains(&code),
                "{code}"
            );
        }
    }

    #[test]
    fn none_allows_a_single_attempt() {
        assert_eq!(RetryPolicy::none().max_attempts, 1);
        assert_eq!(RetryPolicy::default().max_attempts(0).max_attempts, 1);
    }
}
