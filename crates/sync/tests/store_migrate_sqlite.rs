//! SQLite's third schema version (the change feed clustered on its key) applied to a
//! database written at version 2: every row survives, shared and own JSON read back as
//! written, and the trigger that keeps an older change's JSON still works.
//!
//! The version-2 database is built by sqlx's migrator from the first two migration files
//! and filled with raw SQL; expected values are the transactions built here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_support;

use std::borrow::Cow;

use psd2::{AccountId, Money, TransactionStatus};
use psd2_sync::model::{ChangeKind, NewChange, PageCommit, StoredTransaction};
use psd2_sync::store::{SqliteStore, Store};
use sqlx::Connection as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use store_support::{at, connection, stored};

/// The first two migrations, as the store embeds them.
fn version_2() -> Migrator {
    let migration = |version, description: &'static str, sql: &'static str| {
        Migration::new(
            version,
            Cow::Borrowed(description),
            MigrationType::Simple,
            Cow::Borrowed(sql),
            false,
        )
    };
    Migrator {
        migrations: Cow::Owned(vec![
            migration(
                1,
                "init",
                include_str!("../migrations/sqlite/0001_init.sql"),
            ),
            migration(
                2,
                "lean writes",
                include_str!("../migrations/sqlite/0002_lean_writes.sql"),
            ),
        ]),
        ..Migrator::DEFAULT
    }
}

fn json(t: &StoredTransaction) -> String {
    serde_json::to_string(&t.transaction).unwrap()
}

/// Inserts `t` as a version-2 `transactions` row with `last_cursor`.
async fn insert_row(db: &mut sqlx::SqliteConnection, t: &StoredTransaction, last_cursor: i64) {
    sqlx::query(
        "INSERT INTO transactions (connection_id, tx_key, account, bank_id, status, \
         fingerprint, occurrence, entry_date, booking_date, value_date, amount, currency, \
         tx_json, removed, last_listing, last_cursor) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?)",
    )
    .bind(t.connection.as_str())
    .bind(t.key.as_str())
    .bind(t.account.as_str())
    .bind(t.bank_id.as_deref())
    .bind(t.status.as_str())
    .bind(&t.fingerprint)
    .bind(i64::from(t.occurrence))
    .bind(t.date)
    .bind(t.booking_date)
    .bind(t.value_date)
    .bind(t.amount.to_string())
    .bind(&t.currency)
    .bind(json(t))
    .bind(last_cursor)
    .execute(db)
    .await
    .unwrap();
}

/// Inserts a version-2 `changes` row (`tx_json` `None`: shares its row's).
async fn insert_change(
    db: &mut sqlx::SqliteConnection,
    t: &StoredTransaction,
    cursor: i64,
    kind: &str,
    tx_json: Option<String>,
) {
    sqlx::query(
        "INSERT INTO changes (connection_id, cursor, account, tx_key, kind, tx_json, at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.connection.as_str())
    .bind(cursor)
    .bind(t.account.as_str())
    .bind(t.key.as_str())
    .bind(kind)
    .bind(tx_json)
    .bind(at(2, 9))
    .execute(db)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_3_keeps_a_version_2_change_feed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("psd2.db");
    let url = format!("sqlite:{}?mode=rwc", path.display());
    let c = connection("swedbank");
    let pending = stored(&c.id, "acc-1", TransactionStatus::Pending, Some(5), "-40");
    let mut booked = pending.clone();
    booked.status = TransactionStatus::Booked;
    booked.transaction.status = TransactionStatus::Booked;
    booked.transaction.remittance_unstructured = Some("coffee, booked".into());
    let other = stored(&c.id, "acc-1", TransactionStatus::Booked, Some(6), "-7");
    {
        let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
        version_2().run(&mut db).await.unwrap();
        sqlx::query(
            "INSERT INTO connections (id, bank, base_url, session_json, psu_json, \
             consent_json, state, accounts_json, settings_json, created_at, change_cursor) \
             VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, 3)",
        )
        .bind(c.id.as_str())
        .bind(&c.bank)
        .bind(&c.base_url)
        .bind(serde_json::to_string(&c.session).unwrap())
        .bind(serde_json::to_string(&c.psu).unwrap())
        .bind(serde_json::to_string(&c.consent).unwrap())
        .bind(serde_json::to_string(&c.accounts).unwrap())
        .bind(serde_json::to_string(&c.settings).unwrap())
        .bind(c.created_at)
        .execute(&mut db)
        .await
        .unwrap();
        // Change 1 kept its own JSON (the pending version); change 2 shares the row's
        // (booked); change 3 shares `other`'s row.
        insert_row(&mut db, &booked, 2).await;
        insert_row(&mut db, &other, 3).await;
        insert_change(&mut db, &pending, 1, "added", Some(json(&pending))).await;
        insert_change(&mut db, &booked, 2, "modified", None).await;
        insert_change(&mut db, &other, 3, "added", None).await;
        db.close().await.unwrap();
    }

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.applied_migrations().await.unwrap(), vec![1, 2, 3]);
    let read = |t: &StoredTransaction| serde_json::to_value(&t.transaction).unwrap();
    let feed: Vec<_> = store
        .changes_since(&c.id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|ch| (ch.cursor, ch.kind, ch.transaction))
        .collect();
    assert_eq!(
        feed,
        vec![
            (1, ChangeKind::Added, read(&pending)),
            (2, ChangeKind::Modified, read(&booked)),
            (3, ChangeKind::Added, read(&other)),
        ]
    );
    assert_eq!(store.change_cursor(&c.id).await.unwrap(), 3);

    // The table is clustered on its key: no separate index of it.
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (sql, indexes): (String, i64) = sqlx::query_as(
        "SELECT (SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'changes'), \
         (SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'changes')",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert!(sql.contains("WITHOUT ROWID"), "{sql}");
    assert_eq!(indexes, 0);
    // An existing file keeps its page size (SQLite's default, 4096, when it was created).
    let (page_size,): (i64,) = sqlx::query_as("PRAGMA page_size")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(page_size, 4096);

    // A further change to the booked entry: change 2 keeps the version it named (the
    // trigger copied it before the row was replaced).
    let mut refunded = booked.clone();
    refunded.transaction.amount = Money::parse("40", "SEK").unwrap();
    refunded.amount = "40".parse().unwrap();
    refunded.last_cursor = 2;
    let mut commit = PageCommit::new(c.id.clone());
    commit.changes.push(NewChange {
        account: refunded.account.clone(),
        key: refunded.key.clone(),
        kind: ChangeKind::Modified,
        transaction: None,
        at: at(3, 9),
    });
    commit.transactions.push(refunded.clone());
    store.commit_page(&commit).await.unwrap();
    let texts: Vec<_> = store
        .changes_since(&c.id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|ch| ch.transaction)
        .collect();
    assert_eq!(
        texts,
        vec![read(&pending), read(&booked), read(&other), read(&refunded)]
    );
    let state = store
        .load_account_state(&c.id, &AccountId::new("acc-1"), None)
        .await
        .unwrap();
    assert_eq!(state.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_file_has_16_kib_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("psd2.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.close().await;
    // The page size is in the file's header: bytes 16-17, big-endian (SQLite file format).
    let header = std::fs::read(&path).unwrap();
    assert_eq!(u16::from_be_bytes([header[16], header[17]]), 16_384);
}
