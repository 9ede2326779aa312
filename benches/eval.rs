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
//! Then against the native floor (`native/`: the frozen policies' rulebook
//! written by hand), over a mix of requests from `rpl generate` on the
//! frozen policies: the decision on a pre-decoded request
//! (`Engine::evaluate` against the floor's `decide`), and the whole batch
//! line, from its JSON text to the output line (`Engine::evaluate_json`
//! and the batch's JSON encoding against the floor's `line`). The ratios
//! are printed at the end.
//!
//! Run: `cargo bench --bench eval` (about a minute).

// A benchmark's setup failing is a broken benchmark: stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod native;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use rpl::report::record::record_into;
use rpl::{Engine, Outcome};

// The allocator the rpl binary uses, so that the numbers are `rpl eval`'s.
// The floor allocates nothing while timed.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
            b.iter(|| {
                let mut out = Vec::with_capacity(1024);
                record_into(&mut out, &engine.evaluate_json(black_box(&text), false)).unwrap();
                out
            })
        });
        g.bench_function("evaluate_explain", |b| {
            b.iter(|| engine.evaluate(black_box(&request), true))
        });
        g.finish();
    }
}

/// Requests in the mix compared with the native floor.
const MIX: usize = 1000;

/// Per benchmark of the floor comparison: the requests in its pass over
/// the mix, and the time per request in nanoseconds of each batch of
/// passes criterion timed (its warm-up's too), for the ratios printed at
/// the end of the run: criterion keeps its own estimates to itself.
static SAMPLES: Mutex<BTreeMap<&str, (usize, Vec<f64>)>> = Mutex::new(BTreeMap::new());

/// Times `pass`, one pass over `requests` requests, for criterion and for
/// the ratios.
fn timed(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &'static str,
    requests: usize,
    mut pass: impl FnMut(),
) {
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                pass();
            }
            let took = start.elapsed();
            let per_request = took.as_nanos() as f64 / (iters as f64 * requests as f64);
            let mut samples = SAMPLES.lock().unwrap();
            let entry = samples.entry(name).or_insert((requests, Vec::new()));
            entry.1.push(per_request);
            took
        })
    });
}

/// `MIX` lines from `rpl generate` on `policies`: every path through every
/// policy, then paths at random, 1% of them broken.
fn generated(policies: &Path) -> Vec<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rpl"))
        .arg("generate")
        .arg("--policies")
        .arg(policies)
        .args(["--count", &MIX.to_string(), "--seed", "11", "--bad", "0.01"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// RPL's output line for batch line `number`, as `rpl eval --batch`
/// writes it: appended to `out`.
fn rpl_line(engine: &Engine, number: u64, text: &str, out: &mut Vec<u8>) {
    let outcome = match engine.evaluate_json(text, false) {
        Outcome::Failure(mut f) => {
            f.line = Some(number);
            Outcome::Failure(f)
        }
        d => d,
    };
    record_into(out, &outcome).unwrap();
}

fn bench_floor(c: &mut Criterion) {
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frozen/policies");
    let engine = Engine::load(&policies).unwrap();
    let floor = native::Floor::load(&policies).unwrap();
    let lines = generated(&policies);

    // Once, outside the timed loops: the floor writes what RPL writes for
    // every line but a malformed one (`tests/it/native_floor.rs` holds it
    // to that on more lines), and decodes the same requests.
    let mut out = Vec::new();
    for (i, text) in lines.iter().enumerate() {
        let number = i as u64 + 1;
        let mut line = Vec::new();
        rpl_line(&engine, number, text, &mut line);
        let want = String::from_utf8(line).unwrap();
        out.clear();
        floor.line(number, text.as_bytes(), &mut out);
        if !want.contains("\"code\":\"rpl::request::") {
            assert_eq!(std::str::from_utf8(&out).unwrap(), want, "line {number}");
        }
    }
    let decoded: Vec<_> = lines
        .iter()
        .filter_map(|t| Some((engine.schema().decode_json(t).ok()?, t)))
        .collect();
    let requests: Vec<_> = decoded.iter().map(|(r, _)| r).collect();
    let floor_requests: Vec<_> = decoded
        .iter()
        .map(|(_, t)| floor.decode(t.as_bytes()).ok().unwrap())
        .collect();
    eprintln!(
        "floor comparison: {} generated lines, {} valid requests",
        lines.len(),
        requests.len()
    );

    let mut g = c.benchmark_group(format!("floor_decision_x{}", requests.len()));
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    timed(&mut g, "rpl_evaluate_predecoded", requests.len(), || {
        for r in &requests {
            black_box(engine.evaluate(black_box(r), false));
        }
    });
    timed(&mut g, "native_decide", requests.len(), || {
        for r in &floor_requests {
            black_box(floor.decide(black_box(r)).is_ok());
        }
    });
    g.finish();

    let mut g = c.benchmark_group(format!("floor_whole_line_x{}", lines.len()));
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    // Both write into one buffer, reused, as their batch drivers do.
    let mut buffer = Vec::with_capacity(1024);
    timed(&mut g, "rpl_evaluate_json_and_encode", lines.len(), || {
        for (i, text) in lines.iter().enumerate() {
            buffer.clear();
            rpl_line(&engine, i as u64 + 1, black_box(text), &mut buffer);
            black_box(&buffer);
        }
    });
    timed(&mut g, "native_line", lines.len(), || {
        for (i, text) in lines.iter().enumerate() {
            buffer.clear();
            floor.line(i as u64 + 1, black_box(text.as_bytes()), &mut buffer);
            black_box(&buffer);
        }
    });
    g.finish();
}

/// The median of a benchmark's samples, in nanoseconds per request, and
/// how many requests its pass holds.
fn median(name: &str) -> Option<(f64, usize)> {
    let samples = SAMPLES.lock().unwrap();
    let (requests, times) = samples.get(name)?;
    let mut times = times.clone();
    times.sort_by(f64::total_cmp);
    Some((*times.get(times.len() / 2)?, *requests))
}

/// The floor comparison's times and ratios, from this run's samples.
fn print_ratios() {
    let pairs = [
        (
            "decision, pre-decoded request",
            "rpl_evaluate_predecoded",
            "native_decide",
        ),
        (
            "whole line, JSON text to output line",
            "rpl_evaluate_json_and_encode",
            "native_line",
        ),
    ];
    for (what, rpl, native) in pairs {
        let (Some((r, n)), Some((f, _))) = (median(rpl), median(native)) else {
            continue;
        };
        println!(
            "{what}: rpl {r:.0} ns, native floor {f:.0} ns per request (median of the samples, {n} requests a pass): rpl/native = {:.2}x",
            r / f
        );
    }
}

criterion_group! {
    name = benches;
    // The numbers and ratios are read from the text report; plotting costs
    // seconds per benchmark.
    config = Criterion::default().without_plots();
    targets = bench_eval, bench_floor
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratios();
}
