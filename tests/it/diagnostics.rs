//! One failing input per diagnostic code (`tests/diagnostics/<stage>/`),
//! run as a user would meet it and kept as a snapshot; and the one check
//! that holds the list of codes (`rpl::codes::ALL`), the codes the source
//! declares, the fixtures and the snapshots to each other. Messages are
//! held to the house style (Cedar's: lowercase, no final period, a help).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use rpl::load::check_paths;
use rpl::report::diagnostics::render_human;

use crate::util;

/// The stages in pipeline order, each a folder of `tests/diagnostics/`.
const STAGES: [&str; 10] = [
    "load", "syntax", "schema", "calendar", "check", "compile", "request", "eval", "test", "diff",
];

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

/// What a fixture gave: the codes reported, and everything as a person
/// reads it (diagnostics rendered without colour at 80 columns, or a
/// request's error object and its human summary), file names relative to
/// the temporary directory.
struct Run {
    codes: Vec<String>,
    rendered: String,
    /// The diagnostics of a check, for the style guide.
    diagnostics: Vec<rpl::check::Diagnostic>,
}

/// Checks `targets` (inside `tmp`) and renders what it reports.
fn check(tmp: &Path, targets: Vec<PathBuf>) -> Run {
    let checked = check_paths(&targets);
    let rendered: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| render_human(&util::relative_diagnostic(d.as_ref(), tmp), false, 80))
        .collect();
    Run {
        codes: checked
            .diagnostics
            .iter()
            .map(|d| d.code().map(|c| c.to_string()).unwrap_or_default())
            .collect(),
        rendered: rendered.join("\n"),
        diagnostics: checked.diagnostics,
    }
}

/// Runs `rpl eval` on `request` (a path relative to the crate) with the
/// policy directory `policies`, in JSON and for people.
fn eval(tmp: &Path, policies: &Path, request: &Path) -> Run {
    let request = request.strip_prefix(util::manifest_dir()).unwrap();
    let run = |format: &str| -> Output {
        assert_cmd::Command::cargo_bin("rpl")
            .unwrap()
            .current_dir(util::manifest_dir())
            .env("NO_COLOR", "1")
            .args(["eval", "--max-request-size", "1500", "--format", format])
            .arg("--policies")
            .arg(policies)
            .arg(request)
            .output()
            .unwrap()
    };
    let json = run("json");
    let record: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let human = String::from_utf8(run("human").stdout).unwrap();
    let rendered = format!(
        "{}\n\n{}",
        serde_json::to_string_pretty(&record).unwrap(),
        util::relative_to(&human, tmp)
    );
    Run {
        codes: record["error"]["code"]
            .as_str()
            .map(str::to_owned)
            .into_iter()
            .collect(),
        rendered,
        diagnostics: Vec::new(),
    }
}

/// Runs `rpl test` on one test file (inside `tmp`) and renders what it
/// reports.
fn policy_test(tmp: &Path, file: &Path) -> Run {
    let (_, run) = rpl_in(
        tmp,
        &["test".as_ref(), file.strip_prefix(tmp).unwrap().as_os_str()],
        "rpl::test::",
    );
    run
}

/// Runs `rpl diff OLD NEW` (inside `tmp`) and renders what it reports.
fn policy_diff(tmp: &Path, old: &Path, new: &Path) -> Run {
    let args = [
        "diff".as_ref(),
        old.strip_prefix(tmp).unwrap().as_os_str(),
        new.strip_prefix(tmp).unwrap().as_os_str(),
    ];
    let (status, run) = rpl_in(tmp, &args, "rpl::diff::");
    assert_eq!(status, Some(2), "a diff that cannot compare exits 2");
    run
}

/// Runs `rpl ARGS` in `tmp` as a person would read it (no colour, 80
/// columns): its exit code, and its output with the codes starting with
/// `prefix` it names.
fn rpl_in(tmp: &Path, args: &[&std::ffi::OsStr], prefix: &str) -> (Option<i32>, Run) {
    let out = assert_cmd::Command::cargo_bin("rpl")
        .unwrap()
        .current_dir(tmp)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .args(args)
        .output()
        .unwrap();
    let rendered = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let run = Run {
        codes: rendered
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '_'))
            .filter(|w| w.starts_with(prefix))
            .map(str::to_owned)
            .collect(),
        rendered: util::relative_to(&rendered, tmp),
        diagnostics: Vec::new(),
    };
    (out.status.code(), run)
}

/// The stage a fixture belongs to: the name of its folder.
fn stage_of(fixture: &Path) -> &str {
    fixture
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap()
}

/// The code a fixture is named after: `check/unknown_field.rpl`,
/// `check/import_cycle/`, `syntax/unexpected.missing_comma.rpl` (a second
/// case of one code) stand for `rpl::check::unknown_field`,
/// `rpl::check::import_cycle` and `rpl::syntax::unexpected`.
fn expected_code(fixture: &Path) -> String {
    let name = fixture.file_name().and_then(|n| n.to_str()).unwrap();
    let name = name.split('.').next().unwrap();
    format!("rpl::{}::{name}", stage_of(fixture))
}

/// Builds the fixture's case in a fresh temporary directory, as
/// `tests/diagnostics/README.md` describes, and runs it.
fn run_fixture(fixture: &Path) -> Run {
    run_fixture_as(fixture, stage_of(fixture))
}

/// The same, for a fixture of `stage` held anywhere (a fixed copy).
fn run_fixture_as(fixture: &Path, stage: &str) -> Run {
    let tmp = util::tempdir();
    match stage {
        "schema" | "calendar" => {
            let policies = util::schema_only(tmp.path());
            let replaces = if stage == "schema" {
                "schema.toml"
            } else {
                "calendars/cn.toml"
            };
            std::fs::copy(fixture, policies.join(replaces)).unwrap();
            std::fs::write(policies.join("official_mall.rpl"), VALID_POLICY).unwrap();
            return check(tmp.path(), vec![policies.join("official_mall.rpl")]);
        }
        "request" => {
            let policies = util::schema_only(tmp.path());
            std::fs::write(policies.join("official_mall.rpl"), VALID_POLICY).unwrap();
            return eval(tmp.path(), &policies, fixture);
        }
        "eval" => {
            let policies = util::schema_only(tmp.path());
            std::fs::copy(fixture.join("policy.rpl"), policies.join("policy.rpl")).unwrap();
            return eval(tmp.path(), &policies, &fixture.join("request.json"));
        }
        "diff" => {
            let old = util::schema_only(&tmp.path().join("old"));
            std::fs::write(old.join("official_mall.rpl"), VALID_POLICY).unwrap();
            let new = util::schema_only(&tmp.path().join("new"));
            std::fs::write(new.join("official_mall.rpl"), VALID_POLICY).unwrap();
            std::fs::copy(fixture, new.join("schema.toml")).unwrap();
            return policy_diff(tmp.path(), &old, &new);
        }
        "test" => {
            let policies = util::schema_only(tmp.path());
            std::fs::write(policies.join("official_mall.rpl"), VALID_POLICY).unwrap();
            std::fs::create_dir(policies.join("tests")).unwrap();
            let file = policies.join("tests").join(fixture.file_name().unwrap());
            std::fs::copy(fixture, &file).unwrap();
            return policy_test(tmp.path(), &file);
        }
        _ => {}
    }
    let targets = if fixture.extension().is_some_and(|e| e == "special") {
        return special(fixture, tmp.path());
    } else if fixture.is_dir() {
        util::copy_dir(fixture, tmp.path());
        if stage != "load" {
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
/// policy directory when not given), or `search DIR` to look for a policy
/// directory from `DIR` up, as a command given none does. Paths are
/// relative to the temporary directory; `\xNN` in one stands for a raw
/// byte.
fn special(fixture: &Path, tmp: &Path) -> Run {
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
            "search" => return search(tmp, &path(rest)),
            other => panic!("{}: unknown directive `{other}`", fixture.display()),
        }
    }
    check(tmp, targets)
}

/// Looks for a policy directory from `start` up; it must not find one.
fn search(tmp: &Path, start: &Path) -> Run {
    let found = rpl::load::search_up(start);
    let d: rpl::check::Diagnostic = Box::new(found.unwrap_err());
    let codes = vec![d.code().unwrap().to_string()];
    let rendered = render_human(&util::relative_diagnostic(d.as_ref(), tmp), false, 80);
    Run {
        codes,
        rendered,
        diagnostics: vec![d],
    }
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

/// Every fixture of `tests/diagnostics/`, by stage.
fn all_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for stage in STAGES {
        let Ok(entries) = std::fs::read_dir(fixtures_dir().join(stage)) else {
            continue;
        };
        let mut here: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        here.sort();
        out.extend(here);
    }
    out
}

/// The snapshot `each_fixture_reports_its_code` keeps for a fixture.
fn snapshot_of(fixture: &Path) -> PathBuf {
    let name = fixture.file_name().and_then(|n| n.to_str()).unwrap();
    util::manifest_dir().join(format!(
        "tests/it/snapshots/tests__diagnostics__each_fixture_reports_its_code@{}__{name}.snap",
        stage_of(fixture)
    ))
}

/// The real assertion is that each fixture reports the code it is named
/// after; the snapshot shows everything it reports, as a person reads it.
#[test]
fn each_fixture_reports_its_code() {
    insta::glob!(
        "../diagnostics",
        "{load,syntax,schema,calendar,check,compile,request,eval,test,diff}/*",
        |fixture| {
            if fixture.extension().is_some_and(|e| e == "md") {
                return;
            }
            let run = run_fixture(fixture);
            let want = expected_code(fixture);
            assert!(
                run.codes.contains(&want),
                "{} should report `{want}`, but reported:\n{}",
                fixture.display(),
                run.rendered
            );
            insta::assert_snapshot!(run.rendered);
        }
    );
}

/// Every `code(rpl::...)` attribute under `src/`, read as text, outside
/// test modules: the code and where it is written.
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
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".rs") || name == "tests.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                // A file's test module comes last.
                if line.starts_with("#[cfg(test)]") {
                    break;
                }
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
/// declared once and listed once (`rpl::codes::ALL`), and a fixture with
/// its snapshot shows that it is really reported, and how it reads. The
/// internal codes no input reaches; tests break a guarantee to reach them.
#[test]
fn every_code_is_listed_once_with_a_fixture_and_a_snapshot() {
    let declared = declared_codes();
    let mut seen = BTreeSet::new();
    let twice: Vec<_> = declared.iter().filter(|(c, _)| !seen.insert(c)).collect();
    assert!(
        twice.is_empty(),
        "codes declared more than once: {twice:#?}"
    );
    let listed: BTreeSet<&str> = rpl::codes::ALL.iter().copied().collect();
    assert_eq!(
        listed.len(),
        rpl::codes::ALL.len(),
        "a code is listed twice"
    );
    let declared: BTreeSet<&str> = declared.iter().map(|(c, _)| c.as_str()).collect();
    let unlisted: Vec<_> = declared.difference(&listed).collect();
    let undeclared: Vec<_> = listed.difference(&declared).collect();
    assert!(
        unlisted.is_empty() && undeclared.is_empty(),
        "declared but not in rpl::codes::ALL: {unlisted:?}; listed but not declared: {undeclared:?}"
    );

    let fixtures = all_fixtures();
    let mut missing = Vec::new();
    for code in rpl::codes::ALL {
        let mut parts = code.split("::");
        let (Some("rpl"), Some(stage), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("`{code}` is not of the form `rpl::<stage>::<name>`");
        };
        assert!(STAGES.contains(&stage), "`{code}`: no stage `{stage}`");
        let mine: Vec<&PathBuf> = fixtures
            .iter()
            .filter(|f| expected_code(f) == *code)
            .collect();
        if rpl::codes::INTERNAL.contains(code) {
            assert!(mine.is_empty(), "`{code}` is internal, yet has a fixture");
            continue;
        }
        if mine.is_empty() {
            missing.push(format!("{code}: no fixture"));
        }
        for f in mine {
            if !snapshot_of(f).is_file() {
                missing.push(format!("{code}: no snapshot for {}", f.display()));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");

    // And the other way: no fixture or snapshot is left behind by a
    // renamed code or fixture.
    for fixture in &fixtures {
        let code = expected_code(fixture);
        let doc = fixture.extension().is_some_and(|e| e == "md");
        assert!(
            doc || listed.contains(code.as_str()),
            "{} is named after `{code}`, which is not a code",
            fixture.display()
        );
    }
    let wanted: BTreeSet<PathBuf> = fixtures.iter().map(|f| snapshot_of(f)).collect();
    for entry in std::fs::read_dir(util::manifest_dir().join("tests/it/snapshots")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("tests__diagnostics__each_fixture_reports_its_code@") {
            assert!(wanted.contains(&path), "{name} belongs to no fixture");
        }
    }
}

/// Cedar's style guide: a message starts lowercase (or with user input in
/// backticks), has no final period, and comes with a help that says what to
/// do; a diagnostic about a file points into it.
#[test]
fn every_message_follows_the_style_guide() {
    let mut bad = Vec::new();
    for fixture in all_fixtures() {
        if matches!(stage_of(&fixture), "request" | "eval")
            || fixture.extension().is_some_and(|e| e == "md")
        {
            continue;
        }
        let run = run_fixture(&fixture);
        for d in &run.diagnostics {
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
                bad.push(format!(
                    "{}: {code} `{message}`: {problems:?}",
                    fixture.display()
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// A help names the fix, and the fix works: for each mistake below, the
/// help shows the text to write, and writing it leaves the fixture without
/// an error. A help that suggested a fix that fails (a channel another
/// policy has) would fail here.
#[test]
fn every_suggested_fix_is_shown_and_works() {
    // (fixture, file inside a folder fixture, text to replace, the fix as
    // written, the part of the fix the help shows)
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("syntax/full_width.rpl", "", "，", ",", "`,`"),
        ("syntax/full_width.digit.rpl", "", "７", "7", "`7`"),
        (
            "syntax/invisible_character.rpl",
            "",
            "\u{3000}",
            " ",
            "plain space",
        ),
        (
            "syntax/curly_quote.rpl",
            "",
            "“已激活，不退货”",
            "\"已激活，不退货\"",
            "`\"`",
        ),
        ("syntax/unterminated_string.rpl", "", "”", "\"", "`\"`"),
        (
            "syntax/unterminated_string.plain.rpl",
            "",
            "refund }",
            "refund\" }",
            "`\"`",
        ),
        ("syntax/operator_word.rpl", "", "&&", "and", "`and`"),
        (
            "syntax/operator_word.not.rpl",
            "",
            "!item",
            "not item",
            "`not`",
        ),
        (
            "syntax/missing_space.rpl",
            "",
            "7days",
            "7 days",
            "`7 days`",
        ),
        (
            "syntax/missing_space.money.rpl",
            "",
            "20000.00CNY",
            "20000.00 CNY",
            "`20000.00 CNY`",
        ),
        (
            "syntax/non_ascii_name.rpl",
            "",
            "性能故障",
            "performance_fault",
            "`performance_fault`",
        ),
        (
            "syntax/non_ascii_name.rule.rpl",
            "",
            "门店协商退货 {",
            "store_return \"门店协商退货\" {",
            "store_return \"门店协商退货\"",
        ),
        (
            "syntax/unexpected.missing_comma.rpl",
            "",
            "phone tablet",
            "phone, tablet",
            "`[phone, tablet]`",
        ),
        (
            "syntax/unclosed.rpl",
            "",
            "deny\n\n    rule otherwise",
            "deny\n    }\n\n    rule otherwise",
            "`}`",
        ),
        (
            "check/money_precision.rpl",
            "",
            "20000.005 CNY",
            "20000.01 CNY",
            "`20000.01 CNY`",
        ),
        (
            "check/negative_money.rpl",
            "",
            "-1.00 CNY",
            "0.00 CNY",
            "`0.00 CNY`",
        ),
        (
            "check/bad_operands.constant",
            "policies/shared.rpl",
            "= 20000\n",
            "= 20000.00 CNY\n",
            "`20000.00 CNY`",
        ),
        (
            "check/missing_setting.channel_taken",
            "policies/official_mall.rpl",
            "policy partner {\n",
            "policy partner {\n    channel = partner_platform\n",
            "`channel = partner_platform`",
        ),
        (
            "check/no_fallback.rpl",
            "",
            "\n}\n",
            "\n    rule otherwise { deny }\n}\n",
            "`rule otherwise { deny }`",
        ),
    ];
    for (fixture, inner, from, to, shown) in cases {
        let path = fixtures_dir().join(fixture);
        let run = run_fixture(&path);
        assert!(
            run.rendered.contains(shown),
            "{fixture}: the help does not show {shown}:\n{}",
            run.rendered
        );

        // The same fixture, fixed as the help says.
        let fixed = util::tempdir();
        let copy = fixed.path().join(path.file_name().unwrap());
        if path.is_dir() {
            util::copy_dir(&path, &copy);
        } else {
            std::fs::copy(&path, &copy).unwrap();
        }
        let file = if inner.is_empty() {
            copy.clone()
        } else {
            copy.join(inner)
        };
        let text = std::fs::read_to_string(&file).unwrap();
        // The last one: the fixture's comment may name the mistake too.
        let at = text
            .rfind(from)
            .unwrap_or_else(|| panic!("{fixture}: no `{from}`"));
        let fixed_text = format!("{}{to}{}", &text[..at], &text[at + from.len()..]);
        std::fs::write(&file, fixed_text).unwrap();
        let stage = fixture.split('/').next().unwrap();
        let run = run_fixture_as(&copy, stage);
        let errors: Vec<&rpl::check::Diagnostic> = run
            .diagnostics
            .iter()
            .filter(|d| rpl::check::is_error(d.as_ref()))
            .collect();
        assert!(
            errors.is_empty(),
            "{fixture}, fixed, still fails:\n{}",
            run.rendered
        );
    }
}
