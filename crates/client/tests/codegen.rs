//! The generation that `build.rs` runs, on the real spec and on broken ones:
//! a spec progenitor cannot handle must fail with the operation's name.

#[path = "../codegen/generate.rs"]
mod generate;

use std::path::{Path, PathBuf};

use generate::{Failure, Stage};
use serde_yaml::Value;

fn real_spec() -> Value {
    let text = std::fs::read_to_string(appmixer_spec::default_path()).expect("the spec reads");
    serde_yaml::from_str(&text).expect("the spec is YAML")
}

/// Writes `spec` to a file of its own under the test's temporary directory.
fn write_spec(name: &str, spec: &Value) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen");
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, serde_yaml::to_string(spec).expect("YAML out")).expect("spec written");
    path
}

/// The real spec plus `POST /broken` (`brokenOp`), whose 200 and 201 answers
/// have different schemas: progenitor 0.15.1 panics on that.
fn spec_with_broken_operation() -> Value {
    let operation: Value = serde_yaml::from_str(
        r##"
post:
  operationId: brokenOp
  responses:
    '200':
      description: One shape.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Count'
    '201':
      description: Another shape.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/StoreId'
"##,
    )
    .unwrap();
    let mut spec = real_spec();
    spec["paths"]
        .as_mapping_mut()
        .expect("paths is a map")
        .insert(Value::from("/broken"), operation);
    spec
}

fn parsed(path: &Path) -> openapiv3::OpenAPI {
    appmixer_spec::Spec::load(path)
        .expect("the spec loads")
        .openapi()
        .clone()
}

#[test]
fn the_real_spec_generates_with_the_header_and_the_hand_written_types() {
    let code = generate::generate(&appmixer_spec::default_path()).expect("the spec generates");

    assert!(
        code.starts_with("// Generated from spec/appmixer.yaml"),
        "{}",
        &code[..200]
    );
    assert!(code.contains("Do not edit"));
    assert!(code.contains("crate::FlowDescriptor"));
    assert!(code.contains("inner: crate::Session"));
    assert!(code.contains("PUBLIC_OPERATIONS"));
    assert!(!code.contains("pub struct FlowDescriptor"));
}

#[test]
fn patterns_are_left_to_the_server_so_builders_take_strings() {
    let spec = real_spec();
    let filter = &spec["components"]["parameters"]["Filter"]["schema"]["items"];
    let projection = &spec["components"]["schemas"]["CloneOptions"]["properties"]["projection"];
    assert!(
        filter["pattern"].is_string(),
        "the spec's filter has a pattern"
    );
    assert!(
        projection["pattern"].is_string(),
        "cloneFlow's projection has a pattern"
    );

    let code = generate::generate(&appmixer_spec::default_path()).expect("the spec generates");

    assert!(!code.contains("regress::Regex"), "a pattern was generated");
    assert!(code.contains("pub projection: ::std::option::Option<::std::string::String>"));
}

#[test]
fn alternatives_that_only_require_properties_keep_one_struct() {
    let spec = real_spec();
    let alternatives = spec["components"]["schemas"]["Credentials"]["anyOf"]
        .as_sequence()
        .expect("Credentials lists alternatives");
    assert_eq!(alternatives.len(), 2);

    let code = generate::generate(&appmixer_spec::default_path()).expect("the spec generates");

    assert!(
        code.contains("pub struct Credentials {"),
        "Credentials is a struct"
    );
    assert!(
        !code.contains("pub enum Credentials"),
        "Credentials became an enum"
    );
}

#[test]
fn a_broken_operation_fails_generation_and_is_named() {
    let path = write_spec("broken-op", &spec_with_broken_operation());

    let failure: Failure = generate::generate(&path).expect_err("brokenOp cannot be generated");

    assert_eq!(failure.operations(), ["brokenOp"], "{failure}");
    assert!(failure.to_string().contains("brokenOp"), "{failure}");
}

#[test]
fn a_progenitor_panic_is_caught_and_blamed_on_its_operation() {
    let path = write_spec("broken-op-unlinted", &spec_with_broken_operation());

    let failure = generate::generate_from(&path, parsed(&path)).expect_err("progenitor panics");

    assert_eq!(failure.stage, Stage::Progenitor);
    assert_eq!(failure.operations(), ["brokenOp"], "{failure}");
    let problem = &failure.problems[0];
    assert_eq!(problem.location, "POST /broken");
    assert!(problem.message.contains("panicked"), "{}", problem.message);
    assert!(
        problem.message.contains("response_types"),
        "{}",
        problem.message
    );
}

#[test]
fn a_progenitor_error_is_blamed_on_its_operation() {
    let mut spec = real_spec();
    spec["paths"]["/user"]["get"]["parameters"] =
        serde_yaml::from_str("[{name: session, in: cookie, schema: {type: string}}]").unwrap();
    let path = write_spec("cookie-parameter", &spec);

    let failure = generate::generate_from(&path, parsed(&path)).expect_err("cookies are refused");

    assert_eq!(failure.operations(), ["getUser"], "{failure}");
    assert!(failure.problems[0].message.contains("cookie"), "{failure}");
}

#[test]
fn a_file_that_is_not_a_spec_fails_at_loading() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("not-a-spec.yaml");
    std::fs::write(&path, "openapi: [this is not, a spec").unwrap();

    let failure = generate::generate(&path).expect_err("nothing to generate");

    assert_eq!(failure.stage, Stage::Load);
    assert!(failure.to_string().contains("not-a-spec.yaml"), "{failure}");
}

/// The real spec with `getFlow` answering `$ref` `schema` instead of `Flow`.
fn spec_with_get_flow_schema(schema: &str) -> Value {
    let mut spec = real_spec();
    spec["paths"]["/flows/{flowId}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
        serde_yaml::from_str(&format!("$ref: '#/components/schemas/{schema}'")).unwrap();
    spec
}

#[test]
fn a_missing_schema_is_named_with_its_operation_and_a_hint_about_references() {
    let path = write_spec("missing-schema", &spec_with_get_flow_schema("NoSuchSchema"));

    let failure = generate::generate(&path).expect_err("the schema is missing");

    assert_eq!(failure.stage, Stage::Lint);
    assert_eq!(failure.operations(), ["getFlow"], "{failure}");
    let summary = failure.to_string();
    assert!(
        summary.contains("#/components/schemas/NoSuchSchema"),
        "{summary}"
    );
    assert!(!summary.contains("one success schema"), "{summary}");
}

#[test]
fn a_missing_schema_found_by_progenitor_gets_the_hint_about_references() {
    let path = write_spec(
        "missing-schema-unlinted",
        &spec_with_get_flow_schema("NoSuchSchema"),
    );

    let failure = generate::generate_from(&path, parsed(&path)).expect_err("typify panics");

    assert_eq!(failure.stage, Stage::Progenitor);
    assert_eq!(failure.operations(), ["getFlow"], "{failure}");
    let summary = failure.to_string();
    assert!(summary.contains("point every `$ref`"), "{summary}");
    assert!(!summary.contains("one success schema"), "{summary}");
}

#[test]
fn a_schema_that_is_only_a_reference_to_itself_fails_before_compiling() {
    let mut spec = spec_with_get_flow_schema("Loop");
    spec["components"]["schemas"]
        .as_mapping_mut()
        .expect("schemas is a map")
        .insert(
            Value::from("Loop"),
            serde_yaml::from_str("$ref: '#/components/schemas/Loop'").unwrap(),
        );
    let path = write_spec("self-reference", &spec);

    let failure = generate::generate(&path).expect_err("Loop has no type");

    assert_eq!(failure.stage, Stage::Lint);
    assert_eq!(failure.operations(), ["getFlow"], "{failure}");
    assert!(failure.to_string().contains("`$ref` cycle"), "{failure}");
}

#[test]
fn a_spec_that_does_not_load_is_named_once_per_message() {
    let mut spec = real_spec();
    spec["openapi"] = Value::from("3.1.0");
    let path = write_spec("openapi-3-1", &spec);
    let shown = path.display().to_string();

    let failure = generate::generate(&path).expect_err("3.1 is refused");

    assert_eq!(failure.stage, Stage::Load);
    let warning = failure.problems[0].to_string();
    assert_eq!(warning.matches(&shown).count(), 1, "{warning}");
    assert!(
        warning.contains("expected openapi 3.0.x, got 3.1.0"),
        "{warning}"
    );
    let summary = failure.to_string();
    assert_eq!(summary.matches(&shown).count(), 1, "{summary}");
}

#[test]
fn a_repeated_key_fails_at_loading_with_its_line_instead_of_panicking() {
    let text = std::fs::read_to_string(appmixer_spec::default_path()).expect("the spec reads");
    let repeated = text.replacen("paths:\n", "paths:\n  /x:\n    get: {}\n    get: {}\n", 1);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("repeated-key.yaml");
    std::fs::write(&path, repeated).unwrap();
    let line = text
        .lines()
        .position(|line| line == "paths:")
        .expect("the spec has paths")
        + 4;

    let failure = generate::generate(&path).expect_err("the key is repeated");

    assert_eq!(failure.stage, Stage::Load);
    let warning = failure.problems[0].to_string();
    assert!(warning.contains("duplicate key `get`"), "{warning}");
    assert!(warning.contains(&format!("line {line},")), "{warning}");
}
