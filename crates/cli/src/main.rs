//! `psd2`: the command line of psd2-rs.
//!
//! - `psd2 demo` starts the sandbox in-process and walks all three banks end to end
//!   (`--all-banks`: the registry banks too).
//! - `psd2 banks` lists the registry banks (Berlin Group banks described by a file).
//! - `psd2 consent|sca|accounts|balances|transactions|cards` work against one configured
//!   bank (TOML file + `PSD2_*` environment; secrets from the environment only), keeping the
//!   consent and tokens in a session file between invocations.
//! - Exit codes: 0 ok, 1 local failure, 2 usage/config, 3 auth/consent, 4 rate limit,
//!   5 bank error, 6 network, 7 SCA not finished in time. See docs/cli.md.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod banks;
mod callback;
mod cli;
mod commands;
mod config;
mod demo;
mod demo_registry;
mod embedded;
mod error;
mod export;
mod output;
mod progress;
mod registry;
mod session;
mod sync;
mod sync_demo;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::cli::{Cli, Command};
use crate::commands::Context;
use crate::error::{CliError, EXIT_LOCAL};

/// With `RUST_LOG` set (e.g. `RUST_LOG=psd2=debug`), the library's logs go to stderr. They
/// are written without secrets (tokens, consent ids and PSU ids are redacted where they are
/// logged); without `RUST_LOG` nothing is logged.
fn init_logs() {
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .try_init();
    }
}

fn main() -> ExitCode {
    // clap prints help/version and exits 0, usage errors exit 2.
    let cli = Cli::parse_from(export::rename_format_flag(std::env::args_os()));
    init_logs();
    let report = error::ReportContext::new(cli.global.verbose > 0, cli.global.psu_ip.is_some());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("psd2: error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_LOCAL);
        }
    };
    let mut secrets = Vec::new();
    let result = runtime.block_on(run(&cli, &mut secrets));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
            eprintln!("{}", e.report(&report, &refs));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs one command; `secrets` collects values to scrub from any error output.
async fn run(cli: &Cli, secrets: &mut Vec<String>) -> Result<(), CliError> {
    let interactive = progress::interactive();
    match &cli.command {
        Command::Demo(args) => demo::run(args, &cli.global.bank, interactive).await,
        Command::Completions(args) => {
            let mut command = Cli::command();
            clap_complete::generate(args.shell, &mut command, "psd2", &mut std::io::stdout());
            Ok(())
        }
        Command::Banks(args) => registry::run(&cli.global, args),
        Command::Consent(command) => {
            let ctx = Context::load(&cli.global, interactive, secrets)?;
            commands::consent(&ctx, command, secrets).await
        }
        Command::Sca(args) => {
            let ctx = Context::load(&cli.global, interactive, secrets)?;
            commands::sca(&ctx, args, secrets).await
        }
        Command::Accounts(args) => {
            let ctx = Context::load(&cli.global, interactive, secrets)?;
            commands::accounts(&ctx, args, secrets).await
        }
        Command::Balances(args) => {
            let ctx = Context::load(&cli.global, interactive, secrets)?;
            commands::balances(&ctx, args, secrets).await
        }
        Command::Transactions(args) => {
            let ctx = Context::load(&cli.global, interactive, secrets)?;
            commands::transactions(&ctx, args, secrets).await
        }
        Command::Sync(args) => sync::run(&cli.global, args, interactive, secrets).await,
        Command::Export(args) => export::run(args).await,
        Command::Cards => {
            let ctx = Context::load(&cli.global, interactive, secrets)?;
            commands::cards(&ctx, secrets).await
        }
    }
}
