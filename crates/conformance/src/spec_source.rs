//! Which spec a run checks against: the file `--spec` names, or else the
//! spec built into the binary.
//!
//! The rule has no third case: a given path is read and its errors name it;
//! without one the binary uses the copy of `spec/appmixer.yaml` it was
//! built with, so that an installed or moved binary checks what it was
//! built to check and never looks for the build machine's files. The
//! report says which was used.

use std::fmt;
use std::path::{Path, PathBuf};

use appmixer_spec::Spec;

use crate::catalog::Catalog;
use crate::error::RunError;

/// Where the spec of a run came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecSource {
    /// The spec built into the binary.
    Embedded,
    /// The file given with `--spec`.
    Path(PathBuf),
}

impl fmt::Display for SpecSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecSource::Embedded => f.write_str("embedded"),
            SpecSource::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A spec and where it came from.
pub struct LoadedSpec {
    /// The parsed spec.
    pub spec: Spec,
    /// Its operations; never empty.
    pub catalog: Catalog,
    /// Where it came from.
    pub source: SpecSource,
    /// Its text, byte for byte, which a saved model case records the hash of.
    pub bytes: Vec<u8>,
}

/// Loads the spec at `path`, or the embedded one when there is none, and
/// refuses a directory or a document without operations, naming the path.
pub fn load(path: Option<&Path>) -> Result<LoadedSpec, RunError> {
    let Some(path) = path else {
        let spec = Spec::embedded()?;
        return Ok(LoadedSpec {
            catalog: Catalog::from_spec(&spec)?,
            spec,
            source: SpecSource::Embedded,
            bytes: appmixer_spec::EMBEDDED_SPEC.as_bytes().to_vec(),
        });
    };
    let unusable = |reason: &str| RunError::SpecUnusable {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    if path.is_dir() {
        return Err(unusable(
            "is a directory; `--spec` expects the OpenAPI YAML file, e.g. `spec/appmixer.yaml`",
        ));
    }
    let spec = Spec::load(path)?;
    let catalog = Catalog::from_spec(&spec)?;
    if catalog.operations().is_empty() {
        return Err(unusable(
            "declares no operations (its `paths` are missing or empty); give the Appmixer \
             OpenAPI spec, e.g. `spec/appmixer.yaml`",
        ));
    }
    let bytes = std::fs::read(path).map_err(|source| {
        RunError::Spec(appmixer_spec::SpecError::Read {
            path: path.to_path_buf(),
            source,
        })
    })?;
    Ok(LoadedSpec {
        spec,
        catalog,
        source: SpecSource::Path(path.to_path_buf()),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_path_is_the_embedded_spec_and_a_path_is_read() {
        let embedded = load(None).unwrap();
        let from_file = load(Some(&appmixer_spec::default_path())).unwrap();

        assert_eq!(embedded.source.to_string(), "embedded");
        assert_eq!(
            from_file.source,
            SpecSource::Path(appmixer_spec::default_path())
        );
        assert_eq!(embedded.bytes, from_file.bytes);
    }

    #[test]
    fn a_missing_spec_file_is_named_in_the_error() {
        let missing = std::env::temp_dir().join("amxc-no-such-spec.yaml");

        let error = load(Some(&missing)).err().expect("a missing file fails");

        assert!(
            error.to_string().contains(&missing.display().to_string()),
            "{error}"
        );
    }
}
