//! `specs/<bank>/bank.toml`: per-bank settings as data.

use crate::error::{Error, Result};
use crate::pipeline::generate::Interface;
use crate::pipeline::lean::OperationCode;
use crate::pipeline::prune::StructBuilders;
use crate::pipeline::serde_dirs::SerdeDirections;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The whole `bank.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BankConfig {
    /// Identity of the bank and its generated crate.
    pub bank: BankSection,
    /// Named base URLs (`sandbox`, `live`, ...).
    #[serde(default)]
    pub servers: BTreeMap<String, String>,
    /// Generation settings.
    #[serde(default)]
    pub generate: GenerateSection,
}

/// `[bank]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BankSection {
    /// Folder name under `specs/` and `generated/`.
    pub name: String,
    /// Crate name of the generated client, e.g. `psd2-raw-swedbank`.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Human readable bank name.
    pub display_name: String,
    /// The API document, relative to the bank folder.
    pub spec: String,
}

/// `[generate]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct GenerateSection {
    /// Header parameters set by the facade's hooks, removed from every operation.
    #[serde(default)]
    pub drop_headers: Vec<String>,
    /// Extra derives for every generated type (e.g. `"PartialEq"`).
    #[serde(default)]
    pub derives: Vec<String>,
    /// `"builder"` (default; the facade's adapters need it) or `"positional"`.
    #[serde(default)]
    pub interface: Interface,
    /// Keep one type per operation for a reusable parameter's schema (e.g.
    /// `GetTransactionsBookingStatus`) instead of one shared type (`BookingStatus`).
    #[serde(default)]
    pub per_operation_parameter_types: bool,
    /// `"requests"` (default): struct builders only for the structs a request can contain;
    /// `"all"`: a builder for every struct, as progenitor writes it.
    #[serde(default)]
    pub struct_builders: StructBuilders,
    /// Keep the component schemas no operation reaches (they are dropped by default).
    #[serde(default)]
    pub keep_unused_schemas: bool,
    /// `"lean"` (default): operation code rewritten smaller, same behaviour
    /// (`pipeline::lean`); `"as-generated"`: as progenitor writes it.
    #[serde(default)]
    pub operation_code: OperationCode,
    /// `"used"` (default): each type derives the serde direction the client uses, the other
    /// behind a crate feature (`pipeline::serde_dirs`); `"both"`: both on every type.
    #[serde(default)]
    pub serde_directions: SerdeDirections,
    /// operationIds whose operation builder also gets `send_bytes()`: the request as
    /// `send()` makes it, a success answer's body returned undecoded
    /// (`pipeline::bytes_ops`). Empty by default.
    #[serde(default)]
    pub bytes_operations: Vec<String>,
}

impl BankConfig {
    /// Parses `bank.toml` text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let config: BankConfig = toml::from_str(text).map_err(|e| Error::BankConfig {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
        let bad = |message: String| Error::BankConfig {
            path: path.to_path_buf(),
            message,
        };
        if config.bank.name.is_empty() || config.bank.spec.is_empty() {
            return Err(bad("`bank.name` and `bank.spec` must not be empty".into()));
        }
        if !config.bank.crate_name.starts_with("psd2-raw-") {
            return Err(bad(format!(
                "`bank.crate` must start with `psd2-raw-`, found `{}`",
                config.bank.crate_name
            )));
        }
        Ok(config)
    }

    /// Reads and parses `<dir>/bank.toml`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("bank.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Self::parse(&text, &path)
    }
}

/// Where one bank's inputs live.
#[derive(Debug, Clone)]
pub struct BankInputs {
    /// The parsed config.
    pub config: BankConfig,
    /// `specs/<bank>/`.
    pub dir: PathBuf,
    /// The API document.
    pub spec: PathBuf,
    /// `overlay.yaml`, when present.
    pub overlay: Option<PathBuf>,
}

impl BankInputs {
    /// Loads the inputs of the bank in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let config = BankConfig::load(dir)?;
        let spec = dir.join(&config.bank.spec);
        let overlay = dir.join("overlay.yaml");
        Ok(Self {
            spec,
            overlay: overlay.exists().then_some(overlay),
            dir: dir.to_path_buf(),
            config,
        })
    }
}

/// Lists the bank folders (those with a `bank.toml`) under `specs_dir`, sorted.
pub fn list_banks(specs_dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(specs_dir).map_err(|e| Error::io(specs_dir, e))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("bank.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[bank]
name = "swedbank"
crate = "psd2-raw-swedbank"
display_name = "Swedbank"
spec = "swedbank.yaml"
[servers]
sandbox = "https://sandbox.example"
[generate]
drop_headers = ["Digest", "Signature"]
"#;

    #[test]
    fn parses_a_full_config() {
        let c = BankConfig::parse(GOOD, Path::new("bank.toml")).unwrap();
        assert_eq!(c.bank.crate_name, "psd2-raw-swedbank");
        assert_eq!(c.generate.drop_headers, ["Digest", "Signature"]);
        assert_eq!(c.servers["sandbox"], "https://sandbox.example");
        assert_eq!(c.generate.interface, Interface::Builder);
        assert_eq!(c.generate.struct_builders, StructBuilders::Requests);
    }

    #[test]
    fn struct_builders_is_read_and_checked() {
        let text = GOOD.replace("[generate]", "[generate]\nstruct_builders = \"all\"");
        let c = BankConfig::parse(&text, Path::new("bank.toml")).unwrap();
        assert_eq!(c.generate.struct_builders, StructBuilders::All);
        assert!(
            !c.generate.keep_unused_schemas,
            "unused schemas are dropped by default"
        );
        let text = GOOD.replace("[generate]", "[generate]\nkeep_unused_schemas = true");
        let c = BankConfig::parse(&text, Path::new("bank.toml")).unwrap();
        assert!(c.generate.keep_unused_schemas);
        let text = GOOD.replace("[generate]", "[generate]\nstruct_builders = \"none\"");
        let err = BankConfig::parse(&text, Path::new("bank.toml")).unwrap_err();
        assert!(err.to_string().contains("unknown variant `none`"), "{err}");
    }

    #[test]
    fn operation_code_and_serde_directions_are_read_and_checked() {
        let c = BankConfig::parse(GOOD, Path::new("bank.toml")).unwrap();
        assert_eq!(c.generate.operation_code, OperationCode::Lean);
        assert_eq!(c.generate.serde_directions, SerdeDirections::Used);
        let text = GOOD.replace(
            "[generate]",
            "[generate]\noperation_code = \"as-generated\"\nserde_directions = \"both\"",
        );
        let c = BankConfig::parse(&text, Path::new("bank.toml")).unwrap();
        assert_eq!(c.generate.operation_code, OperationCode::AsGenerated);
        assert_eq!(c.generate.serde_directions, SerdeDirections::Both);
        let text = GOOD.replace("[generate]", "[generate]\nserde_directions = \"serialize\"");
        let err = BankConfig::parse(&text, Path::new("bank.toml")).unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `serialize`"),
            "{err}"
        );
    }

    #[test]
    fn bytes_operations_are_read_and_empty_by_default() {
        let c = BankConfig::parse(GOOD, Path::new("bank.toml")).unwrap();
        assert!(c.generate.bytes_operations.is_empty());
        let text = GOOD.replace(
            "[generate]",
            "[generate]\nbytes_operations = [\"getTransactionList\", \"getBalances\"]",
        );
        let c = BankConfig::parse(&text, Path::new("bank.toml")).unwrap();
        assert_eq!(
            c.generate.bytes_operations,
            ["getTransactionList", "getBalances"]
        );
        let text = GOOD.replace(
            "[generate]",
            "[generate]\nbytes_operations = \"getBalances\"",
        );
        let err = BankConfig::parse(&text, Path::new("bank.toml")).unwrap_err();
        assert!(err.to_string().contains("expected a sequence"), "{err}");
    }

    #[test]
    fn interface_is_read_and_checked() {
        let text = GOOD.replace("[generate]", "[generate]\ninterface = \"positional\"");
        let c = BankConfig::parse(&text, Path::new("bank.toml")).unwrap();
        assert_eq!(c.generate.interface, Interface::Positional);
        let text = GOOD.replace("[generate]", "[generate]\ninterface = \"fluent\"");
        let err = BankConfig::parse(&text, Path::new("bank.toml")).unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `fluent`"),
            "{err}"
        );
    }

    #[test]
    fn missing_field_is_named() {
        let text = GOOD.replace("spec = \"swedbank.yaml\"\n", "");
        let err = BankConfig::parse(&text, Path::new("x/bank.toml")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x/bank.toml: invalid bank config: missing field `spec`"
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = GOOD.replace("[generate]", "[generate]\ncolour = 1");
        let err = BankConfig::parse(&text, Path::new("bank.toml")).unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    }
}
