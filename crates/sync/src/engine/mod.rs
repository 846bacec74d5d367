//! The sync engine: one connection at a time, account by account, page by page.
//!
//! [`Engine::sync`] reads the consent's status, emits lifecycle events, lists the accounts
//! when it does not know them yet, then reads each account's window (see
//! [`crate::window`]) page by page through the facade's resumable listing. Each page is
//! matched against the stored entries ([`crate::identity`]) and committed in one store
//! transaction with its changes, the listing's progress, the budget lines and the events.
//! Every bank call runs with a [`BudgetHook`] in scope, so no unattended attempt (retries
//! included) is sent that the budget does not allow.
//!
//! Events committed to the store's outbox are also sent to subscribers
//! ([`Engine::subscribe`], [`Engine::event_stream`]).

mod account;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use psd2::{AccountId, Bank, Consent, Error, Psu, Session};
use tokio::sync::broadcast;

use crate::budget::{BudgetHook, Ledger, lock};
use crate::clock::Clock;
use crate::lifecycle::{check_consent, classify_error};
use crate::model::{
    CommitCursors, Connection, ConnectionAccount, ConnectionId, ConnectionState, ConsentState,
    Event, NewEvent, PageCommit, PsuRecord, SessionRecord,
};
use crate::settings::BankSyncSettings;
use crate::store::{Store, StoreError};

/// Why a sync could not run at all (bank errors of a running sync are reported in
/// [`SyncReport`] and as events instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No connection with this id.
    #[error("no connection {0}")]
    UnknownConnection(ConnectionId),
    /// No adapter for the connection's bank.
    #[error("no adapter for bank {0:?}")]
    UnknownBank(String),
    /// The bank adapter has no account information capability.
    #[error("bank {0:?} offers no account information")]
    NoAccountInformation(String),
    /// A value could not be written as JSON.
    #[error("could not serialize a transaction: {0}")]
    Json(#[from] serde_json::Error),
    /// A page's commit, run as its own task, ended without an answer (it panicked or the
    /// runtime shut down); whether it was written is unknown until the next sync reads it.
    #[error("a page commit ended abnormally: {0}")]
    CommitTask(String),
    /// The task loading an account's stored entries ended abnormally (it panicked or the
    /// runtime shut down); nothing was written.
    #[error("loading the stored entries ended abnormally: {0}")]
    LoadTask(String),
}

/// Gives the bank adapter for a connection.
pub trait BankResolver: Send + Sync {
    /// The adapter serving `connection` (its bank and base URL).
    fn resolve(&self, connection: &Connection) -> Result<Arc<dyn Bank>, SyncError>;
}

impl<F> BankResolver for F
where
    F: Fn(&Connection) -> Result<Arc<dyn Bank>, SyncError> + Send + Sync,
{
    fn resolve(&self, connection: &Connection) -> Result<Arc<dyn Bank>, SyncError> {
        self(connection)
    }
}

/// How one account's sync ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountOutcome {
    /// The listing completed.
    Complete,
    /// The budget allows no call now; the listing resumes from its progress at `until`.
    Deferred {
        /// The earliest time the next call is allowed.
        until: DateTime<Utc>,
    },
    /// A bank error ended the listing (its progress is kept).
    Failed {
        /// The facade's error kind, as text.
        kind: String,
    },
}

/// What a sync did to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountReport {
    /// The account.
    pub account: AccountId,
    /// Entries seen for the first time.
    pub added: u32,
    /// Entries that changed.
    pub modified: u32,
    /// Pending entries no longer listed.
    pub removed: u32,
    /// Entries listed again unchanged.
    pub unchanged: u32,
    /// Entries that did not map and were set aside as events.
    pub quarantined: u32,
    /// Pages committed.
    pub pages: u32,
    /// How it ended.
    pub outcome: AccountOutcome,
}

impl AccountReport {
    fn new(account: AccountId) -> Self {
        Self {
            account,
            added: 0,
            modified: 0,
            removed: 0,
            unchanged: 0,
            quarantined: 0,
            pages: 0,
            outcome: AccountOutcome::Complete,
        }
    }
}

/// What one sync of a connection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// The connection.
    pub connection: ConnectionId,
    /// Its state after the sync.
    pub state: ConnectionState,
    /// Per account, in the connection's order.
    pub accounts: Vec<AccountReport>,
    /// When it is due next.
    pub next_sync_at: Option<DateTime<Utc>>,
    /// Events emitted.
    pub events: u32,
}

impl SyncReport {
    /// Sums of added, modified and removed over all accounts.
    pub fn totals(&self) -> (u32, u32, u32) {
        self.accounts.iter().fold((0, 0, 0), |(a, m, r), acc| {
            (
                a.saturating_add(acc.added),
                m.saturating_add(acc.modified),
                r.saturating_add(acc.removed),
            )
        })
    }
}

/// Sees each committed page (for progress bars).
pub trait SyncObserver: Send + Sync {
    /// A page of `account` was committed; `pages` so far in this listing, `entries` on it.
    fn page(&self, connection: &ConnectionId, account: &AccountId, pages: u32, entries: usize);
}

/// The sync engine over a store, the bank adapters and a clock.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    banks: Arc<dyn BankResolver>,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<Event>,
    observer: Option<Arc<dyn SyncObserver>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// The state of one running connection sync, shared by its steps.
struct Run<'a> {
    connection: Connection,
    bank: &'a dyn Bank,
    session: Session,
    psu: Psu,
    settings: BankSyncSettings,
    ledger: Arc<Mutex<Ledger>>,
    events: u32,
    lease: Option<Lease>,
}

/// A worker's lease on the connection being synced.
#[derive(Debug, Clone)]
struct Lease {
    worker: String,
    length: Duration,
}

/// Writes one connection's commits: under the worker's lease when there is one (renewing
/// it after each commit), else plainly.
struct Committer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    connection: ConnectionId,
    lease: Option<Lease>,
}

impl Committer {
    /// Commits `commit`; fails with [`StoreError::LeaseLost`] when the lease is gone.
    async fn write(&self, commit: &PageCommit) -> Result<CommitCursors, SyncError> {
        let Some(lease) = &self.lease else {
            return Ok(self.store.commit_page(commit).await?);
        };
        let cursors = self.store.commit_page_leased(&lease.worker, commit).await?;
        let renewed = self
            .store
            .renew_lease(
                &lease.worker,
                &self.connection,
                self.clock.now(),
                lease.length,
            )
            .await?;
        if !renewed {
            return Err(SyncError::Store(StoreError::LeaseLost {
                connection: self.connection.to_string(),
            }));
        }
        Ok(cursors)
    }
}

impl Engine {
    /// An engine over `store`, resolving adapters with `banks`, reading time from `clock`.
    pub fn new(store: Arc<dyn Store>, banks: Arc<dyn BankResolver>, clock: Arc<dyn Clock>) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self {
            store,
            banks,
            clock,
            events,
            observer: None,
        }
    }

    /// Reports every committed page to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn SyncObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Events as they are committed (a slow receiver loses the oldest; the outbox has all).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// [`Engine::subscribe`] as a stream (lagged events are skipped; read the outbox for
    /// a complete history).
    pub fn event_stream(&self) -> BoxStream<'static, Event> {
        let receiver = self.subscribe();
        futures::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) => return Some((event, receiver)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }

    /// Stores a new connection for an authorised `session` (PSU present now or not: the
    /// IP address is never stored). `consent`, when known, gives status, validity and the
    /// granted frequency; otherwise the first sync reads them.
    pub async fn add_connection(
        &self,
        bank: &str,
        base_url: &str,
        session: &Session,
        psu: &Psu,
        consent: Option<&Consent>,
        settings: BankSyncSettings,
    ) -> Result<Connection, SyncError> {
        let now = self.clock.now();
        let consent = ConsentState {
            status: consent.map_or(psd2::ConsentStatus::Valid, |c| c.status.clone()),
            valid_until: consent.and_then(|c| c.valid_until),
            frequency_per_day: consent.and_then(|c| c.frequency_per_day),
            checked_at: consent.map(|_| now),
            expiring_notice_for: None,
        };
        let connection = Connection {
            id: ConnectionId::random(),
            bank: bank.to_string(),
            base_url: base_url.to_string(),
            session: SessionRecord::from_session(session),
            psu: PsuRecord::from_psu(psu),
            consent,
            state: ConnectionState::Active,
            accounts: Vec::new(),
            settings,
            created_at: now,
            last_sync_at: None,
            next_sync_at: None,
        };
        self.store.add_connection(&connection).await?;
        Ok(connection)
    }

    /// Syncs the connection with id `id` now.
    pub async fn sync_connection(&self, id: &ConnectionId) -> Result<SyncReport, SyncError> {
        let connection = self
            .store
            .connection(id)
            .await?
            .ok_or_else(|| SyncError::UnknownConnection(id.clone()))?;
        self.sync(connection).await
    }

    /// Syncs up to `limit` due connections for `worker`, claiming ONE at a time (so a
    /// lease only ever covers the connection being synced, and other workers share the
    /// rest of the round), committing only while the lease is still `worker`'s, then
    /// releasing it; its next due time is written with the connection. A connection that
    /// fails does not stop the others; the error is returned only when no connection was
    /// synced. The round ends when nothing is due, or a connection comes round again.
    pub async fn run_due(
        &self,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<SyncReport>, SyncError> {
        let mut reports = Vec::new();
        let mut first_error = None;
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..limit {
            let claimed = match self
                .store
                .claim_due(worker, self.clock.now(), lease, 1)
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    first_error.get_or_insert(SyncError::Store(error));
                    break;
                }
            };
            let Some(connection) = claimed.into_iter().next() else {
                break;
            };
            let id = connection.id.clone();
            if !seen.insert(id.clone()) {
                // Synced (or failed) once this round already and still due: give it back
                // for the next round.
                if let Err(error) = self.store.release(worker, &id).await {
                    first_error.get_or_insert(SyncError::Store(error));
                }
                break;
            }
            let held = Lease {
                worker: worker.to_string(),
                length: lease,
            };
            // One connection's failure (a store error, a lost lease) does not stop the
            // others; every claimed connection is released.
            let report = self.sync_as(connection, Some(held)).await;
            let released = self.store.release(worker, &id).await;
            match (report, released) {
                (Ok(report), Ok(_)) => reports.push(report),
                (Err(error), _) => {
                    tracing::warn!(connection = %id, %error, "sync failed");
                    first_error.get_or_insert(error);
                }
                (Ok(_), Err(error)) => {
                    tracing::warn!(connection = %id, %error, "release failed");
                    first_error.get_or_insert(SyncError::Store(error));
                }
            }
        }
        match first_error {
            Some(error) if reports.is_empty() => Err(error),
            _ => Ok(reports),
        }
    }

    /// Syncs one connection now, without a lease (one process, or the caller claimed it).
    pub async fn sync(&self, connection: Connection) -> Result<SyncReport, SyncError> {
        self.sync_as(connection, None).await
    }

    /// Syncs one connection, committing under `lease` when given.
    async fn sync_as(
        &self,
        connection: Connection,
        lease: Option<Lease>,
    ) -> Result<SyncReport, SyncError> {
        let bank = self.banks.resolve(&connection)?;
        let now = self.clock.now();
        let settings = connection.settings.clone().sanitized();
        let granted = connection
            .consent
            .frequency_per_day
            .unwrap_or(settings.default_frequency_per_day);
        let mut ledger = Ledger::new(connection.id.clone(), settings.clone(), granted, Vec::new());
        let since = ledger
            .day_of(now)
            .pred_opt()
            .unwrap_or(chrono::NaiveDate::MIN);
        let lines = self.store.budget(&connection.id, since).await?;
        ledger = Ledger::new(connection.id.clone(), settings.clone(), granted, lines);
        let ledger = Arc::new(Mutex::new(ledger));
        let hook = Arc::new(BudgetHook::new(ledger.clone(), self.clock.clone()));
        let run = Run {
            session: connection.session.to_session(),
            psu: connection.psu.to_psu(),
            settings,
            connection,
            bank: bank.as_ref(),
            ledger,
            events: 0,
            lease,
        };
        psd2::with_attempt_hook(hook, self.run(run)).await
    }

    async fn run(&self, mut run: Run<'_>) -> Result<SyncReport, SyncError> {
        let mut accounts = Vec::new();
        self.refresh_consent(&mut run).await?;
        if run.connection.state == ConnectionState::Active {
            accounts = self.sync_accounts(&mut run).await?;
        }
        self.finish(run, accounts).await
    }

    async fn refresh_consent(&self, run: &mut Run<'_>) -> Result<(), SyncError> {
        let now = self.clock.now();
        let mut events = Vec::new();
        if let Some(consents) = run.bank.as_consents() {
            match consents.consent(&run.session.consent_id, &run.psu).await {
                Ok(consent) => {
                    let state = &mut run.connection.consent;
                    state.status = consent.status;
                    state.valid_until = consent.valid_until.or(state.valid_until);
                    if let Some(frequency) = consent.frequency_per_day {
                        state.frequency_per_day = Some(frequency);
                        lock(&run.ledger).set_granted(frequency);
                    }
                    state.checked_at = Some(now);
                }
                Err(error) => events.extend(self.on_error(run, &error, None)),
            }
        }
        if run.connection.state == ConnectionState::Active {
            let today = lock(&run.ledger).day_of(now);
            let verdict = check_consent(&run.connection, today, now);
            run.connection.state = verdict.state;
            run.connection.consent.expiring_notice_for = verdict.expiring_notice_for;
            events.extend(verdict.events);
        }
        self.commit_events(run, events).await
    }

    /// The events an error implies, and the connection's new state.
    fn on_error(
        &self,
        run: &mut Run<'_>,
        error: &Error,
        account: Option<&AccountId>,
    ) -> Vec<NewEvent> {
        let (state, mut event) = classify_error(&run.connection, &error.kind, self.clock.now());
        event.account = account.cloned();
        if let Some(state) = state {
            run.connection.state = state;
        }
        if event.kind == crate::model::EventKind::BudgetExhausted {
            // The budget hook already reported the refusal or the 429.
            return Vec::new();
        }
        vec![event]
    }

    async fn commit_events(
        &self,
        run: &mut Run<'_>,
        events: Vec<NewEvent>,
    ) -> Result<(), SyncError> {
        let mut commit = PageCommit::new(run.connection.id.clone());
        commit.events = events;
        {
            let mut ledger = lock(&run.ledger);
            commit.budget = ledger.take_dirty();
            commit.events.extend(ledger.take_events());
        }
        if !commit.is_empty() {
            self.commit(run, &commit).await?;
        }
        Ok(())
    }

    /// Commits and publishes the commit's events.
    async fn commit(
        &self,
        run: &mut Run<'_>,
        commit: &PageCommit,
    ) -> Result<CommitCursors, SyncError> {
        let cursors = self.committer(run).write(commit).await?;
        self.publish(run, &commit.events, &cursors);
        Ok(cursors)
    }

    /// What writes `run`'s commits, owned (so a page's commit can run as its own task).
    fn committer(&self, run: &Run<'_>) -> Committer {
        Committer {
            store: self.store.clone(),
            clock: self.clock.clone(),
            connection: run.connection.id.clone(),
            lease: run.lease.clone(),
        }
    }

    /// Sends committed events to subscribers and counts them.
    fn publish(&self, run: &mut Run<'_>, events: &[NewEvent], cursors: &CommitCursors) {
        for (event, cursor) in events.iter().zip(&cursors.events) {
            run.events = run.events.saturating_add(1);
            let _ = self.events.send(Event {
                cursor: *cursor,
                connection: event.connection.clone(),
                account: event.account.clone(),
                kind: event.kind.clone(),
                at: event.at,
                error_kind: event.error_kind.clone(),
                detail: event.detail.clone(),
            });
        }
    }

    async fn sync_accounts(&self, run: &mut Run<'_>) -> Result<Vec<AccountReport>, SyncError> {
        let bank_name = run.connection.bank.clone();
        let bank = run.bank;
        let ai = bank
            .as_account_information()
            .ok_or(SyncError::NoAccountInformation(bank_name))?;
        if run.connection.accounts.is_empty() {
            match ai.accounts(&run.session, &run.psu, false).await {
                Ok(list) => {
                    run.connection.accounts = list
                        .into_iter()
                        .map(|a| ConnectionAccount {
                            id: a.id,
                            card: false,
                            latest_booked: None,
                            synced_at: None,
                        })
                        .collect();
                }
                Err(error) => {
                    let events = self.on_error(run, &error, None);
                    self.commit_events(run, events).await?;
                    return Ok(Vec::new());
                }
            }
        }
        let mut reports = Vec::new();
        for index in 0..run.connection.accounts.len() {
            if run.connection.state != ConnectionState::Active {
                break;
            }
            let Some(account) = run.connection.accounts.get(index).cloned() else {
                break;
            };
            let (report, latest) = self.sync_account(run, ai, &account).await?;
            if let Some(slot) = run.connection.accounts.get_mut(index) {
                if report.outcome == AccountOutcome::Complete {
                    slot.synced_at = Some(self.clock.now());
                }
                slot.latest_booked = slot.latest_booked.max(latest);
            }
            reports.push(report);
        }
        Ok(reports)
    }

    async fn finish(
        &self,
        mut run: Run<'_>,
        accounts: Vec<AccountReport>,
    ) -> Result<SyncReport, SyncError> {
        let now = self.clock.now();
        self.commit_events(&mut run, Vec::new()).await?;
        let per_day = i64::from(run.settings.syncs_per_day.max(1));
        let spacing = TimeDelta::seconds(86_400 / per_day);
        let mut next = now.checked_add_signed(spacing);
        let deferred: Vec<DateTime<Utc>> = accounts
            .iter()
            .filter_map(|a| match a.outcome {
                AccountOutcome::Deferred { until } => Some(until),
                _ => None,
            })
            .collect();
        if !accounts.is_empty() && deferred.len() == accounts.len() {
            next = next.max(deferred.iter().min().copied());
        }
        let current = run.bank.current_session(&run.session);
        run.connection.session = SessionRecord::from_session(&current);
        run.connection.last_sync_at = Some(now);
        run.connection.next_sync_at = next;
        match &run.lease {
            Some(lease) => {
                self.store
                    .update_connection_leased(&lease.worker, &run.connection)
                    .await?;
            }
            None => self.store.update_connection(&run.connection).await?,
        }
        Ok(SyncReport {
            connection: run.connection.id.clone(),
            state: run.connection.state.clone(),
            accounts,
            next_sync_at: next,
            events: run.events,
        })
    }
}
