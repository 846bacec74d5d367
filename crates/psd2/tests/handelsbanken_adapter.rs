//! The Handelsbanken adapter against a wiremock bank: tokens, retries, SCA, paging, errors,
//! and secret hygiene.
#![cfg(feature = "handelsbanken")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use psd2::adapters::common::TransportConfig;
use psd2::adapters::handelsbanken::{Handelsbanken, HandelsbankenConfig};
use psd2::{
    AccountId, AccountInformation, Bank, BookingStatus, CardAccountInformation, ConsentId,
    ConsentRequest, ConsentStatus, Consents, ErrorKind, IbanOrRaw, Psu, PsuId, RedirectCallback,
    RefreshToken, ScaApproach, ScaChallenge, ScaMethod, ScaProgress, Session, TransactionQuery,
};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{body_json, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "/mlurd/oauth2/token/1.0";
const CONSENTS: &str = "/openbanking/psd2/v1/consents";
const CONSENT_ID: &str = "22aa3559-577d-441c-b9e6-664ac3311a3e";
const ACCOUNTS: &str = "/openbanking/psd2/v2/accounts";

/// An adapter without retries: these tests see each answer's own error (retries are tested
/// in `plumbing_adapter.rs`).
fn adapter(server: &MockServer) -> Handelsbanken {
    let config = HandelsbankenConfig::new(Url::parse(&server.uri()).unwrap(), "client-abc", "SE")
        .transport(TransportConfig::with_client(reqwest::Client::new()))
        .with_retry(psd2::RetryPolicy::none());
    Handelsbanken::new(config).unwrap()
}

fn token(access: &str, expires_in: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"access_token": access, "expires_in": expires_in, "token_type": "Bearer"}),
    )
}

fn hb_error(status: u16, message: &str, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "httpCode": status, "httpMessage": message, "moreInformation": "details",
        "errors": [{"code": code, "message": "details"}]
    }))
}

async fn ccg(server: &MockServer, access: &str, expires_in: i64) {
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(token(access, expires_in))
        .mount(server)
        .await;
}

fn status_path() -> String {
    format!("{CONSENTS}/{CONSENT_ID}/status")
}

fn consent() -> ConsentId {
    ConsentId::new(CONSENT_ID)
}

fn valid_status() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"consentStatus": "VALID"}))
}

/// Answers with `responses` in order, repeating the last one.
struct Sequence {
    responses: Vec<ResponseTemplate>,
    calls: AtomicUsize,
}

impl Sequence {
    fn new(responses: Vec<ResponseTemplate>) -> Self {
        Self {
            responses,
            calls: AtomicUsize::new(0),
        }
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        self.responses[n.min(self.responses.len() - 1)].clone()
    }
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

fn header_of(r: &Request, name: &str) -> Option<String> {
    r.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
}

// ---------------- client credentials token ----------------

#[tokio::test]
async fn ccg_token_is_cached_and_headers_are_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("scope=AIS"))
        .and(body_string_contains("client_id=client-abc"))
        .respond_with(token("ccg-1", 3600))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(status_path()))
        .and(header("authorization", "Bearer ccg-1"))
        .and(header("country", "SE"))
        .and(header("x-ibm-client-id", "client-abc"))
        .respond_with(valid_status())
        .expect(2)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let absent = Psu::absent();
    assert_eq!(
        hb.consent_status(&consent(), &absent).await.unwrap(),
        ConsentStatus::Valid
    );
    let present = Psu::present("10.1.2.3".parse().unwrap(), None);
    assert_eq!(
        hb.consent_status(&consent(), &present).await.unwrap(),
        ConsentStatus::Valid
    );

    let calls = requests_to(&server, &status_path()).await;
    let ids: Vec<String> = calls
        .iter()
        .map(|r| header_of(r, "tpp-request-id").unwrap())
        .collect();
    assert_ne!(ids[0], ids[1], "a fresh TPP-Request-ID per call");
    assert_eq!(
        header_of(&calls[0], "tpp-transaction-id"),
        header_of(&calls[1], "tpp-transaction-id"),
        "one TPP-Transaction-ID per consent flow"
    );
    assert_eq!(header_of(&calls[0], "psu-ip-address"), None);
    assert_eq!(
        header_of(&calls[1], "psu-ip-address").as_deref(),
        Some("10.1.2.3")
    );
}

#[tokio::test]
async fn ccg_token_is_renewed_when_expired() {
    let server = MockServer::start().await;
    // expires_in 0: used for one call, renewed before the next.
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(token("ccg-short", 0))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(status_path()))
        .respond_with(valid_status())
        .expect(2)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    hb.consent_status(&consent(), &Psu::absent()).await.unwrap();
    hb.consent_status(&consent(), &Psu::absent()).await.unwrap();
}

#[tokio::test]
async fn ccg_401_renews_and_retries_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(Sequence::new(vec![
            token("ccg-old", 3600),
            token("ccg-new", 3600),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(status_path()))
        .and(header("authorization", "Bearer ccg-old"))
        .respond_with(hb_error(401, "Unauthorized", "TOKEN_INVALID"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(status_path()))
        .and(header("authorization", "Bearer ccg-new"))
        .respond_with(valid_status())
        .expect(1)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    assert_eq!(
        hb.consent_status(&consent(), &Psu::absent()).await.unwrap(),
        ConsentStatus::Valid
    );
}

#[tokio::test]
async fn ccg_401_twice_is_an_error_after_exactly_one_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(token("ccg", 3600))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(status_path()))
        .respond_with(hb_error(401, "Unauthorized", "TOKEN_INVALID"))
        .expect(2)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let err = hb
        .consent_status(&consent(), &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.status, Some(401));
    let last = requests_to(&server, &status_path()).await.pop().unwrap();
    assert_eq!(
        err.request_id(),
        header_of(&last, "tpp-request-id").as_deref()
    );
}

// ---------------- consents ----------------

#[tokio::test]
async fn create_consent_all_accounts_with_corporate_headers() {
    let server = MockServer::start().await;
    ccg(&server, "ccg", 3600).await;
    Mock::given(method("POST"))
        .and(path(CONSENTS))
        .and(body_json(json!({"access": "ALL_ACCOUNTS"})))
        .and(header("psu-corporate-id", "5560000001"))
        .and(header("psu-corporate-id-type", "BANK"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "consentId": CONSENT_ID, "consentStatus": "RECEIVED",
            "scaMethods": [{"scaMethodType": "REDIRECT"}, {"scaMethodType": "DECOUPLED"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(status_path()))
        .respond_with(valid_status())
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let corporate = Psu::absent().with_corporate("5560000001", None);
    let created = hb
        .create_consent(&ConsentRequest::all_accounts(), &corporate)
        .await
        .unwrap();
    assert_eq!(created.consent.id.expose(), CONSENT_ID);
    assert_eq!(created.consent.status, ConsentStatus::Received);
    assert_eq!(
        created.approaches,
        [ScaApproach::Redirect, ScaApproach::Decoupled]
    );

    // The flow's later calls reuse the consent's TPP-Transaction-ID.
    hb.consent_status(&created.consent.id, &Psu::absent())
        .await
        .unwrap();
    let create = requests_to(&server, CONSENTS).await.pop().unwrap();
    let status = requests_to(&server, &status_path()).await.pop().unwrap();
    assert_eq!(
        header_of(&create, "tpp-transaction-id"),
        header_of(&status, "tpp-transaction-id")
    );
}

#[tokio::test]
async fn consent_for_specific_accounts_is_refused_without_a_call() {
    let server = MockServer::start().await;
    let hb = adapter(&server);
    let request = ConsentRequest::accounts(vec![IbanOrRaw::parse("SE4550000000058398257466")]);
    let err = hb
        .create_consent(&request, &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(err.to_string().contains("ALL_ACCOUNTS"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn get_and_delete_consent() {
    let server = MockServer::start().await;
    ccg(&server, "ccg", 3600).await;
    Mock::given(method("GET"))
        .and(path(format!("{CONSENTS}/{CONSENT_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "consentId": CONSENT_ID, "consentStatus": "VALID", "validUntil": "2024-06-28", "lastActionDate": "2024-03-30"
        })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{CONSENTS}/{CONSENT_ID}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let c = hb.consent(&consent(), &Psu::absent()).await.unwrap();
    assert_eq!(c.valid_until, NaiveDate::from_ymd_opt(2024, 6, 28));
    hb.delete_consent(&consent(), &Psu::absent()).await.unwrap();
}

// ---------------- decoupled SCA ----------------

const INIT: &str = "/mlurd/decoupled/mbid/initAuthorization/2.0";
const POLL: &str = "/mlurd/decoupled/mbid/authorization/2.0/order-1";

async fn decoupled_server(polls: Vec<ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    ccg(&server, "ccg", 3600).await;
    Mock::given(method("POST"))
        .and(path(INIT))
        .and(header("authorization", "Bearer ccg"))
        .and(body_json(
            json!({"consentId": CONSENT_ID, "personalId": "199001011234"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "orderRef": "order-1", "autoStartToken": "auto-1", "sleepTime": 20, "status": "PENDING",
            "_links": {"poll": {"href": format!("{}{POLL}", server.uri())}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(POLL))
        .respond_with(Sequence::new(polls))
        .mount(&server)
        .await;
    server
}

fn poll(status: &str, hint: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"orderRef": "order-1", "status": status, "hintCode": hint, "sleepTime": 20}),
    )
}

fn complete() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "orderRef": "order-1", "status": "COMPLETE", "hintCode": "userSign", "sleepTime": 20,
        "access_token": "psu-access-1", "refresh_token": "psu-refresh-1", "expires_in": 3600,
        "token_type": "Bearer", "scope": format!("AIS:{CONSENT_ID}")
    }))
}

fn bankid_psu() -> Psu {
    Psu::absent().with_id(PsuId::new("199001011234"))
}

async fn start_decoupled(hb: &Handelsbanken) -> psd2::DecoupledHandle {
    match hb
        .start_sca(&consent(), &ScaMethod::Decoupled, &bankid_psu())
        .await
        .unwrap()
    {
        ScaChallenge::Decoupled {
            handle,
            auto_start_token,
            poll_interval,
            ..
        } => {
            assert_eq!(auto_start_token.unwrap().expose(), "auto-1");
            assert_eq!(poll_interval, Duration::from_millis(20));
            assert!(handle.poll_href().unwrap().ends_with(POLL));
            handle
        }
        other => panic!("decoupled expected, got {other:?}"),
    }
}

#[tokio::test]
async fn decoupled_polls_until_complete() {
    let server = decoupled_server(vec![
        poll("PENDING", "outstandingTransaction"),
        poll("PENDING", "userSign"),
        complete(),
    ])
    .await;
    let hb = adapter(&server);
    let handle = start_decoupled(&hb).await;
    let first = hb
        .poll_decoupled(&consent(), &handle, &bankid_psu())
        .await
        .unwrap();
    assert_eq!(
        first,
        ScaProgress::Pending {
            poll_interval: Some(Duration::from_millis(20)),
            hint: Some("outstandingTransaction".into())
        }
    );
    let session = hb
        .wait_for_decoupled(&consent(), &handle, Duration::from_secs(5), &bankid_psu())
        .await
        .unwrap();
    assert_eq!(session.consent_id.expose(), CONSENT_ID);
    assert_eq!(
        session.access_token.as_ref().unwrap().expose(),
        "psu-access-1"
    );
    assert_eq!(
        session.refresh_token.as_ref().unwrap().expose(),
        "psu-refresh-1"
    );
    let left = session.expires_at.unwrap() - Utc::now();
    assert!(left > chrono::Duration::seconds(3500) && left <= chrono::Duration::seconds(3600));
    assert_eq!(requests_to(&server, POLL).await.len(), 3);
}

#[tokio::test]
async fn decoupled_failed_gives_sca_failed_with_hint() {
    let server = decoupled_server(vec![
        poll("PENDING", "started"),
        poll("FAILED", "userCancel"),
    ])
    .await;
    let hb = adapter(&server);
    let handle = start_decoupled(&hb).await;
    let err = hb
        .wait_for_decoupled(&consent(), &handle, Duration::from_secs(5), &bankid_psu())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ScaFailed);
    assert_eq!(err.codes().collect::<Vec<_>>(), ["userCancel"]);
}

#[tokio::test]
async fn decoupled_times_out() {
    let server = decoupled_server(vec![poll("PENDING", "outstandingTransaction")]).await;
    let hb = adapter(&server);
    let handle = start_decoupled(&hb).await;
    let err = hb
        .wait_for_decoupled(
            &consent(),
            &handle,
            Duration::from_millis(2500),
            &bankid_psu(),
        )
        .await
        .unwrap_err();
    // The bank kept answering pending: an SCA timeout, not a network one.
    assert_eq!(err.kind, ErrorKind::ScaFailed);
    assert!(psd2::sca::is_sca_timeout(&err), "{err}");
    // Polls at 0, 1 and 2 s at the earliest (the 1 s floor), never a tight loop.
    let polls = requests_to(&server, POLL).await.len();
    assert!((2..=3).contains(&polls), "{polls} polls");
}

// ---------------- redirect SCA ----------------

fn redirect_method() -> ScaMethod {
    ScaMethod::Redirect {
        redirect_uri: Url::parse("https://tpp.example/callback").unwrap(),
    }
}

#[tokio::test]
async fn redirect_url_state_check_and_code_exchange() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .and(body_string_contains("client_id=client-abc"))
        .and(body_string_contains(
            "redirect_uri=https%3A%2F%2Ftpp.example%2Fcallback",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "acg-access", "refresh_token": "acg-refresh", "expires_in": 3600,
            "token_type": "Bearer", "scope": format!("AIS:{CONSENT_ID}")
        })))
        .expect(1)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let ScaChallenge::Redirect { url, state } = hb
        .start_sca(&consent(), &redirect_method(), &Psu::absent())
        .await
        .unwrap()
    else {
        panic!("redirect expected");
    };
    assert_eq!(url.path(), "/openbanking/redirect/oauth2/authorize/1.0");
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["scope"], format!("AIS:{CONSENT_ID}"));
    assert_eq!(q["client_id"], "client-abc");
    assert_eq!(q["state"], state);
    assert_eq!(q["redirect_uri"], "https://tpp.example/callback");
    assert!(state.len() >= 16);

    // A forged callback: rejected, nothing sent.
    let forged = RedirectCallback::from_url(
        &Url::parse("https://tpp.example/callback?code=the-code&state=forged").unwrap(),
    )
    .unwrap();
    let err = hb
        .complete_redirect(&consent(), &forged, &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(requests_to(&server, TOKEN).await.is_empty());

    let genuine = RedirectCallback::from_url(
        &Url::parse(&format!(
            "https://tpp.example/callback?code=the-code&state={state}"
        ))
        .unwrap(),
    )
    .unwrap();
    let session = hb
        .complete_redirect(&consent(), &genuine, &Psu::absent())
        .await
        .unwrap();
    assert_eq!(session.access_token.unwrap().expose(), "acg-access");
    assert_eq!(session.refresh_token.unwrap().expose(), "acg-refresh");
    assert!(session.expires_at.is_some());

    // The state is single use.
    let again = hb
        .complete_redirect(&consent(), &genuine, &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn code_exchange_oauth_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "The authorization code has expired."}),
        ))
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let ScaChallenge::Redirect { state, .. } = hb
        .start_sca(&consent(), &redirect_method(), &Psu::absent())
        .await
        .unwrap()
    else {
        panic!("redirect expected");
    };
    let cb = RedirectCallback {
        code: psd2::AuthorizationCode::new("old-code"),
        state,
    };
    let err = hb
        .complete_redirect(&consent(), &cb, &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.status, Some(400));
    assert_eq!(err.codes().collect::<Vec<_>>(), ["invalid_grant"]);
    assert!(err.request_id().is_some());
}

#[tokio::test]
async fn registered_redirect_uri_is_enforced() {
    let server = MockServer::start().await;
    let config = HandelsbankenConfig::new(Url::parse(&server.uri()).unwrap(), "client-abc", "SE")
        .redirect_uri(Url::parse("https://tpp.example/registered").unwrap())
        .transport(TransportConfig::with_client(reqwest::Client::new()));
    let hb = Handelsbanken::new(config).unwrap();
    let err = hb
        .start_sca(&consent(), &redirect_method(), &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
}

// ---------------- PSU token refresh ----------------

fn accounts_body() -> Value {
    json!({"accounts": [{"accountId": "acc-1", "currency": "SEK", "iban": "SE4550000000058398257466", "name": "Allkonto"}]})
}

fn session(access: &str, expired: bool) -> Session {
    let expires_at = if expired {
        Utc::now() - chrono::Duration::seconds(5)
    } else {
        Utc::now() + chrono::Duration::seconds(3600)
    };
    Session::new(consent())
        .with_access_token(psd2::AccessToken::new(access), Some(expires_at))
        .with_refresh_token(RefreshToken::new("refresh-1"))
}

async fn refresh_mock(server: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=refresh-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "psu-new", "refresh_token": "refresh-2", "expires_in": 3600, "token_type": "Bearer"
        })))
        .expect(expect)
        .mount(server)
        .await;
}

#[tokio::test]
async fn expired_psu_token_is_refreshed_before_the_call() {
    let server = MockServer::start().await;
    refresh_mock(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .and(header("authorization", "Bearer psu-new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(accounts_body()))
        .expect(2)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let old = session("psu-old", true);
    let accounts = hb.accounts(&old, &Psu::absent(), false).await.unwrap();
    assert_eq!(accounts[0].id.as_str(), "acc-1");
    // The renewed token is reused (no second refresh) and handed back for storing.
    hb.accounts(&old, &Psu::absent(), false).await.unwrap();
    let current = hb.current_session(&old);
    assert_eq!(current.access_token.unwrap().expose(), "psu-new");
    assert_eq!(current.refresh_token.unwrap().expose(), "refresh-2");
}

#[tokio::test]
async fn psu_401_refreshes_once_and_retries() {
    let server = MockServer::start().await;
    refresh_mock(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .and(header("authorization", "Bearer psu-old"))
        .respond_with(hb_error(401, "Unauthorized", "TOKEN_EXPIRED"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .and(header("authorization", "Bearer psu-new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(accounts_body()))
        .expect(1)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let accounts = hb
        .accounts(&session("psu-old", false), &Psu::absent(), false)
        .await
        .unwrap();
    assert_eq!(accounts.len(), 1);
}

#[tokio::test]
async fn psu_401_twice_is_an_error_without_looping() {
    let server = MockServer::start().await;
    refresh_mock(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(hb_error(401, "Unauthorized", "TOKEN_INVALID"))
        .expect(2)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let err = hb
        .accounts(&session("psu-old", false), &Psu::absent(), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.status, Some(401));
}

#[tokio::test]
async fn psu_401_with_a_consent_code_is_the_consent_error_without_a_refresh() {
    let more_information_only = ResponseTemplate::new(401).set_body_json(json!({
        "httpCode": 401, "httpMessage": "Unauthorized", "moreInformation": "CONSENT_EXPIRED"
    }));
    let cases = [
        // errors[].code decides before the generic httpMessage.
        (
            hb_error(401, "Unauthorized", "CONSENT_EXPIRED"),
            ErrorKind::ConsentExpired,
        ),
        (
            hb_error(401, "Unauthorized", "CONSENT_INVALID"),
            ErrorKind::ConsentInvalid,
        ),
        // Only moreInformation names the consent code.
        (more_information_only, ErrorKind::ConsentExpired),
    ];
    for (response, kind) in cases {
        let server = MockServer::start().await;
        refresh_mock(&server, 0).await;
        Mock::given(method("GET"))
            .and(path(ACCOUNTS))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
        let hb = adapter(&server);
        let err = hb
            .accounts(&session("psu-old", false), &Psu::absent(), false)
            .await
            .unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
        assert_eq!(err.status, Some(401));
        assert_eq!(err.operation, "accounts");
        let request = requests_to(&server, ACCOUNTS).await.pop().unwrap();
        assert_eq!(
            err.request_id(),
            header_of(&request, "tpp-request-id").as_deref()
        );
    }
}

#[tokio::test]
async fn refresh_refused_after_a_401_returns_the_original_401() {
    let server = MockServer::start().await;
    let original = json!({
        "httpCode": 401, "httpMessage": "Unauthorized", "moreInformation": "Access token is not valid",
        "errors": [{"code": "TOKEN_INVALID", "message": "Access token is not valid"}]
    });
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "The consent is not valid."}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(ResponseTemplate::new(401).set_body_json(original.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let err = hb
        .accounts(&session("psu-old", false), &Psu::absent(), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.status, Some(401));
    assert_eq!(err.operation, "accounts");
    assert!(err.codes().any(|c| c == "TOKEN_INVALID"), "{err:?}");
    assert!(!err.codes().any(|c| c == "invalid_grant"), "{err:?}");
    assert!(err.to_string().contains("a new SCA is needed"), "{err}");
    let body: Value = serde_json::from_str(err.raw_body().unwrap()).unwrap();
    assert_eq!(body, original);
    let request = requests_to(&server, ACCOUNTS).await.pop().unwrap();
    assert_eq!(
        err.request_id(),
        header_of(&request, "tpp-request-id").as_deref()
    );
}

#[tokio::test]
async fn ccg_401_with_a_consent_code_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(token("ccg", 3600))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(status_path()))
        .respond_with(hb_error(401, "Unauthorized", "CONSENT_UNKNOWN"))
        .expect(1)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let err = hb
        .consent_status(&consent(), &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConsentUnknown);
    assert_eq!(err.status, Some(401));
}

#[tokio::test]
async fn session_without_token_is_invalid_input() {
    let server = MockServer::start().await;
    let hb = adapter(&server);
    let err = hb
        .accounts(&Session::new(consent()), &Psu::absent(), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
}

// ---------------- accounts, balances, pagination ----------------

#[tokio::test]
async fn accounts_with_balances_use_the_details() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(accounts_body()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ACCOUNTS}/acc-1")))
        // Raw text: `100.50` must keep its scale through the generated client.
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"accountId": "acc-1", "currency": "SEK", "balances": [
                {"balanceType": "AVAILABLE_AMOUNT", "amount": {"currency": "SEK", "amount": 100.50}},
                {"balanceType": "SOMETHING_NEW", "amount": {"currency": "SEK", "amount": 7}}]}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let s = session("psu", false);
    let accounts = hb.accounts(&s, &Psu::absent(), true).await.unwrap();
    assert_eq!(accounts[0].balances.len(), 2);
    assert_eq!(accounts[0].balances[0].amount.amount.to_string(), "100.50");
    assert_eq!(
        accounts[0].balances[1].balance_type,
        psd2::BalanceType::Other("SOMETHING_NEW".into())
    );
    let balances = hb
        .balances(&s, &Psu::absent(), &AccountId::new("acc-1"))
        .await
        .unwrap();
    assert_eq!(balances, accounts[0].balances);
    let without = hb
        .account(&s, &Psu::absent(), &AccountId::new("acc-1"), false)
        .await
        .unwrap();
    assert!(without.balances.is_empty());
}

fn tx_page(ids: &[&str], next: Option<&str>) -> ResponseTemplate {
    let txs: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"transactionId": id, "status": "BOOKED", "creditDebit": "DEBIT",
                   "amount": {"currency": "SEK", "amount": 10}, "ledgerDate": "2024-01-10"})
        })
        .collect();
    let mut body = json!({"transactions": txs});
    if let Some(key) = next {
        body["_links"] = json!({"next": {"href": format!("https://api.handelsbanken.com/openbanking/psd2/v2/accounts/acc-1/transactions?continuationKey={key}")}});
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn tx_query() -> TransactionQuery {
    TransactionQuery::new(
        NaiveDate::from_ymd_opt(2024, 1, 1),
        NaiveDate::from_ymd_opt(2024, 1, 31),
        BookingStatus::Both,
    )
}

const TXS: &str = "/openbanking/psd2/v2/accounts/acc-1/transactions";

#[tokio::test]
async fn transactions_follow_every_page_with_the_dates() {
    let server = MockServer::start().await;
    let dates = |m: wiremock::MockBuilder| {
        m.and(query_param("dateFrom", "2024-01-01"))
            .and(query_param("dateTo", "2024-01-31"))
    };
    dates(Mock::given(method("GET")).and(path(TXS)))
        .and(query_param("continuationKey", "k2"))
        .respond_with(tx_page(&["t3"], Some("k3")))
        .expect(1)
        .mount(&server)
        .await;
    dates(Mock::given(method("GET")).and(path(TXS)))
        .and(query_param("continuationKey", "k3"))
        .respond_with(tx_page(&["t4", "t5"], None))
        .expect(1)
        .mount(&server)
        .await;
    // The first page (no key) last: wiremock prefers the mock mounted first.
    dates(Mock::given(method("GET")).and(path(TXS)))
        .respond_with(tx_page(&["t1", "t2"], Some("k2")))
        .expect(1)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let s = session("psu", false);
    let psu = Psu::absent();
    let account = AccountId::new("acc-1");
    let query = tx_query();
    let ai: &dyn AccountInformation = &hb;
    let txs: Vec<_> = ai
        .transactions(&s, &psu, &account, &query)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = txs
        .iter()
        .map(|t| t.transaction_id.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(ids, ["t1", "t2", "t3", "t4", "t5"]);
    assert!(txs.iter().all(|t| t.amount.amount.to_string() == "-10"));
}

#[tokio::test]
async fn repeated_continuation_key_is_a_pagination_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(TXS))
        .and(query_param("continuationKey", "k1"))
        .respond_with(tx_page(&["t2"], Some("k1")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(TXS))
        .respond_with(tx_page(&["t1"], Some("k1")))
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let s = session("psu", false);
    let psu = Psu::absent();
    let account = AccountId::new("acc-1");
    let query = tx_query();
    let results: Vec<_> = hb.transactions(&s, &psu, &account, &query).collect().await;
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok());
    assert_eq!(results[2].as_ref().unwrap_err().kind, ErrorKind::Pagination);
    assert_eq!(requests_to(&server, TXS).await.len(), 2);
}

#[tokio::test]
async fn card_accounts_balances_and_transactions() {
    let server = MockServer::start().await;
    let card = json!({"accountId": "card-1", "cards": [{"maskedPan": "5123********3283"}], "currency": "SEK",
                      "product": "Platinum", "creditLimit": {"currency": "SEK", "amount": 2000}});
    Mock::given(method("GET"))
        .and(path("/openbanking/psd2/v1/card-accounts"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"cardAccounts": [card.clone()]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/openbanking/psd2/v1/card-accounts/card-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"cardAccount": card})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/openbanking/psd2/v1/card-accounts/card-1/balances"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"balances": [
            {"balanceType": "AVAILABLE_AMOUNT", "balanceAmount": {"currency": "SEK", "amount": 1500}, "creditLimitIncluded": true}
        ]})))
        .mount(&server)
        .await;
    let card_tx = |id: &str| json!({"cardTransactionId": id, "transactionAmount": {"currency": "SEK", "amount": -5}, "maskedPan": "5123********3283"});
    Mock::given(method("GET"))
        .and(path(
            "/openbanking/psd2/v1/card-accounts/card-1/transactions",
        ))
        .and(query_param("bookingStatus", "both"))
        .and(query_param("continuationKey", "c2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"cardTransactions": {"booked": [card_tx("b2")]}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/openbanking/psd2/v1/card-accounts/card-1/transactions"))
        .and(query_param("bookingStatus", "both"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"cardTransactions": {
            "booked": [card_tx("b1")], "pending": [card_tx("p1")],
            "_links": {"next": {"href": "/openbanking/psd2/v1/card-accounts/card-1/transactions?bookingStatus=both&continuationKey=c2"}}
        }})))
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let cai: &dyn CardAccountInformation = hb.as_card_account_information().unwrap();
    let s = session("psu", false);
    let psu = Psu::absent();
    let cards = cai.card_accounts(&s, &psu).await.unwrap();
    let limit = cards[0].credit_limit.as_ref().unwrap().amount;
    assert_eq!((limit.to_string(), limit.scale()), ("2000".to_owned(), 0));
    let id = AccountId::new("card-1");
    assert_eq!(cai.card_account(&s, &psu, &id).await.unwrap(), cards[0]);
    assert_eq!(cai.card_balances(&s, &psu, &id).await.unwrap().len(), 1);
    let query = tx_query();
    let txs: Vec<_> = cai
        .card_transactions(&s, &psu, &id, &query)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = txs
        .iter()
        .map(|t| t.transaction_id.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(ids, ["p1", "b1", "b2"]);
    assert!(txs.iter().all(|t| t.card.is_some()));
}

// ---------------- error bodies ----------------

async fn one_error(response: ResponseTemplate) -> (psd2::Error, Request) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(response)
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let s = Session::new(consent()).with_access_token(psd2::AccessToken::new("psu"), None);
    let err = hb.accounts(&s, &Psu::absent(), false).await.unwrap_err();
    let request = requests_to(&server, ACCOUNTS).await.pop().unwrap();
    (err, request)
}

#[tokio::test]
async fn handelsbanken_error_bodies_map_to_kinds() {
    let cases = [
        (hb_error(404, "Not Found", "RESOURCE_UNKNOWN"), ErrorKind::ResourceUnknown, Some(404)),
        (hb_error(401, "Unauthorized", "CONSENT_EXPIRED"), ErrorKind::ConsentExpired, Some(401)),
        (hb_error(400, "Bad Request", "FORMAT_ERROR"), ErrorKind::FormatError, Some(400)),
        (hb_error(500, "Internal Server Error", "SYSTEM_ERROR"), ErrorKind::BankUnavailable, Some(500)),
        (
            hb_error(429, "Too Many Requests", "ACCESS_EXCEEDED").insert_header("retry-after", "7"),
            ErrorKind::AccessExceeded { retry_after: Some(Duration::from_secs(7)) },
            Some(429),
        ),
        // Without errors[]: httpMessage alone.
        (
            ResponseTemplate::new(403).set_body_json(json!({"httpCode": 403, "httpMessage": "Forbidden", "moreInformation": "no"})),
            ErrorKind::Unauthorized,
            Some(403),
        ),
        // A textual httpCode does not fit the spec's integer: still classified, status from the body.
        (
            ResponseTemplate::new(401).set_body_json(json!({"httpCode": "401", "httpMessage": "Unauthorized", "moreInformation": "Invalid client id or secret."})),
            ErrorKind::Unauthorized,
            Some(401),
        ),
        // An OAuth body on an API call: classified by its code (no status in the body).
        (
            ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_token", "error_description": "expired"})),
            ErrorKind::Unauthorized,
            None,
        ),
        (ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"), ErrorKind::BankUnavailable, Some(502)),
    ];
    for (response, kind, status) in cases {
        let (err, request) = one_error(response).await;
        assert_eq!(err.kind, kind, "{err}");
        assert_eq!(err.status, status, "{err}");
        assert_eq!(err.bank, "handelsbanken");
        assert_eq!(err.operation, "accounts");
        assert_eq!(
            err.request_id(),
            header_of(&request, "tpp-request-id").as_deref(),
            "{err}"
        );
    }
}

// ---------------- secret hygiene ----------------

#[tokio::test]
async fn debug_and_display_never_show_secrets() {
    let server = decoupled_server(vec![complete()]).await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(hb_error(401, "Unauthorized", "CONSENT_INVALID"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "The refresh token is unknown."}),
        ))
        .mount(&server)
        .await;
    let hb = adapter(&server);
    let psu = bankid_psu();
    let challenge = hb
        .start_sca(&consent(), &ScaMethod::Decoupled, &psu)
        .await
        .unwrap();
    let session = hb
        .wait_for_decoupled(
            &consent(),
            &challenge_handle(&challenge),
            Duration::from_secs(5),
            &psu,
        )
        .await
        .unwrap();
    let redirect = hb
        .start_sca(&consent(), &redirect_method(), &psu)
        .await
        .unwrap();
    let err = hb.accounts(&session, &psu, false).await.unwrap_err();
    let mismatch = hb
        .complete_redirect(
            &consent(),
            &RedirectCallback {
                code: psd2::AuthorizationCode::new("secret-code"),
                state: "x".into(),
            },
            &psu,
        )
        .await
        .unwrap_err();
    let shown = [
        format!("{hb:?}"),
        format!("{:?}", hb.config()),
        format!("{session:?}"),
        format!("{challenge:?}"),
        format!("{redirect:?}"),
        format!("{err:?}"),
        format!("{err}"),
        format!("{mismatch:?}"),
        format!("{mismatch}"),
        format!("{psu:?}"),
    ]
    .join("\n");
    for secret in [
        "ccg",
        "psu-access-1",
        "psu-refresh-1",
        "auto-1",
        "order-1",
        CONSENT_ID,
        "199001011234",
        "secret-code",
    ] {
        // "ccg" is short: match the bearer form only.
        let needle = if secret == "ccg" {
            "Bearer ccg"
        } else {
            secret
        };
        assert!(!shown.contains(needle), "{needle} leaked:\n{shown}");
    }
    if let ScaChallenge::Redirect { state, .. } = &redirect {
        assert!(!shown.contains(state.as_str()));
    }
}

fn challenge_handle(c: &ScaChallenge) -> psd2::DecoupledHandle {
    match c {
        ScaChallenge::Decoupled { handle, .. } => handle.clone(),
        other => panic!("decoupled expected, got {other:?}"),
    }
}

#[test]
fn config_is_validated() {
    let base = Url::parse("https://api.handelsbanken.com").unwrap();
    let bad_country = HandelsbankenConfig::new(base.clone(), "id", "DE");
    assert_eq!(
        Handelsbanken::new(bad_country).unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    let no_client = HandelsbankenConfig::new(base.clone(), " ", "SE");
    assert_eq!(
        Handelsbanken::new(no_client).unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    let hb = Handelsbanken::new(HandelsbankenConfig::new(base, "id", "FI")).unwrap();
    let bank: &dyn Bank = &hb;
    assert_eq!(bank.name(), "handelsbanken");
    assert!(bank.as_consents().is_some());
    assert!(bank.as_account_information().is_some());
    assert!(bank.as_card_account_information().is_some());
    let _ = Arc::new(hb);
}
