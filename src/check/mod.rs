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

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use rayon::prelude::*;
use std::sync::Arc;

pub use diags::{Diagnostic_ as Diagnostic, is_error};
pub use error::{CheckError, LoadError};
pub use load::find_root;

use diags::Diags;
use scope::{Def, Scope};

use crate::schema::Schema;
use crate::source::{FileId, SourceMap};
use crate::syntax::ast;

/// The result of checking: diagnostics (errors and warnings, in the order
/// found) and, when there were no errors, the checked program.
pub struct Checked {
    pub diagnostics: Vec<Diagnostic>,
    pub program: Option<hir::Program>,
    pub sources: Arc<SourceMap>,
    /// The syntax tree of every file read (with its comments), `None`
    /// where the file did not parse: what a formatter or an editor needs.
    pub files: Vec<(FileId, Option<ast::File>)>,
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
    // A named file that is not a policy (the schema, a calendar) would be
    // read as policy text and fail with a baffling syntax error.
    let (paths, others): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .iter()
        .cloned()
        .partition(|p| !p.is_file() || p.extension().is_some_and(|e| e == "rpl"));
    for p in &others {
        diags.push(LoadError::NotPolicyFile {
            path: p.display().to_string(),
        });
    }
    if paths.is_empty() && !others.is_empty() {
        return Checked {
            diagnostics: diags.into_vec(),
            program: None,
            sources: Arc::default(),
            files: Vec::new(),
        };
    }
    let paths = paths.as_slice();
    // Named files are checked as part of their directory, since what a
    // shared file defines is only checked where a policy uses it; only
    // what concerns them (and their imports) is reported.
    let focus = paths.iter().all(|p| p.is_file()).then(|| paths.to_vec());
    let whole = focus
        .as_ref()
        .and_then(|files| files.first())
        .and_then(|f| load::find_root(f))
        .map(|root| vec![root]);
    let Some(loaded) = load::load(whole.as_deref().unwrap_or(paths), &mut diags) else {
        return Checked {
            diagnostics: diags.into_vec(),
            program: None,
            sources: Arc::default(),
            files: Vec::new(),
        };
    };
    let Some(schema) = loaded.schema.as_ref() else {
        return Checked {
            diagnostics: diags.into_vec(),
            program: None,
            sources: Arc::new(loaded.sources),
            files: loaded.files,
        };
    };
    // Files are checked on rayon's pool, each with its own scope and
    // collector; the results are merged in file order, so the output does
    // not depend on scheduling.
    let results: Vec<FileResult> = loaded
        .files
        .par_iter()
        // One file per task: the few files holding policies carry nearly
        // all the work, and side by side they would land in one task.
        .with_max_len(1)
        .filter_map(|(id, file)| check_file(&loaded, schema, *id, file.as_ref()?))
        .collect();
    let mut policies: Vec<hir::CheckedPolicy> = Vec::new();
    let mut checked_files = HashSet::new();
    let mut used = HashSet::new();
    let mut reported_dups = HashSet::new();
    for r in results {
        checked_files.extend(r.closure);
        for (key, d) in r.duplicates {
            if reported_dups.insert(key) {
                diags.push(d);
            }
        }
        diags.absorb(r.diags);
        used.extend(r.used);
        policies.extend(r.policies);
    }
    // Only a whole directory is expected to cover every channel.
    let whole_dir = paths.iter().all(|p| p.is_dir());
    // A duplicate is never looked up, so it is not "unused" as well.
    used.extend(reported_dups);
    whole_set_lints(
        &loaded,
        &checked_files,
        &used,
        &policies,
        whole_dir,
        &mut diags,
    );
    // The program is the whole directory's: an error anywhere withholds it.
    let has_errors = diags.has_errors();
    let schema = Arc::new(schema.clone());
    let diagnostics = match focus {
        Some(files) => focused(&loaded, &files, diags.into_vec()),
        None => diags.into_vec(),
    };
    let sources = Arc::new(loaded.sources);
    let program = (!has_errors).then(|| hir::Program {
        schema,
        policies,
        sources: Arc::clone(&sources),
    });
    Checked {
        diagnostics,
        program,
        sources,
        files: loaded.files,
    }
}

/// The diagnostics for named files: every error (an error anywhere in the
/// directory withholds the program, and may come from the named file, as a
/// second policy for a channel does), but warnings only about the named
/// files and what they import.
fn focused(loaded: &load::Loaded, files: &[PathBuf], all: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let wanted: HashSet<PathBuf> = files.iter().filter_map(|f| f.canonicalize().ok()).collect();
    let named: Vec<FileId> = loaded
        .sources
        .iter()
        .filter(|(_, f)| wanted.contains(&f.path))
        .map(|(id, _)| id)
        .collect();
    let keep: HashSet<&str> = named
        .iter()
        .flat_map(|id| loaded.closure(*id))
        .filter_map(|id| loaded.sources.get(id).map(|f| f.name.as_str()))
        .collect();
    all.into_iter()
        .filter(|d| {
            is_error(d.as_ref())
                || match diags::source_name(d.as_ref()) {
                    Some(name) if name.ends_with(".rpl") => keep.contains(name.as_str()),
                    _ => true,
                }
        })
        .collect()
}

/// What checking one file found.
struct FileResult {
    closure: Vec<FileId>,
    duplicates: Vec<(scope::DefKey, CheckError)>,
    diags: Diags,
    used: HashSet<scope::DefKey>,
    policies: Vec<hir::CheckedPolicy>,
}

/// Checks the policies of one file against what it and its imports define;
/// `None` when an import is broken (that would only cause follow-on errors).
fn check_file(
    loaded: &load::Loaded,
    schema: &Schema,
    id: FileId,
    file: &ast::File,
) -> Option<FileResult> {
    let closure = loaded.closure(id);
    if !closure.iter().all(|f| loaded.is_complete(*f)) {
        return None;
    }
    let mut used = HashSet::new();
    let defs = closure
        .iter()
        .filter_map(|f| loaded.file(*f))
        .flat_map(|f| f.items.iter().filter_map(Def::of));
    let (scope, dups) = Scope::new(defs);
    let duplicates = dups
        .into_iter()
        .map(|(first, second)| {
            let error = CheckError::DuplicateName {
                what: second.what(),
                name: second.name().name.clone(),
                scope: "across a file and the files it imports",
                src: loaded.sources.named_source(second.name().span.file),
                span: second.name().span.into(),
                first: (first.name().span.file == second.name().span.file)
                    .then(|| first.name().span.into()),
            };
            (scope::key(second.name().span), error)
        })
        .collect();
    let mut diags = Diags::default();
    let mut calendars = HashMap::new();
    let mut env = policy::Env {
        schema,
        sources: &loaded.sources,
        root: &loaded.root,
        calendars: &mut calendars,
    };
    let policies = file
        .items
        .iter()
        .filter_map(|item| match item {
            ast::Item::Policy(p) => {
                policy::check_policy(p, &scope, &mut env, &mut diags, &mut used)
            }
            _ => None,
        })
        .collect();
    drop(scope);
    Some(FileResult {
        closure,
        duplicates,
        diags,
        used,
        policies,
    })
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
        for (i, name) in schema.channels.variants().iter().enumerate() {
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
        let items = file.iter().flat_map(|f| &f.items);
        let top_level = items.clone().filter_map(Def::of);
        // Constants declared inside a policy count too.
        let in_policies = items
            .filter_map(|i| match i {
                ast::Item::Policy(p) => Some(&p.items),
                _ => None,
            })
            .flatten()
            .filter_map(|i| match i {
                ast::PolicyItem::Const(c) => Some(Def::Const(c)),
                _ => None,
            });
        for def in top_level.chain(in_policies) {
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
