//! Mapping bench (skeleton).
fn main() {}
