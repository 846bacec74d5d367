//! One account's churn as of one day: merged into transaction pages, ids rendered the way
//! the scenarios say.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::ledger::{Entry, State};
use crate::fixtures::{Account, Fixtures, Txn, TxnKind};
use crate::paging::{Page, TxQuery, booked_range};
use crate::rng::{hash, str_part, uuid_from};

/// How many of the newest generated entries a details lookup under rendered ids searches.
pub const FIND_WINDOW: u64 = 20_000;

/// A snapshot of one account's churn entries and the bank's id rules.
#[derive(Debug, Clone)]
pub struct ChurnView {
    entries: Vec<Entry>,
    no_ids: bool,
    positional: bool,
    reissue_generation: Option<u64>,
    /// Booking date → sorted slots of the churn entries booked on it.
    slots: HashMap<NaiveDate, Vec<i64>>,
}

impl ChurnView {
    pub(super) fn new(
        entries: Vec<Entry>,
        no_ids: bool,
        positional: bool,
        reissue_generation: Option<u64>,
    ) -> Self {
        let mut slots: HashMap<NaiveDate, Vec<i64>> = HashMap::new();
        for e in entries.iter().filter(|e| e.state == State::Booked) {
            slots.entry(e.booking_date).or_default().push(e.slot);
        }
        for v in slots.values_mut() {
            v.sort_unstable();
        }
        Self {
            entries,
            no_ids,
            positional,
            reissue_generation,
            slots,
        }
    }

    /// Sums of the booked and of the pending churn amounts.
    pub fn sums(&self) -> (Decimal, Decimal) {
        let mut booked = Decimal::ZERO;
        let mut pending = Decimal::ZERO;
        for e in &self.entries {
            match e.state {
                State::Booked => booked += e.amount,
                State::Pending => pending += e.pending_amount,
                State::Cancelled(_) => {}
            }
        }
        (booked, pending)
    }

    pub(super) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn base_count(fixtures: &Fixtures, account: &Account, date: NaiveDate) -> u64 {
        let first = account.first_booked_on_or_after(fixtures, date);
        let next = date
            .succ_opt()
            .map(|d| account.first_booked_on_or_after(fixtures, d))
            .unwrap_or(first);
        next.saturating_sub(first)
    }

    /// 1-based position of a booked entry within its booking date, as the bank counts.
    fn position(&self, fixtures: &Fixtures, account: &Account, date: NaiveDate, slot: Slot) -> u64 {
        let churn = self.slots.get(&date).map(Vec::as_slice).unwrap_or_default();
        let front = churn.iter().filter(|s| **s < 0).count() as u64;
        match slot {
            Slot::Base(i) => {
                let first = account.first_booked_on_or_after(fixtures, date);
                front + i.saturating_sub(first) + 1
            }
            Slot::Churn(s) => {
                let idx = churn.partition_point(|x| *x < s) as u64;
                let base = if s < 0 {
                    0
                } else {
                    Self::base_count(fixtures, account, date)
                };
                idx + base + 1
            }
        }
    }

    /// Applies the id scenarios to `t` (a bank id `id`, or none).
    fn render_id(&self, t: &mut Txn, positional: Option<String>) {
        if let Some(p) = positional.filter(|_| self.positional) {
            t.id = p;
        }
        if let Some(generation) = self.reissue_generation {
            t.id = uuid_from(hash(&[str_part(&t.id), generation]));
            t.entry_reference = format!(
                "RI{:010}",
                hash(&[str_part(&t.entry_reference), generation]) % 10_000_000_000
            );
        }
        if self.no_ids {
            t.id = String::new();
            t.entry_reference = String::new();
        }
    }

    /// Base transaction `i` of `account`, with the bank's id rules applied.
    pub fn base_txn(&self, fixtures: &Fixtures, account: &Account, i: u64) -> Txn {
        let mut t = account.transaction(fixtures, i);
        let positional = match t.booking_date {
            Some(d) => Some(format!(
                "{d}-{}",
                self.position(fixtures, account, d, Slot::Base(i))
            )),
            None => Some(format!(
                "{}-P{}",
                t.value_date,
                i.saturating_sub(account.booked_count()) + 1
            )),
        };
        self.render_id(&mut t, positional);
        t
    }

    /// Churn entry `e` as the bank lists it today.
    pub(super) fn churn_txn(&self, fixtures: &Fixtures, account: &Account, e: &Entry) -> Txn {
        let booked = e.state == State::Booked;
        let mut t = Txn {
            index: u64::MAX - e.seq,
            id: if booked {
                e.booked_id.clone()
            } else {
                e.pending_id.clone()
            },
            booked,
            booking_date: booked.then_some(e.booking_date),
            value_date: e.appeared,
            amount: if booked { e.amount } else { e.pending_amount },
            currency: account.currency,
            balance_after: None,
            kind: TxnKind::CardPurchase,
            counterparty: e.counterparty.clone(),
            counterparty_iban: None,
            remittance: e.remittance.clone(),
            structured_reference: None,
            exchange: None,
            entry_reference: e.entry_reference.clone(),
        };
        let positional = if booked {
            format!(
                "{}-{}",
                e.booking_date,
                self.position(fixtures, account, e.booking_date, Slot::Churn(e.slot))
            )
        } else {
            format!("{}-P{}", e.appeared, e.seq)
        };
        self.render_id(&mut t, Some(positional));
        t
    }

    /// The entry the bank lists today under `id` (for a details call), if any: a churn
    /// entry, or one of the generated history (looked up directly when the bank keeps the
    /// generated ids, else among the last [`FIND_WINDOW`] entries).
    pub fn find(&self, fixtures: &Fixtures, account: &Account, id: &str) -> Option<Txn> {
        if id.is_empty() {
            return None;
        }
        if let Some(t) = self
            .entries
            .iter()
            .filter(|e| !matches!(e.state, State::Cancelled(_)))
            .map(|e| self.churn_txn(fixtures, account, e))
            .find(|t| t.id == id)
        {
            return Some(t);
        }
        if !self.positional && self.reissue_generation.is_none() && !self.no_ids {
            return account
                .transaction_index(id)
                .map(|i| account.transaction(fixtures, i));
        }
        let from = account.history.saturating_sub(FIND_WINDOW);
        (from..account.history)
            .rev()
            .map(|i| self.base_txn(fixtures, account, i))
            .find(|t| t.id == id)
    }

    /// The page of `q` at its continuation offset: churn pending, base pending, then the
    /// booked entries of both, newest first.
    pub fn page(
        &self,
        fixtures: &Fixtures,
        account: &Account,
        q: &TxQuery,
        offset: u64,
        page_size: u64,
    ) -> (Page, u64) {
        let mut pending: Vec<&Entry> = if q.pending {
            self.entries
                .iter()
                .filter(|e| e.state == State::Pending && e.appeared <= q.date_to)
                .collect()
        } else {
            Vec::new()
        };
        pending.sort_by_key(|e| std::cmp::Reverse((e.appeared, e.seq)));
        let base_pending = if q.pending && q.date_to >= fixtures.today() {
            account.pending
        } else {
            0
        };
        let (lo, hi) = booked_range(fixtures, account, q);
        let mut booked: Vec<&Entry> = if q.booked {
            self.entries
                .iter()
                .filter(|e| {
                    e.state == State::Booked
                        && e.booking_date >= q.date_from
                        && e.booking_date <= q.date_to
                })
                .collect()
        } else {
            Vec::new()
        };
        booked.sort_by_key(|e| std::cmp::Reverse((e.booking_date, e.slot)));
        let base_booked = if q.booked { hi - lo } else { 0 };
        let ranks = merged_ranks(fixtures, account, &booked, (lo, hi));
        let n_pending = pending.len() as u64 + base_pending;
        let total = n_pending + base_booked + booked.len() as u64;
        let end = offset.saturating_add(page_size.max(1)).min(total);
        let mut out = Page::default();
        let mut p = ranks.partition_point(|r| *r < offset.saturating_sub(n_pending));
        for k in offset..end {
            if let Some(e) = pending.get(usize::try_from(k).unwrap_or(usize::MAX)) {
                out.pending.push(self.churn_txn(fixtures, account, e));
            } else if k < n_pending {
                let b = k - pending.len() as u64;
                out.pending
                    .push(self.base_txn(fixtures, account, account.history - 1 - b));
            } else {
                let j = k - n_pending;
                if ranks.get(p) == Some(&j) {
                    if let Some(e) = booked.get(p) {
                        out.booked.push(self.churn_txn(fixtures, account, e));
                    }
                    p += 1;
                } else {
                    let b = j - p as u64;
                    out.booked
                        .push(self.base_txn(fixtures, account, hi - 1 - b));
                }
            }
        }
        (out, total)
    }
}

/// The rank of each churn entry (sorted newest first) in the merged newest-first list of
/// booked entries, where the generated ones are indices `lo..hi`: the generated entries
/// after it (a later day, or its own day when it was added first of the day) plus the
/// churn entries before it.
fn merged_ranks(
    fixtures: &Fixtures,
    account: &Account,
    booked: &[&Entry],
    (lo, hi): (u64, u64),
) -> Vec<u64> {
    booked
        .iter()
        .enumerate()
        .map(|(j, e)| {
            let boundary = if e.slot < 0 {
                Some(e.booking_date)
            } else {
                e.booking_date.succ_opt()
            };
            let first = boundary
                .map(|d| account.first_booked_on_or_after(fixtures, d))
                .unwrap_or(hi);
            hi.saturating_sub(first.max(lo)) + j as u64
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Base(u64),
    Churn(i64),
}
