//! Stage 5: rendering results for people and tools. Knows nothing of how
//! they were computed.

pub mod batch;
pub mod decision;
pub mod diagnostics;
pub mod escape;
pub mod record;
pub mod sarif;
pub mod testrun;

/// `1 change`, `3 changes`: a count and a noun that takes an `s`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
