//! Import paths resolve as the file system would, inside the policy
//! directory only.

use rpl::load::check_paths;
use rpl::report::diagnostics::record;

use crate::util;

/// The `missing_import` diagnostics of checking `dir`, as (file, message).
fn missing_imports(dir: &std::path::Path) -> Vec<(String, String)> {
    check_paths(&[dir.to_path_buf()])
        .diagnostics
        .iter()
        .map(|d| record(d.as_ref()))
        .filter(|r| r.code == "rpl::check::missing_import")
        .map(|r| (r.file.unwrap_or_default(), r.message))
        .collect()
}

#[test]
fn a_trailing_slash_names_a_directory() {
    let dir = util::tempdir();
    let policies = util::frozen_copy(dir.path());
    let mall = policies.join("official_mall.rpl");
    let text = std::fs::read_to_string(&mall).unwrap();
    assert!(text.contains("import \"common.rpl\""));
    std::fs::write(
        &mall,
        text.replace("import \"common.rpl\"", "import \"common.rpl/\""),
    )
    .unwrap();

    let found = missing_imports(&policies);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.ends_with("official_mall.rpl"), "{found:?}");
    assert_eq!(found[0].1, "cannot import `common.rpl/`: not a directory");
}

/// Hidden files and folders are not part of a policy directory (editors
/// keep their backups and locks there): not checked, not importable.
#[test]
fn hidden_files_are_not_part_of_the_directory() {
    let dir = util::tempdir();
    let policies = util::frozen_copy(dir.path());
    std::fs::create_dir_all(policies.join(".h")).unwrap();
    std::fs::write(policies.join(".h/x.rpl"), "const hidden_limit = 1\n").unwrap();
    std::fs::write(policies.join(".#draft.rpl"), "this is not checked").unwrap();
    std::fs::write(policies.join("a.rpl"), "import \".h/x.rpl\"\n").unwrap();
    let found = missing_imports(&policies);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].1,
        "cannot import `.h/x.rpl`: hidden files are not part of the policy directory"
    );
    assert!(found[0].0.ends_with("policies/a.rpl"), "{found:?}");
    // The editor's lock file was not read: no syntax error from it.
    let checked = check_paths(&[policies]);
    assert!(
        checked.sources.iter().all(|(_, f)| !f.name.contains(".#")),
        "a hidden file was read"
    );
}

/// Through a symlinked folder inside the directory, `..` climbs from where
/// the link leads, as the file system does.
#[cfg(unix)]
#[test]
fn imports_follow_symlinks_inside_the_directory() {
    let dir = util::tempdir();
    let policies = util::frozen_copy(dir.path());
    std::fs::create_dir_all(policies.join("lib/deep")).unwrap();
    std::fs::write(policies.join("lib/deep/x.rpl"), "import \"../y.rpl\"\n").unwrap();
    std::fs::write(policies.join("lib/y.rpl"), "").unwrap();
    std::os::unix::fs::symlink("lib/deep", policies.join("short")).unwrap();
    std::fs::write(
        policies.join("a.rpl"),
        "import \"short/../y.rpl\"\nimport \"short/x.rpl\"\n",
    )
    .unwrap();
    assert_eq!(missing_imports(&policies), []);
    let checked = check_paths(&[policies]);
    assert!(!checked.has_errors());
}
