//! The [`Store`](super::Store) methods, written once for both engines; expanded by
//! [`impl_store!`](super::sql::impl_store) inside each engine's module (which brings the
//! row readers and imports this expansion uses).

/// Expands to `#[async_trait] impl Store for $store`.
macro_rules! impl_store_trait {
    (
        store = $store:ident,
        db = $db:ty,
        engine = $engine:expr,
        amount_out = $amount_out:literal,
        open_entry = $open_entry:literal,
        not_removed = $not_removed:literal,
        skip_locked = $skip_locked:literal $(,)?
    ) => {
        #[async_trait::async_trait]
        impl Store for $store {
            fn engine(&self) -> StoreEngine {
                $engine
            }

            async fn add_connection(&self, connection: &Connection) -> Result<(), StoreError> {
                let row = ConnectionRow::from_model(connection)?;
                let result = sqlx::query(concat!(
                    "INSERT INTO connections (",
                    $crate::store::sql::connection_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                ))
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
                .execute(&self.pool)
                .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        Err(StoreError::AlreadyExists { what: "connection", id: row.id })
                    }
                    Err(e) => Err(StoreError::db("add_connection", e)),
                }
            }

            async fn update_connection(&self, connection: &Connection) -> Result<(), StoreError> {
                self.update_connection_inner(None, connection).await
            }

            async fn update_connection_leased(
                &self,
                worker: &str,
                connection: &Connection,
            ) -> Result<(), StoreError> {
                self.update_connection_inner(Some(worker), connection).await
            }

            async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StoreError> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    $crate::store::sql::connection_columns!(),
                    " FROM connections WHERE id = $1"
                ))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| StoreError::db("connection", e))?;
                row.as_ref().map(read_connection).transpose()
            }

            async fn connections(&self) -> Result<Vec<Connection>, StoreError> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::store::sql::connection_columns!(),
                    " FROM connections ORDER BY created_at, id"
                ))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::db("connections", e))?;
                rows.iter().map(read_connection).collect()
            }

            async fn delete_connection(&self, id: &ConnectionId) -> Result<bool, StoreError> {
                let db = |e| StoreError::db("delete_connection", e);
                let mut tx = self.pool.begin().await.map_err(db)?;
                for table in ["transactions", "changes", "budget", "progress"] {
                    let sql = format!("DELETE FROM {table} WHERE connection_id = $1");
                    sqlx::query(&sql).bind(id.as_str()).execute(&mut *tx).await.map_err(db)?;
                }
                let done = sqlx::query("DELETE FROM connections WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(done.rows_affected() > 0)
            }

            async fn load_account_state(
                &self,
                connection: &ConnectionId,
                account: &AccountId,
                from: Option<NaiveDate>,
            ) -> Result<Vec<StoredTransaction>, StoreError> {
                let query = match from {
                    None => sqlx::query(concat!(
                        "SELECT ",
                        $crate::store::sql::stored_columns!($amount_out),
                        " FROM transactions WHERE connection_id = $1 AND account = $2 \
                         ORDER BY (entry_date IS NOT NULL), entry_date, occurrence, tx_key"
                    ))
                    .bind(connection.as_str())
                    .bind(account.as_str()),
                    Some(from) => sqlx::query(concat!(
                        "SELECT * FROM (",
                        $crate::store::sql::window_rows!(stored_columns, $amount_out, $open_entry;),
                        ") AS t ORDER BY (entry_date IS NOT NULL), entry_date, occurrence, tx_key"
                    ))
                    .bind(connection.as_str())
                    .bind(account.as_str())
                    .bind(from),
                };
                let rows = query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| StoreError::db("load_account_state", e))?;
                rows.iter().map(read_tx).collect()
            }

            async fn load_window(
                &self,
                connection: &ConnectionId,
                account: &AccountId,
                from: Option<NaiveDate>,
            ) -> Result<Vec<$crate::store::StoredEntry>, StoreError> {
                // `load_account_state`'s rows, removed entries left out, only the columns
                // matching reads, unsorted: the database would copy every row, its JSON
                // included, into a sort before the first one comes out.
                let query = match from {
                    None => sqlx::query(concat!(
                        "SELECT ",
                        $crate::store::sql::entry_columns!($amount_out),
                        " FROM transactions WHERE connection_id = $1 AND account = $2 AND ",
                        $not_removed
                    ))
                    .bind(connection.as_str())
                    .bind(account.as_str()),
                    Some(from) => sqlx::query($crate::store::sql::window_rows!(
                        entry_columns, $amount_out, $open_entry; " AND ", $not_removed
                    ))
                    .bind(connection.as_str())
                    .bind(account.as_str())
                    .bind(from),
                };
                let mut rows = query.fetch(&self.pool);
                let mut entries = Vec::new();
                while let Some(row) = futures::TryStreamExt::try_next(&mut rows)
                    .await
                    .map_err(|e| StoreError::db("load_window", e))?
                {
                    entries.push(read_entry(&row)?);
                }
                Ok(entries)
            }

            async fn latest_booked_date(
                &self,
                connection: &ConnectionId,
                account: &AccountId,
            ) -> Result<Option<NaiveDate>, StoreError> {
                let row = sqlx::query(concat!(
                    "SELECT entry_date FROM transactions WHERE connection_id = $1 \
                     AND account = $2 AND entry_date IS NOT NULL AND status = 'booked' AND ",
                    $not_removed,
                    " ORDER BY entry_date DESC LIMIT 1"
                ))
                .bind(connection.as_str())
                .bind(account.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| StoreError::db("latest_booked_date", e))?;
                row.map(|r| r.try_get::<NaiveDate, _>(0))
                    .transpose()
                    .map_err(|e| StoreError::db("latest_booked_date", e))
            }

            async fn transaction_count(&self, connection: &ConnectionId) -> Result<u64, StoreError> {
                let row = sqlx::query("SELECT COUNT(*) FROM transactions WHERE connection_id = $1")
                    .bind(connection.as_str())
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| StoreError::db("transaction_count", e))?;
                let count: i64 = row.try_get(0).map_err(|e| StoreError::db("transaction_count", e))?;
                to_u64(count, "transactions.count")
            }

            async fn commit_page(&self, commit: &PageCommit) -> Result<CommitCursors, StoreError> {
                self.commit_inner(None, commit).await
            }

            async fn commit_page_leased(
                &self,
                worker: &str,
                commit: &PageCommit,
            ) -> Result<CommitCursors, StoreError> {
                self.commit_inner(Some(worker), commit).await
            }

            async fn changes_since(
                &self,
                connection: &ConnectionId,
                after: u64,
                limit: u32,
            ) -> Result<Vec<Change>, StoreError> {
                // A change without JSON of its own shares its transaction row's.
                let rows = sqlx::query(
                    "SELECT c.connection_id, c.cursor, c.account, c.tx_key, c.kind, \
                     COALESCE(c.tx_json, t.tx_json) AS tx_json, c.at FROM changes c \
                     LEFT JOIN transactions t \
                     ON t.connection_id = c.connection_id AND t.tx_key = c.tx_key \
                     WHERE c.connection_id = $1 AND c.cursor > $2 ORDER BY c.cursor LIMIT $3",
                )
                .bind(connection.as_str())
                .bind(to_i64(after, "changes.cursor")?)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::db("changes_since", e))?;
                rows.iter().map(read_change).collect()
            }

            async fn change_cursor(&self, connection: &ConnectionId) -> Result<u64, StoreError> {
                let row = sqlx::query("SELECT change_cursor FROM connections WHERE id = $1")
                    .bind(connection.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| StoreError::db("change_cursor", e))?;
                let Some(row) = row else {
                    return Err(StoreError::NotFound {
                        what: "connection",
                        id: connection.as_str().to_string(),
                    });
                };
                let cursor: i64 = row.try_get(0).map_err(|e| StoreError::db("change_cursor", e))?;
                to_u64(cursor, "connections.change_cursor")
            }

            async fn events_since(&self, after: u64, limit: u32) -> Result<Vec<Event>, StoreError> {
                let rows = sqlx::query(
                    "SELECT cursor, connection_id, account, kind, at, error_kind, detail FROM events \
                     WHERE cursor > $1 ORDER BY cursor LIMIT $2",
                )
                .bind(to_i64(after, "events.cursor")?)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::db("events_since", e))?;
                rows.iter().map(read_event).collect()
            }

            async fn budget(
                &self,
                connection: &ConnectionId,
                since: NaiveDate,
            ) -> Result<Vec<BudgetDay>, StoreError> {
                let rows = sqlx::query(
                    "SELECT connection_id, account, resource, day, used, granted, blocked_until \
                     FROM budget WHERE connection_id = $1 AND day >= $2 \
                     ORDER BY day, account, resource",
                )
                .bind(connection.as_str())
                .bind(since)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::db("budget", e))?;
                rows.iter().map(read_budget).collect()
            }

            async fn save_budget(&self, lines: &[BudgetDay]) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(|e| StoreError::db("save_budget", e))?;
                for line in lines {
                    upsert_budget(&mut tx, &BudgetRow::from_model(line)).await?;
                }
                tx.commit().await.map_err(|e| StoreError::db("save_budget", e))
            }

            async fn progress(
                &self,
                connection: &ConnectionId,
                account: &AccountId,
            ) -> Result<Option<Progress>, StoreError> {
                let row = sqlx::query(
                    "SELECT connection_id, account, window_from, window_to, next_page, pages_done, \
                     listing_id FROM progress WHERE connection_id = $1 AND account = $2",
                )
                .bind(connection.as_str())
                .bind(account.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| StoreError::db("progress", e))?;
                row.as_ref().map(read_progress).transpose()
            }

            async fn clear_progress(
                &self,
                connection: &ConnectionId,
                account: &AccountId,
            ) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM progress WHERE connection_id = $1 AND account = $2")
                    .bind(connection.as_str())
                    .bind(account.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::db("clear_progress", e))?;
                Ok(())
            }

            async fn claim_due(
                &self,
                worker: &str,
                now: DateTime<Utc>,
                lease: std::time::Duration,
                limit: u32,
            ) -> Result<Vec<Connection>, StoreError> {
                let until = lease_end(now, lease)?;
                let rows = sqlx::query(concat!(
                    "UPDATE connections SET lease_owner = $1, lease_until = $2 WHERE id IN (\
                     SELECT id FROM connections WHERE state = 'active' \
                     AND (next_sync_at IS NULL OR next_sync_at <= $3) \
                     AND (lease_until IS NULL OR lease_until <= $3) \
                     ORDER BY (next_sync_at IS NOT NULL), next_sync_at, id LIMIT $4",
                    $skip_locked,
                    ") RETURNING ",
                    $crate::store::sql::connection_columns!()
                ))
                .bind(worker)
                .bind(until)
                .bind(micros(now))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::db("claim_due", e))?;
                let mut claimed = rows.iter().map(read_connection).collect::<Result<Vec<_>, _>>()?;
                claimed.sort_by(|a, b| {
                    (a.next_sync_at.is_some(), a.next_sync_at, &a.id)
                        .cmp(&(b.next_sync_at.is_some(), b.next_sync_at, &b.id))
                });
                Ok(claimed)
            }

            async fn renew_lease(
                &self,
                worker: &str,
                connection: &ConnectionId,
                now: DateTime<Utc>,
                lease: std::time::Duration,
            ) -> Result<bool, StoreError> {
                let until = lease_end(now, lease)?;
                let done = sqlx::query(
                    "UPDATE connections SET lease_until = $3 WHERE id = $1 AND lease_owner = $2",
                )
                .bind(connection.as_str())
                .bind(worker)
                .bind(until)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::db("renew_lease", e))?;
                Ok(done.rows_affected() == 1)
            }

            async fn release(&self, worker: &str, connection: &ConnectionId) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE connections SET lease_owner = NULL, lease_until = NULL \
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(connection.as_str())
                .bind(worker)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::db("release", e))?;
                Ok(done.rows_affected() == 1)
            }

            async fn lease(
                &self,
                connection: &ConnectionId,
            ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
                let row = sqlx::query("SELECT lease_owner, lease_until FROM connections WHERE id = $1")
                    .bind(connection.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| StoreError::db("lease", e))?;
                let Some(row) = row else { return Ok(None) };
                let owner: Option<String> = row.try_get(0).map_err(|e| StoreError::db("lease", e))?;
                let until: Option<DateTime<Utc>> =
                    row.try_get(1).map_err(|e| StoreError::db("lease", e))?;
                Ok(owner.zip(until))
            }

            async fn transactions_page(
                &self,
                connection: &ConnectionId,
                account: &AccountId,
                query: &$crate::store::PeriodPage,
            ) -> Result<Vec<StoredTransaction>, StoreError> {
                // One index range (connection, account, date from..=to); the previous
                // page's last date and key narrow it, so every page costs the same.
                let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
                let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
                let mut from = query.from.unwrap_or(first).max(first);
                let to = query.to.unwrap_or(last).min(last);
                let (after_date, after_key) = match &query.after {
                    Some((date, key)) => {
                        from = from.max(*date);
                        (*date, key.as_str())
                    }
                    None => (from, ""),
                };
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::store::sql::stored_columns!($amount_out),
                    " FROM transactions WHERE connection_id = $1 AND account = $2 \
                     AND entry_date >= $3 AND entry_date <= $4 \
                     AND (entry_date > $5 OR tx_key > $6) \
                     AND (status = 'booked' OR ($7 AND status = 'pending')) AND ",
                    $not_removed,
                    " ORDER BY entry_date, tx_key LIMIT $8"
                ))
                .bind(connection.as_str())
                .bind(account.as_str())
                .bind(from)
                .bind(to)
                .bind(after_date)
                .bind(after_key)
                .bind(query.include_pending)
                .bind(i64::from(query.limit))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::db("transactions_page", e))?;
                rows.iter().map(read_tx).collect()
            }
        }
    };
}

pub(crate) use impl_store_trait;
