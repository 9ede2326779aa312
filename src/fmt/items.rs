//! The layout of items, rules and blocks.

use super::printer::{Gaps, Printer};
use crate::source::Span;
use crate::syntax::ast::{
    Assign, ConstDef, Expr, File, Ident, Item, Outcome, PolicyItem, Rule, StrLit,
};
use crate::vocab::{RuleKind, Verdict};

/// `file`, parsed from `src`, in the canonical layout.
pub fn print(file: &File, src: &str) -> String {
    let mut p = Printer::new(src, &file.comments);
    for (i, item) in file.items.iter().enumerate() {
        let at = p.next_token();
        p.line(at, if i == 0 { Gaps::KEEP } else { Gaps::ITEM });
        p.item(item);
    }
    p.finish()
}

impl Printer<'_> {
    fn item(&mut self, item: &Item) {
        match item {
            Item::Import(i) => {
                self.word("import");
                self.space();
                self.string(&i.path);
            }
            Item::Const(c) => self.constant(c),
            Item::Pred(d) => {
                self.word("pred");
                self.space();
                self.ident(&d.name);
                self.label(d.label.as_ref());
                self.space();
                self.word("=");
                self.value(&d.cond);
            }
            Item::Rules(r) => {
                self.word("rules");
                self.space();
                self.ident(&r.name);
                self.space();
                self.block(&r.rules, |p, rule| p.rule(rule));
            }
            Item::Defaults(d) => {
                self.word("defaults");
                self.space();
                self.ident(&d.name);
                self.space();
                self.block(&d.fields, |p, a| p.assign(a));
            }
            Item::Policy(policy) => {
                self.word("policy");
                self.space();
                self.ident(&policy.name);
                self.label(policy.label.as_ref());
                self.space();
                self.block(&policy.items, |p, i| p.policy_item(i));
            }
        }
    }

    fn constant(&mut self, c: &ConstDef) {
        self.word("const");
        self.space();
        self.ident(&c.name);
        self.space();
        self.word("=");
        self.value(&c.value);
    }

    fn policy_item(&mut self, item: &PolicyItem) {
        match item {
            PolicyItem::Setting(s) => {
                self.ident(&s.key);
                self.space();
                self.word("=");
                self.value(&s.value);
            }
            PolicyItem::Use(name) => {
                self.word("use");
                self.space();
                self.ident(name);
            }
            PolicyItem::Const(c) => self.constant(c),
            PolicyItem::Defaults { fields, .. } => {
                self.word("defaults");
                self.space();
                self.block(fields, |p, a| p.assign(a));
            }
            PolicyItem::Rule(r) => self.rule(r),
        }
    }

    fn rule(&mut self, rule: &Rule) {
        self.word(match rule.kind {
            RuleKind::Rule => "rule",
            RuleKind::Reject => "reject",
            RuleKind::After => "after",
        });
        self.space();
        self.ident(&rule.name);
        self.label(rule.label.as_ref());
        self.space();
        self.word("{");
        self.indent += 4;
        let mut gaps = Gaps::OPEN;
        if let Some(when) = &rule.when {
            let at = self.next_token();
            self.line(at, gaps);
            self.word("when");
            self.space();
            self.expr(when, 0);
            gaps = Gaps::KEEP;
        }
        if let Some(outcome) = &rule.outcome {
            let at = self.next_token();
            self.line(at, gaps);
            self.outcome(outcome);
        }
        self.close();
    }

    fn outcome(&mut self, outcome: &Outcome) {
        let verdict = match outcome.verdict {
            Verdict::Approve => "approve",
            Verdict::Deny => "deny",
            Verdict::Review => "review",
        };
        self.node(outcome.verdict_span, verdict);
        let block = Span {
            start: outcome.verdict_span.end,
            ..outcome.span
        };
        if outcome.fields.is_empty() && !self.has_comment_in(block) {
            // `approve {}` says no more than `approve`.
            if self.skip("{") {
                self.skip("}");
            }
        } else {
            self.space();
            self.block(&outcome.fields, |p, a| p.assign(a));
        }
    }

    fn assign(&mut self, a: &Assign) {
        self.ident(&a.field);
        self.space();
        self.word(if a.append { "+=" } else { "=" });
        self.value(&a.value);
    }

    /// `{`, the elements one per line, `}`; `{}` when there is nothing
    /// inside, not even a comment.
    fn block<T>(&mut self, elements: &[T], mut each: impl FnMut(&mut Self, &T)) {
        self.word("{");
        if elements.is_empty() && !self.comment_before(self.next_token()) {
            self.word("}");
            return;
        }
        self.indent += 4;
        for (i, element) in elements.iter().enumerate() {
            let at = self.next_token();
            self.line(at, if i == 0 { Gaps::OPEN } else { Gaps::KEEP });
            each(self, element);
        }
        self.close();
    }

    /// Ends a block opened one level in: `}` on a line of its own.
    fn close(&mut self) {
        let at = self.next_token();
        self.close_line(at, Gaps::CLOSE);
        self.word("}");
    }

    fn ident(&mut self, name: &Ident) {
        self.node(name.span, &name.name);
    }

    fn string(&mut self, s: &StrLit) {
        let text = self.text(s.span);
        self.node(s.span, text);
    }

    fn label(&mut self, label: Option<&StrLit>) {
        if let Some(l) = label {
            self.space();
            self.string(l);
        }
    }

    /// The value after `=`: on the same line when it fits there, else on
    /// the next line one level in when it fits there (and is not a block
    /// of its own: a `match`, list or call opens on the `=` line), else
    /// broken where it starts.
    fn value(&mut self, value: &Expr) {
        let start = self.column() + 1;
        match self.flat(value) {
            Some(flat) if start + super::expr::width(&flat) <= super::MAX_WIDTH => {
                self.space();
                self.node(value.span, &flat);
            }
            Some(flat)
                if !super::expr::is_block(value)
                    && self.indent + 4 + super::expr::width(&flat) <= super::MAX_WIDTH =>
            {
                self.indent += 4;
                self.line(value.span.start as usize, Gaps::TIGHT);
                self.node(value.span, &flat);
                self.indent -= 4;
            }
            _ => {
                self.space();
                self.expr(value, 0);
            }
        }
    }
}
