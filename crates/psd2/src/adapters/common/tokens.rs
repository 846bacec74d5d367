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

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::Error;
use crate::secret::AccessToken;

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
}
