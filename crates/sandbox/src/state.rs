//! Shared server state: clock, tokens, codes, consents and their state machine.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::http::StatusCode;
use chrono::{DateTime, Days, NaiveDate, Utc};

pub use crate::clock::Clock;
pub use crate::store::{FINISHED_CONSENT_DAYS, MAX_AUTHORISATIONS, RefreshToken, Store};

use crate::access::Scope;
use crate::churn::Churn;
use crate::config::{Bank, SandboxConfig};
use crate::errors::ApiError;
use crate::faults::FaultSet;
use crate::fixtures::{self, Account, Fixtures};
use crate::signature::Verifier;

/// How far back `dateFrom` may go without a fresh SCA.
pub const FREE_HISTORY_DAYS: u64 = 90;
/// How long after an SCA the full history may be read.
pub const FRESH_SCA_WINDOW_SECS: i64 = 3600;
/// `frequencyPerDay` for banks whose consents carry none (Handelsbanken).
pub const DEFAULT_FREQUENCY_PER_DAY: u32 = 4;

fn consent_unknown() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "CONSENT_UNKNOWN",
        "Consent is unknown.",
    )
}

/// Berlin Group consent states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentStatus {
    /// Created, not yet authorised.
    Received,
    /// Authorised.
    Valid,
    /// SCA failed or was rejected.
    Rejected,
    /// Past `validUntil` or force-expired.
    Expired,
    /// Revoked by the PSU (admin endpoint).
    RevokedByPsu,
    /// Deleted by the TPP.
    TerminatedByTpp,
}

impl ConsentStatus {
    /// Berlin Group spelling (`received`, `revokedByPsu`, ...).
    pub fn bg(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Valid => "valid",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::RevokedByPsu => "revokedByPsu",
            Self::TerminatedByTpp => "terminatedByTpp",
        }
    }

    /// Handelsbanken spelling (`RECEIVED`, `REVOKED_BY_PSU`, ...).
    pub fn hb(self) -> &'static str {
        match self {
            Self::Received => "RECEIVED",
            Self::Valid => "VALID",
            Self::Rejected => "REJECTED",
            Self::Expired => "EXPIRED",
            Self::RevokedByPsu => "REVOKED_BY_PSU",
            Self::TerminatedByTpp => "TERMINATED_BY_TPP",
        }
    }
}

/// Redirect or decoupled SCA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaMethod {
    /// Browser redirect.
    Redirect,
    /// App-based, polled.
    Decoupled,
}

/// Progress of one authorisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaStatus {
    /// Started, PSU has not acted yet.
    Started,
    /// Done.
    Finalised,
    /// Rejected or failed.
    Failed,
}

impl ScaStatus {
    /// Berlin Group spelling.
    pub fn bg(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Finalised => "finalised",
            Self::Failed => "failed",
        }
    }
}

/// One authorisation (SCA) of a consent.
#[derive(Clone)]
pub struct Authorisation {
    /// Authorisation id (also the Handelsbanken `orderRef`).
    pub id: String,
    /// Redirect or decoupled.
    pub method: ScaMethod,
    /// Progress.
    pub status: ScaStatus,
    /// Status polls so far.
    pub polls: u32,
    /// PSU that authenticates (decoupled: from the request).
    pub psu: Option<String>,
    /// Where the redirect page sends the browser back to (when given up front).
    pub redirect_uri: Option<String>,
}

/// A consent.
#[derive(Clone)]
pub struct Consent {
    /// Consent id.
    pub id: String,
    /// Owning bank.
    pub bank: Bank,
    /// Client that created it.
    pub client_id: Option<String>,
    /// The PSU, once known.
    pub psu: Option<String>,
    /// State.
    pub status: ConsentStatus,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// Unattended accesses allowed per day.
    pub frequency_per_day: u32,
    /// Recurring or one-off.
    pub recurring: bool,
    /// The access object as requested (echoed by get consent).
    pub access: serde_json::Value,
    /// Last status change.
    pub last_action_date: NaiveDate,
    /// Time of the last successful SCA.
    pub sca_at: Option<DateTime<Utc>>,
    /// Unattended accesses per day.
    pub usage: HashMap<NaiveDate, u32>,
    /// Authorisations.
    pub authorisations: Vec<Authorisation>,
}

/// What an access token stands for.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A client credentials token.
    Client,
    /// A PSU token bound to a consent (`AIS:<consentId>`).
    Consent(String),
}

/// An issued access token.
#[derive(Clone)]
pub struct Token {
    /// Issuing bank.
    pub bank: Bank,
    /// Client.
    pub client_id: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// What it grants.
    pub kind: TokenKind,
}

/// A single-use authorization code.
#[derive(Clone)]
pub struct AuthCode {
    /// Client the code was issued to (may be empty when the page was called without one).
    pub client_id: String,
    /// Redirect URI it was issued for.
    pub redirect_uri: String,
    /// The consent it authorises.
    pub consent_id: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Everything the handlers share.
pub struct AppState {
    /// Configuration.
    pub config: SandboxConfig,
    /// Generated data.
    pub fixtures: Fixtures,
    /// Clock (shared with the registry banks, so `/admin/clock` moves them too).
    pub clock: Arc<Clock>,
    /// Mutable state.
    pub store: Mutex<Store>,
    /// Active faults.
    pub faults: FaultSet,
    /// Churn per bank and the ground truth.
    pub churn: Churn,
    /// Swedbank signature verification.
    pub verifier: Arc<dyn Verifier>,
    /// The server's own base URL (`http://127.0.0.1:PORT`), set after binding.
    pub base_url: RwLock<String>,
    /// The registry banks served next to the three banks (set at start).
    pub registry: RwLock<Vec<Arc<crate::banks::berlingroup::RegistryBank>>>,
}

/// What a new consent is made of.
#[derive(Clone)]
pub struct NewConsent {
    /// Client that creates it.
    pub client_id: Option<String>,
    /// The PSU, when known up front.
    pub psu: Option<String>,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// Unattended accesses per day.
    pub frequency_per_day: u32,
    /// Recurring or one-off.
    pub recurring: bool,
    /// The access object.
    pub access: serde_json::Value,
}

/// A consent that passed the access checks of an AIS call.
#[derive(Clone)]
pub struct AisGrant {
    /// The consent id.
    pub consent_id: String,
    /// The consent's PSU.
    pub psu: String,
}

/// What an AIS call asks for, for the checks in [`AppState::ais_access`].
#[derive(Debug, Clone, Default)]
pub struct AisRequest<'a> {
    /// The account asked for, if any.
    pub account_id: Option<&'a str>,
    /// Whether `PSU-IP-Address` was sent (PSU present: not counted).
    pub psu_present: bool,
    /// `dateFrom` of a transaction call.
    pub date_from: Option<NaiveDate>,
    /// Whether this is a follow-up page (not counted as a new access).
    pub continuation: bool,
    /// Card account (Handelsbanken) rather than payment account.
    pub card: bool,
    /// The calling TPP (client id or certificate); must own the consent.
    pub client_id: Option<&'a str>,
    /// The service used.
    pub scope: Scope,
}

impl AppState {
    /// Builds the state for `config`.
    pub fn new(config: SandboxConfig, verifier: Arc<dyn Verifier>) -> Self {
        let clock = Arc::new(Clock::new(config.today));
        Self::with_clock(config, verifier, clock)
    }

    /// Builds the state for `config` on an existing clock (a registry bank shares the
    /// sandbox's clock).
    pub fn with_clock(
        config: SandboxConfig,
        verifier: Arc<dyn Verifier>,
        clock: Arc<Clock>,
    ) -> Self {
        let fixtures = Fixtures::new(config.seed, clock.today(), config.history_size);
        let faults = FaultSet::new(config.faults.clone());
        Self {
            store: Mutex::new(Store::new(&config)),
            config,
            fixtures,
            clock,
            faults,
            churn: Churn::default(),
            verifier,
            base_url: RwLock::new(String::new()),
            registry: RwLock::new(Vec::new()),
        }
    }

    /// An account's (booked, available) balance: the generated history plus churn.
    pub fn balances(&self, a: &Account) -> (rust_decimal::Decimal, rust_decimal::Decimal) {
        let (booked_delta, pending_delta) =
            self.churn
                .balance_deltas(&self.fixtures, a.bank, &a.resource_id, self.clock.today());
        let booked = a.booked_balance() + booked_delta;
        (
            booked,
            booked + a.pending_sum(&self.fixtures) + pending_delta,
        )
    }

    /// Locks the store (a poisoned lock is recovered: the data stays usable).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Base URL of a bank (`http://127.0.0.1:PORT/<prefix>`).
    pub fn bank_url(&self, bank: Bank) -> String {
        let base = self.base_url.read().map(|b| b.clone()).unwrap_or_default();
        format!("{base}/{}", bank.prefix())
    }

    /// Creates a consent and returns its id.
    pub fn create_consent(&self, bank: Bank, new: NewConsent) -> String {
        let today = self.clock.today();
        let mut store = self.store();
        let id = store.new_id();
        store.insert_consent(
            Consent {
                id: id.clone(),
                bank,
                client_id: new.client_id,
                psu: new.psu,
                status: ConsentStatus::Received,
                valid_until: new.valid_until,
                frequency_per_day: new.frequency_per_day,
                recurring: new.recurring,
                access: new.access,
                last_action_date: today,
                sca_at: None,
                usage: HashMap::new(),
                authorisations: Vec::new(),
            },
            today,
        );
        id
    }

    /// A copy of a consent of `bank`, with time-based expiry applied.
    pub fn consent(&self, bank: Bank, id: &str) -> Result<Consent, ApiError> {
        let today = self.clock.today();
        let mut store = self.store();
        let c = store
            .consents
            .get_mut(id)
            .filter(|c| c.bank == bank)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "CONSENT_UNKNOWN",
                    "Consent is unknown.",
                )
            })?;
        if matches!(c.status, ConsentStatus::Valid | ConsentStatus::Received)
            && c.valid_until < today
        {
            c.status = ConsentStatus::Expired;
            c.last_action_date = today;
        }
        Ok(c.clone())
    }

    /// A consent of `bank` owned by `client` (the TPP that created it); another TPP's
    /// consent answers 403 `CONSENT_UNKNOWN`, exactly like an unknown id.
    pub fn consent_for(
        &self,
        bank: Bank,
        id: &str,
        client: Option<&str>,
    ) -> Result<Consent, ApiError> {
        let c = self.consent(bank, id)?;
        if c.client_id.as_deref() != client {
            return Err(consent_unknown());
        }
        Ok(c)
    }

    /// Changes a consent with `f`.
    pub fn update_consent<T>(
        &self,
        bank: Bank,
        id: &str,
        f: impl FnOnce(&mut Consent) -> T,
    ) -> Result<T, ApiError> {
        self.consent(bank, id)?;
        let mut store = self.store();
        let c = store.consents.get_mut(id).ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "CONSENT_UNKNOWN",
                "Consent is unknown.",
            )
        })?;
        Ok(f(c))
    }

    /// Finishes an SCA: the consent becomes valid for `psu`, or rejected.
    pub fn complete_sca(
        &self,
        bank: Bank,
        consent_id: &str,
        auth_id: Option<&str>,
        psu: &str,
        approve: bool,
    ) -> Result<bool, ApiError> {
        let now = self.clock.now();
        let today = self.clock.today();
        let rejects = fixtures::psu(psu).is_none_or(|p| p.always_rejects);
        let ok = approve && !rejects;
        self.update_consent(bank, consent_id, |c| {
            if let Some(aid) = auth_id
                && let Some(a) = c.authorisations.iter_mut().find(|a| a.id == aid)
            {
                a.status = if ok {
                    ScaStatus::Finalised
                } else {
                    ScaStatus::Failed
                };
            }
            if c.psu.is_none() || ok {
                c.psu = Some(psu.to_string());
            }
            if ok {
                if matches!(c.status, ConsentStatus::Received | ConsentStatus::Valid) {
                    c.status = ConsentStatus::Valid;
                    c.sca_at = Some(now);
                }
            } else if c.status == ConsentStatus::Received {
                c.status = ConsentStatus::Rejected;
            }
            c.last_action_date = today;
            ok
        })
    }

    /// Starts an authorisation.
    pub fn start_authorisation(
        &self,
        bank: Bank,
        consent_id: &str,
        method: ScaMethod,
        psu: Option<String>,
        redirect_uri: Option<String>,
    ) -> Result<String, ApiError> {
        let consent = self.consent(bank, consent_id)?;
        if consent.status != ConsentStatus::Received {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "CONSENT_INVALID",
                format!(
                    "Consent is {}; it cannot be authorised.",
                    consent.status.bg()
                ),
            ));
        }
        let id = self.store().new_id();
        let psu = psu.or(consent.psu);
        self.update_consent(bank, consent_id, |c| {
            if c.authorisations.len() >= MAX_AUTHORISATIONS {
                c.authorisations.remove(0);
            }
            c.authorisations.push(Authorisation {
                id: id.clone(),
                method,
                status: ScaStatus::Started,
                polls: 0,
                psu,
                redirect_uri,
            })
        })?;
        Ok(id)
    }

    /// Polls a decoupled authorisation (or reads a redirect one's status).
    pub fn poll_authorisation(
        &self,
        bank: Bank,
        consent_id: &str,
        auth_id: &str,
    ) -> Result<ScaStatus, ApiError> {
        let pending = self.config.decoupled_pending_polls;
        let (auth, due) = self
            .update_consent(bank, consent_id, |c| {
                let a = c.authorisations.iter_mut().find(|a| a.id == auth_id)?;
                if a.method == ScaMethod::Decoupled && a.status == ScaStatus::Started {
                    a.polls = a.polls.saturating_add(1);
                }
                let due = a.method == ScaMethod::Decoupled
                    && a.status == ScaStatus::Started
                    && a.polls > pending;
                Some((a.clone(), due))
            })?
            .ok_or_else(|| ApiError::resource_unknown("Authorisation"))?;
        if due {
            let psu = auth.psu.clone().unwrap_or_else(|| "private-1".to_string());
            let ok = self.complete_sca(bank, consent_id, Some(auth_id), &psu, true)?;
            return Ok(if ok {
                ScaStatus::Finalised
            } else {
                ScaStatus::Failed
            });
        }
        Ok(auth.status)
    }

    /// Looks up which consent an authorisation id belongs to.
    pub fn consent_of_authorisation(&self, bank: Bank, auth_id: &str) -> Option<String> {
        self.store()
            .consents
            .values()
            .find(|c| c.bank == bank && c.authorisations.iter().any(|a| a.id == auth_id))
            .map(|c| c.id.clone())
    }

    /// The access checks every AIS call goes through (see the crate docs for the rules).
    pub fn ais_access(
        &self,
        bank: Bank,
        consent_id: &str,
        req: AisRequest<'_>,
    ) -> Result<(AisGrant, Option<Account>), ApiError> {
        let consent = self.consent_for(bank, consent_id, req.client_id)?;
        match consent.status {
            ConsentStatus::Valid => {}
            ConsentStatus::Expired => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "CONSENT_EXPIRED",
                    "The consent has expired.",
                ));
            }
            other => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "CONSENT_INVALID",
                    format!("The consent is {}, not valid.", other.bg()),
                ));
            }
        }
        let psu = consent.psu.clone().unwrap_or_default();
        let account = self.requested_account(bank, &consent, &psu, &req)?;
        if let Some(from) = req.date_from {
            let limit = self
                .clock
                .today()
                .checked_sub_days(Days::new(FREE_HISTORY_DAYS))
                .unwrap_or(from);
            if from < limit {
                let fresh = consent
                    .sca_at
                    .is_some_and(|t| (self.clock.now() - t).num_seconds() <= FRESH_SCA_WINDOW_SECS);
                if !fresh {
                    return Err(ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "SCA_REQUIRED",
                        format!(
                            "dateFrom more than {FREE_HISTORY_DAYS} days back needs an SCA less than one hour old."
                        ),
                    ));
                }
            }
        }
        if !req.psu_present && !req.continuation {
            self.count_unattended(bank, consent_id)?;
        }
        Ok((
            AisGrant {
                consent_id: consent.id,
                psu,
            },
            account,
        ))
    }

    /// The account `req` names, when the consent reaches it for the request's service.
    fn requested_account(
        &self,
        bank: Bank,
        consent: &Consent,
        psu: &str,
        req: &AisRequest<'_>,
    ) -> Result<Option<Account>, ApiError> {
        let Some(id) = req.account_id else {
            return Ok(None);
        };
        let kind = if req.card {
            fixtures::AccountKind::Card
        } else {
            fixtures::AccountKind::Payment
        };
        let acc = self
            .fixtures
            .account(bank, id)
            .filter(|a| a.psu == psu && a.kind == kind && consent_covers(&consent.access, a))
            .ok_or_else(|| ApiError::resource_unknown("Account"))?;
        if !crate::access::allows(&consent.access, acc, req.scope) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "CONSENT_INVALID",
                format!(
                    "The consent does not grant {} of this account.",
                    req.scope.member()
                ),
            ));
        }
        Ok(Some(acc.clone()))
    }

    /// Counts one access without the PSU against `frequencyPerDay`; past it, 429 with
    /// `Retry-After` until the sandbox clock's next midnight (UTC).
    fn count_unattended(&self, bank: Bank, consent_id: &str) -> Result<(), ApiError> {
        let today = self.clock.today();
        let over = self.update_consent(bank, consent_id, |c| {
            c.usage.retain(|day, _| *day == today);
            let n = c.usage.entry(today).or_insert(0);
            if *n >= c.frequency_per_day {
                true
            } else {
                *n += 1;
                false
            }
        })?;
        if !over {
            return Ok(());
        }
        let now = self.clock.now();
        let secs = today
            .checked_add_days(Days::new(1))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|m| (m.and_utc() - now).num_seconds().max(1).unsigned_abs())
            .unwrap_or(3600);
        Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ACCESS_EXCEEDED",
            "The consent's frequencyPerDay for access without the PSU is used up for today.",
        )
        .with_retry_after(secs))
    }
}

/// Whether a consent's `access` object reaches `account` for any service (see
/// [`crate::access::allows`]).
pub fn consent_covers(access: &serde_json::Value, account: &Account) -> bool {
    crate::access::covers(access, account)
}

// Debug output never shows tokens, codes, consent ids or PSU ids.
macro_rules! redacted_debug {
    ($($t:ty => |$v:ident, $f:ident| $body:expr;)*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, $f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let $v = self;
                $body
            }
        }
    )*};
}

redacted_debug! {
    Authorisation => |v, f| f.debug_struct("Authorisation").field("method", &v.method).field("status", &v.status).field("polls", &v.polls).finish_non_exhaustive();
    Consent => |v, f| f.debug_struct("Consent").field("bank", &v.bank).field("status", &v.status).field("valid_until", &v.valid_until).field("frequency_per_day", &v.frequency_per_day).finish_non_exhaustive();
    TokenKind => |v, f| f.write_str(match v { TokenKind::Client => "Client", TokenKind::Consent(_) => "Consent(..)" });
    Token => |v, f| f.debug_struct("Token").field("bank", &v.bank).field("kind", &v.kind).field("expires_at", &v.expires_at).finish_non_exhaustive();
    AuthCode => |v, f| f.debug_struct("AuthCode").field("expires_at", &v.expires_at).finish_non_exhaustive();
    RefreshToken => |v, f| f.debug_struct("RefreshToken").field("rotated_at", &v.rotated_at).finish_non_exhaustive();
    Store => |v, f| f.debug_struct("Store").field("tokens", &v.tokens.len()).field("codes", &v.codes.len()).field("consents", &v.consents.len()).finish_non_exhaustive();
    AisGrant => |_v, f| f.write_str("AisGrant(..)");
    NewConsent => |v, f| f.debug_struct("NewConsent").field("valid_until", &v.valid_until).field("frequency_per_day", &v.frequency_per_day).finish_non_exhaustive();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let state = AppState::new(
            SandboxConfig::default(),
            Arc::new(crate::signature::AcceptAll),
        );
        let (token, _) = state.issue_token(
            Bank::Handelsbanken,
            "client-x",
            TokenKind::Consent("consent-secret".into()),
        );
        let id = state.create_consent(
            Bank::OpenPayments,
            NewConsent {
                client_id: Some("client-x".into()),
                psu: Some("private-1".into()),
                valid_until: state.clock.today(),
                frequency_per_day: 4,
                recurring: true,
                access: serde_json::json!({}),
            },
        );
        let store = state.store();
        let text = format!(
            "{store:?} {:?} {:?}",
            store.tokens.values(state.clock.now()).collect::<Vec<_>>(),
            store.consents.values().collect::<Vec<_>>()
        );
        for secret in [
            token.as_str(),
            id.as_str(),
            "consent-secret",
            "private-1",
            "client-x",
        ] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        assert!(text.contains("Consent(..)"));
    }
}
