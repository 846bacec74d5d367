//! The matcher: one account's listing, page by page, against the stored entries.

use std::collections::HashMap;

use chrono::NaiveDate;
use psd2::{AccountId, Transaction, TransactionStatus};
use rust_decimal::Decimal;

use super::{
    bank_id, comparable, counterparty, entry_date, fingerprint, remittance, same_movement,
};
use crate::model::{ConnectionId, StoredTransaction, TxKey};
use crate::settings::{BankSyncSettings, IdStability};

/// What matching made of one listed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not seen before: a new key.
    Added,
    /// A stored entry that changed (status, amount, dates, details).
    Modified,
    /// A stored entry, unchanged (its row is still rewritten to mark it listed).
    Unchanged,
}

/// One listed entry after matching: the row to store and what happened.
#[derive(Debug, Clone)]
pub struct Matched {
    /// The row to write (insert or replace by key).
    pub row: StoredTransaction,
    /// What happened.
    pub outcome: Outcome,
}

/// Facts of one listed entry computed once.
struct Listed {
    tx: Transaction,
    date: Option<NaiveDate>,
    fingerprint: String,
    bank_id: Option<String>,
}

/// Matches one account's listing against its stored entries (see the module rules in
/// [`crate::identity`]). Keeps every stored entry of the window in memory, plus the ones
/// this listing added.
#[derive(Debug)]
pub struct Matcher {
    connection: ConnectionId,
    account: AccountId,
    settings: BankSyncSettings,
    listing_id: String,
    rows: Vec<StoredTransaction>,
    claimed: Vec<bool>,
    /// Row indexes by fingerprint (any status; callers filter by status).
    by_fingerprint: HashMap<String, Vec<usize>>,
    /// Row indexes by the bank's id (any status; callers filter by status).
    by_id: HashMap<String, Vec<usize>>,
    next_occurrence: HashMap<String, u32>,
    /// Indexes of stored pending rows not claimed at the start (fuzzy candidates).
    open_pending: Vec<usize>,
}

impl Matcher {
    /// A matcher for one listing (`listing_id`) over `stored`, the account's stored entries
    /// in the window plus its open pending ones. Rows already marked with `listing_id` (a
    /// resumed listing) count as claimed.
    pub fn new(
        connection: ConnectionId,
        account: AccountId,
        settings: BankSyncSettings,
        listing_id: String,
        stored: Vec<StoredTransaction>,
    ) -> Self {
        let mut matcher = Self {
            connection,
            account,
            settings,
            listing_id,
            rows: Vec::with_capacity(stored.len()),
            claimed: Vec::with_capacity(stored.len()),
            by_fingerprint: HashMap::new(),
            by_id: HashMap::new(),
            next_occurrence: HashMap::new(),
            open_pending: Vec::new(),
        };
        let mut stored: Vec<StoredTransaction> =
            stored.into_iter().filter(|row| !row.removed).collect();
        stored.sort_by_key(|row| row.occurrence);
        for row in stored {
            let claimed = row.last_listing.as_deref() == Some(matcher.listing_id.as_str());
            if !claimed && row.status == TransactionStatus::Pending {
                matcher.open_pending.push(matcher.rows.len());
            }
            matcher.push(row, claimed);
        }
        matcher
    }

    /// The account.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// Whether a matched row must be written. Everything but an unchanged booked entry
    /// must; an unchanged booked entry only when it has a stored twin (same fingerprint and
    /// status), because a listing resumed after a crash tells twins apart by the listing
    /// id the rows carry. A unique unchanged booking is recognised again from its content
    /// alone, so an incremental sync rewrites only what it must.
    pub fn must_store(&self, matched: &Matched) -> bool {
        if matched.outcome != Outcome::Unchanged || matched.row.status != TransactionStatus::Booked
        {
            return true;
        }
        let status = &matched.row.status;
        self.by_fingerprint
            .get(matched.row.fingerprint.as_str())
            .is_some_and(|rows| self.with_status(rows, status).nth(1).is_some())
    }

    /// The listing's id.
    pub fn listing_id(&self) -> &str {
        &self.listing_id
    }

    fn push(&mut self, row: StoredTransaction, claimed: bool) {
        let index = self.rows.len();
        self.by_fingerprint
            .entry(row.fingerprint.clone())
            .or_default()
            .push(index);
        if let Some(id) = &row.bank_id {
            self.by_id.entry(id.clone()).or_default().push(index);
        }
        let next = self
            .next_occurrence
            .entry(row.fingerprint.clone())
            .or_insert(0);
        *next = (*next).max(row.occurrence.saturating_add(1));
        self.rows.push(row);
        self.claimed.push(claimed);
    }

    fn take_occurrence(&mut self, fingerprint: &str) -> u32 {
        let next = self
            .next_occurrence
            .entry(fingerprint.to_string())
            .or_insert(0);
        let occurrence = *next;
        *next = next.saturating_add(1);
        occurrence
    }

    fn listed(&self, tx: Transaction) -> Listed {
        let date = entry_date(&tx, self.settings.date_field);
        Listed {
            fingerprint: fingerprint(&tx, date),
            bank_id: bank_id(&tx),
            date,
            tx,
        }
    }

    /// Matches one page's entries; returns one [`Matched`] per entry, in page order.
    pub fn match_page(&mut self, entries: Vec<Transaction>) -> Vec<Matched> {
        let listed: Vec<Listed> = entries.into_iter().map(|tx| self.listed(tx)).collect();
        // Pass 1: ids (when stable) and exact content.
        let mut found: Vec<Option<usize>> = listed.iter().map(|l| self.exact(l)).collect();
        // Pass 2: pending to booked, then changed pending entries, for what pass 1 left
        // (booked entries first, so a booking takes its pending entry before a new
        // look-alike pending entry could).
        // Each kind of entry is matched in sweeps of widening rank (same amount, then
        // linked, then alike), so a close match is never taken by a looser one.
        for booked_first in [true, false] {
            for max_rank in 0..=2 {
                for (slot, entry) in found.iter_mut().zip(&listed) {
                    let is_booked = entry.tx.status == TransactionStatus::Booked;
                    if slot.is_none() && is_booked == booked_first {
                        *slot = self.fuzzy(entry, max_rank);
                    }
                }
            }
        }
        listed
            .into_iter()
            .zip(found)
            .map(|(entry, slot)| match slot {
                Some(index) => self.update(index, entry),
                None => self.add(entry),
            })
            .collect()
    }

    /// The rows among `indexes` whose status is `status`.
    fn with_status<'s>(
        &'s self,
        indexes: &'s [usize],
        status: &'s TransactionStatus,
    ) -> impl Iterator<Item = usize> + 's {
        indexes
            .iter()
            .copied()
            .filter(move |&i| self.rows.get(i).is_some_and(|row| &row.status == status))
    }

    /// Whether row `index` is still unclaimed by this listing.
    fn free(&self, index: usize) -> bool {
        !self.claimed.get(index).copied().unwrap_or(true)
    }

    fn claim_first(&mut self, index: Option<usize>) -> Option<usize> {
        let index = index?;
        if let Some(flag) = self.claimed.get_mut(index) {
            *flag = true;
        }
        Some(index)
    }

    fn exact(&mut self, entry: &Listed) -> Option<usize> {
        let status = &entry.tx.status;
        if self.settings.ids == IdStability::Stable
            && let Some(id) = &entry.bank_id
        {
            let found = self
                .by_id
                .get(id.as_str())
                .and_then(|rows| self.with_status(rows, status).find(|&i| self.free(i)));
            if let Some(index) = self.claim_first(found) {
                return Some(index);
            }
        }
        let candidates = self.by_fingerprint.get(entry.fingerprint.as_str())?;
        let free: Vec<usize> = self
            .with_status(candidates, status)
            .filter(|&i| self.free(i))
            .collect();
        // Several free rows of this fingerprint (twins, or entries that differ only in
        // fields outside it, such as the value date): the one equal in every field first,
        // so entries that are not true twins never swap keys.
        let pick = match free.as_slice() {
            [] => return None,
            [only] => *only,
            [first, ..] => {
                let unreliable = self.settings.ids == IdStability::Unreliable;
                let wanted = comparable(&entry.tx, unreliable);
                free.iter()
                    .copied()
                    .find(|&i| {
                        self.rows
                            .get(i)
                            .is_some_and(|row| comparable(&row.transaction, unreliable) == wanted)
                    })
                    .unwrap_or(*first)
            }
        };
        if let Some(flag) = self.claimed.get_mut(pick) {
            *flag = true;
        }
        Some(pick)
    }

    fn fuzzy(&mut self, entry: &Listed, max_rank: u8) -> Option<usize> {
        let is_movement = matches!(
            entry.tx.status,
            TransactionStatus::Booked | TransactionStatus::Pending
        );
        // Nothing to compare with (e.g. a first sync): none of the work below.
        if !is_movement || !self.open_pending.iter().any(|&i| self.free(i)) {
            return None;
        }
        let party = counterparty(&entry.tx);
        let text = remittance(&entry.tx);
        let card_id = card_transaction_id(&entry.tx);
        let reference = entry_reference(&entry.tx);
        // A pending entry only matches a pending one of the same day (its amount changed):
        // a pending look-alike on another day is more likely a new purchase.
        let max_days = if entry.tx.status == TransactionStatus::Pending {
            0
        } else {
            i64::from(self.settings.matching_days)
        };
        // (rank, another purchase day, date distance, amount gap, index): rank 0 same
        // amount, 1 linked, 2 other fields agree; then the same purchase day (value date)
        // first, the closest dates and amounts next.
        let mut best: Option<(u8, bool, i64, Decimal, usize)> = None;
        for &index in &self.open_pending {
            let Some(row) = self.rows.get(index) else {
                continue;
            };
            if self.claimed.get(index).copied().unwrap_or(true)
                || row.status != TransactionStatus::Pending
                || row.currency != entry.tx.amount.currency.as_str()
            {
                continue;
            }
            let distance = match (row.date, entry.date) {
                (Some(a), Some(b)) => (b - a).num_days().abs(),
                (None, None) => 0,
                _ => continue,
            };
            if distance > max_days {
                continue;
            }
            let linked = (entry.bank_id.is_some() && entry.bank_id == row.bank_id)
                || (reference.is_some() && reference == entry_reference(&row.transaction))
                || (card_id.is_some() && card_id == card_transaction_id(&row.transaction));
            let same_fields =
                counterparty(&row.transaction) == party && remittance(&row.transaction) == text;
            let rank = if same_fields && row.amount == entry.tx.amount.amount {
                0
            } else if linked {
                1
            } else if same_fields
                && close_amount(row.amount, entry.tx.amount.amount)
                && same_purchase_day(&row.transaction, &entry.tx)
            {
                2
            } else {
                continue;
            };
            if rank > max_rank {
                continue;
            }
            let gap = row
                .amount
                .checked_sub(entry.tx.amount.amount)
                .map_or(Decimal::MAX, |d| d.abs());
            let other_day = !same_purchase_day(&row.transaction, &entry.tx);
            let candidate = (rank, other_day, distance, gap, index);
            if best.is_none_or(|b| candidate < b) {
                best = Some(candidate);
            }
        }
        let (_, _, _, _, index) = best?;
        if let Some(flag) = self.claimed.get_mut(index) {
            *flag = true;
        }
        Some(index)
    }

    fn update(&mut self, index: usize, mut entry: Listed) -> Matched {
        let unreliable = self.settings.ids == IdStability::Unreliable;
        // A claimed row is never looked at again in this listing, so the row in memory
        // stays as it was stored; only what the new row needs is taken from it.
        let Some(old) = self.rows.get(index) else {
            return self.add(entry);
        };
        let changed = old.status != entry.tx.status
            || !same_movement(&old.transaction, &mut entry.tx, unreliable);
        let same_fingerprint = old.fingerprint == entry.fingerprint;
        let (key, connection, account) =
            (old.key.clone(), old.connection.clone(), old.account.clone());
        let (old_occurrence, last_cursor) = (old.occurrence, old.last_cursor);
        let occurrence = if same_fingerprint {
            old_occurrence
        } else {
            self.take_occurrence(&entry.fingerprint)
        };
        let row = StoredTransaction {
            key,
            connection,
            account,
            bank_id: entry.bank_id,
            status: entry.tx.status.clone(),
            fingerprint: entry.fingerprint,
            occurrence,
            date: entry.date,
            booking_date: entry.tx.booking_date,
            value_date: entry.tx.value_date,
            amount: entry.tx.amount.amount,
            currency: entry.tx.amount.currency.as_str().to_string(),
            transaction: entry.tx,
            removed: false,
            last_listing: Some(self.listing_id.clone()),
            last_cursor,
        };
        Matched {
            row,
            outcome: if changed {
                Outcome::Modified
            } else {
                Outcome::Unchanged
            },
        }
    }

    fn add(&mut self, entry: Listed) -> Matched {
        let occurrence = self.take_occurrence(&entry.fingerprint);
        let row = StoredTransaction {
            key: TxKey::random(),
            connection: self.connection.clone(),
            account: self.account.clone(),
            bank_id: entry.bank_id,
            status: entry.tx.status.clone(),
            fingerprint: entry.fingerprint,
            occurrence,
            date: entry.date,
            booking_date: entry.tx.booking_date,
            value_date: entry.tx.value_date,
            amount: entry.tx.amount.amount,
            currency: entry.tx.amount.currency.as_str().to_string(),
            transaction: entry.tx,
            removed: false,
            last_listing: Some(self.listing_id.clone()),
            last_cursor: 0,
        };
        // A new row is claimed by this listing from the start: it is not kept in memory
        // (the occurrence counter already moved), so a first sync of a long history does not
        // hold it all.
        Matched {
            row,
            outcome: Outcome::Added,
        }
    }

    /// At the end of a complete listing: the stored pending entries it did not list whose
    /// date is on or after `window_from` (or unknown), as rows marked removed.
    pub fn finish(&mut self, window_from: NaiveDate) -> Vec<StoredTransaction> {
        let mut removed = Vec::new();
        for &index in &self.open_pending {
            let claimed = self.claimed.get(index).copied().unwrap_or(true);
            let Some(row) = self.rows.get_mut(index) else {
                continue;
            };
            let in_window = row.date.is_none_or(|d| d >= window_from);
            if !claimed && !row.removed && row.status == TransactionStatus::Pending && in_window {
                row.removed = true;
                row.last_listing = Some(self.listing_id.clone());
                removed.push(row.clone());
            }
        }
        removed
    }
}

fn entry_reference(tx: &Transaction) -> Option<String> {
    tx.entry_reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// Whether a booked amount is a plausible settlement of a pre-authorised one: the same
/// sign and at most a fifth away (fuel, hotel, tips, exchange rates).
fn close_amount(pending: Decimal, booked: Decimal) -> bool {
    if pending.is_sign_negative() != booked.is_sign_negative() {
        return false;
    }
    let allowed = pending.abs().checked_div(Decimal::from(5));
    let difference = pending.checked_sub(booked).map(|d| d.abs());
    matches!((difference, allowed), (Some(d), Some(a)) if d <= a)
}

/// Whether two entries happened on the same day: the value date (else the transaction
/// date) of a settled card payment is the day of the purchase, whenever it is booked.
fn same_purchase_day(pending: &Transaction, booked: &Transaction) -> bool {
    let day = |tx: &Transaction| tx.value_date.or(tx.transaction_date);
    match (day(pending), day(booked)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

fn card_transaction_id(tx: &Transaction) -> Option<String> {
    tx.card
        .as_ref()
        .and_then(|c| c.card_transaction_id.clone())
        .filter(|id| !id.trim().is_empty())
}
