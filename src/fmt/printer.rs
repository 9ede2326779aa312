//! Writing the output: lines, indentation, and the comments between
//! tokens.
//!
//! The printer walks the source alongside the tree: `cursor` is where the
//! last token it printed ends in the source. Keywords and punctuation are
//! not in the tree, so each is found in the source after the cursor (only
//! blanks and comments lie between). Before a token is written, every
//! comment the source holds before it is written first, so a comment
//! always precedes the same token it preceded in the source: a `///` doc
//! stays on the item it documents, and one that documented nothing does
//! not come to document something.

use unicode_width::UnicodeWidthStr as _;

use crate::source::Span;
use crate::syntax::ast::Comment;

/// Which blank lines a line break keeps: none, those of the source (at
/// most one in a row), or exactly one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Blank {
    Never,
    Keep,
    One,
}

/// The blank lines of one line break: before what comes first on the new
/// lines (a comment or the token), and before the token when comments
/// come between.
#[derive(Clone, Copy)]
pub struct Gaps {
    pub first: Blank,
    pub last: Blank,
}

impl Gaps {
    /// Inside an expression: no blank lines.
    pub const TIGHT: Gaps = Gaps {
        first: Blank::Never,
        last: Blank::Never,
    };
    /// Between two lines of a block: as written.
    pub const KEEP: Gaps = Gaps {
        first: Blank::Keep,
        last: Blank::Keep,
    };
    /// The first line inside a block: none after the `{`.
    pub const OPEN: Gaps = Gaps {
        first: Blank::Never,
        last: Blank::Keep,
    };
    /// The line of a closing `}`: none before it.
    pub const CLOSE: Gaps = Gaps {
        first: Blank::Keep,
        last: Blank::Never,
    };
    /// Between top-level items: exactly one, before their comments.
    pub const ITEM: Gaps = Gaps {
        first: Blank::One,
        last: Blank::Keep,
    };
}

pub struct Printer<'a> {
    src: &'a str,
    comments: &'a [Comment],
    /// The first comment not yet written.
    next: usize,
    /// Where the last token written ends in the source.
    cursor: usize,
    /// Where the last token or comment written ends in the source.
    last_end: usize,
    out: String,
    /// Nothing is written on the current line yet (not even indentation).
    bol: bool,
    /// The width of the current line so far.
    col: usize,
    /// The indentation of lines that the layout breaks.
    pub indent: usize,
    /// The indentation the current line gets when something is written.
    line_indent: usize,
}

impl<'a> Printer<'a> {
    pub fn new(src: &'a str, comments: &'a [Comment]) -> Printer<'a> {
        // A byte order mark is kept (see `finish`), and is no token.
        let start = if src.starts_with('\u{FEFF}') {
            '\u{FEFF}'.len_utf8()
        } else {
            0
        };
        Printer {
            src,
            comments,
            next: 0,
            cursor: start,
            last_end: start,
            out: String::with_capacity(src.len() + src.len() / 8),
            bol: true,
            col: 0,
            indent: 0,
            line_indent: 0,
        }
    }

    /// The source text under `span`.
    pub fn text(&self, span: Span) -> &'a str {
        self.src
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// Whether a comment lies inside `span`: then it cannot be printed on
    /// one line.
    pub fn has_comment_in(&self, span: Span) -> bool {
        let at = self.comments.partition_point(|c| c.span.start < span.start);
        self.comments
            .get(at)
            .is_some_and(|c| c.span.start < span.end)
    }

    /// The column the next character written lands in.
    pub fn column(&self) -> usize {
        if self.bol { self.line_indent } else { self.col }
    }

    /// Where the next token starts in the source: past blanks and comments.
    pub fn next_token(&self) -> usize {
        let bytes = self.src.as_bytes();
        let mut at = self.cursor;
        while let Some(&b) = bytes.get(at) {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => at += 1,
                b'/' if bytes.get(at + 1) == Some(&b'/') => {
                    at = memchr::memchr(b'\n', bytes.get(at..).unwrap_or_default())
                        .map_or(bytes.len(), |n| at + n);
                }
                _ => break,
            }
        }
        at
    }

    /// Where `token` is in the source, if it is the next token there (a
    /// trailing comma the layout adds is not).
    fn locate(&self, token: &str) -> Option<usize> {
        let at = self.next_token();
        self.src
            .get(at..)
            .is_some_and(|rest| rest.starts_with(token))
            .then_some(at)
    }

    /// Writes a keyword or punctuation: from the source when it is there,
    /// after the comments before it.
    pub fn word(&mut self, token: &str) {
        if let Some(at) = self.locate(token) {
            self.flush(at);
            self.advance(at + token.len());
        }
        self.write(token);
    }

    /// Passes over a token of the source that the layout leaves out (the
    /// braces of an empty outcome block).
    /// Whether it was there.
    pub fn skip(&mut self, token: &str) -> bool {
        let at = self.locate(token);
        if let Some(at) = at {
            self.advance(at + token.len());
        }
        at.is_some()
    }

    /// Writes the text that stands for the source under `span` (which
    /// holds no comment), after the comments before it.
    pub fn node(&mut self, span: Span, text: &str) {
        self.flush(span.start as usize);
        self.write(text);
        self.advance(span.end as usize);
    }

    pub fn space(&mut self) {
        if !self.bol {
            self.write(" ");
        }
    }

    fn advance(&mut self, to: usize) {
        self.cursor = self.cursor.max(to);
        self.last_end = self.last_end.max(to);
    }

    fn write(&mut self, s: &str) {
        if self.bol {
            self.out.extend(std::iter::repeat_n(' ', self.line_indent));
            self.col = self.line_indent;
            self.bol = false;
        }
        self.out.push_str(s);
        self.col += s.width();
    }

    fn newline(&mut self) {
        if !self.bol {
            let kept = self.out.trim_end_matches(' ').len();
            self.out.truncate(kept);
            self.out.push('\n');
            self.bol = true;
            self.col = 0;
        }
    }

    /// One empty line, unless there is one already (or nothing above).
    fn blank(&mut self) {
        self.newline();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn comment_text(&self, c: &Comment) -> &'a str {
        self.text(c.span).trim_end()
    }

    fn pending(&self, before: usize) -> Option<&'a Comment> {
        self.comments
            .get(self.next)
            .filter(|c| (c.span.start as usize) < before)
    }

    /// Whether the source has an empty line between `from` and `to`.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        self.src
            .get(from.min(to)..to)
            .is_some_and(|gap| gap.bytes().filter(|b| *b == b'\n').count() >= 2)
    }

    fn gap(&mut self, blank: Blank, to: usize) {
        let wanted = match blank {
            Blank::Never => false,
            Blank::Keep => self.blank_between(self.last_end, to),
            Blank::One => true,
        };
        if wanted {
            self.blank();
        }
    }

    /// Comments before `at` in the middle of a line: the first ends the
    /// line it is on, and the token continues on a new line, one level in.
    fn flush(&mut self, at: usize) {
        let mut any = false;
        while let Some(c) = self.pending(at) {
            if !self.bol && !self.out.ends_with(' ') {
                self.write(" ");
            }
            self.write(self.comment_text(c));
            self.newline();
            self.next += 1;
            self.last_end = self.last_end.max(c.span.end as usize);
            any = true;
        }
        if any {
            self.line_indent = self.indent + 4;
        }
    }

    /// Ends the current line before the token at `at` and starts the next
    /// at the current indentation, with the comments in between: one that
    /// followed code on its line stays at the end of that line, the others
    /// get lines of their own.
    pub fn line(&mut self, at: usize, gaps: Gaps) {
        self.break_before(at, gaps);
        self.line_indent = self.indent;
    }

    /// The line of a closing bracket at `at`: the comments before it stay
    /// at the indentation of the block's lines, the bracket one level out.
    pub fn close_line(&mut self, at: usize, gaps: Gaps) {
        self.break_before(at, gaps);
        self.indent = self.indent.saturating_sub(4);
        self.line_indent = self.indent;
    }

    /// Whether a comment not yet written lies before `at`.
    pub fn comment_before(&self, at: usize) -> bool {
        self.pending(at).is_some()
    }

    fn break_before(&mut self, at: usize, gaps: Gaps) {
        let mut first = true;
        if let Some(c) = self.pending(at) {
            let start = c.span.start as usize;
            let same_line = start >= self.cursor
                && self
                    .src
                    .get(self.cursor..start)
                    .is_some_and(|gap| !gap.contains('\n'));
            if same_line && !self.bol {
                self.write(" ");
                self.write(self.comment_text(c));
                self.next += 1;
                self.last_end = self.last_end.max(c.span.end as usize);
            }
        }
        self.newline();
        self.line_indent = self.indent;
        while let Some(c) = self.pending(at) {
            self.gap(
                if first { gaps.first } else { Blank::Keep },
                c.span.start as usize,
            );
            first = false;
            self.write(self.comment_text(c));
            self.newline();
            self.next += 1;
            self.last_end = self.last_end.max(c.span.end as usize);
        }
        let last = if gaps.last == Blank::Never {
            Blank::Never
        } else if first {
            gaps.first
        } else {
            gaps.last
        };
        self.gap(last, at);
    }

    /// The output: the comments left after the last item, and one line
    /// break at the end.
    pub fn finish(mut self) -> String {
        self.break_before(self.src.len(), Gaps::CLOSE);
        self.newline();
        if self.src.starts_with('\u{FEFF}') {
            self.out.insert(0, '\u{FEFF}');
        }
        self.out
    }
}
