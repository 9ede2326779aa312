//! `rpl diff`: what two versions of a policy directory decide differently,
//! region by region, each with a request that shows it; optionally
//! replayed on real requests, and written as test cases to pin.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, ValueEnum};
use rust_decimal::Decimal;
use serde::Serialize;

use super::eval::{engine, show_load_failure};
use super::input::{DEFAULT_MAX_REQUEST, Lines, open_batch, parse_size};
use super::output::Output;
use super::{ExitCode, policy_dir, stderr_color, term_width};
use crate::analysis::diff::{Change, DiffReport, Side, diff};
use crate::compile::Compiled;
use crate::engine::Engine;
use crate::eval::output::format_amount;
use crate::load::{MAX_FILE_SIZE, io_reason};
use crate::report::diagnostics::render_human;
use crate::report::escape::{json_line, json_pretty, visible};
use crate::report::plural;
use crate::report::sarif::{SarifLevel, SarifLocation, SarifResult, sarif_log};
use crate::source::{Entry, Sources, Unreadable};

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    /// Each change with its region, both answers and a witness request
    Human,
    /// One JSON object: changes, notes, and the replay
    Json,
    /// A heading, a table and the witnesses: for a pull-request comment
    Markdown,
    /// One SARIF 2.1.0 log on stdout, a result per change
    Sarif,
}

#[derive(Args, Debug)]
#[command(after_help = concat!(
    "Examples:
  rpl diff old-policies/ policies/         what the new version decides differently
  rpl diff --git main                      the policy directory at `main` against the working tree
  rpl diff --git HEAD~1 policies/ --format markdown > diff.md
  rpl diff --git main --replay requests.jsonl   also replay real requests under both
  rpl diff --git main --write-tests policies/tests   pin each change as a test case (diff.toml)

What it prints: every region of requests whose decision changes (verdict,
deciding rule, amount, route, settlement), what the region's requests have
in common, both versions' answers, and a witness: a complete request of the
region. Amounts and settlement dates are compared on each region's witness;
what the analysis could only sample is listed as notes.

Exit codes:
  0  no change
  1  the versions decide differently (a region changes, or a replayed
     request does)
  2  nothing could be compared: a policy directory not found or with
     errors, not a git repository, an unknown revision, different schemas
     (without --replay), an output that cannot be written

With --git, the policy directory is DIR, else the one found as for the
other commands:
",
    super::policies_help!(),
))]
pub struct DiffArgs {
    /// The old and the new policy directory; with --git, at most one: the
    /// policy directory [default: found as below]
    #[arg(value_name = "OLD NEW", num_args = 0..=2)]
    pub dirs: Vec<PathBuf>,
    /// Compare the policy directory as of git revision REV (read from the
    /// repository, nothing checked out) with the working tree
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: DiffFormat,
    /// Also decide each request of a JSON Lines file (`.gz` or `.zst`
    /// decompressed) under both versions and report what changes
    #[arg(long, value_name = "FILE.jsonl")]
    pub replay: Option<PathBuf>,
    /// Write each change's witness as a test case expecting the new answer,
    /// into DIR/diff.toml
    #[arg(long, value_name = "DIR")]
    pub write_tests: Option<PathBuf>,
    /// Let --write-tests replace an existing DIR/diff.toml
    #[arg(long, requires = "write_tests")]
    pub force: bool,
    /// The largest replayed request line (bytes, or with K, M, G: 1K = 1024)
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MAX_REQUEST, value_parser = parse_size)]
    pub max_request_size: u64,
}

/// What a version that does not load stops, naming which one.
const OLD_NOT_DONE: &str = "nothing was compared: the old version does not load";
const NEW_NOT_DONE: &str = "nothing was compared: the new version does not load";

pub fn run(args: DiffArgs) -> ExitCode {
    let (old, new) = match engines(&args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut report = match diff(old.compiled(), new.compiled()) {
        Ok(r) => r,
        Err(e) if args.replay.is_some() => {
            // Real requests can still be compared.
            let mut r = DiffReport::default();
            r.notes.push(format!(
                "{}; only the replayed requests are compared",
                crate::analysis::diff::DiffError::to_string(&e)
            ));
            r
        }
        Err(e) => {
            eprint!("{}", render_human(&e, stderr_color(), term_width()));
            return ExitCode::Usage;
        }
    };
    let replay = match &args.replay {
        Some(path) => match replay(&old, &new, path, args.max_request_size) {
            Ok(r) => Some(r),
            Err(code) => return code,
        },
        None => None,
    };
    if let Some(dir) = &args.write_tests {
        match write_tests(dir, &report.changes, args.force) {
            Ok(Some(path)) => eprintln!(
                "wrote {} to `{}`",
                plural(report.changes.len(), "test case"),
                visible(&path.display().to_string())
            ),
            Ok(None) => eprintln!("no change: no test case written"),
            Err(message) => {
                eprintln!("error: {}", visible(&message));
                return ExitCode::Usage;
            }
        }
    }
    let changed = !report.changes.is_empty() || replay.as_ref().is_some_and(|r| r.changed > 0);
    let mut out = Vec::new();
    let written = match args.format {
        DiffFormat::Human => {
            out = human(&report, replay.as_ref()).into_bytes();
            Ok(())
        }
        DiffFormat::Markdown => {
            out = markdown(&report, replay.as_ref()).into_bytes();
            Ok(())
        }
        DiffFormat::Json => {
            report.notes.dedup();
            let value = Json {
                changes: &report.changes,
                notes: &report.notes,
                replay: replay.as_ref(),
            };
            json_pretty(&mut out, &value).map_err(std::io::Error::from)
        }
        DiffFormat::Sarif => {
            let log = sarif_log(report.changes.iter().map(|c| sarif(c, new.compiled())));
            json_pretty(&mut out, &log).map_err(std::io::Error::from)
        }
    };
    let mut stdout = Output::stdout();
    let written = written
        .and_then(|()| stdout.write_all(&out))
        .and_then(|()| stdout.commit());
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the output: {}", io_reason(&e));
        return ExitCode::Usage;
    }
    if changed {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    }
}

#[derive(Serialize)]
struct Json<'a> {
    changes: &'a [Change],
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    replay: Option<&'a Replay>,
}

/// The old and the new engine, or the exit code after saying why not.
fn engines(args: &DiffArgs) -> Result<(Engine, Engine), ExitCode> {
    match (&args.git, args.dirs.as_slice()) {
        (None, [old, new]) => {
            let old = engine(Some(old), OLD_NOT_DONE)?;
            let new = engine(Some(new), NEW_NOT_DONE)?;
            Ok((old, new))
        }
        (None, _) => {
            eprintln!(
                "error: name the old and the new policy directory (`rpl diff OLD NEW`), or compare with a git revision (`rpl diff --git REV [DIR]`)"
            );
            Err(ExitCode::Usage)
        }
        (Some(_), [_, _]) => {
            eprintln!(
                "error: with --git, name at most one policy directory: the working tree's (`rpl diff --git REV [DIR]`)"
            );
            Err(ExitCode::Usage)
        }
        (Some(rev), dirs) => {
            let dir = match policy_dir(dirs.first().map(PathBuf::as_path)) {
                Ok(d) => d,
                Err(e) => {
                    eprint!("{}", render_human(&e, stderr_color(), term_width()));
                    return Err(ExitCode::Usage);
                }
            };
            let new = engine(Some(&dir), NEW_NOT_DONE)?;
            let sources = git_sources(rev, &dir).map_err(|message| {
                eprintln!("error: {}", visible(&message));
                ExitCode::Usage
            })?;
            let old = Engine::from_sources(&sources)
                .map_err(|failure| show_load_failure(&failure, OLD_NOT_DONE))?;
            Ok((old, new))
        }
    }
}

/// Runs git in `dir`; its stdout, or what it said on stderr.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {}", io_reason(&e)))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// The policy directory `dir` as of revision `rev` of the git repository
/// holding it, read into memory: the files the loader would read (`.rpl`
/// and `.toml`, none hidden), each at most [`MAX_FILE_SIZE`].
fn git_sources(rev: &str, dir: &Path) -> Result<Sources, String> {
    let shown = dir.display().to_string();
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("cannot read `{shown}`: {}", io_reason(&e)))?;
    let top = git(&dir, &["rev-parse", "--show-toplevel"])
        .map_err(|e| format!("`{shown}` is not in a git repository ({e})"))?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim_end_matches('\n'));
    let top = top
        .canonicalize()
        .map_err(|e| format!("cannot read `{}`: {}", top.display(), io_reason(&e)))?;
    let rel = dir
        .strip_prefix(&top)
        .ok()
        .and_then(crate::load::path_text)
        .ok_or_else(|| {
            format!(
                "`{shown}` is not inside the repository at `{}`",
                top.display()
            )
        })?;
    // A revision is never read as an option of git.
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is not a revision: it starts with `-`"));
    }
    let commit = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| {
        format!(
            "`{rev}` is not a revision of the repository at `{}`",
            top.display()
        )
    })?;
    let commit = String::from_utf8_lossy(&commit).trim().to_owned();
    let spec = if rel.is_empty() { "." } else { rel.as_str() };
    let listing = git(
        &top,
        &[
            "ls-tree",
            "-r",
            "-z",
            "-l",
            "--full-tree",
            &commit,
            "--",
            spec,
        ],
    )?;
    let prefix = if rel.is_empty() {
        String::new()
    } else {
        format!("{rel}/")
    };
    let mut sources = Sources::new(format!("{rev}:{}", if rel.is_empty() { "." } else { &rel }));
    let mut any = false;
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let Some(path) = path.strip_prefix(&prefix) else {
            continue;
        };
        any = true;
        let mut meta = meta.split_whitespace();
        let (mode, kind, object, size) = (meta.next(), meta.next(), meta.next(), meta.next());
        let (Some(mode), Some("blob"), Some(object)) = (mode, kind, object) else {
            continue;
        };
        let name = path.rsplit('/').next().unwrap_or(path);
        let wanted = name.ends_with(".rpl") || name.ends_with(".toml");
        if !wanted || path.split('/').any(|p| p.starts_with('.')) {
            continue;
        }
        if mode == "120000" {
            // A symlink: its target as the loader would resolve it.
            let target = git(&top, &["cat-file", "blob", object])?;
            let target = String::from_utf8_lossy(&target).into_owned();
            let inside = resolve(path, &target);
            match inside {
                Some(inside) => sources.insert_link(path.to_owned(), Some(inside)),
                None => sources.insert_entry(
                    path.to_owned(),
                    Entry::Unreadable(Unreadable::OutsideRoot { target }),
                ),
            }
            continue;
        }
        let size: u64 = size.and_then(|s| s.parse().ok()).unwrap_or(0);
        if size > MAX_FILE_SIZE {
            sources.insert_entry(
                path.to_owned(),
                Entry::Unreadable(Unreadable::TooLarge {
                    size,
                    limit: MAX_FILE_SIZE,
                }),
            );
            continue;
        }
        let bytes = git(&top, &["cat-file", "blob", object])?;
        let entry = match String::from_utf8(bytes) {
            Ok(text) => Entry::Text(text.into()),
            Err(e) => {
                let (offset, byte) = crate::source::bad_utf8(e.as_bytes(), e.utf8_error());
                Entry::Unreadable(Unreadable::NotUtf8 {
                    offset,
                    byte,
                    text: String::from_utf8_lossy(e.as_bytes()).into(),
                })
            }
        };
        sources.insert_entry(path.to_owned(), entry);
    }
    if !any {
        return Err(format!(
            "`{}` does not exist at revision `{rev}`: there is no old version to compare",
            if rel.is_empty() { "." } else { &rel }
        ));
    }
    Ok(sources)
}

/// Where a symlink at `path` (relative to the policy directory) leads to
/// `target`, relative to the directory; `None` when out of it.
fn resolve(path: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// What replaying real requests under both versions found.
#[derive(Debug, Default, Serialize)]
struct Replay {
    requests: u64,
    /// Lines that could not be decoded under either version.
    errors: u64,
    /// Requests whose answer differs.
    changed: u64,
    /// Requests whose decision differs, by `old → new`.
    flips: BTreeMap<String, u64>,
    /// Requests whose decision stays but whose rule, amount, route or
    /// settlement changes.
    other: u64,
    /// Per route and currency: the old and new total of approved refunds.
    totals: Vec<Total>,
    /// The first few requests of each kind of change.
    examples: Vec<Example>,
}

#[derive(Debug, Serialize)]
struct Total {
    route: String,
    currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    old: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    new: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    change: Decimal,
}

#[derive(Debug, Serialize)]
struct Example {
    /// `deny → approve`, or `approve: amount` for a change within one
    /// decision.
    kind: String,
    line: u64,
    request_id: Option<String>,
    old: Side,
    new: Side,
}

const EXAMPLES: usize = 3;

fn replay(old: &Engine, new: &Engine, path: &Path, limit: u64) -> Result<Replay, ExitCode> {
    let unreadable = |e: &std::io::Error| {
        eprintln!(
            "error: cannot read the replay `{}`: {}",
            visible(&path.display().to_string()),
            io_reason(e)
        );
        ExitCode::Usage
    };
    let batch = open_batch(path).map_err(|e| unreadable(&e))?;
    let mut lines = Lines::new(batch.reader, limit);
    let mut r = Replay::default();
    let mut totals: BTreeMap<(String, String), (Decimal, Decimal)> = BTreeMap::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        let (number, line) = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => return Err(unreadable(&e)),
        };
        r.requests += 1;
        let text = match line.map(std::str::from_utf8) {
            Ok(Ok(t)) if !t.trim().is_empty() => t,
            _ => {
                r.errors += 1;
                continue;
            }
        };
        let decoded = (
            old.compiled().schema.decode_json(text),
            new.compiled().schema.decode_json(text),
        );
        let request_id = match &decoded {
            (Err(_), Err(_)) => {
                r.errors += 1;
                continue;
            }
            (Ok(q), _) | (_, Ok(q)) => q.request_id.as_deref().map(str::to_owned),
        };
        let (os, od) = decide(old.compiled(), decoded.0);
        let (ns, nd) = decide(new.compiled(), decoded.1);
        for (d, is_new) in [(od, false), (nd, true)] {
            // Refunds paid: a review's amount is not paid yet.
            let approved = d.filter(|d| d.decision.as_str() == "approve");
            if let Some(refund) = approved.and_then(|d| d.refund) {
                let t = totals
                    .entry((refund.route.to_string(), refund.currency.to_string()))
                    .or_default();
                if is_new {
                    t.1 += refund.amount;
                } else {
                    t.0 += refund.amount;
                }
            }
        }
        if os == ns {
            continue;
        }
        r.changed += 1;
        let kind = kind_of(&os, &ns);
        if os.decision != ns.decision {
            *r.flips.entry(kind.clone()).or_default() += 1;
        } else {
            r.other += 1;
        }
        let count = seen.entry(kind.clone()).or_default();
        if *count < EXAMPLES {
            *count += 1;
            r.examples.push(Example {
                kind,
                line: number,
                request_id,
                old: os,
                new: ns,
            });
        }
    }
    r.totals = totals
        .into_iter()
        .map(|((route, currency), (old, new))| Total {
            route,
            currency,
            old,
            new,
            change: new - old,
        })
        .collect();
    Ok(r)
}

fn decide(
    compiled: &Compiled,
    decoded: Result<crate::request::Request, crate::request::Rejected>,
) -> (Side, Option<crate::eval::output::Decision>) {
    match decoded {
        Ok(req) => {
            let result = crate::eval::evaluate(compiled, &req, false);
            let decision = result.as_ref().ok().cloned();
            (Side::of(result), decision)
        }
        Err(rejected) => (
            Side {
                decision: "error".into(),
                rule: rejected.error.code().to_owned(),
                amount: None,
                route: None,
                settlement: None,
            },
            None,
        ),
    }
}

/// `deny → approve`, or `approve: amount, route changed`: how one answer
/// became the other.
fn kind_of(old: &Side, new: &Side) -> String {
    if old.decision == new.decision {
        let parts: Vec<&str> = old
            .changed(new)
            .into_iter()
            .filter(|p| *p != "decision")
            .collect();
        format!("{}: {} changed", new.decision, parts.join(", "))
    } else {
        format!("{} → {}", old.decision, new.decision)
    }
}

fn signed(d: Decimal) -> String {
    if d.is_sign_positive() && !d.is_zero() {
        format!("+{}", format_amount(&d))
    } else {
        format_amount(&d)
    }
}

/// How many regions of one change the human report spells out.
const SHOWN_PARTS: usize = 4;

fn human(report: &DiffReport, replay: Option<&Replay>) -> String {
    let mut s = String::new();
    for c in &report.changes {
        let _ = writeln!(s, "{}: {}", visible(&c.channel), kind_of(&c.old, &c.new));
        for line in &c.region {
            let _ = writeln!(s, "    {}", visible(line));
        }
        // The regions of one change differ in what they do not share:
        // the first few, each on a line (JSON lists them all).
        if !c.parts.is_empty() {
            let _ = writeln!(s, "    in {} regions:", c.parts.len());
            for part in c.parts.iter().take(SHOWN_PARTS) {
                let _ = writeln!(s, "    - {}", visible(&part.join("; ")));
            }
            if c.parts.len() > SHOWN_PARTS {
                let _ = writeln!(
                    s,
                    "    - and {} more (--format json lists them)",
                    c.parts.len() - SHOWN_PARTS
                );
            }
        }
        let _ = writeln!(s, "  old: {}", visible(&c.old.text()));
        let _ = writeln!(s, "  new: {}", visible(&c.new.text()));
        let witness = json_line(&c.witness).unwrap_or_default();
        let _ = writeln!(s, "  witness: {}", visible(witness.trim_end()));
        s.push('\n');
    }
    if let Some(r) = replay {
        let _ = writeln!(
            s,
            "replay: {}, {} with a different answer, {} that could not be decoded",
            plural(r.requests as usize, "request"),
            r.changed,
            r.errors
        );
        for (kind, n) in &r.flips {
            let _ = writeln!(s, "  {kind}: {n}");
        }
        if r.other > 0 {
            let _ = writeln!(
                s,
                "  same decision, rule, amount, route or settlement changed: {}",
                r.other
            );
        }
        for t in r.totals.iter().filter(|t| !t.change.is_zero()) {
            let _ = writeln!(
                s,
                "  refunds to {}: {} {} (from {} to {})",
                visible(&t.route),
                signed(t.change),
                visible(&t.currency),
                format_amount(&t.old),
                format_amount(&t.new)
            );
        }
        for e in &r.examples {
            let _ = writeln!(
                s,
                "  line {}{}: {}\n    old: {}\n    new: {}",
                e.line,
                e.request_id
                    .as_ref()
                    .map(|id| format!(" ({})", visible(id)))
                    .unwrap_or_default(),
                e.kind,
                visible(&e.old.text()),
                visible(&e.new.text())
            );
        }
        s.push('\n');
    }
    for note in &report.notes {
        let _ = writeln!(s, "note: {}", visible(note));
    }
    if report.changes.is_empty() {
        s.push_str("no changes\n");
    } else {
        // The count by direction, in order of first appearance: what a
        // reviewer reads first.
        let mut kinds: Vec<(String, usize)> = Vec::new();
        for c in &report.changes {
            let kind = kind_of(&c.old, &c.new);
            match kinds.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((kind, 1)),
            }
        }
        let by_kind: Vec<String> = kinds.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        let _ = writeln!(
            s,
            "{} ({})",
            plural(report.changes.len(), "change"),
            visible(&by_kind.join(", "))
        );
    }
    s
}

/// Text for Markdown, table cells included: no `|`, HTML or line break can
/// break out of it. Our own `code` spans become `<code>` elements, since
/// GitHub decodes no entity inside a backtick span (`&gt;` would show).
fn cell(text: &str) -> String {
    let text = visible(text);
    let spans: Vec<&str> = text.split('`').collect();
    // An odd number of parts: the backticks pair up into code spans.
    let paired = spans.len() % 2 == 1;
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in spans.iter().enumerate() {
        let code = paired && i % 2 == 1;
        if !paired && i > 0 {
            out.push_str("&#96;");
        }
        if code {
            out.push_str("<code>");
        }
        for c in part.chars() {
            match c {
                '|' if code => out.push_str("&#124;"),
                '|' => out.push_str("\\|"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '*' | '_' | '[' | ']' | '\\' if !code => {
                    out.push('\\');
                    out.push(c);
                }
                '\n' => out.push_str("<br>"),
                c => out.push(c),
            }
        }
        if code {
            out.push_str("</code>");
        }
    }
    out
}

/// A fenced block longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

fn markdown(report: &DiffReport, replay: Option<&Replay>) -> String {
    let mut s = String::new();
    let count = if report.changes.is_empty() {
        "no changes".to_owned()
    } else {
        plural(report.changes.len(), "change")
    };
    let _ = writeln!(s, "## rpl diff: {count}\n");
    if !report.changes.is_empty() {
        s.push_str("| # | channel | region | old | new |\n|---|---|---|---|---|\n");
        for (i, c) in report.changes.iter().enumerate() {
            let region: Vec<String> = c.region.iter().map(|l| cell(l)).collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                i + 1,
                cell(&c.channel),
                region.join("<br>"),
                cell(&c.old.text()),
                cell(&c.new.text())
            );
        }
        s.push('\n');
        for (i, c) in report.changes.iter().enumerate() {
            let json = serde_json::to_string_pretty(&c.witness).unwrap_or_default();
            let json = crate::report::escape::visible_lines(&json);
            let fence = fence(&json);
            let _ = writeln!(
                s,
                "<details><summary>{}. {}: {}: witness request</summary>\n\n{fence}json\n{json}\n{fence}\n\n</details>\n",
                i + 1,
                cell(&c.channel),
                cell(&kind_of(&c.old, &c.new)),
            );
        }
    }
    if let Some(r) = replay {
        let _ = writeln!(
            s,
            "### Replay: {}\n\n- {} with a different answer\n- {} that could not be decoded",
            plural(r.requests as usize, "request"),
            r.changed,
            r.errors
        );
        for (kind, n) in &r.flips {
            let _ = writeln!(s, "- {}: {n}", cell(kind));
        }
        if r.other > 0 {
            let _ = writeln!(
                s,
                "- same decision, rule, amount, route or settlement changed: {}",
                r.other
            );
        }
        let moved: Vec<&Total> = r.totals.iter().filter(|t| !t.change.is_zero()).collect();
        if !moved.is_empty() {
            s.push_str("\n| route | old total | new total | change |\n|---|---|---|---|\n");
            for t in moved {
                let _ = writeln!(
                    s,
                    "| {} | {} {cur} | {} {cur} | {} {cur} |",
                    cell(&t.route),
                    format_amount(&t.old),
                    format_amount(&t.new),
                    signed(t.change),
                    cur = cell(&t.currency)
                );
            }
        }
        if !r.examples.is_empty() {
            s.push_str("\n| line | request | change | old | new |\n|---|---|---|---|---|\n");
            for e in &r.examples {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} |",
                    e.line,
                    cell(e.request_id.as_deref().unwrap_or("")),
                    cell(&e.kind),
                    cell(&e.old.text()),
                    cell(&e.new.text())
                );
            }
        }
        s.push('\n');
    }
    if !report.notes.is_empty() {
        s.push_str("Notes:\n\n");
        for note in &report.notes {
            let _ = writeln!(s, "- {}", cell(note));
        }
    }
    s
}

/// One SARIF result for a change, at the new deciding rule's name when the
/// new version has it.
fn sarif(c: &Change, new: &Compiled) -> SarifResult {
    let level = if c.old.decision == c.new.decision {
        SarifLevel::Note
    } else {
        SarifLevel::Warning
    };
    let location = new
        .policies
        .iter()
        .filter(|p| {
            new.schema
                .channels
                .variants()
                .iter()
                .position(|v| v.as_str() == c.channel)
                == Some(p.channel as usize)
        })
        .flat_map(|p| p.rejects.iter().chain(&p.rules).chain(&p.afters))
        .find(|r| *r.name == *c.new.rule)
        .and_then(|r| {
            let file = new.sources.get(r.name_span.file)?;
            let (line, _) = file.line_col(r.name_span.start);
            Some(SarifLocation::at_line(&file.name, line))
        });
    let witness = json_line(&c.witness).unwrap_or_default();
    SarifResult {
        rule_id: "rpl::diff::changed".to_owned(),
        rule_description: Some("the new version of the policies decides differently".to_owned()),
        level,
        message: format!(
            "{}: {}\nregion: {}\nold: {}\nnew: {}\nwitness: {}",
            c.channel,
            kind_of(&c.old, &c.new),
            c.region.join("; "),
            c.old.text(),
            c.new.text(),
            witness.trim_end()
        ),
        location,
        related: Vec::new(),
    }
}

/// Writes each change's witness as a test case expecting the new answer
/// into `dir/diff.toml`; its path, or `None` when there is nothing to
/// write.
fn write_tests(dir: &Path, changes: &[Change], force: bool) -> Result<Option<PathBuf>, String> {
    if changes.is_empty() {
        return Ok(None);
    }
    let path = dir.join("diff.toml");
    if path.exists() && !force {
        return Err(format!(
            "`{}` exists: pass --force to replace it",
            path.display()
        ));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create `{}`: {}", dir.display(), io_reason(&e)))?;
    let text = tests_text(changes)?;
    let mut out = Output::file(&path, &[])?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.commit())
        .map_err(|e| format!("cannot write `{}`: {}", path.display(), io_reason(&e)))?;
    Ok(Some(path))
}

#[derive(Serialize)]
struct TestFile {
    case: Vec<TestCase>,
}

#[derive(Serialize)]
struct TestCase {
    name: String,
    request: toml::Value,
    expect: toml::Table,
}

fn tests_text(changes: &[Change]) -> Result<String, String> {
    let mut cases = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let request = toml::Value::try_from(&c.witness)
            .map_err(|e| format!("cannot write a witness as TOML: {e}"))?;
        let mut expect = toml::Table::new();
        let n = &c.new;
        if n.decision == "error" {
            expect.insert("error".into(), n.rule.clone().into());
        } else {
            expect.insert("decision".into(), n.decision.clone().into());
            expect.insert("rule".into(), n.rule.clone().into());
            match n.amount.as_deref().and_then(|a| a.split_once(' ')) {
                Some((amount, currency)) => {
                    expect.insert("amount".into(), amount.into());
                    expect.insert("currency".into(), currency.into());
                }
                None => {
                    expect.insert("amount".into(), crate::testing::NONE.into());
                }
            }
            expect.insert(
                "route".into(),
                n.route.as_deref().unwrap_or(crate::testing::NONE).into(),
            );
            let settlement = match n.settlement.as_deref().and_then(|s| s.split_once("..")) {
                Some((a, b)) => toml::Value::Array(vec![a.into(), b.into()]),
                None => crate::testing::NONE.into(),
            };
            expect.insert("settlement".into(), settlement);
        }
        cases.push(TestCase {
            name: format!("diff {}: {} {}", i + 1, c.channel, kind_of(&c.old, &c.new)),
            request,
            expect,
        });
    }
    let body = toml::to_string(&TestFile { case: cases })
        .map_err(|e| format!("cannot write the test cases: {e}"))?;
    Ok(format!(
        "# Written by `rpl diff --write-tests`: each case is a request whose\n\
         # answer changed, expecting the new version's answer. Keep the ones\n\
         # the change meant; rename them to say why.\n\n{body}"
    ))
}
