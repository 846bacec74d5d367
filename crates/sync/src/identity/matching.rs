//! The matcher: one account's listing, page by page, against the stored entries.

use std::collections::HashMap;

use chrono::NaiveDate;
use psd2::{AccountId, Transaction, TransactionStatus};
use rust_decimal::Decimal;

use super::listed::{FingerprintKey, Listed};
use super::{comparable, counterparty, remittance, same_movement};
use crate::model::{ConnectionId, StoredTransaction, TxKey};
use crate::settings::{BankSyncSettings, IdStability};
use crate::store::{StoreError, StoredEntry};

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
#[derive(Clone)]
pub struct Matched {
    /// The row to write (insert or replace by key).
    pub row: StoredTransaction,
    /// What happened.
    pub outcome: Outcome,
    /// The row's transaction as JSON, when it was encoded before matching (see
    /// [`Listed::new`]): the text a commit writes for the row.
    pub json: Option<String>,
}

impl std::fmt::Debug for Matched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matched")
            .field("row", &self.row)
            .field("outcome", &self.outcome)
            .field("json_bytes", &self.json.as_ref().map(String::len))
            .finish()
    }
}

/// The rows of one fingerprint or id, in the order they were indexed; most have one, which
/// needs no allocation.
#[derive(Debug)]
enum Indexes {
    One(usize),
    Many(Vec<usize>),
}

impl Indexes {
    fn add<K>(entry: std::collections::hash_map::Entry<'_, K, Indexes>, index: usize) {
        match entry {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(Self::One(index));
            }
            std::collections::hash_map::Entry::Occupied(mut slot) => match slot.get_mut() {
                Self::One(first) => {
                    let first = *first;
                    slot.insert(Self::Many(vec![first, index]));
                }
                Self::Many(all) => all.push(index),
            },
        }
    }

    fn as_slice(&self) -> &[usize] {
        match self {
            Self::One(index) => std::slice::from_ref(index),
            Self::Many(all) => all,
        }
    }
}

/// A reused buffer for a listed entry's JSON (`Debug` shows its length only: it holds
/// bank text).
#[derive(Default)]
struct Scratch(Vec<u8>);

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scratch({} bytes)", self.0.len())
    }
}

/// Matches one account's listing against its stored entries (see the module rules in
/// [`crate::identity`]). Keeps every stored entry of the window in memory, plus the ones
/// this listing added.
///
/// A stored entry's transaction is looked at only where a rule needs it (twins of one
/// fingerprint, pending entries for rule 3, removals); whether a re-listed entry is
/// unchanged is decided by comparing its JSON with the stored JSON first, and only when
/// they differ by comparing the transactions.
#[derive(Debug)]
pub struct Matcher {
    connection: ConnectionId,
    account: AccountId,
    settings: BankSyncSettings,
    listing_id: String,
    rows: Vec<StoredEntry>,
    claimed: Vec<bool>,
    /// Row indexes by fingerprint (any status; callers filter by status).
    by_fingerprint: HashMap<FingerprintKey, Indexes>,
    /// Row indexes by the bank's id (any status; callers filter by status).
    by_id: HashMap<String, Indexes>,
    /// The next occurrence index by fingerprint: every fingerprint stored or listed (a
    /// first sync of a long history holds one per entry, hence keys without an allocation).
    next_occurrence: HashMap<FingerprintKey, u32>,
    /// Indexes of stored pending rows not claimed at the start (fuzzy candidates).
    open_pending: Vec<usize>,
    /// Reused for listed entries' JSON: those [`Matcher::match_page`] prepares, and one
    /// compared when [`Listed::new`] could not encode it.
    scratch: Scratch,
    /// The first stored entry whose transaction could not be read (see
    /// [`Matcher::try_match_page`]).
    failed: Option<StoreError>,
}

impl Matcher {
    /// A matcher for one listing (`listing_id`) over `stored`, the account's stored entries
    /// in the window plus its open pending ones. Rows already marked with `listing_id` (a
    /// resumed listing) count as claimed. Entries are taken in the order of occurrence,
    /// then date (unknown first), then key.
    pub fn new(
        connection: ConnectionId,
        account: AccountId,
        settings: BankSyncSettings,
        listing_id: String,
        stored: Vec<StoredTransaction>,
    ) -> Self {
        let entries = stored.into_iter().map(StoredEntry::from_stored).collect();
        Self::from_entries(connection, account, settings, listing_id, entries)
    }

    /// [`Matcher::new`] over entries as a store reads them ([`crate::store::Store::load_window`],
    /// in any order): their transactions are parsed only where matching must look inside.
    /// Entries are taken in the order of occurrence, then date (unknown first), then key.
    pub fn from_entries(
        connection: ConnectionId,
        account: AccountId,
        settings: BankSyncSettings,
        listing_id: String,
        stored: Vec<StoredEntry>,
    ) -> Self {
        let mut matcher = Self {
            connection,
            account,
            settings,
            listing_id,
            claimed: vec![true; stored.len()],
            rows: stored,
            by_fingerprint: HashMap::new(),
            by_id: HashMap::new(),
            next_occurrence: HashMap::new(),
            open_pending: Vec::new(),
            scratch: Scratch::default(),
            failed: None,
        };
        // Rows stay where they are (an entry is large); they are indexed in order.
        let mut order = matcher.open_rows();
        let rows = &matcher.rows;
        let sort_key = |i: &usize| {
            rows.get(*i).map(|row| {
                (
                    row.occurrence,
                    row.date.is_some(),
                    row.date,
                    row.key.as_str(),
                )
            })
        };
        order.sort_unstable_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        for index in order {
            matcher.index_row(index);
        }
        matcher
    }

    /// The indexes of the rows not removed.
    fn open_rows(&self) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| self.rows.get(i).is_some_and(|row| !row.removed))
            .collect()
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
            .get(&FingerprintKey::new(&matched.row.fingerprint))
            .is_some_and(|rows| self.with_status(rows.as_slice(), status).nth(1).is_some())
    }

    /// The listing's id.
    pub fn listing_id(&self) -> &str {
        &self.listing_id
    }

    /// Indexes stored row `index` (not removed): by fingerprint and id, its occurrence,
    /// whether this listing claimed it already, and as a candidate for rule 3.
    fn index_row(&mut self, index: usize) {
        let Some(row) = self.rows.get(index) else {
            return;
        };
        let claimed = row.last_listing.as_deref() == Some(self.listing_id.as_str());
        if !claimed && row.status == TransactionStatus::Pending {
            self.open_pending.push(index);
        }
        if let Some(flag) = self.claimed.get_mut(index) {
            *flag = claimed;
        }
        let key = FingerprintKey::new(&row.fingerprint);
        Indexes::add(self.by_fingerprint.entry(key), index);
        if let Some(id) = &row.bank_id {
            Indexes::add(self.by_id.entry(id.clone()), index);
        }
        let next = self.next_occurrence.entry(key).or_insert(0);
        *next = (*next).max(row.occurrence.saturating_add(1));
    }

    fn take_occurrence(&mut self, key: FingerprintKey) -> u32 {
        let next = self.next_occurrence.entry(key).or_insert(0);
        let occurrence = *next;
        *next = next.saturating_add(1);
        occurrence
    }

    /// Keeps the first error of reading a stored entry's transaction.
    fn fail(&mut self, error: StoreError) {
        if self.failed.is_none() {
            self.failed = Some(error);
        }
    }

    /// [`Matcher::match_page`], failing when a stored entry matching had to look inside no
    /// longer parses ([`StoreError::Corrupt`]); the matched entries are then not to be used.
    pub fn try_match_page(
        &mut self,
        entries: Vec<Transaction>,
    ) -> Result<Vec<Matched>, StoreError> {
        let listed = self.listed(entries);
        self.try_match_listed(listed)
    }

    /// [`Matcher::try_match_page`] over entries prepared with [`Listed::new`].
    pub fn try_match_listed(&mut self, listed: Vec<Listed>) -> Result<Vec<Matched>, StoreError> {
        let matched = self.match_listed(listed);
        match self.failed.take() {
            Some(error) => Err(error),
            None => Ok(matched),
        }
    }

    fn listed(&mut self, entries: Vec<Transaction>) -> Vec<Listed> {
        let (field, buffer) = (self.settings.date_field, &mut self.scratch.0);
        entries
            .into_iter()
            .map(|tx| Listed::new(tx, field, buffer))
            .collect()
    }

    /// Matches one page's entries; returns one [`Matched`] per entry, in page order.
    ///
    /// A matcher over [`Matcher::new`]'s parsed rows always can look inside a stored entry.
    /// One over stored JSON ([`Matcher::from_entries`]) may find it no longer parses: that
    /// entry then counts as not equal to anything listed, and [`Matcher::try_match_page`]
    /// reports the error.
    pub fn match_page(&mut self, entries: Vec<Transaction>) -> Vec<Matched> {
        let listed = self.listed(entries);
        self.match_listed(listed)
    }

    fn match_listed(&mut self, listed: Vec<Listed>) -> Vec<Matched> {
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
            let found = self.by_id.get(id.as_str()).and_then(|rows| {
                self.with_status(rows.as_slice(), status)
                    .find(|&i| self.free(i))
            });
            if let Some(index) = self.claim_first(found) {
                return Some(index);
            }
        }
        let candidates = self.by_fingerprint.get(&entry.key)?;
        let free: Vec<usize> = self
            .with_status(candidates.as_slice(), status)
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
                let mut equal = None;
                let mut error = None;
                for &i in &free {
                    match self.rows.get(i).map(StoredEntry::transaction) {
                        Some(Ok(tx)) if comparable(tx, unreliable) == wanted => {
                            equal = Some(i);
                            break;
                        }
                        Some(Err(e)) => {
                            error.get_or_insert(e);
                        }
                        _ => {}
                    }
                }
                if let Some(e) = error {
                    self.fail(e);
                }
                equal.unwrap_or(*first)
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
        let mut error = None;
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
            let row_tx = match row.transaction() {
                Ok(tx) => tx,
                Err(e) => {
                    error.get_or_insert(e);
                    continue;
                }
            };
            let linked = (entry.bank_id.is_some() && entry.bank_id == row.bank_id)
                || (reference.is_some() && reference == entry_reference(row_tx))
                || (card_id.is_some() && card_id == card_transaction_id(row_tx));
            let same_fields = counterparty(row_tx) == party && remittance(row_tx) == text;
            let rank = if same_fields && row.amount == entry.tx.amount.amount {
                0
            } else if linked {
                1
            } else if same_fields
                && close_amount(row.amount, entry.tx.amount.amount)
                && same_purchase_day(row_tx, &entry.tx)
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
            let other_day = !same_purchase_day(row_tx, &entry.tx);
            let candidate = (rank, other_day, distance, gap, index);
            if best.is_none_or(|b| candidate < b) {
                best = Some(candidate);
            }
        }
        if let Some(e) = error {
            self.fail(e);
        }
        let (_, _, _, _, index) = best?;
        if let Some(flag) = self.claimed.get_mut(index) {
            *flag = true;
        }
        Some(index)
    }

    /// Whether the listed entry is the stored entry `index` unchanged: its JSON is the
    /// stored JSON, else (a running balance or an unreliable id moved, or the text was
    /// written another way) the two transactions compare equal ([`same_movement`]).
    fn unchanged(&mut self, index: usize, listed: &mut Transaction, json: Option<&str>) -> bool {
        let unreliable = self.settings.ids == IdStability::Unreliable;
        let Some(old) = self.rows.get(index) else {
            return false;
        };
        if let Some(text) = old.json() {
            let same = match json {
                Some(json) => json == text,
                None => {
                    let buffer = &mut self.scratch.0;
                    buffer.clear();
                    serde_json::to_writer(&mut *buffer, &*listed).is_ok()
                        && buffer.as_slice() == text.as_bytes()
                }
            };
            if same {
                return true;
            }
        }
        match old.transaction() {
            Ok(stored) => same_movement(stored, listed, unreliable),
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    fn update(&mut self, index: usize, mut entry: Listed) -> Matched {
        let Some(old) = self.rows.get(index) else {
            return self.add(entry);
        };
        let changed = old.status != entry.tx.status
            || !self.unchanged(index, &mut entry.tx, entry.json.as_deref());
        // A claimed row is never looked at again in this listing, so the row in memory
        // stays as it was stored; only what the new row needs is taken from it.
        let Some(old) = self.rows.get(index) else {
            return self.add(entry);
        };
        let same_fingerprint = old.fingerprint == entry.fingerprint;
        let (key, connection, account) = (
            old.key.clone(),
            self.connection.clone(),
            self.account.clone(),
        );
        let (old_occurrence, last_cursor) = (old.occurrence, old.last_cursor);
        let occurrence = if same_fingerprint {
            old_occurrence
        } else {
            self.take_occurrence(entry.key)
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
            json: entry.json,
        }
    }

    fn add(&mut self, entry: Listed) -> Matched {
        let occurrence = self.take_occurrence(entry.key);
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
            json: entry.json,
        }
    }

    /// At the end of a complete listing: the stored pending entries it did not list whose
    /// date is on or after `window_from` (or unknown), as rows marked removed. A matcher
    /// over stored JSON ([`Matcher::from_entries`]) leaves out an entry whose transaction
    /// no longer parses: see [`Matcher::try_finish`].
    pub fn finish(&mut self, window_from: NaiveDate) -> Vec<StoredTransaction> {
        let mut removed = Vec::new();
        let mut error = None;
        for &index in &self.open_pending {
            let claimed = self.claimed.get(index).copied().unwrap_or(true);
            let Some(row) = self.rows.get_mut(index) else {
                continue;
            };
            let in_window = row.date.is_none_or(|d| d >= window_from);
            if !claimed && !row.removed && row.status == TransactionStatus::Pending && in_window {
                row.removed = true;
                row.last_listing = Some(self.listing_id.clone());
                match row.to_stored(&self.connection, &self.account) {
                    Ok(stored) => removed.push(stored),
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
        }
        if let Some(e) = error {
            self.fail(e);
        }
        removed
    }

    /// [`Matcher::finish`], failing when a stored entry to mark removed no longer parses
    /// ([`StoreError::Corrupt`]).
    pub fn try_finish(
        &mut self,
        window_from: NaiveDate,
    ) -> Result<Vec<StoredTransaction>, StoreError> {
        let removed = self.finish(window_from);
        match self.failed.take() {
            Some(error) => Err(error),
            None => Ok(removed),
        }
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
