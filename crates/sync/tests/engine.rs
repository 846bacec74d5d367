//! The engine against the scriptable fake bank (tests/common) into an SQLite store:
//! change feed, resume at page k, refused cursors, the budget, 429 blocks, lifecycle events
//! and quarantined entries. Expected figures are worked out from the scripted bank.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use chrono::{NaiveDate, TimeDelta};
use common::{FakeBank, Fault, IdMode, State, start_of};
use psd2::{AccountId, Bank, ConsentId, ConsentStatus, Psu, Session};
use psd2_sync::clock::{Clock, ManualClock};
use psd2_sync::store::{SqliteStore, Store};
use psd2_sync::{
    AccountOutcome, BankSyncSettings, ChangeKind, Connection, ConnectionAccount, ConnectionState,
    Engine, EventKind, SyncError,
};

struct Setup {
    engine: Engine,
    store: Arc<dyn Store>,
    bank: FakeBank,
    clock: ManualClock,
    connection: Connection,
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

async fn setup(ids: IdMode, granted: u32) -> Setup {
    setup_with(ids, granted, BankSyncSettings::default()).await
}

async fn setup_with(ids: IdMode, granted: u32, settings: BankSyncSettings) -> Setup {
    let clock = ManualClock::new(start_of(day(10)) + TimeDelta::hours(6));
    let bank = FakeBank::new(clock.clone(), ids);
    bank.world().granted = granted;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().await.unwrap());
    let resolver_bank = bank.clone();
    let resolver = move |_: &Connection| -> Result<Arc<dyn Bank>, SyncError> {
        Ok(Arc::new(resolver_bank.clone()))
    };
    let engine = Engine::new(store.clone(), Arc::new(resolver), Arc::new(clock.clone()));
    let mut connection = engine
        .add_connection(
            "fake",
            "http://fake.invalid",
            &Session::new(ConsentId::new("consent-secret")),
            &Psu::absent(),
            None,
            settings,
        )
        .await
        .unwrap();
    connection.accounts = vec![ConnectionAccount {
        id: AccountId::new("acc-1"),
        card: false,
        latest_booked: None,
        synced_at: None,
    }];
    store.update_connection(&connection).await.unwrap();
    Setup {
        engine,
        store,
        bank,
        clock,
        connection,
    }
}

impl Setup {
    async fn sync(&self) -> psd2_sync::SyncReport {
        self.engine
            .sync_connection(&self.connection.id)
            .await
            .unwrap()
    }

    async fn kinds_since(&self, cursor: u64) -> Vec<(u64, ChangeKind)> {
        self.store
            .changes_since(&self.connection.id, cursor, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.cursor, c.kind))
            .collect()
    }

    async fn live_rows(&self) -> usize {
        self.store
            .load_account_state(&self.connection.id, &AccountId::new("acc-1"), None)
            .await
            .unwrap()
            .iter()
            .filter(|r| !r.removed)
            .count()
    }
}

#[tokio::test]
async fn churn_between_syncs_gives_one_change_each_exactly_once() {
    let s = setup(IdMode::NewIdOnBooking, 100).await;
    s.bank
        .add(State::Booked, "-35.00", day(9), "Espresso House");
    s.bank
        .add(State::Booked, "-35.00", day(9), "Espresso House");
    s.bank.add(State::Booked, "2500.00", day(8), "Employer");
    let book_me = s.bank.add(State::Pending, "-120.00", day(10), "ICA Nara");
    let cancel_me = s.bank.add(State::Pending, "-60.00", day(10), "Preem");
    let report = s.sync().await;
    assert_eq!(report.totals(), (5, 0, 0));
    let first = s.kinds_since(0).await;
    assert_eq!(
        first.iter().map(|c| c.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );

    s.clock.advance(TimeDelta::days(1));
    s.bank.book(book_me, 1, None);
    s.bank.cancel(cancel_me);
    s.bank
        .add(State::Booked, "-35.00", day(11), "Espresso House");
    let report = s.sync().await;
    // One booked under a new id (modified), one cancelled (removed), one new coffee.
    assert_eq!(report.totals(), (1, 1, 1));
    let next = s.kinds_since(5).await;
    assert_eq!(next.len(), 3);
    assert!(next.iter().all(|(cursor, _)| *cursor > 5));
    let mut kinds: Vec<_> = next.iter().map(|c| c.1).collect();
    kinds.sort_by_key(|k| k.as_str());
    assert_eq!(
        kinds,
        [ChangeKind::Added, ChangeKind::Modified, ChangeKind::Removed]
    );
    // Nothing new: nothing in the feed after the last cursor.
    let report = s.sync().await;
    assert_eq!(report.totals(), (0, 0, 0));
    assert!(s.kinds_since(8).await.is_empty());
    assert_eq!(s.live_rows().await, 5);
}

#[tokio::test]
async fn resume_after_failure_reads_only_the_remaining_pages() {
    let s = setup(IdMode::None, 100).await;
    s.bank.world().page_size = 2;
    for i in 0..7 {
        s.bank
            .add(State::Booked, &format!("-{}.00", 10 + i), day(9), "Shop");
    }
    // Pages 1 and 2 are served, then every attempt at page 3 fails (3 attempts a call).
    s.bank.world().fail_from_request = Some((3, 3));
    let report = s.sync().await;
    assert_eq!(report.accounts[0].pages, 2);
    assert!(
        matches!(report.accounts[0].outcome, AccountOutcome::Failed { .. }),
        "{:?}",
        report.accounts[0].outcome
    );
    assert_eq!(s.live_rows().await, 4);
    let requests_first = s.bank.world().requests;
    // 2 pages + 3 attempts at page 3.
    assert_eq!(requests_first, 5);
    let events = s.store.events_since(0, 100).await.unwrap();
    assert!(
        events.iter().any(|e| e.kind == EventKind::SyncFailed
            && e.error_kind.as_deref() == Some("bank unavailable"))
    );

    let report = s.sync().await;
    assert_eq!(report.accounts[0].outcome, AccountOutcome::Complete);
    // Pages 3 and 4 only.
    assert_eq!(s.bank.world().requests - requests_first, 2);
    assert_eq!(report.accounts[0].pages, 2);
    assert_eq!(s.live_rows().await, 7);
    assert_eq!(s.kinds_since(0).await.len(), 7);
}

#[tokio::test]
async fn a_refused_cursor_starts_the_listing_again_without_duplicates() {
    let s = setup(IdMode::Positional, 100).await;
    s.bank.world().page_size = 2;
    for i in 0..7 {
        s.bank
            .add(State::Booked, &format!("-{}.00", 10 + i), day(9), "Shop");
    }
    s.bank.world().fail_from_request = Some((3, 3));
    s.sync().await;
    assert_eq!(s.live_rows().await, 4);
    // The bank forgets its cursors: page 3 is refused (400), the listing restarts at page 1.
    {
        let mut w = s.bank.world();
        w.fail_from_request = None;
        w.refuse_cursors = true;
        w.page_size = 10;
    }
    let report = s.sync().await;
    assert_eq!(report.accounts[0].outcome, AccountOutcome::Complete);
    assert_eq!(s.live_rows().await, 7);
    let kinds = s.kinds_since(0).await;
    assert_eq!(kinds.len(), 7);
    assert!(kinds.iter().all(|(_, k)| *k == ChangeKind::Added));
}

#[tokio::test]
async fn the_bank_never_sees_more_unattended_calls_than_granted() {
    let s = setup(IdMode::NewIdOnBooking, 4).await;
    s.bank.add(State::Booked, "-1.00", day(9), "Shop");
    // Ten syncs an hour apart on one day: four reach the bank.
    for _ in 0..10 {
        let report = s.sync().await;
        if let AccountOutcome::Deferred { until } = &report.accounts[0].outcome {
            assert_eq!(*until, start_of(day(11)));
        }
        s.clock.advance(TimeDelta::minutes(60));
    }
    {
        let w = s.bank.world();
        assert_eq!(w.requests, 4);
        assert_eq!(w.over_limit, 0);
    }
    let lines = s.store.budget(&s.connection.id, day(10)).await.unwrap();
    let used: Vec<_> = lines
        .iter()
        .map(|l| (l.resource.as_str(), l.used, l.granted))
        .collect();
    assert_eq!(used, [("transactions", 4, 4)]);
    // The next day the budget is there again.
    s.clock.set(start_of(day(11)) + TimeDelta::hours(1));
    s.sync().await;
    assert_eq!(s.bank.world().requests, 5);
    let events = s.store.events_since(0, 100).await.unwrap();
    assert!(events.iter().any(|e| e.kind == EventKind::BudgetExhausted));
}

#[tokio::test]
async fn a_429_stops_calls_until_the_time_it_names() {
    let s = setup(IdMode::NewIdOnBooking, 100).await;
    s.bank.add(State::Booked, "-1.00", day(9), "Shop");
    // Retry-After one hour: longer than the retry policy waits, so the call ends.
    s.bank.world().faults.push_back(Fault::RateLimited {
        retry_after_secs: 3600,
    });
    let start = s.clock.now();
    let report = s.sync().await;
    assert_eq!(
        report.accounts[0].outcome,
        AccountOutcome::Deferred {
            until: start + TimeDelta::hours(1)
        }
    );
    assert_eq!(s.bank.world().requests, 1);
    // Half an hour later: no call.
    s.clock.advance(TimeDelta::minutes(30));
    let report = s.sync().await;
    assert!(matches!(
        report.accounts[0].outcome,
        AccountOutcome::Deferred { .. }
    ));
    assert_eq!(s.bank.world().requests, 1);
    // At the named time: the call is made.
    s.clock.set(start + TimeDelta::hours(1));
    let report = s.sync().await;
    assert_eq!(report.accounts[0].outcome, AccountOutcome::Complete);
    let w = s.bank.world();
    assert_eq!(w.requests, 2);
    assert_eq!(w.calls_while_blocked, 0);
}

#[tokio::test]
async fn consent_lifecycle_events() {
    let s = setup(IdMode::NewIdOnBooking, 100).await;
    // Valid until day 15: 5 days ahead on day 10, within the default 7.
    s.bank.world().valid_until = Some(day(15));
    s.sync().await;
    s.sync().await;
    let kinds =
        |events: Vec<psd2_sync::Event>| events.into_iter().map(|e| e.kind).collect::<Vec<_>>();
    let events = kinds(s.store.events_since(0, 100).await.unwrap());
    assert_eq!(events, [EventKind::ConsentExpiring]);
    // Day 16: expired; no account call is made.
    s.clock.set(start_of(day(16)));
    let requests = s.bank.world().requests;
    let report = s.sync().await;
    assert_eq!(report.state, ConnectionState::Expired);
    assert_eq!(s.bank.world().requests, requests);
    let events = kinds(s.store.events_since(1, 100).await.unwrap());
    assert_eq!(events, [EventKind::ConsentExpired]);
    // A revoked consent of another connection.
    let t = setup(IdMode::NewIdOnBooking, 100).await;
    t.bank.world().consent = ConsentStatus::RevokedByPsu;
    let report = t.sync().await;
    assert_eq!(report.state, ConnectionState::Revoked);
    let events = kinds(t.store.events_since(0, 100).await.unwrap());
    assert_eq!(events, [EventKind::AccessRevoked]);
    // Revoked connections are not claimed by workers.
    let claimed = t
        .store
        .claim_due(
            "w1",
            t.clock.now() + TimeDelta::days(1),
            std::time::Duration::from_secs(60),
            10,
        )
        .await
        .unwrap();
    assert!(claimed.is_empty());
}

#[tokio::test]
async fn entries_that_do_not_map_are_quarantined_as_events() {
    let s = setup(IdMode::NewIdOnBooking, 100).await;
    s.bank.add(State::Booked, "-1.00", day(9), "Shop");
    s.bank.add(State::Booked, "-2.00", day(9), "BROKEN");
    s.bank.add(State::Booked, "-3.00", day(9), "Shop");
    let mut stream = s.engine.event_stream();
    let report = s.sync().await;
    assert_eq!(report.accounts[0].quarantined, 1);
    assert_eq!(report.totals(), (2, 0, 0));
    let events = s.store.events_since(0, 100).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::EntryQuarantined);
    assert_eq!(
        events[0].detail,
        "transactions.booked[1].transactionAmount.currency: not an ISO 4217 code (3 chars, lower case)"
    );
    // The library stream saw the same event.
    use futures::StreamExt;
    let streamed = stream.next().await.unwrap();
    assert_eq!(streamed, events[0]);
}

#[tokio::test]
async fn run_due_syncs_what_is_due_and_schedules_four_a_day() {
    let s = setup(IdMode::NewIdOnBooking, 100).await;
    s.bank.add(State::Booked, "-1.00", day(9), "Shop");
    let lease = std::time::Duration::from_secs(300);
    let first = s.engine.run_due("w1", lease, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].totals(), (1, 0, 0));
    // 24 h / 4 syncs a day: due again in 6 hours, not before.
    let start = s.clock.now();
    assert_eq!(first[0].next_sync_at, Some(start + TimeDelta::hours(6)));
    assert!(s.engine.run_due("w1", lease, 10).await.unwrap().is_empty());
    s.clock.advance(TimeDelta::hours(6));
    assert_eq!(s.engine.run_due("w2", lease, 10).await.unwrap().len(), 1);
    // Released after each round.
    let held = s.store.lease(&s.connection.id).await.unwrap();
    assert!(
        held.as_ref()
            .is_none_or(|(_, until)| *until <= s.clock.now()),
        "{held:?}"
    );
}

/// The transaction lines of the connection's budget ledger from `from` on, as
/// `(day, used)`.
async fn used_per_day(s: &Setup, from: NaiveDate) -> Vec<(NaiveDate, u32)> {
    s.store
        .budget(&s.connection.id, from)
        .await
        .unwrap()
        .iter()
        .filter(|l| l.resource == "transactions")
        .map(|l| (l.day, l.used))
        .collect()
}

#[tokio::test]
async fn a_long_first_sync_completes_on_one_access_of_four() {
    let s = setup(IdMode::NewIdOnBooking, 4).await;
    s.bank.world().page_size = 2;
    for i in 0..40 {
        s.bank
            .add(State::Booked, &format!("-{}.00", 10 + i), day(9), "Shop");
    }
    // 40 entries, 2 a page: 20 pages, one access (continuations are not counted).
    let report = s.sync().await;
    assert_eq!(report.accounts[0].outcome, AccountOutcome::Complete);
    assert_eq!(report.accounts[0].pages, 20);
    assert_eq!(s.live_rows().await, 40);
    {
        let w = s.bank.world();
        assert_eq!(w.requests, 20);
        assert_eq!(w.over_limit, 0);
        assert_eq!(w.used.get(&day(10)), Some(&1));
    }
    assert_eq!(used_per_day(&s, day(10)).await, [(day(10), 1)]);
    // Three more syncs that day each cost one access; a fifth is not sent.
    for _ in 0..4 {
        s.clock.advance(TimeDelta::hours(1));
        s.sync().await;
    }
    let w = s.bank.world();
    assert_eq!(w.used.get(&day(10)), Some(&4));
    assert_eq!(w.over_limit, 0);
    assert_eq!(w.requests, 20 + 3 * 20);
}

#[tokio::test]
async fn counted_continuation_pages_spread_a_long_history_over_days() {
    let settings = BankSyncSettings {
        count_continuation_pages: true,
        ..BankSyncSettings::default()
    };
    let s = setup_with(IdMode::NewIdOnBooking, 4, settings).await;
    {
        let mut w = s.bank.world();
        w.page_size = 2;
        w.count_continuations = true;
    }
    for i in 0..20 {
        s.bank
            .add(State::Booked, &format!("-{}.00", 10 + i), day(9), "Shop");
    }
    // 10 pages, every one counted: 4 on day 10, 4 on day 11, the last 2 on day 12.
    let report = s.sync().await;
    assert_eq!(report.accounts[0].pages, 4);
    assert_eq!(
        report.accounts[0].outcome,
        AccountOutcome::Deferred {
            until: start_of(day(11))
        }
    );
    assert_eq!(s.live_rows().await, 8);
    // Later the same day: nothing is sent.
    s.clock.advance(TimeDelta::hours(3));
    let report = s.sync().await;
    assert_eq!(report.accounts[0].pages, 0);
    assert_eq!(s.bank.world().requests, 4);
    s.clock.set(start_of(day(11)) + TimeDelta::hours(6));
    let report = s.sync().await;
    assert_eq!(report.accounts[0].pages, 4);
    s.clock.set(start_of(day(12)) + TimeDelta::hours(6));
    let report = s.sync().await;
    assert_eq!(report.accounts[0].pages, 2);
    assert_eq!(report.accounts[0].outcome, AccountOutcome::Complete);
    assert_eq!(s.live_rows().await, 20);
    let kinds = s.kinds_since(0).await;
    assert_eq!(kinds.len(), 20);
    assert!(kinds.iter().all(|(_, k)| *k == ChangeKind::Added));
    {
        let w = s.bank.world();
        assert_eq!(w.over_limit, 0);
        assert_eq!(w.requests, 10);
    }
    assert_eq!(
        used_per_day(&s, day(10)).await,
        [(day(10), 4), (day(11), 4), (day(12), 2)]
    );
}
