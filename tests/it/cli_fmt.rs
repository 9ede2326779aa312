//! `rpl fmt` as a user runs it: printing one file, `--check` with its
//! diff and exit code, `--write` rewriting in place, stdin, and a file
//! that does not parse.

use std::path::Path;
use std::process::Output;

use crate::util;

fn rpl(dir: &Path, args: &[&str], stdin: &str) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("rpl")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

const MESSY: &str = "policy p \"P\" {\n  channel=official_mall\n\n\n  use standard          // outcome defaults\n  rule r { when a>1 approve {} }\n}\n";

const TIDY: &str = "policy p \"P\" {\n    channel = official_mall\n\n    use standard // outcome defaults\n    rule r {\n        when a > 1\n        approve\n    }\n}\n";

/// A folder with one formatted and one messy policy file.
fn folder() -> tempfile::TempDir {
    let tmp = util::tempdir();
    let dir = tmp.path().join("policies");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("tidy.rpl"), TIDY).unwrap();
    std::fs::write(dir.join("messy.rpl"), MESSY).unwrap();
    // Not a policy file: left alone.
    std::fs::write(dir.join("notes.txt"), MESSY).unwrap();
    tmp
}

#[test]
fn a_formatted_policy_directory_passes_the_check() {
    // The frozen copy of the shipped policies, written in the layout (that
    // the shipped ones are is `rpl fmt --check` in `.ci/run`).
    let tmp = util::tempdir();
    util::frozen_copy(tmp.path());
    let out = rpl(tmp.path(), &["fmt", "--check", "policies/"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    // `policies/` is the default.
    let out = rpl(tmp.path(), &["fmt", "--check"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn one_file_is_printed_formatted() {
    let tmp = folder();
    let out = rpl(tmp.path(), &["fmt", "policies/messy.rpl"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), TIDY);
    // Nothing was written.
    let messy = std::fs::read_to_string(tmp.path().join("policies/messy.rpl")).unwrap();
    assert_eq!(messy, MESSY);
}

#[test]
fn stdin_is_formatted_to_stdout() {
    let tmp = util::tempdir();
    let out = rpl(tmp.path(), &["fmt", "-"], MESSY);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), TIDY);
}

#[test]
fn check_prints_a_diff_and_fails_when_a_file_would_change() {
    let tmp = folder();
    let out = rpl(tmp.path(), &["fmt", "--check", "policies"], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    insta::assert_snapshot!(stdout);
    insta::assert_snapshot!(text(&out.stderr), @"1 file would be reformatted: run `rpl fmt --write`");
    let messy = std::fs::read_to_string(tmp.path().join("policies/messy.rpl")).unwrap();
    assert_eq!(messy, MESSY, "--check writes nothing");
}

#[test]
fn write_rewrites_the_files_that_change_keeping_permissions() {
    let tmp = folder();
    let messy = tmp.path().join("policies/messy.rpl");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&messy, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let out = rpl(tmp.path(), &["fmt", "--write", "policies"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(text(&out.stderr), @"formatted policies/messy.rpl");
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), TIDY);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("policies/notes.txt")).unwrap(),
        MESSY
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&messy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
    // Now everything is formatted.
    let out = rpl(tmp.path(), &["fmt", "--check", "policies"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn a_syntax_error_is_reported_and_the_other_files_still_formatted() {
    let tmp = folder();
    let broken = tmp.path().join("policies/broken.rpl");
    std::fs::write(&broken, "const a = \n").unwrap();
    let out = rpl(tmp.path(), &["fmt", "--write", "policies"], "");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    insta::assert_snapshot!(stderr);
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), "const a = \n");
    let messy = std::fs::read_to_string(tmp.path().join("policies/messy.rpl")).unwrap();
    assert_eq!(messy, TIDY);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let tmp = folder();
    let out = rpl(tmp.path(), &["fmt", "policies"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("`--check`"),
        "{}",
        text(&out.stderr)
    );
    let out = rpl(tmp.path(), &["fmt", "--check", "missing.rpl"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("rpl::load::io"),
        "{}",
        text(&out.stderr)
    );
    let out = rpl(tmp.path(), &["fmt", "--check", "--write"], "");
    assert_eq!(out.status.code(), Some(2));
}
