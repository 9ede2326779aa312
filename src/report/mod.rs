//! Stage 5: rendering results for people and tools. Knows nothing of how
//! they were computed.

pub mod batch;
pub mod decision;
pub mod diagnostics;
pub mod escape;
pub mod sarif;
pub mod testrun;
