//! Refresh-token rotation against the sandbox: the answer to a refresh is lost after the bank
//! rotated the refresh token (here: the refresh is sent outside the adapter and its answer
//! dropped), and the adapter then renews with the old refresh token. With the sandbox's grace
//! period for a used refresh token the renewal works; without one the bank answers
//! `invalid_grant` and the error says that a new SCA is needed.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::Duration;

use psd2::adapters::common::TransportConfig;
use psd2::adapters::handelsbanken::{Handelsbanken, HandelsbankenConfig};
use psd2::{
    AccountInformation, Bank, ConsentRequest, Consents, ErrorKind, Psu, PsuId, ScaChallenge,
    ScaMethod, Session,
};
use psd2_sandbox::{Bank as SandboxBank, RunningSandbox, Sandbox};
use url::Url;

const CLIENT_ID: &str = "rotation-client";

fn psu() -> Psu {
    let ip: IpAddr = "192.0.2.10".parse().unwrap();
    Psu::present(ip, None).with_id(PsuId::new("private-1"))
}

fn adapter(sandbox: &RunningSandbox) -> Handelsbanken {
    let base = Url::parse(&sandbox.bank_url(SandboxBank::Handelsbanken)).unwrap();
    Handelsbanken::new(
        HandelsbankenConfig::new(base, CLIENT_ID, "SE")
            .transport(TransportConfig::with_client(reqwest::Client::new())),
    )
    .unwrap()
}

async fn authorised(bank: &Handelsbanken) -> Session {
    let created = bank
        .create_consent(&ConsentRequest::all_accounts(), &psu())
        .await
        .unwrap();
    let ScaChallenge::Decoupled { handle, .. } = bank
        .start_sca(&created.consent.id, &ScaMethod::Decoupled, &psu())
        .await
        .unwrap()
    else {
        panic!("expected decoupled SCA")
    };
    bank.wait_for_decoupled(
        &created.consent.id,
        &handle,
        Duration::from_secs(30),
        &psu(),
    )
    .await
    .unwrap()
}

/// A refresh with `session`'s refresh token whose answer nobody reads: the bank rotates the
/// token, the adapter never learns the new one.
async fn lost_refresh(sandbox: &RunningSandbox, session: &Session) {
    let url = format!(
        "{}/mlurd/oauth2/token/1.0",
        sandbox.bank_url(SandboxBank::Handelsbanken)
    );
    let refresh = session.refresh_token.as_ref().unwrap().expose().to_owned();
    let response = reqwest::Client::new()
        .post(url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", CLIENT_ID),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// `session` with its access token expired, so the next call renews it first.
fn expired(session: &Session) -> Session {
    let mut old = session.clone();
    old.expires_at = Some(chrono::Utc::now() - chrono::Duration::seconds(60));
    old
}

async fn run(grace: Duration) -> (Result<usize, psd2::Error>, Session, Session) {
    let sandbox = Sandbox::builder()
        .refresh_grace(grace)
        .decoupled_pending_polls(0)
        .build()
        .start()
        .await
        .unwrap();
    let bank = adapter(&sandbox);
    let session = authorised(&bank).await;
    lost_refresh(&sandbox, &session).await;
    let old = expired(&session);
    let result = bank
        .accounts(&old, &Psu::absent(), false)
        .await
        .map(|a| a.len());
    let current = bank.current_session(&old);
    sandbox.shutdown().await;
    (result, old, current)
}

#[tokio::test]
async fn within_the_grace_period_the_old_refresh_token_still_renews() {
    let (result, old, current) = run(Duration::from_secs(300)).await;
    assert!(
        result.unwrap() >= 3,
        "private-1 has SEK, NOK and EUR accounts"
    );
    assert_ne!(current.access_token, old.access_token, "renewed");
    assert_ne!(current.refresh_token, old.refresh_token, "rotated");
}

#[tokio::test]
async fn without_a_grace_period_the_error_says_a_new_sca_is_needed() {
    let (result, old, current) = run(Duration::ZERO).await;
    let err = result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert!(err.codes().any(|c| c == "invalid_grant"), "{err}");
    assert!(err.to_string().contains("a new SCA is needed"), "{err}");
    assert_eq!(current, old, "nothing renewed");
}
