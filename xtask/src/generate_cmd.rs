//! `cargo xtask generate`: the pipeline for every bank, one bank, or one document.

use crate::bank_config::{BankInputs, list_banks};
use crate::cli::GenerateArgs;
use crate::error::{Error, Result};
use crate::pipeline::generate::GenerateOptions;
use crate::pipeline::normalize::NormalizeSettings;
use crate::pipeline::{CrateMode, CrateSpec, Rendered, check, render, write};
use crate::repo_root;
use std::path::{Path, PathBuf};

/// The crate description for bank `dir` (`specs/<bank>`), rendered into the workspace.
pub fn bank_crate_spec(dir: &Path) -> Result<CrateSpec> {
    let inputs = BankInputs::load(dir)?;
    let c = &inputs.config;
    Ok(CrateSpec {
        bank: c.bank.name.clone(),
        crate_name: c.bank.crate_name.clone(),
        display_name: c.bank.display_name.clone(),
        document: inputs.spec.clone(),
        overlay: inputs.overlay.clone(),
        extra_inputs: vec![dir.join("bank.toml")],
        display_root: repo_root(),
        normalize: NormalizeSettings {
            drop_headers: c.generate.drop_headers.clone(),
            per_operation_parameter_types: c.generate.per_operation_parameter_types,
            keep_unused_schemas: c.generate.keep_unused_schemas,
        },
        generate: GenerateOptions {
            derives: c.generate.derives.clone(),
            interface: c.generate.interface,
            struct_builders: c.generate.struct_builders,
            operation_code: c.generate.operation_code,
            serde_directions: c.generate.serde_directions,
        },
        mode: CrateMode::Workspace,
    })
}

/// The crate description for a single document written as a standalone crate (builder
/// interface; set `generate.interface` for another).
pub fn spec_crate_spec(document: &Path, drop_headers: &[String]) -> CrateSpec {
    let stem = document
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "spec".into());
    let slug: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    CrateSpec {
        bank: stem.clone(),
        crate_name: format!("psd2-raw-{}", slug.trim_matches('-')),
        display_name: stem,
        document: document.to_path_buf(),
        overlay: None,
        extra_inputs: Vec::new(),
        display_root: repo_root(),
        normalize: NormalizeSettings {
            drop_headers: drop_headers.to_vec(),
            per_operation_parameter_types: false,
            keep_unused_schemas: false,
        },
        generate: GenerateOptions::default(),
        mode: CrateMode::Standalone {
            hooks_path: repo_root().join("crates").join("hooks"),
        },
    }
}

fn print_summary(name: &str, rendered: &Rendered) {
    eprintln!(
        "{name}: generated in {:.2}s, {} normalization(s):\n{}",
        rendered.elapsed.as_secs_f64(),
        rendered.report.total(),
        rendered.report
    );
}

/// Renders `spec` and writes or checks it at `out`; returns the number of differing files.
pub fn emit(spec: &CrateSpec, out: &Path, check_only: bool) -> Result<usize> {
    let rendered = render(spec)?;
    print_summary(&spec.bank, &rendered);
    if check_only {
        let diffs = check::check_crate(out, &rendered.files);
        for d in &diffs {
            println!("{d}");
        }
        Ok(diffs.len())
    } else {
        write::write_crate(out, &rendered.files)?;
        eprintln!("{}: wrote {}", spec.bank, out.display());
        Ok(0)
    }
}

/// Runs the command.
pub fn run(args: &GenerateArgs) -> Result<()> {
    let root = repo_root();
    let mut differing = 0;
    if let (Some(document), Some(out)) = (&args.spec, &args.out) {
        differing += emit(
            &CrateSpec {
                generate: GenerateOptions {
                    interface: args.interface,
                    struct_builders: args.struct_builders,
                    operation_code: args.operation_code,
                    serde_directions: args.serde_directions,
                    ..GenerateOptions::default()
                },
                ..spec_crate_spec(document, &args.drop_headers)
            },
            out,
            args.check,
        )?;
    } else {
        let specs = root.join("specs");
        let dirs: Vec<PathBuf> = match &args.bank {
            Some(bank) => {
                let dir = specs.join(bank);
                if !dir.join("bank.toml").is_file() {
                    return Err(Error::Usage(format!(
                        "no bank `{bank}`: {} has no bank.toml",
                        dir.display()
                    )));
                }
                vec![dir]
            }
            None => list_banks(&specs)?,
        };
        if dirs.is_empty() {
            return Err(Error::Usage(format!(
                "no banks found under {}",
                specs.display()
            )));
        }
        for dir in dirs {
            let spec = bank_crate_spec(&dir)?;
            let out = root.join("generated").join(&spec.bank);
            differing += emit(&spec, &out, args.check)?;
        }
    }
    if differing > 0 {
        return Err(Error::CheckFailed(differing));
    }
    Ok(())
}
