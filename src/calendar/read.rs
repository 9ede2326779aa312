//! Reading a calendar file: from TOML to the bitsets of [`Calendar`].

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::ops::Range;
use std::sync::Arc;

use jiff::civil::{Date, Weekday};
use miette::{NamedSource, SourceSpan};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::{Calendar, CalendarError, Src, WORDS_PER_YEAR, YEAR_KEYS, Year};

/// Reads a calendar from the text of a calendar file; `name` is how
/// diagnostics name the file.
pub(super) fn parse(name: &str, text: &str) -> Result<Calendar, CalendarError> {
    let cx = Cx {
        src: Arc::new(NamedSource::new(name, Arc::<str>::from(text)).with_language("toml")),
        text,
    };
    let doc = DeTable::parse(text).map_err(|e| cx.syntax(&e))?;
    cx.calendar(doc.get_ref())
}

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
        Ok(Calendar::new(name, first_year, last_year, years))
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

pub(super) fn is_weekend(d: Date) -> bool {
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
