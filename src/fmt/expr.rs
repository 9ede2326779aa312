//! The layout of expressions: on one line when it fits and holds no
//! comment, else broken at its outermost construct, its parts laid out the
//! same way in turn.

use unicode_width::UnicodeWidthStr as _;

use super::MAX_WIDTH;
use super::printer::{Gaps, Printer};
use crate::syntax::ast::{Expr, ExprKind, Ident, Lit, MatchArm};
use crate::vocab::{BinOp, UnOp};

/// The width of `s` on a terminal (a Chinese character takes two columns).
pub fn width(s: &str) -> usize {
    s.width()
}

/// Whether `e` opens a block of its own when it breaks (so it starts on
/// the line of the `=` before it).
pub fn is_block(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Match { .. } | ExprKind::List(_) | ExprKind::Call { .. }
    )
}

impl Printer<'_> {
    /// The text of a literal, from the source: escapes stay as written,
    /// and a literal form the tree adds is printed by adding it here.
    /// Blanks inside money and durations (`7   days`) become one space;
    /// strings are kept byte for byte.
    fn literal(&self, e: &Expr) -> Option<String> {
        let text = self.text(e.span);
        match &e.kind {
            // Strings, templates too, are printed exactly as written.
            ExprKind::Lit(Lit::Str(_)) | ExprKind::Template(_) => Some(text.to_owned()),
            ExprKind::Lit(_) => Some(text.split_whitespace().collect::<Vec<_>>().join(" ")),
            _ => None,
        }
    }

    /// `e` on one line, or `None` when a comment inside it needs a line
    /// break.
    pub fn flat(&self, e: &Expr) -> Option<String> {
        if self.has_comment_in(e.span) {
            return None;
        }
        let mut out = String::new();
        self.flat_into(e, &mut out);
        Some(out)
    }

    fn flat_into(&self, e: &Expr, out: &mut String) {
        if let Some(text) = self.literal(e) {
            out.push_str(&text);
            return;
        }
        let list = |p: &Self, items: &[Expr], out: &mut String| {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                p.flat_into(item, out);
            }
        };
        match &e.kind {
            ExprKind::Lit(_) | ExprKind::Template(_) => {}
            ExprKind::Path(name) => out.push_str(name),
            ExprKind::Unary(op, x) => {
                out.push_str(match op {
                    UnOp::Not => "not ",
                    UnOp::Neg => "-",
                });
                self.flat_into(x, out);
            }
            ExprKind::Binary(op, l, r) => {
                self.flat_into(l, out);
                out.push(' ');
                out.push_str(op.symbol());
                out.push(' ');
                self.flat_into(r, out);
            }
            ExprKind::In {
                value,
                list,
                negated,
            } => {
                self.flat_into(value, out);
                out.push_str(if *negated { " not in " } else { " in " });
                self.flat_into(list, out);
            }
            ExprKind::Is { value, present } => {
                self.flat_into(value, out);
                out.push_str(if *present {
                    " is present"
                } else {
                    " is absent"
                });
            }
            ExprKind::Within {
                value,
                window,
                anchor,
            } => {
                self.flat_into(value, out);
                out.push_str(" within ");
                self.flat_into(window, out);
                out.push_str(" after ");
                self.flat_into(anchor, out);
            }
            ExprKind::If { cond, then, els } => {
                out.push_str("if ");
                self.flat_into(cond, out);
                out.push_str(" then ");
                self.flat_into(then, out);
                out.push_str(" else ");
                self.flat_into(els, out);
            }
            ExprKind::Match { scrutinee, arms } => {
                out.push_str("match ");
                self.flat_into(scrutinee, out);
                out.push_str(" { ");
                for (i, arm) in arms.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&patterns(&arm.patterns));
                    out.push_str(" => ");
                    self.flat_into(&arm.value, out);
                }
                out.push_str(" }");
            }
            ExprKind::Call { func, args } => {
                out.push_str(&func.name);
                out.push('(');
                list(self, args, out);
                out.push(')');
            }
            ExprKind::List(items) => {
                out.push('[');
                list(self, items, out);
                out.push(']');
            }
            ExprKind::Paren(x) => {
                out.push('(');
                self.flat_into(x, out);
                out.push(')');
            }
        }
    }

    /// Prints `e` where the output stands, with `tail` columns of what
    /// follows it on its last line (a `,`, a ` {`).
    pub fn expr(&mut self, e: &Expr, tail: usize) {
        if let Some(flat) = self.flat(e)
            && self.column() + width(&flat) + tail <= MAX_WIDTH
        {
            self.node(e.span, &flat);
            return;
        }
        if let Some(text) = self.literal(e) {
            self.node(e.span, &text);
            return;
        }
        match &e.kind {
            ExprKind::Lit(_) | ExprKind::Template(_) => {}
            ExprKind::Path(name) => self.node(e.span, name),
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), ..) => self.chain(e, *op, tail),
            ExprKind::Binary(op, l, r) => {
                self.expr(l, 0);
                self.space();
                self.word(op.symbol());
                self.space();
                self.expr(r, tail);
            }
            ExprKind::Unary(UnOp::Not, x) => {
                self.word("not");
                self.space();
                self.expr(x, tail);
            }
            ExprKind::Unary(UnOp::Neg, x) => {
                self.word("-");
                self.expr(x, tail);
            }
            ExprKind::In {
                value,
                list,
                negated,
            } => {
                self.expr(value, 0);
                self.space();
                if *negated {
                    self.word("not");
                    self.space();
                }
                self.word("in");
                self.space();
                self.expr(list, tail);
            }
            ExprKind::Is { value, present } => {
                self.expr(value, 0);
                self.space();
                self.word("is");
                self.space();
                self.word(if *present { "present" } else { "absent" });
            }
            ExprKind::Within {
                value,
                window,
                anchor,
            } => {
                self.expr(value, 0);
                self.space();
                self.word("within");
                self.space();
                self.expr(window, 0);
                self.space();
                self.word("after");
                self.space();
                self.expr(anchor, tail);
            }
            ExprKind::If { cond, then, els } => {
                self.indent += 4;
                self.word("if");
                self.space();
                self.expr(cond, 0);
                for (word, part, tail) in [("then", then, 0), ("else", els, tail)] {
                    let at = self.next_token();
                    self.line(at, Gaps::TIGHT);
                    self.word(word);
                    self.space();
                    self.expr(part, tail);
                }
                self.indent -= 4;
            }
            ExprKind::Match { scrutinee, arms } => {
                self.word("match");
                self.space();
                self.expr(scrutinee, 2);
                self.space();
                self.word("{");
                self.indent += 4;
                for arm in arms {
                    let at = self.next_token();
                    self.line(at, Gaps::TIGHT);
                    self.arm(arm);
                }
                self.close_tight("}");
            }
            ExprKind::Call { func, args } => {
                self.node(func.span, &func.name);
                self.items("(", args, ")");
            }
            ExprKind::List(items) => self.items("[", items, "]"),
            ExprKind::Paren(x) => {
                self.word("(");
                self.expr(x, tail + 1);
                self.word(")");
            }
        }
    }

    /// An `and` or `or` chain, broken before each operator: the operands
    /// after the first on lines one level in.
    fn chain(&mut self, e: &Expr, op: BinOp, tail: usize) {
        let mut operands = Vec::new();
        let mut at = e;
        while let ExprKind::Binary(o, l, r) = &at.kind
            && *o == op
        {
            operands.push(r.as_ref());
            at = l;
        }
        operands.push(at);
        operands.reverse();
        self.indent += 4;
        let last = operands.len().saturating_sub(1);
        for (i, operand) in operands.into_iter().enumerate() {
            let tail = if i == last { tail } else { 0 };
            if i > 0 {
                let at = self.next_token();
                self.line(at, Gaps::TIGHT);
                self.word(op.symbol());
                self.space();
            }
            self.expr(operand, tail);
        }
        self.indent -= 4;
    }

    fn arm(&mut self, arm: &MatchArm) {
        if arm.patterns.is_empty() {
            self.word("_");
        }
        for (i, pattern) in arm.patterns.iter().enumerate() {
            if i > 0 {
                self.space();
                self.word("|");
                self.space();
            }
            self.node(pattern.span, &pattern.name);
        }
        self.space();
        self.word("=>");
        self.space();
        self.expr(&arm.value, 1);
        self.word(",");
    }

    /// Arguments or list items, one per line, each with a trailing comma.
    fn items(&mut self, open: &str, items: &[Expr], close: &str) {
        self.word(open);
        self.indent += 4;
        for item in items {
            let at = self.next_token();
            self.line(at, Gaps::TIGHT);
            self.expr(item, 1);
            self.word(",");
        }
        self.close_tight(close);
    }

    /// The closing bracket of a broken expression, on a line of its own.
    fn close_tight(&mut self, close: &str) {
        let at = self.next_token();
        self.close_line(at, Gaps::TIGHT);
        self.word(close);
    }
}

fn patterns(patterns: &[Ident]) -> String {
    if patterns.is_empty() {
        return "_".to_owned();
    }
    patterns
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}
