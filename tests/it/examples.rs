//! The engine on realistic policies: the CLI and the library agree, the
//! trace and the human output read as they should, batches and TOML
//! requests. What the shipped policies decide is not tested here but by
//! `rpl test` (`policies/tests/`); tests that pin output read the frozen
//! copy in `tests/fixtures/frozen/`, so editing `policies/` breaks none.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every example request file (`examples/<group>/*.json`).
fn examples() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root().join("examples")).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "json") {
                out.push(f);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 60, "examples went missing: {}", out.len());
    out
}

/// The frozen copy of the policies engine tests read (see its README).
fn frozen() -> PathBuf {
    root().join("tests/fixtures/frozen")
}

/// The CLI writes exactly what the library decides, for every example:
/// whatever the shipped policies say (that is `rpl test`'s to check).
#[test]
fn the_cli_prints_what_the_library_decides() {
    let engine = rpl::Engine::load(root().join("policies")).unwrap();
    let paths = examples();
    let out = assert_cmd::Command::cargo_bin("rpl")
        .unwrap()
        .current_dir(root())
        .arg("eval")
        .args(["--format", "json"])
        .args(&paths)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), paths.len());
    for (path, got) in paths.iter().zip(&lines) {
        let text = std::fs::read_to_string(path).unwrap();
        let want = serde_json::to_value(engine.evaluate_json(&text, false)).unwrap();
        assert_eq!(*got, want, "{}", path.display());
    }
}

#[test]
fn explain_trace_lists_every_rule_up_to_the_decision_with_values() {
    let engine = rpl::Engine::load(frozen().join("policies")).unwrap();
    let text =
        std::fs::read_to_string(frozen().join("requests/18-national-day-outside.json")).unwrap();
    let got = serde_json::to_value(engine.evaluate_json(&text, true)).unwrap();
    let trace = got["trace"].as_array().unwrap();
    let names: Vec<&str> = trace.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "cash_online",
            "undelivered",
            "fault_return",
            "fault_exchange",
            "fault_repair",
            "fault_expired",
            "seller_error",
            "excluded_goods",
            // A denial has nothing for `high_value_review` to look at.
            "outside_window",
        ]
    );
    // `when not inside_7_days` reads as the rule reads it: the window
    // negated, true, with the note on the window that ended.
    let window = &trace[8]["conditions"][0];
    assert_eq!(window["result"], true);
    assert_eq!(
        window["condition"],
        "not (requested_at within 7 days after order.delivered_at)"
    );
    assert_eq!(
        window["note"],
        "requested_at 2025-10-10, window ended 2025-10-09"
    );
    assert!(
        window["location"]
            .as_str()
            .unwrap()
            .ends_with("policies/common.rpl:26:31")
    );
    // Without --explain there is no trace at all.
    let plain = serde_json::to_value(engine.evaluate_json(&text, false)).unwrap();
    assert!(plain.get("trace").is_none());
}

#[test]
fn toml_and_json_requests_decide_alike() {
    let engine = rpl::Engine::load(root().join("policies")).unwrap();
    let json =
        std::fs::read_to_string(root().join("examples/official_mall/01-contract-example.json"))
            .unwrap();
    let value: toml::Value = serde_json::from_str(&json).unwrap();
    let toml_text = toml::to_string(&value).unwrap();
    assert_eq!(
        engine.evaluate_json(&json, false),
        engine.evaluate_toml(&toml_text, false)
    );
}

#[test]
fn engine_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<rpl::Engine>();
}

fn rpl_cmd() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("rpl").unwrap();
    c.current_dir(root()).env("NO_COLOR", "1");
    c
}

#[test]
fn human_summary_and_explain_output() {
    let out = rpl_cmd()
        .args([
            "eval",
            "--policies",
            "tests/fixtures/frozen/policies",
            "tests/fixtures/frozen/requests/24-high-value-threshold-over.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(
        "eval_human_high_value",
        String::from_utf8(out.stdout).unwrap()
    );
    let out = rpl_cmd()
        .args([
            "explain",
            "--policies",
            "tests/fixtures/frozen/policies",
            "tests/fixtures/frozen/requests/18-national-day-outside.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(
        "explain_national_day",
        String::from_utf8(out.stdout).unwrap()
    );
    let out = rpl_cmd()
        .args([
            "eval",
            "--policies",
            "tests/fixtures/frozen/policies",
            "tests/fixtures/frozen/requests/02-missing-paid-amount.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("eval_human_error", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn batch_gives_one_line_per_input_line_in_order() {
    let ok =
        std::fs::read_to_string(root().join("examples/official_mall/01-contract-example.json"))
            .unwrap();
    let ok: Value = serde_json::from_str(&ok).unwrap();
    let ok = ok.to_string();
    let input = format!("{ok}\n\n{{\"broken\n{}\n{ok}\n", "x".repeat(10));
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("in.jsonl");
    std::fs::write(&batch, &input).unwrap();
    let out_path = dir.path().join("out.jsonl");
    let out = rpl_cmd()
        .args(["eval", "--batch"])
        .arg(&batch)
        .arg("-o")
        .arg(&out_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = std::fs::read_to_string(&out_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].get("decision").is_some(), "{}", lines[0]);
    for (i, code) in [
        (1, "rpl::request::syntax"),
        (2, "rpl::request::syntax"),
        (3, "rpl::request::syntax"),
    ] {
        assert_eq!(lines[i]["error"]["code"], code);
        assert_eq!(lines[i]["line"], i as u64 + 1);
    }
    assert_eq!(lines[4], lines[0]);
}

#[test]
fn usage_errors_exit_2() {
    let out = rpl_cmd()
        .args(["eval", "no/such/request.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rpl_cmd()
        .args([
            "eval",
            "--policies",
            "no/such/dir",
            "examples/official_mall/01-contract-example.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = rpl_cmd().args(["eval"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_toml_request_file_decides_like_its_json_twin() {
    let run = |path: &str| {
        let out = rpl_cmd()
            .args(["eval", "--format", "json", path])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{path}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        run("examples/toml/01-contract-example.toml"),
        run("examples/official_mall/01-contract-example.json")
    );
}

#[test]
fn output_file_without_batch_is_a_usage_error() {
    let out = rpl_cmd()
        .args([
            "eval",
            "-o",
            "out.jsonl",
            "examples/official_mall/02-undelivered.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `examples/request.json` is the contract's sample request and
/// `examples/requests.jsonl` a sample batch, for the README's first
/// commands: each decides as the example it was copied from does.
#[test]
fn the_sample_request_and_batch_decide_like_their_examples() {
    let engine = rpl::Engine::load(root().join("policies")).unwrap();
    let decide = |text: &str| serde_json::to_value(engine.evaluate_json(text, false)).unwrap();
    let sample = decide(&std::fs::read_to_string(root().join("examples/request.json")).unwrap());
    let mut original = decide(
        &std::fs::read_to_string(root().join("examples/official_mall/01-contract-example.json"))
            .unwrap(),
    );
    original["request_id"] = "RF-20250103-0001".into();
    assert_eq!(sample, original);

    let by_id: std::collections::HashMap<String, Value> = examples()
        .iter()
        .map(|p| decide(&std::fs::read_to_string(p).unwrap()))
        .filter_map(|d| Some((d["request_id"].as_str()?.to_owned(), d)))
        .collect();
    let batch = std::fs::read_to_string(root().join("examples/requests.jsonl")).unwrap();
    for line in batch.lines().skip(1) {
        let got = decide(line);
        let id = got["request_id"].as_str().unwrap();
        assert_eq!(got, by_id[id], "{id}");
    }
}
