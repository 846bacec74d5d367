//! `cargo xtask corpus`: every document in ../shared/realspecs generated into
//! target/corpus/<document>/, built and checked with all features (see
//! `psd2_codegen::corpus`); one table row per document.

use crate::cli::CorpusArgs;
use crate::error::{Error, Result};
use crate::repo_root;
use psd2_codegen::corpus::{self, CorpusOptions};

/// The expected-failures list, relative to the repository root.
pub const EXPECTED_FAILURES: &str = "xtask/corpus-expected-failures.toml";

/// Runs the command; fails when a document fails unexpectedly, does not compile or panics.
pub fn run(args: &CorpusArgs) -> Result<()> {
    let root = repo_root();
    let documents = args
        .dir
        .clone()
        .unwrap_or_else(|| root.join("../shared/realspecs"));
    if !documents.is_dir() {
        println!("skipping corpus: {} is absent", documents.display());
        return Ok(());
    }
    let options = CorpusOptions {
        documents,
        work: root.join("target/corpus"),
        lock: Some(root.join("Cargo.lock")),
        build: !args.no_build,
        expected: corpus::load_expected(&root.join(EXPECTED_FAILURES))?,
    };
    let rows = corpus::run(&options, |row| {
        eprintln!(
            "{}: {:?} (generated in {:.2}s, built in {:.1}s, {} normalizations, {} warnings)",
            row.document,
            row.outcome,
            row.generate_secs,
            row.build_secs,
            row.normalizations,
            row.warnings.len()
        );
    })?;
    print!("{}", corpus::table(&rows));
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.fails())
        .map(|r| r.document.as_str())
        .collect();
    if !failed.is_empty() {
        return Err(Error::Usage(format!(
            "corpus: {} document(s) failed: {}",
            failed.len(),
            failed.join(", ")
        )));
    }
    Ok(())
}
