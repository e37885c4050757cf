//! The harness section: the conformance harness's standard profile against
//! its embedded server and against reference server processes, timed, next
//! to the loopback ceiling the load generator reaches on a reference server
//! process: sending the very requests a run of the harness recorded
//! (`--record`), in order, and, for comparison, small requests in the
//! harness's mix of methods.
//!
//! The harness is asked for its own figures with `--bench` when it has the
//! flag (it prints them on stderr); without it the wall time is measured
//! from outside and the request count read from the verdict line, and the
//! report says so.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::load::mix::Mix;
use super::load::replay::Replay;
use super::process::{run_bounded, shown_command};
use super::{Context, Launcher};

/// How long one harness run may take.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// The seed of every harness run of the benchmark: the same seed makes the
/// same requests, so the recorded run stands for the timed ones.
pub const SEED: &str = "1";

/// The options the harness's `--help` lists, as far as the benchmark uses
/// them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Features {
    /// `--profile smoke|standard|deep`.
    pub profile: bool,
    /// `--bench`: wall time, requests/s and checks/s on stdout.
    pub bench: bool,
    /// `--record FILE`: every exchange written to a file.
    pub record: bool,
}

impl Features {
    /// Reads them from `help`, the harness's `--help` text.
    pub fn from_help(help: &str) -> Self {
        Self {
            profile: help.contains("--profile"),
            bench: help.contains("--bench"),
            record: help.contains("--record"),
        }
    }
}

/// What one harness run reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HarnessRun {
    /// The exit status (0 passed).
    pub exit_code: Option<i32>,
    /// Wall time: the harness's own with `--bench`, else measured outside.
    pub wall_seconds: f64,
    /// Requests sent.
    pub requests: Option<u64>,
    /// Requests per second of wall time.
    pub requests_per_second: Option<f64>,
    /// Checks made.
    pub checks: Option<u64>,
    /// Checks per second of wall time.
    pub checks_per_second: Option<f64>,
    /// Seconds spent waiting for the server's answers.
    pub waiting_seconds: Option<f64>,
    /// Seconds spent in the harness itself.
    pub in_harness_seconds: Option<f64>,
    /// Requests per method.
    pub methods: Vec<(String, u64)>,
}

/// The standard-profile runs and the ceiling beside them.
#[derive(Debug, Clone)]
pub struct HarnessFigures {
    /// What the harness offered.
    pub features: Features,
    /// The runs against the embedded server.
    pub runs: Vec<HarnessRun>,
    /// The load generator's ceiling for the same mix of methods.
    pub ceiling: Option<Mix>,
    /// Why the ceiling is missing, if it is.
    pub ceiling_error: Option<String>,
    /// The runs against a fresh reference server process each, the setup
    /// of the replays: the harness and the ceiling on the same footing.
    pub process_runs: Vec<HarnessRun>,
    /// The harness's recorded requests sent again, one fresh server each.
    pub replays: Vec<Replay>,
    /// Why there are no replays, if there are none.
    pub replay_error: Option<String>,
}

/// Asks the harness what it can do.
pub fn features(context: &Context) -> anyhow::Result<Features> {
    let mut command = Command::new(&context.executables.conformance);
    command.arg("--help");
    let log = context.logs.join("conformance-help.log");
    let finished = run_bounded(&mut command, Duration::from_secs(30), Some(&log))?;
    Ok(Features::from_help(&finished.stdout))
}

/// The harness's arguments for a standard-profile run.
pub fn standard_args(features: Features) -> Vec<String> {
    let mut args = vec!["--seed".to_owned(), SEED.to_owned()];
    if features.profile {
        args.extend(["--profile".into(), "standard".into()]);
    }
    if features.bench {
        args.push("--bench".into());
    }
    args
}

/// Runs the harness with `args`, records the command, and reads what it
/// printed.
pub fn run_once(
    context: &mut Context,
    args: &[String],
    log_name: &str,
) -> anyhow::Result<HarnessRun> {
    let command = command(&context.launcher(), args);
    context.note_command(&command);
    run_harness(&context.launcher(), args, log_name)
}

fn command(launcher: &Launcher, args: &[String]) -> Command {
    let mut command = Command::new(&launcher.executables.conformance);
    command.current_dir(&launcher.root).args(args);
    command
}

/// Runs the harness with `args` and reads what it printed: the report on
/// stdout, the `--bench` lines with the progress on stderr.
pub fn run_harness(
    launcher: &Launcher,
    args: &[String],
    log_name: &str,
) -> anyhow::Result<HarnessRun> {
    let mut command = command(launcher, args);
    let log = launcher.logs.join(log_name);
    let finished = run_bounded(&mut command, RUN_LIMIT, Some(&log))
        .with_context(|| format!("`{}`", shown_command(&command)))?;
    let _ = std::fs::write(
        launcher.logs.join(format!("{log_name}.stdout")),
        &finished.stdout,
    );
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    let mut run = parse_output(&format!("{}\n{stderr}", finished.stdout));
    run.exit_code = finished.status.code();
    if run.wall_seconds == 0.0 {
        run.wall_seconds = finished.elapsed.as_secs_f64();
    }
    if run.requests_per_second.is_none() {
        run.requests_per_second = run.requests.map(|n| n as f64 / run.wall_seconds);
    }
    Ok(run)
}

/// The standard profile against the embedded server `runs` times, then the
/// ceiling for the mix of methods the first run sent.
pub fn run(context: &mut Context, runs: usize, seconds: f64) -> anyhow::Result<HarnessFigures> {
    let features = features(context)?;
    let args = standard_args(features);
    let mut measured = Vec::with_capacity(runs);
    for number in 0..runs {
        measured.push(run_once(
            context,
            &args,
            &format!("harness-standard-{number}.log"),
        )?);
    }
    let mix = measured
        .iter()
        .find(|run| !run.methods.is_empty())
        .map(|run| mix_argument(&run.methods));
    let (ceiling, ceiling_error) = match mix {
        Some(mix) => match ceiling(context, &mix, runs, seconds) {
            Ok(ceiling) => (Some(ceiling), None),
            Err(error) => (None, Some(format!("{error:#}"))),
        },
        None => (
            None,
            Some("the harness printed no `requests by method:` line to take the mix from".into()),
        ),
    };
    let (process_runs, replays, replay_error) = if features.record {
        match against_processes(context, &args, runs) {
            Ok((process_runs, replays)) => (process_runs, replays, None),
            Err(error) => (Vec::new(), Vec::new(), Some(format!("{error:#}"))),
        }
    } else {
        (
            Vec::new(),
            Vec::new(),
            Some("this build of the harness has no `--record`".into()),
        )
    };
    Ok(HarnessFigures {
        features,
        runs: measured,
        ceiling,
        ceiling_error,
        process_runs,
        replays,
        replay_error,
    })
}

/// The harness against `runs` fresh server processes, one more run of it
/// recorded, and its requests sent again to `runs` more.
fn against_processes(
    context: &mut Context,
    args: &[String],
    runs: usize,
) -> anyhow::Result<(Vec<HarnessRun>, Vec<Replay>)> {
    let with_server = |server: &super::process::ServerProcess| {
        let mut with = vec![
            "--url".to_owned(),
            server.base_url().to_owned(),
            "--signup".to_owned(),
        ];
        with.extend(args.iter().cloned());
        with
    };
    let mut process_runs = Vec::with_capacity(runs);
    for number in 0..runs {
        let server = context.start_server(&format!("harness-process-{number}"), &[])?;
        process_runs.push(run_once(
            context,
            &with_server(&server),
            &format!("harness-process-{number}.log"),
        )?);
    }

    let file = context.bench_dir.join("harness-requests.jsonl");
    let server = context.start_server("harness-record", &[])?;
    let mut recording = with_server(&server);
    recording.extend(["--record".into(), file.display().to_string()]);
    let recorded = run_once(context, &recording, "harness-record.log")?;
    drop(server);
    if recorded.exit_code != Some(0) {
        bail!(
            "the recorded harness run did not pass (exit {:?}); see target/bench/logs/\
             harness-record.log",
            recorded.exit_code
        );
    }
    let replay = [
        "replay".to_owned(),
        "--file".to_owned(),
        file.display().to_string(),
    ];
    let mut replays = Vec::with_capacity(runs);
    for number in 0..runs {
        let server = context.start_server(&format!("replay-{number}"), &[])?;
        let sent: Replay = context.load(&server, &replay)?;
        // A replay that the server answers otherwise did other work: its
        // rate is no ceiling of the recorded run.
        if sent.same_status != sent.requests {
            bail!(
                "the replay departed from the recording: {} of {} answers had the recorded \
                 status (first differences: {})",
                sent.same_status,
                sent.requests,
                sent.differing.join("; ")
            );
        }
        replays.push(sent);
    }
    Ok((process_runs, replays))
}

fn ceiling(context: &mut Context, mix: &str, runs: usize, seconds: f64) -> anyhow::Result<Mix> {
    let server = context.start_server("ceiling", &[])?;
    context.load(
        &server,
        &[
            "mix".into(),
            "--mix".into(),
            mix.into(),
            "--connections".into(),
            "1,16".into(),
            "--runs".into(),
            runs.to_string(),
            "--seconds".into(),
            seconds.to_string(),
        ],
    )
}

/// `GET=120,POST=40` from method counts.
pub fn mix_argument(methods: &[(String, u64)]) -> String {
    methods
        .iter()
        .map(|(method, count)| format!("{method}={count}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads the `bench:` lines, the method counts and the verdict line of the
/// harness's stdout; what is not there stays `None` (or 0 for the wall time).
pub fn parse_output(stdout: &str) -> HarnessRun {
    let mut run = HarnessRun::default();
    for line in stdout.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("bench: wall time ") {
            run.wall_seconds = first_number(rest).unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("bench: ") {
            if rest.contains("requests/s") {
                run.requests = first_number(rest).map(|n| n as u64);
                run.requests_per_second = number_before(rest, "requests/s");
            } else if rest.contains("checks/s") {
                run.checks = first_number(rest).map(|n| n as u64);
                run.checks_per_second = number_before(rest, "checks/s");
            } else if rest.starts_with("waiting on responses") {
                run.waiting_seconds = first_number(rest);
                run.in_harness_seconds = rest
                    .split_once("in the harness")
                    .and_then(|(_, tail)| first_number(tail));
            }
        } else if let Some(rest) = line.strip_prefix("requests by method:") {
            run.methods = rest
                .split(',')
                .filter_map(|part| {
                    let (method, count) = part.trim().split_once(' ')?;
                    Some((method.to_owned(), count.trim().parse().ok()?))
                })
                .collect();
        } else if run.requests.is_none() && line.ends_with(" requests") {
            // The verdict line: `PASSED: 812 checks, 0 failed, …, 1234 requests`.
            run.requests = line
                .rsplit(", ")
                .next()
                .and_then(first_number)
                .map(|n| n as u64);
        }
    }
    run
}

/// The first number in `text`.
fn first_number(text: &str) -> Option<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|part| !part.is_empty() && part != &".")
        .and_then(|part| part.parse().ok())
}

/// The number right before `unit` in `text`, e.g. `812.5` in `812.5 requests/s`.
fn number_before(text: &str, unit: &str) -> Option<f64> {
    let (before, _) = text.split_once(unit)?;
    before.split_whitespace().last()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BENCH_OUTPUT: &str = "\
Appmixer conformance of the embedded server (run tag amxc-1a2b3c4d, profile standard, seed 7)

requests by method: DELETE 30, GET 812, POST 240, PUT 18

PASSED: 2310 checks, 0 failed, 0 required not checked, 1100 requests
bench: wall time 2.75 s
bench: 1100 requests, 400.0 requests/s
bench: 2310 checks, 840.0 checks/s
bench: waiting on responses 1.10 s (40 %), pausing 0.00 s (0 %), in the harness 1.65 s (60 %)
";

    #[test]
    fn bench_lines_give_the_harness_figures() {
        let run = parse_output(BENCH_OUTPUT);

        assert_eq!(run.wall_seconds, 2.75);
        assert_eq!(run.requests, Some(1100));
        assert_eq!(run.requests_per_second, Some(400.0));
        assert_eq!(run.checks, Some(2310));
        assert_eq!(run.checks_per_second, Some(840.0));
        assert_eq!(run.waiting_seconds, Some(1.10));
        assert_eq!(run.in_harness_seconds, Some(1.65));
    }

    #[test]
    fn method_counts_become_the_mix() {
        let run = parse_output(BENCH_OUTPUT);

        assert_eq!(
            mix_argument(&run.methods),
            "DELETE=30,GET=812,POST=240,PUT=18"
        );
    }

    #[test]
    fn without_bench_lines_the_verdict_gives_the_requests() {
        let stdout = "PASSED: 20 checks, 0 failed, 0 required not checked, 57 requests\n";

        let run = parse_output(stdout);

        assert_eq!(run.requests, Some(57));
        assert_eq!(run.wall_seconds, 0.0);
        assert_eq!(run.requests_per_second, None);
    }

    #[test]
    fn help_text_tells_which_options_exist() {
        let old = Features::from_help("      --url <URL>  Base URL\n      --cases <N>\n");
        let new = Features::from_help("  --profile <PROFILE>\n  --bench  Print timings\n");

        assert!(!old.profile && !old.bench && !old.record);
        assert!(new.profile && new.bench && !new.record);
        assert_eq!(
            standard_args(new),
            vec!["--seed", SEED, "--profile", "standard", "--bench"]
        );
        assert_eq!(standard_args(old), vec!["--seed", SEED]);
    }
}
