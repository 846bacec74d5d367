//! Token caches: the client-credentials (CCG) token, and PSU tokens renewed with a refresh
//! token.
//!
//! # Renewal margins
//!
//! - The CCG token is reused until `min(60 s, lifetime / 10)` before its `expires_in` runs
//!   out ([`renewal_margin`]), so a call never goes out with a token about to expire in
//!   flight; a token granted with `expires_in: 0` is used once and renewed on the next call.
//! - A PSU access token counts as expired [`PSU_EXPIRY_MARGIN`] (30 s) before the session's
//!   `expires_at`; it is then renewed with `grant_type=refresh_token` before the call.
//!
//! Both caches hold an async mutex while fetching, so concurrent calls share one renewal
//! (Handelsbanken refresh tokens may be single use).

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use crate::api::Session;
use crate::error::Error;
use crate::secret::{AccessToken, RefreshToken};

use super::mapping::{BANK, TokenGrant};

/// The most a CCG token is renewed ahead of its expiry.
pub const MAX_RENEWAL_MARGIN: Duration = Duration::from_secs(60);

/// A PSU access token is treated as expired this long before its `expires_at`.
pub const PSU_EXPIRY_MARGIN: Duration = Duration::from_secs(30);

/// How long before expiry a token of `lifetime` is renewed: `min(60 s, lifetime / 10)`.
pub fn renewal_margin(lifetime: Duration) -> Duration {
    MAX_RENEWAL_MARGIN.min(lifetime / 10)
}

struct Cached {
    token: AccessToken,
    renew_at: Instant,
}

/// The cached CCG token.
#[derive(Default)]
pub(crate) struct ClientTokenCache {
    slot: Mutex<Option<Cached>>,
}

impl ClientTokenCache {
    /// The cached token while it is fresh, else one from `fetch` (which is then cached).
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<AccessToken, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<TokenGrant, Error>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref()
            && Instant::now() < cached.renew_at
        {
            return Ok(cached.token.clone());
        }
        let grant = fetch().await?;
        let lifetime = grant.expires_in;
        let renew_at = Instant::now() + lifetime.saturating_sub(renewal_margin(lifetime));
        *slot = Some(Cached {
            token: grant.access_token.clone(),
            renew_at,
        });
        Ok(grant.access_token)
    }

    /// Forgets `used` if it is still the cached token (the bank refused it).
    pub(crate) async fn invalidate(&self, used: &AccessToken) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == used) {
            *slot = None;
        }
    }
}

/// The tokens a PSU call is made with.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PsuTokens {
    pub(crate) access: AccessToken,
    pub(crate) refresh: Option<RefreshToken>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
}

impl PsuTokens {
    /// Whether the access token is expired (or within [`PSU_EXPIRY_MARGIN`] of it).
    pub(crate) fn is_expired(&self, now: DateTime<Utc>) -> bool {
        let margin = chrono::Duration::from_std(PSU_EXPIRY_MARGIN).unwrap_or_default();
        self.expires_at.is_some_and(|at| at - margin <= now)
    }
}

/// PSU tokens renewed by this adapter, keyed by the session's original refresh token (the
/// caller's [`Session`] is immutable; [`super::Handelsbanken::current_session`] hands the
/// renewed tokens back).
#[derive(Default)]
pub(crate) struct PsuTokenStore {
    renewed: Mutex<HashMap<String, PsuTokens>>,
}

impl PsuTokenStore {
    fn key(session: &Session) -> Option<String> {
        session
            .refresh_token
            .as_ref()
            .map(|r| r.expose().to_owned())
    }

    /// The tokens to use for `session`: renewed ones if any, else the session's own.
    pub(crate) async fn current(&self, session: &Session) -> Option<PsuTokens> {
        if let Some(key) = Self::key(session)
            && let Some(tokens) = self.renewed.lock().await.get(&key)
        {
            return Some(tokens.clone());
        }
        session.access_token.as_ref().map(|access| PsuTokens {
            access: access.clone(),
            refresh: session.refresh_token.clone(),
            expires_at: session.expires_at,
        })
    }

    /// Renews `seen` with `refresh` unless another call already did; returns the tokens
    /// to use. `refresh` gets the refresh token to send.
    pub(crate) async fn renew<F, Fut>(
        &self,
        session: &Session,
        seen: &PsuTokens,
        refresh: F,
    ) -> Result<PsuTokens, Error>
    where
        F: FnOnce(RefreshToken) -> Fut,
        Fut: Future<Output = Result<TokenGrant, Error>>,
    {
        let (Some(key), Some(refresh_token)) = (Self::key(session), seen.refresh.clone()) else {
            return Err(
                Error::new(crate::error::ErrorKind::Unauthorized, BANK, "refresh_token")
                    .with_detail("the session has no refresh token"),
            );
        };
        let mut renewed = self.renewed.lock().await;
        if let Some(current) = renewed.get(&key)
            && current.access != seen.access
        {
            return Ok(current.clone());
        }
        let now = Utc::now();
        let grant = refresh(refresh_token.clone()).await?;
        let tokens = PsuTokens {
            expires_at: Some(grant.expires_at(now)),
            refresh: Some(grant.refresh_token.clone().unwrap_or(refresh_token)),
            access: grant.access_token,
        };
        renewed.insert(key, tokens.clone());
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins() {
        assert_eq!(
            renewal_margin(Duration::from_secs(3600)),
            MAX_RENEWAL_MARGIN
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(100)),
            Duration::from_secs(10)
        );
        assert_eq!(renewal_margin(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn psu_expiry_uses_the_margin() {
        let now = Utc::now();
        let tokens = |secs: i64| PsuTokens {
            access: AccessToken::new("a"),
            refresh: None,
            expires_at: Some(now + chrono::Duration::seconds(secs)),
        };
        assert!(tokens(-1).is_expired(now));
        assert!(tokens(10).is_expired(now));
        assert!(!tokens(120).is_expired(now));
        let no_expiry = PsuTokens {
            expires_at: None,
            ..tokens(0)
        };
        assert!(!no_expiry.is_expired(now));
    }
}
