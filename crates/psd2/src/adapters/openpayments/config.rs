//! How to reach Open Payments: platform URL, client credentials, the bank's BIC.

use std::time::Duration;

use std::sync::Arc;

use url::Url;

use crate::adapters::common::TransportConfig;
use crate::error::Error;
use crate::retry::{AttemptHook, RetryPolicy};
use crate::secret::Secret;

use super::BANK;

/// The scope asked for when none is configured (the platform's private-PSU AIS scope).
pub const DEFAULT_SCOPE: &str = "accountinformation private";
/// The `authenticationMethodId` used for decoupled SCA (Mobile BankID on another device).
pub const DEFAULT_DECOUPLED_METHOD: &str = "mbid";
/// The `authenticationMethodId` used for redirect SCA (the one the psd2-rs sandbox answers
/// with `_links.scaRedirect`; banks behind the platform may name it differently).
pub const DEFAULT_REDIRECT_METHOD: &str = "redirect";

/// Configuration of an [`super::OpenPayments`] adapter.
///
/// Build with [`OpenPaymentsConfig::new`] and adjust the public fields. `Debug` never shows
/// the client secret (it is a [`Secret`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenPaymentsConfig {
    /// The API host, e.g. `https://api.openbankingplatform.com` or
    /// `http://127.0.0.1:PORT/openpayments` for the sandbox.
    pub base_url: Url,
    /// The token endpoint; `None` means `<base_url>/connect/token`.
    pub token_url: Option<Url>,
    /// The TPP's client id at the platform.
    pub client_id: String,
    /// The client secret, sent as the `client_secret` form field when given.
    pub client_secret: Option<Secret>,
    /// The BIC of the bank every call is routed to (`X-BicFi`), e.g. `ESSESESS`.
    pub bic: String,
    /// The token scope (default [`DEFAULT_SCOPE`]; corporate PSUs need
    /// `accountinformation corporate`).
    pub scope: String,
    /// Where redirect SCA returns when the [`crate::ScaMethod::Redirect`] names none.
    pub redirect_uri: Option<Url>,
    /// HTTP client, mTLS identity, timeouts.
    pub transport: TransportConfig,
    /// How failed calls are retried (see [`crate::retry`]); default [`RetryPolicy::default`].
    pub retry: RetryPolicy,
    /// Sees every attempt of every call (e.g. to count the consent's access budget); hooks
    /// in scope of [`crate::retry::with_attempt_hook`] see them too.
    pub attempt_hook: Option<Arc<dyn AttemptHook>>,
    /// Fetch the details of every listed transaction that has a `transactionDetails` link
    /// and merge them in ([`crate::Transaction::merge_details`]); one extra call each.
    pub fetch_transaction_details: bool,
    /// `authenticationMethodId` for decoupled SCA (default [`DEFAULT_DECOUPLED_METHOD`]).
    pub decoupled_method_id: String,
    /// `authenticationMethodId` for redirect SCA (default [`DEFAULT_REDIRECT_METHOD`]).
    pub redirect_method_id: String,
    /// Interval between SCA and consent status polls (default 2 s).
    pub poll_interval: Duration,
    /// How long [`crate::Consents::complete_redirect`] and the consent check after a
    /// finalised decoupled SCA wait for the consent to become `valid` (default 30 s).
    pub consent_wait: Duration,
}

impl OpenPaymentsConfig {
    /// A configuration with the defaults for everything but URL, client id and BIC.
    pub fn new(base_url: Url, client_id: impl Into<String>, bic: impl Into<String>) -> Self {
        Self {
            base_url,
            token_url: None,
            client_id: client_id.into(),
            client_secret: None,
            bic: bic.into(),
            scope: DEFAULT_SCOPE.to_owned(),
            redirect_uri: None,
            transport: TransportConfig::default(),
            retry: RetryPolicy::default(),
            attempt_hook: None,
            fetch_transaction_details: false,
            decoupled_method_id: DEFAULT_DECOUPLED_METHOD.to_owned(),
            redirect_method_id: DEFAULT_REDIRECT_METHOD.to_owned(),
            poll_interval: crate::sca::DEFAULT_POLL_INTERVAL,
            consent_wait: Duration::from_secs(30),
        }
    }

    /// Sets the client secret.
    pub fn with_client_secret(mut self, secret: Secret) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Sets the HTTP transport.
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

    /// The API base URL as the raw client wants it (no trailing slash).
    pub(super) fn api_base(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_owned()
    }

    /// The token endpoint: the configured one or `<base_url>/connect/token`.
    pub(super) fn token_endpoint(&self) -> Result<Url, Error> {
        if let Some(url) = &self.token_url {
            return Ok(url.clone());
        }
        Url::parse(&format!("{}/connect/token", self.api_base())).map_err(|e| {
            Error::invalid_input(BANK, "new", format!("cannot build the token URL: {e}"))
        })
    }

    /// Checks the values that would only fail later, at the first call.
    pub(super) fn validate(&self) -> Result<(), Error> {
        let bad = |why: &str| Err(Error::invalid_input(BANK, "new", why.to_owned()));
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return bad("base_url must be an http(s) URL");
        }
        if self.client_id.trim().is_empty() {
            return bad("client_id is empty");
        }
        let bic_ok =
            matches!(self.bic.len(), 8 | 11) && self.bic.chars().all(|c| c.is_ascii_alphanumeric());
        if !bic_ok {
            return bad("bic must be an 8 or 11 character BIC");
        }
        if self.scope.trim().is_empty() {
            return bad("scope is empty");
        }
        if self.poll_interval.is_zero() {
            return bad("poll_interval must be positive");
        }
        Ok(())
    }
}
