//! The smallest changes to a denied (or reviewed) request that would get it
//! approved, for `rpl explain`: `requested on or before 2025-10-09`,
//! `item.activated were false`.
//!
//! The candidates come from the request space of the request's policy
//! ([`Space`]): each variable's atoms, one change at a time; only when no
//! single change approves, pairs of changes (bounded work). Dates are moved
//! on the request date alone where that suffices, day by day from the
//! request's; a number's approving atoms next to each other read as one
//! range (`at most 20000.00`).
//!
//! Nothing is guessed: every suggestion is a request that was encoded as a
//! client would send it, decoded again (so it is valid, dates in order)
//! and decided by the evaluator, approving. A range is claimed from the
//! atoms it covers, each decided at its sample value and at its ends.

use std::cell::Cell;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use super::Target;
use super::space::{Range, Space, VarId, VarKind};
use crate::compile::{Compiled, NodeId};
use crate::eval::evaluate;
use crate::request::Request;
use crate::schema::{FieldId, FieldType};
use crate::value::Value;
use crate::vocab::Verdict;

/// A bound on the requests decided while looking, so that no policy makes
/// `rpl explain` slow.
const MAX_EVALUATIONS: usize = 20_000;
/// How many pairs of changes are listed at most.
const MAX_PAIRS: usize = 10;
/// How many changes of several dates are listed at most.
const MAX_DATE_SETS: usize = 3;
/// How far the request date is moved, in days, each way.
const MAX_DAYS_BACK: i64 = 800;
const MAX_DAYS_FORWARD: i64 = 366;

/// One value changed: the field's path and its new value as a request
/// writes it (`null`: left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub field: String,
    pub to: serde_json::Value,
}

/// Changes that together get the request approved, and how they read
/// (`requested on or before 2025-10-09`). Each `to` is a value that was
/// decided: the request with every change made is approved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counterfactual {
    pub changes: Vec<Change>,
    pub text: String,
}

/// The smallest changes that would get `request` approved: every change of
/// one value that does, else pairs of changes. Empty when the request is
/// approved already, cannot be decided, or nothing small approves it.
pub fn counterfactuals(compiled: &Compiled, request: &Request) -> Vec<Counterfactual> {
    match evaluate(compiled, request, false) {
        Ok(d) if d.decision != Verdict::Approve => {}
        _ => return Vec::new(),
    }
    let Some(policy) = compiled.policy_for(request) else {
        return Vec::new();
    };
    let target = Target { compiled, policy };
    let Some(space) = Space::new(&[target]) else {
        return Vec::new();
    };
    let search = Search {
        compiled,
        space: &space,
        budget: Cell::new(MAX_EVALUATIONS),
        moving: moving_date(compiled),
    };
    // The request as a client would send it must decide as the request:
    // else the suggestions, made the same way, could not be trusted.
    if !matches!(
        search.verdict(request),
        Some(Verdict::Deny | Verdict::Review)
    ) {
        return Vec::new();
    }
    let vars = search.vars(policy.nodes.len());
    let mut out = Vec::new();
    for &v in &vars {
        out.extend(search.singles(request, v));
    }
    if out.is_empty() {
        out = search.pairs(request, &vars);
    }
    out
}

struct Search<'a> {
    compiled: &'a Compiled,
    space: &'a Space,
    budget: Cell<usize>,
    /// The timestamp moved alone (`requested_at`): the one no other must
    /// follow.
    moving: Option<FieldId>,
}

/// One change of one variable, for pairs: the values it sets, and how it
/// reads.
struct Option1 {
    values: Vec<(FieldId, Value)>,
    text: String,
}

impl Search<'_> {
    /// The decision on `req` once encoded and decoded again; `None` when it
    /// does not decode, is an error, or the budget is spent.
    fn verdict(&self, req: &Request) -> Option<Verdict> {
        let left = self.budget.get();
        if left == 0 {
            return None;
        }
        self.budget.set(left - 1);
        let text = self.space.json(req).to_string();
        let decoded = self.compiled.schema.decode_json(&text).ok()?;
        evaluate(self.compiled, &decoded, false)
            .ok()
            .map(|d| d.decision)
    }

    fn approves(&self, req: &Request) -> bool {
        self.verdict(req) == Some(Verdict::Approve)
    }

    /// Whether `req` decodes (a date moved past another it must follow
    /// does not).
    fn decodes(&self, req: &Request) -> bool {
        let text = self.space.json(req).to_string();
        self.compiled.schema.decode_json(&text).is_ok()
    }

    /// The variables the policy reads that a buyer could have had
    /// otherwise: not the channel, the request id, the currency (none of
    /// them is a variable) nor an id (`order.order_id`).
    fn vars(&self, nodes: usize) -> Vec<VarId> {
        let mut read: Vec<VarId> = Vec::new();
        for n in 0..nodes {
            let Some(deps) = self.space.deps(0, NodeId(n as u32)) else {
                continue;
            };
            for v in &deps.vars {
                if !read.contains(v) {
                    read.push(*v);
                }
            }
        }
        read.sort_unstable();
        read.retain(|v| match self.space.var(*v).map(|var| var.kind) {
            Some(VarKind::Field(f)) => !is_id(&self.space.schema.field(f).path),
            Some(VarKind::Dates) => true,
            None => false,
        });
        read
    }

    /// A field's value as the request writes it (`null`: left out).
    fn json_of(&self, req: &Request, f: FieldId) -> serde_json::Value {
        let json = self.space.json(req);
        let mut at = &json;
        for part in self.space.schema.field(f).path.split('.') {
            match at.get(part) {
                Some(next) => at = next,
                None => return serde_json::Value::Null,
            }
        }
        at.clone()
    }

    /// The changes from `from` to `to`, field by field.
    fn changes(&self, from: &Request, to: &Request) -> Vec<Change> {
        let mut out = Vec::new();
        for (i, (a, b)) in from.values.iter().zip(&to.values).enumerate() {
            if a != b {
                let f = FieldId(i as u32);
                out.push(Change {
                    field: self.space.schema.field(f).path.clone(),
                    to: self.json_of(to, f),
                });
            }
        }
        out
    }

    fn found(&self, from: &Request, to: &Request, text: String) -> Counterfactual {
        Counterfactual {
            changes: self.changes(from, to),
            text,
        }
    }

    /// Every change of variable `v` alone that approves.
    fn singles(&self, req: &Request, v: VarId) -> Vec<Counterfactual> {
        let Some(var) = self.space.var(v) else {
            return Vec::new();
        };
        match var.kind {
            VarKind::Dates => self.dates(req, true),
            VarKind::Field(f) => match self.space.schema.field(f).ty {
                FieldType::Int { .. } | FieldType::Decimal { .. } | FieldType::Money { .. } => {
                    self.number(req, v, f)
                }
                _ => self
                    .options(req, v)
                    .into_iter()
                    .filter_map(|o| {
                        let changed = with(req, &o.values);
                        self.approves(&changed)
                            .then(|| self.found(req, &changed, o.text))
                    })
                    .collect(),
            },
        }
    }

    /// The atoms of a field that change the request, as pairs use them.
    fn options(&self, req: &Request, v: VarId) -> Vec<Option1> {
        let Some(var) = self.space.var(v) else {
            return Vec::new();
        };
        let VarKind::Field(f) = var.kind else {
            return Vec::new();
        };
        var.atoms
            .iter()
            .filter(|a| a.values.iter().any(|(g, x)| req.get(*g) != x))
            .map(|a| {
                let changed = with(req, &a.values);
                Option1 {
                    values: a.values.clone(),
                    text: self.were(&changed, f),
                }
            })
            .collect()
    }

    /// `item.activated were false`, `reason were damaged_in_transit`.
    fn were(&self, req: &Request, f: FieldId) -> String {
        let path = &self.space.schema.field(f).path;
        let value = match self.json_of(req, f) {
            serde_json::Value::Null => "absent".to_owned(),
            serde_json::Value::String(s) => match self.space.schema.field(f).ty {
                FieldType::String => format!("{s:?}"),
                _ => s,
            },
            other => other.to_string(),
        };
        format!("{path} were {value}")
    }

    /// A number's approving atoms, those next to each other read as one
    /// range: `item.paid_amount were at most 20000.00`. The change shown
    /// (`to`) is the value of the range nearest the request's.
    fn number(&self, req: &Request, v: VarId, f: FieldId) -> Vec<Counterfactual> {
        let Some(var) = self.space.var(v) else {
            return Vec::new();
        };
        let field = self.space.schema.field(f);
        let (step, min, places) = match field.ty {
            FieldType::Int { min, .. } => (Decimal::ONE, min.map(Decimal::from), 0),
            FieldType::Decimal { min, max_scale } | FieldType::Money { min, max_scale, .. } => {
                (Decimal::new(1, max_scale), min, max_scale as usize)
            }
            _ => return Vec::new(),
        };
        let current = number_of(req.get(f));
        let mk = |d: Decimal| match field.ty {
            FieldType::Int { .. } => {
                use rust_decimal::prelude::ToPrimitive;
                d.to_i64().map(Value::Int)
            }
            FieldType::Money { .. } => Some(Value::Money(d)),
            _ => Some(Value::Decimal(d)),
        };
        let mut out = Vec::new();
        // Absent, where the field may be.
        for a in var.atoms.iter().filter(|a| a.range.is_none()) {
            let changed = with(req, &a.values);
            if changed != *req && self.approves(&changed) {
                let text = self.were(&changed, f);
                out.push(self.found(req, &changed, text));
            }
        }
        // Each range atom: whether it approves at its sample and its ends.
        let atoms: Vec<(Range, Vec<(FieldId, Value)>)> = var
            .atoms
            .iter()
            .filter_map(|a| a.range.map(|r| (r, a.values.clone())))
            .collect();
        let ends = |r: &Range| -> (Option<Decimal>, Option<Decimal>) {
            let lo = match r.lo {
                Some((l, true)) => Some(l),
                Some((l, false)) => Some(l + step),
                None => min,
            };
            let hi = match r.hi {
                Some((h, true)) => Some(h),
                Some((h, false)) => Some(h - step),
                None => None,
            };
            (lo, hi)
        };
        let contains = |r: &Range, x: Decimal| {
            let (lo, hi) = ends(r);
            lo.is_none_or(|l| x >= l) && hi.is_none_or(|h| x <= h)
        };
        let approving: Vec<bool> = atoms
            .iter()
            .map(|(r, sample)| {
                if current.is_some_and(|c| contains(r, c)) {
                    return false;
                }
                let (lo, hi) = ends(r);
                let mut tries: Vec<Vec<(FieldId, Value)>> = vec![sample.clone()];
                for end in [lo, hi].into_iter().flatten() {
                    if let Some(x) = mk(end) {
                        let at = vec![(f, x)];
                        if !tries.contains(&at) {
                            tries.push(at);
                        }
                    }
                }
                tries.iter().all(|t| self.approves(&with(req, t)))
            })
            .collect();
        let mut i = 0;
        while i < atoms.len() {
            if !approving.get(i).copied().unwrap_or(false) {
                i += 1;
                continue;
            }
            let mut j = i;
            while approving.get(j + 1).copied().unwrap_or(false) {
                j += 1;
            }
            let (Some((first, _)), Some((last, _))) = (atoms.get(i), atoms.get(j)) else {
                break;
            };
            let run = Range {
                lo: first.lo,
                hi: last.hi,
            };
            // The value nearest the request's: the run's top when it lies
            // below, else its bottom (each decided above).
            let below = current.is_some_and(|c| ends(&run).1.is_some_and(|h| h < c));
            let nearest = if below { ends(&run).1 } else { ends(&run).0 };
            let to = match nearest.and_then(mk) {
                Some(x) => vec![(f, x)],
                None => atoms.get(i).map(|(_, s)| s.clone()).unwrap_or_default(),
            };
            let changed = with(req, &to);
            let show = |d: Decimal| format!("{d:.places$}");
            let text = match range_text(&run, min, show) {
                Some(r) => format!("{} were {r}", field.path),
                None => self.were(&changed, f),
            };
            // Decided above, and once more as it is shown.
            if self.approves(&changed) {
                out.push(self.found(req, &changed, text));
            }
            i = j + 1;
        }
        out
    }

    /// Changes of the dates: the request date alone moved, and (`atoms`,
    /// when that does not approve) a date atom's sample, which may move
    /// several dates. A recorded date is never suggested away: "approved
    /// if not delivered" is true of the rules and of no use to anyone.
    fn dates(&self, req: &Request, atoms: bool) -> Vec<Counterfactual> {
        let mut out = self.moved(req);
        if !out.is_empty() || !atoms {
            return out;
        }
        let Some(var) = self.space.var(self.space.dates) else {
            return out;
        };
        let mut found: Vec<(usize, Request)> = Vec::new();
        for a in &var.atoms {
            // A date the request records stays recorded.
            let drops = a
                .values
                .iter()
                .any(|(f, v)| *v == Value::Absent && *req.get(*f) != Value::Absent);
            let changed = with(req, &a.values);
            if drops || changed == *req || !self.approves(&changed) {
                continue;
            }
            let n = self.changes(req, &changed).len();
            if found.iter().any(|(_, r)| *r == changed) {
                continue;
            }
            found.push((n, changed));
        }
        let fewest = found.iter().map(|(n, _)| *n).min().unwrap_or(0);
        for (_, changed) in found
            .into_iter()
            .filter(|(n, _)| *n == fewest)
            .take(MAX_DATE_SETS)
        {
            let parts: Vec<String> = self
                .changes(req, &changed)
                .iter()
                .map(|c| match self.space.schema.lookup(&c.field) {
                    Some(f) => match self.date_of(changed.get(f)) {
                        Some(d) => format!("{} on {d}", c.field),
                        None => format!("{} absent", c.field),
                    },
                    None => c.field.clone(),
                })
                .collect();
            let text = format!("the dates were: {}", parts.join(", "));
            out.push(self.found(req, &changed, text));
        }
        out
    }

    fn date_of(&self, v: &Value) -> Option<Date> {
        match v {
            Value::Timestamp(t) => Some(self.space.timezone.to_datetime(*t).date()),
            _ => None,
        }
    }

    /// `req` with the request date moved by `days`, at the same time of
    /// day in the policy's time zone.
    fn shifted(&self, req: &Request, f: FieldId, days: i64) -> Option<Request> {
        let Value::Timestamp(t) = req.get(f) else {
            return None;
        };
        let tz = &self.space.timezone;
        let local = tz.to_datetime(*t);
        let moved = local
            .checked_add(jiff::Span::new().try_days(days).ok()?)
            .ok()?;
        let moved = tz.to_timestamp(moved).ok()?;
        Some(with(req, &[(f, Value::Timestamp(moved))]))
    }

    /// The request date alone moved: the latest earlier day that approves
    /// and the earliest later one, each with the days next to it that
    /// approve too (`on or before 2025-10-09`, `between … and …`).
    fn moved(&self, req: &Request) -> Vec<Counterfactual> {
        let Some(f) = self.moving else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (sign, limit) in [(-1i64, MAX_DAYS_BACK), (1, MAX_DAYS_FORWARD)] {
            // The nearest approving day.
            let mut nearest = None;
            let mut n = 1;
            while n <= limit {
                let Some(r) = self.shifted(req, f, sign * n) else {
                    break;
                };
                if self.approves(&r) {
                    nearest = Some((n, r));
                    break;
                }
                if !self.decodes(&r) || self.budget.get() == 0 {
                    break;
                }
                n += 1;
            }
            let Some((near, changed)) = nearest else {
                continue;
            };
            // How far on it goes on approving, and whether it ends where
            // requests do (a date before one it must follow).
            let mut far = near;
            let mut open = false;
            while far < limit {
                let Some(r) = self.shifted(req, f, sign * (far + 1)) else {
                    break;
                };
                if self.approves(&r) {
                    far += 1;
                    continue;
                }
                open = !self.decodes(&r) && self.budget.get() > 0;
                break;
            }
            let day = |k: i64| {
                self.shifted(req, f, sign * k)
                    .and_then(|r| self.date_of(r.get(f)))
            };
            let (Some(near_day), Some(far_day)) = (day(near), day(far)) else {
                continue;
            };
            let name = &self.space.schema.field(f).path;
            let subject = if name == "requested_at" {
                "requested".to_owned()
            } else {
                name.clone()
            };
            let text = if open {
                let side = if sign < 0 { "before" } else { "after" };
                format!("{subject} on or {side} {near_day}")
            } else if near == far {
                format!("{subject} on {near_day}")
            } else {
                let (a, b) = if sign < 0 {
                    (far_day, near_day)
                } else {
                    (near_day, far_day)
                };
                format!("{subject} between {a} and {b}")
            };
            out.push(self.found(req, &changed, text));
        }
        out
    }

    /// Pairs of changes of two variables, when no single change approves.
    /// One variable's atoms are tried in turn (an enum's or a flag's, when
    /// the pair has one), and for each the other is searched as a single
    /// change is: a number's range, the request date moved or an optional
    /// date left out (not a date atom's several dates).
    fn pairs(&self, req: &Request, vars: &[VarId]) -> Vec<Counterfactual> {
        let mut out: Vec<Counterfactual> = Vec::new();
        let discrete = |v: VarId| match self.space.var(v).map(|var| var.kind) {
            Some(VarKind::Field(f)) => !matches!(
                self.space.schema.field(f).ty,
                FieldType::Int { .. } | FieldType::Decimal { .. } | FieldType::Money { .. }
            ),
            _ => false,
        };
        for (i, &a) in vars.iter().enumerate() {
            for &b in vars.iter().skip(i + 1) {
                let (outer, inner) = if discrete(b) && !discrete(a) {
                    (b, a)
                } else {
                    (a, b)
                };
                if outer == self.space.dates {
                    // Both dates: not a pair of variables.
                    continue;
                }
                for o in self.options(req, outer) {
                    if self.budget.get() == 0 {
                        return out;
                    }
                    let changed = with(req, &o.values);
                    let found = if inner == self.space.dates {
                        self.dates(&changed, false)
                    } else {
                        self.singles(&changed, inner)
                    };
                    for d in found {
                        let Some(both) = self.apply(&changed, &d) else {
                            continue;
                        };
                        if !self.approves(&both) {
                            continue;
                        }
                        out.push(self.found(req, &both, format!("{} and {}", o.text, d.text)));
                        if out.len() >= MAX_PAIRS {
                            return out;
                        }
                    }
                }
            }
        }
        out
    }

    /// `req` with a found change made again (its fields set from `to`).
    fn apply(&self, req: &Request, c: &Counterfactual) -> Option<Request> {
        let mut json = self.space.json(req);
        for change in &c.changes {
            set_path(&mut json, &change.field, change.to.clone());
        }
        let decoded = self.compiled.schema.decode_json(&json.to_string()).ok()?;
        // The request id and what decoding fills in are the request's.
        Some(Request {
            values: decoded.values,
            request_id: req.request_id.clone(),
        })
    }
}

/// `req` with `values` set.
fn with(req: &Request, values: &[(FieldId, Value)]) -> Request {
    let mut out = req.clone();
    for (f, v) in values {
        if let Some(slot) = out.values.get_mut(f.0 as usize) {
            *slot = v.clone();
        }
    }
    out
}

fn set_path(json: &mut serde_json::Value, path: &str, v: serde_json::Value) {
    let mut at = json;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let serde_json::Value::Object(map) = at else {
            return;
        };
        if parts.peek().is_none() {
            if v.is_null() {
                map.remove(part);
            } else {
                map.insert(part.to_owned(), v);
            }
            return;
        }
        at = map
            .entry(part.to_owned())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    }
}

fn number_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(n) => Some(Decimal::from(*n)),
        Value::Decimal(d) | Value::Money(d) => Some(*d),
        _ => None,
    }
}

/// An id a buyer does not choose (`order.order_id`): never a change to
/// suggest.
fn is_id(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    last == "id" || last.ends_with("_id")
}

/// The timestamp no other must follow (`requested_at`), when it is one.
fn moving_date(compiled: &Compiled) -> Option<FieldId> {
    let schema = &compiled.schema;
    let latest: Vec<FieldId> = (0..schema.fields.len())
        .map(|i| FieldId(i as u32))
        .filter(|f| schema.field(*f).ty == FieldType::Timestamp && schema.field(*f).required)
        .filter(|f| !schema.constraints.iter().any(|c| c.earlier == *f))
        .collect();
    match latest.as_slice() {
        [one] => Some(*one),
        _ => schema.lookup("requested_at"),
    }
}

/// A range of a number as it reads: `at most 20000.00`, `more than 0.00
/// and less than 100.00`; `None` for one value, or the whole domain.
fn range_text(r: &Range, min: Option<Decimal>, show: impl Fn(Decimal) -> String) -> Option<String> {
    // A lower end at the field's minimum, included, is no bound.
    let lo = r.lo.filter(|(l, incl)| !(*incl && Some(*l) == min));
    let lower = lo.map(|(l, incl)| {
        if incl {
            format!("at least {}", show(l))
        } else {
            format!("more than {}", show(l))
        }
    });
    let upper = r.hi.map(|(h, incl)| {
        if incl {
            format!("at most {}", show(h))
        } else {
            format!("less than {}", show(h))
        }
    });
    match (lower, upper) {
        _ if r.lo.is_some() && r.lo == r.hi => None,
        (Some(l), Some(u)) => Some(format!("{l} and {u}")),
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
defaults d {
    refund = item.paid_amount
    route = alipay
    settlement = requested_at .. requested_at + 3 working days
}

policy official_mall {
    channel = official_mall
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"
    use d

    rule activated {
        when item.activated
        deny
    }
    rule late {
        when not (requested_at within 7 days after order.delivered_at)
        deny
    }
    rule big {
        when item.paid_amount > 1000.00 CNY
        review
    }
    rule fine { approve }
}
"#;

    fn compiled() -> Compiled {
        crate::compile::compile(&crate::check::checked_in_memory(POLICY)).unwrap()
    }

    /// The example request with `edit` made to its JSON.
    fn request(c: &Compiled, edit: impl FnOnce(&mut serde_json::Value)) -> Request {
        let text = include_str!("../../tests/fixtures/requests/example.json");
        let mut json: serde_json::Value = serde_json::from_str(text).unwrap();
        json["item"]["paid_amount"] = "500.00".into();
        edit(&mut json);
        c.schema.decode_json(&json.to_string()).unwrap()
    }

    fn texts(found: &[Counterfactual]) -> Vec<&str> {
        found.iter().map(|c| c.text.as_str()).collect()
    }

    /// Every suggestion, made on the request's JSON, is approved.
    fn all_approve(c: &Compiled, req: &Request, found: &[Counterfactual]) {
        let target = Target {
            compiled: c,
            policy: c.policy_for(req).unwrap(),
        };
        let space = Space::new(&[target]).unwrap();
        for cf in found {
            let mut json = space.json(req);
            for ch in &cf.changes {
                set_path(&mut json, &ch.field, ch.to.clone());
            }
            let changed = c.schema.decode_json(&json.to_string()).unwrap();
            let d = evaluate(c, &changed, false).unwrap();
            assert_eq!(d.decision, Verdict::Approve, "{}", cf.text);
        }
    }

    #[test]
    fn an_approved_request_has_none() {
        let c = compiled();
        let req = request(&c, |_| {});
        assert!(counterfactuals(&c, &req).is_empty());
    }

    #[test]
    fn a_flag_is_turned() {
        let c = compiled();
        let req = request(&c, |j| j["item"]["activated"] = true.into());
        let found = counterfactuals(&c, &req);
        assert_eq!(texts(&found), ["item.activated were false"]);
        assert_eq!(
            found[0].changes,
            [Change {
                field: "item.activated".into(),
                to: false.into()
            }]
        );
        all_approve(&c, &req, &found);
    }

    /// Delivered 2024-12-30: the window runs to 2025-01-06, a Monday.
    #[test]
    fn a_late_request_is_moved_back_to_the_window() {
        let c = compiled();
        let req = request(&c, |j| {
            j["requested_at"] = "2025-01-20T10:20:00+08:00".into()
        });
        let found = counterfactuals(&c, &req);
        assert_eq!(texts(&found), ["requested on or before 2025-01-06"]);
        assert_eq!(found[0].changes[0].to, "2025-01-06T10:20:00+08:00");
        all_approve(&c, &req, &found);
    }

    #[test]
    fn an_amount_reads_as_a_range() {
        let c = compiled();
        let req = request(&c, |j| j["item"]["paid_amount"] = "4999.00".into());
        let found = counterfactuals(&c, &req);
        assert_eq!(texts(&found), ["item.paid_amount were at most 1000.00"]);
        assert_eq!(found[0].changes[0].to, "1000.00");
        all_approve(&c, &req, &found);
    }

    #[test]
    fn pairs_only_when_no_single_change_approves() {
        let c = compiled();
        let req = request(&c, |j| {
            j["item"]["activated"] = true.into();
            j["item"]["paid_amount"] = "4999.00".into();
        });
        let found = counterfactuals(&c, &req);
        assert!(!found.is_empty());
        assert!(found.iter().all(|f| f.changes.len() == 2), "{found:?}");
        assert!(
            texts(&found)
                == ["item.activated were false and item.paid_amount were at most 1000.00"],
            "{found:?}"
        );
        all_approve(&c, &req, &found);
    }

    #[test]
    fn ranges_read_plainly() {
        let show = |d: Decimal| format!("{d:.2}");
        let d = |n: i64| Decimal::new(n, 0);
        let r = |lo, hi| Range { lo, hi };
        assert_eq!(
            range_text(&r(None, Some((d(5), true))), None, show).as_deref(),
            Some("at most 5.00")
        );
        assert_eq!(
            range_text(
                &r(Some((d(0), true)), Some((d(5), false))),
                Some(d(0)),
                show
            )
            .as_deref(),
            Some("less than 5.00")
        );
        assert_eq!(
            range_text(&r(Some((d(1), false)), None), None, show).as_deref(),
            Some("more than 1.00")
        );
        assert_eq!(
            range_text(&r(Some((d(1), false)), Some((d(3), true))), None, show).as_deref(),
            Some("more than 1.00 and at most 3.00")
        );
        assert_eq!(
            range_text(&r(Some((d(3), true)), Some((d(3), true))), None, show),
            None
        );
        assert_eq!(range_text(&r(None, None), None, show), None);
    }

    #[test]
    fn ids_are_never_changed() {
        assert!(is_id("order.order_id"));
        assert!(is_id("request_id"));
        assert!(!is_id("item.sku"));
    }
}
