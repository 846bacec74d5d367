//! Plain `From`/`TryFrom` code from Handelsbanken's raw types into the domain model.
//!
//! Rules:
//! - Amounts are JSON numbers in the raw types (`rust_decimal::Decimal`, parsed from the
//!   number's literal text), so `2000` stays `2000` and `12500.5` stays `12500.5`.
//! - Account transactions carry a non-negative amount plus `creditDebit`; the domain amount is
//!   signed: `DEBIT` → negative, `CREDIT` → positive, anything else → as sent.
//!   Card transactions are already signed by the bank and are kept as sent.
//! - Open string enums (balance type, statuses, SCA method type) go through the domain
//!   `from_bank_str`, so unknown values become `Other(text)` and never fail a response.
//! - A bad currency code in an amount fails that mapping with
//!   [`ErrorKind::UnexpectedResponse`] (money without a
//!   currency is meaningless); an account's own bad currency is dropped (`None`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use psd2_raw_handelsbanken::types as raw;

use crate::account::{Account, AccountId, AccountReference, AccountStatus, IbanOrRaw};
use crate::api::{CreatedConsent, Session};
use crate::balance::{Balance, BalanceType};
use crate::card_account::CardAccount;
use crate::consent::{Consent, ConsentStatus};
use crate::error::{Error, ErrorKind};
use crate::link::Link;
use crate::money::{Currency, Money};
use crate::sca::{DecoupledHandle, OfferedScaMethod, ScaApproach, ScaChallenge, ScaProgress};
use crate::secret::{AccessToken, ConsentId, RefreshToken, Secret};
use crate::transaction::{
    BankTransactionCode, CardDetails, CurrencyExchange, Party, Transaction, TransactionId,
    TransactionStatus,
};

/// The bank name used in errors.
pub(crate) const BANK: &str = "handelsbanken";

/// Operation name of errors raised while mapping (the adapter replaces it with the call's).
const MAPPING: &str = "map_response";

fn bad(detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::UnexpectedResponse, BANK, MAPPING).with_detail(detail)
}

impl TryFrom<&raw::Amount> for Money {
    type Error = Error;

    fn try_from(a: &raw::Amount) -> Result<Self, Error> {
        let currency = Currency::new(&a.currency)
            .map_err(|_| bad("an amount has an invalid currency code"))?;
        Ok(Money::new(a.amount, currency))
    }
}

impl TryFrom<&raw::AccountBalance> for Balance {
    type Error = Error;

    fn try_from(b: &raw::AccountBalance) -> Result<Self, Error> {
        Ok(Balance::new(
            BalanceType::from_bank_str(&b.balance_type),
            Money::try_from(&b.amount)?,
        ))
    }
}

impl TryFrom<&raw::CardBalance> for Balance {
    type Error = Error;

    fn try_from(b: &raw::CardBalance) -> Result<Self, Error> {
        let mut balance = Balance::new(
            BalanceType::from_bank_str(&b.balance_type),
            Money::try_from(&b.balance_amount)?,
        );
        balance.credit_limit_included = b.credit_limit_included;
        Ok(balance)
    }
}

fn balances<'a, B>(list: impl IntoIterator<Item = &'a B>) -> Result<Vec<Balance>, Error>
where
    B: 'a,
    Balance: TryFrom<&'a B, Error = Error>,
{
    list.into_iter().map(Balance::try_from).collect()
}

impl TryFrom<&raw::Account> for Account {
    type Error = Error;

    /// `accountType` becomes `product`; `clearingNumber` and `_links` are kept as sent.
    fn try_from(a: &raw::Account) -> Result<Self, Error> {
        let mut account = Account::new(AccountId::new(a.account_id.clone()));
        account.iban = a.iban.as_deref().map(IbanOrRaw::parse);
        account.bban = a.bban.clone();
        account.currency = Currency::new(&a.currency).ok();
        account.name = a.name.clone();
        account.product = a.account_type.clone();
        account.owner_name = a.owner_name.clone();
        account.status = a.status.as_deref().map(AccountStatus::from_bank_str);
        account.balances = balances(&a.balances)?;
        account.clearing_number = a.clearing_number.clone();
        if let Some(href) = a.links.as_ref().and_then(|l| l.transactions.as_ref()) {
            account
                .links
                .insert("transactions".to_owned(), Link::new(href.href.clone()));
        }
        Ok(account)
    }
}

impl TryFrom<&raw::CardAccount> for CardAccount {
    type Error = Error;

    fn try_from(c: &raw::CardAccount) -> Result<Self, Error> {
        let mut card = CardAccount::new(AccountId::new(c.account_id.clone()));
        card.masked_pans = c.cards.iter().map(|k| k.masked_pan.clone()).collect();
        card.product = c.product.clone();
        card.currency = Currency::new(&c.currency).ok();
        card.name = c.name.clone();
        card.owner_name = c.owner_name.clone();
        card.credit_limit = c.credit_limit.as_ref().map(Money::try_from).transpose()?;
        card.balances = balances(&c.balances)?;
        Ok(card)
    }
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

impl TryFrom<&raw::Transaction> for Transaction {
    type Error = Error;

    /// Signs the amount by `creditDebit`; the counterparty becomes the creditor of a debit
    /// and the debtor of a credit; `balance` becomes `balance_after` (an interim booked
    /// balance); `bankTransactionCode` becomes the proprietary bank transaction code.
    fn try_from(t: &raw::Transaction) -> Result<Self, Error> {
        let mut amount = Money::try_from(&t.amount)?;
        let direction = t.credit_debit.trim().to_ascii_uppercase();
        match direction.as_str() {
            "DEBIT" => amount.amount = -amount.amount.abs(),
            "CREDIT" => amount.amount = amount.amount.abs(),
            _ => {}
        }
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
            if direction == "CREDIT" {
                tx.debtor = Some(party);
            } else {
                tx.creditor = Some(party);
            }
        }
        tx.balance_after = t
            .balance
            .as_ref()
            .map(|b| Money::try_from(b).map(|m| Balance::new(BalanceType::InterimBooked, m)))
            .transpose()?;
        tx.bank_transaction_code =
            t.bank_transaction_code
                .clone()
                .map(|code| BankTransactionCode {
                    proprietary: Some(code),
                    ..BankTransactionCode::default()
                });
        Ok(tx)
    }
}

/// A card transaction as a domain [`Transaction`] with [`CardDetails`]; `status` is `Booked`
/// or `Pending` by the list the bank put it in. The amount is kept as sent (already signed).
pub fn card_transaction(
    t: &raw::CardTransaction,
    status: TransactionStatus,
) -> Result<Transaction, Error> {
    let amount = Money::try_from(&t.transaction_amount)?;
    let original_amount = t
        .original_amount
        .as_ref()
        .map(Money::try_from)
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

/// All transactions of one card transactions page: pending first, then booked (the order
/// Handelsbanken's account transaction lists use).
pub fn card_transactions(report: &raw::CardTransactionReport) -> Result<Vec<Transaction>, Error> {
    let pending = report
        .pending
        .iter()
        .map(|t| card_transaction(t, TransactionStatus::Pending));
    let booked = report
        .booked
        .iter()
        .map(|t| card_transaction(t, TransactionStatus::Booked));
    pending.chain(booked).collect()
}

/// The `next` href of a page's paging links, if any.
pub fn next_href(links: Option<&raw::PagingLinks>) -> Option<&str> {
    links
        .and_then(|l| l.next.as_ref())
        .map(|n| n.href.as_str())
        .filter(|h| !h.is_empty())
}

impl From<&raw::ScaMethodType> for ScaApproach {
    fn from(t: &raw::ScaMethodType) -> Self {
        match t.trim().to_ascii_uppercase().as_str() {
            "REDIRECT" => ScaApproach::Redirect,
            "DECOUPLED" => ScaApproach::Decoupled,
            "EMBEDDED" => ScaApproach::Embedded,
            _ => ScaApproach::Other(t.0.clone()),
        }
    }
}

impl From<&raw::ConsentStatus> for ConsentStatus {
    fn from(s: &raw::ConsentStatus) -> Self {
        ConsentStatus::from_bank_str(s)
    }
}

impl From<&raw::ScaMethod> for OfferedScaMethod {
    /// The approach from `scaMethodType`, and the `_links.authorization[]` endpoints (href,
    /// name, media type) that start it.
    fn from(m: &raw::ScaMethod) -> Self {
        let mut offered = OfferedScaMethod::new(ScaApproach::from(&m.sca_method_type));
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

impl From<&raw::ConsentResponse> for CreatedConsent {
    /// The consent (id and status), the approaches from `scaMethods` in the bank's order, and
    /// the methods with their authorization endpoints.
    fn from(c: &raw::ConsentResponse) -> Self {
        let consent = Consent::new(
            ConsentId::new(c.consent_id.clone()),
            ConsentStatus::from(&c.consent_status),
        );
        let approaches = c
            .sca_methods
            .iter()
            .map(|m| ScaApproach::from(&m.sca_method_type))
            .collect();
        let mut created = CreatedConsent::new(consent, approaches);
        created.sca_methods = c.sca_methods.iter().map(OfferedScaMethod::from).collect();
        created
    }
}

impl From<&raw::Consent> for Consent {
    fn from(c: &raw::Consent) -> Self {
        let mut consent = Consent::new(
            ConsentId::new(c.consent_id.clone()),
            ConsentStatus::from(&c.consent_status),
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

impl From<&raw::TokenResponse> for TokenGrant {
    fn from(t: &raw::TokenResponse) -> Self {
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

impl From<&raw::DecoupledAuthorizationResponse> for ScaChallenge {
    /// A decoupled challenge: poll with `orderRef` (and the poll href) every `sleepTime` ms
    /// (the default interval when absent); `autoStartToken` opens Mobile BankID.
    fn from(d: &raw::DecoupledAuthorizationResponse) -> Self {
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
/// with the hint code as reason. An unknown status counts as pending (its text as the hint),
/// so a new intermediate state cannot end SCA; the caller's timeout bounds the wait.
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
        _ => Ok(ScaProgress::Pending {
            poll_interval: sleep_time(s.sleep_time),
            hint: Some(hint.unwrap_or_else(|| s.status.0.clone())),
        }),
    }
}
