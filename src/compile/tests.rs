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
