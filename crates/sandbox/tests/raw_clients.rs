//! One flow per bank through the generated raw clients (`generated/<bank>`), against the
//! sandbox: the generated code and the sandbox agree on paths, headers and bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use chrono::Days;
use psd2_hooks::{HookFuture, Hooks, RequestHook};
use psd2_sandbox::{Bank, Sandbox};
use uuid::Uuid;

/// Sets `Authorization: Bearer <token>` (Open Payments has no header parameter for it).
#[derive(Clone, Default)]
struct Bearer(Arc<Mutex<String>>);

impl RequestHook for Bearer {
    fn on_request<'a>(&'a self, request: &'a mut reqwest::Request) -> HookFuture<'a> {
        let token = self.0.lock().unwrap().clone();
        Box::pin(async move {
            if !token.is_empty() {
                request
                    .headers_mut()
                    .insert("authorization", format!("Bearer {token}").parse().unwrap());
            }
            Ok(())
        })
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn handelsbanken_decoupled_flow_through_the_raw_client() {
    use psd2_raw_handelsbanken::{Client, types};
    let sb = Sandbox::builder()
        .page_size(300)
        .build()
        .start()
        .await
        .unwrap();
    let c = Client::new_with_client(&sb.bank_url(Bank::Handelsbanken), http(), Hooks::new());
    let ccg = c
        .get_token()
        .body_map(|b| {
            b.grant_type(types::GetTokenBodyGrantType::ClientCredentials)
                .client_id(Some("raw".to_string()))
                .scope(Some("AIS".to_string()))
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let bearer = format!("Bearer {ccg}");
    let consent = c
        .create_consent()
        .authorization(bearer.clone())
        .country("SE")
        .tpp_request_id(Uuid::new_v4())
        .tpp_transaction_id(Uuid::new_v4())
        .x_ibm_client_id("raw")
        .body_map(|b| b.access(types::ConsentAccess::AllAccounts))
        .send()
        .await
        .unwrap()
        .into_inner();
    let order = c
        .init_decoupled_authorization()
        .authorization(bearer.clone())
        .country("SE")
        .tpp_request_id(Uuid::new_v4())
        .tpp_transaction_id(Uuid::new_v4())
        .x_ibm_client_id("raw")
        .body_map(|b| b.consent_id(consent.consent_id.clone()))
        .send()
        .await
        .unwrap()
        .into_inner();
    let token = loop {
        let s = c
            .poll_decoupled_authorization()
            .order_ref(order.order_ref.clone())
            .authorization(bearer.clone())
            .country("SE")
            .tpp_request_id(Uuid::new_v4())
            .tpp_transaction_id(Uuid::new_v4())
            .x_ibm_client_id("raw")
            .send()
            .await
            .unwrap()
            .into_inner();
        if let Some(t) = s.access_token {
            break t;
        }
    };
    let psu = format!("Bearer {token}");
    let accounts = c
        .get_accounts()
        .authorization(psu.clone())
        .country("SE")
        .psu_ip_address("10.0.0.1")
        .tpp_request_id(Uuid::new_v4())
        .tpp_transaction_id(Uuid::new_v4())
        .x_ibm_client_id("raw")
        .send()
        .await
        .unwrap()
        .into_inner()
        .accounts;
    assert_eq!(accounts.len(), 4);
    let mut key: Option<String> = None;
    let mut count = 0;
    let from = sb.fixtures().today() - Days::new(60);
    loop {
        let mut req = c
            .get_account_transactions()
            .account_id(accounts[0].account_id.clone())
            .date_from(from)
            .authorization(psu.clone())
            .country("SE")
            .psu_ip_address("10.0.0.1")
            .tpp_request_id(Uuid::new_v4())
            .tpp_transaction_id(Uuid::new_v4())
            .x_ibm_client_id("raw");
        if let Some(k) = &key {
            req = req.continuation_key(k.clone());
        }
        let page = req.send().await.unwrap().into_inner();
        count += page.transactions.len();
        let next = page.links.and_then(|l| l.next).map(|n| n.href);
        match next {
            Some(href) => {
                key = url::Url::parse(&href)
                    .unwrap()
                    .query_pairs()
                    .find(|(k, _)| k == "continuationKey")
                    .map(|(_, v)| v.into_owned())
            }
            None => break,
        }
    }
    assert!(count > 500, "{count}");
    sb.shutdown().await;
}

#[tokio::test]
async fn openpayments_decoupled_flow_through_the_raw_client() {
    use psd2_raw_openpayments::{Client, types};
    let sb = Sandbox::builder()
        .page_size(250)
        .build()
        .start()
        .await
        .unwrap();
    let bearer = Bearer::default();
    let c = Client::new_with_client(
        &sb.bank_url(Bank::OpenPayments),
        http(),
        Hooks::new().with(bearer.clone()),
    );
    let token = c
        .get_token()
        .body_map(|b| {
            b.grant_type(types::TokenRequestGrantType::ClientCredentials)
                .client_id("raw".to_string())
                .client_secret("x".to_string())
                .scope("accountinformation corporate".to_string())
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .access_token;
    *bearer.0.lock().unwrap() = token;
    let consent = c
        .create_consent()
        .x_request_id(Uuid::new_v4())
        .x_bic_fi("ESSESESS")
        .psu_id("private-2")
        .body_map(|b| {
            b.access(types::ConsentAccess::default())
                .combined_service_indicator(false)
                .frequency_per_day(std::num::NonZeroU32::new(4).unwrap())
                .recurring_indicator(true)
                .valid_until(chrono::NaiveDate::from_ymd_opt(2099, 12, 31).unwrap())
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    let cid = consent.consent_id.clone();
    let auth = c
        .start_consent_authorisation()
        .consent_id(cid.clone())
        .x_request_id(Uuid::new_v4())
        .x_bic_fi("ESSESESS")
        .body_map(|b| b.authentication_method_id("mbid".to_string()))
        .send()
        .await
        .unwrap()
        .into_inner();
    let mut polls = 0;
    loop {
        polls += 1;
        let s = c
            .get_consent_authorisation()
            .consent_id(cid.clone())
            .authorisation_id(auth.authorisation_id.clone())
            .x_request_id(Uuid::new_v4())
            .x_bic_fi("ESSESESS")
            .send()
            .await
            .unwrap()
            .into_inner();
        if s.sca_status.to_string() == "finalised" {
            break;
        }
        assert!(polls < 10);
    }
    let accounts = c
        .get_account_list()
        .consent_id(cid.clone())
        .x_request_id(Uuid::new_v4())
        .x_bic_fi("ESSESESS")
        .psu_ip_address(std::net::Ipv4Addr::new(10, 0, 0, 1))
        .send()
        .await
        .unwrap()
        .into_inner()
        .accounts;
    assert_eq!(accounts.len(), 2);
    let page = c
        .get_transaction_list()
        .account_id(accounts[0].resource_id.clone())
        .booking_status(types::BookingStatus::Both)
        .consent_id(cid)
        .x_request_id(Uuid::new_v4())
        .x_bic_fi("ESSESESS")
        .psu_ip_address(std::net::Ipv4Addr::new(10, 0, 0, 1))
        .send()
        .await
        .unwrap()
        .into_inner();
    let report = page.transactions.unwrap();
    assert!(!report.booked.is_empty());
    assert_eq!(report.pending.len(), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn swedbank_signed_decoupled_flow_through_the_raw_client() {
    use psd2_raw_swedbank::{Client, types};
    let sb = Sandbox::builder()
        .signing_certificate_pem(psd2_security::fixtures::TEST_SIGNING_CERT_PEM)
        .build()
        .start()
        .await
        .unwrap();
    let id = psd2_security::SigningIdentity::from_pem(
        psd2_security::fixtures::TEST_SIGNING_CERT_PEM,
        psd2_security::fixtures::TEST_SIGNING_KEY_PEM,
    )
    .unwrap();
    let c = Client::new_with_client(
        &sb.bank_url(Bank::Swedbank),
        http(),
        Hooks::new().with(psd2_security::SigningHook::new(id)),
    );
    let consent = c
        .create_consent()
        .x_request_id(Uuid::new_v4())
        .psu_id("corporate-1")
        .body_map(|b| {
            b.access(types::ConsentAccess::default())
                .combined_service_indicator(false)
                .frequency_per_day(std::num::NonZeroU64::new(4).unwrap())
                .recurring_indicator(true)
                .valid_until(chrono::NaiveDate::from_ymd_opt(2099, 12, 31).unwrap())
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    let cid = consent.consent_id.clone();
    let auth = c
        .start_consent_authorisation()
        .consent_id(cid.clone())
        .x_request_id(Uuid::new_v4())
        .tpp_redirect_preferred(false)
        .body_map(|b| b)
        .send()
        .await
        .unwrap()
        .into_inner();
    let mut last = String::new();
    for _ in 0..3 {
        last = c
            .get_consent_authorisation()
            .consent_id(cid.clone())
            .authorisation_id(auth.authorisation_id.clone())
            .x_request_id(Uuid::new_v4())
            .send()
            .await
            .unwrap()
            .into_inner()
            .sca_status;
    }
    assert_eq!(last, "finalised");
    let accounts = c
        .get_account_list()
        .consent_id(cid.clone())
        .x_request_id(Uuid::new_v4())
        .psu_ip_address("10.0.0.1")
        .send()
        .await
        .unwrap()
        .into_inner()
        .accounts;
    assert_eq!(accounts.len(), 3);
    let page = c
        .get_transaction_list()
        .account_id(accounts[0].resource_id.clone())
        .booking_status(types::BookingStatus::Booked)
        .consent_id(cid)
        .x_request_id(Uuid::new_v4())
        .psu_ip_address("10.0.0.1")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!page.transactions.booked.is_empty());
    sb.shutdown().await;
}
