//! `cargo xtask corpus`: generate the real-world specs in ../shared/realspecs into
//! target/corpus/<name> and build each crate there, printing timings and normalizations.

use crate::cli::CorpusArgs;
use crate::error::{Error, Result};
use crate::generate_cmd::spec_crate_spec;
use crate::pipeline::{render, write};
use crate::repo_root;
use std::process::Command;
use std::time::Instant;

/// The corpus files, relative to ../shared/realspecs.
pub const CORPUS: [&str; 2] = [
    "berlin-group-psd2-api-1.3.12.yaml",
    "openpayments-nextgenpsd2-1.3.3.yaml",
];

/// Runs the command.
pub fn run(args: &CorpusArgs) -> Result<()> {
    let root = repo_root();
    let dir = root.join("../shared/realspecs");
    if !dir.is_dir() {
        println!("skipping corpus: {} is absent", dir.display());
        return Ok(());
    }
    let target = root.join("target/corpus");
    for name in CORPUS {
        let spec = spec_crate_spec(&dir.join(name), &[]);
        let rendered = render(&spec)?;
        let stem = name.trim_end_matches(".yaml");
        let out = target.join(stem);
        write::write_crate(&out, &rendered.files)?;
        // Same dependency versions as the workspace: start from its lock file.
        let lock = root.join("Cargo.lock");
        std::fs::copy(&lock, out.join("Cargo.lock")).map_err(|e| Error::io(&lock, e))?;
        println!(
            "{stem}: generated in {:.2}s; normalizations ({}):\n{}",
            rendered.elapsed.as_secs_f64(),
            rendered.report.total(),
            rendered.report
        );
        if args.no_build {
            continue;
        }
        let start = Instant::now();
        cargo(&out, &target, &["build"])?;
        println!("{stem}: compiled in {:.1}s", start.elapsed().as_secs_f64());
        // The serde directions behind features must compile too.
        let start = Instant::now();
        cargo(&out, &target, &["check", "--all-features"])?;
        println!(
            "{stem}: checked with all features in {:.1}s",
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Runs `cargo <args>` in a corpus crate, with the corpus's own target dir.
fn cargo(dir: &std::path::Path, target: &std::path::Path, args: &[&str]) -> Result<()> {
    let shown = format!("cargo {} (in {})", args.join(" "), dir.display());
    let status = Command::new(crate::bench::exec::cargo())
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target.join("target"))
        .status()
        .map_err(|e| Error::Command {
            command: shown.clone(),
            message: e.to_string(),
        })?;
    if !status.success() {
        return Err(Error::Command {
            command: shown,
            message: format!("exit status {status}"),
        });
    }
    Ok(())
}
