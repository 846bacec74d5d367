//! The one store test suite, run against SQLite and PostgreSQL alike.
//!
//! Expected values come from the `Store` contract (its documentation) and from the fixtures
//! written here, never from reading the store's own output back as the expectation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use psd2::{AccountId, TransactionStatus};
use psd2_sync::model::{
    BudgetDay, ChangeKind, ConnectionState, EventKind, NewChange, NewEvent, PageCommit, Progress,
    ProgressUpdate, ResumeCursor, StoredTransaction,
};
use psd2_sync::store::{Store, StoreError};
use store_support::{TestDb, at, connection, date, stored};

fn change_for(t: &StoredTransaction, kind: ChangeKind) -> NewChange {
    NewChange {
        account: t.account.clone(),
        key: t.key.clone(),
        kind,
        transaction: Some(t.transaction.clone()),
        at: at(2, 9),
    }
}

fn event(c: &psd2_sync::model::ConnectionId, kind: EventKind, detail: &str) -> NewEvent {
    NewEvent {
        connection: c.clone(),
        account: None,
        kind,
        at: at(2, 10),
        error_kind: None,
        detail: detail.to_string(),
    }
}

/// A commit adding `n` booked transactions on consecutive days from the 1st.
fn adding(c: &psd2_sync::model::ConnectionId, n: u32) -> (PageCommit, Vec<StoredTransaction>) {
    let mut commit = PageCommit::new(c.clone());
    let txs: Vec<_> = (0..n)
        .map(|i| {
            stored(
                c,
                "acc-1",
                TransactionStatus::Booked,
                Some(1 + i % 28),
                "-10.00",
            )
        })
        .collect();
    for t in &txs {
        commit.changes.push(change_for(t, ChangeKind::Added));
    }
    commit.transactions = txs.clone();
    (commit, txs)
}

async fn migrations_run_from_empty_and_reopen(db: TestDb) {
    // A fresh database got every migration; opening it again applies nothing twice and
    // keeps the data.
    let c = connection("handelsbanken");
    db.store.add_connection(&c).await.unwrap();
    // Schema versions: 1 (the tables), 2 (lean writes), and on SQLite 3 (the change feed
    // clustered on its key).
    let versions = match db.engine {
        store_support::Engine::Sqlite => 3,
        store_support::Engine::Postgres => 2,
    };
    assert_eq!(
        db.raw_i64("SELECT COUNT(*) FROM _sqlx_migrations").await,
        versions
    );
    let again = psd2_sync::store::open(&db.url).await.unwrap();
    assert_eq!(again.connections().await.unwrap(), vec![c]);
    assert_eq!(
        db.raw_i64("SELECT COUNT(*) FROM _sqlx_migrations").await,
        versions
    );
    assert_eq!(
        db.raw_i64("SELECT MIN(version) * 10 + MAX(version) FROM _sqlx_migrations")
            .await,
        10 + versions,
        "versions 1 to {versions}"
    );
    // The schema the migrations build: the seven tables of the store, each queryable.
    for table in [
        "connections",
        "transactions",
        "changes",
        "events",
        "counters",
        "budget",
        "progress",
    ] {
        let expected = i64::from(table == "connections") + i64::from(table == "counters");
        assert_eq!(
            db.raw_i64(&format!("SELECT COUNT(*) FROM {table}")).await,
            expected,
            "{table}: one connection added, one counter seeded, the rest empty"
        );
    }
}

async fn connection_crud(db: TestDb) {
    let s = &db.store;
    let mut a = connection("handelsbanken");
    let b = connection("swedbank");
    s.add_connection(&a).await.unwrap();
    s.add_connection(&b).await.unwrap();
    assert!(matches!(
        s.add_connection(&a).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(s.connection(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(s.connections().await.unwrap().len(), 2);

    a.state = ConnectionState::ReauthRequired;
    a.consent.frequency_per_day = Some(2);
    a.last_sync_at = Some(at(3, 6));
    a.next_sync_at = Some(at(3, 12));
    s.update_connection(&a).await.unwrap();
    assert_eq!(s.connection(&a.id).await.unwrap(), Some(a.clone()));
    // The session's secrets are stored (the sync needs them) and read back intact.
    let back = s.connection(&a.id).await.unwrap().unwrap();
    assert_eq!(
        back.session.access_token.as_deref(),
        Some("access-secret-1")
    );

    let missing = connection("openpayments");
    assert!(matches!(
        s.update_connection(&missing).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(s.delete_connection(&a.id).await.unwrap());
    assert!(!s.delete_connection(&a.id).await.unwrap());
    assert_eq!(s.connection(&a.id).await.unwrap(), None);
    assert_eq!(s.connections().await.unwrap(), vec![b]);
}

async fn commit_page_writes_everything_with_cursors(db: TestDb) {
    let s = &db.store;
    let c = connection("handelsbanken");
    s.add_connection(&c).await.unwrap();
    let (mut commit, txs) = adding(&c.id, 3);
    let progress = Progress {
        connection: c.id.clone(),
        account: AccountId::new("acc-1"),
        window_from: date(1),
        window_to: date(28),
        next_page: Some(ResumeCursor::new("continuationKey=page-2")),
        pages_done: 1,
        listing_id: "listing-1".to_string(),
    };
    commit.progress = ProgressUpdate::Save(progress.clone());
    let line = BudgetDay {
        connection: c.id.clone(),
        account: Some(AccountId::new("acc-1")),
        resource: "transactions".to_string(),
        day: date(2),
        used: 1,
        granted: 4,
        blocked_until: None,
    };
    commit.budget = vec![line.clone()];
    commit.events = vec![
        event(&c.id, EventKind::ConsentExpiring, "valid until 2026-11-30"),
        event(
            &c.id,
            EventKind::BudgetExhausted,
            "blocked until 2026-11-03T00:00:00Z",
        ),
    ];

    let cursors = s.commit_page(&commit).await.unwrap();
    assert_eq!(cursors.changes, vec![1, 2, 3]);
    assert_eq!(cursors.events, vec![1, 2]);
    assert_eq!(s.change_cursor(&c.id).await.unwrap(), 3);

    let state = s
        .load_account_state(&c.id, &AccountId::new("acc-1"), None)
        .await
        .unwrap();
    assert_eq!(state.len(), 3);
    for (i, t) in txs.iter().enumerate() {
        let mut expected = t.clone();
        expected.last_cursor = i as u64 + 1; // the cursor of the change about it
        assert!(state.contains(&expected), "transaction {i} stored as given");
    }
    assert_eq!(
        s.progress(&c.id, &AccountId::new("acc-1")).await.unwrap(),
        Some(progress)
    );
    assert_eq!(s.budget(&c.id, date(1)).await.unwrap(), vec![line]);
    let events = s.events_since(0, 10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.cursor).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(events[0].kind, EventKind::ConsentExpiring);
    assert_eq!(events[1].detail, "blocked until 2026-11-03T00:00:00Z");

    let changes = s.changes_since(&c.id, 0, 10).await.unwrap();
    assert_eq!(changes.len(), 3);
    assert_eq!(changes[0].key, txs[0].key);
    assert_eq!(changes[2].kind, ChangeKind::Added);
    assert_eq!(changes[1].at, at(2, 9));

    // A second commit continues the cursors; the progress can be cleared.
    let (mut second, _) = adding(&c.id, 2);
    second.progress = ProgressUpdate::Clear {
        account: AccountId::new("acc-1"),
    };
    assert_eq!(s.commit_page(&second).await.unwrap().changes, vec![4, 5]);
    assert_eq!(
        s.progress(&c.id, &AccountId::new("acc-1")).await.unwrap(),
        None
    );
    let tail = s.changes_since(&c.id, 3, 1).await.unwrap();
    assert_eq!(tail.iter().map(|c| c.cursor).collect::<Vec<_>>(), vec![4]);
    assert!(s.changes_since(&c.id, 5, 10).await.unwrap().is_empty());
}

async fn modified_transaction_replaces_row_and_keeps_amount_scale(db: TestDb) {
    let s = &db.store;
    let c = connection("swedbank");
    s.add_connection(&c).await.unwrap();
    let pending = stored(
        &c.id,
        "acc-1",
        TransactionStatus::Pending,
        Some(5),
        "-12.50",
    );
    let mut commit = PageCommit::new(c.id.clone());
    commit.changes.push(change_for(&pending, ChangeKind::Added));
    commit.transactions.push(pending.clone());
    s.commit_page(&commit).await.unwrap();

    let mut booked = pending.clone();
    booked.status = TransactionStatus::Booked;
    booked.amount = "-12.75".parse().unwrap();
    booked.bank_id = Some("new-id-after-booking".to_string());
    booked.date = Some(date(6));
    let mut commit = PageCommit::new(c.id.clone());
    commit
        .changes
        .push(change_for(&booked, ChangeKind::Modified));
    commit.transactions.push(booked.clone());
    s.commit_page(&commit).await.unwrap();

    let state = s
        .load_account_state(&c.id, &AccountId::new("acc-1"), None)
        .await
        .unwrap();
    assert_eq!(state.len(), 1, "one key, one row");
    assert_eq!(state[0].status, TransactionStatus::Booked);
    assert_eq!(state[0].amount.to_string(), "-12.75");
    assert_eq!(state[0].bank_id.as_deref(), Some("new-id-after-booking"));
    assert_eq!(state[0].last_cursor, 2);

    // Scale and size survive both engines' numeric storage.
    let mut big = stored(
        &c.id,
        "acc-1",
        TransactionStatus::Booked,
        Some(7),
        "123456789012345.6700",
    );
    big.currency = "EUR".to_string();
    let mut commit = PageCommit::new(c.id.clone());
    commit.transactions.push(big.clone());
    s.commit_page(&commit).await.unwrap();
    let state = s
        .load_account_state(&c.id, &AccountId::new("acc-1"), Some(date(7)))
        .await
        .unwrap();
    assert_eq!(state.len(), 1);
    assert_eq!(state[0].amount.to_string(), "123456789012345.6700");
    assert_eq!(
        state[0].last_cursor, 0,
        "no change in that commit: kept as given"
    );
}

async fn failed_commit_writes_nothing(db: TestDb) {
    let s = &db.store;
    let c = connection("handelsbanken");
    s.add_connection(&c).await.unwrap();
    s.commit_page(&adding(&c.id, 1).0).await.unwrap();
    // A row behind the store's back occupies the cursor the commit's 2nd change gets, so the
    // commit fails half-way through its statements.
    db.raw(&format!(
        "INSERT INTO changes (connection_id, cursor, account, tx_key, kind, tx_json, at) \
         VALUES ('{}', 3, 'acc-1', 'k', 'added', '{{}}', '2026-11-01T00:00:00Z')",
        c.id
    ))
    .await;
    let (mut commit, _) = adding(&c.id, 2);
    commit.events.push(event(&c.id, EventKind::SyncFailed, "x"));
    commit.budget.push(BudgetDay {
        connection: c.id.clone(),
        account: None,
        resource: "*".to_string(),
        day: date(2),
        used: 1,
        granted: 4,
        blocked_until: None,
    });
    assert!(s.commit_page(&commit).await.is_err());
    assert_eq!(s.change_cursor(&c.id).await.unwrap(), 1);
    assert_eq!(s.transaction_count(&c.id).await.unwrap(), 1);
    assert!(s.events_since(0, 10).await.unwrap().is_empty());
    assert!(s.budget(&c.id, date(1)).await.unwrap().is_empty());

    // An unknown connection: nothing written, not even an event cursor.
    let ghost = connection("swedbank");
    let mut commit = PageCommit::new(ghost.id.clone());
    commit
        .events
        .push(event(&ghost.id, EventKind::SyncFailed, "x"));
    assert!(matches!(
        s.commit_page(&commit).await,
        Err(StoreError::NotFound { .. })
    ));
    let mut ok = PageCommit::new(c.id.clone());
    ok.events.push(event(&c.id, EventKind::SyncFailed, "y"));
    assert_eq!(s.commit_page(&ok).await.unwrap().events, vec![1]);
    // A commit whose rows name another connection is refused before the database.
    let mut mixed = PageCommit::new(c.id.clone());
    mixed
        .events
        .push(event(&ghost.id, EventKind::SyncFailed, "z"));
    assert!(matches!(
        s.commit_page(&mixed).await,
        Err(StoreError::InvalidCommit(_))
    ));
}

async fn window_and_latest_booked_date(db: TestDb) {
    let s = &db.store;
    let c = connection("openpayments");
    s.add_connection(&c).await.unwrap();
    let old_booked = stored(&c.id, "acc-1", TransactionStatus::Booked, Some(2), "-1.00");
    let old_pending = stored(&c.id, "acc-1", TransactionStatus::Pending, Some(3), "-2.00");
    let mut old_pending_removed =
        stored(&c.id, "acc-1", TransactionStatus::Pending, Some(3), "-3.00");
    old_pending_removed.removed = true;
    let recent_booked = stored(&c.id, "acc-1", TransactionStatus::Booked, Some(20), "-4.00");
    let mut recent_removed = stored(
        &c.id,
        "acc-1",
        TransactionStatus::Pending,
        Some(21),
        "-5.00",
    );
    recent_removed.removed = true;
    let undated = stored(&c.id, "acc-1", TransactionStatus::Booked, None, "-6.00");
    let other_account = stored(&c.id, "acc-2", TransactionStatus::Booked, Some(25), "-7.00");
    let mut latest_but_pending = stored(
        &c.id,
        "acc-1",
        TransactionStatus::Pending,
        Some(26),
        "-8.00",
    );
    latest_but_pending.occurrence = 1;
    let mut commit = PageCommit::new(c.id.clone());
    commit.transactions = vec![
        old_booked.clone(),
        old_pending.clone(),
        old_pending_removed.clone(),
        recent_booked.clone(),
        recent_removed.clone(),
        undated.clone(),
        other_account.clone(),
        latest_but_pending.clone(),
    ];
    s.commit_page(&commit).await.unwrap();

    let acc = AccountId::new("acc-1");
    let window = s
        .load_account_state(&c.id, &acc, Some(date(15)))
        .await
        .unwrap();
    let amounts: Vec<String> = window.iter().map(|t| t.amount.to_string()).collect();
    // Undated first, then by date: the open old pending, the recent ones (removed included).
    assert_eq!(amounts, vec!["-6.00", "-2.00", "-4.00", "-5.00", "-8.00"]);
    let all = s.load_account_state(&c.id, &acc, None).await.unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(
        s.latest_booked_date(&c.id, &acc).await.unwrap(),
        Some(date(20))
    );
    assert_eq!(
        s.latest_booked_date(&c.id, &AccountId::new("acc-2"))
            .await
            .unwrap(),
        Some(date(25))
    );
    assert_eq!(
        s.latest_booked_date(&c.id, &AccountId::new("acc-3"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.transaction_count(&c.id).await.unwrap(), 8);
}

async fn budget_ledger_lines(db: TestDb) {
    let s = &db.store;
    let c = connection("handelsbanken");
    s.add_connection(&c).await.unwrap();
    let per_account = BudgetDay {
        connection: c.id.clone(),
        account: Some(AccountId::new("acc-1")),
        resource: "transactions".to_string(),
        day: date(4),
        used: 3,
        granted: 4,
        blocked_until: None,
    };
    let per_consent = BudgetDay {
        account: None,
        resource: "*".to_string(),
        day: date(5),
        used: 4,
        blocked_until: Some(at(6, 0)),
        ..per_account.clone()
    };
    s.save_budget(&[per_account.clone(), per_consent.clone()])
        .await
        .unwrap();
    assert_eq!(
        s.budget(&c.id, date(4)).await.unwrap(),
        vec![per_account.clone(), per_consent.clone()]
    );
    assert_eq!(
        s.budget(&c.id, date(5)).await.unwrap(),
        vec![per_consent.clone()]
    );
    let spent = BudgetDay {
        used: 4,
        blocked_until: Some(at(5, 0)),
        ..per_account.clone()
    };
    let mut commit = PageCommit::new(c.id.clone());
    commit.budget = vec![spent.clone()];
    s.commit_page(&commit).await.unwrap();
    assert_eq!(
        s.budget(&c.id, date(1)).await.unwrap(),
        vec![spent, per_consent]
    );
}

async fn events_have_one_cursor_over_all_connections(db: TestDb) {
    let s = &db.store;
    let a = connection("handelsbanken");
    let b = connection("swedbank");
    s.add_connection(&a).await.unwrap();
    s.add_connection(&b).await.unwrap();
    let mut expected = Vec::new();
    for round in 0..3 {
        for c in [&a, &b] {
            let mut commit = PageCommit::new(c.id.clone());
            let detail = format!("round {round}");
            let mut e = event(&c.id, EventKind::Other("paused".into()), &detail);
            e.account = Some(AccountId::new("acc-1"));
            e.error_kind = Some("bank unavailable".into());
            commit.events.push(e);
            s.commit_page(&commit).await.unwrap();
            expected.push((c.id.clone(), detail));
        }
    }
    let all = s.events_since(0, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.cursor).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    let got: Vec<_> = all
        .iter()
        .map(|e| (e.connection.clone(), e.detail.clone()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(all[0].kind, EventKind::Other("paused".into()));
    assert_eq!(all[0].account, Some(AccountId::new("acc-1")));
    assert_eq!(all[0].error_kind.as_deref(), Some("bank unavailable"));
    let page = s.events_since(4, 1).await.unwrap();
    assert_eq!(page.iter().map(|e| e.cursor).collect::<Vec<_>>(), vec![5]);
}

async fn leases_claim_expire_and_fence(db: TestDb) {
    let s = &db.store;
    let due = connection("handelsbanken");
    let mut later = connection("swedbank");
    later.next_sync_at = Some(at(10, 12));
    let mut revoked = connection("openpayments");
    revoked.state = ConnectionState::Revoked;
    for c in [&due, &later, &revoked] {
        s.add_connection(c).await.unwrap();
    }
    let now = at(10, 6);
    let lease = Duration::from_secs(60);
    let claimed = s.claim_due("w1", now, lease, 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|c| &c.id).collect::<Vec<_>>(),
        vec![&due.id]
    );
    assert_eq!(
        s.lease(&due.id).await.unwrap(),
        Some(("w1".to_string(), at(10, 6) + chrono::Duration::seconds(60)))
    );
    assert!(
        s.claim_due("w2", now, lease, 10).await.unwrap().is_empty(),
        "leased"
    );

    // w1's lease runs out; w2 takes over; w1 may no longer commit.
    let after = now + chrono::Duration::seconds(61);
    let taken = s.claim_due("w2", after, lease, 10).await.unwrap();
    assert_eq!(
        taken.iter().map(|c| &c.id).collect::<Vec<_>>(),
        vec![&due.id]
    );
    let (commit, _) = adding(&due.id, 1);
    assert!(matches!(
        s.commit_page_leased("w1", &commit).await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert_eq!(
        s.change_cursor(&due.id).await.unwrap(),
        0,
        "nothing written"
    );
    assert!(!s.renew_lease("w1", &due.id, after, lease).await.unwrap());
    assert_eq!(
        s.commit_page_leased("w2", &commit).await.unwrap().changes,
        vec![1]
    );
    // The same fence for the connection's own fields: w1's stale view is not written.
    let mut stale = due.clone();
    stale.state = ConnectionState::Revoked;
    assert!(matches!(
        s.update_connection_leased("w1", &stale).await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert_eq!(
        s.connection(&due.id).await.unwrap().unwrap().state,
        ConnectionState::Active
    );
    let mut fresh = due.clone();
    fresh.last_sync_at = Some(after);
    s.update_connection_leased("w2", &fresh).await.unwrap();
    assert_eq!(s.connection(&due.id).await.unwrap(), Some(fresh));
    assert!(s.renew_lease("w2", &due.id, after, lease).await.unwrap());
    assert!(!s.release("w1", &due.id).await.unwrap());
    assert!(s.release("w2", &due.id).await.unwrap());
    assert_eq!(s.lease(&due.id).await.unwrap(), None);

    // At noon the later one is due as well; the released one is claimable again.
    let noon = at(10, 12);
    let both = s.claim_due("w3", noon, lease, 10).await.unwrap();
    let ids: BTreeSet<_> = both.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids, BTreeSet::from([due.id.clone(), later.id.clone()]));
    // The never-synced one (no next_sync_at) is the most overdue: first.
    assert_eq!(both[0].id, due.id);
    assert!(matches!(
        s.commit_page_leased("w3", &PageCommit::new(connection("x").id))
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn concurrent_claims_never_share_a_connection(db: TestDb) {
    let s = db.store.clone();
    let mut ids = BTreeSet::new();
    for i in 0..60 {
        let c = connection(if i % 2 == 0 {
            "handelsbanken"
        } else {
            "swedbank"
        });
        ids.insert(c.id.clone());
        s.add_connection(&c).await.unwrap();
    }
    let now = at(12, 6);
    let mut tasks = Vec::new();
    for w in 0..4 {
        let s: Arc<dyn Store> = s.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let got = s
                    .claim_due(&worker, now, Duration::from_secs(600), 3)
                    .await
                    .unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|c| c.id));
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    assert_eq!(claimed.len(), 60, "each connection claimed exactly once");
    assert_eq!(claimed.into_iter().collect::<BTreeSet<_>>(), ids);
}

async fn concurrent_writers_readers_see_every_cursor_once_in_order(db: TestDb) {
    let s = db.store.clone();
    let c = connection("handelsbanken");
    s.add_connection(&c).await.unwrap();
    let other = connection("swedbank");
    s.add_connection(&other).await.unwrap();
    const WRITERS: u64 = 4;
    const COMMITS: u64 = 10;
    const PER_COMMIT: u32 = 3;
    let total_changes = WRITERS * COMMITS * u64::from(PER_COMMIT);
    let total_events = WRITERS * COMMITS;
    // Readers poll while writers commit: every poll must continue exactly where the last
    // one ended (no gap, no repeat), which fails if a later cursor ever becomes visible
    // before an earlier one.
    let reader = {
        let s: Arc<dyn Store> = s.clone();
        let id = c.id.clone();
        tokio::spawn(async move {
            let (mut last_change, mut last_event) = (0u64, 0u64);
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while (last_change < total_changes || last_event < total_events)
                && std::time::Instant::now() < deadline
            {
                for ch in s.changes_since(&id, last_change, 7).await.unwrap() {
                    assert_eq!(ch.cursor, last_change + 1, "changes in order, exactly once");
                    last_change = ch.cursor;
                }
                for e in s.events_since(last_event, 5).await.unwrap() {
                    assert_eq!(e.cursor, last_event + 1, "events in order, exactly once");
                    last_event = e.cursor;
                }
                tokio::task::yield_now().await;
            }
            (last_change, last_event)
        })
    };
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let s: Arc<dyn Store> = s.clone();
        let (id, other_id) = (c.id.clone(), other.id.clone());
        writers.push(tokio::spawn(async move {
            for _ in 0..COMMITS {
                let (mut commit, _) = adding(&id, PER_COMMIT);
                // Events alternate between the two connections: one outbox cursor for both.
                let target = if w % 2 == 0 { &id } else { &other_id };
                if target == &id {
                    commit.events.push(event(&id, EventKind::SyncFailed, "w"));
                    s.commit_page(&commit).await.unwrap();
                } else {
                    s.commit_page(&commit).await.unwrap();
                    let mut e = PageCommit::new(other_id.clone());
                    e.events.push(event(&other_id, EventKind::SyncFailed, "w"));
                    s.commit_page(&e).await.unwrap();
                }
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(reader.await.unwrap(), (total_changes, total_events));
    assert_eq!(s.change_cursor(&c.id).await.unwrap(), total_changes);
}

async fn corrupt_values_are_named_not_quoted(db: TestDb) {
    let s = &db.store;
    let c = connection("handelsbanken");
    s.add_connection(&c).await.unwrap();
    s.commit_page(&adding(&c.id, 1).0).await.unwrap();
    db.raw("UPDATE transactions SET tx_json = '{\"status\": \"booked\", \"remittance\": \"secret free text' ")
        .await;
    let err = s
        .load_account_state(&c.id, &AccountId::new("acc-1"), None)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("transactions.tx_json"), "{text}");
    assert!(!text.contains("secret free text"), "{text}");
    assert!(!format!("{err:?}").contains("secret free text"));
}

async fn delete_removes_the_connections_data(db: TestDb) {
    let s = &db.store;
    let a = connection("handelsbanken");
    let b = connection("swedbank");
    s.add_connection(&a).await.unwrap();
    s.add_connection(&b).await.unwrap();
    s.commit_page(&adding(&a.id, 3).0).await.unwrap();
    s.commit_page(&adding(&b.id, 2).0).await.unwrap();
    assert!(s.delete_connection(&a.id).await.unwrap());
    assert_eq!(s.transaction_count(&a.id).await.unwrap(), 0);
    assert!(s.changes_since(&a.id, 0, 10).await.unwrap().is_empty());
    assert_eq!(s.transaction_count(&b.id).await.unwrap(), 2);
    assert_eq!(s.changes_since(&b.id, 0, 10).await.unwrap().len(), 2);
}

async fn times_keep_microseconds(db: TestDb) {
    let s = &db.store;
    let mut c = connection("handelsbanken");
    let precise = Utc::now();
    c.last_sync_at = Some(precise);
    s.add_connection(&c).await.unwrap();
    let back = s
        .connection(&c.id)
        .await
        .unwrap()
        .unwrap()
        .last_sync_at
        .unwrap();
    assert_eq!(back.timestamp_micros(), precise.timestamp_micros());
}

on_both_engines!(
    migrations_run_from_empty_and_reopen,
    connection_crud,
    commit_page_writes_everything_with_cursors,
    modified_transaction_replaces_row_and_keeps_amount_scale,
    failed_commit_writes_nothing,
    window_and_latest_booked_date,
    budget_ledger_lines,
    events_have_one_cursor_over_all_connections,
    leases_claim_expire_and_fence,
    concurrent_claims_never_share_a_connection,
    concurrent_writers_readers_see_every_cursor_once_in_order,
    corrupt_values_are_named_not_quoted,
    delete_removes_the_connections_data,
    times_keep_microseconds,
);

#[tokio::test]
async fn urls_pick_the_engine_and_errors_hide_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("psd2.db");
    let store = psd2_sync::store::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    assert_eq!(store.engine(), psd2_sync::store::StoreEngine::Sqlite);
    assert!(path.exists(), "the SQLite file is created");
    assert!(matches!(
        psd2_sync::store::open("mysql://u:p@127.0.0.1/x").await,
        Err(StoreError::UnsupportedUrl)
    ));
    // Nothing listens on port 9 of loopback: the error must not quote the password.
    let err = psd2_sync::store::open("postgres://u:hunter2-secret@127.0.0.1:9/x")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("hunter2-secret"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2-secret"));
}
