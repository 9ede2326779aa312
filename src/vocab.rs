//! The words every stage shares: the kinds of rule, the verdicts, the
//! operators and the units of a duration. They live below all stages, so
//! that the checked tree, the compiled form and the decision's JSON do not
//! depend on the syntax tree.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// Ordered, first match decides.
    Rule,
    /// Checked before the rules; a match makes the request an error.
    Reject,
    /// Checked after a rule decided; the first match changes the verdict.
    After,
}

impl RuleKind {
    pub fn keyword(self) -> &'static str {
        match self {
            RuleKind::Rule => "rule",
            RuleKind::Reject => "reject",
            RuleKind::After => "after",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Approve,
    Deny,
    Review,
}

impl Verdict {
    /// Every verdict, in the order `decision` in `after` rules numbers them.
    pub const ALL: [Verdict; 3] = [Verdict::Approve, Verdict::Deny, Verdict::Review];

    /// This verdict's place in [`Verdict::ALL`].
    pub fn index(self) -> u32 {
        match self {
            Verdict::Approve => 0,
            Verdict::Deny => 1,
            Verdict::Review => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Deny => "deny",
            Verdict::Review => "review",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Range,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Range => "..",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Days,
    WorkingDays,
    Weeks,
    Months,
    Years,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Days => "days",
            Unit::WorkingDays => "working days",
            Unit::Weeks => "weeks",
            Unit::Months => "months",
            Unit::Years => "years",
        }
    }
}
