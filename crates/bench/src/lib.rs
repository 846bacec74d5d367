//! Benchmarks of psd2-rs (skeleton).
#![forbid(unsafe_code)]
