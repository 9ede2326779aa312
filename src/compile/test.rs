//! A rule's condition as deciding reads it when nothing is watched: `and`
//! and `or` chains flattened into lists, names looked through, and the
//! common tests (a field against a constant, an enum field in a set, a
//! flag, a presence test) with their field and constant read out of the
//! arena. Any other test stays a node of the arena, evaluated as usual.
//!
//! Deciding through a [`Test`] gives what deciding through the arena gives,
//! the same errors included: it runs the same primitives on the same
//! values in the same order, and three-valued `and` and `or` are the same
//! folded left to right as nested (tests compare the two on generated
//! requests).

use super::{Cmp, Node, NodeId};
use crate::schema::FieldId;
use crate::value::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Every test, left to right, as `and` reads them.
    All(Box<[Test]>),
    /// Every test, left to right, as `or` reads them.
    Any(Box<[Test]>),
    Not(Box<Test>),
    /// A field read as a condition.
    Flag(FieldId),
    Is {
        field: FieldId,
        present: bool,
    },
    InSet {
        field: FieldId,
        set: u128,
        negated: bool,
    },
    /// `field op constant`, or `constant op field` when not `field_first`.
    Cmp {
        op: Cmp,
        field: FieldId,
        constant: Value,
        field_first: bool,
    },
    /// Any other test: the node, evaluated as the arena is.
    Node(NodeId),
}

impl Test {
    /// The test of the condition at `id` among `nodes`.
    pub fn of(nodes: &[Node], id: NodeId) -> Test {
        let node = |id: NodeId| nodes.get(id.0 as usize);
        match node(id) {
            Some(Node::Named { body, .. }) => Test::of(nodes, *body),
            Some(Node::And(..)) => {
                let mut all = Vec::new();
                chain(nodes, id, true, &mut all);
                Test::All(all.into())
            }
            Some(Node::Or(..)) => {
                let mut any = Vec::new();
                chain(nodes, id, false, &mut any);
                Test::Any(any.into())
            }
            Some(Node::Not(x)) => Test::Not(Box::new(Test::of(nodes, *x))),
            Some(Node::Field(f)) => Test::Flag(*f),
            Some(Node::Is { field, present }) => Test::Is {
                field: *field,
                present: *present,
            },
            Some(Node::InSet {
                value,
                set,
                negated,
            }) => match node(*value) {
                Some(Node::Field(field)) => Test::InSet {
                    field: *field,
                    set: *set,
                    negated: *negated,
                },
                _ => Test::Node(id),
            },
            Some(Node::Cmp(op, a, b)) => match (node(*a), node(*b)) {
                (Some(Node::Field(field)), Some(Node::Const(c))) => Test::Cmp {
                    op: *op,
                    field: *field,
                    constant: c.clone(),
                    field_first: true,
                },
                (Some(Node::Const(c)), Some(Node::Field(field))) => Test::Cmp {
                    op: *op,
                    field: *field,
                    constant: c.clone(),
                    field_first: false,
                },
                _ => Test::Node(id),
            },
            _ => Test::Node(id),
        }
    }
}

/// The operands of a chain of `and`s (`all`) or `or`s, in order, through
/// names.
fn chain(nodes: &[Node], id: NodeId, all: bool, out: &mut Vec<Test>) {
    match nodes.get(id.0 as usize) {
        Some(Node::And(a, b)) if all => {
            chain(nodes, *a, all, out);
            chain(nodes, *b, all, out);
        }
        Some(Node::Or(a, b)) if !all => {
            chain(nodes, *a, all, out);
            chain(nodes, *b, all, out);
        }
        Some(Node::Named { body, .. }) => chain(nodes, *body, all, out),
        _ => out.push(Test::of(nodes, id)),
    }
}
