//! `psd2-bench-sync`: one sync measurement per process, printed as one JSON line (see
//! `psd2_bench::sync`). The database URL is `sqlite` (a temp file per run) or a PostgreSQL
//! admin URL (a fresh database per run).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use psd2_bench::sync;

/// Sync benchmarks against the in-process sandbox.
#[derive(Debug, Parser)]
struct Cli {
    /// `sqlite` or `postgres://...` (defaults to PSD2_TEST_DATABASE_URL, else `sqlite`).
    #[arg(long, env = "PSD2_BENCH_DATABASE_URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sync one account's whole history; compare with the facade's plain stream.
    Throughput {
        #[arg(long, default_value_t = 100_000)]
        transactions: u64,
        #[arg(long, default_value_t = 500)]
        page_size: u64,
        /// Where the listing's pages come from.
        #[arg(long, value_enum, default_value_t = PagesArg::Sandbox)]
        pages: PagesArg,
    },
    /// The store alone: synthetic pages committed as a first sync commits them.
    StoreWrite {
        #[arg(long, default_value_t = 100_000)]
        transactions: u64,
        #[arg(long, default_value_t = 500)]
        page_size: u64,
    },
    /// First sync, then a second one after `--new` entries appeared.
    Incremental {
        #[arg(long, default_value_t = 1_000_000)]
        transactions: u64,
        #[arg(long, default_value_t = 500)]
        page_size: u64,
        #[arg(long, default_value_t = 100)]
        new: u32,
        /// Where the listings' pages come from.
        #[arg(long, value_enum, default_value_t = PagesArg::Sandbox)]
        pages: PagesArg,
    },
    /// Connections synced by `--workers` workers with `--latency-ms` per bank call.
    ScaleOut {
        #[arg(long, default_value_t = 4)]
        workers: usize,
        #[arg(long, default_value_t = 40)]
        connections: usize,
        #[arg(long, default_value_t = 50)]
        latency_ms: u64,
    },
}

/// Where the listing's pages come from.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PagesArg {
    /// The in-process sandbox builds each page on request.
    Sandbox,
    /// A page server answers from memory (recorded from the sandbox first).
    Served,
}

impl From<PagesArg> for sync::Pages {
    fn from(p: PagesArg) -> Self {
        match p {
            PagesArg::Sandbox => sync::Pages::Sandbox,
            PagesArg::Served => sync::Pages::Served,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let url = cli
        .database
        .or_else(|| std::env::var("PSD2_TEST_DATABASE_URL").ok())
        .unwrap_or_else(|| "sqlite".to_string());
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
    let result = runtime.block_on(async {
        match cli.command {
            Command::Throughput {
                transactions,
                page_size,
                pages,
            } => sync::throughput_from(&url, transactions, page_size, pages.into()).await,
            Command::StoreWrite {
                transactions,
                page_size,
            } => sync::store_write(&url, transactions, page_size).await,
            Command::Incremental {
                transactions,
                page_size,
                new,
                pages,
            } => sync::incremental_from(&url, transactions, page_size, new, pages.into()).await,
            Command::ScaleOut {
                workers,
                connections,
                latency_ms,
            } => sync::scale_out(&url, workers, connections, latency_ms).await,
        }
    });
    match result {
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
