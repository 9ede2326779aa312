//! Problems with the files of a policy directory themselves, before any
//! policy is read. Codes are stable: `rpl::load::<name>`.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use crate::source::{Source, Unreadable};

#[derive(Debug, Error, Diagnostic)]
pub enum LoadError {
    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(
        code(rpl::load::io),
        help("check that the path exists and is readable")
    )]
    Io { path: String, reason: String },

    #[error("no `schema.toml` found for `{path}`")]
    #[diagnostic(
        code(rpl::load::no_schema),
        help(
            "the policy directory holds `schema.toml` beside the `.rpl` files; pass that directory"
        )
    )]
    NoSchema { path: String },

    #[error("no `schema.toml` or `policies/schema.toml` in `{start}` or any folder above it")]
    #[diagnostic(
        code(rpl::load::no_policy_directory),
        help(
            "name the policy directory (the folder holding `schema.toml`): `rpl check DIR`, `rpl fmt --check DIR`, `--policies DIR` for `eval`, `explain` and `test`, or set `RPL_POLICIES=DIR`"
        )
    )]
    NoPolicyDirectory { start: String },

    #[error("`{path}` is not a policy file")]
    #[diagnostic(
        code(rpl::load::not_a_policy_file),
        help(
            "policy files end in `.rpl`; the schema and calendars are checked with the policies that use them: pass their directory"
        )
    )]
    NotPolicyFile { path: String },

    #[error("`{path}` is not inside the policy directory `{root}`")]
    #[diagnostic(
        code(rpl::load::not_in_directory),
        help(
            "the paths of one check belong to one policy directory (the nearest folder with `schema.toml`, from the first path up); check the other directory on its own"
        )
    )]
    NotInDirectory { path: String, root: String },

    #[error("no policy files in `{path}`")]
    #[diagnostic(code(rpl::load::no_policies), help("policy files end in `.rpl`"))]
    NoPolicies { path: String },

    #[error("`{path}` is a symlink to `{target}`, outside the policy directory")]
    #[diagnostic(
        code(rpl::load::outside_root),
        help(
            "a policy directory is read on its own, and nothing outside it was read: copy the file into it"
        )
    )]
    OutsideRoot { path: String, target: String },

    #[error("`{path}` is a {kind}, not a regular file")]
    #[diagnostic(
        code(rpl::load::not_a_regular_file),
        help("it was skipped without being opened; a policy directory holds regular files")
    )]
    NotRegular { path: String, kind: &'static str },

    #[error("`{path}` is {size} bytes, more than the limit of {}", super::show_size(*limit))]
    #[diagnostic(
        code(rpl::load::too_large),
        help("it was not read; split it into files that import each other")
    )]
    TooLarge { path: String, size: u64, limit: u64 },

    #[error("`{path}` is not UTF-8: byte 0x{byte:02x} at offset {offset}")]
    #[diagnostic(
        code(rpl::load::not_utf8),
        help(
            "save the file as UTF-8; a file saved as GBK is the common case (`iconv -f GBK -t UTF-8`)"
        )
    )]
    NotUtf8 {
        path: String,
        byte: u8,
        offset: usize,
        /// The text with the bytes that are not UTF-8 replaced, to show
        /// where the first one is.
        #[source_code]
        src: Source,
        #[label("not UTF-8")]
        span: SourceSpan,
    },

    #[error("the name of `{path}` is not UTF-8")]
    #[diagnostic(
        code(rpl::load::bad_name),
        help(
            "it was not read: a policy names its files in UTF-8; rename it (the name is shown with the bytes that are not UTF-8 replaced)"
        )
    )]
    BadName { path: String },

    #[error("folder `{path}` is a symlink to `{target}`, outside the policy directory")]
    #[diagnostic(
        code(rpl::load::symlink_not_followed),
        severity(Warning),
        help(
            "it was not followed, so no file in it is part of the policy directory; copy the folder in if it belongs"
        )
    )]
    SymlinkNotFollowed { path: String, target: String },
}

impl LoadError {
    /// The diagnostic for a file (or folder) the loader did not read;
    /// `name` is how diagnostics show it.
    pub fn unreadable(name: String, why: &Unreadable) -> LoadError {
        match why {
            Unreadable::OutsideRoot { target } => LoadError::OutsideRoot {
                path: name,
                target: target.clone(),
            },
            Unreadable::NotRegular { kind } => LoadError::NotRegular { path: name, kind },
            Unreadable::TooLarge { size, limit } => LoadError::TooLarge {
                path: name,
                size: *size,
                limit: *limit,
            },
            Unreadable::NotUtf8 { offset, byte, text } => LoadError::NotUtf8 {
                src: Source::new(name.as_str(), text.clone()),
                span: SourceSpan::new((*offset).into(), '\u{FFFD}'.len_utf8()),
                path: name,
                byte: *byte,
                offset: *offset,
            },
            Unreadable::Io { reason } => LoadError::Io {
                path: name,
                reason: reason.clone(),
            },
            Unreadable::FolderOutsideRoot { target } => LoadError::SymlinkNotFollowed {
                path: name,
                target: target.clone(),
            },
            Unreadable::BadName => LoadError::BadName { path: name },
        }
    }
}
