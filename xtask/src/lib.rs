//! `cargo xtask`: a thin command line over the generator library `psd2-codegen`, the spec
//! differ and the benchmark harness.
//!
//! The generator's modules are re-exported under their old paths (`xtask::pipeline`,
//! `xtask::bank_config`, `xtask::error`) for the commands and tests built on them.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub use psd2_bench_harness as bench;
pub mod cli;
pub mod corpus;
pub mod generate_cmd;
pub mod surface;

pub use psd2_codegen::{Error, Result, bank_config, error, pipeline, prepare, repo_root};
/// The spec differ (`cargo xtask diff`), a crate of its own.
pub use psd2_specdiff as diff;
