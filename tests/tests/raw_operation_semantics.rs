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
//! - the headers, query, path and body that go out, token calls included, and the hooks;
//! - how every declared status, an undeclared status and a body that is not the declared
//!   JSON map to `Ok`/`Error` variants;
//! - typify struct builders of request bodies: their messages and field order.
//!
//! Each test talks to a wiremock server; every assertion compares exact values. Every
//! behaviour is written once, as a table macro whose body is the test, and each bank is a
//! row of that table: the row names the operation builder and holds what the bank's spec and
//! generated code say (field order, messages, path, headers, query, body, declared statuses,
//! error bodies). The tables live in the modules below, one per group of behaviours.
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
use serde_json::error::Category;
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::any;
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

fn hb_client_with(server: &MockServer, hooks: Hooks) -> hb::Client {
    hb::Client::new_with_client(&server.uri(), http(), hooks)
}

fn op_client_with(server: &MockServer, hooks: Hooks) -> op::Client {
    op::Client::new_with_client(&server.uri(), http(), hooks)
}

fn sw_client_with(server: &MockServer, hooks: Hooks) -> sw::Client {
    sw::Client::new_with_client(&server.uri(), http(), hooks)
}

fn hb_client(server: &MockServer) -> hb::Client {
    hb_client_with(server, Hooks::new())
}

fn op_client(server: &MockServer) -> op::Client {
    op_client_with(server, Hooks::new())
}

fn sw_client(server: &MockServer) -> sw::Client {
    sw_client_with(server, Hooks::new())
}

/// What a mock server answers with: a JSON value, or raw text with a content type.
#[derive(Debug, Clone)]
enum Reply {
    Json(Value),
    Raw(&'static str, &'static str),
}

impl Reply {
    /// The exact bytes of the body as the server sends them.
    fn bytes(&self) -> Vec<u8> {
        match self {
            Reply::Json(value) => serde_json::to_vec(value).unwrap(),
            Reply::Raw(text, _) => text.as_bytes().to_vec(),
        }
    }
}

/// A server that answers every request with `status`, the extra `headers` and `reply`.
async fn server_answering(status: u16, reply: &Reply, extra: &[(&str, &str)]) -> MockServer {
    let mut template = ResponseTemplate::new(status);
    for (name, value) in extra {
        template = template.insert_header(*name, *value);
    }
    template = match reply {
        Reply::Json(value) => template.set_body_json(value),
        Reply::Raw(text, content_type) => template.set_body_raw(text.as_bytes(), content_type),
    };
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// A server that answers every request with `status` and the JSON `body`.
async fn server_replying(status: u16, body: Value) -> MockServer {
    server_answering(status, &Reply::Json(body), &[]).await
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

// --- what a request must look like ------------------------------------------------------

/// The request a server must have received: method, percent-encoded path, the exact query
/// string (`None`: no query at all), decoded query parameters that must be present and
/// names that must be absent, the exact header set (`None`: not checked) and the body
/// (`None`: not checked; `Some("")`: empty).
#[derive(Debug, Default)]
struct Sent {
    method: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    params: &'static [(&'static str, &'static str)],
    absent: &'static [&'static str],
    headers: Option<&'static [(&'static str, &'static str)]>,
    body: Option<&'static str>,
}

/// Compares a received request with what the row of a table expects.
fn check_sent(request: &Request, sent: &Sent) {
    assert_eq!(request.method.as_str(), sent.method);
    assert_eq!(request.url.path(), sent.path);
    assert_eq!(request.url.query(), sent.query);
    let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    for (name, value) in sent.params {
        let found = pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        assert_eq!(found, Some(*value), "query parameter {name}");
    }
    for name in sent.absent {
        assert!(
            pairs.iter().all(|(n, _)| n != name),
            "query parameter {name} sent"
        );
    }
    if let Some(expected) = sent.headers {
        assert_eq!(sent_headers(request), headers(expected));
        // The bytes as sent, not a lossy reading of them (non-ASCII values go out as UTF-8).
        for (name, value) in expected {
            assert_eq!(
                request.headers[*name].as_bytes(),
                value.as_bytes(),
                "{name}"
            );
        }
    }
    if let Some(body) = sent.body {
        assert_eq!(String::from_utf8(request.body.clone()).unwrap(), body);
    }
}

// --- the table shared by several groups -------------------------------------------------

/// One test per row: every call of the row is refused by `send()` with exactly the message
/// given, and nothing reaches the server. A row is `test name: client, |c| [builder chain
/// => message, ...];`.
macro_rules! refused_before_sending {
    ($($test:ident: $client:ident, |$c:ident| [$($call:expr => $message:expr),+ $(,)?];)+) => {$(
        #[tokio::test]
        async fn $test() {
            let server = server_expecting_nothing().await;
            let $c = $client(&server);
            $(
                assert_eq!(
                    invalid_request($call.send().await),
                    $message,
                    "{}",
                    stringify!($call)
                );
            )+
            assert_nothing_sent(&server).await;
        }
    )+};
}

// The crate root's modules resolve next to it; these live in the folder of the same name.

/// How statuses and bodies of answers map to `Ok` and `Error` variants.
#[path = "raw_operation_semantics/answers.rs"]
mod answers;
/// typify's struct builders of request bodies.
#[path = "raw_operation_semantics/bodies.rs"]
mod bodies;
/// Unset and unconvertible parameters, header values that are not HTTP header values.
#[path = "raw_operation_semantics/refused.rs"]
mod refused;
/// What goes out: method, path, query, headers, bodies, token calls, hooks.
#[path = "raw_operation_semantics/requests.rs"]
mod requests;
