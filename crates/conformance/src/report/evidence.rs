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
//! status 3. A pair that cannot apply to this run at all (signing up in
//! token mode, where there is no password) is [waived](Plan::waive): it is
//! reported as [`NotApplicable`] with its reason and never required.

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
    waived: BTreeMap<(String, CheckKind), String>,
}

impl Plan {
    /// Notes that the run means to check `kind` on `operation`.
    pub fn expect(&mut self, operation: &str, kind: CheckKind) {
        if self.is_waived(operation, kind) {
            return;
        }
        self.entries
            .entry((operation.to_string(), kind))
            .or_insert(None);
    }

    /// Notes that the run meant to check `kind` on `operation` but cannot,
    /// because of `reason` (e.g. "needs a second user").
    pub fn skip(&mut self, operation: &str, kind: CheckKind, reason: &str) {
        if self.is_waived(operation, kind) {
            return;
        }
        self.entries
            .insert((operation.to_string(), kind), Some(reason.to_string()));
    }

    /// Notes that `kind` on `operation` does not apply to this run, because
    /// of `reason` (e.g. "token mode: no password to log in with"): it is no
    /// longer planned, nothing requires it, and later [`Plan::expect`] and
    /// [`Plan::skip`] of the pair are ignored.
    pub fn waive(&mut self, operation: &str, kind: CheckKind, reason: &str) {
        let key = (operation.to_string(), kind);
        self.entries.remove(&key);
        self.waived.insert(key, reason.to_string());
    }

    fn is_waived(&self, operation: &str, kind: CheckKind) -> bool {
        self.waived.contains_key(&(operation.to_string(), kind))
    }

    /// The waived pairs, each with its reason.
    pub fn waived(&self) -> impl Iterator<Item = (&str, CheckKind, &str)> {
        self.waived
            .iter()
            .map(|((operation, kind), reason)| (operation.as_str(), *kind, reason.as_str()))
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

/// A property that does not apply to this run, and why; never required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotApplicable {
    /// The `operationId`.
    pub operation: String,
    /// The property.
    pub kind: CheckKind,
    /// Why it does not apply.
    pub reason: String,
}

/// The waived pairs of `plan`, in the plan's order.
pub fn not_applicable(plan: &Plan) -> Vec<NotApplicable> {
    plan.waived()
        .map(|(operation, kind, reason)| NotApplicable {
            operation: operation.to_string(),
            kind,
            reason: reason.to_string(),
        })
        .collect()
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
    fn a_waived_pair_is_not_applicable_and_never_required() {
        let mut plan = Plan::default();
        plan.expect("signupUser", CheckKind::Semantics);
        plan.waive("signupUser", CheckKind::Semantics, "token mode");
        plan.expect("signupUser", CheckKind::Semantics);
        plan.skip("signupUser", CheckKind::Semantics, "needs a second user");

        let missing = assess(&plan, &BTreeMap::new(), &[], facts());

        assert!(missing.is_empty(), "{missing:?}");
        assert!(!plan.contains("signupUser", CheckKind::Semantics));
        assert_eq!(
            not_applicable(&plan),
            vec![NotApplicable {
                operation: "signupUser".into(),
                kind: CheckKind::Semantics,
                reason: "token mode".into(),
            }]
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
