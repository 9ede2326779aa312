//! `rpl eval` and `rpl explain`: decisions for request files, stdin, or a
//! JSON Lines batch.

use std::io::{BufRead as _, Read as _, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{ExitCode, default_policies, stderr_color, term_width};
use crate::engine::{Engine, Outcome};
use crate::eval::{ErrorBody, Failure};
use crate::report::decision;
use crate::report::diagnostics::render_human;

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
}

/// Loads the engine, printing the checker's diagnostics when it fails.
fn engine(policies: &Path) -> Result<Engine, ExitCode> {
    Engine::load(policies).map_err(|failure| {
        let mut stderr = std::io::stderr().lock();
        for d in &failure.diagnostics {
            let _ = write!(
                stderr,
                "{}",
                render_human(d.as_ref(), stderr_color(), term_width())
            );
        }
        let _ = writeln!(
            stderr,
            "error: cannot load the policies in `{}`: {failure}",
            policies.display()
        );
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
        return run_batch(&engine, batch, args.output.as_deref(), args.explain);
    }
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    // A file that cannot be read does not stop the others (as in ripgrep);
    // it makes the run end with 2.
    let mut unreadable = false;
    for path in &args.requests {
        let outcome = match read_request(path) {
            Ok((text, toml)) => evaluate(&engine, &text, toml, args.explain),
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                unreadable = true;
                continue;
            }
        };
        failed |= matches!(outcome, Outcome::Failure(_));
        let text = match args.format {
            OutFormat::Json => json_line(&outcome),
            OutFormat::Human if args.explain => decision::explain(&outcome),
            OutFormat::Human => decision::summary(&outcome),
        };
        if let Err(e) = stdout.write_all(text.as_bytes()) {
            return write_failed(&e);
        }
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
    let outcome = match read_request(&args.request) {
        Ok((text, toml)) => evaluate(&engine, &text, toml, true),
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", args.request.display());
            return ExitCode::Usage;
        }
    };
    let text = match args.format {
        OutFormat::Json => json_line(&outcome),
        OutFormat::Human => decision::explain(&outcome),
    };
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        return write_failed(&e);
    }
    if matches!(outcome, Outcome::Failure(_)) {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    }
}

fn write_failed(e: &std::io::Error) -> ExitCode {
    // `rpl eval ... | head` ends quietly, as ripgrep does.
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        ExitCode::Ok
    } else {
        eprintln!("error: cannot write the output: {e}");
        ExitCode::Usage
    }
}

/// The request text, and whether it is TOML (by extension; stdin is read
/// as JSON unless it does not start with `{`).
fn read_request(path: &Path) -> std::io::Result<(String, bool)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        let text = without_bom(text);
        let toml = !text.trim_start().starts_with(['{', '[']) && !text.trim().is_empty();
        return Ok((text, toml));
    }
    let text = without_bom(std::fs::read_to_string(path)?);
    let toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    Ok((text, toml))
}

/// Editors on Windows like to start UTF-8 files with a byte-order mark.
fn without_bom(text: String) -> String {
    match text.strip_prefix('\u{FEFF}') {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

fn evaluate(engine: &Engine, text: &str, toml: bool, explain: bool) -> Outcome {
    if toml {
        engine.evaluate_toml(text, explain)
    } else {
        engine.evaluate_json(text, explain)
    }
}

fn json_line(outcome: &Outcome) -> String {
    let mut s = serde_json::to_string(outcome).unwrap_or_else(|e| {
        format!(r#"{{"request_id":null,"error":{{"code":"rpl::internal","path":"","message":"cannot write the result: {e}"}}}}"#)
    });
    s.push('\n');
    s
}

/// One output line per input line, in order: a decision or an error
/// object carrying the line number.
fn run_batch(engine: &Engine, input: &Path, output: Option<&Path>, explain: bool) -> ExitCode {
    let reader: Box<dyn std::io::BufRead> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(input) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", input.display());
                return ExitCode::Usage;
            }
        }
    };
    let mut out: Box<dyn Write> = match output {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", p.display());
                return ExitCode::Usage;
            }
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut failed = false;
    for (n, line) in reader.split(b'\n').enumerate() {
        let number = u64::try_from(n).unwrap_or(u64::MAX).saturating_add(1);
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "error: cannot read `{}` at line {number}: {e}",
                    input.display()
                );
                return ExitCode::Usage;
            }
        };
        let outcome = batch_line(engine, &line, explain);
        let outcome = match outcome {
            Outcome::Failure(mut f) => {
                failed = true;
                f.line = Some(number);
                Outcome::Failure(f)
            }
            d => d,
        };
        if let Err(e) = out.write_all(json_line(&outcome).as_bytes()) {
            return write_failed(&e);
        }
    }
    if let Err(e) = out.flush() {
        return write_failed(&e);
    }
    if failed {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    }
}

fn batch_line(engine: &Engine, line: &[u8], explain: bool) -> Outcome {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let syntax = |message: &str| {
        Outcome::Failure(Failure {
            request_id: None,
            line: None,
            error: ErrorBody {
                code: "rpl::request::syntax".into(),
                path: String::new(),
                message: message.into(),
                help: Some("a batch holds one JSON request per line".into()),
            },
            trace: None,
        })
    };
    match std::str::from_utf8(line) {
        Err(_) => syntax("the line is not valid UTF-8"),
        Ok(text) if text.trim().is_empty() => syntax("empty line"),
        Ok(text) => engine.evaluate_json(text, explain),
    }
}
