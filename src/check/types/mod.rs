//! Name resolution and typing of expressions. Types flow both ways: an
//! operand's type tells how a bare name next to it reads (`reason ==
//! performance_fault` reads `performance_fault` as a value of `reason`).

mod calls;
mod names;
mod operators;

use std::collections::HashSet;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::diags::Diags;
use super::error::{CheckError, DefinedHere, did_you_mean};
use super::hir::*;
use super::scope::{self, Def, DefKey, Scope};
use crate::schema::{EnumType, FieldType, Schema};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::ast::{self, ExprKind, Lit, TemplatePart};
use crate::vocab::{BinOp, UnOp, Unit};

/// Everything an expression can see.
pub struct Ctx<'a> {
    pub schema: &'a Schema,
    pub sources: &'a SourceMap,
    pub scope: &'a Scope<'a>,
    /// Constants declared in the policy being checked; they shadow global ones.
    pub locals: &'a FxHashMap<String, &'a ast::ConstDef>,
    pub currency: Arc<str>,
    /// `Some` in `after` rules: the enum of the policy's rule names.
    pub after: Option<Arc<EnumType>>,
    pub verdicts: Arc<EnumType>,
    pub diags: &'a mut Diags,
    /// The constants and predicates this context expanded, for the unused
    /// lint.
    pub used: HashSet<DefKey>,
    /// Names being expanded, to catch definitions that refer to themselves.
    pub expanding: Vec<String>,
    /// How deep the typed tree being built is (see [`MAX_TYPED_DEPTH`]).
    pub depth: usize,
    /// How many parts the outermost expression has so far ([`MAX_TYPED_NODES`]).
    pub nodes: usize,
    /// The outermost expression being typed.
    pub root: Span,
    /// Where the outermost expression cut for being too deep or too large
    /// starts (file and offset: `Span` equality ignores positions), so it
    /// is reported once, not for each of its branches.
    pub cut_root: Option<(FileId, u32)>,
}

/// How deep a typed expression may be once constants and predicates are
/// expanded where they are used. Every later stage recurses over this tree,
/// so the bound is what keeps them within any thread's stack.
pub const MAX_TYPED_DEPTH: usize = 128;

/// How many parts one expression may have once expanded. A predicate used
/// twice in the one it defines doubles with every level; without a bound a
/// few lines would take the checker (and the evaluator) forever.
pub const MAX_TYPED_NODES: usize = 10_000;

impl<'a> Ctx<'a> {
    /// A context for the rules of one policy, outside any `after` rule.
    pub fn new(
        schema: &'a Schema,
        sources: &'a SourceMap,
        scope: &'a Scope<'a>,
        locals: &'a FxHashMap<String, &'a ast::ConstDef>,
        currency: Arc<str>,
        verdicts: Arc<EnumType>,
        diags: &'a mut Diags,
    ) -> Ctx<'a> {
        Ctx {
            schema,
            sources,
            scope,
            locals,
            currency,
            after: None,
            verdicts,
            diags,
            used: HashSet::new(),
            expanding: Vec::new(),
            depth: 0,
            nodes: 0,
            root: Span::default(),
            cut_root: None,
        }
    }

    /// A fresh context over the same policy, collecting into `diags`: one
    /// per thread when rules are checked in parallel.
    pub fn fork<'b>(&self, diags: &'b mut Diags) -> Ctx<'b>
    where
        'a: 'b,
    {
        let mut ctx = Ctx::new(
            self.schema,
            self.sources,
            self.scope,
            self.locals,
            Arc::clone(&self.currency),
            Arc::clone(&self.verdicts),
            diags,
        );
        ctx.after = self.after.clone();
        ctx
    }

    fn src(&self, span: Span) -> crate::source::Source {
        self.sources.named_source(span.file)
    }

    fn expr(&self, kind: TKind, ty: Ty, span: Span) -> TExpr {
        TExpr { kind, ty, span }
    }

    fn error(&self, span: Span) -> TExpr {
        self.expr(TKind::Const(Const::None), Ty::Error, span)
    }

    pub fn field_ty(&self, ft: &FieldType) -> Ty {
        match ft {
            FieldType::String | FieldType::Currency => Ty::Str,
            FieldType::Int { .. } => Ty::Int,
            FieldType::Decimal { .. } => Ty::Decimal,
            FieldType::Money { .. } => Ty::Money(Arc::clone(&self.currency)),
            FieldType::Bool => Ty::Bool,
            FieldType::Enum(e) => Ty::Enum(Arc::clone(e)),
            FieldType::Timestamp => Ty::Timestamp,
        }
    }

    /// Checks that `e` has type `want` (after resolving with it as a hint).
    pub fn check(&mut self, e: &ast::Expr, want: &Ty) -> TExpr {
        let t = self.infer(e, Some(want));
        self.expect_ty(&t, want, "");
        t
    }

    pub fn expect_ty(&mut self, t: &TExpr, want: &Ty, help: &str) {
        if fits(&t.ty, want) {
            return;
        }
        if let (Ty::Money(a), Ty::Money(b)) = (&t.ty, want) {
            self.currency_mismatch(a, b, t.span);
            return;
        }
        let help = if !help.is_empty() {
            help.to_string()
        } else {
            mismatch_help(&t.ty, want)
        };
        self.diags.push(CheckError::TypeMismatch {
            expected: want.describe(),
            found: t.ty.describe(),
            help,
            src: self.src(t.span),
            span: t.span.into(),
            defined: self.defined_here(&[t]),
        });
    }

    /// Where the named constants and predicates among `operands` are
    /// defined: a type error in one is fixed there, often in another file.
    /// A constant defined by another is followed to the one that gives
    /// the value.
    fn defined_here(&self, operands: &[&TExpr]) -> Vec<DefinedHere> {
        let mut out = Vec::new();
        for e in operands {
            let mut e = *e;
            while let TKind::Named { name, body } = &e.kind {
                out.push(DefinedHere {
                    name: name.to_string(),
                    what: body.ty.describe(),
                    src: self.src(body.span),
                    span: body.span.into(),
                });
                e = body;
            }
        }
        out
    }

    fn currency_mismatch(&mut self, a: &str, b: &str, span: Span) {
        self.diags.push(CheckError::CurrencyMismatch {
            left: a.to_string(),
            right: b.to_string(),
            policy: self.currency.to_string(),
            src: self.src(span),
            span: span.into(),
        });
    }

    /// The type a value put into a message is read as. Nothing around it
    /// says, so a constant of bare enum names (`[digital, perishable]`,
    /// `cash`) is read as the one enum of the schema that has them all.
    fn template_hint(&self, v: &ast::Expr) -> Option<Ty> {
        let ExprKind::Path(name) = &v.kind else {
            return None;
        };
        let def = match self.locals.get(name.as_str()) {
            Some(def) => *def,
            None => match self.scope.get(name) {
                Some(Def::Const(def)) => def,
                _ => return None,
            },
        };
        let mut value = &def.value;
        while let ExprKind::Paren(inner) = &value.kind {
            value = inner;
        }
        fn bare<'e>(cx: &Ctx<'_>, e: &'e ast::Expr) -> Option<&'e str> {
            match &e.kind {
                ExprKind::Path(n) if !n.contains('.') && !cx.is_known(n) => Some(n.as_str()),
                _ => None,
            }
        }
        let (names, list): (Vec<&str>, bool) = match &value.kind {
            ExprKind::List(items) => (
                items.iter().map(|i| bare(self, i)).collect::<Option<_>>()?,
                true,
            ),
            _ => (vec![bare(self, value)?], false),
        };
        let d = &self.schema.decision;
        let vocab = [
            &d.route,
            &d.documents,
            &d.offers,
            &d.return_shipping,
            &d.installments,
        ];
        let mut found: Option<&Arc<EnumType>> = None;
        let fields = self.schema.fields.iter().filter_map(|f| match &f.ty {
            FieldType::Enum(e) => Some(e),
            _ => None,
        });
        for e in fields.chain(vocab) {
            if names.iter().all(|n| e.index_of(n).is_some()) {
                match found {
                    Some(f) if f.variants() != e.variants() => return None,
                    _ => found = Some(e),
                }
            }
        }
        let e = Ty::Enum(Arc::clone(found?));
        Some(if list { Ty::List(Box::new(e)) } else { e })
    }

    pub fn infer(&mut self, e: &ast::Expr, hint: Option<&Ty>) -> TExpr {
        if self.depth == 0 {
            self.root = e.span;
            self.nodes = 0;
        }
        self.nodes += 1;
        if self.depth >= MAX_TYPED_DEPTH || self.nodes > MAX_TYPED_NODES {
            // Once per condition: every branch of it would cross the limit.
            let root_at = Some((self.root.file, self.root.start));
            if self.cut_root != root_at {
                let root = (self.root.file == e.span.file).then(|| self.root.into());
                let (src, span) = (self.src(e.span), e.span.into());
                self.diags.push(if self.depth >= MAX_TYPED_DEPTH {
                    CheckError::TooDeep {
                        max: MAX_TYPED_DEPTH,
                        src,
                        span,
                        root,
                    }
                } else {
                    CheckError::TooLarge {
                        max: MAX_TYPED_NODES,
                        src,
                        span,
                        root,
                    }
                });
            }
            self.diags.incomplete = true;
            self.cut_root = root_at;
            return self.error(e.span);
        }
        self.depth += 1;
        let t = self.infer_here(e, hint);
        self.depth -= 1;
        t
    }

    fn infer_here(&mut self, e: &ast::Expr, hint: Option<&Ty>) -> TExpr {
        let span = e.span;
        match &e.kind {
            ExprKind::Paren(inner) => self.infer(inner, hint),
            ExprKind::Lit(lit) => self.literal(lit, span),
            ExprKind::Template(parts) => {
                let parts = parts
                    .iter()
                    .map(|p| match p {
                        TemplatePart::Text(t) => TPart::Text(Arc::from(t.as_str())),
                        TemplatePart::Value(v) => {
                            let hint = self.template_hint(v);
                            TPart::Value(self.infer(v, hint.as_ref()))
                        }
                    })
                    .collect();
                self.expr(TKind::Template(parts), Ty::Str, span)
            }
            ExprKind::Path(path) => self.path(path, span, hint),
            ExprKind::Unary(UnOp::Not, x) => {
                let x = self.check(x, &Ty::Bool);
                self.expr(TKind::Not(Box::new(x)), Ty::Bool, span)
            }
            ExprKind::Unary(UnOp::Neg, x) => {
                let x = self.infer(x, hint);
                if !matches!(x.ty, Ty::Int | Ty::Decimal | Ty::Money(_) | Ty::Error) {
                    self.expect_ty(&x, &Ty::Decimal, "only numbers and money can be negated");
                }
                // Request amounts and refunds are never below zero: a
                // negative amount written out is a slip, and a test against
                // it always has the same answer.
                if let (Ty::Money(c), Some(Const::Money(m))) = (&x.ty, const_of(&x))
                    && !m.is_zero()
                {
                    self.diags.push(CheckError::NegativeMoney {
                        amount: format!("-{m} {c}"),
                        currency: c.to_string(),
                        src: self.src(span),
                        span: span.into(),
                    });
                }
                let ty = x.ty.clone();
                self.expr(TKind::Neg(Box::new(x)), ty, span)
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span, hint),
            ExprKind::In {
                value,
                list,
                negated,
            } => {
                let v = self.infer(value, None);
                let want = Ty::List(Box::new(v.ty.clone()));
                let l = self.infer(list, Some(&want));
                // Only a list written out (directly or by a constant) can be
                // tested; anything else would silently match nothing.
                let items = match &l.unnamed().kind {
                    TKind::List(items) => items.clone(),
                    _ => {
                        if l.ty != Ty::Error {
                            self.diags.push(CheckError::TypeMismatch {
                                expected: "a list written in brackets".into(),
                                found: l.ty.describe(),
                                help: "write the values in brackets, `x in [a, b]`, or name such a list with `const`".into(),
                                src: self.src(l.span),
                                span: l.span.into(),
                                defined: Vec::new(),
                            });
                        }
                        Vec::new()
                    }
                };
                for item in &items {
                    self.comparable(&v, item, BinOp::Eq, item.span);
                }
                self.expr(
                    TKind::In {
                        value: Box::new(v),
                        list: items.into_boxed_slice(),
                        negated: *negated,
                        named: l.constants(),
                    },
                    Ty::Bool,
                    span,
                )
            }
            ExprKind::Is { value, present } => {
                let v = self.infer(value, None);
                match v.kind {
                    TKind::Field(id) => {
                        let f = self.schema.field(id);
                        if f.required || f.default != crate::value::Value::Absent {
                            self.diags.push(CheckError::NotOptional {
                                field: f.path.clone(),
                                src: self.src(v.span),
                                span: v.span.into(),
                            });
                        }
                        self.expr(
                            TKind::Is {
                                field: id,
                                present: *present,
                            },
                            Ty::Bool,
                            span,
                        )
                    }
                    _ => {
                        if v.ty != Ty::Error {
                            self.diags.push(CheckError::TypeMismatch {
                                expected: "an optional field".into(),
                                found: v.ty.describe(),
                                help: "`is present` and `is absent` test an optional field of the request, e.g. `order.delivered_at is absent`".into(),
                                src: self.src(v.span),
                                span: v.span.into(),
                                defined: Vec::new(),
                            });
                        }
                        self.error(span)
                    }
                }
            }
            ExprKind::Within {
                value,
                window,
                anchor,
            } => {
                let v = self.infer(value, None);
                self.expect_date(&v);
                let a = self.infer(anchor, None);
                self.expect_date(&a);
                let w = self.check(window, &Ty::Duration);
                let (count, unit) = match const_of(&w) {
                    Some(Const::Duration { count, unit }) => (*count, *unit),
                    _ => {
                        if w.ty != Ty::Error {
                            self.diags.push(CheckError::TypeMismatch {
                                expected: "a fixed duration".into(),
                                found: w.ty.describe(),
                                help: "write the window as a duration, e.g. `within 7 days after order.delivered_at`".into(),
                                src: self.src(w.span),
                                span: w.span.into(),
                                defined: Vec::new(),
                            });
                        }
                        (0, Unit::Days)
                    }
                };
                self.expr(
                    TKind::Within {
                        value: Box::new(v),
                        count,
                        unit,
                        anchor: Box::new(a),
                        named: w.constants(),
                    },
                    Ty::Bool,
                    span,
                )
            }
            ExprKind::If { cond, then, els } => {
                let c = self.check(cond, &Ty::Bool);
                let t = self.infer(then, hint);
                let hint2 = if t.ty == Ty::None { hint } else { Some(&t.ty) };
                let hint2 = hint2.cloned();
                let f = self.infer(els, hint2.as_ref());
                let ty = self.join(&t, &f);
                self.expr(
                    TKind::If {
                        cond: Box::new(c),
                        then: Box::new(t),
                        els: Box::new(f),
                    },
                    ty,
                    span,
                )
            }
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, span, hint),
            ExprKind::Call { func, args } => self.call(func, args, span, hint),
            ExprKind::List(items) => {
                let elem_hint = match hint {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut elem_ty = elem_hint.clone();
                let mut out = Vec::new();
                for item in items {
                    let t = self.infer(item, elem_ty.as_ref().or(elem_hint.as_ref()));
                    match &elem_ty {
                        Some(want) if !fits(&t.ty, want) => {
                            self.expect_ty(&t, want, "all items of a list have one type");
                        }
                        Some(_) => {}
                        None if t.ty != Ty::Error => elem_ty = Some(t.ty.clone()),
                        None => {}
                    }
                    out.push(t);
                }
                let ty = Ty::List(Box::new(elem_ty.unwrap_or(Ty::Error)));
                self.expr(TKind::List(out), ty, span)
            }
        }
    }

    fn expect_date(&mut self, t: &TExpr) {
        if !matches!(t.ty, Ty::Timestamp | Ty::Date | Ty::Error) {
            self.expect_ty(t, &Ty::Date, "date windows compare timestamps or dates, e.g. `requested_at within 7 days after order.delivered_at`");
        }
    }

    fn join(&mut self, a: &TExpr, b: &TExpr) -> Ty {
        match (&a.ty, &b.ty) {
            (Ty::None, t) | (t, Ty::None) => t.clone(),
            (Ty::Error, _) | (_, Ty::Error) => Ty::Error,
            (Ty::Timestamp | Ty::Date, Ty::Timestamp | Ty::Date) if a.ty != b.ty => Ty::Date,
            (Ty::Int, Ty::Decimal) | (Ty::Decimal, Ty::Int) => Ty::Decimal,
            (x, _) => {
                let x = x.clone();
                self.expect_ty(b, &x, "both branches give the same kind of value");
                x
            }
        }
    }

    fn literal(&mut self, lit: &Lit, span: Span) -> TExpr {
        let (c, ty) = match lit {
            Lit::Int(i) => (Const::Int(*i), Ty::Int),
            Lit::Decimal(d) => (Const::Decimal(*d), Ty::Decimal),
            Lit::Money { amount, currency } => {
                // Amounts are in cents, as requests give them and refunds
                // pay them.
                if amount.scale() > 2 {
                    self.diags.push(CheckError::MoneyPrecision {
                        text: format!("{amount} {currency}"),
                        places: amount.scale(),
                        rounded: format!(
                            "{:.2} {currency}",
                            amount.round_dp_with_strategy(
                                2,
                                rust_decimal::RoundingStrategy::MidpointAwayFromZero
                            )
                        ),
                        src: self.src(span),
                        span: span.into(),
                    });
                }
                if currency.as_str() != &*self.currency {
                    let policy = Arc::clone(&self.currency);
                    self.currency_mismatch(currency, &policy, span);
                    // Reported here; the comparison around it need not say
                    // it again.
                    return self.expr(TKind::Const(Const::Money(*amount)), Ty::Error, span);
                }
                // The policy's own currency, shared: no copy per literal.
                (Const::Money(*amount), Ty::Money(Arc::clone(&self.currency)))
            }
            Lit::Str(s) => (Const::Str(Arc::from(s.as_str())), Ty::Str),
            Lit::Bool(b) => (Const::Bool(*b), Ty::Bool),
            Lit::Date(d) => (Const::Date(*d), Ty::Date),
            Lit::Duration { count, unit } => (
                Const::Duration {
                    count: *count,
                    unit: *unit,
                },
                Ty::Duration,
            ),
            Lit::None => (Const::None, Ty::None),
        };
        self.expr(TKind::Const(c), ty, span)
    }
}

/// The constant an expression stands for, when it is a literal or a named
/// constant of one.
pub fn const_of(e: &TExpr) -> Option<&Const> {
    match &e.unnamed().kind {
        TKind::Const(c) => Some(c),
        _ => None,
    }
}

/// Whether a value of type `have` may stand where `want` is expected.
pub fn fits(have: &Ty, want: &Ty) -> bool {
    match (have, want) {
        (Ty::Error, _) | (_, Ty::Error) => true,
        (Ty::Int, Ty::Decimal) => true,
        (Ty::Timestamp, Ty::Date) => true,
        (Ty::List(a), Ty::List(b)) => fits(a, b),
        (a, b) => a == b,
    }
}

fn mismatch_help(have: &Ty, want: &Ty) -> String {
    match (have, want) {
        (Ty::Int | Ty::Decimal, Ty::Money(c)) => {
            format!("write the amount with its currency, e.g. `100.00 {c}`")
        }
        (_, Ty::Bool) => {
            "a condition compares values, e.g. `item.condition == unopened`".to_string()
        }
        (_, Ty::Enum(e)) => format!("write one of: {}", e.variants().join(", ")),
        (_, Ty::List(inner)) => format!("write a list in brackets of {}", inner.describe()),
        _ => format!("write {} here", want.describe()),
    }
}
