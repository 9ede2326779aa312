//! A policy long enough that the checker spreads its rules over threads
//! must report exactly what checking them one by one would: every
//! diagnostic once, in rule order, and every use counted.

use rpl::load::check_paths;
use rpl::report::diagnostics::record;

use crate::util;

/// Far more rules than one parallel task takes.
const RULES: usize = 300;
/// The rule that applies to every request; every later rule is unreachable.
const ALWAYS: usize = 240;
/// Rules that misspell a field.
const MISSPELT: [usize; 3] = [5, 70, 150];
/// Rules that use the ill-typed constant.
const BAD_CONST: [usize; 3] = [3, 100, 190];
/// The one rule that uses the predicate `late`.
const LATE: usize = 180;

/// The long policy; `clean`: without the misspelt fields and the
/// ill-typed constant, so that it checks without error and the lints of
/// the analysis run (they need a policy directory free of errors), and
/// each rule before the one without `when` takes requests of its own (one
/// quantity each), so that only the rules after it are unreachable.
fn long_policy(clean: bool) -> String {
    let mut text = String::from(
        "const bad_limit = 100.00 CNY + 3 days\n\
         pred late = requested_at within 30 days after order.delivered_at\n\
         pred never_used = item.activated\n\
         \n\
         policy official_mall {\n\
         channel = official_mall\n\
         currency = CNY\n\
         timezone = \"Asia/Shanghai\"\n\
         calendar = \"calendars/cn.toml\"\n",
    );
    for i in 0..RULES {
        let own = format!("when item.quantity == {} and ", i + 1);
        let when = if clean && i == LATE {
            format!("{own}late")
        } else if clean && BAD_CONST.contains(&i) {
            format!("{own}item.paid_amount > bad_limit")
        } else if clean && i != ALWAYS {
            format!("{own}item.condition == unopened")
        } else if MISSPELT.contains(&i) {
            "when item.conditon == unopened".to_string()
        } else if BAD_CONST.contains(&i) {
            "when item.paid_amount > bad_limit".to_string()
        } else if i == LATE {
            "when late".to_string()
        } else if i == ALWAYS {
            String::new()
        } else {
            "when item.condition == unopened".to_string()
        };
        text.push_str(&format!("rule r{i} {{ {when} deny }}\n"));
    }
    text.push_str("}\n");
    if clean {
        text = text.replace("100.00 CNY + 3 days", "100.00 CNY");
    }
    text
}

/// The line of rule `i` in [`long_policy`].
fn line_of(i: usize) -> usize {
    10 + i
}

/// What checking the long policy reports about it: code and line.
fn reported(clean: bool) -> Vec<(String, usize)> {
    let dir = util::tempdir();
    let policies = util::schema_only(dir.path());
    std::fs::write(policies.join("long.rpl"), long_policy(clean)).unwrap();

    let checked = check_paths(&[policies]);
    checked
        .diagnostics
        .iter()
        .map(|d| record(d.as_ref()))
        .filter(|r| r.file.as_deref().is_some_and(|f| f.ends_with("long.rpl")))
        .map(|r| (r.code, r.line.unwrap()))
        .collect()
}

/// With errors, the checker's own diagnostics; the analysis does not run
/// (it needs a policy that checks clean), so no rule is reported
/// unreachable here: `a_clean_long_policy_reports_each_unreachable_rule`
/// does.
#[test]
fn a_long_policy_reports_as_if_checked_rule_by_rule() {
    let found = reported(false);

    let mut expected = Vec::new();
    for i in 0..RULES {
        if i == BAD_CONST[0] {
            // Reported once, where it is defined, however many rules use it.
            expected.push(("rpl::check::bad_operands".to_string(), 1));
        }
        if MISSPELT.contains(&i) {
            expected.push(("rpl::check::unknown_field".to_string(), line_of(i)));
        }
    }
    // `late` is used only by a rule far from the first; `never_used` is not.
    expected.push(("rpl::check::unused_definition".to_string(), 3));
    assert_eq!(found, expected);
}

/// Once it checks clean, every rule after the one without `when` is
/// reported unreachable, once, in rule order (the analysis runs policy by
/// policy in parallel; the warnings come after the checker's).
#[test]
fn a_clean_long_policy_reports_each_unreachable_rule() {
    let found = reported(true);
    let mut expected = vec![("rpl::check::unused_definition".to_string(), 3)];
    for i in ALWAYS + 1..RULES {
        expected.push(("rpl::check::unreachable_rule".to_string(), line_of(i)));
    }
    assert_eq!(found, expected);
}

/// `pred {p}0 = {p}1 and item.activated`, ... : a chain that expands far
/// past the typed-tree depth limit.
fn deep_chain(p: &str) -> String {
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!("pred {p}{i} = {p}{} and item.activated\n", i + 1));
    }
    text.push_str(&format!("pred {p}100 = item.activated\n"));
    text
}

#[test]
fn each_condition_cut_for_depth_is_reported_once() {
    let dir = util::tempdir();
    let policies = util::schema_only(dir.path());
    std::fs::write(policies.join("chain_d.rpl"), deep_chain("d")).unwrap();
    std::fs::write(policies.join("chain_e.rpl"), deep_chain("e")).unwrap();
    // Two groups laid out alike, so their conditions start at the same
    // offset, each in its own file: two different conditions.
    for (g, p) in [("ga", "d"), ("gb", "e")] {
        std::fs::write(
            policies.join(format!("{g}.rpl")),
            format!("import \"chain_{p}.rpl\"\nrules {g} {{ rule {g}_r {{ when {p}0 deny }} }}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        policies.join("policy.rpl"),
        "import \"ga.rpl\"\nimport \"gb.rpl\"\n\
         policy official_mall {\n\
         channel = official_mall\n\
         currency = CNY\n\
         timezone = \"Asia/Shanghai\"\n\
         calendar = \"calendars/cn.toml\"\n\
         use ga\n\
         use gb\n\
         rule otherwise { deny }\n\
         }\n",
    )
    .unwrap();

    let checked = check_paths(&[policies.join("policy.rpl")]);
    let mut deep: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| record(d.as_ref()))
        .filter(|r| r.code == "rpl::check::too_deep")
        .map(|r| r.file.unwrap_or_default())
        .collect();
    deep.sort();
    assert_eq!(deep.len(), 2, "{deep:?}");
    assert!(
        deep[0].ends_with("chain_d.rpl") && deep[1].ends_with("chain_e.rpl"),
        "{deep:?}"
    );
}
