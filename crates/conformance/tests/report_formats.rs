//! The report as evidence: a clean server passes with every planned
//! property checked, the model and every property included, whatever the
//! seed, and every operation of the spec is called; the seed is reported;
//! the JSON and JUnit forms are stable between runs with the same seed; the
//! binary writes them and its bench figures, and documents every exit
//! status.
//!
//! The clean runs are shared by the tests of this file: a run is what costs
//! time, and each test reads what it needs of them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use appmixer_conformance::checks::CheckKind;
use appmixer_conformance::report::{json, junit};
use appmixer_conformance::{Options, Report};
use tokio::sync::OnceCell;

/// The seeds of the clean runs; the last one runs twice.
const SEEDS: [u64; 5] = [1, 2, DEFAULT_OPTIONS_SEED, u64::MAX, 77];

/// The seed of the run with the default options (the others generate fewer
/// cases).
const DEFAULT_OPTIONS_SEED: u64 = 20240601;

/// The clean runs against the embedded server: one per seed, and a second
/// one of the last seed.
static RUNS: OnceCell<Vec<(u64, Report)>> = OnceCell::const_new();

/// Where the clean runs save failing model cases: nowhere, if they pass.
static FAILURES_DIR: OnceLock<PathBuf> = OnceLock::new();

fn failures_dir() -> &'static Path {
    FAILURES_DIR.get_or_init(|| common::unused_dir("clean-failures"))
}

async fn clean_runs() -> &'static [(u64, Report)] {
    RUNS.get_or_init(|| async {
        // Side by side: each run has its own embedded server, so they share
        // nothing but the cores.
        let runs: Vec<_> = SEEDS
            .into_iter()
            .chain([SEEDS[4]])
            .map(|seed| {
                let options = Options {
                    seed: Some(seed),
                    cases: if seed == DEFAULT_OPTIONS_SEED {
                        appmixer_conformance::DEFAULT_CASES
                    } else {
                        4
                    },
                    save_failures: failures_dir().to_path_buf(),
                    ..Options::default()
                };
                (seed, tokio::spawn(appmixer_conformance::run(options)))
            })
            .collect();
        let mut reports = Vec::new();
        for (seed, run) in runs {
            let report = run
                .await
                .expect("the run does not panic")
                .expect("the run starts");
            reports.push((seed, report));
        }
        reports
    })
    .await
}

fn run_of(runs: &[(u64, Report)], seed: u64) -> &Report {
    &runs
        .iter()
        .find(|(run_seed, _)| *run_seed == seed)
        .expect("a run of every seed")
        .1
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clean_reference_server_passes_everything_across_five_seeds() {
    let runs = clean_runs().await;

    let seeds: std::collections::BTreeSet<u64> = runs.iter().map(|(seed, _)| *seed).collect();
    assert_eq!(seeds.len(), 5);
    for (seed, report) in runs {
        assert!(report.failures.is_empty(), "seed {seed}:\n{report}");
        assert!(report.not_checked.is_empty(), "seed {seed}:\n{report}");
        assert!(report.unchecked.is_empty(), "seed {seed}:\n{report}");
        assert_eq!(report.exit_code(), 0, "seed {seed}");
        for row in &report.rows {
            for (kind, required) in &row.planned {
                assert!(
                    *required,
                    "{} · {kind} is planned and required",
                    row.operation
                );
                assert!(
                    row.tally(*kind).total > 0,
                    "seed {seed}: {} · {kind} was never checked",
                    row.operation
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_server_passes_the_model_and_properties_for_five_seeds() {
    let runs = clean_runs().await;

    for (seed, report) in runs {
        let stopped: Vec<&String> = report
            .stopped_scenarios
            .iter()
            .filter(|phase| *phase == "model" || phase.starts_with("properties"))
            .collect();
        assert!(stopped.is_empty(), "seed {seed}: stopped {stopped:?}");
        assert!(report.failures.is_empty(), "seed {seed}:\n{report}");
    }
    let saved = std::fs::read_dir(failures_dir()).map_or(0, |entries| entries.count());
    assert_eq!(saved, 0, "a clean run saved a failing model case");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_against_the_embedded_server_passes_and_calls_every_operation() {
    let report = run_of(clean_runs().await, DEFAULT_OPTIONS_SEED);

    assert!(report.failures.is_empty(), "unexpected failures:\n{report}");
    assert_eq!(report.exit_code(), 0, "{report}");
    assert!(
        report.uncalled().is_empty(),
        "never called: {:?}",
        report.uncalled()
    );
    let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).expect("the spec loads");
    assert_eq!(
        report.rows.len(),
        spec.operations().len(),
        "one row per operation"
    );
    for row in &report.rows {
        assert!(
            row.tally(CheckKind::Status).total > 0,
            "{} has no status checks",
            row.operation
        );
        assert!(
            row.tally(CheckKind::Semantics).total > 1,
            "{} has no semantic checks",
            row.operation
        );
    }
    assert_eq!(
        report.descriptors.generated_checked,
        appmixer_conformance::DEFAULT_CASES as usize
    );
    assert_eq!(
        report.descriptors.generated_passed,
        appmixer_conformance::DEFAULT_CASES as usize
    );
    assert!(report.cleanup.leftovers.is_empty(), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_is_reported_so_a_run_can_be_repeated() {
    let report = run_of(clean_runs().await, 77);

    assert_eq!(report.seed, 77);
    assert_eq!(report.descriptors.seed, 77);
    assert!(report.to_string().contains("(seed 77)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_with_the_same_seed_give_identical_json_and_junit_reports() {
    let runs = clean_runs().await;
    let (seed, first) = &runs[4];
    let (again, second) = &runs[5];

    assert_eq!(seed, again);
    assert_ne!(first.tag, second.tag, "two runs, two tags");
    let text = json::render(first, false);
    assert_eq!(text, json::render(second, false));
    assert_eq!(junit::render(first), junit::render(second));
    let value: serde_json::Value = serde_json::from_str(&text).expect("the JSON parses");
    assert_eq!(value["seed"], 77);
    assert_eq!(value["profile"], "standard");
    assert_eq!(value["exit_code"], 0);
    assert!(!text.contains(&first.tag), "the run tag is left out");
    assert_eq!(
        serde_json::to_string_pretty(&json::sorted(value.clone())).unwrap() + "\n",
        text,
        "keys are sorted"
    );
    let get_flow = &value["operations"]["getFlow"]["properties"];
    assert!(get_flow["isolation"]["checked"].as_u64().unwrap() > 0);
    assert_eq!(get_flow["auth"]["checked"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_junit_report_parses_with_a_test_case_per_operation_and_property() {
    let runs = clean_runs().await;

    assert_junit_has_a_case_per_operation_and_property(&runs[0].1);
}

/// The JUnit form of `report` parses as JUnit XML, with one test case per
/// operation and property that has checks or a plan.
fn assert_junit_has_a_case_per_operation_and_property(report: &Report) {
    let xml = junit::render(report);
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("the JUnit XML parses");

    let cases: usize = parsed.test_suites.iter().map(|s| s.test_cases.len()).sum();
    let expected: usize = report
        .rows
        .iter()
        .map(|row| {
            let mut kinds: Vec<_> = row.tallies.keys().chain(row.planned.keys()).collect();
            kinds.sort();
            kinds.dedup();
            kinds.len()
        })
        .sum();
    assert_eq!(cases, expected);
    let get_flow = parsed
        .test_suites
        .iter()
        .find(|s| s.name.as_str() == "getFlow")
        .expect("a suite for getFlow");
    let names: Vec<&str> = get_flow
        .test_cases
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        names.contains(&"isolation") && names.contains(&"auth"),
        "{names:?}"
    );
    assert_eq!(parsed.failures, 0);
}

#[test]
fn the_binary_writes_the_report_files_and_prints_bench_figures() {
    let dir = common::scratch_dir("reports");
    let json_path = dir.join("report.json");
    let junit_path = dir.join("report.xml");

    let output = Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"))
        .env_remove("APPMIXER_URL")
        .args(["--profile", "smoke", "--bench", "--timings"])
        .arg("--report")
        .arg(format!("json={}", json_path.display()))
        .arg("--report")
        .arg(format!("junit={}", junit_path.display()))
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    for line in [
        "bench: wall time",
        "requests/s",
        "checks/s",
        "waiting on responses",
        "in the harness",
    ] {
        assert!(stderr.contains(line), "missing `{line}` in:\n{stderr}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(report["profile"], "smoke");
    assert!(
        report["run"]["wall_ms"].as_u64().is_some(),
        "--timings adds the run"
    );
    let xml = std::fs::read_to_string(&junit_path).unwrap();
    assert!(quick_junit::Report::deserialize_from_str(&xml).is_ok());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_help_documents_every_exit_status() {
    let output = Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"))
        .arg("--help")
        .output()
        .unwrap();

    let help = String::from_utf8_lossy(&output.stdout);
    for line in [
        "0  every check passed",
        "1  a check failed",
        "2  usage, spec or connection error",
        "3  a required property was never checked",
        "4  a safety guard stopped the run",
        "--read-only",
        "--max-consecutive-failures",
        "--profile",
        "--report",
        "--steps",
        "--save-failures",
        "--max-body",
        "replay",
    ] {
        assert!(help.contains(line), "missing `{line}` in:\n{help}");
    }
}
