//! What needs every field known: references between fields, defaults,
//! chronology rules and the decision vocabularies.

use std::collections::HashMap;
use std::sync::Arc;

use toml::de::DeValue;

use super::{
    CHRONOLOGY_KEYS, DECISION_KEYS, Loader, RawField, Val, amount_reason, get, kind, sspan,
};
use crate::schema::scalar::{
    TIMESTAMP_EXAMPLE, TimestampError, backticked, is_currency_code, parse_decimal,
    parse_timestamp, suggest, toml_datetime_text,
};
use crate::schema::{
    DecisionVocab, EnumType, Field, FieldId, FieldType, OrderConstraint, SchemaError,
};
use crate::value::{Text, Value};

impl Loader {
    pub(super) fn check_conflicts(
        &mut self,
        raw: &[RawField<'_, '_>],
        by_path: &HashMap<String, FieldId>,
    ) {
        for f in raw {
            for (dot, _) in f.path.match_indices('.') {
                let Some(prefix) = f.path.get(..dot) else {
                    continue;
                };
                if let Some(other) = by_path.get(prefix).and_then(|id| raw.get(id.0 as usize)) {
                    self.errors.push(SchemaError::PathConflict {
                        path: prefix.to_owned(),
                        other: f.path.clone(),
                        src: self.src.clone(),
                        span: sspan(other.key_span.clone()),
                        other_span: sspan(f.key_span.clone()),
                    });
                }
            }
        }
    }

    /// Resolves a reference to a field; reports unknown names with a suggestion.
    fn resolve<'r, 'a, 'i>(
        &mut self,
        v: &Val<'_>,
        key: &str,
        raw: &'r [RawField<'a, 'i>],
        by_path: &HashMap<String, FieldId>,
    ) -> Option<(FieldId, &'r RawField<'a, 'i>)> {
        let name = self.string(key, v)?;
        if let Some(id) = by_path.get(name) {
            return raw.get(id.0 as usize).map(|f| (*id, f));
        }
        let help = match suggest(name, raw.iter().map(|f| f.path.as_str())) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "declare the field under `[fields]`, or name one that is declared".to_owned(),
        };
        self.errors.push(SchemaError::UnknownFieldRef {
            name: name.to_owned(),
            help,
            src: self.src.clone(),
            span: sspan(v.span()),
        });
        None
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per role; a struct would only rename them"
    )]
    pub(super) fn typed_ref(
        &mut self,
        v: &Val<'_>,
        key: &str,
        raw: &[RawField<'_, '_>],
        by_path: &HashMap<String, FieldId>,
        role: &'static str,
        expected: &'static str,
        ok: impl Fn(&RawField<'_, '_>) -> bool,
    ) -> Option<FieldId> {
        let (id, f) = self.resolve(v, key, raw, by_path)?;
        // A field whose own type is broken has been reported already.
        let ty = f.ty.as_ref()?;
        if ok(f) {
            return Some(id);
        }
        let found = if f.required {
            format!("{} `{}` field", article(ty.name()), ty.name())
        } else {
            format!("an optional `{}` field", ty.name())
        };
        self.errors.push(SchemaError::WrongFieldRefType {
            name: f.path.clone(),
            role,
            expected,
            found,
            help: format!("name {expected} here, or change the type of `{}`", f.path),
            src: self.src.clone(),
            span: sspan(v.span()),
        });
        None
    }

    pub(super) fn channel_ref(
        &mut self,
        v: &Val<'_>,
        raw: &[RawField<'_, '_>],
        by_path: &HashMap<String, FieldId>,
    ) -> Option<(FieldId, Arc<EnumType>)> {
        let id = self.typed_ref(
            v,
            "channel",
            raw,
            by_path,
            "the channel",
            "a required `enum` field",
            |f| f.required && matches!(f.ty, Some(FieldType::Enum(_))),
        )?;
        match raw.get(id.0 as usize).and_then(|f| f.ty.as_ref()) {
            Some(FieldType::Enum(e)) => Some((id, Arc::clone(e))),
            _ => None,
        }
    }

    /// Fills in what needed every field to be known: the money currency
    /// reference and the default.
    pub(super) fn finish_field(
        &mut self,
        f: &RawField<'_, '_>,
        raw: &[RawField<'_, '_>],
        by_path: &HashMap<String, FieldId>,
    ) -> Option<Field> {
        let mut ty = f.ty.clone();
        if matches!(ty, Some(FieldType::Money { .. })) && f.currency_ref.is_none() {
            return None; // reported as a missing `currency`
        }
        if let (Some(FieldType::Money { currency_field, .. }), Some(r)) = (&mut ty, f.currency_ref)
        {
            *currency_field = self.typed_ref(
                r,
                "currency",
                raw,
                by_path,
                "the currency of a money field",
                "a `currency` field",
                |c| matches!(c.ty, Some(FieldType::Currency)),
            )?;
        }
        let ty = ty?;
        let default = match f.default {
            Some(d) => match default_value(&ty, d.get_ref()) {
                Ok(v) => v,
                Err((reason, help)) => {
                    self.errors.push(SchemaError::BadDefault {
                        field: f.path.clone(),
                        reason,
                        help,
                        src: self.src.clone(),
                        span: sspan(d.span()),
                    });
                    return None;
                }
            },
            None => Value::Absent,
        };
        Some(Field {
            path: f.path.clone(),
            ty,
            required: f.required,
            default,
            doc: f.doc.clone(),
            span: self.span(&f.key_span),
        })
    }

    // ----- chronology and decision ----------------------------------------

    pub(super) fn chronology(
        &mut self,
        v: &Val<'_>,
        raw: &[RawField<'_, '_>],
        by_path: &HashMap<String, FieldId>,
    ) -> Option<Vec<OrderConstraint>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(
                "chronology",
                "an array of tables",
                v,
                Some("write each constraint as a `[[chronology]]` table".to_owned()),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items.iter() {
            let Some(t) = self.table("chronology", item) else {
                ok = false;
                continue;
            };
            for (key, _) in t {
                ok &= self.check_key(key, CHRONOLOGY_KEYS, "`[[chronology]]`", None);
            }
            let end = |key: &str, this: &mut Self| match get(t, key) {
                Some(r) => this.typed_ref(
                    r,
                    key,
                    raw,
                    by_path,
                    "a chronology bound",
                    "a `timestamp` field",
                    |f| matches!(f.ty, Some(FieldType::Timestamp)),
                ),
                None => {
                    this.missing_key(
                        key,
                        "`[[chronology]]`",
                        item.span(),
                        "name a timestamp field, such as `earlier = \"order.placed_at\"`",
                    );
                    None
                }
            };
            let earlier = end("earlier", self);
            let later = end("later", self);
            match (earlier, later) {
                (Some(earlier), Some(later)) => out.push(OrderConstraint { earlier, later }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(super) fn decision(&mut self, v: &Val<'_>) -> Option<DecisionVocab> {
        let t = self.table("decision", v)?;
        for (key, _) in t {
            self.check_key(key, DECISION_KEYS, "`[decision]`", None);
        }
        let vocab = |key: &str, this: &mut Self| match get(t, key) {
            Some(list) => this.enum_type(format!("decision.{key}"), key, list),
            None => {
                this.missing_key(
                    key,
                    "`[decision]`",
                    v.span(),
                    &format!("add `{key} = [...]` with the values a decision may use"),
                );
                None
            }
        };
        let route = vocab("route", self);
        let documents = vocab("documents", self);
        let offers = vocab("offers", self);
        let return_shipping = vocab("return_shipping", self);
        let installments = vocab("installments", self);
        Some(DecisionVocab {
            route: route?,
            documents: documents?,
            offers: offers?,
            return_shipping: return_shipping?,
            installments: installments?,
        })
    }
}

/// "a" or "an" before a word.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// A default written in the field's own type, in the same forms as requests.
fn default_value(ty: &FieldType, v: &DeValue<'_>) -> Result<Value, (String, String)> {
    let wrong = |what: &str, example: &str| {
        (
            format!("expected {what}, found {}", kind(v)),
            format!("write the default as {what}, such as `default = {example}`"),
        )
    };
    match (ty, v) {
        (FieldType::String, DeValue::String(s)) => Ok(Value::Str(Text::from(s.as_ref()))),
        (FieldType::String, _) => Err(wrong("a string", "\"\"")),
        (FieldType::Bool, DeValue::Boolean(b)) => Ok(Value::Bool(*b)),
        (FieldType::Bool, _) => Err(wrong("a boolean", "false")),
        (FieldType::Int { min, max }, DeValue::Integer(i)) => {
            let n = i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
                (
                    "the number is too large".to_owned(),
                    "use a number that fits in 64 bits".to_owned(),
                )
            })?;
            if let Some(m) = min.filter(|m| n < *m) {
                return Err((
                    format!("`{n}` is below the field's `min` {m}"),
                    "choose a default within the field's `min` and `max`".to_owned(),
                ));
            }
            if let Some(m) = max.filter(|m| n > *m) {
                return Err((
                    format!("`{n}` is above the field's `max` {m}"),
                    "choose a default within the field's `min` and `max`".to_owned(),
                ));
            }
            Ok(Value::Int(n))
        }
        (FieldType::Int { .. }, _) => Err(wrong("an integer", "0")),
        (FieldType::Decimal { min, max_scale }, DeValue::String(s))
        | (FieldType::Money { min, max_scale, .. }, DeValue::String(s)) => {
            let d = parse_decimal(s, *max_scale).map_err(|e| {
                (
                    amount_reason(s, &e, *max_scale),
                    "write a decimal string such as `default = \"0.00\"`".to_owned(),
                )
            })?;
            if let Some(m) = min.filter(|m| d < *m) {
                return Err((
                    format!("`{s}` is below the field's `min` {m}"),
                    "choose a default at least `min`".to_owned(),
                ));
            }
            Ok(if matches!(ty, FieldType::Money { .. }) {
                // As in requests, amounts carry their full scale.
                let mut d = d;
                d.rescale(*max_scale);
                Value::Money(d)
            } else {
                Value::Decimal(d)
            })
        }
        (FieldType::Decimal { .. } | FieldType::Money { .. }, _) => {
            Err(wrong("a decimal string", "\"0.00\""))
        }
        (FieldType::Enum(e), DeValue::String(s)) => match e.index_of(s) {
            Some(i) => Ok(Value::Enum(i)),
            None => Err((
                format!("`{s}` is not one of the field's values"),
                format!(
                    "use one of {}",
                    backticked(e.variants().iter().map(String::as_str))
                ),
            )),
        },
        (FieldType::Enum(_), _) => Err(wrong("a string", "\"...\"")),
        (FieldType::Timestamp, DeValue::String(_) | DeValue::Datetime(_)) => {
            let text = match v {
                DeValue::String(s) => s.to_string(),
                _ => v.as_datetime().map(toml_datetime_text).unwrap_or_default(),
            };
            parse_timestamp(&text).map(Value::Timestamp).map_err(|e| {
                let reason = match e {
                    TimestampError::MissingOffset => format!("`{text}` has no offset"),
                    TimestampError::Invalid(why) => {
                        format!("`{text}` is not a valid timestamp: {why}")
                    }
                };
                (
                    reason,
                    format!(
                        "write an RFC 3339 timestamp with offset, such as `{}`",
                        TIMESTAMP_EXAMPLE
                    ),
                )
            })
        }
        (FieldType::Timestamp, _) => Err(wrong("a timestamp", TIMESTAMP_EXAMPLE)),
        (FieldType::Currency, DeValue::String(s)) if is_currency_code(s) => {
            Ok(Value::Str(Text::from(s.as_ref())))
        }
        (FieldType::Currency, _) => Err(wrong("a currency code", "\"CNY\"")),
    }
}
