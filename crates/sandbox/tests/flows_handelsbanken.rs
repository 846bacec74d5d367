//! Handelsbanken's full flows over plain HTTP: redirect and decoupled SCA, codes and
//! tokens, accounts, card accounts and every page of a two-year history.
//! Every answer is checked against the bank's spec.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use psd2_sandbox::Bank;
use serde_json::{Value, json};

#[tokio::test]
async fn handelsbanken_redirect_flow_accounts_cards_and_all_pages() {
    let tb = Tb::start(flows_builder()).await;
    let (cid, token) = hb_psu_token(&tb, "private-1").await;
    let mut h = hb_headers(&token);
    h.push(("PSU-IP-Address", "10.0.0.1".into()));

    let r = tb
        .get(
            Bank::Handelsbanken,
            &format!("/openbanking/psd2/v1/consents/{cid}/status"),
            &hb_headers(&hb_ccg(&tb).await),
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "VALID");

    let r = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &h)
        .await;
    assert_eq!(r.status, 200);
    let accounts = r.json()["accounts"].as_array().unwrap().clone();
    let currencies: Vec<&str> = accounts
        .iter()
        .map(|a| a["currency"].as_str().unwrap())
        .collect();
    assert_eq!(currencies, ["SEK", "SEK", "NOK", "EUR"]);
    for a in &accounts {
        use iban::IbanLike;
        let iban: iban::Iban = a["iban"].as_str().unwrap().parse().expect("valid IBAN");
        assert!(["SE", "NO", "FI"].contains(&iban.country_code()));
    }
    let main = accounts[0]["accountId"].as_str().unwrap().to_string();

    let r = tb
        .get(
            Bank::Handelsbanken,
            &format!("/openbanking/psd2/v2/accounts/{main}"),
            &h,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["balances"].as_array().unwrap().len(), 2);

    // All pages of the two-year history: needs a fresh SCA (we just did one).
    let (count, pages, pending) = every_page(&tb, &h, &main).await;
    assert_eq!(count, FLOW_HISTORY);
    assert_eq!(pages, 10);
    assert_eq!(pending, 3);

    card_accounts(&tb, &h).await;
}

#[tokio::test]
async fn handelsbanken_codes_refresh_and_token_errors() {
    let tb = Tb::start(flows_builder().token_ttl(std::time::Duration::from_secs(60))).await;
    let (cid, token, refresh) = codes_are_single_use_and_bound_to_the_redirect(&tb).await;

    // The token expires; refresh gives a new one.
    let mut h = hb_headers(&token);
    h.push(("PSU-IP-Address", "10.0.0.1".into()));
    let r = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &h)
        .await;
    assert_eq!(r.status, 200);
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 61})))
        .await;
    let r = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &h)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["errors"][0]["code"], "TOKEN_EXPIRED");
    let r = hb_token_request(
        &tb,
        format!("grant_type=refresh_token&refresh_token={refresh}&client_id=client-1"),
    )
    .await;
    assert_eq!(r.status, 200);
    let token2 = r.text_at("/access_token");
    let mut h = hb_headers(&token2);
    h.push(("PSU-IP-Address", "10.0.0.1".into()));
    let r = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &h)
        .await;
    assert_eq!(r.status, 200);

    // Client credentials token on an account call: 401. Missing Country: 400.
    let r = tb
        .get(
            Bank::Handelsbanken,
            "/openbanking/psd2/v2/accounts",
            &hb_headers(&hb_ccg(&tb).await),
        )
        .await;
    assert_eq!(r.status, 401);
    let no_country: Vec<_> = without(&h, "Country");
    let r = tb
        .get(
            Bank::Handelsbanken,
            "/openbanking/psd2/v2/accounts",
            &no_country,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = hb_token_request(&tb, "grant_type=password".into()).await;
    assert_eq!(r.json()["error"], "unsupported_grant_type");

    // Delete: TERMINATED_BY_TPP, and the PSU token no longer works.
    let ccg = hb_ccg(&tb).await;
    let r = tb
        .delete(
            Bank::Handelsbanken,
            &format!("/openbanking/psd2/v1/consents/{cid}"),
            &hb_headers(&ccg),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = tb
        .get(
            Bank::Handelsbanken,
            &format!("/openbanking/psd2/v1/consents/{cid}"),
            &hb_headers(&ccg),
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "TERMINATED_BY_TPP");
    let r = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &h)
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn handelsbanken_decoupled_and_rejections() {
    let tb = Tb::start(flows_builder().decoupled_pending_polls(3)).await;
    let ccg = hb_ccg(&tb).await;
    for (psu, expect) in [("corporate-1", "COMPLETE"), ("reject-1", "FAILED")] {
        let cid = hb_create_consent(&tb, &ccg).await;
        let r = tb
            .post(
                Bank::Handelsbanken,
                "/mlurd/decoupled/mbid/initAuthorization/2.0",
                &hb_headers(&ccg),
                json!({"consentId": cid, "personalId": psu}),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["status"], "PENDING");
        let poll = r.text_at("/_links/poll/href");
        let mut n = 0;
        let last: Value = loop {
            n += 1;
            let r = tb.get(Bank::Handelsbanken, &poll, &hb_headers(&ccg)).await;
            assert_eq!(r.status, 200);
            let v = r.json();
            if v["status"] != "PENDING" {
                break v;
            }
            assert!(n < 10);
        };
        assert_eq!(n, 4, "pending 3 times, then final");
        assert_eq!(last["status"], expect);
        let status = tb
            .get(
                Bank::Handelsbanken,
                &format!("/openbanking/psd2/v1/consents/{cid}/status"),
                &hb_headers(&ccg),
            )
            .await;
        if expect == "COMPLETE" {
            assert_eq!(status.json()["consentStatus"], "VALID");
            let token = last["access_token"].as_str().unwrap();
            let r = tb
                .get(
                    Bank::Handelsbanken,
                    "/openbanking/psd2/v2/accounts",
                    &hb_headers(token),
                )
                .await;
            let v = r.json();
            let names: Vec<&str> = v["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["ownerName"].as_str().unwrap())
                .collect();
            assert!(names.iter().all(|n| *n == "Foretaget AB"), "{names:?}");
        } else {
            assert_eq!(status.json()["consentStatus"], "REJECTED");
            assert!(last.get("access_token").is_none());
        }
    }
    // Redirect with decision=reject (or reject-1) ends with error=access_denied.
    for extra in ["&decision=reject", "&psu_id=reject-1"] {
        let cid = hb_create_consent(&tb, &ccg).await;
        let page = format!(
            "/openbanking/redirect/oauth2/authorize/1.0?response_type=code&scope=AIS:{cid}&client_id=client-1&state=q&redirect_uri=https://tpp.example/cb{extra}"
        );
        let r = tb.page(Bank::Handelsbanken, &page).await;
        let q = r.location_query();
        assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
        assert_eq!(q["state"], "q");
        assert!(!q.contains_key("code"));
    }
}

/// Reads every page of `main`'s transactions since two years back: (entries, pages,
/// pending entries).
async fn every_page(tb: &Tb, h: &[(&'static str, String)], main: &str) -> (u64, u64, usize) {
    let mut url = format!(
        "/openbanking/psd2/v2/accounts/{main}/transactions?dateFrom={}",
        two_years_back(tb)
    );
    let (mut count, mut pages, mut pending) = (0u64, 0u64, 0usize);
    loop {
        let r = tb.get(Bank::Handelsbanken, &url, h).await;
        assert_eq!(r.status, 200, "{:?}", r.json());
        let v = r.json();
        let list = v["transactions"].as_array().unwrap();
        assert!(list.len() <= 1000);
        count += list.len() as u64;
        pending += list.iter().filter(|t| t["status"] == "PENDING").count();
        pages += 1;
        match v["_links"]["next"]["href"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    (count, pages, pending)
}

/// The PSU's one card account: details, balances and transactions, booked only without
/// pending entries, and not found under the payment-account paths.
async fn card_accounts(tb: &Tb, h: &[(&'static str, String)]) {
    let r = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v1/card-accounts", h)
        .await;
    let cards = r.json()["cardAccounts"].as_array().unwrap().clone();
    assert_eq!(cards.len(), 1);
    let card = cards[0]["accountId"].as_str().unwrap();
    assert!(
        cards[0]["cards"][0]["maskedPan"]
            .as_str()
            .unwrap()
            .contains("****")
    );
    for path in ["", "/balances", "/transactions?bookingStatus=both"] {
        let r = tb
            .get(
                Bank::Handelsbanken,
                &format!("/openbanking/psd2/v1/card-accounts/{card}{path}"),
                h,
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.json());
    }
    let r = tb
        .get(
            Bank::Handelsbanken,
            &format!("/openbanking/psd2/v1/card-accounts/{card}/transactions?bookingStatus=booked"),
            h,
        )
        .await;
    assert!(
        r.json()["cardTransactions"]["pending"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A payment-account path with the card id is not found.
    let r = tb
        .get(
            Bank::Handelsbanken,
            &format!("/openbanking/psd2/v2/accounts/{card}"),
            h,
        )
        .await;
    assert_eq!(r.status, 404);
}

/// A code is refused for another redirect URI and spent by it, and a fresh one works
/// once: (consent id, access token, refresh token).
async fn codes_are_single_use_and_bound_to_the_redirect(tb: &Tb) -> (String, String, String) {
    let ccg = hb_ccg(tb).await;
    let cid = hb_create_consent(tb, &ccg).await;
    let page = format!(
        "/openbanking/redirect/oauth2/authorize/1.0?response_type=code&scope=AIS:{cid}&client_id=client-1&state=abc&redirect_uri=https://tpp.example/cb"
    );
    let r = tb.page(Bank::Handelsbanken, &page).await;
    let q = r.location_query();
    assert_eq!(q["state"], "abc");
    let code = q["code"].clone();
    // Wrong redirect_uri: rejected, and the code is then spent.
    let bad = format!(
        "grant_type=authorization_code&code={code}&client_id=client-1&redirect_uri=https://evil.example/cb"
    );
    let r = hb_token_request(tb, bad).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    let good = format!(
        "grant_type=authorization_code&code={code}&client_id=client-1&redirect_uri=https://tpp.example/cb"
    );
    let r = hb_token_request(tb, good.clone()).await;
    assert_eq!(r.status, 400, "codes are single use");

    // A fresh code works once.
    let r = tb.page(Bank::Handelsbanken, &page).await;
    let code = r.location_query()["code"].clone();
    let form = format!(
        "grant_type=authorization_code&code={code}&client_id=client-1&redirect_uri=https://tpp.example/cb"
    );
    let r = hb_token_request(tb, form.clone()).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["scope"], format!("AIS:{cid}"));
    assert_eq!(v["expires_in"], 60);
    let token = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    let r = hb_token_request(tb, form).await;
    assert_eq!(r.status, 400);
    (cid, token, refresh)
}
