//! What the integration tests share: fresh policy directories in a
//! temporary directory, and taking that directory's path out of output.

use std::fmt;
use std::path::{Path, PathBuf};

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

/// The crate's own directory.
pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped policy directory.
pub fn shipped_policies() -> PathBuf {
    manifest_dir().join("policies")
}

/// A fresh, empty temporary directory (under the target directory, to keep
/// the system's clean).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("rpl-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// Copies the directory `from` into `to` (created if needed), recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `dir/policies/` holding the shipped `schema.toml` and `calendars/`, and
/// no policy file.
pub fn schema_only(dir: &Path) -> PathBuf {
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::copy(
        shipped_policies().join("schema.toml"),
        policies.join("schema.toml"),
    )
    .unwrap();
    copy_dir(
        &shipped_policies().join("calendars"),
        &policies.join("calendars"),
    );
    policies
}

/// `dir/policies/`: a copy of the whole shipped policy directory.
pub fn shipped_copy(dir: &Path) -> PathBuf {
    let policies = dir.join("policies");
    copy_dir(&shipped_policies(), &policies);
    policies
}

/// `text` with every spelling of `dir`'s path (as given, canonical, and
/// relative to the working directory) taken out, so that file names read
/// relative to `dir`: `policies/official_mall.rpl`.
pub fn relative_to(text: &str, dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap();
    let mut prefixes = vec![dir.to_path_buf(), canonical.clone()];
    if let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize())
        && let Ok(rel) = canonical.strip_prefix(cwd)
    {
        prefixes.push(rel.to_path_buf());
    }
    // The longest first, so that a prefix of another does not cut it short.
    prefixes.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    let mut out = text.to_string();
    for p in prefixes {
        let p = p.display().to_string();
        out = out.replace(&format!("{p}/"), "").replace(&p, ".");
    }
    out
}

/// A diagnostic as it reads when `rpl` runs inside `dir`: every path under
/// `dir` in its message, help, labels and file name is relative to it.
/// Paths are replaced before rendering, so text wraps as it would for that
/// user, whatever the temporary directory is called.
pub struct RelativeTo<'a> {
    inner: &'a dyn Diagnostic,
    dir: &'a Path,
    source: Option<Renamed<'a>>,
    related: Vec<RelativeTo<'a>>,
}

impl<'a> RelativeTo<'a> {
    pub fn new(inner: &'a dyn Diagnostic, dir: &'a Path) -> Self {
        RelativeTo {
            inner,
            dir,
            source: inner.source_code().map(|inner| Renamed { inner, dir }),
            related: inner
                .related()
                .map(|r| r.map(|d| RelativeTo::new(d, dir)).collect())
                .unwrap_or_default(),
        }
    }

    fn fix(&self, text: &str) -> String {
        relative_to(text, self.dir)
    }
}

impl fmt::Debug for RelativeTo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for RelativeTo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fix(&self.inner.to_string()))
    }
}

impl std::error::Error for RelativeTo<'_> {}

impl Diagnostic for RelativeTo<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let help = self.fix(&self.inner.help()?.to_string());
        Some(Box::new(help))
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.url()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = self.inner.labels()?.map(|l| {
            let text = l.label().map(|t| self.fix(t));
            if l.primary() {
                LabeledSpan::new_primary_with_span(text, *l.inner())
            } else {
                LabeledSpan::new_with_span(text, *l.inner())
            }
        });
        Some(Box::new(labels))
    }
}

/// A source whose file name is read relative to `dir`.
struct Renamed<'a> {
    inner: &'a dyn SourceCode,
    dir: &'a Path,
}

impl SourceCode for Renamed<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let c = self.inner.read_span(span, before, after)?;
        let (data, span, line, column, count) =
            (c.data(), *c.span(), c.line(), c.column(), c.line_count());
        let contents = match c.name() {
            Some(name) => MietteSpanContents::new_named(
                relative_to(name, self.dir),
                data,
                span,
                line,
                column,
                count,
            ),
            None => MietteSpanContents::new(data, span, line, column, count),
        };
        Ok(Box::new(match c.language() {
            Some(lang) => contents.with_language(lang),
            None => contents,
        }))
    }
}
