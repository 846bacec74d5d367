//! `psd2 sync ...`: keep the configured bank's accounts in a database, unattended.
//!
//! - `sync add`: the authorised session of the session file becomes a connection;
//! - `sync run [--once | --watch]`: syncs the due connections (progress on stderr);
//! - `sync status`: connections, last and next sync, calls left today, days of consent left;
//! - `sync changes --since CURSOR`: a connection's change feed (table, JSON or CSV);
//! - `sync events --since CURSOR`: the lifecycle event outbox.
//!
//! The database is `--database`, else `$PSD2_DATABASE_URL`, else the config file's
//! `database_url`, else `sqlite:psd2.db`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use psd2::Bank;
use psd2_sync::clock::SystemClock;
use psd2_sync::store::{self, Store};
use psd2_sync::{
    AccountOutcome, BankSyncSettings, Change, Connection, ConnectionAccount, ConnectionId, Engine,
    Event, SyncError, SyncObserver, SyncReport,
};

use crate::cli::{Format, GlobalArgs};
use crate::commands::Context;
use crate::error::CliError;
use crate::output::{self, Table};
use crate::progress::Spinner;
use crate::session::StoredSession;

/// Options of `psd2 sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The sync database: `sqlite:FILE` or `postgres://...` [default: the config file's
    /// `database_url`, else sqlite:psd2.db].
    #[arg(long, value_name = "URL", env = "PSD2_DATABASE_URL")]
    pub database: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: SyncCommand,
}

/// `psd2 sync ...`.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Make the session's authorised consent a connection that is synced unattended.
    ///
    /// Cost: 1 unattended call (the account list), none with --psu-ip.
    Add,
    /// Sync the connections that are due (at most 4 times a day each, within the budget).
    Run(RunArgs),
    /// Show the connections: state, last and next sync, calls left today, consent days left.
    Status,
    /// Print a connection's changes after a cursor, oldest first.
    Changes(ChangesArgs),
    /// Print the lifecycle events after a cursor, oldest first.
    Events(EventsArgs),
}

/// Options of `psd2 sync run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// One round of due connections, then exit (the default).
    #[arg(long, conflicts_with = "watch")]
    pub once: bool,
    /// Keep running: a round every --interval seconds until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between rounds with --watch.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub interval: u64,
    /// This worker's name in leases (several workers may share a PostgreSQL database).
    #[arg(long, value_name = "NAME")]
    pub worker: Option<String>,
}

/// Options of `psd2 sync changes`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// The connection (may be left out when there is only one).
    #[arg(long, value_name = "ID")]
    pub connection: Option<String>,
    /// The last cursor already processed (0: from the start).
    #[arg(long, default_value_t = 0, value_name = "CURSOR")]
    pub since: u64,
    /// At most this many changes.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub limit: u32,
}

/// Options of `psd2 sync events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The last cursor already processed (0: from the start).
    #[arg(long, default_value_t = 0, value_name = "CURSOR")]
    pub since: u64,
    /// At most this many events.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub limit: u32,
}

/// The database URL: the option (or `$PSD2_DATABASE_URL`), else `from_file` (the config
/// file's `database_url`), else the default SQLite file.
pub fn database_url(args: &SyncArgs, from_file: Option<&str>) -> String {
    args.database
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .or(from_file.filter(|u| !u.trim().is_empty()))
        .unwrap_or(store::DEFAULT_DATABASE_URL)
        .to_string()
}

/// Opens the sync database.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, CliError> {
    store::open(url)
        .await
        .map_err(|e| CliError::Local(format!("sync database: {e}")))
}

fn sync_error(e: SyncError) -> CliError {
    CliError::Local(format!("sync: {e}"))
}

/// Runs `psd2 sync ...`.
pub async fn run(
    global: &GlobalArgs,
    args: &SyncArgs,
    interactive: bool,
    secrets: &mut Vec<String>,
) -> Result<(), CliError> {
    let from_file = match args.database.as_deref() {
        Some(url) if !url.trim().is_empty() => None,
        _ => crate::config::file_database_url(global.config.as_deref())?,
    };
    let store = open_store(&database_url(args, from_file.as_deref())).await?;
    match &args.command {
        SyncCommand::Add => add(global, store, interactive, secrets).await,
        SyncCommand::Run(run_args) => {
            let ctx = Context::load(global, interactive, secrets)?;
            run_rounds(ctx, store, run_args).await
        }
        SyncCommand::Status => status(store, global.format).await,
        SyncCommand::Changes(a) => changes(store, a, global.format).await,
        SyncCommand::Events(a) => events(store, a, global.format).await,
    }
}

async fn add(
    global: &GlobalArgs,
    store: Arc<dyn Store>,
    interactive: bool,
    secrets: &mut Vec<String>,
) -> Result<(), CliError> {
    let ctx = Context::load(global, interactive, secrets)?;
    let bank = ctx.config.bank.as_str();
    let stored = StoredSession::require(&ctx.session_path, bank, &ctx.config.base_url)?;
    secrets.extend(stored.secrets());
    if !stored.authorised {
        return Err(CliError::Usage(
            "the session's consent is not authorised yet: run `psd2 sca` first".into(),
        ));
    }
    let session = stored.to_session();
    let consent = match ctx.adapter.as_consents() {
        Some(consents) => Some(consents.consent(&session.consent_id, &ctx.psu).await?),
        None => None,
    };
    let ai = ctx
        .adapter
        .as_account_information()
        .ok_or_else(|| psd2::Error::unsupported(bank, "accounts"))?;
    let accounts = ai.accounts(&session, &ctx.psu, false).await?;
    let engine = engine_for(store.clone(), Arc::from(ctx.adapter), bank);
    let mut connection = engine
        .add_connection(
            bank,
            ctx.config.base_url.as_str(),
            &session,
            &ctx.psu,
            consent.as_ref(),
            sync_settings(&ctx.config.bank),
        )
        .await
        .map_err(sync_error)?;
    connection.accounts = accounts
        .into_iter()
        .map(|a| ConnectionAccount {
            id: a.id,
            card: false,
            latest_booked: None,
            synced_at: None,
        })
        .collect();
    store
        .update_connection(&connection)
        .await
        .map_err(|e| CliError::Local(format!("sync database: {e}")))?;
    println!(
        "connection {} added: {} accounts at {bank}; run `psd2 sync run`",
        connection.id,
        connection.accounts.len()
    );
    Ok(())
}

/// How the sync engine treats `bank`: a registry bank's from its profile (whether ids
/// survive booking, the date field, its history and daily budget), a named bank's defaults.
fn sync_settings(bank: &crate::registry::BankChoice) -> BankSyncSettings {
    match bank {
        crate::registry::BankChoice::Registry(entry) => {
            BankSyncSettings::from_profile(&entry.profile)
        }
        crate::registry::BankChoice::Named(named) => BankSyncSettings::for_bank(named.as_str()),
    }
}

/// An engine whose resolver hands out `adapter` for connections of `bank`.
pub fn engine_for(store: Arc<dyn Store>, adapter: Arc<dyn Bank>, bank: &'static str) -> Engine {
    let resolver = move |c: &Connection| -> Result<Arc<dyn Bank>, SyncError> {
        if c.bank == bank {
            Ok(adapter.clone())
        } else {
            Err(SyncError::UnknownBank(c.bank.clone()))
        }
    };
    Engine::new(store, Arc::new(resolver), Arc::new(SystemClock))
}

/// Shows each committed page on a spinner.
struct PageProgress(Spinner);

impl SyncObserver for PageProgress {
    fn page(
        &self,
        connection: &ConnectionId,
        account: &psd2::AccountId,
        pages: u32,
        entries: usize,
    ) {
        let short: String = connection.as_str().chars().take(8).collect();
        let account: String = account.as_str().chars().take(24).collect();
        self.0.set_message(format!(
            "connection {short}: account {account}: page {pages} ({entries} entries)"
        ));
    }
}

async fn run_rounds(ctx: Context, store: Arc<dyn Store>, args: &RunArgs) -> Result<(), CliError> {
    let bank = ctx.config.bank.as_str();
    let worker = args
        .worker
        .clone()
        .unwrap_or_else(|| format!("psd2-{}", std::process::id()));
    let interactive = ctx.interactive;
    loop {
        let spinner = Arc::new(PageProgress(Spinner::start("syncing", interactive)));
        let engine = engine_for(store.clone(), Arc::from(banks_adapter(&ctx)?), bank)
            .with_observer(spinner.clone());
        let reports = engine
            .run_due(&worker, Duration::from_secs(300), 1000)
            .await
            .map_err(sync_error);
        drop(engine);
        if let Ok(progress) = Arc::try_unwrap(spinner) {
            progress.0.finish();
        }
        print_reports(&reports?);
        if !args.watch {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(args.interval.max(1))) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

fn banks_adapter(ctx: &Context) -> Result<Box<dyn Bank>, CliError> {
    crate::banks::from_config(&ctx.config)
}

/// One line per connection: what the round did.
pub fn print_reports(reports: &[SyncReport]) {
    if reports.is_empty() {
        println!("no connection is due");
    }
    for report in reports {
        let (added, modified, removed) = report.totals();
        let deferred = report
            .accounts
            .iter()
            .filter(|a| matches!(a.outcome, AccountOutcome::Deferred { .. }))
            .count();
        let failed = report
            .accounts
            .iter()
            .filter(|a| matches!(a.outcome, AccountOutcome::Failed { .. }))
            .count();
        let next = report
            .next_sync_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "{}  {}  +{added} ~{modified} -{removed}  accounts {} (deferred {deferred}, failed {failed})  events {}  next {next}",
            report.connection,
            report.state.as_str(),
            report.accounts.len(),
            report.events,
        );
    }
}

async fn status(store: Arc<dyn Store>, format: Format) -> Result<(), CliError> {
    let db = |e: psd2_sync::store::StoreError| CliError::Local(format!("sync database: {e}"));
    let connections = store.connections().await.map_err(db)?;
    let today = Utc::now().date_naive();
    let mut table = Table::new(
        &[
            "connection",
            "bank",
            "state",
            "accounts",
            "last sync",
            "next sync",
            "calls left today",
            "consent days left",
        ],
        &[3, 6, 7],
    );
    for c in &connections {
        let lines = store.budget(&c.id, today).await.map_err(db)?;
        let granted = c
            .consent
            .frequency_per_day
            .unwrap_or(c.settings.default_frequency_per_day);
        let left = lines
            .iter()
            .filter(|l| l.day == today)
            .map(|l| l.granted.saturating_sub(l.used))
            .min()
            .unwrap_or(granted);
        let days_left = c
            .consent
            .valid_until
            .map(|d: NaiveDate| (d - today).num_days().to_string())
            .unwrap_or_else(|| "-".into());
        let time = |t: Option<chrono::DateTime<Utc>>| {
            t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "-".into())
        };
        table.row(vec![
            c.id.to_string(),
            c.bank.clone(),
            c.state.as_str().to_string(),
            c.accounts.len().to_string(),
            time(c.last_sync_at),
            time(c.next_sync_at),
            left.to_string(),
            days_left,
        ]);
    }
    match format {
        Format::Csv => {
            let rows = table.into_rows();
            let mut out = String::new();
            for row in rows {
                out.push_str(&output::csv_line(&row));
            }
            print!("{out}");
        }
        _ => print!("{}", table.render()),
    }
    Ok(())
}

async fn pick_connection(
    store: &Arc<dyn Store>,
    id: Option<&str>,
) -> Result<ConnectionId, CliError> {
    if let Some(id) = id {
        return Ok(ConnectionId::new(id));
    }
    let all = store
        .connections()
        .await
        .map_err(|e| CliError::Local(format!("sync database: {e}")))?;
    match all.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(CliError::Usage(
            "no connection yet: run `psd2 sync add`".into(),
        )),
        _ => Err(CliError::Usage(
            "several connections: choose one with --connection (see `psd2 sync status`)".into(),
        )),
    }
}

/// The columns of `sync changes --format csv`.
pub const CHANGE_COLUMNS: [&str; 9] = [
    "cursor",
    "kind",
    "key",
    "account",
    "status",
    "booking_date",
    "value_date",
    "amount",
    "currency",
];

fn change_row(c: &Change) -> Vec<String> {
    let t = &c.transaction;
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    vec![
        c.cursor.to_string(),
        c.kind.as_str().to_string(),
        c.key.to_string(),
        c.account.to_string(),
        text(&t["status"]),
        text(&t["bookingDate"]),
        text(&t["valueDate"]),
        text(&t["amount"]["amount"]),
        text(&t["amount"]["currency"]),
    ]
}

async fn changes(
    store: Arc<dyn Store>,
    args: &ChangesArgs,
    format: Format,
) -> Result<(), CliError> {
    let connection = pick_connection(&store, args.connection.as_deref()).await?;
    let changes = store
        .changes_since(&connection, args.since, args.limit)
        .await
        .map_err(|e| CliError::Local(format!("sync database: {e}")))?;
    match format {
        Format::Json => println!("{}", output::json(&changes)?),
        Format::Csv => {
            let mut out = output::csv_line(&CHANGE_COLUMNS);
            for c in &changes {
                out.push_str(&output::csv_line(&change_row(c)));
            }
            print!("{out}");
        }
        Format::Table => {
            let mut table = Table::new(&CHANGE_COLUMNS, &[0, 7]);
            for c in &changes {
                table.row(change_row(c));
            }
            print!("{}", table.render());
        }
    }
    Ok(())
}

fn event_row(e: &Event) -> Vec<String> {
    vec![
        e.cursor.to_string(),
        e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
        e.connection.to_string(),
        e.kind.as_str().to_string(),
        e.account
            .as_ref()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        e.error_kind.clone().unwrap_or_default(),
        output::printable(&e.detail, 120),
    ]
}

async fn events(store: Arc<dyn Store>, args: &EventsArgs, format: Format) -> Result<(), CliError> {
    let events = store
        .events_since(args.since, args.limit)
        .await
        .map_err(|e| CliError::Local(format!("sync database: {e}")))?;
    let header = [
        "cursor",
        "at",
        "connection",
        "kind",
        "account",
        "error_kind",
        "detail",
    ];
    match format {
        Format::Json => println!("{}", output::json(&events)?),
        Format::Csv => {
            let mut out = output::csv_line(&header);
            for e in &events {
                out.push_str(&output::csv_line(&event_row(e)));
            }
            print!("{out}");
        }
        Format::Table => {
            let mut table = Table::new(&header, &[0]);
            for e in &events {
                table.row(event_row(e));
            }
            print!("{}", table.render());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use psd2_sync::{ChangeKind, TxKey};

    #[test]
    fn a_registry_banks_sync_settings_come_from_its_profile() {
        // The expected values are read from the registry files as plain TOML.
        let registry = crate::registry::load(None, "test").unwrap();
        for id in ["bankwinter", "n26"] {
            let path = format!("{}/../../registry/{id}.toml", env!("CARGO_MANIFEST_DIR"));
            let file: toml::Table =
                toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let rules = &file["profile"]["transactions"];
            let choice = crate::registry::choose(id, &registry).unwrap();
            let settings = sync_settings(&choice);
            let stable = rules["ids_stable_across_booking"].as_bool().unwrap();
            assert_eq!(
                settings.ids,
                if stable {
                    psd2_sync::IdStability::Stable
                } else {
                    psd2_sync::IdStability::Unreliable
                },
                "{id}"
            );
            assert_eq!(
                i64::from(settings.history_days),
                rules["history_days"].as_integer().unwrap(),
                "{id}"
            );
        }
    }

    #[test]
    fn database_url_defaults_to_the_sqlite_file() {
        let args = |database: Option<&str>| SyncArgs {
            database: database.map(str::to_string),
            command: SyncCommand::Status,
        };
        assert_eq!(database_url(&args(None), None), "sqlite:psd2.db");
        assert_eq!(database_url(&args(Some("  ")), None), "sqlite:psd2.db");
        assert_eq!(
            database_url(&args(Some("postgres://db/psd2")), None),
            "postgres://db/psd2"
        );
        // The config file's URL when neither the option nor the variable is set.
        assert_eq!(
            database_url(&args(None), Some("sqlite:/var/lib/psd2/sync.db")),
            "sqlite:/var/lib/psd2/sync.db"
        );
        assert_eq!(
            database_url(&args(Some(" ")), Some("postgres://file/db")),
            "postgres://file/db"
        );
        assert_eq!(
            database_url(
                &args(Some("postgres://flag/db")),
                Some("postgres://file/db")
            ),
            "postgres://flag/db"
        );
    }

    #[test]
    fn the_config_file_names_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("psd2.toml");
        std::fs::write(
            &path,
            "bank = \"swedbank\"\ndatabase_url = \"postgres://psd2@db.internal/psd2\"\n",
        )
        .unwrap();
        assert_eq!(
            crate::config::file_database_url(Some(&path))
                .unwrap()
                .as_deref(),
            Some("postgres://psd2@db.internal/psd2")
        );
        std::fs::write(&path, "bank = \"swedbank\"\n").unwrap();
        assert_eq!(crate::config::file_database_url(Some(&path)).unwrap(), None);
        // A named file that is missing is an error, as for every other command.
        assert!(crate::config::file_database_url(Some(&dir.path().join("none.toml"))).is_err());
    }

    #[test]
    fn a_change_row_has_the_documented_columns() {
        let change = Change {
            cursor: 7,
            connection: ConnectionId::new("c1"),
            account: psd2::AccountId::new("a1"),
            key: TxKey::new("k1"),
            kind: ChangeKind::Modified,
            transaction: serde_json::json!({
                "status": "booked",
                "bookingDate": "2026-11-02",
                "valueDate": "2026-11-01",
                "amount": {"amount": "-58.20", "currency": "SEK"}
            }),
            at: Utc::now(),
        };
        let row = change_row(&change);
        assert_eq!(row.len(), CHANGE_COLUMNS.len());
        assert_eq!(
            row,
            [
                "7",
                "modified",
                "k1",
                "a1",
                "booked",
                "2026-11-02",
                "2026-11-01",
                "-58.20",
                "SEK"
            ]
        );
    }
}
