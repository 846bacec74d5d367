//! The Swedbank adapter against a wiremock bank: signing, PSU headers, consents, SCA,
//! pagination, errors and secret hygiene.
#![cfg(feature = "swedbank")]
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use psd2::adapters::swedbank::{Swedbank, SwedbankConfig};
use psd2::{
    AccountId, AccountInformation, Bank, BookingStatus, ConsentId, ConsentRequest, ConsentStatus,
    Consents, DecoupledHandle, ErrorKind, IbanOrRaw, Psu, PsuContext, PsuId, RedirectCallback,
    ScaChallenge, ScaMethod, ScaProgress, Session, TransactionQuery,
};
use psd2_security::fixtures::{TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM};
use psd2_security::{SigningIdentity, verify_request};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const CONSENT: &str = "c0nsent-7f3a9b21-secret";
const PSU_ID: &str = "Åsa-19870101-secret";

/// Matches only requests whose signature verifies against the fixture certificate.
struct Signed;

impl Match for Signed {
    fn matches(&self, request: &Request) -> bool {
        verify(request).is_ok()
    }
}

fn verify(request: &Request) -> Result<(), psd2_security::VerifyError> {
    let target = match request.url.query() {
        Some(q) => format!("{}?{q}", request.url.path()),
        None => request.url.path().to_string(),
    };
    verify_request(
        request.method.as_str(),
        &target,
        &request.headers,
        &request.body,
        TEST_SIGNING_CERT_PEM,
    )
}

fn identity() -> SigningIdentity {
    SigningIdentity::from_pem(TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM).unwrap()
}

fn adapter(server: &MockServer) -> Swedbank {
    let base = Url::parse(&format!("{}/swedbank", server.uri())).unwrap();
    Swedbank::new(
        SwedbankConfig::new(base)
            .with_signing(identity())
            .with_psu_context(PsuContext::Private)
            .with_future_breaking_changes(vec!["FBC-1".into(), "FBC-2".into()])
            // Each answer's own error here; retries are tested in `plumbing_adapter.rs`.
            .with_retry(psd2::RetryPolicy::none()),
    )
    .unwrap()
}

fn session() -> Session {
    Session::new(ConsentId::new(CONSENT))
}

fn present_psu() -> Psu {
    let ip: IpAddr = "10.1.2.3".parse().unwrap();
    Psu::present(ip, Some("Firefox/140".into())).with_id(PsuId::new(PSU_ID))
}

/// Every request the server saw verifies, and carries the four signing headers.
async fn assert_all_signed(server: &MockServer) -> Vec<Request> {
    let requests = server.received_requests().await.unwrap();
    assert!(!requests.is_empty());
    for r in &requests {
        for h in ["digest", "signature", "tpp-signature-certificate", "date"] {
            assert!(r.headers.contains_key(h), "{h} missing on {}", r.url);
        }
        verify(r).unwrap_or_else(|e| panic!("{} {}: {e}", r.method, r.url));
    }
    requests
}

fn tx(id: &str, amount: &str) -> Value {
    json!({"transactionId": id, "transactionAmount": {"amount": amount, "currency": "NOK"}, "bookingDate": "2025-06-01"})
}

#[tokio::test]
async fn consent_flow_is_signed_with_psu_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/swedbank/v1/consents"))
        .and(Signed)
        .and(body_json(json!({
            "access": {"allPsd2": "allAccounts"},
            "combinedServiceIndicator": false,
            "frequencyPerDay": 4,
            "recurringIndicator": true,
            "validUntil": "9999-12-31"
        })))
        .and(header("psu-id", "=?utf-8?B?w4VzYS0xOTg3MDEwMS1zZWNyZXQ=?="))
        .and(header("psu-context", "PRIVATE"))
        .and(header("psu-ip-address", "10.1.2.3"))
        .and(header("psu-user-agent", "Firefox/140"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "consentId": CONSENT, "consentStatus": "received",
            "_links": {"self": {"href": "/v1/consents/x"}, "status": {"href": "/v1/consents/x/status"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/swedbank/v1/consents/{CONSENT}/status")))
        .and(Signed)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"consentStatus": "valid"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/swedbank/v1/consents/{CONSENT}")))
        .and(Signed)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access": {"allPsd2": "allAccounts"}, "consentStatus": "valid",
            "validUntil": "2025-12-31", "frequencyPerDay": 4, "recurringIndicator": true,
            "lastActionDate": "2025-06-02"
        })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/swedbank/v1/consents/{CONSENT}")))
        .and(Signed)
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;

    let bank = adapter(&server);
    let consents: &dyn Consents = bank.as_consents().unwrap();
    let psu = present_psu();
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), &psu)
        .await
        .unwrap();
    assert_eq!(created.consent.id.expose(), CONSENT);
    assert_eq!(created.consent.status, ConsentStatus::Received);
    assert!(created.challenge.is_none());
    // What the bank granted (its get-consent answer), not what was asked (no end date).
    assert_eq!(
        created.consent.valid_until.unwrap().to_string(),
        "2025-12-31"
    );

    let id = created.consent.id;
    // Absent PSU: no IP address or user agent goes out.
    let absent = Psu::absent().with_id(PsuId::new("plain-id"));
    assert_eq!(
        consents.consent_status(&id, &absent).await.unwrap(),
        ConsentStatus::Valid
    );
    let consent = consents.consent(&id, &absent).await.unwrap();
    assert_eq!(consent.frequency_per_day, Some(4));
    assert_eq!(consent.valid_until.unwrap().to_string(), "2025-12-31");
    consents.delete_consent(&id, &absent).await.unwrap();

    let requests = assert_all_signed(&server).await;
    // create, get (what the bank granted), status, get, delete
    assert_eq!(requests.len(), 5);
    let ids: HashSet<&str> = requests
        .iter()
        .map(|r| r.headers["x-request-id"].to_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 5, "a fresh X-Request-ID per call");
    // (wiremock's `header` matcher splits on commas, so this one is checked here.)
    assert_eq!(
        requests[0].headers["x-future-breaking-changes"],
        "FBC-1,FBC-2"
    );
    // requests[1] is the get after the creation, with the present PSU.
    for r in &requests[2..] {
        assert_eq!(r.headers["psu-id"], "plain-id");
        assert!(!r.headers.contains_key("psu-ip-address"));
        assert!(!r.headers.contains_key("psu-user-agent"));
        // PSU-ID is covered by the signature.
        let sig = r.headers["signature"].to_str().unwrap();
        assert!(sig.contains("psu-id"), "{sig}");
    }
}

#[tokio::test]
async fn consent_for_given_accounts_lists_ibans() {
    let server = MockServer::start().await;
    let iban = "NO0995360573002";
    Mock::given(method("POST"))
        .and(path("/swedbank/v1/consents"))
        .and(Signed)
        .and(body_json(json!({
            "access": {"accounts": [{"iban": iban}], "balances": [{"iban": iban}]},
            "combinedServiceIndicator": false,
            "frequencyPerDay": 1,
            "recurringIndicator": false,
            "validUntil": "2030-01-31"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "consentId": CONSENT, "consentStatus": "received",
            "_links": {"self": {"href": "/a"}, "status": {"href": "/b"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let request = ConsentRequest::accounts(vec![IbanOrRaw::parse(iban)])
        .valid_until(chrono::NaiveDate::from_ymd_opt(2030, 1, 31).unwrap())
        .frequency_per_day(1)
        .recurring(false)
        .with_data(true, false);
    adapter(&server)
        .create_consent(&request, &Psu::absent())
        .await
        .unwrap();
}

#[tokio::test]
async fn consent_for_the_account_list_only_asks_for_available_accounts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/swedbank/v1/consents"))
        .and(Signed)
        .and(body_json(json!({
            "access": {"availableAccounts": "allAccounts"},
            "combinedServiceIndicator": false,
            "frequencyPerDay": 4,
            "recurringIndicator": true,
            "validUntil": "9999-12-31"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "consentId": CONSENT, "consentStatus": "received",
            "_links": {"self": {"href": "/a"}, "status": {"href": "/b"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let request = ConsentRequest::all_accounts().with_data(false, false);
    adapter(&server)
        .create_consent(&request, &Psu::absent())
        .await
        .unwrap();
}

#[tokio::test]
async fn consent_for_all_accounts_with_some_data_asks_for_all_psd2() {
    for (balances, transactions) in [(true, false), (false, true)] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/swedbank/v1/consents"))
            .and(Signed)
            .and(body_json(json!({
                "access": {"allPsd2": "allAccounts"},
                "combinedServiceIndicator": false,
                "frequencyPerDay": 4,
                "recurringIndicator": true,
                "validUntil": "9999-12-31"
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "consentId": CONSENT, "consentStatus": "received",
                "_links": {"self": {"href": "/a"}, "status": {"href": "/b"}}
            })))
            .expect(1)
            .mount(&server)
            .await;
        let request = ConsentRequest::all_accounts().with_data(balances, transactions);
        adapter(&server)
            .create_consent(&request, &Psu::absent())
            .await
            .unwrap();
    }
}

async fn mount_authorisation(server: &MockServer, statuses: &[&str]) {
    Mock::given(method("POST"))
        .and(path(format!("/swedbank/v1/consents/{CONSENT}/authorisations")))
        .and(Signed)
        .and(header("tpp-redirect-preferred", "false"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "authorisationId": "auth-1", "scaStatus": "started", "scaApproach": "DECOUPLED",
            "psuMessage": "Open the app",
            "_links": {"scaStatus": {"href": format!("/v1/consents/{CONSENT}/authorisations/auth-1")}}
        })))
        .mount(server)
        .await;
    let (last, first) = statuses.split_last().unwrap();
    for status in first {
        Mock::given(method("GET"))
            .and(path(format!(
                "/swedbank/v1/consents/{CONSENT}/authorisations/auth-1"
            )))
            .and(Signed)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"scaStatus": status})))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!(
            "/swedbank/v1/consents/{CONSENT}/authorisations/auth-1"
        )))
        .and(Signed)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"scaStatus": last})))
        .with_priority(2)
        .mount(server)
        .await;
}

async fn decoupled(server: &MockServer) -> (Swedbank, DecoupledHandle) {
    let bank = adapter(server);
    let challenge = bank
        .start_sca(
            &ConsentId::new(CONSENT),
            &ScaMethod::Decoupled,
            &Psu::absent(),
        )
        .await
        .unwrap();
    let ScaChallenge::Decoupled {
        handle, message, ..
    } = challenge
    else {
        panic!("expected a decoupled challenge");
    };
    assert_eq!(handle.expose(), "auth-1");
    assert_eq!(message.as_deref(), Some("Open the app"));
    (bank, handle.with_poll_interval(Duration::from_millis(10)))
}

#[tokio::test]
async fn decoupled_polling_becomes_valid() {
    let server = MockServer::start().await;
    mount_authorisation(&server, &["started", "started", "finalised"]).await;
    let (bank, handle) = decoupled(&server).await;
    let id = ConsentId::new(CONSENT);
    let first = bank
        .poll_decoupled(&id, &handle, &Psu::absent())
        .await
        .unwrap();
    assert!(matches!(first, ScaProgress::Pending { hint: Some(ref h), .. } if h == "started"));
    let session = bank
        .wait_for_decoupled(&id, &handle, Duration::from_secs(5), &Psu::absent())
        .await
        .unwrap();
    assert_eq!(session.consent_id.expose(), CONSENT);
    assert_eq!(assert_all_signed(&server).await.len(), 4);
}

#[tokio::test]
async fn decoupled_polling_rejected_is_sca_failed() {
    let server = MockServer::start().await;
    mount_authorisation(&server, &["started", "failed"]).await;
    let (bank, handle) = decoupled(&server).await;
    let error = bank
        .wait_for_decoupled(
            &ConsentId::new(CONSENT),
            &handle,
            Duration::from_secs(5),
            &Psu::absent(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::ScaFailed);
    assert_eq!(error.codes().collect::<Vec<_>>(), ["failed"]);
}

#[tokio::test]
async fn decoupled_polling_times_out() {
    let server = MockServer::start().await;
    mount_authorisation(&server, &["started"]).await;
    let (bank, handle) = decoupled(&server).await;
    let error = bank
        .wait_for_decoupled(
            &ConsentId::new(CONSENT),
            &handle,
            Duration::from_millis(2500),
            &Psu::absent(),
        )
        .await
        .unwrap_err();
    // The bank kept answering `started`: an SCA timeout, not a network one.
    assert_eq!(error.kind, ErrorKind::ScaFailed);
    assert!(psd2::sca::is_sca_timeout(&error), "{error}");
    let polls = server.received_requests().await.unwrap().len() - 1;
    assert!((2..=3).contains(&polls), "{polls} polls (1 s floor)");
}

#[tokio::test]
async fn redirect_sca_checks_state() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/swedbank/v1/consents/{CONSENT}/authorisations")))
        .and(Signed)
        .and(header("tpp-redirect-uri", "https://tpp.example/cb"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "authorisationId": "auth-2", "scaStatus": "started",
            "_links": {
                "scaStatus": {"href": "/v1/consents/x/authorisations/auth-2"},
                "scaRedirect": {"href": format!("{}/swedbank/sca/authorize?consentId={CONSENT}&authorisationId=auth-2", server.uri())}
            }
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/swedbank/v1/consents/{CONSENT}/status")))
        .and(Signed)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"consentStatus": "valid"})))
        .mount(&server)
        .await;
    let bank = adapter(&server);
    let id = ConsentId::new(CONSENT);
    let method = ScaMethod::Redirect {
        redirect_uri: Url::parse("https://tpp.example/cb").unwrap(),
    };
    let ScaChallenge::Redirect { url, state } =
        bank.start_sca(&id, &method, &Psu::absent()).await.unwrap()
    else {
        panic!("expected a redirect challenge");
    };
    assert_eq!(url.path(), "/swedbank/sca/authorize");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(query.contains(&("state".into(), state.clone())));
    assert!(query.contains(&("authorisationId".into(), "auth-2".into())));

    let callback = |state: &str| {
        RedirectCallback::from_url(
            &Url::parse(&format!("https://tpp.example/cb?code=abc&state={state}")).unwrap(),
        )
        .unwrap()
    };
    // A forged state, and the right state for another consent, are rejected without a call.
    let forged = bank
        .complete_redirect(&id, &callback("forged"), &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(forged.kind, ErrorKind::InvalidInput);
    let other = bank
        .complete_redirect(&ConsentId::new("other"), &callback(&state), &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(other.kind, ErrorKind::InvalidInput);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    let session = bank
        .complete_redirect(&id, &callback(&state), &Psu::absent())
        .await
        .unwrap();
    assert_eq!(session.consent_id, id);
    // A state is good once.
    let replay = bank
        .complete_redirect(&id, &callback(&state), &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(replay.kind, ErrorKind::InvalidInput);
    assert_all_signed(&server).await;
}

#[tokio::test]
async fn accounts_balances_and_details() {
    let server = MockServer::start().await;
    let account = json!({
        "resourceId": "acc-1", "iban": "NO0995360573002", "currency": "NOK", "name": "Brukskonto",
        "balances": [{"balanceAmount": {"amount": "100.26", "currency": "NOK"}, "balanceType": "closingBooked"}]
    });
    Mock::given(method("GET"))
        .and(path("/swedbank/v1/accounts"))
        .and(query_param("withBalance", "true"))
        .and(header("consent-id", CONSENT))
        .and(Signed)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accounts": [account]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/swedbank/v1/accounts/acc-1"))
        .and(Signed)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"account": account})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/swedbank/v1/accounts/acc-1/balances"))
        .and(Signed)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "balances": [{"balanceAmount": {"amount": "7.00", "currency": "NOK"}, "balanceType": "expected"}]
        })))
        .mount(&server)
        .await;
    let bank = adapter(&server);
    let ai: &dyn AccountInformation = bank.as_account_information().unwrap();
    let accounts = ai.accounts(&session(), &Psu::absent(), true).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].balances.len(), 1);
    let id = AccountId::new("acc-1");
    let details = ai
        .account(&session(), &Psu::absent(), &id, false)
        .await
        .unwrap();
    assert_eq!(details.name.as_deref(), Some("Brukskonto"));
    let balances = ai.balances(&session(), &Psu::absent(), &id).await.unwrap();
    assert_eq!(balances[0].amount.amount.to_string(), "7.00");
    assert_all_signed(&server).await;
}

const TX_PATH: &str = "/swedbank/v1/accounts/acc-1/transactions";

/// A month back: inside Swedbank's history (the adapter moves an older `dateFrom` up).
fn date_from() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() - chrono::Days::new(30)
}

fn query() -> TransactionQuery {
    TransactionQuery::new(Some(date_from()), None, BookingStatus::Both)
}

async fn mount_page(
    server: &MockServer,
    key: Option<&str>,
    items: Vec<Value>,
    next: Option<String>,
) {
    let mut transactions = json!({"booked": items});
    if let Some(next) = next {
        transactions["_links"] = json!({"next": {"href": next}});
    }
    let mut mock = Mock::given(method("GET"))
        .and(path(TX_PATH))
        .and(Signed)
        .and(query_param("bookingStatus", "both"))
        .and(query_param("dateFrom", date_from().to_string()));
    mock = match key {
        Some(k) => mock.and(query_param("continuationKey", k)),
        None => mock.and(NoKey),
    };
    mock.respond_with(
        ResponseTemplate::new(200).set_body_json(json!({"transactions": transactions})),
    )
    .mount(server)
    .await;
}

struct NoKey;

impl Match for NoKey {
    fn matches(&self, request: &Request) -> bool {
        !request
            .url
            .query_pairs()
            .any(|(k, _)| k == "continuationKey")
    }
}

#[tokio::test]
async fn transactions_follow_signed_next_links_keeping_the_query() {
    let server = MockServer::start().await;
    // Page 2's link is absolute and drops dateFrom; page 3 is empty but has a next link;
    // page 4's link is relative to the API root.
    mount_page(
        &server,
        None,
        vec![tx("1", "1.00"), tx("2", "-2.00")],
        Some(format!(
            "{}{TX_PATH}?bookingStatus=both&continuationKey=k2",
            server.uri()
        )),
    )
    .await;
    mount_page(
        &server,
        Some("k2"),
        vec![tx("3", "3.00")],
        Some(format!("{TX_PATH}?continuationKey=k3")),
    )
    .await;
    mount_page(
        &server,
        Some("k3"),
        vec![],
        Some("/v1/accounts/acc-1/transactions?continuationKey=k4".into()),
    )
    .await;
    mount_page(&server, Some("k4"), vec![tx("4", "4.00")], None).await;
    let bank = adapter(&server);
    let (session, psu, account, query) =
        (session(), present_psu(), AccountId::new("acc-1"), query());
    let list: Vec<_> = bank
        .transactions(&session, &psu, &account, &query)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = list
        .iter()
        .map(|t| t.transaction_id.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    let requests = assert_all_signed(&server).await;
    assert_eq!(requests.len(), 4);
    for r in &requests {
        assert_eq!(r.headers["consent-id"], CONSENT);
        assert!(r.headers.contains_key("psu-id"));
        assert_eq!(r.headers["x-future-breaking-changes"], "FBC-1,FBC-2");
    }
}

#[tokio::test]
async fn repeated_next_link_is_a_pagination_error() {
    let server = MockServer::start().await;
    mount_page(
        &server,
        None,
        vec![tx("1", "1.00")],
        Some(format!("{TX_PATH}?continuationKey=k2")),
    )
    .await;
    mount_page(
        &server,
        Some("k2"),
        vec![tx("2", "2.00")],
        Some(format!("{TX_PATH}?continuationKey=k2&bookingStatus=both")),
    )
    .await;
    let bank = adapter(&server);
    let (session, psu, account, query) =
        (session(), Psu::absent(), AccountId::new("acc-1"), query());
    let results: Vec<_> = bank
        .transactions(&session, &psu, &account, &query)
        .collect()
        .await;
    assert_eq!(results.len(), 3);
    assert!(results[..2].iter().all(Result::is_ok));
    assert_eq!(results[2].as_ref().unwrap_err().kind, ErrorKind::Pagination);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn next_link_to_the_first_page_is_a_pagination_error() {
    let server = MockServer::start().await;
    mount_page(
        &server,
        None,
        vec![tx("1", "1.00")],
        Some(format!(
            "{TX_PATH}?dateFrom={}&bookingStatus=both",
            date_from()
        )),
    )
    .await;
    let bank = adapter(&server);
    let (session, psu, account, query) =
        (session(), Psu::absent(), AccountId::new("acc-1"), query());
    let results: Vec<_> = bank
        .transactions(&session, &psu, &account, &query)
        .collect()
        .await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[1].as_ref().unwrap_err().kind, ErrorKind::Pagination);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn next_link_off_the_api_is_not_followed() {
    let server = MockServer::start().await;
    mount_page(
        &server,
        None,
        vec![tx("1", "1.00")],
        Some(
            "https://evil.example/swedbank/v1/accounts/acc-1/transactions?continuationKey=x".into(),
        ),
    )
    .await;
    let bank = adapter(&server);
    let (session, psu, account, query) =
        (session(), Psu::absent(), AccountId::new("acc-1"), query());
    let results: Vec<_> = bank
        .transactions(&session, &psu, &account, &query)
        .collect()
        .await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].as_ref().unwrap_err().kind, ErrorKind::Pagination);
}

#[tokio::test]
async fn error_bodies_map_to_kinds_with_request_id() {
    let cases = [
        (
            400,
            json!({"id": "5615873375", "status": 400, "system": "ERA-PSD2", "code": "FORMAT_ERROR"}),
            ErrorKind::FormatError,
            "FORMAT_ERROR",
        ),
        (
            401,
            json!({"id": "1", "status": 401, "system": "ERA-PSD2", "code": "SIGNATURE_INVALID", "message": "bad"}),
            ErrorKind::Unauthorized,
            "SIGNATURE_INVALID",
        ),
        (
            404,
            json!({"id": "5615873376", "system": "ERA-PSD2", "status": 404, "code": "RESOURCE_UNKNOWN", "message": "Account not found."}),
            ErrorKind::ResourceUnknown,
            "RESOURCE_UNKNOWN",
        ),
        (
            500,
            json!({"id": "5615873378", "system": "ERA-PSD2", "status": 500, "code": "SYSTEM_ERROR"}),
            ErrorKind::BankUnavailable,
            "SYSTEM_ERROR",
        ),
    ];
    for (status, body, kind, code) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/swedbank/v1/accounts/acc-9"))
            .and(Signed)
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        let bank = adapter(&server);
        let error = bank
            .account(&session(), &Psu::absent(), &AccountId::new("acc-9"), false)
            .await
            .unwrap_err();
        assert_eq!(error.kind, kind, "{status}");
        assert_eq!(error.status, Some(status));
        assert_eq!(error.codes().collect::<Vec<_>>(), [code]);
        let sent = server.received_requests().await.unwrap()[0].headers["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(error.request_id(), Some(sent.as_str()));
        assert!(error.to_string().contains(&sent), "{error}");
        assert!(!error.to_string().contains(CONSENT));
    }
}

#[tokio::test]
async fn secrets_stay_out_of_debug_and_display() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/swedbank/v1/consents/{CONSENT}/status")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "id": "1", "system": "ERA-PSD2", "status": 403, "code": "CONSENT_UNKNOWN",
            "message": "Consent is unknown."
        })))
        .mount(&server)
        .await;
    let base = Url::parse(&format!("{}/swedbank", server.uri())).unwrap();
    let config = SwedbankConfig::new(base.clone()).with_signing(identity());
    let config_debug = format!("{config:?}");
    let bank = Swedbank::new(config).unwrap();
    let error = bank
        .consent_status(&ConsentId::new(CONSENT), &present_psu())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::ConsentUnknown);
    let challenge = ScaChallenge::Redirect {
        url: Url::parse(&format!("https://bank.example/sca?consentId={CONSENT}")).unwrap(),
        state: "s".into(),
    };
    let texts = [
        config_debug,
        format!("{bank:?}"),
        format!("{error:?}"),
        format!("{error:#?}"),
        error.to_string(),
        format!("{:?}", session()),
        format!("{:?}", present_psu()),
        format!("{challenge:?}"),
    ];
    let key_body: String = TEST_SIGNING_KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for text in &texts {
        for secret in [CONSENT, PSU_ID, "PRIVATE KEY", &key_body[..40]] {
            assert!(!text.contains(secret), "{secret:?} leaked in {text}");
        }
    }
    assert!(
        texts[0].contains("SN="),
        "config Debug names the key id: {}",
        texts[0]
    );
}

#[tokio::test]
async fn constructor_requires_signing_off_loopback() {
    let live = SwedbankConfig::new(Url::parse("https://openbanking.swedbank.no").unwrap());
    let error = Swedbank::new(live).unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    let local = SwedbankConfig::new(Url::parse("http://127.0.0.1:9/swedbank").unwrap());
    let bank = Swedbank::new(local).unwrap();
    assert_eq!(bank.name(), "swedbank");
    // No card account API: said one way, by the accessor.
    assert!(bank.as_card_account_information().is_none());
}
