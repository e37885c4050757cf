//! Real-sized flows to load: the flow files of `APPMIXER_FLOWS_DIR` (whole
//! flow objects as Appmixer exports them), read at run time and never copied
//! into the repository.
//!
//! Each file's `thumbnail`, a data-URI picture of the canvas, is left out: it
//! is most of a file's bytes but no part of the descriptor, and lists are
//! read with `projection=-thumbnail` by every real client. What is kept (the
//! descriptor, name, description, custom fields, wizard) is sent as is.

use std::path::Path;

use anyhow::{Context, bail};
use bytes::Bytes;
use serde_json::{Map, Value};

/// The flow objects of a directory, without thumbnails, in file-name order.
#[derive(Debug, Clone)]
pub struct FlowTemplates {
    templates: Vec<Map<String, Value>>,
}

impl FlowTemplates {
    /// Reads every `*.json` of `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let entries = std::fs::read_dir(dir).with_context(|| {
            format!(
                "cannot read the flow files in {}; set APPMIXER_FLOWS_DIR to a directory of \
                 Appmixer flow files (*.json)",
                dir.display()
            )
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        let mut templates = Vec::with_capacity(paths.len());
        for path in &paths {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read the flow file {}", path.display()))?;
            let value: Value = serde_json::from_slice(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let Value::Object(mut flow) = value else {
                bail!("{} is not a JSON object (a whole flow)", path.display());
            };
            flow.remove("thumbnail");
            templates.push(flow);
        }
        if templates.is_empty() {
            bail!(
                "{} holds no flow files (*.json); set APPMIXER_FLOWS_DIR to a directory that does",
                dir.display()
            );
        }
        Ok(Self { templates })
    }

    /// Templates from values, for tests.
    #[cfg(test)]
    pub fn from_values(templates: Vec<Map<String, Value>>) -> Self {
        Self { templates }
    }

    /// How many templates there are.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Which template flow number `index` is made from.
    pub fn template_of(&self, index: usize) -> usize {
        index % self.templates.len()
    }

    /// The `createFlow` body of flow number `index`: its template, cycled,
    /// under a name made unique by `label` and `index`.
    pub fn body(&self, label: &str, index: usize) -> Bytes {
        let mut flow = self.templates[self.template_of(index)].clone();
        let name = match flow.get("name").and_then(Value::as_str) {
            Some(name) => format!("{name} [{label} {index}]"),
            None => format!("[{label} {index}]"),
        };
        flow.insert("name".into(), Value::String(name));
        Bytes::from(serde_json::to_vec(&flow).expect("a JSON map always serializes"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn templates() -> FlowTemplates {
        let one = json!({"name": "One", "flow": {"a": {"type": "x"}}});
        let two = json!({"flow": {}});
        FlowTemplates::from_values(vec![
            one.as_object().unwrap().clone(),
            two.as_object().unwrap().clone(),
        ])
    }

    #[test]
    fn bodies_cycle_through_the_templates_with_unique_names() {
        let templates = templates();

        let first: Value = serde_json::from_slice(&templates.body("load", 0)).unwrap();
        let third: Value = serde_json::from_slice(&templates.body("load", 2)).unwrap();
        let second: Value = serde_json::from_slice(&templates.body("load", 1)).unwrap();

        assert_eq!(first["name"], "One [load 0]");
        assert_eq!(third["name"], "One [load 2]");
        assert_eq!(first["flow"], third["flow"]);
        assert_eq!(second["name"], "[load 1]");
        assert_eq!(templates.template_of(3), 1);
    }

    #[test]
    fn thumbnails_are_left_out_of_the_loaded_files() {
        let dir = std::env::temp_dir().join(format!("xtask-flows-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a.json"),
            r#"{"name":"A","thumbnail":"data:image/svg+xml,...","flow":{}}"#,
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "not a flow").unwrap();

        let templates = FlowTemplates::load(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        assert_eq!(templates.len(), 1);
        let body: Value = serde_json::from_slice(&templates.body("t", 0)).unwrap();
        assert!(body.get("thumbnail").is_none());
        assert_eq!(body["flow"], json!({}));
    }
}
