//! Exact numbers: typify turns `type: number` into `f64`, and money must never pass through a
//! float (Handelsbanken sends `"amount": 2000.10` as a JSON number). Every `type: number`
//! schema becomes a `$ref` to one synthetic component, [`DECIMAL_SCHEMA`], which the generate
//! stage replaces with `rust_decimal::Decimal`. With serde_json's `arbitrary_precision` (turned
//! on by the workspace's `rust_decimal` features) the number's literal text reaches
//! `Decimal` unchanged: `2000` keeps scale 0 and `18959.990` keeps scale 3.

use super::Report;
use serde_json::{Map, Value, json};

/// Name of the synthetic component schema generated as `rust_decimal::Decimal`.
pub const DECIMAL_SCHEMA: &str = "JsonDecimal";

/// Rewrites every `type: number` schema (outside `components/schemas/JsonDecimal`).
pub fn exact_numbers(doc: &mut Value, report: &mut Report) {
    let before = report
        .counts
        .get("exact-decimal-number")
        .copied()
        .unwrap_or(0);
    if let Value::Object(root) = doc {
        for (key, value) in root.iter_mut() {
            if key == "components" {
                if let Value::Object(components) = value {
                    for (kind, group) in components.iter_mut() {
                        let Value::Object(group) = group else {
                            continue;
                        };
                        for (name, item) in group.iter_mut() {
                            if kind == "schemas" && name == DECIMAL_SCHEMA {
                                continue;
                            }
                            rewrite(item, report);
                        }
                    }
                }
            } else if key == "paths" {
                rewrite(value, report);
            }
        }
    }
    let after = report
        .counts
        .get("exact-decimal-number")
        .copied()
        .unwrap_or(0);
    if after > before {
        let Value::Object(root) = doc else { return };
        let components = root.entry("components").or_insert_with(|| json!({}));
        if let Value::Object(components) = components {
            let schemas = components.entry("schemas").or_insert_with(|| json!({}));
            if let Value::Object(schemas) = schemas {
                schemas.insert(
                    DECIMAL_SCHEMA.into(),
                    json!({
                        "type": "number",
                        "description": "An exact decimal number (generated as rust_decimal::Decimal, never a float)."
                    }),
                );
            }
        }
    }
}

fn is_number_schema(map: &Map<String, Value>) -> bool {
    map.get("type").and_then(Value::as_str) == Some("number")
        && map.get("enum").is_none()
        && !map.contains_key("$ref")
}

fn rewrite(value: &mut Value, report: &mut Report) {
    match value {
        Value::Object(map) => {
            // `schema` keys hold schemas; property maps hold schemas by name. Any object that
            // itself is a number schema is replaced wholesale.
            if is_number_schema(map) {
                let nullable = map.get("nullable") == Some(&Value::Bool(true));
                let reference = json!({ "$ref": format!("#/components/schemas/{DECIMAL_SCHEMA}") });
                *value = if nullable {
                    json!({ "allOf": [reference], "nullable": true })
                } else {
                    reference
                };
                report.add("exact-decimal-number");
                return;
            }
            for (key, inner) in map.iter_mut() {
                // Examples and defaults are data, not schemas.
                if matches!(
                    key.as_str(),
                    "example" | "examples" | "default" | "enum" | "x-known-values"
                ) {
                    continue;
                }
                rewrite(inner, report);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, report)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_decimal_refs_and_examples_stay() {
        let mut doc = json!({
            "paths": {"/a": {"get": {
                "parameters": [{"name": "min", "in": "query", "schema": {"type": "number"}}],
                "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Amount"}}}}}
            }}},
            "components": {"schemas": {
                "Amount": {
                    "type": "object",
                    "properties": {
                        "amount": {"type": "number", "example": 2000},
                        "count": {"type": "integer"},
                        "rate": {"type": "number", "nullable": true}
                    },
                    "example": {"amount": 2000, "count": 1}
                }
            }}
        });
        let mut report = Report::default();
        exact_numbers(&mut doc, &mut report);
        assert_eq!(report.counts.get("exact-decimal-number"), Some(&3));
        assert_eq!(
            doc.pointer("/components/schemas/Amount/properties/amount"),
            Some(&json!({"$ref": "#/components/schemas/JsonDecimal"}))
        );
        assert_eq!(
            doc.pointer("/components/schemas/Amount/properties/rate"),
            Some(
                &json!({"allOf": [{"$ref": "#/components/schemas/JsonDecimal"}], "nullable": true})
            )
        );
        assert_eq!(
            doc.pointer("/components/schemas/Amount/properties/count/type"),
            Some(&json!("integer"))
        );
        assert_eq!(
            doc.pointer("/components/schemas/Amount/example/amount"),
            Some(&json!(2000))
        );
        assert_eq!(
            doc.pointer("/components/schemas/JsonDecimal/type"),
            Some(&json!("number"))
        );
        assert_eq!(
            doc.pointer("/paths/~1a/get/parameters/0/schema"),
            Some(&json!({"$ref": "#/components/schemas/JsonDecimal"}))
        );
    }

    #[test]
    fn documents_without_numbers_get_no_synthetic_schema() {
        let mut doc = json!({"paths": {}, "components": {"schemas": {"A": {"type": "string"}}}});
        let mut report = Report::default();
        exact_numbers(&mut doc, &mut report);
        assert_eq!(report.total(), 0);
        assert!(doc.pointer("/components/schemas/JsonDecimal").is_none());
    }
}
