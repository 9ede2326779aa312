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
    use super::{Cmp, Test};
    let compiled = super::compile(&crate::check::checked_in_memory(FLAT)).unwrap();
    let policy = &compiled.policies[0];
    let schema = &compiled.schema;
    let field = |path: &str| schema.lookup(path).unwrap();
    let Some(Test::All(all)) = &policy.rules[0].test else {
        panic!("{:?}", policy.rules[0].test);
    };
    assert!(
        matches!(&all[0], Test::Cmp { op: Cmp::Eq, field: f, field_first: true, .. } if *f == field("reason"))
    );
    assert!(
        matches!(&all[1], Test::InSet { field: f, negated: false, .. } if *f == field("item.condition"))
    );
    assert_eq!(
        all[2],
        Test::Not(Box::new(Test::Flag(field("item.activated"))))
    );
    assert!(
        matches!(&all[3], Test::Cmp { op: Cmp::Le, field: f, .. } if *f == field("item.paid_amount"))
    );
    let Test::Any(any) = &all[4] else {
        panic!("{:?}", all[4]);
    };
    assert!(matches!(
        &any[0],
        Test::Cmp {
            op: Cmp::Lt,
            field_first: false,
            ..
        }
    ));
    assert_eq!(
        any[1],
        Test::Is {
            field: field("order.delivered_at"),
            present: true
        }
    );
    assert!(matches!(any[2], Test::Node(_)));
    assert_eq!(all.len(), 5);
    assert_eq!(policy.rules[1].test, None);
}
