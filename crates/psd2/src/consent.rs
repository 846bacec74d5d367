//! Consents: the PSU's permission for account access, and how to ask for one.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::account::IbanOrRaw;
use crate::macros::bank_enum;
pub use crate::secret::ConsentId;

bank_enum! {
    /// A consent's status. Berlin Group camelCase and Handelsbanken's upper snake case
    /// (`REVOKED_BY_PSU`) both parse, case-insensitively.
    pub enum ConsentStatus {
        /// Created, not yet authorised.
        Received = "received",
        /// The PSU or bank rejected it.
        Rejected = "rejected",
        /// Authorised and usable.
        Valid = "valid",
        /// Revoked by the PSU.
        RevokedByPsu = "revokedByPsu",
        /// Past its `validUntil` date.
        Expired = "expired",
        /// Terminated (deleted) by the TPP.
        TerminatedByTpp = "terminatedByTpp",
        /// Authorised by some but not all required PSUs.
        PartiallyAuthorised = "partiallyAuthorised",
    }
}

impl ConsentStatus {
    /// Whether account data can be read with the consent.
    pub fn is_usable(&self) -> bool {
        matches!(self, Self::Valid)
    }

    /// Whether the status can no longer change (rejected, revoked, expired, terminated).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Rejected | Self::RevokedByPsu | Self::Expired | Self::TerminatedByTpp
        )
    }
}

/// A consent as the bank reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Consent {
    /// The consent's id (a secret: redacted in `Debug` and `Serialize`; see [`ConsentId`]).
    pub id: ConsentId,
    /// Current status.
    pub status: ConsentStatus,
    /// Last day the consent is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    /// Allowed accesses per day without the PSU present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_per_day: Option<u32>,
    /// Whether access is recurring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring: Option<bool>,
    /// Last date the consent was used or changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_action_date: Option<NaiveDate>,
}

impl Consent {
    /// A consent with id and status only; set the other fields directly.
    pub fn new(id: ConsentId, status: ConsentStatus) -> Self {
        Self {
            id,
            status,
            valid_until: None,
            frequency_per_day: None,
            recurring: None,
            last_action_date: None,
        }
    }

    /// Whether account data can be read with the consent on `today`: its status is `valid`
    /// and its `valid_until` (when known) has not passed. A bank may still report `valid`
    /// for a consent past its last day; that consent is not usable.
    pub fn is_usable_on(&self, today: NaiveDate) -> bool {
        self.status.is_usable() && self.valid_until.is_none_or(|last| today <= last)
    }
}

/// Which accounts a consent request covers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ConsentScope {
    /// All the PSU's accounts (Handelsbanken `ALL_ACCOUNTS`, Berlin Group `allPsd2` /
    /// `availableAccounts` / an empty `access`).
    #[default]
    AllAccounts,
    /// Only these accounts (by IBAN).
    Accounts(Vec<IbanOrRaw>),
}

/// A request for a new consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConsentRequest {
    /// Which accounts.
    pub scope: ConsentScope,
    /// Last valid day; `None` lets the bank choose its maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    /// Accesses per day without the PSU present (Berlin Group default 4).
    pub frequency_per_day: u32,
    /// Recurring access (true) or one-off (false).
    pub recurring: bool,
    /// Ask for balances.
    pub with_balances: bool,
    /// Ask for transactions.
    pub with_transactions: bool,
}

impl ConsentRequest {
    /// All accounts, recurring, 4 times a day, with balances and transactions.
    pub fn all_accounts() -> Self {
        Self {
            scope: ConsentScope::AllAccounts,
            valid_until: None,
            frequency_per_day: 4,
            recurring: true,
            with_balances: true,
            with_transactions: true,
        }
    }

    /// Only the given accounts, otherwise like [`ConsentRequest::all_accounts`].
    pub fn accounts(ibans: Vec<IbanOrRaw>) -> Self {
        Self {
            scope: ConsentScope::Accounts(ibans),
            ..Self::all_accounts()
        }
    }

    /// Sets the last valid day.
    pub fn valid_until(mut self, date: NaiveDate) -> Self {
        self.valid_until = Some(date);
        self
    }

    /// Sets the accesses per day.
    pub fn frequency_per_day(mut self, frequency: u32) -> Self {
        self.frequency_per_day = frequency;
        self
    }

    /// Sets recurring or one-off access.
    pub fn recurring(mut self, recurring: bool) -> Self {
        self.recurring = recurring;
        self
    }

    /// Sets whether balances and transactions are asked for.
    pub fn with_data(mut self, balances: bool, transactions: bool) -> Self {
        self.with_balances = balances;
        self.with_transactions = transactions;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_consent_past_its_last_day_is_not_usable() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let mut c = Consent::new(ConsentId::new("c"), ConsentStatus::Valid);
        assert!(c.is_usable_on(day(2)), "no end date known");
        c.valid_until = Some(day(1));
        assert!(c.is_usable_on(day(1)), "the last day itself");
        assert!(!c.is_usable_on(day(2)));
        c.status = ConsentStatus::Received;
        assert!(!c.is_usable_on(day(1)));
    }
    use proptest::prelude::*;

    #[test]
    fn statuses_parse_both_spellings() {
        assert_eq!(
            ConsentStatus::from_bank_str("revokedByPsu"),
            ConsentStatus::RevokedByPsu
        );
        assert_eq!(
            ConsentStatus::from_bank_str("REVOKED_BY_PSU"),
            ConsentStatus::RevokedByPsu
        );
        assert_eq!(
            ConsentStatus::from_bank_str("RECEIVED"),
            ConsentStatus::Received
        );
        assert_eq!(
            ConsentStatus::from_bank_str("TERMINATED_BY_TPP"),
            ConsentStatus::TerminatedByTpp
        );
        assert_eq!(
            ConsentStatus::from_bank_str("PARTIALLY_AUTHORISED"),
            ConsentStatus::PartiallyAuthorised
        );
        assert_eq!(ConsentStatus::from_bank_str("VALID"), ConsentStatus::Valid);
        assert_eq!(ConsentStatus::Valid.as_str(), "valid");
        assert!(ConsentStatus::Valid.is_usable());
        assert!(ConsentStatus::Expired.is_final());
        assert!(!ConsentStatus::Received.is_final());
    }

    #[test]
    fn consent_debug_and_json_hide_the_id() {
        let secret = "70c6d203-e1d1-43ff-9e42-07e5dda640ba";
        let c = Consent::new(ConsentId::new(secret), ConsentStatus::Received);
        assert!(!format!("{c:?}").contains(secret));
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains(secret), "{json}");
        assert_eq!(c.id.expose(), secret);
    }

    #[test]
    fn request_builders() {
        let r = ConsentRequest::all_accounts()
            .valid_until(NaiveDate::from_ymd_opt(2099, 12, 31).unwrap())
            .frequency_per_day(1)
            .recurring(false)
            .with_data(true, false);
        assert_eq!(r.scope, ConsentScope::AllAccounts);
        assert_eq!(r.frequency_per_day, 1);
        assert!(!r.recurring && r.with_balances && !r.with_transactions);
        let r = ConsentRequest::accounts(vec![IbanOrRaw::parse("SE4550000000058398257466")]);
        assert!(matches!(r.scope, ConsentScope::Accounts(ref v) if v.len() == 1));
    }

    proptest! {
        #[test]
        fn unknown_statuses_are_kept(text in "[a-zA-Z_]{1,24}") {
            let s = ConsentStatus::from_bank_str(&text);
            if s.is_other() {
                prop_assert_eq!(s.as_str(), text.as_str());
            }
        }
    }
}
