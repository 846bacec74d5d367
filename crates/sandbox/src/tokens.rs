//! Access tokens, refresh tokens (rotated, with an optional grace period) and
//! authorization codes.

use axum::http::StatusCode;
use chrono::{DateTime, Duration as ChronoDuration, Utc};

use crate::config::Bank;
use crate::errors::{ApiError, OAuthError};
use crate::state::{AppState, AuthCode, RefreshToken, Token, TokenKind};

/// How long a refresh token lives.
pub const REFRESH_TTL_DAYS: i64 = 90;
/// How long an authorization code lives.
pub const CODE_TTL_MINUTES: i64 = 10;

fn later(now: DateTime<Utc>, d: std::time::Duration) -> DateTime<Utc> {
    ChronoDuration::from_std(d)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(now)
}

impl AppState {
    /// Issues an access token; returns it and its lifetime in seconds.
    pub fn issue_token(&self, bank: Bank, client_id: &str, kind: TokenKind) -> (String, u64) {
        let ttl = self.config.token_ttl;
        let now = self.clock.now();
        let expires_at = later(now, ttl);
        let mut store = self.store();
        let token = store.new_secret("at_");
        store.tokens.insert(
            token.clone(),
            Token {
                bank,
                client_id: client_id.to_string(),
                expires_at,
                kind,
            },
            expires_at,
            now,
        );
        (token, ttl.as_secs())
    }

    /// Issues a refresh token for a consent.
    pub fn issue_refresh(&self, client_id: &str, consent_id: &str) -> String {
        let now = self.clock.now();
        let expires_at = now
            .checked_add_signed(ChronoDuration::days(REFRESH_TTL_DAYS))
            .unwrap_or(now);
        let mut store = self.store();
        let rt = store.new_secret("rt_");
        store.refresh_tokens.insert(
            rt.clone(),
            RefreshToken {
                client_id: client_id.to_string(),
                consent_id: consent_id.to_string(),
                rotated_at: None,
            },
            expires_at,
            now,
        );
        rt
    }

    /// Uses refresh token `rt` for `client_id`: the consent it renews. The token is
    /// rotated: it works again only within the configured grace period.
    pub fn use_refresh(&self, rt: &str, client_id: &str) -> Result<String, OAuthError> {
        let now = self.clock.now();
        let grace =
            ChronoDuration::from_std(self.config.refresh_grace).unwrap_or(ChronoDuration::zero());
        let mut store = self.store();
        let entry = store.refresh_tokens.get_mut(rt, now).ok_or_else(|| {
            OAuthError::bad(
                "invalid_grant",
                "The refresh token is unknown or has expired.",
            )
        })?;
        if entry.client_id != client_id {
            return Err(OAuthError::bad(
                "invalid_grant",
                "The refresh token was not issued to this client.",
            ));
        }
        match entry.rotated_at {
            None => entry.rotated_at = Some(now),
            Some(at) if now.signed_duration_since(at) <= grace => {}
            Some(_) => {
                return Err(OAuthError::bad(
                    "invalid_grant",
                    "The refresh token was already used; use the one issued with it.",
                ));
            }
        }
        let consent_id = entry.consent_id.clone();
        if grace.is_zero() {
            store.refresh_tokens.take(rt, now);
        }
        Ok(consent_id)
    }

    /// Stores a single-use authorization code (valid [`CODE_TTL_MINUTES`]).
    pub fn issue_code(&self, code: AuthCode) -> String {
        let now = self.clock.now();
        let expires_at = now
            .checked_add_signed(ChronoDuration::minutes(CODE_TTL_MINUTES))
            .unwrap_or(now);
        let mut store = self.store();
        let secret = store.new_secret("code_");
        store.codes.insert(
            secret.clone(),
            AuthCode { expires_at, ..code },
            expires_at,
            now,
        );
        secret
    }

    /// Takes (uses up) an authorization code that has not expired.
    pub fn take_code(&self, code: &str) -> Option<AuthCode> {
        let now = self.clock.now();
        self.store().codes.take(code, now)
    }

    /// Checks a bearer token (from the `Authorization` header value).
    pub fn check_bearer(&self, bank: Bank, header: Option<&str>) -> Result<Token, ApiError> {
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::token_invalid)?;
        let now = self.clock.now();
        let store = self.store();
        // An expired token is still held until purged: say so rather than "unknown".
        let t = store
            .tokens
            .get(token, DateTime::<Utc>::MIN_UTC)
            .ok_or_else(ApiError::token_invalid)?;
        if t.bank != bank {
            return Err(ApiError::token_invalid());
        }
        if t.expires_at <= now {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "TOKEN_EXPIRED",
                "The access token has expired.",
            ));
        }
        Ok(t.clone())
    }
}
