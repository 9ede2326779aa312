//! Source files and byte spans shared by every stage.
//!
//! Text is held once per file (`Arc<str>`) with an index of its line starts;
//! diagnostics carry a [`Source`], which finds a span's lines by binary
//! search, so rendering thousands of diagnostics in a large file stays
//! linear (miette's own sources rescan the file from the start each time).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file. Spans never take part in equality of the
/// syntax tree: two trees that differ only in layout compare equal.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> SourceSpan {
        SourceSpan::new((s.start as usize).into(), s.len())
    }
}

/// A file's text, its name, and where its lines start: what a diagnostic
/// needs to show a span. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Source {
    name: Arc<str>,
    text: Arc<str>,
    /// Byte offset of every line start, the first being 0. A line ends at
    /// `\n`, `\r\n` or a lone `\r`, as miette counts lines.
    lines: Arc<[u32]>,
}

impl Source {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Source {
        let text = text.into();
        let bytes = text.as_bytes();
        let mut lines = vec![0u32];
        // memchr finds the line breaks a word at a time.
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let ends_line = bytes.get(i) == Some(&b'\n') || bytes.get(i + 1) != Some(&b'\n');
            if ends_line {
                lines.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        Source {
            name: name.into(),
            text,
            lines: lines.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    /// 0-based index of the line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|&start| start as usize <= offset)
            .saturating_sub(1)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.lines.get(line).map_or(0, |&s| s as usize);
        let col = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

impl SourceCode for Source {
    /// The same contents miette's `str` source gives, but found from the
    /// first line shown rather than from the start of the file.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // One line more than the context: miette's scan looks at the byte
        // before an empty span, which may end the previous line.
        let first_line = self
            .line_of(span.offset())
            .saturating_sub(context_lines_before + 1);
        let base = self.lines.get(first_line).map_or(0, |&s| s as usize);
        let rest = self
            .text
            .as_bytes()
            .get(base..)
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((span.offset() - base.min(span.offset())).into(), span.len());
        let c = rest.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            c.data(),
            SourceSpan::new((c.span().offset() + base).into(), c.span().len()),
            c.line() + first_line,
            c.column(),
            c.line_count() + first_line,
        )))
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Where the file is in its policy directory (`lib/common.rpl`): imports
    /// are resolved relative to it.
    pub path: PathBuf,
    /// Name shown in diagnostics (relative to the working directory when possible).
    pub name: String,
    pub text: Arc<str>,
    source: Source,
}

impl SourceFile {
    pub fn new(path: PathBuf, name: String, text: impl Into<Arc<str>>) -> SourceFile {
        let text = text.into();
        let source = Source::new(name.as_str(), Arc::clone(&text));
        SourceFile {
            path,
            name,
            text,
            source,
        }
    }

    /// The file as diagnostics show it.
    pub fn named_source(&self) -> Source {
        self.source.clone()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        self.source.line_col(offset as usize)
    }
}

/// Every file a run has read, indexed by [`FileId`].
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: PathBuf, name: String, text: impl Into<Arc<str>>) -> FileId {
        self.push(SourceFile::new(path, name, text))
    }

    pub fn push(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn named_source(&self, id: FileId) -> Source {
        match self.get(id) {
            Some(f) => f.named_source(),
            None => Source::new("<unknown>", ""),
        }
    }

    /// Source text under a span (empty if the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }
}

/// The files of one policy directory, in memory: all the checker reads.
///
/// Paths are relative to the directory, their parts joined by `/`
/// (`calendars/cn.toml`). The disk loader (`crate::load`) fills a
/// `Sources` from a directory; a language server, a service or a test may
/// build one of its own, with files that exist nowhere on disk.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// How the directory is named in diagnostics: file `a.rpl` is shown as
    /// `{root}/a.rpl`, or as `a.rpl` when `root` is empty.
    root: String,
    files: BTreeMap<String, Entry>,
    dirs: BTreeSet<String>,
    /// Symlinks: where each leads inside the directory, `None` when it
    /// leads out of it.
    links: BTreeMap<String, Option<String>>,
    /// What the loader met in the directory that is not a file to read (a
    /// folder it could not list, a symlink it did not follow).
    problems: Vec<(String, Unreadable)>,
}

/// A file of a policy directory.
#[derive(Debug, Clone)]
pub enum Entry {
    Text(Arc<str>),
    /// Found, but not read; a policy file (`.rpl`) in this state is an
    /// error, any other file only when something uses it.
    Unreadable(Unreadable),
}

/// Why the loader did not read a file (or follow a folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// A symlink that leads out of the policy directory, to `target`.
    OutsideRoot {
        target: String,
    },
    /// A FIFO, socket or device: never opened.
    NotRegular {
        kind: &'static str,
    },
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// `byte` at byte `offset` starts no UTF-8 character; `text` is the
    /// file with such bytes replaced, to show where.
    NotUtf8 {
        offset: usize,
        byte: u8,
        text: Arc<str>,
    },
    Io {
        reason: String,
    },
    /// A folder symlink that leads out of the directory: not followed.
    FolderOutsideRoot {
        target: String,
    },
    /// A name that is not UTF-8: it cannot be named in a policy.
    BadName,
}

/// Where a byte string stops being UTF-8: the offset and the byte there.
pub fn bad_utf8(bytes: &[u8], e: std::str::Utf8Error) -> (usize, u8) {
    let offset = e.valid_up_to();
    (offset, bytes.get(offset).copied().unwrap_or_default())
}

/// Why a path written in a policy (an import, a calendar) names no file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// It climbs out of the directory, or passes through a symlink that
    /// leads out.
    Outside,
    /// An absolute path: a policy directory names its files relative to
    /// itself, so that it can move.
    Absolute,
    /// Nothing of that name.
    NotFound,
    /// A folder.
    Dir,
    /// A name starting with `.`: hidden files are not part of a directory.
    Hidden,
    /// It ends in `/`, which names a folder, but the path is a file.
    NotADirectory,
}

impl Sources {
    pub fn new(root: impl Into<String>) -> Sources {
        Sources {
            root: root.into(),
            ..Sources::default()
        }
    }

    /// Adds (or replaces) a file; the folders on its path are added too.
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<Arc<str>>) {
        self.insert_entry(path.into(), Entry::Text(text.into()));
    }

    /// The same, builder style.
    pub fn with(mut self, path: impl Into<String>, text: impl Into<Arc<str>>) -> Sources {
        self.insert(path, text);
        self
    }

    pub fn insert_entry(&mut self, path: String, entry: Entry) {
        let mut at = 0;
        while let Some(i) = path.get(at..).and_then(|rest| rest.find('/')) {
            if let Some(dir) = path.get(..at + i) {
                self.dirs.insert(dir.to_owned());
            }
            at += i + 1;
        }
        self.files.insert(path, entry);
    }

    /// Records a symlink at `path` leading to `target` inside the
    /// directory, or out of it (`None`).
    pub fn insert_link(&mut self, path: String, target: Option<String>) {
        self.links.insert(path, target);
    }

    pub fn insert_problem(&mut self, path: String, problem: Unreadable) {
        self.problems.push((path, problem));
    }

    /// How diagnostics name the directory.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// How diagnostics name the file at `path`.
    pub fn display(&self, path: &str) -> String {
        if self.root.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.root)
        }
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.files.get(path)
    }

    pub fn files(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.files.iter().map(|(p, e)| (p.as_str(), e))
    }

    pub fn problems(&self) -> &[(String, Unreadable)] {
        &self.problems
    }

    /// The policy files: every `.rpl` path, a symlink's taken as the file
    /// it leads to, each file once, in the order of their paths part by
    /// part (a folder's files before a file named like the folder, as
    /// `Path` orders them). Unreadable ones are included.
    pub fn policy_files(&self) -> Vec<String> {
        let mut paths: Vec<&str> = self
            .files
            .keys()
            .chain(self.links.keys())
            .map(String::as_str)
            .filter(|p| p.ends_with(".rpl"))
            .collect();
        paths.sort_by(|a, b| std::path::Path::new(a).cmp(std::path::Path::new(b)));
        let mut seen = BTreeSet::new();
        paths
            .into_iter()
            .filter_map(|p| match self.links.get(p) {
                Some(Some(target)) if self.files.contains_key(target) => Some(target.clone()),
                Some(_) => None,
                None => Some(p.to_owned()),
            })
            .filter(|p| seen.insert(p.clone()))
            .collect()
    }

    /// The `.rpl` files in the folder `dir`, for did-you-mean.
    pub fn policy_files_in(&self, dir: &str) -> impl Iterator<Item = &str> {
        self.files.keys().filter_map(move |p| {
            let name = match p.rsplit_once('/') {
                Some((d, name)) if d == dir => name,
                None if dir.is_empty() => p.as_str(),
                _ => return None,
            };
            name.ends_with(".rpl").then_some(name)
        })
    }

    /// The file that `written` names, relative to the folder `base` (empty
    /// for the directory itself), as `..` and symlinks inside the
    /// directory lead: the path of an entry of [`Sources::get`].
    pub fn resolve(&self, base: &str, written: &str) -> Result<String, Missing> {
        let (path, hidden) = self.walk(base, written)?;
        if self.files.contains_key(&path) {
            if written.ends_with('/') {
                return Err(Missing::NotADirectory);
            }
            Ok(path)
        } else if self.dirs.contains(&path) || path.is_empty() {
            Err(Missing::Dir)
        } else if hidden {
            Err(Missing::Hidden)
        } else {
            Err(Missing::NotFound)
        }
    }

    /// The folder that `written` names from `base`, if it is one.
    pub fn resolve_folder(&self, base: &str, written: &str) -> Option<String> {
        let (path, _) = self.walk(base, written).ok()?;
        (path.is_empty() || self.dirs.contains(&path)).then_some(path)
    }

    /// The path `written` leads to from `base`, and whether it passed a
    /// hidden name.
    fn walk(&self, base: &str, written: &str) -> Result<(String, bool), Missing> {
        if written.starts_with('/') || std::path::Path::new(written).is_absolute() {
            return Err(Missing::Absolute);
        }
        let mut parts: Vec<String> = base
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let mut hidden = false;
        for part in written.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(Missing::Outside);
                    }
                }
                name => {
                    hidden |= name.starts_with('.');
                    parts.push(name.to_owned());
                    // A symlink's target is its real path: one step does.
                    match self.links.get(&parts.join("/")) {
                        Some(Some(target)) => {
                            parts = target
                                .split('/')
                                .filter(|p| !p.is_empty())
                                .map(str::to_owned)
                                .collect();
                            hidden |= parts.iter().any(|p| p.starts_with('.'));
                        }
                        Some(None) => return Err(Missing::Outside),
                        None => {}
                    }
                }
            }
        }
        Ok((parts.join("/"), hidden))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Sources {
        let mut s = Sources::new("policies")
            .with("a.rpl", "")
            .with("lib/b.rpl", "")
            .with("lib/deep/c.rpl", "")
            .with("calendars/cn.toml", "");
        s.insert_link("link.rpl".into(), Some("lib/b.rpl".into()));
        s.insert_link("shared".into(), Some("lib".into()));
        s.insert_link("out".into(), None);
        s.insert_link("lib/up".into(), Some(String::new()));
        s
    }

    #[test]
    fn paths_resolve_as_the_file_system_would() {
        let s = sources();
        assert_eq!(s.resolve("", "a.rpl"), Ok("a.rpl".into()));
        assert_eq!(s.resolve("lib", "../a.rpl"), Ok("a.rpl".into()));
        assert_eq!(s.resolve("lib/deep", "./../b.rpl"), Ok("lib/b.rpl".into()));
        assert_eq!(s.resolve("", "link.rpl"), Ok("lib/b.rpl".into()));
        // `..` after a symlinked folder climbs from where it leads.
        assert_eq!(
            s.resolve("", "shared/deep/../b.rpl"),
            Ok("lib/b.rpl".into())
        );
        assert_eq!(s.resolve("", "shared/../a.rpl"), Ok("a.rpl".into()));
        assert_eq!(s.resolve("", "../a.rpl"), Err(Missing::Outside));
        assert_eq!(
            s.resolve("lib", "../../policies/a.rpl"),
            Err(Missing::Outside)
        );
        assert_eq!(s.resolve("", "/etc/passwd"), Err(Missing::Absolute));
        assert_eq!(s.resolve("", "out/x.rpl"), Err(Missing::Outside));
        // A link to the directory itself.
        assert_eq!(s.resolve("", "lib/up/a.rpl"), Ok("a.rpl".into()));
        assert_eq!(s.resolve("", "lib/up/lib/up/a.rpl"), Ok("a.rpl".into()));
        assert_eq!(s.resolve("", "lib"), Err(Missing::Dir));
        assert_eq!(s.resolve("", "."), Err(Missing::Dir));
        assert_eq!(s.resolve("", "a.rpl/"), Err(Missing::NotADirectory));
        assert_eq!(s.resolve("", ".h/x.rpl"), Err(Missing::Hidden));
        assert_eq!(s.resolve("", "nope.rpl"), Err(Missing::NotFound));
    }

    #[test]
    fn policy_files_are_listed_once_in_path_order() {
        let mut s = sources().with("lib.rpl", "");
        s.insert_link("z.rpl".into(), Some("a.rpl".into()));
        assert_eq!(
            s.policy_files(),
            ["a.rpl", "lib/b.rpl", "lib/deep/c.rpl", "lib.rpl"]
        );
        assert_eq!(s.policy_files_in("lib").collect::<Vec<_>>(), ["b.rpl"]);
        assert_eq!(s.display("a.rpl"), "policies/a.rpl");
        assert_eq!(Sources::new("").display("a.rpl"), "a.rpl");
    }

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = Source::new("t", "a\n规则 x");
        // `x` is at byte 9 (1 + 1 + 3 + 3 + 1) on line 2, character column 4.
        assert_eq!(src.line_col(9), (2, 4));
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(1000), (2, 5));
    }

    /// The indexed source must show exactly what miette's own would.
    #[test]
    fn read_span_matches_miettes_own_source() {
        let text = "l0\r\nl1 abc\nl2\rl3 规则\n\nl5 end\n";
        let src = Source::new("t", text);
        for offset in 0..text.len() {
            for len in [0, 1, 3] {
                if offset + len > text.len() {
                    continue;
                }
                for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                    let span = SourceSpan::new(offset.into(), len);
                    let want = text.read_span(&span, before, after);
                    let got = src.read_span(&span, before, after);
                    match (want, got) {
                        (Ok(w), Ok(g)) => {
                            let at = (offset, len, before, after);
                            assert_eq!(w.data(), g.data(), "{at:?}");
                            assert_eq!(w.span(), g.span(), "{at:?}");
                            assert_eq!((w.line(), w.column()), (g.line(), g.column()), "{at:?}");
                            assert_eq!(w.line_count(), g.line_count(), "{at:?}");
                            assert_eq!(g.name(), Some("t"));
                        }
                        (w, g) => assert_eq!(w.is_err(), g.is_err()),
                    }
                }
            }
        }
    }
}
