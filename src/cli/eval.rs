//! `rpl eval` and `rpl explain`: decisions for request files, stdin, or a
//! JSON Lines batch.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::input::{DEFAULT_MAX_REQUEST, Lines, parse_size, read_request};
use super::output::Output;
use super::{ExitCode, cannot_read, default_policies, stderr_color, term_width};
use crate::engine::{Engine, Outcome};
use crate::eval::Failure;
use crate::load::io_reason;
use crate::report::decision;
use crate::report::diagnostics::render_human;
use crate::report::escape::{json_line, visible};
use crate::request::RequestError;
use crate::source::bad_utf8;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    /// A short summary per request
    Human,
    /// One JSON object per request, one per line
    Json,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Request files (`.json` or `.toml`); `-` reads one request from stdin
    #[arg(required_unless_present = "batch", conflicts_with = "batch")]
    pub requests: Vec<PathBuf>,
    /// Policy directory (the folder with schema.toml)
    #[arg(long, default_value_os_t = default_policies())]
    pub policies: PathBuf,
    /// Evaluate a JSON Lines file (`-` for stdin): one output line per input line, in order
    #[arg(long, value_name = "FILE.jsonl")]
    pub batch: Option<PathBuf>,
    /// Where the batch output goes [default: stdout]
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
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The request file (`.json` or `.toml`); `-` reads stdin
    pub request: PathBuf,
    /// Policy directory (the folder with schema.toml)
    #[arg(long, default_value_os_t = default_policies())]
    pub policies: PathBuf,
    /// Output format: the trace for people, or the decision with its trace as JSON
    #[arg(long, value_enum, default_value = "human")]
    pub format: OutFormat,
    /// The largest request read (bytes, or with K, M, G: 1K = 1024)
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MAX_REQUEST, value_parser = parse_size)]
    pub max_request_size: u64,
}

/// Loads the engine, printing the checker's diagnostics when it fails.
pub(super) fn engine(policies: &Path) -> Result<Engine, ExitCode> {
    Engine::load(policies).map_err(|failure| {
        let mut stderr = std::io::stderr().lock();
        for d in &failure.diagnostics {
            let _ = write!(
                stderr,
                "{}",
                render_human(d.as_ref(), stderr_color(), term_width())
            );
        }
        let shown = visible(&policies.display().to_string()).into_owned();
        let _ = if failure.diagnostics.iter().any(|d| cannot_read(d.as_ref())) {
            writeln!(
                stderr,
                "error: no policy directory at `{shown}`; name one with `--policies DIR`"
            )
        } else {
            writeln!(
                stderr,
                "error: cannot load the policies in `{shown}`: {failure}"
            )
        };
        ExitCode::Usage
    })
}

pub fn run_eval(args: EvalArgs) -> ExitCode {
    if args.output.is_some() && args.batch.is_none() {
        eprintln!(
            "error: `-o` writes the output of `--batch`; without it, redirect stdout instead"
        );
        return ExitCode::Usage;
    }
    let engine = match engine(&args.policies) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if let Some(batch) = &args.batch {
        let limit = args.max_request_size;
        return run_batch(&engine, batch, args.output.as_deref(), args.explain, limit);
    }
    let mut out = Output::stdout();
    let mut failed = false;
    // A file that cannot be read does not stop the others (as in ripgrep):
    // it gets its error record in its place, and the run ends with 2.
    let mut unreadable = false;
    for path in &args.requests {
        let outcome = request_outcome(&engine, path, args.max_request_size, args.explain);
        unreadable |= is_unreadable(&outcome);
        failed |= matches!(outcome, Outcome::Failure(_));
        let text = match args.format {
            OutFormat::Json => json_text(&outcome),
            OutFormat::Human if args.explain => decision::explain(&outcome),
            OutFormat::Human => decision::summary(&outcome),
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
    let engine = match engine(&args.policies) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let outcome = request_outcome(&engine, &args.request, args.max_request_size, true);
    let text = match args.format {
        OutFormat::Json => json_text(&outcome),
        OutFormat::Human => decision::explain(&outcome),
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

/// The decision for the request file at `path`, or its error record: a
/// file that cannot be read, is too large or is not UTF-8 has one too.
fn request_outcome(engine: &Engine, path: &Path, limit: u64, explain: bool) -> Outcome {
    match read_request(path, limit) {
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

fn json_text(outcome: &Outcome) -> String {
    json_line(outcome).unwrap_or_else(|e| {
        format!(
            "{{\"request_id\":null,\"error\":{{\"code\":\"rpl::internal\",\"path\":\"\",\"message\":{}}}}}\n",
            serde_json::Value::String(format!("cannot write the result: {e}"))
        )
    })
}

/// One output line per input line, in order: a decision or an error
/// object carrying the line number. The output file, if any, is written
/// whole or not at all.
fn run_batch(
    engine: &Engine,
    input: &Path,
    output: Option<&Path>,
    explain: bool,
    limit: u64,
) -> ExitCode {
    let shown = visible(&input.display().to_string()).into_owned();
    let reader: Box<dyn std::io::BufRead> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(input) {
            Ok(f) => Box::new(std::io::BufReader::with_capacity(1 << 16, f)),
            Err(e) => {
                eprintln!("error: cannot read `{shown}`: {}", io_reason(&e));
                return ExitCode::Usage;
            }
        }
    };
    let mut out = match output {
        Some(p) => match Output::file(p, &[input]) {
            Ok(o) => o,
            Err(message) => {
                eprintln!("error: {}", visible(&message));
                return ExitCode::Usage;
            }
        },
        None => Output::stdout(),
    };
    let mut lines = Lines::new(reader, limit);
    let mut failed = false;
    loop {
        let (number, line) = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                // What was written to stdout stays; a file is not left
                // half-written.
                let _ = out.flush();
                eprintln!("error: cannot read `{shown}`: {}", io_reason(&e));
                return ExitCode::Usage;
            }
        };
        let outcome = match line {
            Ok(bytes) => batch_line(engine, bytes, explain),
            Err(e) => failure(&e),
        };
        let outcome = match outcome {
            Outcome::Failure(mut f) => {
                failed = true;
                f.line = Some(number);
                Outcome::Failure(f)
            }
            d => d,
        };
        if let Err(e) = out.write_all(json_text(&outcome).as_bytes()) {
            return write_failed(&e);
        }
    }
    if let Err(e) = out.commit() {
        return write_failed(&e);
    }
    if failed {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    }
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
