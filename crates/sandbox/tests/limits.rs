//! Limits a bank has and the sandbox must have too: bounded memory for tokens and consents,
//! consent `access` checked against the spec and enforced per service, `Retry-After` from
//! the sandbox clock, random faults with a seed, refresh-token rotation with a grace period.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use chrono::NaiveDate;
use common::*;
use psd2_sandbox::{Bank, FaultConfig, Sandbox};
use serde_json::{Value, json};

fn builder() -> psd2_sandbox::SandboxBuilder {
    Sandbox::builder()
        .seed(4)
        .today(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap())
}

async fn stored(tb: &Tb) -> Value {
    tb.admin("GET", "/health", None).await.1["stored"].clone()
}

#[tokio::test]
async fn tokens_and_consents_are_capped_and_expire() {
    let tb = Tb::start(
        builder()
            .max_tokens(20)
            .max_consents(10)
            .token_ttl(Duration::from_secs(60)),
    )
    .await;
    let first = op_token(&tb).await;
    let mut last = String::new();
    for _ in 0..100 {
        last = op_token(&tb).await;
    }
    assert_eq!(stored(&tb).await["tokens"], 20);
    let status = |t: String| {
        let tb = &tb;
        async move {
            tb.get(
                Bank::OpenPayments,
                "/psd2/accountinformation/v1/accounts",
                &op_headers(&t, Some("x")),
            )
            .await
            .status
        }
    };
    assert_eq!(status(first).await, 401, "the oldest token was dropped");
    assert_eq!(
        status(last.clone()).await,
        403,
        "the newest still works (the consent is unknown)"
    );
    for _ in 0..50 {
        op_create_consent(&tb, &last, "private-1", 4).await;
    }
    assert_eq!(stored(&tb).await["consents"], 10);
    // Expired tokens are dropped as soon as a new one is issued.
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 61})))
        .await;
    op_token(&tb).await;
    assert_eq!(stored(&tb).await["tokens"], 1);
}

fn op_consent(access: Value) -> Value {
    json!({"access": access, "combinedServiceIndicator": false, "frequencyPerDay": 4,
        "recurringIndicator": true, "validUntil": "2099-01-01"})
}

#[tokio::test]
async fn consent_access_is_validated_against_the_spec() {
    let tb = Tb::start(builder()).await;
    let token = op_token(&tb).await;
    let mut h = op_headers(&token, None);
    h.push(("PSU-ID", "private-1".into()));
    for (access, field) in [
        (json!({"balances": false}), "access.balances"),
        (json!({"transactions": null}), "access.transactions"),
        (
            json!({"accounts": [{"iban": 7}]}),
            "access.accounts[0].iban",
        ),
        (json!("ALL"), "access"),
    ] {
        let r = tb
            .post(
                Bank::OpenPayments,
                "/psd2/consent/v1/consents",
                &h,
                op_consent(access.clone()),
            )
            .await;
        assert_eq!(r.status, 400, "{access}");
        let m = &r.json()["tppMessages"][0];
        assert_eq!(m["code"], "FORMAT_ERROR");
        assert!(m["text"].as_str().unwrap().contains(field), "{m}");
        let r = sw_post_consent(&tb, Some("private-1"), op_consent(access.clone())).await;
        assert_eq!(r.status, 400, "{access}");
        assert!(r.json()["message"].as_str().unwrap().contains(field));
    }
}

#[tokio::test]
async fn open_payments_enforces_scope_per_service() {
    let tb = Tb::start(builder()).await;
    let token = op_token(&tb).await;
    let accs = payment_accounts(&tb, Bank::OpenPayments, "private-1");
    let (a, b) = (accs[0].clone(), accs[1].clone());
    let mut h = op_headers(&token, None);
    h.push(("PSU-ID", "private-1".into()));
    // Details of A and B, balances of B only, transactions of nobody.
    let access =
        json!({"accounts": [{"iban": a.iban}, {"iban": b.iban}], "balances": [{"iban": b.iban}]});
    let r = tb
        .post(
            Bank::OpenPayments,
            "/psd2/consent/v1/consents",
            &h,
            op_consent(access),
        )
        .await;
    assert_eq!(r.status, 201);
    let cid = r.text_at("/consentId");
    assert_eq!(op_decoupled(&tb, &token, &cid).await.0, "finalised");
    let h = op_headers(&token, Some(&cid));
    let get = |path: String| {
        let tb = &tb;
        let h = h.clone();
        async move { tb.get(Bank::OpenPayments, &path, &h).await }
    };
    let base = "/psd2/accountinformation/v1/accounts";
    assert_eq!(get(format!("{base}/{}", a.resource_id)).await.status, 200);
    for path in [
        format!("{base}/{}/balances", a.resource_id),
        format!("{base}/{}?withBalance=true", a.resource_id),
        format!("{base}/{}/transactions?bookingStatus=booked", a.resource_id),
        format!("{base}/{}/transactions?bookingStatus=booked", b.resource_id),
    ] {
        let r = get(path.clone()).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.json()["tppMessages"][0]["code"], "CONSENT_INVALID");
    }
    assert_eq!(
        get(format!("{base}/{}/balances", b.resource_id))
            .await
            .status,
        200
    );
    let list = get(format!("{base}?withBalance=true")).await.json();
    let list = list["accounts"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for acc in list {
        let has = acc.get("balances").is_some();
        assert_eq!(has, acc["resourceId"] == b.resource_id.as_str(), "{acc}");
    }
}

#[tokio::test]
async fn swedbank_available_accounts_grants_the_list_only() {
    let tb = Tb::start(builder()).await;
    let r = sw_post_consent(
        &tb,
        Some("private-1"),
        op_consent(json!({"availableAccounts": "allAccounts"})),
    )
    .await;
    assert_eq!(r.status, 201);
    let cid = r.text_at("/consentId");
    sw_redirect(&tb, &cid, "private-1").await;
    let h = sw_headers(Some(&cid));
    let list = tb.get(Bank::Swedbank, "/v1/accounts", &h).await;
    assert_eq!(list.status, 200);
    let id = list.json()["accounts"][0]["resourceId"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        format!("/v1/accounts/{id}/balances"),
        format!("/v1/accounts/{id}/transactions?bookingStatus=both"),
    ] {
        let r = tb.get(Bank::Swedbank, &path, &h).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.json()["code"], "CONSENT_INVALID");
    }
}

#[tokio::test]
async fn retry_after_comes_from_the_sandbox_clock() {
    // The sandbox day starts at noon: the access limit resets in 12 hours, whatever the
    // real time of day is.
    let tb = Tb::start(builder()).await;
    let (token, cid) = op_valid_consent(&tb, "private-1", 1).await;
    let h: Vec<_> = op_headers(&token, Some(&cid))
        .into_iter()
        .filter(|(k, _)| *k != "PSU-IP-Address")
        .collect();
    let path = "/psd2/accountinformation/v1/accounts";
    assert_eq!(tb.get(Bank::OpenPayments, path, &h).await.status, 200);
    let r = tb.get(Bank::OpenPayments, path, &h).await;
    assert_eq!(r.status, 429);
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((43_000..=43_200).contains(&secs), "Retry-After {secs}");
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": secs - 5})))
        .await;
    // (The access token lives an hour: a fresh one for the same consent.)
    let token = op_token(&tb).await;
    let h: Vec<_> = op_headers(&token, Some(&cid))
        .into_iter()
        .filter(|(k, _)| *k != "PSU-IP-Address")
        .collect();
    assert_eq!(tb.get(Bank::OpenPayments, path, &h).await.status, 429);
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 10})))
        .await;
    assert_eq!(tb.get(Bank::OpenPayments, path, &h).await.status, 200);
}

/// The statuses of `n` account-list calls under `fault` (1: a 200 whose body is not JSON).
async fn statuses(fault: FaultConfig, n: usize) -> Vec<u16> {
    let tb = Tb::start(builder().fault(fault)).await;
    let (token, cid) = op_valid_consent(&tb, "private-1", 4).await;
    let mut out = Vec::new();
    for _ in 0..n {
        let r = tb
            .send(
                Bank::OpenPayments,
                "GET",
                "/psd2/accountinformation/v1/accounts",
                &refs(&op_headers(&token, Some(&cid))),
                Body::None,
                Signing::None,
            )
            .await;
        let ok_json = serde_json::from_slice::<Value>(&r.body).is_ok();
        out.push(if r.status == 200 && !ok_json {
            1
        } else {
            r.status
        });
    }
    out
}

#[tokio::test]
async fn a_random_share_of_faults_is_reproducible_with_its_seed() {
    let fault = |seed| FaultConfig {
        bank: Some(Bank::OpenPayments),
        path_contains: Some("/accountinformation/".into()),
        method: Some("GET".into()),
        random_share: Some(0.3),
        seed,
        ..FaultConfig::default()
    };
    let a = statuses(fault(9), 200).await;
    let b = statuses(fault(9), 200).await;
    let c = statuses(fault(10), 200).await;
    assert_eq!(a, b, "same seed, same faults");
    assert_ne!(a, c, "another seed, other faults");
    let faulted = a.iter().filter(|s| **s != 200).count();
    assert!(
        (40..=80).contains(&faulted),
        "{faulted} of 200 faulted at a 30% share"
    );
    // Server errors, truncated and malformed bodies all occur.
    assert!(a.iter().any(|s| *s >= 500));
    assert!(a.contains(&1));
    // Only the matching method: POSTs are never faulted.
    let tb = Tb::start(builder().fault(FaultConfig {
        random_share: Some(1.0),
        method: Some("GET".into()),
        ..FaultConfig::default()
    }))
    .await;
    for _ in 0..10 {
        op_token(&tb).await;
    }
    let (s, v) = tb
        .admin("POST", "/faults", Some(json!({"randomShare": 1.5})))
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        tb.sb
            .add_fault(FaultConfig {
                random_share: Some(f64::NAN),
                ..FaultConfig::default()
            })
            .is_err()
    );
    tb.sb.clear_faults();
    assert_eq!(tb.admin("GET", "/faults", None).await.1, json!([]));
}

async fn refresh(tb: &Tb, rt: &str) -> Value {
    let r = hb_token_request(
        tb,
        format!("grant_type=refresh_token&refresh_token={rt}&client_id=client-1"),
    )
    .await;
    let mut v = r.json();
    v["status"] = json!(r.status);
    v
}

/// A PSU token pair by decoupled SCA; the refresh token.
async fn hb_refresh_token(tb: &Tb) -> String {
    let ccg = hb_ccg(tb).await;
    let cid = hb_create_consent(tb, &ccg).await;
    let h = hb_headers(&ccg);
    let r = tb
        .post(
            Bank::Handelsbanken,
            "/mlurd/decoupled/mbid/initAuthorization/2.0",
            &h,
            json!({"consentId": cid, "personalId": "private-1"}),
        )
        .await;
    let order = r.text_at("/orderRef");
    loop {
        let r = tb
            .get(
                Bank::Handelsbanken,
                &format!("/mlurd/decoupled/mbid/authorization/2.0/{order}"),
                &hb_headers(&ccg),
            )
            .await;
        let v = r.json();
        if v["status"] == "COMPLETE" {
            return v["refresh_token"].as_str().unwrap().to_string();
        }
        assert_eq!(v["status"], "PENDING");
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_with_an_optional_grace_period() {
    // No grace: the old refresh token is dead at once.
    let tb = Tb::start(builder()).await;
    let rt = hb_refresh_token(&tb).await;
    let first = refresh(&tb, &rt).await;
    assert_eq!(first["status"], 200);
    let again = refresh(&tb, &rt).await;
    assert_eq!(again["status"], 400);
    assert_eq!(again["error"], "invalid_grant");
    assert_eq!(
        refresh(&tb, first["refresh_token"].as_str().unwrap()).await["status"],
        200
    );

    // 30 s of grace: a client whose answer was lost can use the old one again, for 30 s.
    let tb = Tb::start(builder().refresh_grace(Duration::from_secs(30))).await;
    let rt = hb_refresh_token(&tb).await;
    assert_eq!(refresh(&tb, &rt).await["status"], 200);
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 20})))
        .await;
    let retry = refresh(&tb, &rt).await;
    assert_eq!(retry["status"], 200);
    assert_ne!(retry["refresh_token"], rt.as_str());
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 11})))
        .await;
    assert_eq!(refresh(&tb, &rt).await["error"], "invalid_grant");
    // Another client never gets to use it.
    let r = hb_token_request(
        &tb,
        format!(
            "grant_type=refresh_token&refresh_token={}&client_id=client-2",
            retry["refresh_token"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_grant");
}
