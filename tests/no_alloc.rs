//! Deciding a decoded request allocates nothing: the hot path of a batch.
//! Only a message filled in for the request takes memory (its text, and
//! the shared value that holds it).
//!
//! A test binary of its own, with one test: the allocator that counts is
//! the whole process's. It is `stats_alloc`'s, so that this crate keeps
//! forbidding `unsafe` (a `GlobalAlloc` is an `unsafe impl`).

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use std::alloc::System;
use std::hint::black_box;
use std::path::Path;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static COUNTED: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The frozen policies, the `after` rule's message made a template that
/// shows the refund.
fn engines(fixtures: &Path) -> (rpl::Engine, rpl::Engine) {
    let dir = fixtures.join("frozen/policies");
    let constant = rpl::Engine::load(&dir).unwrap();
    let mut sources = rpl::load::read_dir(&dir).unwrap();
    let common = std::fs::read_to_string(dir.join("common.rpl")).unwrap();
    let filled_in = common.replace(
        "message = \"refund above the high-value threshold: a person reviews it\"",
        "message = \"refund of {refund} above {high_value_threshold}: a person reviews it\"",
    );
    assert_ne!(filled_in, common);
    sources.insert("common.rpl", filled_in);
    (constant, rpl::Engine::from_sources(&sources).unwrap())
}

#[test]
fn deciding_a_decoded_request_allocates_nothing_but_a_filled_in_message() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (constant, filled_in) = engines(&fixtures);
    let high_value = "frozen/requests/24-high-value-threshold-over.json";
    // Policies, request, rule that decides, allocations per decision.
    for (engine, file, rule, allowed) in [
        // Every rule of `core`, then the no-reason return: an approval
        // with a refund, documents and a settlement in working days.
        (&constant, "requests/example.json", "seven_day_no_reason", 0),
        // A denial: the window of a holiday-lengthened period has ended.
        (
            &constant,
            "frozen/requests/18-national-day-outside.json",
            "outside_window",
            0,
        ),
        // Every rule, then the `after` rule sends it to review.
        (&constant, high_value, "high_value_review", 0),
        // The same, its message filled in: the text and its shared value.
        (&filled_in, high_value, "high_value_review", 2),
    ] {
        let text = std::fs::read_to_string(fixtures.join(file)).unwrap();
        let request = engine.schema().decode_json(&text).unwrap();
        let rpl::Outcome::Decision(d) = engine.evaluate(&request, false) else {
            panic!("{file} is decided");
        };
        assert_eq!(d.rule(), rule, "{file}");
        let region = Region::new(COUNTED);
        for _ in 0..100 {
            drop(black_box(engine.evaluate(black_box(&request), false)));
        }
        let used = region.change();
        assert_eq!(
            (used.allocations, used.reallocations),
            (100 * allowed, 0),
            "{file}: {used:?}"
        );
        assert_eq!(used.deallocations, used.allocations, "{file}: {used:?}");
    }
}
