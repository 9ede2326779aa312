//! Stage 4: a decoded request + compiled policies → a decision (or the
//! reason there is none), with an optional trace of every rule considered.
//!
//! Order: the channel picks the policy; the request's currency must be the
//! policy's; `reject` rules run first (a match makes the request an error);
//! then `rule`s in order, the first that applies decides; then `after`
//! rules, the first that applies changes the verdict.

pub mod coverage;
mod error;
mod expr;
pub mod output;
mod plain;
#[cfg(test)]
mod tests;
mod trace;

use std::borrow::Cow;

pub use error::EvalError;
pub use output::{
    ConditionTrace, Decider, Decision, ErrorBody, Failure, Refund, RuleTrace, Settlement, Words,
};

use crate::check::hir::OutField;
use crate::compile::{Compiled, CompiledPolicy, CompiledRule, Plan, Planned};
use crate::request::Request;
use crate::value::{Text, Value};
use crate::vocab::Verdict;
use crate::words::Word;
use coverage::Hits;
use expr::{Decided, Evaluator, Fault, Got};

/// A request the policies turn away: a `reject` rule matched, or the
/// engine could not evaluate it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub error: ErrorBody,
    pub trace: Option<Vec<RuleTrace>>,
}

impl From<EvalError> for Rejection {
    fn from(e: EvalError) -> Rejection {
        with_trace(&e, &None)
    }
}

/// Evaluates one request. `explain` records the trace.
pub fn evaluate(
    compiled: &Compiled,
    request: &Request,
    explain: bool,
) -> Result<Decision, Rejection> {
    evaluate_covered(compiled, request, explain, None)
}

/// Evaluates one request, recording in `hits` (made for `compiled`) every
/// node evaluated and every rule that applied.
pub fn evaluate_covered(
    compiled: &Compiled,
    request: &Request,
    explain: bool,
    hits: Option<&mut Hits>,
) -> Result<Decision, Rejection> {
    let mut decision = Decision::blank(request.request_id.clone());
    evaluate_into(compiled, request, explain, hits, &mut decision).map(|()| decision)
}

/// [`evaluate_covered`] writing the decision into `decision`, made with
/// [`Decision::blank`]: a caller that holds the decision inside another
/// value (an `Outcome`) has it built there, not moved there; a decision
/// is a few hundred bytes. On an error, `decision` is left half made.
pub fn evaluate_into(
    compiled: &Compiled,
    request: &Request,
    explain: bool,
    hits: Option<&mut Hits>,
    decision: &mut Decision,
) -> Result<(), Rejection> {
    let schema = &compiled.schema;
    let channel = match request.get(schema.channel) {
        Value::Enum(i) => *i,
        _ => u32::MAX,
    };
    let Some((index, policy)) = compiled.policy_for_channel_indexed(channel) else {
        return Err(EvalError::NoPolicy {
            channel: schema.channels.variant(channel).to_string(),
            path: schema.field(schema.channel).path.clone(),
        }
        .into());
    };
    check_currency(compiled, policy, request)?;
    match hits.and_then(|h| h.policy_mut(index)) {
        // Nothing to record, nothing that needs the evaluator.
        None if !explain && policy.plain && plain::decide(compiled, policy, request, decision) => {
            Ok(())
        }
        // Nothing to record: the evaluator built without any bookkeeping.
        None if !explain => decide(
            compiled,
            Evaluator::<false>::new(policy, schema, request),
            None,
            decision,
        ),
        hits => {
            let mut ev = Evaluator::<true>::new(policy, schema, request);
            ev.hits = hits;
            ev.tested = explain.then(Vec::new);
            decide(compiled, ev, explain.then(Vec::new), decision)
        }
    }
}

/// The value of one node of `policy` for `request`, computed as deciding
/// computes it; `decided` is what `after` rules read (the verdict, the
/// refund, the index of the rule that decided). What static analysis
/// evaluates its sample requests with, so it never differs from deciding.
pub fn node_value(
    compiled: &Compiled,
    policy: &CompiledPolicy,
    request: &Request,
    decided: Option<(Verdict, Value, u32)>,
    node: crate::compile::NodeId,
) -> Result<Value, EvalError> {
    let mut ev = Evaluator::<false>::new(policy, &compiled.schema, request);
    ev.decided = decided.map(|(verdict, refund, rule)| Decided {
        verdict,
        refund,
        rule,
    });
    ev.eval(node).map_err(|e| *e)
}

/// Decides a request with the policy picked for its channel into
/// `decision`, a blank one; `trace` is `Some` when explaining.
fn decide<const WATCHED: bool>(
    compiled: &Compiled,
    mut ev: Evaluator<'_, WATCHED>,
    mut trace: Option<Vec<RuleTrace>>,
    decision: &mut Decision,
) -> Result<(), Rejection> {
    let (schema, policy) = (&compiled.schema, ev.policy);

    for (i, rule) in policy.rejects.iter().enumerate() {
        let matched =
            applies(&mut ev, i, rule, &mut trace, compiled).map_err(|e| with_trace(&e, &trace))?;
        if matched {
            let path = rule
                .when
                .and_then(|w| ev.first_field(w))
                .map(|f| schema.field(f).path.clone())
                .unwrap_or_default();
            let message = rule
                .label
                .as_deref()
                .map_or_else(|| format!("rejected by `{}`", rule.name), str::to_string);
            return Err(Rejection {
                error: ErrorBody {
                    code: format!("rpl::policy::{}", rule.name),
                    path,
                    message,
                    help: None,
                },
                trace,
            });
        }
    }

    let mut decided_by = None;
    for (i, rule) in policy.rules.iter().enumerate() {
        let at = policy.rejects.len() + i;
        if applies(&mut ev, at, rule, &mut trace, compiled).map_err(|e| with_trace(&e, &trace))? {
            decided_by = Some((i, rule));
            break;
        }
    }
    // The checker requires a rule without `when` in every policy.
    let Some((index, rule)) = decided_by else {
        let e = expr::internal(format!("no rule of policy `{}` applied", policy.name));
        return Err(with_trace(&e, &trace));
    };
    decision.decision = verdict_of(rule).map_err(|e| with_trace(&e, &trace))?;
    decision.by = rule.decider;
    set_fields(compiled, policy, &mut ev, rule, decision).map_err(|e| with_trace(&e, &trace))?;
    if decision.decision != Verdict::Deny && decision.refund.is_none() {
        let e = EvalError::IncompleteOutcome {
            rule: rule.name.to_string(),
            path: String::new(),
        };
        return Err(with_trace(&e, &trace));
    }

    // What `after` rules read, when there are any.
    if !policy.afters.is_empty() {
        ev.decided = Some(Decided {
            verdict: decision.decision,
            refund: decision
                .refund
                .as_ref()
                .map_or(Value::Absent, |r| Value::Money(r.amount)),
            rule: u32::try_from(index)
                .map_err(|_| with_trace(&expr::internal(format!("rule number {index}")), &trace))?,
        });
    }
    for (i, after) in policy.afters.iter().enumerate() {
        // A denial has no refund for a person to review.
        if decision.decision == Verdict::Deny && after.verdict == Some(Verdict::Review) {
            continue;
        }
        let at = policy.rejects.len() + policy.rules.len() + i;
        if applies(&mut ev, at, after, &mut trace, compiled).map_err(|e| with_trace(&e, &trace))? {
            apply_after(compiled, policy, &mut ev, after, decision)
                .map_err(|e| with_trace(&e, &trace))?;
            break;
        }
    }
    // Settled last: only an approval has a settlement, and its dates may
    // need the calendar, which must not fail a decision that has none.
    if decision.decision == Verdict::Approve {
        decision.settlement = settlement(&mut ev, rule).map_err(|e| with_trace(&e, &trace))?;
    }
    // Moved only when there is one, so that nothing is left to drop.
    if let Some(trace) = trace {
        decision.trace = Some(trace);
    }
    Ok(())
}

fn with_trace(e: &EvalError, trace: &Option<Vec<RuleTrace>>) -> Rejection {
    Rejection {
        error: ErrorBody::from_diagnostic(e, e.path()),
        trace: trace.clone(),
    }
}

/// Every money field's currency must be the policy's.
fn check_currency(
    compiled: &Compiled,
    policy: &CompiledPolicy,
    request: &Request,
) -> Result<(), EvalError> {
    for &currency_field in &compiled.currency_fields {
        if let Value::Str(c) = request.get(currency_field)
            && *c != policy.currency_text
        {
            return Err(EvalError::CurrencyMismatch {
                found: c.to_string(),
                expected: policy.currency.to_string(),
                policy: policy.name.to_string(),
                path: compiled.schema.field(currency_field).path.clone(),
            });
        }
    }
    Ok(())
}

/// Whether `rule` (number `index` of the policy's rejects, rules and
/// afters, for coverage) applies.
fn applies<const WATCHED: bool>(
    ev: &mut Evaluator<'_, WATCHED>,
    index: usize,
    rule: &CompiledRule,
    trace: &mut Option<Vec<RuleTrace>>,
    compiled: &Compiled,
) -> Result<bool, Fault> {
    if !WATCHED {
        return rule.test.as_ref().map_or(Ok(true), |t| ev.passes(t));
    }
    if let Some(t) = ev.tested.as_mut() {
        t.clear();
    }
    ev.test_depth = 0;
    let result = match rule.when {
        None => Ok(true),
        Some(w) => ev.holds(w),
    };
    if let Some(trace) = trace.as_mut() {
        let tested = ev.tested.take().unwrap_or_default();
        trace.push(trace::rule_trace(
            compiled,
            ev,
            rule,
            &tested,
            *result.as_ref().unwrap_or(&false),
        ));
        ev.tested = Some(tested);
    }
    if let (Ok(true), Some(hits)) = (&result, ev.hits.as_deref_mut()) {
        hits.record_applied(index);
    }
    result
}

/// The word of an enum outcome (`none` is absent); another kind of value,
/// or a value past the vocabulary, is a broken guarantee.
#[inline(always)]
fn word<const WATCHED: bool>(
    ev: &mut Evaluator<'_, WATCHED>,
    vocabulary: &'static [Word],
    p: &Planned,
) -> Result<Option<Word>, Fault> {
    match ev.pick(p)? {
        Got::Value(i) => place(vocabulary, i, p.field).map(Some),
        Got::Absent => Ok(None),
        Got::Other => Err(came_out_as(p.field, &ev.eval(p.node)?)),
    }
}

#[inline]
fn place(vocabulary: &'static [Word], i: u32, field: OutField) -> Result<Word, Fault> {
    vocabulary
        .get(i as usize)
        .copied()
        .ok_or_else(|| expr::internal(format!("`{}` has no value {i}", field.name())))
}

/// The words of a list of enum values, held in place.
fn words(vocabulary: &'static [Word], v: &Value, field: OutField) -> Result<Words, Fault> {
    let Value::List(items) = v else {
        return Err(came_out_as(field, v));
    };
    for item in items.iter() {
        match item {
            Value::Enum(i) => place(vocabulary, *i, field).map(drop)?,
            Value::Absent => {
                return Err(expr::internal(format!("`{}` holds nothing", field.name())));
            }
            v => return Err(came_out_as(field, v)),
        }
    }
    let places = items.iter().filter_map(|item| match item {
        Value::Enum(i) => Some(*i as usize),
        _ => None,
    });
    Ok(Words::at(vocabulary, places))
}

/// A text value to keep: moved when it was made, copied when it was read.
fn text(v: Cow<'_, Value>) -> Option<Text> {
    match v {
        Cow::Owned(Value::Str(s)) => Some(s),
        Cow::Borrowed(Value::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

fn came_out_as(field: OutField, v: &Value) -> Fault {
    expr::internal(format!("`{}` came out as {v:?}", field.name()))
}

/// A rule's verdict: only a `reject` rule has none, and those never decide.
#[inline]
fn verdict_of(rule: &CompiledRule) -> Result<Verdict, Fault> {
    rule.verdict
        .ok_or_else(|| expr::internal(format!("rule `{}` decided without a verdict", rule.name)))
}

fn set_fields<const WATCHED: bool>(
    compiled: &Compiled,
    policy: &CompiledPolicy,
    ev: &mut Evaluator<'_, WATCHED>,
    rule: &CompiledRule,
    d: &mut Decision,
) -> Result<(), Fault> {
    // Outcome fields need no trace of their own.
    let tested = if WATCHED { ev.tested.take() } else { None };
    let v = &compiled.vocab;
    let mut amount = None;
    let mut route = None;
    for p in &rule.plan {
        match p.field {
            OutField::Refund => {
                amount = match ev.amount(p)? {
                    Got::Value(m) => Some(output::paid(m)),
                    Got::Absent => None,
                    Got::Other => return Err(came_out_as(p.field, &ev.eval(p.node)?)),
                }
            }
            OutField::Route => route = word(ev, v.route, p)?,
            OutField::Installments => d.installments = word(ev, v.installments, p)?,
            OutField::ReturnShipping => d.return_shipping_paid_by = word(ev, v.return_shipping, p)?,
            // Evaluated once the verdict is final (see `settlement`).
            OutField::Settlement => {}
            OutField::Documents => {
                d.documents = words(v.documents, &*ev.operand(p.node)?, p.field)?
            }
            OutField::Offers => d.offers = words(v.offers, &*ev.operand(p.node)?, p.field)?,
            OutField::Message => {
                let value = ev.operand(p.node)?;
                match &*value {
                    // The rule's own message: the decision needs none of its own.
                    Value::Str(s) if **s == *d.by.message => {
                        d.own_message = None;
                    }
                    Value::Str(_) => d.own_message = text(value),
                    Value::Absent => {}
                    v => return Err(came_out_as(p.field, v)),
                }
            }
        }
    }
    if let (Some(amount), Some(route)) = (amount, route) {
        d.refund = Some(Refund {
            amount,
            currency: policy.currency,
            route,
        });
    }
    if WATCHED {
        ev.tested = tested;
    }
    Ok(())
}

/// The deciding rule's settlement window, if it has one.
#[inline]
fn settlement<const WATCHED: bool>(
    ev: &mut Evaluator<'_, WATCHED>,
    rule: &CompiledRule,
) -> Result<Option<Settlement>, Fault> {
    let Some(p) = rule.plan.iter().find(|p| p.field == OutField::Settlement) else {
        return Ok(None);
    };
    if !WATCHED && p.plan == Plan::None {
        return Ok(None);
    }
    let tested = ev.tested.take();
    let window = ev.window(p.node);
    ev.tested = tested;
    match window? {
        Got::Value((earliest, latest)) => Ok(Some(Settlement { earliest, latest })),
        Got::Absent => Ok(None),
        Got::Other => Err(came_out_as(OutField::Settlement, &ev.eval(p.node)?)),
    }
}

fn apply_after<const WATCHED: bool>(
    compiled: &Compiled,
    policy: &CompiledPolicy,
    ev: &mut Evaluator<'_, WATCHED>,
    after: &CompiledRule,
    d: &mut Decision,
) -> Result<(), Fault> {
    let verdict = verdict_of(after)?;
    d.decision = verdict;
    d.by = after.decider;
    d.own_message = None;
    // A review settles nothing until a person approves; a denial pays nothing.
    d.settlement = None;
    if verdict == Verdict::Deny {
        d.refund = None;
        d.installments = None;
        d.return_shipping_paid_by = None;
        d.documents = Words::NONE;
    }
    if !after.plan.is_empty() {
        let refund = d.refund.take();
        set_fields(compiled, policy, ev, after, d)?;
        if d.refund.is_none() {
            d.refund = refund;
        }
    }
    Ok(())
}
