//! The Open Payments listing that reads ahead and decodes pages on a task, against a fake
//! bank (wiremock):
//!
//! - it yields exactly what the one-page-at-a-time listing yields (the adapter's listing with
//!   `fetch_transaction_details`, over entries without details links: the same requests,
//!   decoded and mapped in the stream), for a valid answer and for every sampled hostile
//!   answer of the bad-answer suite, through the entry stream and through whole pages;
//! - it requests at most one page ahead of the consumer, and none for an absent PSU unless
//!   the query asks, and dropping the stream makes no further request;
//! - a body cut off on the way is requested again inside the retry loop.
//!
//! Expected values come from the answers mounted here and from the sequential listing.
#![cfg(feature = "openpayments")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bad_answers/mutate.rs"]
#[allow(dead_code)]
mod mutate;
mod openpayments_support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use psd2::adapters::common::TransportConfig;
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::{
    AccountId, AccountInformation, BookingStatus, ConsentId, EntryError, ErrorKind, PageCursor,
    Psu, RetryPolicy, Session, Transaction, TransactionQuery,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TXS: &str = "/psd2/accountinformation/v1/accounts/acc-1/transactions";

fn config(server: &MockServer, retry: RetryPolicy) -> OpenPaymentsConfig {
    OpenPaymentsConfig::new(server.uri().parse().unwrap(), "client-1", "ESSESESS")
        .with_transport(TransportConfig::with_client(reqwest::Client::new()))
        .with_retry(retry)
}

/// The pipelined listing (the default) and the sequential one.
fn adapters(server: &MockServer, retry: RetryPolicy) -> (OpenPayments, OpenPayments) {
    let pipelined = OpenPayments::new(config(server, retry.clone())).unwrap();
    let mut sequential = config(server, retry);
    sequential.fetch_transaction_details = true;
    (pipelined, OpenPayments::new(sequential).unwrap())
}

async fn mount_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "tok", "expires_in": 3600, "token_type": "Bearer"}),
        ))
        .mount(server)
        .await;
}

async fn mount_page(server: &MockServer, key: Option<&str>, response: ResponseTemplate) {
    let m = Mock::given(method("GET")).and(path(TXS));
    let m = match key {
        Some(k) => m.and(query_param("continuationKey", k)),
        None => m.and(query_param_is_missing("continuationKey")),
    };
    m.respond_with(response).mount(server).await;
}

fn entry(id: &str) -> Value {
    json!({"transactionId": id, "bookingDate": "2025-01-02",
           "transactionAmount": {"currency": "SEK", "amount": "-1.50"}})
}

/// A page of `ids` (booked) whose next link asks for `next`.
fn page(ids: &[String], next: Option<&str>) -> Value {
    let mut body =
        json!({"transactions": {"booked": ids.iter().map(|id| entry(id)).collect::<Vec<_>>()}});
    if let Some(k) = next {
        body["transactions"]["_links"] =
            json!({"next": {"href": format!("{TXS}?continuationKey={k}")}});
    }
    body
}

async fn transactions_path_requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == TXS)
        .count()
}

/// The transactions requests made, once there are `at_least` of them or after five seconds
/// (a loaded machine may take a while to send a read-ahead request; a listing that never
/// sends it still fails the caller's assertions, only later).
async fn requests_once_at_least(server: &MockServer, at_least: usize) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let n = transactions_path_requests(server).await;
        if n >= at_least || tokio::time::Instant::now() >= deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn session() -> Session {
    Session::new(ConsentId::new("consent-1"))
}

fn present() -> Psu {
    Psu::present(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), None)
}

fn both() -> TransactionQuery {
    TransactionQuery::new(None, None, BookingStatus::Both)
}

/// An error as the comparisons see it (request ids differ from run to run).
type Shown = (ErrorKind, Option<u16>, Option<String>);

fn shown(e: &psd2::Error) -> Shown {
    (e.kind.clone(), e.status, e.detail().map(str::to_owned))
}

type Listed = Vec<Result<Transaction, Shown>>;
type Paged = Vec<Result<(Vec<Result<Transaction, EntryError>>, Option<PageCursor>), Shown>>;

async fn listed(bank: &OpenPayments, psu: &Psu) -> (Listed, Paged) {
    let (s, account, query) = (session(), AccountId::new("acc-1"), both());
    let items = bank
        .transactions(&s, psu, &account, &query)
        .map(|r| r.map_err(|e| shown(&e)))
        .collect()
        .await;
    let pages = bank
        .transaction_pages(&s, psu, &account, &query, None)
        .map(|r| r.map(|p| (p.entries, p.next)).map_err(|e| shown(&e)))
        .collect()
        .await;
    (items, pages)
}

/// The seed's transaction list, without the entries' details links (so the sequential
/// listing makes no details call) and without a next link (it is the last page).
fn last_page() -> Value {
    let mut last: Value = serde_json::from_str(openpayments_support::TRANSACTIONS).unwrap();
    let report = last["transactions"].as_object_mut().unwrap();
    report.remove("_links");
    for list in ["booked", "pending", "bankgiro"] {
        for entry in report
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(entry) = entry.as_object_mut() {
                entry.remove("_links");
            }
        }
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yields_what_the_sequential_listing_yields_for_valid_and_hostile_answers() {
    let server = MockServer::start().await;
    let (pipelined, sequential) = adapters(&server, RetryPolicy::none());
    let first = page(&["p1-a".to_owned(), "p1-b".to_owned()], Some("k1"));
    let last = last_page();
    let seed_entries: usize = ["booked", "pending", "bankgiro"]
        .iter()
        .filter_map(|list| last["transactions"][list].as_array())
        .map(Vec::len)
        .sum();
    let cases = std::iter::once(serde_json::to_vec(&last).unwrap()).chain(
        mutate::cases(&last)
            .into_iter()
            .step_by(3)
            .map(|case| case.body),
    );
    let (mut count, mut failed_somewhere, mut mismatches) = (0, 0, Vec::new());
    for body in cases {
        server.reset().await;
        mount_token(&server).await;
        mount_page(
            &server,
            None,
            ResponseTemplate::new(200).set_body_json(&first),
        )
        .await;
        mount_page(
            &server,
            Some("k1"),
            ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json"),
        )
        .await;
        let expected = listed(&sequential, &present()).await;
        let got = listed(&pipelined, &present()).await;
        if count == 0 {
            let n = expected.0.iter().filter(|r| r.is_ok()).count();
            assert_eq!(
                n,
                2 + seed_entries,
                "the valid listing: two entries, then the seed's"
            );
        }
        if expected.0.iter().any(Result::is_err) {
            failed_somewhere += 1;
        }
        if got != expected {
            mismatches.push(String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
        }
        count += 1;
    }
    assert!(count >= 100, "{count} cases");
    assert!(
        failed_somewhere >= 10,
        "hostile answers were served ({failed_somewhere})"
    );
    assert!(
        mismatches.is_empty(),
        "{} of {count} differ: {mismatches:#?}",
        mismatches.len()
    );
}

/// Five pages of two entries: page p (1-based) holds `p-a`, `p-b`.
async fn mount_five_pages(server: &MockServer) {
    mount_token(server).await;
    for p in 1..=5u32 {
        let key = (p > 1).then(|| format!("k{p}"));
        let next = (p < 5).then(|| format!("k{}", p + 1));
        let ids = [format!("{p}-a"), format!("{p}-b")];
        mount_page(
            server,
            key.as_deref(),
            ResponseTemplate::new(200).set_body_json(page(&ids, next.as_deref())),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_at_most_one_page_ahead_of_the_consumer() {
    let server = MockServer::start().await;
    mount_five_pages(&server).await;
    let bank = OpenPayments::new(config(&server, RetryPolicy::none())).unwrap();
    let (s, psu, account, query) = (session(), present(), AccountId::new("acc-1"), both());
    let mut stream = bank.transactions(&s, &psu, &account, &query);
    let (mut n, mut most_ahead) = (0usize, 0usize);
    while let Some(tx) = stream.next().await {
        let tx = tx.unwrap();
        n += 1;
        let on_page = n.div_ceil(2);
        let id = tx.transaction_id.unwrap();
        let expected = format!("{on_page}-{}", if n % 2 == 1 { "a" } else { "b" });
        assert_eq!(id.as_str(), expected, "in page order");
        // The page after this one (if any) is asked for while this one is consumed...
        requests_once_at_least(&server, (on_page + 1).min(5)).await;
        // ...and no page beyond it, however long the consumer takes.
        tokio::time::sleep(Duration::from_millis(30)).await;
        let requested = transactions_path_requests(&server).await;
        assert!(
            requested <= on_page + 1,
            "{requested} requests on page {on_page}"
        );
        most_ahead = most_ahead.max(requested - on_page);
    }
    assert_eq!(n, 10);
    assert_eq!(transactions_path_requests(&server).await, 5);
    assert_eq!(
        most_ahead, 1,
        "the next page was requested before it was needed"
    );
}

/// A first page of 200 entries (`1-0` ... `1-199`), then four pages of two.
async fn mount_long_first_page(server: &MockServer) {
    mount_token(server).await;
    let first: Vec<String> = (0..200).map(|i| format!("1-{i}")).collect();
    mount_page(
        server,
        None,
        ResponseTemplate::new(200).set_body_json(page(&first, Some("k2"))),
    )
    .await;
    for p in 2..=5u32 {
        let next = (p < 5).then(|| format!("k{}", p + 1));
        let ids = [format!("{p}-a"), format!("{p}-b")];
        let key = format!("k{p}");
        mount_page(
            server,
            Some(&key),
            ResponseTemplate::new(200).set_body_json(page(&ids, next.as_deref())),
        )
        .await;
    }
}

/// Requests made while the consumer reads the first page, and none after it drops the
/// stream there. The read-ahead request moves on when the consumer polls the stream, so
/// the consumer reads the first page's entries one by one (never its last) until
/// `expected` requests were made, then waits and drops the stream.
async fn requests_on_the_first_page(psu: &Psu, query: &TransactionQuery, expected: usize) -> usize {
    let server = MockServer::start().await;
    mount_long_first_page(&server).await;
    let bank = OpenPayments::new(config(&server, RetryPolicy::none())).unwrap();
    let (s, account) = (session(), AccountId::new("acc-1"));
    let mut stream = bank.transactions(&s, psu, &account, query);
    for i in 0..199 {
        let tx = stream.next().await.unwrap().unwrap();
        assert_eq!(tx.transaction_id.unwrap().as_str(), format!("1-{i}"));
        if transactions_path_requests(&server).await >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Time for a request the listing should not make to show.
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);
    let before = transactions_path_requests(&server).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = transactions_path_requests(&server).await;
    assert_eq!(before, after, "no request after the stream is dropped");
    after
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_ahead_only_for_a_present_psu_unless_the_query_says() {
    let v6 = Psu::present(IpAddr::V6(Ipv6Addr::LOCALHOST), None);
    for (what, psu, query, expected) in [
        ("present", present(), both(), 2),
        (
            "present, asked not to",
            present(),
            both().read_ahead(false),
            1,
        ),
        ("absent", Psu::absent(), both(), 1),
        (
            "absent, asked to",
            Psu::absent(),
            both().read_ahead(true),
            2,
        ),
        // The platform takes IPv4 only: no `PSU-IP-Address` is sent, the call counts.
        ("present with IPv6", v6, both(), 1),
    ] {
        let requested = requests_on_the_first_page(&psu, &query, expected).await;
        assert_eq!(requested, expected, "{what}");
    }
}

/// Serves page 1, then page 2 once as `damaged` and afterwards whole; returns the ids the
/// listing yields and the transactions requests made.
async fn listing_with_page_two_damaged_once(
    damaged: fn(&[u8]) -> Vec<u8>,
    sequential: bool,
) -> (Vec<String>, usize) {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let first = page(&["1-a".to_owned()], Some("k2"));
    mount_page(
        &server,
        None,
        ResponseTemplate::new(200).set_body_json(&first),
    )
    .await;
    let second = serde_json::to_vec(&page(&["2-a".to_owned(), "2-b".to_owned()], None)).unwrap();
    Mock::given(method("GET"))
        .and(path(TXS))
        .and(query_param("continuationKey", "k2"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(damaged(&second), "application/json"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_page(
        &server,
        Some("k2"),
        ResponseTemplate::new(200).set_body_raw(second, "application/json"),
    )
    .await;
    let retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        jitter: false,
        ..RetryPolicy::default()
    };
    let mut config = config(&server, retry);
    config.fetch_transaction_details = sequential;
    let bank = OpenPayments::new(config).unwrap();
    let (s, account) = (session(), AccountId::new("acc-1"));
    let ids: Vec<String> = bank
        .transactions(&s, &present(), &account, &both())
        .map_ok(|t| t.transaction_id.unwrap().as_str().to_owned())
        .try_collect()
        .await
        .unwrap();
    (ids, transactions_path_requests(&server).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_off_or_not_text_is_requested_again_like_before() {
    let cut: fn(&[u8]) -> Vec<u8> = |body| body[..body.len() / 2].to_vec();
    // A byte that is not UTF-8 inside an entry's id (a text the peek skips).
    let not_text: fn(&[u8]) -> Vec<u8> = |body| {
        let at = body.windows(3).position(|w| w == b"2-a").unwrap();
        let mut body = body.to_vec();
        body[at + 1] = 0xff;
        body
    };
    for (what, damaged) in [("cut off", cut), ("not UTF-8", not_text)] {
        for sequential in [false, true] {
            let (ids, requests) = listing_with_page_two_damaged_once(damaged, sequential).await;
            assert_eq!(
                ids,
                ["1-a", "2-a", "2-b"],
                "{what}, sequential {sequential}"
            );
            assert_eq!(
                requests, 3,
                "{what}, sequential {sequential}: page 1, page 2 damaged, page 2 again"
            );
        }
    }
}
