//! A small pass over the raw text, before pest: it collects comments (pest
//! skips them) and bounds how deeply expressions nest, so that neither the
//! parser nor the later recursive passes can overflow the stack on hostile
//! input. The bound is on the syntax tree, not only on brackets: a flat
//! chain `a and b and c ...` parses into a tree as deep as it is long.

use super::ast::{Comment, CommentKind};
use super::mistakes::{self, Mistake};
use crate::source::{FileId, Span};

/// How deeply expressions may nest: brackets, `if`/`match`, runs of
/// `not`/`-`, and chains of operators. Real policies stay far below it.
pub const MAX_NESTING: usize = 64;

pub struct Scanned {
    pub comments: Vec<Comment>,
    /// Byte offset where nesting first exceeded [`MAX_NESTING`].
    pub too_deep_at: Option<usize>,
    /// The first control character outside strings and comments, other
    /// than tab and line breaks. The grammar counts every character from
    /// tab to space as a blank (one range test where pest looks for blanks
    /// between every two tokens), so the others are turned away here.
    pub control_at: Option<(usize, u8)>,
    /// The first mistake in code that gets a message of its own, should
    /// pest fail at or after it.
    pub mistake: Option<Mistake>,
}

/// Nesting opened inside one bracket pair.
#[derive(Default, Clone, Copy)]
struct Frame {
    /// `not` and unary `-` since the last binary operator.
    prefix: usize,
    /// `if` and `match` since the frame opened or the last separator.
    cond: usize,
    /// Operators joining operands since the frame opened or the last
    /// separator: each makes the tree one level deeper.
    chain: usize,
}

const RESET_WORDS: &[&str] = &[
    "rule", "when", "approve", "deny", "review", "reject", "after", "const", "pred", "policy",
    "rules", "defaults", "use", "import",
];

pub fn scan(file: FileId, text: &str) -> Scanned {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut frames = vec![Frame::default()];
    let mut too_deep_at = None;
    let mut control_at = None;
    let mut mistake: Option<Mistake> = None;
    // Whether the previous significant token ends an operand, which makes a
    // following `-` binary rather than unary.
    let mut after_operand = false;
    let mut i = 0;
    while i < bytes.len() {
        let Some(&b) = bytes.get(i) else { break };
        let rest = bytes.get(i..).unwrap_or_default();
        // Set where nesting may have grown: only then is the depth summed.
        let mut grew = false;
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            0x00..=0x1f => {
                control_at.get_or_insert((i, b));
            }
            b'/' if rest.starts_with(b"//") => {
                let end = memchr_newline(bytes, i);
                let (kind, skip) = if rest.starts_with(b"///") && !rest.starts_with(b"////") {
                    (CommentKind::Doc, 3)
                } else if rest.starts_with(b"//!") {
                    (CommentKind::Inner, 3)
                } else {
                    (CommentKind::Line, 2)
                };
                let body = text.get(i + skip..end).unwrap_or("");
                comments.push(Comment {
                    kind,
                    text: body
                        .strip_prefix(' ')
                        .unwrap_or(body)
                        .trim_end()
                        .to_string(),
                    span: Span::new(file, i, end),
                });
                i = end;
                continue;
            }
            b'"' => {
                let (end, closed) = skip_string(bytes, i);
                if mistake.is_none() && !closed {
                    let inside = text.get(i + 1..end).unwrap_or_default();
                    mistake = Some(Mistake::Unterminated {
                        start: i,
                        end,
                        curly: inside
                            .chars()
                            .rev()
                            .find(|c| matches!(c, '\u{201D}' | '\u{201C}')),
                    });
                }
                i = end;
                after_operand = true;
                continue;
            }
            b'(' | b'[' | b'{' => {
                frames.push(Frame::default());
                after_operand = false;
                grew = true;
            }
            b')' | b']' | b'}' => {
                if frames.len() > 1 {
                    frames.pop();
                }
                after_operand = true;
            }
            b'&' => {
                let written = if rest.starts_with(b"&&") { "&&" } else { "&" };
                mistake.get_or_insert(Mistake::Operator { at: i, written });
            }
            // The one character allowed outside strings and comments is a
            // byte order mark opening the file.
            0x80.. if mistake.is_none() && !(i == 0 && text.starts_with('\u{FEFF}')) => {
                mistake = mistakes::non_ascii(text, i);
            }
            b',' => {
                if let Some(f) = frames.last_mut() {
                    *f = Frame::default();
                }
                after_operand = false;
            }
            b'-' if !after_operand => {
                if let Some(f) = frames.last_mut() {
                    f.prefix += 1;
                }
                grew = true;
            }
            b'=' | b'<' | b'>' | b'!' | b'+' | b'-' | b'*' | b'/' | b'.' | b'|' => {
                if mistake.is_none() {
                    if rest.starts_with(b"||") {
                        mistake = Some(Mistake::Operator {
                            at: i,
                            written: "||",
                        });
                    } else if b == b'!' && rest.get(1) != Some(&b'=') {
                        mistake = Some(Mistake::Operator {
                            at: i,
                            written: "!",
                        });
                    }
                }
                if let Some(f) = frames.last_mut() {
                    f.prefix = 0;
                    // `==`, `<=`, `..`, `=>` are one operator: counted at their first character.
                    let continues = matches!(
                        i.checked_sub(1).and_then(|j| bytes.get(j)),
                        Some(b'=' | b'<' | b'>' | b'!' | b'.')
                    );
                    if !continues {
                        f.chain += 1;
                        grew = true;
                    }
                    // A lone `=` starts a new definition or outcome field.
                    let lone_assign = b == b'='
                        && !matches!(rest.get(1), Some(b'=' | b'>'))
                        && !matches!(
                            i.checked_sub(1).and_then(|j| bytes.get(j)),
                            Some(b'=' | b'<' | b'>' | b'!' | b'+')
                        );
                    if lone_assign {
                        f.cond = 0;
                        f.chain = 0;
                    }
                }
                after_operand = false;
            }
            _ if b.is_ascii_alphanumeric() || b == b'_' => {
                let end = rest
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map_or(bytes.len(), |n| i + n);
                let word = text.get(i..end).unwrap_or("");
                if mistake.is_none()
                    && b.is_ascii_digit()
                    && let Some(split) = word.find(|c: char| c.is_ascii_alphabetic())
                {
                    // Back over the digits and point of a decimal: `20000.00CNY`.
                    let start = bytes
                        .get(..i)
                        .unwrap_or_default()
                        .iter()
                        .rev()
                        .take_while(|c| c.is_ascii_digit() || **c == b'.')
                        .count();
                    mistake = Some(Mistake::MissingSpace {
                        start: i - start,
                        split: i + split,
                        end,
                    });
                }
                // A word that starts an item or a verdict ends the
                // expression before it; where an operand is expected, the
                // grammar reads the same word as a name (`if deny then ..`),
                // and resetting there would let nesting past the bound.
                let ends_expression = after_operand;
                after_operand = true;
                if let Some(f) = frames.last_mut() {
                    match word {
                        "not" => {
                            f.prefix += 1;
                            after_operand = false;
                            grew = true;
                        }
                        "and" | "or" | "in" | "is" | "within" => {
                            f.prefix = 0;
                            f.chain += 1;
                            after_operand = false;
                            grew = true;
                        }
                        "after" | "then" | "else" => {
                            f.prefix = 0;
                            after_operand = false;
                        }
                        "if" | "match" => {
                            f.cond += 1;
                            after_operand = false;
                            grew = true;
                        }
                        w if ends_expression && RESET_WORDS.contains(&w) => {
                            *f = Frame::default();
                            after_operand = false;
                        }
                        _ => {}
                    }
                }
                i = end;
                if grew && too_deep_at.is_none() && depth(&frames) > MAX_NESTING {
                    too_deep_at = Some(i.saturating_sub(word.len()));
                }
                continue;
            }
            _ => {}
        }
        if grew && too_deep_at.is_none() && depth(&frames) > MAX_NESTING {
            too_deep_at = Some(i);
        }
        i += 1;
    }
    Scanned {
        comments,
        too_deep_at,
        control_at,
        mistake,
    }
}

fn depth(frames: &[Frame]) -> usize {
    frames.len() - 1
        + frames
            .iter()
            .map(|f| f.prefix + f.cond + f.chain)
            .sum::<usize>()
}

pub(super) fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .and_then(|r| memchr::memchr(b'\n', r))
        .map_or(bytes.len(), |n| from + n)
}

/// Offset just past the string starting at `start` (or the end of its line
/// when it is not closed: strings do not span lines).
pub(super) fn skip_string(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut i = start + 1;
    while let Some(n) = bytes
        .get(i..)
        .and_then(|r| memchr::memchr3(b'\\', b'"', b'\n', r))
    {
        i += n;
        match bytes.get(i) {
            // An escape is skipped whole: `\"` does not close the string.
            Some(b'\\') => i += 2,
            Some(b'"') => return (i + 1, true),
            _ => return (i, false),
        }
    }
    (bytes.len().min(i.max(start + 1)), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(text: &str) -> bool {
        scan(FileId(0), text).too_deep_at.is_some()
    }

    #[test]
    fn comments_are_collected_with_kind_and_text() {
        let s = scan(
            FileId(0),
            "//! top\n/// doc\nrule x { // trailing\n\"a // not\" }\n",
        );
        let got: Vec<_> = s
            .comments
            .iter()
            .map(|c| (c.kind, c.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (CommentKind::Inner, "top"),
                (CommentKind::Doc, "doc"),
                (CommentKind::Line, "trailing"),
            ]
        );
    }

    #[test]
    fn nesting_limits_brackets_prefixes_and_conditionals() {
        assert!(deep(&format!("{}x{}", "(".repeat(100), ")".repeat(100))));
        assert!(deep(&format!("const a = {}x", "not ".repeat(100))));
        assert!(deep(&format!("const a = {}x", "- ".repeat(100))));
        assert!(deep(&"if a then ".repeat(100)));
        assert!(!deep(&format!("{}x{}", "(".repeat(20), ")".repeat(20))));
    }

    #[test]
    fn operator_chains_count_as_nesting() {
        // `a and b and ...` parses left-deep: a chain is as deep as it is long.
        let chain = |n: usize, op: &str| {
            (0..n)
                .map(|i| format!("not a{i}"))
                .collect::<Vec<_>>()
                .join(op)
        };
        assert!(deep(&format!("const x = {}", chain(100, " and "))));
        assert!(deep(&format!("const x = {}", chain(100, " - "))));
        assert!(deep(&format!("const x = {}", chain(100, " == "))));
        assert!(!deep(&format!("const x = {}", chain(20, " and "))));
        assert!(!deep(&format!("const x = {}", chain(20, " <= "))));
    }

    #[test]
    fn separate_statements_do_not_add_up() {
        let rules =
            "rule r { when if a then b and c else c approve { refund = x + y } }\n".repeat(500);
        assert!(!deep(&rules));
        let consts = (0..500)
            .map(|i| format!("const c{i} = a - b * c"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!deep(&consts));
        let items = (0..500)
            .map(|i| format!("a{i} + 1"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(!deep(&format!("const l = [{items}]")));
    }
}
