//! Turning what the evaluator tested into the trace people read: where
//! each test is written, the request values it read, and its result.

use super::expr::{Evaluator, Tested};
use std::fmt::Write as _;

use super::output::{ConditionTrace, FieldValue, RuleTrace, round_cents};
use crate::check::hir::Builtin;
use crate::compile::{Compiled, CompiledPolicy, CompiledRule, Node, NodeId};
use crate::schema::{EnumType, FieldId, FieldType};
use crate::value::Value;
use crate::vocab::RuleKind;

pub fn rule_trace<const W: bool>(
    compiled: &Compiled,
    ev: &Evaluator<'_, W>,
    rule: &CompiledRule,
    tested: &[Tested],
    matched: bool,
) -> RuleTrace {
    RuleTrace {
        kind: match rule.kind {
            RuleKind::Rule => "rule",
            RuleKind::Reject => "reject",
            RuleKind::After => "after",
        },
        name: rule.name.clone(),
        label: rule.label.clone(),
        location: compiled.location(rule.name_span),
        matched,
        conditions: tested.iter().map(|t| condition(compiled, ev, t)).collect(),
    }
}

fn condition<const W: bool>(
    compiled: &Compiled,
    ev: &Evaluator<'_, W>,
    t: &Tested,
) -> ConditionTrace {
    let span = ev.policy.span(t.node);
    let mut fields = Vec::new();
    collect_fields(ev, t.node, &mut fields);
    let mut values: Vec<FieldValue> = fields
        .iter()
        .map(|f| FieldValue {
            field: compiled.schema.field(*f).path.clone(),
            value: show_field(compiled, ev, *f),
        })
        .collect();
    let mut builtins = Vec::new();
    collect_builtins(ev, t.node, &mut builtins);
    for b in builtins {
        if let Some(d) = &ev.decided {
            let (name, value) = match b {
                Builtin::Decision => ("decision", d.verdict.as_str().to_string()),
                Builtin::Refund => ("refund", show(ev.policy, &d.refund, None)),
                Builtin::DecidedBy => (
                    "decided_by",
                    ev.policy
                        .rule_names
                        .get(d.rule as usize)
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                ),
            };
            values.push(FieldValue {
                field: name.to_string(),
                value,
            });
        }
    }
    // The named constants it was written with, with their values as the
    // policy writes them: a reader sees the threshold beside the amount.
    let mut stack = vec![t.node];
    while let Some(id) = stack.pop() {
        for (name, value) in ev.policy.constants.get(&id).into_iter().flatten() {
            if !values.iter().any(|v| v.field == **name) {
                values.push(FieldValue {
                    field: name.to_string(),
                    value: value.to_string(),
                });
            }
        }
        if let Some(node) = ev.policy.node(id) {
            stack.extend(node.children().into_iter().rev());
        }
    }
    let mut note = None;
    if let Some(end) = t.window_end {
        values.push(FieldValue {
            field: "window ends".into(),
            value: end.to_string(),
        });
        // The window itself was false (under a `not`, the test was true).
        if t.result == Value::Bool(t.negated)
            && let Some(Node::Within { value, .. }) = ev.policy.node(t.node)
            && let Some(f) = ev.first_field(*value)
            && let Ok(asked) = ev.local_day(ev.request.get(f))
        {
            note = Some(format!(
                "{} {asked}, window ended {end}",
                compiled.schema.field(f).path
            ));
        }
    }
    ConditionTrace {
        location: compiled.location(span),
        condition: {
            let written = compiled
                .sources
                .slice(span)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if t.negated {
                format!("not ({written})")
            } else {
                written
            }
        },
        values,
        result: match t.result {
            Value::Bool(b) => Some(b),
            _ => None,
        },
        note,
    }
}

fn collect_fields<const W: bool>(ev: &Evaluator<'_, W>, id: NodeId, out: &mut Vec<FieldId>) {
    let Some(node) = ev.policy.node(id) else {
        return;
    };
    match node {
        Node::Field(f) | Node::Is { field: f, .. } if !out.contains(f) => out.push(*f),
        _ => {}
    }
    for c in node.children() {
        collect_fields(ev, c, out);
    }
}

fn collect_builtins<const W: bool>(ev: &Evaluator<'_, W>, id: NodeId, out: &mut Vec<Builtin>) {
    let Some(node) = ev.policy.node(id) else {
        return;
    };
    if let Node::Builtin(b) = node
        && !out.contains(b)
    {
        out.push(*b);
    }
    for c in node.children() {
        collect_builtins(ev, c, out);
    }
}

fn show_field<const W: bool>(compiled: &Compiled, ev: &Evaluator<'_, W>, f: FieldId) -> String {
    let enums = match &compiled.schema.field(f).ty {
        FieldType::Enum(e) => Some(&**e),
        _ => None,
    };
    show(ev.policy, ev.request.get(f), enums)
}

/// A value as a person reads it: enum names, local times with their
/// offset, money with its currency.
pub fn show(policy: &CompiledPolicy, v: &Value, enums: Option<&EnumType>) -> String {
    let mut out = String::new();
    write_shown(&mut out, policy, v, enums);
    out
}

/// [`show`], written at the end of `out`.
pub fn write_shown(out: &mut String, policy: &CompiledPolicy, v: &Value, enums: Option<&EnumType>) {
    // Writing to a String cannot fail.
    let _ = match v {
        Value::Absent => write!(out, "absent"),
        Value::Bool(b) => write!(out, "{b}"),
        Value::Int(i) => write!(out, "{i}"),
        Value::Decimal(d) => write!(out, "{d}"),
        Value::Money(m) => write!(out, "{:.2} {}", round_cents(*m), policy.currency),
        Value::Str(s) => write!(out, "{s:?}"),
        Value::Enum(i) => match enums {
            Some(e) => write!(out, "{}", e.variant(*i)),
            None => write!(out, "{i}"),
        },
        Value::Timestamp(t) => {
            let offset = policy.timezone.to_offset(*t);
            write!(out, "{}", t.display_with_offset(offset))
        }
        Value::Date(d) => write!(out, "{d}"),
        Value::Range(a, b) => write!(out, "{a} .. {b}"),
        Value::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                write_shown(out, policy, item, enums);
            }
            write!(out, "]")
        }
    };
}
