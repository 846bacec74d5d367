//! Transport security for PSD2 clients: mTLS identities, HTTP message signatures, redaction.
#![forbid(unsafe_code)]
