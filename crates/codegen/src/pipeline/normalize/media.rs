//! Media types: keep one JSON media type per response and request body (named
//! `application/json`), drop the alternatives progenitor cannot use, and drop operations whose
//! request body has no media type progenitor can send.

use super::{METHODS, Report, for_each_operation};
use serde_json::{Map, Value, json};

/// Is `mt` a JSON media type (`application/json`, `...;charset=..`, `application/problem+json`)?
pub fn is_json(mt: &str) -> bool {
    let base = mt
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    base == "application/json" || (base.starts_with("application/") && base.ends_with("+json"))
}

/// Applies the media-type rules to every operation.
pub fn normalize(doc: &mut Value, report: &mut Report) {
    for_each_operation(doc, |_, _, op| {
        if let Some(Value::Object(content)) =
            op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
            && !pick_request_media(content, report)
        {
            op.insert("x-psd2-drop".into(), json!(true));
        }
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for r in responses.values_mut() {
                if let Some(Value::Object(content)) = r.get_mut("content") {
                    pick_response_media(content, report);
                }
            }
        }
    });
    drop_marked_operations(doc, report);
}

fn drop_marked_operations(doc: &mut Value, report: &mut Report) {
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            if item
                .get(method)
                .and_then(|op| op.get("x-psd2-drop"))
                .is_some()
            {
                item.remove(method);
                report.add("drop-operation-unsupported-request-body");
            }
        }
    }
}

fn clear_encoding(media: &mut Value, report: &mut Report) {
    if let Some(map) = media.as_object_mut()
        && map.remove("encoding").is_some()
    {
        report.add("drop-media-encoding");
    }
}

/// Sets `schema` of a Media Type Object (`null` counts as an empty one); false, leaving it
/// for the document parser to refuse, when it is some other value than a mapping.
fn set_schema(media: &mut Value, schema: Value) -> bool {
    if media.is_null() {
        *media = json!({});
    }
    match media.as_object_mut() {
        Some(map) => {
            map.insert("schema".into(), schema);
            true
        }
        None => false,
    }
}

/// Keeps the one request media type progenitor supports best; false when there is none.
fn pick_request_media(content: &mut Map<String, Value>, report: &mut Report) -> bool {
    let order: [fn(&str) -> bool; 4] = [
        is_json,
        |m| m.starts_with("application/x-www-form-urlencoded"),
        |m| m.starts_with("application/octet-stream"),
        |m| m.starts_with("text/plain"),
    ];
    let Some((key, canonical)) = order
        .iter()
        .zip([
            "application/json",
            "application/x-www-form-urlencoded",
            "application/octet-stream",
            "text/plain",
        ])
        .find_map(|(pred, canonical)| {
            content
                .keys()
                .find(|k| pred(k))
                .map(|k| (k.clone(), canonical))
        })
    else {
        return content.is_empty();
    };
    let mut media = content.remove(&key).unwrap_or_else(|| json!({}));
    if !content.is_empty() {
        report.add("drop-alternative-request-media-type");
    }
    if key != canonical {
        report.add("rename-media-type");
    }
    clear_encoding(&mut media, report);
    if canonical == "text/plain"
        && media.get("schema") != Some(&json!({"type": "string"}))
        && set_schema(&mut media, json!({"type": "string"}))
    {
        report.add("text-body-schema-string");
    }
    if canonical == "application/json"
        && media.get("schema").is_none()
        && set_schema(&mut media, json!({}))
    {
        report.add("add-empty-schema");
    }
    content.clear();
    content.insert(canonical.to_string(), media);
    true
}

fn pick_response_media(content: &mut Map<String, Value>, report: &mut Report) {
    let preferred = content
        .keys()
        .find(|k| k.as_str() == "application/json")
        .or_else(|| content.keys().find(|k| is_json(k)))
        .cloned();
    match preferred {
        Some(key) => {
            let mut media = content.remove(&key).unwrap_or_else(|| json!({}));
            if !content.is_empty() {
                report.add("drop-non-json-response-media-type");
            }
            if key != "application/json" {
                report.add("rename-media-type");
            }
            if media.get("schema").is_none() && set_schema(&mut media, json!({})) {
                report.add("add-empty-schema");
            }
            clear_encoding(&mut media, report);
            content.clear();
            content.insert("application/json".into(), media);
        }
        None => content.values_mut().for_each(|m| clear_encoding(m, report)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_rules() {
        let mut doc = json!({"paths": {
            "/pay": {
                "post": {
                    "requestBody": {"content": {
                        "application/xml": {"schema": {"type": "string"}},
                        "application/json": {"schema": {"$ref": "#/components/schemas/P"}}
                    }},
                    "responses": {
                        "201": {"description": "", "content": {"application/json;charset=UTF-8": {}}},
                        "400": {"description": "", "content": {
                            "application/problem+json": {"schema": {"$ref": "#/components/schemas/E"}},
                            "text/html": {"schema": {"type": "string"}}
                        }}
                    }
                },
                "put": {
                    "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}},
                    "responses": {"200": {"description": ""}}
                }
            },
            "/statement": {"get": {"responses": {"200": {"description": "", "content": {
                "application/xml": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}}
            }}}}}
        }});
        let mut report = Report::default();
        normalize(&mut doc, &mut report);
        insta::assert_json_snapshot!(doc);
        insta::assert_debug_snapshot!(report.counts);
    }
}
