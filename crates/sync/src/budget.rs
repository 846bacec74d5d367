//! The access budget: unattended calls per day against the bank-granted `frequencyPerDay`.
//!
//! A [`Ledger`] holds one connection's [`BudgetDay`] lines. The engine puts a
//! [`BudgetHook`] in scope around every bank call (`psd2::with_attempt_hook`), so every
//! attempt the facade makes, retries included, passes [`Ledger::before_attempt`] (refused
//! when the budget is spent or a 429 blocks the scope) and [`Ledger::after_attempt`]
//! (counts it, marks a 429). Calls with the PSU present never count. The engine writes the
//! changed lines with each page's commit and asks [`Ledger::next_allowed`] when the next
//! call is possible.
//!
//! Worked example (granted 4, per account and resource, UTC day): three syncs of one page
//! each use 3 of 4; a fourth sync's first page is attempted (4 of 4), answered 503 and
//! retried: the retry is refused before it is sent (the budget is spent unless failed calls
//! are free at this bank), the listing keeps its progress, and `next_allowed` says
//! tomorrow 00:00 UTC.
//!
//! Pages of a listing: the engine tells the ledger when it opens a transaction listing
//! ([`Ledger::begin_listing`]), fresh or resumed from a stored cursor. Unless the bank's
//! `count_continuation_pages` setting says otherwise, only a fresh listing's first request
//! counts (and its retries, as above); once it has been answered, every further page, and
//! every page of a resumed listing, carries the bank's continuation and is not a new
//! access: it is sent even when the day's count is used up, but never while a 429 blocks
//! the scope. Example (granted 4, a 90-day history in 12 pages): the first sync uses 1 of
//! 4 and reads all 12 pages; with `count_continuation_pages` it reads pages 1 to 4 today,
//! keeps its progress, and resumes at page 5 tomorrow.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use psd2::retry::{AttemptHook, AttemptOutcome, CallInfo};
use psd2::{AccountId, Error, ErrorKind};

use crate::clock::Clock;
use crate::model::EventKind;
use crate::model::{BudgetDay, ConnectionId, NewEvent};
use crate::settings::{BankSyncSettings, BudgetScope};

/// The resource a facade operation counts against, or `None` when the bank does not count
/// it (token, consent and SCA calls).
pub fn resource_of(operation: &str) -> Option<&'static str> {
    if operation.contains("transaction") {
        Some("transactions")
    } else if operation.contains("balance") {
        Some("balances")
    } else if operation.contains("account") {
        Some("accounts")
    } else {
        None
    }
}

/// The key of one ledger line (the day is separate).
type Scope = (Option<AccountId>, String);

/// One connection's budget ledger.
#[derive(Debug)]
pub struct Ledger {
    connection: ConnectionId,
    settings: BankSyncSettings,
    granted: u32,
    lines: BTreeMap<(Scope, NaiveDate), BudgetDay>,
    dirty: BTreeMap<(Scope, NaiveDate), ()>,
    events: Vec<NewEvent>,
    /// Open transaction listings by account: `true` once the next request is a
    /// continuation (not a new access).
    listings: BTreeMap<Option<AccountId>, bool>,
}

impl Ledger {
    /// A ledger for `connection` granted `granted` calls a day, starting from the stored
    /// `lines` (today's and any still blocking).
    pub fn new(
        connection: ConnectionId,
        settings: BankSyncSettings,
        granted: u32,
        lines: Vec<BudgetDay>,
    ) -> Self {
        let mut ledger = Self {
            connection,
            settings,
            granted,
            lines: BTreeMap::new(),
            dirty: BTreeMap::new(),
            events: Vec::new(),
            listings: BTreeMap::new(),
        };
        for line in lines {
            let key = ((line.account.clone(), line.resource.clone()), line.day);
            ledger.lines.insert(key, line);
        }
        ledger
    }

    /// The calls granted per day.
    pub fn granted(&self) -> u32 {
        self.granted
    }

    /// Sets the calls granted per day (the bank's latest answer).
    pub fn set_granted(&mut self, granted: u32) {
        self.granted = granted;
    }

    /// The bank's day `at` falls on (by the day boundary setting).
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        let offset = TimeDelta::minutes(i64::from(self.settings.day_offset_minutes));
        at.checked_add_signed(offset).unwrap_or(at).date_naive()
    }

    /// When the bank's day after the one `at` falls on starts, in UTC.
    pub fn next_day_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let next = self.day_of(at).succ_opt().unwrap_or(NaiveDate::MAX);
        let offset = TimeDelta::minutes(i64::from(self.settings.day_offset_minutes));
        let local_midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        local_midnight
            .checked_sub_signed(offset)
            .unwrap_or(local_midnight)
    }

    /// A transaction listing of `account` opens: `resumed` when it starts from a stored
    /// page cursor (its requests are continuations from the first).
    pub fn begin_listing(&mut self, account: Option<&AccountId>, resumed: bool) {
        self.listings.insert(account.cloned(), resumed);
    }

    /// The listing of `account` is over (complete or given up).
    pub fn end_listing(&mut self, account: Option<&AccountId>) {
        self.listings.remove(&account.cloned());
    }

    /// Whether a call of `resource` on `account` is a continuation page the bank does not
    /// count (see the module docs).
    fn is_free_continuation(&self, account: Option<&AccountId>, resource: &str) -> bool {
        resource == "transactions"
            && !self.settings.count_continuation_pages
            && self
                .listings
                .get(&account.cloned())
                .copied()
                .unwrap_or(false)
    }

    /// When the next continuation page of a listing of `account` may be sent: `None` for
    /// now, else the time. Without `count_continuation_pages` only a 429 block stops it;
    /// otherwise it is an ordinary counted call ([`Ledger::next_allowed`]).
    pub fn next_continuation_allowed(
        &self,
        account: Option<&AccountId>,
        resource: &str,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if resource == "transactions" && !self.settings.count_continuation_pages {
            self.blocked(&self.scope(account, resource), now)
        } else {
            self.next_allowed(account, resource, now)
        }
    }

    fn scope(&self, account: Option<&AccountId>, resource: &str) -> Scope {
        match self.settings.budget_scope {
            BudgetScope::AccountResource => (account.cloned(), resource.to_string()),
            BudgetScope::Account => (account.cloned(), "*".to_string()),
            BudgetScope::Consent => (None, "*".to_string()),
        }
    }

    fn line(&mut self, scope: Scope, day: NaiveDate) -> &mut BudgetDay {
        let connection = self.connection.clone();
        let granted = self.granted;
        self.dirty.insert((scope.clone(), day), ());
        let (account, resource) = scope.clone();
        self.lines.entry((scope, day)).or_insert_with(|| BudgetDay {
            connection,
            account,
            resource,
            day,
            used: 0,
            granted,
            blocked_until: None,
        })
    }

    /// A block still in force for the scope at `now` (a 429 may block past the day).
    fn blocked(&self, scope: &Scope, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.lines
            .iter()
            .filter(|((s, _), _)| s == scope)
            .filter_map(|(_, line)| line.blocked_until)
            .filter(|until| *until > now)
            .max()
    }

    /// When the next unattended call of `resource` on `account` is possible: `None` for
    /// now, else the time.
    pub fn next_allowed(
        &self,
        account: Option<&AccountId>,
        resource: &str,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let scope = self.scope(account, resource);
        if let Some(until) = self.blocked(&scope, now) {
            return Some(until);
        }
        let used = self
            .lines
            .get(&(scope, self.day_of(now)))
            .map_or(0, |line| line.used);
        (used >= self.granted).then(|| self.next_day_start(now))
    }

    /// Calls left today for `resource` on `account` (0 while blocked).
    pub fn remaining(
        &self,
        account: Option<&AccountId>,
        resource: &str,
        now: DateTime<Utc>,
    ) -> u32 {
        let scope = self.scope(account, resource);
        if self.blocked(&scope, now).is_some() {
            return 0;
        }
        let used = self
            .lines
            .get(&(scope, self.day_of(now)))
            .map_or(0, |line| line.used);
        self.granted.saturating_sub(used)
    }

    /// Whether an attempt may be sent; counts it if so. PSU-present and uncounted
    /// operations always pass.
    pub fn before_attempt(&mut self, call: &CallInfo<'_>, now: DateTime<Utc>) -> Result<(), Error> {
        let Some(resource) = resource_of(call.operation) else {
            return Ok(());
        };
        if call.psu_present {
            return Ok(());
        }
        let free = self.is_free_continuation(call.account, resource);
        let refused_until = if free {
            self.blocked(&self.scope(call.account, resource), now)
        } else {
            self.next_allowed(call.account, resource, now)
        };
        if let Some(until) = refused_until {
            let wait = (until - now).to_std().unwrap_or(Duration::ZERO);
            return Err(Error::new(
                ErrorKind::AccessExceeded {
                    retry_after: Some(wait),
                },
                call.bank,
                call.operation,
            )
            .with_detail(format!(
                "the sync's access budget allows no {resource} call before {}",
                until.to_rfc3339()
            )));
        }
        if free {
            return Ok(());
        }
        let scope = self.scope(call.account, resource);
        let granted = self.granted;
        let line = self.line(scope, self.day_of(now));
        line.used = line.used.saturating_add(1);
        line.granted = granted;
        if line.used == granted {
            // The day's last call: said once per scope and day.
            let until = self.next_day_start(now);
            self.events.push(NewEvent {
                connection: self.connection.clone(),
                account: call.account.cloned(),
                kind: EventKind::BudgetExhausted,
                at: now,
                error_kind: None,
                detail: format!(
                    "{resource}: the last of {granted} unattended calls today; next after {}",
                    until.to_rfc3339()
                ),
            });
        }
        Ok(())
    }

    /// Records how an attempt ended: a 429 blocks the scope until `Retry-After` (or the
    /// next day without one); a failure is refunded where failed calls are free.
    pub fn after_attempt(
        &mut self,
        call: &CallInfo<'_>,
        outcome: &AttemptOutcome,
        now: DateTime<Utc>,
    ) {
        let Some(resource) = resource_of(call.operation) else {
            return;
        };
        if call.psu_present {
            return;
        }
        let free = self.is_free_continuation(call.account, resource);
        if matches!(outcome, AttemptOutcome::Succeeded { .. }) && resource == "transactions" {
            // The listing's first request was answered: what follows are continuations.
            if let Some(continuing) = self.listings.get_mut(&call.account.cloned()) {
                *continuing = true;
            }
        }
        let AttemptOutcome::Failed {
            kind,
            status,
            retry_after,
            ..
        } = outcome
        else {
            return;
        };
        let scope = self.scope(call.account, resource);
        let day = self.day_of(now);
        let rate_limited = *status == Some(429) || matches!(kind, ErrorKind::AccessExceeded { .. });
        if rate_limited {
            let until = retry_after
                .and_then(|d| TimeDelta::from_std(d).ok())
                .and_then(|d| now.checked_add_signed(d))
                .unwrap_or_else(|| self.next_day_start(now));
            let line = self.line(scope, day);
            line.blocked_until = Some(line.blocked_until.map_or(until, |b| b.max(until)));
            self.events.push(NewEvent {
                connection: self.connection.clone(),
                account: call.account.cloned(),
                kind: EventKind::BudgetExhausted,
                at: now,
                error_kind: None,
                detail: format!(
                    "{resource}: the bank answered 429; blocked until {}",
                    until.to_rfc3339()
                ),
            });
        } else if self.settings.failed_calls_free && !free {
            let line = self.line(scope, day);
            line.used = line.used.saturating_sub(1);
        }
    }

    /// The lines changed since the last call, to write with the next commit.
    pub fn take_dirty(&mut self) -> Vec<BudgetDay> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_keys()
            .filter_map(|key| self.lines.get(&key).cloned())
            .collect()
    }

    /// Events raised since the last call (budget exhausted, 429 blocks).
    pub fn take_events(&mut self) -> Vec<NewEvent> {
        std::mem::take(&mut self.events)
    }

    /// All lines (for status output).
    pub fn lines(&self) -> impl Iterator<Item = &BudgetDay> {
        self.lines.values()
    }
}

/// The [`AttemptHook`] that runs every attempt through a shared [`Ledger`].
#[derive(Debug, Clone)]
pub struct BudgetHook {
    ledger: Arc<Mutex<Ledger>>,
    clock: Arc<dyn Clock>,
}

impl BudgetHook {
    /// A hook over `ledger` reading the time from `clock`.
    pub fn new(ledger: Arc<Mutex<Ledger>>, clock: Arc<dyn Clock>) -> Self {
        Self { ledger, clock }
    }
}

/// Locks a ledger; a poisoned lock (a panic elsewhere) still yields the data.
pub fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    match ledger.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl AttemptHook for BudgetHook {
    fn before_attempt(&self, call: &CallInfo<'_>) -> Result<(), Error> {
        lock(&self.ledger).before_attempt(call, self.clock.now())
    }

    fn after_attempt(&self, call: &CallInfo<'_>, outcome: &AttemptOutcome) {
        lock(&self.ledger).after_attempt(call, outcome, self.clock.now());
    }
}
