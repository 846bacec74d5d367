//! All transactions of many accounts under added latency: one listing after the other, or
//! with the facade's bounded-concurrency helper [`psd2::transactions_for_accounts`].

use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use psd2::AccountInformation;
use serde::Serialize;

use crate::BenchError;
use crate::setup::Env;

/// Sequential or bounded-concurrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One account after the other.
    Sequential,
    /// `transactions_for_accounts` at the given limit.
    Bounded,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The mode.
    pub mode: Mode,
    /// Listings run.
    pub accounts: usize,
    /// Transactions received in total.
    pub transactions: u64,
    /// Wall time of all listings.
    pub secs: f64,
}

/// The `n` account ids listed: the PSU's payment accounts, repeated in turn (the sandbox
/// gives `private-1` four payment accounts at Open Payments).
pub fn account_ids(env: &Env, n: usize) -> Vec<psd2::AccountId> {
    env.accounts
        .iter()
        .cycle()
        .take(n)
        .map(|(id, _)| psd2::AccountId::new(id.clone()))
        .collect()
}

/// Lists all transactions of `n` accounts in `mode`.
pub async fn run(env: &Env, mode: Mode, n: usize, limit: usize) -> Result<Outcome, BenchError> {
    let adapter = crate::setup::facade(env)?;
    let session = crate::setup::session(env);
    let psu = crate::setup::facade_psu();
    let ids = account_ids(env, n);
    let (from, to) = env.dates;
    let query = psd2::TransactionQuery::new(Some(from), Some(to), psd2::BookingStatus::Both);
    // Warm the adapter's token cache and the connection, outside the measurement.
    let _ = adapter.accounts(&session, &psu, false).await?;
    let mut transactions = 0u64;
    let start = Instant::now();
    match mode {
        Mode::Sequential => {
            for id in &ids {
                let list: Vec<psd2::Transaction> = adapter
                    .transactions(&session, &psu, id, &query)
                    .try_collect()
                    .await?;
                transactions += list.len() as u64;
            }
        }
        Mode::Bounded => {
            let mut results =
                psd2::transactions_for_accounts(&adapter, &session, &psu, &ids, &query, limit);
            while let Some((_, list)) = results.next().await {
                transactions += list?.len() as u64;
            }
        }
    }
    Ok(Outcome {
        mode,
        accounts: ids.len(),
        transactions,
        secs: start.elapsed().as_secs_f64(),
    })
}
