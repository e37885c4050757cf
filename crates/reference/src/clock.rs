//! The server's single clock.
//!
//! Every timestamp the server hands out (`btime`, `mtime`, `createdAt`,
//! `@timestamp` …) comes from [`Clock::now`], which never returns the same
//! millisecond twice. Creation order is therefore visible in the timestamps,
//! and sorting by a timestamp never needs the tie-breaker in practice.

use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// A strictly increasing millisecond clock.
#[derive(Debug, Default)]
pub struct Clock {
    last_ms: Mutex<i64>,
}

impl Clock {
    /// A clock that starts at the wall-clock time.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current time, at least one millisecond after the previous answer.
    pub fn now(&self) -> DateTime<Utc> {
        let mut last = self
            .last_ms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let wall = Utc::now().timestamp_millis();
        let next = wall.max(*last + 1);
        *last = next;
        Utc.timestamp_millis_opt(next)
            .single()
            .expect("a millisecond count near the wall clock is a valid time")
    }
}

/// `time` as ISO-8601 UTC with milliseconds and `Z`: `2018-03-29T19:24:08.950Z`.
pub fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}
