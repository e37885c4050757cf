//! The harness and Schemathesis side by side: the same server, the same
//! request budget, and then the reference server's planted faults
//! (`appmixer-reference --fault NAME`), counting which tool catches which.
//!
//! The harness catches a fault when it exits non-zero against the faulty
//! server (it passes against a correct one). Schemathesis reports failures
//! even against a correct server, so it catches a fault when it reports a
//! failure (`operation: code`) that its run against a correct server with
//! the same options did not. Schemathesis is given only the operations of
//! the fault's area (`--include-tag`), which spends its whole budget where
//! the fault is; the harness always runs everything. These runs measure no
//! time, so the harness's loop and two Schemathesis runs at a time share
//! the machine, each against servers of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

use super::harness::{self, HarnessRun};
use super::process::run_bounded;
use super::schemathesis::{self, Installation, Outcome};
use super::{Context, Launcher};

/// Test cases per operation for each fault's Schemathesis run.
pub const FAULT_MAX_EXAMPLES: u64 = 10;

/// How long one Schemathesis run may take.
const SCHEMATHESIS_LIMIT: Duration = Duration::from_secs(300);

/// A planted fault of the reference server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Its name, e.g. `flows.count-off-by-one-with-pattern`.
    pub name: String,
    /// The API area it breaks, e.g. `flows`; also the spec's tag.
    pub area: String,
}

/// Reads `--list-faults`: a name at the start of a line, then indented
/// lines, the first of which names the area (`area: flows  class: …`).
pub fn parse_catalogue(text: &str) -> Vec<Fault> {
    let mut faults: Vec<Fault> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            let name = line.trim().to_owned();
            let area = name.split('.').next().unwrap_or_default().to_owned();
            faults.push(Fault { name, area });
        } else if let Some(fault) = faults.last_mut()
            && let Some(rest) = line.trim().strip_prefix("area:")
            && let Some(area) = rest.split_whitespace().next()
        {
            fault.area = area.to_owned();
        }
    }
    faults
}

/// The fault catalogue of the reference binary, or why there is none.
pub fn catalogue(context: &Context) -> Result<Vec<Fault>, String> {
    let mut command = Command::new(&context.executables.reference);
    command.arg("--list-faults");
    let log = context.logs.join("list-faults.log");
    match run_bounded(&mut command, Duration::from_secs(30), Some(&log)) {
        Ok(finished) if finished.status.success() => {
            let faults = parse_catalogue(&finished.stdout);
            if faults.is_empty() {
                Err("`appmixer-reference --list-faults` lists no faults".into())
            } else {
                Ok(faults)
            }
        }
        Ok(_) => Err(
            "this build of appmixer-reference has no `--list-faults`: the fault catalogue is \
             not there yet"
                .into(),
        ),
        Err(error) => Err(format!("{error:#}")),
    }
}

/// The head-to-head run on a correct server.
#[derive(Debug, Clone)]
pub struct HeadToHead {
    /// The harness, standard profile, against a server process.
    pub harness: HarnessRun,
    /// Schemathesis with `--max-examples` from the harness's request count.
    pub schemathesis: Outcome,
    /// The `--max-examples` given.
    pub max_examples: u64,
    /// Operations in the spec.
    pub operations: u64,
}

/// How one tool fared against one fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Catch {
    /// It reported the fault; the detail says how.
    Caught(String),
    /// It passed (or found nothing new).
    Missed,
    /// It could not run.
    Error(String),
}

/// One row of the fault table.
#[derive(Debug, Clone)]
pub struct FaultRow {
    /// The fault.
    pub fault: Fault,
    /// The harness's result.
    pub harness: Catch,
    /// Schemathesis's result.
    pub schemathesis: Catch,
}

/// The side-by-side section.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The Schemathesis used.
    pub installation: Installation,
    /// The head-to-head run.
    pub head_to_head: HeadToHead,
    /// The fault table, or why there is none.
    pub faults: Result<Vec<FaultRow>, String>,
}

/// The harness and Schemathesis, each against a fresh correct server with
/// the same request budget.
pub fn head_to_head(
    context: &mut Context,
    installation: &Installation,
) -> anyhow::Result<HeadToHead> {
    let features = harness::features(context)?;
    let spec = context.root.join("spec/appmixer.yaml");
    let operations = appmixer_spec::Spec::load(&spec)?.operations().len() as u64;

    let server = context.start_server("head-to-head-harness", &[])?;
    let mut args = vec![
        "--url".to_owned(),
        server.base_url().to_owned(),
        "--signup".into(),
    ];
    args.extend(harness::standard_args(features));
    let harness = harness::run_once(context, &args, "head-to-head-harness.log")?;
    drop(server);
    let budget = harness.requests.unwrap_or(1_000);
    let max_examples = budget.div_ceil(operations.max(1)).max(1);

    let server = context.start_server("head-to-head-schemathesis", &[])?;
    let token = context.launcher().signup_token(&server)?;
    context.note_signup();
    let run = schemathesis::Run {
        installation,
        spec: &spec,
        url: server.base_url(),
        token: &token,
        max_examples,
        tag: None,
        report_dir: context.bench_dir.join("schemathesis/head-to-head"),
        limit: SCHEMATHESIS_LIMIT,
    };
    context.note_command(&run.command(&run.report_dir.join("schemathesis.toml")));
    let schemathesis = run.execute(&context.logs, "head-to-head-schemathesis.log")?;
    Ok(HeadToHead {
        harness,
        schemathesis,
        max_examples,
        operations,
    })
}

/// Every planted fault against the harness and Schemathesis, or why there
/// is no fault table.
pub fn faults(context: &mut Context, installation: &Installation) -> Result<Vec<FaultRow>, String> {
    let faults = catalogue(context)?;
    let features = harness::features(context).map_err(|error| format!("{error:#}"))?;
    let spec = context.root.join("spec/appmixer.yaml");
    fault_table(context, installation, &spec, features, &faults).map_err(|e| format!("{e:#}"))
}

fn fault_table(
    context: &mut Context,
    installation: &Installation,
    spec: &Path,
    features: harness::Features,
    faults: &[Fault],
) -> anyhow::Result<Vec<FaultRow>> {
    context.note_server(&["--fault".into(), "NAME".into()]);
    let shown = schemathesis::Run {
        installation,
        spec,
        url: "http://127.0.0.1:PORT",
        token: "",
        max_examples: FAULT_MAX_EXAMPLES,
        tag: Some("AREA"),
        report_dir: context.bench_dir.join("schemathesis/NAME"),
        limit: SCHEMATHESIS_LIMIT,
    };
    let config = context
        .bench_dir
        .join("schemathesis/NAME/schemathesis.toml");
    context.note_command(&shown.command(&config));

    // The two tools' runs are results, not timings, so they share the
    // machine: each loop starts servers of its own.
    let launcher = context.launcher();
    let bench_dir = context.bench_dir.clone();
    let (harness, schemathesis) = std::thread::scope(|scope| {
        let schemathesis =
            scope.spawn(|| schemathesis_catches(&launcher, &bench_dir, installation, spec, faults));
        let harness: Vec<Catch> = faults
            .iter()
            .enumerate()
            .map(|(number, fault)| {
                super::progress(&format!(
                    "fault {}/{} (harness): {}",
                    number + 1,
                    faults.len(),
                    fault.name
                ));
                harness_catch(&launcher, features, fault)
            })
            .collect();
        let schemathesis = schemathesis.join().unwrap_or_else(|_| {
            vec![Catch::Error("the Schemathesis loop panicked".into()); faults.len()]
        });
        (harness, schemathesis)
    });
    Ok(faults
        .iter()
        .zip(harness)
        .zip(schemathesis)
        .map(|((fault, harness), schemathesis)| FaultRow {
            fault: fault.clone(),
            harness,
            schemathesis,
        })
        .collect())
}

/// How many Schemathesis runs go at once: each keeps about one core busy,
/// and these runs are results, not timings.
const SCHEMATHESIS_WORKERS: usize = 2;

/// Schemathesis against a correct server per area and against each fault,
/// then each fault's failures compared with its area's.
fn schemathesis_catches(
    launcher: &Launcher,
    bench_dir: &Path,
    installation: &Installation,
    spec: &Path,
    faults: &[Fault],
) -> Vec<Catch> {
    let areas: BTreeSet<&str> = faults.iter().map(|fault| fault.area.as_str()).collect();
    // (label, server arguments, area): the correct servers first.
    let jobs: Vec<(String, Vec<String>, &str)> = areas
        .iter()
        .map(|area| (format!("clean-{area}"), Vec::new(), *area))
        .chain(faults.iter().map(|fault| {
            let args = vec!["--fault".to_owned(), fault.name.clone()];
            (fault.name.clone(), args, fault.area.as_str())
        }))
        .collect();
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<BTreeMap<String, Result<BTreeSet<String>, String>>> =
        Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..SCHEMATHESIS_WORKERS {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some((label, args, area)) = jobs.get(index) else {
                        break;
                    };
                    super::progress(&format!(
                        "Schemathesis run {}/{}: {label}",
                        index + 1,
                        jobs.len()
                    ));
                    let outcome = schemathesis_run(
                        launcher,
                        bench_dir,
                        installation,
                        spec,
                        args,
                        area,
                        label,
                    )
                    .map(|outcome| outcome.failures)
                    .map_err(|error| format!("{error:#}"));
                    let mut outcomes = outcomes.lock().unwrap_or_else(|e| e.into_inner());
                    outcomes.insert(label.clone(), outcome);
                }
            });
        }
    });
    let outcomes = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    faults
        .iter()
        .map(|fault| {
            let clean = match outcomes.get(&format!("clean-{}", fault.area)) {
                Some(Ok(clean)) => clean,
                Some(Err(error)) => {
                    return Catch::Error(format!("against a correct server: {error}"));
                }
                None => return Catch::Error("no run against a correct server".into()),
            };
            match outcomes.get(&fault.name) {
                Some(Ok(failures)) => {
                    let new: Vec<&str> = failures.difference(clean).map(String::as_str).collect();
                    if new.is_empty() {
                        Catch::Missed
                    } else {
                        Catch::Caught(new.join("; "))
                    }
                }
                Some(Err(error)) => Catch::Error(error.clone()),
                None => Catch::Error("not run".into()),
            }
        })
        .collect()
}

fn harness_catch(launcher: &Launcher, features: harness::Features, fault: &Fault) -> Catch {
    let outcome = (|| {
        let server_args = ["--fault".to_owned(), fault.name.clone()];
        let server = launcher.start_server(&fault.name, &server_args)?;
        let mut args = vec![
            "--url".to_owned(),
            server.base_url().to_owned(),
            "--signup".into(),
        ];
        args.extend(harness::standard_args(features));
        harness::run_harness(
            launcher,
            &args,
            &format!("fault-harness-{}.log", fault.name),
        )
    })();
    match outcome {
        Ok(run) => match run.exit_code {
            Some(0) => Catch::Missed,
            Some(code) => Catch::Caught(format!("exit {code}")),
            None => Catch::Error("killed by a signal".into()),
        },
        Err(error) => Catch::Error(format!("{error:#}")),
    }
}

fn schemathesis_run(
    launcher: &Launcher,
    bench_dir: &Path,
    installation: &Installation,
    spec: &Path,
    server_args: &[String],
    area: &str,
    label: &str,
) -> anyhow::Result<Outcome> {
    let server = launcher.start_server(&format!("schemathesis-{label}"), server_args)?;
    let token = launcher.signup_token(&server)?;
    let run = schemathesis::Run {
        installation,
        spec,
        url: server.base_url(),
        token: &token,
        max_examples: FAULT_MAX_EXAMPLES,
        tag: Some(area),
        report_dir: bench_dir.join(format!("schemathesis/{label}")),
        limit: SCHEMATHESIS_LIMIT,
    };
    run.execute(&launcher.logs, &format!("schemathesis-{label}.log"))
        .with_context(|| format!("Schemathesis against `{label}`"))
}

/// The token of a new user of `server`, through the load generator.
pub fn token_from(stdout: &str) -> anyhow::Result<String> {
    let value: Value = serde_json::from_str(stdout.trim()).context("the signup printed no JSON")?;
    value["token"]
        .as_str()
        .map(str::to_owned)
        .context("the signup printed no `token`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_lists_names_with_their_areas() {
        let text = "\
users.duplicate-signup-accepted
  area: users  class: uniqueness  caught by: users.duplicate-signup-refused
  Signing up a username that exists answers 201.
  when: on every call
flow-authentication.no-auth-answers-204
  area: flow-authentication  class: contract  caught by: spec.status-documented
  `getFlowAuthentication` answers 204.
";

        let faults = parse_catalogue(text);

        assert_eq!(
            faults,
            vec![
                Fault {
                    name: "users.duplicate-signup-accepted".into(),
                    area: "users".into()
                },
                Fault {
                    name: "flow-authentication.no-auth-answers-204".into(),
                    area: "flow-authentication".into()
                },
            ]
        );
    }

    #[test]
    fn a_catalogue_without_area_lines_takes_the_area_from_the_name() {
        let faults = parse_catalogue("charts.unknown-type-accepted\n");

        assert_eq!(faults[0].area, "charts");
    }

    #[test]
    fn the_token_is_read_from_the_signup_output() {
        assert_eq!(token_from("{\"token\":\"abc\"}\n").unwrap(), "abc");
        assert!(token_from("{}").is_err());
    }
}
