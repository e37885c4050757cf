//! The conformance harness as the benchmark drives it: which options it
//! offers, the command line of one run, and what its reports say.
//!
//! The harness grows independently of the benchmark, so its options are
//! read from its `--help` rather than assumed: the JSON report
//! (`--report json=PATH`) when it has one, else the text summary on stdout
//! (its `N. operation · kind · expectation` failure lines); saved failing
//! cases (`--save-failures DIR`, replayed with `replay FILE`) when it saves
//! them.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::Context as _;
use serde_json::Value;

use super::Budget;

/// What the harness's command line offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `--report json=PATH`.
    pub json_report: bool,
    /// `--profile NAME`.
    pub profile: bool,
    /// `--cases N`.
    pub cases: bool,
    /// `--steps N`.
    pub steps: bool,
    /// `--save-failures DIR`.
    pub save_failures: bool,
    /// The `replay FILE` subcommand.
    pub replay: bool,
    /// `--timings`: the JSON report gives each failure's seconds since the
    /// run started.
    pub timings: bool,
}

impl Capabilities {
    /// Reads what `binary --help` lists.
    pub fn probe(binary: &Path) -> anyhow::Result<Self> {
        let output = Command::new(binary)
            .arg("--help")
            .output()
            .with_context(|| format!("cannot run `{} --help`", binary.display()))?;
        anyhow::ensure!(
            output.status.success(),
            "`{} --help` failed: {}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(Self::from_help(&String::from_utf8_lossy(&output.stdout)))
    }

    /// What a `--help` text lists.
    pub fn from_help(help: &str) -> Self {
        let option = |name: &str| {
            help.split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[')
                .any(|word| word == name)
        };
        let subcommand = |name: &str| {
            help.lines()
                .any(|line| line.split_whitespace().next() == Some(name))
        };
        Self {
            json_report: option("--report") && help.contains("json="),
            profile: option("--profile"),
            cases: option("--cases"),
            steps: option("--steps"),
            save_failures: option("--save-failures"),
            replay: subcommand("replay"),
            timings: option("--timings"),
        }
    }

    /// The options of one run with `budget` and `seed` against `url`; the
    /// report and saved failures go to `json` and `failures`.
    pub fn run_args(
        &self,
        budget: Budget,
        seed: u64,
        url: &str,
        json: &Path,
        failures: &Path,
    ) -> Vec<String> {
        let mut args = vec![
            "--url".to_owned(),
            url.to_owned(),
            "--signup".to_owned(),
            "--seed".to_owned(),
            seed.to_string(),
        ];
        args.extend(self.budget_args(budget));
        if self.json_report {
            args.push("--report".into());
            args.push(format!("json={}", json.display()));
            if self.timings {
                args.push("--timings".into());
            }
        }
        if self.save_failures {
            args.push("--save-failures".into());
            args.push(failures.display().to_string());
        }
        args
    }

    /// The options that set how much one run does: the same for the clean
    /// runs and every fault, so that their results compare.
    pub fn budget_args(&self, budget: Budget) -> Vec<String> {
        let (cases, steps) = budget.sizes();
        let mut args = Vec::new();
        if self.profile {
            // The standard profile is the smallest that runs every phase
            // (isolation and auth probes included); the budget shrinks it.
            args.extend(["--profile".to_owned(), "standard".to_owned()]);
        }
        if self.cases {
            args.extend(["--cases".to_owned(), cases.to_string()]);
        }
        if self.steps {
            args.extend(["--steps".to_owned(), steps.to_string()]);
        }
        args
    }

    /// The options of `replay FILE` against `url`.
    pub fn replay_args(&self, file: &Path, url: &str) -> Vec<String> {
        vec![
            "replay".to_owned(),
            file.display().to_string(),
            "--url".to_owned(),
            url.to_owned(),
            "--signup".to_owned(),
        ]
    }
}

/// Where a run's verdicts were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The JSON report.
    Json,
    /// The text summary on stdout.
    Text,
}

impl Source {
    /// How the report names it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Json => "json report",
            Source::Text => "text summary",
        }
    }
}

/// One failure a run reported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reported {
    /// The expectation (property) that failed, e.g. `flows.count-matches-list`.
    pub expectation: String,
    /// The kind of check: `semantics`, `schema`, `isolation` …
    pub kind: String,
    /// The operation it concerns.
    pub operation: String,
    /// The number of the harness's request whose answer showed it, when
    /// the report says.
    pub request: Option<u64>,
    /// Milliseconds from the harness's start to that answer, when the
    /// report says (`--timings`).
    pub elapsed_ms: Option<u64>,
}

/// What one harness run reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdicts {
    /// Every failure, in report order.
    pub failures: Vec<Reported>,
    /// The requests the run sent, when the report says.
    pub requests: Option<u64>,
}

impl Verdicts {
    /// The failure of an expectation `matches` accepts that the run
    /// reported first: the one with the lowest request number, else the
    /// first listed.
    pub fn first_failure(&self, matches: impl Fn(&str) -> bool) -> Option<&Reported> {
        self.failures
            .iter()
            .filter(|failure| matches(&failure.expectation))
            .min_by_key(|failure| failure.request.unwrap_or(u64::MAX))
    }

    /// The distinct expectations that failed, sorted.
    pub fn failed_expectations(&self) -> BTreeSet<String> {
        self.failures
            .iter()
            .map(|failure| failure.expectation.clone())
            .collect()
    }
}

/// The verdicts of a JSON report (`appmixer-conformance-report/1`).
pub fn parse_json(text: &str) -> anyhow::Result<Verdicts> {
    let report: Value = serde_json::from_str(text).context("the JSON report does not parse")?;
    let failures = report
        .get("failures")
        .and_then(Value::as_array)
        .context("the JSON report has no `failures` array")?
        .iter()
        .map(|failure| {
            let field = |name: &str| {
                failure
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            Reported {
                expectation: field("expectation"),
                kind: field("property"),
                operation: field("operation"),
                request: failure.get("request").and_then(Value::as_u64),
                elapsed_ms: failure
                    .get("elapsed_s")
                    .and_then(Value::as_f64)
                    .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
                    .map(|seconds| (seconds * 1000.0).round() as u64),
            }
        })
        .collect();
    let requests = report
        .pointer("/requests/total")
        .or_else(|| report.get("requests"))
        .and_then(Value::as_u64);
    Ok(Verdicts { failures, requests })
}

/// The verdicts of the text summary: its `N. operation · kind · expectation`
/// lines and the `… N requests` verdict line.
pub fn parse_text(text: &str) -> Verdicts {
    let failures = text
        .lines()
        .filter_map(|line| {
            let (number, rest) = line.split_once(". ")?;
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let parts: Vec<&str> = rest.split(" · ").collect();
            let [operation, kind, expectation] = parts[..] else {
                return None;
            };
            Some(Reported {
                expectation: expectation.trim().to_owned(),
                kind: kind.trim().to_owned(),
                operation: operation.trim().to_owned(),
                request: None,
                elapsed_ms: None,
            })
        })
        .collect();
    let requests = text
        .lines()
        .rev()
        .find(|line| line.trim_end().ends_with(" requests"))
        .and_then(|line| {
            line.trim_end()
                .strip_suffix(" requests")?
                .rsplit(' ')
                .next()?
                .parse()
                .ok()
        });
    Verdicts { failures, requests }
}

/// A failing case the harness saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCase {
    /// The file.
    pub path: std::path::PathBuf,
    /// The property it fails.
    pub expectation: String,
    /// How many steps the shrunk sequence has.
    pub steps: usize,
}

/// The saved cases in `dir` (none when it does not exist).
pub fn saved_cases(dir: &Path) -> Vec<SavedCase> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut cases: Vec<SavedCase> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter_map(|path| {
            let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
            Some(SavedCase {
                expectation: case.get("expectation")?.as_str()?.to_owned(),
                steps: case.get("steps")?.as_array()?.len(),
                path,
            })
        })
        .collect();
    cases.sort_by(|a, b| a.path.cmp(&b.path));
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELP: &str = "\
Usage: appmixer-conformance [OPTIONS] [COMMAND]

Commands:
  replay     Run a saved failing case again
  snapshots  Compare with the committed snapshots
  help       Print this message

Options:
      --url <URL>              Base URL
      --profile <PROFILE>      smoke, standard or deep
      --cases <N>              How many cases
      --report <KIND=PATH>     `json=PATH` or `junit=PATH`; repeatable
      --save-failures <DIR>    Where failing cases go
";

    #[test]
    fn capabilities_come_from_the_help_text() {
        let caps = Capabilities::from_help(HELP);

        assert_eq!(
            caps,
            Capabilities {
                json_report: true,
                profile: true,
                cases: true,
                steps: false,
                save_failures: true,
                replay: true,
                timings: false,
            }
        );
        assert_eq!(
            Capabilities::from_help("Options:\n  --url <URL>\n"),
            Capabilities::default()
        );
    }

    #[test]
    fn run_args_name_only_the_options_the_harness_has() {
        let caps = Capabilities {
            cases: true,
            ..Capabilities::default()
        };

        let args = caps.run_args(
            Budget::Small,
            7,
            "http://127.0.0.1:1",
            Path::new("r.json"),
            Path::new("f"),
        );

        assert_eq!(
            args,
            [
                "--url",
                "http://127.0.0.1:1",
                "--signup",
                "--seed",
                "7",
                "--cases",
                "4"
            ]
        );
    }

    #[test]
    fn a_harness_that_saves_failures_is_given_the_steps_and_the_directory() {
        let caps = Capabilities {
            steps: true,
            save_failures: true,
            replay: true,
            ..Capabilities::default()
        };

        let args = caps.run_args(
            Budget::Small,
            1,
            "http://127.0.0.1:1",
            Path::new("r.json"),
            Path::new("work/failures"),
        );
        let replay = caps.replay_args(Path::new("work/failures/case.json"), "http://127.0.0.1:2");

        let (_, steps) = Budget::Small.sizes();
        assert!(
            args.windows(2)
                .any(|pair| pair == ["--steps", steps.to_string().as_str()]),
            "{args:?}"
        );
        assert!(
            args.windows(2)
                .any(|pair| pair == ["--save-failures", "work/failures"]),
            "{args:?}"
        );
        assert_eq!(
            replay,
            [
                "replay",
                "work/failures/case.json",
                "--url",
                "http://127.0.0.1:2",
                "--signup"
            ]
        );
    }

    #[test]
    fn a_saved_case_gives_its_property_and_the_length_of_its_reproduction() {
        let dir = std::env::temp_dir().join(format!("xtask-saved-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("model-seed1-0977b22f.json"),
            r#"{"format": 2, "expectation": "model.read-your-writes",
                "steps": [{"op": "createFlow"}, {"op": "updateFlow"}]}"#,
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "not a case").unwrap();

        let cases = saved_cases(&dir);

        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(cases.len(), 1, "{cases:?}");
        assert_eq!(cases[0].expectation, "model.read-your-writes");
        assert_eq!(cases[0].steps, 2);
        assert!(
            saved_cases(&dir).is_empty(),
            "a missing directory has no cases"
        );
    }

    #[test]
    fn the_json_report_gives_each_failure_and_the_request_count() {
        let text = r#"{"failures": [{"operation": "getFlowsCount", "property": "semantics",
            "expectation": "flows.count-matches-list", "request": 41, "elapsed_s": 0.25}],
            "requests": {"total": 183}}"#;

        let verdicts = parse_json(text).unwrap();

        assert_eq!(verdicts.requests, Some(183));
        assert_eq!(
            verdicts.failures,
            [Reported {
                expectation: "flows.count-matches-list".into(),
                kind: "semantics".into(),
                operation: "getFlowsCount".into(),
                request: Some(41),
                elapsed_ms: Some(250),
            }]
        );
        assert!(parse_json("{}").is_err());
    }

    #[test]
    fn the_first_failure_of_a_property_is_the_one_at_the_lowest_request() {
        let text = r#"{"requests": {"total": 90}, "failures": [
            {"expectation": "flows.sort-orders", "request": 70},
            {"expectation": "spec.body-matches-schema", "request": 3},
            {"expectation": "flows.sort-orders.desc", "request": 12}]}"#;
        let verdicts = parse_json(text).unwrap();

        let first = verdicts.first_failure(|expectation| expectation.starts_with("flows.sort"));

        assert_eq!(first.and_then(|failure| failure.request), Some(12));
        assert!(verdicts.first_failure(|_| false).is_none());
    }

    #[test]
    fn a_harness_with_timings_is_asked_for_them_with_its_json_report() {
        let caps = Capabilities {
            json_report: true,
            timings: true,
            ..Capabilities::default()
        };

        let args = caps.run_args(
            Budget::Small,
            1,
            "http://127.0.0.1:1",
            Path::new("r.json"),
            Path::new("f"),
        );

        assert!(args.iter().any(|arg| arg == "--timings"), "{args:?}");
        assert!(
            !Capabilities::default()
                .run_args(Budget::Small, 1, "u", Path::new("r"), Path::new("f"))
                .iter()
                .any(|arg| arg == "--timings")
        );
    }

    #[test]
    fn the_text_summary_gives_each_failure_and_the_request_count() {
        let text = "\
FAILURES (2)

1. getFlowsCount · semantics · flows.count-matches-list
   expected: 1
   actual:   2

2. getStore · schema · spec.body-matches-schema
   expected: a body matching Store

FAILED: 863 checks, 2 failed, 0 required not checked, 183 requests
";

        let verdicts = parse_text(text);

        assert_eq!(verdicts.requests, Some(183));
        assert_eq!(
            verdicts
                .failed_expectations()
                .into_iter()
                .collect::<Vec<_>>(),
            ["flows.count-matches-list", "spec.body-matches-schema"]
        );
        assert_eq!(verdicts.failures[1].operation, "getStore");
    }
}
