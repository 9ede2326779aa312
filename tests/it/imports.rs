//! Import paths are resolved as written: the loader's cache of resolved
//! paths must answer exactly what the file system would.

use rpl::check::check_paths;
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
fn a_trailing_slash_names_a_directory_even_after_the_file_was_read() {
    let dir = util::tempdir();
    let policies = util::shipped_copy(dir.path());
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
    assert!(found[0].1.contains("common.rpl/"), "{found:?}");
}

#[test]
fn whether_an_import_resolves_does_not_depend_on_file_order() {
    // A file in a hidden folder is read only through imports, in the order
    // the importing files come in; one spelling of it is wrong.
    for (first, second) in [(".h/x.rpl", ".h/x.rpl/"), (".h/x.rpl/", ".h/x.rpl")] {
        let dir = util::tempdir();
        let policies = util::shipped_copy(dir.path());
        std::fs::create_dir_all(policies.join(".h")).unwrap();
        std::fs::write(policies.join(".h/x.rpl"), "const hidden_limit = 1\n").unwrap();
        std::fs::write(policies.join("a.rpl"), format!("import \"{first}\"\n")).unwrap();
        std::fs::write(policies.join("b.rpl"), format!("import \"{second}\"\n")).unwrap();

        let found = missing_imports(&policies);
        assert_eq!(found.len(), 1, "{first} then {second}: {found:?}");
        let wrong = if first.ends_with('/') {
            "a.rpl"
        } else {
            "b.rpl"
        };
        assert!(
            found[0].0.ends_with(wrong),
            "{first} then {second}: {found:?}"
        );
    }
}
