//! The platform's client-credentials token: fetched with the shared call wrapper (retried
//! like any idempotent call), cached in the shared
//! [`TokenCache`] and renewed by its margin
//! (10 % of the lifetime, at most 60 s; lifetimes over a year are taken as a year).

use std::time::Duration;

use psd2_raw_openpayments::types as raw;
use url::Url;

use crate::adapters::common::Calls;
use crate::adapters::common::tokens::{TokenCache, lifetime_from_secs};
use crate::error::{Error, ErrorKind};
use crate::retry::{CallInfo, RetryMode};
use crate::secret::{AccessToken, Secret};

use super::BANK;

pub use crate::adapters::common::tokens::{MAX_RENEWAL_MARGIN, renewal_margin};

/// A client-credentials token source with a cache.
pub(super) struct PlatformToken {
    http: reqwest::Client,
    url: Url,
    client_id: String,
    client_secret: Option<Secret>,
    scope: String,
    cache: TokenCache,
}

impl PlatformToken {
    pub(super) fn new(
        http: reqwest::Client,
        url: Url,
        client_id: String,
        client_secret: Option<Secret>,
        scope: String,
    ) -> Self {
        Self {
            http,
            url,
            client_id,
            client_secret,
            scope,
            cache: TokenCache::default(),
        }
    }

    /// A valid token: the cached one, or a fresh one.
    pub(super) async fn get(&self, calls: &Calls) -> Result<AccessToken, Error> {
        self.cache.get(|| self.fetch(calls)).await
    }

    /// Drops the cached token if it is still `used` (the one a 401 answered).
    pub(super) async fn invalidate(&self, used: &AccessToken) {
        self.cache.invalidate(used).await;
    }

    async fn fetch(&self, calls: &Calls) -> Result<(AccessToken, Duration), Error> {
        let info = CallInfo::new(BANK, "token");
        calls
            .run(info, RetryMode::Idempotent, |rid| self.fetch_once(rid))
            .await
    }

    async fn fetch_once(&self, rid: uuid::Uuid) -> Result<((AccessToken, Duration), u16), Error> {
        const OP: &str = "token";
        let rid = rid.to_string();
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("scope", &self.scope),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let response = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .header("X-Request-ID", &rid)
            .form(&form)
            .send()
            .await
            .map_err(|e| transport(e, &rid))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(|e| transport(e, &rid))?;
        if !(200..300).contains(&status) {
            return Err(
                Error::from_response(BANK, OP, status, &body, retry_after.as_deref())
                    .with_request_id(rid),
            );
        }
        // The body holds the token: never keep it in the error.
        let parsed: raw::TokenResponse = serde_json::from_slice(&body).map_err(|cause| {
            let error = Error::new(ErrorKind::UnexpectedResponse, BANK, OP)
                .with_status(status)
                .with_request_id(rid.clone());
            match cause.classify() {
                serde_json::error::Category::Data => {
                    error.with_detail("the token answer is not a token response")
                }
                _ => error.with_detail(crate::retry::UNREADABLE_ANSWER),
            }
        })?;
        if parsed.access_token.is_empty() {
            return Err(Error::new(ErrorKind::UnexpectedResponse, BANK, OP)
                .with_status(status)
                .with_request_id(rid)
                .with_detail("the token answer has an empty access_token"));
        }
        let lifetime = lifetime_from_secs(parsed.expires_in);
        Ok(((AccessToken::new(parsed.access_token), lifetime), status))
    }
}

fn transport(e: reqwest::Error, rid: &str) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    Error::new(kind, BANK, "token")
        .with_request_id(rid)
        .with_detail("could not reach the token endpoint")
        .with_source(e.without_url())
}

impl std::fmt::Debug for PlatformToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformToken")
            .field("url", &self.url.as_str())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}
