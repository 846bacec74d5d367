//! Seed field coverage: does every field of a bank's example answer reach the domain values?
//!
//! Used by the mapping tests (the rule: every field in the seeds' example responses appears
//! in the domain values). The check is by value, since the domain renames fields:
//! - a string must appear as a string somewhere in the domain JSON, either exactly or as the
//!   same code after the domain's code normalization (case, `_`, `-` and spaces ignored:
//!   `RECEIVED` is the domain's `received`, `REDIRECT` its `redirect`);
//! - a number must appear with the same text (amounts are decimal strings in the domain);
//! - a boolean must appear under a key of the same name (`true` alone says nothing);
//! - with [`assert_covered_with`], a string also counts as present in the domain's own
//!   spelling of a bank code (Handelsbanken's `AVAILABLE_AMOUNT` is the domain's
//!   `interimAvailable`), given by the domain parser the test passes in.
//!
//! Secrets are serialized as `[REDACTED]`, so tests add them to the checked view explicitly
//! (`consentIdExposed`, ...), the way the snapshots show them.
#![allow(dead_code)]

use serde_json::Value;

/// Every scalar leaf of a JSON value as `(path, value)`; array indices become `[]`.
pub fn leaves(value: &Value) -> Vec<(String, Value)> {
    fn walk(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &p, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, &format!("{path}[]"), out);
                }
            }
            Value::Null => {}
            scalar => out.push((path.to_owned(), scalar.clone())),
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// A code as the domain's `from_bank_str` compares it.
fn code(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn last_key(path: &str) -> &str {
    path.rsplit('.')
        .next()
        .unwrap_or(path)
        .trim_end_matches("[]")
}

/// The seed leaves whose value is not found in `domain` (see the module docs), sorted.
pub fn missing_leaves(seed: &str, domain: &Value) -> Vec<String> {
    missing_leaves_with(seed, domain, &|text| text.to_owned())
}

/// Like [`missing_leaves`], where a seed string also counts as present as `domain_code(text)`.
pub fn missing_leaves_with(
    seed: &str,
    domain: &Value,
    domain_code: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let seed: Value = serde_json::from_str(seed).expect("seed JSON");
    let domain_leaves = leaves(domain);
    let mut missing: Vec<String> = Vec::new();
    for (path, value) in leaves(&seed) {
        let found = match &value {
            Value::Bool(_) => domain_leaves
                .iter()
                .any(|(p, v)| last_key(p) == last_key(&path) && *v == value),
            Value::Number(n) => {
                let text = n.to_string();
                domain_leaves
                    .iter()
                    .any(|(_, v)| v.to_string().trim_matches('"') == text)
            }
            Value::String(text) => {
                let translated = domain_code(text);
                domain_leaves.iter().any(|(_, v)| match v {
                    Value::String(d) => {
                        d == text || *d == translated || (!d.is_empty() && code(d) == code(text))
                    }
                    _ => false,
                })
            }
            _ => domain_leaves.iter().any(|(_, v)| *v == value),
        };
        if !found && !missing.contains(&path) {
            missing.push(path);
        }
    }
    missing.sort();
    missing
}

/// Asserts that no leaf of `seed` is missing from `domain`.
pub fn assert_covered(seed: &str, domain: &Value) {
    assert_covered_with(seed, domain, &|text| text.to_owned());
}

/// Asserts that no leaf of `seed` is missing from `domain`, codes translated by `domain_code`.
pub fn assert_covered_with(seed: &str, domain: &Value, domain_code: &dyn Fn(&str) -> String) {
    let missing = missing_leaves_with(seed, domain, domain_code);
    assert!(
        missing.is_empty(),
        "seed fields missing from the domain values: {missing:?}"
    );
}

#[test]
fn coverage_check_can_fail() {
    let seed = r#"{"a": "RECEIVED", "b": true, "c": 12, "d": ["x"], "e": "gone"}"#;
    let domain =
        serde_json::json!({"status": "received", "b": true, "amount": "12", "list": ["x"]});
    assert_eq!(missing_leaves(seed, &domain), ["e"]);
    // A boolean under another key name does not count.
    let domain = serde_json::json!({"status": "received", "other": true, "amount": "12", "list": ["x"], "e": "gone"});
    assert_eq!(missing_leaves(seed, &domain), ["b"]);
    // A translated code counts only through the given translation.
    let seed = r#"{"balanceType": "AVAILABLE_AMOUNT"}"#;
    let domain = serde_json::json!({"balanceType": "interimAvailable"});
    assert_eq!(missing_leaves(seed, &domain), ["balanceType"]);
    let translate = |t: &str| {
        if t == "AVAILABLE_AMOUNT" {
            "interimAvailable".to_owned()
        } else {
            t.to_owned()
        }
    };
    assert!(missing_leaves_with(seed, &domain, &translate).is_empty());
}
