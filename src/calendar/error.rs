//! Errors in a calendar file.

use jiff::civil::Date;
use miette::{Diagnostic, SourceSpan};

use super::Src;

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
