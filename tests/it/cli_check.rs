//! `rpl check` as a user runs it: the real binary against policy
//! directories, every output format, and the exit codes of the contract
//! (0 clean, 1 errors or denied warnings, 2 usage or I/O error).

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util;

/// Runs `rpl ARGS` in `dir` without colour, at a fixed width.
fn rpl(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("rpl")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A copy of the shipped policies in a fresh directory, with `edit` applied
/// to `policies/common.rpl`.
fn edited_copy(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let tmp = util::tempdir();
    let common = util::frozen_copy(tmp.path()).join("common.rpl");
    let before = std::fs::read_to_string(&common).unwrap();
    let after = edit(before.clone());
    assert_ne!(before, after, "the edit changed nothing");
    std::fs::write(&common, after).unwrap();
    tmp
}

/// The shipped policies with `item.condition` misspelt once in `common.rpl`;
/// also the 1-based line and column of the misspelling.
fn misspelt() -> (tempfile::TempDir, usize, usize) {
    let tmp = edited_copy(|t| t.replacen("item.condition", "item.conditon", 1));
    let text = std::fs::read_to_string(tmp.path().join("policies/common.rpl")).unwrap();
    let at = text.find("item.conditon").unwrap();
    let line = text[..at].lines().count().max(1);
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..at].chars().count() + 1;
    (tmp, line, column)
}

/// A clean policy directory (the frozen copy of the shipped one: whether
/// the shipped policies are clean is `rpl check --deny-warnings` in
/// `.ci/run`) reports no problems.
#[test]
fn a_clean_policy_directory_passes() {
    let tmp = util::tempdir();
    util::frozen_copy(tmp.path());
    let out = rpl(tmp.path(), &["check", "policies"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.ends_with("no problems\n"), "{stderr}");
    assert!(out.stdout.is_empty());
    // `policies/` is the default.
    let out = rpl(tmp.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn misspelt_field_human() {
    let (tmp, line, column) = misspelt();
    let out = rpl(tmp.path(), &["check", "policies"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "diagnostics go to stderr");
    assert!(stderr.contains("rpl::check::unknown_field"), "{stderr}");
    // The header counts the column in characters, as the JSON, GitHub and
    // SARIF records and editors do (miette's own count is in bytes): the
    // line holds Chinese text before the misspelling.
    let common = std::fs::read_to_string(tmp.path().join("policies/common.rpl")).unwrap();
    let line_text = common.lines().nth(line - 1).unwrap();
    let byte_column = line_text.find("item.conditon").unwrap() + 1;
    assert!(
        column < byte_column,
        "the line has multi-byte text before it"
    );
    assert!(
        stderr.contains(&format!("[policies/common.rpl:{line}:{column}]")),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `item.condition`?"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "NO_COLOR: no escape codes");
    insta::assert_snapshot!(stderr);
}

#[test]
fn misspelt_field_json() {
    let (tmp, line, column) = misspelt();
    let out = rpl(tmp.path(), &["check", "policies", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let records: Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = records.as_array().unwrap();
    let errors: Vec<&Value> = records
        .iter()
        .filter(|r| r["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "one mistake, one error: {records:#?}");
    let r = errors[0];
    assert_eq!(r["code"], "rpl::check::unknown_field");
    assert_eq!(r["message"], "unknown field `item.conditon`");
    assert_eq!(r["file"], "policies/common.rpl");
    assert_eq!(r["line"], line);
    assert_eq!(r["column"], column);
    assert_eq!(r["label"], "not a field of the request schema");
    assert_eq!(r["help"], "did you mean `item.condition`?");
    // The span is byte offsets of exactly the misspelt path.
    let source = std::fs::read_to_string(tmp.path().join("policies/common.rpl")).unwrap();
    let [start, end] = [&r["span"][0], &r["span"][1]].map(|v| v.as_u64().unwrap() as usize);
    assert_eq!(&source[start..end], "item.conditon");
}

#[test]
fn misspelt_field_github() {
    let (tmp, line, column) = misspelt();
    let out = rpl(tmp.path(), &["check", "policies", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // The end is the last character of `item.conditon`, 13 characters long.
    let end = column + 12;
    let want = format!(
        "::error file=policies/common.rpl,line={line},col={column},endLine={line},\
         endColumn={end},title=rpl%3A%3Acheck%3A%3Aunknown_field::unknown field \
         `item.conditon`%0Ahelp: did you mean `item.condition`?"
    );
    assert!(stdout.lines().any(|l| l == want), "{stdout}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn warnings_fail_only_when_denied() {
    let tmp = edited_copy(|t| t + "\nconst forgotten = 1\n");
    let out = rpl(tmp.path(), &["check", "policies"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("rpl::check::unused_definition"), "{stderr}");
    assert!(
        stderr.contains("constant `forgotten` is never used"),
        "{stderr}"
    );

    let out = rpl(tmp.path(), &["check", "policies", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn missing_path_is_a_usage_error() {
    let tmp = util::tempdir();
    let out = rpl(tmp.path(), &["check", "no-such-dir"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("rpl::load::io"), "{stderr}");
    assert!(stderr.contains("`no-such-dir`"), "{stderr}");
    // With no path, the policy directory is searched for: `policy_dir.rs`.
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = rpl(util::manifest_dir(), &["check", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// Regression: a shared file checked on its own used to report only that
/// its rule groups were unused, since groups are checked where a policy
/// uses them; it is now checked as part of its directory.
#[test]
fn a_named_shared_file_is_checked_where_its_policies_use_it() {
    let (tmp, line, _) = misspelt();
    for file in ["policies/common.rpl", "policies/offline_store.rpl"] {
        let out = rpl(tmp.path(), &["check", "--format", "json", file]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let records: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let records = records.as_array().unwrap();
        assert_eq!(records.len(), 1, "{file}: {records:?}");
        assert_eq!(records[0]["code"], "rpl::check::unknown_field");
        assert_eq!(records[0]["line"], line as u64);
    }
    let shipped = rpl(
        util::manifest_dir(),
        &["check", "--deny-warnings", "policies/common.rpl"],
    );
    assert_eq!(shipped.status.code(), Some(0), "{}", text(&shipped.stderr));
}

/// A rule the fault rules before it take every request of (the analysis's
/// `unreachable_rule`): a warning naming them, with a request that shows
/// it; reported whether the policy directory, the file holding the rule,
/// or a policy using it is named.
#[test]
fn unreachable_rule_human() {
    let tmp = util::tempdir();
    crate::analysis::fault_late_return(tmp.path());
    let out = rpl(tmp.path(), &["check", "policies"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "a warning only: {stderr}");
    assert!(stderr.contains("rpl::check::unreachable_rule"), "{stderr}");
    assert!(
        stderr.contains("`fault_return`") && stderr.contains("that shows it: {"),
        "{stderr}"
    );
    insta::assert_snapshot!(stderr);
    for named in ["policies/common.rpl", "policies/offline_store.rpl"] {
        let out = rpl(tmp.path(), &["check", named]);
        let shown = text(&out.stderr);
        assert!(
            shown.contains("rpl::check::unreachable_rule"),
            "{named}: {shown}"
        );
    }
    let out = rpl(tmp.path(), &["check", "policies", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}
