//! Registry banks: the profile settings that make the bank refuse a request, in the
//! bank's own error shape and codes (and the hand-written Swedbank against its profile).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bg;

use bg::{Bg, Signing, days_back, profile_toml, start, today};
use chrono::Days;
use serde_json::json;

fn strict_profile() -> String {
    profile_toml(&[
        ("error_shape", r#""problem_json""#),
        ("psu_ip_address", r#""required""#),
        ("profile.consent.scopes", r#"["all_psd2"]"#),
        ("profile.consent.max_frequency_per_day", "2"),
        ("profile.consent.max_valid_days", "30"),
        ("profile.accounts.with_balance", "false"),
        ("profile.transactions.booking_statuses", r#"["booked"]"#),
        ("profile.transactions.history_days", "90"),
        ("profile.transactions.details", "false"),
        ("profile.extra_headers.X-Platform-Bank", r#""strict""#),
    ])
}

#[tokio::test]
async fn a_strict_profile_refuses_what_the_bank_refuses_as_problem_json() {
    let mut bg = start(&[("strict", strict_profile())]).await;
    // The platform header is missing: 400 in the bank's problem+json shape.
    let r = bg
        .get("strict", "/v1/accounts", &[("Consent-ID", "x")])
        .await;
    assert_eq!(r.error(), (400, "FORMAT_ERROR".into()));
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    assert_eq!(
        r.json()["type"],
        "https://berlingroup.com/error-codes/FORMAT_ERROR"
    );
    bg.always.push(("X-Platform-Bank".into(), "strict".into()));
    let r = bg
        .get(
            "strict",
            "/v1/accounts",
            &[("Consent-ID", "x"), ("PSU-IP-Address", "")],
        )
        .await;
    assert_eq!(
        r.error(),
        (400, "FORMAT_ERROR".into()),
        "PSU-IP-Address is required"
    );
    // Consent rules: scope kind, frequencyPerDay, validUntil (shortened to 30 days).
    let detailed = json!({"accounts": [], "balances": [], "transactions": []});
    let r = bg
        .post_consent("strict", &[], detailed, 2, "2026-07-15")
        .await;
    assert_eq!(r.error(), (400, "SERVICE_INVALID".into()));
    let r = bg
        .post_consent(
            "strict",
            &[],
            json!({"allPsd2": "allAccounts"}),
            3,
            "2026-07-15",
        )
        .await;
    assert_eq!(r.error(), (400, "FORMAT_ERROR".into()));
    let r = bg
        .post_consent(
            "strict",
            &[],
            json!({"allPsd2": "allAccounts"}),
            2,
            "2027-12-31",
        )
        .await;
    assert_eq!(r.status, 201);
    let cid = r.text("/consentId");
    let info = bg.get("strict", &format!("/v1/consents/{cid}"), &[]).await;
    assert_eq!(
        info.text("/validUntil"),
        (today() + Days::new(30)).to_string()
    );
    bg.redirect_sca("strict", &cid).await;
    let account = bg.first_account("strict", &cid).await;
    let rid = account["resourceId"].as_str().unwrap();
    let consent = [("Consent-ID", cid.as_str())];
    let tx = |q: &str| format!("/v1/accounts/{rid}/transactions?{q}");
    for (path, expected) in [
        (tx("bookingStatus=both"), (400, "PARAMETER_NOT_SUPPORTED")),
        (
            tx("bookingStatus=pending"),
            (400, "PARAMETER_NOT_SUPPORTED"),
        ),
        (tx("bookingStatus=nonsense"), (400, "FORMAT_ERROR")),
        (
            tx(&format!("bookingStatus=booked&dateFrom={}", days_back(91))),
            (400, "PERIOD_INVALID"),
        ),
        (
            tx("bookingStatus=booked&withBalance=true"),
            (400, "PARAMETER_NOT_SUPPORTED"),
        ),
        (
            "/v1/accounts?withBalance=true".to_string(),
            (400, "PARAMETER_NOT_SUPPORTED"),
        ),
        ("/v1/card-accounts".to_string(), (405, "SERVICE_INVALID")),
        (
            format!("/v1/accounts/{rid}/transactions/abc"),
            (405, "SERVICE_INVALID"),
        ),
    ] {
        let r = bg.get("strict", &path, &consent).await;
        assert_eq!(r.error(), (expected.0, expected.1.to_string()), "{path}");
    }
    let ok = bg
        .get(
            "strict",
            &tx(&format!("bookingStatus=booked&dateFrom={}", days_back(90))),
            &consent,
        )
        .await;
    assert_eq!(ok.status, 200);
    assert!(ok.json()["transactions"].get("pending").is_none());
    // No transaction details link where the bank has no details.
    assert!(
        ok.json()["transactions"]["booked"][0]
            .get("_links")
            .is_none()
    );
}

#[tokio::test]
async fn unattended_calls_past_frequency_per_day_get_the_banks_own_code() {
    let text = profile_toml(&[
        ("profile.consent.max_frequency_per_day", "2"),
        ("profile.error_codes.DAILY_LIMIT", r#""access_exceeded""#),
    ]);
    let bg = start(&[("limitbank", text)]).await;
    let r = bg
        .post_consent(
            "limitbank",
            &[("PSU-ID", "private-1")],
            json!({"allPsd2": "allAccounts"}),
            2,
            "2026-09-30",
        )
        .await;
    let cid = r.text("/consentId");
    bg.redirect_sca("limitbank", &cid).await;
    let unattended = [("Consent-ID", cid.as_str()), ("PSU-IP-Address", "")];
    for _ in 0..2 {
        assert_eq!(
            bg.get("limitbank", "/v1/accounts", &unattended)
                .await
                .status,
            200
        );
    }
    let r = bg.get("limitbank", "/v1/accounts", &unattended).await;
    assert_eq!(r.error(), (429, "DAILY_LIMIT".into()));
    assert!(r.header("retry-after").is_some());
    // With the PSU present the call is not counted.
    assert_eq!(
        bg.get("limitbank", "/v1/accounts", &[("Consent-ID", &cid)])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn admin_ends_registry_consents_and_the_bank_says_why_in_its_own_codes() {
    let text = profile_toml(&[
        (
            "profile.error_codes.CONSENT_REVOKED_BY_PSU",
            r#""consent_revoked""#,
        ),
        (
            "profile.error_codes.CONSENT_TIMED_OUT",
            r#""consent_expired""#,
        ),
    ]);
    let bg = start(&[("ownbank", text)]).await;
    let http = reqwest::Client::new();
    for (action, code) in [
        ("revoke", "CONSENT_REVOKED_BY_PSU"),
        ("expire", "CONSENT_TIMED_OUT"),
    ] {
        let cid = bg.valid_consent("ownbank").await;
        let admin = format!("{}/admin/consents/{cid}/{action}", bg.sb.base_url());
        assert_eq!(
            http.post(admin).send().await.unwrap().status().as_u16(),
            204
        );
        let r = bg
            .get("ownbank", "/v1/accounts", &[("Consent-ID", &cid)])
            .await;
        assert_eq!(r.error(), (401, code.into()), "{action}");
    }
}

#[tokio::test]
async fn a_flat_code_message_bank_names_its_platform() {
    let text = profile_toml(&[("error_shape", r#""code_message""#)]);
    let bg = start(&[("flatbank", text)]).await;
    let r = bg
        .get("flatbank", "/v1/accounts", &[("Consent-ID", "unknown")])
        .await;
    assert_eq!(r.status, 403);
    let v = r.json();
    assert_eq!(v["code"], "CONSENT_UNKNOWN");
    assert_eq!(v["status"], 403);
    assert_eq!(v["system"], "TESTPLATFORM");
    assert!(v["message"].is_string() && v["id"].is_string());
}

#[tokio::test]
async fn the_hand_written_swedbank_keeps_its_profiles_consent_limits() {
    let registry = psd2_sandbox::Registry::embedded().unwrap();
    let profile = registry.find("swedbank").unwrap().profile.clone();
    let bg = Bg::start(registry).await;
    let max = profile.consent.max_frequency_per_day;
    let r = bg
        .post_consent(
            "swedbank",
            &[("PSU-ID", "private-1")],
            json!({"allPsd2": "allAccounts"}),
            max + 1,
            "2026-09-30",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "FORMAT_ERROR");
    let r = bg
        .post_consent(
            "swedbank",
            &[("PSU-ID", "private-1")],
            json!({"allPsd2": "allAccounts"}),
            max,
            "2099-12-31",
        )
        .await;
    assert_eq!(r.status, 201);
    let cid = r.text("/consentId");
    let info = bg
        .get("swedbank", &format!("/v1/consents/{cid}"), &[])
        .await;
    let latest = today() + Days::new(u64::from(profile.consent.max_valid_days));
    assert_eq!(info.text("/validUntil"), latest.to_string());
    assert_eq!(info.json()["frequencyPerDay"], max);
    // dateFrom: the profile's whole history, not a day more.
    bg.redirect_sca("swedbank", &cid).await;
    let account = bg.first_account("swedbank", &cid).await;
    let rid = account["resourceId"].as_str().unwrap();
    let days = u64::from(profile.transactions.history_days);
    for (back, status) in [(days, 200), (days + 1, 400)] {
        let path = format!(
            "/v1/accounts/{rid}/transactions?bookingStatus=booked&dateFrom={}",
            days_back(back)
        );
        // Swedbank's own entry shape (its spec, not ours): no contract check here.
        let url = bg.url("swedbank", &path);
        let r = bg
            .send(&url, "GET", &[("Consent-ID", &cid)], None, Signing::Good)
            .await;
        assert_eq!(r.status, status, "{back} days back");
        if status == 400 {
            assert_eq!(r.json()["code"], "PERIOD_INVALID");
        }
    }
}

#[tokio::test]
async fn a_psu_context_bank_refuses_an_unknown_context() {
    let text = profile_toml(&[(
        "hooks",
        r#"["psu_context_header", "open_ended_valid_until"]"#,
    )]);
    let bg = start(&[("ctxbank", text)]).await;
    let access = json!({"allPsd2": "allAccounts"});
    let r = bg
        .post_consent(
            "ctxbank",
            &[("PSU-Context", "FAMILY")],
            access.clone(),
            4,
            "9999-12-31",
        )
        .await;
    assert_eq!(r.error(), (400, "FORMAT_ERROR".into()));
    let r = bg
        .post_consent(
            "ctxbank",
            &[("PSU-Context", "PRIVATE")],
            access,
            4,
            "9999-12-31",
        )
        .await;
    assert_eq!(r.status, 201);
    let info = bg
        .get(
            "ctxbank",
            &format!("/v1/consents/{}", r.text("/consentId")),
            &[],
        )
        .await;
    assert_eq!(
        info.text("/validUntil"),
        (today() + Days::new(180)).to_string(),
        "the maximum"
    );
}
