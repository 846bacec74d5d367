//! The sandbox, the adapters and the independent client for one registry.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use psd2::adapters::berlingroup::BerlinGroupConfig;
use psd2::adapters::common::TransportConfig;
use psd2::{Bank, Psu, PsuId};
use psd2_hooks::{FnHook, HookError};
use psd2_registry::{Registry, RegistryEntry};
use psd2_sandbox::{RunningSandbox, Sandbox};
use psd2_security::fixtures::{TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM};
use psd2_security::{SigningHook, SigningIdentity};
use url::Url;

use crate::flow::SandboxHelpers;
use crate::wire::Wire;

/// The PSU of every flow.
pub const PSU: &str = "private-1";

/// Entries in the long-history account (small enough for quick runs, large enough for
/// many pages at every profile's page size).
pub const HISTORY: u64 = 2_000;

/// The TPP's redirect URI.
pub const REDIRECT_URI: &str = "https://tpp.example/callback";

/// A sandbox serving `registry`, verifying signatures with the test certificate.
pub async fn start(registry: Registry) -> Arc<RunningSandbox> {
    let sandbox = Sandbox::builder()
        .registry(registry)
        .history_size(HISTORY)
        .decoupled_pending_polls(1)
        .signing_certificate_pem(TEST_SIGNING_CERT_PEM)
        .build()
        .start()
        .await
        .unwrap();
    Arc::new(sandbox)
}

/// The test signing identity (its certificate is the one the sandbox trusts).
pub fn identity() -> SigningIdentity {
    SigningIdentity::from_pem(TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM).unwrap()
}

/// The bank's base URL in the sandbox.
pub fn base_url(sandbox: &RunningSandbox, entry: &RegistryEntry) -> Url {
    Url::parse(&sandbox.registry_url(entry)).unwrap()
}

/// The adapter config for `entry` in the sandbox: plain HTTP, signing when the profile
/// wants it (and only then, unless `force_signing`).
pub fn config(sandbox: &RunningSandbox, entry: &RegistryEntry, signing: bool) -> BerlinGroupConfig {
    let mut config = BerlinGroupConfig::new(base_url(sandbox, entry))
        .with_transport(TransportConfig::with_client(reqwest::Client::new()));
    if signing {
        config = config.with_signing(identity());
    }
    config
}

/// One request an adapter sent: its path and header names (lower case).
pub type SentRequest = (String, BTreeSet<String>);

/// What an adapter sent: every request's path and header names.
#[derive(Clone, Default)]
pub struct Sent(Arc<Mutex<Vec<SentRequest>>>);

impl Sent {
    /// Requests sent so far.
    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Every request so far: its path and header names.
    pub fn requests(&self) -> Vec<SentRequest> {
        self.0.lock().unwrap().clone()
    }
}

/// The facade's adapter for `entry`, built from the registry as a downstream crate would,
/// with a hook recording every request it sends (after signing).
pub fn counted_adapter(sandbox: &RunningSandbox, entry: &RegistryEntry) -> (Box<dyn Bank>, Sent) {
    let sent = Sent::default();
    let log = sent.0.clone();
    let hook = FnHook(move |request: &mut reqwest::Request| {
        let names = request
            .headers()
            .keys()
            .map(|n| n.as_str().to_ascii_lowercase())
            .collect();
        log.lock()
            .unwrap()
            .push((request.url().path().to_string(), names));
        Ok::<(), HookError>(())
    });
    let signing = entry.profile.security.signatures;
    let config = config(sandbox, entry, signing).with_hook_after_signing(Arc::new(hook));
    let bank = psd2::registry::adapter(entry, config)
        .unwrap_or_else(|e| panic!("{}: adapter: {e}", entry.id));
    (bank, sent)
}

/// The independent client for `entry`.
pub fn wire(sandbox: &RunningSandbox, entry: &RegistryEntry) -> Wire {
    let signer = entry
        .profile
        .security
        .signatures
        .then(|| SigningHook::new(identity()));
    Wire::new(
        base_url(sandbox, entry),
        entry.profile.extra_headers.clone(),
        signer,
        PSU,
    )
}

/// `private-1`, present (no daily access budget), with an IP address and user agent.
pub fn psu() -> Psu {
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    Psu::present(ip, Some("Mozilla/5.0".into())).with_id(PsuId::new(PSU))
}

/// What a PSU brings to the flow in this sandbox.
pub fn helpers(sandbox: &RunningSandbox) -> SandboxHelpers {
    SandboxHelpers {
        today: sandbox.today(),
        redirect_uri: Url::parse(REDIRECT_URI).unwrap(),
        embedded_password: psd2_sandbox::EMBEDDED_PASSWORD,
        embedded_otp: psd2_sandbox::EMBEDDED_OTP,
    }
}
