//! What the integration tests share: fresh policy directories in a
//! temporary directory, and taking that directory's path out of output.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::Diagnostic;
use rpl::report::diagnostics::Rewritten;

/// The crate's own directory.
pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The policies engine tests run on: a frozen copy of the shipped ones
/// (`tests/fixtures/frozen/README.md`), so that an author's edit to
/// `policies/` breaks no Rust test.
pub fn frozen_policies() -> PathBuf {
    manifest_dir().join("tests/fixtures/frozen/policies")
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
        frozen_policies().join("schema.toml"),
        policies.join("schema.toml"),
    )
    .unwrap();
    copy_dir(
        &frozen_policies().join("calendars"),
        &policies.join("calendars"),
    );
    policies
}

/// `dir/policies/`: a copy of the frozen policy directory.
pub fn frozen_copy(dir: &Path) -> PathBuf {
    let policies = dir.join("policies");
    copy_dir(&frozen_policies(), &policies);
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
/// `dir` in its message, help, labels and file names is relative to it.
/// Paths are replaced before rendering, so text wraps as it would for that
/// user, whatever the temporary directory is called.
pub fn relative_diagnostic<'a>(inner: &'a dyn Diagnostic, dir: &'a Path) -> Rewritten<'a> {
    Rewritten::new(inner, Arc::new(move |text: &str| relative_to(text, dir)))
}

/// A command's stdout, which must be UTF-8.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A command's stderr, which must be UTF-8.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}
