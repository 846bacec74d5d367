//! The TPP's signing identity: certificate plus RSA private key.

use crate::cert::{CertFacts, CertificateError, facts_from_pem};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use std::fmt;
use std::path::Path;

/// Why a [`SigningIdentity`] could not be built or used. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A PEM file could not be read.
    #[error("cannot read {what} file `{path}`: {source}")]
    Io {
        /// `"certificate"` or `"private key"`.
        what: &'static str,
        /// The path as given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The certificate is unusable.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// The certificate's public key is not RSA.
    #[error("the certificate's public key is not RSA; only rsa-sha256 is supported")]
    NotRsa,
    /// No usable private key in the PEM text.
    #[error("no PKCS#8 or PKCS#1 RSA private key found in the key PEM: {0}")]
    Key(String),
    /// The private key does not belong to the certificate.
    #[error("the private key does not match the certificate's public key")]
    KeyCertificateMismatch,
    /// Signing failed inside the crypto library.
    #[error("RSA signing failed")]
    Signing,
}

/// A certificate (whose serial and issuer form the `keyId`) and its RSA private key.
///
/// `Debug` shows only the keyId, never key material.
pub struct SigningIdentity {
    cert: CertFacts,
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl SigningIdentity {
    /// Builds an identity from a PEM certificate (the first `CERTIFICATE` section is the
    /// signing certificate) and a PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`). Checks that the key belongs to the certificate.
    pub fn from_pem(
        certificate_pem: impl AsRef<[u8]>,
        private_key_pem: impl AsRef<[u8]>,
    ) -> Result<Self, IdentityError> {
        let cert = facts_from_pem(certificate_pem.as_ref())?;
        let public = cert
            .rsa_public_key
            .as_deref()
            .ok_or(IdentityError::NotRsa)?;
        let key = match PrivateKeyDer::from_pem_slice(private_key_pem.as_ref())
            .map_err(|e| IdentityError::Key(e.to_string()))?
        {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err(IdentityError::Key("not an RSA key".into())),
        }
        .map_err(|e| IdentityError::Key(e.to_string()))?;
        if key.public_key().as_ref() != public {
            return Err(IdentityError::KeyCertificateMismatch);
        }
        Ok(Self {
            cert,
            key,
            rng: SystemRandom::new(),
        })
    }

    /// Like [`SigningIdentity::from_pem`], reading both PEM files.
    pub fn from_files(
        certificate_path: impl AsRef<Path>,
        private_key_path: impl AsRef<Path>,
    ) -> Result<Self, IdentityError> {
        let read = |what: &'static str, path: &Path| {
            std::fs::read(path).map_err(|source| IdentityError::Io {
                what,
                path: path.display().to_string(),
                source,
            })
        };
        let cert = read("certificate", certificate_path.as_ref())?;
        let key = read("private key", private_key_path.as_ref())?;
        Self::from_pem(cert, key)
    }

    /// The Berlin Group keyId, `SN=<serial hex>,CA=<issuer DN>`.
    pub fn key_id(&self) -> String {
        self.cert.key_id()
    }

    /// The certificate serial: uppercase hex, no colons, no leading zero bytes.
    pub fn serial_hex(&self) -> &str {
        &self.cert.serial_hex
    }

    /// The certificate's issuer DN as an RFC 4514 string, e.g. `CN=psd2-rs Test CA,O=psd2-rs,C=SE`.
    pub fn issuer_dn(&self) -> &str {
        &self.cert.issuer_dn
    }

    /// The DER certificate (sent base64-encoded as `TPP-Signature-Certificate`).
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert.der
    }

    /// RSA PKCS#1 v1.5 SHA-256 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, IdentityError> {
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
            .map_err(|_| IdentityError::Signing)?;
        Ok(signature)
    }
}

impl fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningIdentity")
            .field("key_id", &self.cert.key_id())
            .field("private_key", &"<redacted>")
            .finish()
    }
}
