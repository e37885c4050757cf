//! Loading fails with messages that say where and why.

use std::path::Path;

use appmixer_spec::{Spec, SpecError, SyntaxFormat};

#[test]
fn a_missing_file_names_its_path() {
    let path = Path::new("/nonexistent/dir/appmixer.yaml");

    let error = Spec::load(path).unwrap_err();

    assert!(matches!(error, SpecError::Read { .. }), "{error:?}");
    assert!(
        error.to_string().contains("/nonexistent/dir/appmixer.yaml"),
        "{error}"
    );
}

#[test]
fn a_yaml_syntax_error_gives_line_and_column() {
    let text = "openapi: 3.0.3\ninfo:\n  title: [unclosed\n";

    let error = Spec::parse(text).unwrap_err();

    let SpecError::Syntax {
        format,
        line,
        column,
        ..
    } = &error
    else {
        panic!("expected a syntax error, got {error:?}");
    };
    assert_eq!(*format, SyntaxFormat::Yaml);
    assert!(*line >= 3, "line {line}");
    assert!(*column >= 1, "column {column}");
    assert!(
        error
            .to_string()
            .contains(&format!("line {line}, column {column}")),
        "{error}"
    );
}

#[test]
fn a_json_syntax_error_gives_line_and_column() {
    let text = "{\n  \"openapi\": \"3.0.3\",\n  \"info\": {\"title\": \"t\",,}\n}";

    let error = Spec::parse(text).unwrap_err();

    let SpecError::Syntax {
        format,
        line,
        column,
        ..
    } = &error
    else {
        panic!("expected a syntax error, got {error:?}");
    };
    assert_eq!(*format, SyntaxFormat::Json);
    assert_eq!((*line, *column), (3, 25));
}

#[test]
fn openapi_3_1_is_refused_with_the_version_found() {
    let text = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n";

    let error = Spec::parse(text).unwrap_err();

    assert!(matches!(error, SpecError::Version { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("expected openapi 3.0.x, got 3.1.0"),
        "{error}"
    );
}

#[test]
fn swagger_2_is_recognised_as_such() {
    let text = "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n";

    let error = Spec::parse(text).unwrap_err();

    assert!(matches!(error, SpecError::Swagger2 { .. }), "{error:?}");
    assert!(error.to_string().contains("this is Swagger 2.0"), "{error}");
}

#[test]
fn a_document_without_a_version_says_so() {
    let text = "info: {title: t, version: '1'}\npaths: {}\n";

    let error = Spec::parse(text).unwrap_err();

    assert!(
        error
            .to_string()
            .contains("expected openapi 3.0.x, got a document without"),
        "{error}"
    );
}

#[test]
fn an_unquoted_numeric_version_asks_for_quotes() {
    let text = "openapi: 3.0\ninfo: {title: t, version: '1'}\npaths: {}\n";

    let error = Spec::parse(text).unwrap_err();

    assert!(error.to_string().contains("quote the version"), "{error}");
}

#[test]
fn a_field_of_the_wrong_shape_is_a_model_error_with_its_line() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses: 5\n";

    let error = Spec::parse(text).unwrap_err();

    assert!(matches!(error, SpecError::Model { .. }), "{error:?}");
    assert!(error.to_string().contains("line "), "{error}");
}

#[test]
fn the_file_path_is_the_origin_of_a_load_error() {
    let dir = std::env::temp_dir().join(format!("appmixer-spec-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.yaml");
    std::fs::write(
        &path,
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
    )
    .unwrap();

    let error = Spec::load(&path).unwrap_err();

    assert!(
        error.to_string().starts_with(&path.display().to_string()),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_and_yaml_texts_load_the_same_spec() {
    let yaml = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses:\n        '200': {description: ok}\n";
    let json = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "getX", "responses": {"200": {"description": "ok"}}}}}}"#;

    let from_yaml = Spec::parse(yaml).unwrap();
    let from_json = Spec::parse(json).unwrap();

    assert_eq!(from_yaml.document(), from_json.document());
    assert_eq!(from_json.operations()[0].id, "getX");
}

#[test]
fn unquoted_status_codes_in_yaml_load() {
    let yaml = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses:\n        200: {description: ok}\n";

    let spec = Spec::parse(yaml).unwrap();

    let responses = spec.operations()[0].responses().unwrap();
    assert_eq!(responses[0].status.to_string(), "200");
}

/// Asserts that `error` refuses the repeated `key` at `line`, naming both.
fn assert_duplicate(error: &SpecError, key: &str, line: usize) {
    let SpecError::DuplicateKey {
        key: found,
        line: found_line,
        ..
    } = error
    else {
        panic!("expected a duplicate key error, got {error:?}");
    };
    assert_eq!((found.as_str(), *found_line), (key, line), "{error}");
    let message = error.to_string();
    assert!(message.contains(&format!("`{key}`")), "{message}");
    assert!(message.contains(&format!("line {line}")), "{message}");
}

#[test]
fn a_repeated_operation_summary_is_refused_with_its_line() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n      summary: One.\n      summary: Two.\n      responses:\n        '200': {description: ok}\n";

    let error = Spec::parse(text).unwrap_err();

    assert_duplicate(&error, "summary", 8);
    assert!(error.to_string().contains("paths./x.get"), "{error}");
}

#[test]
fn a_repeated_schema_type_is_refused_with_its_line() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    Thing:\n      type: object\n      properties:\n        name: {type: string}\n      type: string\n";

    let error = Spec::parse(text).unwrap_err();

    assert_duplicate(&error, "type", 10);
}

#[test]
fn a_repeated_status_code_is_refused_even_when_quoted_differently() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses:\n        '200': {description: one}\n        200: {description: two}\n";

    let error = Spec::parse(text).unwrap_err();

    assert_duplicate(&error, "200", 9);
}

#[test]
fn a_repeated_key_in_json_is_refused_with_its_line() {
    let text = "{\"openapi\": \"3.0.3\",\n \"info\": {\"title\": \"t\", \"version\": \"1\"},\n \"paths\": {},\n \"paths\": {}}";

    let error = Spec::parse(text).unwrap_err();

    assert_duplicate(&error, "paths", 4);
}

#[test]
fn a_repeated_key_in_a_file_names_the_file() {
    let dir = std::env::temp_dir().join(format!("appmixer-spec-dup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("repeated.yaml");
    std::fs::write(
        &path,
        "openapi: 3.0.3\ninfo:\n  title: t\n  title: u\n  version: '1'\npaths: {}\n",
    )
    .unwrap();

    let error = Spec::load(&path).unwrap_err();

    assert_duplicate(&error, "title", 4);
    assert!(
        error.to_string().starts_with(&path.display().to_string()),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
