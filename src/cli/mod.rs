//! The `rpl` command line: flags are parsed here and handed to one module
//! per subcommand. The library does the work; this layer reads files,
//! picks renderers and maps results to exit codes.

mod check;
mod completions;
mod compress;
mod diff;
mod eval;
mod fmt;
mod generate;
mod input;
mod man;
mod output;
mod progress;
mod test;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

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
    /// Run the policy test cases (tests/*.toml); coverage and mutation testing
    Test(test::TestArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(completions::CompletionsArgs),
    /// Print a manual page (roff): rpl's, or a subcommand's
    Man(man::ManArgs),
    /// Print policy files in the canonical layout, check or rewrite them
    Fmt(fmt::FmtArgs),
    /// What two versions of the policies decide differently, with a request for each change
    Diff(diff::DiffArgs),
    /// Write realistic requests as JSON Lines, for benchmarks and demos
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagFormat {
    /// Readable diagnostics with source snippets (colour on a terminal)
    Human,
    /// One JSON array of diagnostics on stdout
    Json,
    /// GitHub Actions workflow annotations on stdout
    Github,
    /// One SARIF 2.1.0 log on stdout, for code scanning
    Sarif,
}

/// Whether stderr gets colour: only on a terminal, never with `NO_COLOR`.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Whether stdout gets colour: only on a terminal, never with `NO_COLOR`.
pub fn stdout_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
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
        Command::Test(args) => test::run(args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
        Command::Fmt(args) => fmt::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Generate(args) => generate::run(args),
    }
}

/// Writes generated text (a script, a page) to stdout; a closed pipe ends
/// quietly, as ripgrep's does.
fn write_stdout(bytes: &[u8]) -> ExitCode {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::Ok,
        Err(e) => {
            eprintln!(
                "error: cannot write the output: {}",
                crate::load::io_reason(&e)
            );
            ExitCode::Usage
        }
    }
}

/// Whether a diagnostic says the paths given could not be read as a policy
/// directory at all (missing, no `schema.toml`, no policy file): an I/O or
/// usage error, not a mistake in a policy.
pub fn cannot_read(d: &(dyn miette::Diagnostic + Send + Sync)) -> bool {
    const CODES: [&str; 6] = [
        "rpl::load::io",
        "rpl::load::no_schema",
        "rpl::load::no_policy_directory",
        "rpl::load::not_a_policy_file",
        "rpl::load::not_in_directory",
        "rpl::load::no_policies",
    ];
    let code = d.code().map(|c| c.to_string()).unwrap_or_default();
    crate::check::is_error(d) && CODES.contains(&code.as_str())
}

/// The environment variable naming the policy directory when a command
/// is given none.
pub const POLICIES_ENV: &str = "RPL_POLICIES";

/// The policy directory a command works on, found the same way by every
/// subcommand: the one `given` (a path, `--policies DIR`) wins, else
/// `$RPL_POLICIES`, else the nearest folder, from the working directory
/// up, that holds `schema.toml` or `policies/schema.toml`
/// ([`crate::load::search_up`]). The help texts say this once, in
/// `policies_help!`.
pub fn policy_dir(given: Option<&Path>) -> Result<PathBuf, crate::load::LoadError> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    // An empty variable is unset, as `NO_COLOR` reads it.
    if let Some(dir) = std::env::var_os(POLICIES_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let cwd = std::env::current_dir().map_err(|e| crate::load::LoadError::Io {
        path: ".".into(),
        reason: crate::load::io_reason(&e),
    })?;
    crate::load::search_up(&cwd)
}

/// How [`policy_dir`] finds the policy directory, for the `--help` of
/// each subcommand (a macro, so `concat!` can put it in a help text).
macro_rules! policies_help {
    () => {
        "Finding the policy directory (the folder holding schema.toml):
  1. the one given on the command line, else
  2. the environment variable RPL_POLICIES, else
  3. the nearest folder, from the working directory up, that holds
     schema.toml or policies/schema.toml: so it works from the project's
     root, from inside policies/, and from any folder below the root."
    };
}
use policies_help;
