//! Reading a policy directory from disk into [`Sources`], confined to it.
//!
//! The walk lists every folder once, without following symlinks, and
//! reads the regular `.rpl` and `.toml` files it finds (in parallel):
//!
//! - a name starting with `.` is skipped, file or folder;
//! - a symlink is resolved; one that leads out of the directory is never
//!   read (a file is recorded as unreadable, a folder as not followed),
//!   one that stays in is recorded as a link, and a folder it leads to is
//!   read where it really is, so a cycle of links is never walked;
//! - anything that is not a regular file (a FIFO, a socket, a device) is
//!   recorded and never opened: opening some of them blocks or has effects;
//! - a file over the size limit is not read, and one that is not UTF-8 is
//!   recorded with the offset of its first bad byte.
//!
//! A file is opened without following a symlink and checked again once
//! open, so a file swapped for a symlink or a FIFO between the listing and
//! the read is caught, not followed.

use std::fs::{File, Metadata};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::io_reason;
use crate::source::{Entry, Sources, Unreadable};

/// A file to read: its path in the directory, and where it is on disk.
struct Pending {
    path: String,
    disk: PathBuf,
}

/// Reads the directory `root` (canonical) into sources named under `shown`.
pub fn read_dir(root: &Path, shown: String, limit: u64) -> Sources {
    let mut sources = Sources::new(shown);
    let mut pending = Vec::new();
    // Folders still to list, without recursion: depth is the file system's.
    let mut folders: Vec<(PathBuf, String)> = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = folders.pop() {
        let listing = match std::fs::read_dir(&dir) {
            Ok(l) => l,
            Err(e) => {
                let at = if rel.is_empty() { ".".to_owned() } else { rel };
                sources.insert_problem(
                    at,
                    Unreadable::Io {
                        reason: io_reason(&e),
                    },
                );
                continue;
            }
        };
        let mut entries: Vec<(String, std::fs::DirEntry)> = listing
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e)))
            .filter(|(name, _)| !name.starts_with('.'))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, entry) in entries {
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let wanted = is_wanted(&name);
            if kind.is_dir() {
                folders.push((entry.path(), path));
            } else if kind.is_symlink() {
                symlink(
                    &mut sources,
                    &mut pending,
                    root,
                    &entry.path(),
                    path,
                    wanted,
                );
            } else if !wanted {
            } else if kind.is_file() {
                pending.push(Pending {
                    path,
                    disk: entry.path(),
                });
            } else {
                sources.insert_entry(
                    path,
                    unreadable(Unreadable::NotRegular {
                        kind: kind_name(&kind),
                    }),
                );
            }
        }
    }
    let read: Vec<(String, Entry)> = pending
        .into_par_iter()
        .map(|p| (p.path, read_file(&p.disk, limit)))
        .collect();
    for (path, entry) in read {
        sources.insert_entry(path, entry);
    }
    sources
}

/// The files the loader reads: policies, and the TOML of the schema and
/// calendars.
fn is_wanted(name: &str) -> bool {
    name.ends_with(".rpl") || name.ends_with(".toml")
}

fn unreadable(why: Unreadable) -> Entry {
    Entry::Unreadable(why)
}

/// A symlink at `path`: followed only inside the directory.
fn symlink(
    sources: &mut Sources,
    pending: &mut Vec<Pending>,
    root: &Path,
    disk: &Path,
    path: String,
    wanted: bool,
) {
    let target = match std::fs::canonicalize(disk) {
        Ok(t) => t,
        Err(e) => {
            // Dangling, or a cycle of links.
            if wanted {
                sources.insert_entry(
                    path,
                    unreadable(Unreadable::Io {
                        reason: io_reason(&e),
                    }),
                );
            }
            return;
        }
    };
    let is_dir = target.is_dir();
    let Ok(inside) = target.strip_prefix(root).map(path_text) else {
        let target = target.display().to_string();
        if is_dir {
            sources.insert_link(path.clone(), None);
            sources.insert_problem(path, Unreadable::FolderOutsideRoot { target });
        } else if wanted {
            sources.insert_entry(path, unreadable(Unreadable::OutsideRoot { target }));
        }
        return;
    };
    let Some(inside) = inside else {
        return;
    };
    if is_dir {
        // Its files are read where they really are.
        sources.insert_link(path, Some(inside));
        return;
    }
    if !wanted {
        return;
    }
    // The target is read under its own path, which the listing skips when
    // it is hidden or not a `.rpl` or `.toml` file.
    let listed = inside
        .rsplit('/')
        .next()
        .is_some_and(|name| is_wanted(name) && !inside.split('/').any(|p| p.starts_with('.')));
    if !listed {
        pending.push(Pending {
            path: inside.clone(),
            disk: target,
        });
    }
    sources.insert_link(path, Some(inside));
}

/// A path below the root as the sources write it; `None` for the root
/// itself or a name that is not UTF-8.
fn path_text(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel.iter().map(|p| p.to_str()).collect();
    let text = parts?.join("/");
    (!text.is_empty()).then_some(text)
}

fn kind_name(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
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

/// Opens a file found as a regular file (or the real path of a symlink)
/// and reads it, at most `limit` bytes.
fn read_file(disk: &Path, limit: u64) -> Entry {
    let file = match open(disk) {
        Ok(f) => f,
        Err(e) => {
            return unreadable(Unreadable::Io {
                reason: io_reason(&e),
            });
        }
    };
    // Checked again on the open file: the listing may be stale.
    let meta: Metadata = match file.metadata() {
        Ok(m) => m,
        Err(e) => {
            return unreadable(Unreadable::Io {
                reason: io_reason(&e),
            });
        }
    };
    if !meta.is_file() {
        return unreadable(Unreadable::NotRegular {
            kind: kind_name(&meta.file_type()),
        });
    }
    if meta.len() > limit {
        return unreadable(Unreadable::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or_default());
    if let Err(e) = file.take(limit.saturating_add(1)).read_to_end(&mut bytes) {
        return unreadable(Unreadable::Io {
            reason: io_reason(&e),
        });
    }
    if bytes.len() as u64 > limit {
        // It grew while being read.
        return unreadable(Unreadable::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    text_entry(bytes)
}

/// The text of a file; one that is not UTF-8 is recorded with where.
fn text_entry(bytes: Vec<u8>) -> Entry {
    match String::from_utf8(bytes) {
        // Valid UTF-8, the rule, is checked fast and not copied.
        Ok(text) => Entry::Text(Arc::from(text)),
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let byte = e.as_bytes().get(offset).copied().unwrap_or_default();
            let text = Arc::from(String::from_utf8_lossy(e.as_bytes()).into_owned());
            unreadable(Unreadable::NotUtf8 { offset, byte, text })
        }
    }
}

/// Opens without following a symlink, and without blocking on a FIFO
/// swapped in since the listing (it is then refused as not regular).
fn open(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path)
}
