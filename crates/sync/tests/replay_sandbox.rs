//! Churn replay against the sandbox: every churn scenario switched on, 30 simulated days,
//! 4 unattended syncs a day, through the real adapters into SQLite. At the end the store
//! equals the sandbox's ground truth (`RunningSandbox::truth`): the same booked entries and
//! open pending entries (0 duplicates, 0 lost), every pending entry that was booked changed
//! exactly once (`modified`, pending to booked), every cancelled one was removed once, and
//! the bank never answered 429.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeDelta};
use psd2::adapters::common::TransportConfig;
use psd2::adapters::handelsbanken::{Handelsbanken, HandelsbankenConfig};
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::adapters::swedbank::{Swedbank, SwedbankConfig};
use psd2::{
    AccountId, Bank, ConsentRequest, Decimal, Psu, PsuId, ScaChallenge, ScaMethod,
    TransactionStatus,
};
use psd2_sandbox::{
    Bank as SandboxBank, ChurnConfig, ChurnScenario, RunningSandbox, Sandbox, TruthQuery,
};
use psd2_security::SigningIdentity;
use psd2_security::fixtures::{TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM};
use psd2_sync::clock::ManualClock;
use psd2_sync::store::{SqliteStore, Store};
use psd2_sync::{
    BankSyncSettings, BudgetScope, ChangeKind, Connection, ConnectionAccount, Engine, EventKind,
    SyncError,
};
use url::Url;

const DAYS: i64 = 30;
const SYNCS_PER_DAY: i64 = 4;

fn adapter(sandbox: &RunningSandbox, bank: SandboxBank) -> Arc<dyn Bank> {
    let url = Url::parse(&sandbox.bank_url(bank)).unwrap();
    let http = || TransportConfig::with_client(reqwest::Client::new());
    match bank {
        SandboxBank::OpenPayments => {
            let mut config =
                OpenPaymentsConfig::new(url, "sync-replay", bank.bic()).with_transport(http());
            config.poll_interval = Duration::from_millis(10);
            Arc::new(OpenPayments::new(config).unwrap())
        }
        SandboxBank::Swedbank => Arc::new(
            Swedbank::new(
                SwedbankConfig::new(url)
                    .with_signing(
                        SigningIdentity::from_pem(TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM)
                            .unwrap(),
                    )
                    .with_transport(http()),
            )
            .unwrap(),
        ),
        SandboxBank::Handelsbanken => Arc::new(
            Handelsbanken::new(
                HandelsbankenConfig::new(url, "sync-replay", "SE").transport(http()),
            )
            .unwrap(),
        ),
    }
}

#[derive(Debug, Default)]
struct Figures {
    syncs: u32,
    /// The most pages one sync read (the first sync's history).
    max_pages: u32,
    added: u32,
    modified: u32,
    removed: u32,
    booked: usize,
    pending: usize,
    cancelled: usize,
}

async fn replay(bank: SandboxBank) -> Figures {
    let start = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let sandbox = Sandbox::builder()
        .seed(11)
        .history_size(600)
        // Small pages: the first sync's history takes several pages, and later syncs too;
        // only a listing's first request counts, at the sandbox as in the engine.
        .page_size(10)
        .today(start)
        .decoupled_pending_polls(1)
        .build()
        .start()
        .await
        .unwrap();
    let adapter = adapter(&sandbox, bank);
    // Consent and SCA with the PSU present (as in `psd2 sync add`).
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    let present = Psu::present(ip, None).with_id(PsuId::new("private-1"));
    let consents = adapter.as_consents().unwrap();
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), &present)
        .await
        .unwrap();
    let ScaChallenge::Decoupled { handle, .. } = consents
        .start_sca(&created.consent.id, &ScaMethod::Decoupled, &present)
        .await
        .unwrap()
    else {
        panic!("decoupled SCA expected")
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
    let ai = adapter.as_account_information().unwrap();
    let account = ai
        .accounts(&session, &present, false)
        .await
        .unwrap()
        .remove(0)
        .id;

    let clock = ManualClock::new(start.and_hms_opt(0, 30, 0).unwrap().and_utc());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().await.unwrap());
    let resolver_adapter = adapter.clone();
    let resolver =
        move |_: &Connection| -> Result<Arc<dyn Bank>, SyncError> { Ok(resolver_adapter.clone()) };
    let engine = Engine::new(store.clone(), Arc::new(resolver), Arc::new(clock.clone()));
    // The sandbox counts `frequencyPerDay` per consent, all accounts together.
    let settings = BankSyncSettings {
        budget_scope: BudgetScope::Consent,
        ..BankSyncSettings::for_bank(bank.prefix())
    };
    let absent = Psu::absent().with_id(PsuId::new("private-1"));
    let mut connection = engine
        .add_connection(
            bank.prefix(),
            &sandbox.bank_url(bank),
            &session,
            &absent,
            None,
            settings,
        )
        .await
        .unwrap();
    connection.accounts = vec![ConnectionAccount {
        id: account.clone(),
        card: false,
        latest_booked: None,
        synced_at: None,
    }];
    store.update_connection(&connection).await.unwrap();
    sandbox
        .set_churn(&ChurnConfig {
            bank: Some(bank),
            scenarios: ChurnScenario::ALL.to_vec(),
            seed: 5,
            per_day: 6,
        })
        .unwrap();

    let mut figures = Figures::default();
    for day in 0..DAYS {
        if day > 0 {
            sandbox.advance_days(1).unwrap();
        }
        let today = sandbox.today();
        for n in 0..SYNCS_PER_DAY {
            clock.set(today.and_hms_opt(0, 30, 0).unwrap().and_utc() + TimeDelta::hours(6 * n));
            let report = engine.sync_connection(&connection.id).await.unwrap();
            assert_eq!(report.accounts.len(), 1);
            // A multi-page listing never fails on the budget (a sync may be deferred when
            // the day's accesses are spent, never cut off part way).
            assert!(
                !matches!(
                    report.accounts[0].outcome,
                    psd2_sync::AccountOutcome::Failed { .. }
                ),
                "{bank}: day {day} sync {n}: {:?}",
                report.accounts[0].outcome
            );
            if day == 0 && n == 0 {
                // The first sync reads the whole history (more pages than the 4 accesses a
                // day granted) at the cost of one access.
                assert_eq!(
                    report.accounts[0].outcome,
                    psd2_sync::AccountOutcome::Complete,
                    "{bank}"
                );
            }
            figures.max_pages = figures.max_pages.max(report.accounts[0].pages);
            let (a, m, r) = report.totals();
            figures.syncs += 1;
            figures.added += a;
            figures.modified += m;
            figures.removed += r;
        }
    }
    check_against_truth(
        &sandbox,
        bank,
        &store,
        &connection,
        &account,
        start,
        &mut figures,
    )
    .await;
    sandbox.shutdown().await;
    figures
}

async fn check_against_truth(
    sandbox: &RunningSandbox,
    bank: SandboxBank,
    store: &Arc<dyn Store>,
    connection: &Connection,
    account: &AccountId,
    start: NaiveDate,
    figures: &mut Figures,
) {
    // The first sync read 90 days back; the truth from that day on.
    let from = start - TimeDelta::days(90);
    let truth = sandbox
        .truth_query(&TruthQuery {
            bank,
            psu: "private-1".into(),
            account: Some(account.as_str().to_string()),
            date_from: Some(from),
        })
        .unwrap();
    let truth = &truth.accounts[0];
    let mut truth_booked: Vec<(NaiveDate, Decimal)> = truth
        .booked
        .iter()
        .map(|e| (e.booking_date.unwrap(), e.amount))
        .collect();
    let mut truth_pending: Vec<(NaiveDate, Decimal)> = truth
        .pending
        .iter()
        .map(|e| (e.value_date, e.amount))
        .collect();
    truth_booked.sort();
    truth_pending.sort();

    let rows = store
        .load_account_state(&connection.id, account, None)
        .await
        .unwrap();
    let mut booked = Vec::new();
    let mut pending = Vec::new();
    for row in rows.iter().filter(|r| !r.removed) {
        match row.status {
            TransactionStatus::Booked => booked.push((row.booking_date.unwrap(), row.amount)),
            _ => pending.push((row.value_date.or(row.date).unwrap(), row.amount)),
        }
    }
    booked.sort();
    pending.sort();
    assert_eq!(
        booked.len(),
        truth_booked.len(),
        "{bank}: booked count (duplicates or losses)"
    );
    assert_eq!(booked, truth_booked, "{bank}: booked entries");
    assert_eq!(pending, truth_pending, "{bank}: open pending entries");

    let changes = store
        .changes_since(&connection.id, 0, u32::MAX)
        .await
        .unwrap();
    let mut per_key: std::collections::BTreeMap<String, Vec<(ChangeKind, String)>> =
        Default::default();
    for c in &changes {
        let status = c.transaction["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        per_key
            .entry(c.key.to_string())
            .or_default()
            .push((c.kind, status));
    }
    let mut pending_to_booked = 0;
    for kinds in per_key.values() {
        let modified: Vec<_> = kinds
            .iter()
            .filter(|k| k.0 == ChangeKind::Modified)
            .collect();
        assert!(
            modified.len() <= 1,
            "{bank}: a key modified twice: {kinds:?}"
        );
        if let Some(m) = modified.first() {
            assert_eq!(
                (kinds[0].1.as_str(), m.1.as_str()),
                ("pending", "booked"),
                "{bank}"
            );
            pending_to_booked += 1;
        }
    }
    // Every churn entry booked after being pending: the truth's booked entries since the
    // start that the sync first saw as pending.
    let removed = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Removed)
        .count();
    let cancelled_since_start = truth
        .cancelled
        .iter()
        .filter(|e| e.value_date >= start)
        .count();
    assert_eq!(
        removed, cancelled_since_start,
        "{bank}: one removal per cancelled pending entry"
    );
    assert!(
        pending_to_booked > 0,
        "{bank}: churn booked pending entries"
    );
    let events = store.events_since(0, u32::MAX).await.unwrap();
    let failures: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::SyncFailed || e.detail.contains("429"))
        .collect();
    assert!(failures.is_empty(), "{bank}: {failures:?}");
    // Every unattended attempt went through the budget hook: one page per sync, 4 a day,
    // never more than the 4 the consent grants.
    let lines = store.budget(&connection.id, start).await.unwrap();
    assert_eq!(lines.len(), DAYS as usize, "{bank}: one ledger line a day");
    assert!(
        lines.iter().all(|l| l.used == 4 && l.granted == 4),
        "{bank}: {lines:?}"
    );
    figures.booked = booked.len();
    figures.pending = pending.len();
    figures.cancelled = cancelled_since_start;
    eprintln!("{bank}: {figures:?}, pending->booked {pending_to_booked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swedbank_churn_replay_matches_the_truth() {
    let f = replay(SandboxBank::Swedbank).await;
    expected_figures(&f);
}

/// The figures the sandbox's churn rules imply, independent of the engine: with every
/// scenario on and 6 new entries a day, each day after the first brings one entry of each
/// of the 6 kinds (plain, pending booked under a new id, pending booked with another amount,
/// pending cancelled, back-dated, twins); a pending entry resolves the next day. Over 30
/// days that is 29 days of churn, of which the last day's 3 pending entries are still open:
/// 28 cancelled (one `removed` each) and 2 x 28 booked from pending (one `modified` each).
fn expected_figures(f: &Figures) {
    // Pages of 10: the first sync's history takes more pages than the 4 accesses a day,
    // and still one access.
    assert!(f.max_pages > 4, "{f:?}");
    let resolved_days = (DAYS - 2) as u32;
    assert_eq!(f.syncs, (DAYS * SYNCS_PER_DAY) as u32);
    assert_eq!(f.removed, resolved_days);
    assert_eq!(f.cancelled, resolved_days as usize);
    assert_eq!(f.modified, 2 * resolved_days);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openpayments_churn_replay_matches_the_truth() {
    let f = replay(SandboxBank::OpenPayments).await;
    expected_figures(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handelsbanken_churn_replay_matches_the_truth() {
    let f = replay(SandboxBank::Handelsbanken).await;
    expected_figures(&f);
}
