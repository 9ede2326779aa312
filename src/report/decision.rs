//! Decisions for people: a short summary, and the trace as a list of
//! rules with each test, its values and where it is written.
//!
//! Every value from a request or a policy (ids, names, messages, labels,
//! conditions as written, values) goes through [`visible`]: a control
//! character or line break in it is written as `\u{1b}`, so it can neither
//! drive the terminal nor forge a line of output.

use std::fmt::Write as _;

use super::escape::visible as v;
use crate::analysis::counterfactual::Counterfactual;
use crate::engine::Outcome;
use crate::eval::output::format_amount;
use crate::eval::{Decision, Failure, RuleTrace, Words};

/// A few lines: verdict, amount and route, settlement, documents, message.
pub fn summary(outcome: &Outcome) -> String {
    summary_of(outcome, None)
}

/// The summary of the request read from `source` (a file): a request with
/// no id is named by its file.
pub fn summary_of(outcome: &Outcome, source: Option<&str>) -> String {
    let mut s = String::new();
    match outcome {
        Outcome::Decision(d) => decision_summary(&mut s, d, source),
        Outcome::Failure(f) => failure_summary(&mut s, f, source),
    }
    s
}

fn id<'a>(request_id: Option<&'a str>, source: Option<&'a str>) -> std::borrow::Cow<'a, str> {
    match (request_id, source) {
        (Some(id), _) => v(id),
        (None, Some(file)) => format!("`{}`", v(file)).into(),
        (None, None) => "(no request id)".into(),
    }
}

fn decision_summary(s: &mut String, d: &Decision, source: Option<&str>) {
    let _ = writeln!(
        s,
        "{}: {} by rule `{}` of policy `{}`{}",
        id(d.request_id.as_deref(), source),
        d.decision.as_str().to_uppercase(),
        v(d.rule()),
        v(d.policy()),
        version(d.policy_version())
    );
    if let Some(r) = &d.refund {
        let _ = writeln!(
            s,
            "  refund        {} {} via {}",
            format_amount(&r.amount),
            v(r.currency),
            v(r.route)
        );
    }
    if let Some(i) = &d.installments {
        let _ = writeln!(s, "  installments  {}", v(i));
    }
    if let Some(r) = &d.return_shipping_paid_by {
        let _ = writeln!(s, "  shipping      return shipping paid by {}", v(r));
    }
    if let Some(st) = &d.settlement {
        let _ = writeln!(s, "  settlement    {} to {}", st.earliest, st.latest);
    }
    if !d.documents.is_empty() {
        let _ = writeln!(s, "  documents     {}", join(&d.documents));
    }
    if !d.offers.is_empty() {
        let _ = writeln!(s, "  offers        {}", join(&d.offers));
    }
    if !d.message().is_empty() {
        let _ = writeln!(s, "  message       {}", v(d.message()));
    }
}

/// ` version 2025.1`, so a reader knows which text of the policy decided.
fn version(v: Option<&str>) -> String {
    v.map(|v| format!(" version {}", self::v(v)))
        .unwrap_or_default()
}

fn join(items: &Words) -> String {
    items.iter().map(v).collect::<Vec<_>>().join(", ")
}

fn failure_summary(s: &mut String, f: &Failure, source: Option<&str>) {
    let line = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
    let by = f
        .policy
        .as_deref()
        .map(|p| {
            format!(
                " (policy `{}`{})",
                v(p),
                version(f.policy_version.as_deref())
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "{}{line}: ERROR {}{by}",
        id(f.request_id.as_deref(), source),
        v(&f.error.code)
    );
    // The file is already named at the start of the line.
    let at = if f.error.path.is_empty() || Some(f.error.path.as_str()) == source {
        String::new()
    } else {
        format!(" at `{}`", v(&f.error.path))
    };
    let _ = writeln!(s, "  {}{at}", v(&f.error.message));
    if let Some(h) = &f.error.help {
        let _ = writeln!(s, "  help: {}", v(h));
    }
}

/// The trace for people: each rule in order, matched or not, and under it
/// each test with its values and location.
pub fn explain(outcome: &Outcome) -> String {
    explain_of(outcome, None)
}

/// The trace of the request read from `source` (see [`summary_of`]).
pub fn explain_of(outcome: &Outcome, source: Option<&str>) -> String {
    explain_with(outcome, source, None)
}

/// The trace, and before it, for a denial or a review, the changes that
/// would get the request approved (`rpl explain`): one line each, or a
/// line saying none was found.
pub fn explain_with(
    outcome: &Outcome,
    source: Option<&str>,
    counterfactuals: Option<&[Counterfactual]>,
) -> String {
    let mut s = summary_of(outcome, source);
    match counterfactuals {
        Some([]) => {
            let _ = writeln!(
                s,
                "\nno change of one or two request values was found that would approve it"
            );
        }
        Some(found) => {
            let _ = writeln!(s, "\nwould be approved if:");
            // `reason were a`, `reason were b`: one line, `reason were a or b`.
            let mut lines: Vec<(Option<&str>, String)> = Vec::new();
            for c in found {
                let (head, value) = match c.text.split_once(" were ") {
                    Some((h, val)) if !h.contains(' ') && !val.contains(' ') => (Some(h), val),
                    _ => (None, c.text.as_str()),
                };
                match lines.last_mut() {
                    Some((Some(h), line)) if head == Some(*h) => {
                        line.push_str(" or ");
                        line.push_str(value);
                    }
                    _ => lines.push((head, c.text.clone())),
                }
            }
            for (_, line) in lines {
                let _ = writeln!(s, "  {}", v(&line));
            }
        }
        None => {}
    }
    let trace = match outcome {
        Outcome::Decision(d) => d.trace.as_deref(),
        Outcome::Failure(f) => f.trace.as_deref(),
    };
    let Some(trace) = trace else { return s };
    let _ = writeln!(s, "\nrules considered, in order:");
    for r in trace {
        rule(&mut s, r);
    }
    s
}

/// One rule of a trace: the rule, then each test with its values.
pub fn rule_text(r: &RuleTrace) -> String {
    let mut s = String::new();
    rule(&mut s, r);
    s
}

fn rule(s: &mut String, r: &RuleTrace) {
    let mark = if r.matched { "✓" } else { "✗" };
    let label = r
        .label
        .as_deref()
        .map(|l| format!(" \"{}\"", v(l)))
        .unwrap_or_default();
    let kind = if r.kind == "rule" {
        String::new()
    } else {
        format!("{} ", r.kind)
    };
    let _ = writeln!(s, "{mark} {kind}{}{label}  {}", v(&r.name), v(&r.location));
    if r.conditions.is_empty() {
        let _ = writeln!(s, "    (no condition: applies to every request)");
    }
    for c in &r.conditions {
        let result = match c.result {
            Some(true) => "true ",
            Some(false) => "false",
            None => "unknown",
        };
        let values: Vec<String> = c
            .values
            .iter()
            .map(|fv| format!("{} = {}", v(&fv.field), v(&fv.value)))
            .collect();
        let _ = writeln!(s, "    {result}  {}", v(&c.condition));
        if !values.is_empty() {
            let _ = writeln!(s, "           {}", values.join(", "));
        }
        if let Some(n) = &c.note {
            let _ = writeln!(s, "           {}", v(n));
        }
        let _ = writeln!(s, "           at {}", v(&c.location));
    }
}
