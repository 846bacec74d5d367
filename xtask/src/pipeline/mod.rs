//! The generator pipeline: load → upgrade → overlay → normalize → generate → format → write.

pub mod check;
pub mod format;
pub mod generate;
pub mod lean;
pub mod load;
pub mod normalize;
pub mod overlay;
pub mod prune;
pub mod refs;
pub mod serde_dirs;
pub mod upgrade;
pub mod write;

use crate::error::{Error, Result};
use normalize::{NormalizeSettings, Report};
use serde_json::Value;
use sha2::{Digest, Sha256};
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
    refs::check_refs(&value, document)?;
    let report = normalize::normalize(&mut value, settings, document)?;
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

/// The rendered crate plus what it took.
#[derive(Debug)]
pub struct Rendered {
    /// Files to write, relative to the crate root.
    pub files: Vec<OutFile>,
    /// What normalize changed.
    pub report: Report,
    /// The normalized document.
    pub prepared: Prepared,
    /// Wall time of the whole pipeline.
    pub elapsed: Duration,
}

/// Runs every stage except writing.
pub fn render(spec: &CrateSpec) -> Result<Rendered> {
    let start = Instant::now();
    let prepared = prepare_full(&spec.document, spec.overlay.as_deref(), &spec.normalize)?;
    let generated = generate::generate(
        &prepared.openapi,
        &spec.generate,
        &spec.bank,
        &spec.document,
    )?;
    let mut file = format::parse(generated.tokens)?;
    let mut report = prepared.report.clone();
    if spec.generate.interface == generate::Interface::Builder
        && spec.generate.struct_builders == prune::StructBuilders::Requests
    {
        let dropped = prune::prune_struct_builders(&mut file);
        if dropped > 0 {
            report
                .counts
                .insert("drop-struct-builder-not-in-requests", dropped);
        }
    }
    if spec.generate.serde_directions == serde_dirs::SerdeDirections::Used {
        let gated = serde_dirs::gate_serde_directions(&mut file);
        for (key, n) in [
            ("gate-serialize-of-response-types", gated.serialize),
            ("gate-deserialize-of-request-types", gated.deserialize),
        ] {
            if n > 0 {
                report.counts.insert(key, n);
            }
        }
    }
    if spec.generate.operation_code == lean::OperationCode::Lean {
        for (rewrite, n) in lean::lean_operations(&mut file) {
            report.counts.insert(rewrite, n);
        }
    }
    let code = format::unparse(&file);
    let header = header_lines(spec)?;
    let comment =
        |marker: &str| -> String { header.iter().map(|l| format!("{marker} {l}\n")).collect() };
    // The code lives in `src/client.rs`, behind `#[rustfmt::skip]`, so `cargo fmt --all`
    // leaves prettyplease's output alone (and `generate --check` stays green after it).
    let lib = format!(
        "{}{}#[rustfmt::skip]\nmod client;\n\npub use client::*;\n",
        comment("//"),
        lib_preamble(spec)
    );
    let client = format!("{}{code}", comment("//"));
    let cargo = format!("{}{}", comment("#"), cargo_toml(spec, &code));
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
        ],
        report,
        prepared,
        elapsed: start.elapsed(),
    })
}

fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The do-not-edit header: each input file and its SHA-256.
fn header_lines(spec: &CrateSpec) -> Result<Vec<String>> {
    let mut inputs: Vec<&PathBuf> = vec![&spec.document];
    inputs.extend(spec.overlay.iter());
    inputs.extend(spec.extra_inputs.iter());
    let mut lines = vec![
        "@generated by `cargo xtask generate` from the files below. DO NOT EDIT.".to_string(),
        "Change the spec, overlay.yaml or bank.toml and regenerate instead.".to_string(),
    ];
    for input in inputs {
        let bytes = std::fs::read(input).map_err(|e| Error::io(input, e))?;
        let hash = hex::encode(Sha256::digest(&bytes));
        lines.push(format!(
            "  {}  sha256:{hash}",
            shown(input, &spec.display_root)
        ));
    }
    Ok(lines)
}

fn lib_preamble(spec: &CrateSpec) -> String {
    format!(
        "//! Raw client for the {} API, generated by progenitor.\n//!\n\
         //! Requests pass through `psd2_hooks::Hooks` (the client's inner type) before they are\n\
         //! sent; build it with `Client::new_with_client(base_url, reqwest_client, hooks)`.\n\
         #![allow(\n    missing_docs,\n    unused_imports,\n    dead_code,\n    unreachable_pub,\n    \
         clippy::all,\n    clippy::pedantic,\n    clippy::nursery,\n    clippy::unwrap_used,\n    \
         rustdoc::all\n)]\n\n",
        spec.display_name
    )
}

fn cargo_toml(spec: &CrateSpec, code: &str) -> String {
    let uses = |c: &str| code.contains(&format!("{c}::"));
    let mut deps: Vec<(&str, &str)> = vec![
        ("progenitor-client", "\"0.15.1\""),
        (
            "reqwest",
            "{ version = \"0.13\", features = [\"json\", \"query\", \"form\"] }",
        ),
        ("serde", "{ version = \"1\", features = [\"derive\"] }"),
        ("serde_json", "\"1\""),
    ];
    for (name, version, used) in [
        (
            "chrono",
            "{ version = \"0.4\", default-features = false, features = [\"serde\", \"std\", \"clock\"] }",
            uses("chrono"),
        ),
        (
            "uuid",
            "{ version = \"1\", features = [\"serde\", \"v4\"] }",
            uses("uuid"),
        ),
        ("regress", "\"0.12\"", uses("regress")),
        (
            "rust_decimal",
            "{ version = \"1\", features = [\"serde-with-str\", \"serde-with-arbitrary-precision\"] }",
            uses("rust_decimal"),
        ),
        ("futures", "\"0.3\"", uses("futures")),
        ("bytes", "\"1\"", uses("bytes")),
    ] {
        if used {
            deps.push((name, version));
        }
    }
    let mut out = format!(
        "[package]\nname = \"{}\"\ndescription = \"Raw PSD2 client for {} (generated)\"\nversion = \"0.1.0\"\n",
        spec.crate_name, spec.display_name
    );
    match &spec.mode {
        CrateMode::Workspace => {
            out.push_str("edition.workspace = true\nlicense.workspace = true\npublish.workspace = true\n\n[dependencies]\n");
            for (name, _) in &deps {
                out.push_str(&format!("{name} = {{ workspace = true }}\n"));
            }
            out.push_str("psd2-hooks = { workspace = true }\n");
            out.push_str(&serde_dirs::features_toml(code));
            out.push_str("\n[lints]\nworkspace = true\n");
        }
        CrateMode::Standalone { hooks_path } => {
            out.push_str("edition = \"2024\"\npublish = false\n\n[workspace]\n\n[dependencies]\n");
            for (name, version) in &deps {
                out.push_str(&format!("{name} = {version}\n"));
            }
            out.push_str(&format!(
                "psd2-hooks = {{ path = \"{}\" }}\n",
                hooks_path.display()
            ));
            out.push_str(&serde_dirs::features_toml(code));
        }
    }
    out
}
