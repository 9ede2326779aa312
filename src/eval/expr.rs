//! Evaluating one policy's expression arena against one request.
//!
//! Conditions use three-valued logic: a test that reads an absent value is
//! unknown (`Value::Absent`), `not unknown` is unknown, `false and unknown`
//! is false, `true or unknown` is true; a rule applies only when its
//! condition is true.
//!
//! One evaluator in two modes, fixed when it is built (`WATCHED`). Deciding
//! alone reads fields and constants in place and takes tests straight to
//! truth values, with no bookkeeping; explaining or measuring coverage goes
//! through [`Evaluator::eval`] for every node, which records it. Both run
//! the same code for each kind of node.

use std::borrow::Cow;
use std::cmp::Ordering;

use rust_decimal::Decimal as Dec;

use super::coverage::PolicyHits;
use super::error::EvalError;
use super::plain;
use crate::calendar::OutOfRange;
use crate::check::hir::Builtin;
use crate::compile::{Arith, Cmp, CompiledPolicy, FormatPart, Leaf, Node, NodeId, Planned, Test};
use crate::day::Day;
use crate::request::Request;
use crate::schema::{FieldId, Schema};
use crate::value::{Value, cmp_decimal};
use crate::vocab::{Unit, Verdict};

/// What `after` rules can read.
#[derive(Debug, Clone)]
pub struct Decided {
    pub verdict: Verdict,
    pub refund: Value,
    pub rule: u32,
}

/// A test evaluated while tracing: the node and its result.
pub struct Tested {
    pub node: NodeId,
    pub result: Value,
    /// For a window: its last day.
    pub window_end: Option<Day>,
    /// Written under a `not` (`not inside_return_window`): the trace
    /// shows the test as the rule reads it, `result` already negated.
    pub negated: bool,
}

pub struct Evaluator<'a, const WATCHED: bool> {
    pub policy: &'a CompiledPolicy,
    pub schema: &'a Schema,
    pub request: &'a Request,
    pub decided: Option<Decided>,
    /// `Some` when explaining: every outermost test evaluated, in order.
    pub tested: Option<Vec<Tested>>,
    /// How many tests enclose the node being evaluated.
    pub test_depth: usize,
    /// `Some` when measuring coverage: what was evaluated, to what.
    pub hits: Option<&'a mut PolicyHits>,
    /// The last day of the window just evaluated, for its line in the trace.
    pub window_end: Option<Day>,
}

/// What an outcome read without building a value gives: a value of the
/// kind wanted, none, or another kind (refused by the caller with the
/// value `eval` computes, as it would refuse it).
pub enum Got<T> {
    Value(T),
    Absent,
    Other,
}

/// Why no value: boxed, so that what every node returns stays small.
pub type Fault = Box<EvalError>;

type R<T = Value> = Result<T, Fault>;

impl<'a, const WATCHED: bool> Evaluator<'a, WATCHED> {
    pub fn new(policy: &'a CompiledPolicy, schema: &'a Schema, request: &'a Request) -> Self {
        Evaluator {
            policy,
            schema,
            request,
            decided: None,
            tested: None,
            test_depth: 0,
            hits: None,
            window_end: None,
        }
    }

    // Inlined, as every node starts here; the error is out of line.
    #[inline(always)]
    fn node(&self, id: NodeId) -> R<&'a Node> {
        let policy: &'a CompiledPolicy = self.policy;
        match policy.node(id) {
            Some(node) => Ok(node),
            None => Err(missing(id)),
        }
    }

    /// A value of a kind the checker ruled out where `what` needed another.
    fn unexpected(&self, what: &str, v: &Value) -> Fault {
        internal(format!("{what} met {v:?}"))
    }

    /// Whether a rule condition holds: only `true` counts.
    pub fn holds(&mut self, id: NodeId) -> R<bool> {
        Ok(self.truth(id, "a condition")? == Some(true))
    }

    /// Whether a rule condition holds, read through its [`Test`]: what
    /// [`Evaluator::holds`] gives for its node.
    pub fn passes(&mut self, test: &Test) -> R<bool> {
        // Most conditions are one `and` chain: straight to it.
        let truth = match test {
            Test::All(all) => self.chain(all, "`and`", false)?,
            test => self.test(test, "a condition")?,
        };
        Ok(truth == Some(true))
    }

    /// A chain of `and`s (`decisive` false) or `or`s (true), left to
    /// right: the first test that comes out `decisive` decides it, as in
    /// nested `and`/`or`; otherwise it is unknown if any test was.
    fn chain(&mut self, tests: &[Test], what: &str, decisive: bool) -> R<Option<bool>> {
        let mut known = Some(!decisive);
        for t in tests {
            let truth = match t {
                Test::Leaf(leaf) => self.leaf(leaf, what)?,
                t => self.test(t, what)?,
            };
            match truth {
                Some(b) if b == decisive => return Ok(Some(decisive)),
                Some(_) => {}
                None => known = None,
            }
        }
        Ok(known)
    }

    /// A condition's value through its [`Test`], as [`Evaluator::truth`]
    /// gives it for the node the test was made from.
    fn test(&mut self, test: &Test, what: &str) -> R<Option<bool>> {
        match test {
            Test::All(all) => self.chain(all, "`and`", false),
            Test::Any(any) => self.chain(any, "`or`", true),
            Test::Not(x) => Ok(self.test(x, "`not`")?.map(|b| !b)),
            Test::Leaf(leaf) => self.leaf(leaf, what),
        }
    }

    #[inline(always)]
    fn leaf(&mut self, leaf: &Leaf, what: &str) -> R<Option<bool>> {
        match plain::leaf(leaf, self.request).known() {
            Some(truth) => Ok(truth),
            None => self.unread_leaf(leaf, what),
        }
    }

    /// A leaf [`plain::leaf`] cannot read: evaluated from its node.
    #[inline(never)]
    fn unread_leaf(&mut self, leaf: &Leaf, what: &str) -> R<Option<bool>> {
        match leaf {
            Leaf::Flag { node, .. } | Leaf::InSet { node, .. } | Leaf::Money { node, .. } => {
                self.truth(*node, what)
            }
            Leaf::Is { field, present } => Ok(Some(self.is(*field, *present))),
            Leaf::Cmp {
                op,
                field,
                constant,
                field_first,
            } => {
                let v = self.request.get(*field);
                let (l, r) = if *field_first {
                    (v, constant)
                } else {
                    (constant, v)
                };
                Ok(self.compare(l, r)?.map(|ord| op.holds(ord)))
            }
            Leaf::Node(id) => self.truth(*id, what),
        }
    }

    pub fn eval(&mut self, id: NodeId) -> R {
        let node = self.node(id)?;
        if !WATCHED {
            return self.value(node);
        }
        // A test inside another (a field inside a comparison) is shown as
        // that test's value, not as a test of its own.
        let traced = self.tested.is_some() && self.is_test(node);
        if traced {
            self.test_depth += 1;
        }
        let v = self.value(node)?;
        if let Some(hits) = self.hits.as_deref_mut() {
            hits.record(id, &v);
        }
        if traced {
            self.test_depth -= 1;
            let window_end = match node {
                Node::Within { .. } => self.window_end.take(),
                _ => None,
            };
            if let Some(tested) = self.tested.as_mut()
                && self.test_depth == 0
            {
                tested.push(Tested {
                    node: id,
                    result: v.clone(),
                    window_end,
                    negated: false,
                });
            }
        }
        Ok(v)
    }

    /// An operand: fields and constants are read in place when nothing is
    /// watched, as no node needs recording.
    #[inline(always)]
    pub fn operand(&mut self, id: NodeId) -> R<Cow<'a, Value>> {
        if WATCHED {
            return self.eval(id).map(Cow::Owned);
        }
        let request: &'a Request = self.request;
        match self.node(id)? {
            Node::Field(f) => Ok(Cow::Borrowed(request.get(*f))),
            Node::Const(v) => Ok(Cow::Borrowed(v)),
            node => self.value(node).map(Cow::Owned),
        }
    }

    /// A condition's value: known, or unknown (absent).
    fn truth(&mut self, id: NodeId, what: &str) -> R<Option<bool>> {
        let v = if WATCHED {
            self.eval(id)?
        } else {
            // Tests go straight to a truth value.
            match self.node(id)? {
                Node::And(a, b) => return self.and(*a, *b),
                Node::Or(a, b) => return self.or(*a, *b),
                Node::Not(x) => return Ok(self.truth(*x, "`not`")?.map(|b| !b)),
                Node::Named { body, .. } => return self.truth(*body, what),
                Node::Cmp(op, a, b) => return self.cmp(*op, *a, *b),
                Node::InSet {
                    value,
                    set,
                    negated,
                } => return self.in_set(*value, *set, *negated),
                Node::Is { field, present } => return Ok(Some(self.is(*field, *present))),
                Node::Within {
                    value,
                    count,
                    unit,
                    anchor,
                    origin,
                } => return self.within(*value, *count, *unit, *anchor, *origin),
                Node::Field(f) => match self.request.get(*f) {
                    Value::Bool(b) => return Ok(Some(*b)),
                    Value::Absent => return Ok(None),
                    v => return Err(self.unexpected(what, v)),
                },
                node => self.value(node)?,
            }
        };
        match v {
            Value::Bool(b) => Ok(Some(b)),
            Value::Absent => Ok(None),
            v => Err(self.unexpected(what, &v)),
        }
    }

    /// A node's value, its operands evaluated through `eval`.
    fn value(&mut self, node: &'a Node) -> R {
        Ok(match node {
            Node::Const(v) => v.clone(),
            Node::Field(f) => self.request.get(*f).clone(),
            Node::Builtin(b) => match (b, &self.decided) {
                // Only `after` rules read them, once a rule has decided.
                (_, None) => return Err(internal(format!("{b:?} read before a decision"))),
                (Builtin::Decision, Some(d)) => Value::Enum(d.verdict.index()),
                (Builtin::Refund, Some(d)) => d.refund.clone(),
                (Builtin::DecidedBy, Some(d)) => Value::Enum(d.rule),
            },
            Node::Not(x) => {
                let before = self.tested.as_ref().map_or(0, Vec::len);
                let v = truth_value(self.truth(*x, "`not`")?.map(|b| !b));
                // `not` of one test is shown as that test negated, so a
                // rule that applied does not list a test that came out
                // false without saying it was negated.
                if let Some(tested) = self.tested.as_mut()
                    && self.test_depth == 0
                    && tested.len() == before + 1
                    && let Some(t) = tested.last_mut()
                {
                    t.negated = !t.negated;
                    t.result = v.clone();
                }
                v
            }
            Node::Neg(x) => match self.operand(*x)?.as_ref() {
                Value::Int(i) => i
                    .checked_neg()
                    .map(Value::Int)
                    .ok_or_else(|| self.overflow(*x))?,
                Value::Decimal(d) => Value::Decimal(-d),
                Value::Money(d) => Value::Money(-d),
                Value::Absent => Value::Absent,
                v => return Err(self.unexpected("`-`", v)),
            },
            Node::And(a, b) => truth_value(self.and(*a, *b)?),
            Node::Or(a, b) => truth_value(self.or(*a, *b)?),
            Node::Cmp(op, a, b) => truth_value(self.cmp(*op, *a, *b)?),
            Node::Arith(op, a, b) => {
                let (op, a, b) = (*op, *a, *b);
                let l = self.operand(a)?;
                let r = self.operand(b)?;
                match arith(op, &l, &r) {
                    Ok(v) => v,
                    Err(NoSum::Overflow) => return Err(self.overflow(a)),
                    Err(NoSum::Kinds) => {
                        return Err(internal(format!("{op:?} of {l:?} and {r:?}")));
                    }
                }
            }
            Node::DateShift {
                date,
                count,
                unit,
                back,
                origin,
            } => match self.operand(*date)?.as_ref() {
                Value::Absent => Value::Absent,
                v => {
                    let d = self.local_day(v)?;
                    Value::Date(self.shift(d, *count, *unit, *back, *origin)?)
                }
            },
            Node::InSet {
                value,
                set,
                negated,
            } => truth_value(self.in_set(*value, *set, *negated)?),
            Node::In {
                value,
                list,
                negated,
            } => truth_value(self.in_list(*value, list, *negated)?),
            Node::Is { field, present } => Value::Bool(self.is(*field, *present)),
            Node::Within {
                value,
                count,
                unit,
                anchor,
                origin,
            } => truth_value(self.within(*value, *count, *unit, *anchor, *origin)?),
            Node::If { cond, then, els } => {
                if self.holds(*cond)? {
                    self.eval(*then)?
                } else {
                    self.eval(*els)?
                }
            }
            Node::Match { scrutinee, arms } => match self.operand(*scrutinee)?.as_ref() {
                Value::Enum(i) => match arms.get(*i as usize) {
                    Some(arm) => self.eval(*arm)?,
                    None => return Err(internal(format!("`match` has no arm for value {i}"))),
                },
                Value::Absent => Value::Absent,
                v => return Err(self.unexpected("`match`", v)),
            },
            Node::Max(args) => self.best(args, Ordering::Greater)?,
            Node::Min(args) => self.best(args, Ordering::Less)?,
            Node::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(*i)?);
                }
                Value::List(out.into())
            }
            Node::Range(a, b) => {
                let l = self.operand(*a)?;
                let r = self.operand(*b)?;
                match (l.as_ref(), r.as_ref()) {
                    (Value::Absent, _) | (_, Value::Absent) => Value::Absent,
                    (l, r) => Value::Range(self.local_day(l)?, self.local_day(r)?),
                }
            }
            Node::Named { body, .. } => self.eval(*body)?,
            Node::Format(parts) => self.format(parts)?,
        })
    }

    /// An enum outcome (a route, a plan for the installments): read
    /// without building a value where the outcome is a constant, a field,
    /// or a choice (`if`, `match`) between such; else as `eval` computes it.
    pub fn choice(&mut self, id: NodeId) -> R<Got<u32>> {
        if !WATCHED {
            match self.node(id)? {
                Node::Const(Value::Enum(i)) => return Ok(Got::Value(*i)),
                Node::Field(f) => match self.request.get(*f) {
                    Value::Enum(i) => return Ok(Got::Value(*i)),
                    Value::Absent => return Ok(Got::Absent),
                    _ => {}
                },
                node => {
                    if let Some(next) = self.branch(node)? {
                        return next.map_or(Ok(Got::Absent), |n| self.choice(n));
                    }
                }
            }
        }
        Ok(match self.eval(id)? {
            Value::Enum(i) => Got::Value(i),
            Value::Absent => Got::Absent,
            _ => Got::Other,
        })
    }

    /// An enum outcome through its plan: what [`Evaluator::choice`] gives
    /// for its node.
    #[inline(always)]
    pub fn pick(&mut self, p: &Planned) -> R<Got<u32>> {
        if !WATCHED && let Some(got) = plain::pick(p, self.request) {
            return Ok(got);
        }
        self.choice(p.node)
    }

    /// A money outcome through its plan: what [`Evaluator::money`] gives
    /// for its node.
    #[inline]
    pub fn amount(&mut self, p: &Planned) -> R<Got<Dec>> {
        if !WATCHED && let Some(got) = plain::amount(p, self.request) {
            return Ok(got);
        }
        self.money(p.node)
    }

    /// A money outcome (the refund), as [`Evaluator::choice`] reads an
    /// enum, with the sums, differences and bounds refunds are made of.
    pub fn money(&mut self, id: NodeId) -> R<Got<Dec>> {
        if !WATCHED {
            match self.node(id)? {
                Node::Const(Value::Money(m)) => return Ok(Got::Value(*m)),
                Node::Field(f) => match self.request.get(*f) {
                    Value::Money(m) => return Ok(Got::Value(*m)),
                    Value::Absent => return Ok(Got::Absent),
                    _ => {}
                },
                Node::Arith(op, a, b) => match (self.money(*a)?, self.money(*b)?) {
                    (Got::Value(l), Got::Value(r)) => {
                        let out = match op {
                            Arith::Add => l.checked_add(r),
                            Arith::Sub => l.checked_sub(r),
                            Arith::Mul => l.checked_mul(r),
                            Arith::Div => l.checked_div(r),
                        };
                        return out.map(Got::Value).ok_or_else(|| self.overflow(*a));
                    }
                    (Got::Absent, _) | (_, Got::Absent) => return Ok(Got::Absent),
                    _ => {}
                },
                node @ (Node::Max(args) | Node::Min(args)) => {
                    let want = match node {
                        Node::Max(_) => Ordering::Greater,
                        _ => Ordering::Less,
                    };
                    let mut best = None;
                    let mut plain = true;
                    for a in args {
                        match self.money(*a)? {
                            Got::Value(m) => {
                                if best.is_none_or(|b: Dec| cmp_decimal(&m, &b) == want) {
                                    best = Some(m);
                                }
                            }
                            Got::Absent => return Ok(Got::Absent),
                            Got::Other => {
                                plain = false;
                                break;
                            }
                        }
                    }
                    if plain {
                        return Ok(best.map_or(Got::Absent, Got::Value));
                    }
                }
                node => {
                    if let Some(next) = self.branch(node)? {
                        return next.map_or(Ok(Got::Absent), |n| self.money(n));
                    }
                }
            }
        }
        Ok(match self.eval(id)? {
            Value::Money(m) => Got::Value(m),
            Value::Absent => Got::Absent,
            _ => Got::Other,
        })
    }

    /// A settlement window, as [`Evaluator::choice`] reads an enum.
    pub fn window(&mut self, id: NodeId) -> R<Got<(Day, Day)>> {
        if !WATCHED {
            match self.node(id)? {
                // `settlement = none`, or a window fixed in the policy.
                Node::Const(Value::Absent) => return Ok(Got::Absent),
                Node::Const(Value::Range(a, b)) => return Ok(Got::Value((*a, *b))),
                Node::Range(a, b) => match (self.day(*a)?, self.day(*b)?) {
                    (Got::Value(l), Got::Value(r)) => return Ok(Got::Value((l, r))),
                    (Got::Absent, _) | (_, Got::Absent) => return Ok(Got::Absent),
                    _ => {}
                },
                node => {
                    if let Some(next) = self.branch(node)? {
                        return next.map_or(Ok(Got::Absent), |n| self.window(n));
                    }
                }
            }
        }
        Ok(match self.eval(id)? {
            Value::Range(a, b) => Got::Value((a, b)),
            Value::Absent => Got::Absent,
            _ => Got::Other,
        })
    }

    /// The local day of a date or timestamp operand, moved when the
    /// operand is a date shift.
    fn day(&mut self, id: NodeId) -> R<Got<Day>> {
        let node = self.node(id)?;
        match node {
            Node::Field(f) => match self.request.get(*f) {
                Value::Timestamp(t) => return Ok(Got::Value(self.policy.zone.day(*t))),
                Value::Absent => return Ok(Got::Absent),
                _ => {}
            },
            Node::Const(Value::Date(d)) => return Ok(Got::Value(*d)),
            Node::DateShift {
                date,
                count,
                unit,
                back,
                origin,
            } => match self.day(*date)? {
                Got::Value(d) => {
                    return Ok(Got::Value(self.shift(d, *count, *unit, *back, *origin)?));
                }
                Got::Absent => return Ok(Got::Absent),
                Got::Other => {}
            },
            _ => {}
        }
        Ok(match self.value(node)? {
            Value::Timestamp(t) => Got::Value(self.policy.zone.day(t)),
            Value::Date(d) => Got::Value(d),
            Value::Absent => Got::Absent,
            _ => Got::Other,
        })
    }

    /// Where a choice leads: `Some(Some(node))` to go on with, `Some(None)`
    /// when it leads nowhere (a `match` of an absent value), `None` when
    /// the node is no choice or `eval` must say what is wrong with it.
    fn branch(&mut self, node: &'a Node) -> R<Option<Option<NodeId>>> {
        Ok(match node {
            Node::Named { body, .. } => Some(Some(*body)),
            Node::If { cond, then, els } => {
                Some(Some(if self.holds(*cond)? { *then } else { *els }))
            }
            Node::Match { scrutinee, arms } => match self.operand(*scrutinee)?.as_ref() {
                Value::Enum(i) => arms.get(*i as usize).map(|arm| Some(*arm)),
                Value::Absent => Some(None),
                _ => None,
            },
            _ => None,
        })
    }

    /// A template filled in: one allocation for the text as it is
    /// written, one for the value that holds it.
    #[inline(never)]
    fn format(&mut self, parts: &[FormatPart]) -> R {
        // Room for the text and a value's usual length, so that the text
        // is not moved while it grows.
        let room = parts
            .iter()
            .map(|p| match p {
                FormatPart::Text(t) => t.len(),
                FormatPart::Value { .. } => 24,
            })
            .sum();
        let mut text = String::with_capacity(room);
        for part in parts {
            match part {
                FormatPart::Text(t) => text.push_str(t),
                FormatPart::Value { node, enums } => match self.operand(*node)?.as_ref() {
                    // Text goes in as it is; the trace quotes it.
                    Value::Str(s) => text.push_str(s),
                    v => super::trace::write_shown(&mut text, self.policy, v, enums.as_deref()),
                },
            }
        }
        Ok(Value::Str(text.into()))
    }

    fn and(&mut self, a: NodeId, b: NodeId) -> R<Option<bool>> {
        Ok(match self.truth(a, "`and`")? {
            Some(false) => Some(false),
            l => match (l, self.truth(b, "`and`")?) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
        })
    }

    fn or(&mut self, a: NodeId, b: NodeId) -> R<Option<bool>> {
        Ok(match self.truth(a, "`or`")? {
            Some(true) => Some(true),
            l => match (l, self.truth(b, "`or`")?) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
        })
    }

    #[inline(always)]
    fn cmp(&mut self, op: Cmp, a: NodeId, b: NodeId) -> R<Option<bool>> {
        let l = self.operand(a)?;
        let r = self.operand(b)?;
        Ok(self.compare(&l, &r)?.map(|ord| op.holds(ord)))
    }

    fn in_set(&mut self, value: NodeId, set: u128, negated: bool) -> R<Option<bool>> {
        let v = self.operand(value)?;
        self.member(&v, set, negated)
    }

    /// Whether the enum value `v` is in `set` (or not, `negated`).
    fn member(&self, v: &Value, set: u128, negated: bool) -> R<Option<bool>> {
        plain::in_set(v, set, negated)
            .known()
            .ok_or_else(|| self.unexpected("`in` a set of values", v))
    }

    fn in_list(&mut self, value: NodeId, list: &[NodeId], negated: bool) -> R<Option<bool>> {
        let v = self.operand(value)?;
        if *v == Value::Absent {
            return Ok(None);
        }
        for item in list {
            let x = self.operand(*item)?;
            if self.compare(&v, &x)? == Some(Ordering::Equal) {
                return Ok(Some(!negated));
            }
        }
        Ok(Some(negated))
    }

    fn is(&self, field: FieldId, present: bool) -> bool {
        plain::is(self.request, field, present)
    }

    fn within(
        &mut self,
        value: NodeId,
        count: u32,
        unit: Unit,
        anchor: NodeId,
        origin: Option<FieldId>,
    ) -> R<Option<bool>> {
        // An end left by a test no trace took (one in an outcome) must not
        // be shown for this one, which may have none.
        if WATCHED {
            self.window_end = None;
        }
        let v = self.operand(value)?;
        let a = self.operand(anchor)?;
        if *v == Value::Absent || *a == Value::Absent {
            return Ok(None);
        }
        let end = self.shift(self.local_day(&a)?, count, unit, false, origin)?;
        // Civil Code art. 203: a period ending on a rest day ends on the
        // next working day.
        let end = match unit {
            Unit::WorkingDays => end,
            _ => self
                .policy
                .calendar
                .roll_forward_day(end)
                .map_err(|e| self.out_of_range(e, origin))?,
        };
        if WATCHED {
            self.window_end = Some(end);
        }
        Ok(Some(self.local_day(&v)? <= end))
    }

    /// The greatest (`Greater`) or least (`Less`) of `args`; absent if any is.
    fn best(&mut self, args: &[NodeId], want: Ordering) -> R {
        let mut best = Value::Absent;
        for a in args {
            let v = self.eval(*a)?;
            if v == Value::Absent {
                return Ok(Value::Absent);
            }
            if best == Value::Absent || self.compare(&v, &best)? == Some(want) {
                best = v;
            }
        }
        Ok(best)
    }

    /// Whether a node is a single yes-or-no test, worth a line in a trace
    /// (`and`, `or` and `not` only combine tests).
    fn is_test(&self, node: &Node) -> bool {
        match node {
            Node::Cmp(..)
            | Node::InSet { .. }
            | Node::In { .. }
            | Node::Is { .. }
            | Node::Within { .. } => true,
            Node::Field(f) => self.schema.field(*f).ty == crate::schema::FieldType::Bool,
            _ => false,
        }
    }

    fn overflow(&self, at: NodeId) -> Fault {
        Box::new(EvalError::Overflow {
            path: self
                .first_field(at)
                .map(|f| self.schema.field(f).path.clone())
                .unwrap_or_default(),
        })
    }

    /// The first request field an expression reads.
    pub fn first_field(&self, id: NodeId) -> Option<FieldId> {
        let node = self.policy.node(id)?;
        match node {
            Node::Field(f) | Node::Is { field: f, .. } => Some(*f),
            Node::If { cond: x, .. }
            | Node::Match { scrutinee: x, .. }
            | Node::InSet { value: x, .. }
            | Node::In { value: x, .. }
            | Node::Within { value: x, .. } => self.first_field(*x),
            _ => node
                .children()
                .into_iter()
                .find_map(|c| self.first_field(c)),
        }
    }

    fn out_of_range(&self, e: OutOfRange, origin: Option<FieldId>) -> Fault {
        Box::new(EvalError::CalendarOutOfRange {
            date: e.date.to_string(),
            calendar: e.calendar,
            first_year: e.first_year,
            last_year: e.last_year,
            year: e.date.year(),
            path: origin
                .map(|f| self.schema.field(f).path.clone())
                .unwrap_or_default(),
        })
    }

    /// The local date of a timestamp in the policy's time zone; dates as is.
    pub fn local_day(&self, v: &Value) -> R<Day> {
        match v {
            Value::Timestamp(t) => Ok(self.policy.zone.day(*t)),
            Value::Date(d) => Ok(*d),
            v => Err(self.unexpected("a date", v)),
        }
    }

    fn shift(&self, d: Day, count: u32, unit: Unit, back: bool, origin: Option<FieldId>) -> R<Day> {
        let date_err = || {
            Box::new(EvalError::DateRange {
                path: origin
                    .map(|f| self.schema.field(f).path.clone())
                    .unwrap_or_default(),
            })
        };
        let n = i64::from(count);
        let n = if back { -n } else { n };
        let span = match unit {
            Unit::WorkingDays => {
                if back {
                    return Err(date_err());
                }
                return self
                    .policy
                    .calendar
                    .nth_working_day_after_day(d, count)
                    .map_err(|e| self.out_of_range(e, origin));
            }
            // Days and weeks are whole days: added to the day number, an
            // error past jiff's dates as jiff's would be.
            Unit::Days => return d.plus(n).ok_or_else(date_err),
            Unit::Weeks => return d.plus(n * 7).ok_or_else(date_err),
            // jiff's ranges are narrower than a count's: past them the
            // date is out of range, never a panic.
            Unit::Months => jiff::Span::new().try_months(n),
            Unit::Years => jiff::Span::new().try_years(n),
        }
        .map_err(|_| date_err())?;
        // jiff clamps 29 February + 1 year to 28 February, as the rulebook wants.
        d.date()
            .checked_add(span)
            .map(Day::of)
            .map_err(|_| date_err())
    }

    /// How two values order; `None` when one is absent (unknown). Values
    /// of one kind, what nearly every test compares, are ordered inline.
    #[inline(always)]
    pub fn compare(&self, l: &Value, r: &Value) -> R<Option<Ordering>> {
        use Value::*;
        Ok(Some(match (l, r) {
            (Absent, _) | (_, Absent) => return Ok(None),
            (Enum(a), Enum(b)) => a.cmp(b),
            (Money(a), Money(b)) | (Decimal(a), Decimal(b)) => cmp_decimal(a, b),
            (Int(a), Int(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            _ => return self.compare_mixed(l, r),
        }))
    }

    /// [`Evaluator::compare`] of values of different kinds, and of text.
    #[inline(never)]
    fn compare_mixed(&self, l: &Value, r: &Value) -> R<Option<Ordering>> {
        use Value::*;
        Ok(Some(match (l, r) {
            (Int(a), Decimal(b)) => rust_decimal::Decimal::from(*a).cmp(b),
            (Decimal(a), Int(b)) => a.cmp(&rust_decimal::Decimal::from(*b)),
            (Str(a), Str(b)) => a.cmp(b),
            (Timestamp(_) | Date(_), Timestamp(_) | Date(_)) => {
                self.local_day(l)?.cmp(&self.local_day(r)?)
            }
            _ => return Err(internal(format!("a comparison of {l:?} and {r:?}"))),
        }))
    }
}

/// Why arithmetic gave no value.
enum NoSum {
    /// The result does not fit: the request's amounts are to blame.
    Overflow,
    /// Operands of kinds the checker does not allow together: a bug.
    Kinds,
}

fn arith(op: Arith, l: &Value, r: &Value) -> Result<Value, NoSum> {
    use Value::*;
    let dec = |v: &Value| -> Result<Dec, NoSum> {
        match v {
            Int(i) => Ok(Dec::from(*i)),
            Decimal(d) | Money(d) => Ok(*d),
            _ => Err(NoSum::Kinds),
        }
    };
    if *l == Absent || *r == Absent {
        return Ok(Absent);
    }
    if let (Int(a), Int(b)) = (l, r) {
        return match op {
            Arith::Add => a.checked_add(*b).map(Int),
            Arith::Sub => a.checked_sub(*b).map(Int),
            Arith::Mul => a.checked_mul(*b).map(Int),
            Arith::Div => dec(l)?.checked_div(dec(r)?).map(Decimal),
        }
        .ok_or(NoSum::Overflow);
    }
    let (a, b) = (dec(l)?, dec(r)?);
    let out = match op {
        Arith::Add => a.checked_add(b),
        Arith::Sub => a.checked_sub(b),
        Arith::Mul => a.checked_mul(b),
        Arith::Div => a.checked_div(b),
    }
    .ok_or(NoSum::Overflow)?;
    Ok(if matches!(l, Money(_)) || matches!(r, Money(_)) {
        Money(out)
    } else {
        Decimal(out)
    })
}

/// A broken guarantee of the checker or the compiler, found while
/// deciding: an error, never a plausible answer.
pub(super) fn internal(what: String) -> Fault {
    Box::new(EvalError::Internal {
        what,
        path: String::new(),
    })
}

#[cold]
#[inline(never)]
fn missing(id: NodeId) -> Fault {
    internal(format!("node {} is missing from the compiled policy", id.0))
}

/// A truth value as a value: unknown is absent.
fn truth_value(t: Option<bool>) -> Value {
    t.map_or(Value::Absent, Value::Bool)
}
