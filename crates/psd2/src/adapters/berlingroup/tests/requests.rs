//! Building the adapter and what consent creation and AIS calls send.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{Days, Utc};
use psd2_registry::{ConsentScopeKind, Requirement};
use psd2_security::SigningIdentity;
use psd2_security::fixtures::{TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM};
use serde_json::json;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::account::IbanOrRaw;
use crate::adapters::common::TransportConfig;
use crate::api::{AccountInformation, Bank, Consents};
use crate::consent::ConsentRequest;
use crate::error::ErrorKind;

async fn consent_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/consents"))
        .respond_with(ResponseTemplate::new(201).set_body_json(consent_created()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/consents/consent-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(consent_info()))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn signatures_required_without_identity_is_an_error_naming_the_bank() {
    let server = MockServer::start().await;
    let signed = entry(|e| e.profile.security.signatures = true);
    let error = BerlinGroup::new(signed.clone(), config(&server)).unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(error.to_string().contains("testbank"), "{error}");
    assert!(error.detail().unwrap().contains("signatures"));

    // With an identity every request carries the Berlin Group signature headers.
    let identity = SigningIdentity::from_pem(TEST_SIGNING_CERT_PEM, TEST_SIGNING_KEY_PEM).unwrap();
    let bank = BerlinGroup::new(signed, config(&server).with_signing(identity)).unwrap();
    Mock::given(method("GET"))
        .and(path("/v1/consents/consent-1/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"consentStatus": "valid"})))
        .mount(&server)
        .await;
    let status = bank
        .consent_status(&ConsentId::new("consent-1"), &Psu::absent())
        .await
        .unwrap();
    assert_eq!(status, crate::ConsentStatus::Valid);
    let sent = &server.received_requests().await.unwrap()[0];
    for name in [
        "digest",
        "signature",
        "tpp-signature-certificate",
        "date",
        "x-request-id",
    ] {
        assert!(header(sent, name).is_some(), "{name} missing");
    }
}

#[tokio::test]
async fn mtls_required_over_https_needs_a_client_identity() {
    let mtls = entry(|e| e.profile.security.mtls = true);
    let https = BerlinGroupConfig::new(Url::parse("https://api.testbank.example").unwrap());
    let error = BerlinGroup::new(mtls.clone(), https).unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(error.detail().unwrap().contains("mtls"));
    let with_client = BerlinGroupConfig::new(Url::parse("https://api.testbank.example").unwrap())
        .with_transport(TransportConfig::with_client(reqwest::Client::new()));
    BerlinGroup::new(mtls.clone(), with_client).unwrap();
    // A plain-http local sandbox has no TLS at all.
    BerlinGroup::new(
        mtls,
        BerlinGroupConfig::new(Url::parse("http://127.0.0.1:1").unwrap()),
    )
    .unwrap();
}

#[tokio::test]
async fn the_bank_name_is_the_registry_id() {
    let server = MockServer::start().await;
    let boxed = crate::registry::adapter(&entry(|_| {}), config(&server)).unwrap();
    assert_eq!(boxed.name(), "testbank");
    assert!(boxed.as_card_account_information().is_none());
    let cards = bank(&server, |e| e.profile.accounts.card_accounts = true);
    assert!(cards.as_card_account_information().is_some());
    assert!(cards.entry().profile.transactions.ids_stable_across_booking);
}

#[tokio::test]
async fn consent_limits_are_capped_at_the_profile() {
    let server = consent_server().await;
    let bank = bank(&server, |e| {
        e.profile.consent.max_frequency_per_day = 2;
        e.profile.consent.max_valid_days = 90;
    });
    let request = ConsentRequest::all_accounts().frequency_per_day(10);
    let created = bank.create_consent(&request, &present()).await.unwrap();
    assert_eq!(created.consent.id.expose(), "consent-1");
    assert_eq!(
        created.consent.frequency_per_day,
        Some(4),
        "what the bank granted"
    );
    let sent = &server.received_requests().await.unwrap()[0];
    let sent = body(sent);
    assert_eq!(sent["frequencyPerDay"], 2);
    let latest = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(90))
        .unwrap();
    assert_eq!(sent["validUntil"], latest.to_string());
    assert_eq!(sent["recurringIndicator"], true);
    assert_eq!(sent["combinedServiceIndicator"], false);
    assert_eq!(sent["access"], json!({"allPsd2": "allAccounts"}));
}

#[tokio::test]
async fn consent_scope_follows_what_the_bank_accepts() {
    let cases = [
        (
            vec![ConsentScopeKind::AllPsd2],
            true,
            json!({"allPsd2": "allAccounts"}),
        ),
        (
            vec![ConsentScopeKind::Detailed],
            true,
            json!({"accounts": [], "balances": [], "transactions": []}),
        ),
        (
            vec![
                ConsentScopeKind::AllPsd2,
                ConsentScopeKind::AvailableAccounts,
            ],
            false,
            json!({"availableAccounts": "allAccounts"}),
        ),
    ];
    for (scopes, data, expected) in cases {
        let server = consent_server().await;
        let bank = bank(&server, |e| e.profile.consent.scopes = scopes.clone());
        let request = ConsentRequest::all_accounts().with_data(data, data);
        bank.create_consent(&request, &present()).await.unwrap();
        let sent = &server.received_requests().await.unwrap()[0];
        assert_eq!(body(sent)["access"], expected, "{scopes:?}");
    }
    // Named accounts need `detailed`: refused before sending otherwise.
    let server = consent_server().await;
    let bank = bank(&server, |e| {
        e.profile.consent.scopes = vec![ConsentScopeKind::AllPsd2]
    });
    let request = ConsentRequest::accounts(vec![IbanOrRaw::parse("DE89370400440532013000")]);
    let error = bank.create_consent(&request, &present()).await.unwrap_err();
    assert!(
        matches!(error.kind, ErrorKind::Unsupported { .. }),
        "{error}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn psu_id_required_is_checked_before_sending_and_not_used_is_never_sent() {
    let server = consent_server().await;
    let required = bank(&server, |e| e.profile.psu_id = Requirement::Required);
    let anonymous = Psu::present(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
    let error = required
        .create_consent(&ConsentRequest::all_accounts(), &anonymous)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(error.detail().unwrap().contains("PSU-ID"));
    assert!(server.received_requests().await.unwrap().is_empty());
    required
        .create_consent(&ConsentRequest::all_accounts(), &present())
        .await
        .unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(header(sent, "psu-id"), Some("private-1"));
    assert_eq!(header(sent, "psu-ip-address"), Some("192.0.2.7"));

    let server = consent_server().await;
    let unused = bank(&server, |e| {
        e.profile.psu_id = Requirement::NotUsed;
        e.profile.psu_ip_address = Requirement::NotUsed;
    });
    unused
        .create_consent(&ConsentRequest::all_accounts(), &present())
        .await
        .unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(header(sent, "psu-id"), None);
    assert_eq!(header(sent, "psu-ip-address"), None);
}

#[tokio::test]
async fn psu_ip_required_on_every_call_uses_the_fallback_for_an_absent_psu() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accounts": []})))
        .mount(&server)
        .await;
    let strict = entry(|e| e.profile.psu_ip_address = Requirement::Required);
    let without = BerlinGroup::new(strict.clone(), config(&server)).unwrap();
    let error = without
        .accounts(&session(), &Psu::absent(), false)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(error.detail().unwrap().contains("PSU-IP-Address"));
    assert!(server.received_requests().await.unwrap().is_empty());
    let fallback = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    let with = BerlinGroup::new(strict, config(&server).with_psu_ip_fallback(fallback)).unwrap();
    with.accounts(&session(), &Psu::absent(), false)
        .await
        .unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(header(sent, "psu-ip-address"), Some("198.51.100.1"));
    assert_eq!(header(sent, "consent-id"), Some("consent-1"));
}

#[tokio::test]
async fn extra_headers_go_on_every_request() {
    let server = consent_server().await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"accounts": []})))
        .mount(&server)
        .await;
    let bank = bank(&server, |e| {
        e.profile
            .extra_headers
            .insert("X-Platform-Bank".into(), "testbank-01".into());
    });
    bank.create_consent(&ConsentRequest::all_accounts(), &present())
        .await
        .unwrap();
    bank.accounts(&session(), &Psu::absent(), false)
        .await
        .unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 3, "create, read back, accounts");
    for request in &sent {
        assert_eq!(header(request, "x-platform-bank"), Some("testbank-01"));
    }
}

#[tokio::test]
async fn with_balance_is_sent_only_where_the_bank_accepts_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"accounts": [account("a1", json!([])), account("a2", json!([]))]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts/a1/balances"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"balances": [balance("12.50")]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts/a2/balances"))
        .respond_with(ResponseTemplate::new(429).set_body_json(
            json!({"tppMessages": [{"category": "ERROR", "code": "ACCESS_EXCEEDED"}]}),
        ))
        .mount(&server)
        .await;
    let bank = bank(&server, |e| e.profile.accounts.with_balance = false);
    let list = bank
        .account_list(&session(), &present(), true)
        .await
        .unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent[0].url.path(), "/v1/accounts");
    assert!(
        query(&sent[0]).is_empty(),
        "no withBalance: {:?}",
        query(&sent[0])
    );
    assert_eq!(
        list.accounts[0].balances[0].amount.amount.to_string(),
        "12.50"
    );
    assert_eq!(list.missing.len(), 1);
    assert_eq!(list.missing[0].account.as_str(), "a2");
    assert!(matches!(
        list.missing[0].error.kind,
        ErrorKind::AccessExceeded { .. }
    ));

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"accounts": [account("a1", json!([balance("1.00")]))]})),
        )
        .mount(&server)
        .await;
    let bank = super::bank(&server, |_| {});
    let accounts = bank.accounts(&session(), &present(), true).await.unwrap();
    assert_eq!(accounts[0].balances.len(), 1);
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        query(&sent[0]),
        [("withBalance".to_owned(), "true".to_owned())]
    );
}

#[tokio::test]
async fn details_and_card_accounts_follow_the_profile() {
    let server = MockServer::start().await;
    let bank = bank(&server, |e| e.profile.transactions.details = false);
    let error = bank
        .transaction_details(
            &session(),
            &present(),
            &crate::AccountId::new("a1"),
            &crate::TransactionId::new("t1"),
        )
        .await
        .unwrap_err();
    assert!(matches!(error.kind, ErrorKind::Unsupported { .. }));
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("GET"))
        .and(path("/v1/card-accounts"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"cardAccounts": [{
                "resourceId": "c1", "maskedPan": "525412******3241", "currency": "EUR",
                "creditLimit": {"currency": "EUR", "amount": "5000.00"}, "balances": []
            }]})),
        )
        .mount(&server)
        .await;
    let cards = super::bank(&server, |e| e.profile.accounts.card_accounts = true);
    let list = cards
        .as_card_account_information()
        .unwrap()
        .card_accounts(&session(), &present())
        .await
        .unwrap();
    assert_eq!(list[0].id.as_str(), "c1");
    assert_eq!(list[0].masked_pans, ["525412******3241"]);
    assert_eq!(
        list[0].credit_limit.as_ref().unwrap().amount.to_string(),
        "5000.00"
    );
}

#[tokio::test]
async fn request_hooks_psu_context_and_open_ended_validity() {
    use crate::psu::PsuContext;
    use psd2_registry::Hook;
    let server = consent_server().await;
    let hooked = entry(|e| {
        e.profile.hooks = vec![Hook::PsuContextHeader, Hook::OpenEndedValidUntil];
    });
    let config = config(&server)
        .with_psu_context(PsuContext::Corporate)
        .with_header("X-Future-Breaking-Changes", "FBC-1");
    let bank = BerlinGroup::new(hooked, config).unwrap();
    bank.create_consent(&ConsentRequest::all_accounts(), &present())
        .await
        .unwrap();
    let mut private = present();
    private.context = Some(PsuContext::Private);
    bank.consent(&ConsentId::new("consent-1"), &private)
        .await
        .unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(body(&sent[0])["validUntil"], "9999-12-31");
    assert_eq!(
        header(&sent[0], "psu-context"),
        Some("CORPORATE"),
        "the config's default"
    );
    assert_eq!(
        header(&sent[2], "psu-context"),
        Some("PRIVATE"),
        "the PSU's own"
    );
    for request in &sent {
        assert_eq!(header(request, "x-future-breaking-changes"), Some("FBC-1"));
    }

    // Without the hooks: no PSU-Context, and the longest validity the profile allows.
    let server = consent_server().await;
    let plain = super::bank(&server, |_| {});
    plain
        .create_consent(&ConsentRequest::all_accounts(), &present())
        .await
        .unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(header(sent, "psu-context"), None);
    let latest = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(180))
        .unwrap();
    assert_eq!(body(sent)["validUntil"], latest.to_string());
}

#[tokio::test]
async fn named_accounts_list_only_what_is_asked_for() {
    let server = consent_server().await;
    let bank = bank(&server, |_| {});
    let iban = "DE89370400440532013000";
    let request = ConsentRequest::accounts(vec![IbanOrRaw::parse(iban)]).with_data(true, false);
    bank.create_consent(&request, &present()).await.unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        body(sent)["access"],
        json!({"accounts": [{"iban": iban}], "balances": [{"iban": iban}]})
    );
}
