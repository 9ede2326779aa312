//! Where results go: stdout, or a file that is written whole or not at
//! all. A file is written to a temporary file beside it and renamed into
//! place once complete, so a run that fails or is interrupted halfway
//! never leaves a truncated file and never destroys the one already there;
//! and a path that names one of the run's inputs is refused before
//! anything is opened for writing. Records (a batch's, generated
//! requests) are gzipped when the file's name ends in `.gz`.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal as _, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;

use super::compress::Codec;
use crate::load::io_reason;

pub struct Output {
    writer: Writer,
}

/// The buffer records are written to, and what it writes through.
enum Writer {
    Plain(BufWriter<Sink>),
    Gzip(BufWriter<GzEncoder<Sink>>),
}

enum Sink {
    Stdout(io::StdoutLock<'static>),
    /// A device or pipe (`/dev/null`, a FIFO): written in place, since it
    /// cannot be replaced (and must not be).
    Direct(File),
    /// A regular file, built beside its target.
    Atomic {
        file: tempfile::NamedTempFile,
        target: PathBuf,
    },
}

impl Output {
    pub fn stdout() -> Output {
        Output::plain(Sink::Stdout(io::stdout().lock()))
    }

    fn plain(sink: Sink) -> Output {
        Output {
            writer: Writer::Plain(BufWriter::new(sink)),
        }
    }

    /// Opens `path` as [`Output::file`] does, to be gzipped when its name
    /// ends in `.gz` (what `gzip -d` and `zcat` read back). A name ending
    /// in `.zst` is refused: a file named so would not be Zstandard.
    pub fn records(path: &Path, inputs: &[&Path]) -> Result<Output, String> {
        match Codec::of(path) {
            Codec::Zstd => Err(format!(
                "cannot write `{}`: rpl reads `.zst` but does not write it; name a `.gz` or a plain file, or pipe stdout through `zstd`",
                path.display()
            )),
            Codec::Gzip => {
                // Level 6, gzip's own default.
                let gzip =
                    GzEncoder::new(Sink::file(path, inputs)?, flate2::Compression::default());
                Ok(Output {
                    writer: Writer::Gzip(BufWriter::new(gzip)),
                })
            }
            Codec::Plain => Output::file(path, inputs),
        }
    }

    /// Opens `path` for the results, refusing it when it is the same file
    /// as one of `inputs` (however it is spelt: through a symlink, with
    /// `..`, by a hard link, or as `-` with the file redirected to stdin). A symlink is followed: the file it names
    /// is the one replaced.
    pub fn file(path: &Path, inputs: &[&Path]) -> Result<Output, String> {
        Sink::file(path, inputs).map(Output::plain)
    }

    /// Whether what is written shows on a terminal.
    pub fn is_terminal(&self) -> bool {
        let sink = match &self.writer {
            Writer::Plain(w) => w.get_ref(),
            Writer::Gzip(w) => w.get_ref().get_ref(),
        };
        match sink {
            Sink::Stdout(s) => s.is_terminal(),
            Sink::Direct(f) => f.is_terminal(),
            Sink::Atomic { .. } => false,
        }
    }

    /// Completes the output: flushed (a gzip stream ended), and a file
    /// synced to disk and moved into place. Dropping an `Output` without
    /// this leaves a file's target as it was (the temporary file is
    /// removed).
    pub fn commit(self) -> io::Result<()> {
        let sink = match self.writer {
            Writer::Plain(w) => w.into_inner().map_err(io::IntoInnerError::into_error)?,
            Writer::Gzip(w) => w
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?
                .finish()?,
        };
        sink.commit()
    }
}

impl Sink {
    /// The sink of [`Output::file`].
    fn file(path: &Path, inputs: &[&Path]) -> Result<Sink, String> {
        let shown = path.display();
        for input in inputs {
            // `-` is stdin, which may be the output file redirected in.
            let same = if input.as_os_str() == "-" {
                match (
                    same_file::Handle::stdin(),
                    same_file::Handle::from_path(path),
                ) {
                    (Ok(i), Ok(o)) => i == o,
                    _ => false,
                }
            } else {
                same_file::is_same_file(path, input).unwrap_or(false)
            };
            if same {
                return Err(format!(
                    "the output `{shown}` is the input `{}`: writing it would destroy the requests; \
                     choose another output file",
                    input.display()
                ));
            }
        }
        let cannot = |e: io::Error| format!("cannot write `{shown}`: {}", io_reason(&e));
        if path.as_os_str().to_string_lossy().ends_with('/') {
            return Err(format!(
                "cannot write `{shown}`: it names a folder, not a file"
            ));
        }
        let target = follow_links(path).map_err(cannot)?;
        let existing = match std::fs::metadata(&target) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(cannot(e)),
        };
        match &existing {
            Some(m) if m.is_dir() => {
                return Err(format!("cannot write `{shown}`: it is a directory"));
            }
            Some(m) if !m.is_file() => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(cannot)?;
                return Ok(Sink::Direct(file));
            }
            // Replacing it by a rename would need only the folder's
            // permission; the file's own says no.
            Some(m) if m.permissions().readonly() => {
                return Err(format!("cannot write `{shown}`: it is read-only"));
            }
            _ => {}
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // A short name, whatever the target's: a name near the file
        // system's limit could not take a prefix.
        let mut builder = tempfile::Builder::new();
        builder.prefix(".rpl-").suffix(".tmp");
        // A new file gets the usual permissions (the umask applies), not
        // the owner-only ones of a temporary file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temp = builder.tempfile_in(dir).map_err(|e| {
            format!(
                "cannot write `{shown}`: cannot create a file in `{}` ({}); the output is built beside its target and renamed into place, so that folder must be writable",
                dir.display(),
                io_reason(&e)
            )
        })?;
        if let Some(m) = existing {
            temp.as_file()
                .set_permissions(m.permissions())
                .map_err(cannot)?;
        }
        Ok(Sink::Atomic { file: temp, target })
    }

    fn commit(self) -> io::Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush(),
            Sink::Direct(mut w) => w.flush(),
            Sink::Atomic { file: temp, target } => {
                temp.as_file().sync_all()?;
                temp.persist(&target).map_err(|e| e.error)?;
                sync_dir(&target);
                Ok(())
            }
        }
    }
}

/// The file `path` names once its symlinks are followed, also when the
/// last one leads to a file not yet there (which is then created).
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    // As many links as the kernel follows before it gives up (ELOOP).
    for _ in 0..40 {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&at)?;
                at = match at.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            Ok(_) => return std::fs::canonicalize(&at),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(at),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Makes the rename itself durable; where directories cannot be opened
/// or synced, the rename already happened and is left to the system.
fn sync_dir(target: &Path) {
    #[cfg(unix)]
    if let Some(dir) = target.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.writer {
            Writer::Plain(w) => w.write(buf),
            Writer::Gzip(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.writer {
            Writer::Plain(w) => w.write_all(buf),
            Writer::Gzip(w) => w.write_all(buf),
        }
    }

    /// Flushes the buffers only: an atomic file is completed by `commit`.
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.writer {
            Writer::Plain(w) => w.flush(),
            Writer::Gzip(w) => w.flush(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::Direct(w) => w.write(buf),
            Sink::Atomic { file, .. } => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::Direct(w) => w.flush(),
            Sink::Atomic { file, .. } => file.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_appears_only_when_complete() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(&out, "old\n").unwrap();
        let mut o = Output::file(&out, &[]).unwrap();
        o.write_all(b"new\n").unwrap();
        o.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old\n");
        // Dropped before `commit`: as if the run failed halfway.
        drop(o);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old\n");
        assert_eq!(names_in(dir.path()), ["out.jsonl"]);
        let mut o = Output::file(&out, &[]).unwrap();
        o.write_all(b"new\n").unwrap();
        o.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "new\n");
        assert_eq!(names_in(dir.path()), ["out.jsonl"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_input_is_refused_however_it_is_spelt() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let input = dir.path().join("in.jsonl");
        std::fs::write(&input, "{}\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let hard = dir.path().join("hard.jsonl");
        std::fs::hard_link(&input, &hard).unwrap();
        for spelling in [
            input.clone(),
            link,
            sub.join("../in.jsonl"),
            hard,
            dir.path().join("./in.jsonl"),
        ] {
            let e = Output::file(&spelling, &[&input]).err().unwrap();
            assert!(e.contains("is the input"), "{e}");
        }
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "{}\n");
        // Nothing was created either.
        assert_eq!(
            names_in(dir.path()),
            ["hard.jsonl", "in.jsonl", "link.jsonl", "sub"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_in_place_and_symlinks_followed() {
        let mut o = Output::file(Path::new("/dev/null"), &[]).unwrap();
        o.write_all(b"x\n").unwrap();
        o.commit().unwrap();
        use std::os::unix::fs::FileTypeExt as _;
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );

        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.jsonl");
        std::fs::write(&real, "old\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut o = Output::file(&link, &[]).unwrap();
        o.write_all(b"new\n").unwrap();
        o.commit().unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new\n");

        let e = Output::file(dir.path(), &[]).err().unwrap();
        assert!(e.ends_with("it is a directory"), "{e}");

        // A dangling link is followed too: the file it names is created.
        let dangling = dir.path().join("dangling.jsonl");
        std::os::unix::fs::symlink("new.jsonl", &dangling).unwrap();
        let mut o = Output::file(&dangling, &[]).unwrap();
        o.write_all(b"x\n").unwrap();
        o.commit().unwrap();
        assert!(
            std::fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("new.jsonl")).unwrap(),
            "x\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refusals_come_before_any_work() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let e = Output::file(&dir.path().join("new/"), &[]).err().unwrap();
        assert!(e.ends_with("it names a folder, not a file"), "{e}");
        let locked = dir.path().join("locked.jsonl");
        std::fs::write(&locked, "keep\n").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = Output::file(&locked, &[]).err().unwrap();
        assert!(e.ends_with("it is read-only"), "{e}");
        // A name as long as the file system allows still gets its output.
        let long = dir.path().join("x".repeat(250));
        let mut o = Output::file(&long, &[]).unwrap();
        o.write_all(b"ok\n").unwrap();
        o.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&long).unwrap(), "ok\n");
    }
}
