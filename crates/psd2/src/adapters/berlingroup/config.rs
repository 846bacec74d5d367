//! How to reach one Berlin Group bank: base URL, signing identity, transport, retries.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use psd2_hooks::RequestHook;
use psd2_security::SigningIdentity;
use url::Url;

use crate::adapters::common::TransportConfig;
use crate::psu::PsuContext;
use crate::retry::{AttemptHook, RetryPolicy};

/// Configuration of a [`super::BerlinGroup`] adapter; what the bank's profile does not say.
///
/// `Debug` shows the signing certificate's keyId only, never key material.
#[non_exhaustive]
pub struct BerlinGroupConfig {
    /// The API base URL (the bank's, including any prefix before `/v1`), e.g. the registry
    /// entry's live URL or the sandbox's `http://127.0.0.1:PORT/bg/<id>`.
    pub base_url: Url,
    /// The QSeal certificate and key every request is signed with; required when the
    /// profile says `security.signatures`.
    pub signing: Option<SigningIdentity>,
    /// HTTP client or mTLS identity (required when the profile says `security.mtls` and the
    /// base URL is https).
    pub transport: TransportConfig,
    /// How failed calls are retried (see [`crate::retry`]).
    pub retry: RetryPolicy,
    /// Sees every attempt of every call.
    pub attempt_hook: Option<Arc<dyn AttemptHook>>,
    /// `TPP-Redirect-URI` sent when creating consents (redirect SCA may also give its own).
    pub tpp_redirect_uri: Option<Url>,
    /// `PSU-Context` sent when the [`crate::Psu`] has none (at banks whose profile lists the
    /// `psu_context_header` hook).
    pub psu_context: Option<PsuContext>,
    /// `PSU-IP-Address` sent when the bank requires it on every call and the PSU is not
    /// present (the TPP's own address, as banks accept for unattended access).
    pub psu_ip_fallback: Option<IpAddr>,
    /// Default wait between decoupled SCA polls when the bank names none.
    pub poll_interval: Duration,
    /// Hooks run after the profile's own hooks (signing) on every request (tracing, tests).
    pub after_signing: Vec<Arc<dyn RequestHook>>,
    /// Headers this client sends on every request besides the profile's `extra_headers`
    /// (e.g. an opt-in to announced changes); checked when the adapter is built.
    pub headers: Vec<(String, String)>,
}

impl BerlinGroupConfig {
    /// A configuration for `base_url` with nothing else set.
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            signing: None,
            transport: TransportConfig::default(),
            retry: RetryPolicy::default(),
            attempt_hook: None,
            tpp_redirect_uri: None,
            psu_context: None,
            psu_ip_fallback: None,
            poll_interval: crate::sca::DEFAULT_POLL_INTERVAL,
            after_signing: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Signs every request with `identity`.
    pub fn with_signing(mut self, identity: SigningIdentity) -> Self {
        self.signing = Some(identity);
        self
    }

    /// Sets the transport (HTTP client or mTLS identity).
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

    /// Sets the default `TPP-Redirect-URI` of consent creation.
    pub fn with_tpp_redirect_uri(mut self, uri: Url) -> Self {
        self.tpp_redirect_uri = Some(uri);
        self
    }

    /// Sets the default `PSU-Context`.
    pub fn with_psu_context(mut self, context: PsuContext) -> Self {
        self.psu_context = Some(context);
        self
    }

    /// Sets the `PSU-IP-Address` sent for an absent PSU at banks that require one.
    pub fn with_psu_ip_fallback(mut self, ip: IpAddr) -> Self {
        self.psu_ip_fallback = Some(ip);
        self
    }

    /// Sets the default decoupled poll interval.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Adds a header sent on every request (see [`BerlinGroupConfig::headers`]).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a hook that runs after signing on every request.
    pub fn with_hook_after_signing(mut self, hook: Arc<dyn RequestHook>) -> Self {
        self.after_signing.push(hook);
        self
    }
}

impl fmt::Debug for BerlinGroupConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BerlinGroupConfig")
            .field("base_url", &self.base_url.as_str())
            .field(
                "signing_key_id",
                &self.signing.as_ref().map(SigningIdentity::key_id),
            )
            .field("transport", &self.transport)
            .field("retry", &self.retry)
            .field(
                "tpp_redirect_uri",
                &self.tpp_redirect_uri.as_ref().map(Url::as_str),
            )
            .field("psu_context", &self.psu_context)
            .field("psu_ip_fallback", &self.psu_ip_fallback.is_some())
            .field("poll_interval", &self.poll_interval)
            .field("after_signing", &self.after_signing.len())
            .field("headers", &self.headers.len())
            .finish()
    }
}
