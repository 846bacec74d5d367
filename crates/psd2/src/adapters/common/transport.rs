//! How an adapter reaches its bank: the HTTP client.

use std::time::Duration;

use crate::error::{Error, ErrorKind};

/// How an adapter reaches its bank: a caller-provided `reqwest::Client` (so mTLS identities
/// set up by the caller work), or one built here from PEM material.
#[derive(Clone, Default)]
pub struct TransportConfig {
    /// Use this client as is (it may carry an mTLS identity).
    pub client: Option<reqwest::Client>,
    /// Otherwise build one with this client identity (QWAC certificate chain and key).
    pub identity: Option<psd2_security::tls::ClientIdentity>,
    /// An extra root CA to trust (sandboxes with their own CA).
    pub extra_root_ca_pem: Option<String>,
    /// Per-request timeout (default 30 s).
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportConfig")
            .field("client", &self.client.is_some())
            .field("identity", &self.identity.is_some())
            .field("extra_root_ca", &self.extra_root_ca_pem.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl TransportConfig {
    /// Uses `client` for every call.
    pub fn with_client(client: reqwest::Client) -> Self {
        Self {
            client: Some(client),
            ..Self::default()
        }
    }

    /// The HTTP client: the given one, or one built with rustls from the identity/roots.
    pub fn build(&self, bank: &'static str) -> Result<reqwest::Client, Error> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        psd2_security::tls::build_client(psd2_security::tls::ClientTlsConfig {
            identity: self.identity.clone(),
            extra_root_ca_pem: self.extra_root_ca_pem.clone(),
            timeout: Some(self.timeout.unwrap_or(Duration::from_secs(30))),
            user_agent: Some(concat!("psd2-rs/", env!("CARGO_PKG_VERSION")).to_string()),
            ..Default::default()
        })
        .map_err(|e| {
            Error::new(ErrorKind::InvalidInput, bank, "build_http_client")
                .with_detail(format!("cannot build the HTTP client: {e}"))
        })
    }
}
