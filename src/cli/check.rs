//! `rpl check`: every problem in a policy directory, at once.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use super::{DiagFormat, ExitCode, cannot_read, policy_dir, stderr_color, term_width};
use crate::check;
use crate::report::diagnostics::{record, render_github, render_human};
use crate::report::escape::json_pretty;
use crate::report::plural;
use crate::report::sarif::{SarifResult, sarif_log};

#[derive(Args, Debug)]
#[command(after_help = concat!(
    "Examples:
  rpl check                                  the policy directory, found as below
  rpl check policies/official_mall.rpl       one file, checked with its directory
  rpl check --format json                    one JSON array of diagnostics on stdout
  rpl check --format github --deny-warnings  annotations in a CI job; warnings fail too

Once the policies check without error, each is also analysed over every
request its channel can receive: rules no request reaches
(unreachable_rule), conditions never or always true (always_false,
always_true), requests no rule decides (no_fallback, an error) and windows
past the calendar (past_calendar), each shown with a witness request.
Only what the analysis proves is reported.

Exit codes:
  0  no errors (warnings are allowed unless --deny-warnings)
  1  errors in the policies (or warnings, with --deny-warnings)
  2  nothing could be checked: a path or the policy directory not found or
     unreadable, no schema.toml, no policy files

",
    super::policies_help!(),
))]
pub struct CheckArgs {
    /// Policy files or directories [default: the policy directory, found as
    /// below]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: DiagFormat,
    /// Exit with 1 when there are warnings, not only errors
    #[arg(long)]
    pub deny_warnings: bool,
}

pub fn run(args: CheckArgs) -> ExitCode {
    let checked = if args.paths.is_empty() {
        match policy_dir(None) {
            Ok(dir) => crate::load::check_paths(&[dir]),
            Err(e) => check::Checked::failed(vec![Box::new(e)]),
        }
    } else {
        crate::load::check_paths(&args.paths)
    };
    let diags = &checked.diagnostics;
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        DiagFormat::Json => {
            let records: Vec<_> = diags.iter().map(|d| record(d.as_ref())).collect();
            json_pretty(&mut stdout, &records).map_err(std::io::Error::from)
        }
        DiagFormat::Sarif => {
            let results = diags
                .iter()
                .map(|d| SarifResult::from_diagnostic(d.as_ref()));
            json_pretty(&mut stdout, &sarif_log(results)).map_err(std::io::Error::from)
        }
        DiagFormat::Github => diags
            .iter()
            .try_for_each(|d| writeln!(stdout, "{}", render_github(d.as_ref()))),
        DiagFormat::Human => {
            let color = stderr_color();
            let mut stderr = std::io::stderr().lock();
            let errors = diags.iter().filter(|d| check::is_error(d.as_ref())).count();
            let warnings = diags.len() - errors;
            diags
                .iter()
                .try_for_each(|d| {
                    write!(stderr, "{}", render_human(d.as_ref(), color, term_width()))
                })
                .and_then(|()| {
                    // Said, not reported: nothing to fix, but a silent
                    // check should not read as a proof it is not.
                    if !checked.notes.is_empty() {
                        writeln!(
                            stderr,
                            "note: the analysis could only sample {}, so no lint rests on {}:",
                            plural(checked.notes.len(), "test"),
                            if checked.notes.len() == 1 {
                                "it"
                            } else {
                                "them"
                            }
                        )?;
                        for n in &checked.notes {
                            writeln!(stderr, "  {}", crate::report::escape::visible(n))?;
                        }
                    }
                    let files = checked
                        .sources
                        .iter()
                        .filter(|(_, f)| f.name.ends_with(".rpl"))
                        .count();
                    if errors + warnings == 0 {
                        writeln!(
                            stderr,
                            "checked {}: no problems",
                            plural(files, "policy file")
                        )
                    } else {
                        writeln!(
                            stderr,
                            "checked {}: {}, {}",
                            plural(files, "policy file"),
                            plural(errors, "error"),
                            plural(warnings, "warning")
                        )
                    }
                })
        }
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return ExitCode::Usage;
    }
    // What kept the check from reading what it was asked to is an I/O
    // error (2); a problem in the directory's files (a symlink out of it,
    // a FIFO, a file in GBK) is one the author fixes like any other (1).
    let io_failure = diags.iter().any(|d| cannot_read(d.as_ref()));
    let code = if io_failure {
        ExitCode::Usage
    } else if checked.has_errors() || (args.deny_warnings && !diags.is_empty()) {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    };
    // The process ends here: freeing millions of tree nodes one by one
    // would take a quarter of the time the check took (rustc skips it too).
    std::mem::forget(checked);
    code
}
