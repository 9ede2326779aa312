//! The lints that need the request space, each with a witness request.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use super::error::AnalysisDiagnostic;
use super::search::{End, Exploration, Query, explore};
use super::space::{Space, walk};
use super::{Target, witness};
use crate::check::Diagnostic;
use crate::compile::{Compiled, CompiledPolicy, CompiledRule, Node, NodeId};
use crate::request::Request;
use crate::source::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// Some requests are decided by no rule; `exact`: the witness shows
    /// one (else the policy has no rule without `when` and the analysis
    /// could not prove every request is decided).
    NoFallback {
        exact: bool,
    },
    /// The rule never decides: the rules (or rejects) named take every
    /// request its condition holds for.
    Unreachable {
        covering: Vec<Arc<str>>,
    },
    AlwaysFalse,
    AlwaysTrue,
    /// A window or shift ends past the calendar for every request; the
    /// error code evaluation gives.
    PastCalendar {
        code: String,
    },
}

#[derive(Debug, Clone)]
pub struct Finding {
    /// Index in `Compiled::policies` (the first, when several policies
    /// share the rule and the finding).
    pub policy: usize,
    /// Every policy it holds in, by name.
    pub policies: Vec<Arc<str>>,
    pub kind: FindingKind,
    /// The rule the finding is about (the policy's name for `NoFallback`).
    pub rule: Arc<str>,
    pub node: Option<NodeId>,
    pub span: Span,
    pub witness: Option<Request>,
    pub witness_json: Option<serde_json::Value>,
}

/// Every finding, policy by policy; one about a rule several policies
/// share is reported once, naming them all.
pub fn findings(compiled: &Compiled) -> Vec<Finding> {
    analyse(compiled).0
}

/// The findings, and where the analysis held claims back: each test it
/// could only sample, as `` `refund > high_value_threshold` (common.rpl:178:14) ``.
pub fn analyse(compiled: &Compiled) -> (Vec<Finding>, Vec<String>) {
    let per_policy: Vec<(Vec<Finding>, BTreeSet<NodeId>)> = compiled
        .policies
        .par_iter()
        .enumerate()
        .map(|(i, p)| policy_findings(compiled, i, p))
        .collect();
    let mut held_back: Vec<String> = Vec::new();
    for ((_, sampled), p) in per_policy.iter().zip(&compiled.policies) {
        for node in sampled {
            let span = p.span(*node);
            let text = compiled
                .sources
                .slice(span)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let line = format!("`{text}` ({})", compiled.location(span));
            if !held_back.contains(&line) {
                held_back.push(line);
            }
        }
    }
    let mut out: Vec<Finding> = Vec::new();
    for f in per_policy.into_iter().flat_map(|(f, _)| f) {
        let key = |g: &Finding| {
            (
                std::mem::discriminant(&g.kind),
                g.span.file,
                g.span.start,
                g.span.end,
            )
        };
        match out.iter_mut().find(|g| key(g) == key(&f)) {
            Some(g) => g.policies.extend(f.policies),
            None => out.push(f),
        }
    }
    (out, held_back)
}

/// Only what makes a policy unusable: requests no rule decides. Cheap for
/// a policy ending in a rule without `when` (what loading an engine runs).
pub fn gaps(compiled: &Compiled) -> Vec<Diagnostic> {
    compiled
        .policies
        .iter()
        .enumerate()
        .filter(|(_, p)| !has_catch_all(p))
        .filter_map(|(i, p)| {
            let target = Target {
                compiled,
                policy: p,
            };
            let space = Space::new(&[target])?;
            let full = explore(&space, &[target], rules_query());
            gap(&space, i, p, &full)
        })
        .map(|f| diagnostic(compiled, &f))
        .collect()
}

fn has_catch_all(p: &CompiledPolicy) -> bool {
    p.rules.iter().any(|r| r.when.is_none())
}

/// The rules' walk, without the `after` rules: which rule decides.
fn rules_query() -> Query {
    Query {
        rules: true,
        ..Query::default()
    }
}

/// Whether an exploration can back a claim that something never happens.
fn complete(e: &Exploration) -> bool {
    e.sampled.is_empty() && !e.truncated
}

/// Requests no rule decides, as a finding: exact with a witness, or, for
/// a policy without a rule without `when` whose exploration only
/// sampled, the gap it cannot rule out.
fn gap(space: &Space, index: usize, p: &CompiledPolicy, full: &Exploration) -> Option<Finding> {
    let region = full
        .regions
        .iter()
        .find(|r| r.ends.first() == Some(&End::NoRule));
    if region.is_none() && (complete(full) || has_catch_all(p)) {
        return None;
    }
    let req = region.map(|r| witness(space, r));
    Some(Finding {
        policy: index,
        kind: FindingKind::NoFallback {
            exact: region.is_some(),
        },
        rule: Arc::clone(&p.name),
        policies: vec![Arc::clone(&p.name)],
        node: None,
        span: p.name_span,
        witness_json: req.as_ref().map(|r| space.json(r)),
        witness: req,
    })
}

/// A policy's findings, and the tests its explorations could only sample.
fn policy_findings(
    compiled: &Compiled,
    index: usize,
    p: &CompiledPolicy,
) -> (Vec<Finding>, BTreeSet<NodeId>) {
    let target = Target {
        compiled,
        policy: p,
    };
    let targets = [target];
    let Some(space) = Space::new(&targets) else {
        return (Vec::new(), BTreeSet::new());
    };
    let mut out = Vec::new();
    let full = explore(&space, &targets, rules_query());
    let mut sampled: BTreeSet<NodeId> = full.sampled.iter().map(|(_, n)| *n).collect();
    if let Some(f) = gap(&space, index, p, &full) {
        out.push(f);
    }
    let finding =
        |kind, rule: &CompiledRule, node: Option<NodeId>, span, req: Option<Request>| Finding {
            policy: index,
            kind,
            rule: Arc::clone(&rule.name),
            policies: vec![Arc::clone(&p.name)],
            node,
            span,
            witness_json: req.as_ref().map(|r| space.json(r)),
            witness: req,
        };

    // Windows past the calendar fail wherever they are reached: a
    // condition holding one is not reported never true as well.
    let calendar = past_calendar(compiled, index, p, &space, &full);
    let failing: HashSet<NodeId> = calendar.iter().filter_map(|f| f.node).collect();
    let fails = |root: NodeId| {
        let mut found = false;
        walk(p, root, &mut |id, _| found |= failing.contains(&id));
        found
    };

    // Conditions never or always true, then rules they do not explain.
    let mut never: HashSet<usize> = HashSet::new();
    let all_rules = p
        .rejects
        .iter()
        .map(|r| (r, Phase::Reject))
        .chain(p.rules.iter().map(|r| (r, Phase::Rule)))
        .chain(p.afters.iter().map(|r| (r, Phase::After)));
    for (k, (rule, phase)) in all_rules.enumerate() {
        let Some(when) = rule.when else { continue };
        let mut reported: Vec<NodeId> = Vec::new();
        // Innermost first: of `a and b` with `b` never true, `b` is the
        // mistake, and `a and b` is not reported again.
        for node in skeleton(p, when).into_iter().rev() {
            let descendants = skeleton(p, node);
            if reported
                .iter()
                .any(|r| descendants.contains(r) && *r != node)
                || fails(node)
            {
                continue;
            }
            let query = Query {
                rules: phase == Phase::After,
                afters: false,
                skip_rejects: phase == Phase::Reject,
                outcomes: false,
                probe: Some((0, node, phase == Phase::After)),
            };
            let e = explore(&space, &targets, query);
            sampled.extend(e.sampled.iter().map(|(_, n)| *n));
            if !complete(&e) {
                continue;
            }
            let seen: Vec<(Option<bool>, usize)> = e
                .regions
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.probe.map(|v| (v, i)))
                .collect();
            if seen.is_empty() {
                continue;
            }
            let span = p.span(node);
            if seen.iter().all(|(v, _)| *v != Some(true)) {
                // The region where most of the condition holds shows it best.
                let region = seen.first().and_then(|(_, i)| e.regions.get(*i));
                let req = region.map(|r| witness(&space, r));
                out.push(finding(
                    FindingKind::AlwaysFalse,
                    rule,
                    Some(node),
                    span,
                    req,
                ));
                reported.push(node);
                if node == when {
                    never.insert(k);
                }
            } else if seen.iter().all(|(v, _)| *v == Some(true)) {
                let region = seen.first().and_then(|(_, i)| e.regions.get(*i));
                let req = region.map(|r| witness(&space, r));
                out.push(finding(
                    FindingKind::AlwaysTrue,
                    rule,
                    Some(node),
                    span,
                    req,
                ));
                reported.push(node);
            }
        }
    }

    // Rules that never decide, though their condition holds somewhere.
    if complete(&full) {
        let decided: HashSet<usize> = full
            .regions
            .iter()
            .filter_map(|r| match r.ends.first() {
                Some(End::Decided { rule, .. }) => Some(*rule),
                _ => None,
            })
            .collect();
        for (i, rule) in p.rules.iter().enumerate() {
            if decided.contains(&i) || never.contains(&(p.rejects.len() + i)) {
                continue;
            }
            let (covering, region) = match rule.when {
                None => (
                    covering_of(p, full.regions.iter().map(|r| r.ends.first())),
                    full.regions.first().cloned(),
                ),
                Some(when) => {
                    let query = Query {
                        rules: true,
                        probe: Some((0, when, false)),
                        ..Query::default()
                    };
                    let e = explore(&space, &targets, query);
                    let holds: Vec<_> = e
                        .regions
                        .iter()
                        .filter(|r| r.probe == Some(Some(true)))
                        .collect();
                    if holds.is_empty() {
                        // Never true: the condition's own finding (of it
                        // or of the part that is never true) explains it.
                        continue;
                    }
                    let covering = covering_of(p, holds.iter().map(|r| r.ends.first()));
                    // Prefer a witness decided by a rule over one rejected.
                    let pick = holds
                        .iter()
                        .find(|r| matches!(r.ends.first(), Some(End::Decided { .. })))
                        .or(holds.first())
                        .map(|r| (*r).clone());
                    (covering, pick)
                }
            };
            let req = region.map(|r| witness(&space, &r));
            out.push(finding(
                FindingKind::Unreachable { covering },
                rule,
                rule.when,
                rule.name_span,
                req,
            ));
        }
    }

    out.extend(calendar);
    (out, sampled)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Reject,
    Rule,
    After,
}

/// A condition and the operands of its `and`, `or` and `not`, outermost
/// first (a named predicate stands for its body).
fn skeleton(p: &CompiledPolicy, root: NodeId) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        out.push(id);
        let mut inner = id;
        while let Some(Node::Named { body, .. }) = p.node(inner) {
            inner = *body;
        }
        match p.node(inner) {
            Some(Node::And(a, b) | Node::Or(a, b)) => {
                stack.push(*b);
                stack.push(*a);
            }
            Some(Node::Not(x)) => stack.push(*x),
            _ => {}
        }
    }
    out
}

/// The names of the rules and rejects that end the walks, each once, in
/// policy order.
fn covering_of<'a>(
    p: &CompiledPolicy,
    ends: impl Iterator<Item = Option<&'a End>>,
) -> Vec<Arc<str>> {
    let mut rejects: Vec<usize> = Vec::new();
    let mut rules: Vec<usize> = Vec::new();
    for e in ends.flatten() {
        match e {
            End::Rejected(i) if !rejects.contains(i) => rejects.push(*i),
            End::Decided { rule, .. } if !rules.contains(rule) => rules.push(*rule),
            _ => {}
        }
    }
    rejects.sort_unstable();
    rules.sort_unstable();
    rejects
        .iter()
        .filter_map(|i| p.rejects.get(*i))
        .chain(rules.iter().filter_map(|i| p.rules.get(*i)))
        .map(|r| Arc::clone(&r.name))
        .collect()
}

/// Windows and shifts that end past the calendar even from its first day
/// (a later day ends later still), with a request that reaches one.
fn past_calendar(
    compiled: &Compiled,
    index: usize,
    p: &CompiledPolicy,
    space: &Space,
    full: &Exploration,
) -> Vec<Finding> {
    let years = p.calendar.years();
    let Some(first) = jiff::civil::Date::new(*years.start(), 1, 1).ok() else {
        return Vec::new();
    };
    let Ok(first) = p.timezone.to_timestamp(first.at(12, 0, 0, 0)) else {
        return Vec::new();
    };
    let mut early = space.base.clone();
    for (i, f) in compiled.schema.fields.iter().enumerate() {
        if f.ty == crate::schema::FieldType::Timestamp
            && let Some(slot) = early.values.get_mut(i)
        {
            *slot = crate::value::Value::Timestamp(first);
        }
    }
    let mut seen: HashSet<(u32, u32, u32)> = HashSet::new();
    let mut out = Vec::new();
    let owners = p
        .rejects
        .iter()
        .chain(&p.rules)
        .chain(&p.afters)
        .flat_map(|r| {
            r.when
                .into_iter()
                .chain(r.outcome.iter().map(|(_, n)| *n))
                .map(move |n| (r, n))
        });
    for (rule, root) in owners {
        walk(p, root, &mut |id, node| {
            let forward = match node {
                Node::Within { .. } => true,
                Node::DateShift { back, .. } => !*back,
                _ => false,
            };
            let at = p.span(id);
            if !forward || !seen.insert((at.file.0, at.start, at.end)) {
                return;
            }
            let Err(e) = crate::eval::node_value(compiled, p, &early, None, id) else {
                return;
            };
            let code = {
                use miette::Diagnostic as _;
                e.code().map(|c| c.to_string()).unwrap_or_default()
            };
            if code != "rpl::eval::calendar_out_of_range" && code != "rpl::eval::date_range" {
                return;
            }
            // A request that reaches it: the first region whose decision
            // fails with that code.
            let req = full.regions.iter().map(|r| witness(space, r)).find(|req| {
                matches!(crate::eval::evaluate(compiled, req, false),
                    Err(rej) if rej.error.code == code)
            });
            out.push(Finding {
                policy: index,
                kind: FindingKind::PastCalendar { code },
                rule: Arc::clone(&rule.name),
                policies: vec![Arc::clone(&p.name)],
                node: Some(id),
                span: p.span(id),
                witness_json: req.as_ref().map(|r| space.json(r)),
                witness: req,
            });
        });
    }
    out
}

/// A finding as a diagnostic of `rpl check`, its witness in the help.
pub fn diagnostic(compiled: &Compiled, f: &Finding) -> Diagnostic {
    let src = compiled.sources.named_source(f.span.file);
    let span: miette::SourceSpan = f.span.into();
    let witness = match &f.witness_json {
        Some(j) => format!("; a request that shows it: {}", spaced(j)),
        None => String::new(),
    };
    let rule = f.rule.to_string();
    let quoted: Vec<String> = f.policies.iter().map(|n| format!("`{n}`")).collect();
    let policies = match quoted.as_slice() {
        [one] => format!(" in policy {one}"),
        many => format!(" in policies {}", many.join(", ")),
    };
    let policy = compiled.policies.get(f.policy);
    Box::new(match &f.kind {
        FindingKind::NoFallback { exact } => AnalysisDiagnostic::NoFallback {
            policy: rule,
            why: if *exact {
                "no rule applies to the request below".into()
            } else {
                "no rule is without `when`, and the analysis cannot prove the rules cover every request".into()
            },
            witness,
            src,
            span,
        },
        FindingKind::Unreachable { covering } => AnalysisDiagnostic::UnreachableRule {
            rule,
            policies,
            covering: names(covering),
            witness,
            src,
            span,
        },
        FindingKind::AlwaysFalse => AnalysisDiagnostic::AlwaysFalse {
            rule,
            policies,
            why: String::new(),
            witness,
            src,
            span,
        },
        FindingKind::AlwaysTrue => AnalysisDiagnostic::AlwaysTrue {
            fix: if whole_condition(policy, f) {
                format!(
                    "it does not narrow `{rule}`; remove it (a rule that should apply to every request needs no `when`)"
                )
            } else {
                format!(
                    "it does not narrow `{rule}`; fix the comparison, or remove it from the condition"
                )
            },
            rule,
            policies,
            witness,
            src,
            span,
        },
        FindingKind::PastCalendar { code } => {
            let years = policy.map(|p| p.calendar.years());
            AnalysisDiagnostic::PastCalendar {
                what: compiled.sources.slice(f.span).to_owned(),
                calendar: policy
                    .map(|p| p.calendar.name().to_owned())
                    .unwrap_or_default(),
                first: years.as_ref().map_or(0, |y| *y.start()),
                last: years.as_ref().map_or(0, |y| *y.end()),
                code: code.clone(),
                policies,
                witness,
                src,
                span,
            }
        }
    })
}

/// Whether a finding is about a rule's whole `when`, not a part of it.
fn whole_condition(policy: Option<&CompiledPolicy>, f: &Finding) -> bool {
    policy.is_none_or(|p| {
        p.rejects
            .iter()
            .chain(&p.rules)
            .chain(&p.afters)
            .any(|r| r.name == f.rule && r.when.is_some() && r.when == f.node)
    })
}

fn names(list: &[Arc<str>]) -> String {
    let quoted: Vec<String> = list.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => "earlier rules".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// JSON on one line with a space after each `,` and `:`, so that a
/// terminal wraps it between values, never inside one.
pub fn spaced(j: &serde_json::Value) -> String {
    let compact = j.to_string();
    let mut out = String::with_capacity(compact.len() * 9 / 8);
    let mut in_string = false;
    let mut escaped = false;
    for c in compact.chars() {
        out.push(c);
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else {
            match c {
                '"' => in_string = true,
                ',' | ':' => out.push(' '),
                _ => {}
            }
        }
    }
    out
}
