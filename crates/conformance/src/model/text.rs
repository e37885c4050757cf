//! Strings that are hard to carry: the names, keys, values and titles the
//! model and the string property send.
//!
//! A server may mangle text in many ways: decode UTF-16 surrogates wrongly,
//! normalise combining marks, trim whitespace, cut long values, or escape
//! quotes and backslashes twice. The strategies here mix exactly those
//! ingredients: letters, characters outside the Basic Multilingual Plane,
//! combining marks, CJK, quotes and backslashes, and whitespace at both
//! ends. No control characters and no `/` (a record key travels as one path
//! segment) are generated, and no string is empty.

use proptest::prelude::*;

use crate::pattern::pattern;

/// Pieces that each stress one way of mangling text.
const PIECES: &[&str] = &[
    "alpha",
    "Beta",
    "GAMMA",
    "order",
    "𝄞",
    "😀",
    "🧾",
    "𝔘nicode",
    "e\u{301}",
    "a\u{308}o\u{308}",
    "n\u{303}",
    "東京",
    "É",
    "\"quoted\"",
    "it's",
    "back\\slash",
    "\\\\",
    "50%",
    "a+b&c=d",
    "#1",
    "?",
];

/// Whitespace a server might trim.
const SPACES: &[&str] = &[" ", "  ", "\u{a0}", "\u{3000}"];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(PIECES).prop_map(str::to_string),
        2 => pattern!("[a-z]{1,6}"),
        1 => pattern!("[A-Z][a-z]{0,4}"),
    ]
}

/// A short name of one to four pieces joined by spaces, never empty and
/// never with whitespace at either end.
pub fn name() -> impl Strategy<Value = String> {
    proptest::collection::vec(piece(), 1..=3).prop_map(|pieces| pieces.join(" "))
}

/// A record key: like [`name`], without `/`.
pub fn key() -> impl Strategy<Value = String> {
    name().prop_map(|name| name.replace('/', "-"))
}

/// A string that stresses round trips: unicode outside the BMP, combining
/// marks, quotes and backslashes, whitespace at either end, or 1000
/// characters.
pub fn tricky() -> impl Strategy<Value = String> {
    let padded = (
        proptest::sample::select(SPACES),
        name(),
        proptest::sample::select(SPACES),
    )
        .prop_map(|(lead, middle, trail)| format!("{lead}{middle}{trail}"));
    let long = piece().prop_map(|piece| long_text(&piece, 1000));
    prop_oneof![
        3 => name(),
        2 => padded,
        1 => long,
    ]
}

/// `seed` repeated (with a space between repeats) and cut to exactly
/// `length` characters.
pub fn long_text(seed: &str, length: usize) -> String {
    let unit = format!("{seed} ");
    unit.chars().cycle().take(length).collect()
}

/// Fixed strings every string round trip includes, whatever the seed.
pub fn edge_cases() -> Vec<String> {
    vec![
        "  leading and trailing  ".into(),
        "𝄞 outside the BMP 😀".into(),
        "combining e\u{301} and a\u{308}".into(),
        "quotes \" ' and backslashes \\ \\\\".into(),
        long_text("long 𝄞", 1000),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn long_text_has_exactly_the_length_asked_for_in_characters() {
        let text = long_text("𝄞é", 1000);

        assert_eq!(text.chars().count(), 1000);
    }

    #[test]
    fn generated_names_are_never_empty_nor_padded_and_carry_no_slash() {
        let mut runner = TestRunner::deterministic();

        for _ in 0..200 {
            let name = name().new_tree(&mut runner).unwrap().current();
            let key = key().new_tree(&mut runner).unwrap().current();

            assert!(!name.is_empty());
            assert_eq!(name.trim(), name);
            assert!(!key.contains('/'));
        }
    }
}
