//! A hostile bank: next-page links that leave the bank's API, loop or cannot be read, pages
//! and entries that do not map, and error bodies that echo what the TPP sent. The listing
//! ends with an error (never a short list that looks complete) and no secret reaches
//! `Display` or `Debug`.

use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::account::AccountId;
use crate::api::{AccountInformation, Consents};
use crate::error::ErrorKind;
use crate::sca::ScaMethod;
use crate::secret::Secret;
use crate::transaction::{BookingStatus, TransactionQuery};

const TX_PATH: &str = "/v1/accounts/a1/transactions";

/// The first page: one entry and `next` pointing at `next`.
async fn first_page(server: &MockServer, next: &str) {
    Mock::given(method("GET"))
        .and(path(TX_PATH))
        .and(query_param("bookingStatus", "booked"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transactions": {
                "booked": [tx("t1", "-1.00", Some("2026-01-01"), None)],
                "_links": {"next": {"href": next}}
            }})),
        )
        .mount(server)
        .await;
}

/// All entries of the listing, or its error.
async fn listed(bank: &BerlinGroup) -> Result<Vec<crate::Transaction>, crate::Error> {
    let query = TransactionQuery::new(None, None, BookingStatus::Booked);
    let account = AccountId::new("a1");
    let session = session();
    let psu = present();
    bank.transactions(&session, &psu, &account, &query)
        .try_collect()
        .await
}

#[tokio::test]
async fn a_next_link_to_another_host_ends_the_listing_with_an_error() {
    let server = MockServer::start().await;
    first_page(
        &server,
        "https://attacker.example/v1/accounts/a1/transactions?page=2",
    )
    .await;
    let bank = bank(&server, |_| {});
    let error = listed(&bank).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Pagination, "{error}");
    // Nothing was asked of the other host, and the bank was asked once.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // Outside the base path on the same host: also refused.
    let server = MockServer::start().await;
    first_page(&server, "/admin/export?page=2").await;
    let bank = BerlinGroup::new(
        entry(|_| {}),
        BerlinGroupConfig::new(Url::parse(&format!("{}/psd2", server.uri())).unwrap())
            .with_retry(RetryPolicy::none()),
    )
    .unwrap();
    Mock::given(method("GET"))
        .and(path(format!("/psd2{TX_PATH}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transactions": {
                "booked": [tx("t1", "-1.00", Some("2026-01-01"), None)],
                "_links": {"next": {"href": format!("{}/admin/export", server.uri())}}
            }})),
        )
        .mount(&server)
        .await;
    let error = listed(&bank).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Pagination, "{error}");
}

#[tokio::test]
async fn a_next_link_back_to_the_same_page_is_a_loop_not_an_endless_listing() {
    let server = MockServer::start().await;
    // The same page, its query spelled in another order.
    Mock::given(method("GET"))
        .and(path(TX_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transactions": {
                "booked": [tx("t1", "-1.00", Some("2026-01-01"), None)],
                "_links": {"next": {"href": format!("{TX_PATH}?page=1")}}
            }})),
        )
        .mount(&server)
        .await;
    let bank = bank(&server, |_| {});
    let error = listed(&bank).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Pagination, "{error}");
    // Page 1 (no page parameter), then page=1, then page=1 again is the loop.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_page_that_cannot_be_read_ends_the_listing_with_an_error() {
    for (status, body) in [
        (200, json!({"transactions": {"booked": "not a list"}})),
        (200, json!({"account": {"iban": "DE89370400440532013000"}})),
        (
            200,
            json!({"transactions": {"booked": [], "_links": {"next": 7}}}),
        ),
        (
            500,
            json!({"tppMessages": [{"category": "ERROR", "code": "INTERNAL_SERVER_ERROR"}]}),
        ),
    ] {
        let server = MockServer::start().await;
        first_page(&server, &format!("{TX_PATH}?page=2")).await;
        Mock::given(method("GET"))
            .and(path(TX_PATH))
            .and(query_param("page", "2"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body.clone()))
            .with_priority(1)
            .mount(&server)
            .await;
        let bank = bank(&server, |_| {});
        let error = listed(&bank).await.unwrap_err();
        assert_ne!(error.kind, ErrorKind::Pagination, "{body}: {error}");
        assert_eq!(server.received_requests().await.unwrap().len(), 2, "{body}");

        // Page by page: the first page arrives, then the error.
        let query = TransactionQuery::new(None, None, BookingStatus::Booked);
        let account = AccountId::new("a1");
        let (session, psu) = (session(), present());
        let pages: Vec<_> = bank
            .transaction_pages(&session, &psu, &account, &query, None)
            .collect::<Vec<_>>()
            .await;
        assert_eq!(pages.len(), 2, "{body}");
        assert!(pages[0].is_ok() && pages[1].is_err(), "{body}");
    }
}

#[tokio::test]
async fn an_entry_with_an_unreadable_amount_is_an_error_naming_the_field() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(TX_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transactions": {
                "booked": [
                    tx("t1", "-1.00", Some("2026-01-01"), None),
                    tx("t2", "1,00", Some("2026-01-02"), None),
                    tx("t3", "99999999999999999999999999999999999", Some("2026-01-03"), None),
                ]
            }})),
        )
        .mount(&server)
        .await;
    let bank = bank(&server, |_| {});
    let error = listed(&bank).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("transactionAmount"), "{text}");
    assert!(text.contains("booked[1]"), "{text}");
}

#[tokio::test]
async fn secrets_and_bank_text_stay_out_of_display_and_debug() {
    const PASSWORD: &str = "hunter2-psu-password";
    const CONSENT: &str = "consent-1";
    let server = MockServer::start().await;
    // A bank that echoes the password, the PSU id and the consent id in its error text.
    Mock::given(method("POST"))
        .and(path(format!("/v1/consents/{CONSENT}/authorisations")))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"tppMessages": [{
                "category": "ERROR",
                "code": "PSU_CREDENTIALS_INVALID",
                "text": format!("password {PASSWORD} of private-1 wrong for {CONSENT}")
            }]})),
        )
        .mount(&server)
        .await;
    let bank = bank(&server, |_| {});
    let method = ScaMethod::Embedded {
        password: Secret::new(PASSWORD),
    };
    let error = bank
        .start_sca(&ConsentId::new(CONSENT), &method, &present())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized, "{error}");
    let sent = server.received_requests().await.unwrap();
    assert_eq!(body(&sent[0])["psuData"]["password"], PASSWORD);
    for shown in [
        error.to_string(),
        format!("{error:?}"),
        format!("{method:?}"),
        format!("{bank:?}"),
    ] {
        for secret in [PASSWORD, "private-1", CONSENT] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
    assert!(error.to_string().contains("PSU_CREDENTIALS_INVALID"));
}

#[tokio::test]
async fn a_consent_id_that_cannot_go_back_in_a_header_is_refused_at_creation() {
    for id in ["", "consent 1", "consent-\u{7}1", "consent-ü"] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/consents"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "consentStatus": "received", "consentId": id
            })))
            .mount(&server)
            .await;
        let bank = bank(&server, |_| {});
        let request = crate::consent::ConsentRequest::all_accounts();
        let error = bank.create_consent(&request, &present()).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::UnexpectedResponse, "{id:?}: {error}");
        assert!(error.to_string().contains("consentId"), "{error}");
        // Nothing more was asked of the bank with it.
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_page_cut_off_on_the_way_is_fetched_again_not_ended() {
    let server = MockServer::start().await;
    let full = json!({"transactions": {"booked": [tx("t1", "-1.00", Some("2026-01-01"), None)]}})
        .to_string();
    // The first answer stops halfway through the JSON (status 200, headers fine).
    let half = full.get(..full.len() / 2).unwrap().to_string();
    Mock::given(method("GET"))
        .and(path(TX_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_raw(half, "application/json"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(TX_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_raw(full, "application/json"))
        .mount(&server)
        .await;
    let retry = RetryPolicy {
        max_attempts: 3,
        base_delay: std::time::Duration::from_millis(1),
        jitter: false,
        ..RetryPolicy::default()
    };
    let bank = BerlinGroup::new(entry(|_| {}), config(&server).with_retry(retry)).unwrap();
    let entries = listed(&bank).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // Without retries the cut-off answer is the listing's error, never an empty list.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(TX_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("{\"transactions\": {\"boo", "application/json"),
        )
        .mount(&server)
        .await;
    let error = listed(&bank_at(&server)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::UnexpectedResponse, "{error}");
    assert!(crate::retry::is_transient(&error), "{error}");
}

fn bank_at(server: &MockServer) -> BerlinGroup {
    bank(server, |_| {})
}
