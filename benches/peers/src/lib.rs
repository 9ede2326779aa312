//! Empty: the benchmark is `benches/peers.rs`.
