//! Reading the typed [`OpenAPI`] model out of the document value, with
//! openapiv3's panics turned into errors.
//!
//! openapiv3's `ReferenceOr` reads a part that fails to parse a second time,
//! from a `serde_json::Value`, to get a better message, and panics when that
//! second reading succeeds. Reading the model from the document value rather
//! than from the text keeps both readings on the same data. The value has no
//! lines, though, so when the model does not fit, the text is read once more
//! to say where. Both readings run under `catch_unwind` with the panic hook
//! silenced on this thread, so that no panic of openapiv3 reaches the user as
//! a backtrace.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use openapiv3::OpenAPI;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{SpecError, SyntaxFormat};
use crate::syntax::{json_error, yaml_error};

/// Reads the model from `document`, which was parsed from `text`.
pub(crate) fn read(
    document: &Value,
    text: &str,
    format: SyntaxFormat,
    origin: &str,
) -> Result<OpenAPI, SpecError> {
    let error = match guarded(origin, || OpenAPI::deserialize(document))? {
        Ok(openapi) => return Ok(openapi),
        Err(error) => error,
    };
    let located = guarded(origin, || match format {
        SyntaxFormat::Json => serde_json::from_str::<OpenAPI>(text)
            .err()
            .map(|e| json_error(&e, origin, true)),
        SyntaxFormat::Yaml => serde_yaml::from_str::<OpenAPI>(text)
            .err()
            .map(|e| yaml_error(&e, origin, true)),
    });
    match located {
        Ok(Some(located @ SpecError::Model { .. })) => Err(located),
        // The text reading disagrees with the value reading (it succeeded,
        // or failed otherwise): the value's message is the one that counts.
        _ => Err(SpecError::Model {
            origin: origin.to_owned(),
            location: String::new(),
            message: error.to_string(),
        }),
    }
}

thread_local! {
    /// Whether this thread is inside [`guarded`], whose panics are caught and
    /// reported as errors, so that the panic hook must not print them.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `read`, turning a panic into [`SpecError::ModelPanic`].
///
/// The first call wraps the process's panic hook once: the wrapper stays
/// silent on a thread inside `guarded` and calls the previous hook otherwise,
/// so every other panic is printed as before.
fn guarded<T>(origin: &str, read: impl FnOnce() -> T) -> Result<T, SpecError> {
    static WRAP_HOOK: Once = Once::new();
    WRAP_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });

    let was_quiet = QUIET.with(|quiet| quiet.replace(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(read));
    QUIET.with(|quiet| quiet.set(was_quiet));
    outcome.map_err(|payload| SpecError::ModelPanic {
        origin: origin.to_owned(),
        message: panic_message(&*payload),
    })
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_reading_becomes_an_error_naming_it() {
        let outcome: Result<(), SpecError> = guarded("spec.yaml", || {
            panic!("somehow this parsed successfully the second time")
        });

        let error = outcome.unwrap_err();
        assert!(matches!(error, SpecError::ModelPanic { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.starts_with("spec.yaml: "), "{message}");
        assert!(message.contains("openapiv3 panicked"), "{message}");
        assert!(
            message.contains("parsed successfully the second time"),
            "{message}"
        );
    }

    #[test]
    fn a_reading_that_does_not_panic_is_returned_as_it_is() {
        let outcome = guarded("spec.yaml", || 42);

        assert_eq!(outcome.unwrap(), 42);
    }

    #[test]
    fn a_model_error_is_located_in_the_text() {
        let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses: 5\n";
        let document: Value = serde_yaml::from_str(text).unwrap();

        let error = read(&document, text, SyntaxFormat::Yaml, "spec text").unwrap_err();

        let SpecError::Model { location, .. } = &error else {
            panic!("expected a model error, got {error:?}");
        };
        assert!(location.contains("line "), "{error}");
    }
}
