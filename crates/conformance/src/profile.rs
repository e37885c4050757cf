//! Profiles: how much a run does, and which properties it must cover.
//!
//! `--profile smoke|standard|deep` picks the budgets (generated descriptor
//! cases, model steps, the request budget), the phases that run, and the
//! properties that are required: a required property that the run meant to
//! check on an operation but never did fails the run with exit status 3.
//! Explicit `--cases` and `--max-requests` override the profile's budgets.

use std::fmt;
use std::str::FromStr;

use crate::checks::CheckKind;

/// How thorough a run is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Profile {
    /// A quick sanity check: the lifecycles and a few descriptors.
    Smoke,
    /// Every phase, with budgets that keep a run against the embedded
    /// server under a minute.
    #[default]
    Standard,
    /// Every phase with larger budgets, for nightly runs.
    Deep,
}

/// The budgets a profile sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// Generated descriptor pairs sent through create and update, and
    /// sequences of the model-based state machine.
    pub cases: u32,
    /// The longest sequence of the model-based state machine.
    pub steps: u32,
    /// The most requests the run may send before it stops (cleanup excepted).
    pub max_requests: u64,
}

/// The optional phases a profile may leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A second user tries the first user's objects.
    Isolation,
    /// Requests without a valid token.
    AuthProbes,
}

impl Profile {
    /// Every profile, from the quickest.
    pub const ALL: [Profile; 3] = [Profile::Smoke, Profile::Standard, Profile::Deep];

    /// The profile's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Smoke => "smoke",
            Profile::Standard => "standard",
            Profile::Deep => "deep",
        }
    }

    /// The budgets of this profile.
    pub fn budgets(self) -> Budgets {
        match self {
            Profile::Smoke => Budgets {
                cases: 2,
                steps: 6,
                max_requests: 5_000,
            },
            Profile::Standard => Budgets {
                cases: crate::DEFAULT_CASES,
                steps: crate::DEFAULT_STEPS,
                max_requests: crate::DEFAULT_MAX_REQUESTS,
            },
            Profile::Deep => Budgets {
                cases: 64,
                steps: 30,
                max_requests: 200_000,
            },
        }
    }

    /// Whether the profile runs `phase`.
    pub fn runs(self, phase: Phase) -> bool {
        match phase {
            Phase::Isolation | Phase::AuthProbes => self != Profile::Smoke,
        }
    }

    /// Whether a property the run meant to check must have been checked.
    pub fn requires(self, kind: CheckKind) -> bool {
        match kind {
            CheckKind::Status | CheckKind::Semantics => true,
            // Not every answer has a body, so neither has a check on every
            // operation; they are counted, not required.
            CheckKind::ContentType | CheckKind::Schema => false,
            CheckKind::Isolation | CheckKind::Auth => self.runs(Phase::Isolation),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A profile name that is not one of `smoke`, `standard` or `deep`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`--profile` must be `smoke`, `standard` or `deep`, got `{0}`")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|profile| profile.name() == text)
            .ok_or_else(|| UnknownProfile(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_from_their_names_and_nothing_else() {
        for profile in Profile::ALL {
            assert_eq!(profile.name().parse::<Profile>(), Ok(profile));
        }

        let error = "quick".parse::<Profile>().unwrap_err();

        assert_eq!(
            error.to_string(),
            "`--profile` must be `smoke`, `standard` or `deep`, got `quick`"
        );
    }

    #[test]
    fn budgets_grow_from_smoke_to_deep() {
        let [smoke, standard, deep] = Profile::ALL.map(Profile::budgets);

        assert!(smoke.cases < standard.cases && standard.cases < deep.cases);
        assert!(smoke.steps < standard.steps && standard.steps < deep.steps);
        assert!(smoke.max_requests < standard.max_requests);
        assert!(standard.max_requests < deep.max_requests);
    }

    #[test]
    fn smoke_skips_isolation_and_auth_and_requires_neither() {
        assert!(!Profile::Smoke.runs(Phase::Isolation));
        assert!(!Profile::Smoke.requires(CheckKind::Isolation));
        assert!(Profile::Standard.requires(CheckKind::Isolation));
        assert!(Profile::Deep.requires(CheckKind::Auth));
        assert!(Profile::Smoke.requires(CheckKind::Status));
    }
}
