//! The command line: every command, option and help text (clap derive).

use std::net::IpAddr;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// PSD2 account information from the command line: a self-contained demo against the
/// embedded sandbox, and commands against one configured bank.
///
/// Configuration: a TOML file (`--config`, `$PSD2_CONFIG` or `./psd2.toml`) overridden by
/// `PSD2_*` environment variables; secrets come from the environment only. See docs/cli.md.
#[derive(Debug, Parser)]
#[command(name = "psd2", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Options every command understands.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The configuration file [default: $PSD2_CONFIG, else ./psd2.toml if present].
    #[arg(long, global = true, value_name = "FILE", env = "PSD2_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the session (consent id, tokens) is kept between invocations; written with
    /// mode 0600 and never printed.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "PSD2_SESSION",
        default_value = ".psd2-session.json"
    )]
    pub session: PathBuf,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The PSU is present at this IP address: sent as PSU-IP-Address, so the call does not
    /// count against the consent's frequencyPerDay.
    #[arg(long, global = true, value_name = "IP", env = "PSD2_PSU_IP_ADDRESS")]
    pub psu_ip: Option<IpAddr>,
    /// More detail on errors (the bank's message texts, the cause chain; never secrets).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The bank: handelsbanken, openpayments, swedbank, or a registry bank's id, BIC or
    /// name (`psd2 banks` lists them) [default: the config's `bank`, else $PSD2_BANK]. The
    /// demo takes several (repeat or comma-separate) and walks only those named banks.
    #[arg(long, global = true, value_name = "NAME|BIC", value_delimiter = ',')]
    pub bank: Vec<String>,
}

impl GlobalArgs {
    /// The one bank `--bank` names, if any (a command talks to one bank).
    pub fn one_bank(&self) -> Result<Option<&str>, crate::error::CliError> {
        match self.bank.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.as_str())),
            _ => Err(crate::error::CliError::Usage(
                "--bank names one bank for this command".into(),
            )),
        }
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// The facade's domain values as JSON (secrets redacted).
    Json,
    /// Comma-separated values with a fixed header (see docs/cli.md).
    Csv,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk all three sandbox banks end to end, in-process (--all-banks: every registry bank
    /// too): no configuration, no network.
    Demo(DemoArgs),
    /// List the registry banks (Berlin Group banks described by a file): id, name, country,
    /// BICs, hosting platform and SCA approaches.
    ///
    /// Reads the registry compiled into psd2, extended by `registry_dir` (config file) or
    /// $PSD2_REGISTRY_DIR. No bank call.
    Banks(BanksArgs),
    /// Create, inspect or delete the consent kept in the session file.
    ///
    /// Cost: consent calls do not count against the consent's daily access limit.
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// Authorise the session's consent (strong customer authentication).
    ///
    /// Cost: SCA calls do not count against the consent's daily access limit.
    Sca(ScaArgs),
    /// List the accounts the consent covers.
    ///
    /// Cost in unattended calls (each counts against the consent's frequencyPerDay, usually
    /// 4 a day, unless --psu-ip says the PSU is present): 1. With --balances: Open Payments
    /// and Swedbank 1; Handelsbanken 1 + one per account (4 accounts: 5 calls, more than a
    /// consent of 4 a day allows; the balances that arrive are shown, the rest named).
    Accounts(AccountsArgs),
    /// Show one account's balances.
    ///
    /// Cost in unattended calls (see `accounts --help`): 1, plus 1 to list the accounts when
    /// the account is given by IBAN.
    Balances(BalancesArgs),
    /// List one account's transactions, following every page.
    ///
    /// Cost in unattended calls (see `accounts --help`): one per page the bank sends (a
    /// retried page counts again), plus 1 when the account is given by IBAN.
    Transactions(TransactionsArgs),
    /// List the card accounts the consent covers.
    ///
    /// Cost in unattended calls (see `accounts --help`): 1.
    Cards,
    /// Keep the accounts in a database, unattended: add, run, status, changes, events.
    Sync(crate::sync::SyncArgs),
    /// Write one account's stored transactions as camt.053, OFX, CSV or JSON Lines.
    ///
    /// Reads the sync database only: no bank call.
    Export(crate::export::ExportArgs),
    /// Print a shell completion script to stdout.
    Completions(CompletionsArgs),
}

/// Options of `psd2 demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Transactions on the long-history account (the sandbox's default is 10,000; at most
    /// 5,000,000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=5_000_000))]
    pub history_size: Option<u64>,
    /// Also walk every registry bank the sandbox serves (consent, SCA by the bank's first
    /// approach, accounts, a page of transactions each).
    #[arg(long)]
    pub all_banks: bool,
}

/// Options of `psd2 banks`.
#[derive(Debug, Args)]
pub struct BanksArgs {
    /// Only the banks of this country (ISO 3166-1 alpha-2, e.g. SE).
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// Only the bank with this BIC (8 or 11 characters).
    #[arg(long, value_name = "BIC")]
    pub bic: Option<String>,
}

/// The banks this build knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum BankName {
    /// Handelsbanken (Sweden and the Nordics).
    Handelsbanken,
    /// The Open Payments platform (Nordic banks).
    Openpayments,
    /// Swedbank (Berlin Group XS2A, signed requests).
    Swedbank,
}

impl BankName {
    /// Every bank, in the demo's order.
    pub const ALL: [BankName; 3] = [Self::Handelsbanken, Self::Openpayments, Self::Swedbank];

    /// The lower-case name used in config files and the sandbox's path prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Handelsbanken => "handelsbanken",
            Self::Openpayments => "openpayments",
            Self::Swedbank => "swedbank",
        }
    }

    /// The name shown to people.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Handelsbanken => "Handelsbanken",
            Self::Openpayments => "Open Payments",
            Self::Swedbank => "Swedbank",
        }
    }

    /// Parses a config value (case-insensitive, `open-payments` and `open_payments` too).
    pub fn parse(text: &str) -> Option<Self> {
        let norm: String = text
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| *c != '-' && *c != '_' && *c != ' ')
            .collect();
        Self::ALL.into_iter().find(|b| b.as_str() == norm)
    }
}

/// `psd2 consent ...`.
#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Create a consent for all accounts and store its id in the session file.
    Create(ConsentCreateArgs),
    /// Show the stored consent's status and details.
    Status,
    /// Delete the stored consent at the bank and forget it.
    Delete,
}

/// Options of `psd2 consent create`.
#[derive(Debug, Args)]
pub struct ConsentCreateArgs {
    /// Last valid day (YYYY-MM-DD) [default: the bank's maximum].
    #[arg(long, value_name = "DATE")]
    pub valid_until: Option<NaiveDate>,
    /// Accesses per day without the PSU present.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub frequency_per_day: u32,
    /// A one-off consent instead of a recurring one.
    #[arg(long)]
    pub once: bool,
    /// Authorise the new consent right away with this approach (only `embedded`: the
    /// password comes from $PSD2_PSU_PASSWORD, the one-time code from --otp or stdin).
    #[arg(long, value_enum, value_name = "APPROACH")]
    pub sca: Option<InlineSca>,
    /// Embedded SCA options.
    #[command(flatten)]
    pub embedded: EmbeddedArgs,
}

/// SCA done by `psd2 consent create` itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InlineSca {
    /// The PSU's password and a one-time code, relayed to the bank.
    Embedded,
}

/// Options of embedded SCA. `Debug` never shows the one-time code.
#[derive(Clone, Default, Args)]
pub struct EmbeddedArgs {
    /// The SCA method to use, by the bank's id (e.g. sms-otp) [default: the first the bank
    /// offers].
    #[arg(long, value_name = "ID")]
    pub sca_method: Option<String>,
    /// The one-time code (for the sandbox; other callers type it on stdin when asked, so it
    /// stays out of the shell history and the process list). Never printed.
    #[arg(long, value_name = "CODE")]
    pub otp: Option<String>,
}

impl std::fmt::Debug for EmbeddedArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedArgs")
            .field("sca_method", &self.sca_method)
            .field("otp", &self.otp.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// How to do SCA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaMethodArg {
    /// Print the bank's URL and wait for its redirect on a local port.
    Redirect,
    /// Confirm in the bank's app (Mobile BankID); polled with a spinner.
    Decoupled,
    /// Relay the PSU's password ($PSD2_PSU_PASSWORD) and a one-time code (--otp or stdin)
    /// to the bank (registry banks whose profile offers it).
    Embedded,
}

/// Options of `psd2 sca`.
#[derive(Debug, Args)]
pub struct ScaArgs {
    /// Embedded SCA options (with --method embedded).
    #[command(flatten)]
    pub embedded: EmbeddedArgs,
    /// The SCA approach.
    #[arg(long, value_enum, default_value_t = ScaMethodArg::Decoupled)]
    pub method: ScaMethodArg,
    /// Local port the redirect comes back to (`http://127.0.0.1:PORT/callback`, unless the
    /// config sets `redirect_uri`).
    #[arg(long, default_value_t = 8765, value_name = "PORT")]
    pub callback_port: u16,
    /// Give up after this many seconds (1 to 3600); running out is exit code 7.
    #[arg(long, default_value_t = 300, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// Options of `psd2 accounts`.
#[derive(Debug, Args)]
pub struct AccountsArgs {
    /// Also fetch each account's balances.
    #[arg(long)]
    pub balances: bool,
}

/// Options of `psd2 balances`.
#[derive(Debug, Args)]
pub struct BalancesArgs {
    /// The account's id as `psd2 accounts` shows it (or its IBAN).
    pub account: String,
}

/// Which transactions to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Booked only.
    Booked,
    /// Pending only.
    Pending,
    /// Booked and pending.
    Both,
}

/// Options of `psd2 transactions`.
#[derive(Debug, Args)]
pub struct TransactionsArgs {
    /// The account's id as `psd2 accounts` shows it (or its IBAN).
    pub account: String,
    /// First booking date, inclusive (YYYY-MM-DD) [default: 90 days ago].
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last booking date, inclusive (YYYY-MM-DD) [default: today].
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    /// Booked, pending or both.
    #[arg(long, value_enum, default_value_t = StatusArg::Booked)]
    pub status: StatusArg,
}

/// Options of `psd2 completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_one_time_code_is_not_in_debug_output() {
        let cli = Cli::try_parse_from([
            "psd2",
            "--bank",
            "consorsbank",
            "consent",
            "create",
            "--sca",
            "embedded",
            "--otp",
            "918273",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(
            shown.contains("REDACTED") && !shown.contains("918273"),
            "{shown}"
        );
    }

    #[test]
    fn bank_names_parse_loosely() {
        assert_eq!(
            BankName::parse("Open-Payments"),
            Some(BankName::Openpayments)
        );
        assert_eq!(BankName::parse(" SWEDBANK "), Some(BankName::Swedbank));
        assert_eq!(BankName::parse("nordea"), None);
    }
}
