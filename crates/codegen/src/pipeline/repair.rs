//! Repairs of defects that shape no type, so generation goes on with a warning instead of
//! stopping: `info` missing or `null` (filled in), and `$ref`s under `examples` that point at
//! nothing (the example is dropped; examples never shape code). Defects that do shape types
//! (a dangling schema `$ref`, no `paths`) stay errors that name the JSON pointer and the
//! overlay action that fixes them.

use crate::error::{Error, Result};
use crate::pipeline::normalize::Report;
use serde_json::{Map, Value, json};
use std::path::Path;

/// Runs the repairs on an upgraded (OpenAPI 3.0) document.
pub fn repair(doc: &mut Value, path: &Path, report: &mut Report) -> Result<()> {
    fill_info(doc, path, report);
    drop_dangling_examples(doc, report);
    if !doc.get("paths").is_some_and(Value::is_object) {
        return Err(Error::NoPaths {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// `info` must be an object with a `title` and a `version`; fill in what is missing.
fn fill_info(doc: &mut Value, path: &Path, report: &mut Report) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let title = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "API".into());
    let info = root.entry("info").or_insert(Value::Null);
    if !info.is_object() {
        let found = if info.is_null() {
            "null or missing"
        } else {
            "not an object"
        };
        *info = json!({"title": title, "version": "0"});
        report.warn(
            "fill-info",
            "/info",
            format!("filled in `info` with title `{title}` and version `0`"),
            format!("`info` is {found}; it only names the API in docs"),
        );
        return;
    }
    let Some(map) = info.as_object_mut() else {
        return;
    };
    for (key, value) in [("title", title.as_str()), ("version", "0")] {
        if !map.get(key).is_some_and(Value::is_string) {
            map.insert(key.into(), json!(value));
            report.warn(
                "fill-info",
                format!("/info/{key}"),
                format!("filled in `info.{key}` with `{value}`"),
                format!("`info.{key}` is missing or not a string; it only names the API in docs"),
            );
        }
    }
}

/// Drops each entry of an `examples` map whose `$ref` points at nothing.
fn drop_dangling_examples(doc: &mut Value, report: &mut Report) {
    let snapshot = doc.clone();
    walk(doc, String::new(), &snapshot, report);
}

fn walk(value: &mut Value, at: String, doc: &Value, report: &mut Report) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(examples)) = map.get_mut("examples") {
                drop_from(examples, &format!("{at}/examples"), doc, report);
            }
            if let Some(reference) = map.get("example").and_then(|e| dangling_in(e, doc)) {
                map.remove("example");
                report.warn(
                    "drop-dangling-example-ref",
                    format!("{at}/example"),
                    format!("dropped the example (it holds `$ref: {reference}`)"),
                    "that `$ref` points at nothing; examples never shape the generated code",
                );
            }
            for (key, v) in map.iter_mut() {
                walk(v, format!("{at}/{}", escape(key)), doc, report);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                walk(v, format!("{at}/{i}"), doc, report);
            }
        }
        _ => {}
    }
}

fn drop_from(examples: &mut Map<String, Value>, at: &str, doc: &Value, report: &mut Report) {
    examples.retain(|name, example| {
        let Some(reference) = example.get("$ref").and_then(Value::as_str) else {
            return true;
        };
        if resolves(doc, reference) {
            return true;
        }
        report.warn(
            "drop-dangling-example-ref",
            format!("{at}/{}", escape(name)),
            format!("dropped example `{name}` (`$ref: {reference}`)"),
            "its `$ref` points at nothing; examples never shape the generated code",
        );
        false
    });
}

/// The first `$ref` inside `value` that points at nothing.
fn dangling_in(value: &Value, doc: &Value) -> Option<String> {
    match value {
        Value::Object(map) => match map.get("$ref") {
            Some(Value::String(r)) if !resolves(doc, r) => Some(r.clone()),
            _ => map.values().find_map(|v| dangling_in(v, doc)),
        },
        Value::Array(items) => items.iter().find_map(|v| dangling_in(v, doc)),
        _ => None,
    }
}

fn resolves(doc: &Value, reference: &str) -> bool {
    reference
        .strip_prefix('#')
        .is_some_and(|pointer| doc.pointer(pointer).is_some())
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// How to fix a dangling `$ref` found at JSON pointer `at` with an overlay action.
pub fn dangling_fix(reference: &str, at: &str) -> String {
    let redirect = format!(
        "or point it at something that exists: `target: \"{}\"`, `update: {{\"$ref\": \"#/...\"}}`",
        json_path(at)
    );
    match reference.strip_prefix('#') {
        Some(pointer) if pointer.starts_with('/') => {
            let (parent, name) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            let name = name.replace("~1", "/").replace("~0", "~");
            format!(
                "the type it names cannot be generated: add the target with an overlay action \
                 (`target: \"{}\"`, `update: {{\"{name}\": <schema>}}`) {redirect}",
                json_path(parent)
            )
        }
        _ => format!(
            "only local references (`#/...`) are supported: copy the target into the document \
             with an overlay action {redirect}"
        ),
    }
}

/// The JSONPath (as overlay actions use it) of a JSON pointer.
pub fn json_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        let plain = segment
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if plain {
            out.push('.');
            out.push_str(&segment);
        } else if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            out.push_str(&format!("['{}']", segment.replace('\'', "\\'")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_info_is_filled_with_a_warning() {
        let mut doc = json!({"openapi": "3.0.1", "info": null, "paths": {}});
        let mut report = Report::default();
        repair(&mut doc, Path::new("dir/api-v1.yaml"), &mut report).unwrap();
        assert_eq!(doc["info"], json!({"title": "api-v1", "version": "0"}));
        assert_eq!(report.warnings.len(), 1);
        assert_eq!(report.warnings[0].pointer, "/info");
    }

    #[test]
    fn dangling_example_refs_are_dropped_and_others_kept() {
        let mut doc = json!({
            "openapi": "3.0.1", "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
                "examples": {
                    "gone": {"$ref": "#/components/examples/gone"},
                    "here": {"$ref": "#/components/examples/here"},
                    "inline": {"value": {"a": 1}}
                },
                "example": {"nested": {"$ref": "#/components/examples/gone"}}
            }}}}}}},
            "components": {"examples": {"here": {"value": 1}}}
        });
        let mut report = Report::default();
        repair(&mut doc, Path::new("s.yaml"), &mut report).unwrap();
        let examples = doc
            .pointer("/paths/~1a/get/responses/200/content/application~1json/examples")
            .unwrap();
        let names: Vec<&String> = examples.as_object().unwrap().keys().collect();
        assert_eq!(names, ["here", "inline"]);
        let media = "/paths/~1a/get/responses/200/content/application~1json";
        assert!(doc.pointer(&format!("{media}/example")).is_none());
        let pointers: Vec<&str> = report.warnings.iter().map(|w| w.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [format!("{media}/examples/gone"), format!("{media}/example")]
        );
    }

    #[test]
    fn no_paths_is_an_error_naming_the_pointer_and_the_fix() {
        let mut doc = json!({"openapi": "3.0.1", "info": {"title": "t", "version": "1"}});
        let err = repair(&mut doc, Path::new("s.yaml"), &mut Report::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("s.yaml: the document has no `paths` (JSON pointer /paths)"),
            "{text}"
        );
        assert!(text.contains("target: \"$\""), "{text}");
    }

    #[test]
    fn json_paths_of_pointers() {
        assert_eq!(json_path("/components/schemas/A"), "$.components.schemas.A");
        assert_eq!(
            json_path("/paths/~1v1~1accounts/get"),
            "$.paths['/v1/accounts'].get"
        );
        assert_eq!(json_path("/a/parameters/0"), "$.a.parameters[0]");
    }
}
