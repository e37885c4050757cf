//! A conformance harness for Appmixer-compatible servers.
//!
//! [`run`] checks one server, a deployment given by URL or the embedded
//! reference server, against `spec/appmixer.yaml` and against Appmixer's
//! semantics, and returns a [`Report`]: one row per operation with the
//! passed/total counts of each kind of check, and every failure with its
//! expectation name, expected and actual values and the exchange that shows
//! it. The spec is read at run time: which operations exist, how each is
//! called and what each may answer come from it.
//!
//! A run goes through stages, each its own module:
//! [`target`] (which server, which user; the connection check),
//! [`transport`] (every request, with the safety [`guards`]),
//! [`checks`] (each exchange against the spec), [`isolation`] (a second
//! user against the first user's objects), [`auth_probes`] (requests
//! without a valid token), [`scenarios`] (lifecycles per API area with
//! named semantic expectations), [`descriptors`] (flow descriptors,
//! generated and from files, sent and read back), [`cleanup`] (everything
//! created is deleted again) and [`report`]. [`snapshots`] records
//! normalised transcripts of fixed scenarios; [`profile`] sets how much a
//! run does and what it must cover.
//!
//! ```no_run
//! # async fn demo() -> Result<(), appmixer_conformance::RunError> {
//! let report = appmixer_conformance::run(appmixer_conformance::Options::default()).await?;
//! println!("{report}");
//! std::process::exit(report.exit_code().into());
//! # }
//! ```

pub mod auth_probes;
pub mod catalog;
pub mod checks;
pub mod cleanup;
pub mod compare;
pub mod descriptors;
mod error;
pub mod guards;
pub mod isolation;
pub mod model;
mod pattern;
pub mod profile;
pub mod properties;
pub mod recording;
pub mod redact;
pub mod replay;
pub mod report;
pub mod scenarios;
pub mod session;
pub mod signals;
pub mod snapshots;
pub mod spec_source;
pub mod target;
pub mod transport;
pub mod writable;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use appmixer_spec::Spec;
use appmixer_spec::schema::Validator;

pub use error::RunError;
pub use profile::Profile;
pub use report::Report;
pub use target::Login;

use crate::catalog::Catalog;
use crate::checks::{CheckKind, Outcome, Unchecked};
use crate::guards::Guards;
use crate::isolation::{Examples, Fixture, SecondUser};
use crate::profile::Phase;
use crate::report::progress::Progress;
use crate::report::{RunRecord, Timings, Traffic};
use crate::session::{Abort, Session};
use crate::target::Target;
use crate::transport::Transport;

/// The request timeout when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The request budget when none is given: far above what a run needs.
pub const DEFAULT_MAX_REQUESTS: u64 = 20_000;

/// How many descriptor pairs and model sequences are generated when no
/// `--cases` is given.
pub const DEFAULT_CASES: u32 = 16;

/// The longest model sequence when no `--steps` is given.
pub const DEFAULT_STEPS: u32 = 12;

/// The most generated cases a run takes (`--cases`). Every descriptor pair
/// is drawn before the first is sent, about 40 KiB and 10 ms (debug build)
/// each: 10,000 hold under half a GiB and take under two minutes to draw,
/// while `u32::MAX` would ask for about 160 TiB.
pub const MAX_CASES: u32 = 10_000;

/// The longest model sequence a run takes (`--steps`). proptest draws a
/// sequence whole, reserving room for its longest length first, before its
/// first step is sent: a sequence of up to 10,000 steps takes a few seconds
/// and a few hundred MiB (debug build), and drawing slows down faster than
/// the length grows; `u32::MAX` fails to allocate at once.
pub const MAX_STEPS: u32 = 10_000;

/// Where failing model cases are saved when no `--save-failures` is given.
pub const DEFAULT_FAILURES_DIR: &str = "target/conformance/failures";

/// What to check and how.
#[derive(Clone)]
pub struct Options {
    /// The server's base URL; `None` starts the embedded reference server.
    pub url: Option<String>,
    /// The username to log in with (URL mode without `signup`).
    pub username: Option<String>,
    /// The password to log in with.
    pub password: Option<String>,
    /// Sign a run-tagged user up instead of logging in (always so when embedded).
    pub signup: bool,
    /// The spec to check against; `None` is the spec built into the
    /// binary (the workspace's `spec/appmixer.yaml` when it was built).
    pub spec: Option<PathBuf>,
    /// How long one request may take.
    pub timeout: Duration,
    /// The most requests the run may send before it stops (cleanup excepted).
    pub max_requests: u64,
    /// The seed of the generated descriptors; `None` picks one and reports it.
    pub seed: Option<u64>,
    /// How many generated descriptor pairs to send, and how many model
    /// sequences to run.
    pub cases: u32,
    /// The longest generated model sequence.
    pub steps: u32,
    /// Where failing model cases are saved.
    pub save_failures: PathBuf,
    /// A directory of flow files (`*.json`) to send and read back.
    pub descriptors: Option<PathBuf>,
    /// How thorough the run is and which properties it must cover.
    pub profile: Profile,
    /// Send nothing but `GET` and `HEAD` (and the log-in); run the read checks only.
    pub read_only: bool,
    /// A token to use instead of logging in (URL mode).
    pub token: Option<String>,
    /// The second user's username, for the isolation checks (URL mode).
    pub username_b: Option<String>,
    /// The second user's password.
    pub password_b: Option<String>,
    /// The most requests per second, or `None` for no limit.
    pub rate: Option<f64>,
    /// How many transport errors and 5xx answers in a row stop the run.
    pub max_consecutive_failures: u32,
    /// Show a progress bar per phase (on a terminal) instead of plain lines.
    pub progress: bool,
    /// The most bytes of one response body the run reads; a longer body
    /// fails its exchange.
    pub max_body: u64,
    /// A file to write every exchange to ([`recording`]), secrets replaced.
    pub record: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            url: None,
            username: None,
            password: None,
            signup: false,
            spec: None,
            timeout: DEFAULT_TIMEOUT,
            max_requests: DEFAULT_MAX_REQUESTS,
            seed: None,
            cases: DEFAULT_CASES,
            steps: DEFAULT_STEPS,
            save_failures: PathBuf::from(DEFAULT_FAILURES_DIR),
            descriptors: None,
            profile: Profile::Standard,
            read_only: false,
            token: None,
            username_b: None,
            password_b: None,
            rate: None,
            max_consecutive_failures: guards::DEFAULT_MAX_CONSECUTIVE_FAILURES,
            progress: false,
            max_body: transport::DEFAULT_MAX_BODY,
            record: None,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("url", &self.url)
            .field("username", &self.username)
            .field(
                "password",
                &self.password.as_ref().map(|_| redact::REDACTED),
            )
            .field("signup", &self.signup)
            .field("spec", &self.spec)
            .field("timeout", &self.timeout)
            .field("max_requests", &self.max_requests)
            .field("seed", &self.seed)
            .field("cases", &self.cases)
            .field("steps", &self.steps)
            .field("save_failures", &self.save_failures)
            .field("descriptors", &self.descriptors)
            .field("profile", &self.profile)
            .field("read_only", &self.read_only)
            .field("token", &self.token.as_ref().map(|_| redact::REDACTED))
            .field("username_b", &self.username_b)
            .field(
                "password_b",
                &self.password_b.as_ref().map(|_| redact::REDACTED),
            )
            .field("rate", &self.rate)
            .field("max_consecutive_failures", &self.max_consecutive_failures)
            .field("progress", &self.progress)
            .field("max_body", &self.max_body)
            .field("record", &self.record)
            .finish()
    }
}

impl Options {
    /// The default options with the budgets of `profile`.
    pub fn for_profile(profile: Profile) -> Self {
        let budgets = profile.budgets();
        Self {
            profile,
            cases: budgets.cases,
            steps: budgets.steps,
            max_requests: budgets.max_requests,
            ..Self::default()
        }
    }

    /// How the run gets its user, or why the options do not say.
    pub fn login(&self) -> Result<Login, RunError> {
        if self.read_only && (self.url.is_none() || self.signup) {
            return Err(RunError::Usage(
                "`--read-only` cannot sign a user up, which is a write: give `--url` with \
                 `--username` and `--password`, or `--token`"
                    .into(),
            ));
        }
        if let Some(token) = &self.token {
            return match (&self.url, self.signup, &self.username) {
                (Some(_), false, None) => Ok(Login::Token(token.clone())),
                _ => Err(RunError::Usage(
                    "`--token` needs `--url` and takes the place of `--username`, `--password` \
                     and `--signup`; give one way in"
                        .into(),
                )),
            };
        }
        let credentials = self.username.is_some() || self.password.is_some();
        match (&self.url, self.signup, &self.username, &self.password) {
            (None, _, _, _) if credentials => Err(RunError::Usage(
                "`--username` and `--password` need `--url`: the embedded server always signs \
                 its own user up"
                    .into(),
            )),
            (None, _, _, _) => Ok(Login::Signup),
            (Some(_), true, _, _) if credentials => Err(RunError::Usage(
                "`--signup` creates its own user; leave out `--username` and `--password` \
                 (and APPMIXER_USERNAME, APPMIXER_PASSWORD)"
                    .into(),
            )),
            (Some(_), true, _, _) => Ok(Login::Signup),
            (Some(_), false, Some(username), Some(password)) => Ok(Login::Credentials {
                username: username.clone(),
                password: password.clone(),
            }),
            (Some(_), false, _, _) => Err(RunError::Usage(
                "`--url` needs `--username` and `--password` (or APPMIXER_USERNAME and \
                 APPMIXER_PASSWORD), or `--signup` to create a user for the run"
                    .into(),
            )),
        }
    }
}

impl Options {
    /// Refuses `cases` and `steps` above what a run can draw: generation
    /// would fail to allocate, or take days, before anything is sent.
    pub fn check_sizes(&self) -> Result<(), RunError> {
        for (option, value, max) in [
            ("--cases", self.cases, MAX_CASES),
            ("--steps", self.steps, MAX_STEPS),
        ] {
            if value > max {
                return Err(RunError::Usage(format!(
                    "`{option}` is {value}, above the largest accepted value, {max}: the \
                     generated cases are drawn in memory before they are sent; give at most {max}"
                )));
            }
        }
        Ok(())
    }

    /// How the second user gets in, `None` when there is none; isolation
    /// is then not checked.
    pub fn second_login(&self) -> Result<Option<Login>, RunError> {
        match (&self.username_b, &self.password_b) {
            (Some(username), Some(password)) => {
                if self.signup || self.url.is_none() {
                    return Err(RunError::Usage(
                        "`--username-b` and `--password-b` are for credentials mode; with \
                         `--signup` (and without `--url`) the run signs its second user up"
                            .into(),
                    ));
                }
                Ok(Some(Login::Credentials {
                    username: username.clone(),
                    password: password.clone(),
                }))
            }
            (None, None) if self.signup || self.url.is_none() => Ok(Some(Login::Signup)),
            (None, None) => Ok(None),
            _ => Err(RunError::Usage(
                "`--username-b` needs `--password-b` and the other way round (or \
                 APPMIXER_USERNAME_B and APPMIXER_PASSWORD_B)"
                    .into(),
            )),
        }
    }
}

/// A flag that is set while its owner lives: the threads a run starts
/// read it to stop their work once the run is over, however it ended
/// (returned, failed, or was dropped by a signal).
struct WantedWhileAlive(Arc<AtomicBool>);

impl WantedWhileAlive {
    fn new() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }

    fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

impl Drop for WantedWhileAlive {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// A fresh run tag, `amxc-` and 8 hex digits.
pub fn new_run_tag() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("amxc-{}", &id[..8])
}

fn random_seed() -> u64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u64::from_le_bytes(bytes[..8].try_into().expect("a UUID has 16 bytes"))
}

/// Tells the user which phase the run is in, on stderr: a progress bar on
/// a terminal, a `tracing` line elsewhere.
fn phase(number: usize, total: usize, name: &str) {
    report::progress::current().phase(number, total, name);
}

/// The phases that run before the scenarios, in order.
const EARLY_PHASES: [&str; 2] = ["isolation", "auth probes"];

/// Checks one server and reports what it found.
///
/// Returns an error only for usage, spec and connection problems (exit
/// status 2) and for a safety guard that stops the run while it signs in
/// (exit status 4); failed checks are in the report.
pub async fn run(options: Options) -> Result<Report, RunError> {
    let started = Instant::now();
    let mut signals = signals::StopSignals::install();
    options.check_sizes()?;
    let login = options.login()?;
    let second_login = options.second_login()?;
    let url = options.url.as_deref().map(target::parse_url).transpose()?;
    if !options.read_only {
        writable::dir(&options.save_failures).map_err(|reason| {
            RunError::Usage(format!(
                "`--save-failures {}`: {reason}",
                options.save_failures.display()
            ))
        })?;
    }
    let files = match &options.descriptors {
        Some(dir) => descriptors::load_dir(dir)?,
        None => Vec::new(),
    };
    let recorder =
        match &options.record {
            Some(path) => Some(recording::Recorder::create(path).map_err(|error| {
                RunError::Usage(format!("`--record {}`: {error}", path.display()))
            })?),
            None => None,
        };
    let seed = options.seed.unwrap_or_else(random_seed);
    // The descriptors are drawn on a thread of their own while the run
    // loads the spec and the phases before theirs wait on the server: the
    // same seed gives the same ones.
    let drawing = WantedWhileAlive::new();
    let generated = (!options.read_only).then(|| {
        let (cases, wanted) = (options.cases, drawing.flag());
        tokio::task::spawn_blocking(move || {
            descriptors::generate::generate_while(seed, cases, &wanted)
        })
    });
    let loaded = spec_source::load(options.spec.as_deref())?;
    let (spec, catalog) = (loaded.spec, loaded.catalog);
    let examples = Examples::from_spec(&spec);
    let validator = Validator::new(&spec)?;
    let tag = new_run_tag();
    let model_phase = model::Phase {
        seed,
        cases: options.cases,
        steps: options.steps,
        save_failures: options.save_failures.clone(),
        server: if url.is_some() {
            replay::ServerKind::Url
        } else {
            replay::ServerKind::Embedded
        },
        spec_sha256: replay::sha256_hex(&loaded.bytes),
    };

    let phases: Vec<&str> = if options.read_only {
        vec!["target", "reads", "auth probes", "coverage"]
    } else {
        std::iter::once("target")
            .chain(EARLY_PHASES)
            .chain(scenarios::names())
            .chain(["descriptors", "model", "properties", "cleanup", "coverage"])
            .collect()
    };
    let total = phases.len();
    let progress = Progress::new(options.progress);
    report::progress::install(progress.clone());
    phase(1, total, "target");
    tracing::info!(%tag, seed, profile = %options.profile, "run tag, seed and profile");

    let target = match url {
        Some(url) => Target::remote(url),
        None => Target::embedded().await?,
    };
    let guards = Guards {
        read_only: options.read_only,
        max_requests: options.max_requests,
        rate: options.rate,
        max_consecutive_failures: options.max_consecutive_failures,
    };
    let transport = match Transport::new(
        target.base_url.clone(),
        catalog.clone(),
        options.timeout,
        options.max_requests,
    ) {
        Ok(transport) => transport
            .with_guards(guards)
            .with_max_body(options.max_body),
        Err(error) => {
            target.stop().await;
            return Err(RunError::Connection {
                url: options.url.clone().unwrap_or_default(),
                reason: format!("cannot build an HTTP client: {error}"),
            });
        }
    };
    let mut session = Session::new(transport, validator, tag.clone());
    session.transport.set_progress(progress.clone());
    if let Some(recorder) = recorder {
        session.transport.record_to(recorder);
    }
    let signed_in = async {
        target::sign_in(&mut session, &login).await?;
        match &second_login {
            Some(login) if !options.read_only && options.profile.runs(Phase::Isolation) => {
                isolation::sign_in_second(&mut session, login)
                    .await
                    .map(Some)
            }
            _ => Ok(None),
        }
    };
    let second = match signed_in.await {
        Ok(second) => second,
        Err(error) => {
            progress.finish();
            drop(session);
            target.stop().await;
            return Err(error);
        }
    };
    plan_coverage(&mut session, &catalog, options.read_only);
    if matches!(login, Login::Token(_)) {
        for operation in target::NEEDS_PASSWORD {
            for kind in [CheckKind::Status, CheckKind::Semantics] {
                session.plan.waive(operation, kind, target::TOKEN_MODE);
            }
        }
    }

    let mut descriptor_summary = descriptors::DescriptorSummary {
        seed,
        ..Default::default()
    };
    let early = EarlyPhases {
        catalog: &catalog,
        examples: &examples,
        second: second.as_ref(),
        second_reason: second_login
            .is_none()
            .then_some(isolation::NEEDS_SECOND_USER),
    };
    let stages = async {
        if options.read_only {
            return run_read_only(&mut session, &options, &early, total).await;
        }
        let outcome = run_early(&mut session, &options, &early, total).await;
        if outcome.aborted.is_some() {
            return outcome;
        }
        let to_send = Descriptors {
            files: &files,
            generated,
        };
        let mut later = run_stages(
            &mut session,
            &options,
            to_send,
            seed,
            &mut descriptor_summary,
            total,
            (&model_phase, &spec),
        )
        .await;
        later.stopped.splice(0..0, outcome.stopped);
        later
    };
    let mut interrupted_by = None;
    let outcome = tokio::select! {
        outcome = stages => outcome,
        signal = signals.next() => {
            interrupted_by = Some(signal);
            scenarios::Outcome {
                stopped: Vec::new(),
                aborted: Some(format!("interrupted ({signal}); cleaning up")),
            }
        }
    };
    if let Some(signal) = interrupted_by {
        tracing::warn!(
            "interrupted by {signal}: cleaning up what the run created \
             (Ctrl-C or another signal to stop now)"
        );
        session.transport.interrupted();
    }

    let cleanup = if options.read_only {
        cleanup::CleanupSummary::default()
    } else {
        phase(total - 1, total, "cleanup");
        tokio::select! {
            summary = cleanup::run(&mut session) => summary,
            _ = signals.next() => cleanup::abandoned(&session),
        }
    };
    phase(total, total, "coverage");
    record_coverage(&mut session, &catalog);
    progress.finish();

    let plan = std::mem::take(&mut session.plan);
    let stop = session.transport.stop().cloned();
    let wire = session.transport.wire_times();
    let traffic = Traffic {
        requests: session.transport.requests_sent(),
        methods: session.transport.method_counts().clone(),
        refusals: session.transport.refusals().to_vec(),
        read_only: options.read_only,
    };
    let recording_error = match session.transport.take_recorder().map(|r| r.finish()) {
        Some(Ok((path, count))) => {
            tracing::info!(path = %path.display(), exchanges = count, "recorded the run");
            None
        }
        Some(Err((path, error))) => Some(format!(
            "cannot write the recording to {}: {error}; check that its directory exists, is \
             writable and has room",
            path.display()
        )),
        None => None,
    };
    let (results, _) = session.finish();
    let mut report = Report::assemble(
        &catalog,
        RunRecord {
            target: options.url.clone().map(|_| target.base_url.to_string()),
            tag,
            profile: options.profile,
            seed,
            results,
            plan,
            traffic,
            stop,
            timings: Timings {
                wall: started.elapsed(),
                waiting: wire.waiting,
                pausing: wire.pausing,
            },
        },
    );
    report.spec = loaded.source;
    report.descriptors = descriptor_summary;
    report.cleanup = cleanup;
    report.stopped_scenarios = outcome.stopped;
    report.aborted = outcome.aborted;
    report.recording_error = recording_error;
    target.stop().await;
    Ok(report)
}

/// A signed-in session with the server some options name, for the
/// subcommands that do not run the checks.
pub struct Connected {
    /// The session, signed in.
    pub session: Session,
    /// The catalog of the spec.
    pub catalog: Catalog,
    target: Target,
}

impl Connected {
    /// Closes the session and stops the embedded server, if any.
    pub async fn close(self) {
        drop(self.session);
        self.target.stop().await;
    }
}

/// Starts (or reaches) the server `options` name and signs in as they say.
pub async fn connect(options: &Options) -> Result<Connected, RunError> {
    let login = options.login()?;
    let url = options.url.as_deref().map(target::parse_url).transpose()?;
    let loaded = spec_source::load(options.spec.as_deref())?;
    let (spec, catalog) = (loaded.spec, loaded.catalog);
    let validator = Validator::new(&spec)?;
    let target = match url {
        Some(url) => Target::remote(url),
        None => Target::embedded().await?,
    };
    let transport = match Transport::new(
        target.base_url.clone(),
        catalog.clone(),
        options.timeout,
        options.max_requests,
    ) {
        Ok(transport) => transport.with_max_body(options.max_body),
        Err(error) => {
            target.stop().await;
            return Err(RunError::Connection {
                url: options.url.clone().unwrap_or_default(),
                reason: format!("cannot build an HTTP client: {error}"),
            });
        }
    };
    let mut session = Session::new(transport, validator, new_run_tag());
    if let Err(error) = target::sign_in(&mut session, &login).await {
        drop(session);
        target.stop().await;
        return Err(error);
    }
    Ok(Connected {
        session,
        catalog,
        target,
    })
}

/// The `cleanup` subcommand: removes the objects whose names `selector`
/// matches from the account `options` sign in to.
pub async fn sweep(
    options: Options,
    selector: &cleanup::TagSelector,
) -> Result<cleanup::SweepSummary, RunError> {
    let mut connected = connect(&options).await?;
    let outcome = cleanup::sweep(&mut connected.session, selector).await;
    let url = connected.session.transport.base_url().to_string();
    connected.close().await;
    outcome.map_err(|abort| RunError::Connection {
        url,
        reason: match abort {
            Abort::Budget(reason) => reason,
            Abort::Step => "a list or a delete got no usable answer; see the log above".into(),
        },
    })
}

/// What the phases before the scenarios need.
struct EarlyPhases<'a> {
    catalog: &'a Catalog,
    examples: &'a Examples,
    second: Option<&'a SecondUser>,
    /// Why isolation cannot be checked, when there is no second user.
    second_reason: Option<&'static str>,
}

/// Plans the status and semantics of every operation the run calls: all of
/// them, or the reads only with `--read-only`.
fn plan_coverage(session: &mut Session, catalog: &Catalog, read_only: bool) {
    for operation in catalog.operations() {
        if read_only && operation.method != reqwest::Method::GET {
            continue;
        }
        session.plan.expect(&operation.id, CheckKind::Status);
        session.plan.expect(&operation.id, CheckKind::Semantics);
    }
}

/// The isolation and auth phases: the first user's objects, the second
/// user's attempts on them, and the requests without a valid token.
async fn run_early(
    session: &mut Session,
    options: &Options,
    early: &EarlyPhases<'_>,
    total: usize,
) -> scenarios::Outcome {
    let mut outcome = scenarios::Outcome::default();
    let runs = options.profile.runs(Phase::Isolation);
    let planned = isolation::planned(early.catalog, early.examples);

    phase(2, total, "isolation");
    if !runs {
        tracing::info!(
            profile = %options.profile,
            "isolation and auth probes are not part of this profile"
        );
        phase(3, total, "auth probes (not part of this profile)");
        return outcome;
    }
    isolation::plan(session, &planned, early.second_reason);
    auth_probes::plan(session, early.catalog, false);
    let second_email = early.second.map(|b| b.email.clone());
    let fixture = match Fixture::create(session, second_email.as_deref()).await {
        Ok(fixture) => fixture,
        Err(abort) => {
            note_early_abort(&mut outcome, abort, "isolation");
            return outcome;
        }
    };
    if let Err(abort) = isolation::run(
        session,
        early.catalog,
        early.examples,
        &fixture,
        early.second,
    )
    .await
    {
        note_early_abort(&mut outcome, abort, "isolation");
        if outcome.aborted.is_some() {
            return outcome;
        }
    }

    phase(3, total, "auth probes");
    let token = session.transport.token().map(str::to_string);
    if let Err(abort) = auth_probes::run(
        session,
        early.catalog,
        early.examples,
        &fixture,
        token.as_deref(),
        false,
    )
    .await
    {
        note_early_abort(&mut outcome, abort, "auth probes");
        if outcome.aborted.is_some() {
            return outcome;
        }
    }
    // The lifecycles that follow count the run's objects; the fixture's
    // must not be among them.
    if let Err(abort) = cleanup::release(session).await {
        note_early_abort(&mut outcome, abort, "auth probes");
    }
    outcome
}

/// The phases of a `--read-only` run: the read checks and the auth probes
/// of the reads.
async fn run_read_only(
    session: &mut Session,
    options: &Options,
    early: &EarlyPhases<'_>,
    total: usize,
) -> scenarios::Outcome {
    let mut outcome = scenarios::Outcome::default();
    phase(2, total, "reads");
    let fixture = match Fixture::discover(session).await {
        Ok(fixture) => fixture,
        Err(abort) => {
            note_early_abort(&mut outcome, abort, "reads");
            return outcome;
        }
    };
    phase(3, total, "auth probes");
    if options.profile.runs(Phase::AuthProbes) {
        auth_probes::plan(session, early.catalog, true);
        let token = session.transport.token().map(str::to_string);
        if let Err(abort) = auth_probes::run(
            session,
            early.catalog,
            early.examples,
            &fixture,
            token.as_deref(),
            true,
        )
        .await
        {
            note_early_abort(&mut outcome, abort, "auth probes");
        }
    }
    outcome
}

fn note_early_abort(outcome: &mut scenarios::Outcome, abort: Abort, phase: &str) {
    outcome.stopped.push(phase.to_string());
    if let Abort::Budget(reason) = abort {
        outcome.aborted = Some(reason);
    }
}

/// The descriptors the descriptor phase sends.
struct Descriptors<'a> {
    /// The files of `--descriptors`.
    files: &'a [descriptors::DescriptorFile],
    /// The generation of the generated ones, under way since the run began
    /// (none in a `--read-only` run, which sends none).
    generated: Option<tokio::task::JoinHandle<Vec<descriptors::generate::DescriptorCase>>>,
}

async fn run_stages(
    session: &mut Session,
    options: &Options,
    to_send: Descriptors<'_>,
    seed: u64,
    summary: &mut descriptors::DescriptorSummary,
    total: usize,
    (model_phase, spec): (&model::Phase, &Spec),
) -> scenarios::Outcome {
    let mut number = 1 + EARLY_PHASES.len();
    let mut outcome = scenarios::run_all(session, |name| {
        number += 1;
        phase(number, total, name);
    })
    .await;
    if outcome.aborted.is_some() {
        return outcome;
    }

    phase(total - 4, total, "descriptors");
    let cases = match to_send.generated {
        Some(generation) => match generation.await {
            Ok(cases) => cases,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        },
        None => descriptors::generate::generate(seed, options.cases),
    };
    let mut result = descriptors::run_generated(session, seed, cases, summary).await;
    if result.is_ok() {
        result = descriptors::run_files(session, to_send.files, summary).await;
    }
    if let Err(Abort::Budget(reason)) = result {
        outcome.stopped.push("descriptors".into());
        outcome.aborted = Some(reason);
        return outcome;
    }

    phase(total - 3, total, "model");
    match model::run(session, model_phase).await {
        Ok(()) => {}
        Err(Abort::Step) => outcome.stopped.push("model".into()),
        Err(Abort::Budget(reason)) => {
            outcome.stopped.push("model".into());
            outcome.aborted = Some(reason);
            return outcome;
        }
    }

    phase(total - 2, total, "properties");
    let found = properties::run_all(session, spec, seed, options.cases).await;
    outcome.stopped.extend(found.stopped);
    if found.aborted.is_some() {
        outcome.aborted = found.aborted;
    }
    outcome
}

/// Records, per operation the run meant to call, that something called
/// it and checked what it did. One never called is not checked, and the
/// report says so; one called without any semantic check gets no credit
/// for the call alone (a probe answered 401 says nothing of semantics).
fn record_coverage(session: &mut Session, catalog: &Catalog) {
    for operation in catalog.operations() {
        if !session.plan.contains(&operation.id, CheckKind::Semantics) {
            continue;
        }
        let tally = session.results.operation(&operation.id);
        if tally.tally(CheckKind::Semantics).total == 0 && tally.calls > 0 {
            continue;
        }
        let calls = tally.calls;
        if calls == 0 {
            session.results.record_unchecked(Unchecked {
                operation: operation.id.clone(),
                kind: CheckKind::Semantics,
                expectation: "coverage.operation-called".into(),
                reason: format!("{} was never called", operation.route()),
            });
            continue;
        }
        session.results.record(
            Outcome {
                operation: operation.id.clone(),
                kind: CheckKind::Semantics,
                expectation: "coverage.operation-called".into(),
                mismatch: None,
            },
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(
        url: Option<&str>,
        signup: bool,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Options {
        Options {
            url: url.map(str::to_string),
            signup,
            username: username.map(str::to_string),
            password: password.map(str::to_string),
            ..Options::default()
        }
    }

    #[test]
    fn the_embedded_server_always_signs_up() {
        assert_eq!(
            options(None, false, None, None).login().unwrap(),
            Login::Signup
        );
        assert_eq!(
            options(None, true, None, None).login().unwrap(),
            Login::Signup
        );
        assert!(options(None, false, Some("u"), Some("p")).login().is_err());
    }

    #[test]
    fn a_url_needs_both_credentials_or_signup_but_not_both() {
        let url = Some("http://127.0.0.1:2200");

        assert!(matches!(
            options(url, false, Some("u"), Some("p")).login().unwrap(),
            Login::Credentials { .. }
        ));
        assert_eq!(
            options(url, true, None, None).login().unwrap(),
            Login::Signup
        );
        assert!(options(url, false, Some("u"), None).login().is_err());
        assert!(options(url, false, None, None).login().is_err());
        assert!(options(url, true, Some("u"), Some("p")).login().is_err());
    }

    #[test]
    fn run_tags_are_amxc_and_eight_hex_digits() {
        let tag = new_run_tag();

        let hex = tag.strip_prefix("amxc-").expect("the amxc- prefix");
        assert_eq!(hex.len(), 8);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(tag, new_run_tag());
    }

    #[test]
    fn cases_and_steps_above_their_maxima_are_usage_errors_naming_the_largest_value() {
        let cases = Options {
            cases: u32::MAX,
            ..Options::default()
        };
        let steps = Options {
            steps: MAX_STEPS + 1,
            ..Options::default()
        };
        let largest = Options {
            cases: MAX_CASES,
            steps: MAX_STEPS,
            ..Options::default()
        };

        let cases = cases.check_sizes().unwrap_err().to_string();
        let steps = steps.check_sizes().unwrap_err().to_string();

        assert!(
            cases.contains("`--cases` is 4294967295") && cases.contains("value, 10000"),
            "{cases}"
        );
        assert!(
            steps.contains("`--steps` is 10001") && steps.contains("value, 10000"),
            "{steps}"
        );
        assert!(largest.check_sizes().is_ok());
    }

    #[test]
    fn debug_of_options_hides_the_password() {
        let shown = format!(
            "{:?}",
            options(Some("http://h"), false, Some("u"), Some("hunter2"))
        );

        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
