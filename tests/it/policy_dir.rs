//! Every subcommand finds the policy directory the same way: the one
//! given, else `RPL_POLICIES`, else the nearest folder from the working
//! directory up that holds `schema.toml` or `policies/schema.toml`; and
//! says what it searched when there is none.

use std::path::Path;
use std::process::Output;

use crate::util;

fn rpl(cwd: &Path, env: Option<&Path>, args: &[&str]) -> Output {
    let mut c = assert_cmd::Command::cargo_bin("rpl").unwrap();
    c.current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("RPL_POLICIES");
    if let Some(dir) = env {
        c.env("RPL_POLICIES", dir);
    }
    c.args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A folder outside the checkout, where no search up finds `policies/`.
fn outside() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        rpl::load::search_up(dir.path()).is_err(),
        "a policy directory above /tmp"
    );
    dir
}

#[test]
fn found_from_the_root_from_inside_policies_and_from_below_the_root() {
    // A project laid out as this repository is: `policies/` (the frozen
    // copy) beside `examples/errors/`.
    let tmp = util::tempdir();
    let root = tmp.path();
    util::frozen_copy(root);
    let requests = util::manifest_dir().join("tests/fixtures/frozen/requests");
    util::copy_dir(&requests, &root.join("examples/errors"));
    let request = root.join("examples/errors/24-high-value-threshold-over.json");
    let request = request.to_str().unwrap();
    for cwd in [
        root.to_path_buf(),
        root.join("policies"),
        root.join("policies/calendars"),
        root.join("examples/errors"),
    ] {
        let out = rpl(&cwd, None, &["check"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            cwd.display(),
            stderr(&out)
        );
        assert!(stderr(&out).ends_with("checked 4 policy files: no problems\n"));
        for command in ["eval", "explain"] {
            let out = rpl(&cwd, None, &[command, request]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                cwd.display(),
                stderr(&out)
            );
        }
    }
    // A request error is the request's (1), not a missing directory (2).
    let out = rpl(
        &root.join("examples/errors"),
        None,
        &["eval", "02-missing-paid-amount.json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn none_found_says_what_was_searched_and_how_to_name_one() {
    let dir = outside();
    let request = util::manifest_dir().join("examples/request.json");
    let request = request.to_str().unwrap();
    for args in [
        vec!["check"],
        vec!["check", "--format", "json"],
        vec!["eval", request],
        vec!["explain", request],
    ] {
        let out = rpl(dir.path(), None, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let text = if args.contains(&"json") {
            String::from_utf8(out.stdout).unwrap()
        } else {
            stderr(&out)
        };
        for part in [
            "rpl::load::no_policy_directory",
            "policies/schema.toml",
            "--policies DIR",
            "RPL_POLICIES=DIR",
        ] {
            assert!(text.contains(part), "{args:?}: no `{part}` in\n{text}");
        }
        let shown = dir.path().canonicalize().unwrap();
        assert!(
            text.contains(shown.to_str().unwrap()) || text.contains(dir.path().to_str().unwrap()),
            "{args:?}: the folder searched is named\n{text}"
        );
    }
}

#[test]
fn the_environment_variable_is_used_when_no_directory_is_given() {
    let dir = outside();
    let policies = util::frozen_policies();
    let request = util::manifest_dir().join("examples/request.json");
    let request = request.to_str().unwrap();
    let out = rpl(dir.path(), Some(&policies), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for command in ["eval", "explain"] {
        let out = rpl(dir.path(), Some(&policies), &[command, request]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    // It wins over the search: from the root, a missing one is an error.
    let missing = dir.path().join("missing");
    let out = rpl(util::manifest_dir(), Some(&missing), &["eval", request]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rpl::load::io"), "{}", stderr(&out));
    // An empty variable is no variable.
    let out = rpl(util::manifest_dir(), Some(Path::new("")), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_directory_given_wins_over_the_environment_variable() {
    let dir = outside();
    let missing = dir.path().join("missing");
    let policies = util::frozen_policies();
    let policies = policies.to_str().unwrap();
    let request = util::manifest_dir().join("examples/request.json");
    let request = request.to_str().unwrap();
    let out = rpl(dir.path(), Some(&missing), &["check", policies]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for command in ["eval", "explain"] {
        let out = rpl(
            dir.path(),
            Some(&missing),
            &[command, "--policies", policies, request],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
}

/// `eval` and `explain` report what they cannot read as `rpl check` does:
/// a code, the message and a help, never a bare `error:` line.
#[test]
fn file_errors_are_diagnostics() {
    let root = util::manifest_dir();
    let out = rpl(root, None, &["explain", "no/such.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!("explain_missing_request", stderr(&out));
    let out = rpl(
        root,
        None,
        &["eval", "--policies", "no/such/dir", "examples/request.json"],
    );
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("eval_missing_policies", stderr(&out));
    let out = rpl(root, None, &["eval", "--batch", "no/such.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("eval_missing_batch", stderr(&out));

    // Policies with an error: each diagnostic, then a count.
    let tmp = util::tempdir();
    let policies = util::frozen_copy(tmp.path());
    std::fs::write(policies.join("broken.rpl"), "const x =\n").unwrap();
    let out = rpl(tmp.path(), None, &["eval", "../examples/request.json"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(text.contains("rpl::syntax::"), "{text}");
    assert!(text.contains("help:"), "{text}");
    assert!(
        text.ends_with("no request was decided: the policies have an error\n"),
        "{text}"
    );
    assert!(!text.contains("error: "), "{text}");
}
