//! The decoder: a document, read field by field against the schema.

use super::doc::{Kind, Node, child_path, clip, found, join, lookup, quote};
use super::{Request, RequestError};
use crate::schema::scalar::{
    AmountError, TIMESTAMP_EXAMPLE, TimestampError, backticked, is_currency_code, is_name,
    parse_decimal, parse_timestamp, suggest, toml_datetime_text,
};
use crate::schema::{Field, FieldType, OrderConstraint, Schema};
use crate::value::{Text, Value};
use rust_decimal::Decimal;

pub(super) struct Decoder<'s> {
    pub schema: &'s Schema,
}

impl Decoder<'_> {
    pub fn request<N: Node>(&self, root: &N) -> Result<Request, RequestError> {
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
        Ok(request(self.schema, values))
    }

    /// Step 3: every key of `node` (the group at `prefix`) is declared.
    fn unknown_fields<N: Node>(&self, node: &N, prefix: &str) -> Result<(), RequestError> {
        for (key, child) in node.members() {
            // Exact, for lookups; errors show a clipped `child_path`.
            let path = join(prefix, key);
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
            return Err(self.unknown_field(prefix, key));
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

    fn unknown_field(&self, prefix: &str, key: &str) -> RequestError {
        let full = join(prefix, key);
        let path = child_path(prefix, key);
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
        scalar(field, node.kind(), || node.number_text(), || found(node))
    }

    /// Step 5: dates in a possible order.
    fn chronology<N: Node>(&self, root: &N, values: &[Value]) -> Result<(), RequestError> {
        if let Some(c) = out_of_order(self.schema, values) {
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

/// The request holding `values`, with its id read out.
pub(super) fn request(schema: &Schema, values: Vec<Value>) -> Request {
    let request_id = match values.get(schema.request_id.0 as usize) {
        Some(Value::Str(id)) => Some(id.clone()),
        _ => None,
    };
    Request { values, request_id }
}

/// The first `[[chronology]]` rule, in schema order, whose two timestamps
/// are both given and out of order.
pub(super) fn out_of_order<'s>(
    schema: &'s Schema,
    values: &[Value],
) -> Option<&'s OrderConstraint> {
    schema.constraints.iter().find(|c| {
        matches!(
            (values.get(c.earlier.0 as usize), values.get(c.later.0 as usize)),
            (Some(Value::Timestamp(earlier)), Some(Value::Timestamp(later))) if earlier > later
        )
    })
}

/// A present, non-null value of `field`, validated and converted, or the
/// error that says why it is refused. `number_text` and `found` describe
/// the value for messages; they are only called to build an error.
pub(super) fn scalar(
    field: &Field,
    kind: Kind<'_>,
    number_text: impl Fn() -> String,
    found: impl Fn() -> String,
) -> Result<Value, RequestError> {
    let mut value = Value::Absent;
    if accept(field, kind, &mut value) {
        Ok(value)
    } else {
        Err(refusal(field, kind, number_text, found))
    }
}

/// Stores in `slot` a present, non-null value of `field`, when it is
/// valid: the one conversion of both the document decoder and the typed
/// one ([`super::typed`]), so that the two accept exactly the same values.
/// Whatever is refused (`false`, `slot` untouched) is explained by
/// [`refusal`], out of line.
///
/// The value is written into its slot, not returned: returned, it was
/// written as two words and read back as one, which the processor cannot
/// forward from store to load, a stall on every field.
#[inline]
pub(super) fn accept(field: &Field, kind: Kind<'_>, slot: &mut Value) -> bool {
    *slot = match (&field.ty, kind) {
        (FieldType::String, Kind::Str(s)) => Value::Str(Text::from(s)),
        (FieldType::Bool, Kind::Bool(b)) => Value::Bool(b),
        (FieldType::Int { min, max }, Kind::Int(n))
            if min.is_none_or(|lo| n >= lo) && max.is_none_or(|hi| n <= hi) =>
        {
            Value::Int(n)
        }
        (FieldType::Decimal { min, max_scale }, Kind::Str(s)) => {
            match amount_of(s, *min, *max_scale) {
                Some(d) => Value::Decimal(d),
                None => return false,
            }
        }
        (FieldType::Money { min, max_scale, .. }, Kind::Str(s)) => {
            match amount_of(s, *min, *max_scale) {
                Some(mut d) => {
                    // Amounts carry their full scale, so that `4999` prints as `4999.00`.
                    d.rescale(*max_scale);
                    Value::Money(d)
                }
                None => return false,
            }
        }
        (FieldType::Enum(e), Kind::Str(s)) => match e.index_of(s) {
            Some(i) => Value::Enum(i),
            None => return false,
        },
        (FieldType::Timestamp, Kind::Str(s)) => match parse_timestamp(s) {
            Ok(t) => Value::Timestamp(t),
            Err(_) => return false,
        },
        (FieldType::Timestamp, Kind::Datetime(d)) => {
            match parse_timestamp(&toml_datetime_text(d)) {
                Ok(t) => Value::Timestamp(t),
                Err(_) => return false,
            }
        }
        (FieldType::Currency, Kind::Str(s)) if is_currency_code(s) => Value::Str(Text::from(s)),
        _ => return false,
    };
    true
}

/// An amount that parses and is not below `min`.
#[inline]
fn amount_of(text: &str, min: Option<Decimal>, max_scale: u32) -> Option<Decimal> {
    parse_decimal(text, max_scale)
        .ok()
        .filter(|d| min.is_none_or(|m| *d >= m))
}

/// Why [`accept`] refused a present, non-null value of `field`.
#[cold]
fn refusal(
    field: &Field,
    kind: Kind<'_>,
    number_text: impl Fn() -> String,
    found: impl Fn() -> String,
) -> RequestError {
    let path = field.path.as_str();
    let refused = match (&field.ty, kind) {
        (FieldType::Int { min, max }, Kind::Int(n)) => out_of_range(path, n, *min, *max),
        (FieldType::Int { .. }, Kind::BigInt) => Some(RequestError::OutOfRange {
            message: format!("`{path}` is too large: `{}`", number_text()),
            help: None,
            path: path.to_owned(),
        }),
        (
            FieldType::Decimal { min, max_scale } | FieldType::Money { min, max_scale, .. },
            Kind::Str(s),
        ) => bad_amount(path, s, *min, *max_scale),
        (
            FieldType::Decimal { .. } | FieldType::Money { .. },
            Kind::Int(_) | Kind::BigInt | Kind::Float,
        ) => {
            let n = number_text();
            Some(RequestError::AmountNotString {
                message: format!("`{path}` must be a string, found the number `{n}`"),
                help: Some(format!(
                    "quote the amount: `\"{n}\"`; a number may already have lost cents"
                )),
                path: path.to_owned(),
            })
        }
        (FieldType::Enum(e), Kind::Str(s)) => {
            let allowed = backticked(e.variants().iter().map(String::as_str));
            let help = match suggest(s, e.variants().iter().map(String::as_str)) {
                Some(near) => format!("did you mean `{near}`? `{path}` is one of {allowed}"),
                None => format!("`{path}` is one of {allowed}"),
            };
            Some(RequestError::UnknownVariant {
                message: format!("unknown value `{}` for `{path}`", clip(s)),
                help: Some(help),
                path: path.to_owned(),
            })
        }
        (FieldType::Timestamp, Kind::Str(s)) => bad_timestamp(path, s),
        (FieldType::Timestamp, Kind::Datetime(d)) => bad_timestamp(path, &toml_datetime_text(d)),
        (FieldType::Currency, Kind::Str(s)) => Some(RequestError::BadCurrency {
            message: format!("`{path}` is not a currency code: {}", quote(s)),
            help: Some(
                "write the ISO 4217 code in three capital letters, such as `CNY`".to_owned(),
            ),
            path: path.to_owned(),
        }),
        _ => None,
    };
    // A value of the field's type is refused by one of the arms above;
    // anything else is of the wrong type.
    refused.unwrap_or_else(|| RequestError::WrongType {
        message: format!(
            "`{}` must be {}, found {}",
            field.path,
            expected(field),
            found()
        ),
        help: None,
        path: field.path.clone(),
    })
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

fn out_of_range(path: &str, n: i64, min: Option<i64>, max: Option<i64>) -> Option<RequestError> {
    let bound = match (min, max) {
        (Some(lo), _) if n < lo => format!("at least {lo}"),
        (_, Some(hi)) if n > hi => format!("at most {hi}"),
        _ => return None,
    };
    Some(RequestError::OutOfRange {
        message: format!("`{path}` must be {bound}, found `{n}`"),
        help: None,
        path: path.to_owned(),
    })
}

/// Why `text` is not an amount of the field at `path`.
fn bad_amount(
    path: &str,
    text: &str,
    min: Option<Decimal>,
    max_scale: u32,
) -> Option<RequestError> {
    let shown = || quote(text);
    Some(match parse_decimal(text, max_scale) {
        Ok(d) => match min {
            Some(m) if d < m => RequestError::OutOfRange {
                message: format!("`{path}` must be at least {m}, found {}", shown()),
                help: None,
                path: path.to_owned(),
            },
            _ => return None,
        },
        Err(AmountError::NotDecimal) => RequestError::BadAmount {
            message: format!("`{path}` is not a decimal amount: {}", shown()),
            help: Some(
                "write digits with an optional point, such as `\"4999.00\"` or `\"4999\"`"
                    .to_owned(),
            ),
            path: path.to_owned(),
        },
        Err(AmountError::Precision(n)) => RequestError::AmountPrecision {
            message: format!(
                "`{path}` has {n} digits after the point, at most {max_scale} are allowed: {}",
                shown()
            ),
            help: Some("give the amount in cents, such as `\"4999.00\"`".to_owned()),
            path: path.to_owned(),
        },
        Err(AmountError::TooLarge) => RequestError::OutOfRange {
            message: format!("`{path}` has too many digits: {}", shown()),
            help: None,
            path: path.to_owned(),
        },
    })
}

/// Why `text` is not a timestamp.
fn bad_timestamp(path: &str, text: &str) -> Option<RequestError> {
    let shown = || quote(text);
    Some(match parse_timestamp(text).err()? {
        TimestampError::MissingOffset => RequestError::MissingOffset {
            message: format!("`{path}` has no offset: {}", shown()),
            help: Some(format!(
                "add the offset from UTC, such as `{TIMESTAMP_EXAMPLE}`; a time without one is ambiguous"
            )),
            path: path.to_owned(),
        },
        TimestampError::Invalid(why) => RequestError::BadTimestamp {
            message: format!("`{path}` is not a valid timestamp: {}", shown()),
            help: Some(format!(
                "{why}; write RFC 3339, such as `{TIMESTAMP_EXAMPLE}`"
            )),
            path: path.to_owned(),
        },
    })
}
