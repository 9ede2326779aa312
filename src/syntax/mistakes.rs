//! Mistakes an author makes that the grammar alone would answer with a
//! riddle ("expected a value, found `，`"): what a Chinese input method
//! types in place of ASCII (full-width punctuation and digits, curly
//! quotes, an ideographic space), operators from other languages (`&&`),
//! `7days`, Chinese text where a name belongs, a string or a block left
//! open. The pre-scan notes the first of them in code (outside strings and
//! comments); when pest fails at or after it, it is reported instead, in
//! words that name the real cause and the fix.

use crate::source::SourceFile;

use super::error::SyntaxError;

/// A mistake the pre-scan found, by byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// A full-width character with the ASCII one it stands for.
    FullWidth { at: usize, ch: char, ascii: char },
    /// A character that cannot be seen.
    Invisible { at: usize, ch: char },
    /// A curly quote where a string would open.
    CurlyQuote { at: usize, ch: char },
    /// A string with no closing `"` on its line; `curly` is a curly quote
    /// inside it, likely meant as the close.
    Unterminated {
        start: usize,
        end: usize,
        curly: Option<char>,
    },
    /// `&&`, `||` or `!`, with the word RPL uses.
    Operator {
        at: usize,
        written: &'static str,
        word: &'static str,
    },
    /// A number run into a word: `7days`, `20000.00CNY`.
    MissingSpace {
        start: usize,
        split: usize,
        end: usize,
    },
    /// A name with characters other than ASCII letters, digits and `_`.
    NonAscii { start: usize, end: usize },
}

impl Mistake {
    /// Where it starts.
    pub fn at(&self) -> usize {
        match self {
            Mistake::FullWidth { at, .. }
            | Mistake::Invisible { at, .. }
            | Mistake::CurlyQuote { at, .. }
            | Mistake::Operator { at, .. } => *at,
            Mistake::Unterminated { start, .. }
            | Mistake::MissingSpace { start, .. }
            | Mistake::NonAscii { start, .. } => *start,
        }
    }
}

/// What a non-ASCII character at `at` in code is, if it is a known mistake.
pub fn non_ascii(text: &str, at: usize) -> Option<Mistake> {
    let ch = text.get(at..)?.chars().next()?;
    if let Some(ascii) = full_width(ch) {
        return Some(Mistake::FullWidth { at, ch, ascii });
    }
    if matches!(ch, '\u{201C}' | '\u{201D}' | '\u{2018}' | '\u{2019}') {
        return Some(Mistake::CurlyQuote { at, ch });
    }
    if invisible_name(ch).is_some() {
        return Some(Mistake::Invisible { at, ch });
    }
    if ch.is_alphanumeric() {
        let is_name = |c: char| c.is_alphanumeric() || c == '_';
        let before = text.get(..at)?;
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
            .last()
            .map_or(at, |(i, _)| i);
        let rest = text.get(at..)?;
        let end = at + rest.find(|c: char| !is_name(c)).unwrap_or(rest.len());
        return Some(Mistake::NonAscii { start, end });
    }
    None
}

/// The ASCII character a full-width one stands for.
fn full_width(ch: char) -> Option<char> {
    match ch {
        // The full-width forms of ASCII `!` to `~`.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(ch) - 0xFEE0),
        '、' => Some(','),
        '。' => Some('.'),
        '【' | '〔' => Some('['),
        '】' | '〕' => Some(']'),
        '《' => Some('<'),
        '》' => Some('>'),
        _ => None,
    }
}

/// The Unicode name of a character that takes no room on screen.
fn invisible_name(ch: char) -> Option<&'static str> {
    Some(match ch {
        '\u{3000}' => "IDEOGRAPHIC SPACE",
        '\u{00A0}' => "NO-BREAK SPACE",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{200C}' => "ZERO WIDTH NON-JOINER",
        '\u{200D}' => "ZERO WIDTH JOINER",
        '\u{2060}' => "WORD JOINER",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE (a byte order mark)",
        _ => return None,
    })
}

/// The innermost bracket still open at `at`, skipping strings and
/// comments: the block a missing `}` should have closed.
pub fn open_at(text: &str, at: usize) -> Option<(u8, usize)> {
    let bytes = text.as_bytes();
    let mut open = Vec::new();
    let mut i = 0;
    while i < at.min(bytes.len()) {
        match bytes.get(i) {
            Some(b'"') => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += 1;
                    match c {
                        b'\\' => i += 1,
                        b'"' | b'\n' => break,
                        _ => {}
                    }
                }
                continue;
            }
            Some(b'/') if bytes.get(i + 1) == Some(&b'/') => {
                i += memchr::memchr(b'\n', bytes.get(i..).unwrap_or_default())
                    .unwrap_or(bytes.len() - i);
                continue;
            }
            Some(&c @ (b'(' | b'[' | b'{')) => open.push((c, i)),
            Some(b')' | b']' | b'}') => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.last().copied()
}

/// Where a name stands, as far as the words before it tell: what the help
/// can offer in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameContext {
    /// A value compared with a field (`reason == …`, `x in […]`), or given
    /// to a setting or an outcome field (`channel = …`, `route = …`).
    ValueOf(String),
    /// The name of what a keyword defines (`rule …`, `const …`).
    Definition(&'static str),
    Other,
}

/// The words before `at` that say what the name there is.
pub fn context_before(text: &str, at: usize) -> NameContext {
    let before = text.get(..at).unwrap_or_default().trim_end();
    let word_before = |s: &str| -> String {
        let s = s.trim_end();
        let start = s
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + 1);
        s.get(start..).unwrap_or_default().to_owned()
    };
    if let Some(rest) = before
        .strip_suffix("==")
        .or_else(|| before.strip_suffix("!="))
    {
        let field = word_before(rest);
        if !field.is_empty() {
            return NameContext::ValueOf(field);
        }
    }
    if let Some(rest) = before.strip_suffix('=')
        && !rest.ends_with(['=', '!', '<', '>', '+'])
    {
        let key = word_before(rest);
        if !key.is_empty() {
            return NameContext::ValueOf(key);
        }
    }
    // Inside a list after `in`: the field before `in`.
    if let Some(open) = before.rfind('[')
        && !before.get(open..).unwrap_or_default().contains(']')
    {
        let head = before.get(..open).unwrap_or_default().trim_end();
        if let Some(rest) = head.strip_suffix("in") {
            let rest = rest.trim_end();
            let rest = rest.strip_suffix("not").unwrap_or(rest);
            let field = word_before(rest);
            if !field.is_empty() {
                return NameContext::ValueOf(field);
            }
        }
    }
    const DEFINING: [&str; 9] = [
        "rule", "reject", "after", "const", "pred", "rules", "defaults", "policy", "use",
    ];
    let last = word_before(before);
    match DEFINING.iter().find(|k| **k == last) {
        Some(k) => NameContext::Definition(k),
        None => NameContext::Other,
    }
}

/// The help for a name that is not ASCII, given the values it could be.
pub fn non_ascii_help(context: &NameContext, values: Option<&str>) -> String {
    const ASCII: &str = "names are ASCII letters, digits and `_`";
    match (context, values) {
        (NameContext::ValueOf(field), Some(values)) => format!(
            "`{field}` is one of {values}; {ASCII}, and Chinese text belongs in quotes, in a label or a message"
        ),
        (NameContext::Definition(keyword), _) => format!(
            "{ASCII}: name it in ASCII and give the Chinese text as its label, e.g. `{keyword} store_return \"门店协商退货\"`"
        ),
        _ => format!("{ASCII}; Chinese text belongs in quotes, in a label or a message"),
    }
}

/// The error for a mistake, in words that name it.
pub fn error(m: &Mistake, source: &SourceFile) -> SyntaxError {
    let text: &str = &source.text;
    let src = source.named_source();
    match m {
        Mistake::FullWidth { at, ch, ascii } => SyntaxError::FullWidth {
            ch: *ch,
            code_point: format!("U+{:04X}", u32::from(*ch)),
            ascii: *ascii,
            src,
            span: (*at, ch.len_utf8()).into(),
        },
        Mistake::Invisible { at, ch } => SyntaxError::Invisible {
            name: invisible_name(*ch).unwrap_or("an invisible character"),
            code_point: format!("U+{:04X}", u32::from(*ch)),
            src,
            span: (*at, ch.len_utf8()).into(),
        },
        Mistake::CurlyQuote { at, ch } => SyntaxError::CurlyQuote {
            ch: *ch,
            code_point: format!("U+{:04X}", u32::from(*ch)),
            src,
            span: (*at, ch.len_utf8()).into(),
        },
        Mistake::Unterminated { start, end, curly } => SyntaxError::Unterminated {
            help: match curly {
                Some(c) => format!(
                    "it ends with the curly quote `{c}` (U+{:04X}): type the straight quote `\"` instead",
                    u32::from(*c)
                ),
                None => "close it with `\"` on the same line; a line break inside a string is written `\\n`".to_owned(),
            },
            src,
            start: (*start, 1).into(),
            end: (*end, 0).into(),
        },
        Mistake::Operator { at, written, word } => SyntaxError::Operator {
            written,
            word,
            src,
            span: (*at, written.len()).into(),
        },
        Mistake::MissingSpace { start, split, end } => {
            let token = text.get(*start..*end).unwrap_or_default();
            let (number, word) = token.split_at(split - start);
            SyntaxError::MissingSpace {
                token: token.to_owned(),
                fixed: format!("{number} {word}"),
                src,
                span: (*start, end - start).into(),
            }
        }
        Mistake::NonAscii { start, end } => {
            let context = context_before(text, *start);
            SyntaxError::NonAsciiName {
                text: text.get(*start..*end).unwrap_or_default().to_owned(),
                help: non_ascii_help(&context, None),
                context,
                src,
                span: (*start, end - start).into(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_invisible_characters_are_named() {
        let text = "a（，０＝【 】、x";
        let find = |c: char| non_ascii(text, text.find(c).unwrap());
        assert_eq!(
            find('（').map(|m| matches!(m, Mistake::FullWidth { ascii: '(', .. })),
            Some(true)
        );
        assert_eq!(
            find('，').map(|m| matches!(m, Mistake::FullWidth { ascii: ',', .. })),
            Some(true)
        );
        assert_eq!(
            find('０').map(|m| matches!(m, Mistake::FullWidth { ascii: '0', .. })),
            Some(true)
        );
        assert_eq!(
            find('＝').map(|m| matches!(m, Mistake::FullWidth { ascii: '=', .. })),
            Some(true)
        );
        assert_eq!(
            find('】').map(|m| matches!(m, Mistake::FullWidth { ascii: ']', .. })),
            Some(true)
        );
        assert_eq!(
            find('、').map(|m| matches!(m, Mistake::FullWidth { ascii: ',', .. })),
            Some(true)
        );
        assert!(matches!(
            non_ascii("a\u{3000}b", 1),
            Some(Mistake::Invisible { .. })
        ));
        assert!(matches!(
            non_ascii("“x", 0),
            Some(Mistake::CurlyQuote { .. })
        ));
        assert_eq!(non_ascii("→", 0), None);
    }

    #[test]
    fn a_name_with_chinese_text_is_found_whole() {
        let text = "rule ab门店协商退货 {";
        let at = text.find('门').unwrap();
        assert_eq!(
            non_ascii(text, at),
            Some(Mistake::NonAscii {
                start: 5,
                end: text.find(" {").unwrap()
            })
        );
    }

    #[test]
    fn the_words_before_a_name_say_what_it_is() {
        let ctx = |t: &str| context_before(t, t.len());
        assert_eq!(
            ctx("when reason == "),
            NameContext::ValueOf("reason".into())
        );
        assert_eq!(
            ctx("when item.condition != "),
            NameContext::ValueOf("item.condition".into())
        );
        assert_eq!(
            ctx("    channel = "),
            NameContext::ValueOf("channel".into())
        );
        assert_eq!(ctx("x not in [used, "), NameContext::ValueOf("x".into()));
        assert_eq!(
            ctx("item.category in ["),
            NameContext::ValueOf("item.category".into())
        );
        assert_eq!(ctx("rule "), NameContext::Definition("rule"));
        assert_eq!(ctx("const "), NameContext::Definition("const"));
        assert_eq!(ctx("a <= "), NameContext::Other);
        assert_eq!(ctx("when "), NameContext::Other);
    }
}
