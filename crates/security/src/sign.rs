//! Signing every outgoing request: [`SigningHook`], a [`psd2_hooks::RequestHook`].
//!
//! For each request the hook, in this order:
//! 1. sets `Digest: SHA-256=<base64 of the body>` (the empty body too);
//! 2. sets `Date` (IMF-fixdate, from the hook's clock) unless the request has one;
//! 3. sets `X-Request-ID` to a fresh UUID v4 unless the request has one (the facade normally
//!    sets it, so it can report it in errors);
//! 4. sets `TPP-Signature-Certificate` to the base64 of the DER certificate;
//! 5. rewrites any of the signed headers whose value is not plain ASCII as an RFC 2047
//!    encoded-word (`=?utf-8?B?...?=`), so what is signed is exactly what is on the wire;
//! 6. sets `Signature: keyId="SN=..,CA=..",algorithm="rsa-sha256",headers="..",signature=".."`
//!    over those of `digest x-request-id psu-id psu-corporate-id tpp-redirect-uri date` that
//!    are present, in that order; the whole Signature value is RFC 2047 encoded when it is not
//!    ASCII (an issuer DN with non-ASCII characters).

use crate::cavage::{self, ALGORITHM, SIGNED_HEADERS, SignatureParams};
use crate::identity::{IdentityError, SigningIdentity};
use crate::{digest, rfc2047};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue};
use psd2_hooks::{HookError, HookFuture, RequestHook};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// The hook's name in [`HookError`]s.
pub const HOOK_NAME: &str = "http-signature";

/// A source of "now" for the `Date` header; replaceable in tests.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Why a request could not be signed. Never contains secrets.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The body is a stream, so it cannot be digested before sending.
    #[error("streaming request bodies cannot be signed; buffer the body first")]
    StreamingBody,
    /// A header value could not be represented.
    #[error("header `{0}` has a value that cannot be sent")]
    BadHeaderValue(String),
    /// The signature could not be computed.
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// Signs requests with a [`SigningIdentity`]; see the module docs for what it sets.
#[derive(Clone)]
pub struct SigningHook {
    identity: Arc<SigningIdentity>,
    clock: Clock,
}

impl SigningHook {
    /// A hook signing with `identity`, stamping `Date` from the system clock.
    pub fn new(identity: SigningIdentity) -> Self {
        Self::from_shared(Arc::new(identity))
    }

    /// A hook sharing an identity with other hooks or clients.
    pub fn from_shared(identity: Arc<SigningIdentity>) -> Self {
        Self {
            identity,
            clock: Arc::new(SystemTime::now),
        }
    }

    /// Replaces the clock used for `Date` (tests, the sandbox's virtual time).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The identity this hook signs with.
    pub fn identity(&self) -> &SigningIdentity {
        &self.identity
    }

    /// Signs a `reqwest::Request` in place (what [`RequestHook::on_request`] does).
    pub fn sign_request(&self, request: &mut reqwest::Request) -> Result<(), SignError> {
        let body: Vec<u8> = match request.body() {
            None => Vec::new(),
            Some(body) => body.as_bytes().ok_or(SignError::StreamingBody)?.to_vec(),
        };
        self.sign_headers(request.headers_mut(), &body)
    }

    /// Adds the signature headers for a request with these `headers` and `body`.
    pub fn sign_headers(&self, headers: &mut HeaderMap, body: &[u8]) -> Result<(), SignError> {
        headers.insert(
            HeaderName::from_static("digest"),
            value(&digest::digest_header_value(body), "digest")?,
        );
        if !headers.contains_key(http::header::DATE) {
            headers.insert(
                http::header::DATE,
                value(&imf_fixdate((self.clock)()), "date")?,
            );
        }
        if !headers.contains_key("x-request-id") {
            headers.insert(
                HeaderName::from_static("x-request-id"),
                value(&uuid::Uuid::new_v4().to_string(), "x-request-id")?,
            );
        }
        headers.insert(
            HeaderName::from_static("tpp-signature-certificate"),
            value(
                &STANDARD.encode(self.identity.certificate_der()),
                "tpp-signature-certificate",
            )?,
        );

        let mut names = Vec::new();
        let mut lines = Vec::new();
        for name in SIGNED_HEADERS {
            let values: Vec<HeaderValue> = headers.get_all(name).iter().cloned().collect();
            if values.is_empty() {
                continue;
            }
            let encoded: Vec<String> = values
                .iter()
                .map(|v| rfc2047::encode_bytes(v.as_bytes()).trim().to_string())
                .collect();
            if values
                .iter()
                .any(|v| !rfc2047::is_plain_ascii(v.as_bytes()))
            {
                let header = HeaderName::from_static(name);
                headers.remove(&header);
                for e in &encoded {
                    headers.append(header.clone(), value(e, name)?);
                }
            }
            names.push(name.to_string());
            lines.push((name, encoded.join(", ")));
        }
        let signing_string = cavage::signing_string(lines.iter().map(|(n, v)| (*n, v.as_str())));
        let signature = self.identity.sign(signing_string.as_bytes())?;
        let params = SignatureParams {
            key_id: self.identity.key_id(),
            algorithm: Some(ALGORITHM.to_string()),
            headers: names,
            signature: STANDARD.encode(signature),
        };
        let header_value = params.to_header_value();
        headers.insert(
            HeaderName::from_static("signature"),
            value(&rfc2047::encode(&header_value), "signature")?,
        );
        Ok(())
    }
}

fn value(text: &str, name: &str) -> Result<HeaderValue, SignError> {
    HeaderValue::from_str(text).map_err(|_| SignError::BadHeaderValue(name.to_string()))
}

/// `time` as an IMF-fixdate (RFC 9110), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn imf_fixdate(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

impl RequestHook for SigningHook {
    fn on_request<'a>(&'a self, request: &'a mut reqwest::Request) -> HookFuture<'a> {
        let result = self
            .sign_request(request)
            .map_err(|e| HookError::new(HOOK_NAME, e.to_string()));
        Box::pin(async move { result })
    }
}

impl fmt::Debug for SigningHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningHook")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}
