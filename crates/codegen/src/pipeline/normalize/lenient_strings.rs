//! Lenient response strings (step `relax-response-string-constraints`): typify turns a string
//! with `maxLength`, `minLength` or `pattern` into a validating newtype, so a bank that sends a
//! 36-character product name or an unexpected format fails the whole response. Every
//! `type: string` schema reachable from a response loses those three keywords; they move to
//! `x-documented-constraints` and the description, so the raw client keeps parsing and the
//! constraint stays documented. `format` (date, uuid, ...) is kept.
//!
//! Strings only reachable from requests (parameters, request bodies) keep their constraints:
//! there the client chooses the value, and the validating type catches invalid ones before
//! they are sent.

use super::Report;
use super::reachable::{for_each_response_schema, walk_inline};
use serde_json::{Map, Value, json};

/// The relaxed keywords, each with its report kind.
const CONSTRAINTS: [(&str, &str); 3] = [
    ("maxLength", "relax-response-max-length"),
    ("minLength", "relax-response-min-length"),
    ("pattern", "relax-response-pattern"),
];

/// Removes the length and pattern constraints of every string that a response can carry.
pub fn relax_response_strings(doc: &mut Value, report: &mut Report) {
    for_each_response_schema(doc, |schema| {
        walk_inline(schema, &mut |map| relax_one(map, report));
    });
}

/// Relaxes `map` if it is a `type: string` schema with a length or pattern constraint.
fn relax_one(map: &mut Map<String, Value>, report: &mut Report) {
    if map.get("type").and_then(Value::as_str) != Some("string") {
        return;
    }
    let mut documented = Map::new();
    let mut notes = Vec::new();
    for (key, kind) in CONSTRAINTS {
        let Some(value) = map.remove(key) else {
            continue;
        };
        notes.push(format!("Documented constraint: {}", describe(key, &value)));
        documented.insert(key.to_string(), value);
        report.add(kind);
    }
    if documented.is_empty() {
        return;
    }
    let note = notes.join("\n");
    let description = match map.get("description").and_then(Value::as_str) {
        Some(d) if !d.trim().is_empty() => format!("{}\n\n{note}", d.trim_end()),
        _ => note,
    };
    map.insert("description".into(), json!(description));
    map.insert("x-documented-constraints".into(), Value::Object(documented));
}

/// One constraint in words, e.g. `max 35 characters` or ``pattern `[A-Z]{3}` ``.
fn describe(key: &str, value: &Value) -> String {
    let characters = |n: &Value| {
        let plural = if n.as_u64() == Some(1) { "" } else { "s" };
        format!("{n} character{plural}")
    };
    match (key, value) {
        ("maxLength", n) => format!("max {}", characters(n)),
        ("minLength", n) => format!("min {}", characters(n)),
        (_, Value::String(p)) => format!("pattern `{p}`"),
        (_, other) => format!("pattern {other}"),
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
                        "account": {"$ref": "#/components/schemas/Account"},
                        "inline": {"type": "string", "minLength": 1}
                    }
                }}}}}},
                "post": {
                    "parameters": [{"name": "id", "in": "query", "schema": {"$ref": "#/components/schemas/Id"}}],
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}}},
                    "responses": {"204": {"description": "none"}}
                }
            }},
            "components": {"schemas": {
                "Account": {"type": "object", "properties": {
                    "product": {"$ref": "#/components/schemas/Product"},
                    "currency": {"type": "string", "pattern": "[A-Z]{3}"},
                    "created": {"type": "string", "format": "date", "maxLength": 10}
                }},
                "Product": {"type": "string", "description": "Product name.", "maxLength": 35},
                "Id": {"type": "string", "pattern": "^[0-9]+$"},
                "Request": {"type": "object", "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 70}
                }}
            }}
        })
    }

    #[test]
    fn response_strings_are_relaxed_and_request_strings_keep_constraints() {
        let mut d = doc();
        let mut report = Report::default();
        relax_response_strings(&mut d, &mut report);
        assert_eq!(report.counts.get("relax-response-max-length"), Some(&2));
        assert_eq!(report.counts.get("relax-response-min-length"), Some(&1));
        assert_eq!(report.counts.get("relax-response-pattern"), Some(&1));

        let product = d.pointer("/components/schemas/Product").expect("schema");
        assert!(product.get("maxLength").is_none());
        assert_eq!(product["type"], "string");
        assert_eq!(
            product["description"],
            "Product name.\n\nDocumented constraint: max 35 characters"
        );
        assert_eq!(
            product["x-documented-constraints"],
            json!({"maxLength": 35})
        );

        let currency = d
            .pointer("/components/schemas/Account/properties/currency")
            .expect("currency");
        assert!(currency.get("pattern").is_none());
        assert_eq!(
            currency["description"],
            "Documented constraint: pattern `[A-Z]{3}`"
        );
        assert_eq!(
            currency["x-documented-constraints"],
            json!({"pattern": "[A-Z]{3}"})
        );

        let created = d
            .pointer("/components/schemas/Account/properties/created")
            .expect("created");
        assert_eq!(created["format"], "date");
        assert!(created.get("maxLength").is_none());

        let inline = d
            .pointer(
                "/paths/~1a/get/responses/200/content/application~1json/schema/properties/inline",
            )
            .expect("inline");
        assert!(inline.get("minLength").is_none());
        assert_eq!(
            inline["description"],
            "Documented constraint: min 1 character"
        );

        assert_eq!(
            d.pointer("/components/schemas/Id"),
            Some(&json!({"type": "string", "pattern": "^[0-9]+$"}))
        );
        assert_eq!(
            d.pointer("/components/schemas/Request/properties/name"),
            Some(&json!({"type": "string", "minLength": 1, "maxLength": 70}))
        );
    }

    #[test]
    fn all_constraints_of_one_string_are_documented_together() {
        let mut d = json!({"paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
            "schema": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"}}}}}}}}});
        let mut report = Report::default();
        relax_response_strings(&mut d, &mut report);
        assert_eq!(report.total(), 3);
        let schema = d
            .pointer("/paths/~1a/get/responses/200/content/application~1json/schema")
            .expect("schema");
        assert_eq!(
            schema,
            &json!({
                "type": "string",
                "description": "Documented constraint: max 4 characters\nDocumented constraint: min 2 characters\nDocumented constraint: pattern `^[a-z]+$`",
                "x-documented-constraints": {"maxLength": 4, "minLength": 2, "pattern": "^[a-z]+$"}
            })
        );
    }

    #[test]
    fn non_string_schemas_are_left_alone() {
        let mut d = json!({"paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
            "schema": {"type": "array", "minItems": 1, "items": {"type": "integer", "maximum": 9}}}}}}}}}});
        let before = d.clone();
        let mut report = Report::default();
        relax_response_strings(&mut d, &mut report);
        assert_eq!(report.total(), 0);
        assert_eq!(d, before);
    }
}
