//! `psd2_raw_berlingroup::types` → domain model (crate-private `FromRaw`/`TryFromRaw`).
//!
//! Unknown codes (balance types, account statuses) become `Other(String)`; what cannot map
//! (a bad currency or amount, an account without `resourceId`) is an [`EntryError`] naming
//! the field. Amounts are signed as sent (negative: money out of the account).

use psd2_raw_berlingroup::types as raw;

use crate::account::{
    Account, AccountId, AccountReference, AccountStatus, AccountUsage, CashAccountType, IbanOrRaw,
};
use crate::adapters::common::TryFromRaw;
use crate::balance::{Balance, BalanceType};
use crate::card_account::CardAccount;
use crate::entry::EntryError;
use crate::error::Error;
use crate::link::{Link, Links};
use crate::money::{Currency, Money, MoneyError, parse_decimal};
use crate::transaction::{
    BankTransactionCode, CardDetails, CurrencyExchange, ListedPage, Party, Transaction,
    TransactionId, TransactionStatus, decode_entry, entry_bank_id, listing_list, listing_root,
    under, under_index,
};

fn money_error(field: &str, error: MoneyError) -> EntryError {
    EntryError::new(field, error.to_string()).with_value(error.text())
}

fn currency(field: &str, code: &raw::CurrencyCode) -> Result<Currency, EntryError> {
    Currency::new(&code.0).map_err(|e| money_error(field, e))
}

fn opt_currency(
    field: &str,
    code: Option<&raw::CurrencyCode>,
) -> Result<Option<Currency>, EntryError> {
    code.map(|c| currency(field, c)).transpose()
}

impl TryFromRaw<raw::Amount> for Money {
    type Error = EntryError;

    fn try_from_raw(value: raw::Amount) -> Result<Self, Self::Error> {
        let amount = parse_decimal(&value.amount).map_err(|e| money_error("amount", e))?;
        Ok(Money::new(amount, currency("currency", &value.currency)?))
    }
}

impl TryFromRaw<raw::Balance> for Balance {
    type Error = EntryError;

    fn try_from_raw(value: raw::Balance) -> Result<Self, Self::Error> {
        let mut balance = Balance::new(
            BalanceType::from_bank_str(&value.balance_type.0),
            Money::try_from_raw(value.balance_amount).map_err(|e| under(e, "balanceAmount"))?,
        );
        balance.credit_limit_included = value.credit_limit_included;
        balance.reference_date = value.reference_date;
        balance.last_change = value.last_change_date_time;
        Ok(balance)
    }
}

/// Maps a list of balances (errors under `path[i]`).
pub(crate) fn balances(list: Vec<raw::Balance>, path: &str) -> Result<Vec<Balance>, EntryError> {
    list.into_iter()
        .enumerate()
        .map(|(i, b)| Balance::try_from_raw(b).map_err(|e| under_index(e, path, i)))
        .collect()
}

fn account_links(value: Option<raw::AccountLinks>) -> Links {
    let mut links = Links::new();
    if let Some(value) = value {
        for (name, link) in [
            ("balances", value.balances),
            ("transactions", value.transactions),
        ] {
            if let Some(href) = link.and_then(|l| l.href) {
                links.insert(name.to_owned(), Link::new(href));
            }
        }
    }
    links
}

fn resource_id(value: Option<String>) -> Result<AccountId, EntryError> {
    value
        .filter(|id| !id.is_empty())
        .map(AccountId::new)
        .ok_or_else(|| EntryError::new("resourceId", "missing: the account cannot be addressed"))
}

impl TryFromRaw<raw::AccountDetails> for Account {
    type Error = EntryError;

    fn try_from_raw(value: raw::AccountDetails) -> Result<Self, Self::Error> {
        let mut account = Account::new(resource_id(value.resource_id)?);
        account.iban = value.iban.as_deref().map(IbanOrRaw::parse);
        account.bban = value.bban;
        account.currency = Some(currency("currency", &value.currency)?);
        account.name = value.name.or(value.display_name);
        account.product = value.product;
        account.owner_name = value.owner_name;
        account.cash_account_type = value
            .cash_account_type
            .as_deref()
            .map(CashAccountType::from_bank_str);
        account.status = value.status.map(|s| AccountStatus::from_bank_str(&s.0));
        account.usage = value.usage.map(|u| AccountUsage::from_bank_str(&u.0));
        account.bic = value.bic;
        account.balances = balances(value.balances, "balances")?;
        account.links = account_links(value.links);
        Ok(account)
    }
}

/// Maps the account list (errors under `accounts[i]`).
pub(crate) fn accounts(list: raw::AccountList) -> Result<Vec<Account>, EntryError> {
    list.accounts
        .into_iter()
        .enumerate()
        .map(|(i, a)| Account::try_from_raw(a).map_err(|e| under_index(e, "accounts", i)))
        .collect()
}

impl TryFromRaw<raw::CardAccountDetails> for CardAccount {
    type Error = EntryError;

    fn try_from_raw(value: raw::CardAccountDetails) -> Result<Self, Self::Error> {
        let mut card = CardAccount::new(resource_id(value.resource_id)?);
        card.masked_pans = vec![value.masked_pan];
        card.product = value.product;
        card.currency = Some(currency("currency", &value.currency)?);
        card.name = value.name.or(value.display_name);
        card.owner_name = value.owner_name;
        card.status = value.status.map(|s| AccountStatus::from_bank_str(&s.0));
        card.usage = value.usage.map(|u| AccountUsage::from_bank_str(&u.0));
        card.credit_limit = value
            .credit_limit
            .map(Money::try_from_raw)
            .transpose()
            .map_err(|e| under(e, "creditLimit"))?;
        card.balances = balances(value.balances, "balances")?;
        Ok(card)
    }
}

/// Maps the card account list (errors under `cardAccounts[i]`).
pub(crate) fn card_accounts(list: raw::CardAccountList) -> Result<Vec<CardAccount>, EntryError> {
    list.card_accounts
        .into_iter()
        .enumerate()
        .map(|(i, a)| CardAccount::try_from_raw(a).map_err(|e| under_index(e, "cardAccounts", i)))
        .collect()
}

impl TryFromRaw<raw::AccountReference> for AccountReference {
    type Error = EntryError;

    fn try_from_raw(value: raw::AccountReference) -> Result<Self, Self::Error> {
        Ok(AccountReference {
            iban: value.iban.as_deref().map(IbanOrRaw::parse),
            bban: value.bban,
            masked_pan: value.masked_pan,
            currency: opt_currency("currency", value.currency.as_ref())?,
            ..Default::default()
        })
    }
}

fn party(
    name: Option<String>,
    account: Option<raw::AccountReference>,
    account_field: &str,
    agent: Option<String>,
    ultimate: Option<String>,
) -> Result<Option<Party>, EntryError> {
    let account = account
        .map(AccountReference::try_from_raw)
        .transpose()
        .map_err(|e| under(e, account_field))?
        .filter(|r| !r.is_empty());
    let party = Party {
        name: name.filter(|n| !n.is_empty()),
        account,
        agent,
        ultimate,
        ..Default::default()
    };
    Ok((!party.is_empty()).then_some(party))
}

impl TryFromRaw<raw::ExchangeRate> for CurrencyExchange {
    type Error = EntryError;

    fn try_from_raw(value: raw::ExchangeRate) -> Result<Self, Self::Error> {
        let rate =
            parse_decimal(&value.exchange_rate).map_err(|e| money_error("exchangeRate", e))?;
        Ok(CurrencyExchange {
            source_currency: Some(currency("sourceCurrency", &value.source_currency)?),
            target_currency: Some(currency("targetCurrency", &value.target_currency)?),
            unit_currency: opt_currency("unitCurrency", value.unit_currency.as_ref())?,
            rate: Some(rate),
            quotation_date: value.quotation_date,
            contract_id: value.contract_identification,
            ..Default::default()
        })
    }
}

fn exchanges(list: Vec<raw::ExchangeRate>) -> Result<Vec<CurrencyExchange>, EntryError> {
    list.into_iter()
        .enumerate()
        .map(|(i, x)| {
            CurrencyExchange::try_from_raw(x).map_err(|e| under_index(e, "currencyExchange", i))
        })
        .collect()
}

/// Maps one account transaction of the `booked` or `pending` list (`status` says which).
pub(crate) fn transaction(
    value: raw::Transaction,
    status: TransactionStatus,
) -> Result<Transaction, EntryError> {
    let amount =
        Money::try_from_raw(value.transaction_amount).map_err(|e| under(e, "transactionAmount"))?;
    let mut t = Transaction::new(status, amount);
    t.transaction_id = value
        .transaction_id
        .filter(|i| !i.is_empty())
        .map(TransactionId::new);
    t.entry_reference = value.entry_reference;
    t.end_to_end_id = value.end_to_end_id;
    t.booking_date = value.booking_date;
    t.value_date = value.value_date;
    t.creditor = party(
        value.creditor_name,
        value.creditor_account,
        "creditorAccount",
        value.creditor_agent,
        value.ultimate_creditor,
    )?;
    t.debtor = party(
        value.debtor_name,
        value.debtor_account,
        "debtorAccount",
        value.debtor_agent,
        value.ultimate_debtor,
    )?;
    t.remittance_unstructured = value.remittance_information_unstructured;
    t.remittance_unstructured_array = value.remittance_information_unstructured_array;
    t.remittance_structured = value.remittance_information_structured.map(|r| r.reference);
    t.purpose_code = value.purpose_code;
    t.additional_information = value.additional_information;
    t.balance_after = value
        .balance_after_transaction
        .map(Balance::try_from_raw)
        .transpose()
        .map_err(|e| under(e, "balanceAfterTransaction"))?;
    t.currency_exchange = exchanges(value.currency_exchange)?;
    if value.bank_transaction_code.is_some() || value.proprietary_bank_transaction_code.is_some() {
        t.bank_transaction_code = Some(BankTransactionCode {
            code: value.bank_transaction_code,
            proprietary: value.proprietary_bank_transaction_code,
            ..Default::default()
        });
    }
    t.details_href = value
        .links
        .and_then(|l| l.transaction_details)
        .and_then(|l| l.href);
    Ok(t)
}

/// Maps one card transaction.
pub(crate) fn card_transaction(
    value: raw::CardTransaction,
    status: TransactionStatus,
) -> Result<Transaction, EntryError> {
    let amount =
        Money::try_from_raw(value.transaction_amount).map_err(|e| under(e, "transactionAmount"))?;
    let mut t = Transaction::new(status, amount);
    t.transaction_id = value
        .card_transaction_id
        .clone()
        .filter(|i| !i.is_empty())
        .map(TransactionId::new);
    t.booking_date = value.booking_date;
    t.value_date = value.value_date;
    t.transaction_date = value.transaction_date;
    t.currency_exchange = exchanges(value.currency_exchange)?;
    let money = |m: Option<raw::Amount>, field: &str| {
        m.map(Money::try_from_raw)
            .transpose()
            .map_err(|e| under(e, field))
    };
    t.card = Some(Box::new(CardDetails {
        card_transaction_id: value.card_transaction_id,
        masked_pan: value.masked_pan,
        original_amount: money(value.original_amount, "originalAmount")?,
        markup_fee: money(value.markup_fee, "markupFee")?,
        merchant: value.transaction_details,
        merchant_category_code: value.merchant_category_code,
        terminal_id: value.terminal_id,
        invoiced: value.invoiced,
        ..CardDetails::default()
    }));
    Ok(t)
}

/// One transactions page from its body, entry by entry (booked, then pending): an entry
/// that does not decode or map is that entry's [`EntryError`] and the others are kept; the
/// page's links are kept. The page fails as a whole when the body is not JSON, is an error
/// body, or has no `key` object (`transactions` / `cardTransactions`).
pub(crate) fn transactions_page(
    bank: &'static str,
    operation: &'static str,
    key: &str,
    card: bool,
    body: &[u8],
) -> Result<ListedPage, Error> {
    let root = listing_root(bank, operation, body, key, false)?;
    let page_error = |e: EntryError| e.into_error(bank, operation).with_raw_body(body);
    let report = &root[key];
    let links = match report.get("_links") {
        None | Some(serde_json::Value::Null) => Links::new(),
        Some(v) => {
            let l: raw::ReportLinks =
                decode_entry(v, &format!("{key}._links")).map_err(page_error)?;
            let mut links = Links::new();
            for (name, link) in [("next", l.next), ("account", l.account)] {
                if let Some(href) = link.and_then(|l| l.href) {
                    links.insert(name.to_owned(), Link::new(href));
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
        let path = format!("{key}.{list}");
        let items = listing_list(report, list, &path, false).map_err(page_error)?;
        for (i, value) in items.iter().enumerate() {
            let (id, mapped) = if card {
                let mapped = decode_entry::<raw::CardTransaction>(value, "")
                    .and_then(|t| card_transaction(t, status.clone()));
                (entry_bank_id(value, "cardTransactionId"), mapped)
            } else {
                let value = &structured_remittance_as_object(value);
                let mapped = decode_entry::<raw::Transaction>(value, "")
                    .and_then(|t| transaction(t, status.clone()));
                (entry_bank_id(value, "transactionId"), mapped)
            };
            entries.push(mapped.map_err(|e| under_index(e, &path, i).with_bank_id(id)));
        }
    }
    Ok(ListedPage::new(entries, links))
}

/// Berlin Group versions before 1.3.12 send `remittanceInformationStructured` as a plain
/// string (max. 140 characters), 1.3.12 as an object `{reference, referenceType,
/// referenceIssuer}`: the string form is read as the object's `reference`.
fn structured_remittance_as_object(
    value: &serde_json::Value,
) -> std::borrow::Cow<'_, serde_json::Value> {
    const KEY: &str = "remittanceInformationStructured";
    match value.get(KEY) {
        Some(serde_json::Value::String(reference)) => {
            let mut owned = value.clone();
            owned[KEY] = serde_json::json!({ "reference": reference });
            std::borrow::Cow::Owned(owned)
        }
        _ => std::borrow::Cow::Borrowed(value),
    }
}

/// The `transactionsDetails` of a details answer, decoded (see
/// [`structured_remittance_as_object`]).
pub(crate) fn transaction_details(
    bank: &'static str,
    operation: &'static str,
    answer: &serde_json::Value,
) -> Result<raw::Transaction, Error> {
    const KEY: &str = "transactionsDetails";
    let body = || answer.to_string().into_bytes();
    let Some(value) = answer.get(KEY).filter(|v| v.is_object()) else {
        let body = body();
        return Err(
            Error::from_error_body_with_success(bank, operation, None, &body).unwrap_or_else(
                || {
                    EntryError::new(KEY, "missing")
                        .into_error(bank, operation)
                        .with_raw_body(&body)
                },
            ),
        );
    };
    decode_entry(&structured_remittance_as_object(value), KEY)
        .map_err(|e| e.into_error(bank, operation).with_raw_body(&body()))
}
