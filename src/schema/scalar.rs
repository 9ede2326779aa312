//! Parsers for the scalar forms the schema and requests share: amounts,
//! timestamps, currency codes, names, and did-you-mean suggestions.
//!
//! They live here (not in `request`) because schema defaults are written in
//! the same forms as request values, and the schema never imports a later stage.

use jiff::Timestamp;
use rust_decimal::Decimal;

use crate::day::Day;

/// Why a decimal string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AmountError {
    /// Not of the form `-?digits(.digits)?`.
    NotDecimal,
    /// More digits after the point than allowed; carries how many were given.
    Precision(usize),
    /// More digits than a decimal can hold exactly.
    TooLarge,
}

/// Parses a decimal written as `-?[0-9]+(\.[0-9]+)?`, with at most
/// `max_places` digits after the point (trailing zeros count: `1.000` has
/// three). No exponent, sign `+`, underscores, spaces or bare `.5`.
/// Negative zero becomes zero.
pub(crate) fn parse_decimal(text: &str, max_places: u32) -> Result<Decimal, AmountError> {
    let negative = text.starts_with('-');
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int_part, frac_part) = match unsigned.bytes().position(|b| b == b'.') {
        Some(dot) => (
            unsigned.get(..dot).unwrap_or_default(),
            unsigned.get(dot + 1..),
        ),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
        return Err(AmountError::NotDecimal);
    }
    let places = frac_part.map_or(0, str::len);
    if places > max_places as usize {
        return Err(AmountError::Precision(places));
    }
    // Up to 18 digits are an exact `i64`: the amount is made from them,
    // with the places as its scale, as parsing the text makes it.
    if int_part.len() + places <= 18 {
        let digits = int_part
            .bytes()
            .chain(frac_part.unwrap_or_default().bytes());
        let mantissa = digits.fold(0_i64, |m, b| m * 10 + i64::from(b - b'0'));
        let signed = if negative { -mantissa } else { mantissa };
        if let Ok(value) = Decimal::try_new(signed, places as u32) {
            // `-0` came out as zero: no sign to clear.
            return Ok(value);
        }
    }
    let mut value: Decimal = text.parse().map_err(|_| AmountError::TooLarge)?;
    // rust_decimal rounds what it cannot hold; a rounded amount is not the
    // amount the buyer paid.
    if value.scale() as usize != places {
        return Err(AmountError::TooLarge);
    }
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    Ok(value)
}

/// Why a timestamp string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TimestampError {
    /// A well-formed date and time with no `Z` or `+hh:mm` after it.
    MissingOffset,
    /// Anything else; the text says what is wrong.
    Invalid(String),
}

/// Example shown in messages about timestamps.
pub(crate) const TIMESTAMP_EXAMPLE: &str = "2025-01-03T10:20:00+08:00";

/// Parses an RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`
/// (`t` and `z` may be lowercase; at most 9 fraction digits). jiff alone
/// would also take a space for `T`, `+08` or a `[zone]` suffix; requests are
/// held to the stricter contract form. The instant is kept, the offset is not.
pub(crate) fn parse_timestamp(text: &str) -> Result<Timestamp, TimestampError> {
    let parts = match Parts::fixed(text.as_bytes()) {
        Some(parts) => parts,
        None => Parts::read(text)?,
    };
    // jiff's parser is only asked what is wrong with a date or time the
    // parts do not make (`02-30`, `25:00`).
    match parts.instant() {
        Some(t) => Ok(t),
        None => text
            .parse::<Timestamp>()
            .map_err(|e| TimestampError::Invalid(e.to_string())),
    }
}

/// A timestamp's parts as its text writes them.
#[derive(Debug, PartialEq)]
struct Parts {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Seconds east of UTC.
    offset: i32,
}

impl Parts {
    /// The parts of `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `±HH:MM`,
    /// the form nearly every request writes, read at their fixed places;
    /// `None` for any other text, which [`Parts::read`] reads (to the
    /// same parts, for a text both read).
    #[inline]
    fn fixed(text: &[u8]) -> Option<Parts> {
        let [
            y0,
            y1,
            y2,
            y3,
            b'-',
            mo0,
            mo1,
            b'-',
            d0,
            d1,
            b'T' | b't',
            h0,
            h1,
            b':',
            mi0,
            mi1,
            b':',
            s0,
            s1,
            offset @ ..,
        ] = text
        else {
            return None;
        };
        let offset = match offset {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), oh0, oh1, b':', om0, om1] => {
                let (h, m) = (two(*oh0, *oh1)?, two(*om0, *om1)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let east = (h * 3600 + m * 60) as i32;
                if *sign == b'-' { -east } else { east }
            }
            _ => return None,
        };
        Some(Parts {
            year: two(*y0, *y1)? * 100 + two(*y2, *y3)?,
            month: two(*mo0, *mo1)?,
            day: two(*d0, *d1)?,
            hour: two(*h0, *h1)?,
            minute: two(*mi0, *mi1)?,
            second: two(*s0, *s1)?,
            nanos: 0,
            offset,
        })
    }

    /// The parts of any text of the form, fraction of a second included;
    /// what is wrong with one that is not.
    fn read(text: &str) -> Result<Parts, TimestampError> {
        let mut c = Cursor { rest: text };
        let mut field = |n: usize, after: &[u8]| {
            let v = c.digits(n)?;
            (after.is_empty() || c.byte(after)).then_some(v)
        };
        let parts = (|| {
            Some([
                field(4, b"-")?,
                field(2, b"-")?,
                field(2, b"Tt")?,
                field(2, b":")?,
                field(2, b":")?,
                field(2, b"")?,
            ])
        })();
        let Some([year, month, day, hour, minute, second]) = parts else {
            return Err(TimestampError::Invalid(
                "expected `YYYY-MM-DDTHH:MM:SS` followed by an offset".to_owned(),
            ));
        };
        let mut nanos = 0;
        if c.byte(b".") {
            let n = c.rest.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return Err(TimestampError::Invalid(
                    "a fraction of a second needs 1 to 9 digits".to_owned(),
                ));
            }
            nanos = c.digits(n).unwrap_or(0) * 10_u32.pow(9 - n as u32);
        }
        if c.rest.is_empty() {
            return Err(TimestampError::MissingOffset);
        }
        let offset = if c.byte(b"Zz") {
            Some(0)
        } else {
            let sign = match c.rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => 0,
            };
            c.skip(1);
            let hh = c.digits(2);
            let colon = c.byte(b":");
            let mm = c.digits(2);
            match (hh, colon, mm) {
                (Some(h), true, Some(m)) if sign != 0 && h <= 23 && m <= 59 => {
                    Some(sign * (h * 3600 + m * 60) as i32)
                }
                _ => None,
            }
        };
        let Some(offset) = offset.filter(|_| c.rest.is_empty()) else {
            return Err(TimestampError::Invalid(
                "the offset must be `Z` or `+HH:MM` / `-HH:MM`, and nothing may follow it"
                    .to_owned(),
            ));
        };
        Ok(Parts {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset,
        })
    }

    /// The instant, as seconds since the epoch; `None` for a date or time
    /// that does not exist. A leap second is the last second of its
    /// minute, as jiff reads it.
    fn instant(&self) -> Option<Timestamp> {
        let day = Day::from_ymd(self.year as i32, self.month as i32, self.day as i32)?;
        if self.hour > 23 || self.minute > 59 || self.second > 60 {
            return None;
        }
        let seconds = day.utc_seconds()
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second.min(59))
            - i64::from(self.offset);
        Timestamp::new(seconds, i32::try_from(self.nanos).ok()?).ok()
    }
}

/// Two ASCII digits' value.
#[inline(always)]
fn two(tens: u8, ones: u8) -> Option<u32> {
    let digit = |b: u8| {
        let d = b.wrapping_sub(b'0');
        (d < 10).then_some(u32::from(d))
    };
    Some(digit(tens)? * 10 + digit(ones)?)
}

/// A TOML datetime written out in the request form, so that it goes through
/// [`parse_timestamp`] like a string: seconds default to `00` (TOML 1.1 may
/// omit them); a local date-time comes out without offset, a local date or
/// time as just that.
pub(crate) fn toml_datetime_text(d: &toml::value::Datetime) -> String {
    let mut out = String::new();
    if let Some(date) = d.date {
        out.push_str(&format!(
            "{:04}-{:02}-{:02}",
            date.year, date.month, date.day
        ));
    }
    if let Some(time) = d.time {
        if d.date.is_some() {
            out.push('T');
        }
        let second = time.second.unwrap_or(0);
        out.push_str(&format!("{:02}:{:02}:{second:02}", time.hour, time.minute));
        if let Some(ns) = time.nanosecond {
            out.push_str(&format!(".{ns:09}"));
        }
    }
    match d.offset {
        Some(toml::value::Offset::Z) => out.push('Z'),
        Some(toml::value::Offset::Custom { minutes }) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let m = minutes.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
        }
        None => {}
    }
    out
}

struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn skip(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or("");
    }

    /// Consumes one byte if it is one of `allowed`.
    fn byte(&mut self, allowed: &[u8]) -> bool {
        match self.rest.as_bytes().first() {
            Some(b) if allowed.contains(b) => {
                self.skip(1);
                true
            }
            _ => false,
        }
    }

    /// Consumes `n` ASCII digits, and gives their value.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let digits = self.rest.as_bytes().get(..n)?;
        let value = digits.iter().try_fold(0_u32, |v, b| {
            b.is_ascii_digit().then(|| v * 10 + u32::from(b - b'0'))
        })?;
        self.skip(n);
        Some(value)
    }
}

/// An ISO 4217-shaped code: exactly three ASCII capital letters.
pub(crate) fn is_currency_code(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase())
}

/// A name usable in field paths and enum values: ASCII letters, digits and
/// `_`, not starting with a digit.
pub(crate) fn is_name(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Words longer than this get no suggestion: no name is that long, and the
/// edit distance takes time and memory in the product of the two lengths
/// (a 200 MB key took 47 s).
pub(crate) const SUGGEST_LIMIT: usize = 64;

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    if word.len() > SUGGEST_LIMIT {
        return None;
    }
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::normalized_damerau_levenshtein(word, c), c))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `` `a`, `b`, `c` `` for messages.
pub(crate) fn backticked<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_take_only_the_plain_form() {
        assert_eq!(parse_decimal("4999.00", 2).unwrap().to_string(), "4999.00");
        assert_eq!(parse_decimal("4999", 2).unwrap().to_string(), "4999");
        assert_eq!(parse_decimal("-0.00", 2).unwrap().to_string(), "0.00");
        assert!(!parse_decimal("-0.00", 2).unwrap().is_sign_negative());
        for bad in [
            "", "-", "1.", ".5", "+1", "1e3", "1_000", " 1", "1,00", "NaN", "--1", "1.2.3",
        ] {
            assert_eq!(parse_decimal(bad, 2), Err(AmountError::NotDecimal), "{bad}");
        }
        assert_eq!(parse_decimal("1.000", 2), Err(AmountError::Precision(3)));
        assert_eq!(
            parse_decimal("79228162514264337593543950336", 2),
            Err(AmountError::TooLarge)
        );
        assert_eq!(
            parse_decimal("7922816251426433759354395033.55", 2),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn timestamps_need_rfc3339_with_offset() {
        let t = parse_timestamp("2025-01-03T10:20:00+08:00").unwrap();
        assert_eq!(t.to_string(), "2025-01-03T02:20:00Z");
        assert!(parse_timestamp("2025-01-03t02:20:00.5z").is_ok());
        assert_eq!(
            parse_timestamp("2025-01-03T10:20:00"),
            Err(TimestampError::MissingOffset)
        );
        assert_eq!(
            parse_timestamp("2025-01-03T10:20:00.123"),
            Err(TimestampError::MissingOffset)
        );
        for bad in [
            "",
            "2025-01-03",
            "2025-01-03 10:20:00+08:00",
            "2025-01-03T10:20:00+08",
            "2025-01-03T10:20:00+0800",
            "2025-01-03T10:20:00+24:00",
            "2025-01-03T10:20:00+08:00[Asia/Shanghai]",
            "2025-01-03T10:20Z",
            "2025-02-30T10:20:00Z",
            "2025-01-03T24:00:00Z",
            "2025-01-03T10:20:00.1234567891Z",
            "२०२५-01-03T10:20:00Z",
        ] {
            assert!(
                matches!(parse_timestamp(bad), Err(TimestampError::Invalid(_))),
                "{bad}"
            );
        }
    }

    /// The leap years the property test rarely draws, against jiff.
    #[test]
    fn leap_days_read_as_jiff_reads_them() {
        for year in [
            "0000", "1900", "1970", "2000", "2023", "2024", "2100", "9999",
        ] {
            for date in ["02-28", "02-29", "03-01", "12-31", "01-01"] {
                let text = format!("{year}-{date}T23:59:60.5-23:59");
                assert_eq!(
                    parse_timestamp(&text).ok(),
                    text.parse::<Timestamp>().ok(),
                    "{text}"
                );
            }
        }
    }

    proptest::proptest! {
        /// The parts read at fixed places are the parts read in general,
        /// for every text read at fixed places; the usual form is.
        #[test]
        fn fixed_places_read_the_parts_the_general_reading_does(
            text in "[0-9]{3}[0-9x]-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?([Zz]|[+-][0-2][0-9]:[0-5][0-9]|[+-][0-9]{2}:?[0-9]{2}|)[Z0]?"
        ) {
            if let Some(fixed) = Parts::fixed(text.as_bytes()) {
                proptest::prop_assert_eq!(Ok(fixed), Parts::read(&text));
            }
            proptest::prop_assert!(Parts::fixed(b"2025-01-03T10:20:00+08:00").is_some());
            proptest::prop_assert!(Parts::fixed(b"2025-01-03t02:20:00z").is_some());
        }

        /// Built from its parts, a timestamp is what jiff reads from the
        /// text: the same instant, or an error for the same texts.
        #[test]
        fn timestamps_read_as_jiff_reads_them(
            text in "[0-9]{4}-[0-1][0-9]-[0-3][0-9][Tt][0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{1,9})?([Zz]|[+-]([0-1][0-9]|2[0-3]):[0-5][0-9])"
        ) {
            proptest::prop_assert_eq!(parse_timestamp(&text).ok(), text.parse::<Timestamp>().ok());
        }
    }

    proptest::proptest! {
        /// An amount made from its digits is the amount, and the scale,
        /// that parsing its text gives; one that parsing rounds (more
        /// digits than a decimal holds) is refused, not rounded.
        #[test]
        fn amounts_read_as_rust_decimal_reads_them(
            text in "-?[0-9]{1,20}(\\.[0-9]{1,9})?",
        ) {
            let parsed: Decimal = text.parse().unwrap();
            let places = text.split_once('.').map_or(0, |(_, f)| f.len());
            match parse_decimal(&text, 9) {
                Ok(read) => {
                    proptest::prop_assert_eq!(read, parsed);
                    proptest::prop_assert_eq!(read.scale(), parsed.scale());
                    proptest::prop_assert!(!read.is_sign_negative() || !read.is_zero());
                }
                Err(e) => {
                    proptest::prop_assert!(matches!(e, AmountError::TooLarge), "{e:?}");
                    proptest::prop_assert_ne!(parsed.scale() as usize, places);
                }
            }
        }
    }

    #[test]
    fn suggestions_find_typos_only() {
        let c = ["paid_amount", "quantity", "sku"];
        assert_eq!(suggest("paid_amont", c), Some("paid_amount"));
        assert_eq!(suggest("zzz", c), None);
    }

    #[test]
    fn names_and_currencies() {
        assert!(is_name("paid_amount") && is_name("_x1") && !is_name("1x") && !is_name(""));
        assert!(!is_name("a-b") && !is_name("a b"));
        assert!(is_currency_code("CNY") && !is_currency_code("cny") && !is_currency_code("CN"));
    }
}
