//! Requests of any shape never panic the engine, every error names the
//! field at fault, and every decision keeps the contract's invariants.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Value, json};

fn engine() -> &'static rpl::Engine {
    static ENGINE: OnceLock<rpl::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        rpl::Engine::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap()
    })
}

/// A policy for every channel that is plain (every condition a leaf
/// comparing one field with constants, every outcome a plan, no `after`
/// rules): decided without the evaluator, which explaining still uses.
const PLAIN: &str = r#"
policy CHANNEL "plain" {
    channel = CHANNEL
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"

    reject gift_kept "a gift must come back" {
        when not item.gift_returned and item.gift_value > 0.00 CNY and not item.custom_made
    }

    rule no_reason "no-reason return" {
        when reason == no_reason
            and item.condition in [unopened, opened_intact]
            and not item.activated
            and item.paid_amount <= 5000.00 CNY
        approve {
            refund = item.paid_amount
            route = match payment.method {
                cash => store_counter,
                credit_card_installment => credit_card_next_statement,
                huabei_installment => huabei,
                jd_baitiao => jd_baitiao,
                _ => alipay,
            }
            return_shipping = buyer
            settlement = none
        }
    }

    rule fault "a fault, looked at" {
        when (reason in [performance_fault, damaged_in_transit] or item.custom_made)
            and not (payment.method == cash or order.delivered_at is absent)
            and 100.00 CNY < item.paid_amount
        review {
            refund = item.gift_value
            route = alipay
            installments = cancel_remaining
            return_shipping = merchant
        }
    }

    rule otherwise "otherwise" { deny }
}
"#;

fn plain_engine() -> &'static rpl::Engine {
    static ENGINE: OnceLock<rpl::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let engine = engine_beside(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
            ["official_mall", "partner_platform", "offline_store"]
                .map(|channel| (format!("{channel}.rpl"), PLAIN.replace("CHANNEL", channel))),
        );
        assert!(engine.compiled().policies.iter().all(|p| p.plain));
        engine
    })
}

/// An engine of `policies` (file name, text) beside the schema and the
/// calendar of the policy directory `dir`, all in memory.
fn engine_beside(dir: &Path, policies: impl IntoIterator<Item = (String, String)>) -> rpl::Engine {
    let mut sources = rpl::source::Sources::new("memory");
    for file in ["schema.toml", "calendars/cn.toml"] {
        sources.insert(file, std::fs::read_to_string(dir.join(file)).unwrap());
    }
    for (name, text) in policies {
        sources.insert(name, text);
    }
    rpl::Engine::from_sources(&sources).unwrap_or_else(|e| panic!("{e}"))
}

fn seeds() -> &'static Vec<Value> {
    static SEEDS: OnceLock<Vec<Value>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut out = Vec::new();
        for channel in ["official_mall", "partner_platform", "offline_store"] {
            for f in std::fs::read_dir(root.join(channel)).unwrap() {
                let f = f.unwrap().path();
                let name = f.to_str().unwrap();
                if name.ends_with(".json") {
                    out.push(serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap());
                }
            }
        }
        out
    })
}

const PATHS: &[&str] = &[
    "request_id",
    "channel",
    "requested_at",
    "reason",
    "order",
    "order.order_id",
    "order.placed_at",
    "order.delivered_at",
    "item",
    "item.category",
    "item.paid_amount",
    "item.quantity",
    "item.condition",
    "item.activated",
    "item.gift_value",
    "item.gift_returned",
    "payment.method",
    "payment.currency",
    "payment.installments",
    "payment.installments_billed",
    "item.colour",
];

fn odd_values() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(4999.5)),
        Just(json!(1e300)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(u64::MAX)),
        Just(json!("99999999999999999999999999999999.99")),
        Just(json!("-0.00")),
        Just(json!("1e3")),
        Just(json!("0.001")),
        Just(json!("2027-01-04T10:00:00+08:00")),
        Just(json!("2023-12-31T23:59:59Z")),
        Just(json!("-009999-01-01T00:00:00Z")),
        Just(json!("9999-12-31T23:59:59-23:59")),
        Just(json!("2025-02-29T10:00:00+08:00")),
        Just(json!("2025-01-03T10:20:00")),
        Just(json!("USD")),
        Just(json!("cash")),
        Just(json!("used")),
        Just(json!(true)),
        Just(json!([1, 2])),
        Just(json!({"nested": {"deep": []}})),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn set_path(v: &mut Value, path: &str, new: Option<Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut cur = v;
    for p in parts {
        if !cur.get(p).is_some_and(Value::is_object) {
            cur[p] = json!({});
        }
        cur = cur.get_mut(p).unwrap();
    }
    let obj = cur.as_object_mut().unwrap();
    match new {
        Some(n) => {
            obj.insert(last.to_string(), n);
        }
        None => {
            obj.remove(last);
        }
    }
}

/// The invariants every decision of the shipped policies keeps.
fn assert_contract(out: &Value) {
    if let Some(err) = out.get("error") {
        let code = err["code"].as_str().unwrap();
        assert!(code.starts_with("rpl::"), "{out}");
        assert!(!err["message"].as_str().unwrap().is_empty(), "{out}");
        if code != "rpl::request::syntax" && code != "rpl::request::wrong_type" {
            assert!(
                !err["path"].as_str().unwrap().is_empty(),
                "an error names the field at fault: {out}"
            );
        }
        return;
    }
    match out["decision"].as_str().unwrap() {
        "approve" => {
            assert!(
                out["refund"].is_object() && out["settlement"].is_object(),
                "{out}"
            );
            let s = &out["settlement"];
            assert!(s["earliest"].as_str() <= s["latest"].as_str(), "{out}");
        }
        "review" => assert!(
            out["refund"].is_object() && out["settlement"].is_null(),
            "{out}"
        ),
        "deny" => {
            assert!(
                out["refund"].is_null() && out["settlement"].is_null(),
                "{out}"
            );
            assert_eq!(out["documents"], json!([]), "{out}");
            assert!(
                out["installments"].is_null() && out["return_shipping_paid_by"].is_null(),
                "{out}"
            );
        }
        other => panic!("verdict {other}"),
    }
    if let Some(amount) = out["refund"]["amount"].as_str() {
        let (int, frac) = amount.split_once('.').unwrap();
        assert!(!int.starts_with('-') && frac.len() == 2, "{out}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutated_requests_never_panic_and_errors_name_the_field(
        seed in 0usize..1000,
        edits in prop::collection::vec((prop::sample::select(PATHS), prop::option::of(odd_values())), 1..4),
    ) {
        let seeds = seeds();
        let mut req = seeds[seed % seeds.len()].clone();
        for (path, value) in edits {
            set_path(&mut req, path, value);
        }
        let out = serde_json::to_value(engine().evaluate_json(&req.to_string(), true)).unwrap();
        assert_contract(&out);
    }

    /// Deciding alone skips the bookkeeping of explaining and of coverage,
    /// and reads operands in place (a plain policy's without the
    /// evaluator): it decides exactly as they do.
    #[test]
    fn deciding_alone_decides_as_explaining_and_coverage_do(
        seed in 0usize..1000,
        edits in prop::collection::vec((prop::sample::select(PATHS), prop::option::of(odd_values())), 0..4),
    ) {
        let seeds = seeds();
        let mut req = seeds[seed % seeds.len()].clone();
        for (path, value) in edits {
            set_path(&mut req, path, value);
        }
        let Ok(request) = engine().schema().decode_json(&req.to_string()) else {
            return Ok(());
        };
        for engine in [engine(), plain_engine()] {
            let alone = engine.evaluate(&request, false);
            let explained = engine.evaluate(&request, true).without_trace();
            let mut hits = rpl::eval::coverage::Hits::new(engine.compiled());
            let covered = engine.evaluate_covered(&request, false, Some(&mut hits));
            prop_assert_eq!(&alone, &explained, "{}", req);
            prop_assert_eq!(&alone, &covered, "{}", req);
        }
    }

    #[test]
    fn arbitrary_text_is_an_error_not_a_panic(text in ".{0,200}") {
        let out = serde_json::to_value(engine().evaluate_json(&text, false)).unwrap();
        prop_assert!(out.get("error").is_some() || out.get("decision").is_some());
        let out = serde_json::to_value(engine().evaluate_toml(&text, false)).unwrap();
        prop_assert!(out.get("error").is_some() || out.get("decision").is_some());
    }
}

#[test]
fn every_example_keeps_the_contract_invariants() {
    for seed in seeds() {
        let out = serde_json::to_value(engine().evaluate_json(&seed.to_string(), false)).unwrap();
        assert_contract(&out);
    }
}

#[test]
fn deeply_nested_json_is_an_error() {
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let out = serde_json::to_value(engine().evaluate_json(&text, false)).unwrap();
    assert_eq!(out["error"]["code"], "rpl::request::syntax");
}

/// A window tested in an outcome (no trace is kept there) leaves no end
/// date behind for a later traced window that has none: here the `after`
/// rule's window, whose anchor is absent, is unknown, and its trace shows
/// no "window ends".
#[test]
fn a_window_in_an_outcome_lends_no_end_to_a_later_test() {
    let policy = r#"policy official_mall {
    channel = official_mall
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"
    rule undelivered {
        when order.delivered_at is absent
        approve {
            refund = item.paid_amount
            route = bank_card
            installments = none
            return_shipping = buyer
            settlement = requested_at .. requested_at
            documents = []
            message = if requested_at within 7 days after order.placed_at then "soon" else "late"
        }
    }
    rule other {
        deny {}
    }
    after recheck {
        when requested_at within 3 days after order.delivered_at
        review {
            message = "recheck"
        }
    }
}
"#;
    let engine = engine_beside(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frozen/policies"),
        [("p.rpl".to_owned(), policy.to_owned())],
    );
    let mut request: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/requests/example.json"
        ))
        .unwrap(),
    )
    .unwrap();
    set_path(&mut request, "order.delivered_at", None);
    let out = serde_json::to_value(engine.evaluate_json(&request.to_string(), true)).unwrap();
    let trace = out["trace"].as_array().unwrap();
    let recheck = trace.iter().find(|r| r["name"] == "recheck").unwrap();
    let text = recheck.to_string();
    assert!(!text.contains("window ends"), "{text}");
}

/// The examples the property test starts from reach every rule of the
/// plain policy, so that test compares every path of deciding plainly.
#[test]
fn the_examples_reach_every_rule_of_the_plain_policy() {
    let mut reached = std::collections::BTreeSet::new();
    for seed in seeds() {
        reached.insert(
            match plain_engine().evaluate_json(&seed.to_string(), false) {
                rpl::Outcome::Decision(d) => d.rule().to_owned(),
                rpl::Outcome::Failure(f) => f.error.code,
            },
        );
    }
    for rule in ["no_reason", "fault", "otherwise", "rpl::policy::gift_kept"] {
        assert!(reached.contains(rule), "{rule} not reached: {reached:?}");
    }
}
