//! The rules banks enforce: PSU isolation, frequencyPerDay, the 90-day rule, expiry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Days;
use common::*;
use psd2_sandbox::fixtures::AccountKind;
use psd2_sandbox::{Bank, Sandbox};
use serde_json::json;

fn builder() -> psd2_sandbox::SandboxBuilder {
    Sandbox::builder()
        .seed(9)
        .history_size(2_000)
        .page_size(200)
        .decoupled_pending_polls(0)
}

/// Other PSUs' account ids and IBANs at `bank`.
fn foreign(tb: &Tb, bank: Bank, me: &str, kind: AccountKind) -> Vec<(String, Option<String>)> {
    ["private-1", "private-2", "corporate-1", "reject-1"]
        .into_iter()
        .filter(|p| *p != me)
        .flat_map(|p| tb.sb.fixtures().accounts_of(bank, p, kind))
        .map(|a| (a.resource_id.clone(), a.iban.clone()))
        .collect()
}

fn assert_no_leak(r: &Resp, id: &str, iban: &Option<String>) {
    let text = String::from_utf8_lossy(&r.body);
    assert!(
        r.status == 404 || r.status == 403,
        "status {} for a foreign account",
        r.status
    );
    if let Some(i) = iban {
        assert!(!text.contains(i.as_str()), "foreign IBAN leaked: {text}");
    }
    assert!(
        !text.contains("balance")
            && !text.contains("transactionAmount")
            && !text.contains("\"amount\""),
        "data leaked for {id}: {text}"
    );
}

#[tokio::test]
async fn a_consent_never_reaches_another_psus_accounts() {
    let tb = Tb::start(builder()).await;
    // Handelsbanken: private-2's token against everybody else's accounts and cards.
    handelsbanken_private_2_reaches_no_other_account(&tb).await;

    // Open Payments: corporate-1's consent against the others' accounts and transactions.
    let (token, cid) = op_valid_consent(&tb, "corporate-1", 100).await;
    let h = op_headers(&token, Some(&cid));
    let list = tb
        .get(
            Bank::OpenPayments,
            "/psd2/accountinformation/v1/accounts",
            &h,
        )
        .await
        .json();
    assert!(
        list["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["ownerName"] == "Foretaget AB")
    );
    let victim = payment_accounts(&tb, Bank::OpenPayments, "private-1")[0].clone();
    let victim_tx = victim.transaction(tb.sb.fixtures(), 5).id;
    for (id, iban) in foreign(&tb, Bank::OpenPayments, "corporate-1", AccountKind::Payment) {
        for p in [
            "",
            "?withBalance=true",
            "/balances",
            "/transactions?bookingStatus=both",
            &format!("/transactions/{victim_tx}"),
        ] {
            let r = tb
                .get(
                    Bank::OpenPayments,
                    &format!("/psd2/accountinformation/v1/accounts/{id}{p}"),
                    &h,
                )
                .await;
            assert_no_leak(&r, &id, &iban);
        }
    }
    // A consent id of one bank means nothing at another.
    let r = tb
        .get(Bank::Swedbank, "/v1/accounts", &sw_headers(Some(&cid)))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "CONSENT_UNKNOWN");

    // Swedbank: private-1 against the others.
    let cid = sw_valid_consent(&tb, "private-1", 4).await;
    let h = sw_headers(Some(&cid));
    for (id, iban) in foreign(&tb, Bank::Swedbank, "private-1", AccountKind::Payment) {
        for p in [
            "",
            "?withBalance=true",
            "/balances",
            "/transactions?bookingStatus=both",
        ] {
            let r = tb
                .get(Bank::Swedbank, &format!("/v1/accounts/{id}{p}"), &h)
                .await;
            assert_no_leak(&r, &id, &iban);
        }
    }
}

#[tokio::test]
async fn consents_limited_to_listed_ibans() {
    let tb = Tb::start(builder()).await;
    let token = op_token(&tb).await;
    let accs = payment_accounts(&tb, Bank::OpenPayments, "private-1");
    let (first, second) = (accs[0].clone(), accs[1].clone());
    let mut h = op_headers(&token, None);
    h.push(("PSU-ID", "private-1".into()));
    let body = json!({"access": {"accounts": [{"iban": first.iban}], "transactions": [{"iban": first.iban}]},
        "combinedServiceIndicator": false, "frequencyPerDay": 4, "recurringIndicator": true, "validUntil": "2099-01-01"});
    let r = tb
        .post(Bank::OpenPayments, "/psd2/consent/v1/consents", &h, body)
        .await;
    let cid = r.text_at("/consentId");
    assert_eq!(op_decoupled(&tb, &token, &cid).await.0, "finalised");
    let h = op_headers(&token, Some(&cid));
    let list = tb
        .get(
            Bank::OpenPayments,
            "/psd2/accountinformation/v1/accounts",
            &h,
        )
        .await
        .json();
    assert_eq!(list["accounts"].as_array().unwrap().len(), 1);
    let r = tb
        .get(
            Bank::OpenPayments,
            &format!(
                "/psd2/accountinformation/v1/accounts/{}",
                second.resource_id
            ),
            &h,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn swedbank_all_psd2_consent_covers_all_accounts_with_all_access() {
    let tb = Tb::start(builder()).await;
    let body = |access: serde_json::Value| {
        json!({"access": access, "combinedServiceIndicator": false, "frequencyPerDay": 4,
            "recurringIndicator": true, "validUntil": "2099-01-01"})
    };
    // Only `allAccounts`, and never together with account lists.
    let iban = payment_accounts(&tb, Bank::Swedbank, "private-1")[0]
        .iban
        .clone();
    for bad in [
        json!({"allPsd2": "allAccountsWithOwnerName"}),
        json!({"allPsd2": "allAccounts", "accounts": [{"iban": iban}]}),
    ] {
        let r = sw_post_consent(&tb, Some("private-1"), body(bad)).await;
        assert_eq!(r.status, 400, "{:?}", r.json());
        assert_eq!(r.json()["code"], "FORMAT_ERROR");
    }

    let r = sw_post_consent(
        &tb,
        Some("private-1"),
        body(json!({"allPsd2": "allAccounts"})),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let cid = r.text_at("/consentId");
    assert!(
        sw_redirect(&tb, &cid, "private-1")
            .await
            .contains_key("code")
    );
    let r = tb
        .get(
            Bank::Swedbank,
            &format!("/v1/consents/{cid}"),
            &sw_headers(None),
        )
        .await;
    assert_eq!(r.json()["access"], json!({"allPsd2": "allAccounts"}));
    assert_eq!(r.json()["consentStatus"], "valid");

    let h = sw_headers(Some(&cid));
    let list = tb.get(Bank::Swedbank, "/v1/accounts", &h).await.json();
    let accounts = list["accounts"].as_array().unwrap();
    let expected = payment_accounts(&tb, Bank::Swedbank, "private-1").len();
    assert_eq!(accounts.len(), expected);
    for account in accounts {
        let id = account["resourceId"].as_str().unwrap();
        for path in [
            format!("/v1/accounts/{id}/balances"),
            format!("/v1/accounts/{id}/transactions?bookingStatus=booked"),
        ] {
            let r = tb.get(Bank::Swedbank, &path, &h).await;
            assert_eq!(r.status, 200, "{path}: {:?}", r.json());
        }
    }
}

#[tokio::test]
async fn frequency_per_day_counts_unattended_access() {
    let tb = Tb::start(builder()).await;
    let (token, cid) = op_valid_consent(&tb, "private-1", 2).await;
    let unattended: Vec<_> = op_headers(&token, Some(&cid))
        .into_iter()
        .filter(|(k, _)| *k != "PSU-IP-Address")
        .collect();
    for _ in 0..2 {
        let r = tb
            .get(
                Bank::OpenPayments,
                "/psd2/accountinformation/v1/accounts",
                &unattended,
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let r = tb
        .get(
            Bank::OpenPayments,
            "/psd2/accountinformation/v1/accounts",
            &unattended,
        )
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["tppMessages"][0]["code"], "ACCESS_EXCEEDED");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    // With the PSU present it still works.
    let r = op_accounts(&tb, &token, &cid).await;
    assert_eq!(r.status, 200);

    // Swedbank too, and the counter resets the next day.
    let cid = sw_valid_consent(&tb, "private-2", 1).await;
    let un: Vec<_> = sw_headers(Some(&cid))
        .into_iter()
        .filter(|(k, _)| *k != "PSU-IP-Address")
        .collect();
    assert_eq!(
        tb.get(Bank::Swedbank, "/v1/accounts", &un).await.status,
        200
    );
    let r = tb.get(Bank::Swedbank, "/v1/accounts", &un).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["code"], "ACCESS_EXCEEDED");
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 86_400})))
        .await;
    assert_eq!(
        tb.get(Bank::Swedbank, "/v1/accounts", &un).await.status,
        200
    );

    // Handelsbanken consents allow 4 unattended accesses a day.
    let (_, token) = hb_psu_token(&tb, "private-1").await;
    let h = hb_headers(&token);
    for _ in 0..4 {
        assert_eq!(
            tb.get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &h)
                .await
                .status,
            200
        );
    }
    let r = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &h)
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["httpCode"], 429);
}

#[tokio::test]
async fn history_older_than_90_days_needs_a_fresh_sca() {
    let tb = Tb::start(builder().token_ttl(std::time::Duration::from_secs(7200))).await;
    let today = tb.sb.fixtures().today();
    let old = (today - Days::new(120)).to_string();
    let recent = (today - Days::new(89)).to_string();
    let (token, cid) = op_valid_consent(&tb, "private-1", 100).await;
    let acc = payment_accounts(&tb, Bank::OpenPayments, "private-1")[0]
        .resource_id
        .clone();
    let h = op_headers(&token, Some(&cid));
    let path = |from: &str| {
        format!(
            "/psd2/accountinformation/v1/accounts/{acc}/transactions?bookingStatus=booked&dateFrom={from}"
        )
    };
    assert_eq!(
        tb.get(Bank::OpenPayments, &path(&old), &h).await.status,
        200
    );
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 3_601})))
        .await;
    let r = tb.get(Bank::OpenPayments, &path(&old), &h).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["tppMessages"][0]["code"], "SCA_REQUIRED");
    assert_eq!(
        tb.get(Bank::OpenPayments, &path(&recent), &h).await.status,
        200
    );

    // Handelsbanken: same rule, its own error body.
    let (_, token) = hb_psu_token(&tb, "private-1").await;
    let hb_acc = payment_accounts(&tb, Bank::Handelsbanken, "private-1")[0]
        .resource_id
        .clone();
    let mut h = hb_headers(&token);
    h.push(("PSU-IP-Address", "10.0.0.1".into()));
    let p = format!("/openbanking/psd2/v2/accounts/{hb_acc}/transactions?dateFrom={old}");
    assert_eq!(tb.get(Bank::Handelsbanken, &p, &h).await.status, 200);
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 3_601})))
        .await;
    let r = tb.get(Bank::Handelsbanken, &p, &h).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["errors"][0]["code"], "SCA_REQUIRED");
}

#[tokio::test]
async fn consents_expire_and_get_revoked() {
    let tb = Tb::start(builder()).await;
    let (token, cid) = op_valid_consent(&tb, "private-1", 100).await;
    let (s, _) = tb
        .admin("POST", &format!("/consents/{cid}/expire"), None)
        .await;
    assert_eq!(s, 204);
    let h = op_headers(&token, Some(&cid));
    let r = tb
        .get(
            Bank::OpenPayments,
            &format!("/psd2/consent/v1/consents/{cid}/status"),
            &h,
        )
        .await;
    assert_eq!(r.json()["consentStatus"], "expired");
    let r = tb
        .get(
            Bank::OpenPayments,
            "/psd2/accountinformation/v1/accounts",
            &h,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["tppMessages"][0]["code"], "CONSENT_EXPIRED");

    let (_, cid) = op_valid_consent(&tb, "private-1", 100).await;
    assert_eq!(
        tb.admin("POST", &format!("/consents/{cid}/revoke"), None)
            .await
            .0,
        204
    );
    let r = op_consent_status(&tb, &token, &cid).await;
    assert_eq!(r.json()["consentStatus"], "revokedByPsu");

    // validUntil passing expires a Swedbank consent.
    let tomorrow = (tb.sb.fixtures().today() + Days::new(1)).to_string();
    let body = json!({"access": {}, "combinedServiceIndicator": false, "frequencyPerDay": 4, "recurringIndicator": true, "validUntil": tomorrow});
    let mut h = sw_headers(None);
    h.push(("PSU-ID", "private-1".into()));
    let cid = tb
        .post(Bank::Swedbank, "/v1/consents", &h, body)
        .await
        .json()["consentId"]
        .as_str()
        .unwrap()
        .to_string();
    sw_redirect(&tb, &cid, "private-1").await;
    assert_eq!(
        tb.get(Bank::Swedbank, "/v1/accounts", &sw_headers(Some(&cid)))
            .await
            .status,
        200
    );
    tb.admin("POST", "/clock", Some(json!({"advanceSecs": 2 * 86_400})))
        .await;
    let r = sw_consent_status(&tb, &cid).await;
    assert_eq!(r.json()["consentStatus"], "expired");
    assert_eq!(
        tb.get(Bank::Swedbank, "/v1/accounts", &sw_headers(Some(&cid)))
            .await
            .status,
        401
    );
    assert_eq!(tb.admin("POST", "/consents/nope/expire", None).await.0, 404);
}

/// Handelsbanken: private-2's token sees its own two accounts and no card, and none of the
/// other PSUs' accounts or cards.
async fn handelsbanken_private_2_reaches_no_other_account(tb: &Tb) {
    let (_, token) = hb_psu_token(tb, "private-2").await;
    let mut h = hb_headers(&token);
    h.push(("PSU-IP-Address", "10.0.0.2".into()));
    let own: Vec<String> = tb
        .get(Bank::Handelsbanken, "/openbanking/psd2/v2/accounts", &h)
        .await
        .json()["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(own.len(), 2);
    let cards = tb
        .get(
            Bank::Handelsbanken,
            "/openbanking/psd2/v1/card-accounts",
            &h,
        )
        .await
        .json();
    assert_eq!(
        cards["cardAccounts"].as_array().unwrap().len(),
        0,
        "private-2 has no cards"
    );
    for (id, iban) in foreign(tb, Bank::Handelsbanken, "private-2", AccountKind::Payment) {
        assert!(!own.contains(&id));
        for p in ["", "/transactions"] {
            let r = tb
                .get(
                    Bank::Handelsbanken,
                    &format!("/openbanking/psd2/v2/accounts/{id}{p}"),
                    &h,
                )
                .await;
            assert_no_leak(&r, &id, &iban);
        }
    }
    for (id, iban) in foreign(tb, Bank::Handelsbanken, "private-2", AccountKind::Card) {
        for p in ["", "/balances", "/transactions"] {
            let r = tb
                .get(
                    Bank::Handelsbanken,
                    &format!("/openbanking/psd2/v1/card-accounts/{id}{p}"),
                    &h,
                )
                .await;
            assert_no_leak(&r, &id, &iban);
        }
    }
}
