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

    #[error("`{text}` in a string is not a value to put in the text")]
    #[diagnostic(code(rpl::syntax::bad_template), help("{help}"))]
    BadTemplate {
        text: String,
        help: &'static str,
        #[source_code]
        src: crate::source::Source,
        #[label("here")]
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

    #[error("`{written}` ({code_point}) in the policy text is typed by a Chinese input method")]
    #[diagnostic(code(rpl::syntax::full_width), help("{help}"))]
    FullWidth {
        written: String,
        code_point: String,
        help: String,
        #[source_code]
        src: crate::source::Source,
        #[label("`{written}`, not ASCII")]
        span: SourceSpan,
    },

    #[error("an invisible character, {code_point} {name}, in the policy text")]
    #[diagnostic(
        code(rpl::syntax::invisible_character),
        help(
            "delete it and type a plain space if one belongs there: it cannot be seen, and it is no blank to RPL (a Chinese input method in full-width mode types U+3000 for a space)"
        )
    )]
    Invisible {
        name: &'static str,
        code_point: String,
        #[source_code]
        src: crate::source::Source,
        #[label("{code_point} here")]
        span: SourceSpan,
    },

    #[error("a string opens with the curly quote `{ch}` ({code_point})")]
    #[diagnostic(
        code(rpl::syntax::curly_quote),
        help(
            "type the straight quote `\"` instead: strings are written between `\"` and `\"` (curly quotes inside a string are fine)"
        )
    )]
    CurlyQuote {
        ch: char,
        code_point: String,
        #[source_code]
        src: crate::source::Source,
        #[label("a curly quote, not `\"`")]
        span: SourceSpan,
    },

    #[error("a string is not closed before the end of its line")]
    #[diagnostic(code(rpl::syntax::unterminated_string), help("{help}"))]
    Unterminated {
        help: String,
        #[source_code]
        src: crate::source::Source,
        #[label("the string starts here")]
        start: SourceSpan,
        #[label("and the line ends here")]
        end: SourceSpan,
    },

    #[error("`{written}` is not an operator of RPL")]
    #[diagnostic(code(rpl::syntax::operator_word), help("{help}"))]
    Operator {
        written: &'static str,
        help: String,
        #[source_code]
        src: crate::source::Source,
        #[label("not an operator")]
        span: SourceSpan,
    },

    #[error("`{token}` runs a number into a word")]
    #[diagnostic(code(rpl::syntax::missing_space), help("{help}"))]
    MissingSpace {
        token: String,
        help: String,
        #[source_code]
        src: crate::source::Source,
        #[label("two words")]
        span: SourceSpan,
    },

    #[error("`{text}` is not a name: names are ASCII")]
    #[diagnostic(code(rpl::syntax::non_ascii_name), help("{help}"))]
    NonAsciiName {
        text: String,
        /// What the name stands for, as the words before it tell; the
        /// checker fills in the values it could be (`with_values`).
        context: super::mistakes::NameContext,
        help: String,
        #[source_code]
        src: crate::source::Source,
        #[label("not ASCII")]
        span: SourceSpan,
    },

    #[error("this `{open}` is never closed")]
    #[diagnostic(
        code(rpl::syntax::unclosed),
        help(
            "add the `{close}` that closes it; if it is there, one of the blocks inside is missing its own"
        )
    )]
    Unclosed {
        open: char,
        close: char,
        #[source_code]
        src: crate::source::Source,
        #[label("opened here")]
        opened: SourceSpan,
        #[label("still open here, where its `{close}` was due")]
        end: SourceSpan,
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

impl SyntaxError {
    /// For a name that is not ASCII where a value belongs: the field or
    /// setting it is a value of, if known.
    pub fn value_of(&self) -> Option<&str> {
        match self {
            SyntaxError::NonAsciiName {
                context: super::mistakes::NameContext::ValueOf(field),
                ..
            } => Some(field),
            _ => None,
        }
    }

    /// Lists the values a name that is not ASCII could have been, as the
    /// schema knows them (the syntax stage does not).
    pub fn with_values(&mut self, values: &str) {
        if let SyntaxError::NonAsciiName { context, help, .. } = self {
            *help = super::mistakes::non_ascii_help(context, Some(values));
        }
    }
}
