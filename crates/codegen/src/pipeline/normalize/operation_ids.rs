//! Every operation needs a unique operationId: synthesize missing ones from method and path.

use super::{Report, for_each_operation};
use crate::error::{Error, Result};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// `get /v1/accounts/{account-id}/balances` → `get_v1_accounts_account_id_balances`.
pub fn synthesize_id(method: &str, path: &str) -> String {
    let mut id = method.to_string();
    for word in path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        id.push('_');
        id.push_str(&word.to_ascii_lowercase());
    }
    id
}

/// Fills in missing operationIds and rejects duplicates.
pub fn synthesize(doc: &mut Value, path: &Path, report: &mut Report) -> Result<()> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut duplicate = None;
    for_each_operation(doc, |p, method, op| {
        let id = match op.get("operationId").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => {
                let id = synthesize_id(method, p);
                op.insert("operationId".into(), json!(id));
                report.add("synthesize-operation-id");
                id
            }
        };
        let here = format!("{} {p}", method.to_uppercase());
        if let Some(first) = seen.insert(id.clone(), here.clone()) {
            duplicate.get_or_insert((id, first, here));
        }
    });
    match duplicate {
        Some((id, first, second)) => Err(Error::Normalize {
            path: path.to_path_buf(),
            message: format!("duplicate operationId `{id}` on `{first}` and `{second}`"),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ids_are_synthesized() {
        let mut doc = json!({"paths": {"/v1/accounts/{account-id}": {"get": {}, "delete": {"operationId": "del"}}}});
        let mut report = Report::default();
        synthesize(&mut doc, Path::new("s"), &mut report).unwrap();
        assert_eq!(
            doc["paths"]["/v1/accounts/{account-id}"]["get"]["operationId"],
            "get_v1_accounts_account_id"
        );
        assert_eq!(report.counts["synthesize-operation-id"], 1);
    }

    #[test]
    fn duplicates_are_rejected() {
        let mut doc = json!({"paths": {"/a": {"get": {"operationId": "x"}}, "/b": {"get": {"operationId": "x"}}}});
        let err = synthesize(&mut doc, Path::new("s.yaml"), &mut Report::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.yaml: duplicate operationId `x` on `GET /a` and `GET /b`"
        );
    }
}
