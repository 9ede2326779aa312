//! Reading JSON text into a document the decoder can trust: every key of an
//! object is kept in document order, and a key given twice in one object
//! (also when the two spellings are equal only after unescaping, as
//! `"paid_amount"` and `"paid\u005famount"` are) is found, where
//! `serde_json::Value` would silently keep the last one.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::doc::child_path;

/// A JSON value as the decoder reads it. Strings without escapes borrow
/// from the text.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// A positive integer above `i64::MAX`.
    Big(u64),
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Members in document order, each key once.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// A JSON document, and the path of the first key it gives twice in one
/// object (the document keeps that key's first value).
pub(super) struct Parsed<'a> {
    pub root: Json<'a>,
    pub duplicate: Option<String>,
}

/// Parses one JSON value; anything after it but blanks is a syntax error.
/// serde_json bounds nesting (128 levels), so no input can exhaust the
/// stack.
pub(super) fn parse(text: &str) -> Result<Parsed<'_>, serde_json::Error> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let root = Seed {
        at: &Pos::Root,
        duplicate: &duplicate,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(Parsed {
        root,
        duplicate: duplicate.into_inner(),
    })
}

/// Where a value sits, as a chain up to the root: the path is only written
/// out when a duplicate is found, so reading builds no strings.
enum Pos<'p> {
    Root,
    Key(&'p Pos<'p>, &'p str),
    Index(&'p Pos<'p>, usize),
}

impl Pos<'_> {
    fn path(&self) -> String {
        match self {
            Pos::Root => String::new(),
            Pos::Key(parent, key) => child_path(&parent.path(), key),
            Pos::Index(parent, i) => format!("{}[{i}]", parent.path()),
        }
    }
}

/// Up to this many keys, an object looks for a repeated key by scanning its
/// members; past it, by hash (a hostile object may have a million keys).
const SCAN_LIMIT: usize = 16;

struct Seed<'p, 'c> {
    at: &'p Pos<'p>,
    duplicate: &'c RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Json<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Int(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(i64::try_from(n).map_or(Json::Big(n), Json::Int))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json<'de>, E> {
        Ok(Json::Float(n))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::new();
        loop {
            let at = Pos::Index(self.at, items.len());
            let seed = Seed {
                at: &at,
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Json::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members: Vec<(Cow<'de, str>, Json<'de>)> = Vec::new();
        // Filled only once the object outgrows `SCAN_LIMIT`. The keys are
        // the sender's: a keyed hash, so none can be chosen to collide.
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let repeated = if members.len() < SCAN_LIMIT {
                members.iter().any(|(k, _)| *k == key)
            } else {
                if seen.is_empty() {
                    seen.extend(members.iter().map(|(k, _)| k.to_string()));
                }
                !seen.insert(key.to_string())
            };
            if repeated {
                let mut first = self.duplicate.borrow_mut();
                if first.is_none() {
                    *first = Some(Pos::Key(self.at, &key).path());
                }
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = {
                let at = Pos::Key(self.at, &key);
                map.next_value_seed(Seed {
                    at: &at,
                    duplicate: self.duplicate,
                })?
            };
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

/// An object key, borrowed from the text unless it had escapes to undo.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(text: &str) -> Option<String> {
        parse(text).unwrap().duplicate
    }

    #[test]
    fn a_repeated_key_is_found_at_any_depth() {
        assert_eq!(duplicate(r#"{"a": 1, "b": 2}"#), None);
        assert_eq!(duplicate(r#"{"a": 1, "a": 2}"#).as_deref(), Some("a"));
        assert_eq!(
            duplicate(r#"{"order": {"delivered_at": "x", "delivered_at": null}}"#).as_deref(),
            Some("order.delivered_at")
        );
        assert_eq!(
            duplicate(r#"{"x": [{}, {"k": 1, "k": 1}]}"#).as_deref(),
            Some("x[1].k")
        );
        // Only the first is reported; the first value is kept.
        let p = parse(r#"{"a": 1, "a": 2, "b": 3, "b": 4}"#).unwrap();
        assert_eq!(p.duplicate.as_deref(), Some("a"));
        assert_eq!(
            p.root,
            Json::Object(vec![("a".into(), Json::Int(1)), ("b".into(), Json::Int(3))])
        );
    }

    #[test]
    fn keys_are_compared_after_unescaping() {
        assert_eq!(
            duplicate(r#"{"paid_amount": "1", "paid\u005famount": "2"}"#).as_deref(),
            Some("paid_amount")
        );
        assert_eq!(duplicate(r#"{"\u0061": 1, "a": 2}"#).as_deref(), Some("a"));
        // A key that is not a name is written in brackets, escaped.
        assert_eq!(
            duplicate("{\"a b\": 1, \"a\\u0020b\": 2}").as_deref(),
            Some("[\"a b\"]")
        );
    }

    #[test]
    fn large_objects_are_checked_by_hash() {
        let keys: Vec<String> = (0..1000).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("{{{}}}", keys.join(","));
        assert_eq!(duplicate(&text), None);
        let text = format!("{{{}, \"k999\": 0}}", keys.join(","));
        assert_eq!(duplicate(&text).as_deref(), Some("k999"));
    }

    #[test]
    fn strings_without_escapes_borrow() {
        let p = parse(r#"{"a": "plain", "b": "esc\"aped"}"#).unwrap();
        let Json::Object(members) = p.root else {
            panic!()
        };
        assert!(matches!(members[0].1, Json::Str(Cow::Borrowed("plain"))));
        assert!(matches!(&members[1].1, Json::Str(Cow::Owned(s)) if s == "esc\"aped"));
    }

    #[test]
    fn numbers_keep_their_kind() {
        let p = parse("[1, -1, 9223372036854775808, 1.5, 1e2]").unwrap();
        assert_eq!(
            p.root,
            Json::Array(vec![
                Json::Int(1),
                Json::Int(-1),
                Json::Big(9_223_372_036_854_775_808),
                Json::Float(1.5),
                Json::Float(100.0),
            ])
        );
        assert!(parse("1e400").is_err());
        assert!(parse("{} x").is_err());
    }
}
