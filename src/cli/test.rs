//! `rpl test`: run the policy test cases beside the policies, measure what
//! they exercise (`--coverage`) and how well they catch changes
//! (`--mutate`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::eval::engine;
use super::input::{DEFAULT_MAX_REQUEST, parse_size, read_bounded};
use super::{ExitCode, policy_dir, stderr_color, term_width};
use crate::eval::coverage::Hits;
use crate::load::{MAX_FILE_SIZE, find_root, io_reason};
use crate::report::diagnostics::render_human;
use crate::report::escape::json_pretty;
use crate::report::testrun;
use crate::source::bad_utf8;
use crate::testing::{
    self, CaseRequest, CaseResult, FileRun, Input, RunReport, Suite, SuiteError, coverage, mutate,
};

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestFormat {
    /// Failures with a diff and the trace, then a summary
    Human,
    /// One JSON object: every case, diagnostics, coverage, mutants
    Json,
    /// JUnit XML, for CI test reports
    Junit,
    /// SARIF 2.1.0, for code scanning: failing cases, gaps, surviving mutants
    Sarif,
}

#[derive(Args, Debug)]
#[command(after_help = concat!(
    "Examples:
  rpl test                                  run tests/ of the policy directory
  rpl test policies/                        the same, naming the policy directory
  rpl test policies/tests/official_mall.toml --filter window
  rpl test --coverage --min-coverage 100    fail when a rule or condition goes untested
  rpl test --mutate                         change the policies step by step; list the changes no case notices
  rpl test --format junit > results.xml
  rpl test --format sarif > rpl-test.sarif

A test file holds [[case]] tables: a `name`, a `request` (a request file
relative to the test file, or a [case.request] table merged over the file's
[base]), an optional `unset` list, and [case.expect] with any of decision,
rule, amount, currency, route, installments, return_shipping, settlement,
documents, offers, message, policy, policy_version, or error and error_path.

Exit codes:
  0  every case passed (and coverage met the minimum, no mutant survived)
  1  a case failed, a test file has a mistake, coverage is below the
     minimum, or a mutant survived
  2  the policies or the test files could not be read

The policy directory is the one --policies names, else the one holding the
first PATH, else the one found as for the other commands:
",
    super::policies_help!(),
))]
pub struct TestArgs {
    /// Test files (`.toml`) or folders holding them; a policy directory
    /// stands for its `tests/` [default: tests/ in the policy directory]
    pub paths: Vec<PathBuf>,
    /// Policy directory [default: the one holding the first PATH, else found as below]
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Run only the cases whose name contains this text
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: TestFormat,
    /// Report the rules, conditions and arms no case exercised
    #[arg(long)]
    pub coverage: bool,
    /// Fail when coverage is below PERCENT (implies --coverage)
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub min_coverage: Option<f64>,
    /// Mutation testing: change the policies one small step at a time and
    /// report every change no case notices
    #[arg(long)]
    pub mutate: bool,
    /// The largest request file read
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MAX_REQUEST, value_parser = parse_size)]
    pub max_request_size: u64,
}

fn parse_percent(text: &str) -> Result<f64, String> {
    let p: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| "expected a percentage, such as `100` or `95.5`".to_owned())?;
    if (0.0..=100.0).contains(&p) {
        Ok(p)
    } else {
        Err("a percentage is between 0 and 100".to_owned())
    }
}

const NAME_THEM: &str = "name test files (`.toml`) or folders holding them; by default `tests/` in the policy directory";

/// A test file read, with each case's request ready to decide.
struct Loaded {
    path: PathBuf,
    /// Found in a folder, not named on the command line.
    walked: bool,
    suite: Suite,
    errors: Vec<SuiteError>,
    inputs: Vec<Input>,
    /// The request files its cases name.
    request_files: Vec<PathBuf>,
}

pub fn run(args: TestArgs) -> ExitCode {
    let given = args
        .policies
        .clone()
        .or_else(|| args.paths.first().and_then(|p| find_root(p)));
    let policies = match policy_dir(given.as_deref()) {
        Ok(dir) => dir,
        Err(e) => {
            eprint!("{}", render_human(&e, stderr_color(), term_width()));
            return ExitCode::Usage;
        }
    };
    let engine = match engine(Some(&policies), "no case was run") {
        Ok(e) => e,
        Err(code) => return code,
    };
    // A policy directory named as a path stands for its tests, as
    // `rpl check policies/` and `rpl fmt policies/` name the policies.
    let searched: Vec<PathBuf> = if args.paths.is_empty() {
        vec![policies.join("tests")]
    } else {
        args.paths
            .iter()
            .map(|p| {
                if p.join("schema.toml").is_file() {
                    p.join("tests")
                } else {
                    p.clone()
                }
            })
            .collect()
    };
    let loaded = match read_suites(&searched, &policies, args.max_request_size) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let selected = |name: &str| args.filter.as_deref().is_none_or(|f| name.contains(f));
    let total: usize = loaded.iter().map(|l| l.suite.cases.len()).sum();
    let runnable: usize = loaded
        .iter()
        .flat_map(|l| &l.suite.cases)
        .filter(|c| selected(&c.name))
        .count();
    if runnable == 0 && loaded.iter().all(|l| l.errors.is_empty()) {
        let searched: Vec<String> = searched
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect();
        let (what, help) = if total > 0 {
            (
                format!("{} (none matches the filter)", searched.join(", ")),
                "`--filter TEXT` runs the cases whose name contains TEXT; check its spelling",
            )
        } else {
            (
                searched.join(", "),
                "write test cases in `tests/*.toml` inside the policy directory: `[[case]]` tables with `name`, `request` and `[case.expect]` (see `rpl test --help`)",
            )
        };
        render_errors(&[SuiteError::NoTests {
            searched: what,
            help,
        }]);
        return ExitCode::Failure;
    }

    let measure = args.coverage || args.min_coverage.is_some();
    let mut hits = measure.then(|| Hits::new(engine.compiled()));
    let mut report = RunReport {
        files: Vec::new(),
        filtered_out: total - runnable,
    };
    let mut cases_run = Vec::new();
    for l in loaded {
        let mut cases = Vec::new();
        for (case, input) in l.suite.cases.iter().zip(&l.inputs) {
            if !selected(&case.name) {
                continue;
            }
            let outcome = testing::decide(&engine, input, hits.as_mut());
            let (line, _) = l.suite.source.line_col(case.span.start);
            cases.push(CaseResult {
                name: case.name.clone(),
                line,
                run: testing::compare(case, outcome),
            });
            cases_run.push((case.clone(), input.clone()));
        }
        report.files.push(FileRun {
            name: l.suite.source.name().to_owned(),
            errors: l.errors,
            cases,
        });
    }
    let coverage = hits.map(|h| coverage::measure(engine.compiled(), &h));
    // Mutants are judged by the cases: with a failing case or a broken
    // test file, every mutant would look killed or survived for the wrong
    // reason.
    let mutate = args.mutate && report.ok();
    if args.mutate && !mutate {
        eprintln!(
            "mutation testing skipped: it needs every case to pass and every test file to read"
        );
    }
    let mutants = if mutate {
        match crate::load::read_dir(&policies) {
            Ok(sources) => Some(mutate::run(&sources, &cases_run)),
            Err(e) => {
                eprint!("{}", render_human(&e, stderr_color(), term_width()));
                return ExitCode::Usage;
            }
        }
    } else {
        None
    };

    let below = match (&coverage, args.min_coverage) {
        (Some(c), Some(min)) => (c.percent() < min).then_some(min),
        _ => None,
    };
    let survivors = mutants
        .as_ref()
        .is_some_and(|m| m.survivors().next().is_some());
    let mut stdout = std::io::stdout().lock();
    let errors: Vec<&SuiteError> = report.files.iter().flat_map(|f| &f.errors).collect();
    let written = match args.format {
        TestFormat::Human => {
            render_errors(&errors);
            let color = super::stdout_color();
            stdout.write_all(
                testrun::human(&report, coverage.as_ref(), below, mutants.as_ref(), color)
                    .as_bytes(),
            )
        }
        TestFormat::Json => stdout.write_all(
            testrun::json(
                &report,
                coverage.as_ref(),
                args.min_coverage,
                mutants.as_ref(),
            )
            .as_bytes(),
        ),
        TestFormat::Junit => stdout.write_all(testrun::junit(&report).as_bytes()),
        TestFormat::Sarif => {
            let log = testrun::sarif(&report, coverage.as_ref(), below, mutants.as_ref());
            json_pretty(&mut stdout, &log).map_err(std::io::Error::from)
        }
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the output: {}", io_reason(&e));
        return ExitCode::Usage;
    }
    if report.ok() && below.is_none() && !survivors {
        ExitCode::Ok
    } else {
        ExitCode::Failure
    }
}

/// Every test file under `searched`, read with its cases' requests; a
/// request file kept beside the tests is not read as a test file.
fn read_suites(searched: &[PathBuf], policies: &Path, limit: u64) -> Result<Vec<Loaded>, ExitCode> {
    let files = match test_files(searched) {
        Ok(f) => f,
        Err(e) => {
            render_errors(&[*e]);
            return Err(ExitCode::Usage);
        }
    };
    // Request files are read inside the project (the policy directory's
    // folder): a test file from a pull request must not make CI print
    // `/proc/self/environ` back in an error.
    let project = policies
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| policies.to_path_buf());
    let mut loaded = Vec::new();
    for (path, walked) in &files {
        match load(path, *walked, &project, limit) {
            Ok(l) => loaded.push(l),
            Err(e) => {
                render_errors(&[*e]);
                return Err(ExitCode::Usage);
            }
        }
    }
    // A TOML request file kept beside the tests is a case's request, not
    // a test file: a walked file without `[[case]]` that some case names as
    // its request is left out, and said so. (A file named on the command
    // line is always a test file, and so is one that has cases.)
    let requests: Vec<PathBuf> = loaded
        .iter()
        .flat_map(|l| &l.request_files)
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    loaded.retain(|l| {
        let a_request = l.walked
            && !l.suite.declares_cases
            && l.path.canonicalize().is_ok_and(|p| requests.contains(&p));
        if a_request {
            eprintln!(
                "note: `{}` is a case's request, not read as a test file",
                crate::report::escape::visible(l.suite.source.name())
            );
        }
        !a_request
    });
    Ok(loaded)
}

fn render_errors<E: std::borrow::Borrow<SuiteError>>(errors: &[E]) {
    let mut stderr = std::io::stderr().lock();
    for e in errors {
        let _ = write!(
            stderr,
            "{}",
            render_human(e.borrow(), stderr_color(), term_width())
        );
    }
}

/// Every test file under `paths`: a file as named, a folder's `.toml`
/// files at any depth, in name order. Hidden names are skipped, and so are
/// symlinks (no cycle can be walked, no file outside read unnamed).
fn test_files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, Box<SuiteError>> {
    let io = |path: &Path, e: std::io::Error| {
        Box::new(SuiteError::Io {
            path: path.display().to_string(),
            reason: io_reason(&e),
            help: NAME_THEM,
        })
    };
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
        if !meta.is_dir() {
            out.push((path.clone(), false));
            continue;
        }
        let mut stack = vec![path.clone()];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| io(&dir, e))?;
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with('.') {
                    continue;
                }
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    stack.push(entry.path());
                } else if kind.is_file() && name.ends_with(".toml") {
                    found.push(entry.path());
                }
            }
        }
        found.sort();
        out.extend(found.into_iter().map(|f| (f, true)));
    }
    Ok(out)
}

/// Reads and parses one test file, and reads the request files its cases
/// name.
fn load(path: &Path, walked: bool, project: &Path, limit: u64) -> Result<Loaded, Box<SuiteError>> {
    let shown = crate::load::shown(path);
    let io = |reason: String, help: &'static str| {
        Box::new(SuiteError::Io {
            path: shown.clone(),
            reason,
            help,
        })
    };
    const NAME_THEM: &str = "name test files (`.toml`) or folders holding them; by default `tests/` in the policy directory";
    let bytes = std::fs::File::open(path)
        .and_then(|f| read_bounded(f, MAX_FILE_SIZE))
        .map_err(|e| io(io_reason(&e), NAME_THEM))?
        .ok_or_else(|| {
            let limit = crate::load::show_size(MAX_FILE_SIZE);
            io(
                format!("larger than {limit}"),
                "split the cases over several test files",
            )
        })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (at, byte) = bad_utf8(e.as_bytes(), e.utf8_error());
        io(
            format!("not UTF-8 (byte 0x{byte:02x} at offset {at})"),
            "save the test file as UTF-8 (a file saved as GBK is the common case)",
        )
    })?;
    let (suite, errors) = testing::parse(&shown, &text);
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut request_files = Vec::new();
    let inputs = suite
        .cases
        .iter()
        .map(|case| match &case.request {
            CaseRequest::Inline(json) => Input::Inline(json.clone()),
            CaseRequest::File { path, .. } => {
                // Named as the test file is: relative to the working
                // directory when inside it, so an error's path is the same
                // on every machine.
                let file = folder.join(path);
                let input = match read_case_request(&file, project, limit) {
                    Ok((text, toml)) => Input::Text { text, toml },
                    Err(e) => Input::Unreadable(e),
                };
                request_files.push(file);
                input
            }
        })
        .collect();
    Ok(Loaded {
        path: path.to_path_buf(),
        walked,
        suite,
        errors,
        inputs,
        request_files,
    })
}

/// A case's request file: inside `project`, a regular file opened without
/// blocking (never stdin, a FIFO or a device), at most `limit` bytes; TOML
/// by its extension. Errors name it relative to the working directory, so
/// an `error_path` reads the same on every machine.
fn read_case_request(
    file: &Path,
    project: &Path,
    limit: u64,
) -> Result<(String, bool), crate::request::RequestError> {
    use crate::request::RequestError;
    let shown = crate::load::shown(file);
    let io = |message: String, help: &str| RequestError::Io {
        message,
        help: Some(help.to_owned()),
        path: shown.clone(),
    };
    let real = file.canonicalize().map_err(|e| {
        io(
            format!("cannot read the request file: {}", io_reason(&e)),
            "check that the path names a readable request file, relative to the test file",
        )
    })?;
    if !real.starts_with(project) {
        return Err(io(
            format!(
                "the request file is outside the project `{}`",
                crate::load::shown(project)
            ),
            "a test reads requests inside the folder that holds the policy directory; keep them there, e.g. in `examples/`",
        ));
    }
    let text = crate::load::read_file(&real).map_err(|e| {
        io(
            format!("cannot read the request file: {e}"),
            "name a regular UTF-8 file of the project",
        )
    })?;
    if text.len() as u64 > limit {
        return Err(super::input::too_large("the request file", shown, limit));
    }
    let toml = real
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    Ok((text.to_string(), toml))
}
