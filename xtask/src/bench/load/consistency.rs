//! The check at the end of the many-writers run: does the server hold
//! exactly what the writers were told it stored?
//!
//! Each writer sends its writes one after the other, so the server may
//! interleave different writers' writes to a key in any order, but never one
//! writer's out of order. A key must therefore end up holding the last
//! acknowledged write of one of its writers. Anything else is a fault:
//!
//! - **lost**: the key is missing, or holds a value a later write replaced;
//! - **torn**: the key holds a value no writer wrote (a mix of two writes, a
//!   truncation);
//! - **phantom**: the server holds a key no writer wrote.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// What the writers were told was stored: per key, per writer, the values in
/// the order that writer sent them.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    writes: BTreeMap<String, BTreeMap<usize, Vec<String>>>,
}

impl Ledger {
    /// Notes that `writer` set `key` to `value` and the server acknowledged it.
    pub fn record(&mut self, writer: usize, key: &str, value: &str) {
        self.writes
            .entry(key.to_owned())
            .or_default()
            .entry(writer)
            .or_default()
            .push(value.to_owned());
    }

    /// Adds every write of `other`, which must come from other writers.
    pub fn merge(&mut self, other: Ledger) {
        for (key, writers) in other.writes {
            let entry = self.writes.entry(key).or_default();
            for (writer, values) in writers {
                entry.entry(writer).or_default().extend(values);
            }
        }
    }

    /// How many acknowledged writes the ledger holds.
    pub fn writes(&self) -> usize {
        self.writes
            .values()
            .flat_map(BTreeMap::values)
            .map(Vec::len)
            .sum()
    }
}

/// What the comparison found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Keys the ledger and the server were compared on.
    pub keys: usize,
    /// Acknowledged writes in the ledger.
    pub writes: usize,
    /// Keys that lost a write, each with what it holds.
    pub lost: Vec<String>,
    /// Keys that hold a value nobody wrote.
    pub torn: Vec<String>,
    /// Keys nobody wrote.
    pub phantom: Vec<String>,
}

impl Verdict {
    /// Whether the server holds exactly what the ledger says.
    pub fn is_consistent(&self) -> bool {
        self.lost.is_empty() && self.torn.is_empty() && self.phantom.is_empty()
    }
}

/// Compares what the server holds, `stored` (key to value), with `ledger`.
pub fn check(ledger: &Ledger, stored: &BTreeMap<String, String>) -> Verdict {
    let mut verdict = Verdict {
        keys: ledger.writes.len(),
        writes: ledger.writes(),
        ..Verdict::default()
    };
    for (key, writers) in &ledger.writes {
        let Some(value) = stored.get(key) else {
            verdict.lost.push(format!("`{key}` is missing"));
            continue;
        };
        let last_writes: BTreeSet<&str> = writers
            .values()
            .filter_map(|values| values.last())
            .map(String::as_str)
            .collect();
        if last_writes.contains(value.as_str()) {
            continue;
        }
        let written = writers.values().flatten().any(|written| written == value);
        if written {
            verdict.lost.push(format!(
                "`{key}` holds `{}`, which a later write replaced",
                clip(value)
            ));
        } else {
            verdict.torn.push(format!(
                "`{key}` holds `{}`, which no writer wrote",
                clip(value)
            ));
        }
    }
    verdict.phantom = stored
        .keys()
        .filter(|key| !ledger.writes.contains_key(*key))
        .map(|key| format!("`{key}`"))
        .collect();
    verdict
}

/// The start of `value`, for messages.
fn clip(value: &str) -> String {
    const SHOWN: usize = 60;
    if value.chars().count() <= SHOWN {
        value.to_owned()
    } else {
        let start: String = value.chars().take(SHOWN).collect();
        format!("{start}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn last_write_of_each_key_is_consistent() {
        let mut ledger = Ledger::default();
        ledger.record(0, "a", "a1");
        ledger.record(0, "a", "a2");
        ledger.record(1, "b", "b1");

        let verdict = check(&ledger, &stored(&[("a", "a2"), ("b", "b1")]));

        assert!(verdict.is_consistent(), "{verdict:?}");
        assert_eq!((verdict.keys, verdict.writes), (2, 3));
    }

    #[test]
    fn a_shared_key_may_end_with_any_writers_last_write() {
        let mut ledger = Ledger::default();
        ledger.record(0, "shared", "w0-1");
        ledger.record(0, "shared", "w0-2");
        ledger.record(1, "shared", "w1-1");

        assert!(check(&ledger, &stored(&[("shared", "w0-2")])).is_consistent());
        assert!(check(&ledger, &stored(&[("shared", "w1-1")])).is_consistent());
    }

    #[test]
    fn an_overwritten_value_that_survives_is_a_lost_write() {
        let mut ledger = Ledger::default();
        ledger.record(0, "shared", "w0-1");
        ledger.record(0, "shared", "w0-2");
        ledger.record(1, "shared", "w1-1");

        let verdict = check(&ledger, &stored(&[("shared", "w0-1")]));

        assert_eq!(verdict.lost.len(), 1, "{verdict:?}");
        assert!(verdict.lost[0].contains("later write replaced"));
        assert!(verdict.torn.is_empty());
    }

    #[test]
    fn a_missing_key_is_a_lost_write() {
        let mut ledger = Ledger::default();
        ledger.record(3, "gone", "v");

        let verdict = check(&ledger, &stored(&[]));

        assert_eq!(verdict.lost, vec!["`gone` is missing".to_string()]);
    }

    #[test]
    fn a_value_nobody_wrote_is_torn() {
        let mut ledger = Ledger::default();
        ledger.record(0, "k", "w00-s00001-aaaa");
        ledger.record(1, "k", "w01-s00001-bbbb");

        let verdict = check(&ledger, &stored(&[("k", "w00-s00001-bbbb")]));

        assert_eq!(verdict.torn.len(), 1, "{verdict:?}");
        assert!(verdict.lost.is_empty());
    }

    #[test]
    fn a_key_nobody_wrote_is_a_phantom() {
        let mut ledger = Ledger::default();
        ledger.record(0, "k", "v");

        let verdict = check(&ledger, &stored(&[("k", "v"), ("extra", "x")]));

        assert_eq!(verdict.phantom, vec!["`extra`".to_string()]);
        assert!(!verdict.is_consistent());
    }

    #[test]
    fn merged_ledgers_keep_every_writers_order() {
        let mut first = Ledger::default();
        first.record(0, "k", "w0-1");
        let mut second = Ledger::default();
        second.record(1, "k", "w1-1");
        second.record(1, "k", "w1-2");

        first.merge(second);

        assert_eq!(first.writes(), 3);
        assert!(check(&first, &stored(&[("k", "w1-2")])).is_consistent());
        assert!(!check(&first, &stored(&[("k", "w1-1")])).is_consistent());
    }
}
