//! Stage 1: text → syntax tree. Pest types never leave this module.
//!
//! [`parse`] returns an [`ast::File`] with a span on every node and every
//! comment collected, or the first syntax error in words an author reads.

pub mod ast;
mod error;
mod expected;
mod lower;
pub mod mistakes;
mod scan;
mod tree;

pub use error::SyntaxError;
pub use scan::MAX_NESTING;

use std::sync::Arc;

use pest::Parser as _;
use pest_derive::Parser;

use crate::source::{FileId, SourceFile};

#[derive(Parser)]
#[grammar = "../grammar/rpl.pest"]
struct RplParser;

/// Parses one file. Never panics and never recurses deeper than
/// [`MAX_NESTING`] allows, whatever the input.
/// The error is boxed: it is large and parsing usually succeeds.
pub fn parse(file: FileId, source: &SourceFile) -> Result<ast::File, Box<SyntaxError>> {
    let text: &str = &source.text;
    let scanned = scan::scan(file, text);
    if let Some(at) = scanned.too_deep_at {
        return Err(Box::new(SyntaxError::TooDeep {
            max: MAX_NESTING,
            src: source.named_source(),
            span: (at, 1usize.min(text.len().saturating_sub(at))).into(),
        }));
    }
    if let Some((at, byte)) = scanned.control_at {
        return Err(Box::new(SyntaxError::ControlCharacter {
            name: format!("U+{byte:04X}"),
            src: source.named_source(),
            span: (at, 1).into(),
        }));
    }
    let pairs = RplParser::parse(Rule::file, text)
        .map_err(|e| Box::new(explained(source, &scanned, pest_error(source, e))))?;
    let tree = tree::Tree::new(pairs, text, lower::is_punctuation);
    let lowerer = lower::Lowerer::new(file, source, &scanned.comments);
    let items = lowerer.file(&tree)?;
    let doc = lower::inner_doc(&scanned.comments);
    Ok(ast::File {
        doc,
        items,
        comments: scanned.comments,
    })
}

/// Pest's error, or what explains it better: a mistake the scan found at
/// or before where pest stopped, or a block never closed (by indentation)
/// that opened before it.
fn explained(source: &SourceFile, scanned: &scan::Scanned, err: SyntaxError) -> SyntaxError {
    let SyntaxError::Unexpected { span, .. } = &err else {
        return err;
    };
    let at = span.offset();
    if let Some(m) = scanned.mistake.as_ref().filter(|m| m.at() <= at) {
        return mistakes::error(m, source);
    }
    match mistakes::unclosed(&source.text) {
        Some((open, opened, due)) if opened <= at => SyntaxError::Unclosed {
            open: char::from(open),
            close: char::from(mistakes::closer_of(open)),
            src: source.named_source(),
            opened: (opened, 1).into(),
            // The character there, whatever its width (none at the end).
            end: (
                due,
                source
                    .text
                    .get(due..)
                    .and_then(|r| r.chars().next())
                    .map_or(0, char::len_utf8),
            )
                .into(),
        },
        _ => err,
    }
}

/// Where pest stops on `text`, if it does: to try a fix before offering it.
fn pest_stops_at(text: &str) -> Option<usize> {
    // The scan's bound first: a fix may open a bracket.
    if scan::scan(FileId(0), text).too_deep_at.is_some() {
        return Some(0);
    }
    RplParser::parse(Rule::file, text)
        .err()
        .map(|e| match e.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        })
}

fn pest_error(source: &SourceFile, err: pest::error::Error<Rule>) -> SyntaxError {
    let text: &Arc<str> = &source.text;
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let expected = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            expected::expected_words(positives)
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let (found, len) = found_at(text, pos);
    // Pest expects `]` after a list item, but not a `,` (a literal of the
    // rule): a word there is an item that lacks its comma.
    // A word or value where pest wanted `]`: an item that lacks its comma,
    // unless the word is one that follows a list (then the `]` is missing).
    let in_list = expected.contains("`]`") && len > 0;
    let word = found.trim_matches('`');
    let item = found.starts_with('`')
        && word.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && !is_keyword(word);
    // A rule written at the top of a file: pest only says which items it
    // would take there, which does not tell where a rule belongs.
    let top_level = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            // (or when nothing it names can be said: at the file's start)
            positives.iter().all(|r| expected::describe(*r).is_none())
                || positives
                    .iter()
                    .any(|r| matches!(r, Rule::kw_const | Rule::kw_policy | Rule::kw_rules))
        }
        pest::error::ErrorVariant::CustomError { .. } => false,
    };
    let (expected, help) = if top_level && matches!(word, "rule" | "reject" | "after") {
        (
            "`import`, `const`, `pred`, `rules`, `defaults` or `policy`".to_owned(),
            format!(
                "a `{word}` belongs in a group, `rules NAME {{ {word} … }}`, that a policy `use`s, \
                 or inside a `policy NAME {{ … }}`"
            ),
        )
    } else if in_list && item {
        (
            "`,` or `]`".to_owned(),
            "separate the items of a list with `,`, e.g. `[phone, tablet]`".to_owned(),
        )
    } else if in_list {
        (
            "`,` or `]`".to_owned(),
            "close the list with `]`".to_owned(),
        )
    } else {
        let help = help_for(&expected, &found);
        (expected, help)
    };
    SyntaxError::Unexpected {
        expected,
        found,
        help,
        src: source.named_source(),
        span: (pos, len).into(),
    }
}

/// The token at `pos`, for "found ...", and its length in bytes.
fn found_at(text: &str, pos: usize) -> (String, usize) {
    let rest = text.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return ("the end of the file".to_string(), 0);
    };
    if first.is_alphanumeric() || first == '_' {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        let len = word.len();
        return (format!("`{word}`"), len);
    }
    if first == '"' {
        return ("a string".to_string(), first.len_utf8());
    }
    if first == '\n' || first == '\r' {
        return ("the end of the line".to_string(), 0);
    }
    (format!("`{first}`"), first.len_utf8())
}

/// A word of the language itself: never a list item.
fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "when"
            | "approve"
            | "deny"
            | "review"
            | "rule"
            | "reject"
            | "after"
            | "const"
            | "pred"
            | "rules"
            | "defaults"
            | "policy"
            | "use"
            | "import"
            | "and"
            | "or"
            | "not"
            | "in"
            | "is"
            | "within"
            | "then"
            | "else"
            | "if"
            | "match"
    )
}

fn help_for(expected: &str, found: &str) -> String {
    // Checked first: a lone `=` in a condition is where a comparison is
    // expected, and the general advice would not name the mistake.
    if found == "`=`" && expected.contains("comparison") {
        "to compare two values write `==`, e.g. `item.condition == unopened`".to_string()
    } else if expected.contains("comparison") {
        "a condition compares a field with a value, e.g. `item.condition == unopened` or `reason in [wrong_item, damaged_in_transit]`".to_string()
    } else if expected.starts_with("a verdict") {
        "a rule ends with its verdict: `approve`, `deny` or `review`, optionally followed by `{ field = value ... }`".to_string()
    } else if found == "`=`" {
        "to compare two values write `==`".to_string()
    } else {
        format!("write {expected} here")
    }
}

#[cfg(test)]
mod tests;
