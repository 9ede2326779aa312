//! The `rpl` command line: flags are parsed here and handed to one module
//! per subcommand. The library does the work; this layer reads files,
//! picks renderers and maps results to exit codes.

mod check;
mod eval;
mod fmt;
mod input;
mod output;

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes shared by every subcommand (see the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Clean: everything checked or evaluated.
    Ok = 0,
    /// The input had problems: errors in policies, a request with an error.
    Failure = 1,
    /// Usage or I/O error: the command could not do its job.
    Usage = 2,
}

#[derive(Parser, Debug)]
#[command(
    name = "rpl",
    version,
    about = "RPL, the Refund Policy Language: check policies, evaluate refund requests"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and check policy files against the schema
    Check(check::CheckArgs),
    /// Evaluate refund requests: a decision (or error) for each
    Eval(eval::EvalArgs),
    /// Show every rule considered for one request, with the values tested
    Explain(eval::ExplainArgs),
    /// Print policy files in the canonical layout, check or rewrite them
    Fmt(fmt::FmtArgs),
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagFormat {
    /// Readable diagnostics with source snippets (colour on a terminal)
    Human,
    /// One JSON array of diagnostics on stdout
    Json,
    /// GitHub Actions workflow annotations on stdout
    Github,
}

/// Whether stderr gets colour: only on a terminal, never with `NO_COLOR`.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Width for rendering diagnostics: `$COLUMNS` when set, else 100.
pub fn term_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Eval(args) => eval::run_eval(args),
        Command::Explain(args) => eval::run_explain(args),
        Command::Fmt(args) => fmt::run(args),
    }
}

/// Whether a diagnostic says the paths given could not be read as a policy
/// directory at all (missing, no `schema.toml`, no policy file): an I/O or
/// usage error, not a mistake in a policy.
pub fn cannot_read(d: &(dyn miette::Diagnostic + Send + Sync)) -> bool {
    const CODES: [&str; 5] = [
        "rpl::load::io",
        "rpl::load::no_schema",
        "rpl::load::not_a_policy_file",
        "rpl::load::not_in_directory",
        "rpl::load::no_policies",
    ];
    let code = d.code().map(|c| c.to_string()).unwrap_or_default();
    crate::check::is_error(d) && CODES.contains(&code.as_str())
}

/// The default policy directory when none is given.
pub fn default_policies() -> PathBuf {
    PathBuf::from("policies")
}
