//! Tests of the traits' default methods and helpers, against a scripted fake bank.

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
    /// The poll with this 1-based number answers 503 (0: none).
    fail_poll: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Fake {
    fn new(script: Vec<ScaProgress<Session>>) -> Self {
        Self {
            script: Mutex::new(script.into()),
            polls: AtomicUsize::new(0),
            fail_poll: AtomicUsize::new(0),
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
    async fn create_consent(&self, _: &ConsentRequest, _: &Psu) -> Result<CreatedConsent, Error> {
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
        let n = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_poll.load(Ordering::SeqCst) {
            return Err(Error::from_response("fake", "poll", 503, b"", None));
        }
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
    assert_eq!(err.kind, ErrorKind::ScaFailed, "not a network timeout");
    assert!(crate::sca::is_sca_timeout(&err), "{err}");
    assert!(err.to_string().contains("15 polls"), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(29));
    // Polls at 0, 2, ..., 28 s.
    assert_eq!(fake.polls.load(Ordering::SeqCst), 15);
}

#[tokio::test(start_paused = true)]
async fn decoupled_intervals_are_floored_and_capped() {
    for (asked, polls_in_30s) in [
        (Duration::ZERO, 30),
        (Duration::from_millis(1), 30),
        (Duration::from_secs(3600), 3),
    ] {
        let fake = Fake::new(vec![ScaProgress::Pending {
            poll_interval: Some(asked),
            hint: None,
        }]);
        let err = fake
            .wait_for_decoupled(
                &ConsentId::new("c"),
                &DecoupledHandle::new("o"),
                Duration::from_millis(29_500),
                &Psu::absent(),
            )
            .await
            .unwrap_err();
        assert!(crate::sca::is_sca_timeout(&err));
        // 1 s floor: polls at 0, 1, ..., 29 s; 10 s cap: at 0, 10, 20 s.
        assert_eq!(fake.polls.load(Ordering::SeqCst), polls_in_30s, "{asked:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_transient_poll_failure_does_not_end_the_sca() {
    let done = session().with_access_token(AccessToken::new("tok"), None);
    let fake = Fake::new(vec![pending(), pending(), ScaProgress::Done(done.clone())]);
    fake.fail_poll.store(2, Ordering::SeqCst);
    let got = fake
        .wait_for_decoupled(
            &ConsentId::new("c"),
            &DecoupledHandle::new("o"),
            Duration::from_secs(60),
            &Psu::absent(),
        )
        .await
        .unwrap();
    assert_eq!(got, done);
    assert_eq!(
        fake.polls.load(Ordering::SeqCst),
        4,
        "the 503 poll, then three"
    );
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
