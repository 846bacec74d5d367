//! The SQL both stores run, written once: [`impl_store!`] expands to the whole [`Store`]
//! implementation for one sqlx database type. Both engines accept the same statements
//! (`$N` parameters, `ON CONFLICT ... DO UPDATE`, `RETURNING`); the few dialect words that
//! differ (amount cast, the open-entry predicate that matches the partial index, row locks
//! when claiming) are the macro's literal arguments. The bulk writes of a page (its changes
//! and transactions) are each engine's own `write_changes` / `write_transactions`: multi-row
//! `VALUES` in SQLite, one `UNNEST` of column arrays in PostgreSQL.
//!
//! [`Store`]: super::Store

/// The columns of `connections` that make a [`crate::model::Connection`].
macro_rules! connection_columns {
    () => {
        "id, bank, base_url, session_json, psu_json, consent_json, state, accounts_json, \
         settings_json, created_at, last_sync_at, next_sync_at"
    };
}

/// The columns of `transactions`, with the amount read as text.
macro_rules! tx_columns {
    ($amount_out:literal) => {
        concat!(
            "connection_id, tx_key, account, bank_id, status, fingerprint, occurrence, \
             entry_date, booking_date, value_date, ",
            $amount_out,
            ", currency, tx_json, removed, last_listing, last_cursor"
        )
    };
}

/// The columns of `transactions` a listing's matcher reads (see
/// [`crate::store::StoredEntry`]), with the amount read as text.
macro_rules! entry_columns {
    ($amount_out:literal) => {
        concat!(
            "tx_key, bank_id, status, fingerprint, occurrence, entry_date, booking_date, \
             value_date, ",
            $amount_out,
            ", currency, tx_json, last_listing, last_cursor"
        )
    };
}

/// The columns of `transactions` that make a [`crate::model::StoredTransaction`]:
/// [`entry_columns!`], then the connection, account and removed flag.
macro_rules! stored_columns {
    ($amount_out:literal) => {
        concat!(
            $crate::store::sql::entry_columns!($amount_out),
            ", connection_id, account, removed"
        )
    };
}

/// The rows of an account's window from `$3` on (`$1` the connection, `$2` the account):
/// dated on or after it, undated, and the open entries dated before it; after the `;`, text
/// that further conditions the first two (e.g. `" AND ", "removed = 0"`).
macro_rules! window_rows {
    ($columns:ident, $amount_out:literal, $open_entry:literal; $($also:literal),*) => {
        concat!(
            "SELECT ",
            $crate::store::sql::$columns!($amount_out),
            " FROM transactions WHERE connection_id = $1 AND account = $2 AND entry_date >= $3",
            $($also,)*
            " UNION ALL SELECT ",
            $crate::store::sql::$columns!($amount_out),
            " FROM transactions WHERE connection_id = $1 AND account = $2 \
             AND entry_date IS NULL",
            $($also,)*
            " UNION ALL SELECT ",
            $crate::store::sql::$columns!($amount_out),
            " FROM transactions WHERE connection_id = $1 AND account = $2 \
             AND entry_date < $3 AND ",
            $open_entry
        )
    };
}

/// What an upsert of `transactions` sets when the key is already stored: every column.
macro_rules! tx_on_conflict {
    () => {
        " ON CONFLICT (connection_id, tx_key) DO UPDATE SET \
         account = excluded.account, bank_id = excluded.bank_id, \
         status = excluded.status, fingerprint = excluded.fingerprint, \
         occurrence = excluded.occurrence, entry_date = excluded.entry_date, \
         booking_date = excluded.booking_date, value_date = excluded.value_date, \
         amount = excluded.amount, currency = excluded.currency, \
         tx_json = excluded.tx_json, removed = excluded.removed, \
         last_listing = excluded.last_listing, last_cursor = excluded.last_cursor"
    };
}

/// Expands to `impl Store for $store` (a struct with a `pool: sqlx::Pool<$db>` field) and
/// the row readers it needs.
macro_rules! impl_store {
    (
        store = $store:ident,
        db = $db:ty,
        engine = $engine:expr,
        amount_out = $amount_out:literal,
        open_entry = $open_entry:literal,
        not_removed = $not_removed:literal,
        skip_locked = $skip_locked:literal $(,)?
    ) => {
        use chrono::{DateTime, NaiveDate, Utc};
        use psd2::AccountId;
        use sqlx::Row as _;

        use $crate::model::{
            BudgetDay, Change, CommitCursors, Connection, ConnectionId, Event, PageCommit,
            Progress, ProgressUpdate, StoredTransaction,
        };
        use $crate::store::rows::{
            BudgetRow, ChangeRow, ChangeWrite, ConnectionRow, EntryRow, EventRow, ProgressRow,
            TxWrite, commit_rows, micros, to_i64, to_u64,
        };
        use $crate::store::{Store, StoreEngine, StoreError};

        type DbRow = <$db as sqlx::Database>::Row;

        fn read_connection(row: &DbRow) -> Result<Connection, StoreError> {
            let db = |e| StoreError::db("read connection", e);
            ConnectionRow {
                id: row.try_get("id").map_err(db)?,
                bank: row.try_get("bank").map_err(db)?,
                base_url: row.try_get("base_url").map_err(db)?,
                session_json: row.try_get("session_json").map_err(db)?,
                psu_json: row.try_get("psu_json").map_err(db)?,
                consent_json: row.try_get("consent_json").map_err(db)?,
                state: row.try_get("state").map_err(db)?,
                accounts_json: row.try_get("accounts_json").map_err(db)?,
                settings_json: row.try_get("settings_json").map_err(db)?,
                created_at: row.try_get("created_at").map_err(db)?,
                last_sync_at: row.try_get("last_sync_at").map_err(db)?,
                next_sync_at: row.try_get("next_sync_at").map_err(db)?,
            }
            .into_model()
        }

        /// The [`entry_columns!`] of a row (they come first), by position: a window has
        /// thousands of rows, and a name is looked up in a map on every read.
        fn entry_row(row: &DbRow, removed: bool) -> Result<EntryRow, StoreError> {
            let db = |e| StoreError::db("read transaction", e);
            Ok(EntryRow {
                tx_key: row.try_get(0).map_err(db)?,
                bank_id: row.try_get(1).map_err(db)?,
                status: row.try_get(2).map_err(db)?,
                fingerprint: row.try_get(3).map_err(db)?,
                occurrence: row.try_get(4).map_err(db)?,
                entry_date: row.try_get(5).map_err(db)?,
                booking_date: row.try_get(6).map_err(db)?,
                value_date: row.try_get(7).map_err(db)?,
                amount: row.try_get(8).map_err(db)?,
                currency: row.try_get(9).map_err(db)?,
                tx_json: row.try_get(10).map_err(db)?,
                last_listing: row.try_get(11).map_err(db)?,
                last_cursor: row.try_get(12).map_err(db)?,
                removed,
            })
        }

        /// A row of [`entry_columns!`] (an entry that is not removed).
        fn read_entry(row: &DbRow) -> Result<$crate::store::StoredEntry, StoreError> {
            entry_row(row, false)?.into_entry()
        }

        /// A row of [`stored_columns!`].
        fn read_tx(row: &DbRow) -> Result<StoredTransaction, StoreError> {
            let db = |e| StoreError::db("read transaction", e);
            let connection: String = row.try_get(13).map_err(db)?;
            let account: String = row.try_get(14).map_err(db)?;
            let removed: bool = row.try_get(15).map_err(db)?;
            entry_row(row, removed)?
                .into_entry()?
                .into_stored(ConnectionId::new(connection), AccountId::new(account))
        }

        fn read_change(row: &DbRow) -> Result<Change, StoreError> {
            let db = |e| StoreError::db("read change", e);
            ChangeRow {
                connection_id: row.try_get("connection_id").map_err(db)?,
                cursor: row.try_get("cursor").map_err(db)?,
                account: row.try_get("account").map_err(db)?,
                tx_key: row.try_get("tx_key").map_err(db)?,
                kind: row.try_get("kind").map_err(db)?,
                tx_json: row.try_get("tx_json").map_err(db)?,
                at: row.try_get("at").map_err(db)?,
            }
            .into_model()
        }

        fn read_event(row: &DbRow) -> Result<Event, StoreError> {
            let db = |e| StoreError::db("read event", e);
            EventRow {
                cursor: row.try_get("cursor").map_err(db)?,
                connection_id: row.try_get("connection_id").map_err(db)?,
                account: row.try_get("account").map_err(db)?,
                kind: row.try_get("kind").map_err(db)?,
                at: row.try_get("at").map_err(db)?,
                error_kind: row.try_get("error_kind").map_err(db)?,
                detail: row.try_get("detail").map_err(db)?,
            }
            .into_model()
        }

        fn read_budget(row: &DbRow) -> Result<BudgetDay, StoreError> {
            let db = |e| StoreError::db("read budget", e);
            BudgetRow {
                connection_id: row.try_get("connection_id").map_err(db)?,
                account: row.try_get("account").map_err(db)?,
                resource: row.try_get("resource").map_err(db)?,
                day: row.try_get("day").map_err(db)?,
                used: row.try_get("used").map_err(db)?,
                granted: row.try_get("granted").map_err(db)?,
                blocked_until: row.try_get("blocked_until").map_err(db)?,
            }
            .into_model()
        }

        fn read_progress(row: &DbRow) -> Result<Progress, StoreError> {
            let db = |e| StoreError::db("read progress", e);
            ProgressRow {
                connection_id: row.try_get("connection_id").map_err(db)?,
                account: row.try_get("account").map_err(db)?,
                window_from: row.try_get("window_from").map_err(db)?,
                window_to: row.try_get("window_to").map_err(db)?,
                next_page: row.try_get("next_page").map_err(db)?,
                pages_done: row.try_get("pages_done").map_err(db)?,
                listing_id: row.try_get("listing_id").map_err(db)?,
            }
            .into_model()
        }

        /// `now + lease`, checked.
        fn lease_end(now: DateTime<Utc>, lease: std::time::Duration) -> Result<DateTime<Utc>, StoreError> {
            chrono::Duration::from_std(lease)
                .ok()
                .and_then(|d| micros(now).checked_add_signed(d))
                .ok_or(StoreError::OutOfRange { field: "connections.lease_until" })
        }

        /// Every row of a commit must belong to the commit's connection.
        fn check_commit(commit: &PageCommit) -> Result<(), StoreError> {
            let id = &commit.connection;
            let foreign = commit.transactions.iter().any(|t| &t.connection != id)
                || commit.budget.iter().any(|b| &b.connection != id)
                || commit.events.iter().any(|e| &e.connection != id)
                || matches!(&commit.progress, ProgressUpdate::Save(p) if &p.connection != id);
            if foreign {
                return Err(StoreError::InvalidCommit(
                    "a row names another connection than the commit",
                ));
            }
            Ok(())
        }

        impl $store {
            /// The commit of [`Store::commit_page`], optionally fenced by a worker's lease.
            async fn commit_inner(
                &self,
                worker: Option<&str>,
                commit: &PageCommit,
            ) -> Result<CommitCursors, StoreError> {
                const OP: &str = "commit_page";
                let db = |e| StoreError::db(OP, e);
                check_commit(commit)?;
                let id = commit.connection.as_str();
                let change_count = to_i64(commit.changes.len() as u64, "changes.cursor")?;
                let event_count = to_i64(commit.events.len() as u64, "events.cursor")?;

                let mut tx = self.pool.begin().await.map_err(db)?;
                // First statement writes: takes the connection's row (PostgreSQL) or the
                // database's write lock (SQLite) before anything is read.
                let reserved = match worker {
                    None => sqlx::query(
                        "UPDATE connections SET change_cursor = change_cursor + $2 \
                         WHERE id = $1 RETURNING change_cursor",
                    )
                    .bind(id)
                    .bind(change_count)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?,
                    Some(worker) => sqlx::query(
                        "UPDATE connections SET change_cursor = change_cursor + $2 \
                         WHERE id = $1 AND lease_owner = $3 RETURNING change_cursor",
                    )
                    .bind(id)
                    .bind(change_count)
                    .bind(worker)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?,
                };
                let Some(reserved) = reserved else {
                    tx.rollback().await.map_err(db)?;
                    let exists = self.connection(&commit.connection).await?.is_some();
                    return Err(if exists && worker.is_some() {
                        StoreError::LeaseLost { connection: id.to_string() }
                    } else {
                        StoreError::NotFound { what: "connection", id: id.to_string() }
                    });
                };
                let last_change: i64 = reserved.try_get(0).map_err(db)?;
                let first_change = last_change
                    .checked_sub(change_count)
                    .and_then(|v| v.checked_add(1))
                    .ok_or_else(|| StoreError::corrupt("connections.change_cursor", "out of range"))?;
                let first_change = to_u64(first_change, "connections.change_cursor")?;
                let change_cursors: Vec<u64> =
                    (0..commit.changes.len() as u64).map(|i| first_change + i).collect();

                let (change_rows, tx_rows) = commit_rows(commit, &change_cursors)?;
                Self::write_changes(&mut tx, change_rows).await?;
                Self::write_transactions(&mut tx, tx_rows).await?;
                apply_progress(&mut tx, commit).await?;
                for line in &commit.budget {
                    upsert_budget(&mut tx, &BudgetRow::from_model(line)).await?;
                }
                // Last: the outbox counter's row stays locked only from here to the commit.
                let mut event_cursors = Vec::new();
                if event_count > 0 {
                    let row = sqlx::query(
                        "UPDATE counters SET value = value + $1 WHERE name = 'events' RETURNING value",
                    )
                    .bind(event_count)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    let last: i64 = row.try_get(0).map_err(db)?;
                    let first = last
                        .checked_sub(event_count)
                        .and_then(|v| v.checked_add(1))
                        .ok_or_else(|| StoreError::corrupt("counters.value", "out of range"))?;
                    let first = to_u64(first, "counters.value")?;
                    event_cursors = (0..commit.events.len() as u64).map(|i| first + i).collect();
                }

                insert_events(&mut tx, commit, &event_cursors).await?;
                tx.commit().await.map_err(db)?;
                Ok(CommitCursors { changes: change_cursors, events: event_cursors })
            }

            /// [`Store::update_connection`], optionally fenced by a worker's lease.
            async fn update_connection_inner(
                &self,
                worker: Option<&str>,
                connection: &Connection,
            ) -> Result<(), StoreError> {
                let row = ConnectionRow::from_model(connection)?;
                let done = sqlx::query(
                    "UPDATE connections SET bank = $2, base_url = $3, session_json = $4, \
                     psu_json = $5, consent_json = $6, state = $7, accounts_json = $8, \
                     settings_json = $9, created_at = $10, last_sync_at = $11, \
                     next_sync_at = $12 WHERE id = $1 AND ($13 IS NULL OR lease_owner = $13)",
                )
                .bind(&row.id)
                .bind(&row.bank)
                .bind(&row.base_url)
                .bind(&row.session_json)
                .bind(&row.psu_json)
                .bind(&row.consent_json)
                .bind(&row.state)
                .bind(&row.accounts_json)
                .bind(&row.settings_json)
                .bind(row.created_at)
                .bind(row.last_sync_at)
                .bind(row.next_sync_at)
                .bind(worker)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::db("update_connection", e))?;
                if done.rows_affected() > 0 {
                    return Ok(());
                }
                let exists = self.connection(&connection.id).await?.is_some();
                Err(if exists && worker.is_some() {
                    StoreError::LeaseLost { connection: row.id }
                } else {
                    StoreError::NotFound { what: "connection", id: row.id }
                })
            }
        }

        async fn apply_progress(
            tx: &mut sqlx::Transaction<'_, $db>,
            commit: &PageCommit,
        ) -> Result<(), StoreError> {
            match &commit.progress {
                ProgressUpdate::Keep => Ok(()),
                ProgressUpdate::Save(progress) => {
                    upsert_progress(tx, &ProgressRow::from_model(progress)).await
                }
                ProgressUpdate::Clear { account } => {
                    sqlx::query("DELETE FROM progress WHERE connection_id = $1 AND account = $2")
                        .bind(commit.connection.as_str())
                        .bind(account.as_str())
                        .execute(&mut **tx)
                        .await
                        .map_err(|e| StoreError::db("commit_page: progress", e))?;
                    Ok(())
                }
            }
        }

        async fn insert_events(
            tx: &mut sqlx::Transaction<'_, $db>,
            commit: &PageCommit,
            cursors: &[u64],
        ) -> Result<(), StoreError> {
            for (event, cursor) in commit.events.iter().zip(cursors) {
                let row = EventRow::from_new(*cursor, event)?;
                sqlx::query(
                    "INSERT INTO events (cursor, connection_id, account, kind, at, error_kind, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(row.cursor)
                .bind(&row.connection_id)
                .bind(&row.account)
                .bind(&row.kind)
                .bind(row.at)
                .bind(&row.error_kind)
                .bind(&row.detail)
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::db("commit_page: events", e))?;
            }
            Ok(())
        }

        async fn upsert_progress(
            tx: &mut sqlx::Transaction<'_, $db>,
            row: &ProgressRow,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO progress (connection_id, account, window_from, window_to, next_page, \
                 pages_done, listing_id) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (connection_id, account) DO UPDATE SET \
                 window_from = excluded.window_from, window_to = excluded.window_to, \
                 next_page = excluded.next_page, pages_done = excluded.pages_done, \
                 listing_id = excluded.listing_id",
            )
            .bind(&row.connection_id)
            .bind(&row.account)
            .bind(row.window_from)
            .bind(row.window_to)
            .bind(&row.next_page)
            .bind(row.pages_done)
            .bind(&row.listing_id)
            .execute(&mut **tx)
            .await
            .map_err(|e| StoreError::db("commit_page: progress", e))?;
            Ok(())
        }

        async fn upsert_budget(
            tx: &mut sqlx::Transaction<'_, $db>,
            row: &BudgetRow,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO budget (connection_id, account, resource, day, used, granted, \
                 blocked_until) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (connection_id, account, resource, day) DO UPDATE SET \
                 used = excluded.used, granted = excluded.granted, \
                 blocked_until = excluded.blocked_until",
            )
            .bind(&row.connection_id)
            .bind(&row.account)
            .bind(&row.resource)
            .bind(row.day)
            .bind(row.used)
            .bind(row.granted)
            .bind(row.blocked_until)
            .execute(&mut **tx)
            .await
            .map_err(|e| StoreError::db("budget", e))?;
            Ok(())
        }

        $crate::store::sql_trait::impl_store_trait!(
            store = $store,
            db = $db,
            engine = $engine,
            amount_out = $amount_out,
            open_entry = $open_entry,
            not_removed = $not_removed,
            skip_locked = $skip_locked,
        );
    };
}

pub(crate) use {
    connection_columns, entry_columns, impl_store, stored_columns, tx_columns, tx_on_conflict,
    window_rows,
};
