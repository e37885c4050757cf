//! Evidence, not green by default: what a run meant to check, and what it
//! actually did.
//!
//! Each phase states in the [`Plan`] which property it means to check on
//! which operation, or that it cannot (and why: "needs a second user").
//! At the end, [`assess`] holds the plan against the tallies: a planned
//! pair with no check made is [`NotChecked`], with the most useful reason
//! that can be told (the phase's own, "all answers were 401: are the
//! credentials right?", the guard that stopped the run, "never called").
//! When the profile requires that property, the run fails with exit
//! status 3.

use std::collections::BTreeMap;

use crate::checks::{CheckKind, OperationTally, Unchecked};
use crate::profile::Profile;

/// The hint given when every answer to the run's own tokens was 401.
pub const CREDENTIALS_HINT: &str = "all answers were 401: are the credentials right? (a proxy \
     that strips the `Authorization` header has the same effect)";

/// What the run means to check, per operation and property.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    entries: BTreeMap<(String, CheckKind), Option<String>>,
}

impl Plan {
    /// Notes that the run means to check `kind` on `operation`.
    pub fn expect(&mut self, operation: &str, kind: CheckKind) {
        self.entries
            .entry((operation.to_string(), kind))
            .or_insert(None);
    }

    /// Notes that the run meant to check `kind` on `operation` but cannot,
    /// because of `reason` (e.g. "needs a second user").
    pub fn skip(&mut self, operation: &str, kind: CheckKind, reason: &str) {
        self.entries
            .insert((operation.to_string(), kind), Some(reason.to_string()));
    }

    /// Whether `kind` on `operation` is planned.
    pub fn contains(&self, operation: &str, kind: CheckKind) -> bool {
        self.entries.contains_key(&(operation.to_string(), kind))
    }

    /// The planned pairs, each with its skip reason if it has one.
    pub fn entries(&self) -> impl Iterator<Item = (&str, CheckKind, Option<&str>)> {
        self.entries
            .iter()
            .map(|((operation, kind), skipped)| (operation.as_str(), *kind, skipped.as_deref()))
    }
}

/// A planned property that no check reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotChecked {
    /// The `operationId`.
    pub operation: String,
    /// The property.
    pub kind: CheckKind,
    /// Whether the profile requires it (and so the run fails with 3).
    pub required: bool,
    /// Why no check was made.
    pub reason: String,
}

/// What [`assess`] needs to know about the run besides the plan.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    /// The profile, which says what is required.
    pub profile: Profile,
    /// Why a guard stopped the run, if one did.
    pub stopped: Option<&'a str>,
}

/// Every planned pair that no check reached, with the reason.
pub fn assess(
    plan: &Plan,
    tallies: &BTreeMap<String, OperationTally>,
    unchecked: &[Unchecked],
    facts: RunFacts<'_>,
) -> Vec<NotChecked> {
    let (own, refused) = tallies.values().fold((0, 0), |(own, refused), tally| {
        (
            own + tally.own_token_calls,
            refused + tally.own_token_refusals,
        )
    });
    let everything_refused = own > 0 && own == refused;
    let empty = OperationTally::default();

    plan.entries()
        .filter_map(|(operation, kind, skipped)| {
            let tally = tallies.get(operation).unwrap_or(&empty);
            if tally.tally(kind).total > 0 {
                return None;
            }
            let noted = unchecked
                .iter()
                .find(|u| u.operation == operation && u.kind == kind)
                .map(|u| u.reason.clone());
            let reason = if let Some(skipped) = skipped {
                skipped.to_string()
            } else if everything_refused
                || (tally.own_token_calls > 0 && tally.own_token_calls == tally.own_token_refusals)
            {
                CREDENTIALS_HINT.to_string()
            } else if let Some(stopped) = facts.stopped {
                format!("the run stopped before checking it: {stopped}")
            } else if let Some(noted) = noted {
                noted
            } else if tally.calls == 0 {
                "never called".to_string()
            } else {
                "called, but no check of this property was made".to_string()
            };
            Some(NotChecked {
                operation: operation.to_string(),
                kind,
                required: facts.profile.requires(kind),
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Outcome, Results};

    fn facts() -> RunFacts<'static> {
        RunFacts {
            profile: Profile::Standard,
            stopped: None,
        }
    }

    fn tallies_with(checks: &[(&str, CheckKind)]) -> BTreeMap<String, OperationTally> {
        let mut results = Results::default();
        for (operation, kind) in checks {
            results.count_call(operation);
            results.record(
                Outcome {
                    operation: operation.to_string(),
                    kind: *kind,
                    expectation: "x.y".into(),
                    mismatch: None,
                },
                None,
            );
        }
        results.into_parts().0
    }

    #[test]
    fn a_planned_pair_with_a_check_is_evidence() {
        let mut plan = Plan::default();
        plan.expect("getFlow", CheckKind::Status);

        let missing = assess(
            &plan,
            &tallies_with(&[("getFlow", CheckKind::Status)]),
            &[],
            facts(),
        );

        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn a_planned_pair_without_a_check_is_not_checked_and_says_why() {
        let mut plan = Plan::default();
        plan.expect("getChart", CheckKind::Semantics);
        plan.skip("getFlow", CheckKind::Isolation, "needs a second user");

        let missing = assess(&plan, &BTreeMap::new(), &[], facts());

        assert_eq!(
            missing,
            vec![
                NotChecked {
                    operation: "getChart".into(),
                    kind: CheckKind::Semantics,
                    required: true,
                    reason: "never called".into(),
                },
                NotChecked {
                    operation: "getFlow".into(),
                    kind: CheckKind::Isolation,
                    required: true,
                    reason: "needs a second user".into(),
                },
            ]
        );
    }

    #[test]
    fn a_guard_stop_is_the_reason_for_what_was_not_reached() {
        let mut plan = Plan::default();
        plan.expect("getChart", CheckKind::Semantics);

        let missing = assess(
            &plan,
            &BTreeMap::new(),
            &[],
            RunFacts {
                profile: Profile::Standard,
                stopped: Some("the request budget of 30 requests is used up"),
            },
        );

        assert!(
            missing[0].reason.contains("request budget of 30"),
            "{missing:?}"
        );
    }

    #[test]
    fn smoke_does_not_require_isolation() {
        let mut plan = Plan::default();
        plan.skip("getFlow", CheckKind::Isolation, "needs a second user");

        let missing = assess(
            &plan,
            &BTreeMap::new(),
            &[],
            RunFacts {
                profile: Profile::Smoke,
                stopped: None,
            },
        );

        assert!(!missing[0].required);
    }
}
