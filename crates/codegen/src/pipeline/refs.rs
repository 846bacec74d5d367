//! Checks that every `$ref` in a document points at something (local refs only).

use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// Fails on the first `$ref` that is external or resolves to nothing.
pub fn check_refs(doc: &Value, path: &Path) -> Result<()> {
    let mut stack = vec![(doc, String::new())];
    while let Some((node, at)) = stack.pop() {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let ok = reference
                        .strip_prefix('#')
                        .is_some_and(|pointer| doc.pointer(pointer).is_some());
                    if !ok {
                        return Err(Error::DanglingRef {
                            path: path.to_path_buf(),
                            reference: reference.clone(),
                            at: if at.is_empty() { "/".into() } else { at },
                        });
                    }
                }
                for (k, v) in map {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    stack.push((v, format!("{at}/{key}")));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    stack.push((v, format!("{at}/{i}")));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Follows a local `$ref` (if `value` is one) to its target, at most 16 hops.
pub fn resolve<'a>(doc: &'a Value, value: &'a Value) -> Option<&'a Value> {
    let mut current = value;
    for _ in 0..16 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(r) => current = doc.pointer(r.strip_prefix('#')?)?,
            None => return Some(current),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dangling_ref_is_reported_with_location() {
        let doc = json!({"components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}}}});
        let err = check_refs(&doc, Path::new("s.yaml")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(
                "s.yaml: dangling $ref `#/components/schemas/B` at /components/schemas/A; "
            ),
            "{text}"
        );
        assert!(
            text.contains("`target: \"$.components.schemas\"`, `update: {\"B\": <schema>}`"),
            "{text}"
        );
        assert!(
            text.contains("`target: \"$.components.schemas.A\"`"),
            "{text}"
        );
    }

    #[test]
    fn resolving_follows_chains() {
        let doc = json!({"a": {"$ref": "#/b"}, "b": {"$ref": "#/c"}, "c": {"x": 1}});
        assert_eq!(resolve(&doc, &doc["a"]), Some(&json!({"x": 1})));
        assert!(check_refs(&doc, Path::new("s")).is_ok());
    }
}
