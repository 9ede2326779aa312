//! Splitting the space into regions on which every target's path through
//! its policy is one: which reject or rule decides, which `after` rule
//! changes it, or that none does.
//!
//! A depth-first search over boxes (a set of atoms per variable). Each
//! target walks its policy as `eval` does; a test whose truth differs
//! within the box splits it (a test on one variable by its truth values,
//! precomputed per atom; a test on several into single atoms), and the walk
//! resumes in each part where it stopped: tests already decided stay
//! decided in a smaller box.

use std::collections::{BTreeSet, HashMap};

use fixedbitset::FixedBitSet;

use crate::check::hir::OutField;
use crate::compile::{CompiledRule, Node, NodeId};
use crate::eval::node_value;
use crate::request::Request;
use crate::value::Value;
use crate::vocab::Verdict;

use super::Target;
use super::space::{Space, VarId};

/// Where a target's walk ended on a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum End {
    /// A `reject` rule matched: the request is an error.
    Rejected(usize),
    /// A rule decided; an `after` rule may have changed the verdict.
    Decided { rule: usize, after: Option<usize> },
    /// No rule applied.
    NoRule,
    /// Evaluation failed (the error code).
    Error(String),
    /// Past the rejects; the rules were not walked (a probe's region).
    Open,
}

/// A box of the space and where each target ends on it.
#[derive(Debug, Clone)]
pub struct Region {
    pub cells: Vec<FixedBitSet>,
    pub ends: Vec<End>,
    /// The probe's truth on the region: `Some(true)`, `Some(false)`, or
    /// `None` for unknown (or not evaluated).
    pub probe: Option<Option<bool>>,
}

/// What to explore.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query {
    /// Walk the rules (else stop after the rejects).
    pub rules: bool,
    /// Walk the `after` rules once a rule decided.
    pub afters: bool,
    /// Do not walk the rejects (a reject's own condition is probed over
    /// every request of the channel).
    pub skip_rejects: bool,
    /// Split further until each target's outcome tests (`if`, `match`)
    /// are decided: what a diff of routes and amounts needs.
    pub outcomes: bool,
    /// A condition of target `.0` to decide on every region; `.2`: it
    /// reads the decision so far (an `after` condition), so it is decided
    /// where the target's rule decided.
    pub probe: Option<(usize, NodeId, bool)>,
}

/// The regions, and the tests met whose truth the atoms do not fix (their
/// values were taken at the sample requests only).
pub struct Exploration {
    pub regions: Vec<Region>,
    pub sampled: BTreeSet<(usize, NodeId)>,
    /// The search stopped at [`MAX_REGIONS`].
    pub truncated: bool,
}

/// A bound on the regions of one exploration, so no policy can make the
/// analysis run away.
pub const MAX_REGIONS: usize = 200_000;

#[derive(Debug, Clone)]
enum Tri {
    T,
    F,
    U,
    Err(String),
    Need(VarId, Vec<FixedBitSet>),
}

#[derive(Debug, Clone)]
enum Cursor {
    Reject(usize),
    Rule(usize),
    After {
        rule: usize,
        at: usize,
    },
    Outcome {
        rule: usize,
        after: Option<usize>,
        at: usize,
    },
    Done(End),
}

struct Search<'s, 't> {
    space: &'s Space,
    targets: &'s [Target<'t>],
    query: Query,
    req: Request,
    cells: Vec<FixedBitSet>,
    /// Per target and test on one variable: the atoms where it is true,
    /// false, unknown, or fails.
    partitions: Vec<HashMap<NodeId, [FixedBitSet; 4]>>,
    out: Exploration,
}

pub fn explore(space: &Space, targets: &[Target<'_>], query: Query) -> Exploration {
    let cells: Vec<FixedBitSet> = space
        .vars
        .iter()
        .map(|v| {
            let mut b = FixedBitSet::with_capacity(v.atoms.len());
            b.insert_range(..);
            b
        })
        .collect();
    explore_within(space, targets, query, cells)
}

/// [`explore`] inside one box of the space (a region found before).
pub fn explore_within(
    space: &Space,
    targets: &[Target<'_>],
    query: Query,
    cells: Vec<FixedBitSet>,
) -> Exploration {
    let mut req = space.base.clone();
    for (v, cell) in cells.iter().enumerate() {
        if let Some(first) = cell.ones().next() {
            space.set(&mut req, v, first);
        }
    }
    let mut s = Search {
        space,
        targets,
        query,
        req,
        cells,
        partitions: vec![HashMap::new(); targets.len()],
        out: Exploration {
            regions: Vec::new(),
            sampled: BTreeSet::new(),
            truncated: false,
        },
    };
    let cursors = vec![Cursor::Reject(0); targets.len()];
    s.go(cursors, None);
    s.out
}

impl Search<'_, '_> {
    fn go(&mut self, mut cursors: Vec<Cursor>, mut probe: Option<Option<bool>>) {
        if self.out.regions.len() >= MAX_REGIONS {
            self.out.truncated = true;
            return;
        }
        for t in 0..cursors.len() {
            let Some(c) = cursors.get(t).cloned() else {
                continue;
            };
            match self.advance(t, c) {
                Ok(c) => {
                    if let Some(slot) = cursors.get_mut(t) {
                        *slot = c;
                    }
                }
                Err((c, var, parts)) => {
                    if let Some(slot) = cursors.get_mut(t) {
                        *slot = c;
                    }
                    return self.branch(cursors, probe, var, parts);
                }
            }
        }
        if probe.is_none()
            && let Some((t, node, after)) = self.query.probe
        {
            let decided = match cursors.get(t) {
                Some(Cursor::Done(End::Decided { rule, .. })) if after => Some(*rule),
                _ => None,
            };
            if !after || decided.is_some() {
                match self.tri(t, node, decided) {
                    Tri::Need(var, parts) => return self.branch(cursors, probe, var, parts),
                    Tri::T => probe = Some(Some(true)),
                    Tri::F => probe = Some(Some(false)),
                    Tri::U | Tri::Err(_) => probe = Some(None),
                }
            }
        }
        let ends = cursors
            .into_iter()
            .map(|c| match c {
                Cursor::Done(e) => e,
                _ => End::Open,
            })
            .collect();
        self.out.regions.push(Region {
            cells: self.cells.clone(),
            ends,
            probe,
        });
    }

    fn branch(
        &mut self,
        cursors: Vec<Cursor>,
        probe: Option<Option<bool>>,
        var: VarId,
        parts: Vec<FixedBitSet>,
    ) {
        let Some(saved) = self.cells.get(var).cloned() else {
            return;
        };
        for part in parts {
            let Some(first) = part.ones().next() else {
                continue;
            };
            self.space.set(&mut self.req, var, first);
            if let Some(cell) = self.cells.get_mut(var) {
                *cell = part;
            }
            self.go(cursors.clone(), probe);
        }
        if let Some(first) = saved.ones().next() {
            self.space.set(&mut self.req, var, first);
        }
        if let Some(cell) = self.cells.get_mut(var) {
            *cell = saved;
        }
    }

    /// Walks target `t` from `c` as far as the box decides; on a test it
    /// does not, the cursor there and how to split.
    fn advance(
        &mut self,
        t: usize,
        mut c: Cursor,
    ) -> Result<Cursor, (Cursor, VarId, Vec<FixedBitSet>)> {
        let Some(target) = self.targets.get(t) else {
            return Ok(Cursor::Done(End::Open));
        };
        let policy = target.policy;
        loop {
            c = match c {
                Cursor::Done(_) => return Ok(c),
                Cursor::Reject(_) if self.query.skip_rejects && !self.query.rules => {
                    Cursor::Done(End::Open)
                }
                Cursor::Reject(_) if self.query.skip_rejects => Cursor::Rule(0),
                Cursor::Reject(i) => match policy.rejects.get(i) {
                    None if self.query.rules => Cursor::Rule(0),
                    None => Cursor::Done(End::Open),
                    Some(r) => match self.when(t, r, None) {
                        Tri::T => Cursor::Done(End::Rejected(i)),
                        Tri::F | Tri::U => Cursor::Reject(i + 1),
                        Tri::Err(e) => Cursor::Done(End::Error(e)),
                        Tri::Need(v, p) => return Err((Cursor::Reject(i), v, p)),
                    },
                },
                Cursor::Rule(i) => match policy.rules.get(i) {
                    None => Cursor::Done(End::NoRule),
                    Some(r) => match self.when(t, r, None) {
                        Tri::T => Cursor::After { rule: i, at: 0 },
                        Tri::F | Tri::U => Cursor::Rule(i + 1),
                        Tri::Err(e) => Cursor::Done(End::Error(e)),
                        Tri::Need(v, p) => return Err((Cursor::Rule(i), v, p)),
                    },
                },
                Cursor::After { rule, at } => {
                    let verdict = policy.rules.get(rule).and_then(|r| r.verdict);
                    match policy.afters.get(at) {
                        _ if !self.query.afters => self.outcome_or_done(rule, None),
                        None => self.outcome_or_done(rule, None),
                        // A denial has no refund for a person to review.
                        Some(a)
                            if verdict == Some(Verdict::Deny)
                                && a.verdict == Some(Verdict::Review) =>
                        {
                            Cursor::After { rule, at: at + 1 }
                        }
                        Some(a) => match self.when(t, a, Some(rule)) {
                            Tri::T => self.outcome_or_done(rule, Some(at)),
                            Tri::F | Tri::U => Cursor::After { rule, at: at + 1 },
                            Tri::Err(e) => Cursor::Done(End::Error(e)),
                            Tri::Need(v, p) => return Err((Cursor::After { rule, at }, v, p)),
                        },
                    }
                }
                Cursor::Outcome { rule, after, at } => {
                    let tests = self.outcome_tests(t, rule, after);
                    match tests.get(at) {
                        None => Cursor::Done(End::Decided { rule, after }),
                        Some((node, false)) => match self.singletons(t, *node) {
                            Some((v, p)) => {
                                return Err((Cursor::Outcome { rule, after, at }, v, p));
                            }
                            None => Cursor::Outcome {
                                rule,
                                after,
                                at: at + 1,
                            },
                        },
                        Some((node, true)) => match self.tri(t, *node, Some(rule)) {
                            Tri::Need(v, p) => {
                                return Err((Cursor::Outcome { rule, after, at }, v, p));
                            }
                            _ => Cursor::Outcome {
                                rule,
                                after,
                                at: at + 1,
                            },
                        },
                    }
                }
            };
        }
    }

    fn outcome_or_done(&self, rule: usize, after: Option<usize>) -> Cursor {
        if self.query.outcomes {
            Cursor::Outcome { rule, after, at: 0 }
        } else {
            Cursor::Done(End::Decided { rule, after })
        }
    }

    /// The tests inside the outcome of a rule (and of the `after` rule
    /// that changed it): each `if` condition (`true`) and `match` value.
    fn outcome_tests(&self, t: usize, rule: usize, after: Option<usize>) -> Vec<(NodeId, bool)> {
        let Some(p) = self.targets.get(t).map(|t| t.policy) else {
            return Vec::new();
        };
        let rules = p
            .rules
            .get(rule)
            .into_iter()
            .chain(after.and_then(|a| p.afters.get(a)));
        let mut out = Vec::new();
        for r in rules {
            for (_, n) in &r.outcome {
                super::space::walk(p, *n, &mut |_, node| match node {
                    Node::If { cond, .. } => out.push((*cond, true)),
                    Node::Match { scrutinee, .. } => out.push((*scrutinee, false)),
                    _ => {}
                });
            }
        }
        out
    }

    fn when(&mut self, t: usize, r: &CompiledRule, decided: Option<usize>) -> Tri {
        match r.when {
            None => Tri::T,
            Some(w) => self.tri(t, w, decided),
        }
    }

    /// A condition's truth on the box, as `eval` computes it: an operand
    /// that fails fails the whole, `false and …` does not look further.
    fn tri(&mut self, t: usize, id: NodeId, decided: Option<usize>) -> Tri {
        let Some(p) = self.targets.get(t).map(|t| t.policy) else {
            return Tri::Err("rpl::eval::internal".into());
        };
        match p.node(id) {
            Some(Node::Named { body, .. }) => self.tri(t, *body, decided),
            Some(Node::Not(x)) => match self.tri(t, *x, decided) {
                Tri::T => Tri::F,
                Tri::F => Tri::T,
                other => other,
            },
            Some(Node::And(a, b)) => match self.tri(t, *a, decided) {
                Tri::F => Tri::F,
                x @ (Tri::T | Tri::U) => match self.tri(t, *b, decided) {
                    Tri::T if matches!(x, Tri::T) => Tri::T,
                    Tri::T | Tri::U => Tri::U,
                    other => other,
                },
                other => other,
            },
            Some(Node::Or(a, b)) => match self.tri(t, *a, decided) {
                Tri::T => Tri::T,
                x @ (Tri::F | Tri::U) => match self.tri(t, *b, decided) {
                    Tri::F if matches!(x, Tri::F) => Tri::F,
                    Tri::F | Tri::U => Tri::U,
                    other => other,
                },
                other => other,
            },
            _ => self.leaf(t, id, decided),
        }
    }

    fn leaf(&mut self, t: usize, id: NodeId, decided: Option<usize>) -> Tri {
        let Some(deps) = self.space.deps(t, id).cloned() else {
            return Tri::Err("rpl::eval::internal".into());
        };
        if !self.space.exact(t, id) {
            self.out.sampled.insert((t, id));
        }
        let mut vars = deps.vars.clone();
        let refund_node = decided.and_then(|r| self.refund_node(t, r));
        if deps.refund
            && let Some(n) = refund_node
            && let Some(rd) = self.space.deps(t, n)
        {
            for v in &rd.vars {
                if !vars.contains(v) {
                    vars.push(*v);
                }
            }
        }
        if let [v] = vars.as_slice()
            && !deps.refund
            && !deps.decided
            && !deps.unmodelled
        {
            let v = *v;
            let classes = self.partition(t, id, v);
            let Some(cell) = self.cells.get(v) else {
                return Tri::Err("rpl::eval::internal".into());
            };
            let parts: Vec<(usize, FixedBitSet)> = classes
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let mut x = cell.clone();
                    x.intersect_with(c);
                    (k, x)
                })
                .filter(|(_, x)| !x.is_clear())
                .collect();
            return match parts.as_slice() {
                [(0, _)] => Tri::F,
                [(1, _)] => Tri::T,
                [(2, _)] => Tri::U,
                [(_, _)] => self.eval(t, id, decided),
                _ => Tri::Need(v, parts.into_iter().map(|(_, x)| x).collect()),
            };
        }
        match self.split_one(&vars) {
            Some((v, parts)) => Tri::Need(v, parts),
            None => self.eval(t, id, decided),
        }
    }

    /// How to split the box until the variables a value reads are single
    /// atoms (`None` once they are).
    fn singletons(&self, t: usize, id: NodeId) -> Option<(VarId, Vec<FixedBitSet>)> {
        let deps = self.space.deps(t, id)?;
        self.split_one(&deps.vars)
    }

    fn split_one(&self, vars: &[VarId]) -> Option<(VarId, Vec<FixedBitSet>)> {
        for v in vars {
            if let Some(cell) = self.cells.get(*v)
                && cell.count_ones(..) > 1
            {
                let parts = cell
                    .ones()
                    .map(|a| {
                        let mut one = FixedBitSet::with_capacity(cell.len());
                        one.insert(a);
                        one
                    })
                    .collect();
                return Some((*v, parts));
            }
        }
        None
    }

    fn refund_node(&self, t: usize, rule: usize) -> Option<NodeId> {
        let r = self.targets.get(t)?.policy.rules.get(rule)?;
        r.outcome
            .iter()
            .find(|(f, _)| *f == OutField::Refund)
            .map(|(_, n)| *n)
    }

    /// Evaluates a node on the sample request, as deciding would.
    fn eval(&mut self, t: usize, id: NodeId, decided: Option<usize>) -> Tri {
        let Some(target) = self.targets.get(t) else {
            return Tri::Err("rpl::eval::internal".into());
        };
        let context = match decided {
            None => None,
            Some(rule) => {
                let verdict = target
                    .policy
                    .rules
                    .get(rule)
                    .and_then(|r| r.verdict)
                    .unwrap_or(Verdict::Deny);
                let refund = match (verdict, self.refund_node(t, rule)) {
                    (Verdict::Deny, _) | (_, None) => Value::Absent,
                    (_, Some(n)) => {
                        match node_value(target.compiled, target.policy, &self.req, None, n) {
                            Ok(v) => v,
                            Err(e) => return Tri::Err(code_of(&e)),
                        }
                    }
                };
                Some((verdict, refund, rule as u32))
            }
        };
        match node_value(target.compiled, target.policy, &self.req, context, id) {
            Ok(Value::Bool(true)) => Tri::T,
            Ok(Value::Bool(false)) => Tri::F,
            Ok(_) => Tri::U,
            Err(e) => Tri::Err(code_of(&e)),
        }
    }

    /// The atoms of `v` where a test on `v` alone is false, true, unknown
    /// or fails; computed once per test.
    fn partition(&mut self, t: usize, id: NodeId, v: VarId) -> [FixedBitSet; 4] {
        if let Some(p) = self.partitions.get(t).and_then(|m| m.get(&id)) {
            return p.clone();
        }
        let n = self.space.var(v).map_or(0, |v| v.atoms.len());
        let mut classes: [FixedBitSet; 4] = std::array::from_fn(|_| FixedBitSet::with_capacity(n));
        for a in 0..n {
            self.space.set(&mut self.req, v, a);
            let k = match self.eval(t, id, None) {
                Tri::F => 0,
                Tri::T => 1,
                Tri::U => 2,
                _ => 3,
            };
            if let Some(c) = classes.get_mut(k) {
                c.insert(a);
            }
        }
        if let Some(first) = self.cells.get(v).and_then(|c| c.ones().next()) {
            self.space.set(&mut self.req, v, first);
        }
        if let Some(m) = self.partitions.get_mut(t) {
            m.insert(id, classes.clone());
        }
        classes
    }
}

fn code_of(e: &crate::eval::EvalError) -> String {
    use miette::Diagnostic as _;
    e.code().map(|c| c.to_string()).unwrap_or_default()
}
