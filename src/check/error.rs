//! Diagnostics of the checker. Codes are stable: once shipped, a code keeps
//! its meaning. `tests/diagnostics/check/<code>.rpl` holds one failing policy per code.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

type Src = crate::source::Source;

/// "did you mean `x`?" or a fallback hint.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    // Its cost grows with the product of the two lengths.
    if wanted.len() > crate::schema::scalar::SUGGEST_LIMIT {
        return None;
    }
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(wanted, c);
        if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

fn suggest(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("did you mean `{s}`?"),
        None => String::new(),
    }
}

#[derive(Debug, Error, Diagnostic)]
pub enum CheckError {
    #[error("unknown field `{name}`")]
    #[diagnostic(
        code(rpl::check::unknown_field),
        help(
            "{}",
            help_or(
                suggest(suggestion),
                "the fields a request has are listed in the schema"
            )
        )
    )]
    UnknownField {
        name: String,
        suggestion: Option<String>,
        #[source_code]
        src: Src,
        #[label("not a field of the request schema")]
        span: SourceSpan,
    },

    #[error("unknown name `{name}`")]
    #[diagnostic(
        code(rpl::check::unknown_name),
        help("{}", help_or(suggest(suggestion), extra))
    )]
    UnknownName {
        name: String,
        suggestion: Option<String>,
        extra: String,
        #[source_code]
        src: Src,
        #[label("not a constant, predicate, rule group or field")]
        span: SourceSpan,
    },

    #[error("`{name}` is not a value of `{enum_name}`")]
    #[diagnostic(code(rpl::check::unknown_variant), help("{}", help_or(suggest(suggestion), &format!("the values are: {values}"))))]
    UnknownVariant {
        name: String,
        enum_name: String,
        values: String,
        suggestion: Option<String>,
        #[source_code]
        src: Src,
        #[label("unknown value")]
        span: SourceSpan,
    },

    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(rpl::check::type_mismatch), help("{help}"))]
    TypeMismatch {
        expected: String,
        found: String,
        help: String,
        #[source_code]
        src: Src,
        #[label("{found}")]
        span: SourceSpan,
        #[related]
        defined: Vec<DefinedHere>,
    },

    #[error("`{op}` {what}")]
    #[diagnostic(code(rpl::check::bad_operands), help("{help}"))]
    BadOperands {
        op: String,
        /// "cannot combine X and Y", or "does not apply to X" when both are alike.
        what: String,
        left: String,
        right: String,
        help: String,
        #[source_code]
        src: Src,
        #[label("{left} {op} {right}")]
        span: SourceSpan,
        #[related]
        defined: Vec<DefinedHere>,
    },

    #[error("`{text}` has {places} digits after the point")]
    #[diagnostic(
        code(rpl::check::money_precision),
        help(
            "money is written in cents, e.g. `{rounded}`: requests give amounts with at most 2 places, and refunds are paid in cents"
        )
    )]
    MoneyPrecision {
        text: String,
        places: u32,
        rounded: String,
        #[source_code]
        src: Src,
        #[label("more than cents")]
        span: SourceSpan,
    },

    #[error("`{amount}` is a negative amount of money")]
    #[diagnostic(
        code(rpl::check::negative_money),
        help(
            "amounts in requests and refunds are never below zero, so a test against a negative one always has the same answer; write `0.00 {currency}` or an amount without `-`"
        )
    )]
    NegativeMoney {
        amount: String,
        currency: String,
        #[source_code]
        src: Src,
        #[label("below zero")]
        span: SourceSpan,
    },

    #[error("money in {left} mixed with money in {right}")]
    #[diagnostic(
        code(rpl::check::currency_mismatch),
        help(
            "a policy is written in one currency (`currency = {policy}`); write every amount in it"
        )
    )]
    CurrencyMismatch {
        left: String,
        right: String,
        policy: String,
        #[source_code]
        src: Src,
        #[label("two currencies")]
        span: SourceSpan,
    },

    #[error("{what} `{name}` is defined twice")]
    #[diagnostic(
        code(rpl::check::duplicate_name),
        help("rename one of them; names must be unique {scope}")
    )]
    DuplicateName {
        what: &'static str,
        name: String,
        scope: &'static str,
        #[source_code]
        src: Src,
        #[label("defined again here")]
        span: SourceSpan,
        #[label("first defined here")]
        first: Option<SourceSpan>,
    },

    #[error("two policies for channel `{channel}`")]
    #[diagnostic(
        code(rpl::check::duplicate_channel),
        help("each channel has exactly one policy; merge them or change `channel =` in one")
    )]
    DuplicateChannel {
        channel: String,
        #[source_code]
        src: Src,
        #[label("second policy for `{channel}`")]
        span: SourceSpan,
    },

    #[error("no policy for channel `{channel}`")]
    #[diagnostic(
        code(rpl::check::missing_policy),
        severity(Warning),
        help("requests for `{channel}` will be errors; add a policy with `channel = {channel}`")
    )]
    MissingPolicy {
        channel: String,
        #[source_code]
        src: Src,
        #[label("declared here")]
        span: SourceSpan,
    },

    #[error("{what} `{name}` is never used")]
    #[diagnostic(
        code(rpl::check::unused_definition),
        severity(Warning),
        help("remove it, or use it in a policy")
    )]
    Unused {
        what: &'static str,
        name: String,
        #[source_code]
        src: Src,
        #[label("never used")]
        span: SourceSpan,
    },

    #[error("unknown setting `{name}`")]
    #[diagnostic(
        code(rpl::check::unknown_setting),
        help(
            "{}",
            help_or(
                suggest(suggestion),
                "a policy's settings are channel, currency, timezone, calendar and version"
            )
        )
    )]
    UnknownSetting {
        name: String,
        suggestion: Option<String>,
        #[source_code]
        src: Src,
        #[label("unknown setting")]
        span: SourceSpan,
    },

    #[error("policy `{policy}` has no `{setting}`")]
    #[diagnostic(code(rpl::check::missing_setting), help("{help}"))]
    MissingSetting {
        policy: String,
        setting: &'static str,
        /// What to add: a value that works in this directory (a channel no
        /// other policy has, a calendar file that exists).
        help: String,
        #[source_code]
        src: Src,
        #[label("missing `{setting}`")]
        span: SourceSpan,
    },

    #[error("invalid `{setting}`: {problem}")]
    #[diagnostic(code(rpl::check::bad_setting), help("{help}"))]
    BadSetting {
        setting: String,
        problem: String,
        help: String,
        #[source_code]
        src: Src,
        #[label("{problem}")]
        span: SourceSpan,
    },

    #[error("unknown outcome field `{name}`")]
    #[diagnostic(
        code(rpl::check::unknown_outcome_field),
        help(
            "{}",
            help_or(
                suggest(suggestion),
                "outcome fields are refund, route, installments, return_shipping, settlement, documents, offers and message"
            )
        )
    )]
    UnknownOutcomeField {
        name: String,
        suggestion: Option<String>,
        #[source_code]
        src: Src,
        #[label("not an outcome field")]
        span: SourceSpan,
    },

    #[error("`{verdict}` cannot carry `{field}`")]
    #[diagnostic(code(rpl::check::field_not_allowed), help("{help}"))]
    FieldNotAllowed {
        verdict: &'static str,
        field: &'static str,
        help: &'static str,
        #[source_code]
        src: Src,
        #[label("not allowed with `{verdict}`")]
        span: SourceSpan,
    },

    #[error("`{verdict}` in rule `{rule}` has no `{field}`")]
    #[diagnostic(
        code(rpl::check::missing_outcome_field),
        help("set `{field} = ...` in the rule, or in the policy's `defaults`")
    )]
    MissingOutcomeField {
        verdict: &'static str,
        rule: String,
        field: &'static str,
        #[source_code]
        src: Src,
        #[label("needs `{field}`")]
        span: SourceSpan,
    },

    #[error("`{field}` is set twice")]
    #[diagnostic(code(rpl::check::duplicate_field), help("keep one of them"))]
    DuplicateField {
        field: String,
        #[source_code]
        src: Src,
        #[label("set again here")]
        span: SourceSpan,
    },

    #[error("`+=` in an `after` rule")]
    #[diagnostic(
        code(rpl::check::append_in_after),
        help(
            "`+=` extends the policy's defaults, which `after` rules do not start from; write the whole list: `{field} = [...]`"
        )
    )]
    AppendInAfter {
        field: String,
        #[source_code]
        src: Src,
        #[label("appends to nothing")]
        span: SourceSpan,
    },

    #[error("`{value}` has two arms in one `match`")]
    #[diagnostic(
        code(rpl::check::duplicate_arm),
        help("only the first arm for a value is ever taken; remove `{value}` from one of them")
    )]
    DuplicateArm {
        value: String,
        #[source_code]
        src: Src,
        #[label("second arm for `{value}`")]
        span: SourceSpan,
    },

    #[error("`match` does not cover {missing}")]
    #[diagnostic(
        code(rpl::check::non_exhaustive_match),
        help("add an arm for each missing value, or `_ => ...` for the rest")
    )]
    NonExhaustiveMatch {
        missing: String,
        #[source_code]
        src: Src,
        #[label("some values have no arm")]
        span: SourceSpan,
    },

    #[error("`{field}` is always present")]
    #[diagnostic(
        code(rpl::check::not_optional),
        help(
            "only optional fields can be absent; the schema requires `{field}` or gives it a default"
        )
    )]
    NotOptional {
        field: String,
        #[source_code]
        src: Src,
        #[label("required, or has a default")]
        span: SourceSpan,
    },

    #[error("{problem}")]
    #[diagnostic(code(rpl::check::bad_call), help("{help}"))]
    BadCall {
        problem: String,
        help: &'static str,
        #[source_code]
        src: Src,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("`{kind}` rule `{rule}` cannot {verdict}")]
    #[diagnostic(code(rpl::check::bad_verdict), help("{help}"))]
    BadVerdict {
        kind: &'static str,
        rule: String,
        verdict: &'static str,
        help: &'static str,
        #[source_code]
        src: Src,
        #[label("not allowed here")]
        span: SourceSpan,
    },

    #[error("`use {name}` names {found}")]
    #[diagnostic(
        code(rpl::check::bad_use),
        help("`use` takes a `rules` group or a `defaults` block")
    )]
    BadUse {
        name: String,
        found: &'static str,
        #[source_code]
        src: Src,
        #[label("not a rule group or defaults")]
        span: SourceSpan,
    },

    #[error("`{name}` is defined in terms of itself")]
    #[diagnostic(
        code(rpl::check::recursive_definition),
        help("the language has no recursion; define `{name}` without referring back to it")
    )]
    RecursiveDefinition {
        name: String,
        #[source_code]
        src: Src,
        #[label("refers back to `{name}`")]
        span: SourceSpan,
    },

    #[error("this expression nests too deeply once predicates and constants are expanded")]
    #[diagnostic(
        code(rpl::check::too_deep),
        help(
            "predicates that use predicates nest; at most {max} levels are allowed: flatten a chain of predicates into one, or test fewer things in one condition"
        )
    )]
    TooDeep {
        max: usize,
        #[source_code]
        src: Src,
        #[label("nesting goes past {max} levels here")]
        span: SourceSpan,
        #[label("in this expression")]
        root: Option<SourceSpan>,
    },

    #[error("this expression grows too large once predicates and constants are expanded")]
    #[diagnostic(
        code(rpl::check::too_large),
        help(
            "a predicate or constant is copied wherever it is used, so one used twice in another doubles it; at most {max} parts are allowed: use each predicate once per condition"
        )
    )]
    TooLarge {
        max: usize,
        #[source_code]
        src: Src,
        #[label("the expression passes {max} parts here")]
        span: SourceSpan,
        #[label("in this expression")]
        root: Option<SourceSpan>,
    },

    #[error("import cycle: {cycle}")]
    #[diagnostic(
        code(rpl::check::import_cycle),
        help("files may not import each other in a circle; move what both need into a third file")
    )]
    ImportCycle {
        cycle: String,
        #[source_code]
        src: Src,
        #[label("this import closes the cycle")]
        span: SourceSpan,
    },

    #[error("cannot import `{path}`: {reason}")]
    #[diagnostic(
        code(rpl::check::missing_import),
        help("{}the path is relative to the importing file", suggest(suggestion).replace('?', "? "))
    )]
    MissingImport {
        path: String,
        reason: String,
        suggestion: Option<String>,
        #[source_code]
        src: Src,
        #[label("not found")]
        span: SourceSpan,
    },

    #[error("import `{path}` reaches outside the policy directory")]
    #[diagnostic(
        code(rpl::check::import_outside_root),
        help("imports must stay inside `{root}`; copy the shared file into it")
    )]
    ImportOutsideRoot {
        path: String,
        root: String,
        #[source_code]
        src: Src,
        #[label("outside the policy directory")]
        span: SourceSpan,
    },
}

/// Where a constant or predicate in an error is defined: the fix is there,
/// often in another file than the use.
#[derive(Debug, Error, Diagnostic)]
#[error("`{name}` is defined here")]
#[diagnostic(severity(Advice))]
pub struct DefinedHere {
    pub name: String,
    pub what: String,
    #[source_code]
    pub src: Src,
    #[label("{what}")]
    pub span: SourceSpan,
}

fn help_or(first: String, fallback: &str) -> String {
    if first.is_empty() {
        fallback.to_string()
    } else {
        first
    }
}
