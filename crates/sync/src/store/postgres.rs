//! The PostgreSQL store: one database shared by several sync workers.

use std::str::FromStr;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::migrate;

/// A [`Store`] in a PostgreSQL database, shared by several workers (processes, machines).
///
/// Workers claim due connections with `SELECT ... FOR UPDATE SKIP LOCKED` inside
/// [`Store::claim_due`]: two workers claiming at the same moment never wait for each other
/// and never get the same connection. A claim is a lease until a time; a worker that dies
/// holds its connections only until then, and [`Store::commit_page_leased`] refuses the
/// commit of a worker whose expired lease another worker took.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/database`), with a pool
    /// of up to 8 connections, and brings the schema up to date. The error never quotes the
    /// URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_pool_size(url, 8).await
    }

    /// [`PgStore::connect`] with a pool of up to `connections` connections.
    pub async fn connect_with_pool_size(url: &str, connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::db("connect to postgres", e))?;
        // One direct attempt first: a wrong URL or a server that is down fails at once
        // instead of after the pool's acquire timeout.
        sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(|e| StoreError::db("connect to postgres", e))?
            .close()
            .await
            .map_err(|e| StoreError::db("connect to postgres", e))?;
        let pool = PgPoolOptions::new()
            .max_connections(connections.max(1))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::db("connect to postgres", e))?;
        migrate::migrator(migrate::POSTGRES)
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
    store = PgStore,
    db = sqlx::Postgres,
    engine = StoreEngine::Postgres,
    amount_in = "::numeric",
    amount_out = "amount::text AS amount",
    open_entry = "status = 'pending' AND NOT removed",
    not_removed = "NOT removed",
    skip_locked = " FOR UPDATE SKIP LOCKED",
);
