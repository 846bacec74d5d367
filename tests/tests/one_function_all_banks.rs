//! Issue 3's promise to downstream crates: one function written against
//! `&dyn AccountInformation` (here `summarize`) runs unchanged against every bank, chosen at
//! run time as a `Box<dyn Bank>`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use futures::TryStreamExt;
use psd2::adapters::common::TransportConfig;
use psd2::adapters::handelsbanken::{Handelsbanken, HandelsbankenConfig};
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::adapters::swedbank::{Swedbank, SwedbankConfig};
use psd2::{
    AccountInformation, Bank, BookingStatus, ConsentRequest, Decimal, Psu, PsuId, ScaChallenge,
    ScaMethod, Session, TransactionQuery,
};
use psd2_sandbox::{Bank as SandboxBank, RunningSandbox, Sandbox};
use psd2_security::SigningIdentity;
use psd2_security::fixtures::{TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM};
use url::Url;

/// What a downstream crate might compute: per account, the number of booked transactions in
/// the last 30 days and their net sum per currency. Nothing here knows which bank it talks to.
async fn summarize(
    ai: &dyn AccountInformation,
    session: &Session,
    psu: &Psu,
    today: chrono::NaiveDate,
) -> Result<BTreeMap<String, (usize, BTreeMap<String, Decimal>)>, psd2::Error> {
    let mut out = BTreeMap::new();
    let query = TransactionQuery::new(
        Some(today - chrono::Days::new(30)),
        Some(today),
        BookingStatus::Booked,
    );
    for account in ai.accounts(session, psu, true).await? {
        let transactions: Vec<_> = ai
            .transactions(session, psu, &account.id, &query)
            .try_collect()
            .await?;
        let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
        for t in &transactions {
            *sums.entry(t.amount.currency.to_string()).or_default() += t.amount.amount;
        }
        let key = account
            .iban
            .as_ref()
            .map(|i| i.to_string())
            .unwrap_or_else(|| account.id.to_string());
        out.insert(key, (transactions.len(), sums));
    }
    Ok(out)
}

fn banks(sandbox: &RunningSandbox) -> Vec<Box<dyn Bank>> {
    let url = |b: SandboxBank| Url::parse(&sandbox.bank_url(b)).unwrap();
    let http = || TransportConfig::with_client(reqwest::Client::new());
    let mut op = OpenPaymentsConfig::new(
        url(SandboxBank::OpenPayments),
        "downstream",
        SandboxBank::OpenPayments.bic(),
    )
    .with_transport(http());
    op.poll_interval = Duration::from_millis(20);
    vec![
        Box::new(
            Handelsbanken::new(
                HandelsbankenConfig::new(url(SandboxBank::Handelsbanken), "downstream", "SE")
                    .transport(http()),
            )
            .unwrap(),
        ),
        Box::new(OpenPayments::new(op).unwrap()),
        Box::new(
            Swedbank::new(
                SwedbankConfig::new(url(SandboxBank::Swedbank))
                    .with_signing(
                        SigningIdentity::from_pem(TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM)
                            .unwrap(),
                    )
                    .with_transport(http()),
            )
            .unwrap(),
        ),
    ]
}

#[tokio::test]
async fn one_function_runs_against_all_three_banks() {
    let sandbox = Sandbox::builder()
        .decoupled_pending_polls(1)
        .build()
        .start()
        .await
        .unwrap();
    let today = sandbox
        .config()
        .today
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    let psu = Psu::present(ip, None).with_id(PsuId::new("private-1"));
    let mut names = Vec::new();
    for bank in banks(&sandbox) {
        let consents = bank.as_consents().expect("every bank manages consents");
        let created = consents
            .create_consent(&ConsentRequest::all_accounts(), &psu)
            .await
            .unwrap();
        let challenge = consents
            .start_sca(&created.consent.id, &ScaMethod::Decoupled, &psu)
            .await
            .unwrap();
        let ScaChallenge::Decoupled { handle, .. } = challenge else {
            panic!("{}: expected decoupled SCA", bank.name())
        };
        let session = consents
            .wait_for_decoupled(&created.consent.id, &handle, Duration::from_secs(30), &psu)
            .await
            .unwrap();

        let ai = bank.as_account_information().expect("account information");
        let summary = summarize(ai, &session, &psu, today).await.unwrap();
        assert!(
            summary.len() >= 3,
            "{}: private-1 has SEK, NOK and EUR accounts: {summary:?}",
            bank.name()
        );
        let busiest = summary.values().map(|(n, _)| *n).max().unwrap_or(0);
        assert!(
            busiest > 0,
            "{}: the long-history account has booked transactions in 30 days",
            bank.name()
        );
        for (count, sums) in summary.values() {
            assert!(sums.len() <= 1 || *count > 0);
        }
        names.push(bank.name());
    }
    assert_eq!(names, ["handelsbanken", "openpayments", "swedbank"]);
    sandbox.shutdown().await;
}
