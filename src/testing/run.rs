//! Deciding a case's request and comparing the outcome with what the case
//! expects.

use serde_json::Value as Json;

use super::{Case, Field, NONE, list_text, settlement_text};
use crate::engine::{Engine, Outcome};
use crate::eval::Failure;
use crate::eval::coverage::Hits;
use crate::eval::output::format_amount;
use crate::request::RequestError;

/// A case decided: its outcome (always with the trace) and what differs.
#[derive(Debug, Clone)]
pub struct CaseRun {
    pub outcome: Outcome,
    pub mismatches: Vec<Mismatch>,
}

impl CaseRun {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// An expected field the outcome does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub field: Field,
    pub expected: String,
    pub actual: String,
}

/// A case's request, ready to decide: the CLI reads request files once,
/// and every run of the suite (each mutant's too) decides the same input.
#[derive(Debug, Clone)]
pub enum Input {
    /// Written in the test file.
    Inline(Json),
    /// A request file's text; `toml` by its extension.
    Text { text: String, toml: bool },
    /// A request file that could not be read: its error object is the
    /// outcome.
    Unreadable(RequestError),
}

/// Decides a case's request, recording what it exercised in `hits` when
/// given. The outcome always carries the trace: a failing case shows it.
pub fn decide(engine: &Engine, input: &Input, hits: Option<&mut Hits>) -> Outcome {
    decide_with(engine, input, hits, true)
}

/// Decides a request without its trace: what mutation testing compares,
/// thousands of times, needs only the decision.
pub(super) fn judge(engine: &Engine, input: &Input) -> Outcome {
    decide_with(engine, input, None, false)
}

fn decide_with(engine: &Engine, input: &Input, hits: Option<&mut Hits>, explain: bool) -> Outcome {
    let schema = engine.schema();
    let decoded = match input {
        Input::Inline(json) => schema.decode_value(json),
        Input::Text { text, toml: true } => schema.decode_toml(text),
        Input::Text { text, toml: false } => schema.decode_json(text),
        Input::Unreadable(e) => return Outcome::Failure(Failure::of_request(None, e)),
    };
    match decoded {
        Ok(req) => engine.evaluate_covered(&req, explain, hits),
        Err(rejected) => Outcome::Failure(Failure::of_request(
            rejected.request_id.map(Into::into),
            &rejected.error,
        )),
    }
}

/// Compares an outcome with the case's expectations.
pub fn compare(case: &Case, outcome: Outcome) -> CaseRun {
    let mut mismatches: Vec<Mismatch> = case
        .expect
        .iter()
        .filter_map(|e| {
            let actual = actual(e.field, &outcome);
            (actual != e.value).then(|| Mismatch {
                field: e.field,
                expected: e.value.clone(),
                actual,
            })
        })
        .collect();
    // A case that expects a decision's fields expects a decision: `amount
    // = "none"` must not pass on a request that could not be read.
    if let Outcome::Failure(f) = &outcome
        && case.expect.iter().any(|e| e.field.of_decision())
        && !mismatches.iter().any(|m| m.field == Field::Decision)
    {
        mismatches.insert(
            0,
            Mismatch {
                field: Field::Error,
                expected: NONE.to_owned(),
                actual: f.error.code.clone(),
            },
        );
    }
    CaseRun {
        outcome,
        mismatches,
    }
}

/// A field of an outcome in the text expectations are written in; `none`
/// for what the outcome does not have.
pub(super) fn actual(field: Field, outcome: &Outcome) -> String {
    let none = || NONE.to_owned();
    let or_none = |v: Option<&str>| v.map_or_else(none, str::to_owned);
    match outcome {
        Outcome::Decision(d) => match field {
            Field::Decision => d.decision.as_str().to_owned(),
            Field::Rule => d.rule().to_string(),
            Field::Amount => d
                .refund
                .as_ref()
                .map_or_else(none, |r| format_amount(&r.amount)),
            Field::Currency => or_none(d.refund.as_ref().map(|r| r.currency)),
            Field::Route => or_none(d.refund.as_ref().map(|r| r.route)),
            Field::Installments => or_none(d.installments),
            Field::ReturnShipping => or_none(d.return_shipping_paid_by),
            Field::Settlement => d.settlement.map_or_else(none, |s| {
                settlement_text(s.earliest.date(), s.latest.date())
            }),
            Field::Documents => list_text(d.documents.iter()),
            Field::Offers => list_text(d.offers.iter()),
            Field::Message => d.message().to_string(),
            Field::Policy => d.policy().to_string(),
            Field::PolicyVersion => or_none(d.policy_version()),
            Field::Error | Field::ErrorPath => none(),
        },
        Outcome::Failure(f) => match field {
            Field::Error => f.error.code.clone(),
            Field::ErrorPath => f.error.path.clone(),
            Field::Policy => or_none(f.policy.as_deref()),
            Field::PolicyVersion => or_none(f.policy_version.as_deref()),
            _ => none(),
        },
    }
}
