//! Streaming all transactions of the long account three ways: through the facade, with the
//! raw generated client, and with plain `reqwest` + `serde_json::from_slice` (the floor).

use std::time::Instant;

use futures::StreamExt;
use psd2::AccountInformation;
use psd2::pagination::continuation_key;
use psd2_raw_openpayments::types as raw;
use serde::Serialize;

use crate::BenchError;
use crate::setup::{BIC, Env, PSU_IP};

/// How the transactions are pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `AccountInformation::transactions` of the Open Payments adapter.
    Facade,
    /// The generated `psd2-raw-openpayments` client, page by page.
    Raw,
    /// `reqwest` + `serde_json::from_slice` into the raw types.
    Floor,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The mode.
    pub mode: Mode,
    /// Transactions the long account holds.
    pub transactions: u64,
    /// Transactions received.
    pub items: u64,
    /// Pages fetched.
    pub pages: u64,
    /// Wall time from the first request to the last transaction.
    pub secs: f64,
}

/// One page as the raw and floor clients see it.
struct RawPage {
    items: u64,
    next: Option<String>,
}

fn page_of(resp: raw::TransactionsResponse) -> Result<RawPage, BenchError> {
    let report = resp.transactions.unwrap_or_default();
    let items = (report.booked.len() + report.pending.len() + report.bankgiro.len()) as u64;
    let next = match report.links.and_then(|l| l.next) {
        None => None,
        Some(next) => Some(continuation_key(&next.href).ok_or_else(|| {
            BenchError::Unexpected(format!("next link without a key: {}", next.href))
        })?),
    };
    Ok(RawPage { items, next })
}

/// An HTTP client that sends the bearer token on every request.
fn authorized_http(env: &Env) -> Result<reqwest::Client, BenchError> {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", env.token))
        .map_err(|e| BenchError::Unexpected(e.to_string()))?;
    headers.insert(reqwest::header::AUTHORIZATION, value);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

/// Pulls every transaction of the long account in `mode`.
pub async fn run(env: &Env, mode: Mode) -> Result<Outcome, BenchError> {
    let (account, transactions) = env
        .accounts
        .first()
        .cloned()
        .ok_or_else(|| BenchError::Unexpected("no accounts".into()))?;
    let (from, to) = env.dates;
    let mut items = 0u64;
    let mut pages = 0u64;
    let start;
    match mode {
        Mode::Facade => {
            let adapter = crate::setup::facade(env)?;
            let session = crate::setup::session(env);
            let psu = crate::setup::facade_psu();
            let id = psd2::AccountId::new(account);
            let query =
                psd2::TransactionQuery::new(Some(from), Some(to), psd2::BookingStatus::Both);
            start = Instant::now();
            let mut stream = adapter.transactions(&session, &psu, &id, &query);
            while let Some(tx) = stream.next().await {
                let tx = tx?;
                items += 1;
                std::hint::black_box(&tx);
            }
            pages = items.div_ceil(env.sandbox.config().page_size);
        }
        Mode::Raw => {
            let client = psd2_raw_openpayments::Client::new_with_client(
                &env.base_url,
                authorized_http(env)?,
                psd2_hooks::Hooks::new(),
            );
            start = Instant::now();
            let mut key: Option<String> = None;
            loop {
                let mut b = client
                    .get_transaction_list()
                    .account_id(account.as_str())
                    .booking_status(raw::BookingStatus::Both)
                    .date_from(from)
                    .date_to(to)
                    .consent_id(env.consent_id.as_str())
                    .x_bic_fi(BIC)
                    .x_request_id(uuid::Uuid::new_v4())
                    .psu_ip_address(PSU_IP);
                if let Some(k) = &key {
                    b = b.continuation_key(k.as_str());
                }
                let resp = b
                    .send()
                    .await
                    .map_err(|e| BenchError::Raw(e.to_string()))?
                    .into_inner();
                let page = page_of(resp)?;
                items += page.items;
                pages += 1;
                match page.next {
                    Some(next) => key = Some(next),
                    None => break,
                }
            }
        }
        Mode::Floor => {
            let http = authorized_http(env)?;
            let url = format!(
                "{}/psd2/accountinformation/v1/accounts/{account}/transactions",
                env.base_url
            );
            let (from, to) = (from.to_string(), to.to_string());
            start = Instant::now();
            let mut key: Option<String> = None;
            loop {
                let mut query = vec![
                    ("bookingStatus", "both"),
                    ("dateFrom", from.as_str()),
                    ("dateTo", to.as_str()),
                ];
                if let Some(k) = &key {
                    query.push(("continuationKey", k.as_str()));
                }
                let bytes = http
                    .get(&url)
                    .query(&query)
                    .header("Consent-ID", env.consent_id.as_str())
                    .header("X-BicFi", BIC)
                    .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
                    .header("PSU-IP-Address", PSU_IP.to_string())
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes()
                    .await?;
                let page = page_of(serde_json::from_slice(&bytes)?)?;
                items += page.items;
                pages += 1;
                match page.next {
                    Some(next) => key = Some(next),
                    None => break,
                }
            }
        }
    }
    Ok(Outcome {
        mode,
        transactions,
        items,
        pages,
        secs: start.elapsed().as_secs_f64(),
    })
}

/// The bytes of the long account's first page (for the mapping bench).
pub async fn first_page_bytes(env: &Env) -> Result<Vec<u8>, BenchError> {
    let (account, _) = env
        .accounts
        .first()
        .cloned()
        .ok_or_else(|| BenchError::Unexpected("no accounts".into()))?;
    let (from, to) = env.dates;
    let bytes = authorized_http(env)?
        .get(format!(
            "{}/psd2/accountinformation/v1/accounts/{account}/transactions",
            env.base_url
        ))
        .query(&[
            ("bookingStatus", "booked"),
            ("dateFrom", &from.to_string()),
            ("dateTo", &to.to_string()),
        ])
        .header("Consent-ID", env.consent_id.as_str())
        .header("X-BicFi", BIC)
        .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
        .header("PSU-IP-Address", PSU_IP.to_string())
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(bytes.to_vec())
}
