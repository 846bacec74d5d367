//! `Store::transactions_page`: the keyset-paged read of one account's period, on SQLite and
//! PostgreSQL alike.
//!
//! Expected values come from the fixture written here (which entries lie in which period,
//! in which order), never from the store's own output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_support;

use psd2::{AccountId, TransactionStatus};
use psd2_sync::model::{PageCommit, StoredTransaction, TxKey};
use psd2_sync::store::PeriodPage;
use store_support::{TestDb, connection, date, stored};

/// Entry with a fixed key (so the expected order by key is known).
fn entry(
    c: &psd2_sync::model::ConnectionId,
    key: &str,
    status: TransactionStatus,
    day: Option<u32>,
    amount: &str,
) -> StoredTransaction {
    let mut t = stored(c, "acc-1", status, day, amount);
    t.key = TxKey::new(key);
    t
}

/// Reads every page of `query` (pages of `limit`) and returns the keys in order.
async fn all_keys(
    db: &TestDb,
    c: &psd2_sync::model::ConnectionId,
    mut query: PeriodPage,
) -> Vec<String> {
    let mut keys = Vec::new();
    loop {
        let page = db
            .store
            .transactions_page(c, &AccountId::new("acc-1"), &query)
            .await
            .unwrap();
        assert!(page.len() <= query.limit as usize);
        keys.extend(page.iter().map(|t| t.key.as_str().to_string()));
        match page.last() {
            Some(last) if page.len() == query.limit as usize => {
                query.after = Some((last.date.unwrap(), last.key.clone()));
            }
            _ => break,
        }
    }
    keys
}

async fn pages_read_the_period_in_date_then_key_order(db: TestDb) {
    let conn = connection("openpayments");
    db.store.add_connection(&conn).await.unwrap();
    let c = &conn.id;
    let mut removed = entry(
        c,
        "k-removed",
        TransactionStatus::Pending,
        Some(10),
        "-1.00",
    );
    removed.removed = true;
    let mut other_account = entry(c, "k-other", TransactionStatus::Booked, Some(10), "-1.00");
    other_account.account = AccountId::new("acc-2");
    let mut commit = PageCommit::new(c.clone());
    commit.transactions = vec![
        entry(c, "k-before", TransactionStatus::Booked, Some(4), "1.00"),
        entry(c, "k-b", TransactionStatus::Booked, Some(10), "10.50"),
        entry(c, "k-a", TransactionStatus::Booked, Some(10), "-2.25"),
        entry(c, "k-c", TransactionStatus::Booked, Some(5), "3.00"),
        entry(c, "k-pending", TransactionStatus::Pending, Some(7), "-4.00"),
        entry(c, "k-info", TransactionStatus::Information, Some(7), "0.00"),
        entry(c, "k-nodate", TransactionStatus::Booked, None, "5.00"),
        entry(c, "k-last", TransactionStatus::Booked, Some(20), "7.10"),
        entry(c, "k-after", TransactionStatus::Booked, Some(21), "9.00"),
        removed,
        other_account,
    ];
    db.store.commit_page(&commit).await.unwrap();

    let query = |include_pending, limit| PeriodPage {
        from: Some(date(5)),
        to: Some(date(20)),
        include_pending,
        after: None,
        limit,
    };
    // Booked in 5..=20 by date then key: c (5th), a, b (10th), last (20th).
    let booked = ["k-c", "k-a", "k-b", "k-last"];
    for limit in [1, 2, 3, 100] {
        assert_eq!(
            all_keys(&db, c, query(false, limit)).await,
            booked,
            "limit {limit}"
        );
    }
    let both = ["k-c", "k-pending", "k-a", "k-b", "k-last"];
    assert_eq!(all_keys(&db, c, query(true, 2)).await, both);

    // Open bounds: everything booked of the account with a date.
    let open = PeriodPage {
        from: None,
        to: None,
        include_pending: false,
        after: None,
        limit: 4,
    };
    assert_eq!(
        all_keys(&db, c, open).await,
        ["k-before", "k-c", "k-a", "k-b", "k-last", "k-after"]
    );

    // Amounts keep their scale; an unknown connection or account reads nothing.
    let page = db
        .store
        .transactions_page(c, &AccountId::new("acc-1"), &query(false, 100))
        .await
        .unwrap();
    let amounts: Vec<String> = page.iter().map(|t| t.amount.to_string()).collect();
    assert_eq!(amounts, ["3.00", "-2.25", "10.50", "7.10"]);
    let none = db
        .store
        .transactions_page(c, &AccountId::new("acc-9"), &query(true, 100))
        .await
        .unwrap();
    assert!(none.is_empty());
}

on_both_engines!(pages_read_the_period_in_date_then_key_order);
