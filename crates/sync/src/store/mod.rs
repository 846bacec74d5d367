//! Where a sync keeps its state: the [`Store`] trait and its two implementations.
//!
//! - [`SqliteStore`]: the embedded default, one file (e.g. `psd2.db`) in WAL mode, nothing
//!   to install. One process at a time syncs from it; several may read.
//! - [`PgStore`]: PostgreSQL, for several `psd2 sync` workers on several machines sharing
//!   one database. Workers take due connections with [`Store::claim_due`] (`SELECT ... FOR
//!   UPDATE SKIP LOCKED` and a lease that expires), so a killed worker's connections are
//!   picked up by another once its lease runs out, and no connection is synced by two
//!   workers at once ([`Store::commit_page_leased`] refuses a commit from a worker whose
//!   lease was taken over).
//!
//! Both run the same versioned migrations (`crates/sync/migrations/<engine>/`) on open, from
//! an empty database up, and pass one shared test suite. Queries are checked at run time
//! (building needs no database).
//!
//! [`Store::commit_page`] writes a [`PageCommit`] (transactions, changes with their cursors,
//! listing progress, budget ledger lines, events) in ONE database transaction: a process
//! killed at any moment leaves either all of it or none of it. Change cursors grow per
//! connection, event cursors over the whole outbox; both are assigned in commit order (a
//! writer holds the counter's row until it commits), so [`Store::changes_since`] and
//! [`Store::events_since`] give a reader everything exactly once, in order.

mod entry;
mod error;
mod migrate;
mod postgres;
mod rows;
mod sql;
mod sql_trait;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use psd2::AccountId;

use crate::model::{
    BudgetDay, Change, CommitCursors, Connection, ConnectionId, Event, PageCommit, Progress,
    StoredTransaction,
};

pub use entry::StoredEntry;
pub use error::StoreError;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Which database a store keeps its data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreEngine {
    /// An SQLite file (or memory).
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

impl StoreEngine {
    /// `sqlite` or `postgres`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A sync's durable state. Object safe: the engine and the CLI hold an `Arc<dyn Store>`.
///
/// Times passed in (`now`) come from the caller's clock, so a simulated clock drives due
/// times and leases alike; PostgreSQL workers on several machines need clocks in step
/// (NTP), because a lease is a time.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Which database this store uses.
    fn engine(&self) -> StoreEngine;

    /// Adds a connection. Errors with [`StoreError::AlreadyExists`] when its id is taken.
    async fn add_connection(&self, connection: &Connection) -> Result<(), StoreError>;

    /// Replaces a connection's fields (session, consent, state, accounts, settings, sync
    /// times). Its change cursor and lease are not touched. [`StoreError::NotFound`] when
    /// it does not exist.
    async fn update_connection(&self, connection: &Connection) -> Result<(), StoreError>;

    /// [`Store::update_connection`] for a worker holding a lease: fails with
    /// [`StoreError::LeaseLost`] and writes nothing when the connection's lease is no
    /// longer `worker`'s.
    async fn update_connection_leased(
        &self,
        worker: &str,
        connection: &Connection,
    ) -> Result<(), StoreError>;

    /// One connection, if it exists.
    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError>;

    /// Every connection, ordered by creation time then id.
    async fn connections(&self) -> Result<Vec<Connection>, StoreError>;

    /// Deletes a connection with its transactions, changes, budget and progress (its
    /// events stay in the outbox). Whether it existed.
    async fn delete_connection(&self, id: &ConnectionId) -> Result<bool, StoreError>;

    /// The stored transactions of one account a sync matches a listing against: every
    /// entry (removed ones included) whose date is on or after `from` or unknown, plus every
    /// open pending entry (not removed) whatever its date. `from = None`: the whole
    /// account. Ordered by date (unknown first), occurrence, key.
    async fn load_account_state(
        &self,
        connection: &ConnectionId,
        account: &AccountId,
        from: Option<NaiveDate>,
    ) -> Result<Vec<StoredTransaction>, StoreError>;

    /// What a sync matches a listing against, in the form matching reads: the entries of
    /// [`Store::load_account_state`] that are not removed, in no particular order (the
    /// matcher orders them), each with its transaction kept as the stored JSON text and
    /// parsed only when asked for ([`StoredEntry::transaction`]). The default reads
    /// [`Store::load_account_state`].
    async fn load_window(
        &self,
        connection: &ConnectionId,
        account: &AccountId,
        from: Option<NaiveDate>,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = self.load_account_state(connection, account, from).await?;
        Ok(rows
            .into_iter()
            .filter(|row| !row.removed)
            .map(StoredEntry::from_stored)
            .collect())
    }

    /// The latest date of a booked, not removed entry of the account (where the next
    /// incremental window starts, less the overlap); `None` before the first sync.
    async fn latest_booked_date(
        &self,
        connection: &ConnectionId,
        account: &AccountId,
    ) -> Result<Option<NaiveDate>, StoreError>;

    /// How many transactions are stored for a connection (removed ones included).
    async fn transaction_count(&self, connection: &ConnectionId) -> Result<u64, StoreError>;

    /// Writes everything in `commit` in one database transaction and returns the cursors
    /// it assigned (one per change and per event, in order). Transactions are inserted or
    /// replaced by key, each with `last_cursor` set to the cursor of the last change about
    /// it in this commit (else kept as given). [`StoreError::NotFound`] when the
    /// connection does not exist; nothing is written then.
    async fn commit_page(&self, commit: &PageCommit) -> Result<CommitCursors, StoreError>;

    /// [`Store::commit_page`] for a worker holding a lease: fails with
    /// [`StoreError::LeaseLost`] and writes nothing when the connection's lease is no
    /// longer `worker`'s (another worker claimed it after it expired).
    async fn commit_page_leased(
        &self,
        worker: &str,
        commit: &PageCommit,
    ) -> Result<CommitCursors, StoreError>;

    /// The connection's changes with a cursor above `after`, in cursor order, at most
    /// `limit`. Pass the last cursor seen to read on; `0` reads from the start.
    async fn changes_since(
        &self,
        connection: &ConnectionId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError>;

    /// The last change cursor the connection assigned (`0`: none yet).
    async fn change_cursor(&self, connection: &ConnectionId) -> Result<u64, StoreError>;

    /// Outbox events (all connections) with a cursor above `after`, in cursor order, at
    /// most `limit`.
    async fn events_since(&self, after: u64, limit: u32) -> Result<Vec<Event>, StoreError>;

    /// The connection's budget ledger lines for days on or after `since`, ordered by day,
    /// account, resource.
    async fn budget(
        &self,
        connection: &ConnectionId,
        since: NaiveDate,
    ) -> Result<Vec<BudgetDay>, StoreError>;

    /// Inserts or replaces ledger lines outside a page commit (e.g. a call that failed
    /// before any page arrived).
    async fn save_budget(&self, lines: &[BudgetDay]) -> Result<(), StoreError>;

    /// An account's saved listing progress, if a listing of it was interrupted.
    async fn progress(
        &self,
        connection: &ConnectionId,
        account: &AccountId,
    ) -> Result<Option<Progress>, StoreError>;

    /// Forgets an account's listing progress (the bank no longer accepts the cursor).
    async fn clear_progress(
        &self,
        connection: &ConnectionId,
        account: &AccountId,
    ) -> Result<(), StoreError>;

    /// Claims up to `limit` due connections for `worker` until `now + lease`: active ones
    /// whose `next_sync_at` is unset or not after `now` and whose lease is free or expired,
    /// most overdue first. A connection another worker is claiming at the same moment is
    /// skipped, never waited for.
    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Connection>, StoreError>;

    /// Extends `worker`'s lease on a connection to `now + lease`. `false` when the lease is
    /// no longer `worker`'s.
    async fn renew_lease(
        &self,
        worker: &str,
        connection: &ConnectionId,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError>;

    /// Gives a claimed connection back. `false` when the lease was no longer `worker`'s.
    async fn release(&self, worker: &str, connection: &ConnectionId) -> Result<bool, StoreError>;

    /// Who holds a connection's lease and until when (`None`: nobody ever claimed it or it
    /// was released).
    async fn lease(
        &self,
        connection: &ConnectionId,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError>;

    /// One page of an account's stored transactions in a period, for reading a whole
    /// period without holding it in memory (exports): entries that are not removed, have a
    /// date ([`StoredTransaction::date`]) within `query`'s bounds, and are booked (or also
    /// pending, when `query.include_pending`), ordered by date then key, after
    /// `query.after`, at most `query.limit`. Pass the last entry's date and key as the next
    /// page's `after`; a page shorter than the limit is the last.
    async fn transactions_page(
        &self,
        connection: &ConnectionId,
        account: &AccountId,
        query: &PeriodPage,
    ) -> Result<Vec<StoredTransaction>, StoreError>;
}

/// Which page of an account's stored transactions [`Store::transactions_page`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodPage {
    /// First day (inclusive); `None`: from the first stored entry.
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); `None`: up to the last stored entry.
    pub to: Option<NaiveDate>,
    /// Whether open pending entries are read too (booked ones always are).
    pub include_pending: bool,
    /// The date and key of the last entry of the previous page (`None`: the first page).
    pub after: Option<(NaiveDate, crate::model::TxKey)>,
    /// At most this many entries.
    pub limit: u32,
}

/// Opens the store a database URL names, creating and migrating it as needed:
/// `sqlite:PATH` / `sqlite://PATH` (a file; `sqlite::memory:` for a private in-memory
/// database), `postgres://...` / `postgresql://...`. A bare path (no scheme) is an SQLite
/// file. The error never quotes the URL (it may hold a password).
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let trimmed = url.trim();
    if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::connect(trimmed).await?));
    }
    if let Some(rest) = trimmed.strip_prefix("sqlite:") {
        if rest == ":memory:" {
            return Ok(Arc::new(SqliteStore::in_memory().await?));
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let path = path.split('?').next().unwrap_or(path);
        return Ok(Arc::new(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ));
    }
    if trimmed.contains("://") {
        return Err(StoreError::UnsupportedUrl);
    }
    Ok(Arc::new(
        SqliteStore::open(std::path::Path::new(trimmed)).await?,
    ))
}

/// The database a sync uses when nothing is configured: `psd2.db` in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:psd2.db";
