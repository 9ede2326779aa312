use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Value as J, json};

use super::*;
use crate::schema::Schema;
use miette::Diagnostic;

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::builtin().unwrap());

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requests")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap()
}

fn example() -> J {
    serde_json::from_str(&read("example.json")).unwrap()
}

/// The example with each `(path, value)` set, or removed for `None`.
fn with(edits: &[(&str, Option<J>)]) -> J {
    let mut doc = example();
    for (path, value) in edits {
        let mut node = &mut doc;
        let mut segs: Vec<&str> = path.split('.').collect();
        let last = segs.pop().unwrap();
        for seg in segs {
            node = node
                .as_object_mut()
                .unwrap()
                .entry(seg)
                .or_insert(json!({}));
        }
        let object = node.as_object_mut().unwrap();
        match value {
            Some(v) => object.insert(last.to_owned(), v.clone()),
            None => object.remove(last),
        };
    }
    doc
}

fn value(req: &Request, path: &str) -> Value {
    req.get(SCHEMA.lookup(path).unwrap()).clone()
}

fn money(s: &str) -> Value {
    Value::Money(s.parse().unwrap())
}

fn ts(s: &str) -> Value {
    Value::Timestamp(s.parse().unwrap())
}

/// The typed decoder accepts exactly what the document decoder accepts,
/// as the same request; `decode_json` answers what the document decoder
/// does.
fn agree(text: &str) {
    assert_eq!(
        SCHEMA.decode_json(text),
        SCHEMA.decode_json_document(without_bom(text)),
        "{text}"
    );
    let text = without_bom(text);
    let document = SCHEMA.decode_json_document(text);
    match (typed::decode(&SCHEMA, text), &document) {
        (Some(t), Ok(d)) => assert_eq!(&t, d, "{text}"),
        (None, Err(_)) => {}
        (t, d) => panic!("typed {t:?}, document {d:?}: {text}"),
    }
}

/// Every request file the project ships, valid or not, and the shapes the
/// typed decoder reads its own way: keys in any order or escaped, `null`
/// groups and optional fields, duplicates hidden behind escapes or `null`.
#[test]
fn the_typed_decoder_agrees_with_the_document_decoder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = 0;
    for dir in [
        "tests/fixtures/requests",
        "examples",
        "tests/fixtures/frozen/requests",
    ] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "json") {
                    agree(&std::fs::read_to_string(&p).unwrap());
                    files += 1;
                }
            }
        }
    }
    assert!(files > 50, "{files}");
    let text = read("example.json");
    let shapes = [
        text.replacen("\"sku\"", "\"s\\u006bu\"", 1),
        text.replacen("\"sku\"", "\"sku\": \"x\", \"s\\u006bu\"", 1),
        text.replacen("\"gift_value\"", "\"gift_value\": null, \"gift_value\"", 1),
        text.replacen("\"request_id\"", "\"item\": null, \"request_id\"", 1),
        text.replacen("\"request_id\"", "\"payment\": null, \"request_id\"", 1),
        text.replacen("\"request_id\"", "\"order\": [], \"request_id\"", 1),
        text.replacen("\"request_id\"", "\"request_id\": null, \"request_id\"", 1),
        format!("{text} x"),
        format!("[{text}]"),
        // What the typed decoder reads byte by byte: whitespace, escapes,
        // integers, literals.
        format!(" \t\r\n{text}\n\t "),
        text.replace(':', " \n:\t ").replace(',', "\r\n ,"),
        format!("\u{a0}{text}"),
        text.replacen(
            "\"sku\": \"XM14-512-BLK\"",
            "\"sku\": \"\\ud83d\\ude00 \\u00e9\\/\\b\\f\\n\\r\\t\\\\\"",
            1,
        ),
        text.replacen("\"sku\": \"XM14-512-BLK\"", "\"sku\": \"\\ud83d\"", 1),
        text.replacen("\"sku\": \"XM14-512-BLK\"", "\"sku\": \"\\ude00\"", 1),
        text.replacen(
            "\"sku\": \"XM14-512-BLK\"",
            "\"sku\": \"\\ud83d\\u0041\"",
            1,
        ),
        text.replacen("\"sku\": \"XM14-512-BLK\"", "\"sku\": \"\\u00g1\"", 1),
        text.replacen("\"sku\": \"XM14-512-BLK\"", "\"sku\": \"\\x\"", 1),
        text.replacen("\"sku\": \"XM14-512-BLK\"", "\"sku\": \"tab\there\"", 1),
        text.replacen(
            "\"sku\": \"XM14-512-BLK\"",
            "\"sku\": \"a long value with no escape, past eight bytes\"",
            1,
        ),
        text.replacen(
            "\"sku\": \"XM14-512-BLK\"",
            "\"sku\": \"\u{7f}\u{e9}\u{1f600}\"",
            1,
        ),
        text.replacen("\"quantity\": 1", "\"quantity\": 01", 1),
        text.replacen("\"quantity\": 1", "\"quantity\": -0", 1),
        text.replacen("\"quantity\": 1", "\"quantity\": -1", 1),
        text.replacen("\"quantity\": 1", "\"quantity\": 1e0", 1),
        text.replacen("\"quantity\": 1", "\"quantity\": 1.", 1),
        text.replacen("\"quantity\": 1", "\"quantity\": 99999999999999999999", 1),
        text.replacen("\"quantity\": 1", "\"quantity\": -", 1),
        text.replacen("\"quantity\": 1", "\"quantity\": 1x", 1),
        text.replacen("false", "fals", 1),
        text.replacen("false", "falsey", 1),
        text.replacen("false", "null", 1),
        text.replacen("false", "nul", 1),
        text.replacen("false", "true", 1),
        text.replacen("\"item\": {", "\"item\": {}, \"x\": {", 1),
        text.replacen('}', ",}", 1),
        "{}".to_owned(),
        "{".to_owned(),
        String::new(),
    ];
    for shape in &shapes {
        assert_ne!(*shape, text, "a shape that changes nothing tests nothing");
        agree(shape);
    }
    let escaped = typed::decode(&SCHEMA, &shapes[12]).expect("escapes decode");
    assert_eq!(
        value(&escaped, "item.sku"),
        Value::Str("\u{1f600} \u{e9}/\u{8}\u{c}\n\r\t\\".into())
    );
    assert!(typed::decode(&SCHEMA, &shapes[9]).is_some(), "whitespace");
    // The same request with its members in reverse order, at every depth.
    fn reversed(v: &J) -> J {
        match v {
            J::Object(m) => J::Object(
                m.iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), reversed(v)))
                    .collect(),
            ),
            v => v.clone(),
        }
    }
    let backwards = reversed(&example()).to_string();
    assert_eq!(
        typed::decode(&SCHEMA, &backwards),
        SCHEMA.decode_json_document(&text).ok()
    );
    for (path, v) in [
        ("item.gift_value", J::Null),
        ("item.quantity", json!(1.0)),
        ("item.quantity", json!(9_223_372_036_854_775_808u64)),
        ("item.paid_amount", json!(4999)),
        ("order.delivered_at", J::Null),
        ("requested_at", json!("2024-12-29T10:00:00+08:00")),
        ("requested_at", json!("2025-01-05T23:59:60+08:00")),
        ("request_id", json!("esc\"aped\u{1b}")),
    ] {
        agree(&with(&[(path, Some(v))]).to_string());
    }
}

/// The one helper tests go through: decode and compare code and path.
fn check(doc: &J, code: &str, path: &str) -> Rejected {
    agree(&doc.to_string());
    let rejected = SCHEMA.decode_value(doc).expect_err("expected an error");
    assert_eq!(
        (rejected.error.code(), rejected.error.path()),
        (code, path),
        "{}",
        rejected.error
    );
    rejected
}

#[test]
fn the_contract_example_decodes() {
    let req = SCHEMA.decode_json(&read("example.json")).unwrap();
    assert_eq!(req.request_id.as_deref(), Some("RF-20250103-0001"));
    assert_eq!(req.values.len(), SCHEMA.fields.len());
    assert_eq!(
        value(&req, "request_id"),
        Value::Str("RF-20250103-0001".into())
    );
    assert_eq!(value(&req, "channel"), Value::Enum(0));
    assert_eq!(value(&req, "reason"), Value::Enum(0));
    assert_eq!(value(&req, "requested_at"), ts("2025-01-03T02:20:00Z"));
    assert_eq!(
        value(&req, "order.delivered_at"),
        ts("2024-12-30T07:40:00Z")
    );
    assert_eq!(value(&req, "item.paid_amount"), money("4999.00"));
    assert_eq!(value(&req, "item.quantity"), Value::Int(1));
    assert_eq!(value(&req, "item.condition"), Value::Enum(0));
    assert_eq!(value(&req, "item.gift_returned"), Value::Bool(true));
    assert_eq!(value(&req, "payment.method"), Value::Enum(2));
    assert_eq!(value(&req, "payment.currency"), Value::Str("CNY".into()));
    assert_eq!(value(&req, "payment.installments"), Value::Int(12));
}

#[test]
fn the_toml_form_decodes_to_the_same_request() {
    let from_json = SCHEMA.decode_json(&read("example.json")).unwrap();
    let from_toml = SCHEMA.decode_toml(&read("example.toml")).unwrap();
    assert_eq!(from_json, from_toml);
}

#[test]
fn amounts_keep_two_places() {
    let req = SCHEMA
        .decode_value(&with(&[("item.paid_amount", Some(json!("4999")))]))
        .unwrap();
    let Value::Money(d) = value(&req, "item.paid_amount") else {
        panic!()
    };
    assert_eq!(d.to_string(), "4999.00");
    let req = SCHEMA
        .decode_value(&with(&[("item.paid_amount", Some(json!("-0.00")))]))
        .unwrap();
    assert_eq!(value(&req, "item.paid_amount"), money("0"));
}

#[test]
fn left_out_optional_fields_take_their_defaults() {
    let optional = [
        "order.delivered_at",
        "item.activated",
        "item.custom_made",
        "item.non_returnable_confirmed",
        "item.gift_value",
        "item.gift_returned",
        "payment.installments",
        "payment.installments_billed",
    ];
    let expected = [
        Value::Absent,
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(false),
        money("0.00"),
        Value::Bool(true),
        Value::Int(1),
        Value::Int(0),
    ];
    for fill in [None, Some(J::Null)] {
        let edits: Vec<(&str, Option<J>)> = optional.iter().map(|p| (*p, fill.clone())).collect();
        let req = SCHEMA.decode_value(&with(&edits)).unwrap();
        let got: Vec<Value> = optional.iter().map(|p| value(&req, p)).collect();
        assert_eq!(got, expected, "filled with {fill:?}");
    }
}

#[test]
fn an_offset_keeps_the_instant() {
    let req = SCHEMA
        .decode_value(&with(&[(
            "requested_at",
            Some(json!("2025-01-03T07:20:00+05:00")),
        )]))
        .unwrap();
    assert_eq!(value(&req, "requested_at"), ts("2025-01-03T02:20:00Z"));
}

/// One fixture per code (ruff's habit), with the path it must report.
#[test]
fn every_code_has_a_fixture_with_its_path() {
    let cases = [
        ("syntax", ""),
        ("duplicate_key", "order.delivered_at"),
        ("wrong_type", "item.quantity"),
        ("missing_field", "item.paid_amount"),
        ("unknown_field", "item.paid_amont"),
        ("unknown_variant", "channel"),
        ("amount_not_string", "item.paid_amount"),
        ("amount_precision", "item.paid_amount"),
        ("bad_amount", "item.paid_amount"),
        ("out_of_range", "item.quantity"),
        ("bad_timestamp", "requested_at"),
        ("missing_offset", "requested_at"),
        ("dates_out_of_order", "requested_at"),
        ("bad_currency", "payment.currency"),
    ];
    // Codes of reading, not decoding: the CLI's tests reach them through
    // their fixtures (`too_large.json`, and `io.json`, a directory).
    let by_reading = ["too_large", "io"];
    let mut codes: Vec<String> = cases
        .iter()
        .map(|(c, _)| *c)
        .chain(by_reading)
        .map(|c| format!("rpl::request::{c}"))
        .collect();
    let mut all: Vec<&str> = crate::codes::ALL
        .iter()
        .copied()
        .filter(|c| c.starts_with("rpl::request::"))
        .collect();
    codes.sort();
    all.sort();
    assert_eq!(codes, all, "every code, each once");
    for (name, path) in cases {
        let rejected = SCHEMA
            .decode_json(&read(&format!("../../diagnostics/request/{name}.json")))
            .expect_err(name);
        let e = &rejected.error;
        assert_eq!(
            (e.code(), e.path()),
            (format!("rpl::request::{name}").as_str(), path)
        );
        assert_eq!(Diagnostic::code(e).unwrap().to_string(), e.code());
        assert_eq!(e.to_string(), e.message());
        assert!(!e.message().ends_with('.'), "{}", e.message());
        let id = (name != "syntax").then(|| "RF-20250103-0001".to_owned());
        assert_eq!(rejected.request_id, id, "{name}");
    }
}

#[test]
fn type_and_value_errors() {
    let cases: &[(&str, J, &str)] = &[
        ("request_id", json!(17), "rpl::request::wrong_type"),
        ("item.activated", json!("false"), "rpl::request::wrong_type"),
        ("item.quantity", json!(1.5), "rpl::request::wrong_type"),
        ("item.quantity", json!(1.0), "rpl::request::wrong_type"),
        (
            "item.quantity",
            json!(u64::MAX),
            "rpl::request::out_of_range",
        ),
        ("item.quantity", json!(-3), "rpl::request::out_of_range"),
        (
            "payment.installments",
            json!(0),
            "rpl::request::out_of_range",
        ),
        (
            "payment.installments_billed",
            json!(-1),
            "rpl::request::out_of_range",
        ),
        (
            "item.category",
            json!(["phone"]),
            "rpl::request::wrong_type",
        ),
        (
            "item.category",
            json!("Phone"),
            "rpl::request::unknown_variant",
        ),
        (
            "item.paid_amount",
            json!(4999),
            "rpl::request::amount_not_string",
        ),
        (
            "item.gift_value",
            json!(0.0),
            "rpl::request::amount_not_string",
        ),
        (
            "item.paid_amount",
            json!("-1.00"),
            "rpl::request::out_of_range",
        ),
        ("item.paid_amount", json!("1e3"), "rpl::request::bad_amount"),
        ("item.paid_amount", json!(""), "rpl::request::bad_amount"),
        (
            "item.paid_amount",
            json!("4999.000"),
            "rpl::request::amount_precision",
        ),
        (
            "item.paid_amount",
            json!("79228162514264337593543950336"),
            "rpl::request::out_of_range",
        ),
        ("item.paid_amount", json!(true), "rpl::request::wrong_type"),
        (
            "requested_at",
            json!("2025-01-03"),
            "rpl::request::bad_timestamp",
        ),
        (
            "requested_at",
            json!("2025-01-03 10:20:00+08:00"),
            "rpl::request::bad_timestamp",
        ),
        (
            "requested_at",
            json!(1735871000),
            "rpl::request::wrong_type",
        ),
        (
            "order.placed_at",
            json!("2024-12-28T21:03:00"),
            "rpl::request::missing_offset",
        ),
        (
            "payment.currency",
            json!("RMB¥"),
            "rpl::request::bad_currency",
        ),
        ("payment.currency", json!(156), "rpl::request::wrong_type"),
        ("item.sku", J::Null, "rpl::request::missing_field"),
    ];
    for (path, v, code) in cases {
        let rejected = SCHEMA
            .decode_value(&with(&[(path, Some(v.clone()))]))
            .expect_err(path);
        assert_eq!(
            (rejected.error.code(), rejected.error.path()),
            (*code, *path),
            "{v}: {}",
            rejected.error
        );
    }
}

#[test]
fn messages_say_what_and_help_says_how() {
    let r = check(
        &with(&[("item.paid_amount", Some(json!(4999.5)))]),
        "rpl::request::amount_not_string",
        "item.paid_amount",
    );
    assert_eq!(
        r.error.message(),
        "`item.paid_amount` must be a string, found the number `4999.5`"
    );
    assert_eq!(
        r.error.help_text(),
        Some("quote the amount: `\"4999.5\"`; a number may already have lost cents")
    );

    let r = check(
        &with(&[("channel", Some(json!("offical_mall")))]),
        "rpl::request::unknown_variant",
        "channel",
    );
    assert_eq!(
        r.error.message(),
        "unknown value `offical_mall` for `channel`"
    );
    assert_eq!(
        r.error.help_text(),
        Some(
            "did you mean `official_mall`? `channel` is one of `official_mall`, `partner_platform`, `offline_store`"
        )
    );

    let r = check(
        &with(&[("item.quantity", Some(json!("1")))]),
        "rpl::request::wrong_type",
        "item.quantity",
    );
    assert_eq!(
        r.error.message(),
        "`item.quantity` must be an integer >= 1, found the string `\"1\"`"
    );

    let r = check(
        &with(&[("item.paid_amount", None)]),
        "rpl::request::missing_field",
        "item.paid_amount",
    );
    assert_eq!(
        r.error.message(),
        "missing required field `item.paid_amount`"
    );

    let r = check(
        &read_json("../../diagnostics/request/dates_out_of_order.json"),
        "rpl::request::dates_out_of_order",
        "requested_at",
    );
    assert_eq!(
        r.error.message(),
        "`requested_at` (`2024-12-29T10:20:00+08:00`) is before `order.delivered_at` (`2024-12-30T15:40:00+08:00`)"
    );
}

fn read_json(name: &str) -> J {
    serde_json::from_str(&read(name)).unwrap()
}

#[test]
fn unknown_fields_come_before_missing_ones() {
    let doc = with(&[
        ("item.paid_amount", None),
        ("item.paid_amont", Some(json!("4999.00"))),
    ]);
    let r = check(&doc, "rpl::request::unknown_field", "item.paid_amont");
    assert_eq!(
        r.error.help_text(),
        Some("did you mean `item.paid_amount`?")
    );
    let r = check(
        &with(&[("refund", Some(json!(1)))]),
        "rpl::request::unknown_field",
        "refund",
    );
    assert!(
        r.error
            .help_text()
            .unwrap()
            .starts_with("the request may hold `request_id`, `channel`")
    );
    let r = check(
        &with(&[("item.paid amount", Some(json!(1)))]),
        "rpl::request::unknown_field",
        "item[\"paid amount\"]",
    );
    assert_eq!(
        r.error.help_text(),
        Some("did you mean `item.paid_amount`?")
    );
}

#[test]
fn dotted_keys_are_told_to_nest() {
    let mut doc = example();
    doc.as_object_mut()
        .unwrap()
        .insert("item.sku".into(), json!("X"));
    let r = check(&doc, "rpl::request::unknown_field", "[\"item.sku\"]");
    assert_eq!(
        r.error.help_text(),
        Some("a dotted path is written as nested objects: `{\"item\": {\"sku\": ...}}`")
    );
}

#[test]
fn groups_must_be_objects_and_null_groups_are_absent() {
    check(
        &with(&[("item", Some(json!("phone")))]),
        "rpl::request::wrong_type",
        "item",
    );
    check(
        &with(&[("order", Some(J::Null))]),
        "rpl::request::missing_field",
        "order.order_id",
    );
    check(
        &with(&[("order", None)]),
        "rpl::request::missing_field",
        "order.order_id",
    );
    let r = check(&json!([1]), "rpl::request::wrong_type", "");
    assert_eq!(r.request_id, None);
    assert_eq!(
        r.error.message(),
        "a request must be an object, found an array"
    );
}

#[test]
fn the_request_id_is_echoed_when_readable() {
    let r = check(
        &with(&[("item.quantity", Some(json!(0)))]),
        "rpl::request::out_of_range",
        "item.quantity",
    );
    assert_eq!(r.request_id.as_deref(), Some("RF-20250103-0001"));
    let r = check(
        &with(&[("request_id", Some(json!(1)))]),
        "rpl::request::wrong_type",
        "request_id",
    );
    assert_eq!(r.request_id, None);
    let r = SCHEMA
        .decode_json("{\"request_id\": \"RF-1\",")
        .unwrap_err();
    assert_eq!(r.request_id, None);
}

#[test]
fn chronology_is_checked_in_schema_order() {
    // The path is the `later` field, even when `earlier` is the wrong one.
    let doc = with(&[("order.placed_at", Some(json!("2025-01-04T00:00:00+08:00")))]);
    check(&doc, "rpl::request::dates_out_of_order", "requested_at");
    // Requested before placed and before delivered: the first rule reports.
    let doc = with(&[("requested_at", Some(json!("2024-01-01T00:00:00Z")))]);
    check(&doc, "rpl::request::dates_out_of_order", "requested_at");
    let doc = with(&[(
        "order.delivered_at",
        Some(json!("2024-12-28T21:02:59+08:00")),
    )]);
    check(
        &doc,
        "rpl::request::dates_out_of_order",
        "order.delivered_at",
    );
    // Equal instants written with different offsets are in order.
    let doc = with(&[("order.delivered_at", Some(json!("2024-12-28T13:03:00Z")))]);
    assert!(SCHEMA.decode_value(&doc).is_ok());
    // An absent delivery date takes part in no rule.
    let doc = with(&[
        ("order.delivered_at", None),
        ("requested_at", Some(json!("2024-12-28T21:03:00+08:00"))),
    ]);
    assert!(SCHEMA.decode_value(&doc).is_ok());
}

#[test]
fn toml_requests() {
    let example = read("example.toml");
    let decode = |from: &str, to: &str| SCHEMA.decode_toml(&example.replacen(from, to, 1));
    let err = |from: &str, to: &str| decode(from, to).unwrap_err().error;
    let e = err(
        "requested_at = 2025-01-03T10:20:00+08:00",
        "requested_at = 2025-01-03T10:20:00",
    );
    assert_eq!(
        (e.code(), e.path()),
        ("rpl::request::missing_offset", "requested_at")
    );
    let e = err(
        "requested_at = 2025-01-03T10:20:00+08:00",
        "requested_at = 2025-01-03",
    );
    assert_eq!(e.code(), "rpl::request::bad_timestamp");
    let e = err("sku = \"XM14-512-BLK\"", "sku = 2025-01-03");
    assert_eq!(
        (e.code(), e.path()),
        ("rpl::request::wrong_type", "item.sku")
    );
    let e = err("paid_amount = \"4999.00\"", "paid_amount = 4999.00");
    assert_eq!(e.code(), "rpl::request::amount_not_string");
    assert_eq!(
        e.help_text(),
        Some("quote the amount: `\"4999.00\"`; a number may already have lost cents")
    );
    let e = err("quantity = 1", "quantity = 0x10000000000000000");
    assert_eq!(e.code(), "rpl::request::out_of_range");
    let e = err("quantity = 1", "quantity = 0");
    assert_eq!(e.code(), "rpl::request::out_of_range");
    // TOML 1.1 lets seconds be left out.
    let req = decode(
        "requested_at = 2025-01-03T10:20:00+08:00",
        "requested_at = 2025-01-03T10:20+08:00",
    )
    .unwrap();
    assert_eq!(value(&req, "requested_at"), ts("2025-01-03T02:20:00Z"));
    let r = SCHEMA
        .decode_toml("request_id = \"X\"\n[item\n")
        .unwrap_err();
    assert_eq!(r.error.code(), "rpl::request::syntax");
    assert!(
        r.error
            .message()
            .starts_with("invalid TOML at line 2 column"),
        "{}",
        r.error.message()
    );
}

#[test]
fn hostile_documents_are_errors_not_panics() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert_eq!(
        SCHEMA.decode_json(&deep).unwrap_err().error.code(),
        "rpl::request::syntax"
    );
    let deep = format!("a = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        SCHEMA.decode_toml(&deep).unwrap_err().error.code(),
        "rpl::request::syntax"
    );
    let big = read("example.json").replace("\"quantity\": 1", "\"quantity\": 1e400");
    assert_eq!(
        SCHEMA.decode_json(&big).unwrap_err().error.code(),
        "rpl::request::syntax"
    );
    let long = "x".repeat(1_000_000);
    let r = check(
        &with(&[("channel", Some(json!(long)))]),
        "rpl::request::unknown_variant",
        "channel",
    );
    assert!(r.error.message().len() < 200);
    for text in ["", " ", "null", "\"x\"", "{}", "{\"item\": {}}"] {
        assert!(SCHEMA.decode_json(text).is_err(), "{text}");
    }
    assert_eq!(
        SCHEMA.decode_json("{}").unwrap_err().error.path(),
        "request_id"
    );
}

proptest! {
    #[test]
    fn decode_json_never_panics(text in "\\PC*") {
        let _ = SCHEMA.decode_json(&text);
        let _ = SCHEMA.decode_toml(&text);
    }

    #[test]
    fn decode_never_panics_on_a_mutated_example(pos in 0usize..900, c in any::<char>(), cut in proptest::bool::ANY) {
        let text = read("example.json");
        let mut chars: Vec<char> = text.chars().collect();
        let i = pos % chars.len();
        if cut { chars.remove(i); } else { chars[i] = c; }
        let text: String = chars.into_iter().collect();
        agree(&text);
    }

    /// Edits made of JSON's own characters, where a reader that accepts
    /// too much would show it: each edit replaces, inserts or cuts one
    /// character, up to three times.
    #[test]
    fn json_edits_are_read_alike_by_both_decoders(
        edits in prop::collection::vec((0usize..900, 0u8..3, prop::sample::select(vec![
            '{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\t', '\n', '\u{0}', '\u{7f}',
            '-', '+', '0', '1', '9', '.', 'e', 'E', 'n', 'u', 'l', 't', 'f', 'x',
        ])), 1..4)
    ) {
        let mut chars: Vec<char> = read("example.json").chars().collect();
        for (pos, op, c) in edits {
            let i = pos % chars.len();
            match op {
                0 => chars[i] = c,
                1 => chars.insert(i, c),
                _ => { chars.remove(i); }
            }
        }
        agree(&chars.into_iter().collect::<String>());
    }

    #[test]
    fn any_value_in_any_field_is_decoded_or_rejected(field in 0usize..21, v in json_value()) {
        let path = SCHEMA.fields[field].path.clone();
        let doc = with(&[(&path, Some(v))]);
        let _ = SCHEMA.decode_value(&doc);
        agree(&doc.to_string());
    }
}

fn json_value() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "\\PC{0,40}".prop_map(J::String),
        "-?[0-9]{1,30}(\\.[0-9]{0,4})?".prop_map(J::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?"
            .prop_map(J::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

/// The attack that made duplicate keys an error: a delivered order, then
/// `"delivered_at": null`, read as undelivered (a full refund) when the last
/// key won.
#[test]
fn a_key_given_twice_is_an_error_at_any_depth() {
    let example = read("example.json");
    let delivered = "\"delivered_at\": \"2024-12-30T15:40:00+08:00\"";
    for second in ["\"delivered_at\": null", "\"delivered\\u005fat\": null"] {
        let text = example.replace(delivered, &format!("{delivered}, {second}"));
        let r = SCHEMA.decode_json(&text).unwrap_err();
        assert_eq!(
            (r.error.code(), r.error.path()),
            ("rpl::request::duplicate_key", "order.delivered_at"),
            "{second}"
        );
        assert_eq!(r.error.message(), "`order.delivered_at` is given twice");
        assert_eq!(r.request_id.as_deref(), Some("RF-20250103-0001"));
    }
    // A whole group twice, and the request id twice: no id is echoed.
    let text = example.replacen("\"payment\": {", "\"item\": {}, \"payment\": {", 1);
    let r = SCHEMA.decode_json(&text).unwrap_err();
    assert_eq!(r.error.path(), "item");
    let text = example.replacen("{", "{\"request_id\": \"RF-2\",", 1);
    let r = SCHEMA.decode_json(&text).unwrap_err();
    assert_eq!(
        (r.error.code(), r.error.path(), r.request_id),
        ("rpl::request::duplicate_key", "request_id", None)
    );
}

/// TOML refuses a key given twice too, with the same code and path.
#[test]
fn toml_and_json_agree_on_duplicate_keys() {
    let example = read("example.toml");
    let cases = [
        ("paid_amount = \"4999.00\"", "item.paid_amount"),
        ("[payment]", "payment"),
        ("channel = \"official_mall\"", "channel"),
    ];
    for (line, path) in cases {
        assert!(example.contains(line), "{line}");
        let text = example.replacen(line, &format!("{line}\n{line}"), 1);
        let r = SCHEMA.decode_toml(&text).unwrap_err();
        assert_eq!(
            (r.error.code(), r.error.path()),
            ("rpl::request::duplicate_key", path),
            "{line}: {}",
            r.error
        );
    }
    // Equal once the quotes are read: `"sku"` is `sku`.
    let text = example.replacen("sku = ", "\"sku\" = \"A\"\nsku = ", 1);
    let r = SCHEMA.decode_toml(&text).unwrap_err();
    assert_eq!(r.error.path(), "item.sku");
    // The same name under two tables: the one given twice is named, and a
    // request id given twice is not echoed.
    for (text, path, id) in [
        (
            "item.note = \"a\"\norder.note = \"b\"\nitem.note = \"c\"\n",
            "item.note",
            None,
        ),
        ("a.b.c = 1\nx.b.c = 2\na.b.c = 3\n", "a.b.c", None),
        (
            "request_id = \"A\"\nitem.request_id = \"Z\"\nrequest_id = \"B\"\n",
            "request_id",
            None,
        ),
        (
            "request_id = \"A\"\n[item]\nx = 1\n[order]\nx = 1\n[item]\ny = 2\n",
            "item",
            Some("A"),
        ),
    ] {
        let r = SCHEMA.decode_toml(text).unwrap_err();
        assert_eq!(
            (r.error.code(), r.error.path(), r.request_id.as_deref()),
            ("rpl::request::duplicate_key", path, id),
            "{text}"
        );
    }
}

#[test]
fn a_byte_order_mark_may_open_a_request() {
    let json = format!("\u{FEFF}{}", read("example.json"));
    assert!(SCHEMA.decode_json(&json).is_ok());
    let toml = format!("\u{FEFF}{}", read("example.toml"));
    assert!(SCHEMA.decode_toml(&toml).is_ok());
    // One only, and only before the request.
    let twice = format!("\u{FEFF}{json}");
    assert_eq!(
        SCHEMA.decode_json(&twice).unwrap_err().error.code(),
        "rpl::request::syntax"
    );
}

/// A hostile name is echoed clipped, and gets no did-you-mean (whose cost
/// grows with the product of the lengths: a 200 MB key took 47 s).
#[test]
fn long_keys_and_values_are_clipped_and_not_matched() {
    let example = read("example.json");
    let long = "paid_amount".repeat(100_000);
    let text = example.replacen("\"sku\"", &format!("\"{long}\": 1, \"sku\""), 1);
    let r = SCHEMA.decode_json(&text).unwrap_err();
    assert_eq!(r.error.code(), "rpl::request::unknown_field");
    assert!(r.error.path().len() < 100, "{}", r.error.path());
    assert!(r.error.path().starts_with("item[\"paid_amountpaid"));
    assert!(r.error.message().len() < 120, "{}", r.error.message());
    assert!(r.error.help_text().unwrap().starts_with("`item` may hold"));
    // A key that is not a name, with control characters: escaped and clipped.
    let text = example.replacen("\"sku\"", "\"\\u001b[31m\": 1, \"sku\"", 1);
    let r = SCHEMA.decode_json(&text).unwrap_err();
    assert_eq!(r.error.path(), "item[\"\\u001b[31m\"]");
}

/// Edge values the contract leaves open, decided: a leap second is the
/// last second of its minute (so a date never moves), and `-0.00` is zero.
#[test]
fn leap_seconds_and_negative_zero() {
    let req = SCHEMA
        .decode_value(&with(&[(
            "requested_at",
            Some(json!("2025-01-05T23:59:60+08:00")),
        )]))
        .unwrap();
    assert_eq!(value(&req, "requested_at"), ts("2025-01-05T15:59:59Z"));
    let req = SCHEMA
        .decode_value(&with(&[("item.paid_amount", Some(json!("-0.00")))]))
        .unwrap();
    let Value::Money(d) = value(&req, "item.paid_amount") else {
        panic!()
    };
    assert!(d.is_zero() && d.is_sign_positive());
    assert_eq!(d.to_string(), "0.00");
    check(
        &with(&[("item.paid_amount", Some(json!("-0.01")))]),
        "rpl::request::out_of_range",
        "item.paid_amount",
    );
}

/// Differential fuzzing of the typed decoder against the document decoder.
mod fuzz;
