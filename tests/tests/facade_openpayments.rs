//! End to end: the Open Payments adapter against the in-process sandbox, used only through
//! the `&dyn` facade traits; plus a secret-leak check over all tracing output (TRACE) and the
//! `Debug`/`Display` of every value and error of the flow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::TryStreamExt;
use psd2::adapters::common::TransportConfig;
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::{
    AccountId, Bank, BookingStatus, ConsentId, ConsentRequest, ConsentStatus, ErrorKind, Psu,
    PsuId, ScaChallenge, ScaMethod, Secret, Session, TransactionQuery,
};
use psd2_sandbox::fixtures::AccountKind;
use psd2_sandbox::{Bank as SandboxBank, RunningSandbox, Sandbox};
use psd2_tests::LogCapture;

const CLIENT_SECRET: &str = "e2e-client-secret-9f8e7d";
const PSU_ID: &str = "private-1";

fn adapter(sandbox: &RunningSandbox) -> OpenPayments {
    let base = sandbox.bank_url(SandboxBank::OpenPayments).parse().unwrap();
    let mut config = OpenPaymentsConfig::new(base, "e2e-client", SandboxBank::OpenPayments.bic())
        .with_client_secret(Secret::new(CLIENT_SECRET))
        .with_transport(TransportConfig::with_client(reqwest::Client::new()));
    config.poll_interval = Duration::from_millis(50);
    OpenPayments::new(config).unwrap()
}

fn psu() -> Psu {
    Psu::present(
        IpAddr::V4(Ipv4Addr::new(152, 120, 171, 187)),
        Some("Mozilla/5.0 (e2e)".into()),
    )
    .with_id(PsuId::new(PSU_ID))
}

/// Whether `text` holds something shaped like a sandbox access token (`at_` + 32 hex).
fn has_token_like(text: &str) -> bool {
    text.match_indices("at_").any(|(i, _)| {
        let rest = &text[i + 3..];
        rest.len() >= 32 && rest[..32].chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// Runs the whole flow; returns every value's and error's `Debug` and `Display`, and the
/// consent id (to look for).
async fn full_flow(sandbox: &RunningSandbox) -> (Vec<String>, String) {
    let mut shown: Vec<String> = Vec::new();
    let concrete = adapter(sandbox);
    shown.push(format!("{concrete:?}"));
    let bank: Box<dyn Bank> = Box::new(concrete);
    assert_eq!(bank.name(), "openpayments");
    assert!(bank.as_card_account_information().is_none());
    let consents = bank.as_consents().expect("consents");
    let ais = bank.as_account_information().expect("account information");
    let psu = psu();

    // Consent and decoupled SCA.
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), &psu)
        .await
        .unwrap();
    shown.push(format!("{created:?}"));
    assert_eq!(created.consent.status, ConsentStatus::Received);
    let consent_id = created.consent.id.clone();
    let challenge = consents
        .start_sca(&consent_id, &ScaMethod::Decoupled, &psu)
        .await
        .unwrap();
    shown.push(format!("{challenge:?}"));
    let ScaChallenge::Decoupled {
        handle,
        auto_start_token,
        ..
    } = challenge
    else {
        panic!("expected a decoupled challenge")
    };
    assert!(auto_start_token.is_some());
    let session = consents
        .wait_for_decoupled(&consent_id, &handle, Duration::from_secs(30), &psu)
        .await
        .unwrap();
    shown.push(format!("{session:?}"));
    let status = consents.consent_status(&consent_id, &psu).await.unwrap();
    assert_eq!(status, ConsentStatus::Valid);
    let consent = consents.consent(&consent_id, &psu).await.unwrap();
    shown.push(format!("{consent:?}"));
    assert_eq!(consent.status, ConsentStatus::Valid);

    // Accounts with balances.
    let accounts = ais.accounts(&session, &psu, true).await.unwrap();
    shown.push(format!("{accounts:?}"));
    let expected_accounts =
        sandbox
            .fixtures()
            .accounts_of(SandboxBank::OpenPayments, PSU_ID, AccountKind::Payment);
    assert_eq!(accounts.len(), expected_accounts.len());
    assert!(accounts.iter().all(|a| !a.balances.is_empty()));
    let long = expected_accounts
        .iter()
        .find(|a| a.currency == "SEK")
        .expect("a SEK account");
    let long_id = AccountId::new(long.resource_id.clone());
    let details = ais.account(&session, &psu, &long_id, true).await.unwrap();
    shown.push(format!("{details:?}"));
    let balances = ais.balances(&session, &psu, &long_id).await.unwrap();
    shown.push(format!("{balances:?}"));
    assert!(!balances.is_empty());

    // Every page of the long history (booked, from the first day of the history).
    let fixtures = sandbox.fixtures();
    let query = TransactionQuery::new(
        Some(fixtures.history_start()),
        Some(fixtures.today()),
        BookingStatus::Booked,
    );
    let txs: Vec<_> = ais
        .transactions(&session, &psu, &long_id, &query)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(txs.len() as u64, long.booked_count());
    assert!(
        txs.len() as u64 > sandbox.config().page_size,
        "several pages"
    );
    assert!(
        txs.iter()
            .all(|t| t.status == psd2::TransactionStatus::Booked)
    );
    shown.push(format!("{:?}", &txs[..5]));

    // Error paths: an unknown account, then the consent after deletion.
    let err = ais
        .account(&session, &psu, &AccountId::new("no-such-account"), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ResourceUnknown, "{err}");
    assert!(err.request_id().is_some());
    shown.push(format!("{err}"));
    shown.push(format!("{err:?}"));
    consents.delete_consent(&consent_id, &psu).await.unwrap();
    let err = ais.accounts(&session, &psu, false).await.unwrap_err();
    assert!(err.status.is_some_and(|s| s >= 400), "{err:?}");
    shown.push(format!("{err}"));
    shown.push(format!("{err:?}"));
    let err = ais
        .accounts(&Session::new(ConsentId::new("bogus")), &psu, false)
        .await
        .unwrap_err();
    shown.push(format!("{err}"));
    shown.push(format!("{err:?}"));
    (shown, consent_id.expose().to_owned())
}

#[tokio::test]
async fn full_flow_through_the_facade_traits() {
    let sandbox = Sandbox::builder().seed(7).build().start().await.unwrap();
    full_flow(&sandbox).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn rejected_sca_is_an_error() {
    let sandbox = Sandbox::builder().seed(8).build().start().await.unwrap();
    let bank: Box<dyn Bank> = Box::new(adapter(&sandbox));
    let consents = bank.as_consents().unwrap();
    let psu = Psu::absent().with_id(PsuId::new("reject-1"));
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), &psu)
        .await
        .unwrap();
    let ScaChallenge::Decoupled { handle, .. } = consents
        .start_sca(&created.consent.id, &ScaMethod::Decoupled, &psu)
        .await
        .unwrap()
    else {
        panic!("expected decoupled")
    };
    let err = consents
        .wait_for_decoupled(&created.consent.id, &handle, Duration::from_secs(30), &psu)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ScaFailed, "{err:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn no_secret_in_traces_debug_or_display() {
    // Other tests of this binary log into it too; that only widens the check.
    let capture = LogCapture::install_global().expect("only this test sets it");

    let sandbox = Sandbox::builder().seed(9).build().start().await.unwrap();
    let (shown, consent_id) = full_flow(&sandbox).await;
    sandbox.shutdown().await;

    let traces = capture.text().unwrap();
    assert!(
        traces.contains("openpayments") && traces.contains("request_id"),
        "the adapter's debug events are captured: {}",
        &traces[..traces.len().min(3000)]
    );
    for (what, text) in
        std::iter::once(("traces", &traces)).chain(shown.iter().map(|s| ("shown", s)))
    {
        for secret in [CLIENT_SECRET, consent_id.as_str(), PSU_ID] {
            assert!(!text.contains(secret), "{secret} leaked in {what}");
        }
        assert!(!has_token_like(text), "an access token leaked in {what}");
        assert!(!text.to_ascii_lowercase().contains("bearer at_"), "{what}");
    }
}
