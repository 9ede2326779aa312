//! Runtime values of request fields and policy expressions.

use std::sync::Arc;

use jiff::Timestamp;
use rust_decimal::Decimal;

use crate::day::Day;

/// A value as the evaluator sees it. Enum values are interned: `Enum(i)` is
/// the `i`-th variant of the field's (or output's) [`crate::schema::EnumType`].
/// Money carries no currency: a policy is written in one currency and the
/// engine rejects requests in another before evaluation.
///
/// The tag is a whole word, so that every payload starts at offset 8: a
/// value is then moved as three words. With a byte tag the compiler moves
/// bytes 1 to 7 in overlapping pieces, which the processor cannot forward
/// from store to load, and every move of a value stalled (a third of the
/// typed decoder's time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[repr(u64)]
pub enum Value {
    /// An optional field left out (or `null`), or an output with no value.
    #[default]
    Absent,
    Bool(bool),
    Int(i64),
    Decimal(Decimal),
    Money(Decimal),
    Str(Text),
    Enum(u32),
    Timestamp(Timestamp),
    /// A date: a policy's constant, or a timestamp's local date moved.
    Date(Day),
    /// `a .. b`: a settlement window.
    Range(Day, Day),
    /// A list of outcome values, e.g. documents.
    List(Arc<[Value]>),
}

/// A string value: up to [`Text::INLINE`] bytes held in place, a longer
/// one shared. A request's ids, SKU and currency are short: held in place,
/// decoding them allocates nothing, and a decision echoing the request id
/// copies it, with no count to change on another core.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; Text::INLINE] },
    Shared(Arc<str>),
}

/// `a.cmp(b)`, without rescaling when both have the same scale: amounts
/// of one currency nearly always do, and `Decimal`'s own comparison
/// rescales every time, several times the cost of the comparison itself.
#[inline]
pub fn cmp_decimal(a: &Decimal, b: &Decimal) -> std::cmp::Ordering {
    if a.scale() == b.scale() {
        a.mantissa().cmp(&b.mantissa())
    } else {
        a.cmp(b)
    }
}

impl Text {
    /// The most bytes held in place: what fits beside the length in the
    /// space a shared string takes with its tag.
    pub const INLINE: usize = 22;

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only ever filled from a whole `&str`: the bytes are UTF-8
            // (checked again, as the crate has no unsafe code).
            Repr::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Repr::Shared(s) => s,
        }
    }

    /// The text's bytes, without the check `as_str` makes: what texts are
    /// compared by.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Shared(s) => s.as_bytes(),
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        let mut bytes = [0; Text::INLINE];
        match (bytes.get_mut(..s.len()), u8::try_from(s.len())) {
            (Some(place), Ok(len)) => {
                place.copy_from_slice(s.as_bytes());
                Text(Repr::Inline { len, bytes })
            }
            _ => Text(Repr::Shared(Arc::from(s))),
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from(s.as_str())
    }
}

/// Shared as it is, however short: the same string, [`Text::is`] it.
impl From<Arc<str>> for Text {
    fn from(s: Arc<str>) -> Text {
        Text(Repr::Shared(s))
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

// By bytes: UTF-8 texts compare as their bytes do.
impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        match (&self.0, &other.0) {
            // Held in place, the bytes past the length are zero: the
            // whole arrays compare, with no call and no loop.
            (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => {
                a == b && x == y
            }
            _ => self.as_bytes() == other.as_bytes(),
        }
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h);
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_held_in_place_up_to_its_limit_and_reads_back() {
        for s in [
            "",
            "CNY",
            "GEN-00000000",
            &"x".repeat(22),
            &"y".repeat(23),
            "中文的文字",
        ] {
            let t = Text::from(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(t, Text::from(Arc::<str>::from(s)));
            assert_eq!(format!("{t:?}"), format!("{s:?}"));
            assert_eq!(
                matches!(t.0, Repr::Inline { .. }),
                s.len() <= Text::INLINE,
                "{s}"
            );
        }
        assert_ne!(Text::from("CN"), Text::from("CNY"));
        assert_ne!(Text::from("CNY"), Text::from("CNZ"));
        assert_eq!(Text::from(String::from("CNY")), Text::from("CNY"));
        assert!(Text::from("a") < Text::from("b"));
        assert!(Text::from("z") < Text::from("é"), "by code point, as str");
        assert_eq!(std::mem::size_of::<Text>(), 24);
    }

    proptest::proptest! {
        /// The fast path orders as `Decimal` does, across scales and signs
        /// and for negative zero.
        #[test]
        fn cmp_decimal_is_decimal_order(
            a in proptest::num::i64::ANY, sa in 0u32..6,
            b in proptest::num::i64::ANY, sb in 0u32..6,
        ) {
            let (a, b) = (Decimal::new(a, sa), Decimal::new(b, sb));
            proptest::prop_assert_eq!(cmp_decimal(&a, &b), a.cmp(&b));
            proptest::prop_assert_eq!(cmp_decimal(&a, &a), std::cmp::Ordering::Equal);
            let zero = Decimal::new(0, sa);
            proptest::prop_assert_eq!(cmp_decimal(&-zero, &zero), std::cmp::Ordering::Equal);
        }
    }
}
