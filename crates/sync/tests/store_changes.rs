//! The change feed keeps every change's transaction as it was after that change, on both
//! engines, although the store writes a transaction's JSON once (a change shares its row's
//! JSON while it is the latest change about it).
//!
//! Expected values are the transactions built here, never the store's own output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_support;

use psd2::{AccountId, Money, TransactionStatus};
use psd2_sync::model::{ChangeKind, NewChange, PageCommit, StoredTransaction};
use psd2_sync::store::StoreError;
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

/// The row `t` with a different remittance text and amount in its transaction.
fn edited(t: &StoredTransaction, text: &str, amount: &str) -> StoredTransaction {
    let mut t = t.clone();
    t.transaction.remittance_unstructured = Some(text.to_string());
    t.transaction.amount = Money::parse(amount, "SEK").unwrap();
    t.amount = amount.parse().unwrap();
    t
}

fn json(t: &StoredTransaction) -> serde_json::Value {
    serde_json::to_value(&t.transaction).unwrap()
}

async fn older_changes_keep_their_transaction(db: TestDb) {
    let s = &db.store;
    let c = connection("swedbank");
    s.add_connection(&c).await.unwrap();
    let pending = stored(&c.id, "acc-1", TransactionStatus::Pending, Some(5), "-40");
    let mut commit = PageCommit::new(c.id.clone());
    commit.changes.push(change_for(&pending, ChangeKind::Added));
    commit.transactions.push(pending.clone());
    s.commit_page(&commit).await.unwrap();

    // Booked with a new amount: a second change about the same key.
    let mut booked = edited(&pending, "coffee, booked", "-42.50");
    booked.status = TransactionStatus::Booked;
    booked.transaction.status = TransactionStatus::Booked;
    let mut commit = PageCommit::new(c.id.clone());
    commit
        .changes
        .push(change_for(&booked, ChangeKind::Modified));
    commit.transactions.push(booked.clone());
    s.commit_page(&commit).await.unwrap();

    // The row rewritten without a change (e.g. a field outside the comparison moved).
    let mut rewritten = edited(&booked, "coffee, booked, enriched", "-42.50");
    rewritten.last_cursor = 2;
    let mut commit = PageCommit::new(c.id.clone());
    commit.transactions.push(rewritten.clone());
    s.commit_page(&commit).await.unwrap();

    let changes = s.changes_since(&c.id, 0, 10).await.unwrap();
    let got: Vec<_> = changes
        .iter()
        .map(|ch| (ch.cursor, ch.kind, ch.transaction.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, ChangeKind::Added, json(&pending)),
            (2, ChangeKind::Modified, json(&booked)),
        ],
        "each change as it was, not the row's later state"
    );
    let state = s
        .load_account_state(&c.id, &AccountId::new("acc-1"), None)
        .await
        .unwrap();
    assert_eq!(state.len(), 1);
    assert_eq!(state[0].transaction, rewritten.transaction);

    // A further change: the earlier ones still read as they were.
    let later = edited(&rewritten, "refund", "-1");
    let mut commit = PageCommit::new(c.id.clone());
    commit
        .changes
        .push(change_for(&later, ChangeKind::Modified));
    commit.transactions.push(later.clone());
    s.commit_page(&commit).await.unwrap();
    let texts: Vec<_> = s
        .changes_since(&c.id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|ch| ch.transaction)
        .collect();
    assert_eq!(texts, vec![json(&pending), json(&booked), json(&later)]);
}

async fn two_changes_about_one_key_in_one_commit(db: TestDb) {
    let s = &db.store;
    let c = connection("handelsbanken");
    s.add_connection(&c).await.unwrap();
    let first = stored(&c.id, "acc-1", TransactionStatus::Booked, Some(3), "-10");
    let second = edited(&first, "second version", "-11");
    let mut commit = PageCommit::new(c.id.clone());
    commit.changes.push(change_for(&first, ChangeKind::Added));
    commit
        .changes
        .push(change_for(&second, ChangeKind::Modified));
    // A change whose transaction is not the row's (the row holds the first version).
    let other = stored(&c.id, "acc-1", TransactionStatus::Booked, Some(4), "-7");
    let other_changed = edited(&other, "not what the row holds", "-8");
    commit
        .changes
        .push(change_for(&other_changed, ChangeKind::Added));
    commit.transactions.push(second.clone());
    commit.transactions.push(other.clone());
    s.commit_page(&commit).await.unwrap();

    let texts: Vec<_> = s
        .changes_since(&c.id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|ch| ch.transaction)
        .collect();
    assert_eq!(
        texts,
        vec![json(&first), json(&second), json(&other_changed)]
    );
    let state = s
        .load_account_state(&c.id, &AccountId::new("acc-1"), Some(date(1)))
        .await
        .unwrap();
    assert_eq!(state.len(), 2);
    // Rows last cursors: the last change about each key (2 and 3).
    let mut cursors: Vec<u64> = state.iter().map(|t| t.last_cursor).collect();
    cursors.sort_unstable();
    assert_eq!(cursors, vec![2, 3]);
}

/// A change as the engine sends it: no transaction of its own (its row's).
fn change_of_row(t: &StoredTransaction, kind: ChangeKind) -> NewChange {
    NewChange {
        transaction: None,
        ..change_for(t, kind)
    }
}

/// The JSON each change reads back with, in cursor order.
async fn change_json(db: &TestDb, c: &psd2_sync::ConnectionId) -> Vec<serde_json::Value> {
    db.store
        .changes_since(c, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|ch| ch.transaction)
        .collect()
}

async fn changes_without_a_transaction_read_their_rows(db: TestDb) {
    let s = &db.store;
    let c = connection("swedbank");
    s.add_connection(&c).await.unwrap();
    let a = stored(&c.id, "acc-1", TransactionStatus::Booked, Some(3), "-10");
    let b = edited(
        &stored(&c.id, "acc-1", TransactionStatus::Pending, Some(4), "-7"),
        "bus ticket",
        "-7",
    );
    // Encoded ahead, as the engine does.
    let mut first = PageCommit::new(c.id.clone());
    first.changes.push(change_of_row(&a, ChangeKind::Added));
    first.transactions.push(a.clone());
    let mut buffer = Vec::new();
    first.encode_transactions(&mut buffer).unwrap();
    // Not encoded: the store encodes it. Absorbed, so one commit holds both kinds.
    let mut second = PageCommit::new(c.id.clone());
    second.changes.push(change_of_row(&b, ChangeKind::Added));
    second.transactions.push(b.clone());
    first.absorb(second);
    s.commit_page(&first).await.unwrap();
    assert_eq!(change_json(&db, &c.id).await, vec![json(&a), json(&b)]);

    // A commit not encoded absorbing an encoded one: every row still as it is.
    let a2 = edited(&a, "refunded", "10");
    let b2 = edited(&b, "bus ticket, booked", "-7.5");
    let mut third = PageCommit::new(c.id.clone());
    third.changes.push(change_of_row(&a2, ChangeKind::Modified));
    third.transactions.push(a2.clone());
    let mut fourth = PageCommit::new(c.id.clone());
    fourth
        .changes
        .push(change_of_row(&b2, ChangeKind::Modified));
    fourth.transactions.push(b2.clone());
    fourth.encode_transactions(&mut buffer).unwrap();
    third.absorb(fourth);
    s.commit_page(&third).await.unwrap();
    assert_eq!(
        change_json(&db, &c.id).await,
        vec![json(&a), json(&b), json(&a2), json(&b2)],
        "the earlier changes keep their versions, the new ones read the rows"
    );
    let state = s
        .load_account_state(&c.id, &AccountId::new("acc-1"), None)
        .await
        .unwrap();
    let mut got: Vec<_> = state.iter().map(|t| t.transaction.clone()).collect();
    got.sort_by_key(|t| t.booking_date);
    assert_eq!(got, vec![a2.transaction, b2.transaction]);
}

async fn a_change_without_a_transaction_needs_its_row(db: TestDb) {
    let s = &db.store;
    let c = connection("handelsbanken");
    s.add_connection(&c).await.unwrap();
    let a = stored(&c.id, "acc-1", TransactionStatus::Booked, Some(3), "-10");
    let mut commit = PageCommit::new(c.id.clone());
    commit.changes.push(change_of_row(&a, ChangeKind::Added));
    let refused = s.commit_page(&commit).await;
    assert!(
        matches!(refused, Err(StoreError::InvalidCommit(_))),
        "{refused:?}"
    );
    assert_eq!(s.change_cursor(&c.id).await.unwrap(), 0, "nothing written");
    assert!(change_json(&db, &c.id).await.is_empty());

    // Two changes about one key, the earlier one without a transaction: it reads the
    // commit's row, as documented (the row as the commit writes it).
    let later = edited(&a, "corrected", "-12");
    let mut commit = PageCommit::new(c.id.clone());
    commit.changes.push(change_of_row(&a, ChangeKind::Added));
    commit
        .changes
        .push(change_for(&later, ChangeKind::Modified));
    commit.transactions.push(later.clone());
    s.commit_page(&commit).await.unwrap();
    assert_eq!(
        change_json(&db, &c.id).await,
        vec![json(&later), json(&later)]
    );
}

on_both_engines!(
    older_changes_keep_their_transaction,
    two_changes_about_one_key_in_one_commit,
    changes_without_a_transaction_read_their_rows,
    a_change_without_a_transaction_needs_its_row,
);
