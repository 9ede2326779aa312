//! What evaluation produces: the contract's decision object, its trace,
//! and the error object for requests that cannot be decided.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::day::Day;
use crate::vocab::Verdict;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub request_id: Option<Arc<str>>,
    #[serde(serialize_with = "verdict")]
    pub decision: Verdict,
    pub policy: Arc<str>,
    /// The deciding policy's `version` setting: which text of the policy
    /// decided (`null` when it has none).
    pub policy_version: Option<Arc<str>>,
    pub rule: Arc<str>,
    pub refund: Option<Refund>,
    pub installments: Option<Arc<str>>,
    pub return_shipping_paid_by: Option<Arc<str>>,
    pub settlement: Option<Settlement>,
    pub documents: Vec<Arc<str>>,
    pub offers: Vec<Arc<str>>,
    pub message: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<RuleTrace>>,
}

fn verdict<S: Serializer>(v: &Verdict, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refund {
    #[serde(serialize_with = "amount")]
    pub amount: Decimal,
    pub currency: Arc<str>,
    pub route: Arc<str>,
}

/// An amount in whole cents, half a cent rounding away from zero.
pub fn round_cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// Money as the contract writes it: a string with two decimal places.
pub fn format_amount(d: &Decimal) -> String {
    format!("{:.2}", round_cents(*d))
}

fn amount<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    let cents = round_cents(*d);
    match plain_cents(cents, &mut [0; 24]) {
        Some(text) => s.serialize_str(text),
        None => s.collect_str(&format_args!("{cents:.2}")),
    }
}

/// A non-negative amount of at most two decimal places written as
/// [`format_amount`] writes it, into `buf` rather than a new string; `None`
/// for other amounts (no refund is one), which take the longer way.
fn plain_cents(d: Decimal, buf: &mut [u8; 24]) -> Option<&str> {
    let scale = d.scale();
    if d.is_sign_negative() || scale > 2 {
        return None;
    }
    // Amounts a request can hold fit in 64 bits, whose division is cheap.
    let cents = u64::try_from(d.mantissa())
        .ok()?
        .checked_mul(10u64.pow(2 - scale))?;
    // Digits from the right: two decimals, the point, then the units.
    let mut at = buf.len();
    let mut put = |b: u8| -> Option<()> {
        at = at.checked_sub(1)?;
        *buf.get_mut(at)? = b;
        Some(())
    };
    let digit = |n: u64| b'0' + (n % 10) as u8;
    put(digit(cents))?;
    put(digit(cents / 10))?;
    put(b'.')?;
    let mut units = cents / 100;
    loop {
        put(digit(units))?;
        units /= 10;
        if units == 0 {
            break;
        }
    }
    std::str::from_utf8(buf.get(at..)?).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settlement {
    #[serde(serialize_with = "date")]
    pub earliest: Day,
    #[serde(serialize_with = "date")]
    pub latest: Day,
}

fn date<S: Serializer>(d: &Day, s: S) -> Result<S::Ok, S::Error> {
    match d.iso(&mut [0; 10]) {
        Some(text) => s.serialize_str(text),
        None => s.collect_str(d),
    }
}

/// One rule considered, in evaluation order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace {
    /// `reject`, `rule` or `after`.
    pub kind: &'static str,
    pub name: Arc<str>,
    pub label: Option<Arc<str>>,
    /// `file:line:column` of the rule.
    pub location: String,
    /// Whether the rule applied.
    pub matched: bool,
    /// Each test evaluated, in order; evaluation stops at the first that
    /// decides the condition, so later tests are not listed.
    pub conditions: Vec<ConditionTrace>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionTrace {
    pub location: String,
    /// The test as written in the policy.
    pub condition: String,
    /// The request values it read, by field path; timestamps in the
    /// policy's time zone.
    pub values: Vec<FieldValue>,
    /// `true`, `false`, or `null` when a value it needs is absent.
    pub result: Option<bool>,
    /// For a failed date window: what would have passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldValue {
    pub field: String,
    pub value: String,
}

/// The contract's error object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub request_id: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The policy that was deciding when the error arose, with its
    /// `version`; absent for a request no policy was picked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<Arc<str>>,
    pub error: ErrorBody,
    /// Only when explaining: the rules considered before the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<RuleTrace>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    pub code: String,
    pub path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Failure {
    /// The error object of a request that could not be read or decoded.
    pub fn of_request(request_id: Option<Arc<str>>, e: &crate::request::RequestError) -> Failure {
        Failure {
            request_id,
            line: None,
            policy: None,
            policy_version: None,
            error: ErrorBody::from(e),
            trace: None,
        }
    }
}

impl From<&crate::request::RequestError> for ErrorBody {
    fn from(e: &crate::request::RequestError) -> ErrorBody {
        ErrorBody {
            code: e.code().to_string(),
            path: e.path().to_string(),
            message: e.message().to_string(),
            help: e.help_text().map(str::to_string),
        }
    }
}

impl ErrorBody {
    pub fn from_diagnostic(d: &dyn miette::Diagnostic, path: &str) -> ErrorBody {
        ErrorBody {
            code: d.code().map(|c| c.to_string()).unwrap_or_default(),
            path: path.to_string(),
            message: d.to_string(),
            help: d.help().map(|h| h.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_encoded_as_format_amount_writes_them() {
        let amounts = [
            "0",
            "0.00",
            "0.5",
            "0.05",
            "4999",
            "4999.00",
            "4999.995",
            "0.004",
            "-0",
            "-0.00",
            "-12.345",
            "-0.001",
            "1e-28",
            "20000.00",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "7922816251426433759354395033.5",
        ];
        let steps = (0..20_000).map(|i| Decimal::new(i * 7919 % 1_000_003, (i % 5) as u32));
        for d in amounts
            .iter()
            .map(|a| {
                a.parse::<Decimal>()
                    .unwrap_or_else(|_| Decimal::from_scientific(a).unwrap())
            })
            .chain(steps)
        {
            let encoded = serde_json::to_string(&Refund {
                amount: d,
                currency: "CNY".into(),
                route: "alipay".into(),
            })
            .unwrap();
            let expected = format!(
                r#"{{"amount":"{}","currency":"CNY","route":"alipay"}}"#,
                format_amount(&d)
            );
            assert_eq!(encoded, expected, "{d}");
        }
    }
}
