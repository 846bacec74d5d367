//! The SQLite store: the embedded default, one file in WAL mode.

use std::path::Path;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::migrate;

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A [`Store`] in an SQLite database file (or in memory).
///
/// WAL journal with `synchronous = NORMAL`: a killed process loses no committed page (a
/// power cut may lose the last few commits, never half of one). Writers take the
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
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
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
    amount_in = "",
    amount_out = "amount",
    open_entry = "status = 'pending' AND removed = 0",
    not_removed = "removed = 0",
    skip_locked = "",
);
