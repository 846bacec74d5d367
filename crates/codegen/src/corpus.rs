//! The real-document corpus: every OpenAPI/Swagger document in a folder (by default
//! `../shared/realspecs`) is generated into a standalone crate, built, and checked with all
//! features. A document either yields a crate that compiles, or fails with one clear error;
//! the latter is accepted only when the expected-failures list names it, with a reason.
//! A crate that does not compile, or a panic anywhere, always fails the run.

use crate::error::{Error, Result};
use crate::pipeline::{render, write};
use crate::{exec, spec_crate_spec};
use serde::Deserialize;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Where and how the corpus runs.
#[derive(Debug, Clone)]
pub struct CorpusOptions {
    /// The folder of documents (every `*.yaml`, `*.yml`, `*.json` in it).
    pub documents: PathBuf,
    /// Where the crates are written, one folder per document, and their shared target dir
    /// (`<work>/target`); never under `generated/`.
    pub work: PathBuf,
    /// The lock file each crate starts from (the workspace's, so versions match).
    pub lock: Option<PathBuf>,
    /// Also build each crate and check it with all features.
    pub build: bool,
    /// The expected failures.
    pub expected: Vec<ExpectedFailure>,
}

/// A document allowed to fail generation, with the reason (`corpus-expected-failures.toml`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFailure {
    /// File name inside the corpus folder.
    pub document: String,
    /// Text the error message must contain (so a different failure is not excused).
    pub error_contains: String,
    /// Why this failure is right.
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFile {
    #[serde(default)]
    failure: Vec<ExpectedFailure>,
}

/// Reads an expected-failures file (`[[failure]] document, error_contains, reason`).
pub fn load_expected(path: &Path) -> Result<Vec<ExpectedFailure>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let file: ExpectedFile = toml::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}: invalid expected-failures file: {e}",
            path.display()
        ))
    })?;
    Ok(file.failure)
}

/// How one document fared.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Generated, built, and checked with all features.
    Compiles,
    /// Generated (building was not asked for).
    Generated,
    /// Generation failed with a clear error; `expected` holds the reason when listed.
    Failed {
        /// The error message.
        message: String,
        /// The reason from the expected-failures list, if it names this failure.
        expected: Option<String>,
    },
    /// The crate was written but does not compile (always fails the run).
    DoesNotCompile {
        /// The failing command and the last lines it printed.
        message: String,
    },
    /// The generator panicked (always fails the run).
    Panicked {
        /// The panic message.
        message: String,
    },
}

/// One row of the corpus table.
#[derive(Debug, Clone)]
pub struct Row {
    /// File name of the document.
    pub document: String,
    /// What happened.
    pub outcome: Outcome,
    /// Seconds the pipeline took.
    pub generate_secs: f64,
    /// Seconds of `cargo build` plus `cargo check --all-features`.
    pub build_secs: f64,
    /// Number of normalizations and rewrites.
    pub normalizations: usize,
    /// The warnings (JSON pointer, what, why), as text.
    pub warnings: Vec<String>,
}

impl Row {
    /// Whether this row fails the run.
    pub fn fails(&self) -> bool {
        match &self.outcome {
            Outcome::Compiles | Outcome::Generated => false,
            Outcome::Failed { expected, .. } => expected.is_none(),
            Outcome::DoesNotCompile { .. } | Outcome::Panicked { .. } => true,
        }
    }
}

/// The documents of the corpus folder, sorted by file name.
pub fn documents(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if path.is_file() && matches!(ext, "yaml" | "yml" | "json") {
            docs.push(path);
        }
    }
    docs.sort();
    Ok(docs)
}

/// Runs the corpus; `progress` sees each row as soon as it is done.
pub fn run(options: &CorpusOptions, mut progress: impl FnMut(&Row)) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for document in documents(&options.documents)? {
        let row = one(options, &document)?;
        progress(&row);
        rows.push(row);
    }
    Ok(rows)
}

fn one(options: &CorpusOptions, document: &Path) -> Result<Row> {
    let name = document
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut row = Row {
        document: name.clone(),
        outcome: Outcome::Generated,
        generate_secs: 0.0,
        build_secs: 0.0,
        normalizations: 0,
        warnings: Vec::new(),
    };
    let spec = spec_crate_spec(document, &[]);
    let start = Instant::now();
    let rendered = catch_unwind(AssertUnwindSafe(|| render(&spec)));
    row.generate_secs = start.elapsed().as_secs_f64();
    let rendered = match rendered {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            let message = e.to_string();
            let expected = options
                .expected
                .iter()
                .find(|x| x.document == name && message.contains(&x.error_contains))
                .map(|x| x.reason.clone());
            row.outcome = Outcome::Failed { message, expected };
            return Ok(row);
        }
        Err(payload) => {
            row.outcome = Outcome::Panicked {
                message: panic_text(payload.as_ref()),
            };
            return Ok(row);
        }
    };
    row.normalizations = rendered.report.total();
    row.warnings = rendered
        .report
        .warnings
        .iter()
        .map(|w| w.to_string())
        .collect();
    let out = options.work.join(crate_dir(&name));
    write::write_crate(&out, &rendered.files)?;
    if let Some(lock) = &options.lock {
        let to = out.join("Cargo.lock");
        std::fs::copy(lock, &to).map_err(|e| Error::io(&to, e))?;
    }
    if !options.build {
        return Ok(row);
    }
    let log = options.work.join(format!("{}.log", crate_dir(&name)));
    let _ = std::fs::remove_file(&log);
    let target = options.work.join("target");
    let mut built = 0.0;
    for args in [&["build"][..], &["check", "--all-features"][..]] {
        let mut cmd = Command::new(exec::cargo());
        cmd.args(args)
            .current_dir(&out)
            .env("CARGO_TARGET_DIR", &target);
        match exec::timed(&mut cmd, &log) {
            Ok(secs) => built += secs,
            Err(e) => {
                row.build_secs = built;
                row.outcome = Outcome::DoesNotCompile {
                    message: e.to_string(),
                };
                return Ok(row);
            }
        }
    }
    row.build_secs = built;
    row.outcome = Outcome::Compiles;
    Ok(row)
}

/// The folder name of a document's crate: its file name with `.` as `-`.
fn crate_dir(name: &str) -> String {
    name.chars()
        .map(|c| if c == '.' { '-' } else { c })
        .collect()
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The corpus table (Markdown): one row per document, then each failure's message and
/// each document's warnings.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| document | result | generate s | build s | normalizations | warnings |\n\
         |---|---|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let result = match &r.outcome {
            Outcome::Compiles => "compiles (default and all features)".to_string(),
            Outcome::Generated => "generated (not built)".to_string(),
            Outcome::Failed {
                expected: Some(_), ..
            } => "expected failure".to_string(),
            Outcome::Failed { expected: None, .. } => "FAILED: unexpected error".to_string(),
            Outcome::DoesNotCompile { .. } => "FAILED: does not compile".to_string(),
            Outcome::Panicked { .. } => "FAILED: panic".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {result} | {:.2} | {:.1} | {} | {} |",
            r.document,
            r.generate_secs,
            r.build_secs,
            r.normalizations,
            r.warnings.len()
        );
    }
    for r in rows {
        match &r.outcome {
            Outcome::Failed { message, expected } => {
                let _ = writeln!(out, "\n{}: {message}", r.document);
                if let Some(reason) = expected {
                    let _ = writeln!(out, "  expected: {reason}");
                }
            }
            Outcome::DoesNotCompile { message } | Outcome::Panicked { message } => {
                let _ = writeln!(out, "\n{}: {message}", r.document);
            }
            _ => {}
        }
        for w in &r.warnings {
            let _ = writeln!(out, "{}: warning: {w}", r.document);
        }
    }
    out
}
