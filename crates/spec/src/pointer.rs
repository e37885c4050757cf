//! JSON pointers (RFC 6901) into the spec document, and local `$ref`s.
//!
//! Locations in [`Problem`](crate::Problem)s and validation errors are JSON
//! pointers into the raw document, so a reader can find the spot with any
//! JSON-pointer-aware tool; a `$ref` of the spec is a pointer after `#`.

use serde_json::Value;

/// How many `$ref` hops [`follow`] takes before it calls the chain a loop.
const MAX_HOPS: usize = 32;

/// Escapes one reference token: `~` becomes `~0` and `/` becomes `~1`.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Appends one (unescaped) token to a pointer.
pub fn join(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", escape(token))
}

/// The pointer a local `$ref` names: `#/components/schemas/Flow` gives
/// `/components/schemas/Flow`; references to other documents give `None`.
pub fn ref_target(reference: &str) -> Option<&str> {
    let target = reference.strip_prefix('#')?;
    (target.is_empty() || target.starts_with('/')).then_some(target)
}

/// The name of the component a local `$ref` names, if it names one of `kind`
/// (`schemas`, `responses`, `parameters`, …).
pub fn component_name<'r>(reference: &'r str, kind: &str) -> Option<&'r str> {
    let target = ref_target(reference)?;
    let rest = target.strip_prefix("/components/")?;
    let name = rest.strip_prefix(kind)?.strip_prefix('/')?;
    (!name.contains('/')).then_some(name)
}

/// Follows `$ref`s from `value`, found at `pointer`, until it reaches an
/// object without `$ref`; returns that object and its pointer.
///
/// Fails with a reason when a reference is not local, points nowhere or
/// loops.
pub fn follow<'d>(
    document: &'d Value,
    pointer: &str,
    value: &'d Value,
) -> Result<(String, &'d Value), (String, String)> {
    let mut pointer = pointer.to_owned();
    let mut value = value;
    for _ in 0..MAX_HOPS {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Ok((pointer, value));
        };
        let Some(target) = ref_target(reference) else {
            return Err((
                reference.to_owned(),
                "only references into this document (`#/…`) are supported".to_owned(),
            ));
        };
        let Some(next) = document.pointer(target) else {
            return Err((reference.to_owned(), format!("nothing at {target}")));
        };
        pointer = target.to_owned();
        value = next;
    }
    Err((
        value
            .get("$ref")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        format!("more than {MAX_HOPS} references in a row, probably a loop"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escape_encodes_tilde_before_slash() {
        assert_eq!(escape("/flows/{flowId}"), "~1flows~1{flowId}");
        assert_eq!(escape("a~/b"), "a~0~1b");
    }

    #[test]
    fn component_name_reads_only_its_own_kind() {
        assert_eq!(
            component_name("#/components/schemas/Flow", "schemas"),
            Some("Flow")
        );
        assert_eq!(
            component_name("#/components/schemas/Flow", "responses"),
            None
        );
        assert_eq!(
            component_name("other.yaml#/components/schemas/Flow", "schemas"),
            None
        );
    }

    #[test]
    fn follow_walks_a_chain_of_references() {
        let document = json!({
            "components": {
                "responses": {
                    "A": {"$ref": "#/components/responses/B"},
                    "B": {"description": "b"}
                }
            }
        });
        let start = json!({"$ref": "#/components/responses/A"});

        let (pointer, value) = follow(&document, "/paths/x", &start).unwrap();

        assert_eq!(pointer, "/components/responses/B");
        assert_eq!(value["description"], "b");
    }

    #[test]
    fn follow_reports_a_dangling_reference() {
        let document = json!({"components": {}});
        let start = json!({"$ref": "#/components/schemas/Missing"});

        let (reference, reason) = follow(&document, "", &start).unwrap_err();

        assert_eq!(reference, "#/components/schemas/Missing");
        assert!(reason.contains("/components/schemas/Missing"), "{reason}");
    }

    #[test]
    fn follow_stops_on_a_loop() {
        let document =
            json!({"components": {"schemas": {"A": {"$ref": "#/components/schemas/A"}}}});
        let start = json!({"$ref": "#/components/schemas/A"});

        let (_, reason) = follow(&document, "", &start).unwrap_err();

        assert!(reason.contains("loop"), "{reason}");
    }
}
