//! PSU tokens renewed with a refresh token. The client-credentials (CCG) token uses the
//! shared [`TokenCache`](crate::adapters::common::tokens::TokenCache) and its renewal margin.
//!
//! A PSU access token counts as expired [`PSU_EXPIRY_MARGIN`] (30 s) before the session's
//! `expires_at` (any date, however far in the past or future, without overflow); it is then
//! renewed with `grant_type=refresh_token` before the call. Renewals are single-flight (one
//! async lock), so concurrent calls share one renewal: Handelsbanken rotates refresh tokens.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::adapters::common::sync::lock;
use crate::adapters::common::tokens::{expires_at, is_expired};
use crate::api::Session;
use crate::error::{Error, ErrorKind};
use crate::secret::{AccessToken, RefreshToken};

use super::mapping::{BANK, TokenGrant};

pub use crate::adapters::common::tokens::{MAX_RENEWAL_MARGIN, renewal_margin};

/// A PSU access token is treated as expired this long before its `expires_at`.
pub const PSU_EXPIRY_MARGIN: Duration = Duration::from_secs(30);

/// Sessions whose renewed tokens are kept per adapter value (the oldest renewal goes first).
const MAX_RENEWED_SESSIONS: usize = 4096;

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
        self.expires_at
            .is_some_and(|at| is_expired(at, PSU_EXPIRY_MARGIN, now))
    }
}

/// PSU tokens renewed by this adapter, keyed by the session's original refresh token (the
/// caller's [`Session`] is immutable; `Bank::current_session` hands the renewed tokens back).
#[derive(Default)]
pub(crate) struct PsuTokenStore {
    renewed: Mutex<HashMap<String, (u64, PsuTokens)>>,
    renewals: tokio::sync::Mutex<u64>,
}

impl PsuTokenStore {
    fn key(session: &Session) -> Option<String> {
        session
            .refresh_token
            .as_ref()
            .map(|r| r.expose().to_owned())
    }

    /// The tokens to use for `session`: renewed ones if any, else the session's own.
    pub(crate) fn current(&self, session: &Session) -> Option<PsuTokens> {
        if let Some(key) = Self::key(session)
            && let Some((_, tokens)) = lock(&self.renewed).get(&key)
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
            return Err(Error::new(ErrorKind::Unauthorized, BANK, "refresh_token")
                .with_detail("the session has no refresh token: a new SCA is needed"));
        };
        let mut generation = self.renewals.lock().await;
        if let Some((_, current)) = lock(&self.renewed).get(&key)
            && current.access != seen.access
        {
            return Ok(current.clone());
        }
        let now = Utc::now();
        let grant = refresh(refresh_token.clone()).await?;
        let tokens = PsuTokens {
            expires_at: Some(expires_at(now, grant.expires_in)),
            refresh: Some(grant.refresh_token.clone().unwrap_or(refresh_token)),
            access: grant.access_token,
        };
        *generation = generation.wrapping_add(1);
        let mut renewed = lock(&self.renewed);
        if renewed.len() >= MAX_RENEWED_SESSIONS
            && !renewed.contains_key(&key)
            && let Some(oldest) = renewed
                .iter()
                .min_by_key(|(_, (n, _))| *n)
                .map(|(k, _)| k.clone())
        {
            renewed.remove(&oldest);
        }
        renewed.insert(key, (*generation, tokens.clone()));
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psu_expiry_uses_the_margin_and_survives_extreme_dates() {
        let now = Utc::now();
        let tokens = |at: DateTime<Utc>| PsuTokens {
            access: AccessToken::new("a"),
            refresh: None,
            expires_at: Some(at),
        };
        let secs = |s: i64| now + chrono::Duration::seconds(s);
        assert!(tokens(secs(-1)).is_expired(now));
        assert!(tokens(secs(10)).is_expired(now));
        assert!(!tokens(secs(120)).is_expired(now));
        assert!(tokens(DateTime::<Utc>::MIN_UTC).is_expired(now));
        assert!(!tokens(DateTime::<Utc>::MAX_UTC).is_expired(now));
        let no_expiry = PsuTokens {
            expires_at: None,
            ..tokens(now)
        };
        assert!(!no_expiry.is_expired(now));
    }
}
