//! Deciding a plain policy ([`CompiledPolicy::plain`]): its conditions
//! are leaves that compare one field with constants, its outcomes are
//! plans, and it has no `after` rules. Such a policy is decided by
//! reading the request's values straight into the decision, with no
//! evaluator, no arena and no error to carry: the whole of deciding is a
//! few loads and compares per leaf.
//!
//! The readers here are the evaluator's fast paths too ([`leaf`],
//! [`pick`], [`amount`]), so the two cannot drift apart. Each says when
//! it cannot read a value ([`Truth::Unread`], `None`): a value of a kind
//! the checker rules out, or a node only the evaluator computes. Deciding
//! then gives up before writing anything, and the evaluator decides the
//! request from the start, with the error it reports.

use rust_decimal::Decimal;

use super::expr::Got;
use super::output::{Decider, Decision, Refund, paid};
use crate::check::hir::OutField;
use crate::compile::{Compiled, CompiledPolicy, Leaf, Plan, Planned, Test};
use crate::request::Request;
use crate::schema::FieldId;
use crate::value::{Value, cmp_decimal};
use crate::vocab::Verdict;
use crate::words::Word;

/// A condition read straight from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    False,
    True,
    /// It reads an absent value.
    Unknown,
    /// Only the evaluator can tell.
    Unread,
}

impl Truth {
    #[inline(always)]
    fn of(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }

    /// The evaluator's three-valued truth; `None` when unread.
    #[inline(always)]
    pub fn known(self) -> Option<Option<bool>> {
        match self {
            Truth::False => Some(Some(false)),
            Truth::True => Some(Some(true)),
            Truth::Unknown => Some(None),
            Truth::Unread => None,
        }
    }

    #[inline(always)]
    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::True => Truth::False,
            t => t,
        }
    }
}

/// A leaf's truth: [`Truth::Unread`] for a comparison of another kind, a
/// node, or a value of a kind the checker rules out.
#[inline(always)]
pub fn leaf(leaf: &Leaf, request: &Request) -> Truth {
    match leaf {
        Leaf::Flag { field, negated, .. } => match request.get(*field) {
            Value::Bool(b) => Truth::of(*b != *negated),
            Value::Absent => Truth::Unknown,
            _ => Truth::Unread,
        },
        Leaf::Is { field, present } => Truth::of(is(request, *field, *present)),
        Leaf::InSet {
            field,
            set,
            negated,
            ..
        } => in_set(request.get(*field), *set, *negated),
        Leaf::Money {
            op, field, amount, ..
        } => match request.get(*field) {
            Value::Money(m) => Truth::of(op.holds(cmp_decimal(m, amount))),
            Value::Absent => Truth::Unknown,
            _ => Truth::Unread,
        },
        Leaf::Cmp { .. } | Leaf::Node(_) => Truth::Unread,
    }
}

/// Whether `field` has a value (`is present`), or has none (`is absent`).
#[inline(always)]
pub fn is(request: &Request, field: FieldId, present: bool) -> bool {
    !matches!(request.get(field), Value::Absent) == present
}

/// Whether the enum value `v` is in `set`, a set of variants as bits (or
/// not, `negated`).
#[inline(always)]
pub fn in_set(v: &Value, set: u128, negated: bool) -> Truth {
    match v {
        Value::Enum(i) if *i < 128 => Truth::of((set & (1u128 << i) != 0) != negated),
        Value::Absent => Truth::Unknown,
        _ => Truth::Unread,
    }
}

/// A condition's truth, three-valued as the evaluator folds `and`, `or`
/// and `not`; [`Truth::Unread`] as soon as a test it reaches is.
fn test(t: &Test, request: &Request) -> Truth {
    match t {
        Test::All(all) => chain(all, request, Truth::False),
        Test::Any(any) => chain(any, request, Truth::True),
        Test::Not(x) => test(x, request).not(),
        Test::Leaf(l) => leaf(l, request),
    }
}

/// `and` (`decisive` false) or `or` (true), left to right.
#[inline(always)]
fn chain(tests: &[Test], request: &Request, decisive: Truth) -> Truth {
    let mut known = true;
    for t in tests {
        let truth = match t {
            Test::Leaf(l) => leaf(l, request),
            t => test(t, request),
        };
        if truth == decisive {
            return decisive;
        }
        match truth {
            Truth::Unknown => known = false,
            Truth::Unread => return Truth::Unread,
            _ => {}
        }
    }
    if known {
        decisive.not()
    } else {
        Truth::Unknown
    }
}

/// A rule's condition: a rule without one applies.
#[inline(always)]
fn applies(t: Option<&Test>, request: &Request) -> Truth {
    match t {
        // Most conditions are one `and` chain: straight to it.
        Some(Test::All(all)) => chain(all, request, Truth::False),
        Some(t) => test(t, request),
        None => Truth::True,
    }
}

/// An enum outcome through its plan; `None` when only its node tells.
#[inline(always)]
pub fn pick(p: &Planned, request: &Request) -> Option<Got<u32>> {
    match &p.plan {
        Plan::None => Some(Got::Absent),
        Plan::Place(i) => Some(Got::Value(*i)),
        Plan::Field(f) => match request.get(*f) {
            Value::Enum(i) => Some(Got::Value(*i)),
            Value::Absent => Some(Got::Absent),
            _ => None,
        },
        Plan::Pick { field, places } => match request.get(*field) {
            Value::Enum(i) => places
                .get(*i as usize)
                .map(|place| place.map_or(Got::Absent, Got::Value)),
            Value::Absent => Some(Got::Absent),
            _ => None,
        },
        Plan::Node => None,
    }
}

/// A money outcome through its plan; `None` when only its node tells.
#[inline(always)]
pub fn amount(p: &Planned, request: &Request) -> Option<Got<Decimal>> {
    match &p.plan {
        Plan::None => Some(Got::Absent),
        Plan::Field(f) => match request.get(*f) {
            Value::Money(m) => Some(Got::Value(*m)),
            Value::Absent => Some(Got::Absent),
            _ => None,
        },
        _ => None,
    }
}

/// The word of an enum outcome (`Some(None)` for none); `None` when the
/// plan cannot read it.
#[inline(always)]
fn word(vocabulary: &'static [Word], p: &Planned, request: &Request) -> Option<Option<Word>> {
    match pick(p, request)? {
        Got::Value(i) => vocabulary.get(i as usize).copied().map(Some),
        Got::Absent => Some(None),
        Got::Other => None,
    }
}

/// Decides `request` by `policy`, a plain one, into `decision`, a blank
/// one. False when the evaluator must decide it instead (a reject rule
/// that matched, a value the readers cannot read, an outcome the
/// evaluator refuses): `decision` is then as it was.
pub fn decide(
    compiled: &Compiled,
    policy: &CompiledPolicy,
    request: &Request,
    decision: &mut Decision,
) -> bool {
    match outcome(compiled, policy, request) {
        Some(o) => {
            decision.decision = o.verdict;
            decision.by = o.by;
            decision.refund = o.refund;
            decision.installments = o.installments;
            decision.return_shipping_paid_by = o.return_shipping;
            true
        }
        None => false,
    }
}

/// What a plain policy decides: all a plain rule's outcome can hold.
struct Outcome {
    verdict: Verdict,
    by: &'static Decider,
    refund: Option<Refund>,
    installments: Option<Word>,
    return_shipping: Option<Word>,
}

#[inline(always)]
fn outcome(compiled: &Compiled, policy: &CompiledPolicy, request: &Request) -> Option<Outcome> {
    for rule in &policy.rejects {
        if !matches!(
            applies(rule.test.as_ref(), request),
            Truth::False | Truth::Unknown
        ) {
            return None;
        }
    }
    let mut decided_by = None;
    for rule in &policy.rules {
        match applies(rule.test.as_ref(), request) {
            Truth::True => {
                decided_by = Some(rule);
                break;
            }
            Truth::False | Truth::Unknown => {}
            Truth::Unread => return None,
        }
    }
    let rule = decided_by?;
    let verdict = rule.verdict?;
    let v = &compiled.vocab;
    let (mut amount_paid, mut route) = (None, None);
    let (mut installments, mut return_shipping) = (None, None);
    for p in &rule.plan {
        match p.field {
            OutField::Refund => {
                amount_paid = match amount(p, request)? {
                    Got::Value(m) => Some(paid(m)),
                    Got::Absent => None,
                    Got::Other => return None,
                }
            }
            OutField::Route => route = word(v.route, p, request)?,
            OutField::Installments => installments = word(v.installments, p, request)?,
            OutField::ReturnShipping => return_shipping = word(v.return_shipping, p, request)?,
            // A plain rule settles nothing: its plan is `none`.
            OutField::Settlement if p.plan == Plan::None => {}
            _ => return None,
        }
    }
    let refund = match (amount_paid, route) {
        (Some(amount), Some(route)) => Some(Refund {
            amount,
            currency: policy.currency,
            route,
        }),
        _ => None,
    };
    // Otherwise the evaluator reports the outcome incomplete.
    (verdict == Verdict::Deny || refund.is_some()).then_some(Outcome {
        verdict,
        by: rule.decider,
        refund,
        installments,
        return_shipping,
    })
}
