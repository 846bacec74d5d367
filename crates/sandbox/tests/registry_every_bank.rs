//! Every bank of the embedded registry that the sandbox serves from its profile: a whole
//! flow with the consent scope and SCA approach its profile offers, every answer checked
//! against `specs/berlingroup/berlingroup.yaml`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bg;

use std::collections::HashSet;

use bg::{Bg, today};
use chrono::Days;
use psd2_registry::{ConsentScopeKind, Requirement, ScaApproachKind};
use psd2_sandbox::Registry;
use serde_json::{Value, json};

/// Authorises consent `cid` at bank `id` by its profile's first SCA approach.
async fn sca(bg: &Bg, id: &str, cid: &str) {
    let psu = [("PSU-ID", "private-1")];
    match bg.entry(id).profile.sca_approaches[0] {
        ScaApproachKind::Redirect => bg.redirect_sca(id, cid).await,
        ScaApproachKind::Decoupled => {
            let r = bg
                .start_auth(id, cid, &[("TPP-Decoupled-Preferred", "true")], json!({}))
                .await;
            assert_eq!(r.status, 201, "{id}");
            let status = r.text("/_links/scaStatus/href");
            let mut last = String::new();
            for _ in 0..5 {
                last = bg.get(id, &status, &[]).await.text("/scaStatus");
                if last == "finalised" {
                    break;
                }
            }
            assert_eq!(last, "finalised", "{id}");
        }
        ScaApproachKind::Embedded => {
            let pw = json!({"psuData": {"password": psd2_sandbox::EMBEDDED_PASSWORD}});
            let r = bg.start_auth(id, cid, &psu, pw).await;
            let href = r.text("/_links/selectAuthenticationMethod/href");
            let r = bg
                .call(
                    id,
                    "PUT",
                    &href,
                    &[],
                    Some(json!({"authenticationMethodId": "sms-otp"})),
                )
                .await;
            let href = r.text("/_links/authoriseTransaction/href");
            let otp = json!({"scaAuthenticationData": psd2_sandbox::EMBEDDED_OTP});
            let r = bg.call(id, "PUT", &href, &[], Some(otp)).await;
            assert_eq!(r.text("/scaStatus"), "finalised", "{id}");
        }
    }
}

/// The access object of the widest scope the profile accepts.
fn access(bg: &Bg, id: &str) -> Value {
    let scopes = &bg.entry(id).profile.consent.scopes;
    if scopes.contains(&ConsentScopeKind::AllPsd2) {
        json!({"allPsd2": "allAccounts"})
    } else if scopes.contains(&ConsentScopeKind::Detailed) {
        json!({"accounts": [], "balances": [], "transactions": []})
    } else {
        json!({"availableAccounts": "allAccounts"})
    }
}

async fn whole_flow(bg: &Bg, id: &str) {
    let profile = bg.entry(id).profile.clone();
    let mut headers = vec![];
    if profile.psu_id != Requirement::NotUsed {
        headers.push(("PSU-ID", "private-1"));
    }
    let r = bg
        .post_consent(
            id,
            &headers,
            access(bg, id),
            profile.consent.max_frequency_per_day,
            "2026-08-30",
        )
        .await;
    assert_eq!(r.status, 201, "{id}: {}", String::from_utf8_lossy(&r.body));
    let cid = r.text("/consentId");
    sca(bg, id, &cid).await;
    let mut h = headers.clone();
    h.push(("Consent-ID", &cid));
    let list = bg.get(id, "/v1/accounts", &h).await;
    assert_eq!(list.status, 200, "{id}");
    let accounts = list.json()["accounts"].as_array().unwrap().clone();
    assert_eq!(
        accounts.len(),
        4,
        "{id}: private-1 has four payment accounts"
    );
    let rid = accounts[0]["resourceId"].as_str().unwrap();
    let b = bg
        .get(id, &format!("/v1/accounts/{rid}/balances"), &h)
        .await;
    assert_eq!(b.status, 200, "{id}");
    let from = today() - Days::new(u64::from(profile.transactions.history_days));
    let mut next = Some(format!(
        "/v1/accounts/{rid}/transactions?bookingStatus=booked&dateFrom={from}"
    ));
    let (mut ids, mut pages) = (HashSet::new(), 0);
    let mut first = None;
    while let Some(url) = next.take() {
        let r = bg.get(id, &url, &h).await;
        assert_eq!(r.status, 200, "{id}: {}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        let booked = v["transactions"]["booked"].as_array().unwrap().clone();
        assert!(
            booked.len() <= profile.transactions.page_size as usize,
            "{id}"
        );
        for t in &booked {
            let key = t
                .get("transactionId")
                .or_else(|| t.get("entryReference"))
                .unwrap();
            assert!(
                ids.insert(key.as_str().unwrap().to_string()),
                "{id}: an entry twice"
            );
        }
        first = first.or_else(|| booked.first().cloned());
        pages += 1;
        next = v
            .pointer("/transactions/_links/next/href")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let bank = bg.sb.registry_bank(id).unwrap();
    let acc = bank
        .fixtures()
        .account(psd2_sandbox::banks::berlingroup::HOST, rid)
        .unwrap();
    let expected = (0..acc.history)
        .map(|i| acc.transaction(bank.fixtures(), i))
        .filter(|t| t.booking_date.is_some_and(|d| d >= from))
        .count();
    assert_eq!(ids.len(), expected, "{id}");
    assert_eq!(
        pages,
        expected
            .div_ceil(profile.transactions.page_size as usize)
            .max(1),
        "{id}"
    );
    let first = first.unwrap();
    match first
        .pointer("/_links/transactionDetails/href")
        .and_then(Value::as_str)
    {
        Some(href) => {
            assert!(profile.transactions.details, "{id}");
            assert_eq!(bg.get(id, href, &h).await.status, 200, "{id}");
        }
        None => assert!(!profile.transactions.details, "{id}"),
    }
    let cards = bg.get(id, "/v1/card-accounts", &h).await;
    let expected_status = if profile.accounts.card_accounts {
        200
    } else {
        405
    };
    assert_eq!(cards.status, expected_status, "{id}");
}

#[tokio::test]
async fn every_embedded_registry_bank_runs_the_whole_flow() {
    let registry = Registry::embedded().unwrap();
    let ids: Vec<String> = registry
        .entries()
        .iter()
        .filter(|e| e.sandbox_is_generic())
        .map(|e| e.id.clone())
        .collect();
    assert!(ids.len() >= 6, "at least six registry banks: {ids:?}");
    let mut bg = Bg::start(registry.clone()).await;
    // The headers some bank needs on every call (the SCA steps included).
    bg.always
        .push(("PSU-IP-Address".into(), "192.0.2.7".into()));
    for e in registry.entries() {
        bg.always.extend(e.profile.extra_headers.clone());
    }
    for id in &ids {
        whole_flow(&bg, id).await;
    }
}
