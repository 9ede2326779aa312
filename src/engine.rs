//! The library's front door: load a policy directory once, evaluate many
//! requests, from any number of threads.

use std::path::Path;
use std::sync::Arc;

use crate::check::{self, Diagnostic};
use crate::compile::{self, Compiled};
use crate::eval::coverage::Hits;
use crate::eval::{self, Decision, Failure};
use crate::report::diagnostics::render_human;
use crate::request::{Rejected, Request};
use crate::schema::Schema;
use crate::source::Sources;
use crate::value::Text;

/// Checked, compiled policies, ready to evaluate requests.
///
/// `Engine` is cheap to clone and `Send + Sync`: load it once and share it.
///
/// ```
/// let engine = rpl::Engine::load(concat!(env!("CARGO_MANIFEST_DIR"), "/policies")).unwrap();
/// let request = std::fs::read_to_string(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/examples/official_mall/01-contract-example.json"
/// ))
/// .unwrap();
/// match engine.evaluate_json(&request, false) {
///     rpl::Outcome::Decision(d) => {
///         assert_eq!(d.decision.as_str(), "approve");
///         assert_eq!(d.rule(), "seven_day_no_reason");
///         assert_eq!(d.refund.unwrap().route, "credit_card_next_statement");
///     }
///     rpl::Outcome::Failure(f) => panic!("{}", f.error.message),
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    compiled: Arc<Compiled>,
}

/// Why a policy directory could not be loaded: the checker's diagnostics.
///
/// Printed with `Display`, it shows every diagnostic as `rpl check` does
/// (plain, without colour), then how many errors there are, so a program
/// that prints the error shows what to fix.
#[derive(Debug)]
pub struct LoadFailure {
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadFailure {
    /// How many diagnostics are errors (the rest are warnings).
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| check::is_error(d.as_ref()))
            .count()
    }

    /// One line: how many errors kept the policies from loading.
    pub fn summary(&self) -> String {
        match self.errors() {
            1 => "the policies have an error".to_owned(),
            n => format!("the policies have {n} errors"),
        }
    }
}

impl std::fmt::Display for LoadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.diagnostics {
            f.write_str(&render_human(d.as_ref(), false, 100))?;
        }
        f.write_str(&self.summary())
    }
}

impl std::error::Error for LoadFailure {}

/// A decision, or the error object for a request that has none.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Outcome {
    Decision(Decision),
    Failure(Failure),
}

impl Outcome {
    /// The same outcome without its trace: what a decision says, not why.
    pub fn without_trace(self) -> Outcome {
        match self {
            Outcome::Decision(d) => Outcome::Decision(Decision { trace: None, ..d }),
            Outcome::Failure(f) => Outcome::Failure(Failure { trace: None, ..f }),
        }
    }
}

impl Engine {
    /// Checks and compiles the policy directory at `dir` (the folder with
    /// `schema.toml`). Warnings are allowed; any error fails the load.
    pub fn load(dir: impl AsRef<Path>) -> Result<Engine, LoadFailure> {
        Engine::from_checked(crate::load::check_dir(dir.as_ref()))
    }

    /// Checks and compiles a policy directory held in memory (a language
    /// server's buffers, a service's hot reload, a browser's files): no
    /// file is read.
    ///
    /// ```
    /// let mut sources = rpl::source::Sources::new("memory");
    /// sources.insert("schema.toml", rpl::schema::Schema::BUILTIN);
    /// # let _ = &mut sources;
    /// let failure = rpl::Engine::from_sources(&sources).unwrap_err();
    /// assert!(failure.diagnostics.iter().any(|d| {
    ///     d.code().is_some_and(|c| c.to_string() == "rpl::load::no_policies")
    /// }));
    /// ```
    pub fn from_sources(sources: &Sources) -> Result<Engine, LoadFailure> {
        Engine::from_checked(check::check(sources, None))
    }

    fn from_checked(checked: check::Checked) -> Result<Engine, LoadFailure> {
        match checked.program {
            Some(program) => Engine::from_program(&program),
            None => Err(LoadFailure {
                diagnostics: checked.diagnostics,
            }),
        }
    }

    /// Compiles a checked program; a broken guarantee of the checker
    /// (`rpl::compile::internal`) refuses it.
    pub fn from_program(program: &check::hir::Program) -> Result<Engine, LoadFailure> {
        match compile::compile(program) {
            Ok(c) => {
                // Requests no rule decides would fail at evaluation: the
                // policies are refused instead.
                let gaps = crate::analysis::gaps(&c);
                if !gaps.is_empty() {
                    return Err(LoadFailure { diagnostics: gaps });
                }
                Ok(Engine {
                    compiled: Arc::new(c),
                })
            }
            Err(e) => Err(LoadFailure {
                diagnostics: vec![Box::new(e)],
            }),
        }
    }

    pub fn schema(&self) -> &Schema {
        &self.compiled.schema
    }

    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// Decides a decoded request; `explain` adds the trace.
    pub fn evaluate(&self, request: &Request, explain: bool) -> Outcome {
        self.evaluate_covered(request, explain, None)
    }

    /// Decides a decoded request, recording what it exercised in `hits`
    /// (made with `Hits::new(engine.compiled())`): what `rpl test
    /// --coverage` sums over a test suite.
    pub fn evaluate_covered(
        &self,
        request: &Request,
        explain: bool,
        hits: Option<&mut Hits>,
    ) -> Outcome {
        // The decision is made in the outcome returned, not moved into it.
        let mut outcome = Outcome::Decision(Decision::blank(request.request_id.clone()));
        if let Outcome::Decision(d) = &mut outcome
            && let Err(r) = eval::evaluate_into(&self.compiled, request, explain, hits, d)
        {
            // The policy deciding when the error arose, if one was.
            let policy = self.compiled.policy_for(request);
            outcome = Outcome::Failure(Failure {
                // Moved from the decision that was being made: one copy.
                request_id: d.request_id.take(),
                line: None,
                policy: policy.map(|p| Arc::clone(&p.name)),
                policy_version: policy.and_then(|p| p.version.clone()),
                error: r.error,
                trace: r.trace,
            });
        }
        outcome
    }

    /// Decodes a JSON request and decides it.
    pub fn evaluate_json(&self, text: &str, explain: bool) -> Outcome {
        match self.compiled.schema.decode_json(text) {
            Ok(req) => self.evaluate(&req, explain),
            Err(rejected) => Outcome::Failure(failure_of(rejected)),
        }
    }

    /// Decodes a TOML request and decides it.
    pub fn evaluate_toml(&self, text: &str, explain: bool) -> Outcome {
        match self.compiled.schema.decode_toml(text) {
            Ok(req) => self.evaluate(&req, explain),
            Err(rejected) => Outcome::Failure(failure_of(rejected)),
        }
    }
}

/// The contract's error object for a request that could not be decoded.
fn failure_of(rejected: Rejected) -> Failure {
    Failure::of_request(rejected.request_id.map(Text::from), &rejected.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program that prints the error sees what to fix, not a count.
    #[test]
    fn a_load_failure_prints_its_diagnostics() {
        let mut sources = Sources::new("memory");
        sources.insert("schema.toml", Schema::BUILTIN);
        sources.insert("a.rpl", "const x = \n");
        let failure = Engine::from_sources(&sources).unwrap_err();
        let text = failure.to_string();
        assert!(text.contains("rpl::syntax::"), "{text}");
        assert!(text.contains("a.rpl:"), "{text}");
        assert!(text.contains("help:"), "{text}");
        assert!(!text.contains('\u{1b}'), "no colour: {text}");
        assert!(text.ends_with(&failure.summary()), "{text}");
    }
}
