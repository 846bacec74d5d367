//! Open response objects: `additionalProperties: false` makes typify derive
//! `#[serde(deny_unknown_fields)]`, and a type with it rejects the whole response the day the
//! bank adds a field. A bank may add fields to anything it sends, so the constraint is dropped
//! from every schema a response can carry, whatever the document says (the way response enums
//! are opened). Schemas only requests reach keep it: the client writes those itself.
//!
//! `additionalProperties` with a schema (a map's values) is left alone; only the closing
//! `false` goes.

use super::Report;
use super::reachable::{for_each_response_schema, walk_inline};
use serde_json::Value;

/// Removes `additionalProperties: false` from every schema a response can carry.
pub fn open_response_objects(doc: &mut Value, report: &mut Report) {
    for_each_response_schema(doc, |schema| {
        walk_inline(schema, &mut |map| {
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                map.remove("additionalProperties");
                report.add("open-response-object");
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn closed_response_objects_open_and_request_objects_stay_closed() {
        let mut d = json!({
            "openapi": "3.0.3",
            "paths": {"/a": {
                "get": {"responses": {
                    "200": {"content": {"application/json": {"schema": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                            "statement": {"$ref": "#/components/schemas/Statement"},
                            "inline": {"type": "object", "additionalProperties": false}
                        }
                    }}}},
                    "400": {"content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Problem"
                    }}}}
                }},
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Request"
                    }}}},
                    "responses": {"204": {"description": "none"}}
                }
            }},
            "components": {"schemas": {
                "Statement": {"type": "object", "additionalProperties": false,
                    "properties": {"tags": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "Problem": {"type": "object", "additionalProperties": false},
                "Request": {"type": "object", "additionalProperties": false}
            }}
        });
        let mut report = Report::default();
        open_response_objects(&mut d, &mut report);
        assert_eq!(report.counts.get("open-response-object"), Some(&4));
        let body = "/paths/~1a/get/responses/200/content/application~1json/schema";
        assert!(d.pointer(&format!("{body}/additionalProperties")).is_none());
        assert!(
            d.pointer(&format!("{body}/properties/inline/additionalProperties"))
                .is_none()
        );
        assert!(
            d.pointer("/components/schemas/Statement/additionalProperties")
                .is_none()
        );
        assert!(
            d.pointer("/components/schemas/Problem/additionalProperties")
                .is_none()
        );
        assert_eq!(
            d.pointer("/components/schemas/Statement/properties/tags/additionalProperties"),
            Some(&json!({"type": "string"}))
        );
        assert_eq!(
            d.pointer("/components/schemas/Request/additionalProperties"),
            Some(&json!(false))
        );
    }
}
