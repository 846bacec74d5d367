//! ISO 20022 `camt.053.001.08` (Bank-to-Customer Statement).
//!
//! One `Stmt` per export: the account (IBAN when a stored entry names it, else the bank's
//! account id under `Othr`), an `OPBD` and a `CLBD` balance per currency (computed, and
//! said so in `AddtlStmtInf`), then one `Ntry` per transaction:
//!
//! - `NtryRef`: our stable key (a UUID, written in its 32-digit form to fit `Max35Text`);
//!   `AcctSvcrRef`: the bank's id (when it fits 35 characters, else in `AddtlNtryInf`);
//! - `Amt` (absolute, scale kept) with `CdtDbtInd` (`CRDT`/`DBIT`); `Sts/Cd` `BOOK`,
//!   `PDNG` or `INFO`; `BookgDt`, `ValDt`;
//! - `BkTxCd`: `Domn` from a `DOMAIN-FAMILY-SUBFAMILY` code, `Prtry` from the bank's own;
//! - `NtryDtls/TxDtls`: references (end-to-end id), the counterparty's name and account
//!   (`RltdPties`), purpose, unstructured remittance (`Ustrd`, in pieces of 140 characters)
//!   and structured remittance (`Strd`: creditor reference, referred documents, invoicer,
//!   invoicee, additional lines).
//!
//! Text longer than a field allows is cut at the limit (names) or split (remittance).

use std::io;

use psd2::transaction::{Party, StructuredRemittance};
use psd2::{AccountReference, Transaction, TransactionStatus};
use psd2_sync::model::StoredTransaction;

use crate::text::{amount_text, chunks, clip, unstructured};
use crate::xml::Xml;
use crate::{EntryWriter, ExportError, Statement};

/// The XML namespace of the version written.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";

/// What `AddtlStmtInf` says when the balances were computed.
pub const COMPUTED_NOTE: &str = "OPBD and CLBD are computed from the booked transactions \
     stored by psd2-rs (opening: all stored before the period), not reported by the bank";

/// Creditor reference type codes of `DocumentType3Code`.
const CREDITOR_REF_CODES: &[&str] = &["RADM", "RPIN", "FXDR", "DISP", "PUOR", "SCOR"];
/// Referred document type codes of `DocumentType6Code`.
const DOCUMENT_CODES: &[&str] = &[
    "MSIN", "CNFA", "DNFA", "CINV", "CREN", "DEBN", "HIRI", "SBIN", "CMCN", "SOAC", "DISP", "BOLD",
    "VCHR", "AROI", "TSUT", "PUOR",
];

/// Writes one camt.053 document.
pub struct CamtWriter<W: io::Write> {
    xml: Xml<W>,
}

impl<W: io::Write> CamtWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        Self { xml: Xml::new(out) }
    }
}

impl<W: io::Write> EntryWriter for CamtWriter<W> {
    fn begin(&mut self, st: &Statement) -> Result<(), ExportError> {
        let x = &mut self.xml;
        x.declaration(None)?;
        x.start("Document", &[("xmlns", NAMESPACE)])?;
        x.start("BkToCstmrStmt", &[])?;
        x.start("GrpHdr", &[])?;
        x.leaf(
            "MsgId",
            &format!("PSD2RS-{}", st.created_at.format("%Y%m%d%H%M%S")),
        )?;
        x.leaf(
            "CreDtTm",
            &st.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )?;
        x.end("GrpHdr")?;
        x.start("Stmt", &[])?;
        x.leaf(
            "Id",
            &format!("{}-{}", st.from.format("%Y%m%d"), st.to.format("%Y%m%d")),
        )?;
        x.leaf(
            "CreDtTm",
            &st.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )?;
        x.start("FrToDt", &[])?;
        x.leaf("FrDtTm", &format!("{}T00:00:00", st.from))?;
        x.leaf("ToDtTm", &format!("{}T23:59:59", st.to))?;
        x.end("FrToDt")?;
        x.start("Acct", &[])?;
        x.start("Id", &[])?;
        match &st.iban {
            Some(iban) if is_iban(iban) => x.leaf("IBAN", iban)?,
            _ => {
                x.start("Othr", &[])?;
                x.leaf("Id", clip(st.account.as_str(), 34))?;
                x.end("Othr")?;
            }
        }
        x.end("Id")?;
        if is_currency(&st.currency) {
            x.leaf("Ccy", &st.currency)?;
        }
        x.end("Acct")?;
        for line in &st.balances {
            balance(x, "OPBD", &line.currency, line.opening, st.from)?;
            balance(x, "CLBD", &line.currency, line.closing, st.to)?;
        }
        Ok(())
    }

    fn entry(&mut self, _: &Statement, stored: &StoredTransaction) -> Result<bool, ExportError> {
        let x = &mut self.xml;
        let tx = &stored.transaction;
        x.start("Ntry", &[])?;
        x.leaf("NtryRef", &key_ref(stored)?)?;
        let amount = amount_text(stored.amount.abs(), 5, 18, "transactions.amount")?;
        x.leaf_with("Amt", &[("Ccy", currency(&stored.currency)?)], &amount)?;
        x.leaf("CdtDbtInd", indicator(stored.amount.is_sign_negative()))?;
        x.start("Sts", &[])?;
        x.leaf("Cd", status_code(&stored.status))?;
        x.end("Sts")?;
        date_element(x, "BookgDt", stored.booking_date)?;
        date_element(x, "ValDt", stored.value_date)?;
        let long_bank_id = match stored.bank_id.as_deref() {
            Some(id) if id.chars().count() <= 35 => {
                x.leaf("AcctSvcrRef", id)?;
                None
            }
            other => other,
        };
        bank_transaction_code(x, tx)?;
        x.start("NtryDtls", &[])?;
        x.start("TxDtls", &[])?;
        details(x, stored)?;
        x.end("TxDtls")?;
        x.end("NtryDtls")?;
        if let Some(id) = long_bank_id {
            x.leaf("AddtlNtryInf", clip(&format!("bank id {id}"), 500))?;
        } else if let Some(info) = tx.additional_information.as_deref() {
            x.opt_leaf("AddtlNtryInf", Some(clip(info, 500)))?;
        }
        x.end("Ntry")?;
        Ok(true)
    }

    fn finish(&mut self, st: &Statement) -> Result<(), ExportError> {
        let x = &mut self.xml;
        if st.balances_computed {
            x.leaf("AddtlStmtInf", COMPUTED_NOTE)?;
        }
        x.end("Stmt")?;
        x.end("BkToCstmrStmt")?;
        x.end("Document")?;
        x.finish()?;
        Ok(())
    }
}

fn balance<W: io::Write>(
    x: &mut Xml<W>,
    code: &str,
    ccy: &str,
    amount: rust_decimal::Decimal,
    date: chrono::NaiveDate,
) -> Result<(), ExportError> {
    x.start("Bal", &[])?;
    x.start("Tp", &[])?;
    x.start("CdOrPrtry", &[])?;
    x.leaf("Cd", code)?;
    x.end("CdOrPrtry")?;
    x.end("Tp")?;
    let text = amount_text(amount.abs(), 5, 18, "balances.amount")?;
    x.leaf_with("Amt", &[("Ccy", currency(ccy)?)], &text)?;
    x.leaf("CdtDbtInd", indicator(amount.is_sign_negative()))?;
    date_element(x, "Dt", Some(date))?;
    x.end("Bal")?;
    Ok(())
}

fn details<W: io::Write>(x: &mut Xml<W>, stored: &StoredTransaction) -> Result<(), ExportError> {
    let tx = &stored.transaction;
    x.start("Refs", &[])?;
    if let Some(id) = stored
        .bank_id
        .as_deref()
        .filter(|id| id.chars().count() <= 35)
    {
        x.leaf("AcctSvcrRef", id)?;
    }
    if let Some(e2e) = tx.end_to_end_id.as_deref() {
        x.opt_leaf("EndToEndId", Some(clip(e2e, 35)))?;
    }
    x.start("Prtry", &[])?;
    x.leaf("Tp", "PSD2RS-KEY")?;
    x.leaf("Ref", &key_ref(stored)?)?;
    x.end("Prtry")?;
    x.end("Refs")?;
    let amount = amount_text(stored.amount.abs(), 5, 18, "transactions.amount")?;
    x.leaf_with("Amt", &[("Ccy", currency(&stored.currency)?)], &amount)?;
    x.leaf("CdtDbtInd", indicator(stored.amount.is_sign_negative()))?;
    parties(x, tx)?;
    if let Some(purpose) = tx.purpose_code.as_deref().filter(|p| is_code(p, 4)) {
        x.start("Purp", &[])?;
        x.leaf("Cd", purpose)?;
        x.end("Purp")?;
    }
    remittance(x, tx)?;
    Ok(())
}

fn parties<W: io::Write>(x: &mut Xml<W>, tx: &Transaction) -> io::Result<()> {
    let debtor = tx.debtor.as_ref().filter(|p| !p.is_empty());
    let creditor = tx.creditor.as_ref().filter(|p| !p.is_empty());
    if debtor.is_none() && creditor.is_none() {
        return Ok(());
    }
    x.start("RltdPties", &[])?;
    if let Some(p) = debtor {
        party(x, "Dbtr", "DbtrAcct", "UltmtDbtr", p)?;
    }
    if let Some(p) = creditor {
        party(x, "Cdtr", "CdtrAcct", "UltmtCdtr", p)?;
    }
    x.end("RltdPties")
}

fn party<W: io::Write>(
    x: &mut Xml<W>,
    tag: &str,
    account_tag: &str,
    ultimate_tag: &str,
    p: &Party,
) -> io::Result<()> {
    x.start(tag, &[])?;
    x.start("Pty", &[])?;
    if let Some(name) = p.name.as_deref() {
        x.opt_leaf("Nm", Some(clip(name, 140)))?;
    }
    x.end("Pty")?;
    x.end(tag)?;
    if let Some(account) = p.account.as_ref().filter(|a| !a.is_empty()) {
        x.start(account_tag, &[])?;
        account_id(x, account)?;
        x.end(account_tag)?;
    }
    if let Some(ultimate) = p.ultimate.as_deref().filter(|u| !u.trim().is_empty()) {
        x.start(ultimate_tag, &[])?;
        x.start("Pty", &[])?;
        x.leaf("Nm", clip(ultimate, 140))?;
        x.end("Pty")?;
        x.end(ultimate_tag)?;
    }
    Ok(())
}

fn account_id<W: io::Write>(x: &mut Xml<W>, account: &AccountReference) -> io::Result<()> {
    x.start("Id", &[])?;
    match account.iban.as_ref().filter(|i| i.valid().is_some()) {
        Some(iban) => x.leaf("IBAN", iban.as_str())?,
        None => {
            let other = account
                .iban
                .as_ref()
                .map(|i| i.as_str())
                .or(account.bban.as_deref())
                .or(account.bankgiro.as_deref())
                .or(account.plusgiro.as_deref())
                .or(account.masked_pan.as_deref())
                .unwrap_or_default();
            x.start("Othr", &[])?;
            x.leaf("Id", clip(other, 34))?;
            x.end("Othr")?;
        }
    }
    x.end("Id")
}

fn remittance<W: io::Write>(x: &mut Xml<W>, tx: &Transaction) -> io::Result<()> {
    let lines = unstructured(tx);
    let reference = tx
        .remittance_structured
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if lines.is_empty() && reference.is_none() && tx.remittance_structured_array.is_empty() {
        return Ok(());
    }
    x.start("RmtInf", &[])?;
    for line in lines {
        for piece in chunks(line, 140) {
            x.leaf("Ustrd", piece)?;
        }
    }
    if let Some(reference) = reference {
        x.start("Strd", &[])?;
        if reference.chars().count() <= 35 {
            x.start("CdtrRefInf", &[])?;
            x.leaf("Ref", reference)?;
            x.end("CdtrRefInf")?;
        } else {
            x.leaf("AddtlRmtInf", clip(reference, 140))?;
        }
        x.end("Strd")?;
    }
    for strd in &tx.remittance_structured_array {
        structured(x, strd)?;
    }
    x.end("RmtInf")
}

fn structured<W: io::Write>(x: &mut Xml<W>, s: &StructuredRemittance) -> io::Result<()> {
    x.start("Strd", &[])?;
    for doc in &s.referred_document_information {
        x.start("RfrdDocInf", &[])?;
        if let Some(code) = doc.type_code.as_deref() {
            x.start("Tp", &[])?;
            x.start("CdOrPrtry", &[])?;
            if DOCUMENT_CODES.contains(&code) {
                x.leaf("Cd", code)?;
            } else {
                x.leaf("Prtry", clip(code, 35))?;
            }
            x.end("CdOrPrtry")?;
            x.opt_leaf("Issr", doc.issuer.as_deref().map(|i| clip(i, 35)))?;
            x.end("Tp")?;
        }
        x.opt_leaf("Nb", doc.number.as_deref().map(|n| clip(n, 35)))?;
        if let Some(date) = doc.related_date {
            x.leaf("RltdDt", &date.to_string())?;
        }
        x.end("RfrdDocInf")?;
    }
    if let Some(cref) = &s.creditor_reference_information {
        x.start("CdtrRefInf", &[])?;
        if let Some(code) = cref.type_code.as_deref() {
            x.start("Tp", &[])?;
            x.start("CdOrPrtry", &[])?;
            if CREDITOR_REF_CODES.contains(&code) {
                x.leaf("Cd", code)?;
            } else {
                x.leaf("Prtry", clip(code, 35))?;
            }
            x.end("CdOrPrtry")?;
            x.opt_leaf("Issr", cref.issuer.as_deref().map(|i| clip(i, 35)))?;
            x.end("Tp")?;
        }
        x.opt_leaf("Ref", cref.reference.as_deref().map(|r| clip(r, 35)))?;
        x.end("CdtrRefInf")?;
    }
    for (tag, name) in [("Invcr", &s.invoicer), ("Invcee", &s.invoicee)] {
        if let Some(name) = name.as_deref().filter(|n| !n.trim().is_empty()) {
            x.start(tag, &[])?;
            x.leaf("Nm", clip(name, 140))?;
            x.end(tag)?;
        }
    }
    for line in s.additional_remittance_information.iter().take(3) {
        x.opt_leaf("AddtlRmtInf", Some(clip(line, 140)))?;
    }
    x.end("Strd")
}

fn bank_transaction_code<W: io::Write>(x: &mut Xml<W>, tx: &Transaction) -> io::Result<()> {
    x.start("BkTxCd", &[])?;
    if let Some(code) = &tx.bank_transaction_code {
        let parts: Vec<&str> = code
            .code
            .as_deref()
            .unwrap_or_default()
            .split('-')
            .collect();
        if let [domain, family, sub] = parts[..]
            && [domain, family, sub].iter().all(|p| is_code(p, 4))
        {
            x.start("Domn", &[])?;
            x.leaf("Cd", domain)?;
            x.start("Fmly", &[])?;
            x.leaf("Cd", family)?;
            x.leaf("SubFmlyCd", sub)?;
            x.end("Fmly")?;
            x.end("Domn")?;
        }
        if let Some(prop) = code.proprietary.as_deref().filter(|p| !p.trim().is_empty()) {
            x.start("Prtry", &[])?;
            x.leaf("Cd", clip(prop, 35))?;
            x.end("Prtry")?;
        }
    }
    x.end("BkTxCd")
}

fn date_element<W: io::Write>(
    x: &mut Xml<W>,
    tag: &str,
    date: Option<chrono::NaiveDate>,
) -> io::Result<()> {
    if let Some(date) = date {
        x.start(tag, &[])?;
        x.leaf("Dt", &date.to_string())?;
        x.end(tag)?;
    }
    Ok(())
}

/// Our key as an entry reference: a UUID's 32 hex digits, else the key if it fits 35.
pub(crate) fn key_ref(stored: &StoredTransaction) -> Result<String, ExportError> {
    let key = stored.key.as_str();
    if let Ok(uuid) = uuid::Uuid::parse_str(key) {
        return Ok(uuid.simple().to_string());
    }
    if key.chars().count() <= 35 {
        return Ok(key.to_string());
    }
    Err(ExportError::Invalid {
        field: "transactions.key",
        reason: "neither a UUID nor at most 35 characters".into(),
    })
}

fn indicator(negative: bool) -> &'static str {
    if negative { "DBIT" } else { "CRDT" }
}

fn status_code(status: &TransactionStatus) -> &'static str {
    match status {
        TransactionStatus::Booked => "BOOK",
        TransactionStatus::Pending => "PDNG",
        _ => "INFO",
    }
}

fn currency(code: &str) -> Result<&str, ExportError> {
    if is_currency(code) {
        Ok(code)
    } else {
        Err(ExportError::Invalid {
            field: "transactions.currency",
            reason: "not three upper-case letters".into(),
        })
    }
}

fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_code(code: &str, max: usize) -> bool {
    !code.is_empty() && code.len() <= max && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_iban(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 5
        && b.len() <= 34
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
}
