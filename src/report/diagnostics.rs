//! Rendering diagnostics: graphical or plain text for people, JSON for
//! tools, GitHub workflow annotations for CI.

use std::fmt::Write as _;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, Severity};
use serde::Serialize;

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
pub fn render_human(d: &dyn Diagnostic, color: bool, width: usize) -> String {
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
        props.push(format!("file={}", escape_property(f)));
    }
    if let Some(l) = r.line {
        props.push(format!("line={l}"));
    }
    if let Some(c) = r.column {
        props.push(format!("col={c}"));
    }
    props.push(format!("title={}", escape_property(&r.code)));
    let mut message = r.message.clone();
    if let Some(h) = &r.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
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
