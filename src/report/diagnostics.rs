//! Rendering diagnostics: graphical or plain text for people, JSON for
//! tools, GitHub workflow annotations for CI.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity, SourceCode,
    SourceSpan,
};
use serde::Serialize;

use super::escape::{visible, visible_lines};

/// One diagnostic as tools read it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct DiagnosticRecord {
    pub code: String,
    pub severity: &'static str,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Byte offsets `[start, end)` in the file.
    pub span: Option<[usize; 2]>,
    pub label: Option<String>,
    pub help: Option<String>,
    /// Other places that explain it (where a constant is defined).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<DiagnosticRecord>,
}

pub fn severity_name(d: &dyn Diagnostic) -> &'static str {
    match d.severity().unwrap_or(Severity::Error) {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Advice => "advice",
    }
}

pub fn record(d: &dyn Diagnostic) -> DiagnosticRecord {
    let label = first_label(d);
    let mut rec = DiagnosticRecord {
        code: d.code().map(|c| c.to_string()).unwrap_or_default(),
        severity: severity_name(d),
        message: d.to_string(),
        file: file_name(d),
        line: None,
        column: None,
        span: None,
        label: label.as_ref().and_then(|l| l.label().map(str::to_string)),
        help: d.help().map(|h| h.to_string()),
        related: d
            .related()
            .map(|r| r.map(record).collect())
            .unwrap_or_default(),
    };
    if let (Some(src), Some(label)) = (d.source_code(), label)
        && let Some(at) = position(src, label.offset())
    {
        rec.line = Some(at.line);
        rec.column = Some(at.column);
        rec.span = Some([label.offset(), label.offset() + label.len()]);
    }
    rec
}

/// The label a diagnostic is placed at, in every format: its first.
pub fn first_label(d: &dyn Diagnostic) -> Option<LabeledSpan> {
    d.labels().and_then(|mut l| l.next())
}

/// The name of the file a diagnostic is about, if it has one.
pub fn file_name(d: &dyn Diagnostic) -> Option<String> {
    let at = first_label(d).map_or((0, 0).into(), |l| *l.inner());
    d.source_code()?
        .read_span(&at, 0, 0)
        .ok()?
        .name()
        .map(str::to_string)
}

/// A place in a source: a 1-based line, and a 1-based column counted in
/// characters (as people and editors count) and in UTF-16 code units (as
/// SARIF counts by default). miette counts columns in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub column_utf16: usize,
}

/// Where a span lies: its first character, its last, and the place just
/// after it (for an empty span, all three are where it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub start: Position,
    pub last: Position,
    pub end: Position,
}

/// Where byte `offset` of `src` is.
pub fn position(src: &dyn SourceCode, offset: usize) -> Option<Position> {
    let at = src.read_span(&(offset, 0).into(), 0, 0).ok()?;
    let byte_column = at.column();
    let line_start = offset.checked_sub(byte_column)?;
    let before = src
        .read_span(&(line_start, byte_column).into(), 0, 0)
        .ok()?;
    let before = String::from_utf8_lossy(before.data().get(..byte_column)?);
    Some(Position {
        line: at.line() + 1,
        column: before.chars().count() + 1,
        column_utf16: before.encode_utf16().count() + 1,
    })
}

/// Where `span` lies in `src`.
pub fn extent(src: &dyn SourceCode, span: &SourceSpan) -> Option<Extent> {
    let start = position(src, span.offset())?;
    let contents = src.read_span(span, 0, 0).ok()?;
    let text = contents.data().get(..span.len())?;
    // The last character starts at the last byte that does not continue
    // one; a byte that is not UTF-8 counts as a character of its own.
    let Some(back) = text.iter().rposition(|b| b & 0xc0 != 0x80) else {
        return Some(Extent {
            start,
            last: start,
            end: start,
        });
    };
    let last = position(src, span.offset() + back)?;
    let width = String::from_utf8_lossy(text.get(back..)?)
        .chars()
        .next()
        .map_or(1, char::len_utf16);
    Some(Extent {
        start,
        last,
        end: Position {
            line: last.line,
            column: last.column + 1,
            column_utf16: last.column_utf16 + width,
        },
    })
}

/// Human rendering; `color` picks the graphical theme with colours,
/// otherwise the same drawing without colour, stable for snapshots.
///
/// No control character of a policy or request reaches the terminal raw:
/// the message, help and labels are written with [`visible`], and a source
/// line that holds one is shown with it escaped too (and drawn without
/// colour, whose own escape codes could not be told apart from it).
pub fn render_human(d: &dyn Diagnostic, color: bool, width: usize) -> String {
    let d = Rewritten::new(d, Arc::new(|t: &str| visible(t).into_owned()));
    let plain = render(&d, false, width);
    if plain
        .chars()
        .any(|c| c != '\n' && super::escape::is_unsafe(c))
    {
        return visible_lines(&plain).into_owned();
    }
    if color {
        render(&d, true, width)
    } else {
        plain
    }
}

fn render(d: &dyn Diagnostic, color: bool, width: usize) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // Lines break between words only, never inside one or at a hyphen:
    // a witness request in a help, a date or a path stays whole, so it
    // can be copied from the terminal.
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false)
        .with_break_words(false)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut out = String::new();
    if handler.render_report(&mut out, d).is_err() {
        let _ = write!(out, "{d}");
    }
    out
}

/// A GitHub Actions workflow command, e.g. `::error
/// file=policies/a.rpl,line=3,col=9,endLine=3,endColumn=21,title=rpl%3A%3Acheck%3A%3Aunknown_field::unknown field ...`.
/// Columns count characters and the end is the label's last character. A
/// label over several lines gives its lines only: the runner drops the
/// columns of an annotation whose `line` and `endLine` differ.
pub fn render_github(d: &dyn Diagnostic) -> String {
    let r = record(d);
    let kind = match r.severity {
        "warning" => "warning",
        "advice" => "notice",
        _ => "error",
    };
    let mut props = Vec::new();
    if let Some(f) = &r.file {
        props.push(format!("file={}", escape_property(&visible(f))));
    }
    let extent = d
        .source_code()
        .zip(first_label(d))
        .and_then(|(src, label)| extent(src, label.inner()));
    if let Some(Extent { start, last, .. }) = extent {
        props.push(format!("line={}", start.line));
        if start.line == last.line {
            props.push(format!("col={}", start.column));
        }
        props.push(format!("endLine={}", last.line));
        if start.line == last.line {
            props.push(format!("endColumn={}", last.column));
        }
    }
    props.push(format!("title={}", escape_property(&r.code)));
    // The log viewer reads colour codes, so none may come from the text.
    let mut message = visible(&r.message).into_owned();
    if let Some(h) = &r.help {
        message.push_str("\nhelp: ");
        message.push_str(&visible(h));
    }
    format!("::{kind} {}::{}", props.join(","), escape_data(&message))
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A diagnostic with all its text passed through a function: message,
/// help, labels and the file names of its sources, and the same for the
/// diagnostics related to it. [`render_human`] writes them with
/// [`visible`]: they quote names, paths and values from policies and
/// requests, and a file may be named anything (a line break included).
pub struct Rewritten<'a> {
    inner: &'a dyn Diagnostic,
    rewrite: Arc<dyn Fn(&str) -> String + Send + Sync + 'a>,
    source: Option<RenamedSource<'a>>,
    related: Vec<Rewritten<'a>>,
}

impl<'a> Rewritten<'a> {
    pub fn new(
        inner: &'a dyn Diagnostic,
        rewrite: Arc<dyn Fn(&str) -> String + Send + Sync + 'a>,
    ) -> Self {
        Rewritten {
            inner,
            source: inner.source_code().map(|inner| RenamedSource {
                inner,
                rewrite: Arc::clone(&rewrite),
            }),
            related: inner
                .related()
                .map(|r| r.map(|d| Rewritten::new(d, Arc::clone(&rewrite))).collect())
                .unwrap_or_default(),
            rewrite,
        }
    }
}

/// A source whose file name is rewritten.
struct RenamedSource<'a> {
    inner: &'a dyn SourceCode,
    rewrite: Arc<dyn Fn(&str) -> String + Send + Sync + 'a>,
}

impl RenamedSource<'_> {
    /// The 0-based column of `span`'s start, in characters.
    fn char_column(&self, span: &miette::SourceSpan) -> Option<usize> {
        let wide = self.inner.read_span(span, 1, 0).ok()?;
        let before = wide
            .data()
            .get(..span.offset().checked_sub(wide.span().offset())?)?;
        let line_start = before
            .iter()
            .rposition(|b| matches!(b, b'\n' | b'\r'))
            .map_or(0, |i| i + 1);
        Some(
            String::from_utf8_lossy(before.get(line_start..)?)
                .chars()
                .count(),
        )
    }
}

impl SourceCode for RenamedSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
        let c = self.inner.read_span(span, before, after)?;
        let Some(name) = c.name() else {
            return Ok(c);
        };
        let (data, span_read, line, column, count) =
            (c.data(), *c.span(), c.line(), c.column(), c.line_count());
        // miette shows the column its sources count, bytes; every other
        // place rpl names a column counts characters, as editors do. The
        // header reads the span alone, so the text before it on its line
        // is read with one line of context.
        let column = if before == 0 && after == 0 {
            self.char_column(span).unwrap_or(column)
        } else {
            column
        };
        let contents = miette::MietteSpanContents::new_named(
            (self.rewrite)(name),
            data,
            span_read,
            line,
            column,
            count,
        );
        Ok(Box::new(match c.language() {
            Some(lang) => contents.with_language(lang),
            None => contents,
        }))
    }
}

impl fmt::Debug for Rewritten<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for Rewritten<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&(self.rewrite)(&self.inner.to_string()))
    }
}

impl std::error::Error for Rewritten<'_> {}

impl Diagnostic for Rewritten<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.code()
    }

    fn severity(&self) -> Option<Severity> {
        self.inner.severity()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let help = (self.rewrite)(&self.inner.help()?.to_string());
        Some(Box::new(help))
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.url()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = self.inner.labels()?.map(|l| {
            let text = l.label().map(|t| (self.rewrite)(t));
            if l.primary() {
                LabeledSpan::new_primary_with_span(text, *l.inner())
            } else {
                LabeledSpan::new_with_span(text, *l.inner())
            }
        });
        Some(Box::new(labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    #[derive(Debug, thiserror::Error, Diagnostic)]
    #[error("cannot import `{path}`")]
    #[diagnostic(code(rpl::test::x), help("fix `{path}`"))]
    struct Sample {
        path: String,
        #[source_code]
        src: Source,
        #[label("at `{path}`")]
        span: miette::SourceSpan,
    }

    /// A path from a policy with escape codes in it, in a file that holds
    /// one raw: nothing reaches the terminal raw, in colour or not.
    #[test]
    fn no_control_character_is_rendered_raw() {
        let d = Sample {
            path: "a\u{1b}]0;pwned\u{7}\nb".into(),
            src: Source::new(
                "p\nrpl::fake::code.rpl",
                "const x = \"\u{1b}[2J\"\nconst y = 1\n",
            ),
            span: (0, 5).into(),
        };
        for color in [false, true] {
            let out = render_human(&d, color, 80);
            let raw: Vec<char> = out
                .chars()
                .filter(|c| *c != '\n' && super::super::escape::is_unsafe(*c))
                .collect();
            assert!(raw.is_empty(), "{out}");
            assert!(out.contains("a\\u{1b}]0;pwned\\u{7}\\u{a}b"), "{out}");
            assert!(out.contains("\"\\u{1b}[2J\""), "{out}");
            // A line break in a file name forges no line.
            assert!(out.contains("[p\\u{a}rpl::fake::code.rpl:1:1]"), "{out}");
        }
        let gh = render_github(&d);
        assert!(!gh.chars().any(super::super::escape::is_unsafe), "{gh}");
    }

    /// GitHub's rules (`@actions/core`): `%`, CR and LF percent-encoded in
    /// the message, and `:` and `,` too in a property.
    #[test]
    fn github_commands_escape_as_github_reads_them() {
        let d = Sample {
            path: "50%, a:b".into(),
            src: Source::new("p,q:r%.rpl", "import x\nconst y = 1\n"),
            span: (7, 1).into(),
        };
        assert_eq!(
            render_github(&d),
            "::error file=p%2Cq%3Ar%25.rpl,line=1,col=8,endLine=1,endColumn=8,\
             title=rpl%3A%3Atest%3A%3Ax::cannot import `50%25, a:b`%0Ahelp: fix `50%25, a:b`"
        );
        // Over two lines, the lines only: GitHub drops the columns then.
        let d = Sample {
            span: (7, 4).into(),
            ..d
        };
        assert!(
            render_github(&d).starts_with("::error file=p%2Cq%3Ar%25.rpl,line=1,endLine=2,title="),
            "{}",
            render_github(&d)
        );
    }

    #[test]
    fn extents_count_characters_and_utf16_code_units() {
        let src = Source::new("p.rpl", "a😀bc\r\nxy");
        let at = |line, column, column_utf16| Position {
            line,
            column,
            column_utf16,
        };
        // `😀b`: the emoji is one character and two UTF-16 code units.
        let e = extent(&src, &(1, 5).into()).unwrap();
        assert_eq!(
            (e.start, e.last, e.end),
            (at(1, 2, 2), at(1, 3, 4), at(1, 4, 5))
        );
        // `c`, the line break and `x`.
        let e = extent(&src, &(6, 4).into()).unwrap();
        assert_eq!(
            (e.start, e.last, e.end),
            (at(1, 4, 5), at(2, 1, 1), at(2, 2, 2))
        );
        // An empty span at the end of the text.
        let e = extent(&src, &(11, 0).into()).unwrap();
        assert_eq!(
            (e.start, e.last, e.end),
            (at(2, 3, 3), at(2, 3, 3), at(2, 3, 3))
        );
    }

    #[test]
    fn clean_diagnostics_keep_their_colours() {
        let d = Sample {
            path: "common.rpl".into(),
            src: Source::new("p.rpl", "const x = 1\n"),
            span: (0, 5).into(),
        };
        assert!(render_human(&d, true, 80).contains('\u{1b}'));
        assert!(!render_human(&d, false, 80).contains('\u{1b}'));
    }
}
