//! Churn: the ways real banks change a transaction list from one day to the next.
//!
//! Switched on per bank (`POST /admin/churn` or [`crate::RunningSandbox::set_churn`]), churn
//! adds new activity to every payment account for each sandbox day after it was switched
//! on (the day moves with `/admin/clock`), following the chosen scenarios:
//!
//! | scenario | what the bank does |
//! |---|---|
//! | `pending_rebooked_new_id` | an entry shows as pending, is booked the next day under a new id |
//! | `pending_cancelled` | a pending entry disappears the next day without being booked |
//! | `amount_changes_on_booking` | a pending entry is booked the next day with another amount |
//! | `backdated` | a booking appears today dated 1 to 3 days back, first of its day |
//! | `twins` | two identical entries (same day, amount, counterparty, text) |
//! | `no_ids` | no `transactionId`/`entryReference` on any entry |
//! | `positional_ids` | ids are `<bookingDate>-<position in the day>`; an entry added earlier in a day shifts them |
//! | `reissued_ids` | every 3 days the bank gives every entry a new id |
//!
//! Everything is a pure function of the churn seed, the bank, the account and the day, so a
//! replay gives the same data. The sandbox keeps the ground truth ([`Truth`]): the booked
//! history as it really is, each entry with a stable `truthId`, and the open pending entries.

mod ledger;
mod truth;
mod view;

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config::Bank;
use crate::fixtures::{AccountKind, Fixtures};

pub use truth::{Truth, TruthAccount, TruthEntry, TruthQuery};
pub use view::ChurnView;

use ledger::BankChurn;

/// Most new entries per account and day.
pub const MAX_PER_DAY: u32 = 100;
/// Most days of activity generated per bank; a longer jump generates only the last ones.
pub const MAX_CHURN_DAYS: i64 = 400;
/// How often (in days) `reissued_ids` gives every entry a new id.
pub const REISSUE_EVERY_DAYS: i64 = 3;

/// One way a bank changes its transaction list (JSON: snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnScenario {
    /// Pending today, booked tomorrow under a new id.
    PendingRebookedNewId,
    /// No ids at all.
    NoIds,
    /// Ids are the booking date and the position in the day.
    PositionalIds,
    /// Every entry gets a new id every few days.
    ReissuedIds,
    /// Two identical entries on one day.
    Twins,
    /// Bookings dated a few days back.
    Backdated,
    /// A pending entry that goes away unbooked.
    PendingCancelled,
    /// A pending entry booked with another amount.
    AmountChangesOnBooking,
}

impl ChurnScenario {
    /// All scenarios, in a fixed order.
    pub const ALL: [ChurnScenario; 8] = [
        ChurnScenario::PendingRebookedNewId,
        ChurnScenario::NoIds,
        ChurnScenario::PositionalIds,
        ChurnScenario::ReissuedIds,
        ChurnScenario::Twins,
        ChurnScenario::Backdated,
        ChurnScenario::PendingCancelled,
        ChurnScenario::AmountChangesOnBooking,
    ];
}

fn default_per_day() -> u32 {
    4
}

/// What `POST /admin/churn` takes (camelCase JSON).
///
/// ```json
/// {"bank": "swedbank", "scenarios": ["twins", "backdated"], "seed": 7, "perDay": 4}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChurnConfig {
    /// The bank; `None` (JSON `null` or absent) = every bank.
    #[serde(default)]
    pub bank: Option<Bank>,
    /// The scenarios; an empty list switches churn off.
    pub scenarios: Vec<ChurnScenario>,
    /// Seed of the generated activity.
    #[serde(default)]
    pub seed: u64,
    /// New entries per account and day (1 to [`MAX_PER_DAY`], default 4).
    #[serde(default = "default_per_day")]
    pub per_day: u32,
}

impl Default for ChurnConfig {
    fn default() -> Self {
        Self {
            bank: None,
            scenarios: Vec::new(),
            seed: 0,
            per_day: default_per_day(),
        }
    }
}

impl ChurnConfig {
    /// A config for `bank` (or all banks) with `scenarios`, seed 0 and 4 entries a day.
    pub fn new(bank: Option<Bank>, scenarios: impl IntoIterator<Item = ChurnScenario>) -> Self {
        Self {
            bank,
            scenarios: scenarios.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Checks the numbers.
    pub fn validate(&self) -> Result<(), ChurnError> {
        if self.per_day == 0 || self.per_day > MAX_PER_DAY {
            return Err(ChurnError::PerDay(self.per_day));
        }
        Ok(())
    }

    fn has(&self, s: ChurnScenario) -> bool {
        self.scenarios.contains(&s)
    }
}

/// Why a churn request or a truth query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChurnError {
    /// `perDay` out of range.
    #[error("perDay must be between 1 and {MAX_PER_DAY} (got {0})")]
    PerDay(u32),
    /// No such account of that PSU at that bank.
    #[error("no payment account with that id for that PSU at {0}")]
    UnknownAccount(Bank),
    /// No such PSU.
    #[error("unknown PSU")]
    UnknownPsu,
}

/// The churn state of all banks (inside [`crate::state::AppState`]).
#[derive(Debug, Default)]
pub struct Churn {
    banks: Mutex<HashMap<Bank, BankChurn>>,
}

impl Churn {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Bank, BankChurn>> {
        self.banks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Switches churn on (or, with no scenarios, off) for one bank or all, from `today` on.
    /// A bank's earlier churn activity is dropped.
    pub fn set(&self, config: &ChurnConfig, today: NaiveDate) -> Result<(), ChurnError> {
        config.validate()?;
        let banks: Vec<Bank> = match config.bank {
            Some(b) => vec![b],
            None => Bank::ALL.to_vec(),
        };
        let mut map = self.lock();
        for bank in banks {
            if config.scenarios.is_empty() {
                map.remove(&bank);
            } else {
                let mut c = config.clone();
                c.bank = Some(bank);
                map.insert(bank, BankChurn::new(c, today));
            }
        }
        Ok(())
    }

    /// The active configs, one per bank with churn on.
    pub fn configs(&self) -> Vec<ChurnConfig> {
        let map = self.lock();
        Bank::ALL
            .iter()
            .filter_map(|b| map.get(b).map(|c| c.config.clone()))
            .collect()
    }

    /// Whether any churn is on for `bank` (cheap; the transaction path asks it first).
    pub fn is_on(&self, bank: Bank) -> bool {
        self.lock().contains_key(&bank)
    }

    /// The churn of `account` as of `today`, for building a page; `None` when churn is off
    /// for the bank or the account is not a payment account.
    pub fn view(
        &self,
        fixtures: &Fixtures,
        bank: Bank,
        account_id: &str,
        today: NaiveDate,
    ) -> Option<ChurnView> {
        let account = fixtures.account(bank, account_id)?;
        if account.kind != AccountKind::Payment {
            return None;
        }
        let mut map = self.lock();
        let bc = map.get_mut(&bank)?;
        bc.catch_up(fixtures, today);
        Some(bc.view(account, today))
    }

    /// What churn adds to `account`'s balances as of `today`: (booked, pending) sums;
    /// zero when churn is off.
    pub fn balance_deltas(
        &self,
        fixtures: &Fixtures,
        bank: Bank,
        account_id: &str,
        today: NaiveDate,
    ) -> (Decimal, Decimal) {
        if !self.is_on(bank) {
            return (Decimal::ZERO, Decimal::ZERO);
        }
        self.view(fixtures, bank, account_id, today)
            .map(|v| v.sums())
            .unwrap_or((Decimal::ZERO, Decimal::ZERO))
    }

    /// The ground truth for `query` as of `today`.
    pub fn truth(
        &self,
        fixtures: &Fixtures,
        query: &TruthQuery,
        today: NaiveDate,
    ) -> Result<Truth, ChurnError> {
        let psu = crate::fixtures::psu(&query.psu).ok_or(ChurnError::UnknownPsu)?;
        let accounts: Vec<_> = fixtures
            .accounts_of(query.bank, psu.id, AccountKind::Payment)
            .into_iter()
            .filter(|a| {
                query
                    .account
                    .as_deref()
                    .is_none_or(|id| a.resource_id == id)
            })
            .collect();
        if accounts.is_empty() {
            return Err(ChurnError::UnknownAccount(query.bank));
        }
        let views: Vec<Option<ChurnView>> = {
            let mut map = self.lock();
            match map.get_mut(&query.bank) {
                Some(bc) => {
                    bc.catch_up(fixtures, today);
                    accounts.iter().map(|a| Some(bc.view(a, today))).collect()
                }
                None => accounts.iter().map(|_| None).collect(),
            }
        };
        Ok(truth::build(fixtures, query, today, &accounts, &views))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_jump_keeps_the_activity_bounded() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default();
        let fixtures = Fixtures::new(1, today, 100);
        let churn = Churn::default();
        let config = ChurnConfig {
            bank: Some(Bank::Swedbank),
            scenarios: ChurnScenario::ALL.to_vec(),
            seed: 1,
            per_day: 20,
        };
        assert_eq!(churn.set(&config, today), Ok(()));
        let later = today + chrono::Days::new(1_000);
        let query = TruthQuery {
            bank: Bank::Swedbank,
            psu: "private-1".to_string(),
            account: None,
            date_from: None,
        };
        let truth = churn.truth(&fixtures, &query, later);
        let Ok(truth) = truth else {
            panic!("no truth: {truth:?}");
        };
        for a in &truth.accounts {
            let churned = a
                .booked
                .iter()
                .filter(|e| e.truth_id.starts_with("churn-"))
                .count()
                + a.pending
                    .iter()
                    .filter(|e| e.truth_id.starts_with("churn-"))
                    .count()
                + a.cancelled.len();
            // 400 days at 20 a day were generated; the oldest rolled off.
            let max = ledger::MAX_ENTRIES_PER_ACCOUNT;
            assert!((max..=max + max / 4).contains(&churned), "{churned}");
            let oldest = a
                .booked
                .iter()
                .filter(|e| e.truth_id.starts_with("churn-"))
                .filter_map(|e| e.booking_date)
                .min();
            assert!(oldest.is_some_and(|d| d > later - chrono::Days::new(400)));
        }
        assert_eq!(
            ChurnConfig {
                per_day: 0,
                ..config.clone()
            }
            .validate(),
            Err(ChurnError::PerDay(0))
        );
    }
}
