//! The loader tried as an attacker would: a policy directory can hold
//! symlinks out of it, FIFOs, devices, cycles of links, files in the wrong
//! encoding. Each is reported and skipped without being read, the check
//! ends, and nothing outside the directory is ever shown. And the checker
//! itself needs no disk at all.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use rpl::load::check_paths;
use rpl::source::Sources;

use crate::util;

fn codes(dir: &Path) -> Vec<String> {
    check_paths(&[dir.to_path_buf()])
        .diagnostics
        .iter()
        .map(|d| d.code().map(|c| c.to_string()).unwrap_or_default())
        .collect()
}

/// `rpl check DIR` in all three formats, each bounded in time: a check
/// that opened a FIFO would hang.
fn rpl_check(dir: &Path) -> Vec<Output> {
    ["human", "json", "github"]
        .iter()
        .map(|format| {
            assert_cmd::Command::cargo_bin("rpl")
                .unwrap()
                .env("NO_COLOR", "1")
                .args(["check", "--format", format])
                .arg(dir)
                .timeout(Duration::from_secs(60))
                .output()
                .unwrap()
        })
        .collect()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The shipped policies, read into memory once, under the name `memory`.
fn in_memory() -> Sources {
    let root = util::frozen_policies();
    let mut sources = Sources::new("memory");
    for name in [
        "schema.toml",
        "calendars/cn.toml",
        "common.rpl",
        "official_mall.rpl",
        "partner_platform.rpl",
        "offline_store.rpl",
    ] {
        sources.insert(name, std::fs::read_to_string(root.join(name)).unwrap());
    }
    sources
}

#[test]
fn a_policy_set_that_exists_only_in_memory_checks_and_decides() {
    let sources = in_memory();
    let checked = rpl::check::check(&sources, None);
    assert!(
        checked.diagnostics.is_empty(),
        "{}",
        checked.diagnostics.len()
    );
    let engine = rpl::Engine::from_sources(&sources).unwrap();
    let request = std::fs::read_to_string(
        util::manifest_dir().join("examples/official_mall/01-contract-example.json"),
    )
    .unwrap();
    match engine.evaluate_json(&request, true) {
        rpl::Outcome::Decision(d) => {
            assert_eq!(d.decision.as_str(), "approve");
            // Locations name the file as the sources do.
            let trace = d.trace.unwrap();
            assert!(
                trace[0].location.starts_with("memory/common.rpl:"),
                "{}",
                trace[0].location
            );
        }
        rpl::Outcome::Failure(f) => panic!("{}", f.error.message),
    }

    // An unsaved edit, as an editor would hand it over: checked, not read.
    let mut edited = sources.clone();
    edited.insert(
        "official_mall.rpl",
        "import \"common.rpl\"\nimport \"lib/missing.rpl\"\n",
    );
    edited.insert("lib/helper.rpl", "");
    let checked = rpl::check::check(&edited, None);
    let records: Vec<_> = checked
        .diagnostics
        .iter()
        .map(|d| rpl::report::diagnostics::record(d.as_ref()))
        .collect();
    let missing = records
        .iter()
        .find(|r| r.code == "rpl::check::missing_import")
        .unwrap();
    assert_eq!(missing.file.as_deref(), Some("memory/official_mall.rpl"));
    assert_eq!(missing.line, Some(2));
}

/// A symlink to a file outside the directory is refused, and the file's
/// text appears in no output, whatever the format.
#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_directory_is_never_read() {
    let dir = util::tempdir();
    let policies = util::frozen_copy(dir.path());
    let secret = dir.path().join("secret.rpl");
    std::fs::write(&secret, "TOP SECRET syntax error here {{{").unwrap();
    std::os::unix::fs::symlink(&secret, policies.join("leak.rpl")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", policies.join("zero.rpl")).unwrap();
    assert_eq!(
        codes(&policies),
        ["rpl::load::outside_root", "rpl::load::outside_root"]
    );
    for out in rpl_check(&policies) {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(!text(&out).contains("TOP SECRET"), "{}", text(&out));
    }
}

/// A FIFO is reported, never opened: opening one with no writer blocks.
#[cfg(unix)]
#[test]
fn a_fifo_is_reported_without_being_opened() {
    let dir = util::tempdir();
    let policies = util::frozen_copy(dir.path());
    let status = std::process::Command::new("mkfifo")
        .arg(policies.join("pipe.rpl"))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(codes(&policies), ["rpl::load::not_a_regular_file"]);
    for out in rpl_check(&policies) {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    }
}

/// A folder symlink to `/` is not walked, and cycles of links end.
#[cfg(unix)]
#[test]
fn folder_symlinks_are_not_walked_out_or_round() {
    let dir = util::tempdir();
    let policies = util::frozen_copy(dir.path());
    std::os::unix::fs::symlink("/", policies.join("root")).unwrap();
    std::os::unix::fs::symlink(".", policies.join("again")).unwrap();
    std::os::unix::fs::symlink("b.rpl", policies.join("a.rpl")).unwrap();
    std::os::unix::fs::symlink("a.rpl", policies.join("b.rpl")).unwrap();
    // One file by two names is read once: no duplicate definitions.
    std::os::unix::fs::symlink("common.rpl", policies.join("same.rpl")).unwrap();
    let found = codes(&policies);
    assert_eq!(
        found,
        [
            "rpl::load::symlink_not_followed",
            "rpl::load::io",
            "rpl::load::io"
        ],
        "{found:?}"
    );
    let checked = check_paths(std::slice::from_ref(&policies));
    let messages: Vec<String> = checked.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(messages[1].contains("a.rpl"), "{messages:?}");
    assert!(
        messages[1].contains("too many levels of symbolic links"),
        "{messages:?}"
    );
    for out in rpl_check(&policies) {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    }
}

/// Only errors decide the exit code: a folder not followed is a warning.
#[cfg(unix)]
#[test]
fn a_folder_not_followed_is_only_a_warning() {
    let dir = util::tempdir();
    let policies = util::frozen_copy(dir.path());
    std::os::unix::fs::symlink("/", policies.join("root")).unwrap();
    let outs = rpl_check(&policies);
    assert_eq!(outs[0].status.code(), Some(0), "{}", text(&outs[0]));
    assert!(text(&outs[0]).contains("is a symlink to `/`"));
}

/// Definitions seen twice are found wherever they meet, and only there:
/// through a long chain of imports, in a diamond, but not in two files
/// that never see each other.
#[test]
fn duplicates_are_found_across_chains_and_diamonds_only() {
    let policy = "policy official_mall {\n channel = official_mall\n currency = CNY\n timezone = \"Asia/Shanghai\"\n calendar = \"calendars/cn.toml\"\n rule otherwise { deny }\n}\n";
    let mut sources = in_memory();
    sources.insert(
        "official_mall.rpl",
        format!("import \"chain/0.rpl\"\n{policy}"),
    );
    let n = 500;
    for i in 0..n {
        let next = if i + 1 < n {
            format!("import \"{}.rpl\"\n", i + 1)
        } else {
            String::new()
        };
        let def = match i {
            3 | 499 => "const twice = 1\n".to_owned(),
            _ => format!("const c{i} = {i}\n"),
        };
        sources.insert(format!("chain/{i}.rpl"), format!("{next}{def}"));
    }
    // Seen by nobody together: not a duplicate.
    sources.insert("apart/a.rpl", "const apart = 1\n");
    sources.insert("apart/b.rpl", "const apart = 2\n");
    // A diamond: `top` sees both sides.
    sources.insert("diamond/top.rpl", "import \"l.rpl\"\nimport \"r.rpl\"\n");
    sources.insert("diamond/l.rpl", "const side = 1\n");
    sources.insert("diamond/r.rpl", "const side = 2\n");
    let checked = rpl::check::check(&sources, None);
    let dups: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| {
            d.code()
                .is_some_and(|c| c.to_string() == "rpl::check::duplicate_name")
        })
        .map(|d| {
            let r = rpl::report::diagnostics::record(d.as_ref());
            format!("{} {}", r.file.unwrap(), r.message)
        })
        .collect();
    assert_eq!(
        dups,
        [
            "memory/chain/499.rpl constant `twice` is defined twice",
            "memory/diamond/r.rpl constant `side` is defined twice",
        ]
    );
}

/// A link inside the directory to a FIFO or to a hidden file: the FIFO is
/// reported under the link's name and never opened, and the hidden file
/// is read under the link's name only, so what is hidden stays hidden.
#[cfg(unix)]
#[test]
fn links_inside_keep_their_own_names() {
    let dir = util::tempdir();
    let policies = util::frozen_copy(dir.path());
    let status = std::process::Command::new("mkfifo")
        .arg(policies.join("plainfifo"))
        .status()
        .unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink("plainfifo", policies.join("viafifo.rpl")).unwrap();
    std::fs::create_dir(policies.join(".hidden")).unwrap();
    std::fs::write(policies.join(".hidden/h.rpl"), "const hidden_value = 1\n").unwrap();
    std::os::unix::fs::symlink(".hidden/h.rpl", policies.join("viahidden.rpl")).unwrap();
    std::fs::write(policies.join("imp.rpl"), "import \".hidden/h.rpl\"\n").unwrap();
    let checked = check_paths(std::slice::from_ref(&policies));
    let records: Vec<_> = checked
        .diagnostics
        .iter()
        .map(|d| rpl::report::diagnostics::record(d.as_ref()))
        .map(|r| (r.code, r.message))
        .collect();
    let fifo = records
        .iter()
        .find(|(c, _)| c == "rpl::load::not_a_regular_file")
        .unwrap();
    assert!(fifo.1.contains("viafifo.rpl` is a FIFO"), "{records:?}");
    assert!(
        records
            .iter()
            .any(|(c, m)| c == "rpl::check::missing_import"
                && m.ends_with("hidden files are not part of the policy directory")),
        "{records:?}"
    );
    // The linked file is read under the link's name only.
    assert!(
        checked
            .sources
            .iter()
            .any(|(_, f)| f.name.ends_with("viahidden.rpl"))
    );
    assert!(
        !checked
            .sources
            .iter()
            .any(|(_, f)| f.name.contains(".hidden"))
    );
}

/// A link to the directory itself (`sub/up -> ..`) resolves imports.
#[cfg(unix)]
#[test]
fn a_link_to_the_directory_itself_resolves() {
    let dir = util::tempdir();
    let policies = util::frozen_copy(dir.path());
    std::fs::create_dir(policies.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", policies.join("sub/up")).unwrap();
    let mall = policies.join("official_mall.rpl");
    let text = std::fs::read_to_string(&mall).unwrap();
    std::fs::write(
        &mall,
        text.replace("import \"common.rpl\"", "import \"sub/up/common.rpl\""),
    )
    .unwrap();
    assert_eq!(codes(&policies), Vec::<String>::new());
}

/// The paths given decide what is checked: one that cannot be read stops
/// the check (nothing is checked in its place), a folder without policies
/// is no policy directory, and `--policies` names the directory itself.
#[test]
fn named_paths_are_checked_as_named() {
    let policies = util::frozen_policies();
    let checked = check_paths(&[policies.join("typo.rpl")]);
    let codes: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| d.code().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["rpl::load::io"]);
    assert_eq!(checked.sources.iter().count(), 0);
    let checked = check_paths(&[policies.join("calendars")]);
    assert_eq!(
        checked.diagnostics[0].code().unwrap().to_string(),
        "rpl::load::no_policies"
    );
    let out = assert_cmd::Command::cargo_bin("rpl")
        .unwrap()
        .current_dir(util::manifest_dir())
        .args([
            "eval",
            "--policies",
            "policies/calendars",
            "examples/official_mall/01-contract-example.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rpl::load::no_schema"));
}

/// `rpl::load::read_dir` reads a directory into sources an editor can
/// then change in memory before checking.
#[test]
fn a_directory_read_from_disk_can_be_edited_in_memory() {
    let mut sources = rpl::load::read_dir(&util::frozen_policies()).unwrap();
    let checked = rpl::check::check(&sources, None);
    assert!(checked.diagnostics.is_empty());
    sources.insert("common.rpl", "const unsaved = 1\n");
    let checked = rpl::check::check(&sources, None);
    assert!(checked.has_errors());
    assert!(checked.diagnostics.iter().any(|d| {
        let r = rpl::report::diagnostics::record(d.as_ref());
        r.file.is_some_and(|f| f.ends_with("policies/common.rpl"))
    }));
}

/// Two policies without a channel are offered two different free ones, the
/// one named like the policy first; both applied, the directory checks.
#[test]
fn channel_helps_offer_distinct_free_channels() {
    let settings = "    currency = CNY\n    timezone = \"Asia/Shanghai\"\n    calendar = \"calendars/cn.toml\"\n    rule otherwise { deny }\n";
    let mut sources = in_memory();
    sources.insert(
        "partner_platform.rpl",
        format!("policy extra {{\n{settings}}}\n"),
    );
    sources.insert(
        "offline_store.rpl",
        format!("policy offline_store {{\n{settings}}}\n"),
    );
    let checked = rpl::check::check(&sources, None);
    let helps: Vec<(String, String)> = checked
        .diagnostics
        .iter()
        .map(|d| rpl::report::diagnostics::record(d.as_ref()))
        .filter(|r| r.code == "rpl::check::missing_setting")
        .map(|r| (r.message, r.help.unwrap()))
        .collect();
    assert_eq!(
        helps,
        [
            (
                "policy `offline_store` has no `channel`".to_owned(),
                "add `channel = offline_store` to the policy".to_owned()
            ),
            (
                "policy `extra` has no `channel`".to_owned(),
                "add `channel = partner_platform` to the policy".to_owned()
            ),
        ]
    );
    sources.insert(
        "partner_platform.rpl",
        format!("policy extra {{\n    channel = partner_platform\n{settings}}}\n"),
    );
    sources.insert(
        "offline_store.rpl",
        format!("policy offline_store {{\n    channel = offline_store\n{settings}}}\n"),
    );
    assert!(!rpl::check::check(&sources, None).has_errors());
}
