//! Soak: every bank's longest listing against the sandbox with a random 5 % of transient
//! faults (server errors, bodies cut off, bodies that are not JSON) on the transaction pages.
//!
//! For each bank, one fault-free run counts the listing (pages and transactions); then
//! several runs with different fault seeds must each end with exactly that count (a listing
//! ends only with the bank's last page, a failed page is retried alone), and the pages
//! requested stay within the stated bound: at most `pages + pages * 15 % + 3` requests, three
//! times the expected 5 % of extra requests plus a little slack for small listings. The
//! sandbox's draws depend only on the seed and the call order, so every run is reproducible.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use psd2::adapters::common::TransportConfig;
use psd2::adapters::handelsbanken::{Handelsbanken, HandelsbankenConfig};
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::adapters::swedbank::{Swedbank, SwedbankConfig};
use psd2::retry::{AttemptHook, CallInfo, RetryPolicy, with_attempt_hook};
use psd2::{
    Bank, BookingStatus, ConsentRequest, Psu, PsuId, ScaChallenge, ScaMethod, Session,
    TransactionQuery,
};
use psd2_sandbox::{Bank as SandboxBank, RunningSandbox, Sandbox};
use psd2_security::SigningIdentity;
use psd2_security::fixtures::{TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM};
use url::Url;

/// Transactions on the long-history account, and per page.
const HISTORY: u64 = 10_000;
const PAGE_SIZE: u64 = 200;
/// Fault seeds: one run each, per bank.
const SEEDS: [u64; 4] = [11, 23, 37, 41];

/// The most pages requested for a listing of `pages` pages with 5 % faults.
fn request_bound(pages: u64) -> u64 {
    pages + (pages * 15).div_ceil(100) + 3
}

/// Counts the transaction page requests (every attempt).
#[derive(Debug, Default)]
struct PageRequests(AtomicU64);

impl AttemptHook for PageRequests {
    fn before_attempt(&self, call: &CallInfo<'_>) -> Result<(), psd2::Error> {
        if call.operation == "transactions" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// Quick retries: the soak measures counts, not waiting.
fn policy() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn banks(sandbox: &RunningSandbox) -> Vec<Box<dyn Bank>> {
    let url = |b: SandboxBank| Url::parse(&sandbox.bank_url(b)).unwrap();
    let http = || TransportConfig::with_client(reqwest::Client::new());
    let mut op = OpenPaymentsConfig::new(
        url(SandboxBank::OpenPayments),
        "soak",
        SandboxBank::OpenPayments.bic(),
    )
    .with_transport(http())
    .with_retry(policy());
    op.poll_interval = Duration::from_millis(20);
    let signing = SigningIdentity::from_pem(TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM).unwrap();
    vec![
        Box::new(
            Handelsbanken::new(
                HandelsbankenConfig::new(url(SandboxBank::Handelsbanken), "soak", "SE")
                    .transport(http())
                    .with_retry(policy()),
            )
            .unwrap(),
        ),
        Box::new(OpenPayments::new(op).unwrap()),
        Box::new(
            Swedbank::new(
                SwedbankConfig::new(url(SandboxBank::Swedbank))
                    .with_signing(signing)
                    .with_transport(http())
                    .with_retry(policy()),
            )
            .unwrap(),
        ),
    ]
}

async fn authorise(bank: &dyn Bank, psu: &Psu) -> Session {
    let consents = bank.as_consents().unwrap();
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), psu)
        .await
        .unwrap();
    let ScaChallenge::Decoupled { handle, .. } = consents
        .start_sca(&created.consent.id, &ScaMethod::Decoupled, psu)
        .await
        .unwrap()
    else {
        panic!("{}: expected decoupled SCA", bank.name())
    };
    consents
        .wait_for_decoupled(&created.consent.id, &handle, Duration::from_secs(30), psu)
        .await
        .unwrap()
}

async fn admin(sandbox: &RunningSandbox, method: reqwest::Method, body: Option<serde_json::Value>) {
    let url = format!("{}/admin/faults", sandbox.base_url());
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// One listing of the whole history: (transactions, page requests).
async fn listing(
    bank: &dyn Bank,
    session: &Session,
    psu: &Psu,
    account: &psd2::AccountId,
    query: &TransactionQuery,
) -> Result<(u64, u64), psd2::Error> {
    let ai = bank.as_account_information().unwrap();
    let counter = Arc::new(PageRequests::default());
    let n = with_attempt_hook(counter.clone(), async {
        ai.transactions(session, psu, account, query)
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await
    })
    .await?;
    Ok((n, counter.0.load(Ordering::SeqCst)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bank_completes_its_long_listing_under_random_transient_faults() {
    let sandbox = Sandbox::builder()
        .history_size(HISTORY)
        .page_size(PAGE_SIZE)
        .decoupled_pending_polls(0)
        .build()
        .start()
        .await
        .unwrap();
    let today = sandbox.today();
    let from = today
        .checked_sub_days(chrono::Days::new(2 * 366 + 31))
        .unwrap();
    let query = TransactionQuery::new(Some(from), Some(today), BookingStatus::Both);
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    let psu = Psu::present(ip, None).with_id(PsuId::new("private-1"));
    for bank in banks(&sandbox) {
        let name = bank.name();
        let session = authorise(bank.as_ref(), &psu).await;
        let ai = bank.as_account_information().unwrap();
        let account = ai
            .accounts(&session, &psu, false)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.currency.as_ref().is_some_and(|c| c.as_str() == "SEK"))
            .unwrap()
            .id;
        let (expected, pages) = listing(bank.as_ref(), &session, &psu, &account, &query)
            .await
            .unwrap();
        assert!(expected >= HISTORY, "{name}: {expected} transactions");
        assert!(pages >= HISTORY / PAGE_SIZE, "{name}: {pages} pages");
        let mut extra = Vec::new();
        for seed in SEEDS {
            admin(
                &sandbox,
                reqwest::Method::POST,
                Some(serde_json::json!({
                    "pathContains": "/transactions", "method": "GET",
                    "randomShare": 0.05, "seed": seed
                })),
            )
            .await;
            let run = listing(bank.as_ref(), &session, &psu, &account, &query).await;
            admin(&sandbox, reqwest::Method::DELETE, None).await;
            let (count, requests) = run.unwrap_or_else(|e| panic!("{name} seed {seed}: {e}"));
            assert_eq!(count, expected, "{name} seed {seed}: the fault-free count");
            assert!(
                requests <= request_bound(pages),
                "{name} seed {seed}: {requests} requests for {pages} pages"
            );
            extra.push(requests - pages);
        }
        assert!(
            extra.iter().any(|&n| n > 0),
            "{name}: the faults were injected ({extra:?} extra requests)"
        );
        println!(
            "{name}: {expected} transactions, {pages} pages; extra requests per run {extra:?}"
        );
    }
    sandbox.shutdown().await;
}
