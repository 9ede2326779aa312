//! `rpl eval` and `rpl explain`: decisions for request files, stdin, or a
//! JSON Lines batch.

use std::io::{IsTerminal as _, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::compress::Codec;
use super::input::{DEFAULT_MAX_REQUEST, Lines, open_batch, parse_size, read_request};
use super::output::Output;
use super::progress::Progress;
use super::{ExitCode, cannot_read, policy_dir, stderr_color, term_width};
use crate::analysis::counterfactual::{Counterfactual, counterfactuals};
use crate::engine::{Engine, LoadFailure, Outcome};
use crate::eval::Failure;
use crate::load::io_reason;
use crate::report::batch::BatchSummary;
use crate::report::decision;
use crate::report::diagnostics::render_human;
use crate::report::escape::{json_line, visible};
use crate::request::RequestError;
use crate::source::bad_utf8;
use crate::vocab::Verdict;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    /// A short summary per request
    Human,
    /// One JSON object per request, one per line
    Json,
}

/// What `rpl explain` prints.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainFormat {
    /// The summary, the changes that would approve a denial or a review,
    /// then every rule considered with each test, its values and where it
    /// is written
    Human,
    /// The decision (or error) object with its `trace`, as one JSON line
    Json,
}

#[derive(Args, Debug)]
#[command(after_help = concat!(
    "Examples:
  rpl eval examples/request.json                     a summary of the decision
  rpl eval --format json examples/request.json       the decision object, one line
  rpl eval --explain examples/request.json           the decision with its trace
  rpl eval --batch examples/requests.jsonl           JSON Lines in, JSON Lines out
  rpl eval --batch in.jsonl -o out.jsonl             the same into a file, written whole
  rpl eval --batch in.jsonl.zst -o out.jsonl.gz      compressed in and out, by the names
  rpl eval --batch in.jsonl -o out.jsonl -q          nothing on stderr but errors
  rpl eval --policies my-policies request.toml       another policy directory

A batch named `.gz` (gzip) or `.zst` (Zstandard) is decompressed as it is
read; stdin is read as it comes. `-o OUT.gz` is written as gzip.
On a terminal, a batch shows its progress on stderr: lines done, lines per
second, and for a named file a bar with the time left. It is cleared
before the summary, and not shown with --quiet, when stderr is not a
terminal, or when the records themselves go to the terminal.

The request and decision formats: docs/formats.md in the repository.

Exit codes:
  0  every request decided
  1  some request had an error (its error object is in its place)
  2  usage or I/O error: a request file that cannot be read, a batch that
     cannot be read to its end (a cut or damaged `.gz`: the records before
     the damage go to stdout, or `-o` keeps its previous file), the policy
     directory not found or with errors, the output not writable

",
    super::policies_help!(),
))]
pub struct EvalArgs {
    /// Request files (`.json` or `.toml`); `-` reads one request from stdin
    #[arg(required_unless_present = "batch", conflicts_with = "batch")]
    pub requests: Vec<PathBuf>,
    /// Policy directory (the folder with schema.toml) [default: found as
    /// below]
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Evaluate a JSON Lines file (`-` for stdin), decompressed if named
    /// `.gz` or `.zst`: one output line per input line, in order
    #[arg(long, value_name = "FILE.jsonl")]
    pub batch: Option<PathBuf>,
    /// Where the batch output goes, gzipped if named `.gz` [default:
    /// stdout]
    #[arg(short, long, value_name = "OUT.jsonl")]
    pub output: Option<PathBuf>,
    /// Add the trace: every rule considered, each test with its values
    #[arg(long)]
    pub explain: bool,
    /// Output format (batch output is always JSON Lines)
    #[arg(long, value_enum, default_value = "human")]
    pub format: OutFormat,
    /// The largest request read: a file, stdin, or one batch line (bytes,
    /// or with K, M, G: 1K = 1024)
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MAX_REQUEST, value_parser = parse_size)]
    pub max_request_size: u64,
    /// Decide a batch on N threads (at most 256); the output is the same
    /// for any N [default: one per core]
    #[arg(long, value_name = "N")]
    pub threads: Option<std::num::NonZeroUsize>,
    /// After a batch, its summary on stderr: counts by decision and rule,
    /// approved refunds by route, errors by code [default: human when
    /// stderr is a terminal, else none]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub summary: Option<SummaryFormat>,
    /// After a batch, nothing on stderr but errors (and a `--summary`
    /// given): no progress bar, no count of the records written, no
    /// summary by default
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryFormat {
    Human,
    Json,
    None,
}

#[derive(Args, Debug)]
#[command(after_help = concat!(
    "Examples:
  rpl explain examples/official_mall/18-national-day-outside.json
  rpl explain --format json examples/request.json    the decision with its trace

What it prints: the decision's summary; for a denial or a review, under
`would be approved if:`, the smallest changes to the request that get it
approved, one a line (`requested on or before 2025-10-09`, `item.activated
were false`; pairs of changes only when no single one does), each decided
before it is shown; then every rule considered, in order, up to the one
that decided (and the `after` rules tried after it):
  ✓ NAME \"LABEL\"  FILE:LINE:COL        the rule applied (✗: it did not);
                                       `reject` or `after` before the name
                                       for those kinds of rule
      true   CONDITION                 a test that was evaluated, as written,
                                       and its result: true, false, or
                                       unknown (a value it needed was absent)
             FIELD = VALUE, ...        the request values it read
             NOTE                      for a failed date window, when it ended
             at FILE:LINE:COL          where the test is written
      (no condition: applies to every request)
Tests stop at the first that settles a condition (`a and b` does not look at
`b` when `a` is false), so the list shows exactly what was evaluated.

Exit codes:
  0  the request was decided
  1  the request had an error (shown with the rules tried before it, when
     it came up while deciding)
  2  usage or I/O error: the request file cannot be read, the policy
     directory not found or with errors

",
    super::policies_help!(),
))]
pub struct ExplainArgs {
    /// The request file (`.json` or `.toml`); `-` reads stdin
    pub request: PathBuf,
    /// Policy directory (the folder with schema.toml) [default: found as
    /// below]
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Output format: the trace for people, or the decision with its trace
    /// (and `counterfactuals`) as JSON
    #[arg(long, value_enum, default_value = "human")]
    pub format: ExplainFormat,
    /// The largest request read (bytes, or with K, M, G: 1K = 1024)
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MAX_REQUEST, value_parser = parse_size)]
    pub max_request_size: u64,
}

/// Finds and loads the policy directory. What keeps it from loading is
/// shown as `rpl check` shows it: each diagnostic with its code and help.
pub(super) fn engine(given: Option<&Path>, not_done: &str) -> Result<Engine, ExitCode> {
    let loaded = policy_dir(given)
        .map_err(|e| LoadFailure {
            diagnostics: vec![Box::new(e)],
        })
        .and_then(Engine::load);
    loaded.map_err(|failure| show_load_failure(&failure, not_done))
}

/// Shows why policies did not load, as `rpl check` shows it; the exit code
/// that goes with it.
pub(super) fn show_load_failure(failure: &LoadFailure, not_done: &str) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    for d in &failure.diagnostics {
        let _ = write!(
            stderr,
            "{}",
            render_human(d.as_ref(), stderr_color(), term_width())
        );
    }
    // A directory that could not be read says so itself; errors in
    // policies get a closing count, as `rpl check` gives them.
    if !failure.diagnostics.iter().any(|d| cannot_read(d.as_ref())) {
        let _ = writeln!(stderr, "{not_done}: {}", failure.summary());
    }
    ExitCode::Usage
}

/// A file that could not be read, shown like the loader's file errors:
/// the request error's code and help, the file named in the message.
fn show_file_error(path: &Path, e: &RequestError) {
    let mut d =
        miette::MietteDiagnostic::new(format!("`{}`: {e}", path.display())).with_code(e.code());
    if let Some(help) = miette::Diagnostic::help(e) {
        d = d.with_help(help.to_string());
    }
    eprint!("{}", render_human(&d, stderr_color(), term_width()));
}

pub fn run_eval(args: EvalArgs) -> ExitCode {
    if args.output.is_some() && args.batch.is_none() {
        eprintln!(
            "error: `-o` writes the output of `--batch`; without it, redirect stdout instead"
        );
        return ExitCode::Usage;
    }
    if args.batch.is_none() {
        let given: Vec<&str> = [
            (args.threads.is_some(), "`--threads`"),
            (args.summary.is_some(), "`--summary`"),
            (args.quiet, "`--quiet`"),
        ]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect();
        if let Some((last, rest)) = given.split_last() {
            let (names, verb) = match rest {
                [] => ((*last).to_owned(), "is"),
                _ => (format!("{} and {last}", rest.join(", ")), "are"),
            };
            eprintln!("error: {names} {verb} about a `--batch`; name the batch");
            return ExitCode::Usage;
        }
    }
    if let Some(n) = args.threads
        && n.get() > MAX_THREADS
    {
        eprintln!(
            "error: `--threads {n}` is more than {MAX_THREADS}; past a few hundred, starting threads costs more than a batch gains"
        );
        return ExitCode::Usage;
    }
    let engine = match engine(args.policies.as_deref(), "no request was decided") {
        Ok(e) => e,
        Err(code) => return code,
    };
    if let Some(batch) = &args.batch {
        let limit = args.max_request_size;
        let pool = match args.threads {
            None => None,
            Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n.get()).build() {
                Ok(pool) => Some(pool),
                Err(e) => {
                    eprintln!("error: cannot start {n} threads: {e}");
                    return ExitCode::Usage;
                }
            },
        };
        // Quiet as `cargo -q` is: what was asked for explicitly still
        // comes, what would only be shown by default does not.
        let summary = args
            .summary
            .unwrap_or(if !args.quiet && std::io::stderr().is_terminal() {
                SummaryFormat::Human
            } else {
                SummaryFormat::None
            });
        let batch_run = Batch {
            engine: &engine,
            explain: args.explain,
            limit,
            pool: pool.as_ref(),
            summary,
            quiet: args.quiet,
        };
        return batch_run.run(batch, args.output.as_deref());
    }
    let mut out = Output::stdout();
    let mut failed = false;
    // A file that cannot be read does not stop the others (as in ripgrep):
    // it gets its error record in its place, and the run ends with 2.
    let mut unreadable = false;
    for path in &args.requests {
        let mut outcome = request_outcome(&engine, path, args.max_request_size, args.explain);
        // A JSON Lines file given as one request reads as JSON with
        // trailing lines: say what was meant.
        if let Outcome::Failure(f) = &mut outcome
            && f.error.code == "rpl::request::syntax"
            && path.extension().is_some_and(|e| e == "jsonl")
        {
            f.error.help = Some(format!(
                "a `.jsonl` file is a batch, one request per line: `rpl eval --batch {}`",
                path.display()
            ));
        }
        unreadable |= is_unreadable(&outcome);
        failed |= matches!(outcome, Outcome::Failure(_));
        let source = path.display().to_string();
        let text = match args.format {
            OutFormat::Json => json_text(&outcome),
            OutFormat::Human if args.explain => decision::explain_of(&outcome, Some(&source)),
            OutFormat::Human => decision::summary_of(&outcome, Some(&source)),
        };
        if let Err(e) = out.write_all(text.as_bytes()) {
            return write_failed(&e);
        }
    }
    if let Err(e) = out.commit() {
        return write_failed(&e);
    }
    if unreadable {
        ExitCode::Usage
    } else if failed {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    }
}

pub fn run_explain(args: ExplainArgs) -> ExitCode {
    let engine = match engine(args.policies.as_deref(), "no request was decided") {
        Ok(e) => e,
        Err(code) => return code,
    };
    let read = read_request(&args.request, args.max_request_size);
    // For people, a file that cannot be read is an I/O error like any
    // other, not a decision's place; JSON keeps its error object.
    if let (ExplainFormat::Human, Err(e @ RequestError::Io { .. })) = (args.format, &read) {
        show_file_error(&args.request, e);
        return ExitCode::Usage;
    }
    let (outcome, counterfactuals) = explained(&engine, read);
    let text = match args.format {
        ExplainFormat::Json => json_text(&Explained {
            outcome: &outcome,
            counterfactuals: counterfactuals.as_deref(),
        }),
        ExplainFormat::Human => decision::explain_with(&outcome, None, counterfactuals.as_deref()),
    };
    let mut out = Output::stdout();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.commit()) {
        return write_failed(&e);
    }
    if is_unreadable(&outcome) {
        ExitCode::Usage
    } else if matches!(outcome, Outcome::Failure(_)) {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    }
}

/// What `rpl explain --format json` writes: the decision (or error)
/// object, and for a denial or a review the smallest changes that would
/// get the request approved.
#[derive(serde::Serialize)]
struct Explained<'a> {
    #[serde(flatten)]
    outcome: &'a Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    counterfactuals: Option<&'a [Counterfactual]>,
}

/// The decision with its trace for a request as read, and for a denial or
/// a review the changes that would approve it (`None` otherwise).
fn explained(
    engine: &Engine,
    read: Result<(String, bool), RequestError>,
) -> (Outcome, Option<Vec<Counterfactual>>) {
    let decoded = match &read {
        Ok((text, true)) => engine.schema().decode_toml(text).ok(),
        Ok((text, false)) => engine.schema().decode_json(text).ok(),
        Err(_) => None,
    };
    let Some(request) = decoded else {
        return (decide(engine, read, true), None);
    };
    let outcome = engine.evaluate(&request, true);
    let counterfactuals = match &outcome {
        Outcome::Decision(d) if d.decision != Verdict::Approve => {
            Some(counterfactuals(engine.compiled(), &request))
        }
        _ => None,
    };
    (outcome, counterfactuals)
}

/// The decision for the request file at `path`, or its error record: a
/// file that cannot be read, is too large or is not UTF-8 has one too.
fn request_outcome(engine: &Engine, path: &Path, limit: u64, explain: bool) -> Outcome {
    decide(engine, read_request(path, limit), explain)
}

/// The decision for a request as read, or its error record.
fn decide(engine: &Engine, read: Result<(String, bool), RequestError>, explain: bool) -> Outcome {
    match read {
        Ok((text, true)) => engine.evaluate_toml(&text, explain),
        Ok((text, false)) => engine.evaluate_json(&text, explain),
        Err(e) => failure(&e),
    }
}

fn failure(e: &RequestError) -> Outcome {
    Outcome::Failure(Failure::of_request(None, e))
}

/// An I/O error, as opposed to a request found wrong: the run could not do
/// its job for that file.
fn is_unreadable(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Failure(f) if f.error.code == "rpl::request::io")
}

fn write_failed(e: &std::io::Error) -> ExitCode {
    // `rpl eval ... | head` ends quietly, as ripgrep does.
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        ExitCode::Ok
    } else {
        eprintln!("error: cannot write the output: {}", io_reason(e));
        ExitCode::Usage
    }
}

fn json_text(outcome: &(impl serde::Serialize + ?Sized)) -> String {
    json_line(outcome).unwrap_or_else(|e| unwritable(&e))
}

/// [`json_text`] appended to `out`.
fn record_into(out: &mut Vec<u8>, outcome: &Outcome) {
    let start = out.len();
    if let Err(e) = crate::report::record::record_into(out, outcome) {
        out.truncate(start);
        out.extend_from_slice(unwritable(&e).as_bytes());
    }
}

/// The record in place of one that could not be written.
fn unwritable(e: &serde_json::Error) -> String {
    format!(
        "{{\"request_id\":null,\"error\":{{\"code\":\"rpl::internal\",\"path\":\"\",\"message\":{}}}}}\n",
        serde_json::Value::String(format!("cannot write the result: {e}"))
    )
}

/// The most threads `--threads` starts: past a few hundred, starting them
/// costs more than a batch gains (5,000 took a minute before deciding
/// anything).
const MAX_THREADS: usize = 256;

/// Lines decided together: enough to keep every thread busy, few enough
/// (with [`CHUNK_BYTES`]) that memory stays flat however long the input.
const CHUNK_LINES: usize = 1024;
/// The most bytes of input a chunk holds (a chunk ends at the line that
/// passes it).
const CHUNK_BYTES: usize = 8 << 20;

/// A batch run: the engine, and the threads it decides on (`None`: rayon's
/// pool, one per core).
struct Batch<'a> {
    engine: &'a Engine,
    explain: bool,
    limit: u64,
    pool: Option<&'a rayon::ThreadPool>,
    summary: SummaryFormat,
    /// No progress bar, no line saying what was written.
    quiet: bool,
}

/// How the lines of a batch ran out.
enum End {
    /// The input ended: every line has its record.
    Done,
    /// Reading failed; the records before it were written.
    ReadFailed(std::io::Error),
    WriteFailed(std::io::Error),
}

/// The most lines decided by one task, into one buffer of records and one
/// set of sums: enough that a task's overhead is small. A chunk is cut
/// into smaller parts when that is what spreads it over every thread.
const PART_LINES: usize = 64;

/// A chunk of lines: their bytes end to end in one buffer, reused from
/// chunk to chunk, so reading a line allocates nothing.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    /// Each line's number, and its place in `bytes` or why it has none.
    lines: Vec<ReadLine>,
}

/// One line read: its number, and its bytes or why it has none.
type ReadLine = (u64, Result<std::ops::Range<usize>, RequestError>);

impl Batch<'_> {
    /// One output line per input line, in order: a decision or an error
    /// object carrying the line number. Lines are read in chunks, each
    /// decided in parallel and written in input order, so the output is
    /// the same byte for byte on any number of threads. The output file,
    /// if any, is written whole or not at all.
    fn run(&self, input: &Path, output: Option<&Path>) -> ExitCode {
        // Once a compressed file is open, what fails is most likely its
        // data.
        let unreadable = |e: &std::io::Error, opened: bool| {
            let help = match Codec::of(input).test_command().filter(|_| opened) {
                Some(test) => format!(
                    "check that the file is whole and compressed as its name says (`{test} FILE`)"
                ),
                None => "check that the path names a readable JSON Lines file".to_owned(),
            };
            let e = RequestError::Io {
                path: input.display().to_string(),
                message: format!("cannot read the batch: {}", io_reason(e)),
                help: Some(help),
            };
            show_file_error(input, &e);
            ExitCode::Usage
        };
        let opened = match open_batch(input) {
            Ok(b) => b,
            Err(e) => return unreadable(&e, false),
        };
        let mut out = match output {
            Some(p) => match Output::records(p, &[input]) {
                Ok(o) => o,
                Err(message) => {
                    eprintln!("error: {}", visible(&message));
                    return ExitCode::Usage;
                }
            },
            None => Output::stdout(),
        };
        // Records going to the terminal show the progress themselves, and
        // a bar between them would break their lines.
        let progress = if self.quiet || out.is_terminal() {
            None
        } else {
            Progress::start(opened.size)
        };
        let mut lines = Lines::new(opened.reader, self.limit);
        let mut sums = BatchSummary::default();
        // Two chunks: one decided on the pool while this thread writes the
        // records of the one before and reads the one after. Done one
        // after the other, reading and writing kept the other threads
        // idle: on 2 threads, a batch ran at 1.3 times its 1-thread speed.
        let (mut chunk, mut next) = (Chunk::default(), Chunk::default());
        let mut read_error = read_chunk(&mut lines, &mut chunk);
        let mut pending = Vec::new();
        let end = loop {
            // The input ended, or reading it failed: no chunk after this.
            let last = chunk.lines.is_empty() || read_error.is_some();
            let mut next_error = None;
            let (parts, written) = self.beside(
                || self.decide(&chunk),
                || {
                    write_parts(&mut out, &mut sums, std::mem::take(&mut pending))?;
                    if !last {
                        next_error = read_chunk(&mut lines, &mut next);
                    }
                    Ok(())
                },
            );
            let written = written.and_then(|()| match last {
                true => write_parts(&mut out, &mut sums, parts),
                false => {
                    pending = parts;
                    Ok(())
                }
            });
            if let Err(e) = written {
                break End::WriteFailed(e);
            }
            if let Some(p) = &progress {
                p.update(sums.records, opened.read.get());
            }
            if last {
                break read_error.map_or(End::Done, End::ReadFailed);
            }
            std::mem::swap(&mut chunk, &mut next);
            read_error = next_error;
        };
        let end = match end {
            End::Done => match out.commit() {
                Ok(()) => End::Done,
                Err(e) => End::WriteFailed(e),
            },
            // What was written to stdout stays; a file is not left
            // half-written (dropping `out` removes what was built).
            End::ReadFailed(e) => {
                let _ = out.flush();
                End::ReadFailed(e)
            }
            failed @ End::WriteFailed(_) => failed,
        };
        if let Some(p) = progress {
            p.clear();
        }
        match end {
            End::WriteFailed(e) => write_failed(&e),
            // The summary counts what was written.
            End::ReadFailed(e) => {
                self.show_summary(&sums);
                unreadable(&e, true)
            }
            End::Done => {
                let records = sums.records;
                let errors = sums.decisions.get("error").copied().unwrap_or(0);
                // With the records in a file, the terminal would otherwise
                // show nothing: say what was written, and how many lines
                // had an error.
                if let Some(path) = output.filter(|_| !self.quiet) {
                    eprintln!(
                        "wrote {records} records to `{}`: {} decided, {errors} with an error",
                        visible(&path.display().to_string()),
                        records - errors
                    );
                }
                self.show_summary(&sums);
                if errors > 0 {
                    ExitCode::Failure
                } else {
                    ExitCode::Ok
                }
            }
        }
    }

    /// The batch's sums on stderr, in the format asked for.
    fn show_summary(&self, sums: &BatchSummary) {
        match self.summary {
            SummaryFormat::Human => {
                for line in sums.human().lines() {
                    eprintln!("{}", visible(line));
                }
            }
            SummaryFormat::Json => match json_line(sums) {
                Ok(line) => eprint!("{line}"),
                Err(e) => eprintln!("error: cannot write the summary: {e}"),
            },
            SummaryFormat::None => {}
        }
    }

    /// `work` on the batch's threads while this thread does `io`: the
    /// reader and the output stay on this thread.
    fn beside<T: Send, U>(
        &self,
        work: impl FnOnce() -> T + Send,
        io: impl FnOnce() -> U,
    ) -> (T, U) {
        let mut done = None;
        let io_done = match self.pool {
            Some(pool) => pool.in_place_scope(|s| {
                s.spawn(|_| done = Some(work()));
                io()
            }),
            None => rayon::in_place_scope(|s| {
                s.spawn(|_| done = Some(work()));
                io()
            }),
        };
        match done {
            Some(t) => (t, io_done),
            // A scope returns once its tasks have: `work` has run.
            None => unreachable!("the scope ended before its task"),
        }
    }

    /// The chunk's records, in input order, in parts: each part's records
    /// as one text, and their sums. Parts are decided on all threads, each
    /// into its own buffer and sums, so that nothing is shared while
    /// deciding.
    fn decide(&self, chunk: &Chunk) -> Vec<(Vec<u8>, BatchSummary)> {
        use rayon::prelude::*;
        let part = |lines: &[ReadLine]| {
            let mut text = Vec::with_capacity(lines.len() * 512);
            let mut sums = BatchSummary::default();
            for (number, line) in lines {
                let outcome = match line {
                    Ok(at) => batch_line(
                        self.engine,
                        chunk.bytes.get(at.clone()).unwrap_or_default(),
                        self.explain,
                    ),
                    Err(e) => failure(e),
                };
                let outcome = match outcome {
                    Outcome::Failure(mut f) => {
                        f.line = Some(*number);
                        Outcome::Failure(f)
                    }
                    d => d,
                };
                record_into(&mut text, &outcome);
                sums.add(&outcome);
            }
            (text, sums)
        };
        let all = || {
            // Four parts a thread at least, so that a chunk of few lines
            // (long ones, up to 8 MiB) or many threads leave none idle.
            let spread = chunk.lines.len().div_ceil(rayon::current_num_threads() * 4);
            let size = spread.clamp(1, PART_LINES);
            chunk.lines.par_chunks(size).map(part).collect()
        };
        match self.pool {
            Some(pool) => pool.install(all),
            None => all(),
        }
    }
}

/// Writes a chunk's records, part after part, adding each part's sums
/// to `sums` once it is written.
fn write_parts(
    out: &mut Output,
    sums: &mut BatchSummary,
    parts: Vec<(Vec<u8>, BatchSummary)>,
) -> std::io::Result<()> {
    for (text, part) in parts {
        out.write_all(&text)?;
        sums.merge(part);
    }
    Ok(())
}

/// Reads the next chunk of lines into `chunk`; the read error that ended
/// it early, if one did.
fn read_chunk<R: std::io::BufRead>(
    lines: &mut Lines<R>,
    chunk: &mut Chunk,
) -> Option<std::io::Error> {
    chunk.bytes.clear();
    chunk.lines.clear();
    while chunk.lines.len() < CHUNK_LINES && chunk.bytes.len() < CHUNK_BYTES {
        match lines.next_line() {
            Ok(Some((number, line))) => {
                let at = line.map(|l| {
                    let start = chunk.bytes.len();
                    chunk.bytes.extend_from_slice(l);
                    start..chunk.bytes.len()
                });
                chunk.lines.push((number, at));
            }
            Ok(None) => break,
            Err(e) => return Some(e),
        }
    }
    None
}

fn batch_line(engine: &Engine, line: &[u8], explain: bool) -> Outcome {
    let syntax = |message: &str| {
        failure(&RequestError::Syntax {
            path: String::new(),
            message: message.into(),
            help: Some("a batch holds one JSON request per line".into()),
        })
    };
    match std::str::from_utf8(line) {
        Err(e) => {
            let (at, byte) = bad_utf8(line, e);
            syntax(&format!(
                "the line is not UTF-8 (byte 0x{byte:02x} at offset {at})"
            ))
        }
        Ok(text) if text.trim().is_empty() => syntax("empty line"),
        Ok(text) => engine.evaluate_json(text, explain),
    }
}
