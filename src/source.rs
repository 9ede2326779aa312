//! Source files and byte spans shared by every stage.
//!
//! Text is held once per file (`Arc<str>`) with an index of its line starts;
//! diagnostics carry a [`Source`], which finds a span's lines by binary
//! search, so rendering thousands of diagnostics in a large file stays
//! linear (miette's own sources rescan the file from the start each time).

use std::path::PathBuf;
use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file. Spans never take part in equality of the
/// syntax tree: two trees that differ only in layout compare equal.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> SourceSpan {
        SourceSpan::new((s.start as usize).into(), s.len())
    }
}

/// A file's text, its name, and where its lines start: what a diagnostic
/// needs to show a span. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Source {
    name: Arc<str>,
    text: Arc<str>,
    /// Byte offset of every line start, the first being 0. A line ends at
    /// `\n`, `\r\n` or a lone `\r`, as miette counts lines.
    lines: Arc<[u32]>,
}

impl Source {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Source {
        let text = text.into();
        let bytes = text.as_bytes();
        let mut lines = vec![0u32];
        // memchr finds the line breaks a word at a time.
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let ends_line = bytes.get(i) == Some(&b'\n') || bytes.get(i + 1) != Some(&b'\n');
            if ends_line {
                lines.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        Source {
            name: name.into(),
            text,
            lines: lines.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    /// 0-based index of the line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|&start| start as usize <= offset)
            .saturating_sub(1)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.lines.get(line).map_or(0, |&s| s as usize);
        let col = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

impl SourceCode for Source {
    /// The same contents miette's `str` source gives, but found from the
    /// first line shown rather than from the start of the file.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // One line more than the context: miette's scan looks at the byte
        // before an empty span, which may end the previous line.
        let first_line = self
            .line_of(span.offset())
            .saturating_sub(context_lines_before + 1);
        let base = self.lines.get(first_line).map_or(0, |&s| s as usize);
        let rest = self
            .text
            .as_bytes()
            .get(base..)
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((span.offset() - base.min(span.offset())).into(), span.len());
        let c = rest.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            c.data(),
            SourceSpan::new((c.span().offset() + base).into(), c.span().len()),
            c.line() + first_line,
            c.column(),
            c.line_count() + first_line,
        )))
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as given or found on disk, used to read imports relative to it.
    pub path: PathBuf,
    /// Name shown in diagnostics (relative to the working directory when possible).
    pub name: String,
    pub text: Arc<str>,
    source: Source,
}

impl SourceFile {
    pub fn new(path: PathBuf, name: String, text: impl Into<Arc<str>>) -> SourceFile {
        let text = text.into();
        let source = Source::new(name.as_str(), Arc::clone(&text));
        SourceFile {
            path,
            name,
            text,
            source,
        }
    }

    /// The file as diagnostics show it.
    pub fn named_source(&self) -> Source {
        self.source.clone()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        self.source.line_col(offset as usize)
    }
}

/// Every file a run has read, indexed by [`FileId`].
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: PathBuf, name: String, text: impl Into<Arc<str>>) -> FileId {
        self.push(SourceFile::new(path, name, text))
    }

    pub fn push(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn named_source(&self, id: FileId) -> Source {
        match self.get(id) {
            Some(f) => f.named_source(),
            None => Source::new("<unknown>", ""),
        }
    }

    /// Source text under a span (empty if the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = Source::new("t", "a\n规则 x");
        // `x` is at byte 9 (1 + 1 + 3 + 3 + 1) on line 2, character column 4.
        assert_eq!(src.line_col(9), (2, 4));
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(1000), (2, 5));
    }

    /// The indexed source must show exactly what miette's own would.
    #[test]
    fn read_span_matches_miettes_own_source() {
        let text = "l0\r\nl1 abc\nl2\rl3 规则\n\nl5 end\n";
        let src = Source::new("t", text);
        for offset in 0..text.len() {
            for len in [0, 1, 3] {
                if offset + len > text.len() {
                    continue;
                }
                for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                    let span = SourceSpan::new(offset.into(), len);
                    let want = text.read_span(&span, before, after);
                    let got = src.read_span(&span, before, after);
                    match (want, got) {
                        (Ok(w), Ok(g)) => {
                            let at = (offset, len, before, after);
                            assert_eq!(w.data(), g.data(), "{at:?}");
                            assert_eq!(w.span(), g.span(), "{at:?}");
                            assert_eq!((w.line(), w.column()), (g.line(), g.column()), "{at:?}");
                            assert_eq!(w.line_count(), g.line_count(), "{at:?}");
                            assert_eq!(g.name(), Some("t"));
                        }
                        (w, g) => assert_eq!(w.is_err(), g.is_err()),
                    }
                }
            }
        }
    }
}
