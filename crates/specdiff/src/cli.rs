//! The command: arguments, running both documents through the generator, the exit code.

use crate::model::Report;
use crate::prepare::prepare_inputs;
use crate::usage::{self, AdapterUsage};
use crate::{compare_with, render};
use psd2_codegen::bank_config::list_banks;
use psd2_codegen::{bank_crate_spec, repo_root, spec_crate_spec};
use std::io::Write;
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
    Pipeline(#[from] psd2_codegen::Error),
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
    let code = run_to(&args, &mut std::io::stdout(), &mut std::io::stderr());
    ExitCode::from(code)
}

/// [`run`] writing to the given streams; returns the exit code.
pub fn run_to(args: &DiffArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match execute(args) {
        Ok(report) => {
            let mut text = match args.format {
                Format::Text => render::text(&report),
                Format::Json => render::json(&report),
            };
            if !text.ends_with('\n') {
                text.push('\n');
            }
            // A closed stdout (e.g. `| head`) is not a diff result: the exit code stands.
            let _ = out.write_all(text.as_bytes());
            exit_code(&report)
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            2
        }
    }
}

/// 1 when the report has a breaking change, else 0.
pub fn exit_code(report: &Report) -> u8 {
    u8::from(report.is_breaking())
}

/// Prepares both documents named by `args` (and their generated clients' surfaces) and
/// compares them.
pub fn execute(args: &DiffArgs) -> Result<Report, DiffError> {
    let (old_spec, new_spec, usage, old_name) = match (&args.bank, &args.old) {
        (Some(name), None) => {
            let specs = args
                .specs_dir
                .clone()
                .unwrap_or_else(|| repo_root().join("specs"));
            let dir = specs.join(name);
            if !dir.join("bank.toml").is_file() {
                return Err(unknown_bank(name, &specs));
            }
            let old = bank_crate_spec(&dir)?;
            let usage = AdapterUsage::load(&dir.join("adapter-usage.toml"))?;
            let mut new = old.clone();
            new.document = args.new.clone();
            let old_name = format!("{} (bank {name}, with overlay)", shown(&old.document));
            (old, new, usage, old_name)
        }
        (None, Some(old_path)) => (
            spec_crate_spec(old_path, &[]),
            spec_crate_spec(&args.new, &[]),
            AdapterUsage::default(),
            shown(old_path),
        ),
        _ => {
            return Err(DiffError::Args(
                "give either --bank NAME or --old FILE (and --new FILE)".into(),
            ));
        }
    };
    let old = prepare_inputs(&old_spec)?;
    let new = prepare_inputs(&new_spec)?;
    let (surfaces, failed) = match (&old.surface, &new.surface) {
        (Ok(o), Ok(n)) => (Some((o, n)), None),
        (Err(why), _) => (None, Some(format!("old client: {why}"))),
        (_, Err(why)) => (None, Some(format!("new client: {why}"))),
    };
    let names = (old_name, shown(&args.new));
    let mut report = compare_with(&old.document, &new.document, surfaces, &usage, names);
    report.surface.failed = failed;
    Ok(report)
}

fn unknown_bank(name: &str, specs: &Path) -> DiffError {
    let known: Vec<String> = list_banks(specs)
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
        .collect();
    DiffError::UnknownBank {
        name: name.to_string(),
        known: if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        },
    }
}

fn shown(path: &Path) -> String {
    let root = repo_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}
