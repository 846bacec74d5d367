//! `psd2-bench serve`: the long account's pages recorded from the in-process sandbox and
//! served from memory ([`crate::page_server`]), for clients in other processes (the
//! `stream --at URL` modes and the openapi-generator peer). Also measures the sandbox's own
//! rate: the recorded requests sent to it again, bodies read into bytes and dropped.

use std::time::Instant;

use crate::BenchError;
use crate::page_server::{Crawl, PageServer, PageStats};
use crate::setup::{self, Settings};
use crate::stream::Target;
use serde::Serialize;

/// One pass of the sandbox over every recorded page.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SandboxPass {
    /// Pages served.
    pub pages: u64,
    /// Body bytes served.
    pub bytes: u64,
    /// Wall time.
    pub secs: f64,
}

/// What `serve` prints first: where the pages are and how they were made.
#[derive(Debug, Clone, Serialize)]
pub struct Served {
    /// The page server's Open Payments base URL.
    pub base_url: String,
    /// A token the sandbox issued (forwarded calls need it; recorded pages ignore it).
    pub token: String,
    /// The authorised consent.
    pub consent_id: String,
    /// The long account.
    pub account: String,
    /// Transactions on it.
    pub transactions: u64,
    /// Transactions per page.
    pub page_size: u64,
    /// First day asked for.
    pub date_from: String,
    /// Last day asked for.
    pub date_to: String,
    /// The recording crawl.
    pub crawl: Crawl,
    /// The sandbox serving the recorded requests again, once per pass.
    pub sandbox: Vec<SandboxPass>,
}

/// Sends the recorded requests to the sandbox again, in order, and reads every body.
async fn sandbox_pass(
    env: &setup::Env,
    target: &Target,
    requests: &[String],
) -> Result<SandboxPass, BenchError> {
    let http = reqwest::Client::new();
    let headers = target.headers()?;
    let base = env.base_url.trim_end_matches('/');
    let (mut pages, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    for href in requests {
        let body = http
            .get(format!("{base}{href}"))
            .headers(headers.clone())
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        pages += 1;
        bytes += body.len() as u64;
    }
    Ok(SandboxPass {
        pages,
        bytes,
        secs: start.elapsed().as_secs_f64(),
    })
}

/// Starts the sandbox with `transactions` on the long account, records its pages, measures
/// `passes` sandbox passes, then serves: prints [`Served`] as one JSON line, serves until
/// standard input ends, and returns the server's counts.
pub async fn serve(
    transactions: u64,
    page_size: u64,
    passes: usize,
) -> Result<PageStats, BenchError> {
    let env = setup::start(&Settings {
        history_size: transactions,
        page_size,
        faults: Vec::new(),
    })
    .await?;
    let target = Target::of(&env)?;
    let mut pages = PageServer::new(&env.base_url)?;
    let http = reqwest::Client::new();
    let crawl = pages
        .crawl(&http, &target.first_page(), &target.headers()?)
        .await?;
    if crawl.items != transactions {
        return Err(BenchError::Unexpected(format!(
            "recorded {} of {transactions} transactions",
            crawl.items
        )));
    }
    let mut sandbox = Vec::new();
    for _ in 0..passes {
        sandbox.push(sandbox_pass(&env, &target, &crawl.requests).await?);
    }
    let server = pages.start().await?;
    let served = Served {
        base_url: server.base_url().to_string(),
        token: target.token.clone(),
        consent_id: target.consent_id.clone(),
        account: target.account.clone(),
        transactions,
        page_size,
        date_from: target.dates.0.to_string(),
        date_to: target.dates.1.to_string(),
        crawl,
        sandbox,
    };
    println!("{}", serde_json::to_string(&served)?);
    use std::io::Write as _;
    std::io::stdout().flush()?;
    tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
        .await
        .map_err(|e| BenchError::Unexpected(format!("waiting for standard input: {e}")))??;
    let stats = server.stats();
    drop(server);
    drop(env);
    Ok(stats)
}
