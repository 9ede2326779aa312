//! `rpl explain` for a denial or a review: the smallest changes that would
//! get the request approved, for people and in JSON, each one decided
//! again here by the library. On the frozen policies.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{frozen_policies, manifest_dir, stdout, tempdir};

/// A frozen request with `edit` made, written into `dir`.
fn request(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let text = std::fs::read_to_string(
        manifest_dir().join("tests/fixtures/frozen/requests/18-national-day-outside.json"),
    )
    .unwrap();
    let mut json: Value = serde_json::from_str(&text).unwrap();
    json["request_id"] = name.into();
    edit(&mut json);
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

/// Delivered 2025-03-03, asked 9 days later for no reason: past the window.
fn late(json: &mut Value) {
    json["order"]["placed_at"] = "2025-03-01T20:00:00+08:00".into();
    json["order"]["delivered_at"] = "2025-03-03T11:00:00+08:00".into();
    json["requested_at"] = "2025-03-12T10:00:00+08:00".into();
}

/// An activated phone, asked for in time.
fn activated(json: &mut Value) {
    late(json);
    json["requested_at"] = "2025-03-05T10:00:00+08:00".into();
    json["item"]["activated"] = true.into();
    json["item"]["condition"] = "opened_intact".into();
}

fn explain(args: &[&str], request: &Path) -> std::process::Output {
    assert_cmd::Command::cargo_bin("rpl")
        .unwrap()
        .current_dir(manifest_dir())
        .env("NO_COLOR", "1")
        .arg("explain")
        .args(args)
        .arg("--policies")
        .arg("tests/fixtures/frozen/policies")
        .arg(request)
        .output()
        .unwrap()
}

/// The summary and the changes: what comes before the trace.
fn head(out: &std::process::Output) -> String {
    let text = stdout(out);
    text.split("\nrules considered").next().unwrap().to_owned()
}

#[test]
fn a_late_request_would_be_approved_if_requested_in_the_window() {
    let dir = tempdir();
    let out = explain(&[], &request(dir.path(), "late", late));
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("explain_late_counterfactuals", head(&out));
}

#[test]
fn an_activated_phone_would_be_approved_if_not_activated() {
    let dir = tempdir();
    let out = explain(&[], &request(dir.path(), "activated", activated));
    assert_eq!(out.status.code(), Some(0));
    let head = head(&out);
    assert!(head.contains("\n  item.activated were false\n"), "{head}");
    insta::assert_snapshot!("explain_activated_counterfactuals", head);
}

/// Every change listed in JSON, made to the request, gets it approved;
/// an approval and an error have none listed.
#[test]
fn every_counterfactual_is_approved_when_made() {
    let engine = rpl::Engine::load(frozen_policies()).unwrap();
    let dir = tempdir();
    let high =
        manifest_dir().join("tests/fixtures/frozen/requests/24-high-value-threshold-over.json");
    let national =
        manifest_dir().join("tests/fixtures/frozen/requests/18-national-day-outside.json");
    let requests = [
        request(dir.path(), "late", late),
        request(dir.path(), "activated", activated),
        request(dir.path(), "excluded", |j| {
            late(j);
            j["requested_at"] = "2025-03-05T10:00:00+08:00".into();
            j["item"]["category"] = "digital".into();
        }),
        request(dir.path(), "fault", |j| {
            j["reason"] = "performance_fault".into();
        }),
        national,
        high,
    ];
    let mut seen = 0;
    for path in &requests {
        let out = explain(&["--format", "json"], path);
        assert_eq!(out.status.code(), Some(0));
        let got: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_ne!(got["decision"], "approve", "{}", path.display());
        let found = got["counterfactuals"].as_array().unwrap();
        assert!(!found.is_empty(), "{}", path.display());
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for cf in found {
            let mut changed = original.clone();
            let changes = cf["changes"].as_array().unwrap();
            assert!(!changes.is_empty() && changes.len() <= 2, "{cf}");
            for c in changes {
                let path: Vec<&str> = c["field"].as_str().unwrap().split('.').collect();
                let (last, groups) = path.split_last().unwrap();
                let mut at = &mut changed;
                for g in groups {
                    at = &mut at[*g];
                }
                if c["to"].is_null() {
                    at.as_object_mut().unwrap().remove(*last);
                } else {
                    at[*last] = c["to"].clone();
                }
            }
            let decided =
                serde_json::to_value(engine.evaluate_json(&changed.to_string(), false)).unwrap();
            assert_eq!(decided["decision"], "approve", "{cf} on {}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 8, "{seen} counterfactuals");
    // An approval, and an error: no `counterfactuals`.
    let approved = request(dir.path(), "approved", |j| {
        late(j);
        j["requested_at"] = "2025-03-05T10:00:00+08:00".into();
    });
    let error = request(dir.path(), "error", |j| {
        j["payment"]["method"] = "cash".into();
    });
    for path in [approved, error] {
        let out = explain(&["--format", "json"], &path);
        let got: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert!(got.get("counterfactuals").is_none(), "{got}");
        assert!(!stdout(&explain(&[], &path)).contains("would be approved"));
    }
}
