//! A scriptable fake bank for the engine tests: its own ground truth, churn operations,
//! ids in several modes, pages with resumable cursors, a daily access limit it enforces
//! itself (429), injected faults, and every page fetch sent through the facade's retry
//! plumbing (`psd2::retry::run`), so the sync's budget hook sees each attempt.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use psd2::consent::{Consent, ConsentRequest, ConsentStatus};
use psd2::entry::{EntryError, TransactionPage};
use psd2::retry::{CallInfo, RetryMode, RetryPolicy, run};
use psd2::sca::{ScaChallenge, ScaMethod};
use psd2::transaction::Party;
use psd2::{
    Account, AccountId, AccountInformation, Bank, Consents, CreatedConsent, Currency, Decimal,
    Error, ErrorKind, Money, PageCursor, Psu, Session, Transaction, TransactionQuery,
    TransactionStatus,
};
use psd2::{ConsentId, TransactionId};
use psd2_sync::clock::{Clock, ManualClock};

pub const BANK: &str = "fake";

/// How the fake bank shows ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdMode {
    /// Stable per entry; a pending entry gets a new id when booked.
    NewIdOnBooking,
    /// No ids at all.
    None,
    /// `<date>-<position in the day>`.
    Positional,
    /// A new id for every entry after each `reissue`.
    Reissued,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Booked,
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub truth: u64,
    pub state: State,
    pub amount: Decimal,
    /// Pending: the day it appeared; booked: the booking date.
    pub date: NaiveDate,
    /// The day of the purchase (the value date, kept when booked).
    pub appeared: NaiveDate,
    pub party: String,
    pub text: String,
    /// Served to the sync as pending at least once.
    pub seen_pending: bool,
    /// Booked after being seen pending.
    pub booked_after_seen: bool,
    /// Cancelled after being seen pending.
    pub cancelled_after_seen: bool,
}

/// A fault the next page request answers with.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    Unavailable,
    RateLimited { retry_after_secs: u64 },
}

#[derive(Debug)]
pub struct World {
    pub entries: Vec<Entry>,
    pub ids: IdMode,
    pub generation: u32,
    pub page_size: usize,
    pub granted: u32,
    /// Whether a page request carrying a cursor counts against `granted` (by default only
    /// a listing's first request counts, as the Berlin Group reads `frequencyPerDay`).
    pub count_continuations: bool,
    pub used: BTreeMap<NaiveDate, u32>,
    pub over_limit: u32,
    pub blocked_until: Option<DateTime<Utc>>,
    pub calls_while_blocked: u32,
    pub faults: VecDeque<Fault>,
    pub refuse_cursors: bool,
    /// Requests number `start` to `start + count - 1` (counted in `requests`) answer 503.
    pub fail_from_request: Option<(u32, u32)>,
    pub requests: u32,
    pub consent: ConsentStatus,
    pub valid_until: Option<NaiveDate>,
    next_truth: u64,
}

#[derive(Debug, Clone)]
pub struct FakeBank {
    pub world: Arc<Mutex<World>>,
    pub clock: ManualClock,
    policy: RetryPolicy,
}

impl FakeBank {
    pub fn new(clock: ManualClock, ids: IdMode) -> Self {
        let world = World {
            entries: Vec::new(),
            ids,
            generation: 0,
            page_size: 50,
            granted: 4,
            count_continuations: false,
            used: BTreeMap::new(),
            over_limit: 0,
            blocked_until: None,
            calls_while_blocked: 0,
            faults: VecDeque::new(),
            refuse_cursors: false,
            fail_from_request: None,
            requests: 0,
            consent: ConsentStatus::Valid,
            valid_until: None,
            next_truth: 0,
        };
        let policy = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            jitter: false,
            ..RetryPolicy::default()
        };
        Self {
            world: Arc::new(Mutex::new(world)),
            clock,
            policy,
        }
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// Adds an entry; returns its truth id.
    pub fn add(&self, state: State, amount: &str, date: NaiveDate, party: &str) -> u64 {
        let mut w = self.world();
        let truth = w.next_truth;
        w.next_truth += 1;
        w.entries.push(Entry {
            truth,
            state,
            amount: amount.parse().unwrap(),
            date,
            appeared: date,
            party: party.to_string(),
            text: format!("{party} card purchase"),
            seen_pending: false,
            booked_after_seen: false,
            cancelled_after_seen: false,
        });
        truth
    }

    /// Books a pending entry `days_later` after it appeared, optionally with a new amount.
    pub fn book(&self, truth: u64, days_later: i64, amount: Option<&str>) {
        let today = self.today();
        let mut w = self.world();
        if let Some(e) = w
            .entries
            .iter_mut()
            .find(|e| e.truth == truth && e.state == State::Pending)
        {
            e.state = State::Booked;
            // Never dated after today.
            e.date = (e.date + TimeDelta::days(days_later)).min(today);
            match amount {
                // A card pre-authorisation settling lower.
                Some("97%") => e.amount = (e.amount * Decimal::new(97, 2)).round_dp(2),
                Some(a) => e.amount = a.parse().unwrap(),
                None => {}
            }
            e.booked_after_seen = e.seen_pending;
        }
    }

    pub fn cancel(&self, truth: u64) {
        let mut w = self.world();
        if let Some(e) = w
            .entries
            .iter_mut()
            .find(|e| e.truth == truth && e.state == State::Pending)
        {
            e.state = State::Cancelled;
            e.cancelled_after_seen = e.seen_pending;
        }
    }

    pub fn reissue(&self) {
        self.world().generation += 1;
    }

    /// The listing as the bank shows it now: booked in the window by date (then creation),
    /// then every open pending entry.
    fn listing(w: &mut World, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Vec<Transaction> {
        let mut booked: Vec<&Entry> = w
            .entries
            .iter()
            .filter(|e| e.state == State::Booked)
            .filter(|e| from.is_none_or(|f| e.date >= f) && to.is_none_or(|t| e.date <= t))
            .collect();
        booked.sort_by_key(|e| (e.date, e.truth));
        let mut out = Vec::new();
        let mut position: BTreeMap<NaiveDate, u32> = BTreeMap::new();
        for e in booked {
            let pos = position.entry(e.date).or_insert(0);
            *pos += 1;
            let id = match w.ids {
                IdMode::NewIdOnBooking => Some(format!("B{}", e.truth)),
                IdMode::None => None,
                IdMode::Positional => Some(format!("{}-{}", e.date, pos)),
                IdMode::Reissued => Some(format!("R{}-{}", e.truth, w.generation)),
            };
            out.push(to_tx(e, TransactionStatus::Booked, id));
        }
        let ids = w.ids;
        let generation = w.generation;
        for e in w.entries.iter_mut().filter(|e| e.state == State::Pending) {
            e.seen_pending = true;
            let id = match ids {
                IdMode::NewIdOnBooking => Some(format!("P{}", e.truth)),
                IdMode::None | IdMode::Positional => None,
                IdMode::Reissued => Some(format!("RP{}-{}", e.truth, generation)),
            };
            out.push(to_tx(e, TransactionStatus::Pending, id));
        }
        out
    }

    /// One page request as the bank sees it: counted, limited, maybe failed.
    fn serve(
        &self,
        query: &TransactionQuery,
        offset: usize,
    ) -> Result<(TransactionPage, u16), Error> {
        let now = self.clock.now();
        let today = now.date_naive();
        let mut w = self.world();
        w.requests += 1;
        if w.blocked_until.is_some_and(|b| now < b) {
            w.calls_while_blocked += 1;
        }
        let counted = offset == 0 || w.count_continuations;
        let granted = w.granted;
        let used = w.used.entry(today).or_insert(0);
        if counted {
            *used += 1;
        }
        if counted && *used > granted {
            w.over_limit += 1;
            let midnight = (today + TimeDelta::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc();
            w.blocked_until = Some(midnight);
            return Err(rate_limited((midnight - now).num_seconds().max(1) as u64));
        }
        let n = w.requests;
        if w.fail_from_request
            .is_some_and(|(start, count)| n >= start && n < start + count)
        {
            return Err(
                Error::new(ErrorKind::BankUnavailable, BANK, "transactions").with_status(503)
            );
        }
        if let Some(fault) = w.faults.pop_front() {
            return Err(match fault {
                Fault::Unavailable => {
                    Error::new(ErrorKind::BankUnavailable, BANK, "transactions").with_status(503)
                }
                Fault::RateLimited { retry_after_secs } => {
                    w.blocked_until = Some(now + TimeDelta::seconds(retry_after_secs as i64));
                    rate_limited(retry_after_secs)
                }
            });
        }
        if offset > 0 && w.refuse_cursors {
            return Err(Error::new(ErrorKind::FormatError, BANK, "transactions").with_status(400));
        }
        let all = Self::listing(&mut w, query.date_from, query.date_to);
        let end = (offset + w.page_size).min(all.len());
        let entries = all
            .get(offset..end)
            .unwrap_or_default()
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, tx)| {
                let broken = tx.creditor.as_ref().and_then(|p| p.name.as_deref()) == Some("BROKEN");
                if broken {
                    Err(EntryError::new(
                        format!(
                            "transactions.booked[{}].transactionAmount.currency",
                            offset + i
                        ),
                        "not an ISO 4217 code (3 chars, lower case)",
                    ))
                } else {
                    Ok(tx)
                }
            })
            .collect();
        let next = (end < all.len()).then(|| PageCursor::for_bank(BANK, &end.to_string()));
        Ok((TransactionPage::new(entries, next), 200))
    }

    pub fn truth_booked(&self, from: NaiveDate) -> Vec<(NaiveDate, Decimal)> {
        let mut v: Vec<_> = self
            .world()
            .entries
            .iter()
            .filter(|e| e.state == State::Booked && e.date >= from)
            .map(|e| (e.date, e.amount))
            .collect();
        v.sort();
        v
    }

    pub fn truth_pending(&self) -> Vec<(NaiveDate, Decimal)> {
        let mut v: Vec<_> = self
            .world()
            .entries
            .iter()
            .filter(|e| e.state == State::Pending)
            .map(|e| (e.date, e.amount))
            .collect();
        v.sort();
        v
    }
}

fn rate_limited(secs: u64) -> Error {
    Error::new(
        ErrorKind::AccessExceeded {
            retry_after: Some(Duration::from_secs(secs)),
        },
        BANK,
        "transactions",
    )
    .with_status(429)
}

fn to_tx(e: &Entry, status: TransactionStatus, id: Option<String>) -> Transaction {
    let mut tx = Transaction::new(
        status.clone(),
        Money::new(e.amount, Currency::new("SEK").unwrap()),
    );
    if status == TransactionStatus::Booked {
        tx.booking_date = Some(e.date);
    }
    tx.value_date = Some(e.appeared);
    let mut party = Party::default();
    party.name = Some(e.party.clone());
    tx.creditor = Some(party);
    tx.remittance_unstructured = Some(e.text.clone());
    tx.transaction_id = id.map(TransactionId::new);
    tx
}

impl Bank for FakeBank {
    fn name(&self) -> &'static str {
        BANK
    }
    fn as_consents(&self) -> Option<&dyn Consents> {
        Some(self)
    }
    fn as_account_information(&self) -> Option<&dyn AccountInformation> {
        Some(self)
    }
}

#[async_trait]
impl Consents for FakeBank {
    async fn create_consent(&self, _: &ConsentRequest, _: &Psu) -> Result<CreatedConsent, Error> {
        Err(Error::unsupported(BANK, "create_consent"))
    }
    async fn consent_status(&self, _: &ConsentId, _: &Psu) -> Result<ConsentStatus, Error> {
        Ok(self.world().consent.clone())
    }
    async fn consent(&self, id: &ConsentId, _: &Psu) -> Result<Consent, Error> {
        let w = self.world();
        let mut c = Consent::new(id.clone(), w.consent.clone());
        c.valid_until = w.valid_until;
        c.frequency_per_day = Some(w.granted);
        Ok(c)
    }
    async fn start_sca(
        &self,
        _: &ConsentId,
        _: &ScaMethod,
        _: &Psu,
    ) -> Result<ScaChallenge, Error> {
        Err(Error::unsupported(BANK, "start_sca"))
    }
    async fn delete_consent(&self, _: &ConsentId, _: &Psu) -> Result<(), Error> {
        Ok(())
    }
}

#[async_trait]
impl AccountInformation for FakeBank {
    async fn accounts(&self, _: &Session, _: &Psu, _: bool) -> Result<Vec<Account>, Error> {
        Ok(vec![Account::new(AccountId::new("acc-1"))])
    }

    fn transactions<'a>(
        &'a self,
        _: &'a Session,
        _: &'a Psu,
        _: &'a AccountId,
        _: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        stream::iter([Err(Error::unsupported(BANK, "transactions"))]).boxed()
    }

    fn transaction_pages<'a>(
        &'a self,
        _: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<TransactionPage, Error>> {
        let start = match resume {
            None => Ok(0usize),
            Some(c) => c.position(BANK, "transactions").and_then(|p| {
                p.parse::<usize>()
                    .map_err(|_| Error::new(ErrorKind::Pagination, BANK, "transactions"))
            }),
        };
        stream::unfold(Some(start), move |state| async move {
            let offset = match state? {
                Ok(offset) => offset,
                Err(e) => return Some((Err(e), None)),
            };
            let info = CallInfo::new(BANK, "transactions")
                .account(account)
                .psu_present(psu.is_present());
            let page = run(&self.policy, RetryMode::Idempotent, None, info, |_| async {
                self.serve(query, offset)
            })
            .await;
            match page {
                Ok(page) => {
                    let next = page
                        .next
                        .as_ref()
                        .and_then(|c| c.position(BANK, "transactions").ok())
                        .and_then(|p| p.parse::<usize>().ok());
                    Some((Ok(page), next.map(Ok)))
                }
                Err(e) => Some((Err(e), None)),
            }
        })
        .boxed()
    }
}

pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap().and_utc()
}
