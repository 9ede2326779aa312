//! Arbitrary bytes as a policy file: the parser must not panic, and when
//! they parse, neither may the checker nor any diagnostic's rendering; when
//! they check, neither may compiling nor deciding the example requests.
//!
//! The checker reads a policy directory from disk, so the input is written
//! as `fuzz.rpl` into a copy of the shipped `policies/` (made once): it can
//! `import "common.rpl"` and `use` the shipped groups, and only it and what
//! it imports are checked.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rpl::report::diagnostics::{record, render_github, render_human};
use rpl::source::{FileId, SourceFile};

struct Scratch {
    _dir: tempfile::TempDir,
    file: PathBuf,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the scratch directory");
    for entry in std::fs::read_dir(from).expect("read the shipped policies") {
        let entry = entry.expect("read the shipped policies");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy the shipped policies");
        }
    }
}

fn scratch() -> &'static Scratch {
    static SCRATCH: OnceLock<Scratch> = OnceLock::new();
    SCRATCH.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let policies = dir.path().join("policies");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies"),
            &policies,
        );
        Scratch {
            file: policies.join("fuzz.rpl"),
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let source = SourceFile::new("fuzz.rpl".into(), "fuzz.rpl".into(), text.as_ref());
    if let Err(e) = rpl::syntax::parse(FileId(0), &source) {
        render_human(e.as_ref(), false, 80);
        record(e.as_ref());
        return;
    }
    let scratch = scratch();
    std::fs::write(&scratch.file, text.as_bytes()).expect("write the input");
    let checked = rpl::load::check_paths(std::slice::from_ref(&scratch.file));
    for d in &checked.diagnostics {
        render_human(d.as_ref(), false, 80);
        render_github(d.as_ref());
        record(d.as_ref());
    }
    assert_eq!(checked.program.is_some(), !checked.has_errors());
    // Whatever checks must also compile and decide every example request
    // without panicking.
    if let Some(program) = &checked.program {
        // A checked program that does not compile is a bug: a finding.
        let engine = rpl::Engine::from_program(program).expect("a checked program compiles");
        for request in examples() {
            let _ = engine.evaluate_json(request, true);
        }
    }
});

fn examples() -> &'static [String] {
    static EXAMPLES: OnceLock<Vec<String>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let mut out = Vec::new();
        for dir in ["official_mall", "partner_platform", "offline_store"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("read the examples") {
                let path = entry.expect("read the examples").path();
                let name = path.to_string_lossy();
                if name.ends_with(".json") {
                    out.push(std::fs::read_to_string(&path).expect("read an example"));
                }
            }
        }
        out
    })
}
