//! The canonical layout of a policy file: `rpl fmt`.
//!
//! [`format`] parses a file and prints its syntax tree in one layout,
//! whatever layout it was written in, keeping every comment where it was.
//! Words and punctuation come from the tree; literals (strings, numbers,
//! money, dates, durations) are printed from their own source text, so an
//! escape is written back as the author wrote it. The printed file parses
//! to the same tree, with the same comments, and printing it again changes
//! nothing.
//!
//! The layout, rustfmt's in spirit:
//!
//! - 4 spaces per level; `{` on the line that opens the block; one item,
//!   setting, rule or assignment per line; one blank line between
//!   top-level items; blank lines inside blocks kept, at most one, never
//!   right after `{` or before `}`;
//! - an expression stays on one line when it fits in [`MAX_WIDTH`]
//!   columns. When it does not, the outermost construct breaks: an `and` /
//!   `or` chain before each operator, on lines indented one level more; a
//!   `match`, a list or a call's arguments one per line, each with a
//!   trailing comma; an `if` before `then` and `else`. A value after `=`
//!   that fits on a line of its own moves there, one level in;
//! - one space around binary operators and after `,`; none inside brackets;
//!   parentheses as written;
//! - a comment stays before the token it preceded: on a line of its own
//!   (at the indentation of what follows) when it was on one, or at the
//!   end of the line, after one space, when it followed code.
//!
//! The printer sits in [`printer`] (lines, indentation, comments), the
//! layout of items in [`items`] and of expressions in [`expr`].

mod expr;
mod items;
mod printer;

use crate::source::{FileId, SourceFile};
use crate::syntax::{self, SyntaxError};

/// The widest a line may be, in terminal columns, before an expression on
/// it breaks.
pub const MAX_WIDTH: usize = 100;

/// `source` in the canonical layout, or the syntax error that keeps it
/// from being read (a file that does not parse is not formatted).
pub fn format(source: &SourceFile) -> Result<String, Box<SyntaxError>> {
    let file = syntax::parse(FileId(0), source)?;
    Ok(items::print(&file, &source.text))
}

#[cfg(test)]
mod tests;
