//! `psd2-codegen`: the generator of psd2-rs as a library.
//!
//! An OpenAPI 3.0 or Swagger 2.0 document goes through a chain of small stages
//! ([`pipeline`]): load → upgrade → overlay → normalize → progenitor → prune → serde
//! directions → lean → bytes operations → format → write (or check). [`surface`] renders
//! the compact API surface reviewers read. [`pipeline::prepare`] gives other tools (e.g. a
//! spec differ) the normalized `openapiv3::OpenAPI` of a document. The `xtask` crate is a
//! thin command line over this one.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod bank_config;
pub mod corpus;
pub mod crate_specs;
pub mod emit;
pub mod error;
pub mod exec;
pub mod pipeline;
pub mod surface;

pub use crate_specs::{bank_crate_spec, spec_crate_spec};
pub use emit::emit;
pub use error::{Error, Result};
pub use pipeline::prepare;

use std::path::PathBuf;

/// The repository root (two levels above this crate's manifest).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}
