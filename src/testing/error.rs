//! What can be wrong with a policy test file: `rpl::test::*`.

use miette::{Diagnostic, SourceSpan};

use crate::source::Source;

/// A test file that cannot be read as test cases. The other files and the
/// other cases of the run still run.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SuiteError {
    #[error("test file is not valid TOML: {message}")]
    #[diagnostic(
        code(rpl::test::syntax),
        help(
            "a test file holds `[[case]]` tables, each with `name`, `request` and `[case.expect]`"
        )
    )]
    Syntax {
        message: String,
        #[source_code]
        src: Source,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("unknown key `{key}` in {place}")]
    #[diagnostic(code(rpl::test::unknown_key))]
    UnknownKey {
        key: String,
        place: &'static str,
        #[source_code]
        src: Source,
        #[label("not a key of {place}")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{key}` {expected}")]
    #[diagnostic(code(rpl::test::wrong_type))]
    WrongType {
        key: String,
        expected: &'static str,
        #[source_code]
        src: Source,
        #[label("this value")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("{what}")]
    #[diagnostic(code(rpl::test::missing_key))]
    MissingKey {
        what: String,
        #[source_code]
        src: Source,
        #[label("in this case")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("two cases are named `{name}`")]
    #[diagnostic(
        code(rpl::test::duplicate_case),
        help("give each case of a file its own name: failures are reported by name")
    )]
    DuplicateCase {
        name: String,
        #[source_code]
        src: Source,
        #[label("second case of this name")]
        span: SourceSpan,
        #[label("first here")]
        first: SourceSpan,
    },

    #[error("{message}")]
    #[diagnostic(code(rpl::test::bad_value))]
    BadValue {
        message: String,
        #[source_code]
        src: Source,
        #[label("this value")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("cannot read the test file `{path}`: {reason}")]
    #[diagnostic(code(rpl::test::io))]
    Io {
        path: String,
        reason: String,
        #[help]
        help: &'static str,
    },

    #[error("no test cases found in {searched}")]
    #[diagnostic(code(rpl::test::no_tests))]
    NoTests {
        searched: String,
        #[help]
        help: &'static str,
    },
}
