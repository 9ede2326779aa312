//! Static analysis over the request space of compiled policies: the lints
//! `rpl check` adds once a directory checks clean (rules no request
//! reaches, conditions that never or always hold, requests no rule
//! decides, windows past the calendar), the semantic diff of two versions
//! (`rpl diff`) and the smallest changes that would approve a request
//! (`rpl explain`). Every finding carries a witness: a sample request that
//! shows it, which the real evaluator decides.
//!
//! The method (`space`, `search`): each field's domain is cut at the
//! constants the policies compare it with, the dates by enumeration over
//! the calendars' years, and a search splits the space only where a test
//! the policy makes differs. A test outside what the cut decides exactly
//! (two amounts added, a refund computed from several) is evaluated on the
//! sample requests only; such a search reports the tests in `sampled`, and
//! no claim that something never happens is made from it.

pub mod counterfactual;
pub mod diff;
mod error;
mod lint;
pub mod search;
pub mod space;

pub use error::AnalysisDiagnostic;
pub use lint::{Finding, FindingKind, analyse, diagnostic, findings, gaps};

use crate::compile::{Compiled, CompiledPolicy};
use crate::request::Request;
use search::Region;
use space::Space;

/// One policy of a compiled directory, as analysis sees it.
#[derive(Clone, Copy)]
pub struct Target<'c> {
    pub compiled: &'c Compiled,
    pub policy: &'c CompiledPolicy,
}

/// The sample request of a region: each variable's typical atom where
/// the region allows it, else its first (every atom of a region's cell
/// decides the same way).
pub fn witness(space: &Space, region: &Region) -> Request {
    let mut req = space.base.clone();
    for (v, cell) in region.cells.iter().enumerate() {
        let typical = space.var(v).map_or(0, |var| var.typical);
        let atom = if cell.contains(typical) {
            Some(typical)
        } else {
            cell.ones().next()
        };
        if let Some(a) = atom {
            space.set(&mut req, v, a);
        }
    }
    req
}

/// How a region reads, one line per variable it constrains:
/// `reason = performance_fault`, `payment.method in [bank_card, alipay]`.
pub fn describe(space: &Space, region: &Region) -> Vec<String> {
    let mut out = Vec::new();
    for (v, cell) in region.cells.iter().enumerate() {
        let Some(var) = space.var(v) else { continue };
        let n = cell.count_ones(..);
        if n == var.atoms.len() || n == 0 {
            continue;
        }
        let name = space.var_name(v);
        if let Some(ranges) = runs(space, v, cell) {
            out.push(format!("{name} {}", ranges.join(" or ")));
            continue;
        }
        let shown: Vec<&str> = cell
            .ones()
            .filter_map(|a| var.atoms.get(a).map(|a| a.shown.as_str()))
            .collect();
        if v == space.dates {
            // A date atom reads as its sample dates.
            out.push(format!(
                "dates like: {}",
                shown.first().copied().unwrap_or("any")
            ));
            continue;
        }
        let line = match shown.as_slice() {
            [one] => format!("{name} {one}"),
            many if many.iter().all(|s| s.starts_with("= ")) => format!(
                "{name} in [{}]",
                many.iter()
                    .map(|s| s.trim_start_matches("= "))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            many => format!("{name}: {}", many.join(" or ")),
        };
        out.push(line);
    }
    out
}

/// A number's atoms in a cell as runs of neighbours joined into one
/// interval each; `None` for a variable that is not a number.
fn runs(space: &Space, v: usize, cell: &fixedbitset::FixedBitSet) -> Option<Vec<String>> {
    let var = space.var(v)?;
    let space::VarKind::Field(f) = var.kind else {
        return None;
    };
    let places = match space.schema.field(f).ty {
        crate::schema::FieldType::Int { .. } => 0,
        crate::schema::FieldType::Decimal { max_scale, .. }
        | crate::schema::FieldType::Money { max_scale, .. } => max_scale as usize,
        _ => return None,
    };
    let mut out = Vec::new();
    let mut run: Option<(usize, space::Range)> = None;
    for a in cell.ones() {
        let r = var.atoms.get(a)?.range?;
        run = match run {
            Some((last, joined)) if last + 1 == a => Some((a, space::Range { hi: r.hi, ..joined })),
            Some((_, joined)) => {
                out.push(joined.text(places));
                Some((a, r))
            }
            None => Some((a, r)),
        };
    }
    if let Some((_, joined)) = run {
        out.push(joined.text(places));
    }
    Some(out)
}

/// Adds the lints to a check that found no error (`rpl check`). With
/// `focus`, only the findings that point into the named files or folders,
/// or hold in a policy declared there.
pub fn add_lints(checked: &mut crate::check::Checked, focus: Option<&[String]>) {
    if checked.has_errors() {
        return;
    }
    let Some(program) = checked.program.as_ref() else {
        return;
    };
    let compiled = match crate::compile::compile(program) {
        Ok(c) => c,
        Err(e) => {
            checked.diagnostics.push(Box::new(e));
            checked.program = None;
            return;
        }
    };
    // The focus names files as the policy directory does
    // (`lib/common.rpl`), not as diagnostics show them.
    let named = |file: crate::source::FileId| {
        let Some(file) = compiled.sources.get(file) else {
            return false;
        };
        let path = file.path.to_string_lossy();
        focus.is_none_or(|named| {
            named.iter().any(|n| {
                let n = n.trim_end_matches('/');
                path == n || path.starts_with(&format!("{n}/")) || n.is_empty()
            })
        })
    };
    // A finding is about the file it points into, and about every policy
    // it holds in.
    let wanted = |f: &Finding| {
        named(f.span.file)
            || compiled
                .policies
                .iter()
                .filter(|p| f.policies.contains(&p.name))
                .any(|p| named(p.name_span.file))
    };
    let (found, held_back) = analyse(&compiled);
    let found: Vec<Finding> = found.into_iter().filter(wanted).collect();
    checked.notes = held_back;
    let mut errors = false;
    for f in &found {
        let d = lint::diagnostic(&compiled, f);
        errors |= crate::check::is_error(d.as_ref());
        checked.diagnostics.push(d);
    }
    if errors {
        checked.program = None;
    }
}

/// One sample request per region of every policy's walk, grouped by the
/// path it takes (`official_mall/fault_return`, `…/seven_day_no_reason +
/// high_value_review`, `…/reject cash_online`): each reject, rule and
/// `after` rule any request reaches, with each way to reach it. What a
/// generator of realistic requests starts from; each is a complete JSON
/// request, valid per the schema. Groups in policy order.
pub fn samples(compiled: &crate::compile::Compiled) -> Vec<(String, Vec<serde_json::Value>)> {
    let mut out: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for policy in &compiled.policies {
        let targets = [Target { compiled, policy }];
        let Some(space) = Space::new(&targets) else {
            continue;
        };
        let query = search::Query {
            rules: true,
            afters: true,
            outcomes: true,
            ..search::Query::default()
        };
        for region in search::explore(&space, &targets, query).regions {
            let name = |r: Option<&crate::compile::CompiledRule>| {
                r.map_or_else(|| "?".to_owned(), |r| r.name.to_string())
            };
            let path = match region.ends.first() {
                Some(search::End::Decided { rule, after: None }) => name(policy.rules.get(*rule)),
                Some(search::End::Decided {
                    rule,
                    after: Some(a),
                }) => format!(
                    "{} + {}",
                    name(policy.rules.get(*rule)),
                    name(policy.afters.get(*a))
                ),
                Some(search::End::Rejected(i)) => {
                    format!("reject {}", name(policy.rejects.get(*i)))
                }
                Some(search::End::Error(code)) => format!("error {code}"),
                Some(search::End::NoRule | search::End::Open) | None => "undecided".to_owned(),
            };
            let key = format!("{}/{path}", policy.name);
            let json = space.json(&witness(&space, &region));
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) => list.push(json),
                None => out.push((key, vec![json])),
            }
        }
    }
    out
}
