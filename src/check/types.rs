//! Name resolution and typing of expressions. Types flow both ways: an
//! operand's type tells how a bare name next to it reads (`reason ==
//! performance_fault` reads `performance_fault` as a value of `reason`).

use std::collections::HashSet;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::diags::Diags;
use super::error::{CheckError, did_you_mean};
use super::hir::*;
use super::scope::{self, Def, DefKey, Scope};
use crate::schema::{EnumType, FieldType, Schema};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::ast::{self, ExprKind, Lit};
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
        });
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

    fn path(&mut self, path: &str, span: Span, hint: Option<&Ty>) -> TExpr {
        if path.contains('.') {
            return match self.schema.lookup(path) {
                Some(id) => {
                    let ty = self.field_ty(&self.schema.field(id).ty);
                    self.expr(TKind::Field(id), ty, span)
                }
                None => {
                    let suggestion = did_you_mean(path, self.schema.paths());
                    self.diags.push(CheckError::UnknownField {
                        name: path.to_string(),
                        suggestion,
                        src: self.src(span),
                        span: span.into(),
                    });
                    self.error(span)
                }
            };
        }
        let hint_enum = match hint {
            Some(Ty::Enum(e)) => Some(Arc::clone(e)),
            _ => None,
        };
        if let Some(e) = &hint_enum
            && let Some(i) = e.index_of(path)
        {
            return self.expr(TKind::Const(Const::Enum(i)), Ty::Enum(Arc::clone(e)), span);
        }
        if let Some(def) = self.locals.get(path).copied() {
            return self.expand(path, &def.value, span, hint, def.name.span);
        }
        match self.scope.get(path) {
            Some(Def::Const(def)) => {
                return self.expand(path, &def.value, span, hint, def.name.span);
            }
            Some(Def::Pred(def)) => {
                let hint = Some(&Ty::Bool);
                return self.expand(path, &def.cond, span, hint, def.name.span);
            }
            Some(other) => {
                self.diags.push(CheckError::TypeMismatch {
                    expected: "a value".into(),
                    found: format!("the {} `{path}`", other.what()),
                    help: "rule groups and defaults are spliced into a policy with `use`, not used in expressions".into(),
                    src: self.src(span),
                    span: span.into(),
                });
                return self.error(span);
            }
            None => {}
        }
        if let Some(enum_after) = &self.after {
            let builtin = match path {
                "decision" => Some((Builtin::Decision, Ty::Enum(Arc::clone(&self.verdicts)))),
                "refund" => Some((Builtin::Refund, Ty::Money(Arc::clone(&self.currency)))),
                "decided_by" => Some((Builtin::DecidedBy, Ty::Enum(Arc::clone(enum_after)))),
                _ => None,
            };
            if let Some((b, ty)) = builtin {
                return self.expr(TKind::Builtin(b), ty, span);
            }
        }
        if let Some(id) = self.schema.lookup(path) {
            let ty = self.field_ty(&self.schema.field(id).ty);
            return self.expr(TKind::Field(id), ty, span);
        }
        // Next to an operand that already failed, say nothing more.
        if matches!(hint, Some(Ty::Error)) || matches!(hint, Some(Ty::List(t)) if **t == Ty::Error)
        {
            return self.error(span);
        }
        // Unknown: a misspelt value of the expected enum, or a name.
        if let Some(e) = hint_enum {
            let suggestion = did_you_mean(path, e.variants().iter().map(String::as_str));
            if suggestion.is_some() || self.name_suggestion(path).is_none() {
                self.diags.push(CheckError::UnknownVariant {
                    name: path.to_string(),
                    enum_name: e.name.clone(),
                    values: e.variants().join(", "),
                    suggestion,
                    src: self.src(span),
                    span: span.into(),
                });
                return self.error(span);
            }
        }
        let suggestion = self.name_suggestion(path);
        let extra = if self.after.is_none() && matches!(path, "decision" | "refund" | "decided_by")
        {
            format!("`{path}` is only known in `after` rules, once a rule has decided")
        } else {
            "define it with `const` or `pred`, or import the file that does".to_string()
        };
        self.diags.push(CheckError::UnknownName {
            name: path.to_string(),
            suggestion,
            extra,
            src: self.src(span),
            span: span.into(),
        });
        self.error(span)
    }

    fn name_suggestion(&self, path: &str) -> Option<String> {
        let mut names: Vec<&str> = self.locals.keys().map(String::as_str).collect();
        names.extend(self.scope.names());
        names.extend(self.schema.paths());
        if self.after.is_some() {
            names.extend(["decision", "refund", "decided_by"]);
        }
        did_you_mean(path, names)
    }

    /// A constant or predicate used by name: checked here, with the hint of
    /// its use, and kept as a named node for the trace.
    fn expand(
        &mut self,
        name: &str,
        body: &ast::Expr,
        span: Span,
        hint: Option<&Ty>,
        def_span: Span,
    ) -> TExpr {
        self.used.insert(scope::key(def_span));
        if self.expanding.iter().any(|n| n == name) {
            self.diags.push(CheckError::RecursiveDefinition {
                name: name.to_string(),
                src: self.src(span),
                span: span.into(),
            });
            return self.error(span);
        }
        self.expanding.push(name.to_string());
        let body = self.infer(body, hint);
        self.expanding.pop();
        let ty = body.ty.clone();
        self.expr(
            TKind::Named {
                name: Arc::from(name),
                body: Box::new(body),
            },
            ty,
            span,
        )
    }

    fn binary(
        &mut self,
        op: BinOp,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
        hint: Option<&Ty>,
    ) -> TExpr {
        match op {
            BinOp::And | BinOp::Or => {
                let l = self.check(a, &Ty::Bool);
                let r = self.check(b, &Ty::Bool);
                self.expr(TKind::Binary(op, Box::new(l), Box::new(r)), Ty::Bool, span)
            }
            _ if op.is_comparison() => {
                // A bare name on the left reads in the type of the right.
                let left_is_bare =
                    matches!(&a.kind, ExprKind::Path(p) if !p.contains('.') && !self.is_known(p));
                let (l, r) = if left_is_bare {
                    let r = self.infer(b, None);
                    let l = self.infer(a, Some(&r.ty));
                    (l, r)
                } else {
                    let l = self.infer(a, None);
                    let r = self.infer(b, Some(&l.ty));
                    (l, r)
                };
                self.comparable(&l, &r, op, span);
                self.expr(TKind::Binary(op, Box::new(l), Box::new(r)), Ty::Bool, span)
            }
            BinOp::Range => {
                let l = self.infer(a, None);
                self.expect_date(&l);
                let r = self.infer(b, None);
                self.expect_date(&r);
                self.expr(
                    TKind::Binary(op, Box::new(l), Box::new(r)),
                    Ty::DateRange,
                    span,
                )
            }
            _ => {
                let l = self.infer(a, hint);
                let r = self.infer(b, hint);
                let ty = self.arith(op, &l, &r, span);
                self.expr(TKind::Binary(op, Box::new(l), Box::new(r)), ty, span)
            }
        }
    }

    fn is_known(&self, name: &str) -> bool {
        self.locals.contains_key(name)
            || self.scope.get(name).is_some()
            || self.schema.lookup(name).is_some()
            || (self.after.is_some() && matches!(name, "decision" | "refund" | "decided_by"))
    }

    fn bad_operands(&mut self, op: BinOp, l: &Ty, r: &Ty, span: Span, help: String) {
        let what = if l == r {
            format!("does not apply to {}", l.describe())
        } else {
            format!("cannot combine {} and {}", l.describe(), r.describe())
        };
        self.diags.push(CheckError::BadOperands {
            op: op.symbol().to_string(),
            what,
            left: l.describe(),
            right: r.describe(),
            help,
            src: self.src(span),
            span: span.into(),
        });
    }

    fn comparable(&mut self, l: &TExpr, r: &TExpr, op: BinOp, span: Span) {
        use Ty::*;
        let ordered = !matches!(op, BinOp::Eq | BinOp::Ne);
        let ok = match (&l.ty, &r.ty) {
            (Error, _) | (_, Error) => true,
            (Money(a), Money(b)) => {
                if a != b {
                    self.currency_mismatch(a, b, span);
                }
                true
            }
            (Money(c), Int | Decimal) | (Int | Decimal, Money(c)) => {
                let c = c.clone();
                self.bad_operands(
                    op,
                    &l.ty,
                    &r.ty,
                    span,
                    format!("write the amount with its currency, e.g. `20000.00 {c}`"),
                );
                return;
            }
            (Int | Decimal, Int | Decimal) => true,
            (Timestamp | Date, Timestamp | Date) => true,
            (Enum(a), Enum(b)) => !ordered && a == b,
            (Bool, Bool) | (Str, Str) => !ordered,
            _ => false,
        };
        if !ok {
            let help = if matches!(l.ty, None) || matches!(r.ty, None) {
                "test for a missing value with `is absent` (or `is present`)".to_string()
            } else if ordered && matches!(l.ty, Enum(_) | Bool | Str) {
                format!(
                    "`{}` only compares numbers, money and dates; use `==` or `in [..]`",
                    op.symbol()
                )
            } else {
                "compare values of the same kind: a date with a date, money with money".to_string()
            };
            self.bad_operands(op, &l.ty, &r.ty, span, help);
        }
    }

    fn arith(&mut self, op: BinOp, l: &TExpr, r: &TExpr, span: Span) -> Ty {
        use Ty::*;
        let res = match (op, &l.ty, &r.ty) {
            (_, Error, _) | (_, _, Error) => Some(Error),
            (BinOp::Add | BinOp::Sub, Money(a), Money(b)) => {
                if a != b {
                    self.currency_mismatch(a, b, span);
                }
                Some(Money(a.clone()))
            }
            (BinOp::Mul, Money(a), Int | Decimal) | (BinOp::Mul, Int | Decimal, Money(a)) => {
                Some(Money(a.clone()))
            }
            (BinOp::Div, Money(a), Int | Decimal) => {
                self.nonzero_divisor(r);
                Some(Money(a.clone()))
            }
            (BinOp::Add | BinOp::Sub | BinOp::Mul, Int, Int) => Some(Int),
            (BinOp::Add | BinOp::Sub | BinOp::Mul, Int | Decimal, Int | Decimal) => Some(Decimal),
            (BinOp::Div, Int | Decimal, Int | Decimal) => {
                self.nonzero_divisor(r);
                Some(Decimal)
            }
            (BinOp::Add | BinOp::Sub, Timestamp | Date, Duration) => match const_of(r) {
                Some(Const::Duration {
                    unit: Unit::WorkingDays,
                    ..
                }) if op == BinOp::Sub => {
                    let help = "working days count forward only: write `date + N working days`";
                    self.bad_operands(op, &l.ty, &r.ty, span, help.into());
                    Some(Error)
                }
                Some(Const::Duration { .. }) => Some(Date),
                _ => {
                    let help = "add a fixed duration such as `3 working days`; to choose one, write the whole date in each branch of an `if`";
                    self.bad_operands(op, &l.ty, &r.ty, span, help.into());
                    Some(Error)
                }
            },
            _ => Option::None,
        };
        res.unwrap_or_else(|| {
            let help = match (&l.ty, &r.ty) {
                (Money(c), Int | Decimal) | (Int | Decimal, Money(c)) => {
                    format!("write the amount with its currency, e.g. `100.00 {c}`")
                }
                (Money(_), Duration) | (Duration, Money(_)) => {
                    "durations are added to dates, not to money".to_string()
                }
                (Duration, Timestamp | Date) => {
                    "write the date first: `requested_at + 3 working days`".to_string()
                }
                _ => {
                    "arithmetic works on numbers and money, and adds durations to dates".to_string()
                }
            };
            self.bad_operands(op, &l.ty, &r.ty, span, help);
            Error
        })
    }

    fn nonzero_divisor(&mut self, r: &TExpr) {
        let zero = match const_of(r) {
            Some(Const::Int(0)) => false,
            Some(Const::Int(_)) => true,
            Some(Const::Decimal(d)) => !d.is_zero(),
            _ => false,
        };
        if !zero {
            self.diags.push(CheckError::BadCall {
                problem: "division by something other than a fixed non-zero number".into(),
                help: "divide only by a fixed number such as `2` or `1.5`, so a request can never divide by zero",
                src: self.src(r.span),
                span: r.span.into(),
            });
        }
    }

    fn match_expr(
        &mut self,
        scrutinee: &ast::Expr,
        arms: &[ast::MatchArm],
        span: Span,
        hint: Option<&Ty>,
    ) -> TExpr {
        let s = self.infer(scrutinee, None);
        let e = match &s.ty {
            Ty::Enum(e) => Arc::clone(e),
            Ty::Error => return self.error(span),
            _ => {
                self.expect_ty(
                    &s,
                    &Ty::Enum(Arc::new(EnumType::new("an enum field".into(), vec![]))),
                    "`match` chooses by the value of an enum field such as `payment.method`",
                );
                return self.error(span);
            }
        };
        // Each arm is typed and kept once; variants point at their arm, so a
        // `_` arm is not copied for every value it covers.
        let mut typed: Vec<TExpr> = Vec::new();
        let mut results: Vec<Option<u32>> = vec![None; e.variants().len()];
        let mut wildcard: Option<u32> = None;
        let mut result_ty: Option<Ty> = hint.cloned();
        for arm in arms {
            let v = self.infer(&arm.value, result_ty.as_ref());
            match &result_ty {
                Some(t) if *t != Ty::None => {
                    let t = t.clone();
                    if !fits(&v.ty, &t) {
                        self.expect_ty(
                            &v,
                            &t,
                            "every arm of a `match` gives the same kind of value",
                        );
                    }
                }
                _ => {
                    if v.ty != Ty::Error && v.ty != Ty::None {
                        result_ty = Some(v.ty.clone());
                    }
                }
            }
            let index = u32::try_from(typed.len()).unwrap_or(u32::MAX);
            typed.push(v);
            if arm.patterns.is_empty() {
                wildcard = Some(index);
            }
            for p in &arm.patterns {
                match e.index_of(&p.name) {
                    Some(i) => {
                        if let Some(slot) = results.get_mut(i as usize) {
                            if slot.is_some() {
                                self.diags.push(CheckError::DuplicateArm {
                                    value: p.name.clone(),
                                    src: self.src(p.span),
                                    span: p.span.into(),
                                });
                            } else {
                                *slot = Some(index);
                            }
                        }
                    }
                    None => {
                        let suggestion =
                            did_you_mean(&p.name, e.variants().iter().map(String::as_str));
                        self.diags.push(CheckError::UnknownVariant {
                            name: p.name.clone(),
                            enum_name: e.name.clone(),
                            values: e.variants().join(", "),
                            suggestion,
                            src: self.src(p.span),
                            span: p.span.into(),
                        });
                    }
                }
            }
        }
        let missing: Vec<&str> = results
            .iter()
            .zip(e.variants())
            .filter(|(r, _)| r.is_none())
            .map(|(_, v)| v.as_str())
            .collect();
        if !missing.is_empty() && wildcard.is_none() {
            self.diags.push(CheckError::NonExhaustiveMatch {
                missing: missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                src: self.src(span),
                span: span.into(),
            });
        }
        // A value with no arm was reported above; it points at arm 0 so the
        // (unused) tree stays well formed.
        let by_variant = results
            .into_iter()
            .map(|r| r.or(wildcard).unwrap_or(0))
            .collect();
        let ty = result_ty.unwrap_or(Ty::Error);
        self.expr(
            TKind::Match(Box::new(TMatch {
                scrutinee: s,
                arms: typed,
                by_variant,
            })),
            ty,
            span,
        )
    }

    fn call(
        &mut self,
        func: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        hint: Option<&Ty>,
    ) -> TExpr {
        let f = match func.name.as_str() {
            "max" => Func::Max,
            "min" => Func::Min,
            other => {
                let suggestion = did_you_mean(other, ["max", "min"]);
                self.diags.push(CheckError::BadCall {
                    problem: format!(
                        "unknown function `{other}`{}",
                        suggestion
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default()
                    ),
                    help: "the functions are `max(a, b, ...)` and `min(a, b, ...)`",
                    src: self.src(func.span),
                    span: func.span.into(),
                });
                return self.error(span);
            }
        };
        if args.len() < 2 {
            self.diags.push(CheckError::BadCall {
                problem: format!("`{}` takes at least two values", func.name),
                help: "write e.g. `max(item.paid_amount - item.gift_value, 0.00 CNY)`",
                src: self.src(span),
                span: span.into(),
            });
        }
        let mut out: Vec<TExpr> = Vec::new();
        let mut ty: Option<Ty> = None;
        for a in args {
            let t = self.infer(a, ty.as_ref().or(hint));
            if !matches!(
                t.ty,
                Ty::Int | Ty::Decimal | Ty::Money(_) | Ty::Date | Ty::Timestamp | Ty::Error
            ) {
                self.expect_ty(
                    &t,
                    &Ty::Decimal,
                    "`max` and `min` compare numbers, money or dates",
                );
            } else if let Some(prev) = &ty {
                let l = self.expr(TKind::Const(Const::None), prev.clone(), t.span);
                self.comparable(&l, &t, BinOp::Lt, t.span);
            } else if t.ty != Ty::Error {
                ty = Some(t.ty.clone());
            }
            out.push(t);
        }
        let ty = match ty {
            Some(Ty::Int) if out.iter().any(|t| t.ty == Ty::Decimal) => Ty::Decimal,
            Some(Ty::Timestamp) => Ty::Date,
            Some(t) => t,
            None => Ty::Error,
        };
        self.expr(TKind::Call(f, out), ty, span)
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
