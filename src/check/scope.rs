//! Which top-level definitions a file sees: its own and those of every
//! file it imports, directly or not.

use rustc_hash::FxHashMap;

use crate::source::Span;
use crate::syntax::ast;

#[derive(Clone, Copy)]
pub enum Def<'a> {
    Const(&'a ast::ConstDef),
    Pred(&'a ast::PredDef),
    Rules(&'a ast::RulesDef),
    Defaults(&'a ast::DefaultsDef),
}

impl<'a> Def<'a> {
    pub fn of(item: &'a ast::Item) -> Option<Def<'a>> {
        match item {
            ast::Item::Const(c) => Some(Def::Const(c)),
            ast::Item::Pred(p) => Some(Def::Pred(p)),
            ast::Item::Rules(r) => Some(Def::Rules(r)),
            ast::Item::Defaults(d) => Some(Def::Defaults(d)),
            ast::Item::Import(_) | ast::Item::Policy(_) => None,
        }
    }

    pub fn name(&self) -> &'a ast::Ident {
        match self {
            Def::Const(c) => &c.name,
            Def::Pred(p) => &p.name,
            Def::Rules(r) => &r.name,
            Def::Defaults(d) => &d.name,
        }
    }

    pub fn what(&self) -> &'static str {
        match self {
            Def::Const(_) => "constant",
            Def::Pred(_) => "predicate",
            Def::Rules(_) => "rule group",
            Def::Defaults(_) => "defaults",
        }
    }
}

/// Identity of a definition: where its name is written.
pub type DefKey = (u32, u32);

pub fn key(span: Span) -> DefKey {
    (span.file.0, span.start)
}

/// The definitions a file sees by name. It is read-only, so one scope
/// serves every thread checking the file's rules; what they use is
/// collected per thread (`Ctx::used`) and merged.
pub struct Scope<'a> {
    defs: FxHashMap<&'a str, Def<'a>>,
}

impl<'a> Scope<'a> {
    /// Builds the scope from definitions in visiting order; a second
    /// definition of a name is returned as a duplicate with the first.
    pub fn new(defs: impl IntoIterator<Item = Def<'a>>) -> (Scope<'a>, Vec<(Def<'a>, Def<'a>)>) {
        let mut map: FxHashMap<&'a str, Def<'a>> = FxHashMap::default();
        let mut dups = Vec::new();
        for d in defs {
            match map.get(d.name().name.as_str()) {
                Some(first) => dups.push((*first, d)),
                None => {
                    map.insert(d.name().name.as_str(), d);
                }
            }
        }
        (Scope { defs: map }, dups)
    }

    pub fn get(&self, name: &str) -> Option<Def<'a>> {
        self.defs.get(name).copied()
    }

    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.defs.keys().copied()
    }
}
