//! Differential fuzzing of the typed decoder against the document decoder:
//! many hostile variants of a request, and many valid ones written in
//! unusual ways. `cargo test` runs proptest's default number of cases; a
//! campaign runs millions (a helper ran 23 million without a
//! disagreement when the typed decoder got its own JSON reader):
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test --release --lib request::tests::fuzz -- --nocapture
//! ```
//!
//! Every case is one `u64` seed drawn by proptest; a small deterministic
//! random source turns it into a document. A disagreement is cut down to a
//! small input (tokens, then characters, removed while the decoders still
//! disagree) and reported with the seed.

use std::cell::Cell;
use std::fmt::Write as _;

use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;

use super::*;
use crate::day::Day;
use crate::schema::{Field, FieldType};
use crate::testing::SplitMix64;

/// The crate's generator, with the draws the generators below use.
pub(super) struct Dice(SplitMix64);

impl Dice {
    fn new(seed: u64) -> Dice {
        Dice(SplitMix64::new(seed))
    }

    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// `0..n`; 0 when `n` is 0.
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// `lo..=hi`.
    fn range(&mut self, lo: i128, hi: i128) -> i128 {
        let span = (hi - lo) as u128 + 1;
        lo + (u128::from(self.next()) % span) as i128
    }
}

/// A document as the generators build it.
#[derive(Clone, Debug)]
enum Node {
    /// Members in order.
    Obj(Vec<(Key, Node)>),
    /// A string value, written with the style's escapes.
    Str(String),
    /// JSON text written as it is, valid or not.
    Raw(String),
}

#[derive(Clone, Debug)]
enum Key {
    /// A key, written with the style's escapes.
    Name(String),
    /// The key's text as written, quotes and all, valid or not.
    Raw(String),
}

impl Node {
    fn members(&mut self) -> Option<&mut Vec<(Key, Node)>> {
        match self {
            Node::Obj(m) => Some(m),
            _ => None,
        }
    }
}

/// How a document is written out.
#[derive(Clone, Copy)]
struct Style {
    /// Per mille: how often a character that need not be escaped is.
    escape: usize,
    key_escape: usize,
    /// 0 none, 1 one space, 2 random JSON whitespace, 3 also, rarely,
    /// whitespace JSON does not have.
    ws: u8,
}

impl Style {
    fn draw(d: &mut Dice, hostile: bool) -> Style {
        let rate = |d: &mut Dice| d.pick(&[0, 0, 0, 20, 200, 500, 1000]);
        Style {
            escape: rate(d),
            key_escape: rate(d),
            ws: if hostile && d.one_in(4) {
                3
            } else {
                d.pick(&[0, 1, 2, 2])
            },
        }
    }
}

fn ws(d: &mut Dice, style: &Style, out: &mut String) {
    match style.ws {
        0 => {}
        1 => out.push(' '),
        2 => {
            for _ in 0..d.below(4) {
                out.push(d.pick(&[' ', '\t', '\n', '\r']));
            }
        }
        _ => {
            for _ in 0..d.below(3) {
                out.push(if d.one_in(40) {
                    d.pick(&[
                        '\u{a0}', '\u{b}', '\u{c}', '\u{feff}', '\u{2028}', '\u{0}', '\u{85}',
                        '\u{3000}', '\u{1c}',
                    ])
                } else {
                    d.pick(&[' ', '\t', '\n', '\r'])
                });
            }
        }
    }
}

/// `\uXXXX`, each hex digit in either case.
fn unicode_escape(d: &mut Dice, unit: u16, out: &mut String) {
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        let digit = char::from_digit(u32::from((unit >> shift) & 0xf), 16).unwrap_or('0');
        out.push(if d.one_in(2) {
            digit.to_ascii_uppercase()
        } else {
            digit
        });
    }
}

fn write_str(s: &str, d: &mut Dice, escape: usize, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        let forced = matches!(c, '"' | '\\' | '\u{0}'..='\u{1f}');
        if !forced && (escape == 0 || d.below(1000) >= escape) {
            out.push(c);
            continue;
        }
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '/' => Some("\\/"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            _ => None,
        };
        match short {
            Some(e) if !d.one_in(3) => out.push_str(e),
            _ => {
                let mut units = [0u16; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    unicode_escape(d, unit, out);
                }
            }
        }
    }
    out.push('"');
}

fn render(node: &Node, d: &mut Dice, style: &Style, out: &mut String) {
    match node {
        Node::Str(s) => write_str(s, d, style.escape, out),
        Node::Raw(r) => out.push_str(r),
        Node::Obj(members) => {
            out.push('{');
            ws(d, style, out);
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    ws(d, style, out);
                }
                match k {
                    Key::Name(n) => write_str(n, d, style.key_escape, out),
                    Key::Raw(r) => out.push_str(r),
                }
                ws(d, style, out);
                out.push(':');
                ws(d, style, out);
                render(v, d, style, out);
                ws(d, style, out);
            }
            out.push('}');
        }
    }
}

fn document(root: &Node, d: &mut Dice, style: &Style) -> String {
    let mut out = String::new();
    ws(d, style, &mut out);
    render(root, d, style, &mut out);
    ws(d, style, &mut out);
    out
}

// ----- valid values -------------------------------------------------------

/// Characters strings are made of: mostly plain, some that must or may
/// be escaped, some of every UTF-8 length.
const PLAIN: &[char] = &[
    'a', 'b', 'z', 'A', 'Z', '0', '9', '-', '_', ' ', '.', ':', ',', '{', '}', '[', ']',
];
const SPECIAL: &[char] = &[
    '"',
    '\\',
    '/',
    '\u{0}',
    '\u{1}',
    '\u{8}',
    '\t',
    '\n',
    '\u{c}',
    '\r',
    '\u{1f}',
    '\u{7f}',
    '\u{80}',
    '\u{a0}',
    'é',
    '\u{7ff}',
    '\u{800}',
    '中',
    '\u{2028}',
    '\u{feff}',
    '\u{fffd}',
    '\u{ffff}',
    '\u{10000}',
    '😀',
    '\u{10ffff}',
    'u',
    'n',
    't',
    'f',
];

fn string(d: &mut Dice) -> String {
    let len = match d.below(4) {
        0 => d.pick(&[
            0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 21, 22, 23, 24, 25, 31, 32, 33,
        ]),
        1 => d.below(12),
        2 => d.below(40),
        _ => d.below(120),
    };
    let special = d.pick(&[0, 0, 5, 20, 50, 100]);
    (0..len)
        .map(|_| {
            if d.below(100) < special {
                d.pick(SPECIAL)
            } else {
                d.pick(PLAIN)
            }
        })
        .collect()
}

/// An amount of at least `min` with at most `places` digits after the
/// point, and its value.
fn amount(d: &mut Dice, min: Option<Decimal>, places: u32) -> (String, Decimal) {
    for _ in 0..8 {
        let negative_zero = d.one_in(10);
        let int_len = match d.below(4) {
            0 => 1,
            1 => d.below(6) + 1,
            2 => d.below(20) + 1,
            _ => d.below(26) + 1,
        };
        let frac_len = if d.one_in(3) {
            None
        } else {
            Some(d.below(places as usize + 1))
        };
        // `1.` is not an amount: a point has digits after it.
        let frac_len = frac_len.filter(|&n| n > 0);
        let zeros = if d.one_in(6) { d.below(3) } else { 0 };
        let mut text = String::new();
        let mut mantissa: i128 = 0;
        if negative_zero {
            text.push('-');
        }
        for _ in 0..zeros {
            text.push('0');
        }
        for i in 0..int_len {
            let digit = if negative_zero {
                0
            } else if i == 0 && int_len > 1 {
                d.below(9) + 1
            } else {
                d.below(10)
            };
            text.push(char::from(b'0' + digit as u8));
            mantissa = mantissa * 10 + digit as i128;
        }
        let scale = frac_len.unwrap_or(0);
        if let Some(n) = frac_len {
            text.push('.');
            for _ in 0..n {
                let digit = if negative_zero { 0 } else { d.below(10) };
                text.push(char::from(b'0' + digit as u8));
                mantissa = mantissa * 10 + digit as i128;
            }
        }
        if int_len + scale > 28 {
            continue;
        }
        let value = Decimal::from_i128_with_scale(mantissa, scale as u32);
        if min.is_none_or(|m| value >= m) {
            return (text, value);
        }
    }
    ("0".to_owned(), Decimal::ZERO)
}

fn integer(d: &mut Dice, min: Option<i64>, max: Option<i64>) -> i64 {
    let lo = i128::from(min.unwrap_or(i64::MIN));
    let hi = i128::from(max.unwrap_or(i64::MAX));
    let n = match d.below(6) {
        0 => lo,
        1 => hi,
        2 => lo + d.range(0, 2),
        3 => lo + d.range(0, 1000),
        4 => lo + d.range(0, 1 << 53),
        _ => d.range(lo, hi),
    };
    n.clamp(lo, hi) as i64
}

/// An instant, as seconds and nanoseconds, somewhere in 0001..9998.
fn instant(d: &mut Dice) -> (i64, i32) {
    let year_secs = 31_556_952_i64;
    let second = match d.below(6) {
        // Around now.
        0 | 1 => 1_735_000_000 + d.range(-3 * year_secs as i128, 3 * year_secs as i128) as i64,
        // Around the epoch, either side.
        2 => d.range(-200_000, 200_000) as i64,
        // Around a leap day.
        3 => {
            let year = d.pick(&[4, 400, 1600, 1896, 1900, 2000, 2024, 2100, 2400, 9996]);
            let day = Day::from_ymd(year, 2, 29)
                .or_else(|| Day::from_ymd(year, 2, 28))
                .unwrap_or_default();
            day.utc_seconds() + d.range(-200_000, 200_000) as i64
        }
        // Near the ends of four-digit years.
        4 => {
            if d.one_in(2) {
                -62_135_596_800 + d.range(0, 400_000) as i64
            } else {
                253_402_300_799 - 86_400 * 365 - d.range(0, 400_000) as i64
            }
        }
        _ => d.range(-62_135_596_800, 253_402_300_799 - 86_400 * 366) as i64,
    };
    let digits = d.below(10) as u32;
    let nanos = if digits == 0 {
        0
    } else {
        (d.below(1_000_000_000) as i32 / 10_i32.pow(9 - digits)) * 10_i32.pow(9 - digits)
    };
    (second, nanos)
}

/// The instant written as an RFC 3339 timestamp with a random offset
/// and spelling; `None` when it falls outside four-digit years there.
fn timestamp_text(d: &mut Dice, (second, nanos): (i64, i32)) -> Option<String> {
    let offset = match d.below(4) {
        0 => 0,
        1 => d.pick(&[480, -300, 330, 345, -570, 840, -720]),
        2 => d.pick(&[1439, -1439, 1, -1]),
        _ => d.range(-1439, 1439) as i64,
    };
    let local = jiff::Timestamp::from_second(second.checked_add(offset * 60)?).ok()?;
    let dt = jiff::tz::TimeZone::UTC.to_datetime(local);
    if !(0..=9999).contains(&dt.year()) {
        return None;
    }
    let mut s = format!(
        "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        if d.one_in(5) { 't' } else { 'T' },
        dt.hour(),
        dt.minute(),
        // A leap second reads as the last second of its minute.
        if dt.second() == 59 && d.one_in(2) {
            60
        } else {
            dt.second()
        },
    );
    if nanos != 0 || d.one_in(8) {
        let digits = format!("{nanos:09}");
        let keep = digits.trim_end_matches('0').len().max(1);
        let keep = d.range(keep as i128, 9) as usize;
        s.push('.');
        s.push_str(&digits[..keep]);
    }
    if offset == 0 && !d.one_in(3) {
        s.push(if d.one_in(4) { 'z' } else { 'Z' });
    } else {
        let sign = if offset < 0 || (offset == 0 && d.one_in(2)) {
            '-'
        } else {
            '+'
        };
        let m = offset.abs();
        let _ = write!(s, "{sign}{:02}:{:02}", m / 60, m % 60);
    }
    Some(s)
}

/// The fields' timestamps, in an order that keeps every chronology
/// rule: a field comes after the ones that must not be later.
fn chronological(d: &mut Dice) -> Vec<(usize, (i64, i32))> {
    let schema = &*SCHEMA;
    let mut left: Vec<usize> = (0..schema.fields.len())
        .filter(|&i| schema.fields[i].ty == FieldType::Timestamp)
        .collect();
    let mut order = Vec::new();
    while !left.is_empty() {
        let free = left.iter().position(|&f| {
            !schema
                .constraints
                .iter()
                .any(|c| c.later.0 as usize == f && left.contains(&(c.earlier.0 as usize)))
        });
        let at = free.unwrap_or(0);
        order.push(left.remove(at));
    }
    let mut instants: Vec<(i64, i32)> = (0..order.len()).map(|_| instant(d)).collect();
    instants.sort();
    // Equal instants are in order: written with other offsets, often.
    for i in 1..instants.len() {
        if d.one_in(5) {
            instants[i] = instants[i - 1];
        }
    }
    order.into_iter().zip(instants).collect()
}

/// A valid value of `field` as written, and as decoded.
fn valid_value(d: &mut Dice, field: &Field, instant: Option<(i64, i32)>) -> Option<(Node, Value)> {
    Some(match &field.ty {
        FieldType::String => {
            let s = string(d);
            (Node::Str(s.clone()), Value::Str(s.as_str().into()))
        }
        FieldType::Int { min, max } => {
            let n = integer(d, *min, *max);
            (Node::Raw(n.to_string()), Value::Int(n))
        }
        FieldType::Decimal { min, max_scale } => {
            let (text, v) = amount(d, *min, *max_scale);
            (Node::Str(text), Value::Decimal(v))
        }
        FieldType::Money { min, max_scale, .. } => {
            let (text, mut v) = amount(d, *min, *max_scale);
            v.rescale(*max_scale);
            (Node::Str(text), Value::Money(v))
        }
        FieldType::Bool => {
            let b = d.one_in(2);
            (Node::Raw(b.to_string()), Value::Bool(b))
        }
        FieldType::Enum(e) => {
            let i = d.below(e.variants().len());
            (Node::Str(e.variants()[i].clone()), Value::Enum(i as u32))
        }
        FieldType::Timestamp => {
            let (second, nanos) = instant?;
            let text = timestamp_text(d, (second, nanos))?;
            let t = jiff::Timestamp::new(second, nanos).ok()?;
            (Node::Str(text), Value::Timestamp(t))
        }
        FieldType::Currency => {
            let s: String = (0..3)
                .map(|_| char::from(b'A' + d.below(26) as u8))
                .collect();
            (Node::Str(s.clone()), Value::Str(s.as_str().into()))
        }
    })
}

/// The object at `path` (dotted groups) under `root`, made if missing.
fn group<'n>(root: &'n mut Node, path: &[&str]) -> &'n mut Node {
    let mut node = root;
    for seg in path {
        let members = node.members().expect("groups are objects");
        let at = match members
            .iter()
            .position(|(k, _)| matches!(k, Key::Name(n) if n == seg))
        {
            Some(at) => at,
            None => {
                members.push((Key::Name((*seg).to_owned()), Node::Obj(Vec::new())));
                members.len() - 1
            }
        };
        node = &mut members[at].1;
    }
    node
}

fn key_text(k: &Key) -> &str {
    match k {
        Key::Name(n) | Key::Raw(n) => n,
    }
}

/// Every object's members in a new order: the schema's, alphabetical,
/// reversed, or shuffled.
fn reorder(node: &mut Node, d: &mut Dice, how: usize) {
    let Some(members) = node.members() else {
        return;
    };
    let how = if how == 9 { d.below(6) } else { how };
    match how {
        0 => {}
        1 => members.sort_by(|a, b| key_text(&a.0).cmp(key_text(&b.0))),
        2 => members.sort_by(|a, b| key_text(&b.0).cmp(key_text(&a.0))),
        3 => members.reverse(),
        4 if members.len() > 1 => {
            // One neighbouring swap in schema order.
            let i = d.below(members.len() - 1);
            members.swap(i, i + 1);
        }
        _ => {
            for i in (1..members.len()).rev() {
                let j = d.below(i + 1);
                members.swap(i, j);
            }
        }
    }
    for (_, v) in members.iter_mut() {
        reorder(v, d, how);
    }
}

/// A valid request, and the request it decodes to.
fn valid(d: &mut Dice) -> (Node, Request) {
    'again: loop {
        let schema = &*SCHEMA;
        let instants = chronological(d);
        let mut root = Node::Obj(Vec::new());
        let mut values = Vec::new();
        for (i, field) in schema.fields.iter().enumerate() {
            let instant = instants.iter().find(|(f, _)| *f == i).map(|(_, t)| *t);
            let segs: Vec<&str> = field.path.split('.').collect();
            let (name, parents) = segs.split_last().expect("a path has a name");
            let parent = group(&mut root, parents);
            let members = parent.members().expect("an object");
            if !field.required && d.one_in(3) {
                if d.one_in(2) {
                    members.push((Key::Name((*name).to_owned()), Node::Raw("null".into())));
                }
                values.push(field.default.clone());
                continue;
            }
            let Some((node, value)) = valid_value(d, field, instant) else {
                continue 'again;
            };
            members.push((Key::Name((*name).to_owned()), node));
            values.push(value);
        }
        let how = d.pick(&[0, 0, 1, 1, 2, 3, 4, 5, 9]);
        reorder(&mut root, d, how);
        return (root, decode::request(schema, values));
    }
}

// ----- hostile edits --------------------------------------------------------

const VALUES: &[&str] = &[
    // Numbers, and what looks like them.
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "12",
    "01",
    "-01",
    "00",
    "-",
    "--1",
    "+1",
    "1.",
    "1.0",
    "1e0",
    "1E2",
    "1e+2",
    "1e-2",
    ".5",
    "0.5",
    "-0.0",
    "1.5",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "1x",
    "0x10",
    "1_0",
    "1 2",
    "Infinity",
    "NaN",
    "-Infinity",
    "1e400",
    "-1e400",
    "0e",
    "1e",
    // Literals, their prefixes and extensions.
    "true",
    "false",
    "null",
    "tru",
    "fals",
    "nul",
    "truex",
    "nullnull",
    "True",
    "NULL",
    "t",
    "n",
    "f",
    "truefalse",
    "false1",
    "null,",
    "nulL",
    // Containers.
    "{}",
    "[]",
    "[1]",
    "{\"a\":1}",
    "{",
    "[",
    "}",
    "]",
    "[null]",
    "{\"sku\":\"x\"}",
    "{\"sku\":null}",
    "{\"order_id\":\"1\"}",
    // Strings.
    "\"\"",
    "\"x\"",
    "\"\\u0000\"",
    "\"\\ud83d\\ude00\"",
    "\"\\uD83D\\uDE00\"",
    "\"\\ud83d\"",
    "\"\\ude00\"",
    "\"\\ud83d\\u0041\"",
    "\"\\ud83d\\ud83d\\ude00\"",
    "\"\\ud83dx\"",
    "\"\\ud83d\\\"",
    "\"\\ud83d\\n\"",
    "\"\\udbff\\udfff\"",
    "\"\\ud800\\udc00\"",
    "\"\\u00g1\"",
    "\"\\u00\"",
    "\"\\u\"",
    "\"\\x\"",
    "\"\\'\"",
    "\"\\a\"",
    "\"\\U0041\"",
    "\"\\u+041\"",
    "\"\\u-041\"",
    "\"\t\"",
    "\"\u{7f}\"",
    "\"\u{1}\"",
    "\"\u{1f}\"",
    "\"\\/\"",
    "\"a\\\"",
    "\"abc",
    "\"\\\"",
    "'x'",
    "\"\\u00e9\"",
    "\"é\"",
    "\"a\u{0}b\"",
    "\"12345678\\\"\"",
    "\"1234567\\\\\"",
    "\"123456789abcdef\u{1}\"",
    // Amounts.
    "\"4999\"",
    "\"4999.0\"",
    "\"4999.00\"",
    "\"4999.000\"",
    "\"-0\"",
    "\"-0.00\"",
    "\"-0.01\"",
    "\"-1\"",
    "\"0\"",
    "\"00\"",
    "\"1.\"",
    "\".5\"",
    "\"1e3\"",
    "\"+1\"",
    "\" 1\"",
    "\"1 \"",
    "\"-\"",
    "\"--1\"",
    "\"1.2.3\"",
    "\"١\"",
    "\"1\\u002e00\"",
    "\"123456789012345678\"",
    "\"1234567890123456789\"",
    "\"12345678901234567.89\"",
    "\"1234567890123456.78\"",
    "\"123456789012345678.9\"",
    "\"999999999999999999\"",
    "\"9999999999999999.99\"",
    "\"99999999999999999.99\"",
    "\"999999999999999999.99\"",
    "\"9223372036854775807\"",
    "\"9223372036854775808\"",
    "\"92233720368547758.08\"",
    "\"79228162514264337593543950335\"",
    "\"79228162514264337593543950336\"",
    "\"7922816251426433759354395033.5\"",
    "\"792281625142643375935439503.35\"",
    "\"0000000000000000000000000000001.00\"",
    "\"-0000000000000000000000.00\"",
    "\"00000000000000000001\"",
    "\"000000000000000000.01\"",
    // Timestamps.
    "\"2024-02-29T00:00:00Z\"",
    "\"2023-02-29T00:00:00Z\"",
    "\"2100-02-29T00:00:00Z\"",
    "\"2000-02-29T12:00:00+08:00\"",
    "\"0000-02-29T00:00:00Z\"",
    "\"0000-01-01T00:00:00Z\"",
    "\"0000-01-01T00:00:00+23:59\"",
    "\"0000-01-01T00:00:00-23:59\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"9999-12-31T23:59:59-23:59\"",
    "\"9999-12-31T23:59:60.999999999-23:59\"",
    "\"9999-12-30T22:00:00Z\"",
    "\"2025-01-03T10:20:60+08:00\"",
    "\"2025-01-03T10:20:61+08:00\"",
    "\"2025-01-03T24:00:00Z\"",
    "\"2025-01-03T10:60:00Z\"",
    "\"2025-01-03T10:20:00+24:00\"",
    "\"2025-01-03T10:20:00+23:60\"",
    "\"2025-01-03T10:20:00-00:00\"",
    "\"2025-01-03t10:20:00z\"",
    "\"2025-01-03T10:20:00.Z\"",
    "\"2025-01-03T10:20:00.1234567891Z\"",
    "\"2025-01-03T10:20:00.123456789Z\"",
    "\"2025-01-03T10:20:00\"",
    "\"2025-01-03T10:20:00.5\"",
    "\"2025-01-03T10:20:00+08\"",
    "\"2025-01-03T10:20:00+0800\"",
    "\"2025-01-03 10:20:00Z\"",
    "\"2025-1-3T10:20:00Z\"",
    "\"2025-00-03T10:20:00Z\"",
    "\"2025-13-03T10:20:00Z\"",
    "\"2025-01-00T10:20:00Z\"",
    "\"2025-01-32T10:20:00Z\"",
    "\"2025-04-31T10:20:00Z\"",
    "\"+2025-01-03T10:20:00Z\"",
    "\"-0001-01-01T00:00:00Z\"",
    "\"2025-01-03T10:20:00+08:00[Asia/Shanghai]\"",
    "\"2025-01-03T10:20Z\"",
    "\"2025-01-03T10:20:00Zx\"",
    "\"2025-01-03T10:20:00+08:00 \"",
    "\"2025-01-03T10:20:00é\"",
    "\"2025-01-03T10:20:00\\u002B08:00\"",
    "\"2025-01-03T10:20:00+8:00\"",
    "\"2025-01-03T10:20:00+08:0\"",
    "\"2025-01-03T10:20:00+\"",
    "\"2024-12-28T21:03:00+08:00\"",
    "\"2024-12-28T13:03:00Z\"",
    "\"2024-12-28T21:02:59+08:00\"",
    "\"2025-01-05T23:59:60+08:00\"",
    "\"1970-01-01T00:00:00.5Z\"",
    "\"1969-12-31T23:59:59.5Z\"",
    // Enums and currencies.
    "\"phone\"",
    "\"Phone\"",
    "\"phone \"",
    "\"ph\\u006fne\"",
    "\"official_mall\"",
    "\"cash\"",
    "\"CNY\"",
    "\"cny\"",
    "\"CN\"",
    "\"CNYY\"",
    "\"C\\u004eY\"",
    "\"ÇNY\"",
    "\"unopened\"",
    "\"no_reason\"",
    "\"tv\"",
    "\"t\"",
    "\"tvx\"",
    "\"official_mal\"",
];

/// Spellings of a key that are some other key, or not a key at all.
fn hostile_key(d: &mut Dice, name: &str) -> Key {
    let mut chars: Vec<char> = name.chars().collect();
    let other = |d: &mut Dice| {
        let groups: Vec<&String> = SCHEMA.fields.iter().map(|f| &f.path).collect();
        let path = d.pick(&groups);
        let segs: Vec<&str> = path.split('.').collect();
        d.pick(&segs).to_owned()
    };
    let name = match d.below(16) {
        0 if chars.len() > 1 => {
            chars.pop();
            chars.into_iter().collect()
        }
        1 => format!(
            "{name}{}",
            d.pick(&["x", "_", "s", "\"", "\u{0}", " ", "é", "\\"])
        ),
        2 => format!("{}{name}", d.pick(&["x", "_", " ", "\u{feff}"])),
        3 if !chars.is_empty() => {
            // Same length, one byte changed: in the middle, where only
            // a name longer than 16 bytes is compared in full.
            let i = if d.one_in(2) {
                chars.len() / 2
            } else {
                d.below(chars.len())
            };
            chars[i] = d.pick(&['X', 'a', '_', '0', 'é']);
            chars.into_iter().collect()
        }
        4 => name.to_uppercase(),
        5 => other(d),
        6 => format!("{}.{}", other(d), other(d)),
        7 => String::new(),
        8 => name.repeat(d.below(8) + 2),
        9 => {
            // A key of the same length and the same first and last
            // eight bytes.
            if chars.len() > 16 {
                chars[8] = if chars[8] == 'Q' { 'R' } else { 'Q' };
            }
            chars.into_iter().collect()
        }
        10 => {
            return Key::Raw(
                d.pick(&["sku", "'sku'", "1", "null", "{}", "\"\"", "\"", ""])
                    .to_owned(),
            );
        }
        11 => {
            let raw = d.pick(&[
                "\"s\\u006bu\"",
                "\"s\\u006Bu\"",
                "\"\\u0073ku\"",
                "\"sk\\u0075\"",
                "\"sku",
                "\"sku\\\"",
                "\"sku\\u0000\"",
                "\"sku\\ud800\"",
                "\"s\\ku\"",
                "\"sku\\\"\"",
                "\"\\u0073\\u006b\\u0075\"",
                "\"sku\\/\"",
                "\"s\u{1}ku\"",
                "\"s\\u006\"",
            ]);
            return Key::Raw(raw.replace("sku", name));
        }
        12 => {
            let mut out = String::new();
            write_str(name, d, 1000, &mut out);
            return Key::Raw(out);
        }
        _ => name.to_owned(),
    };
    Key::Name(name)
}

fn hostile_value(d: &mut Dice) -> Node {
    match d.below(10) {
        0 => Node::Str(string(d)),
        1 => {
            // A valid value of some (likely other) field.
            let field = &SCHEMA.fields[d.below(SCHEMA.fields.len())];
            let t = instant(d);
            valid_value(d, field, Some(t)).map_or(Node::Raw("null".into()), |(n, _)| n)
        }
        2 => Node::Obj(Vec::new()),
        _ => Node::Raw(d.pick(VALUES).to_owned()),
    }
}

/// A random object of the tree: the root or a group.
fn some_object<'n>(node: &'n mut Node, d: &mut Dice) -> &'n mut Vec<(Key, Node)> {
    let inner: Vec<usize> = match node {
        Node::Obj(m) => (0..m.len())
            .filter(|&i| matches!(m[i].1, Node::Obj(_)))
            .collect(),
        _ => Vec::new(),
    };
    let descend = !inner.is_empty() && !d.one_in(3);
    let members = node.members().expect("an object");
    if descend {
        let i = d.pick(&inner);
        some_object(&mut members[i].1, d)
    } else {
        members
    }
}

/// One edit of the tree's structure.
fn edit_tree(root: &mut Node, d: &mut Dice) {
    let kind = d.below(10);
    let members = some_object(root, d);
    let n = members.len();
    match kind {
        // A field or group's value.
        0..=2 if n > 0 => {
            let i = d.below(n);
            members[i].1 = hostile_value(d);
        }
        // A key given twice, spelled the same or not.
        3 if n > 0 => {
            let i = d.below(n);
            let key = match &members[i].0 {
                Key::Name(name) if d.one_in(2) => {
                    let mut out = String::new();
                    write_str(name, d, 1000, &mut out);
                    Key::Raw(out)
                }
                k => k.clone(),
            };
            let value = match d.below(3) {
                0 => members[i].1.clone(),
                1 => Node::Raw("null".into()),
                _ => hostile_value(d),
            };
            let at = d.below(n + 1);
            members.insert(at, (key, value));
        }
        // An unknown key.
        4 | 5 => {
            let name = if n > 0 {
                key_text(&members[d.below(n)].0).to_owned()
            } else {
                "sku".to_owned()
            };
            let key = hostile_key(d, &name);
            let value = if d.one_in(2) {
                Node::Raw("null".into())
            } else {
                hostile_value(d)
            };
            let at = d.below(n + 1);
            members.insert(at, (key, value));
        }
        // A key respelled.
        6 if n > 0 => {
            let i = d.below(n);
            let name = key_text(&members[i].0).to_owned();
            members[i].0 = hostile_key(d, &name);
        }
        // A member left out.
        7 if n > 0 => {
            members.remove(d.below(n));
        }
        // A member moved or swapped.
        8 if n > 1 => {
            let (i, j) = (d.below(n), d.below(n));
            if d.one_in(2) {
                members.swap(i, j);
            } else {
                let m = members.remove(i);
                members.insert(j, m);
            }
        }
        _ => {
            // A whole group moved into another object.
            if n > 0 {
                let i = d.below(n);
                let m = members.remove(i);
                let other = some_object(root, d);
                let at = d.below(other.len() + 1);
                other.insert(at, m);
            }
        }
    }
}

const CHARS: &[char] = &[
    '{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\t', '\n', '\r', '\u{0}', '\u{1}', '\u{1f}',
    '\u{7f}', '-', '+', '.', '0', '1', '9', 'e', 'E', 'n', 'u', 'l', 't', 'r', 'f', 'a', 's', 'x',
    '/', 'b', '\u{a0}', '\u{feff}', 'é', '😀', '\'', '\u{b}', '\u{c}',
];

/// Where the text's tokens are: strings, runs of other characters,
/// structural characters and whitespace each one.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        match c {
            '"' => {
                let mut escaped = false;
                for (i, c) in chars.by_ref() {
                    end = i + c.len_utf8();
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            '{' | '}' | '[' | ']' | ',' | ':' => {}
            c if c.is_whitespace() => {
                while let Some(&(i, c)) = chars.peek() {
                    if !c.is_whitespace() {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
            }
            _ => {
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || "{}[],:\"".contains(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
            }
        }
        out.push((start, end));
    }
    out
}

/// One edit of the text: a character or a token inserted, replaced,
/// removed, repeated or moved, a cut, or something before or after.
fn edit_text(text: &mut String, d: &mut Dice) {
    let boundaries: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let at = d.pick(&boundaries);
    match d.below(12) {
        0 => text.insert(at, d.pick(CHARS)),
        1 if at < text.len() => {
            let c = text[at..].chars().next().map_or(1, char::len_utf8);
            text.replace_range(at..at + c, &d.pick(CHARS).to_string());
        }
        2 if at < text.len() => {
            let c = text[at..].chars().next().map_or(1, char::len_utf8);
            text.replace_range(at..at + c, "");
        }
        3 => text.truncate(at),
        4 => text.push_str(d.pick(&[
            "x", " ", "\n", "}", ",", "{}", "\u{0}", "\u{feff}", " 1", "null", "]", "\"",
        ])),
        5 => text.insert_str(
            0,
            d.pick(&["\u{feff}", "\u{feff}\u{feff}", " ", "\u{a0}", "[", "\u{0}"]),
        ),
        _ => {
            let toks = tokens(text);
            if toks.is_empty() {
                return;
            }
            let (s, e) = d.pick(&toks);
            match d.below(5) {
                0 => text.replace_range(s..e, ""),
                1 => {
                    let t = text[s..e].to_owned();
                    text.insert_str(e, &t);
                }
                2 => {
                    let (s2, e2) = d.pick(&toks);
                    if e <= s2 {
                        let (a, b) = (text[s..e].to_owned(), text[s2..e2].to_owned());
                        text.replace_range(s2..e2, &a);
                        text.replace_range(s..e, &b);
                    }
                }
                3 => {
                    let v = d.pick(VALUES);
                    text.replace_range(s..e, v);
                }
                _ => {
                    let v = d.pick(&[
                        "{", "}", "[", "]", ",", ":", "\"", "null", "\"sku\"", ",,", "{}",
                    ]);
                    text.insert_str(if d.one_in(2) { s } else { e }, v);
                }
            }
        }
    }
}

/// A hostile variant of a valid request: edits of its structure, then
/// (often) of its text.
fn hostile(d: &mut Dice) -> String {
    let (mut root, _) = valid(d);
    let style = Style::draw(d, true);
    // A quarter of the cases only respell the request: most of those are
    // valid.
    if !d.one_in(4) {
        for _ in 0..d.below(3) + 1 {
            edit_tree(&mut root, d);
        }
    }
    let mut text = document(&root, d, &style);
    if d.one_in(3) {
        for _ in 0..d.below(4) + 1 {
            edit_text(&mut text, d);
        }
    }
    text
}

// ----- the runner -----------------------------------------------------------

/// What `agree` checks, as a description instead of a panic; a panic in
/// a decoder is a disagreement too.
fn disagreement(text: &str) -> Option<String> {
    let run = std::panic::catch_unwind(|| {
        let t = without_bom(text);
        (
            SCHEMA.decode_json(text),
            SCHEMA.decode_json_document(t),
            typed::decode(&SCHEMA, t),
        )
    });
    let (via, document, typed) = match run {
        Ok(r) => r,
        Err(e) => {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()));
            return Some(format!("panic: {why:?}"));
        }
    };
    match (&typed, &document) {
        (Some(t), Ok(d)) if t == d && via == document => None,
        (None, Err(_)) if via == document => None,
        _ => Some(format!(
            "typed {typed:?}\ndocument {document:?}\ndecode_json {via:?}"
        )),
    }
}

/// The shortest sequence of `parts` found by removing runs of them
/// while `fails` holds for their concatenation.
fn cut(mut parts: Vec<String>, fails: &impl Fn(&str) -> bool) -> Vec<String> {
    let mut chunk = (parts.len() / 2).max(1);
    loop {
        let mut progress = false;
        let mut i = 0;
        while i < parts.len() {
            let end = (i + chunk).min(parts.len());
            let candidate: String = parts[..i]
                .iter()
                .chain(&parts[end..])
                .map(String::as_str)
                .collect();
            if fails(&candidate) {
                parts.drain(i..end);
                progress = true;
            } else {
                i += chunk;
            }
        }
        if !progress {
            if chunk == 1 {
                return parts;
            }
            chunk /= 2;
        }
    }
}

/// `text` with as many tokens, then characters, removed (and strings
/// emptied) as keep the decoders disagreeing.
fn minimise(text: &str) -> String {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let fails = |t: &str| disagreement(t).is_some();
    let mut text = text.to_owned();
    loop {
        let before = text.len();
        let parts: Vec<String> = tokens(&text)
            .into_iter()
            .map(|(s, e)| text[s..e].to_owned())
            .collect();
        let mut parts = cut(parts, &fails);
        // Strings emptied, one at a time.
        for i in 0..parts.len() {
            if parts[i].starts_with('"') && parts[i].len() > 2 {
                let old = std::mem::replace(&mut parts[i], "\"\"".to_owned());
                if !fails(&parts.concat()) {
                    parts[i] = old;
                }
            }
        }
        let chars = parts.concat().chars().map(String::from).collect();
        text = cut(chars, &fails).concat();
        if text.len() >= before {
            break;
        }
    }
    std::panic::set_hook(hook);
    text
}

/// Runs `PROPTEST_CASES` seeds through `generate`, calling `agree` on
/// each text; when the generator says what request the text is, the
/// typed decoder must give exactly that one.
fn run(
    name: &str,
    generate: impl Fn(&mut Dice) -> (String, Option<Request>),
    min_accepted_percent: usize,
) {
    let config = Config {
        failure_persistence: None,
        max_shrink_iters: 0,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let (total, accepted, escapes, non_ascii) =
        (Cell::new(0), Cell::new(0), Cell::new(0), Cell::new(0));
    let started = std::time::Instant::now();
    let result = runner.run(&any::<u64>(), |seed| {
        let (text, expected) = generate(&mut Dice::new(seed));
        total.set(total.get() + 1);
        // `FUZZ_SHOW=n` prints the first n texts, to see what is made.
        if std::env::var("FUZZ_SHOW")
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| total.get() <= n)
        {
            println!("{name} {seed}: {text}");
        }
        if std::panic::catch_unwind(|| agree(&text)).is_err() {
            let small = minimise(&text);
            return Err(TestCaseError::fail(format!(
                "seed {seed}\ninput {text:?}\nminimal {small:?}\n{}",
                disagreement(&small).unwrap_or_default()
            )));
        }
        let typed = typed::decode(&SCHEMA, without_bom(&text));
        if typed.is_some() {
            accepted.set(accepted.get() + 1);
            if text.contains('\\') {
                escapes.set(escapes.get() + 1);
            }
            if !text.is_ascii() {
                non_ascii.set(non_ascii.get() + 1);
            }
        }
        if let Some(expected) = expected {
            prop_assert_eq!(
                typed.as_ref(),
                Some(&expected),
                "seed {}: a valid request decodes as written: {:?}",
                seed,
                text
            );
        }
        Ok(())
    });
    let (total, accepted) = (total.get(), accepted.get());
    println!(
        "{name}: {total} cases in {:.1?}: {accepted} accepted ({} with escapes, {} not ASCII), {} rejected",
        started.elapsed(),
        escapes.get(),
        non_ascii.get(),
        total - accepted
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    assert!(
        accepted * 100 >= total * min_accepted_percent,
        "{name}: only {accepted} of {total} accepted"
    );
}

/// Valid requests, written every way JSON allows: keys in any order
/// and escaped, strings escaped or not, of any length and script,
/// whitespace anywhere, optional fields left out or `null`, amounts of
/// up to 28 digits, timestamps at any offset, near leap days and the
/// ends of the calendar. Each decodes to exactly the request written.
#[test]
fn fuzz_valid_requests_decode_as_written() {
    run(
        "valid",
        |d| {
            let (root, request) = valid(d);
            let style = Style::draw(d, false);
            let mut text = document(&root, d, &style);
            if d.one_in(20) {
                text.insert(0, '\u{feff}');
            }
            (text, Some(request))
        },
        100,
    );
}

/// Hostile variants of valid requests: values of every wrong kind and
/// edge, keys given twice, unknown, respelled, escaped or half-written,
/// groups moved or `null`, bytes and tokens inserted, removed, repeated
/// or cut. The two decoders accept the same texts as the same request.
#[test]
fn fuzz_hostile_requests_are_read_alike() {
    run("hostile", |d| (hostile(d), None), 10);
}

/// The example itself, edited: many small edits of its text, and values
/// from the edge-case list in each field.
#[test]
fn fuzz_edited_example_is_read_alike() {
    let example = read("example.json");
    run(
        "example",
        |d| {
            let mut text = example.clone();
            if d.one_in(2) {
                let (s, e) = (
                    text.find("\"XM14").unwrap_or(0),
                    text.find("-BLK\"").unwrap_or(0) + 5,
                );
                let mut v = String::new();
                let (sku, rate) = (string(d), d.pick(&[0, 200, 1000]));
                write_str(&sku, d, rate, &mut v);
                text.replace_range(s..e, &v);
            }
            for _ in 0..d.below(3) {
                let toks = tokens(&text);
                let (s, e) = d.pick(&toks);
                if text[s..e].starts_with('"')
                    || text[s..e].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
                {
                    text.replace_range(s..e, d.pick(VALUES));
                }
            }
            for _ in 0..d.below(3) {
                edit_text(&mut text, d);
            }
            (text, None)
        },
        5,
    );
}
