//! JSON objects kept as the text that answers them.
//!
//! A flow is read far more often than it changes, and its descriptor is
//! most of what the server holds, so it is kept as compact JSON text (the
//! bytes serde_json writes for the object, key order included) beside where
//! each top-level field's value sits in it. Answering the whole object
//! shares that buffer; a projection, a filter or a copy walks the text and
//! copies the values it keeps as they are; a change writes the text anew
//! once, copying the fields it leaves alone.
//!
//! Values are copied as text, never parsed and written again, because
//! serde_json's default float parsing does not always give back the number
//! it wrote: a value read twice could answer a different last digit. Only
//! strings and the components' ids and types are ever parsed out of a text.
//!
//! Every operation answers what the same operation on the parsed
//! `serde_json` object answers, byte for byte: the tests hold the two side
//! by side.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use axum::body::Bytes;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::query::Projection;

/// A JSON object as its text and the place of each top-level field.
#[derive(Debug, Clone)]
pub struct Document {
    /// `{"key":value,…}`, as serde_json writes the object.
    text: Bytes,
    /// The top-level fields, in the text's order.
    fields: Box<[Field]>,
}

/// One top-level field: its key, decoded, and where its value's text is.
#[derive(Debug, Clone)]
struct Field {
    key: Box<str>,
    value: Range<usize>,
}

impl Document {
    /// The document of `object`.
    pub fn new(object: &Map<String, Value>) -> Self {
        let mut builder = Builder::default();
        for (key, value) in object {
            builder.set(key, value);
        }
        builder.build()
    }

    /// The top-level fields, in order, as `(key, value's JSON text)`.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields
            .iter()
            .map(|field| (&*field.key, &self.text[field.value.clone()]))
    }

    /// Whether the object has a field `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.text_of(key).is_some()
    }

    /// The value of field `key`, parsed.
    ///
    /// Parsing a number may not give back the number written (see the
    /// module's documentation), so this is for reading strings, lists and
    /// objects of strings.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.text_of(key).map(|text| {
            serde_json::from_slice(text).expect("a document's text is JSON that serde_json wrote")
        })
    }

    /// The JSON text of the value at a dotted `path`, if each step is an
    /// object that has it.
    pub fn lookup(&self, path: &[String]) -> Option<&[u8]> {
        let (first, rest) = path.split_first()?;
        let mut value = self.text_of(first)?;
        for step in rest {
            value = object_fields(value)?
                .into_iter()
                .find(|(key, _)| key == step)?
                .1;
        }
        Some(value)
    }

    /// The document with `changes` made in turn, as on a parsed object: a
    /// value replaces the field's value in its place, or adds the field
    /// last; `None` removes the field.
    pub fn changed(&self, changes: &[(String, Option<Value>)]) -> Self {
        let mut builder = Builder::default();
        for (key, text) in self.fields() {
            builder.set_text(key, text);
        }
        for (key, change) in changes {
            match change {
                Some(value) => builder.set(key, value),
                None => builder.remove(key),
            }
        }
        builder.build()
    }

    /// The JSON text of the object `projection` keeps; `identity` always stays.
    pub fn project(&self, projection: &Projection, identity: &str) -> Bytes {
        match projection {
            Projection::All => self.text.clone(),
            _ => project(self.fields(), projection, identity),
        }
    }

    fn text_of(&self, key: &str) -> Option<&[u8]> {
        self.fields()
            .find(|(field, _)| *field == key)
            .map(|(_, text)| text)
    }
}

/// The JSON text of the object of `fields` (keys and JSON texts) that
/// `projection` keeps; `identity` always stays.
pub fn project<'a>(
    mut fields: impl Iterator<Item = (&'a str, &'a [u8])>,
    projection: &Projection,
    identity: &str,
) -> Bytes {
    let mut builder = Builder::default();
    match projection {
        Projection::All => {
            for (key, text) in fields {
                builder.set_text(key, text);
            }
        }
        Projection::Include(paths) => {
            let paths: Vec<&[String]> = paths.iter().map(Vec::as_slice).collect();
            include(&mut builder, &mut fields, &paths, Some(identity));
        }
        Projection::Exclude(paths) => {
            let paths: Vec<&[String]> = paths.iter().map(Vec::as_slice).collect();
            exclude(&mut builder, &mut fields, &paths, Some(identity));
        }
    }
    builder.text()
}

/// Puts the fields that `paths` name, and `identity`, into `builder`,
/// looking into an object for a longer path.
fn include<'a>(
    builder: &mut Builder<'a>,
    fields: &mut dyn Iterator<Item = (&'a str, &'a [u8])>,
    paths: &[&[String]],
    identity: Option<&str>,
) {
    for (key, text) in fields {
        let (whole, inner) = named(paths, key);
        if whole || Some(key) == identity {
            builder.set_text(key, text);
        } else if !inner.is_empty()
            && let Some(nested) = object_fields(text)
        {
            let mut kept = Builder::default();
            include(
                &mut kept,
                &mut nested.iter().map(|(key, text)| (key.as_str(), *text)),
                &inner,
                None,
            );
            builder.set_owned(key, kept.text());
        }
    }
}

/// Puts every field but those `paths` name into `builder`, looking into an
/// object for a longer path; `identity` stays.
fn exclude<'a>(
    builder: &mut Builder<'a>,
    fields: &mut dyn Iterator<Item = (&'a str, &'a [u8])>,
    paths: &[&[String]],
    identity: Option<&str>,
) {
    for (key, text) in fields {
        let (whole, inner) = named(paths, key);
        if whole && Some(key) != identity {
            continue;
        }
        match object_fields(text).filter(|_| !inner.is_empty()) {
            Some(nested) => {
                let mut kept = Builder::default();
                exclude(
                    &mut kept,
                    &mut nested.iter().map(|(key, text)| (key.as_str(), *text)),
                    &inner,
                    None,
                );
                builder.set_owned(key, kept.text());
            }
            None => builder.set_text(key, text),
        }
    }
}

/// Whether one of `paths` is `key` itself, and the rest of those that go
/// on inside it.
fn named<'p>(paths: &[&'p [String]], key: &str) -> (bool, Vec<&'p [String]>) {
    let mut whole = false;
    let mut inner = Vec::new();
    for path in paths {
        match path.split_first() {
            Some((first, [])) if first == key => whole = true,
            Some((first, rest)) if first == key => inner.push(rest),
            _ => {}
        }
    }
    (whole, inner)
}

/// The fields of `text`, in order, as `(key, value's JSON text)`, when it
/// is the text of an object.
pub fn object_fields(text: &[u8]) -> Option<Vec<(String, &[u8])>> {
    if text.first() != Some(&b'{') {
        return None;
    }
    let RawFields(fields) = serde_json::from_slice(text).ok()?;
    Some(
        fields
            .into_iter()
            .map(|(key, value)| (key, value.get().as_bytes()))
            .collect(),
    )
}

/// An object's fields with their values as text, in order.
struct RawFields<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for RawFields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;

        impl<'de> Visitor<'de> for Fields {
            type Value = RawFields<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    fields.push((key, map.next_value()?));
                }
                Ok(RawFields(fields))
            }
        }

        deserializer.deserialize_map(Fields)
    }
}

/// The value of a field to write.
#[derive(Debug, Clone)]
enum Piece<'a> {
    /// JSON text, copied as it is.
    Text(&'a [u8]),
    /// JSON text this builder made.
    Owned(Bytes),
    /// A value, written by serde_json.
    Value(&'a Value),
}

/// A JSON object put together field by field, with the rules of inserting
/// into a parsed object: setting a key that is there replaces its value in
/// its place, a new key goes last.
#[derive(Debug, Default)]
pub struct Builder<'a> {
    /// The fields in order; a removed one leaves a hole.
    pieces: Vec<Option<(&'a str, Piece<'a>)>>,
    /// Where each present key is in `pieces`.
    places: HashMap<&'a str, usize>,
}

impl<'a> Builder<'a> {
    /// Sets `key` to `value`.
    pub fn set(&mut self, key: &'a str, value: &'a Value) {
        self.put(key, Piece::Value(value));
    }

    /// Sets `key` to the string `text`.
    pub fn set_str(&mut self, key: &'a str, text: &str) {
        let json = serde_json::to_vec(text).expect("a string always serializes");
        self.set_owned(key, Bytes::from(json));
    }

    /// Sets `key` to the value whose JSON text is `text`.
    pub fn set_text(&mut self, key: &'a str, text: &'a [u8]) {
        self.put(key, Piece::Text(text));
    }

    /// Removes `key`, if present.
    pub fn remove(&mut self, key: &str) {
        if let Some(place) = self.places.remove(key) {
            self.pieces[place] = None;
        }
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.places.contains_key(key)
    }

    /// The string value of `key`, if it is one.
    pub fn string(&self, key: &str) -> Option<String> {
        let (_, piece) = self.pieces[*self.places.get(key)?].as_ref()?;
        match piece {
            Piece::Value(value) => value.as_str().map(str::to_owned),
            Piece::Text(text) => serde_json::from_slice(text).ok(),
            Piece::Owned(text) => serde_json::from_slice(text).ok(),
        }
    }

    /// The document of the fields set.
    pub fn build(self) -> Document {
        let mut fields = Vec::with_capacity(self.places.len());
        let text = self.write(|key, value| {
            fields.push(Field {
                key: key.into(),
                value,
            });
        });
        Document {
            // Kept for as long as the document lives: no spare capacity.
            text: Bytes::from(text.into_boxed_slice()),
            fields: fields.into_boxed_slice(),
        }
    }

    /// The JSON text of the fields set.
    pub fn text(self) -> Bytes {
        Bytes::from(self.write(|_, _| {}))
    }

    /// Writes the object as serde_json's compact writer does, telling
    /// `written` each key and where its value's text is.
    fn write(self, mut written: impl FnMut(&str, Range<usize>)) -> Vec<u8> {
        let mut text = Vec::new();
        for (key, piece) in self.pieces.into_iter().flatten() {
            text.push(if text.is_empty() { b'{' } else { b',' });
            serde_json::to_writer(&mut text, key).expect("a string always serializes");
            text.push(b':');
            let start = text.len();
            match piece {
                Piece::Text(value) => text.extend_from_slice(value),
                Piece::Owned(value) => text.extend_from_slice(&value),
                Piece::Value(value) => {
                    serde_json::to_writer(&mut text, value).expect("a JSON value always serializes")
                }
            }
            written(key, start..text.len());
        }
        if text.is_empty() {
            text.push(b'{');
        }
        text.push(b'}');
        text
    }

    fn set_owned(&mut self, key: &'a str, text: Bytes) {
        self.put(key, Piece::Owned(text));
    }

    fn put(&mut self, key: &'a str, piece: Piece<'a>) {
        match self.places.get(key) {
            Some(&place) => self.pieces[place] = Some((key, piece)),
            None => {
                self.places.insert(key, self.pieces.len());
                self.pieces.push(Some((key, piece)));
            }
        }
    }
}

/// The text of the JSON array of `items`, each a JSON text.
pub fn array(items: &[Bytes]) -> Bytes {
    let length = items.iter().map(|item| item.len() + 1).sum::<usize>() + 1;
    let mut text = Vec::with_capacity(length);
    text.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            text.push(b',');
        }
        text.extend_from_slice(item);
    }
    text.push(b']');
    Bytes::from(text)
}

/// An answer whose JSON text is already written, sent as `application/json`
/// like axum's `Json`.
#[derive(Debug, Clone)]
pub struct JsonText(pub Bytes);

impl IntoResponse for JsonText {
    fn into_response(self) -> Response {
        (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.0,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::errors::Source;
    use crate::query::Filter;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            other => panic!("not an object: {other}"),
        }
    }

    fn flow() -> Map<String, Value> {
        object(json!({
            "flowId": "f-1",
            "name": "Orders \"daily\" — é",
            "flow": {
                "c1": { "type": "appmixer.slack.list.Send", "x": 10, "config": { "ratio": 0.1 } },
                "c2": { "type": "appmixer.utils.controls.OnStart", "source": {} }
            },
            "customFields": { "category": "crm", "n": 2, "ok": true, "none": null, "deep": { "a": 1 } },
            "sharedWith": [{ "email": "a@example.com", "permissions": ["read"] }],
            "key \"quoted\"\n": -12.5e-3,
            "big": 18446744073709551615u64,
            "stage": "stopped"
        }))
    }

    fn projection(raw: &str) -> Projection {
        Projection::parse(raw, "projection", Source::Query).unwrap()
    }

    fn text(map: &Map<String, Value>) -> Vec<u8> {
        serde_json::to_vec(map).unwrap()
    }

    /// A number that serde_json's default parser reads back as its neighbour.
    /// With the `float_roundtrip` feature, which a workspace build unifies in
    /// through `jsonschema`, it reads back exactly; the tests that use it
    /// still pin the copy to the written text, and in a build of this crate
    /// alone they also catch a value read back instead of copied.
    fn unstable_float() -> Value {
        Value::from("1.0715660391465826e-75".parse::<f64>().unwrap())
    }

    #[test]
    fn a_document_is_the_text_serde_json_writes_for_the_object() {
        let flow = flow();

        let document = Document::new(&flow);

        assert_eq!(
            &document.project(&Projection::All, "flowId")[..],
            text(&flow)
        );
        assert_eq!(
            &*Document::new(&Map::new()).project(&Projection::All, "id"),
            b"{}"
        );
        for (key, value) in &flow {
            assert_eq!(document.get(key).as_ref(), Some(value), "{key}");
        }
        assert_eq!(document.get("missing"), None);
    }

    #[test]
    fn changes_replace_in_place_add_last_and_remove_like_a_parsed_object() {
        let mut expected = flow();
        let changes = vec![
            ("name".to_owned(), Some(json!("renamed"))),
            ("mtime".to_owned(), Some(json!("2024-01-01T00:00:00.000Z"))),
            ("customFields".to_owned(), None),
            ("absent".to_owned(), None),
            ("customFields".to_owned(), Some(json!({ "back": "last" }))),
            ("flowId".to_owned(), Some(json!("f-1"))),
        ];

        let document = Document::new(&expected).changed(&changes);

        for (key, change) in changes {
            match change {
                Some(value) => {
                    expected.insert(key, value);
                }
                None => {
                    expected.shift_remove(&key);
                }
            }
        }
        assert_eq!(
            &document.project(&Projection::All, "flowId")[..],
            text(&expected)
        );
        assert_eq!(
            document.get("mtime"),
            Some(json!("2024-01-01T00:00:00.000Z"))
        );
    }

    #[test]
    fn projections_answer_what_projecting_the_parsed_object_answers() {
        let flow = flow();
        let document = Document::new(&flow);
        let projections = [
            "name",
            "name,customFields.category",
            "-flow,-sharedWith,-flowId",
            "flowId",
            "customFields.deep.a,flow.c1.config",
            "-customFields.deep.a,-name",
            "flow.c1.type,flow.c2.type",
            "stage,missing",
            "-missing.deep,-stage.inside",
            "flowId.inside,name.inside",
            "-flowId.inside",
            "customFields,customFields.n",
            "-customFields.n,-customFields",
            "sharedWith.email",
        ];

        for raw in projections {
            let projection = projection(raw);

            let answered = document.project(&projection, "flowId");

            let expected = text(&projection.apply(&flow, "flowId"));
            assert_eq!(
                String::from_utf8_lossy(&answered),
                String::from_utf8_lossy(&expected),
                "{raw}"
            );
        }
    }

    #[test]
    fn a_projection_copies_numbers_as_written_without_reading_them_again() {
        let flow = object(json!({ "id": 1, "a": { "x": unstable_float(), "y": 2 }, "b": 3 }));
        let document = Document::new(&flow);

        for raw in ["a.x", "-a.y,-b"] {
            let projection = projection(raw);

            let answered = document.project(&projection, "id");

            assert_eq!(answered, text(&projection.apply(&flow, "id")), "{raw}");
        }
    }

    #[test]
    fn a_filter_on_the_text_matches_as_on_the_parsed_object() {
        let flow = flow();
        let document = Document::new(&flow);
        let filters = [
            "customFields.category:crm",
            "customFields.category:!crm",
            "customFields.n:2",
            "customFields.n:2.0",
            "customFields.ok:true",
            "customFields.none:null",
            "customFields.deep:{}",
            "customFields.deep.a:1",
            "customFields.missing:x",
            "customFields.missing:!x",
            "name:Orders \"daily\" — é",
            "key \"quoted\"\n:-0.0125",
            "big:18446744073709551615",
            "sharedWith.email:a@example.com",
            "flow.c1.type:appmixer.slack.list.Send",
            "stage.inside:x",
        ];

        for raw in filters {
            let filter = Filter::parse(raw).unwrap();

            let found = document.lookup(filter.path());

            assert_eq!(filter.matches_json(found), filter.matches(&flow), "{raw}");
        }
    }

    #[test]
    fn a_built_object_follows_the_rules_of_inserting_into_a_parsed_object() {
        let (one, two) = (json!(1), json!([2]));
        let mut builder = Builder::default();

        builder.set("a", &one);
        builder.set_text("b", b"\"text\"");
        builder.set("a", &two);
        builder.remove("b");
        builder.set("c", &one);
        builder.set_text("b", b"{}");

        assert!(builder.contains("a") && !builder.contains("d"));
        assert_eq!(builder.string("a"), None);
        assert_eq!(&*builder.text(), br#"{"a":[2],"c":1,"b":{}}"#);
    }

    #[test]
    fn an_array_joins_the_texts_of_its_items() {
        let items = [Bytes::from_static(b"{}"), Bytes::from_static(b"[1]")];

        assert_eq!(&*array(&items), b"[{},[1]]");
        assert_eq!(&*array(&[]), b"[]");
    }

    /// JSON values over a few keys, so that paths often meet them.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |n| n.is_finite())
                .prop_map(Value::from),
            "[a-c\"\\\\é\n]{0,3}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::vec((key(), inner), 0..4)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["a", "b", "c", "id", "k\"é"]).prop_map(str::to_owned)
    }

    fn document() -> impl Strategy<Value = Map<String, Value>> {
        prop::collection::vec((key(), value()), 0..6)
            .prop_map(|fields| fields.into_iter().collect())
    }

    fn path() -> impl Strategy<Value = String> {
        prop::collection::vec(key(), 1..4).prop_map(|steps| steps.join("."))
    }

    proptest! {
        #[test]
        fn any_projection_answers_what_projecting_the_parsed_object_answers(
            object in document(),
            paths in prop::collection::vec(path(), 1..4),
            leave_out in any::<bool>(),
        ) {
            let sign = if leave_out { "-" } else { "" };
            let raw: Vec<String> = paths.iter().map(|path| format!("{sign}{path}")).collect();
            let projection = projection(&raw.join(","));

            let answered = Document::new(&object).project(&projection, "id");

            prop_assert_eq!(answered, text(&projection.apply(&object, "id")));
        }

        #[test]
        fn any_changes_give_the_text_of_the_changed_parsed_object(
            mut object in document(),
            changes in prop::collection::vec((key(), prop::option::of(value())), 0..6),
        ) {
            let document = Document::new(&object).changed(&changes);

            for (key, change) in changes {
                match change {
                    Some(value) => {
                        object.insert(key, value);
                    }
                    None => {
                        object.shift_remove(&key);
                    }
                }
            }
            prop_assert_eq!(document.project(&Projection::All, "id"), text(&object));
        }

        #[test]
        fn any_filter_on_the_text_matches_as_on_the_parsed_object(
            object in document(),
            path in path(),
            found in value(),
            negated in any::<bool>(),
        ) {
            // The expected text is often one the document holds.
            let expected = match &found {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let bang = if negated { "!" } else { "" };
            let filter = Filter::parse(&format!("{path}:{bang}{expected}")).unwrap();
            let mut object = object;
            if let Some(first) = filter.path().first() {
                object.insert(first.clone(), nest(&filter.path()[1..], found));
            }

            let found = Document::new(&object).lookup(filter.path()).map(<[u8]>::to_vec);

            prop_assert_eq!(filter.matches_json(found.as_deref()), filter.matches(&object));
        }
    }

    /// `value` under the dotted `path`.
    fn nest(path: &[String], value: Value) -> Value {
        path.iter().rev().fold(value, |inner, key| {
            Value::Object([(key.clone(), inner)].into_iter().collect())
        })
    }
}
