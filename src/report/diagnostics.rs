//! Rendering diagnostics: graphical or plain text for people, JSON for
//! tools, GitHub workflow annotations for CI.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity, SourceCode,
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
    let label = d.labels().and_then(|mut l| l.next());
    let mut rec = DiagnosticRecord {
        code: d.code().map(|c| c.to_string()).unwrap_or_default(),
        severity: severity_name(d),
        message: d.to_string(),
        file: None,
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
    if let (Some(src), Some(label)) = (d.source_code(), label) {
        if let Ok(contents) = src.read_span(label.inner(), 0, 0) {
            rec.file = contents.name().map(str::to_string);
            rec.line = Some(contents.line() + 1);
            rec.column = Some(char_column(src, label.offset(), contents.column()) + 1);
            rec.span = Some([label.offset(), label.offset() + label.len()]);
        }
    } else if let Some(src) = d.source_code() {
        rec.file = src
            .read_span(&(0, 0).into(), 0, 0)
            .ok()
            .and_then(|c| c.name().map(str::to_string));
    }
    rec
}

/// miette counts columns in bytes; people and editors count characters.
fn char_column(src: &dyn miette::SourceCode, offset: usize, byte_column: usize) -> usize {
    let line_start = offset.saturating_sub(byte_column);
    src.read_span(&(line_start, byte_column).into(), 0, 0)
        .ok()
        .and_then(|c| {
            c.data()
                .get(..byte_column)
                .map(|b| String::from_utf8_lossy(b).chars().count())
        })
        .unwrap_or(byte_column)
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
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, d).is_err() {
        let _ = write!(out, "{d}");
    }
    out
}

/// A GitHub Actions workflow command, e.g.
/// `::error file=policies/a.rpl,line=3,col=9,title=rpl::check::unknown_field::unknown field ...`.
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
    if let Some(l) = r.line {
        props.push(format!("line={l}"));
    }
    if let Some(c) = r.column {
        props.push(format!("col={c}"));
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
        let (data, span, line, column, count) =
            (c.data(), *c.span(), c.line(), c.column(), c.line_count());
        let contents = miette::MietteSpanContents::new_named(
            (self.rewrite)(name),
            data,
            span,
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
