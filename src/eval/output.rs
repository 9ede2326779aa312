//! What evaluation produces: the contract's decision object, its trace,
//! and the error object for requests that cannot be decided.

use std::sync::Arc;

use std::fmt;

use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::day::Day;
use crate::value::Text;
use crate::vocab::Verdict;
use crate::words::Word;

/// A request decided: the contract's decision object.
///
/// Built without allocating: who decided is one shared [`Decider`], the
/// words are held for the process ([`Word`]), lists of them are held in
/// place ([`Words`]); only a message made for the request is its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub request_id: Option<Text>,
    pub decision: Verdict,
    /// The rule that decided: the `after` rule that changed the verdict,
    /// if one did.
    pub by: &'static Decider,
    pub refund: Option<Refund>,
    pub installments: Option<Word>,
    pub return_shipping_paid_by: Option<Word>,
    pub settlement: Option<Settlement>,
    pub documents: Words,
    pub offers: Words,
    /// The message when it is not the rule's ([`Decider::message`]): a
    /// template filled in for this request.
    pub own_message: Option<Text>,
    pub trace: Option<Vec<RuleTrace>>,
}

impl Decision {
    /// A decision with nothing decided yet, for [`crate::eval::evaluate_into`]
    /// to fill in: a denial by no rule, naming nothing.
    pub fn blank(request_id: Option<Text>) -> Decision {
        static NOBODY: Decider = Decider {
            policy: "",
            policy_version: None,
            rule: "",
            message: "",
        };
        Decision {
            request_id,
            decision: Verdict::Deny,
            by: &NOBODY,
            refund: None,
            installments: None,
            return_shipping_paid_by: None,
            settlement: None,
            documents: Words::NONE,
            offers: Words::NONE,
            own_message: None,
            trace: None,
        }
    }

    pub fn policy(&self) -> &'static str {
        self.by.policy
    }

    /// The deciding policy's `version` setting: which text of the policy
    /// decided (`null` when it has none).
    pub fn policy_version(&self) -> Option<&'static str> {
        self.by.policy_version
    }

    pub fn rule(&self) -> &'static str {
        self.by.rule
    }

    pub fn message(&self) -> &str {
        self.own_message.as_deref().unwrap_or(self.by.message)
    }
}

/// The fields in the contract's order; `trace` only when explaining.
impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields = if self.trace.is_some() { 13 } else { 12 };
        let mut d = s.serialize_struct("Decision", fields)?;
        d.serialize_field("request_id", &self.request_id)?;
        d.serialize_field("decision", self.decision.as_str())?;
        d.serialize_field("policy", self.policy())?;
        d.serialize_field("policy_version", &self.policy_version())?;
        d.serialize_field("rule", self.rule())?;
        d.serialize_field("refund", &self.refund)?;
        d.serialize_field("installments", &self.installments)?;
        d.serialize_field("return_shipping_paid_by", &self.return_shipping_paid_by)?;
        d.serialize_field("settlement", &self.settlement)?;
        d.serialize_field("documents", &self.documents)?;
        d.serialize_field("offers", &self.offers)?;
        d.serialize_field("message", self.message())?;
        match &self.trace {
            Some(trace) => d.serialize_field("trace", trace)?,
            None => d.skip_field("trace")?,
        }
        d.end()
    }
}

/// The rule that decided, as its decisions name it: made when the
/// policies are compiled and held for the process
/// ([`crate::words::decider`]), named by reference by every decision of
/// the rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decider {
    pub policy: Word,
    pub policy_version: Option<Word>,
    pub rule: Word,
    /// What its decisions say unless the request changes it: the rule's
    /// `message` when that is a constant, else its label, else its name.
    pub message: Word,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refund {
    #[serde(serialize_with = "amount")]
    pub amount: Decimal,
    pub currency: Word,
    pub route: Word,
}

/// How many words [`Words`] holds in place.
const IN_PLACE: usize = 14;

/// Words of one vocabulary, in order: a decision's documents or offers.
/// Up to 14 are held as their places in the vocabulary, with nothing to
/// allocate, count or free; a longer list, or one of a vocabulary too long
/// for a byte to number, is shared.
#[derive(Clone)]
pub struct Words(Held);

#[derive(Clone)]
enum Held {
    InPlace {
        vocabulary: &'static [Word],
        len: u8,
        places: [u8; IN_PLACE],
    },
    Shared(Arc<[Word]>),
}

impl Words {
    pub const NONE: Words = Words(Held::InPlace {
        vocabulary: &[],
        len: 0,
        places: [0; IN_PLACE],
    });

    /// The words of `vocabulary` at `places`, each a place inside it.
    pub fn at(vocabulary: &'static [Word], places: impl Iterator<Item = usize> + Clone) -> Words {
        let mut held = [0; IN_PLACE];
        let mut len = 0;
        for p in places.clone() {
            match (held.get_mut(len), u8::try_from(p)) {
                (Some(slot), Ok(p)) => *slot = p,
                _ => return places.filter_map(|p| vocabulary.get(p).copied()).collect(),
            }
            len += 1;
        }
        Words(Held::InPlace {
            vocabulary,
            len: u8::try_from(len).unwrap_or(0),
            places: held,
        })
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Held::InPlace { len, .. } => usize::from(*len),
            Held::Shared(words) => words.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<Word> {
        match &self.0 {
            Held::InPlace {
                vocabulary,
                len,
                places,
            } => places
                .get(..usize::from(*len))?
                .get(i)
                .and_then(|p| vocabulary.get(usize::from(*p)))
                .copied(),
            Held::Shared(words) => words.get(i).copied(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Word> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl Default for Words {
    fn default() -> Words {
        Words::NONE
    }
}

impl FromIterator<Word> for Words {
    fn from_iter<I: IntoIterator<Item = Word>>(words: I) -> Words {
        Words(Held::Shared(words.into_iter().collect()))
    }
}

/// Lists of the same words are equal however they are held.
impl PartialEq for Words {
    fn eq(&self, other: &Words) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Words {}

impl fmt::Debug for Words {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Words {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// What a refund of `amount` pays: never below zero, and in cents, so that
/// what `after` rules compare is what the decision pays.
#[inline]
pub fn paid(amount: Decimal) -> Decimal {
    if amount.is_sign_negative() {
        Decimal::ZERO
    } else {
        round_cents(amount)
    }
}

/// An amount in whole cents, half a cent rounding away from zero.
#[inline]
pub fn round_cents(d: Decimal) -> Decimal {
    // Amounts are nearly always in cents already: no call to round them.
    if d.scale() <= 2 {
        return d;
    }
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// Money as the contract writes it: a string with two decimal places.
pub fn format_amount(d: &Decimal) -> String {
    format!("{:.2}", round_cents(*d))
}

fn amount<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    with_amount_text(d, |text| s.serialize_str(text))
}

/// `f` called with the amount as the contract writes it ([`format_amount`]),
/// built on the stack for the amounts a request can hold.
pub fn with_amount_text<R>(d: &Decimal, f: impl FnOnce(&str) -> R) -> R {
    let cents = round_cents(*d);
    match plain_cents(cents, &mut [0; 24]) {
        Some(text) => f(text),
        None => f(&format!("{cents:.2}")),
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
    with_date_text(*d, |text| s.serialize_str(text))
}

/// `f` called with the date as the contract writes it (`2025-01-03`).
pub fn with_date_text<R>(d: Day, f: impl FnOnce(&str) -> R) -> R {
    match d.iso(&mut [0; 10]) {
        Some(text) => f(text),
        None => f(&d.to_string()),
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
    pub request_id: Option<Text>,
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
    pub fn of_request(request_id: Option<Text>, e: &crate::request::RequestError) -> Failure {
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
                currency: "CNY",
                route: "alipay",
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

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn words_are_held_in_place_up_to_fourteen_and_shared_past_that() {
        let vocabulary = crate::words::vocabulary(["a", "b", "c"]);
        let few = Words::at(vocabulary, [2, 0, 2].into_iter());
        assert!(matches!(few.0, Held::InPlace { len: 3, .. }));
        assert_eq!(few.iter().collect::<Vec<_>>(), ["c", "a", "c"]);
        let many = Words::at(vocabulary, std::iter::repeat_n(1, 15));
        assert!(matches!(many.0, Held::Shared(_)));
        assert_eq!(many.len(), 15);
        assert!(many.iter().all(|w| w == "b"));
        let fourteen = Words::at(vocabulary, std::iter::repeat_n(1, 14));
        assert!(matches!(fourteen.0, Held::InPlace { len: 14, .. }));
        assert_eq!(fourteen, std::iter::repeat_n("b", 14).collect::<Words>());
        assert_eq!(serde_json::to_string(&few).unwrap(), r#"["c","a","c"]"#);
        assert_eq!(format!("{few:?}"), r#"["c", "a", "c"]"#);
        assert!(Words::NONE.is_empty() && Words::NONE == Words::default());

        let long: Vec<String> = (0..300).map(|i| format!("w{i}")).collect();
        let long = crate::words::vocabulary(long.iter().map(String::as_str));
        let far = Words::at(long, [3, 299].into_iter());
        assert!(matches!(far.0, Held::Shared(_)));
        assert_eq!(far.iter().collect::<Vec<_>>(), ["w3", "w299"]);
    }
}
