//! Syntax errors: what the parser expected, in words an author reads.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum SyntaxError {
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(rpl::syntax::unexpected), help("{help}"))]
    Unexpected {
        expected: String,
        found: String,
        help: String,
        #[source_code]
        src: crate::source::Source,
        #[label("expected {expected} here")]
        span: SourceSpan,
    },

    #[error("expressions nest too deeply")]
    #[diagnostic(
        code(rpl::syntax::too_deep),
        help(
            "split the condition into named predicates (`pred name = ...`) or use `in [..]`; at most {max} levels of brackets, `if`, `match`, `not` and operators in one chain may nest"
        )
    )]
    TooDeep {
        max: usize,
        #[source_code]
        src: crate::source::Source,
        #[label("nesting goes past {max} levels here")]
        span: SourceSpan,
    },

    #[error("a control character ({name}) in the policy text")]
    #[diagnostic(
        code(rpl::syntax::control_character),
        help(
            "delete it: between tokens only spaces, tabs and line breaks may stand (it may have come in with pasted text)"
        )
    )]
    ControlCharacter {
        name: String,
        #[source_code]
        src: crate::source::Source,
        #[label("{name}")]
        span: SourceSpan,
    },

    #[error("invalid {what} `{text}`")]
    #[diagnostic(code(rpl::syntax::bad_literal), help("{help}"))]
    BadLiteral {
        what: &'static str,
        text: String,
        help: &'static str,
        #[source_code]
        src: crate::source::Source,
        #[label("not a valid {what}")]
        span: SourceSpan,
    },

    #[error("unknown escape `{text}` in a string")]
    #[diagnostic(
        code(rpl::syntax::bad_escape),
        help(
            "strings know `\\\"`, `\\\\`, `\\n`, `\\t` and `\\u{{4E2D}}`; write a backslash as `\\\\`"
        )
    )]
    BadEscape {
        text: String,
        #[source_code]
        src: crate::source::Source,
        #[label("unknown escape")]
        span: SourceSpan,
    },

    #[error("`{word}` is a reserved word")]
    #[diagnostic(
        code(rpl::syntax::reserved),
        help(
            "`{word}` is part of the language and cannot name anything; choose another name, e.g. `{word}_`"
        )
    )]
    Reserved {
        word: &'static str,
        #[source_code]
        src: crate::source::Source,
        #[label("reserved word")]
        span: SourceSpan,
    },

    #[error("comparisons do not chain: `{first}` and then `{second}`")]
    #[diagnostic(
        code(rpl::syntax::chained_comparison),
        help(
            "join two comparisons with `and`, e.g. `a < b and b < c`; to compare a condition, put it in parentheses"
        )
    )]
    ChainedComparison {
        first: &'static str,
        second: &'static str,
        #[source_code]
        src: crate::source::Source,
        #[label("two comparisons in a row")]
        span: SourceSpan,
    },

    #[error("internal error: the parser met a shape it did not expect ({what})")]
    #[diagnostic(
        code(rpl::syntax::internal),
        help("this is a bug in rpl, not in your policy; please report it with this file")
    )]
    Internal {
        what: String,
        #[source_code]
        src: crate::source::Source,
        #[label("here")]
        span: SourceSpan,
    },
}
