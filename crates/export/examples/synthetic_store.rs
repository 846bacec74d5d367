//! Writes an SQLite sync database with one connection and one account holding N synthetic
//! booked transactions (one a minute's worth of days apart, amounts with two decimals), to
//! try `psd2 export` and to measure its memory on a large account:
//!
//! `cargo run --release -p psd2-export --example synthetic_store -- /tmp/big.db 1000000`
//! then `psd2 export acc-1 --format camt053 --from 2000-01-01 --to 2099-12-31
//! --database sqlite:/tmp/big.db --output /tmp/big.xml`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Days, NaiveDate};
use psd2::{AccountId, Money, Transaction, TransactionStatus};
use psd2_sync::model::{Connection, PageCommit, StoredTransaction, TxKey};
use psd2_sync::store::{SqliteStore, Store};
use rust_decimal::Decimal;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: synthetic_store PATH COUNT");
    let count: u64 = args
        .next()
        .expect("COUNT")
        .parse()
        .expect("COUNT is a number");
    let store = SqliteStore::open(std::path::Path::new(&path))
        .await
        .unwrap();
    let connection: Connection = serde_json::from_value(serde_json::json!({
        "id": "c0000000-0000-4000-8000-000000000001",
        "bank": "openpayments",
        "baseUrl": "http://127.0.0.1:1/openpayments",
        "session": {"consentId": "synthetic"},
        "psu": {},
        "consent": {"status": "valid"},
        "state": "active",
        "accounts": [{"id": "acc-1"}],
        "settings": psd2_sync::settings::BankSyncSettings::for_bank("openpayments"),
        "createdAt": "2026-01-01T00:00:00Z",
    }))
    .unwrap();
    store.add_connection(&connection).await.unwrap();
    let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let mut i = 0u64;
    while i < count {
        let mut commit = PageCommit::new(connection.id.clone());
        for _ in 0..5000 {
            if i >= count {
                break;
            }
            let day = start.checked_add_days(Days::new(i / 100)).unwrap();
            let cents = i64::try_from(i % 20_000).unwrap() - 10_000;
            let amount = Decimal::new(cents, 2);
            let mut tx = Transaction::new(
                TransactionStatus::Booked,
                Money::parse(&amount.to_string(), "SEK").unwrap(),
            );
            tx.booking_date = Some(day);
            tx.remittance_unstructured = Some(format!("Betalning nr {i} – åäö"));
            commit.transactions.push(StoredTransaction {
                key: TxKey::random(),
                connection: connection.id.clone(),
                account: AccountId::new("acc-1"),
                bank_id: Some(format!("bank-{i}")),
                status: TransactionStatus::Booked,
                fingerprint: format!("{i:064}"),
                occurrence: 0,
                date: Some(day),
                booking_date: Some(day),
                value_date: None,
                amount,
                currency: "SEK".into(),
                transaction: tx,
                removed: false,
                last_listing: None,
                last_cursor: i + 1,
            });
            i += 1;
        }
        store.commit_page(&commit).await.unwrap();
    }
    store.close().await;
    println!("{count} transactions in {path}");
}
