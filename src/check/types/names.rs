//! Names: fields, constants, predicates, enum values and built-ins, read
//! by the type expected next to them.

use super::*;

impl Ctx<'_> {
    pub(super) fn path(&mut self, path: &str, span: Span, hint: Option<&Ty>) -> TExpr {
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
                    defined: Vec::new(),
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

    pub(super) fn name_suggestion(&self, path: &str) -> Option<String> {
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
    pub(super) fn expand(
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

    pub(super) fn is_known(&self, name: &str) -> bool {
        self.locals.contains_key(name)
            || self.scope.get(name).is_some()
            || self.schema.lookup(name).is_some()
            || (self.after.is_some() && matches!(name, "decision" | "refund" | "decided_by"))
    }
}
