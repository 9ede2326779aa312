//! How long one request takes to decide with the shipped policies,
//! reported as a ratio against a baseline measured in the same run:
//! parsing the same request text into a `serde_json::Value`.
//!
//! Per example request: the baseline, decoding only, evaluating a
//! pre-decoded request, decoding + evaluating (`Engine::evaluate_json`),
//! the whole line as `rpl eval --batch` writes it (decoding, evaluating
//! and encoding the outcome as a JSON line), and evaluating with the trace
//! (`--explain`).
//!
//! Run: `cargo bench --bench eval` (about 25 s).

// A benchmark's setup failing is a broken benchmark: stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rpl::report::escape::json_line;
use rpl::{Engine, Outcome};

/// Example requests, with the rule that must decide each.
const EXAMPLES: [(&str, &str, &str); 3] = [
    // Goes through every rule of `core` to the last one.
    (
        "full_path",
        "official_mall/01-contract-example.json",
        "seven_day_no_reason",
    ),
    // The first rule decides.
    (
        "early_exit",
        "official_mall/02-undelivered.json",
        "undelivered",
    ),
    // Every rule, then the `after` rule changes the verdict to review.
    (
        "after_rule",
        "official_mall/24-high-value-threshold-over.json",
        "high_value_review",
    ),
];

fn bench_eval(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = Engine::load(root.join("policies")).unwrap();
    for (name, file, rule) in EXAMPLES {
        let text = std::fs::read_to_string(root.join("examples").join(file)).unwrap();
        let request = engine.schema().decode_json(&text).unwrap();
        // Once, outside the timed loops: the example decides as expected.
        for outcome in [
            engine.evaluate(&request, false),
            engine.evaluate(&request, true),
            engine.evaluate_json(&text, false),
        ] {
            match outcome {
                Outcome::Decision(d) => assert_eq!(d.rule(), rule, "{file}"),
                Outcome::Failure(f) => panic!("{file}: {}", f.error.message),
            }
        }

        let mut g = c.benchmark_group(format!("eval_{name}"));
        g.sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        g.bench_function("baseline_serde_json_value", |b| {
            b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&text)).unwrap())
        });
        g.bench_function("decode_json", |b| {
            b.iter(|| engine.schema().decode_json(black_box(&text)).is_ok())
        });
        g.bench_function("evaluate_predecoded", |b| {
            b.iter(|| engine.evaluate(black_box(&request), false))
        });
        g.bench_function("decode_json_and_evaluate", |b| {
            b.iter(|| engine.evaluate_json(black_box(&text), false))
        });
        g.bench_function("decode_evaluate_encode", |b| {
            b.iter(|| json_line(&engine.evaluate_json(black_box(&text), false)).unwrap())
        });
        g.bench_function("evaluate_explain", |b| {
            b.iter(|| engine.evaluate(black_box(&request), true))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    // The numbers and ratios are read from the text report; plotting costs
    // seconds per benchmark.
    config = Criterion::default().without_plots();
    targets = bench_eval
}
criterion_main!(benches);
