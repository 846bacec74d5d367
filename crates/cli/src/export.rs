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
    if args.from > args.to {
        return Err(CliError::Usage("--from is after --to".into()));
    }
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
        .filter(|c| {
            args.connection
                .as_deref()
                .is_none_or(|id| c.id.as_str() == id)
        })
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

    fn parse(text: &str) -> Result<crate::cli::Cli, clap::Error> {
        use clap::Parser as _;
        crate::cli::Cli::try_parse_from(rename_format_flag(args(text)))
    }

    #[test]
    fn export_format_parses_beside_the_global_output_format() {
        let cli =
            parse("psd2 export acc-1 --format camt053 --from 2026-11-01 --to 2026-11-30").unwrap();
        let crate::cli::Command::Export(export) = cli.command else {
            panic!("not the export command")
        };
        assert_eq!(export.export_format, ExportFormat::Camt053);
        assert_eq!(export.status, ExportStatus::Booked);
        assert_eq!(cli.global.format, crate::cli::Format::Table);
        assert!(parse("psd2 export acc-1 --format xml --from 2026-11-01 --to 2026-11-30").is_err());
        let cli = parse("psd2 --format json accounts").unwrap();
        assert_eq!(cli.global.format, crate::cli::Format::Json);
    }

    #[tokio::test]
    async fn exports_the_account_of_the_database_to_a_file() {
        use psd2_sync::model::{Connection, PageCommit, StoredTransaction, TxKey};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("psd2.db").display());
        let store = store::open(&url).await.unwrap();
        let connection: Connection = serde_json::from_value(serde_json::json!({
            "id": "c-1", "bank": "swedbank", "baseUrl": "http://127.0.0.1:1/swedbank",
            "session": {"consentId": "x"}, "psu": {}, "consent": {"status": "valid"},
            "state": "active", "accounts": [{"id": "acc-1"}],
            "settings": psd2_sync::BankSyncSettings::for_bank("swedbank"),
            "createdAt": "2026-10-01T00:00:00Z",
        }))
        .unwrap();
        store.add_connection(&connection).await.unwrap();
        let tx = serde_json::json!({
            "status": "booked", "amount": {"amount": "-10.50", "currency": "SEK"},
            "bookingDate": "2026-11-03",
        });
        let stored = StoredTransaction {
            key: TxKey::new("k-1"),
            connection: connection.id.clone(),
            account: AccountId::new("acc-1"),
            bank_id: None,
            status: psd2::TransactionStatus::Booked,
            fingerprint: "f".repeat(64),
            occurrence: 0,
            date: NaiveDate::from_ymd_opt(2026, 11, 3),
            booking_date: NaiveDate::from_ymd_opt(2026, 11, 3),
            value_date: None,
            amount: "-10.50".parse().unwrap(),
            currency: "SEK".into(),
            transaction: serde_json::from_value(tx).unwrap(),
            removed: false,
            last_listing: None,
            last_cursor: 7,
        };
        let mut commit = PageCommit::new(connection.id.clone());
        commit.transactions.push(stored);
        store.commit_page(&commit).await.unwrap();
        let out = dir.path().join("out.csv");
        let cli = parse(&format!(
            "psd2 export acc-1 --format csv --from 2026-11-01 --to 2026-11-30 --database {url} \
             --output {}",
            out.display()
        ))
        .unwrap();
        let crate::cli::Command::Export(export) = cli.command else {
            panic!("not the export command")
        };
        run(&export).await.unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(
            lines[1],
            "k-1,,booked,2026-11-03,2026-11-03,,-10.50,SEK,,,,,,,7"
        );

        let mut unknown = export;
        unknown.account = "acc-9".into();
        assert!(matches!(run(&unknown).await, Err(CliError::Usage(_))));
    }
}
