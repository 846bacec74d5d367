//! The ground truth: what an account's history really is, for tests to compare with.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ChurnView;
use super::ledger::State;
use crate::config::Bank;
use crate::fixtures::{Account, Fixtures};

/// What [`super::Churn::truth`] (and `GET /admin/truth`) is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruthQuery {
    /// The bank.
    pub bank: Bank,
    /// The PSU (`private-1`, ...).
    pub psu: String,
    /// One payment account (resource id); `None` = all of the PSU's payment accounts.
    #[serde(default)]
    pub account: Option<String>,
    /// Only booked entries booked on or after this day (default: the whole history).
    #[serde(default)]
    pub date_from: Option<NaiveDate>,
}

/// One entry of the truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruthEntry {
    /// Stable id of the entry (survives pending → booked, new bank ids, no ids).
    pub truth_id: String,
    /// `booked`, `pending` or `cancelled`.
    pub status: String,
    /// Signed amount (booked amount once booked).
    pub amount: Decimal,
    /// ISO 4217 currency.
    pub currency: String,
    /// Booking date (booked entries).
    pub booking_date: Option<NaiveDate>,
    /// Value / transaction date.
    pub value_date: NaiveDate,
    /// The id the bank shows for it today (`None` when it shows none).
    pub transaction_id: Option<String>,
    /// Counterparty name.
    pub counterparty: String,
    /// Remittance text.
    pub remittance: String,
}

/// The truth of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruthAccount {
    /// The account's resource id.
    pub resource_id: String,
    /// IBAN.
    pub iban: Option<String>,
    /// Currency.
    pub currency: String,
    /// Booked history, oldest first (in the bank's order within a day).
    pub booked: Vec<TruthEntry>,
    /// Pending entries still open, oldest first.
    pub pending: Vec<TruthEntry>,
    /// Pending entries that went away unbooked.
    pub cancelled: Vec<TruthEntry>,
}

/// The ground truth for one PSU at one bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Truth {
    /// The bank.
    pub bank: Bank,
    /// The PSU.
    pub psu: String,
    /// The sandbox day it describes.
    pub today: NaiveDate,
    /// Per account.
    pub accounts: Vec<TruthAccount>,
}

fn entry(t: &crate::fixtures::Txn, truth_id: String, status: &str) -> TruthEntry {
    TruthEntry {
        truth_id,
        status: status.to_string(),
        amount: t.amount,
        currency: t.currency.to_string(),
        booking_date: t.booking_date,
        value_date: t.value_date,
        transaction_id: (!t.id.is_empty()).then(|| t.id.clone()),
        counterparty: t.counterparty.clone(),
        remittance: t.remittance.clone(),
    }
}

fn account_truth(
    fixtures: &Fixtures,
    query: &TruthQuery,
    a: &Account,
    view: Option<&ChurnView>,
) -> TruthAccount {
    let from = query
        .date_from
        .map(|d| a.first_booked_on_or_after(fixtures, d))
        .unwrap_or(0);
    let base = |i: u64| match view {
        Some(v) => v.base_txn(fixtures, a, i),
        None => a.transaction(fixtures, i),
    };
    // (date, slot, entry): base entries have slots 0.. within their day.
    let mut booked: Vec<(NaiveDate, i64, TruthEntry)> = (from..a.booked_count())
        .map(|i| {
            let t = base(i);
            (t.value_date, 0, entry(&t, format!("base-{i}"), "booked"))
        })
        .collect();
    let mut pending: Vec<TruthEntry> = (a.booked_count()..a.history)
        .map(|i| entry(&base(i), format!("base-{i}"), "pending"))
        .collect();
    let mut cancelled = Vec::new();
    if let Some(v) = view {
        for e in v.entries() {
            let t = v.churn_txn(fixtures, a, e);
            match e.state {
                State::Booked => {
                    if query.date_from.is_none_or(|d| e.booking_date >= d) {
                        booked.push((
                            e.booking_date,
                            e.slot,
                            entry(&t, e.truth_id.clone(), "booked"),
                        ));
                    }
                }
                State::Pending => pending.push(entry(&t, e.truth_id.clone(), "pending")),
                State::Cancelled(_) => {
                    cancelled.push(entry(&t, e.truth_id.clone(), "cancelled"));
                }
            }
        }
    }
    // Stable sort: base entries keep their index order within a day.
    booked.sort_by_key(|(d, s, _)| (*d, *s));
    TruthAccount {
        resource_id: a.resource_id.clone(),
        iban: a.iban.clone(),
        currency: a.currency.to_string(),
        booked: booked.into_iter().map(|(_, _, e)| e).collect(),
        pending,
        cancelled,
    }
}

pub(super) fn build(
    fixtures: &Fixtures,
    query: &TruthQuery,
    today: NaiveDate,
    accounts: &[&Account],
    views: &[Option<ChurnView>],
) -> Truth {
    Truth {
        bank: query.bank,
        psu: query.psu.clone(),
        today,
        accounts: accounts
            .iter()
            .zip(views)
            .map(|(a, v)| account_truth(fixtures, query, a, v.as_ref()))
            .collect(),
    }
}
