//! The checker's output: policies with every name resolved and every
//! expression typed. Constants and predicates are expanded where they are
//! used, keeping the spans of their definitions, so a trace can point at
//! the comparison that actually failed.

use std::sync::Arc;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use crate::calendar::Calendar;
use crate::schema::{EnumType, FieldId, Schema};
use crate::source::{SourceMap, Span};
use crate::vocab::{BinOp, RuleKind, Unit, Verdict};

/// The type of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Int,
    Decimal,
    /// Money in the named currency.
    Money(Arc<str>),
    Str,
    Enum(Arc<EnumType>),
    Timestamp,
    Date,
    Duration,
    /// `a .. b` of two dates: a settlement window.
    DateRange,
    List(Box<Ty>),
    /// `none`: fits wherever an optional output is expected.
    None,
    /// The type of an expression that already produced a diagnostic; it
    /// fits everywhere so one mistake is reported once.
    Error,
}

impl Ty {
    /// How the type reads in a message.
    pub fn describe(&self) -> String {
        match self {
            Ty::Bool => "a condition (true or false)".into(),
            Ty::Int => "a whole number".into(),
            Ty::Decimal => "a decimal number".into(),
            Ty::Money(c) => format!("money in {c}"),
            Ty::Str => "a text".into(),
            Ty::Enum(e) => format!("a value of `{}`", e.name),
            Ty::Timestamp => "a timestamp".into(),
            Ty::Date => "a date".into(),
            Ty::Duration => "a duration".into(),
            Ty::DateRange => "a date range".into(),
            Ty::List(t) => format!("a list of {}", t.describe()),
            Ty::None => "`none`".into(),
            Ty::Error => "an invalid value".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Const {
    Bool(bool),
    Int(i64),
    Decimal(Decimal),
    Money(Decimal),
    Str(Arc<str>),
    /// A variant index of the expression's enum type.
    Enum(u32),
    Date(Date),
    Duration {
        count: u32,
        unit: Unit,
    },
    None,
}

/// Values known only after a rule decided, readable in `after` rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `decision`: the verdict so far.
    Decision,
    /// `refund`: the refund amount so far (absent when denied).
    Refund,
    /// `decided_by`: the rule that decided.
    DecidedBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Max,
    Min,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Ty,
    pub span: Span,
}

impl TExpr {
    /// What a named constant or predicate stands for, through any number
    /// of names (`const b = a`).
    pub fn unnamed(&self) -> &TExpr {
        let mut e = self;
        while let TKind::Named { body, .. } = &e.kind {
            e = body;
        }
        e
    }

    /// The constants this expression is written as (a constant defined by
    /// another gives both), with the span of the value at the end.
    pub fn constants(&self) -> Named {
        let mut out = Vec::new();
        let mut e = self;
        while let TKind::Named { name, body } = &e.kind {
            if body.ty == Ty::Bool {
                break;
            }
            out.push(Arc::clone(name));
            e = body;
        }
        out.into_iter().map(|n| (n, e.span)).collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TMatch {
    pub scrutinee: TExpr,
    /// The arms as written, each once.
    pub arms: Vec<TExpr>,
    /// For each variant of the scrutinee's enum, the index of its arm.
    pub by_variant: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TKind {
    Const(Const),
    Field(FieldId),
    Builtin(Builtin),
    Not(Box<TExpr>),
    Neg(Box<TExpr>),
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
    In {
        value: Box<TExpr>,
        list: Box<[TExpr]>,
        negated: bool,
        /// The constants the list was written as (`excluded_categories`),
        /// for the trace.
        named: Named,
    },
    Is {
        field: FieldId,
        present: bool,
    },
    Within {
        value: Box<TExpr>,
        count: u32,
        unit: Unit,
        anchor: Box<TExpr>,
        /// The constants the window was written as, for the trace.
        named: Named,
    },
    If {
        cond: Box<TExpr>,
        then: Box<TExpr>,
        els: Box<TExpr>,
    },
    /// Boxed: matches are rare, and would make every node larger.
    Match(Box<TMatch>),
    Call(Func, Vec<TExpr>),
    List(Vec<TExpr>),
    /// A use of a named predicate or constant, kept for the trace.
    Named {
        name: Arc<str>,
        body: Box<TExpr>,
    },
    /// A string with values put in (`"the {window} window"`).
    Template(Vec<TPart>),
}

/// Constants an operand was written as, each with where its value is
/// written: `excluded_categories` → `[digital, perishable, periodical]`.
pub type Named = Vec<(Arc<str>, Span)>;

#[derive(Debug, Clone, PartialEq)]
pub enum TPart {
    Text(Arc<str>),
    Value(TExpr),
}

/// The outcome fields a decision may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutField {
    Refund,
    Route,
    Installments,
    ReturnShipping,
    Settlement,
    Documents,
    Offers,
    Message,
}

impl OutField {
    pub const ALL: [OutField; 8] = [
        OutField::Refund,
        OutField::Route,
        OutField::Installments,
        OutField::ReturnShipping,
        OutField::Settlement,
        OutField::Documents,
        OutField::Offers,
        OutField::Message,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OutField::Refund => "refund",
            OutField::Route => "route",
            OutField::Installments => "installments",
            OutField::ReturnShipping => "return_shipping",
            OutField::Settlement => "settlement",
            OutField::Documents => "documents",
            OutField::Offers => "offers",
            OutField::Message => "message",
        }
    }

    pub fn from_name(name: &str) -> Option<OutField> {
        OutField::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the field may be left empty with `none`.
    pub fn nullable(self) -> bool {
        matches!(
            self,
            OutField::Installments | OutField::ReturnShipping | OutField::Settlement
        )
    }

    /// Whether a verdict may carry this field.
    pub fn allowed(self, verdict: Verdict) -> bool {
        match verdict {
            Verdict::Approve => true,
            Verdict::Review => self != OutField::Settlement,
            Verdict::Deny => matches!(self, OutField::Offers | OutField::Message),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutValue {
    pub field: OutField,
    /// Shared: a policy's defaults stand in every rule that takes them.
    pub value: Arc<TExpr>,
    /// `+=`: appended to the default list.
    pub append: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckedOutcome {
    pub verdict: Verdict,
    /// The rule's own fields followed by the defaults it did not set, for
    /// the verdicts that take defaults. One entry per field. A default is
    /// the policy's one expression, shared, not a copy per rule.
    pub fields: Vec<(OutField, Arc<TExpr>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckedRule {
    pub kind: RuleKind,
    pub name: Arc<str>,
    pub label: Option<Arc<str>>,
    pub when: Option<TExpr>,
    pub outcome: Option<CheckedOutcome>,
    pub name_span: Span,
}

#[derive(Debug, Clone)]
pub struct CheckedPolicy {
    pub name: Arc<str>,
    pub label: Option<Arc<str>>,
    pub version: Option<Arc<str>>,
    /// Variant index of the schema's channel enum.
    pub channel: u32,
    /// Where the policy names its channel.
    pub channel_span: Span,
    /// The policy's name where it is declared.
    pub name_span: Span,
    pub currency: Arc<str>,
    pub timezone: TimeZone,
    pub calendar: Arc<Calendar>,
    /// `rule`, `reject` and `after` items in source order after `use`.
    pub rules: Vec<CheckedRule>,
}

/// Everything a checked policy directory holds.
#[derive(Debug, Clone)]
pub struct Program {
    pub schema: Arc<Schema>,
    pub policies: Vec<CheckedPolicy>,
    pub sources: Arc<SourceMap>,
}
