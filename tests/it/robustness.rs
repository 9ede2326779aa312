//! Broken and hostile input: the shipped policies cut short and mutated at
//! random, random bytes, token soup and deep nesting. Nothing may panic or
//! overflow the stack, every diagnostic must render, and a file broken in a
//! way that matters must produce an error.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use rpl::check::Checked;
use rpl::load::check_paths;
use rpl::report::diagnostics::{record, render_human};
use rpl::source::{FileId, SourceFile, Span};
use rpl::syntax::ast::{File, Item, PolicyItem};
use rpl::syntax::{SyntaxError, parse};

use crate::util;

/// The shipped policy files, by name, with their text.
fn shipped_files() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(util::frozen_policies())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rpl"))
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 4, "shipped policies went missing");
    out
}

fn parse_text(text: &str) -> Result<File, Box<SyntaxError>> {
    let source = SourceFile::new("t.rpl".into(), "t.rpl".into(), text);
    parse(FileId(0), &source)
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Import(i) => i.span,
        Item::Const(c) => c.span,
        Item::Pred(p) => p.span,
        Item::Rules(r) => r.span,
        Item::Defaults(d) => d.span,
        Item::Policy(p) => p.span,
    }
}

/// Whether `text` leaves a bracket or a string open (comments skipped):
/// such a file cannot be valid, whatever else it holds.
fn left_open(text: &str) -> bool {
    let mut depth = 0i64;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => loop {
                match chars.next() {
                    None | Some('\n') => return true,
                    Some('\\') => {
                        chars.next();
                    }
                    Some('"') => break,
                    Some(_) => {}
                }
            },
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

/// The byte offsets where `text` may be cut: every char boundary but the end.
fn cuts(text: &str) -> Vec<usize> {
    text.char_indices().map(|(i, _)| i).collect()
}

/// Every diagnostic renders, as a person and as a tool reads it, and its
/// labels lie on char boundaries inside its source.
fn assert_renders(checked: &Checked, what: &str) {
    for d in &checked.diagnostics {
        let d = d.as_ref();
        render_human(d, false, 80);
        record(d);
        let (Some(src), Some(labels)) = (d.source_code(), d.labels()) else {
            continue;
        };
        let contents = src.read_span(&(0, 0).into(), 0, 0).unwrap();
        let name = contents.name().unwrap_or_default();
        let Some((_, file)) = checked.sources.iter().find(|(_, f)| f.name == name) else {
            panic!("{what}: `{d}` names a file that was not read: `{name}`");
        };
        for l in labels {
            let (start, end) = (l.offset(), l.offset() + l.len());
            assert!(
                file.text.get(start..end).is_some(),
                "{what}: label {start}..{end} of `{d}` is not inside {name} ({} bytes)",
                file.text.len()
            );
        }
    }
    assert_eq!(
        checked.program.is_some(),
        !checked.has_errors(),
        "{what}: a program comes exactly when there is no error"
    );
}

/// A copy of the shipped policies in which one file can be replaced, and
/// restored after each try.
struct Scratch {
    tmp: tempfile::TempDir,
    policies: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let tmp = util::tempdir();
        let policies = util::frozen_copy(tmp.path());
        Scratch { tmp, policies }
    }

    /// Checks the whole directory with `name` holding `text`.
    fn check_with(&self, name: &str, text: &str) -> Checked {
        let path = self.policies.join(name);
        std::fs::write(&path, text).unwrap();
        let checked = check_paths(std::slice::from_ref(&self.policies));
        std::fs::copy(util::frozen_policies().join(name), &path).unwrap();
        checked
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }
}

fn codes(checked: &Checked) -> Vec<String> {
    checked
        .diagnostics
        .iter()
        .map(|d| d.code().map(|c| c.to_string()).unwrap_or_default())
        .collect()
}

/// The spans of the blocks inside a `rules`, `defaults` or `policy` item.
fn children(item: &Item) -> Vec<Span> {
    match item {
        Item::Rules(r) => r.rules.iter().map(|r| r.span).collect(),
        Item::Defaults(d) => d.fields.iter().map(|f| f.span).collect(),
        Item::Policy(p) => p
            .items
            .iter()
            .map(|i| match i {
                PolicyItem::Setting(s) => s.span,
                PolicyItem::Use(u) => u.span,
                PolicyItem::Const(c) => c.span,
                PolicyItem::Defaults { span, .. } => *span,
                PolicyItem::Rule(r) => r.span,
            })
            .collect(),
        Item::Import(_) | Item::Const(_) | Item::Pred(_) => Vec::new(),
    }
}

/// Parses `head` followed by every prefix of `text[from..to]` but the empty
/// one: no panic, an open bracket or string is an error, and part of one
/// item never parses as several.
fn parse_cuts(name: &str, head: &str, text: &str, from: usize, to: usize) {
    let segment = &text[from..to];
    for cut in cuts(segment).into_iter().skip(1).chain([segment.len()]) {
        let prefix = format!("{head}{}", &segment[..cut]);
        let at = from + cut;
        match parse_text(&prefix) {
            Ok(file) => {
                assert!(
                    !left_open(&prefix),
                    "{name} cut at byte {at} leaves a bracket or string open, yet parses"
                );
                assert!(
                    file.items.len() <= 1,
                    "{name} cut at byte {at}: part of one item parses as several"
                );
            }
            Err(e) => {
                render_human(e.as_ref(), false, 80);
            }
        }
    }
}

/// Every prefix of every shipped file, through the parser: no panic; a
/// prefix that leaves a bracket or string open is an error; an item parses
/// to itself.
///
/// The grammar reads a file, and the inside of a block, as a sequence of
/// independent parts, and pest keeps no state but the position: a file cut
/// inside part `k` parses as parts `0..k` (unchanged) followed by the cut
/// part. So each cut is tried on the cut part alone, after the header of
/// the block it is in, which keeps this linear in the parts instead of
/// quadratic in the file. The whole-file prefixes of
/// `truncations_are_reported_by_the_checker` cover the rest.
#[test]
fn every_truncation_parses_or_fails_cleanly() {
    for (name, text) in shipped_files() {
        let whole = parse_text(&text).unwrap();
        let mut from = 0;
        for item in &whole.items {
            let span = item_span(item);
            let to = span.end as usize;
            let alone = parse_text(&text[from..to]).unwrap();
            assert_eq!(
                alone.items,
                std::slice::from_ref(item),
                "{name}: an item parses alone"
            );
            let parts = children(item);
            let Some(first) = parts.first() else {
                parse_cuts(&name, "", &text, from, to);
                from = to;
                continue;
            };
            // The header up to the first part, then each part with what
            // follows it up to the next part or the end of the item.
            let head = &text[from..first.start as usize];
            parse_cuts(&name, "", &text, from, first.start as usize);
            let mut bounds: Vec<usize> = parts.iter().map(|p| p.start as usize).collect();
            bounds.push(to);
            for w in bounds.windows(2) {
                parse_cuts(&name, head, &text, w[0], w[1]);
            }
            from = to;
        }
        parse_cuts(&name, "", &text, from, text.len());
    }
}

/// A sample of the prefixes through the whole checker, the rest of the
/// shipped directory unchanged. Every definition in `common.rpl` is used,
/// so any cut of it is an error; a policy file cut inside its policy is an
/// error, and cut before it (after a complete import) leaves its channel
/// without a policy.
#[test]
fn truncations_are_reported_by_the_checker() {
    let scratch = Scratch::new();
    let clean = check_paths(std::slice::from_ref(&scratch.policies));
    assert!(
        clean.diagnostics.is_empty(),
        "the shipped policies are clean"
    );
    for (name, text) in shipped_files() {
        let whole = parse_text(&text).unwrap();
        let policy_start = whole.items.iter().find_map(|i| match i {
            Item::Policy(p) => Some(p.span.start as usize),
            _ => None,
        });
        let last_end = whole.items.iter().map(|i| item_span(i).end).max().unwrap() as usize;
        let all = cuts(&text);
        // About 30 cuts a file, evenly spread, plus the cuts just inside
        // each item's ends, where a parser is most likely to go wrong.
        let step = (all.len() / 30).max(1);
        let mut sample: Vec<usize> = all.iter().copied().step_by(step).collect();
        for item in &whole.items {
            let s = item_span(item);
            sample.extend([s.start as usize + 1, s.end as usize - 1]);
        }
        sample.retain(|c| text.is_char_boundary(*c) && *c < last_end);
        sample.sort();
        sample.dedup();
        for cut in sample {
            let checked = scratch.check_with(&name, &text[..cut]);
            let what = format!("{name} cut at byte {cut}");
            assert_renders(&checked, &what);
            let report = || {
                let rendered: Vec<String> = checked
                    .diagnostics
                    .iter()
                    .map(|d| render_human(d.as_ref(), false, 80))
                    .collect();
                util::relative_to(&rendered.join("\n"), scratch.path())
            };
            match policy_start {
                Some(start) if cut <= start => assert!(
                    checked.has_errors()
                        || codes(&checked).contains(&"rpl::check::missing_policy".to_string()),
                    "{what}: the policy is gone, its channel uncovered:\n{}",
                    report()
                ),
                _ => assert!(checked.has_errors(), "{what}: no error\n{}", report()),
            }
        }
    }
}

/// One random change to a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(Index, Index),
    Insert(Index, &'static str),
    Duplicate(Index, Index),
    Swap(Index, Index, Index),
    Bytes(Index, Vec<u8>),
}

/// Words and punctuation of the grammar, the likeliest to confuse it.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "=",
    "==",
    "+=",
    "=>",
    "..",
    "-",
    "+",
    "*",
    "/",
    "<",
    "<=",
    "not",
    "and",
    "or",
    "in",
    "is",
    "present",
    "absent",
    "within",
    "after",
    "if",
    "then",
    "else",
    "match",
    "_",
    "|",
    "\"",
    "\\",
    "\\u{",
    "//",
    "///",
    "\n",
    " ",
    "rule",
    "reject",
    "when",
    "approve",
    "deny",
    "review",
    "policy",
    "rules",
    "use",
    "defaults",
    "const",
    "pred",
    "import",
    "none",
    "true",
    "7 days",
    "3 working days",
    "1.00 CNY",
    "1.00 USD",
    "2025-02-30",
    "99999999999999999999",
    "item.condition",
    "item.conditon",
    "payment.method",
    "decision",
    "refund",
    "x",
    "规则",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<Index>;
    prop_oneof![
        (index(), index()).prop_map(|(a, b)| Mutation::Delete(a, b)),
        (index(), proptest::sample::select(TOKENS)).prop_map(|(a, t)| Mutation::Insert(a, t)),
        (index(), index()).prop_map(|(a, b)| Mutation::Duplicate(a, b)),
        (index(), index(), index()).prop_map(|(a, b, c)| Mutation::Swap(a, b, c)),
        (index(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, b)| Mutation::Bytes(a, b)),
    ]
}

/// A short range `[start, start + len)` inside `bytes`.
fn range(bytes: &[u8], start: &Index, len: &Index) -> (usize, usize) {
    let start = start.index(bytes.len() + 1);
    let len = len.index(64.min(bytes.len() - start) + 1);
    (start, start + len)
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Delete(a, b) => {
            let (s, e) = range(bytes, a, b);
            bytes.drain(s..e);
        }
        Mutation::Insert(a, t) => {
            let at = a.index(bytes.len() + 1);
            bytes.splice(at..at, t.bytes());
        }
        Mutation::Duplicate(a, b) => {
            let (s, e) = range(bytes, a, b);
            let copy = bytes[s..e].to_vec();
            bytes.splice(e..e, copy);
        }
        Mutation::Swap(a, b, c) => {
            // Two neighbouring ranges trade places.
            let (start, mid) = range(bytes, a, b);
            let end = mid + c.index(64.min(bytes.len() - mid) + 1);
            bytes[start..end].rotate_left(mid - start);
        }
        Mutation::Bytes(a, b) => {
            let at = a.index(bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
    }
}

/// A shipped file with one to four random mutations, through the whole
/// checker: no panic, every diagnostic renders, a parse error or an open
/// bracket is an error, and an unchanged file is clean.
#[test]
fn random_mutations_never_panic() {
    let files = shipped_files();
    let scratch = Scratch::new();
    let strategy = (0..files.len(), proptest::collection::vec(mutation(), 1..5));
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(file, mutations)| {
            let (name, text) = &files[file];
            let mut bytes = text.as_bytes().to_vec();
            for m in &mutations {
                apply(&mut bytes, m);
            }
            let mutated = String::from_utf8_lossy(&bytes).into_owned();
            let checked = scratch.check_with(name, &mutated);
            let what = format!("{name} after {mutations:?}");
            assert_renders(&checked, &what);
            if mutated == *text {
                prop_assert!(checked.diagnostics.is_empty(), "{}: unchanged", what);
            }
            if parse_text(&mutated).is_err() || left_open(&mutated) {
                prop_assert!(checked.has_errors(), "{}: broken yet no error", what);
            }
            Ok(())
        })
        .unwrap();
}

/// Random bytes, read as UTF-8 with replacement, through the parser.
#[test]
fn random_bytes_never_panic_the_parser() {
    let mut runner = TestRunner::new(Config {
        cases: 1000,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..2048), |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            if let Err(e) = parse_text(&text) {
                render_human(e.as_ref(), false, 80);
            }
            Ok(())
        })
        .unwrap();
}

/// Grammar tokens in random order get further into the grammar than bytes.
#[test]
fn token_soup_never_panics_the_parser() {
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    });
    let soup = proptest::collection::vec(proptest::sample::select(TOKENS), 0..200);
    runner
        .run(&soup, |tokens| {
            let text = tokens.join(" ");
            if let Err(e) = parse_text(&text) {
                render_human(e.as_ref(), false, 80);
            }
            Ok(())
        })
        .unwrap();
}

/// Nesting far past the limit is `too_deep`, found before anything recurses:
/// through the parser, and through the checker as the condition of a rule.
#[test]
fn deep_nesting_is_too_deep_not_a_crash() {
    let n = 100_000;
    let cases = [
        (
            "brackets",
            format!("{}item.activated{}", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "lists",
            format!("item.activated in {}true{}", "[".repeat(n), "]".repeat(n)),
        ),
        ("not", format!("{}item.activated", "not ".repeat(n))),
        ("minus", format!("item.quantity > {}1", "- ".repeat(n))),
        (
            "if",
            format!(
                "{}true{}",
                "if item.activated then ".repeat(n / 10),
                " else false".repeat(n / 10)
            ),
        ),
        (
            "match",
            format!(
                "{}true{}",
                "match item.condition { used => ".repeat(n / 10),
                ", _ => false }".repeat(n / 10)
            ),
        ),
        ("braces", "{".repeat(n)),
    ];
    let scratch = Scratch::new();
    for (what, cond) in cases {
        let text = format!(
            "{}\nrules deep {{ rule r {{ when {cond} deny }} }}\n",
            std::fs::read_to_string(util::frozen_policies().join("common.rpl")).unwrap()
        );
        let e = parse_text(&text).unwrap_err();
        let code = miette::Diagnostic::code(e.as_ref()).unwrap().to_string();
        assert_eq!(code, "rpl::syntax::too_deep", "{what}");
        let checked = scratch.check_with("common.rpl", &text);
        assert!(
            codes(&checked).contains(&"rpl::syntax::too_deep".to_string()),
            "{what}: {:?}",
            codes(&checked)
        );
    }
}

/// Runs `rpl check` on the shipped policies with `defs` appended to
/// `common.rpl` and a rule `when {condition} deny` first in `official_mall`,
/// in a child process, so that a stack overflow fails this test instead of
/// aborting every test in the binary.
fn check_in_child(defs: &str, condition: &str) -> std::process::Output {
    let tmp = util::tempdir();
    let policies = util::frozen_copy(tmp.path());
    let common = policies.join("common.rpl");
    let text = std::fs::read_to_string(&common).unwrap() + defs;
    std::fs::write(&common, text).unwrap();
    let mall = policies.join("official_mall.rpl");
    let text = std::fs::read_to_string(&mall).unwrap();
    let rule = format!("    rule long {{ when {condition} deny }}\n    use standard");
    assert!(text.contains("    use standard"));
    std::fs::write(&mall, text.replacen("    use standard", &rule, 1)).unwrap();
    assert_cmd::cargo::cargo_bin_cmd!("rpl")
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .args(["check", "policies"])
        .output()
        .unwrap()
}

fn assert_no_crash(out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: String = stderr
        .chars()
        .rev()
        .take(2000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(
        matches!(out.status.code(), Some(0..=1)),
        "{:?}\n...{tail}",
        out.status
    );
}

/// Long flat conditions nest only one level in the text, but their syntax
/// tree is as deep as they are long, and so is the checker's recursion:
/// `rpl check` must reject or accept them, not overflow its stack (it does
/// today, from about 1,000 operands in a debug build and 16,000 in release).
#[test]
fn long_operator_chains_do_not_crash() {
    let chain = vec!["item.activated"; 20_000].join(" and ");
    assert_no_crash(&check_in_child("", &chain));
}

/// Predicates are expanded where they are used, so a chain of predicates
/// each naming the one before nests as deep as the chain is long (a crash
/// from about 200 in a debug build on a 2 MiB thread, 4,000 in release).
#[test]
fn long_predicate_chains_do_not_crash() {
    let mut defs = String::from("\npred p0 = item.activated\n");
    for i in 1..5_000 {
        defs += &format!("pred p{i} = p{} and item.activated\n", i - 1);
    }
    assert_no_crash(&check_in_child(&defs, "p4999"));
}

/// A policy file that is not valid UTF-8 (saved as GBK, say) is an error
/// that says so, with the offset of its first bad byte, in a comment as in
/// code: decoded with replacement characters it would be garbled customer
/// messages or misleading errors elsewhere. The files importing it say no
/// more.
#[test]
fn invalid_utf8_in_a_policy_file() {
    let tmp = util::tempdir();
    let policies = util::frozen_copy(tmp.path());
    let common = policies.join("common.rpl");
    let clean = std::fs::read(&common).unwrap();
    for bad in [&b"\n// caf\xe9 comment\n"[..], b"\nconst bad = \xff\n"] {
        let mut text = clean.clone();
        text.extend_from_slice(bad);
        std::fs::write(&common, &text).unwrap();
        let checked = check_paths(std::slice::from_ref(&policies));
        assert_eq!(codes(&checked), ["rpl::load::not_utf8"]);
        let offset = clean.len() + bad.iter().position(|b| *b >= 0x80).unwrap();
        let message = checked.diagnostics[0].to_string();
        assert!(
            message.ends_with(&format!("at offset {offset}")),
            "{message}"
        );
        let shown = render_human(checked.diagnostics[0].as_ref(), false, 80);
        assert!(shown.contains("── not UTF-8"), "{shown}");
    }
}
