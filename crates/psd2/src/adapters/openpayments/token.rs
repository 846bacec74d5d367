//! The platform's client-credentials token: fetched once, cached, renewed before it expires.
//!
//! Renewal policy: a token is used until `expires_in - margin`, where the margin is 10 % of
//! its lifetime, at most 60 s (a 3600 s token is renewed after 3540 s, a 10 s token after
//! 9 s). Callers that get a 401 drop exactly the token they used (`TokenCache::invalidate`),
//! so concurrent 401s cause one renewal, not one each. Fetches are single-flight: the lock is
//! held while a token is fetched, so parallel calls wait for one request.

use std::time::Duration;

use psd2_raw_openpayments::types as raw;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::adapters::common::request_id;
use crate::error::{Error, ErrorKind};
use crate::secret::{AccessToken, Secret};

use super::BANK;

/// Longest safety margin before `expires_in`.
pub const MAX_RENEWAL_MARGIN: Duration = Duration::from_secs(60);

/// How long before its end a token of `lifetime` is renewed.
pub fn renewal_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(MAX_RENEWAL_MARGIN)
}

struct Cached {
    token: AccessToken,
    renew_at: Instant,
}

/// A client-credentials token source with a cache.
pub(super) struct TokenCache {
    http: reqwest::Client,
    url: Url,
    client_id: String,
    client_secret: Option<Secret>,
    scope: String,
    state: Mutex<Option<Cached>>,
}

impl TokenCache {
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
            state: Mutex::new(None),
        }
    }

    /// A valid token: the cached one, or a fresh one.
    pub(super) async fn get(&self) -> Result<AccessToken, Error> {
        let mut state = self.state.lock().await;
        if let Some(cached) = state.as_ref() {
            if Instant::now() < cached.renew_at {
                return Ok(cached.token.clone());
            }
            tracing::debug!(
                bank = BANK,
                operation = "token",
                "cached token due for renewal"
            );
        }
        let (token, lifetime) = self.fetch().await?;
        *state = Some(Cached {
            token: token.clone(),
            renew_at: Instant::now() + lifetime.saturating_sub(renewal_margin(lifetime)),
        });
        Ok(token)
    }

    /// Drops the cached token if it is still `used` (the one a 401 answered).
    pub(super) async fn invalidate(&self, used: &AccessToken) {
        let mut state = self.state.lock().await;
        if state.as_ref().is_some_and(|c| &c.token == used) {
            *state = None;
        }
    }

    async fn fetch(&self) -> Result<(AccessToken, Duration), Error> {
        const OP: &str = "token";
        let rid = request_id().to_string();
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
        tracing::debug!(bank = BANK, operation = OP, status, request_id = %rid, "token response");
        if !(200..300).contains(&status) {
            return Err(
                Error::from_response(BANK, OP, status, &body, retry_after.as_deref())
                    .with_request_id(rid),
            );
        }
        // The body holds the token: never keep it in the error.
        let parsed: raw::TokenResponse = serde_json::from_slice(&body).map_err(|_| {
            Error::new(ErrorKind::UnexpectedResponse, BANK, OP)
                .with_status(status)
                .with_request_id(rid.clone())
                .with_detail("the token answer is not a token response")
        })?;
        if parsed.access_token.is_empty() {
            return Err(Error::new(ErrorKind::UnexpectedResponse, BANK, OP)
                .with_status(status)
                .with_request_id(rid)
                .with_detail("the token answer has an empty access_token"));
        }
        let lifetime = Duration::from_secs(u64::try_from(parsed.expires_in).unwrap_or(0));
        Ok((AccessToken::new(parsed.access_token), lifetime))
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

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("url", &self.url.as_str())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_ten_percent_capped_at_a_minute() {
        assert_eq!(
            renewal_margin(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(10)),
            Duration::from_secs(1)
        );
        assert_eq!(renewal_margin(Duration::ZERO), Duration::ZERO);
    }
}
