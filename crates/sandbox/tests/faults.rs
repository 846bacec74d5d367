//! Faults on demand, from the builder and from `/admin/faults`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::*;
use psd2_sandbox::{Bank, FaultConfig, Sandbox};
use serde_json::json;

fn builder() -> psd2_sandbox::SandboxBuilder {
    Sandbox::builder()
        .seed(3)
        .history_size(1_000)
        .page_size(100)
        .decoupled_pending_polls(0)
}

#[tokio::test]
async fn server_errors_rate_limits_and_latency() {
    let tb = Tb::start(builder()).await;
    let (token, cid) = op_valid_consent(&tb, "private-1", 100).await;
    let h = op_headers(&token, Some(&cid));
    let accounts = "/psd2/accountinformation/v1/accounts";
    let (s, list) = tb.admin("POST", "/faults", Some(json!({"bank": "openpayments", "pathContains": "/accountinformation/", "serverErrorEvery": 2, "serverErrorStatus": 500}))).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(tb.get(Bank::OpenPayments, accounts, &h).await.status);
        }
        v
    };
    assert_eq!(statuses, [200, 500, 200, 500]);
    tb.admin("DELETE", "/faults", None).await;
    tb.admin(
        "POST",
        "/faults",
        Some(json!({"bank": "openpayments", "serverErrorEvery": 1})),
    )
    .await;
    let r = tb.get(Bank::OpenPayments, accounts, &h).await;
    assert_eq!(r.status, 503, "503 is the default status");
    assert_eq!(r.json()["tppMessages"][0]["code"], "SERVICE_UNAVAILABLE");
    // Other banks are untouched.
    let (_, hb_token) = hb_psu_token(&tb, "private-1").await;
    let mut hh = hb_headers(&hb_token);
    hh.push(("PSU-IP-Address", "10.0.0.1".into()));
    for _ in 0..2 {
        assert_eq!(
            tb.get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &hh)
                .await
                .status,
            200
        );
    }
    assert_eq!(tb.admin("DELETE", "/faults", None).await.0, 204);

    // (Swedbank's spec documents 500 but not 503.)
    tb.admin("POST", "/faults", Some(json!([{"bank": "swedbank", "serverErrorEvery": 1, "serverErrorStatus": 500}, {"bank": "handelsbanken", "rateLimitEvery": 1, "retryAfterSecs": 7}]))).await;
    let r = tb
        .get(Bank::Swedbank, "/v1/accounts", &sw_headers(Some("x")))
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["system"], "ERA-PSD2");
    let r = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &hh)
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));
    assert_eq!(r.json()["httpCode"], 429);
    tb.admin("DELETE", "/faults", None).await;

    tb.admin(
        "POST",
        "/faults",
        Some(json!({"bank": "openpayments", "latencyMs": 300})),
    )
    .await;
    let t = Instant::now();
    assert_eq!(tb.get(Bank::OpenPayments, accounts, &h).await.status, 200);
    assert!(t.elapsed().as_millis() >= 300);
    tb.admin("DELETE", "/faults", None).await;
    let t = Instant::now();
    tb.get(Bank::OpenPayments, accounts, &h).await;
    assert!(t.elapsed().as_millis() < 300);
}

#[tokio::test]
async fn broken_bodies() {
    let tb = Tb::start(builder().fault(FaultConfig {
        bank: Some(Bank::OpenPayments),
        path_contains: Some("/balances".into()),
        truncate_every: Some(2),
        malformed_every: Some(3),
        ..FaultConfig::default()
    }))
    .await;
    let (token, cid) = op_valid_consent(&tb, "private-1", 100).await;
    let acc = payment_accounts(&tb, Bank::OpenPayments, "private-1")[0]
        .resource_id
        .clone();
    let path = format!("/psd2/accountinformation/v1/accounts/{acc}/balances");
    let mut parsed = Vec::new();
    for _ in 0..3 {
        let r = tb
            .send(
                Bank::OpenPayments,
                "GET",
                &path,
                &refs(&op_headers(&token, Some(&cid))),
                Body::None,
                Signing::None,
            )
            .await;
        assert_eq!(r.status, 200);
        parsed.push(serde_json::from_slice::<serde_json::Value>(&r.body).is_ok());
    }
    assert_eq!(
        parsed,
        [true, false, false],
        "call 2 truncated, call 3 malformed"
    );
}

#[tokio::test]
async fn paging_faults_empty_page_and_repeated_key() {
    let tb = Tb::start(builder()).await;
    let cid = sw_valid_consent(&tb, "private-1", 4).await;
    let acc = payment_accounts(&tb, Bank::Swedbank, "private-1")[0]
        .resource_id
        .clone();
    let first = format!("/v1/accounts/{acc}/transactions?bookingStatus=both");
    tb.admin(
        "POST",
        "/faults",
        Some(json!({"bank": "swedbank", "emptyPageWithNext": true})),
    )
    .await;
    let r = tb
        .get(Bank::Swedbank, &first, &sw_headers(Some(&cid)))
        .await;
    let v = r.json();
    assert!(v["transactions"]["booked"].as_array().unwrap().is_empty());
    assert!(v["transactions"]["pending"].as_array().unwrap().is_empty());
    let next = v["transactions"]["_links"]["next"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let r = tb.get(Bank::Swedbank, &next, &sw_headers(Some(&cid))).await;
    assert_eq!(
        r.json()["transactions"]["pending"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    tb.admin("DELETE", "/faults", None).await;

    tb.admin(
        "POST",
        "/faults",
        Some(json!({"bank": "swedbank", "repeatContinuationKey": true})),
    )
    .await;
    let r = tb
        .get(Bank::Swedbank, &first, &sw_headers(Some(&cid)))
        .await;
    let page2 = r.text_at("/transactions/_links/next/href");
    let r = tb
        .get(Bank::Swedbank, &page2, &sw_headers(Some(&cid)))
        .await;
    let again = r.text_at("/transactions/_links/next/href");
    assert_eq!(again, page2, "the next link repeats the key just used");
    tb.admin("DELETE", "/faults", None).await;
    assert!(
        tb.admin("GET", "/faults", None)
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (s, health) = tb.admin("GET", "/health", None).await;
    assert_eq!((s, health["status"].as_str()), (200, Some("ok")));
    let (s, _) = tb
        .admin("POST", "/faults", Some(json!({"nonsense": 1})))
        .await;
    assert_eq!(s, 400);
}
