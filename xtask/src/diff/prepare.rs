//! Both documents of a diff go through the generator's own stages (load, upgrade, overlay,
//! normalize), so the diff describes what the generated clients see.

use crate::bank_config::BankInputs;
use crate::error::Result;
use crate::pipeline::{normalize::NormalizeSettings, prepare};
use std::path::Path;

/// Loads `path` (YAML or JSON, Swagger 2.0 or OpenAPI 3.0) and prepares it like generation
/// does; with `bank`, the bank's overlay and `drop_headers` apply too.
pub fn prepare_document(path: &Path, bank: Option<&BankInputs>) -> Result<openapiv3::OpenAPI> {
    let settings = NormalizeSettings {
        drop_headers: bank
            .map(|b| b.config.generate.drop_headers.clone())
            .unwrap_or_default(),
        per_operation_parameter_types: bank
            .is_some_and(|b| b.config.generate.per_operation_parameter_types),
        keep_unused_schemas: bank.is_some_and(|b| b.config.generate.keep_unused_schemas),
    };
    let overlay = bank.and_then(|b| b.overlay.as_deref());
    prepare(path, overlay, &settings)
}
