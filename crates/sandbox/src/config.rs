//! Sandbox configuration and its builder.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;

use crate::faults::FaultConfig;

/// The banks the sandbox speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bank {
    /// Handelsbanken (Swagger 2.0 spec, `/handelsbanken`).
    Handelsbanken,
    /// Open Payments platform (`/openpayments`).
    #[serde(rename = "openpayments")]
    OpenPayments,
    /// Swedbank Norway/Baltics Berlin Group XS2A (`/swedbank`).
    Swedbank,
}

impl Bank {
    /// All banks, in a fixed order.
    pub const ALL: [Bank; 3] = [Bank::Handelsbanken, Bank::OpenPayments, Bank::Swedbank];

    /// The path prefix (without slashes) the bank is served under.
    pub fn prefix(self) -> &'static str {
        match self {
            Bank::Handelsbanken => "handelsbanken",
            Bank::OpenPayments => "openpayments",
            Bank::Swedbank => "swedbank",
        }
    }

    /// Parses a prefix name (`handelsbanken`, `openpayments`, `swedbank`).
    pub fn from_prefix(s: &str) -> Option<Bank> {
        Bank::ALL.into_iter().find(|b| b.prefix() == s)
    }

    /// The BIC the sandbox uses for this bank.
    pub fn bic(self) -> &'static str {
        match self {
            Bank::Handelsbanken => "HANDSESS",
            Bank::OpenPayments => "ESSESESS",
            Bank::Swedbank => "SWEDSESS",
        }
    }
}

impl fmt::Display for Bank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// Largest history of the long account (the builder clamps, the binary refuses more).
pub const MAX_HISTORY_SIZE: u64 = 1_000_000_000;
/// Largest page (the builder clamps).
pub const MAX_PAGE_SIZE: u64 = 10_000;
/// Longest access token lifetime (the builder clamps): a year.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(366 * 86_400);
/// Default cap on tokens (and, separately, refresh tokens and codes) held at once.
pub const DEFAULT_MAX_TOKENS: usize = 100_000;
/// Default cap on consents held at once.
pub const DEFAULT_MAX_CONSENTS: usize = 100_000;

/// Everything that shapes one sandbox instance. Build it with [`crate::Sandbox::builder`].
#[derive(Clone)]
pub struct SandboxConfig {
    /// Seed of all generated data.
    pub seed: u64,
    /// Number of transactions of `private-1`'s first SEK account.
    pub history_size: u64,
    /// Maximum transactions per page.
    pub page_size: u64,
    /// Lifetime of access tokens.
    pub token_ttl: Duration,
    /// How many polls a decoupled SCA stays pending before it completes.
    pub decoupled_pending_polls: u32,
    /// Faults active from the start.
    pub faults: Vec<FaultConfig>,
    /// PEM certificate Swedbank request signatures are verified with.
    pub signing_certificate_pem: Option<String>,
    /// File to read that certificate from when no PEM is given (default: the workspace's
    /// demo certificate). A file that cannot be read refuses every signed request.
    pub signing_certificate_file: Option<PathBuf>,
    /// Whether Swedbank requests must be signed.
    pub require_signatures: bool,
    /// The "today" all histories end at (defaults to the real UTC date).
    pub today: Option<NaiveDate>,
    /// Port to bind (0 = pick a free one).
    pub port: u16,
    /// Directory with the bank specs (only used by the contract feature and the README).
    pub specs_dir: Option<PathBuf>,
    /// How long a used (rotated) refresh token still works (default zero: never).
    pub refresh_grace: Duration,
    /// Most access tokens held at once (also refresh tokens, codes); the oldest go first.
    pub max_tokens: usize,
    /// Most consents held at once; the oldest go first.
    pub max_consents: usize,
    /// The registry banks to serve (`None`: the registry compiled into `psd2-registry`).
    /// Every entry whose sandbox path is the generic one is served at `/bg/<id>`.
    pub registry: Option<psd2_registry::Registry>,
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("seed", &self.seed)
            .field("history_size", &self.history_size)
            .field("page_size", &self.page_size)
            .field("token_ttl", &self.token_ttl)
            .field("decoupled_pending_polls", &self.decoupled_pending_polls)
            .field("faults", &self.faults)
            .field(
                "signing_certificate_pem",
                &self.signing_certificate_pem.as_ref().map(|_| "<set>"),
            )
            .field("signing_certificate_file", &self.signing_certificate_file)
            .field("require_signatures", &self.require_signatures)
            .field("today", &self.today)
            .field("port", &self.port)
            .field("refresh_grace", &self.refresh_grace)
            .field("max_tokens", &self.max_tokens)
            .field("max_consents", &self.max_consents)
            .field(
                "registry",
                &self.registry.as_ref().map(|r| r.entries().len()),
            )
            .finish()
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            history_size: 10_000,
            page_size: 500,
            token_ttl: Duration::from_secs(3600),
            decoupled_pending_polls: 2,
            faults: Vec::new(),
            signing_certificate_pem: None,
            signing_certificate_file: None,
            require_signatures: true,
            today: None,
            port: 0,
            specs_dir: None,
            refresh_grace: Duration::ZERO,
            max_tokens: DEFAULT_MAX_TOKENS,
            max_consents: DEFAULT_MAX_CONSENTS,
            registry: None,
        }
    }
}

/// Builder for a [`crate::Sandbox`].
#[derive(Debug, Clone, Default)]
pub struct SandboxBuilder {
    config: SandboxConfig,
}

impl SandboxBuilder {
    /// Seed of all generated data (default 1).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Transactions on `private-1`'s first SEK account (default 10,000; at most
    /// [`MAX_HISTORY_SIZE`]).
    pub fn history_size(mut self, n: u64) -> Self {
        self.config.history_size = n.min(MAX_HISTORY_SIZE);
        self
    }

    /// Maximum transactions per page (default 500, 1 to [`MAX_PAGE_SIZE`]).
    pub fn page_size(mut self, n: u64) -> Self {
        self.config.page_size = n.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Lifetime of access tokens (default one hour; at most [`MAX_TOKEN_TTL`]).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.config.token_ttl = ttl.min(MAX_TOKEN_TTL);
        self
    }

    /// How long a refresh token still works after it was used once (default zero).
    pub fn refresh_grace(mut self, grace: Duration) -> Self {
        self.config.refresh_grace = grace.min(MAX_TOKEN_TTL);
        self
    }

    /// Most access tokens (and refresh tokens, and codes) held at once (default 100,000).
    pub fn max_tokens(mut self, n: usize) -> Self {
        self.config.max_tokens = n.max(1);
        self
    }

    /// Most consents held at once (default 100,000).
    pub fn max_consents(mut self, n: usize) -> Self {
        self.config.max_consents = n.max(1);
        self
    }

    /// Polls a decoupled SCA answers "pending" before completing (default 2).
    pub fn decoupled_pending_polls(mut self, n: u32) -> Self {
        self.config.decoupled_pending_polls = n;
        self
    }

    /// Adds a fault active from the start (see [`FaultConfig`]).
    pub fn fault(mut self, fault: FaultConfig) -> Self {
        self.config.faults.push(fault);
        self
    }

    /// Replaces the faults active from the start.
    pub fn faults(mut self, faults: impl IntoIterator<Item = FaultConfig>) -> Self {
        self.config.faults = faults.into_iter().collect();
        self
    }

    /// PEM certificate used to verify Swedbank request signatures.
    pub fn signing_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.config.signing_certificate_pem = Some(pem.into());
        self
    }

    /// A file to read the signing certificate from at start (when no PEM is given); if it
    /// cannot be read, every Swedbank request is refused.
    pub fn signing_certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.signing_certificate_file = Some(path.into());
        self
    }

    /// Alias of [`Self::signing_certificate_pem`]: the verifier takes the signer's certificate.
    pub fn signing_public_key_pem(self, pem: impl Into<String>) -> Self {
        self.signing_certificate_pem(pem)
    }

    /// Whether Swedbank requests must carry a valid signature (default true).
    pub fn require_signatures(mut self, on: bool) -> Self {
        self.config.require_signatures = on;
        self
    }

    /// The date histories end at (default: today's UTC date).
    pub fn today(mut self, date: NaiveDate) -> Self {
        self.config.today = Some(date);
        self
    }

    /// Port to listen on (default 0: pick a free port).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// The registry banks to serve instead of the embedded registry (e.g.
    /// `Registry::embedded()?.with_dir(dir)?` to add a bank from a directory).
    pub fn registry(mut self, registry: psd2_registry::Registry) -> Self {
        self.config.registry = Some(registry);
        self
    }

    /// Finishes the builder.
    pub fn build(self) -> crate::Sandbox {
        crate::Sandbox::from_config(self.config)
    }
}
