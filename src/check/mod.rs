//! Stage 2: syntax trees + schema → checked program, with every problem
//! reported at once.
//!
//! [`check_paths`] loads a policy directory (schema, `.rpl` files and their
//! imports), resolves names, types every expression against the schema and
//! runs the lints. It returns all diagnostics, and the [`hir::Program`] when
//! there was no error.

mod diags;
pub mod error;
pub mod hir;
mod load;
mod policy;
mod scope;
mod types;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

pub use diags::{Diagnostic_ as Diagnostic, is_error};
pub use error::{CheckError, LoadError};
pub use load::find_root;

use diags::Diags;
use scope::{Def, Scope};

use crate::source::SourceMap;
use crate::syntax::ast;

/// The result of checking: diagnostics (errors and warnings, in the order
/// found) and, when there were no errors, the checked program.
pub struct Checked {
    pub diagnostics: Vec<Diagnostic>,
    pub program: Option<hir::Program>,
    pub sources: Arc<SourceMap>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| is_error(d.as_ref()))
    }
}

/// Checks the policy files at `paths` (files or directories; the policy
/// directory is the nearest one holding `schema.toml`).
pub fn check_paths(paths: &[PathBuf]) -> Checked {
    let mut diags = Diags::default();
    let Some(loaded) = load::load(paths, &mut diags) else {
        return Checked {
            diagnostics: diags.into_vec(),
            program: None,
            sources: Arc::default(),
        };
    };
    let Some(schema) = loaded.schema.as_ref() else {
        return Checked {
            diagnostics: diags.into_vec(),
            program: None,
            sources: Arc::new(loaded.sources),
        };
    };
    let used = RefCell::new(HashSet::new());
    let mut calendars = HashMap::new();
    let mut policies: Vec<hir::CheckedPolicy> = Vec::new();
    let mut checked_files = HashSet::new();
    let mut reported_dups = HashSet::new();
    for (id, file) in &loaded.files {
        let Some(file) = file else { continue };
        let closure = loaded.closure(*id);
        // A file that did not parse or an import that could not be followed
        // would only cause follow-on errors here.
        if !closure.iter().all(|f| loaded.is_complete(*f)) {
            continue;
        }
        checked_files.extend(closure.iter().copied());
        let defs = closure
            .iter()
            .filter_map(|f| loaded.file(*f))
            .flat_map(|f| f.items.iter().filter_map(Def::of));
        let (scope, dups) = Scope::new(defs, &used);
        for (first, second) in dups {
            if reported_dups.insert(scope::key(second.name().span)) {
                diags.push(CheckError::DuplicateName {
                    what: second.what(),
                    name: second.name().name.clone(),
                    scope: "across a file and the files it imports",
                    src: loaded.sources.named_source(second.name().span.file),
                    span: second.name().span.into(),
                    first: (first.name().span.file == second.name().span.file)
                        .then(|| first.name().span.into()),
                });
            }
        }
        let mut env = policy::Env {
            schema,
            sources: &loaded.sources,
            root: &loaded.root,
            calendars: &mut calendars,
        };
        for item in &file.items {
            if let ast::Item::Policy(p) = item
                && let Some(checked) = policy::check_policy(p, &scope, &mut env, &mut diags)
            {
                policies.push(checked);
            }
        }
    }
    // Only a whole directory is expected to cover every channel.
    let whole_dir = paths.iter().all(|p| p.is_dir());
    // A duplicate is never looked up, so it is not "unused" as well.
    let mut used = used.into_inner();
    used.extend(reported_dups);
    whole_set_lints(
        &loaded,
        &checked_files,
        &used,
        &policies,
        whole_dir,
        &mut diags,
    );
    let sources = Arc::new(loaded.sources);
    let program = (!diags.has_errors()).then(|| hir::Program {
        schema: Arc::new(schema.clone()),
        policies,
        sources: Arc::clone(&sources),
    });
    Checked {
        diagnostics: diags.into_vec(),
        program,
        sources,
    }
}

/// Lints over the whole directory: one policy per channel, every channel
/// covered, policy names unique, every definition used.
fn whole_set_lints(
    loaded: &load::Loaded,
    checked_files: &HashSet<crate::source::FileId>,
    used: &HashSet<scope::DefKey>,
    policies: &[hir::CheckedPolicy],
    whole_dir: bool,
    diags: &mut Diags,
) {
    let Some(schema) = loaded.schema.as_ref() else {
        return;
    };
    let mut names: HashMap<&str, crate::source::Span> = HashMap::new();
    let mut channels: HashMap<u32, &hir::CheckedPolicy> = HashMap::new();
    for (_, file) in &loaded.files {
        for item in file.iter().flat_map(|f| &f.items) {
            if let ast::Item::Policy(p) = item
                && let Some(first) = names.insert(p.name.name.as_str(), p.name.span)
            {
                {
                    diags.push(CheckError::DuplicateName {
                        what: "policy",
                        name: p.name.name.clone(),
                        scope: "in a policy directory",
                        src: loaded.sources.named_source(p.name.span.file),
                        span: p.name.span.into(),
                        first: (first.file == p.name.span.file).then(|| first.into()),
                    });
                }
            }
        }
    }
    for p in policies {
        if channels.insert(p.channel, p).is_some() {
            diags.push(CheckError::DuplicateChannel {
                channel: schema.channels.variant(p.channel).to_string(),
                src: loaded.sources.named_source(p.channel_span.file),
                span: p.channel_span.into(),
            });
        }
    }
    let all_parsed = loaded.files.iter().all(|(_, f)| f.is_some());
    if whole_dir && all_parsed && !diags.has_errors() {
        let channel_field = schema.field(schema.channel);
        for (i, name) in schema.channels.variants.iter().enumerate() {
            if !channels.contains_key(&u32::try_from(i).unwrap_or(u32::MAX)) {
                diags.push(CheckError::MissingPolicy {
                    channel: name.clone(),
                    src: loaded.sources.named_source(channel_field.span.file),
                    span: channel_field.span.into(),
                });
            }
        }
    }
    // What a file left unchecked uses is unknown: no definition can be
    // called unused then.
    if diags.incomplete || !loaded.files.iter().all(|(id, _)| loaded.is_complete(*id)) {
        return;
    }
    for (id, file) in &loaded.files {
        if !checked_files.contains(id) {
            continue;
        }
        for def in file.iter().flat_map(|f| f.items.iter().filter_map(Def::of)) {
            if !used.contains(&scope::key(def.name().span)) {
                diags.push(CheckError::Unused {
                    what: def.what(),
                    name: def.name().name.clone(),
                    src: loaded.sources.named_source(def.name().span.file),
                    span: def.name().span.into(),
                });
            }
        }
    }
}
