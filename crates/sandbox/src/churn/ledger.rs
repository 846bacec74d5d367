//! The churn activity of one bank: generated day by day, deterministically.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;

use super::view::ChurnView;
use super::{ChurnConfig, ChurnScenario, MAX_CHURN_DAYS};
use crate::config::Bank;
use crate::fixtures::{Account, AccountKind, Fixtures};
use crate::rng::{below, hash, str_part, uuid_from};

/// Most churn entries kept per account.
pub(super) const MAX_ENTRIES_PER_ACCOUNT: usize = 5_000;

/// Slots of regular entries start here: after every generated entry of the same day.
pub(super) const LATE_SLOT: i64 = 1 << 40;

const MERCHANTS: [&str; 6] = [
    "ICA Nara",
    "Circle K",
    "Pressbyran",
    "Scandic Hotels",
    "Preem",
    "Espresso House",
];

/// Where a churn entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Listed as pending.
    Pending,
    /// Booked on its booking date.
    Booked,
    /// Gone without being booked (on that day).
    Cancelled(NaiveDate),
}

/// What happens to a pending entry the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    Book { new_id: bool, amount_change: bool },
    Cancel,
}

/// One generated entry.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Creation order within the account.
    pub seq: u64,
    /// Stable id in the ground truth.
    pub truth_id: String,
    /// The day it first appeared (its value/transaction date).
    pub appeared: NaiveDate,
    /// Booking date (meaningful once booked).
    pub booking_date: NaiveDate,
    /// Pending, booked or cancelled.
    pub state: State,
    /// Position within its booking date (negative: before the day's generated entries).
    pub slot: i64,
    /// Amount while pending.
    pub pending_amount: Decimal,
    /// Amount once booked.
    pub amount: Decimal,
    /// The bank's id while pending.
    pub pending_id: String,
    /// The bank's id once booked.
    pub booked_id: String,
    /// Entry reference.
    pub entry_reference: String,
    /// Merchant / counterparty.
    pub counterparty: String,
    /// Free text.
    pub remittance: String,
    resolve: Option<(NaiveDate, Resolution)>,
}

#[derive(Debug, Default, Clone)]
struct AccountLedger {
    entries: Vec<Entry>,
    next_seq: u64,
    front: HashMap<NaiveDate, i64>,
    back: HashMap<NaiveDate, i64>,
}

impl AccountLedger {
    fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq = s.saturating_add(1);
        s
    }

    /// Keeps at most a quarter more than [`MAX_ENTRIES_PER_ACCOUNT`] entries: past that,
    /// the oldest booked or cancelled ones roll off (from the bank's lists and the truth
    /// alike) down to the maximum.
    fn prune(&mut self) {
        if self.entries.len() <= MAX_ENTRIES_PER_ACCOUNT + MAX_ENTRIES_PER_ACCOUNT / 4 {
            return;
        }
        let excess = self.entries.len().saturating_sub(MAX_ENTRIES_PER_ACCOUNT);
        let mut done: Vec<(NaiveDate, u64)> = self
            .entries
            .iter()
            .filter(|e| e.state != State::Pending)
            .map(|e| (e.booking_date, e.seq))
            .collect();
        done.sort_unstable();
        let gone: std::collections::HashSet<u64> =
            done.into_iter().take(excess).map(|(_, seq)| seq).collect();
        self.entries.retain(|e| !gone.contains(&e.seq));
        let oldest = self.entries.iter().map(|e| e.booking_date).min();
        if let Some(oldest) = oldest {
            self.front.retain(|d, _| *d >= oldest);
            self.back.retain(|d, _| *d >= oldest);
        }
    }

    fn slot_front(&mut self, day: NaiveDate) -> i64 {
        let s = self.front.entry(day).or_insert(0);
        *s = s.saturating_sub(1);
        *s
    }

    fn slot_back(&mut self, day: NaiveDate) -> i64 {
        let s = self.back.entry(day).or_insert(LATE_SLOT);
        *s = s.saturating_add(1);
        *s
    }
}

/// The entry variants a day's activity cycles through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Plain,
    Pending(Resolution),
    Backdated { max_days: u64 },
    Twins,
}

/// The churn of one bank.
#[derive(Debug, Clone)]
pub(super) struct BankChurn {
    pub config: ChurnConfig,
    pub start: NaiveDate,
    through: NaiveDate,
    variants: Vec<Variant>,
    accounts: HashMap<String, AccountLedger>,
}

impl BankChurn {
    pub fn new(config: ChurnConfig, today: NaiveDate) -> Self {
        let has = |s| config.has(s);
        let mut variants = vec![Variant::Plain];
        if has(ChurnScenario::PendingRebookedNewId) {
            variants.push(Variant::Pending(Resolution::Book {
                new_id: true,
                amount_change: false,
            }));
        }
        if has(ChurnScenario::AmountChangesOnBooking) {
            variants.push(Variant::Pending(Resolution::Book {
                new_id: has(ChurnScenario::PendingRebookedNewId),
                amount_change: true,
            }));
        }
        if has(ChurnScenario::PendingCancelled) {
            variants.push(Variant::Pending(Resolution::Cancel));
        }
        if has(ChurnScenario::Backdated) {
            variants.push(Variant::Backdated { max_days: 3 });
        } else if has(ChurnScenario::PositionalIds) {
            // Positional ids only shift when an entry is added earlier in a day.
            variants.push(Variant::Backdated { max_days: 1 });
        }
        if has(ChurnScenario::Twins) {
            variants.push(Variant::Twins);
        }
        Self {
            config,
            start: today,
            through: today,
            variants,
            accounts: HashMap::new(),
        }
    }

    fn bank(&self) -> Bank {
        self.config.bank.unwrap_or(Bank::Handelsbanken)
    }

    /// Generates the activity of every day after the last one generated, up to `today`.
    pub fn catch_up(&mut self, fixtures: &Fixtures, today: NaiveDate) {
        if today <= self.through {
            return;
        }
        let earliest = today
            .checked_sub_days(Days::new(MAX_CHURN_DAYS.unsigned_abs()))
            .unwrap_or(today);
        let mut day = self.through.max(earliest);
        let bank = self.bank();
        let accounts: Vec<&Account> = fixtures
            .all_accounts()
            .iter()
            .filter(|a| a.bank == bank && a.kind == AccountKind::Payment)
            .collect();
        while let Some(next) = day.succ_opt().filter(|d| *d <= today) {
            day = next;
            for a in &accounts {
                self.run_day(a, day);
            }
        }
        self.through = today;
    }

    fn run_day(&mut self, account: &Account, day: NaiveDate) {
        let seed = self.config.seed;
        let bank = str_part(self.bank().prefix());
        let per_day = u64::from(self.config.per_day);
        let day_index = u64::try_from((day - self.start).num_days()).unwrap_or(0);
        let variants = self.variants.clone();
        let start = self.start;
        let ledger = self
            .accounts
            .entry(account.resource_id.clone())
            .or_default();
        resolve_pending(ledger, day);
        for k in 0..per_day {
            let n = day_index.saturating_mul(per_day).saturating_add(k);
            let variant = variants
                .get(usize::try_from(n % variants.len() as u64).unwrap_or(0))
                .copied()
                .unwrap_or(Variant::Plain);
            let h = hash(&[
                seed,
                bank,
                account.key,
                u64::from(day.num_days_from_ce().unsigned_abs()),
                k,
            ]);
            let base = NewEntry::generate(account, h, start, ledger.take_seq());
            match variant {
                Variant::Plain => push_booked(ledger, base, day, day, false),
                Variant::Backdated { max_days } => {
                    let back = 1 + below(h >> 7, max_days);
                    let date = day.checked_sub_days(Days::new(back)).unwrap_or(day);
                    push_booked(ledger, base, day, date, true);
                }
                Variant::Twins => {
                    let twin = base.twin(h, ledger.take_seq());
                    push_booked(ledger, base, day, day, false);
                    push_booked(ledger, twin, day, day, false);
                }
                Variant::Pending(resolution) => {
                    let next = day.succ_opt().unwrap_or(day);
                    let e = base.into_entry(day, day, 0, State::Pending);
                    ledger.entries.push(Entry {
                        resolve: Some((next, resolution)),
                        ..e
                    });
                }
            }
        }
        ledger.prune();
    }

    pub fn view(&self, account: &Account, today: NaiveDate) -> ChurnView {
        let entries = self
            .accounts
            .get(&account.resource_id)
            .map(|l| l.entries.clone())
            .unwrap_or_default();
        let generation = (today - self.start).num_days() / super::REISSUE_EVERY_DAYS;
        ChurnView::new(
            entries,
            self.config.has(ChurnScenario::NoIds),
            self.config.has(ChurnScenario::PositionalIds),
            self.config
                .has(ChurnScenario::ReissuedIds)
                .then_some(generation.unsigned_abs())
                .filter(|g| *g > 0),
        )
    }
}

fn resolve_pending(ledger: &mut AccountLedger, day: NaiveDate) {
    let due: Vec<usize> = ledger
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.state == State::Pending && e.resolve.is_some_and(|(d, _)| d <= day))
        .map(|(i, _)| i)
        .collect();
    for i in due {
        let slot = ledger.slot_back(day);
        let Some(e) = ledger.entries.get_mut(i) else {
            continue;
        };
        match e.resolve.take() {
            Some((_, Resolution::Cancel)) => e.state = State::Cancelled(day),
            Some((
                _,
                Resolution::Book {
                    new_id,
                    amount_change,
                },
            )) => {
                e.state = State::Booked;
                e.booking_date = day;
                e.slot = slot;
                if !new_id {
                    e.booked_id = e.pending_id.clone();
                }
                if amount_change {
                    // A card pre-authorisation settles lower (e.g. fuel, hotel).
                    let changed = (e.pending_amount * Decimal::new(97, 2)).round_dp(2);
                    e.amount = if changed == e.pending_amount {
                        e.pending_amount + Decimal::new(1, 0)
                    } else {
                        changed
                    };
                }
            }
            None => {}
        }
    }
}

fn push_booked(
    ledger: &mut AccountLedger,
    n: NewEntry,
    appeared: NaiveDate,
    date: NaiveDate,
    front: bool,
) {
    let slot = if front {
        ledger.slot_front(date)
    } else {
        ledger.slot_back(date)
    };
    let e = n.into_entry(appeared, date, slot, State::Booked);
    ledger.entries.push(e);
}

/// The content of a new entry before it is placed.
struct NewEntry {
    seq: u64,
    start: NaiveDate,
    amount: Decimal,
    counterparty: String,
    remittance: String,
    pending_id: String,
    booked_id: String,
    entry_reference: String,
}

impl NewEntry {
    fn generate(account: &Account, h: u64, start: NaiveDate, seq: u64) -> Self {
        let merchant =
            MERCHANTS[usize::try_from(below(h >> 16, MERCHANTS.len() as u64)).unwrap_or(0)];
        let cents = i64::try_from(below(h, 50_000) + 100)
            .unwrap_or(100)
            .saturating_mul(account.scale);
        Self {
            seq,
            start,
            amount: Decimal::new(-cents, 2),
            counterparty: merchant.to_string(),
            remittance: format!("Card purchase {merchant}"),
            pending_id: uuid_from(hash(&[h, 1])),
            booked_id: uuid_from(hash(&[h, 2])),
            entry_reference: format!("CH{:010}", below(h >> 24, 10_000_000_000)),
        }
    }

    /// An identical twin (same content; the bank still gives it its own ids).
    fn twin(&self, h: u64, seq: u64) -> Self {
        Self {
            seq,
            start: self.start,
            amount: self.amount,
            counterparty: self.counterparty.clone(),
            remittance: self.remittance.clone(),
            pending_id: uuid_from(hash(&[h, 3])),
            booked_id: uuid_from(hash(&[h, 4])),
            entry_reference: format!("CT{:010}", below(h >> 20, 10_000_000_000)),
        }
    }

    fn into_entry(
        self,
        appeared: NaiveDate,
        booking_date: NaiveDate,
        slot: i64,
        state: State,
    ) -> Entry {
        Entry {
            seq: self.seq,
            truth_id: format!("churn-{}-{}", self.start, self.seq),
            appeared,
            booking_date,
            state,
            slot,
            pending_amount: self.amount,
            amount: self.amount,
            pending_id: self.pending_id,
            booked_id: self.booked_id,
            entry_reference: self.entry_reference,
            counterparty: self.counterparty,
            remittance: self.remittance,
            resolve: None,
        }
    }
}
