//! How to reach Swedbank: base URL, signing identity, defaults for PSU headers, transport.

use std::fmt;
use std::sync::Arc;

use psd2_hooks::RequestHook;
use psd2_security::SigningIdentity;
use url::Url;

use crate::adapters::common::TransportConfig;
use crate::psu::PsuContext;
use crate::retry::{AttemptHook, RetryPolicy};

/// Configuration of a [`super::Swedbank`] adapter.
///
/// `Debug` shows the signing certificate's keyId only, never key material.
#[non_exhaustive]
pub struct SwedbankConfig {
    /// The API base URL, e.g. `https://openbanking.swedbank.no` or the sandbox's
    /// `http://127.0.0.1:PORT/swedbank` (no trailing `/v1`).
    pub base_url: Url,
    /// The QSeal certificate and key every request is signed with. Required unless the base
    /// URL is a loopback address (a local sandbox that does not check signatures).
    pub signing: Option<SigningIdentity>,
    /// Default `TPP-Redirect-URI` sent when creating consents.
    pub redirect_uri: Option<Url>,
    /// `PSU-Context` sent when the [`crate::Psu`] has none.
    pub psu_context: Option<PsuContext>,
    /// Announced breaking changes to opt into, sent as `X-Future-Breaking-Changes`
    /// (comma separated) when not empty.
    pub future_breaking_changes: Vec<String>,
    /// HTTP client or mTLS identity.
    pub transport: TransportConfig,
    /// How failed calls are retried (see [`crate::retry`]); default [`RetryPolicy::default`].
    pub retry: RetryPolicy,
    /// Sees every attempt of every call (e.g. to count the consent's access budget); hooks
    /// in scope of [`crate::retry::with_attempt_hook`] see them too.
    pub attempt_hook: Option<Arc<dyn AttemptHook>>,
    /// Hooks run after the signing hook on every request (tracing, tests). A hook that
    /// changes signed parts of a request makes the bank reject it.
    pub after_signing: Vec<Arc<dyn RequestHook>>,
}

impl SwedbankConfig {
    /// A configuration for `base_url` with nothing else set.
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            signing: None,
            redirect_uri: None,
            psu_context: None,
            future_breaking_changes: Vec::new(),
            transport: TransportConfig::default(),
            retry: RetryPolicy::default(),
            attempt_hook: None,
            after_signing: Vec::new(),
        }
    }

    /// Signs every request with `identity`.
    pub fn with_signing(mut self, identity: SigningIdentity) -> Self {
        self.signing = Some(identity);
        self
    }

    /// Sets the default `TPP-Redirect-URI`.
    pub fn with_redirect_uri(mut self, uri: Url) -> Self {
        self.redirect_uri = Some(uri);
        self
    }

    /// Sets the default `PSU-Context`.
    pub fn with_psu_context(mut self, context: PsuContext) -> Self {
        self.psu_context = Some(context);
        self
    }

    /// Opts into announced breaking changes (`X-Future-Breaking-Changes`).
    pub fn with_future_breaking_changes(mut self, changes: Vec<String>) -> Self {
        self.future_breaking_changes = changes;
        self
    }

    /// Sets the transport.
    pub fn with_transport(mut self, transport: TransportConfig) -> Self {
        self.transport = transport;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the attempt hook.
    pub fn with_attempt_hook(mut self, hook: Arc<dyn AttemptHook>) -> Self {
        self.attempt_hook = Some(hook);
        self
    }

    /// Adds a hook that runs after signing (see [`SwedbankConfig::after_signing`]).
    pub fn with_hook_after_signing(mut self, hook: Arc<dyn RequestHook>) -> Self {
        self.after_signing.push(hook);
        self
    }
}

impl fmt::Debug for SwedbankConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SwedbankConfig")
            .field("base_url", &self.base_url.as_str())
            .field(
                "signing_key_id",
                &self.signing.as_ref().map(SigningIdentity::key_id),
            )
            .field("redirect_uri", &self.redirect_uri.as_ref().map(Url::as_str))
            .field("psu_context", &self.psu_context)
            .field("future_breaking_changes", &self.future_breaking_changes)
            .field("transport", &self.transport)
            .field("after_signing", &self.after_signing.len())
            .finish()
    }
}
