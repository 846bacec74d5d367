//! Parameters: drop the headers hooks set, drop what progenitor cannot send (cookies,
//! non-`form` query styles), and make the rest fit (required path parameters, scalar headers).

use super::{METHODS, NormalizeSettings, Report};
use crate::pipeline::refs::resolve;
use serde_json::{Map, Value, json};

/// Applies every parameter rule to path items and operations.
pub fn normalize(doc: &mut Value, settings: &NormalizeSettings, report: &mut Report) {
    let snapshot = doc.clone();
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let template = template_names(path);
        if let Some(Value::Array(params)) = item.get_mut("parameters") {
            fix_list(params, &template, settings, &snapshot, report);
        }
        let shared: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in METHODS {
            let Some(Value::Object(op)) = item.get_mut(method) else {
                continue;
            };
            let params = op.entry("parameters").or_insert_with(|| json!([]));
            if let Value::Array(params) = params {
                fix_list(params, &template, settings, &snapshot, report);
                for name in &template {
                    let declared = params.iter().chain(shared.iter()).any(|p| {
                        p.get("in").and_then(Value::as_str) == Some("path")
                            && p.get("name").and_then(Value::as_str) == Some(name)
                    });
                    if !declared {
                        params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
                        report.add("add-missing-path-parameter");
                    }
                }
            }
            if op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                op.remove("parameters");
            }
        }
    }
}

fn template_names(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
        .collect()
}

fn fix_list(
    params: &mut Vec<Value>,
    template: &[String],
    settings: &NormalizeSettings,
    doc: &Value,
    report: &mut Report,
) {
    params.retain(|p| keep_parameter(p, template, settings, report));
    for p in params.iter_mut() {
        if let Some(map) = p.as_object_mut() {
            fix_parameter(map, doc, report);
        }
    }
}

/// False for a parameter progenitor cannot or should not send: a header a hook sets, a
/// cookie, a path parameter the path has no slot for, a query parameter in another style
/// than `form`.
fn keep_parameter(
    p: &Value,
    template: &[String],
    settings: &NormalizeSettings,
    report: &mut Report,
) -> bool {
    let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
    match p.get("in").and_then(Value::as_str) {
        Some("header")
            if settings
                .drop_headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name)) =>
        {
            report.add("drop-hook-header");
            false
        }
        Some("cookie") => {
            report.add("drop-cookie-parameter");
            false
        }
        Some("path") if !template.iter().any(|t| t == name) => {
            report.add("drop-path-parameter-not-in-path");
            false
        }
        Some("query")
            if p.get("style")
                .and_then(Value::as_str)
                .is_some_and(|s| s != "form") =>
        {
            report.add("drop-unsupported-query-style");
            false
        }
        _ => true,
    }
}

/// Turns `content` into `schema`, makes a path parameter required and a header parameter a
/// `simple` scalar.
fn fix_parameter(map: &mut Map<String, Value>, doc: &Value, report: &mut Report) {
    if !map.contains_key("schema")
        && let Some(schema) = map
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.values().next())
            .and_then(|m| m.get("schema"))
            .cloned()
    {
        map.remove("content");
        map.insert("schema".into(), schema);
        report.add("parameter-content-to-schema");
    }
    match map.get("in").and_then(Value::as_str) {
        Some("path") if map.get("required") != Some(&json!(true)) => {
            map.insert("required".into(), json!(true));
            report.add("path-parameter-required");
        }
        Some("header") => {
            if map
                .get("style")
                .and_then(Value::as_str)
                .is_some_and(|s| s != "simple")
            {
                map.insert("style".into(), json!("simple"));
                report.add("header-style-simple");
            }
            let scalar = map
                .get("schema")
                .and_then(|s| resolve(doc, s))
                .is_some_and(is_scalar);
            if !scalar {
                let description = map
                    .get("schema")
                    .and_then(|s| s.get("description"))
                    .cloned();
                let mut schema = json!({"type": "string"});
                if let Some(d) = description {
                    schema["description"] = d;
                }
                map.insert("schema".into(), schema);
                report.add("header-schema-to-string");
            }
        }
        _ => {}
    }
}

/// A schema whose Rust type will implement `Display` (needed to send it as a header).
fn is_scalar(schema: &Value) -> bool {
    let composite = ["oneOf", "anyOf", "allOf", "not"]
        .iter()
        .any(|k| schema.get(k).is_some());
    let kind = schema.get("type").and_then(Value::as_str);
    !composite && matches!(kind, Some("string" | "integer" | "number" | "boolean"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_rules() {
        let mut doc = json!({"paths": {"/a/{id}": {
            "parameters": [{"name": "Digest", "in": "header", "schema": {"type": "string"}}],
            "get": {"parameters": [
                {"name": "id", "in": "path", "schema": {"type": "string"}},
                {"name": "signature", "in": "header", "required": true, "schema": {"type": "string"}},
                {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                {"name": "filter", "in": "query", "style": "deepObject", "schema": {"type": "object"}},
                {"name": "PSU-Geo", "in": "header", "schema": {"type": "object"}},
                {"name": "X-Request-ID", "in": "header", "required": true, "schema": {"type": "string", "format": "uuid"}}
            ]},
            "post": {}
        }}});
        let settings = NormalizeSettings {
            drop_headers: vec!["Digest".into(), "Signature".into()],
            ..NormalizeSettings::default()
        };
        let mut report = Report::default();
        normalize(&mut doc, &settings, &mut report);
        insta::assert_json_snapshot!(doc);
        insta::assert_debug_snapshot!(report.counts);
    }
}
