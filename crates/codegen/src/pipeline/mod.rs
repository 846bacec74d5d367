//! The generator pipeline: load → upgrade → overlay → normalize → generate → format → write.

pub mod bytes_ops;
pub mod check;
pub mod crate_files;
pub mod format;
pub mod generate;
pub mod generation_md;
pub mod lean;
pub mod load;
pub mod normalize;
pub mod overlay;
pub mod prune;
pub mod refs;
pub mod repair;
pub mod serde_dirs;
pub mod upgrade;
pub mod write;

use crate::error::{Error, Result};
use normalize::{NormalizeSettings, Report};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use write::OutFile;

/// A document after load, upgrade, overlay and normalize.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The normalized document, parsed.
    pub openapi: openapiv3::OpenAPI,
    /// The same document as JSON (what progenitor sees).
    pub value: Value,
    /// What normalize changed.
    pub report: Report,
    /// The version the input declared.
    pub source_version: upgrade::SourceVersion,
}

/// Runs the document stages; the public entry point for tools that need the normalized spec.
pub fn prepare(
    document: &Path,
    overlay: Option<&Path>,
    settings: &NormalizeSettings,
) -> Result<openapiv3::OpenAPI> {
    prepare_full(document, overlay, settings).map(|p| p.openapi)
}

/// Like [`prepare`], also returning the JSON form and the normalize report.
pub fn prepare_full(
    document: &Path,
    overlay: Option<&Path>,
    settings: &NormalizeSettings,
) -> Result<Prepared> {
    let (value, _) = load::load(document)?;
    prepare_value(value, document, overlay, settings)
}

/// The document stages on an already loaded value (`document` names it in messages).
pub fn prepare_value(
    mut value: Value,
    document: &Path,
    overlay: Option<&Path>,
    settings: &NormalizeSettings,
) -> Result<Prepared> {
    let source_version = upgrade::upgrade(&mut value, document)?;
    if let Some(o) = overlay {
        overlay::apply_file(&mut value, o)?;
    }
    let mut repairs = Report::default();
    repair::repair(&mut value, document, &mut repairs)?;
    refs::check_refs(&value, document)?;
    let mut report = normalize::normalize(&mut value, settings, document)?;
    report.absorb(repairs);
    let openapi = serde_json::from_value(value.clone()).map_err(|e| Error::Parse {
        path: document.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(Prepared {
        openapi,
        value,
        report,
        source_version,
    })
}

/// How the generated crate's `Cargo.toml` gets its dependencies.
#[derive(Debug, Clone)]
pub enum CrateMode {
    /// A member of this workspace (`generated/<bank>`): `workspace = true` everywhere.
    Workspace,
    /// A standalone crate (`--out DIR`): own `[workspace]`, versions, psd2-hooks by path.
    Standalone {
        /// Absolute path of `crates/hooks`.
        hooks_path: PathBuf,
    },
}

/// Everything needed to render one crate.
#[derive(Debug, Clone)]
pub struct CrateSpec {
    /// Bank name (or spec file stem), used in messages.
    pub bank: String,
    /// Crate name, e.g. `psd2-raw-swedbank`.
    pub crate_name: String,
    /// Human readable name for docs.
    pub display_name: String,
    /// The API document.
    pub document: PathBuf,
    /// The overlay, if any.
    pub overlay: Option<PathBuf>,
    /// Extra inputs hashed into the header (e.g. `bank.toml`).
    pub extra_inputs: Vec<PathBuf>,
    /// Base for paths shown in the header (the repository root).
    pub display_root: PathBuf,
    /// Normalize settings.
    pub normalize: NormalizeSettings,
    /// progenitor settings.
    pub generate: generate::GenerateOptions,
    /// Dependency style.
    pub mode: CrateMode,
}

/// How often one rewrite of a stage that works on progenitor's output applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewrite {
    /// The stage: `prune`, `serde-directions`, `lean` or `bytes`.
    pub stage: &'static str,
    /// The rewrite, e.g. `header-loop`.
    pub rewrite: &'static str,
    /// How many places it changed.
    pub count: usize,
}

/// The rendered crate plus what it took.
#[derive(Debug)]
pub struct Rendered {
    /// Files to write, relative to the crate root (`Cargo.toml`, `src/lib.rs`,
    /// `src/client.rs`, `GENERATION.md`, in this order).
    pub files: Vec<OutFile>,
    /// What normalize changed (and the rewrites' counts), with the warnings.
    pub report: Report,
    /// Every rewrite of the stages that ran, zero counts included.
    pub rewrites: Vec<Rewrite>,
    /// The normalized document.
    pub prepared: Prepared,
    /// Wall time of the whole pipeline.
    pub elapsed: Duration,
}

/// Runs every stage except writing.
pub fn render(spec: &CrateSpec) -> Result<Rendered> {
    let start = Instant::now();
    let prepared = prepare_full(&spec.document, spec.overlay.as_deref(), &spec.normalize)?;
    check_bytes_operations(spec, &prepared.openapi)?;
    let generated = generate::generate(
        &prepared.openapi,
        &spec.generate,
        &spec.bank,
        &spec.document,
    )?;
    let mut file = format::parse(generated.tokens)?;
    let mut rewrites = rewrite_stages(&spec.generate, &mut file);
    rewrites.extend(bytes_stage(spec, &mut file)?);
    let mut report = prepared.report.clone();
    for r in rewrites.iter().filter(|r| r.count > 0) {
        report.counts.insert(r.rewrite, r.count);
    }
    let code = format::unparse(&file);
    let header = crate_files::header_lines(spec)?;
    let comment =
        |marker: &str| -> String { header.iter().map(|l| format!("{marker} {l}\n")).collect() };
    // The code lives in `src/client.rs`, behind `#[rustfmt::skip]`, so `cargo fmt --all`
    // leaves prettyplease's output alone (and `generate --check` stays green after it).
    let lib = format!(
        "{}{}#[rustfmt::skip]\nmod client;\n\npub use client::*;\n",
        comment("//"),
        crate_files::lib_preamble(spec)
    );
    let client = format!("{}{code}", comment("//"));
    let uses_decimal = prepared
        .openapi
        .components
        .as_ref()
        .is_some_and(|c| c.schemas.contains_key(normalize::DECIMAL_SCHEMA));
    let uses_bytes = !spec.generate.bytes_operations.is_empty();
    let needs = crate_files::needed_crates(&generated.uses, uses_decimal, uses_bytes);
    let cargo = format!(
        "{}{}",
        comment("#"),
        crate_files::cargo_toml(spec, &needs, &code)
    );
    let generation = generation_md::render(&header, &report, &rewrites);
    Ok(Rendered {
        files: vec![
            OutFile {
                path: "Cargo.toml".into(),
                content: cargo,
            },
            OutFile {
                path: "src/lib.rs".into(),
                content: lib,
            },
            OutFile {
                path: "src/client.rs".into(),
                content: client,
            },
            OutFile {
                path: generation_md::FILE.into(),
                content: generation,
            },
        ],
        report,
        rewrites,
        prepared,
        elapsed: start.elapsed(),
    })
}

/// The `bytes_operations` setting against the document, before anything is generated.
fn check_bytes_operations(spec: &CrateSpec, openapi: &openapiv3::OpenAPI) -> Result<()> {
    let listed = &spec.generate.bytes_operations;
    let refuse = |(operation, reason): bytes_ops::Refusal| Error::BytesOperation {
        bank: spec.bank.clone(),
        operation,
        reason,
    };
    if let Some(first) = listed.first()
        && spec.generate.interface != generate::Interface::Builder
    {
        return Err(refuse((
            first.clone(),
            "`send_bytes()` is added to operation builders, and this bank has `interface = \"positional\"`".into(),
        )));
    }
    bytes_ops::check_listed(openapi, listed).map_err(refuse)
}

/// The bytes stage (after lean, on either operation code), reported only when the bank
/// lists operations, so other banks' reports stay as they were.
fn bytes_stage(spec: &CrateSpec, file: &mut syn::File) -> Result<Option<Rewrite>> {
    let listed = &spec.generate.bytes_operations;
    if listed.is_empty() {
        return Ok(None);
    }
    let count = bytes_ops::add_send_bytes(file, listed).map_err(|(operation, reason)| {
        Error::BytesOperation {
            bank: spec.bank.clone(),
            operation,
            reason,
        }
    })?;
    Ok(Some(Rewrite {
        stage: bytes_ops::STAGE,
        rewrite: bytes_ops::REWRITE,
        count,
    }))
}

/// Runs the stages that rewrite progenitor's output (those turned on), each counting
/// every rewrite it knows, zero included.
fn rewrite_stages(options: &generate::GenerateOptions, file: &mut syn::File) -> Vec<Rewrite> {
    let mut out = Vec::new();
    if options.interface == generate::Interface::Builder
        && options.struct_builders == prune::StructBuilders::Requests
    {
        out.push(Rewrite {
            stage: "prune",
            rewrite: "drop-struct-builder-not-in-requests",
            count: prune::prune_struct_builders(file),
        });
    }
    if options.serde_directions == serde_dirs::SerdeDirections::Used {
        let gated = serde_dirs::gate_serde_directions(file);
        for (rewrite, count) in [
            ("gate-serialize-of-response-types", gated.serialize),
            ("gate-deserialize-of-request-types", gated.deserialize),
        ] {
            out.push(Rewrite {
                stage: "serde-directions",
                rewrite,
                count,
            });
        }
    }
    if options.operation_code == lean::OperationCode::Lean {
        let counts = lean::lean_operations(file);
        for rewrite in lean::REWRITES {
            out.push(Rewrite {
                stage: "lean",
                rewrite,
                count: counts.get(rewrite).copied().unwrap_or(0),
            });
        }
    }
    out
}
