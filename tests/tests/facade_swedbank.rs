//! The Swedbank adapter end to end against the in-process sandbox, through `&dyn` traits:
//! consent, decoupled and redirect SCA, accounts, every transaction page, errors; signatures
//! (issue 6: only valid signatures pass) and secret hygiene of logs and values.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Days;
use futures::TryStreamExt;
use psd2::adapters::swedbank::{Swedbank, SwedbankConfig};
use psd2::{
    AccountId, Bank, BookingStatus, ConsentRequest, ConsentStatus, Consents, Error, ErrorKind, Psu,
    PsuId, RedirectCallback, ScaChallenge, ScaMethod, Session, TransactionQuery,
};
use psd2_hooks::{FnHook, HookError, RequestHook};
use psd2_sandbox::paging::{self, TxQuery};
use psd2_sandbox::{Bank as SandboxBank, RunningSandbox, Sandbox};
use psd2_security::SigningIdentity;
use psd2_security::fixtures::{
    TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM, WRONG_SIGNING_CERT_PEM, WRONG_SIGNING_KEY_PEM,
};
use psd2_tests::LogCapture;
use url::Url;

const PSU: &str = "private-1";
const HISTORY: u64 = 1_234;
const PAGE: u64 = 100;

async fn sandbox() -> RunningSandbox {
    Sandbox::builder()
        .seed(11)
        .history_size(HISTORY)
        .page_size(PAGE)
        .decoupled_pending_polls(1)
        .signing_certificate_pem(TEST_SIGNING_CERT_PEM)
        .build()
        .start()
        .await
        .unwrap()
}

fn config(sandbox: &RunningSandbox, cert: &str, key: &str) -> SwedbankConfig {
    let base = Url::parse(&sandbox.bank_url(SandboxBank::Swedbank)).unwrap();
    SwedbankConfig::new(base).with_signing(SigningIdentity::from_pem(cert, key).unwrap())
}

fn adapter(config: SwedbankConfig) -> Box<dyn Bank> {
    Box::new(Swedbank::new(config).unwrap())
}

fn psu() -> Psu {
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    Psu::present(ip, Some("Mozilla/5.0".into())).with_id(PsuId::new(PSU))
}

/// Consent for all accounts, authorised with decoupled SCA.
async fn decoupled_session(consents: &dyn Consents, psu: &Psu) -> Session {
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), psu)
        .await
        .unwrap();
    assert_eq!(created.consent.status, ConsentStatus::Received);
    let id = created.consent.id;
    let ScaChallenge::Decoupled { handle, .. } = consents
        .start_sca(&id, &ScaMethod::Decoupled, psu)
        .await
        .unwrap()
    else {
        panic!("expected a decoupled challenge");
    };
    let session = consents
        .wait_for_decoupled(&id, &handle, Duration::from_secs(30), psu)
        .await
        .unwrap();
    assert_eq!(
        consents.consent_status(&id, psu).await.unwrap(),
        ConsentStatus::Valid
    );
    session
}

/// Everything the flow produced, as Debug/Display text (checked for secrets).
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn add(&mut self, value: &impl std::fmt::Debug) {
        self.0.push(format!("{value:?}"));
        self.0.push(format!("{value:#?}"));
    }

    fn error(&mut self, error: &Error) {
        self.add(error);
        self.0.push(error.to_string());
    }
}

/// The whole flow; returns the consent id (to look for in the texts) and what was seen.
async fn flow(sandbox: &RunningSandbox, pages: Arc<AtomicUsize>) -> (String, Seen) {
    let counter = FnHook(move |r: &mut reqwest::Request| {
        if r.url().path().ends_with("/transactions") {
            pages.fetch_add(1, Ordering::SeqCst);
        }
        Ok::<(), HookError>(())
    });
    let config = config(sandbox, TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM)
        .with_hook_after_signing(Arc::new(counter));
    let mut seen = Seen::default();
    seen.add(&config);
    let bank = adapter(config);
    seen.add(&bank.name());
    let consents = bank.as_consents().unwrap();
    let ai = bank.as_account_information().unwrap();
    let psu = psu();
    seen.add(&psu);

    // Decoupled SCA.
    let session = decoupled_session(consents, &psu).await;
    seen.add(&session);
    let consent = consents.consent(&session.consent_id, &psu).await.unwrap();
    assert_eq!(consent.status, ConsentStatus::Valid);
    seen.add(&consent);

    // Accounts with balances, details, balances.
    let accounts = ai.accounts(&session, &psu, true).await.unwrap();
    seen.add(&accounts);
    let expected = sandbox.fixtures().accounts_of(
        SandboxBank::Swedbank,
        PSU,
        psd2_sandbox::fixtures::AccountKind::Payment,
    );
    assert_eq!(accounts.len(), expected.len());
    assert!(accounts.iter().all(|a| !a.balances.is_empty()));
    let long = expected[0];
    let id = AccountId::new(long.resource_id.clone());
    let details = ai.account(&session, &psu, &id, true).await.unwrap();
    assert_eq!(
        details.iban.as_ref().map(|i| i.as_str()),
        long.iban.as_deref()
    );
    let balances = ai.balances(&session, &psu, &id).await.unwrap();
    assert_eq!(balances.len(), 3);
    seen.add(&details);
    seen.add(&balances);

    // Every transaction of the long-history account, over every page.
    let today = sandbox.fixtures().today();
    // Swedbank keeps 730 days of history (registry/swedbank.toml): the whole window.
    let from = today.checked_sub_days(Days::new(730)).unwrap();
    let query = TransactionQuery::new(Some(from), None, BookingStatus::Both);
    let list: Vec<_> = ai
        .transactions(&session, &psu, &id, &query)
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
    // Further back than the bank keeps: the adapter moves dateFrom up to the window's
    // first day (the bank itself refuses such a dateFrom), so the same entries arrive.
    let earlier = today.checked_sub_days(Days::new(800)).unwrap();
    let query = TransactionQuery::new(Some(earlier), None, BookingStatus::Both);
    let clamped: Vec<_> = ai
        .transactions(&session, &psu, &id, &query)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(clamped, list, "dateFrom 800 days back is moved up to 730");
    seen.add(&list[..5].to_vec());

    // Errors.
    let unknown = ai
        .account(&session, &psu, &AccountId::new("no-such-account"), false)
        .await
        .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::ResourceUnknown);
    assert_eq!(unknown.status, Some(404));
    assert!(unknown.request_id().is_some());
    seen.error(&unknown);

    // Redirect SCA on a second consent: follow the bank's 302 to our callback.
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), &psu)
        .await
        .unwrap();
    let second = created.consent.id;
    let method = ScaMethod::Redirect {
        redirect_uri: Url::parse("https://tpp.example/callback").unwrap(),
    };
    let challenge = consents.start_sca(&second, &method, &psu).await.unwrap();
    seen.add(&challenge);
    let ScaChallenge::Redirect { url, state } = challenge else {
        panic!("expected a redirect challenge");
    };
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(url).send().await.unwrap();
    assert_eq!(answer.status(), 302);
    let location = Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    assert!(
        location
            .as_str()
            .starts_with("https://tpp.example/callback?")
    );
    let callback = RedirectCallback::from_url(&location).unwrap();
    assert_eq!(callback.state, state);
    let mut forged = callback.clone();
    forged.state = "forged".into();
    let rejected = consents
        .complete_redirect(&second, &forged, &psu)
        .await
        .unwrap_err();
    assert_eq!(rejected.kind, ErrorKind::InvalidInput);
    seen.error(&rejected);
    let redirected = consents
        .complete_redirect(&second, &callback, &psu)
        .await
        .unwrap();
    seen.add(&redirected);
    assert!(
        !ai.accounts(&redirected, &psu, false)
            .await
            .unwrap()
            .is_empty()
    );

    // Delete: the consent stops working.
    consents.delete_consent(&second, &psu).await.unwrap();
    assert_eq!(
        consents.consent_status(&second, &psu).await.unwrap(),
        ConsentStatus::TerminatedByTpp
    );
    let after = ai.accounts(&redirected, &psu, false).await.unwrap_err();
    assert_eq!(after.kind, ErrorKind::ConsentInvalid);
    seen.error(&after);

    (session.consent_id.expose().to_string(), seen)
}

#[tokio::test]
async fn full_flow_through_dyn_traits() {
    let sandbox = sandbox().await;
    let pages = Arc::new(AtomicUsize::new(0));
    flow(&sandbox, pages.clone()).await;
    // Page one through the raw client, the rest through next links: all signed, all counted.
    assert!(pages.load(Ordering::SeqCst) > 10, "{pages:?}");
    sandbox.shutdown().await;
}

/// A request the bank must refuse with 401: the error is a clear `Unauthorized`.
fn assert_refused(error: &Error, code: &str) {
    assert_eq!(error.kind, ErrorKind::Unauthorized, "{error}");
    assert_eq!(error.status, Some(401));
    assert_eq!(error.codes().collect::<Vec<_>>(), [code]);
    let shown = error.to_string();
    assert!(
        shown.starts_with("swedbank create_consent: unauthorized (HTTP 401)"),
        "{shown}"
    );
    assert!(shown.contains("request id"), "{shown}");
}

async fn refused(config: SwedbankConfig) -> Error {
    adapter(config)
        .as_consents()
        .unwrap()
        .create_consent(&ConsentRequest::all_accounts(), &psu())
        .await
        .unwrap_err()
}

fn after_signing(
    config: SwedbankConfig,
    hook: impl Fn(&mut reqwest::Request) -> Result<(), HookError> + Send + Sync + 'static,
) -> SwedbankConfig {
    let hook: Arc<dyn RequestHook> = Arc::new(FnHook(hook));
    config.with_hook_after_signing(hook)
}

#[tokio::test]
async fn only_valid_signatures_pass() {
    let sandbox = sandbox().await;
    // The right key works.
    let ok = adapter(config(
        &sandbox,
        TEST_SIGNING_CERT_PEM,
        TEST_SIGNING_KEY_PEM,
    ));
    ok.as_consents()
        .unwrap()
        .create_consent(&ConsentRequest::all_accounts(), &psu())
        .await
        .unwrap();

    // The wrong key (and its own certificate, which the bank does not know).
    let wrong = refused(config(
        &sandbox,
        WRONG_SIGNING_CERT_PEM,
        WRONG_SIGNING_KEY_PEM,
    ))
    .await;
    assert_refused(&wrong, "SIGNATURE_INVALID");

    // The right certificate with the wrong key cannot even be built: the key must match.
    assert!(SigningIdentity::from_pem(TEST_SIGNING_CERT_PEM, WRONG_SIGNING_KEY_PEM).is_err());

    // A body changed after signing.
    let body = after_signing(
        config(&sandbox, TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM),
        |r| {
            let tampered = br#"{"access":{"availableAccounts":"allAccounts"},"combinedServiceIndicator":false,"frequencyPerDay":400,"recurringIndicator":true,"validUntil":"9999-12-31"}"#;
            *r.body_mut() = Some(reqwest::Body::from(tampered.to_vec()));
            r.headers_mut().remove("content-length");
            Ok(())
        },
    );
    assert_refused(&refused(body).await, "SIGNATURE_INVALID");

    // A signed header changed after signing.
    let header = after_signing(
        config(&sandbox, TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM),
        |r| {
            r.headers_mut().insert(
                "psu-id",
                reqwest::header::HeaderValue::from_static("private-2"),
            );
            Ok(())
        },
    );
    assert_refused(&refused(header).await, "SIGNATURE_INVALID");

    // No signature at all (allowed to build only against a loopback sandbox).
    let base = Url::parse(&sandbox.bank_url(SandboxBank::Swedbank)).unwrap();
    let unsigned = refused(SwedbankConfig::new(base)).await;
    assert_refused(&unsigned, "SIGNATURE_MISSING");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn no_secrets_in_logs_or_values() {
    // TRACE for everything on the client side; the sandbox (the bank) is not ours to check.
    let capture = LogCapture::install_global().expect("only this test sets it");

    let sandbox = sandbox().await;
    let (consent_id, mut seen) = flow(&sandbox, Arc::new(AtomicUsize::new(0))).await;
    let wrong = refused(config(
        &sandbox,
        WRONG_SIGNING_CERT_PEM,
        WRONG_SIGNING_KEY_PEM,
    ))
    .await;
    seen.error(&wrong);
    sandbox.shutdown().await;

    let logs = capture.text().unwrap();
    assert!(
        logs.contains("bank call succeeded") && logs.contains("swedbank"),
        "the adapter logs its calls"
    );
    assert!(
        logs.contains("request_id="),
        "calls are logged with their request id"
    );
    let key_lines: Vec<&str> = TEST_SIGNING_KEY_PEM
        .lines()
        .chain(WRONG_SIGNING_KEY_PEM.lines())
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
    let mut secrets = vec![consent_id.as_str(), PSU, "PRIVATE KEY"];
    secrets.extend(key_lines);
    for (i, text) in seen.0.iter().chain([&logs]).enumerate() {
        for secret in &secrets {
            assert!(
                !text.contains(secret),
                "secret {secret:?} found in text #{i}: {}",
                &text[..text.len().min(2000)]
            );
        }
    }
}
