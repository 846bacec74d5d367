//! `psd2-bench`: one measurement per process, printed as one JSON line (run by
//! `cargo xtask bench`; see `docs/performance.md`).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use psd2_bench::setup::{self, Settings};
use psd2_bench::{BenchError, concurrency, memory, served, stream};
use psd2_sandbox::{Bank, FaultConfig};
use serde_json::{Value, json};

/// Benchmarks of psd2-rs against the in-process sandbox.
#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Stream every transaction of an account with `--transactions` entries.
    Stream {
        /// Facade, raw client or floor.
        #[arg(long, value_enum)]
        mode: stream::Mode,
        /// History length of the streamed account.
        #[arg(long, default_value_t = 100_000)]
        transactions: u64,
        /// Transactions per page.
        #[arg(long, default_value_t = 500)]
        page_size: u64,
        /// Pull from this Open Payments base URL (a `serve` process) instead of starting a
        /// sandbox; needs the `--consent-id`, `--account`, `--date-from`, `--date-to` that
        /// `serve` printed.
        #[arg(long, requires_all = ["consent_id", "account", "date_from", "date_to"])]
        at: Option<String>,
        /// Access token sent to `--at` (recorded pages ignore it).
        #[arg(long, default_value = "none")]
        token: String,
        /// Consent of `--at`.
        #[arg(long)]
        consent_id: Option<String>,
        /// Account of `--at`.
        #[arg(long)]
        account: Option<String>,
        /// First day asked for at `--at`.
        #[arg(long)]
        date_from: Option<chrono::NaiveDate>,
        /// Last day asked for at `--at`.
        #[arg(long)]
        date_to: Option<chrono::NaiveDate>,
        /// Listings of the account at `--at`, one after the other in this process; the
        /// figures are their sums.
        #[arg(long, default_value_t = 1, requires = "at", value_parser = clap::value_parser!(u32).range(1..=100))]
        passes: u32,
    },
    /// Record the long account's pages from the sandbox and serve them from memory until
    /// standard input ends; prints where (one JSON line) and, at the end, what was served.
    Serve {
        /// History length of the long account.
        #[arg(long, default_value_t = 100_000)]
        transactions: u64,
        /// Transactions per page.
        #[arg(long, default_value_t = 500)]
        page_size: u64,
        /// Times the sandbox serves the recorded pages again, timed (its own rate).
        #[arg(long, default_value_t = 3)]
        sandbox_passes: usize,
    },
    /// List all transactions of `--accounts` accounts with added latency per call.
    Concurrency {
        /// Sequential or bounded.
        #[arg(long, value_enum)]
        mode: concurrency::Mode,
        /// Listings.
        #[arg(long, default_value_t = 50)]
        accounts: usize,
        /// Latency the sandbox adds to every transactions call.
        #[arg(long, default_value_t = 50)]
        latency_ms: u64,
        /// Listings in flight at once (bounded mode).
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Transactions per page.
        #[arg(long, default_value_t = 100)]
        page_size: u64,
    },
}

async fn run(cli: Cli) -> Result<Value, BenchError> {
    match cli.command {
        Command::Stream {
            mode,
            transactions,
            page_size,
            at: Some(base_url),
            token,
            consent_id: Some(consent_id),
            account: Some(account),
            date_from: Some(from),
            date_to: Some(to),
            passes,
        } => {
            let target = stream::Target {
                base_url,
                token,
                consent_id,
                account,
                transactions,
                page_size,
                dates: (from, to),
            };
            let cpu_before = memory::cpu_secs();
            let outcome = stream::run_at_passes(&target, mode, passes).await?;
            let cpu = memory::cpu_secs()
                .zip(cpu_before)
                .map(|(after, before)| after - before);
            let mut v = serde_json::to_value(outcome)?;
            v["vm_hwm_kib"] = json!(memory::vm_hwm_kib());
            v["cpu_secs"] = json!(cpu);
            Ok(v)
        }
        Command::Stream {
            mode,
            transactions,
            page_size,
            ..
        } => {
            let env = setup::start(&Settings {
                history_size: transactions,
                page_size,
                faults: Vec::new(),
            })
            .await?;
            let outcome = stream::run(&env, mode).await?;
            let mut v = serde_json::to_value(outcome)?;
            v["vm_hwm_kib"] = json!(memory::vm_hwm_kib());
            Ok(v)
        }
        Command::Serve {
            transactions,
            page_size,
            sandbox_passes,
        } => Ok(serde_json::to_value(
            served::serve(transactions, page_size, sandbox_passes).await?,
        )?),
        Command::Concurrency {
            mode,
            accounts,
            latency_ms,
            limit,
            page_size,
        } => {
            let env = setup::start(&Settings {
                history_size: 200,
                page_size,
                faults: vec![FaultConfig {
                    bank: Some(Bank::OpenPayments),
                    path_contains: Some("/transactions".into()),
                    latency_ms: Some(latency_ms),
                    ..FaultConfig::default()
                }],
            })
            .await?;
            let outcome = concurrency::run(&env, mode, accounts, limit).await?;
            let mut v = serde_json::to_value(outcome)?;
            v["latency_ms"] = json!(latency_ms);
            v["limit"] = json!(limit);
            Ok(v)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
