//! Fixtures for the store tests: a fresh, empty database per test on either engine, raw SQL
//! access to it (to corrupt or inspect rows behind the store's back), and model builders.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use psd2::{
    AccessToken, AccountId, ConsentId, ConsentStatus, Money, Psu, PsuId, RefreshToken, Session,
    Transaction, TransactionStatus,
};
use psd2_sync::model::{
    Connection, ConnectionAccount, ConnectionId, ConnectionState, ConsentState, PsuRecord,
    SessionRecord, StoredTransaction, TxKey,
};
use psd2_sync::settings::BankSyncSettings;
use psd2_sync::store::{PgStore, SqliteStore, Store};
use sqlx::Connection as _;

/// The environment variable `.ci/run` sets to its throwaway PostgreSQL cluster.
pub const PG_ENV: &str = "PSD2_TEST_DATABASE_URL";

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A fresh empty database and a store opened on it.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// `sqlite:PATH` or `postgres://.../DB`: what another process or a raw connection opens.
    pub url: String,
    pub engine: Engine,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A fresh database on `engine`, or `None` (after printing why, or failing under CI)
    /// when PostgreSQL is not configured.
    pub async fn new(engine: Engine) -> Option<Self> {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path: PathBuf = dir.path().join("psd2.db");
                let store = SqliteStore::open(&path).await.unwrap();
                Some(Self {
                    store: Arc::new(store),
                    url: format!("sqlite:{}", path.display()),
                    engine,
                    _dir: Some(dir),
                })
            }
            Engine::Postgres => {
                let url = fresh_pg_database().await?;
                let store = PgStore::connect(&url).await.unwrap();
                Some(Self {
                    store: Arc::new(store),
                    url,
                    engine,
                    _dir: None,
                })
            }
        }
    }

    /// Runs one raw statement on the database, behind the store's back.
    pub async fn raw(&self, sql: &str) {
        match self.engine {
            Engine::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.unwrap();
            }
            Engine::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.unwrap();
            }
        }
    }

    /// One integer from a raw query.
    pub async fn raw_i64(&self, sql: &str) -> i64 {
        use sqlx::Row as _;
        match self.engine {
            Engine::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query(sql).fetch_one(&mut c).await.unwrap().get(0)
            }
            Engine::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query(sql).fetch_one(&mut c).await.unwrap().get(0)
            }
        }
    }
}

/// The PostgreSQL admin URL from the environment, or `None` after reporting it missing.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var(PG_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            psd2_test_support::oracle_missing(
                "PostgreSQL",
                "PSD2_TEST_DATABASE_URL is not set (.ci/run starts a throwaway cluster and sets it)",
            );
            None
        }
    }
}

/// Creates an empty database on the test cluster and returns its URL.
pub async fn fresh_pg_database() -> Option<String> {
    let admin = pg_admin_url()?;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut c = match sqlx::PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => {
            psd2_test_support::oracle_missing("PostgreSQL", &format!("cannot connect: {e}"));
            return None;
        }
    };
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .unwrap();
    Some(with_database(&admin, &name))
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map(|i| scheme_end + i);
    let root = path_start.map_or(base, |i| &base[..i]);
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

/// A fixed instant (whole seconds, so every engine stores it exactly).
pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

pub fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

/// A connection with secrets in its session and PSU, due now.
pub fn connection(bank: &str) -> Connection {
    let session = Session::new(ConsentId::new("consent-secret-1"))
        .with_access_token(AccessToken::new("access-secret-1"), Some(at(20, 12)))
        .with_refresh_token(RefreshToken::new("refresh-secret-1"));
    Connection {
        id: ConnectionId::random(),
        bank: bank.to_string(),
        base_url: format!("http://127.0.0.1:1/{bank}"),
        session: SessionRecord::from_session(&session),
        psu: PsuRecord::from_psu(&Psu::absent().with_id(PsuId::new("199001011234"))),
        // Built from JSON so fields the model adds later (all optional) need no change here.
        consent: serde_json::from_value::<ConsentState>(serde_json::json!({
            "status": ConsentStatus::Valid,
            "validUntil": "2026-11-30",
            "frequencyPerDay": 4,
            "checkedAt": "2026-11-01T08:00:00Z",
        }))
        .unwrap(),
        state: ConnectionState::Active,
        accounts: vec![
            serde_json::from_value::<ConnectionAccount>(serde_json::json!({"id": "acc-1"}))
                .unwrap(),
        ],
        settings: BankSyncSettings::for_bank(bank),
        created_at: at(1, 8),
        last_sync_at: None,
        next_sync_at: None,
    }
}

/// A stored transaction of `account` on `day` (`None`: no date), amount as decimal text.
pub fn stored(
    connection: &ConnectionId,
    account: &str,
    status: TransactionStatus,
    day: Option<u32>,
    amount: &str,
) -> StoredTransaction {
    let mut tx = Transaction::new(status.clone(), Money::parse(amount, "SEK").unwrap());
    tx.booking_date = day.map(date);
    tx.remittance_unstructured = Some("coffee at the corner".to_string());
    StoredTransaction {
        key: TxKey::random(),
        connection: connection.clone(),
        account: AccountId::new(account),
        bank_id: Some(format!("bank-{}", uuid::Uuid::new_v4().simple())),
        status,
        fingerprint: "f".repeat(64),
        occurrence: 0,
        date: day.map(date),
        booking_date: day.map(date),
        value_date: None,
        amount: amount.parse().unwrap(),
        currency: "SEK".to_string(),
        transaction: tx,
        removed: false,
        last_listing: None,
        last_cursor: 0,
    }
}

/// Declares one `#[tokio::test]` per engine for an async suite function `fn(TestDb)`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::store_support::TestDb::new($crate::store_support::Engine::Sqlite)
                        .await
                        .unwrap();
                    super::$name(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) =
                        $crate::store_support::TestDb::new($crate::store_support::Engine::Postgres).await
                    else {
                        return;
                    };
                    super::$name(db).await;
                }
            )*
        }
    };
}

pub mod bank;
