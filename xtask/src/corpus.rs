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
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .arg("build")
            .current_dir(&out)
            .env("CARGO_TARGET_DIR", target.join("target"))
            .status()
            .map_err(|e| Error::Command {
                command: "cargo build".into(),
                message: e.to_string(),
            })?;
        if !status.success() {
            return Err(Error::Command {
                command: format!("cargo build (in {})", out.display()),
                message: format!("exit status {status}"),
            });
        }
        println!("{stem}: compiled in {:.1}s", start.elapsed().as_secs_f64());
    }
    Ok(())
}
