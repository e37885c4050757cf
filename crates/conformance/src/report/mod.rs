//! What a run found, for people, for tools and for the exit status.
//!
//! A [`Report`] holds one row per operation of the spec (how often it was
//! called and, for each property, how many checks were made and how many
//! held), every failure with its expectation name, expected and actual
//! values and the exchange that shows it, the planned properties that no
//! check reached ([`evidence`]), what the descriptor and cleanup stages did,
//! and what went over the wire (requests per method, what `--read-only`
//! refused). It is rendered as the terminal summary (its `Display`), as
//! JSON ([`json`]) and as JUnit XML ([`junit`]); [`progress`] shows the
//! phases while the run is under way.
//!
//! [`Report::exit_code`] is the process exit status: 0 passed, 1 a property
//! failed (or cleanup left objects behind), 3 a required property was never
//! checked, 4 a safety guard stopped the run. Usage, spec and connection
//! errors (2) never get as far as a report.

pub mod evidence;
pub mod groups;
pub mod json;
pub mod junit;
pub mod progress;
mod text;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::catalog::Catalog;
use crate::checks::{CheckKind, Failure, OperationTally, Results, Tally, Unchecked};
use crate::cleanup::CleanupSummary;
use crate::descriptors::DescriptorSummary;
use crate::guards::{MethodCounts, Refusal, Stop};
use crate::profile::Profile;
use crate::spec_source::SpecSource;

pub use evidence::{NotApplicable, NotChecked, Plan};
pub use groups::FailureGroup;

/// Exit status: every planned check was made and held.
pub const EXIT_PASSED: u8 = 0;
/// Exit status: a property failed, or cleanup left objects behind.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: usage, spec or connection error.
pub const EXIT_ERROR: u8 = 2;
/// Exit status: a required property was never checked.
pub const EXIT_UNCHECKED: u8 = 3;
/// Exit status: a safety guard (or Ctrl-C, SIGTERM or SIGHUP) stopped the run.
pub const EXIT_STOPPED: u8 = 4;

/// One operation's line of the summary matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRow {
    /// The `operationId`.
    pub operation: String,
    /// `METHOD /path`.
    pub route: String,
    /// How many exchanges were recorded for it.
    pub calls: u32,
    /// The tally of each property that has checks.
    pub tallies: BTreeMap<CheckKind, Tally>,
    /// The properties the run meant to check on it, each with whether the
    /// profile requires it.
    pub planned: BTreeMap<CheckKind, bool>,
}

impl OperationRow {
    /// The tally of one property.
    pub fn tally(&self, kind: CheckKind) -> Tally {
        self.tallies.get(&kind).copied().unwrap_or_default()
    }

    /// Whether every check made on the operation held.
    pub fn passed(&self) -> bool {
        self.tallies.values().all(Tally::all_passed)
    }
}

/// How long a run took and where the time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// From the start of the run to its report.
    pub wall: Duration,
    /// Waiting for the server's answers, over every request.
    pub waiting: Duration,
    /// Pausing for the rate limit and for retries.
    pub pausing: Duration,
}

impl Timings {
    /// The time the harness itself spent: everything but waiting and pausing.
    pub fn in_harness(&self) -> Duration {
        self.wall.saturating_sub(self.waiting + self.pausing)
    }
}

/// What went over the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traffic {
    /// How many requests were sent, retries included.
    pub requests: u64,
    /// The same, per method.
    pub methods: MethodCounts,
    /// Requests `--read-only` refused to send.
    pub refusals: Vec<Refusal>,
    /// Whether the transport refused writes (`--read-only`).
    pub read_only: bool,
}

/// What a run gathered, from which the report is assembled.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The base URL of the server, or `None` for the embedded one.
    pub target: Option<String>,
    /// The run tag.
    pub tag: String,
    /// The profile.
    pub profile: Profile,
    /// The seed of everything generated.
    pub seed: u64,
    /// The verdicts.
    pub results: Results,
    /// What the run meant to check.
    pub plan: Plan,
    /// What went over the wire.
    pub traffic: Traffic,
    /// Why a guard stopped the run, if one did.
    pub stop: Option<Stop>,
    /// Where the time went.
    pub timings: Timings,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The server's base URL, or the embedded server's.
    pub target: String,
    /// Whether the target was the embedded reference server.
    pub embedded: bool,
    /// The run tag carried by every created object's name.
    pub tag: String,
    /// The profile the run followed.
    pub profile: Profile,
    /// The spec the run checked against.
    pub spec: SpecSource,
    /// The seed of the generated cases.
    pub seed: u64,
    /// One row per operation of the spec, in the spec's order.
    pub rows: Vec<OperationRow>,
    /// Every failed check, in the order they happened.
    pub failures: Vec<Failure>,
    /// Planned properties that no check reached.
    pub not_checked: Vec<NotChecked>,
    /// Properties that do not apply to this run, each with its reason.
    pub not_applicable: Vec<NotApplicable>,
    /// Checks that could not be made, each with its reason.
    pub unchecked: Vec<Unchecked>,
    /// What the descriptor stage did.
    pub descriptors: DescriptorSummary,
    /// What cleanup did.
    pub cleanup: CleanupSummary,
    /// Scenarios that stopped early because a step they depend on failed.
    pub stopped_scenarios: Vec<String>,
    /// Why the run stopped before its end, if it did.
    pub aborted: Option<String>,
    /// Why the `--record` file is incomplete, if it is.
    pub recording_error: Option<String>,
    /// Which guard stopped the run, if one did.
    pub stop: Option<Stop>,
    /// How many requests were sent, retries included.
    pub requests: u64,
    /// What went over the wire.
    pub traffic: Traffic,
    /// Where the time went.
    pub timings: Timings,
}

impl Report {
    /// Assembles the report from a run's verdicts.
    pub(crate) fn assemble(catalog: &Catalog, record: RunRecord) -> Self {
        let RunRecord {
            target,
            tag,
            profile,
            seed,
            results,
            plan,
            traffic,
            stop,
            timings,
        } = record;
        let unchecked = results.unchecked().to_vec();
        let (tallies, failures) = results.into_parts();
        let stopped = stop.as_ref().map(ToString::to_string);
        let not_checked = evidence::assess(
            &plan,
            &tallies,
            &unchecked,
            evidence::RunFacts {
                profile,
                stopped: stopped.as_deref(),
            },
        );
        let not_applicable = evidence::not_applicable(&plan);
        let empty = OperationTally::default();
        let rows = catalog
            .operations()
            .iter()
            .map(|op| {
                let tally = tallies.get(&op.id).unwrap_or(&empty);
                OperationRow {
                    operation: op.id.clone(),
                    route: op.route(),
                    calls: tally.calls,
                    tallies: CheckKind::ALL
                        .into_iter()
                        .map(|kind| (kind, tally.tally(kind)))
                        .filter(|(_, t)| t.total > 0)
                        .collect(),
                    planned: plan
                        .entries()
                        .filter(|(operation, _, _)| *operation == op.id)
                        .map(|(_, kind, _)| (kind, profile.requires(kind)))
                        .collect(),
                }
            })
            .collect();
        Self {
            embedded: target.is_none(),
            target: target.unwrap_or_else(|| "embedded reference server".into()),
            tag,
            profile,
            spec: SpecSource::Embedded,
            seed,
            rows,
            failures,
            not_checked,
            not_applicable,
            unchecked,
            descriptors: DescriptorSummary {
                seed,
                ..DescriptorSummary::default()
            },
            cleanup: CleanupSummary::default(),
            stopped_scenarios: Vec::new(),
            aborted: stopped,
            recording_error: None,
            stop,
            requests: traffic.requests,
            traffic,
            timings,
        }
    }

    /// Whether every check passed, every required property was checked, the
    /// run finished and cleanup left nothing.
    pub fn passed(&self) -> bool {
        self.exit_code() == EXIT_PASSED
    }

    /// The process exit status.
    ///
    /// A guard stop (4) comes first: the run did not finish, so nothing
    /// else it says is complete. Then failures (1), which are evidence
    /// against the server, then required properties never checked (3).
    pub fn exit_code(&self) -> u8 {
        if self.stop.is_some() || self.aborted.is_some() {
            EXIT_STOPPED
        } else if !self.failures.is_empty() || !self.cleanup.leftovers.is_empty() {
            EXIT_FAILED
        } else if self.not_checked.iter().any(|n| n.required) {
            EXIT_UNCHECKED
        } else {
            EXIT_PASSED
        }
    }

    /// The row of `operation`.
    pub fn row(&self, operation: &str) -> Option<&OperationRow> {
        self.rows.iter().find(|row| row.operation == operation)
    }

    /// The failures of `operation` of one kind.
    pub fn failures_of<'a>(
        &'a self,
        operation: &'a str,
        kind: CheckKind,
    ) -> impl Iterator<Item = &'a Failure> + 'a {
        self.failures
            .iter()
            .filter(move |f| f.operation == operation && f.kind == kind)
    }

    /// The failures grouped by departure: each once, with how many
    /// failures showed it, in the order they were first seen.
    pub fn failure_groups(&self) -> Vec<FailureGroup<'_>> {
        groups::group(&self.failures)
    }

    /// Operations of the spec that were never called.
    pub fn uncalled(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|row| row.calls == 0)
            .map(|row| row.operation.as_str())
            .collect()
    }

    /// How many checks were made, over every operation and property.
    pub fn checks(&self) -> u64 {
        self.rows
            .iter()
            .flat_map(|row| row.tallies.values())
            .map(|t| u64::from(t.total))
            .sum()
    }

    /// The properties that have a check or a plan on any operation, in
    /// column order.
    pub fn properties(&self) -> Vec<CheckKind> {
        CheckKind::ALL
            .into_iter()
            .filter(|kind| {
                self.rows
                    .iter()
                    .any(|row| row.tallies.contains_key(kind) || row.planned.contains_key(kind))
            })
            .collect()
    }

    /// The wall time, request and check rates, and where the time went, on
    /// one line each.
    pub fn bench(&self) -> String {
        text::bench(self)
    }
}

/// A report file asked for with `--report FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportFile {
    /// `json=PATH`.
    Json(PathBuf),
    /// `junit=PATH`.
    Junit(PathBuf),
}

impl FromStr for ReportFile {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wrong = || {
            format!(
                "`--report` takes `json=PATH` or `junit=PATH`, got `{text}`; e.g. `--report json=conformance.json`"
            )
        };
        let (format, path) = text.split_once('=').ok_or_else(wrong)?;
        if path.is_empty() {
            return Err(wrong());
        }
        match format {
            "json" => Ok(ReportFile::Json(path.into())),
            "junit" => Ok(ReportFile::Junit(path.into())),
            _ => Err(wrong()),
        }
    }
}

impl ReportFile {
    /// Where the file goes.
    pub fn path(&self) -> &std::path::Path {
        match self {
            ReportFile::Json(path) | ReportFile::Junit(path) => path,
        }
    }

    /// Why this file cannot be written, asked before the run starts: its
    /// path is a directory, its directory does not exist, or it cannot be
    /// opened for writing.
    pub fn check(&self) -> Result<(), String> {
        crate::writable::file(self.path())
    }

    /// Writes `report` in this file's format; `timings` adds the run's
    /// timings and tag to the JSON form.
    pub fn write(&self, report: &Report, timings: bool) -> std::io::Result<()> {
        let contents = match self {
            ReportFile::Json(_) => json::render(report, timings),
            ReportFile::Junit(_) => junit::render(report),
        };
        std::fs::write(self.path(), contents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{OperationShape, TokenPolicy};
    use crate::checks::Outcome;

    /// A catalog of two operations, `getFlow` and `getChart`.
    pub(crate) fn catalog() -> Catalog {
        let operation = |id: &str, path: &str| OperationShape {
            id: id.into(),
            method: reqwest::Method::GET,
            path: path.into(),
            parameters: Vec::new(),
            body_media_type: None,
            token: TokenPolicy::Required,
        };
        Catalog::from_operations(vec![
            operation("getFlow", "/flows/{flowId}"),
            operation("getChart", "/charts/{chartId}"),
        ])
    }

    pub(crate) fn record(results: Results, plan: Plan) -> RunRecord {
        RunRecord {
            target: Some("http://127.0.0.1:1/".into()),
            tag: "amxc-00000000".into(),
            profile: Profile::Standard,
            seed: 7,
            results,
            plan,
            traffic: Traffic {
                requests: 1,
                ..Traffic::default()
            },
            stop: None,
            timings: Timings::default(),
        }
    }

    fn report_with(failed: bool) -> Report {
        report(failed, Plan::default())
    }

    /// The report of a run with `plan` that made one check of `getFlow`,
    /// failed or not.
    pub(crate) fn report(failed: bool, plan: Plan) -> Report {
        let mut results = Results::default();
        results.count_call("getFlow");
        results.record(
            Outcome {
                operation: "getFlow".into(),
                kind: CheckKind::Semantics,
                expectation: "flows.get-after-delete-is-404".into(),
                mismatch: failed.then(|| ("status 404".to_string(), "status 200".to_string())),
            },
            None,
        );
        Report::assemble(&catalog(), record(results, plan))
    }

    #[test]
    fn a_failed_check_makes_the_exit_code_1() {
        assert_eq!(report_with(true).exit_code(), 1);
        assert_eq!(report_with(false).exit_code(), 0);
    }

    #[test]
    fn a_required_property_never_checked_makes_the_exit_code_3() {
        let mut plan = Plan::default();
        plan.expect("getChart", CheckKind::Semantics);
        let mut results = Results::default();
        results.count_call("getFlow");

        let report = Report::assemble(&catalog(), record(results, plan));

        assert_eq!(report.exit_code(), 3);
        assert_eq!(report.not_checked[0].operation, "getChart");
        assert_eq!(report.not_checked[0].reason, "never called");
    }

    #[test]
    fn a_guard_stop_makes_the_exit_code_4_even_with_failures() {
        let mut report = report_with(true);

        report.stop = Some(Stop::Budget { limit: 30 });

        assert_eq!(report.exit_code(), 4);
    }

    #[test]
    fn leftovers_after_cleanup_fail_the_run() {
        let mut report = report_with(false);

        report.cleanup.leftovers.push(crate::cleanup::Leftover {
            kind: crate::cleanup::Kind::Flow,
            id: "f1".into(),
            reason: "still listed after cleanup".into(),
        });

        assert_eq!(report.exit_code(), 1);
        assert!(
            report
                .to_string()
                .contains("left over: flow f1: still listed after cleanup")
        );
    }

    #[test]
    fn report_files_are_format_equals_path() {
        assert_eq!(
            "json=out/r.json".parse::<ReportFile>(),
            Ok(ReportFile::Json("out/r.json".into()))
        );
        assert_eq!(
            "junit=r.xml".parse::<ReportFile>(),
            Ok(ReportFile::Junit("r.xml".into()))
        );
        assert!("html=r.html".parse::<ReportFile>().is_err());
        assert!("json=".parse::<ReportFile>().is_err());
        assert!("r.json".parse::<ReportFile>().is_err());
    }
}
