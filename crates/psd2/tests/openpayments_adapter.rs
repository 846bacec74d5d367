//! The Open Payments adapter against wiremock: token cache and renewal, headers, consent
//! and SCA polling, redirect state, pagination, error bodies, secret hygiene.
#![cfg(feature = "openpayments")]
#![allow(clippy::unwrap_used)]

mod openpayments_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use psd2::adapters::common::TransportConfig;
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::{
    AccountId, AccountInformation, Bank, BookingStatus, ConsentId, ConsentRequest, Consents,
    ErrorKind, Psu, PsuId, RedirectCallback, ScaChallenge, ScaMethod, Secret, Session,
    TransactionId, TransactionQuery,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CLIENT_SECRET: &str = "client-secret-zz9";
const CONSENT: &str = "consent-7f3e9a11-secret";
const PSU_ID: &str = "199001011234";
const ACCOUNTS: &str = "/psd2/accountinformation/v1/accounts";
const CONSENTS: &str = "/psd2/consent/v1/consents";

fn config(server: &MockServer) -> OpenPaymentsConfig {
    let mut c = OpenPaymentsConfig::new(server.uri().parse().unwrap(), "client-1", "ESSESESS")
        .with_client_secret(Secret::new(CLIENT_SECRET))
        .with_transport(TransportConfig::with_client(reqwest::Client::new()))
        // Each answer's own error here; retries are tested in `plumbing_adapter.rs`.
        .with_retry(psd2::RetryPolicy::none());
    c.poll_interval = Duration::from_millis(20);
    c.consent_wait = Duration::from_secs(2);
    c
}

fn adapter(server: &MockServer) -> OpenPayments {
    OpenPayments::new(config(server)).unwrap()
}

fn session() -> Session {
    Session::new(ConsentId::new(CONSENT))
}

fn psu() -> Psu {
    Psu::absent()
        .with_id(PsuId::new(PSU_ID))
        .with_corporate("5560000001", None)
}

fn token_body(token: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": token, "expires_in": expires_in, "token_type": "Bearer",
        "scope": "accountinformation private"
    }))
}

async fn mount_token(server: &MockServer, token: &str, expires_in: u64) {
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(token_body(token, expires_in))
        .mount(server)
        .await;
}

async fn requests_to(server: &MockServer, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

fn accounts_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(openpayments_support::ACCOUNT_LIST, "application/json")
}

fn hdr<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn token_is_cached_and_sent_with_every_header() {
    let server = MockServer::start().await;
    mount_token(&server, "tok-A", 3600).await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .and(header("authorization", "Bearer tok-A"))
        .respond_with(accounts_ok())
        .mount(&server)
        .await;
    let op = adapter(&server);
    let present = psu().clone();
    let mut present = present;
    present.ip_address = Some(IpAddr::V4(Ipv4Addr::new(152, 120, 171, 187)));
    present.user_agent = Some("Mozilla/5.0".into());
    let accounts = op.accounts(&session(), &psu(), true).await.unwrap();
    assert_eq!(accounts.len(), 2);
    op.accounts(&session(), &present, true).await.unwrap();

    let tokens = requests_to(&server, "/connect/token").await;
    assert_eq!(tokens.len(), 1, "token cached");
    let form = String::from_utf8(tokens[0].body.clone()).unwrap();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(form.contains("client_id=client-1"));
    assert!(form.contains(&format!("client_secret={CLIENT_SECRET}")));
    assert!(form.contains("scope=accountinformation+private"));

    let calls = requests_to(&server, ACCOUNTS).await;
    assert_eq!(calls.len(), 2);
    for r in &calls {
        assert_eq!(hdr(r, "x-bicfi"), Some("ESSESESS"));
        assert_eq!(hdr(r, "consent-id"), Some(CONSENT));
        assert_eq!(hdr(r, "psu-id"), Some(PSU_ID));
        assert_eq!(hdr(r, "psu-corporate-id"), Some("5560000001"));
        assert_eq!(r.url.query(), Some("withBalance=true"));
        assert!(
            hdr(r, "x-request-id")
                .unwrap()
                .parse::<uuid_like::Id>()
                .is_ok()
        );
    }
    assert_ne!(
        hdr(&calls[0], "x-request-id"),
        hdr(&calls[1], "x-request-id")
    );
    // Absent PSU: no IP, no user agent. Present PSU: both.
    assert_eq!(hdr(&calls[0], "psu-ip-address"), None);
    assert_eq!(hdr(&calls[0], "psu-user-agent"), None);
    assert_eq!(hdr(&calls[1], "psu-ip-address"), Some("152.120.171.187"));
    assert_eq!(hdr(&calls[1], "psu-user-agent"), Some("Mozilla/5.0"));
}

/// A tiny UUID shape check without another dependency.
mod uuid_like {
    pub struct Id;
    impl std::str::FromStr for Id {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let parts: Vec<usize> = s.split('-').map(str::len).collect();
            if parts == [8, 4, 4, 4, 12] && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit()) {
                Ok(Id)
            } else {
                Err(())
            }
        }
    }
}

#[tokio::test]
async fn token_is_renewed_after_expiry_and_secret_is_optional() {
    let server = MockServer::start().await;
    mount_token(&server, "tok-short", 1).await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(accounts_ok())
        .mount(&server)
        .await;
    let mut cfg = config(&server);
    cfg.client_secret = None;
    let op = OpenPayments::new(cfg).unwrap();
    op.accounts(&session(), &psu(), false).await.unwrap();
    op.accounts(&session(), &psu(), false).await.unwrap();
    assert_eq!(requests_to(&server, "/connect/token").await.len(), 1);
    // A 1 s token is renewed after 0.9 s (10 % margin).
    tokio::time::sleep(Duration::from_millis(950)).await;
    op.accounts(&session(), &psu(), false).await.unwrap();
    let tokens = requests_to(&server, "/connect/token").await;
    assert_eq!(tokens.len(), 2);
    let form = String::from_utf8(tokens[1].body.clone()).unwrap();
    assert!(!form.contains("client_secret"), "{form}");
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_retries_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(token_body("tok-old", 3600))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_token(&server, "tok-new", 3600).await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .and(header("authorization", "Bearer tok-old"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"tppMessages": [{"category": "ERROR", "code": "TOKEN_EXPIRED"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .and(header("authorization", "Bearer tok-new"))
        .respond_with(accounts_ok())
        .mount(&server)
        .await;
    let op = adapter(&server);
    assert_eq!(
        op.accounts(&session(), &psu(), true).await.unwrap().len(),
        2
    );
    assert_eq!(requests_to(&server, "/connect/token").await.len(), 2);
    let calls = requests_to(&server, ACCOUNTS).await;
    assert_eq!(calls.len(), 2);
    assert_ne!(
        hdr(&calls[0], "x-request-id"),
        hdr(&calls[1], "x-request-id")
    );
    // The renewed token is cached.
    op.accounts(&session(), &psu(), true).await.unwrap();
    assert_eq!(requests_to(&server, "/connect/token").await.len(), 2);
}

#[tokio::test]
async fn a_persistent_401_is_retried_exactly_once() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 3600).await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"tppMessages": [
            {"category": "ERROR", "code": "CONSENT_INVALID", "text": format!("Consent {CONSENT} of {PSU_ID} is invalid")}
        ]})))
        .mount(&server)
        .await;
    let op = adapter(&server);
    let err = op.accounts(&session(), &psu(), true).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConsentInvalid);
    assert_eq!(err.status, Some(401));
    let calls = requests_to(&server, ACCOUNTS).await;
    assert_eq!(calls.len(), 2, "one retry, no loop");
    assert_eq!(requests_to(&server, "/connect/token").await.len(), 2);
    assert_eq!(err.request_id(), hdr(&calls[1], "x-request-id"));
    // The echoed consent id and PSU id are scrubbed from every view of the error.
    let text = err.bank_messages()[0].text.as_deref().unwrap();
    assert_eq!(text, "Consent [REDACTED] of [REDACTED] is invalid");
    for view in [
        format!("{err}"),
        format!("{err:?}"),
        err.raw_body().unwrap().to_owned(),
    ] {
        assert!(!view.contains(CONSENT) && !view.contains(PSU_ID), "{view}");
    }
}

#[tokio::test]
async fn token_errors_are_reported_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"error": "invalid_client", "error_description": "bad secret"}),
            ),
        )
        .mount(&server)
        .await;
    let op = adapter(&server);
    let err = op.accounts(&session(), &psu(), true).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.operation, "token");
    assert_eq!(err.codes().collect::<Vec<_>>(), ["invalid_client"]);
    assert!(requests_to(&server, ACCOUNTS).await.is_empty());
    for view in [format!("{err}"), format!("{err:?}"), format!("{op:?}")] {
        assert!(!view.contains(CLIENT_SECRET), "{view}");
    }
}

fn tpp(code: &str) -> Value {
    json!({"tppMessages": [{"category": "ERROR", "code": code, "text": "see docs"}]})
}

#[tokio::test]
async fn error_bodies_map_to_kinds_with_status_codes_and_request_id() {
    let cases: Vec<(u16, Value, Option<&str>, ErrorKind)> = vec![
        (400, tpp("FORMAT_ERROR"), None, ErrorKind::FormatError),
        (401, tpp("CONSENT_EXPIRED"), None, ErrorKind::ConsentExpired),
        (403, tpp("CONSENT_UNKNOWN"), None, ErrorKind::ConsentUnknown),
        (
            404,
            tpp("RESOURCE_UNKNOWN"),
            None,
            ErrorKind::ResourceUnknown,
        ),
        (
            429,
            tpp("ACCESS_EXCEEDED"),
            Some("30"),
            ErrorKind::AccessExceeded {
                retry_after: Some(Duration::from_secs(30)),
            },
        ),
        (
            500,
            tpp("INTERNAL_SERVER_ERROR"),
            None,
            ErrorKind::BankUnavailable,
        ),
    ];
    for (status, body, retry_after, kind) in cases {
        let server = MockServer::start().await;
        mount_token(&server, "tok", 3600).await;
        let mut response = ResponseTemplate::new(status).set_body_json(body.clone());
        if let Some(r) = retry_after {
            response = response.insert_header("Retry-After", r);
        }
        Mock::given(method("GET"))
            .and(path(format!("{ACCOUNTS}/acc-1/balances")))
            .respond_with(response)
            .mount(&server)
            .await;
        let op = adapter(&server);
        let err = op
            .balances(&session(), &psu(), &AccountId::new("acc-1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, kind, "HTTP {status}");
        assert_eq!(err.status, Some(status));
        assert_eq!(err.bank, "openpayments");
        assert_eq!(err.operation, "balances");
        let code = body["tppMessages"][0]["code"].as_str().unwrap();
        assert_eq!(err.codes().collect::<Vec<_>>(), [code]);
        let calls = requests_to(&server, &format!("{ACCOUNTS}/acc-1/balances")).await;
        assert_eq!(calls.len(), if status == 401 { 2 } else { 1 });
        assert_eq!(err.request_id(), hdr(calls.last().unwrap(), "x-request-id"));
        assert!(err.to_string().contains(code), "{err}");
    }
}

async fn mount_consent_status(server: &MockServer, status: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{CONSENTS}/{CONSENT}/status")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"consentStatus": status})))
        .mount(server)
        .await;
}

async fn mount_sca_script(server: &MockServer, statuses: &[&str]) {
    // Each status answers once, in order; the last one stays.
    for (i, status) in statuses.iter().enumerate() {
        let mock = Mock::given(method("GET"))
            .and(path(format!("{CONSENTS}/{CONSENT}/authorisations/auth-1")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"scaStatus": status})))
            .with_priority(u8::try_from(i + 1).unwrap());
        let mock = if i + 1 < statuses.len() {
            mock.up_to_n_times(1)
        } else {
            mock
        };
        mock.mount(server).await;
    }
}

async fn mount_start_authorisation(server: &MockServer, body: Value) {
    Mock::given(method("POST"))
        .and(path(format!("{CONSENTS}/{CONSENT}/authorisations")))
        .respond_with(ResponseTemplate::new(201).set_body_json(body))
        .mount(server)
        .await;
}

fn decoupled_answer() -> Value {
    json!({"authorisationId": "auth-1", "scaStatus": "started",
           "challengeData": {"data": ["autostart-42"]},
           "_links": {"scaStatus": {"href": format!("{CONSENTS}/{CONSENT}/authorisations/auth-1")}}})
}

async fn start_decoupled(op: &OpenPayments) -> psd2::DecoupledHandle {
    match op
        .start_sca(&ConsentId::new(CONSENT), &ScaMethod::Decoupled, &psu())
        .await
        .unwrap()
    {
        ScaChallenge::Decoupled {
            handle,
            auto_start_token,
            ..
        } => {
            assert_eq!(auto_start_token.unwrap().expose(), "autostart-42");
            assert_eq!(handle.expose(), "auth-1");
            handle
        }
        other => panic!("expected decoupled, got {other:?}"),
    }
}

#[tokio::test]
async fn decoupled_sca_polls_until_the_consent_is_valid() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 3600).await;
    mount_start_authorisation(&server, decoupled_answer()).await;
    mount_sca_script(&server, &["started", "started", "finalised"]).await;
    mount_consent_status(&server, "valid").await;
    let op = adapter(&server);
    let handle = start_decoupled(&op).await;
    let start_body: Value = serde_json::from_slice(
        &requests_to(&server, &format!("{CONSENTS}/{CONSENT}/authorisations")).await[0].body,
    )
    .unwrap();
    assert_eq!(start_body, json!({"authenticationMethodId": "mbid"}));
    let consents: &dyn Consents = &op;
    let s = consents
        .wait_for_decoupled(
            &ConsentId::new(CONSENT),
            &handle,
            Duration::from_secs(5),
            &psu(),
        )
        .await
        .unwrap();
    assert_eq!(s.consent_id.expose(), CONSENT);
    let polls = requests_to(
        &server,
        &format!("{CONSENTS}/{CONSENT}/authorisations/auth-1"),
    )
    .await;
    assert_eq!(polls.len(), 3);
    assert_eq!(
        requests_to(&server, &format!("{CONSENTS}/{CONSENT}/status"))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn decoupled_sca_failed_or_consent_rejected_is_sca_failed() {
    for (script, consent_status, code) in [
        (&["started", "failed"][..], "received", "failed"),
        (&["finalised"][..], "rejected", "rejected"),
    ] {
        let server = MockServer::start().await;
        mount_token(&server, "tok", 3600).await;
        mount_start_authorisation(&server, decoupled_answer()).await;
        mount_sca_script(&server, script).await;
        mount_consent_status(&server, consent_status).await;
        let op = adapter(&server);
        let handle = start_decoupled(&op).await;
        let err = op
            .wait_for_decoupled(
                &ConsentId::new(CONSENT),
                &handle,
                Duration::from_secs(5),
                &psu(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::ScaFailed);
        assert_eq!(err.codes().collect::<Vec<_>>(), [code]);
    }
}

#[tokio::test]
async fn decoupled_sca_times_out() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 3600).await;
    mount_start_authorisation(&server, decoupled_answer()).await;
    mount_sca_script(&server, &["started"]).await;
    let op = adapter(&server);
    let handle = start_decoupled(&op).await;
    let err = op
        .wait_for_decoupled(
            &ConsentId::new(CONSENT),
            &handle,
            Duration::from_millis(2500),
            &psu(),
        )
        .await
        .unwrap_err();
    // The bank kept answering `started`: an SCA timeout, not a network one.
    assert_eq!(err.kind, ErrorKind::ScaFailed);
    assert!(psd2::sca::is_sca_timeout(&err), "{err}");
    let polls = requests_to(
        &server,
        &format!("{CONSENTS}/{CONSENT}/authorisations/auth-1"),
    )
    .await;
    // The 20 ms configured interval is floored at 1 s: polls at 0, 1 and 2 s.
    assert!((2..=3).contains(&polls.len()), "{}", polls.len());
}

#[tokio::test]
async fn redirect_sca_adds_state_and_checks_it_on_return() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 3600).await;
    mount_start_authorisation(
        &server,
        json!({"authorisationId": "auth-1", "scaStatus": "started",
               "_links": {"scaRedirect": {"href": "/sca/authorize?authorisationId=auth-1"},
                          "scaStatus": {"href": "/x"}}}),
    )
    .await;
    mount_consent_status(&server, "valid").await;
    let op = adapter(&server);
    let cid = ConsentId::new(CONSENT);
    let back: url::Url = "https://tpp.example/cb".parse().unwrap();
    let challenge = op
        .start_sca(
            &cid,
            &ScaMethod::Redirect {
                redirect_uri: back.clone(),
            },
            &psu(),
        )
        .await
        .unwrap();
    let ScaChallenge::Redirect { url, state } = challenge else {
        panic!("expected redirect")
    };
    assert_eq!(url.path(), "/sca/authorize");
    assert!(url.as_str().starts_with(&server.uri()));
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["state"], state);
    assert_eq!(q["redirect_uri"], back.as_str());
    assert!(state.len() >= 32);
    let body: Value = serde_json::from_slice(
        &requests_to(&server, &format!("{CONSENTS}/{CONSENT}/authorisations")).await[0].body,
    )
    .unwrap();
    assert_eq!(body, json!({"authenticationMethodId": "redirect"}));

    let forged = RedirectCallback::from_url(
        &"https://tpp.example/cb?code=c1&state=forged"
            .parse()
            .unwrap(),
    )
    .unwrap();
    let err = op
        .complete_redirect(&cid, &forged, &psu())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(
        requests_to(&server, &format!("{CONSENTS}/{CONSENT}/status"))
            .await
            .is_empty()
    );

    let good = RedirectCallback::from_url(
        &format!("https://tpp.example/cb?code=c1&state={state}")
            .parse()
            .unwrap(),
    )
    .unwrap();
    let s = op.complete_redirect(&cid, &good, &psu()).await.unwrap();
    assert_eq!(s.consent_id, cid);
}

#[tokio::test]
async fn redirect_completion_reports_a_rejected_consent() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 3600).await;
    mount_consent_status(&server, "rejected").await;
    let op = adapter(&server);
    let cb = RedirectCallback::from_url(&"https://t/cb?code=c&state=s".parse().unwrap()).unwrap();
    let err = op
        .complete_redirect(&ConsentId::new(CONSENT), &cb, &psu())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ScaRejected);
}

#[tokio::test]
async fn consent_create_get_delete() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 3600).await;
    Mock::given(method("POST"))
        .and(path(CONSENTS))
        .and(body_string_contains("\"access\":{}"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_raw(openpayments_support::CONSENT_CREATED, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{CONSENTS}/{CONSENT}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access": {}, "recurringIndicator": true, "validUntil": "2099-12-31",
            "frequencyPerDay": 4, "lastActionDate": "2025-04-22", "consentStatus": "valid"})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{CONSENTS}/{CONSENT}")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let op = adapter(&server);
    let created = op
        .create_consent(&ConsentRequest::all_accounts(), &psu())
        .await
        .unwrap();
    assert_eq!(
        created.consent.id.expose(),
        "70c6d203-e1d1-43ff-9e42-07e5dda640ba"
    );
    // The adapter hands out the SCA methods and links too, without the id in Debug.
    assert_eq!(created.sca_methods.len(), 3);
    assert_eq!(
        created.sca_methods[2].id.as_deref(),
        Some("mbid_animated_qr_token")
    );
    assert_eq!(
        created.links["startAuthorisation"].href_for(&created.consent.id),
        format!("{CONSENTS}/70c6d203-e1d1-43ff-9e42-07e5dda640ba/authorisations")
    );
    assert!(!format!("{created:?}").contains("70c6d203-e1d1-43ff-9e42-07e5dda640ba"));
    let sent: Value =
        serde_json::from_slice(&requests_to(&server, CONSENTS).await[0].body).unwrap();
    assert_eq!(sent["combinedServiceIndicator"], false);
    assert_eq!(sent["frequencyPerDay"], 4);
    assert!(sent["validUntil"].is_string());
    let c = op.consent(&ConsentId::new(CONSENT), &psu()).await.unwrap();
    assert_eq!(c.status, psd2::ConsentStatus::Valid);
    op.delete_consent(&ConsentId::new(CONSENT), &psu())
        .await
        .unwrap();
    let bank: &dyn Bank = &op;
    assert_eq!(bank.name(), "openpayments");
    assert!(bank.as_consents().is_some() && bank.as_account_information().is_some());
}

fn page(ids: &[&str], next_key: Option<&str>) -> ResponseTemplate {
    let booked: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"transactionId": id, "bookingDate": "2025-04-22",
                         "transactionAmount": {"currency": "SEK", "amount": "-1.50"}})
        })
        .collect();
    let mut links = json!({"account": {"href": format!("{ACCOUNTS}/acc-1")}});
    if let Some(k) = next_key {
        // The bank's next link drops dateTo: the adapter must keep it anyway.
        links["next"] = json!({"href": format!(
            "{ACCOUNTS}/acc-1/transactions?bookingStatus=booked&dateFrom=2025-01-01&continuationKey={k}")});
    }
    ResponseTemplate::new(200).set_body_json(json!({
        "account": {"iban": "SE4550000000058398257466"},
        "transactions": {"booked": booked, "pending": [], "_links": links}}))
}

async fn mount_page(server: &MockServer, key: Option<&str>, response: ResponseTemplate) {
    let mut mock = Mock::given(method("GET")).and(path(format!("{ACCOUNTS}/acc-1/transactions")));
    mock = match key {
        Some(k) => mock.and(query_param("continuationKey", k)),
        None => mock.and(wiremock::matchers::query_param_is_missing(
            "continuationKey",
        )),
    };
    mock.respond_with(response).mount(server).await;
}

fn query() -> TransactionQuery {
    TransactionQuery::new(
        chrono::NaiveDate::from_ymd_opt(2025, 1, 1),
        chrono::NaiveDate::from_ymd_opt(2025, 4, 30),
        BookingStatus::Booked,
    )
}

#[tokio::test]
async fn transactions_follow_every_page_with_the_original_query() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 3600).await;
    mount_page(&server, None, page(&["t1", "t2"], Some("k1"))).await;
    mount_page(&server, Some("k1"), page(&[], Some("k2"))).await;
    mount_page(&server, Some("k2"), page(&["t3"], None)).await;
    let op = adapter(&server);
    let ai: &dyn AccountInformation = &op;
    let (s, p, a, q) = (session(), psu(), AccountId::new("acc-1"), query());
    let txs: Vec<_> = ai.transactions(&s, &p, &a, &q).try_collect().await.unwrap();
    let ids: Vec<_> = txs
        .iter()
        .map(|t| t.transaction_id.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(ids, ["t1", "t2", "t3"]);
    assert_eq!(txs[0].amount.amount.to_string(), "-1.50");
    let calls = requests_to(&server, &format!("{ACCOUNTS}/acc-1/transactions")).await;
    assert_eq!(calls.len(), 3);
    let keys: Vec<Option<String>> = calls
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "continuationKey")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    assert_eq!(keys, [None, Some("k1".into()), Some("k2".into())]);
    for r in &calls {
        let q: std::collections::HashMap<_, _> = r.url.query_pairs().into_owned().collect();
        assert_eq!(q["bookingStatus"], "booked");
        assert_eq!(q["dateFrom"], "2025-01-01");
        assert_eq!(q["dateTo"], "2025-04-30");
        assert_eq!(hdr(r, "consent-id"), Some(CONSENT));
    }
}

#[tokio::test]
async fn a_repeated_continuation_key_is_a_pagination_error() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 3600).await;
    mount_page(&server, None, page(&["t1"], Some("k1"))).await;
    mount_page(&server, Some("k1"), page(&["t2"], Some("k1"))).await;
    let op = adapter(&server);
    let (s, p, a, q) = (session(), psu(), AccountId::new("acc-1"), query());
    let results: Vec<_> = op.transactions(&s, &p, &a, &q).collect().await;
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok());
    let err = results[2].as_ref().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Pagination);
    assert_eq!(
        requests_to(&server, &format!("{ACCOUNTS}/acc-1/transactions"))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn transaction_details_are_merged_when_asked() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 3600).await;
    mount_page(
        &server,
        None,
        ResponseTemplate::new(200)
            .set_body_raw(openpayments_support::TRANSACTIONS, "application/json"),
    )
    .await;
    // The seed page has a next link; its second page is empty and last.
    mount_page(&server, Some("0jrZlU66guCSgkTDQr8cuA"), page(&[], None)).await;
    Mock::given(method("GET"))
        .and(path_regex(format!("^{ACCOUNTS}/acc-1/transactions/[^/]+$")))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            openpayments_support::TRANSACTION_DETAILS,
            "application/json",
        ))
        .mount(&server)
        .await;
    let mut cfg = config(&server);
    cfg.fetch_transaction_details = true;
    let op = OpenPayments::new(cfg).unwrap();
    let (s, p, a, q) = (session(), psu(), AccountId::new("acc-1"), query());
    let txs: Vec<_> = op.transactions(&s, &p, &a, &q).try_collect().await.unwrap();
    assert_eq!(txs.len(), 3);
    // Two of the three seed transactions have a details link.
    let details_calls = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.url
                .path()
                .starts_with(&format!("{ACCOUNTS}/acc-1/transactions/"))
        })
        .count();
    assert_eq!(details_calls, 2);
    assert_eq!(txs[2].purpose_code.as_deref(), Some("OTHR"));
    assert_eq!(txs[2].entry_reference.as_deref(), Some("EX02-0005678"));
    assert!(txs[1].purpose_code.is_none(), "no details link, no details");
    // The page's account reference and the aggregate fields reach the stream.
    assert!(txs.iter().all(|t| t.account.is_some()));
    assert_eq!(txs[1].is_alias_payout, Some(true));
    assert!(txs[1].aggregate.is_some());

    let one = op
        .transaction_details(&s, &p, &a, &TransactionId::new("700ed360"))
        .await
        .unwrap();
    assert_eq!(one.status, psd2::TransactionStatus::Booked);
    assert_eq!(one.payment_service_reference.as_deref(), Some("OPESE12345"));
}

#[tokio::test]
async fn debug_and_display_hold_no_secrets() {
    let server = MockServer::start().await;
    mount_token(&server, "tok-secret-123", 3600).await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"tppMessages": [
            {"category": "ERROR", "code": "CONSENT_UNKNOWN", "path": "Consent-ID",
             "text": format!("unknown consent {CONSENT}")}]})),
        )
        .mount(&server)
        .await;
    let op = adapter(&server);
    let err = op.accounts(&session(), &psu(), true).await.unwrap_err();
    let views = [
        format!("{op:?}"),
        format!("{:?}", op.config()),
        format!("{err}"),
        format!("{err:?}"),
        format!("{:?}", session()),
        format!("{:?}", psu()),
    ];
    for view in &views {
        for secret in [CLIENT_SECRET, "tok-secret-123", CONSENT, PSU_ID] {
            assert!(!view.contains(secret), "{secret} in {view}");
        }
    }
    assert!(
        views[1].contains("ESSESESS"),
        "config debug is useful: {}",
        views[1]
    );
}

#[test]
fn config_is_validated() {
    let base: url::Url = "https://api.openbankingplatform.com".parse().unwrap();
    let ok = OpenPaymentsConfig::new(base.clone(), "c", "ESSESESS");
    assert_eq!(ok.scope, "accountinformation private");
    assert!(OpenPayments::new(ok).is_ok());
    for bad in [
        OpenPaymentsConfig::new(base.clone(), "", "ESSESESS"),
        OpenPaymentsConfig::new(base.clone(), "c", "ESS"),
        OpenPaymentsConfig::new("ftp://x".parse().unwrap(), "c", "ESSESESS"),
    ] {
        assert_eq!(
            OpenPayments::new(bad).unwrap_err().kind,
            ErrorKind::InvalidInput
        );
    }
}
