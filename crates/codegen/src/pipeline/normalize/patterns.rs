//! Patterns the regex engine rejects: typify compiles every `pattern` with `regress` (the
//! engine the generated crate uses), and one it cannot parse (e.g. `{5,35}` with nothing
//! before the quantifier) stops generation. A pattern constrains a value, it does not shape
//! a type, so it is dropped with a warning, the way response string constraints are relaxed.
//! (Response patterns are already gone by now; what is left is on request schemas.)

use super::Report;
use serde_json::Value;

/// Drops every `pattern` that `regress` rejects.
pub(super) fn drop_invalid_patterns(doc: &mut Value, report: &mut Report) {
    walk(doc, String::new(), false, report);
}

/// `names_only`: `value` is a map of names to schemas (`properties`), not a schema.
fn walk(value: &mut Value, at: String, names_only: bool, report: &mut Report) {
    match value {
        Value::Object(map) => {
            if !names_only
                && let Some(Value::String(pattern)) = map.get("pattern")
                && let Err(e) = regress::Regex::new(pattern)
            {
                let pattern = pattern.clone();
                map.remove("pattern");
                report.warn(
                    "drop-invalid-pattern",
                    format!("{at}/pattern"),
                    format!("dropped pattern `{pattern}`"),
                    format!("the regex engine rejects it: {e}"),
                );
            }
            for (key, v) in map.iter_mut() {
                let child_names_only =
                    !names_only && matches!(key.as_str(), "properties" | "patternProperties");
                walk(
                    v,
                    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                    child_names_only,
                    report,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                walk(v, format!("{at}/{i}"), false, report);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rejected_patterns_are_dropped_and_valid_ones_kept() {
        let mut d = json!({"components": {"schemas": {
            "Ref": {"type": "string", "pattern": "{5,35}"},
            "Iban": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$"},
            "Obj": {"type": "object", "properties": {
                "pattern": {"type": "string", "pattern": "[a-z"}
            }}
        }}});
        let mut report = Report::default();
        drop_invalid_patterns(&mut d, &mut report);
        assert!(d.pointer("/components/schemas/Ref/pattern").is_none());
        assert!(
            d.pointer("/components/schemas/Obj/properties/pattern/pattern")
                .is_none()
        );
        assert_eq!(
            d.pointer("/components/schemas/Iban/pattern"),
            Some(&json!("^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$"))
        );
        let pointers: Vec<&str> = report.warnings.iter().map(|w| w.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/components/schemas/Obj/properties/pattern/pattern",
                "/components/schemas/Ref/pattern"
            ]
        );
    }
}
