//! The `psd2-sandbox` binary: serves the three sandbox banks and the registry banks on one
//! port.
#![forbid(unsafe_code)]

use std::time::Duration;

use clap::Parser;
use psd2_sandbox::config::{
    DEFAULT_MAX_CONSENTS, DEFAULT_MAX_TOKENS, MAX_HISTORY_SIZE, MAX_PAGE_SIZE, MAX_TOKEN_TTL,
};
use psd2_sandbox::{FaultConfig, Sandbox};

/// Local PSD2 bank server (Handelsbanken, Open Payments, Swedbank).
#[derive(Debug, Parser)]
#[command(name = "psd2-sandbox", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = pick a free one).
    #[arg(long, default_value_t = 0, env = "PSD2_SANDBOX_PORT")]
    port: u16,
    /// Seed of all generated data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Transactions on private-1's first SEK account (at most 1,000,000,000).
    #[arg(long, default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(0..=MAX_HISTORY_SIZE))]
    history_size: u64,
    /// Maximum transactions per page (1 to 10,000).
    #[arg(long, default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..=MAX_PAGE_SIZE))]
    page_size: u64,
    /// Access token lifetime in seconds (1 to 31,622,400: a year).
    #[arg(long, default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TOKEN_TTL.as_secs()))]
    token_ttl_secs: u64,
    /// How long a used refresh token still works, in seconds (default 0: never).
    #[arg(long, default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=MAX_TOKEN_TTL.as_secs()))]
    refresh_grace_secs: u64,
    /// Most tokens (and refresh tokens, and codes) held at once; the oldest go first.
    #[arg(long, default_value_t = DEFAULT_MAX_TOKENS)]
    max_tokens: usize,
    /// Most consents held at once; the oldest go first.
    #[arg(long, default_value_t = DEFAULT_MAX_CONSENTS)]
    max_consents: usize,
    /// Polls a decoupled SCA stays pending.
    #[arg(long, default_value_t = 2)]
    decoupled_pending_polls: u32,
    /// PEM certificate for Swedbank signature checks (default: psd2-security's demo cert).
    #[arg(long)]
    signing_cert: Option<std::path::PathBuf>,
    /// Accept unsigned Swedbank requests.
    #[arg(long)]
    no_signatures: bool,
    /// "Today" of the generated histories (YYYY-MM-DD; default: the real date).
    #[arg(long)]
    today: Option<chrono::NaiveDate>,
    /// Faults active from the start, as JSON (one object or an array).
    #[arg(long)]
    faults: Option<String>,
    /// A directory of registry files (`<id>.toml`) to serve next to the embedded ones (a
    /// file with a known id replaces that bank).
    #[arg(long)]
    registry_dir: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let mut b = Sandbox::builder()
        .port(args.port)
        .seed(args.seed)
        .history_size(args.history_size)
        .page_size(args.page_size)
        .token_ttl(Duration::from_secs(args.token_ttl_secs))
        .refresh_grace(Duration::from_secs(args.refresh_grace_secs))
        .max_tokens(args.max_tokens)
        .max_consents(args.max_consents)
        .decoupled_pending_polls(args.decoupled_pending_polls)
        .require_signatures(!args.no_signatures);
    if let Some(p) = &args.signing_cert {
        let pem = std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read --signing-cert {}: {e}", p.display()))?;
        b = b.signing_certificate_pem(pem);
    }
    if let Some(t) = args.today {
        b = b.today(t);
    }
    if let Some(f) = &args.faults {
        let v: serde_json::Value = serde_json::from_str(f)?;
        let list: Vec<FaultConfig> = match v {
            serde_json::Value::Array(_) => serde_json::from_value(v)?,
            other => vec![serde_json::from_value(other)?],
        };
        for f in &list {
            f.validate().map_err(|e| format!("--faults: {e}"))?;
        }
        b = b.faults(list);
    }
    if let Some(dir) = &args.registry_dir {
        b = b.registry(psd2_sandbox::Registry::embedded()?.with_dir(dir)?);
    }
    let running = b.build().start().await?;
    println!("psd2-sandbox listening on {}", running.base_url());
    for bank in running.registry_banks() {
        println!(
            "  registry bank {:<16} {}",
            bank.entry().id,
            running.registry_url(bank.entry())
        );
    }
    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}
