//! Reading `[fields]`: paths, types and their keys, enum values.

use std::ops::Range;
use std::sync::Arc;

use rust_decimal::Decimal;
use toml::de::{DeTable, DeValue};

use super::{
    COMMON_KEYS, DEFAULT_MAX_PLACES, Loader, RawField, TYPE_NAMES, Val, amount_reason, field_place,
    get, sspan,
};
use crate::schema::scalar::{backticked, is_name, parse_decimal, suggest};
use crate::schema::{EnumType, FieldId, FieldType, SchemaError};

impl Loader {
    pub(super) fn raw_fields<'a, 'i>(&mut self, table: &'a DeTable<'i>) -> Vec<RawField<'a, 'i>> {
        let mut out = Vec::new();
        for (key, v) in table {
            let path: &str = key.get_ref();
            if let Some(reason) = bad_path(path) {
                self.errors.push(SchemaError::BadPath {
                    path: path.to_owned(),
                    reason: reason.to_owned(),
                    help: "write the path as dot-separated names in quotes, such as `[fields.\"item.paid_amount\"]`".to_owned(),
                    src: self.src.clone(),
                    span: sspan(key.span()),
                });
                continue;
            }
            let Some(def) = self.table(&format!("fields.\"{path}\""), v) else {
                continue;
            };
            if self.unquoted_path(path, def) {
                continue;
            }
            out.push(self.raw_field(path, key.span(), v.span(), def));
        }
        out
    }

    /// `[fields.order.placed_at]` (unquoted) makes a table `order` holding a
    /// table `placed_at`; say so instead of reporting a missing `type`.
    fn unquoted_path(&mut self, path: &str, def: &DeTable<'_>) -> bool {
        let nested = !def.is_empty()
            && get(def, "type").is_none()
            && def.values().all(|v| v.get_ref().is_table());
        if nested {
            for (inner, _) in def {
                let inner: &str = inner.get_ref();
                self.errors.push(SchemaError::BadPath {
                    path: format!("{path}.{inner}"),
                    reason:
                        "the path is not quoted, so it declares nested tables instead of one field"
                            .to_owned(),
                    help: format!("quote the path: `[fields.\"{path}.{inner}\"]`"),
                    src: self.src.clone(),
                    span: sspan(def.get_key_value(inner).map_or(0..0, |(k, _)| k.span())),
                });
            }
        }
        nested
    }

    fn raw_field<'a, 'i>(
        &mut self,
        path: &str,
        key_span: Range<usize>,
        table_span: Range<usize>,
        def: &'a DeTable<'i>,
    ) -> RawField<'a, 'i> {
        let place = field_place(path);
        let mut raw = RawField {
            path: path.to_owned(),
            key_span,
            ty: None,
            currency_ref: None,
            required: true,
            default: None,
            doc: None,
        };
        let type_name = match get(def, "type") {
            Some(v) => self.string("type", v).map(|s| (s, v)),
            None => {
                self.missing_key(
                    "type",
                    &place,
                    table_span,
                    &format!(
                        "add `type = ...`, one of {}",
                        backticked(TYPE_NAMES.iter().copied())
                    ),
                );
                None
            }
        };
        let type_keys: &[&str] = match type_name.map(|(s, _)| s) {
            Some("int") => &["min", "max"],
            Some("decimal") => &["min", "max_places"],
            Some("money") => &["currency", "min", "max_places"],
            Some("enum") => &["values"],
            _ => &[],
        };
        for (key, _) in def {
            let name: &str = key.get_ref();
            if COMMON_KEYS.contains(&name) || type_keys.contains(&name) {
                continue;
            }
            let extra = applies_to(name).map(|types| match type_name {
                Some((t, _)) => format!("`{name}` applies to {types} fields, not to `{t}`"),
                None => format!("`{name}` applies to {types} fields"),
            });
            let allowed: Vec<&str> = COMMON_KEYS.iter().chain(type_keys).copied().collect();
            self.check_key(key, &allowed, &place, extra);
        }
        raw.ty = type_name.and_then(|(name, v)| self.field_type(path, name, v, def));
        if let (Some(FieldType::Money { .. }), Some(v)) = (&raw.ty, get(def, "currency")) {
            raw.currency_ref = Some(v);
        } else if matches!(raw.ty, Some(FieldType::Money { .. })) {
            self.missing_key(
                "currency",
                &place,
                raw.key_span.clone(),
                "add `currency = \"<path of a currency field>\"`, such as `currency = \"payment.currency\"`",
            );
        }
        if let Some(v) = get(def, "doc") {
            raw.doc = self.string("doc", v).map(str::to_owned);
        }
        let optional = match get(def, "optional") {
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => Some((*b, v)),
                _ => {
                    self.wrong_type(
                        "optional",
                        "a boolean",
                        v,
                        Some("write `optional = true`".to_owned()),
                    );
                    None
                }
            },
            None => None,
        };
        raw.default = get(def, "default");
        raw.required = raw.default.is_none() && !optional.is_some_and(|(b, _)| b);
        if let (Some((false, _)), Some(d)) = (optional, raw.default) {
            self.errors.push(SchemaError::BadDefault {
                field: path.to_owned(),
                reason: "a field with a default is optional, but it says `optional = false`"
                    .to_owned(),
                help: "remove `optional = false`, or remove the default to make the field required"
                    .to_owned(),
                src: self.src.clone(),
                span: sspan(d.span()),
            });
        }
        raw
    }

    fn field_type(
        &mut self,
        path: &str,
        name: &str,
        v: &Val<'_>,
        def: &DeTable<'_>,
    ) -> Option<FieldType> {
        let ty = match name {
            "string" => FieldType::String,
            "bool" => FieldType::Bool,
            "timestamp" => FieldType::Timestamp,
            "currency" => FieldType::Currency,
            "int" => {
                let min = get(def, "min").and_then(|b| self.int_bound(path, "min", b));
                let max = get(def, "max").and_then(|b| self.int_bound(path, "max", b));
                if let (Some(lo), Some(hi), Some(b)) = (min, max, get(def, "max"))
                    && lo > hi
                {
                    self.bad_bound(
                        path,
                        "max",
                        b,
                        format!("`max` {hi} is below `min` {lo}"),
                        "make `max` at least `min`",
                    );
                }
                FieldType::Int { min, max }
            }
            "decimal" | "money" => {
                let max_scale = match get(def, "max_places") {
                    Some(b) => self.max_places(path, b),
                    None => DEFAULT_MAX_PLACES,
                };
                let min = get(def, "min").and_then(|b| self.decimal_bound(path, b, max_scale));
                if name == "decimal" {
                    FieldType::Decimal { min, max_scale }
                } else {
                    // The currency field is resolved later, once all fields are known.
                    FieldType::Money {
                        currency_field: FieldId(u32::MAX),
                        min,
                        max_scale,
                    }
                }
            }
            "enum" => match get(def, "values") {
                Some(values) => {
                    FieldType::Enum(self.enum_type(path.to_owned(), "values", values)?)
                }
                None => {
                    self.missing_key(
                        "values",
                        &field_place(path),
                        v.span(),
                        "list the allowed values, such as `values = [\"a\", \"b\"]`",
                    );
                    return None;
                }
            },
            _ => {
                let help = match suggest(name, TYPE_NAMES.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "the field types are {}",
                        backticked(TYPE_NAMES.iter().copied())
                    ),
                };
                self.errors.push(SchemaError::UnknownType {
                    name: name.to_owned(),
                    help,
                    src: self.src.clone(),
                    span: sspan(v.span()),
                });
                return None;
            }
        };
        Some(ty)
    }

    fn int_bound(&mut self, path: &str, key: &str, v: &Val<'_>) -> Option<i64> {
        match v.get_ref() {
            DeValue::Integer(i) => {
                let n = i64::from_str_radix(i.as_str(), i.radix()).ok();
                if n.is_none() {
                    self.bad_bound(
                        path,
                        key,
                        v,
                        "the number is too large".to_owned(),
                        "use a number that fits in 64 bits",
                    );
                }
                n
            }
            _ => {
                self.wrong_type(key, "an integer", v, None);
                None
            }
        }
    }

    fn max_places(&mut self, path: &str, v: &Val<'_>) -> u32 {
        let n = self.int_bound(path, "max_places", v);
        match n.and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n <= 28 => n,
            Some(_) | None => {
                if n.is_some() {
                    self.bad_bound(
                        path,
                        "max_places",
                        v,
                        "must be between 0 and 28".to_owned(),
                        "use `max_places = 2` for amounts in yuan and cents",
                    );
                }
                DEFAULT_MAX_PLACES
            }
        }
    }

    fn decimal_bound(&mut self, path: &str, v: &Val<'_>, max_scale: u32) -> Option<Decimal> {
        let text = match v.get_ref() {
            DeValue::String(s) => s.as_ref(),
            DeValue::Integer(i) if i.radix() == 10 => i.as_str(),
            _ => {
                self.wrong_type(
                    "min",
                    "a decimal string",
                    v,
                    Some("write `min = \"0\"`".to_owned()),
                );
                return None;
            }
        };
        match parse_decimal(text, max_scale) {
            Ok(d) => Some(d),
            Err(e) => {
                self.bad_bound(
                    path,
                    "min",
                    v,
                    amount_reason(text, &e, max_scale),
                    "write a decimal such as `min = \"0\"`",
                );
                None
            }
        }
    }

    /// An enum's values or a decision vocabulary: a non-empty array of
    /// distinct names.
    pub(super) fn enum_type(
        &mut self,
        name: String,
        key: &str,
        v: &Val<'_>,
    ) -> Option<Arc<EnumType>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(
                key,
                "an array of strings",
                v,
                Some(format!("write `{key} = [\"a\", \"b\"]`")),
            );
            return None;
        };
        if items.is_empty() {
            self.errors.push(SchemaError::EmptyEnum {
                set: name,
                src: self.src.clone(),
                span: sspan(v.span()),
            });
            return None;
        }
        let mut variants: Vec<String> = Vec::new();
        let mut spans: Vec<Range<usize>> = Vec::new();
        for item in items.iter() {
            let Some(s) = self.string(key, item) else {
                continue;
            };
            if !is_name(s) {
                self.errors.push(SchemaError::BadVariant {
                    variant: s.to_owned(),
                    set: name.clone(),
                    src: self.src.clone(),
                    span: sspan(item.span()),
                });
            }
            if let Some(first) = variants
                .iter()
                .position(|x| x == s)
                .and_then(|i| spans.get(i))
            {
                self.errors.push(SchemaError::DuplicateVariant {
                    variant: s.to_owned(),
                    set: name.clone(),
                    src: self.src.clone(),
                    span: sspan(item.span()),
                    first: sspan(first.clone()),
                });
                continue;
            }
            variants.push(s.to_owned());
            spans.push(item.span());
        }
        Some(Arc::new(EnumType::new(name, variants)))
    }
}

/// What is wrong with a field path, if anything.
fn bad_path(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("the path is empty");
    }
    if path.split('.').any(|seg| !is_name(seg)) {
        return Some(
            "each part must be a name of ASCII letters, digits and `_`, not starting with a digit",
        );
    }
    None
}

/// The field types a type-specific key applies to.
fn applies_to(key: &str) -> Option<&'static str> {
    match key {
        "min" => Some("`int`, `decimal` and `money`"),
        "max" => Some("`int`"),
        "max_places" => Some("`decimal` and `money`"),
        "currency" => Some("`money`"),
        "values" => Some("`enum`"),
        _ => None,
    }
}
