//! Query strings and the list semantics every area shares.
//!
//! [`QueryParams`] keeps the query as ordered pairs, because `filter`,
//! `sort` (logs), `flowId` and `portType` repeat. On top of it sit the rules
//! of Appmixer's MongoDB-backed lists, each in one function:
//! - paging: `limit` and `offset` are non-negative integers, defaults 100 and 0;
//! - sorting: `field:1` or `field:-1` on a list of allowed fields, then the
//!   identity field ascending, so every order is total and pages partition it;
//! - projection: `a,b` keeps only those fields, `-a,-b` drops them, mixing is
//!   refused, and the identity field is always kept;
//! - filters: `path:value`, split at the first colon, dotted paths, a leading
//!   `!` negates.

use std::cmp::Ordering;
use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::{Map, Value};

use crate::errors::{ApiError, ApiResult, Source};

/// The default `limit` of every MongoDB-backed list.
pub const DEFAULT_LIMIT: u64 = 100;

/// The pairs of a query string, decoded, in the order they were sent.
#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Decodes a raw query string (`a=1&b=x%20y`); `None` is an empty query.
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|raw| {
                url::form_urlencoded::parse(raw.as_bytes())
                    .map(|(key, value)| (key.into_owned(), value.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    /// The value of a parameter that may appear at most once.
    pub fn one(&self, name: &str) -> ApiResult<Option<&str>> {
        let mut values = self.all(name).into_iter();
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::invalid(
                Source::Query,
                name,
                format!("`{name}` must be given at most once"),
            ));
        }
        Ok(first)
    }

    /// Every value of a repeatable parameter, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// A boolean parameter: `true` or `false`, anything else is refused.
    pub fn boolean(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.one(name)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::invalid(
                Source::Query,
                name,
                format!("`{name}` must be `true` or `false`, got `{other}`"),
            )),
        }
    }

    /// A non-negative integer parameter; a value too large for `u64` saturates.
    ///
    /// The spec bounds `limit`, `offset`, `from` and `size` below
    /// (`minimum: 0`) but sets no maximum and no format, so every digit
    /// string is valid and a 400 for a long one would refuse a request the
    /// spec allows. Saturating answers such a request exactly: no list is
    /// `u64::MAX` items long, so the page is the same as for the value sent.
    pub fn count(&self, name: &str, default: u64) -> ApiResult<u64> {
        let Some(raw) = self.one(name)? else {
            return Ok(default);
        };
        if raw.is_empty() || !raw.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(ApiError::invalid(
                Source::Query,
                name,
                format!("`{name}` must be a non-negative integer, got `{raw}`"),
            ));
        }
        Ok(raw.parse().unwrap_or(u64::MAX))
    }

    /// `limit` and `offset`.
    pub fn page(&self) -> ApiResult<Page> {
        Ok(Page {
            limit: self.count("limit", DEFAULT_LIMIT)?,
            offset: self.count("offset", 0)?,
        })
    }

    /// `sort` as `field:1` or `field:-1` on one of `fields`, else `default`.
    pub fn sort(&self, fields: &[&str], default: SortKey) -> ApiResult<SortKey> {
        match self.one("sort")? {
            None => Ok(default),
            Some(raw) => SortKey::parse(raw, fields),
        }
    }

    /// `projection`, or [`Projection::All`] when absent.
    pub fn projection(&self) -> ApiResult<Projection> {
        match self.one("projection")? {
            None => Ok(Projection::All),
            Some(raw) => Projection::parse(raw, "projection", Source::Query),
        }
    }

    /// Every `filter`.
    pub fn filters(&self) -> ApiResult<Vec<Filter>> {
        self.all("filter").into_iter().map(Filter::parse).collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query()))
    }
}

/// Which slice of a sorted list to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// At most this many items.
    pub limit: u64,
    /// Skip this many items first.
    pub offset: u64,
}

impl Page {
    /// The page of `items`, which must already be in their final order.
    pub fn apply<T>(&self, items: Vec<T>) -> Vec<T> {
        let (offset, limit) = self.bounds();
        items.into_iter().skip(offset).take(limit).collect()
    }

    /// `offset` and `limit` as indexes; a value beyond them saturates.
    fn bounds(&self) -> (usize, usize) {
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        (offset, limit)
    }
}

/// The page of `items` in `order`, which must be total (ties broken by an
/// identity), so that the page is the one a full sort would give.
///
/// Only what comes before the page's end is sorted: a first page of a long
/// list costs one pass over it, not a sort of it.
pub fn sorted_page<T>(
    mut items: Vec<T>,
    page: &Page,
    mut order: impl FnMut(&T, &T) -> Ordering,
) -> Vec<T> {
    let (offset, limit) = page.bounds();
    if offset >= items.len() {
        return Vec::new();
    }
    let end = offset.saturating_add(limit);
    if end < items.len() {
        items.select_nth_unstable_by(end, &mut order);
        items.truncate(end);
    }
    items.sort_unstable_by(order);
    items.drain(offset..).collect()
}

/// One sort field and its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The field, one of the operation's sortable fields.
    pub field: String,
    /// Whether the order is descending.
    pub descending: bool,
}

impl SortKey {
    /// Ascending on `field`.
    pub fn ascending(field: &str) -> Self {
        Self {
            field: field.to_owned(),
            descending: false,
        }
    }

    /// Parses `field:1` or `field:-1`, where `field` must be one of `fields`.
    pub fn parse(raw: &str, fields: &[&str]) -> ApiResult<Self> {
        let refuse = |why: String| ApiError::invalid(Source::Query, "sort", why);
        let Some((field, direction)) = raw.rsplit_once(':') else {
            return Err(refuse(format!(
                "`sort` must be `field:1` or `field:-1`, got `{raw}`"
            )));
        };
        if !fields.contains(&field) {
            return Err(refuse(format!(
                "`sort` cannot sort on `{field}`; sortable fields are {}",
                fields.join(", ")
            )));
        }
        let descending = match direction {
            "1" => false,
            "-1" => true,
            _ => {
                return Err(refuse(format!(
                    "`sort` direction must be `1` or `-1`, got `{direction}`"
                )));
            }
        };
        Ok(Self {
            field: field.to_owned(),
            descending,
        })
    }
}

/// Sorts `items` by `key`, then by the `identity` field ascending.
pub fn sort_documents<T>(
    items: &mut [T],
    key: &SortKey,
    identity: &str,
    document: impl Fn(&T) -> &Map<String, Value>,
) {
    items.sort_by(|a, b| {
        let (a, b) = (document(a), document(b));
        let primary = compare_values(a.get(&key.field), b.get(&key.field));
        let primary = if key.descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| compare_values(a.get(identity), b.get(identity)))
    });
}

/// A total order on optional JSON values, after MongoDB's: missing and
/// `null` first, then numbers, strings, objects, arrays and booleans.
pub fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(value: Option<&Value>) -> u8 {
        match value {
            None | Some(Value::Null) => 0,
            Some(Value::Number(_)) => 1,
            Some(Value::String(_)) => 2,
            Some(Value::Object(_)) => 3,
            Some(Value::Array(_)) => 4,
            Some(Value::Bool(_)) => 5,
        }
    }
    match (a, b) {
        (Some(Value::Number(a)), Some(Value::Number(b))) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => {
                let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
                a.total_cmp(&b)
            }
        },
        (Some(Value::String(a)), Some(Value::String(b))) => a.cmp(b),
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
        (Some(a @ (Value::Object(_) | Value::Array(_))), Some(b))
            if rank(Some(a)) == rank(Some(b)) =>
        {
            a.to_string().cmp(&b.to_string())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Which fields of a document to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// Every field.
    All,
    /// Only these (dotted) paths, plus the identity field.
    Include(Vec<Vec<String>>),
    /// Every field but these (dotted) paths; the identity field stays.
    Exclude(Vec<Vec<String>>),
}

impl Projection {
    /// Parses `a,b` or `-a,-b`; `name` and `source` say where it came from,
    /// for the error message.
    pub fn parse(raw: &str, name: &str, source: Source) -> ApiResult<Self> {
        let refuse = |why: String| ApiError::invalid(source, name, why);
        let mut include = Vec::new();
        let mut exclude = Vec::new();
        for item in raw.split(',').map(str::trim) {
            let (list, path) = match item.strip_prefix('-') {
                Some(path) => (&mut exclude, path),
                None => (&mut include, item),
            };
            if path.is_empty() || path.split('.').any(str::is_empty) {
                return Err(refuse(format!(
                    "`{name}` must be a comma-separated list of field names, got `{raw}`"
                )));
            }
            list.push(path.split('.').map(str::to_owned).collect());
        }
        match (include.is_empty(), exclude.is_empty()) {
            (false, false) => Err(refuse(format!(
                "`{name}` cannot both keep and leave out fields, got `{raw}`; \
                 use either `a,b` or `-a,-b`"
            ))),
            (true, _) => Ok(Self::Exclude(exclude)),
            (false, true) => Ok(Self::Include(include)),
        }
    }

    /// The projected copy of `document`; `identity` is always kept.
    pub fn apply(&self, document: &Map<String, Value>, identity: &str) -> Map<String, Value> {
        match self {
            Projection::All => document.clone(),
            Projection::Include(paths) => include(document, paths, Some(identity)),
            Projection::Exclude(paths) => {
                let mut kept = document.clone();
                for path in paths {
                    if path.len() == 1 && path[0] == identity {
                        continue;
                    }
                    remove_path(&mut kept, path);
                }
                kept
            }
        }
    }
}

fn include(
    document: &Map<String, Value>,
    paths: &[Vec<String>],
    identity: Option<&str>,
) -> Map<String, Value> {
    let mut kept = Map::new();
    for (key, value) in document {
        let matching: Vec<&Vec<String>> = paths.iter().filter(|path| path[0] == *key).collect();
        if Some(key.as_str()) == identity || matching.iter().any(|path| path.len() == 1) {
            kept.insert(key.clone(), value.clone());
        } else if let (false, Value::Object(inner)) = (matching.is_empty(), value) {
            let rest: Vec<Vec<String>> = matching.iter().map(|path| path[1..].to_vec()).collect();
            kept.insert(key.clone(), Value::Object(include(inner, &rest, None)));
        }
    }
    kept
}

fn remove_path(document: &mut Map<String, Value>, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            document.shift_remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(inner)) = document.get_mut(first) {
                remove_path(inner, rest);
            }
        }
    }
}

/// The value at a dotted `path` inside `document`, if every step exists.
pub fn lookup<'a>(document: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut value = document.get(first)?;
    for step in rest {
        value = value.as_object()?.get(step)?;
    }
    Some(value)
}

/// One `filter=path:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    path: Vec<String>,
    expected: String,
    negated: bool,
}

impl Filter {
    /// Parses `path:value`, split at the first colon; a value starting with `!` negates.
    pub fn parse(raw: &str) -> ApiResult<Self> {
        let refuse = |why: String| ApiError::invalid(Source::Query, "filter", why);
        let Some((path, value)) = raw.split_once(':') else {
            return Err(refuse(format!(
                "`filter` must be `path:value`, got `{raw}`"
            )));
        };
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(refuse(format!(
                "`filter` must start with a field path such as `customFields.category`, got `{raw}`"
            )));
        }
        let (negated, expected) = match value.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        Ok(Self {
            path: path.split('.').map(str::to_owned).collect(),
            expected: expected.to_owned(),
            negated,
        })
    }

    /// The dotted path this filter looks at.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// Whether `document` passes this filter.
    pub fn matches(&self, document: &Map<String, Value>) -> bool {
        let equal = lookup(document, &self.path).is_some_and(|value| match value {
            Value::String(text) => *text == self.expected,
            Value::Number(_) | Value::Bool(_) => {
                serde_json::to_string(value).is_ok_and(|text| text == self.expected)
            }
            _ => false,
        });
        equal != self.negated
    }

    /// Whether a document whose value at this filter's path has the JSON
    /// text `found` passes it: the same test as [`Filter::matches`], on the
    /// text serde_json writes for the value.
    pub fn matches_json(&self, found: Option<&[u8]>) -> bool {
        let equal = found.is_some_and(|text| match text.first() {
            Some(b'"') => {
                serde_json::from_slice::<String>(text).is_ok_and(|text| text == self.expected)
            }
            // A number or a boolean is compared as its JSON text.
            Some(b'-' | b'0'..=b'9' | b't' | b'f') => text == self.expected.as_bytes(),
            _ => false,
        });
        equal != self.negated
    }
}

/// Whether every filter passes.
pub fn matches_all(filters: &[Filter], document: &Map<String, Value>) -> bool {
    filters.iter().all(|filter| filter.matches(document))
}

/// Whether `haystack` contains `needle`, ignoring case.
pub fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    Pattern::new(needle).is_in(haystack)
}

/// A `pattern` to find in texts, ignoring case: a text holds it when the
/// text, lowercased, contains the pattern, lowercased.
#[derive(Debug, Clone)]
pub struct Pattern {
    lowercase: String,
}

impl Pattern {
    /// The pattern `needle`.
    pub fn new(needle: &str) -> Self {
        Self {
            lowercase: needle.to_lowercase(),
        }
    }

    /// Whether `haystack` holds the pattern.
    pub fn is_in(&self, haystack: &str) -> bool {
        if !haystack.is_ascii() {
            return haystack.to_lowercase().contains(&self.lowercase);
        }
        // An ASCII text lowercases byte by byte, so it needs no copy; a
        // pattern that lowercased to other bytes cannot match it.
        let needle = self.lowercase.as_bytes();
        needle.is_empty()
            || haystack.as_bytes().windows(needle.len()).any(|window| {
                window
                    .iter()
                    .zip(needle)
                    .all(|(byte, wanted)| byte.to_ascii_lowercase() == *wanted)
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_filter_compares_scalars_by_their_json_text() {
        let document = object(json!({ "a": { "n": 2, "ok": true, "s": "x", "list": ["x"] } }));

        let matches = |raw: &str| Filter::parse(raw).unwrap().matches(&document);

        assert!(matches("a.n:2"));
        assert!(matches("a.ok:true"));
        assert!(matches("a.s:x"));
        assert!(!matches("a.list:x"), "arrays are not scalars");
        assert!(!matches("a.missing:x"));
        assert!(matches("a.missing:!x"), "a missing field matches under `!`");
        assert!(!matches("a.s:!x"));
    }

    #[test]
    fn a_projection_keeps_nested_paths_and_the_identity_in_document_order() {
        let document = object(json!({ "id": 1, "a": { "b": 1, "c": 2 }, "d": 3 }));

        let kept = Projection::parse("d,a.c", "projection", Source::Query)
            .unwrap()
            .apply(&document, "id");
        let dropped = Projection::parse("-a.b,-id", "projection", Source::Query)
            .unwrap()
            .apply(&document, "id");

        assert_eq!(
            Value::Object(kept),
            json!({ "id": 1, "a": { "c": 2 }, "d": 3 })
        );
        assert_eq!(
            Value::Object(dropped),
            json!({ "id": 1, "a": { "c": 2 }, "d": 3 })
        );
    }

    #[test]
    fn values_order_missing_and_null_first_then_numbers_strings_and_booleans() {
        let values = [json!(false), json!("a"), json!(10), json!(2.5), json!(null)];
        let mut sorted: Vec<&Value> = values.iter().collect();

        sorted.sort_by(|a, b| compare_values(Some(a), Some(b)));

        assert_eq!(
            sorted,
            [
                &json!(null),
                &json!(2.5),
                &json!(10),
                &json!("a"),
                &json!(false)
            ]
        );
        assert_eq!(compare_values(None, Some(&json!(null))), Ordering::Equal);
        assert_eq!(compare_values(None, Some(&json!(0))), Ordering::Less);
    }

    #[test]
    fn sort_breaks_ties_by_the_identity_ascending_in_both_directions() {
        let mut documents = vec![
            object(json!({ "id": "b", "n": 1 })),
            object(json!({ "id": "a", "n": 1 })),
            object(json!({ "id": "c", "n": 0 })),
        ];
        let descending = SortKey::parse("n:-1", &["n"]).unwrap();

        sort_documents(&mut documents, &descending, "id", |document| document);

        let ids: Vec<&Value> = documents.iter().map(|document| &document["id"]).collect();
        assert_eq!(ids, [&json!("a"), &json!("b"), &json!("c")]);
    }

    #[test]
    fn a_sorted_page_is_the_page_of_the_fully_sorted_list() {
        let items: Vec<u32> = (0..50).map(|n| (n * 37) % 50).collect();
        let mut sorted = items.clone();
        sorted.sort_unstable();

        for (offset, limit) in [
            (0, 10),
            (5, 10),
            (45, 10),
            (49, 1),
            (0, 0),
            (50, 5),
            (0, 100),
        ] {
            let page = Page { limit, offset };

            let answered = sorted_page(items.clone(), &page, u32::cmp);

            assert_eq!(
                answered,
                page.apply(sorted.clone()),
                "offset {offset}, limit {limit}"
            );
        }
        let all = Page {
            limit: u64::MAX,
            offset: u64::MAX,
        };
        assert!(sorted_page(items, &all, u32::cmp).is_empty());
    }

    #[test]
    fn a_pattern_matches_as_lowercasing_both_texts_does() {
        let texts = [
            "Orders Daily",
            "ORDERS",
            "naïve Über",
            "İstanbul",
            "k",
            "",
            "ǅungla",
        ];
        let patterns = [
            "order", "DAILY", "über", "i̇s", "\u{212A}", "", "x", "ǆ", "NAÏ", "s d",
        ];

        for text in texts {
            for pattern in patterns {
                let expected = text.to_lowercase().contains(&pattern.to_lowercase());

                assert_eq!(
                    Pattern::new(pattern).is_in(text),
                    expected,
                    "{pattern:?} in {text:?}"
                );
            }
        }
    }

    #[test]
    fn counts_must_be_plain_non_negative_integers() {
        let query = QueryParams::parse(Some("limit=7&offset=99999999999999999999999&bad=-1"));

        assert_eq!(query.count("limit", 0).unwrap(), 7);
        assert_eq!(query.count("offset", 0).unwrap(), u64::MAX);
        assert_eq!(query.count("absent", 5).unwrap(), 5);
        assert!(query.count("bad", 0).is_err());
        let twice = QueryParams::parse(Some("limit=1&limit=2"));
        assert!(twice.count("limit", 0).is_err());
    }
}
