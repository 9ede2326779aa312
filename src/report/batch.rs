//! What a batch decided, summed up for operators and dashboards: counts by
//! decision and by rule, the approved refunds by route, errors by code.

use crate::words::Word;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::engine::Outcome;
use crate::eval::output::format_amount;
use crate::vocab::Verdict;

/// The sums of one batch. Maps are ordered, so the summary of the same
/// records is the same text whatever the order they were added in.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BatchSummary {
    pub records: u64,
    /// `approve`, `deny`, `review`, `error` → how many.
    pub decisions: BTreeMap<&'static str, u64>,
    /// (policy, rule) → how many requests it decided; shown as
    /// `policy/rule`. Keyed by the decision's shared names, so adding a
    /// record allocates nothing for a rule already seen.
    #[serde(serialize_with = "rule_counts")]
    pub rules: BTreeMap<(Word, Word), u64>,
    /// Route → currency → the sum of the approved refunds.
    #[serde(serialize_with = "amounts")]
    pub refunds: BTreeMap<String, BTreeMap<String, Decimal>>,
    /// Error code → how many.
    pub errors: BTreeMap<String, u64>,
}

fn rule_counts<S: serde::Serializer>(
    m: &BTreeMap<(Word, Word), u64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let shown: BTreeMap<String, u64> = m
        .iter()
        .map(|((policy, rule), n)| (format!("{policy}/{rule}"), *n))
        .collect();
    shown.serialize(s)
}

fn amounts<S: serde::Serializer>(
    m: &BTreeMap<String, BTreeMap<String, Decimal>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let shown: BTreeMap<&str, BTreeMap<&str, String>> = m
        .iter()
        .map(|(route, by)| {
            (
                route.as_str(),
                by.iter()
                    .map(|(c, d)| (c.as_str(), format_amount(d)))
                    .collect(),
            )
        })
        .collect();
    shown.serialize(s)
}

impl BatchSummary {
    pub fn add(&mut self, outcome: &Outcome) {
        self.records += 1;
        match outcome {
            Outcome::Decision(d) => {
                *self.decisions.entry(d.decision.as_str()).or_default() += 1;
                *self.rules.entry((d.by.policy, d.by.rule)).or_default() += 1;
                if d.decision == Verdict::Approve
                    && let Some(r) = &d.refund
                {
                    self.add_refund(r.route, r.currency, r.amount);
                }
            }
            Outcome::Failure(f) => {
                *self.decisions.entry("error").or_default() += 1;
                *self.errors.entry(f.error.code.clone()).or_default() += 1;
            }
        }
    }

    /// An approved refund's amount, added to its route's and currency's
    /// sum; the names are copied the first time they are seen only.
    fn add_refund(&mut self, route: &str, currency: &str, amount: Decimal) {
        let by_currency = match self.refunds.get_mut(route) {
            Some(m) => m,
            None => self.refunds.entry(route.to_owned()).or_default(),
        };
        let sum = match by_currency.get_mut(currency) {
            Some(sum) => sum,
            None => by_currency.entry(currency.to_owned()).or_default(),
        };
        *sum = sum.saturating_add(amount);
    }

    /// Adds the sums of records counted apart (a part of a chunk decided
    /// on another thread): the result is the same as adding each record
    /// here.
    pub fn merge(&mut self, other: BatchSummary) {
        self.records += other.records;
        for (k, n) in other.decisions {
            *self.decisions.entry(k).or_default() += n;
        }
        for (k, n) in other.rules {
            *self.rules.entry(k).or_default() += n;
        }
        for (route, sums) in other.refunds {
            for (currency, amount) in sums {
                self.add_refund(&route, &currency, amount);
            }
        }
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
    }

    /// For people: a line of counts, then a table per kind of sum.
    pub fn human(&self) -> String {
        let mut s = String::new();
        // In the order a decision reads, errors last.
        let counts: Vec<String> = ["approve", "deny", "review", "error"]
            .iter()
            .filter_map(|d| self.decisions.get(d).map(|n| format!("{n} {d}")))
            .collect();
        let _ = writeln!(
            s,
            "{} {}: {}",
            self.records,
            if self.records == 1 {
                "record"
            } else {
                "records"
            },
            if counts.is_empty() {
                "none".to_owned()
            } else {
                counts.join(", ")
            }
        );
        let table = |s: &mut String, title: &str, rows: Vec<(String, String)>| {
            if rows.is_empty() {
                return;
            }
            let _ = writeln!(s, "{title}:");
            let width = rows
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            let right = rows
                .iter()
                .map(|(_, v)| v.chars().count())
                .max()
                .unwrap_or(0);
            for (k, v) in rows {
                let _ = writeln!(s, "  {k:width$}  {v:>right$}");
            }
        };
        table(
            &mut s,
            "by rule",
            self.rules
                .iter()
                .map(|((policy, rule), n)| (format!("{policy}/{rule}"), n.to_string()))
                .collect(),
        );
        table(
            &mut s,
            "approved refunds by route",
            self.refunds
                .iter()
                .flat_map(|(route, by)| {
                    by.iter()
                        .map(move |(c, d)| (route.clone(), format!("{} {c}", format_amount(d))))
                })
                .collect(),
        );
        table(
            &mut s,
            "errors by code",
            self.errors
                .iter()
                .map(|(k, n)| (k.clone(), n.to_string()))
                .collect(),
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::output::{Decision, ErrorBody, Failure, Refund};

    fn decision(verdict: Verdict, rule: &str, refund: Option<(&str, &str)>) -> Outcome {
        Outcome::Decision(Decision {
            decision: verdict,
            by: crate::words::decider("mall", None, rule, rule),
            refund: refund.map(|(route, amount)| Refund {
                amount: amount.parse().unwrap(),
                currency: "CNY",
                route: crate::words::word(route),
            }),
            ..Decision::blank(None)
        })
    }

    fn error(code: &str) -> Outcome {
        Outcome::Failure(Failure {
            request_id: None,
            line: Some(3),
            policy: None,
            policy_version: None,
            error: ErrorBody {
                code: code.into(),
                path: String::new(),
                message: String::new(),
                help: None,
            },
            trace: None,
        })
    }

    /// Only approvals add to the refunds (a review's amount is not paid
    /// yet); the sums are exact decimals; the text does not depend on the
    /// order the records came in.
    #[test]
    fn sums_count_every_record_once_and_pay_only_approvals() {
        let outcomes = [
            decision(Verdict::Approve, "a", Some(("alipay", "0.10"))),
            decision(Verdict::Approve, "a", Some(("alipay", "0.20"))),
            decision(Verdict::Review, "big", Some(("alipay", "30000.00"))),
            decision(Verdict::Deny, "late", None),
            error("rpl::request::syntax"),
        ];
        let mut forward = BatchSummary::default();
        outcomes.iter().for_each(|o| forward.add(o));
        let mut backward = BatchSummary::default();
        outcomes.iter().rev().for_each(|o| backward.add(o));
        assert_eq!(forward, backward);
        // Counted in parts on other threads, then merged: the same sums.
        for split in 0..=outcomes.len() {
            let (a, b) = outcomes.split_at(split);
            let mut merged = BatchSummary::default();
            for part in [a, b, a] {
                let mut sums = BatchSummary::default();
                part.iter().for_each(|o| sums.add(o));
                merged.merge(sums);
            }
            let mut expected = forward.clone();
            a.iter().for_each(|o| expected.add(o));
            assert_eq!(merged, expected, "split at {split}");
        }
        assert_eq!(forward.records, 5);
        assert_eq!(
            forward.refunds["alipay"]["CNY"],
            "0.30".parse::<Decimal>().unwrap()
        );
        assert_eq!(
            forward.human(),
            "5 records: 2 approve, 1 deny, 1 review, 1 error\n\
             by rule:\n  mall/a     2\n  mall/big   1\n  mall/late  1\n\
             approved refunds by route:\n  alipay  0.30 CNY\n\
             errors by code:\n  rpl::request::syntax  1\n"
        );
        let json = serde_json::to_value(&forward).unwrap();
        assert_eq!(json["refunds"]["alipay"]["CNY"], "0.30");
        assert_eq!(json["decisions"]["error"], 1);
    }
}
