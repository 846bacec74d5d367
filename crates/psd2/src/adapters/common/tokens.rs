//! The one token cache and the one renewal margin, and safe arithmetic on token lifetimes.
//!
//! # Renewal margin
//!
//! A cached token is reused until `min(60 s, lifetime / 10)` before its `expires_in` runs
//! out ([`renewal_margin`]): a 3600 s token is renewed after 3540 s, a 10 s token after 9 s,
//! and one granted with `expires_in: 0` is used once. A lifetime longer than a year (up to
//! `i64::MAX` seconds from a bank) is taken as a year ([`MAX_TOKEN_LIFETIME`]); a negative one
//! as zero. Fetches are single-flight: the lock is held while a token is fetched, so parallel
//! calls wait for one request; a caller whose token was refused drops exactly that token
//! ([`TokenCache::invalidate`]), so concurrent 401s cause one renewal, not one each.
//!
//! The customer's (PSU's) tokens, renewed with a refresh token, live in the same module
//! under the same rule (`UserTokenCache`): renewed `renewal_margin(lifetime)` before
//! expiry, or [`MAX_RENEWAL_MARGIN`] before it when only the expiry date is known (a stored
//! session). Their renewals are single-flight too (a bank may rotate refresh tokens).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::adapters::common::sync::lock;
use crate::api::Session;
use crate::error::{Error, ErrorKind};
use crate::secret::{AccessToken, RefreshToken};

/// The most a token is renewed ahead of its expiry.
pub const MAX_RENEWAL_MARGIN: Duration = Duration::from_secs(60);

/// The longest token lifetime believed; a longer `expires_in` is clamped to it.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// How long before expiry a token of `lifetime` is renewed: `min(60 s, lifetime / 10)`.
pub fn renewal_margin(lifetime: Duration) -> Duration {
    MAX_RENEWAL_MARGIN.min(lifetime / 10)
}

/// A token lifetime from a bank's `expires_in` seconds: negative is zero, more than
/// [`MAX_TOKEN_LIFETIME`] is clamped to it.
pub fn lifetime_from_secs(expires_in: i64) -> Duration {
    Duration::from_secs(u64::try_from(expires_in).unwrap_or(0)).min(MAX_TOKEN_LIFETIME)
}

/// When a token of `lifetime` granted at `now` expires (clamped, never overflows).
pub fn expires_at(now: DateTime<Utc>, lifetime: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(lifetime.min(MAX_TOKEN_LIFETIME))
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether a token expiring at `expires_at` counts as expired at `now`, `margin` early.
/// Dates at the ends of the calendar never overflow: one so far past that `margin` cannot be
/// subtracted is expired.
pub fn is_expired(expires_at: DateTime<Utc>, margin: Duration, now: DateTime<Utc>) -> bool {
    let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX);
    expires_at
        .checked_sub_signed(margin)
        .is_none_or(|renew_at| renew_at <= now)
}

struct Cached {
    token: AccessToken,
    renew_at: Option<Instant>,
}

/// A cached token (client credentials): fetched on demand, renewed per [`renewal_margin`].
#[derive(Default)]
pub struct TokenCache {
    slot: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache([REDACTED])")
    }
}

impl TokenCache {
    /// The cached token while it is fresh, else one from `fetch` (token and lifetime), which
    /// is then cached.
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<AccessToken, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(AccessToken, Duration), Error>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref()
            && cached.renew_at.is_some_and(|at| Instant::now() < at)
        {
            return Ok(cached.token.clone());
        }
        let (token, lifetime) = fetch().await?;
        let lifetime = lifetime.min(MAX_TOKEN_LIFETIME);
        *slot = Some(Cached {
            token: token.clone(),
            renew_at: Instant::now().checked_add(lifetime.saturating_sub(renewal_margin(lifetime))),
        });
        Ok(token)
    }

    /// Forgets `used` if it is still the cached token (the bank refused it).
    pub async fn invalidate(&self, used: &AccessToken) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == used) {
            *slot = None;
        }
    }
}

/// Sessions whose renewed tokens a [`UserTokenCache`] keeps (the oldest renewal goes first).
#[cfg_attr(not(feature = "handelsbanken"), allow(dead_code))] // used by the Handelsbanken adapter only
const MAX_RENEWED_SESSIONS: usize = 4096;

/// A customer's tokens as a call uses them.
#[cfg_attr(not(feature = "handelsbanken"), allow(dead_code))] // used by the Handelsbanken adapter only
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct UserTokens {
    pub(crate) access: AccessToken,
    pub(crate) refresh: Option<RefreshToken>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    /// The lifetime granted, when the grant passed through this cache.
    pub(crate) lifetime: Option<Duration>,
}

impl std::fmt::Debug for UserTokens {
    /// The expiry only: the tokens are secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserTokens")
            .field("expires_at", &self.expires_at)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

#[cfg_attr(not(feature = "handelsbanken"), allow(dead_code))] // used by the Handelsbanken adapter only
impl UserTokens {
    /// Whether the access token is due for renewal at `now`: within
    /// [`renewal_margin`] of its lifetime before `expires_at`, or [`MAX_RENEWAL_MARGIN`]
    /// when the lifetime is unknown. Never without `expires_at`.
    pub(crate) fn is_expired(&self, now: DateTime<Utc>) -> bool {
        let margin = self.lifetime.map_or(MAX_RENEWAL_MARGIN, renewal_margin);
        self.expires_at
            .is_some_and(|at| is_expired(at, margin, now))
    }
}

/// What a refresh returned: the new access token, the rotated refresh token (if the bank
/// sent one) and the lifetime.
#[cfg_attr(not(feature = "handelsbanken"), allow(dead_code))] // used by the Handelsbanken adapter only
pub(crate) struct Renewed {
    pub(crate) access: AccessToken,
    pub(crate) refresh: Option<RefreshToken>,
    pub(crate) lifetime: Duration,
}

/// Customers' tokens renewed by an adapter, keyed by the session's original refresh token
/// (the caller's [`Session`] is immutable; `Bank::current_session` hands the renewed tokens
/// back), at most [`MAX_RENEWED_SESSIONS`] of them.
#[cfg_attr(not(feature = "handelsbanken"), allow(dead_code))] // used by the Handelsbanken adapter only
#[derive(Default)]
pub(crate) struct UserTokenCache {
    renewed: std::sync::Mutex<HashMap<String, (u64, UserTokens)>>,
    renewals: Mutex<u64>,
}

impl std::fmt::Debug for UserTokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserTokenCache([REDACTED])")
    }
}

#[cfg_attr(not(feature = "handelsbanken"), allow(dead_code))] // used by the Handelsbanken adapter only
impl UserTokenCache {
    fn key(session: &Session) -> Option<String> {
        session
            .refresh_token
            .as_ref()
            .map(|r| r.expose().to_owned())
    }

    /// The tokens to use for `session`: renewed ones if any, else the session's own.
    pub(crate) fn current(&self, session: &Session) -> Option<UserTokens> {
        if let Some(key) = Self::key(session)
            && let Some((_, tokens)) = lock(&self.renewed).get(&key)
        {
            return Some(tokens.clone());
        }
        session.access_token.as_ref().map(|access| UserTokens {
            access: access.clone(),
            refresh: session.refresh_token.clone(),
            expires_at: session.expires_at,
            lifetime: None,
        })
    }

    /// Renews `seen` with `refresh` unless another call already did; returns the tokens to
    /// use. `refresh` gets the refresh token to send; `bank` names the error when the session
    /// has none.
    pub(crate) async fn renew<F, Fut>(
        &self,
        bank: &'static str,
        session: &Session,
        seen: &UserTokens,
        refresh: F,
    ) -> Result<UserTokens, Error>
    where
        F: FnOnce(RefreshToken) -> Fut,
        Fut: Future<Output = Result<Renewed, Error>>,
    {
        let (Some(key), Some(refresh_token)) = (Self::key(session), seen.refresh.clone()) else {
            return Err(Error::new(ErrorKind::Unauthorized, bank, "refresh_token")
                .with_detail("the session has no refresh token: a new SCA is needed"));
        };
        let mut generation = self.renewals.lock().await;
        if let Some((_, current)) = lock(&self.renewed).get(&key)
            && current.access != seen.access
        {
            return Ok(current.clone());
        }
        let now = Utc::now();
        let renewed = refresh(refresh_token.clone()).await?;
        let lifetime = renewed.lifetime.min(MAX_TOKEN_LIFETIME);
        let tokens = UserTokens {
            expires_at: Some(expires_at(now, lifetime)),
            refresh: Some(renewed.refresh.unwrap_or(refresh_token)),
            access: renewed.access,
            lifetime: Some(lifetime),
        };
        *generation = generation.wrapping_add(1);
        let mut map = lock(&self.renewed);
        if map.len() >= MAX_RENEWED_SESSIONS
            && !map.contains_key(&key)
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (n, _))| *n)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(key, (*generation, tokens.clone()));
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn margins() {
        assert_eq!(
            renewal_margin(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(100)),
            Duration::from_secs(10)
        );
        assert_eq!(renewal_margin(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn absurd_lifetimes_are_clamped_not_panicking() {
        assert_eq!(lifetime_from_secs(i64::MAX), MAX_TOKEN_LIFETIME);
        assert_eq!(lifetime_from_secs(-5), Duration::ZERO);
        assert_eq!(lifetime_from_secs(300), Duration::from_secs(300));
        let now = Utc::now();
        assert_eq!(
            expires_at(now, Duration::MAX),
            now + chrono::Duration::days(365)
        );
        let far_past: DateTime<Utc> = "-262143-01-01T00:00:00Z".parse().unwrap();
        let far_future: DateTime<Utc> = "+262142-12-31T23:59:59Z".parse().unwrap();
        assert!(is_expired(far_past, Duration::from_secs(30), now));
        assert!(!is_expired(far_future, Duration::from_secs(30), now));
        assert!(is_expired(
            now + chrono::Duration::seconds(10),
            Duration::from_secs(30),
            now
        ));
        assert!(!is_expired(
            now + chrono::Duration::seconds(120),
            Duration::from_secs(30),
            now
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn cache_survives_an_i64_max_lifetime_and_renews_in_time() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = |secs: i64| {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            async move { Ok((AccessToken::new(format!("t{n}")), lifetime_from_secs(secs))) }
        };
        let t = cache.get(|| fetch(i64::MAX)).await.unwrap();
        assert_eq!(t.expose(), "t0");
        assert_eq!(cache.get(|| fetch(10)).await.unwrap().expose(), "t0");

        let cache = TokenCache::default();
        cache.get(|| fetch(100)).await.unwrap();
        tokio::time::advance(Duration::from_secs(89)).await;
        assert_eq!(
            cache.get(|| fetch(100)).await.unwrap().expose(),
            "t1",
            "still fresh"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            cache.get(|| fetch(100)).await.unwrap().expose(),
            "t2",
            "renewed 10 s early"
        );
        cache.invalidate(&AccessToken::new("t2")).await;
        assert_eq!(cache.get(|| fetch(100)).await.unwrap().expose(), "t3");
    }

    #[test]
    fn user_tokens_renew_by_the_same_margin() {
        let now = Utc::now();
        let secs = |s: i64| now + chrono::Duration::seconds(s);
        let tokens = |at: DateTime<Utc>, lifetime: Option<u64>| UserTokens {
            access: AccessToken::new("a"),
            refresh: None,
            expires_at: Some(at),
            lifetime: lifetime.map(Duration::from_secs),
        };
        // Lifetime unknown (a stored session): 60 s early.
        assert!(tokens(secs(-1), None).is_expired(now));
        assert!(tokens(secs(59), None).is_expired(now));
        assert!(!tokens(secs(61), None).is_expired(now));
        // Lifetime known: min(60 s, lifetime / 10), as for the client token.
        assert!(tokens(secs(9), Some(100)).is_expired(now));
        assert!(!tokens(secs(11), Some(100)).is_expired(now));
        assert!(tokens(secs(59), Some(3600)).is_expired(now));
        assert!(!tokens(secs(61), Some(3600)).is_expired(now));
        assert!(tokens(DateTime::<Utc>::MIN_UTC, None).is_expired(now));
        assert!(!tokens(DateTime::<Utc>::MAX_UTC, None).is_expired(now));
        let no_expiry = UserTokens {
            expires_at: None,
            ..tokens(now, None)
        };
        assert!(!no_expiry.is_expired(now));
    }

    #[tokio::test]
    async fn user_tokens_are_renewed_once_and_kept_per_session() {
        let cache = UserTokenCache::default();
        let session = Session::new(crate::ConsentId::new("c"))
            .with_access_token(AccessToken::new("a0"), Some(Utc::now()))
            .with_refresh_token(RefreshToken::new("r0"));
        let seen = cache.current(&session).unwrap();
        assert_eq!(seen.access.expose(), "a0");
        let renewed = cache
            .renew("test", &session, &seen, |r| async move {
                assert_eq!(r.expose(), "r0");
                Ok(Renewed {
                    access: AccessToken::new("a1"),
                    refresh: Some(RefreshToken::new("r1")),
                    lifetime: Duration::from_secs(u64::MAX),
                })
            })
            .await
            .unwrap();
        assert_eq!(renewed.refresh.as_ref().unwrap().expose(), "r1");
        assert_eq!(renewed.lifetime, Some(MAX_TOKEN_LIFETIME));
        // A second caller that saw the old token gets the renewed one, without a refresh.
        let again = cache
            .renew("test", &session, &seen, |_| async {
                Err(Error::new(ErrorKind::Unauthorized, "test", "refresh_token"))
            })
            .await
            .unwrap();
        assert_eq!(again.access.expose(), "a1");
        assert_eq!(cache.current(&session).unwrap().access.expose(), "a1");
        let without =
            Session::new(crate::ConsentId::new("c")).with_access_token(AccessToken::new("x"), None);
        let seen = cache.current(&without).unwrap();
        let err = cache
            .renew("test", &without, &seen, |_| async { unreachable!() })
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unauthorized);
    }
}
