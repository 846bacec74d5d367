//! Registry banks: choosing a bank by name, id or BIC, and `psd2 banks`.
//!
//! A bank is one of the three named banks (their own adapters) or a registry bank: a
//! Berlin Group bank described by a file, served by the facade's generic adapter. The
//! registry is the one compiled into psd2, extended (or overridden, file by file) by the
//! directory `registry_dir` of the config file or `$PSD2_REGISTRY_DIR`.

use std::path::Path;

use psd2_registry::{Registry, RegistryEntry, ScaApproachKind};
use serde::Serialize;

use crate::cli::{BankName, BanksArgs, Format, GlobalArgs};
use crate::error::CliError;
use crate::output::{self, Table};

/// The environment variable naming a directory of extra registry files.
pub const REGISTRY_DIR_ENV: &str = "PSD2_REGISTRY_DIR";

/// The bank a command talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankChoice {
    /// One of the banks with their own adapter.
    Named(BankName),
    /// A registry bank, served by the generic Berlin Group adapter.
    Registry(Box<RegistryEntry>),
}

impl BankChoice {
    /// The bank's name in sessions, sync connections and messages: the named bank's
    /// lower-case name or the registry id.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Named(bank) => bank.as_str(),
            Self::Registry(entry) => intern(&entry.id),
        }
    }

    /// The name shown to people.
    pub fn display_name(&self) -> &str {
        match self {
            Self::Named(bank) => bank.display_name(),
            Self::Registry(entry) => &entry.name,
        }
    }

    /// The named bank, if it is one.
    pub fn named(&self) -> Option<BankName> {
        match self {
            Self::Named(bank) => Some(*bank),
            Self::Registry(_) => None,
        }
    }

    /// The base URL used when none is configured: the bank on a local
    /// `psd2-sandbox --port 8080` (never the bank's live host: that is chosen explicitly).
    pub fn sandbox_default_base_url(&self) -> String {
        match self {
            Self::Named(bank) => crate::config::sandbox_default_base_url(*bank),
            Self::Registry(entry) => format!("http://127.0.0.1:8080{}", entry.sandbox_path()),
        }
    }
}

/// `id` as a `&'static str`, shared with the facade (a registry adapter's
/// [`psd2::Bank::name`] is the same string).
pub use psd2::registry::intern;

/// The registry: the compiled-in banks, extended by the files in `dir` (if any). `source`
/// names where `dir` came from, for the message of a directory that does not load.
pub fn load(dir: Option<&Path>, source: &str) -> Result<Registry, CliError> {
    let registry = Registry::embedded()
        .map_err(|e| CliError::Local(format!("the compiled-in registry does not load: {e}")))?;
    match dir {
        None => Ok(registry),
        Some(dir) => registry
            .with_dir(dir)
            .map_err(|e| CliError::Usage(format!("{source} ({}): {e}", dir.display()))),
    }
}

/// The bank `key` names: a named bank (handelsbanken, openpayments, swedbank, loosely
/// spelled) first, else a registry bank by id, BIC or name. `None` when neither knows it.
pub fn choose(key: &str, registry: &Registry) -> Option<BankChoice> {
    BankName::parse(key).map(BankChoice::Named).or_else(|| {
        registry
            .find(key)
            .map(|e| BankChoice::Registry(Box::new(e.clone())))
    })
}

/// The message for a bank nobody knows. It never repeats the value (a mistyped PSU id in
/// the wrong field must not end up in a terminal log).
pub fn unknown_bank_message() -> String {
    "bank is not one this psd2 knows: use handelsbanken, openpayments, swedbank, or a \
     registry bank's id, BIC or name (`psd2 banks` lists them)"
        .into()
}

/// The CLI's name of an SCA approach of a profile.
pub(crate) fn approach_name(approach: ScaApproachKind) -> &'static str {
    match approach {
        ScaApproachKind::Redirect => "redirect",
        ScaApproachKind::Decoupled => "decoupled",
        ScaApproachKind::Embedded => "embedded",
    }
}

/// One row of `psd2 banks`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BankRow<'a> {
    id: &'a str,
    name: &'a str,
    country: &'a str,
    bics: &'a [String],
    platform: &'a str,
    sca_approaches: Vec<&'static str>,
    live_url: &'a str,
}

/// The CSV header of `psd2 banks`.
pub const BANK_COLUMNS: [&str; 6] = ["id", "name", "country", "bics", "platform", "sca"];

/// The registry banks matching `args`, by id.
pub fn select<'a>(registry: &'a Registry, args: &BanksArgs) -> Vec<&'a RegistryEntry> {
    registry
        .entries()
        .iter()
        .filter(|e| {
            args.country
                .as_deref()
                .is_none_or(|c| e.country.eq_ignore_ascii_case(c.trim()))
        })
        .filter(|e| {
            args.bic
                .as_deref()
                .is_none_or(|bic| registry.by_bic(bic).is_some_and(|found| found.id == e.id))
        })
        .collect()
}

/// `psd2 banks` as text in `format`.
pub fn render(entries: &[&RegistryEntry], format: Format) -> Result<String, CliError> {
    let rows: Vec<BankRow<'_>> = entries
        .iter()
        .map(|e| BankRow {
            id: &e.id,
            name: &e.name,
            country: &e.country,
            bics: &e.bics,
            platform: &e.platform,
            sca_approaches: e
                .profile
                .sca_approaches
                .iter()
                .copied()
                .map(approach_name)
                .collect(),
            live_url: e.urls.live.as_str(),
        })
        .collect();
    let cells = |r: &BankRow<'_>| {
        vec![
            r.id.to_string(),
            r.name.to_string(),
            r.country.to_string(),
            r.bics.join(" "),
            r.platform.to_string(),
            r.sca_approaches.join(" "),
        ]
    };
    Ok(match format {
        Format::Json => output::json(&rows)?,
        Format::Csv => {
            let mut out = output::csv_line(&BANK_COLUMNS);
            for row in &rows {
                let cells = cells(row);
                let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
                out.push_str(&output::csv_line(&refs));
            }
            out
        }
        Format::Table => {
            let mut table = Table::new(&BANK_COLUMNS, &[]);
            for row in &rows {
                table.row(cells(row));
            }
            table.render()
        }
    })
}

/// `psd2 banks`: the registry banks matching the filters, in the chosen format.
pub fn run(global: &GlobalArgs, args: &BanksArgs) -> Result<(), CliError> {
    let env = |k: &str| std::env::var(k).ok();
    let dir = crate::config::registry_dir(global.config.as_deref(), &env)?;
    let registry = match &dir {
        Some((dir, source)) => load(Some(dir), source)?,
        None => load(None, "")?,
    };
    let entries = select(&registry, args);
    if entries.is_empty() {
        eprintln!("psd2: no registry bank matches (`psd2 banks` without filters lists them all)");
    }
    crate::commands::print(&render(&entries, global.format)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_banks_come_before_the_registry() {
        let registry = load(None, "test").unwrap();
        // `swedbank` is also a registry id: the named bank (its own adapter) wins.
        assert_eq!(
            choose("Swedbank", &registry),
            Some(BankChoice::Named(BankName::Swedbank))
        );
        // Its BIC is only in the registry.
        let by_bic = choose("SWEDNOKK", &registry).unwrap();
        assert_eq!(by_bic.as_str(), "swedbank");
        assert!(by_bic.named().is_none());
        assert_eq!(choose("no-such-bank", &registry), None);
    }
}
