//! The native floor: the rulebook of `tests/fixtures/frozen/policies/`
//! written by hand in Rust, as an engineer would write it for speed with
//! no policy language at all. The benchmarks measure RPL against it (issue
//! 12), and `tests/it/native_floor.rs` holds it to `rpl eval --batch`'s
//! output so that it never drifts from what it stands for.
//!
//! - Decoding: serde-derived structs over the line, strings borrowed,
//!   unknown fields refused; the request schema's checks that change an
//!   outcome: required fields, enum values, integer minimums, amounts as
//!   decimal strings with at most two places (`rust_decimal`), RFC 3339
//!   timestamps with an offset (`jiff`), currency codes, the date order.
//! - Deciding: the three channel policies' rules in plain `if`s, in the
//!   rulebook's order (which also fixes which error a request meets
//!   first); working days and window ends looked up in day-indexed tables
//!   built from the calendar file at setup.
//! - Writing: a decided request, a policy's `reject` and an evaluation
//!   error (currency, calendar, date range) give the exact line `rpl eval
//!   --batch` writes. A request that does not decode gives an error record
//!   with the same `code`, but its `request_id` is `null`, its `path` is
//!   `""` where serde does not say which field failed, its `message` is
//!   serde's and it has no `help`: writing RPL's own texts for every
//!   malformation would be a second decoder, not a floor.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;
use std::marker::PhantomData;
use std::path::Path;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// `--max-request-size`'s default: a longer line is `too_large`.
const MAX_REQUEST: usize = 1 << 20;

/// The policies' time zone; their currency.
const TIME_ZONE: &str = "Asia/Shanghai";
const CURRENCY: &[u8; 3] = b"CNY";

/// Every policy's `version` setting.
const VERSION: &str = "2025.1";

/// Settlement: from the 3rd to the 15th working day after the request.
const SETTLE_FIRST: u32 = 3;
const SETTLE_LAST: u32 = 15;

/// A date as a count of days since 1970-01-01.
type Day = i32;

// ----- decoding -------------------------------------------------------------

/// Enums of the request schema, read from JSON strings only.
macro_rules! string_enum {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant),+
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " name"))
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$name, E> {
                        match s {
                            $($text => Ok($name::$variant),)+
                            _ => Err(E::unknown_variant(s, &[$($text),+])),
                        }
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

string_enum!(Channel {
    OfficialMall = "official_mall",
    PartnerPlatform = "partner_platform",
    OfflineStore = "offline_store",
});

string_enum!(RefundReason {
    NoReason = "no_reason",
    PerformanceFault = "performance_fault",
    DamagedInTransit = "damaged_in_transit",
    WrongItem = "wrong_item",
    Other = "other",
});

string_enum!(Category {
    Phone = "phone",
    Tablet = "tablet",
    Laptop = "laptop",
    Wearable = "wearable",
    Accessory = "accessory",
    Tv = "tv",
    Appliance = "appliance",
    Digital = "digital",
    Perishable = "perishable",
    Periodical = "periodical",
});

string_enum!(Condition {
    Unopened = "unopened",
    OpenedIntact = "opened_intact",
    Used = "used",
    Damaged = "damaged",
});

string_enum!(Method {
    BankCard = "bank_card",
    CreditCard = "credit_card",
    CreditCardInstallment = "credit_card_installment",
    HuabeiInstallment = "huabei_installment",
    JdBaitiao = "jd_baitiao",
    XiaomiInstallment = "xiaomi_installment",
    Alipay = "alipay",
    WechatPay = "wechat_pay",
    Cash = "cash",
});

/// A custom serde error carrying one of RPL's codes: `CODE: text`, read
/// back by [`RequestError::of_json`].
fn coded<E: de::Error>(code: &str, text: fmt::Arguments<'_>) -> E {
    E::custom(format_args!("{code}: {text}"))
}

/// A JSON object, and only an object: a derived struct would also read
/// an array of its fields in order, which RPL refuses as a wrong type.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// A JSON string, borrowed from the line unless it holds escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

/// A JSON string whose text no rule reads (`order.order_id`, `item.sku`):
/// checked to be a string, not kept.
struct AnyText;

impl<'de> Deserialize<'de> for AnyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AnyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<AnyText, E> {
                Ok(AnyText)
            }
        }
        d.deserialize_str(V)
    }
}

/// Money: a plain decimal string, at most two places, not negative.
struct Amount(Decimal);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Amount, E> {
                parse_amount(s).map(Amount)
            }
            // A JSON number may already have lost cents: RPL refuses it
            // with its own code, not as a wrong type.
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Amount, E> {
                Err(coded(
                    "rpl::request::amount_not_string",
                    format_args!("{n}"),
                ))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Amount, E> {
                Err(coded(
                    "rpl::request::amount_not_string",
                    format_args!("{n}"),
                ))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Amount, E> {
                Err(coded(
                    "rpl::request::amount_not_string",
                    format_args!("{n}"),
                ))
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_amount<E: de::Error>(s: &str) -> Result<Decimal, E> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (whole, places) = match unsigned.split_once('.') {
        Some((w, p)) => (w, Some(p)),
        None => (unsigned, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || places.is_some_and(|p| !digits(p)) {
        return Err(coded("rpl::request::bad_amount", format_args!("{s:?}")));
    }
    if places.is_some_and(|p| p.len() > 2) {
        return Err(coded(
            "rpl::request::amount_precision",
            format_args!("{s:?}"),
        ));
    }
    // Too many digits to hold exactly: refused, never rounded.
    let mut d = Decimal::from_str_exact(s)
        .map_err(|_| coded("rpl::request::out_of_range", format_args!("{s:?}")))?;
    if d.is_zero() {
        d.set_sign_positive(true);
    } else if d.is_sign_negative() {
        return Err(coded("rpl::request::out_of_range", format_args!("{s:?}")));
    }
    Ok(d)
}

/// A timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
struct Stamp(Timestamp);

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Stamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a timestamp string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Stamp, E> {
                parse_timestamp(s).map(Stamp)
            }
        }
        d.deserialize_str(V)
    }
}

/// The fixed layout of RFC 3339 read by position (jiff alone would also
/// take a space for `T`, `+08` or a `[zone]`), the values checked and
/// converted by jiff. A leap second reads as the last second of its minute.
fn parse_timestamp<E: de::Error>(s: &str) -> Result<Timestamp, E> {
    let bad = || coded("rpl::request::bad_timestamp", format_args!("{s:?}"));
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i32::from(c - b'0'))
        })
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    let shape = at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":");
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second), true) = (
        num(0, 4),
        num(5, 2),
        num(8, 2),
        num(11, 2),
        num(14, 2),
        num(17, 2),
        shape,
    ) else {
        return Err(bad());
    };
    let mut i = 19;
    let mut nanos = 0;
    if at(i, b".") {
        let n = b
            .iter()
            .skip(i + 1)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 0 || n > 9 {
            return Err(bad());
        }
        nanos = num(i + 1, n).ok_or_else(bad)? * 10i32.pow(9 - n as u32);
        i += 1 + n;
    }
    let offset = match b.get(i..) {
        Some([]) | None => {
            return Err(coded("rpl::request::missing_offset", format_args!("{s:?}")));
        }
        Some([b'Z' | b'z']) => 0,
        Some([sign @ (b'+' | b'-'), _, _, b':', _, _]) => match (num(i + 1, 2), num(i + 4, 2)) {
            (Some(h), Some(m)) if h <= 23 && m <= 59 => {
                let secs = h * 3600 + m * 60;
                if *sign == b'-' { -secs } else { secs }
            }
            _ => return Err(bad()),
        },
        Some(_) => return Err(bad()),
    };
    let second = if second == 60 { 59 } else { second };
    let date = Date::new(year as i16, month as i8, day as i8).map_err(|_| bad())?;
    let time = Time::new(hour as i8, minute as i8, second as i8, nanos).map_err(|_| bad())?;
    let offset = Offset::from_seconds(offset).map_err(|_| bad())?;
    offset
        .to_timestamp(DateTime::from_parts(date, time))
        .map_err(|_| bad())
}

/// `payment.currency`: three capital letters.
struct Currency([u8; 3]);

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a currency code")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Currency, E> {
                match <[u8; 3]>::try_from(s.as_bytes()) {
                    Ok(code) if code.iter().all(u8::is_ascii_uppercase) => Ok(Currency(code)),
                    _ => Err(coded("rpl::request::bad_currency", format_args!("{s:?}"))),
                }
            }
        }
        d.deserialize_str(V)
    }
}

/// The request as JSON gives it: every field optional here, so that a
/// missing one is reported as missing (in the schema's order), not as
/// serde's "missing field" after the whole object was read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw<'a> {
    #[serde(borrow)]
    request_id: Option<Text<'a>>,
    channel: Option<Channel>,
    requested_at: Option<Stamp>,
    reason: Option<RefundReason>,
    order: Option<Object<RawOrder>>,
    item: Option<Object<RawItem>>,
    payment: Option<Object<RawPayment>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOrder {
    order_id: Option<AnyText>,
    placed_at: Option<Stamp>,
    delivered_at: Option<Stamp>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawItem {
    sku: Option<AnyText>,
    category: Option<Category>,
    paid_amount: Option<Amount>,
    quantity: Option<i64>,
    condition: Option<Condition>,
    activated: Option<bool>,
    custom_made: Option<bool>,
    non_returnable_confirmed: Option<bool>,
    gift_value: Option<Amount>,
    gift_returned: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPayment {
    method: Option<Method>,
    currency: Option<Currency>,
    installments: Option<i64>,
    installments_billed: Option<i64>,
}

/// A valid request: what the rules read.
pub struct Request<'a> {
    pub id: Cow<'a, str>,
    channel: Channel,
    requested_at: Timestamp,
    reason: RefundReason,
    delivered_at: Option<Timestamp>,
    category: Category,
    paid_amount: Decimal,
    condition: Condition,
    activated: bool,
    custom_made: bool,
    non_returnable_confirmed: bool,
    gift_value: Decimal,
    gift_returned: bool,
    method: Method,
    currency: [u8; 3],
    installments: i64,
}

/// Why a line is not a request.
pub struct RequestError {
    code: &'static str,
    path: &'static str,
    message: String,
}

/// The codes RPL gives what serde reports in its own words.
const SERDE_CODES: [(&str, &str); 6] = [
    ("duplicate field", "rpl::request::duplicate_key"),
    ("unknown field", "rpl::request::unknown_field"),
    ("unknown variant", "rpl::request::unknown_variant"),
    ("invalid type", "rpl::request::wrong_type"),
    ("invalid value", "rpl::request::out_of_range"),
    ("missing field", "rpl::request::missing_field"),
];

/// Every code [`coded`] writes, as a `&'static str`.
const OWN_CODES: [&str; 7] = [
    "rpl::request::amount_not_string",
    "rpl::request::bad_amount",
    "rpl::request::amount_precision",
    "rpl::request::out_of_range",
    "rpl::request::bad_timestamp",
    "rpl::request::missing_offset",
    "rpl::request::bad_currency",
];

impl RequestError {
    fn new(code: &'static str, path: &'static str, message: String) -> RequestError {
        RequestError {
            code,
            path,
            message,
        }
    }

    fn of_json(e: &serde_json::Error) -> RequestError {
        let message = e.to_string();
        if e.classify() != serde_json::error::Category::Data {
            return RequestError::new("rpl::request::syntax", "", message);
        }
        for code in OWN_CODES {
            if let Some(rest) = message
                .strip_prefix(code)
                .and_then(|r| r.strip_prefix(": "))
            {
                return RequestError::new(code, "", rest.to_owned());
            }
        }
        let code = SERDE_CODES
            .into_iter()
            .find(|(words, _)| message.starts_with(words))
            .map_or("rpl::request::wrong_type", |(_, code)| code);
        RequestError::new(code, "", message)
    }

    fn missing(path: &'static str) -> RequestError {
        RequestError::new(
            "rpl::request::missing_field",
            path,
            format!("missing required field `{path}`"),
        )
    }
}

fn required<T>(value: Option<T>, path: &'static str) -> Result<T, RequestError> {
    value.ok_or_else(|| RequestError::missing(path))
}

fn at_least(n: i64, min: i64, path: &'static str) -> Result<i64, RequestError> {
    if n >= min {
        Ok(n)
    } else {
        Err(RequestError::new(
            "rpl::request::out_of_range",
            path,
            format!("`{path}` must be at least {min}, found `{n}`"),
        ))
    }
}

fn out_of_order(later: &'static str, earlier: &str) -> RequestError {
    RequestError::new(
        "rpl::request::dates_out_of_order",
        later,
        format!("`{later}` is before `{earlier}`"),
    )
}

// ----- the calendar ---------------------------------------------------------

/// The working-day calendar in day-indexed tables, for the days of the
/// years it lists, `[first, end)`.
struct Calendar {
    name: String,
    first_year: i32,
    last_year: i32,
    first: Day,
    end: Day,
    /// Per day: that day if it is a working day, else the next one;
    /// `end` when none is left inside the calendar.
    roll: Vec<Day>,
    /// Per day from `first - 1`: the 3rd and the 15th working day after it,
    /// `end` when past the calendar.
    settle_first: Vec<Day>,
    settle_last: Vec<Day>,
    /// Each day as `YYYY-MM-DD`, for settlement dates.
    text: Vec<[u8; 10]>,
}

impl Calendar {
    /// Reads a calendar file: Monday to Friday work, `holidays` rest and
    /// `makeup_workdays` work (`MM-DD`, `YYYY-MM-DD`, `A to B`).
    fn read(path: &Path) -> Result<Calendar, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: toml::Table = toml::from_str(&text).map_err(|e| format!("{e}"))?;
        let name = file
            .get("name")
            .and_then(toml::Value::as_str)
            .ok_or("the calendar has no name")?
            .to_owned();
        let years: Vec<i32> = file.keys().filter_map(|k| k.parse().ok()).collect();
        let (Some(&first_year), Some(&last_year)) = (years.iter().min(), years.iter().max()) else {
            return Err("the calendar lists no year".into());
        };
        let first = days_from_civil(first_year, 1, 1);
        let end = days_from_civil(last_year + 1, 1, 1);
        let len = usize::try_from(end - first).map_err(|e| e.to_string())?;
        // Monday to Friday; 1970-01-01 was a Thursday.
        let mut working: Vec<bool> = (first..end).map(|d| (d + 3).rem_euclid(7) < 5).collect();
        for year in first_year..=last_year {
            let table = file
                .get(&year.to_string())
                .and_then(toml::Value::as_table)
                .ok_or(format!("no table for {year}"))?;
            for (key, works) in [("holidays", false), ("makeup_workdays", true)] {
                let entries = table.get(key).and_then(toml::Value::as_array);
                for entry in entries.into_iter().flatten() {
                    let entry = entry
                        .as_str()
                        .ok_or(format!("{year}: {entry} is not text"))?;
                    let (from, to) = entry
                        .split_once(" to ")
                        .or_else(|| entry.split_once(".."))
                        .unwrap_or((entry, entry));
                    for d in calendar_day(year, from)?..=calendar_day(year, to)? {
                        if let Some(w) = usize::try_from(d - first)
                            .ok()
                            .and_then(|i| working.get_mut(i))
                        {
                            *w = works;
                        }
                    }
                }
            }
        }
        // Backwards, each day knows the next working day and the working
        // days after it.
        let mut roll = vec![end; len];
        let mut next = end;
        for (i, w) in working.iter().enumerate().rev() {
            if *w {
                next = first + i as Day;
            }
            if let Some(r) = roll.get_mut(i) {
                *r = next;
            }
        }
        let nth_after = |from: Day, n: u32| -> Day {
            let mut day = from;
            for _ in 0..n {
                let Some(&r) = usize::try_from(day + 1 - first)
                    .ok()
                    .and_then(|i| roll.get(i))
                else {
                    return end;
                };
                day = r;
            }
            day
        };
        let settle_first = (first - 1..end)
            .map(|d| nth_after(d, SETTLE_FIRST))
            .collect();
        let settle_last = (first - 1..end)
            .map(|d| nth_after(d, SETTLE_LAST))
            .collect();
        let text = (first..end)
            .map(|d| {
                let mut t = [0u8; 10];
                let _ = write!(t.as_mut_slice(), "{}", show_day(d));
                t
            })
            .collect();
        Ok(Calendar {
            name,
            first_year,
            last_year,
            first,
            end,
            roll,
            settle_first,
            settle_last,
            text,
        })
    }

    /// Civil Code art. 203: a window ending on a rest day ends on the next
    /// working day. `Err(day)`: the calendar does not cover `day`.
    fn roll_forward(&self, day: Day) -> Result<Day, Day> {
        let r = usize::try_from(day - self.first)
            .ok()
            .and_then(|i| self.roll.get(i))
            .copied()
            .ok_or(day)?;
        if r == self.end { Err(r) } else { Ok(r) }
    }

    /// The settlement window's working days after `day`. `Err(day)`: the
    /// first day looked up that the calendar does not cover.
    fn settlement(&self, day: Day) -> Result<(Day, Day), Day> {
        if day == MAX_DAY {
            return Err(day);
        }
        let i = usize::try_from(day - (self.first - 1)).map_err(|_| day + 1)?;
        let (Some(&earliest), Some(&latest)) = (self.settle_first.get(i), self.settle_last.get(i))
        else {
            return Err(day + 1);
        };
        // The earliest day is worked out first, so its failure is the one
        // reported.
        for d in [earliest, latest] {
            if d == self.end {
                return Err(d);
            }
        }
        Ok((earliest, latest))
    }

    fn text(&self, day: Day) -> Option<&[u8; 10]> {
        usize::try_from(day - self.first)
            .ok()
            .and_then(|i| self.text.get(i))
    }
}

/// A calendar entry's date: `MM-DD` in the table's year, or `YYYY-MM-DD`.
fn calendar_day(year: i32, text: &str) -> Result<Day, String> {
    let parts: Vec<i32> = text
        .trim()
        .split('-')
        .map(|p| p.parse().map_err(|_| format!("{year}: bad date {text:?}")))
        .collect::<Result<_, _>>()?;
    match *parts.as_slice() {
        [m, d] => Ok(days_from_civil(year, m as u32, d as u32)),
        [y, m, d] => Ok(days_from_civil(y, m as u32, d as u32)),
        _ => Err(format!("{year}: bad date {text:?}")),
    }
}

/// The last day jiff knows; a date past it is out of range.
const MAX_DAY: Day = days_from_civil(9999, 12, 31);

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
const fn days_from_civil(y: i32, m: u32, d: u32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy as i32;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count (the inverse of [`days_from_civil`]).
fn civil_from_days(z: Day) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i32::from(m <= 2);
    (y, m, d)
}

/// A day as jiff writes a date (`2025-01-08`), for the rare texts not in
/// the calendar's table.
fn show_day(day: Day) -> String {
    let (y, m, d) = civil_from_days(day);
    match Date::new(y as i16, m as i8, d as i8) {
        Ok(date) => date.to_string(),
        Err(_) => format!("{y:04}-{m:02}-{d:02}"),
    }
}

// ----- deciding -------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Deny,
    Review,
}

/// What a decision says, as `rpl eval --batch` writes it.
pub struct Decision {
    channel: Channel,
    verdict: Verdict,
    rule: &'static str,
    /// The amount and the route, when not denied.
    refund: Option<(Decimal, &'static str)>,
    installments: bool,
    return_shipping: Option<&'static str>,
    settlement: Option<(Day, Day)>,
    /// JSON arrays, as written.
    documents: &'static str,
    offers: &'static str,
    message: &'static str,
}

/// A request the policies do not decide: a `reject` rule, or an
/// evaluation error.
pub struct Refusal {
    channel: Channel,
    code: &'static str,
    path: &'static str,
    message: String,
    help: Option<String>,
}

const STANDARD_DOCUMENTS: &str = r#"["order_number","payment_proof"]"#;
const NO_LIST: &str = "[]";

/// A rule that decides: its outcome beyond the standard defaults.
struct Rule {
    name: &'static str,
    verdict: Verdict,
    return_shipping: Option<&'static str>,
    documents: &'static str,
    offers: &'static str,
    message: &'static str,
}

const fn approve(
    name: &'static str,
    return_shipping: Option<&'static str>,
    documents: &'static str,
    message: &'static str,
) -> Rule {
    Rule {
        name,
        verdict: Verdict::Approve,
        return_shipping,
        documents,
        offers: NO_LIST,
        message,
    }
}

const fn deny(name: &'static str, offers: &'static str, message: &'static str) -> Rule {
    Rule {
        name,
        verdict: Verdict::Deny,
        return_shipping: None,
        documents: NO_LIST,
        offers,
        message,
    }
}

const UNDELIVERED: Rule = approve(
    "undelivered",
    None,
    STANDARD_DOCUMENTS,
    "not delivered yet: full refund",
);
const FAULT_RETURN: Rule = approve(
    "fault_return",
    Some("merchant"),
    r#"["order_number","payment_proof","fault_certificate"]"#,
    "performance fault within 7 days: return and full refund",
);
const FAULT_EXCHANGE: Rule = deny(
    "fault_exchange",
    r#"["exchange","repair"]"#,
    "performance fault after 7 days: exchange or repair instead of a refund",
);
const FAULT_REPAIR: Rule = deny(
    "fault_repair",
    r#"["repair"]"#,
    "performance fault within the warranty: free repair",
);
const FAULT_EXPIRED: Rule = deny(
    "fault_expired",
    NO_LIST,
    "performance fault after the 1-year warranty",
);
const SELLER_ERROR: Rule = approve(
    "seller_error",
    Some("merchant"),
    r#"["order_number","payment_proof","photos"]"#,
    "seller's error: return at the merchant's cost, full refund",
);
const EXCLUDED_GOODS: Rule = deny(
    "excluded_goods",
    NO_LIST,
    "these goods are excluded from no-reason return",
);
const OUTSIDE_WINDOW: Rule = deny(
    "outside_window",
    NO_LIST,
    "the 7-day no-reason return window has ended",
);
const NOT_INTACT: Rule = deny(
    "not_intact",
    NO_LIST,
    "the goods are not intact (used, damaged or activated)",
);
const SEVEN_DAY_NO_REASON: Rule = approve(
    "seven_day_no_reason",
    Some("buyer"),
    STANDARD_DOCUMENTS,
    "七天无理由退货: no-reason return within 7 days",
);
const STORE_GOODWILL_RETURN: Rule = Rule {
    name: "store_goodwill_return",
    verdict: Verdict::Review,
    return_shipping: None,
    documents: STANDARD_DOCUMENTS,
    offers: NO_LIST,
    message: "no no-reason return in stores: the store manager decides",
};

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::OfficialMall => "official_mall",
            Channel::PartnerPlatform => "partner_platform",
            Channel::OfflineStore => "offline_store",
        }
    }

    /// Approvals above this go to a person (online channels only).
    fn high_value_threshold(self) -> Option<Decimal> {
        match self {
            Channel::OfficialMall => Some(Decimal::new(2_000_000, 2)),
            Channel::PartnerPlatform => Some(Decimal::new(1_000_000, 2)),
            Channel::OfflineStore => None,
        }
    }
}

impl Method {
    /// Money goes back the way it was paid.
    fn route(self) -> &'static str {
        match self {
            Method::BankCard => "bank_card",
            Method::CreditCard => "credit_card",
            Method::CreditCardInstallment => "credit_card_next_statement",
            Method::HuabeiInstallment => "huabei",
            Method::JdBaitiao => "jd_baitiao",
            Method::XiaomiInstallment => "xiaomi_installment",
            Method::Alipay => "alipay",
            Method::WechatPay => "wechat_pay",
            Method::Cash => "store_counter",
        }
    }
}

/// The native floor: the calendar's tables and the time zone, built once.
pub struct Floor {
    calendar: Calendar,
    zone: TimeZone,
    /// From this instant on the zone's offset never changes (Asia/Shanghai
    /// has kept +08:00 since 1991): a local date is then one division.
    fixed_since: i64,
    fixed_offset: i64,
}

impl Floor {
    /// Reads the calendar of the policy directory `dir`.
    pub fn load(dir: &Path) -> Result<Floor, String> {
        let calendar = Calendar::read(&dir.join("calendars/cn.toml"))?;
        let zone = TimeZone::get(TIME_ZONE).map_err(|e| e.to_string())?;
        let last = zone.preceding(Timestamp::MAX).next();
        let fixed_since = last.map_or(i64::MIN, |t| t.timestamp().as_second());
        let fixed_offset = i64::from(zone.to_offset(Timestamp::MAX).seconds());
        Ok(Floor {
            calendar,
            zone,
            fixed_since,
            fixed_offset,
        })
    }

    /// Reads one batch line (without its line break) as a request.
    pub fn decode<'a>(&self, line: &'a [u8]) -> Result<Request<'a>, RequestError> {
        if line.len() > MAX_REQUEST {
            return Err(RequestError::new(
                "rpl::request::too_large",
                "",
                format!("the line is over {MAX_REQUEST} bytes"),
            ));
        }
        // One check of the whole line, rather than serde_json's of each
        // string in it.
        let text = std::str::from_utf8(line).map_err(|e| {
            RequestError::new("rpl::request::syntax", "", format!("not UTF-8: {e}"))
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Object(raw): Object<Raw<'a>> =
            serde_json::from_str(text).map_err(|e| RequestError::of_json(&e))?;
        let order = raw.order.map(|o| o.0).unwrap_or_default();
        let item = raw.item.map(|o| o.0).unwrap_or_default();
        let payment = raw.payment.map(|o| o.0).unwrap_or_default();
        // The schema's order: the first field at fault is reported.
        let id = required(raw.request_id, "request_id")?.0;
        let channel = required(raw.channel, "channel")?;
        let requested_at = required(raw.requested_at, "requested_at")?.0;
        let reason = required(raw.reason, "reason")?;
        required(order.order_id, "order.order_id")?;
        let placed_at = required(order.placed_at, "order.placed_at")?.0;
        let delivered_at = order.delivered_at.map(|s| s.0);
        required(item.sku, "item.sku")?;
        let category = required(item.category, "item.category")?;
        let paid_amount = required(item.paid_amount, "item.paid_amount")?.0;
        at_least(
            required(item.quantity, "item.quantity")?,
            1,
            "item.quantity",
        )?;
        let condition = required(item.condition, "item.condition")?;
        let method = required(payment.method, "payment.method")?;
        let currency = required(payment.currency, "payment.currency")?.0;
        let installments = at_least(payment.installments.unwrap_or(1), 1, "payment.installments")?;
        at_least(
            payment.installments_billed.unwrap_or(0),
            0,
            "payment.installments_billed",
        )?;
        if placed_at > requested_at {
            return Err(out_of_order("requested_at", "order.placed_at"));
        }
        if let Some(delivered) = delivered_at {
            if placed_at > delivered {
                return Err(out_of_order("order.delivered_at", "order.placed_at"));
            }
            if delivered > requested_at {
                return Err(out_of_order("requested_at", "order.delivered_at"));
            }
        }
        Ok(Request {
            id,
            channel,
            requested_at,
            reason,
            delivered_at,
            category,
            paid_amount,
            condition,
            activated: item.activated.unwrap_or(false),
            custom_made: item.custom_made.unwrap_or(false),
            non_returnable_confirmed: item.non_returnable_confirmed.unwrap_or(false),
            gift_value: item.gift_value.map_or(Decimal::ZERO, |a| a.0),
            gift_returned: item.gift_returned.unwrap_or(true),
            method,
            currency,
            installments,
        })
    }

    /// The timestamp's date in the policies' time zone.
    fn local_day(&self, t: Timestamp) -> Day {
        let s = t.as_second();
        if s >= self.fixed_since {
            (s + self.fixed_offset).div_euclid(86_400) as Day
        } else {
            let d = self.zone.to_datetime(t).date();
            days_from_civil(i32::from(d.year()), d.month() as u32, d.day() as u32)
        }
    }

    /// `requested within the window that ends on day `end` (rolled past
    /// rest days), the window starting from `order.delivered_at`.
    fn within(&self, channel: Channel, requested: Day, end: Day) -> Result<bool, Refusal> {
        if end > MAX_DAY {
            return Err(date_range(channel, "order.delivered_at"));
        }
        match self.calendar.roll_forward(end) {
            Ok(end) => Ok(requested <= end),
            Err(day) => Err(self.out_of_calendar(channel, day, "order.delivered_at")),
        }
    }

    /// Decides a request: the channel's policy, its `reject`, its rules in
    /// order, then its `after` rule and the settlement of an approval.
    pub fn decide(&self, r: &Request<'_>) -> Result<Decision, Refusal> {
        let channel = r.channel;
        let online = channel != Channel::OfflineStore;
        if r.currency != *CURRENCY {
            let found = String::from_utf8_lossy(&r.currency);
            return Err(Refusal {
                channel,
                code: "rpl::eval::currency_mismatch",
                path: "payment.currency",
                message: format!(
                    "the request is in `{found}`, but policy `{}` is written in `CNY`",
                    channel.name()
                ),
                help: Some(format!(
                    "amounts in another currency cannot be compared with this policy's; convert the request or route it to a policy in `{found}`"
                )),
            });
        }
        if online && r.method == Method::Cash {
            return Err(Refusal {
                channel,
                code: "rpl::policy::cash_online",
                path: "payment.method",
                message: "cash payment is only possible in a store".into(),
                help: None,
            });
        }
        let requested = self.local_day(r.requested_at);
        let rule = self.rule(r, requested, online)?;
        let mut d = Decision {
            channel,
            verdict: rule.verdict,
            rule: rule.name,
            refund: None,
            installments: false,
            return_shipping: rule.return_shipping,
            settlement: None,
            documents: rule.documents,
            offers: rule.offers,
            message: rule.message,
        };
        if rule.verdict == Verdict::Deny {
            return Ok(d);
        }
        // Gifts come back, or their value is deducted; never below zero.
        let gift = if r.gift_returned {
            Decimal::ZERO
        } else {
            r.gift_value
        };
        let refund = (r.paid_amount - gift).max(Decimal::ZERO);
        d.refund = Some((refund, r.method.route()));
        d.installments = r.installments > 1;
        if channel
            .high_value_threshold()
            .is_some_and(|limit| refund > limit)
        {
            d.verdict = Verdict::Review;
            d.rule = "high_value_review";
            d.message = "refund above the high-value threshold: a person reviews it";
        }
        if d.verdict == Verdict::Approve {
            d.settlement = Some(if r.method == Method::Cash {
                (requested, requested)
            } else {
                self.calendar
                    .settlement(requested)
                    .map_err(|day| self.out_of_calendar(channel, day, "requested_at"))?
            });
        }
        Ok(d)
    }

    /// The rule of the channel's policy that decides.
    fn rule(
        &self,
        r: &Request<'_>,
        requested: Day,
        online: bool,
    ) -> Result<&'static Rule, Refusal> {
        let channel = r.channel;
        let Some(delivered) = r.delivered_at else {
            return Ok(&UNDELIVERED);
        };
        let delivered = self.local_day(delivered);
        let inside = |days: Day| self.within(channel, requested, delivered + days);
        if r.reason == RefundReason::PerformanceFault {
            if inside(7)? {
                return Ok(&FAULT_RETURN);
            }
            if inside(15)? {
                return Ok(&FAULT_EXCHANGE);
            }
            // One year on: 29 February becomes 28 February.
            let (y, m, d) = civil_from_days(delivered);
            let d = if m == 2 && d == 29 { 28 } else { d };
            if y + 1 > 9999 {
                return Err(date_range(channel, "order.delivered_at"));
            }
            let year_on = days_from_civil(y + 1, m, d);
            if self.within(channel, requested, year_on)? {
                return Ok(&FAULT_REPAIR);
            }
            return Ok(&FAULT_EXPIRED);
        }
        if matches!(
            r.reason,
            RefundReason::DamagedInTransit | RefundReason::WrongItem
        ) && inside(7)?
        {
            return Ok(&SELLER_ERROR);
        }
        if matches!(
            r.category,
            Category::Digital | Category::Perishable | Category::Periodical
        ) || r.custom_made
            || r.non_returnable_confirmed
        {
            return Ok(&EXCLUDED_GOODS);
        }
        if !inside(7)? {
            return Ok(&OUTSIDE_WINDOW);
        }
        if r.activated || matches!(r.condition, Condition::Used | Condition::Damaged) {
            return Ok(&NOT_INTACT);
        }
        Ok(if online {
            &SEVEN_DAY_NO_REASON
        } else {
            &STORE_GOODWILL_RETURN
        })
    }

    fn out_of_calendar(&self, channel: Channel, day: Day, path: &'static str) -> Refusal {
        let c = &self.calendar;
        let (year, _, _) = civil_from_days(day);
        Refusal {
            channel,
            code: "rpl::eval::calendar_out_of_range",
            path,
            message: format!(
                "{} is outside calendar `{}` (covers {}-{})",
                show_day(day),
                c.name,
                c.first_year,
                c.last_year
            ),
            help: Some(format!(
                "add the {year} holiday notice to the calendar file; rpl never guesses working days"
            )),
        }
    }

    /// One batch line's output line (with its line break) appended to
    /// `out`; `number` counts lines from 1.
    pub fn line(&self, number: u64, line: &[u8], out: &mut Vec<u8>) {
        match self.decode(line) {
            Ok(r) => match self.decide(&r) {
                Ok(d) => self.write_decision(&r.id, &d, out),
                Err(f) => write_refusal(&r.id, number, &f, out),
            },
            Err(e) => write_request_error(number, &e, out),
        }
    }

    fn write_decision(&self, id: &str, d: &Decision, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"request_id\":");
        json_string(id, out);
        out.extend_from_slice(match d.verdict {
            Verdict::Approve => b",\"decision\":\"approve\",\"policy\":\"",
            Verdict::Deny => b",\"decision\":\"deny\",\"policy\":\"",
            Verdict::Review => b",\"decision\":\"review\",\"policy\":\"",
        });
        out.extend_from_slice(d.channel.name().as_bytes());
        out.extend_from_slice(b"\",\"policy_version\":\"");
        out.extend_from_slice(VERSION.as_bytes());
        out.extend_from_slice(b"\",\"rule\":\"");
        out.extend_from_slice(d.rule.as_bytes());
        out.extend_from_slice(b"\",\"refund\":");
        match d.refund {
            Some((amount, route)) => {
                out.extend_from_slice(b"{\"amount\":\"");
                let _ = write!(out, "{amount:.2}");
                out.extend_from_slice(b"\",\"currency\":\"CNY\",\"route\":\"");
                out.extend_from_slice(route.as_bytes());
                out.extend_from_slice(b"\"}");
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(if d.installments {
            b",\"installments\":\"cancel_remaining\""
        } else {
            b",\"installments\":null"
        });
        out.extend_from_slice(b",\"return_shipping_paid_by\":");
        match d.return_shipping {
            Some(who) => {
                out.push(b'"');
                out.extend_from_slice(who.as_bytes());
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"settlement\":");
        match d.settlement {
            Some((earliest, latest)) => {
                out.extend_from_slice(b"{\"earliest\":\"");
                self.write_day(earliest, out);
                out.extend_from_slice(b"\",\"latest\":\"");
                self.write_day(latest, out);
                out.extend_from_slice(b"\"}");
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"documents\":");
        out.extend_from_slice(d.documents.as_bytes());
        out.extend_from_slice(b",\"offers\":");
        out.extend_from_slice(d.offers.as_bytes());
        out.extend_from_slice(b",\"message\":\"");
        // The rulebook's messages hold nothing JSON escapes.
        out.extend_from_slice(d.message.as_bytes());
        out.extend_from_slice(b"\"}\n");
    }

    fn write_day(&self, day: Day, out: &mut Vec<u8>) {
        match self.calendar.text(day) {
            Some(text) => out.extend_from_slice(text),
            // A cash settlement is the request's own day, which may lie
            // outside the calendar.
            None => out.extend_from_slice(show_day(day).as_bytes()),
        }
    }
}

fn date_range(channel: Channel, path: &'static str) -> Refusal {
    Refusal {
        channel,
        code: "rpl::eval::date_range",
        path,
        message: "a date computation left the supported range".into(),
        help: Some("check the dates in the request".into()),
    }
}

fn write_refusal(id: &str, number: u64, f: &Refusal, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"request_id\":");
    json_string(id, out);
    let _ = write!(out, ",\"line\":{number},\"policy\":\"");
    out.extend_from_slice(f.channel.name().as_bytes());
    out.extend_from_slice(b"\",\"policy_version\":\"");
    out.extend_from_slice(VERSION.as_bytes());
    out.extend_from_slice(b"\",\"error\":");
    write_error(f.code, f.path, &f.message, f.help.as_deref(), out);
    out.extend_from_slice(b"}\n");
}

fn write_request_error(number: u64, e: &RequestError, out: &mut Vec<u8>) {
    let _ = write!(out, "{{\"request_id\":null,\"line\":{number},\"error\":");
    write_error(e.code, e.path, &e.message, None, out);
    out.extend_from_slice(b"}\n");
}

fn write_error(code: &str, path: &str, message: &str, help: Option<&str>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"code\":");
    json_string(code, out);
    out.extend_from_slice(b",\"path\":");
    json_string(path, out);
    out.extend_from_slice(b",\"message\":");
    json_string(message, out);
    if let Some(help) = help {
        out.extend_from_slice(b",\"help\":");
        json_string(help, out);
    }
    out.push(b'}');
}

/// `s` as a JSON string the way RPL writes one: serde_json's escapes (`\"`,
/// `\\`, `\n` and the other C0 controls), and DEL, the C1 controls, the
/// line and paragraph separators and the bidirectional controls as `\u`
/// escapes too, so that no output can drive a terminal.
fn json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    // Request ids are almost always plain printable ASCII.
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.extend_from_slice(s.as_bytes());
    } else {
        for c in s.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\u{8}' => out.extend_from_slice(b"\\b"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\u{c}' => out.extend_from_slice(b"\\f"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\u{0}'..='\u{1f}'
                | '\u{7f}'..='\u{9f}'
                | '\u{61c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}' => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }
    out.push(b'"');
}
