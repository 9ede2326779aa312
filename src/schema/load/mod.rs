//! Reading `schema.toml` into a [`Schema`]: keys are checked against what
//! each table allows, field references are resolved, defaults are parsed in
//! the field's own type. Every problem is collected; a schema with any error
//! is not returned.
//!
//! `fields` reads `[fields]` table by table; `refs` does what needs every
//! field known (references, defaults, chronology, decision vocabularies).

mod fields;
mod refs;

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::scalar::{AmountError, backticked, suggest};
use super::{Field, FieldId, FieldType, Schema, SchemaError};
use crate::source::{FileId, SourceFile, Span};

type Key<'i> = Spanned<Cow<'i, str>>;
type Val<'i> = Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &["channel", "request_id", "fields", "chronology", "decision"];
const TYPE_NAMES: &[&str] = &[
    "string",
    "int",
    "decimal",
    "money",
    "bool",
    "enum",
    "timestamp",
    "currency",
];
const COMMON_KEYS: &[&str] = &["type", "doc", "optional", "default"];
const CHRONOLOGY_KEYS: &[&str] = &["earlier", "later"];
const DECISION_KEYS: &[&str] = &[
    "route",
    "documents",
    "offers",
    "return_shipping",
    "installments",
];
/// Digits after the point allowed when a `decimal` or `money` field does not say.
const DEFAULT_MAX_PLACES: u32 = 2;

pub(super) fn parse(
    file: FileId,
    name: &str,
    path: PathBuf,
    text: &str,
) -> Result<Schema, Vec<SchemaError>> {
    let text_arc: Arc<str> = Arc::from(text);
    let src = NamedSource::new(name, Arc::clone(&text_arc)).with_language("toml");
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        return Err(syntax
            .into_iter()
            .map(|e| SchemaError::Syntax {
                message: e.message().to_owned(),
                src: src.clone(),
                span: e.span().map_or_else(|| (0, 0).into(), sspan),
            })
            .collect());
    }
    let mut loader = Loader {
        file,
        src,
        errors: Vec::new(),
    };
    let source = SourceFile::new(path, name.to_owned(), text_arc);
    let schema = loader.schema(root.get_ref(), source);
    // Report in file order, whatever order the passes found them in.
    loader.errors.sort_by_key(SchemaError::offset);
    match schema {
        Some(schema) if loader.errors.is_empty() => Ok(schema),
        _ => Err(loader.errors),
    }
}

fn sspan(r: Range<usize>) -> SourceSpan {
    (r.start, r.end.saturating_sub(r.start)).into()
}

/// "a string", "an array", ... for messages about TOML values.
fn kind(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Val<'i>> {
    table.get(key)
}

fn field_place(path: &str) -> String {
    format!("`[fields.\"{path}\"]`")
}

/// A field as read, before references are resolved.
struct RawField<'a, 'i> {
    path: String,
    key_span: Range<usize>,
    ty: Option<FieldType>,
    /// `currency = "..."` of a money field, resolved once every field is known.
    currency_ref: Option<&'a Val<'i>>,
    required: bool,
    default: Option<&'a Val<'i>>,
    doc: Option<String>,
}

struct Loader {
    file: FileId,
    src: NamedSource<Arc<str>>,
    errors: Vec<SchemaError>,
}

impl Loader {
    fn schema(&mut self, root: &DeTable<'_>, source: SourceFile) -> Option<Schema> {
        for (key, _) in root {
            self.check_key(key, TOP_KEYS, "the schema file", None);
        }
        let raw = match get(root, "fields") {
            Some(v) => self
                .table("fields", v)
                .map(|t| self.raw_fields(t))
                .unwrap_or_default(),
            None => {
                self.missing_key(
                    "fields",
                    "the schema file",
                    0..0,
                    "declare each request field in a `[fields.\"path\"]` table",
                );
                Vec::new()
            }
        };
        let mut by_path = HashMap::new();
        for (i, f) in raw.iter().enumerate() {
            let id = FieldId(u32::try_from(i).unwrap_or(u32::MAX));
            by_path.entry(f.path.clone()).or_insert(id);
        }
        self.check_conflicts(&raw, &by_path);
        let mut fields = Vec::with_capacity(raw.len());
        for f in &raw {
            fields.push(self.finish_field(f, &raw, &by_path));
        }
        let fields: Option<Vec<Field>> = fields.into_iter().collect();

        let channel = match get(root, "channel") {
            Some(v) => self.channel_ref(v, &raw, &by_path),
            None => {
                self.errors.push(SchemaError::MissingChannel {
                    src: self.src.clone(),
                    span: (0, 0).into(),
                });
                None
            }
        };
        let request_id = match get(root, "request_id") {
            Some(v) => self.typed_ref(
                v,
                "request_id",
                &raw,
                &by_path,
                "the request id",
                "a `string` field",
                |f| matches!(f.ty, Some(FieldType::String)),
            ),
            None => {
                self.missing_key(
                    "request_id",
                    "the schema file",
                    0..0,
                    "add `request_id = \"<path of the string field echoed in decisions>\"`",
                );
                None
            }
        };
        let constraints = match get(root, "chronology") {
            Some(v) => self.chronology(v, &raw, &by_path),
            None => Some(Vec::new()),
        };
        let decision = match get(root, "decision") {
            Some(v) => self.decision(v),
            None => {
                self.missing_key(
                    "decision",
                    "the schema file",
                    0..0,
                    "add a `[decision]` table listing the routes, documents, offers, return_shipping and installments a decision may use",
                );
                None
            }
        };

        let fields = fields?;
        let (channel, channels) = channel?;
        let groups = super::groups(&fields);
        let layout = super::Layout::new(&fields);
        Some(Schema {
            fields,
            by_path: by_path.into_iter().collect(),
            groups,
            channel,
            channels,
            request_id: request_id?,
            constraints: constraints?,
            decision: decision?,
            source,
            layout,
        })
    }

    // ----- diagnostics helpers -------------------------------------------

    fn span(&self, r: &Range<usize>) -> Span {
        Span::new(self.file, r.start, r.end)
    }

    fn check_key(
        &mut self,
        key: &Key<'_>,
        allowed: &[&str],
        place: &str,
        extra: Option<String>,
    ) -> bool {
        let name: &str = key.get_ref();
        if allowed.contains(&name) {
            return true;
        }
        let help = match (suggest(name, allowed.iter().copied()), extra) {
            (_, Some(extra)) => extra,
            (Some(s), None) => format!("did you mean `{s}`?"),
            (None, None) => format!(
                "the keys allowed here are {}",
                backticked(allowed.iter().copied())
            ),
        };
        self.errors.push(SchemaError::UnknownKey {
            key: name.to_owned(),
            place: place.to_owned(),
            help,
            src: self.src.clone(),
            span: sspan(key.span()),
        });
        false
    }

    fn missing_key(&mut self, key: &str, place: &str, at: Range<usize>, help: &str) {
        self.errors.push(SchemaError::MissingKey {
            key: key.to_owned(),
            place: place.to_owned(),
            help: help.to_owned(),
            src: self.src.clone(),
            span: sspan(at),
        });
    }

    fn wrong_type(&mut self, key: &str, expected: &'static str, v: &Val<'_>, help: Option<String>) {
        self.errors.push(SchemaError::WrongKeyType {
            key: key.to_owned(),
            expected,
            found: kind(v.get_ref()),
            help,
            src: self.src.clone(),
            span: sspan(v.span()),
        });
    }

    fn table<'a, 'i>(&mut self, key: &str, v: &'a Val<'i>) -> Option<&'a DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_type(key, "a table", v, None);
                None
            }
        }
    }

    fn string<'a>(&mut self, key: &str, v: &'a Val<'_>) -> Option<&'a str> {
        match v.get_ref() {
            DeValue::String(s) => Some(s),
            _ => {
                self.wrong_type(key, "a string", v, None);
                None
            }
        }
    }

    fn bad_bound(&mut self, field: &str, key: &str, v: &Val<'_>, reason: String, help: &str) {
        self.errors.push(SchemaError::BadBound {
            field: field.to_owned(),
            key: key.to_owned(),
            reason,
            help: help.to_owned(),
            src: self.src.clone(),
            span: sspan(v.span()),
        });
    }
}

fn amount_reason(text: &str, e: &AmountError, max_places: u32) -> String {
    match e {
        AmountError::NotDecimal => format!("`{text}` is not a decimal number"),
        AmountError::Precision(n) => {
            format!("`{text}` has {n} digits after the point, at most {max_places} are allowed")
        }
        AmountError::TooLarge => format!("`{text}` has too many digits"),
    }
}
