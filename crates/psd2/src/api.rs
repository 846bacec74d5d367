//! The bank-neutral traits every adapter implements, and helpers over them.
//!
//! Traits use `async_trait` (boxed `Send` futures) so they stay object safe:
//! `Box<dyn AccountInformation>` and `&dyn Bank` work. Listings that page return a
//! [`BoxStream`] directly (not a future), built with [`crate::pagination::Paginator`].
//!
//! Calls after SCA take a [`Session`]: the consent id plus whatever token the bank issued for
//! it. It is explicit (not hidden adapter state) so one adapter value serves many PSUs at once
//! and a CLI can store a session between runs.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};

use crate::account::{Account, AccountId};
use crate::balance::Balance;
use crate::card_account::CardAccount;
use crate::consent::{Consent, ConsentRequest, ConsentStatus};
use crate::entry::TransactionPage;
use crate::error::{BankMessage, Error, ErrorKind};
use crate::link::Links;
use crate::pagination::PageCursor;
use crate::psu::Psu;
use crate::sca::{
    DecoupledHandle, EmbeddedHandle, OfferedScaMethod, RedirectCallback, ScaApproach, ScaChallenge,
    ScaMethod, ScaProgress,
};
use crate::secret::{AccessToken, ConsentId, RefreshToken, Secret};
use crate::transaction::{Transaction, TransactionId, TransactionQuery};

/// An authorised consent: what every account-information call needs.
///
/// Berlin Group banks need only the consent id (sent as `Consent-ID`); Handelsbanken also
/// needs the access token issued at the end of SCA. `Debug` redacts all secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Session {
    /// The consent.
    pub consent_id: ConsentId,
    /// The bank's access token for this consent, where it issues one.
    pub access_token: Option<AccessToken>,
    /// A refresh token, where the bank issues one.
    pub refresh_token: Option<RefreshToken>,
    /// When `access_token` expires.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Session {
    /// A session that is just the consent id (Berlin Group banks).
    pub fn new(consent_id: ConsentId) -> Self {
        Self {
            consent_id,
            access_token: None,
            refresh_token: None,
            expires_at: None,
        }
    }

    /// Adds the access token issued for the consent.
    pub fn with_access_token(
        mut self,
        token: AccessToken,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        self.access_token = Some(token);
        self.expires_at = expires_at;
        self
    }

    /// Adds a refresh token.
    pub fn with_refresh_token(mut self, token: RefreshToken) -> Self {
        self.refresh_token = Some(token);
        self
    }
}

/// The answer to creating a consent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatedConsent {
    /// The new consent (status usually `received`).
    pub consent: Consent,
    /// The SCA approaches the bank offers for it.
    pub approaches: Vec<ScaApproach>,
    /// The SCA methods the bank offers, with their details (ids, names, start endpoints);
    /// `approaches` is their summary. Empty when the bank lists none.
    pub sca_methods: Vec<OfferedScaMethod>,
    /// The answer's links (`self`, `status`, `startAuthorisation`, ...), with the consent id
    /// in their hrefs replaced by [`CONSENT_ID_PLACEHOLDER`](crate::link::CONSENT_ID_PLACEHOLDER)
    /// (see [`Link::href_for`](crate::link::Link::href_for)).
    pub links: Links,
    /// A challenge the bank started right away (implicit start), if any.
    pub challenge: Option<ScaChallenge>,
}

impl CreatedConsent {
    /// A created consent without an immediate challenge.
    pub fn new(consent: Consent, approaches: Vec<ScaApproach>) -> Self {
        Self {
            consent,
            approaches,
            sca_methods: Vec::new(),
            links: Links::new(),
            challenge: None,
        }
    }
}

/// The accounts a consent covers, with what could not be read.
///
/// From [`AccountInformation::account_list`]: the accounts that arrived, and for each
/// account whose balances were asked for but did not arrive, the reason.
#[derive(Debug)]
#[non_exhaustive]
pub struct AccountList {
    /// Every listed account; an account named in `missing` has no balances.
    pub accounts: Vec<Account>,
    /// Accounts whose balances did not arrive, each with why.
    pub missing: Vec<MissingBalances>,
}

impl AccountList {
    /// A list of `accounts` with `missing` balances.
    pub fn new(accounts: Vec<Account>, missing: Vec<MissingBalances>) -> Self {
        Self { accounts, missing }
    }
}

/// Balances of one account that did not arrive, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct MissingBalances {
    /// The account.
    pub account: AccountId,
    /// Why (e.g. [`ErrorKind::AccessExceeded`] when the consent's daily budget ran out).
    pub error: Error,
}

impl MissingBalances {
    /// `account`'s balances are missing because of `error`.
    pub fn new(account: AccountId, error: Error) -> Self {
        Self { account, error }
    }
}

/// A bank adapter: its name, and which capabilities it has.
///
/// Supertrait of the capability traits, so `dyn Consents` etc. know their bank's name; the
/// `as_*` accessors let a `Box<dyn Bank>` chosen at run time hand out its capabilities
/// (an adapter overrides them with `Some(self)`).
///
/// # "Not offered", said one way
///
/// A capability the bank does not have at all (Open Payments and Swedbank have no card
/// account API) is `None` from its `as_*` accessor; the adapter does not implement that
/// trait. Within a capability the bank has, a single operation it does not offer (e.g.
/// [`AccountInformation::transaction_details`] at Handelsbanken) returns
/// [`ErrorKind::Unsupported`] naming the operation.
///
/// # Cost in unattended calls
///
/// Each method's docs say how many requests it sends to the bank (retries of transient
/// failures aside, see [`crate::retry`]); without the PSU present every request counts
/// against the consent's `frequency_per_day` for its account.
pub trait Bank: Send + Sync {
    /// Short lower-case name used in errors and the CLI, e.g. `"handelsbanken"`.
    fn name(&self) -> &'static str;

    /// `session` with the newest tokens this adapter holds for it (renewed with the refresh
    /// token during earlier calls), e.g. to store between runs. Default, and for banks whose
    /// sessions hold no tokens: `session` unchanged. Sends nothing.
    fn current_session(&self, session: &Session) -> Session {
        session.clone()
    }

    /// Consent management, if offered.
    fn as_consents(&self) -> Option<&dyn Consents> {
        None
    }

    /// Account information, if offered.
    fn as_account_information(&self) -> Option<&dyn AccountInformation> {
        None
    }

    /// Card account information, if offered.
    fn as_card_account_information(&self) -> Option<&dyn CardAccountInformation> {
        None
    }
}

/// Creating, authorising (SCA), inspecting and deleting consents.
#[async_trait]
pub trait Consents: Bank {
    /// Creates a consent; SCA is started with [`Consents::start_sca`] unless the bank started
    /// it already (`CreatedConsent::challenge`).
    async fn create_consent(
        &self,
        request: &ConsentRequest,
        psu: &Psu,
    ) -> Result<CreatedConsent, Error>;

    /// The consent's current status.
    async fn consent_status(&self, consent: &ConsentId, psu: &Psu) -> Result<ConsentStatus, Error>;

    /// The consent with its details. Default: id and status only, from
    /// [`Consents::consent_status`].
    async fn consent(&self, consent: &ConsentId, psu: &Psu) -> Result<Consent, Error> {
        let status = self.consent_status(consent, psu).await?;
        Ok(Consent::new(consent.clone(), status))
    }

    /// Starts SCA with the chosen method; returns what the PSU must do.
    async fn start_sca(
        &self,
        consent: &ConsentId,
        method: &ScaMethod,
        psu: &Psu,
    ) -> Result<ScaChallenge, Error>;

    /// Finishes redirect SCA with the bank's callback (exchanging the code where the bank
    /// issues tokens). Callers check `state` first with [`RedirectCallback::verify_state`].
    async fn complete_redirect(
        &self,
        consent: &ConsentId,
        callback: &RedirectCallback,
        psu: &Psu,
    ) -> Result<Session, Error> {
        let _ = (consent, callback, psu);
        Err(Error::unsupported(self.name(), "complete_redirect"))
    }

    /// Polls a decoupled SCA once.
    async fn poll_decoupled(
        &self,
        consent: &ConsentId,
        handle: &DecoupledHandle,
        psu: &Psu,
    ) -> Result<ScaProgress<Session>, Error> {
        let _ = (consent, handle, psu);
        Err(Error::unsupported(self.name(), "poll_decoupled"))
    }

    /// Polls a decoupled SCA until it is done or failed, waiting the bank's interval (or the
    /// handle's) between polls, floored at 1 s and capped at 10 s
    /// ([`crate::sca::poll_interval`]).
    ///
    /// Ends with [`ErrorKind::ScaFailed`] if the bank reports failure (its reason as a message
    /// code) or a status this crate does not know, and with [`ErrorKind::ScaFailed`] whose
    /// detail starts with [`crate::sca::SCA_TIMED_OUT`] ([`crate::sca::is_sca_timeout`]) when
    /// the bank still answered "pending" after `timeout`. A poll that fails transiently (after
    /// the adapter's retries) does not end the SCA: polling goes on until `timeout`, and the
    /// last such error is returned if time runs out. Cost: one request per poll.
    async fn wait_for_decoupled(
        &self,
        consent: &ConsentId,
        handle: &DecoupledHandle,
        timeout: Duration,
        psu: &Psu,
    ) -> Result<Session, Error> {
        let bank = self.name();
        let mut polls: u32 = 0;
        let mut last_error: Option<Error> = None;
        let poll = async {
            loop {
                polls = polls.saturating_add(1);
                let wait = match self.poll_decoupled(consent, handle, psu).await {
                    Ok(ScaProgress::Done(session)) => return Ok(session),
                    Ok(ScaProgress::Failed { reason }) => {
                        let mut error =
                            Error::new(ErrorKind::ScaFailed, bank, "wait_for_decoupled");
                        if let Some(reason) = reason {
                            error = error.with_message(BankMessage::code_only(reason));
                        }
                        return Err(error);
                    }
                    Ok(ScaProgress::Pending { poll_interval, .. }) => {
                        last_error = None;
                        poll_interval.unwrap_or(handle.poll_interval())
                    }
                    Err(error) if crate::retry::is_transient(&error) => {
                        last_error = Some(error);
                        handle.poll_interval()
                    }
                    Err(error) => return Err(error),
                };
                tokio::time::sleep(crate::sca::poll_interval(wait)).await;
            }
        };
        match tokio::time::timeout(timeout, poll).await {
            Ok(result) => result,
            Err(_) => {
                if let Some(error) = last_error {
                    return Err(error);
                }
                Err(Error::new(ErrorKind::ScaFailed, bank, "wait_for_decoupled")
                    .with_detail(format!(
                        "{}: still pending after {} s and {polls} polls; the customer did not confirm in time",
                        crate::sca::SCA_TIMED_OUT,
                        timeout.as_secs()
                    )))
            }
        }
    }

    /// Embedded SCA: chooses the SCA method `method_id` (an
    /// [`OfferedScaMethod::id`] of the challenge) for the authorisation `handle`; the answer
    /// is the method's challenge (e.g. an SMS code was sent). Cost: 1 request, never
    /// retried. Default: [`ErrorKind::Unsupported`].
    async fn select_sca_method(
        &self,
        consent: &ConsentId,
        handle: &EmbeddedHandle,
        method_id: &str,
        psu: &Psu,
    ) -> Result<ScaChallenge, Error> {
        let _ = (consent, handle, method_id, psu);
        Err(Error::unsupported(self.name(), "select_sca_method"))
    }

    /// Embedded SCA: sends the PSU's one-time code for the authorisation `handle`; the
    /// session once the bank reports SCA finalised ([`ErrorKind::ScaFailed`] for a wrong
    /// code). Cost: 1 request, never retried. Default: [`ErrorKind::Unsupported`].
    async fn complete_embedded(
        &self,
        consent: &ConsentId,
        handle: &EmbeddedHandle,
        otp: &Secret,
        psu: &Psu,
    ) -> Result<Session, Error> {
        let _ = (consent, handle, otp, psu);
        Err(Error::unsupported(self.name(), "complete_embedded"))
    }

    /// Deletes (terminates) the consent.
    async fn delete_consent(&self, consent: &ConsentId, psu: &Psu) -> Result<(), Error>;
}

/// Reading payment accounts, balances and transactions under a [`Session`].
#[async_trait]
pub trait AccountInformation: Bank {
    /// The accounts the consent covers; balances only if `with_balances`. All or nothing.
    ///
    /// Cost: 1 request at Berlin Group banks (balances come with the list); at
    /// Handelsbanken 1, or with balances 1 + one per account.
    async fn accounts(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<Vec<Account>, Error>;

    /// Like [`AccountInformation::accounts`], but where balances take extra calls, one that
    /// fails does not lose what arrived: the accounts come back with
    /// [`AccountList::missing`] naming each account whose balances are missing, and why.
    /// Default: [`AccountInformation::accounts`] with nothing missing.
    ///
    /// Cost: as [`AccountInformation::accounts`].
    async fn account_list(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<AccountList, Error> {
        let accounts = self.accounts(session, psu, with_balances).await?;
        Ok(AccountList::new(accounts, Vec::new()))
    }

    /// One account's details.
    async fn account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        with_balances: bool,
    ) -> Result<Account, Error> {
        let _ = (session, psu, account, with_balances);
        Err(Error::unsupported(self.name(), "account"))
    }

    /// One account's balances. Default: the balances of [`AccountInformation::account`] with
    /// balances (Handelsbanken has no separate balances call).
    async fn balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        Ok(self.account(session, psu, account, true).await?.balances)
    }

    /// All transactions matching `query`, following every page (see
    /// [`crate::pagination`]); the query is applied to every page, and entries the bank sent
    /// outside the query's booking status are dropped. All or nothing: the first error,
    /// including the first entry that does not map, ends the stream.
    ///
    /// Cost: one request per page.
    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>>;

    /// The same listing page by page, with a result per entry (an entry that does not map
    /// is an [`EntryError`](crate::entry::EntryError), the others are kept) and the cursor
    /// of the next page, to store and resume from (`resume`) in a later run. A failed page is
    /// retried by the retry policy; a stored cursor the bank no longer accepts gives an error
    /// ([`ErrorKind::Pagination`] or the bank's 4xx): start again from the first page.
    ///
    /// Cost: one request per page. Default: [`ErrorKind::Unsupported`].
    fn transaction_pages<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<TransactionPage, Error>> {
        let _ = (session, psu, account, query, resume);
        stream::iter([Err(Error::unsupported(self.name(), "transaction_pages"))]).boxed()
    }

    /// One transaction's details (Open Payments: merge into the list entry with
    /// [`Transaction::merge_details`]).
    async fn transaction_details(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        transaction: &TransactionId,
    ) -> Result<Transaction, Error> {
        let _ = (session, psu, account, transaction);
        Err(Error::unsupported(self.name(), "transaction_details"))
    }
}

/// Reading card accounts (charge and credit cards). Every method defaults to
/// [`ErrorKind::Unsupported`], since most banks here have no card account API.
#[async_trait]
pub trait CardAccountInformation: Bank {
    /// The card accounts the consent covers.
    async fn card_accounts(&self, session: &Session, psu: &Psu) -> Result<Vec<CardAccount>, Error> {
        let _ = (session, psu);
        Err(Error::unsupported(self.name(), "card_accounts"))
    }

    /// One card account's details.
    async fn card_account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<CardAccount, Error> {
        let _ = (session, psu, account);
        Err(Error::unsupported(self.name(), "card_account"))
    }

    /// One card account's balances.
    async fn card_balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        let _ = (session, psu, account);
        Err(Error::unsupported(self.name(), "card_balances"))
    }

    /// All card transactions matching `query`, following every page.
    fn card_transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        let _ = (session, psu, account, query);
        stream::iter([Err(Error::unsupported(self.name(), "card_transactions"))]).boxed()
    }

    /// Card transactions page by page with per-entry results and a resumable cursor, as
    /// [`AccountInformation::transaction_pages`]. Cost: one request per page.
    fn card_transaction_pages<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<TransactionPage, Error>> {
        let _ = (session, psu, account, query, resume);
        stream::iter([Err(Error::unsupported(
            self.name(),
            "card_transaction_pages",
        ))])
        .boxed()
    }
}

/// Fetches all transactions of several accounts with at most `limit` listings in flight
/// (`buffer_unordered`); yields each account's id with its complete list or its error, in
/// completion order. A `limit` of 0 is treated as 1.
pub fn transactions_for_accounts<'a>(
    ai: &'a dyn AccountInformation,
    session: &'a Session,
    psu: &'a Psu,
    accounts: &'a [AccountId],
    query: &'a TransactionQuery,
    limit: usize,
) -> BoxStream<'a, (AccountId, Result<Vec<Transaction>, Error>)> {
    stream::iter(accounts)
        .map(move |account| async move {
            let result = ai
                .transactions(session, psu, account, query)
                .try_collect()
                .await;
            (account.clone(), result)
        })
        .buffer_unordered(limit.max(1))
        .boxed()
}

#[cfg(test)]
mod tests;
