//! Swedbank raw types (`psd2_raw_swedbank::types`) → domain model, with plain
//! `From`/`TryFrom` code.
//!
//! The raw types already validate shapes (currency pattern, amount pattern); what can still
//! fail here is turned into a [`MappingError`], which the client reports as
//! [`crate::ErrorKind::UnexpectedResponse`]. Unknown codes (balance types, account types,
//! statuses) never fail: they become `Other(String)`.
//!
//! Signs: amounts are signed as sent (Berlin Group: negative is money out of the account);
//! this API has no separate direction field that could contradict the sign, so nothing is
//! inferred or flipped.
//!
//! [`MappingError`]: crate::EntryError

use psd2_raw_swedbank::types as raw;

use crate::account::{
    Account, AccountId, AccountReference, AccountStatus, AccountUsage, CashAccountType, IbanOrRaw,
};
use crate::adapters::common::{FromRaw, TryFromRaw};
use crate::balance::{Balance, BalanceType};
use crate::consent::{Consent, ConsentId, ConsentStatus};
use crate::error::Error;
use crate::link::{Link, Links};
use crate::money::{Currency, Money, MoneyError, parse_decimal};
use crate::transaction::{
    BankTransactionCode, CurrencyExchange, ListedPage, Party, Transaction, TransactionId,
    TransactionStatus, decode_entry, entry_bank_id, listing_list, listing_root, under, under_index,
};

/// The mapping error of this adapter: the field path (relative to the value mapped, or the
/// whole answer for listings) and the value's shape, never the value.
pub use crate::entry::EntryError as MappingError;

fn money_error(field: &str, error: MoneyError) -> MappingError {
    MappingError::new(field, error.to_string()).with_value(error.text())
}

fn currency(field: &str, code: &raw::CurrencyCode) -> Result<Currency, MappingError> {
    Currency::new(code).map_err(|e| money_error(field, e))
}

fn opt_currency(
    field: &str,
    code: Option<&raw::CurrencyCode>,
) -> Result<Option<Currency>, MappingError> {
    code.map(|c| currency(field, c)).transpose()
}

impl TryFromRaw<raw::Amount> for Money {
    type Error = MappingError;

    fn try_from_raw(value: raw::Amount) -> Result<Self, Self::Error> {
        let amount = parse_decimal(&value.amount).map_err(|e| money_error("amount", e))?;
        Ok(Money::new(amount, currency("currency", &value.currency)?))
    }
}

impl TryFromRaw<raw::Balance> for Balance {
    type Error = MappingError;

    fn try_from_raw(value: raw::Balance) -> Result<Self, Self::Error> {
        let mut balance = Balance::new(
            BalanceType::from_bank_str(&value.balance_type),
            Money::try_from_raw(value.balance_amount).map_err(|e| under(e, "balanceAmount"))?,
        );
        balance.credit_limit_included = value.credit_limit_included;
        balance.reference_date = value.reference_date;
        balance.last_change = value.last_change_date_time;
        Ok(balance)
    }
}

/// Maps a list of raw balances.
pub fn balances(list: Vec<raw::Balance>) -> Result<Vec<Balance>, MappingError> {
    list.into_iter()
        .enumerate()
        .map(|(i, b)| Balance::try_from_raw(b).map_err(|e| under_index(e, "balances", i)))
        .collect()
}

impl TryFromRaw<raw::AccountDetails> for Account {
    type Error = MappingError;

    fn try_from_raw(value: raw::AccountDetails) -> Result<Self, Self::Error> {
        let mut account = Account::new(AccountId::new(value.resource_id));
        account.iban = value.iban.as_deref().map(IbanOrRaw::parse);
        account.bban = value.bban;
        account.currency = Some(currency("currency", &value.currency)?);
        account.name = value.name;
        account.product = value.product;
        account.owner_name = value.owner_name;
        account.cash_account_type = value
            .cash_account_type
            .as_deref()
            .map(CashAccountType::from_bank_str);
        account.status = value.status.as_deref().map(AccountStatus::from_bank_str);
        account.usage = value.usage.as_deref().map(AccountUsage::from_bank_str);
        account.bic = value.bic;
        account.balances = balances(value.balances)?;
        account.links = value.links.map(links).unwrap_or_default();
        Ok(account)
    }
}

/// The `_links` map: each relation's href and HTTP methods, as sent.
pub fn links(value: raw::Links) -> Links {
    value
        .0
        .into_iter()
        .map(|(name, link)| {
            let verbs = link.verbs.into_iter().map(|v| v.0);
            (name, Link::new(link.href).with_verbs(verbs))
        })
        .collect()
}

impl TryFromRaw<raw::AccountDetailsResponse> for Account {
    type Error = MappingError;

    fn try_from_raw(value: raw::AccountDetailsResponse) -> Result<Self, Self::Error> {
        Account::try_from_raw(value.account).map_err(|e| under(e, "account"))
    }
}

/// Maps the account list.
pub fn accounts(list: raw::AccountList) -> Result<Vec<Account>, MappingError> {
    list.accounts
        .into_iter()
        .enumerate()
        .map(|(i, a)| Account::try_from_raw(a).map_err(|e| under_index(e, "accounts", i)))
        .collect()
}

impl TryFromRaw<raw::AccountReference> for AccountReference {
    type Error = MappingError;

    fn try_from_raw(value: raw::AccountReference) -> Result<Self, Self::Error> {
        Ok(AccountReference {
            iban: value.iban.as_deref().map(IbanOrRaw::parse),
            bban: value.bban,
            currency: opt_currency("currency", value.currency.as_ref())?,
            ..Default::default()
        })
    }
}

/// An account reference, `None` when it identifies nothing (`{}`).
fn reference(
    value: Option<raw::AccountReference>,
) -> Result<Option<AccountReference>, MappingError> {
    Ok(value
        .map(AccountReference::try_from_raw)
        .transpose()?
        .filter(|r| !r.is_empty()))
}

fn party(
    name: Option<String>,
    account: Option<raw::AccountReference>,
    account_field: &str,
) -> Result<Option<Party>, MappingError> {
    let party = Party {
        name: name.filter(|n| !n.is_empty()),
        account: reference(account).map_err(|e| under(e, account_field))?,
        ..Default::default()
    };
    Ok((!party.is_empty()).then_some(party))
}

impl TryFromRaw<raw::ExchangeRate> for CurrencyExchange {
    type Error = MappingError;

    fn try_from_raw(value: raw::ExchangeRate) -> Result<Self, Self::Error> {
        let rate = value
            .exchange_rate
            .as_deref()
            .map(parse_decimal)
            .transpose()
            .map_err(|e| money_error("exchangeRate", e))?;
        Ok(CurrencyExchange {
            source_currency: opt_currency("sourceCurrency", value.source_currency.as_ref())?,
            target_currency: opt_currency("targetCurrency", value.target_currency.as_ref())?,
            unit_currency: opt_currency("unitCurrency", value.unit_currency.as_ref())?,
            rate,
            quotation_date: value.quotation_date,
            contract_id: value.contract_identification,
            ..Default::default()
        })
    }
}

/// Maps one transaction of the `booked` or `pending` list (`status` says which).
pub fn transaction(
    value: raw::Transaction,
    status: TransactionStatus,
) -> Result<Transaction, MappingError> {
    let amount =
        Money::try_from_raw(value.transaction_amount).map_err(|e| under(e, "transactionAmount"))?;
    let mut t = Transaction::new(status, amount);
    t.transaction_id = value.transaction_id.map(TransactionId::new);
    t.entry_reference = value.entry_reference;
    t.booking_date = value.booking_date;
    t.value_date = value.value_date;
    t.creditor = party(
        value.creditor_name,
        value.creditor_account,
        "creditorAccount",
    )?;
    t.debtor = party(value.debtor_name, value.debtor_account, "debtorAccount")?;
    t.remittance_unstructured = value.remittance_information_unstructured;
    t.remittance_structured = value.remittance_information_structured;
    t.balance_after = value
        .balance_after_transaction
        .map(Balance::try_from_raw)
        .transpose()
        .map_err(|e| under(e, "balanceAfterTransaction"))?;
    t.currency_exchange = value
        .currency_exchange
        .into_iter()
        .enumerate()
        .map(|(i, x)| {
            CurrencyExchange::try_from_raw(x).map_err(|e| under_index(e, "currencyExchange", i))
        })
        .collect::<Result<_, _>>()?;
    if value.bank_transaction_code.is_some() || value.proprietary_bank_transaction_code.is_some() {
        t.bank_transaction_code = Some(BankTransactionCode {
            code: value.bank_transaction_code,
            proprietary: value.proprietary_bank_transaction_code,
            ..Default::default()
        });
    }
    Ok(t)
}

#[cfg(test)]
/// Maps a transaction report: booked entries first, then pending, each in the bank's order;
/// the first entry that does not map fails it.
pub fn transaction_report(
    report: raw::TransactionReport,
) -> Result<Vec<Transaction>, MappingError> {
    transaction_entries(report).into_iter().collect()
}

/// Maps a transaction report entry by entry: booked entries first, then pending, each in
/// the bank's order, each mapped or its [`MappingError`] (path
/// `transactions.booked[3].field`, with the entry's `transactionId`).
pub fn transaction_entries(
    report: raw::TransactionReport,
) -> Vec<Result<Transaction, MappingError>> {
    let booked = report
        .booked
        .into_iter()
        .enumerate()
        .map(|(i, t)| entry(t, TransactionStatus::Booked, "transactions.booked", i));
    let pending = report
        .pending
        .into_iter()
        .enumerate()
        .map(|(i, t)| entry(t, TransactionStatus::Pending, "transactions.pending", i));
    booked.chain(pending).collect()
}

fn entry(
    t: raw::Transaction,
    status: TransactionStatus,
    list: &str,
    index: usize,
) -> Result<Transaction, MappingError> {
    let id = t.transaction_id.clone();
    transaction(t, status).map_err(|e| {
        under_index(e, list, index)
            .with_bank_id(id.filter(|i| !i.is_empty()).map(TransactionId::new))
    })
}

/// The transaction list answer from its body, entry by entry (booked, then pending): an
/// entry that does not decode (a bad date, a wrong type) or does not map becomes that
/// entry's [`MappingError`] and the other entries are kept; the page's `_links` are kept.
/// For answers the raw client could not decode as a whole. The page fails as a whole (as
/// [`Error`]) when the body is not JSON, is an error body, has no `transactions` object, or
/// its `_links` do not decode.
pub fn transactions_from_body(body: &[u8]) -> Result<ListedPage, Error> {
    const OP: &str = "transactions";
    let root = listing_root(super::BANK, OP, body, "transactions", false)?;
    let page_error = |e: MappingError| e.into_error(super::BANK, OP).with_raw_body(body);
    let report = &root["transactions"];
    let links = match report.get("_links") {
        None | Some(serde_json::Value::Null) => Links::new(),
        Some(v) => {
            let l: raw::TransactionLinks =
                decode_entry(v, "transactions._links").map_err(page_error)?;
            let mut links = Links::new();
            for (name, href) in [("next", l.next), ("account", l.account)] {
                if let Some(href) = href {
                    links.insert(name.to_owned(), Link::new(href.href));
                }
            }
            links
        }
    };
    let mut entries = Vec::new();
    for (list, status) in [
        ("booked", TransactionStatus::Booked),
        ("pending", TransactionStatus::Pending),
    ] {
        let path = format!("transactions.{list}");
        let items = listing_list(report, list, &path, false).map_err(page_error)?;
        for (i, value) in items.iter().enumerate() {
            let id = entry_bank_id(value, "transactionId");
            let mapped = decode_entry::<raw::Transaction>(value, "")
                .and_then(|t| transaction(t, status.clone()));
            entries.push(mapped.map_err(|e| under_index(e, &path, i).with_bank_id(id)));
        }
    }
    Ok(ListedPage::new(entries, links))
}

impl FromRaw<raw::ConsentStatus> for ConsentStatus {
    fn from_raw(value: raw::ConsentStatus) -> Self {
        ConsentStatus::from_bank_str(&value)
    }
}

/// Maps "get consent" (the answer carries no id: the caller's is used).
pub fn consent(id: ConsentId, value: raw::ConsentInformation) -> Consent {
    let mut consent = Consent::new(id, ConsentStatus::from_raw(value.consent_status));
    consent.valid_until = value.valid_until;
    consent.frequency_per_day = value.frequency_per_day.and_then(|f| u32::try_from(f).ok());
    consent.recurring = value.recurring_indicator;
    consent.last_action_date = value.last_action_date;
    consent
}
