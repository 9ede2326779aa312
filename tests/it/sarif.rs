//! `rpl check --format sarif`: every log is held to the published SARIF
//! 2.1.0 schema (`tests/sarif/`, see its README), and kept as a snapshot
//! of the failing fixtures of `tests/diagnostics/`.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use crate::util;

/// The OASIS schema, its formats checked too. It declares draft-04, which
/// has no `uri-reference` format, and uses no keyword whose meaning changed
/// by draft-07: read as draft-07, the format SARIF gives a file's `uri`
/// is checked as well.
fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = util::manifest_dir().join("tests/sarif/sarif-schema-2.1.0.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    })
}

/// Fails, with every schema error, unless `log` is valid SARIF 2.1.0.
pub(crate) fn assert_valid(log: &Value) {
    let errors: Vec<String> = schema()
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid SARIF 2.1.0: {errors:#?}\n{log:#}"
    );
}

/// Runs `rpl check --format sarif ARGS` in `dir`; the log, held to the
/// schema and with the version of `rpl` taken out, and the exit code.
fn sarif(dir: &Path, args: &[&str]) -> (Value, Option<i32>) {
    let out = assert_cmd::cargo::cargo_bin_cmd!("rpl")
        .current_dir(dir)
        .args(["check", "--format", "sarif"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&log);
    let version = &mut log["runs"][0]["tool"]["driver"]["version"];
    assert_eq!(*version, env!("CARGO_PKG_VERSION"));
    *version = "[version]".into();
    (log, out.status.code())
}

/// The schema turns away what SARIF does not allow, so a log passing it
/// means something.
#[test]
fn the_schema_rejects_a_broken_log() {
    let broken = serde_json::json!({
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "rpl" } },
            "results": [{ "message": { "text": "m" }, "level": "fatal" }],
        }],
    });
    assert!(!schema().is_valid(&broken));
    // A URI with a raw space: the formats are checked too.
    let raw_space = serde_json::json!({
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "rpl" } },
            "results": [{
                "message": { "text": "m" },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": "a b.rpl" } },
                }],
            }],
        }],
    });
    assert!(!schema().is_valid(&raw_space));
}

#[test]
fn a_clean_run_has_no_results() {
    let tmp = util::tempdir();
    util::frozen_copy(tmp.path());
    let (log, code) = sarif(tmp.path(), &["policies"]);
    assert_eq!(code, Some(0));
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    insta::assert_json_snapshot!(log);
}

/// An error whose fix is in another file (a related location), beside a
/// warning: `check/bad_operands.constant` with a constant left unused.
#[test]
fn errors_warnings_and_related_places() {
    let tmp = util::tempdir();
    let fixture = util::manifest_dir().join("tests/diagnostics/check/bad_operands.constant");
    util::copy_dir(&fixture, tmp.path());
    util::schema_only(tmp.path());
    let shared = tmp.path().join("policies/shared.rpl");
    let text = std::fs::read_to_string(&shared).unwrap();
    std::fs::write(&shared, text + "\nconst forgotten = 1\n").unwrap();

    let (log, code) = sarif(tmp.path(), &["policies"]);
    assert_eq!(code, Some(1));
    let results = log["runs"][0]["results"].as_array().unwrap();
    let summary: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r["ruleId"].as_str().unwrap(), r["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("rpl::check::bad_operands", "error"),
            ("rpl::check::unused_definition", "warning")
        ]
    );
    let related = &results[0]["relatedLocations"][0]["physicalLocation"];
    assert_eq!(related["artifactLocation"]["uri"], "policies/shared.rpl");
    assert_eq!(related["region"]["startLine"], 4);
    insta::assert_json_snapshot!(log);
}

/// Warnings fail the run as in the other formats: only when denied.
#[test]
fn warnings_fail_only_when_denied() {
    let tmp = util::tempdir();
    let policies = util::schema_only(tmp.path());
    let fixture = util::manifest_dir().join("tests/diagnostics/check/unused_definition.rpl");
    std::fs::copy(fixture, policies.join("official_mall.rpl")).unwrap();
    let (log, code) = sarif(tmp.path(), &["policies/official_mall.rpl"]);
    assert_eq!(code, Some(0));
    assert_eq!(log["runs"][0]["results"][0]["level"], "warning");
    let (_, code) = sarif(
        tmp.path(),
        &["policies/official_mall.rpl", "--deny-warnings"],
    );
    assert_eq!(code, Some(1));
}

/// A diagnostic's second label is a related location too; a file name
/// with a space and Chinese in it is a valid URI reference.
#[test]
fn second_labels_and_file_names() {
    let tmp = util::tempdir();
    let policies = util::schema_only(tmp.path());
    let fixture = util::manifest_dir().join("tests/diagnostics/check/duplicate_name.rpl");
    std::fs::copy(fixture, policies.join("重复 name.rpl")).unwrap();
    let (log, code) = sarif(tmp.path(), &["policies/重复 name.rpl"]);
    assert_eq!(code, Some(1));
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "rpl::check::duplicate_name");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "policies/%E9%87%8D%E5%A4%8D%20name.rpl"
    );
    assert_eq!(
        result["locations"][0]["message"]["text"],
        "defined again here"
    );
    assert_eq!(
        result["relatedLocations"][0]["message"]["text"],
        "first defined here"
    );
    insta::assert_json_snapshot!(log);
}

/// A usage error (no such directory) is still one valid log, exit 2.
#[test]
fn a_usage_error_is_a_result_too() {
    let tmp = util::tempdir();
    let (log, code) = sarif(tmp.path(), &["no-such-dir"]);
    assert_eq!(code, Some(2));
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "rpl::load::io");
}
