//! Stage 5: progenitor (builder interface by default, merged tags, `psd2_hooks` inner type
//! and pre-hook).
//! Panics inside progenitor/typify are caught and turned into an error naming the operation.

use crate::error::{Error, Result};
use openapiv3::{OpenAPI, PathItem, ReferenceOr};
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle};
use quote::quote;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;

/// The client's calling convention (progenitor's `InterfaceStyle`).
///
/// `builder` (the default, what the facade's adapters use): one builder type per operation
/// plus a builder for every struct (`types::builder`). `positional`: one method per operation
/// taking its parameters as arguments and no struct builders; much less code, so the crate
/// builds faster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Interface {
    /// `client.op().param(x).send()`, with struct builders.
    #[default]
    Builder,
    /// `client.op(x).await`, without struct builders.
    Positional,
}

/// What is generated, apart from the document itself.
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// Extra derives on every generated type.
    pub derives: Vec<String>,
    /// Builder or positional methods.
    pub interface: Interface,
    /// Which struct builders the builder interface keeps (see `pipeline::prune`).
    pub struct_builders: crate::pipeline::prune::StructBuilders,
    /// Whether operation code is rewritten smaller (see `pipeline::lean`).
    pub operation_code: crate::pipeline::lean::OperationCode,
    /// Which serde derives the types carry (see `pipeline::serde_dirs`).
    pub serde_directions: crate::pipeline::serde_dirs::SerdeDirections,
    /// operationIds whose builder also gets `send_bytes()` (see `pipeline::bytes_ops`).
    pub bytes_operations: Vec<String>,
}

/// Output of progenitor for one document.
#[derive(Debug)]
pub struct Generated {
    /// The client code.
    pub tokens: TokenStream,
    /// The optional crates the code needs, as typify and progenitor report them.
    pub uses: Uses,
}

/// Optional crates the generated code needs (typify's `uses_chrono()`, `uses_uuid()`,
/// `uses_regress()`, `uses_serde_json()`, progenitor's `uses_futures()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uses {
    /// `chrono` (date and date-time formats).
    pub chrono: bool,
    /// `uuid` (the uuid format).
    pub uuid: bool,
    /// `regress` (request string patterns).
    pub regress: bool,
    /// `serde_json` (untyped JSON values).
    pub serde_json: bool,
    /// `futures` (streams).
    pub futures: bool,
}

fn settings(options: &GenerateOptions) -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(match options.interface {
            Interface::Builder => InterfaceStyle::Builder,
            Interface::Positional => InterfaceStyle::Positional,
        })
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(psd2_hooks::Hooks))
        .with_pre_hook_async(quote!(psd2_hooks::pre_request))
        // Exact numbers: see normalize::decimals.
        .with_replacement(
            crate::pipeline::normalize::DECIMAL_SCHEMA,
            "::rust_decimal::Decimal",
            std::iter::empty(),
        );
    for derive in &options.derives {
        settings.with_derive(derive);
    }
    settings
}

/// Serializes panic-hook swaps between threads (tests run in parallel).
static PANIC_HOOK: Mutex<()> = Mutex::new(());

/// A panic hook, as `std::panic::take_hook` returns it.
type PanicHook = dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static;

/// Runs progenitor once; `Err(reason)` for both errors and panics.
fn run(
    spec: &OpenAPI,
    options: &GenerateOptions,
) -> std::result::Result<(TokenStream, Uses), String> {
    let guard = PANIC_HOOK.lock().unwrap_or_else(|p| p.into_inner());
    let previous: Arc<PanicHook> = Arc::from(std::panic::take_hook());
    let forward = Arc::clone(&previous);
    // Silent for progenitor's panics on this thread (they become an error below); any other
    // thread's panic still reaches the previous hook, so its message is not lost.
    let here = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != here {
            forward(info);
        }
    }));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut generator = Generator::new(&settings(options));
        generator.generate_tokens(spec).map(|tokens| {
            let types = generator.get_type_space();
            let uses = Uses {
                chrono: types.uses_chrono(),
                uuid: types.uses_uuid(),
                regress: types.uses_regress(),
                serde_json: types.uses_serde_json(),
                futures: generator.uses_futures(),
            };
            (tokens, uses)
        })
    }));
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| previous(info)));
    drop(guard);
    match outcome {
        Ok(Ok(generated)) => Ok(generated),
        Ok(Err(e)) => Err(e.to_string()),
        Err(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("progenitor panicked: {text}"))
        }
    }
}

/// Generates the client; on failure, finds the first operation that fails on its own.
pub fn generate(
    spec: &OpenAPI,
    options: &GenerateOptions,
    bank: &str,
    path: &Path,
) -> Result<Generated> {
    match run(spec, options) {
        Ok((tokens, uses)) => Ok(Generated { tokens, uses }),
        Err(reason) => {
            let (operation, reason) =
                locate_failure(spec, options).unwrap_or(("(document)".into(), reason));
            Err(Error::Generate {
                bank: bank.to_string(),
                path: path.to_path_buf(),
                operation,
                reason,
            })
        }
    }
}

fn only(item: &PathItem, method: &str) -> PathItem {
    let mut single = PathItem {
        parameters: item.parameters.clone(),
        servers: item.servers.clone(),
        ..PathItem::default()
    };
    let op = item
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, o)| o.clone());
    match method {
        "get" => single.get = op,
        "put" => single.put = op,
        "post" => single.post = op,
        "delete" => single.delete = op,
        "options" => single.options = op,
        "head" => single.head = op,
        "patch" => single.patch = op,
        _ => single.trace = op,
    }
    single
}

fn locate_failure(spec: &OpenAPI, options: &GenerateOptions) -> Option<(String, String)> {
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            return Some((
                format!("(path {path})"),
                "path item $ref is not supported".into(),
            ));
        };
        for (method, op) in item.iter() {
            let mut single = spec.clone();
            single.paths.paths.clear();
            single
                .paths
                .paths
                .insert(path.clone(), ReferenceOr::Item(only(item, method)));
            if let Err(reason) = run(&single, options) {
                let id = op.operation_id.clone().unwrap_or_default();
                return Some((format!("`{id}` ({} {path})", method.to_uppercase()), reason));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progenitor_panic_becomes_an_error_naming_the_operation() {
        // Two request media types make progenitor hit a `todo!()`; normalize would have
        // prevented it, so this goes straight to the generate stage.
        let doc: OpenAPI = serde_json::from_value(serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"post": {
                "operationId": "postA",
                "requestBody": {"content": {
                    "application/json": {"schema": {"type": "string"}},
                    "application/xml": {"schema": {"type": "string"}}
                }},
                "responses": {"204": {"description": "ok"}}
            }}}
        }))
        .unwrap();
        let err = generate(
            &doc,
            &GenerateOptions::default(),
            "tiny",
            Path::new("t.yaml"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "bank `tiny`, t.yaml: code generation failed in operation `postA` (POST /a): progenitor panicked: not yet implemented: more media types than expected for postA: 2"
        );
    }
}
