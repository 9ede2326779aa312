//! The semantic diff of two versions of a policy directory: every region
//! of requests whose decision changes (verdict, rule, amount, route,
//! settlement), each with a witness request decided by both versions.
//!
//! Both versions' policies for a channel are explored together, so each
//! region is one path through the old policy and one through the new; the
//! search also splits on the tests inside outcomes (`if`, `match`), so a
//! region has one route. Amounts and settlement dates, which vary inside a
//! region, are compared on its witness.

use std::collections::BTreeSet;

use fixedbitset::FixedBitSet;
use serde::Serialize;

use super::search::{End, Query, Region, explore, explore_within};
use super::space::Space;
use super::{Target, describe, witness};
use crate::compile::{Compiled, CompiledPolicy};
use crate::compile::{Node, NodeId};
use crate::eval::{Decision, evaluate};
use crate::request::Request;

/// One version's answer for a witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "SideJson")]
pub struct Side {
    /// `approve`, `deny`, `review`, or `error`.
    pub decision: String,
    /// The rule that decided (or, for `error`, the error's code).
    pub rule: String,
    pub amount: Option<String>,
    pub route: Option<String>,
    /// `earliest..latest`.
    pub settlement: Option<String>,
}

/// A side as JSON shows it: an error's code as `error`, not as a rule.
#[derive(Serialize)]
struct SideJson {
    decision: String,
    rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    amount: Option<String>,
    route: Option<String>,
    settlement: Option<String>,
}

impl From<Side> for SideJson {
    fn from(s: Side) -> SideJson {
        let error = s.decision == "error";
        SideJson {
            rule: (!error).then(|| s.rule.clone()),
            error: error.then_some(s.rule),
            decision: s.decision,
            amount: s.amount,
            route: s.route,
            settlement: s.settlement,
        }
    }
}

impl Side {
    pub fn of(result: Result<Decision, crate::eval::Rejection>) -> Side {
        match result {
            Ok(d) => Side {
                decision: d.decision.as_str().to_owned(),
                rule: d.rule().to_string(),
                amount: d.refund.as_ref().map(|r| {
                    format!(
                        "{} {}",
                        crate::eval::output::format_amount(&r.amount),
                        r.currency
                    )
                }),
                route: d.refund.as_ref().map(|r| r.route.to_string()),
                settlement: d
                    .settlement
                    .as_ref()
                    .map(|s| format!("{}..{}", s.earliest, s.latest)),
            },
            Err(r) => Side {
                decision: "error".into(),
                rule: r.error.code,
                amount: None,
                route: None,
                settlement: None,
            },
        }
    }

    /// The parts of a decision the diff compares, by name, that differ.
    pub fn changed(&self, other: &Side) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.decision != other.decision {
            out.push("decision");
        }
        if self.rule != other.rule {
            out.push("rule");
        }
        if self.amount != other.amount {
            out.push("amount");
        }
        if self.route != other.route {
            out.push("route");
        }
        if self.settlement != other.settlement {
            out.push("settlement");
        }
        out
    }

    /// `approve by `seven_day_no_reason`: 100.00 CNY to bank_card`.
    pub fn text(&self) -> String {
        let mut s = if self.decision == "error" {
            format!("error {}", self.rule)
        } else {
            format!("{} by `{}`", self.decision, self.rule)
        };
        if let (Some(a), Some(r)) = (&self.amount, &self.route) {
            s.push_str(&format!(": {a} to {r}"));
        }
        if let Some(st) = &self.settlement {
            s.push_str(&format!(", settled {st}"));
        }
        s
    }
}

/// A region of requests whose decision changes.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The channel (the policy's name in each version may differ).
    pub channel: String,
    /// What the requests of the change have in common, one line per field
    /// (or date test).
    pub region: Vec<String>,
    /// When the change covers several regions (boxes of the space): each
    /// one's lines beyond those in common.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Vec<String>>,
    /// The parts that change: `decision`, `rule`, `amount`, `route`,
    /// `settlement`.
    pub changed: Vec<&'static str>,
    pub old: Side,
    pub new: Side,
    /// A complete request of the region, valid per the schema.
    pub witness: serde_json::Value,
    #[serde(skip)]
    pub request: Request,
    #[serde(skip)]
    cells: Vec<FixedBitSet>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffReport {
    pub changes: Vec<Change>,
    /// What the analysis could only sample, in words.
    pub notes: Vec<String>,
}

/// Why two versions cannot be compared.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
pub enum DiffError {
    #[error("the two versions have different request schemas")]
    #[diagnostic(
        code(rpl::diff::schema_changed),
        help(
            "rpl diff compares policies under one schema; field `{field}` differs. Compare the schema change on its own, or replay real requests with --replay"
        )
    )]
    SchemaChanged {
        field: String,
        #[source_code]
        src: crate::source::Source,
        #[label("differs from the old version's schema")]
        span: Option<miette::SourceSpan>,
    },
}

/// Every change between `old` and `new`, channel by channel.
pub fn diff(old: &Compiled, new: &Compiled) -> Result<DiffReport, DiffError> {
    same_schema(old, new)?;
    let mut report = DiffReport::default();
    let channels = old.schema.channels.variants().len();
    for c in 0..channels {
        let channel = old.schema.channels.variant(c as u32).to_owned();
        let o = old.policy_for_channel_indexed(c as u32).map(|(_, p)| p);
        let n = new.policy_for_channel_indexed(c as u32).map(|(_, p)| p);
        match (o, n) {
            (Some(o), Some(n)) => channel_diff(old, o, new, n, &channel, &mut report),
            (None, None) => {}
            (o, n) => whole_channel(old, o, new, n, &channel, &mut report),
        }
    }
    // Changes of decision first; those where a version fails (most often
    // dates at the edges of a calendar) after them.
    report
        .changes
        .sort_by_key(|c| c.old.decision == "error" || c.new.decision == "error");
    Ok(report)
}

fn same_schema(old: &Compiled, new: &Compiled) -> Result<(), DiffError> {
    let a = &old.schema.fields;
    let b = &new.schema.fields;
    for i in 0..a.len().max(b.len()) {
        let (fa, fb) = (a.get(i), b.get(i));
        let same = match (fa, fb) {
            (Some(x), Some(y)) => {
                x.path == y.path
                    && format!("{:?}", x.ty) == format!("{:?}", y.ty)
                    && x.required == y.required
                    && x.default == y.default
            }
            _ => false,
        };
        if !same {
            let field = fa.or(fb).map(|f| f.path.clone()).unwrap_or_default();
            // Shown in the new schema where it has the field.
            return Err(DiffError::SchemaChanged {
                field,
                src: new.schema.source.named_source(),
                span: fb.map(|f| f.span.into()),
            });
        }
    }
    Ok(())
}

/// A channel only one version has a policy for: all its requests change.
fn whole_channel(
    old: &Compiled,
    o: Option<&CompiledPolicy>,
    new: &Compiled,
    n: Option<&CompiledPolicy>,
    channel: &str,
    report: &mut DiffReport,
) {
    let (compiled, policy) = match (o, n) {
        (Some(p), None) => (old, p),
        (None, Some(p)) => (new, p),
        _ => return,
    };
    let Some(space) = Space::new(&[Target { compiled, policy }]) else {
        return;
    };
    let req = space.base.clone();
    let (os, ns) = (
        Side::of(evaluate(old, &req, false)),
        Side::of(evaluate(new, &req, false)),
    );
    report.changes.push(Change {
        channel: channel.to_owned(),
        region: vec![format!("every request of channel {channel}")],
        parts: Vec::new(),
        changed: os.changed(&ns),
        old: os,
        new: ns,
        witness: space.json(&req),
        request: req,
        cells: Vec::new(),
    });
}

fn channel_diff(
    old: &Compiled,
    o: &CompiledPolicy,
    new: &Compiled,
    n: &CompiledPolicy,
    channel: &str,
    report: &mut DiffReport,
) {
    let targets = [
        Target {
            compiled: old,
            policy: o,
        },
        Target {
            compiled: new,
            policy: n,
        },
    ];
    let Some(space) = Space::new(&targets) else {
        return;
    };
    let query = Query {
        rules: true,
        afters: true,
        ..Query::default()
    };
    let mut e = explore(&space, &targets, query);
    // Where both versions decide with outcomes written differently, a
    // route or amount may change inside the region: split it until the
    // outcomes' own tests (`if`, `match`) are decided too.
    let mut regions = Vec::with_capacity(e.regions.len());
    for region in std::mem::take(&mut e.regions) {
        if same_outcomes(&targets, &region) {
            regions.push((region, false));
            continue;
        }
        let varying = amounts_differ(&targets, &region);
        let query = Query {
            outcomes: true,
            ..query
        };
        let inner = explore_within(&space, &targets, query, region.cells);
        e.sampled.extend(inner.sampled);
        e.truncated |= inner.truncated;
        regions.extend(inner.regions.into_iter().map(|r| (r, varying)));
    }
    let mut changes: Vec<Change> = Vec::new();
    // Outcomes written differently agree on the witness only: an amount
    // or a settlement date computed differently may still change
    // elsewhere in the region, which no change can claim.
    let mut unproven = false;
    for (region, differ) in &regions {
        let req = witness(&space, region);
        let os = Side::of(evaluate(old, &req, false));
        let ns = Side::of(evaluate(new, &req, false));
        let changed = os.changed(&ns);
        if changed.is_empty() {
            unproven |= *differ;
            continue;
        }
        changes.push(Change {
            channel: channel.to_owned(),
            region: Vec::new(),
            parts: Vec::new(),
            changed,
            old: os,
            new: ns,
            witness: space.json(&req),
            request: req,
            cells: region.cells.clone(),
        });
    }
    let mut changes = merge(changes);
    for c in &mut changes {
        let region = Region {
            cells: c.cells.clone(),
            ends: Vec::new(),
            probe: None,
        };
        c.region = describe(&space, &region);
        c.region.extend(date_tests(&space, &targets, &region));
        // The merged region is a box of one kind: its typical request is
        // as good a witness as the first part's, and plainer.
        let req = witness(&space, &region);
        c.old = Side::of(evaluate(old, &req, false));
        c.new = Side::of(evaluate(new, &req, false));
        c.changed = c.old.changed(&c.new);
        c.witness = space.json(&req);
        c.request = req;
    }
    let changes = group(changes);
    // One note per test text: `(official_mall, old and new)` when both
    // versions hold it.
    let mut sampled: Vec<(String, bool, Vec<&str>)> = Vec::new();
    for (t, node) in &e.sampled {
        let Some(target) = targets.get(*t) else {
            continue;
        };
        let text = target
            .compiled
            .sources
            .slice(target.policy.span(*node))
            .to_owned();
        let refund = space.deps(*t, *node).is_some_and(|d| d.refund);
        let which = if *t == 0 { "old" } else { "new" };
        match sampled.iter_mut().find(|(x, _, _)| *x == text) {
            Some((_, _, sides)) if !sides.contains(&which) => sides.push(which),
            Some(_) => {}
            None => sampled.push((text, refund, vec![which])),
        }
    }
    for (text, refund, sides) in sampled {
        let sides = sides.join(" and ");
        let note = if refund {
            format!(
                "`{text}` (`{channel}`, {sides}) compares computed amounts: only sample values were tried (a cent either side of each amount in the policies)"
            )
        } else {
            format!(
                "`{text}` (`{channel}`, {sides}) is not decided part by part: only sample requests were tried"
            )
        };
        if !report.notes.contains(&note) {
            report.notes.push(note);
        }
    }
    if unproven {
        report.notes.push(format!(
            "channel {channel}: where both versions decide alike but compute the refund or settlement differently, those were compared on one sample request only"
        ));
    }
    if o.timezone != n.timezone {
        // Timestamps are placed at a few hours of the old version's day:
        // a request whose local date differs between the zones is not
        // among them.
        report.notes.push(format!(
            "channel {channel}: the time zone changed; requests near midnight, whose dates differ between the zones, were not tried"
        ));
    }
    if e.truncated {
        report.notes.push(format!(
            "channel {channel}: the search stopped after {} regions; changes past them are not listed",
            super::search::MAX_REGIONS
        ));
    }
    report.changes.extend(changes);
}

/// Whether both versions decide a region with a refund or settlement
/// written differently (values that vary inside a region).
fn amounts_differ(targets: &[Target<'_>; 2], region: &Region) -> bool {
    use crate::check::hir::OutField;
    let [a, b] = targets;
    let field = |t: &Target<'_>, end: Option<&End>, f: OutField| match end {
        Some(End::Decided { rule, after }) => after
            .and_then(|i| t.policy.afters.get(i))
            .into_iter()
            .chain(t.policy.rules.get(*rule))
            .find_map(|r| r.outcome.iter().find(|(g, _)| *g == f).map(|(_, n)| *n)),
        _ => None,
    };
    [OutField::Refund, OutField::Settlement]
        .into_iter()
        .any(|f| {
            match (
                field(a, region.ends.first(), f),
                field(b, region.ends.get(1), f),
            ) {
                (Some(n), Some(m)) => !same_tree(a.policy, n, b.policy, m),
                _ => false,
            }
        })
}

/// Whether both versions end a region without a decision, or decide it
/// with outcomes written alike (so they agree on every request of it,
/// whatever the outcome's own tests read).
fn same_outcomes(targets: &[Target<'_>; 2], region: &Region) -> bool {
    let [a, b] = targets;
    let outcome =
        |t: &Target<'_>, end: Option<&End>| -> Option<Vec<(crate::check::hir::OutField, NodeId)>> {
            match end {
                Some(End::Decided { rule, after }) => {
                    let mut out = t.policy.rules.get(*rule)?.outcome.clone();
                    if let Some(r) = after.and_then(|i| t.policy.afters.get(i)) {
                        out.extend(r.outcome.iter().copied());
                    }
                    Some(out)
                }
                _ => Some(Vec::new()),
            }
        };
    let (Some(x), Some(y)) = (
        outcome(a, region.ends.first()),
        outcome(b, region.ends.get(1)),
    ) else {
        return false;
    };
    x.len() == y.len()
        && x.iter()
            .zip(&y)
            .all(|((f, n), (g, m))| f == g && same_tree(a.policy, *n, b.policy, *m))
}

/// Whether two nodes of two policies compute the same thing (spans and
/// predicate names aside).
fn same_tree(pa: &CompiledPolicy, a: NodeId, pb: &CompiledPolicy, b: NodeId) -> bool {
    let (Some(x), Some(y)) = (pa.node(a), pb.node(b)) else {
        return false;
    };
    let shallow = match (x, y) {
        (Node::Named { .. }, Node::Named { .. }) => true,
        (Node::Format(p), Node::Format(q)) => {
            p.len() == q.len()
                && p.iter().zip(q).all(|(u, v)| match (u, v) {
                    (crate::compile::FormatPart::Text(s), crate::compile::FormatPart::Text(t)) => {
                        s == t
                    }
                    (
                        crate::compile::FormatPart::Value { .. },
                        crate::compile::FormatPart::Value { .. },
                    ) => true,
                    _ => false,
                })
        }
        // Same variant and same non-node data: compare with the operands
        // blanked out.
        _ => std::mem::discriminant(x) == std::mem::discriminant(y) && blank(x) == blank(y),
    };
    let (cx, cy) = (x.children(), y.children());
    shallow && cx.len() == cy.len() && cx.iter().zip(&cy).all(|(c, d)| same_tree(pa, *c, pb, *d))
}

/// A node with its operands replaced by one id, so that comparing two
/// compares only what the node itself holds.
fn blank(n: &Node) -> Node {
    let z = NodeId(0);
    match n {
        Node::Not(_) => Node::Not(z),
        Node::Neg(_) => Node::Neg(z),
        Node::And(..) => Node::And(z, z),
        Node::Or(..) => Node::Or(z, z),
        Node::Cmp(op, ..) => Node::Cmp(*op, z, z),
        Node::Arith(op, ..) => Node::Arith(*op, z, z),
        Node::DateShift {
            count, unit, back, ..
        } => Node::DateShift {
            date: z,
            count: *count,
            unit: *unit,
            back: *back,
            origin: None,
        },
        Node::InSet { set, negated, .. } => Node::InSet {
            value: z,
            set: *set,
            negated: *negated,
        },
        Node::In { list, negated, .. } => Node::In {
            value: z,
            list: vec![z; list.len()],
            negated: *negated,
        },
        Node::Within { count, unit, .. } => Node::Within {
            value: z,
            count: *count,
            unit: *unit,
            anchor: z,
            origin: None,
        },
        Node::If { .. } => Node::If {
            cond: z,
            then: z,
            els: z,
        },
        Node::Match { arms, .. } => Node::Match {
            scrutinee: z,
            arms: vec![z; arms.len()],
        },
        Node::Max(a) => Node::Max(vec![z; a.len()]),
        Node::Min(a) => Node::Min(vec![z; a.len()]),
        Node::List(a) => Node::List(vec![z; a.len()]),
        Node::Range(..) => Node::Range(z, z),
        Node::Named { .. } => Node::Named {
            name: "".into(),
            body: z,
        },
        Node::Format(_) => Node::Format(Vec::new()),
        other => other.clone(),
    }
}

/// Joins changes of the same kind whose regions differ in one variable,
/// until none do: `payment.method in [bank_card, alipay]`, not two
/// regions.
fn merge(mut changes: Vec<Change>) -> Vec<Change> {
    let vars = changes.first().map_or(0, |c| c.cells.len());
    loop {
        let before = changes.len();
        for v in 0..vars {
            let mut index: rustc_hash::FxHashMap<_, usize> = rustc_hash::FxHashMap::default();
            let mut out: Vec<Change> = Vec::with_capacity(changes.len());
            for c in changes {
                let mut rest = c.cells.clone();
                if let Some(x) = rest.get_mut(v) {
                    x.clear();
                }
                let key = (
                    c.old.decision.clone(),
                    c.old.rule.clone(),
                    c.new.decision.clone(),
                    c.new.rule.clone(),
                    c.changed.clone(),
                    rest,
                );
                match index.get(&key).and_then(|i| out.get_mut(*i)) {
                    Some(o) => {
                        if let (Some(a), Some(b)) = (o.cells.get_mut(v), c.cells.get(v)) {
                            a.union_with(b);
                        }
                    }
                    None => {
                        index.insert(key, out.len());
                        out.push(c);
                    }
                }
            }
            changes = out;
        }
        if changes.len() == before {
            return changes;
        }
    }
}

/// One change per kind (channel, and both versions' verdict and rule):
/// what all its regions share as its region, each region's other lines
/// as its parts, the first region's witness.
fn group(changes: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let mut members: Vec<Vec<Vec<String>>> = Vec::new();
    for c in changes {
        let same = out.iter().position(|o| {
            o.channel == c.channel
                && o.old.decision == c.old.decision
                && o.old.rule == c.old.rule
                && o.new.decision == c.new.decision
                && o.new.rule == c.new.rule
        });
        match same.and_then(|i| members.get_mut(i)) {
            Some(m) => m.push(c.region),
            None => {
                members.push(vec![c.region.clone()]);
                out.push(c);
            }
        }
    }
    for (c, regions) in out.iter_mut().zip(members) {
        if regions.len() < 2 {
            continue;
        }
        let common: Vec<String> = c
            .region
            .iter()
            .filter(|l| regions.iter().all(|r| r.contains(l)))
            .cloned()
            .collect();
        c.parts = regions
            .into_iter()
            .map(|r| r.into_iter().filter(|l| !common.contains(l)).collect())
            .collect();
        c.region = common;
    }
    out
}

/// The date tests whose truth is one on the whole region, as the
/// policies write them: `requested_at within return_window after
/// order.delivered_at: false in old, true in new`.
fn date_tests(space: &Space, targets: &[Target<'_>], region: &Region) -> Vec<String> {
    let Some(cell) = region.cells.get(space.dates) else {
        return Vec::new();
    };
    let Some(var) = space.var(space.dates) else {
        return Vec::new();
    };
    if cell.count_ones(..) == var.atoms.len() {
        return Vec::new();
    }
    // Per test text: its truth per target over the region's date atoms,
    // and the named constants it reads, as each version defines them.
    let mut tests: Vec<(String, [BTreeSet<String>; 2])> = Vec::new();
    let mut constants: Vec<(String, [Vec<String>; 2])> = Vec::new();
    let mut req = space.base.clone();
    for (t, target) in targets.iter().enumerate().take(2) {
        for (test, node) in space.date_tests(t, target) {
            let mut seen = BTreeSet::new();
            for a in cell.ones() {
                space.set(&mut req, space.dates, a);
                let v = crate::eval::node_value(target.compiled, target.policy, &req, None, node);
                seen.insert(match v {
                    Ok(crate::value::Value::Bool(b)) => b.to_string(),
                    Ok(_) => "unknown".to_owned(),
                    Err(_) => "an error".to_owned(),
                });
            }
            let i = match tests.iter().position(|(x, _)| *x == test) {
                Some(i) => i,
                None => {
                    tests.push((test, Default::default()));
                    tests.len() - 1
                }
            };
            if let Some(slot) = tests.get_mut(i).and_then(|(_, s)| s.get_mut(t)) {
                slot.extend(seen);
            }
            for (name, value) in target.policy.constants.get(&node).into_iter().flatten() {
                let j = match constants.iter().position(|(n, _)| **n == **name) {
                    Some(j) => j,
                    None => {
                        constants.push((name.to_string(), Default::default()));
                        constants.len() - 1
                    }
                };
                if let Some(slot) = constants.get_mut(j).and_then(|(_, v)| v.get_mut(t))
                    && !slot.contains(&value.to_string())
                {
                    slot.push(value.to_string());
                }
            }
        }
    }
    // A test reads as the policy writes it (`within return_window`); the
    // value behind a name, where the versions differ, says what changed.
    let changed: Vec<String> = constants
        .into_iter()
        .filter(|(_, [a, b])| a != b && !a.is_empty() && !b.is_empty())
        .map(|(name, [a, b])| format!("{name} = {} in old, {} in new", a.join(", "), b.join(", ")))
        .collect();
    let one = |s: &BTreeSet<String>| (s.len() == 1).then(|| s.iter().next().cloned()).flatten();
    let tests = tests
        .into_iter()
        .filter_map(|(text, [old, new])| match (one(&old), one(&new)) {
            (Some(a), Some(b)) if a == b => Some(format!("`{text}` is {a}")),
            (Some(a), Some(b)) => Some(format!("`{text}` is {a} in old, {b} in new")),
            (Some(a), None) if new.is_empty() => Some(format!("`{text}` is {a} (old only)")),
            (None, Some(b)) if old.is_empty() => Some(format!("`{text}` is {b} (new only)")),
            _ => None,
        });
    tests.chain(changed).collect()
}
