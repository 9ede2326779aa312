//! Text from requests and policies on its way to a terminal: a control
//! character in a `request_id`, a message or a label could move the
//! cursor, recolour or retitle the terminal, or forge a line of output. In
//! text for people such characters are written visibly (`\u{1b}`); JSON
//! stays exact, with the same characters written as `\u` escapes.

use std::borrow::Cow;
use std::io;

use serde::Serialize;

/// Whether `c` must not reach a terminal raw: the C0 and C1 control
/// characters and DEL (line breaks and tabs included: inside one value
/// they would forge or misalign lines), the line and paragraph separators,
/// and the bidirectional controls, which reorder what is shown ("Trojan
/// Source").
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// `s` with every unsafe character written as `\u{1b}`.
pub fn visible(s: &str) -> Cow<'_, str> {
    escape_except(s, None)
}

/// Like [`visible`], but line breaks stay: for text whose lines were laid
/// out by this program (a rendered diagnostic).
pub fn visible_lines(s: &str) -> Cow<'_, str> {
    escape_except(s, Some('\n'))
}

fn escape_except(s: &str, keep: Option<char>) -> Cow<'_, str> {
    let unsafe_char = |c: char| is_unsafe(c) && Some(c) != keep;
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `value` as one line of compact JSON, with a final line break.
pub fn json_line<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(512);
    json_line_into(&mut out, value)?;
    // serde_json writes UTF-8 only.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// [`json_line`] appended to `out`, which keeps what it held before: on an
/// error, part of the line may have been appended.
pub fn json_line_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut *out,
        Safe(serde_json::ser::CompactFormatter),
    ))?;
    out.push(b'\n');
    Ok(())
}

/// `s` as a JSON string appended to `out`, escaped as [`json_line`]
/// escapes it.
pub fn json_str_into(out: &mut Vec<u8>, s: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = s.serialize(&mut serde_json::Serializer::with_formatter(
        &mut *out,
        Safe(serde_json::ser::CompactFormatter),
    ));
}

/// `value` as indented JSON, with a final line break.
pub fn json_pretty<T: Serialize + ?Sized>(
    writer: &mut impl io::Write,
    value: &T,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut *writer,
        Safe(serde_json::ser::PrettyFormatter::new()),
    ))?;
    writer.write_all(b"\n").map_err(serde_json::Error::io)
}

/// Whether any byte is 0x7f (DEL) or above, eight bytes at a time: adding
/// one to each byte sets its top bit exactly when it was 0x7f, and a byte
/// that carries over (0xff) has its top bit set already.
fn has_del_or_above(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const TOPS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = bytes.chunks_exact(8);
    let found = words.by_ref().any(|w| {
        let x = u64::from_ne_bytes(<[u8; 8]>::try_from(w).unwrap_or_default());
        (x | x.wrapping_add(ONES)) & TOPS != 0
    });
    found || words.remainder().iter().any(|&b| b >= 0x7f)
}

/// A JSON formatter that also writes DEL, the C1 controls, and the
/// separators and bidirectional controls as `\u` escapes, which
/// serde_json leaves raw (JSON only requires escaping C0). The JSON means
/// exactly the same.
struct Safe<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for Safe<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Every unsafe character serde_json leaves raw starts with one of
        // these bytes (DEL; U+0080-U+009F; U+061C; U+200E-U+2069): text
        // without them, nearly all text, is written as it is. ASCII below
        // DEL, most of it, needs one comparison a byte.
        let bytes = fragment.as_bytes();
        let raw = !has_del_or_above(bytes)
            || !bytes.iter().any(|b| matches!(b, 0x7f | 0xc2 | 0xd8 | 0xe2));
        if raw {
            return writer.write_all(bytes);
        }
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|(_, c)| is_unsafe(*c)) {
            let (before, after) = rest.split_at(i);
            writer.write_all(before.as_bytes())?;
            write!(writer, "\\u{:04x}", u32::from(c))?;
            rest = after.get(c.len_utf8()..).unwrap_or_default();
        }
        writer.write_all(rest.as_bytes())
    }

    // Everything else as the inner formatter does it: indentation.
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_written_visibly() {
        assert!(matches!(visible("退货 ok"), Cow::Borrowed(_)));
        assert_eq!(visible("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(visible("x\ny\tz\r"), "x\\u{a}y\\u{9}z\\u{d}");
        assert_eq!(visible("\u{7f}\u{9b}\u{202e}"), "\\u{7f}\\u{9b}\\u{202e}");
        assert_eq!(visible_lines("a\nb\u{7}"), "a\nb\\u{7}");
    }

    #[test]
    fn json_stays_exact_and_escapes_what_serde_json_leaves_raw() {
        let s = "id\u{1b}[31m\u{7f}\u{9b}\u{202e}é中\n";
        let line = json_line(&serde_json::json!({ "request_id": s })).unwrap();
        assert!(line.ends_with('\n'));
        assert!(!line.trim_end().chars().any(is_unsafe), "{line}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["request_id"], s);

        let mut pretty = Vec::new();
        json_pretty(&mut pretty, &serde_json::json!({ "a": [s] })).unwrap();
        let pretty = String::from_utf8(pretty).unwrap();
        assert!(pretty.contains("\n  \"a\": [\n"), "{pretty}");
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back["a"][0], s);
    }

    #[test]
    fn del_and_above_are_found_wherever_they_are() {
        for len in 0..20 {
            for at in 0..len {
                for b in [0x7f, 0x80, 0xc2, 0xe2, 0xff] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    assert!(has_del_or_above(&bytes), "{len} {at} {b:#x}");
                }
            }
            for b in [0x00, 0x1f, 0x20, 0x7e] {
                assert!(!has_del_or_above(&vec![b; len]), "{len} {b:#x}");
            }
        }
        assert!(!has_del_or_above(b"order_number payment_proof 2025-01-08"));
    }

    /// What lets text through without looking at its characters one by one.
    #[test]
    fn every_unsafe_character_serde_json_leaves_raw_starts_with_a_watched_byte() {
        for c in (' '..=char::MAX).filter(|c| is_unsafe(*c)) {
            let first = c.encode_utf8(&mut [0; 4]).as_bytes()[0];
            assert!(matches!(first, 0x7f | 0xc2 | 0xd8 | 0xe2), "{c:?}");
        }
    }
}
