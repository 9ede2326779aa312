//! Mistakes an author makes that the grammar alone would answer with a
//! riddle ("expected a value, found `，`"): what a Chinese input method
//! types in place of ASCII (full-width punctuation and digits, curly
//! quotes, an ideographic space, `——` for `_`), operators from other
//! languages (`&&`), `7days`, Chinese text where a name belongs, a string
//! or a block left open. The pre-scan notes the first of them in code
//! (outside strings and comments); when pest fails at or after it, it is
//! reported instead, in words that name the real cause.
//!
//! A fix is only offered once it is tried: each candidate is put in place
//! of the mistake and the text parsed again, and only one that gets the
//! parse past that line is shown. A help never suggests a fix that fails
//! on the spot (`channel： x` is told `=`, not the `:` that `：` stands for).

use crate::source::SourceFile;

use super::error::SyntaxError;
use super::scan::{memchr_newline, skip_string};

/// A mistake the pre-scan found, by byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// A run of one full-width or input-method character.
    FullWidth { at: usize, ch: char, count: usize },
    /// A character that cannot be seen.
    Invisible { at: usize, ch: char },
    /// A curly quote where a string would open.
    CurlyQuote { at: usize, ch: char },
    /// A string with no closing `"` on its line; `curly` is the last curly
    /// quote inside it, likely meant as the close.
    Unterminated {
        start: usize,
        end: usize,
        curly: Option<char>,
    },
    /// `&&`, `&`, `||` or `!`.
    Operator { at: usize, written: &'static str },
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
    let rest = text.get(at..)?;
    let ch = rest.chars().next()?;
    if !meant(ch).is_empty() {
        let count = rest.chars().take_while(|c| *c == ch).count();
        return Some(Mistake::FullWidth { at, ch, count });
    }
    if matches!(ch, '\u{201C}' | '\u{201D}' | '\u{2018}' | '\u{2019}') {
        return Some(Mistake::CurlyQuote { at, ch });
    }
    if invisible_name(ch).is_some() {
        return Some(Mistake::Invisible { at, ch });
    }
    if ch.is_alphanumeric() {
        let is_name = |c: char| c.is_alphanumeric() || c == '_';
        // Back over the ASCII part of the name or number before it:
        // `item.颜色`, `7天`, `20000.00元`.
        let start = text
            .get(..at)?
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
            .last()
            .map_or(at, |(i, _)| i);
        let end = at + rest.find(|c: char| !is_name(c)).unwrap_or(rest.len());
        return Some(Mistake::NonAscii { start, end });
    }
    None
}

/// What a full-width or input-method character may have been meant as,
/// most likely first (each is tried before it is offered); empty for a
/// character that is not one.
fn meant(ch: char) -> &'static [&'static str] {
    match ch {
        '（' => &["("],
        '）' => &[")"],
        '［' | '【' | '〔' => &["["],
        '］' | '】' | '〕' => &["]"],
        '｛' => &["{"],
        '｝' => &["}"],
        '，' | '、' => &[",", ""],
        '．' | '。' => &[".", ""],
        '：' => &["=", ""],
        '；' => &[""],
        '＝' => &["=", "=="],
        '＜' | '《' => &["<"],
        '＞' | '》' => &[">"],
        '！' => &["!", "not "],
        '＆' => &["and"],
        '｜' => &["|", "or"],
        '＋' => &["+"],
        '－' => &["-", "_"],
        '＊' => &["*"],
        '／' => &["/"],
        '＂' | '「' | '」' | '『' | '』' => &["\""],
        '＿' | '—' => &["_", "-"],
        '·' => &[".", ""],
        '…' => &[".."],
        '？' => &[""],
        '￥' => &[""],
        '０' => &["0"],
        '１' => &["1"],
        '２' => &["2"],
        '３' => &["3"],
        '４' => &["4"],
        '５' => &["5"],
        '６' => &["6"],
        '７' => &["7"],
        '８' => &["8"],
        '９' => &["9"],
        _ => &[],
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

/// The English words for a unit or currency written in Chinese or cut
/// short, after a number: `7天`, `7d`, `20000.00元`.
fn unit_words(word: &str) -> &'static [&'static str] {
    match word {
        "天" | "日" | "d" | "day" | "days" => &["days"],
        "周" | "星期" | "w" | "wk" | "wks" | "week" | "weeks" => &["weeks"],
        "月" | "个月" | "mo" | "mon" | "month" | "months" => &["months"],
        "年" | "y" | "yr" | "yrs" | "year" | "years" => &["years"],
        "工作日" | "个工作日" | "wd" | "workday" | "workdays" | "workingdays" => {
            &["working days"]
        }
        "元" | "块" | "人民币" | "rmb" | "RMB" | "cny" => &["CNY"],
        _ => &[],
    }
}

/// Whether `replacement` in place of `len` bytes at `at` gets the parse
/// past the line of the mistake (or through the file).
fn works(text: &str, at: usize, len: usize, replacement: &str) -> bool {
    let (Some(before), Some(after)) = (text.get(..at), text.get(at + len..)) else {
        return false;
    };
    let fixed = format!("{before}{replacement}{after}");
    let line_end = fixed
        .get(at..)
        .and_then(|r| r.find('\n'))
        .map_or(fixed.len(), |n| at + n);
    super::pest_stops_at(&fixed).is_none_or(|stop| stop > line_end)
}

/// The first candidate that works in place of `len` bytes at `at`.
fn first_working<'c>(text: &str, at: usize, len: usize, candidates: &[&'c str]) -> Option<&'c str> {
    candidates.iter().copied().find(|c| works(text, at, len, c))
}

/// How to say "write `fix` instead of `what`".
fn fix_words(fix: &str, what: &str) -> String {
    match fix {
        "" => format!("delete `{what}`: RPL has no use for it here"),
        f => format!(
            "type `{}` instead (a Chinese input method types `{what}` for it)",
            f.trim_end()
        ),
    }
}

/// Where a name stands, as far as the words before it tell: what the help
/// can offer in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameContext {
    /// A value of a field, a setting or an outcome field (`reason == …`,
    /// `x in […]`, `channel = …`, `route = …`, a `match` on a field, an
    /// arm of a `match` given to an outcome field).
    ValueOf(String),
    /// The name of what a keyword defines (`rule …`, `const …`).
    Definition(&'static str),
    Other,
}

/// The word (a name or dotted path) at the end of `s`.
fn last_word(s: &str) -> &str {
    let s = s.trim_end();
    let start = s
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    s.get(start..).unwrap_or_default()
}

/// The words before `at` that say what the name there is.
pub fn context_before(text: &str, at: usize) -> NameContext {
    let before = text.get(..at).unwrap_or_default().trim_end();
    let value_of = |s: &str| {
        let w = last_word(s);
        (!w.is_empty()).then(|| NameContext::ValueOf(w.to_owned()))
    };
    if let Some(rest) = before
        .strip_suffix("==")
        .or_else(|| before.strip_suffix("!="))
        && let Some(c) = value_of(rest)
    {
        return c;
    }
    if let Some(rest) = before.strip_suffix('=')
        && !rest.ends_with(['=', '!', '<', '>', '+'])
        && let Some(c) = value_of(rest)
    {
        return c;
    }
    // Inside a list: after `in` (the field before it), or given to an
    // outcome field (`documents += [`).
    if let Some(open) = before.rfind('[')
        && !before.get(open..).unwrap_or_default().contains(']')
    {
        let head = before.get(..open).unwrap_or_default().trim_end();
        if let Some(rest) = head.strip_suffix("in") {
            let rest = rest.trim_end();
            let rest = rest.strip_suffix("not").unwrap_or(rest);
            if let Some(c) = value_of(rest) {
                return c;
            }
        }
        if let Some(rest) = head.strip_suffix("+=").or_else(|| head.strip_suffix('='))
            && let Some(c) = value_of(rest)
        {
            return c;
        }
    }
    // Inside a `match FIELD {`: a pattern is a value of FIELD, a result
    // (after `=>`) one of the outcome field the match is given to.
    if let Some(open) = before.rfind('{')
        && !before.get(open..).unwrap_or_default().contains('}')
    {
        let head = before.get(..open).unwrap_or_default().trim_end();
        let field = last_word(head);
        let head = head
            .get(..head.len() - field.len())
            .unwrap_or_default()
            .trim_end();
        if let Some(assigned) = head.strip_suffix("match") {
            let target = if before.ends_with("=>") {
                assigned.trim_end().strip_suffix('=').map(last_word)
            } else {
                Some(field)
            };
            if let Some(t) = target.filter(|t| !t.is_empty()) {
                return NameContext::ValueOf(t.to_owned());
            }
        }
    }
    const DEFINING: [&str; 9] = [
        "rule", "reject", "after", "const", "pred", "rules", "defaults", "policy", "use",
    ];
    match DEFINING.iter().find(|k| **k == last_word(before)) {
        Some(k) => NameContext::Definition(k),
        None => NameContext::Other,
    }
}

/// The help for a name that is not ASCII, given the values it could be.
pub fn non_ascii_help(context: &NameContext, values: Option<&str>) -> String {
    const ASCII: &str = "names are ASCII letters, digits and `_`";
    match (context, values) {
        (NameContext::ValueOf(field), _) if field == "currency" => {
            "a currency is its ISO 4217 code in capitals, e.g. `currency = CNY`".to_owned()
        }
        (NameContext::ValueOf(field), Some(values)) => format!(
            "`{field}` is one of {values}; {ASCII} (Chinese text can only be a label or a message, in quotes)"
        ),
        (NameContext::Definition(keyword), _) => format!(
            "{ASCII}: name it in ASCII and give the Chinese text as its label, e.g. `{keyword} store_return \"门店协商退货\"`"
        ),
        _ => format!(
            "{ASCII}: write the ASCII name of what is meant (Chinese text can only be a label or a message, in quotes)"
        ),
    }
}

/// The error for a mistake, in words that name it, with a fix that works.
pub fn error(m: &Mistake, source: &SourceFile) -> SyntaxError {
    let text: &str = &source.text;
    let src = source.named_source();
    match m {
        Mistake::FullWidth { at, ch, count } => {
            let len = ch.len_utf8() * count;
            let written = text.get(*at..at + len).unwrap_or_default().to_owned();
            let fix = first_working(text, *at, len, meant(*ch));
            SyntaxError::FullWidth {
                code_point: format!("U+{:04X}", u32::from(*ch)),
                help: match fix {
                    Some(f) => fix_words(f, &written),
                    None => format!(
                        "`{written}` has no place in RPL's syntax: write what was meant in ASCII"
                    ),
                },
                written,
                src,
                span: (*at, len).into(),
            }
        }
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
        Mistake::Operator { at, written } => {
            let candidates: &[&str] = match *written {
                "&&" | "&" => &["and"],
                "||" => &["or", "|"],
                _ => &["not "],
            };
            let fix = first_working(text, *at, written.len(), candidates);
            SyntaxError::Operator {
                written,
                help: match fix {
                    Some("|") => {
                        "write `|`: the values of a `match` arm are joined with `|`".to_owned()
                    }
                    Some(f) => format!(
                        "write `{}`: conditions are joined with `and`, `or` and `not`",
                        f.trim_end()
                    ),
                    None => "conditions are joined with `and`, `or` and `not`".to_owned(),
                },
                src,
                span: (*at, written.len()).into(),
            }
        }
        Mistake::MissingSpace { start, split, end } => {
            let token = text.get(*start..*end).unwrap_or_default();
            let (number, word) = token.split_at(split - start);
            let spaced = format!("{number} {word}");
            let mut candidates = vec![spaced];
            candidates.extend(unit_words(word).iter().map(|w| format!("{number} {w}")));
            let fix = candidates
                .iter()
                .find(|c| works(text, *start, end - start, c));
            SyntaxError::MissingSpace {
                token: token.to_owned(),
                help: match fix {
                    Some(f) => format!(
                        "write `{f}`: a number and its unit or currency are two words"
                    ),
                    None => "a number and its unit or currency are two words, such as `7 days`, `15 working days` or `20000.00 CNY`".to_owned(),
                },
                src,
                span: (*start, end - start).into(),
            }
        }
        Mistake::NonAscii { start, end } => {
            let written = text.get(*start..*end).unwrap_or_default();
            let context = context_before(text, *start);
            // A number with a Chinese unit or currency: `7天`, `20000.00元`.
            let digits = written
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(written.len());
            let (number, word) = written.split_at(digits);
            let unit = unit_words(word).iter().find_map(|w| {
                let fix = if number.is_empty() {
                    (*w).to_owned()
                } else {
                    format!("{number} {w}")
                };
                works(text, *start, end - start, &fix).then_some(fix)
            });
            let help = match &unit {
                Some(fix) => format!("write `{fix}`: units and currencies are written in English"),
                None => non_ascii_help(&context, None),
            };
            SyntaxError::NonAsciiName {
                text: written.to_owned(),
                help,
                context: if unit.is_some() {
                    NameContext::Other
                } else {
                    context
                },
                src,
                span: (*start, end - start).into(),
            }
        }
    }
}

/// The block a missing closer most likely belongs to, in a text whose
/// brackets do not balance, and where its closer was due: by indentation,
/// the first block opener ending its line whose next line at or left of
/// its own indentation is not its closer (rustc reads unclosed blocks the
/// same way). `None` when the brackets balance.
pub fn unclosed(text: &str) -> Option<(u8, usize, usize)> {
    let brackets = brackets(text);
    if brackets.iter().all(|b| b.closed) {
        return None;
    }
    let indent = |line: &str| line.len() - line.trim_start().len();
    for b in brackets.iter().filter(|b| b.ends_line) {
        let line_start = text
            .get(..b.at)
            .unwrap_or_default()
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let own = indent(text.get(line_start..b.at).unwrap_or_default());
        let after = text.get(b.at..).unwrap_or_default();
        let mut offset = b.at + after.find('\n').map_or(after.len(), |n| n + 1);
        for line in text.get(offset..).unwrap_or_default().split_inclusive('\n') {
            let here = offset;
            offset += line.len();
            if line.trim().is_empty() || line.trim_start().starts_with("//") {
                continue;
            }
            if indent(line) > own {
                continue;
            }
            let closer = closer_of(b.open);
            let closes = indent(line) == own && line.trim_start().starts_with(char::from(closer));
            if !closes {
                return Some((b.open, b.at, here + indent(line)));
            }
            break;
        }
    }
    // Indentation tells nothing: the innermost opener never closed.
    let last = brackets.iter().rev().find(|b| !b.closed)?;
    Some((last.open, last.at, text.trim_end().len()))
}

pub fn closer_of(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

/// A bracket opened in code.
struct Bracket {
    open: u8,
    at: usize,
    /// Nothing but blanks or a comment follows it on its line: it opens a
    /// block laid out over lines.
    ends_line: bool,
    closed: bool,
}

/// Every bracket opened outside strings and comments, and whether a
/// matching one closed it.
fn brackets(text: &str) -> Vec<Bracket> {
    let bytes = text.as_bytes();
    let mut all: Vec<Bracket> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            // Strings and comments as the scan reads them.
            b'"' => {
                i = skip_string(bytes, i).0;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr_newline(bytes, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                let rest = text.get(i + 1..).unwrap_or_default();
                let line = rest.split('\n').next().unwrap_or_default().trim();
                open.push(all.len());
                all.push(Bracket {
                    open: b,
                    at: i,
                    ends_line: line.is_empty() || line.starts_with("//"),
                    closed: false,
                });
            }
            b')' | b']' | b'}' => {
                // A closer that matches the innermost opener closes it; a
                // stray one is pest's to report.
                if let Some(&top) = open.last()
                    && all.get(top).is_some_and(|o| closer_of(o.open) == b)
                {
                    open.pop();
                    if let Some(o) = all.get_mut(top) {
                        o.closed = true;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_method_characters_are_found_in_runs() {
        let text = "a（，０＝【 】、x ＆＆ ——";
        let find = |c: char| non_ascii(text, text.find(c).unwrap());
        for c in ['（', '，', '０', '＝', '】', '、'] {
            assert!(
                matches!(find(c), Some(Mistake::FullWidth { count: 1, .. })),
                "{c}"
            );
        }
        assert!(matches!(
            find('＆'),
            Some(Mistake::FullWidth { count: 2, .. })
        ));
        assert!(matches!(
            find('—'),
            Some(Mistake::FullWidth { count: 2, .. })
        ));
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
        let text = "x > 20000.00元 ";
        assert_eq!(
            non_ascii(text, text.find('元').unwrap()),
            Some(Mistake::NonAscii {
                start: 4,
                end: text.len() - 1
            })
        );
    }

    #[test]
    fn the_words_before_a_name_say_what_it_is() {
        let ctx = |t: &str| context_before(t, t.len());
        let value = |f: &str| NameContext::ValueOf(f.to_owned());
        assert_eq!(ctx("when reason == "), value("reason"));
        assert_eq!(ctx("when item.condition != "), value("item.condition"));
        assert_eq!(ctx("    channel = "), value("channel"));
        assert_eq!(ctx("x not in [used, "), value("x"));
        assert_eq!(ctx("item.category in ["), value("item.category"));
        assert_eq!(ctx("documents += [order_number, "), value("documents"));
        assert_eq!(
            ctx("route = match payment.method { cash => "),
            value("route")
        );
        assert_eq!(
            ctx("route = match payment.method { cash => x, "),
            value("payment.method")
        );
        assert_eq!(ctx("rule "), NameContext::Definition("rule"));
        assert_eq!(ctx("const "), NameContext::Definition("const"));
        assert_eq!(ctx("a <= "), NameContext::Other);
        assert_eq!(ctx("when "), NameContext::Other);
    }

    #[test]
    fn an_unclosed_block_is_found_by_its_indentation() {
        let text = "policy p {\n    rule a {\n        approve {\n            x = 1\n    }\n    rule b { deny }\n}\n";
        let (open, at, due) = unclosed(text).unwrap();
        assert_eq!((open, &text[at..at + 9]), (b'{', "{\n       "));
        assert_eq!(&text[at - 8..at], "approve ");
        assert!(text[due..].starts_with("}\n    rule b"));
        // Balanced: nothing to blame, whatever the indentation.
        assert_eq!(unclosed("a {\nb }\n c { d }"), None);
        // Brackets in strings and comments do not count.
        assert_eq!(unclosed("x = \"{\" // {\ny = 1"), None);
    }
}
