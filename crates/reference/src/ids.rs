//! Identifiers in the shapes Appmixer uses.
//!
//! Users, stores, accounts, tokens, charts and people tasks get 24 lowercase
//! hex digits (a MongoDB ObjectId's shape); flows get UUID v4; log entries get
//! a 20-character URL-safe Elasticsearch `_id`. All are random, so ids say
//! nothing about creation order or owner.

use rand::RngExt;

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 24 lowercase hex digits.
pub fn object_id() -> String {
    let bytes: [u8; 12] = rand::rng().random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A UUID v4, lowercase and hyphenated.
pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A log entry's `_id`: 20 URL-safe characters.
pub fn log_id() -> String {
    url_safe(20)
}

/// A people task's approver or requester secret: 48 URL-safe characters.
pub fn secret() -> String {
    url_safe(48)
}

fn url_safe(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(URL_SAFE[rng.random_range(0..URL_SAFE.len())]))
        .collect()
}
