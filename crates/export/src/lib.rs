//! Statements a bookkeeper can import, written from the sync store.
//!
//! [`export`] reads one account's stored transactions for a period, page by page
//! ([`psd2_sync::store::Store::transactions_page`]), and writes them to any [`io::Write`] in
//! one of four [`Format`]s:
//!
//! - [`Format::Camt053`]: ISO 20022 Bank-to-Customer Statement `camt.053.001.08` (the
//!   widely imported version; the tests validate every export
//!   against its XSD), written with `quick-xml`;
//! - [`Format::Ofx`]: OFX 2.2 in its XML form (`STMTRS`, `FITID` = our stable key);
//! - [`Format::Csv`]: one row per transaction under the fixed header [`csv_out::HEADER`];
//! - [`Format::Jsonl`]: one domain transaction per line with its key and change cursor.
//!
//! Memory stays flat whatever the account's size: one page of entries is held at a time, and
//! every writer writes an entry as soon as it has it.
//!
//! The store keeps no bank balances, so opening and closing booked balances are computed
//! from the stored booked entries (every entry before the period, then the period's), and
//! each format says so where it can ([`Statement::balances_computed`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod camt;
pub mod csv_out;
pub mod jsonl;
pub mod ofx;
mod source;
mod text;
mod xml;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use psd2::AccountId;
use psd2_sync::model::{ConnectionId, StoredTransaction};
use psd2_sync::store::{Store, StoreError};
use rust_decimal::Decimal;

pub use source::PAGE_SIZE;

/// An export's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// ISO 20022 `camt.053.001.08`.
    Camt053,
    /// OFX 2.2, XML form.
    Ofx,
    /// CSV with the fixed header [`csv_out::HEADER`].
    Csv,
    /// JSON Lines: one domain transaction per line.
    Jsonl,
}

impl Format {
    /// The name on the command line: `camt053`, `ofx`, `csv`, `jsonl`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Camt053 => "camt053",
            Self::Ofx => "ofx",
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = ExportError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "camt053" | "camt" | "camt.053" => Self::Camt053,
            "ofx" => Self::Ofx,
            "csv" => Self::Csv,
            "jsonl" | "jsonlines" => Self::Jsonl,
            _ => {
                return Err(ExportError::Invalid {
                    field: "format",
                    reason: "not one of camt053, ofx, csv, jsonl".into(),
                });
            }
        })
    }
}

/// Which entries an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StatusFilter {
    /// Booked entries only.
    #[default]
    Booked,
    /// Booked and open pending entries (OFX, which has no pending status, still writes
    /// booked ones only and counts the rest in [`ExportSummary::skipped`]).
    Both,
}

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    /// The connection the account belongs to.
    pub connection: ConnectionId,
    /// The account (the bank's account id, as stored).
    pub account: AccountId,
    /// First day of the period (inclusive).
    pub from: NaiveDate,
    /// Last day of the period (inclusive).
    pub to: NaiveDate,
    /// Booked only, or booked and pending.
    pub status: StatusFilter,
    /// The statement's creation time (written into camt.053 and OFX headers).
    pub created_at: DateTime<Utc>,
    /// The account's currency when the store has no entry to tell it (an empty account);
    /// `None` then writes `XXX` ("no currency") where a format needs one.
    pub currency: Option<String>,
}

impl ExportRequest {
    /// A request for booked entries of `account` from `from` to `to`, created now.
    pub fn new(
        connection: ConnectionId,
        account: AccountId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Self {
        Self {
            connection,
            account,
            from,
            to,
            status: StatusFilter::Booked,
            created_at: Utc::now(),
            currency: None,
        }
    }
}

/// One currency's computed booked balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceLine {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of the booked entries before the period.
    pub opening: Decimal,
    /// `opening` plus the booked entries of the period.
    pub closing: Decimal,
}

/// What every writer knows before the first entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The bank adapter's name (e.g. `handelsbanken`).
    pub bank: String,
    /// The account (the bank's id).
    pub account: AccountId,
    /// The account's IBAN, when a stored entry names it.
    pub iban: Option<String>,
    /// The account's main currency (of its first booked entry, else the request's, else
    /// `XXX`).
    pub currency: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// When the statement was made.
    pub created_at: DateTime<Utc>,
    /// Opening and closing booked balances per currency (the main currency first).
    pub balances: Vec<BalanceLine>,
    /// Whether the balances were computed from stored entries rather than read from the
    /// bank (always, as long as the store keeps no bank balances).
    pub balances_computed: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Entries written.
    pub entries: u64,
    /// Entries read but not written (OFX: pending entries and entries in another currency
    /// than the statement's).
    pub skipped: u64,
    /// Sum of the written entries' signed amounts per currency.
    pub sums: BTreeMap<String, Decimal>,
}

/// Why an export failed. Never quotes bank free text or secrets.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error("reading the store: {0}")]
    Store(#[from] StoreError),
    /// Writing the output failed.
    #[error("writing the export: {0}")]
    Io(#[from] io::Error),
    /// The connection does not exist.
    #[error("connection {0} not found in the store")]
    ConnectionNotFound(String),
    /// A request value or a stored value does not fit the format.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, e.g. `period` or `transactions[key].amount`.
        field: &'static str,
        /// Why (shape only).
        reason: String,
    },
}

/// One format's writer: the header, each entry, the end. Entries come in date then key
/// order.
pub(crate) trait EntryWriter {
    /// Writes everything before the first entry.
    fn begin(&mut self, statement: &Statement) -> Result<(), ExportError>;
    /// Writes one entry; `false` when the format leaves it out.
    fn entry(&mut self, statement: &Statement, tx: &StoredTransaction)
    -> Result<bool, ExportError>;
    /// Writes everything after the last entry and flushes.
    fn finish(&mut self, statement: &Statement) -> Result<(), ExportError>;
}

/// Exports one account's period from `store` to `out` in `format`.
///
/// Reads the period twice, page by page: once for the balances (every booked entry up to
/// the period's end), once to write. An account or period without entries gives a valid
/// empty statement. `out` is written through as entries come; wrap a file in a
/// `BufWriter`. After an error `out` holds a partial document: write to a temporary file
/// and rename it when the export succeeded.
pub async fn export<W: io::Write>(
    store: &dyn Store,
    request: &ExportRequest,
    format: Format,
    out: W,
) -> Result<ExportSummary, ExportError> {
    match format {
        Format::Camt053 => run(store, request, camt::CamtWriter::new(out)).await,
        Format::Ofx => run(store, request, ofx::OfxWriter::new(out)).await,
        Format::Csv => run(store, request, csv_out::CsvWriter::new(out)).await,
        Format::Jsonl => run(store, request, jsonl::JsonlWriter::new(out)).await,
    }
}

async fn run(
    store: &dyn Store,
    request: &ExportRequest,
    mut writer: impl EntryWriter,
) -> Result<ExportSummary, ExportError> {
    if request.from > request.to {
        return Err(ExportError::Invalid {
            field: "period",
            reason: "from is after to".into(),
        });
    }
    let statement = source::statement(store, request).await?;
    writer.begin(&statement)?;
    let mut summary = ExportSummary::default();
    let mut pages = source::Pages::new(request);
    while let Some(page) = pages.next(store, request).await? {
        for tx in &page {
            if writer.entry(&statement, tx)? {
                summary.entries = summary.entries.saturating_add(1);
                let sum = summary.sums.entry(tx.currency.clone()).or_default();
                *sum = sum
                    .checked_add(tx.amount)
                    .ok_or_else(|| ExportError::Invalid {
                        field: "transactions.amount",
                        reason: "sum out of range".into(),
                    })?;
            } else {
                summary.skipped = summary.skipped.saturating_add(1);
            }
        }
    }
    writer.finish(&statement)?;
    Ok(summary)
}
