//! Reusable parameters (`components/parameters`) whose inline schema becomes a type of its
//! own (a pattern, a length limit, an enum, an object, ...): progenitor names such a type
//! after the operation, so a header like `PSU-Geo-Location`, used by 37 operations of the
//! Berlin Group spec, became 37 identical types. The schema moves to `components/schemas`
//! under the parameter's key, and the parameter refers to it: one shared type.
//!
//! Plain schemas (`type: string`, a `format`, a `default`) stay inline: progenitor maps
//! them to a standard type, while a named component would become a newtype.

use super::Report;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Keywords that make typify generate a named type for a parameter schema.
const TYPE_MAKING: [&str; 11] = [
    "enum",
    "pattern",
    "maxLength",
    "minLength",
    "properties",
    "additionalProperties",
    "oneOf",
    "anyOf",
    "allOf",
    "minimum",
    "maximum",
];

/// Letters and digits, lowercased: how two schema keys can become the same Rust name.
fn folded(key: &str) -> String {
    key.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn makes_a_type(schema: &Map<String, Value>) -> bool {
    !schema.contains_key("$ref")
        && (TYPE_MAKING.iter().any(|k| schema.contains_key(*k))
            || schema.get("type").and_then(Value::as_str) == Some("object"))
}

/// Moves type-making schemas of reusable parameters into `components/schemas`.
pub fn hoist(doc: &mut Value, report: &mut Report) {
    let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) else {
        return;
    };
    let mut taken: BTreeSet<String> = components
        .get("schemas")
        .and_then(Value::as_object)
        .map(|s| s.keys().map(|k| folded(k)).collect())
        .unwrap_or_default();
    let mut hoisted = Vec::new();
    if let Some(Value::Object(params)) = components.get_mut("parameters") {
        for (key, param) in params.iter_mut() {
            let Some(slot) = param.get_mut("schema") else {
                continue;
            };
            if !slot.as_object().is_some_and(makes_a_type) {
                continue;
            }
            let name = [key.clone(), format!("{key}Parameter")]
                .into_iter()
                .chain((2..).map(|n| format!("{key}Parameter{n}")))
                .find(|n| !taken.contains(&folded(n)))
                .unwrap_or_else(|| key.clone());
            taken.insert(folded(&name));
            let schema = std::mem::replace(
                slot,
                json!({"$ref": format!("#/components/schemas/{name}")}),
            );
            hoisted.push((name, schema));
            report.add("hoist-parameter-schema");
        }
    }
    if hoisted.is_empty() {
        return;
    }
    let schemas = components
        .entry("schemas")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(schemas) = schemas {
        schemas.extend(hoisted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hoists_type_making_parameter_schemas_only() {
        let mut doc = json!({"components": {
            "schemas": {"PsuGeoLocation": {"type": "string"}},
            "parameters": {
                "PSU-Geo-Location": {"name": "PSU-Geo-Location", "in": "header",
                    "schema": {"type": "string", "pattern": "GEO:.*"}},
                "bookingStatus": {"name": "bookingStatus", "in": "query",
                    "schema": {"type": "string", "enum": ["booked", "pending"]}},
                "X-Request-ID": {"name": "X-Request-ID", "in": "header",
                    "schema": {"type": "string", "format": "uuid"}},
                "consentId": {"name": "consentId", "in": "path",
                    "schema": {"$ref": "#/components/schemas/ConsentId"}}
            }
        }});
        let mut report = Report::default();
        hoist(&mut doc, &mut report);
        let c = &doc["components"];
        // The name is taken (folded), so the parameter's schema gets a suffix.
        assert_eq!(
            c["parameters"]["PSU-Geo-Location"]["schema"],
            json!({"$ref": "#/components/schemas/PSU-Geo-LocationParameter"})
        );
        assert_eq!(
            c["schemas"]["PSU-Geo-LocationParameter"],
            json!({"type": "string", "pattern": "GEO:.*"})
        );
        assert_eq!(
            c["parameters"]["bookingStatus"]["schema"],
            json!({"$ref": "#/components/schemas/bookingStatus"})
        );
        assert_eq!(
            c["parameters"]["X-Request-ID"]["schema"],
            json!({"type": "string", "format": "uuid"})
        );
        assert_eq!(
            c["parameters"]["consentId"]["schema"],
            json!({"$ref": "#/components/schemas/ConsentId"})
        );
        assert_eq!(report.counts["hoist-parameter-schema"], 2);
    }
}
