//! Refund requests: decoding JSON or TOML into [`Request`] values, driven by
//! the [`Schema`], and the errors that make a request unevaluable.
//!
//! # What is checked, in which order
//!
//! Decoding stops at the first problem, found in this order:
//!
//! 1. **Syntax**: the text must be one JSON value (or a TOML document).
//! 2. **Shape**: the request must be an object.
//! 3. **Unknown fields**, depth first, in key order (document order for TOML;
//!    for JSON the order `serde_json` keeps, sorted by key): every key must be a
//!    field or a group of the schema (`item`), and a group must hold an object
//!    (`null` for a group means the same as leaving it out). Unknown fields
//!    come before missing ones so that a typo (`paid_amont`) is reported as
//!    itself, with a suggestion, rather than as the missing field it meant.
//! 4. **Each field, in schema order**: missing (absent or `null`) required
//!    field, wrong JSON type, then the value itself (enum variant, amount form
//!    and precision, range, timestamp form and offset, currency code).
//!    An optional field left out or `null` takes its default, or is absent.
//! 5. **Chronology**, in schema order: for each `[[chronology]]` rule whose two
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
//! # Paths
//!
//! Error paths are dotted (`item.paid_amount`), empty for errors about the
//! whole document. A key that is not a plain name is written in brackets:
//! `item["paid amount"]`.

use std::sync::Arc;

use miette::Diagnostic;
use toml::de::{DeTable, DeValue};

use crate::schema::scalar::{
    AmountError, TIMESTAMP_EXAMPLE, TimestampError, backticked, is_currency_code, is_name,
    parse_decimal, parse_timestamp, suggest, toml_datetime_text,
};
use crate::schema::{Field, FieldId, FieldType, Schema};
use crate::value::Value;

/// A decoded request: one value per schema field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Indexed by [`FieldId`]`.0`; optional fields left out hold their default
    /// or [`Value::Absent`].
    pub values: Vec<Value>,
    /// The value of the schema's request id field.
    pub request_id: Option<Arc<str>>,
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

/// Why a request cannot be evaluated. Every variant carries the JSON `path`
/// of the offending value (empty for the whole document), the `message`, and
/// a `help` with the fix when there is one. Codes are stable:
/// `rpl::request::<name>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Diagnostic)]
pub enum RequestError {
    /// Not valid JSON or TOML.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::syntax))]
    Syntax {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A value of the wrong JSON type (a number for a string, an array for
    /// an object, ...).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::wrong_type))]
    WrongType {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A required field left out or `null`.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::missing_field))]
    MissingField {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A key the schema does not declare.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::unknown_field))]
    UnknownField {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// An enum value not in the field's list.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::unknown_variant))]
    UnknownVariant {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// An amount given as a number: a float may already have lost cents.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::amount_not_string))]
    AmountNotString {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// An amount with more digits after the point than allowed (2).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::amount_precision))]
    AmountPrecision {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// An amount string that is not a plain decimal (`1e3`, `+1`, `abc`).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::bad_amount))]
    BadAmount {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A number outside the field's bounds (negative amount, quantity 0, or
    /// too large to hold exactly).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::out_of_range))]
    OutOfRange {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A timestamp that is not RFC 3339 or not a real date and time.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::bad_timestamp))]
    BadTimestamp {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A timestamp without `Z` or `+hh:mm`: ambiguous.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::missing_offset))]
    MissingOffset {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// Two timestamps in an impossible order (a refund requested before the
    /// order was placed, ...).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::dates_out_of_order))]
    DatesOutOfOrder {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A currency that is not three capital letters.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::bad_currency))]
    BadCurrency {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl RequestError {
    /// Every code a request error can have, for tests and documentation.
    pub const CODES: &'static [&'static str] = &[
        "rpl::request::syntax",
        "rpl::request::wrong_type",
        "rpl::request::missing_field",
        "rpl::request::unknown_field",
        "rpl::request::unknown_variant",
        "rpl::request::amount_not_string",
        "rpl::request::amount_precision",
        "rpl::request::bad_amount",
        "rpl::request::out_of_range",
        "rpl::request::bad_timestamp",
        "rpl::request::missing_offset",
        "rpl::request::dates_out_of_order",
        "rpl::request::bad_currency",
    ];

    fn parts(&self) -> (&'static str, &str, &str, Option<&str>) {
        use RequestError as E;
        let (code, path, message, help) = match self {
            E::Syntax {
                path,
                message,
                help,
            } => ("syntax", path, message, help),
            E::WrongType {
                path,
                message,
                help,
            } => ("wrong_type", path, message, help),
            E::MissingField {
                path,
                message,
                help,
            } => ("missing_field", path, message, help),
            E::UnknownField {
                path,
                message,
                help,
            } => ("unknown_field", path, message, help),
            E::UnknownVariant {
                path,
                message,
                help,
            } => ("unknown_variant", path, message, help),
            E::AmountNotString {
                path,
                message,
                help,
            } => ("amount_not_string", path, message, help),
            E::AmountPrecision {
                path,
                message,
                help,
            } => ("amount_precision", path, message, help),
            E::BadAmount {
                path,
                message,
                help,
            } => ("bad_amount", path, message, help),
            E::OutOfRange {
                path,
                message,
                help,
            } => ("out_of_range", path, message, help),
            E::BadTimestamp {
                path,
                message,
                help,
            } => ("bad_timestamp", path, message, help),
            E::MissingOffset {
                path,
                message,
                help,
            } => ("missing_offset", path, message, help),
            E::DatesOutOfOrder {
                path,
                message,
                help,
            } => ("dates_out_of_order", path, message, help),
            E::BadCurrency {
                path,
                message,
                help,
            } => ("bad_currency", path, message, help),
        };
        let code = Self::CODES
            .iter()
            .copied()
            .find(|c| c.strip_prefix("rpl::request::") == Some(code))
            .unwrap_or("rpl::request::unknown");
        (code, path, message, help.as_deref())
    }

    /// The stable code, such as `rpl::request::missing_field`.
    pub fn code(&self) -> &'static str {
        self.parts().0
    }

    /// JSON path of the offending value, such as `item.paid_amount`; empty
    /// when the error is about the whole document.
    pub fn path(&self) -> &str {
        self.parts().1
    }

    /// The message, without the help.
    pub fn message(&self) -> &str {
        self.parts().2
    }

    /// How to fix it, when there is something to say.
    pub fn help_text(&self) -> Option<&str> {
        self.parts().3
    }
}

// ----- entry points ---------------------------------------------------------

impl Schema {
    /// Decodes one JSON request. See the [module docs](crate::request) for the order
    /// of checks.
    pub fn decode_json(&self, text: &str) -> Result<Request, Rejected> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Rejected {
            request_id: None,
            error: RequestError::Syntax {
                path: String::new(),
                message: format!("invalid JSON: {e}"),
                help: Some(
                    "a request is one JSON object, such as `{\"request_id\": ...}`".to_owned(),
                ),
            },
        })?;
        self.decode_value(&value)
    }

    /// Decodes one TOML request (same structure as JSON; see the
    /// [module docs](crate::request) for timestamps in TOML).
    pub fn decode_toml(&self, text: &str) -> Result<Request, Rejected> {
        let root = DeTable::parse(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| crate::source::Source::new("", text).line_col(s.start))
                .map_or_else(String::new, |(l, c)| format!(" at line {l} column {c}"));
            Rejected {
                request_id: None,
                error: RequestError::Syntax {
                    path: String::new(),
                    message: format!("invalid TOML{at}: {}", e.message()),
                    help: None,
                },
            }
        })?;
        self.decode_node(&DeValue::Table(root.into_inner()))
    }

    /// Decodes a request already parsed as JSON.
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

    fn read_request_id<N: Node>(&self, root: &N) -> Option<String> {
        let field = self.fields.get(self.request_id.0 as usize)?;
        match lookup(root, &field.path)?.kind() {
            Kind::Str(s) => Some(s.to_owned()),
            _ => None,
        }
    }
}

// ----- documents: JSON and TOML behind one view -----------------------------

/// What a document value is, for the decoder.
enum Kind<'a> {
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
trait Node: Sized {
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
        match self {
            DeValue::Integer(i) => i.to_string(),
            DeValue::Float(f) => f.to_string(),
            _ => String::new(),
        }
    }
}

/// The value at a dotted path; `None` when it, or a group on the way, is
/// left out or `null`.
fn lookup<'n, N: Node>(root: &'n N, path: &str) -> Option<&'n N> {
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
const QUOTE_LIMIT: usize = 60;

/// How a found value is described: ``the string `"abc"` ``, `an array`.
fn found<N: Node>(node: &N) -> String {
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
fn quote(s: &str) -> String {
    format!("`\"{}\"`", clip(s))
}

/// A request string JSON-escaped (control characters and all) without the
/// quotes, cut to [`QUOTE_LIMIT`] characters.
fn clip(s: &str) -> String {
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

/// `item.paid_amount`, or `item["paid amount"]` for a key that is not a name.
fn child_path(parent: &str, key: &str) -> String {
    if is_name(key) {
        if parent.is_empty() {
            key.to_owned()
        } else {
            format!("{parent}.{key}")
        }
    } else {
        format!("{parent}[{}]", serde_json::Value::String(key.to_owned()))
    }
}

// ----- the decoder ----------------------------------------------------------

struct Decoder<'s> {
    schema: &'s Schema,
}

impl Decoder<'_> {
    fn request<N: Node>(&self, root: &N) -> Result<Request, RequestError> {
        if !matches!(root.kind(), Kind::Object) {
            return Err(RequestError::WrongType {
                path: String::new(),
                message: format!("a request must be an object, found {}", found(root)),
                help: Some(
                    "write the request as one object, such as `{\"request_id\": ...}`".to_owned(),
                ),
            });
        }
        self.unknown_fields(root, "")?;
        let mut values = Vec::with_capacity(self.schema.fields.len());
        for field in &self.schema.fields {
            values.push(self.field(field, root)?);
        }
        self.chronology(root, &values)?;
        let request_id = match values.get(self.schema.request_id.0 as usize) {
            Some(Value::Str(id)) => Some(Arc::clone(id)),
            _ => None,
        };
        Ok(Request { values, request_id })
    }

    /// Step 3: every key of `node` (the group at `prefix`) is declared.
    fn unknown_fields<N: Node>(&self, node: &N, prefix: &str) -> Result<(), RequestError> {
        for (key, child) in node.members() {
            let path = child_path(prefix, key);
            if is_name(key) && self.schema.lookup(&path).is_some() {
                continue;
            }
            if is_name(key) && self.schema.is_group(&path) {
                match child.kind() {
                    Kind::Object => self.unknown_fields(child, &path)?,
                    Kind::Null => {}
                    _ => {
                        return Err(RequestError::WrongType {
                            message: format!("`{path}` must be an object, found {}", found(child)),
                            help: Some(format!(
                                "`{path}` groups the fields {}",
                                backticked(self.children(&path))
                            )),
                            path,
                        });
                    }
                }
                continue;
            }
            return Err(self.unknown_field(prefix, key, path));
        }
        Ok(())
    }

    fn children(&self, group: &str) -> impl Iterator<Item = &str> {
        self.schema
            .children(group)
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
    }

    fn unknown_field(&self, prefix: &str, key: &str, path: String) -> RequestError {
        let full = if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        };
        let help = if key.contains('.')
            && (self.schema.lookup(&full).is_some() || self.schema.is_group(&full))
        {
            let nested = full.split('.').rev().fold("...".to_owned(), |inner, seg| {
                format!("{{\"{seg}\": {inner}}}")
            });
            format!("a dotted path is written as nested objects: `{nested}`")
        } else if let Some(s) = suggest(key, self.children(prefix)) {
            format!("did you mean `{}`?", child_path(prefix, s))
        } else if prefix.is_empty() {
            format!("the request may hold {}", backticked(self.children(prefix)))
        } else {
            format!("`{prefix}` may hold {}", backticked(self.children(prefix)))
        };
        RequestError::UnknownField {
            message: format!("unknown field `{path}`"),
            help: Some(help),
            path,
        }
    }

    /// Step 4: one field's value.
    fn field<N: Node>(&self, field: &Field, root: &N) -> Result<Value, RequestError> {
        // Borrowed: a decoded request builds no text, only an error does.
        let path = field.path.as_str();
        let node = match lookup(root, &field.path) {
            Some(n) if !matches!(n.kind(), Kind::Null) => n,
            present => {
                if !field.required {
                    return Ok(field.default.clone());
                }
                let message = if present.is_some() {
                    format!("required field `{path}` is `null`")
                } else {
                    format!("missing required field `{path}`")
                };
                let help = Some(format!("give `{path}`: {}", expected(field)));
                return Err(RequestError::MissingField {
                    path: path.to_owned(),
                    message,
                    help,
                });
            }
        };
        let wrong_type = || RequestError::WrongType {
            message: format!(
                "`{}` must be {}, found {}",
                field.path,
                expected(field),
                found(node)
            ),
            help: None,
            path: field.path.clone(),
        };
        match (&field.ty, node.kind()) {
            (FieldType::String, Kind::Str(s)) => Ok(Value::Str(Arc::from(s))),
            (FieldType::Bool, Kind::Bool(b)) => Ok(Value::Bool(b)),
            (FieldType::Int { min, max }, Kind::Int(n)) => int(path, n, *min, *max),
            (FieldType::Int { .. }, Kind::BigInt) => Err(RequestError::OutOfRange {
                message: format!("`{path}` is too large: `{}`", node.number_text()),
                help: None,
                path: path.to_owned(),
            }),
            (FieldType::Decimal { min, max_scale }, Kind::Str(s)) => {
                amount(path, s, *min, *max_scale).map(Value::Decimal)
            }
            (FieldType::Money { min, max_scale, .. }, Kind::Str(s)) => {
                let mut d = amount(path, s, *min, *max_scale)?;
                // Amounts carry their full scale, so that `4999` prints as `4999.00`.
                d.rescale(*max_scale);
                Ok(Value::Money(d))
            }
            (
                FieldType::Decimal { .. } | FieldType::Money { .. },
                Kind::Int(_) | Kind::BigInt | Kind::Float,
            ) => {
                let n = node.number_text();
                Err(RequestError::AmountNotString {
                    message: format!("`{path}` must be a string, found the number `{n}`"),
                    help: Some(format!(
                        "quote the amount: `\"{n}\"`; a number may already have lost cents"
                    )),
                    path: path.to_owned(),
                })
            }
            (FieldType::Enum(e), Kind::Str(s)) => match e.index_of(s) {
                Some(i) => Ok(Value::Enum(i)),
                None => {
                    let allowed = backticked(e.variants().iter().map(String::as_str));
                    let help = match suggest(s, e.variants().iter().map(String::as_str)) {
                        Some(near) => {
                            format!("did you mean `{near}`? `{path}` is one of {allowed}")
                        }
                        None => format!("`{path}` is one of {allowed}"),
                    };
                    Err(RequestError::UnknownVariant {
                        message: format!("unknown value `{}` for `{path}`", clip(s)),
                        help: Some(help),
                        path: path.to_owned(),
                    })
                }
            },
            (FieldType::Timestamp, Kind::Str(s)) => timestamp(path, s),
            (FieldType::Timestamp, Kind::Datetime(d)) => timestamp(path, &toml_datetime_text(d)),
            (FieldType::Currency, Kind::Str(s)) if is_currency_code(s) => {
                Ok(Value::Str(Arc::from(s)))
            }
            (FieldType::Currency, Kind::Str(s)) => Err(RequestError::BadCurrency {
                message: format!("`{path}` is not a currency code: {}", quote(s)),
                help: Some(
                    "write the ISO 4217 code in three capital letters, such as `CNY`".to_owned(),
                ),
                path: path.to_owned(),
            }),
            _ => Err(wrong_type()),
        }
    }

    /// Step 5: dates in a possible order.
    fn chronology<N: Node>(&self, root: &N, values: &[Value]) -> Result<(), RequestError> {
        for c in &self.schema.constraints {
            let (Some(Value::Timestamp(earlier)), Some(Value::Timestamp(later))) = (
                values.get(c.earlier.0 as usize),
                values.get(c.later.0 as usize),
            ) else {
                continue;
            };
            if earlier <= later {
                continue;
            }
            let earlier_path = &self.schema.field(c.earlier).path;
            let later_path = self.schema.field(c.later).path.clone();
            let as_written = |path: &str| match lookup(root, path).map(Node::kind) {
                Some(Kind::Str(s)) => s.to_owned(),
                Some(Kind::Datetime(d)) => d.to_string(),
                _ => String::new(),
            };
            return Err(RequestError::DatesOutOfOrder {
                message: format!(
                    "`{later_path}` (`{}`) is before `{earlier_path}` (`{}`)",
                    as_written(&later_path),
                    as_written(earlier_path)
                ),
                help: Some(format!(
                    "check both dates: `{earlier_path}` cannot be after `{later_path}`"
                )),
                path: later_path,
            });
        }
        Ok(())
    }
}

/// What a field takes, for messages: "an integer >= 1", ...
fn expected(field: &Field) -> String {
    match &field.ty {
        FieldType::String => "a string".to_owned(),
        FieldType::Int { min, max } => match (min, max) {
            (Some(lo), Some(hi)) => format!("an integer from {lo} to {hi}"),
            (Some(lo), None) => format!("an integer >= {lo}"),
            (None, Some(hi)) => format!("an integer <= {hi}"),
            (None, None) => "an integer".to_owned(),
        },
        FieldType::Decimal { .. } | FieldType::Money { .. } => {
            "an amount as a string, such as `\"4999.00\"`".to_owned()
        }
        FieldType::Bool => "`true` or `false`".to_owned(),
        FieldType::Enum(e) => format!(
            "one of {}",
            backticked(e.variants().iter().map(String::as_str))
        ),
        FieldType::Timestamp => {
            format!("a timestamp with offset, such as `\"{TIMESTAMP_EXAMPLE}\"`")
        }
        FieldType::Currency => "a currency code, such as `\"CNY\"`".to_owned(),
    }
}

fn int(path: &str, n: i64, min: Option<i64>, max: Option<i64>) -> Result<Value, RequestError> {
    let bound = match (min, max) {
        (Some(lo), _) if n < lo => Some(format!("at least {lo}")),
        (_, Some(hi)) if n > hi => Some(format!("at most {hi}")),
        _ => None,
    };
    match bound {
        None => Ok(Value::Int(n)),
        Some(bound) => Err(RequestError::OutOfRange {
            message: format!("`{path}` must be {bound}, found `{n}`"),
            help: None,
            path: path.to_owned(),
        }),
    }
}

fn amount(
    path: &str,
    text: &str,
    min: Option<rust_decimal::Decimal>,
    max_scale: u32,
) -> Result<rust_decimal::Decimal, RequestError> {
    let shown = || quote(text);
    match parse_decimal(text, max_scale) {
        Ok(d) => match min {
            Some(m) if d < m => Err(RequestError::OutOfRange {
                message: format!("`{path}` must be at least {m}, found {}", shown()),
                help: None,
                path: path.to_owned(),
            }),
            _ => Ok(d),
        },
        Err(AmountError::NotDecimal) => Err(RequestError::BadAmount {
            message: format!("`{path}` is not a decimal amount: {}", shown()),
            help: Some(
                "write digits with an optional point, such as `\"4999.00\"` or `\"4999\"`"
                    .to_owned(),
            ),
            path: path.to_owned(),
        }),
        Err(AmountError::Precision(n)) => Err(RequestError::AmountPrecision {
            message: format!(
                "`{path}` has {n} digits after the point, at most {max_scale} are allowed: {}",
                shown()
            ),
            help: Some("give the amount in cents, such as `\"4999.00\"`".to_owned()),
            path: path.to_owned(),
        }),
        Err(AmountError::TooLarge) => Err(RequestError::OutOfRange {
            message: format!("`{path}` has too many digits: {}", shown()),
            help: None,
            path: path.to_owned(),
        }),
    }
}

fn timestamp(path: &str, text: &str) -> Result<Value, RequestError> {
    let shown = || quote(text);
    match parse_timestamp(text) {
        Ok(t) => Ok(Value::Timestamp(t)),
        Err(TimestampError::MissingOffset) => Err(RequestError::MissingOffset {
            message: format!("`{path}` has no offset: {}", shown()),
            help: Some(format!(
                "add the offset from UTC, such as `{TIMESTAMP_EXAMPLE}`; a time without one is ambiguous"
            )),
            path: path.to_owned(),
        }),
        Err(TimestampError::Invalid(why)) => Err(RequestError::BadTimestamp {
            message: format!("`{path}` is not a valid timestamp: {}", shown()),
            help: Some(format!(
                "{why}; write RFC 3339, such as `{TIMESTAMP_EXAMPLE}`"
            )),
            path: path.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use serde_json::{Value as J, json};

    use super::*;

    static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::builtin().unwrap());

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requests")
    }

    fn read(name: &str) -> String {
        std::fs::read_to_string(fixtures().join(name)).unwrap()
    }

    fn example() -> J {
        serde_json::from_str(&read("example.json")).unwrap()
    }

    /// The example with each `(path, value)` set, or removed for `None`.
    fn with(edits: &[(&str, Option<J>)]) -> J {
        let mut doc = example();
        for (path, value) in edits {
            let mut node = &mut doc;
            let mut segs: Vec<&str> = path.split('.').collect();
            let last = segs.pop().unwrap();
            for seg in segs {
                node = node
                    .as_object_mut()
                    .unwrap()
                    .entry(seg)
                    .or_insert(json!({}));
            }
            let object = node.as_object_mut().unwrap();
            match value {
                Some(v) => object.insert(last.to_owned(), v.clone()),
                None => object.remove(last),
            };
        }
        doc
    }

    fn value(req: &Request, path: &str) -> Value {
        req.get(SCHEMA.lookup(path).unwrap()).clone()
    }

    fn money(s: &str) -> Value {
        Value::Money(s.parse().unwrap())
    }

    fn ts(s: &str) -> Value {
        Value::Timestamp(s.parse().unwrap())
    }

    /// The one helper tests go through: decode and compare code and path.
    fn check(doc: &J, code: &str, path: &str) -> Rejected {
        let rejected = SCHEMA.decode_value(doc).expect_err("expected an error");
        assert_eq!(
            (rejected.error.code(), rejected.error.path()),
            (code, path),
            "{}",
            rejected.error
        );
        rejected
    }

    #[test]
    fn the_contract_example_decodes() {
        let req = SCHEMA.decode_json(&read("example.json")).unwrap();
        assert_eq!(req.request_id.as_deref(), Some("RF-20250103-0001"));
        assert_eq!(req.values.len(), SCHEMA.fields.len());
        assert_eq!(
            value(&req, "request_id"),
            Value::Str("RF-20250103-0001".into())
        );
        assert_eq!(value(&req, "channel"), Value::Enum(0));
        assert_eq!(value(&req, "reason"), Value::Enum(0));
        assert_eq!(value(&req, "requested_at"), ts("2025-01-03T02:20:00Z"));
        assert_eq!(
            value(&req, "order.delivered_at"),
            ts("2024-12-30T07:40:00Z")
        );
        assert_eq!(value(&req, "item.paid_amount"), money("4999.00"));
        assert_eq!(value(&req, "item.quantity"), Value::Int(1));
        assert_eq!(value(&req, "item.condition"), Value::Enum(0));
        assert_eq!(value(&req, "item.gift_returned"), Value::Bool(true));
        assert_eq!(value(&req, "payment.method"), Value::Enum(2));
        assert_eq!(value(&req, "payment.currency"), Value::Str("CNY".into()));
        assert_eq!(value(&req, "payment.installments"), Value::Int(12));
    }

    #[test]
    fn the_toml_form_decodes_to_the_same_request() {
        let from_json = SCHEMA.decode_json(&read("example.json")).unwrap();
        let from_toml = SCHEMA.decode_toml(&read("example.toml")).unwrap();
        assert_eq!(from_json, from_toml);
    }

    #[test]
    fn amounts_keep_two_places() {
        let req = SCHEMA
            .decode_value(&with(&[("item.paid_amount", Some(json!("4999")))]))
            .unwrap();
        let Value::Money(d) = value(&req, "item.paid_amount") else {
            panic!()
        };
        assert_eq!(d.to_string(), "4999.00");
        let req = SCHEMA
            .decode_value(&with(&[("item.paid_amount", Some(json!("-0.00")))]))
            .unwrap();
        assert_eq!(value(&req, "item.paid_amount"), money("0"));
    }

    #[test]
    fn left_out_optional_fields_take_their_defaults() {
        let optional = [
            "order.delivered_at",
            "item.activated",
            "item.custom_made",
            "item.non_returnable_confirmed",
            "item.gift_value",
            "item.gift_returned",
            "payment.installments",
            "payment.installments_billed",
        ];
        let expected = [
            Value::Absent,
            Value::Bool(false),
            Value::Bool(false),
            Value::Bool(false),
            money("0.00"),
            Value::Bool(true),
            Value::Int(1),
            Value::Int(0),
        ];
        for fill in [None, Some(J::Null)] {
            let edits: Vec<(&str, Option<J>)> =
                optional.iter().map(|p| (*p, fill.clone())).collect();
            let req = SCHEMA.decode_value(&with(&edits)).unwrap();
            let got: Vec<Value> = optional.iter().map(|p| value(&req, p)).collect();
            assert_eq!(got, expected, "filled with {fill:?}");
        }
    }

    #[test]
    fn an_offset_keeps_the_instant() {
        let req = SCHEMA
            .decode_value(&with(&[(
                "requested_at",
                Some(json!("2025-01-03T07:20:00+05:00")),
            )]))
            .unwrap();
        assert_eq!(value(&req, "requested_at"), ts("2025-01-03T02:20:00Z"));
    }

    /// One fixture per code (ruff's habit), with the path it must report.
    #[test]
    fn every_code_has_a_fixture_with_its_path() {
        let cases = [
            ("syntax", ""),
            ("wrong_type", "item.quantity"),
            ("missing_field", "item.paid_amount"),
            ("unknown_field", "item.paid_amont"),
            ("unknown_variant", "channel"),
            ("amount_not_string", "item.paid_amount"),
            ("amount_precision", "item.paid_amount"),
            ("bad_amount", "item.paid_amount"),
            ("out_of_range", "item.quantity"),
            ("bad_timestamp", "requested_at"),
            ("missing_offset", "requested_at"),
            ("dates_out_of_order", "requested_at"),
            ("bad_currency", "payment.currency"),
        ];
        let codes: Vec<String> = cases
            .iter()
            .map(|(c, _)| format!("rpl::request::{c}"))
            .collect();
        assert_eq!(codes, RequestError::CODES, "every code, each once");
        for (name, path) in cases {
            let rejected = SCHEMA
                .decode_json(&read(&format!("errors/{name}.json")))
                .expect_err(name);
            let e = &rejected.error;
            assert_eq!(
                (e.code(), e.path()),
                (format!("rpl::request::{name}").as_str(), path)
            );
            assert_eq!(Diagnostic::code(e).unwrap().to_string(), e.code());
            assert_eq!(e.to_string(), e.message());
            assert!(!e.message().ends_with('.'), "{}", e.message());
            let id = (name != "syntax").then(|| "RF-20250103-0001".to_owned());
            assert_eq!(rejected.request_id, id, "{name}");
        }
    }

    #[test]
    fn type_and_value_errors() {
        let cases: &[(&str, J, &str)] = &[
            ("request_id", json!(17), "rpl::request::wrong_type"),
            ("item.activated", json!("false"), "rpl::request::wrong_type"),
            ("item.quantity", json!(1.5), "rpl::request::wrong_type"),
            ("item.quantity", json!(1.0), "rpl::request::wrong_type"),
            (
                "item.quantity",
                json!(u64::MAX),
                "rpl::request::out_of_range",
            ),
            ("item.quantity", json!(-3), "rpl::request::out_of_range"),
            (
                "payment.installments",
                json!(0),
                "rpl::request::out_of_range",
            ),
            (
                "payment.installments_billed",
                json!(-1),
                "rpl::request::out_of_range",
            ),
            (
                "item.category",
                json!(["phone"]),
                "rpl::request::wrong_type",
            ),
            (
                "item.category",
                json!("Phone"),
                "rpl::request::unknown_variant",
            ),
            (
                "item.paid_amount",
                json!(4999),
                "rpl::request::amount_not_string",
            ),
            (
                "item.gift_value",
                json!(0.0),
                "rpl::request::amount_not_string",
            ),
            (
                "item.paid_amount",
                json!("-1.00"),
                "rpl::request::out_of_range",
            ),
            ("item.paid_amount", json!("1e3"), "rpl::request::bad_amount"),
            ("item.paid_amount", json!(""), "rpl::request::bad_amount"),
            (
                "item.paid_amount",
                json!("4999.000"),
                "rpl::request::amount_precision",
            ),
            (
                "item.paid_amount",
                json!("79228162514264337593543950336"),
                "rpl::request::out_of_range",
            ),
            ("item.paid_amount", json!(true), "rpl::request::wrong_type"),
            (
                "requested_at",
                json!("2025-01-03"),
                "rpl::request::bad_timestamp",
            ),
            (
                "requested_at",
                json!("2025-01-03 10:20:00+08:00"),
                "rpl::request::bad_timestamp",
            ),
            (
                "requested_at",
                json!(1735871000),
                "rpl::request::wrong_type",
            ),
            (
                "order.placed_at",
                json!("2024-12-28T21:03:00"),
                "rpl::request::missing_offset",
            ),
            (
                "payment.currency",
                json!("RMB¥"),
                "rpl::request::bad_currency",
            ),
            ("payment.currency", json!(156), "rpl::request::wrong_type"),
            ("item.sku", J::Null, "rpl::request::missing_field"),
        ];
        for (path, v, code) in cases {
            let rejected = SCHEMA
                .decode_value(&with(&[(path, Some(v.clone()))]))
                .expect_err(path);
            assert_eq!(
                (rejected.error.code(), rejected.error.path()),
                (*code, *path),
                "{v}: {}",
                rejected.error
            );
        }
    }

    #[test]
    fn messages_say_what_and_help_says_how() {
        let r = check(
            &with(&[("item.paid_amount", Some(json!(4999.5)))]),
            "rpl::request::amount_not_string",
            "item.paid_amount",
        );
        assert_eq!(
            r.error.message(),
            "`item.paid_amount` must be a string, found the number `4999.5`"
        );
        assert_eq!(
            r.error.help_text(),
            Some("quote the amount: `\"4999.5\"`; a number may already have lost cents")
        );

        let r = check(
            &with(&[("channel", Some(json!("offical_mall")))]),
            "rpl::request::unknown_variant",
            "channel",
        );
        assert_eq!(
            r.error.message(),
            "unknown value `offical_mall` for `channel`"
        );
        assert_eq!(
            r.error.help_text(),
            Some(
                "did you mean `official_mall`? `channel` is one of `official_mall`, `partner_platform`, `offline_store`"
            )
        );

        let r = check(
            &with(&[("item.quantity", Some(json!("1")))]),
            "rpl::request::wrong_type",
            "item.quantity",
        );
        assert_eq!(
            r.error.message(),
            "`item.quantity` must be an integer >= 1, found the string `\"1\"`"
        );

        let r = check(
            &with(&[("item.paid_amount", None)]),
            "rpl::request::missing_field",
            "item.paid_amount",
        );
        assert_eq!(
            r.error.message(),
            "missing required field `item.paid_amount`"
        );

        let r = check(
            &read_json("errors/dates_out_of_order.json"),
            "rpl::request::dates_out_of_order",
            "requested_at",
        );
        assert_eq!(
            r.error.message(),
            "`requested_at` (`2024-12-29T10:20:00+08:00`) is before `order.delivered_at` (`2024-12-30T15:40:00+08:00`)"
        );
    }

    fn read_json(name: &str) -> J {
        serde_json::from_str(&read(name)).unwrap()
    }

    #[test]
    fn unknown_fields_come_before_missing_ones() {
        let doc = with(&[
            ("item.paid_amount", None),
            ("item.paid_amont", Some(json!("4999.00"))),
        ]);
        let r = check(&doc, "rpl::request::unknown_field", "item.paid_amont");
        assert_eq!(
            r.error.help_text(),
            Some("did you mean `item.paid_amount`?")
        );
        let r = check(
            &with(&[("refund", Some(json!(1)))]),
            "rpl::request::unknown_field",
            "refund",
        );
        assert!(
            r.error
                .help_text()
                .unwrap()
                .starts_with("the request may hold `request_id`, `channel`")
        );
        let r = check(
            &with(&[("item.paid amount", Some(json!(1)))]),
            "rpl::request::unknown_field",
            "item[\"paid amount\"]",
        );
        assert_eq!(
            r.error.help_text(),
            Some("did you mean `item.paid_amount`?")
        );
    }

    #[test]
    fn dotted_keys_are_told_to_nest() {
        let mut doc = example();
        doc.as_object_mut()
            .unwrap()
            .insert("item.sku".into(), json!("X"));
        let r = check(&doc, "rpl::request::unknown_field", "[\"item.sku\"]");
        assert_eq!(
            r.error.help_text(),
            Some("a dotted path is written as nested objects: `{\"item\": {\"sku\": ...}}`")
        );
    }

    #[test]
    fn groups_must_be_objects_and_null_groups_are_absent() {
        check(
            &with(&[("item", Some(json!("phone")))]),
            "rpl::request::wrong_type",
            "item",
        );
        check(
            &with(&[("order", Some(J::Null))]),
            "rpl::request::missing_field",
            "order.order_id",
        );
        check(
            &with(&[("order", None)]),
            "rpl::request::missing_field",
            "order.order_id",
        );
        let r = check(&json!([1]), "rpl::request::wrong_type", "");
        assert_eq!(r.request_id, None);
        assert_eq!(
            r.error.message(),
            "a request must be an object, found an array"
        );
    }

    #[test]
    fn the_request_id_is_echoed_when_readable() {
        let r = check(
            &with(&[("item.quantity", Some(json!(0)))]),
            "rpl::request::out_of_range",
            "item.quantity",
        );
        assert_eq!(r.request_id.as_deref(), Some("RF-20250103-0001"));
        let r = check(
            &with(&[("request_id", Some(json!(1)))]),
            "rpl::request::wrong_type",
            "request_id",
        );
        assert_eq!(r.request_id, None);
        let r = SCHEMA
            .decode_json("{\"request_id\": \"RF-1\",")
            .unwrap_err();
        assert_eq!(r.request_id, None);
    }

    #[test]
    fn chronology_is_checked_in_schema_order() {
        // The path is the `later` field, even when `earlier` is the wrong one.
        let doc = with(&[("order.placed_at", Some(json!("2025-01-04T00:00:00+08:00")))]);
        check(&doc, "rpl::request::dates_out_of_order", "requested_at");
        // Requested before placed and before delivered: the first rule reports.
        let doc = with(&[("requested_at", Some(json!("2024-01-01T00:00:00Z")))]);
        check(&doc, "rpl::request::dates_out_of_order", "requested_at");
        let doc = with(&[(
            "order.delivered_at",
            Some(json!("2024-12-28T21:02:59+08:00")),
        )]);
        check(
            &doc,
            "rpl::request::dates_out_of_order",
            "order.delivered_at",
        );
        // Equal instants written with different offsets are in order.
        let doc = with(&[("order.delivered_at", Some(json!("2024-12-28T13:03:00Z")))]);
        assert!(SCHEMA.decode_value(&doc).is_ok());
        // An absent delivery date takes part in no rule.
        let doc = with(&[
            ("order.delivered_at", None),
            ("requested_at", Some(json!("2024-12-28T21:03:00+08:00"))),
        ]);
        assert!(SCHEMA.decode_value(&doc).is_ok());
    }

    #[test]
    fn toml_requests() {
        let example = read("example.toml");
        let decode = |from: &str, to: &str| SCHEMA.decode_toml(&example.replacen(from, to, 1));
        let err = |from: &str, to: &str| decode(from, to).unwrap_err().error;
        let e = err(
            "requested_at = 2025-01-03T10:20:00+08:00",
            "requested_at = 2025-01-03T10:20:00",
        );
        assert_eq!(
            (e.code(), e.path()),
            ("rpl::request::missing_offset", "requested_at")
        );
        let e = err(
            "requested_at = 2025-01-03T10:20:00+08:00",
            "requested_at = 2025-01-03",
        );
        assert_eq!(e.code(), "rpl::request::bad_timestamp");
        let e = err("sku = \"XM14-512-BLK\"", "sku = 2025-01-03");
        assert_eq!(
            (e.code(), e.path()),
            ("rpl::request::wrong_type", "item.sku")
        );
        let e = err("paid_amount = \"4999.00\"", "paid_amount = 4999.00");
        assert_eq!(e.code(), "rpl::request::amount_not_string");
        assert_eq!(
            e.help_text(),
            Some("quote the amount: `\"4999.00\"`; a number may already have lost cents")
        );
        let e = err("quantity = 1", "quantity = 0x10000000000000000");
        assert_eq!(e.code(), "rpl::request::out_of_range");
        let e = err("quantity = 1", "quantity = 0");
        assert_eq!(e.code(), "rpl::request::out_of_range");
        // TOML 1.1 lets seconds be left out.
        let req = decode(
            "requested_at = 2025-01-03T10:20:00+08:00",
            "requested_at = 2025-01-03T10:20+08:00",
        )
        .unwrap();
        assert_eq!(value(&req, "requested_at"), ts("2025-01-03T02:20:00Z"));
        let r = SCHEMA
            .decode_toml("request_id = \"X\"\n[item\n")
            .unwrap_err();
        assert_eq!(r.error.code(), "rpl::request::syntax");
        assert!(
            r.error
                .message()
                .starts_with("invalid TOML at line 2 column"),
            "{}",
            r.error.message()
        );
    }

    #[test]
    fn hostile_documents_are_errors_not_panics() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(
            SCHEMA.decode_json(&deep).unwrap_err().error.code(),
            "rpl::request::syntax"
        );
        let deep = format!("a = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            SCHEMA.decode_toml(&deep).unwrap_err().error.code(),
            "rpl::request::syntax"
        );
        let big = read("example.json").replace("\"quantity\": 1", "\"quantity\": 1e400");
        assert_eq!(
            SCHEMA.decode_json(&big).unwrap_err().error.code(),
            "rpl::request::syntax"
        );
        let long = "x".repeat(1_000_000);
        let r = check(
            &with(&[("channel", Some(json!(long)))]),
            "rpl::request::unknown_variant",
            "channel",
        );
        assert!(r.error.message().len() < 200);
        for text in ["", " ", "null", "\"x\"", "{}", "{\"item\": {}}"] {
            assert!(SCHEMA.decode_json(text).is_err(), "{text}");
        }
        assert_eq!(
            SCHEMA.decode_json("{}").unwrap_err().error.path(),
            "request_id"
        );
    }

    proptest! {
        #[test]
        fn decode_json_never_panics(text in "\\PC*") {
            let _ = SCHEMA.decode_json(&text);
            let _ = SCHEMA.decode_toml(&text);
        }

        #[test]
        fn decode_never_panics_on_a_mutated_example(pos in 0usize..900, c in any::<char>(), cut in proptest::bool::ANY) {
            let text = read("example.json");
            let mut chars: Vec<char> = text.chars().collect();
            let i = pos % chars.len();
            if cut { chars.remove(i); } else { chars[i] = c; }
            let text: String = chars.into_iter().collect();
            let _ = SCHEMA.decode_json(&text);
        }

        #[test]
        fn any_value_in_any_field_is_decoded_or_rejected(field in 0usize..21, v in json_value()) {
            let path = SCHEMA.fields[field].path.clone();
            let _ = SCHEMA.decode_value(&with(&[(&path, Some(v))]));
        }
    }

    fn json_value() -> impl Strategy<Value = J> {
        let leaf = prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            "\\PC{0,40}".prop_map(J::String),
            "-?[0-9]{1,30}(\\.[0-9]{0,4})?".prop_map(J::String),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?"
                .prop_map(J::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                    .prop_map(|m| J::Object(m.into_iter().collect())),
            ]
        })
    }
}
