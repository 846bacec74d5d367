//! `psd2 export ACCOUNT --format camt053|ofx|csv|jsonl --from DATE --to DATE`: one
//! account's stored transactions as a statement a bookkeeper can import, read from the sync
//! database (`--database`, else `$PSD2_DATABASE_URL`, else `sqlite:psd2.db`).

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;

use chrono::NaiveDate;
use psd2::AccountId;
use psd2_export::{ExportRequest, StatusFilter};
use psd2_sync::store;

use crate::error::CliError;

/// Options of `psd2 export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The account: the bank's account id as the sync stored it (`psd2 sync status`).
    #[arg(value_name = "ACCOUNT")]
    pub account: String,
    /// The file format (`--format` works too: it is read as this option after `export`).
    #[arg(long = "export-format", value_name = "FORMAT", value_enum)]
    pub export_format: ExportFormat,
    /// First day of the period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: NaiveDate,
    /// Last day of the period (YYYY-MM-DD), inclusive.
    #[arg(long, value_name = "DATE")]
    pub to: NaiveDate,
    /// Booked entries only, or booked and pending (OFX writes booked ones only).
    #[arg(long, value_enum, default_value_t = ExportStatus::Booked)]
    pub status: ExportStatus,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The connection, when several connections of the database hold the account.
    #[arg(long, value_name = "ID")]
    pub connection: Option<String>,
    /// The account's currency for a statement without entries (default: XXX).
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// The sync database: `sqlite:FILE` or `postgres://...` [default: sqlite:psd2.db].
    #[arg(long, value_name = "URL", env = "PSD2_DATABASE_URL")]
    pub database: Option<String>,
}

/// `--format` of `psd2 export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// ISO 20022 camt.053.001.08 XML.
    Camt053,
    /// OFX 2.2 XML.
    Ofx,
    /// CSV with a fixed header.
    Csv,
    /// JSON Lines: one transaction per line.
    Jsonl,
}

/// `--status` of `psd2 export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportStatus {
    /// Booked entries only.
    Booked,
    /// Booked and pending entries.
    Both,
}

/// The command line with `--format` after the `export` subcommand renamed to
/// `--export-format`: the global `--format` (table, json, csv) has the same name, and clap
/// cannot give one subcommand its own option of that name.
pub fn rename_format_flag(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut seen_export = false;
    args.into_iter()
        .map(|arg| {
            if !seen_export {
                seen_export = arg == "export";
                return arg;
            }
            match arg.to_str() {
                Some("--format") => OsString::from("--export-format"),
                Some(text) if text.starts_with("--format=") => {
                    OsString::from(text.replacen("--format=", "--export-format=", 1))
                }
                _ => arg,
            }
        })
        .collect()
}

/// Runs `psd2 export`.
pub async fn run(args: &ExportArgs) -> Result<(), CliError> {
    let url = args
        .database
        .clone()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| store::DEFAULT_DATABASE_URL.to_string());
    let db = |e: store::StoreError| CliError::Local(format!("sync database: {e}"));
    let store = store::open(&url).await.map_err(db)?;
    let account = AccountId::new(args.account.clone());
    let holders: Vec<_> = store
        .connections()
        .await
        .map_err(db)?
        .into_iter()
        .filter(|c| args.connection.as_deref().is_none_or(|id| c.id.as_str() == id))
        .filter(|c| c.accounts.iter().any(|a| a.id == account))
        .collect();
    let connection = match holders.as_slice() {
        [one] => one.id.clone(),
        [] => {
            return Err(CliError::Usage(
                "no connection of the sync database holds this account (see `psd2 sync status`)"
                    .into(),
            ));
        }
        _ => {
            return Err(CliError::Usage(
                "several connections hold this account: pick one with --connection".into(),
            ));
        }
    };
    let mut request = ExportRequest::new(connection, account, args.from, args.to);
    request.status = match args.status {
        ExportStatus::Booked => StatusFilter::Booked,
        ExportStatus::Both => StatusFilter::Both,
    };
    request.currency = args.currency.clone();
    let format = match args.export_format {
        ExportFormat::Camt053 => psd2_export::Format::Camt053,
        ExportFormat::Ofx => psd2_export::Format::Ofx,
        ExportFormat::Csv => psd2_export::Format::Csv,
        ExportFormat::Jsonl => psd2_export::Format::Jsonl,
    };
    let failed = |e: psd2_export::ExportError| CliError::Local(format!("export: {e}"));
    let summary = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| CliError::Local(format!("{}: {e}", path.display())))?;
            let mut out = std::io::BufWriter::new(file);
            let summary = psd2_export::export(store.as_ref(), &request, format, &mut out)
                .await
                .map_err(failed)?;
            out.flush()
                .map_err(|e| CliError::Local(format!("{}: {e}", path.display())))?;
            summary
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            psd2_export::export(store.as_ref(), &request, format, &mut out)
                .await
                .map_err(failed)?
        }
    };
    if summary.skipped > 0 {
        eprintln!(
            "psd2 export: {} entries written, {} left out (OFX: pending or another currency)",
            summary.entries, summary.skipped
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<OsString> {
        text.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn format_after_export_is_renamed_and_nothing_else() {
        assert_eq!(
            rename_format_flag(args("psd2 export acc --format ofx --format=csv")),
            args("psd2 export acc --export-format ofx --export-format=csv")
        );
        assert_eq!(
            rename_format_flag(args("psd2 --format json accounts")),
            args("psd2 --format json accounts")
        );
    }
}
