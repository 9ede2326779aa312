//! RPL, the Refund Policy Language: parse, check, compile and evaluate
//! refund policies.

// The generated pest parser names `::alloc`: pest is built without `std`,
// which drops its per-call stack probe (see `syntax`).
extern crate alloc;

pub mod analysis;
pub mod calendar;
pub mod check;
pub mod cli;
pub mod codes;
pub mod compile;
pub mod day;
pub mod engine;
pub mod eval;
pub mod fmt;
pub mod load;
pub mod report;
pub mod request;
pub mod schema;
pub mod source;
pub mod syntax;
pub mod testing;
pub mod value;
pub mod vocab;
pub mod words;

pub use engine::{Engine, LoadFailure, Outcome};
