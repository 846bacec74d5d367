//! The mutable state behind one lock: tokens, refresh tokens, codes and consents, each
//! expiring and capped.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Days, NaiveDate, Utc};

use crate::config::SandboxConfig;
use crate::secrets::{Expiring, random_id, random_secret};
use crate::state::{AuthCode, Consent, ConsentStatus, Token};

/// A refresh token's record.
#[derive(Clone)]
pub struct RefreshToken {
    /// Client it was issued to.
    pub client_id: String,
    /// The consent it renews access to.
    pub consent_id: String,
    /// When it was used (and so replaced by a new one); usable again only within the
    /// configured grace period after that.
    pub rotated_at: Option<DateTime<Utc>>,
}

/// Most authorisations kept per consent (the oldest go first).
pub const MAX_AUTHORISATIONS: usize = 16;
/// How long a consent in a final state (expired, rejected, revoked, terminated) is kept.
pub const FINISHED_CONSENT_DAYS: u64 = 7;

/// Mutable state behind one lock. Tokens, codes and consents expire and are capped.
pub struct Store {
    /// Access tokens.
    pub tokens: Expiring<Token>,
    /// Refresh tokens.
    pub refresh_tokens: Expiring<RefreshToken>,
    /// Authorization codes.
    pub codes: Expiring<AuthCode>,
    /// Consents.
    pub consents: HashMap<String, Consent>,
    consent_order: VecDeque<String>,
    max_consents: usize,
}

impl Store {
    /// An empty store with the caps of `config`.
    pub fn new(config: &SandboxConfig) -> Self {
        Self {
            tokens: Expiring::new(config.max_tokens),
            refresh_tokens: Expiring::new(config.max_tokens),
            codes: Expiring::new(config.max_tokens),
            consents: HashMap::new(),
            consent_order: VecDeque::new(),
            max_consents: config.max_consents.max(1),
        }
    }

    /// A fresh random id (consents, authorisations).
    pub fn new_id(&mut self) -> String {
        random_id()
    }

    /// A fresh random opaque secret with `prefix`.
    pub fn new_secret(&mut self, prefix: &str) -> String {
        random_secret(prefix)
    }

    /// Adds a consent, first dropping consents that ended more than
    /// [`FINISHED_CONSENT_DAYS`] ago and, when full, the oldest ones.
    pub fn insert_consent(&mut self, consent: Consent, today: NaiveDate) {
        let cutoff = today
            .checked_sub_days(Days::new(FINISHED_CONSENT_DAYS))
            .unwrap_or(today);
        // A sweep costs a pass over all consents: done every 256 consents, or when full.
        if self.consents.len() % 256 == 255 || self.consents.len() >= self.max_consents {
            let consents = &mut self.consents;
            consents.retain(|_, c| {
                matches!(c.status, ConsentStatus::Received | ConsentStatus::Valid)
                    || c.last_action_date >= cutoff
            });
            self.consent_order.retain(|id| consents.contains_key(id));
        }
        while self.consents.len() >= self.max_consents {
            match self.consent_order.pop_front() {
                Some(old) => {
                    self.consents.remove(&old);
                }
                None => break,
            }
        }
        self.consent_order.push_back(consent.id.clone());
        self.consents.insert(consent.id.clone(), consent);
    }
}
