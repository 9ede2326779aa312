//! Every example request `examples/<group>/NN-name.json` gives the decision
//! `examples/<group>/expected/NN-name.json` states (the rulebook's, worked
//! out independently), both through the library and through `rpl eval
//! --format json`.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn examples() -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root().join("examples")).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "json") {
                let expected = dir.join("expected").join(f.file_name().unwrap());
                let text = std::fs::read_to_string(&expected)
                    .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
                out.push((f, serde_json::from_str(&text).unwrap()));
            }
        }
        // And no expectation is left without its request.
        if let Ok(expected) = std::fs::read_dir(dir.join("expected")) {
            for e in expected {
                let name = e.unwrap().file_name();
                assert!(dir.join(&name).is_file(), "{}: no request", name.display());
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 60, "examples went missing: {}", out.len());
    out
}

/// The fields the expectation fixes: the whole decision but `message`
/// (policy prose), and for errors the code and the path.
fn comparable(got: &Value, expected: &Value) -> Value {
    if expected.get("error").is_some() {
        serde_json::json!({
            "request_id": got["request_id"],
            "error": { "code": got["error"]["code"], "path": got["error"]["path"] },
        })
    } else {
        let mut g = got.clone();
        let g_obj = g.as_object_mut().unwrap();
        g_obj.remove("policy_version");
        let message = g_obj.remove("message");
        assert!(
            message
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|m| !m.is_empty()),
            "a decision always carries a message: {got}"
        );
        g
    }
}

#[test]
fn every_example_decides_as_the_rulebook_says_through_the_library() {
    let engine = rpl::Engine::load(root().join("policies")).unwrap();
    let mut failures = Vec::new();
    for (path, expected) in examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        let got = serde_json::to_value(engine.evaluate_json(&text, false)).unwrap();
        if comparable(&got, &expected) != expected {
            failures.push(format!(
                "{}\n  expected {expected}\n  got      {got}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_example_decides_as_the_rulebook_says_through_the_cli() {
    let list = examples();
    let paths: Vec<&PathBuf> = list.iter().map(|(p, _)| p).collect();
    let out = assert_cmd::Command::cargo_bin("rpl")
        .unwrap()
        .current_dir(root())
        .arg("eval")
        .args(["--format", "json"])
        .args(&paths)
        .output()
        .unwrap();
    // Some examples are errors on purpose: exit 1, every request answered.
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), list.len());
    for ((path, expected), got) in list.iter().zip(&lines) {
        assert_eq!(comparable(got, expected), *expected, "{}", path.display());
    }
}

#[test]
fn explain_trace_lists_every_rule_up_to_the_decision_with_values() {
    let engine = rpl::Engine::load(root().join("policies")).unwrap();
    let text =
        std::fs::read_to_string(root().join("examples/official_mall/18-national-day-outside.json"))
            .unwrap();
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
    let window = &trace[8]["conditions"][0];
    assert_eq!(window["result"], false);
    assert_eq!(
        window["note"],
        "requested_at 2025-10-10, window ended 2025-10-09"
    );
    assert!(
        window["location"]
            .as_str()
            .unwrap()
            .starts_with("policies/common.rpl:")
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
            "examples/official_mall/24-high-value-threshold-over.json",
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
            "examples/official_mall/18-national-day-outside.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(
        "explain_national_day",
        String::from_utf8(out.stdout).unwrap()
    );
    let out = rpl_cmd()
        .args(["eval", "examples/errors/02-missing-paid-amount.json"])
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
    assert_eq!(lines[0]["decision"], "approve");
    for (i, code) in [
        (1, "rpl::request::syntax"),
        (2, "rpl::request::syntax"),
        (3, "rpl::request::syntax"),
    ] {
        assert_eq!(lines[i]["error"]["code"], code);
        assert_eq!(lines[i]["line"], i as u64 + 1);
    }
    assert_eq!(lines[4]["decision"], "approve");
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
/// commands: each must decide as the example it was copied from does.
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
        .into_iter()
        .filter_map(|(_, expected)| Some((expected["request_id"].as_str()?.to_owned(), expected)))
        .collect();
    let batch = std::fs::read_to_string(root().join("examples/requests.jsonl")).unwrap();
    let mut verdicts = Vec::new();
    for line in batch.lines().skip(1) {
        let got = decide(line);
        let id = got["request_id"].as_str().unwrap();
        assert_eq!(comparable(&got, &by_id[id]), by_id[id], "{id}");
        verdicts.push(got["decision"].as_str().unwrap_or("error").to_owned());
    }
    // A deny, a review and an error, so the sample shows each kind.
    for kind in ["deny", "review", "error"] {
        assert!(verdicts.iter().any(|v| v == kind), "{verdicts:?}");
    }
}
