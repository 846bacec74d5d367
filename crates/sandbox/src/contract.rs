//! Contract checks for tests: does a response fit the bank's spec in `specs/`?
//!
//! [`Spec::load`] reads an OpenAPI 3.0 (YAML/JSON) or Swagger 2.0 document.
//! [`Spec::check`] finds the operation by method and path template, picks the response
//! for the status code (or `default`), checks the response headers the spec marks
//! `required`, turns the response schema into a JSON Schema (resolving `$ref`s against the
//! document's `components`/`definitions`, mapping `nullable`/`x-nullable`) and validates the
//! body with the `jsonschema` crate (Draft 4, which OpenAPI 3.0 / Swagger 2.0 schemas follow).

use std::path::{Path, PathBuf};

use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::Bank;

/// Why a response does not fit its spec (or the spec could not be used).
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The spec file could not be read or parsed.
    #[error("cannot load spec {path}: {reason}")]
    Load {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No operation matches.
    #[error("no operation {method} {path} in the spec")]
    NoOperation {
        /// Method.
        method: String,
        /// Path below the bank prefix.
        path: String,
    },
    /// The status is not documented for the operation.
    #[error("{op}: status {status} is not documented (documented: {documented})")]
    UndocumentedStatus {
        /// Operation (method and template).
        op: String,
        /// Status.
        status: u16,
        /// Documented statuses.
        documented: String,
    },
    /// A required response header is missing.
    #[error("{op} {status}: required response header {header} is missing")]
    MissingHeader {
        /// Operation.
        op: String,
        /// Status.
        status: u16,
        /// Header.
        header: String,
    },
    /// The body does not fit the schema.
    #[error("{op} {status}: body does not fit the spec:\n{errors}\nbody: {body}")]
    Body {
        /// Operation.
        op: String,
        /// Status.
        status: u16,
        /// Validation errors, one per line.
        errors: String,
        /// The body (shortened).
        body: String,
    },
}

/// A loaded bank spec.
#[derive(Debug, Clone)]
pub struct Spec {
    doc: Value,
    swagger2: bool,
}

/// The spec file of a bank, relative to the workspace root.
pub fn spec_path(bank: Bank) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match bank {
        Bank::Handelsbanken => root.join("specs/handelsbanken/handelsbanken.json"),
        Bank::OpenPayments => root.join("specs/openpayments/openpayments.yaml"),
        Bank::Swedbank => root.join("specs/swedbank/swedbank.yaml"),
    }
}

/// The Berlin Group spec every registry bank is served by
/// (`specs/berlingroup/berlingroup.yaml`); check answers below the bank's sandbox path.
pub fn berlingroup_spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/berlingroup/berlingroup.yaml")
}

fn segments(p: &str) -> Vec<&str> {
    p.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// Converts OpenAPI schema dialect into JSON Schema (nullable → anyOf with null).
fn to_json_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            let mut nullable = false;
            for (k, val) in m {
                match k.as_str() {
                    "nullable" | "x-nullable" => nullable = val.as_bool().unwrap_or(false),
                    "example" | "examples" | "discriminator" | "xml" | "externalDocs" => {}
                    "properties" | "definitions" | "schemas" | "patternProperties" => {
                        let inner: Map<String, Value> = val
                            .as_object()
                            .map(|o| {
                                o.iter()
                                    .map(|(pk, pv)| (pk.clone(), to_json_schema(pv)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        out.insert(k.clone(), Value::Object(inner));
                    }
                    _ => {
                        out.insert(k.clone(), to_json_schema(val));
                    }
                }
            }
            if nullable {
                json!({"anyOf": [Value::Object(out), {"type": "null"}]})
            } else {
                Value::Object(out)
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

impl Spec {
    /// Loads a spec (JSON or YAML).
    pub fn load(path: &Path) -> Result<Spec, ContractError> {
        let err = |reason: String| ContractError::Load {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let doc: Value = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| err(e.to_string()))?
        } else {
            serde_yaml_ng::from_str(&text).map_err(|e| err(e.to_string()))?
        };
        let swagger2 = doc.get("swagger").is_some();
        Ok(Spec { doc, swagger2 })
    }

    /// Loads the spec of `bank` from the workspace's `specs/`.
    pub fn for_bank(bank: Bank) -> Result<Spec, ContractError> {
        Spec::load(&spec_path(bank))
    }

    fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..16 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                break;
            };
            match r.strip_prefix('#').and_then(|p| self.doc.pointer(p)) {
                Some(t) => v = t,
                None => break,
            }
        }
        v
    }

    /// Finds the operation for `method` and a concrete `path` (below the bank prefix).
    pub fn operation(&self, method: &str, path: &str) -> Option<(String, &Value)> {
        let want = segments(path);
        let paths = self.doc.get("paths")?.as_object()?;
        let mut best: Option<(usize, String, &Value)> = None;
        for (template, item) in paths {
            let t = segments(template);
            if t.len() != want.len() {
                continue;
            }
            let ok = t
                .iter()
                .zip(&want)
                .all(|(a, b)| (a.starts_with('{') && a.ends_with('}')) || a == b);
            if !ok {
                continue;
            }
            let Some(op) = item.get(method.to_ascii_lowercase()) else {
                continue;
            };
            let literal = t.iter().filter(|a| !a.starts_with('{')).count();
            if best.as_ref().is_none_or(|(l, _, _)| literal > *l) {
                best = Some((literal, template.clone(), op));
            }
        }
        best.map(|(_, t, op)| (format!("{} {t}", method.to_ascii_uppercase()), op))
    }

    /// Checks one response against the spec.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), ContractError> {
        let (op_name, op) =
            self.operation(method, path)
                .ok_or_else(|| ContractError::NoOperation {
                    method: method.to_string(),
                    path: path.to_string(),
                })?;
        let responses = op.get("responses").and_then(Value::as_object);
        let response = responses
            .and_then(|r| r.get(&status.to_string()).or_else(|| r.get("default")))
            .map(|r| self.resolve(r))
            .ok_or_else(|| ContractError::UndocumentedStatus {
                op: op_name.clone(),
                status,
                documented: responses
                    .map(|r| r.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default(),
            })?;
        if let Some(hs) = response.get("headers").and_then(Value::as_object) {
            for (name, h) in hs {
                let h = self.resolve(h);
                if h.get("required").and_then(Value::as_bool) == Some(true)
                    && !headers.contains_key(name.to_ascii_lowercase().as_str())
                {
                    return Err(ContractError::MissingHeader {
                        op: op_name,
                        status,
                        header: name.clone(),
                    });
                }
            }
        }
        let schema = if self.swagger2 {
            response.get("schema")
        } else {
            let media = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .map(str::trim)
                .unwrap_or("application/json");
            response
                .get("content")
                .and_then(|c| {
                    c.get(media)
                        .or_else(|| c.get("application/json"))
                        .or_else(|| c.as_object().and_then(|o| o.values().next()))
                })
                .and_then(|c| c.get("schema"))
        };
        let body_err = |errors: String| ContractError::Body {
            op: op_name.clone(),
            status,
            errors,
            body: String::from_utf8_lossy(&body[..body.len().min(2000)]).into_owned(),
        };
        let Some(schema) = schema else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(body_err(
                    "the spec documents no body, but one was sent".into(),
                ))
            };
        };
        let instance: Value =
            serde_json::from_slice(body).map_err(|e| body_err(format!("not JSON: {e}")))?;
        let mut root = Map::new();
        root.insert("allOf".into(), json!([to_json_schema(schema)]));
        if let Some(defs) = self.doc.get("definitions") {
            root.insert("definitions".into(), to_json_schema(defs));
        }
        if let Some(c) = self.doc.get("components") {
            root.insert("components".into(), to_json_schema(c));
        }
        let root = Value::Object(root);
        let validator = jsonschema::draft4::new(&root)
            .map_err(|e| body_err(format!("schema does not compile: {e}")))?;
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .take(10)
            .map(|e| format!("  at {}: {}", e.instance_path(), e))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(body_err(errors.join("\n")))
        }
    }
}
