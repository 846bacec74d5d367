//! OFX 2.2 in its XML form: `SIGNONMSGSRSV1` and one `BANKMSGSRSV1/STMTTRNRS/STMTRS`.
//!
//! - `CURDEF`: the statement's currency; `BANKACCTFROM`: `BANKID` the bank adapter's name
//!   (9 characters at most, OFX has no field for a BIC), `ACCTID` the IBAN when it fits 22
//!   characters, else the IBAN without country and check digits, else the bank's account
//!   id, `ACCTTYPE` `CHECKING`;
//! - one `STMTTRN` per booked entry: `TRNTYPE` `CREDIT`/`DEBIT`, `DTPOSTED` (booking date,
//!   else the entry's date), `DTUSER` (value date), `TRNAMT` signed with its scale, `FITID`
//!   our stable key (so a re-import never duplicates), `REFNUM` the bank's id (when it fits
//!   32 characters), `NAME` the counterparty (32 characters), `MEMO` the remittance (255);
//! - `LEDGERBAL` and `AVAILBAL`: the computed closing booked balance at the period's end (an
//!   XML comment says they are computed).
//!
//! OFX has no pending status and one currency per statement: pending entries and entries
//! in another currency are left out (counted in [`crate::ExportSummary::skipped`]).

use std::io;

use psd2::TransactionStatus;
use psd2_sync::model::StoredTransaction;

use crate::text::{amount_text, clip, counterparty, unstructured};
use crate::xml::Xml;
use crate::{EntryWriter, ExportError, Statement};

/// The OFX header processing instruction.
const HEADER: &str =
    r#"OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE""#;

/// Writes one OFX document.
pub struct OfxWriter<W: io::Write> {
    xml: Xml<W>,
}

impl<W: io::Write> OfxWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        Self { xml: Xml::new(out) }
    }
}

impl<W: io::Write> EntryWriter for OfxWriter<W> {
    fn begin(&mut self, st: &Statement) -> Result<(), ExportError> {
        let x = &mut self.xml;
        x.declaration(Some("no"))?;
        x.pi(HEADER)?;
        x.start("OFX", &[])?;
        x.start("SIGNONMSGSRSV1", &[])?;
        x.start("SONRS", &[])?;
        status(x)?;
        x.leaf(
            "DTSERVER",
            &st.created_at.format("%Y%m%d%H%M%S").to_string(),
        )?;
        x.leaf("LANGUAGE", "ENG")?;
        x.end("SONRS")?;
        x.end("SIGNONMSGSRSV1")?;
        x.start("BANKMSGSRSV1", &[])?;
        x.start("STMTTRNRS", &[])?;
        x.leaf("TRNUID", "0")?;
        status(x)?;
        x.start("STMTRS", &[])?;
        x.leaf("CURDEF", &st.currency)?;
        x.start("BANKACCTFROM", &[])?;
        x.leaf("BANKID", clip(&st.bank, 9))?;
        x.leaf("ACCTID", &account_id(st)?)?;
        x.leaf("ACCTTYPE", "CHECKING")?;
        x.end("BANKACCTFROM")?;
        x.start("BANKTRANLIST", &[])?;
        x.leaf("DTSTART", &st.from.format("%Y%m%d").to_string())?;
        x.leaf("DTEND", &st.to.format("%Y%m%d").to_string())?;
        Ok(())
    }

    fn entry(&mut self, st: &Statement, stored: &StoredTransaction) -> Result<bool, ExportError> {
        if stored.status != TransactionStatus::Booked || stored.currency != st.currency {
            return Ok(false);
        }
        let x = &mut self.xml;
        let tx = &stored.transaction;
        let Some(posted) = stored.booking_date.or(stored.date) else {
            return Ok(false);
        };
        x.start("STMTTRN", &[])?;
        let kind = if stored.amount.is_sign_negative() {
            "DEBIT"
        } else {
            "CREDIT"
        };
        x.leaf("TRNTYPE", kind)?;
        x.leaf("DTPOSTED", &posted.format("%Y%m%d").to_string())?;
        if let Some(value) = stored.value_date {
            x.leaf("DTUSER", &value.format("%Y%m%d").to_string())?;
        }
        x.leaf(
            "TRNAMT",
            &amount_text(stored.amount, 28, 28, "transactions.amount")?,
        )?;
        x.leaf("FITID", clip(stored.key.as_str(), 255))?;
        if let Some(id) = stored
            .bank_id
            .as_deref()
            .filter(|id| id.chars().count() <= 32)
        {
            x.opt_leaf("REFNUM", Some(id))?;
        }
        if let Some(name) = counterparty(tx).and_then(|p| p.name.as_deref()) {
            x.opt_leaf("NAME", Some(clip(name.trim(), 32)))?;
        }
        let mut memo = unstructured(tx).join(" ");
        if let Some(reference) = tx.remittance_structured.as_deref() {
            if !memo.is_empty() {
                memo.push(' ');
            }
            memo.push_str(reference.trim());
        }
        x.opt_leaf("MEMO", Some(clip(&memo, 255)))?;
        x.end("STMTTRN")?;
        Ok(true)
    }

    fn finish(&mut self, st: &Statement) -> Result<(), ExportError> {
        let x = &mut self.xml;
        x.end("BANKTRANLIST")?;
        let closing = st
            .balances
            .iter()
            .find(|b| b.currency == st.currency)
            .map(|b| b.closing)
            .unwrap_or_default();
        let amount = amount_text(closing, 28, 28, "balances.amount")?;
        let as_of = st.to.format("%Y%m%d").to_string();
        if st.balances_computed {
            x.comment("LEDGERBAL and AVAILBAL are computed from the stored booked transactions")?;
        }
        for tag in ["LEDGERBAL", "AVAILBAL"] {
            x.start(tag, &[])?;
            x.leaf("BALAMT", &amount)?;
            x.leaf("DTASOF", &as_of)?;
            x.end(tag)?;
        }
        x.end("STMTRS")?;
        x.end("STMTTRNRS")?;
        x.end("BANKMSGSRSV1")?;
        x.end("OFX")?;
        x.finish()?;
        Ok(())
    }
}

fn status<W: io::Write>(x: &mut Xml<W>) -> io::Result<()> {
    x.start("STATUS", &[])?;
    x.leaf("CODE", "0")?;
    x.leaf("SEVERITY", "INFO")?;
    x.end("STATUS")
}

/// `ACCTID`: at most 22 characters.
fn account_id(st: &Statement) -> Result<String, ExportError> {
    let mut candidates: Vec<&str> = Vec::new();
    if let Some(iban) = st.iban.as_deref() {
        candidates.push(iban);
        if let Some(rest) = iban.get(4..) {
            candidates.push(rest);
        }
    }
    candidates.push(st.account.as_str());
    candidates
        .into_iter()
        .find(|c| !c.is_empty() && c.chars().count() <= 22)
        .map(str::to_string)
        .ok_or_else(|| ExportError::Invalid {
            field: "account",
            reason: "no account number of at most 22 characters for ACCTID".into(),
        })
}
