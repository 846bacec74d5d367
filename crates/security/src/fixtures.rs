//! Demo/test-only signing material committed under `crates/security/fixtures/`
//! (see its README). **Never use these for anything real: the private keys are public.**

/// PKCS#8 PEM private key of [`TEST_SIGNING_CERT_PEM`] (RSA 2048).
pub const TEST_SIGNING_KEY_PEM: &str = include_str!("../fixtures/test-signing-key.pem");

/// The same key as [`TEST_SIGNING_KEY_PEM`], PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`).
pub const TEST_SIGNING_KEY_PKCS1_PEM: &str = include_str!("../fixtures/test-signing-key-pkcs1.pem");

/// The test TPP signing certificate: serial `5D2A0F11C3B7E4`,
/// issuer `CN=psd2-rs Test CA,O=psd2-rs,C=SE`.
pub const TEST_SIGNING_CERT_PEM: &str = include_str!("../fixtures/test-signing-cert.pem");

/// The keyId a signature made with [`TEST_SIGNING_CERT_PEM`] carries.
pub const TEST_SIGNING_KEY_ID: &str = "SN=5D2A0F11C3B7E4,CA=CN=psd2-rs Test CA,O=psd2-rs,C=SE";

/// The self-signed test CA that issued [`TEST_SIGNING_CERT_PEM`] (its key was discarded).
pub const TEST_CA_CERT_PEM: &str = include_str!("../fixtures/test-ca-cert.pem");

/// An unrelated RSA 2048 key, for negative tests.
pub const WRONG_SIGNING_KEY_PEM: &str = include_str!("../fixtures/wrong-signing-key.pem");

/// The self-signed certificate of [`WRONG_SIGNING_KEY_PEM`]
/// (serial `0BADC0FFEE`, issuer `CN=psd2-rs Wrong Test CA,O=psd2-rs,C=SE`).
pub const WRONG_SIGNING_CERT_PEM: &str = include_str!("../fixtures/wrong-signing-cert.pem");
