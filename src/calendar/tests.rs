use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use proptest::prelude::*;

use super::read::is_weekend;
use super::*;
use jiff::civil::Weekday;

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
    let cal = Calendar::parse("t.toml", &year_2025("\"10-01..10-08\"", "\"2025-10-11\"")).unwrap();
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

/// Every code a calendar file can get, each with a fixture
/// `tests/diagnostics/calendar/<name>.toml`.
fn codes() -> Vec<&'static str> {
    crate::codes::ALL
        .iter()
        .filter_map(|c| c.strip_prefix("rpl::calendar::"))
        .collect()
}

/// Each fixture says what it expects in its leading comments:
/// `# label: <text under a label>` (one per label) and `# help: <text>`.
#[test]
fn every_error_code_is_unique_and_has_a_fixture() {
    let dir = manifest_path("tests/diagnostics/calendar");
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
    let with_fixture: BTreeSet<_> = codes().iter().map(|c| c.to_string()).collect();
    assert_eq!(seen, with_fixture);
}

/// What the lookup tables replace: walking day by day.
fn walked_roll_forward(c: &Calendar, d: Date) -> Result<Date, OutOfRange> {
    let mut day = d;
    while !c.is_working_day(day)? {
        day = day.tomorrow().map_err(|_| c.out_of_range(day))?;
    }
    Ok(day)
}

fn walked_nth_working_day_after(c: &Calendar, d: Date, k: u32) -> Result<Date, OutOfRange> {
    let mut day = d;
    let mut left = k;
    while left > 0 {
        day = day.tomorrow().map_err(|_| c.out_of_range(day))?;
        if c.is_working_day(day)? {
            left -= 1;
        }
    }
    Ok(day)
}

#[test]
fn the_tables_answer_as_walking_day_by_day_would() {
    let mut day = d("2023-11-01");
    while day <= d("2027-02-01") {
        assert_eq!(CN.roll_forward(day), walked_roll_forward(&CN, day), "{day}");
        for k in [0, 1, 2, 3, 5, 10, 15, 40, 300, 800] {
            assert_eq!(
                CN.nth_working_day_after(day, k),
                walked_nth_working_day_after(&CN, day, k),
                "{day} + {k}"
            );
        }
        day = day.tomorrow().unwrap();
    }
}

#[test]
fn the_tables_reach_jiffs_last_day() {
    let text =
        "name = \"end\"\n[9999]\nsource = \"s\"\nholidays = [\"12-31\"]\nmakeup_workdays = []\n";
    let c = Calendar::parse("end.toml", text).unwrap();
    for day in [d("9999-12-29"), d("9999-12-30"), d("9999-12-31")] {
        assert_eq!(c.roll_forward(day), walked_roll_forward(&c, day), "{day}");
        for k in [0, 1, 2, 3] {
            assert_eq!(
                c.nth_working_day_after(day, k),
                walked_nth_working_day_after(&c, day, k),
                "{day} + {k}"
            );
        }
    }
    assert_eq!(
        c.roll_forward(d("9999-12-31")).unwrap_err().date,
        d("9999-12-31")
    );
}
