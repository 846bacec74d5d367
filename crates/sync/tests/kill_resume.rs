//! On SQLite and on PostgreSQL: a sync process SIGKILLed at random moments (a bounded
//! number of times) and then resumed leaves the store exactly as an uninterrupted run does:
//! nothing lost, nothing twice.
//!
//! Two stores sync the same sandbox data (the same PSUs through separate consents): the
//! reference runs in this process without interruption; the other is synced by child
//! processes (this test binary started again) that are killed at random points until one
//! runs to the end. The stores are then compared without our random keys and run times.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_support;

use std::time::Duration;

use sqlx::Connection as _;

use store_support::bank::{
    authorised_connection, comparable, engine, sandbox, spawn_child, worker_loop,
};

/// Set in a child process: `STORE_URL WORKER LOG_PATH`.
const CHILD_ENV: &str = "PSD2_SYNC_KILL_CHILD";
const LEASE: Duration = Duration::from_secs(1);
const KILLS: usize = 6;
const PSUS: [&str; 3] = ["private-1", "private-2", "corporate-1"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the entry point of the sync process that the kill test starts and kills"]
async fn sync_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.splitn(3, ' ').collect();
    let [url, worker, log] = parts[..] else {
        panic!("{CHILD_ENV} is `URL WORKER LOG`")
    };
    let store = psd2_sync::store::open(url).await.unwrap();
    worker_loop(store, worker, LEASE, log).await;
}

/// A small xorshift generator: the kill points, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_and_resumed_sync_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("sqlite:{}", dir.path().join("reference.db").display());
    let killed = format!("sqlite:{}", dir.path().join("killed.db").display());
    kill_and_compare(&reference, &killed, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_and_resumed_sync_equals_an_uninterrupted_one() {
    let Some(reference) = store_support::fresh_pg_database().await else {
        return;
    };
    let killed = store_support::fresh_pg_database().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    kill_and_compare(&reference, &killed, dir.path()).await;
}

/// Open listings (saved progress rows), read from the table itself: a connection's account
/// list is saved only when its sync ends.
async fn open_listings(url: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM progress";
    if url.starts_with("postgres") {
        let mut raw = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut raw).await.unwrap()
    } else {
        let mut raw = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut raw).await.unwrap()
    }
}

/// Syncs the same PSUs into the store at `reference_url` without interruption and into the
/// one at `killed_url` by processes killed at random points, then compares the two.
async fn kill_and_compare(reference_url: &str, killed_url: &str, dir: &std::path::Path) {
    let seed = std::env::var("PSD2_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_subsec_nanos() as u64 | 1);
    let engine_name = reference_url.split(':').next().unwrap_or_default();
    println!("kill test ({engine_name}): seed {seed} (set PSD2_KILL_SEED to repeat)");
    let mut rng = Rng(seed);
    let sandbox = sandbox(4000, 10, 16).await;
    let reference = psd2_sync::store::open(reference_url).await.unwrap();
    let killed = psd2_sync::store::open(killed_url).await.unwrap();
    let (mut reference_ids, mut killed_ids) = (Vec::new(), Vec::new());
    for psu in PSUS {
        reference_ids.push(
            authorised_connection(&engine(reference.clone()), &sandbox, psu, 100)
                .await
                .id,
        );
        killed_ids.push(
            authorised_connection(&engine(killed.clone()), &sandbox, psu, 100)
                .await
                .id,
        );
    }

    let started = std::time::Instant::now();
    let log = dir.join("reference.log");
    worker_loop(
        reference.clone(),
        "reference",
        LEASE,
        &log.display().to_string(),
    )
    .await;
    let uninterrupted = started.elapsed();
    let pages = std::fs::read_to_string(&log)
        .unwrap()
        .matches("page ")
        .count();
    let mut stored = 0;
    for id in &reference_ids {
        stored += reference.transaction_count(id).await.unwrap();
    }
    println!(
        "kill test ({engine_name}): uninterrupted sync of {} connections took {uninterrupted:?}: \
         {pages} pages, {stored} transactions",
        PSUS.len()
    );

    // Each child is killed at a random moment after it committed its first page (a bounded
    // number of times); whether a listing was cut mid-way is read from the saved progress.
    let span = u64::try_from(uninterrupted.as_millis()).unwrap().max(50);
    let (mut landed, mut mid_listing) = (0, 0);
    for round in 0..KILLS {
        let log = dir.join(format!("killed-{round}.log"));
        let spec = format!("{killed_url} child-{round} {}", log.display());
        let mut child = spawn_child("sync_child", &[(CHILD_ENV, spec)]);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none()
            && !std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("page ")
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.below(span / 6 + 1))).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            landed += 1;
        }
        child.wait().unwrap();
        mid_listing += open_listings(killed_url).await;
    }
    let log = dir.join("killed-final.log");
    let spec = format!("{killed_url} child-final {}", log.display());
    let status = spawn_child("sync_child", &[(CHILD_ENV, spec)])
        .wait()
        .unwrap();
    assert!(status.success(), "the resumed sync failed: {status}");
    println!(
        "kill test ({engine_name}): {landed} of {KILLS} kills landed while the sync ran; \
         {mid_listing} times a listing was left mid-way and resumed from its saved page"
    );
    assert!(landed > 0, "no kill landed");

    for (reference_id, killed_id) in reference_ids.iter().zip(&killed_ids) {
        let want = comparable(reference.as_ref(), reference_id).await;
        let got = comparable(killed.as_ref(), killed_id).await;
        assert!(
            !want.changes.is_empty(),
            "the reference run stored something"
        );
        assert_eq!(
            got.transactions, want.transactions,
            "stored transactions differ"
        );
        assert_eq!(
            got.changes.len(),
            want.changes.len(),
            "change counts differ"
        );
        assert_eq!(got.changes, want.changes, "change feeds differ");
        for account in killed
            .connection(killed_id)
            .await
            .unwrap()
            .unwrap()
            .accounts
        {
            assert_eq!(killed.progress(killed_id, &account.id).await.unwrap(), None);
        }
    }
    sandbox.shutdown().await;
}
