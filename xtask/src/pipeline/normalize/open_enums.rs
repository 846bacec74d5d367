//! Open response enums: a bank may add a value to any enum it sends (a new balance type, a
//! new consent status), and typify turns a closed `enum` into a Rust enum that fails the whole
//! response on a value it does not know. Every string enum reachable from a response is turned
//! into a plain string; the known values move to `x-known-values` and the description, so the
//! raw client keeps parsing and the facade maps unknown values to `Other`.
//!
//! Enums only reachable from requests (parameters, request bodies) stay closed: there the
//! client chooses the value, and a closed type catches typos at compile time.

use super::Report;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Opens every string enum that a response can carry.
pub fn open_response_enums(doc: &mut Value, report: &mut Report) {
    let reachable = response_schema_names(doc);
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, schema) in schemas.iter_mut() {
            if reachable.contains(name) {
                open_in(schema, report);
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
                                open_in(schema, report);
                            }
                        }
                    }
                }
            }
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

/// Opens the string enums in `schema` and its inline sub-schemas (not following `$ref`s).
fn open_in(schema: &mut Value, report: &mut Report) {
    let Value::Object(map) = schema else { return };
    let is_string_enum = matches!(map.get("enum"), Some(Value::Array(values))
        if !values.is_empty() && values.iter().all(|v| v.is_string() || v.is_null()))
        && map.get("type").is_none_or(|t| t == "string");
    if is_string_enum && let Some(Value::Array(values)) = map.remove("enum") {
        let known: Vec<Value> = values.into_iter().filter(|v| v.is_string()).collect();
        let list = known
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let note = format!("Known values: {list}. Other values may appear.");
        let description = match map.get("description").and_then(Value::as_str) {
            Some(d) if !d.trim().is_empty() => format!("{}\n\n{note}", d.trim_end()),
            _ => note,
        };
        map.insert("type".into(), json!("string"));
        map.insert("description".into(), json!(description));
        map.insert("x-known-values".into(), Value::Array(known));
        report.add("open-response-enum");
    }
    for key in ["properties", "patternProperties"] {
        if let Some(Value::Object(props)) = map.get_mut(key) {
            props.values_mut().for_each(|p| open_in(p, report));
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = map.get_mut(key) {
            open_in(inner, report);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(parts)) = map.get_mut(key) {
            parts.iter_mut().for_each(|p| open_in(p, report));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {"/a": {
                "get": {"responses": {"200": {"content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {
                        "balance": {"$ref": "#/components/schemas/Balance"},
                        "inline": {"type": "string", "enum": ["x", "y"]}
                    }
                }}}}}},
                "post": {
                    "parameters": [{"name": "mode", "in": "query", "schema": {"$ref": "#/components/schemas/Mode"}}],
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}}},
                    "responses": {"204": {"description": "none"}}
                }
            }},
            "components": {"schemas": {
                "Balance": {"type": "object", "properties": {"balanceType": {"$ref": "#/components/schemas/BalanceType"}}},
                "BalanceType": {"type": "string", "description": "The type.", "enum": ["closingBooked", "expected"]},
                "Mode": {"type": "string", "enum": ["fast", "slow"]},
                "Request": {"type": "object", "properties": {"access": {"type": "string", "enum": ["ALL_ACCOUNTS"]}}}
            }}
        })
    }

    #[test]
    fn response_enums_become_strings_and_request_enums_stay_closed() {
        let mut d = doc();
        let mut report = Report::default();
        open_response_enums(&mut d, &mut report);
        assert_eq!(report.counts.get("open-response-enum"), Some(&2));
        let bt = d
            .pointer("/components/schemas/BalanceType")
            .expect("schema");
        assert!(bt.get("enum").is_none());
        assert_eq!(bt["type"], "string");
        assert_eq!(bt["x-known-values"], json!(["closingBooked", "expected"]));
        assert_eq!(
            bt["description"],
            "The type.\n\nKnown values: closingBooked, expected. Other values may appear."
        );
        let inline = d
            .pointer(
                "/paths/~1a/get/responses/200/content/application~1json/schema/properties/inline",
            )
            .expect("inline");
        assert!(inline.get("enum").is_none());
        assert_eq!(
            d.pointer("/components/schemas/Mode/enum"),
            Some(&json!(["fast", "slow"]))
        );
        assert_eq!(
            d.pointer("/components/schemas/Request/properties/access/enum"),
            Some(&json!(["ALL_ACCOUNTS"]))
        );
    }

    #[test]
    fn integer_enums_are_left_alone() {
        let mut d = json!({"paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
            "schema": {"type": "integer", "enum": [1, 2]}}}}}}}}});
        let mut report = Report::default();
        open_response_enums(&mut d, &mut report);
        assert_eq!(report.total(), 0);
    }
}
