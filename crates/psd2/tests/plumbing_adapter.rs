//! The shared adapter plumbing at Handelsbanken against a fake bank (wiremock): retries of
//! one failed page or poll, calls that are never retried, the attempt hook, token lifetimes
//! and session dates at the ends of the calendar, refresh-token rotation, account ids as
//! path segments, partial account lists, and resumable pages with per-entry results. The
//! Berlin Group banks' are in `plumbing_berlin_group_adapter.rs`.
//!
//! Expected values come from the answers mounted here (ids, counts, dates) and from the
//! documented policy (attempt counts, the 1 s SCA poll floor), never from the adapters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use psd2::adapters::common::TransportConfig;
use psd2::adapters::handelsbanken::{Handelsbanken, HandelsbankenConfig};
use psd2::retry::{AttemptHook, AttemptOutcome, CallInfo, with_attempt_hook};
use psd2::{
    AccountId, AccountInformation, BookingStatus, CardAccountInformation, ConsentId,
    ConsentRequest, Consents, DecoupledHandle, ErrorKind, PageCursor, Psu, RefreshToken, Session,
    TransactionQuery,
};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{body_string_contains, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod plumbing_support;
use plumbing_support::{failing, fast, key_of, requests_to};

/// One attempt as seen by a hook: operation, attempt number, account, outcome.
type Seen = (String, u32, Option<String>, String);

/// Records every attempt it sees.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Seen>>);

impl AttemptHook for Recorder {
    fn after_attempt(&self, call: &CallInfo<'_>, outcome: &AttemptOutcome) {
        let outcome = match outcome {
            AttemptOutcome::Succeeded { status } => format!("ok {status}"),
            AttemptOutcome::Failed {
                status, will_retry, ..
            } => format!("failed {} retry={will_retry}", status.unwrap_or(0)),
            other => format!("{other:?}"),
        };
        self.0.lock().unwrap().push((
            call.operation.to_owned(),
            call.attempt,
            call.account.map(|a| a.as_str().to_owned()),
            outcome,
        ));
    }
}

// ---------------------------------------------------------------- Handelsbanken

const HB_TOKEN: &str = "/mlurd/oauth2/token/1.0";
const HB_ACCOUNTS: &str = "/openbanking/psd2/v2/accounts";
const HB_TXS: &str = "/openbanking/psd2/v2/accounts/acc-1/transactions";
const HB_CONSENTS: &str = "/openbanking/psd2/v1/consents";
const HB_CONSENT: &str = "22aa3559-577d-441c-b9e6-664ac3311a3e";
const HB_POLL: &str = "/mlurd/decoupled/mbid/authorization/2.0/order-1";

fn hb_config(server: &MockServer) -> HandelsbankenConfig {
    HandelsbankenConfig::new(Url::parse(&server.uri()).unwrap(), "client-abc", "SE")
        .transport(TransportConfig::with_client(reqwest::Client::new()))
        .with_retry(fast())
}

fn hb(server: &MockServer) -> Handelsbanken {
    Handelsbanken::new(hb_config(server)).unwrap()
}

fn hb_session(expires_at: Option<DateTime<Utc>>) -> Session {
    Session::new(ConsentId::new(HB_CONSENT))
        .with_access_token(psd2::AccessToken::new("psu-access"), expires_at)
        .with_refresh_token(RefreshToken::new("refresh-1"))
}

fn hb_tx(id: &str) -> Value {
    json!({"transactionId": id, "status": "BOOKED", "creditDebit": "DEBIT",
           "amount": {"currency": "SEK", "amount": 10}, "ledgerDate": "2024-01-10"})
}

fn hb_page(items: Vec<Value>, next: Option<&str>) -> ResponseTemplate {
    let mut body = json!({ "transactions": items });
    if let Some(key) = next {
        body["_links"] = json!({"next": {"href": format!("https://api.handelsbanken.com{HB_TXS}?continuationKey={key}")}});
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn hb_token(access: &str, expires_in: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"access_token": access, "expires_in": expires_in, "token_type": "Bearer", "refresh_token": "refresh-2"}),
    )
}

/// Three pages: (none) → k1 → k2, one transaction each.
async fn hb_three_pages(server: &MockServer) {
    for (key, id, next) in [
        (None, "t1", Some("k1")),
        (Some("k1"), "t2", Some("k2")),
        (Some("k2"), "t3", None),
    ] {
        let m = Mock::given(method("GET")).and(path(HB_TXS));
        let m = match key {
            Some(k) => m.and(query_param("continuationKey", k)),
            None => m.and(query_param_is_missing("continuationKey")),
        };
        m.respond_with(hb_page(vec![hb_tx(id)], next))
            .mount(server)
            .await;
    }
}

fn both() -> TransactionQuery {
    TransactionQuery::new(None, None, BookingStatus::Both)
}

#[tokio::test]
async fn hb_a_failed_page_is_retried_alone_and_every_attempt_is_reported() {
    let server = MockServer::start().await;
    hb_three_pages(&server).await;
    failing(
        Mock::given(method("GET"))
            .and(path(HB_TXS))
            .and(query_param("continuationKey", "k1")),
        503,
        1,
    )
    .mount(&server)
    .await;
    let own = Arc::new(Recorder::default());
    let scoped = Arc::new(Recorder::default());
    let bank = Handelsbanken::new(hb_config(&server).with_attempt_hook(own.clone())).unwrap();
    let (s, psu, account, query) = (
        hb_session(None),
        Psu::absent(),
        AccountId::new("acc-1"),
        both(),
    );
    let ids: Vec<String> = with_attempt_hook(scoped.clone(), async {
        bank.transactions(&s, &psu, &account, &query)
            .map_ok(|t| t.transaction_id.unwrap().as_str().to_owned())
            .try_collect()
            .await
    })
    .await
    .unwrap();
    assert_eq!(ids, ["t1", "t2", "t3"]);
    let keys: Vec<Option<String>> = requests_to(&server, HB_TXS)
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
            Some("k2".into())
        ],
        "the failed page again, never page 1"
    );
    for recorder in [&own, &scoped] {
        let seen = recorder.0.lock().unwrap().clone();
        let tx = |attempt, outcome: &str| {
            (
                "transactions".to_owned(),
                attempt,
                Some("acc-1".to_owned()),
                outcome.to_owned(),
            )
        };
        assert_eq!(
            seen,
            [
                tx(1, "ok 200"),
                tx(1, "failed 503 retry=true"),
                tx(2, "ok 200"),
                tx(1, "ok 200")
            ]
        );
    }
}

#[tokio::test]
async fn hb_a_retry_after_beyond_the_cap_is_not_waited_for() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(HB_ACCOUNTS))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3600")
                .set_body_json(json!({
            "httpCode": 429, "httpMessage": "Too Many Requests", "moreInformation": "x",
            "errors": [{"code": "ACCESS_EXCEEDED", "message": "x"}]})),
        )
        .mount(&server)
        .await;
    let start = Instant::now();
    let err = hb(&server)
        .accounts(&hb_session(None), &Psu::absent(), false)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::AccessExceeded {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(requests_to(&server, HB_ACCOUNTS).await.len(), 1);
}

#[tokio::test]
async fn hb_consent_creation_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HB_TOKEN))
        .respond_with(hb_token("ccg", json!(3600)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(HB_CONSENTS))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let err = hb(&server)
        .create_consent(&ConsentRequest::all_accounts(), &Psu::absent())
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(503));
    assert_eq!(requests_to(&server, HB_CONSENTS).await.len(), 1);
}

#[tokio::test]
async fn hb_one_503_while_polling_does_not_abort_the_sca() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HB_TOKEN))
        .respond_with(hb_token("ccg", json!(3600)))
        .mount(&server)
        .await;
    failing(Mock::given(method("GET")).and(path(HB_POLL)), 503, 1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HB_POLL))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "orderRef": "order-1", "status": "COMPLETE", "sleepTime": 0,
            "access_token": "psu-access-1", "refresh_token": "psu-refresh-1", "expires_in": 3600,
            "token_type": "Bearer"})))
        .mount(&server)
        .await;
    let bank = hb(&server);
    let session = bank
        .wait_for_decoupled(
            &ConsentId::new(HB_CONSENT),
            &DecoupledHandle::new("order-1"),
            Duration::from_secs(10),
            &Psu::absent(),
        )
        .await
        .unwrap();
    assert_eq!(session.access_token.unwrap().expose(), "psu-access-1");
    assert_eq!(requests_to(&server, HB_POLL).await.len(), 2);
}

#[tokio::test]
async fn hb_an_unknown_order_status_ends_polling_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HB_TOKEN))
        .respond_with(hb_token("ccg", json!(3600)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HB_POLL))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"orderRef": "order-1", "status": "EXPIRED_SOMEHOW", "sleepTime": 20}),
        ))
        .mount(&server)
        .await;
    let err = hb(&server)
        .wait_for_decoupled(
            &ConsentId::new(HB_CONSENT),
            &DecoupledHandle::new("order-1"),
            Duration::from_secs(30),
            &Psu::absent(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ScaFailed);
    assert!(!psd2::sca::is_sca_timeout(&err));
    assert!(!err.to_string().contains("EXPIRED_SOMEHOW"), "{err}");
    assert_eq!(requests_to(&server, HB_POLL).await.len(), 1);
}

#[tokio::test]
async fn hb_an_i64_max_token_lifetime_does_not_panic() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HB_TOKEN))
        .respond_with(hb_token("ccg", json!(i64::MAX)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{HB_CONSENTS}/{HB_CONSENT}/status")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"consentStatus": "valid"})))
        .mount(&server)
        .await;
    let bank = hb(&server);
    for _ in 0..2 {
        bank.consent_status(&ConsentId::new(HB_CONSENT), &Psu::absent())
            .await
            .unwrap();
    }
    assert_eq!(
        requests_to(&server, HB_TOKEN).await.len(),
        1,
        "cached, clamped to a year"
    );
}

#[tokio::test]
async fn hb_session_dates_at_the_ends_of_the_calendar_do_not_panic() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HB_TOKEN))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(hb_token("psu-access-2", json!(i64::MAX)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HB_ACCOUNTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accounts": []})))
        .mount(&server)
        .await;
    let bank = hb(&server);
    let past: DateTime<Utc> = "-262143-01-01T00:00:00Z".parse().unwrap();
    let future: DateTime<Utc> = "+262142-12-31T23:59:59Z".parse().unwrap();
    let old = hb_session(Some(past));
    bank.accounts(&old, &Psu::absent(), false).await.unwrap();
    assert_eq!(
        requests_to(&server, HB_TOKEN).await.len(),
        1,
        "expired: refreshed"
    );
    let renewed = psd2::Bank::current_session(&bank, &old);
    assert_eq!(renewed.access_token.unwrap().expose(), "psu-access-2");
    bank.accounts(&hb_session(Some(future)), &Psu::absent(), false)
        .await
        .unwrap();
    assert_eq!(
        requests_to(&server, HB_TOKEN).await.len(),
        1,
        "not expired: no refresh"
    );
}

/// A refresh whose first answer is lost (slower than the client's timeout); the second
/// answer is `second`.
async fn hb_lost_refresh(server: &MockServer, second: ResponseTemplate) -> Handelsbanken {
    Mock::given(method("POST"))
        .and(path(HB_TOKEN))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(hb_token("psu-access-2", json!(600)).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(HB_TOKEN))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(second)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(HB_ACCOUNTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accounts": []})))
        .mount(server)
        .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let config = hb_config(server).transport(TransportConfig::with_client(client));
    Handelsbanken::new(config).unwrap()
}

fn expired() -> Option<DateTime<Utc>> {
    Some(Utc::now() - chrono::Duration::seconds(5))
}

#[tokio::test]
async fn hb_a_lost_refresh_answer_is_retried_once_within_the_grace_period() {
    let server = MockServer::start().await;
    let bank = hb_lost_refresh(&server, hb_token("psu-access-3", json!(600))).await;
    let s = hb_session(expired());
    bank.accounts(&s, &Psu::absent(), false).await.unwrap();
    assert_eq!(requests_to(&server, HB_TOKEN).await.len(), 2);
    let current = psd2::Bank::current_session(&bank, &s);
    assert_eq!(current.access_token.unwrap().expose(), "psu-access-3");
}

#[tokio::test]
async fn hb_a_refresh_refused_after_a_lost_answer_says_a_new_sca_is_needed() {
    let server = MockServer::start().await;
    let refused = ResponseTemplate::new(400)
        .set_body_json(json!({"error": "invalid_grant", "error_description": "Token rotated."}));
    let bank = hb_lost_refresh(&server, refused).await;
    let err = bank
        .accounts(&hb_session(expired()), &Psu::absent(), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.operation, "accounts");
    let text = err.to_string();
    assert!(
        text.contains("invalid_grant") && text.contains("a new SCA is needed"),
        "{text}"
    );
    assert!(!text.contains("rotated"), "bank text stays out: {text}");
    assert_eq!(
        requests_to(&server, HB_TOKEN).await.len(),
        2,
        "exactly one retry"
    );
    assert!(requests_to(&server, HB_ACCOUNTS).await.is_empty());
}

#[tokio::test]
async fn hb_account_ids_that_are_no_path_segment_are_refused_before_sending() {
    let server = MockServer::start().await;
    let bank = hb(&server);
    let s = hb_session(None);
    for bad in [
        String::from(".."),
        ".".into(),
        String::new(),
        "a/\u{7}".into(),
        "9".repeat(70_000),
    ] {
        let id = AccountId::new(bad);
        let err = bank.balances(&s, &Psu::absent(), &id).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.to_string().contains("account id"), "{err}");
        let listed: Vec<_> = bank
            .transactions(&s, &Psu::absent(), &id, &both())
            .collect()
            .await;
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].as_ref().unwrap_err().kind,
            ErrorKind::InvalidInput
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn hb_accounts_with_balances_return_what_arrived_and_name_what_is_missing() {
    let server = MockServer::start().await;
    let list: Vec<Value> = (1..=4)
        .map(|i| json!({"accountId": format!("acc-{i}"), "currency": "SEK", "name": "Konto"}))
        .collect();
    Mock::given(method("GET"))
        .and(path(HB_ACCOUNTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "accounts": list })))
        .mount(&server)
        .await;
    for i in 1..=2 {
        Mock::given(method("GET"))
            .and(path(format!("{HB_ACCOUNTS}/acc-{i}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "accountId": format!("acc-{i}"), "currency": "SEK", "balances": [
                {"balanceType": "AVAILABLE_AMOUNT", "amount": {"currency": "SEK", "amount": 5}}]})))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("{HB_ACCOUNTS}/acc-3")))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "httpCode": 429, "httpMessage": "Too Many Requests", "moreInformation": "x",
            "errors": [{"code": "ACCESS_EXCEEDED", "message": "x"}]})))
        .mount(&server)
        .await;
    let bank = hb(&server);
    let s = hb_session(None);
    let list = bank.account_list(&s, &Psu::absent(), true).await.unwrap();
    assert_eq!(list.accounts.len(), 4, "every listed account");
    assert_eq!(list.accounts[0].balances.len(), 1);
    assert_eq!(list.accounts[1].balances.len(), 1);
    let missing: Vec<(&str, bool)> = list
        .missing
        .iter()
        .map(|m| {
            let exceeded = matches!(m.error.kind, ErrorKind::AccessExceeded { .. });
            (m.account.as_str(), exceeded)
        })
        .collect();
    assert_eq!(missing, [("acc-3", true), ("acc-4", true)]);
    assert!(
        requests_to(&server, &format!("{HB_ACCOUNTS}/acc-4"))
            .await
            .is_empty(),
        "no call after the budget ran out"
    );
    // The all-or-nothing call still fails.
    let err = bank.accounts(&s, &Psu::absent(), true).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::AccessExceeded { .. }));
}

#[tokio::test]
async fn hb_pages_resume_from_a_stored_cursor_with_per_entry_results() {
    let server = MockServer::start().await;
    let bad = json!({"transactionId": "t-bad", "status": "BOOKED", "creditDebit": "DEBIT",
                     "amount": {"currency": "SEK", "amount": "ten"}, "ledgerDate": "2024-01-10"});
    Mock::given(method("GET"))
        .and(path(HB_TXS))
        .and(query_param_is_missing("continuationKey"))
        .respond_with(hb_page(vec![hb_tx("t1"), bad, hb_tx("t2")], Some("k1")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HB_TXS))
        .and(query_param("continuationKey", "k1"))
        .respond_with(hb_page(vec![hb_tx("t3")], None))
        .mount(&server)
        .await;
    let bank = hb(&server);
    let (s, psu, account, query) = (
        hb_session(None),
        Psu::absent(),
        AccountId::new("acc-1"),
        both(),
    );
    let mut pages = bank.transaction_pages(&s, &psu, &account, &query, None);
    let first = pages.next().await.unwrap().unwrap();
    drop(pages);
    assert_eq!(
        first.entries.len(),
        3,
        "the bad entry does not sink the page"
    );
    assert!(first.entries[0].is_ok() && first.entries[2].is_ok());
    let entry = first.entries[1].as_ref().unwrap_err();
    assert!(entry.field.starts_with("transactions[1]"), "{entry}");
    assert_eq!(entry.bank_id.as_ref().unwrap().as_str(), "t-bad");
    let cursor = first.next.clone().unwrap();
    // Stored and read back, then resumed: page 2 only.
    let stored = serde_json::to_string(&cursor).unwrap();
    let cursor: PageCursor = serde_json::from_str(&stored).unwrap();
    assert!(!format!("{cursor:?}").contains("k1"));
    let before = requests_to(&server, HB_TXS).await.len();
    let rest: Vec<_> = bank
        .transaction_pages(&s, &psu, &account, &query, Some(cursor))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].next.is_none());
    let after = requests_to(&server, HB_TXS).await;
    assert_eq!(after.len(), before + 1);
    assert_eq!(key_of(after.last().unwrap()).as_deref(), Some("k1"));
    // Another bank's cursor is refused before anything is sent.
    let foreign = PageCursor::for_bank("swedbank", "https://x.invalid/");
    let err: Vec<_> = bank
        .transaction_pages(&s, &psu, &account, &query, Some(foreign))
        .collect()
        .await;
    assert_eq!(err[0].as_ref().unwrap_err().kind, ErrorKind::Pagination);
    // All or nothing: the listing ends at the bad entry.
    let all: Vec<_> = bank
        .transactions(&s, &psu, &account, &query)
        .collect()
        .await;
    assert_eq!(all.len(), 2);
    assert!(all[0].is_ok());
    assert_eq!(
        all[1].as_ref().unwrap_err().kind,
        ErrorKind::UnexpectedResponse
    );
}

#[tokio::test]
async fn hb_a_created_consent_reports_the_validity_the_bank_granted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HB_TOKEN))
        .respond_with(hb_token("ccg", json!(3600)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(HB_CONSENTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "consentId": HB_CONSENT, "consentStatus": "RECEIVED", "scaMethods": []})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{HB_CONSENTS}/{HB_CONSENT}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "consentId": HB_CONSENT, "consentStatus": "RECEIVED", "validUntil": "2026-04-01"})))
        .mount(&server)
        .await;
    let asked = ConsentRequest::all_accounts()
        .valid_until(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
    let created = hb(&server)
        .create_consent(&asked, &Psu::absent())
        .await
        .unwrap();
    assert_eq!(
        created.consent.valid_until.unwrap().to_string(),
        "2026-04-01"
    );
}

#[tokio::test]
async fn hb_an_error_body_with_status_200_ends_the_listing_with_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(HB_TXS))
        .and(query_param_is_missing("continuationKey"))
        .respond_with(hb_page(vec![hb_tx("t1")], Some("k1")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HB_TXS))
        .and(query_param("continuationKey", "k1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "httpCode": 401, "httpMessage": "Unauthorized", "moreInformation": "x",
            "errors": [{"code": "CONSENT_EXPIRED", "message": "x"}]})))
        .mount(&server)
        .await;
    let bank = hb(&server);
    let (s, psu, account, query) = (
        hb_session(None),
        Psu::absent(),
        AccountId::new("acc-1"),
        both(),
    );
    let all: Vec<_> = bank
        .transactions(&s, &psu, &account, &query)
        .collect()
        .await;
    assert_eq!(all.len(), 2, "the first page's entry, then the error");
    assert_eq!(all[1].as_ref().unwrap_err().kind, ErrorKind::ConsentExpired);
    let pages: Vec<_> = bank
        .transaction_pages(&s, &psu, &account, &query, None)
        .collect()
        .await;
    assert_eq!(pages.len(), 2);
    assert!(pages[1].is_err(), "never an empty last page");
}

/// The account and card account lists go through the listing mapping: an error names the
/// entry (`accounts[1]...`, `cardAccounts[1]...`) and the value's shape, never the value.
#[tokio::test]
async fn hb_list_errors_name_the_entry_in_the_list() {
    let server = MockServer::start().await;
    let balance = |currency: &str| json!([{"balanceType": "AVAILABLE_AMOUNT", "amount": {"currency": currency, "amount": 5}}]);
    Mock::given(method("GET"))
        .and(path(HB_ACCOUNTS))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"accounts": [
            {"accountId": "acc-1", "currency": "SEK", "balances": balance("SEK")},
            {"accountId": "acc-2", "currency": "SEK", "balances": balance("Anna Andersson")}]})),
        )
        .mount(&server)
        .await;
    let card = |limit_currency: &str| {
        json!({"accountId": "card-1", "currency": "SEK", "cards": [], "balances": [],
               "creditLimit": {"currency": limit_currency, "amount": 100}})
    };
    Mock::given(method("GET"))
        .and(path("/openbanking/psd2/v1/card-accounts"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"cardAccounts": [card("SEK"), card("Anna Andersson")]})),
        )
        .mount(&server)
        .await;
    let bank = hb(&server);
    let s = hb_session(None);
    let err = bank.accounts(&s, &Psu::absent(), false).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("accounts[1].balances[0].amount.currency"),
        "{shown}"
    );
    assert!(!shown.contains("Anna"), "{shown}");
    let err = bank.card_accounts(&s, &Psu::absent()).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("cardAccounts[1].creditLimit.currency"),
        "{shown}"
    );
    assert!(!shown.contains("Anna"), "{shown}");
}

/// An empty page without a next link after a page that had one is the bank's last page:
/// the listing ends there, complete and without an error.
#[tokio::test]
async fn hb_an_empty_last_page_after_a_next_link_ends_the_listing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(HB_TXS))
        .and(query_param_is_missing("continuationKey"))
        .respond_with(hb_page(vec![hb_tx("t1"), hb_tx("t2")], Some("k1")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(HB_TXS))
        .and(query_param("continuationKey", "k1"))
        .respond_with(hb_page(vec![], None))
        .mount(&server)
        .await;
    let bank = hb(&server);
    let s = hb_session(None);
    let ids: Vec<String> = bank
        .transactions(&s, &Psu::absent(), &AccountId::new("acc-1"), &both())
        .map_ok(|t| t.transaction_id.unwrap().as_str().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["t1", "t2"]);
    assert_eq!(requests_to(&server, HB_TXS).await.len(), 2);
}
