//! The Open Payments listing that reads ahead and decodes pages on a task, against the
//! in-process sandbox: the entries it yields (through the stream and through whole pages) are
//! exactly the sandbox's pages fetched here by hand with `reqwest` and read entry by entry
//! from their JSON, in the same order; and the same again while the sandbox cuts off or
//! breaks every few pages' bodies (each such page is requested again inside the retry loop).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::TryStreamExt;
use psd2::adapters::common::TransportConfig;
use psd2::adapters::openpayments::answers::transactions_from_body;
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::{
    AccountId, AccountInformation, BookingStatus, ConsentRequest, Consents, Psu, PsuId,
    RetryPolicy, ScaChallenge, ScaMethod, Session, Transaction, TransactionQuery,
};
use psd2_sandbox::faults::FaultConfig;
use psd2_sandbox::fixtures::AccountKind;
use psd2_sandbox::{Bank as SandboxBank, RunningSandbox, Sandbox};
use serde_json::Value;

const PSU_ID: &str = "private-1";
const PSU_IP: Ipv4Addr = Ipv4Addr::new(152, 120, 171, 187);
const PAGE_SIZE: u64 = 100;
/// The consent belongs to the client that created it: the pages by hand use the same one.
const CLIENT_ID: &str = "pipeline-client";

fn adapter(sandbox: &RunningSandbox) -> OpenPayments {
    let base = sandbox.bank_url(SandboxBank::OpenPayments).parse().unwrap();
    let mut config = OpenPaymentsConfig::new(base, CLIENT_ID, SandboxBank::OpenPayments.bic())
        .with_transport(TransportConfig::with_client(reqwest::Client::new()))
        .with_retry(RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            jitter: false,
            ..RetryPolicy::default()
        });
    config.poll_interval = Duration::from_millis(10);
    OpenPayments::new(config).unwrap()
}

fn psu() -> Psu {
    Psu::present(IpAddr::V4(PSU_IP), None).with_id(PsuId::new(PSU_ID))
}

async fn authorised_session(bank: &OpenPayments) -> Session {
    let psu = psu();
    let created = bank
        .create_consent(&ConsentRequest::all_accounts(), &psu)
        .await
        .unwrap();
    let id = created.consent.id;
    let ScaChallenge::Decoupled { handle, .. } = bank
        .start_sca(&id, &ScaMethod::Decoupled, &psu)
        .await
        .unwrap()
    else {
        panic!("expected a decoupled challenge")
    };
    bank.wait_for_decoupled(&id, &handle, Duration::from_secs(30), &psu)
        .await
        .unwrap()
}

/// Every page of `account`'s listing fetched with plain `reqwest` (following the next
/// links' continuation keys), each read entry by entry from its JSON.
async fn by_hand(
    sandbox: &RunningSandbox,
    session: &Session,
    account: &str,
    query: &TransactionQuery,
) -> (Vec<Transaction>, usize) {
    let base = sandbox.bank_url(SandboxBank::OpenPayments);
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let url = format!("{base}/psd2/accountinformation/v1/accounts/{account}/transactions");
    let (from, to) = (
        query.date_from.unwrap().to_string(),
        query.date_to.unwrap().to_string(),
    );
    let (mut all, mut pages, mut key) = (Vec::new(), 0, None::<String>);
    loop {
        let mut params = vec![
            ("bookingStatus", "both".to_owned()),
            ("dateFrom", from.clone()),
            ("dateTo", to.clone()),
        ];
        if let Some(k) = &key {
            params.push(("continuationKey", k.clone()));
        }
        let body = http
            .get(&url)
            .query(&params)
            .bearer_auth(&token)
            .header("Consent-ID", session.consent_id.expose())
            .header("X-BicFi", SandboxBank::OpenPayments.bic())
            .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
            .header("PSU-IP-Address", PSU_IP.to_string())
            .header("PSU-ID", PSU_ID)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let page = transactions_from_body(&body).unwrap();
        pages += 1;
        let next = page.next_href().map(str::to_owned);
        for entry in page.entries {
            all.push(entry.unwrap());
        }
        let Some(href) = next else {
            return (all, pages);
        };
        let href = url::Url::parse("http://relative.invalid/")
            .unwrap()
            .join(&href)
            .unwrap();
        key = href
            .query_pairs()
            .find(|(k, _)| k == "continuationKey")
            .map(|(_, v)| v.into_owned());
        assert!(key.is_some(), "a next link with a continuation key");
    }
}

async fn through_the_facade(
    bank: &OpenPayments,
    session: &Session,
    account: &AccountId,
    query: &TransactionQuery,
) -> (Vec<Transaction>, Vec<Transaction>) {
    let psu = psu();
    let ai: &dyn AccountInformation = bank;
    let streamed: Vec<Transaction> = ai
        .transactions(session, &psu, account, query)
        .try_collect()
        .await
        .unwrap();
    let pages: Vec<psd2::TransactionPage> = ai
        .transaction_pages(session, &psu, account, query, None)
        .try_collect()
        .await
        .unwrap();
    let paged = pages
        .into_iter()
        .flat_map(|p| p.entries)
        .map(|e| e.unwrap())
        .collect();
    (streamed, paged)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipelined_listing_yields_the_sandbox_pages_in_order_even_with_broken_bodies() {
    let sandbox = Sandbox::builder()
        .seed(21)
        .history_size(1_250)
        .page_size(PAGE_SIZE)
        .decoupled_pending_polls(0)
        .build()
        .start()
        .await
        .unwrap();
    let bank = adapter(&sandbox);
    let session = authorised_session(&bank).await;
    let fixtures = sandbox.fixtures();
    let long = fixtures
        .accounts_of(SandboxBank::OpenPayments, PSU_ID, AccountKind::Payment)
        .into_iter()
        .find(|a| a.currency == "SEK")
        .expect("a SEK account");
    let account = AccountId::new(long.resource_id.clone());
    let query = TransactionQuery::new(
        Some(fixtures.history_start()),
        Some(fixtures.today()),
        BookingStatus::Both,
    );

    let (expected, pages) = by_hand(&sandbox, &session, &long.resource_id, &query).await;
    assert!(pages >= 10, "{pages} pages");
    assert!(
        expected.len() as u64 >= long.booked_count(),
        "every booked entry"
    );

    let (streamed, paged) = through_the_facade(&bank, &session, &account, &query).await;
    assert_eq!(streamed.len(), expected.len());
    assert!(streamed == expected, "the stream: same entries, same order");
    assert!(paged == expected, "whole pages: same entries, same order");

    // Every 3rd transactions call cut in half, every 5th not JSON.
    sandbox
        .add_fault(FaultConfig {
            bank: Some(SandboxBank::OpenPayments),
            path_contains: Some("/transactions".into()),
            method: Some("GET".into()),
            truncate_every: Some(3),
            malformed_every: Some(5),
            ..FaultConfig::default()
        })
        .unwrap();
    // Without retries the broken bodies end the listing (so they are really served)...
    let mut once = OpenPaymentsConfig::new(
        sandbox.bank_url(SandboxBank::OpenPayments).parse().unwrap(),
        CLIENT_ID,
        SandboxBank::OpenPayments.bic(),
    )
    .with_transport(TransportConfig::with_client(reqwest::Client::new()))
    .with_retry(RetryPolicy::none());
    once.poll_interval = Duration::from_millis(10);
    let once = OpenPayments::new(once).unwrap();
    let failed = once
        .transactions(&session, &psu(), &account, &query)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(psd2::retry::is_transient(&failed), "{failed}");
    // ... and with them, each broken page is requested again, alone.
    let (streamed, paged) = through_the_facade(&bank, &session, &account, &query).await;
    assert!(streamed == expected, "the stream, with broken bodies");
    assert!(paged == expected, "whole pages, with broken bodies");
    sandbox.shutdown().await;
}
