//! Evaluating one policy's expression arena against one request.
//!
//! Conditions use three-valued logic: a test that reads an absent value is
//! unknown (`Value::Absent`), `not unknown` is unknown, `false and unknown`
//! is false, `true or unknown` is true; a rule applies only when its
//! condition is true.

use std::cmp::Ordering;

use rust_decimal::Decimal as Dec;

use super::coverage::PolicyHits;
use super::error::EvalError;
use crate::calendar::OutOfRange;
use crate::check::hir::Builtin;
use crate::compile::{Arith, Cmp, CompiledPolicy, FormatPart, Node, NodeId};
use crate::day::Day;
use crate::request::Request;
use crate::schema::{FieldId, Schema};
use crate::value::Value;
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

pub struct Evaluator<'a> {
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
}

type R = Result<Value, EvalError>;

impl<'a> Evaluator<'a> {
    fn node(&self, id: NodeId) -> Result<&'a Node, EvalError> {
        let policy: &'a CompiledPolicy = self.policy;
        policy
            .node(id)
            .ok_or_else(|| internal(format!("node {} is missing from the compiled policy", id.0)))
    }

    /// A value of a kind the checker ruled out where `what` needed another.
    fn unexpected(&self, what: &str, v: &Value) -> EvalError {
        internal(format!("{what} met {v:?}"))
    }

    /// Whether a rule condition holds: only `true` counts.
    pub fn holds(&mut self, id: NodeId) -> Result<bool, EvalError> {
        Ok(self.truth(id, "a condition")? == Some(true))
    }

    pub fn eval(&mut self, id: NodeId) -> R {
        let node = self.node(id)?;
        let mut window_end = None;
        // A test inside another (a field inside a comparison) is shown as
        // that test's value, not as a test of its own.
        let traced = self.tested.is_some() && self.is_test(node);
        if traced {
            self.test_depth += 1;
        }
        let v = match node {
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
                let v = match self.eval(*x)? {
                    Value::Bool(b) => Value::Bool(!b),
                    Value::Absent => Value::Absent,
                    v => return Err(self.unexpected("`not`", &v)),
                };
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
            Node::Neg(x) => match self.eval(*x)? {
                Value::Int(i) => i
                    .checked_neg()
                    .map(Value::Int)
                    .ok_or_else(|| self.overflow(*x))?,
                Value::Decimal(d) => Value::Decimal(-d),
                Value::Money(d) => Value::Money(-d),
                Value::Absent => Value::Absent,
                v => return Err(self.unexpected("`-`", &v)),
            },
            Node::And(a, b) => {
                let (a, b) = (*a, *b);
                match self.truth(a, "`and`")? {
                    Some(false) => Value::Bool(false),
                    l => match (l, self.truth(b, "`and`")?) {
                        (_, Some(false)) => Value::Bool(false),
                        (Some(true), Some(true)) => Value::Bool(true),
                        _ => Value::Absent,
                    },
                }
            }
            Node::Or(a, b) => {
                let (a, b) = (*a, *b);
                match self.truth(a, "`or`")? {
                    Some(true) => Value::Bool(true),
                    l => match (l, self.truth(b, "`or`")?) {
                        (_, Some(true)) => Value::Bool(true),
                        (Some(false), Some(false)) => Value::Bool(false),
                        _ => Value::Absent,
                    },
                }
            }
            Node::Cmp(op, a, b) => {
                let (op, a, b) = (*op, *a, *b);
                let l = self.eval(a)?;
                let r = self.eval(b)?;
                match self.compare(&l, &r)? {
                    None => Value::Absent,
                    Some(ord) => Value::Bool(match op {
                        Cmp::Eq => ord == Ordering::Equal,
                        Cmp::Ne => ord != Ordering::Equal,
                        Cmp::Lt => ord == Ordering::Less,
                        Cmp::Le => ord != Ordering::Greater,
                        Cmp::Gt => ord == Ordering::Greater,
                        Cmp::Ge => ord != Ordering::Less,
                    }),
                }
            }
            Node::Arith(op, a, b) => {
                let (op, a, b) = (*op, *a, *b);
                let l = self.eval(a)?;
                let r = self.eval(b)?;
                match arith(op, &l, &r) {
                    Ok(v) => v,
                    Err(Fault::Overflow) => return Err(self.overflow(a)),
                    Err(Fault::Kinds) => {
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
            } => {
                let (count, unit, back, origin) = (*count, *unit, *back, *origin);
                match self.eval(*date)? {
                    Value::Absent => Value::Absent,
                    v => {
                        let d = self.local_day(&v)?;
                        Value::Date(self.shift(d, count, unit, back, origin)?)
                    }
                }
            }
            Node::InSet {
                value,
                set,
                negated,
            } => {
                let (set, negated) = (*set, *negated);
                match self.eval(*value)? {
                    Value::Enum(i) if i < 128 => Value::Bool((set & (1u128 << i) != 0) != negated),
                    Value::Absent => Value::Absent,
                    v => return Err(self.unexpected("`in` a set of values", &v)),
                }
            }
            Node::In {
                value,
                list,
                negated,
            } => {
                let negated = *negated;
                let v = self.eval(*value)?;
                if v == Value::Absent {
                    Value::Absent
                } else {
                    let mut found = false;
                    for item in list {
                        let x = self.eval(*item)?;
                        if self.compare(&v, &x)? == Some(Ordering::Equal) {
                            found = true;
                            break;
                        }
                    }
                    Value::Bool(found != negated)
                }
            }
            Node::Is { field, present } => {
                Value::Bool((*self.request.get(*field) != Value::Absent) == *present)
            }
            Node::Within {
                value,
                count,
                unit,
                anchor,
                origin,
            } => {
                let (value, count, unit, anchor, origin) =
                    (*value, *count, *unit, *anchor, *origin);
                let v = self.eval(value)?;
                let a = self.eval(anchor)?;
                if v == Value::Absent || a == Value::Absent {
                    Value::Absent
                } else {
                    let end = self.shift(self.local_day(&a)?, count, unit, false, origin)?;
                    // Civil Code art. 203: a period ending on a rest day ends
                    // on the next working day.
                    let end = match unit {
                        Unit::WorkingDays => end,
                        _ => self
                            .policy
                            .calendar
                            .roll_forward_day(end)
                            .map_err(|e| self.out_of_range(e, origin))?,
                    };
                    window_end = Some(end);
                    Value::Bool(self.local_day(&v)? <= end)
                }
            }
            Node::If { cond, then, els } => {
                let (then, els) = (*then, *els);
                if self.holds(*cond)? {
                    self.eval(then)?
                } else {
                    self.eval(els)?
                }
            }
            Node::Match { scrutinee, arms } => match self.eval(*scrutinee)? {
                Value::Enum(i) => match arms.get(i as usize) {
                    Some(arm) => self.eval(*arm)?,
                    None => return Err(internal(format!("`match` has no arm for value {i}"))),
                },
                Value::Absent => Value::Absent,
                v => return Err(self.unexpected("`match`", &v)),
            },
            Node::Max(args) | Node::Min(args) => {
                let want = if matches!(node, Node::Max(_)) {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
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
                best
            }
            Node::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(*i)?);
                }
                Value::List(out.into())
            }
            Node::Range(a, b) => {
                let b = *b;
                let l = self.eval(*a)?;
                let r = self.eval(b)?;
                match (l, r) {
                    (Value::Absent, _) | (_, Value::Absent) => Value::Absent,
                    (l, r) => Value::Range(self.local_day(&l)?, self.local_day(&r)?),
                }
            }
            Node::Named { body, .. } => self.eval(*body)?,
            Node::Format(parts) => {
                let mut text = String::new();
                for part in parts {
                    match part {
                        FormatPart::Text(t) => text.push_str(t),
                        FormatPart::Value { node, enums } => match self.eval(*node)? {
                            // Text goes in as it is; the trace quotes it.
                            Value::Str(s) => text.push_str(&s),
                            v => text.push_str(&super::trace::show(self, &v, enums.as_deref())),
                        },
                    }
                }
                Value::Str(text.into())
            }
        };
        if let Some(hits) = self.hits.as_deref_mut() {
            hits.record(id, &v);
        }
        if traced {
            self.test_depth -= 1;
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

    fn overflow(&self, at: NodeId) -> EvalError {
        EvalError::Overflow {
            path: self
                .first_field(at)
                .map(|f| self.schema.field(f).path.clone())
                .unwrap_or_default(),
        }
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

    fn out_of_range(&self, e: OutOfRange, origin: Option<FieldId>) -> EvalError {
        EvalError::CalendarOutOfRange {
            date: e.date.to_string(),
            calendar: e.calendar,
            first_year: e.first_year,
            last_year: e.last_year,
            year: e.date.year(),
            path: origin
                .map(|f| self.schema.field(f).path.clone())
                .unwrap_or_default(),
        }
    }

    /// The local date of a timestamp in the policy's time zone; dates as is.
    pub fn local_day(&self, v: &Value) -> Result<Day, EvalError> {
        match v {
            Value::Timestamp(t) => Ok(self.policy.zone.day(*t)),
            Value::Date(d) => Ok(*d),
            v => Err(self.unexpected("a date", v)),
        }
    }

    /// A condition's value: known, or unknown (absent).
    fn truth(&mut self, id: NodeId, what: &str) -> Result<Option<bool>, EvalError> {
        match self.eval(id)? {
            Value::Bool(b) => Ok(Some(b)),
            Value::Absent => Ok(None),
            v => Err(self.unexpected(what, &v)),
        }
    }

    fn shift(
        &self,
        d: Day,
        count: u32,
        unit: Unit,
        back: bool,
        origin: Option<FieldId>,
    ) -> Result<Day, EvalError> {
        let date_err = || EvalError::DateRange {
            path: origin
                .map(|f| self.schema.field(f).path.clone())
                .unwrap_or_default(),
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

    /// Orders two values of the same type; `None` when either is absent.
    /// How two values order; `None` when one is absent (unknown).
    pub fn compare(&self, l: &Value, r: &Value) -> Result<Option<Ordering>, EvalError> {
        use Value::*;
        Ok(Some(match (l, r) {
            (Absent, _) | (_, Absent) => return Ok(None),
            (Int(a), Int(b)) => a.cmp(b),
            (Int(a), Decimal(b)) => rust_decimal::Decimal::from(*a).cmp(b),
            (Decimal(a), Int(b)) => a.cmp(&rust_decimal::Decimal::from(*b)),
            (Decimal(a), Decimal(b)) | (Money(a), Money(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Str(a), Str(b)) => a.cmp(b),
            (Enum(a), Enum(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (Timestamp(_) | Date(_), Timestamp(_) | Date(_)) => {
                self.local_day(l)?.cmp(&self.local_day(r)?)
            }
            _ => return Err(internal(format!("a comparison of {l:?} and {r:?}"))),
        }))
    }
}

/// Why arithmetic gave no value.
enum Fault {
    /// The result does not fit: the request's amounts are to blame.
    Overflow,
    /// Operands of kinds the checker does not allow together: a bug.
    Kinds,
}

fn arith(op: Arith, l: &Value, r: &Value) -> Result<Value, Fault> {
    use Value::*;
    let dec = |v: &Value| -> Result<Dec, Fault> {
        match v {
            Int(i) => Ok(Dec::from(*i)),
            Decimal(d) | Money(d) => Ok(*d),
            _ => Err(Fault::Kinds),
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
        .ok_or(Fault::Overflow);
    }
    let (a, b) = (dec(l)?, dec(r)?);
    let out = match op {
        Arith::Add => a.checked_add(b),
        Arith::Sub => a.checked_sub(b),
        Arith::Mul => a.checked_mul(b),
        Arith::Div => a.checked_div(b),
    }
    .ok_or(Fault::Overflow)?;
    Ok(if matches!(l, Money(_)) || matches!(r, Money(_)) {
        Money(out)
    } else {
        Decimal(out)
    })
}

/// A broken guarantee of the checker or the compiler, found while
/// deciding: an error, never a plausible answer.
pub(super) fn internal(what: String) -> EvalError {
    EvalError::Internal {
        what,
        path: String::new(),
    }
}
