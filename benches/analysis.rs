//! How long the analysis behind `rpl check`'s lints takes
//! (`rpl::analysis::findings`: unreachable rules, conditions always true
//! or false, requests no rule decides, windows past the calendar), on
//!
//! - the frozen copy of the shipped policies (`tests/fixtures/frozen/`,
//!   so that the numbers stay comparable while `policies/` changes), and
//! - a generated policy of 200 rules (`tests/it/generated_policy.rs`: the
//!   issue's target is under one second on the project's 2-core machine),
//!
//! each reported as a ratio against a baseline measured in the same run:
//! checking and compiling the same policies (what `rpl check` does before
//! the analysis).
//!
//! Run: `cargo bench --bench analysis` (about 30 s), or
//! `cargo bench --bench analysis -- --warm-up-time 1 --measurement-time 3`.

// A benchmark's setup failing is a broken benchmark: stop loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

// `compiled` is for the test.
#[allow(dead_code)]
#[path = "../tests/it/generated_policy.rs"]
mod generated_policy;

// The allocator the rpl binary uses, so that the numbers are rpl check's.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn check_and_compile_dir(dir: &Path) -> rpl::compile::Compiled {
    let checked = rpl::load::check_dir(dir);
    assert!(!checked.has_errors(), "{} has errors", dir.display());
    rpl::compile::compile(checked.program.as_ref().unwrap()).unwrap()
}

fn check_and_compile_sources(sources: &rpl::source::Sources) -> rpl::compile::Compiled {
    let checked = rpl::check::check(sources, None);
    assert!(!checked.has_errors(), "the generated policy has errors");
    rpl::compile::compile(checked.program.as_ref().unwrap()).unwrap()
}

fn summary(name: &str, compiled: &rpl::compile::Compiled) {
    let rules: usize = compiled.policies.iter().map(|p| p.rules.len()).sum();
    let start = std::time::Instant::now();
    let found = rpl::analysis::findings(compiled);
    eprintln!(
        "{name}: {} policies, {rules} rules, {} findings (one run: {:.1?})",
        compiled.policies.len(),
        found.len(),
        start.elapsed()
    );
}

fn bench_analysis(c: &mut Criterion) {
    let frozen = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frozen/policies");
    let shipped = check_and_compile_dir(&frozen);
    summary("frozen shipped policies", &shipped);

    let mut g = c.benchmark_group("analysis_shipped");
    g.bench_function("baseline_check_and_compile", |b| {
        b.iter_with_large_drop(|| check_and_compile_dir(black_box(&frozen)))
    });
    g.bench_function("findings", |b| {
        b.iter_with_large_drop(|| rpl::analysis::findings(black_box(&shipped)))
    });
    g.finish();

    let sources = generated_policy::sources();
    let generated = check_and_compile_sources(&sources);
    assert_eq!(
        generated.policies.first().map(|p| p.rules.len()),
        Some(generated_policy::RULES)
    );
    summary("generated policy", &generated);

    let mut g = c.benchmark_group("analysis_200_rules");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.bench_function("baseline_check_and_compile", |b| {
        b.iter_with_large_drop(|| check_and_compile_sources(black_box(&sources)))
    });
    g.bench_function("findings", |b| {
        b.iter_with_large_drop(|| rpl::analysis::findings(black_box(&generated)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // The numbers and ratios are read from the text report; plotting costs
    // seconds per benchmark.
    config = Criterion::default().without_plots();
    targets = bench_analysis
}
criterion_main!(benches);
