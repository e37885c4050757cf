//! `cargo xtask bench`: the client, the reference server and the harness
//! measured side by side with what a user would pick instead, written to
//! `docs/bench.md`.
//!
//! The command builds everything it measures once with the `xbench` profile,
//! then runs each section against fresh reference servers on 127.0.0.1:
//! the client against hand-written `reqwest` calls, the server under load
//! from a separate generator process (`xtask bench load …`, hidden), the
//! harness against its loopback ceiling and against Schemathesis, and the
//! client's build cost. Every process it starts is bounded in time and
//! killed when its guard drops, also on error. A section that fails is
//! reported as such in the document and makes the command exit non-zero;
//! the other sections still run.
//!
//! Speed goals are judged here, from numbers measured in the same run,
//! never by timed assertions in tests.

mod build;
mod catches;
mod client;
mod harness;
mod load;
mod machine;
mod process;
mod report;
mod schemathesis;
mod server;
mod stats;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use serde::de::DeserializeOwned;

use build::Executables;
use process::{ServerProcess, run_bounded, shown_command};

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    worker: Option<Worker>,

    /// Where to write the report, relative to the workspace root.
    #[arg(long, default_value = "docs/bench.md")]
    out: PathBuf,

    /// Measured runs per figure (three times as many rounds for the client's per-call
    /// overhead); medians are over these.
    #[arg(long, default_value_t = 3)]
    runs: usize,

    /// Seconds per timed load run (after one second of warm-up); at tens of
    /// thousands of requests a second, one is enough for a steady median.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,

    /// Connections of the sustained-load runs.
    #[arg(long, default_value_t = 16)]
    connections: usize,

    /// The real flow files to build flows from [default: ../shared/data/flows beside the
    /// workspace].
    #[arg(long, env = "APPMIXER_FLOWS_DIR", value_name = "DIR")]
    flows_dir: Option<PathBuf>,

    /// Sections to leave out.
    #[arg(long, value_delimiter = ',', value_name = "SECTION")]
    skip: Vec<Section>,
}

/// The hidden subcommands the benchmark runs itself.
#[derive(Debug, Subcommand)]
enum Worker {
    /// The load generator (run by `cargo xtask bench`, from its optimised build).
    #[command(hide = true)]
    Load(load::Args),
}

/// A part of the benchmark that `--skip` can leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Section {
    /// Per-call overhead and decoding of the client.
    Client,
    /// Sustained load, memory and many writers on the reference server.
    Server,
    /// The harness against its loopback ceiling.
    Harness,
    /// The harness against Schemathesis, with the planted faults.
    Schemathesis,
    /// The client's build cost.
    Build,
}

/// Runs the benchmark (or, from the optimised build, one load scenario).
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(Worker::Load(load)) = &args.worker {
        load::run(load)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.runs == 0 || !(args.seconds.is_finite() && args.seconds > 0.0) {
        bail!(
            "`--runs` must be at least 1 and `--seconds` above 0, got {} and {}",
            args.runs,
            args.seconds
        );
    }
    let started = Instant::now();
    let flows_dir = args
        .flows_dir
        .clone()
        .unwrap_or_else(|| root.join("../shared/data/flows"));
    if !flows_dir.is_dir() {
        bail!(
            "the flow files directory {} does not exist; set APPMIXER_FLOWS_DIR or \
             `--flows-dir` to a directory of Appmixer flow files (*.json)",
            flows_dir.display()
        );
    }
    let bench_dir = root.join("target/bench");
    let logs = bench_dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;

    let mut phases = Phases::default();
    phases.start("fetching dependencies");
    fetch(root, &logs)?;
    // Installing Schemathesis waits on the network, so it overlaps the build.
    let wanted_schemathesis = !args.skip.contains(&Section::Schemathesis);
    let installing = wanted_schemathesis.then(|| {
        let venv = bench_dir.join("venv");
        let logs = logs.clone();
        thread::spawn(move || schemathesis::install(&venv, &logs))
    });
    phases.start("building the measured binaries (xbench profile)");
    let executables = build::optimised(root, &logs)?;

    let mut context = Context {
        root: root.to_path_buf(),
        bench_dir: bench_dir.clone(),
        logs,
        flows_dir,
        executables,
        commands: setup_commands(wanted_schemathesis),
    };
    let mut results = report::Results {
        machine: machine::Machine::describe(),
        runs: args.runs,
        seconds: args.seconds,
        optimised_build_seconds: context.executables.seconds,
        ..report::Results::default()
    };
    let wanted = |section| !args.skip.contains(&section);

    // Timings first, one at a time, on an otherwise quiet machine.
    if wanted(Section::Client) {
        phases.start("client: per-call overhead and decoding");
        results.client = Some(client::run(&mut context, 3 * args.runs).map_err(failure));
    }
    if wanted(Section::Server) {
        phases.start("server: sustained load");
        results.throughput = Some(
            server::throughput(&mut context, args.runs, args.seconds, args.connections)
                .map_err(failure),
        );
    }
    if wanted(Section::Harness) {
        phases.start("harness: standard profile and loopback ceiling");
        results.harness =
            Some(harness::run(&mut context, args.runs, args.seconds).map_err(failure));
    }
    let installation = installing.map(|installing| {
        installing
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the Schemathesis install panicked")))
            .map_err(failure)
    });
    if installation.is_some() {
        phases.start("harness and Schemathesis side by side");
    }
    let head_to_head = installation.as_ref().map(|installation| {
        installation.clone().and_then(|installation| {
            catches::head_to_head(&mut context, &installation).map_err(failure)
        })
    });
    if wanted(Section::Build) {
        phases.start("build cost of appmixer-client");
        let cost = build::measure_cost(root, &bench_dir);
        if let Ok(cost) = &cost {
            context.commands.push(format!(
                "CARGO_TARGET_DIR={} cargo build --offline -p appmixer-client   # in {}, twice",
                cost.target_dir, cost.copy
            ));
        }
        results.build = Some(cost.map_err(failure));
    }

    // Then what measures no time: memory and the many writers on one
    // thread, the planted faults on this one (and Schemathesis's on a third).
    let memory_args = server::memory_args(&context);
    let concurrency_args = server::concurrency_args();
    if wanted(Section::Server) {
        context.note_server(&[]);
        context.note_load(&memory_args);
        context.note_load(&concurrency_args);
    }
    phases.start("memory, 64 writers and planted faults, side by side");
    let launcher = context.launcher();
    let faults = thread::scope(|scope| {
        let server_runs = wanted(Section::Server).then(|| {
            scope.spawn(|| {
                progress("server: memory (alongside the fault runs)");
                let memory = server::memory(&launcher, &memory_args).map_err(failure);
                progress("server: 64 writers");
                let writers = server::concurrency(&launcher, &concurrency_args).map_err(failure);
                (memory, writers)
            })
        });
        let faults = match (&installation, &head_to_head) {
            (Some(Ok(installation)), Some(Ok(_))) => {
                progress("planted faults: the harness and Schemathesis");
                Some(catches::faults(&mut context, installation))
            }
            _ => None,
        };
        if let Some(server_runs) = server_runs {
            let (memory, writers) = server_runs.join().unwrap_or_else(|_| {
                let panicked = "the memory and writers thread panicked";
                (Err(panicked.to_owned()), Err(panicked.to_owned()))
            });
            results.memory = Some(memory);
            results.concurrency = Some(writers);
        }
        faults
    });
    results.comparison = match (installation, head_to_head) {
        (Some(Ok(installation)), Some(Ok(head_to_head))) => Some(Ok(catches::Comparison {
            installation,
            head_to_head,
            faults: faults.unwrap_or_else(|| Err("not run".into())),
        })),
        (Some(Err(error)), _) | (_, Some(Err(error))) => Some(Err(error)),
        _ => None,
    };

    phases.stop();
    results.phases = phases.done;
    results.commands = context.commands.clone();
    results.wall_seconds = started.elapsed().as_secs_f64();
    let text = report::render(&results);
    let out = root.join(&args.out);
    std::fs::write(&out, &text).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote {} in {:.1} min",
        args.out.display(),
        results.wall_seconds / 60.0
    );
    for line in report::headlines(&results) {
        println!("  {line}");
    }
    Ok(if results.any_failed() {
        eprintln!("error: a section failed; docs/bench.md says which and why");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The commands that run before any section, as the report shows them.
fn setup_commands(schemathesis: bool) -> Vec<String> {
    let mut commands = vec!["cargo fetch".to_owned()];
    if schemathesis {
        commands.push(format!(
            "python3 -m venv target/bench/venv && target/bench/venv/bin/pip install \
             schemathesis=={}",
            schemathesis::VERSION
        ));
    }
    commands.push(format!("cargo {}", build::optimised_args().join(" ")));
    commands
}

/// How long each phase of the command took.
#[derive(Default)]
struct Phases {
    done: Vec<(String, f64)>,
    current: Option<(String, Instant)>,
}

impl Phases {
    /// Ends the running phase and starts `name`, saying so on stderr.
    fn start(&mut self, name: &str) {
        self.stop();
        progress(name);
        self.current = Some((name.to_owned(), Instant::now()));
    }

    /// Ends the running phase.
    fn stop(&mut self) {
        if let Some((name, started)) = self.current.take() {
            self.done.push((name, started.elapsed().as_secs_f64()));
        }
    }
}

/// A section's error, for the report.
fn failure(error: anyhow::Error) -> String {
    format!("{error:#}")
}

/// Progress on stderr.
fn progress(line: &str) {
    eprintln!("bench: {line}");
}

/// Downloads every dependency, so that the timed builds measure compiling.
fn fetch(root: &Path, logs: &Path) -> anyhow::Result<()> {
    let mut command = Command::new(build::cargo());
    command.current_dir(root).arg("fetch");
    let log = logs.join("fetch.log");
    let finished = run_bounded(&mut command, Duration::from_secs(900), Some(&log))?;
    if !finished.status.success() {
        bail!("`cargo fetch` failed; see {}", log.display());
    }
    Ok(())
}

/// `path` relative to `root` when it is inside it.
pub fn relative(root: &Path, path: &Path) -> PathBuf {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    match path.strip_prefix(&root) {
        Ok(inside) => inside.to_path_buf(),
        Err(_) => path,
    }
}

/// What starts the benchmark's processes; cheap to clone, so that two
/// sections' loops can run on two threads.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The workspace root.
    pub root: PathBuf,
    /// `target/bench/logs`.
    pub logs: PathBuf,
    /// The optimised executables.
    pub executables: Executables,
}

impl Launcher {
    /// Starts a fresh reference server with `args`, logging to a file named
    /// after `label`.
    pub fn start_server(&self, label: &str, args: &[String]) -> anyhow::Result<ServerProcess> {
        let log = self.logs.join(format!("server-{label}.log"));
        ServerProcess::start(&self.executables.reference, args, &log)
    }

    /// The command that runs load scenario `args` against the server at
    /// `url` with process id `pid`.
    pub fn load_command(&self, url: &str, pid: u32, args: &[String]) -> Command {
        let mut command = Command::new(&self.executables.xtask);
        command
            .current_dir(&self.root)
            .args(["bench", "load", "--url", url])
            .args(["--server-pid", &pid.to_string()])
            .args(args);
        command
    }

    /// Runs load scenario `args` against `server` and parses its result.
    pub fn load<T: DeserializeOwned>(
        &self,
        server: &ServerProcess,
        args: &[String],
    ) -> anyhow::Result<T> {
        let scenario = args.first().cloned().unwrap_or_default();
        let mut command = self.load_command(server.base_url(), server.pid(), args);
        let log = self.logs.join(format!("load-{scenario}.log"));
        let finished = run_bounded(&mut command, Duration::from_secs(900), Some(&log))?;
        if !finished.status.success() {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(3).collect();
            bail!(
                "the load scenario `{scenario}` failed ({}): {}; its log is {}",
                finished.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" / "),
                log.display()
            );
        }
        let line = finished.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line)
            .with_context(|| format!("the load scenario `{scenario}` printed no result"))
    }

    /// The command that signs a new user of the server at `url` up and
    /// prints its token.
    pub fn signup_command(&self, url: &str) -> Command {
        let mut command = Command::new(&self.executables.xtask);
        command
            .current_dir(&self.root)
            .args(["bench", "load", "--url", url, "signup"]);
        command
    }

    /// The token of a new user of `server`.
    pub fn signup_token(&self, server: &ServerProcess) -> anyhow::Result<String> {
        let mut command = self.signup_command(server.base_url());
        let log = self.logs.join("load-signup.log");
        let finished = run_bounded(&mut command, Duration::from_secs(60), Some(&log))?;
        catches::token_from(&finished.stdout)
    }
}

/// What every section shares: paths, the launcher, and the list of
/// commands the report shows.
pub struct Context {
    /// The workspace root.
    pub root: PathBuf,
    /// `target/bench`.
    pub bench_dir: PathBuf,
    /// `target/bench/logs`.
    pub logs: PathBuf,
    /// The real flow files.
    pub flows_dir: PathBuf,
    /// The optimised executables.
    pub executables: Executables,
    /// The commands run so far, as the report shows them.
    pub commands: Vec<String>,
}

impl Context {
    /// What starts processes, for another thread.
    pub fn launcher(&self) -> Launcher {
        Launcher {
            root: self.root.clone(),
            logs: self.logs.clone(),
            executables: self.executables.clone(),
        }
    }

    /// Starts a fresh reference server with `args` and records the command.
    pub fn start_server(&mut self, label: &str, args: &[String]) -> anyhow::Result<ServerProcess> {
        let server = self.launcher().start_server(label, args)?;
        self.note_server(args);
        Ok(server)
    }

    /// Records the command line of a reference server started with `args`.
    pub fn note_server(&mut self, args: &[String]) {
        let mut shown = vec![
            self.shown_path(&self.executables.reference),
            "--host 127.0.0.1 --port 0".into(),
        ];
        shown.extend(args.iter().cloned());
        self.note(shown.join(" "));
    }

    /// Records `command` for the report, with paths inside the workspace
    /// shown relative to it.
    pub fn note_command(&mut self, command: &Command) {
        let root = self.root.display().to_string();
        let shown = shown_command(command).replace(&format!("{root}/"), "");
        self.note(shown);
    }

    /// Records a command line once, in the order first seen.
    fn note(&mut self, line: String) {
        let line = normalise(&line);
        // Fault runs repeat one command per fault; the report names the
        // fault as a placeholder instead.
        let line = match line.split_once("--fault ") {
            Some((head, tail)) => {
                let rest = tail.split_once(' ').map_or("", |(_, rest)| rest);
                format!("{head}--fault NAME {rest}").trim_end().to_owned()
            }
            None => line,
        };
        let line = if line.contains("target/bench/schemathesis/") {
            schemathesis_placeholder(&line)
        } else {
            line
        };
        if !self.commands.contains(&line) {
            self.commands.push(line);
        }
    }

    fn shown_path(&self, path: &Path) -> String {
        relative(&self.root, path).display().to_string()
    }

    /// The `--flows-dir` argument of a load scenario.
    pub fn flows_dir_arg(&self) -> String {
        self.flows_dir.display().to_string()
    }

    /// Runs load scenario `args` against `server`, records the command, and
    /// parses the result.
    pub fn load<T: DeserializeOwned>(
        &mut self,
        server: &ServerProcess,
        args: &[String],
    ) -> anyhow::Result<T> {
        let launcher = self.launcher();
        self.note_load(args);
        launcher.load(server, args)
    }

    /// Records the command that signs a user up for Schemathesis.
    pub fn note_signup(&mut self) {
        let command = self.launcher().signup_command("http://127.0.0.1:PORT");
        self.note_command(&command);
    }

    /// Records the command line of load scenario `args`.
    pub fn note_load(&mut self, args: &[String]) {
        let command = self
            .launcher()
            .load_command("http://127.0.0.1:PORT", 0, args);
        self.note_command(&command);
    }
}

/// `line` with what differs from run to run (ports, process ids) replaced by
/// placeholders.
fn normalise(line: &str) -> String {
    let mut previous = "";
    let mut parts = Vec::new();
    for part in line.split(' ') {
        let shown = if part.starts_with("http://127.0.0.1:") {
            "http://127.0.0.1:PORT"
        } else if previous == "--server-pid" {
            "PID"
        } else {
            part
        };
        parts.push(shown.to_owned());
        previous = part;
    }
    parts.join(" ")
}

/// `line` with the per-run Schemathesis directory replaced by `…`.
fn schemathesis_placeholder(line: &str) -> String {
    line.split(' ')
        .map(
            |part| match part.strip_prefix("target/bench/schemathesis/") {
                Some(rest) => match rest.split_once('/') {
                    Some((_, file)) => format!("target/bench/schemathesis/…/{file}"),
                    None => "target/bench/schemathesis/…".to_owned(),
                },
                None => part.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_shown_without_ports_and_process_ids() {
        let line = "target/xbench/xtask bench load --url http://127.0.0.1:41234 \
                    --server-pid 4242 mix";

        assert_eq!(
            normalise(line),
            "target/xbench/xtask bench load --url http://127.0.0.1:PORT --server-pid PID mix"
        );
    }

    #[test]
    fn schemathesis_report_directories_are_shown_as_placeholders() {
        let line = "st run --report-dir target/bench/schemathesis/flows.crash \
                    --config-file target/bench/schemathesis/clean-flows/schemathesis.toml";

        assert_eq!(
            schemathesis_placeholder(line),
            "st run --report-dir target/bench/schemathesis/… \
             --config-file target/bench/schemathesis/…/schemathesis.toml"
        );
    }
}
