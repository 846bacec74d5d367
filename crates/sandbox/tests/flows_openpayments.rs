//! Open Payments' full flows over plain HTTP: decoupled and redirect SCA, accounts,
//! balances, paged transactions and details, errors, and a lazily generated long history.
//! Every answer is checked against the bank's spec.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Days;
use common::*;
use psd2_sandbox::{Bank, Sandbox};
use serde_json::json;

#[tokio::test]
async fn openpayments_decoupled_flow_accounts_balances_paged_transactions_details() {
    let tb = Tb::start(flows_builder().decoupled_pending_polls(2)).await;
    let token = op_token(&tb).await;
    let cid = op_create_consent(&tb, &token, "private-1", 4).await;
    let (status, polls) = op_decoupled(&tb, &token, &cid).await;
    assert_eq!((status.as_str(), polls), ("finalised", 3));
    let h = op_headers(&token, Some(&cid));
    let r = tb
        .get(
            Bank::OpenPayments,
            &format!("/psd2/consent/v1/consents/{cid}"),
            &h,
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "valid");
    assert!(r.header("x-request-id").is_some());

    let r = tb
        .get(
            Bank::OpenPayments,
            "/psd2/accountinformation/v1/accounts?withBalance=true",
            &h,
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
            .get(
                Bank::OpenPayments,
                &format!("/psd2/accountinformation/v1/accounts/{main}{path}"),
                &h,
            )
            .await;
        assert_eq!(r.status, 200, "{path}");
    }

    let (booked, pending, structured, exchange, first_detail) = every_page(&tb, &h, &main).await;
    assert_eq!(booked + pending, FLOW_HISTORY);
    assert_eq!(pending, 3);
    assert!(
        structured > 100 && exchange > 100,
        "{structured} {exchange}"
    );
    let r = tb.get(Bank::OpenPayments, &first_detail.unwrap(), &h).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["currencyExchange"][0]["exchangeFeeAmount"].is_string());
    let r = tb
        .get(
            Bank::OpenPayments,
            &format!("/psd2/accountinformation/v1/accounts/{main}/transactions/nope"),
            &h,
        )
        .await;
    assert_eq!(r.status, 404);

    // A date range: every entry inside it, count matches a brute-force count.
    date_range_matches_a_brute_force_count(&tb, &h, &main).await;
}

#[tokio::test]
async fn openpayments_redirect_errors_and_delete() {
    let tb = Tb::start(flows_builder()).await;
    let token = op_token(&tb).await;
    let cid = op_create_consent(&tb, &token, "private-2", 4).await;
    redirect_sca(&tb, &token, &cid).await;
    let hc = op_headers(&token, Some(&cid));
    let r = tb
        .get(
            Bank::OpenPayments,
            "/psd2/accountinformation/v1/accounts",
            &hc,
        )
        .await;
    assert_eq!(
        r.json()["accounts"].as_array().unwrap().len(),
        2,
        "private-2 has SEK + EUR"
    );

    // Missing X-BicFi → 400 FORMAT_ERROR; bad bookingStatus → 400; no token → 401.
    malformed_requests_are_refused(&tb, &token, &hc).await;

    // reject-1 with mbid: failed, consent rejected, AIS refused.
    let cid2 = op_create_consent(&tb, &token, "reject-1", 4).await;
    let (s, _) = op_decoupled(&tb, &token, &cid2).await;
    assert_eq!(s, "failed");
    let r = op_consent_status(&tb, &token, &cid2).await;
    assert_eq!(r.json()["consentStatus"], "rejected");
    let r = op_accounts(&tb, &token, &cid2).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["tppMessages"][0]["code"], "CONSENT_INVALID");

    // Delete → terminatedByTpp.
    let r = tb
        .delete(
            Bank::OpenPayments,
            &format!("/psd2/consent/v1/consents/{cid}"),
            &op_headers(&token, None),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = op_consent_status(&tb, &token, &cid).await;
    assert_eq!(r.json()["consentStatus"], "terminatedByTpp");
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
    let acc = payment_accounts(&tb, Bank::OpenPayments, "private-1")[0].clone();
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
        let r = tb.get(Bank::OpenPayments, &url, &h).await;
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

/// Reads every page of `main`'s transactions since two years back, checking that booked
/// ids are unique and carry a balance: (booked, pending, booked entries with structured
/// remittance, with a currency exchange, the first one's details link).
async fn every_page(
    tb: &Tb,
    h: &[(&'static str, String)],
    main: &str,
) -> (u64, u64, usize, usize, Option<String>) {
    let mut url = format!(
        "/psd2/accountinformation/v1/accounts/{main}/transactions?bookingStatus=both&dateFrom={}",
        two_years_back(tb)
    );
    let (mut booked, mut pending) = (0u64, 0u64);
    let mut seen = std::collections::HashSet::new();
    let mut structured = 0usize;
    let mut exchange = 0usize;
    let mut first_detail = None;
    loop {
        let r = tb.get(Bank::OpenPayments, &url, h).await;
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
    (booked, pending, structured, exchange, first_detail)
}

/// Booked entries of a 30-day range of `main`: each inside it, as many as the fixtures hold.
async fn date_range_matches_a_brute_force_count(tb: &Tb, h: &[(&'static str, String)], main: &str) {
    let today = tb.sb.fixtures().today();
    let (from, to) = (today - Days::new(60), today - Days::new(30));
    let r = tb.get(Bank::OpenPayments, &format!("/psd2/accountinformation/v1/accounts/{main}/transactions?bookingStatus=booked&dateFrom={from}&dateTo={to}"),  h).await;
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
        .account(Bank::OpenPayments, main)
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

/// Redirect SCA of consent `cid` through the sandbox's page: the state comes back and the
/// SCA is finalised.
async fn redirect_sca(tb: &Tb, token: &str, cid: &str) {
    let mut h = op_headers(token, None);
    h.push(("TPP-Redirect-URI", "https://tpp.example/cb".into()));
    let r = tb
        .post(
            Bank::OpenPayments,
            &format!("/psd2/consent/v1/consents/{cid}/authorisations"),
            &h,
            json!({"authenticationMethodId": "redirect"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let v = r.json();
    let redirect = v["_links"]["scaRedirect"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let r = tb
        .page(Bank::OpenPayments, &format!("{redirect}&state=z"))
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(r.location_query()["state"], "z");
    let sca = v["_links"]["scaStatus"]["href"].as_str().unwrap();
    let r = tb
        .get(Bank::OpenPayments, sca, &op_headers(token, None))
        .await;
    assert_eq!(r.json()["scaStatus"], "finalised");
}

/// A missing `X-BicFi`, an unknown `bookingStatus`, a missing token and a consent without
/// its required fields are refused.
async fn malformed_requests_are_refused(tb: &Tb, token: &str, hc: &[(&'static str, String)]) {
    let no_bic: Vec<_> = without(hc, "X-BicFi");
    let r = tb
        .get(
            Bank::OpenPayments,
            "/psd2/accountinformation/v1/accounts",
            &no_bic,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["tppMessages"][0]["code"], "FORMAT_ERROR");
    let acc = r.json();
    drop(acc);
    let main = tb
        .get(
            Bank::OpenPayments,
            "/psd2/accountinformation/v1/accounts",
            hc,
        )
        .await
        .json()["accounts"][0]["resourceId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = tb
        .get(
            Bank::OpenPayments,
            &format!("/psd2/accountinformation/v1/accounts/{main}/transactions?bookingStatus=all"),
            hc,
        )
        .await;
    assert_eq!(r.status, 400);
    let no_auth: Vec<_> = without(hc, "Authorization");
    let r = tb
        .get(
            Bank::OpenPayments,
            "/psd2/accountinformation/v1/accounts",
            &no_auth,
        )
        .await;
    assert_eq!(r.status, 401);
    let r = tb
        .post(
            Bank::OpenPayments,
            "/psd2/consent/v1/consents",
            &op_headers(token, None),
            json!({"access": {}}),
        )
        .await;
    assert_eq!(r.status, 400);
}
