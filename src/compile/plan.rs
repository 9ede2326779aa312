//! A rule's outcome fields as deciding reads them when nothing is watched:
//! the common shapes (`none`, a fixed variant, a field as it is, a `match`
//! on an enum field whose arms are variants) read out of the arena, so that
//! deciding looks a value up instead of walking nodes. Any other
//! expression is its node, evaluated as usual; so is a value a plan does
//! not read (a kind the checker rules out), so that deciding through a
//! plan gives what deciding through the arena gives, errors included.

use super::{Node, NodeId};
use crate::check::hir::OutField;
use crate::schema::FieldId;
use crate::value::Value;

/// One outcome field of a rule: its expression's node and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub field: OutField,
    pub node: NodeId,
    pub plan: Plan,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// `none`.
    None,
    /// A variant of the field's enum, fixed in the policy.
    Place(u32),
    /// A request field, as it is.
    Field(FieldId),
    /// `match` on an enum field whose arms are variants or `none`: the
    /// place of each of the field's values' arm.
    Pick {
        field: FieldId,
        places: Box<[Option<u32>]>,
    },
    /// Any other expression: the node, evaluated.
    Node,
}

impl Planned {
    /// Whether the plan reads the outcome without the arena: an amount
    /// from a field, a word fixed, from a field or picked by one, no
    /// settlement. Lists and messages are nodes.
    pub fn is_plain(&self) -> bool {
        match self.field {
            OutField::Refund => matches!(self.plan, Plan::None | Plan::Field(_)),
            OutField::Route | OutField::Installments | OutField::ReturnShipping => {
                self.plan != Plan::Node
            }
            OutField::Settlement => self.plan == Plan::None,
            OutField::Documents | OutField::Offers | OutField::Message => false,
        }
    }

    /// The plan of outcome `field`, whose expression is `node` among `nodes`.
    pub fn of(nodes: &[Node], field: OutField, node: NodeId) -> Planned {
        let at = |id: NodeId| nodes.get(id.0 as usize);
        let place = |id: &NodeId| match at(*id) {
            Some(Node::Const(Value::Enum(i))) => Some(Some(*i)),
            Some(Node::Const(Value::Absent)) => Some(None),
            _ => None,
        };
        let plan = match at(node) {
            Some(Node::Const(Value::Absent)) => Plan::None,
            Some(Node::Const(Value::Enum(i))) => Plan::Place(*i),
            Some(Node::Field(f)) => Plan::Field(*f),
            Some(Node::Match { scrutinee, arms }) => match (
                at(*scrutinee),
                arms.iter().map(place).collect::<Option<Box<[_]>>>(),
            ) {
                (Some(Node::Field(f)), Some(places)) => Plan::Pick { field: *f, places },
                _ => Plan::Node,
            },
            _ => Plan::Node,
        };
        Planned { field, node, plan }
    }
}
