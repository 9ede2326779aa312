//! Reading a policy directory from disk into [`Sources`], confined to it.
//!
//! Every access goes through a handle on the directory (`cap_std::fs::Dir`,
//! `openat` with the kernel's `RESOLVE_BENEATH` where it has it): no path
//! the walk opens can lead out of the directory, even if a folder on the
//! way is swapped for a symlink while the walk runs. On top of that:
//!
//! - a name starting with `.` is skipped, file or folder, and a name that
//!   is not UTF-8 is reported;
//! - a symlink is resolved inside the directory. One that leads out is
//!   never opened (a file is recorded as unreadable, a folder as not
//!   followed); one that stays in is recorded as a link to its target, or,
//!   when its target is not itself part of the directory (hidden, or not a
//!   `.rpl` or `.toml` file), read as a file of its own name. Folders are
//!   walked where they really are, never through a link, so a cycle of
//!   links is never walked;
//! - anything that is not a regular file (a FIFO, a socket, a device),
//!   directly or through a link, is recorded and never opened: opening
//!   some of them blocks or has effects;
//! - a file over the size limit is not read, and one that is not UTF-8 is
//!   recorded with the offset of its first bad byte.
//!
//! A file is opened without blocking and checked again once open, so one
//! swapped for a FIFO between the listing and the read is refused, not
//! waited on.

use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::{Dir, FileType};
use rayon::prelude::*;

use super::io_reason;
use crate::source::{Entry, Sources, Unreadable, bad_utf8};

/// A file to read: its path in the directory, and the path it is read from
/// (another, for a link read under its own name).
struct Pending {
    path: String,
    from: String,
}

/// Reads the directory `root` (canonical) into sources named under `shown`.
pub fn read_dir(root: &Path, shown: String, limit: u64) -> Sources {
    let mut sources = Sources::new(shown);
    let top = match Dir::open_ambient_dir(root, ambient_authority()) {
        Ok(d) => d,
        Err(e) => {
            let why = Unreadable::Io {
                reason: io_reason(&e),
            };
            sources.insert_problem(".".to_owned(), why);
            return sources;
        }
    };
    let mut pending = Vec::new();
    // Folders still to list, without recursion: depth is the file system's.
    let mut folders: Vec<(Dir, String)> = match top.try_clone() {
        Ok(d) => vec![(d, String::new())],
        Err(_) => Vec::new(),
    };
    while let Some((dir, rel)) = folders.pop() {
        let listing = match dir.entries() {
            Ok(l) => l,
            Err(e) => {
                let at = if rel.is_empty() { ".".to_owned() } else { rel };
                let why = Unreadable::Io {
                    reason: io_reason(&e),
                };
                sources.insert_problem(at, why);
                continue;
            }
        };
        let mut entries = Vec::new();
        for entry in listing {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let why = Unreadable::Io {
                        reason: io_reason(&e),
                    };
                    sources.insert_problem(join(&rel, "?"), why);
                    continue;
                }
            };
            match entry.file_name().into_string() {
                Ok(name) if name.starts_with('.') => {}
                Ok(name) => entries.push((name, entry)),
                Err(raw) => {
                    let name = raw.to_string_lossy().into_owned();
                    if !name.starts_with('.') {
                        sources.insert_problem(join(&rel, &name), Unreadable::BadName);
                    }
                }
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, entry) in entries {
            let path = join(&rel, &name);
            let kind = match entry.file_type() {
                Ok(k) => k,
                Err(e) => {
                    let why = Unreadable::Io {
                        reason: io_reason(&e),
                    };
                    sources.insert_problem(path, why);
                    continue;
                }
            };
            let wanted = is_wanted(&name);
            if kind.is_dir() {
                // Opened from its parent's handle: a swap for a symlink
                // cannot lead it out.
                match entry.open_dir() {
                    Ok(sub) => folders.push((sub, path)),
                    Err(e) => {
                        let why = Unreadable::Io {
                            reason: io_reason(&e),
                        };
                        sources.insert_problem(path, why);
                    }
                }
            } else if kind.is_symlink() {
                symlink(&mut sources, &mut pending, &top, root, path, wanted);
            } else if wanted && kind.is_file() {
                pending.push(Pending {
                    from: path.clone(),
                    path,
                });
            } else if wanted {
                let why = Unreadable::NotRegular {
                    kind: kind_name(&kind),
                };
                sources.insert_entry(path, Entry::Unreadable(why));
            }
        }
    }
    let read: Vec<(String, Entry)> = pending
        .into_par_iter()
        .map(|p| {
            let entry = read_file(&top, &p.from, limit);
            (p.path, entry)
        })
        .collect();
    for (path, entry) in read {
        sources.insert_entry(path, entry);
    }
    sources
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_owned()
    } else {
        format!("{rel}/{name}")
    }
}

/// The files the loader reads: policies, and the TOML of the schema and
/// calendars.
fn is_wanted(name: &str) -> bool {
    name.ends_with(".rpl") || name.ends_with(".toml")
}

/// Whether a file at `path` is one the walk reads: wanted by name, and
/// nothing on its path hidden.
fn is_listed(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(is_wanted) && !path.split('/').any(|p| p.starts_with('.'))
}

/// A symlink at `path`: followed only inside the directory.
fn symlink(
    sources: &mut Sources,
    pending: &mut Vec<Pending>,
    top: &Dir,
    root: &Path,
    path: String,
    wanted: bool,
) {
    let target = match top.canonicalize(&path) {
        Ok(t) => t,
        Err(e) if leads_out(&e) => {
            let target = top
                .read_link_contents(&path)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            if wanted {
                sources.insert_entry(path, Entry::Unreadable(Unreadable::OutsideRoot { target }));
            } else if std::fs::metadata(root.join(&path)).is_ok_and(|m| m.is_dir()) {
                // Only asked whether it is a folder; never opened.
                sources.insert_link(path.clone(), None);
                sources.insert_problem(path, Unreadable::FolderOutsideRoot { target });
            }
            return;
        }
        Err(e) => {
            // Dangling, or a cycle of links.
            if wanted {
                let why = Unreadable::Io {
                    reason: io_reason(&e),
                };
                sources.insert_entry(path, Entry::Unreadable(why));
            }
            return;
        }
    };
    let Some(inside) = super::path_text(&target) else {
        return;
    };
    let probe = if inside.is_empty() {
        "."
    } else {
        inside.as_str()
    };
    let kind = top.metadata(probe).map(|m| m.file_type());
    if kind.as_ref().is_ok_and(FileType::is_dir) {
        // Resolved for imports; its files are read where they really are.
        sources.insert_link(path, Some(inside));
        return;
    }
    if !wanted {
        return;
    }
    match kind {
        Ok(k) if !k.is_file() => {
            let why = Unreadable::NotRegular {
                kind: kind_name(&k),
            };
            sources.insert_entry(path, Entry::Unreadable(why));
        }
        // The same file under two names is one file.
        _ if is_listed(&inside) => sources.insert_link(path, Some(inside)),
        // A file the walk does not read (hidden, or not `.rpl` or
        // `.toml`): read under the link's name, so what is hidden stays so.
        _ => pending.push(Pending { path, from: inside }),
    }
}

/// Whether an error says a path led out of the directory.
fn leads_out(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::PermissionDenied
        && e.to_string() == "a path led outside of the filesystem"
}

fn kind_name(kind: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use cap_std::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "FIFO";
        }
        if kind.is_socket() {
            return "socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "device";
        }
    }
    let _ = kind;
    "special file"
}

/// Reads the regular file at `path` in the directory, at most `limit`
/// bytes.
pub(super) fn read_file(top: &Dir, path: &str, limit: u64) -> Entry {
    let io = |e: std::io::Error| {
        Entry::Unreadable(Unreadable::Io {
            reason: io_reason(&e),
        })
    };
    let mut options = cap_std::fs::OpenOptions::new();
    options.read(true);
    // A FIFO swapped in since the listing must not block the open.
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = match top.open_with(path, &options) {
        Ok(f) => f,
        Err(e) => return io(e),
    };
    // Checked again on the open file: the listing may be stale.
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return io(e),
    };
    if !meta.is_file() {
        let why = Unreadable::NotRegular {
            kind: kind_name(&meta.file_type()),
        };
        return Entry::Unreadable(why);
    }
    if meta.len() > limit {
        return Entry::Unreadable(Unreadable::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or_default());
    if let Err(e) = file.take(limit.saturating_add(1)).read_to_end(&mut bytes) {
        return io(e);
    }
    if bytes.len() as u64 > limit {
        // It grew while being read.
        return Entry::Unreadable(Unreadable::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    match String::from_utf8(bytes) {
        // Valid UTF-8, the rule, is checked fast and not copied.
        Ok(text) => Entry::Text(Arc::from(text)),
        Err(e) => {
            let (offset, byte) = bad_utf8(e.as_bytes(), e.utf8_error());
            let text = Arc::from(String::from_utf8_lossy(e.as_bytes()).into_owned());
            Entry::Unreadable(Unreadable::NotUtf8 { offset, byte, text })
        }
    }
}
