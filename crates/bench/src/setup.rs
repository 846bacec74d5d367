//! A running sandbox with an authorised Open Payments consent for `private-1`, set up with
//! plain HTTP calls so every measured client starts from the same state.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{Days, NaiveDate};
use psd2_sandbox::fixtures::AccountKind;
use psd2_sandbox::{Bank, FaultConfig, RunningSandbox, Sandbox};
use serde_json::{Value, json};

use crate::BenchError;

/// The BIC the sandbox uses for Open Payments.
pub const BIC: &str = "ESSESESS";
/// The PSU whose first SEK account has the long history.
pub const PSU: &str = "private-1";
/// The IP address sent as `PSU-IP-Address` (a present PSU: no frequencyPerDay counting).
pub const PSU_IP: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// What a benchmark needs: the sandbox, a token, a valid consent and the accounts.
#[derive(Debug)]
pub struct Env {
    /// The sandbox (stops when dropped).
    pub sandbox: RunningSandbox,
    /// `http://127.0.0.1:PORT/openpayments`.
    pub base_url: String,
    /// A client-credentials access token.
    pub token: String,
    /// The authorised consent (fresh SCA: the whole two-year history is readable).
    pub consent_id: String,
    /// `private-1`'s payment accounts at Open Payments, resource id and history length;
    /// the first is the long one.
    pub accounts: Vec<(String, u64)>,
    /// First and last day of the whole history.
    pub dates: (NaiveDate, NaiveDate),
}

/// Sandbox settings of one benchmark.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Transactions on the long account.
    pub history_size: u64,
    /// Transactions per page.
    pub page_size: u64,
    /// Faults active from the start (e.g. added latency).
    pub faults: Vec<FaultConfig>,
}

fn check(resp: &Value, field: &str) -> Result<String, BenchError> {
    resp.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Unexpected(format!("no {field} in {resp}")))
}

/// Starts the sandbox and authorises a consent over all of `private-1`'s accounts.
pub async fn start(settings: &Settings) -> Result<Env, BenchError> {
    let sandbox = Sandbox::builder()
        .seed(8)
        .history_size(settings.history_size)
        .page_size(settings.page_size)
        .decoupled_pending_polls(0)
        .faults(settings.faults.clone())
        .build()
        .start()
        .await?;
    let base_url = sandbox.bank_url(Bank::OpenPayments);
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base_url}/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "psd2-bench"),
        ])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = check(&token, "access_token")?;
    let today = sandbox.fixtures().today();
    let valid_until = today.checked_add_days(Days::new(30)).unwrap_or(today);
    let call = |req: reqwest::RequestBuilder| {
        req.bearer_auth(&token)
            .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
            .header("X-BicFi", BIC)
            .header("PSU-ID", PSU)
            .header("PSU-IP-Address", PSU_IP.to_string())
    };
    let consents = format!("{base_url}/psd2/consent/v1/consents");
    let created: Value = call(http.post(&consents))
        .json(&json!({
            "access": {}, // all accounts, as the Open Payments spec defines it
            "recurringIndicator": true,
            "combinedServiceIndicator": false,
            "validUntil": valid_until.to_string(),
            "frequencyPerDay": 4,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let consent_id = check(&created, "consentId")?;
    let auth: Value = call(http.post(format!("{consents}/{consent_id}/authorisations")))
        .json(&json!({"authenticationMethodId": "mbid"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let auth_id = check(&auth, "authorisationId")?;
    let mut status = String::new();
    for _ in 0..10 {
        let polled: Value =
            call(http.get(format!("{consents}/{consent_id}/authorisations/{auth_id}")))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
        status = check(&polled, "scaStatus")?;
        if status == "finalised" {
            break;
        }
    }
    if status != "finalised" {
        return Err(BenchError::Unexpected(format!("SCA ended {status}")));
    }
    let accounts = sandbox
        .fixtures()
        .accounts_of(Bank::OpenPayments, PSU, AccountKind::Payment)
        .into_iter()
        .map(|a| (a.resource_id.clone(), a.history))
        .collect();
    let from = today
        .checked_sub_days(Days::new(psd2_sandbox::fixtures::HISTORY_DAYS + 1))
        .unwrap_or(today);
    Ok(Env {
        sandbox,
        base_url,
        token,
        consent_id,
        accounts,
        dates: (from, today),
    })
}

/// The PSU as the facade sees it: present (sends `PSU-IP-Address`).
pub fn facade_psu() -> psd2::Psu {
    psd2::Psu::present(IpAddr::V4(PSU_IP), None)
}

/// The Open Payments adapter pointed at the sandbox.
pub fn facade(env: &Env) -> Result<psd2::adapters::openpayments::OpenPayments, BenchError> {
    facade_at(&env.base_url)
}

/// The Open Payments adapter pointed at `base_url` (the sandbox's Open Payments base, or a
/// page server in front of it).
pub fn facade_at(base_url: &str) -> Result<psd2::adapters::openpayments::OpenPayments, BenchError> {
    use psd2::adapters::common::TransportConfig;
    use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
    let url = url_of(base_url)?;
    let config = OpenPaymentsConfig::new(url, "psd2-bench", BIC)
        .with_transport(TransportConfig::with_client(reqwest::Client::new()));
    Ok(OpenPayments::new(config)?)
}

fn url_of(s: &str) -> Result<url::Url, BenchError> {
    url::Url::parse(s).map_err(|e| BenchError::Unexpected(format!("{s}: {e}")))
}

/// The facade session of the consent.
pub fn session(env: &Env) -> psd2::Session {
    psd2::Session::new(psd2::ConsentId::new(env.consent_id.clone()))
}
