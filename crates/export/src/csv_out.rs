//! CSV: one row per transaction under one fixed header ([`HEADER`]), quoted by the `csv`
//! crate (RFC 4180: comma separated, fields with commas, quotes or line breaks quoted).
//!
//! Amounts are signed exact decimals with a dot and their scale (`-10.50`), dates ISO 8601
//! (`2026-11-05`), empty fields for unknown values. `counterparty_*` is the creditor of a
//! debit and the debtor of a credit; `remittance` joins the unstructured lines with a space.

use std::io;

use psd2_sync::model::StoredTransaction;

use crate::text::{counterparty, party_account, unstructured};
use crate::{EntryWriter, ExportError, Statement};

/// The header row, in column order.
pub const HEADER: [&str; 15] = [
    "key",
    "bank_id",
    "status",
    "date",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_account",
    "remittance",
    "structured_reference",
    "bank_transaction_code",
    "end_to_end_id",
    "change_cursor",
];

/// Writes CSV rows.
pub struct CsvWriter<W: io::Write> {
    csv: csv::Writer<W>,
}

impl<W: io::Write> CsvWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        Self {
            csv: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out),
        }
    }
}

fn csv_error(e: csv::Error) -> ExportError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ExportError::Io(io),
        _ => ExportError::Invalid {
            field: "csv",
            reason: "the CSV writer refused a record".into(),
        },
    }
}

impl<W: io::Write> EntryWriter for CsvWriter<W> {
    fn begin(&mut self, _: &Statement) -> Result<(), ExportError> {
        self.csv.write_record(HEADER).map_err(csv_error)
    }

    fn entry(&mut self, _: &Statement, stored: &StoredTransaction) -> Result<bool, ExportError> {
        let tx = &stored.transaction;
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let party = counterparty(tx);
        let code = tx
            .bank_transaction_code
            .as_ref()
            .and_then(|c| c.code.clone().or_else(|| c.proprietary.clone()));
        let record = [
            stored.key.as_str().to_string(),
            stored.bank_id.clone().unwrap_or_default(),
            stored.status.to_string(),
            date(stored.date),
            date(stored.booking_date),
            date(stored.value_date),
            stored.amount.to_string(),
            stored.currency.clone(),
            party.and_then(|p| p.name.clone()).unwrap_or_default(),
            party
                .and_then(party_account)
                .unwrap_or_default()
                .to_string(),
            unstructured(tx).join(" "),
            tx.remittance_structured.clone().unwrap_or_default(),
            code.unwrap_or_default(),
            tx.end_to_end_id.clone().unwrap_or_default(),
            stored.last_cursor.to_string(),
        ];
        self.csv.write_record(&record).map_err(csv_error)?;
        Ok(true)
    }

    fn finish(&mut self, _: &Statement) -> Result<(), ExportError> {
        self.csv.flush()?;
        Ok(())
    }
}
