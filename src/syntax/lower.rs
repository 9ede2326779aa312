//! Pest pairs → syntax tree: one `lower_*` function per grammar rule. Each
//! reads its span first; a pair of an unexpected shape (a broken grammar
//! assumption) becomes [`SyntaxError::Internal`], never a panic.

use std::iter::Peekable;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::Rule;
use super::ast::*;
use super::error::SyntaxError;
use super::tree::{Children, Node, Tree};
use crate::source::{FileId, SourceFile, Span};
use crate::vocab::{BinOp, RuleKind, UnOp, Unit, Verdict};

// Boxed: the error is large and the happy path should not pay for it.
type Result<T> = std::result::Result<T, Box<SyntaxError>>;

/// Words of the language that cannot name a rule, constant, field or value.
pub const RESERVED: [&str; 15] = [
    "and", "or", "not", "in", "is", "within", "after", "if", "then", "else", "match", "true",
    "false", "none", "when",
];

/// Where an operator goes and how tightly it binds: a higher power takes
/// its operands first. Comparisons and the tests written after an operand
/// share a level, so `a + b in [..]` tests the sum and `not a in [..]`
/// negates the test.
#[derive(Clone, Copy)]
enum Affix {
    Prefix,
    Infix,
    Postfix,
}

fn binding(r: Rule) -> Option<(Affix, u8)> {
    Some(match r {
        Rule::range => (Affix::Infix, 1),
        Rule::or => (Affix::Infix, 2),
        Rule::and => (Affix::Infix, 3),
        Rule::not => (Affix::Prefix, 4),
        Rule::eq | Rule::ne | Rule::lt | Rule::le | Rule::gt | Rule::ge => (Affix::Infix, 5),
        Rule::in_list | Rule::not_in_list | Rule::is_test | Rule::within => (Affix::Postfix, 5),
        Rule::add | Rule::sub => (Affix::Infix, 6),
        Rule::mul | Rule::div => (Affix::Infix, 7),
        Rule::neg => (Affix::Prefix, 8),
        _ => return None,
    })
}

pub struct Lowerer<'a> {
    file: FileId,
    source: &'a SourceFile,
    comments: &'a [Comment],
}

/// The `//!` comments at the top of a file, joined by newlines.
pub fn inner_doc(comments: &[Comment]) -> Option<String> {
    let lines: Vec<&str> = comments
        .iter()
        .filter(|c| c.kind == CommentKind::Inner)
        .map(|c| c.text.as_str())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Keywords and punctuation: they carry no meaning in the tree beyond
/// their parent rule, so lowering never sees them.
pub fn is_punctuation(r: Rule) -> bool {
    super::expected::is_keyword(r)
        || matches!(
            r,
            Rule::lparen
                | Rule::rparen
                | Rule::lbracket
                | Rule::rbracket
                | Rule::lbrace
                | Rule::rbrace
                | Rule::comma
                | Rule::assign
                | Rule::arrow
        )
}

impl<'a> Lowerer<'a> {
    pub fn new(file: FileId, source: &'a SourceFile, comments: &'a [Comment]) -> Self {
        Lowerer {
            file,
            source,
            comments,
        }
    }

    fn span(&self, pair: &Node<'_, '_>) -> Span {
        let (start, end) = pair.range();
        Span::new(self.file, start, self.trivia_start(start, end))
    }

    /// Where the whitespace and comments at the end of `start..end` begin.
    /// A rule that ends in a repetition (`expr`, and so `const`, `pred`,
    /// `if`, an assignment) keeps what pest skipped before the repetition
    /// stopped: the rest of the line, the next line's `///` doc, ...
    fn trivia_start(&self, start: usize, end: usize) -> usize {
        // Blanks are ASCII, so trimming bytes keeps `end` on a character
        // boundary.
        const TRIVIA: &[u8; 4] = b" \t\r\n";
        let bytes = self.source.text.as_bytes();
        // Almost every span ends in a token: no blank before `end`, and no
        // comment ending at `end` (comments end at a newline or the end of
        // the file). Only the rest need the search below.
        let ends_in_token = end
            .checked_sub(1)
            .and_then(|i| bytes.get(i))
            .is_some_and(|b| !TRIVIA.contains(b));
        if ends_in_token && bytes.get(end).is_some_and(|b| *b != b'\n') {
            return end;
        }
        let mut end = end;
        loop {
            while end > start && bytes.get(end - 1).is_some_and(|b| TRIVIA.contains(b)) {
                end -= 1;
            }
            // The comment the text now ends in, if any (comments are in order).
            let before = self
                .comments
                .partition_point(|c| (c.span.start as usize) < end);
            let comment = before
                .checked_sub(1)
                .and_then(|i| self.comments.get(i))
                .filter(|c| c.span.start as usize >= start && c.span.end as usize >= end);
            match comment {
                Some(c) => end = c.span.start as usize,
                None => return end,
            }
        }
    }

    fn internal(&self, span: Span, what: impl Into<String>) -> Box<SyntaxError> {
        Box::new(SyntaxError::Internal {
            what: what.into(),
            src: self.source.named_source(),
            span: span.into(),
        })
    }

    /// The next child, which must be of `rule`.
    fn expect<'t, 'i>(
        &self,
        it: &mut impl Iterator<Item = Node<'t, 'i>>,
        want: Rule,
        parent: Span,
    ) -> Result<Node<'t, 'i>> {
        match it.next() {
            Some(p) if p.as_rule() == want => Ok(p),
            Some(p) => Err(self.internal(
                self.span(&p),
                format!("{:?} instead of {want:?}", p.as_rule()),
            )),
            None => Err(self.internal(parent, format!("missing {want:?}"))),
        }
    }

    /// The `///` lines directly above `start`, with only blank space between.
    fn doc_before(&self, start: u32) -> Option<String> {
        let text: &str = &self.source.text;
        let mut lines = Vec::new();
        let mut cursor = start as usize;
        // Comments are in order and do not overlap, so those ending before
        // `start` are a prefix: found by binary search, not by a scan from
        // the end (which made a file's lowering quadratic in its rules).
        let before = self.comments.partition_point(|c| c.span.end <= start);
        for c in self.comments.get(..before).unwrap_or_default().iter().rev() {
            let between = text.get(c.span.end as usize..cursor).unwrap_or("x");
            if c.kind != CommentKind::Doc || !between.trim().is_empty() {
                break;
            }
            lines.push(c.text.as_str());
            cursor = c.span.start as usize;
        }
        lines.reverse();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    pub fn file(&self, tree: &Tree<'_>) -> Result<Vec<Item>> {
        let Some(file) = tree.top().next() else {
            return Err(self.internal(Span::new(self.file, 0, 0), "no file"));
        };
        file.children()
            .filter(|p| p.as_rule() != Rule::EOI)
            .map(|p| self.lower_item(p))
            .collect()
    }

    fn lower_item(&self, pair: Node<'_, '_>) -> Result<Item> {
        let span = self.span(&pair);
        let doc = self.doc_before(span.start);
        let kind = pair.as_rule();
        let mut it = pair.children();
        Ok(match kind {
            Rule::import => Item::Import(Import {
                path: self.lower_string(self.expect(&mut it, Rule::string, span)?)?,
                span,
            }),
            Rule::const_def => Item::Const(ConstDef {
                doc,
                name: self.lower_ident(self.expect(&mut it, Rule::ident, span)?)?,
                value: self.lower_expr(self.expect(&mut it, Rule::expr, span)?)?,
                span,
            }),
            Rule::pred_def => {
                let name = self.lower_ident(self.expect(&mut it, Rule::ident, span)?)?;
                let (label, next) = self.optional_label(&mut it, span)?;
                Item::Pred(PredDef {
                    doc,
                    name,
                    label,
                    cond: self.lower_expr(next)?,
                    span,
                })
            }
            Rule::rules_def => Item::Rules(RulesDef {
                doc,
                name: self.lower_ident(self.expect(&mut it, Rule::ident, span)?)?,
                rules: it.map(|p| self.lower_rule(p)).collect::<Result<_>>()?,
                span,
            }),
            Rule::defaults_def => Item::Defaults(DefaultsDef {
                doc,
                name: self.lower_ident(self.expect(&mut it, Rule::ident, span)?)?,
                fields: self.lower_outcome_block(self.expect(
                    &mut it,
                    Rule::outcome_block,
                    span,
                )?)?,
                span,
            }),
            Rule::policy => {
                let name = self.lower_ident(self.expect(&mut it, Rule::ident, span)?)?;
                let mut label = None;
                let mut items = Vec::new();
                for p in it {
                    if p.as_rule() == Rule::label {
                        label = Some(self.lower_label(p, span)?);
                    } else {
                        items.push(self.lower_policy_item(p)?);
                    }
                }
                Item::Policy(Policy {
                    doc,
                    name,
                    label,
                    items,
                    span,
                })
            }
            other => return Err(self.internal(span, format!("{other:?} as an item"))),
        })
    }

    /// An optional `label`, then the pair after it.
    fn optional_label<'t, 'i>(
        &self,
        it: &mut impl Iterator<Item = Node<'t, 'i>>,
        span: Span,
    ) -> Result<(Option<StrLit>, Node<'t, 'i>)> {
        let Some(next) = it.next() else {
            return Err(self.internal(span, "missing body"));
        };
        if next.as_rule() != Rule::label {
            return Ok((None, next));
        }
        let label = self.lower_label(next, span)?;
        match it.next() {
            Some(after) => Ok((Some(label), after)),
            None => Err(self.internal(span, "missing body after label")),
        }
    }

    fn lower_label(&self, pair: Node<'_, '_>, span: Span) -> Result<StrLit> {
        let s = self.expect(&mut pair.children(), Rule::string, span)?;
        self.lower_string(s)
    }

    fn lower_policy_item(&self, pair: Node<'_, '_>) -> Result<PolicyItem> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::rule_def | Rule::reject_def | Rule::after_def => {
                Ok(PolicyItem::Rule(self.lower_rule(pair)?))
            }
            Rule::use_item => {
                let ident = self.expect(&mut pair.children(), Rule::ident, span)?;
                Ok(PolicyItem::Use(self.lower_ident(ident)?))
            }
            Rule::inline_defaults => {
                let block = self.expect(&mut pair.children(), Rule::outcome_block, span)?;
                Ok(PolicyItem::Defaults {
                    fields: self.lower_outcome_block(block)?,
                    span,
                })
            }
            Rule::const_def => match self.lower_item(pair)? {
                Item::Const(c) => Ok(PolicyItem::Const(c)),
                _ => Err(self.internal(span, "constant")),
            },
            Rule::setting => {
                let mut it = pair.children();
                Ok(PolicyItem::Setting(Setting {
                    key: self.lower_ident(self.expect(&mut it, Rule::ident, span)?)?,
                    value: self.lower_expr(self.expect(&mut it, Rule::expr, span)?)?,
                    span,
                }))
            }
            other => Err(self.internal(span, format!("{other:?} in a policy"))),
        }
    }

    fn lower_rule(&self, pair: Node<'_, '_>) -> Result<Rule_> {
        let span = self.span(&pair);
        let doc = self.doc_before(span.start);
        let kind = match pair.as_rule() {
            Rule::rule_def => RuleKind::Rule,
            Rule::reject_def => RuleKind::Reject,
            Rule::after_def => RuleKind::After,
            other => return Err(self.internal(span, format!("{other:?} as a rule"))),
        };
        let mut it = pair.children();
        let name = self.lower_ident(self.expect(&mut it, Rule::ident, span)?)?;
        let mut label = None;
        let mut when = None;
        let mut outcome = None;
        for p in it {
            match p.as_rule() {
                Rule::label => label = Some(self.lower_label(p, span)?),
                Rule::when => {
                    let e = self.expect(&mut p.children(), Rule::expr, span)?;
                    when = Some(self.lower_expr(e)?);
                }
                Rule::outcome => outcome = Some(self.lower_outcome(p)?),
                other => return Err(self.internal(span, format!("{other:?} in a rule"))),
            }
        }
        Ok(Rule_ {
            doc,
            kind,
            name,
            label,
            when,
            outcome,
            span,
        })
    }

    fn lower_outcome(&self, pair: Node<'_, '_>) -> Result<Outcome> {
        let span = self.span(&pair);
        let mut it = pair.children();
        let v = self.expect(&mut it, Rule::verdict, span)?;
        let verdict_span = self.span(&v);
        let verdict = match v.as_str() {
            "approve" => Verdict::Approve,
            "deny" => Verdict::Deny,
            "review" => Verdict::Review,
            other => return Err(self.internal(verdict_span, format!("verdict {other}"))),
        };
        let fields = match it.next() {
            Some(block) => self.lower_outcome_block(block)?,
            None => Vec::new(),
        };
        Ok(Outcome {
            verdict,
            verdict_span,
            fields,
            span,
        })
    }

    fn lower_outcome_block(&self, pair: Node<'_, '_>) -> Result<Vec<Assign>> {
        pair.children().map(|p| self.lower_assignment(p)).collect()
    }

    fn lower_assignment(&self, pair: Node<'_, '_>) -> Result<Assign> {
        let span = self.span(&pair);
        // `assign` is punctuation and filtered out; `append` is kept.
        let mut append = false;
        let mut field = None;
        let mut value = None;
        for p in pair.children() {
            match p.as_rule() {
                Rule::ident => field = Some(self.lower_ident(p)?),
                Rule::append => append = true,
                Rule::expr => value = Some(self.lower_expr(p)?),
                other => return Err(self.internal(span, format!("{other:?} in an assignment"))),
            }
        }
        match (field, value) {
            (Some(field), Some(value)) => Ok(Assign {
                field,
                append,
                value,
                span,
            }),
            _ => Err(self.internal(span, "incomplete assignment")),
        }
    }

    fn lower_ident(&self, pair: Node<'_, '_>) -> Result<Ident> {
        let span = self.span(&pair);
        self.not_reserved(pair.as_str(), span)?;
        Ok(Ident {
            name: pair.as_str().to_string(),
            span,
        })
    }

    /// Reserved words may not name anything (see [`RESERVED`]).
    fn not_reserved(&self, name: &str, span: Span) -> Result<()> {
        match RESERVED.iter().find(|r| **r == name) {
            None => Ok(()),
            Some(word) => Err(Box::new(SyntaxError::Reserved {
                word,
                src: self.source.named_source(),
                span: span.into(),
            })),
        }
    }

    fn lower_string(&self, pair: Node<'_, '_>) -> Result<StrLit> {
        let span = self.span(&pair);
        let raw = pair.as_str();
        let inner = raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .ok_or_else(|| self.internal(span, "string without quotes"))?;
        let value = unescape(inner).map_err(|(offset, len)| {
            let at = span.start as usize + 1 + offset;
            Box::new(SyntaxError::BadEscape {
                text: inner.get(offset..offset + len).unwrap_or("\\").to_string(),
                src: self.source.named_source(),
                span: (at, len).into(),
            })
        })?;
        Ok(StrLit { value, span })
    }

    /// A string operand: plain text, or a template when it holds braces.
    /// `{name}` puts a value in (a constant, a request field); `{{` and
    /// `}}` stand for the braces themselves.
    fn lower_template(&self, pair: Node<'_, '_>) -> Result<ExprKind> {
        let lit = self.lower_string(pair)?;
        let raw = pair.as_str();
        let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
        if !inner.contains(['{', '}']) || !has_template_brace(inner) {
            return Ok(ExprKind::Lit(Lit::Str(lit.value)));
        }
        // Offsets in `inner` are offsets in the file past the opening quote.
        let base = lit.span.start as usize + 1;
        let bad = |at: usize, len: usize, text: &str, help: &'static str| {
            Box::new(SyntaxError::BadTemplate {
                text: text.to_string(),
                help,
                src: self.source.named_source(),
                span: (base + at, len).into(),
            })
        };
        let mut parts = Vec::new();
        let mut text_start = 0;
        let mut text = String::new();
        let bytes = inner.as_bytes();
        let mut i = 0;
        let flush = |text: &mut String, from: usize, to: usize| -> Result<()> {
            let piece = inner.get(from..to).unwrap_or_default();
            text.push_str(&unescape(piece).map_err(|(offset, len)| {
                Box::new(SyntaxError::BadEscape {
                    text: piece.get(offset..offset + len).unwrap_or("\\").to_string(),
                    src: self.source.named_source(),
                    span: (base + from + offset, len).into(),
                })
            })?);
            Ok(())
        };
        while let Some(&b) = bytes.get(i) {
            match b {
                // An escape is copied whole (`\u{4E2D}` has braces of its own).
                b'\\' => i += escape_len(inner, i),
                b'{' | b'}' if bytes.get(i + 1) == Some(&b) => {
                    flush(&mut text, text_start, i)?;
                    text.push(char::from(b));
                    i += 2;
                    text_start = i;
                }
                b'{' => {
                    flush(&mut text, text_start, i)?;
                    let Some(close) = inner.get(i..).and_then(|r| r.find('}')) else {
                        return Err(bad(
                            i,
                            1,
                            "{",
                            "close the value with `}`, or write `{{` for a brace in the text",
                        ));
                    };
                    let name = inner.get(i + 1..i + close).unwrap_or_default();
                    if !is_path(name) {
                        let written = inner.get(i..=i + close).unwrap_or_default();
                        return Err(bad(
                            i,
                            close + 1,
                            written,
                            "write a name or a request field between the braces, e.g. `{no_reason_window}` or `{item.paid_amount}`",
                        ));
                    }
                    if !text.is_empty() {
                        parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                    }
                    let at = Span::new(self.file, base + i + 1, base + i + close);
                    parts.push(TemplatePart::Value(Expr {
                        kind: ExprKind::Path(name.to_string()),
                        span: at,
                    }));
                    i += close + 1;
                    text_start = i;
                }
                b'}' => {
                    return Err(bad(i, 1, "}", "write `}}` for a brace in the text"));
                }
                _ => i += 1,
            }
        }
        flush(&mut text, text_start, inner.len())?;
        if !text.is_empty() {
            parts.push(TemplatePart::Text(text));
        }
        Ok(ExprKind::Template(parts))
    }

    pub fn lower_expr(&self, pair: Node<'_, '_>) -> Result<Expr> {
        let mut parts = pair.children().peekable();
        let e = self.climb(&mut parts, 0, pair)?;
        // Every operator binds tighter than the floor of 0, so nothing the
        // grammar produces is left over.
        match parts.next() {
            None => Ok(e),
            Some(extra) => Err(self.internal(
                self.span(&extra),
                format!("{:?} left over in an expression", extra.as_rule()),
            )),
        }
    }

    /// Precedence climbing over an expression's operands and operators,
    /// taking operators that bind tighter than `floor`.
    fn climb(
        &self,
        parts: &mut Peekable<Children<'_, '_>>,
        floor: u8,
        whole: Node<'_, '_>,
    ) -> Result<Expr> {
        let Some(first) = parts.next() else {
            return Err(self.internal(self.span(&whole), "an operand missing"));
        };
        let mut lhs = match binding(first.as_rule()) {
            Some((Affix::Prefix, power)) => {
                let rhs = self.climb(parts, power - 1, whole)?;
                Expr {
                    span: self.span(&first).to(rhs.span),
                    kind: ExprKind::Unary(
                        if first.as_rule() == Rule::not {
                            UnOp::Not
                        } else {
                            UnOp::Neg
                        },
                        Box::new(rhs),
                    ),
                }
            }
            _ => self.lower_primary(first)?,
        };
        while let Some(op) = parts.peek().copied() {
            let (affix, power) = match binding(op.as_rule()) {
                Some((affix @ (Affix::Infix | Affix::Postfix), power)) if power > floor => {
                    (affix, power)
                }
                _ => break,
            };
            parts.next();
            lhs = match affix {
                Affix::Postfix => self.lower_postfix(lhs, op)?,
                _ => {
                    let rhs = self.climb(parts, power, whole)?;
                    self.lower_infix(lhs, op, rhs)?
                }
            };
        }
        Ok(lhs)
    }

    fn lower_infix(&self, lhs: Expr, op: Node<'_, '_>, rhs: Expr) -> Result<Expr> {
        let span = lhs.span.to(rhs.span);
        let op = match op.as_rule() {
            Rule::or => BinOp::Or,
            Rule::and => BinOp::And,
            Rule::eq => BinOp::Eq,
            Rule::ne => BinOp::Ne,
            Rule::lt => BinOp::Lt,
            Rule::le => BinOp::Le,
            Rule::gt => BinOp::Gt,
            Rule::ge => BinOp::Ge,
            Rule::add => BinOp::Add,
            Rule::sub => BinOp::Sub,
            Rule::mul => BinOp::Mul,
            Rule::div => BinOp::Div,
            Rule::range => BinOp::Range,
            other => return Err(self.internal(span, format!("{other:?} as an operator"))),
        };
        // `a < b < c` reads as a range test but would compare a condition
        // with `c`: comparisons do not chain.
        if let ExprKind::Binary(first, ..) = &lhs.kind
            && first.is_comparison()
            && op.is_comparison()
        {
            return Err(Box::new(SyntaxError::ChainedComparison {
                first: first.symbol(),
                second: op.symbol(),
                src: self.source.named_source(),
                span: span.into(),
            }));
        }
        Ok(Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        })
    }

    fn lower_postfix(&self, lhs: Expr, op: Node<'_, '_>) -> Result<Expr> {
        let op_span = self.span(&op);
        let span = lhs.span.to(op_span);
        let op_rule = op.as_rule();
        let mut it = op.children();
        let kind = match op_rule {
            Rule::in_list | Rule::not_in_list => {
                let list = it
                    .next()
                    .ok_or_else(|| self.internal(op_span, "`in` without a list"))?;
                ExprKind::In {
                    value: Box::new(lhs),
                    list: Box::new(self.lower_primary(list)?),
                    negated: op_rule == Rule::not_in_list,
                }
            }
            Rule::is_test => {
                let p = self.expect(&mut it, Rule::presence, op_span)?;
                ExprKind::Is {
                    value: Box::new(lhs),
                    present: p.as_str() == "present",
                }
            }
            Rule::within => {
                let window = it
                    .next()
                    .ok_or_else(|| self.internal(op_span, "`within` without a window"))?;
                let anchor = it
                    .next()
                    .ok_or_else(|| self.internal(op_span, "`within` without `after`"))?;
                ExprKind::Within {
                    value: Box::new(lhs),
                    window: Box::new(self.lower_primary(window)?),
                    anchor: Box::new(self.lower_primary(anchor)?),
                }
            }
            other => return Err(self.internal(op_span, format!("{other:?} as a postfix"))),
        };
        Ok(Expr { kind, span })
    }

    fn lower_primary(&self, pair: Node<'_, '_>) -> Result<Expr> {
        let span = self.span(&pair);
        let text = pair.as_str();
        let kind = match pair.as_rule() {
            Rule::paren => {
                let inner = self.expect(&mut pair.children(), Rule::expr, span)?;
                ExprKind::Paren(Box::new(self.lower_expr(inner)?))
            }
            Rule::if_expr => {
                let mut it = pair.children();
                let cond = self.lower_expr(self.expect(&mut it, Rule::expr, span)?)?;
                let then = self.lower_expr(self.expect(&mut it, Rule::expr, span)?)?;
                let els = self.lower_expr(self.expect(&mut it, Rule::expr, span)?)?;
                ExprKind::If {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    els: Box::new(els),
                }
            }
            Rule::match_expr => {
                let mut it = pair.children();
                let scrutinee = self.lower_expr(self.expect(&mut it, Rule::expr, span)?)?;
                let arms = it.map(|arm| self.lower_arm(arm)).collect::<Result<_>>()?;
                ExprKind::Match {
                    scrutinee: Box::new(scrutinee),
                    arms,
                }
            }
            Rule::reference => {
                let mut it = pair.children();
                let path = self.expect(&mut it, Rule::path, span)?;
                let path_span = self.span(&path);
                let name = path.as_str();
                let args = it.next();
                // The grammar reads the literal words as names (see `primary`).
                let literal = match (name, &args) {
                    ("true", None) => Some(Lit::Bool(true)),
                    ("false", None) => Some(Lit::Bool(false)),
                    ("none", None) => Some(Lit::None),
                    _ => None,
                };
                if let Some(lit) = literal {
                    return Ok(Expr {
                        kind: ExprKind::Lit(lit),
                        span,
                    });
                }
                for segment in name.split('.') {
                    self.not_reserved(segment, path_span)?;
                }
                match args {
                    None => ExprKind::Path(name.to_string()),
                    Some(args) => ExprKind::Call {
                        func: Box::new(Ident {
                            name: name.to_string(),
                            span: path_span,
                        }),
                        args: args
                            .children()
                            .map(|a| self.lower_expr(a))
                            .collect::<Result<_>>()?,
                    },
                }
            }
            Rule::list => ExprKind::List(
                pair.children()
                    .map(|e| self.lower_expr(e))
                    .collect::<Result<_>>()?,
            ),
            Rule::date => ExprKind::Lit(Lit::Date(jiff::civil::Date::from_str(text).map_err(
                |_| {
                    self.bad_literal(
                        span,
                        "date",
                        text,
                        "write a real calendar date as `YYYY-MM-DD`, e.g. `2025-10-01`",
                    )
                },
            )?)),
            Rule::number => ExprKind::Lit(self.lower_number(text, span)?),
            Rule::money => {
                let mut it = pair.children();
                let amount = self.expect(&mut it, Rule::number_part, span)?;
                let currency = self.expect(&mut it, Rule::currency, span)?;
                ExprKind::Lit(Lit::Money {
                    amount: self.decimal(amount.as_str(), span)?,
                    currency: currency.as_str().to_string(),
                })
            }
            Rule::duration => {
                let mut it = pair.children();
                let count = self.expect(&mut it, Rule::number_part, span)?;
                let unit = self.expect(&mut it, Rule::unit, span)?;
                let count = count.as_str().parse::<u32>().map_err(|_| {
                    self.bad_literal(
                        span,
                        "duration",
                        text,
                        "a duration counts whole units, e.g. `7 days`, up to 4294967295",
                    )
                })?;
                let unit = unit_of(unit.as_str())
                    .ok_or_else(|| self.internal(span, format!("`{}` as a unit", unit.as_str())))?;
                ExprKind::Lit(Lit::Duration { count, unit })
            }
            Rule::string => self.lower_template(pair)?,
            other => return Err(self.internal(span, format!("{other:?} as an operand"))),
        };
        Ok(Expr { kind, span })
    }

    fn lower_arm(&self, pair: Node<'_, '_>) -> Result<MatchArm> {
        let span = self.span(&pair);
        let mut it = pair.children();
        let pattern = self.expect(&mut it, Rule::pattern, span)?;
        let mut patterns: Vec<Ident> = pattern
            .children()
            .map(|p| self.lower_ident(p))
            .collect::<Result<Vec<_>>>()?;
        // `_` alone is the wildcard (no names); beside names it would be
        // read as neither, so it is refused rather than dropped.
        if let [only] = patterns.as_slice()
            && only.name == "_"
        {
            patterns.clear();
        } else if let Some(w) = patterns.iter().find(|i| i.name == "_") {
            return Err(Box::new(SyntaxError::Unexpected {
                expected: "a value".to_owned(),
                found: "`_`".to_owned(),
                help: "`_` matches every value: write it as an arm of its own, `_ => …`".to_owned(),
                src: self.source.named_source(),
                span: w.span.into(),
            }));
        }
        let value = self.lower_expr(self.expect(&mut it, Rule::expr, span)?)?;
        Ok(MatchArm {
            patterns,
            value,
            span,
        })
    }

    fn lower_number(&self, text: &str, span: Span) -> Result<Lit> {
        if text.contains('.') {
            return Ok(Lit::Decimal(self.decimal(text, span)?));
        }
        text.parse::<i64>().map(Lit::Int).map_err(|_| {
            self.bad_literal(
                span,
                "number",
                text,
                "whole numbers go up to 9223372036854775807",
            )
        })
    }

    fn decimal(&self, text: &str, span: Span) -> Result<Decimal> {
        Decimal::from_str_exact(text).map_err(|_| {
            self.bad_literal(
                span,
                "number",
                text,
                "decimals have at most 28 significant digits",
            )
        })
    }

    fn bad_literal(
        &self,
        span: Span,
        what: &'static str,
        text: &str,
        help: &'static str,
    ) -> Box<SyntaxError> {
        Box::new(SyntaxError::BadLiteral {
            what,
            text: text.to_string(),
            help,
            src: self.source.named_source(),
            span: span.into(),
        })
    }
}

/// Avoids a clash with pest's generated `Rule` enum.
type Rule_ = super::ast::Rule;

/// Whether a string holds a brace that is not part of a `\\u{..}` escape.
fn has_template_brace(inner: &str) -> bool {
    let bytes = inner.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += escape_len(inner, i),
            b'{' | b'}' => return true,
            _ => i += 1,
        }
    }
    false
}

/// The length of the escape starting at `i` (a backslash): `\\u{..}` whole.
fn escape_len(s: &str, i: usize) -> usize {
    let rest = s.get(i..).unwrap_or_default();
    if rest.starts_with("\\u{")
        && let Some(close) = rest.find('}')
    {
        return close + 1;
    }
    // The backslash and the character after it.
    1 + rest.chars().nth(1).map_or(0, char::len_utf8)
}

/// A name or a dotted field path: `window`, `item.paid_amount`.
fn is_path(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// Resolves escapes; on failure, the byte offset and length of the bad escape.
fn unescape(s: &str) -> std::result::Result<String, (usize, usize)> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'u')) => {
                let rest = s.get(i + 2..).unwrap_or("");
                let close = rest.find('}').filter(|_| rest.starts_with('{'));
                let code = close
                    .and_then(|end| rest.get(1..end))
                    // Hex digits only: `from_str_radix` would take `+41`.
                    .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32);
                match (code, close) {
                    (Some(ch), Some(end)) => {
                        out.push(ch);
                        // Skip `{hex}`: `end` is the index of `}` in `rest`.
                        for _ in 0..=end {
                            chars.next();
                        }
                    }
                    _ => return Err((i, 2)),
                }
            }
            Some((_, other)) => return Err((i, 1 + other.len_utf8())),
            None => return Err((i, 1)),
        }
    }
    Ok(out)
}

/// The unit a duration's words name; `None` for words the grammar's `unit`
/// rule does not admit (reaching lowering with one is a bug, not a guess
/// at years).
pub(super) fn unit_of(words: &str) -> Option<Unit> {
    let mut words = words.split_whitespace();
    match (words.next()?, words.next()) {
        ("working", Some("day" | "days")) => Some(Unit::WorkingDays),
        ("day" | "days", None) => Some(Unit::Days),
        ("week" | "weeks", None) => Some(Unit::Weeks),
        ("month" | "months", None) => Some(Unit::Months),
        ("year" | "years", None) => Some(Unit::Years),
        _ => None,
    }
}
