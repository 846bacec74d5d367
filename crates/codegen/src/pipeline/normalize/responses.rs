//! Responses: progenitor wants one success type and one error type per operation.
//! Several 2xx bodies are folded into one (a `oneOf`, or raw bytes when some have no body);
//! error bodies are unified into one `oneOf` type; untyped error codes and a `default`
//! response beside explicit codes are dropped (they surface as `UnexpectedResponse`).

use super::{Report, for_each_operation, pascal};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq)]
enum Body {
    None,
    Raw,
    Json(Value),
}

fn body_of(response: &Value) -> Body {
    match response.get("content").and_then(Value::as_object) {
        None => Body::None,
        Some(c) if c.is_empty() => Body::None,
        Some(c) => match c.get("application/json") {
            Some(m) => Body::Json(m.get("schema").cloned().unwrap_or_else(|| json!({}))),
            None => Body::Raw,
        },
    }
}

fn is_success(code: &str) -> bool {
    code.eq_ignore_ascii_case("2XX") || code.parse::<u16>().is_ok_and(|c| (200..300).contains(&c))
}

fn is_error(code: &str) -> bool {
    code.eq_ignore_ascii_case("4XX")
        || code.eq_ignore_ascii_case("5XX")
        || code.parse::<u16>().is_ok_and(|c| (400..600).contains(&c))
}

/// Applies the response rules to every operation; hoisted schemas go to `components.schemas`.
pub fn normalize(doc: &mut Value, report: &mut Report) {
    let mut hoisted: Map<String, Value> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let before = hoisted.len();
    for_each_operation(doc, |_, _, op| {
        let id = pascal(
            op.get("operationId")
                .and_then(Value::as_str)
                .unwrap_or("Operation"),
        );
        let Some(Value::Object(responses)) = op.get_mut("responses") else {
            return;
        };
        let explicit = responses.keys().any(|k| is_success(k) || is_error(k));
        if explicit && responses.remove("default").is_some() {
            report.add("drop-default-response");
        }
        fold_success(responses, &id, &mut hoisted, report);
        unify_errors(responses, &id, &mut hoisted, report);
    });
    if hoisted.len() != before
        && let Some(root) = doc.as_object_mut()
    {
        let components = root.entry("components").or_insert_with(|| json!({}));
        components["schemas"] = Value::Object(hoisted);
    }
}

/// Names `schema` in `schemas`: reuses an identical existing schema, else adds `base`(N).
fn hoist(schema: Value, base: &str, schemas: &mut Map<String, Value>) -> Value {
    if let Some(r) = schema.get("$ref") {
        return json!({"$ref": r});
    }
    let name = match schemas.iter().find(|(_, v)| **v == schema) {
        Some((name, _)) => name.clone(),
        None => {
            let mut name = base.to_string();
            let mut n = 2;
            while schemas.contains_key(&name) {
                name = format!("{base}{n}");
                n += 1;
            }
            schemas.insert(name.clone(), schema);
            name
        }
    };
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn distinct(schemas: impl Iterator<Item = Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for s in schemas {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn set_json(response: &mut Value, schema: Value) {
    response["content"] = json!({"application/json": {"schema": schema}});
}

fn fold_success(
    responses: &mut Map<String, Value>,
    id: &str,
    schemas: &mut Map<String, Value>,
    report: &mut Report,
) {
    let codes: Vec<String> = responses
        .keys()
        .filter(|k| is_success(k))
        .cloned()
        .collect();
    let bodies: Vec<Body> = codes.iter().map(|c| body_of(&responses[c])).collect();
    let all_json = bodies.iter().all(|b| matches!(b, Body::Json(_)));
    if bodies.len() < 2 {
        return;
    }
    if !all_json {
        if bodies.iter().all(|b| *b == Body::None) || bodies.iter().all(|b| *b == Body::Raw) {
            return;
        }
        for c in &codes {
            if let Some(r) = responses.get_mut(c) {
                r["content"] = json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}});
            }
        }
        report.add("fold-success-mixed-bodies-to-raw");
        return;
    }
    let unique = distinct(bodies.into_iter().filter_map(|b| match b {
        Body::Json(s) => Some(s),
        _ => None,
    }));
    let single_ref = unique.len() == 1 && unique[0].get("$ref").is_some();
    if single_ref {
        return;
    }
    let schema = if unique.len() == 1 {
        unique.into_iter().next().unwrap_or_default()
    } else {
        json!({"oneOf": unique})
    };
    let reference = hoist(schema, &format!("{id}Success"), schemas);
    for c in &codes {
        if let Some(r) = responses.get_mut(c) {
            set_json(r, reference.clone());
        }
    }
    report.add("fold-success-types");
}

fn unify_errors(
    responses: &mut Map<String, Value>,
    id: &str,
    schemas: &mut Map<String, Value>,
    report: &mut Report,
) {
    let codes: Vec<String> = responses.keys().filter(|k| is_error(k)).cloned().collect();
    let bodies: Vec<(String, Body)> = codes
        .iter()
        .map(|c| (c.clone(), body_of(&responses[c])))
        .collect();
    let any_json = bodies.iter().any(|(_, b)| matches!(b, Body::Json(_)));
    let any_raw = bodies.iter().any(|(_, b)| *b == Body::Raw);
    for (code, body) in &bodies {
        let untyped = match body {
            Body::None => any_json || any_raw,
            Body::Raw => any_json,
            Body::Json(_) => false,
        };
        if untyped {
            responses.remove(code);
            report.add("drop-untyped-error-response");
        }
    }
    let unique = distinct(bodies.into_iter().filter_map(|(_, b)| match b {
        Body::Json(s) => Some(s),
        _ => None,
    }));
    let json_codes: Vec<String> = responses.keys().filter(|k| is_error(k)).cloned().collect();
    if unique.is_empty()
        || (unique.len() == 1 && (unique[0].get("$ref").is_some() || json_codes.len() < 2))
    {
        return;
    }
    let schema = if unique.len() == 1 {
        unique.into_iter().next().unwrap_or_default()
    } else {
        json!({"oneOf": unique})
    };
    let reference = hoist(schema, &format!("{id}Error"), schemas);
    for c in &json_codes {
        if let Some(r) = responses.get_mut(c) {
            set_json(r, reference.clone());
        }
    }
    report.add("unify-error-types");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_response(schema: Value) -> Value {
        json!({"description": "", "content": {"application/json": {"schema": schema}}})
    }

    #[test]
    fn response_rules() {
        let e400 = json!({"$ref": "#/components/schemas/E400"});
        let e401 = json!({"$ref": "#/components/schemas/E401"});
        let inline_err = json!({"type": "object", "properties": {"code": {"type": "string"}}});
        let mut doc = json!({
            "paths": {
                "/p/{id}": {"delete": {
                    "operationId": "cancelPayment",
                    "responses": {
                        "202": json_response(json!({"$ref": "#/components/schemas/Cancel"})),
                        "204": {"description": "gone"},
                        "400": json_response(e400.clone()),
                        "401": json_response(e401.clone()),
                        "404": {"description": "no body"},
                        "default": json_response(e400)
                    }
                }},
                "/a": {"get": {
                    "operationId": "getA",
                    "responses": {
                        "200": json_response(json!({"$ref": "#/components/schemas/A"})),
                        "201": json_response(json!({"$ref": "#/components/schemas/B"})),
                        "400": json_response(inline_err.clone()),
                        "500": json_response(inline_err.clone())
                    }
                }},
                "/b": {"get": {
                    "operationId": "getB",
                    "responses": {
                        "200": json_response(json!({"$ref": "#/components/schemas/A"})),
                        "401": json_response(inline_err.clone()),
                        "500": json_response(inline_err)
                    }
                }}
            },
            "components": {"schemas": {}}
        });
        let mut report = Report::default();
        normalize(&mut doc, &mut report);
        insta::assert_json_snapshot!(doc);
        insta::assert_debug_snapshot!(report.counts);
    }
}
