//! Plain conversions from `psd2-raw-openpayments` types into the domain model.
//!
//! Code-list fields (balance types, statuses, cash account types, usage) never fail: unknown
//! values become `Other(text)`. Money is parsed exactly from the bank's decimal strings and
//! keeps its scale. A value that cannot be represented (an amount that is not a decimal, a
//! currency that is not three letters) fails with a [`MappingError`] naming the field; the
//! adapter turns it into [`ErrorKind::UnexpectedResponse`](crate::ErrorKind).
//!
//! Signs: amounts are signed as sent (Berlin Group: negative is money out of the account);
//! this API has no separate direction field that could contradict the sign, so nothing is
//! inferred or flipped.
//!
//! Every field of the seed 003 examples has a home (pinned by `tests/openpayments_mapping.rs`):
//! account `paymentsEnabled` → [`Account::payments_enabled`],
//! `lastTransactionEnrichmentDateTime(Utc)` → [`Account::enrichment`], `_links` →
//! [`Account::links`]; transaction `aggregate*` → [`Transaction::aggregate`] (the
//! `aggregateAmount` takes the transaction's currency), `isAliasPayout` →
//! [`Transaction::is_alias_payout`], fees with their `type` → [`Transaction::fees`]; the
//! page's `account` → [`Transaction::account`] of each entry and the page's `_links` →
//! [`ListedPage::links`](crate::transaction::ListedPage::links); the consent's `scaMethods` → [`CreatedConsent::sca_methods`]
//! and its `_links` → [`CreatedConsent::links`] (consent id hidden, see [`crate::link`]).
//!
//! [`MappingError`]: crate::EntryError
//! [`Account::payments_enabled`]: crate::Account::payments_enabled
//! [`Account::enrichment`]: crate::Account::enrichment
//! [`Account::links`]: crate::Account::links
//! [`Transaction::aggregate`]: crate::Transaction::aggregate
//! [`Transaction::is_alias_payout`]: crate::Transaction::is_alias_payout
//! [`Transaction::fees`]: crate::Transaction::fees
//! [`Transaction::account`]: crate::Transaction::account
//! [`CreatedConsent::sca_methods`]: crate::CreatedConsent::sca_methods
//! [`CreatedConsent::links`]: crate::CreatedConsent::links

use std::sync::Arc;

use iban::Iban;
use psd2_raw_openpayments::types as raw;

use crate::account::{
    Account, AccountId, AccountReference, AccountStatus, AccountUsage, CashAccountType, Enrichment,
    IbanOrRaw,
};
use crate::adapters::common::{FromRaw, TryFromRaw};
use crate::api::CreatedConsent;
use crate::balance::{Balance, BalanceType};
use crate::consent::{Consent, ConsentId, ConsentRequest, ConsentScope, ConsentStatus};
use crate::error::Error;
use crate::link::{Link, Links};
use crate::money::{Currency, Money, MoneyError, parse_decimal};
use crate::sca::{AuthenticationType, OfferedScaMethod, ScaApproach, ScaStatus};
use crate::transaction::{
    Address, BankTransactionCode, CreditorReference, CurrencyExchange, Party, ReferredDocument,
    ReferredDocumentAmount, StructuredRemittance, Transaction, TransactionAggregate,
    TransactionFee, TransactionId, TransactionStatus, under, under_index,
};

use super::BANK;

/// The mapping error of this adapter: the field path (relative to the value mapped, or the
/// whole answer for listings) and the value's shape, never the value.
pub use crate::entry::EntryError as MappingError;

fn money_error(field: &str, error: MoneyError) -> MappingError {
    MappingError::new(field, error.to_string()).with_value(error.text())
}

fn missing(field: &str) -> MappingError {
    MappingError::new(field, "missing")
}

#[inline(always)]
fn money(field: &str, amount: &raw::Amount) -> Result<Money, MappingError> {
    Money::parse(&amount.amount, &amount.currency).map_err(|e| amount_error(field, e))
}

/// A bad `{amount, currency}` object: the error names the member that is wrong.
#[cold]
fn amount_error(field: &str, error: MoneyError) -> MappingError {
    let member = match error {
        MoneyError::BadCurrency { .. } => "currency",
        _ => "amount",
    };
    money_error(&crate::error::join_path(field, member), error)
}

fn opt_money(field: &str, amount: Option<&raw::Amount>) -> Result<Option<Money>, MappingError> {
    amount.map(|a| money(field, a)).transpose()
}

fn currency(field: &str, code: Option<&String>) -> Result<Option<Currency>, MappingError> {
    code.map(|c| Currency::new(c).map_err(|e| money_error(field, e)))
        .transpose()
}

/// Money from a decimal string and a currency given in two separate fields.
fn split_money(
    field: &str,
    amount: Option<&String>,
    currency: Option<&String>,
) -> Result<Option<Money>, MappingError> {
    match (amount, currency) {
        (None, _) => Ok(None),
        (Some(amount), Some(currency)) => Money::parse(amount, currency)
            .map(Some)
            .map_err(|e| money_error(field, e)),
        (Some(_), None) => Err(MappingError::new(field, "an amount without a currency")),
    }
}

fn non_empty(text: Option<&String>) -> Option<String> {
    text.filter(|t| !t.is_empty()).cloned()
}

/// `text` unless it is empty, without copying it.
fn filled(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.is_empty())
}

/// Adds `name → href` to `links` when the bank sent the link.
fn add_link(links: &mut Links, name: &str, href: Option<&raw::Href>) {
    if let Some(href) = href {
        links.insert(name.to_owned(), Link::new(href.href.clone()));
    }
}

impl TryFromRaw<&raw::Balance> for Balance {
    type Error = MappingError;

    fn try_from_raw(b: &raw::Balance) -> Result<Self, Self::Error> {
        let mut balance = Balance::new(
            BalanceType::from_bank_str(&b.balance_type.0),
            money("balanceAmount", &b.balance_amount)?,
        );
        balance.credit_limit_included = b.credit_limit_included;
        balance.reference_date = b.reference_date;
        balance.last_change = b.last_change_date_time;
        Ok(balance)
    }
}

/// Maps a list of balances.
pub fn balances(list: &[raw::Balance]) -> Result<Vec<Balance>, MappingError> {
    list.iter()
        .enumerate()
        .map(|(i, b)| Balance::try_from_raw(b).map_err(|e| under_index(e, "balances", i)))
        .collect()
}

impl TryFromRaw<&raw::AccountDetails> for Account {
    type Error = MappingError;

    fn try_from_raw(a: &raw::AccountDetails) -> Result<Self, Self::Error> {
        let mut account = Account::new(AccountId::new(a.resource_id.clone()));
        account.iban = a
            .iban
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(IbanOrRaw::parse);
        account.bban = non_empty(a.bban.as_ref());
        account.bankgiro = non_empty(a.bankgiro_number.as_ref());
        account.currency = currency("currency", a.currency.as_ref())?;
        account.name = a.name.clone();
        account.product = a.product.clone();
        account.owner_name = a.owner_name.clone();
        account.cash_account_type = a
            .cash_account_type
            .as_deref()
            .map(CashAccountType::from_bank_str);
        account.status = a.status.as_deref().map(AccountStatus::from_bank_str);
        account.usage = a.usage.as_deref().map(AccountUsage::from_bank_str);
        account.bic = a.bic.clone();
        account.credit_limit = opt_money("creditLimit", a.credit_limit.as_ref())?;
        account.balances = balances(&a.balances)?;
        account.payments_enabled = a.payments_enabled;
        account.enrichment = Enrichment::from_times(
            a.last_transaction_enrichment_date_time.clone(),
            a.last_transaction_enrichment_date_time_utc,
        );
        if let Some(links) = &a.links {
            add_link(&mut account.links, "balances", links.balances.as_ref());
            add_link(
                &mut account.links,
                "transactions",
                links.transactions.as_ref(),
            );
        }
        Ok(account)
    }
}

/// The account list; an error names the account (`accounts[2].balances[0].balanceAmount`).
pub fn accounts(list: &raw::AccountList) -> Result<Vec<Account>, MappingError> {
    list.accounts
        .iter()
        .enumerate()
        .map(|(i, a)| Account::try_from_raw(a).map_err(|e| under_index(e, "accounts", i)))
        .collect()
}

/// The IBANs already validated while mapping one answer.
///
/// A listing names the reported account on every entry (as debtor or creditor) and often
/// the same counterparties again; validating an IBAN (format, checksum, country pattern)
/// costs far more than comparing its text with a few remembered ones. Only an exact text
/// match is reused, so the result is always what [`IbanOrRaw::parse`] gives for the text.
#[derive(Debug, Default)]
struct IbanCache {
    /// The text as sent, and its IBAN when it validated (`None`: kept raw).
    seen: Vec<(String, Option<Iban>)>,
}

impl IbanCache {
    /// How many texts are remembered: the first ones stay (the reported account comes
    /// first), the last slot takes each further new text.
    const SIZE: usize = 4;

    /// [`IbanOrRaw::parse`] of `text`, reusing an earlier result for the same text.
    #[inline]
    fn parse(&mut self, text: String) -> IbanOrRaw {
        // IBANs of one country share their start: compare the last byte first.
        let last = text.as_bytes().last();
        if let Some((_, known)) = self
            .seen
            .iter()
            .find(|(seen, _)| seen.as_bytes().last() == last && *seen == text)
        {
            return match known {
                Some(iban) => IbanOrRaw::Valid(*iban),
                None => IbanOrRaw::Raw(text),
            };
        }
        self.parse_new(text)
    }

    /// [`IbanOrRaw::parse`] of a text not seen yet, remembered for the next ones.
    #[inline(never)]
    fn parse_new(&mut self, text: String) -> IbanOrRaw {
        let parsed = IbanOrRaw::parse(&text);
        let entry = (text, parsed.valid().copied());
        if self.seen.len() < Self::SIZE {
            self.seen.push(entry);
        } else if let Some(last) = self.seen.last_mut() {
            *last = entry;
        }
        parsed
    }
}

/// An account reference, its IBAN validated through `ibans`.
fn account_reference(
    r: raw::AccountReference,
    ibans: &mut IbanCache,
) -> Result<AccountReference, MappingError> {
    Ok(AccountReference {
        iban: r.iban.filter(|t| !t.is_empty()).map(|t| ibans.parse(t)),
        bban: filled(r.bban),
        bankgiro: filled(r.bankgiro_number),
        plusgiro: filled(r.plusgiro_number),
        masked_pan: None,
        currency: currency("currency", r.currency.as_ref())?,
    })
}

impl TryFromRaw<raw::AccountReference> for AccountReference {
    type Error = MappingError;

    fn try_from_raw(r: raw::AccountReference) -> Result<Self, Self::Error> {
        account_reference(r, &mut IbanCache::default())
    }
}

impl TryFromRaw<&raw::AccountReference> for AccountReference {
    type Error = MappingError;

    fn try_from_raw(r: &raw::AccountReference) -> Result<Self, Self::Error> {
        Self::try_from_raw(r.clone())
    }
}

/// An account reference, or `None` for the empty object banks send for "no account" (as
/// [`account_reference`] then `AccountReference::is_empty` without a currency, without
/// building the empty reference first).
#[inline(always)]
fn reference(
    r: Option<raw::AccountReference>,
    ibans: &mut IbanCache,
) -> Result<Option<AccountReference>, MappingError> {
    let Some(r) = r else { return Ok(None) };
    let currency = currency("currency", r.currency.as_ref())?;
    let iban = r.iban.filter(|t| !t.is_empty()).map(|t| ibans.parse(t));
    let bban = filled(r.bban);
    let bankgiro = filled(r.bankgiro_number);
    let plusgiro = filled(r.plusgiro_number);
    if iban.is_none()
        && bban.is_none()
        && bankgiro.is_none()
        && plusgiro.is_none()
        && currency.is_none()
    {
        return Ok(None);
    }
    Ok(Some(AccountReference {
        iban,
        bban,
        bankgiro,
        plusgiro,
        masked_pan: None,
        currency,
    }))
}

impl FromRaw<raw::Address> for Address {
    fn from_raw(a: raw::Address) -> Self {
        Address {
            street: a.street,
            building_number: a.building_number,
            town: a.city,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

impl FromRaw<&raw::Address> for Address {
    fn from_raw(a: &raw::Address) -> Self {
        Self::from_raw(a.clone())
    }
}

/// A party, or `None` when the bank sent nothing about it.
#[inline(always)]
fn party(
    name: Option<String>,
    account: Option<AccountReference>,
    agent: Option<String>,
    agent_name: Option<String>,
    address: Option<raw::Address>,
    ultimate: Option<String>,
) -> Option<Party> {
    // As `Party::is_empty`, without building the party first.
    if name.is_none()
        && account.is_none()
        && agent.is_none()
        && agent_name.is_none()
        && address.is_none()
        && ultimate.is_none()
    {
        return None;
    }
    Some(Party {
        name,
        account,
        agent,
        agent_name,
        address: address.map(|a| Box::new(Address::from_raw(a))),
        ultimate,
        id: None,
    })
}

impl TryFromRaw<&raw::CurrencyExchange> for CurrencyExchange {
    type Error = MappingError;

    fn try_from_raw(x: &raw::CurrencyExchange) -> Result<Self, Self::Error> {
        Ok(CurrencyExchange {
            source_currency: currency("sourceCurrency", x.source_currency.as_ref())?,
            target_currency: currency("targetCurrency", x.target_currency.as_ref())?,
            unit_currency: currency("unitCurrency", x.unit_currency.as_ref())?,
            rate: x
                .exchange_rate
                .as_deref()
                .map(parse_decimal)
                .transpose()
                .map_err(|e| money_error("exchangeRate", e))?,
            target_amount: split_money(
                "targetAmount",
                x.target_amount.as_ref(),
                x.target_currency.as_ref(),
            )?,
            fee: split_money(
                "exchangeFeeAmount",
                x.exchange_fee_amount.as_ref(),
                x.exchange_fee_currency.as_ref(),
            )?,
            quotation_date: x.quotation_date,
            contract_id: None,
        })
    }
}

impl TryFromRaw<raw::StructuredRemittanceInformation> for StructuredRemittance {
    type Error = MappingError;

    fn try_from_raw(s: raw::StructuredRemittanceInformation) -> Result<Self, Self::Error> {
        let amounts = s
            .referred_document_amount
            .as_ref()
            .map(|a| -> Result<ReferredDocumentAmount, MappingError> {
                Ok(ReferredDocumentAmount {
                    remitted_amount: opt_money(
                        "referredDocumentAmount.remittedAmount",
                        a.remitted_amount.as_ref(),
                    )?,
                    due_payable_amount: opt_money(
                        "referredDocumentAmount.duePayableAmount",
                        a.due_payable_amount.as_ref(),
                    )?,
                    discount_applied_amount: opt_money(
                        "referredDocumentAmount.discountAppliedAmount",
                        a.discount_applied_amount.as_ref(),
                    )?,
                    credit_note_amount: opt_money(
                        "referredDocumentAmount.creditNoteAmount",
                        a.credit_note_amount.as_ref(),
                    )?,
                    tax_amount: opt_money(
                        "referredDocumentAmount.taxAmount",
                        a.tax_amount.as_ref(),
                    )?,
                })
            })
            .transpose()?;
        Ok(StructuredRemittance {
            referred_document_information: s
                .referred_document_information
                .into_iter()
                .map(|d| ReferredDocument {
                    type_code: d.type_code,
                    issuer: None,
                    number: d.number,
                    related_date: d.related_date,
                })
                .collect(),
            referred_document_amount: amounts,
            creditor_reference_information: s.creditor_reference_information.map(|c| {
                CreditorReference {
                    type_code: c.type_code,
                    issuer: c.issuer,
                    reference: c.reference,
                }
            }),
            invoicer: None,
            invoicee: None,
            additional_remittance_information: s.additional_remittance_information,
        })
    }
}

impl TryFromRaw<&raw::StructuredRemittanceInformation> for StructuredRemittance {
    type Error = MappingError;

    fn try_from_raw(s: &raw::StructuredRemittanceInformation) -> Result<Self, Self::Error> {
        Self::try_from_raw(s.clone())
    }
}

fn fee(f: raw::TransactionFee) -> Result<TransactionFee, MappingError> {
    let amount = split_money("amount", f.amount.as_ref(), f.currency.as_ref())?
        .ok_or_else(|| missing("amount"))?;
    Ok(TransactionFee::new(amount, filled(f.type_)))
}

/// The aggregate entry of a transaction; `aggregateAmount` has no currency of its own, so
/// it takes the transaction amount's.
fn aggregate(
    total: Option<&str>,
    id: Option<String>,
    remittance_unstructured: Option<String>,
    amount: &Money,
) -> Result<Option<Box<TransactionAggregate>>, MappingError> {
    let total = total
        .map(|text| {
            parse_decimal(text)
                .map(|value| Money::new(value, amount.currency))
                .map_err(|e| money_error("aggregateAmount", e))
        })
        .transpose()?;
    let aggregate = TransactionAggregate {
        id: filled(id),
        amount: total,
        remittance_unstructured: filled(remittance_unstructured),
    };
    Ok((!aggregate.is_empty()).then(|| Box::new(aggregate)))
}

/// The bank transaction code, or `None` when none of its parts was sent.
fn bank_transaction_code(
    code: Option<String>,
    proprietary: Option<String>,
    proprietary_text: Option<String>,
) -> Option<BankTransactionCode> {
    if code.is_none() && proprietary.is_none() && proprietary_text.is_none() {
        return None;
    }
    Some(BankTransactionCode {
        code,
        proprietary,
        proprietary_text,
    })
}

/// Maps every entry of `list` (named `name` in the answer), stopping at the first error,
/// whose path then names the element (`name[i].field`). Most lists are empty.
fn map_list<T, U>(
    list: Vec<T>,
    name: &str,
    mut map: impl FnMut(T) -> Result<U, MappingError>,
) -> Result<Vec<U>, MappingError> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    list.into_iter()
        .enumerate()
        .map(|(i, item)| map(item).map_err(|e| under_index(e, name, i)))
        .collect()
}

/// Maps one transaction with the status of its list, taking its text out of `t` (no
/// copies; `t` is left with what the domain does not keep); IBANs go through `ibans`.
/// Fallible parts are mapped first, in the order of the domain type, so the first
/// unmappable field is the one reported. Inlined into the page loop: the parties, account
/// references and amounts are then built in registers and in place instead of being
/// moved between calls.
#[inline(always)]
fn map_transaction(
    t: &mut raw::Transaction,
    status: TransactionStatus,
    ibans: &mut IbanCache,
    account: Option<&Arc<AccountReference>>,
) -> Result<Transaction, MappingError> {
    let amount = money("transactionAmount", &t.transaction_amount)?;
    let creditor_account =
        reference(t.creditor_account.take(), ibans).map_err(|e| under(e, "creditorAccount"))?;
    let debtor_account =
        reference(t.debtor_account.take(), ibans).map_err(|e| under(e, "debtorAccount"))?;
    let remittance_structured_array = map_list(
        std::mem::take(&mut t.remittance_information_structured_array),
        "remittanceInformationStructuredArray",
        StructuredRemittance::try_from_raw,
    )?;
    let balance_after = t
        .balance_after_transaction
        .as_ref()
        .map(Balance::try_from_raw)
        .transpose()
        .map_err(|e| under(e, "balanceAfterTransaction"))?;
    let currency_exchange = map_list(
        std::mem::take(&mut t.currency_exchange),
        "currencyExchange",
        |x| CurrencyExchange::try_from_raw(&x),
    )?;
    let fees = map_list(
        std::mem::take(&mut t.transaction_fees),
        "transactionFees",
        fee,
    )?;
    let aggregate = aggregate(
        t.aggregate_amount.as_deref(),
        t.aggregate_transaction_id.take(),
        t.aggregate_remittance_information_unstructured.take(),
        &amount,
    )?;
    let (details_href, proof_of_payment_href) = match t.links.take() {
        Some(links) => (
            links.transaction_details.map(|h| h.href),
            links.proof_of_payment.map(|h| h.href),
        ),
        None => (None, None),
    };
    Ok(Transaction {
        status,
        amount,
        transaction_id: t
            .transaction_id
            .take()
            .filter(|id| !id.is_empty())
            .map(TransactionId::new),
        entry_reference: t.entry_reference.take(),
        end_to_end_id: None,
        booking_date: t.booking_date,
        value_date: t.value_date,
        transaction_date: None,
        creditor: party(
            t.creditor_name.take(),
            creditor_account,
            t.creditor_agent.take(),
            t.creditor_agent_name.take(),
            t.creditor_address.take(),
            t.ultimate_creditor.take(),
        ),
        debtor: party(
            t.debtor_name.take(),
            debtor_account,
            t.debtor_agent.take(),
            None,
            None,
            t.ultimate_debtor.take(),
        ),
        remittance_unstructured: t.remittance_information_unstructured.take(),
        remittance_unstructured_array: std::mem::take(
            &mut t.remittance_information_unstructured_array,
        ),
        remittance_structured: t.remittance_information_structured.take(),
        remittance_structured_array,
        balance_after,
        currency_exchange,
        bank_transaction_code: bank_transaction_code(
            t.bank_transaction_code.take(),
            t.proprietary_bank_transaction_code.take(),
            t.proprietary_bank_transaction_code_text.take(),
        ),
        purpose_code: t.purpose_code.take(),
        additional_information: t.additional_information.take(),
        fees,
        is_enriched: t.is_enriched,
        payment_id: t.payment_id.take(),
        payment_service_reference: t.payment_service_reference.take(),
        details_href,
        proof_of_payment_href,
        card: None,
        aggregate,
        is_alias_payout: t.is_alias_payout,
        account: account.cloned(),
    })
}

/// Maps one transaction; `status` is the list it came from (`booked`, `pending`, ...).
///
/// Takes `t` by value and moves its text into the domain transaction (no copies); see
/// [`transaction`] to keep the raw value.
pub fn into_transaction(
    mut t: raw::Transaction,
    status: TransactionStatus,
) -> Result<Transaction, MappingError> {
    map_transaction(&mut t, status, &mut IbanCache::default(), None)
}

/// Maps one transaction; `status` is the list it came from (`booked`, `pending`, ...).
///
/// Copies the text it needs; [`into_transaction`] is the same without the copies.
#[cfg(test)]
pub fn transaction(
    t: &raw::Transaction,
    status: TransactionStatus,
) -> Result<Transaction, MappingError> {
    into_transaction(t.clone(), status)
}

mod listing;
mod streamed;

#[cfg(test)]
pub use listing::{BANKGIRO_STATUS, transactions_response};
pub use listing::{
    MappedTransactions, into_mapped_transactions, into_transaction_page, transaction_page,
    transactions_from_body,
};
pub(crate) use streamed::decode_mapped;

impl FromRaw<&raw::ConsentStatus> for ConsentStatus {
    fn from_raw(s: &raw::ConsentStatus) -> Self {
        ConsentStatus::from_bank_str(&s.0)
    }
}

impl FromRaw<&raw::ScaStatus> for ScaStatus {
    fn from_raw(s: &raw::ScaStatus) -> Self {
        ScaStatus::from_bank_str(&s.0)
    }
}

/// The consent as created: id and status from the answer. The create answer carries no
/// validity, frequency or recurrence, and what was asked is not what the bank granted, so
/// those stay unknown here; the client reads them back from the consent.
pub fn created_consent(created: &raw::ConsentCreatedResponse) -> Consent {
    Consent::new(
        ConsentId::new(created.consent_id.clone()),
        ConsentStatus::from_raw(&created.consent_status),
    )
}

/// The consent from get consent.
pub fn consent_information(id: &ConsentId, info: &raw::ConsentInformationResponse) -> Consent {
    let mut consent = Consent::new(id.clone(), ConsentStatus::from_raw(&info.consent_status));
    consent.valid_until = info.valid_until;
    consent.frequency_per_day = info.frequency_per_day.and_then(|f| u32::try_from(f).ok());
    consent.recurring = info.recurring_indicator;
    consent.last_action_date = info.last_action_date;
    consent
}

/// The SCA approach an `authenticationMethodId` stands for: the Mobile BankID methods are
/// decoupled (the app is polled), `redirect`-like ids are redirect, others are kept.
pub fn approach(method: &raw::ScaMethod, redirect_method_id: &str) -> ScaApproach {
    let id = method
        .authentication_method_id
        .as_deref()
        .unwrap_or_default();
    if id.eq_ignore_ascii_case(redirect_method_id) || id.to_ascii_lowercase().contains("redirect") {
        ScaApproach::Redirect
    } else if id.to_ascii_lowercase().starts_with("mbid") {
        ScaApproach::Decoupled
    } else {
        ScaApproach::Other(id.to_owned())
    }
}

/// The consent's `scaMethods` with all their details, in the bank's order.
pub fn sca_methods(methods: &[raw::ScaMethod], redirect_method_id: &str) -> Vec<OfferedScaMethod> {
    methods
        .iter()
        .map(|m| {
            let mut offered = OfferedScaMethod::new(approach(m, redirect_method_id));
            offered.id = non_empty(m.authentication_method_id.as_ref());
            offered.name = non_empty(m.name.as_ref());
            offered.authentication_type = m
                .authentication_type
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(AuthenticationType::from_bank_str);
            offered
        })
        .collect()
}

/// The consent answer's `_links`, with the consent id hidden in the hrefs.
pub fn consent_links(links: Option<&raw::ConsentLinks>, id: &ConsentId) -> Links {
    let mut out = Links::new();
    if let Some(l) = links {
        add_link(&mut out, "self", l.self_.as_ref());
        add_link(&mut out, "status", l.status.as_ref());
        add_link(
            &mut out,
            "startAuthorisation",
            l.start_authorisation.as_ref(),
        );
        add_link(&mut out, "scaRedirect", l.sca_redirect.as_ref());
        add_link(&mut out, "scaStatus", l.sca_status.as_ref());
    }
    out.into_iter()
        .map(|(name, link)| (name, link.with_consent_id_hidden(id)))
        .collect()
}

/// The whole create-consent answer: the consent ([`created_consent`]), its approaches,
/// its SCA methods and its links.
pub fn created(answer: &raw::ConsentCreatedResponse, redirect_method_id: &str) -> CreatedConsent {
    let consent = created_consent(answer);
    let links = consent_links(answer.links.as_ref(), &consent.id);
    let mut created =
        CreatedConsent::new(consent, approaches(&answer.sca_methods, redirect_method_id));
    created.sca_methods = sca_methods(&answer.sca_methods, redirect_method_id);
    created.links = links;
    created
}

/// The distinct approaches of a consent's `scaMethods`, in order.
pub fn approaches(methods: &[raw::ScaMethod], redirect_method_id: &str) -> Vec<ScaApproach> {
    let mut out: Vec<ScaApproach> = Vec::new();
    for m in methods {
        let a = approach(m, redirect_method_id);
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// The consent request body for `request`. `default_valid_until` fills a missing end date.
pub fn consent_request(
    request: &ConsentRequest,
    default_valid_until: chrono::NaiveDate,
) -> Result<raw::ConsentRequest, String> {
    let access = match &request.scope {
        ConsentScope::AllAccounts => raw::ConsentAccess::default(),
        ConsentScope::Accounts(ibans) => {
            if ibans.is_empty() {
                return Err("a consent for given accounts needs at least one IBAN".to_owned());
            }
            let refs: Vec<raw::AccountReference> = ibans
                .iter()
                .map(|iban| raw::AccountReference {
                    iban: Some(iban.as_str().to_owned()),
                    ..Default::default()
                })
                .collect();
            raw::ConsentAccess {
                accounts: refs.clone(),
                balances: if request.with_balances {
                    refs.clone()
                } else {
                    Vec::new()
                },
                transactions: if request.with_transactions {
                    refs
                } else {
                    Vec::new()
                },
            }
        }
    };
    let frequency_per_day = std::num::NonZeroU32::new(request.frequency_per_day)
        .ok_or_else(|| "frequency_per_day must be at least 1".to_owned())?;
    Ok(raw::ConsentRequest {
        access,
        combined_service_indicator: false,
        frequency_per_day,
        recurring_indicator: request.recurring,
        valid_until: request.valid_until.unwrap_or(default_valid_until),
    })
}

/// Maps a mapping failure of `operation` into the facade error.
pub fn mapped<T>(operation: &'static str, result: Result<T, MappingError>) -> Result<T, Error> {
    result.map_err(|e| e.into_error(BANK, operation))
}
