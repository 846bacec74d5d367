//! Registry banks: every profile setting makes the sandbox answer as such a bank would
//! (Berlin Group NextGenPSD2 status codes and error codes), and every answer fits
//! `specs/berlingroup/berlingroup.yaml`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bg;

use std::collections::HashSet;

use bg::{Bg, Signing, days_back, profile_toml, start, today};
use chrono::Days;
use serde_json::{Value, json};

/// Every page of an account's transactions from `date_from`: the entries' JSON and the
/// number of pages.
async fn all_pages(
    bg: &Bg,
    id: &str,
    cid: &str,
    account: &str,
    query: &str,
) -> (Vec<Value>, usize) {
    let page_size = bg.entry(id).profile.transactions.page_size as usize;
    let mut next = Some(format!("/v1/accounts/{account}/transactions?{query}"));
    let (mut entries, mut pages) = (Vec::new(), 0);
    while let Some(url) = next.take() {
        let r = bg.get(id, &url, &[("Consent-ID", cid)]).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        let mut n = 0;
        for list in ["pending", "booked"] {
            for t in v["transactions"][list].as_array().into_iter().flatten() {
                entries.push(t.clone());
                n += 1;
            }
        }
        assert!(
            n <= page_size,
            "a page of {n} entries, page size {page_size}"
        );
        pages += 1;
        next = v
            .pointer("/transactions/_links/next/href")
            .and_then(Value::as_str)
            .map(str::to_string);
        assert!(pages < 1000, "paging does not end");
    }
    (entries, pages)
}

#[tokio::test]
async fn redirect_bank_pages_by_its_page_size_over_its_history() {
    let text = profile_toml(&[
        ("profile.transactions.page_size", "7"),
        ("profile.transactions.history_days", "365"),
    ]);
    let bg = start(&[("pagebank", text)]).await;
    let cid = bg.valid_consent("pagebank").await;
    let account = bg.first_account("pagebank", &cid).await;
    let rid = account["resourceId"].as_str().unwrap();
    assert_eq!(account["bic"], "TESTDEFF", "the registry entry's BIC");
    let from = days_back(365);
    let (entries, pages) = all_pages(
        &bg,
        "pagebank",
        &cid,
        rid,
        &format!("bookingStatus=both&dateFrom={from}"),
    )
    .await;
    // Independent count: the account's generated history, entry by entry.
    let bank = bg.sb.registry_bank("pagebank").unwrap();
    let acc = bank
        .fixtures()
        .account(psd2_sandbox::banks::berlingroup::HOST, rid)
        .unwrap();
    let from_date = today() - Days::new(365);
    let expected = (0..acc.history)
        .map(|i| acc.transaction(bank.fixtures(), i))
        .filter(|t| !t.booked || t.booking_date.is_some_and(|d| d >= from_date))
        .count();
    assert!(
        expected > 7 * 3,
        "enough entries to need pages ({expected})"
    );
    assert_eq!(entries.len(), expected);
    assert_eq!(pages, expected.div_ceil(7));
    let ids: HashSet<&str> = entries
        .iter()
        .map(|t| t["transactionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), entries.len(), "no entry twice");
    // Details of one booked entry by its link.
    let booked = entries
        .iter()
        .find(|t| t.get("balanceAfterTransaction").is_some())
        .unwrap();
    let details = bg
        .get(
            "pagebank",
            booked["_links"]["transactionDetails"]["href"]
                .as_str()
                .unwrap(),
            &[("Consent-ID", &cid)],
        )
        .await;
    assert_eq!(details.status, 200);
    assert_eq!(
        details.json()["transactionsDetails"]["transactionId"],
        booked["transactionId"]
    );
    // Further back than the bank's 365 days: 400 PERIOD_INVALID.
    let r = bg
        .get(
            "pagebank",
            &format!(
                "/v1/accounts/{rid}/transactions?bookingStatus=booked&dateFrom={}",
                days_back(366)
            ),
            &[("Consent-ID", &cid)],
        )
        .await;
    assert_eq!(r.error(), (400, "PERIOD_INVALID".into()));
}

#[tokio::test]
async fn an_approach_the_profile_does_not_offer_is_refused() {
    let decoupled = profile_toml(&[("sca_approaches", r#"["decoupled"]"#)]);
    let redirect = profile_toml(&[
        ("sca_approaches", r#"["redirect"]"#),
        ("bics", r#"["REDIDEFF"]"#),
    ]);
    let bg = start(&[("appbank", decoupled), ("redirbank", redirect)]).await;
    let cid = bg.consent("appbank").await;
    let r = bg
        .start_auth(
            "appbank",
            &cid,
            &[("TPP-Redirect-Preferred", "true")],
            json!({}),
        )
        .await;
    assert_eq!(r.error(), (400, "SCA_METHOD_UNKNOWN".into()));
    // Without a wish the bank's own approach; decoupled: started, started, then finalised.
    let r = bg.start_auth("appbank", &cid, &[], json!({})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("aspsp-sca-approach").as_deref(), Some("DECOUPLED"));
    let status = r.text("/_links/scaStatus/href");
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(bg.get("appbank", &status, &[]).await.text("/scaStatus"));
    }
    assert_eq!(seen, ["started", "started", "finalised"]);
    let st = bg
        .get("appbank", &format!("/v1/consents/{cid}/status"), &[])
        .await;
    assert_eq!(st.text("/consentStatus"), "valid");
    // A redirect-only bank refuses decoupled and embedded wishes.
    let cid = bg.consent("redirbank").await;
    for (h, body) in [
        (("TPP-Decoupled-Preferred", "true"), json!({})),
        (("TPP-Redirect-Preferred", "false"), json!({})),
        (
            ("X-Other", "1"),
            json!({"psuData": {"password": psd2_sandbox::EMBEDDED_PASSWORD}}),
        ),
    ] {
        let r = bg.start_auth("redirbank", &cid, &[h], body).await;
        assert_eq!(r.error(), (400, "SCA_METHOD_UNKNOWN".into()));
    }
    let auths = bg
        .get(
            "redirbank",
            &format!("/v1/consents/{cid}/authorisations"),
            &[],
        )
        .await;
    assert_eq!(auths.json()["authorisationIds"], json!([]));
}

#[tokio::test]
async fn embedded_sca_takes_password_method_and_code() {
    let text = profile_toml(&[
        ("sca_approaches", r#"["embedded"]"#),
        ("psu_id", r#""required""#),
    ]);
    let bg = start(&[("embank", text)]).await;
    // PSU-ID is required on consent creation.
    let r = bg
        .post_consent(
            "embank",
            &[],
            json!({"allPsd2": "allAccounts"}),
            4,
            "2026-09-30",
        )
        .await;
    assert_eq!(r.error(), (400, "FORMAT_ERROR".into()));
    let cid = bg.consent("embank").await;
    let r = bg
        .start_auth(
            "embank",
            &cid,
            &[("PSU-ID", "private-1")],
            json!({"psuData": {"password": psd2_sandbox::EMBEDDED_PASSWORD}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("aspsp-sca-approach").as_deref(), Some("EMBEDDED"));
    let v = r.json();
    assert_eq!(v["scaStatus"], "psuAuthenticated");
    assert_eq!(
        v["scaMethods"][0],
        json!({"authenticationMethodId": "sms-otp", "authenticationType": "SMS_OTP", "name": "SMS"})
    );
    assert_eq!(v["scaMethods"][1]["authenticationType"], "CHIP_OTP");
    let auth = v["_links"]["selectAuthenticationMethod"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    // The code before the method is out of order: 409 STATUS_INVALID.
    let r = bg
        .call(
            "embank",
            "PUT",
            &auth,
            &[],
            Some(json!({"scaAuthenticationData": "123456"})),
        )
        .await;
    assert_eq!(r.error(), (409, "STATUS_INVALID".into()));
    let r = bg
        .call(
            "embank",
            "PUT",
            &auth,
            &[],
            Some(json!({"authenticationMethodId": "sms-otp"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["scaStatus"], "scaMethodSelected");
    assert_eq!(v["chosenScaMethod"]["authenticationMethodId"], "sms-otp");
    assert_eq!(v["challengeData"]["otpMaxLength"], 6);
    assert_eq!(v["challengeData"]["otpFormat"], "integer");
    let authorise = v["_links"]["authoriseTransaction"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let r = bg
        .call(
            "embank",
            "PUT",
            &authorise,
            &[],
            Some(json!({"scaAuthenticationData": psd2_sandbox::EMBEDDED_OTP})),
        )
        .await;
    assert_eq!(r.text("/scaStatus"), "finalised");
    assert_eq!(
        bg.get("embank", &auth, &[]).await.text("/scaStatus"),
        "finalised"
    );
    let accounts = bg
        .get("embank", "/v1/accounts", &[("Consent-ID", &cid)])
        .await;
    assert_eq!(accounts.status, 200);

    // A wrong code: 401 SCA_INVALID, the authorisation failed, the consent rejected.
    let cid = bg.consent("embank").await;
    let r = bg
        .start_auth("embank", &cid, &[("PSU-ID", "private-1")], json!({}))
        .await;
    assert_eq!(r.text("/scaStatus"), "psuIdentified");
    let auth = r.text("/_links/updatePsuAuthentication/href");
    let pw = json!({"psuData": {"password": psd2_sandbox::EMBEDDED_PASSWORD}});
    assert_eq!(
        bg.call("embank", "PUT", &auth, &[], Some(pw))
            .await
            .text("/scaStatus"),
        "psuAuthenticated"
    );
    let r = bg
        .call(
            "embank",
            "PUT",
            &auth,
            &[],
            Some(json!({"authenticationMethodId": "photo-otp"})),
        )
        .await;
    assert_eq!(r.error(), (400, "SCA_METHOD_UNKNOWN".into()));
    bg.call(
        "embank",
        "PUT",
        &auth,
        &[],
        Some(json!({"authenticationMethodId": "chip-otp"})),
    )
    .await;
    let r = bg
        .call(
            "embank",
            "PUT",
            &auth,
            &[],
            Some(json!({"scaAuthenticationData": "000000"})),
        )
        .await;
    assert_eq!(r.error(), (401, "SCA_INVALID".into()));
    assert_eq!(
        bg.get("embank", &auth, &[]).await.text("/scaStatus"),
        "failed"
    );
    let st = bg
        .get("embank", &format!("/v1/consents/{cid}/status"), &[])
        .await;
    assert_eq!(st.text("/consentStatus"), "rejected");

    // A wrong password: 401 PSU_CREDENTIALS_INVALID.
    let cid = bg.consent("embank").await;
    let r = bg
        .start_auth(
            "embank",
            &cid,
            &[("PSU-ID", "private-1")],
            json!({"psuData": {"password": "guess"}}),
        )
        .await;
    assert_eq!(r.error(), (401, "PSU_CREDENTIALS_INVALID".into()));
}

#[tokio::test]
async fn a_signing_bank_refuses_unsigned_and_wrongly_signed_requests() {
    let text = profile_toml(&[("profile.security.signatures", "true")]);
    let bg = start(&[("signbank", text)]).await;
    let body = json!({"access": {"allPsd2": "allAccounts"}, "recurringIndicator": true,
        "validUntil": "2026-09-30", "frequencyPerDay": 4, "combinedServiceIndicator": false});
    for (signing, code) in [
        (Signing::None, "SIGNATURE_MISSING"),
        (Signing::WrongKey, "SIGNATURE_INVALID"),
    ] {
        let r = bg
            .call_signed(
                "signbank",
                "POST",
                "/v1/consents",
                &[],
                Some(body.clone()),
                signing,
            )
            .await;
        assert_eq!(r.error(), (401, code.into()));
    }
    let cid = bg.valid_consent("signbank").await;
    let r = bg
        .call_signed(
            "signbank",
            "GET",
            "/v1/accounts",
            &[("Consent-ID", &cid)],
            None,
            Signing::None,
        )
        .await;
    assert_eq!(r.error(), (401, "SIGNATURE_MISSING".into()));
    assert_eq!(
        bg.get("signbank", "/v1/accounts", &[("Consent-ID", &cid)])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn ids_that_change_on_booking_and_hooks_change_the_entries() {
    let unstable = profile_toml(&[
        ("profile.transactions.ids_stable_across_booking", "false"),
        (
            "hooks",
            r#"["entry_reference_as_transaction_id", "value_date_for_pending"]"#,
        ),
    ]);
    let plain = profile_toml(&[("bics", r#"["PLAIDEFF"]"#)]);
    let bg = start(&[("idbank", unstable), ("plainbank", plain)]).await;
    let mut seen = Vec::new();
    for id in ["idbank", "plainbank"] {
        let cid = bg.valid_consent(id).await;
        let account = bg.first_account(id, &cid).await;
        let rid = account["resourceId"].as_str().unwrap().to_string();
        let r = bg
            .get(
                id,
                &format!(
                    "/v1/accounts/{rid}/transactions?bookingStatus=both&dateFrom={}",
                    days_back(3)
                ),
                &[("Consent-ID", &cid)],
            )
            .await;
        let v = r.json();
        let pending = v["transactions"]["pending"][0].clone();
        let booked = v["transactions"]["booked"][0].clone();
        // Details of the pending entry through its own link.
        let href = pending["_links"]["transactionDetails"]["href"]
            .as_str()
            .unwrap();
        let d = bg.get(id, href, &[("Consent-ID", &cid)]).await;
        assert_eq!(d.status, 200, "{id}");
        seen.push((pending, booked, d.json()["transactionsDetails"].clone()));
    }
    let (pending, booked, details) = &seen[0];
    assert!(
        pending.get("transactionId").is_none(),
        "only entryReference"
    );
    assert!(booked.get("transactionId").is_none());
    assert!(
        pending["entryReference"]
            .as_str()
            .unwrap()
            .starts_with("pending-")
    );
    assert!(pending.get("bookingDate").is_none(), "value date stands in");
    assert_eq!(details["entryReference"], pending["entryReference"]);
    let (pending, booked, _) = &seen[1];
    assert!(pending["transactionId"].is_string() && booked["transactionId"].is_string());
    assert!(
        !pending["transactionId"]
            .as_str()
            .unwrap()
            .starts_with("pending-")
    );
    assert_eq!(
        pending["bookingDate"], pending["valueDate"],
        "the expected booking day"
    );
}

#[tokio::test]
async fn card_accounts_where_the_profile_offers_them() {
    let text = profile_toml(&[
        ("profile.accounts.card_accounts", "true"),
        ("profile.transactions.page_size", "25"),
    ]);
    let bg = start(&[("cardbank", text)]).await;
    let cid = bg.valid_consent("cardbank").await;
    let consent = [("Consent-ID", cid.as_str())];
    let list = bg.get("cardbank", "/v1/card-accounts", &consent).await;
    assert_eq!(list.status, 200);
    let card = list.json()["cardAccounts"][0].clone();
    assert!(card["maskedPan"].as_str().unwrap().contains("****"));
    let rid = card["resourceId"].as_str().unwrap();
    let b = bg
        .get(
            "cardbank",
            &format!("/v1/card-accounts/{rid}/balances"),
            &consent,
        )
        .await;
    assert_eq!(b.status, 200);
    let d = bg
        .get("cardbank", &format!("/v1/card-accounts/{rid}"), &consent)
        .await;
    assert_eq!(d.json()["cardAccount"]["resourceId"], card["resourceId"]);
    let mut next = Some(format!(
        "/v1/card-accounts/{rid}/transactions?bookingStatus=both&dateFrom={}",
        days_back(730)
    ));
    let mut ids = HashSet::new();
    while let Some(url) = next.take() {
        let r = bg.get("cardbank", &url, &consent).await;
        let v = r.json();
        for list in ["pending", "booked"] {
            for t in v["cardTransactions"][list].as_array().into_iter().flatten() {
                assert!(ids.insert(t["cardTransactionId"].as_str().unwrap().to_string()));
            }
        }
        next = v
            .pointer("/cardTransactions/_links/next/href")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    // The fixture card accounts hold 60 entries each.
    assert_eq!(ids.len(), 60);
    // A payment account id is not a card account.
    let acc = bg.first_account("cardbank", &cid).await;
    let r = bg
        .get(
            "cardbank",
            &format!("/v1/card-accounts/{}", acc["resourceId"].as_str().unwrap()),
            &consent,
        )
        .await;
    assert_eq!(r.error(), (404, "RESOURCE_UNKNOWN".into()));
}

#[tokio::test]
async fn consents_are_per_bank_and_per_tpp() {
    let a = profile_toml(&[]);
    let b = profile_toml(&[("bics", r#"["OTHRDEFF"]"#)]);
    let bg = start(&[("banka", a), ("bankb", b)]).await;
    let cid = bg.valid_consent("banka").await;
    // The account list is the PSU's accounts as `/admin/accounts` lists them for the bank.
    let listed = bg
        .get("banka", "/v1/accounts", &[("Consent-ID", &cid)])
        .await
        .json();
    let admin: Value = reqwest::get(format!("{}/admin/accounts", bg.sb.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids = |v: &Value, pick: &dyn Fn(&Value) -> bool| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|a| pick(a))
            .map(|a| a["resourceId"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&listed["accounts"], &|_| true),
        ids(&admin["bg/banka"]["private-1"], &|a| a["kind"] == "payment")
    );
    assert_ne!(
        admin["bg/banka"], admin["bg/bankb"],
        "each bank its own data"
    );
    let r = bg
        .get("bankb", "/v1/accounts", &[("Consent-ID", &cid)])
        .await;
    assert_eq!(r.error(), (403, "CONSENT_UNKNOWN".into()));
    let r = bg
        .call("banka", "DELETE", &format!("/v1/consents/{cid}"), &[], None)
        .await;
    assert_eq!(r.status, 204);
    let st = bg
        .get("banka", &format!("/v1/consents/{cid}/status"), &[])
        .await;
    assert_eq!(st.text("/consentStatus"), "terminatedByTpp");
    let r = bg
        .get("banka", "/v1/accounts", &[("Consent-ID", &cid)])
        .await;
    assert_eq!(r.error(), (401, "CONSENT_INVALID".into()));
}

#[tokio::test]
async fn the_embedded_registry_is_served_by_default() {
    let sb = psd2_sandbox::Sandbox::builder()
        .build()
        .start()
        .await
        .unwrap();
    let registry = psd2_sandbox::Registry::embedded().unwrap();
    let http = reqwest::Client::new();
    for entry in registry.entries() {
        let url = sb.registry_url(entry);
        assert_eq!(url, format!("{}{}", sb.base_url(), entry.sandbox_path()));
        if !entry.sandbox_is_generic() {
            continue;
        }
        assert!(sb.registry_bank(&entry.id).is_some(), "{} served", entry.id);
        // Unsigned, no X-Request-ID, no Consent-ID: refused by the bank, in its error shape.
        let (status, code) = if entry.profile.security.signatures {
            (401, "SIGNATURE_MISSING")
        } else {
            (400, "FORMAT_ERROR")
        };
        let r = http.get(format!("{url}/v1/accounts")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{}", entry.id);
        let v: Value = r.json().await.unwrap();
        let found = v.pointer("/tppMessages/0/code").or_else(|| v.get("code"));
        assert_eq!(
            found.and_then(Value::as_str),
            Some(code),
            "{}: {v}",
            entry.id
        );
    }
}
