//! `rpl test` as a user runs it: the real binary on a copy of the frozen
//! policies (`tests/fixtures/frozen/`), with test files written for each
//! scenario, in every output format, with coverage and mutation testing,
//! and the exit codes of the contract (0 all passed, 1 a failure or a
//! mistake, 2 nothing to read).

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::{self, stderr, stdout};

/// The request every inline case starts from: a no-reason return on day 2
/// of an official-mall laptop order, which the frozen policies approve by
/// `seven_day_no_reason`.
const BASE: &str = r#"[base]
request_id = "OM-base"
channel = "official_mall"
requested_at = "2025-03-05T10:00:00+08:00"
reason = "no_reason"
order = { order_id = "5250301000024", placed_at = "2025-03-01T20:00:00+08:00", delivered_at = "2025-03-03T11:00:00+08:00" }
item = { sku = "BOOK-1", category = "laptop", paid_amount = "4999.00", quantity = 1, condition = "unopened", activated = false, custom_made = false, non_returnable_confirmed = false, gift_value = "0.00", gift_returned = true }
payment = { method = "credit_card", currency = "CNY", installments = 1, installments_billed = 0 }
"#;

/// Day 8 after delivery: outside a 7-day window, inside an 8-day one.
const DAY_8: &str = r#"
[[case]]
name = "day 8 is outside the window"
request = { requested_at = "2025-03-11T10:00:00+08:00" }
expect = { decision = "deny", rule = "outside_window" }
"#;

const NO_REASON: &str = r#"
[[case]]
name = "no-reason return on day 2"
request = {}
expect = { decision = "approve", rule = "seven_day_no_reason", amount = "4999.00", route = "credit_card" }
"#;

/// A fresh directory holding `policies/` (the frozen copy) and each
/// `(name, text)` as `policies/tests/<name>`.
fn scenario(tests: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = util::tempdir();
    util::copy_dir(
        &util::manifest_dir().join("tests/fixtures/frozen/policies"),
        &tmp.path().join("policies"),
    );
    write_tests(tmp.path(), "policies", tests);
    tmp
}

fn write_tests(root: &Path, policies: &str, tests: &[(&str, &str)]) {
    let dir = root.join(policies).join("tests");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in tests {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Replaces `from` by `to` in `file` (relative to `root`), which must
/// contain it.
fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "`{from}` is not in {file}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Runs `rpl test ARGS` in `dir` without colour, at a fixed width, with no
/// policy directory from the environment.
fn rpl_test(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("rpl")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .env_remove("RPL_POLICIES")
        .arg("test")
        .args(args)
        .output()
        .unwrap()
}

/// Exit 0 with exactly `summary` on stdout.
fn assert_passed(out: &Output, summary: &str) {
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(out), stderr(out));
    assert_eq!(stdout(out).trim_end(), summary);
}

/// The 1-based line of the first line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn all_cases_passing_exit_zero_with_the_summary() {
    let suite = format!("{BASE}{NO_REASON}{DAY_8}");
    let tmp = scenario(&[("mall.toml", &suite)]);
    let out = rpl_test(tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "test result: ok. 2 passed; 0 failed; 0 filtered out; 1 file\n"
    );
    assert_eq!(stderr(&out), "");
}

/// The README's story: the window goes from 7 to 8 days, and the case that
/// pins day 8 fails, naming its file and line, what differs, what came out
/// and why (the rule that decided and the rule it expected).
#[test]
fn a_policy_edit_fails_the_case_that_pins_it() {
    let suite = format!("{BASE}{NO_REASON}{DAY_8}");
    let tmp = scenario(&[("mall.toml", &suite)]);
    assert_eq!(rpl_test(tmp.path(), &[]).status.code(), Some(0));

    edit(
        tmp.path(),
        "policies/common.rpl",
        "within 7 days after",
        "within 8 days after",
    );
    let out = rpl_test(tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let line = line_of(&suite, "name = \"day 8");
    assert!(
        text.starts_with(&format!(
            "FAIL policies/tests/mall.toml:{line}  day 8 is outside the window\n"
        )),
        "{text}"
    );
    assert!(
        text.ends_with("test result: FAILED. 1 passed; 1 failed; 0 filtered out; 1 file\n"),
        "{text}"
    );
    insta::assert_snapshot!(util::relative_to(&text, tmp.path()));
}

#[test]
fn a_filter_runs_only_matching_cases() {
    let suite = format!("{BASE}{NO_REASON}{DAY_8}");
    let tmp = scenario(&[("mall.toml", &suite)]);
    let out = rpl_test(tmp.path(), &["--filter", "window"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "test result: ok. 1 passed; 0 failed; 1 filtered out; 1 file\n"
    );
    // Only the matching case is run: it is the only one in the report.
    let json = json_of(&rpl_test(
        tmp.path(),
        &["--filter", "window", "--format", "json"],
    ));
    let names: Vec<&str> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["day 8 is outside the window"]);
    assert_eq!(json["filtered_out"], 1);
}

#[test]
fn a_filter_matching_nothing_is_no_tests() {
    let suite = format!("{BASE}{NO_REASON}");
    let tmp = scenario(&[("mall.toml", &suite)]);
    let out = rpl_test(tmp.path(), &["--filter", "no such case"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("rpl::test::no_tests"), "{err}");
    assert!(err.contains("none matches the filter"), "{err}");
    assert_eq!(stdout(&out), "");
}

/// A typo in one case is reported with its code and hint; that file's
/// other case and the other file's cases still run, and the run fails.
#[test]
fn a_mistake_in_one_test_file_does_not_stop_the_others() {
    let typo = format!(
        "{BASE}{NO_REASON}
[[case]]
name = \"misspelt\"
request = {{}}
expect = {{ decison = \"approve\" }}
"
    );
    let good = format!("{BASE}{DAY_8}");
    let tmp = scenario(&[("a_typo.toml", &typo), ("b_good.toml", &good)]);
    let out = rpl_test(tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("rpl::test::unknown_key"), "{err}");
    assert!(err.contains("did you mean `decision`?"), "{err}");
    assert!(err.contains("policies/tests/a_typo.toml"), "{err}");
    assert_eq!(
        stdout(&out),
        "test result: FAILED. 2 passed; 0 failed; 0 filtered out; 2 files; 1 mistake in test files\n"
    );
}

#[test]
fn json_reports_counts_mismatches_and_the_outcome() {
    let suite = format!("{BASE}{NO_REASON}{DAY_8}");
    let tmp = scenario(&[("mall.toml", &suite)]);
    edit(
        tmp.path(),
        "policies/common.rpl",
        "within 7 days after",
        "within 8 days after",
    );
    let out = rpl_test(tmp.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json = json_of(&out);
    assert_eq!(json["passed"], 1);
    assert_eq!(json["failed"], 1);
    assert_eq!(json["ok"], false);
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases[0]["passed"], true);
    assert!(cases[0].get("mismatches").is_none());
    let failing = &cases[1];
    assert_eq!(failing["passed"], false);
    assert_eq!(failing["file"], "policies/tests/mall.toml");
    assert_eq!(failing["line"], line_of(&suite, "name = \"day 8"));
    assert_eq!(
        failing["mismatches"],
        serde_json::json!([
            {"field": "decision", "expected": "deny", "actual": "approve"},
            {"field": "rule", "expected": "outside_window", "actual": "seven_day_no_reason"},
        ])
    );
    assert_eq!(failing["outcome"]["decision"], "approve");
    assert_eq!(failing["outcome"]["rule"], "seven_day_no_reason");
    assert!(failing["outcome"]["trace"].is_array());
}

/// CI parses JUnit as XML: a case name with markup characters and a
/// terminal escape must not break the document or reach the viewer raw.
#[test]
fn junit_is_one_document_with_hostile_names_escaped() {
    let hostile = format!(
        "{BASE}{NO_REASON}
[[case]]
name = \"<b> & \\\"q\\\" \\u001b[31m\"
request = {{ requested_at = \"2025-03-11T10:00:00+08:00\" }}
expect = {{ decision = \"approve\" }}
"
    );
    let tmp = scenario(&[("mall.toml", &hostile)]);
    let out = rpl_test(tmp.path(), &["--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    assert!(!xml.contains('\u{1b}'), "a raw ESC byte:\n{xml}");
    assert!(!xml.contains("<b>"), "unescaped markup:\n{xml}");
    assert_eq!(xml.matches("<testsuites ").count(), 1, "{xml}");
    assert_eq!(xml.matches("</testsuites>").count(), 1, "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert!(
        xml.contains(r#"<testcase name="&lt;b&gt; &amp; &quot;q&quot; \u{1b}[31m""#),
        "{xml}"
    );
    // Inside every tag, a `<` can only be markup's own: a raw one in an
    // attribute value would end the document's well-formedness.
    for tag in xml.split('<').skip(1) {
        let inside = tag.split('>').next().unwrap();
        assert_eq!(inside.matches('"').count() % 2, 0, "quotes in <{inside}>");
    }
}

/// A failing case and a mistake in a test file, each a result at its line
/// of its test file, in a log the SARIF schema accepts.
#[test]
fn sarif_places_failing_cases_and_mistakes_at_their_lines() {
    let suite = format!("{BASE}{NO_REASON}{DAY_8}");
    let typo = "[[case]]\nname = \"x\"\nrequest = {}\nexpect = { decison = \"approve\" }\n";
    let tmp = scenario(&[("mall.toml", &suite), ("typo.toml", typo)]);
    edit(
        tmp.path(),
        "policies/common.rpl",
        "within 7 days after",
        "within 8 days after",
    );
    let out = rpl_test(tmp.path(), &["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let log = json_of(&out);
    crate::sarif::assert_valid(&log);
    let places: Vec<(&str, &str, u64)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let place = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap(),
                place["artifactLocation"]["uri"].as_str().unwrap(),
                place["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    let day_8 = u64::try_from(line_of(&suite, "name = \"day 8")).unwrap();
    assert_eq!(
        places,
        [
            ("rpl::test::case_failed", "policies/tests/mall.toml", day_8),
            ("rpl::test::unknown_key", "policies/tests/typo.toml", 4),
        ]
    );
}

/// No case makes `item.custom_made` true: coverage names that operand, and
/// only a minimum it misses fails the run.
#[test]
fn coverage_lists_gaps_and_the_minimum_gates() {
    let suite = format!("{BASE}{NO_REASON}{DAY_8}");
    let tmp = scenario(&[("mall.toml", &suite)]);
    let out = rpl_test(tmp.path(), &["--coverage"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "policies/common.rpl:123:16  never true: `item.custom_made` (rule excluded_goods)"
        ),
        "{text}"
    );
    let out = rpl_test(tmp.path(), &["--min-coverage", "100"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("is below the minimum of 100%"),
        "{}",
        stdout(&out)
    );
    let out = rpl_test(tmp.path(), &["--min-coverage", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// One small policy (a review above 20000.00 CNY), so that mutants are
/// few: mutation testing decides every case on every mutant.
fn threshold_policy(cases: &str) -> tempfile::TempDir {
    let tmp = scenario(&[("mall.toml", &format!("{BASE}{cases}"))]);
    let policies = tmp.path().join("policies");
    for file in [
        "common.rpl",
        "official_mall.rpl",
        "offline_store.rpl",
        "partner_platform.rpl",
    ] {
        std::fs::remove_file(policies.join(file)).unwrap();
    }
    std::fs::write(
        policies.join("official_mall.rpl"),
        r#"defaults standard {
    refund = item.paid_amount
    route = credit_card
    settlement = requested_at .. requested_at
}

policy official_mall {
    channel = official_mall
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"

    use standard

    rule high_value {
        when item.paid_amount > 20000.00 CNY
        review
    }
    rule otherwise {
        approve
    }
}
"#,
    )
    .unwrap();
    tmp
}

const FAR_FROM_THE_THRESHOLD: &str = r#"
[[case]]
name = "ordinary"
request = {}
expect = { decision = "approve" }

[[case]]
name = "far above"
request = { item = { paid_amount = "30000.00" } }
expect = { decision = "review" }
"#;

#[test]
fn an_untested_boundary_survives_mutation_with_a_witness() {
    let tmp = threshold_policy(FAR_FROM_THE_THRESHOLD);
    let out = rpl_test(tmp.path(), &["--mutate"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("SURVIVED policies/official_mall.rpl:16:31  `>` → `>=`\n  no case notices this change; this one would: the request of `ordinary` with `item.paid_amount` = \"20000.00\"\n    decision: the policies give approve, the mutant review\n"),
        "{text}"
    );
    // A suite that passes is still a failed run while a mutant survives.
    assert!(text.starts_with("test result: ok. 2 passed;"), "{text}");
}

#[test]
fn a_suite_that_kills_every_mutant_passes() {
    let both_sides = format!(
        "{FAR_FROM_THE_THRESHOLD}
[[case]]
name = \"at the threshold\"
request = {{ item = {{ paid_amount = \"20000.00\" }} }}
expect = {{ decision = \"approve\" }}

[[case]]
name = \"a cent above\"
request = {{ item = {{ paid_amount = \"20000.01\" }} }}
expect = {{ decision = \"review\" }}
"
    );
    let tmp = threshold_policy(&both_sides);
    let out = rpl_test(tmp.path(), &["--mutate"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains(" 0 survived "), "{text}");
    assert!(!text.contains("SURVIVED"), "{text}");
}

/// A request file is read relative to the test file; one that cannot be
/// read is that case's outcome (an error), not the end of the run.
#[test]
fn request_files_and_an_unreadable_one() {
    let suite = r#"
[[case]]
name = "from a file"
request = "../../requests/24-high-value-threshold-over.json"
expect = { decision = "review", rule = "high_value_review" }

[[case]]
name = "no such file"
request = "missing.json"
expect = { decision = "approve" }

[[case]]
name = "no such file, expected"
request = "missing.json"
# The path is relative to where rpl runs, as the test file's name is: the
# same on every machine.
expect = { error = "rpl::request::io", error_path = "policies/tests/missing.json" }
"#;
    let tmp = scenario(&[("files.toml", suite)]);
    util::copy_dir(
        &util::manifest_dir().join("tests/fixtures/frozen/requests"),
        &tmp.path().join("requests"),
    );
    let out = rpl_test(tmp.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json = json_of(&out);
    let cases = json["cases"].as_array().unwrap();
    let passed: Vec<bool> = cases
        .iter()
        .map(|c| c["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, [true, false, true]);
    assert_eq!(
        cases[1]["mismatches"],
        serde_json::json!([{"field": "decision", "expected": "approve", "actual": "none"}])
    );
    assert_eq!(cases[1]["outcome"]["error"]["code"], "rpl::request::io");
}

/// Inline requests: a table merges key by key over `[base]` (a partial
/// `item` keeps the base's other item fields), and `unset` removes a field
/// after merging.
#[test]
fn inline_requests_merge_over_base_and_unset_removes() {
    let suite = format!(
        "{BASE}
[[case]]
name = \"custom-made\"
request = {{ item = {{ custom_made = true }} }}
expect = {{ decision = \"deny\", rule = \"excluded_goods\" }}

[[case]]
name = \"not delivered yet\"
request = {{}}
unset = [\"order.delivered_at\"]
expect = {{ decision = \"approve\", rule = \"undelivered\" }}
"
    );
    let tmp = scenario(&[("inline.toml", &suite)]);
    let out = rpl_test(tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        "test result: ok. 2 passed; 0 failed; 0 filtered out; 1 file\n"
    );
}

/// Two policy directories side by side: `policies/` (7-day window, found
/// from the working directory) and `edited/` (8 days). A case approving
/// day 8 passes only when `edited/` is the one used.
#[test]
fn the_policy_directory_is_the_first_paths_or_the_one_given() {
    let day_8_approved = format!(
        "{BASE}
[[case]]
name = \"day 8 is inside an 8-day window\"
request = {{ requested_at = \"2025-03-11T10:00:00+08:00\" }}
expect = {{ decision = \"approve\" }}
"
    );
    let tmp = scenario(&[]);
    util::copy_dir(
        &util::manifest_dir().join("tests/fixtures/frozen/policies"),
        &tmp.path().join("edited"),
    );
    edit(
        tmp.path(),
        "edited/common.rpl",
        "within 7 days after",
        "within 8 days after",
    );
    write_tests(tmp.path(), "edited", &[("x.toml", &day_8_approved)]);

    let out = rpl_test(tmp.path(), &["edited/tests/x.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = rpl_test(tmp.path(), &["--policies", "edited"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // `--policies` wins over the path's directory.
    let out = rpl_test(
        tmp.path(),
        &["--policies", "policies", "edited/tests/x.toml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

#[test]
fn a_missing_policy_directory_or_test_path_exits_2() {
    let tmp = scenario(&[("mall.toml", &format!("{BASE}{NO_REASON}"))]);
    let out = rpl_test(tmp.path(), &["--policies", "no-such-dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-dir"), "{}", stderr(&out));
    let out = rpl_test(tmp.path(), &["policies/tests/no-such-file.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no-such-file.toml"),
        "{}",
        stderr(&out)
    );
}

/// A TOML request kept under `tests/` beside the cases that name it is a
/// request, not a test file to read (it would be all unknown keys).
#[test]
fn a_toml_request_under_tests_is_not_read_as_a_test_file() {
    let suite = r#"
[[case]]
name = "a TOML request file"
request = "requests/laptop.toml"
expect = { decision = "approve", rule = "seven_day_no_reason" }
"#;
    let tmp = scenario(&[("cases.toml", suite)]);
    let request = BASE.replace("[base]\n", "");
    let dir = tmp.path().join("policies/tests/requests");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("laptop.toml"), request).unwrap();
    let out = rpl_test(tmp.path(), &[]);
    assert_passed(
        &out,
        "test result: ok. 1 passed; 0 failed; 0 filtered out; 1 file",
    );
}

/// Mutants are judged by the cases, so a failing case stops mutation
/// testing instead of making every mutant look killed.
#[test]
fn mutation_testing_waits_for_a_green_suite() {
    let tmp = scenario(&[("cases.toml", &format!("{BASE}{DAY_8}"))]);
    edit(
        tmp.path(),
        "policies/common.rpl",
        "within 7 days after",
        "within 8 days after",
    );
    let out = rpl_test(tmp.path(), &["--mutate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("mutation testing skipped"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains("mutation testing:"),
        "{}",
        stdout(&out)
    );
}

/// `rpl test policies/` names the policy directory, as `rpl check
/// policies/` does: it runs its tests, not its schema and calendars as
/// test files.
#[test]
fn a_policy_directory_as_the_path_stands_for_its_tests() {
    let tmp = scenario(&[("cases.toml", &format!("{BASE}{NO_REASON}"))]);
    let out = rpl_test(tmp.path(), &["policies"]);
    assert_passed(
        &out,
        "test result: ok. 1 passed; 0 failed; 0 filtered out; 1 file",
    );
}

/// A test file is input too (a pull request adds one): its request files
/// are read only inside the project, never from stdin, a FIFO or a device,
/// so no test can hang CI or print a file from elsewhere into its log.
#[test]
fn request_files_stay_inside_the_project_and_are_regular_files() {
    let suite = r#"
[[case]]
name = "outside"
request = "/etc/hostname"
expect = { error = "rpl::request::io" }

[[case]]
name = "stdin"
request = "-"
expect = { error = "rpl::request::io" }

[[case]]
name = "fifo"
request = "pipe.json"
expect = { error = "rpl::request::io" }
"#;
    let tmp = scenario(&[("hostile.toml", suite)]);
    let status = std::process::Command::new("mkfifo")
        .arg(tmp.path().join("policies/tests/pipe.json"))
        .status()
        .unwrap();
    assert!(status.success());
    // Nothing on stdin either: a read of it would wait here for ever.
    let out = assert_cmd::cargo::cargo_bin_cmd!("rpl")
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .env_remove("RPL_POLICIES")
        .args(["test", "--format", "json"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let json = json_of(&out);
    assert_eq!(json["passed"], 3, "{json}");
    let messages: Vec<String> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(messages, ["outside", "stdin", "fifo"]);
}

/// Every walked `.toml` with `[[case]]` is a test file, even when some
/// case names it as its request: one throwaway case cannot switch a suite
/// off.
#[test]
fn a_suite_named_as_a_request_still_runs() {
    let a = r#"
[[case]]
name = "reads b as a request"
request = "b.toml"
expect = { error = "rpl::request::unknown_field" }
"#;
    let b = format!("{BASE}{DAY_8}").replace("outside_window", "seven_day_no_reason");
    let tmp = scenario(&[("a.toml", a), ("b.toml", &b)]);
    let out = rpl_test(tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("FAIL policies/tests/b.toml"),
        "{}",
        stdout(&out)
    );
}
