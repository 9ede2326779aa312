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
/// typed decoder's time). The size stays 24 bytes.
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
    Str(Arc<str>),
    Enum(u32),
    Timestamp(Timestamp),
    /// A date: a policy's constant, or a timestamp's local date moved.
    Date(Day),
    /// `a .. b`: a settlement window.
    Range(Day, Day),
    /// A list of outcome values, e.g. documents.
    List(Arc<[Value]>),
}
