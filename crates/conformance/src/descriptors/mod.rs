//! Flow descriptors sent to the server and read back unchanged.
//!
//! Two sources feed this stage. Generated descriptors ([`generate`]) go
//! through create → get → update → get, and each read must equal what was
//! sent as a JSON value. Descriptor files (`--descriptors DIR`, every
//! `*.json` there a whole flow object with `name`, `flow` and optional
//! metadata) are sent as the `createFlow` body with the name prefixed by the
//! run tag, and every field of the file must come back from `getFlow` as it
//! was; then the same file goes through `updateFlow` under a changed name
//! and must come back unchanged again. Files are read and checked before the
//! run sends anything, so a bad file is a usage error naming it, not a
//! half-finished run. A file saved from a server's answer carries the fields
//! a server sets ([`SERVER_SET_FIELDS`]: its id, owner, stage and times);
//! they are stripped before sending and not compared, since a correct
//! server answers its own values there, and the report names them per file.

pub mod generate;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::cleanup::Kind;
use crate::compare;
use crate::error::RunError;
use crate::session::{Session, Step};
use crate::transport::Call;

/// The bytes of a UTF-8 byte-order mark, which some editors put first.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The fields of a flow that the server sets, not the client: a file read
/// back from a server has them, and they are stripped before sending.
pub const SERVER_SET_FIELDS: [&str; 8] = [
    "flowId", "userId", "stage", "btime", "mtime", "started", "stopped", "_id",
];

/// One descriptor file, parsed.
#[derive(Debug, Clone)]
pub struct DescriptorFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The flow object it holds, without the server-set fields.
    pub body: Map<String, Value>,
    /// The server-set fields the file had, stripped from `body`.
    pub stripped: Vec<String>,
}

impl DescriptorFile {
    /// The file's name, for reports.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// How the descriptor stage went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescriptorSummary {
    /// The seed the generated descriptors came from.
    pub seed: u64,
    /// How many generated descriptor pairs were sent.
    pub generated_checked: usize,
    /// How many of them round-tripped unchanged, through create and update.
    pub generated_passed: usize,
    /// How many descriptor files were sent.
    pub files_checked: usize,
    /// How many of them came back unchanged.
    pub files_passed: usize,
    /// The server-set fields stripped from each file that had any, by file
    /// name.
    pub stripped: Vec<(String, Vec<String>)>,
}

/// Reads every `*.json` in `dir`, in file-name order.
pub fn load_dir(dir: &Path) -> Result<Vec<DescriptorFile>, RunError> {
    let unusable = |path: &Path, reason: String| RunError::Descriptors {
        path: path.to_path_buf(),
        reason,
    };
    let entries = std::fs::read_dir(dir).map_err(|error| {
        unusable(
            dir,
            format!("cannot be read as a directory ({error}); check the path"),
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(unusable(
            dir,
            "holds no `*.json` file; point `--descriptors` at a directory of flow files".into(),
        ));
    }
    paths.iter().map(|path| load_file(path)).collect()
}

/// Reads one descriptor file.
pub fn load_file(path: &Path) -> Result<DescriptorFile, RunError> {
    let unusable = |reason: String| RunError::Descriptors {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read(path).map_err(|error| unusable(format!("cannot be read: {error}")))?;
    if text.starts_with(UTF8_BOM) {
        return Err(unusable(
            "starts with a UTF-8 byte-order mark (EF BB BF), which JSON does not allow; save \
             the file as UTF-8 without a BOM"
                .into(),
        ));
    }
    let value: Value = serde_json::from_slice(&text).map_err(|error| {
        unusable(format!(
            "is not JSON ({error}); each file must hold one flow object"
        ))
    })?;
    let Value::Object(mut body) = value else {
        return Err(unusable(
            "holds JSON that is not an object; each file must hold one flow object".into(),
        ));
    };
    if !body.get("flow").is_some_and(Value::is_object) {
        return Err(unusable(
            "has no `flow` object; a flow file holds `name`, `flow` and optional metadata".into(),
        ));
    }
    if body.get("name").is_some_and(|name| !name.is_string()) {
        return Err(unusable("has a `name` that is not a string".into()));
    }
    let stripped: Vec<String> = SERVER_SET_FIELDS
        .iter()
        .filter(|field| body.remove(**field).is_some())
        .map(|field| field.to_string())
        .collect();
    Ok(DescriptorFile {
        path: path.to_path_buf(),
        body,
        stripped,
    })
}

/// Sends `cases`, the descriptor pairs [`generate::generate`] made from
/// `seed`, through a round trip.
pub async fn run_generated(
    session: &mut Session,
    seed: u64,
    cases: Vec<generate::DescriptorCase>,
    summary: &mut DescriptorSummary,
) -> Step<()> {
    summary.seed = seed;
    for (number, case) in cases.into_iter().enumerate() {
        summary.generated_checked += 1;
        let name = session.name(&format!("generated descriptor {number} (seed {seed})"));
        let created = round_trip_generated(session, &name, &case).await;
        match created {
            Ok(true) => summary.generated_passed += 1,
            Ok(false) | Err(crate::session::Abort::Step) => {}
            Err(abort) => return Err(abort),
        }
    }
    Ok(())
}

async fn round_trip_generated(
    session: &mut Session,
    name: &str,
    case: &generate::DescriptorCase,
) -> Step<bool> {
    let exchange = session
        .call(Call::new("createFlow").body(serde_json::json!({
            "name": name,
            "flow": case.created,
        })))
        .await?;
    let flow_id = session.require_str(
        "createFlow",
        "descriptors.create-answers-id",
        &exchange,
        "/flowId",
    )?;
    session.created(Kind::Flow, &flow_id);

    let read = session
        .call(Call::new("getFlow").path("flowId", &flow_id))
        .await?;
    let body = session.require_success("getFlow", "descriptors.get-finds-flow", &read)?;
    let created_ok = session.expect_json(
        "createFlow",
        "descriptors.create-round-trips",
        Some(&read),
        &case.created,
        body.get("flow"),
    );

    let update = session
        .call(
            Call::new("updateFlow")
                .path("flowId", &flow_id)
                .body(serde_json::json!({ "flow": case.updated })),
        )
        .await?;
    session.require_success("updateFlow", "descriptors.update-accepted", &update)?;
    let read = session
        .call(Call::new("getFlow").path("flowId", &flow_id))
        .await?;
    let body = session.require_success("getFlow", "descriptors.get-finds-flow", &read)?;
    let updated_ok = session.expect_json(
        "updateFlow",
        "descriptors.update-round-trips",
        Some(&read),
        &case.updated,
        body.get("flow"),
    );

    delete_flow(session, &flow_id).await?;
    Ok(created_ok && updated_ok)
}

/// Sends every file through create → get and compares each field.
pub async fn run_files(
    session: &mut Session,
    files: &[DescriptorFile],
    summary: &mut DescriptorSummary,
) -> Step<()> {
    for file in files {
        summary.files_checked += 1;
        if !file.stripped.is_empty() {
            tracing::info!(
                file = %file.file_name(),
                fields = %file.stripped.join(", "),
                "stripped the fields a server sets before sending the file"
            );
            summary
                .stripped
                .push((file.file_name(), file.stripped.clone()));
        }
        match round_trip_file(session, file).await {
            Ok(true) => summary.files_passed += 1,
            Ok(false) | Err(crate::session::Abort::Step) => {}
            Err(abort) => return Err(abort),
        }
    }
    Ok(())
}

async fn round_trip_file(session: &mut Session, file: &DescriptorFile) -> Step<bool> {
    let file_name = file.file_name();
    let mut body = file.body.clone();
    let original = body
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| file_name.trim_end_matches(".json").to_string());
    body.insert("name".into(), Value::String(session.name(&original)));

    let exchange = session
        .call(Call::new("createFlow").body(Value::Object(body.clone())))
        .await?;
    let flow_id = session.require_str(
        "createFlow",
        "descriptors.create-answers-id",
        &exchange,
        "/flowId",
    )?;
    session.created(Kind::Flow, &flow_id);

    let passed = read_back_matches(
        session,
        &flow_id,
        &body,
        ("createFlow", "descriptors.file-round-trips"),
        &file_name,
    )
    .await?;

    // The same file again through `updateFlow`, under a changed name.
    let mut updated = body.clone();
    updated.insert(
        "name".into(),
        Value::String(session.name(&format!("{original} (updated 𝄞)"))),
    );
    let exchange = session
        .call(
            Call::new("updateFlow")
                .path("flowId", &flow_id)
                .body(Value::Object(updated.clone())),
        )
        .await?;
    let update_passed = exchange.is_success()
        && read_back_matches(
            session,
            &flow_id,
            &updated,
            ("updateFlow", "descriptors.file-update-round-trips"),
            &file_name,
        )
        .await?;

    delete_flow(session, &flow_id).await?;
    Ok(passed && update_passed)
}

/// Reads flow `flow_id` back and checks, as `(operation, expectation)`,
/// that every field of `sent` comes back unchanged; fields the server adds
/// are not compared.
async fn read_back_matches(
    session: &mut Session,
    flow_id: &str,
    sent: &Map<String, Value>,
    (operation, expectation): (&str, &str),
    file_name: &str,
) -> Step<bool> {
    let read = session
        .call(Call::new("getFlow").path("flowId", flow_id))
        .await?;
    let returned = session.require_success("getFlow", "descriptors.get-finds-flow", &read)?;
    let echoed: Map<String, Value> = sent
        .keys()
        .filter_map(|key| returned.get(key).map(|value| (key.clone(), value.clone())))
        .collect();
    let difference =
        compare::first_difference(&Value::Object(sent.clone()), Some(&Value::Object(echoed)));
    let side = |text: fn(&compare::Difference) -> String| {
        format!(
            "{file_name}: {}",
            difference.as_ref().map(text).unwrap_or_default()
        )
    };
    Ok(session.expect(
        operation,
        expectation,
        Some(&read),
        difference.is_none(),
        || side(compare::Difference::expected_text),
        || side(compare::Difference::actual_text),
    ))
}

async fn delete_flow(session: &mut Session, flow_id: &str) -> Step<()> {
    let exchange = session
        .call(Call::new("deleteFlow").path("flowId", flow_id))
        .await?;
    if exchange.is_success() {
        session.deleted(Kind::Flow, flow_id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "amxc-descriptors-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_file_without_flow_is_refused_with_its_name() {
        let dir = scratch_dir("noflow");
        std::fs::write(dir.join("a.json"), r#"{"name": "x"}"#).unwrap();

        let error = load_dir(&dir).unwrap_err();

        let message = error.to_string();
        assert!(
            message.contains("a.json") && message.contains("no `flow`"),
            "{message}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_that_starts_with_a_byte_order_mark_is_refused_saying_so() {
        let dir = scratch_dir("bom");
        let mut bytes = UTF8_BOM.to_vec();
        bytes.extend_from_slice(br#"{"name": "x", "flow": {}}"#);
        std::fs::write(dir.join("bom.json"), bytes).unwrap();

        let error = load_dir(&dir).unwrap_err();

        let message = error.to_string();
        assert!(
            message.contains("bom.json") && message.contains("byte-order mark"),
            "{message}"
        );
        assert!(!message.contains("is not JSON"), "{message}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_that_is_not_json_is_refused_with_its_name() {
        let dir = scratch_dir("notjson");
        std::fs::write(dir.join("good.json"), r#"{"name": "x", "flow": {}}"#).unwrap();
        std::fs::write(dir.join("bad.json"), "<html>").unwrap();

        let error = load_dir(&dir).unwrap_err();

        let message = error.to_string();
        assert!(
            message.contains("bad.json") && message.contains("not JSON"),
            "{message}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_fields_a_server_sets_are_stripped_and_named() {
        let dir = scratch_dir("server-set");
        std::fs::write(
            dir.join("read-back.json"),
            r#"{"name": "x", "flow": {}, "flowId": "f1", "userId": "u1", "stage": "stopped",
                "btime": "2024-01-01T00:00:00Z", "mtime": "2024-01-02T00:00:00Z",
                "_id": "abc", "customFields": {"k": 1}}"#,
        )
        .unwrap();

        let files = load_dir(&dir).unwrap();

        assert_eq!(
            files[0].stripped,
            ["flowId", "userId", "stage", "btime", "mtime", "_id"]
        );
        let mut kept: Vec<&str> = files[0].body.keys().map(String::as_str).collect();
        kept.sort_unstable();
        assert_eq!(kept, ["customFields", "flow", "name"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn files_load_in_name_order_and_other_files_are_ignored() {
        let dir = scratch_dir("order");
        std::fs::write(dir.join("b.json"), r#"{"name": "b", "flow": {}}"#).unwrap();
        std::fs::write(dir.join("a.json"), r#"{"name": "a", "flow": {}}"#).unwrap();
        std::fs::write(dir.join("README.md"), "not a flow").unwrap();

        let files = load_dir(&dir).unwrap();

        let names: Vec<String> = files.iter().map(DescriptorFile::file_name).collect();
        assert_eq!(names, ["a.json", "b.json"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
