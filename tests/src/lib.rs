//! Workspace-level tests live in `tests/tests/`; this library holds what several of them share.
#![forbid(unsafe_code)]

use std::io::Write;
use std::string::FromUtf8Error;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::subscriber::SetGlobalDefaultError;

/// Everything the process-wide tracing subscriber writes, kept in memory so a test can search
/// the log output for secrets.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl Write for LogCapture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Installs a global `fmt` subscriber at TRACE for everything on the client side (the
    /// sandbox, axum and tower-http are off: the bank is not ours to check), without ANSI
    /// colours, writing into a new capture.
    ///
    /// Global, not scoped: a scoped dispatcher misses events whose callsite interest was
    /// cached while other tests of the same binary ran on other threads without it. Those
    /// other tests log into it too, which only widens the check. Fails when a global
    /// subscriber is already set.
    pub fn install_global() -> Result<Self, SetGlobalDefaultError> {
        let capture = Self::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "trace,psd2_sandbox=off,axum=off,tower_http=off",
            ))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber)?;
        Ok(capture)
    }

    /// The text captured so far.
    pub fn text(&self) -> Result<String, FromUtf8Error> {
        String::from_utf8(
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}
