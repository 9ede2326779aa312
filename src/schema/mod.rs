//! The request schema: field paths, their types, defaults, data-validity
//! constraints and the decision vocabulary. Loaded from TOML; the single
//! source of truth for the checker, the compiler and the request decoder.
//!
//! The file format is documented in `policies/schema.toml` itself; the
//! loader is in `load`, its errors in `error`.

mod error;
mod layout;
mod names;
use names::Names;
mod load;
pub(crate) mod scalar;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::source::{FileId, SourceFile, Span};
use crate::value::Value;
pub(crate) use layout::{Bits, Layout, Member};

pub use error::SchemaError;

/// Index of a field in [`Schema::fields`]; also its slot in a decoded request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

/// A closed set of names: an enum field's values, or a decision vocabulary
/// (routes, documents, ...). Values are interned as their index.
#[derive(Debug, Clone)]
pub struct EnumType {
    /// What the set is called in messages: the field path or `decision.route`.
    pub name: String,
    /// Private, as the index below is built from it.
    variants: Vec<String>,
    /// Each variant's index. Names are looked up for every bare name the
    /// checker reads and every enum value a request carries, and a policy's
    /// rule names (read by `decided_by`) can number in the thousands.
    index: Names,
}

impl PartialEq for EnumType {
    fn eq(&self, other: &EnumType) -> bool {
        // The index follows from the variants.
        self.name == other.name && self.variants == other.variants
    }
}

impl Eq for EnumType {}

impl EnumType {
    /// The set `name` of `variants`; a repeated variant keeps its first
    /// index.
    pub fn new(name: String, variants: Vec<String>) -> EnumType {
        let index = Names::new(variants.iter().map(String::as_str).zip(0..));
        EnumType {
            name,
            variants,
            index,
        }
    }

    /// The variants, in their declared order: a value's index is its place.
    pub fn variants(&self) -> &[String] {
        &self.variants
    }

    #[inline]
    pub fn index_of(&self, variant: &str) -> Option<u32> {
        self.index.find(variant)
    }

    pub fn variant(&self, index: u32) -> &str {
        self.variants
            .get(index as usize)
            .map_or("?", String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    String,
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Decimal {
        min: Option<Decimal>,
        /// Most digits after the point a request may give.
        max_scale: u32,
    },
    /// A decimal amount in the currency named by another field of the request.
    Money {
        currency_field: FieldId,
        min: Option<Decimal>,
        max_scale: u32,
    },
    Bool,
    Enum(Arc<EnumType>),
    /// An RFC 3339 timestamp with an explicit offset.
    Timestamp,
    /// An ISO 4217 code such as `CNY`.
    Currency,
}

impl FieldType {
    /// The type's name as written in `schema.toml`: `money`, `enum`, ...
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Int { .. } => "int",
            FieldType::Decimal { .. } => "decimal",
            FieldType::Money { .. } => "money",
            FieldType::Bool => "bool",
            FieldType::Enum(_) => "enum",
            FieldType::Timestamp => "timestamp",
            FieldType::Currency => "currency",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    /// Dotted path as written in requests and policies: `item.condition`.
    pub path: String,
    pub ty: FieldType,
    /// Required fields have no default and may not be absent.
    pub required: bool,
    /// Value used when an optional field is left out; `Value::Absent` when none.
    pub default: Value,
    pub doc: Option<String>,
    /// Where the field is declared in the schema file.
    pub span: Span,
}

/// A data-validity rule on timestamps: `earlier` must not be after `later`
/// (when both are present). Violations are request errors, not decisions.
#[derive(Debug, Clone)]
pub struct OrderConstraint {
    pub earlier: FieldId,
    pub later: FieldId,
}

/// The values a decision may carry, so that a policy's typo in a route or a
/// document name is a check error rather than a wrong decision.
#[derive(Debug, Clone)]
pub struct DecisionVocab {
    pub route: Arc<EnumType>,
    pub documents: Arc<EnumType>,
    pub offers: Arc<EnumType>,
    pub return_shipping: Arc<EnumType>,
    pub installments: Arc<EnumType>,
}

#[derive(Debug, Clone)]
pub struct Schema {
    /// Read by the decoders through `layout`, built when the schema is
    /// parsed: a program that changes a field after parsing must parse the
    /// schema again for requests to see the change.
    pub fields: Vec<Field>,
    by_path: FxHashMap<String, FieldId>,
    /// Every group path (`""` for the request itself, `item`, ...) and the
    /// names directly inside it, fields and groups, in declaration order.
    groups: HashMap<String, Vec<String>>,
    /// The enum field that selects the policy, and its values.
    pub channel: FieldId,
    pub channels: Arc<EnumType>,
    /// The string field echoed in every decision.
    pub request_id: FieldId,
    pub constraints: Vec<OrderConstraint>,
    pub decision: DecisionVocab,
    pub source: SourceFile,
    /// The fields by group, for the typed request decoder; `None` for a
    /// schema too large for it.
    pub(crate) layout: Option<layout::Layout>,
}

impl Schema {
    /// The schema shipped in `policies/schema.toml`, built into the binary:
    /// the request schema of the interface contract.
    pub const BUILTIN: &str = include_str!("../../policies/schema.toml");

    /// Parses a schema file's text. `name` is shown in diagnostics and kept
    /// as [`SourceFile::path`] too; spans carry `file`. Returns every error
    /// found, not only the first.
    pub fn parse(file: FileId, name: &str, text: &str) -> Result<Schema, Vec<SchemaError>> {
        load::parse(file, name, PathBuf::from(name), text)
    }

    /// The request schema of the interface contract (`policies/schema.toml`
    /// as of this build), as `FileId(0)`.
    pub fn builtin() -> Result<Schema, Vec<SchemaError>> {
        Schema::parse(FileId(0), "policies/schema.toml", Schema::BUILTIN)
    }

    pub fn field(&self, id: FieldId) -> &Field {
        // Ids are only ever made by this schema, so the index is in range.
        #[expect(clippy::indexing_slicing, reason = "FieldIds come from this schema")]
        &self.fields[id.0 as usize]
    }

    pub fn lookup(&self, path: &str) -> Option<FieldId> {
        self.by_path.get(path).copied()
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.path.as_str())
    }

    /// The names directly inside a group, in declaration order: for `""`
    /// (the whole request) `request_id`, `channel`, ..., `order`, `item`;
    /// for `item` `sku`, `category`, .... `None` when `group` is not a group
    /// (a field path or nothing).
    pub fn children(&self, group: &str) -> Option<&[String]> {
        self.groups.get(group).map(Vec::as_slice)
    }

    /// Whether `path` is a group of fields (`item`), as opposed to a field.
    pub fn is_group(&self, path: &str) -> bool {
        self.groups.contains_key(path)
    }
}

/// The group table of [`Schema::children`], from the field paths.
fn groups(fields: &[Field]) -> HashMap<String, Vec<String>> {
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    groups.insert(String::new(), Vec::new());
    for f in fields {
        let mut parent = String::new();
        for seg in f.path.split('.') {
            let children = groups.entry(parent.clone()).or_default();
            if !children.iter().any(|c| c == seg) {
                children.push(seg.to_owned());
            }
            if !parent.is_empty() {
                parent.push('.');
            }
            parent.push_str(seg);
        }
    }
    groups
}

#[cfg(test)]
mod tests;
