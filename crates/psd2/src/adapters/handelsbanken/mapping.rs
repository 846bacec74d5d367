//! Plain `From`/`TryFrom` code from Handelsbanken's raw types into the domain model.
//!
//! Rules:
//! - Amounts are JSON numbers in the raw types (`rust_decimal::Decimal`, parsed from the
//!   number's literal text), so `2000` stays `2000` and `12500.5` stays `12500.5`.
//! - Account transactions carry a non-negative amount plus `creditDebit` (the API description:
//!   "`amount.amount` is never negative; `creditDebit` gives the direction"); the domain
//!   amount is signed: `DEBIT` → negative, `CREDIT` → positive. Any other `creditDebit`
//!   (`DBIT`, empty, ...) and a negative amount are errors naming the field: a sign the
//!   adapter cannot establish is never guessed. Card transactions are already signed by the
//!   bank and are kept as sent.
//! - Listings map entry by entry ([`transaction_entries`], [`card_transaction_entries`], and
//!   from a body the raw client could not decode, [`transactions_from_body`],
//!   [`card_transactions_from_body`]): an entry that does not map is an [`EntryError`] with
//!   its path (`transactions[3].amount.currency`) and the value's shape, never the value.
//! - Open string enums (balance type, statuses, SCA method type) go through the domain
//!   `from_bank_str`, so unknown values become `Other(text)` and never fail a response.
//! - A bad currency code in an amount fails that mapping with
//!   [`ErrorKind::UnexpectedResponse`] (money without a
//!   currency is meaningless); an account's own bad currency is dropped (`None`).
//!
//! [`transaction_entries`]: crate::adapters::handelsbanken::mapping::transaction_entries
//! [`card_transaction_entries`]: crate::adapters::handelsbanken::mapping::card_transaction_entries
//! [`transactions_from_body`]: crate::adapters::handelsbanken::mapping::transactions_from_body
//! [`card_transactions_from_body`]: crate::adapters::handelsbanken::mapping::card_transactions_from_body
//! [`EntryError`]: crate::EntryError
//! [`ErrorKind::UnexpectedResponse`]: crate::ErrorKind::UnexpectedResponse

use std::time::Duration;

use chrono::{DateTime, Utc};
use psd2_raw_handelsbanken::types as raw;

use crate::account::{Account, AccountId, AccountReference, AccountStatus, IbanOrRaw};
use crate::adapters::common::{FromRaw, TryFromRaw};
use crate::api::{CreatedConsent, Session};
use crate::balance::{Balance, BalanceType};
use crate::card_account::CardAccount;
use crate::consent::{Consent, ConsentStatus};
use crate::error::{Error, ErrorKind, join_path, text_shape};
use crate::link::{Link, Links};
use crate::money::{Currency, Money};
use crate::sca::{DecoupledHandle, OfferedScaMethod, ScaApproach, ScaChallenge, ScaProgress};
use crate::secret::{AccessToken, ConsentId, RefreshToken, Secret};
use crate::transaction::{
    BankTransactionCode, CardDetails, CurrencyExchange, EntryError, ListedPage, Party, Transaction,
    TransactionId, TransactionStatus, decode_entry, entry_bank_id, listing_list, listing_root,
    under_index,
};

/// The bank name used in errors.
pub(crate) const BANK: &str = "handelsbanken";

/// Operation name of errors raised while mapping (the adapter replaces it with the call's).
const MAPPING: &str = "map_response";

fn bad(detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::UnexpectedResponse, BANK, MAPPING).with_detail(detail)
}

/// Money from a raw amount; an error names `field` and the currency's shape.
fn money(field: &str, a: &raw::Amount) -> Result<Money, EntryError> {
    let currency = Currency::new(&a.currency).map_err(|e| {
        EntryError::new(join_path(field, "currency"), e.to_string()).with_value(e.text())
    })?;
    Ok(Money::new(a.amount, currency))
}

impl TryFromRaw<&raw::Amount> for Money {
    type Error = Error;

    fn try_from_raw(a: &raw::Amount) -> Result<Self, Error> {
        money("amount", a).map_err(|e| e.into_error(BANK, MAPPING))
    }
}

fn account_balance(b: &raw::AccountBalance) -> Result<Balance, EntryError> {
    Ok(Balance::new(
        BalanceType::from_bank_str(&b.balance_type),
        money("amount", &b.amount)?,
    ))
}

fn card_balance(b: &raw::CardBalance) -> Result<Balance, EntryError> {
    let mut balance = Balance::new(
        BalanceType::from_bank_str(&b.balance_type),
        money("balanceAmount", &b.balance_amount)?,
    );
    balance.credit_limit_included = b.credit_limit_included;
    Ok(balance)
}

impl TryFromRaw<&raw::AccountBalance> for Balance {
    type Error = Error;

    fn try_from_raw(b: &raw::AccountBalance) -> Result<Self, Error> {
        account_balance(b).map_err(|e| e.into_error(BANK, MAPPING))
    }
}

impl TryFromRaw<&raw::CardBalance> for Balance {
    type Error = Error;

    fn try_from_raw(b: &raw::CardBalance) -> Result<Self, Error> {
        card_balance(b).map_err(|e| e.into_error(BANK, MAPPING))
    }
}

/// Maps every element of `list` (named `name` in the answer); the first that does not map
/// fails it, its path naming the element (`name[i].field`).
fn map_all<T, U>(
    list: &[T],
    name: &str,
    map: impl Fn(&T) -> Result<U, EntryError>,
) -> Result<Vec<U>, EntryError> {
    list.iter()
        .enumerate()
        .map(|(i, item)| map(item).map_err(|e| under_index(e, name, i)))
        .collect()
}

/// A card account's balances (`balances[i]` in errors).
pub fn card_balances(list: &[raw::CardBalance]) -> Result<Vec<Balance>, Error> {
    map_all(list, "balances", card_balance).map_err(|e| e.into_error(BANK, MAPPING))
}

fn account(a: &raw::Account) -> Result<Account, EntryError> {
    let mut account = Account::new(AccountId::new(a.account_id.clone()));
    account.iban = a.iban.as_deref().map(IbanOrRaw::parse);
    account.bban = a.bban.clone();
    account.currency = Currency::new(&a.currency).ok();
    account.name = a.name.clone();
    account.product = a.account_type.clone();
    account.owner_name = a.owner_name.clone();
    account.status = a.status.as_deref().map(AccountStatus::from_bank_str);
    account.balances = map_all(&a.balances, "balances", account_balance)?;
    account.clearing_number = a.clearing_number.clone();
    if let Some(href) = a.links.as_ref().and_then(|l| l.transactions.as_ref()) {
        account
            .links
            .insert("transactions".to_owned(), Link::new(href.href.clone()));
    }
    Ok(account)
}

impl TryFromRaw<&raw::Account> for Account {
    type Error = Error;

    /// `accountType` becomes `product`; `clearingNumber` and `_links` are kept as sent.
    fn try_from_raw(a: &raw::Account) -> Result<Self, Error> {
        account(a).map_err(|e| e.into_error(BANK, MAPPING))
    }
}

/// The account list; an error names the account (`accounts[2].balances[0].amount.currency`).
pub fn accounts(list: &raw::AccountList) -> Result<Vec<Account>, Error> {
    map_all(&list.accounts, "accounts", account).map_err(|e| e.into_error(BANK, MAPPING))
}

fn card_account(c: &raw::CardAccount) -> Result<CardAccount, EntryError> {
    let mut card = CardAccount::new(AccountId::new(c.account_id.clone()));
    card.masked_pans = c.cards.iter().map(|k| k.masked_pan.clone()).collect();
    card.product = c.product.clone();
    card.currency = Currency::new(&c.currency).ok();
    card.name = c.name.clone();
    card.owner_name = c.owner_name.clone();
    card.credit_limit = c
        .credit_limit
        .as_ref()
        .map(|m| money("creditLimit", m))
        .transpose()?;
    card.balances = map_all(&c.balances, "balances", card_balance)?;
    Ok(card)
}

impl TryFromRaw<&raw::CardAccount> for CardAccount {
    type Error = Error;

    fn try_from_raw(c: &raw::CardAccount) -> Result<Self, Error> {
        card_account(c).map_err(|e| e.into_error(BANK, MAPPING))
    }
}

/// The card account list; an error names the card account (`cardAccounts[1].creditLimit...`).
pub fn card_accounts(list: &raw::CardAccountList) -> Result<Vec<CardAccount>, Error> {
    map_all(&list.card_accounts, "cardAccounts", card_account)
        .map_err(|e| e.into_error(BANK, MAPPING))
}

/// An account reference from Handelsbanken's free-text `counterpartyAccount`: a valid IBAN,
/// or else the domestic number as sent.
fn counterparty_account(text: &str) -> AccountReference {
    let parsed = IbanOrRaw::parse(text);
    let mut reference = AccountReference::default();
    match parsed {
        IbanOrRaw::Valid(_) => reference.iban = Some(parsed),
        IbanOrRaw::Raw(raw) => reference.bban = Some(raw),
    }
    reference
}

/// The signed amount of an account transaction: `amount` is never negative and
/// `creditDebit` (`CREDIT` or `DEBIT`, any letter case) gives the direction. Anything else
/// is an error naming the field: the sign is never guessed.
fn signed_amount(t: &raw::Transaction) -> Result<(Money, bool), EntryError> {
    let mut amount = money("amount", &t.amount)?;
    let direction = t.credit_debit.trim();
    let credit = if direction.eq_ignore_ascii_case("CREDIT") {
        true
    } else if direction.eq_ignore_ascii_case("DEBIT") {
        false
    } else {
        return Err(EntryError::new(
            "creditDebit",
            format!(
                "not CREDIT or DEBIT ({}): the amount's sign is unknown",
                text_shape(&t.credit_debit)
            ),
        )
        .with_value(&t.credit_debit.0));
    };
    if amount.amount.is_sign_negative() && !amount.amount.is_zero() {
        return Err(EntryError::new(
            "amount.amount",
            "negative, but amounts are unsigned and creditDebit gives the direction",
        ));
    }
    amount.amount = if credit {
        amount.amount.abs()
    } else {
        -amount.amount.abs()
    };
    Ok((amount, credit))
}

/// Maps one account transaction (paths in errors relative to the transaction).
///
/// Signs the amount by `creditDebit` (see the module docs); the counterparty becomes the
/// creditor of a debit and the debtor of a credit; `balance` becomes `balance_after` (an
/// interim booked balance); `bankTransactionCode` becomes the proprietary bank transaction
/// code.
pub fn transaction(t: &raw::Transaction) -> Result<Transaction, EntryError> {
    let (amount, credit) = signed_amount(t)?;
    let mut tx = Transaction::new(TransactionStatus::from_bank_str(&t.status), amount);
    tx.transaction_id = t.transaction_id.clone().map(TransactionId::new);
    tx.booking_date = t.ledger_date;
    tx.value_date = t.value_date;
    tx.transaction_date = t.transaction_date;
    tx.remittance_unstructured = t.remittance_information.clone();
    if t.counterparty_name.is_some() || t.counterparty_account.is_some() {
        let party = Party {
            name: t.counterparty_name.clone(),
            account: t.counterparty_account.as_deref().map(counterparty_account),
            ..Party::default()
        };
        if credit {
            tx.debtor = Some(party);
        } else {
            tx.creditor = Some(party);
        }
    }
    tx.balance_after = t
        .balance
        .as_ref()
        .map(|b| money("balance", b).map(|m| Balance::new(BalanceType::InterimBooked, m)))
        .transpose()?;
    tx.bank_transaction_code = t
        .bank_transaction_code
        .clone()
        .map(|code| BankTransactionCode {
            proprietary: Some(code),
            ..BankTransactionCode::default()
        });
    Ok(tx)
}

impl TryFromRaw<&raw::Transaction> for Transaction {
    type Error = Error;

    /// [`transaction`], its error as the facade's.
    fn try_from_raw(t: &raw::Transaction) -> Result<Self, Error> {
        transaction(t).map_err(|e| e.into_error(BANK, MAPPING))
    }
}

/// An entry error with its full path (`list[index].field`) and the entry's id.
#[cold]
fn entry_error(e: EntryError, list: &str, index: usize, id: Option<&String>) -> EntryError {
    under_index(e, list, index).with_bank_id(
        id.filter(|id| !id.is_empty())
            .map(|id| TransactionId::new(id.clone())),
    )
}

/// Every account transaction of one page, each mapped or its [`EntryError`] (path
/// `transactions[3].field`, with the entry's `transactionId`), in the bank's order.
pub fn transaction_entries(list: &raw::TransactionList) -> Vec<Result<Transaction, EntryError>> {
    list.transactions
        .iter()
        .enumerate()
        .map(|(i, t)| {
            transaction(t).map_err(|e| entry_error(e, "transactions", i, t.transaction_id.as_ref()))
        })
        .collect()
}

/// A card transaction as a domain [`Transaction`] with [`CardDetails`]; `status` is `Booked`
/// or `Pending` by the list the bank put it in. The amount is kept as sent (already signed).
/// An error's path is relative to the card transaction.
fn card_entry(
    t: &raw::CardTransaction,
    status: TransactionStatus,
) -> Result<Transaction, EntryError> {
    let amount = money("transactionAmount", &t.transaction_amount)?;
    let original_amount = t
        .original_amount
        .as_ref()
        .map(|a| money("originalAmount", a))
        .transpose()?;
    let mut tx = Transaction::new(status, amount);
    tx.transaction_id = t.card_transaction_id.clone().map(TransactionId::new);
    tx.booking_date = t.booking_date;
    tx.transaction_date = t.transaction_date;
    tx.remittance_unstructured = t.transaction_details.clone();
    tx.bank_transaction_code =
        t.proprietary_bank_transaction_code
            .clone()
            .map(|code| BankTransactionCode {
                proprietary: Some(code),
                ..BankTransactionCode::default()
            });
    if let Some(rate) = t.exchange_rate {
        tx.currency_exchange = vec![CurrencyExchange {
            source_currency: original_amount.as_ref().map(|m| m.currency),
            target_currency: Some(tx.amount.currency),
            rate: Some(rate),
            ..CurrencyExchange::default()
        }];
    }
    tx.card = Some(Box::new(CardDetails {
        card_transaction_id: t.card_transaction_id.clone(),
        masked_pan: t.masked_pan.clone(),
        original_amount,
        merchant: t.transaction_details.clone(),
        invoiced: t.invoiced,
        ..CardDetails::default()
    }));
    Ok(tx)
}

/// Every card transaction of one page, each mapped or its [`EntryError`] (path
/// `cardTransactions.booked[3].field`, with the entry's `cardTransactionId`): pending first,
/// then booked (the order Handelsbanken's account transaction lists use).
pub fn card_transaction_entries(
    report: &raw::CardTransactionReport,
) -> Vec<Result<Transaction, EntryError>> {
    let lists = [
        (
            "cardTransactions.pending",
            &report.pending,
            TransactionStatus::Pending,
        ),
        (
            "cardTransactions.booked",
            &report.booked,
            TransactionStatus::Booked,
        ),
    ];
    let mut out = Vec::with_capacity(report.pending.len() + report.booked.len());
    for (name, list, status) in lists {
        for (i, t) in list.iter().enumerate() {
            out.push(
                card_entry(t, status.clone())
                    .map_err(|e| entry_error(e, name, i, t.card_transaction_id.as_ref())),
            );
        }
    }
    out
}

#[cfg(test)]
/// All transactions of one card transactions page: pending first, then booked; the first
/// entry that does not map fails it (its error names the entry's path).
pub fn card_transactions(report: &raw::CardTransactionReport) -> Result<Vec<Transaction>, Error> {
    card_transaction_entries(report)
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| e.into_error(BANK, MAPPING))
}

/// The `next` link of a page's `_links`, decoded leniently from the body.
fn links_from(value: Option<&serde_json::Value>, path: &str) -> Result<Links, EntryError> {
    let mut links = Links::new();
    if let Some(v) = value.filter(|v| !v.is_null()) {
        let paging: raw::PagingLinks = decode_entry(v, path)?;
        if let Some(href) = next_href(Some(&paging)) {
            links.insert("next".to_owned(), Link::new(href));
        }
    }
    Ok(links)
}

/// The account transaction list answer from its body, entry by entry: an entry that does
/// not decode (a bad date, a wrong type) or does not map becomes that entry's
/// [`EntryError`] and the other entries are kept. For answers the raw client could not
/// decode as a whole. The page fails as a whole (as [`Error`]) when the body is not JSON,
/// is an error body, has no `transactions` list, or its `_links` do not decode.
pub fn transactions_from_body(body: &[u8]) -> Result<ListedPage, Error> {
    const OP: &str = "transactions";
    let root = listing_root(BANK, OP, body, "transactions", true)?;
    let page_error = |e: EntryError| e.into_error(BANK, OP).with_raw_body(body);
    let items = listing_list(&root, "transactions", "transactions", true).map_err(page_error)?;
    let links = links_from(root.get("_links"), "_links").map_err(page_error)?;
    let entries = items
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let id = entry_bank_id(value, "transactionId");
            decode_entry::<raw::Transaction>(value, "")
                .and_then(|t| transaction(&t))
                .map_err(|e| under_index(e, "transactions", i).with_bank_id(id))
        })
        .collect();
    Ok(ListedPage::new(entries, links))
}

/// The card transaction list answer from its body, entry by entry (pending, then booked),
/// as [`transactions_from_body`] does for accounts.
pub fn card_transactions_from_body(body: &[u8]) -> Result<ListedPage, Error> {
    const OP: &str = "card_transactions";
    let root = listing_root(BANK, OP, body, "cardTransactions", false)?;
    let page_error = |e: EntryError| e.into_error(BANK, OP).with_raw_body(body);
    let report = &root["cardTransactions"];
    let links = links_from(report.get("_links"), "cardTransactions._links").map_err(page_error)?;
    let mut entries = Vec::new();
    for (list, status) in [
        ("pending", TransactionStatus::Pending),
        ("booked", TransactionStatus::Booked),
    ] {
        let path = format!("cardTransactions.{list}");
        let items = listing_list(report, list, &path, false).map_err(page_error)?;
        for (i, value) in items.iter().enumerate() {
            let id = entry_bank_id(value, "cardTransactionId");
            let mapped = decode_entry::<raw::CardTransaction>(value, "")
                .and_then(|t| card_entry(&t, status.clone()));
            entries.push(mapped.map_err(|e| under_index(e, &path, i).with_bank_id(id)));
        }
    }
    Ok(ListedPage::new(entries, links))
}

/// The `next` href of a page's paging links, if any.
pub fn next_href(links: Option<&raw::PagingLinks>) -> Option<&str> {
    links
        .and_then(|l| l.next.as_ref())
        .map(|n| n.href.as_str())
        .filter(|h| !h.is_empty())
}

impl FromRaw<&raw::ScaMethodType> for ScaApproach {
    fn from_raw(t: &raw::ScaMethodType) -> Self {
        match t.trim().to_ascii_uppercase().as_str() {
            "REDIRECT" => ScaApproach::Redirect,
            "DECOUPLED" => ScaApproach::Decoupled,
            "EMBEDDED" => ScaApproach::Embedded,
            _ => ScaApproach::Other(t.0.clone()),
        }
    }
}

impl FromRaw<&raw::ConsentStatus> for ConsentStatus {
    fn from_raw(s: &raw::ConsentStatus) -> Self {
        ConsentStatus::from_bank_str(s)
    }
}

impl FromRaw<&raw::ScaMethod> for OfferedScaMethod {
    /// The approach from `scaMethodType`, and the `_links.authorization[]` endpoints (href,
    /// name, media type) that start it.
    fn from_raw(m: &raw::ScaMethod) -> Self {
        let mut offered = OfferedScaMethod::new(ScaApproach::from_raw(&m.sca_method_type));
        offered.authorization_links = m
            .links
            .iter()
            .flat_map(|l| &l.authorization)
            .map(|a| {
                Link::new(a.href.clone())
                    .with_name(a.name.clone())
                    .with_media_type(a.type_.clone())
            })
            .collect();
        offered
    }
}

impl FromRaw<&raw::ConsentResponse> for CreatedConsent {
    /// The consent (id and status), the approaches from `scaMethods` in the bank's order, and
    /// the methods with their authorization endpoints.
    fn from_raw(c: &raw::ConsentResponse) -> Self {
        let consent = Consent::new(
            ConsentId::new(c.consent_id.clone()),
            ConsentStatus::from_raw(&c.consent_status),
        );
        let approaches = c
            .sca_methods
            .iter()
            .map(|m| ScaApproach::from_raw(&m.sca_method_type))
            .collect();
        let mut created = CreatedConsent::new(consent, approaches);
        created.sca_methods = c
            .sca_methods
            .iter()
            .map(OfferedScaMethod::from_raw)
            .collect();
        created
    }
}

impl FromRaw<&raw::Consent> for Consent {
    fn from_raw(c: &raw::Consent) -> Self {
        let mut consent = Consent::new(
            ConsentId::new(c.consent_id.clone()),
            ConsentStatus::from_raw(&c.consent_status),
        );
        consent.valid_until = c.valid_until;
        consent.last_action_date = c.last_action_date;
        consent
    }
}

/// What the token endpoint (or a completed decoupled order) granted. `Debug` shows no
/// token and no scope (the scope `AIS:<consentId>` holds the consent id).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenGrant {
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token, for authorization-code, refresh and decoupled grants.
    pub refresh_token: Option<RefreshToken>,
    /// How long the access token is valid from now (`expires_in`; negative becomes zero).
    pub expires_in: Duration,
    /// The granted scope (`AIS`, or `AIS:<consentId>`), kept secret.
    pub scope: Option<Secret>,
    /// The token type, normally `Bearer`.
    pub token_type: String,
}

impl TokenGrant {
    /// When the token expires, counted from `now`.
    pub fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        chrono::Duration::from_std(self.expires_in)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// A session for `consent` holding these tokens, expiring `expires_in` after `now`.
    pub fn into_session(self, consent: ConsentId, now: DateTime<Utc>) -> Session {
        let expires_at = self.expires_at(now);
        let session = Session::new(consent).with_access_token(self.access_token, Some(expires_at));
        match self.refresh_token {
            Some(refresh) => session.with_refresh_token(refresh),
            None => session,
        }
    }
}

fn seconds(secs: i64) -> Duration {
    Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

impl FromRaw<&raw::TokenResponse> for TokenGrant {
    fn from_raw(t: &raw::TokenResponse) -> Self {
        Self {
            access_token: AccessToken::new(t.access_token.clone()),
            refresh_token: t.refresh_token.clone().map(RefreshToken::new),
            expires_in: seconds(t.expires_in),
            scope: t.scope.clone().map(Secret::new),
            token_type: t.token_type.clone(),
        }
    }
}

/// Milliseconds from `sleepTime` (negative becomes zero).
fn sleep_time(ms: Option<i32>) -> Option<Duration> {
    ms.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

impl FromRaw<&raw::DecoupledAuthorizationResponse> for ScaChallenge {
    /// A decoupled challenge: poll with `orderRef` (and the poll href) every `sleepTime` ms
    /// (the default interval when absent); `autoStartToken` opens Mobile BankID.
    fn from_raw(d: &raw::DecoupledAuthorizationResponse) -> Self {
        let mut handle = DecoupledHandle::new(d.order_ref.clone());
        if let Some(interval) = sleep_time(d.sleep_time) {
            handle = handle.with_poll_interval(interval);
        }
        if let Some(href) = d.links.as_ref().and_then(|l| l.poll.as_ref()) {
            handle = handle.with_poll_href(href.href.clone());
        }
        let poll_interval = handle.poll_interval();
        ScaChallenge::Decoupled {
            handle,
            auto_start_token: d.auto_start_token.clone().map(Secret::new),
            poll_interval,
            message: None,
        }
    }
}

/// One poll of a Mobile BankID order: `PENDING` → pending (hint code as hint, `sleepTime`
/// as interval); `COMPLETE` → a session with the decoupled-grant tokens; `FAILED` → failed
/// with the hint code as reason. An unknown status is an error ([`ErrorKind::ScaFailed`],
/// saying only the text's length): polling a state this crate cannot read would only end in
/// the caller's timeout, and a final state must not pass for pending.
pub fn decoupled_progress(
    s: &raw::DecoupledAuthorizationStatus,
    consent: &ConsentId,
    now: DateTime<Utc>,
) -> Result<ScaProgress<Session>, Error> {
    let hint = s.hint_code.as_ref().map(|h| h.0.clone());
    match s.status.trim().to_ascii_uppercase().as_str() {
        "COMPLETE" => {
            let access = s
                .access_token
                .clone()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    bad("the decoupled order is COMPLETE but carries no access token")
                })?;
            let grant = TokenGrant {
                access_token: AccessToken::new(access),
                refresh_token: s.refresh_token.clone().map(RefreshToken::new),
                expires_in: seconds(s.expires_in.unwrap_or(0)),
                scope: s.scope.clone().map(Secret::new),
                token_type: s.token_type.clone().unwrap_or_else(|| "Bearer".into()),
            };
            let mut session = grant.clone().into_session(consent.clone(), now);
            if s.expires_in.is_none() {
                session.expires_at = None;
            }
            Ok(ScaProgress::Done(session))
        }
        "FAILED" => Ok(ScaProgress::Failed { reason: hint }),
        "PENDING" => Ok(ScaProgress::Pending {
            poll_interval: sleep_time(s.sleep_time),
            hint,
        }),
        _ => Err(Error::new(ErrorKind::ScaFailed, BANK, MAPPING).with_detail(format!(
            "the bank reported an SCA order status this crate does not know ({} characters); polling stopped",
            s.status.chars().count()
        ))),
    }
}
