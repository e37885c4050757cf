//! Proptest strategies for flow descriptors.
//!
//! A generated descriptor looks like the ones Appmixer's editor writes: an
//! object keyed by component id (UUIDs and slugs), each component with a
//! `type` of the form `appmixer.<connector>[.<module>].<Component>`, integer
//! `x`/`y`, a `source` that wires its input ports to output ports of other
//! components of the same descriptor, and optionally a `label`, a `version`
//! and a `config` whose `properties` and `transform` hold nested JSON. The
//! strings are chosen to trip careless storage: characters outside the Basic
//! Multilingual Plane, combining marks, every kind of whitespace, escaped
//! JSON and long runs.
//!
//! Generation is reproducible: [`generate`] drives proptest's [`TestRunner`]
//! with an RNG seeded from `--seed`, so a seed names the same descriptors on
//! every machine.

use std::sync::atomic::{AtomicBool, Ordering};

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Value};

use crate::pattern::pattern;

/// The largest integer JSON can carry between all implementations
/// unharmed (2^53 - 1, RFC 8259 section 6).
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// Pieces that strings are built from, each a known trap for storage.
const TRICKY_FRAGMENTS: &[&str] = &[
    "𝄞",
    "😀",
    "👩\u{200d}💻",
    "🇨🇿",
    "𠜎",
    "e\u{301}",
    "a\u{308}\u{323}",
    "ž",
    "日本",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\u{a0}",
    "\u{2028}",
    "\u{3000}",
    "\"",
    "\\",
    "{\"a\":[1,2]}",
    "</script>",
    "{{{",
    "}}}",
];

/// One pair of descriptors for a create-then-update round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct DescriptorCase {
    /// The descriptor sent with `createFlow`.
    pub created: Value,
    /// The descriptor sent with `updateFlow`.
    pub updated: Value,
}

/// `cases` descriptor pairs, the same for the same `seed`.
pub fn generate(seed: u64, cases: u32) -> Vec<DescriptorCase> {
    generate_while(seed, cases, &AtomicBool::new(true))
}

/// The first of [`generate`]'s pairs, drawn for as long as `wanted` is set:
/// a run that ends before its descriptor phase clears it, and the thread
/// drawing them stops at the next pair instead of drawing the rest for
/// nothing.
pub fn generate_while(seed: u64, cases: u32, wanted: &AtomicBool) -> Vec<DescriptorCase> {
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = (descriptor(), descriptor());
    (0..cases)
        .take_while(|_| wanted.load(Ordering::Relaxed))
        .map(|_| {
            let (created, updated) = strategy
                .new_tree(&mut runner)
                .expect("descriptor strategies never reject a case")
                .current();
            DescriptorCase { created, updated }
        })
        .collect()
}

/// A whole flow descriptor with 1 to 8 components.
pub fn descriptor() -> impl Strategy<Value = Value> {
    proptest::collection::btree_set(component_id(), 1..8)
        .prop_flat_map(|ids| {
            let ids: Vec<String> = ids.into_iter().collect();
            let count = ids.len();
            (Just(ids), vec(component_body(), count))
        })
        .prop_map(|(ids, bodies)| {
            let mut flow = Map::new();
            for (position, (id, body)) in ids.iter().zip(bodies).enumerate() {
                flow.insert(id.clone(), body.into_value(&ids[..position]));
            }
            Value::Object(flow)
        })
}

/// A component id: a lowercase UUID v4 or a slug.
pub fn component_id() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<[u8; 16]>()
            .prop_map(|bytes| uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()),
        1 => pattern!("[a-z][a-z0-9]{1,10}(-[a-z0-9]{1,8}){0,2}"),
    ]
}

/// A component type such as `appmixer.slack.list.SendChannelMessage`.
pub fn component_type() -> impl Strategy<Value = String> {
    (
        pattern!("[a-z][a-z0-9]{1,11}"),
        proptest::option::of(pattern!("[a-z][a-z0-9]{1,9}")),
        pattern!("[A-Z][a-z]{1,8}([A-Z][a-z]{1,8}){0,2}"),
    )
        .prop_map(|(connector, module, component)| match module {
            Some(module) => format!("appmixer.{connector}.{module}.{component}"),
            None => format!("appmixer.{connector}.{component}"),
        })
}

/// A component before its wiring is resolved against the ids before it.
#[derive(Debug, Clone)]
struct ComponentBody {
    kind: String,
    x: i64,
    y: i64,
    label: Option<String>,
    version: Option<String>,
    inputs: Vec<(Index, String)>,
    properties: Option<Map<String, Value>>,
    lambda: Option<Map<String, Value>>,
}

impl ComponentBody {
    /// The component's JSON, wired to components among `earlier`.
    fn into_value(self, earlier: &[String]) -> Value {
        let mut component = Map::new();
        component.insert("type".into(), Value::String(self.kind));
        component.insert("x".into(), self.x.into());
        component.insert("y".into(), self.y.into());

        // Each input names an earlier component, so every reference resolves
        // and the wiring has no cycles; the first component is a trigger.
        let mut wired: Map<String, Value> = Map::new();
        if !earlier.is_empty() {
            for (index, out_port) in &self.inputs {
                let source_id = index.get(earlier);
                let ports = wired
                    .entry(source_id.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(ports) = ports
                    && !ports.iter().any(|p| p == out_port.as_str())
                {
                    ports.push(Value::String(out_port.clone()));
                }
            }
        }
        let mut source = Map::new();
        if !wired.is_empty() {
            source.insert("in".into(), Value::Object(wired.clone()));
        }
        component.insert("source".into(), Value::Object(source));

        if let Some(label) = self.label {
            component.insert("label".into(), Value::String(label));
        }
        if let Some(version) = self.version {
            component.insert("version".into(), Value::String(version));
        }
        if self.properties.is_some() || self.lambda.is_some() {
            let mut config = Map::new();
            if let Some(properties) = self.properties {
                config.insert("properties".into(), Value::Object(properties));
            }
            if let Some(lambda) = self.lambda {
                config.insert("transform".into(), transform(&wired, lambda));
            }
            component.insert("config".into(), Value::Object(config));
        }
        Value::Object(component)
    }
}

/// A `transform` that feeds `lambda` from each wired source and port.
fn transform(wired: &Map<String, Value>, lambda: Map<String, Value>) -> Value {
    let mut by_source = Map::new();
    for (source_id, ports) in wired {
        let mut by_port = Map::new();
        for port in ports.as_array().into_iter().flatten() {
            let entry = serde_json::json!({
                "type": "json2new",
                "modifiers": {},
                "lambda": Value::Object(lambda.clone()),
            });
            by_port.insert(port.as_str().unwrap_or("out").to_string(), entry);
        }
        by_source.insert(source_id.clone(), Value::Object(by_port));
    }
    let mut transform = Map::new();
    transform.insert("in".into(), Value::Object(by_source));
    Value::Object(transform)
}

fn component_body() -> impl Strategy<Value = ComponentBody> {
    (
        component_type(),
        -5000i64..5000,
        -5000i64..5000,
        proptest::option::of(text()),
        proptest::option::of(pattern!("[0-9]\\.[0-9]{1,2}\\.[0-9]{1,2}")),
        vec(
            (any::<Index>(), pattern!("(out|true|false|notFound|item)")),
            0..3,
        ),
        proptest::option::of(json_object()),
        proptest::option::of(json_object()),
    )
        .prop_map(
            |(kind, x, y, label, version, inputs, properties, lambda)| ComponentBody {
                kind,
                x,
                y,
                label,
                version,
                inputs,
                properties,
                lambda,
            },
        )
}

/// A JSON object of nested values, up to four levels deep.
pub fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    btree_map(object_key(), json_value(), 0..5).prop_map(|entries| entries.into_iter().collect())
}

/// Any JSON value: nulls, booleans, numbers, tricky strings, arrays, objects.
pub fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(object_key(), inner, 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).prop_map(Value::from),
        1 => decimal(),
        4 => text().prop_map(Value::String),
    ]
}

/// A number with a fractional part and at most nine significant digits.
///
/// Such numbers print and parse back exactly in every JSON implementation,
/// and none of them is an integer that a JavaScript engine would print
/// without its fraction, so a difference after a round trip is the server's.
fn decimal() -> impl Strategy<Value = Value> {
    (-999_999i64..=999_999, 1i64..1000).prop_map(|(whole, thousandths)| {
        let magnitude = whole.abs() as f64 + thousandths as f64 / 1000.0;
        let number = if whole < 0 { -magnitude } else { magnitude };
        Value::from(number)
    })
}

/// An object key: an identifier, sometimes with letters outside ASCII.
///
/// Keys avoid `.` and a leading `$`, which document databases reserve.
fn object_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => pattern!("[a-zA-Z_][a-zA-Z0-9_]{0,12}"),
        1 => pattern!("[a-z]{1,4}(ž|é|ß|ключ|名前)[a-z]{0,4}"),
    ]
}

/// A string: plain words mixed with tricky fragments, sometimes very long.
pub fn text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        3 => pattern!("[A-Za-z0-9 ,:_-]{1,12}"),
        2 => proptest::sample::select(TRICKY_FRAGMENTS).prop_map(str::to_string),
    ];
    prop_oneof![
        8 => vec(fragment, 0..10).prop_map(|parts| parts.concat()),
        1 => (proptest::sample::select(TRICKY_FRAGMENTS), 200usize..1500)
            .prop_map(|(piece, times)| format!("long:{}", piece.repeat(times))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn components(descriptor: &Value) -> &Map<String, Value> {
        descriptor.as_object().expect("a descriptor is an object")
    }

    #[test]
    fn generation_that_is_no_longer_wanted_draws_no_further_pair() {
        let wanted = AtomicBool::new(false);

        let cases = generate_while(7, crate::MAX_CASES, &wanted);

        assert!(cases.is_empty(), "{} pairs drawn", cases.len());
    }

    #[test]
    fn every_source_reference_names_a_component_of_the_descriptor() {
        for case in generate(7, 64) {
            for descriptor in [&case.created, &case.updated] {
                let flow = components(descriptor);
                for component in flow.values() {
                    let source = component["source"]
                        .as_object()
                        .expect("source is an object");
                    for wired in source.values() {
                        for (source_id, ports) in wired.as_object().unwrap() {
                            assert!(flow.contains_key(source_id), "{source_id} not in {flow:?}");
                            assert!(!ports.as_array().unwrap().is_empty());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_component_has_a_dotted_type_and_integer_coordinates() {
        for case in generate(11, 32) {
            for component in components(&case.created).values() {
                let kind = component["type"].as_str().unwrap();
                let parts: Vec<&str> = kind.split('.').collect();
                assert!(parts.len() == 3 || parts.len() == 4, "{kind}");
                assert_eq!(parts[0], "appmixer");
                assert!(component["x"].is_i64() && component["y"].is_i64());
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_descriptors() {
        assert_eq!(generate(42, 8), generate(42, 8));
    }

    #[test]
    fn different_seeds_give_different_descriptors() {
        assert_ne!(generate(1, 4), generate(2, 4));
    }

    #[test]
    fn generated_strings_reach_outside_the_basic_multilingual_plane() {
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]),
        );
        let strings: Vec<String> = (0..200)
            .map(|_| text().new_tree(&mut runner).unwrap().current())
            .collect();

        assert!(strings.iter().any(|s| s.chars().any(|c| c as u32 > 0xFFFF)));
        assert!(
            strings
                .iter()
                .any(|s| s.contains('\u{301}') || s.contains('\u{308}'))
        );
        assert!(strings.iter().any(|s| s.chars().count() > 200));
    }

    #[test]
    fn decimals_keep_their_fraction_and_value_through_json_text() {
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[5; 32]),
        );
        for _ in 0..500 {
            let number = decimal().new_tree(&mut runner).unwrap().current();

            let reparsed: Value = serde_json::from_str(&number.to_string()).unwrap();

            assert_eq!(reparsed, number);
            assert!(number.as_f64().unwrap().fract() != 0.0);
        }
    }
}
