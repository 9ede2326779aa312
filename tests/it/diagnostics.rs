//! One failing input per diagnostic code (`tests/diagnostics/`), rendered as
//! a person reads it and kept as a snapshot; and checks over the codes
//! themselves: each is unique, each has a fixture, each reads in the house
//! style (Cedar's: lowercase, no final period, a help).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rpl::check::Checked;
use rpl::load::check_paths;
use rpl::report::diagnostics::render_human;

use crate::util;

/// The stages whose codes have their fixtures in `tests/diagnostics/`.
const STAGES: [&str; 3] = ["syntax", "check", "load"];

/// Where the other stages keep one fixture per code, by code prefix. Codes
/// of any stage not listed here are only checked for uniqueness.
const OTHER_FIXTURES: [(&str, &str); 3] = [
    ("calendar", "tests/fixtures/calendars/errors"),
    ("schema", "tests/fixtures/schema/errors"),
    ("request", "tests/fixtures/requests/errors"),
];

/// Codes no input can produce: `internal` is a bug in rpl by definition.
const NO_FIXTURE: [&str; 1] = ["rpl::syntax::internal"];

/// A small valid policy, for fixtures that are not policies themselves.
const VALID_POLICY: &str = r#"
policy official_mall {
    channel = official_mall
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"

    rule otherwise { deny }
}
"#;

fn fixtures_dir() -> PathBuf {
    util::manifest_dir().join("tests/diagnostics")
}

/// What checking a fixture gave.
struct Run {
    checked: Checked,
    /// Every diagnostic rendered without colour at 80 columns, file names
    /// relative to the temporary directory.
    rendered: String,
}

impl Run {
    fn codes(&self) -> Vec<String> {
        self.checked
            .diagnostics
            .iter()
            .map(|d| d.code().map(|c| c.to_string()).unwrap_or_default())
            .collect()
    }
}

/// Checks `target` (inside `tmp`) and renders what it reports.
fn check(tmp: &Path, targets: Vec<PathBuf>) -> Run {
    let checked = check_paths(&targets);
    let rendered: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| render_human(&util::RelativeTo::new(d.as_ref(), tmp), false, 80))
        .collect();
    Run {
        rendered: rendered.join("\n"),
        checked,
    }
}

/// The stage a fixture belongs to: the name of its folder.
fn stage_of(fixture: &Path) -> &str {
    fixture
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap()
}

/// The code a fixture is named after: `check/unknown_field.rpl` and
/// `check/import_cycle/` stand for `rpl::check::unknown_field` and
/// `rpl::check::import_cycle`.
fn expected_code(fixture: &Path) -> String {
    let name = fixture.file_stem().and_then(|n| n.to_str()).unwrap();
    format!("rpl::{}::{name}", stage_of(fixture))
}

/// Builds the fixture's policy directory in a fresh temporary directory, as
/// `tests/diagnostics/README.md` describes, and checks it.
fn run_fixture(fixture: &Path) -> Run {
    let tmp = util::tempdir();
    let targets = if fixture.extension().is_some_and(|e| e == "special") {
        special(fixture, tmp.path())
    } else if fixture.is_dir() {
        util::copy_dir(fixture, tmp.path());
        if stage_of(fixture) != "load" {
            util::schema_only(tmp.path());
        }
        vec![tmp.path().join("policies")]
    } else {
        let file = util::schema_only(tmp.path()).join(fixture.file_name().unwrap());
        std::fs::copy(fixture, &file).unwrap();
        vec![file]
    };
    check(tmp.path(), targets)
}

/// A fixture of what git cannot hold (a FIFO, a symlink out of the
/// checkout, a file of 33 MiB, a name that is not UTF-8), made by the
/// directives in its lines beside a valid policy directory:
/// `fifo PATH`, `symlink PATH -> TARGET`, `sparse PATH BYTES`,
/// `write PATH TEXT`, and `check PATH...` for what to check (the whole
/// policy directory when not given). Paths are relative to the temporary
/// directory; `\xNN` in one stands for a raw byte.
fn special(fixture: &Path, tmp: &Path) -> Vec<PathBuf> {
    let policies = util::schema_only(tmp);
    for channel in ["official_mall", "partner_platform", "offline_store"] {
        let text = VALID_POLICY.replace("official_mall", channel);
        std::fs::write(policies.join(format!("{channel}.rpl")), text).unwrap();
    }
    let path = |p: &str| tmp.join(raw_path(p));
    let mut targets = vec![policies];
    let text = std::fs::read_to_string(fixture).unwrap();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (directive, rest) = line.split_once(' ').unwrap();
        match directive {
            "fifo" => {
                let status = std::process::Command::new("mkfifo")
                    .arg(path(rest))
                    .status()
                    .unwrap();
                assert!(status.success());
            }
            "symlink" => {
                let (link, target) = rest.split_once(" -> ").unwrap();
                std::os::unix::fs::symlink(target, path(link)).unwrap();
            }
            "sparse" => {
                let (file, size) = rest.split_once(' ').unwrap();
                let f = std::fs::File::create(path(file)).unwrap();
                f.set_len(size.parse().unwrap()).unwrap();
            }
            "write" => {
                let (file, content) = rest.split_once(' ').unwrap();
                let file = path(file);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, content).unwrap();
            }
            "check" => targets = rest.split(' ').map(path).collect(),
            other => panic!("{}: unknown directive `{other}`", fixture.display()),
        }
    }
    targets
}

/// A path written with `\xNN` for raw bytes.
fn raw_path(written: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt as _;
    let mut bytes = Vec::new();
    let mut rest = written.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (b, tail) {
            (b'\\', [b'x', h, l, more @ ..]) => {
                let hex = std::str::from_utf8(&[*h, *l]).unwrap().to_owned();
                bytes.push(u8::from_str_radix(&hex, 16).unwrap());
                rest = more;
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

/// Every fixture of `tests/diagnostics/`.
fn all_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for stage in STAGES {
        for entry in std::fs::read_dir(fixtures_dir().join(stage)).unwrap() {
            out.push(entry.unwrap().path());
        }
    }
    out.sort();
    out
}

/// The real assertion is that each fixture reports the code it is named
/// after; the snapshot shows everything it reports, as a person reads it.
#[test]
fn each_fixture_reports_its_code() {
    insta::glob!("../diagnostics", "{syntax,check,load}/*", |fixture| {
        let run = run_fixture(fixture);
        let want = expected_code(fixture);
        assert!(
            run.codes().contains(&want),
            "{} should report `{want}`, but reported:\n{}",
            fixture.display(),
            run.rendered
        );
        insta::assert_snapshot!(run.rendered);
    });
}

/// Every `code(rpl::...)` attribute under `src/`, read as text: the code
/// and where it is written.
fn declared_codes() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                let mut rest = line;
                while let Some(at) = rest.find("code(rpl::") {
                    let after = &rest[at + "code(".len()..];
                    let end = after.find(')').unwrap_or(after.len());
                    let at_line = format!("{}:{}", path.display(), i + 1);
                    out.push((after[..end].trim().to_string(), at_line));
                    rest = &after[end..];
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&util::manifest_dir().join("src"), &mut out);
    out
}

/// ruff's habit, and nushell's lesson: a code names one mistake, so it is
/// declared once, and a fixture shows that it can actually be reported.
#[test]
fn every_code_is_unique_and_has_a_fixture() {
    let declared = declared_codes();
    assert!(declared.len() > 40, "found only {declared:?}");
    let mut by_code: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (code, at) in &declared {
        by_code.entry(code).or_default().push(at);
    }
    let reused: Vec<_> = by_code.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(
        reused.is_empty(),
        "codes declared more than once: {reused:#?}"
    );

    let mut missing = Vec::new();
    for code in by_code.keys() {
        let mut parts = code.split("::");
        let (Some("rpl"), Some(stage), Some(name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("`{code}` is not of the form `rpl::<stage>::<name>`");
        };
        if NO_FIXTURE.contains(code) {
            continue;
        }
        let found = if STAGES.contains(&stage) {
            let dir = fixtures_dir().join(stage);
            // `.rpl` as a rule; a load fixture may be another kind of file
            // (`not_a_policy_file.toml`).
            dir.join(format!("{name}.rpl")).is_file()
                || dir.join(name).is_dir()
                || (stage == "load"
                    && std::fs::read_dir(&dir)
                        .unwrap()
                        .any(|e| e.unwrap().path().file_stem().is_some_and(|s| s == name)))
        } else if let Some((_, dir)) = OTHER_FIXTURES.iter().find(|(s, _)| *s == stage) {
            std::fs::read_dir(util::manifest_dir().join(dir))
                .unwrap()
                .any(|e| e.unwrap().path().file_stem().is_some_and(|s| s == name))
        } else {
            // A stage without a fixture folder yet (`eval`, ...): its
            // codes are only held to being unique.
            continue;
        };
        if !found {
            missing.push(*code);
        }
    }
    assert!(missing.is_empty(), "codes without a fixture: {missing:#?}");

    // And the other way: no fixture is left behind by a renamed code.
    for fixture in all_fixtures() {
        let code = expected_code(&fixture);
        assert!(
            by_code.contains_key(code.as_str()),
            "{} is named after `{code}`, which no diagnostic declares",
            fixture.display()
        );
    }
}

/// Every diagnostic the fixtures produce, the schema and calendar fixtures
/// included (checked as a policy directory's `schema.toml` or
/// `calendars/cn.toml`).
fn every_fixture_run() -> Vec<(String, Run)> {
    let mut runs: Vec<(String, Run)> = all_fixtures()
        .into_iter()
        .map(|f| (f.display().to_string(), run_fixture(&f)))
        .collect();
    let others = [
        ("schema", "tests/fixtures/schema/errors", "schema.toml"),
        (
            "calendar",
            "tests/fixtures/calendars/errors",
            "calendars/cn.toml",
        ),
    ];
    for (stage, dir, replaces) in others {
        for entry in std::fs::read_dir(util::manifest_dir().join(dir)).unwrap() {
            let fixture = entry.unwrap().path();
            let tmp = util::tempdir();
            let policies = util::schema_only(tmp.path());
            std::fs::copy(&fixture, policies.join(replaces)).unwrap();
            std::fs::write(policies.join("official_mall.rpl"), VALID_POLICY).unwrap();
            let run = check(tmp.path(), vec![policies.join("official_mall.rpl")]);
            let name = fixture.file_stem().unwrap().to_str().unwrap();
            let want = format!("rpl::{stage}::{name}");
            assert!(
                run.codes().contains(&want),
                "{} should report `{want}` through `check_paths`:\n{}",
                fixture.display(),
                run.rendered
            );
            runs.push((fixture.display().to_string(), run));
        }
    }
    runs
}

/// Cedar's style guide: a message starts lowercase (or with user input in
/// backticks), has no final period, and comes with a help that says what to
/// do; a diagnostic about a file points into it.
#[test]
fn every_message_follows_the_style_guide() {
    let mut bad = Vec::new();
    for (fixture, run) in every_fixture_run() {
        for d in &run.checked.diagnostics {
            let message = d.to_string();
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            let mut problems = Vec::new();
            if message.starts_with(char::is_uppercase) {
                problems.push("starts with a capital");
            }
            if message.ends_with('.') {
                problems.push("ends with a period");
            }
            if code.is_empty() {
                problems.push("has no code");
            }
            if d.help().is_none_or(|h| h.to_string().trim().is_empty()) {
                problems.push("has no help");
            }
            if d.source_code().is_some() && d.labels().is_none_or(|mut l| l.next().is_none()) {
                problems.push("has a source but no label pointing into it");
            }
            if !problems.is_empty() {
                bad.push(format!("{fixture}: {code} `{message}`: {problems:?}"));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}
