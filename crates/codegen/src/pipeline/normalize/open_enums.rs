//! Open response enums: a bank may add a value to any enum it sends (a new balance type, a
//! new consent status), and typify turns a closed `enum` into a Rust enum that fails the whole
//! response on a value it does not know. Every string enum reachable from a response is turned
//! into a plain string; the known values move to `x-known-values` and the description, so the
//! raw client keeps parsing and the facade maps unknown values to `Other`.
//!
//! Enums only reachable from requests (parameters, request bodies) stay closed: there the
//! client chooses the value, and a closed type catches typos at compile time.

use super::Report;
use super::reachable::{for_each_response_schema, walk_inline};
use serde_json::{Map, Value, json};

/// Opens every string enum that a response can carry.
pub fn open_response_enums(doc: &mut Value, report: &mut Report) {
    for_each_response_schema(doc, |schema| {
        walk_inline(schema, &mut |map| open_one(map, report));
    });
}

/// Opens `map` if it is a string enum.
fn open_one(map: &mut Map<String, Value>, report: &mut Report) {
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
