//! Command-line interface (clap derive).

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Maintainer commands for psd2-rs.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate raw client crates: every bank under specs/ into generated/<bank>/, or one
    /// document into a standalone crate with --spec FILE --out DIR.
    Generate(GenerateArgs),
    /// Print the compact API surface (operations, parameters, types) of a bank's client.
    Surface(SurfaceArgs),
    /// Generate every document in ../shared/realspecs into target/corpus/, build each crate and
    /// check it with all features; one table row per document.
    Corpus(CorpusArgs),
    /// Report what a new spec breaks: --bank NAME --new FILE, or --old FILE --new FILE.
    /// Exit code 0: nothing breaks, 1: something breaks, 2: bad input.
    Diff(crate::diff::DiffArgs),
    /// Run the benchmark suite and write target/bench-report.md (--smoke: tiny sizes, for CI).
    Bench(crate::bench::BenchArgs),
}

/// Arguments of `generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Only this bank (folder name under specs/).
    #[arg(long, conflicts_with = "spec")]
    pub bank: Option<String>,
    /// Write nothing; exit non-zero and print a unified diff when generated/ is out of date.
    #[arg(long)]
    pub check: bool,
    /// Generate from this OpenAPI/Swagger document instead of a bank (needs --out).
    #[arg(long, requires = "out")]
    pub spec: Option<PathBuf>,
    /// Output directory of the standalone crate written for --spec.
    #[arg(long, requires = "spec")]
    pub out: Option<PathBuf>,
    /// Header parameters to drop (with --spec; banks use bank.toml).
    #[arg(long, value_delimiter = ',')]
    pub drop_headers: Vec<String>,
    /// Client interface of the crate written for --spec (banks use bank.toml).
    #[arg(long, value_enum, default_value_t, requires = "spec")]
    pub interface: crate::pipeline::generate::Interface,
    /// Struct builders of the crate written for --spec: `requests` (default) or `all`.
    #[arg(long, value_enum, default_value_t, requires = "spec")]
    pub struct_builders: crate::pipeline::prune::StructBuilders,
    /// Operation code: `lean` or `as-generated`; for --spec (default `lean`), or for the
    /// banks instead of their bank.toml setting (CI runs the raw operation tests on both).
    #[arg(long, value_enum)]
    pub operation_code: Option<crate::pipeline::lean::OperationCode>,
    /// Serde derives of the crate written for --spec: `used` (default) or `both`.
    #[arg(long, value_enum, default_value_t, requires = "spec")]
    pub serde_directions: crate::pipeline::serde_dirs::SerdeDirections,
    /// operationIds whose builder also gets `send_bytes()`, for --spec (banks use
    /// bank.toml's `bytes_operations`).
    #[arg(long, value_delimiter = ',', requires = "spec")]
    pub bytes_operations: Vec<String>,
}

/// Arguments of `surface`.
#[derive(Debug, clap::Args)]
pub struct SurfaceArgs {
    /// The bank (folder name under specs/).
    #[arg(long, conflicts_with = "spec")]
    pub bank: Option<String>,
    /// Or any OpenAPI/Swagger document.
    #[arg(long)]
    pub spec: Option<PathBuf>,
}

/// Arguments of `corpus`.
#[derive(Debug, clap::Args)]
pub struct CorpusArgs {
    /// Generate only; do not run `cargo build`.
    #[arg(long)]
    pub no_build: bool,
    /// The folder of documents (default: ../shared/realspecs).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}
