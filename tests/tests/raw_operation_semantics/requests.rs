//! What goes out: the method, path, query, headers and body of each request as the server
//! receives it (token calls included), and when the request hooks run.

use super::*;

/// One test per row: the server answers `status` with `reply`, the call is answered `Ok`,
/// `$check` looks at that answer, and the one request the server received is exactly the
/// row's [`Sent`]. A row is `test name: client, (status, reply), |c| call, |answer| check,
/// Sent { .. };`.
macro_rules! request_as_sent {
    ($($test:ident: $client:ident, ($status:expr, $reply:expr), |$c:ident| $call:expr,
        |$answer:ident| $check:block, $sent:expr;)+) => {$(
        #[tokio::test]
        async fn $test() {
            let server = server_answering($status, &$reply, &[]).await;
            let $c = $client(&server);
            let $answer = ok($call.send().await);
            $check
            check_sent(&only_request(&server).await, &$sent);
        }
    )+};
}

const HB_ACCOUNTS_HEADERS: &[(&str, &str)] = &[
    ("accept", "application/json"),
    ("api-version", "1.0.0"),
    ("authorization", "Bearer psu-token"),
    ("country", "SE"),
    ("tpp-request-id", REQUEST_ID_TEXT),
    ("tpp-transaction-id", TRANSACTION_ID_TEXT),
    ("x-ibm-client-id", "client-1"),
];

request_as_sent! {
    // The set headers, and no others; no query, no body.
    hb_headers_sent_are_exactly_the_set_ones:
        hb_client, (200, Reply::Json(json!({"accounts": []}))), |c| hb_accounts(&c),
        |_answer| {},
        Sent {
            method: "GET",
            path: "/openbanking/psd2/v2/accounts",
            headers: Some(HB_ACCOUNTS_HEADERS),
            body: Some(""),
            ..Sent::default()
        };
    // A Uuid given as an uppercase string goes out in Display form: lowercase, hyphenated;
    // the optional header goes out once set.
    hb_uuid_strings_go_out_in_display_form_with_the_optional_header:
        hb_client, (200, Reply::Json(json!({"accounts": []}))),
        |c| hb_accounts(&c)
            .tpp_request_id("6BA7B810-9DAD-11D1-80B4-00C04FD430C8")
            .tpp_transaction_id("urn:uuid:00000000-0000-4000-8000-000000000001")
            .psu_ip_address("192.0.2.7"),
        |_answer| {},
        Sent {
            method: "GET",
            path: "/openbanking/psd2/v2/accounts",
            headers: Some(&[
                ("accept", "application/json"),
                ("api-version", "1.0.0"),
                ("authorization", "Bearer psu-token"),
                ("country", "SE"),
                ("psu-ip-address", "192.0.2.7"),
                ("tpp-request-id", REQUEST_ID_TEXT),
                ("tpp-transaction-id", TRANSACTION_ID_TEXT),
                ("x-ibm-client-id", "client-1"),
            ]),
            body: Some(""),
            ..Sent::default()
        };
    hb_create_consent_sends_its_optional_headers_and_json_body:
        hb_client, (200, Reply::Json(json!({"consentId": "c-1", "consentStatus": "RECEIVED"}))),
        |c| hb_create_consent(&c)
            .psu_corporate_id("5560000000")
            .psu_corporate_id_type("BANK"),
        |_answer| {},
        Sent {
            method: "POST",
            path: "/openbanking/psd2/v1/consents",
            headers: Some(&[
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
            ]),
            body: Some(r#"{"access":"ALL_ACCOUNTS"}"#),
            ..Sent::default()
        };
    // The token call sends its body form-encoded, in the body struct's field order, without
    // the unset optional members; it has no header parameters.
    hb_token_call_sends_a_form_encoded_body:
        hb_client,
        (200, Reply::Json(json!({"access_token": "at", "expires_in": 3600, "token_type": "Bearer"}))),
        |c| c.get_token().body_map(|b| {
            b.grant_type("client_credentials")
                .scope(Some("AIS".to_string()))
                .client_id(Some("raw client".to_string()))
        }),
        |answer| { assert_eq!(answer.access_token, "at"); },
        Sent {
            method: "POST",
            path: "/mlurd/oauth2/token/1.0",
            headers: Some(&[
                ("accept", "application/json"),
                ("api-version", "1.0.0"),
                ("content-type", "application/x-www-form-urlencoded"),
            ]),
            body: Some("client_id=raw+client&grant_type=client_credentials&scope=AIS"),
            ..Sent::default()
        };
    op_token_call_sends_a_form_encoded_body:
        op_client,
        (200, Reply::Json(json!({"access_token": "at", "expires_in": 3600, "token_type": "Bearer"}))),
        |c| c.get_token().body_map(|b| {
            b.scope("accountinformation corporate")
                .grant_type(op::types::TokenRequestGrantType::ClientCredentials)
                .client_secret("s3cr&t=")
                .client_id("tpp")
        }),
        |_answer| {},
        Sent {
            method: "POST",
            path: "/connect/token",
            body: Some(
                "client_id=tpp&client_secret=s3cr%26t%3D&grant_type=client_credentials&scope=accountinformation+corporate",
            ),
            ..Sent::default()
        };
    // Query parameters: set ones go out in the parameter order of the operation, serialized
    // through serde (dates `YYYY-MM-DD`, form encoding); unset optional ones are absent.
    // Path parameters are percent-encoded.
    hb_query_and_path_parameters_as_sent:
        hb_client, (200, Reply::Json(json!({"transactions": []}))),
        |c| hb_transactions(&c)
            .account_id("acc/1 ?#%")
            .date_from(date(2024, 1, 1))
            .continuation_key("k 1&x=y/é"),
        |_answer| {},
        Sent {
            method: "GET",
            path: "/openbanking/psd2/v2/accounts/acc%2F1%20%3F%23%25/transactions",
            query: Some("continuationKey=k+1%26x%3Dy%2F%C3%A9&dateFrom=2024-01-01"),
            params: &[("continuationKey", "k 1&x=y/é"), ("dateFrom", "2024-01-01")],
            absent: &["dateTo"],
            ..Sent::default()
        };
    op_query_parameters_and_x_bicfi_routing_header_as_sent:
        op_client, (200, Reply::Json(json!({}))),
        |c| op_transactions(&c).date_to(date(2024, 2, 29)),
        |_answer| {},
        Sent {
            method: "GET",
            path: "/psd2/accountinformation/v1/accounts/acc-1/transactions",
            query: Some("bookingStatus=both&dateTo=2024-02-29"),
            params: &[("bookingStatus", "both"), ("dateTo", "2024-02-29")],
            absent: &["continuationKey", "dateFrom"],
            headers: Some(&[
                ("accept", "application/json"),
                ("api-version", "1.0.0"),
                ("consent-id", "consent-1"),
                ("x-bicfi", "ESSESESS"),
                ("x-request-id", REQUEST_ID_TEXT),
            ]),
            ..Sent::default()
        };
    sw_query_parameters_as_sent:
        sw_client, (200, Reply::Json(json!({"transactions": {"booked": [], "pending": []}}))),
        |c| sw_transactions(&c).with_balance(true).date_from(date(2024, 1, 1)),
        |_answer| {},
        Sent {
            method: "GET",
            path: "/v1/accounts/acc-1/transactions",
            query: Some("bookingStatus=booked&dateFrom=2024-01-01&withBalance=true"),
            params: &[("bookingStatus", "booked"), ("dateFrom", "2024-01-01"), ("withBalance", "true")],
            absent: &["dateTo"],
            ..Sent::default()
        };
    // Every optional header and query parameter when set; an empty string is a set value:
    // the header goes out, empty.
    op_every_optional_header_and_query_parameter_when_set:
        op_client, (200, Reply::Json(json!({"accounts": []}))),
        |c| op_accounts(&c)
            .with_balance(true)
            .psu_corporate_id("5560000000")
            .psu_id("19900101-0000")
            .psu_ip_address(Ipv4Addr::new(192, 0, 2, 7))
            .psu_user_agent("")
            .tpp_redirect_preferred(false)
            .x_feature_flags("new-balances"),
        |_answer| {},
        Sent {
            method: "GET",
            path: "/psd2/accountinformation/v1/accounts",
            query: Some("withBalance=true"),
            headers: Some(&[
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
            ]),
            ..Sent::default()
        };
    // Non-ASCII text is a valid header value: its UTF-8 bytes go out unchanged.
    sw_every_optional_header_when_set:
        sw_client, (200, Reply::Json(json!({"accounts": []}))),
        |c| sw_accounts(&c)
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
            .x_future_breaking_changes("true"),
        |_answer| {},
        Sent {
            method: "GET",
            path: "/v1/accounts",
            query: Some("withBalance=false"),
            headers: Some(&[
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
            ]),
            ..Sent::default()
        };
    sw_no_optional_header_goes_out_unless_set:
        sw_client, (200, Reply::Json(json!({"accounts": []}))), |c| sw_accounts(&c),
        |_answer| {},
        Sent {
            method: "GET",
            path: "/v1/accounts",
            headers: Some(&[
                ("accept", "application/json"),
                ("api-version", "1.0.0"),
                ("consent-id", "consent-1"),
                ("x-request-id", REQUEST_ID_TEXT),
            ]),
            ..Sent::default()
        };
    // JSON bodies go out in the body struct's field order.
    op_create_consent_sends_json_body_in_struct_field_order:
        op_client, (201, Reply::Json(json!({"consentId": "c-1", "consentStatus": "received"}))),
        |c| op_create_consent(&c).tpp_redirect_preferred(true),
        |_answer| {},
        Sent {
            method: "POST",
            path: "/psd2/consent/v1/consents",
            headers: Some(&[
                ("accept", "application/json"),
                ("api-version", "1.0.0"),
                ("content-type", "application/json"),
                ("tpp-redirect-preferred", "true"),
                ("x-bicfi", "ESSESESS"),
                ("x-request-id", REQUEST_ID_TEXT),
            ]),
            body: Some(
                r#"{"access":{},"combinedServiceIndicator":false,"frequencyPerDay":4,"recurringIndicator":true,"validUntil":"2025-12-31"}"#,
            ),
            ..Sent::default()
        };
    sw_create_consent_sends_json_body_in_struct_field_order:
        sw_client,
        (201, Reply::Json(json!({"consentId": "c-1", "consentStatus": "received", "_links": {"self": {"href": "/v1/consents/c-1"}, "status": {"href": "/v1/consents/c-1/status"}}}))),
        |c| sw_create_consent(&c),
        |_answer| {},
        Sent {
            method: "POST",
            path: "/v1/consents",
            body: Some(
                r#"{"access":{"allPsd2":"allAccounts"},"combinedServiceIndicator":false,"frequencyPerDay":4,"recurringIndicator":true,"validUntil":"2025-12-31"}"#,
            ),
            ..Sent::default()
        };
    // An unset body whose members are all optional goes out as `{}`.
    sw_unset_body_with_only_optional_members_is_an_empty_object:
        sw_client,
        (201, Reply::Json(json!({"authorisationId": "a-1", "scaStatus": "received", "_links": {"scaStatus": {"href": "/s"}}}))),
        |c| c.start_consent_authorisation().consent_id("c-1").x_request_id(REQUEST_ID),
        |_answer| {},
        Sent {
            method: "POST",
            path: "/v1/consents/c-1/authorisations",
            headers: Some(&[
                ("accept", "application/json"),
                ("api-version", "1.0.0"),
                ("content-type", "application/json"),
                ("x-request-id", REQUEST_ID_TEXT),
            ]),
            body: Some("{}"),
            ..Sent::default()
        };
    // An operation answering 204 ignores any body.
    hb_delete_consent_answers_empty_on_204:
        hb_client, (204, Reply::Raw("", "text/plain")), |c| hb_delete_consent(&c),
        |answer| { assert_eq!(answer.status().as_u16(), 204); },
        Sent {
            method: "DELETE",
            path: "/openbanking/psd2/v1/consents/consent-1",
            ..Sent::default()
        };
}

/// One test per row: the request hooks never run for a request refused by the builder (an
/// unset required parameter, a value that is not a header value) and run once per sent
/// request; a hook error becomes `Error::Custom` and nothing is sent. A row is `test name:
/// client with hooks, reply, |c| [unset call => message, bad header call, good call];`.
macro_rules! hooks_run_only_for_requests_that_are_built {
    ($($test:ident: $client_with:ident, $reply:expr,
        |$c:ident| [$unset:expr => $message:literal, $bad_header:expr, $good:expr $(,)?];)+) => {$(
        #[tokio::test]
        async fn $test() {
            let server = server_replying(200, $reply).await;
            let (hooks, count) = counting_hook();
            let $c = $client_with(&server, hooks);
            assert_eq!(invalid_request($unset.send().await), $message);
            assert_eq!(invalid_request($bad_header.send().await), BAD_HEADER);
            assert_eq!(count.load(Ordering::SeqCst), 0);
            assert_nothing_sent(&server).await;
            ok($good.send().await);
            assert_eq!(count.load(Ordering::SeqCst), 1);

            let server = server_expecting_nothing().await;
            let refusing = Hooks::new().with(FnHook(|_: &mut reqwest::Request| {
                Err(HookError::new("deny", "refused"))
            }));
            let $c = $client_with(&server, refusing);
            match $good.send().await {
                Err(Error::Custom(message)) => {
                    assert_eq!(message, "request hook `deny` failed: refused");
                }
                other => panic!("expected Error::Custom, got {other:?}"),
            }
            assert_nothing_sent(&server).await;
        }
    )+};
}

hooks_run_only_for_requests_that_are_built! {
    hb_hooks_run_only_for_requests_that_are_built: hb_client_with, json!({"accounts": []}), |c| [
        c.get_account_transactions() => "account_id was not initialized",
        hb_accounts(&c).authorization("Bearer a\nb"),
        hb_accounts(&c),
    ];
    op_hooks_run_only_for_requests_that_are_built: op_client_with, json!({"accounts": []}), |c| [
        c.get_account_list().consent_id("consent-1") => "x_bic_fi was not initialized",
        op_accounts(&c).psu_id("psu\n"),
        op_accounts(&c),
    ];
    sw_hooks_run_only_for_requests_that_are_built: sw_client_with, json!({"accounts": []}), |c| [
        c.get_account_list().consent_id("consent-1") => "x_request_id was not initialized",
        sw_accounts(&c).psu_user_agent("agent\nX-Injected: yes"),
        sw_accounts(&c),
    ];
}
