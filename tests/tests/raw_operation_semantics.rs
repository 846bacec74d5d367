//! Pins what the generated raw operation code (`generated/<bank>`, progenitor 0.15.1 +
//! typify 0.8, builder interface) does today, as a caller and a server see it, so that a
//! rewrite of that code for compile speed can be shown to change nothing:
//!
//! - which `send()` error wins when several parameters are unset or fail to convert (the
//!   first in the operation builder's *field* order, not in setter-call order), with the
//!   exact `Error::InvalidRequest` text, and that no request is sent then;
//! - the exact text of every kind of setter conversion failure, and that the last setter
//!   call wins;
//! - header values that cannot be HTTP headers, and which error wins against them;
//! - the headers, query, path and body that go out;
//! - how every declared status, an undeclared status and a body that is not the declared
//!   JSON map to `Ok`/`Error` variants;
//! - typify struct builders of request bodies: their messages and field order.
//!
//! Each test talks to a wiremock server; every assertion compares exact values. Where the
//! same check applies to every bank, it is written once as a macro and each bank is a row of
//! its table (`unset_required_in_field_order!`, `setter_conversion_messages!`,
//! `earliest_failing_field_wins!`, `refused_header_values!`, `declared_error_statuses!`):
//! the row holds what the bank's spec and generated builder say (field order, messages,
//! declared statuses, error bodies).
//!
//! CI runs this file twice: on the generated crates as committed (lean operation code) and
//! on the same crates regenerated with `cargo xtask generate --operation-code as-generated`
//! (progenitor's operation code untouched); both must pass.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::{self, Debug};
use std::net::Ipv4Addr;
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use psd2_hooks::{FnHook, HookError, Hooks};
// The three raw crates re-export the same `progenitor_client::{Error, ResponseValue}`.
use psd2_raw_handelsbanken::{self as hb, Error, ResponseValue};
use psd2_raw_openpayments as op;
use psd2_raw_swedbank as sw;
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::{any, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

// ---------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------

const REQUEST_ID: Uuid = Uuid::from_u128(0x6ba7_b810_9dad_11d1_80b4_00c0_4fd4_30c8);
const REQUEST_ID_TEXT: &str = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
const TRANSACTION_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0001);
const TRANSACTION_ID_TEXT: &str = "00000000-0000-4000-8000-000000000001";
/// What every header value that cannot be an HTTP header value turns into
/// (`From<InvalidHeaderValue> for progenitor_client::Error`).
const BAD_HEADER: &str = "failed to parse header value";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A value that no parameter type can be built from: the `TryFrom` impls below all fail.
/// It reaches the setter error paths of types that ordinary values always convert into
/// (`String`, `Uuid`, `bool`, `NaiveDate`, `Ipv4Addr`, ...).
#[derive(Debug, Clone, Copy)]
struct Unconvertible;

/// The error of converting [`Unconvertible`]; its `Display` shows up in typify's messages.
#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused by the test")
    }
}

macro_rules! unconvertible_into {
    ($($target:ty),* $(,)?) => {$(
        impl TryFrom<Unconvertible> for $target {
            type Error = Refused;
            fn try_from(_: Unconvertible) -> Result<Self, Refused> {
                Err(Refused)
            }
        }
    )*};
}

unconvertible_into!(
    String,
    Option<String>,
    Uuid,
    bool,
    NaiveDate,
    Ipv4Addr,
    sw::types::HttpMethod,
);

/// A reqwest client that does not follow redirects, so a 3xx reaches the generated code.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn hb_client(server: &MockServer) -> hb::Client {
    hb::Client::new_with_client(&server.uri(), http(), Hooks::new())
}

fn op_client(server: &MockServer) -> op::Client {
    op::Client::new_with_client(&server.uri(), http(), Hooks::new())
}

fn op_client_with(server: &MockServer, hooks: Hooks) -> op::Client {
    op::Client::new_with_client(&server.uri(), http(), hooks)
}

fn sw_client(server: &MockServer) -> sw::Client {
    sw::Client::new_with_client(&server.uri(), http(), Hooks::new())
}

/// A server that answers every request with `status` and the JSON `body`.
async fn server_replying(status: u16, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

/// A server that answers every request with `status` and `body` as `content_type`.
async fn server_replying_raw(status: u16, body: &str, content_type: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_raw(body.as_bytes(), content_type))
        .mount(&server)
        .await;
    server
}

/// A server for a test whose request must never leave the client (it would get a 200).
async fn server_expecting_nothing() -> MockServer {
    server_replying(200, json!({})).await
}

async fn received(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("wiremock records requests")
}

async fn assert_nothing_sent(server: &MockServer) {
    let requests = received(server).await;
    assert!(
        requests.is_empty(),
        "expected no request, got {}: {:?}",
        requests.len(),
        requests.iter().map(|r| r.url.as_str()).collect::<Vec<_>>()
    );
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = received(server).await;
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

/// The headers of a received request, lowercased names to values, without the ones the
/// transport adds (`host`, `content-length`, `accept-encoding`).
fn sent_headers(request: &Request) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in &request.headers {
        if matches!(name.as_str(), "host" | "content-length" | "accept-encoding") {
            continue;
        }
        let previous = out.insert(
            name.as_str().to_string(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
        assert!(previous.is_none(), "header {name} sent more than once");
    }
    out
}

fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// The message of an `Error::InvalidRequest`; panics on anything else.
fn invalid_request<T: Debug, E: Debug>(result: Result<ResponseValue<T>, Error<E>>) -> String {
    match result {
        Err(Error::InvalidRequest(message)) => message,
        other => panic!("expected Error::InvalidRequest, got {other:?}"),
    }
}

/// The typed body of an `Error::ErrorResponse`; panics on anything else.
fn error_response<T: Debug, E: Debug>(
    result: Result<ResponseValue<T>, Error<E>>,
) -> ResponseValue<E> {
    match result {
        Err(Error::ErrorResponse(value)) => value,
        other => panic!("expected Error::ErrorResponse, got {other:?}"),
    }
}

/// The response of an `Error::UnexpectedResponse`; panics on anything else.
fn unexpected_response<T: Debug, E: Debug>(
    result: Result<ResponseValue<T>, Error<E>>,
) -> reqwest::Response {
    match result {
        Err(Error::UnexpectedResponse(response)) => response,
        other => panic!("expected Error::UnexpectedResponse, got {other:?}"),
    }
}

/// The raw body and JSON error of an `Error::InvalidResponsePayload`, after checking that
/// this variant carries no status; panics on anything else.
fn invalid_payload<T: Debug, E: Debug>(
    result: Result<ResponseValue<T>, Error<E>>,
) -> (Vec<u8>, serde_json::error::Category) {
    let error = match result {
        Err(error) => error,
        Ok(value) => panic!("expected Error::InvalidResponsePayload, got Ok({value:?})"),
    };
    assert_eq!(error.status(), None, "InvalidResponsePayload has no status");
    match error {
        Error::InvalidResponsePayload(bytes, json_error) => (bytes.to_vec(), json_error.classify()),
        other => panic!("expected Error::InvalidResponsePayload, got {other:?}"),
    }
}

fn ok<T: Debug, E: Debug>(result: Result<ResponseValue<T>, Error<E>>) -> ResponseValue<T> {
    match result {
        Ok(value) => value,
        Err(error) => panic!("expected Ok, got {error:?}"),
    }
}

/// A hook that counts the requests it sees.
fn counting_hook() -> (Hooks, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    let hooks = Hooks::new().with(FnHook(move |_: &mut reqwest::Request| {
        seen.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }));
    (hooks, count)
}

// --- fully set operation builders ------------------------------------------------------

fn hb_accounts(c: &hb::Client) -> hb::builder::GetAccounts<'_> {
    c.get_accounts()
        .authorization("Bearer psu-token")
        .country("SE")
        .tpp_request_id(REQUEST_ID)
        .tpp_transaction_id(TRANSACTION_ID)
        .x_ibm_client_id("client-1")
}

fn hb_transactions(c: &hb::Client) -> hb::builder::GetAccountTransactions<'_> {
    c.get_account_transactions()
        .account_id("acc-1")
        .authorization("Bearer psu-token")
        .country("SE")
        .tpp_request_id(REQUEST_ID)
        .tpp_transaction_id(TRANSACTION_ID)
        .x_ibm_client_id("client-1")
}

fn hb_create_consent(c: &hb::Client) -> hb::builder::CreateConsent<'_> {
    c.create_consent()
        .authorization("Bearer ccg-token")
        .country("SE")
        .tpp_request_id(REQUEST_ID)
        .tpp_transaction_id(TRANSACTION_ID)
        .x_ibm_client_id("client-1")
        .body_map(|b| b.access(hb::types::ConsentAccess::AllAccounts))
}

fn hb_delete_consent(c: &hb::Client) -> hb::builder::DeleteConsent<'_> {
    c.delete_consent()
        .consent_id("consent-1")
        .authorization("Bearer ccg-token")
        .country("SE")
        .tpp_request_id(REQUEST_ID)
        .tpp_transaction_id(TRANSACTION_ID)
        .x_ibm_client_id("client-1")
}

fn op_accounts(c: &op::Client) -> op::builder::GetAccountList<'_> {
    c.get_account_list()
        .consent_id("consent-1")
        .x_bic_fi("ESSESESS")
        .x_request_id(REQUEST_ID)
}

fn op_transactions(c: &op::Client) -> op::builder::GetTransactionList<'_> {
    c.get_transaction_list()
        .account_id("acc-1")
        .booking_status(op::types::BookingStatus::Both)
        .consent_id("consent-1")
        .x_bic_fi("ESSESESS")
        .x_request_id(REQUEST_ID)
}

fn op_consent_body(b: op::types::builder::ConsentRequest) -> op::types::builder::ConsentRequest {
    b.access(op::types::ConsentAccess::default())
        .combined_service_indicator(false)
        .frequency_per_day(4u32)
        .recurring_indicator(true)
        .valid_until(date(2025, 12, 31))
}

fn op_create_consent(c: &op::Client) -> op::builder::CreateConsent<'_> {
    c.create_consent()
        .x_bic_fi("ESSESESS")
        .x_request_id(REQUEST_ID)
        .body_map(op_consent_body)
}

fn sw_accounts(c: &sw::Client) -> sw::builder::GetAccountList<'_> {
    c.get_account_list()
        .consent_id("consent-1")
        .x_request_id(REQUEST_ID)
}

fn sw_transactions(c: &sw::Client) -> sw::builder::GetTransactionList<'_> {
    c.get_transaction_list()
        .account_id("acc-1")
        .booking_status(sw::types::BookingStatus::Booked)
        .consent_id("consent-1")
        .x_request_id(REQUEST_ID)
}

fn sw_consent_body(b: sw::types::builder::ConsentRequest) -> sw::types::builder::ConsentRequest {
    b.access(sw::types::ConsentAccess {
        all_psd2: Some(sw::types::AllPsd2("allAccounts".to_string())),
        ..Default::default()
    })
    .combined_service_indicator(false)
    .frequency_per_day(4u64)
    .recurring_indicator(true)
    .valid_until(date(2025, 12, 31))
}

fn sw_create_consent(c: &sw::Client) -> sw::builder::CreateConsent<'_> {
    c.create_consent()
        .x_request_id(REQUEST_ID)
        .body_map(sw_consent_body)
}

// --- response bodies -------------------------------------------------------------------

fn hb_error_body(status: u16) -> Value {
    json!({
        "httpCode": status,
        "httpMessage": "Reason",
        "moreInformation": "More",
        "errors": [{"code": "E1", "message": "first"}],
    })
}

fn op_error_body() -> Value {
    json!({
        "tppMessages": [{"category": "ERROR", "code": "CONSENT_INVALID", "text": "no"}],
        "_links": {"scaRedirect": {"href": "/redo"}},
    })
}

fn sw_error_body(status: u16) -> Value {
    json!({"code": "FORMAT_ERROR", "id": "err-1", "message": "bad", "status": status, "system": "ERA-PSD2"})
}

// =======================================================================================
// 1. Unset required parameters
// =======================================================================================

/// One test per row: starting from an operation builder with its required parameters unset,
/// `send()` names the first unset one in the builder's *field* order; setting it, the next one
/// is named, and so on, with nothing sent; once all are set the request goes out and `$done`
/// checks the answer. A row is `test name: client, server reply, |c| start, [setter(value) =>
/// the message before it, ...], |server, answer| done;`.
macro_rules! unset_required_in_field_order {
    ($($test:ident: $client:ident, ($status:expr, $reply:expr), |$c:ident| $start:expr, [
        $($setter:ident ( $value:expr ) => $message:literal),+ $(,)?
    ], |$server:ident, $answer:ident| $done:block;)+) => {$(
        #[tokio::test]
        async fn $test() {
            let $server = server_replying($status, $reply).await;
            let $c = $client(&$server);
            let b = $start;
            $(
                assert_eq!(invalid_request(b.clone().send().await), $message);
                let b = b.$setter($value);
            )+
            assert_nothing_sent(&$server).await;
            let $answer = ok(b.send().await);
            $done
        }
    )+};
}

unset_required_in_field_order! {
    // Field order of `hb::builder::GetAccountTransactions`: account_id, continuation_key,
    // date_from, date_to, authorization, country, psu_ip_address, tpp_request_id,
    // tpp_transaction_id, x_ibm_client_id.
    hb_unset_required_parameters_are_reported_in_field_order:
        hb_client, (200, json!({"transactions": []})), |c| c.get_account_transactions(), [
            account_id("acc-1") => "account_id was not initialized",
            authorization("Bearer t") => "authorization was not initialized",
            country("SE") => "country was not initialized",
            tpp_request_id(REQUEST_ID) => "tpp_request_id was not initialized",
            tpp_transaction_id(TRANSACTION_ID) => "tpp_transaction_id was not initialized",
            x_ibm_client_id("client-1") => "x_ibm_client_id was not initialized",
        ],
        |server, page| {
            assert!(page.transactions.is_empty());
            assert_eq!(received(&server).await.len(), 1);
        };
    // Field order of `op::builder::GetTransactionList`: account_id, booking_status,
    // continuation_key, date_from, date_to, consent_id, psu_corporate_id, psu_id,
    // psu_ip_address, psu_user_agent, tpp_redirect_preferred, x_bic_fi, x_feature_flags,
    // x_request_id.
    op_unset_required_parameters_are_reported_in_field_order:
        op_client, (200, json!({})), |c| c.get_transaction_list(), [
            account_id("acc-1") => "account_id was not initialized",
            booking_status("booked") => "booking_status was not initialized",
            consent_id("consent-1") => "consent_id was not initialized",
            x_bic_fi("ESSESESS") => "x_bic_fi was not initialized",
            x_request_id(REQUEST_ID) => "x_request_id was not initialized",
        ],
        |server, _list| {
            assert_eq!(received(&server).await.len(), 1);
        };
    // Field order of `sw::builder::GetConsentAuthorisation`: consent_id, authorisation_id,
    // (19 optional headers), x_request_id; both path parameters come first.
    sw_unset_required_parameters_are_reported_in_field_order:
        sw_client, (200, json!({"scaStatus": "started"})),
        |c| c.get_consent_authorisation().psu_id("psu-1"), [
            consent_id("consent-1") => "consent_id was not initialized",
            authorisation_id("auth-1") => "authorisation_id was not initialized",
            x_request_id(REQUEST_ID) => "x_request_id was not initialized",
        ],
        |server, status| {
            assert_eq!(status.sca_status, "started");
            let request = only_request(&server).await;
            assert_eq!(request.url.path(), "/v1/consents/consent-1/authorisations/auth-1");
        };
}

/// With two required parameters unset, the one first in the struct's field order is named,
/// not the one whose setter would come first in the caller's code: here `account_id`
/// (field 1) and `x_ibm_client_id` (field 10) are unset and the others set in reverse order.
#[tokio::test]
async fn hb_two_unset_required_parameters_name_the_first_field_not_the_call_order() {
    let server = server_expecting_nothing().await;
    let c = hb_client(&server);
    let result = c
        .get_account_transactions()
        .tpp_transaction_id(TRANSACTION_ID)
        .tpp_request_id(REQUEST_ID)
        .country("SE")
        .authorization("Bearer t")
        .send()
        .await;
    assert_eq!(invalid_request(result), "account_id was not initialized");
    // `country` (field 6) before `tpp_transaction_id` (field 9).
    let result = c
        .get_account_transactions()
        .x_ibm_client_id("client-1")
        .tpp_request_id(REQUEST_ID)
        .authorization("Bearer t")
        .account_id("acc-1")
        .send()
        .await;
    assert_eq!(invalid_request(result), "country was not initialized");
    assert_nothing_sent(&server).await;
}

/// A body-less operation with a path parameter: `hb::builder::PollDecoupledAuthorization`
/// starts with `order_ref`, the path parameter.
#[tokio::test]
async fn hb_path_parameter_is_checked_first_when_it_is_the_first_field() {
    let server = server_expecting_nothing().await;
    let c = hb_client(&server);
    let result = c.poll_decoupled_authorization().country("SE").send().await;
    assert_eq!(invalid_request(result), "order_ref was not initialized");
    assert_nothing_sent(&server).await;
}

// =======================================================================================
// 2. Setter conversion failures
// =======================================================================================

// No operation parameter of the three crates is a typify newtype with a pattern or length
// constraint (their string newtypes convert infallibly), so the fallible conversions are:
// generated enums from strings, `Uuid` from strings, and, for every other type, a value
// whose `TryFrom` fails (`Unconvertible`). The message names the Rust type as progenitor
// spells it, with its token spacing (`:: std :: string :: String`).

/// One test per row: each setter call fails to convert its value, and `send()` reports it
/// with the exact message (the Rust type as progenitor spells it) before anything is sent.
/// A row is `test name: client, [builder.setter(value) => message, ...];`, where `builder`
/// is a function giving a fully set operation builder of that bank.
macro_rules! setter_conversion_messages {
    ($($test:ident: $client:ident, [
        $($builder:ident . $setter:ident ( $value:expr ) => $message:literal),+ $(,)?
    ];)+) => {$(
        #[tokio::test]
        async fn $test() {
            let server = server_expecting_nothing().await;
            let c = $client(&server);
            $(
                assert_eq!(
                    invalid_request($builder(&c).$setter($value).send().await),
                    $message
                );
            )+
            assert_nothing_sent(&server).await;
        }
    )+};
}

/// `get_card_account_transactions` with its required path parameter set.
fn hb_card_transactions(c: &hb::Client) -> hb::builder::GetCardAccountTransactions<'_> {
    c.get_card_account_transactions().account_id("card-1")
}

setter_conversion_messages! {
    hb_setter_conversion_failures_have_exact_messages: hb_client, [
        hb_transactions.country("XX")
            => "conversion to `GetAccountTransactionsCountry` for country failed",
        hb_transactions.country("se")
            => "conversion to `GetAccountTransactionsCountry` for country failed",
        hb_transactions.tpp_request_id("not-a-uuid")
            => "conversion to `:: uuid :: Uuid` for tpp_request_id failed",
        hb_transactions.tpp_transaction_id(String::from("1234"))
            => "conversion to `:: uuid :: Uuid` for tpp_transaction_id failed",
        hb_transactions.account_id(Unconvertible)
            => "conversion to `:: std :: string :: String` for account_id failed",
        hb_transactions.continuation_key(Unconvertible)
            => "conversion to `:: std :: string :: String` for continuation_key failed",
        hb_transactions.date_from(Unconvertible)
            => "conversion to `:: chrono :: naive :: NaiveDate` for date_from failed",
        hb_transactions.date_to(Unconvertible)
            => "conversion to `:: chrono :: naive :: NaiveDate` for date_to failed",
        hb_transactions.psu_ip_address(Unconvertible)
            => "conversion to `:: std :: string :: String` for psu_ip_address failed",
        hb_transactions.x_ibm_client_id(Unconvertible)
            => "conversion to `:: std :: string :: String` for x_ibm_client_id failed",
        hb_create_consent.psu_corporate_id_type("PERSON")
            => "conversion to `CreateConsentPsuCorporateIdType` for psu_corporate_id_type failed",
        hb_card_transactions.booking_status("all")
            => "conversion to `GetCardAccountTransactionsBookingStatus` for booking_status failed",
    ];
    op_setter_conversion_failures_have_exact_messages: op_client, [
        op_transactions.booking_status("sideways")
            => "conversion to `BookingStatus` for booking_status failed",
        op_transactions.x_request_id("6ba7b810")
            => "conversion to `:: uuid :: Uuid` for x_request_id failed",
        op_transactions.psu_ip_address(Unconvertible)
            => "conversion to `:: std :: net :: Ipv4Addr` for psu_ip_address failed",
        op_transactions.tpp_redirect_preferred(Unconvertible)
            => "conversion to `bool` for tpp_redirect_preferred failed",
        op_transactions.x_bic_fi(Unconvertible)
            => "conversion to `:: std :: string :: String` for x_bic_fi failed",
        op_transactions.x_feature_flags(Unconvertible)
            => "conversion to `:: std :: string :: String` for x_feature_flags failed",
        op_accounts.with_balance(Unconvertible)
            => "conversion to `bool` for with_balance failed",
    ];
    sw_setter_conversion_failures_have_exact_messages: sw_client, [
        sw_transactions.psu_context("PUBLIC")
            => "conversion to `PsuContext` for psu_context failed",
        sw_transactions.booking_status("BOOKED")
            => "conversion to `BookingStatus` for booking_status failed",
        sw_transactions.psu_http_method(Unconvertible)
            => "conversion to `HttpMethod` for psu_http_method failed",
        sw_transactions.with_balance(Unconvertible)
            => "conversion to `bool` for with_balance failed",
        sw_transactions.x_request_id("{6ba7b810-9dad}")
            => "conversion to `:: uuid :: Uuid` for x_request_id failed",
        sw_transactions.x_future_breaking_changes(Unconvertible)
            => "conversion to `:: std :: string :: String` for x_future_breaking_changes failed",
    ];
}

/// A conversion failure and unset fields: the earliest failing field in field order wins,
/// whether it failed to convert or was never set. One test per row: `test name: client,
/// |c| [builder chain => message, ...];`; nothing is sent.
macro_rules! earliest_failing_field_wins {
    ($($test:ident: $client:ident, |$c:ident| [$($call:expr => $message:literal),+ $(,)?];)+) => {$(
        #[tokio::test]
        async fn $test() {
            let server = server_expecting_nothing().await;
            let $c = $client(&server);
            $(
                assert_eq!(invalid_request($call.send().await), $message);
            )+
            assert_nothing_sent(&server).await;
        }
    )+};
}

earliest_failing_field_wins! {
    hb_earliest_failing_field_wins_between_conversion_and_unset: hb_client, |c| [
        // country (field 6) fails to convert, authorization (field 5) is unset.
        c.get_account_transactions()
            .account_id("acc-1")
            .country("XX")
            .tpp_request_id(REQUEST_ID)
            .tpp_transaction_id(TRANSACTION_ID)
            .x_ibm_client_id("client-1")
            => "authorization was not initialized",
        // country (field 6) fails to convert, x_ibm_client_id (field 10) is unset.
        c.get_account_transactions()
            .account_id("acc-1")
            .authorization("Bearer t")
            .country("XX")
            .tpp_request_id(REQUEST_ID)
            .tpp_transaction_id(TRANSACTION_ID)
            => "conversion to `GetAccountTransactionsCountry` for country failed",
        // Two conversion failures: date_to (field 4) before tpp_request_id (field 8).
        hb_transactions(&c).tpp_request_id("nope").date_to(Unconvertible)
            => "conversion to `:: chrono :: naive :: NaiveDate` for date_to failed",
        // Every field failing: the first one, account_id.
        c.get_account_transactions()
            .x_ibm_client_id(Unconvertible)
            .tpp_transaction_id("x")
            .tpp_request_id("x")
            .psu_ip_address(Unconvertible)
            .country("XX")
            .authorization(Unconvertible)
            .date_to(Unconvertible)
            .date_from(Unconvertible)
            .continuation_key(Unconvertible)
            .account_id(Unconvertible)
            => "conversion to `:: std :: string :: String` for account_id failed",
    ];
    op_earliest_failing_field_wins_between_conversion_and_unset: op_client, |c| [
        // booking_status (field 2) fails, account_id (field 1) unset.
        c.get_transaction_list()
            .booking_status("sideways")
            .consent_id("consent-1")
            .x_bic_fi("ESSESESS")
            .x_request_id(REQUEST_ID)
            => "account_id was not initialized",
        // booking_status (field 2) fails, consent_id (field 6) and x_bic_fi (field 12) unset.
        c.get_transaction_list()
            .account_id("acc-1")
            .booking_status("sideways")
            .x_request_id(REQUEST_ID)
            => "conversion to `BookingStatus` for booking_status failed",
        // psu_ip_address (field 9) fails, x_bic_fi (field 12) unset.
        c.get_transaction_list()
            .account_id("acc-1")
            .booking_status("booked")
            .consent_id("consent-1")
            .psu_ip_address(Unconvertible)
            .x_request_id(REQUEST_ID)
            => "conversion to `:: std :: net :: Ipv4Addr` for psu_ip_address failed",
    ];
    sw_earliest_failing_field_wins_between_conversion_and_unset: sw_client, |c| [
        // psu_context (field 12) fails, consent_id (field 7) unset.
        c.get_transaction_list()
            .account_id("acc-1")
            .booking_status("booked")
            .psu_context("PUBLIC")
            .x_request_id(REQUEST_ID)
            => "consent_id was not initialized",
        // psu_context (field 12) fails, x_request_id (last field) unset.
        c.get_transaction_list()
            .account_id("acc-1")
            .booking_status("booked")
            .consent_id("consent-1")
            .psu_context("PUBLIC")
            => "conversion to `PsuContext` for psu_context failed",
        // with_balance (field 5) before psu_context (field 12).
        sw_transactions(&c).psu_context("PUBLIC").with_balance(Unconvertible)
            => "conversion to `bool` for with_balance failed",
    ];
}

/// A setter called twice keeps only the last value: a failed conversion is forgotten when
/// a good value follows, and a good value is lost when a failing one follows.
#[tokio::test]
async fn the_last_setter_call_wins() {
    let server = server_replying(200, json!({"accounts": []})).await;
    let c = hb_client(&server);
    let result = hb_accounts(&c).country("SE").country("XX").send().await;
    assert_eq!(
        invalid_request(result),
        "conversion to `GetAccountsCountry` for country failed"
    );
    assert_nothing_sent(&server).await;
    ok(hb_accounts(&c)
        .country("XX")
        .country("FI")
        .tpp_request_id("bad")
        .tpp_request_id(REQUEST_ID)
        .send()
        .await);
    let request = only_request(&server).await;
    assert_eq!(sent_headers(&request)["country"], "FI");
    assert_eq!(sent_headers(&request)["tpp-request-id"], REQUEST_ID_TEXT);
}

// =======================================================================================
// 3. Header values that cannot be HTTP headers
// =======================================================================================

/// One test per row: each header value that cannot be an HTTP header value, set on a
/// fully set operation builder of that bank, is refused with [`BAD_HEADER`] and nothing is
/// sent. A row is `test name: client, fully set builder, [setter(value), ...];`.
macro_rules! refused_header_values {
    ($($test:ident: $client:ident, $builder:ident, [$($setter:ident($value:expr)),+ $(,)?];)+) => {$(
        #[tokio::test]
        async fn $test() {
            let server = server_expecting_nothing().await;
            let c = $client(&server);
            $(
                assert_eq!(
                    invalid_request($builder(&c).$setter($value).send().await),
                    BAD_HEADER,
                    "{}({:?})",
                    stringify!($setter),
                    $value
                );
            )+
            assert_nothing_sent(&server).await;
        }
    )+};
}

refused_header_values! {
    hb_header_values_that_are_not_http_header_values_are_refused_before_sending:
        hb_client, hb_accounts, [
            psu_ip_address("10.0.0.1\r\nX-Injected: yes"),
            authorization("Bearer a\nb"),
            x_ibm_client_id("client\0"),
            x_ibm_client_id("client\u{7f}"),
        ];
    op_header_values_that_are_not_http_header_values_are_refused_before_sending:
        op_client, op_accounts, [
            psu_user_agent("Mozilla/5.0\n"),
            x_bic_fi("ESSESESS\r\n"),
            consent_id("consent\n1"),
            x_feature_flags("new-balances\r"),
        ];
    sw_header_values_that_are_not_http_header_values_are_refused_before_sending:
        sw_client, sw_accounts, [
            psu_user_agent("agent\nX-Injected: yes"),
            psu_geo_location("GEO:1;2\u{7f}"),
            tpp_redirect_uri("https://tpp.example/\r\n"),
            consent_id("\0"),
        ];
}

/// Every field is checked before any header is built: an unset required field or a failed
/// conversion wins over an invalid header value, even one in an earlier field, and so does
/// an invalid body (the last field).
#[tokio::test]
async fn field_errors_win_over_invalid_header_values() {
    let server = server_expecting_nothing().await;
    // psu_ip_address (field 7) is not a header value; x_ibm_client_id (field 10) is unset.
    let c = hb_client(&server);
    let result = c
        .get_account_transactions()
        .account_id("acc-1")
        .authorization("Bearer t")
        .country("SE")
        .psu_ip_address("10.0.0.1\n")
        .tpp_request_id(REQUEST_ID)
        .tpp_transaction_id(TRANSACTION_ID)
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "x_ibm_client_id was not initialized"
    );
    // authorization (field 5) is not a header value; tpp_request_id (field 8) fails.
    let result = hb_transactions(&c)
        .authorization("Bearer\n")
        .tpp_request_id("x")
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "conversion to `:: uuid :: Uuid` for tpp_request_id failed"
    );
    // An invalid required header and a body missing a required member.
    let result = hb_create_consent(&c)
        .authorization("Bearer\n")
        .body_map(|_| hb::types::ConsentRequest::builder())
        .send()
        .await;
    assert_eq!(invalid_request(result), "no value supplied for access");

    let c = op_client(&server);
    // x_bic_fi (field 12) is not a header value; x_request_id (field 14) is unset.
    let result = c
        .get_account_list()
        .consent_id("consent-1")
        .psu_user_agent("agent\n")
        .x_bic_fi("ESSESESS\n")
        .send()
        .await;
    assert_eq!(invalid_request(result), "x_request_id was not initialized");
    let result = op_create_consent(&c)
        .x_bic_fi("ESSESESS\n")
        .body_map(|b| b.frequency_per_day(0u32))
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "error converting supplied value for frequency_per_day: out of range integral type conversion attempted"
    );

    let c = sw_client(&server);
    // psu_user_agent (field 17) is not a header value; x_request_id (last) is unset.
    let result = c
        .get_account_list()
        .consent_id("consent-1")
        .psu_user_agent("agent\n")
        .send()
        .await;
    assert_eq!(invalid_request(result), "x_request_id was not initialized");
    assert_nothing_sent(&server).await;
}

// =======================================================================================
// 4. What goes out: headers, query, path, body
// =======================================================================================

#[tokio::test]
async fn hb_headers_sent_are_exactly_the_set_ones() {
    let server = server_replying(200, json!({"accounts": []})).await;
    let c = hb_client(&server);
    ok(hb_accounts(&c).send().await);
    // A Uuid given as an uppercase string goes out in Display form: lowercase, hyphenated.
    ok(hb_accounts(&c)
        .tpp_request_id("6BA7B810-9DAD-11D1-80B4-00C04FD430C8")
        .tpp_transaction_id("urn:uuid:00000000-0000-4000-8000-000000000001")
        .psu_ip_address("192.0.2.7")
        .send()
        .await);
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    let mut expected = headers(&[
        ("accept", "application/json"),
        ("api-version", "1.0.0"),
        ("authorization", "Bearer psu-token"),
        ("country", "SE"),
        ("tpp-request-id", REQUEST_ID_TEXT),
        ("tpp-transaction-id", TRANSACTION_ID_TEXT),
        ("x-ibm-client-id", "client-1"),
    ]);
    assert_eq!(sent_headers(&requests[0]), expected);
    expected.insert("psu-ip-address".into(), "192.0.2.7".into());
    assert_eq!(sent_headers(&requests[1]), expected);
    for request in &requests {
        assert_eq!(request.method.as_str(), "GET");
        assert_eq!(request.url.path(), "/openbanking/psd2/v2/accounts");
        assert_eq!(request.url.query(), None);
        assert!(request.body.is_empty());
    }
}

#[tokio::test]
async fn hb_create_consent_sends_its_optional_headers_and_json_body() {
    let server = server_replying(
        200,
        json!({"consentId": "c-1", "consentStatus": "RECEIVED"}),
    )
    .await;
    let c = hb_client(&server);
    ok(hb_create_consent(&c)
        .psu_corporate_id("5560000000")
        .psu_corporate_id_type("BANK")
        .send()
        .await);
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/openbanking/psd2/v1/consents");
    assert_eq!(
        sent_headers(&request),
        headers(&[
            ("accept", "application/json"),
            ("api-version", "1.0.0"),
            ("authorization", "Bearer ccg-token"),
            ("content-type", "application/json"),
            ("country", "SE"),
            ("psu-corporate-id", "5560000000"),
            ("psu-corporate-id-type", "BANK"),
            ("tpp-request-id", REQUEST_ID_TEXT),
            ("tpp-transaction-id", TRANSACTION_ID_TEXT),
            ("x-ibm-client-id", "client-1"),
        ])
    );
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        r#"{"access":"ALL_ACCOUNTS"}"#
    );
}

/// The token call sends its body form-encoded, in the body struct's field order, without
/// the unset optional members; it has no header parameters.
#[tokio::test]
async fn token_calls_send_form_encoded_bodies() {
    let token = json!({"access_token": "at", "expires_in": 3600, "token_type": "Bearer"});
    let server = server_replying(200, token.clone()).await;
    let c = hb_client(&server);
    let answer = ok(c
        .get_token()
        .body_map(|b| {
            b.grant_type("client_credentials")
                .scope(Some("AIS".to_string()))
                .client_id(Some("raw client".to_string()))
        })
        .send()
        .await);
    assert_eq!(answer.access_token, "at");
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/mlurd/oauth2/token/1.0");
    assert_eq!(
        sent_headers(&request),
        headers(&[
            ("accept", "application/json"),
            ("api-version", "1.0.0"),
            ("content-type", "application/x-www-form-urlencoded"),
        ])
    );
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        "client_id=raw+client&grant_type=client_credentials&scope=AIS"
    );

    let server = server_replying(200, token).await;
    let c = op_client(&server);
    ok(c.get_token()
        .body_map(|b| {
            b.scope("accountinformation corporate")
                .grant_type(op::types::TokenRequestGrantType::ClientCredentials)
                .client_secret("s3cr&t=")
                .client_id("tpp")
        })
        .send()
        .await);
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/connect/token");
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        "client_id=tpp&client_secret=s3cr%26t%3D&grant_type=client_credentials&scope=accountinformation+corporate"
    );
}

/// Query parameters: set ones go out in the parameter order of the operation, serialized
/// through serde (dates `YYYY-MM-DD`, form encoding); unset optional ones are absent. Path
/// parameters are percent-encoded.
#[tokio::test]
async fn hb_query_and_path_parameters_as_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/openbanking/psd2/v2/accounts/acc%2F1%20%3F%23%25/transactions",
        ))
        .and(query_param("continuationKey", "k 1&x=y/é"))
        .and(query_param("dateFrom", "2024-01-01"))
        .and(query_param_is_missing("dateTo"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"transactions": []})))
        .expect(1)
        .mount(&server)
        .await;
    let c = hb_client(&server);
    ok(hb_transactions(&c)
        .account_id("acc/1 ?#%")
        .date_from(date(2024, 1, 1))
        .continuation_key("k 1&x=y/é")
        .send()
        .await);
    let request = only_request(&server).await;
    assert_eq!(
        request.url.query(),
        Some("continuationKey=k+1%26x%3Dy%2F%C3%A9&dateFrom=2024-01-01")
    );
}

#[tokio::test]
async fn op_query_parameters_and_x_bicfi_routing_header_as_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/psd2/accountinformation/v1/accounts/acc-1/transactions",
        ))
        .and(query_param("bookingStatus", "both"))
        .and(query_param("dateTo", "2024-02-29"))
        .and(query_param_is_missing("continuationKey"))
        .and(query_param_is_missing("dateFrom"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let c = op_client(&server);
    ok(op_transactions(&c).date_to(date(2024, 2, 29)).send().await);
    let request = only_request(&server).await;
    assert_eq!(
        request.url.query(),
        Some("bookingStatus=both&dateTo=2024-02-29")
    );
    assert_eq!(
        sent_headers(&request),
        headers(&[
            ("accept", "application/json"),
            ("api-version", "1.0.0"),
            ("consent-id", "consent-1"),
            ("x-bicfi", "ESSESESS"),
            ("x-request-id", REQUEST_ID_TEXT),
        ])
    );
}

#[tokio::test]
async fn op_every_optional_header_and_query_parameter_when_set() {
    let server = server_replying(200, json!({"accounts": []})).await;
    let c = op_client(&server);
    ok(op_accounts(&c)
        .with_balance(true)
        .psu_corporate_id("5560000000")
        .psu_id("19900101-0000")
        .psu_ip_address(Ipv4Addr::new(192, 0, 2, 7))
        .psu_user_agent("")
        .tpp_redirect_preferred(false)
        .x_feature_flags("new-balances")
        .send()
        .await);
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/psd2/accountinformation/v1/accounts");
    assert_eq!(request.url.query(), Some("withBalance=true"));
    // An empty string is a set value: the header goes out, empty.
    assert_eq!(
        sent_headers(&request),
        headers(&[
            ("accept", "application/json"),
            ("api-version", "1.0.0"),
            ("consent-id", "consent-1"),
            ("psu-corporate-id", "5560000000"),
            ("psu-id", "19900101-0000"),
            ("psu-ip-address", "192.0.2.7"),
            ("psu-user-agent", ""),
            ("tpp-redirect-preferred", "false"),
            ("x-bicfi", "ESSESESS"),
            ("x-feature-flags", "new-balances"),
            ("x-request-id", REQUEST_ID_TEXT),
        ])
    );
}

#[tokio::test]
async fn op_create_consent_sends_json_body_in_struct_field_order() {
    let server = server_replying(
        201,
        json!({"consentId": "c-1", "consentStatus": "received"}),
    )
    .await;
    let c = op_client(&server);
    ok(op_create_consent(&c)
        .tpp_redirect_preferred(true)
        .send()
        .await);
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/psd2/consent/v1/consents");
    assert_eq!(
        sent_headers(&request),
        headers(&[
            ("accept", "application/json"),
            ("api-version", "1.0.0"),
            ("content-type", "application/json"),
            ("tpp-redirect-preferred", "true"),
            ("x-bicfi", "ESSESESS"),
            ("x-request-id", REQUEST_ID_TEXT),
        ])
    );
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        r#"{"access":{},"combinedServiceIndicator":false,"frequencyPerDay":4,"recurringIndicator":true,"validUntil":"2025-12-31"}"#
    );
}

#[tokio::test]
async fn sw_no_optional_header_goes_out_unless_set() {
    let server = server_replying(200, json!({"accounts": []})).await;
    let c = sw_client(&server);
    ok(sw_accounts(&c).send().await);
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/v1/accounts");
    assert_eq!(request.url.query(), None);
    assert_eq!(
        sent_headers(&request),
        headers(&[
            ("accept", "application/json"),
            ("api-version", "1.0.0"),
            ("consent-id", "consent-1"),
            ("x-request-id", REQUEST_ID_TEXT),
        ])
    );
}

#[tokio::test]
async fn sw_every_optional_header_when_set() {
    let server = server_replying(200, json!({"accounts": []})).await;
    let c = sw_client(&server);
    ok(sw_accounts(&c)
        .with_balance(false)
        .accept_language("sv")
        .psu_accept("application/json")
        .psu_accept_charset("utf-8")
        .psu_accept_encoding("gzip")
        .psu_accept_language("sv-SE")
        .psu_context(sw::types::PsuContext::Corporate)
        .psu_corporate_id("5560000000")
        .psu_device_id("device-1")
        .psu_geo_location("GEO:59.33;18.06")
        .psu_http_method("GET".to_string())
        .psu_id("psu-1")
        .psu_ip_address("192.0.2.7")
        .psu_ip_port("443")
        .psu_user_agent("Mozilla/5.0 (Zoë)")
        .tpp_redirect_preferred(true)
        .tpp_redirect_uri("https://tpp.example/cb?a=1")
        .tpp_session_id("session-1")
        .x_future_breaking_changes("true")
        .send()
        .await);
    let request = only_request(&server).await;
    assert_eq!(request.url.query(), Some("withBalance=false"));
    // Non-ASCII text is a valid header value: its UTF-8 bytes go out unchanged.
    assert_eq!(
        request.headers["psu-user-agent"].as_bytes(),
        "Mozilla/5.0 (Zoë)".as_bytes()
    );
    assert_eq!(
        sent_headers(&request),
        headers(&[
            ("accept", "application/json"),
            ("accept-language", "sv"),
            ("api-version", "1.0.0"),
            ("consent-id", "consent-1"),
            ("psu-accept", "application/json"),
            ("psu-accept-charset", "utf-8"),
            ("psu-accept-encoding", "gzip"),
            ("psu-accept-language", "sv-SE"),
            ("psu-context", "CORPORATE"),
            ("psu-corporate-id", "5560000000"),
            ("psu-device-id", "device-1"),
            ("psu-geo-location", "GEO:59.33;18.06"),
            ("psu-http-method", "GET"),
            ("psu-id", "psu-1"),
            ("psu-ip-address", "192.0.2.7"),
            ("psu-ip-port", "443"),
            ("psu-user-agent", "Mozilla/5.0 (Zoë)"),
            ("tpp-redirect-preferred", "true"),
            ("tpp-redirect-uri", "https://tpp.example/cb?a=1"),
            ("tpp-session-id", "session-1"),
            ("x-future-breaking-changes", "true"),
            ("x-request-id", REQUEST_ID_TEXT),
        ])
    );
}

#[tokio::test]
async fn sw_query_parameters_and_bodies_as_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts/acc-1/transactions"))
        .and(query_param("bookingStatus", "booked"))
        .and(query_param("dateFrom", "2024-01-01"))
        .and(query_param("withBalance", "true"))
        .and(query_param_is_missing("dateTo"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"transactions": {"booked": [], "pending": []}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = sw_client(&server);
    ok(sw_transactions(&c)
        .with_balance(true)
        .date_from(date(2024, 1, 1))
        .send()
        .await);
    let request = only_request(&server).await;
    assert_eq!(
        request.url.query(),
        Some("bookingStatus=booked&dateFrom=2024-01-01&withBalance=true")
    );

    // The consent body, and an unset body whose members are all optional: `{}`.
    let server = server_replying(
        201,
        json!({"consentId": "c-1", "consentStatus": "received", "_links": {"self": {"href": "/v1/consents/c-1"}, "status": {"href": "/v1/consents/c-1/status"}}}),
    )
    .await;
    let c = sw_client(&server);
    ok(sw_create_consent(&c).send().await);
    let server2 = server_replying(
        201,
        json!({"authorisationId": "a-1", "scaStatus": "received", "_links": {"scaStatus": {"href": "/s"}}}),
    )
    .await;
    let c2 = sw_client(&server2);
    ok(c2
        .start_consent_authorisation()
        .consent_id("c-1")
        .x_request_id(REQUEST_ID)
        .send()
        .await);
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/v1/consents");
    assert_eq!(
        String::from_utf8(request.body).unwrap(),
        r#"{"access":{"allPsd2":"allAccounts"},"combinedServiceIndicator":false,"frequencyPerDay":4,"recurringIndicator":true,"validUntil":"2025-12-31"}"#
    );
    let request = only_request(&server2).await;
    assert_eq!(request.url.path(), "/v1/consents/c-1/authorisations");
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(String::from_utf8(request.body).unwrap(), "{}");
}

/// The request hooks run once per sent request and never for a request refused by the
/// builder; a hook error becomes `Error::Custom` and nothing is sent.
#[tokio::test]
async fn hooks_run_only_for_requests_that_are_built() {
    let server = server_replying(200, json!({"accounts": []})).await;
    let (hooks, count) = counting_hook();
    let c = op_client_with(&server, hooks);
    let result = c.get_account_list().consent_id("consent-1").send().await;
    assert_eq!(invalid_request(result), "x_bic_fi was not initialized");
    let result = op_accounts(&c).psu_id("psu\n").send().await;
    assert_eq!(invalid_request(result), BAD_HEADER);
    assert_eq!(count.load(Ordering::SeqCst), 0);
    assert_nothing_sent(&server).await;
    ok(op_accounts(&c).send().await);
    assert_eq!(count.load(Ordering::SeqCst), 1);

    let server = server_expecting_nothing().await;
    let refusing = Hooks::new().with(FnHook(|_: &mut reqwest::Request| {
        Err(HookError::new("deny", "refused"))
    }));
    let c = op_client_with(&server, refusing);
    match op_accounts(&c).send().await {
        Err(Error::Custom(message)) => {
            assert_eq!(message, "request hook `deny` failed: refused");
        }
        other => panic!("expected Error::Custom, got {other:?}"),
    }
    assert_nothing_sent(&server).await;
}

// =======================================================================================
// 5. Responses
// =======================================================================================

#[tokio::test]
async fn hb_success_body_is_parsed_with_status_and_headers() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-trace", "t-1")
                .set_body_json(json!({
                    "accounts": [{
                        "accountId": "acc-1",
                        "currency": "SEK",
                        "iban": "SE4550000000058398257466",
                        "balances": [{"amount": {"amount": 2000, "currency": "SEK"}, "balanceType": "AVAILABLE_AMOUNT"}],
                    }],
                })),
        )
        .mount(&server)
        .await;
    let c = hb_client(&server);
    let answer = ok(hb_accounts(&c).send().await);
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.headers()["x-trace"], "t-1");
    let list = answer.into_inner();
    assert_eq!(list.accounts.len(), 1);
    let account = &list.accounts[0];
    assert_eq!(account.account_id, "acc-1");
    assert_eq!(account.currency, "SEK");
    assert_eq!(account.iban.as_deref(), Some("SE4550000000058398257466"));
    assert_eq!(account.balances[0].amount.amount.to_string(), "2000");
    assert_eq!(
        account.balances[0].balance_type.as_str(),
        "AVAILABLE_AMOUNT"
    );
}

/// One test per row: every error status the bank's spec declares for the operation gives
/// `ErrorResponse` with that status, the response headers intact (`Retry-After`) and the
/// parsed error body. A row is `test name: client, fully set builder, [statuses], the error
/// body for a status, |error, status| the body's fields;`.
macro_rules! declared_error_statuses {
    ($($test:ident: $client:ident, $builder:ident, [$($status:literal),+ $(,)?], $body:expr,
        |$error:ident, $st:ident| $check:block;)+) => {$(
        #[tokio::test]
        async fn $test() {
            for $st in [$($status),+] {
                let server = MockServer::start().await;
                Mock::given(any())
                    .respond_with(
                        ResponseTemplate::new($st)
                            .insert_header("retry-after", "7")
                            .set_body_json(($body)($st)),
                    )
                    .mount(&server)
                    .await;
                let $error = error_response($builder(&$client(&server)).send().await);
                assert_eq!($error.status().as_u16(), $st);
                assert_eq!($error.headers()["retry-after"], "7");
                $check
            }
        }
    )+};
}

declared_error_statuses! {
    // handelsbanken's account operations (the generated `match`: 400, 401, 403, 404, 429, 500).
    hb_every_declared_error_status_is_an_error_response:
        hb_client, hb_accounts, [400u16, 401, 403, 404, 429, 500], hb_error_body,
        |error, status| {
            assert_eq!(error.http_code, i32::from(status));
            assert_eq!(error.http_message, "Reason");
            assert_eq!(error.more_information.as_deref(), Some("More"));
            assert_eq!(error.errors.len(), 1);
            assert_eq!(error.errors[0].code.as_deref(), Some("E1"));
        };
    // Open Payments' operations: 400, 401, 403, 404, 405, 406, 409, 429, 500, 503.
    op_every_declared_error_status_is_an_error_response:
        op_client, op_accounts, [400u16, 401, 403, 404, 405, 406, 409, 429, 500, 503],
        |_| op_error_body(),
        |error, _status| {
            assert_eq!(error.tpp_messages.len(), 1);
            assert_eq!(error.tpp_messages[0].category, "ERROR");
            assert_eq!(error.tpp_messages[0].code, "CONSENT_INVALID");
            assert_eq!(error.tpp_messages[0].text.as_deref(), Some("no"));
            assert_eq!(error.links["scaRedirect"].href, "/redo");
        };
    // Swedbank's operations: 400, 401, 403, 404, 429, 500.
    sw_every_declared_error_status_is_an_error_response:
        sw_client, sw_transactions, [400u16, 401, 403, 404, 429, 500], sw_error_body,
        |error, status| {
            assert_eq!(error.code.as_deref(), Some("FORMAT_ERROR"));
            assert_eq!(error.id.as_deref(), Some("err-1"));
            assert_eq!(error.message.as_deref(), Some("bad"));
            assert_eq!(error.status, Some(i64::from(status)));
            assert_eq!(error.system.as_deref(), Some("ERA-PSD2"));
        };
}

/// Swedbank's error body has no required member: `{}` is an `ErrorResponse` too.
#[tokio::test]
async fn sw_error_body_without_members_is_an_error_response() {
    let server = server_replying(401, json!({})).await;
    let error = error_response(sw_accounts(&sw_client(&server)).send().await);
    assert_eq!(error.status().as_u16(), 401);
    assert_eq!(error.code, None);
}

/// The token operation declares 400 and 401 only, with the OAuth error body.
#[tokio::test]
async fn hb_token_errors_use_the_oauth_body_and_only_400_and_401() {
    for status in [400u16, 401] {
        let server = server_replying(
            status,
            json!({"error": "invalid_grant", "error_description": "expired"}),
        )
        .await;
        let result = hb_client(&server)
            .get_token()
            .body_map(|b| b.grant_type("refresh_token"))
            .send()
            .await;
        let error = error_response(result);
        assert_eq!(error.status().as_u16(), status);
        assert_eq!(error.error, "invalid_grant");
        assert_eq!(error.error_description.as_deref(), Some("expired"));
    }
    for status in [403u16, 500] {
        let server = server_replying(status, json!({"error": "server_error"})).await;
        let result = hb_client(&server)
            .get_token()
            .body_map(|b| b.grant_type("client_credentials"))
            .send()
            .await;
        assert_eq!(unexpected_response(result).status().as_u16(), status);
    }
}

/// Undeclared statuses, 2xx included, are `UnexpectedResponse` with the response intact.
#[tokio::test]
async fn undeclared_statuses_are_unexpected_responses() {
    for status in [201u16, 202, 204, 302, 418, 502, 503] {
        let server = server_replying_raw(status, "teapot", "text/plain").await;
        let response = unexpected_response(hb_accounts(&hb_client(&server)).send().await);
        assert_eq!(response.status().as_u16(), status);
        if status != 204 {
            assert_eq!(response.text().await.unwrap(), "teapot");
        }
    }
    for status in [200u16, 204, 402, 418, 502, 504] {
        let server = server_replying_raw(status, "teapot", "text/plain").await;
        let error = op_create_consent(&op_client(&server))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(
            unexpected_response::<(), _>(Err(error)).status().as_u16(),
            status
        );
    }
    for status in [200u16, 402, 418, 502, 503] {
        let server = server_replying(status, json!({"consentId": "c"})).await;
        let result = sw_create_consent(&sw_client(&server)).send().await;
        assert_eq!(unexpected_response(result).status().as_u16(), status);
    }
}

/// Operations answering 204 ignore any body; a 200 there is unexpected.
#[tokio::test]
async fn delete_operations_answer_empty_on_204_only() {
    let server = server_replying_raw(204, "", "text/plain").await;
    let answer = ok(hb_delete_consent(&hb_client(&server)).send().await);
    assert_eq!(answer.status().as_u16(), 204);
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "DELETE");
    assert_eq!(
        request.url.path(),
        "/openbanking/psd2/v1/consents/consent-1"
    );

    let server = server_replying(204, json!({"ignored": true})).await;
    let answer = ok(sw_client(&server)
        .delete_consent()
        .consent_id("c-1")
        .x_request_id(REQUEST_ID)
        .send()
        .await);
    assert_eq!(answer.status().as_u16(), 204);

    let server = server_replying(200, json!({})).await;
    let result = op_client(&server)
        .delete_consent()
        .consent_id("c-1")
        .x_bic_fi("ESSESESS")
        .x_request_id(REQUEST_ID)
        .send()
        .await;
    assert_eq!(unexpected_response(result).status().as_u16(), 200);
    // A declared error status on a delete still parses the error body.
    let server = server_replying(404, op_error_body()).await;
    let result = op_client(&server)
        .delete_consent()
        .consent_id("c-1")
        .x_bic_fi("ESSESESS")
        .x_request_id(REQUEST_ID)
        .send()
        .await;
    assert_eq!(
        error_response(result).tpp_messages[0].code,
        "CONSENT_INVALID"
    );
}

/// A declared status whose body is not the declared JSON is `InvalidResponsePayload` with
/// the raw body, whether the status is a success or an error one; the status is lost.
#[tokio::test]
async fn declared_statuses_with_bodies_that_do_not_parse_are_invalid_payloads() {
    use serde_json::error::Category;
    // Declared error status, non-JSON body.
    for status in [400u16, 500] {
        let server = server_replying_raw(status, "<html>oops</html>", "text/html").await;
        let (bytes, category) = invalid_payload(hb_accounts(&hb_client(&server)).send().await);
        assert_eq!(bytes, b"<html>oops</html>");
        assert_eq!(category, Category::Syntax);
    }
    let server = server_replying_raw(503, "Service Unavailable", "text/plain").await;
    let (bytes, category) = invalid_payload(op_accounts(&op_client(&server)).send().await);
    assert_eq!(bytes, b"Service Unavailable");
    assert_eq!(category, Category::Syntax);
    // Declared error status, empty body.
    let server = server_replying_raw(429, "", "text/plain").await;
    let (bytes, category) = invalid_payload(sw_accounts(&sw_client(&server)).send().await);
    assert!(bytes.is_empty());
    assert_eq!(category, Category::Eof);
    // Declared error status, JSON missing a required member of the error type.
    let server = server_replying(401, json!({"moreInformation": "x"})).await;
    let (bytes, category) = invalid_payload(hb_accounts(&hb_client(&server)).send().await);
    assert_eq!(bytes, br#"{"moreInformation":"x"}"#);
    assert_eq!(category, Category::Data);
    // Declared success status, non-JSON and wrong-shape bodies.
    let server = server_replying_raw(200, "accounts: []", "text/plain").await;
    let (bytes, category) = invalid_payload(hb_accounts(&hb_client(&server)).send().await);
    assert_eq!(bytes, b"accounts: []");
    assert_eq!(category, Category::Syntax);
    let server = server_replying_raw(201, "", "application/json").await;
    let (bytes, category) = invalid_payload(op_create_consent(&op_client(&server)).send().await);
    assert!(bytes.is_empty());
    assert_eq!(category, Category::Eof);
    let server = server_replying(200, json!({"accounts": [{"currency": "SEK"}]})).await;
    let (_, category) = invalid_payload(sw_accounts(&sw_client(&server)).send().await);
    assert_eq!(category, Category::Data);
}

#[tokio::test]
async fn op_and_sw_created_answers_are_parsed() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("location", "/psd2/consent/v1/consents/c-1")
                .insert_header("aspsp-sca-approach", "REDIRECT")
                .set_body_json(json!({
                    "consentId": "c-1",
                    "consentStatus": "received",
                    "_links": {"scaRedirect": {"href": "https://bank.example/sca"}},
                })),
        )
        .mount(&server)
        .await;
    let answer = ok(op_create_consent(&op_client(&server)).send().await);
    assert_eq!(answer.status().as_u16(), 201);
    assert_eq!(
        answer.headers()["location"],
        "/psd2/consent/v1/consents/c-1"
    );
    assert_eq!(answer.headers()["aspsp-sca-approach"], "REDIRECT");
    assert_eq!(answer.consent_id, "c-1");
    assert_eq!(answer.consent_status.as_str(), "received");
    let links = answer.into_inner().links.unwrap();
    assert_eq!(links.sca_redirect.unwrap().href, "https://bank.example/sca");

    let server = server_replying(
        201,
        json!({"consentId": "c-2", "consentStatus": "received", "_links": {"self": {"href": "/v1/consents/c-2"}, "status": {"href": "/v1/consents/c-2/status"}}}),
    )
    .await;
    let answer = ok(sw_create_consent(&sw_client(&server)).send().await);
    assert_eq!(answer.status().as_u16(), 201);
    assert_eq!(answer.consent_id, "c-2");
    assert_eq!(answer.links.self_.href, "/v1/consents/c-2");
}

// =======================================================================================
// 6. typify struct builders of request bodies
// =======================================================================================

#[tokio::test]
async fn hb_body_builder_messages_directly_and_through_send() {
    use hb::types::{ConsentAccess, ConsentRequest, DecoupledAuthorizationRequest};
    let missing = ConsentRequest::try_from(ConsentRequest::builder()).unwrap_err();
    assert_eq!(missing.to_string(), "no value supplied for access");
    let bad = ConsentRequest::try_from(ConsentRequest::builder().access("NOPE")).unwrap_err();
    assert_eq!(
        bad.to_string(),
        "error converting supplied value for access: invalid value"
    );
    let fixed = ConsentRequest::try_from(
        ConsentRequest::builder()
            .access("NOPE")
            .access("ALL_ACCOUNTS"),
    )
    .unwrap();
    assert_eq!(fixed.access, ConsentAccess::AllAccounts);
    let lost = ConsentRequest::try_from(
        ConsentRequest::builder()
            .access(ConsentAccess::AllAccounts)
            .access("all"),
    )
    .unwrap_err();
    assert_eq!(
        lost.to_string(),
        "error converting supplied value for access: invalid value"
    );
    // A failing `TryInto` of a String and an Option<String> member shows the cause's Display.
    let bad = DecoupledAuthorizationRequest::try_from(
        DecoupledAuthorizationRequest::builder().consent_id(Unconvertible),
    )
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "error converting supplied value for consent_id: refused by the test"
    );
    let bad = DecoupledAuthorizationRequest::try_from(
        DecoupledAuthorizationRequest::builder()
            .consent_id("c-1")
            .personal_id(Unconvertible),
    )
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "error converting supplied value for personal_id: refused by the test"
    );
    let missing =
        hb::types::GetTokenBody::try_from(hb::types::GetTokenBody::builder()).unwrap_err();
    assert_eq!(missing.to_string(), "no value supplied for grant_type");

    let server = server_expecting_nothing().await;
    let c = hb_client(&server);
    // No body at all: the default builder's first missing member.
    let result = hb_create_consent(&c)
        .body_map(|_| ConsentRequest::builder())
        .send()
        .await;
    assert_eq!(invalid_request(result), "no value supplied for access");
    let result = c
        .create_consent()
        .authorization("Bearer t")
        .country("SE")
        .tpp_request_id(REQUEST_ID)
        .tpp_transaction_id(TRANSACTION_ID)
        .x_ibm_client_id("client-1")
        .send()
        .await;
    assert_eq!(invalid_request(result), "no value supplied for access");
    // body_map: the builder's message as it is.
    let result = hb_create_consent(&c)
        .body_map(|b| b.access("NOPE"))
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "error converting supplied value for access: invalid value"
    );
    // body(builder): wrapped by the operation builder's body setter.
    let result = hb_create_consent(&c)
        .body(ConsentRequest::builder().access("NOPE"))
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "conversion to `ConsentRequest` for body failed: error converting supplied value for access: invalid value"
    );
    let result = c
        .init_decoupled_authorization()
        .authorization("Bearer t")
        .country("SE")
        .tpp_request_id(REQUEST_ID)
        .tpp_transaction_id(TRANSACTION_ID)
        .x_ibm_client_id("client-1")
        .body_map(|b| b.personal_id(Some("19900101-0000".to_string())))
        .send()
        .await;
    assert_eq!(invalid_request(result), "no value supplied for consent_id");
    // The body is the last field: an unset parameter wins over a bad body.
    let result = c
        .create_consent()
        .authorization("Bearer t")
        .country("SE")
        .tpp_request_id(REQUEST_ID)
        .tpp_transaction_id(TRANSACTION_ID)
        .body_map(|b| b.access("NOPE"))
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "x_ibm_client_id was not initialized"
    );
    assert_nothing_sent(&server).await;
}

/// typify reports the first failing member in the body struct's field order (alphabetical
/// by JSON name here: access, combinedServiceIndicator, frequencyPerDay,
/// recurringIndicator, validUntil), not in setter-call order.
#[tokio::test]
async fn op_body_builder_reports_members_in_field_order() {
    use op::types::{ConsentAccess, ConsentRequest};
    let try_build = |b: op::types::builder::ConsentRequest| {
        ConsentRequest::try_from(b).map_err(|e| e.to_string())
    };
    let b = ConsentRequest::builder().valid_until(date(2025, 1, 1));
    assert_eq!(
        try_build(b.clone()).unwrap_err(),
        "no value supplied for access"
    );
    let b = b.access(ConsentAccess::default());
    assert_eq!(
        try_build(b.clone()).unwrap_err(),
        "no value supplied for combined_service_indicator"
    );
    let b = b.recurring_indicator(false).frequency_per_day(0u32);
    assert_eq!(
        try_build(b.clone()).unwrap_err(),
        "no value supplied for combined_service_indicator"
    );
    let b = b.combined_service_indicator(true);
    assert_eq!(
        try_build(b.clone()).unwrap_err(),
        "error converting supplied value for frequency_per_day: out of range integral type conversion attempted"
    );
    let built = try_build(b.frequency_per_day(NonZeroU32::new(2).unwrap())).unwrap();
    assert_eq!(built.frequency_per_day.get(), 2);
    assert_eq!(built.valid_until, date(2025, 1, 1));

    let bad = op::types::StartAuthorisationRequest::try_from(
        op::types::StartAuthorisationRequest::builder().authentication_method_id(Unconvertible),
    )
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "error converting supplied value for authentication_method_id: refused by the test"
    );
    let missing = op::types::TokenRequest::try_from(
        op::types::TokenRequest::builder()
            .scope("s")
            .grant_type("client_credentials"),
    )
    .unwrap_err();
    assert_eq!(missing.to_string(), "no value supplied for client_id");
    let bad = op::types::TokenRequest::try_from(
        op::types::TokenRequest::builder()
            .client_id("c")
            .client_secret("s")
            .grant_type("password"),
    )
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "error converting supplied value for grant_type: invalid value"
    );

    let server = server_expecting_nothing().await;
    let c = op_client(&server);
    let result = op_create_consent(&c)
        .body_map(|b| b.frequency_per_day(0u32))
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "error converting supplied value for frequency_per_day: out of range integral type conversion attempted"
    );
    let result = op_create_consent(&c)
        .body(ConsentRequest::builder().access(ConsentAccess::default()))
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "conversion to `ConsentRequest` for body failed: no value supplied for combined_service_indicator"
    );
    let result = c
        .start_consent_authorisation()
        .consent_id("c-1")
        .x_bic_fi("ESSESESS")
        .x_request_id(REQUEST_ID)
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "no value supplied for authentication_method_id"
    );
    let result = c.get_token().body_map(|b| b.client_id("tpp")).send().await;
    assert_eq!(
        invalid_request(result),
        "no value supplied for client_secret"
    );
    assert_nothing_sent(&server).await;
}

#[tokio::test]
async fn sw_body_builder_messages_directly_and_through_send() {
    use sw::types::ConsentRequest;
    let bad = ConsentRequest::try_from(
        sw_consent_body(ConsentRequest::builder()).frequency_per_day(0u64),
    )
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "error converting supplied value for frequency_per_day: out of range integral type conversion attempted"
    );
    let built = ConsentRequest::try_from(
        sw_consent_body(ConsentRequest::builder()).frequency_per_day(NonZeroU64::new(1).unwrap()),
    )
    .unwrap();
    assert_eq!(built.frequency_per_day.get(), 1);
    let bad = sw::types::StartAuthorisationRequest::try_from(
        sw::types::StartAuthorisationRequest::builder().authentication_method_id(Unconvertible),
    )
    .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "error converting supplied value for authentication_method_id: refused by the test"
    );

    let server = server_expecting_nothing().await;
    let c = sw_client(&server);
    let result = c.create_consent().x_request_id(REQUEST_ID).send().await;
    assert_eq!(invalid_request(result), "no value supplied for access");
    let result = sw_create_consent(&c)
        .body_map(|b| b.recurring_indicator(Unconvertible))
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "error converting supplied value for recurring_indicator: refused by the test"
    );
    let result = sw_create_consent(&c)
        .body(ConsentRequest::builder().valid_until(Unconvertible))
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "conversion to `ConsentRequest` for body failed: no value supplied for access"
    );
    // x_request_id comes before the body.
    let result = c
        .create_consent()
        .psu_context("PUBLIC")
        .body_map(|b| b.frequency_per_day(0u64))
        .send()
        .await;
    assert_eq!(
        invalid_request(result),
        "conversion to `PsuContext` for psu_context failed"
    );
    let result = c
        .create_consent()
        .body_map(|b| b.frequency_per_day(0u64))
        .send()
        .await;
    assert_eq!(invalid_request(result), "x_request_id was not initialized");
    assert_nothing_sent(&server).await;
}
