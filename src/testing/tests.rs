//! Policy tests on policies held in memory: reading test files, comparing,
//! coverage and mutation testing.

use serde_json::{Value as Json, json};

use super::coverage::{Missed, measure};
use super::mutate::{self, Status};
use super::{Case, CaseRequest, Field, Input, SuiteError, compare, decide, parse};
use crate::engine::Engine;
use crate::eval::coverage::Hits;
use crate::source::Sources;

const SETTINGS: &str = r#"
    channel = official_mall
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"
    defaults {
        refund = item.paid_amount
        route = match payment.method { cash => store_counter, _ => alipay }
        settlement = requested_at .. requested_at
    }
"#;

/// A policy directory in memory: the shipped schema and calendar, and
/// `official_mall.rpl` with the settings above and `rules`.
fn sources(rules: &str) -> Sources {
    Sources::new("memory")
        .with("schema.toml", crate::schema::Schema::BUILTIN)
        .with(
            "calendars/cn.toml",
            include_str!("../../policies/calendars/cn.toml"),
        )
        .with(
            "official_mall.rpl",
            format!("policy official_mall {{{SETTINGS}{rules}\n}}\n"),
        )
}

fn engine(rules: &str) -> Engine {
    match Engine::from_sources(&sources(rules)) {
        Ok(e) => e,
        Err(f) => panic!("{f}"),
    }
}

fn example() -> Json {
    serde_json::from_str(include_str!("../../tests/fixtures/requests/example.json")).unwrap()
}

/// The example request with `changes` merged in, as a case would write it.
fn request(changes: Json) -> Json {
    let mut r = example();
    if let (Some(into), Json::Object(over)) = (r.as_object_mut(), changes) {
        super::merge(into, over);
    }
    r
}

/// A case named `name` on `request`, expecting `expect` (TOML of `[case.expect]`).
fn case(name: &str, request: Json, expect: &str) -> (Case, Input) {
    let text = format!("[[case]]\nname = \"{name}\"\nrequest = {{}}\n[case.expect]\n{expect}\n");
    let (suite, errors) = parse("t.toml", &text);
    assert!(errors.is_empty(), "{errors:?}");
    let case = suite.cases.into_iter().next().unwrap();
    (case, Input::Inline(request))
}

fn codes(errors: &[SuiteError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| miette::Diagnostic::code(e).unwrap().to_string())
        .collect()
}

#[test]
fn an_inline_request_is_merged_over_base_then_unset() {
    let text = r#"
[base]
channel = "official_mall"
order = { order_id = "1", delivered_at = "2025-01-01T00:00:00+08:00" }

[[case]]
name = "undelivered"
request = { order = { placed_at = "2024-12-30T00:00:00+08:00" } }
unset = ["order.delivered_at"]
expect = { rule = "undelivered" }
"#;
    let (suite, errors) = parse("t.toml", text);
    assert!(errors.is_empty(), "{errors:?}");
    let CaseRequest::Inline(req) = &suite.cases[0].request else {
        panic!("not inline")
    };
    // Tables merge key by key: the base's order id stays beside the
    // case's placed_at, and the unset field is gone.
    assert_eq!(
        *req,
        json!({"channel": "official_mall", "order": {"order_id": "1", "placed_at": "2024-12-30T00:00:00+08:00"}})
    );
}

#[test]
fn each_mistake_is_reported_and_the_other_cases_kept() {
    let text = r#"
[[case]]
name = "good"
request = "a.json"
expect = { decision = "approve" }

[[case]]
name = "misspelt"
request = "a.json"
expect = { desicion = "approve" }

[[case]]
name = "good"
request = "b.json"
expect = { decision = "deny" }

[[case]]
name = "both"
request = "a.json"
expect = { error = "rpl::request::syntax", rule = "x" }

[[case]]
name = "nothing"
request = "a.json"
expect = {}

[[case]]
name = "unset on a file"
request = "a.json"
unset = ["order.delivered_at"]
expect = { decision = "deny" }
"#;
    let (suite, errors) = parse("t.toml", text);
    assert_eq!(
        codes(&errors),
        [
            "rpl::test::unknown_key",
            "rpl::test::duplicate_case",
            "rpl::test::bad_value",
            "rpl::test::missing_key",
            "rpl::test::bad_value",
        ]
    );
    let names: Vec<&str> = suite.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["good"]);
    let help = miette::Diagnostic::help(&errors[0]).unwrap().to_string();
    assert_eq!(help, "did you mean `decision`?");
}

#[test]
fn expectations_are_read_in_the_form_outcomes_are_compared_in() {
    let text = r#"
[[case]]
name = "c"
request = "a.json"
expect = { amount = "4999", settlement = ["2025-01-08", "2025-01-24"], documents = ["a", "b"], offers = [], installments = "none" }
"#;
    let (suite, errors) = parse("t.toml", text);
    assert!(errors.is_empty(), "{errors:?}");
    let values: Vec<(Field, &str)> = suite.cases[0]
        .expect
        .iter()
        .map(|e| (e.field, e.value.as_str()))
        .collect();
    assert_eq!(
        values,
        [
            (Field::Amount, "4999.00"),
            (Field::Settlement, "2025-01-08 .. 2025-01-24"),
            (Field::Documents, "[a, b]"),
            (Field::Offers, "[]"),
            (Field::Installments, "none"),
        ]
    );
    for bad in [
        r#"amount = 4999.0"#,
        r#"amount = "49.999""#,
        r#"settlement = ["2025-01-08"]"#,
        r#"decision = "refund""#,
        r#"documents = "a, b""#,
    ] {
        let text = format!("[[case]]\nname = \"c\"\nrequest = \"a.json\"\n[case.expect]\n{bad}\n");
        let (_, errors) = parse("t.toml", &text);
        assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
    }
}

#[test]
fn a_mismatch_names_the_field_with_both_values() {
    let e =
        engine("rule big { when item.paid_amount > 1000.00 CNY deny }\nrule otherwise { approve }");
    let (c, input) = case(
        "c",
        request(json!({})),
        "decision = \"approve\"\nrule = \"otherwise\"\namount = \"4999.00\"\nroute = \"alipay\"",
    );
    let run = compare(&c, decide(&e, &input, None));
    let got: Vec<(Field, &str, &str)> = run
        .mismatches
        .iter()
        .map(|m| (m.field, m.expected.as_str(), m.actual.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Field::Decision, "approve", "deny"),
            (Field::Rule, "otherwise", "big"),
            (Field::Amount, "4999.00", "none"),
            (Field::Route, "alipay", "none"),
        ]
    );
    // An unreadable request is an outcome like any other.
    let (c, _) = case("c", json!({}), "error = \"rpl::request::missing_field\"");
    let run = compare(&c, decide(&e, &Input::Inline(json!({})), None));
    assert!(run.passed(), "{:?}", run.mismatches);
}

#[test]
fn coverage_names_each_operand_and_rule_no_case_exercised() {
    let rules =
        "rule odd { when item.activated or item.custom_made deny }\nrule otherwise { approve }";
    let e = engine(rules);
    let mut hits = Hits::new(e.compiled());
    let plain = Input::Inline(request(json!({})));
    decide(&e, &plain, Some(&mut hits));
    // The defaults' cash arm is a gap too, but not this test's subject.
    let gaps = |hits: &Hits| -> Vec<(Missed, String)> {
        measure(e.compiled(), hits).policies[0]
            .gaps
            .iter()
            .filter(|g| g.context == "rule odd")
            .map(|g| (g.missed, g.text.clone()))
            .collect()
    };
    assert_eq!(
        gaps(&hits),
        [
            (Missed::NeverApplied, "odd".to_owned()),
            (Missed::NeverTrue, "item.activated".to_owned()),
            (Missed::NeverTrue, "item.custom_made".to_owned()),
        ]
    );
    // `a or b` with `a` true never looks at `b`: only the first operand is
    // covered by an activated item.
    let activated = Input::Inline(request(json!({"item": {"activated": true}})));
    decide(&e, &activated, Some(&mut hits));
    assert_eq!(
        gaps(&hits),
        [(Missed::NeverTrue, "item.custom_made".to_owned())]
    );
    let custom = Input::Inline(request(json!({"item": {"custom_made": true}})));
    decide(&e, &custom, Some(&mut hits));
    assert_eq!(gaps(&hits), []);
    let cash = Input::Inline(request(json!({"payment": {"method": "cash"}})));
    decide(&e, &cash, Some(&mut hits));
    let c = measure(e.compiled(), &hits);
    assert!(c.policies[0].gaps.is_empty(), "{:?}", c.policies[0].gaps);
    assert!((c.percent() - 100.0).abs() < f64::EPSILON);
}

#[test]
fn coverage_leaves_out_arms_only_a_rejected_value_takes() {
    // The defaults route cash to the counter; a reject turns cash away, so
    // that arm is unreachable and not an item.
    let rules = r#"reject cash "cash" { when payment.method == cash }
        rule otherwise { approve }"#;
    let e = engine(rules);
    let mut hits = Hits::new(e.compiled());
    decide(&e, &Input::Inline(request(json!({}))), Some(&mut hits));
    let cash = request(json!({"payment": {"method": "cash"}}));
    decide(&e, &Input::Inline(cash), Some(&mut hits));
    let c = measure(e.compiled(), &hits);
    assert!(c.policies[0].gaps.is_empty(), "{:?}", c.policies[0].gaps);
}

#[test]
fn a_boundary_mutant_survives_until_a_case_sits_on_the_boundary() {
    let rules =
        "rule big { when item.paid_amount > 1000.00 CNY review }\nrule otherwise { approve }";
    let src = sources(rules);
    let far = case("far", request(json!({})), "decision = \"review\"");
    let small = case(
        "small",
        request(json!({"item": {"paid_amount": "10.00"}})),
        "decision = \"approve\"",
    );
    let report = mutate::run(&src, &[far.clone(), small.clone()]);
    let survivors: Vec<&str> = report
        .survivors()
        .map(|m| m.mutation.description.as_str())
        .collect();
    assert_eq!(
        survivors,
        [
            "`>` → `>=`",
            "`1000.00 CNY` → `999.99 CNY`",
            "`1000.00 CNY` → `1000.01 CNY`"
        ]
    );
    // The witness for `>=` is a request at exactly the threshold.
    let witness = report
        .survivors()
        .find_map(|m| match &m.status {
            Status::Survived(Some(w)) if m.mutation.description == "`>` → `>=`" => Some(w),
            _ => None,
        })
        .unwrap();
    assert_eq!(witness.field, "item.paid_amount");
    assert_eq!(witness.value, Some(json!("1000.00")));

    let at = case(
        "at the threshold",
        request(json!({"item": {"paid_amount": "1000.00"}})),
        "decision = \"approve\"",
    );
    let just_over = case(
        "a cent over",
        request(json!({"item": {"paid_amount": "1000.01"}})),
        "decision = \"review\"",
    );
    let report = mutate::run(&src, &[far, small, at, just_over]);
    assert_eq!(report.survivors().count(), 0);
    assert!(report.killed() >= 4);
}

#[test]
fn swapping_rules_that_never_both_apply_is_not_counted() {
    let rules = r#"rule a { when reason == performance_fault deny }
        rule b { when reason in [wrong_item, damaged_in_transit] deny }
        rule c { when order.delivered_at is absent approve }
        rule d { when requested_at within 7 days after order.delivered_at approve }
        rule otherwise { approve }"#;
    let report = mutate::run(&sources(rules), &[]);
    let equivalent: Vec<&str> = report
        .mutants
        .iter()
        .filter(|m| matches!(m.status, Status::Equivalent(_)))
        .map(|m| m.mutation.description.as_str())
        .collect();
    // `b` and `c` can both apply (a wrong item not yet delivered), so
    // their swap counts.
    assert_eq!(
        equivalent,
        ["rules `a` and `b` swapped", "rules `c` and `d` swapped"]
    );
}

/// A message puts constants in as their values read (text without quotes
/// or escapes, money with its currency, enum names, no comment of the
/// policy text) and request values as they are.
#[test]
fn templates_put_in_values_not_policy_text() {
    let rules = r#"
    const note = "hi \u{263A} \"q\""
    const limits = [1.00 CNY, // an internal note, never for a customer
        2.00 CNY]
    const kinds = [digital, perishable]
    const method = cash
    const window = 1 year
    const greeting = "dear {item.sku}"
    rule otherwise {
        deny { message = "{note} {limits} {kinds} {method} {window} [{greeting}] {item.paid_amount}" }
    }"#;
    let e = engine(rules);
    let outcome = decide(&e, &Input::Inline(request(json!({}))), None);
    let crate::engine::Outcome::Decision(d) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        d.message(),
        r#"hi ☺ "q" [1.00 CNY, 2.00 CNY] [digital, perishable] cash 1 year [dear XM14-512-BLK] 4999.00 CNY"#
    );
}

/// Two rules with a `use` between them are not neighbours: swapping their
/// text would move both past the group's rules too, so no such swap is
/// made (it was once taken for an equivalent swap of `a` and `b`).
#[test]
fn rules_apart_in_the_text_are_not_swapped() {
    let text = format!(
        "rules g {{ rule gr {{ when item.custom_made deny }} }}\n\
         policy official_mall {{{SETTINGS}\n\
         rule a {{ when reason == no_reason deny }}\n\
         use g\n\
         rule b {{ when reason == wrong_item deny }}\n\
         rule otherwise {{ approve }}\n}}\n"
    );
    let src = sources("").with("official_mall.rpl", text);
    let report = mutate::run(&src, &[]);
    let swaps: Vec<&str> = report
        .mutants
        .iter()
        .map(|m| m.mutation.description.as_str())
        .filter(|d| d.ends_with("swapped"))
        .collect();
    assert_eq!(swaps, ["rules `b` and `otherwise` swapped"]);
}

/// A reject sees the values only the rejects after it turn away: an arm
/// for them inside an earlier reject's condition is reachable and counts.
#[test]
fn a_reject_sees_what_later_rejects_turn_away() {
    let rules = r#"reject early "early" {
            when item.custom_made and match payment.method { cash => true, _ => false }
        }
        reject no_cash "cash" { when payment.method == cash }
        rule otherwise { approve }"#;
    let e = engine(rules);
    let hits = Hits::new(e.compiled());
    let mut arms: Vec<String> = measure(e.compiled(), &hits).policies[0]
        .gaps
        .iter()
        .filter(|g| g.missed == Missed::NeverTaken && g.context == "reject early")
        .map(|g| g.text.clone())
        .collect();
    arms.sort();
    assert_eq!(arms, ["false", "true"]);
}

/// Found by fuzzing: a window past jiff's range panicked in the
/// evaluator (and in the witness search of a `+1 day` mutant); it is the
/// date error of any date out of range.
#[test]
fn a_window_past_the_date_range_is_an_error_not_a_panic() {
    let rules = "rule r { when requested_at within 7304485 days after order.delivered_at deny }\n\
                 rule otherwise { approve }";
    let e = engine(rules);
    let outcome = decide(&e, &Input::Inline(request(json!({}))), None);
    let crate::engine::Outcome::Failure(f) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(f.error.code, "rpl::eval::date_range");
}

/// A comment holding the word `when` after the keyword does not move the
/// "condition dropped" mutant into the comment.
#[test]
fn the_dropped_condition_starts_at_the_keyword_not_in_a_comment() {
    let rules = "rule r { when // applies when activated\n item.activated review }\n\
                 rule otherwise { approve }";
    let report = mutate::run(&sources(rules), &[]);
    let dropped = report
        .mutants
        .iter()
        .find(|m| m.mutation.description == "condition of `r` dropped")
        .unwrap();
    assert!(!matches!(dropped.status, Status::Invalid), "{dropped:?}");
}
