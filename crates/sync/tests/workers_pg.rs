//! Four worker processes share one PostgreSQL database and 200 sandbox connections: each
//! connection is synced once in the round, never by two workers at once, and when one
//! worker is SIGKILLed mid-round the others finish its connections after its lease ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use store_support::bank::{
    LogLine, authorised_connection, engine, read_logs, sandbox, spawn_child, worker_loop,
};

/// Set in a child process: `STORE_URL WORKER LOG_PATH`.
const CHILD_ENV: &str = "PSD2_SYNC_WORKER_CHILD";
const LEASE: Duration = Duration::from_secs(3);
const CONNECTIONS: usize = 200;
const WORKERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the entry point of a worker process that the workers test starts"]
async fn worker_child() {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_sync_200_connections_once_and_survive_a_kill() {
    let Some(url) = store_support::fresh_pg_database().await else {
        return;
    };
    let store = psd2_sync::store::open(&url).await.unwrap();
    let sandbox = sandbox(30, 10, 2 * CONNECTIONS).await;
    let setup = engine(store.clone());
    let psus = ["private-1", "private-2", "corporate-1"];
    for i in 0..CONNECTIONS {
        authorised_connection(&setup, &sandbox, psus[i % psus.len()], 100).await;
    }
    let ids: BTreeSet<String> = store
        .connections()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.to_string())
        .collect();
    assert_eq!(ids.len(), CONNECTIONS);

    let dir = tempfile::tempdir().unwrap();
    let mut children = Vec::new();
    for w in 0..WORKERS {
        let log = dir.path().join(format!("w{w}.log"));
        let spec = format!("{url} w{w} {}", log.display());
        children.push(spawn_child("worker_child", &[(CHILD_ENV, spec)]));
    }

    // Kill worker 0 once it has finished ten connections and committed a page of the next
    // one: it is then in the middle of a sync, holding that connection's lease.
    let victim_log = dir.path().join("w0.log");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let text = std::fs::read_to_string(&victim_log).unwrap_or_default();
        let done = text.lines().filter(|l| l.starts_with("done ")).count();
        if done >= 10 && text.lines().last().is_some_and(|l| l.starts_with("page ")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "worker 0 never finished ten syncs"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    children[0].kill().unwrap();
    let killed_at = store_support::bank::now_nanos();
    children[0].wait().unwrap();
    for child in children.iter_mut().skip(1) {
        let status = child.wait().unwrap();
        assert!(status.success(), "a surviving worker failed: {status}");
    }

    // Every connection was synced in the round.
    for c in store.connections().await.unwrap() {
        assert!(
            c.last_sync_at.is_some(),
            "connection {} was not synced",
            c.id
        );
        assert_eq!(
            store.lease(&c.id).await.unwrap(),
            None,
            "all leases released"
        );
    }
    check_round(&read_logs(dir.path()), &ids, killed_at);
    sandbox.shutdown().await;
}

/// Checks the workers' logs of one round: every connection finished once, never synced by
/// two workers at once, the killed worker's connection handed over.
fn check_round(logs: &[LogLine], ids: &BTreeSet<String>, killed_at: i128) {
    let mut done: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut pages: BTreeMap<&str, Vec<(&str, i128)>> = BTreeMap::new();
    for line in logs {
        assert!(
            ids.contains(&line.connection),
            "unknown connection in the logs"
        );
        match line.what.as_str() {
            "done" => done.entry(&line.connection).or_default().push(&line.worker),
            "page" => pages
                .entry(&line.connection)
                .or_default()
                .push((&line.worker, line.nanos)),
            other => panic!("unexpected log line {other}"),
        }
    }
    let mut handed_over = 0;
    for id in ids {
        let finished = done.get(id.as_str()).cloned().unwrap_or_default();
        let by_page: Vec<&str> = pages
            .get(id.as_str())
            .map(|p| p.iter().map(|(w, _)| *w).collect())
            .unwrap_or_default();
        // Synced once in the round: one finished sync, except a connection the victim
        // finished just before the kill without logging it.
        assert!(
            finished.len() <= 1,
            "connection {id} synced {} times",
            finished.len()
        );
        if finished.is_empty() {
            assert!(
                by_page.iter().all(|w| *w == "w0"),
                "{id}: nobody finished it"
            );
        }
        // Never two workers at once: the pages of a connection come from one worker, or
        // from the victim first (all before the kill) and then from exactly one other.
        let workers: BTreeSet<&str> = by_page.iter().copied().collect();
        assert!(workers.len() <= 2, "{id}: pages from {workers:?}");
        if workers.len() == 2 {
            assert!(
                workers.contains("w0"),
                "{id}: two live workers synced it: {workers:?}"
            );
            let list = &pages[id.as_str()];
            let last_victim = list
                .iter()
                .filter(|(w, _)| *w == "w0")
                .map(|(_, t)| *t)
                .max();
            let first_other = list
                .iter()
                .filter(|(w, _)| *w != "w0")
                .map(|(_, t)| *t)
                .min();
            assert!(last_victim < first_other, "{id}: pages interleaved");
            assert!(last_victim.unwrap() <= killed_at);
            handed_over += 1;
        }
    }
    let per_worker: BTreeMap<&str, usize> =
        done.values().flatten().fold(BTreeMap::new(), |mut m, w| {
            *m.entry(*w).or_default() += 1;
            m
        });
    // The kill landed mid-sync: the victim's last line may still be followed by a finished
    // sync it did not log; otherwise its connection was handed over.
    println!(
        "workers: {CONNECTIONS} connections, finished per worker {per_worker:?}, \
         {handed_over} connection(s) handed over from the killed worker"
    );
    assert!(per_worker.get("w0").copied().unwrap_or(0) >= 10);
    let victim_last = logs.iter().rfind(|l| l.worker == "w0").unwrap();
    let victim_finished = |c: &str| done.get(c).is_some_and(|ws| ws.contains(&"w0"));
    if victim_last.what == "page" && !victim_finished(&victim_last.connection) {
        assert_eq!(
            handed_over, 1,
            "the killed worker's connection was finished by another"
        );
    } else {
        println!("workers: the victim finished its last connection before the kill landed");
    }
    for w in 1..WORKERS {
        assert!(
            per_worker
                .get(format!("w{w}").as_str())
                .copied()
                .unwrap_or(0)
                > 0
        );
    }
}
