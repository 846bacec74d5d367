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
    amount_out = "amount::text AS amount",
    open_entry = "status = 'pending' AND NOT removed",
    not_removed = "NOT removed",
    skip_locked = " FOR UPDATE SKIP LOCKED",
);

impl PgStore {
    /// Inserts a commit's changes: one statement over column arrays (`UNNEST`), the same
    /// prepared statement for every page.
    async fn write_changes(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        rows: Vec<ChangeWrite<'_>>,
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let n = rows.len();
        let (mut connection, mut cursor, mut account, mut key) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut kind, mut json, mut at) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for r in rows {
            connection.push(r.connection_id);
            cursor.push(r.cursor);
            account.push(r.account);
            key.push(r.tx_key);
            kind.push(r.kind);
            json.push(r.tx_json);
            at.push(r.at);
        }
        sqlx::query(
            "INSERT INTO changes (connection_id, cursor, account, tx_key, kind, tx_json, at) \
             SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::timestamptz[])",
        )
        .bind(connection)
        .bind(cursor)
        .bind(account)
        .bind(key)
        .bind(kind)
        .bind(json)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::db("commit_page: changes", e))?;
        Ok(())
    }

    /// Inserts or replaces a commit's transactions: one `INSERT ... SELECT FROM UNNEST(...)
    /// ON CONFLICT DO UPDATE` over column arrays.
    async fn write_transactions(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        rows: Vec<TxWrite<'_>>,
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut c = TxColumns::with_capacity(rows.len());
        for r in rows {
            c.push(r);
        }
        sqlx::query(concat!(
            "INSERT INTO transactions (",
            super::sql::tx_columns!("amount"),
            ") SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
             $5::text[], $6::text[], $7::int8[], $8::date[], $9::date[], $10::date[], \
             $11::text[]::numeric[], $12::text[], $13::text[], $14::bool[], $15::text[], \
             $16::int8[])",
            super::sql::tx_on_conflict!()
        ))
        .bind(c.connection)
        .bind(c.key)
        .bind(c.account)
        .bind(c.bank_id)
        .bind(c.status)
        .bind(c.fingerprint)
        .bind(c.occurrence)
        .bind(c.entry_date)
        .bind(c.booking_date)
        .bind(c.value_date)
        .bind(c.amount)
        .bind(c.currency)
        .bind(c.json)
        .bind(c.removed)
        .bind(c.last_listing)
        .bind(c.last_cursor)
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::db("commit_page: transactions", e))?;
        Ok(())
    }
}

/// `transactions` rows as one array per column (what `UNNEST` takes), borrowing from the
/// commit: each value is copied once, into the statement's arguments.
#[derive(Default)]
struct TxColumns<'a> {
    connection: Vec<&'a str>,
    key: Vec<&'a str>,
    account: Vec<&'a str>,
    bank_id: Vec<Option<&'a str>>,
    status: Vec<&'a str>,
    fingerprint: Vec<&'a str>,
    occurrence: Vec<i64>,
    entry_date: Vec<Option<NaiveDate>>,
    booking_date: Vec<Option<NaiveDate>>,
    value_date: Vec<Option<NaiveDate>>,
    amount: Vec<String>,
    currency: Vec<&'a str>,
    json: Vec<std::borrow::Cow<'a, str>>,
    removed: Vec<bool>,
    last_listing: Vec<Option<&'a str>>,
    last_cursor: Vec<i64>,
}

impl<'a> TxColumns<'a> {
    fn with_capacity(n: usize) -> Self {
        Self {
            connection: Vec::with_capacity(n),
            key: Vec::with_capacity(n),
            account: Vec::with_capacity(n),
            bank_id: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            fingerprint: Vec::with_capacity(n),
            occurrence: Vec::with_capacity(n),
            entry_date: Vec::with_capacity(n),
            booking_date: Vec::with_capacity(n),
            value_date: Vec::with_capacity(n),
            amount: Vec::with_capacity(n),
            currency: Vec::with_capacity(n),
            json: Vec::with_capacity(n),
            removed: Vec::with_capacity(n),
            last_listing: Vec::with_capacity(n),
            last_cursor: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, r: TxWrite<'a>) {
        self.connection.push(r.connection_id);
        self.key.push(r.tx_key);
        self.account.push(r.account);
        self.bank_id.push(r.bank_id);
        self.status.push(r.status);
        self.fingerprint.push(r.fingerprint);
        self.occurrence.push(r.occurrence);
        self.entry_date.push(r.entry_date);
        self.booking_date.push(r.booking_date);
        self.value_date.push(r.value_date);
        self.amount.push(r.amount);
        self.currency.push(r.currency);
        self.json.push(r.tx_json);
        self.removed.push(r.removed);
        self.last_listing.push(r.last_listing);
        self.last_cursor.push(r.last_cursor);
    }
}
