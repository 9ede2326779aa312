//! `rpl test` results: for people (each failure with a diff and the trace
//! of the rules that decided), as one JSON object, and as JUnit XML.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::decision::{self, rule_text};
use super::diagnostics::record;
use super::escape::visible as v;
use super::plural;
use super::sarif::{SarifLevel, SarifLocation, SarifResult, sarif_log};
use crate::engine::Outcome;
use crate::eval::RuleTrace;
use crate::testing::coverage::Coverage;
use crate::testing::mutate::{MutationReport, Status};
use crate::testing::{CaseResult, Field, FileRun, RunReport};

const RED: &str = "\u{1b}[1;31m";
const GREEN: &str = "\u{1b}[1;32m";
const RESET: &str = "\u{1b}[0m";

fn paint(text: &str, colour: &str, color: bool) -> String {
    if color {
        format!("{colour}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

/// The report for people: every failing case, then the summary, coverage
/// and surviving mutants. `below` is the minimum coverage missed.
pub fn human(
    report: &RunReport,
    coverage: Option<&Coverage>,
    below: Option<f64>,
    mutants: Option<&MutationReport>,
    color: bool,
) -> String {
    let mut s = String::new();
    for (file, case) in report.cases() {
        if !case.run.passed() {
            failure(&mut s, file, case, color);
        }
    }
    let (passed, failed, errors) = (report.passed(), report.failed(), report.errors());
    let verdict = if report.ok() {
        paint("ok", GREEN, color)
    } else {
        paint("FAILED", RED, color)
    };
    let _ = write!(
        s,
        "test result: {verdict}. {passed} passed; {failed} failed; {} filtered out; {}",
        report.filtered_out,
        plural(report.files.len(), "file")
    );
    if errors > 0 {
        let _ = write!(s, "; {} in test files", plural(errors, "mistake"));
    }
    s.push('\n');
    if let Some(c) = coverage {
        coverage_text(&mut s, c, below, color);
    }
    if let Some(m) = mutants {
        mutants_text(&mut s, m, color);
    }
    s
}

fn failure(s: &mut String, file: &FileRun, case: &CaseResult, color: bool) {
    let _ = writeln!(
        s,
        "{} {}:{}  {}",
        paint("FAIL", RED, color),
        v(&file.name),
        case.line,
        v(&case.name)
    );
    let width = case
        .run
        .mismatches
        .iter()
        .map(|m| m.field.key().len())
        .max()
        .unwrap_or(0);
    for m in &case.run.mismatches {
        let _ = writeln!(
            s,
            "  {:width$}  expected  {}",
            m.field.key(),
            v(&m.expected)
        );
        let _ = writeln!(s, "  {:width$}  actual    {}", "", v(&m.actual));
    }
    let got = decision::summary(&case.run.outcome.clone().without_trace());
    let mut lines = got.lines();
    if let Some(first) = lines.next() {
        let _ = writeln!(s, "  got: {first}");
    }
    for line in lines {
        let _ = writeln!(s, "    {line}");
    }
    let why = deciding_rules(case);
    if !why.is_empty() {
        let _ = writeln!(s, "  why:");
        for r in why {
            for line in rule_text(r).lines() {
                let _ = writeln!(s, "    {line}");
            }
        }
    }
    s.push('\n');
}

/// The rules that decided (the rule, the `after` or `reject` that
/// applied), and the rule the case expected, if it was tried and did not
/// apply: why the outcome is what it is.
fn deciding_rules(case: &CaseResult) -> Vec<&RuleTrace> {
    let trace = match &case.run.outcome {
        Outcome::Decision(d) => d.trace.as_deref(),
        Outcome::Failure(f) => f.trace.as_deref(),
    }
    .unwrap_or_default();
    let expected_rule = case
        .run
        .mismatches
        .iter()
        .find(|m| m.field == Field::Rule)
        .map(|m| m.expected.as_str());
    trace
        .iter()
        .filter(|r| r.matched || Some(&*r.name) == expected_rule)
        .collect()
}

fn coverage_text(s: &mut String, c: &Coverage, below: Option<f64>, color: bool) {
    let _ = writeln!(
        s,
        "\ncoverage: {:.1}% ({} of {} rules, conditions and arms exercised)",
        c.percent(),
        c.covered(),
        c.items()
    );
    for p in &c.policies {
        let _ = writeln!(
            s,
            "  {}  {:.1}% ({} of {})",
            v(&p.policy),
            p.percent(),
            p.covered,
            p.items
        );
        for g in &p.gaps {
            let _ = writeln!(
                s,
                "    {}  {}: `{}` ({})",
                v(&g.location),
                g.missed.describe(),
                v(&g.text),
                v(&g.context)
            );
        }
    }
    if let Some(min) = below {
        let _ = writeln!(
            s,
            "{}: coverage {:.1}% is below the minimum of {min}%",
            paint("error", RED, color),
            c.percent()
        );
    }
}

fn mutants_text(s: &mut String, m: &MutationReport, color: bool) {
    let survived = m.survivors().count();
    let _ = writeln!(
        s,
        "\nmutation testing: {} mutants, {} killed, {} survived ({} equivalent and {} that do not check are not counted)",
        m.valid(),
        m.killed(),
        survived,
        m.equivalent(),
        m.mutants.len() - m.valid() - m.equivalent()
    );
    if m.not_run > 0 {
        let _ = writeln!(
            s,
            "  {} more not run: a run makes at most {} mutants",
            m.not_run,
            crate::testing::mutate::MAX_MUTANTS
        );
    }
    if m.failing_cases > 0 {
        let _ = writeln!(
            s,
            "  {} fail on the policies as they are and kill nothing",
            plural(m.failing_cases, "case")
        );
    }
    for mutant in m.survivors() {
        let Status::Survived(witness) = &mutant.status else {
            continue;
        };
        let _ = writeln!(
            s,
            "{} {}  {}",
            paint("SURVIVED", RED, color),
            v(&mutant.location),
            v(&mutant.mutation.description)
        );
        match witness {
            Some(w) => {
                let value = w
                    .value
                    .as_ref()
                    .map_or_else(|| "left out".to_owned(), |v| format!("= {v}"));
                let _ = writeln!(
                    s,
                    "  no case notices this change; this one would: the request of `{}` with `{}` {}",
                    v(&w.case),
                    v(&w.field),
                    v(&value)
                );
                // The verdict and rule come first; the rest follows from them.
                for d in w.differences.iter().take(4) {
                    let _ = writeln!(
                        s,
                        "    {}: the policies give {}, the mutant {}",
                        d.field.key(),
                        v(&d.expected),
                        v(&d.actual)
                    );
                }
                if w.differences.len() > 4 {
                    let _ = writeln!(s, "    and {} more", w.differences.len() - 4);
                }
            }
            None => {
                let _ = writeln!(
                    s,
                    "  no case notices this change, and no request one field away from a case's request tells it apart: it may be equivalent"
                );
            }
        }
    }
}

/// The whole run as one JSON value.
pub fn json(
    report: &RunReport,
    coverage: Option<&Coverage>,
    min_coverage: Option<f64>,
    mutants: Option<&MutationReport>,
) -> String {
    let cases: Vec<_> = report
        .cases()
        .map(|(file, case)| {
            let mut c = Map::new();
            c.insert("file".into(), json!(file.name));
            c.insert("name".into(), json!(case.name));
            c.insert("line".into(), json!(case.line));
            c.insert("passed".into(), json!(case.run.passed()));
            if !case.run.passed() {
                let mismatches = case
                    .run
                    .mismatches
                    .iter()
                    .map(|m| json!({"field": m.field.key(), "expected": m.expected, "actual": m.actual}))
                    .collect();
                c.insert("mismatches".into(), Value::Array(mismatches));
                let outcome = serde_json::to_value(&case.run.outcome).unwrap_or_default();
                c.insert("outcome".into(), outcome);
            }
            Value::Object(c)
        })
        .collect();
    let diagnostics: Vec<_> = report
        .files
        .iter()
        .flat_map(|f| &f.errors)
        .map(|e| record(e))
        .collect();
    let mut out = Map::new();
    out.insert("passed".into(), json!(report.passed()));
    out.insert("failed".into(), json!(report.failed()));
    out.insert("filtered_out".into(), json!(report.filtered_out));
    out.insert("ok".into(), json!(report.ok()));
    out.insert("cases".into(), Value::Array(cases));
    out.insert("diagnostics".into(), json!(diagnostics));
    if let Some(c) = coverage {
        let coverage = json!({
            "percent": (c.percent() * 10.0).round() / 10.0,
            "covered": c.covered(),
            "items": c.items(),
            "minimum": min_coverage,
            "policies": c.policies,
        });
        out.insert("coverage".into(), coverage);
    }
    if let Some(m) = mutants {
        let list: Vec<_> = m
            .mutants
            .iter()
            .filter(|m| matches!(m.status, Status::Killed(_) | Status::Survived(_)))
            .map(|mutant| {
                let mut j = Map::new();
                j.insert("location".into(), json!(mutant.location));
                j.insert("change".into(), json!(mutant.mutation.description));
                match &mutant.status {
                    Status::Killed(by) => {
                        j.insert("killed_by".into(), json!(by));
                    }
                    Status::Survived(w) => {
                        j.insert("survived".into(), json!(true));
                        if let Some(w) = w {
                            let witness = json!({
                                "case": w.case,
                                "field": w.field,
                                "value": w.value,
                                "request": w.request,
                                "policies": w.expected,
                                "mutant": w.mutant,
                            });
                            j.insert("witness".into(), witness);
                        }
                    }
                    Status::Invalid | Status::Equivalent(_) => {}
                }
                Value::Object(j)
            })
            .collect();
        let mutants = json!({
            "total": m.valid(),
            "killed": m.killed(),
            "survived": m.survivors().count(),
            "equivalent": m.equivalent(),
            "not_run": m.not_run,
            "list": list,
        });
        out.insert("mutants".into(), mutants);
    }
    let out = Value::Object(out);
    let mut text = Vec::new();
    if super::escape::json_pretty(&mut text, &out).is_err() {
        return String::new();
    }
    // serde_json writes UTF-8 only.
    String::from_utf8(text).unwrap_or_default()
}

/// JUnit XML: a `testsuite` per test file, a `testcase` per case; a
/// mistake in a test file is an `error`.
pub fn junit(report: &RunReport) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = report.failed();
    let errors = report.errors();
    let tests = report.cases().count() + errors;
    let _ = writeln!(
        s,
        "<testsuites name=\"rpl test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for file in &report.files {
        let failed = file.cases.iter().filter(|c| !c.run.passed()).count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"{}\">",
            xml(&file.name),
            file.cases.len() + file.errors.len(),
            file.errors.len()
        );
        for case in &file.cases {
            let _ = write!(
                s,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
                xml(&case.name),
                xml(&file.name),
                xml(&file.name),
                case.line
            );
            if case.run.passed() {
                s.push_str("/>\n");
                continue;
            }
            let mut detail = String::new();
            failure(&mut detail, file, case, false);
            let _ = write!(
                s,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                xml(&mismatches_text(case)),
                xml(&detail)
            );
        }
        for e in &file.errors {
            let r = record(e);
            let at = r.line.map(|l| format!(":{l}")).unwrap_or_default();
            let _ = writeln!(
                s,
                "    <testcase name=\"(test file{at})\" classname=\"{}\" file=\"{}\">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>",
                xml(&file.name),
                xml(&file.name),
                xml(&r.message),
                xml(&r.code),
                xml(&r.help.unwrap_or_default())
            );
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

/// A case's mismatches on one line: `decision: expected deny, actual
/// approve; rule: …`.
fn mismatches_text(case: &CaseResult) -> String {
    case.run
        .mismatches
        .iter()
        .map(|m| {
            format!(
                "{}: expected {}, actual {}",
                m.field.key(),
                m.expected,
                m.actual
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Text as XML attribute or element content: the five markup characters
/// escaped, and the characters XML 1.0 cannot hold at all (most control
/// characters) written visibly, as in human output.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if super::escape::is_unsafe(c) || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The run as one SARIF log, for code scanning: each failing case at its
/// line of the test file (`rpl::test::case_failed`), each mistake in a
/// test file as its diagnostic, each coverage gap when the minimum was
/// missed (`rpl::test::uncovered`) and each surviving mutant
/// (`rpl::test::mutant_survived`) where the policy text it changed is.
pub fn sarif(
    report: &RunReport,
    coverage: Option<&Coverage>,
    below: Option<f64>,
    mutants: Option<&MutationReport>,
) -> Value {
    let mut results: Vec<SarifResult> = Vec::new();
    for file in &report.files {
        results.extend(file.errors.iter().map(|e| SarifResult::from_diagnostic(e)));
        for case in file.cases.iter().filter(|c| !c.run.passed()) {
            results.push(SarifResult {
                rule_id: "rpl::test::case_failed".to_owned(),
                rule_description: Some("a policy test case failed".to_owned()),
                level: SarifLevel::Error,
                message: format!("case `{}` failed: {}", case.name, mismatches_text(case)),
                location: Some(SarifLocation::at_line(&file.name, case.line)),
                related: Vec::new(),
            });
        }
    }
    if let (Some(c), Some(_)) = (coverage, below) {
        for p in &c.policies {
            for g in &p.gaps {
                results.push(SarifResult {
                    rule_id: "rpl::test::uncovered".to_owned(),
                    rule_description: Some("no test case exercises this".to_owned()),
                    level: SarifLevel::Warning,
                    message: format!(
                        "{}: `{}` ({}, policy `{}`)",
                        g.missed.describe(),
                        g.text,
                        g.context,
                        p.policy
                    ),
                    location: location_of(&g.location),
                    related: Vec::new(),
                });
            }
        }
    }
    for m in mutants.iter().flat_map(|m| m.survivors()) {
        results.push(SarifResult {
            rule_id: "rpl::test::mutant_survived".to_owned(),
            rule_description: Some("no test case notices this change to the policy".to_owned()),
            level: SarifLevel::Error,
            message: format!("no test case notices {}", m.mutation.description),
            location: location_of(&m.location),
            related: Vec::new(),
        });
    }
    sarif_log(results)
}

/// A `file:line:column` location as SARIF's (the column left out: it
/// counts characters, SARIF UTF-16 units).
fn location_of(location: &str) -> Option<SarifLocation> {
    let mut parts = location.rsplitn(3, ':');
    let (_, line, file) = (parts.next()?, parts.next()?, parts.next()?);
    Some(SarifLocation::at_line(file, line.parse().ok()?))
}
