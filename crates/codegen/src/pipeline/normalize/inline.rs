//! Replace `$ref`s to parameters, responses and request bodies by their targets, so later
//! steps see every operation's real parameters and responses.

use super::{Report, for_each_operation};
use crate::pipeline::refs::resolve;
use serde_json::Value;

/// Inlines parameter, response and request-body references in every operation and path item.
pub fn inline_refs(doc: &mut Value, report: &mut Report) {
    let snapshot = doc.clone();
    let inline = |v: &mut Value, kind: &'static str, report: &mut Report| {
        if v.get("$ref").is_some()
            && let Some(target) = resolve(&snapshot, v)
        {
            *v = target.clone();
            report.add(kind);
        }
    };
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut() {
            if let Some(Value::Array(params)) = item.get_mut("parameters") {
                params
                    .iter_mut()
                    .for_each(|p| inline(p, "inline-parameter-ref", report));
            }
        }
    }
    for_each_operation(doc, |_, _, op| {
        if let Some(Value::Array(params)) = op.get_mut("parameters") {
            params
                .iter_mut()
                .for_each(|p| inline(p, "inline-parameter-ref", report));
        }
        if let Some(body) = op.get_mut("requestBody") {
            inline(body, "inline-request-body-ref", report);
        }
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            responses
                .values_mut()
                .for_each(|r| inline(r, "inline-response-ref", report));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inlines_parameters_and_responses() {
        let mut doc = json!({
            "paths": {"/a": {"get": {
                "parameters": [{"$ref": "#/components/parameters/P"}],
                "responses": {"200": {"$ref": "#/components/responses/R"}}
            }}},
            "components": {"parameters": {"P": {"name": "p", "in": "query", "schema": {"type": "string"}}},
                           "responses": {"R": {"description": "ok"}}}
        });
        let mut report = Report::default();
        inline_refs(&mut doc, &mut report);
        assert_eq!(doc["paths"]["/a"]["get"]["parameters"][0]["name"], "p");
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"],
            json!({"description": "ok"})
        );
        assert_eq!(report.total(), 2);
    }
}
