//! Transport security for PSD2 clients: mTLS identities, HTTP message signatures, redaction.
//!
//! * [`sign`]: [`sign::SigningHook`], a [`psd2_hooks::RequestHook`] that adds `Digest`, `Date`,
//!   `X-Request-ID` (if absent), `TPP-Signature-Certificate` and a Berlin Group /
//!   draft-cavage-http-signatures-10 `Signature` to every request of a generated client:
//!   `Hooks::new().with(SigningHook::new(identity))`.
//! * [`verify`]: [`verify::verify_request`], the server side (used by the sandbox).
//! * [`tls`]: mTLS client identities and a `reqwest::Client` builder (rustls).
//! * [`redact`]: keeping secrets out of logs and error texts.
//! * `fixtures` (feature `fixtures`): demo/test-only key and certificates.
//!
//! Installing signing and mTLS for a bank (what the facade does):
//!
//! ```no_run
//! use psd2_hooks::Hooks;
//! use psd2_security::tls::{ClientIdentity, ClientTlsConfig, build_client};
//! use psd2_security::{SigningHook, SigningIdentity};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let signing = SigningIdentity::from_files("qseal-cert.pem", "qseal-key.pem")?;
//! let hooks = Hooks::new().with(SigningHook::new(signing));
//! let http = build_client(ClientTlsConfig {
//!     identity: Some(ClientIdentity::from_files("qwac-chain.pem", "qwac-key.pem")?),
//!     timeout: Some(std::time::Duration::from_secs(30)),
//!     ..Default::default()
//! })?;
//! // psd2_raw_swedbank::Client::new_with_client(base_url, http, hooks)
//! # let _ = (hooks, http);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod cavage;
mod cert;
pub mod digest;
#[cfg(feature = "fixtures")]
pub mod fixtures;
mod identity;
pub mod redact;
pub mod rfc2047;
pub mod sign;
pub mod tls;
pub mod verify;

pub use cert::CertificateError;
pub use digest::digest_header_value;
pub use identity::{IdentityError, SigningIdentity};
pub use sign::{SignError, SigningHook};
pub use verify::{VerifyError, verify_request};
