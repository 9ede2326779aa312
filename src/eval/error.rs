//! Why a decoded request could not be decided.

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
pub enum EvalError {
    #[error("no policy for channel `{channel}`")]
    #[diagnostic(
        code(rpl::eval::no_policy),
        help("the policy directory has no policy with `channel = {channel}`")
    )]
    NoPolicy { channel: String, path: String },

    #[error("the request is in `{found}`, but policy `{policy}` is written in `{expected}`")]
    #[diagnostic(
        code(rpl::eval::currency_mismatch),
        help(
            "amounts in another currency cannot be compared with this policy's; convert the request or route it to a policy in `{found}`"
        )
    )]
    CurrencyMismatch {
        found: String,
        expected: String,
        policy: String,
        path: String,
    },

    #[error("{date} is outside calendar `{calendar}` (covers {first_year}-{last_year})")]
    #[diagnostic(
        code(rpl::eval::calendar_out_of_range),
        help("add the {year} holiday notice to the calendar file; rpl never guesses working days")
    )]
    CalendarOutOfRange {
        date: String,
        calendar: String,
        first_year: i16,
        last_year: i16,
        year: i16,
        path: String,
    },

    #[error("rule `{rule}` decided without a refund")]
    #[diagnostic(
        code(rpl::eval::incomplete_outcome),
        help(
            "an approval or review pays a refund: make sure the rule's `refund` and `route` give a value for every request (an `if` or `match` that can yield `none` does not)"
        )
    )]
    IncompleteOutcome { rule: String, path: String },

    #[error("the amount is too large to compute")]
    #[diagnostic(code(rpl::eval::overflow), help("check the amounts in the request"))]
    Overflow { path: String },

    #[error("a date computation left the supported range")]
    #[diagnostic(code(rpl::eval::date_range), help("check the dates in the request"))]
    DateRange { path: String },

    #[error("internal error: {what}")]
    #[diagnostic(
        code(rpl::eval::internal),
        help(
            "this is a bug in rpl, not in the request or the policy; no decision was made rather than a wrong one; please report it with both"
        )
    )]
    Internal { what: String, path: String },
}

impl EvalError {
    pub fn path(&self) -> &str {
        match self {
            EvalError::NoPolicy { path, .. }
            | EvalError::CurrencyMismatch { path, .. }
            | EvalError::IncompleteOutcome { path, .. }
            | EvalError::CalendarOutOfRange { path, .. }
            | EvalError::Overflow { path }
            | EvalError::DateRange { path }
            | EvalError::Internal { path, .. } => path,
        }
    }
}
