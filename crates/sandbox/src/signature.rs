//! Verification of Swedbank's HTTP message signatures (draft-cavage-10 as profiled by the
//! Berlin Group) behind a small trait, so the server does not care how it is done.

use axum::http::HeaderMap;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Checks one request's `Digest`, `Signature`, `TPP-Signature-Certificate` and `Date`.
pub trait Verifier: Send + Sync {
    /// `Ok(())` when the request is properly signed; otherwise a reason (no secrets).
    fn verify(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String>;
}

/// Accepts everything (used when `require_signatures(false)`).
#[derive(Debug, Default, Clone)]
pub struct AcceptAll;

impl Verifier for AcceptAll {
    fn verify(&self, _: &str, _: &str, _: &HeaderMap, _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// Checks that the signing headers are present and that `Digest` matches the body.
///
/// This is the structural part of the check; [`CertificateVerifier`] adds the
/// cryptographic signature check on top of it.
pub fn check_structure(headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    for h in ["digest", "signature", "tpp-signature-certificate", "date"] {
        if headers.get(h).is_none_or(|v| v.as_bytes().is_empty()) {
            return Err(format!("Missing required header {h}."));
        }
    }
    let digest = headers
        .get("digest")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let expected = format!(
        "SHA-256={}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body))
    );
    let ok = digest.split(',').map(str::trim).any(|d| {
        d.len() == expected.len()
            && d[..8].eq_ignore_ascii_case("SHA-256=")
            && d[8..] == expected[8..]
    });
    if !ok {
        return Err("Digest does not match the request body.".to_string());
    }
    let sig = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !sig.contains("keyId=") || !sig.contains("signature=") {
        return Err("Signature header is malformed.".to_string());
    }
    Ok(())
}

/// Verifies signatures with `psd2_security::verify::verify_request` against a configured
/// certificate, after the structural checks.
#[derive(Clone)]
pub struct CertificateVerifier {
    certificate_pem: String,
}

impl std::fmt::Debug for CertificateVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertificateVerifier { .. }")
    }
}

impl CertificateVerifier {
    /// A verifier trusting `certificate_pem`.
    pub fn new(certificate_pem: impl Into<String>) -> Self {
        Self {
            certificate_pem: certificate_pem.into(),
        }
    }
}

impl Verifier for CertificateVerifier {
    fn verify(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        psd2_security::verify::verify_request(
            method,
            path_and_query,
            headers,
            body,
            &self.certificate_pem,
        )
        .map_err(|err| match err {
            psd2_security::verify::VerifyError::MissingHeader(h) => {
                format!("Missing required header {h}.")
            }
            other => other.to_string(),
        })
    }
}

/// Only the structural checks (headers present, `Digest` matches). Not a signature check:
/// the sandbox never uses it for Swedbank (see [`RefuseAll`]); kept for tests of the
/// structure alone.
#[derive(Debug, Default, Clone)]
pub struct StructuralOnly;

impl Verifier for StructuralOnly {
    fn verify(&self, _: &str, _: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
        check_structure(headers, body)
    }
}

/// Refuses every request: used when signatures are required but no certificate could be
/// loaded, so a missing certificate fails closed instead of accepting any signature.
#[derive(Debug, Default, Clone)]
pub struct RefuseAll;

impl Verifier for RefuseAll {
    fn verify(&self, _: &str, _: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
        check_structure(headers, body)?;
        Err("The sandbox has no certificate to verify signatures with; every signed request is refused.".to_string())
    }
}
