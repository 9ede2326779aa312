//! Tests of the schema loader: the shipped schema, one fixture per error
//! code (`tests/diagnostics/schema/<code>.toml`), and the details of a
//! few diagnostics.

use std::path::{Path, PathBuf};

use miette::Diagnostic;

use super::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics/schema")
}

fn errors(text: &str) -> Vec<SchemaError> {
    match Schema::parse(FileId(0), "test.toml", text) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

fn codes(text: &str) -> Vec<&'static str> {
    errors(text).iter().map(SchemaError::code).collect()
}

/// A valid schema with `extra` appended to its `[fields]`.
fn with_fields(extra: &str) -> String {
    format!(
        r#"channel = "channel"
request_id = "request_id"
[fields.request_id]
type = "string"
[fields.channel]
type = "enum"
values = ["a", "b"]
{extra}
[decision]
route = ["r"]
documents = ["d"]
offers = ["o"]
return_shipping = ["buyer"]
installments = ["cancel_remaining"]
"#
    )
}

fn label_text<'t>(text: &'t str, e: &SchemaError) -> &'t str {
    let label = e.labels().and_then(|mut l| l.next()).expect("a label");
    &text[label.offset()..label.offset() + label.len()]
}

#[test]
fn shipped_schema_encodes_the_contract() {
    let s = Schema::builtin().unwrap();
    let paths: Vec<&str> = s.paths().collect();
    assert_eq!(
        paths,
        [
            "request_id",
            "channel",
            "requested_at",
            "reason",
            "order.order_id",
            "order.placed_at",
            "order.delivered_at",
            "item.sku",
            "item.category",
            "item.paid_amount",
            "item.quantity",
            "item.condition",
            "item.activated",
            "item.custom_made",
            "item.non_returnable_confirmed",
            "item.gift_value",
            "item.gift_returned",
            "payment.method",
            "payment.currency",
            "payment.installments",
            "payment.installments_billed",
        ]
    );
    let f = |p: &str| s.field(s.lookup(p).unwrap());
    assert_eq!(s.field(s.channel).path, "channel");
    assert_eq!(
        s.channels.variants(),
        ["official_mall", "partner_platform", "offline_store"]
    );
    assert_eq!(s.field(s.request_id).path, "request_id");
    let required: Vec<&str> = s
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        required,
        [
            "request_id",
            "channel",
            "requested_at",
            "reason",
            "order.order_id",
            "order.placed_at",
            "item.sku",
            "item.category",
            "item.paid_amount",
            "item.quantity",
            "item.condition",
            "payment.method",
            "payment.currency",
        ]
    );
    assert_eq!(f("order.delivered_at").default, Value::Absent);
    assert_eq!(f("item.activated").default, Value::Bool(false));
    assert_eq!(f("item.gift_returned").default, Value::Bool(true));
    assert_eq!(
        f("item.gift_value").default,
        Value::Money("0.00".parse().unwrap())
    );
    assert_eq!(f("payment.installments").default, Value::Int(1));
    assert_eq!(f("payment.installments_billed").default, Value::Int(0));
    assert_eq!(
        f("item.quantity").ty,
        FieldType::Int {
            min: Some(1),
            max: None
        }
    );
    let currency = s.lookup("payment.currency").unwrap();
    assert_eq!(
        f("item.paid_amount").ty,
        FieldType::Money {
            currency_field: currency,
            min: Some(Decimal::ZERO),
            max_scale: 2
        }
    );
    assert_eq!(f("payment.currency").ty, FieldType::Currency);
    let FieldType::Enum(method) = &f("payment.method").ty else {
        panic!()
    };
    assert_eq!(method.variants().len(), 9);
    assert_eq!(method.name, "payment.method");
    let order: Vec<(&str, &str)> = s
        .constraints
        .iter()
        .map(|c| {
            (
                s.field(c.earlier).path.as_str(),
                s.field(c.later).path.as_str(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("order.placed_at", "requested_at"),
            ("order.placed_at", "order.delivered_at"),
            ("order.delivered_at", "requested_at"),
        ]
    );
    assert_eq!(s.decision.route.variants().len(), 9);
    assert_eq!(s.decision.route.name, "decision.route");
    assert_eq!(s.decision.installments.variants(), ["cancel_remaining"]);
    assert_eq!(
        s.children("").unwrap(),
        [
            "request_id",
            "channel",
            "requested_at",
            "reason",
            "order",
            "item",
            "payment"
        ]
    );
    assert_eq!(
        s.children("order").unwrap(),
        ["order_id", "placed_at", "delivered_at"]
    );
    assert!(s.is_group("item") && !s.is_group("item.sku") && s.children("item.sku").is_none());
    // Field spans point at the quoted path in the header.
    let sku = f("item.sku");
    assert_eq!(
        &s.source.text[sku.span.start as usize..sku.span.end as usize],
        "\"item.sku\""
    );
}

/// ruff's habit: every code has a fixture that produces it, with the
/// details a snapshot does not pin: the derive and `code()` agree, labels
/// lie on real text.
#[test]
fn every_code_has_a_fixture_that_produces_it() {
    let codes = crate::codes::ALL
        .iter()
        .filter(|c| c.starts_with("rpl::schema::"));
    for code in codes.clone() {
        let name = code.strip_prefix("rpl::schema::").unwrap();
        let path = fixtures().join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no fixture {path:?}"));
        let errors = errors(&text);
        let found: Vec<_> = errors.iter().map(SchemaError::code).collect();
        assert_eq!(found, [*code], "{name}.toml");
        let e = &errors[0];
        // The derive and `code()` agree, and the label is on real text.
        assert_eq!(e.code(), Diagnostic::code(e).unwrap().to_string());
        assert!(e.source_code().is_some(), "{name}");
        if name != "missing_channel" && name != "syntax" {
            assert!(!label_text(&text, e).is_empty(), "{name}: empty label");
        }
        let message = e.to_string();
        assert!(!message.ends_with('.'), "{message}");
        assert!(
            message.chars().next().unwrap().is_lowercase() || message.starts_with('`'),
            "{message}"
        );
    }
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let code = format!("rpl::schema::{}", name.trim_end_matches(".toml"));
        assert!(
            codes.clone().any(|c| *c == code),
            "fixture {name} has no code"
        );
    }
}

#[test]
fn errors_are_collected_not_stopped_at_the_first() {
    // ... and reported in file order, though references are resolved last.
    let text = with_fields(
        r#"[fields.a]
type = "strng"
[fields.b]
type = "int"
default = "x"
[fields.c]
type = "money"
currency = "nope"
"#,
    );
    assert_eq!(
        codes(&text),
        [
            "rpl::schema::unknown_type",
            "rpl::schema::bad_default",
            "rpl::schema::unknown_field_ref"
        ]
    );
}

#[test]
fn unknown_names_suggest_the_closest() {
    let text = with_fields("[fields.a]\ntype = \"timestmp\"\n");
    let e = &errors(&text)[0];
    assert_eq!(e.to_string(), "unknown field type `timestmp`");
    assert_eq!(e.help().unwrap().to_string(), "did you mean `timestamp`?");
    assert_eq!(label_text(&text, e), "\"timestmp\"");

    let text = with_fields("[fields.a]\ntype = \"int\"\nminn = 1\n");
    let e = &errors(&text)[0];
    assert_eq!(e.to_string(), "unknown key `minn` in `[fields.\"a\"]`");
    assert_eq!(e.help().unwrap().to_string(), "did you mean `min`?");
    assert_eq!(label_text(&text, e), "minn");

    let text = std::fs::read_to_string(fixtures().join("unknown_field_ref.toml")).unwrap();
    let e = &errors(&text)[0];
    assert_eq!(
        e.help().unwrap().to_string(),
        "did you mean `payment.currency`?"
    );
    assert_eq!(label_text(&text, e), "\"payment.curency\"");
}

#[test]
fn keys_of_other_types_say_where_they_belong() {
    let e = &errors(&with_fields(
        "[fields.a]\ntype = \"string\"\nvalues = [\"x\"]\n",
    ))[0];
    assert_eq!(e.code(), "rpl::schema::unknown_key");
    assert_eq!(
        e.help().unwrap().to_string(),
        "`values` applies to `enum` fields, not to `string`"
    );
}

#[test]
fn unquoted_dotted_paths_are_explained() {
    let text = with_fields("[fields.order.placed_at]\ntype = \"timestamp\"\n");
    let e = &errors(&text)[0];
    assert_eq!(e.code(), "rpl::schema::bad_path");
    assert_eq!(
        e.help().unwrap().to_string(),
        "quote the path: `[fields.\"order.placed_at\"]`"
    );
}

#[test]
fn defaults_are_checked_in_the_field_type() {
    for (field, code) in [
        (
            "type = \"bool\"\ndefault = \"false\"",
            Some("rpl::schema::bad_default"),
        ),
        (
            "type = \"money\"\ncurrency = \"cur\"\ndefault = 0",
            Some("rpl::schema::bad_default"),
        ),
        (
            "type = \"money\"\ncurrency = \"cur\"\ndefault = \"0.001\"",
            Some("rpl::schema::bad_default"),
        ),
        (
            "type = \"money\"\ncurrency = \"cur\"\nmin = \"0\"\ndefault = \"-1\"",
            Some("rpl::schema::bad_default"),
        ),
        (
            "type = \"money\"\ncurrency = \"cur\"\ndefault = \"1.50\"",
            None,
        ),
        (
            "type = \"enum\"\nvalues = [\"x\"]\ndefault = \"y\"",
            Some("rpl::schema::bad_default"),
        ),
        ("type = \"enum\"\nvalues = [\"x\"]\ndefault = \"x\"", None),
        (
            "type = \"timestamp\"\ndefault = 2025-01-03T10:20:00+08:00",
            None,
        ),
        (
            "type = \"timestamp\"\ndefault = \"2025-01-03T10:20:00+08:00\"",
            None,
        ),
        (
            "type = \"timestamp\"\ndefault = 2025-01-03T10:20:00",
            Some("rpl::schema::bad_default"),
        ),
        (
            "type = \"currency\"\ndefault = \"cny\"",
            Some("rpl::schema::bad_default"),
        ),
        (
            "type = \"string\"\noptional = false\ndefault = \"x\"",
            Some("rpl::schema::bad_default"),
        ),
        (
            "type = \"int\"\nmin = 1\nmax = 3\ndefault = 4",
            Some("rpl::schema::bad_default"),
        ),
    ] {
        let text = with_fields(&format!(
            "[fields.cur]\ntype = \"currency\"\n[fields.x]\n{field}\n"
        ));
        let result = Schema::parse(FileId(0), "t", &text);
        match code {
            None => {
                let s = result.unwrap_or_else(|e| panic!("{field}: {e:?}"));
                let x = s.field(s.lookup("x").unwrap());
                assert!(!x.required && x.default != Value::Absent, "{field}");
            }
            Some(code) => {
                let e = result.err().unwrap_or_else(|| panic!("{field}: no error"));
                assert_eq!(
                    e.iter().map(SchemaError::code).collect::<Vec<_>>(),
                    [code],
                    "{field}"
                );
            }
        }
    }
}

#[test]
fn money_defaults_carry_the_full_scale() {
    let text = with_fields(
        "[fields.cur]\ntype = \"currency\"\n[fields.x]\ntype = \"money\"\ncurrency = \"cur\"\ndefault = \"0\"\n",
    );
    let s = Schema::parse(FileId(0), "t", &text).unwrap();
    let Value::Money(d) = &s.field(s.lookup("x").unwrap()).default else {
        panic!()
    };
    assert_eq!(d.to_string(), "0.00");
}

#[test]
fn references_must_have_the_right_type() {
    let text = r#"channel = "request_id"
request_id = "channel"
[fields.request_id]
type = "string"
[fields.channel]
type = "enum"
values = ["a"]
[decision]
route = ["r"]
documents = ["d"]
offers = ["o"]
return_shipping = ["buyer"]
installments = ["cancel_remaining"]
"#;
    let e = errors(text);
    let messages: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "the channel must be a required `enum` field, but `request_id` is a `string` field",
            "the request id must be a `string` field, but `channel` is an `enum` field",
        ]
    );
    let optional_channel = with_fields("").replace(
        "values = [\"a\", \"b\"]",
        "values = [\"a\", \"b\"]\noptional = true",
    );
    let e = errors(&optional_channel);
    assert_eq!(
        e[0].to_string(),
        "the channel must be a required `enum` field, but `channel` is an optional `enum` field"
    );
}

#[test]
fn decision_vocabularies_are_required() {
    let text = with_fields("").replace("offers = [\"o\"]\n", "");
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].to_string(), "missing key `offers` in `[decision]`");
}

#[test]
fn duplicate_variants_label_both_places() {
    let text = std::fs::read_to_string(fixtures().join("duplicate_variant.toml")).unwrap();
    let e = &errors(&text)[0];
    let labels: Vec<_> = e.labels().unwrap().collect();
    assert_eq!(labels.len(), 2);
    assert_eq!(e.to_string(), "`a` is listed twice in `channel`");
}

#[test]
fn syntax_errors_carry_the_toml_span() {
    let text = "channel = \n";
    let e = &errors(text)[0];
    assert_eq!(e.code(), "rpl::schema::syntax");
    let label = e.labels().unwrap().next().unwrap();
    assert_eq!(label.offset(), 10);
}
