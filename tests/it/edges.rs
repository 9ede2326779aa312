//! The edges of `rpl eval` tried as an attacker would: every request file
//! and batch line yields exactly one record, a size limit bounds every
//! read, `-o` never destroys its input or a previous result, and nothing
//! from a request or a policy drives the terminal.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::util::{self, stderr, stdout};

fn rpl(args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("rpl")
        .unwrap()
        .current_dir(util::manifest_dir())
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn records(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const EXAMPLE: &str = "examples/official_mall/01-contract-example.json";
const FIXTURES: &str = "tests/diagnostics/request";

/// The example request as one line of JSON, edited by `f`.
fn example_line(f: impl FnOnce(&mut Value)) -> String {
    let text = std::fs::read_to_string(util::manifest_dir().join(EXAMPLE)).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    f(&mut v);
    v.to_string()
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Each request file named yields one record in its place, readable or
/// not: a missing file, a directory, a file that is not UTF-8 (GBK) and
/// one over the size limit, among good ones.
#[test]
fn every_request_file_yields_a_record_in_its_place() {
    let dir = util::tempdir();
    let gbk = write(
        dir.path(),
        "gbk.json",
        b"{\"request_id\": \"\xcd\xcb\xbb\xf5\"}",
    );
    let too_large = format!("{FIXTURES}/too_large.json");
    let args = [
        "eval",
        "--format",
        "json",
        "--max-request-size",
        "1KiB",
        "no/such.json",
        EXAMPLE,
        &format!("{FIXTURES}/io.json"),
        s(&gbk),
        &too_large,
        EXAMPLE,
    ];
    let out = rpl(&args);
    // An unreadable file is an I/O error: the run ends with 2.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let got: Vec<(String, String)> = records(&stdout(&out))
        .iter()
        .map(|r| {
            let code = r["error"]["code"].as_str().unwrap_or("decision");
            let path = r["error"]["path"].as_str().unwrap_or("");
            (code.to_owned(), path.to_owned())
        })
        .collect();
    let want = [
        ("rpl::request::io", "no/such.json"),
        ("decision", ""),
        ("rpl::request::io", &format!("{FIXTURES}/io.json")),
        ("rpl::request::syntax", s(&gbk)),
        ("rpl::request::too_large", &too_large),
        ("decision", ""),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(c, p)| (c.to_string(), p.to_string()))
        .collect();
    assert_eq!(got, want);
    let r = records(&stdout(&out));
    assert_eq!(
        r[0]["error"]["message"],
        "cannot read the request file: no such file or directory"
    );
    assert_eq!(
        r[3]["error"]["message"],
        "the request file is not UTF-8 (byte 0xcd at offset 16)"
    );

    // Without I/O errors, a bad request makes it 1; people get a line each.
    let out = rpl(&["eval", s(&gbk), EXAMPLE]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    // A request with no id is named by its file.
    assert!(
        text.starts_with(&format!("`{}`: ERROR rpl::request::syntax\n", s(&gbk))),
        "{text}"
    );
    assert!(text.contains("OM-01-contract-example: APPROVE"), "{text}");
}

#[cfg(unix)]
#[test]
fn dev_zero_as_a_request_ends_with_an_error() {
    let out = rpl(&["eval", "--format", "json", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1));
    let r = records(&stdout(&out));
    assert_eq!(r[0]["error"]["code"], "rpl::request::too_large");
    assert_eq!(r[0]["error"]["path"], "/dev/zero");
    // As a batch: one endless line. Its record, then the batch stops.
    let out = rpl(&["eval", "--batch", "/dev/zero", "--max-request-size", "4K"]);
    assert_eq!(out.status.code(), Some(2));
    let r = records(&stdout(&out));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["line"], 1);
    assert_eq!(r[0]["error"]["code"], "rpl::request::too_large");
    assert!(
        stderr(&out).contains("line 1 has not ended after 1 GiB"),
        "{}",
        stderr(&out)
    );
}

/// A batch line over the limit is one error record; the lines around it
/// are decided. A byte order mark on line 1 is ignored, as in a file, and
/// a key given twice is an error on any line.
#[test]
fn batch_lines_are_bounded_and_strict() {
    let dir = util::tempdir();
    let ok = example_line(|_| {});
    let long = example_line(|v| v["item"]["sku"] = "X".repeat(5000).into());
    let dup = ok.replacen("{", "{\"channel\": \"offline_store\", ", 1);
    let input = format!("\u{FEFF}{ok}\n{long}\n{dup}\n{ok}");
    let batch = write(dir.path(), "in.jsonl", input);
    let out = rpl(&["eval", "--batch", s(&batch), "--max-request-size", "4KiB"]);
    assert_eq!(out.status.code(), Some(1));
    let r = records(&stdout(&out));
    assert_eq!(r.len(), 4);
    assert_eq!(r[0]["decision"], "approve");
    assert_eq!(r[1]["error"]["code"], "rpl::request::too_large");
    assert_eq!(
        r[1]["error"]["message"],
        "line 2 is larger than the request size limit of 4 KiB (4096 bytes)"
    );
    assert_eq!(r[2]["error"]["code"], "rpl::request::duplicate_key");
    assert_eq!(r[2]["error"]["path"], "channel");
    assert_eq!(r[2]["line"], 3);
    assert_eq!(r[3]["decision"], "approve");
}

/// A batch is read in chunks decided in parallel: whatever the number of
/// threads, every line yields one record, in input order, and the output
/// is the same byte for byte (3,000 lines cross several chunks).
#[test]
fn a_batch_is_the_same_on_any_number_of_threads() {
    let dir = util::tempdir();
    let ok = example_line(|_| {});
    let other = example_line(|v| v["item"]["activated"] = true.into());
    let long = example_line(|v| v["item"]["sku"] = "X".repeat(5000).into());
    let lines: Vec<String> = (1..=3000)
        .map(|i: u64| match i {
            _ if i.is_multiple_of(97) => "{\"broken\": ".to_owned(),
            _ if i.is_multiple_of(389) => String::new(),
            _ if i.is_multiple_of(1000) => long.clone(),
            _ if i.is_multiple_of(2) => other.clone(),
            _ => ok.clone(),
        })
        .collect();
    let batch = write(dir.path(), "in.jsonl", lines.join("\n") + "\n");
    let policies = "tests/fixtures/frozen/policies";
    let batch_with = |more: &[&str]| {
        let mut args = vec!["eval", "--policies", policies, "--batch", s(&batch)];
        args.extend_from_slice(more);
        rpl(&args)
    };
    let run = |threads: &str| {
        let out = batch_with(&["--max-request-size", "4KiB", "--threads", threads]);
        assert_eq!(out.status.code(), Some(1), "{}", util::stderr(&out));
        out.stdout
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    // Thousands of threads would take a minute to start: refused.
    let out = batch_with(&["--threads", "300"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(one, run("3"));
    let r = records(std::str::from_utf8(&one).unwrap());
    assert_eq!(r.len(), 3000);
    // The summary counts what was written.
    let out = batch_with(&["--max-request-size", "4KiB", "--summary", "json"]);
    let summary: Value = serde_json::from_str(&util::stderr(&out)).unwrap();
    let errors = r.iter().filter(|x| x["error"].is_object()).count();
    assert_eq!(summary["records"], 3000);
    assert_eq!(summary["decisions"]["error"], errors);
    let by_rule: u64 = summary["rules"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_rule as usize, 3000 - errors);
    for (i, record) in r.iter().enumerate() {
        let n = i as u64 + 1;
        if n.is_multiple_of(97) || n.is_multiple_of(389) || n.is_multiple_of(1000) {
            assert_eq!(record["line"], n, "{record}");
        } else {
            assert!(record["decision"].is_string(), "line {n}: {record}");
        }
    }
}

/// `-o` naming the input, directly, through a symlink or via `..`, is
/// refused before anything is opened for writing: the input is intact.
#[cfg(unix)]
#[test]
fn output_naming_the_input_is_refused() {
    let dir = util::tempdir();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let input = write(
        dir.path(),
        "in.jsonl",
        format!("{}\n", example_line(|_| {})),
    );
    let before = std::fs::read(&input).unwrap();
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&input, &link).unwrap();
    for spelling in [input.clone(), link, sub.join("../in.jsonl")] {
        let out = rpl(&["eval", "--batch", s(&input), "-o", s(&spelling)]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("is the input"), "{}", stderr(&out));
        assert_eq!(std::fs::read(&input).unwrap(), before);
    }
}

/// `--batch -` reads stdin: the file redirected into it is the input too.
#[cfg(unix)]
#[test]
fn output_naming_the_input_redirected_to_stdin_is_refused() {
    let dir = util::tempdir();
    let input = write(
        dir.path(),
        "in.jsonl",
        format!("{}\n", example_line(|_| {})),
    );
    let before = std::fs::read(&input).unwrap();
    // The file itself as stdin, as `< in.jsonl` gives it (not a pipe).
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("rpl"))
        .current_dir(util::manifest_dir())
        .args(["eval", "--batch", "-", "-o", s(&input)])
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is the input `-`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// A batch that fails halfway leaves the previous result in place, and no
/// temporary file behind; one that completes replaces it whole.
#[cfg(unix)]
#[test]
fn a_failed_batch_never_destroys_the_previous_output() {
    let dir = util::tempdir();
    let out_path = write(dir.path(), "out.jsonl", "previous result\n");
    let out = rpl(&[
        "eval",
        "--batch",
        "/dev/zero",
        "--max-request-size",
        "1K",
        "-o",
        s(&out_path),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&out_path).unwrap(),
        "previous result\n"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "{names:?}");

    let input = write(
        dir.path(),
        "in.jsonl",
        format!("{}\n", example_line(|_| {})),
    );
    let out = rpl(&["eval", "--batch", s(&input), "-o", s(&out_path)]);
    assert_eq!(out.status.code(), Some(0));
    let r = records(&std::fs::read_to_string(&out_path).unwrap());
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["decision"], "approve");
}

fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| *c != '\n' && rpl::report::escape::is_unsafe(*c))
        .collect()
}

/// Escape codes in a request id reach people visibly and JSON exactly.
#[test]
fn escape_codes_in_a_request_id_are_shown_not_obeyed() {
    let dir = util::tempdir();
    let id = "RF-1\u{1b}]0;owned\u{7}\u{1b}[2J\nOM-99: APPROVE\u{9b}";
    let req = write(
        dir.path(),
        "r.json",
        example_line(|v| v["request_id"] = id.into()),
    );
    let out = rpl(&["eval", s(&req)]);
    let text = stdout(&out);
    assert!(raw_controls(&text).is_empty(), "{text:?}");
    assert!(
        text.starts_with("RF-1\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{a}OM-99: APPROVE\\u{9b}: APPROVE"),
        "{text}"
    );
    // One decision, one summary: the line break in the id forged nothing.
    assert_eq!(text.matches(": APPROVE").count(), 2);
    assert_eq!(text.lines().filter(|l| !l.starts_with("  ")).count(), 1);

    let out = rpl(&["eval", "--format", "json", s(&req)]);
    let text = stdout(&out);
    assert!(raw_controls(&text).is_empty(), "{text:?}");
    assert_eq!(records(&text)[0]["request_id"], id);

    // An error record too (a missing field), and an unknown key with them.
    let bad = write(
        dir.path(),
        "bad.json",
        example_line(|v| {
            v["request_id"] = id.into();
            v["item"]["\u{1b}[31mred"] = 1.into();
        }),
    );
    let out = rpl(&["eval", s(&bad)]);
    let text = stdout(&out);
    assert!(raw_controls(&text).is_empty(), "{text:?}");
    assert!(
        text.contains("unknown field `item[\"\\u001b[31mred\"]`"),
        "{text}"
    );
}

/// A policy message with escape codes (written as `\u{1b}` in the policy,
/// so the decision holds the real character): people see it escaped, JSON
/// keeps it exactly.
#[test]
fn escape_codes_in_a_policy_message_are_shown_not_obeyed() {
    let dir = util::tempdir();
    let policies = util::schema_only(dir.path());
    write(
        &policies,
        "mall.rpl",
        r#"
policy official_mall {
    channel = official_mall
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"

    rule otherwise { deny { message = "\u{1b}[8mhidden\u{1b}]52;c;cGF5\u{7}" } }
}
"#,
    );
    let out = rpl(&["eval", "--policies", s(&policies), EXAMPLE]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(raw_controls(&text).is_empty(), "{text:?}");
    assert!(
        text.contains("message       \\u{1b}[8mhidden\\u{1b}]52;c;cGF5\\u{7}"),
        "{text}"
    );
    let out = rpl(&[
        "eval",
        "--policies",
        s(&policies),
        "--format",
        "json",
        EXAMPLE,
    ]);
    let r = records(&stdout(&out));
    assert_eq!(r[0]["message"], "\u{1b}[8mhidden\u{1b}]52;c;cGF5\u{7}");
    assert!(raw_controls(&stdout(&out)).is_empty());
}

/// `rpl generate` (hidden): the same lines for the same seed, as many as
/// asked, and within them every rule of every policy decides some request;
/// `--bad 0` breaks no line, `--bad` breaks lines in request errors only.
#[test]
fn generated_requests_take_every_path() {
    let dir = util::tempdir();
    let policies = "tests/fixtures/frozen/policies";
    let file = dir.path().join("gen.jsonl");
    let generate = |bad: &str, out: &Path| {
        let args = [
            "generate",
            "--policies",
            policies,
            "--count",
            "1500",
            "--seed",
            "5",
            "--bad",
            bad,
            "-o",
            s(out),
        ];
        let done = rpl(&args);
        assert_eq!(done.status.code(), Some(0), "{}", util::stderr(&done));
        std::fs::read(out).unwrap()
    };
    let once = generate("0", &file);
    assert_eq!(once, generate("0", &dir.path().join("again.jsonl")));
    assert_eq!(once.iter().filter(|b| **b == b'\n').count(), 1500);
    let out = rpl(&[
        "eval",
        "--policies",
        policies,
        "--batch",
        s(&file),
        "--summary",
        "json",
    ]);
    let summary: Value = serde_json::from_str(&util::stderr(&out)).unwrap();
    let engine = rpl::Engine::load(util::manifest_dir().join(policies)).unwrap();
    for p in &engine.compiled().policies {
        for r in &p.rules {
            let key = format!("{}/{}", p.name, r.name);
            assert!(
                summary["rules"][&key].as_u64() > Some(0),
                "{key}: {summary}"
            );
        }
    }
    let request_errors = |summary: &Value| -> u64 {
        summary["errors"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(code, _)| code.starts_with("rpl::request::"))
                    .map(|(_, n)| n.as_u64().unwrap())
                    .sum()
            })
            .unwrap_or(0)
    };
    assert_eq!(request_errors(&summary), 0, "{summary}");
    let broken = dir.path().join("broken.jsonl");
    generate("0.5", &broken);
    let out = rpl(&[
        "eval",
        "--policies",
        policies,
        "--batch",
        s(&broken),
        "--summary",
        "json",
    ]);
    let summary: Value = serde_json::from_str(&util::stderr(&out)).unwrap();
    let n = request_errors(&summary);
    assert!(
        (500..=900).contains(&n),
        "{n} broken lines of 1500: {summary}"
    );
}
