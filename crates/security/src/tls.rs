//! mTLS for bank APIs: a client identity (QWAC-like certificate chain + key) and a
//! `reqwest::Client` built on rustls with it.
//!
//! Trust: by default the platform's roots (reqwest's rustls platform verifier) plus any
//! `extra_root_ca_pem`; with `only_extra_roots` only the given CAs are trusted (sandbox, tests).

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// Why a TLS identity or client could not be built. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {what} file `{path}`: {source}")]
    Io {
        /// `"certificate chain"` or `"private key"`.
        what: &'static str,
        /// The path as given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The certificate chain PEM holds no usable certificate.
    #[error("no certificate found in the certificate chain PEM: {0}")]
    Certificate(String),
    /// The key PEM holds no usable private key.
    #[error("no PKCS#8, PKCS#1 or SEC1 private key found in the key PEM: {0}")]
    Key(String),
    /// The extra root CA PEM holds no usable certificate.
    #[error("no certificate found in the extra root CA PEM: {0}")]
    RootCa(String),
    /// `only_extra_roots` was set without `extra_root_ca_pem`.
    #[error("only_extra_roots needs extra_root_ca_pem")]
    NoRoots,
    /// reqwest refused the identity or configuration.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// A TLS client certificate chain (leaf first) with its private key.
///
/// `Debug` shows the number of certificates, never the key.
#[derive(Clone)]
pub struct ClientIdentity {
    identity: reqwest::Identity,
    chain_len: usize,
}

impl ClientIdentity {
    /// Builds an identity from PEM text: `cert_chain_pem` holds the leaf certificate and any
    /// intermediates; `key_pem` the private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(
        cert_chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert_chain_pem.as_ref())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Certificate(e.to_string()))?;
        if chain.is_empty() {
            return Err(TlsError::Certificate("no CERTIFICATE section".into()));
        }
        PrivateKeyDer::from_pem_slice(key_pem.as_ref())
            .map_err(|e| TlsError::Key(e.to_string()))?;
        // reqwest wants one PEM buffer; it uses the last key and every certificate in order.
        let mut combined = cert_chain_pem.as_ref().to_vec();
        combined.push(b'\n');
        combined.extend_from_slice(key_pem.as_ref());
        let identity = reqwest::Identity::from_pem(&combined).map_err(TlsError::Client)?;
        Ok(Self {
            identity,
            chain_len: chain.len(),
        })
    }

    /// Like [`ClientIdentity::from_pem`], reading both PEM files.
    pub fn from_files(
        cert_chain_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let read = |what: &'static str, path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Io {
                what,
                path: path.display().to_string(),
                source,
            })
        };
        let chain = read("certificate chain", cert_chain_path.as_ref())?;
        let key = read("private key", key_path.as_ref())?;
        Self::from_pem(chain, key)
    }

    /// Number of certificates in the chain.
    pub fn chain_len(&self) -> usize {
        self.chain_len
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("chain_len", &self.chain_len)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// How to build a bank's HTTP client.
#[derive(Debug, Clone, Default)]
pub struct ClientTlsConfig {
    /// The mTLS client identity, if the bank demands one.
    pub identity: Option<ClientIdentity>,
    /// Extra trusted root CAs (PEM, one or more certificates), e.g. a bank's sandbox CA.
    pub extra_root_ca_pem: Option<String>,
    /// Trust only `extra_root_ca_pem`, not the platform roots.
    pub only_extra_roots: bool,
    /// Whole-request timeout; none if `None`.
    pub timeout: Option<Duration>,
    /// `User-Agent` header; reqwest sends none if `None`.
    pub user_agent: Option<String>,
}

/// Builds a rustls-backed `reqwest::Client` from `config`.
pub fn build_client(config: ClientTlsConfig) -> Result<reqwest::Client, TlsError> {
    let mut builder = reqwest::Client::builder().tls_backend_rustls();
    let roots = match &config.extra_root_ca_pem {
        Some(pem) => {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| TlsError::RootCa(e.to_string()))?;
            if certs.is_empty() {
                return Err(TlsError::RootCa("no CERTIFICATE section".into()));
            }
            certs
        }
        None if config.only_extra_roots => return Err(TlsError::NoRoots),
        None => Vec::new(),
    };
    if config.only_extra_roots {
        builder = builder.tls_certs_only(roots);
    } else if !roots.is_empty() {
        builder = builder.tls_certs_merge(roots);
    }
    if let Some(identity) = config.identity {
        builder = builder.identity(identity.identity);
    }
    if let Some(timeout) = config.timeout {
        builder = builder.timeout(timeout);
    }
    if let Some(user_agent) = config.user_agent {
        builder = builder.user_agent(user_agent);
    }
    builder.build().map_err(TlsError::Client)
}
