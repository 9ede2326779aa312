//! What evaluations exercised: for every node of every policy, whether it
//! was evaluated and to which truth values, and for every rule whether it
//! applied. `testing::coverage` turns this into what a test suite missed.

use crate::compile::{Compiled, CompiledPolicy, NodeId};
use crate::value::Value;

const EVALUATED: u8 = 1;
const TRUE: u8 = 2;
const FALSE: u8 = 4;

/// Hits of every policy of one compiled directory, by policy index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits {
    policies: Vec<PolicyHits>,
}

/// One policy's hits: a flag byte per node, and per rule (rejects, then
/// rules, then afters, each in order) whether it applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyHits {
    nodes: Vec<u8>,
    applied: Vec<bool>,
}

impl Hits {
    pub fn new(compiled: &Compiled) -> Hits {
        Hits {
            policies: compiled.policies.iter().map(PolicyHits::new).collect(),
        }
    }

    pub fn policy(&self, index: usize) -> Option<&PolicyHits> {
        self.policies.get(index)
    }

    pub(super) fn policy_mut(&mut self, index: usize) -> Option<&mut PolicyHits> {
        self.policies.get_mut(index)
    }

    /// Adds what `other` (of the same compiled policies) exercised.
    pub fn merge(&mut self, other: &Hits) {
        for (a, b) in self.policies.iter_mut().zip(&other.policies) {
            for (x, y) in a.nodes.iter_mut().zip(&b.nodes) {
                *x |= *y;
            }
            for (x, y) in a.applied.iter_mut().zip(&b.applied) {
                *x |= *y;
            }
        }
    }
}

impl PolicyHits {
    fn new(p: &CompiledPolicy) -> PolicyHits {
        PolicyHits {
            nodes: vec![0; p.nodes.len()],
            applied: vec![false; p.rejects.len() + p.rules.len() + p.afters.len()],
        }
    }

    pub(super) fn record(&mut self, id: NodeId, v: &Value) {
        if let Some(flags) = self.nodes.get_mut(id.0 as usize) {
            *flags |= EVALUATED
                | match v {
                    Value::Bool(true) => TRUE,
                    Value::Bool(false) => FALSE,
                    _ => 0,
                };
        }
    }

    pub(super) fn record_applied(&mut self, rule: usize) {
        if let Some(a) = self.applied.get_mut(rule) {
            *a = true;
        }
    }

    pub fn evaluated(&self, id: NodeId) -> bool {
        self.flags(id) & EVALUATED != 0
    }

    pub fn was_true(&self, id: NodeId) -> bool {
        self.flags(id) & TRUE != 0
    }

    pub fn was_false(&self, id: NodeId) -> bool {
        self.flags(id) & FALSE != 0
    }

    /// Whether the rule at `index` (rejects, then rules, then afters)
    /// applied.
    pub fn applied(&self, index: usize) -> bool {
        self.applied.get(index).copied().unwrap_or(false)
    }

    fn flags(&self, id: NodeId) -> u8 {
        self.nodes.get(id.0 as usize).copied().unwrap_or(0)
    }
}
