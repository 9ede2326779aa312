//! Operators: comparisons, arithmetic on numbers, money and dates.

use super::*;

impl Ctx<'_> {
    pub(super) fn binary(
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

    pub(super) fn bad_operands(
        &mut self,
        op: BinOp,
        le: &TExpr,
        re: &TExpr,
        span: Span,
        help: String,
    ) {
        let (l, r) = (&le.ty, &re.ty);
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
            defined: self.defined_here(&[le, re]),
        });
    }

    pub(super) fn comparable(&mut self, l: &TExpr, r: &TExpr, op: BinOp, span: Span) {
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
                    l,
                    r,
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
            self.bad_operands(op, l, r, span, help);
        }
    }

    pub(super) fn arith(&mut self, op: BinOp, l: &TExpr, r: &TExpr, span: Span) -> Ty {
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
                    self.bad_operands(op, l, r, span, help.into());
                    Some(Error)
                }
                Some(Const::Duration { .. }) => Some(Date),
                _ => {
                    let help = "add a fixed duration such as `3 working days`; to choose one, write the whole date in each branch of an `if`";
                    self.bad_operands(op, l, r, span, help.into());
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
            self.bad_operands(op, l, r, span, help);
            Error
        })
    }

    pub(super) fn nonzero_divisor(&mut self, r: &TExpr) {
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
}
