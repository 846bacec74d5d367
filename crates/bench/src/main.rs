//! `psd2-bench` (skeleton).
#![forbid(unsafe_code)]
fn main() {}
