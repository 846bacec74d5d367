//! Drop the component schemas no operation can reach.
//!
//! progenitor turns every entry of `components/schemas` into a type, used or not. After the
//! other normalize steps many are unused: the per-status error schemas that `responses`
//! merged into one error type per operation, the schemas of media types `media` dropped
//! (XML, pain.001, MT940), and schemas a spec declares but never references. In the Berlin
//! Group 1.3.12 document that was 176 of 451 types (39%), each with its serde impls,
//! compiled into every build of the crate for nothing. This step keeps the schemas reachable
//! through `$ref`s from `paths` (following refs into any component section, transitively)
//! and removes the rest. `keep_unused_schemas = true` in `bank.toml` turns it off.

use super::Report;
use super::reachable::{refs_reached_from, schema_ref};
use serde_json::Value;

/// Removes every component schema that no operation reaches.
pub(super) fn drop_unused_schemas(doc: &mut Value, report: &mut Report) {
    let reached = refs_reached_from(doc, doc.get("paths"));
    let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") else {
        return;
    };
    schemas.retain(|name, _| {
        let keep = reached.contains(&schema_ref(name));
        if !keep {
            report.add("drop-unused-schema");
        }
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kept(doc: &Value) -> Vec<&String> {
        doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect()
    }

    #[test]
    fn keeps_what_operations_reach_and_drops_the_rest() {
        let mut doc = json!({
            "paths": {"/a": {"get": {
                "parameters": [{"$ref": "#/components/parameters/P"}],
                "responses": {"200": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Answer"}}}}}
            }}},
            "components": {
                "parameters": {"P": {"name": "p", "in": "query",
                    "schema": {"$ref": "#/components/schemas/Param"}}},
                "responses": {"E400": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error400"}}}}},
                "schemas": {
                    "Answer": {"type": "object", "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
                    "Item": {"allOf": [{"$ref": "#/components/schemas/Base"}]},
                    "Base": {"type": "object"},
                    "Param": {"type": "string", "enum": ["x"]},
                    "Error400": {"type": "object", "properties": {
                        "detail": {"$ref": "#/components/schemas/Detail"}}},
                    "Detail": {"type": "string"},
                    "Self~Ref": {"$ref": "#/components/schemas/Self~0Ref"},
                    "Cycle": {"type": "object", "properties": {
                        "next": {"$ref": "#/components/schemas/Cycle"}}}
                }
            }
        });
        let mut report = Report::default();
        drop_unused_schemas(&mut doc, &mut report);
        // Reached through a response, an array, an allOf, and a component parameter; the
        // error schema only a component response names (no operation uses it) goes, with
        // what only it reaches, and so do unreferenced and self-referencing schemas.
        assert_eq!(kept(&doc), ["Answer", "Base", "Item", "Param"]);
        assert_eq!(report.counts["drop-unused-schema"], 4);
    }

    #[test]
    fn the_setting_keeps_them() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"schemas": {"Unused": {"type": "object"}}}
        });
        let run = |keep_unused_schemas: bool| {
            let mut doc = doc.clone();
            let settings = super::super::NormalizeSettings {
                keep_unused_schemas,
                ..Default::default()
            };
            super::super::normalize(&mut doc, &settings, std::path::Path::new("t.yaml")).unwrap();
            doc["components"]["schemas"].as_object().unwrap().len()
        };
        assert_eq!(run(false), 0);
        assert_eq!(run(true), 1);
    }

    #[test]
    fn an_escaped_name_is_matched() {
        let mut doc = json!({
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/a~1b~0c"}}}}}}}},
            "components": {"schemas": {"a/b~c": {"type": "object"}, "d": {"type": "object"}}}
        });
        let mut report = Report::default();
        drop_unused_schemas(&mut doc, &mut report);
        assert_eq!(kept(&doc), ["a/b~c"]);
    }
}
