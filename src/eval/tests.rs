//! Where a guarantee of the checker or the compiler breaks, the evaluator
//! refuses with `rpl::eval::internal` instead of a plausible answer. No
//! checked policy reaches these, so each test breaks a compiled policy by
//! hand, the one way such a bug would show.

use rust_decimal::Decimal;

use super::evaluate;
use crate::compile::{Arith, Cmp, Compiled, Node, NodeId};
use crate::request::Request;
use crate::value::Value;

const POLICY: &str = r#"
policy official_mall {
    channel = official_mall
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"

    rule first "the first rule" {
        when not item.activated
        approve {
            refund = item.paid_amount
            route = match payment.method { cash => store_counter, _ => alipay }
            settlement = requested_at .. requested_at + 3 working days
        }
    }
    rule otherwise { deny }
}
"#;

fn compiled() -> Compiled {
    crate::compile::compile(&crate::check::checked_in_memory(POLICY)).unwrap()
}

fn request(c: &Compiled) -> Request {
    let text = include_str!("../../tests/fixtures/requests/example.json");
    c.schema.decode_json(text).unwrap()
}

/// Evaluates the example request after `breaking` the compiled policy;
/// the error code and message.
fn broken(breaking: impl FnOnce(&mut Compiled)) -> (String, String) {
    let mut c = compiled();
    let req = request(&c);
    assert!(
        evaluate(&c, &req, false).is_ok(),
        "the policy decides unbroken"
    );
    breaking(&mut c);
    let e = evaluate(&c, &req, true).unwrap_err().error;
    (e.code, e.message)
}

/// A new node in the first policy's arena.
fn push(c: &mut Compiled, node: Node) -> NodeId {
    let nodes = &mut c.policies[0].nodes;
    nodes.push(node);
    NodeId(u32::try_from(nodes.len() - 1).unwrap())
}

fn first_when(c: &mut Compiled) -> &mut Option<NodeId> {
    &mut c.policies[0].rules[0].when
}

fn outcome(c: &mut Compiled, field: &str) -> NodeId {
    let (_, id) = c.policies[0].rules[0]
        .outcome
        .iter()
        .find(|(f, _)| f.name() == field)
        .unwrap();
    *id
}

fn assert_internal((code, message): (String, String), about: &str) {
    assert_eq!(code, "rpl::eval::internal", "{message}");
    assert!(message.contains(about), "{message}");
}

#[test]
fn a_missing_node_is_internal_not_an_overflow() {
    assert_internal(
        broken(|c| *first_when(c) = Some(NodeId(9_999))),
        "node 9999 is missing",
    );
}

#[test]
fn a_value_of_the_wrong_kind_is_internal_not_unknown() {
    assert_internal(
        broken(|c| {
            let n = push(c, Node::Const(Value::Int(1)));
            let not = push(c, Node::Not(n));
            *first_when(c) = Some(not);
        }),
        "`not` met Int(1)",
    );
    assert_internal(
        broken(|c| {
            let a = push(c, Node::Const(Value::Int(1)));
            let b = push(c, Node::Const(Value::Str("x".into())));
            let cmp = push(c, Node::Cmp(Cmp::Eq, a, b));
            *first_when(c) = Some(cmp);
        }),
        "a comparison of Int(1) and Str",
    );
    assert_internal(
        broken(|c| {
            let a = push(c, Node::Const(Value::Bool(true)));
            let b = push(c, Node::Const(Value::Int(1)));
            let sum = push(c, Node::Arith(Arith::Add, a, b));
            let m = outcome(c, "refund");
            c.policies[0].nodes[m.0 as usize] = Node::Max(vec![sum]);
        }),
        "Add of Bool(true) and Int(1)",
    );
}

#[test]
fn an_overflow_is_still_an_overflow() {
    let (code, _) = broken(|c| {
        let a = push(c, Node::Const(Value::Money(Decimal::MAX)));
        let m = outcome(c, "refund");
        c.policies[0].nodes[m.0 as usize] = Node::Arith(Arith::Mul, a, a);
    });
    assert_eq!(code, "rpl::eval::overflow");
}

#[test]
fn a_condition_that_is_not_a_truth_is_internal_not_false() {
    assert_internal(
        broken(|c| {
            let n = push(c, Node::Const(Value::Int(1)));
            *first_when(c) = Some(n);
        }),
        "a condition met Int(1)",
    );
}

#[test]
fn a_match_without_the_arm_is_internal() {
    assert_internal(
        broken(|c| {
            let route = outcome(c, "route");
            if let Node::Match { arms, .. } = &mut c.policies[0].nodes[route.0 as usize] {
                arms.clear();
            }
        }),
        "`match` has no arm",
    );
}

#[test]
fn a_deciding_rule_without_a_verdict_is_internal_not_a_review() {
    assert_internal(
        broken(|c| c.policies[0].rules[0].verdict = None),
        "rule `first` decided without a verdict",
    );
}

#[test]
fn no_rule_deciding_is_internal() {
    assert_internal(
        broken(|c| {
            c.policies[0].rules.pop();
            let f = push(c, Node::Const(Value::Bool(false)));
            *first_when(c) = Some(f);
        }),
        "no rule of policy `official_mall` applied",
    );
}

#[test]
fn outcome_values_of_the_wrong_kind_are_internal() {
    for (field, value, about) in [
        ("refund", Value::Str("4999".into()), "`refund` came out as"),
        ("route", Value::Int(3), "`route` came out as"),
        ("route", Value::Enum(999), "`route` has no value 999"),
        ("settlement", Value::Int(1), "`settlement` came out as"),
    ] {
        let value = value.clone();
        assert_internal(
            broken(move |c| {
                let id = outcome(c, field);
                c.policies[0].nodes[id.0 as usize] = Node::Const(value);
            }),
            about,
        );
    }
}

/// A plain policy decided without the evaluator gives the evaluator's
/// error for a value it cannot read, not a guess.
#[test]
fn a_plain_policy_hands_a_value_of_the_wrong_kind_to_the_evaluator() {
    let plain = POLICY.replace(
        "settlement = requested_at .. requested_at + 3 working days",
        "settlement = none",
    );
    let c = crate::compile::compile(&crate::check::checked_in_memory(&plain)).unwrap();
    assert!(c.policies[0].plain);
    assert!(
        !compiled().policies[0].plain,
        "a window needs the evaluator"
    );
    let mut req = request(&c);
    assert_eq!(
        evaluate(&c, &req, false).unwrap().rule(),
        "first",
        "decided plainly"
    );
    let activated = c.schema.lookup("item.activated").unwrap();
    req.values[activated.0 as usize] = Value::Int(1);
    let e = evaluate(&c, &req, false).unwrap_err().error;
    assert_eq!(e, evaluate(&c, &req, true).unwrap_err().error);
    assert_internal((e.code, e.message), "`not` met Int(1)");
}
