//! `rpl fmt`: policy files in the canonical layout (`crate::fmt`).

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::output::Output;
use super::{ExitCode, cannot_read, policy_dir, stderr_color, term_width};
use crate::check::is_error;
use crate::load::{self, LoadError, MAX_FILE_SIZE, io_reason};
use crate::report::diagnostics::render_human;
use crate::report::escape::{visible, visible_lines};
use crate::source::{SourceFile, Unreadable, bad_utf8};

#[derive(Args, Debug)]
#[command(after_help = concat!(
    "Examples:
  rpl fmt policies/common.rpl          print the file formatted
  rpl fmt --check                      diff of every file of the policy directory that would change
  rpl fmt --write policies/            rewrite the files that change
  rpl fmt - < common.rpl               format stdin to stdout (for editors)

Without --check or --write, one file (or `-`) is printed formatted on
stdout; a directory or several files need --check or --write.
A file with a syntax error is reported and left as it is; the others are
still formatted.

Exit codes:
  0  every file is formatted (--check), or was formatted
  1  a file would change (--check), or a file has a syntax error
  2  usage or I/O error (a path that cannot be read or written)

",
    super::policies_help!(),
))]
pub struct FmtArgs {
    /// Policy files or directories (every `.rpl` file under them); `-`
    /// reads stdin [default: the policy directory, found as below]
    pub paths: Vec<PathBuf>,
    /// Write nothing: print a diff for every file that would change, and
    /// exit with 1 if one would
    #[arg(long, conflicts_with = "write")]
    pub check: bool,
    /// Rewrite the files that change, in place (listed on stderr)
    #[arg(long)]
    pub write: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Print,
    Check,
    Write,
}

/// A file to format: how it is shown, where it is written back (`None`:
/// stdin), and its text or why it was not read.
struct Job {
    name: String,
    disk: Option<PathBuf>,
    text: Result<Arc<str>, LoadError>,
}

pub fn run(args: FmtArgs) -> ExitCode {
    let mode = match (args.check, args.write) {
        (true, _) => Mode::Check,
        (_, true) => Mode::Write,
        _ => Mode::Print,
    };
    let paths = if args.paths.is_empty() {
        match policy_dir(None) {
            Ok(dir) => vec![dir],
            Err(e) => {
                eprint!("{}", render_human(&e, stderr_color(), term_width()));
                return ExitCode::Usage;
            }
        }
    } else {
        args.paths
    };
    if mode == Mode::Print
        && (paths.len() > 1 || paths.iter().any(|p| p.as_os_str() != "-" && p.is_dir()))
    {
        eprintln!(
            "error: a directory or several files need `--check` (show what would change) \
             or `--write` (rewrite them); without either, `rpl fmt` prints one file"
        );
        return ExitCode::Usage;
    }
    let mut run = Run {
        mode,
        color: stderr_color(),
        code: ExitCode::Ok,
        changed: 0,
    };
    for path in &paths {
        for job in jobs(path) {
            run.job(job);
        }
    }
    if mode == Mode::Check && run.changed > 0 {
        let files = if run.changed == 1 { "file" } else { "files" };
        eprintln!(
            "{} {files} would be reformatted: run `rpl fmt --write`",
            run.changed
        );
    }
    run.code
}

/// The files a path stands for.
fn jobs(path: &Path) -> Vec<Job> {
    if path.as_os_str() == "-" {
        return vec![Job {
            name: "<stdin>".into(),
            disk: None,
            text: read_stdin(),
        }];
    }
    let name = path.display().to_string();
    if !path.is_dir() {
        let text = if path.extension().is_some_and(|e| e == "rpl") || !path.is_file() {
            load::read_file(path)
        } else {
            // The schema or a calendar would be read as a policy and fail
            // with a baffling syntax error.
            Err(LoadError::NotPolicyFile { path: name.clone() })
        };
        return vec![Job {
            name,
            disk: Some(path.to_path_buf()),
            text,
        }];
    }
    // A folder is read by the loader, by its rules: names starting with
    // `.` skipped, symlinks followed only inside it, special files never
    // opened.
    let sources = match load::read_dir(path) {
        Ok(s) => s,
        Err(e) => {
            return vec![Job {
                name,
                disk: None,
                text: Err(e),
            }];
        }
    };
    // Named relative to the working directory when inside it, as `rpl
    // check` names them: a found policy directory is an absolute path.
    let shown = |rel: &str| load::shown(&path.join(rel));
    let mut jobs: Vec<Job> = sources
        .problems()
        .iter()
        .map(|(rel, why)| Job {
            name: shown(rel),
            disk: None,
            text: Err(LoadError::unreadable(shown(rel), why)),
        })
        .collect();
    for rel in sources.policy_files() {
        let text = match sources.get(&rel) {
            Some(crate::source::Entry::Text(t)) => Ok(Arc::clone(t)),
            Some(crate::source::Entry::Unreadable(why)) => {
                Err(LoadError::unreadable(shown(&rel), why))
            }
            None => continue,
        };
        jobs.push(Job {
            name: shown(&rel),
            disk: Some(path.join(&rel)),
            text,
        });
    }
    jobs
}

/// Stdin, by the rules of a policy file: at most [`MAX_FILE_SIZE`], UTF-8.
fn read_stdin() -> Result<Arc<str>, LoadError> {
    let name = "<stdin>".to_owned();
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin()
        .lock()
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
    {
        return Err(LoadError::Io {
            path: name,
            reason: io_reason(&e),
        });
    }
    if bytes.len() as u64 > MAX_FILE_SIZE {
        let why = Unreadable::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_FILE_SIZE,
        };
        return Err(LoadError::unreadable(name, &why));
    }
    String::from_utf8(bytes).map(Arc::from).map_err(|e| {
        let (offset, byte) = bad_utf8(e.as_bytes(), e.utf8_error());
        let text = Arc::from(String::from_utf8_lossy(e.as_bytes()).into_owned());
        LoadError::unreadable(name, &Unreadable::NotUtf8 { offset, byte, text })
    })
}

struct Run {
    mode: Mode,
    color: bool,
    code: ExitCode,
    /// Files that would change (`--check`).
    changed: usize,
}

impl Run {
    fn fail(&mut self, code: ExitCode) {
        if code as u8 > self.code as u8 {
            self.code = code;
        }
    }

    fn report(&mut self, d: &(dyn miette::Diagnostic + Send + Sync)) {
        eprint!("{}", render_human(d, self.color, term_width()));
        if cannot_read(d) {
            self.fail(ExitCode::Usage);
        } else if is_error(d) {
            self.fail(ExitCode::Failure);
        }
    }

    fn job(&mut self, job: Job) {
        let text = match job.text {
            Ok(t) => t,
            Err(e) => return self.report(&e),
        };
        let path = job.disk.clone().unwrap_or_else(|| PathBuf::from("-"));
        let source = SourceFile::new(path, job.name.clone(), Arc::clone(&text));
        let formatted = match crate::fmt::format(&source) {
            Ok(f) => f,
            Err(e) => return self.report(e.as_ref()),
        };
        let written = match (self.mode, &job.disk) {
            (Mode::Print, _) | (Mode::Write, None) => print(&formatted),
            (Mode::Check, _) if formatted != *text => {
                self.changed += 1;
                self.fail(ExitCode::Failure);
                print(&diff(&job.name, &text, &formatted))
            }
            (Mode::Write, Some(disk)) if formatted != *text => {
                match rewrite(disk, &formatted) {
                    Ok(()) => eprintln!("formatted {}", visible(&job.name)),
                    Err(message) => {
                        eprintln!("error: {}", visible(&message));
                        self.fail(ExitCode::Usage);
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = written
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            eprintln!("error: cannot write the output: {}", io_reason(&e));
            self.fail(ExitCode::Usage);
        }
    }
}

/// Text for stdout: exact for a pipe or a file (an editor reads it back),
/// with unsafe characters made visible on a terminal.
fn print(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    if stdout.is_terminal() {
        stdout.write_all(visible_lines(text).as_bytes())?;
    } else {
        stdout.write_all(text.as_bytes())?;
    }
    stdout.flush()
}

/// A unified diff from `old` to `new`, with `a/` and `b/` headers as
/// `git diff` writes them, which `patch -p1` applies.
fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// Replaces the file at `path` by `text`, atomically and keeping its
/// permissions.
fn rewrite(path: &Path, text: &str) -> Result<(), String> {
    let mut out = Output::file(path, &[])?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.commit())
        .map_err(|e| format!("cannot write `{}`: {}", path.display(), io_reason(&e)))
}
