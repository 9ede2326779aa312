//! Finding and reading the files of a policy directory: the schema, every
//! `.rpl` file named or found, and everything they import.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::diags::Diags;
use super::error::{CheckError, LoadError};
use crate::schema::Schema;
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::syntax::{self, SyntaxError, ast};

pub struct Loaded {
    pub sources: SourceMap,
    pub schema: Option<Schema>,
    /// Canonical policy directory: imports may not leave it.
    pub root: PathBuf,
    /// Parsed files in id order, `None` where the file had a syntax error.
    pub files: Vec<(FileId, Option<ast::File>)>,
    /// The files each file imports, by id.
    pub imports: HashMap<FileId, Vec<FileId>>,
    /// Files with an import that could not be followed (missing, a
    /// directory, outside the policy directory).
    pub broken_imports: HashSet<FileId>,
}

impl Loaded {
    /// Whether the file parsed and every import it names was followed.
    pub fn is_complete(&self, id: FileId) -> bool {
        self.file(id).is_some() && !self.broken_imports.contains(&id)
    }

    pub fn file(&self, id: FileId) -> Option<&ast::File> {
        // Files are pushed in the order their ids are given out, so sorted.
        let i = self.files.binary_search_by_key(&id, |(f, _)| *f).ok()?;
        self.files.get(i).and_then(|(_, a)| a.as_ref())
    }

    /// The file and everything it imports, transitively, the file first.
    pub fn closure(&self, id: FileId) -> Vec<FileId> {
        let mut out = vec![id];
        let mut i = 0;
        while let Some(&f) = out.get(i) {
            for &g in self.imports.get(&f).map(Vec::as_slice).unwrap_or_default() {
                if !out.contains(&g) {
                    out.push(g);
                }
            }
            i += 1;
        }
        out
    }
}

/// The directory a path belongs to: itself, or a file's folder; then up
/// until one holds `schema.toml`.
pub fn find_root(path: &Path) -> Option<PathBuf> {
    let start = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()?.to_path_buf()
    };
    let start = if start.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        start
    };
    let mut dir = start.canonicalize().ok()?;
    loop {
        if dir.join("schema.toml").is_file() {
            return Some(dir);
        }
        dir = dir.parent()?.to_path_buf();
    }
}

/// Paths as the loader resolves and shows them, with what it learnt cached:
/// a thousand files importing `../shared.rpl` would otherwise ask the file
/// system the same question a thousand times.
struct Paths {
    /// The canonical working directory, which names are shown relative to.
    cwd: Option<PathBuf>,
    /// Each path met, as written, to its canonical form and whether that is
    /// a directory. A canonical path is its own canonical form, so it is
    /// entered too: files already read answer the imports naming them.
    /// Keyed by the exact text: `Path` equality ignores a trailing `/` or
    /// `/.`, which makes `common.rpl/` a different (and failing) path.
    canonical: HashMap<OsString, (PathBuf, bool)>,
}

impl Paths {
    fn new() -> Paths {
        Paths {
            cwd: std::env::current_dir()
                .ok()
                .and_then(|c| c.canonicalize().ok()),
            canonical: HashMap::new(),
        }
    }

    /// The canonical form of `path`, and whether it is a directory.
    fn resolve(&mut self, path: &Path) -> std::io::Result<(PathBuf, bool)> {
        if let Some(known) = self.canonical.get(path.as_os_str()) {
            return Ok(known.clone());
        }
        let canon = path.canonicalize()?;
        let resolved = (canon.clone(), canon.is_dir());
        self.canonical
            .insert(path.as_os_str().to_owned(), resolved.clone());
        self.canonical
            .insert(canon.into_os_string(), resolved.clone());
        Ok(resolved)
    }

    /// How a file is named in diagnostics: relative to the working
    /// directory when inside it.
    fn display(&self, path: &Path) -> String {
        match self.cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()) {
            Some(rel) => rel.display().to_string(),
            None => path.display().to_string(),
        }
    }
}

/// A policy file beside `missing` whose name is close to its name, as the
/// import would spell it.
fn similar_file(missing: &Path, written: &str) -> Option<String> {
    let wanted = missing.file_name()?.to_str()?;
    let dir = missing.parent()?;
    let names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".rpl"))
        .collect();
    let found = super::error::did_you_mean(wanted, names.iter().map(String::as_str))?;
    Some(format!(
        "{}{found}",
        written.strip_suffix(wanted).unwrap_or("")
    ))
}

fn rpl_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            rpl_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "rpl") {
            out.push(p);
        }
    }
    Ok(())
}

pub fn load(paths: &[PathBuf], diags: &mut Diags) -> Option<Loaded> {
    let first = paths.first()?;
    let Some(root) = find_root(first) else {
        if !first.exists() {
            diags.push(LoadError::Io {
                path: first.display().to_string(),
                reason: "no such file or directory".into(),
            });
        } else {
            diags.push(LoadError::NoSchema {
                path: first.display().to_string(),
            });
        }
        return None;
    };
    let mut names = Paths::new();
    let mut sources = SourceMap::default();
    let schema_path = root.join("schema.toml");
    let schema = match std::fs::read_to_string(&schema_path) {
        Ok(text) => {
            let name = names.display(&schema_path);
            let id = sources.add(schema_path.clone(), name.clone(), text.as_str());
            match Schema::parse(id, &name, &text) {
                Ok(s) => Some(s),
                Err(errs) => {
                    for e in errs {
                        diags.push(e);
                    }
                    None
                }
            }
        }
        Err(e) => {
            diags.push(LoadError::Io {
                path: schema_path.display().to_string(),
                reason: e.to_string(),
            });
            None
        }
    };

    let mut wanted = Vec::new();
    for p in paths {
        if p.is_dir() {
            if let Err(e) = rpl_files(p, &mut wanted) {
                diags.push(LoadError::Io {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                });
            }
        } else if p.exists() {
            wanted.push(p.clone());
        } else {
            diags.push(LoadError::Io {
                path: p.display().to_string(),
                reason: "no such file or directory".into(),
            });
        }
    }
    if wanted.is_empty() && !diags.has_errors() {
        diags.push(LoadError::NoPolicies {
            path: first.display().to_string(),
        });
    }

    let mut loaded = Loaded {
        sources,
        schema,
        root,
        files: Vec::new(),
        imports: HashMap::new(),
        broken_imports: HashSet::new(),
    };
    let mut by_path: HashMap<PathBuf, FileId> = HashMap::new();
    let mut pending: Vec<(FileId, Vec<(PathBuf, Span)>)> = Vec::new();
    // Files are read in waves: those named, then what they import, and so
    // on; each wave is parsed in parallel, then its imports are followed in
    // file order so that diagnostics come out the same on every run.
    let mut wave: Vec<PathBuf> = wanted;
    while !wave.is_empty() {
        let mut named: Vec<(PathBuf, PathBuf)> = Vec::new();
        let mut seen = HashSet::new();
        for path in std::mem::take(&mut wave) {
            let Ok((canon, _)) = names.resolve(&path) else {
                continue;
            };
            if !by_path.contains_key(&canon) && seen.insert(canon.clone()) {
                named.push((path, canon));
            }
        }
        // Reading, decoding and indexing lines are per file, so they run
        // in parallel too; ids are handed out afterwards, in file order.
        let shown = &names;
        let read: Vec<_> = named
            .into_par_iter()
            .map(|(path, canon)| {
                let file = std::fs::read(&canon).map(|bytes| {
                    // Valid UTF-8, the rule, is checked fast and not copied.
                    let text = String::from_utf8(bytes)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                    SourceFile::new(canon.clone(), shown.display(&canon), text)
                });
                (path, canon, file)
            })
            .collect();
        let mut fresh: Vec<(FileId, PathBuf)> = Vec::new();
        for (path, canon, file) in read {
            match file {
                Ok(file) => {
                    let id = loaded.sources.push(file);
                    by_path.insert(canon.clone(), id);
                    fresh.push((id, canon));
                }
                Err(e) => diags.push(LoadError::Io {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }),
            }
        }
        let sources = &loaded.sources;
        let parsed: Vec<Option<Result<ast::File, Box<SyntaxError>>>> = fresh
            .par_iter()
            .map(|(id, _)| sources.get(*id).map(|source| syntax::parse(*id, source)))
            .collect();
        for ((id, canon), parsed) in fresh.into_iter().zip(parsed) {
            let parsed = match parsed {
                Some(Ok(f)) => Some(f),
                Some(Err(e)) => {
                    diags.push(*e);
                    None
                }
                None => None,
            };
            let imported =
                follow_imports(&mut loaded, &mut names, id, &canon, parsed.as_ref(), diags);
            wave.extend(imported.iter().map(|(t, _)| t.clone()));
            loaded.files.push((id, parsed));
            // Resolved once every file has an id, below.
            pending.push((id, imported));
        }
    }
    resolve_imports(&mut loaded, pending, &by_path, diags);
    Some(loaded)
}

/// Resolves a file's imports: the files to read next, with the span of each
/// import; imports that cannot be followed are reported and mark the file.
fn follow_imports(
    loaded: &mut Loaded,
    names: &mut Paths,
    id: FileId,
    canon: &Path,
    parsed: Option<&ast::File>,
    diags: &mut Diags,
) -> Vec<(PathBuf, Span)> {
    let mut imported = Vec::new();
    for import in parsed.iter().flat_map(|f| &f.items) {
        let ast::Item::Import(imp) = import else {
            continue;
        };
        let dir = canon.parent().unwrap_or(&loaded.root);
        let target = dir.join(&imp.path.value);
        let src = loaded.sources.named_source(id);
        let followed = match names.resolve(&target) {
            Ok((t, _)) if !t.starts_with(&loaded.root) => {
                diags.push(CheckError::ImportOutsideRoot {
                    path: imp.path.value.clone(),
                    root: names.display(&loaded.root),
                    src,
                    span: imp.path.span.into(),
                });
                false
            }
            Ok((_, true)) => {
                diags.push(CheckError::MissingImport {
                    path: imp.path.value.clone(),
                    reason: "it is a directory".into(),
                    suggestion: None,
                    src,
                    span: imp.path.span.into(),
                });
                false
            }
            Ok((t, false)) => {
                imported.push((t, imp.path.span));
                true
            }
            Err(e) => {
                let (reason, suggestion) = if e.kind() == std::io::ErrorKind::NotFound {
                    (
                        "no such file".to_string(),
                        similar_file(&target, &imp.path.value),
                    )
                } else {
                    (e.to_string().to_lowercase(), None)
                };
                diags.push(CheckError::MissingImport {
                    path: imp.path.value.clone(),
                    reason,
                    suggestion,
                    src,
                    span: imp.path.span.into(),
                });
                false
            }
        };
        if !followed {
            loaded.broken_imports.insert(id);
        }
    }
    imported
}

fn resolve_imports(
    loaded: &mut Loaded,
    pending: Vec<(FileId, Vec<(PathBuf, Span)>)>,
    by_path: &HashMap<PathBuf, FileId>,
    diags: &mut Diags,
) {
    let mut spans: HashMap<(FileId, FileId), Span> = HashMap::new();
    for (id, list) in pending {
        let targets: Vec<FileId> = list
            .iter()
            .filter_map(|(p, span)| {
                let t = by_path.get(p).copied()?;
                spans.insert((id, t), *span);
                Some(t)
            })
            .collect();
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
fn find_cycles(loaded: &Loaded) -> Vec<Vec<FileId>> {
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
