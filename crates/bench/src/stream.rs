//! Streaming all transactions of the long account: through the facade, with the raw
//! generated client, with plain `reqwest` + `serde_json::from_slice` (the floor), and
//! `serde_json::from_slice` alone over pages already in memory (the limit on one core).
//! The pages come from the in-process sandbox or from a page server in front of one
//! ([`crate::page_server`], started by `psd2-bench serve`).

use std::time::Instant;

use chrono::NaiveDate;
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
    /// `AccountInformation::transactions` of the Open Payments adapter (it reads ahead: the
    /// PSU is present).
    Facade,
    /// The same stream with read-ahead off: one page at a time, decoded where it is used.
    #[serde(rename = "facade-sequential")]
    FacadeSequential,
    /// The generated `psd2-raw-openpayments` client, page by page.
    Raw,
    /// `reqwest` + `serde_json::from_slice` into the raw types.
    Floor,
    /// Every page fetched first (not timed), then only `serde_json::from_slice` into the raw
    /// types, page after page from memory (each page read once, untimed, just before its
    /// parse, so it is in the cache as a body just received is).
    Parse,
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
    /// JSON body bytes received (not known in facade mode).
    pub bytes: Option<u64>,
    /// Wall time from the first request to the last transaction (parse mode: of the
    /// parsing alone).
    pub secs: f64,
}

/// Where the pages come from and what to ask for.
#[derive(Debug, Clone)]
pub struct Target {
    /// The Open Payments base URL (sandbox or page server).
    pub base_url: String,
    /// A client-credentials access token.
    pub token: String,
    /// The authorised consent.
    pub consent_id: String,
    /// The long account's resource id.
    pub account: String,
    /// Transactions it holds.
    pub transactions: u64,
    /// Transactions per page.
    pub page_size: u64,
    /// First and last day asked for.
    pub dates: (NaiveDate, NaiveDate),
}

impl Target {
    /// The long account of a sandbox environment.
    pub fn of(env: &Env) -> Result<Target, BenchError> {
        let (account, transactions) = env
            .accounts
            .first()
            .cloned()
            .ok_or_else(|| BenchError::Unexpected("no accounts".into()))?;
        Ok(Target {
            base_url: env.base_url.clone(),
            token: env.token.clone(),
            consent_id: env.consent_id.clone(),
            account,
            transactions,
            page_size: env.sandbox.config().page_size,
            dates: env.dates,
        })
    }

    /// The first page's path and query, relative to the base URL, as the clients ask for it.
    pub fn first_page(&self) -> String {
        let (from, to) = self.dates;
        format!(
            "/psd2/accountinformation/v1/accounts/{}/transactions?bookingStatus=both&dateFrom={from}&dateTo={to}",
            self.account
        )
    }

    /// The headers a transactions call sends (with one fixed `X-Request-ID`).
    pub fn headers(&self) -> Result<reqwest::header::HeaderMap, BenchError> {
        crate::page_server::headers(&[
            ("Authorization", &format!("Bearer {}", self.token)),
            ("X-Request-ID", &uuid::Uuid::new_v4().to_string()),
            ("Consent-ID", &self.consent_id),
            ("X-BicFi", BIC),
            ("PSU-IP-Address", &PSU_IP.to_string()),
        ])
    }
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
fn authorized_http(token: &str) -> Result<reqwest::Client, BenchError> {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|e| BenchError::Unexpected(e.to_string()))?;
    headers.insert(reqwest::header::AUTHORIZATION, value);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

/// Pulls every transaction of the long account of `env` in `mode`.
pub async fn run(env: &Env, mode: Mode) -> Result<Outcome, BenchError> {
    run_at(&Target::of(env)?, mode).await
}

/// Pulls every transaction of `target`'s account in `mode`.
pub async fn run_at(target: &Target, mode: Mode) -> Result<Outcome, BenchError> {
    let (items, pages, bytes, secs) = match mode {
        Mode::Facade => facade(target, None).await?,
        Mode::FacadeSequential => facade(target, Some(false)).await?,
        Mode::Raw => raw_client(target).await?,
        Mode::Floor => floor(target).await?,
        Mode::Parse => parse(target).await?,
    };
    Ok(Outcome {
        mode,
        transactions: target.transactions,
        items,
        pages,
        bytes,
        secs,
    })
}

/// Pulls every transaction of `target`'s account `passes` times in one process, one
/// listing after the other: the items, pages, bytes and seconds of all of them together
/// (a longer sample of the same work, so a short history's rate is less noisy).
pub async fn run_at_passes(
    target: &Target,
    mode: Mode,
    passes: u32,
) -> Result<Outcome, BenchError> {
    let mut total = run_at(target, mode).await?;
    for _ in 1..passes {
        let next = run_at(target, mode).await?;
        let sum = |a: u64, b: u64, what: &str| {
            a.checked_add(b)
                .ok_or_else(|| BenchError::Unexpected(format!("{what} overflow over passes")))
        };
        total.items = sum(total.items, next.items, "items")?;
        total.pages = sum(total.pages, next.pages, "pages")?;
        total.bytes = match (total.bytes, next.bytes) {
            (Some(a), Some(b)) => Some(sum(a, b, "bytes")?),
            _ => None,
        };
        total.secs += next.secs;
    }
    Ok(total)
}

/// Items, pages, bytes (when known) and seconds of one run.
type Counts = (u64, u64, Option<u64>, f64);

async fn facade(target: &Target, read_ahead: Option<bool>) -> Result<Counts, BenchError> {
    let adapter = crate::setup::facade_at(&target.base_url)?;
    let session = psd2::Session::new(psd2::ConsentId::new(target.consent_id.clone()));
    let psu = crate::setup::facade_psu();
    let id = psd2::AccountId::new(target.account.clone());
    let (from, to) = target.dates;
    let mut query = psd2::TransactionQuery::new(Some(from), Some(to), psd2::BookingStatus::Both);
    if let Some(read_ahead) = read_ahead {
        query = query.read_ahead(read_ahead);
    }
    let mut items = 0u64;
    let start = Instant::now();
    let mut stream = adapter.transactions(&session, &psu, &id, &query);
    while let Some(tx) = stream.next().await {
        let tx = tx?;
        items += 1;
        std::hint::black_box(&tx);
    }
    let secs = start.elapsed().as_secs_f64();
    let pages = items.div_ceil(target.page_size.max(1));
    Ok((items, pages, None, secs))
}

async fn raw_client(target: &Target) -> Result<Counts, BenchError> {
    let client = psd2_raw_openpayments::Client::new_with_client(
        &target.base_url,
        authorized_http(&target.token)?,
        psd2_hooks::Hooks::new(),
    );
    let (from, to) = target.dates;
    let (mut items, mut pages) = (0u64, 0u64);
    let start = Instant::now();
    let mut key: Option<String> = None;
    loop {
        let mut b = client
            .get_transaction_list()
            .account_id(target.account.as_str())
            .booking_status(raw::BookingStatus::Both)
            .date_from(from)
            .date_to(to)
            .consent_id(target.consent_id.as_str())
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
    Ok((items, pages, None, start.elapsed().as_secs_f64()))
}

/// GETs one page of `target`'s account (after `key`) with plain `reqwest`.
async fn fetch_page(
    http: &reqwest::Client,
    target: &Target,
    key: Option<&str>,
) -> Result<bytes::Bytes, BenchError> {
    let (from, to) = (target.dates.0.to_string(), target.dates.1.to_string());
    let url = format!(
        "{}/psd2/accountinformation/v1/accounts/{}/transactions",
        target.base_url, target.account
    );
    let mut query = vec![
        ("bookingStatus", "both"),
        ("dateFrom", from.as_str()),
        ("dateTo", to.as_str()),
    ];
    if let Some(k) = key {
        query.push(("continuationKey", k));
    }
    Ok(http
        .get(&url)
        .query(&query)
        .header("Consent-ID", target.consent_id.as_str())
        .header("X-BicFi", BIC)
        .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
        .header("PSU-IP-Address", PSU_IP.to_string())
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?)
}

async fn floor(target: &Target) -> Result<Counts, BenchError> {
    let http = authorized_http(&target.token)?;
    let (mut items, mut pages, mut bytes) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    let mut key: Option<String> = None;
    loop {
        let body = fetch_page(&http, target, key.as_deref()).await?;
        bytes += body.len() as u64;
        let page = page_of(serde_json::from_slice(&body)?)?;
        items += page.items;
        pages += 1;
        match page.next {
            Some(next) => key = Some(next),
            None => break,
        }
    }
    Ok((items, pages, Some(bytes), start.elapsed().as_secs_f64()))
}

async fn parse(target: &Target) -> Result<Counts, BenchError> {
    let http = authorized_http(&target.token)?;
    let mut bodies = Vec::new();
    let mut key: Option<String> = None;
    loop {
        let body = fetch_page(&http, target, key.as_deref()).await?;
        let page = page_of(serde_json::from_slice(&body)?)?;
        bodies.push(body);
        match page.next {
            Some(next) => key = Some(next),
            None => break,
        }
    }
    let bytes = bodies.iter().map(|b| b.len() as u64).sum();
    let mut items = 0u64;
    let mut secs = 0.0;
    for body in &bodies {
        // Read the page once first (not timed), so it is in the cache as a body just
        // received is: the figure is the parse alone.
        std::hint::black_box(body.iter().fold(0u8, |a, b| a.wrapping_add(*b)));
        let start = Instant::now();
        let resp: raw::TransactionsResponse = serde_json::from_slice(std::hint::black_box(body))?;
        items += page_of(resp)?.items;
        secs += start.elapsed().as_secs_f64();
    }
    Ok((items, bodies.len() as u64, Some(bytes), secs))
}

/// The bytes of the long account's first page (for the mapping bench).
pub async fn first_page_bytes(env: &Env) -> Result<Vec<u8>, BenchError> {
    let (account, _) = env
        .accounts
        .first()
        .cloned()
        .ok_or_else(|| BenchError::Unexpected("no accounts".into()))?;
    let (from, to) = env.dates;
    let bytes = authorized_http(&env.token)?
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
