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
//! [`transport`] (every request, with the budget and retry guards),
//! [`checks`] (each exchange against the spec), [`scenarios`] (lifecycles
//! per API area with named semantic expectations), [`descriptors`] (flow
//! descriptors, generated and from files, sent and read back), [`cleanup`]
//! (everything created is deleted again) and [`report`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), appmixer_conformance::RunError> {
//! let report = appmixer_conformance::run(appmixer_conformance::Options::default()).await?;
//! println!("{report}");
//! std::process::exit(report.exit_code().into());
//! # }
//! ```

pub mod catalog;
pub mod checks;
pub mod cleanup;
pub mod compare;
pub mod descriptors;
mod error;
pub mod redact;
pub mod report;
pub mod scenarios;
pub mod session;
pub mod target;
pub mod transport;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use appmixer_spec::Spec;
use appmixer_spec::schema::Validator;

pub use error::RunError;
pub use report::Report;
pub use target::Login;

use crate::catalog::Catalog;
use crate::checks::{CheckKind, Outcome};
use crate::session::{Abort, Session};
use crate::target::Target;
use crate::transport::Transport;

/// The request timeout when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The request budget when none is given: far above what a run needs.
pub const DEFAULT_MAX_REQUESTS: u64 = 20_000;

/// How many descriptor pairs are generated when no `--cases` is given.
pub const DEFAULT_CASES: u32 = 16;

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
    /// The spec to check against; `None` is the workspace's `spec/appmixer.yaml`.
    pub spec: Option<PathBuf>,
    /// How long one request may take.
    pub timeout: Duration,
    /// The most requests the run may send before it stops (cleanup excepted).
    pub max_requests: u64,
    /// The seed of the generated descriptors; `None` picks one and reports it.
    pub seed: Option<u64>,
    /// How many generated descriptor pairs to send.
    pub cases: u32,
    /// A directory of flow files (`*.json`) to send and read back.
    pub descriptors: Option<PathBuf>,
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
            descriptors: None,
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
            .field("descriptors", &self.descriptors)
            .finish()
    }
}

impl Options {
    /// How the run gets its user, or why the options do not say.
    pub fn login(&self) -> Result<Login, RunError> {
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

/// A fresh run tag, `amxc-` and 8 hex digits.
pub fn new_run_tag() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("amxc-{}", &id[..8])
}

fn random_seed() -> u64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u64::from_le_bytes(bytes[..8].try_into().expect("a UUID has 16 bytes"))
}

/// Tells the user which phase the run is in, on stderr through `tracing`.
fn phase(number: usize, total: usize, name: &str) {
    tracing::info!("phase {number}/{total}: {name}");
}

/// Checks one server and reports what it found.
///
/// Returns an error only for usage, spec and connection problems (exit
/// status 2); failed checks are in the report.
pub async fn run(options: Options) -> Result<Report, RunError> {
    let login = options.login()?;
    let url = options.url.as_deref().map(target::parse_url).transpose()?;
    let files = match &options.descriptors {
        Some(dir) => descriptors::load_dir(dir)?,
        None => Vec::new(),
    };
    let spec_path = options
        .spec
        .clone()
        .unwrap_or_else(appmixer_spec::default_path);
    let spec = Spec::load(&spec_path)?;
    let catalog = Catalog::from_spec(&spec)?;
    let validator = Validator::new(&spec)?;
    let tag = new_run_tag();
    let seed = options.seed.unwrap_or_else(random_seed);

    let phases: Vec<&str> = std::iter::once("target")
        .chain(scenarios::names())
        .chain(["descriptors", "cleanup", "coverage"])
        .collect();
    let total = phases.len();
    phase(1, total, "target");
    tracing::info!(%tag, seed, "run tag and descriptor seed");

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
        Ok(transport) => transport,
        Err(error) => {
            target.stop().await;
            return Err(RunError::Connection {
                url: options.url.clone().unwrap_or_default(),
                reason: format!("cannot build an HTTP client: {error}"),
            });
        }
    };
    let mut session = Session::new(transport, validator, tag.clone());
    if let Err(error) = target::sign_in(&mut session, &login).await {
        drop(session);
        target.stop().await;
        return Err(error);
    }

    let mut descriptor_summary = descriptors::DescriptorSummary {
        seed,
        ..Default::default()
    };
    let stages = run_stages(
        &mut session,
        &options,
        &files,
        seed,
        &mut descriptor_summary,
        total,
    );
    let interrupted = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // Without a signal handler the run simply cannot be interrupted.
            std::future::pending::<()>().await;
        }
    };
    let outcome = tokio::select! {
        outcome = stages => outcome,
        () = interrupted => scenarios::Outcome {
            stopped: Vec::new(),
            aborted: Some("interrupted (Ctrl-C); cleaning up".into()),
        },
    };

    phase(total - 1, total, "cleanup");
    let cleanup = cleanup::run(&mut session).await;
    phase(total, total, "coverage");
    record_coverage(&mut session, &catalog);

    let (results, requests) = session.finish();
    let mut report = Report::assemble(
        target.base_url.to_string(),
        tag,
        &catalog,
        results,
        requests,
    );
    report.descriptors = descriptor_summary;
    report.cleanup = cleanup;
    report.stopped_scenarios = outcome.stopped;
    report.aborted = outcome.aborted;
    target.stop().await;
    Ok(report)
}

async fn run_stages(
    session: &mut Session,
    options: &Options,
    files: &[descriptors::DescriptorFile],
    seed: u64,
    summary: &mut descriptors::DescriptorSummary,
    total: usize,
) -> scenarios::Outcome {
    let mut number = 1;
    let mut outcome = scenarios::run_all(session, |name| {
        number += 1;
        phase(number, total, name);
    })
    .await;
    if outcome.aborted.is_some() {
        return outcome;
    }

    phase(total - 2, total, "descriptors");
    let mut result = descriptors::run_generated(session, seed, options.cases, summary).await;
    if result.is_ok() {
        result = descriptors::run_files(session, files, summary).await;
    }
    if let Err(Abort::Budget(reason)) = result {
        outcome.stopped.push("descriptors".into());
        outcome.aborted = Some(reason);
    }
    outcome
}

/// Records, per operation of the spec, whether anything called it.
fn record_coverage(session: &mut Session, catalog: &Catalog) {
    for operation in catalog.operations() {
        let calls = session.results.operation(&operation.id).calls;
        let mismatch = (calls == 0).then(|| {
            (
                "at least one call".to_string(),
                format!("{} was never called", operation.route()),
            )
        });
        session.results.record(
            Outcome {
                operation: operation.id.clone(),
                kind: CheckKind::Semantics,
                expectation: "coverage.operation-called".into(),
                mismatch,
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
    fn debug_of_options_hides_the_password() {
        let shown = format!(
            "{:?}",
            options(Some("http://h"), false, Some("u"), Some("hunter2"))
        );

        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
