//! Requests that `send()` refuses before anything goes out: unset required parameters in
//! field order, setter conversion failures, header values that cannot be HTTP header values,
//! and which of these errors wins.

use super::*;

// =======================================================================================
// Unset required parameters
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

refused_before_sending! {
    // With two required parameters unset, the one first in the struct's field order is
    // named, not the one whose setter would come first in the caller's code: `account_id`
    // (field 1) and `x_ibm_client_id` (field 10) unset, the others set in reverse order;
    // then `country` (field 6) before `tpp_transaction_id` (field 9).
    hb_two_unset_required_parameters_name_the_first_field_not_the_call_order: hb_client, |c| [
        c.get_account_transactions()
            .tpp_transaction_id(TRANSACTION_ID)
            .tpp_request_id(REQUEST_ID)
            .country("SE")
            .authorization("Bearer t")
            => "account_id was not initialized",
        c.get_account_transactions()
            .x_ibm_client_id("client-1")
            .tpp_request_id(REQUEST_ID)
            .authorization("Bearer t")
            .account_id("acc-1")
            => "country was not initialized",
    ];
    // A body-less operation with a path parameter: `hb::builder::PollDecoupledAuthorization`
    // starts with `order_ref`, the path parameter.
    hb_path_parameter_is_checked_first_when_it_is_the_first_field: hb_client, |c| [
        c.poll_decoupled_authorization().country("SE") => "order_ref was not initialized",
    ];
}

// =======================================================================================
// Setter conversion failures
// =======================================================================================

// No operation parameter of the three crates is a typify newtype with a pattern or length
// constraint (their string newtypes convert infallibly), so the fallible conversions are:
// generated enums from strings, `Uuid` from strings, and, for every other type, a value
// whose `TryFrom` fails (`Unconvertible`). The message names the Rust type as progenitor
// spells it, with its token spacing (`:: std :: string :: String`). Each call starts from a
// fully set operation builder of the bank.

/// `get_card_account_transactions` with its required path parameter set.
fn hb_card_transactions(c: &hb::Client) -> hb::builder::GetCardAccountTransactions<'_> {
    c.get_card_account_transactions().account_id("card-1")
}

refused_before_sending! {
    hb_setter_conversion_failures_have_exact_messages: hb_client, |c| [
        hb_transactions(&c).country("XX")
            => "conversion to `GetAccountTransactionsCountry` for country failed",
        hb_transactions(&c).country("se")
            => "conversion to `GetAccountTransactionsCountry` for country failed",
        hb_transactions(&c).tpp_request_id("not-a-uuid")
            => "conversion to `:: uuid :: Uuid` for tpp_request_id failed",
        hb_transactions(&c).tpp_transaction_id(String::from("1234"))
            => "conversion to `:: uuid :: Uuid` for tpp_transaction_id failed",
        hb_transactions(&c).account_id(Unconvertible)
            => "conversion to `:: std :: string :: String` for account_id failed",
        hb_transactions(&c).continuation_key(Unconvertible)
            => "conversion to `:: std :: string :: String` for continuation_key failed",
        hb_transactions(&c).date_from(Unconvertible)
            => "conversion to `:: chrono :: naive :: NaiveDate` for date_from failed",
        hb_transactions(&c).date_to(Unconvertible)
            => "conversion to `:: chrono :: naive :: NaiveDate` for date_to failed",
        hb_transactions(&c).psu_ip_address(Unconvertible)
            => "conversion to `:: std :: string :: String` for psu_ip_address failed",
        hb_transactions(&c).x_ibm_client_id(Unconvertible)
            => "conversion to `:: std :: string :: String` for x_ibm_client_id failed",
        hb_create_consent(&c).psu_corporate_id_type("PERSON")
            => "conversion to `CreateConsentPsuCorporateIdType` for psu_corporate_id_type failed",
        hb_card_transactions(&c).booking_status("all")
            => "conversion to `GetCardAccountTransactionsBookingStatus` for booking_status failed",
    ];
    op_setter_conversion_failures_have_exact_messages: op_client, |c| [
        op_transactions(&c).booking_status("sideways")
            => "conversion to `BookingStatus` for booking_status failed",
        op_transactions(&c).x_request_id("6ba7b810")
            => "conversion to `:: uuid :: Uuid` for x_request_id failed",
        op_transactions(&c).psu_ip_address(Unconvertible)
            => "conversion to `:: std :: net :: Ipv4Addr` for psu_ip_address failed",
        op_transactions(&c).tpp_redirect_preferred(Unconvertible)
            => "conversion to `bool` for tpp_redirect_preferred failed",
        op_transactions(&c).x_bic_fi(Unconvertible)
            => "conversion to `:: std :: string :: String` for x_bic_fi failed",
        op_transactions(&c).x_feature_flags(Unconvertible)
            => "conversion to `:: std :: string :: String` for x_feature_flags failed",
        op_accounts(&c).with_balance(Unconvertible)
            => "conversion to `bool` for with_balance failed",
    ];
    sw_setter_conversion_failures_have_exact_messages: sw_client, |c| [
        sw_transactions(&c).psu_context("PUBLIC")
            => "conversion to `PsuContext` for psu_context failed",
        sw_transactions(&c).booking_status("BOOKED")
            => "conversion to `BookingStatus` for booking_status failed",
        sw_transactions(&c).psu_http_method(Unconvertible)
            => "conversion to `HttpMethod` for psu_http_method failed",
        sw_transactions(&c).with_balance(Unconvertible)
            => "conversion to `bool` for with_balance failed",
        sw_transactions(&c).x_request_id("{6ba7b810-9dad}")
            => "conversion to `:: uuid :: Uuid` for x_request_id failed",
        sw_transactions(&c).x_future_breaking_changes(Unconvertible)
            => "conversion to `:: std :: string :: String` for x_future_breaking_changes failed",
    ];
}

// A conversion failure and unset fields: the earliest failing field in field order wins,
// whether it failed to convert or was never set.
refused_before_sending! {
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
// Header values that cannot be HTTP headers
// =======================================================================================

// Each header value that cannot be an HTTP header value, set on a fully set operation
// builder of the bank, is refused with `BAD_HEADER`.
refused_before_sending! {
    hb_header_values_that_are_not_http_header_values_are_refused_before_sending: hb_client, |c| [
        hb_accounts(&c).psu_ip_address("10.0.0.1\r\nX-Injected: yes") => BAD_HEADER,
        hb_accounts(&c).authorization("Bearer a\nb") => BAD_HEADER,
        hb_accounts(&c).x_ibm_client_id("client\0") => BAD_HEADER,
        hb_accounts(&c).x_ibm_client_id("client\u{7f}") => BAD_HEADER,
    ];
    op_header_values_that_are_not_http_header_values_are_refused_before_sending: op_client, |c| [
        op_accounts(&c).psu_user_agent("Mozilla/5.0\n") => BAD_HEADER,
        op_accounts(&c).x_bic_fi("ESSESESS\r\n") => BAD_HEADER,
        op_accounts(&c).consent_id("consent\n1") => BAD_HEADER,
        op_accounts(&c).x_feature_flags("new-balances\r") => BAD_HEADER,
    ];
    sw_header_values_that_are_not_http_header_values_are_refused_before_sending: sw_client, |c| [
        sw_accounts(&c).psu_user_agent("agent\nX-Injected: yes") => BAD_HEADER,
        sw_accounts(&c).psu_geo_location("GEO:1;2\u{7f}") => BAD_HEADER,
        sw_accounts(&c).tpp_redirect_uri("https://tpp.example/\r\n") => BAD_HEADER,
        sw_accounts(&c).consent_id("\0") => BAD_HEADER,
    ];
}

// Every field is checked before any header is built: an unset required field or a failed
// conversion wins over an invalid header value, even one in an earlier field, and so does
// an invalid body (the last field).
refused_before_sending! {
    hb_field_errors_win_over_invalid_header_values: hb_client, |c| [
        // psu_ip_address (field 7) is not a header value; x_ibm_client_id (field 10) is unset.
        c.get_account_transactions()
            .account_id("acc-1")
            .authorization("Bearer t")
            .country("SE")
            .psu_ip_address("10.0.0.1\n")
            .tpp_request_id(REQUEST_ID)
            .tpp_transaction_id(TRANSACTION_ID)
            => "x_ibm_client_id was not initialized",
        // authorization (field 5) is not a header value; tpp_request_id (field 8) fails.
        hb_transactions(&c).authorization("Bearer\n").tpp_request_id("x")
            => "conversion to `:: uuid :: Uuid` for tpp_request_id failed",
        // An invalid required header and a body missing a required member.
        hb_create_consent(&c)
            .authorization("Bearer\n")
            .body_map(|_| hb::types::ConsentRequest::builder())
            => "no value supplied for access",
    ];
    op_field_errors_win_over_invalid_header_values: op_client, |c| [
        // x_bic_fi (field 12) is not a header value; x_request_id (field 14) is unset.
        c.get_account_list()
            .consent_id("consent-1")
            .psu_user_agent("agent\n")
            .x_bic_fi("ESSESESS\n")
            => "x_request_id was not initialized",
        op_create_consent(&c)
            .x_bic_fi("ESSESESS\n")
            .body_map(|b| b.frequency_per_day(0u32))
            => "error converting supplied value for frequency_per_day: out of range integral type conversion attempted",
    ];
    sw_field_errors_win_over_invalid_header_values: sw_client, |c| [
        // psu_user_agent (field 17) is not a header value; x_request_id (last) is unset.
        c.get_account_list().consent_id("consent-1").psu_user_agent("agent\n")
            => "x_request_id was not initialized",
    ];
}
