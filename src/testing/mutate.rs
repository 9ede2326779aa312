//! Mutation testing: how well a suite catches a change to the policies.
//!
//! Each mutant is the policy directory with one small edit, made in memory
//! on the policy text: a boundary moved (`<=` to `<`, `7 days` to `6` or
//! `8 days`, a threshold by one cent, a count by one), a list member
//! removed, a condition dropped or negated, `and` and `or` swapped, `in`
//! and `not in`, `is present` and `is absent`, two neighbouring rules
//! swapped. A mutant that no longer checks is not counted. A mutant is
//! killed when a case that passes on the policies fails on it; one no case
//! kills survives, and for it a request near the suite's requests that
//! tells it apart is looked for: the case that would kill it.

use std::collections::BTreeSet;
use std::ops::Range;

use rayon::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value as Json;

use super::run::{actual, judge};
use super::{Case, Field, Input, Mismatch, compare, enum_tests};
use crate::compile::{CompiledPolicy, Node, NodeId};
use crate::engine::{Engine, Outcome};
use crate::schema::FieldType;
use crate::source::{Entry, FileId, SourceFile, Sources};
use crate::syntax::ast::{self, Expr, ExprKind, Lit};
use crate::vocab::{BinOp, UnOp, Unit};

/// One edit of one policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    /// The file's path in the policy directory.
    pub file: String,
    pub span: Range<usize>,
    pub replacement: String,
    /// What changed, for people: ``` `<=` → `<` ```.
    pub description: String,
    /// For two rules swapped: their names.
    pub swapped: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Mutant {
    pub mutation: Mutation,
    /// `file:line:column` of the edit.
    pub location: String,
    pub status: Status,
}

#[derive(Debug, Clone)]
pub enum Status {
    /// A case noticed: its name.
    Killed(String),
    /// No case noticed. `witness` is a request that tells the mutant apart,
    /// with what the policies and the mutant decide, when one was found.
    Survived(Option<Box<Witness>>),
    /// The edited policies do not check: not a mutant a test could catch.
    Invalid,
    /// The edit cannot change any decision (two rules that never both
    /// apply, swapped): not counted.
    Equivalent(&'static str),
}

/// A request that tells a mutant apart: a case's request with one field
/// changed.
#[derive(Debug, Clone)]
pub struct Witness {
    /// The case whose request it starts from.
    pub case: String,
    /// The field changed, and its new value (`None`: left out).
    pub field: String,
    pub value: Option<Json>,
    pub request: Json,
    pub expected: Outcome,
    pub mutant: Outcome,
    /// The decision's fields that differ: `expected` is what the policies
    /// decide, `actual` what the mutant does.
    pub differences: Vec<Mismatch>,
}

#[derive(Debug, Clone)]
pub struct MutationReport {
    pub mutants: Vec<Mutant>,
    /// Cases that fail on the unchanged policies: they kill nothing.
    pub failing_cases: usize,
    /// Mutants past [`MAX_MUTANTS`], not run.
    pub not_run: usize,
}

/// The most mutants one run makes: each checks the whole directory again.
pub const MAX_MUTANTS: usize = 5000;

/// How many removals a list gets at most.
const LIST_SAMPLE: usize = 16;

impl MutationReport {
    pub fn survivors(&self) -> impl Iterator<Item = &Mutant> {
        self.mutants
            .iter()
            .filter(|m| matches!(m.status, Status::Survived(_)))
    }

    pub fn killed(&self) -> usize {
        self.mutants
            .iter()
            .filter(|m| matches!(m.status, Status::Killed(_)))
            .count()
    }

    /// Mutants that count: killed or surviving.
    pub fn valid(&self) -> usize {
        self.mutants
            .iter()
            .filter(|m| matches!(m.status, Status::Killed(_) | Status::Survived(_)))
            .count()
    }

    pub fn equivalent(&self) -> usize {
        self.mutants
            .iter()
            .filter(|m| matches!(m.status, Status::Equivalent(_)))
            .count()
    }
}

/// Makes every mutant of the policy files in `sources` and runs `cases` on
/// each. The cases' requests are read once, by the caller.
pub fn run(sources: &Sources, cases: &[(Case, Input)]) -> MutationReport {
    let Ok(original) = Engine::from_sources(sources) else {
        return MutationReport {
            mutants: Vec::new(),
            failing_cases: 0,
            not_run: 0,
        };
    };
    let passing: Vec<&(Case, Input)> = cases
        .iter()
        .filter(|(case, input)| compare(case, judge(&original, input)).passed())
        .collect();
    let mut mutations = Vec::new();
    let mut numbers = Numbers::default();
    for path in sources.policy_files() {
        if let Some(Entry::Text(text)) = sources.get(&path) {
            mutations.extend(mutations_of(&path, text, &mut numbers));
        }
    }
    // One edit made twice is one mutant; past the cap the rest are not run
    // (each mutant checks the whole directory), and the report says so.
    let mut seen = std::collections::HashSet::new();
    mutations.retain(|m| seen.insert((m.file.clone(), m.span.clone(), m.replacement.clone())));
    let not_run = mutations.len().saturating_sub(MAX_MUTANTS);
    mutations.truncate(MAX_MUTANTS);
    let budget = std::sync::atomic::AtomicUsize::new(WITNESS_BUDGET);
    let mutants = mutations
        .into_par_iter()
        .map(|mutation| {
            if let Some((a, b)) = &mutation.swapped
                && never_both(&original, a, b)
            {
                let location = sources
                    .get(&mutation.file)
                    .and_then(|e| match e {
                        Entry::Text(t) => Some(location(sources, &mutation, t)),
                        Entry::Unreadable(_) => None,
                    })
                    .unwrap_or_default();
                return Mutant {
                    mutation,
                    location,
                    status: Status::Equivalent(
                        "the two rules never both apply: their order cannot matter",
                    ),
                };
            }
            let mut edited = sources.clone();
            let Some(Entry::Text(text)) = sources.get(&mutation.file) else {
                return invalid(mutation, String::new());
            };
            let mut new_text = text.to_string();
            let location = location(sources, &mutation, text);
            new_text.replace_range(mutation.span.clone(), &mutation.replacement);
            edited.insert(mutation.file.clone(), new_text);
            let Ok(engine) = Engine::from_sources(&edited) else {
                return invalid(mutation, location);
            };
            let killer = passing
                .iter()
                .find(|(case, input)| !compare(case, judge(&engine, input)).passed());
            let status = match killer {
                Some((case, _)) => Status::Killed(case.name.clone()),
                None => Status::Survived(
                    witness(&original, &engine, &passing, &numbers, &budget).map(Box::new),
                ),
            };
            Mutant {
                mutation,
                location,
                status,
            }
        })
        .collect();
    MutationReport {
        mutants,
        failing_cases: cases.len() - passing.len(),
        not_run,
    }
}

fn invalid(mutation: Mutation, location: String) -> Mutant {
    Mutant {
        mutation,
        location,
        status: Status::Invalid,
    }
}

fn location(sources: &Sources, m: &Mutation, text: &str) -> String {
    let file = SourceFile::new(m.file.clone().into(), sources.display(&m.file), text);
    let (line, col) = file.line_col(u32::try_from(m.span.start).unwrap_or(u32::MAX));
    format!("{}:{line}:{col}", file.name)
}

/// The numbers the policies are written with: where boundaries are, so the
/// witness search tries requests just either side of them.
#[derive(Debug, Default)]
struct Numbers {
    /// Durations, in days (a month counted as 28 to 31, a year 365 or 366).
    days: BTreeSet<i64>,
    amounts: BTreeSet<Decimal>,
    ints: BTreeSet<i64>,
}

/// Every mutation of one policy file; a file that does not parse has none
/// (the check reports it).
fn mutations_of(path: &str, text: &str, numbers: &mut Numbers) -> Vec<Mutation> {
    let file = SourceFile::new(path.into(), path.to_owned(), text);
    let Ok(tree) = crate::syntax::parse(FileId(0), &file) else {
        return Vec::new();
    };
    let mut m = Mutator {
        path,
        text,
        out: Vec::new(),
        numbers,
    };
    for item in &tree.items {
        match item {
            ast::Item::Const(c) => m.expr(&c.value),
            ast::Item::Pred(p) => m.expr(&p.cond),
            ast::Item::Rules(g) => m.rules(&g.rules),
            ast::Item::Defaults(d) => m.assigns(&d.fields),
            ast::Item::Policy(p) => {
                let mut rules = Vec::new();
                for i in &p.items {
                    match i {
                        ast::PolicyItem::Const(c) => m.expr(&c.value),
                        ast::PolicyItem::Defaults { fields, .. } => m.assigns(fields),
                        ast::PolicyItem::Rule(r) => rules.push(r.clone()),
                        ast::PolicyItem::Setting(_) | ast::PolicyItem::Use(_) => {}
                    }
                }
                m.rules(&rules);
            }
            ast::Item::Import(_) => {}
        }
    }
    m.out
}

struct Mutator<'a> {
    path: &'a str,
    text: &'a str,
    out: Vec<Mutation>,
    numbers: &'a mut Numbers,
}

impl Mutator<'_> {
    fn slice(&self, span: crate::source::Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    fn push(&mut self, span: Range<usize>, replacement: String, description: String) {
        self.out.push(Mutation {
            file: self.path.to_owned(),
            span,
            replacement,
            description,
            swapped: None,
        });
    }

    /// Replaces the whole of `e`.
    fn replace(&mut self, e: &Expr, replacement: String, description: String) {
        self.push(range(e.span), replacement, description);
    }

    fn rules(&mut self, rules: &[ast::Rule]) {
        for r in rules {
            if let Some(when) = &r.when {
                self.expr(when);
                // The condition dropped: the rule applies to every request
                // that reaches it.
                if let Some(at) =
                    keyword_before(self.text, r.span.start as usize, when.span.start as usize)
                {
                    let desc = format!("condition of `{}` dropped", r.name.name);
                    if r.kind == crate::vocab::RuleKind::Rule {
                        self.push(at..when.span.end as usize, String::new(), desc);
                    }
                }
            }
            if let Some(o) = &r.outcome {
                self.assigns(&o.fields);
            }
        }
        for pair in rules.windows(2) {
            let between = match pair {
                [a, b] => self
                    .text
                    .get(a.span.end as usize..b.span.start as usize)
                    .unwrap_or_default(),
                _ => continue,
            };
            // Only neighbours in the text: with a `use` between them, the
            // swap would move both past every rule of the group too.
            let only_comments = between
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with("//"));
            if let [a, b] = pair
                && a.kind == b.kind
                && only_comments
            {
                let swapped = format!("{}{between}{}", self.slice(b.span), self.slice(a.span));
                self.push(
                    a.span.start as usize..b.span.end as usize,
                    swapped,
                    format!("rules `{}` and `{}` swapped", a.name.name, b.name.name),
                );
                if let Some(m) = self.out.last_mut() {
                    m.swapped = Some((a.name.name.clone(), b.name.name.clone()));
                }
            }
        }
    }

    fn assigns(&mut self, fields: &[ast::Assign]) {
        for f in fields {
            self.expr(&f.value);
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Lit(lit) => self.literal(e, lit),
            ExprKind::Binary(op, a, b) => {
                self.binary(*op, a, b);
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Unary(UnOp::Not, x) => {
                self.replace(e, self.slice(x.span).to_owned(), "`not` dropped".into());
                self.expr(x);
            }
            ExprKind::Unary(_, x) | ExprKind::Paren(x) => self.expr(x),
            ExprKind::In {
                value,
                list,
                negated,
            } => {
                let (v, l) = (self.slice(value.span), self.slice(list.span));
                let (from, to) = if *negated {
                    ("not in", "in")
                } else {
                    ("in", "not in")
                };
                self.replace(e, format!("{v} {to} {l}"), format!("`{from}` → `{to}`"));
                self.expr(value);
                self.expr(list);
            }
            ExprKind::Is { value, present } => {
                let v = self.slice(value.span);
                let (from, to) = if *present {
                    ("is present", "is absent")
                } else {
                    ("is absent", "is present")
                };
                self.replace(e, format!("{v} {to}"), format!("`{from}` → `{to}`"));
            }
            ExprKind::Within {
                value,
                window,
                anchor,
            } => {
                self.expr(value);
                self.expr(window);
                self.expr(anchor);
            }
            ExprKind::If { cond, then, els } => {
                let c = self.slice(cond.span).to_owned();
                self.push(
                    range(cond.span),
                    format!("not ({c})"),
                    "`if` condition negated".into(),
                );
                self.expr(cond);
                self.expr(then);
                self.expr(els);
            }
            ExprKind::Match { scrutinee, arms } => {
                self.expr(scrutinee);
                for arm in arms {
                    self.expr(&arm.value);
                }
            }
            ExprKind::Call { args, .. } => {
                for a in args {
                    self.expr(a);
                }
            }
            ExprKind::List(items) => {
                // A long list gets a sample of removals, spread over it: one
                // per item would make its mutants (and their texts) grow
                // with the square of its length.
                let step = items.len().div_ceil(LIST_SAMPLE).max(1);
                for (i, item) in items.iter().enumerate().step_by(step) {
                    let rest: Vec<&str> = items
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, x)| self.slice(x.span))
                        .collect();
                    let removed = self.slice(item.span).to_owned();
                    self.replace(
                        e,
                        format!("[{}]", rest.join(", ")),
                        format!("`{removed}` removed from the list"),
                    );
                }
                for item in items {
                    self.expr(item);
                }
            }
            ExprKind::Path(_) | ExprKind::Template(_) => {}
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr) {
        let swap = match op {
            BinOp::Lt => Some(BinOp::Le),
            BinOp::Le => Some(BinOp::Lt),
            BinOp::Gt => Some(BinOp::Ge),
            BinOp::Ge => Some(BinOp::Gt),
            BinOp::Eq => Some(BinOp::Ne),
            BinOp::Ne => Some(BinOp::Eq),
            BinOp::And => Some(BinOp::Or),
            BinOp::Or => Some(BinOp::And),
            BinOp::Add => Some(BinOp::Sub),
            BinOp::Sub => Some(BinOp::Add),
            BinOp::Mul | BinOp::Div | BinOp::Range => None,
        };
        // The operator is the one token between the operands (comments
        // aside): found in that gap, not guessed from widths.
        let gap_start = a.span.end as usize;
        let gap = self
            .text
            .get(gap_start..b.span.start as usize)
            .unwrap_or_default();
        if let Some(to) = swap
            && let Some(at) = find_token(gap, op.symbol())
        {
            let start = gap_start + at;
            self.push(
                start..start + op.symbol().len(),
                to.symbol().to_owned(),
                format!("`{}` → `{}`", op.symbol(), to.symbol()),
            );
        }
        if matches!(op, BinOp::And | BinOp::Or) {
            let whole = a.span.start as usize..b.span.end as usize;
            for (kept, dropped) in [(a, b), (b, a)] {
                self.push(
                    whole.clone(),
                    self.slice(kept.span).to_owned(),
                    format!("`{}` dropped", clip(self.slice(dropped.span))),
                );
            }
        }
    }

    fn literal(&mut self, e: &Expr, lit: &Lit) {
        let written = self.slice(e.span).to_owned();
        match lit {
            Lit::Duration { count, unit } => {
                let days = match unit {
                    Unit::Days | Unit::WorkingDays => vec![i64::from(*count)],
                    Unit::Weeks => vec![7 * i64::from(*count)],
                    Unit::Months => vec![28 * i64::from(*count), 31 * i64::from(*count)],
                    Unit::Years => vec![365 * i64::from(*count), 366 * i64::from(*count)],
                };
                self.numbers.days.extend(days);
                let digits = written.len()
                    - written
                        .trim_start_matches(|c: char| c.is_ascii_digit())
                        .len();
                let rest = written.get(digits..).unwrap_or_default();
                for n in [count.checked_sub(1), count.checked_add(1)]
                    .into_iter()
                    .flatten()
                {
                    if n > 0 {
                        self.replace(
                            e,
                            format!("{n}{rest}"),
                            format!("`{written}` → `{n}{rest}`"),
                        );
                    }
                }
            }
            Lit::Money { amount, currency } => {
                self.numbers.amounts.insert(*amount);
                let cent = Decimal::new(1, 2);
                for a in [amount.checked_sub(cent), amount.checked_add(cent)]
                    .into_iter()
                    .flatten()
                {
                    if a >= Decimal::ZERO {
                        let to = format!("{a:.2} {currency}");
                        self.replace(e, to.clone(), format!("`{written}` → `{to}`"));
                    }
                }
            }
            Lit::Int(i) => {
                self.numbers.ints.insert(*i);
                for n in [i.checked_sub(1), i.checked_add(1)].into_iter().flatten() {
                    if n >= 0 {
                        self.replace(e, n.to_string(), format!("`{written}` → `{n}`"));
                    }
                }
            }
            _ => {}
        }
    }
}

fn range(span: crate::source::Span) -> Range<usize> {
    span.start as usize..span.end as usize
}

/// Where the `when` keyword between `from` and `to` starts: the last
/// `when` outside a comment (`when // applies when late` holds two).
fn keyword_before(text: &str, from: usize, to: usize) -> Option<usize> {
    let region = text.get(from..to)?;
    let mut found = None;
    let mut line_start = 0;
    for line in region.split_inclusive('\n') {
        let code = line
            .find("//")
            .map_or(line, |c| line.get(..c).unwrap_or(line));
        if let Some(at) = code.rfind("when") {
            found = Some(from + line_start + at);
        }
        line_start += line.len();
    }
    found
}

/// Where `token` stands alone in `gap` (not inside a comment or a longer
/// operator).
fn find_token(gap: &str, token: &str) -> Option<usize> {
    let code = gap.find("//").map_or(gap, |c| gap.get(..c).unwrap_or(gap));
    let at = code.find(token)?;
    let after = code.get(at + token.len()..).unwrap_or_default();
    let word = token.chars().all(|c| c.is_ascii_alphabetic());
    let joined = if word {
        after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    } else {
        after.starts_with(['=', '<', '>'])
    };
    (!joined).then_some(at)
}

fn clip(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", one_line.get(..cut).unwrap_or(&one_line)),
        None => one_line,
    }
}

/// At most this many requests are decided twice in the search for one
/// mutant's witness, and this many over a whole run.
const WITNESS_TRIES: usize = 4000;
const WITNESS_BUDGET: usize = 200_000;

/// A request near one of the cases' requests (one field changed) that the
/// policies and the mutant decide differently.
fn witness(
    original: &Engine,
    mutant: &Engine,
    cases: &[&(Case, Input)],
    numbers: &Numbers,
    budget: &std::sync::atomic::AtomicUsize,
) -> Option<Witness> {
    use std::sync::atomic::Ordering;
    let schema = original.schema();
    let mut tried = 0;
    for (case, input) in cases {
        let base = match input {
            Input::Inline(json) => json.clone(),
            Input::Text { text, toml: false } => match serde_json::from_str(text) {
                Ok(json) => json,
                Err(_) => continue,
            },
            Input::Text { .. } | Input::Unreadable(_) => continue,
        };
        for field in &schema.fields {
            for value in neighbours(&field.ty, get(&base, &field.path), numbers) {
                let spent =
                    budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1));
                if tried >= WITNESS_TRIES || spent.is_err() {
                    return None;
                }
                tried += 1;
                let mut request = base.clone();
                set(&mut request, &field.path, value.clone());
                let input = Input::Inline(request.clone());
                let expected = judge(original, &input);
                let got = judge(mutant, &input);
                if expected != got {
                    let differences = Field::ALL
                        .iter()
                        .filter_map(|f| {
                            let (e, a) = (actual(*f, &expected), actual(*f, &got));
                            (e != a).then_some(Mismatch {
                                field: *f,
                                expected: e,
                                actual: a,
                            })
                        })
                        .collect();
                    return Some(Witness {
                        case: case.name.clone(),
                        field: field.path.clone(),
                        value,
                        request,
                        expected,
                        mutant: got,
                        differences,
                    });
                }
            }
        }
    }
    None
}

/// Values one step from `current` for a field of type `ty`: either side
/// of every boundary the policies are written with. `None` stands for the
/// field left out.
fn neighbours(ty: &FieldType, current: Option<&Json>, numbers: &Numbers) -> Vec<Option<Json>> {
    let mut out: Vec<Option<Json>> = Vec::new();
    match ty {
        FieldType::Enum(e) => {
            out.extend(e.variants().iter().map(|v| Some(Json::from(v.as_str()))));
        }
        FieldType::Bool => {
            let b = current.and_then(Json::as_bool).unwrap_or(false);
            out.push(Some(Json::Bool(!b)));
        }
        FieldType::Int { .. } => {
            // Checked: a request or a policy may hold the largest integer.
            let i = current.and_then(Json::as_i64).unwrap_or(0);
            let mut ints: BTreeSet<i64> = [i.checked_sub(1), i.checked_add(1)]
                .into_iter()
                .flatten()
                .chain([0, 1, 2])
                .collect();
            for n in &numbers.ints {
                ints.extend(
                    [n.checked_sub(1), Some(*n), n.checked_add(1)]
                        .into_iter()
                        .flatten(),
                );
            }
            out.extend(ints.into_iter().map(|n| Some(Json::from(n))));
        }
        FieldType::Money { .. } | FieldType::Decimal { .. } => {
            let cent = Decimal::new(1, 2);
            let near = |d: Decimal| [d.checked_sub(cent), Some(d), d.checked_add(cent)];
            let mut amounts = BTreeSet::new();
            if let Some(d) = current
                .and_then(Json::as_str)
                .and_then(|s| s.parse::<Decimal>().ok())
            {
                amounts.extend(near(d).into_iter().flatten());
            }
            for a in &numbers.amounts {
                amounts.extend(near(*a).into_iter().flatten());
            }
            out.extend(
                amounts
                    .into_iter()
                    .filter(|a| *a >= Decimal::ZERO)
                    .map(|a| Some(Json::from(format!("{a:.2}")))),
            );
        }
        FieldType::Timestamp => {
            if let Some(s) = current.and_then(Json::as_str) {
                let mut shifts: BTreeSet<i64> = [1, 2, 3].into_iter().collect();
                for d in &numbers.days {
                    shifts.extend([d - 1, *d, d + 1]);
                }
                for d in shifts {
                    for signed in [d, -d] {
                        if let Some(t) = shift_days(s, signed) {
                            out.push(Some(Json::from(t)));
                        }
                    }
                }
            }
            out.push(None);
        }
        FieldType::String | FieldType::Currency => {}
    }
    out.retain(|v| v.as_ref() != current);
    out
}

/// An RFC 3339 timestamp moved by whole days, its offset kept.
fn shift_days(text: &str, days: i64) -> Option<String> {
    let (local, offset) = text.split_at_checked(19)?;
    let dt: jiff::civil::DateTime = local.parse().ok()?;
    let moved = dt
        .checked_add(jiff::Span::new().try_days(days).ok()?)
        .ok()?;
    Some(format!("{}{offset}", moved.strftime("%Y-%m-%dT%H:%M:%S")))
}

fn get<'a>(json: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(json, |node, key| node.get(key))
}

/// Sets (or with `None` removes) the field at a dotted path, making the
/// groups on the way.
fn set(json: &mut Json, path: &str, value: Option<Json>) {
    let mut node = json;
    let mut keys: Vec<&str> = path.split('.').collect();
    let Some(last) = keys.pop() else { return };
    for key in keys {
        let Some(obj) = node.as_object_mut() else {
            return;
        };
        node = obj
            .entry(key.to_owned())
            .or_insert_with(|| Json::Object(serde_json::Map::new()));
    }
    if let Some(obj) = node.as_object_mut() {
        match value {
            Some(v) => {
                obj.insert(last.to_owned(), v);
            }
            None => {
                obj.remove(last);
            }
        }
    }
}

/// Whether two rules of these names can never both apply to one request,
/// in every policy that has both: then swapping them changes nothing.
/// Read from their conditions' conjuncts: tests of one enum field against
/// disjoint sets of values, or a field required absent by one (`is
/// absent`) and read by the other (a test on an absent value is unknown,
/// and a rule applies only when its condition is true).
fn never_both(engine: &Engine, a: &str, b: &str) -> bool {
    let mut seen = false;
    for p in &engine.compiled().policies {
        let when = |name: &str| p.rules.iter().find(|r| &*r.name == name).map(|r| r.when);
        match (when(a), when(b)) {
            (Some(Some(x)), Some(Some(y))) => {
                if !disjoint(p, x, y) {
                    return false;
                }
                seen = true;
            }
            (None, None) => {}
            // A rule without a condition applies to everything.
            _ => return false,
        }
    }
    seen
}

/// What one conjunct of a condition requires of a request.
#[derive(Default)]
struct Needs {
    /// Enum fields and the values they must have.
    values: Vec<(crate::schema::FieldId, u128)>,
    absent: Vec<crate::schema::FieldId>,
    present: Vec<crate::schema::FieldId>,
}

fn disjoint(p: &CompiledPolicy, x: NodeId, y: NodeId) -> bool {
    let (a, b) = (needs(p, x), needs(p, y));
    let clash = |a: &Needs, b: &Needs| {
        a.values
            .iter()
            .any(|(f, s)| b.values.iter().any(|(g, t)| f == g && s & t == 0))
            || a.absent
                .iter()
                .any(|f| b.present.contains(f) || b.values.iter().any(|(g, _)| g == f))
    };
    clash(&a, &b) || clash(&b, &a)
}

fn needs(p: &CompiledPolicy, cond: NodeId) -> Needs {
    let mut out = Needs::default();
    let mut stack = vec![cond];
    while let Some(id) = stack.pop() {
        match p.node(id) {
            Some(Node::And(l, r)) => stack.extend([*l, *r]),
            Some(Node::Named { body, .. }) => stack.push(*body),
            Some(Node::Is { field, present }) => {
                if *present {
                    out.present.push(*field);
                } else {
                    out.absent.push(*field);
                }
            }
            Some(Node::Within { value, anchor, .. }) => {
                out.present
                    .extend([*value, *anchor].iter().filter_map(|n| field_of(p, *n)));
            }
            Some(Node::Cmp(_, l, r)) => {
                out.present
                    .extend([*l, *r].iter().filter_map(|n| field_of(p, *n)));
                if let [t] = enum_tests(p, id).as_slice() {
                    out.values.push(*t);
                }
            }
            Some(Node::InSet { .. }) => {
                if let [t] = enum_tests(p, id).as_slice() {
                    out.values.push(*t);
                }
            }
            _ => {}
        }
    }
    out
}

/// The field a value is read from, directly or moved by a duration.
fn field_of(p: &CompiledPolicy, id: NodeId) -> Option<crate::schema::FieldId> {
    match p.node(id)? {
        Node::Field(f) => Some(*f),
        Node::DateShift { date, .. } => field_of(p, *date),
        Node::Named { body, .. } => field_of(p, *body),
        _ => None,
    }
}
