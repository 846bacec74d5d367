//! What the Handelsbanken adapter needs to reach the bank.

use std::sync::Arc;

use url::Url;

use crate::adapters::common::TransportConfig;
use crate::error::Error;
use crate::retry::{AttemptHook, RetryPolicy};

use super::mapping::BANK;

/// The countries Handelsbanken's PSD2 APIs serve (the spec's `Country` header values).
pub const COUNTRIES: [&str; 5] = ["SE", "FI", "NL", "LU", "GB"];

/// Path of the redirect SCA (authorization code) page below the base URL.
pub const AUTHORIZE_PATH: &str = "/openbanking/redirect/oauth2/authorize/1.0";

/// Settings of a [`Handelsbanken`](super::Handelsbanken) adapter.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HandelsbankenConfig {
    /// API base URL, e.g. `https://api.handelsbanken.com` or the sandbox's
    /// `http://127.0.0.1:PORT/handelsbanken`; spec paths are appended to it.
    pub base_url: Url,
    /// The registered application's client id (`X-IBM-Client-Id`, OAuth `client_id`).
    pub client_id: String,
    /// ISO 3166-1 country of the PSU's accounts (`Country` header): SE, FI, NL, LU or GB.
    pub country: String,
    /// The redirect URI registered for the client; when set, redirect SCA must use it.
    pub redirect_uri: Option<Url>,
    /// The redirect SCA page; default `<base_url>/openbanking/redirect/oauth2/authorize/1.0`
    /// (live: `https://secure.handelsbanken.com/bb/gls5/oauth2/authorize/1.0`).
    pub authorize_url: Option<Url>,
    /// HTTP client or TLS material (mTLS with the QWAC in production).
    pub transport: TransportConfig,
    /// How failed calls are retried (see [`crate::retry`]); default [`RetryPolicy::default`].
    pub retry: RetryPolicy,
    /// Sees every attempt of every call (e.g. to count the consent's access budget); hooks
    /// in scope of [`crate::retry::with_attempt_hook`] see them too.
    pub attempt_hook: Option<Arc<dyn AttemptHook>>,
}

impl HandelsbankenConfig {
    /// A config with the required settings; the rest default (no redirect URI check,
    /// authorize page below `base_url`, default transport).
    pub fn new(base_url: Url, client_id: impl Into<String>, country: impl Into<String>) -> Self {
        Self {
            base_url,
            client_id: client_id.into(),
            country: country.into(),
            redirect_uri: None,
            authorize_url: None,
            transport: TransportConfig::default(),
            retry: RetryPolicy::default(),
            attempt_hook: None,
        }
    }

    /// Sets the registered redirect URI.
    pub fn redirect_uri(mut self, uri: Url) -> Self {
        self.redirect_uri = Some(uri);
        self
    }

    /// Sets the redirect SCA page.
    pub fn authorize_url(mut self, url: Url) -> Self {
        self.authorize_url = Some(url);
        self
    }

    /// Sets the transport.
    pub fn transport(mut self, transport: TransportConfig) -> Self {
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

    /// The base URL without a trailing slash, as the raw client wants it.
    pub(crate) fn base(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_owned()
    }

    /// The authorize page: the configured one or the default below the base URL.
    pub(crate) fn authorize(&self) -> Result<Url, Error> {
        if let Some(url) = &self.authorize_url {
            return Ok(url.clone());
        }
        Url::parse(&format!("{}{AUTHORIZE_PATH}", self.base())).map_err(|_| {
            Error::invalid_input(BANK, "new", "base_url cannot take the authorize path")
        })
    }

    /// Checks the settings (client id present, country supported, http(s) URLs).
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.client_id.trim().is_empty() {
            return Err(Error::invalid_input(BANK, "new", "client_id is empty"));
        }
        if !COUNTRIES.contains(&self.country.as_str()) {
            return Err(Error::invalid_input(
                BANK,
                "new",
                format!("country must be one of {}", COUNTRIES.join(", ")),
            ));
        }
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return Err(Error::invalid_input(
                BANK,
                "new",
                "base_url must be http(s)",
            ));
        }
        self.authorize().map(|_| ())
    }
}
