//! `cargo xtask diff`: what a new version of a bank's spec breaks for clients.
//!
//! Both documents are prepared by the generator's pipeline, then compared twice: by the
//! built-in walk ([`walk`], operation by operation, direction aware) and by oxidecomputer's
//! `drift`; the findings are merged ([`drift_merge`]), grouped, marked `[adapter]` where
//! `specs/<bank>/adapter-usage.toml` says the facade uses them, and printed as text or JSON.
//! Exit code: 0 nothing breaks, 1 something breaks, 2 bad input.

mod drift_merge;
pub mod model;
mod prepare;
pub mod render;
mod schema;
pub mod usage;
mod walk;

pub use model::{ChangeKind, Direction, Finding, Report, Source, Verdict};
pub use prepare::prepare_document;
pub use usage::AdapterUsage;

use crate::bank_config::{BankInputs, list_banks};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per change.
    Text,
    /// A JSON object with `summary` and `changes`.
    Json,
}

/// Arguments of `cargo xtask diff`.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// Compare this bank's current spec (with its overlay) against --new.
    #[arg(long, conflicts_with = "old", required_unless_present = "old")]
    pub bank: Option<String>,
    /// Or compare any document against --new (Swagger 2.0 or OpenAPI 3.0).
    #[arg(long)]
    pub old: Option<PathBuf>,
    /// The new document.
    #[arg(long)]
    pub new: PathBuf,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Where bank folders live (default: `specs/` of this repository).
    #[arg(long, hide = true)]
    pub specs_dir: Option<PathBuf>,
}

/// Why a diff could not be made (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// `--bank` names no folder with a `bank.toml`.
    #[error("unknown bank `{name}` (known: {known})")]
    UnknownBank {
        /// The name given.
        name: String,
        /// The banks that exist.
        known: String,
    },
    /// A document could not be loaded or prepared.
    #[error(transparent)]
    Pipeline(#[from] crate::Error),
    /// The adapter usage file is malformed.
    #[error(transparent)]
    Usage(#[from] usage::UsageError),
    /// Bad combination of arguments.
    #[error("{0}")]
    Args(String),
}

/// Runs the command: prints the report (stdout) or a one-line error (stderr); returns
/// 0 when nothing breaks, 1 when something does, 2 on bad input.
pub fn run(args: DiffArgs) -> ExitCode {
    match execute(&args) {
        Ok(report) => {
            let out = match args.format {
                Format::Text => render::text(&report),
                Format::Json => render::json(&report),
            };
            print!("{out}");
            if !out.ends_with('\n') {
                println!();
            }
            ExitCode::from(exit_code(&report))
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// 1 when the report has a breaking change, else 0.
pub fn exit_code(report: &Report) -> u8 {
    u8::from(report.is_breaking())
}

/// Prepares both documents named by `args` and compares them.
pub fn execute(args: &DiffArgs) -> Result<Report, DiffError> {
    match (&args.bank, &args.old) {
        (Some(name), None) => {
            let specs = args
                .specs_dir
                .clone()
                .unwrap_or_else(|| crate::repo_root().join("specs"));
            let dir = specs.join(name);
            if !dir.join("bank.toml").is_file() {
                let known: Vec<String> = list_banks(&specs)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
                    .collect();
                return Err(DiffError::UnknownBank {
                    name: name.clone(),
                    known: if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    },
                });
            }
            let bank = BankInputs::load(&dir)?;
            let usage = AdapterUsage::load(&dir.join("adapter-usage.toml"))?;
            let old = to_value(prepare_document(&bank.spec, Some(&bank))?);
            let new = to_value(prepare_document(&args.new, Some(&bank))?);
            let old_name = format!("{} (bank {name}, with overlay)", shown(&bank.spec));
            Ok(compare(&old, &new, &usage, old_name, shown(&args.new)))
        }
        (None, Some(old_path)) => {
            let old = to_value(prepare_document(old_path, None)?);
            let new = to_value(prepare_document(&args.new, None)?);
            Ok(compare(
                &old,
                &new,
                &AdapterUsage::default(),
                shown(old_path),
                shown(&args.new),
            ))
        }
        _ => Err(DiffError::Args(
            "give either --bank NAME or --old FILE (and --new FILE)".into(),
        )),
    }
}

fn shown(path: &Path) -> String {
    let root = crate::repo_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn to_value(openapi: openapiv3::OpenAPI) -> Value {
    serde_json::to_value(openapi).unwrap_or(Value::Null)
}

/// Compares two prepared documents (as JSON) and builds the report.
pub fn compare(
    old: &Value,
    new: &Value,
    usage: &AdapterUsage,
    old_name: String,
    new_name: String,
) -> Report {
    let walker = walk::Walker::run(old, new);
    let walk::Walker {
        mut findings,
        quiet_pointers,
        inspected,
        ..
    } = walker;
    let drift = match drift_merge::run(old, new) {
        Ok(changes) => drift_merge::merge(
            &mut findings,
            &quiet_pointers,
            &inspected,
            old,
            new,
            changes,
        ),
        Err(why) => model::DriftStats {
            failed: Some(why),
            ..Default::default()
        },
    };
    let mut changes = group(findings);
    usage.mark(&mut changes);
    changes.sort_by(|a, b| {
        (
            a.verdict,
            !a.adapter,
            a.operations.first(),
            &a.location,
            &a.old,
            &a.new,
        )
            .cmp(&(
                b.verdict,
                !b.adapter,
                b.operations.first(),
                &b.location,
                &b.old,
                &b.new,
            ))
    });
    Report {
        old: old_name,
        new: new_name,
        changes,
        drift,
    }
}

/// Merges findings that describe the same change reached from several operations.
fn group(findings: Vec<Finding>) -> Vec<Finding> {
    type Key = (
        Verdict,
        ChangeKind,
        Direction,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let mut groups: BTreeMap<Key, Finding> = BTreeMap::new();
    let mut order: Vec<Key> = Vec::new();
    for f in findings {
        let key = (
            f.verdict,
            f.kind,
            f.direction,
            f.location.clone(),
            f.field.clone(),
            f.old.clone(),
            f.new.clone(),
            f.reason.clone(),
        );
        match groups.get_mut(&key) {
            Some(g) => {
                for (i, op) in f.operations.iter().enumerate() {
                    if !g.operations.contains(op) {
                        g.operations.push(op.clone());
                        if let Some(r) = f.operation_routes.get(i) {
                            g.operation_routes.push(r.clone());
                        }
                    }
                }
                for id in f.operation_ids {
                    if !g.operation_ids.contains(&id) {
                        g.operation_ids.push(id);
                    }
                }
                if f.source == Source::Both {
                    g.source = Source::Both;
                }
            }
            None => {
                order.push(key.clone());
                groups.insert(key, f);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .collect()
}
