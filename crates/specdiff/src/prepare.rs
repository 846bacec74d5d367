//! Both documents of a diff go through the generator's own stages (load, upgrade, overlay,
//! normalize), so the diff describes what the generated clients see; the generated clients'
//! API surfaces are rendered too.

use crate::surface::Surface;
use psd2_codegen::Result;
use psd2_codegen::bank_config::BankInputs;
use psd2_codegen::pipeline::{CrateSpec, normalize::NormalizeSettings, prepare};
use serde_json::Value;
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

/// One side of a diff: the prepared document and its generated client's surface.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The document after the generator's document stages, as JSON.
    pub document: Value,
    /// The generated client's API surface, or why it could not be rendered.
    pub surface: std::result::Result<Surface, String>,
}

/// Prepares the document `spec` describes (an error here is bad input) and renders the
/// surface of the client it generates (a failure there only leaves the surface out).
pub fn prepare_inputs(spec: &CrateSpec) -> Result<Inputs> {
    let openapi = prepare(&spec.document, spec.overlay.as_deref(), &spec.normalize)?;
    let document = serde_json::to_value(openapi).unwrap_or(Value::Null);
    let surface = psd2_codegen::surface::surface_of(spec)
        .map(|text| Surface::parse(&text))
        .map_err(|e| first_line(&e.to_string()));
    Ok(Inputs { document, surface })
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}
