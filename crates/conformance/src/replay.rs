//! Saved failing cases, and running them again.
//!
//! When the model finds a failure, its shrunk sequence is saved as JSON
//! ([`SavedCase`]: the seed, the steps, which kind of server failed, the
//! SHA-256 of the spec) under `--save-failures DIR`. `appmixer-conformance
//! replay FILE [--url …]` ([`replay`]) sends the same steps to a server
//! (the embedded one by default), checks each against the model as the run
//! did, and says per step whether it is FIXED or still FAILED. A file whose
//! steps the model could not have generated (none at all, or one acting on
//! an object no earlier step creates) is refused before anything is sent.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use appmixer_spec::schema::Validator;

use crate::error::RunError;
use crate::model::Phase;
use crate::model::bridge::Stop;
use crate::model::driver::{Driver, Mismatch};
use crate::model::runner::Counterexample;
use crate::model::state::{SequenceError, Step, check_sequence};
use crate::session::Session;
use crate::target::{self, Target};
use crate::transport::Transport;
use crate::{Options, cleanup};

/// The saved file's format version; a file of another version is refused
/// rather than read with steps that mean something else.
pub const FORMAT: u32 = 2;

/// Which kind of server a case failed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    /// The embedded reference server.
    Embedded,
    /// A server given by `--url`.
    Url,
}

/// A failing case as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedCase {
    /// The file's format version.
    pub format: u32,
    /// The run's seed.
    pub seed: u64,
    /// Which kind of server failed.
    pub server: ServerKind,
    /// The SHA-256 of the spec, hex.
    pub spec_sha256: String,
    /// The operation the failure concerns.
    pub operation: String,
    /// The property that failed.
    pub expectation: String,
    /// What the model predicted.
    pub expected: String,
    /// What the server answered.
    pub actual: String,
    /// The shrunk sequence.
    pub steps: Vec<Step>,
}

/// The SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl SavedCase {
    /// The case to save for `counterexample`.
    pub fn of(phase: &Phase, counterexample: &Counterexample) -> Self {
        let mismatch = &counterexample.mismatch;
        Self {
            format: FORMAT,
            seed: phase.seed,
            server: phase.server,
            spec_sha256: phase.spec_sha256.clone(),
            operation: mismatch.operation.clone(),
            expectation: mismatch.expectation.to_string(),
            expected: mismatch.expected.clone(),
            actual: mismatch.actual.clone(),
            steps: counterexample.steps.clone(),
        }
    }

    /// Writes the case into `dir` (created if needed) and returns its path.
    pub fn save(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let stem = format!(
            "model-seed{}-{}",
            self.seed,
            &sha256_hex(serde_json::to_string(&self.steps)?.as_bytes())[..8]
        );
        let path = dir.join(format!("{stem}.json"));
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(&path, text + "\n")?;
        Ok(path)
    }

    /// Reads a saved case.
    pub fn load(path: &Path) -> Result<Self, RunError> {
        let usage = |reason: String| RunError::Usage(format!("`{}` {reason}", path.display()));
        let text = std::fs::read(path)
            .map_err(|error| usage(format!("cannot be read ({error}); check the path")))?;
        // The format comes first: a file of another format is refused for
        // that, not for the first field the formats disagree on.
        let format = serde_json::from_slice::<serde_json::Value>(&text)
            .ok()
            .and_then(|value| value.get("format").cloned());
        match &format {
            Some(serde_json::Value::Number(number)) if number.as_u64() == Some(FORMAT.into()) => {}
            Some(other) => {
                return Err(usage(format!(
                    "has format {other}, which is unsupported: this harness reads saved cases \
                     of format {FORMAT}; run the checks again to save the case in it"
                )));
            }
            None => {}
        }
        let case: SavedCase = serde_json::from_slice(&text).map_err(|error| {
            usage(format!(
                "is not a saved case ({error}); give a file from `--save-failures`"
            ))
        })?;
        // Sending steps that the model cannot predict would prove nothing:
        // no steps would pass as FIXED, and a step on an object never
        // created would be judged against a guess.
        match check_sequence(&case.steps) {
            Ok(()) => Ok(case),
            Err(SequenceError::Empty) => Err(usage(
                "has no steps, so there is nothing to replay; give a case saved by \
                 `--save-failures`, which holds the steps of a failure"
                    .into(),
            )),
            Err(error) => Err(usage(format!(
                "cannot be replayed: {error}; give a case saved by `--save-failures`, with \
                 its steps as they were saved"
            ))),
        }
    }
}

/// What replaying one step showed.
#[derive(Debug, Clone)]
pub struct StepVerdict {
    /// The step, in words.
    pub description: String,
    /// `None` when every check held, else the first that did not.
    pub failure: Option<Mismatch>,
}

/// What a replay showed.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    /// The file replayed.
    pub file: PathBuf,
    /// The server it ran against.
    pub target: String,
    /// Whether the spec is the one the case was saved with.
    pub same_spec: bool,
    /// One verdict per step that ran.
    pub steps: Vec<StepVerdict>,
    /// Why the replay stopped before the last step, if it did.
    pub stopped: Option<String>,
}

impl ReplayReport {
    /// Whether every step passed and all ran.
    pub fn fixed(&self) -> bool {
        self.stopped.is_none() && self.steps.iter().all(|step| step.failure.is_none())
    }

    /// 0 when every step is fixed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.fixed() { 0 } else { 1 }
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Replay of {} against {}",
            self.file.display(),
            self.target
        )?;
        if !self.same_spec {
            writeln!(
                f,
                "note: the spec changed since the case was saved; predictions follow the current one"
            )?;
        }
        for (number, step) in self.steps.iter().enumerate() {
            match &step.failure {
                None => writeln!(f, "{}. {}: FIXED", number + 1, step.description)?,
                Some(failure) => writeln!(
                    f,
                    "{}. {}: FAILED ({} · {}: expected {}, got {})",
                    number + 1,
                    step.description,
                    failure.operation,
                    failure.expectation,
                    failure.expected,
                    failure.actual
                )?,
            }
        }
        if let Some(reason) = &self.stopped {
            writeln!(f, "stopped: {reason}")?;
        }
        writeln!(f, "{}", if self.fixed() { "FIXED" } else { "FAILED" })
    }
}

/// Runs the steps saved in `file` against the server `options` name.
pub async fn replay(options: Options, file: &Path) -> Result<ReplayReport, RunError> {
    let case = SavedCase::load(file)?;
    let login = options.login()?;
    let url = options.url.as_deref().map(target::parse_url).transpose()?;
    let loaded = crate::spec_source::load(options.spec.as_deref())?;
    let (spec, catalog, spec_bytes) = (loaded.spec, loaded.catalog, loaded.bytes);
    let validator = Validator::new(&spec)?;

    let target = match url {
        Some(url) => Target::remote(url),
        None => Target::embedded().await?,
    };
    let transport = match Transport::new(
        target.base_url.clone(),
        catalog,
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
    let tag = crate::new_run_tag();
    let mut session = Session::new(transport, validator, tag.clone());
    if let Err(error) = target::sign_in(&mut session, &login).await {
        drop(session);
        target.stop().await;
        return Err(error);
    }

    let steps = case.steps.clone();
    let email = session.email();
    let (verdicts, trace) = {
        let mut driver = Driver::new(&mut session, format!("{tag}-replay"), email, true);
        let verdicts = driver.run_each(&steps).await;
        (verdicts, driver.trace)
    };
    cleanup::run(&mut session).await;

    let (failures, stopped) = match verdicts {
        Ok(failures) => (failures, None),
        Err(stop) => (Vec::new(), Some(describe_stop(&stop))),
    };
    let steps = trace
        .into_iter()
        .enumerate()
        .filter(|(index, _)| stopped.is_none() || *index < failures.len())
        .map(|(index, trace)| StepVerdict {
            description: trace.description,
            failure: failures.get(index).cloned().flatten(),
        })
        .collect();
    let report = ReplayReport {
        file: file.to_path_buf(),
        target: target.base_url.to_string(),
        same_spec: sha256_hex(&spec_bytes) == case.spec_sha256,
        steps,
        stopped,
    };
    drop(session);
    target.stop().await;
    Ok(report)
}

fn describe_stop(stop: &Stop) -> String {
    match stop {
        Stop::Budget(reason) | Stop::Network(reason) | Stop::NotInSpec(reason) => reason.clone(),
        Stop::Closed => "interrupted".into(),
        Stop::ReadOnly => "`--read-only` refuses the steps' writes".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::state::Handle;

    #[test]
    fn a_saved_case_reads_back_as_it_was_written() {
        let dir =
            std::env::temp_dir().join(format!("amxc-replay-{}", uuid::Uuid::new_v4().simple()));
        let case = SavedCase {
            format: FORMAT,
            seed: 42,
            server: ServerKind::Embedded,
            spec_sha256: sha256_hex(b"spec"),
            operation: "getFlows".into(),
            expectation: "model.frame".into(),
            expected: "a".into(),
            actual: "b".into(),
            steps: vec![
                Step::CreateStore {
                    store: Handle(3),
                    name: "orders".into(),
                },
                Step::RenameStore {
                    store: Handle(3),
                    name: "archive".into(),
                },
            ],
        };

        let path = case.save(&dir).unwrap();
        let loaded = SavedCase::load(&path).unwrap();

        assert_eq!(loaded, case);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"op\": \"renameStore\""), "{text}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_that_is_not_a_case_is_a_usage_error_naming_it() {
        let dir =
            std::env::temp_dir().join(format!("amxc-replay-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("nonsense.json");
        std::fs::write(&path, "{}").unwrap();

        let error = SavedCase::load(&path).unwrap_err();

        assert!(error.to_string().contains("nonsense.json"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_case_of_another_format_is_refused_naming_the_format() {
        let dir =
            std::env::temp_dir().join(format!("amxc-replay-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let numbered = dir.join("old.json");
        std::fs::write(&numbered, r#"{"format": 1, "steps": []}"#).unwrap();
        let named = dir.join("other.json");
        std::fs::write(&named, r#"{"format": "appmixer-case/9"}"#).unwrap();

        let old = SavedCase::load(&numbered).unwrap_err().to_string();
        let other = SavedCase::load(&named).unwrap_err().to_string();

        assert!(old.contains("has format 1, which is unsupported"), "{old}");
        assert!(!old.contains("missing field"), "{old}");
        assert!(other.contains("\"appmixer-case/9\""), "{other}");
        assert!(other.contains("unsupported"), "{other}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The text of a saved case of the current format holding `steps`.
    fn case_with_steps(steps: serde_json::Value) -> String {
        serde_json::json!({
            "format": FORMAT,
            "seed": 1,
            "server": "url",
            "specSha256": sha256_hex(b"spec"),
            "operation": "getFlows",
            "expectation": "model.read-your-writes",
            "expected": "a",
            "actual": "b",
            "steps": steps,
        })
        .to_string()
    }

    #[test]
    fn a_case_without_steps_is_a_usage_error_saying_there_is_nothing_to_replay() {
        let dir =
            std::env::temp_dir().join(format!("amxc-replay-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("empty.json");
        std::fs::write(&path, case_with_steps(serde_json::json!([]))).unwrap();

        let error = SavedCase::load(&path).unwrap_err();

        assert!(matches!(error, RunError::Usage(_)), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("empty.json` has no steps, so there is nothing to replay"),
            "{message}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_case_with_a_step_on_a_flow_never_created_is_a_usage_error_naming_step_and_flow() {
        let dir =
            std::env::temp_dir().join(format!("amxc-replay-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("edited.json");
        let steps = serde_json::json!([
            {"op": "createStore", "store": 0, "name": "orders"},
            {"op": "deleteFlow", "flow": 7},
        ]);
        std::fs::write(&path, case_with_steps(steps)).unwrap();

        let error = SavedCase::load(&path).unwrap_err();

        assert!(matches!(error, RunError::Usage(_)), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains(
                "cannot be replayed: step 2 (delete flow F7) refers to flow F7, which no \
                 earlier step creates"
            ),
            "{message}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
