//! The syntax tree of a policy file. Every node carries its [`Span`];
//! spans are ignored by equality, so a tree compares equal to the tree of
//! the same file formatted differently.

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::source::Span;
use crate::vocab::{BinOp, RuleKind, UnOp, Unit, Verdict};

/// One parsed file.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// The `//!` lines at the top, joined.
    pub doc: Option<String>,
    pub items: Vec<Item>,
    /// Every comment in the file, in order, for the formatter.
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub kind: CommentKind,
    /// The text after the `//`, `///` or `//!` marker.
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentKind {
    Line,
    Doc,
    Inner,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Import(Import),
    Const(ConstDef),
    Pred(PredDef),
    Rules(RulesDef),
    Defaults(DefaultsDef),
    Policy(Policy),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub path: StrLit,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstDef {
    pub doc: Option<String>,
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PredDef {
    pub doc: Option<String>,
    pub name: Ident,
    pub label: Option<StrLit>,
    pub cond: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RulesDef {
    pub doc: Option<String>,
    pub name: Ident,
    pub rules: Vec<Rule>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DefaultsDef {
    pub doc: Option<String>,
    pub name: Ident,
    pub fields: Vec<Assign>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub doc: Option<String>,
    pub name: Ident,
    pub label: Option<StrLit>,
    pub items: Vec<PolicyItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PolicyItem {
    Setting(Setting),
    Use(Ident),
    /// A constant seen only by this policy and the groups it uses.
    Const(ConstDef),
    Defaults {
        fields: Vec<Assign>,
        span: Span,
    },
    Rule(Rule),
}

/// `key = value` in a policy header.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub doc: Option<String>,
    pub kind: RuleKind,
    pub name: Ident,
    pub label: Option<StrLit>,
    /// Absent: the rule always applies.
    pub when: Option<Expr>,
    /// Absent only for `reject`.
    pub outcome: Option<Outcome>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub verdict_span: Span,
    pub fields: Vec<Assign>,
    pub span: Span,
}

/// `field = value`, or `field += value` to extend the default list.
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub field: Ident,
    pub append: bool,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Lit(Lit),
    /// A name or dotted field path, resolved by the checker.
    Path(String),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `value in list`, or `value not in list` when `negated`.
    In {
        value: Box<Expr>,
        list: Box<Expr>,
        negated: bool,
    },
    /// `value is present` (`present`) or `value is absent`.
    Is {
        value: Box<Expr>,
        present: bool,
    },
    /// `value within window after anchor`.
    Within {
        value: Box<Expr>,
        window: Box<Expr>,
        anchor: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    Call {
        /// Boxed: calls are rare, and the name would make every node larger.
        func: Box<Ident>,
        args: Vec<Expr>,
    },
    List(Vec<Expr>),
    Paren(Box<Expr>),
    /// A string with values in braces: `"the {window} window has ended"`.
    Template(Vec<TemplatePart>),
}

/// A piece of a string template: text, or a name or field written in
/// braces, whose value is put in its place.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Text(String),
    Value(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchArm {
    /// Empty for the wildcard `_`.
    pub patterns: Vec<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lit {
    Int(i64),
    Decimal(Decimal),
    Money { amount: Decimal, currency: String },
    Str(String),
    Bool(bool),
    Date(Date),
    Duration { count: u32, unit: Unit },
    None,
}
