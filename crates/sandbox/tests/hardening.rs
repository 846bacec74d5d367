//! The sandbox is no kinder than a bank: values from outside cannot crash it, consents and
//! tokens belong to the TPP that got them, unknown PSUs are refused, signatures fail
//! closed and secrets differ on every run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use common::*;
use psd2_sandbox::{Bank, Sandbox};
use psd2_security::SigningHook;
use serde_json::json;

fn builder() -> psd2_sandbox::SandboxBuilder {
    Sandbox::builder()
        .seed(3)
        .today(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap())
}

#[tokio::test]
async fn a_huge_clock_advance_is_refused_and_the_sandbox_keeps_working() {
    let tb = Tb::start(builder()).await;
    for bad in [
        json!({"advanceSecs": 100_000_000_000_000_u64}),
        json!({"advanceSecs": u64::MAX}),
        json!({"advanceSecs": -5}),
        json!({"advanceDays": 40_000}),
        json!({"setDate": "2026-06-01"}),
        json!({"setDate": "tomorrow"}),
        json!({"nothing": 1}),
    ] {
        let (s, v) = tb.admin("POST", "/clock", Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad} → {v}");
        assert!(
            v["error"].as_str().unwrap().contains("clock")
                || v["error"].as_str().unwrap().contains("setDate")
                || v["error"].as_str().unwrap().contains("body"),
            "{v}"
        );
    }
    let (s, v) = tb.admin("GET", "/clock", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["today"], "2026-06-30");
    // Every kind of request still answers.
    let (token, cid) = op_valid_consent(&tb, "private-1", 4).await;
    let r = op_accounts(&tb, &token, &cid).await;
    assert_eq!(r.status, 200);
    let (s, v) = tb
        .admin("POST", "/clock", Some(json!({"setDate": "2026-07-04"})))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["today"], "2026-07-04");
}

#[tokio::test]
async fn the_largest_history_size_is_clamped_and_served() {
    let tb = Tb::start(builder().history_size(u64::MAX).page_size(u64::MAX)).await;
    assert_eq!(tb.sb.config().history_size, 1_000_000_000);
    assert_eq!(tb.sb.config().page_size, 10_000);
    let (token, cid) = op_valid_consent(&tb, "private-1", 4).await;
    let acc = payment_accounts(&tb, Bank::OpenPayments, "private-1")[0]
        .resource_id
        .clone();
    let r = tb.get(Bank::OpenPayments, &format!("/psd2/accountinformation/v1/accounts/{acc}/transactions?bookingStatus=booked&dateFrom=2026-06-29&dateTo=2026-06-29"), &op_headers(&token, Some(&cid))).await;
    assert_eq!(r.status, 200);
    // 10^9 entries over 730 days: about 1.37 million a day, one page of 10,000 here.
    assert_eq!(
        r.json()["transactions"]["booked"].as_array().unwrap().len(),
        10_000
    );
}

#[test]
fn the_binary_refuses_out_of_range_numbers_with_a_clear_error() {
    for (flag, value) in [
        ("--history-size", "18446744073709551615"),
        ("--page-size", "0"),
        ("--token-ttl-secs", "99999999999"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_psd2-sandbox"))
            .args([flag, value])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[tokio::test]
async fn open_payments_consents_belong_to_the_client_that_made_them() {
    let tb = Tb::start(builder()).await;
    let (token, cid) = op_valid_consent(&tb, "private-1", 4).await;
    let other = op_token_for(
        &tb,
        "grant_type=client_credentials&client_id=client-2&scope=accountinformation",
    )
    .await;
    let acc = payment_accounts(&tb, Bank::OpenPayments, "private-1")[0]
        .resource_id
        .clone();
    for (method, path, consent_header) in [
        ("GET", format!("/psd2/consent/v1/consents/{cid}"), false),
        (
            "GET",
            format!("/psd2/consent/v1/consents/{cid}/status"),
            false,
        ),
        ("DELETE", format!("/psd2/consent/v1/consents/{cid}"), false),
        (
            "GET",
            "/psd2/accountinformation/v1/accounts".to_string(),
            true,
        ),
        (
            "GET",
            format!("/psd2/accountinformation/v1/accounts/{acc}/balances"),
            true,
        ),
        (
            "GET",
            format!("/psd2/accountinformation/v1/accounts/{acc}/transactions?bookingStatus=booked"),
            true,
        ),
    ] {
        let h = op_headers(&other, consent_header.then_some(cid.as_str()));
        let r = tb
            .call(Bank::OpenPayments, method, &path, &refs(&h), Body::None)
            .await;
        assert_eq!(r.status, 403, "{method} {path}: {:?}", r.json());
        assert_eq!(r.json()["tppMessages"][0]["code"], "CONSENT_UNKNOWN");
    }
    let r = tb
        .post(
            Bank::OpenPayments,
            &format!("/psd2/consent/v1/consents/{cid}/authorisations"),
            &op_headers(&other, None),
            json!({"authenticationMethodId": "mbid"}),
        )
        .await;
    assert_eq!(r.status, 403);
    // The owner still has it, valid.
    let r = op_consent_status(&tb, &token, &cid).await;
    assert_eq!(r.json()["consentStatus"], "valid");
}

#[tokio::test]
async fn handelsbanken_consents_and_tokens_are_bound_to_the_client() {
    let tb = Tb::start(builder()).await;
    let (cid, psu_token) = hb_psu_token(&tb, "private-1").await;
    // The PSU token with another X-IBM-Client-Id.
    let mut h = hb_headers(&psu_token);
    h[0].1 = "client-2".into();
    let r = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &h)
        .await;
    assert_eq!(r.status, 401, "{:?}", r.json());
    // Another client's own CCG token cannot see, end or authorise the consent.
    let ccg2 = hb_ccg_for(&tb, "client-2").await;
    let mut h = hb_headers(&ccg2);
    h[0].1 = "client-2".into();
    for (method, path) in [
        ("GET", format!("/openbanking/psd2/v1/consents/{cid}")),
        ("GET", format!("/openbanking/psd2/v1/consents/{cid}/status")),
        ("DELETE", format!("/openbanking/psd2/v1/consents/{cid}")),
    ] {
        let r = tb
            .call(Bank::Handelsbanken, method, &path, &refs(&h), Body::None)
            .await;
        assert_eq!(r.status, 404, "{method} {path}");
    }
    let r = tb
        .post(
            Bank::Handelsbanken,
            "/mlurd/decoupled/mbid/initAuthorization/2.0",
            &h,
            json!({"consentId": cid}),
        )
        .await;
    assert_eq!(r.status, 404);
    // A code of client-1's consent cannot be exchanged by client-2.
    let ccg1 = hb_ccg(&tb).await;
    let cid1 = hb_create_consent(&tb, &ccg1).await;
    let page = format!(
        "/openbanking/redirect/oauth2/authorize/1.0?response_type=code&scope=AIS:{cid1}&state=st&redirect_uri=https://tpp.example/cb&psu_id=private-1"
    );
    let r = tb.page(Bank::Handelsbanken, &page).await;
    let code = r.location_query()["code"].clone();
    let r = hb_token_request(&tb, format!("grant_type=authorization_code&code={code}&client_id=client-2&redirect_uri=https://tpp.example/cb")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    let r = tb
        .get(
            Bank::Handelsbanken,
            &format!("/openbanking/psd2/v1/consents/{cid}/status"),
            &hb_headers(&ccg1),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn swedbank_consents_belong_to_the_signing_certificate() {
    let tb = Tb::start(builder().require_signatures(false)).await;
    let cert = |c: &str| {
        vec![
            ("X-Request-ID", rid()),
            ("TPP-Signature-Certificate", c.to_string()),
        ]
    };
    let r = tb
        .send(
            Bank::Swedbank,
            "POST",
            "/v1/consents",
            &refs(&{
                let mut h = cert("CERT-A");
                h.push(("PSU-ID", "private-1".into()));
                h
            }),
            Body::Json(bg_consent_body(4)),
            Signing::None,
        )
        .await;
    assert_eq!(r.status, 201);
    let cid = r.text_at("/consentId");
    let get = |c: &'static str| {
        let cid = cid.clone();
        let tb = &tb;
        async move {
            tb.send(
                Bank::Swedbank,
                "GET",
                &format!("/v1/consents/{cid}"),
                &refs(&cert(c)),
                Body::None,
                Signing::None,
            )
            .await
        }
    };
    assert_eq!(get("CERT-A").await.status, 200);
    let r = get("CERT-B").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "CONSENT_UNKNOWN");
    let r = tb
        .send(
            Bank::Swedbank,
            "DELETE",
            &format!("/v1/consents/{cid}"),
            &refs(&cert("CERT-B")),
            Body::None,
            Signing::None,
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn unknown_psu_ids_get_the_banks_error() {
    let tb = Tb::start(builder()).await;
    let token = op_token(&tb).await;
    // `=?UTF-8?B?w4XDhMOW?=` is "ÅÄÖ" as a client encodes a non-ASCII header (RFC 2047).
    for psu in ["nobody-xyz", "", "=?UTF-8?B?w4XDhMOW?="] {
        let mut h = op_headers(&token, None);
        h.push(("PSU-ID", psu.to_string()));
        let r = tb
            .post(
                Bank::OpenPayments,
                "/psd2/consent/v1/consents",
                &h,
                bg_consent_body(4),
            )
            .await;
        assert_eq!(r.status, 401, "{psu:?}: {:?}", r.json());
        assert_eq!(
            r.json()["tppMessages"][0]["code"],
            "PSU_CREDENTIALS_INVALID"
        );
        let r = sw_post_consent(&tb, Some(psu), bg_consent_body(4)).await;
        assert_eq!(r.status, 401, "{psu:?}: {:?}", r.json());
        assert_eq!(r.json()["code"], "PSU_CREDENTIALS_INVALID");
    }
    // Raw UTF-8 bytes in the header, sent as they are.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/psd2/consent/v1/consents",
            tb.sb.bank_url(Bank::OpenPayments)
        ))
        .header("Authorization", format!("Bearer {token}"))
        .header("X-Request-ID", rid())
        .header("X-BicFi", "ESSESESS")
        .header(
            "PSU-ID",
            reqwest::header::HeaderValue::from_bytes("ÅÄÖ".as_bytes()).unwrap(),
        )
        .json(&bg_consent_body(4))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Starting an authorisation for an unknown PSU as well.
    let cid = op_create_consent(&tb, &token, "private-1", 4).await;
    let mut h = op_headers(&token, None);
    h.push(("PSU-ID", "nobody-xyz".into()));
    let r = tb
        .post(
            Bank::OpenPayments,
            &format!("/psd2/consent/v1/consents/{cid}/authorisations"),
            &h,
            json!({"authenticationMethodId": "mbid"}),
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_missing_certificate_file_refuses_every_signature() {
    let post = |sb: &psd2_sandbox::RunningSandbox| {
        let url = format!("{}/v1/consents", sb.bank_url(Bank::Swedbank));
        let body = serde_json::to_vec(&bg_consent_body(4)).unwrap();
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-request-id", rid().parse().unwrap());
        h.insert("content-type", "application/json".parse().unwrap());
        SigningHook::new(test_identity())
            .sign_headers(&mut h, &body)
            .unwrap();
        reqwest::Client::new()
            .post(url)
            .headers(h)
            .body(body)
            .send()
    };
    let missing = Sandbox::builder()
        .signing_certificate_file("/nonexistent/psd2-sandbox/cert.pem")
        .build()
        .start()
        .await
        .unwrap();
    let r = post(&missing).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], "SIGNATURE_INVALID");
    // The same request against the certificate it was signed for passes.
    let good = Sandbox::builder()
        .signing_certificate_pem(psd2_security::fixtures::TEST_SIGNING_CERT_PEM)
        .build()
        .start()
        .await
        .unwrap();
    assert_eq!(post(&good).await.unwrap().status().as_u16(), 201);
}

#[tokio::test]
async fn secrets_differ_between_runs_with_the_same_seed_data_does_not() {
    let a = Tb::start(builder()).await;
    let b = Tb::start(builder()).await;
    let (ta, ca) = op_valid_consent(&a, "private-1", 4).await;
    let (tb_, cb) = op_valid_consent(&b, "private-1", 4).await;
    assert_ne!(ta, tb_);
    assert_ne!(ca, cb);
    let (hc, ht) = hb_psu_token(&a, "private-1").await;
    let (hc2, ht2) = hb_psu_token(&b, "private-1").await;
    assert_ne!(hc, hc2);
    assert_ne!(ht, ht2);
    // A token of one run is unknown to the other.
    let r = op_consent_status(&b, &ta, &cb).await;
    assert_eq!(r.status, 401);
    let ids = |tb: &Tb| -> Vec<(String, Option<String>)> {
        tb.sb
            .fixtures()
            .all_accounts()
            .iter()
            .map(|a| (a.resource_id.clone(), a.iban.clone()))
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
}
