//! JSON Lines: one object per line, the domain transaction's fields (as the facade
//! serializes them: camelCase, amounts as decimal strings with their scale) plus `key` (our
//! stable key), `changeCursor` (the cursor of the last change about it in the connection's
//! change feed) and `account` under `storedAccount` (the bank's account id).

use std::io;

use psd2::Transaction;
use psd2_sync::model::StoredTransaction;
use serde::Serialize;

use crate::{EntryWriter, ExportError, Statement};

/// Writes one JSON object per line.
pub struct JsonlWriter<W: io::Write> {
    out: W,
}

impl<W: io::Write> JsonlWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        Self { out }
    }
}

/// One line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    key: &'a str,
    change_cursor: u64,
    stored_account: &'a str,
    #[serde(flatten)]
    transaction: &'a Transaction,
}

impl<W: io::Write> EntryWriter for JsonlWriter<W> {
    fn begin(&mut self, _: &Statement) -> Result<(), ExportError> {
        Ok(())
    }

    fn entry(&mut self, _: &Statement, stored: &StoredTransaction) -> Result<bool, ExportError> {
        let line = Line {
            key: stored.key.as_str(),
            change_cursor: stored.last_cursor,
            stored_account: stored.account.as_str(),
            transaction: &stored.transaction,
        };
        serde_json::to_writer(&mut self.out, &line).map_err(|e| {
            if e.is_io() {
                ExportError::Io(e.into())
            } else {
                ExportError::Invalid {
                    field: "transactions",
                    reason: format!("not serializable as JSON ({:?})", e.classify()),
                }
            }
        })?;
        self.out.write_all(b"\n")?;
        Ok(true)
    }

    fn finish(&mut self, _: &Statement) -> Result<(), ExportError> {
        self.out.flush()?;
        Ok(())
    }
}
