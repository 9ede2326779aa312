//! `rpl diff`: what two versions of the frozen policies decide
//! differently, every witness checked by deciding it under both.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::util::{self, copy_dir, frozen_policies, stdout, tempdir};

fn rpl(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("rpl")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RPL_POLICIES")
        .args(args)
        .output()
        .unwrap()
}

/// `dir/old` (the frozen policies) and `dir/new`, a copy with `edit`
/// applied to `file`.
fn versions(dir: &Path, file: &str, from: &str, to: &str) -> (PathBuf, PathBuf) {
    let (old, new) = (dir.join("old"), dir.join("new"));
    copy_dir(&frozen_policies(), &old);
    copy_dir(&frozen_policies(), &new);
    let path = new.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "`{from}` is not in {file}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
    (old, new)
}

/// The return window of `common.rpl`, 7 days, made 10.
fn ten_days(dir: &Path) -> (PathBuf, PathBuf) {
    versions(
        dir,
        "common.rpl",
        "requested_at within 7 days after order.delivered_at",
        "requested_at within 10 days after order.delivered_at",
    )
}

/// The high-value threshold of `official_mall`, 20000.00, made 15000.00.
fn threshold(dir: &Path) -> (PathBuf, PathBuf) {
    versions(
        dir,
        "official_mall.rpl",
        "const high_value_threshold = 20000.00 CNY",
        "const high_value_threshold = 15000.00 CNY",
    )
}

/// `rpl diff --format json OLD NEW`: the exit code and the report.
fn json_diff(dir: &Path, old: &Path, new: &Path) -> (Option<i32>, Value) {
    let out = rpl(
        dir,
        &[
            "diff",
            "--format",
            "json",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", util::stderr(&out)));
    (out.status.code(), report)
}

/// Every witness decided by each version gives the answer the change
/// shows for it.
fn assert_witnesses_hold(old: &Path, new: &Path, report: &Value) {
    let engines = [
        ("old", rpl::Engine::load(old).unwrap()),
        ("new", rpl::Engine::load(new).unwrap()),
    ];
    let changes = report["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for c in changes {
        let witness = c["witness"].to_string();
        for (side, engine) in &engines {
            let got = match engine.evaluate_json(&witness, false) {
                rpl::Outcome::Decision(d) => (d.decision.as_str().to_owned(), d.rule().to_string()),
                rpl::Outcome::Failure(f) => ("error".to_owned(), f.error.code.clone()),
            };
            // A version that fails shows the code as `error`, not as a rule.
            let rule = c[side]["rule"].as_str().or(c[side]["error"].as_str());
            let shown = (
                c[side]["decision"].as_str().unwrap().to_owned(),
                rule.unwrap().to_owned(),
            );
            assert_eq!(got, shown, "{side} for {witness}");
        }
    }
}

/// The calendar date of a timestamp as written (`2025-07-02T12:00:00+08:00`).
fn date(v: &Value) -> jiff::civil::Date {
    v.as_str().unwrap()[..10].parse().unwrap()
}

#[test]
fn a_longer_return_window_approves_what_was_denied() {
    let tmp = tempdir();
    let (old, new) = ten_days(tmp.path());
    let (code, report) = json_diff(tmp.path(), &old, &new);
    assert_eq!(code, Some(1));
    let changes = report["changes"].as_array().unwrap();
    let opened = changes
        .iter()
        .find(|c| {
            c["channel"] == "official_mall"
                && c["old"]["decision"] == "deny"
                && c["new"]["decision"] == "approve"
                && c["new"]["rule"] == "seven_day_no_reason"
        })
        .unwrap_or_else(|| panic!("no deny → approve by seven_day_no_reason: {report:#}"));
    let w = &opened["witness"];
    let days = (date(&w["requested_at"]) - date(&w["order"]["delivered_at"])).get_days();
    // Past the old window (7 days), inside the new one: 10 days, rolled
    // to the next working day when it ends on a rest day (a holiday week
    // at most).
    assert!((8..=17).contains(&days), "{days} days: {w}");
    assert_witnesses_hold(&old, &new, &report);
}

#[test]
fn a_lower_threshold_sends_approvals_to_review() {
    let tmp = tempdir();
    let (old, new) = threshold(tmp.path());
    let (code, report) = json_diff(tmp.path(), &old, &new);
    assert_eq!(code, Some(1));
    let changes = report["changes"].as_array().unwrap();
    let reviewed = changes
        .iter()
        .filter(|c| c["old"]["decision"] == "approve" && c["new"]["decision"] == "review")
        .collect::<Vec<_>>();
    assert!(!reviewed.is_empty(), "{report:#}");
    for c in &reviewed {
        let amount = c["old"]["amount"].as_str().unwrap();
        let amount: rust_decimal::Decimal = amount.trim_end_matches(" CNY").parse().unwrap();
        assert!(
            amount > rust_decimal::Decimal::new(15000, 0)
                && amount <= rust_decimal::Decimal::new(20000, 0),
            "{amount}"
        );
    }
    // Nothing but the threshold moved.
    assert!(changes.iter().all(|c| c["channel"] == "official_mall"));
    assert_witnesses_hold(&old, &new, &report);
}

#[test]
fn a_formatted_copy_decides_the_same() {
    let tmp = tempdir();
    let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
    copy_dir(&frozen_policies(), &old);
    copy_dir(&frozen_policies(), &new);
    let common = new.join("common.rpl");
    let text = std::fs::read_to_string(&common).unwrap();
    std::fs::write(
        &common,
        format!("// a comment, and loose layout\n\n\n{text}\n\n"),
    )
    .unwrap();
    let out = rpl(tmp.path(), &["fmt", "--write", new.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    let out = rpl(tmp.path(), &["diff", "old", "new"]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    assert!(stdout(&out).ends_with("no changes\n"), "{}", stdout(&out));
}

#[test]
fn human_and_markdown_output() {
    let tmp = tempdir();
    ten_days(tmp.path());
    for format in ["human", "markdown"] {
        let out = rpl(tmp.path(), &["diff", "--format", format, "old", "new"]);
        assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
        insta::assert_snapshot!(format!("diff_ten_days_{format}"), stdout(&out));
    }
}

#[test]
fn sarif_is_valid_with_a_result_per_change() {
    let tmp = tempdir();
    threshold(tmp.path());
    let out = rpl(tmp.path(), &["diff", "--format", "sarif", "old", "new"]);
    assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::sarif::assert_valid(&log);
    let (_, report) = json_diff(tmp.path(), Path::new("old"), Path::new("new"));
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report["changes"].as_array().unwrap().len());
    for r in results {
        assert_eq!(r["ruleId"], "rpl::diff::changed");
        assert_eq!(r["level"], "warning");
        let at = &r["locations"][0]["physicalLocation"];
        // The rule that decides now, where it is written (an import's
        // file, for a rule of common.rpl).
        let uri = at["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("new/") && uri.ends_with(".rpl"), "{r:#}");
        assert!(at["region"]["startLine"].as_u64().unwrap() > 0);
    }
}

/// Each request of `examples/official_mall/` as one line, and a line that
/// is no request.
fn requests_jsonl(dir: &Path) -> (PathBuf, Vec<String>) {
    let mut lines = Vec::new();
    let examples = util::manifest_dir().join("examples/official_mall");
    let mut files: Vec<_> = std::fs::read_dir(examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for f in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        lines.push(v.to_string());
    }
    lines.push("{not json".to_owned());
    let path = dir.join("requests.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (path, lines)
}

#[test]
fn replay_counts_what_changes() {
    let tmp = tempdir();
    let (old, new) = threshold(tmp.path());
    let (path, lines) = requests_jsonl(tmp.path());
    // What each version decides, line by line, worked out here.
    let (o, n) = (
        rpl::Engine::load(&old).unwrap(),
        rpl::Engine::load(&new).unwrap(),
    );
    let decide = |e: &rpl::Engine, line: &str| match e.evaluate_json(line, false) {
        rpl::Outcome::Decision(d) => Some((d.decision.as_str().to_owned(), d.rule().to_string())),
        rpl::Outcome::Failure(_) => None,
    };
    let flips = lines
        .iter()
        .filter(|l| decide(&o, l).map(|d| d.0) == Some("approve".into()))
        .filter(|l| decide(&n, l).map(|d| d.0) == Some("review".into()))
        .count();
    assert!(flips >= 1, "no example is between the thresholds");
    let out = rpl(
        tmp.path(),
        &[
            "diff",
            "--format",
            "json",
            "--replay",
            path.to_str().unwrap(),
            "old",
            "new",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let replay = &report["replay"];
    assert_eq!(replay["requests"], lines.len());
    assert!(replay["errors"].as_u64().unwrap() >= 1);
    assert_eq!(replay["flips"]["approve → review"], flips);
    let examples = replay["examples"].as_array().unwrap();
    assert_eq!(
        examples.len(),
        flips.min(3) + usize::from(replay["other"] != 0).min(3)
    );
    let first = &examples[0];
    let line = &lines[first["line"].as_u64().unwrap() as usize - 1];
    assert_eq!(decide(&o, line).unwrap().0, first["old"]["decision"]);
    assert_eq!(decide(&n, line).unwrap().0, first["new"]["decision"]);
    // Refunds to review are not paid: the total refunded falls.
    let totals = replay["totals"].as_array().unwrap();
    assert!(
        totals
            .iter()
            .any(|t| t["change"].as_str().unwrap().starts_with('-')),
        "{totals:#?}"
    );
    // The same in words.
    let out = rpl(
        tmp.path(),
        &["diff", "--replay", path.to_str().unwrap(), "old", "new"],
    );
    let text = stdout(&out);
    assert!(
        text.contains(&format!("approve → review: {flips}")),
        "{text}"
    );
    // A gzipped replay is read as `eval --batch` reads one: the same report.
    let gz = tmp.path().join("requests.jsonl.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, &std::fs::read(&path).unwrap()).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    let zipped = rpl(
        tmp.path(),
        &["diff", "--replay", gz.to_str().unwrap(), "old", "new"],
    );
    assert_eq!(stdout(&zipped), text);
}

#[test]
fn written_tests_pass_against_the_new_version() {
    let tmp = tempdir();
    threshold(tmp.path());
    let args = ["diff", "--write-tests", "pinned", "old", "new"];
    let out = rpl(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
    let file = tmp.path().join("pinned/diff.toml");
    assert!(file.is_file());
    let out = rpl(
        tmp.path(),
        &["test", "--policies", "new", "pinned/diff.toml"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        util::stderr(&out)
    );
    // Against the old version, every case fails.
    let out = rpl(
        tmp.path(),
        &["test", "--policies", "old", "pinned/diff.toml"],
    );
    assert_eq!(out.status.code(), Some(1));
    // Not replaced unless asked.
    let out = rpl(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        util::stderr(&out).contains("--force"),
        "{}",
        util::stderr(&out)
    );
    let out = rpl(tmp.path(), &[&args[..], &["--force"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", util::stderr(&out));
}

#[test]
fn git_compares_a_revision_with_the_working_tree() {
    let tmp = tempdir();
    let repo = tmp.path().join("repo");
    let policies = util::frozen_copy(&repo);
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "frozen"]);
    // Unchanged: the same.
    let out = rpl(&repo, &["diff", "--git", "HEAD", "policies"]);
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    let path = policies.join("official_mall.rpl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("20000.00 CNY", "15000.00 CNY")).unwrap();
    // Found from the working directory, as other commands find it.
    let out = rpl(&repo, &["diff", "--git", "HEAD", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!report["changes"].as_array().unwrap().is_empty());
    let out = rpl(&repo.join("policies"), &["diff", "--git", "HEAD", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
    // A revision that does not exist, a folder outside any repository.
    let out = rpl(&repo, &["diff", "--git", "no-such-rev", "policies"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        util::stderr(&out).contains("`no-such-rev` is not a revision"),
        "{}",
        util::stderr(&out)
    );
    // A revision that git would read as an option is refused before git
    // runs: `--output=FILE` would have it write a file.
    let written = repo.join("written");
    let option = format!("--git=--output={}", written.display());
    let out = rpl(&repo, &["diff", &option, "policies"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        util::stderr(&out).contains("starts with `-`"),
        "{}",
        util::stderr(&out)
    );
    assert!(!written.exists());
    let outside = tmp.path().join("outside");
    util::frozen_copy(&outside);
    // (The temporary directory is inside this repository's checkout.)
    let out = assert_cmd::cargo::cargo_bin_cmd!("rpl")
        .current_dir(&outside)
        .env("GIT_CEILING_DIRECTORIES", tmp.path())
        .args(["diff", "--git", "HEAD", "policies"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        util::stderr(&out).contains("not in a git repository"),
        "{}",
        util::stderr(&out)
    );
}

#[test]
fn usage_errors() {
    let tmp = tempdir();
    let out = rpl(tmp.path(), &["diff", "only-one"]);
    assert_eq!(out.status.code(), Some(2));
    let out = rpl(tmp.path(), &["diff", "missing-a", "missing-b"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A rule for one request id is a change: the ids the policies compare
/// with are regions of their own (the diff once tried the witnesses' id
/// only, and said `no changes`).
#[test]
fn a_rule_for_one_request_id_is_a_change() {
    let tmp = tempdir();
    let (old, new) = versions(
        tmp.path(),
        "common.rpl",
        "rules core {\n",
        "rules core {\n    rule vip {\n        when request_id == \"VIP-1\"\n        deny\n    }\n\n",
    );
    let (code, report) = json_diff(tmp.path(), &old, &new);
    assert_eq!(code, Some(1), "{report:#}");
    let changes = report["changes"].as_array().unwrap();
    assert!(!changes.is_empty(), "{report:#}");
    for c in changes {
        assert_eq!(c["witness"]["request_id"], "VIP-1", "{c:#}");
        assert_eq!(c["new"]["rule"], "vip", "{c:#}");
    }
}

/// A changed time zone moves the dates of requests near midnight, which
/// the regions' sample hours do not reach: said in a note (the diff itself
/// finds nothing).
#[test]
fn a_changed_time_zone_is_noted() {
    let tmp = tempdir();
    let (old, new) = versions(
        tmp.path(),
        "official_mall.rpl",
        "timezone = \"Asia/Shanghai\"",
        "timezone = \"UTC\"",
    );
    let (_, report) = json_diff(tmp.path(), &old, &new);
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("official_mall: the time zone changed")),
        "{report:#}"
    );
}
