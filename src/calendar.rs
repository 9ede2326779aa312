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

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::ops::{Range, RangeInclusive};
use std::sync::Arc;

use jiff::civil::{Date, Weekday};
use miette::{Diagnostic, NamedSource, SourceSpan};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

/// The file text as diagnostics show it; behind an `Arc` to keep errors small.
type Src = Arc<NamedSource<Arc<str>>>;

/// The keys of a year table, in the order the help texts name them.
const YEAR_KEYS: [&str; 3] = ["source", "holidays", "makeup_workdays"];

/// One `u64` word per 64 days of a year; 6 words hold 366 days.
const WORDS_PER_YEAR: usize = 6;

// ---------------------------------------------------------------------------
// The calendar
// ---------------------------------------------------------------------------

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
        let cx = Cx {
            src: Arc::new(NamedSource::new(name, Arc::<str>::from(text)).with_language("toml")),
            text,
        };
        let doc = DeTable::parse(text).map_err(|e| cx.syntax(&e))?;
        cx.calendar(doc.get_ref())
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{date} is outside calendar `{calendar}` (covers {first_year}-{last_year})")]
pub struct OutOfRange {
    pub date: Date,
    pub calendar: String,
    pub first_year: i16,
    pub last_year: i16,
}

impl Diagnostic for OutOfRange {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("rpl::calendar::out_of_range"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!(
            "calendar `{}` needs a table for {}, copied from that year's State Council holiday notice",
            self.calendar,
            self.date.year()
        )))
    }
}

// ---------------------------------------------------------------------------
// Errors in a calendar file
// ---------------------------------------------------------------------------

/// A calendar file that cannot be read or does not make sense.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum CalendarError {
    #[error("calendar file is not valid TOML: {message}")]
    #[diagnostic(
        code(rpl::calendar::syntax),
        help(
            "write dates and names in double quotes, e.g. `holidays = [\"10-01 to 10-07\"]`; \
             the comments at the top of `policies/calendars/cn.toml` explain the format"
        )
    )]
    Syntax {
        message: String,
        #[source_code]
        src: Src,
        #[label("here")]
        span: SourceSpan,
    },

    #[error("missing key `{key}`")]
    #[diagnostic(code(rpl::calendar::missing_key))]
    MissingKey {
        key: &'static str,
        #[source_code]
        src: Src,
        #[label("{where_}")]
        span: SourceSpan,
        where_: &'static str,
        #[help]
        help: String,
    },

    #[error("unknown key `{key}`")]
    #[diagnostic(code(rpl::calendar::unknown_key))]
    UnknownKey {
        key: String,
        #[source_code]
        src: Src,
        #[label("not a calendar key")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{key}` must be {expected}, not {found}")]
    #[diagnostic(code(rpl::calendar::wrong_type))]
    WrongType {
        key: String,
        expected: &'static str,
        found: &'static str,
        #[source_code]
        src: Src,
        #[label("this is {found}")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{key}` is not a year")]
    #[diagnostic(
        code(rpl::calendar::bad_year),
        help("name each year's table by its four-digit year, e.g. `[2025]`")
    )]
    BadYear {
        key: String,
        #[source_code]
        src: Src,
        #[label("expected four digits")]
        span: SourceSpan,
    },

    #[error("the calendar lists no year")]
    #[diagnostic(
        code(rpl::calendar::no_years),
        help(
            "add a table for each year, e.g. `[2025]` with `source`, `holidays` and \
             `makeup_workdays`"
        )
    )]
    NoYears {
        #[source_code]
        src: Src,
        #[label("no year table in this file")]
        span: SourceSpan,
    },

    #[error("the calendar has no table for {missing}")]
    #[diagnostic(
        code(rpl::calendar::gap),
        help(
            "a calendar covers consecutive years: add the missing years from their \
             State Council holiday notices"
        )
    )]
    Gap {
        missing: String,
        #[source_code]
        src: Src,
        #[label("{after} is followed by {before}")]
        span: SourceSpan,
        after: i16,
        before: i16,
    },

    #[error("{message}")]
    #[diagnostic(code(rpl::calendar::bad_date))]
    BadDate {
        message: String,
        #[source_code]
        src: Src,
        #[label("{label}")]
        span: SourceSpan,
        label: &'static str,
        #[help]
        help: String,
    },

    #[error("`{date}` is too far from {year} to be listed under `[{year}]`")]
    #[diagnostic(
        code(rpl::calendar::wrong_year),
        help(
            "list a date in the table of its own year; a table reaches into the \
             neighbouring years only for a holiday that spans New Year"
        )
    )]
    WrongYear {
        date: Date,
        year: i16,
        #[source_code]
        src: Src,
        #[label("not in {year}")]
        span: SourceSpan,
    },

    #[error("`{date}` is listed twice as a {kind}")]
    #[diagnostic(code(rpl::calendar::duplicate), help("remove one of them"))]
    Duplicate {
        date: Date,
        kind: &'static str,
        #[source_code]
        src: Src,
        #[label("first listed here")]
        first: SourceSpan,
        #[label("listed again here")]
        second: SourceSpan,
    },

    #[error("`{date}` is listed both as a holiday and as a make-up working day")]
    #[diagnostic(
        code(rpl::calendar::conflict),
        help(
            "a day is either a holiday or a make-up working day: check the notice and remove the wrong one"
        )
    )]
    Conflict {
        date: Date,
        #[source_code]
        src: Src,
        #[label("holiday here")]
        holiday: SourceSpan,
        #[label("make-up working day here")]
        makeup: SourceSpan,
    },

    #[error("make-up working day `{date}` is a {weekday}, a working day anyway")]
    #[diagnostic(
        code(rpl::calendar::not_weekend),
        help(
            "make-up working days (调休上班) are always a Saturday or a Sunday: check the \
             date against the notice"
        )
    )]
    NotWeekend {
        date: Date,
        weekday: &'static str,
        #[source_code]
        src: Src,
        #[label("not a weekend day")]
        span: SourceSpan,
    },
}

// ---------------------------------------------------------------------------
// Reading a calendar file
// ---------------------------------------------------------------------------

/// Whether a listed day is a holiday or a make-up working day.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Holiday,
    Makeup,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Holiday => "holiday",
            Kind::Makeup => "make-up working day",
        }
    }
}

/// A year table, found but not yet read.
struct YearTable<'a, 'i> {
    year: i16,
    key_span: Range<usize>,
    header_span: Range<usize>,
    table: &'a DeTable<'i>,
}

/// A listed day and the span of the entry that lists it.
#[derive(Clone, Copy)]
struct Listed {
    kind: Kind,
    span: SourceSpan,
}

/// What is wrong with one entry of `holidays` or `makeup_workdays`; the
/// range is the part of the entry's text at fault.
enum EntryProblem {
    Malformed(Range<usize>),
    NoSuchDate(Range<usize>),
    Reversed,
    WrongYear(Range<usize>, Date),
}

/// Reading context: the file, for spans and diagnostics.
struct Cx<'t> {
    src: Src,
    text: &'t str,
}

impl Cx<'_> {
    fn calendar(&self, doc: &DeTable<'_>) -> Result<Calendar, CalendarError> {
        let mut name = None;
        let mut tables = Vec::new();
        for (key, value) in doc.iter() {
            let k: &str = key.get_ref();
            if k == "name" {
                name = Some(self.nonempty_string(k, value)?);
            } else if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) {
                tables.push(self.year_table(key, value)?);
            } else {
                return Err(self.unknown_top_key(key));
            }
        }
        let name = name.ok_or_else(|| CalendarError::MissingKey {
            key: "name",
            src: self.src.clone(),
            span: SourceSpan::from((0, 0)),
            where_: "this file has no `name`",
            help: "start the file with the calendar's name, e.g. `name = \"cn\"`".to_owned(),
        })?;
        tables.sort_by_key(|t| t.year);
        self.check_consecutive(&tables)?;

        let mut listed = BTreeMap::new();
        let mut years = Vec::with_capacity(tables.len());
        for t in &tables {
            self.year_keys(t)?;
            let source = self.nonempty_string("source", self.require(t, "source")?)?;
            let holidays = self.require(t, "holidays")?;
            let makeup = self.require(t, "makeup_workdays")?;
            self.entries(t.year, "holidays", holidays, Kind::Holiday, &mut listed)?;
            self.entries(t.year, "makeup_workdays", makeup, Kind::Makeup, &mut listed)?;
            years.push((t.year, source));
        }
        let (Some(&(first_year, _)), Some(&(last_year, _))) = (years.first(), years.last()) else {
            return Err(CalendarError::NoYears {
                src: self.src.clone(),
                span: SourceSpan::from((self.text.trim_end().len(), 0)),
            });
        };
        let years = years
            .into_iter()
            .map(|(year, source)| build_year(year, source, &listed))
            .collect();
        Ok(Calendar {
            name,
            first_year,
            last_year,
            years,
        })
    }

    /// A top-level key made of digits: the table of one year.
    fn year_table<'a, 'i>(
        &self,
        key: &Spanned<DeString<'i>>,
        value: &'a Spanned<DeValue<'i>>,
    ) -> Result<YearTable<'a, 'i>, CalendarError> {
        let k: &str = key.get_ref();
        let year = match k.parse::<i16>() {
            Ok(year) if k.len() == 4 => year,
            _ => {
                return Err(CalendarError::BadYear {
                    key: k.to_owned(),
                    src: self.src.clone(),
                    span: key.span().into(),
                });
            }
        };
        let DeValue::Table(table) = value.get_ref() else {
            return Err(self.wrong_type(
                k,
                value,
                "a table",
                format!("start the year's table with a line `[{k}]`, followed by its keys"),
            ));
        };
        Ok(YearTable {
            year,
            key_span: key.span(),
            header_span: value.span(),
            table,
        })
    }

    fn check_consecutive(&self, tables: &[YearTable<'_, '_>]) -> Result<(), CalendarError> {
        for pair in tables.windows(2) {
            let [a, b] = pair else { continue };
            if i32::from(b.year) != i32::from(a.year) + 1 {
                let (from, to) = (i32::from(a.year) + 1, i32::from(b.year) - 1);
                let missing = if from == to {
                    from.to_string()
                } else {
                    format!("{from} to {to}")
                };
                return Err(CalendarError::Gap {
                    missing,
                    src: self.src.clone(),
                    span: b.key_span.clone().into(),
                    after: a.year,
                    before: b.year,
                });
            }
        }
        Ok(())
    }

    /// Checks that a year table holds exactly the known keys.
    fn year_keys(&self, t: &YearTable<'_, '_>) -> Result<(), CalendarError> {
        for (key, _) in t.table.iter() {
            let k: &str = key.get_ref();
            if !YEAR_KEYS.contains(&k) {
                let help = match suggest(k, &YEAR_KEYS) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => {
                        "a year's table holds `source`, `holidays` and `makeup_workdays`".to_owned()
                    }
                };
                return Err(CalendarError::UnknownKey {
                    key: k.to_owned(),
                    src: self.src.clone(),
                    span: key.span().into(),
                    help,
                });
            }
        }
        Ok(())
    }

    /// The value of `key` in a year table, which must have it.
    fn require<'a, 'i>(
        &self,
        t: &YearTable<'a, 'i>,
        key: &'static str,
    ) -> Result<&'a Spanned<DeValue<'i>>, CalendarError> {
        lookup(t.table, key).ok_or_else(|| {
            let year = t.year;
            let example = match key {
                "source" => format!(
                    "`source = \"国务院办公厅关于{year}年部分节假日安排的通知\"`, the notice's title"
                ),
                "holidays" => "`holidays = [\"01-01\", \"10-01 to 10-07\"]`".to_owned(),
                _ => "`makeup_workdays = [\"09-28\"]`, or `makeup_workdays = []` if the \
                      notice has none"
                    .to_owned(),
            };
            CalendarError::MissingKey {
                key,
                src: self.src.clone(),
                span: t.header_span.clone().into(),
                where_: "in this year's table",
                help: format!("add {example}"),
            }
        })
    }

    /// Reads the entries of `holidays` or `makeup_workdays` into `listed`.
    fn entries(
        &self,
        year: i16,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        kind: Kind,
        listed: &mut BTreeMap<Date, Listed>,
    ) -> Result<(), CalendarError> {
        let example = format!("write e.g. `{key} = [\"01-01\", \"10-01 to 10-07\"]`");
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.wrong_type(key, value, "a list of dates", example));
        };
        for item in items.iter() {
            let DeValue::String(text) = item.get_ref() else {
                let help = "write each date in double quotes, e.g. `\"10-01\"`".to_owned();
                return Err(self.wrong_type(key, item, "a list of dates in quotes", help));
            };
            let (first, last) =
                parse_entry(text, year).map_err(|p| self.bad_entry(text, item.span(), year, p))?;
            let span = self.inner_span(item.span(), text, 0..text.len());
            let mut day = first;
            while day <= last {
                if kind == Kind::Makeup && !is_weekend(day) {
                    return Err(CalendarError::NotWeekend {
                        date: day,
                        weekday: weekday_name(day.weekday()),
                        src: self.src.clone(),
                        span,
                    });
                }
                self.list(day, Listed { kind, span }, listed)?;
                let Ok(next) = day.tomorrow() else { break };
                day = next;
            }
        }
        Ok(())
    }

    fn list(
        &self,
        day: Date,
        new: Listed,
        listed: &mut BTreeMap<Date, Listed>,
    ) -> Result<(), CalendarError> {
        let old = match listed.entry(day) {
            Entry::Vacant(slot) => {
                slot.insert(new);
                return Ok(());
            }
            Entry::Occupied(slot) => *slot.get(),
        };
        let src = self.src.clone();
        Err(match (old.kind, new.kind) {
            (Kind::Holiday, Kind::Makeup) => CalendarError::Conflict {
                date: day,
                src,
                holiday: old.span,
                makeup: new.span,
            },
            (Kind::Makeup, Kind::Holiday) => CalendarError::Conflict {
                date: day,
                src,
                holiday: new.span,
                makeup: old.span,
            },
            (kind, _) => CalendarError::Duplicate {
                date: day,
                kind: kind.noun(),
                src,
                first: old.span,
                second: new.span,
            },
        })
    }

    fn nonempty_string(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<String, CalendarError> {
        match value.get_ref() {
            DeValue::String(s) if !s.trim().is_empty() => Ok(s.to_string()),
            _ => {
                let help = if key == "name" {
                    "write the calendar's name in double quotes, e.g. `name = \"cn\"`".to_owned()
                } else {
                    "cite the notice in double quotes, e.g. \
                     `source = \"国务院办公厅关于2025年部分节假日安排的通知\"`"
                        .to_owned()
                };
                Err(self.wrong_type(key, value, "a non-empty text in quotes", help))
            }
        }
    }

    fn wrong_type(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        expected: &'static str,
        help: String,
    ) -> CalendarError {
        CalendarError::WrongType {
            key: key.to_owned(),
            expected,
            found: describe(value.get_ref()),
            src: self.src.clone(),
            span: value.span().into(),
            help,
        }
    }

    fn unknown_top_key(&self, key: &Spanned<DeString<'_>>) -> CalendarError {
        let k: &str = key.get_ref();
        let help = if k == "years" {
            "write a year's table as `[2025]`, not `[years.2025]`".to_owned()
        } else if let Some(s) = suggest(k, &["name"]) {
            format!("did you mean `{s}`?")
        } else {
            "a calendar file holds `name` and one table per year, e.g. `[2025]`".to_owned()
        };
        CalendarError::UnknownKey {
            key: k.to_owned(),
            src: self.src.clone(),
            span: key.span().into(),
            help,
        }
    }

    fn bad_entry(
        &self,
        text: &str,
        span: Range<usize>,
        year: i16,
        problem: EntryProblem,
    ) -> CalendarError {
        let format_help = "write a date as `MM-DD` (e.g. `\"10-01\"`) and a range as \
                           `MM-DD to MM-DD` (e.g. `\"10-01 to 10-07\"`)";
        let (message, part, label, help) = match problem {
            EntryProblem::Malformed(part) => (
                format!("`{text}` is not a date or a range of dates"),
                part,
                "expected `MM-DD`",
                format_help.to_owned(),
            ),
            EntryProblem::NoSuchDate(part) => (
                format!(
                    "`{}` is not a date in {year}",
                    text.get(part.clone()).unwrap_or(text)
                ),
                part,
                "no such day",
                "check the month and the day against the notice".to_owned(),
            ),
            EntryProblem::Reversed => (
                format!("the range `{text}` ends before it starts"),
                0..text.len(),
                "ends before it starts",
                "write the earlier date first, e.g. `\"10-01 to 10-07\"`".to_owned(),
            ),
            EntryProblem::WrongYear(part, date) => {
                return CalendarError::WrongYear {
                    date,
                    year,
                    src: self.src.clone(),
                    span: self.inner_span(span, text, part),
                };
            }
        };
        CalendarError::BadDate {
            message,
            src: self.src.clone(),
            span: self.inner_span(span, text, part),
            label,
            help,
        }
    }

    /// The span of `part` of a string value, when the value is written as
    /// a plain quoted string; otherwise the span of the whole value.
    fn inner_span(&self, value: Range<usize>, text: &str, part: Range<usize>) -> SourceSpan {
        let raw = self.text.get(value.clone()).unwrap_or_default();
        let plain = raw.len() == text.len() + 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && raw.get(1..raw.len() - 1) == Some(text);
        if plain && !part.is_empty() {
            SourceSpan::from((value.start + 1 + part.start, part.len()))
        } else {
            value.into()
        }
    }

    fn syntax(&self, e: &toml::de::Error) -> CalendarError {
        let message = e.message().lines().next().unwrap_or_default().to_owned();
        let span = e.span().unwrap_or(0..0);
        CalendarError::Syntax {
            message,
            src: self.src.clone(),
            span: span.into(),
        }
    }
}

/// The value of `key` in a table.
fn lookup<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

/// The working days of `year`: weekdays, with the listed days overriding.
fn build_year(year: i16, source: String, listed: &BTreeMap<Date, Listed>) -> Year {
    let mut out = Year {
        year,
        source,
        working: [0; WORDS_PER_YEAR],
    };
    let Ok(mut day) = Date::new(year, 1, 1) else {
        return out;
    };
    while day.year() == year {
        let working = match listed.get(&day) {
            Some(Listed {
                kind: Kind::Holiday,
                ..
            }) => false,
            Some(Listed {
                kind: Kind::Makeup, ..
            }) => true,
            None => !is_weekend(day),
        };
        if working {
            out.set_working(day);
        }
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    out
}

/// Parses `MM-DD`, `YYYY-MM-DD`, or two of them joined by `to` or `..`.
fn parse_entry(s: &str, year: i16) -> Result<(Date, Date), EntryProblem> {
    let whole = trim_range(s, 0..s.len());
    let separator = s
        .find("..")
        .map(|i| (i, 2))
        .or_else(|| s.find("to").map(|i| (i, 2)));
    let (first, last) = match separator {
        Some((i, len)) => (trim_range(s, 0..i), trim_range(s, i + len..s.len())),
        None => (whole.clone(), whole),
    };
    let a = parse_day(s, first, year)?;
    let b = parse_day(s, last, year)?;
    if b < a {
        return Err(EntryProblem::Reversed);
    }
    Ok((a, b))
}

/// Parses the date at `part` of `s`: `MM-DD` in `year`, or `YYYY-MM-DD` in
/// `year` or a neighbouring year.
fn parse_day(s: &str, part: Range<usize>, year: i16) -> Result<Date, EntryProblem> {
    let malformed = || EntryProblem::Malformed(part.clone());
    let text = s.get(part.clone()).ok_or_else(malformed)?;
    let number = |field: &str, max_len: usize| {
        if field.is_empty() || field.len() > max_len || !field.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        field.parse::<i16>().ok()
    };
    let fields: Vec<&str> = text.split('-').collect();
    let (y, m, d) = match fields.as_slice() {
        [m, d] => (Some(year), number(m, 2), number(d, 2)),
        [y, m, d] if y.len() == 4 => (number(y, 4), number(m, 2), number(d, 2)),
        _ => return Err(malformed()),
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(malformed());
    };
    let (Ok(m), Ok(d)) = (i8::try_from(m), i8::try_from(d)) else {
        return Err(EntryProblem::NoSuchDate(part));
    };
    let date = Date::new(y, m, d).map_err(|_| EntryProblem::NoSuchDate(part.clone()))?;
    if (i32::from(date.year()) - i32::from(year)).abs() > 1 {
        return Err(EntryProblem::WrongYear(part, date));
    }
    Ok(date)
}

/// `r` without the white space at either end of `s[r]`.
fn trim_range(s: &str, r: Range<usize>) -> Range<usize> {
    let part = s.get(r.clone()).unwrap_or_default();
    let start = r.start + (part.len() - part.trim_start().len());
    let end = r.end - (part.len() - part.trim_end().len());
    start..end.max(start)
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// How a value's type reads in a message.
fn describe(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(s) if s.trim().is_empty() => "empty text",
        DeValue::String(_) => "a text",
        DeValue::Integer(_) => "a number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "true or false",
        DeValue::Datetime(_) => "a date without quotes",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// The known key a misspelt `key` most likely meant.
fn suggest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let key = key.to_lowercase();
    known
        .iter()
        .copied()
        .find(|k| strsim::levenshtein(&key, k) <= 2 || (key.len() >= 4 && k.contains(key.as_str())))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};
    use std::sync::LazyLock;

    use miette::{GraphicalReportHandler, GraphicalTheme};
    use proptest::prelude::*;

    use super::*;

    fn manifest_path(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
    }

    /// The shipped calendar, loaded once.
    static CN: LazyLock<Calendar> = LazyLock::new(|| {
        let path = manifest_path("policies/calendars/cn.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        Calendar::parse(&path.display().to_string(), &text).unwrap()
    });

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn code(e: &dyn Diagnostic) -> String {
        e.code().map(|c| c.to_string()).unwrap_or_default()
    }

    /// The source text under each label of `e`, in field order.
    fn labelled(e: &CalendarError, text: &str) -> Vec<String> {
        e.labels()
            .into_iter()
            .flatten()
            .map(|l| text[l.offset()..l.offset() + l.len()].to_owned())
            .collect()
    }

    fn render(e: &dyn Diagnostic) -> String {
        let mut out = String::new();
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(80)
            .render_report(&mut out, e)
            .unwrap();
        out
    }

    /// A one-year calendar with the given `holidays` and `makeup_workdays`.
    fn year_2025(holidays: &str, makeup: &str) -> String {
        format!(
            "name = \"t\"\n[2025]\nsource = \"s\"\nholidays = [{holidays}]\n\
             makeup_workdays = [{makeup}]\n"
        )
    }

    /// Parses `text`, expecting an error with `code` whose labels cover `labels`.
    fn check_err(text: &str, expected_code: &str, labels: &[&str]) -> CalendarError {
        let e = Calendar::parse("t.toml", text).unwrap_err();
        assert_eq!(code(&e), expected_code, "{}", render(&e));
        assert_eq!(labelled(&e, text), labels, "{}", render(&e));
        e
    }

    // -- The shipped file against the RULEBOOK appendix ----------------------

    type AppendixYear = (
        i16,
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
    );

    /// The RULEBOOK appendix written out again, independently of `cn.toml`:
    /// (year, holiday ranges, make-up working days).
    const APPENDIX: &[AppendixYear] = &[
        (
            2024,
            &[
                ("01-01", "01-01"),
                ("02-10", "02-17"),
                ("04-04", "04-06"),
                ("05-01", "05-05"),
                ("06-10", "06-10"),
                ("09-15", "09-17"),
                ("10-01", "10-07"),
            ],
            &[
                "02-04", "02-18", "04-07", "04-28", "05-11", "09-14", "09-29", "10-12",
            ],
        ),
        (
            2025,
            &[
                ("01-01", "01-01"),
                ("01-28", "02-04"),
                ("04-04", "04-06"),
                ("05-01", "05-05"),
                ("05-31", "06-02"),
                ("10-01", "10-08"),
            ],
            &["01-26", "02-08", "04-27", "09-28", "10-11"],
        ),
        (
            2026,
            &[
                ("01-01", "01-03"),
                ("02-15", "02-23"),
                ("04-04", "04-06"),
                ("05-01", "05-05"),
                ("06-19", "06-21"),
                ("09-25", "09-27"),
                ("10-01", "10-07"),
            ],
            &["01-04", "02-14", "02-28", "05-09", "09-20", "10-10"],
        ),
    ];

    fn appendix_says_working(day: Date) -> bool {
        let (_, holidays, makeup) = APPENDIX.iter().find(|(y, ..)| *y == day.year()).unwrap();
        let at = |md: &str| d(&format!("{}-{md}", day.year()));
        if holidays.iter().any(|(a, b)| at(a) <= day && day <= at(b)) {
            false
        } else if makeup.iter().any(|m| at(m) == day) {
            true
        } else {
            !is_weekend(day)
        }
    }

    #[test]
    fn shipped_file_matches_the_rulebook_appendix_day_by_day() {
        assert_eq!(CN.name(), "cn");
        assert_eq!(CN.years(), 2024..=2026);
        let mut day = d("2024-01-01");
        while day <= d("2026-12-31") {
            assert_eq!(
                CN.is_working_day(day).unwrap(),
                appendix_says_working(day),
                "{day}"
            );
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn working_days_per_year_match_the_published_totals() {
        // 251, 248 and 248 working days: the totals reported with each notice.
        let totals: Vec<u32> = CN.years.iter().map(Year::working_days).collect();
        assert_eq!(totals, [251, 248, 248]);
    }

    #[test]
    fn every_year_cites_its_notice() {
        for year in CN.years() {
            let source = CN.source(year).unwrap();
            assert!(
                source.contains(&format!("关于{year}年部分节假日安排的通知")),
                "{source}"
            );
        }
        assert_eq!(CN.source(2027), None);
    }

    // -- Lookups --------------------------------------------------------------

    #[test]
    fn national_day_2025_is_not_working_but_the_saturday_after_is() {
        let mut day = d("2025-10-01");
        while day <= d("2025-10-08") {
            assert!(!CN.is_working_day(day).unwrap(), "{day}");
            day = day.tomorrow().unwrap();
        }
        assert!(CN.is_working_day(d("2025-10-09")).unwrap());
        assert_eq!(d("2025-10-11").weekday(), Weekday::Saturday);
        assert!(CN.is_working_day(d("2025-10-11")).unwrap());
        assert!(!CN.is_working_day(d("2025-10-12")).unwrap());
    }

    #[test]
    fn sunday_makeup_day_is_a_working_day() {
        assert_eq!(d("2024-02-04").weekday(), Weekday::Sunday);
        assert!(CN.is_working_day(d("2024-02-04")).unwrap());
        // A weekday holiday is not, and an ordinary weekend is not either.
        assert!(!CN.is_working_day(d("2024-02-12")).unwrap());
        assert!(!CN.is_working_day(d("2024-02-25")).unwrap());
    }

    #[test]
    fn roll_forward_leaves_a_working_day_alone() {
        assert_eq!(CN.roll_forward(d("2025-09-30")).unwrap(), d("2025-09-30"));
        // The make-up Sunday before National Day is itself a working day.
        assert_eq!(CN.roll_forward(d("2025-09-28")).unwrap(), d("2025-09-28"));
    }

    #[test]
    fn roll_forward_crosses_the_national_day_window() {
        // A 7-day window from 2025-09-24 ends on 10-01, inside the holiday:
        // it ends on the first working day after it.
        assert_eq!(CN.roll_forward(d("2025-10-01")).unwrap(), d("2025-10-09"));
        assert_eq!(CN.roll_forward(d("2025-10-08")).unwrap(), d("2025-10-09"));
        // An ordinary weekend rolls to Monday.
        assert_eq!(CN.roll_forward(d("2025-03-01")).unwrap(), d("2025-03-03"));
    }

    #[test]
    fn nth_working_day_across_spring_festival_2025() {
        // Mon 01-27 is followed by the 01-28..02-04 holiday; then Wed 02-05,
        // Thu 02-06, Fri 02-07, the make-up Saturday 02-08, and Mon 02-10.
        let after = |k| CN.nth_working_day_after(d("2025-01-27"), k).unwrap();
        assert_eq!(after(1), d("2025-02-05"));
        assert_eq!(after(3), d("2025-02-07"));
        assert_eq!(after(4), d("2025-02-08"));
        assert_eq!(after(5), d("2025-02-10"));
        // The make-up Sunday before the holiday counts too.
        assert_eq!(
            CN.nth_working_day_after(d("2025-01-24"), 1).unwrap(),
            d("2025-01-26")
        );
    }

    #[test]
    fn settlement_window_across_national_day_2024() {
        // Requested Fri 2024-09-27: Sun 09-29 (make-up) is the 1st working day,
        // Mon 09-30 the 2nd, Tue 10-08 the 3rd; Sat 10-12 (make-up) the 7th.
        let after = |k| CN.nth_working_day_after(d("2024-09-27"), k).unwrap();
        assert_eq!(after(3), d("2024-10-08"));
        assert_eq!(after(7), d("2024-10-12"));
        assert_eq!(after(15), d("2024-10-23"));
    }

    #[test]
    fn nth_working_day_zero_is_the_day_itself() {
        assert_eq!(
            CN.nth_working_day_after(d("2025-10-01"), 0).unwrap(),
            d("2025-10-01")
        );
        // Nothing is looked up, so even a day outside the calendar is fine.
        assert_eq!(
            CN.nth_working_day_after(d("2030-01-01"), 0).unwrap(),
            d("2030-01-01")
        );
    }

    #[test]
    fn only_days_after_the_start_are_looked_up() {
        // 2023-12-31 is outside the calendar, but the days counted are not:
        // 2024-01-01 is a holiday, so the 1st working day is Tue 01-02.
        assert_eq!(
            CN.nth_working_day_after(d("2023-12-31"), 1).unwrap(),
            d("2024-01-02")
        );
        // From 12-29 on, counting needs 2023-12-30, which the calendar lacks.
        assert_eq!(
            CN.nth_working_day_after(d("2023-12-29"), 1)
                .unwrap_err()
                .date,
            d("2023-12-30")
        );
    }

    #[test]
    fn a_date_in_an_unlisted_year_is_an_error() {
        let e = CN.is_working_day(d("2027-01-04")).unwrap_err();
        assert_eq!(
            e,
            OutOfRange {
                date: d("2027-01-04"),
                calendar: "cn".to_owned(),
                first_year: 2024,
                last_year: 2026,
            }
        );
        assert_eq!(
            e.to_string(),
            "2027-01-04 is outside calendar `cn` (covers 2024-2026)"
        );
        assert_eq!(code(&e), "rpl::calendar::out_of_range");
        assert!(e.help().unwrap().to_string().contains("2027"));
        assert!(!CN.covers(d("2027-01-04")));
        assert!(CN.covers(d("2026-12-31")));
        assert!(!CN.covers(d("2023-12-31")));
        assert_eq!(
            CN.is_working_day(d("2023-12-31")).unwrap_err().date,
            d("2023-12-31")
        );
        assert_eq!(
            CN.roll_forward(d("2027-06-01")).unwrap_err().date,
            d("2027-06-01")
        );
    }

    #[test]
    fn counting_past_the_last_year_is_an_error_not_a_guess() {
        // Fri 2026-12-25: 12-28..12-31 are the only 4 working days left in 2026.
        let e = CN.nth_working_day_after(d("2026-12-25"), 15).unwrap_err();
        assert_eq!(e.date, d("2027-01-01"));
        assert_eq!(
            CN.nth_working_day_after(d("2026-12-25"), 4).unwrap(),
            d("2026-12-31")
        );
        // Rolling from the last Saturday of 2026 needs 2027-01-01 too: an error
        // would be wrong only if 12-31 were not a working day, so check both ends.
        assert_eq!(CN.roll_forward(d("2026-12-26")).unwrap(), d("2026-12-28"));
    }

    #[test]
    fn calendar_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync + Clone + fmt::Debug>() {}
        assert_send_sync::<Calendar>();
        assert_send_sync::<OutOfRange>();
    }

    proptest! {
        #[test]
        fn roll_forward_finds_the_first_working_day(offset in 0i64..1096) {
            let start = d("2024-01-01").checked_add(jiff::Span::new().days(offset)).unwrap();
            match CN.roll_forward(start) {
                Ok(end) => {
                    prop_assert!(end >= start);
                    prop_assert!(CN.is_working_day(end).unwrap());
                    let mut day = start;
                    while day < end {
                        prop_assert!(!CN.is_working_day(day).unwrap());
                        day = day.tomorrow().unwrap();
                    }
                }
                Err(e) => prop_assert_eq!(e.date.year(), 2027),
            }
        }

        #[test]
        fn nth_working_day_steps_one_working_day_at_a_time(
            offset in 0i64..1096,
            k in 0u32..20,
        ) {
            let start = d("2024-01-01").checked_add(jiff::Span::new().days(offset)).unwrap();
            if let (Ok(a), Ok(b)) = (
                CN.nth_working_day_after(start, k),
                CN.nth_working_day_after(start, k + 1),
            ) {
                prop_assert!(b > a);
                prop_assert_eq!(CN.roll_forward(a.tomorrow().unwrap()).unwrap(), b);
            }
        }
    }

    // -- The file format ------------------------------------------------------

    #[test]
    fn ranges_may_be_written_with_dots_and_full_dates() {
        let cal =
            Calendar::parse("t.toml", &year_2025("\"10-01..10-08\"", "\"2025-10-11\"")).unwrap();
        assert!(!cal.is_working_day(d("2025-10-08")).unwrap());
        assert!(cal.is_working_day(d("2025-10-09")).unwrap());
        assert!(cal.is_working_day(d("2025-10-11")).unwrap());
    }

    #[test]
    fn a_holiday_may_reach_into_the_previous_year() {
        // The 2019 notice: 2018-12-30 to 2019-01-01 off, Sat 2018-12-29 worked.
        let text = "name = \"t\"\n\
            [2018]\nsource = \"s\"\nholidays = []\nmakeup_workdays = []\n\
            [2019]\nsource = \"s\"\nholidays = [\"2018-12-30 to 01-01\"]\n\
            makeup_workdays = [\"2018-12-29\"]\n";
        let cal = Calendar::parse("t.toml", text).unwrap();
        assert!(cal.is_working_day(d("2018-12-29")).unwrap());
        assert!(!cal.is_working_day(d("2018-12-31")).unwrap());
        assert!(!cal.is_working_day(d("2019-01-01")).unwrap());
        assert!(cal.is_working_day(d("2019-01-02")).unwrap());
    }

    #[test]
    fn year_tables_may_come_in_any_order() {
        let text = "name = \"t\"\n\
            [2026]\nsource = \"s\"\nholidays = []\nmakeup_workdays = []\n\
            [2025]\nsource = \"s\"\nholidays = []\nmakeup_workdays = []\n";
        let cal = Calendar::parse("t.toml", text).unwrap();
        assert_eq!(cal.years(), 2025..=2026);
    }

    #[test]
    fn malformed_entries_point_at_the_faulty_part() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "\"10-07 to 10-01\"",
                "rpl::calendar::bad_date",
                "10-07 to 10-01",
            ),
            ("\"1001\"", "rpl::calendar::bad_date", "1001"),
            ("\"10-01 to\"", "rpl::calendar::bad_date", "\"10-01 to\""),
            (
                "\"10-01 till 10-07\"",
                "rpl::calendar::bad_date",
                "10-01 till 10-07",
            ),
            ("\"2025-02-29\"", "rpl::calendar::bad_date", "2025-02-29"),
            ("\"13-01\"", "rpl::calendar::bad_date", "13-01"),
            ("\"10-1x\"", "rpl::calendar::bad_date", "10-1x"),
            ("\"1-1 to 10-001\"", "rpl::calendar::bad_date", "10-001"),
            ("\"2027-01-01\"", "rpl::calendar::wrong_year", "2027-01-01"),
            ("2025-10-01", "rpl::calendar::wrong_type", "2025-10-01"),
            ("1", "rpl::calendar::wrong_type", "1"),
        ];
        for (entry, expected, label) in cases {
            check_err(&year_2025(entry, ""), expected, &[label]);
        }
    }

    #[test]
    fn structural_mistakes_are_reported() {
        let missing_name = "[2025]\nsource = \"s\"\nholidays = []\nmakeup_workdays = []\n";
        check_err(missing_name, "rpl::calendar::missing_key", &[""]);
        let empty_source = year_2025("", "").replace("\"s\"", "\"\"");
        check_err(&empty_source, "rpl::calendar::wrong_type", &["\"\""]);
        let not_a_table = "name = \"t\"\n2025 = 1\n";
        check_err(not_a_table, "rpl::calendar::wrong_type", &["1"]);
        let nested = "name = \"t\"\n[years.2025]\nsource = \"s\"\n";
        let e = check_err(nested, "rpl::calendar::unknown_key", &["years"]);
        assert!(e.help().unwrap().to_string().contains("[2025]"));
        let gap = "name = \"t\"\n\
            [2024]\nsource = \"s\"\nholidays = []\nmakeup_workdays = []\n\
            [2027]\nsource = \"s\"\nholidays = []\nmakeup_workdays = []\n";
        let e = check_err(gap, "rpl::calendar::gap", &["2027"]);
        assert_eq!(e.to_string(), "the calendar has no table for 2025 to 2026");
    }

    // -- One fixture per error code ---------------------------------------------

    /// Every code a calendar can report; all but `out_of_range` have a
    /// fixture `tests/fixtures/calendars/errors/<name>.toml`.
    const CODES: &[&str] = &[
        "out_of_range",
        "syntax",
        "missing_key",
        "unknown_key",
        "wrong_type",
        "bad_year",
        "no_years",
        "gap",
        "bad_date",
        "wrong_year",
        "duplicate",
        "conflict",
        "not_weekend",
    ];

    /// Each fixture says what it expects in its leading comments:
    /// `# label: <text under a label>` (one per label) and `# help: <text>`.
    #[test]
    fn every_error_code_is_unique_and_has_a_fixture() {
        let unique: BTreeSet<_> = CODES.iter().collect();
        assert_eq!(unique.len(), CODES.len(), "a code is listed twice");

        let dir = manifest_path("tests/fixtures/calendars/errors");
        let mut seen = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let name = format!("{stem}.toml");
            let e = Calendar::parse(&name, &text).unwrap_err();
            let rendered = render(&e);
            assert_eq!(code(&e), format!("rpl::calendar::{stem}"), "{rendered}");

            let expect = |tag: &str| -> Vec<String> {
                text.lines()
                    .filter_map(|l| l.strip_prefix(&format!("# {tag}:")))
                    .map(|l| l.trim().to_owned())
                    .collect()
            };
            assert_eq!(labelled(&e, &text), expect("label"), "{rendered}");
            for help in expect("help") {
                assert_eq!(e.help().unwrap().to_string(), help, "{rendered}");
            }
            // Style: lowercase message without a final period, and a help.
            let message = e.to_string();
            assert!(!message.starts_with(char::is_uppercase), "{message}");
            assert!(!message.ends_with('.'), "{message}");
            assert!(e.help().is_some(), "{rendered}");
            assert!(rendered.contains(&name), "{rendered}");
            seen.insert(stem);
        }
        let with_fixture: BTreeSet<_> = CODES
            .iter()
            .filter(|c| **c != "out_of_range")
            .map(|c| c.to_string())
            .collect();
        assert_eq!(seen, with_fixture);
    }
}
