//! The benchmarks' native floor (`benches/native/`, the frozen rulebook by
//! hand) writes what `rpl eval --batch` writes, so that what the
//! benchmarks compare RPL with never drifts from RPL: byte for byte for
//! every decided request and every policy or evaluation error, the same
//! code for a line that is not a valid request.

#[path = "../../benches/native/mod.rs"]
mod native;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util;

/// A valid official-mall request, to vary below.
const BASE: &str = r#"{"request_id":"E-00","channel":"official_mall","requested_at":"2025-01-03T10:20:00+08:00","reason":"no_reason","order":{"order_id":"O-1","placed_at":"2024-12-28T21:03:00+08:00","delivered_at":"2024-12-30T15:40:00+08:00"},"item":{"sku":"S-1","category":"phone","paid_amount":"4999.00","quantity":1,"condition":"unopened"},"payment":{"method":"credit_card_installment","currency":"CNY","installments":12,"installments_billed":1}}"#;

/// What `rpl generate` never writes: escapes, other spellings of the same
/// values, dates at the calendar's edges and before Asia/Shanghai's last
/// change of offset, and one line per way of being invalid.
fn edge_lines() -> Vec<String> {
    let with = |pairs: &[(&str, &str)]| {
        let mut line = BASE.to_owned();
        for (from, to) in pairs {
            assert!(line.contains(from), "{from}");
            line = line.replacen(from, to, 1);
        }
        line
    };
    let id = r#""request_id":"E-00""#;
    let requested = r#""requested_at":"2025-01-03T10:20:00+08:00""#;
    let placed = r#""placed_at":"2024-12-28T21:03:00+08:00""#;
    let delivered = r#""delivered_at":"2024-12-30T15:40:00+08:00""#;
    let paid = r#""paid_amount":"4999.00""#;
    let method = r#""method":"credit_card_installment""#;
    let channel = r#""channel":"official_mall""#;
    let offline = r#""channel":"offline_store""#;
    let mut lines = vec![
        BASE.to_owned(),
        with(&[(
            id,
            r#""request_id":"E-\"q\\\u0001\u007f\u2028\u202e é 😀 \ud83d\ude00""#,
        )]),
        format!("\u{feff}{BASE}"),
        with(&[
            (paid, r#""paid_amount":"4999""#),
            (
                "\"quantity\"",
                "\"gift_value\":\"-0.00\",\"gift_returned\":false,\"quantity\"",
            ),
        ]),
        with(&[
            (paid, r#""paid_amount":"3000.00""#),
            (
                "\"quantity\"",
                "\"gift_value\":\"3500.50\",\"gift_returned\":false,\"quantity\"",
            ),
        ]),
        with(&[(
            requested,
            r#""requested_at":"2025-01-02t23:59:60.123456789z""#,
        )]),
        with(&[(requested, r#""requested_at":"2025-01-06T20:30:00-05:00""#)]),
        with(&[(delivered, r#""delivered_at":null"#)]),
        with(&[(paid, r#""paid_amount":"20000.01""#)]),
        with(&[(paid, r#""paid_amount":"20000.00""#)]),
        with(&[
            (channel, r#""channel":"partner_platform""#),
            (paid, r#""paid_amount":"10000.01""#),
        ]),
        // Settlement past the calendar's last year; the request date before its first.
        with(&[
            (requested, r#""requested_at":"2026-12-24T10:00:00+08:00""#),
            (delivered, r#""delivered_at":"2026-12-22T10:00:00+08:00""#),
        ]),
        with(&[
            (requested, r#""requested_at":"2023-06-01T10:00:00+08:00""#),
            (placed, r#""placed_at":"2023-05-01T10:00:00+08:00""#),
            (delivered, r#""delivered_at":null"#),
        ]),
        with(&[
            (requested, r#""requested_at":"2023-12-31T10:00:00+08:00""#),
            (placed, r#""placed_at":"2023-05-01T10:00:00+08:00""#),
            (delivered, r#""delivered_at":null"#),
        ]),
        // Cash in a store, settled the same day, outside the calendar.
        with(&[
            (channel, offline),
            (method, r#""method":"cash""#),
            (requested, r#""requested_at":"2030-03-01T10:00:00+08:00""#),
            (delivered, r#""delivered_at":null"#),
        ]),
        // A window from 29 February, one year on.
        with(&[
            (r#""reason":"no_reason""#, r#""reason":"performance_fault""#),
            (placed, r#""placed_at":"2024-02-28T10:00:00+08:00""#),
            (delivered, r#""delivered_at":"2024-02-29T10:00:00+08:00""#),
            (requested, r#""requested_at":"2025-02-28T10:00:00+08:00""#),
        ]),
        // During Shanghai's summer time of 1988 (+09:00), and long before.
        with(&[
            (placed, r#""placed_at":"1988-06-01T10:00:00Z""#),
            (delivered, r#""delivered_at":"1988-06-01T15:30:00Z""#),
        ]),
        with(&[
            (placed, r#""placed_at":"1900-06-01T10:00:00Z""#),
            (delivered, r#""delivered_at":"1900-06-01T16:00:00Z""#),
        ]),
        // The dates of the offline store's goodwill review.
        with(&[(channel, offline), (method, r#""method":"cash""#)]),
        with(&[(r#""currency":"CNY""#, r#""currency":"USD""#)]),
    ];
    for broken in [
        with(&[(paid, r#""paid_amount":4999.00"#)]),
        with(&[(paid, r#""paid_amount":"4999.001""#)]),
        with(&[(paid, r#""paid_amount":"4,999.00""#)]),
        with(&[(paid, r#""paid_amount":"-1.00""#)]),
        with(&[(requested, r#""requested_at":"2025-01-03T10:20:00""#)]),
        with(&[(requested, r#""requested_at":"2025-02-30T10:20:00+08:00""#)]),
        with(&[(requested, r#""requested_at":"2025-01-03 10:20:00+08:00""#)]),
        with(&[(requested, r#""requested_at":"2025-01-03T10:20:61+08:00""#)]),
        with(&[("\"quantity\":1", "\"quantity\":0")]),
        with(&[("\"quantity\":1", "\"quantity\":1.0")]),
        with(&[("\"quantity\":1", "\"colour\":\"red\",\"quantity\":1")]),
        with(&[("\"category\":\"phone\"", "\"category\":\"phonee\"")]),
        with(&[("\"category\":\"phone\"", "\"category\":{\"phone\":null}")]),
        with(&[(r#""currency":"CNY""#, r#""currency":"cny""#)]),
        with(&[(requested, r#""requested_at":"2024-12-29T10:20:00+08:00""#)]),
        with(&[(paid, r#""paid_amount":"1","paid\u005famount":"2""#)]),
        with(&[(r#""sku":"S-1","#, "")]),
        with(&[(
            r#""order":{"order_id":"O-1","placed_at":"2024-12-28T21:03:00+08:00","delivered_at":"2024-12-30T15:40:00+08:00"}"#,
            r#""order":["O-1","2024-12-28T21:03:00+08:00",null]"#,
        )]),
        with(&[("\"quantity\":1", "\"quantity\":9223372036854775808")]),
        with(&[("\"quantity\":1", "\"quantity\":100000000000000000000000")]),
        "[]".to_owned(),
        String::new(),
        BASE.get(..100).unwrap().to_owned(),
    ] {
        lines.push(broken);
    }
    lines
}

fn run(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rpl"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn code(record: &Value) -> Option<&str> {
    record["error"]["code"].as_str()
}

#[test]
fn the_native_floor_writes_what_rpl_writes() {
    let dir = util::tempdir();
    let policies = util::frozen_policies();
    let input = dir.path().join("in.jsonl");
    let output = dir.path().join("out.jsonl");
    let generated = run(&[
        "generate".as_ref(),
        "--policies".as_ref(),
        policies.as_os_str(),
        "--count".as_ref(),
        "3000".as_ref(),
        "--seed".as_ref(),
        "12".as_ref(),
        "--bad".as_ref(),
        "0.05".as_ref(),
        "-o".as_ref(),
        input.as_os_str(),
    ]);
    assert!(generated.status.success(), "{}", util::stderr(&generated));
    let mut text = std::fs::read_to_string(&input).unwrap();
    for line in edge_lines() {
        text.push_str(&line);
        text.push('\n');
    }
    std::fs::write(&input, &text).unwrap();
    let done = run(&[
        "eval".as_ref(),
        "--policies".as_ref(),
        policies.as_os_str(),
        "--batch".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        output.as_os_str(),
        "--summary".as_ref(),
        "none".as_ref(),
    ]);
    assert_eq!(done.status.code(), Some(1), "{}", util::stderr(&done));
    let expected = std::fs::read_to_string(&output).unwrap();

    let floor = native::Floor::load(Path::new(&policies)).unwrap();
    let inputs: Vec<&str> = text.lines().collect();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(inputs.len(), expected.len());
    let (mut decided, mut refused, mut malformed) = (0, 0, std::collections::BTreeSet::new());
    let mut out = Vec::new();
    for (i, (line, want)) in inputs.iter().zip(&expected).enumerate() {
        out.clear();
        floor.line(i as u64 + 1, line.as_bytes(), &mut out);
        let got = std::str::from_utf8(&out).unwrap();
        let got = got.strip_suffix('\n').unwrap();
        let want_record: Value = serde_json::from_str(want).unwrap();
        let got_record: Value = serde_json::from_str(got).unwrap();
        match code(&want_record) {
            Some(c) if c.starts_with("rpl::request::") => {
                assert_eq!(code(&got_record), Some(c), "line {}: {line}\n{got}", i + 1);
                malformed.insert(c.to_owned());
            }
            c => {
                assert_eq!(got, *want, "line {}: {line}", i + 1);
                if c.is_some() {
                    refused += 1;
                } else {
                    decided += 1;
                }
            }
        }
    }
    // Not vacuous: most lines are decided, and every kind of line the
    // generator breaks, and every edge above, was seen.
    assert!(decided > 2000, "{decided} decided");
    assert!(refused > 100, "{refused} refused");
    for c in [
        "syntax",
        "duplicate_key",
        "missing_field",
        "unknown_field",
        "wrong_type",
        "unknown_variant",
        "amount_not_string",
        "amount_precision",
        "out_of_range",
        "bad_amount",
        "bad_timestamp",
        "missing_offset",
        "bad_currency",
        "dates_out_of_order",
    ] {
        assert!(
            malformed.contains(&format!("rpl::request::{c}")),
            "{c}: {malformed:?}"
        );
    }
}
