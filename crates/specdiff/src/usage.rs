//! `specs/<bank>/adapter-usage.toml`: which operations and schema fields the facade's adapter
//! for a bank uses, so a diff can flag the breaking changes that need adapter work.
//!
//! ```toml
//! # operationIds, or `METHOD /path` (parameter names in the path do not matter)
//! operations = ["getAccountList", "GET /v1/accounts/{account-id}/balances"]
//! # `Schema.field` as printed by `cargo xtask diff`; `*` matches any schema or any field
//! fields = ["Balance.balanceAmount", "Amount.*", "*.currency"]
//! ```

use super::model::Finding;
use serde::Deserialize;
use std::path::Path;

/// The parsed usage file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdapterUsage {
    /// Operations the adapter calls: operationIds or `METHOD /path`.
    #[serde(default)]
    pub operations: Vec<String>,
    /// Fields the adapter reads or writes, as `Schema.field` patterns.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Why a usage file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// The file exists but could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{}: invalid adapter usage file: {message}", path.display())]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// The parser's message.
        message: String,
    },
}

impl AdapterUsage {
    /// Reads `path`; a missing file means "nothing is known to be used".
    pub fn load(path: &Path) -> Result<Self, UsageError> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(path).map_err(|source| UsageError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| UsageError::Parse {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })
    }

    /// True when the adapter calls the operation with this id or `METHOD path`.
    pub fn uses_operation(&self, id: Option<&str>, route: &str) -> bool {
        let route = normalize_route(route);
        self.operations
            .iter()
            .any(|o| Some(o.as_str()) == id || normalize_route(o) == route)
    }

    /// True when a `Schema.field` path matches one of the field patterns.
    pub fn uses_field(&self, field: &str) -> bool {
        let Some((owner, rel)) = field.split_once('.') else {
            return false;
        };
        let last = rel
            .rsplit('.')
            .next()
            .unwrap_or(rel)
            .trim_end_matches("[]")
            .trim_end_matches("{}");
        let rel_plain = rel.replace("[]", "").replace("{}", "");
        self.fields.iter().any(|pattern| {
            let Some((powner, pfield)) = pattern.split_once('.') else {
                return false;
            };
            let owner_ok = powner == "*" || powner == owner;
            let field_ok = pfield == "*"
                || pfield == rel
                || pfield == rel_plain
                || (powner == "*" && pfield == last);
            owner_ok && field_ok
        })
    }

    /// Sets `adapter` on the findings that touch what the adapter uses.
    pub fn mark(&self, findings: &mut [Finding]) {
        let any_ops = !self.operations.is_empty();
        for f in findings {
            f.adapter = match &f.field {
                Some(field) => self.uses_field(field),
                None if f.operations.is_empty() => any_ops,
                None => {
                    f.operation_routes
                        .iter()
                        .any(|r| self.uses_operation(None, r))
                        || f.operation_ids
                            .iter()
                            .any(|id| self.uses_operation(Some(id), ""))
                }
            };
        }
    }
}

/// `get /v1/x/{id}` → `GET /v1/x/{}`.
fn normalize_route(route: &str) -> String {
    let Some((method, path)) = route.trim().split_once(' ') else {
        return route.trim().to_string();
    };
    let mut out = String::new();
    let mut inside = false;
    for c in path.trim().chars() {
        match c {
            '{' => {
                inside = true;
                out.push('{');
            }
            '}' => {
                inside = false;
                out.push('}');
            }
            _ if inside => {}
            _ => out.push(c),
        }
    }
    format!(
        "{} {}",
        method.to_ascii_uppercase(),
        out.trim_end_matches('/')
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn usage() -> AdapterUsage {
        toml::from_str(
            r#"
operations = ["getAccountList", "get /v1/accounts/{id}/balances"]
fields = ["Balance.balanceAmount", "Amount.*", "*.currency"]
"#,
        )
        .unwrap()
    }

    #[test]
    fn operations_match_by_id_or_route() {
        let u = usage();
        assert!(u.uses_operation(Some("getAccountList"), "GET /x"));
        assert!(u.uses_operation(None, "GET /v1/accounts/{account-id}/balances"));
        assert!(!u.uses_operation(
            Some("getTransactionList"),
            "GET /v1/accounts/{a}/transactions"
        ));
    }

    #[test]
    fn field_patterns() {
        let u = usage();
        assert!(u.uses_field("Balance.balanceAmount"));
        assert!(u.uses_field("Amount.amount"));
        assert!(u.uses_field("AccountDetails.currency"));
        assert!(u.uses_field("AccountList.accounts[].currency"));
        assert!(!u.uses_field("Balance.balanceType"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<AdapterUsage>("operation = []").unwrap_err();
        assert!(err.message().contains("unknown field"), "{err}");
    }
}
