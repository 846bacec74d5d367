//! Reading the facts a signature's `keyId` needs from an X.509 certificate.
//!
//! * **Serial**: the certificate serial number as uppercase hexadecimal without separators
//!   and without leading zero bytes (the integer's value, as `openssl x509 -serial` prints it),
//!   e.g. `5D2A0F11C3B7E4`.
//! * **Issuer DN**: an RFC 4514 string built from the issuer's RDN sequence: RDNs in *reverse*
//!   certificate order (most specific first), separated by `,` with no spaces, multi-valued RDNs
//!   joined by `+`, attribute types by their short names as x509-parser's OID registry knows them
//!   (`CN`, `O`, `OU`, `C`, `L`, `ST`, ...) or as a dotted OID, values escaped as RFC 4514 says.
//!   Example: a certificate issued by `/C=SE/O=psd2-rs/CN=psd2-rs Test CA` gives
//!   `CN=psd2-rs Test CA,O=psd2-rs,C=SE`, the form Berlin Group's examples use
//!   (`CA=CN=D-TRUST CA 2-1 2015,O=D-Trust GmbH,C=DE`). Values that are not strings are
//!   written as `#` + hex of their content octets.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// The OID of `rsaEncryption`.
const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";

/// What signing and verification need to know about a certificate.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct CertFacts {
    /// The DER encoding, as sent in `TPP-Signature-Certificate`.
    pub der: Vec<u8>,
    /// Serial number, uppercase hex, no separators, no leading zero bytes.
    pub serial_hex: String,
    /// Issuer DN as an RFC 4514 string.
    pub issuer_dn: String,
    /// The RSA public key (PKCS#1 `RSAPublicKey` DER) when the key is RSA.
    pub rsa_public_key: Option<Vec<u8>>,
}

impl CertFacts {
    /// The Berlin Group `keyId`: `SN=<serial>,CA=<issuer DN>`.
    pub fn key_id(&self) -> String {
        format!("SN={},CA={}", self.serial_hex, self.issuer_dn)
    }
}

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The PEM text holds no `CERTIFICATE` section or is malformed.
    #[error("no PEM certificate found: {0}")]
    Pem(String),
    /// The DER certificate could not be parsed.
    #[error("certificate is not valid X.509: {0}")]
    X509(String),
}

/// The DER bytes of every `CERTIFICATE` section in `pem`, in order.
pub(crate) fn certificates_from_pem(pem: &[u8]) -> Result<Vec<Vec<u8>>, CertificateError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertificateError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(CertificateError::Pem("no CERTIFICATE section".into()));
    }
    Ok(certs)
}

/// Facts of the first certificate in `pem`.
pub(crate) fn facts_from_pem(pem: &[u8]) -> Result<CertFacts, CertificateError> {
    let mut certs = certificates_from_pem(pem)?;
    let der = certs.swap_remove(0);
    facts_from_der(der)
}

/// Facts of a DER certificate.
pub(crate) fn facts_from_der(der: Vec<u8>) -> Result<CertFacts, CertificateError> {
    let (serial_hex, issuer_dn, rsa_public_key) = {
        let (_, cert) =
            X509Certificate::from_der(&der).map_err(|e| CertificateError::X509(e.to_string()))?;
        let spki = cert.public_key();
        let rsa = (spki.algorithm.algorithm.to_id_string() == RSA_ENCRYPTION_OID)
            .then(|| spki.subject_public_key.data.to_vec());
        (serial_hex(cert.raw_serial()), rfc4514(cert.issuer()), rsa)
    };
    Ok(CertFacts {
        der,
        serial_hex,
        issuer_dn,
        rsa_public_key,
    })
}

/// Uppercase hex of a DER INTEGER's content octets, leading zero bytes dropped.
pub(crate) fn serial_hex(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    raw[start..].iter().map(|b| format!("{b:02X}")).collect()
}

/// Normalizes a serial written by someone else (`00:5d:2a`, `5D2A`) for comparison.
pub(crate) fn normalize_serial(text: &str) -> String {
    let hex: String = text
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else if trimmed.len() % 2 == 1 {
        format!("0{trimmed}")
    } else {
        trimmed.to_string()
    }
}

/// The RFC 4514 string form of an X.509 name (see the module docs).
pub(crate) fn rfc4514(name: &X509Name<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let ty = x509_parser::objects::oid2abbrev(atv.attr_type(), registry)
                        .map(str::to_string)
                        .unwrap_or_else(|_| atv.attr_type().to_id_string());
                    format!("{ty}={}", attribute_value(atv))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn attribute_value(atv: &AttributeTypeAndValue<'_>) -> String {
    use x509_parser::der_parser::asn1_rs::Tag;
    let any = atv.attr_value();
    let text = match any.tag() {
        Tag::NumericString
        | Tag::VisibleString
        | Tag::PrintableString
        | Tag::Utf8String
        | Tag::Ia5String
        | Tag::T61String
        | Tag::GeneralString
        | Tag::GraphicString => std::str::from_utf8(any.data).ok().map(str::to_string),
        Tag::BmpString => {
            let units: Vec<u16> = any
                .data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    };
    match text {
        Some(text) => escape_rfc4514(&text),
        None => format!(
            "#{}",
            any.data
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<String>()
        ),
    }
}

/// Escapes an attribute value as RFC 4514 section 2.4 requires.
pub(crate) fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if c == '\0' {
            out.push_str("\\00");
        } else {
            if special {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_drops_leading_zero_bytes_and_is_uppercase() {
        assert_eq!(serial_hex(&[0x00, 0x9f, 0xa1]), "9FA1");
        assert_eq!(serial_hex(&[0x01]), "01");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(normalize_serial("00:9f:a1"), "9FA1");
        assert_eq!(normalize_serial("9FA1"), "9FA1");
        assert_eq!(normalize_serial("1"), "01");
    }

    #[test]
    fn rfc4514_escaping() {
        assert_eq!(escape_rfc4514("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape_rfc4514(" #x "), "\\ #x\\ ");
        assert_eq!(escape_rfc4514("#x"), "\\#x");
        assert_eq!(escape_rfc4514("Åke \"q\""), "Åke \\\"q\\\"");
    }
}
