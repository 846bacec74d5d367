//! Swedbank's full flows over plain HTTP: signed requests, redirect and decoupled SCA,
//! every page of a two-year history, and signature checks that fail closed.
//! Every answer is checked against the bank's spec.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use psd2_sandbox::Bank;

#[tokio::test]
async fn swedbank_signed_redirect_and_decoupled_flows() {
    let tb = Tb::start(flows_builder()).await;
    let cid = sw_valid_consent(&tb, "private-1", 4).await;
    let h = sw_headers(Some(&cid));
    let r = sw_consent_status(&tb, &cid).await;
    assert_eq!(r.json()["consentStatus"], "valid");
    let r = tb
        .get(Bank::Swedbank, "/v1/accounts?withBalance=true", &h)
        .await;
    assert_eq!(r.status, 200);
    let main = r.json()["accounts"][0]["resourceId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = tb
        .get(
            Bank::Swedbank,
            &format!("/v1/accounts/{main}?withBalance=true"),
            &h,
        )
        .await;
    assert_eq!(
        r.json()["account"]["balances"][0]["balanceType"],
        "interimAvailable"
    );
    let r = tb
        .get(Bank::Swedbank, &format!("/v1/accounts/{main}/balances"), &h)
        .await;
    assert_eq!(r.status, 200);

    let mut url = format!(
        "/v1/accounts/{main}/transactions?bookingStatus=both&dateFrom={}",
        tb.sb.fixtures().today() - chrono::Days::new(730)
    );
    let mut count = 0u64;
    loop {
        // Absolute next links are signed with their own path and query.
        let r = tb.get(Bank::Swedbank, &url, &sw_headers(Some(&cid))).await;
        assert_eq!(r.status, 200, "{:?}", r.json());
        let v = r.json();
        count += v["transactions"]["booked"].as_array().unwrap().len() as u64;
        count += v["transactions"]["pending"].as_array().unwrap().len() as u64;
        match v["transactions"]["_links"]["next"]["href"].as_str() {
            Some(n) => {
                assert!(n.starts_with("http://"));
                url = n.to_string();
            }
            None => break,
        }
    }
    assert_eq!(count, FLOW_HISTORY);
    // One day further back than the 730 days of registry/swedbank.toml: refused.
    let r = tb
        .get(
            Bank::Swedbank,
            &format!(
                "/v1/accounts/{main}/transactions?bookingStatus=both&dateFrom={}",
                tb.sb.fixtures().today() - chrono::Days::new(731)
            ),
            &sw_headers(Some(&cid)),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PERIOD_INVALID");

    // Decoupled via TPP-Redirect-Preferred: false; reject-1 fails.
    decoupled_sca_by_preference(&tb).await;

    // Redirect rejected by the PSU.
    redirect_rejected_by_the_psu(&tb).await;
}

#[tokio::test]
async fn swedbank_requires_valid_signatures() {
    let tb = Tb::start(flows_builder()).await;
    let r = sw_post_consent_signed(&tb, Signing::None).await;
    assert_eq!(r.status, 401);
    let v = r.json();
    assert_eq!(v["system"], "ERA-PSD2");
    assert_eq!(v["status"], 401);
    assert_eq!(v["code"], "SIGNATURE_MISSING");
    let r = sw_post_consent_signed(&tb, Signing::WrongKey).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "SIGNATURE_INVALID");
    // Tampered Digest: sign one body, send another.
    let mut hm = reqwest::header::HeaderMap::new();
    hm.insert("x-request-id", rid().parse().unwrap());
    psd2_security::SigningHook::new(test_identity())
        .sign_headers(&mut hm, b"{}")
        .unwrap();
    let pairs: Vec<(String, String)> = hm
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let pairs_ref: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = tb
        .call_signed(
            Bank::Swedbank,
            "POST",
            "/v1/consents",
            &pairs_ref,
            Body::Json(bg_consent_body(4)),
            Signing::None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "SIGNATURE_INVALID");
    // Properly signed: accepted.
    let r = tb
        .post(
            Bank::Swedbank,
            "/v1/consents",
            &sw_headers(None),
            bg_consent_body(4),
        )
        .await;
    assert_eq!(r.status, 201);

    // With require_signatures(false) unsigned requests pass.
    let tb2 = Tb::start(flows_builder().require_signatures(false)).await;
    let r = sw_post_consent_signed(&tb2, Signing::None).await;
    assert_eq!(r.status, 201);
}

/// Decoupled SCA chosen by `TPP-Redirect-Preferred: false`: two polls started, then
/// finalised, or failed for reject-1.
async fn decoupled_sca_by_preference(tb: &Tb) {
    for (psu, expect) in [("corporate-1", "finalised"), ("reject-1", "failed")] {
        let cid = sw_create_consent(tb, Some(psu), 4).await;
        let r = sw_start_authorisation(tb, &cid, ("TPP-Redirect-Preferred", "false")).await;
        assert_eq!(r.status, 201);
        assert_eq!(r.json()["scaApproach"], "DECOUPLED");
        let href = r.text_at("/_links/scaStatus/href");
        let mut states = Vec::new();
        for _ in 0..3 {
            let r = tb.get(Bank::Swedbank, &href, &sw_headers(None)).await;
            states.push(r.text_at("/scaStatus"));
        }
        assert_eq!(states, ["started", "started", expect]);
    }
}

/// Redirect SCA the PSU rejects: `error=access_denied` back, the consent rejected.
async fn redirect_rejected_by_the_psu(tb: &Tb) {
    let cid = sw_create_consent(tb, None, 4).await;
    let r = sw_start_authorisation(tb, &cid, ("TPP-Redirect-URI", "https://tpp.example/cb")).await;
    let href = r.text_at("/_links/scaRedirect/href");
    let r = tb
        .page(Bank::Swedbank, &format!("{href}&state=n&decision=reject"))
        .await;
    assert_eq!(r.location_query()["error"], "access_denied");
    let r = tb
        .get(
            Bank::Swedbank,
            &format!("/v1/consents/{cid}"),
            &sw_headers(None),
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "rejected");
}
