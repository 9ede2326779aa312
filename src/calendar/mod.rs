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
//! Lookups read one bit per day from a per-year bitset, so a loaded
//! [`Calendar`] is cheap to query and to share between threads.

mod error;
mod read;
#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use jiff::civil::Date;
use miette::NamedSource;

pub use error::CalendarError;

/// The file text as diagnostics show it; behind an `Arc` to keep errors small.
type Src = Arc<NamedSource<Arc<str>>>;

/// The keys of a year table, in the order the help texts name them.
const YEAR_KEYS: [&str; 3] = ["source", "holidays", "makeup_workdays"];

/// One `u64` word per 64 days of a year; 6 words hold 366 days.
const WORDS_PER_YEAR: usize = 6;

/// A working-day calendar covering a run of consecutive years.
#[derive(Debug, Clone)]
pub struct Calendar {
    name: String,
    first_year: i16,
    last_year: i16,
    /// `years[i]` is the year `first_year + i`.
    years: Vec<Year>,
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
        let Ok(bit) = usize::try_from(d.day_of_year() - 1) else {
            return false;
        };
        self.working
            .get(bit / 64)
            .is_some_and(|word| word >> (bit % 64) & 1 == 1)
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
        let mut day = d;
        while !self.is_working_day(day)? {
            day = self.next_day(day)?;
        }
        Ok(day)
    }

    /// The `k`-th working day strictly after `d`; `k = 0` returns `d` without
    /// looking it up. Only the days after `d` are looked up, so `d` itself may
    /// lie just before the calendar.
    pub fn nth_working_day_after(&self, d: Date, k: u32) -> Result<Date, OutOfRange> {
        let mut day = d;
        let mut left = k;
        while left > 0 {
            day = self.next_day(day)?;
            if self.is_working_day(day)? {
                left -= 1;
            }
        }
        Ok(day)
    }

    fn year(&self, year: i16) -> Option<&Year> {
        let index = usize::try_from(i32::from(year) - i32::from(self.first_year)).ok()?;
        self.years.get(index)
    }

    fn next_day(&self, d: Date) -> Result<Date, OutOfRange> {
        // Only the last day jiff knows (9999-12-31) has no next day.
        d.tomorrow().map_err(|_| self.out_of_range(d))
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
