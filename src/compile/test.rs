//! A rule's condition as deciding reads it when nothing is watched: `and`
//! and `or` chains flattened into lists, names looked through, and the
//! common tests (a field against a constant, an enum field in a set or
//! equal to a variant, a flag or its negation, a presence test) with their
//! field and constant read out of the arena. Any other test stays a node
//! of the arena, evaluated as usual. A test read out of the arena keeps
//! its node for the values its fast path does not read (a value of a kind
//! the checker rules out), so that even a broken guarantee is reported as
//! the arena reports it.
//!
//! Deciding through a [`Test`] gives what deciding through the arena gives,
//! the same errors included: it runs the same primitives on the same
//! values in the same order, and three-valued `and` and `or` are the same
//! folded left to right as nested (tests compare the two on generated
//! requests).

use rust_decimal::Decimal;

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
    Leaf(Leaf),
}

/// A test of one field, or a node: kept apart from the chains so that
/// deciding reads a chain's leaves in its own loop, without a call each.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    /// A field read as a condition, or its negation.
    Flag {
        field: FieldId,
        negated: bool,
        node: NodeId,
    },
    Is {
        field: FieldId,
        present: bool,
    },
    /// An enum field in a set of variants (`==` and `!=` a variant too).
    InSet {
        field: FieldId,
        set: u128,
        negated: bool,
        node: NodeId,
    },
    /// `field op amount`, the amount a money constant: compared without
    /// going through [`Value`].
    Money {
        op: Cmp,
        field: FieldId,
        amount: Decimal,
        node: NodeId,
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
    /// Whether every leaf compares one field with constants (a flag, a
    /// presence test, a set of variants, an amount): read without the
    /// arena.
    pub fn is_plain(&self) -> bool {
        match self {
            Test::All(tests) | Test::Any(tests) => tests.iter().all(Test::is_plain),
            Test::Not(x) => x.is_plain(),
            Test::Leaf(leaf) => !matches!(leaf, Leaf::Cmp { .. } | Leaf::Node(_)),
        }
    }

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
            Some(Node::Not(x)) => match Test::of(nodes, *x) {
                Test::Leaf(Leaf::Flag { field, negated, .. }) => Test::Leaf(Leaf::Flag {
                    field,
                    negated: !negated,
                    node: id,
                }),
                x => Test::Not(Box::new(x)),
            },
            _ => Test::Leaf(Leaf::of(nodes, id)),
        }
    }
}

impl Leaf {
    /// The leaf test of the condition at `id` among `nodes`.
    fn of(nodes: &[Node], id: NodeId) -> Leaf {
        let node = |id: NodeId| nodes.get(id.0 as usize);
        match node(id) {
            Some(Node::Field(field)) => Leaf::Flag {
                field: *field,
                negated: false,
                node: id,
            },
            Some(Node::Is { field, present }) => Leaf::Is {
                field: *field,
                present: *present,
            },
            Some(Node::InSet {
                value,
                set,
                negated,
            }) => match node(*value) {
                Some(Node::Field(field)) => Leaf::InSet {
                    field: *field,
                    set: *set,
                    negated: *negated,
                    node: id,
                },
                _ => Leaf::Node(id),
            },
            Some(Node::Cmp(op, a, b)) => match (node(*a), node(*b)) {
                (Some(Node::Field(field)), Some(Node::Const(c))) => {
                    Leaf::compared(*op, *field, c, true, id)
                }
                (Some(Node::Const(c)), Some(Node::Field(field))) => {
                    Leaf::compared(*op, *field, c, false, id)
                }
                _ => Leaf::Node(id),
            },
            _ => Leaf::Node(id),
        }
    }

    /// `field op constant`, or `constant op field` when not `field_first`.
    fn compared(
        op: Cmp,
        field: FieldId,
        constant: &Value,
        field_first: bool,
        node: NodeId,
    ) -> Leaf {
        match (op, constant) {
            (Cmp::Eq | Cmp::Ne, Value::Enum(i)) if *i < 128 => Leaf::InSet {
                field,
                set: 1 << i,
                negated: op == Cmp::Ne,
                node,
            },
            (_, Value::Money(amount)) => Leaf::Money {
                // `amount < field` is `field > amount`.
                op: if field_first { op } else { op.flipped() },
                field,
                amount: *amount,
                node,
            },
            _ => Leaf::Cmp {
                op,
                field,
                constant: constant.clone(),
                field_first,
            },
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
