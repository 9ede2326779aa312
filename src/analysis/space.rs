//! The request space of one or more policies of one channel, cut into
//! finitely many atoms per variable so that every test a policy makes has
//! one truth value on each atom.
//!
//! A variable is a request field (an enum, a flag, a number, a string) or
//! all timestamps at once (`Dates`), since windows relate two dates. An
//! enum's atoms are its values, a flag's are `true` and `false`, a
//! number's are the intervals between the amounts the policies compare it
//! with (and those amounts), a string's the texts compared with and one
//! other. The date atoms are found by enumeration: every base date the
//! calendars cover, with the other dates at the offsets where some window
//! or shift ends (before and after rolling to a working day, and a day
//! past), each tuple's truth values of every date test kept once.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::compile::{Arith, CompiledPolicy, Node, NodeId};
use crate::eval::node_value;
use crate::request::Request;
use crate::schema::{FieldId, FieldType, Schema};
use crate::value::{Text, Value};
use crate::vocab::Unit;

use super::Target;

pub type VarId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    Field(FieldId),
    Dates,
}

#[derive(Debug, Clone)]
pub struct Atom {
    /// The values a sample request takes on this atom.
    pub values: Vec<(FieldId, Value)>,
    /// How a region shows it: `= performance_fault`, `in (0.00, 100.00)`.
    pub shown: String,
    /// A number's atom: the values it holds (`None` for other atoms).
    pub range: Option<Range>,
}

/// The values of a number's atom: from `lo` to `hi`, each end a value and
/// whether it is included; `None` where the atom reaches the end of the
/// field's domain (its minimum, or no bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub lo: Option<(Decimal, bool)>,
    pub hi: Option<(Decimal, bool)>,
}

impl Range {
    /// `= 20000.00`, `in (15000.00, 20000.00]`, `> 20000.00`, `<= 100`.
    pub fn text(&self, places: usize) -> String {
        let show = |d: Decimal| format!("{d:.places$}");
        match (self.lo, self.hi) {
            (Some(l), Some(h)) if l == h => format!("= {}", show(l.0)),
            (Some((l, li)), Some((h, hi))) => format!(
                "in {}{}, {}{}",
                if li { '[' } else { '(' },
                show(l),
                show(h),
                if hi { ']' } else { ')' }
            ),
            (Some((l, true)), None) => format!(">= {}", show(l)),
            (Some((l, false)), None) => format!("> {}", show(l)),
            (None, Some((h, true))) => format!("<= {}", show(h)),
            (None, Some((h, false))) => format!("< {}", show(h)),
            (None, None) => "any".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Var {
    pub kind: VarKind,
    pub atoms: Vec<Atom>,
    /// The atom a witness takes where the region leaves the variable
    /// free: the field's default or a plain value, not an edge case.
    pub typical: usize,
}

/// What a node reads: variables, and whether it reads `refund` (known only
/// once a rule decided) or another of the decision so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deps {
    pub vars: Vec<VarId>,
    pub refund: bool,
    pub decided: bool,
    /// It reads a field the space gives no atoms (the request id): its
    /// truth is known at the sample request only.
    pub unmodelled: bool,
}

impl Deps {
    fn join(&mut self, other: &Deps) {
        for v in &other.vars {
            if let Err(i) = self.vars.binary_search(v) {
                self.vars.insert(i, *v);
            }
        }
        self.refund |= other.refund;
        self.decided |= other.decided;
        self.unmodelled |= other.unmodelled;
    }
}

/// Per target: what each node reads, and whether a test on one variable is
/// decided exactly by the atoms.
struct TargetInfo {
    deps: Vec<Deps>,
    exact: Vec<bool>,
}

pub struct Space {
    pub schema: Arc<Schema>,
    pub vars: Vec<Var>,
    var_of: Vec<Option<VarId>>,
    pub dates: VarId,
    /// The sample request every region starts from.
    pub base: Request,
    infos: Vec<TargetInfo>,
    /// Why the date atoms may not separate every date test exactly.
    pub dates_inexact: Option<String>,
    /// Time zone for showing timestamps in witnesses.
    pub timezone: jiff::tz::TimeZone,
}

impl Space {
    /// The space of the targets' requests (`None` without a target).
    pub fn new(targets: &[Target<'_>]) -> Option<Space> {
        let first = targets.first()?;
        let schema = Arc::clone(&first.compiled.schema);
        let mut b = Builder {
            schema: &schema,
            vars: Vec::new(),
            var_of: vec![None; schema.fields.len()],
            splits: HashMap::new(),
            strings: HashMap::new(),
        };
        let dates = b.vars.len();
        b.vars.push(Var {
            kind: VarKind::Dates,
            atoms: Vec::new(),
            typical: 0,
        });
        for (i, f) in schema.fields.iter().enumerate() {
            let id = FieldId(u32::try_from(i).unwrap_or(u32::MAX));
            let var = match f.ty {
                FieldType::Timestamp => Some(dates),
                FieldType::Currency => None,
                _ if id == schema.channel || id == schema.request_id => None,
                _ => {
                    b.vars.push(Var {
                        kind: VarKind::Field(id),
                        atoms: Vec::new(),
                        typical: 0,
                    });
                    Some(b.vars.len() - 1)
                }
            };
            if let Some(slot) = b.var_of.get_mut(i) {
                *slot = var;
            }
        }
        // The amounts and texts tests compare fields with, then what each
        // node reads.
        for t in targets {
            for root in roots(t.policy) {
                walk(t.policy, root, &mut |id, node| {
                    b.note_splits(t.policy, id, node)
                });
            }
        }
        // The request id is a variable only where a policy compares it
        // with a text: its atoms are those texts and the witnesses' id.
        let id = schema.request_id;
        if b.strings.contains_key(&id) && schema.field(id).ty == FieldType::String {
            b.vars.push(Var {
                kind: VarKind::Field(id),
                atoms: Vec::new(),
                typical: 0,
            });
            if let Some(slot) = b.var_of.get_mut(id.0 as usize) {
                *slot = Some(b.vars.len() - 1);
            }
        }
        let mut infos = Vec::with_capacity(targets.len());
        for t in targets {
            let deps = b.deps_of(t.policy);
            infos.push(TargetInfo {
                exact: vec![false; deps.len()],
                deps,
            });
        }
        b.field_atoms();
        let Builder {
            mut vars, var_of, ..
        } = b;
        let timezone = first.policy.timezone.clone();
        let mut base = base_request(&schema, &vars, targets);
        let (atoms, dates_inexact) = dates::atoms(&schema, targets, &infos, dates, &base);
        if let Some(v) = vars.get_mut(dates) {
            v.atoms = atoms;
        }
        if let Some(a) = vars.get(dates).and_then(|v| v.atoms.first()) {
            for (f, value) in &a.values {
                if let Some(slot) = base.values.get_mut(f.0 as usize) {
                    *slot = value.clone();
                }
            }
        }
        let mut space = Space {
            schema,
            vars,
            var_of,
            dates,
            base,
            infos,
            dates_inexact,
            timezone,
        };
        for (i, t) in targets.iter().enumerate() {
            let exact: Vec<bool> = (0..t.policy.nodes.len())
                .map(|n| space.decides_exactly(i, t.policy, NodeId(n as u32)))
                .collect();
            if let Some(info) = space.infos.get_mut(i) {
                info.exact = exact;
            }
        }
        Some(space)
    }

    pub fn deps(&self, target: usize, node: NodeId) -> Option<&Deps> {
        self.infos.get(target)?.deps.get(node.0 as usize)
    }

    /// Whether a test's truth value is one on each atom of what it reads.
    pub fn exact(&self, target: usize, node: NodeId) -> bool {
        self.infos
            .get(target)
            .and_then(|i| i.exact.get(node.0 as usize))
            .copied()
            .unwrap_or(false)
    }

    pub fn var(&self, v: VarId) -> Option<&Var> {
        self.vars.get(v)
    }

    pub fn var_of(&self, f: FieldId) -> Option<VarId> {
        self.var_of.get(f.0 as usize).copied().flatten()
    }

    /// Puts atom `atom` of `var` into a sample request.
    pub fn set(&self, req: &mut Request, var: VarId, atom: usize) {
        let Some(a) = self.vars.get(var).and_then(|v| v.atoms.get(atom)) else {
            return;
        };
        for (f, value) in &a.values {
            if let Some(slot) = req.values.get_mut(f.0 as usize) {
                *slot = value.clone();
            }
        }
    }

    /// The tests of target `t` that read dates alone, as its policy
    /// writes them.
    pub fn date_tests(&self, t: usize, target: &Target<'_>) -> Vec<(String, NodeId)> {
        let Some(info) = self.infos.get(t) else {
            return Vec::new();
        };
        dates::tests(
            std::slice::from_ref(target),
            std::slice::from_ref(info),
            self.dates,
        )
        .into_iter()
        .map(|(_, n)| {
            let text = target.compiled.sources.slice(target.policy.span(n));
            (text.split_whitespace().collect::<Vec<_>>().join(" "), n)
        })
        .collect()
    }

    /// The name a region shows for a variable.
    pub fn var_name(&self, v: VarId) -> String {
        match self.vars.get(v).map(|v| v.kind) {
            Some(VarKind::Field(f)) => self.schema.field(f).path.clone(),
            _ => "dates".to_owned(),
        }
    }

    fn decides_exactly(&self, target: usize, policy: &CompiledPolicy, id: NodeId) -> bool {
        let Some(deps) = self.deps(target, id) else {
            return false;
        };
        let numeric = |v: &VarId| match self.vars.get(*v).map(|v| v.kind) {
            Some(VarKind::Field(f)) => matches!(
                self.schema.field(f).ty,
                FieldType::Int { .. } | FieldType::Decimal { .. } | FieldType::Money { .. }
            ),
            _ => false,
        };
        let strings = |v: &VarId| match self.vars.get(*v).map(|v| v.kind) {
            Some(VarKind::Field(f)) => self.schema.field(f).ty == FieldType::String,
            _ => false,
        };
        if deps.refund || deps.unmodelled {
            return false;
        }
        if deps.vars.contains(&self.dates) && self.dates_inexact.is_some() {
            return false;
        }
        match deps.vars.as_slice() {
            [v] if numeric(v) || strings(v) => compares_with_constants(policy, id, strings(v)),
            vars if vars.iter().any(|v| numeric(v) || strings(v)) => false,
            vars if vars.len() > 1 && vars.contains(&self.dates) => {
                let reads = |n: NodeId| self.deps(target, n).map(|d| d.vars.as_slice());
                date_parts_are_tests(policy, id, self.dates, &reads)
            }
            _ => true,
        }
    }

    /// A witness request as JSON, valid per the schema: optional fields
    /// left out when absent, amounts as strings, timestamps in the
    /// policy's time zone.
    pub fn json(&self, req: &Request) -> serde_json::Value {
        let mut root = serde_json::Map::new();
        for (i, f) in self.schema.fields.iter().enumerate() {
            let Some(value) = req.values.get(i) else {
                continue;
            };
            let json = match value {
                Value::Absent => continue,
                Value::Bool(b) => serde_json::Value::Bool(*b),
                Value::Int(n) => serde_json::Value::from(*n),
                Value::Decimal(d) | Value::Money(d) => {
                    let places = match f.ty {
                        FieldType::Decimal { max_scale, .. }
                        | FieldType::Money { max_scale, .. } => max_scale as usize,
                        _ => 2,
                    };
                    serde_json::Value::String(format!("{d:.places$}"))
                }
                Value::Str(s) => serde_json::Value::String(s.to_string()),
                Value::Enum(e) => match &f.ty {
                    FieldType::Enum(t) => serde_json::Value::String(t.variant(*e).to_owned()),
                    _ => continue,
                },
                Value::Timestamp(t) => serde_json::Value::String(
                    t.display_with_offset(self.timezone.to_offset(*t))
                        .to_string(),
                ),
                Value::Date(d) => serde_json::Value::String(d.to_string()),
                Value::Range(..) | Value::List(_) => continue,
            };
            insert_path(&mut root, &f.path, json);
        }
        serde_json::Value::Object(root)
    }
}

fn insert_path(
    root: &mut serde_json::Map<String, serde_json::Value>,
    path: &str,
    v: serde_json::Value,
) {
    let mut map = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            map.insert(part.to_owned(), v);
            return;
        }
        let entry = map
            .entry(part.to_owned())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        let serde_json::Value::Object(next) = entry else {
            return;
        };
        map = next;
    }
}

/// The nodes analysis starts from: every condition, and the tests inside
/// outcomes (an `if`'s condition, a `match`'s value).
pub fn roots(p: &CompiledPolicy) -> impl Iterator<Item = NodeId> + '_ {
    p.rejects
        .iter()
        .chain(&p.rules)
        .chain(&p.afters)
        .flat_map(|r| r.when.into_iter().chain(r.outcome.iter().map(|(_, n)| *n)))
}

/// Visits every node under `root` once per path (trees are shallow: the
/// checker bounds their depth).
pub fn walk(p: &CompiledPolicy, root: NodeId, f: &mut dyn FnMut(NodeId, &Node)) {
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if let Some(node) = p.node(id) {
            f(id, node);
            stack.extend(node.children());
        }
    }
}

fn strip(p: &CompiledPolicy, mut id: NodeId) -> NodeId {
    while let Some(Node::Named { body, .. }) = p.node(id) {
        id = *body;
    }
    id
}

fn constant(p: &CompiledPolicy, id: NodeId) -> Option<&Value> {
    match p.node(strip(p, id)) {
        Some(Node::Const(v)) => Some(v),
        _ => None,
    }
}

fn number(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(i) => Some(Decimal::from(*i)),
        Value::Decimal(d) | Value::Money(d) => Some(*d),
        _ => None,
    }
}

/// `a·x + b` for one field `x`, when the expression is that.
fn affine(p: &CompiledPolicy, id: NodeId) -> Option<(FieldId, Decimal, Decimal)> {
    let id = strip(p, id);
    let num = |n: NodeId| constant(p, n).and_then(number);
    Some(match p.node(id)? {
        Node::Field(f) => (*f, Decimal::ONE, Decimal::ZERO),
        Node::Neg(x) => {
            let (f, a, b) = affine(p, *x)?;
            (f, -a, -b)
        }
        Node::Arith(op, l, r) => match (op, num(*l), num(*r)) {
            (Arith::Add, None, Some(c)) => {
                let (f, a, b) = affine(p, *l)?;
                (f, a, b.checked_add(c)?)
            }
            (Arith::Add, Some(c), None) => {
                let (f, a, b) = affine(p, *r)?;
                (f, a, b.checked_add(c)?)
            }
            (Arith::Sub, None, Some(c)) => {
                let (f, a, b) = affine(p, *l)?;
                (f, a, b.checked_sub(c)?)
            }
            (Arith::Sub, Some(c), None) => {
                let (f, a, b) = affine(p, *r)?;
                (f, -a, c.checked_sub(b)?)
            }
            (Arith::Mul, None, Some(c)) => {
                let (f, a, b) = affine(p, *l)?;
                (f, a.checked_mul(c)?, b.checked_mul(c)?)
            }
            (Arith::Mul, Some(c), None) => {
                let (f, a, b) = affine(p, *r)?;
                (f, a.checked_mul(c)?, b.checked_mul(c)?)
            }
            (Arith::Div, None, Some(c)) if !c.is_zero() => {
                let (f, a, b) = affine(p, *l)?;
                (f, a.checked_div(c)?, b.checked_div(c)?)
            }
            _ => return None,
        },
        _ => return None,
    })
}

/// Whether a test on one number or text compares it, as `a·x + b`, with
/// constants only: then the split points make it exact.
fn compares_with_constants(p: &CompiledPolicy, id: NodeId, text: bool) -> bool {
    let id = strip(p, id);
    let side = |n: NodeId| {
        if text {
            matches!(p.node(strip(p, n)), Some(Node::Field(_)))
        } else {
            affine(p, n).is_some()
        }
    };
    match p.node(id) {
        Some(Node::Cmp(op, l, r)) => {
            let order_ok = !text || matches!(op, crate::compile::Cmp::Eq | crate::compile::Cmp::Ne);
            order_ok
                && ((side(*l) && constant(p, *r).is_some())
                    || (constant(p, *l).is_some() && side(*r)))
        }
        Some(Node::In { value, list, .. }) => {
            side(*value) && list.iter().all(|n| constant(p, *n).is_some())
        }
        Some(Node::Is { .. }) => true,
        Some(Node::Not(x)) => compares_with_constants(p, *x, text),
        _ => false,
    }
}

/// Whether every part of `id` that reads a date is a test on dates alone
/// (whose truth the date atoms fix).
fn date_parts_are_tests<'d>(
    p: &CompiledPolicy,
    id: NodeId,
    dates: VarId,
    reads: &dyn Fn(NodeId) -> Option<&'d [VarId]>,
) -> bool {
    let mut stack = vec![id];
    while let Some(n) = stack.pop() {
        let Some(vars) = reads(n) else { continue };
        if !vars.contains(&dates) {
            continue;
        }
        let test = matches!(
            p.node(n),
            Some(Node::Cmp(..) | Node::Within { .. } | Node::Is { .. } | Node::In { .. })
        );
        if vars == [dates] && test {
            continue;
        }
        match p.node(n) {
            Some(Node::Field(_) | Node::Is { .. }) | None => return false,
            Some(node) => stack.extend(node.children()),
        }
    }
    true
}

struct Builder<'s> {
    schema: &'s Schema,
    vars: Vec<Var>,
    var_of: Vec<Option<VarId>>,
    /// Per numeric field: the values where a test changes.
    splits: HashMap<FieldId, Vec<Decimal>>,
    /// Per string field: the texts compared with.
    strings: HashMap<FieldId, Vec<Text>>,
}

impl Builder<'_> {
    fn deps_of(&self, p: &CompiledPolicy) -> Vec<Deps> {
        let mut memo: Vec<Option<Deps>> = vec![None; p.nodes.len()];
        // Children first: an explicit stack, the trees are shallow but the
        // arena may be long.
        for start in 0..p.nodes.len() {
            let mut stack = vec![(NodeId(start as u32), false)];
            while let Some((id, expanded)) = stack.pop() {
                let i = id.0 as usize;
                if memo.get(i).is_some_and(Option::is_some) {
                    continue;
                }
                let Some(node) = p.node(id) else { continue };
                if !expanded {
                    stack.push((id, true));
                    for c in node.children() {
                        stack.push((c, false));
                    }
                    continue;
                }
                let mut d = Deps::default();
                match node {
                    Node::Field(f) | Node::Is { field: f, .. } => {
                        if let Some(v) = self.var_of.get(f.0 as usize).copied().flatten() {
                            d.vars.push(v);
                        } else if *f == self.schema.request_id {
                            // The channel and the currency are fixed per
                            // policy; the request id is free text.
                            d.unmodelled = true;
                        }
                    }
                    Node::Builtin(crate::check::hir::Builtin::Refund) => d.refund = true,
                    Node::Builtin(_) => d.decided = true,
                    _ => {}
                }
                for c in node.children() {
                    if let Some(Some(cd)) = memo.get(c.0 as usize) {
                        let cd = cd.clone();
                        d.join(&cd);
                    }
                }
                if let Some(slot) = memo.get_mut(i) {
                    *slot = Some(d);
                }
            }
        }
        memo.into_iter().map(Option::unwrap_or_default).collect()
    }

    fn note_splits(&mut self, p: &CompiledPolicy, _id: NodeId, node: &Node) {
        let mut pairs: Vec<(NodeId, NodeId)> = Vec::new();
        match node {
            Node::Cmp(_, l, r) => {
                pairs.push((*l, *r));
                pairs.push((*r, *l));
            }
            Node::In { value, list, .. } => pairs.extend(list.iter().map(|n| (*value, *n))),
            Node::Const(v) => {
                // Every amount a policy writes is a place where a computed
                // amount (a refund) may cross: sampled on both sides.
                if let Some(c) = number(v) {
                    let money = matches!(v, Value::Money(_));
                    for (i, f) in self.schema.fields.iter().enumerate() {
                        let is_money = matches!(f.ty, FieldType::Money { .. });
                        let is_number =
                            matches!(f.ty, FieldType::Int { .. } | FieldType::Decimal { .. });
                        if (money && is_money) || (!money && is_number) {
                            self.split(FieldId(i as u32), c);
                        }
                    }
                }
            }
            _ => {}
        }
        for (side, other) in pairs {
            let Some(c) = constant(p, other) else {
                continue;
            };
            if let Value::Str(s) = c {
                if let Some(Node::Field(f)) = p.node(strip(p, side)) {
                    let list = self.strings.entry(*f).or_default();
                    if !list.contains(s) {
                        list.push(s.clone());
                    }
                }
                continue;
            }
            let (Some(c), Some((f, a, b))) = (number(c), affine(p, side)) else {
                continue;
            };
            if a.is_zero() {
                continue;
            }
            if let Some(x) = c.checked_sub(b).and_then(|v| v.checked_div(a)) {
                self.split(f, x);
            }
        }
    }

    /// Records `x` as a split point of a numeric field, rounded both ways
    /// to the field's places (no request value lies between).
    fn split(&mut self, f: FieldId, x: Decimal) {
        let scale = match self.schema.field(f).ty {
            FieldType::Int { .. } => 0,
            FieldType::Decimal { max_scale, .. } | FieldType::Money { max_scale, .. } => max_scale,
            _ => return,
        };
        let list = self.splits.entry(f).or_default();
        for v in [
            x.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::ToNegativeInfinity),
            x.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::ToPositiveInfinity),
        ] {
            if !list.contains(&v) {
                list.push(v);
            }
        }
    }

    fn field_atoms(&mut self) {
        for var in &mut self.vars {
            let VarKind::Field(f) = var.kind else {
                continue;
            };
            let field = self.schema.field(f);
            let mut atoms = Vec::new();
            if !field.required && field.default == Value::Absent {
                atoms.push(Atom {
                    values: vec![(f, Value::Absent)],
                    shown: "absent".into(),
                    range: None,
                });
            }
            let one = |v: Value, shown: String| Atom {
                values: vec![(f, v)],
                shown,
                range: None,
            };
            match &field.ty {
                FieldType::Bool => {
                    let first = field.default == Value::Bool(true);
                    atoms.push(one(Value::Bool(first), format!("= {first}")));
                    atoms.push(one(Value::Bool(!first), format!("= {}", !first)));
                }
                FieldType::Enum(e) => {
                    for (i, name) in e.variants().iter().enumerate() {
                        atoms.push(one(Value::Enum(i as u32), format!("= {name}")));
                    }
                }
                FieldType::String => {
                    let texts = self.strings.get(&f).cloned().unwrap_or_default();
                    let mut other = String::from(if f == self.schema.request_id {
                        "witness"
                    } else {
                        "W-1"
                    });
                    while texts.iter().any(|t| **t == *other) {
                        other.push('0');
                    }
                    atoms.push(one(
                        Value::Str(other.as_str().into()),
                        "any other text".into(),
                    ));
                    for t in texts {
                        atoms.push(one(Value::Str(t.clone()), format!("= {t:?}")));
                    }
                }
                FieldType::Int { min, max } => {
                    // A request's integer fits an `i64`: no atom lies past it.
                    let lo = Some(Decimal::from(min.unwrap_or(i64::MIN)));
                    let hi = Some(Decimal::from(max.unwrap_or(i64::MAX)));
                    let mk = |d: Decimal| {
                        use rust_decimal::prelude::ToPrimitive;
                        Value::Int(d.to_i64().unwrap_or(0))
                    };
                    let typical = number(&typical_number(field)).unwrap_or(Decimal::ONE);
                    let splits = self.splits.get(&f).cloned().unwrap_or_default();
                    atoms.extend(intervals(
                        f,
                        &splits,
                        lo,
                        hi,
                        Decimal::ONE,
                        typical,
                        mk,
                        |d| d.to_string(),
                    ));
                }
                FieldType::Decimal { min, max_scale } | FieldType::Money { min, max_scale, .. } => {
                    let money = matches!(field.ty, FieldType::Money { .. });
                    let step = Decimal::new(1, *max_scale);
                    let typical = number(&typical_number(field)).unwrap_or(Decimal::ONE);
                    let mk = move |d: Decimal| {
                        if money {
                            Value::Money(d)
                        } else {
                            Value::Decimal(d)
                        }
                    };
                    let places = *max_scale as usize;
                    let splits = self.splits.get(&f).cloned().unwrap_or_default();
                    atoms.extend(intervals(f, &splits, *min, None, step, typical, mk, |d| {
                        format!("{d:.places$}")
                    }));
                }
                FieldType::Timestamp | FieldType::Currency => {}
            }
            let typical_value = match &field.ty {
                FieldType::Int { .. } | FieldType::Decimal { .. } | FieldType::Money { .. } => {
                    Some(typical_number(field))
                }
                _ => None,
            };
            var.typical = atoms
                .iter()
                .position(|a| match (&typical_value, a.values.first()) {
                    (Some(t), Some((_, v))) => v == t,
                    (None, Some((_, v))) => *v != Value::Absent,
                    _ => false,
                })
                .unwrap_or(0);
            var.atoms = atoms;
        }
    }
}

/// A plain value of a numeric field: its default, else 100 (or its
/// minimum, if higher).
fn typical_number(field: &crate::schema::Field) -> Value {
    match (&field.default, &field.ty) {
        (Value::Absent, FieldType::Int { min, .. }) => Value::Int(min.unwrap_or(1).max(1)),
        (Value::Absent, FieldType::Money { min, .. }) => {
            Value::Money(Decimal::new(100, 0).max(min.unwrap_or(Decimal::ZERO)))
        }
        (Value::Absent, FieldType::Decimal { min, .. }) => {
            Value::Decimal(Decimal::new(100, 0).max(min.unwrap_or(Decimal::ZERO)))
        }
        (d, _) => d.clone(),
    }
}

/// A number's atoms: each split point, and the open intervals between
/// them that hold a value at the field's places. The interval's sample is
/// one step past its lower end (a cent above a threshold), or one step
/// below its upper end when it has none; with no split point at all, the
/// field's typical value.
#[expect(clippy::too_many_arguments, reason = "one call per numeric kind")]
fn intervals(
    f: FieldId,
    splits: &[Decimal],
    lo: Option<Decimal>,
    hi: Option<Decimal>,
    step: Decimal,
    typical: Decimal,
    mk: impl Fn(Decimal) -> Value,
    show: impl Fn(Decimal) -> String,
) -> Vec<Atom> {
    let inside = |d: Decimal| lo.is_none_or(|l| d >= l) && hi.is_none_or(|h| d <= h);
    let mut points: Vec<Decimal> = splits.iter().copied().filter(|d| inside(*d)).collect();
    points.sort();
    points.dedup();
    let mut atoms = Vec::new();
    let interval = |from: Option<Decimal>, to: Option<Decimal>, atoms: &mut Vec<Atom>| {
        // The values strictly between `from` and `to`, within the bounds.
        let first = match from {
            Some(a) => a + step,
            None => match lo {
                Some(l) => l,
                None => to.map_or(typical, |t| (t - step).min(typical)),
            },
        };
        let last_ok = |d: Decimal| to.is_none_or(|t| d < t) && inside(d);
        let strictly_inside =
            |d: Decimal| from.is_none_or(|a| d > a) && to.is_none_or(|t| d < t) && inside(d);
        let sample = match (from, to) {
            _ if strictly_inside(typical) => typical,
            (None, None) => typical,
            (None, Some(t)) => {
                let below = t - step;
                if inside(below) { below } else { first }
            }
            _ => first,
        };
        if !last_ok(sample) || !last_ok(first) {
            return;
        }
        let shown = match (from, to) {
            (None, None) => "any".to_owned(),
            (None, Some(t)) => format!("< {}", show(t)),
            (Some(a), None) => format!("> {}", show(a)),
            (Some(a), Some(t)) => format!("in ({}, {})", show(a), show(t)),
        };
        atoms.push(Atom {
            values: vec![(f, mk(sample))],
            shown,
            range: Some(Range {
                lo: from.map(|a| (a, false)),
                hi: to.map(|t| (t, false)),
            }),
        });
    };
    let mut prev = None;
    for p in &points {
        interval(prev, Some(*p), &mut atoms);
        atoms.push(Atom {
            values: vec![(f, mk(*p))],
            shown: format!("= {}", show(*p)),
            range: Some(Range {
                lo: Some((*p, true)),
                hi: Some((*p, true)),
            }),
        });
        prev = Some(*p);
    }
    interval(prev, None, &mut atoms);
    atoms
}

fn base_request(schema: &Schema, vars: &[Var], targets: &[Target<'_>]) -> Request {
    let mut values: Vec<Value> = schema.fields.iter().map(|f| f.default.clone()).collect();
    let channel = targets.first().map_or(0, |t| t.policy.channel);
    let currency: Arc<str> = targets
        .first()
        .map_or_else(|| Arc::from("CNY"), |t| Arc::from(t.policy.currency));
    for (i, f) in schema.fields.iter().enumerate() {
        let Some(slot) = values.get_mut(i) else {
            continue;
        };
        let id = FieldId(i as u32);
        if id == schema.channel {
            *slot = Value::Enum(channel);
        } else if id == schema.request_id {
            *slot = Value::Str("witness".into());
        } else if f.ty == FieldType::Currency {
            *slot = Value::Str(Text::from(Arc::clone(&currency)));
        } else if f.ty == FieldType::String && *slot == Value::Absent && f.required {
            *slot = Value::Str("W-1".into());
        }
    }
    // Every other variable starts on its typical atom.
    for v in vars {
        if let Some(a) = v.atoms.get(v.typical) {
            for (f, value) in &a.values {
                if let Some(slot) = values.get_mut(f.0 as usize) {
                    *slot = value.clone();
                }
            }
        }
    }
    Request {
        values,
        request_id: Some("witness".into()),
    }
}

mod dates {
    //! The date atoms, by enumeration over the calendars' years.

    use super::*;

    /// Every test that reads dates alone, per target.
    pub(super) fn tests(
        targets: &[Target<'_>],
        infos: &[TargetInfo],
        dates: VarId,
    ) -> Vec<(usize, NodeId)> {
        let mut out = Vec::new();
        for (t, target) in targets.iter().enumerate() {
            let Some(info) = infos.get(t) else { continue };
            let mut seen = vec![false; target.policy.nodes.len()];
            for root in roots(target.policy) {
                walk(target.policy, root, &mut |id, node| {
                    let pure = info.deps.get(id.0 as usize).is_some_and(|d| {
                        d.vars.as_slice() == [dates] && !d.refund && !d.decided && !d.unmodelled
                    });
                    let test = matches!(
                        node,
                        Node::Cmp(..) | Node::Within { .. } | Node::Is { .. } | Node::In { .. }
                    );
                    if pure && test && !seen.get(id.0 as usize).copied().unwrap_or(true) {
                        if let Some(s) = seen.get_mut(id.0 as usize) {
                            *s = true;
                        }
                        out.push((t, id));
                    }
                });
            }
        }
        out
    }

    /// A duration a date test shifts by, and whether it rolls.
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct Shift {
        count: u32,
        unit: Unit,
        rolled: bool,
    }

    fn shifted(d: Date, s: Shift, back: bool) -> Option<Date> {
        let n = i64::from(s.count);
        let n = if back { -n } else { n };
        let span = match s.unit {
            Unit::Days => jiff::Span::new().try_days(n),
            Unit::Weeks => jiff::Span::new().try_weeks(n),
            Unit::Months => jiff::Span::new().try_months(n),
            Unit::Years => jiff::Span::new().try_years(n),
            Unit::WorkingDays => return None,
        }
        .ok()?;
        d.checked_add(span).ok()
    }

    pub(super) fn atoms(
        schema: &Schema,
        targets: &[Target<'_>],
        infos: &[TargetInfo],
        dates: VarId,
        base: &Request,
    ) -> (Vec<Atom>, Option<String>) {
        let tests = tests(targets, infos, dates);
        let stamps: Vec<FieldId> = schema
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.ty == FieldType::Timestamp)
            .map(|(i, _)| FieldId(i as u32))
            .collect();
        let ranked = rank(schema, &stamps);
        let mut read: Vec<FieldId> = Vec::new();
        let mut shifts: Vec<Shift> = Vec::new();
        let mut consts: Vec<Date> = Vec::new();
        let mut inexact = None;
        let mut same_day = false;
        for (t, id) in &tests {
            let Some(target) = targets.get(*t) else {
                continue;
            };
            let p = target.policy;
            // The offsets tried are where one shift or window ends from a
            // date: a window or shift from a shifted date, or shifted
            // dates compared, end elsewhere (`requested_at + 20 days >=
            // order.delivered_at + 30 days` changes 10 days on).
            let shifted = |n: NodeId| matches!(p.node(strip(p, n)), Some(Node::DateShift { .. }));
            let composed = match p.node(*id) {
                Some(Node::Cmp(_, l, r)) => shifted(*l) && shifted(*r),
                _ => false,
            };
            let mut nested = false;
            walk(p, *id, &mut |_, node| match node {
                Node::Within { value, anchor, .. } => nested |= shifted(*value) || shifted(*anchor),
                Node::DateShift { date, .. } => nested |= shifted(*date),
                _ => {}
            });
            if composed || nested {
                inexact = Some(
                    "a window or shift starts from a shifted date, or two shifted dates are \
                     compared; the analysis tries each date where one shift ends"
                        .to_owned(),
                );
            }
            walk(p, *id, &mut |_, node| match node {
                Node::Field(f) | Node::Is { field: f, .. } if !read.contains(f) => {
                    read.push(*f);
                }
                Node::Field(_) | Node::Is { .. } => {}
                Node::Within { count, unit, .. } => {
                    let s = Shift {
                        count: *count,
                        unit: *unit,
                        rolled: *unit != Unit::WorkingDays,
                    };
                    if !shifts.contains(&s) {
                        shifts.push(s);
                    }
                }
                Node::DateShift { count, unit, .. } => {
                    let s = Shift {
                        count: *count,
                        unit: *unit,
                        rolled: false,
                    };
                    if !shifts.contains(&s) {
                        shifts.push(s);
                    }
                }
                Node::Const(Value::Date(d)) => consts.push(d.date()),
                _ => {}
            });
            let raw = |n: &NodeId| matches!(p.node(strip(p, *n)), Some(Node::Field(_)));
            // Two timestamps compared as such: equal ones are tried too.
            if let Some(Node::In { value, list, .. }) = p.node(*id) {
                same_day |= raw(value) && list.iter().any(raw);
            }
            if let Some(Node::Cmp(_, l, r)) = p.node(*id) {
                same_day |= raw(l) && raw(r);
                // A shift on the side of the value being compared: exact
                // only when it does not depend on the calendar.
                for side in [l, r] {
                    if let Some(Node::DateShift { unit, .. }) = p.node(strip(p, *side))
                        && matches!(unit, Unit::Months | Unit::Years | Unit::WorkingDays)
                    {
                        inexact = Some(
                            "a date shifted by months, years or working days is compared; \
                             the analysis tries it a day either side of where it ends"
                                .to_owned(),
                        );
                    }
                }
            }
        }
        read.sort_by_key(|f| ranked.iter().position(|r| r == f));
        let optional: Vec<FieldId> = read
            .iter()
            .copied()
            .filter(|f| !schema.field(*f).required)
            .collect();
        if read.len() > 2 {
            inexact = Some(
                "tests relate more than two dates; the analysis tries each date at the \
                 offsets from the one before it where a window ends"
                    .to_owned(),
            );
        }
        let (first, last, clamped) = range(targets, &shifts);
        if clamped {
            inexact = Some(format!(
                "a window or shift is longer than {MAX_REACH_DAYS} days; deliveries further \
                 before the calendar's first year are not tried"
            ));
        }
        let days: Vec<Date> = {
            // From the middle of the range on, then the start: witnesses
            // lie inside the calendar with room for settlement dates.
            let mut all = Vec::new();
            let mut d = first;
            while d <= last {
                all.push(d);
                let Ok(next) = d.tomorrow() else { break };
                d = next;
            }
            let mid = all.len() / 2;
            let mut ordered = all.split_off(mid);
            ordered.extend(all);
            ordered
        };
        let calendar = targets.first().map(|t| Arc::clone(&t.policy.calendar));
        let offsets = |b: Date| -> Vec<i64> {
            let mut out = vec![0i64, 1];
            let mut push = |d: Date| {
                if let Ok(span) = b.until(d) {
                    let n = i64::from(span.get_days());
                    for x in [n - 1, n, n + 1] {
                        if !out.contains(&x) {
                            out.push(x);
                        }
                    }
                }
            };
            for s in &shifts {
                if s.unit == Unit::WorkingDays {
                    if let Some(c) = &calendar
                        && let Ok(d) = c.nth_working_day_after(b, s.count)
                    {
                        push(d);
                    }
                    continue;
                }
                if let Some(d) = shifted(b, *s, false) {
                    push(d);
                    if s.rolled
                        && let Some(c) = &calendar
                        && let Ok(r) = c.roll_forward(d)
                    {
                        push(r);
                    }
                }
                if let Some(d) = shifted(b, *s, true) {
                    push(d);
                }
            }
            for c in &consts {
                push(*c);
            }
            out.sort_unstable();
            out
        };
        // Where each shift ends from `b`, shift by shift: two base dates
        // alike in this decide every test on a date placed from them
        // alike. (The offsets above, merged and sorted, are not enough:
        // a 7-day window a holiday rolls onto the end of a 15-day one
        // reads as the same offsets as one it does not.)
        let signature = |b: Date| -> Vec<i64> {
            let days = |d: Option<Date>| {
                d.and_then(|d| b.until(d).ok())
                    .map_or(i64::MIN, |s| i64::from(s.get_days()))
            };
            let mut out = Vec::new();
            for s in &shifts {
                if s.unit == Unit::WorkingDays {
                    let end = calendar
                        .as_ref()
                        .and_then(|c| c.nth_working_day_after(b, s.count).ok());
                    out.push(days(end));
                    continue;
                }
                let end = shifted(b, *s, false);
                out.push(days(end));
                let rolled = match (s.rolled, end, &calendar) {
                    (true, Some(d), Some(c)) => c.roll_forward(d).ok(),
                    _ => None,
                };
                out.push(days(rolled));
                out.push(days(shifted(b, *s, true)));
            }
            out
        };
        let mut found: rustc_hash::FxHashMap<Vec<u8>, usize> = Default::default();
        let mut atoms: Vec<Atom> = Vec::new();
        let mut seen_shapes: rustc_hash::FxHashSet<Vec<i64>> = Default::default();
        let mut req = base.clone();
        let patterns = 1usize << optional.len().min(4);
        for pattern in 0..patterns {
            let present: Vec<FieldId> = read
                .iter()
                .copied()
                .filter(|f| {
                    optional
                        .iter()
                        .position(|o| o == f)
                        .is_none_or(|i| pattern & (1 << i) == 0)
                })
                .collect();
            seen_shapes.clear();
            for b in &days {
                let shape = offsets(*b);
                // Base dates whose windows end at the same offsets give the
                // same truth values: tried once (not with fixed dates).
                if consts.is_empty() && !seen_shapes.insert(signature(*b)) {
                    continue;
                }
                let mut tuples: Vec<Vec<Date>> = vec![vec![*b]];
                for _ in present.iter().skip(1) {
                    let mut next = Vec::new();
                    for t in &tuples {
                        let Some(prev) = t.last() else { continue };
                        let shape = if prev == b {
                            shape.clone()
                        } else {
                            offsets(*prev)
                        };
                        for o in shape {
                            if let Ok(d) = prev.checked_add(jiff::Span::new().days(o)) {
                                let mut t = t.clone();
                                t.push(d);
                                next.push(t);
                            }
                        }
                    }
                    tuples = next;
                }
                for tuple in tuples {
                    for hours in hour_sets(same_day) {
                        let Some(values) =
                            place(schema, &stamps, &ranked, &present, &tuple, hours, targets)
                        else {
                            continue;
                        };
                        for (f, v) in &values {
                            if let Some(slot) = req.values.get_mut(f.0 as usize) {
                                *slot = v.clone();
                            }
                        }
                        let key: Vec<u8> = tests
                            .iter()
                            .map(|(t, id)| match targets.get(*t) {
                                Some(target) => {
                                    match node_value(
                                        target.compiled,
                                        target.policy,
                                        &req,
                                        None,
                                        *id,
                                    ) {
                                        Ok(Value::Bool(false)) => 0,
                                        Ok(Value::Bool(true)) => 1,
                                        Ok(_) => 2,
                                        Err(_) => 3,
                                    }
                                }
                                None => 3,
                            })
                            .collect();
                        if found.contains_key(&key) {
                            continue;
                        }
                        found.insert(key, atoms.len());
                        let shown = show(schema, &present, &tuple);
                        atoms.push(Atom {
                            values,
                            shown,
                            range: None,
                        });
                    }
                }
            }
        }
        if atoms.is_empty()
            && let Some(values) = place(schema, &stamps, &ranked, &stamps, &[first], false, targets)
        {
            atoms.push(Atom {
                values,
                shown: "any".into(),
                range: None,
            });
        }
        (atoms, inexact)
    }

    fn hour_sets(same_day: bool) -> Vec<bool> {
        if same_day {
            vec![false, true]
        } else {
            vec![false]
        }
    }

    /// The timestamps of a tuple: the present fields read at their dates
    /// (two hours apart in date order, or all at noon with `equal`),
    /// others absent when optional, else at the earliest or latest date as
    /// the schema's date order needs; `None` if that order is broken.
    fn place(
        schema: &Schema,
        stamps: &[FieldId],
        ranked: &[FieldId],
        present: &[FieldId],
        tuple: &[Date],
        equal: bool,
        targets: &[Target<'_>],
    ) -> Option<Vec<(FieldId, Value)>> {
        let tz = targets
            .first()
            .map_or(jiff::tz::TimeZone::UTC, |t| t.policy.timezone.clone());
        let at = |d: Date, rank: usize| -> Option<jiff::Timestamp> {
            let hour = if equal {
                12
            } else {
                10 + 2 * (rank.min(6) as i8)
            };
            tz.to_timestamp(d.at(hour, 0, 0, 0)).ok()
        };
        let rank_of = |f: &FieldId| ranked.iter().position(|r| r == f).unwrap_or(0);
        let mut values: Vec<(FieldId, Value)> = Vec::new();
        let (Some(lo), Some(hi)) = (tuple.iter().min(), tuple.iter().max()) else {
            return None;
        };
        for f in stamps {
            let v = if let Some(i) = present.iter().position(|p| p == f) {
                Value::Timestamp(at(*tuple.get(i)?, rank_of(f))?)
            } else if !schema.field(*f).required {
                Value::Absent
            } else if schema.constraints.iter().any(|c| c.earlier == *f) {
                Value::Timestamp(at(*lo, 0)?)
            } else {
                Value::Timestamp(at(*hi, 7)?)
            };
            values.push((*f, v));
        }
        let get = |f: FieldId| values.iter().find(|(g, _)| *g == f).map(|(_, v)| v);
        for c in &schema.constraints {
            if let (Some(Value::Timestamp(a)), Some(Value::Timestamp(b))) =
                (get(c.earlier), get(c.later))
                && a > b
            {
                return None;
            }
        }
        Some(values)
    }

    fn show(schema: &Schema, present: &[FieldId], tuple: &[Date]) -> String {
        let mut parts = Vec::new();
        let mut prev: Option<Date> = None;
        for (f, d) in present.iter().zip(tuple) {
            let name = &schema.field(*f).path;
            match prev {
                None => parts.push(format!("{name} on {d}")),
                Some(p) => {
                    let n = p.until(*d).map(|s| i64::from(s.get_days())).unwrap_or(0);
                    let when = match n {
                        0 => "the same day".to_owned(),
                        1 => "1 day later".to_owned(),
                        -1 => "1 day earlier".to_owned(),
                        n if n < 0 => format!("{} days earlier", -n),
                        n => format!("{n} days later"),
                    };
                    parts.push(format!("{name} {when} ({d})"));
                }
            }
            prev = Some(*d);
        }
        if parts.is_empty() {
            "any".into()
        } else {
            parts.join(", ")
        }
    }

    /// Timestamp fields in the schema's date order (earlier first).
    fn rank(schema: &Schema, stamps: &[FieldId]) -> Vec<FieldId> {
        let mut left: Vec<FieldId> = stamps.to_vec();
        let mut out = Vec::new();
        while !left.is_empty() {
            let pick = left
                .iter()
                .position(|f| {
                    !schema
                        .constraints
                        .iter()
                        .any(|c| c.later == *f && left.contains(&c.earlier))
                })
                .unwrap_or(0);
            out.push(left.remove(pick));
        }
        out
    }

    /// The base dates to try: every day the targets' calendars cover
    /// (their union), and before it as far as the longest shift reaches
    /// into it (a delivery late in the year before the calendar still has
    /// a window ending inside it, or failing at its first day).
    fn range(targets: &[Target<'_>], shifts: &[Shift]) -> (Date, Date, bool) {
        let years = targets.iter().map(|t| t.policy.calendar.years());
        let first = years.clone().map(|y| *y.start()).min().unwrap_or(2025);
        let last = years.map(|y| *y.end()).max().unwrap_or(2025);
        let reach = shifts
            .iter()
            .map(|s| {
                let n = i64::from(s.count);
                match s.unit {
                    Unit::Days => n,
                    Unit::Weeks => 7 * n,
                    Unit::Months => 31 * n,
                    Unit::Years => 366 * n,
                    // At most two rest days a week, and the longest
                    // holiday.
                    Unit::WorkingDays => 2 * n + 14,
                }
            })
            .max()
            .unwrap_or(0);
        let start = Date::new(first, 1, 1).unwrap_or_default();
        (
            start
                .checked_sub(jiff::Span::new().days(reach.clamp(0, MAX_REACH_DAYS) + 1))
                .unwrap_or(start),
            Date::new(last, 12, 31).unwrap_or_default(),
            reach > MAX_REACH_DAYS,
        )
    }

    /// How far before a calendar's first day base dates are tried (ten
    /// years): past it, the exploration would grow with the window.
    const MAX_REACH_DAYS: i64 = 3_660;
}
