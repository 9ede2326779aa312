//! What a new user reads first: `--help` of every subcommand (examples,
//! exit codes, how the policy directory is found), shell completions and
//! the manual page.

use std::process::Output;

fn rpl(args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("rpl")
        .unwrap()
        .current_dir(crate::util::manifest_dir())
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

const SUBCOMMANDS: [&str; 8] = [
    "check",
    "diff",
    "eval",
    "explain",
    "test",
    "fmt",
    "completions",
    "man",
];

#[test]
fn every_help_text_is_a_snapshot() {
    insta::assert_snapshot!("help_rpl", stdout(&rpl(&["--help"])));
    for command in SUBCOMMANDS {
        let text = stdout(&rpl(&[command, "--help"]));
        assert!(text.contains("Exit codes:"), "{command}: {text}");
        insta::assert_snapshot!(format!("help_{command}"), text);
    }
}

#[test]
fn the_commands_that_read_policies_say_how_they_find_them() {
    for command in ["check", "eval", "explain"] {
        let text = stdout(&rpl(&[command, "--help"]));
        for part in ["Examples:", "RPL_POLICIES", "policies/schema.toml"] {
            assert!(text.contains(part), "{command}: no `{part}`");
        }
    }
}

#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout(&rpl(&["completions", shell]));
        for command in SUBCOMMANDS {
            assert!(script.contains(command), "{shell}: no `{command}`");
        }
        assert!(script.contains("policies"), "{shell}: no `--policies`");
    }
    let out = rpl(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_manual_pages_name_every_subcommand() {
    let page = stdout(&rpl(&["man"]));
    assert!(
        page.starts_with(".ie") || page.contains(".TH rpl 1"),
        "{page}"
    );
    for command in SUBCOMMANDS {
        assert!(
            page.contains(&format!("rpl\\-{command}(1)")),
            "no `{command}`:\n{page}"
        );
        let sub = stdout(&rpl(&["man", command]));
        assert!(sub.contains(&format!(".TH rpl-{command} 1")), "{sub}");
    }
    // A subcommand's page carries its examples and exit codes.
    assert!(stdout(&rpl(&["man", "explain"])).contains("Exit codes:"));
    let out = rpl(&["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("check, eval, explain"));
}
