//! How answers map to `Ok` and `Error` variants: declared success statuses are parsed,
//! declared error statuses are `ErrorResponse`, undeclared ones `UnexpectedResponse`, and a
//! declared status whose body is not the declared JSON is `InvalidResponsePayload`.

use super::*;

/// One test per row: a declared success status is `Ok` with that status, the response
/// headers intact and the body parsed. A row is `test name: client, (status, reply,
/// [response headers]), |c| call, |answer| the body's fields;`.
macro_rules! parsed_answers {
    ($($test:ident: $client:ident, ($status:literal, $reply:expr, [$(($name:literal, $value:literal)),* $(,)?]),
        |$c:ident| $call:expr, |$answer:ident| $check:block;)+) => {$(
        #[tokio::test]
        async fn $test() {
            let server = server_answering($status, &$reply, &[$(($name, $value)),*]).await;
            let $c = $client(&server);
            let $answer = ok($call.send().await);
            assert_eq!($answer.status().as_u16(), $status);
            $(assert_eq!($answer.headers()[$name], $value);)*
            $check
        }
    )+};
}

parsed_answers! {
    hb_success_body_is_parsed_with_status_and_headers:
        hb_client,
        (200, Reply::Json(json!({
            "accounts": [{
                "accountId": "acc-1",
                "currency": "SEK",
                "iban": "SE4550000000058398257466",
                "balances": [{"amount": {"amount": 2000, "currency": "SEK"}, "balanceType": "AVAILABLE_AMOUNT"}],
            }],
        })), [("x-trace", "t-1")]),
        |c| hb_accounts(&c),
        |answer| {
            let list = answer.into_inner();
            assert_eq!(list.accounts.len(), 1);
            let account = &list.accounts[0];
            assert_eq!(account.account_id, "acc-1");
            assert_eq!(account.currency, "SEK");
            assert_eq!(account.iban.as_deref(), Some("SE4550000000058398257466"));
            assert_eq!(account.balances[0].amount.amount.to_string(), "2000");
            assert_eq!(account.balances[0].balance_type.as_str(), "AVAILABLE_AMOUNT");
        };
    op_created_answer_is_parsed:
        op_client,
        (201, Reply::Json(json!({
            "consentId": "c-1",
            "consentStatus": "received",
            "_links": {"scaRedirect": {"href": "https://bank.example/sca"}},
        })), [("location", "/psd2/consent/v1/consents/c-1"), ("aspsp-sca-approach", "REDIRECT")]),
        |c| op_create_consent(&c),
        |answer| {
            assert_eq!(answer.consent_id, "c-1");
            assert_eq!(answer.consent_status.as_str(), "received");
            let links = answer.into_inner().links.unwrap();
            assert_eq!(links.sca_redirect.unwrap().href, "https://bank.example/sca");
        };
    sw_created_answer_is_parsed:
        sw_client,
        (201, Reply::Json(json!({"consentId": "c-2", "consentStatus": "received", "_links": {"self": {"href": "/v1/consents/c-2"}, "status": {"href": "/v1/consents/c-2/status"}}})), []),
        |c| sw_create_consent(&c),
        |answer| {
            assert_eq!(answer.consent_id, "c-2");
            assert_eq!(answer.links.self_.href, "/v1/consents/c-2");
        };
    // An operation answering 204 ignores any body (hb's delete: see the requests table).
    sw_delete_consent_answers_empty_on_204_whatever_the_body:
        sw_client, (204, Reply::Json(json!({"ignored": true})), []),
        |c| c.delete_consent().consent_id("c-1").x_request_id(REQUEST_ID),
        |_answer| {};
}

/// One test per row: every error status the bank's spec declares for the operation gives
/// `ErrorResponse` with that status, the response headers intact (`Retry-After`) and the
/// parsed error body. A row is `test name: client, |c| call, [statuses], the error body for
/// a status, |error, status| the body's fields;`.
macro_rules! declared_error_statuses {
    ($($test:ident: $client:ident, |$c:ident| $call:expr, [$($status:literal),+ $(,)?], $body:expr,
        |$error:ident, $st:ident| $check:block;)+) => {$(
        #[tokio::test]
        async fn $test() {
            for $st in [$($status),+] {
                let reply = Reply::Json(($body)($st));
                let server = server_answering($st, &reply, &[("retry-after", "7")]).await;
                let $c = $client(&server);
                let $error = error_response($call.send().await);
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
        hb_client, |c| hb_accounts(&c), [400u16, 401, 403, 404, 429, 500], hb_error_body,
        |error, status| {
            assert_eq!(error.http_code, i32::from(status));
            assert_eq!(error.http_message, "Reason");
            assert_eq!(error.more_information.as_deref(), Some("More"));
            assert_eq!(error.errors.len(), 1);
            assert_eq!(error.errors[0].code.as_deref(), Some("E1"));
        };
    // The token operation declares 400 and 401 only, with the OAuth error body.
    hb_token_errors_use_the_oauth_body:
        hb_client, |c| c.get_token().body_map(|b| b.grant_type("refresh_token")), [400u16, 401],
        |_| json!({"error": "invalid_grant", "error_description": "expired"}),
        |error, _status| {
            assert_eq!(error.error, "invalid_grant");
            assert_eq!(error.error_description.as_deref(), Some("expired"));
        };
    // Open Payments' operations: 400, 401, 403, 404, 405, 406, 409, 429, 500, 503.
    op_every_declared_error_status_is_an_error_response:
        op_client, |c| op_accounts(&c), [400u16, 401, 403, 404, 405, 406, 409, 429, 500, 503],
        |_| op_error_body(),
        |error, _status| {
            assert_eq!(error.tpp_messages.len(), 1);
            assert_eq!(error.tpp_messages[0].category, "ERROR");
            assert_eq!(error.tpp_messages[0].code, "CONSENT_INVALID");
            assert_eq!(error.tpp_messages[0].text.as_deref(), Some("no"));
            assert_eq!(error.links["scaRedirect"].href, "/redo");
        };
    // A declared error status on a delete still parses the error body.
    op_delete_declared_error_status_parses_the_error_body:
        op_client,
        |c| c.delete_consent().consent_id("c-1").x_bic_fi("ESSESESS").x_request_id(REQUEST_ID),
        [404u16], |_| op_error_body(),
        |error, _status| {
            assert_eq!(error.tpp_messages[0].code, "CONSENT_INVALID");
        };
    // Swedbank's operations: 400, 401, 403, 404, 429, 500.
    sw_every_declared_error_status_is_an_error_response:
        sw_client, |c| sw_transactions(&c), [400u16, 401, 403, 404, 429, 500], sw_error_body,
        |error, status| {
            assert_eq!(error.code.as_deref(), Some("FORMAT_ERROR"));
            assert_eq!(error.id.as_deref(), Some("err-1"));
            assert_eq!(error.message.as_deref(), Some("bad"));
            assert_eq!(error.status, Some(i64::from(status)));
            assert_eq!(error.system.as_deref(), Some("ERA-PSD2"));
        };
    // Swedbank's error body has no required member: `{}` is an `ErrorResponse` too.
    sw_error_body_without_members_is_an_error_response:
        sw_client, |c| sw_accounts(&c), [401u16], |_| json!({}),
        |error, _status| {
            assert_eq!(error.code, None);
        };
}

/// One test per row: each status the operation does not declare, 2xx included, is
/// `UnexpectedResponse` with the status and the body intact. A row is `test name: client,
/// |c| call, [statuses], reply;`.
macro_rules! undeclared_statuses {
    ($($test:ident: $client:ident, |$c:ident| $call:expr, [$($status:literal),+ $(,)?],
        $reply:expr;)+) => {$(
        #[tokio::test]
        async fn $test() {
            let reply = $reply;
            for status in [$($status),+] {
                let server = server_answering(status, &reply, &[]).await;
                let $c = $client(&server);
                let error = match $call.send().await {
                    Err(error) => error,
                    Ok(value) => panic!("expected Error::UnexpectedResponse, got Ok({value:?})"),
                };
                assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
                let response = unexpected_response::<(), _>(Err(error));
                assert_eq!(response.status().as_u16(), status);
                // A 204 carries no body on the wire.
                if status != 204 {
                    assert_eq!(response.bytes().await.unwrap().to_vec(), reply.bytes());
                }
            }
        }
    )+};
}

undeclared_statuses! {
    hb_undeclared_statuses_are_unexpected_responses:
        hb_client, |c| hb_accounts(&c), [201u16, 202, 204, 302, 418, 502, 503],
        Reply::Raw("teapot", "text/plain");
    // The token operation declares 200, 400 and 401 only.
    hb_token_undeclared_statuses_are_unexpected_responses:
        hb_client, |c| c.get_token().body_map(|b| b.grant_type("client_credentials")),
        [403u16, 500], Reply::Json(json!({"error": "server_error"}));
    op_undeclared_statuses_are_unexpected_responses:
        op_client, |c| op_create_consent(&c), [200u16, 204, 402, 418, 502, 504],
        Reply::Raw("teapot", "text/plain");
    // A delete declares 204: a 200 is unexpected.
    op_delete_answering_200_is_an_unexpected_response:
        op_client,
        |c| c.delete_consent().consent_id("c-1").x_bic_fi("ESSESESS").x_request_id(REQUEST_ID),
        [200u16], Reply::Json(json!({}));
    sw_undeclared_statuses_are_unexpected_responses:
        sw_client, |c| sw_create_consent(&c), [200u16, 402, 418, 502, 503],
        Reply::Json(json!({"consentId": "c"}));
}

/// One test per row: a declared status whose body is not the declared JSON is
/// `InvalidResponsePayload` with the raw body and the JSON error's category, whether the
/// status is a success or an error one; the status is lost. A row is `test name: client,
/// |c| call, [(status, reply, category), ...];`.
macro_rules! bodies_that_do_not_parse {
    ($($test:ident: $client:ident, |$c:ident| $call:expr,
        [$(($status:literal, $reply:expr, $category:expr)),+ $(,)?];)+) => {$(
        #[tokio::test]
        async fn $test() {
            $(
                let reply = $reply;
                let server = server_answering($status, &reply, &[]).await;
                let $c = $client(&server);
                let (bytes, category) = invalid_payload($call.send().await);
                assert_eq!(bytes, reply.bytes(), "{}", $status);
                assert_eq!(category, $category, "{}", $status);
            )+
        }
    )+};
}

bodies_that_do_not_parse! {
    hb_declared_statuses_with_bodies_that_do_not_parse_are_invalid_payloads:
        hb_client, |c| hb_accounts(&c), [
            // Declared error statuses, non-JSON body.
            (400, Reply::Raw("<html>oops</html>", "text/html"), Category::Syntax),
            (500, Reply::Raw("<html>oops</html>", "text/html"), Category::Syntax),
            // Declared error status, JSON missing a required member of the error type.
            (401, Reply::Raw(r#"{"moreInformation":"x"}"#, "application/json"), Category::Data),
            // Declared success status, non-JSON body.
            (200, Reply::Raw("accounts: []", "text/plain"), Category::Syntax),
        ];
    op_declared_statuses_with_bodies_that_do_not_parse_are_invalid_payloads:
        op_client, |c| op_accounts(&c), [
            (503, Reply::Raw("Service Unavailable", "text/plain"), Category::Syntax),
        ];
    // Declared success status, empty body.
    op_created_answer_with_an_empty_body_is_an_invalid_payload:
        op_client, |c| op_create_consent(&c), [
            (201, Reply::Raw("", "application/json"), Category::Eof),
        ];
    sw_declared_statuses_with_bodies_that_do_not_parse_are_invalid_payloads:
        sw_client, |c| sw_accounts(&c), [
            // Declared error status, empty body.
            (429, Reply::Raw("", "text/plain"), Category::Eof),
            // Declared success status, wrong shape.
            (200, Reply::Raw(r#"{"accounts":[{"currency":"SEK"}]}"#, "application/json"), Category::Data),
        ];
}
