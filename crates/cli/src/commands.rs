//! The commands against a configured bank: consent, SCA, accounts, balances, transactions,
//! cards. Each loads the config and the session file, calls the facade, prints the result.

use std::io::Write as _;
use std::time::Duration;

use chrono::{Days, Utc};
use futures::TryStreamExt as _;
use psd2::{
    AccountId, AccountInformation, BookingStatus, CardAccountInformation, ConsentRequest, Consents,
    IbanOrRaw, Psu, RedirectCallback, ScaChallenge, ScaMethod, TransactionQuery,
};
use url::Url;

use crate::banks::{self, Adapter};
use crate::callback::CallbackServer;
use crate::cli::{
    AccountsArgs, BalancesArgs, BankName, ConsentCommand, ConsentCreateArgs, Format, GlobalArgs,
    InlineSca, ScaArgs, ScaMethodArg, StatusArg, TransactionsArgs,
};
use crate::config::Config;
use crate::error::CliError;
use crate::output::{self, Table};
use crate::progress::Spinner;
use crate::session::StoredSession;

/// What every configured command needs.
pub struct Context {
    /// The configuration.
    pub config: Config,
    /// The bank's adapter.
    pub adapter: Adapter,
    /// The PSU (present when `--psu-ip` is given).
    pub psu: Psu,
    /// Global options.
    pub format: Format,
    /// Where the session lives.
    pub session_path: std::path::PathBuf,
    /// Whether spinners may be drawn.
    pub interactive: bool,
    /// Whether the PSU is present (`--psu-ip`): calls then do not count against the
    /// consent's daily limit.
    pub psu_present: bool,
}

impl Context {
    /// Loads the config (file + environment) and builds the adapter; records the secrets
    /// to scrub from error output in `secrets`.
    pub fn load(
        global: &GlobalArgs,
        interactive: bool,
        secrets: &mut Vec<String>,
    ) -> Result<Self, CliError> {
        let env = |k: &str| std::env::var(k).ok();
        let config = Config::load_for(global.config.as_deref(), &env, global.one_bank()?)?;
        secrets.extend(config.client_secret.clone());
        secrets.extend(config.psu_id.clone());
        if global.verbose > 0 {
            eprintln!("psd2: {}", config.describe());
        }
        let adapter = banks::from_config(&config)?;
        let psu = banks::psu(&config, global.psu_ip);
        Ok(Self {
            config,
            adapter,
            psu,
            format: global.format,
            session_path: global.session.clone(),
            interactive,
            psu_present: global.psu_ip.is_some(),
        })
    }

    /// The bank's name (registry banks: their id).
    pub fn bank(&self) -> &'static str {
        self.config.bank.as_str()
    }

    /// The adapter's consent operations.
    pub fn consents(&self) -> Result<&dyn Consents, CliError> {
        self.adapter
            .as_consents()
            .ok_or_else(|| psd2::Error::unsupported(self.bank(), "consents").into())
    }

    fn ai(&self) -> Result<&dyn AccountInformation, CliError> {
        self.adapter
            .as_account_information()
            .ok_or_else(|| psd2::Error::unsupported(self.bank(), "accounts").into())
    }

    fn cards(&self) -> Result<&dyn CardAccountInformation, CliError> {
        self.adapter
            .as_card_account_information()
            .ok_or_else(|| psd2::Error::unsupported(self.bank(), "card_accounts").into())
    }

    fn session(&self, secrets: &mut Vec<String>) -> Result<StoredSession, CliError> {
        let stored =
            StoredSession::require(&self.session_path, self.bank(), &self.config.base_url)?;
        secrets.extend(stored.secrets());
        Ok(stored)
    }

    /// The stored session, which must be authorised.
    fn authorised(&self, secrets: &mut Vec<String>) -> Result<StoredSession, CliError> {
        let stored = self.session(secrets)?;
        if !stored.authorised {
            return Err(CliError::Usage(format!(
                "the consent in {} is not authorised yet: run `psd2 sca`",
                self.session_path.display()
            )));
        }
        Ok(stored)
    }
}

/// Writes `text` to stdout; a closed pipe is not an error.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_else(|e| {
            // A closed pipe (`| head`) is not an error worth reporting.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(CliError::Local(format!("cannot write to stdout: {e}")))
            }
        })
}

/// Key/value lines as a two-column table (or CSV `key,value`).
fn key_values(rows: &[(&str, String)], format: Format) -> String {
    match format {
        Format::Csv => {
            let mut out = output::csv_line(&["key", "value"]);
            for (k, v) in rows {
                out.push_str(&output::csv_line(&[*k, v.as_str()]));
            }
            out
        }
        _ => {
            let mut table = Table::new(&["field", "value"], &[]);
            for (k, v) in rows {
                table.row(vec![k.to_string(), v.clone()]);
            }
            table.render()
        }
    }
}

/// `psd2 consent create|status|delete`.
pub async fn consent(
    ctx: &Context,
    command: &ConsentCommand,
    secrets: &mut Vec<String>,
) -> Result<(), CliError> {
    match command {
        ConsentCommand::Create(args) => consent_create(ctx, args, secrets).await,
        ConsentCommand::Status => {
            let stored = ctx.session(secrets)?;
            let consent = ctx.consents()?.consent(&stored.consent(), &ctx.psu).await?;
            let today = Utc::now().date_naive();
            let lapsed = consent.valid_until.is_some_and(|until| until < today);
            let usable = consent.status.is_usable() && !lapsed;
            let text = match ctx.format {
                Format::Json => {
                    let mut value = serde_json::to_value(&consent)
                        .map_err(|e| CliError::Local(format!("cannot encode JSON: {e}")))?;
                    if let Some(obj) = value.as_object_mut() {
                        obj.insert("usable".into(), usable.into());
                    }
                    output::json(&value)?
                }
                format => key_values(
                    &[
                        ("bank", ctx.bank().to_string()),
                        ("status", consent.status.to_string()),
                        (
                            "usable",
                            if lapsed && consent.status.is_usable() {
                                "false (valid_until has passed)".to_string()
                            } else {
                                usable.to_string()
                            },
                        ),
                        ("valid_until", opt(&consent.valid_until)),
                        ("frequency_per_day", opt(&consent.frequency_per_day)),
                        ("recurring", opt(&consent.recurring)),
                        ("last_action_date", opt(&consent.last_action_date)),
                        ("sca_done", stored.authorised.to_string()),
                    ],
                    format,
                ),
            };
            print(&text)
        }
        ConsentCommand::Delete => {
            let stored = ctx.session(secrets)?;
            ctx.consents()?
                .delete_consent(&stored.consent(), &ctx.psu)
                .await?;
            StoredSession::remove(&ctx.session_path)?;
            let text = match ctx.format {
                Format::Json => {
                    output::json(&serde_json::json!({"deleted": true, "bank": ctx.bank()}))?
                }
                format => key_values(
                    &[("bank", ctx.bank().to_string()), ("deleted", "true".into())],
                    format,
                ),
            };
            print(&text)
        }
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// What the bank granted; when its answer does not say, that, with what was asked for.
fn granted<T: ToString>(granted: &Option<T>, asked: &T) -> String {
    match granted {
        Some(v) => v.to_string(),
        None => format!("not stated by the bank (asked for {})", asked.to_string()),
    }
}

async fn consent_create(
    ctx: &Context,
    args: &ConsentCreateArgs,
    secrets: &mut Vec<String>,
) -> Result<(), CliError> {
    if args.frequency_per_day == 0 {
        return Err(CliError::Usage(
            "--frequency-per-day must be at least 1".into(),
        ));
    }
    let today = Utc::now().date_naive();
    let valid_until = args
        .valid_until
        .unwrap_or_else(|| today.checked_add_days(Days::new(89)).unwrap_or(today));
    let request = ConsentRequest::all_accounts()
        .valid_until(valid_until)
        .frequency_per_day(args.frequency_per_day)
        .recurring(!args.once);
    if args.sca.is_some() && ctx.config.bank.named().is_some() {
        return Err(CliError::Usage(format!(
            "{} offers no embedded SCA; create the consent and run `psd2 sca`",
            ctx.config.bank.display_name()
        )));
    }
    let mut created = ctx.consents()?.create_consent(&request, &ctx.psu).await?;
    secrets.push(created.consent.id.expose().to_string());
    read_back(ctx, &mut created.consent).await;
    let mut stored = StoredSession::new(
        ctx.bank(),
        ctx.config.base_url.as_str(),
        &created.consent.id,
    );
    stored.save(&ctx.session_path)?;
    let authorised = match args.sca {
        Some(InlineSca::Embedded) => {
            let session = crate::embedded::authorise(
                ctx,
                &created.consent.id,
                &args.embedded,
                secrets,
                &created.sca_methods,
            )
            .await?;
            stored.set_authorised(&session);
            stored.save(&ctx.session_path)?;
            true
        }
        None => false,
    };
    let consent = &created.consent;
    let text = match ctx.format {
        Format::Json => output::json(&serde_json::json!({
            "consent": consent,
            "scaApproaches": created.approaches,
            "authorised": authorised,
        }))?,
        format => key_values(
            &[
                ("bank", ctx.bank().to_string()),
                ("status", consent.status.to_string()),
                ("valid_until", granted(&consent.valid_until, &valid_until)),
                (
                    "frequency_per_day",
                    granted(&consent.frequency_per_day, &args.frequency_per_day),
                ),
                ("recurring", granted(&consent.recurring, &!args.once)),
                ("sca_approaches", approach_names(&created.approaches)),
                ("authorised", authorised.to_string()),
            ],
            format,
        ),
    };
    print(&text)?;
    next_step(ctx, authorised);
    Ok(())
}

/// When the creation answer does not say what was granted (validity, accesses a day,
/// recurring: a Berlin Group bank's answer never does), the consent as the bank reads it back
/// (1 consent call, not counted against the daily limit). A failed read leaves `consent`
/// as it was: what is unknown is then shown as not stated.
async fn read_back(ctx: &Context, consent: &mut psd2::Consent) {
    let complete = consent.valid_until.is_some()
        && consent.frequency_per_day.is_some()
        && consent.recurring.is_some();
    if complete {
        return;
    }
    let Ok(consents) = ctx.consents() else {
        return;
    };
    if let Ok(read) = consents.consent(&consent.id, &ctx.psu).await {
        consent.valid_until = consent.valid_until.or(read.valid_until);
        consent.frequency_per_day = consent.frequency_per_day.or(read.frequency_per_day);
        consent.recurring = consent.recurring.or(read.recurring);
    }
}

/// The approaches as the CLI names them, space-separated.
fn approach_names(approaches: &[psd2::ScaApproach]) -> String {
    approaches
        .iter()
        .map(|a| match a {
            psd2::ScaApproach::Redirect => "redirect".to_string(),
            psd2::ScaApproach::Decoupled => "decoupled".to_string(),
            psd2::ScaApproach::Embedded => "embedded".to_string(),
            psd2::ScaApproach::Other(o) => o.clone(),
            _ => "other".to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Tells on stderr where the consent is and what comes next.
fn next_step(ctx: &Context, authorised: bool) {
    if authorised {
        eprintln!(
            "psd2: consent authorised and stored in {}",
            ctx.session_path.display()
        );
    } else {
        eprintln!(
            "psd2: consent stored in {}; next: `psd2 sca --method decoupled` (or redirect, or \
             embedded where the bank offers it)",
            ctx.session_path.display()
        );
    }
}

/// `psd2 sca`: authorises the stored consent and stores the resulting session.
pub async fn sca(ctx: &Context, args: &ScaArgs, secrets: &mut Vec<String>) -> Result<(), CliError> {
    let mut stored = ctx.session(secrets)?;
    let consent = stored.consent();
    let consents = ctx.consents()?;
    let timeout = Duration::from_secs(args.timeout);
    let session = match args.method {
        ScaMethodArg::Embedded => {
            crate::embedded::authorise(ctx, &consent, &args.embedded, secrets, &[]).await?
        }
        ScaMethodArg::Decoupled => {
            let challenge = consents
                .start_sca(&consent, &ScaMethod::Decoupled, &ctx.psu)
                .await?;
            let ScaChallenge::Decoupled {
                handle, message, ..
            } = challenge
            else {
                return Err(CliError::Local(format!(
                    "{} answered a decoupled SCA request with a redirect; use --method redirect",
                    ctx.bank()
                )));
            };
            if let Some(message) = message {
                // The bank's words for the PSU: shown, but never as terminal control codes.
                eprintln!("{}: {}", ctx.bank(), output::printable(&message, 300));
            }
            let spinner = Spinner::start(
                "waiting for the PSU to confirm in the bank's app (Mobile BankID)",
                ctx.interactive,
            );
            let result = consents
                .wait_for_decoupled(&consent, &handle, timeout, &ctx.psu)
                .await;
            spinner.finish();
            result?
        }
        ScaMethodArg::Redirect => {
            let redirect_uri = match &ctx.config.redirect_uri {
                Some(uri) => uri.clone(),
                None => Url::parse(&format!("http://127.0.0.1:{}/callback", args.callback_port))
                    .map_err(|e| CliError::Usage(e.to_string()))?,
            };
            let server = CallbackServer::bind(args.callback_port, &redirect_uri).await?;
            let challenge = consents
                .start_sca(
                    &consent,
                    &ScaMethod::Redirect {
                        redirect_uri: redirect_uri.clone(),
                    },
                    &ctx.psu,
                )
                .await?;
            let ScaChallenge::Redirect { url, state } = challenge else {
                return Err(CliError::Local(format!(
                    "{} answered a redirect SCA request with a decoupled one; use --method decoupled",
                    ctx.bank()
                )));
            };
            // The PSU must open this URL; it is the one thing printed that carries the
            // consent reference, on purpose.
            println!("Open this URL in a browser to authorise the consent:");
            println!("{url}");
            let _ = std::io::stdout().flush();
            let spinner = Spinner::start(
                &format!("waiting for the bank's redirect to {redirect_uri}"),
                ctx.interactive,
            );
            let result = server.wait(&state, timeout).await;
            spinner.finish();
            let back = result?;
            let callback = RedirectCallback::from_url(&back)?;
            callback.verify_state(&state)?;
            consents
                .complete_redirect(&consent, &callback, &ctx.psu)
                .await?
        }
    };
    stored.set_authorised(&session);
    secrets.extend(stored.secrets());
    stored.save(&ctx.session_path)?;
    let status = consents
        .consent_status(&session.consent_id, &ctx.psu)
        .await
        .ok();
    let text = match ctx.format {
        Format::Json => output::json(&serde_json::json!({
            "bank": ctx.bank(),
            "authorised": true,
            "consentStatus": status,
        }))?,
        format => key_values(
            &[
                ("bank", ctx.bank().to_string()),
                ("authorised", "true".into()),
                ("consent_status", opt(&status)),
            ],
            format,
        ),
    };
    print(&text)
}

/// Stores tokens the adapter renewed during a call (Handelsbanken refreshes expired ones).
async fn store_renewed(ctx: &Context, stored: &mut StoredSession) {
    if let Some(session) = banks::renewed_session(ctx.adapter.as_ref(), &stored.to_session()) {
        stored.set_authorised(&session);
        let _ = stored.save(&ctx.session_path);
    }
}

/// Turns an account-information failure into the CLI error; an auth failure (exit 3) that
/// is not already about the consent is explained by the consent's status when that is no
/// longer usable (e.g. a token refresh refused because the consent expired).
async fn diagnose(ctx: &Context, stored: &StoredSession, error: psd2::Error) -> CliError {
    use psd2::ErrorKind as K;
    let consent_kind = matches!(
        error.kind,
        K::ConsentExpired | K::ConsentInvalid | K::ConsentRevoked | K::ConsentUnknown
    );
    if crate::error::exit_code_of_kind(&error.kind) != crate::error::EXIT_AUTH || consent_kind {
        return CliError::Bank(error);
    }
    let Ok(consents) = ctx.consents() else {
        return CliError::Bank(error);
    };
    match consents.consent_status(&stored.consent(), &ctx.psu).await {
        Ok(status) if !status.is_usable() => CliError::Diagnosed {
            error,
            consent_status: status,
        },
        _ => CliError::Bank(error),
    }
}

/// `psd2 accounts`.
pub async fn accounts(
    ctx: &Context,
    args: &AccountsArgs,
    secrets: &mut Vec<String>,
) -> Result<(), CliError> {
    let mut stored = ctx.authorised(secrets)?;
    let session = stored.to_session();
    // Handelsbanken has no "with balances" listing: one call per account, each counting
    // against the consent's daily limit. Those are read one by one, so whatever arrives is
    // shown even when the limit runs out part way.
    let per_account = args.balances && ctx.config.bank.named() == Some(BankName::Handelsbanken);
    let list = ctx
        .ai()?
        .accounts(&session, &ctx.psu, args.balances && !per_account)
        .await;
    let mut list = match list {
        Ok(list) => list,
        Err(e) => {
            store_renewed(ctx, &mut stored).await;
            return Err(diagnose(ctx, &stored, e).await);
        }
    };
    let missing = if per_account {
        balances_one_by_one(ctx, &session, &mut list).await?
    } else {
        Vec::new()
    };
    store_renewed(ctx, &mut stored).await;
    print(&output::accounts(&list, ctx.format)?)?;
    let Some(first) = missing.into_iter().next() else {
        return Ok(());
    };
    Err(diagnose(ctx, &stored, first).await)
}

/// Reads each account's balances with its own call; returns the failures (the first one
/// first) after telling on stderr which accounts have none and why. After a rate limit the
/// remaining accounts are not tried: each try would count and fail the same way.
async fn balances_one_by_one(
    ctx: &Context,
    session: &psd2::Session,
    list: &mut [psd2::Account],
) -> Result<Vec<psd2::Error>, CliError> {
    let ai = ctx.ai()?;
    if !ctx.psu_present {
        eprintln!(
            "psd2: {} reads balances with one call per account: {} more unattended call{} \
             against the consent's daily limit (frequencyPerDay; `--psu-ip` when the PSU is \
             present)",
            ctx.config.bank.display_name(),
            list.len(),
            if list.len() == 1 { "" } else { "s" }
        );
    }
    let mut failures: Vec<psd2::Error> = Vec::new();
    let mut not_tried = 0usize;
    for account in list.iter_mut() {
        if failures
            .iter()
            .any(|e| matches!(e.kind, psd2::ErrorKind::AccessExceeded { .. }))
        {
            not_tried += 1;
            continue;
        }
        match ai.balances(session, &ctx.psu, &account.id).await {
            Ok(balances) => account.balances = balances,
            Err(e) => {
                eprintln!(
                    "psd2: no balances for account {}: the bank refused ({})",
                    account.id, e.kind
                );
                failures.push(e);
            }
        }
    }
    if !failures.is_empty() {
        let shown = list.len().saturating_sub(failures.len() + not_tried);
        eprintln!(
            "psd2: balances shown for {shown} of {} accounts; {} refused{}",
            list.len(),
            failures.len(),
            if not_tried > 0 {
                format!(
                    ", {not_tried} not asked for (the bank's access limit was reached: asking \
                     would count and fail too)"
                )
            } else {
                String::new()
            }
        );
    }
    Ok(failures)
}

/// The longest account argument accepted (an id or an IBAN).
pub const MAX_ACCOUNT_ARG: usize = 256;

/// Checks an account argument before anything is sent: it becomes a URL path segment, so
/// `.`/`..` (which would move up the path), separators and control characters are refused,
/// and so is anything longer than [`MAX_ACCOUNT_ARG`]. The message never echoes it.
pub fn check_account_arg(text: &str) -> Result<(), CliError> {
    let id = text.trim();
    let chars = id.chars().count();
    let problem = if id.is_empty() {
        Some("is empty".to_string())
    } else if chars > MAX_ACCOUNT_ARG {
        Some(format!(
            "is {chars} characters long (at most {MAX_ACCOUNT_ARG})"
        ))
    } else if id == "." || id == ".." {
        Some("is `.` or `..`, which is not an account".to_string())
    } else if id
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '\\' | '?' | '#'))
    {
        Some("holds a space, a control character or one of / \\ ? #".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(CliError::Usage(format!(
            "the account argument {problem}: give an account id as `psd2 accounts` shows it, or \
             its IBAN"
        ))),
        None => Ok(()),
    }
}

/// Resolves an account argument: an id as given, or an IBAN looked up in the account list.
async fn resolve_account(
    ctx: &Context,
    session: &psd2::Session,
    text: &str,
) -> Result<AccountId, CliError> {
    check_account_arg(text)?;
    if let IbanOrRaw::Valid(iban) = IbanOrRaw::parse(text) {
        let list = ctx.ai()?.accounts(session, &ctx.psu, false).await?;
        return list
            .into_iter()
            .find(|a| a.iban.as_ref().and_then(IbanOrRaw::valid) == Some(&iban))
            .map(|a| a.id)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "no account with IBAN {} under this consent (see `psd2 accounts`)",
                    text.trim()
                ))
            });
    }
    Ok(AccountId::new(text.trim()))
}

/// `psd2 balances ACCOUNT`.
pub async fn balances(
    ctx: &Context,
    args: &BalancesArgs,
    secrets: &mut Vec<String>,
) -> Result<(), CliError> {
    let mut stored = ctx.authorised(secrets)?;
    let session = stored.to_session();
    let account = resolve_account(ctx, &session, &args.account).await?;
    let list = ctx.ai()?.balances(&session, &ctx.psu, &account).await;
    store_renewed(ctx, &mut stored).await;
    let list = match list {
        Ok(list) => list,
        Err(e) => return Err(diagnose(ctx, &stored, e).await),
    };
    print(&output::balances(account.as_str(), &list, ctx.format)?)
}

/// `psd2 transactions ACCOUNT`.
pub async fn transactions(
    ctx: &Context,
    args: &TransactionsArgs,
    secrets: &mut Vec<String>,
) -> Result<(), CliError> {
    let mut stored = ctx.authorised(secrets)?;
    let session = stored.to_session();
    let today = Utc::now().date_naive();
    let to = args.to.unwrap_or(today);
    let from = args
        .from
        .unwrap_or_else(|| to.checked_sub_days(Days::new(90)).unwrap_or(to));
    if from > to {
        return Err(CliError::Usage(format!("--from {from} is after --to {to}")));
    }
    let status = match args.status {
        StatusArg::Booked => BookingStatus::Booked,
        StatusArg::Pending => BookingStatus::Pending,
        StatusArg::Both => BookingStatus::Both,
    };
    let account = resolve_account(ctx, &session, &args.account).await?;
    let query = TransactionQuery::new(Some(from), Some(to), status);
    let spinner = ctx
        .interactive
        .then(|| Spinner::start("reading transactions (every page)", true));
    let mut list = Vec::new();
    let mut stream = ctx.ai()?.transactions(&session, &ctx.psu, &account, &query);
    let result = loop {
        match stream.try_next().await {
            Ok(Some(t)) => {
                list.push(t);
                if let Some(s) = &spinner
                    && list.len() % 100 == 0
                {
                    s.set_message(format!("reading transactions: {}", list.len()));
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    drop(stream);
    if let Some(s) = spinner {
        s.finish();
    }
    store_renewed(ctx, &mut stored).await;
    if let Err(e) = result {
        return Err(diagnose(ctx, &stored, e).await);
    }
    print(&output::transactions(&list, ctx.format)?)
}

/// `psd2 cards`.
pub async fn cards(ctx: &Context, secrets: &mut Vec<String>) -> Result<(), CliError> {
    let mut stored = ctx.authorised(secrets)?;
    let session = stored.to_session();
    let list = ctx.cards()?.card_accounts(&session, &ctx.psu).await;
    store_renewed(ctx, &mut stored).await;
    let list = match list {
        Ok(list) => list,
        Err(e) => return Err(diagnose(ctx, &stored, e).await),
    };
    print(&output::cards(&list, ctx.format)?)
}
