//! Berlin Group banks as data.
//!
//! One TOML file per bank under the workspace's `registry/` folder says who the bank is
//! (name, country, BICs, hosting platform, base URLs) and, in its `[profile]`, how its
//! NextGenPSD2 API differs from the standard ([`BankProfile`]). The files are embedded at
//! build time ([`Registry::embedded`]) and can be overridden or extended from a directory
//! ([`Registry::with_dir`]). Every file is validated on load; an error names the file, the
//! key and the reason.
//!
//! The facade (`psd2`) builds the generic Berlin Group adapter from a [`RegistryEntry`]; the
//! sandbox (`psd2-sandbox`) serves every entry as a bank that behaves as its profile says.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod profile;
mod validate;

use std::path::{Path, PathBuf};

pub use profile::{
    AccountRules, BankProfile, BankUrls, BookingStatusKind, ConsentRules, ConsentScopeKind,
    DateField, ErrorShape, Hook, LocalSandbox, MappedError, RegistryEntry, Requirement,
    ScaApproachKind, Security, TransactionRules,
};

/// The registry files compiled into this crate: `(file name, contents)`, sorted by name.
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Why a registry file or directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file is not valid TOML or does not match the format.
    #[error("{file}: key `{key}`: {reason}")]
    Invalid {
        /// The file (path or embedded name).
        file: String,
        /// The key path, e.g. `profile.transactions.page_size` (`.` for the whole file).
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The directory or a file in it could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl RegistryError {
    pub(crate) fn invalid(file: &str, key: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            file: file.to_string(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

/// Parses and validates one registry file. `file` is its name (`nordbank.toml`) or path,
/// used for the bank's id (the stem) and in errors.
pub fn parse_entry(file: &str, text: &str) -> Result<RegistryEntry, RegistryError> {
    let id = Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let deserializer = toml::Deserializer::parse(text)
        .map_err(|e| RegistryError::invalid(file, ".", one_line(&e.to_string())))?;
    let mut entry: RegistryEntry = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        RegistryError::invalid(file, &key, one_line(&e.into_inner().to_string()))
    })?;
    entry.id = id;
    validate::entry(file, &entry)?;
    Ok(entry)
}

fn one_line(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.starts_with('^'))
        .collect::<Vec<_>>()
        .join("; ");
    line.chars().take(300).collect()
}

/// The known banks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    entries: Vec<RegistryEntry>,
}

impl Registry {
    /// The banks compiled in from the workspace's `registry/` folder.
    pub fn embedded() -> Result<Self, RegistryError> {
        let mut registry = Self::default();
        for (file, text) in EMBEDDED {
            registry.insert(parse_entry(file, text)?, file)?;
        }
        Ok(registry)
    }

    /// The banks in `dir` only (every `*.toml` file).
    pub fn from_dir(dir: &Path) -> Result<Self, RegistryError> {
        Self::default().with_dir(dir)
    }

    /// These banks, with every `*.toml` in `dir` added; a file whose id is already known
    /// replaces that bank.
    pub fn with_dir(mut self, dir: &Path) -> Result<Self, RegistryError> {
        let io = |source| RegistryError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for item in std::fs::read_dir(dir).map_err(io)? {
            let path = item.map_err(io)?.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| RegistryError::Io {
                path: path.clone(),
                source,
            })?;
            let name = path.display().to_string();
            let entry = parse_entry(&name, &text)?;
            self.entries.retain(|known| known.id != entry.id);
            self.insert(entry, &name)?;
        }
        Ok(self)
    }

    fn insert(&mut self, entry: RegistryEntry, file: &str) -> Result<(), RegistryError> {
        if self.entries.iter().any(|e| e.id == entry.id) {
            return Err(RegistryError::invalid(
                file,
                ".",
                "a bank with this id is listed twice",
            ));
        }
        for bic in &entry.bics {
            if let Some(other) = self.entries.iter().find(|e| e.bics.contains(bic)) {
                return Err(RegistryError::invalid(
                    file,
                    "bics",
                    format!("BIC {bic} is already listed by bank `{}`", other.id),
                ));
            }
        }
        self.entries.push(entry);
        self.entries.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(())
    }

    /// Every bank, by id.
    pub fn entries(&self) -> &[RegistryEntry] {
        &self.entries
    }

    /// The bank with this id, BIC (8 or 11 characters; an 8-character BIC also matches its
    /// `XXX` branch form) or display name (case-insensitive).
    pub fn find(&self, key: &str) -> Option<&RegistryEntry> {
        let key = key.trim();
        self.entries
            .iter()
            .find(|e| e.id == key)
            .or_else(|| self.by_bic(key))
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|e| e.name.eq_ignore_ascii_case(key))
            })
    }

    /// The bank with this BIC.
    pub fn by_bic(&self, bic: &str) -> Option<&RegistryEntry> {
        let bic = bic.trim().to_ascii_uppercase();
        let short = bic.strip_suffix("XXX").filter(|s| s.len() == 8);
        self.entries.iter().find(|e| {
            e.bics.iter().any(|b| {
                *b == bic || Some(b.as_str()) == short || b.strip_suffix("XXX") == Some(&bic)
            })
        })
    }

    /// The banks of one country (ISO 3166-1 alpha-2, any case).
    pub fn by_country<'a>(&'a self, country: &'a str) -> impl Iterator<Item = &'a RegistryEntry> {
        self.entries
            .iter()
            .filter(move |e| e.country.eq_ignore_ascii_case(country.trim()))
    }
}

impl RegistryEntry {
    /// The path prefix the local sandbox serves this bank under (`/bg/<id>` unless the file
    /// names another).
    pub fn sandbox_path(&self) -> String {
        self.sandbox
            .path
            .clone()
            .unwrap_or_else(|| format!("/bg/{}", self.id))
    }

    /// Whether the local sandbox serves this bank from its profile (not by hand).
    pub fn sandbox_is_generic(&self) -> bool {
        self.sandbox.path.is_none()
    }

    /// The seed of the bank's sandbox data: the file's, or one derived from the id (FNV-1a).
    pub fn sandbox_seed(&self) -> u64 {
        self.sandbox.seed.unwrap_or_else(|| {
            self.id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        })
    }
}

#[cfg(test)]
mod tests;
