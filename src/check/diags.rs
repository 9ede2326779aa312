//! The collected diagnostics of a run: every stage's errors and warnings,
//! each reported once.

use std::collections::HashSet;

use miette::{Diagnostic, Severity};

pub type Diagnostic_ = Box<dyn Diagnostic + Send + Sync + 'static>;

#[derive(Default)]
pub struct Diags {
    list: Vec<Diagnostic_>,
    // A constant used in three rules is checked three times; its mistakes
    // are reported once.
    seen: HashSet<(String, String, Option<usize>)>,
    /// Set when checking stopped short somewhere (an expression too deep to
    /// expand): what it did not reach would wrongly look unused.
    pub incomplete: bool,
}

impl Diags {
    pub fn push<D: Diagnostic + Send + Sync + 'static>(&mut self, d: D) {
        self.push_boxed(Box::new(d));
    }

    fn push_boxed(&mut self, d: Diagnostic_) {
        let code = d.code().map(|c| c.to_string()).unwrap_or_default();
        let at = d.labels().and_then(|mut l| l.next()).map(|l| l.offset());
        let source = source_name(d.as_ref()).unwrap_or_default();
        let key = (format!("{code} {source}"), d.to_string(), at);
        if self.seen.insert(key) {
            self.list.push(d);
        }
    }

    /// Takes over what another collector found, after what this one has.
    pub fn absorb(&mut self, other: Diags) {
        self.incomplete |= other.incomplete;
        for d in other.list {
            self.push_boxed(d);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| is_error(d.as_ref()))
    }

    pub fn into_vec(self) -> Vec<Diagnostic_> {
        self.list
    }
}

/// The name of the file a diagnostic points into, if any.
pub fn source_name(d: &(dyn Diagnostic + Send + Sync)) -> Option<String> {
    let contents = d.source_code()?.read_span(&(0, 0).into(), 0, 0).ok()?;
    contents.name().map(str::to_string)
}

pub fn is_error(d: &(dyn Diagnostic + Send + Sync)) -> bool {
    d.severity().unwrap_or(Severity::Error) == Severity::Error
}
