//! `appmixer-conformance`: checks an Appmixer deployment against the spec.
//!
//! A thin shell around [`appmixer_conformance::run`]: it reads the command
//! line and environment, sends progress to stderr, prints the report on
//! stdout and turns the outcome into the exit status.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use appmixer_conformance::{DEFAULT_CASES, DEFAULT_MAX_REQUESTS, Options};
use clap::Parser;

const EXIT_CODES: &str = "\
Exit status:
  0  every check passed and cleanup left nothing behind
  1  a check failed, the run was aborted, or cleanup left objects behind
  2  usage, spec or connection error (bad option, bad --descriptors file, unreadable
     spec, unreachable or garbled server, slow server, refused credentials)

Without --url the embedded reference server is started on 127.0.0.1 and checked.
Every object the run creates carries the run tag (amxc-<8 hex>) in its name and is
deleted at the end; people tasks and users cannot be deleted through the API.";

/// Checks an Appmixer-compatible server against spec/appmixer.yaml and
/// Appmixer's semantics.
#[derive(Debug, Parser)]
#[command(name = "appmixer-conformance", version, after_help = EXIT_CODES)]
struct Cli {
    /// Base URL of the server to check; without it, the embedded reference
    /// server is started and checked.
    #[arg(long, env = "APPMIXER_URL")]
    url: Option<String>,

    /// Username (or e-mail) to log in with.
    #[arg(long, env = "APPMIXER_USERNAME")]
    username: Option<String>,

    /// Password to log in with.
    #[arg(long, env = "APPMIXER_PASSWORD", hide_env_values = true)]
    password: Option<String>,

    /// Sign a run-tagged user up instead of logging in.
    #[arg(long)]
    signup: bool,

    /// The OpenAPI spec to check against [default: the workspace's spec/appmixer.yaml].
    #[arg(long, value_name = "PATH")]
    spec: Option<PathBuf>,

    /// Seconds one request may take before it counts as unanswered.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,

    /// Most requests the run may send before it stops (cleanup excepted).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_REQUESTS)]
    max_requests: u64,

    /// Seed of the generated flow descriptors [default: random, printed].
    #[arg(long)]
    seed: Option<u64>,

    /// How many generated descriptor pairs to send through create and update.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CASES)]
    cases: u32,

    /// Directory of flow files (*.json, whole flow objects) to send and read back.
    #[arg(long, value_name = "DIR")]
    descriptors: Option<PathBuf>,
}

impl Cli {
    fn options(self) -> anyhow::Result<Options> {
        anyhow::ensure!(
            self.timeout.is_finite() && self.timeout > 0.0,
            "`--timeout` must be a positive number of seconds, got `{}`",
            self.timeout
        );
        Ok(Options {
            url: self.url,
            username: self.username,
            password: self.password,
            signup: self.signup,
            spec: self.spec,
            timeout: Duration::try_from_secs_f64(self.timeout)
                .context("`--timeout` is out of range")?,
            max_requests: self.max_requests,
            seed: self.seed,
            cases: self.cases,
            descriptors: self.descriptors,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "appmixer_conformance=info".into()),
        )
        .init();

    let options = match Cli::parse().options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::from(2);
        }
    };
    match appmixer_conformance::run(options).await {
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
