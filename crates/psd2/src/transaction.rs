//! Transactions of accounts and card accounts.
//!
//! One [`Transaction`] type serves both: card transactions fill [`Transaction::card`]
//! (masked PAN, original amount, merchant, invoiced flag) and leave account-only fields empty.
//! One type keeps downstream code (export, reconciliation) to a single shape.
//!
//! # Size
//!
//! A listing maps hundreds of transactions per page, so [`Transaction`] is kept compact
//! (no larger than the raw transaction it is mapped from): parts most transactions do not
//! have (card details, the aggregate entry, a party's postal address) are boxed, and the
//! listing's own account is shared by all its transactions ([`Transaction::account`] is an
//! [`Arc`]). A page of domain transactions then takes a third less memory to write, move
//! and drop.

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::account::AccountReference;
use crate::balance::Balance;
use crate::macros::bank_enum;
use crate::money::{Currency, Money};

pub use crate::entry::{EntryError, TransactionPage};

/// A bank's id for a transaction; may change until the transaction is booked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TransactionId(String);

impl TransactionId {
    /// Wraps a bank's transaction id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as the bank sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for TransactionId {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

bank_enum! {
    /// Whether a transaction is booked or still pending.
    pub enum TransactionStatus {
        /// Booked on the account.
        Booked = "booked",
        /// Reserved or not yet booked.
        Pending = "pending",
        /// Information only (e.g. standing orders), not a movement.
        Information = "information",
    }
}

/// Which transactions a listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BookingStatus {
    /// Booked transactions only.
    #[default]
    Booked,
    /// Pending transactions only.
    Pending,
    /// Booked and pending.
    Both,
}

impl BookingStatus {
    /// The Berlin Group query value (`booked`, `pending`, `both`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Pending => "pending",
            Self::Both => "both",
        }
    }
}

/// A postal address of a party.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Address {
    /// Street name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// Building number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_number: Option<String>,
    /// Town or city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The creditor or debtor side of a transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Party {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Account (None when the bank sent an empty reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountReference>,
    /// The party's bank (BIC), e.g. `creditorAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The party's bank name, e.g. `creditorAgentName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// Postal address (boxed: rarely sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Box<Address>>,
    /// Ultimate creditor or debtor (the party on whose behalf the payment was made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ultimate: Option<String>,
    /// Creditor identifier (SEPA direct debit), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Party {
    /// Whether nothing is known about the party.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// ISO 20022 structured remittance information (one entry of `remittanceInformationStructuredArray`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StructuredRemittance {
    /// The documents (invoices, credit notes) the payment refers to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referred_document_information: Vec<ReferredDocument>,
    /// Amounts of the referred document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_document_amount: Option<ReferredDocumentAmount>,
    /// A creditor reference (e.g. an RF/OCR reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor_reference_information: Option<CreditorReference>,
    /// The invoicer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoicer: Option<String>,
    /// The invoicee's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoicee: Option<String>,
    /// Free text lines attached to this remittance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_remittance_information: Vec<String>,
}

/// A referred document: type code (e.g. `CINV` invoice, `CREN` credit note), number and date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ReferredDocument {
    /// ISO 20022 document type code, e.g. `CINV`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    /// Issuer of a proprietary type code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Document number, e.g. `INV-12345`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Document date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_date: Option<NaiveDate>,
}

/// Amounts of a referred document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ReferredDocumentAmount {
    /// Amount remitted for the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remitted_amount: Option<Money>,
    /// Amount due and payable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_payable_amount: Option<Money>,
    /// Discount applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_applied_amount: Option<Money>,
    /// Credit note amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_note_amount: Option<Money>,
    /// Tax amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<Money>,
}

/// A creditor reference, e.g. `{type: "SCOR", reference: "RF18539007547034"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreditorReference {
    /// Reference type code, e.g. `SCOR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    /// Issuer of the reference type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A currency conversion applied to a transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CurrencyExchange {
    /// Currency converted from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_currency: Option<Currency>,
    /// Currency converted to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_currency: Option<Currency>,
    /// Currency the rate is quoted in units of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_currency: Option<Currency>,
    /// The exchange rate, exact.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_decimal"
    )]
    pub rate: Option<Decimal>,
    /// The amount in the target currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_amount: Option<Money>,
    /// The exchange fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Money>,
    /// Date of the quotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotation_date: Option<NaiveDate>,
    /// Contract id of a pre-agreed rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<String>,
}

mod optional_decimal {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => crate::money::serialize_amount(d, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        crate::money::deserialize_amount(d).map(Some)
    }
}

/// Serde for `Option<Arc<T>>` as for `Option<T>` (serde's own impl needs its `rc` feature).
mod optional_shared {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Arc<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_deref().serialize(s)
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<T>>, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map(Arc::new))
    }
}

/// ISO 20022 bank transaction code (domain / family / sub-family), as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BankTransactionCode {
    /// The standard code, e.g. `PMNT-RCDT-ESCT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The bank's proprietary code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proprietary: Option<String>,
    /// Text for the proprietary code (e.g. `Transfer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proprietary_text: Option<String>,
}

/// Card-specific details of a card transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CardDetails {
    /// The card's id for this transaction (`cardTransactionId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_transaction_id: Option<String>,
    /// The masked card number used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked_pan: Option<String>,
    /// The amount in the merchant's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_amount: Option<Money>,
    /// Markup fee for foreign currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markup_fee: Option<Money>,
    /// Merchant (card acceptor) name or transaction details text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
    /// Merchant category code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_category_code: Option<String>,
    /// Terminal id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
    /// Whether the transaction is already on an invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoiced: Option<bool>,
}

/// A fee charged for a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TransactionFee {
    /// The bank's kind of fee, as sent (Open Payments `type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_type: Option<String>,
    /// The amount charged.
    pub amount: Money,
}

impl TransactionFee {
    /// A fee of `amount` of the kind `fee_type`.
    pub fn new(amount: Money, fee_type: Option<String>) -> Self {
        Self { fee_type, amount }
    }
}

/// The aggregate (bulk) entry a transaction belongs to: several payments the bank booked as
/// one entry on the account, e.g. a batch of payouts (Open Payments `aggregate*` fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TransactionAggregate {
    /// The bank's id of the aggregate entry (`aggregateTransactionId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The aggregate entry's total, signed like [`Transaction::amount`] and in the
    /// transaction's currency (`aggregateAmount` comes without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The aggregate entry's unstructured remittance text
    /// (`aggregateRemittanceInformationUnstructured`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_unstructured: Option<String>,
}

impl TransactionAggregate {
    /// Whether nothing is known about the aggregate.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One transaction of an account or card account.
///
/// `amount` is signed: negative is money going out of the reported account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Transaction {
    /// Booked, pending, or other.
    pub status: TransactionStatus,
    /// The amount, signed.
    pub amount: Money,
    /// The bank's id (may be missing for pending transactions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<TransactionId>,
    /// The bank's entry reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_reference: Option<String>,
    /// End-to-end id of the payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    /// Booking date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<NaiveDate>,
    /// Value date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_date: Option<NaiveDate>,
    /// Date the transaction happened (card purchases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_date: Option<NaiveDate>,
    /// The receiving side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor: Option<Party>,
    /// The paying side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor: Option<Party>,
    /// Unstructured remittance text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_unstructured: Option<String>,
    /// Enriched unstructured remittance lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remittance_unstructured_array: Vec<String>,
    /// Structured remittance reference (e.g. OCR or invoice number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_structured: Option<String>,
    /// Enriched structured remittance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remittance_structured_array: Vec<StructuredRemittance>,
    /// The account balance right after this transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_after: Option<Balance>,
    /// Currency conversions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub currency_exchange: Vec<CurrencyExchange>,
    /// Bank transaction code and proprietary code/text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_transaction_code: Option<BankTransactionCode>,
    /// ISO 20022 purpose code, e.g. `SALA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose_code: Option<String>,
    /// Additional information from the bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_information: Option<String>,
    /// Fees charged for the transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fees: Vec<TransactionFee>,
    /// Whether the bank enriched the remittance data (Open Payments `isEnriched`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enriched: Option<bool>,
    /// The payment's id at the bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// Payment service reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_service_reference: Option<String>,
    /// Relative href of the transaction details (`_links.transactionDetails`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details_href: Option<String>,
    /// Relative href of a proof-of-payment document (`_links.proofOfPayment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_of_payment_href: Option<String>,
    /// Card details, for card transactions (boxed: account transactions have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Box<CardDetails>>,
    /// The bulk entry this transaction is part of, if the bank groups it into one (boxed:
    /// rarely set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Box<TransactionAggregate>>,
    /// Whether the payment went to an alias (e.g. a Swish number) rather than to an
    /// account number (Open Payments `isAliasPayout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_alias_payout: Option<bool>,
    /// The account the transaction was reported on, as the listing named it (the
    /// report's own `account` reference), when the bank sends one. Shared by all the
    /// transactions of the listing (cloning a transaction does not copy it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_shared"
    )]
    pub account: Option<Arc<AccountReference>>,
}

impl Transaction {
    /// A transaction with only status and amount; set the other fields directly.
    pub fn new(status: TransactionStatus, amount: Money) -> Self {
        Self {
            status,
            amount,
            transaction_id: None,
            entry_reference: None,
            end_to_end_id: None,
            booking_date: None,
            value_date: None,
            transaction_date: None,
            creditor: None,
            debtor: None,
            remittance_unstructured: None,
            remittance_unstructured_array: Vec::new(),
            remittance_structured: None,
            remittance_structured_array: Vec::new(),
            balance_after: None,
            currency_exchange: Vec::new(),
            bank_transaction_code: None,
            purpose_code: None,
            additional_information: None,
            fees: Vec::new(),
            is_enriched: None,
            payment_id: None,
            payment_service_reference: None,
            details_href: None,
            proof_of_payment_href: None,
            card: None,
            aggregate: None,
            is_alias_payout: None,
            account: None,
        }
    }

    /// Overwrites this (list) transaction with every field the details call returned, as
    /// Open Payments asks: a field set in `details` wins, an unset one keeps the list value.
    pub fn merge_details(&mut self, details: Transaction) {
        macro_rules! take_opt {
            ($($f:ident),*) => { $( if details.$f.is_some() { self.$f = details.$f; } )* };
        }
        macro_rules! take_vec {
            ($($f:ident),*) => { $( if !details.$f.is_empty() { self.$f = details.$f; } )* };
        }
        self.status = details.status;
        self.amount = details.amount;
        take_opt!(
            transaction_id,
            entry_reference,
            end_to_end_id,
            booking_date,
            value_date,
            transaction_date,
            creditor,
            debtor,
            remittance_unstructured,
            remittance_structured,
            balance_after,
            bank_transaction_code,
            purpose_code,
            additional_information,
            is_enriched,
            payment_id,
            payment_service_reference,
            details_href,
            proof_of_payment_href,
            card,
            aggregate,
            is_alias_payout,
            account
        );
        take_vec!(
            remittance_unstructured_array,
            remittance_structured_array,
            currency_exchange,
            fees
        );
    }
}

mod listing;

pub use listing::ListedPage;
#[cfg(feature = "adapters")]
pub(crate) use listing::{
    decode_entry, entry_bank_id, listing_list, listing_root, under, under_index,
};

/// What a transaction listing asks for. The adapters send these on every page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TransactionQuery {
    /// First booking date (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_from: Option<NaiveDate>,
    /// Last booking date (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_to: Option<NaiveDate>,
    /// Booked, pending or both.
    #[serde(default)]
    pub booking_status: BookingStatus,
    /// Whether the listing may request the next page while the current one is still being
    /// read (see [`TransactionQuery::read_ahead`]); `None` (the default): only when the PSU
    /// is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_ahead: Option<bool>,
}

impl TransactionQuery {
    /// A query for `booking_status` transactions between two optional dates.
    pub fn new(
        date_from: Option<NaiveDate>,
        date_to: Option<NaiveDate>,
        booking_status: BookingStatus,
    ) -> Self {
        Self {
            date_from,
            date_to,
            booking_status,
            read_ahead: None,
        }
    }

    /// Sets whether the listing reads ahead: requests the next page as soon as the current
    /// page's next link is known, while the current page is decoded and used.
    ///
    /// By default an adapter that can read ahead does so only when the PSU is present (it
    /// sends `PSU-IP-Address`), because such calls do not count against the consent's
    /// `frequencyPerDay`; for an absent PSU every page is a call of the day's budget, so it
    /// reads ahead only when asked with `read_ahead(true)`. A consumer that stops before the
    /// end of a listing that reads ahead may have caused one more call than it used (the
    /// page after the one it stopped in). `read_ahead(false)` never requests a page before
    /// the consumer has used up the one before.
    ///
    /// The request ahead is sent and read while the consumer polls the listing (it asks for
    /// its next entry); a consumer that holds an entry and awaits something else meanwhile
    /// holds the request up with it.
    pub fn read_ahead(mut self, read_ahead: bool) -> Self {
        self.read_ahead = Some(read_ahead);
        self
    }

    /// Whether a listing of this query reads ahead for a PSU that is present (`psu_present`:
    /// `PSU-IP-Address` is sent) or not: as set by [`TransactionQuery::read_ahead`], else
    /// only when present.
    pub fn reads_ahead(&self, psu_present: bool) -> bool {
        self.read_ahead.unwrap_or(psu_present)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::IbanOrRaw;

    fn seed_like() -> Transaction {
        let mut t = Transaction::new(
            TransactionStatus::Booked,
            Money::parse("-1250.00", "SEK").unwrap(),
        );
        t.transaction_id = Some(TransactionId::new("0b1b498d"));
        t.entry_reference = Some("LBE1234-5678-0000001".into());
        t.booking_date = NaiveDate::from_ymd_opt(2025, 4, 22);
        t.creditor = Some(Party {
            name: Some("Merchant 123".into()),
            account: Some(AccountReference {
                bankgiro: Some("12345678".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        t.remittance_structured_array = vec![StructuredRemittance {
            referred_document_information: vec![ReferredDocument {
                type_code: Some("CINV".into()),
                number: Some("INV-12345".into()),
                ..Default::default()
            }],
            referred_document_amount: Some(ReferredDocumentAmount {
                remitted_amount: Some(Money::parse("1250.00", "SEK").unwrap()),
                ..Default::default()
            }),
            ..Default::default()
        }];
        t.currency_exchange = vec![CurrencyExchange {
            rate: Some(Decimal::new(7683, 5)),
            target_currency: Some(Currency::GBP),
            ..Default::default()
        }];
        t
    }

    #[test]
    fn json_round_trip() {
        let t = seed_like();
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["amount"]["amount"], "-1250.00");
        assert_eq!(json["status"], "booked");
        assert_eq!(json["currencyExchange"][0]["rate"], "0.07683");
        assert_eq!(
            json["remittanceStructuredArray"][0]["referredDocumentInformation"][0]["typeCode"],
            "CINV"
        );
        let back: Transaction = serde_json::from_value(json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn boxed_and_shared_parts_serialize_as_plain_values() {
        let mut t = seed_like();
        t.card = Some(Box::new(CardDetails {
            masked_pan: Some("123456******1234".into()),
            ..Default::default()
        }));
        t.aggregate = Some(Box::new(TransactionAggregate {
            id: Some("agg-1".into()),
            ..Default::default()
        }));
        if let Some(creditor) = t.creditor.as_mut() {
            creditor.address = Some(Box::new(Address {
                town: Some("Stockholm".into()),
                ..Default::default()
            }));
        }
        let account = Arc::new(AccountReference {
            iban: Some(IbanOrRaw::parse("SE4550000000058398257466")),
            ..Default::default()
        });
        t.account = Some(Arc::clone(&account));
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["card"]["maskedPan"], "123456******1234");
        assert_eq!(json["aggregate"]["id"], "agg-1");
        assert_eq!(json["creditor"]["address"]["town"], "Stockholm");
        assert_eq!(json["account"]["iban"], "SE4550000000058398257466");
        let back: Transaction = serde_json::from_value(json).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.account.as_deref(), Some(&*account));
        // No account: the field is left out and reads back as none.
        t.account = None;
        let json = serde_json::to_value(&t).unwrap();
        assert!(json.get("account").is_none());
        assert_eq!(
            serde_json::from_value::<Transaction>(json).unwrap().account,
            None
        );
    }

    #[test]
    fn merge_details_overwrites_only_given_fields() {
        let mut list = seed_like();
        let mut details = Transaction::new(
            TransactionStatus::Booked,
            Money::parse("-1250.000", "SEK").unwrap(),
        );
        details.purpose_code = Some("OTHR".into());
        details.creditor = Some(Party {
            account: Some(AccountReference {
                iban: Some(IbanOrRaw::parse("GB1234567890001")),
                ..Default::default()
            }),
            ..Default::default()
        });
        list.merge_details(details);
        assert_eq!(list.amount.amount.scale(), 3);
        assert_eq!(list.purpose_code.as_deref(), Some("OTHR"));
        assert_eq!(
            list.entry_reference.as_deref(),
            Some("LBE1234-5678-0000001")
        );
        assert!(list.creditor.as_ref().unwrap().name.is_none());
        assert_eq!(list.remittance_structured_array.len(), 1);
    }

    #[test]
    fn status_codes() {
        assert_eq!(
            TransactionStatus::from_bank_str("BOOKED"),
            TransactionStatus::Booked
        );
        assert_eq!(
            TransactionStatus::from_bank_str("reserved"),
            TransactionStatus::Other("reserved".into())
        );
        assert_eq!(BookingStatus::Both.as_str(), "both");
        assert_eq!(
            serde_json::to_string(&BookingStatus::Pending).unwrap(),
            "\"pending\""
        );
    }

    #[test]
    fn read_ahead_defaults_to_a_present_psu_and_is_stored_only_when_set() {
        let query = TransactionQuery::new(None, None, BookingStatus::Both);
        assert!(query.reads_ahead(true));
        assert!(!query.reads_ahead(false));
        assert_eq!(
            serde_json::to_value(&query).unwrap(),
            serde_json::json!({"bookingStatus": "both"}),
            "a stored query without the setting is as before"
        );
        let always = query.clone().read_ahead(true);
        assert!(always.reads_ahead(false));
        let never = query.read_ahead(false);
        assert!(!never.reads_ahead(true));
        assert_eq!(
            serde_json::to_value(&never).unwrap(),
            serde_json::json!({"bookingStatus": "both", "readAhead": false})
        );
        let back: TransactionQuery =
            serde_json::from_value(serde_json::json!({"bookingStatus": "both", "readAhead": true}))
                .unwrap();
        assert_eq!(back, always);
    }
}
