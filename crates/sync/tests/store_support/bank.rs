//! The bank side of the process tests: the sandbox, Open Payments adapters for it, authorised
//! connections, the engine a (child) process runs, and a comparable view of a store.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::{Bank, ConsentRequest, Psu, PsuId, ScaChallenge, ScaMethod};
use psd2_sandbox::{Bank as SandboxBank, RunningSandbox, Sandbox};
use psd2_sync::clock::SystemClock;
use psd2_sync::model::{Connection, ConnectionId};
use psd2_sync::settings::BankSyncSettings;
use psd2_sync::store::Store;
use psd2_sync::{BankResolver, Engine, SyncError};

/// Starts a sandbox with `history` transactions on the long-history account and pages of
/// `page_size`, room for `consents` consents, SCA completing at the first poll.
pub async fn sandbox(history: u64, page_size: u64, consents: usize) -> RunningSandbox {
    Sandbox::builder()
        .history_size(history)
        .page_size(page_size)
        .max_consents(consents)
        .decoupled_pending_polls(0)
        .build()
        .start()
        .await
        .unwrap()
}

/// An Open Payments adapter for the sandbox bank at `base_url` (`None` when it does not
/// build).
pub fn openpayments(base_url: &str) -> Option<Arc<dyn Bank>> {
    let url = url::Url::parse(base_url).ok()?;
    let mut config = OpenPaymentsConfig::new(url, "sync-tests", SandboxBank::OpenPayments.bic());
    config.poll_interval = Duration::from_millis(10);
    Some(Arc::new(OpenPayments::new(config).ok()?))
}

/// Resolves every connection to an Open Payments adapter at its base URL.
pub fn resolver() -> Arc<dyn BankResolver> {
    Arc::new(|c: &Connection| -> Result<Arc<dyn Bank>, SyncError> {
        openpayments(&c.base_url).ok_or_else(|| SyncError::UnknownBank(c.bank.clone()))
    })
}

/// The engine a sync process runs: system clock, Open Payments adapters.
pub fn engine(store: Arc<dyn Store>) -> Engine {
    Engine::new(store, resolver(), Arc::new(SystemClock))
}

/// Creates and authorises a consent of `psu` (with the PSU present) granting
/// `frequency_per_day` unattended accesses, and adds it as a connection.
pub async fn authorised_connection(
    engine: &Engine,
    sandbox: &RunningSandbox,
    psu: &str,
    frequency_per_day: u32,
) -> Connection {
    let base = sandbox.bank_url(SandboxBank::OpenPayments);
    let bank = openpayments(&base).unwrap();
    let consents = bank.as_consents().unwrap();
    let present = Psu::present("192.0.2.10".parse().unwrap(), None).with_id(PsuId::new(psu));
    let mut request = ConsentRequest::all_accounts();
    request.frequency_per_day = frequency_per_day;
    let created = consents.create_consent(&request, &present).await.unwrap();
    let challenge = consents
        .start_sca(&created.consent.id, &ScaMethod::Decoupled, &present)
        .await
        .unwrap();
    let ScaChallenge::Decoupled { handle, .. } = challenge else {
        panic!("the sandbox offers decoupled SCA")
    };
    let session = consents
        .wait_for_decoupled(
            &created.consent.id,
            &handle,
            Duration::from_secs(30),
            &present,
        )
        .await
        .unwrap();
    let consent = consents
        .consent(&created.consent.id, &present)
        .await
        .unwrap();
    engine
        .add_connection(
            "openpayments",
            &base,
            &session,
            &Psu::absent().with_id(PsuId::new(psu)),
            Some(&consent),
            BankSyncSettings::for_bank("openpayments"),
        )
        .await
        .unwrap()
}

/// What a store holds about one connection, without our random keys and the times of the
/// run: per account the stored entries and the change feed (kind + transaction), sorted.
#[derive(Debug, PartialEq, Eq)]
pub struct Comparable {
    pub transactions: BTreeMap<String, Vec<String>>,
    pub changes: Vec<String>,
}

/// The comparable view of `connection` in `store`.
pub async fn comparable(store: &dyn Store, connection: &ConnectionId) -> Comparable {
    let c = store.connection(connection).await.unwrap().unwrap();
    let mut transactions = BTreeMap::new();
    for account in &c.accounts {
        let mut rows: Vec<String> = store
            .load_account_state(connection, &account.id, None)
            .await
            .unwrap()
            .into_iter()
            .map(|t| {
                format!(
                    "{} {} {} {:?} {:?} {:?} {} {} {}",
                    t.status,
                    t.amount,
                    t.currency,
                    t.date,
                    t.booking_date,
                    t.bank_id,
                    t.fingerprint,
                    t.occurrence,
                    t.removed
                )
            })
            .collect();
        rows.sort();
        transactions.insert(account.id.as_str().to_string(), rows);
    }
    let mut changes = Vec::new();
    let mut after = 0;
    loop {
        let page = store.changes_since(connection, after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.cursor;
        changes.extend(
            page.into_iter()
                .map(|ch| format!("{} {} {}", ch.kind.as_str(), ch.account, ch.transaction)),
        );
    }
    changes.sort();
    Comparable {
        transactions,
        changes,
    }
}

/// Logs every committed page as `page WORKER CONNECTION NANOS` (one line, flushed), so
/// a parent can check afterwards who synced what when, even after a SIGKILL.
pub struct PageLog {
    pub worker: String,
    pub file: std::sync::Mutex<std::fs::File>,
}

impl psd2_sync::SyncObserver for PageLog {
    fn page(&self, connection: &ConnectionId, _: &psd2::AccountId, _: u32, _: usize) {
        log_line(
            &self.file,
            &format!("page {} {} {}", self.worker, connection, now_nanos()),
        );
    }
}

/// Nanoseconds since the epoch (one clock for all processes of the machine).
pub fn now_nanos() -> i128 {
    i128::from(chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default())
}

/// Appends one line and flushes it.
pub fn log_line(file: &std::sync::Mutex<std::fs::File>, line: &str) {
    use std::io::Write as _;
    let mut f = file.lock().unwrap();
    writeln!(f, "{line}").unwrap();
    f.flush().unwrap();
}

/// A worker's loop: claim one due connection at a time and sync it (`Engine::run_due`),
/// logging `done WORKER CONNECTION NANOS` after each, until every connection has been
/// synced once (a connection a killed worker held is claimable again once its lease ends).
pub async fn worker_loop(store: Arc<dyn Store>, worker: &str, lease: Duration, log_path: &str) {
    let file = Arc::new(PageLog {
        worker: worker.to_string(),
        file: std::sync::Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log_path)
                .unwrap(),
        ),
    });
    let engine = engine(store.clone()).with_observer(file.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(900);
    while std::time::Instant::now() < deadline {
        let reports = engine.run_due(worker, lease, 1).await.unwrap();
        for report in &reports {
            log_line(
                &file.file,
                &format!("done {worker} {} {}", report.connection, now_nanos()),
            );
        }
        if reports.is_empty() {
            let all = store.connections().await.unwrap();
            if all.iter().all(|c| c.last_sync_at.is_some()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("worker {worker} did not finish within 15 minutes");
}

/// One line of a worker log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub what: String,
    pub worker: String,
    pub connection: String,
    pub nanos: i128,
}

/// Reads every worker log in `dir`.
pub fn read_logs(dir: &std::path::Path) -> Vec<LogLine> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("log") {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            if let [what, worker, connection, nanos] = parts[..] {
                lines.push(LogLine {
                    what: what.to_string(),
                    worker: worker.to_string(),
                    connection: connection.to_string(),
                    nanos: nanos.parse().unwrap(),
                });
            }
        }
    }
    lines.sort_by_key(|l| l.nanos);
    lines
}

/// Starts this test binary again as a child running only `test_name` (an ignored test that
/// is the child's entry point), with `env` set.
pub fn spawn_child(test_name: &str, env: &[(&str, String)]) -> std::process::Child {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            test_name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().unwrap()
}
