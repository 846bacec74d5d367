//! The shared adapter plumbing at the Berlin Group banks (Open Payments, Swedbank) against a
//! fake bank (wiremock): a failed page retried alone, resuming from a stored cursor, the
//! booking-status filter, a listing that ends only with the bank's last page, the consent
//! the bank granted, and an unknown SCA status. Handelsbanken's are in `plumbing_adapter.rs`.
//!
//! Expected values come from the answers mounted here, never from the adapters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use psd2::adapters::common::TransportConfig;
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::adapters::swedbank::{Swedbank, SwedbankConfig};
use psd2::{
    AccountId, AccountInformation, BookingStatus, ConsentId, ConsentRequest, Consents,
    DecoupledHandle, ErrorKind, PageCursor, Psu, Session, TransactionQuery,
};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod plumbing_support;
use plumbing_support::{failing, fast, key_of, requests_to};

fn both() -> TransactionQuery {
    TransactionQuery::new(None, None, BookingStatus::Both)
}

// ---------------------------------------------------------------- Open Payments

const OP_TXS: &str = "/psd2/accountinformation/v1/accounts/acc-1/transactions";
const OP_CONSENTS: &str = "/psd2/consent/v1/consents";
const OP_CONSENT: &str = "consent-op-1";

async fn op(server: &MockServer, expires_in: Value) -> OpenPayments {
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "tok", "expires_in": expires_in, "token_type": "Bearer"}),
        ))
        .mount(server)
        .await;
    let config = OpenPaymentsConfig::new(server.uri().parse().unwrap(), "client-1", "ESSESESS")
        .with_transport(TransportConfig::with_client(reqwest::Client::new()))
        .with_retry(fast());
    OpenPayments::new(config).unwrap()
}

fn op_tx(id: &str) -> Value {
    json!({"transactionId": id, "bookingDate": "2025-04-22",
           "transactionAmount": {"currency": "SEK", "amount": "-1.50"}})
}

fn op_page(
    booked: Vec<Value>,
    pending: Vec<Value>,
    bankgiro: Vec<Value>,
    next: Option<&str>,
) -> ResponseTemplate {
    let mut links = json!({});
    if let Some(k) = next {
        links["next"] = json!({"href": format!("{OP_TXS}?continuationKey={k}")});
    }
    ResponseTemplate::new(200).set_body_json(json!({
        "account": {"iban": "SE4550000000058398257466"},
        "transactions": {"booked": booked, "pending": pending, "bankgiro": bankgiro, "_links": links}}))
}

async fn op_mount(server: &MockServer, key: Option<&str>, response: ResponseTemplate) {
    let m = Mock::given(method("GET")).and(path(OP_TXS));
    let m = match key {
        Some(k) => m.and(query_param("continuationKey", k)),
        None => m.and(query_param_is_missing("continuationKey")),
    };
    m.respond_with(response).mount(server).await;
}

fn op_session() -> Session {
    Session::new(ConsentId::new(OP_CONSENT))
}

#[tokio::test]
async fn op_a_booked_listing_drops_what_the_bank_sent_anyway() {
    let server = MockServer::start().await;
    let bank = op(&server, json!(3600)).await;
    op_mount(
        &server,
        None,
        op_page(
            vec![op_tx("b1")],
            vec![op_tx("p1")],
            vec![op_tx("g1")],
            Some("k1"),
        ),
    )
    .await;
    op_mount(
        &server,
        Some("k1"),
        op_page(vec![op_tx("b2")], vec![op_tx("p2")], vec![], None),
    )
    .await;
    let (s, psu, account) = (op_session(), Psu::absent(), AccountId::new("acc-1"));
    let booked = TransactionQuery::new(None, None, BookingStatus::Booked);
    let ids: Vec<String> = bank
        .transactions(&s, &psu, &account, &booked)
        .map_ok(|t| t.transaction_id.unwrap().as_str().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["b1", "b2"]);
    let pages: Vec<_> = bank
        .transaction_pages(&s, &psu, &account, &booked, None)
        .try_collect()
        .await
        .unwrap();
    let per_page: Vec<usize> = pages.iter().map(|p| p.entries.len()).collect();
    assert_eq!(per_page, [1, 1]);
}

#[tokio::test]
async fn op_an_answer_without_the_transactions_object_ends_the_listing_with_an_error() {
    let server = MockServer::start().await;
    let bank = op(&server, json!(3600)).await;
    op_mount(
        &server,
        None,
        op_page(vec![op_tx("b1")], vec![], vec![], Some("k1")),
    )
    .await;
    op_mount(
        &server,
        Some("k1"),
        ResponseTemplate::new(200)
            .set_body_json(json!({"account": {"iban": "SE4550000000058398257466"}})),
    )
    .await;
    let (s, psu, account) = (op_session(), Psu::absent(), AccountId::new("acc-1"));
    let all: Vec<_> = bank
        .transactions(&s, &psu, &account, &both())
        .collect()
        .await;
    assert_eq!(all.len(), 2, "the first page's entry, then the error");
    assert!(all[1].is_err());
    let pages: Vec<_> = bank
        .transaction_pages(&s, &psu, &account, &both(), None)
        .collect()
        .await;
    assert!(pages.last().unwrap().is_err(), "never an empty last page");
}

#[tokio::test]
async fn op_a_failed_page_is_retried_alone() {
    let server = MockServer::start().await;
    let bank = op(&server, json!(3600)).await;
    op_mount(
        &server,
        None,
        op_page(vec![op_tx("b1")], vec![], vec![], Some("k1")),
    )
    .await;
    op_mount(
        &server,
        Some("k1"),
        op_page(vec![op_tx("b2")], vec![], vec![], None),
    )
    .await;
    failing(
        Mock::given(method("GET"))
            .and(path(OP_TXS))
            .and(query_param("continuationKey", "k1")),
        502,
        2,
    )
    .mount(&server)
    .await;
    let (s, psu, account) = (op_session(), Psu::absent(), AccountId::new("acc-1"));
    let n = bank
        .transactions(&s, &psu, &account, &both())
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len();
    assert_eq!(n, 2);
    let keys: Vec<Option<String>> = requests_to(&server, OP_TXS)
        .await
        .iter()
        .map(key_of)
        .collect();
    assert_eq!(
        keys,
        [
            None,
            Some("k1".into()),
            Some("k1".into()),
            Some("k1".into())
        ]
    );
}

#[tokio::test]
async fn op_a_created_consent_reports_what_the_bank_granted() {
    let server = MockServer::start().await;
    let bank = op(&server, json!(i64::MAX)).await;
    Mock::given(method("POST"))
        .and(path(OP_CONSENTS))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "consentId": OP_CONSENT, "consentStatus": "received", "scaMethods": []})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{OP_CONSENTS}/{OP_CONSENT}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access": {}, "recurringIndicator": true, "validUntil": "2026-03-01",
            "frequencyPerDay": 2, "consentStatus": "received"})))
        .mount(&server)
        .await;
    let asked = ConsentRequest::all_accounts()
        .frequency_per_day(4)
        .valid_until(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
    let created = bank.create_consent(&asked, &Psu::absent()).await.unwrap();
    assert_eq!(created.consent.frequency_per_day, Some(2));
    assert_eq!(
        created.consent.valid_until.unwrap().to_string(),
        "2026-03-01"
    );
}

#[tokio::test]
async fn op_an_unknown_sca_status_ends_polling_at_once() {
    let server = MockServer::start().await;
    let bank = op(&server, json!(3600)).await;
    let poll = format!("{OP_CONSENTS}/{OP_CONSENT}/authorisations/auth-1");
    Mock::given(method("GET"))
        .and(path(poll.clone()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"scaStatus": "somethingNew"})),
        )
        .mount(&server)
        .await;
    let err = bank
        .wait_for_decoupled(
            &ConsentId::new(OP_CONSENT),
            &DecoupledHandle::new("auth-1"),
            Duration::from_secs(30),
            &Psu::absent(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ScaFailed);
    assert_eq!(requests_to(&server, &poll).await.len(), 1);
}

// ---------------------------------------------------------------- Swedbank

const SB_TXS: &str = "/swedbank/v1/accounts/acc-1/transactions";

fn sb(server: &MockServer) -> Swedbank {
    let base = Url::parse(&format!("{}/swedbank", server.uri())).unwrap();
    Swedbank::new(SwedbankConfig::new(base).with_retry(fast())).unwrap()
}

fn sb_page(server: &MockServer, id: &str, next: Option<&str>) -> ResponseTemplate {
    let mut transactions = json!({"booked": [{"transactionId": id,
        "transactionAmount": {"amount": "1.00", "currency": "NOK"}, "bookingDate": "2025-06-01"}]});
    if let Some(page) = next {
        transactions["_links"] = json!({"next": {"href": format!("{}{SB_TXS}?bookingStatus=both&page={page}", server.uri())}});
    }
    ResponseTemplate::new(200).set_body_json(json!({ "transactions": transactions }))
}

#[tokio::test]
async fn sb_a_failed_next_page_is_retried_alone_and_a_listing_resumes_there() {
    let server = MockServer::start().await;
    let page = |p: Option<&str>| {
        let m = Mock::given(method("GET")).and(path(SB_TXS));
        match p {
            Some(p) => m.and(query_param("page", p)),
            None => m.and(query_param_is_missing("page")),
        }
    };
    page(None)
        .respond_with(sb_page(&server, "s1", Some("2")))
        .mount(&server)
        .await;
    page(Some("2"))
        .respond_with(sb_page(&server, "s2", Some("3")))
        .mount(&server)
        .await;
    page(Some("3"))
        .respond_with(sb_page(&server, "s3", None))
        .mount(&server)
        .await;
    failing(page(Some("2")), 500, 1).mount(&server).await;
    let bank = sb(&server);
    let (s, psu, account) = (
        Session::new(ConsentId::new("c-1")),
        Psu::absent(),
        AccountId::new("acc-1"),
    );
    let pages: Vec<_> = bank
        .transaction_pages(&s, &psu, &account, &both(), None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let seen: Vec<Option<String>> = requests_to(&server, SB_TXS)
        .await
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    assert_eq!(
        seen,
        [None, Some("2".into()), Some("2".into()), Some("3".into())]
    );
    // Resume at page 3 with the cursor stored after page 2.
    let cursor = pages[1].next.clone().unwrap();
    let rest: Vec<_> = bank
        .transaction_pages(&s, &psu, &account, &both(), Some(cursor))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    let id = rest[0].entries[0]
        .as_ref()
        .unwrap()
        .transaction_id
        .clone()
        .unwrap();
    assert_eq!(id.as_str(), "s3");
    // A stored cursor pointing off the bank's API is refused, nothing sent.
    let before = server.received_requests().await.unwrap().len();
    let off = PageCursor::for_bank("swedbank", "https://evil.example/steal");
    let got: Vec<_> = bank
        .transaction_pages(&s, &psu, &account, &both(), Some(off))
        .collect()
        .await;
    assert_eq!(got[0].as_ref().unwrap_err().kind, ErrorKind::Pagination);
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

#[tokio::test]
async fn op_a_consent_that_stays_received_is_an_sca_timeout_not_a_network_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "tok", "expires_in": 3600, "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{OP_CONSENTS}/{OP_CONSENT}/status")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"consentStatus": "received"})),
        )
        .mount(&server)
        .await;
    let mut config = OpenPaymentsConfig::new(server.uri().parse().unwrap(), "client-1", "ESSESESS")
        .with_transport(TransportConfig::with_client(reqwest::Client::new()))
        .with_retry(fast());
    config.poll_interval = Duration::from_millis(50);
    config.consent_wait = Duration::from_millis(300);
    let bank = OpenPayments::new(config).unwrap();
    let callback = psd2::RedirectCallback::from_url(
        &Url::parse("http://127.0.0.1/callback?code=c&state=s").unwrap(),
    )
    .unwrap();
    let err = bank
        .complete_redirect(&ConsentId::new(OP_CONSENT), &callback, &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ScaFailed);
    assert!(psd2::sca::is_sca_timeout(&err), "{err}");
}

/// Open Payments' account list goes through the listing mapping: an error names the entry
/// (`accounts[1]...`) and the value's shape, never the value.
#[tokio::test]
async fn op_account_list_errors_name_the_entry_in_the_list() {
    let server = MockServer::start().await;
    let bank = op(&server, json!(3600)).await;
    let account = |id: &str, currency: &str| {
        json!({"resourceId": id, "currency": "SEK", "balances": [
            {"balanceType": "interimAvailable",
             "balanceAmount": {"currency": currency, "amount": "1.00"}}]})
    };
    Mock::given(method("GET"))
        .and(path("/psd2/accountinformation/v1/accounts"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"accounts": [
            account("a1", "SEK"), account("a2", "Anna Andersson")]})),
        )
        .mount(&server)
        .await;
    let session = Session::new(ConsentId::new(OP_CONSENT));
    let err = bank
        .accounts(&session, &Psu::absent(), true)
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("accounts[1].balances[0].balanceAmount.currency"),
        "{shown}"
    );
    assert!(!shown.contains("Anna"), "{shown}");
}
