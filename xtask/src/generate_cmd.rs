//! `cargo xtask generate`: the pipeline for every bank, one bank, or one document.

use crate::bank_config::list_banks;
use crate::cli::GenerateArgs;
use crate::error::{Error, Result};
use crate::pipeline::CrateSpec;
use crate::pipeline::generate::GenerateOptions;
use crate::repo_root;
pub use psd2_codegen::{bank_crate_spec, emit, spec_crate_spec};
use std::path::PathBuf;

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
                    operation_code: args.operation_code.unwrap_or_default(),
                    serde_directions: args.serde_directions,
                    bytes_operations: args.bytes_operations.clone(),
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
            let mut spec = bank_crate_spec(&dir)?;
            if let Some(code) = args.operation_code {
                spec.generate.operation_code = code;
            }
            let out = root.join("generated").join(&spec.bank);
            differing += emit(&spec, &out, args.check)?;
        }
    }
    if differing > 0 {
        return Err(Error::CheckFailed(differing));
    }
    Ok(())
}
