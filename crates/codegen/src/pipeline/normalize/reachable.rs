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
    let mut roots = Vec::new();
    if let Some(Value::Object(paths)) = doc.get("paths") {
        for item in paths.values().filter_map(Value::as_object) {
            for op in item.values() {
                if let Some(Value::Object(responses)) = op.get("responses") {
                    roots.extend(responses.values());
                }
            }
        }
    }
    refs_reached_from(doc, roots)
        .iter()
        .filter_map(|r| r.strip_prefix(SCHEMA_PREFIX))
        .map(unescape)
        .collect()
}

/// Every local `$ref` (as written, e.g. `#/components/schemas/A`) reachable from `roots`,
/// following each reference into its target (in any component section), transitively.
pub(super) fn refs_reached_from<'a>(
    doc: &Value,
    roots: impl IntoIterator<Item = &'a Value>,
) -> BTreeSet<String> {
    let mut pending = Vec::new();
    for root in roots {
        collect_refs(root, &mut pending);
    }
    let mut seen = BTreeSet::new();
    while let Some(reference) = pending.pop() {
        if seen.contains(&reference) {
            continue;
        }
        if let Some(target) = reference.strip_prefix('#').and_then(|p| doc.pointer(p)) {
            collect_refs(target, &mut pending);
        }
        seen.insert(reference);
    }
    seen
}

/// The `$ref` of a component schema named `name` (JSON-pointer escaped).
pub(super) fn schema_ref(name: &str) -> String {
    format!(
        "{SCHEMA_PREFIX}{}",
        name.replace('~', "~0").replace('/', "~1")
    )
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
