//! Why a spec could not be loaded, resolved or compiled.
//!
//! Every message names the document (its path, or "spec text" for a string),
//! the offending value and, where there is one, what to do about it.

use std::fmt;
use std::path::PathBuf;

/// The two syntaxes a spec document may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxFormat {
    /// A document whose first non-blank character is `{`.
    Json,
    /// Any other document.
    Yaml,
}

impl fmt::Display for SyntaxFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyntaxFormat::Json => "JSON",
            SyntaxFormat::Yaml => "YAML",
        })
    }
}

/// An error while loading a spec or using it.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec file could not be read.
    #[error("cannot read the spec at {}: {source}; check that the file exists", path.display())]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The document is not well-formed YAML or JSON.
    #[error("{origin}: invalid {format} at line {line}, column {column}: {message}")]
    Syntax {
        /// The file path, or "spec text".
        origin: String,
        /// Which syntax the document was read as.
        format: SyntaxFormat,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser said.
        message: String,
    },

    /// A mapping of the document has the same key twice.
    #[error(
        "{origin}: duplicate key `{key}` at line {line}, column {column}{within}; a key may \
         appear once per mapping and parsers would silently keep only the last, so merge the \
         two entries or remove one"
    )]
    DuplicateKey {
        /// The file path, or "spec text".
        origin: String,
        /// The repeated key.
        key: String,
        /// 1-based line of the repeated key (of its mapping's first key when
        /// the text does not show where the repetition is).
        line: usize,
        /// 1-based column of that key.
        column: usize,
        /// ` (in `PATH`)` naming the mapping, e.g. `paths./flows.get`, when
        /// the parser knows it; else empty.
        within: String,
    },

    /// The document is Swagger 2.0, which has a different structure.
    #[error(
        "{origin}: this is Swagger 2.0 (`swagger: {version}`), not OpenAPI; \
         convert it to OpenAPI 3.0.x first"
    )]
    Swagger2 {
        /// The file path, or "spec text".
        origin: String,
        /// The value of the `swagger` field.
        version: String,
    },

    /// The document declares an OpenAPI version other than 3.0.x, or none.
    #[error(
        "{origin}: expected openapi 3.0.x, got {found}; progenitor and openapiv3 read 3.0 only"
    )]
    Version {
        /// The file path, or "spec text".
        origin: String,
        /// The declared version, or a description of what stood there.
        found: String,
    },

    /// The document is well-formed but does not fit the OpenAPI 3.0 model.
    #[error("{origin}: not a valid OpenAPI 3.0 document{location}: {message}")]
    Model {
        /// The file path, or "spec text".
        origin: String,
        /// ` at line L, column C` when the parser knows where, else empty.
        location: String,
        /// What the parser said.
        message: String,
    },

    /// openapiv3 panicked while reading the document as an OpenAPI model.
    #[error(
        "{origin}: openapiv3 panicked while reading the document as OpenAPI 3.0 ({message}); \
         the document has a shape that crate cannot handle: look at what changed last, and \
         report the shape to openapiv3"
    )]
    ModelPanic {
        /// The file path, or "spec text".
        origin: String,
        /// The panic's message.
        message: String,
    },

    /// A `$ref` does not point at anything in the document.
    #[error(
        "`$ref: {reference}` does not resolve: {reason}; \
         point it at an existing entry of `#/components`"
    )]
    Unresolved {
        /// The reference as written.
        reference: String,
        /// Why it could not be followed.
        reason: String,
    },

    /// A schema of the spec could not be compiled for validation.
    #[error("cannot compile the schema at {pointer} for validation: {message}")]
    Schema {
        /// JSON pointer of the schema in the document.
        pointer: String,
        /// What the schema compiler said.
        message: String,
    },
}
