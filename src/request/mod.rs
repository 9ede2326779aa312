//! Refund requests: decoding JSON or TOML into [`Request`] values, driven by
//! the [`Schema`], and the errors that make a request unevaluable.
//!
//! # What is checked, in which order
//!
//! Decoding stops at the first problem, found in this order:
//!
//! 1. **Syntax**: the text must be one JSON value (or a TOML document). One
//!    byte order mark may open it.
//! 2. **Duplicate keys**: no object may give a key twice, compared after
//!    escapes are undone (`"paid\u005famount"` is `paid_amount`), at any
//!    depth. The error's path is the key's; the request id is echoed unless
//!    it is the key given twice.
//! 3. **Shape**: the request must be an object.
//! 4. **Unknown fields**, depth first, in document order: every key must be a
//!    field or a group of the schema (`item`), and a group must hold an object
//!    (`null` for a group means the same as leaving it out). Unknown fields
//!    come before missing ones so that a typo (`paid_amont`) is reported as
//!    itself, with a suggestion, rather than as the missing field it meant.
//! 5. **Each field, in schema order**: missing (absent or `null`) required
//!    field, wrong JSON type, then the value itself (enum variant, amount form
//!    and precision, range, timestamp form and offset, currency code).
//!    An optional field left out or `null` takes its default, or is absent.
//! 6. **Chronology**, in schema order: for each `[[chronology]]` rule whose two
//!    timestamps are present, `earlier` must not be after `later`. The error's
//!    path is the `later` field: the one that names the too-early moment
//!    (`requested_at` before `order.delivered_at` is reported at
//!    `requested_at`).
//!
//! A valid channel with no policy, or a currency other than the policy's,
//! decodes fine: the engine rejects those later.
//!
//! # TOML requests
//!
//! A TOML request has the same structure as the JSON one (`[item]` tables
//! for the groups). Timestamps may be written as strings or as TOML offset
//! date-times (`requested_at = 2025-01-03T10:20:00+08:00`); a TOML local
//! date-time (no offset) is a `missing_offset` error, a TOML date or time
//! alone a `bad_timestamp`, and a TOML date-time anywhere else a `wrong_type`.
//! Amounts are strings in TOML too: a TOML integer or float is rejected like
//! a JSON number.
//!
//! # Edge values
//!
//! A leap second (`23:59:60`) reads as the last second of its minute, so a
//! timestamp's date never moves. `-0.00` is the amount zero.
//!
//! # Paths and quoted input
//!
//! Error paths are dotted (`item.paid_amount`), empty for errors about the
//! whole document. A key that is not a plain name is written in brackets,
//! JSON-escaped: `item["paid amount"]`. Text from the request (a key, a
//! value) is quoted back JSON-escaped and cut to 60 characters, in paths
//! too, and a did-you-mean is only looked for when it is at most 64 bytes
//! long: a hostile request cannot make an error large or slow to build.

mod decode;
mod doc;
mod error;
mod json;
#[cfg(test)]
mod tests;
mod typed;

use toml::de::{DeTable, DeValue};

use crate::schema::{FieldId, Schema};
use crate::value::{Text, Value};
use decode::Decoder;
use doc::{Kind, Node, child_path, lookup};
pub use error::RequestError;

/// A decoded request: one value per schema field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Indexed by [`FieldId`]`.0`; optional fields left out hold their default
    /// or [`Value::Absent`].
    pub values: Vec<Value>,
    /// The value of the schema's request id field.
    pub request_id: Option<Text>,
}

static ABSENT: Value = Value::Absent;

impl Request {
    /// The value of a field ([`Value::Absent`] for an id of another schema).
    pub fn get(&self, id: FieldId) -> &Value {
        self.values.get(id.0 as usize).unwrap_or(&ABSENT)
    }
}

/// A request that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The request id, when the document was readable and it held one as a
    /// string (even if something else is wrong); `None` otherwise.
    pub request_id: Option<String>,
    pub error: RequestError,
}

// ----- entry points ---------------------------------------------------------

/// A byte order mark may open a request (Windows editors like to write one).
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{FEFF}').unwrap_or(text)
}

impl Schema {
    /// Decodes one JSON request. See the [module docs](crate::request) for the order
    /// of checks.
    pub fn decode_json(&self, text: &str) -> Result<Request, Rejected> {
        let text = without_bom(text);
        match typed::decode(self, text) {
            Some(request) => Ok(request),
            None => self.decode_json_document(text),
        }
    }

    /// Decodes a JSON request through a document tree: slower than the
    /// typed decoder, and what explains every error.
    fn decode_json_document(&self, text: &str) -> Result<Request, Rejected> {
        let parsed = json::parse(text).map_err(|e| Rejected {
            request_id: None,
            error: RequestError::Syntax {
                path: String::new(),
                message: format!("invalid JSON: {e}"),
                help: Some(
                    "a request is one JSON object, such as `{\"request_id\": ...}`".to_owned(),
                ),
            },
        })?;
        match parsed.duplicate {
            Some(path) => Err(self.duplicate(&parsed.root, path)),
            None => self.decode_node(&parsed.root),
        }
    }

    /// Decodes one TOML request (same structure as JSON; see the
    /// [module docs](crate::request) for timestamps in TOML).
    pub fn decode_toml(&self, text: &str) -> Result<Request, Rejected> {
        let text = without_bom(text);
        let (root, errors) = DeTable::parse_recoverable(text);
        let root = DeValue::Table(root.into_inner());
        let Some(e) = errors.first() else {
            return self.decode_node(&root);
        };
        // The parser keeps the first of two equal keys, as the JSON reader does.
        if e.message() == "duplicate key"
            && let Some(span) = e.span()
        {
            return Err(self.duplicate(&root, toml_key_path(&root, text, span)));
        }
        let at = e
            .span()
            .map(|s| crate::source::Source::new("", text).line_col(s.start))
            .map_or_else(String::new, |(l, c)| format!(" at line {l} column {c}"));
        Err(Rejected {
            request_id: None,
            error: RequestError::Syntax {
                path: String::new(),
                message: format!("invalid TOML{at}: {}", e.message()),
                help: None,
            },
        })
    }

    /// Decodes a request already parsed as JSON. `serde_json::Value` keeps
    /// only the last of two equal keys: [`Schema::decode_json`] is the safe
    /// way from text.
    pub fn decode_value(&self, value: &serde_json::Value) -> Result<Request, Rejected> {
        self.decode_node(value)
    }

    fn decode_node<N: Node>(&self, root: &N) -> Result<Request, Rejected> {
        Decoder { schema: self }
            .request(root)
            .map_err(|error| Rejected {
                request_id: self.read_request_id(root),
                error,
            })
    }

    /// A key given twice at `path`: the request id is echoed unless it is
    /// the key in doubt.
    fn duplicate<N: Node>(&self, root: &N, path: String) -> Rejected {
        let id_in_doubt = self
            .fields
            .get(self.request_id.0 as usize)
            .is_some_and(|f| f.path == path);
        Rejected {
            request_id: (!id_in_doubt)
                .then(|| self.read_request_id(root))
                .flatten(),
            error: RequestError::DuplicateKey {
                message: format!("`{path}` is given twice"),
                help: Some(
                    "a key may appear once in an object (also when written with escapes); remove one of them"
                        .to_owned(),
                ),
                path,
            },
        }
    }

    fn read_request_id<N: Node>(&self, root: &N) -> Option<String> {
        let field = self.fields.get(self.request_id.0 as usize)?;
        match lookup(root, &field.path)?.kind() {
            Kind::Str(s) => Some(s.to_owned()),
            _ => None,
        }
    }
}

/// The path of the key the TOML parser found given twice at `span`: the
/// table header in force there and the key as written on its line (or the
/// header itself, for a table given twice), once the parser's own first
/// reading confirms that path; otherwise the nearest key of that name
/// written before it.
fn toml_key_path(root: &DeValue<'_>, text: &str, span: std::ops::Range<usize>) -> String {
    let before = text.get(..span.start).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text
        .get(line_start..span.end)
        .unwrap_or_default()
        .trim_start();
    let keys = match line.strip_prefix('[') {
        Some(header) => dotted(header.trim_start_matches('[')),
        None => {
            let header = before
                .get(..line_start)
                .unwrap_or_default()
                .lines()
                .rev()
                .map(str::trim_start)
                .find(|l| l.starts_with('['))
                .map_or(Some(Vec::new()), |l| {
                    let inner = l.trim_start_matches('[');
                    dotted(inner.get(..inner.find(']')?)?)
                });
            header.zip(dotted(line)).map(|(mut h, own)| {
                h.extend(own);
                h
            })
        }
    };
    if let Some(keys) = keys.filter(|k| !k.is_empty() && exists(root, k)) {
        return keys
            .iter()
            .fold(String::new(), |path, k| child_path(&path, k));
    }
    let name = text
        .get(span.clone())
        .and_then(dotted)
        .and_then(|k| k.last().cloned());
    let name = name.unwrap_or_else(|| text.get(span.clone()).unwrap_or_default().to_owned());
    nearest_before(root, &name, span.start).unwrap_or_else(|| child_path("", &name))
}

/// The keys of a dotted key as TOML reads it (`item."paid amount"`),
/// quotes and escapes undone; `None` when it is not one.
fn dotted(written: &str) -> Option<Vec<String>> {
    let line = format!("{} = 0", written.trim());
    let doc = DeTable::parse(&line).ok()?;
    let mut keys = Vec::new();
    let mut table = doc.get_ref();
    loop {
        let (k, v) = table.iter().next()?;
        keys.push(k.get_ref().to_string());
        match v.get_ref() {
            DeValue::Table(t) => table = t,
            _ => return Some(keys),
        }
    }
}

/// Whether the document holds a value at `keys`.
fn exists(root: &DeValue<'_>, keys: &[String]) -> bool {
    let mut node = root;
    for k in keys {
        match node.as_table().and_then(|t| t.get(k.as_str())) {
            Some(v) => node = v.get_ref(),
            None => return false,
        }
    }
    true
}

/// The path of the last key named `name` written before `offset`.
fn nearest_before(root: &DeValue<'_>, name: &str, offset: usize) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    let mut stack: Vec<(String, &DeValue<'_>)> = vec![(String::new(), root)];
    while let Some((path, node)) = stack.pop() {
        match node {
            DeValue::Table(t) => {
                for (k, v) in t.iter() {
                    let here = child_path(&path, k.get_ref());
                    let start = k.span().start;
                    if k.get_ref().as_ref() == name
                        && start < offset
                        && best.as_ref().is_none_or(|(s, _)| start > *s)
                    {
                        best = Some((start, here.clone()));
                    }
                    stack.push((here, v.get_ref()));
                }
            }
            DeValue::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    stack.push((format!("{path}[{i}]"), v.get_ref()));
                }
            }
            _ => {}
        }
    }
    best.map(|(_, p)| p)
}
