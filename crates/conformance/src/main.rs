//! `appmixer-conformance`: checks an Appmixer deployment against the spec.
//!
//! A thin shell around the library: it reads the command line and
//! environment, shows progress on stderr, prints the report on stdout,
//! writes the report files asked for, and turns the outcome into the exit
//! status. Three subcommands sit beside the run: `replay` sends a saved
//! failing case of the model again, `snapshots` compares a server with the
//! committed transcripts, `cleanup` removes what earlier, interrupted runs
//! left behind.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use appmixer_conformance::cleanup::{self, TagSelector};
use appmixer_conformance::report::ReportFile;
use appmixer_conformance::{Options, Profile, snapshots};
use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit status:
  0  every check passed, every required property was checked, and cleanup left
     nothing behind
  1  a check failed, or cleanup left objects behind
  2  usage, spec or connection error (bad option, bad --descriptors file, unreadable
     spec, unreachable or garbled server, slow server, refused credentials)
  3  a required property was never checked; the report says why (e.g. \"all answers
     were 401: are the credentials right?\", \"needs a second user\")
  4  a safety guard stopped the run, signing in included: --max-requests used up,
     the server failed --max-consecutive-failures requests in a row, it asked for
     a Retry-After of more than 60 s, or Ctrl-C, SIGTERM or SIGHUP

`replay FILE` exits 0 when every step of the saved case passes (FIXED), 1 when one
still fails, 2 on a usage, spec or connection error, and 4 when a safety guard
stops it while it signs in.

Without --url the embedded reference server is started on 127.0.0.1 and checked.
An option given an empty value, on the command line or in its environment
variable, counts as not given.
Every object the run creates carries the run tag (amxc-<8 hex>) in its name and is
deleted at the end, also after a failure, Ctrl-C, SIGTERM or SIGHUP; `cleanup` removes what an
interrupted run left. People tasks and users cannot be deleted through the API.";

/// Checks an Appmixer-compatible server against spec/appmixer.yaml and
/// Appmixer's semantics.
#[derive(Debug, Parser)]
#[command(name = "appmixer-conformance", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send the steps of a failing case saved by `--save-failures` again and
    /// say per step whether it is FIXED or still FAILED (exit 1).
    Replay(ReplayArgs),
    /// Compare a server's transcripts of fixed scenarios with the committed
    /// snapshots; print a unified diff per scenario that differs (exit 1).
    Snapshots(SnapshotArgs),
    /// Remove the flows, stores, accounts and charts whose names carry a
    /// harness run tag, left behind by interrupted runs (exit 1 if any is left).
    Cleanup(CleanupArgs),
}

/// Which server, and how to get in: the run, `replay` and `snapshots`.
#[derive(Debug, Args)]
struct ServerArgs {
    /// Base URL of the server to check; without it, the embedded reference
    /// server is started and checked.
    #[arg(long, env = "APPMIXER_URL")]
    url: Option<String>,

    /// Sign a run-tagged user up instead of logging in.
    #[arg(long)]
    signup: bool,

    #[command(flatten)]
    access: Access,
}

/// The server whose leftovers `cleanup` removes, and the user who owns them.
#[derive(Debug, Args)]
struct CleanupServerArgs {
    /// Base URL of the server to clean up. Required: the embedded reference
    /// server starts empty, with nothing left behind to remove.
    #[arg(long, env = "APPMIXER_URL")]
    url: String,

    #[command(flatten)]
    access: Access,
}

/// Who to be on the server, what to check its answers against, and how
/// long to wait for them: the same for every command.
#[derive(Debug, Args)]
struct Access {
    /// Username (or e-mail) to log in with.
    #[arg(long, env = "APPMIXER_USERNAME")]
    username: Option<String>,

    /// Password to log in with.
    #[arg(long, env = "APPMIXER_PASSWORD", hide_env_values = true)]
    password: Option<String>,

    /// A token to use instead of logging in.
    #[arg(long, env = "APPMIXER_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// The OpenAPI spec to build requests from and check answers against
    /// [default: the spec built into this binary, the workspace's
    /// spec/appmixer.yaml when it was built; a run's report says which was
    /// used].
    #[arg(long, value_name = "PATH")]
    spec: Option<PathBuf>,

    /// Seconds one request may take before it counts as unanswered.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,

    /// The longest response body read, in bytes or with a unit (`KiB`, `MiB`,
    /// `GiB`); a longer body fails its exchange.
    #[arg(long, value_name = "BYTES", default_value = "64MiB", value_parser = parse_bytes)]
    max_body: u64,
}

/// `text` unless it is empty: an empty option or environment variable
/// counts as not given.
fn given(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

/// A size in bytes: a number, optionally followed by `KiB`, `MiB` or `GiB`.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => 0,
    };
    let bytes = number
        .parse::<u64>()
        .ok()
        .filter(|_| scale > 0)
        .and_then(|number| number.checked_mul(scale))
        .filter(|bytes| *bytes > 0);
    bytes.ok_or_else(|| {
        format!("expected a positive size such as `67108864` or `64MiB`, got `{text}`")
    })
}

/// A request budget: a whole number of at least 1.
fn parse_max_requests(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err(
            "the smallest useful budget is 1 request: 0 would stop the run before \
                      its first request (leave `--max-requests` out for the profile's budget)"
                .into(),
        ),
        Ok(limit) => Ok(limit),
        Err(_) => Err(format!(
            "expected a whole number of requests of at least 1, got `{text}`"
        )),
    }
}

/// A number of generated cases: a whole number from 1 to
/// [`appmixer_conformance::MAX_CASES`].
fn parse_cases(text: &str) -> Result<u32, String> {
    parse_size(text, appmixer_conformance::MAX_CASES, "cases")
}

/// A length of a model sequence: a whole number from 1 to
/// [`appmixer_conformance::MAX_STEPS`].
fn parse_steps(text: &str) -> Result<u32, String> {
    parse_size(text, appmixer_conformance::MAX_STEPS, "steps")
}

/// A whole number of `unit` from 1 to `max`. A number too large for any
/// integer type is still a number, and gets the same answer as `max + 1`.
fn parse_size(text: &str, max: u32, unit: &str) -> Result<u32, String> {
    let digits = text.trim();
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!(
            "expected a whole number of {unit} from 1 to {max}, got `{text}`"
        ));
    }
    match digits.parse::<u32>() {
        Ok(0) => Err(format!("0 is too few: give from 1 to {max} {unit}")),
        Ok(value) if value <= max => Ok(value),
        _ => Err(format!(
            "{digits} is too many: the largest accepted value is {max}, as every generated \
             case is drawn in memory before it is sent; give from 1 to {max} {unit}"
        )),
    }
}

impl ServerArgs {
    fn options(self, profile: Profile) -> anyhow::Result<Options> {
        Ok(Options {
            url: given(self.url),
            signup: self.signup,
            ..self.access.options(profile)?
        })
    }
}

impl CleanupServerArgs {
    fn options(self) -> anyhow::Result<Options> {
        Ok(Options {
            url: given(Some(self.url)),
            ..self.access.options(Profile::Standard)?
        })
    }
}

impl Access {
    /// The options of `profile` with this access; no URL (the embedded
    /// server) until the caller sets one.
    fn options(self, profile: Profile) -> anyhow::Result<Options> {
        anyhow::ensure!(
            self.timeout.is_finite() && self.timeout > 0.0,
            "`--timeout` must be a positive number of seconds, got `{}`",
            self.timeout
        );
        Ok(Options {
            username: given(self.username),
            password: given(self.password),
            token: given(self.token),
            max_body: self.max_body,
            spec: self.spec,
            timeout: Duration::try_from_secs_f64(self.timeout)
                .context("`--timeout` is out of range")?,
            ..Options::for_profile(profile)
        })
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    server: ServerArgs,

    /// Username of a second user, for the isolation checks (credentials mode).
    #[arg(long, env = "APPMIXER_USERNAME_B")]
    username_b: Option<String>,

    /// Password of the second user.
    #[arg(long, env = "APPMIXER_PASSWORD_B", hide_env_values = true)]
    password_b: Option<String>,

    /// How thorough the run is: budgets, phases and required properties.
    #[arg(long, value_name = "smoke|standard|deep", default_value = "standard")]
    profile: Profile,

    /// Most requests the run may send before it stops with exit 4 (cleanup
    /// excepted), at least 1 [default: from the profile].
    #[arg(long, value_name = "N", value_parser = parse_max_requests)]
    max_requests: Option<u64>,

    /// Most requests per second (a token bucket) [default: no limit].
    #[arg(long, value_name = "PER_SECOND")]
    rate: Option<f64>,

    /// Failed requests in a row that stop the run with exit 4: transport
    /// errors, 5xx answers, 429 answers still refused after their retries,
    /// and 401 answers to the run's own token. 0 never stops the run.
    #[arg(long, value_name = "N", default_value_t = appmixer_conformance::guards::DEFAULT_MAX_CONSECUTIVE_FAILURES)]
    max_consecutive_failures: u32,

    /// Send only GET and HEAD requests (and the log-in); run the read checks only.
    #[arg(long)]
    read_only: bool,

    /// Seed of everything generated [default: random, printed].
    #[arg(long)]
    seed: Option<u64>,

    /// How many generated cases to send, from 1 to 10000 [default: from the
    /// profile].
    #[arg(long, value_name = "N", value_parser = parse_cases)]
    cases: Option<u32>,

    /// The longest generated sequence of the model, from 1 to 10000 steps
    /// [default: from the profile].
    #[arg(long, value_name = "N", value_parser = parse_steps)]
    steps: Option<u32>,

    /// Where the model saves its failing case, for `replay`.
    #[arg(long, value_name = "DIR", default_value = appmixer_conformance::DEFAULT_FAILURES_DIR)]
    save_failures: PathBuf,

    /// Directory of flow files (*.json, whole flow objects) to send and read
    /// back. The fields a server sets (flowId, userId, stage, btime, mtime,
    /// started, stopped, _id), as in a flow saved from a server's answer, are
    /// stripped before sending and not compared; the report names them per file.
    #[arg(long, value_name = "DIR")]
    descriptors: Option<PathBuf>,

    /// Write a report file: `json=PATH` or `junit=PATH`; repeatable.
    #[arg(long, value_name = "FORMAT=PATH")]
    report: Vec<ReportFile>,

    /// Add the run's tag and timings to the JSON report (which then differs
    /// from run to run).
    #[arg(long)]
    timings: bool,

    /// Print the wall time, requests and checks per second, and the time
    /// spent in the harness and waiting on responses.
    #[arg(long)]
    bench: bool,

    /// Write every request and answer of the run to FILE, one JSON object a
    /// line, with passwords, tokens and secrets replaced by placeholders
    /// (`cargo xtask bench` sends them again to measure the harness's ceiling).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

impl RunArgs {
    fn options(self) -> anyhow::Result<Options> {
        if let Some(rate) = self.rate {
            anyhow::ensure!(
                rate.is_finite() && rate > 0.0,
                "`--rate` must be a positive number of requests per second, got `{rate}`"
            );
        }
        let profile = self.profile;
        let budgets = profile.budgets();
        let base = self.server.options(profile)?;
        Ok(Options {
            username_b: given(self.username_b),
            password_b: given(self.password_b),
            max_requests: self.max_requests.unwrap_or(budgets.max_requests),
            rate: self.rate,
            max_consecutive_failures: self.max_consecutive_failures,
            read_only: self.read_only,
            seed: self.seed,
            cases: self.cases.unwrap_or(budgets.cases),
            steps: self.steps.unwrap_or(budgets.steps),
            save_failures: self.save_failures,
            descriptors: self.descriptors,
            progress: std::io::stderr().is_terminal(),
            record: self.record,
            ..base
        })
    }
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// The saved case, a JSON file from `--save-failures`.
    #[arg(value_name = "FILE")]
    file: PathBuf,

    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Args)]
struct SnapshotArgs {
    #[command(flatten)]
    server: ServerArgs,

    /// Write this server's transcripts as the snapshots instead of comparing.
    #[arg(long)]
    update: bool,

    /// Directory of the snapshots [default: crates/conformance/tests/snapshots].
    #[arg(long, value_name = "DIR")]
    snapshots: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CleanupArgs {
    #[command(flatten)]
    server: CleanupServerArgs,

    /// Remove only the objects of this run tag (as a run prints it).
    #[arg(long, value_name = "TAG", value_parser = cleanup::parse_tag, conflicts_with = "all_tags")]
    tag: Option<String>,

    /// Remove the objects of every run tag.
    #[arg(long)]
    all_tags: bool,
}

fn init_tracing(progress_bars: bool) {
    // With progress bars on stderr, routine progress lines would garble
    // them; only warnings are shown unless RUST_LOG asks for more.
    let default = if progress_bars {
        "appmixer_conformance=warn"
    } else {
        "appmixer_conformance=info"
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into()),
        )
        .init();
}

fn usage_error(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::from(appmixer_conformance::report::EXIT_ERROR)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.command.is_none() && std::io::stderr().is_terminal());
    // One thread: the harness sends one request at a time and waits for its
    // answer, so worker threads would only hand every request and answer from
    // thread to thread (and, without `--url`, to the embedded server and back).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return usage_error(format!("cannot start the async runtime: {error}")),
    };
    let code = runtime.block_on(dispatch(cli));
    // The report is written and the exit status known: nothing left is worth
    // waiting for. Dropping the runtime would wait for every blocking thread,
    // and a thread drawing generated cases when a signal stopped the run
    // would hold the process (and its signals, which the run took over)
    // until it noticed.
    runtime.shutdown_background();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    code
}

async fn dispatch(cli: Cli) -> ExitCode {
    match cli.command {
        None => run(cli.run).await,
        Some(Command::Replay(args)) => replay(args).await,
        Some(Command::Snapshots(args)) => compare_snapshots(args).await,
        Some(Command::Cleanup(args)) => remove_leftovers(args).await,
    }
}

async fn run(args: RunArgs) -> ExitCode {
    let files = args.report.clone();
    let (timings, bench) = (args.timings, args.bench);
    let options = match args.options() {
        Ok(options) => options,
        Err(error) => return usage_error(error),
    };
    for file in &files {
        if let Err(reason) = file.check() {
            return usage_error(format!("cannot write the report there: {reason}"));
        }
    }
    let report = match appmixer_conformance::run(options).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(error.exit_code());
        }
    };
    print!("{report}");
    // A recording that could not be written counts like a report file.
    let mut unwritten = false;
    if let Some(error) = &report.recording_error {
        eprintln!("error: {error}");
        unwritten = true;
    }
    for file in &files {
        if let Err(error) = file.write(&report, timings) {
            eprintln!(
                "error: cannot write the report to {}: {error}; check that its directory \
                 exists and is writable",
                file.path().display()
            );
            unwritten = true;
        }
    }
    if bench {
        eprint!("{}", report.bench());
    }
    ExitCode::from(exit_code(report.exit_code(), unwritten))
}

/// The exit status of a run whose report said `run`: a report file that
/// could not be written makes a passed run a usage error (2), but never
/// hides that the run itself failed (1), missed a property (3) or was
/// stopped (4).
fn exit_code(run: u8, unwritten: bool) -> u8 {
    if unwritten && run == appmixer_conformance::report::EXIT_PASSED {
        appmixer_conformance::report::EXIT_ERROR
    } else {
        run
    }
}

async fn replay(args: ReplayArgs) -> ExitCode {
    let options = match args.server.options(Profile::Standard) {
        Ok(options) => options,
        Err(error) => return usage_error(error),
    };
    match appmixer_conformance::replay::replay(options, &args.file).await {
        Ok(report) => {
            print!("{report}");
            ExitCode::from(report.exit_code())
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

async fn compare_snapshots(args: SnapshotArgs) -> ExitCode {
    let dir = args.snapshots.unwrap_or_else(snapshots::default_dir);
    let options = match args.server.options(Profile::Standard) {
        Ok(options) => options,
        Err(error) => return usage_error(error),
    };
    let transcripts = match snapshots::record(&options).await {
        Ok(transcripts) => transcripts,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(error.exit_code());
        }
    };
    if args.update {
        return match snapshots::write(&dir, &transcripts) {
            Ok(()) => {
                println!("wrote {} snapshots to {}", transcripts.len(), dir.display());
                ExitCode::SUCCESS
            }
            Err(error) => usage_error(format!(
                "cannot write the snapshots to {}: {error}",
                dir.display()
            )),
        };
    }
    let differences = snapshots::compare(&dir, &transcripts);
    for difference in &differences {
        print!("{}", difference.diff);
    }
    println!(
        "snapshots: {} of {} scenarios match {}",
        transcripts.len() - differences.len(),
        transcripts.len(),
        dir.display()
    );
    ExitCode::from(u8::from(!differences.is_empty()))
}

async fn remove_leftovers(args: CleanupArgs) -> ExitCode {
    let selector = match (args.tag, args.all_tags) {
        (Some(tag), false) => TagSelector::Tag(tag),
        (None, true) => TagSelector::AllTags,
        _ => return usage_error("`cleanup` needs `--tag TAG` or `--all-tags`"),
    };
    let options = match args.server.options() {
        Ok(options) if options.url.is_some() => options,
        Ok(_) => {
            return usage_error(
                "`cleanup` needs `--url` (here or in APPMIXER_URL, not empty) and the user \
                 whose leftovers to remove (`--username` and `--password`, or `--token`)",
            );
        }
        Err(error) => return usage_error(error),
    };
    match appmixer_conformance::sweep(options, &selector).await {
        Ok(summary) => {
            print!("{summary}");
            ExitCode::from(summary.exit_code())
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_bytes_or_binary_units() {
        assert_eq!(parse_bytes("67108864"), Ok(64 << 20));
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("512 KiB"), Ok(512 << 10));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("64MB").is_err());
        assert!(parse_bytes("lots").unwrap_err().contains("`lots`"));
    }

    #[test]
    fn cases_and_steps_are_refused_above_their_maxima_whatever_the_number() {
        for too_many in ["10001", "4294967295", "99999999999999999999"] {
            for (parse, unit) in [
                (parse_cases as fn(&str) -> _, "cases"),
                (parse_steps, "steps"),
            ] {
                let error = parse(too_many).unwrap_err();

                assert!(
                    error.contains("the largest accepted value is 10000")
                        && error.ends_with(&format!("give from 1 to 10000 {unit}")),
                    "{error}"
                );
            }
        }
    }

    #[test]
    fn cases_and_steps_take_every_whole_number_up_to_their_maxima() {
        assert_eq!(parse_cases("1"), Ok(1));
        assert_eq!(parse_cases("10000"), Ok(appmixer_conformance::MAX_CASES));
        assert_eq!(parse_steps(" 10000 "), Ok(appmixer_conformance::MAX_STEPS));
        assert!(parse_steps("0").unwrap_err().contains("0 is too few"));
        assert!(parse_steps("-3").unwrap_err().contains("got `-3`"));
        assert!(parse_cases("ten").unwrap_err().contains("got `ten`"));
    }

    #[test]
    fn an_unwritten_report_file_never_hides_a_worse_exit_status() {
        assert_eq!(exit_code(0, true), 2);
        assert_eq!(exit_code(0, false), 0);
        for run in [1, 3, 4] {
            assert_eq!(exit_code(run, true), run);
        }
    }

    #[test]
    fn an_empty_value_counts_as_not_given() {
        assert_eq!(given(Some(String::new())), None);
        assert_eq!(given(Some("  ".into())), None);
        assert_eq!(
            given(Some("http://127.0.0.1:2200".into())).as_deref(),
            Some("http://127.0.0.1:2200")
        );
        assert_eq!(given(None), None);
    }

    #[test]
    fn an_empty_url_option_leaves_the_embedded_server_in_place() {
        let cli = Cli::try_parse_from(["appmixer-conformance", "--url", ""]).unwrap();

        let options = cli.run.options().unwrap();

        assert_eq!(options.url, None);
    }
}
