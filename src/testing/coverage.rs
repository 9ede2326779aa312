//! What a test suite exercised of each policy, and what it missed.
//!
//! The items counted, per policy (its own compiled copy: a group used by
//! three policies is measured three times):
//! - every rule: applied at least once, and, when it has a condition, that
//!   condition false at least once;
//! - every operand of every `and` and `or` (a chain `a or b or c` counts
//!   `a`, `b` and `c`): true at least once and false at least once;
//! - every arm of every `if` and `match`: taken at least once.
//!
//! An item no test reaches is a gap: a rule whose outcome nothing checks,
//! a condition whose removal no test would notice.
//!
//! An arm that only values a `reject` rule turns away would take is not
//! counted: no request reaches it (`cash => store_counter` in a policy
//! that rejects cash). The rejects read are exact: a test of an enum field
//! against values (`payment.method == cash`, `x in [a, b]`), or several
//! joined by `or`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::compile::{Compiled, CompiledPolicy, CompiledRule, Node, NodeId};
use crate::eval::coverage::{Hits, PolicyHits};
use crate::schema::FieldId;

/// Coverage of every policy of a directory.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Coverage {
    pub policies: Vec<PolicyCoverage>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PolicyCoverage {
    pub policy: Arc<str>,
    pub items: usize,
    pub covered: usize,
    pub gaps: Vec<Gap>,
}

/// One item no test exercised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Gap {
    /// `file:line:column` of the rule, operand or arm.
    pub location: String,
    /// The rule or outcome field it belongs to: `rule fault_return`,
    /// `outcome route`.
    pub context: String,
    #[serde(rename = "kind")]
    pub missed: Missed,
    /// The source text of the operand or arm (clipped); the rule's name for
    /// a rule.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    NeverApplied,
    NeverFalse,
    NeverTrue,
    NeverTaken,
}

impl Missed {
    pub fn describe(self) -> &'static str {
        match self {
            Missed::NeverApplied => "never applied",
            Missed::NeverFalse => "never false",
            Missed::NeverTrue => "never true",
            Missed::NeverTaken => "never taken",
        }
    }
}

impl Coverage {
    pub fn items(&self) -> usize {
        self.policies.iter().map(|p| p.items).sum()
    }

    pub fn covered(&self) -> usize {
        self.policies.iter().map(|p| p.covered).sum()
    }

    /// Covered items as a percentage; 100 when there is nothing to cover.
    pub fn percent(&self) -> f64 {
        percent(self.covered(), self.items())
    }
}

impl PolicyCoverage {
    pub fn percent(&self) -> f64 {
        percent(self.covered, self.items)
    }
}

// A float only for display and the `--min-coverage` gate: counts are exact.
#[allow(clippy::cast_precision_loss)]
fn percent(covered: usize, items: usize) -> f64 {
    if items == 0 {
        100.0
    } else {
        covered as f64 * 100.0 / items as f64
    }
}

/// What `hits` (summed over a suite's cases) covered of `compiled`.
pub fn measure(compiled: &Compiled, hits: &Hits) -> Coverage {
    let empty = PolicyHits::default();
    Coverage {
        policies: compiled
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| Walk::new(compiled, p, hits.policy(i).unwrap_or(&empty)).policy())
            .collect(),
    }
}

struct Walk<'a> {
    compiled: &'a Compiled,
    policy: &'a CompiledPolicy,
    hits: &'a PolicyHits,
    seen: HashSet<NodeId>,
    /// Per enum field, the values a reject turns away (a bit per value).
    rejected: HashMap<FieldId, u128>,
    items: usize,
    covered: usize,
    gaps: Vec<Gap>,
}

impl<'a> Walk<'a> {
    fn new(compiled: &'a Compiled, policy: &'a CompiledPolicy, hits: &'a PolicyHits) -> Walk<'a> {
        Walk {
            compiled,
            policy,
            hits,
            seen: HashSet::new(),
            rejected: HashMap::new(),
            items: 0,
            covered: 0,
            gaps: Vec::new(),
        }
    }

    fn policy(mut self) -> PolicyCoverage {
        let p = self.policy;
        // Rejects are tried in order: what a reject sees is what the
        // rejects before it let through; the rules see what all let through.
        for (index, rule) in p.rejects.iter().enumerate() {
            self.rule(index, rule);
            if let Some(when) = rule.when {
                for (field, set) in super::enum_tests(p, when) {
                    *self.rejected.entry(field).or_insert(0) |= set;
                }
            }
        }
        let rules = p.rules.iter().chain(&p.afters);
        for (index, rule) in rules.enumerate() {
            self.rule(p.rejects.len() + index, rule);
        }
        PolicyCoverage {
            policy: Arc::clone(&p.name),
            items: self.items,
            covered: self.covered,
            gaps: self.gaps,
        }
    }

    fn rule(&mut self, index: usize, rule: &CompiledRule) {
        let context = format!("{} {}", rule.kind.keyword(), rule.name);
        let applied = self.hits.applied(index);
        self.item(
            applied,
            Missed::NeverApplied,
            rule.name_span,
            &context,
            Some(&rule.name),
        );
        if let Some(when) = rule.when {
            let never_false = self.hits.was_false(when);
            self.item(
                never_false,
                Missed::NeverFalse,
                self.policy.span(when),
                &context,
                None,
            );
            self.walk(when, &context);
        }
        for (field, node) in &rule.outcome {
            self.walk(*node, &format!("outcome {}", field.name()));
        }
    }

    fn item(
        &mut self,
        covered: bool,
        missed: Missed,
        span: crate::source::Span,
        context: &str,
        text: Option<&str>,
    ) {
        self.items += 1;
        if covered {
            self.covered += 1;
            return;
        }
        let text = text.map_or_else(
            || {
                let written = self.compiled.sources.slice(span);
                shorten(&written.split_whitespace().collect::<Vec<_>>().join(" "))
            },
            str::to_owned,
        );
        self.gaps.push(Gap {
            location: self.compiled.location(span),
            context: context.to_owned(),
            missed,
            text,
        });
    }

    /// Counts the operands and arms under `id`, once per node: the
    /// defaults every rule shares are one set of nodes.
    fn walk(&mut self, id: NodeId, context: &str) {
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            if !self.seen.insert(id) {
                continue;
            }
            let Some(node) = self.policy.node(id) else {
                continue;
            };
            match node {
                Node::And(..) | Node::Or(..) => {
                    let operands = self.chain(id, node);
                    for &operand in &operands {
                        let span = self.policy.span(operand);
                        self.item(
                            self.hits.was_true(operand),
                            Missed::NeverTrue,
                            span,
                            context,
                            None,
                        );
                        self.item(
                            self.hits.was_false(operand),
                            Missed::NeverFalse,
                            span,
                            context,
                            None,
                        );
                    }
                    stack.extend(operands.into_iter().rev());
                    continue;
                }
                Node::If { cond, then, els } => {
                    // `if x == rejected then A else B`: only B is reachable.
                    let cond_rejected = self.all_rejected(*cond);
                    if !cond_rejected {
                        self.arm(*then, context);
                    }
                    self.arm(*els, context);
                }
                Node::Match { scrutinee, arms } => {
                    let rejected = match self.policy.node(*scrutinee) {
                        Some(Node::Field(f)) => self.rejected.get(f).copied().unwrap_or(0),
                        _ => 0,
                    };
                    // Arms covering several values are one node; an arm
                    // counts if a value that reaches the rules takes it.
                    let mut distinct: Vec<NodeId> = Vec::new();
                    for (value, arm) in arms.iter().enumerate() {
                        let turned_away = value < 128 && rejected & (1u128 << value) != 0;
                        if !turned_away && !distinct.contains(arm) {
                            distinct.push(*arm);
                        }
                    }
                    for arm in distinct {
                        self.arm(arm, context);
                    }
                }
                _ => {}
            }
            // Children in reverse, so they are visited in source order.
            stack.extend(node.children().into_iter().rev());
        }
    }

    /// An arm of an `if` or `match`: taken at least once.
    fn arm(&mut self, arm: NodeId, context: &str) {
        let span = self.policy.span(arm);
        self.item(
            self.hits.evaluated(arm),
            Missed::NeverTaken,
            span,
            context,
            None,
        );
    }

    /// Whether a condition holds only for values a reject turns away.
    fn all_rejected(&self, cond: NodeId) -> bool {
        let tests = super::enum_tests(self.policy, cond);
        !tests.is_empty()
            && tests
                .iter()
                .all(|(f, set)| self.rejected.get(f).is_some_and(|r| set & !r == 0))
    }

    /// The operands of a chain of one operator (`a or b or c`), in order;
    /// the inner links of the chain are marked seen.
    fn chain(&mut self, id: NodeId, node: &Node) -> Vec<NodeId> {
        let same = |n: &Node| {
            matches!(
                (node, n),
                (Node::And(..), Node::And(..)) | (Node::Or(..), Node::Or(..))
            )
        };
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(at) = stack.pop() {
            match self.policy.node(at) {
                Some(n @ (Node::And(a, b) | Node::Or(a, b))) if same(n) => {
                    self.seen.insert(at);
                    stack.push(*b);
                    stack.push(*a);
                }
                _ => out.push(at),
            }
        }
        out
    }
}

/// Source text as a gap quotes it: at most 60 characters.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_owned(),
    }
}
