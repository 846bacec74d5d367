//! The consent's life: what the sync concludes from the consent's status, its
//! `validUntil` and the errors of its calls, and which events it emits.
//!
//! - `consent_expiring`: once per `validUntil`, when it is at most `expiring_days` away;
//! - `consent_expired`: `validUntil` has passed, or the bank says expired;
//! - `reauth_required`: the bank wants SCA again, or calls the consent invalid or unknown,
//!   or refuses the token;
//! - `access_revoked`: revoked by the PSU or terminated;
//! - `sync_failed`: any other error, with its kind.
//!
//! A connection in any state but `active` is not synced until it is authorised again.

use chrono::{DateTime, NaiveDate, Utc};
use psd2::{ConsentStatus, ErrorKind};

use crate::model::{Connection, ConnectionState, EventKind, NewEvent};

/// What a connection's consent state implies now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The connection's state from now on.
    pub state: ConnectionState,
    /// Events to emit.
    pub events: Vec<NewEvent>,
    /// The `valid_until` an expiring notice is emitted for now (to remember).
    pub expiring_notice_for: Option<NaiveDate>,
}

fn event(connection: &Connection, kind: EventKind, at: DateTime<Utc>, detail: String) -> NewEvent {
    NewEvent {
        connection: connection.id.clone(),
        account: None,
        kind,
        at,
        error_kind: None,
        detail,
    }
}

/// Checks the connection's consent (status and `valid_until` as stored) on `today`.
pub fn check_consent(connection: &Connection, today: NaiveDate, now: DateTime<Utc>) -> Verdict {
    let consent = &connection.consent;
    let mut verdict = Verdict {
        state: connection.state.clone(),
        events: Vec::new(),
        expiring_notice_for: consent.expiring_notice_for,
    };
    let status_state = match &consent.status {
        ConsentStatus::Valid => None,
        ConsentStatus::Expired => Some((ConnectionState::Expired, EventKind::ConsentExpired)),
        ConsentStatus::RevokedByPsu | ConsentStatus::TerminatedByTpp => {
            Some((ConnectionState::Revoked, EventKind::AccessRevoked))
        }
        _ => Some((ConnectionState::ReauthRequired, EventKind::ReauthRequired)),
    };
    if let Some((state, kind)) = status_state {
        if verdict.state != state {
            let detail = format!("consent status {}", consent.status.as_str());
            verdict.events.push(event(connection, kind, now, detail));
        }
        verdict.state = state;
        return verdict;
    }
    let Some(valid_until) = consent.valid_until else {
        return verdict;
    };
    if valid_until < today {
        if verdict.state != ConnectionState::Expired {
            let detail = format!("valid until {valid_until}");
            verdict
                .events
                .push(event(connection, EventKind::ConsentExpired, now, detail));
        }
        verdict.state = ConnectionState::Expired;
        return verdict;
    }
    let days_left = (valid_until - today).num_days();
    let within = days_left <= i64::from(connection.settings.expiring_days);
    if within && consent.expiring_notice_for != Some(valid_until) {
        let detail = format!("valid until {valid_until} ({days_left} days left)");
        verdict
            .events
            .push(event(connection, EventKind::ConsentExpiring, now, detail));
        verdict.expiring_notice_for = Some(valid_until);
    }
    verdict
}

/// What an error of a sync call means for the connection: its new state (`None`: stays
/// active) and the event.
pub fn classify_error(
    connection: &Connection,
    kind: &ErrorKind,
    now: DateTime<Utc>,
) -> (Option<ConnectionState>, NewEvent) {
    let (state, event_kind) = match kind {
        ErrorKind::ConsentExpired => (Some(ConnectionState::Expired), EventKind::ConsentExpired),
        ErrorKind::ConsentRevoked => (Some(ConnectionState::Revoked), EventKind::AccessRevoked),
        ErrorKind::ConsentInvalid
        | ErrorKind::ConsentUnknown
        | ErrorKind::Unauthorized
        | ErrorKind::ScaFailed
        | ErrorKind::ScaRejected => (
            Some(ConnectionState::ReauthRequired),
            EventKind::ReauthRequired,
        ),
        ErrorKind::AccessExceeded { .. } => (None, EventKind::BudgetExhausted),
        _ => (None, EventKind::SyncFailed),
    };
    let mut event = event(connection, event_kind, now, format!("error: {kind}"));
    event.error_kind = Some(kind.to_string());
    (state, event)
}
