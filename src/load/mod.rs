//! Stage 0, the loader: the one module that reads a policy directory from
//! disk. It finds the directory a path belongs to, reads its files into
//! [`Sources`] (confined to it: see `walk`), and hands those to the
//! checker, which never touches the disk. Everything after it works on
//! memory, so an editor's unsaved buffers or a browser's files check the
//! same way.

mod error;
mod walk;

use std::path::{Path, PathBuf};

pub use error::LoadError;

use crate::check::{self, Checked, Diagnostic};
use crate::source::Sources;

/// The largest policy, schema or calendar file read (32 MiB); a larger one
/// is reported (`rpl::load::too_large`), not read.
pub const MAX_FILE_SIZE: u64 = 32 << 20;

/// A policy directory read from disk, and which of its files the paths
/// named (`None`: the whole directory).
pub struct Loaded {
    pub sources: Sources,
    pub focus: Option<Vec<String>>,
}

/// The policy directory a path belongs to: itself or a file's folder, then
/// up until one holds `schema.toml`; canonical.
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

/// The policy directory for a command run in `start` that names none: the
/// nearest folder, from `start` up, that holds `schema.toml` itself or
/// holds `policies/schema.toml`. So the same command works from the
/// project's root, from inside `policies/`, and from any folder below the
/// root (`examples/errors/`).
pub fn search_up(start: &Path) -> Result<PathBuf, LoadError> {
    for dir in start.ancestors() {
        if dir.join("schema.toml").is_file() {
            return Ok(dir.to_path_buf());
        }
        let inside = dir.join("policies");
        if inside.join("schema.toml").is_file() {
            return Ok(inside);
        }
    }
    Err(LoadError::NoPolicyDirectory {
        start: start.display().to_string(),
    })
}

/// Reads the policy directory at `root` (the folder with `schema.toml`).
pub fn read_dir(root: &Path) -> Result<Sources, LoadError> {
    let root = root.canonicalize().map_err(|e| LoadError::Io {
        path: root.display().to_string(),
        reason: io_reason(&e),
    })?;
    Ok(walk::read_dir(&root, shown(&root), MAX_FILE_SIZE))
}

/// Reads one file named on the command line (`rpl fmt FILE`), by the
/// rules of a directory's files: a regular file, opened without blocking,
/// at most [`MAX_FILE_SIZE`], UTF-8. A symlink is followed wherever it
/// leads: the user named it, no directory confines it.
pub fn read_file(path: &Path) -> Result<std::sync::Arc<str>, LoadError> {
    let shown = path.display().to_string();
    let io = |e: std::io::Error| LoadError::Io {
        path: shown.clone(),
        reason: io_reason(&e),
    };
    let real = path.canonicalize().map_err(io)?;
    let (Some(dir), Some(name)) = (real.parent(), real.file_name().and_then(|n| n.to_str())) else {
        return Err(LoadError::unreadable(
            shown.clone(),
            &crate::source::Unreadable::BadName,
        ));
    };
    let dir = cap_std::fs::Dir::open_ambient_dir(dir, cap_std::ambient_authority()).map_err(io)?;
    match walk::read_file(&dir, name, MAX_FILE_SIZE) {
        crate::source::Entry::Text(text) => Ok(text),
        crate::source::Entry::Unreadable(why) => Err(LoadError::unreadable(shown, &why)),
    }
}

/// How diagnostics name the directory: relative to the working directory
/// when inside it (empty when it is the working directory).
pub fn shown(root: &Path) -> String {
    let cwd = std::env::current_dir().and_then(|c| c.canonicalize());
    match cwd.as_deref().map(|c| root.strip_prefix(c)) {
        Ok(Ok(rel)) => rel.display().to_string(),
        _ => root.display().to_string(),
    }
}

/// Reads the policy directory that `paths` (files or folders, as `rpl
/// check` takes them) belong to, and notes which of its files they name.
/// `None` when they cannot be checked at all, with the diagnostics saying
/// why; otherwise the diagnostics are problems with some named paths that
/// leave the others to check (a schema named as if it were a policy).
pub fn load_paths(paths: &[PathBuf]) -> (Option<Loaded>, Vec<Diagnostic>) {
    let mut notes: Vec<Diagnostic> = Vec::new();
    // A named file that is not a policy (the schema, a calendar) would be
    // read as policy text and fail with a baffling syntax error.
    let (paths, others): (Vec<&PathBuf>, Vec<&PathBuf>) = paths
        .iter()
        .partition(|p| !p.is_file() || p.extension().is_some_and(|e| e == "rpl"));
    for p in others {
        notes.push(Box::new(LoadError::NotPolicyFile {
            path: p.display().to_string(),
        }));
    }
    let Some(first) = paths.first() else {
        return (None, notes);
    };
    let Some(root) = find_root(first) else {
        notes.push(Box::new(if first.exists() {
            LoadError::NoSchema {
                path: first.display().to_string(),
            }
        } else {
            no_such_file(first)
        }));
        return (None, notes);
    };
    let mut focus = Some(Vec::new());
    let mut unusable = false;
    for p in &paths {
        match named(&root, p) {
            Ok(None) => focus = None,
            Ok(Some(rel)) => {
                if let Some(f) = focus.as_mut() {
                    f.push(rel);
                }
            }
            Err(e) => {
                notes.push(Box::new(e));
                unusable = true;
            }
        }
    }
    // A path that names nothing checkable stops the check: what it meant
    // to check is unknown.
    if unusable {
        return (None, notes);
    }
    let sources = walk::read_dir(&root, shown(&root), MAX_FILE_SIZE);
    let policy_files = sources.policy_files();
    for (p, rel) in paths.iter().zip(focus.iter().flatten()) {
        let prefix = format!("{rel}/");
        if p.is_dir() && !policy_files.iter().any(|f| f.starts_with(&prefix)) {
            notes.push(Box::new(LoadError::NoPolicies {
                path: p.display().to_string(),
            }));
            unusable = true;
        }
    }
    if unusable {
        return (None, notes);
    }
    (Some(Loaded { sources, focus }), notes)
}

/// Checks the policy directory `dir` itself (the folder holding
/// `schema.toml`), as `rpl eval --policies DIR` does: unlike `rpl check`,
/// a file or folder inside it does not stand for it.
pub fn check_dir(dir: &Path) -> Checked {
    if !dir.join("schema.toml").is_file() {
        let e: Diagnostic = Box::new(if dir.exists() {
            LoadError::NoSchema {
                path: dir.display().to_string(),
            }
        } else {
            no_such_file(dir)
        });
        return Checked::failed(vec![e]);
    }
    let (loaded, notes) = load_paths(&[dir.to_path_buf()]);
    match loaded {
        Some(loaded) if notes.is_empty() => check::check(&loaded.sources, None),
        _ => Checked::failed(notes),
    }
}

fn no_such_file(p: &Path) -> LoadError {
    LoadError::Io {
        path: p.display().to_string(),
        reason: "no such file or directory".into(),
    }
}

/// Where a named path is in the directory `root`: `None` for the root
/// itself. A file's own name is kept (not followed, if a symlink), so a
/// link is checked as the file it leads to, as the directory reads it.
fn named(root: &Path, p: &Path) -> Result<Option<String>, LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        path: p.display().to_string(),
        reason: io_reason(&e),
    };
    let canonical = if p.is_dir() {
        p.canonicalize().map_err(io)?
    } else {
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let (Some(name), Ok(_)) = (p.file_name(), std::fs::symlink_metadata(p)) else {
            return Err(no_such_file(p));
        };
        parent.canonicalize().map_err(io)?.join(name)
    };
    let outside = || LoadError::NotInDirectory {
        path: p.display().to_string(),
        root: shown(root),
    };
    let rel = canonical.strip_prefix(root).map_err(|_| outside())?;
    let rel = path_text(rel).ok_or_else(outside)?;
    Ok((!rel.is_empty()).then_some(rel))
}

/// A path below a root as sources write it (`lib/common.rpl`, empty for
/// the root itself); `None` when a part is not UTF-8.
pub(crate) fn path_text(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(p) => Some(p.to_str()),
            _ => None,
        })
        .collect();
    Some(parts?.join("/"))
}

/// Checks the policy files at `paths` (files or directories; the policy
/// directory is the nearest one holding `schema.toml`): what `rpl check`
/// does, [`load_paths`] then [`check::check`], then, when that found no
/// error, the lints of [`crate::analysis`] on the compiled policies.
pub fn check_paths(paths: &[PathBuf]) -> Checked {
    let (loaded, mut notes) = load_paths(paths);
    let Some(loaded) = loaded else {
        return Checked::failed(notes);
    };
    let mut checked = check::check(&loaded.sources, loaded.focus.as_deref());
    crate::analysis::add_lints(&mut checked, loaded.focus.as_deref());
    if !notes.is_empty() {
        notes.append(&mut checked.diagnostics);
        checked.diagnostics = notes;
        checked.program = None;
    }
    checked
}

/// An I/O error as messages write it: `permission denied`, without the
/// OS error number.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A size for messages: `32 MiB (33554432 bytes)`, or `1000 bytes`.
pub fn show_size(size: u64) -> String {
    let unit = [(30, "GiB"), (20, "MiB"), (10, "KiB")]
        .into_iter()
        .find(|(shift, _)| size >= 1 << shift && size.is_multiple_of(1 << shift));
    match unit {
        Some((shift, name)) => format!("{} {name} ({size} bytes)", size >> shift),
        None => format!("{size} bytes"),
    }
}
