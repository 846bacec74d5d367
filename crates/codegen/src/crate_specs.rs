//! Crate descriptions: a bank under `specs/` rendered into the workspace, or any single
//! document rendered as a standalone crate.

use crate::bank_config::BankInputs;
use crate::error::Result;
use crate::pipeline::generate::GenerateOptions;
use crate::pipeline::normalize::NormalizeSettings;
use crate::pipeline::{CrateMode, CrateSpec};
use crate::repo_root;
use std::path::Path;

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
            bytes_operations: c.generate.bytes_operations.clone(),
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
