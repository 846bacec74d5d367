//! Stage 2: Swagger 2.0 → OpenAPI 3.0.3, on `serde_json::Value`; OpenAPI 3.0.x passes through.

use crate::error::{Error, Result};
use serde_json::{Map, Value, json};
use std::path::Path;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const PARAM_SCHEMA_KEYS: [&str; 14] = [
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
];

/// Which version the input declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceVersion {
    /// Swagger 2.0, upgraded here.
    Swagger2,
    /// OpenAPI 3.0.x, left as is.
    OpenApi30,
}

/// Checks the declared version and upgrades Swagger 2.0 documents in place.
pub fn upgrade(doc: &mut Value, path: &Path) -> Result<SourceVersion> {
    let unsupported = |found: String| Error::UnsupportedVersion {
        path: path.to_path_buf(),
        found,
    };
    if let Some(v) = doc.get("openapi") {
        let v = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        return if v.starts_with("3.0.") {
            Ok(SourceVersion::OpenApi30)
        } else {
            Err(unsupported(format!("openapi {v}")))
        };
    }
    if let Some(v) = doc.get("swagger") {
        let v = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        if v != "2.0" {
            return Err(unsupported(format!("swagger {v}")));
        }
        upgrade_swagger2(doc);
        return Ok(SourceVersion::Swagger2);
    }
    if let Some(v) = doc.get("swaggerVersion") {
        return Err(unsupported(format!("swagger {v}")));
    }
    Err(unsupported("(no `openapi` or `swagger` field)".into()))
}

fn take_obj(map: &mut Map<String, Value>, key: &str) -> Map<String, Value> {
    match map.remove(key) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn str_list(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    })
}

fn upgrade_swagger2(doc: &mut Value) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    root.remove("swagger");
    let host = root
        .remove("host")
        .and_then(|v| v.as_str().map(str::to_string));
    let base = root
        .remove("basePath")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let schemes = str_list(root.remove("schemes").as_ref()).unwrap_or_else(|| vec!["https".into()]);
    let consumes = str_list(root.remove("consumes").as_ref()).unwrap_or_default();
    let produces = str_list(root.remove("produces").as_ref()).unwrap_or_default();
    let definitions = take_obj(root, "definitions");
    let global_params = take_obj(root, "parameters");
    let global_responses = take_obj(root, "responses");
    let security_defs = take_obj(root, "securityDefinitions");

    let servers: Vec<Value> = match host {
        Some(h) => schemes
            .iter()
            .map(|s| json!({"url": format!("{s}://{h}{base}")}))
            .collect(),
        None => vec![json!({"url": if base.is_empty() { "/".to_string() } else { base.clone() }})],
    };

    let mut components = Map::new();
    if !definitions.is_empty() {
        components.insert("schemas".into(), Value::Object(definitions));
    }
    let mut params = Map::new();
    let mut bodies = Map::new();
    for (name, p) in global_params {
        match p.get("in").and_then(Value::as_str) {
            Some("body") | Some("formData") => {
                bodies.insert(name, body_from_params(&[p], &consumes));
            }
            _ => {
                params.insert(name, convert_param(p));
            }
        }
    }
    let body_param_names: Vec<String> = bodies.keys().cloned().collect();
    if !params.is_empty() {
        components.insert("parameters".into(), Value::Object(params));
    }
    if !bodies.is_empty() {
        components.insert("requestBodies".into(), Value::Object(bodies));
    }
    let responses: Map<String, Value> = global_responses
        .into_iter()
        .map(|(k, r)| (k, convert_response(r, &produces)))
        .collect();
    if !responses.is_empty() {
        components.insert("responses".into(), Value::Object(responses));
    }
    if !security_defs.is_empty() {
        let schemes = security_defs
            .into_iter()
            .map(|(k, s)| (k, convert_security(s)))
            .collect();
        components.insert("securitySchemes".into(), Value::Object(schemes));
    }

    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        for item in paths.values_mut() {
            if let Some(item) = item.as_object_mut() {
                convert_path_item(item, &consumes, &produces, &body_param_names);
            }
        }
    }
    root.insert("openapi".into(), json!("3.0.3"));
    root.insert("servers".into(), Value::Array(servers));
    if !components.is_empty() {
        root.insert("components".into(), Value::Object(components));
    }
    rewrite_refs(doc);
    convert_schemas(doc);
}

fn convert_path_item(
    item: &mut Map<String, Value>,
    consumes: &[String],
    produces: &[String],
    body_refs: &[String],
) {
    let shared: Vec<Value> = match item.remove("parameters") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let (shared_body, shared_other): (Vec<Value>, Vec<Value>) = shared
        .into_iter()
        .partition(|p| is_body_param(p, body_refs));
    if !shared_other.is_empty() {
        item.insert(
            "parameters".into(),
            Value::Array(shared_other.into_iter().map(convert_param).collect()),
        );
    }
    for method in METHODS {
        let Some(Value::Object(op)) = item.get_mut(method) else {
            continue;
        };
        let consumes =
            str_list(op.remove("consumes").as_ref()).unwrap_or_else(|| consumes.to_vec());
        let produces =
            str_list(op.remove("produces").as_ref()).unwrap_or_else(|| produces.to_vec());
        op.remove("schemes");
        let own: Vec<Value> = match op.remove("parameters") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        let (mut body, other): (Vec<Value>, Vec<Value>) =
            own.into_iter().partition(|p| is_body_param(p, body_refs));
        if body.is_empty() {
            body = shared_body.clone();
        }
        if !other.is_empty() {
            op.insert(
                "parameters".into(),
                Value::Array(other.into_iter().map(convert_param).collect()),
            );
        }
        if let Some(r) = body
            .first()
            .and_then(|b| b.get("$ref"))
            .and_then(Value::as_str)
        {
            let name = r.rsplit('/').next().unwrap_or_default();
            op.insert(
                "requestBody".into(),
                json!({"$ref": format!("#/components/requestBodies/{name}")}),
            );
        } else if !body.is_empty() {
            op.insert("requestBody".into(), body_from_params(&body, &consumes));
        }
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for r in responses.values_mut() {
                *r = convert_response(std::mem::take(r), &produces);
            }
        }
    }
}

fn is_body_param(p: &Value, body_refs: &[String]) -> bool {
    match p.get("$ref").and_then(Value::as_str) {
        Some(r) => body_refs.iter().any(|n| r == format!("#/parameters/{n}")),
        None => matches!(
            p.get("in").and_then(Value::as_str),
            Some("body" | "formData")
        ),
    }
}

fn media_types(list: &[String], default: &str) -> Vec<String> {
    if list.is_empty() {
        vec![default.to_string()]
    } else {
        list.to_vec()
    }
}

fn body_from_params(params: &[Value], consumes: &[String]) -> Value {
    let mut content = Map::new();
    let mut required = false;
    let mut description = None;
    if let Some(body) = params
        .iter()
        .find(|p| p.get("in").and_then(Value::as_str) == Some("body"))
    {
        required = body
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        description = body.get("description").cloned();
        let schema = body.get("schema").cloned().unwrap_or_else(|| json!({}));
        for mt in media_types(consumes, "application/json") {
            content.insert(mt, json!({"schema": schema}));
        }
    } else {
        let mut props = Map::new();
        let mut req = Vec::new();
        let mut has_file = false;
        for p in params {
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if p.get("required").and_then(Value::as_bool).unwrap_or(false) {
                req.push(json!(name));
                required = true;
            }
            has_file |= p.get("type").and_then(Value::as_str) == Some("file");
            props.insert(name, param_schema(p));
        }
        let mut schema = json!({"type": "object", "properties": props});
        if !req.is_empty() {
            schema["required"] = Value::Array(req);
        }
        let default = if has_file {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let form: Vec<String> = consumes
            .iter()
            .filter(|m| m.contains("form"))
            .cloned()
            .collect();
        for mt in media_types(&form, default) {
            content.insert(mt, json!({"schema": schema}));
        }
    }
    let mut body = json!({"content": content, "required": required});
    if let Some(d) = description {
        body["description"] = d;
    }
    body
}

fn param_schema(p: &Value) -> Value {
    let mut schema = Map::new();
    if let Some(map) = p.as_object() {
        for key in PARAM_SCHEMA_KEYS {
            if let Some(v) = map.get(key) {
                schema.insert(key.to_string(), v.clone());
            }
        }
    }
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".into(), json!("string"));
        schema.insert("format".into(), json!("binary"));
    }
    Value::Object(schema)
}

fn convert_param(p: Value) -> Value {
    if p.get("$ref").is_some() {
        return p;
    }
    let schema = param_schema(&p);
    let Value::Object(mut map) = p else { return p };
    for key in PARAM_SCHEMA_KEYS {
        map.remove(key);
    }
    map.remove("allowEmptyValue");
    if let Some(cf) = map
        .remove("collectionFormat")
        .and_then(|v| v.as_str().map(str::to_string))
    {
        let location = map.get("in").and_then(Value::as_str).unwrap_or_default();
        if location == "query" {
            map.insert("style".into(), json!("form"));
            map.insert("explode".into(), json!(cf == "multi"));
        }
    }
    map.insert("schema".into(), schema);
    Value::Object(map)
}

fn convert_response(r: Value, produces: &[String]) -> Value {
    if r.get("$ref").is_some() {
        return r;
    }
    let Value::Object(mut map) = r else { return r };
    let examples = take_obj(&mut map, "examples");
    if let Some(schema) = map.remove("schema") {
        let mut content = Map::new();
        for mt in media_types(produces, "application/json") {
            let mut media = json!({"schema": schema});
            if let Some(ex) = examples.get(&mt) {
                media["example"] = ex.clone();
            }
            content.insert(mt, media);
        }
        map.insert("content".into(), Value::Object(content));
    }
    if let Some(Value::Object(headers)) = map.get_mut("headers") {
        for h in headers.values_mut() {
            let schema = param_schema(h);
            let mut header = json!({"schema": schema});
            if let Some(d) = h.get("description") {
                header["description"] = d.clone();
            }
            *h = header;
        }
    }
    map.entry("description").or_insert_with(|| json!(""));
    Value::Object(map)
}

fn convert_security(s: Value) -> Value {
    let Value::Object(mut map) = s else { return s };
    match map.get("type").and_then(Value::as_str) {
        Some("basic") => json!({"type": "http", "scheme": "basic"}),
        Some("oauth2") => {
            let flow = map
                .remove("flow")
                .and_then(|v| v.as_str().map(str::to_string));
            let mut f = Map::new();
            for key in ["authorizationUrl", "tokenUrl"] {
                if let Some(v) = map.remove(key) {
                    f.insert(key.into(), v);
                }
            }
            f.insert(
                "scopes".into(),
                map.remove("scopes").unwrap_or_else(|| json!({})),
            );
            let name = match flow.as_deref() {
                Some("accessCode") => "authorizationCode",
                Some("application") => "clientCredentials",
                Some("password") => "password",
                _ => "implicit",
            };
            let mut out = json!({"type": "oauth2", "flows": {name: f}});
            if let Some(d) = map.remove("description") {
                out["description"] = d;
            }
            out
        }
        _ => Value::Object(map),
    }
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                for (from, to) in [
                    ("#/definitions/", "#/components/schemas/"),
                    ("#/parameters/", "#/components/parameters/"),
                    ("#/responses/", "#/components/responses/"),
                ] {
                    if let Some(rest) = r.strip_prefix(from) {
                        *r = format!("{to}{rest}");
                        break;
                    }
                }
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// Schema-level differences: `x-nullable`, string discriminators, `type: file`.
fn convert_schemas(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(n) = map.remove("x-nullable") {
                map.insert("nullable".into(), n);
            }
            if let Some(Value::String(d)) = map.get("discriminator") {
                let d = json!({"propertyName": d});
                map.insert("discriminator".into(), d);
            }
            if map.get("type").and_then(Value::as_str) == Some("file") {
                map.insert("type".into(), json!("string"));
                map.insert("format".into(), json!("binary"));
            }
            map.values_mut().for_each(convert_schemas);
        }
        Value::Array(items) => items.iter_mut().for_each(convert_schemas),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swagger() -> Value {
        json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "host": "api.example", "basePath": "/v1", "schemes": ["https"],
            "produces": ["application/json"],
            "securityDefinitions": {"oauth": {"type": "oauth2", "flow": "application", "tokenUrl": "https://t", "scopes": {}}},
            "paths": {"/things/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "string"}],
                "post": {
                    "operationId": "makeThing",
                    "consumes": ["application/x-www-form-urlencoded"],
                    "parameters": [
                        {"name": "grant_type", "in": "formData", "required": true, "type": "string"},
                        {"name": "X-Id", "in": "header", "type": "string", "format": "uuid"}
                    ],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Thing"},
                                           "headers": {"X-Rate": {"type": "integer"}}}}
                },
                "put": {
                    "operationId": "putThing",
                    "parameters": [{"name": "body", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Thing"}}],
                    "responses": {"204": {"description": "done"}}
                }
            }},
            "definitions": {"Thing": {"type": "object", "x-nullable": true, "properties": {"a": {"type": "string"}}}}
        })
    }

    #[test]
    fn swagger2_becomes_openapi30() {
        let mut doc = swagger();
        assert_eq!(
            upgrade(&mut doc, Path::new("s.json")).unwrap(),
            SourceVersion::Swagger2
        );
        insta::assert_json_snapshot!(doc);
        let parsed: std::result::Result<openapiv3::OpenAPI, _> = serde_json::from_value(doc);
        assert!(parsed.is_ok(), "{parsed:?}");
    }

    #[test]
    fn unsupported_versions_are_named() {
        for (doc, found) in [
            (json!({"openapi": "3.1.0"}), "openapi 3.1.0"),
            (json!({"swagger": "1.2"}), "swagger 1.2"),
            (json!({"swaggerVersion": "1.2"}), "swagger \"1.2\""),
        ] {
            let mut doc = doc;
            let err = upgrade(&mut doc, Path::new("x.yaml")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "x.yaml: unsupported document version {found} (supported: swagger 2.0, openapi 3.0.x)"
                )
            );
        }
    }
}
