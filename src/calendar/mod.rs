//! Working-day calendars, read from a TOML data file that policy authors
//! update every year (RULEBOOK, "Dates" and the appendix).
//!
//! A calendar file names itself and holds one table per year:
//!
//! ```toml
//! name = "cn"
//!
//! [2025]
//! source = "国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）"
//! holidays = ["01-01", "01-28 to 02-04"]   # days off, weekends inside included
//! makeup_workdays = ["01-26", "02-08"]     # weekend days worked (调休上班)
//! ```
//!
//! A date is `MM-DD` in the table's year, or `YYYY-MM-DD` for a holiday that
//! reaches into a neighbouring year; `A to B` (or `A..B`) is every day from A
//! to B, both included.
//!
//! A listed holiday is not a working day, a listed make-up day is one even on
//! a weekend, and otherwise Monday to Friday are working days. The years of a
//! calendar follow each other without gaps, and a date outside them is an
//! [`OutOfRange`] error, never a guess. Loading checks the whole file and
//! reports the first problem found as a [`CalendarError`] pointing into it.
//!
//! Whether a day is a working day is one bit of a per-year bitset. Rolling
//! forward and counting working days are two table lookups: built when the
//! file is read, one entry per day and per working day of the listed years,
//! so a window or settlement date costs the same however far it reaches.
//! A loaded [`Calendar`] is immutable and shared between threads.

mod error;
mod read;
#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use jiff::civil::Date;
use miette::NamedSource;

use crate::day::Day;
pub use error::CalendarError;

/// The file text as diagnostics show it; behind an `Arc` to keep errors small.
type Src = Arc<NamedSource<Arc<str>>>;

/// The keys of a year table, in the order the help texts name them.
const YEAR_KEYS: [&str; 3] = ["source", "holidays", "makeup_workdays"];

/// One `u64` word per 64 days of a year; 6 words hold 366 days.
const WORDS_PER_YEAR: usize = 6;

/// A working-day calendar covering a run of consecutive years.
#[derive(Clone)]
pub struct Calendar {
    name: String,
    first_year: i16,
    last_year: i16,
    /// `years[i]` is the year `first_year + i`.
    years: Vec<Year>,
    /// 1 January of the first year: the day `first + i` is day `i` below.
    first: Day,
    /// For each day `i`, how many working days come before it: the first
    /// working day on or after it is `working[before[i]]`.
    before: Box<[u32]>,
    /// The working days, in order.
    working: Box<[Day]>,
}

/// The working days of one year, bit `n` standing for day of year `n + 1`.
#[derive(Clone)]
struct Year {
    year: i16,
    source: String,
    working: [u64; WORDS_PER_YEAR],
}

impl Year {
    fn is_working(&self, d: Date) -> bool {
        u16::try_from(d.day_of_year() - 1).is_ok_and(|n| self.is_working_nth(n))
    }

    /// Whether day `n` of the year (0 for 1 January) is a working day.
    fn is_working_nth(&self, n: u16) -> bool {
        let n = usize::from(n);
        self.working
            .get(n / 64)
            .is_some_and(|word| word >> (n % 64) & 1 == 1)
    }

    fn days(&self) -> u16 {
        Date::new(self.year, 1, 1).map_or(0, |d| d.days_in_year().unsigned_abs())
    }

    fn set_working(&mut self, d: Date) {
        if let Ok(bit) = usize::try_from(d.day_of_year() - 1)
            && let Some(word) = self.working.get_mut(bit / 64)
        {
            *word |= 1 << (bit % 64);
        }
    }

    fn working_days(&self) -> u32 {
        self.working.iter().map(|w| w.count_ones()).sum()
    }
}

/// Without the lookup tables, which say again what the years say.
impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("name", &self.name)
            .field("first_year", &self.first_year)
            .field("last_year", &self.last_year)
            .field("years", &self.years)
            .finish()
    }
}

impl fmt::Debug for Year {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Year")
            .field("year", &self.year)
            .field("source", &self.source)
            .field("working_days", &self.working_days())
            .finish()
    }
}

impl Calendar {
    /// A calendar of consecutive `years`, with its lookup tables.
    fn new(name: String, first_year: i16, last_year: i16, years: Vec<Year>) -> Calendar {
        let first = Date::new(first_year, 1, 1).map_or(Day::MIN, Day::of);
        let mut before = Vec::new();
        let mut working = Vec::new();
        // The years follow each other: day `i` is the `i`-th one pushed.
        let mut day = first;
        for year in &years {
            for n in 0..year.days() {
                before.push(u32::try_from(working.len()).unwrap_or(u32::MAX));
                if year.is_working_nth(n) {
                    working.push(day);
                }
                day = day.plus(1).unwrap_or(Day::MAX);
            }
        }
        Calendar {
            name,
            first_year,
            last_year,
            years,
            first,
            before: before.into(),
            working: working.into(),
        }
    }

    /// Reads a calendar from the text of a calendar file; `name` is how
    /// diagnostics name the file (its path, usually).
    pub fn parse(name: &str, text: &str) -> Result<Calendar, CalendarError> {
        read::parse(name, text)
    }

    /// The calendar's own name (`name = "cn"` in the file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The years the calendar lists, all of them.
    pub fn years(&self) -> RangeInclusive<i16> {
        self.first_year..=self.last_year
    }

    /// The notice a year's dates come from, as the file cites it.
    pub fn source(&self, year: i16) -> Option<&str> {
        self.year(year).map(|y| y.source.as_str())
    }

    /// Whether `d` falls in a year the calendar lists.
    pub fn covers(&self, d: Date) -> bool {
        self.year(d.year()).is_some()
    }

    /// Whether `d` is a working day.
    pub fn is_working_day(&self, d: Date) -> Result<bool, OutOfRange> {
        match self.year(d.year()) {
            Some(year) => Ok(year.is_working(d)),
            None => Err(self.out_of_range(d)),
        }
    }

    /// `d` itself if it is a working day, else the first working day after it
    /// (Civil Code art. 203: a period ending on a rest day ends on the next
    /// working day).
    pub fn roll_forward(&self, d: Date) -> Result<Date, OutOfRange> {
        self.roll_forward_day(Day::of(d)).map(Day::date)
    }

    /// [`Calendar::roll_forward`] of a day number.
    pub fn roll_forward_day(&self, d: Day) -> Result<Day, OutOfRange> {
        let i = self.index(d).ok_or_else(|| self.out_of_range(d.date()))?;
        self.before
            .get(i)
            .and_then(|&n| self.working.get(n as usize))
            .copied()
            .ok_or_else(|| self.past_end())
    }

    /// The `k`-th working day strictly after `d`; `k = 0` returns `d` without
    /// looking it up. Only the days after `d` are looked up, so `d` itself may
    /// lie just before the calendar.
    pub fn nth_working_day_after(&self, d: Date, k: u32) -> Result<Date, OutOfRange> {
        self.nth_working_day_after_day(Day::of(d), k).map(Day::date)
    }

    /// [`Calendar::nth_working_day_after`] of a day number.
    pub fn nth_working_day_after_day(&self, d: Day, k: u32) -> Result<Day, OutOfRange> {
        if k == 0 {
            return Ok(d);
        }
        // Counting looks the days up one by one from the next: the first
        // one missing is the one an error names.
        let next = d.plus(1).ok_or_else(|| self.out_of_range(d.date()))?;
        let i = self
            .index(next)
            .ok_or_else(|| self.out_of_range(next.date()))?;
        self.before
            .get(i)
            .and_then(|&n| {
                self.working
                    .get((n as usize).saturating_add(k as usize - 1))
            })
            .copied()
            .ok_or_else(|| self.past_end())
    }

    /// Where `d` is in the tables, if the calendar lists its year.
    fn index(&self, d: Day) -> Option<usize> {
        usize::try_from(d.since(self.first))
            .ok()
            .filter(|&i| i < self.before.len())
    }

    /// What counting past the last listed day runs into: the day after it
    /// (or that day itself, when jiff has no day after it).
    fn past_end(&self) -> OutOfRange {
        let last = Date::new(self.last_year, 12, 31).unwrap_or(Date::MAX);
        self.out_of_range(last.tomorrow().unwrap_or(last))
    }

    fn year(&self, year: i16) -> Option<&Year> {
        let index = usize::try_from(i32::from(year) - i32::from(self.first_year)).ok()?;
        self.years.get(index)
    }

    fn out_of_range(&self, date: Date) -> OutOfRange {
        OutOfRange {
            date,
            calendar: self.name.clone(),
            first_year: self.first_year,
            last_year: self.last_year,
        }
    }
}

/// A date the calendar has no data for: looking it up would be a guess.
/// The evaluator reports it as `rpl::eval::calendar_out_of_range`, naming
/// the request field the date came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{date} is outside calendar `{calendar}` (covers {first_year}-{last_year})")]
pub struct OutOfRange {
    pub date: Date,
    pub calendar: String,
    pub first_year: i16,
    pub last_year: i16,
}
