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
use crate::error::{BankMessage, Error, ErrorKind};
use crate::link::Links;
use crate::psu::Psu;
use crate::sca::{
    DecoupledHandle, OfferedScaMethod, RedirectCallback, ScaApproach, ScaChallenge, ScaMethod,
    ScaProgress,
};
use crate::secret::{AccessToken, ConsentId, RefreshToken};
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

/// A bank adapter: its name, and which capabilities it has.
///
/// Supertrait of the capability traits, so `dyn Consents` etc. know their bank's name; the
/// `as_*` accessors let a `Box<dyn Bank>` chosen at run time hand out its capabilities
/// (an adapter overrides them with `Some(self)`).
pub trait Bank: Send + Sync {
    /// Short lower-case name used in errors and the CLI, e.g. `"handelsbanken"`.
    fn name(&self) -> &'static str;

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
    /// handle's) between polls; [`ErrorKind::Timeout`] after `timeout`,
    /// [`ErrorKind::ScaFailed`] if the bank reports failure (its reason as a message code).
    async fn wait_for_decoupled(
        &self,
        consent: &ConsentId,
        handle: &DecoupledHandle,
        timeout: Duration,
        psu: &Psu,
    ) -> Result<Session, Error> {
        let bank = self.name();
        let poll = async {
            loop {
                match self.poll_decoupled(consent, handle, psu).await? {
                    ScaProgress::Done(session) => return Ok(session),
                    ScaProgress::Failed { reason } => {
                        let mut error =
                            Error::new(ErrorKind::ScaFailed, bank, "wait_for_decoupled");
                        if let Some(reason) = reason {
                            error = error.with_message(BankMessage::code_only(reason));
                        }
                        return Err(error);
                    }
                    ScaProgress::Pending { poll_interval, .. } => {
                        tokio::time::sleep(poll_interval.unwrap_or(handle.poll_interval())).await;
                    }
                }
            }
        };
        match tokio::time::timeout(timeout, poll).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(ErrorKind::Timeout, bank, "wait_for_decoupled")
                .with_detail(format!("SCA not finished after {}s", timeout.as_secs()))),
        }
    }

    /// Deletes (terminates) the consent.
    async fn delete_consent(&self, consent: &ConsentId, psu: &Psu) -> Result<(), Error>;
}

/// Reading payment accounts, balances and transactions under a [`Session`].
#[async_trait]
pub trait AccountInformation: Bank {
    /// The accounts the consent covers; balances only if `with_balances`.
    async fn accounts(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<Vec<Account>, Error>;

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
    /// [`crate::pagination`]); the query is applied to every page.
    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>>;

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
mod tests {
    use super::*;
    use crate::money::Money;
    use crate::pagination::{Page, Paginator};
    use crate::transaction::TransactionStatus;
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fake bank whose decoupled polls follow a script (the last answer repeats).
    struct Fake {
        script: Mutex<VecDeque<ScaProgress<Session>>>,
        polls: AtomicUsize,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
    }

    impl Fake {
        fn new(script: Vec<ScaProgress<Session>>) -> Self {
            Self {
                script: Mutex::new(script.into()),
                polls: AtomicUsize::new(0),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
            }
        }
    }

    impl Bank for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }
        fn as_consents(&self) -> Option<&dyn Consents> {
            Some(self)
        }
        fn as_account_information(&self) -> Option<&dyn AccountInformation> {
            Some(self)
        }
    }

    fn pending() -> ScaProgress<Session> {
        ScaProgress::Pending {
            poll_interval: None,
            hint: None,
        }
    }

    #[async_trait]
    impl Consents for Fake {
        async fn create_consent(
            &self,
            _: &ConsentRequest,
            _: &Psu,
        ) -> Result<CreatedConsent, Error> {
            Err(Error::unsupported(self.name(), "create_consent"))
        }
        async fn consent_status(&self, _: &ConsentId, _: &Psu) -> Result<ConsentStatus, Error> {
            Ok(ConsentStatus::Valid)
        }
        async fn start_sca(
            &self,
            _: &ConsentId,
            _: &ScaMethod,
            _: &Psu,
        ) -> Result<ScaChallenge, Error> {
            Err(Error::unsupported(self.name(), "start_sca"))
        }
        async fn poll_decoupled(
            &self,
            _: &ConsentId,
            _: &DecoupledHandle,
            _: &Psu,
        ) -> Result<ScaProgress<Session>, Error> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            let mut script = self.script.lock().unwrap();
            if script.len() > 1 {
                Ok(script.pop_front().unwrap())
            } else {
                Ok(script.front().cloned().unwrap())
            }
        }
        async fn delete_consent(&self, _: &ConsentId, _: &Psu) -> Result<(), Error> {
            Ok(())
        }
    }

    #[async_trait]
    impl AccountInformation for Fake {
        async fn accounts(&self, _: &Session, _: &Psu, _: bool) -> Result<Vec<Account>, Error> {
            Ok(vec![Account::new(AccountId::new("a1"))])
        }

        fn transactions<'a>(
            &'a self,
            _: &'a Session,
            _: &'a Psu,
            account: &'a AccountId,
            _: &'a TransactionQuery,
        ) -> BoxStream<'a, Result<Transaction, Error>> {
            let pages = if account.as_str() == "bad" { 0 } else { 3 };
            Paginator::new("fake", "transactions").stream(move |cursor: Option<u32>| async move {
                let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                self.max_in_flight.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                if pages == 0 {
                    return Err(Error::new(
                        ErrorKind::ResourceUnknown,
                        "fake",
                        "transactions",
                    ));
                }
                let page = cursor.unwrap_or(0);
                let tx = Transaction::new(
                    TransactionStatus::Booked,
                    Money::parse("-1.00", "SEK").unwrap(),
                );
                Ok(Page::new(vec![tx], (page + 1 < pages).then_some(page + 1)))
            })
        }
    }

    fn session() -> Session {
        Session::new(ConsentId::new("c-secret"))
    }

    #[tokio::test(start_paused = true)]
    async fn decoupled_pending_then_done() {
        let done = session().with_access_token(AccessToken::new("tok-secret"), None);
        let fake = Fake::new(vec![pending(), pending(), ScaProgress::Done(done.clone())]);
        let handle = DecoupledHandle::new("order").with_poll_interval(Duration::from_secs(2));
        let start = tokio::time::Instant::now();
        let got = fake
            .wait_for_decoupled(
                &ConsentId::new("c"),
                &handle,
                Duration::from_secs(60),
                &Psu::absent(),
            )
            .await
            .unwrap();
        assert_eq!(got, done);
        assert_eq!(fake.polls.load(Ordering::SeqCst), 3);
        assert_eq!(start.elapsed(), Duration::from_secs(4));
        assert!(!format!("{got:?}").contains("tok-secret"));
    }

    #[tokio::test(start_paused = true)]
    async fn decoupled_bank_interval_wins() {
        let fake = Fake::new(vec![
            ScaProgress::Pending {
                poll_interval: Some(Duration::from_secs(5)),
                hint: Some("outstandingTransaction".into()),
            },
            ScaProgress::Done(session()),
        ]);
        let start = tokio::time::Instant::now();
        fake.wait_for_decoupled(
            &ConsentId::new("c"),
            &DecoupledHandle::new("o"),
            Duration::from_secs(60),
            &Psu::absent(),
        )
        .await
        .unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn decoupled_pending_then_failed() {
        let fake = Fake::new(vec![
            pending(),
            ScaProgress::Failed {
                reason: Some("userCancel".into()),
            },
        ]);
        let err = fake
            .wait_for_decoupled(
                &ConsentId::new("c"),
                &DecoupledHandle::new("o"),
                Duration::from_secs(60),
                &Psu::absent(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::ScaFailed);
        assert_eq!(err.codes().collect::<Vec<_>>(), ["userCancel"]);
    }

    #[tokio::test(start_paused = true)]
    async fn decoupled_timeout() {
        let fake = Fake::new(vec![pending()]);
        let handle = DecoupledHandle::new("o").with_poll_interval(Duration::from_secs(2));
        let start = tokio::time::Instant::now();
        let err = fake
            .wait_for_decoupled(
                &ConsentId::new("c"),
                &handle,
                Duration::from_secs(29),
                &Psu::absent(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert_eq!(start.elapsed(), Duration::from_secs(29));
        // Polls at 0, 2, ..., 28 s.
        assert_eq!(fake.polls.load(Ordering::SeqCst), 15);
    }

    #[tokio::test]
    async fn defaults_are_unsupported_or_derived() {
        let fake = Fake::new(vec![pending()]);
        let bank: &dyn Bank = &fake;
        let ai = bank.as_account_information().unwrap();
        let err = ai
            .account(&session(), &Psu::absent(), &AccountId::new("a1"), false)
            .await
            .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Unsupported {
                operation: "account"
            }
        );
        // balances falls back to account(with_balances = true), which is unsupported here.
        assert_eq!(
            ai.balances(&session(), &Psu::absent(), &AccountId::new("a1"))
                .await
                .unwrap_err()
                .kind,
            ErrorKind::Unsupported {
                operation: "account"
            }
        );
        let consents = bank.as_consents().unwrap();
        let c = consents
            .consent(&ConsentId::new("c"), &Psu::absent())
            .await
            .unwrap();
        assert_eq!(c.status, ConsentStatus::Valid);
        assert!(bank.as_card_account_information().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_transactions_are_bounded() {
        let fake = Fake::new(vec![pending()]);
        let boxed: Box<dyn AccountInformation> = Box::new(fake);
        let accounts: Vec<AccountId> = ["a", "b", "bad", "c", "d", "e"]
            .into_iter()
            .map(AccountId::from)
            .collect();
        let query = TransactionQuery::default();
        let sess = session();
        let psu = Psu::absent();
        let mut results: Vec<(AccountId, Result<Vec<Transaction>, Error>)> =
            transactions_for_accounts(boxed.as_ref(), &sess, &psu, &accounts, &query, 2)
                .collect()
                .await;
        results.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(results.len(), 6);
        for (id, result) in &results {
            if id.as_str() == "bad" {
                assert_eq!(
                    result.as_ref().unwrap_err().kind,
                    ErrorKind::ResourceUnknown
                );
            } else {
                assert_eq!(result.as_ref().unwrap().len(), 3, "{id}");
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_limit_is_respected() {
        let fake = Fake::new(vec![pending()]);
        let accounts: Vec<AccountId> = (0..8).map(|i| AccountId::new(format!("a{i}"))).collect();
        let query = TransactionQuery::default();
        let sess = session();
        let psu = Psu::absent();
        let n = transactions_for_accounts(&fake, &sess, &psu, &accounts, &query, 3)
            .count()
            .await;
        assert_eq!(n, 8);
        assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 3);
    }
}
