//! Verifying Berlin Group HTTP message signatures (the sandbox's side of [`crate::sign`]).
//!
//! [`verify_request`] checks, in this order: the required headers are present, `Digest`
//! matches the body, `TPP-Signature-Certificate` is the configured certificate, the
//! `Signature` header parses (RFC 2047 encoded-word accepted), its `algorithm` is
//! `rsa-sha256` (or absent), `keyId` names the certificate's serial and issuer, `headers=`
//! covers `digest`, `x-request-id`, `date` and each of `psu-id`, `psu-corporate-id`,
//! `tpp-redirect-uri` present on the request, and finally the RSA PKCS#1 v1.5 SHA-256
//! signature over the signing string rebuilt from the wire values.
//! `Date` freshness is not checked here (the sandbox owns the clock).

use crate::cavage::{ALGORITHM, ALWAYS_REQUIRED, REQUIRED_WHEN_PRESENT, SignatureParams};
use crate::cert::{CertFacts, facts_from_pem, normalize_serial};
use crate::{cavage, digest, rfc2047};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;

/// Why a request's signature was rejected. The texts carry no secret material
/// (certificate serials and issuer names are public).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header is absent (lowercase name).
    #[error("missing header `{0}`")]
    MissingHeader(String),
    /// A header is present but unreadable (not ASCII text, bad base64, ...).
    #[error("header `{name}` is malformed: {reason}")]
    InvalidHeader {
        /// Lowercase header name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `Digest` has no `SHA-256=` entry.
    #[error("Digest header has no SHA-256 entry")]
    UnsupportedDigest,
    /// `Digest` does not match the body.
    #[error("Digest does not match the request body")]
    DigestMismatch,
    /// The `Signature` header could not be parsed.
    #[error("Signature header is malformed: {0}")]
    BadSignatureHeader(String),
    /// The `algorithm` parameter is not `rsa-sha256`.
    #[error("unsupported signature algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// `keyId` does not name the configured certificate.
    #[error("keyId `{found}` does not match the certificate (`{expected}`)")]
    KeyIdMismatch {
        /// The keyId the configured certificate implies.
        expected: String,
        /// The keyId in the request.
        found: String,
    },
    /// A header that must be signed is missing from `headers=` (lowercase name).
    #[error("header `{0}` must be covered by the signature")]
    HeaderNotSigned(String),
    /// The signature does not verify with the certificate's public key.
    #[error("signature does not verify with the certificate's public key")]
    SignatureInvalid,
    /// `TPP-Signature-Certificate` is not the configured certificate.
    #[error("TPP-Signature-Certificate is not the configured certificate")]
    CertificateMismatch,
    /// The configured certificate cannot be used (bad PEM, not RSA).
    #[error("configured certificate is unusable: {0}")]
    BadCertificate(String),
}

/// Verifies a signed request against the TPP certificate `certificate_pem` (see module docs).
///
/// `method` and `path_and_query` are only used when the signer listed `(request-target)`.
pub fn verify_request(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    certificate_pem: &str,
) -> Result<(), VerifyError> {
    let cert = facts_from_pem(certificate_pem.as_bytes())
        .map_err(|e| VerifyError::BadCertificate(e.to_string()))?;
    let public_key = cert
        .rsa_public_key
        .clone()
        .ok_or_else(|| VerifyError::BadCertificate("public key is not RSA".into()))?;

    for name in ALWAYS_REQUIRED
        .iter()
        .chain(&["tpp-signature-certificate", "signature"])
    {
        if !headers.contains_key(*name) {
            return Err(VerifyError::MissingHeader((*name).to_string()));
        }
    }

    check_digest(headers, body)?;
    check_certificate_header(headers, &cert)?;

    let params = signature_params(headers)?;
    if let Some(alg) = &params.algorithm
        && !alg.eq_ignore_ascii_case(ALGORITHM)
    {
        return Err(VerifyError::UnsupportedAlgorithm(alg.clone()));
    }
    check_key_id(&params.key_id, &cert)?;
    for name in ALWAYS_REQUIRED.iter().chain(&REQUIRED_WHEN_PRESENT) {
        let needed = ALWAYS_REQUIRED.contains(name) || headers.contains_key(*name);
        if needed && !params.headers.iter().any(|h| h == name) {
            return Err(VerifyError::HeaderNotSigned((*name).to_string()));
        }
    }

    let mut lines = Vec::with_capacity(params.headers.len());
    for name in &params.headers {
        let value = if name == "(request-target)" {
            format!("{} {}", method.to_ascii_lowercase(), path_and_query)
        } else {
            text(headers, name)?.ok_or_else(|| VerifyError::MissingHeader(name.clone()))?
        };
        lines.push((name.as_str(), value));
    }
    let signing_string = cavage::signing_string(lines.iter().map(|(n, v)| (*n, v.as_str())));

    let signature = STANDARD
        .decode(params.signature.trim())
        .map_err(|_| VerifyError::BadSignatureHeader("signature is not base64".into()))?;
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        &public_key,
    )
    .verify(signing_string.as_bytes(), &signature)
    .map_err(|_| VerifyError::SignatureInvalid)
}

fn text(headers: &HeaderMap, name: &str) -> Result<Option<String>, VerifyError> {
    cavage::header_text(headers, name).map_err(|()| VerifyError::InvalidHeader {
        name: name.to_string(),
        reason: "not visible ASCII (non-ASCII values must be RFC 2047 encoded)".into(),
    })
}

fn required_text(headers: &HeaderMap, name: &str) -> Result<String, VerifyError> {
    text(headers, name)?.ok_or_else(|| VerifyError::MissingHeader(name.to_string()))
}

fn check_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
    let value = required_text(headers, "digest")?;
    let claimed = digest::sha256_from_header(&value)
        .ok_or(VerifyError::UnsupportedDigest)?
        .map_err(|()| VerifyError::InvalidHeader {
            name: "digest".into(),
            reason: "SHA-256 value is not base64".into(),
        })?;
    if claimed != digest::sha256(body) {
        return Err(VerifyError::DigestMismatch);
    }
    Ok(())
}

fn check_certificate_header(headers: &HeaderMap, cert: &CertFacts) -> Result<(), VerifyError> {
    let value = required_text(headers, "tpp-signature-certificate")?;
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(compact)
        .map_err(|_| VerifyError::InvalidHeader {
            name: "tpp-signature-certificate".into(),
            reason: "not base64".into(),
        })?;
    if der != cert.der {
        return Err(VerifyError::CertificateMismatch);
    }
    Ok(())
}

fn signature_params(headers: &HeaderMap) -> Result<SignatureParams, VerifyError> {
    let raw = required_text(headers, "signature")?;
    let decoded = rfc2047::decode(&raw);
    if raw.trim_start().starts_with("=?") && decoded.is_none() {
        return Err(VerifyError::BadSignatureHeader(
            "undecodable RFC 2047 encoded-word".into(),
        ));
    }
    SignatureParams::parse(decoded.as_deref().unwrap_or(&raw))
        .map_err(VerifyError::BadSignatureHeader)
}

fn check_key_id(key_id: &str, cert: &CertFacts) -> Result<(), VerifyError> {
    let mismatch = || VerifyError::KeyIdMismatch {
        expected: cert.key_id(),
        found: key_id.to_string(),
    };
    let (sn, ca) = key_id
        .strip_prefix("SN=")
        .and_then(|rest| rest.split_once(",CA="))
        .ok_or_else(mismatch)?;
    if normalize_serial(sn) != normalize_serial(&cert.serial_hex) || ca != cert.issuer_dn {
        return Err(mismatch());
    }
    Ok(())
}
