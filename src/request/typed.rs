//! The typed decoder: JSON text straight into a [`Request`]'s slots, in one
//! pass over the bytes, guided by the schema's [`Layout`]. A key that
//! names the member expected next is matched in the text, any other is
//! found in its group's hash table; a string is read in place (one with
//! escapes is undone into a buffer of its own); no document tree, path or
//! serde visitor is involved. Through serde_json's visitors, reading keys
//! and strings was close to half of decoding a request.
//!
//! It only ever accepts. At the first thing it would have to report (bad
//! syntax, a key given twice, a key the schema lacks, a wrong or invalid
//! value, a missing field, dates out of order) it gives up, and
//! [`Schema::decode_json`] reads the text again with the document decoder,
//! which reports exactly that, in the documented order, with its path. So
//! an error costs a second reading, and the two decoders cannot disagree on
//! what an error says. They cannot disagree on what a value is either: both
//! convert values with [`accept`] and check dates with [`out_of_order`].
//!
//! What it reads is strict JSON (RFC 8259), as serde_json reads it. Some
//! valid JSON is always an error for a request, and is left to the
//! document decoder without being read further: a number with a fraction
//! or an exponent, `-0` (a float to serde_json), an integer beyond 64
//! bits, an array, an object where a field's value belongs.

use std::borrow::Cow;

use super::Request;
use super::decode::{accept, out_of_order, request};
use super::doc::Kind;
use crate::schema::{Bits, Layout, Member, Schema};
use crate::value::Value;

/// The request `text` holds, when it is valid; `None` for anything the
/// document decoder must explain (or a schema without a layout).
pub(super) fn decode(schema: &Schema, text: &str) -> Option<Request> {
    let layout = schema.layout.as_ref()?;
    let mut reader = Reader {
        schema,
        layout,
        text,
        at: 0,
        values: layout.defaults.clone(),
        seen: Bits::default(),
        given: Bits::default(),
    };
    reader.space();
    reader.object(0)?;
    reader.space();
    if reader.at != text.len()
        || !reader.given.covers(&layout.required)
        || out_of_order(schema, &reader.values).is_some()
    {
        return None;
    }
    Some(request(schema, reader.values))
}

struct Reader<'s, 't> {
    schema: &'s Schema,
    layout: &'s Layout,
    text: &'t str,
    /// The next byte to read; always at a character boundary.
    at: usize,
    values: Vec<Value>,
    /// Fields and groups whose key was read: a second one is a duplicate.
    seen: Bits,
    /// Fields given a value other than `null`.
    given: Bits,
}

impl<'t> Reader<'_, 't> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Whitespace as JSON defines it; no other.
    #[inline]
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// `byte`, after any whitespace.
    #[inline]
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// `word` (`true`, `false`, `null`), at the next byte.
    #[inline]
    fn literal(&mut self, word: &str) -> Option<()> {
        let rest = self.text.as_bytes().get(self.at..)?;
        rest.starts_with(word.as_bytes())
            .then(|| self.at += word.len())
    }

    /// An object read as the group at `group`, from its `{`.
    fn object(&mut self, group: u32) -> Option<()> {
        let layout = self.layout;
        let members = layout.groups.get(group as usize)?;
        self.expect(b'{')?;
        self.space();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        // Where the previous key's member is in the group.
        let mut after = None;
        loop {
            self.expect(b'"')?;
            let rest = self.text.as_bytes().get(self.at..)?;
            let (bit, at) = match members.guess(rest, after) {
                Some((bit, at, len)) => {
                    self.at += len;
                    (bit, at)
                }
                None => members.find(&self.string()?, after)?,
            };
            after = Some(at);
            if self.seen.insert(bit) {
                return None;
            }
            self.expect(b':')?;
            self.space();
            match layout.member(bit)? {
                Member::Field(id) => self.field(id.0 as usize)?,
                // `null` for a group is the same as leaving it out.
                Member::Group(inner) => {
                    if self.peek()? == b'n' {
                        self.literal("null")?;
                    } else {
                        self.object(inner)?;
                    }
                }
            }
            self.space();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The value of the field with id `id`, stored in its slot.
    fn field(&mut self, id: usize) -> Option<()> {
        let kind = match self.peek()? {
            b'"' => {
                self.at += 1;
                let s = self.string()?;
                return self.store(id, Kind::Str(&s));
            }
            b't' => self.literal("true").map(|()| Kind::Bool(true))?,
            b'f' => self.literal("false").map(|()| Kind::Bool(false))?,
            // `null`: the field keeps its default, and counts as not given.
            b'n' => return self.literal("null"),
            b'-' | b'0'..=b'9' => Kind::Int(self.integer()?),
            _ => return None,
        };
        self.store(id, kind)
    }

    /// A value other than `null`, converted as the document decoder does.
    #[inline]
    fn store(&mut self, id: usize, kind: Kind<'_>) -> Option<()> {
        let field = self.schema.fields.get(id)?;
        let slot = self.values.get_mut(id)?;
        accept(field, kind, slot).then(|| {
            self.given.insert(id);
        })
    }

    /// An integer that fits in an `i64`: `-?(0|[1-9][0-9]*)`, with no
    /// fraction or exponent after it, and not `-0`.
    fn integer(&mut self) -> Option<i64> {
        let negative = self.peek()? == b'-';
        if negative {
            self.at += 1;
        }
        let start = self.at;
        let mut magnitude: u64 = 0;
        while let Some(b @ b'0'..=b'9') = self.peek() {
            magnitude = magnitude
                .checked_mul(10)?
                .checked_add(u64::from(b - b'0'))?;
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.text.as_bytes().get(start) == Some(&b'0');
        if digits == 0 || leading_zero || matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        if negative {
            // serde_json reads `-0` as a float.
            (magnitude != 0)
                .then(|| 0_i64.checked_sub_unsigned(magnitude))
                .flatten()
        } else {
            i64::try_from(magnitude).ok()
        }
    }

    /// A string's text, from after its opening quote to after its closing
    /// one: borrowed unless it has escapes.
    #[inline]
    fn string(&mut self) -> Option<Cow<'t, str>> {
        let text: &'t str = self.text;
        let bytes = text.as_bytes();
        let start = self.at;
        let mut at = start;
        // Eight bytes at a time to the first quote, backslash or control
        // character; then byte by byte.
        while let Some(chunk) = bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(chunk.try_into().ok()?);
            let stop = special(word);
            if stop != 0 {
                at += (stop.trailing_zeros() / 8) as usize;
                break;
            }
            at += 8;
        }
        loop {
            match *bytes.get(at)? {
                b'"' => break,
                b'\\' => {
                    self.at = at;
                    let mut own = String::from(text.get(start..at)?);
                    self.escaped(&mut own)?;
                    return Some(Cow::Owned(own));
                }
                // Control characters must be escaped.
                0..=0x1f => return None,
                _ => at += 1,
            }
        }
        self.at = at + 1;
        text.get(start..at).map(Cow::Borrowed)
    }

    /// The rest of a string with escapes, from a backslash to after the
    /// closing quote, appended to `own`.
    #[cold]
    fn escaped(&mut self, own: &mut String) -> Option<()> {
        loop {
            let c = self.text.get(self.at..)?.chars().next()?;
            self.at += c.len_utf8();
            match c {
                '"' => return Some(()),
                '\\' => {
                    let e = self.peek()?;
                    self.at += 1;
                    own.push(match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode()?,
                        _ => return None,
                    });
                }
                '\u{0}'..='\u{1f}' => return None,
                c => own.push(c),
            }
        }
    }

    /// The character of a `\u` escape, from after the `u`: a surrogate
    /// pair makes one; a lone surrogate is an error, as in serde_json.
    fn unicode(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high);
        }
        self.literal("\\u")?;
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return None;
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).ok()
    }
}

/// A word whose high bit is set in (at least) the lowest byte of `word`
/// that is a quote, a backslash or a control character, if there is one:
/// the classic "has a zero byte" test, on the word and on the word with
/// each quote and backslash turned into zero.
#[inline]
fn special(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |w: u64| w.wrapping_sub(ONES) & !w;
    let quote = zero(word ^ (ONES * u64::from(b'"')));
    let backslash = zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (quote | backslash | control) & HIGH
}

#[cfg(test)]
mod tests {
    use super::special;
    use proptest::prelude::*;

    proptest! {
        /// The word test finds the first quote, backslash or control byte
        /// of eight, whatever the bytes after it.
        #[test]
        fn special_finds_the_first_byte_to_stop_at(bytes in prop::array::uniform8(any::<u8>())) {
            let first = bytes
                .iter()
                .position(|b| matches!(b, b'"' | b'\\' | 0..=0x1f));
            let stop = special(u64::from_le_bytes(bytes));
            let found = (stop != 0).then(|| (stop.trailing_zeros() / 8) as usize);
            prop_assert_eq!(found, first);
        }
    }
}
