//! A local bank server for the demo, the tests and the benchmarks.
#![forbid(unsafe_code)]
