//! Stage 2: syntax trees + schema → checked program, with every problem
//! reported at once.
//!
//! [`check`] takes a policy directory in memory ([`Sources`]: the schema,
//! the `.rpl` files, calendars), parses the files, follows their imports,
//! resolves names, types every expression against the schema and runs the
//! lints. It returns all diagnostics, and the [`hir::Program`] when there
//! was no error. It never touches the disk: `crate::load` reads a
//! directory into `Sources`.

mod diags;
pub mod error;
mod files;
pub mod hir;
mod policy;
mod scope;
mod types;

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use std::sync::Arc;

pub use diags::{Diagnostic_ as Diagnostic, is_error};
pub use error::CheckError;

use diags::Diags;
use files::Files;
use scope::{Def, Scope};

use crate::schema::Schema;
use crate::source::{FileId, SourceMap, Sources};
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
    /// What a later look held back, for people (not diagnostics): the
    /// tests the analysis could only sample, so no lint rests on them.
    pub notes: Vec<String>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| is_error(d.as_ref()))
    }

    /// A check that could not start: only these diagnostics.
    pub fn failed(diagnostics: Vec<Diagnostic>) -> Checked {
        Checked {
            diagnostics,
            program: None,
            sources: Arc::default(),
            files: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Checks the policy directory `input`. With `focus` (paths of files, or
/// folders, in it), only what concerns those files is reported, but
/// always in the light of the whole directory: what a shared file defines
/// is only checked where a policy uses it.
pub fn check(input: &Sources, focus: Option<&[String]>) -> Checked {
    let mut diags = Diags::default();
    let files = files::read(input, &mut diags);
    let Some(schema) = files.schema.as_ref() else {
        return Checked {
            diagnostics: diags.into_vec(),
            program: None,
            sources: Arc::new(files.sources),
            files: files.files,
            notes: Vec::new(),
        };
    };
    let complete = files.complete();
    let scoped = needing_scope(&files, &complete);
    let suggested = channel_suggestions(&files, schema);
    // Files are checked on rayon's pool, each with its own scope and
    // collector; the results are merged in file order, so the output does
    // not depend on scheduling.
    let results: Vec<FileResult> = files
        .files
        .par_iter()
        // One file per task: the few files holding policies carry nearly
        // all the work, and side by side they would land in one task.
        .with_max_len(1)
        .filter(|(id, _)| scoped.contains(id))
        .filter_map(|(id, file)| Some(check_file(&files, schema, &suggested, *id, file.as_ref()?)))
        .collect();
    let mut policies: Vec<hir::CheckedPolicy> = Vec::new();
    let mut used = HashSet::new();
    let mut reported_dups = HashSet::new();
    for r in results {
        for (key, d) in r.duplicates {
            if reported_dups.insert(key) {
                diags.push(d);
            }
        }
        diags.absorb(r.diags);
        used.extend(r.used);
        policies.extend(r.policies);
    }
    // A duplicate is never looked up, so it is not "unused" as well.
    used.extend(reported_dups);
    whole_set_lints(
        &files,
        &complete,
        &used,
        &policies,
        focus.is_none(),
        &mut diags,
    );
    // The program is the whole directory's: an error anywhere withholds it.
    let has_errors = diags.has_errors();
    let schema = Arc::new(schema.clone());
    let diagnostics = match focus {
        Some(named) => focused(&files, named, diags.into_vec()),
        None => diags.into_vec(),
    };
    let sources = Arc::new(files.sources);
    let program = (!has_errors).then(|| hir::Program {
        schema,
        policies,
        sources: Arc::clone(&sources),
    });
    Checked {
        diagnostics,
        program,
        sources,
        files: files.files,
        notes: Vec::new(),
    }
}

/// For each policy without a `channel`, one to offer in the help: a
/// channel no policy sets and none other is offered, the one named like
/// the policy if there is such. A help must not suggest a fix that clashes.
fn channel_suggestions(files: &Files<'_>, schema: &Schema) -> HashMap<scope::DefKey, String> {
    let policies: Vec<&ast::Policy> = files
        .files
        .iter()
        .filter_map(|(_, f)| f.as_ref())
        .flat_map(|f| &f.items)
        .filter_map(|i| match i {
            ast::Item::Policy(p) => Some(p),
            _ => None,
        })
        .collect();
    fn channel_of(p: &ast::Policy) -> Option<&ast::Expr> {
        p.items.iter().find_map(|i| match i {
            ast::PolicyItem::Setting(s) if s.key.name == "channel" => Some(&s.value),
            _ => None,
        })
    }
    let mut free: Vec<&str> = schema
        .channels
        .variants()
        .iter()
        .map(String::as_str)
        .filter(|c| {
            !policies.iter().any(|p| {
                channel_of(p).is_some_and(|v| matches!(&v.kind, ast::ExprKind::Path(x) if x == c))
            })
        })
        .collect();
    let mut out = HashMap::new();
    for p in policies.iter().filter(|p| channel_of(p).is_none()) {
        let pick = free
            .iter()
            .position(|c| *c == p.name.name)
            .or_else(|| (!free.is_empty()).then_some(0));
        if let Some(i) = pick {
            out.insert(scope::key(p.name.span), free.remove(i).to_owned());
        }
    }
    out
}

/// The files to build a scope for: those holding a policy (to check it),
/// and those that see two definitions of one name (to report them). Any
/// other file's scope would find nothing, and in a long chain of imports
/// building one per file would cost the chain's length squared.
fn needing_scope(files: &Files<'_>, complete: &HashSet<FileId>) -> HashSet<FileId> {
    let mut need: HashSet<FileId> = HashSet::new();
    let mut definers: HashMap<&str, Vec<FileId>> = HashMap::new();
    for (id, file) in &files.files {
        let Some(file) = file.as_ref().filter(|_| complete.contains(id)) else {
            continue;
        };
        if file.items.iter().any(|i| matches!(i, ast::Item::Policy(_))) {
            need.insert(*id);
        }
        for def in file.items.iter().filter_map(Def::of) {
            definers
                .entry(def.name().name.as_str())
                .or_default()
                .push(*id);
        }
    }
    for ids in definers.values().filter(|ids| ids.len() > 1) {
        let mut count: HashMap<FileId, usize> = HashMap::new();
        for (i, &definer) in ids.iter().enumerate() {
            // A file defining the name twice counts once per definition.
            if ids.get(..i).is_some_and(|before| before.contains(&definer)) {
                *count.entry(definer).or_default() += 1;
                continue;
            }
            // Every file that reaches a definer sees its definitions.
            for f in files.reaching([definer]) {
                *count.entry(f).or_default() += 1;
            }
        }
        need.extend(count.into_iter().filter(|(_, n)| *n > 1).map(|(f, _)| f));
    }
    need.retain(|id| complete.contains(id));
    need
}

/// The diagnostics for named files: every error (an error anywhere in the
/// directory withholds the program, and may come from the named file, as a
/// second policy for a channel does), but warnings only about the named
/// files and what they import.
fn focused(files: &Files<'_>, named: &[String], all: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let input = files.input;
    let mut ids: Vec<FileId> = Vec::new();
    for n in named {
        match input.resolve("", n) {
            Ok(path) => ids.extend(files.ids.get(&path)),
            Err(_) => {
                // A folder: the files in it.
                let Some(folder) = input.resolve_folder("", n) else {
                    continue;
                };
                let prefix = format!("{folder}/");
                ids.extend(
                    files
                        .ids
                        .iter()
                        .filter(|(p, _)| p.starts_with(&prefix))
                        .map(|(_, id)| *id),
                );
            }
        }
    }
    let keep: HashSet<&str> = ids
        .iter()
        .flat_map(|id| files.closure(*id))
        .filter_map(|id| files.sources.get(id).map(|f| f.name.as_str()))
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
    duplicates: Vec<(scope::DefKey, CheckError)>,
    diags: Diags,
    used: HashSet<scope::DefKey>,
    policies: Vec<hir::CheckedPolicy>,
}

/// Checks the policies of one file against what it and its imports define
/// (only for a file whose imports are complete: a broken one would only
/// cause follow-on errors).
fn check_file(
    loaded: &Files<'_>,
    schema: &Schema,
    suggested: &HashMap<scope::DefKey, String>,
    id: FileId,
    file: &ast::File,
) -> FileResult {
    let closure = loaded.closure(id);
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
        files: loaded.input,
        channel_suggestions: suggested,
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
    FileResult {
        duplicates,
        diags,
        used,
        policies,
    }
}

/// Lints over the whole directory: one policy per channel, every channel
/// covered, policy names unique, every definition used.
fn whole_set_lints(
    loaded: &Files<'_>,
    checked_files: &HashSet<FileId>,
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
    if diags.incomplete || checked_files.len() < loaded.files.len() {
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

/// For the other stages' unit tests: a policy file checked in memory,
/// beside the shipped schema and calendar, as `memory/official_mall.rpl`.
#[cfg(test)]
pub(crate) fn checked_in_memory(policy: &str) -> hir::Program {
    let sources = Sources::new("memory")
        .with("schema.toml", crate::schema::Schema::BUILTIN)
        .with(
            "calendars/cn.toml",
            include_str!("../../policies/calendars/cn.toml"),
        )
        .with("official_mall.rpl", policy);
    let checked = check(&sources, None);
    match checked.program {
        Some(p) => p,
        None => panic!("the test policy does not check: {:?}", checked.diagnostics),
    }
}
