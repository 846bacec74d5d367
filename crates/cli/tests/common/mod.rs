//! Test bench: a sandbox served by a runtime owned by the test, and `psd2` commands
//! pointed at it through the environment, each test in its own temporary directory.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use psd2_sandbox::{Bank, RunningSandbox, Sandbox, SandboxBuilder};
use serde_json::Value;

/// The banks by their CLI names, with their sandbox counterpart.
pub const BANKS: [(&str, Bank); 3] = [
    ("handelsbanken", Bank::Handelsbanken),
    ("openpayments", Bank::OpenPayments),
    ("swedbank", Bank::Swedbank),
];

/// A running sandbox plus a scratch directory.
pub struct Bench {
    pub sandbox: RunningSandbox,
    pub dir: tempfile::TempDir,
    /// When set, every command runs with the PSU present at this address.
    pub psu_ip: Option<&'static str>,
    // Declared last: dropped after the sandbox.
    pub runtime: tokio::runtime::Runtime,
}

/// `crates/security/fixtures/<name>`.
pub fn security_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../security/fixtures")
        .join(name)
}

impl Bench {
    /// A sandbox with signatures checked against the test certificate; small history so
    /// tests stay quick.
    pub fn start() -> Self {
        Self::with(
            Sandbox::builder()
                .history_size(1200)
                .page_size(250)
                .decoupled_pending_polls(1),
        )
    }

    /// A sandbox from `builder`.
    pub fn with(builder: SandboxBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cert = std::fs::read_to_string(security_fixture("test-signing-cert.pem")).unwrap();
        let sandbox = runtime
            .block_on(
                builder
                    .require_signatures(true)
                    .signing_certificate_pem(cert)
                    .build()
                    .start(),
            )
            .unwrap();
        Self {
            sandbox,
            dir: tempfile::tempdir().unwrap(),
            psu_ip: None,
            runtime,
        }
    }

    /// The session file the commands use.
    pub fn session_path(&self) -> PathBuf {
        self.dir.path().join("session.json")
    }

    /// The stored session as JSON.
    pub fn session(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.session_path()).unwrap()).unwrap()
    }

    /// `psd2 ARGS` against `bank` in the sandbox, configured only through the environment.
    pub fn psd2(&self, bank: &str, args: &[&str]) -> Command {
        let mut cmd = Command::from_std(self.psd2_std(bank, args));
        cmd.timeout(Duration::from_secs(120));
        cmd
    }

    /// Like [`Bench::psd2`], as a plain `std::process::Command` (for streaming output).
    pub fn psd2_std(&self, bank: &str, args: &[&str]) -> std::process::Command {
        let sandbox_bank = BANKS.iter().find(|(n, _)| *n == bank).map(|(_, b)| *b);
        let url = match sandbox_bank {
            Some(b) => self.sandbox.bank_url(b),
            None => format!("{}/{bank}", self.sandbox.base_url()),
        };
        let mut cmd = bare_std(self.dir.path());
        cmd.env("PSD2_BANK", bank)
            .env("PSD2_BASE_URL", url)
            .env("PSD2_CLIENT_ID", "cli-test")
            .env("PSD2_CLIENT_SECRET", "test-client-secret")
            .env("PSD2_BIC", "ESSESESS")
            .env("PSD2_PSU_ID", "private-1")
            .env(
                "PSD2_SIGNING_CERTIFICATE",
                security_fixture("test-signing-cert.pem"),
            )
            .env("PSD2_SIGNING_KEY", security_fixture("test-signing-key.pem"))
            .env("PSD2_SESSION", self.session_path())
            .args(args);
        if let Some(ip) = self.psu_ip {
            cmd.env("PSD2_PSU_IP_ADDRESS", ip);
        }
        cmd
    }

    /// POSTs to the sandbox's admin API.
    pub fn admin_post(&self, path: &str, body: Value) -> u16 {
        let url = format!("{}/admin{path}", self.sandbox.base_url());
        self.runtime.block_on(async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }

    /// Creates and authorises (decoupled) a consent for `bank`; returns its id.
    pub fn authorise(&self, bank: &str, frequency: u32) -> String {
        self.psd2(
            bank,
            &[
                "consent",
                "create",
                "--frequency-per-day",
                &frequency.to_string(),
            ],
        )
        .assert()
        .success();
        self.psd2(bank, &["sca", "--method", "decoupled", "--timeout", "30"])
            .assert()
            .success();
        let session = self.session();
        assert_eq!(session["authorised"], true, "{bank}");
        session["consent_id"].as_str().unwrap().to_string()
    }
}

/// `psd2` with a clean environment (no PSD2_* from the caller), run in `dir`.
pub fn bare_psd2(dir: &Path) -> Command {
    let mut cmd = Command::from_std(bare_std(dir));
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// [`bare_psd2`] as a plain `std::process::Command`.
pub fn bare_std(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_psd2"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PSD2_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir);
    cmd
}

/// stdout and stderr of an output as text.
pub fn texts(output: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A fake bank on a local port: answers each request with the first canned answer whose
/// path fragment the request path contains (else 404), and counts the requests. For
/// answers the sandbox does not give (free text with personal data, odd values).
pub struct FakeBank {
    pub url: String,
    pub requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub runtime: tokio::runtime::Runtime,
}

impl FakeBank {
    /// Serves `answers`: `(path fragment, status, JSON body)`.
    pub fn start(answers: Vec<(&'static str, u16, String)>) -> Self {
        use axum::http::{StatusCode, Uri};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let answers = Arc::new(answers);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new().fallback(move |uri: Uri| {
            let answers = answers.clone();
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let found = answers.iter().find(|(p, _, _)| uri.path().contains(p));
                match found {
                    Some((_, status, body)) => (
                        StatusCode::from_u16(*status).unwrap(),
                        [("content-type", "application/json")],
                        body.clone(),
                    ),
                    None => (
                        StatusCode::NOT_FOUND,
                        [("content-type", "application/json")],
                        "{}".to_string(),
                    ),
                }
            }
        });
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://127.0.0.1:{port}/swedbank"),
            requests,
            runtime,
        }
    }

    /// Requests served so far.
    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// `psd2 ARGS` for Swedbank at `url` with an authorised session (consent id `consent_id`)
/// written into `dir` first; no signing (a fake bank checks nothing).
pub fn swedbank_at(dir: &Path, url: &str, consent_id: &str, args: &[&str]) -> Command {
    let session = dir.join("session.json");
    std::fs::write(
        &session,
        serde_json::json!({
            "version": 1, "bank": "swedbank", "base_url": url,
            "consent_id": consent_id, "authorised": true
        })
        .to_string(),
    )
    .unwrap();
    let mut cmd = bare_psd2(dir);
    cmd.env("PSD2_BANK", "swedbank")
        .env("PSD2_BASE_URL", url)
        .env("PSD2_SESSION", &session)
        .env("PSD2_PSU_ID", "191212121212")
        .args(args);
    cmd
}
