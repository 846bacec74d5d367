//! In-process benchmarks of psd2-rs, driven by `cargo xtask bench` (see
//! `docs/performance.md`): the `psd2-bench` binary measures transaction streaming, peak
//! memory and concurrency against the in-process sandbox, the criterion bench `mapping`
//! measures the Open Payments domain mapping of one page.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod concurrency;
pub mod memory;
pub mod page_server;
pub mod served;
pub mod setup;
pub mod stream;
pub mod sync;

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The sandbox did not start.
    #[error("sandbox: {0}")]
    Sandbox(#[from] std::io::Error),
    /// An HTTP call failed.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// A body did not deserialize.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The raw client failed.
    #[error("raw client: {0}")]
    Raw(String),
    /// The facade failed.
    #[error("facade: {0}")]
    Facade(#[from] psd2::Error),
    /// The sandbox answered something unexpected.
    #[error("{0}")]
    Unexpected(String),
}
