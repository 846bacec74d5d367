//! The generated raw client `psd2-raw-berlingroup` against a registry bank of the sandbox:
//! consent, embedded SCA, accounts and every page of transactions, and an error body.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bg;

use std::collections::HashSet;

use bg::{profile_toml, registry, today};
use chrono::Days;
use psd2_hooks::Hooks;
use psd2_raw_berlingroup::{Client, Error, types};
use psd2_sandbox::Sandbox;
use uuid::Uuid;

fn rid() -> Uuid {
    Uuid::new_v4()
}

#[tokio::test]
async fn raw_client_consent_embedded_sca_accounts_and_pages() {
    let text = profile_toml(&[
        ("sca_approaches", r#"["embedded", "redirect"]"#),
        ("error_shape", r#""problem_json""#),
        ("profile.transactions.page_size", "40"),
        (
            "profile.transactions.booking_statuses",
            r#"["booked", "pending"]"#,
        ),
    ]);
    let reg = registry(&[("rawbank", text)]);
    let entry = reg.entries()[0].clone();
    let sb = Sandbox::builder()
        .seed(5)
        .today(today())
        .registry(reg)
        .build()
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let c = Client::new_with_client(&sb.registry_url(&entry), http.clone(), Hooks::new());
    let consent = c
        .create_consent()
        .x_request_id(rid())
        .psu_id("private-1")
        .body_map(|b| {
            b.access(types::AccountAccess::builder().all_psd2(Some(
                types::AllAccountsAccess::from("allAccounts".to_string()),
            )))
            .recurring_indicator(true)
            .valid_until(today() + Days::new(60))
            .frequency_per_day(4u64)
            .combined_service_indicator(false)
        })
        .send()
        .await
        .unwrap();
    assert_eq!(
        consent.headers().get("aspsp-sca-approach").unwrap(),
        "EMBEDDED"
    );
    let cid = consent.into_inner().consent_id;
    let started = c
        .start_consent_authorisation()
        .x_request_id(rid())
        .consent_id(cid.clone())
        .psu_id("private-1")
        .body_map(|b| {
            b.psu_data(Some(types::PsuData {
                password: Some(psd2_sandbox::EMBEDDED_PASSWORD.to_string()),
                ..Default::default()
            }))
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.sca_status.0, "psuAuthenticated");
    let methods: Vec<&str> = started
        .sca_methods
        .iter()
        .map(|m| m.authentication_method_id.as_str())
        .collect();
    assert_eq!(methods, ["sms-otp", "chip-otp"]);
    let auth = started.authorisation_id;
    let put = |body: types::AuthorisationRequest| {
        c.update_consents_psu_data()
            .x_request_id(rid())
            .consent_id(cid.clone())
            .authorisation_id(auth.clone())
            .body(body)
            .send()
    };
    let selected = put(types::AuthorisationRequest {
        authentication_method_id: Some("sms-otp".into()),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(selected.sca_status.0, "scaMethodSelected");
    assert_eq!(selected.challenge_data.unwrap().otp_max_length, Some(6));
    let done = put(types::AuthorisationRequest {
        sca_authentication_data: Some(psd2_sandbox::EMBEDDED_OTP.into()),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(done.sca_status.0, "finalised");

    let accounts = c
        .get_account_list()
        .x_request_id(rid())
        .consent_id(cid.clone())
        .psu_ip_address("192.0.2.1")
        .send()
        .await
        .unwrap()
        .into_inner()
        .accounts;
    assert_eq!(accounts.len(), 4, "private-1's four payment accounts");
    let account = accounts[0].resource_id.clone().unwrap();
    let from = today() - Days::new(180);
    let first = c
        .get_transaction_list()
        .x_request_id(rid())
        .consent_id(cid.clone())
        .psu_ip_address("192.0.2.1")
        .account_id(account.clone())
        .booking_status(types::BookingStatus::Booked)
        .date_from(from)
        .send()
        .await
        .unwrap()
        .into_inner();
    // Follow `_links.next` (absolute URLs) with the raw crate's types.
    let mut report = first.transactions.unwrap();
    let mut ids = HashSet::new();
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(report.booked.len() <= 40);
        for t in &report.booked {
            assert!(t.booking_date.unwrap() >= from);
            assert!(
                ids.insert(t.transaction_id.clone().unwrap()),
                "no entry twice"
            );
        }
        let Some(next) = report.links.and_then(|l| l.next).and_then(|n| n.href) else {
            break;
        };
        let page: types::TransactionsResponse = http
            .get(&next)
            .header("x-request-id", rid().to_string())
            .header("consent-id", &cid)
            .header("psu-ip-address", "192.0.2.1")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        report = page.transactions.unwrap();
    }
    assert!(pages > 1, "more than one page ({} entries)", ids.len());
    // The generated history from `from` on, counted independently of the pages.
    let bank = sb.registry_bank("rawbank").unwrap();
    let acc = bank
        .fixtures()
        .account(psd2_sandbox::banks::berlingroup::HOST, &account)
        .unwrap();
    let expected = (0..acc.history)
        .map(|i| acc.transaction(bank.fixtures(), i))
        .filter(|t| t.booking_date.is_some_and(|d| d >= from))
        .count();
    assert_eq!(ids.len(), expected);

    // `both` is not offered: a problem+json error the raw crate reads.
    let refused = c
        .get_transaction_list()
        .x_request_id(rid())
        .consent_id(cid.clone())
        .account_id(account)
        .booking_status(types::BookingStatus::Both)
        .send()
        .await;
    match refused {
        Err(Error::ErrorResponse(e)) => {
            assert_eq!(e.status().as_u16(), 400);
            assert_eq!(e.code.as_ref().unwrap().0, "PARAMETER_NOT_SUPPORTED");
        }
        other => panic!("expected a 400 error body, got {other:?}"),
    }
}
