//! The integration tests, in one binary (ripgrep's layout): each module
//! lives in `tests/it/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

#[path = "it/util.rs"]
mod util;

#[path = "it/generated_policy.rs"]
mod generated_policy;

#[path = "it/analysis.rs"]
mod analysis;
#[path = "it/batch_files.rs"]
mod batch_files;
#[path = "it/cli_check.rs"]
mod cli_check;
#[path = "it/cli_diff.rs"]
mod cli_diff;
#[path = "it/cli_explain.rs"]
mod cli_explain;
#[path = "it/cli_fmt.rs"]
mod cli_fmt;
#[path = "it/cli_help.rs"]
mod cli_help;
#[path = "it/cli_test.rs"]
mod cli_test;
#[path = "it/diagnostics.rs"]
mod diagnostics;
#[path = "it/edges.rs"]
mod edges;
#[path = "it/eval_robustness.rs"]
mod eval_robustness;
#[path = "it/examples.rs"]
mod examples;
#[path = "it/fmt.rs"]
mod fmt;
#[path = "it/formats.rs"]
mod formats;
#[path = "it/imports.rs"]
mod imports;
#[path = "it/loader.rs"]
mod loader;
#[path = "it/long_policy.rs"]
mod long_policy;
#[path = "it/native_floor.rs"]
mod native_floor;
#[path = "it/policy_dir.rs"]
mod policy_dir;
#[path = "it/readme.rs"]
mod readme;
#[path = "it/robustness.rs"]
mod robustness;
#[path = "it/sarif.rs"]
mod sarif;
