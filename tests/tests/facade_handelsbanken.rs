//! The Handelsbanken adapter end to end against the in-process sandbox, through `&dyn`
//! traits: CCG token, consent, decoupled SCA (first test) and redirect SCA (second test,
//! following the authorize page's 302), accounts with balances, card accounts, every page of
//! the long-history account, an error path; and (third test) secret hygiene of all tracing
//! output and of the `Debug`/`Display` of every value and error of the flow.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use chrono::Days;
use futures::TryStreamExt;
use psd2::adapters::common::TransportConfig;
use psd2::adapters::handelsbanken::{Handelsbanken, HandelsbankenConfig};
use psd2::{
    AccountId, Bank, BookingStatus, ConsentRequest, ConsentStatus, Consents, ErrorKind, Psu, PsuId,
    RedirectCallback, ScaApproach, ScaChallenge, ScaMethod, Session, TransactionQuery,
    TransactionStatus,
};
use psd2_sandbox::fixtures::AccountKind;
use psd2_sandbox::paging::{self, TxQuery};
use psd2_sandbox::{Bank as SandboxBank, RunningSandbox, Sandbox};
use psd2_tests::LogCapture;
use url::Url;

const PSU: &str = "private-1";
const HISTORY: u64 = 1_234;
const PAGE: u64 = 100;
const CLIENT_ID: &str = "hb-e2e-client";

async fn sandbox() -> RunningSandbox {
    Sandbox::builder()
        .seed(13)
        .history_size(HISTORY)
        .page_size(PAGE)
        .decoupled_pending_polls(2)
        .build()
        .start()
        .await
        .unwrap()
}

fn config(sandbox: &RunningSandbox) -> HandelsbankenConfig {
    let base = Url::parse(&sandbox.bank_url(SandboxBank::Handelsbanken)).unwrap();
    HandelsbankenConfig::new(base, CLIENT_ID, "SE")
        .transport(TransportConfig::with_client(reqwest::Client::new()))
}

fn psu() -> Psu {
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    Psu::present(ip, Some("Mozilla/5.0".into())).with_id(PsuId::new(PSU))
}

/// Debug and Display texts of everything the flow returned.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn add<T: std::fmt::Debug>(&mut self, value: &T) {
        self.0.push(format!("{value:?}"));
        self.0.push(format!("{value:#?}"));
    }

    fn error(&mut self, error: &psd2::Error) {
        self.add(error);
        self.0.push(error.to_string());
    }
}

/// Decoupled SCA: consent, Mobile BankID order, polling until COMPLETE.
async fn decoupled_session(consents: &dyn Consents, psu: &Psu, seen: &mut Seen) -> Session {
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), psu)
        .await
        .unwrap();
    assert_eq!(created.consent.status, ConsentStatus::Received);
    assert_eq!(
        created.approaches,
        [ScaApproach::Redirect, ScaApproach::Decoupled]
    );
    seen.add(&created);
    let id = created.consent.id;
    let challenge = consents
        .start_sca(&id, &ScaMethod::Decoupled, psu)
        .await
        .unwrap();
    seen.add(&challenge);
    let ScaChallenge::Decoupled {
        handle,
        auto_start_token,
        poll_interval,
        ..
    } = challenge
    else {
        panic!("expected a decoupled challenge");
    };
    assert!(auto_start_token.is_some());
    assert_eq!(poll_interval, Duration::from_millis(100));
    let session = consents
        .wait_for_decoupled(&id, &handle, Duration::from_secs(30), psu)
        .await
        .unwrap();
    assert!(session.access_token.is_some() && session.refresh_token.is_some());
    assert_eq!(
        consents.consent_status(&id, psu).await.unwrap(),
        ConsentStatus::Valid
    );
    session
}

/// Accounts, balances, card accounts, every transaction page, and an error, under `session`.
async fn read_everything(
    bank: &dyn Bank,
    sandbox: &RunningSandbox,
    session: &Session,
    seen: &mut Seen,
) {
    let psu = psu();
    let ai = bank.as_account_information().unwrap();
    let accounts = ai.accounts(session, &psu, true).await.unwrap();
    let expected =
        sandbox
            .fixtures()
            .accounts_of(SandboxBank::Handelsbanken, PSU, AccountKind::Payment);
    assert_eq!(accounts.len(), expected.len());
    assert!(accounts.iter().all(|a| a.balances.len() == 2));
    seen.add(&accounts);
    let long = expected[0];
    let id = AccountId::new(long.resource_id.clone());
    let details = ai.account(session, &psu, &id, true).await.unwrap();
    assert_eq!(
        details.iban.as_ref().map(|i| i.as_str()),
        long.iban.as_deref()
    );
    let balances = ai.balances(session, &psu, &id).await.unwrap();
    assert_eq!(balances, details.balances);
    assert_eq!(
        balances[1].amount.amount,
        long.booked_balance(),
        "BOOKED balance is exact"
    );
    seen.add(&details);

    // Every transaction of the long-history account, over every page, dates on every page.
    let today = sandbox.fixtures().today();
    let from = today.checked_sub_days(Days::new(800)).unwrap();
    let query = TransactionQuery::new(Some(from), Some(today), BookingStatus::Both);
    let list: Vec<_> = ai
        .transactions(session, &psu, &id, &query)
        .try_collect()
        .await
        .unwrap();
    let total = paging::total(
        sandbox.fixtures(),
        long,
        &TxQuery {
            booked: true,
            pending: true,
            date_from: from,
            date_to: today,
            key: None,
        },
    );
    assert_eq!(list.len() as u64, total);
    assert!(total > 10 * PAGE, "{total}");
    let ids: HashSet<_> = list.iter().map(|t| t.transaction_id.clone()).collect();
    assert_eq!(ids.len(), list.len(), "no transaction twice");
    assert!(list.iter().any(|t| t.amount.is_negative()));
    assert!(list.iter().any(|t| !t.amount.is_negative()));
    // Signed amounts: the booked balance moves by exactly the booked amounts.
    let pending = list
        .iter()
        .filter(|t| t.status == TransactionStatus::Pending)
        .count() as u64;
    assert_eq!(pending, long.pending);
    seen.add(&list[..5].to_vec());

    // Card accounts.
    let cai = bank.as_card_account_information().unwrap();
    let cards = cai.card_accounts(session, &psu).await.unwrap();
    let expected_cards =
        sandbox
            .fixtures()
            .accounts_of(SandboxBank::Handelsbanken, PSU, AccountKind::Card);
    assert_eq!(cards.len(), expected_cards.len());
    assert!(!cards.is_empty());
    let card_id = cards[0].id.clone();
    let card = cai.card_account(session, &psu, &card_id).await.unwrap();
    assert!(card.credit_limit.is_some());
    assert!(!card.masked_pans.is_empty());
    let card_balances = cai.card_balances(session, &psu, &card_id).await.unwrap();
    assert_eq!(card_balances.len(), 2);
    let card_txs: Vec<_> = cai
        .card_transactions(session, &psu, &card_id, &query)
        .try_collect()
        .await
        .unwrap();
    let card_fixture = expected_cards
        .iter()
        .find(|a| a.resource_id == card_id.as_str())
        .unwrap();
    let card_total = paging::total(
        sandbox.fixtures(),
        card_fixture,
        &TxQuery {
            booked: true,
            pending: true,
            date_from: from,
            date_to: today,
            key: None,
        },
    );
    assert_eq!(card_txs.len() as u64, card_total);
    assert!(card_txs.iter().all(|t| t.card.is_some()));
    seen.add(&cards);
    seen.add(&card);
    seen.add(&card_balances);
    seen.add(&card_txs[..card_txs.len().min(3)].to_vec());

    // An error path: an unknown account.
    let unknown = ai
        .account(session, &psu, &AccountId::new("no-such-account"), false)
        .await
        .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::ResourceUnknown);
    assert_eq!(unknown.status, Some(404));
    assert!(unknown.request_id().is_some());
    seen.error(&unknown);
}

/// The decoupled flow; returns the secrets to look for, and what was seen.
async fn decoupled_flow(sandbox: &RunningSandbox) -> (Vec<String>, Seen) {
    let mut seen = Seen::default();
    let config = config(sandbox);
    seen.add(&config);
    let bank: Box<dyn Bank> = Box::new(Handelsbanken::new(config).unwrap());
    seen.add(&bank.name());
    let consents = bank.as_consents().unwrap();
    let session = decoupled_session(consents, &psu(), &mut seen).await;
    seen.add(&session);
    let consent = consents.consent(&session.consent_id, &psu()).await.unwrap();
    assert_eq!(consent.status, ConsentStatus::Valid);
    seen.add(&consent);

    read_everything(bank.as_ref(), sandbox, &session, &mut seen).await;

    // Delete: afterwards account calls are refused.
    consents
        .delete_consent(&session.consent_id, &psu())
        .await
        .unwrap();
    assert_eq!(
        consents
            .consent_status(&session.consent_id, &psu())
            .await
            .unwrap(),
        ConsentStatus::TerminatedByTpp
    );
    let after = bank
        .as_account_information()
        .unwrap()
        .accounts(&session, &psu(), false)
        .await
        .unwrap_err();
    seen.error(&after);
    let mut secrets = vec![session.consent_id.expose().to_owned(), PSU.to_owned()];
    secrets.extend(session.access_token.iter().map(|t| t.expose().to_owned()));
    secrets.extend(session.refresh_token.iter().map(|t| t.expose().to_owned()));
    (secrets, seen)
}

#[tokio::test]
async fn decoupled_flow_end_to_end() {
    let sandbox = sandbox().await;
    decoupled_flow(&sandbox).await;
    sandbox.shutdown().await;
}

/// The redirect flow: the authorize page's 302 is followed by hand and its callback URL is
/// fed to `complete_redirect`; returns the secrets and what was seen.
async fn redirect_flow(sandbox: &RunningSandbox) -> (Vec<String>, Seen) {
    let mut seen = Seen::default();
    let bank: Box<dyn Bank> = Box::new(Handelsbanken::new(config(sandbox)).unwrap());
    let consents = bank.as_consents().unwrap();
    let psu = psu();
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), &psu)
        .await
        .unwrap();
    let id = created.consent.id.clone();
    let redirect_uri = Url::parse("https://tpp.example/hb/callback").unwrap();
    let challenge = consents
        .start_sca(
            &id,
            &ScaMethod::Redirect {
                redirect_uri: redirect_uri.clone(),
            },
            &psu,
        )
        .await
        .unwrap();
    seen.add(&challenge);
    let ScaChallenge::Redirect { url, state } = &challenge else {
        panic!("expected a redirect challenge");
    };

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(url.clone()).send().await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::FOUND);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let callback_url = Url::parse(&location).unwrap();
    assert!(location.starts_with(redirect_uri.as_str()));
    let callback = RedirectCallback::from_url(&callback_url).unwrap();

    // A forged state is refused.
    let forged = RedirectCallback {
        code: callback.code.clone(),
        state: format!("{state}-forged"),
    };
    let refused = consents
        .complete_redirect(&id, &forged, &psu)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InvalidInput);
    seen.error(&refused);

    let session = consents
        .complete_redirect(&id, &callback, &psu)
        .await
        .unwrap();
    assert!(session.refresh_token.is_some() && session.expires_at.is_some());
    seen.add(&session);
    assert_eq!(
        consents.consent_status(&id, &psu).await.unwrap(),
        ConsentStatus::Valid
    );

    // The code is single use at the bank too.
    let reused = consents
        .start_sca(
            &id,
            &ScaMethod::Redirect {
                redirect_uri: redirect_uri.clone(),
            },
            &psu,
        )
        .await
        .unwrap();
    let ScaChallenge::Redirect { state: state2, .. } = &reused else {
        panic!("expected a redirect challenge");
    };
    let again = RedirectCallback {
        code: callback.code.clone(),
        state: state2.clone(),
    };
    let err = consents
        .complete_redirect(&id, &again, &psu)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.codes().collect::<Vec<_>>(), ["invalid_grant"]);
    seen.error(&err);

    read_everything(bank.as_ref(), sandbox, &session, &mut seen).await;

    let mut secrets = vec![
        id.expose().to_owned(),
        PSU.to_owned(),
        callback.code.expose().to_owned(),
    ];
    secrets.extend(session.access_token.iter().map(|t| t.expose().to_owned()));
    secrets.extend(session.refresh_token.iter().map(|t| t.expose().to_owned()));
    (secrets, seen)
}

#[tokio::test]
async fn redirect_flow_end_to_end() {
    let sandbox = sandbox().await;
    redirect_flow(&sandbox).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn no_secrets_in_logs_or_values() {
    // TRACE for everything on the client side; the sandbox (the bank) is not ours to check.
    let capture = LogCapture::install_global().expect("only this test sets it");

    let sandbox = sandbox().await;
    let (mut secrets, mut seen) = decoupled_flow(&sandbox).await;
    let (more, seen2) = redirect_flow(&sandbox).await;
    secrets.extend(more);
    seen.0.extend(seen2.0);
    sandbox.shutdown().await;

    let logs = capture.text().unwrap();
    assert!(
        logs.contains("bank call succeeded") && logs.contains("handelsbanken"),
        "the adapter logs its calls"
    );
    assert!(
        logs.contains("request_id=") && logs.contains("status=200"),
        "calls are logged with status and request id"
    );
    assert!(secrets.len() >= 8);
    for (i, text) in seen.0.iter().chain([&logs]).enumerate() {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "secret {secret:?} found in text #{i}: {}",
                &text[..text.len().min(2000)]
            );
        }
    }
}
