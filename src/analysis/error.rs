//! The diagnostics analysis adds to `rpl check`. Their codes are the
//! checker's (`rpl::check::*`): to an author they are lints like any other.

use miette::SourceSpan;

type Src = crate::source::Source;

#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
pub enum AnalysisDiagnostic {
    #[error("policy `{policy}` leaves some requests undecided")]
    #[diagnostic(
        code(rpl::check::no_fallback),
        help(
            "{why}; end the policy with a rule without `when`, e.g. `rule otherwise {{ deny }}` (or `review`, which needs a refund and a route), or cover these requests{witness}"
        )
    )]
    NoFallback {
        policy: String,
        why: String,
        witness: String,
        #[source_code]
        src: Src,
        #[label("no rule decides some requests")]
        span: SourceSpan,
    },

    #[error("rule `{rule}` can never apply{policies}")]
    #[diagnostic(
        code(rpl::check::unreachable_rule),
        severity(Warning),
        help(
            "every request it matches is taken by an earlier rule ({covering}); move `{rule}` before them, narrow them, or remove it{witness}"
        )
    )]
    UnreachableRule {
        rule: String,
        policies: String,
        covering: String,
        witness: String,
        #[source_code]
        src: Src,
        #[label("unreachable")]
        span: SourceSpan,
    },

    #[error("this condition of `{rule}` is never true{policies}")]
    #[diagnostic(
        code(rpl::check::always_false),
        severity(Warning),
        help("no request makes it true{why}; fix the comparison or remove it{witness}")
    )]
    AlwaysFalse {
        rule: String,
        policies: String,
        why: String,
        witness: String,
        #[source_code]
        src: Src,
        #[label("never true")]
        span: SourceSpan,
    },

    #[error("this condition of `{rule}` is true for every request{policies}")]
    #[diagnostic(
        code(rpl::check::always_true),
        severity(Warning),
        help("{fix}{witness}")
    )]
    AlwaysTrue {
        rule: String,
        policies: String,
        fix: String,
        witness: String,
        #[source_code]
        src: Src,
        #[label("always true")]
        span: SourceSpan,
    },

    #[error("`{what}` reaches past the calendar's years for every request{policies}")]
    #[diagnostic(
        code(rpl::check::past_calendar),
        severity(Warning),
        help(
            "calendar `{calendar}` lists {first}–{last}; even from its first day this ends after it, so every request reaching it fails with {code}; use a shorter period or add the years to the calendar{witness}"
        )
    )]
    PastCalendar {
        what: String,
        calendar: String,
        first: i16,
        last: i16,
        code: String,
        policies: String,
        witness: String,
        #[source_code]
        src: Src,
        #[label("past {last}")]
        span: SourceSpan,
    },
}
