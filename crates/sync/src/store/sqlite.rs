//! The SQLite store: the embedded default, one file in WAL mode.

use std::path::Path;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::migrate;
use super::rows::{iso_date, sqlite_time};

/// The page size of a new database file, in bytes.
const PAGE_SIZE: u32 = 16_384;

/// WAL pages after which a commit checkpoints (4 MiB at [`PAGE_SIZE`]).
const WAL_AUTOCHECKPOINT_PAGES: &str = "256";

/// Rows a query reads ahead of its reader (see [`SqliteStore::open`]).
const ROW_BUFFER: usize = 4096;

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A [`Store`] in an SQLite database file (or in memory).
///
/// WAL journal with `synchronous = NORMAL`: a commit is in the WAL file (the operating
/// system's cache) when it returns, and SQLite syncs to disk only at checkpoints. So a
/// killed process (SIGKILL, a panic, an OOM kill) loses no committed page, which is what the
/// kill test checks; a power cut or an operating system crash may lose the last few
/// commits, never half of one (the store is then as after an earlier commit, and the next
/// sync reads those entries again). Writers take the
/// database's write lock, so one process syncs at a time; others may read meanwhile.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to
    /// date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // 16 KiB pages for a new file (an existing one keeps its size): a stored
            // transaction is about 1.2 KB, so a 4 KiB page held three and every commit
            // wrote, logged and checkpointed four times as many pages.
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // 32 MiB of page cache per connection (SQLite's default is 2 MiB): a sync's
            // index pages stay in memory between its page commits.
            .pragma("cache_size", "-32768")
            // A checkpoint every 4 MiB of WAL, as with SQLite's default of 1,000 pages of
            // 4 KiB: with 16 KiB pages the default would let 16 MiB gather, and the commit
            // that crosses it (an incremental sync's, say) copies all of it.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            // Rows a query's worker thread may read ahead of the task taking them (sqlx's
            // default is 50): a sync's window of thousands of rows then crosses threads in
            // runs instead of one row per wake-up.
            .row_buffer_size(ROW_BUFFER);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::db("open sqlite", e))?;
        Self::migrated(pool).await
    }

    /// A private in-memory database (gone when the store is dropped), for tests and tries.
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // Every in-memory connection is its own database: keep exactly one, forever.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::db("open sqlite", e))?;
        Self::migrated(pool).await
    }

    async fn migrated(pool: SqlitePool) -> Result<Self, StoreError> {
        migrate::migrator(migrate::SQLITE)
            .await?
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))?;
        Ok(Self { pool })
    }

    /// The schema versions applied, oldest first (from sqlx's `_sqlx_migrations`).
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let rows =
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::db("applied_migrations", e))?;
        rows.iter()
            .map(|r| {
                r.try_get::<i64, _>(0)
                    .map_err(|e| StoreError::db("applied_migrations", e))
            })
            .collect()
    }

    /// Closes the pool (waits for open connections to finish).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

super::sql::impl_store!(
    store = SqliteStore,
    db = sqlx::Sqlite,
    engine = StoreEngine::Sqlite,
    amount_out = "amount",
    open_entry = "status = 'pending' AND removed = 0",
    not_removed = "removed = 0",
    skip_locked = "",
);

/// Rows per multi-row `INSERT`: 16 columns x 1000 stays under SQLite's 32766 variables.
const INSERT_CHUNK: usize = 1000;

impl SqliteStore {
    /// Inserts a commit's changes: multi-row `INSERT ... VALUES` (prepared once per row
    /// count and reused).
    async fn write_changes(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        rows: Vec<ChangeWrite<'_>>,
    ) -> Result<(), StoreError> {
        // The changes of one page share their time: its text is made once.
        let mut at: Option<(DateTime<Utc>, String)> = None;
        for chunk in rows.chunks(INSERT_CHUNK) {
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO changes (connection_id, cursor, account, tx_key, kind, tx_json, at) ",
            );
            qb.push_values(chunk, |mut b, r| {
                let text = match &at {
                    Some((time, text)) if *time == r.at => text.clone(),
                    _ => at.insert((r.at, sqlite_time(r.at))).1.clone(),
                };
                b.push_bind(r.connection_id)
                    .push_bind(r.cursor)
                    .push_bind(r.account)
                    .push_bind(r.tx_key)
                    .push_bind(r.kind)
                    .push_bind(r.tx_json.as_deref())
                    .push_bind(text);
            });
            qb.build()
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::db("commit_page: changes", e))?;
        }
        Ok(())
    }

    /// Inserts or replaces a commit's transactions: multi-row `INSERT ... VALUES ... ON
    /// CONFLICT DO UPDATE`.
    async fn write_transactions(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        rows: Vec<TxWrite<'_>>,
    ) -> Result<(), StoreError> {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk = rows.by_ref().take(INSERT_CHUNK);
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
                "INSERT INTO transactions (",
                super::sql::tx_columns!("amount"),
                ") "
            ));
            qb.push_values(chunk, |mut b, r| {
                // Values made for the row (amount, and JSON encoded here) move into the
                // arguments; borrowed ones are copied once, when the statement is sent.
                b.push_bind(r.connection_id)
                    .push_bind(r.tx_key)
                    .push_bind(r.account)
                    .push_bind(r.bank_id)
                    .push_bind(r.status)
                    .push_bind(r.fingerprint)
                    .push_bind(r.occurrence)
                    .push_bind(r.entry_date.map(iso_date))
                    .push_bind(r.booking_date.map(iso_date))
                    .push_bind(r.value_date.map(iso_date))
                    .push_bind(r.amount)
                    .push_bind(r.currency)
                    .push_bind(r.tx_json)
                    .push_bind(r.removed)
                    .push_bind(r.last_listing)
                    .push_bind(r.last_cursor);
            });
            qb.push(super::sql::tx_on_conflict!());
            qb.build()
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::db("commit_page: transactions", e))?;
        }
        Ok(())
    }
}
