//! Turns `spec/appmixer.yaml` into the source of the typed client.
//!
//! The build script includes this file as a module and so does the test that
//! feeds it a broken spec, so both run exactly the same generation. It works in
//! two layers. First the spec crate's lints reject the shapes progenitor is
//! known not to support and the `$ref`s that point at nothing, naming the
//! operation. Then progenitor runs under `catch_unwind`: it panics on some
//! shapes (an `assert!` deep inside) instead of returning an error, and when
//! it does, every operation is generated alone to find the culprits, so the
//! build fails with their names instead of a bare panic message.
//!
//! Before generating, two equivalent rewrites of the in-memory spec (never of
//! the file) keep the generated types from losing data:
//! - an object schema that declares properties and `additionalProperties:
//!   true` is given `additionalProperties: {}` instead. The two mean the same,
//!   but typify drops unknown fields for `true` and keeps them in a flattened
//!   `extra` map for `{}`; a flow keeps whatever fields it was created with.
//! - an optional object or array property of a request body schema becomes
//!   nullable, so typify makes it an `Option` and an empty value (`{}`, `[]`)
//!   is sent instead of being skipped: `updateFlow` with `customFields: {}`
//!   clears a flow's custom fields, which is only possible if `{}` is sent.
//!
//! Two more leave a rule of the spec to the server, so that the generated API
//! stays plain:
//! - every `pattern` is dropped, on parameters (also on the items of a
//!   repeated one) and in schemas. typify would turn a string with a pattern
//!   into a newtype, and a repeated parameter such as `filter` into a `Vec` of
//!   newtypes, whose error is the regular expression that failed; without it
//!   the builders keep taking strings, and the server refuses a value that
//!   breaks the rule with a message that names what is wrong.
//! - an object schema whose `anyOf` branches only list `required` properties
//!   (`Credentials`: a username or an e-mail) loses the `anyOf`. typify would
//!   make the schema an untagged enum with one variant per branch; the
//!   builder of the one struct stays, and the server refuses a body that
//!   names neither property.
//!
//! `FlowDescriptor` is replaced by the hand-written `crate::FlowDescriptor`,
//! which keeps a descriptor exactly as the server sent it, and the client's
//! `inner` value is the hand-written `crate::Session`.
//!
//! After generating, the output is adjusted in four ways: the struct builders
//! of schemas with an `extra` map start with it empty instead of demanding it;
//! every generated struct that holds a secret (a field named `password`,
//! `token`, `secret`, `approver_secret` or `requester_secret`, or a newtype
//! named after one, such as `SignupPassword`) loses its derived `Debug` for
//! one that prints `[redacted]` in the secret's place, in `types`, in their
//! struct builders and in the operation builders alike, while the fields stay
//! plain strings for the builders and serde; a table of the operations sent without a token (`PUBLIC_OPERATIONS`, from
//! the spec's `security: []`) is appended; progenitor's `ignore` snippets in
//! the docs are marked `text`.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;

use openapiv3::{
    AdditionalProperties, AnySchema, Content, ObjectType, OpenAPI, Parameter, ParameterData,
    ParameterSchemaOrContent, PathItem, ReferenceOr, Schema, SchemaKind, Type,
};

/// The first lines of the generated file.
const HEADER: &str = "\
// Generated from spec/appmixer.yaml by crates/client/build.rs (progenitor 0.15.1).
// Do not edit: change the spec or crates/client/codegen/generate.rs and rebuild.
";

/// The hand-written type that stands in for the spec's `FlowDescriptor` schema.
const FLOW_DESCRIPTOR: (&str, &str) = ("FlowDescriptor", "crate::FlowDescriptor");

/// The type progenitor stores in `Client::inner`: the token and login state.
const INNER_TYPE: &str = "crate::Session";

/// One reason the spec could not be turned into code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The operation at fault, when the problem belongs to one.
    pub operation: Option<String>,
    /// Where in the spec, e.g. `POST /user`, or `components` for schemas.
    pub location: String,
    /// What is wrong, in the words of the lint or of progenitor.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.operation {
            Some(operation) => write!(
                f,
                "operation `{operation}` ({}): {}",
                self.location, self.message
            ),
            None if self.location.is_empty() => f.write_str(&self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

/// Which layer found the problems; the advice in the summary depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The spec file could not be read or parsed.
    Load,
    /// The spec crate's lints (progenitor subset, references) rejected the spec.
    Lint,
    /// Progenitor returned an error, panicked or produced invalid Rust.
    Progenitor,
    /// Progenitor's output no longer has the shape the adjustments expect.
    Adjust,
}

/// Why generation failed: every problem found, and where.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The spec that was being generated from.
    pub spec: PathBuf,
    /// The layer that found the problems.
    pub stage: Stage,
    /// Every problem, one per failing operation where they could be told apart.
    pub problems: Vec<Problem>,
}

impl Failure {
    fn new(spec: &Path, stage: Stage, problems: Vec<Problem>) -> Self {
        Self {
            spec: spec.to_path_buf(),
            stage,
            problems,
        }
    }

    /// The names of the failing operations, in spec order.
    pub fn operations(&self) -> Vec<&str> {
        self.problems
            .iter()
            .filter_map(|problem| problem.operation.as_deref())
            .collect()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spec = self.spec.display();
        let count = self.problems.len();
        let operations = self.operations();
        let culprits = if operations.is_empty() {
            String::from("no single operation could be blamed")
        } else {
            format!("failing operations: {}", operations.join(", "))
        };
        let advice = self.advice();
        // The summary names the spec already; a problem located at the
        // whole file is given without naming it again.
        let first = self
            .problems
            .first()
            .map(|problem| match &problem.operation {
                None if problem.location == spec.to_string() => problem.message.clone(),
                _ => problem.to_string(),
            })
            .unwrap_or_default();
        write!(
            f,
            "cannot generate the Appmixer client from {spec}: {count} problem(s) found by the \
             {stage} step ({culprits}); first: {first}. To fix it, {advice}, then build again.",
            stage = match self.stage {
                Stage::Load => "load",
                Stage::Lint => "spec lint",
                Stage::Progenitor => "progenitor",
                Stage::Adjust => "output adjustment",
            },
        )
    }
}

impl Failure {
    /// What to do about the problems, for the summary.
    fn advice(&self) -> &'static str {
        match self.stage {
            Stage::Load => "fix the file so that it parses as an OpenAPI 3.0 document",
            // Each lint message ends with what to change.
            Stage::Lint => "change the spec as each problem above says",
            Stage::Progenitor if self.problems.iter().any(is_missing_reference) => {
                "point every `$ref` at an entry that exists under `#/components`, or add the \
                 entry it names"
            }
            Stage::Progenitor => {
                "keep each operation inside what progenitor 0.15.1 generates (one success \
                 schema, `4XX`/`5XX` errors with the `BoomError` schema, no `default` response, \
                 one media type per request body)"
            }
            Stage::Adjust => "adapt crates/client/codegen/generate.rs to the new output",
        }
    }
}

/// Whether progenitor failed on a `$ref` to nothing: typify panics with
/// "$ref NAME is missing", progenitor with "key NAME is missing".
fn is_missing_reference(problem: &Problem) -> bool {
    let message = &problem.message;
    message.contains(" is missing") && (message.contains("$ref ") || message.contains("key "))
}

impl std::error::Error for Failure {}

/// Loads, lints and generates the spec at `spec_path`; returns the source of
/// the generated file, header included.
pub fn generate(spec_path: &Path) -> Result<String, Failure> {
    let spec = appmixer_spec::Spec::load(spec_path).map_err(|error| {
        Failure::new(
            spec_path,
            Stage::Load,
            vec![load_problem(spec_path, &error)],
        )
    })?;

    let lint: Vec<Problem> = appmixer_spec::lint::progenitor_subset(&spec)
        .into_iter()
        .chain(appmixer_spec::lint::references(&spec))
        .map(|problem| Problem {
            operation: problem.operation,
            location: problem.location,
            message: problem.message,
        })
        .collect();
    if !lint.is_empty() {
        return Err(Failure::new(spec_path, Stage::Lint, lint));
    }

    generate_from(spec_path, spec.openapi().clone())
}

/// The problem of a spec that does not load. The spec crate's messages name
/// the file already, so it is not named a second time.
fn load_problem(spec_path: &Path, error: &appmixer_spec::SpecError) -> Problem {
    let path = spec_path.display().to_string();
    let message = error.to_string();
    match message.strip_prefix(&format!("{path}: ")) {
        Some(rest) => Problem {
            operation: None,
            location: path,
            message: rest.to_owned(),
        },
        None if message.contains(&path) => Problem {
            operation: None,
            location: String::new(),
            message,
        },
        None => Problem {
            operation: None,
            location: path,
            message,
        },
    }
}

/// Generates from an already parsed spec without linting it first: the
/// progenitor layer alone. `spec_path` only names the spec in messages.
pub fn generate_from(spec_path: &Path, mut api: OpenAPI) -> Result<String, Failure> {
    drop_patterns(&mut api);
    drop_required_alternatives(&mut api);
    let open_schemas = keep_additional_properties(&mut api);
    send_empty_containers(&mut api);

    let mut file = run_progenitor(&api).map_err(|whole| {
        Failure::new(spec_path, Stage::Progenitor, blame_operations(&api, whole))
    })?;
    let patched = start_extra_empty(&mut file);
    if patched != open_schemas {
        let problem = Problem {
            operation: None,
            location: String::from("generated builders"),
            message: format!(
                "{open_schemas} schemas keep undeclared fields in `extra`, but {patched} \
                 struct builders were found to let it start empty: typify's output changed \
                 under `start_extra_empty`"
            ),
        };
        return Err(Failure::new(spec_path, Stage::Adjust, vec![problem]));
    }
    redact_secrets(&mut file.items)
        .and_then(|patched| check_redacted(&patched))
        .map_err(|message| {
            let problem = Problem {
                operation: None,
                location: String::from("generated Debug impls"),
                message,
            };
            Failure::new(spec_path, Stage::Adjust, vec![problem])
        })?;
    let table = syn::parse_file(&public_operations(&api))
        .expect("the table of public operations is valid Rust");
    file.items.extend(table.items);
    // progenitor's usage snippets in the docs use a `client` they do not
    // define; as `ignore` doctests they would be listed as ignored in every
    // test run, as `text` they are what they are, illustrations.
    let code = prettyplease::unparse(&file).replace("```ignore", "```text");
    Ok(format!("{HEADER}\n{code}"))
}

/// The settings every generation uses, the whole spec's and each isolated
/// operation's alike, so that isolation reproduces the same failure.
fn settings() -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_inner_type(INNER_TYPE.parse().expect("the inner type is a Rust path"))
        .with_replacement(FLOW_DESCRIPTOR.0, FLOW_DESCRIPTOR.1, std::iter::empty());
    settings
}

/// Runs progenitor on `api` and parses its output, turning an error, a panic
/// or unparsable output into a message.
fn run_progenitor(api: &OpenAPI) -> Result<syn::File, String> {
    let settings = settings();
    let outcome = quietly(|| progenitor::Generator::new(&settings).generate_tokens(api));
    let tokens = match outcome {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(error)) => return Err(format!("progenitor refused it: {error}")),
        Err(payload) => {
            return Err(format!("progenitor panicked: {}", panic_message(&*payload)));
        }
    };
    syn::parse2::<syn::File>(tokens)
        .map_err(|error| format!("progenitor produced code that does not parse: {error}"))
}

/// The table of operations that are sent without a token: those whose
/// `security` has no requirement but the empty one (`security: []`). An
/// operation that lists a scheme next to `{}` takes a token when there is one.
fn public_operations(api: &OpenAPI) -> String {
    let mut names = Vec::new();
    for item in api.paths.paths.values() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (_, operation) in item.iter() {
            let public = operation
                .security
                .as_ref()
                .is_some_and(|requirements| requirements.iter().all(|r| r.is_empty()));
            if let (true, Some(id)) = (public, &operation.operation_id) {
                names.push(format!("{:?}", snake_case(id)));
            }
        }
    }
    format!(
        "/// The operations (progenitor's snake_case ids) whose spec says `security: []`:\n\
         /// they are sent without a token.\n\
         pub(crate) const PUBLIC_OPERATIONS: &[&str] = &[{}];\n",
        names.join(", ")
    )
}

/// `getStoreRecordsCount` → `get_store_records_count`, as progenitor names
/// operations (in `OperationInfo` too) for ids without runs of capitals.
fn snake_case(id: &str) -> String {
    let mut out = String::with_capacity(id.len() + 4);
    for (index, c) in id.chars().enumerate() {
        if c.is_uppercase() && index > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Generates each operation alone to find which ones fail; when none fails
/// alone, the whole spec's failure is reported as it is.
fn blame_operations(api: &OpenAPI, whole: String) -> Vec<Problem> {
    let mut bare = api.clone();
    bare.paths.paths.clear();
    if let Err(message) = run_progenitor(&bare) {
        // The schemas alone already fail; isolating operations would blame
        // every one of them for it.
        return vec![Problem {
            operation: None,
            location: String::from("components"),
            message,
        }];
    }

    let mut problems = Vec::new();
    for (path, item) in &api.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, operation) in item.iter() {
            let mut alone = api.clone();
            alone.paths.paths.retain(|other, _| other == path);
            if let Some(ReferenceOr::Item(only)) = alone.paths.paths.get_mut(path) {
                keep_only_method(only, method);
            }
            if let Err(message) = run_progenitor(&alone) {
                problems.push(Problem {
                    operation: Some(
                        operation
                            .operation_id
                            .clone()
                            .unwrap_or_else(|| String::from("(no operationId)")),
                    ),
                    location: format!("{} {path}", method.to_uppercase()),
                    message,
                });
            }
        }
    }

    if problems.is_empty() {
        problems.push(Problem {
            operation: None,
            location: String::from("whole spec"),
            message: whole,
        });
    }
    problems
}

/// Removes every operation of `item` except the one for `method`.
fn keep_only_method(item: &mut PathItem, method: &str) {
    let slots = [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ];
    for (name, slot) in slots {
        if name != method {
            *slot = None;
        }
    }
}

/// Removes every `pattern` from the schemas of `api` (see the module docs).
fn drop_patterns(api: &mut OpenAPI) {
    let mut schemas: Vec<&mut ReferenceOr<Schema>> = Vec::new();
    let mut parameters: Vec<&mut ReferenceOr<Parameter>> = Vec::new();
    let mut contents: Vec<&mut Content> = Vec::new();
    if let Some(components) = api.components.as_mut() {
        schemas.extend(components.schemas.values_mut());
        parameters.extend(components.parameters.values_mut());
        for body in components.request_bodies.values_mut() {
            if let ReferenceOr::Item(body) = body {
                contents.push(&mut body.content);
            }
        }
        for response in components.responses.values_mut() {
            if let ReferenceOr::Item(response) = response {
                contents.push(&mut response.content);
            }
        }
    }
    for item in api.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        parameters.extend(item.parameters.iter_mut());
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            parameters.extend(operation.parameters.iter_mut());
            if let Some(ReferenceOr::Item(body)) = operation.request_body.as_mut() {
                contents.push(&mut body.content);
            }
            let responses = &mut operation.responses;
            let all = responses
                .default
                .iter_mut()
                .chain(responses.responses.values_mut());
            for response in all {
                if let ReferenceOr::Item(response) = response {
                    contents.push(&mut response.content);
                }
            }
        }
    }
    for parameter in parameters {
        if let ReferenceOr::Item(parameter) = parameter
            && let ParameterSchemaOrContent::Schema(schema) = &mut data_of(parameter).format
        {
            schemas.push(schema);
        }
    }
    for content in contents {
        schemas.extend(
            content
                .values_mut()
                .filter_map(|media| media.schema.as_mut()),
        );
    }
    for schema in schemas {
        if let ReferenceOr::Item(schema) = schema {
            drop_pattern(schema);
        }
    }
}

/// The name, schema and the rest of a parameter, wherever it is.
fn data_of(parameter: &mut Parameter) -> &mut ParameterData {
    match parameter {
        Parameter::Query { parameter_data, .. }
        | Parameter::Header { parameter_data, .. }
        | Parameter::Path { parameter_data, .. }
        | Parameter::Cookie { parameter_data, .. } => parameter_data,
    }
}

/// Removes the `pattern` of `schema` and of every schema inside it.
fn drop_pattern(schema: &mut Schema) {
    fn inner(schema: &mut ReferenceOr<Box<Schema>>) {
        if let ReferenceOr::Item(schema) = schema {
            drop_pattern(schema);
        }
    }
    fn each(schemas: &mut [ReferenceOr<Schema>]) {
        for schema in schemas {
            if let ReferenceOr::Item(schema) = schema {
                drop_pattern(schema);
            }
        }
    }
    fn additional(properties: &mut Option<AdditionalProperties>) {
        if let Some(AdditionalProperties::Schema(schema)) = properties
            && let ReferenceOr::Item(schema) = schema.as_mut()
        {
            drop_pattern(schema);
        }
    }
    match &mut schema.schema_kind {
        SchemaKind::Type(Type::String(string)) => string.pattern = None,
        SchemaKind::Type(Type::Object(object)) => {
            object.properties.values_mut().for_each(inner);
            additional(&mut object.additional_properties);
        }
        SchemaKind::Type(Type::Array(array)) => array.items.iter_mut().for_each(inner),
        SchemaKind::Type(_) => {}
        SchemaKind::OneOf { one_of: schemas }
        | SchemaKind::AllOf { all_of: schemas }
        | SchemaKind::AnyOf { any_of: schemas } => each(schemas),
        SchemaKind::Not { not } => {
            if let ReferenceOr::Item(schema) = not.as_mut() {
                drop_pattern(schema);
            }
        }
        SchemaKind::Any(any) => {
            any.pattern = None;
            any.properties.values_mut().for_each(inner);
            additional(&mut any.additional_properties);
            any.items.iter_mut().for_each(inner);
            each(&mut any.one_of);
            each(&mut any.all_of);
            each(&mut any.any_of);
            if let Some(not) = any.not.as_mut()
                && let ReferenceOr::Item(schema) = not.as_mut()
            {
                drop_pattern(schema);
            }
        }
    }
}

/// Makes every component object schema whose `anyOf` branches only require
/// properties a plain object schema (see the module docs).
fn drop_required_alternatives(api: &mut OpenAPI) {
    let Some(components) = api.components.as_mut() else {
        return;
    };
    for schema in components.schemas.values_mut() {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let SchemaKind::Any(any) = &schema.schema_kind else {
            continue;
        };
        if any.typ.as_deref() != Some("object")
            || any.any_of.is_empty()
            || !any.any_of.iter().all(only_requires)
        {
            continue;
        }
        schema.schema_kind = SchemaKind::Type(Type::Object(ObjectType {
            properties: any.properties.clone(),
            required: any.required.clone(),
            additional_properties: any.additional_properties.clone(),
            min_properties: any.min_properties,
            max_properties: any.max_properties,
        }));
    }
}

/// Whether `branch` is a schema that says nothing but which properties are
/// required.
fn only_requires(branch: &ReferenceOr<Schema>) -> bool {
    let ReferenceOr::Item(branch) = branch else {
        return false;
    };
    match &branch.schema_kind {
        SchemaKind::Any(any) => {
            let required = AnySchema {
                required: any.required.clone(),
                ..AnySchema::default()
            };
            !any.required.is_empty() && *any == required
        }
        _ => false,
    }
}

/// Gives `additionalProperties: {}` to every component object schema that has
/// properties and `additionalProperties: true`, so that typify keeps the
/// undeclared fields (see the module docs); returns how many it changed.
fn keep_additional_properties(api: &mut OpenAPI) -> usize {
    let mut changed = 0;
    let Some(components) = api.components.as_mut() else {
        return changed;
    };
    for schema in components.schemas.values_mut() {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        if let SchemaKind::Type(Type::Object(object)) = &mut schema.schema_kind {
            let permissive = matches!(
                object.additional_properties,
                Some(AdditionalProperties::Any(true))
            );
            if permissive && !object.properties.is_empty() {
                object.additional_properties = Some(AdditionalProperties::Schema(Box::new(
                    ReferenceOr::Item(Schema {
                        schema_data: Default::default(),
                        schema_kind: SchemaKind::Any(AnySchema::default()),
                    }),
                )));
                changed += 1;
            }
        }
    }
    changed
}

/// Lets the struct builders of schemas with an `extra` map start with it
/// empty; returns how many builders it changed.
///
/// typify treats the flattened `extra` map as a required field, so that
/// `types::FlowCreate::builder().name("…")` would fail with "no value supplied
/// for extra" unless every caller added `.extra(Default::default())`. The
/// builders live in `types::builder`, each with an `impl Default` whose body
/// is a struct expression listing the initial value of every field.
fn start_extra_empty(file: &mut syn::File) -> usize {
    let mut patched = 0;
    let empty: syn::Expr =
        syn::parse_str("Ok(Default::default())").expect("a valid Rust expression");
    for builder_impl in module_items(&mut file.items, &["types", "builder"]) {
        let syn::Item::Impl(builder_impl) = builder_impl else {
            continue;
        };
        let is_default = builder_impl
            .trait_
            .as_ref()
            .and_then(|(_, path, _)| path.segments.last())
            .is_some_and(|segment| segment.ident == "Default");
        if !is_default {
            continue;
        }
        for item in &mut builder_impl.items {
            let syn::ImplItem::Fn(function) = item else {
                continue;
            };
            for statement in &mut function.block.stmts {
                let syn::Stmt::Expr(syn::Expr::Struct(initial), None) = statement else {
                    continue;
                };
                for field in &mut initial.fields {
                    if matches!(&field.member, syn::Member::Named(name) if name == "extra") {
                        field.expr = empty.clone();
                        patched += 1;
                    }
                }
            }
        }
    }
    patched
}

/// The names of generated fields that hold a secret.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "token",
    "secret",
    "approver_secret",
    "requester_secret",
];

/// The endings of the names of generated newtypes that hold a secret.
const SECRET_NEWTYPES: &[&str] = &["Password", "Secret", "Token"];

/// The spec's types that must come out with a redacting `Debug`: if typify
/// renamed a field or a type, the build fails instead of printing a secret.
const MUST_REDACT: &[&str] = &[
    "types::Authentication",
    "types::SignupResult",
    "types::Credentials",
    "types::Signup",
    "types::SignupPassword",
    "types::AccountCreate",
    "types::PeopleTask",
    "types::Decision",
    "types::builder::Credentials",
    "types::builder::Signup",
    "builder::GetPeopleTasks",
];

/// Replaces the derived `Debug` of every struct among `items` (and in their
/// modules) that holds a secret with one that prints `[redacted]` for it;
/// returns the paths of the structs it changed, e.g. `types::Signup`.
fn redact_secrets(items: &mut Vec<syn::Item>) -> Result<Vec<String>, String> {
    let mut patched = Vec::new();
    redact_in(items, "", &mut patched)?;
    Ok(patched)
}

fn redact_in(
    items: &mut Vec<syn::Item>,
    module: &str,
    patched: &mut Vec<String>,
) -> Result<(), String> {
    let mut impls = Vec::new();
    for item in items.iter_mut() {
        match item {
            syn::Item::Mod(inner) => {
                if let Some((_, content)) = inner.content.as_mut() {
                    let path = format!("{module}{}::", inner.ident);
                    redact_in(content, &path, patched)?;
                }
            }
            syn::Item::Struct(structure) => {
                let Some(secrets) = secret_fields(structure) else {
                    continue;
                };
                if !drop_derived_debug(structure)? {
                    continue;
                }
                impls.push(redacting_debug(structure, &secrets)?);
                patched.push(format!("{module}{}", structure.ident));
            }
            _ => {}
        }
    }
    items.extend(impls);
    Ok(())
}

/// Which fields of `structure` to redact (by name, or `0` for a newtype's
/// value), or `None` when it holds no secret.
fn secret_fields(structure: &syn::ItemStruct) -> Option<Vec<String>> {
    match &structure.fields {
        syn::Fields::Named(fields) => {
            let secrets: Vec<String> = fields
                .named
                .iter()
                .filter_map(|field| field.ident.as_ref().map(ToString::to_string))
                .filter(|name| SECRET_FIELDS.contains(&name.as_str()))
                .collect();
            (!secrets.is_empty()).then_some(secrets)
        }
        syn::Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
            let name = structure.ident.to_string();
            SECRET_NEWTYPES
                .iter()
                .any(|ending| name.ends_with(ending))
                .then(|| vec![String::from("0")])
        }
        _ => None,
    }
}

/// Removes `Debug` from the derives of `structure`; returns whether it was
/// there.
fn drop_derived_debug(structure: &mut syn::ItemStruct) -> Result<bool, String> {
    use syn::parse::Parser;

    let mut found = false;
    for attribute in &mut structure.attrs {
        if !attribute.path().is_ident("derive") {
            continue;
        }
        let derives = attribute
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .map_err(|error| format!("a derive of `{}`: {error}", structure.ident))?;
        let kept: Vec<String> = derives
            .iter()
            .filter(|path| {
                let debug = path
                    .segments
                    .last()
                    .is_some_and(|last| last.ident == "Debug");
                found |= debug;
                !debug
            })
            .map(path_text)
            .collect();
        let rebuilt = format!("#[derive({})]", kept.join(", "));
        let mut parsed = syn::Attribute::parse_outer
            .parse_str(&rebuilt)
            .map_err(|error| format!("rebuilding `{rebuilt}`: {error}"))?;
        *attribute = parsed.remove(0);
    }
    Ok(found)
}

/// `::serde::Serialize` for the path of a derive.
fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    let lead = if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    format!("{lead}{}", segments.join("::"))
}

/// A `Debug` impl for `structure` that prints `[redacted]` for `secrets`.
fn redacting_debug(structure: &syn::ItemStruct, secrets: &[String]) -> Result<syn::Item, String> {
    let name = structure.ident.to_string();
    let mut lifetimes = Vec::new();
    for parameter in &structure.generics.params {
        let syn::GenericParam::Lifetime(lifetime) = parameter else {
            return Err(format!(
                "`{name}` holds a secret and has a type parameter; only lifetimes are handled"
            ));
        };
        lifetimes.push(format!("'{}", lifetime.lifetime.ident));
    }
    let generics = if lifetimes.is_empty() {
        String::new()
    } else {
        format!("<{}>", lifetimes.join(", "))
    };
    let shown = |field: &str| {
        if secrets.iter().any(|secret| secret == field) {
            String::from("&::std::format_args!(\"[redacted]\")")
        } else {
            format!("&self.{field}")
        }
    };
    let body = match &structure.fields {
        syn::Fields::Named(fields) => {
            let fields: String = fields
                .named
                .iter()
                .filter_map(|field| field.ident.as_ref().map(ToString::to_string))
                .map(|field| format!(".field({field:?}, {})", shown(&field)))
                .collect();
            format!("f.debug_struct({name:?}){fields}.finish()")
        }
        _ => format!("f.debug_tuple({name:?}).field({}).finish()", shown("0")),
    };
    let code = format!(
        "/// Prints `[redacted]` in place of the secret.\n\
         impl{generics} ::std::fmt::Debug for {name}{generics} {{\n\
             fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {{\n\
                 {body}\n\
             }}\n\
         }}\n"
    );
    syn::parse_str(&code).map_err(|error| format!("the Debug impl of `{name}`: {error}"))
}

/// Fails unless every type in [`MUST_REDACT`] is among `patched`.
fn check_redacted(patched: &[String]) -> Result<(), String> {
    let missing: Vec<&str> = MUST_REDACT
        .iter()
        .copied()
        .filter(|name| !patched.iter().any(|done| done == name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "no secret field was found to redact in {}: typify's output changed under \
         `redact_secrets`, adapt its field names",
        missing.join(", ")
    ))
}

/// The items of the module at `path` (e.g. `types::builder`) among `items`.
fn module_items<'a>(items: &'a mut [syn::Item], path: &[&str]) -> Vec<&'a mut syn::Item> {
    let Some((first, rest)) = path.split_first() else {
        return items.iter_mut().collect();
    };
    for item in items {
        if let syn::Item::Mod(module) = item
            && module.ident == first
            && let Some((_, content)) = module.content.as_mut()
        {
            return module_items(content, rest);
        }
    }
    Vec::new()
}

/// Makes the optional inline object and array properties of request body
/// schemas nullable, so that an empty value is sent (see the module docs).
fn send_empty_containers(api: &mut OpenAPI) {
    let mut bodies: Vec<String> = Vec::new();
    for item in api.paths.paths.values() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (_, operation) in item.iter() {
            let Some(ReferenceOr::Item(body)) = &operation.request_body else {
                continue;
            };
            for media in body.content.values() {
                if let Some(ReferenceOr::Reference { reference }) = &media.schema
                    && let Some(name) = reference.strip_prefix("#/components/schemas/")
                {
                    bodies.push(name.to_string());
                }
            }
        }
    }

    let Some(components) = api.components.as_mut() else {
        return;
    };
    for name in bodies {
        let Some(ReferenceOr::Item(schema)) = components.schemas.get_mut(&name) else {
            continue;
        };
        let SchemaKind::Type(Type::Object(object)) = &mut schema.schema_kind else {
            continue;
        };
        for (property, schema) in object.properties.iter_mut() {
            if object.required.contains(property) {
                continue;
            }
            if let ReferenceOr::Item(schema) = schema
                && matches!(
                    schema.schema_kind,
                    SchemaKind::Type(Type::Object(_) | Type::Array(_))
                )
            {
                schema.schema_data.nullable = true;
            }
        }
    }
}

thread_local! {
    /// Whether the current thread is running progenitor and its panics are
    /// expected, caught and reported, so the default hook must stay quiet.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, catching a panic without printing it. Other threads' panics are
/// printed as usual: the hook is silenced only for the calling thread.
fn quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });

    QUIET.with(|quiet| quiet.set(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|quiet| quiet.set(false));
    outcome
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        String::from("(a panic without a message)")
    }
}
