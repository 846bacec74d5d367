//! Which schemas a response can carry, shared by the steps that treat response schemas
//! leniently (`open_enums`, `lenient_strings`): a bank may send values its spec does not
//! list, and those must never break parsing, while request-only schemas stay strict.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Calls `f` on every schema a response can carry: each component schema reachable (through
/// `$ref`s) from a response, and each inline schema of a response body. `f` sees the schema
/// itself; use [`walk_inline`] to reach its inline sub-schemas.
pub(super) fn for_each_response_schema(doc: &mut Value, mut f: impl FnMut(&mut Value)) {
    let reachable = response_schema_names(doc);
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, schema) in schemas.iter_mut() {
            if reachable.contains(name) {
                f(schema);
            }
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                let Some(Value::Object(responses)) = op.get_mut("responses") else {
                    continue;
                };
                for response in responses.values_mut() {
                    if let Some(Value::Object(content)) = response.get_mut("content") {
                        for media in content.values_mut() {
                            if let Some(schema) = media.get_mut("schema") {
                                f(schema);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Calls `f` on `schema` and then on each of its inline sub-schemas (properties, items,
/// `additionalProperties`, `not`, `allOf`/`oneOf`/`anyOf`), not following `$ref`s.
pub(super) fn walk_inline(schema: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    let Value::Object(map) = schema else { return };
    f(map);
    for key in ["properties", "patternProperties"] {
        if let Some(Value::Object(props)) = map.get_mut(key) {
            props.values_mut().for_each(|p| walk_inline(p, f));
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = map.get_mut(key) {
            walk_inline(inner, f);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(parts)) = map.get_mut(key) {
            parts.iter_mut().for_each(|p| walk_inline(p, f));
        }
    }
}

/// Names of component schemas reachable (through `$ref`s) from any response body.
fn response_schema_names(doc: &Value) -> BTreeSet<String> {
    let mut pending: Vec<String> = Vec::new();
    if let Some(Value::Object(paths)) = doc.get("paths") {
        for item in paths.values() {
            let Some(item) = item.as_object() else {
                continue;
            };
            for op in item.values() {
                if let Some(Value::Object(responses)) = op.get("responses") {
                    for response in responses.values() {
                        collect_refs(response, &mut pending);
                    }
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = doc.pointer(&format!("/components/schemas/{}", escape(&name))) {
            collect_refs(schema, &mut pending);
        }
    }
    seen
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix(SCHEMA_PREFIX)
            {
                out.push(name.to_string());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
