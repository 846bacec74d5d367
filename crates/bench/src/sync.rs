//! Benchmarks of `psd2-sync` against the in-process sandbox (Open Payments, PSU `private-1`):
//!
//! - throughput: one account's whole history synced into a store (SQLite or PostgreSQL),
//!   against the facade's plain transaction stream of the same account and window;
//! - incremental: the second sync of that account after the sandbox added new entries,
//!   against the first;
//! - scale-out: connections synced by 1 and by 4 workers sharing one store, with latency
//!   added to every bank call.
//!
//! Each measurement starts from an empty store: a PostgreSQL URL names an admin database,
//! and a fresh database is created next to it for every run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, TimeDelta, Utc};
use futures::TryStreamExt;
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::{
    AccountId, Bank as _, BookingStatus, ConsentRequest, Psu, PsuId, ScaChallenge, ScaMethod,
    Session, TransactionQuery,
};
use psd2_sandbox::fixtures::AccountKind;
use psd2_sandbox::{Bank, ChurnConfig, ChurnScenario, FaultConfig, RunningSandbox, Sandbox};
use psd2_sync::clock::{Clock, ManualClock};
use psd2_sync::model::{Connection, ConnectionAccount};
use psd2_sync::settings::BankSyncSettings;
use psd2_sync::store::Store;
use psd2_sync::{BankResolver, Engine, SyncError};
use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::BenchError;
use crate::page_server::{self, PageServer};

const PSU: &str = "private-1";
/// Days the first sync reads: the sandbox's whole two-year history.
const HISTORY_DAYS: u32 = 800;

fn err(what: &str, e: impl std::fmt::Display) -> BenchError {
    BenchError::Unexpected(format!("{what}: {e}"))
}

async fn start(
    history: u64,
    page_size: u64,
    faults: Vec<FaultConfig>,
) -> Result<RunningSandbox, BenchError> {
    Ok(Sandbox::builder()
        .seed(8)
        .history_size(history)
        .page_size(page_size)
        .max_consents(10_000)
        .decoupled_pending_polls(0)
        .faults(faults)
        .build()
        .start()
        .await?)
}

fn adapter(base_url: &str) -> Result<OpenPayments, BenchError> {
    let url = url::Url::parse(base_url).map_err(|e| err("base url", e))?;
    let mut config = OpenPaymentsConfig::new(url, "psd2-bench", Bank::OpenPayments.bic());
    config.poll_interval = Duration::from_millis(5);
    Ok(OpenPayments::new(config)?)
}

fn engine(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Engine {
    let banks: Arc<dyn BankResolver> =
        Arc::new(|c: &Connection| -> Result<Arc<dyn psd2::Bank>, SyncError> {
            adapter(&c.base_url)
                .map(|a| Arc::new(a) as Arc<dyn psd2::Bank>)
                .map_err(|_| SyncError::UnknownBank(c.bank.clone()))
        });
    Engine::new(store, banks, clock)
}

/// An authorised consent of `psu` with ample unattended accesses a day, as a connection to
/// the sandbox's Open Payments bank.
async fn connect(
    engine: &Engine,
    sandbox: &RunningSandbox,
    psu: &str,
) -> Result<(Connection, Session), BenchError> {
    connect_at(engine, sandbox, psu, &sandbox.bank_url(Bank::OpenPayments)).await
}

/// [`connect`], the connection reading the bank at `base` (the sandbox's, or a page
/// server in front of it).
async fn connect_at(
    engine: &Engine,
    sandbox: &RunningSandbox,
    psu: &str,
    base: &str,
) -> Result<(Connection, Session), BenchError> {
    let bank = adapter(&sandbox.bank_url(Bank::OpenPayments))?;
    let consents = bank
        .as_consents()
        .ok_or_else(|| err("consents", "missing"))?;
    let ip = "192.0.2.10".parse().map_err(|e| err("ip", e))?;
    let present = Psu::present(ip, None).with_id(PsuId::new(psu));
    let mut request = ConsentRequest::all_accounts();
    // Generous: a benchmark must not stop on the budget (many connections share one PSU's
    // consents at the sandbox).
    request.frequency_per_day = 100_000;
    let created = consents.create_consent(&request, &present).await?;
    let ScaChallenge::Decoupled { handle, .. } = consents
        .start_sca(&created.consent.id, &ScaMethod::Decoupled, &present)
        .await?
    else {
        return Err(err("sca", "not decoupled"));
    };
    let session = consents
        .wait_for_decoupled(
            &created.consent.id,
            &handle,
            Duration::from_secs(30),
            &present,
        )
        .await?;
    let consent = consents.consent(&created.consent.id, &present).await?;
    let mut settings = BankSyncSettings::for_bank("openpayments");
    settings.history_days = HISTORY_DAYS;
    let connection = engine
        .add_connection(
            "openpayments",
            base,
            &session,
            &Psu::absent().with_id(PsuId::new(psu)),
            Some(&consent),
            settings,
        )
        .await
        .map_err(|e| err("add connection", e))?;
    Ok((connection, session))
}

/// A fresh empty store for `url`: a new database next to a PostgreSQL admin URL, or a new
/// SQLite file in a temp dir for `sqlite`.
async fn fresh_store(url: &str, dir: &std::path::Path) -> Result<Arc<dyn Store>, BenchError> {
    if url.starts_with("postgres") {
        let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| err("postgres", e))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .map_err(|e| err("create database", e))?;
        let (base, _) = url.split_once('?').unwrap_or((url, ""));
        let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
        psd2_sync::store::open(&format!("{root}/{name}"))
            .await
            .map_err(|e| err("store", e))
    } else {
        let file = dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()));
        psd2_sync::store::open(&format!("sqlite:{}", file.display()))
            .await
            .map_err(|e| err("store", e))
    }
}

/// The id of `private-1`'s long-history account.
fn long_account(sandbox: &RunningSandbox, history: u64) -> Result<AccountId, BenchError> {
    sandbox
        .fixtures()
        .accounts_of(Bank::OpenPayments, PSU, AccountKind::Payment)
        .into_iter()
        .find(|a| a.history == history)
        .map(|a| AccountId::new(a.resource_id.clone()))
        .ok_or_else(|| err("fixtures", "no long-history account"))
}

/// Restricts a connection to one account (the engine would list them all otherwise).
async fn only_account(
    store: &dyn Store,
    connection: &Connection,
    account: &AccountId,
) -> Result<(), BenchError> {
    let mut c = connection.clone();
    c.accounts = vec![serde_json::from_value::<ConnectionAccount>(
        json!({"id": account.as_str()}),
    )?];
    store
        .update_connection(&c)
        .await
        .map_err(|e| err("update connection", e))
}

/// CPU time this process has used so far (all threads, user and system; see
/// [`crate::memory::cpu_secs`]). A measurement's CPU time is what contention from other
/// processes does not change much, unlike its wall time.
fn process_cpu() -> Option<Duration> {
    crate::memory::cpu_secs().and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// CPU seconds used since `start` (see [`process_cpu`]).
fn cpu_since(start: Option<Duration>) -> Option<f64> {
    Some(process_cpu()?.checked_sub(start?)?.as_secs_f64())
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// Where the bank's pages come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pages {
    /// The in-process sandbox builds every page on request.
    Sandbox,
    /// A page server answers the listing's pages from memory (recorded from the sandbox
    /// beforehand); everything else still goes to the sandbox.
    Served,
}

/// The path and query of the first page of `account`'s listing from `from` to `to`, as the
/// facade asks for it (what a page server must have recorded).
fn listing_path(account: &AccountId, from: chrono::NaiveDate, to: chrono::NaiveDate) -> String {
    format!(
        "/psd2/accountinformation/v1/accounts/{}/transactions?bookingStatus=both&dateFrom={from}&dateTo={to}",
        account.as_str()
    )
}

/// Records the listing of `account` from `from` to `to` (every page) into `server`.
async fn record_listing(
    server: &mut PageServer,
    sandbox: &RunningSandbox,
    session: &Session,
    account: &AccountId,
    (from, to): (chrono::NaiveDate, chrono::NaiveDate),
) -> Result<u64, BenchError> {
    let base = sandbox.bank_url(Bank::OpenPayments);
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "psd2-bench"),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = token
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| err("token", "no access_token"))?;
    let headers = page_server::headers(&[
        ("Authorization", &format!("Bearer {token}")),
        ("X-Request-ID", &uuid::Uuid::new_v4().to_string()),
        ("Consent-ID", session.consent_id.expose()),
        ("X-BicFi", Bank::OpenPayments.bic()),
        ("PSU-IP-Address", "192.0.2.10"),
    ])?;
    let crawl = server
        .crawl(&http, &listing_path(account, from, to), &headers)
        .await?;
    Ok(crawl.pages)
}

/// Sync throughput into the store at `url` against the facade's plain stream, both reading
/// the sandbox's pages.
pub async fn throughput(url: &str, transactions: u64, page_size: u64) -> Result<Value, BenchError> {
    throughput_from(url, transactions, page_size, Pages::Sandbox).await
}

/// [`throughput`], the listing's pages coming from `pages`.
pub async fn throughput_from(
    url: &str,
    transactions: u64,
    page_size: u64,
    pages: Pages,
) -> Result<Value, BenchError> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(transactions, page_size, Vec::new()).await?;
    let today = sandbox.fixtures().today();
    let account = long_account(&sandbox, transactions)?;
    let store = fresh_store(url, dir.path()).await?;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Utc::now()));
    let engine = engine(store.clone(), clock);
    let from = today
        .checked_sub_days(Days::new(u64::from(HISTORY_DAYS)))
        .unwrap_or(today);
    let (connection, session, server) = match pages {
        Pages::Sandbox => {
            let (c, s) = connect(&engine, &sandbox, PSU).await?;
            (c, s, None)
        }
        Pages::Served => {
            let (_, session) = connect(&engine, &sandbox, PSU).await?;
            let mut recorded = PageServer::new(&sandbox.bank_url(Bank::OpenPayments))?;
            record_listing(&mut recorded, &sandbox, &session, &account, (from, today)).await?;
            let server = recorded.start().await?;
            let (c, s) = connect_at(&engine, &sandbox, PSU, server.base_url()).await?;
            (c, s, Some(server))
        }
    };
    only_account(store.as_ref(), &connection, &account).await?;

    let bank = adapter(&connection.base_url)?;
    let ai = bank
        .as_account_information()
        .ok_or_else(|| err("ai", "missing"))?;
    let query = TransactionQuery::new(Some(from), Some(today), BookingStatus::Both);
    let absent = Psu::absent().with_id(PsuId::new(PSU));
    let started = Instant::now();
    let plain_cpu = process_cpu();
    let plain = ai
        .transactions(&session, &absent, &account, &query)
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await?;
    let plain_time = started.elapsed();
    let plain_cpu = cpu_since(plain_cpu);

    let started = Instant::now();
    let sync_cpu = process_cpu();
    engine
        .sync_connection(&connection.id)
        .await
        .map_err(|e| err("sync", e))?;
    let sync_time = started.elapsed();
    let sync_cpu = cpu_since(sync_cpu);
    let stored = store
        .transaction_count(&connection.id)
        .await
        .map_err(|e| err("count", e))?;
    let served = server.as_ref().map(|s| s.stats());
    drop(server);
    sandbox.shutdown().await;
    Ok(json!({
        "store": store.engine().as_str(),
        "pages_from": if pages == Pages::Served { "page server" } else { "sandbox" },
        "served_requests": served.map(|s| s.served),
        "forwarded_requests": served.map(|s| s.forwarded),
        "transactions": transactions,
        "plain_count": plain,
        "stored": stored,
        "plain_secs": plain_time.as_secs_f64(),
        "sync_secs": sync_time.as_secs_f64(),
        "plain_cpu_secs": plain_cpu,
        "sync_cpu_secs": sync_cpu,
        "sync_cpu_us_per_tx": sync_cpu.map(|c| c * 1e6 / stored.max(1) as f64),
        "plain_per_sec": per_second(plain, plain_time),
        "sync_per_sec": per_second(stored, sync_time),
        "ratio": per_second(stored, sync_time) / per_second(plain, plain_time).max(1e-9),
    }))
}

/// First sync of a `transactions`-long account, then a second after the sandbox added
/// `new` entries in one day.
pub async fn incremental(
    url: &str,
    transactions: u64,
    page_size: u64,
    new: u32,
) -> Result<Value, BenchError> {
    incremental_from(url, transactions, page_size, new, Pages::Sandbox).await
}

/// [`incremental`], each sync's listing coming from `pages` (served: each sync's window is
/// recorded from the sandbox just before that sync).
pub async fn incremental_from(
    url: &str,
    transactions: u64,
    page_size: u64,
    new: u32,
    pages: Pages,
) -> Result<Value, BenchError> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(transactions, page_size, Vec::new()).await?;
    let account = long_account(&sandbox, transactions)?;
    let store = fresh_store(url, dir.path()).await?;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let engine = engine(store.clone(), clock.clone());
    let (mut connection, session) = connect(&engine, &sandbox, PSU).await?;
    only_account(store.as_ref(), &connection, &account).await?;
    let mut served = Vec::new();
    if pages == Pages::Served {
        let server = serve_window(
            &sandbox,
            &session,
            &account,
            &connection,
            store.as_ref(),
            clock.as_ref(),
        )
        .await?;
        connection = point_at(store.as_ref(), &connection.id, server.base_url()).await?;
        served.push(server);
    }

    let started = Instant::now();
    let cpu = process_cpu();
    engine
        .sync_connection(&connection.id)
        .await
        .map_err(|e| err("first sync", e))?;
    let first = started.elapsed();
    let first_cpu = cpu_since(cpu);
    let first_stored = store
        .transaction_count(&connection.id)
        .await
        .map_err(|e| err("count", e))?;

    let mut churn = ChurnConfig::new(
        Some(Bank::OpenPayments),
        [ChurnScenario::PendingRebookedNewId],
    );
    churn.per_day = new;
    sandbox.set_churn(&churn).map_err(|e| err("churn", e))?;
    sandbox.advance_days(1).map_err(|e| err("clock", e))?;
    clock.advance(TimeDelta::days(1));
    let cursor = store
        .change_cursor(&connection.id)
        .await
        .map_err(|e| err("cursor", e))?;
    if pages == Pages::Served {
        let server = serve_window(
            &sandbox,
            &session,
            &account,
            &connection,
            store.as_ref(),
            clock.as_ref(),
        )
        .await?;
        point_at(store.as_ref(), &connection.id, server.base_url()).await?;
        served.push(server);
    }
    let started = Instant::now();
    let cpu = process_cpu();
    let report = engine
        .sync_connection(&connection.id)
        .await
        .map_err(|e| err("second sync", e))?;
    let second = started.elapsed();
    let second_cpu = cpu_since(cpu);
    let changes = store
        .change_cursor(&connection.id)
        .await
        .map_err(|e| err("cursor", e))?
        - cursor;
    let (added, modified, removed) = report.totals();
    let stats: Vec<_> = served.iter().map(|s| s.stats()).collect();
    drop(served);
    sandbox.shutdown().await;
    Ok(json!({
        "store": store.engine().as_str(),
        "pages_from": if pages == Pages::Served { "page server" } else { "sandbox" },
        "served_requests": stats.iter().map(|s| s.served).collect::<Vec<_>>(),
        "forwarded_requests": stats.iter().map(|s| s.forwarded).collect::<Vec<_>>(),
        "transactions": first_stored,
        "new_per_day": new,
        "first_secs": first.as_secs_f64(),
        "second_secs": second.as_secs_f64(),
        "second_changes": changes,
        "second_added": added,
        "second_modified": modified,
        "second_removed": removed,
        "ratio": second.as_secs_f64() / first.as_secs_f64().max(1e-9),
        // Process CPU (the in-process sandbox's included): less moved by other processes.
        "first_cpu_secs": first_cpu,
        "second_cpu_secs": second_cpu,
        "cpu_ratio": first_cpu
            .zip(second_cpu)
            .map(|(first, second)| second / first.max(1e-9)),
    }))
}

/// A page server answering the window the next sync of `connection` reads (as the engine
/// computes it from the store and the clock), recorded from the sandbox now.
async fn serve_window(
    sandbox: &RunningSandbox,
    session: &Session,
    account: &AccountId,
    connection: &Connection,
    store: &dyn Store,
    clock: &dyn Clock,
) -> Result<page_server::RunningPageServer, BenchError> {
    let latest = store
        .latest_booked_date(&connection.id, account)
        .await
        .map_err(|e| err("latest booked", e))?;
    let settings = connection.settings.clone().sanitized();
    let window =
        psd2_sync::window::Window::for_account(&settings, clock.now().date_naive(), latest);
    let mut recorded = PageServer::new(&sandbox.bank_url(Bank::OpenPayments))?;
    record_listing(
        &mut recorded,
        sandbox,
        session,
        account,
        (window.from, window.to),
    )
    .await?;
    recorded.start().await
}

/// Points the stored connection `id` at the bank base `base`; returns it.
async fn point_at(
    store: &dyn Store,
    id: &psd2_sync::ConnectionId,
    base: &str,
) -> Result<Connection, BenchError> {
    let mut c = store
        .connection(id)
        .await
        .map_err(|e| err("connection", e))?
        .ok_or_else(|| err("connection", "gone"))?;
    c.base_url = base.to_string();
    store
        .update_connection(&c)
        .await
        .map_err(|e| err("update connection", e))?;
    Ok(c)
}

/// `connections` connections synced by `workers` workers sharing the store at `url`, with
/// `latency_ms` added to every bank call.
pub async fn scale_out(
    url: &str,
    workers: usize,
    connections: usize,
    latency_ms: u64,
) -> Result<Value, BenchError> {
    let dir = tempfile::tempdir()?;
    let latency = FaultConfig {
        bank: Some(Bank::OpenPayments),
        path_contains: Some("/psd2/accountinformation".into()),
        latency_ms: Some(latency_ms),
        ..FaultConfig::default()
    };
    let sandbox = start(200, 100, vec![latency]).await?;
    let store = fresh_store(url, dir.path()).await?;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Utc::now()));
    let setup = engine(store.clone(), clock.clone());
    for i in 0..connections {
        let psu = ["private-1", "private-2", "corporate-1"][i % 3];
        connect(&setup, &sandbox, psu).await?;
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let engine = engine(store.clone(), clock.clone());
        tasks.push(tokio::spawn(async move {
            let worker = format!("bench-{w}");
            let mut synced = 0usize;
            loop {
                let reports = engine.run_due(&worker, Duration::from_secs(300), 1).await?;
                if reports.is_empty() {
                    return Ok::<usize, SyncError>(synced);
                }
                synced += reports.len();
            }
        }));
    }
    let mut synced = 0;
    for task in tasks {
        synced += task
            .await
            .map_err(|e| err("worker", e))?
            .map_err(|e| err("worker", e))?;
    }
    let elapsed = started.elapsed();
    sandbox.shutdown().await;
    Ok(json!({
        "store": store.engine().as_str(),
        "workers": workers,
        "connections": connections,
        "synced": synced,
        "latency_ms": latency_ms,
        "secs": elapsed.as_secs_f64(),
        "connections_per_sec": per_second(synced as u64, elapsed),
    }))
}

/// The store alone: `transactions` synthetic entries committed in pages of `page_size`
/// (one change each), as the engine commits a first sync.
pub async fn store_write(
    url: &str,
    transactions: u64,
    page_size: u64,
) -> Result<Value, BenchError> {
    use psd2_sync::model::{ChangeKind, NewChange, PageCommit, StoredTransaction, TxKey};
    let dir = tempfile::tempdir()?;
    let store = fresh_store(url, dir.path()).await?;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Utc::now()));
    let sandbox = start(10, 10, Vec::new()).await?;
    let (connection, _) = connect(&engine(store.clone(), clock), &sandbox, PSU).await?;
    let account = AccountId::new("bench-account");
    let day = Utc::now().date_naive();
    let started = Instant::now();
    let cpu = process_cpu();
    let mut written = 0u64;
    let mut json = Vec::new();
    // The store's own share: the commits alone, rows already built and encoded.
    let mut committing = Duration::ZERO;
    while written < transactions {
        let mut commit = PageCommit::new(connection.id.clone());
        for i in 0..page_size.min(transactions - written) {
            let amount = psd2::Money::parse(&format!("-{}.{:02}", i % 500, i % 100), "SEK")
                .map_err(|e| err("amount", e))?;
            let mut tx = psd2::Transaction::new(psd2::TransactionStatus::Booked, amount.clone());
            tx.booking_date = Some(day);
            tx.remittance_unstructured = Some(format!("payment {written} {i}"));
            let row = StoredTransaction {
                key: TxKey::random(),
                connection: connection.id.clone(),
                account: account.clone(),
                bank_id: Some(format!("id-{written}-{i}")),
                status: psd2::TransactionStatus::Booked,
                fingerprint: format!("{:064x}", u128::from(written + i)),
                occurrence: 0,
                date: Some(day),
                booking_date: Some(day),
                value_date: None,
                amount: amount.amount,
                currency: "SEK".into(),
                transaction: tx,
                removed: false,
                last_listing: None,
                last_cursor: 0,
            };
            commit.changes.push(NewChange {
                account: account.clone(),
                key: row.key.clone(),
                kind: ChangeKind::Added,
                transaction: None,
                at: Utc::now(),
            });
            commit.transactions.push(row);
        }
        // As the engine does, before the commit.
        commit
            .encode_transactions(&mut json)
            .map_err(|e| err("json", e))?;
        written += commit.transactions.len() as u64;
        let commit_started = Instant::now();
        store
            .commit_page(&commit)
            .await
            .map_err(|e| err("commit", e))?;
        committing += commit_started.elapsed();
    }
    let elapsed = started.elapsed();
    let cpu = cpu_since(cpu);
    sandbox.shutdown().await;
    Ok(json!({
        "store": store.engine().as_str(),
        "transactions": written,
        "secs": elapsed.as_secs_f64(),
        "cpu_secs": cpu,
        "per_sec": per_second(written, elapsed),
        "commit_secs": committing.as_secs_f64(),
        "commit_per_sec": per_second(written, committing),
    }))
}
