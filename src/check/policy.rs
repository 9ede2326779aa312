//! Checking one policy: its settings, the rules and defaults it uses, each
//! rule's condition and outcome, and the lints over its rule list.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::diags::Diags;
use super::error::{CheckError, did_you_mean};
use super::hir::*;
use super::scope::{self, Def, DefKey, Scope};
use super::types::Ctx;
use crate::calendar::Calendar;
use crate::load::LoadError;
use crate::schema::{EnumType, Schema};
use crate::source::{Entry, Missing, SourceMap, Sources, Span};
use crate::syntax::ast::{self, ExprKind, PolicyItem};
use crate::vocab::{RuleKind, Verdict};

const SETTINGS: [&str; 5] = ["channel", "currency", "timezone", "calendar", "version"];

pub struct Env<'a> {
    pub schema: &'a Schema,
    pub sources: &'a SourceMap,
    /// The policy directory's files, where calendars are found.
    pub files: &'a Sources,
    /// For each policy without a channel, a free one to offer.
    pub channel_suggestions: &'a HashMap<DefKey, String>,
    /// Calendars read so far, by path in the directory.
    pub calendars: &'a mut HashMap<String, Option<Arc<Calendar>>>,
}

/// A policy's items, sorted out: settings by key, its own constants, the
/// rules (with `use`d groups spliced in place) and the defaults fields.
struct Parts<'a> {
    settings: HashMap<&'a str, &'a ast::Setting>,
    locals: FxHashMap<String, &'a ast::ConstDef>,
    rules: Vec<&'a ast::Rule>,
    defaults: Vec<&'a ast::Assign>,
}

/// What a policy's settings resolve to; `None` where one is missing or bad
/// (already reported).
struct Settings {
    channel: Option<u32>,
    currency: Option<String>,
    timezone: Option<jiff::tz::TimeZone>,
    calendar: Option<Arc<Calendar>>,
    version: Option<Arc<str>>,
}

pub fn check_policy(
    policy: &ast::Policy,
    scope: &Scope<'_>,
    env: &mut Env<'_>,
    diags: &mut Diags,
    used: &mut HashSet<DefKey>,
) -> Option<CheckedPolicy> {
    let src = |span: Span| env.sources.named_source(span.file);
    let Parts {
        settings,
        locals,
        rules,
        defaults,
    } = parts(policy, scope, env.sources, diags, used);
    let Settings {
        channel,
        currency,
        timezone,
        calendar,
        version,
    } = resolve_settings(policy, &settings, env, diags);

    // Rule names are unique within the policy, whatever group they came from.
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for s in &rules {
        if let Some(first) = seen.insert(s.name.name.as_str(), s.name.span) {
            diags.push(CheckError::DuplicateName {
                what: "rule",
                name: s.name.name.clone(),
                scope: "in a policy, including the groups it uses",
                src: src(s.name.span),
                span: s.name.span.into(),
                first: (first.file == s.name.span.file).then(|| first.into()),
            });
        }
    }
    let rule_names = Arc::new(EnumType::new(
        format!("rules of `{}`", policy.name.name),
        rules
            .iter()
            .filter(|s| s.kind == RuleKind::Rule)
            .map(|s| s.name.name.clone())
            .collect(),
    ));
    let verdicts = Arc::new(EnumType::new(
        "decision".into(),
        Verdict::ALL
            .iter()
            .map(|v| v.as_str().to_string())
            .collect(),
    ));

    let cur: Arc<str> = Arc::from(currency.as_deref().unwrap_or("CNY"));
    let mut ctx = Ctx::new(
        env.schema,
        env.sources,
        scope,
        &locals,
        Arc::clone(&cur),
        verdicts,
        diags,
    );
    let vocab = &env.schema.decision;
    let out_ty = |f: OutField| -> Ty {
        match f {
            OutField::Refund => Ty::Money(cur.clone()),
            OutField::Route => Ty::Enum(Arc::clone(&vocab.route)),
            OutField::Installments => Ty::Enum(Arc::clone(&vocab.installments)),
            OutField::ReturnShipping => Ty::Enum(Arc::clone(&vocab.return_shipping)),
            OutField::Settlement => Ty::DateRange,
            OutField::Documents => Ty::List(Box::new(Ty::Enum(Arc::clone(&vocab.documents)))),
            OutField::Offers => Ty::List(Box::new(Ty::Enum(Arc::clone(&vocab.offers)))),
            OutField::Message => Ty::Str,
        }
    };
    let checked_defaults = check_fields(&mut ctx, &defaults, &out_ty);
    used.extend(std::mem::take(&mut ctx.used));

    // Rules are typed independently of each other, so chunks of them are
    // checked on rayon's pool, each with its own collector. Merged in
    // order, the diagnostics are those of checking the rules one by one.
    let chunks: Vec<(Vec<CheckedRule>, Diags, HashSet<DefKey>)> = rules
        .par_chunks(RULES_PER_TASK)
        .map(|chunk| {
            let mut diags = Diags::default();
            let mut ctx = ctx.fork(&mut diags);
            let checked = chunk
                .iter()
                .map(|&rule| check_rule(&mut ctx, rule, &rule_names, &checked_defaults, &out_ty))
                .collect();
            let used = std::mem::take(&mut ctx.used);
            drop(ctx);
            (checked, diags, used)
        })
        .collect();
    drop(ctx);
    let mut checked_rules = Vec::with_capacity(rules.len());
    for (checked, chunk_diags, chunk_used) in chunks {
        checked_rules.extend(checked);
        diags.absorb(chunk_diags);
        used.extend(chunk_used);
    }
    let channel_span = settings
        .get("channel")
        .map_or(policy.name.span, |s| s.value.span);
    let (channel, _, timezone, calendar) = (channel?, currency?, timezone?, calendar?);
    Some(CheckedPolicy {
        name: Arc::from(policy.name.name.as_str()),
        label: policy.label.as_ref().map(|l| Arc::from(l.value.as_str())),
        version,
        channel,
        channel_span,
        name_span: policy.name.span,
        currency: cur,
        timezone,
        calendar,
        rules: checked_rules,
    })
}

/// How many rules one task of the parallel check takes: enough that a task
/// outweighs its scheduling, few enough that a policy of a few hundred
/// rules still spreads over the threads.
const RULES_PER_TASK: usize = 32;

fn check_rule(
    ctx: &mut Ctx<'_>,
    rule: &ast::Rule,
    rule_names: &Arc<EnumType>,
    defaults: &[OutValue],
    out_ty: &(dyn Fn(OutField) -> Ty + Sync),
) -> CheckedRule {
    ctx.after = (rule.kind == RuleKind::After).then(|| Arc::clone(rule_names));
    let when = rule.when.as_ref().map(|w| ctx.check(w, &Ty::Bool));
    let outcome = rule
        .outcome
        .as_ref()
        .map(|o| check_outcome(ctx, rule, o, defaults, out_ty));
    CheckedRule {
        kind: rule.kind,
        name: Arc::from(rule.name.name.as_str()),
        label: rule.label.as_ref().map(|l| Arc::from(l.value.as_str())),
        when,
        outcome,
        name_span: rule.name.span,
    }
}

fn parts<'a>(
    policy: &'a ast::Policy,
    scope: &Scope<'a>,
    sources: &SourceMap,
    diags: &mut Diags,
    used: &mut HashSet<DefKey>,
) -> Parts<'a> {
    let src = |span: Span| sources.named_source(span.file);
    let mut settings: HashMap<&str, &ast::Setting> = HashMap::new();
    let mut locals: FxHashMap<String, &ast::ConstDef> = FxHashMap::default();
    let mut rules: Vec<&ast::Rule> = Vec::new();
    let mut defaults: Vec<&ast::Assign> = Vec::new();
    for item in &policy.items {
        match item {
            PolicyItem::Setting(s) => {
                if !SETTINGS.contains(&s.key.name.as_str()) {
                    diags.push(CheckError::UnknownSetting {
                        name: s.key.name.clone(),
                        suggestion: did_you_mean(&s.key.name, SETTINGS),
                        src: src(s.key.span),
                        span: s.key.span.into(),
                    });
                } else if let Some(first) = settings.insert(s.key.name.as_str(), s) {
                    diags.push(CheckError::DuplicateName {
                        what: "setting",
                        name: s.key.name.clone(),
                        scope: "in a policy",
                        src: src(s.key.span),
                        span: s.key.span.into(),
                        first: Some(first.key.span.into()),
                    });
                }
            }
            PolicyItem::Const(c) => {
                if let Some(first) = locals.insert(c.name.name.clone(), c) {
                    diags.push(CheckError::DuplicateName {
                        what: "constant",
                        name: c.name.name.clone(),
                        scope: "in a policy",
                        src: src(c.name.span),
                        span: c.name.span.into(),
                        first: Some(first.name.span.into()),
                    });
                }
            }
            PolicyItem::Use(name) => match scope.get(&name.name) {
                Some(Def::Rules(group)) => {
                    used.insert(scope::key(group.name.span));
                    rules.extend(&group.rules);
                }
                Some(Def::Defaults(d)) => {
                    used.insert(scope::key(d.name.span));
                    defaults.extend(&d.fields);
                }
                Some(other) => {
                    used.insert(scope::key(other.name().span));
                    diags.push(CheckError::BadUse {
                        name: name.name.clone(),
                        found: if matches!(other, Def::Const(_)) {
                            "a constant"
                        } else {
                            "a predicate"
                        },
                        src: src(name.span),
                        span: name.span.into(),
                    });
                }
                None => {
                    let groups: Vec<&str> = scope
                        .names()
                        .filter(|n| matches!(scope.get(n), Some(Def::Rules(_) | Def::Defaults(_))))
                        .collect();
                    diags.push(CheckError::UnknownName {
                        name: name.name.clone(),
                        suggestion: did_you_mean(&name.name, groups),
                        extra: "`use` takes a `rules` group or `defaults` defined in this file or an imported one".into(),
                        src: src(name.span),
                        span: name.span.into(),
                    });
                }
            },
            PolicyItem::Defaults { fields, .. } => defaults.extend(fields),
            PolicyItem::Rule(rule) => rules.push(rule),
        }
    }

    Parts {
        settings,
        locals,
        rules,
        defaults,
    }
}

fn resolve_settings(
    policy: &ast::Policy,
    settings: &HashMap<&str, &ast::Setting>,
    env: &mut Env<'_>,
    diags: &mut Diags,
) -> Settings {
    let src = |span: Span| env.sources.named_source(span.file);
    // A misspelt setting is reported as such, not also as missing.
    let misspelt: Vec<&str> = policy
        .items
        .iter()
        .filter_map(|i| match i {
            PolicyItem::Setting(s) if !SETTINGS.contains(&s.key.name.as_str()) => {
                did_you_mean(&s.key.name, SETTINGS)
            }
            _ => None,
        })
        .filter_map(|s| SETTINGS.iter().copied().find(|k| **k == *s))
        .collect();
    let missing = |setting: &'static str, example: &str, diags: &mut Diags| {
        if misspelt.contains(&setting) {
            return;
        }
        diags.push(CheckError::MissingSetting {
            policy: policy.name.name.clone(),
            setting,
            help: format!("add `{example}` to the policy"),
            src: src(policy.name.span),
            span: policy.name.span.into(),
        });
    };
    let channels = Arc::clone(&env.schema.channels);
    let channel = match settings.get("channel") {
        None => {
            // A channel no policy has and no other help offers: the help
            // must not suggest a fix that fails with `duplicate_channel`.
            match env.channel_suggestions.get(&scope::key(policy.name.span)) {
                Some(free) => missing("channel", &format!("channel = {free}"), diags),
                None if !misspelt.contains(&"channel") => {
                    diags.push(CheckError::MissingSetting {
                        policy: policy.name.name.clone(),
                        setting: "channel",
                        help: "every channel of the schema has a policy already: merge this one into the policy for its channel, or remove it".into(),
                        src: src(policy.name.span),
                        span: policy.name.span.into(),
                    });
                }
                None => {}
            }
            None
        }
        Some(s) => {
            let name = bare_name(&s.value);
            match name.and_then(|n| channels.index_of(n)) {
                Some(i) => Some(i),
                None => {
                    diags.push(CheckError::UnknownVariant {
                        name: name.unwrap_or("?").to_string(),
                        enum_name: env.schema.field(env.schema.channel).path.clone(),
                        values: channels.variants().join(", "),
                        suggestion: name.and_then(|n| {
                            did_you_mean(n, channels.variants().iter().map(String::as_str))
                        }),
                        src: src(s.value.span),
                        span: s.value.span.into(),
                    });
                    None
                }
            }
        }
    };
    let currency = match settings.get("currency") {
        None => {
            missing("currency", "currency = CNY", diags);
            None
        }
        Some(s) => match bare_name(&s.value).or_else(|| string_value(&s.value)) {
            Some(c) if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) => {
                Some(c.to_string())
            }
            _ => {
                bad_setting(
                    diags,
                    env.sources,
                    s,
                    "not an ISO 4217 currency code",
                    "write three capital letters, e.g. `currency = CNY`",
                );
                None
            }
        },
    };
    let timezone = match settings.get("timezone") {
        None => {
            missing("timezone", "timezone = \"Asia/Shanghai\"", diags);
            None
        }
        Some(s) => match string_value(&s.value).map(jiff::tz::TimeZone::get) {
            Some(Ok(tz)) => Some(tz),
            _ => {
                bad_setting(
                    diags,
                    env.sources,
                    s,
                    "not a known time zone",
                    "write an IANA time zone name in quotes, e.g. `timezone = \"Asia/Shanghai\"`",
                );
                None
            }
        },
    };
    let calendar = match settings.get("calendar") {
        None => {
            // A calendar file the directory has, so that the fix works.
            let file = env
                .files
                .files()
                .map(|(path, _)| path)
                .filter(|p| p.ends_with(".toml") && *p != "schema.toml")
                .min_by_key(|p| (!p.starts_with("calendars/"), p.len()))
                .unwrap_or("calendars/cn.toml");
            missing("calendar", &format!("calendar = \"{file}\""), diags);
            None
        }
        Some(s) => load_calendar(s, env, diags),
    };
    let version = match settings.get("version") {
        Some(s) => match string_value(&s.value) {
            Some(v) => Some(Arc::from(v)),
            None => {
                bad_setting(
                    diags,
                    env.sources,
                    s,
                    "not a text",
                    "write the version in quotes, e.g. `version = \"2025.1\"`",
                );
                None
            }
        },
        None => None,
    };

    Settings {
        channel,
        currency,
        timezone,
        calendar,
        version,
    }
}

fn bare_name(e: &ast::Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Path(p) if !p.contains('.') => Some(p),
        _ => None,
    }
}

fn string_value(e: &ast::Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Lit(ast::Lit::Str(s)) => Some(s),
        _ => None,
    }
}

fn bad_setting(
    diags: &mut Diags,
    sources: &SourceMap,
    s: &ast::Setting,
    problem: &str,
    help: &str,
) {
    diags.push(CheckError::BadSetting {
        setting: s.key.name.clone(),
        problem: problem.to_string(),
        help: help.to_string(),
        src: sources.named_source(s.value.span.file),
        span: s.value.span.into(),
    });
}

fn load_calendar(s: &ast::Setting, env: &mut Env<'_>, diags: &mut Diags) -> Option<Arc<Calendar>> {
    let Some(rel) = string_value(&s.value) else {
        bad_setting(
            diags,
            env.sources,
            s,
            "not a path",
            "write the calendar file's path in quotes, relative to the policy directory",
        );
        return None;
    };
    let problem = match env.files.resolve("", rel) {
        Ok(path) => match env.files.get(&path) {
            Some(Entry::Text(text)) => {
                let name = env.files.display(&path);
                let entry = env.calendars.entry(path).or_insert_with(|| {
                    match Calendar::parse(&name, text) {
                        Ok(c) => Some(Arc::new(c)),
                        Err(e) => {
                            diags.push(e);
                            None
                        }
                    }
                });
                return entry.clone();
            }
            Some(Entry::Unreadable(why)) => {
                diags.push(LoadError::unreadable(env.files.display(&path), why));
                return None;
            }
            None => "no such calendar file",
        },
        Err(Missing::Outside) => "outside the policy directory",
        Err(Missing::Absolute) => "an absolute path",
        Err(_) => "no such calendar file",
    };
    bad_setting(
        diags,
        env.sources,
        s,
        problem,
        "the calendar path is relative to the policy directory, e.g. `calendar = \"calendars/cn.toml\"`",
    );
    None
}

fn check_fields(
    ctx: &mut Ctx<'_>,
    fields: &[&ast::Assign],
    out_ty: &(dyn Fn(OutField) -> Ty + Sync),
) -> Vec<OutValue> {
    let mut out: Vec<OutValue> = Vec::new();
    for a in fields {
        let Some(field) = OutField::from_name(&a.field.name) else {
            ctx.diags.push(CheckError::UnknownOutcomeField {
                name: a.field.name.clone(),
                suggestion: did_you_mean(&a.field.name, OutField::ALL.iter().map(|f| f.name())),
                src: ctx.sources.named_source(a.field.span.file),
                span: a.field.span.into(),
            });
            continue;
        };
        if out.iter().any(|o| o.field == field) {
            ctx.diags.push(CheckError::DuplicateField {
                field: a.field.name.clone(),
                src: ctx.sources.named_source(a.field.span.file),
                span: a.field.span.into(),
            });
            continue;
        }
        let want = out_ty(field);
        if a.append && !matches!(want, Ty::List(_)) {
            ctx.diags.push(CheckError::TypeMismatch {
                expected: "a list field".into(),
                found: format!("`{}`", field.name()),
                help: "`+=` extends `documents` or `offers`; write `=` to set other fields".into(),
                src: ctx.sources.named_source(a.span.file),
                span: a.field.span.into(),
                defined: Vec::new(),
            });
        }
        let value = ctx.infer(&a.value, Some(&want));
        // `none` leaves an output empty, which only some outputs may be.
        if !(value.ty == Ty::None && field.nullable()) {
            ctx.expect_ty(&value, &want, "");
        }
        out.push(OutValue {
            field,
            value: Arc::new(value),
            append: a.append,
        });
    }
    out
}

fn check_outcome(
    ctx: &mut Ctx<'_>,
    rule: &ast::Rule,
    o: &ast::Outcome,
    defaults: &[OutValue],
    out_ty: &(dyn Fn(OutField) -> Ty + Sync),
) -> CheckedOutcome {
    let src = ctx.sources.named_source(o.verdict_span.file);
    if rule.kind == RuleKind::After && o.verdict == Verdict::Approve {
        ctx.diags.push(CheckError::BadVerdict {
            kind: "after",
            rule: rule.name.name.clone(),
            verdict: "approve",
            help: "an `after` rule only tightens a decision: `review` or `deny`",
            src: src.clone(),
            span: o.verdict_span.into(),
        });
    }
    let fields: Vec<&ast::Assign> = o.fields.iter().collect();
    if rule.kind == RuleKind::After {
        for a in fields.iter().filter(|a| a.append) {
            ctx.diags.push(CheckError::AppendInAfter {
                field: a.field.name.clone(),
                src: ctx.sources.named_source(a.span.file),
                span: a.span.into(),
            });
        }
    }
    let own = check_fields(ctx, &fields, out_ty);
    for v in &own {
        if !v.field.allowed(o.verdict) {
            let help = match o.verdict {
                Verdict::Deny => "a denial pays nothing back; only `offers` and `message` apply",
                _ => "a review settles nothing until a person approves; leave `settlement` out",
            };
            let span = fields
                .iter()
                .find(|a| a.field.name == v.field.name())
                .map_or(o.span, |a| a.field.span);
            ctx.diags.push(CheckError::FieldNotAllowed {
                verdict: o.verdict.as_str(),
                field: v.field.name(),
                help,
                src: ctx.sources.named_source(span.file),
                span: span.into(),
            });
        }
    }
    let mut merged: Vec<(OutField, Arc<TExpr>)> = Vec::new();
    // `after` rules keep the decided outcome and change only what they set.
    let takes_defaults = rule.kind == RuleKind::Rule && o.verdict != Verdict::Deny;
    for field in OutField::ALL {
        let mine = own.iter().find(|v| v.field == field);
        let default = defaults
            .iter()
            .find(|v| v.field == field)
            .filter(|_| takes_defaults && field.allowed(o.verdict));
        let value = match (mine, default) {
            (Some(m), Some(d)) if m.append => Some(Arc::new(append_lists(ctx, &d.value, &m.value))),
            (Some(m), _) => Some(Arc::clone(&m.value)),
            (None, Some(d)) => Some(Arc::clone(&d.value)),
            (None, None) => None,
        };
        if let Some(v) = value {
            merged.push((field, v));
        }
    }
    if rule.kind == RuleKind::Rule {
        let required: &[OutField] = match o.verdict {
            Verdict::Approve => &[OutField::Refund, OutField::Route, OutField::Settlement],
            Verdict::Review => &[OutField::Refund, OutField::Route],
            Verdict::Deny => &[],
        };
        for f in required {
            if !merged.iter().any(|(g, _)| g == f) {
                ctx.diags.push(CheckError::MissingOutcomeField {
                    verdict: o.verdict.as_str(),
                    rule: rule.name.name.clone(),
                    field: f.name(),
                    src: src.clone(),
                    span: o.verdict_span.into(),
                });
            }
        }
    }
    CheckedOutcome {
        verdict: o.verdict,
        fields: merged,
    }
}

/// `documents += [x]`: the default list followed by the rule's. Both must
/// be lists written out, so the result is known when checking.
fn append_lists(ctx: &mut Ctx<'_>, base: &TExpr, extra: &TExpr) -> TExpr {
    match (&base.unnamed().kind, &extra.unnamed().kind) {
        (TKind::List(a), TKind::List(b)) => TExpr {
            kind: TKind::List(a.iter().chain(b).cloned().collect()),
            ty: base.ty.clone(),
            span: extra.span,
        },
        (a, _) => {
            let not_a_list = if matches!(a, TKind::List(_)) {
                extra
            } else {
                base
            };
            if not_a_list.ty != Ty::Error {
                ctx.diags.push(CheckError::TypeMismatch {
                    expected: "a list in brackets".into(),
                    found: not_a_list.ty.describe(),
                    help: "`+=` appends a bracketed list to a bracketed default, e.g. `documents += [photos]`".into(),
                    src: ctx.sources.named_source(not_a_list.span.file),
                    span: not_a_list.span.into(),
                    defined: Vec::new(),
                });
            }
            extra.clone()
        }
    }
}
