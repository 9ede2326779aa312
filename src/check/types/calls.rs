//! Calls (`max`, `min`) and `match`.

use super::*;

impl Ctx<'_> {
    pub(super) fn match_expr(
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

    pub(super) fn call(
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
