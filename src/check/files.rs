//! The files of a policy directory as the checker sees them: the schema,
//! every policy file parsed, and the imports between them, all from
//! in-memory [`Sources`].

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use rayon::prelude::*;

use super::diags::Diags;
use super::error::CheckError;
use crate::load::LoadError;
use crate::schema::Schema;
use crate::source::{Entry, FileId, Missing, SourceFile, SourceMap, Sources, Span};
use crate::syntax::{self, SyntaxError, ast};

pub struct Files<'s> {
    pub input: &'s Sources,
    pub sources: SourceMap,
    pub schema: Option<Schema>,
    /// Parsed files in id order, `None` where the file had a syntax error.
    pub files: Vec<(FileId, Option<ast::File>)>,
    /// Each policy file's id, by its path in `input`.
    pub ids: HashMap<String, FileId>,
    /// The files each file imports, by id.
    pub imports: HashMap<FileId, Vec<FileId>>,
    /// The other way: the files importing each file.
    pub importers: HashMap<FileId, Vec<FileId>>,
    /// Files with an import that could not be followed (missing, a
    /// directory, outside the policy directory).
    pub broken_imports: HashSet<FileId>,
}

impl Files<'_> {
    pub fn file(&self, id: FileId) -> Option<&ast::File> {
        // Files are pushed in the order their ids are given out, so sorted.
        let i = self.files.binary_search_by_key(&id, |(f, _)| *f).ok()?;
        self.files.get(i).and_then(|(_, a)| a.as_ref())
    }

    /// The file and everything it imports, transitively, the file first,
    /// then breadth first in import order.
    pub fn closure(&self, id: FileId) -> Vec<FileId> {
        let mut out = vec![id];
        let mut seen: HashSet<FileId> = HashSet::from([id]);
        let mut i = 0;
        while let Some(&f) = out.get(i) {
            for &g in self.imports.get(&f).map(Vec::as_slice).unwrap_or_default() {
                if seen.insert(g) {
                    out.push(g);
                }
            }
            i += 1;
        }
        out
    }

    fn importers_of(&self, id: FileId) -> &[FileId] {
        self.importers
            .get(&id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The files `starts` and every file that imports one of them,
    /// directly or not: each file and import is visited once.
    pub fn reaching(&self, starts: impl IntoIterator<Item = FileId>) -> HashSet<FileId> {
        let mut seen = HashSet::new();
        let mut todo: Vec<FileId> = starts.into_iter().filter(|f| seen.insert(*f)).collect();
        while let Some(f) = todo.pop() {
            for &g in self.importers_of(f) {
                if seen.insert(g) {
                    todo.push(g);
                }
            }
        }
        seen
    }

    /// The files whose closure is complete: each file in it parsed and
    /// every import followed. Worked out once for all files, from the
    /// incomplete ones to the files importing them, so a long chain of
    /// imports costs its length, not its square.
    pub fn complete(&self) -> HashSet<FileId> {
        let bad = self.reaching(
            self.files
                .iter()
                .filter(|(id, f)| f.is_none() || self.broken_imports.contains(id))
                .map(|(id, _)| *id),
        );
        self.files
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !bad.contains(id))
            .collect()
    }
}

/// Reads the schema and every policy file of `input`, parses the files in
/// parallel, and follows their imports. Problems the loader met are
/// reported here, where it is known what they matter to.
pub fn read<'s>(input: &'s Sources, diags: &mut Diags) -> Files<'s> {
    let mut sources = SourceMap::default();
    for (path, why) in input.problems() {
        diags.push(LoadError::unreadable(input.display(path), why));
    }
    let schema_name = input.display("schema.toml");
    let schema = match input.get("schema.toml") {
        Some(Entry::Text(text)) => {
            let id = sources.add(
                PathBuf::from("schema.toml"),
                schema_name.clone(),
                text.clone(),
            );
            match Schema::parse(id, &schema_name, text) {
                Ok(s) => Some(s),
                Err(errs) => {
                    for e in errs {
                        diags.push(e);
                    }
                    None
                }
            }
        }
        Some(Entry::Unreadable(why)) => {
            diags.push(LoadError::unreadable(schema_name, why));
            None
        }
        None => {
            diags.push(LoadError::NoSchema {
                path: shown_root(input),
            });
            None
        }
    };

    let mut files = Files {
        input,
        sources,
        schema,
        files: Vec::new(),
        ids: HashMap::new(),
        imports: HashMap::new(),
        importers: HashMap::new(),
        broken_imports: HashSet::new(),
    };
    let listed = input.policy_files();
    let mut to_parse: Vec<FileId> = Vec::with_capacity(listed.len());
    for path in &listed {
        match input.get(path) {
            Some(Entry::Text(text)) => {
                let name = input.display(path);
                let id =
                    files
                        .sources
                        .push(SourceFile::new(PathBuf::from(path), name, text.clone()));
                files.ids.insert(path.clone(), id);
                to_parse.push(id);
            }
            Some(Entry::Unreadable(why)) => {
                diags.push(LoadError::unreadable(input.display(path), why));
            }
            None => {}
        }
    }
    if listed.is_empty() && !diags.has_errors() {
        diags.push(LoadError::NoPolicies {
            path: shown_root(input),
        });
    }
    let sources = &files.sources;
    let parsed: Vec<(FileId, Result<ast::File, Box<SyntaxError>>)> = to_parse
        .into_par_iter()
        .filter_map(|id| Some((id, syntax::parse(id, sources.get(id)?))))
        .collect();
    let mut pending: Vec<(FileId, Vec<(String, Span)>)> = Vec::new();
    for (id, parsed) in parsed {
        let parsed = match parsed {
            Ok(f) => Some(f),
            Err(mut e) => {
                // The syntax stage knows which field a name that is not
                // ASCII stood for a value of; the schema knows its values.
                if let Some(values) = e
                    .value_of()
                    .and_then(|f| values_of(files.schema.as_ref()?, f))
                {
                    e.with_values(&values);
                }
                diags.push(*e);
                None
            }
        };
        let imported = follow_imports(&mut files, id, parsed.as_ref(), diags);
        files.files.push((id, parsed));
        pending.push((id, imported));
    }
    resolve_imports(&mut files, pending, diags);
    files
}

/// The values a field, a setting or an outcome field takes, for messages:
/// `` `a`, `b` ``.
fn values_of(schema: &Schema, name: &str) -> Option<String> {
    let d = &schema.decision;
    let e = match name {
        "route" => &d.route,
        "documents" => &d.documents,
        "offers" => &d.offers,
        "return_shipping" => &d.return_shipping,
        "installments" => &d.installments,
        "channel" => &schema.channels,
        "decision" => return Some("`approve`, `deny`, `review`".to_owned()),
        field => match &schema.field(schema.lookup(field)?).ty {
            crate::schema::FieldType::Enum(e) => e,
            _ => return None,
        },
    };
    Some(crate::schema::scalar::backticked(
        e.variants().iter().map(String::as_str),
    ))
}

fn shown_root(input: &Sources) -> String {
    match input.root() {
        "" => ".".to_owned(),
        root => root.to_owned(),
    }
}

fn path_of(f: &SourceFile) -> String {
    f.path.to_string_lossy().into_owned()
}

/// Resolves a file's imports: the paths of the files imported, with the
/// span of each import; imports that cannot be followed are reported and
/// mark the file.
fn follow_imports(
    files: &mut Files<'_>,
    id: FileId,
    parsed: Option<&ast::File>,
    diags: &mut Diags,
) -> Vec<(String, Span)> {
    let input = files.input;
    let from = files.sources.get(id).map(path_of).unwrap_or_default();
    let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
    let mut imported = Vec::new();
    for item in parsed.iter().flat_map(|f| &f.items) {
        let ast::Item::Import(imp) = item else {
            continue;
        };
        let written = imp.path.value.as_str();
        let src = files.sources.named_source(id);
        let missing = |reason: &str, suggestion: Option<String>| CheckError::MissingImport {
            path: written.to_owned(),
            reason: reason.to_owned(),
            suggestion,
            src: src.clone(),
            span: imp.path.span.into(),
        };
        let problem = match input.resolve(dir, written) {
            Ok(target) if !target.ends_with(".rpl") => {
                missing("only `.rpl` files can be imported", None)
            }
            Ok(target) => match input.get(&target) {
                Some(Entry::Text(_)) => {
                    imported.push((target, imp.path.span));
                    continue;
                }
                Some(Entry::Unreadable(why)) => {
                    // Reported once, as the file's own problem; an import
                    // of it says nothing more.
                    diags.push(LoadError::unreadable(input.display(&target), why));
                    files.broken_imports.insert(id);
                    continue;
                }
                None => missing("no such file", None),
            },
            Err(Missing::Outside) => CheckError::ImportOutsideRoot {
                path: written.to_owned(),
                root: shown_root(input),
                src: src.clone(),
                span: imp.path.span.into(),
            },
            Err(Missing::NotFound) => missing("no such file", similar_file(input, dir, written)),
            Err(Missing::Absolute) => missing(
                "an absolute path; a policy directory names its files relative to the importing file",
                None,
            ),
            Err(Missing::Dir) => missing("it is a directory", None),
            Err(Missing::NotADirectory) => missing("not a directory", None),
            Err(Missing::Hidden) => {
                missing("hidden files are not part of the policy directory", None)
            }
        };
        diags.push(problem);
        files.broken_imports.insert(id);
    }
    imported
}

/// A policy file beside the one `written` (from the folder `dir`) names,
/// whose name is close to its name, as the import would spell it.
fn similar_file(input: &Sources, dir: &str, written: &str) -> Option<String> {
    let (folder, wanted) = match written.rsplit_once('/') {
        Some((f, w)) => (Some(f), w),
        None => (None, written),
    };
    let base = match folder {
        Some(f) => input.resolve_folder(dir, f)?,
        None => dir.to_owned(),
    };
    let found = super::error::did_you_mean(wanted, input.policy_files_in(&base))?;
    Some(format!(
        "{}{found}",
        written.strip_suffix(wanted).unwrap_or("")
    ))
}

fn resolve_imports(
    loaded: &mut Files<'_>,
    pending: Vec<(FileId, Vec<(String, Span)>)>,
    diags: &mut Diags,
) {
    let mut spans: HashMap<(FileId, FileId), Span> = HashMap::new();
    for (id, list) in pending {
        let targets: Vec<FileId> = list
            .iter()
            .filter_map(|(p, span)| {
                let t = loaded.ids.get(p).copied()?;
                spans.insert((id, t), *span);
                Some(t)
            })
            .collect();
        for &t in &targets {
            loaded.importers.entry(t).or_default().push(id);
        }
        loaded.imports.insert(id, targets);
    }
    // A cycle is reported at the import that closes it: one per import
    // that leads back to a file still being followed.
    for cycle in find_cycles(loaded) {
        let (Some(&last), Some(&first)) = (cycle.last(), cycle.first()) else {
            continue;
        };
        let Some(span) = spans.get(&(last, first)).copied() else {
            continue;
        };
        let names: Vec<String> = cycle
            .iter()
            .chain(std::iter::once(&first))
            .map(|f| {
                loaded
                    .sources
                    .get(*f)
                    .map(|s| s.name.clone())
                    .unwrap_or_default()
            })
            .collect();
        diags.push(CheckError::ImportCycle {
            cycle: names.join(" → "),
            src: loaded.sources.named_source(last),
            span: span.into(),
        });
    }
}

/// The import cycles, each as the files on it from the one first reached:
/// a depth-first walk that visits every file and import once (a walk of
/// every path would take exponential time on layered imports), written
/// without recursion so a long chain of imports cannot exhaust the stack.
fn find_cycles(loaded: &Files<'_>) -> Vec<Vec<FileId>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks: HashMap<FileId, Mark> = HashMap::new();
    let mut cycles = Vec::new();
    let no_imports: &[FileId] = &[];
    for &(root, _) in &loaded.files {
        if marks.get(&root).copied().unwrap_or(Mark::New) != Mark::New {
            continue;
        }
        // The files being followed, each with how many of its imports are done.
        let mut stack: Vec<(FileId, usize)> = vec![(root, 0)];
        marks.insert(root, Mark::Open);
        while let Some((file, next)) = stack.last().copied() {
            let imports = loaded.imports.get(&file).map_or(no_imports, Vec::as_slice);
            let Some(&target) = imports.get(next) else {
                marks.insert(file, Mark::Done);
                stack.pop();
                continue;
            };
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            match marks.get(&target).copied().unwrap_or(Mark::New) {
                Mark::New => {
                    marks.insert(target, Mark::Open);
                    stack.push((target, 0));
                }
                Mark::Open => {
                    let from = stack.iter().position(|(f, _)| *f == target).unwrap_or(0);
                    cycles.push(
                        stack
                            .get(from..)
                            .unwrap_or_default()
                            .iter()
                            .map(|(f, _)| *f)
                            .collect(),
                    );
                }
                Mark::Done => {}
            }
        }
    }
    cycles
}
