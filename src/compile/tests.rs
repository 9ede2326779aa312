//! A checked program always compiles; where a guarantee of the checker
//! breaks, compiling refuses (`rpl::compile::internal`) instead of making
//! a node that answers something plausible.

use crate::check::hir::{Const, TExpr, TKind, Ty};
use crate::vocab::Unit;

const POLICY: &str = r#"
policy official_mall {
    channel = official_mall
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"

    rule first { when item.activated deny }
    rule otherwise { deny }
}
"#;

fn program() -> crate::check::hir::Program {
    crate::check::checked_in_memory(POLICY)
}

#[test]
fn a_checked_program_compiles() {
    assert!(super::compile(&program()).is_ok());
}

/// A duration standing alone was once compiled to "absent", which made
/// the rule silently never apply.
#[test]
fn a_duration_standing_alone_is_refused() {
    let mut program = program();
    let when = program.policies[0].rules[0].when.as_mut().unwrap();
    *when = TExpr {
        kind: TKind::Const(Const::Duration {
            count: 7,
            unit: Unit::Days,
        }),
        ty: Ty::Bool,
        span: when.span,
    };
    let e = super::compile(&program).unwrap_err();
    assert_eq!(
        miette::Diagnostic::code(&e).unwrap().to_string(),
        "rpl::compile::internal"
    );
    assert!(e.to_string().contains("a duration outside"), "{e}");
    // Where, as a person finds it.
    assert!(
        e.to_string().contains("(at memory/official_mall.rpl:8:23)"),
        "{e}"
    );
}

/// A condition's test flattens `and` and `or` chains through names, reads
/// the common tests' field and constant out of the arena, and leaves any
/// other test a node.
#[test]
fn a_condition_is_flattened_into_its_test() {
    const FLAT: &str = r#"
pred intact = item.condition in [unopened, opened_intact] and not item.activated

policy official_mall {
    channel = official_mall
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"

    const max_paid = 5000.00 CNY
    rule first {
        when reason == no_reason and intact and item.paid_amount <= max_paid
            and (5 < item.quantity or order.delivered_at is present or requested_at within 7 days after order.delivered_at)
        deny
    }
    rule otherwise { deny }
}
"#;
    use super::{Cmp, Leaf, Test};
    let compiled = super::compile(&crate::check::checked_in_memory(FLAT)).unwrap();
    let policy = &compiled.policies[0];
    let schema = &compiled.schema;
    let field = |path: &str| schema.lookup(path).unwrap();
    let Some(Test::All(all)) = &policy.rules[0].test else {
        panic!("{:?}", policy.rules[0].test);
    };
    let leaf = |t: &Test| match t {
        Test::Leaf(l) => l.clone(),
        t => panic!("not a leaf: {t:?}"),
    };
    // `==` a variant is a set of one.
    let crate::schema::FieldType::Enum(reason) = &schema.field(field("reason")).ty else {
        panic!("reason is an enum");
    };
    assert!(matches!(
        leaf(&all[0]),
        Leaf::InSet { field: f, set, negated: false, .. }
            if f == field("reason") && set == 1 << reason.index_of("no_reason").unwrap()
    ));
    assert!(
        matches!(leaf(&all[1]), Leaf::InSet { field: f, negated: false, .. } if f == field("item.condition"))
    );
    // `not` a flag is the flag negated.
    assert!(
        matches!(leaf(&all[2]), Leaf::Flag { field: f, negated: true, .. } if f == field("item.activated"))
    );
    assert!(matches!(
        leaf(&all[3]),
        Leaf::Money { op: Cmp::Le, field: f, amount, .. }
            if f == field("item.paid_amount") && amount == rust_decimal::Decimal::new(500000, 2)
    ));
    let Test::Any(any) = &all[4] else {
        panic!("{:?}", all[4]);
    };
    assert!(matches!(
        leaf(&any[0]),
        Leaf::Cmp {
            op: Cmp::Lt,
            field_first: false,
            ..
        }
    ));
    assert_eq!(
        leaf(&any[1]),
        Leaf::Is {
            field: field("order.delivered_at"),
            present: true
        }
    );
    assert!(matches!(leaf(&any[2]), Leaf::Node(_)));
    assert_eq!(all.len(), 5);
    assert_eq!(policy.rules[1].test, None);
}

/// The bit table of `Cmp::holds` is each operator's meaning.
#[test]
fn a_comparison_holds_for_the_orderings_it_names() {
    use super::Cmp;
    use std::cmp::Ordering::{self, *};
    let meaning = |op: Cmp, ord: Ordering| match op {
        Cmp::Eq => ord == Equal,
        Cmp::Ne => ord != Equal,
        Cmp::Lt => ord == Less,
        Cmp::Le => ord != Greater,
        Cmp::Gt => ord == Greater,
        Cmp::Ge => ord != Less,
    };
    for op in [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge] {
        for ord in [Less, Equal, Greater] {
            assert_eq!(op.holds(ord), meaning(op, ord), "{op:?} {ord:?}");
            // Swapping the operands swaps the ordering.
            assert_eq!(
                op.flipped().holds(ord.reverse()),
                op.holds(ord),
                "{op:?} {ord:?}"
            );
        }
    }
}
