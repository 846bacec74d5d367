//! The one error type of the generator: every bad input ends here with a clear message.

use std::path::PathBuf;

/// Why a generator command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A YAML document did not parse.
    #[error("{}: invalid YAML: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A JSON document did not parse.
    #[error("{}: invalid JSON: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The document is neither Swagger 2.0 nor OpenAPI 3.0.x.
    #[error("{}: unsupported document version {found} (supported: swagger 2.0, openapi 3.0.x)", path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// What the document declares.
        found: String,
    },
    /// A `$ref` points at nothing (the message names the overlay action that fixes it).
    #[error("{}: dangling $ref `{reference}` at {at}; {}", path.display(), crate::pipeline::repair::dangling_fix(reference, at))]
    DanglingRef {
        /// The file.
        path: PathBuf,
        /// The reference text.
        reference: String,
        /// JSON pointer of the `$ref` inside the document.
        at: String,
    },
    /// The document has no `paths`: there is nothing to generate a client for.
    #[error("{}: the document has no `paths` (JSON pointer /paths), so there are no operations to generate; add them with an overlay action `target: \"$\"`, `update: {{\"paths\": {{...}}}}`", path.display())]
    NoPaths {
        /// The spec file.
        path: PathBuf,
    },
    /// `bank.toml` is missing, malformed or incomplete.
    #[error("{}: invalid bank config: {message}", path.display())]
    BankConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The overlay document is malformed or could not be applied.
    #[error("{}: overlay: {message}", path.display())]
    Overlay {
        /// The overlay file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An overlay action's target matches nothing: the fixup has rotted.
    #[error("{}: overlay action #{index} (target `{target}`) no longer matches anything in the document; remove or update the fixup", path.display())]
    OverlayNoMatch {
        /// The overlay file.
        path: PathBuf,
        /// Index of the action in `actions`.
        index: usize,
        /// The JSONPath target.
        target: String,
    },
    /// The document cannot be made to fit progenitor.
    #[error("{}: {message}", path.display())]
    Normalize {
        /// The spec file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The normalized document is not a valid OpenAPI 3.0 document.
    #[error("{}: not a valid OpenAPI 3.0 document after normalization: {message}", path.display())]
    Parse {
        /// The spec file.
        path: PathBuf,
        /// The deserializer's message.
        message: String,
    },
    /// progenitor refused the document or panicked on it.
    #[error("bank `{bank}`, {}: code generation failed in operation {operation}: {reason}", path.display())]
    Generate {
        /// The bank (or spec file stem).
        bank: String,
        /// The spec file.
        path: PathBuf,
        /// The operation that could not be generated (`operationId METHOD path`), or `(document)`.
        operation: String,
        /// progenitor's message or panic text.
        reason: String,
    },
    /// `[generate] bytes_operations` in `bank.toml` lists an operation that cannot get a
    /// `send_bytes()`.
    #[error(
        "bank `{bank}`: `[generate] bytes_operations` in bank.toml lists `{operation}`: {reason}"
    )]
    BytesOperation {
        /// The bank (or spec file stem).
        bank: String,
        /// The operationId as listed.
        operation: String,
        /// Why it cannot be served.
        reason: String,
    },
    /// A rewrite of progenitor's output that applied in the last generation applies
    /// nowhere now: progenitor's output changed shape.
    #[error(
        "bank `{bank}`: the {stage} rewrite `{rewrite}` applied {before} time(s) in the last generation (GENERATION.md) and nowhere now: progenitor's output changed shape and the stage no longer matches it; update the stage (or, if the document no longer has anything to rewrite, delete that row of GENERATION.md and regenerate)"
    )]
    RewriteRotted {
        /// The bank.
        bank: String,
        /// The stage (`prune`, `serde-directions`, `lean`).
        stage: String,
        /// The rewrite.
        rewrite: String,
        /// Its count in the last generation.
        before: usize,
    },
    /// The generated tokens are not valid Rust.
    #[error("formatting generated code failed: {0}")]
    Format(String),
    /// `--check` found differences.
    #[error("generated code is out of date ({0} file(s) differ); run `cargo xtask generate`")]
    CheckFailed(usize),
    /// A command-line usage problem.
    #[error("{0}")]
    Usage(String),
    /// An external command failed.
    #[error("`{command}` failed: {message}")]
    Command {
        /// The command line.
        command: String,
        /// What happened.
        message: String,
    },
}

/// Result alias for the generator.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an I/O error with the file it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
