//! Errors in a schema file. Every one points at the exact TOML span and says
//! how to fix it; the loader collects all of them before giving up.

use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

type Src = NamedSource<Arc<str>>;

/// A problem in `schema.toml`. Codes are stable: `rpl::schema::<name>`.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
pub enum SchemaError {
    #[error("invalid TOML: {message}")]
    #[diagnostic(
        code(rpl::schema::syntax),
        help("see https://toml.io for the syntax of TOML files")
    )]
    Syntax {
        message: String,
        #[source_code]
        src: Src,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("unknown key `{key}` in {place}")]
    #[diagnostic(code(rpl::schema::unknown_key))]
    UnknownKey {
        key: String,
        place: String,
        #[help]
        help: String,
        #[source_code]
        src: Src,
        #[label("not a key of {place}")]
        span: SourceSpan,
    },

    #[error("missing key `{key}` in {place}")]
    #[diagnostic(code(rpl::schema::missing_key))]
    MissingKey {
        key: String,
        place: String,
        #[help]
        help: String,
        #[source_code]
        src: Src,
        #[label("`{key}` expected here")]
        span: SourceSpan,
    },

    #[error("the schema does not name the field that selects the policy")]
    #[diagnostic(
        code(rpl::schema::missing_channel),
        help("add `channel = \"<path of a required enum field>\"` at the top of the file")
    )]
    MissingChannel {
        #[source_code]
        src: Src,
        #[label("in this file")]
        span: SourceSpan,
    },

    #[error("`{key}` must be {expected}, found {found}")]
    #[diagnostic(code(rpl::schema::wrong_key_type))]
    WrongKeyType {
        key: String,
        expected: &'static str,
        found: &'static str,
        #[help]
        help: Option<String>,
        #[source_code]
        src: Src,
        #[label("{found}")]
        span: SourceSpan,
    },

    #[error("unknown field type `{name}`")]
    #[diagnostic(code(rpl::schema::unknown_type))]
    UnknownType {
        name: String,
        #[help]
        help: String,
        #[source_code]
        src: Src,
        #[label("not a field type")]
        span: SourceSpan,
    },

    #[error("invalid default for `{field}`: {reason}")]
    #[diagnostic(code(rpl::schema::bad_default))]
    BadDefault {
        field: String,
        reason: String,
        #[help]
        help: String,
        #[source_code]
        src: Src,
        #[label("invalid default")]
        span: SourceSpan,
    },

    #[error("invalid `{key}` for `{field}`: {reason}")]
    #[diagnostic(code(rpl::schema::bad_bound))]
    BadBound {
        field: String,
        key: String,
        reason: String,
        #[help]
        help: String,
        #[source_code]
        src: Src,
        #[label("invalid `{key}`")]
        span: SourceSpan,
    },

    #[error("invalid field path `{path}`: {reason}")]
    #[diagnostic(code(rpl::schema::bad_path))]
    BadPath {
        path: String,
        reason: String,
        #[help]
        help: String,
        #[source_code]
        src: Src,
        #[label("invalid path")]
        span: SourceSpan,
    },

    #[error("`{path}` is a field, so `{other}` cannot be nested inside it")]
    #[diagnostic(
        code(rpl::schema::path_conflict),
        help("a path is either a field or a group of fields; rename one of them")
    )]
    PathConflict {
        path: String,
        other: String,
        #[source_code]
        src: Src,
        #[label("`{path}` declared here")]
        span: SourceSpan,
        #[label("`{other}` declared here")]
        other_span: SourceSpan,
    },

    #[error("unknown field `{name}`")]
    #[diagnostic(code(rpl::schema::unknown_field_ref))]
    UnknownFieldRef {
        name: String,
        #[help]
        help: String,
        #[source_code]
        src: Src,
        #[label("no field `{name}` is declared under `[fields]`")]
        span: SourceSpan,
    },

    #[error("{role} must be {expected}, but `{name}` is {found}")]
    #[diagnostic(code(rpl::schema::wrong_field_ref_type))]
    WrongFieldRefType {
        name: String,
        role: &'static str,
        expected: &'static str,
        found: String,
        #[help]
        help: String,
        #[source_code]
        src: Src,
        #[label("{found}")]
        span: SourceSpan,
    },

    #[error("`{variant}` is listed twice in `{set}`")]
    #[diagnostic(
        code(rpl::schema::duplicate_variant),
        help("remove the second `{variant}`")
    )]
    DuplicateVariant {
        variant: String,
        set: String,
        #[source_code]
        src: Src,
        #[label("listed again here")]
        span: SourceSpan,
        #[label("first listed here")]
        first: SourceSpan,
    },

    #[error("`{set}` lists no values")]
    #[diagnostic(
        code(rpl::schema::empty_enum),
        help("list the allowed values, such as `values = [\"a\", \"b\"]`")
    )]
    EmptyEnum {
        set: String,
        #[source_code]
        src: Src,
        #[label("empty list")]
        span: SourceSpan,
    },

    #[error("`{variant}` in `{set}` is not a valid name")]
    #[diagnostic(
        code(rpl::schema::bad_variant),
        help(
            "use ASCII letters, digits and `_`, not starting with a digit, such as `opened_intact`"
        )
    )]
    BadVariant {
        variant: String,
        set: String,
        #[source_code]
        src: Src,
        #[label("not a name")]
        span: SourceSpan,
    },
}

impl SchemaError {
    /// Byte offset of the main label (0 when there is none), to sort by.
    pub fn offset(&self) -> usize {
        self.labels()
            .and_then(|mut labels| labels.next())
            .map_or(0, |l| l.offset())
    }

    /// The stable code, such as `rpl::schema::unknown_type`.
    pub fn code(&self) -> &'static str {
        match self {
            SchemaError::Syntax { .. } => "rpl::schema::syntax",
            SchemaError::UnknownKey { .. } => "rpl::schema::unknown_key",
            SchemaError::MissingKey { .. } => "rpl::schema::missing_key",
            SchemaError::MissingChannel { .. } => "rpl::schema::missing_channel",
            SchemaError::WrongKeyType { .. } => "rpl::schema::wrong_key_type",
            SchemaError::UnknownType { .. } => "rpl::schema::unknown_type",
            SchemaError::BadDefault { .. } => "rpl::schema::bad_default",
            SchemaError::BadBound { .. } => "rpl::schema::bad_bound",
            SchemaError::BadPath { .. } => "rpl::schema::bad_path",
            SchemaError::PathConflict { .. } => "rpl::schema::path_conflict",
            SchemaError::UnknownFieldRef { .. } => "rpl::schema::unknown_field_ref",
            SchemaError::WrongFieldRefType { .. } => "rpl::schema::wrong_field_ref_type",
            SchemaError::DuplicateVariant { .. } => "rpl::schema::duplicate_variant",
            SchemaError::EmptyEnum { .. } => "rpl::schema::empty_enum",
            SchemaError::BadVariant { .. } => "rpl::schema::bad_variant",
        }
    }
}
