//! Full flows per bank over plain HTTP; every answer is checked against the bank's spec.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Days;
use common::*;
use psd2_sandbox::{Bank, Sandbox};
use serde_json::{Value, json};

const HISTORY: u64 = 10_000;

fn builder() -> psd2_sandbox::SandboxBuilder {
    Sandbox::builder().seed(42).page_size(1000)
}

fn two_years_back(tb: &Tb) -> String {
    (tb.sb.fixtures().today() - Days::new(800)).to_string()
}

#[tokio::test]
async fn handelsbanken_redirect_flow_accounts_cards_and_all_pages() {
    let tb = Tb::start(builder()).await;
    let (cid, token) = hb_psu_token(&tb, "private-1").await;
    let mut h = hb_headers(&token);
    h.push(("PSU-IP-Address", "10.0.0.1".into()));

    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            &format!("/openbanking/psd2/v1/consents/{cid}/status"),
            &refs(&hb_headers(&hb_ccg(&tb).await)),
            Body::None,
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "VALID");

    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts",
            &refs(&h),
            Body::None,
        )
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
        .call(
            Bank::Handelsbanken,
            "GET",
            &format!("/openbanking/psd2/v2/accounts/{main}"),
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["balances"].as_array().unwrap().len(), 2);

    // All pages of the two-year history: needs a fresh SCA (we just did one).
    let mut url = format!(
        "/openbanking/psd2/v2/accounts/{main}/transactions?dateFrom={}",
        two_years_back(&tb)
    );
    let (mut count, mut pages, mut pending) = (0u64, 0, 0);
    loop {
        let r = tb
            .call(Bank::Handelsbanken, "GET", &url, &refs(&h), Body::None)
            .await;
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
    assert_eq!(count, HISTORY);
    assert_eq!(pages, 10);
    assert_eq!(pending, 3);

    // Card accounts.
    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v1/card-accounts",
            &refs(&h),
            Body::None,
        )
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
            .call(
                Bank::Handelsbanken,
                "GET",
                &format!("/openbanking/psd2/v1/card-accounts/{card}{path}"),
                &refs(&h),
                Body::None,
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.json());
    }
    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            &format!("/openbanking/psd2/v1/card-accounts/{card}/transactions?bookingStatus=booked"),
            &refs(&h),
            Body::None,
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
        .call(
            Bank::Handelsbanken,
            "GET",
            &format!("/openbanking/psd2/v2/accounts/{card}"),
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn handelsbanken_codes_refresh_and_token_errors() {
    let tb = Tb::start(builder().token_ttl(std::time::Duration::from_secs(60))).await;
    let ccg = hb_ccg(&tb).await;
    let cid = hb_create_consent(&tb, &ccg).await;
    let page = format!(
        "/openbanking/redirect/oauth2/authorize/1.0?response_type=code&scope=AIS:{cid}&client_id=client-1&state=abc&redirect_uri=https://tpp.example/cb"
    );
    let r = tb
        .send(
            Bank::Handelsbanken,
            "GET",
            &page,
            &[],
            Body::None,
            Signing::None,
        )
        .await;
    let q = r.location_query();
    assert_eq!(q["state"], "abc");
    let code = q["code"].clone();
    // Wrong redirect_uri: rejected, and the code is then spent.
    let bad = format!(
        "grant_type=authorization_code&code={code}&client_id=client-1&redirect_uri=https://evil.example/cb"
    );
    let r = tb
        .call(
            Bank::Handelsbanken,
            "POST",
            "/mlurd/oauth2/token/1.0",
            &[],
            Body::Form(bad),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    let good = format!(
        "grant_type=authorization_code&code={code}&client_id=client-1&redirect_uri=https://tpp.example/cb"
    );
    let r = tb
        .call(
            Bank::Handelsbanken,
            "POST",
            "/mlurd/oauth2/token/1.0",
            &[],
            Body::Form(good.clone()),
        )
        .await;
    assert_eq!(r.status, 400, "codes are single use");

    // A fresh code works once.
    let r = tb
        .send(
            Bank::Handelsbanken,
            "GET",
            &page,
            &[],
            Body::None,
            Signing::None,
        )
        .await;
    let code = r.location_query()["code"].clone();
    let form = format!(
        "grant_type=authorization_code&code={code}&client_id=client-1&redirect_uri=https://tpp.example/cb"
    );
    let r = tb
        .call(
            Bank::Handelsbanken,
            "POST",
            "/mlurd/oauth2/token/1.0",
            &[],
            Body::Form(form.clone()),
        )
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["scope"], format!("AIS:{cid}"));
    assert_eq!(v["expires_in"], 60);
    let token = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    let r = tb
        .call(
            Bank::Handelsbanken,
            "POST",
            "/mlurd/oauth2/token/1.0",
            &[],
            Body::Form(form),
        )
        .await;
    assert_eq!(r.status, 400);

    // The token expires; refresh gives a new one.
    let mut h = hb_headers(&token);
    h.push(("PSU-IP-Address", "10.0.0.1".into()));
    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts",
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 200);
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 61})))
        .await;
    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts",
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["errors"][0]["code"], "TOKEN_EXPIRED");
    let r = tb
        .call(
            Bank::Handelsbanken,
            "POST",
            "/mlurd/oauth2/token/1.0",
            &[],
            Body::Form(format!(
                "grant_type=refresh_token&refresh_token={refresh}&client_id=client-1"
            )),
        )
        .await;
    assert_eq!(r.status, 200);
    let token2 = r.json()["access_token"].as_str().unwrap().to_string();
    let mut h = hb_headers(&token2);
    h.push(("PSU-IP-Address", "10.0.0.1".into()));
    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts",
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 200);

    // Client credentials token on an account call: 401. Missing Country: 400.
    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts",
            &refs(&hb_headers(&hb_ccg(&tb).await)),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 401);
    let no_country: Vec<_> = h.iter().filter(|(k, _)| *k != "Country").cloned().collect();
    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts",
            &refs(&no_country),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = tb
        .call(
            Bank::Handelsbanken,
            "POST",
            "/mlurd/oauth2/token/1.0",
            &[],
            Body::Form("grant_type=password".into()),
        )
        .await;
    assert_eq!(r.json()["error"], "unsupported_grant_type");

    // Delete: TERMINATED_BY_TPP, and the PSU token no longer works.
    let ccg = hb_ccg(&tb).await;
    let r = tb
        .call(
            Bank::Handelsbanken,
            "DELETE",
            &format!("/openbanking/psd2/v1/consents/{cid}"),
            &refs(&hb_headers(&ccg)),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            &format!("/openbanking/psd2/v1/consents/{cid}"),
            &refs(&hb_headers(&ccg)),
            Body::None,
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "TERMINATED_BY_TPP");
    let r = tb
        .call(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts",
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn handelsbanken_decoupled_and_rejections() {
    let tb = Tb::start(builder().decoupled_pending_polls(3)).await;
    let ccg = hb_ccg(&tb).await;
    for (psu, expect) in [("corporate-1", "COMPLETE"), ("reject-1", "FAILED")] {
        let cid = hb_create_consent(&tb, &ccg).await;
        let r = tb
            .call(
                Bank::Handelsbanken,
                "POST",
                "/mlurd/decoupled/mbid/initAuthorization/2.0",
                &refs(&hb_headers(&ccg)),
                Body::Json(json!({"consentId": cid, "personalId": psu})),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["status"], "PENDING");
        let poll = r.json()["_links"]["poll"]["href"]
            .as_str()
            .unwrap()
            .to_string();
        let mut n = 0;
        let last: Value = loop {
            n += 1;
            let r = tb
                .call(
                    Bank::Handelsbanken,
                    "GET",
                    &poll,
                    &refs(&hb_headers(&ccg)),
                    Body::None,
                )
                .await;
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
            .call(
                Bank::Handelsbanken,
                "GET",
                &format!("/openbanking/psd2/v1/consents/{cid}/status"),
                &refs(&hb_headers(&ccg)),
                Body::None,
            )
            .await;
        if expect == "COMPLETE" {
            assert_eq!(status.json()["consentStatus"], "VALID");
            let token = last["access_token"].as_str().unwrap();
            let r = tb
                .call(
                    Bank::Handelsbanken,
                    "GET",
                    "/openbanking/psd2/v2/accounts",
                    &refs(&hb_headers(token)),
                    Body::None,
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
        let r = tb
            .send(
                Bank::Handelsbanken,
                "GET",
                &page,
                &[],
                Body::None,
                Signing::None,
            )
            .await;
        let q = r.location_query();
        assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
        assert_eq!(q["state"], "q");
        assert!(!q.contains_key("code"));
    }
}

#[tokio::test]
async fn openpayments_decoupled_flow_accounts_balances_paged_transactions_details() {
    let tb = Tb::start(builder().decoupled_pending_polls(2)).await;
    let token = op_token(&tb).await;
    let cid = op_create_consent(&tb, &token, "private-1", 4).await;
    let (status, polls) = op_decoupled(&tb, &token, &cid).await;
    assert_eq!((status.as_str(), polls), ("finalised", 3));
    let h = op_headers(&token, Some(&cid));
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            &format!("/psd2/consent/v1/consents/{cid}"),
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "valid");
    assert!(r.header("x-request-id").is_some());

    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            "/psd2/accountinformation/v1/accounts?withBalance=true",
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 200);
    let accounts = r.json()["accounts"].as_array().unwrap().clone();
    assert_eq!(accounts.len(), 4);
    assert!(
        accounts
            .iter()
            .all(|a| a["balances"].as_array().unwrap().len() == 3)
    );
    let main = accounts[0]["resourceId"].as_str().unwrap().to_string();
    for path in ["", "?withBalance=true", "/balances"] {
        let r = tb
            .call(
                Bank::OpenPayments,
                "GET",
                &format!("/psd2/accountinformation/v1/accounts/{main}{path}"),
                &refs(&h),
                Body::None,
            )
            .await;
        assert_eq!(r.status, 200, "{path}");
    }

    let mut url = format!(
        "/psd2/accountinformation/v1/accounts/{main}/transactions?bookingStatus=both&dateFrom={}",
        two_years_back(&tb)
    );
    let (mut booked, mut pending) = (0u64, 0u64);
    let mut seen = std::collections::HashSet::new();
    let mut structured = 0;
    let mut exchange = 0;
    let mut first_detail = None;
    loop {
        let r = tb
            .call(Bank::OpenPayments, "GET", &url, &refs(&h), Body::None)
            .await;
        assert_eq!(r.status, 200, "{:?}", r.json());
        let v = r.json();
        for t in v["transactions"]["booked"].as_array().unwrap() {
            booked += 1;
            assert!(seen.insert(t["transactionId"].as_str().unwrap().to_string()));
            assert!(t["balanceAfterTransaction"]["balanceAmount"]["amount"].is_string());
            structured += usize::from(t.get("remittanceInformationStructuredArray").is_some());
            exchange += usize::from(t.get("currencyExchange").is_some());
            if first_detail.is_none() && t.get("currencyExchange").is_some() {
                first_detail = Some(
                    t["_links"]["transactionDetails"]["href"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
        }
        pending += v["transactions"]["pending"].as_array().unwrap().len() as u64;
        match v["transactions"]["_links"]["next"]["href"].as_str() {
            Some(n) => {
                assert!(n.contains("continuationKey="));
                url = n.to_string();
            }
            None => break,
        }
    }
    assert_eq!(booked + pending, HISTORY);
    assert_eq!(pending, 3);
    assert!(
        structured > 100 && exchange > 100,
        "{structured} {exchange}"
    );
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            &first_detail.unwrap(),
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["currencyExchange"][0]["exchangeFeeAmount"].is_string());
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            &format!("/psd2/accountinformation/v1/accounts/{main}/transactions/nope"),
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 404);

    // A date range: every entry inside it, count matches a brute-force count.
    let today = tb.sb.fixtures().today();
    let (from, to) = (today - Days::new(60), today - Days::new(30));
    let r = tb.call(Bank::OpenPayments, "GET", &format!("/psd2/accountinformation/v1/accounts/{main}/transactions?bookingStatus=booked&dateFrom={from}&dateTo={to}"), &refs(&h), Body::None).await;
    let list = r.json()["transactions"]["booked"]
        .as_array()
        .unwrap()
        .clone();
    assert!(list.iter().all(|t| {
        let d = t["bookingDate"].as_str().unwrap();
        d >= from.to_string().as_str() && d <= to.to_string().as_str()
    }));
    let acc = tb
        .sb
        .fixtures()
        .account(Bank::OpenPayments, &main)
        .unwrap()
        .clone();
    let expected = (0..acc.booked_count())
        .filter(|i| {
            let d = acc.booked_date(tb.sb.fixtures(), *i);
            d >= from && d <= to
        })
        .count();
    assert_eq!(list.len(), expected);
}

#[tokio::test]
async fn openpayments_redirect_errors_and_delete() {
    let tb = Tb::start(builder()).await;
    let token = op_token(&tb).await;
    let cid = op_create_consent(&tb, &token, "private-2", 4).await;
    let mut h = op_headers(&token, None);
    h.push(("TPP-Redirect-URI", "https://tpp.example/cb".into()));
    let r = tb
        .call(
            Bank::OpenPayments,
            "POST",
            &format!("/psd2/consent/v1/consents/{cid}/authorisations"),
            &refs(&h),
            Body::Json(json!({"authenticationMethodId": "redirect"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let v = r.json();
    let redirect = v["_links"]["scaRedirect"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let r = tb
        .send(
            Bank::OpenPayments,
            "GET",
            &format!("{redirect}&state=z"),
            &[],
            Body::None,
            Signing::None,
        )
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(r.location_query()["state"], "z");
    let sca = v["_links"]["scaStatus"]["href"].as_str().unwrap();
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            sca,
            &refs(&op_headers(&token, None)),
            Body::None,
        )
        .await;
    assert_eq!(r.json()["scaStatus"], "finalised");
    let hc = op_headers(&token, Some(&cid));
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            "/psd2/accountinformation/v1/accounts",
            &refs(&hc),
            Body::None,
        )
        .await;
    assert_eq!(
        r.json()["accounts"].as_array().unwrap().len(),
        2,
        "private-2 has SEK + EUR"
    );

    // Missing X-BicFi → 400 FORMAT_ERROR; bad bookingStatus → 400; no token → 401.
    let no_bic: Vec<_> = hc
        .iter()
        .filter(|(k, _)| *k != "X-BicFi")
        .cloned()
        .collect();
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            "/psd2/accountinformation/v1/accounts",
            &refs(&no_bic),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["tppMessages"][0]["code"], "FORMAT_ERROR");
    let acc = r.json();
    drop(acc);
    let main = tb
        .call(
            Bank::OpenPayments,
            "GET",
            "/psd2/accountinformation/v1/accounts",
            &refs(&hc),
            Body::None,
        )
        .await
        .json()["accounts"][0]["resourceId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            &format!("/psd2/accountinformation/v1/accounts/{main}/transactions?bookingStatus=all"),
            &refs(&hc),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 400);
    let no_auth: Vec<_> = hc
        .iter()
        .filter(|(k, _)| *k != "Authorization")
        .cloned()
        .collect();
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            "/psd2/accountinformation/v1/accounts",
            &refs(&no_auth),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 401);
    let r = tb
        .call(
            Bank::OpenPayments,
            "POST",
            "/psd2/consent/v1/consents",
            &refs(&op_headers(&token, None)),
            Body::Json(json!({"access": {}})),
        )
        .await;
    assert_eq!(r.status, 400);

    // reject-1 with mbid: failed, consent rejected, AIS refused.
    let cid2 = op_create_consent(&tb, &token, "reject-1", 4).await;
    let (s, _) = op_decoupled(&tb, &token, &cid2).await;
    assert_eq!(s, "failed");
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            &format!("/psd2/consent/v1/consents/{cid2}/status"),
            &refs(&op_headers(&token, None)),
            Body::None,
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "rejected");
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            "/psd2/accountinformation/v1/accounts",
            &refs(&op_headers(&token, Some(&cid2))),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["tppMessages"][0]["code"], "CONSENT_INVALID");

    // Delete → terminatedByTpp.
    let r = tb
        .call(
            Bank::OpenPayments,
            "DELETE",
            &format!("/psd2/consent/v1/consents/{cid}"),
            &refs(&op_headers(&token, None)),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = tb
        .call(
            Bank::OpenPayments,
            "GET",
            &format!("/psd2/consent/v1/consents/{cid}/status"),
            &refs(&op_headers(&token, None)),
            Body::None,
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "terminatedByTpp");
}

#[tokio::test]
async fn swedbank_signed_redirect_and_decoupled_flows() {
    let tb = Tb::start(builder()).await;
    let cid = sw_valid_consent(&tb, "private-1", 4).await;
    let h = sw_headers(Some(&cid));
    let r = tb
        .call(
            Bank::Swedbank,
            "GET",
            &format!("/v1/consents/{cid}/status"),
            &refs(&sw_headers(None)),
            Body::None,
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "valid");
    let r = tb
        .call(
            Bank::Swedbank,
            "GET",
            "/v1/accounts?withBalance=true",
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 200);
    let main = r.json()["accounts"][0]["resourceId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = tb
        .call(
            Bank::Swedbank,
            "GET",
            &format!("/v1/accounts/{main}?withBalance=true"),
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(
        r.json()["account"]["balances"][0]["balanceType"],
        "interimAvailable"
    );
    let r = tb
        .call(
            Bank::Swedbank,
            "GET",
            &format!("/v1/accounts/{main}/balances"),
            &refs(&h),
            Body::None,
        )
        .await;
    assert_eq!(r.status, 200);

    let mut url = format!(
        "/v1/accounts/{main}/transactions?bookingStatus=both&dateFrom={}",
        two_years_back(&tb)
    );
    let mut count = 0u64;
    loop {
        // Absolute next links are signed with their own path and query.
        let r = tb
            .call(
                Bank::Swedbank,
                "GET",
                &url,
                &refs(&sw_headers(Some(&cid))),
                Body::None,
            )
            .await;
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
    assert_eq!(count, HISTORY);

    // Decoupled via TPP-Redirect-Preferred: false; reject-1 fails.
    for (psu, expect) in [("corporate-1", "finalised"), ("reject-1", "failed")] {
        let cid = sw_create_consent(&tb, Some(psu), 4).await;
        let mut h = sw_headers(None);
        h.push(("TPP-Redirect-Preferred", "false".into()));
        let r = tb
            .call(
                Bank::Swedbank,
                "POST",
                &format!("/v1/consents/{cid}/authorisations"),
                &refs(&h),
                Body::Json(json!({})),
            )
            .await;
        assert_eq!(r.status, 201);
        assert_eq!(r.json()["scaApproach"], "DECOUPLED");
        let href = r.json()["_links"]["scaStatus"]["href"]
            .as_str()
            .unwrap()
            .to_string();
        let mut states = Vec::new();
        for _ in 0..3 {
            let r = tb
                .call(
                    Bank::Swedbank,
                    "GET",
                    &href,
                    &refs(&sw_headers(None)),
                    Body::None,
                )
                .await;
            states.push(r.json()["scaStatus"].as_str().unwrap().to_string());
        }
        assert_eq!(states, ["started", "started", expect]);
    }

    // Redirect rejected by the PSU.
    let cid = sw_create_consent(&tb, None, 4).await;
    let mut h = sw_headers(None);
    h.push(("TPP-Redirect-URI", "https://tpp.example/cb".into()));
    let r = tb
        .call(
            Bank::Swedbank,
            "POST",
            &format!("/v1/consents/{cid}/authorisations"),
            &refs(&h),
            Body::Json(json!({})),
        )
        .await;
    let href = r.json()["_links"]["scaRedirect"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let r = tb
        .send(
            Bank::Swedbank,
            "GET",
            &format!("{href}&state=n&decision=reject"),
            &[],
            Body::None,
            Signing::None,
        )
        .await;
    assert_eq!(r.location_query()["error"], "access_denied");
    let r = tb
        .call(
            Bank::Swedbank,
            "GET",
            &format!("/v1/consents/{cid}"),
            &refs(&sw_headers(None)),
            Body::None,
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "rejected");
}

#[tokio::test]
async fn swedbank_requires_valid_signatures() {
    let tb = Tb::start(builder()).await;
    let body = Body::Json(bg_consent_body(4));
    let r = tb
        .call_signed(
            Bank::Swedbank,
            "POST",
            "/v1/consents",
            &refs(&sw_headers(None)),
            body,
            Signing::None,
        )
        .await;
    assert_eq!(r.status, 401);
    let v = r.json();
    assert_eq!(v["system"], "ERA-PSD2");
    assert_eq!(v["status"], 401);
    assert_eq!(v["code"], "SIGNATURE_MISSING");
    let r = tb
        .call_signed(
            Bank::Swedbank,
            "POST",
            "/v1/consents",
            &refs(&sw_headers(None)),
            Body::Json(bg_consent_body(4)),
            Signing::WrongKey,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "SIGNATURE_INVALID");
    // Tampered Digest: sign one body, send another.
    let mut hm = reqwest::header::HeaderMap::new();
    hm.insert("x-request-id", rid().parse().unwrap());
    let id = psd2_security::SigningIdentity::from_pem(
        psd2_security::fixtures::TEST_SIGNING_CERT_PEM,
        psd2_security::fixtures::TEST_SIGNING_KEY_PEM,
    )
    .unwrap();
    psd2_security::SigningHook::new(id)
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
        .call(
            Bank::Swedbank,
            "POST",
            "/v1/consents",
            &refs(&sw_headers(None)),
            Body::Json(bg_consent_body(4)),
        )
        .await;
    assert_eq!(r.status, 201);

    // With require_signatures(false) unsigned requests pass.
    let tb2 = Tb::start(builder().require_signatures(false)).await;
    let r = tb2
        .call_signed(
            Bank::Swedbank,
            "POST",
            "/v1/consents",
            &refs(&sw_headers(None)),
            Body::Json(bg_consent_body(4)),
            Signing::None,
        )
        .await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn a_million_transactions_are_generated_lazily() {
    let tb = Tb::start(
        Sandbox::builder()
            .seed(5)
            .history_size(1_000_000)
            .page_size(500),
    )
    .await;
    let (token, cid) = op_valid_consent(&tb, "private-1", 100).await;
    let h = op_headers(&token, Some(&cid));
    let acc = tb.sb.fixtures().accounts_of(
        Bank::OpenPayments,
        "private-1",
        psd2_sandbox::fixtures::AccountKind::Payment,
    )[0]
    .clone();
    assert_eq!(acc.history, 1_000_000);
    let mut url = format!(
        "/psd2/accountinformation/v1/accounts/{}/transactions?bookingStatus=booked&dateFrom={}",
        acc.resource_id,
        two_years_back(&tb)
    );
    // Newest first: a newer entry's balance is the older entry's balance plus its amount.
    let mut newer: Option<(rust_decimal::Decimal, rust_decimal::Decimal)> = None;
    let mut seen = 0;
    for _ in 0..3 {
        let r = tb
            .call(Bank::OpenPayments, "GET", &url, &refs(&h), Body::None)
            .await;
        let v = r.json();
        let booked = v["transactions"]["booked"].as_array().unwrap();
        assert_eq!(booked.len(), 500);
        for t in booked {
            let bal: rust_decimal::Decimal =
                t["balanceAfterTransaction"]["balanceAmount"]["amount"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
            let amt: rust_decimal::Decimal = t["transactionAmount"]["amount"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            if let Some((newer_bal, newer_amt)) = newer {
                assert_eq!(newer_bal, bal + newer_amt);
                seen += 1;
            }
            newer = Some((bal, amt));
        }
        url = v["transactions"]["_links"]["next"]["href"]
            .as_str()
            .unwrap()
            .to_string();
    }
    assert_eq!(seen, 1499);
}
