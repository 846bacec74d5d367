//! Variants of a real OpenAPI 3 document, derived at test time: one client-relevant edit each
//! (response fields, parameters, request constraints), chosen deterministically.

use serde_json::{Value, json};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `(name, edited document)` for every edit that applies to `doc`.
pub fn variants(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let schemas = response_schemas(doc);
    let picks: Vec<(usize, &String)> = schemas.iter().enumerate().collect();
    for (i, name) in picks {
        if i != 0 && i != schemas.len() / 2 {
            continue;
        }
        let edits: &[(&str, Edit)] = if i == 0 {
            &[
                ("remove-field", remove_field),
                ("make-required", make_required),
                ("make-optional", make_optional),
                ("string-to-integer", string_to_integer),
                ("inline-ref", inline_ref),
            ]
        } else {
            &[
                ("remove-field", remove_field),
                ("make-required", make_required),
            ]
        };
        for (what, edit) in edits {
            let mut d = doc.clone();
            if let Some(schema) = d.pointer_mut(&format!("/components/schemas/{name}")) {
                let components = doc
                    .pointer("/components/schemas")
                    .cloned()
                    .unwrap_or_default();
                if edit(schema, &components) {
                    out.push((format!("{what} {name}"), d));
                }
            }
        }
    }
    for (what, edit) in [
        ("query-parameter-required", param_required as OpEdit),
        ("parameter-removed", param_removed),
        ("query-parameter-retyped", param_retyped),
        ("required-query-parameter-added", param_added),
        ("request-maxlength-tightened", request_max_length),
    ] {
        let mut d = doc.clone();
        if let Some(target) = edit(&mut d) {
            out.push((format!("{what} {target}"), d));
        }
    }
    out
}

type Edit = fn(&mut Value, &Value) -> bool;
type OpEdit = fn(&mut Value) -> Option<String>;

/// Component schemas (with properties) that 2xx JSON responses name directly, in path order.
fn response_schemas(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, op) in operations(doc) {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            continue;
        };
        for (status, response) in responses {
            if !status.starts_with('2') {
                continue;
            }
            let response = resolve(doc, response);
            let Some(content) = response.get("content").and_then(Value::as_object) else {
                continue;
            };
            for (mime, media) in content {
                if !mime.contains("json") {
                    continue;
                }
                let Some(name) = media
                    .pointer("/schema/$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                else {
                    continue;
                };
                let has_props = doc
                    .pointer(&format!("/components/schemas/{name}/properties"))
                    .is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()));
                if has_props && !out.iter().any(|n| n == name) {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((format!("{} {path}", m.to_uppercase()), op));
            }
        }
    }
    out
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    v.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| doc.pointer(p))
        .unwrap_or(v)
}

fn required(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn first_property(schema: &Value, pick: impl Fn(&str, &Value) -> bool) -> Option<String> {
    schema
        .get("properties")?
        .as_object()?
        .iter()
        .find(|(k, v)| pick(k, v))
        .map(|(k, _)| k.clone())
}

fn remove_field(schema: &mut Value, _: &Value) -> bool {
    let Some(name) = first_property(schema, |_, _| true) else {
        return false;
    };
    if let Some(p) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        p.remove(&name);
    }
    if let Some(r) = schema.get_mut("required").and_then(Value::as_array_mut) {
        r.retain(|v| v.as_str() != Some(&name));
    }
    true
}

fn make_required(schema: &mut Value, _: &Value) -> bool {
    let req = required(schema);
    let Some(name) = first_property(schema, |k, _| !req.iter().any(|r| r == k)) else {
        return false;
    };
    match schema.get_mut("required").and_then(Value::as_array_mut) {
        Some(list) => list.push(json!(name)),
        None => schema["required"] = json!([name]),
    }
    true
}

fn make_optional(schema: &mut Value, _: &Value) -> bool {
    let Some(first) = required(schema).into_iter().next() else {
        return false;
    };
    if let Some(r) = schema.get_mut("required").and_then(Value::as_array_mut) {
        r.retain(|v| v.as_str() != Some(&first));
        if r.is_empty() {
            schema.as_object_mut().map(|o| o.remove("required"));
        }
    }
    true
}

fn string_to_integer(schema: &mut Value, _: &Value) -> bool {
    let Some(name) = first_property(schema, |_, v| {
        v.get("type").and_then(Value::as_str) == Some("string") && v.get("enum").is_none()
    }) else {
        return false;
    };
    schema["properties"][&name] = json!({"type": "integer"});
    true
}

fn inline_ref(schema: &mut Value, components: &Value) -> bool {
    let target = |v: &Value| {
        v.get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .map(str::to_string)
    };
    let Some(name) = first_property(schema, |_, v| {
        target(v).is_some_and(|t| {
            components
                .get(&t)
                .is_some_and(|c| c.get("properties").is_some())
        })
    }) else {
        return false;
    };
    let Some(t) = target(&schema["properties"][&name]) else {
        return false;
    };
    schema["properties"][&name] = components[&t].clone();
    true
}

/// A parameter of an operation: where it is defined (its own pointer, the component's for a
/// `$ref`), the list it is in and its index there, and a label.
struct ParamAt {
    target: String,
    list: String,
    index: usize,
    label: String,
}

/// The first parameter (in path order) `pick` accepts, `$ref`s resolved.
fn find_param(doc: &Value, pick: impl Fn(&Value) -> bool) -> Option<ParamAt> {
    let paths = doc.get("paths")?.as_object()?;
    for (path, item) in paths {
        let escaped = path.replace('~', "~0").replace('/', "~1");
        for m in METHODS {
            let Some(params) = item
                .get(m)
                .and_then(|op| op.get("parameters"))
                .and_then(Value::as_array)
            else {
                continue;
            };
            let list = format!("/paths/{escaped}/{m}/parameters");
            for (index, raw) in params.iter().enumerate() {
                let (target, p) = match raw.get("$ref").and_then(Value::as_str) {
                    Some(r) => {
                        let ptr = r.strip_prefix('#')?.to_string();
                        let p = doc.pointer(&ptr)?;
                        (ptr, p)
                    }
                    None => (format!("{list}/{index}"), raw),
                };
                if pick(p) {
                    let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
                    return Some(ParamAt {
                        target,
                        list,
                        index,
                        label: format!("{} {path} {name}", m.to_uppercase()),
                    });
                }
            }
        }
    }
    None
}

fn param_required(doc: &mut Value) -> Option<String> {
    let at = find_param(doc, |p| {
        p.get("in").and_then(Value::as_str) == Some("query")
            && !p.get("required").and_then(Value::as_bool).unwrap_or(false)
    })?;
    doc.pointer_mut(&at.target)?["required"] = json!(true);
    Some(at.label)
}

fn param_retyped(doc: &mut Value) -> Option<String> {
    let at = find_param(doc, |p| {
        p.get("in").and_then(Value::as_str) == Some("query")
            && p.pointer("/schema/type").and_then(Value::as_str) == Some("string")
            && p.pointer("/schema/enum").is_none()
    })?;
    doc.pointer_mut(&at.target)?["schema"] = json!({"type": "integer"});
    Some(at.label)
}

fn param_removed(doc: &mut Value) -> Option<String> {
    let at = find_param(doc, |p| {
        matches!(
            p.get("in").and_then(Value::as_str),
            Some("query") | Some("header")
        )
    })?;
    doc.pointer_mut(&at.list)?.as_array_mut()?.remove(at.index);
    Some(at.label)
}

fn param_added(doc: &mut Value) -> Option<String> {
    let (path, m) = {
        let paths = doc.get("paths")?.as_object()?;
        paths
            .iter()
            .find_map(|(p, item)| item.get("get").map(|_| (p.clone(), "get")))?
    };
    let op = doc.get_mut("paths")?.get_mut(&path)?.get_mut(m)?;
    let new =
        json!({"name": "newFilter", "in": "query", "required": true, "schema": {"type": "string"}});
    match op.get_mut("parameters").and_then(Value::as_array_mut) {
        Some(list) => list.push(new),
        None => op["parameters"] = json!([new]),
    }
    Some(format!("GET {path}"))
}

/// The first request body component schema (in path order) with a string property: its
/// `maxLength` halved, or set to 5 where it had none.
fn request_max_length(doc: &mut Value) -> Option<String> {
    let names: Vec<String> = operations(doc)
        .iter()
        .filter_map(|(_, op)| {
            let body = resolve(doc, op.get("requestBody")?);
            let content = body.get("content")?.as_object()?;
            content.values().find_map(|media| {
                media
                    .pointer("/schema/$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .map(str::to_string)
            })
        })
        .collect();
    for name in names {
        let schema = doc.pointer_mut(&format!("/components/schemas/{name}"))?;
        let Some(prop) = first_property(schema, |_, v| {
            v.get("type").and_then(Value::as_str) == Some("string") && v.get("enum").is_none()
        }) else {
            continue;
        };
        let p = &mut schema["properties"][&prop];
        let max = p
            .get("maxLength")
            .and_then(Value::as_u64)
            .map_or(5, |m| (m / 2).max(1));
        p["maxLength"] = json!(max);
        return Some(format!("{name}.{prop}"));
    }
    None
}
