//! Dates as day numbers: what windows, settlement dates and working-day
//! calendars compute with while deciding. A [`Day`] is a count of days
//! since 1970-01-01, so a date plus `n` days is an addition and comparing
//! two dates compares two integers; a [`Zone`] turns a timestamp into the
//! day it falls on in a policy's time zone, with arithmetic alone where the
//! zone's offset no longer changes. Both agree with `jiff` on every date and
//! timestamp it supports (the tests walk the whole range).

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// A civil date as the number of days since 1970-01-01. Only ever made
/// from a [`Date`] or by arithmetic that stays within jiff's dates, so it
/// always converts back.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Day(i32);

const SECONDS_PER_DAY: i64 = 86_400;

/// Howard Hinnant's `days_from_civil`, for a valid date.
fn civil_days(year: i32, month: i32, day: i32) -> Day {
    let year = year - i32::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Day(era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT)
}

/// Days from 0000-03-01 to 1970-01-01: the algorithms below count from a
/// March 1st, which puts the leap day last in the (shifted) year.
const EPOCH_SHIFT: i32 = 719_468;
const DAYS_PER_ERA: i32 = 146_097;

impl Day {
    /// jiff's first date, -9999-01-01.
    pub const MIN: Day = Day(-4_371_587);
    /// jiff's last date, 9999-12-31.
    pub const MAX: Day = Day(2_932_896);

    /// The day number of a date.
    pub fn of(date: Date) -> Day {
        civil_days(
            i32::from(date.year()),
            i32::from(date.month()),
            i32::from(date.day()),
        )
    }

    /// The day number of `year`-`month`-`day`, when that is a date jiff
    /// has: what a request's timestamp is read with, without building
    /// jiff's civil types.
    pub fn from_ymd(year: i32, month: i32, day: i32) -> Option<Day> {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days_in_month = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            1..=12 => 31,
            _ => return None,
        };
        ((-9999..=9999).contains(&year) && (1..=days_in_month).contains(&day))
            .then(|| civil_days(year, month, day))
    }

    /// The first second of this day in UTC, in seconds since the epoch.
    pub fn utc_seconds(self) -> i64 {
        i64::from(self.0) * SECONDS_PER_DAY
    }

    /// The date of this day.
    pub fn date(self) -> Date {
        let (year, month, day) = self.civil();
        // Every day from MIN to MAX is a date jiff knows (a test walks
        // them all), so this never falls back.
        match (i16::try_from(year), i8::try_from(month), i8::try_from(day)) {
            (Ok(y), Ok(m), Ok(d)) => Date::new(y, m, d).unwrap_or_default(),
            _ => Date::default(),
        }
    }

    /// Year, month and day (Howard Hinnant's `civil_from_days`).
    fn civil(self) -> (i32, i32, i32) {
        let z = self.0 + EPOCH_SHIFT;
        let era = z.div_euclid(DAYS_PER_ERA);
        let day_of_era = z.rem_euclid(DAYS_PER_ERA);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
        let month = if month_from_march < 10 {
            month_from_march + 3
        } else {
            month_from_march - 9
        };
        (year_of_era + era * 400 + i32::from(month <= 2), month, day)
    }

    /// `self + n` days; `None` past jiff's dates.
    pub fn plus(self, n: i64) -> Option<Day> {
        let day = i64::from(self.0).checked_add(n)?;
        if (i64::from(Day::MIN.0)..=i64::from(Day::MAX.0)).contains(&day) {
            i32::try_from(day).ok().map(Day)
        } else {
            None
        }
    }

    /// How many days `self` is after `earlier` (negative when before).
    pub fn since(self, earlier: Day) -> i64 {
        i64::from(self.0) - i64::from(earlier.0)
    }

    /// Writes the date as `YYYY-MM-DD` into `buf` without allocating, for
    /// the years 0 to 9999 (every date a request can lead to in practice);
    /// `None` for the others, which [`Date`]'s `Display` writes with a sign.
    pub fn iso(self, buf: &mut [u8; 10]) -> Option<&str> {
        let (year, month, day) = self.civil();
        if !(0..=9999).contains(&year) {
            return None;
        }
        let digit = |n: i32| b'0' + n.rem_euclid(10) as u8;
        *buf = [
            digit(year / 1000),
            digit(year / 100),
            digit(year / 10),
            digit(year),
            b'-',
            digit(month / 10),
            digit(month),
            b'-',
            digit(day / 10),
            digit(day),
        ];
        std::str::from_utf8(buf).ok()
    }
}

impl From<Date> for Day {
    fn from(date: Date) -> Day {
        Day::of(date)
    }
}

/// As the date it is: traces and internal errors show days as dates.
impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.date(), f)
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.date(), f)
    }
}

/// A policy's time zone, turning timestamps into the days they fall on
/// there.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: TimeZone,
    /// From its last transition on, a zone's offset never changes again
    /// (Asia/Shanghai since 1991; a zone with a daylight saving rule keeps
    /// changing until jiff's last year): the instant and the offset, in
    /// seconds. A timestamp at or after it needs no lookup.
    steady_from: Timestamp,
    steady_offset: i64,
}

impl Zone {
    pub fn new(tz: TimeZone) -> Zone {
        let steady_from = tz
            .preceding(Timestamp::MAX)
            .next()
            .map_or(Timestamp::MIN, |t| t.timestamp());
        let steady_offset = i64::from(tz.to_offset(steady_from).seconds());
        Zone {
            tz,
            steady_from,
            steady_offset,
        }
    }

    /// The day `t` falls on in this zone.
    pub fn day(&self, t: Timestamp) -> Day {
        if t < self.steady_from {
            return Day::of(self.tz.to_datetime(t).date());
        }
        // `as_second` truncates toward zero; a day starts at a whole second.
        let second = t.as_second() - i64::from(t.subsec_nanosecond() < 0);
        let day = (second + self.steady_offset).div_euclid(SECONDS_PER_DAY);
        // Every timestamp jiff has falls on a jiff date in any offset.
        i32::try_from(day).map_or(Day::MIN, Day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn every_date_jiff_has_is_one_day_after_the_previous_and_back() {
        assert_eq!(Day::of(d("1970-01-01")), Day(0));
        assert_eq!(Day::of(Date::MIN), Day::MIN);
        assert_eq!(Day::of(Date::MAX), Day::MAX);
        let mut date = Date::MIN;
        let mut day = Day::MIN;
        loop {
            assert_eq!(Day::of(date), day, "{date}");
            assert_eq!(day.date(), date, "{day:?}");
            let Ok(next) = date.tomorrow() else { break };
            date = next;
            day = day.plus(1).unwrap();
        }
        assert_eq!(day, Day::MAX);
        assert_eq!(Day::MAX.plus(1), None);
        assert_eq!(Day::MIN.plus(-1), None);
        assert_eq!(Day::MIN.plus(i64::MAX), None);
    }

    #[test]
    fn a_year_month_and_day_make_a_day_exactly_when_jiff_has_the_date() {
        for year in [
            -10000, -9999, -401, -400, -100, -4, -1, 0, 1, 4, 100, 400, 1900, 1970, 2000, 2023,
            2024, 2100, 9999, 10000,
        ] {
            for month in -1..=13 {
                for day in -1..=32 {
                    let jiff = match (i16::try_from(year), i8::try_from(month), i8::try_from(day)) {
                        (Ok(y), Ok(m), Ok(d)) => Date::new(y, m, d).ok(),
                        _ => None,
                    };
                    assert_eq!(
                        Day::from_ymd(year, month, day),
                        jiff.map(Day::of),
                        "{year}-{month}-{day}"
                    );
                }
            }
        }
        assert_eq!(
            Day::from_ymd(1970, 1, 2).map(Day::utc_seconds),
            Some(86_400)
        );
    }

    #[test]
    fn iso_dates_are_written_as_jiff_writes_them() {
        let mut buf = [0; 10];
        for s in [
            "0000-01-01",
            "0999-12-31",
            "1970-01-01",
            "2025-02-28",
            "9999-12-31",
        ] {
            assert_eq!(Day::of(d(s)).iso(&mut buf), Some(s));
        }
        assert_eq!(Day::of(Date::new(-1, 12, 31).unwrap()).iso(&mut buf), None);
        let mut day = Day::of(d("1900-01-01"));
        while day <= Day::of(d("2100-12-31")) {
            assert_eq!(day.iso(&mut buf).unwrap(), day.date().to_string());
            day = day.plus(1).unwrap();
        }
    }

    /// Timestamps across jiff's range, before and after each zone's last
    /// transition, with and without fractions of a second.
    fn timestamps() -> impl Iterator<Item = Timestamp> {
        let (lo, hi) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let random = (0..20_000).map(move |_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let span = u64::try_from(hi - lo).unwrap();
            lo + i64::try_from((x >> 11) % span).unwrap()
        });
        // Every hour around 1991 and around today.
        let hourly = (0..20_000)
            .map(|h| 662_688_000 + h * 3_600)
            .chain((0..20_000).map(|h| 1_735_689_600 + h * 3_600));
        random
            .chain(hourly)
            .chain([lo, hi, -1, 0, 1])
            .flat_map(|s| {
                [0, 1, 999_999_999, -1, -999_999_999]
                    .into_iter()
                    .filter_map(move |n| Timestamp::new(s, n).ok())
            })
    }

    #[test]
    fn a_zone_puts_every_timestamp_on_the_day_jiff_does() {
        for name in ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"] {
            let tz = TimeZone::get(name).unwrap();
            let zone = Zone::new(tz.clone());
            for t in timestamps() {
                assert_eq!(zone.day(t).date(), tz.to_datetime(t).date(), "{name} {t}");
            }
        }
        let fixed = TimeZone::fixed(jiff::tz::offset(-11));
        let zone = Zone::new(fixed.clone());
        for t in timestamps() {
            assert_eq!(zone.day(t).date(), fixed.to_datetime(t).date(), "{t}");
        }
    }

    #[test]
    fn shanghai_needs_no_lookup_since_1991() {
        let zone = Zone::new(TimeZone::get("Asia/Shanghai").unwrap());
        assert!(zone.steady_from < "1992-01-01T00:00Z".parse().unwrap());
        assert_eq!(zone.steady_offset, 8 * 3600);
    }
}
