//! The window a sync matches against, as the store reads it for matching
//! (`Store::load_window`): its rows, its lazily parsed transactions, and the matcher's
//! decision "unchanged" on them. Run against SQLite and PostgreSQL alike.
//!
//! Expected values come from the `Store` contract, the identity rules' documentation and
//! the fixtures written here, never from the store's own output read back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_support;

use psd2::{AccountId, Transaction, TransactionStatus};
use psd2_sync::identity::{Matcher, Outcome, entry_date, fingerprint};
use psd2_sync::model::{PageCommit, StoredTransaction};
use psd2_sync::settings::BankSyncSettings;
use psd2_sync::store::StoreError;
use store_support::{TestDb, connection, date, stored};

/// Commits `rows` in one page.
async fn commit(db: &TestDb, c: &psd2_sync::ConnectionId, rows: &[StoredTransaction]) {
    let mut commit = PageCommit::new(c.clone());
    commit.transactions = rows.to_vec();
    db.store.commit_page(&commit).await.unwrap();
}

async fn window_entries_are_the_open_rows_of_the_window(db: TestDb) {
    let s = &db.store;
    let c = connection("openpayments");
    s.add_connection(&c).await.unwrap();
    use TransactionStatus::{Booked, Pending};
    // (account, status, day, amount, removed)
    let table = [
        ("acc-1", Booked, Some(2), "-1.00", false),
        ("acc-1", Pending, Some(3), "-2.00", false),
        ("acc-1", Pending, Some(3), "-3.00", true),
        ("acc-1", Booked, Some(20), "-4.00", false),
        ("acc-1", Pending, Some(21), "-5.00", true),
        ("acc-1", Booked, None, "-6.00", false),
        ("acc-2", Booked, Some(25), "-7.00", false),
        ("acc-1", Pending, Some(26), "-8.00", false),
    ];
    let all: Vec<StoredTransaction> = table
        .into_iter()
        .map(|(account, status, day, amount, removed)| {
            let mut row = stored(&c.id, account, status, day, amount);
            row.removed = removed;
            row.last_listing = Some(format!("listing-{amount}"));
            row
        })
        .collect();
    commit(&db, &c.id, &all).await;
    let (undated, old_pending, recent_booked, latest_pending) =
        (&all[5], &all[1], &all[3], &all[7]);

    let acc = AccountId::new("acc-1");
    // From day 15: undated, dated from then on, and the open old pending entry whatever its
    // date; removed entries and other accounts never. In no particular order.
    let mut window = s.load_window(&c.id, &acc, Some(date(15))).await.unwrap();
    window.sort_by_key(|e| e.amount.abs());
    let expected = [old_pending, recent_booked, undated, latest_pending];
    assert_eq!(window.len(), expected.len());
    for (entry, row) in window.iter().zip(expected) {
        assert_eq!(entry.key, row.key);
        assert_eq!(entry.amount, row.amount);
        assert!(
            entry.json().is_some(),
            "read from the store: JSON kept as text"
        );
        assert_eq!(entry.transaction().unwrap(), &row.transaction);
        // Every column and the transaction come back as committed.
        assert_eq!(&entry.to_stored(&c.id, &acc).unwrap(), row);
    }
    // The whole account: every entry not removed.
    let whole = s.load_window(&c.id, &acc, None).await.unwrap();
    let mut amounts: Vec<String> = whole.iter().map(|e| e.amount.to_string()).collect();
    amounts.sort();
    assert_eq!(amounts, vec!["-1.00", "-2.00", "-4.00", "-6.00", "-8.00"]);
}

async fn a_corrupt_entry_fails_where_it_is_read(db: TestDb) {
    let s = &db.store;
    let c = connection("openpayments");
    s.add_connection(&c).await.unwrap();
    let booked = stored(&c.id, "acc-1", TransactionStatus::Booked, Some(5), "-1.00");
    let pending = stored(&c.id, "acc-1", TransactionStatus::Pending, Some(6), "-2.00");
    commit(&db, &c.id, &[booked.clone(), pending.clone()]).await;
    db.raw(&format!(
        "UPDATE transactions SET tx_json = '{{\"status\": \"pending\", \"remittance\": \"secret free text' \
         WHERE tx_key = '{}'",
        pending.key.as_str()
    ))
    .await;
    let acc = AccountId::new("acc-1");
    let mut window = s.load_window(&c.id, &acc, Some(date(1))).await.unwrap();
    assert_eq!(window.len(), 2, "the text is only parsed when read");
    window.sort_by_key(|e| e.date);
    assert_eq!(window[0].transaction().unwrap(), &booked.transaction);
    let err = window[1].transaction().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("transactions.tx_json"), "{text}");
    assert!(!text.contains("secret free text"), "{text}");
    assert!(!format!("{err:?}").contains("secret free text"));
    assert!(!format!("{:?}", window[1]).contains("secret free text"));

    // A listing that no longer lists the pending entry must write it back as removed: it
    // must read it, and fails naming the column.
    let mut matcher = Matcher::from_entries(
        c.id.clone(),
        acc.clone(),
        BankSyncSettings::for_bank("openpayments"),
        "listing-2".to_string(),
        window,
    );
    assert!(matcher.try_match_page(Vec::new()).unwrap().is_empty());
    match matcher.try_finish(date(1)) {
        Err(StoreError::Corrupt { field, .. }) => assert_eq!(field, "transactions.tx_json"),
        other => panic!("expected a corrupt column, got {other:?}"),
    }
}

/// A booked entry stored the way a sync stores it (its fingerprint and date by the
/// settings).
fn synced(c: &psd2_sync::ConnectionId, settings: &BankSyncSettings) -> StoredTransaction {
    let mut row = stored(c, "acc-1", TransactionStatus::Booked, Some(9), "-35.00");
    row.transaction.value_date = Some(date(8));
    row.value_date = Some(date(8));
    row.bank_id = None;
    row.date = entry_date(&row.transaction, settings.date_field);
    row.fingerprint = fingerprint(&row.transaction, row.date);
    row
}

/// What matching one listed entry against the store's window says.
async fn outcome_of(
    db: &TestDb,
    c: &psd2_sync::ConnectionId,
    settings: &BankSyncSettings,
    listed: Transaction,
) -> Outcome {
    let acc = AccountId::new("acc-1");
    let window = db.store.load_window(c, &acc, Some(date(1))).await.unwrap();
    let mut matcher = Matcher::from_entries(
        c.clone(),
        acc,
        settings.clone(),
        "listing-2".to_string(),
        window,
    );
    let matched = matcher.try_match_page(vec![listed]).unwrap();
    assert_eq!(matched.len(), 1);
    matched[0].outcome
}

async fn unchanged_is_decided_on_the_json_then_on_the_transaction(db: TestDb) {
    let s = &db.store;
    let c = connection("openpayments");
    s.add_connection(&c).await.unwrap();
    let settings = BankSyncSettings::for_bank("openpayments");
    let row = synced(&c.id, &settings);
    commit(&db, &c.id, std::slice::from_ref(&row)).await;
    let same = row.transaction.clone();

    assert_eq!(
        outcome_of(&db, &c.id, &settings, same.clone()).await,
        Outcome::Unchanged
    );
    // A running balance never counts (the stored JSON differs from the listed one).
    let mut with_balance = same.clone();
    with_balance.balance_after = Some(
        serde_json::from_value(serde_json::json!({
            "balanceType": "interimBooked",
            "amount": {"amount": "120.00", "currency": "SEK"}
        }))
        .unwrap(),
    );
    assert_eq!(
        outcome_of(&db, &c.id, &settings, with_balance).await,
        Outcome::Unchanged
    );
    // A detail outside the fingerprint changed: the same entry, modified.
    let mut other_value_date = same.clone();
    other_value_date.value_date = Some(date(7));
    assert_eq!(
        outcome_of(&db, &c.id, &settings, other_value_date).await,
        Outcome::Modified
    );
    // The same transaction written as other JSON text (here a leading space) is unchanged.
    db.raw("UPDATE transactions SET tx_json = ' ' || tx_json")
        .await;
    assert_eq!(
        outcome_of(&db, &c.id, &settings, same).await,
        Outcome::Unchanged
    );
}

on_both_engines!(
    window_entries_are_the_open_rows_of_the_window,
    a_corrupt_entry_fails_where_it_is_read,
    unchanged_is_decided_on_the_json_then_on_the_transaction,
);
