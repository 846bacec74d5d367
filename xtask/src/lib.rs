//! `cargo xtask`: generate raw bank clients from the specs under `specs/`.
//!
//! The pipeline lives in [`pipeline`]; [`pipeline::prepare`] gives other tools (e.g. a spec
//! differ) the normalized `openapiv3::OpenAPI` of a document.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod bank_config;
pub mod bench;
pub mod cli;
pub mod corpus;
pub mod diff;
pub mod error;
pub mod generate_cmd;
pub mod pipeline;
pub mod surface;

pub use error::{Error, Result};
pub use pipeline::prepare;

use std::path::PathBuf;

/// The repository root (the parent of the `xtask` crate).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
