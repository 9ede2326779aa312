//! Documents: parsed JSON and TOML behind one view, and how their values are
//! quoted back in messages.

use toml::de::DeValue;

use super::json::Json;
use crate::schema::scalar::is_name;

/// What a document value is, for the decoder.
#[derive(Clone, Copy)]
pub(super) enum Kind<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer that does not fit in 64 bits.
    BigInt,
    /// A number with a fraction or exponent.
    Float,
    Str(&'a str),
    /// Only in TOML.
    Datetime(&'a toml::value::Datetime),
    Array,
    Object,
}

/// A parsed document value: `serde_json::Value` or a TOML value.
pub(super) trait Node: Sized {
    fn kind(&self) -> Kind<'_>;
    fn member(&self, key: &str) -> Option<&Self>;
    /// Members of an object in document order; empty for anything else.
    fn members(&self) -> Vec<(&str, &Self)>;
    /// The number as written, for messages.
    fn number_text(&self) -> String;
}

impl Node for serde_json::Value {
    fn kind(&self) -> Kind<'_> {
        use serde_json::Value as J;
        match self {
            J::Null => Kind::Null,
            J::Bool(b) => Kind::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Kind::Int(i),
                None if n.is_u64() => Kind::BigInt,
                None => Kind::Float,
            },
            J::String(s) => Kind::Str(s),
            J::Array(_) => Kind::Array,
            J::Object(_) => Kind::Object,
        }
    }

    fn member(&self, key: &str) -> Option<&Self> {
        self.as_object()?.get(key)
    }

    fn members(&self) -> Vec<(&str, &Self)> {
        self.as_object()
            .map(|o| o.iter().map(|(k, v)| (k.as_str(), v)).collect())
            .unwrap_or_default()
    }

    fn number_text(&self) -> String {
        self.to_string()
    }
}

impl Node for DeValue<'_> {
    fn kind(&self) -> Kind<'_> {
        match self {
            DeValue::String(s) => Kind::Str(s),
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Kind::Int(n),
                Err(_) => Kind::BigInt,
            },
            DeValue::Float(_) => Kind::Float,
            DeValue::Boolean(b) => Kind::Bool(*b),
            DeValue::Datetime(d) => Kind::Datetime(d),
            DeValue::Array(_) => Kind::Array,
            DeValue::Table(_) => Kind::Object,
        }
    }

    fn member(&self, key: &str) -> Option<&Self> {
        self.as_table()?.get(key).map(|v| v.get_ref())
    }

    fn members(&self) -> Vec<(&str, &Self)> {
        self.as_table()
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.get_ref().as_ref(), v.get_ref()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn number_text(&self) -> String {
        // TOML keeps a number's text, which may be of any length.
        match self {
            DeValue::Integer(i) => clip(&i.to_string()),
            DeValue::Float(f) => clip(&f.to_string()),
            _ => String::new(),
        }
    }
}

impl Node for Json<'_> {
    fn kind(&self) -> Kind<'_> {
        match self {
            Json::Null => Kind::Null,
            Json::Bool(b) => Kind::Bool(*b),
            Json::Int(i) => Kind::Int(*i),
            Json::Big(_) => Kind::BigInt,
            Json::Float(_) => Kind::Float,
            Json::Str(s) => Kind::Str(s),
            Json::Array(_) => Kind::Array,
            Json::Object(_) => Kind::Object,
        }
    }

    fn member(&self, key: &str) -> Option<&Self> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn members(&self) -> Vec<(&str, &Self)> {
        match self {
            Json::Object(members) => members.iter().map(|(k, v)| (k.as_ref(), v)).collect(),
            _ => Vec::new(),
        }
    }

    fn number_text(&self) -> String {
        match self {
            Json::Int(i) => i.to_string(),
            Json::Big(n) => n.to_string(),
            // As serde_json writes it, so `0.0` stays `0.0`.
            Json::Float(f) => {
                serde_json::Number::from_f64(*f).map_or_else(String::new, |n| n.to_string())
            }
            _ => String::new(),
        }
    }
}

/// The value at a dotted path; `None` when it, or a group on the way, is
/// left out or `null`.
pub(super) fn lookup<'n, N: Node>(root: &'n N, path: &str) -> Option<&'n N> {
    let mut node = root;
    for seg in path.split('.') {
        if matches!(node.kind(), Kind::Null) {
            return None;
        }
        node = node.member(seg)?;
    }
    Some(node)
}

/// At most this many characters of a request's string are quoted back.
pub(super) const QUOTE_LIMIT: usize = 60;

/// How a found value is described: ``the string `"abc"` ``, `an array`.
pub(super) fn found<N: Node>(node: &N) -> String {
    match node.kind() {
        Kind::Null => "`null`".to_owned(),
        Kind::Bool(b) => format!("`{b}`"),
        Kind::Int(_) | Kind::BigInt | Kind::Float => format!("the number `{}`", node.number_text()),
        Kind::Str(s) => format!("the string {}", quote(s)),
        Kind::Datetime(d) => format!("the TOML date-time `{d}`"),
        Kind::Array => "an array".to_owned(),
        Kind::Object => "an object".to_owned(),
    }
}

/// A request string as a backticked JSON string, cut to [`QUOTE_LIMIT`]
/// characters: `` `"abc"` ``.
pub(super) fn quote(s: &str) -> String {
    format!("`\"{}\"`", clip(s))
}

/// A request string JSON-escaped (control characters and all) without the
/// quotes, cut to [`QUOTE_LIMIT`] characters.
pub(super) fn clip(s: &str) -> String {
    let cut: String = s.chars().take(QUOTE_LIMIT).collect();
    let json = serde_json::Value::String(cut).to_string();
    let inner = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(&json);
    if s.chars().nth(QUOTE_LIMIT).is_some() {
        format!("{inner}...")
    } else {
        inner.to_owned()
    }
}

/// The path of `key` inside `parent` as errors show it: `item.paid_amount`,
/// or `item["paid amount"]` for a key that is not a name, JSON-escaped and
/// cut to [`QUOTE_LIMIT`] characters like any other text from a request.
pub(super) fn child_path(parent: &str, key: &str) -> String {
    if is_name(key) && key.len() <= QUOTE_LIMIT {
        join(parent, key)
    } else {
        format!("{parent}[\"{}\"]", clip(key))
    }
}

/// `parent.key`: the schema path of a field or group named `key`.
pub(super) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}
