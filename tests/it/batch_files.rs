//! `rpl eval --batch` with compressed files and for people: a `.gz` or
//! `.zst` batch decides as the plain file does, a damaged one stops with
//! a read error after the records it could read, `-o OUT.gz` writes gzip,
//! `--quiet` leaves stderr to errors, and no progress bar is drawn where
//! stderr is not a terminal (tests run piped).

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::util::{self, stderr, stdout};

/// `rpl` run in `dir` on the frozen policies, `stdin` on its standard
/// input.
fn rpl_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let policies = util::frozen_policies();
    assert_cmd::Command::cargo_bin("rpl")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["eval", "--policies", policies.to_str().unwrap()])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

/// `n` request lines: the contract's example, and variants of it decided
/// by other rules or refused, in a fixed pattern.
fn batch_lines(n: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(
        util::manifest_dir().join("examples/official_mall/01-contract-example.json"),
    )
    .unwrap();
    let example: Value = serde_json::from_str(&text).unwrap();
    let variant = |i: usize| {
        let mut v = example.clone();
        v["request_id"] = format!("R-{i}").into();
        match i % 5 {
            1 => v["item"]["activated"] = true.into(),
            2 => v["requested_at"] = "2025-03-01T10:00:00+08:00".into(),
            3 => return "{\"broken\": ".to_owned(),
            _ => {}
        }
        v.to_string()
    };
    (0..n)
        .flat_map(|i| variant(i).into_bytes().into_iter().chain([b'\n']))
        .collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The bytes a terminal would obey: a progress bar's carriage returns
/// and escape codes.
fn has_terminal_codes(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| *b == b'\r' || *b == 0x1b)
}

/// A gzip file (of two members, as `cat a.gz b.gz` makes) and a
/// Zstandard file (of two frames) give the plain file's output byte for
/// byte, over several chunks.
#[test]
fn compressed_batches_decide_as_the_plain_file() {
    let dir = util::tempdir();
    let data = batch_lines(2500);
    // Split inside a line: the members are one stream of bytes.
    let (first, second) = data.split_at(data.len() / 3);
    write(dir.path(), "in.jsonl", &data);
    write(
        dir.path(),
        "in.jsonl.gz",
        &[gzip(first), gzip(second)].concat(),
    );
    write(
        dir.path(),
        "in.jsonl.zst",
        &[zstd(first), zstd(second)].concat(),
    );
    let plain = rpl_in(dir.path(), &["--batch", "in.jsonl"], b"");
    assert_eq!(plain.status.code(), Some(1), "{}", stderr(&plain));
    assert_eq!(stdout(&plain).lines().count(), 2500);
    for name in ["in.jsonl.gz", "in.jsonl.zst"] {
        let out = rpl_in(dir.path(), &["--batch", name], b"");
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(out.stdout == plain.stdout, "{name}: not the plain output");
        assert!(out.stderr.is_empty(), "{name}: {}", stderr(&out));
    }
    // stdin has no name to say it is compressed: it is read as it comes.
    let out = rpl_in(dir.path(), &["--batch", "-"], &data);
    assert!(out.stdout == plain.stdout);
    let out = rpl_in(dir.path(), &["--batch", "-"], &gzip(&data));
    for record in stdout(&out).lines() {
        let record: Value = serde_json::from_str(record).unwrap();
        assert_eq!(record["error"]["code"], "rpl::request::syntax", "{record}");
    }
}

/// A gzip batch cut short: every record of the lines before the cut, in
/// order and as the whole file gives them, then the summary and the read
/// error, exit 2. `-o` keeps the previous output and leaves nothing
/// behind.
#[test]
fn a_cut_gzip_batch_ends_with_a_read_error_after_its_records() {
    let dir = util::tempdir();
    let data = batch_lines(3000);
    let whole = rpl_in(dir.path(), &["--batch", "-"], &data);
    // 2,000 lines in a whole member, then a member cut halfway.
    let at = data
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1999)
        .unwrap()
        .0
        + 1;
    let second = gzip(&data[at..]);
    let cut = [gzip(&data[..at]), second[..second.len() / 2].to_vec()].concat();
    write(dir.path(), "cut.jsonl.gz", &cut);
    let out = rpl_in(
        dir.path(),
        &["--batch", "cut.jsonl.gz", "--summary", "json"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    let written = stdout(&out).lines().count();
    assert!((2000..3000).contains(&written), "{written} records");
    assert!(whole.stdout.starts_with(&out.stdout));
    let err = stderr(&out);
    let (summary, error) = err.split_once('\n').unwrap();
    let summary: Value = serde_json::from_str(summary).unwrap();
    assert_eq!(summary["records"], written);
    insta::assert_snapshot!("cut_gzip_error", error);

    let previous = write(dir.path(), "out.jsonl.gz", b"previous");
    let out = rpl_in(
        dir.path(),
        &["--batch", "cut.jsonl.gz", "-o", "out.jsonl.gz"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&previous).unwrap(), b"previous");
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["cut.jsonl.gz", "out.jsonl.gz"]);
}

/// `-o OUT.gz` writes gzip that reads back as the records on stdout;
/// `-o OUT.zst` is refused before anything is created.
#[test]
fn gzip_output_reads_back_as_the_records() {
    let dir = util::tempdir();
    let data = batch_lines(1500);
    write(dir.path(), "in.jsonl", &data);
    let plain = rpl_in(dir.path(), &["--batch", "in.jsonl"], b"");
    let out = rpl_in(
        dir.path(),
        &["--batch", "in.jsonl", "-o", "out.jsonl.gz"],
        b"",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "wrote 1500 records to `out.jsonl.gz`: 1200 decided, 300 with an error\n"
    );
    let gz = std::fs::read(dir.path().join("out.jsonl.gz")).unwrap();
    assert!(gunzip(&gz) == plain.stdout);

    let out = rpl_in(
        dir.path(),
        &["--batch", "in.jsonl", "-o", "out.jsonl.zst"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: cannot write `out.jsonl.zst`: rpl reads `.zst` but does not write it; name a `.gz` or a plain file, or pipe stdout through `zstd`\n"
    );
    assert!(!dir.path().join("out.jsonl.zst").exists());
}

/// `--quiet`: a clean batch says nothing on stderr, nor does one with
/// error records (they are in the output); a summary asked for still
/// comes, and so does a read error. Without a batch it is refused, as
/// the other batch flags are.
#[test]
fn quiet_leaves_stderr_to_errors_and_a_summary_asked_for() {
    let dir = util::tempdir();
    let clean: Vec<u8> = batch_lines(10)
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"{\"broken"))
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect();
    write(dir.path(), "clean.jsonl", &clean);
    write(dir.path(), "mixed.jsonl", &batch_lines(10));
    for (file, code) in [("clean.jsonl", 0), ("mixed.jsonl", 1)] {
        let out = rpl_in(
            dir.path(),
            &["--batch", file, "-o", "out.jsonl", "--quiet"],
            b"",
        );
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert_eq!(stderr(&out), "", "{file}");
    }
    let out = rpl_in(
        dir.path(),
        &["--batch", "mixed.jsonl", "-q", "--summary", "human"],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).lines().count(), 10);
    insta::assert_snapshot!("quiet_with_a_summary", stderr(&out));
    let out = rpl_in(
        dir.path(),
        &["--batch", "mixed.jsonl", "-q", "--summary", "json"],
        b"",
    );
    let summary: Value = serde_json::from_str(&stderr(&out)).unwrap();
    assert_eq!(summary["records"], 10);

    write(
        dir.path(),
        "bad.jsonl.gz",
        b"{\"plain\": \"JSON Lines, not gzip\"}\n",
    );
    let out = rpl_in(dir.path(), &["--batch", "bad.jsonl.gz", "-q"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read the batch: invalid gzip header"),
        "{}",
        stderr(&out)
    );

    let out = rpl_in(dir.path(), &["-q", "--threads", "2", "clean.jsonl"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: `--threads` and `--quiet` are about a `--batch`; name the batch\n"
    );
}

/// With stderr piped, as here, there is no progress bar: no carriage
/// return or escape code, whatever the input (a file of known size, a
/// compressed one, stdin).
#[test]
fn no_progress_bar_where_stderr_is_not_a_terminal() {
    let dir = util::tempdir();
    let data = batch_lines(3000);
    write(dir.path(), "in.jsonl", &data);
    write(dir.path(), "in.jsonl.gz", &gzip(&data));
    for input in ["in.jsonl", "in.jsonl.gz", "-"] {
        let out = rpl_in(dir.path(), &["--batch", input, "-o", "out.jsonl"], &data);
        assert_eq!(out.status.code(), Some(1));
        assert!(!has_terminal_codes(&out.stderr), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "wrote 3000 records to `out.jsonl`: 2400 decided, 600 with an error\n"
        );
    }
}

/// On a terminal (`script` runs `rpl` on one), a batch into a file shows
/// the bar and clears it before the line that follows; records going to
/// that terminal, and `--quiet`, get none.
#[cfg(target_os = "linux")]
#[test]
fn a_progress_bar_on_a_terminal_beside_a_file_only() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("no `script` to give rpl a terminal: skipped");
        return;
    }
    let dir = util::tempdir();
    write(dir.path(), "in.jsonl", &batch_lines(3000));
    let on_a_terminal = |args: &str| -> String {
        let command = format!(
            "'{}' eval --policies '{}' --batch in.jsonl {args}",
            assert_cmd::cargo::cargo_bin("rpl").display(),
            util::frozen_policies().display()
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(dir.path())
            .env("TERM", "xterm")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_a_terminal("-o out.jsonl --summary none");
    assert!(
        shown.contains(" lines, ") && shown.contains("ETA"),
        "{shown:?}"
    );
    assert!(
        shown.contains("\r\u{1b}[2Kwrote 3000 records to `out.jsonl`"),
        "{shown:?}"
    );
    let records = on_a_terminal("--summary none");
    assert!(!has_terminal_codes(
        records.replace("\r\n", "\n").as_bytes()
    ));
    assert_eq!(records.lines().count(), 3000);
    assert_eq!(on_a_terminal("-o out.jsonl --quiet"), "");
}
