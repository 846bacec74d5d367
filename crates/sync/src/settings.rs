//! The rules that differ between banks, as data: [`BankSyncSettings`].
//!
//! The engine has no bank-specific code; every difference it must know about (are ids
//! stable, how far back do bookings appear, which date is "the" date, how is the access
//! limit counted) is a setting here, with [`BankSyncSettings::for_bank`] giving the
//! defaults for the banks this workspace knows.

use serde::{Deserialize, Serialize};

/// How far a bank's own transaction ids can be trusted to recognise an entry again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdStability {
    /// An id, once given to a booked entry, always names that entry (pending entries may
    /// still get a new id on booking).
    Stable,
    /// Ids may be missing, positional (shift when entries are added) or reissued: used
    /// only as a hint after content matching.
    Unreliable,
}

/// Which of a transaction's dates the engine uses for windows, matching and twins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateField {
    /// `bookingDate` (falling back to the value date, then the transaction date).
    Booking,
    /// `valueDate` (falling back to the booking date, then the transaction date).
    Value,
    /// `transactionDate` (falling back to the booking date, then the value date).
    Transaction,
}

/// What the bank counts its `frequencyPerDay` over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetScope {
    /// Per account and resource (transactions, balances, ...): the Berlin Group reading.
    AccountResource,
    /// Per account, all resources together.
    Account,
    /// Per consent, all accounts and resources together.
    Consent,
}

/// The sync rules of one bank. Every field has a default (see [`Default`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", default)]
pub struct BankSyncSettings {
    /// How far the bank's ids can be trusted.
    pub ids: IdStability,
    /// Days re-read before the latest booked date on later syncs (banks back-date bookings).
    pub overlap_days: u32,
    /// Which date is the entry's date.
    pub date_field: DateField,
    /// A booked entry matches an open pending one if its date is at most this many days
    /// after (or before) the pending entry's date.
    pub matching_days: u32,
    /// Days of history the first sync reads (the consent's allowance).
    pub history_days: u32,
    /// What the access limit is counted over.
    pub budget_scope: BudgetScope,
    /// The bank's day boundary as minutes east of UTC (0: the UTC day).
    pub day_offset_minutes: i32,
    /// Whether failed calls (errors, no answer) do not count against the limit.
    pub failed_calls_free: bool,
    /// Whether every page of a transaction listing counts against the limit. By default
    /// (`false`, the Berlin Group reading) only a listing's first request counts: a request
    /// that carries the bank's continuation (a next link or continuation key, also when a
    /// listing interrupted earlier is resumed) is not a new access.
    pub count_continuation_pages: bool,
    /// Unattended calls per day assumed when the consent does not say.
    pub default_frequency_per_day: u32,
    /// Days before `validUntil` when `consent_expiring` is emitted.
    pub expiring_days: u32,
    /// Syncs per day the scheduler aims for (spaced evenly over the day).
    pub syncs_per_day: u32,
}

impl Default for BankSyncSettings {
    fn default() -> Self {
        Self {
            ids: IdStability::Unreliable,
            overlap_days: 7,
            date_field: DateField::Booking,
            matching_days: 5,
            history_days: 90,
            budget_scope: BudgetScope::AccountResource,
            day_offset_minutes: 0,
            failed_calls_free: false,
            count_continuation_pages: false,
            default_frequency_per_day: 4,
            expiring_days: 7,
            syncs_per_day: 4,
        }
    }
}

impl BankSyncSettings {
    /// The defaults for a bank adapter by its name; unknown banks get [`Default`].
    ///
    /// All banks here keep the conservative defaults (ids treated as unreliable, counted per
    /// account and resource by the UTC day); a deployment that knows better sets them in its
    /// configuration.
    pub fn for_bank(bank: &str) -> Self {
        let _ = bank;
        Self::default()
    }

    /// The settings with every number clamped to a usable range (a configuration file may
    /// hold anything): at least one call and one sync per day, day offset within ±14 h.
    pub fn sanitized(mut self) -> Self {
        self.default_frequency_per_day = self.default_frequency_per_day.max(1);
        self.syncs_per_day = self.syncs_per_day.clamp(1, 96);
        self.day_offset_minutes = self.day_offset_minutes.clamp(-14 * 60, 14 * 60);
        self.history_days = self.history_days.min(3660);
        self.overlap_days = self.overlap_days.min(366);
        self.matching_days = self.matching_days.min(366);
        self.expiring_days = self.expiring_days.min(366);
        self
    }
}

impl BankSyncSettings {
    /// The settings a registry bank's profile implies, on top of [`Default`]: ids trusted
    /// only when the bank keeps an entry's id from pending to booked, its date filter as the
    /// entry's date, its history allowance for the first sync and its largest
    /// `frequencyPerDay` as the assumed daily budget.
    pub fn from_profile(profile: &psd2_registry::BankProfile) -> Self {
        let rules = &profile.transactions;
        Self {
            ids: if rules.ids_stable_across_booking {
                IdStability::Stable
            } else {
                IdStability::Unreliable
            },
            date_field: match rules.date_filter {
                psd2_registry::DateField::BookingDate => DateField::Booking,
                psd2_registry::DateField::ValueDate => DateField::Value,
            },
            history_days: rules.history_days,
            default_frequency_per_day: profile.consent.max_frequency_per_day,
            ..Self::default()
        }
        .sanitized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_profile_sets_ids_dates_history_and_budget() {
        let registry = psd2_registry::Registry::embedded().unwrap();
        let swedbank = registry.find("swedbank").unwrap();
        let s = BankSyncSettings::from_profile(&swedbank.profile);
        // registry/swedbank.toml: ids kept on booking, booking date, 730 days, 4 a day.
        assert_eq!(s.ids, IdStability::Stable);
        assert_eq!(s.date_field, DateField::Booking);
        assert_eq!(s.history_days, 730);
        assert_eq!(s.default_frequency_per_day, 4);
        let mut changing = swedbank.profile.clone();
        changing.transactions.ids_stable_across_booking = false;
        changing.transactions.date_filter = psd2_registry::DateField::ValueDate;
        let s = BankSyncSettings::from_profile(&changing);
        assert_eq!(s.ids, IdStability::Unreliable);
        assert_eq!(s.date_field, DateField::Value);
    }

    #[test]
    fn partial_config_keeps_defaults() {
        let s: BankSyncSettings =
            serde_json::from_str(r#"{"ids":"stable","overlap_days":3}"#).unwrap();
        assert_eq!(s.ids, IdStability::Stable);
        assert_eq!(s.overlap_days, 3);
        assert_eq!(s.history_days, 90);
        assert_eq!(s.expiring_days, 7);
    }

    #[test]
    fn sanitized_clamps_outside_values() {
        let s = BankSyncSettings {
            default_frequency_per_day: 0,
            syncs_per_day: 0,
            day_offset_minutes: i32::MIN,
            ..BankSyncSettings::default()
        }
        .sanitized();
        assert_eq!(s.default_frequency_per_day, 1);
        assert_eq!(s.syncs_per_day, 1);
        assert_eq!(s.day_offset_minutes, -840);
    }
}
