//! README.md stays true for a new user: every `$ rpl …` line in its code
//! blocks runs as shown (no usage error) from a copy of the repository's
//! root, and where the README shows output after it, the command prints
//! exactly that (whitespace aside).

use crate::util;

/// A command of the README and the output shown under it (empty: none).
struct Example {
    line: usize,
    args: Vec<String>,
    shown: String,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_block = false;
    // Whether the lines that follow are the output of the last command.
    let mut collecting = false;
    for (i, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            in_block = !in_block;
            collecting = false;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ rpl") {
            let command = command.split(" #").next().unwrap();
            assert!(
                !command.contains(['*', '|', '<', '>', ';', '&', '\'', '"', '$']),
                "README.md:{}: `$ rpl` lines are run without a shell; write the command plainly",
                i + 1
            );
            out.push(Example {
                line: i + 1,
                args: command.split_whitespace().map(str::to_owned).collect(),
                shown: String::new(),
            });
            collecting = true;
        } else if collecting && let Some(last) = out.last_mut() {
            last.shown.push_str(line);
            last.shown.push('\n');
        }
    }
    out
}

fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The README shows what the shipped policies decide, so this test reads
/// them, not the frozen copy: it is left out of `cargo test` (an author's
/// edit to a policy must not break the Rust suite) and run by `.ci/run`
/// (`cargo test --workspace -- --ignored`), where the README and the
/// policies are checked together.
#[test]
#[ignore = "checks the README against the shipped policies: run by .ci/run"]
fn every_rpl_command_in_the_readme_runs_as_shown() {
    let readme = std::fs::read_to_string(util::manifest_dir().join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 10, "found {} commands", examples.len());
    // A fresh clone's root: the commands may write files (`-o`).
    let tmp = util::tempdir();
    util::copy_dir(
        &util::manifest_dir().join("policies"),
        &tmp.path().join("policies"),
    );
    util::copy_dir(
        &util::manifest_dir().join("examples"),
        &tmp.path().join("examples"),
    );
    let mut wrong = Vec::new();
    for e in &examples {
        let out = assert_cmd::Command::cargo_bin("rpl")
            .unwrap()
            .current_dir(tmp.path())
            .env("NO_COLOR", "1")
            .env_remove("RPL_POLICIES")
            .args(&e.args)
            .output()
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let command = format!("README.md:{}: rpl {}", e.line, e.args.join(" "));
        // 1 is a command showing a problem on purpose; 2 is one that
        // could not run as written.
        if !matches!(out.status.code(), Some(0 | 1)) {
            wrong.push(format!(
                "{command}: exit {:?}\n{printed}",
                out.status.code()
            ));
        } else if !e.shown.trim().is_empty() && normalised(&e.shown) != normalised(&printed) {
            wrong.push(format!(
                "{command}: the README shows\n{}\nbut it printed\n{printed}",
                e.shown
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
