//! Properties of the diff on generated specs: a spec against itself reports nothing; removing
//! one response field reports exactly that field, as breaking.

#![allow(clippy::unwrap_used)] // tests may unwrap (team rules)

use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::Path;
use xtask::diff::{self, AdapterUsage, ChangeKind, Verdict};
use xtask::pipeline::{normalize::NormalizeSettings, prepare_value};

const NAMES: [&str; 8] = [
    "id",
    "iban",
    "amount",
    "currency",
    "status",
    "bookingDate",
    "name",
    "count",
];

#[derive(Debug, Clone)]
struct Field {
    name: &'static str,
    schema: Value,
    required: bool,
}

fn field_schema() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"type": "string"})),
        Just(json!({"type": "string", "format": "date"})),
        Just(json!({"type": "integer"})),
        Just(json!({"type": "boolean"})),
        Just(json!({"type": "string", "enum": ["a", "b"]})),
        Just(json!({"type": "array", "items": {"type": "string"}})),
    ]
}

/// One operation's response object: 1..6 fields with distinct names.
fn response_fields() -> impl Strategy<Value = Vec<Field>> {
    proptest::sample::subsequence(NAMES.to_vec(), 1..6).prop_flat_map(|names| {
        let n = names.len();
        (
            Just(names),
            proptest::collection::vec(field_schema(), n),
            proptest::collection::vec(any::<bool>(), n),
        )
            .prop_map(|(names, schemas, required)| {
                names
                    .into_iter()
                    .zip(schemas)
                    .zip(required)
                    .map(|((name, schema), required)| Field {
                        name,
                        schema,
                        required,
                    })
                    .collect()
            })
    })
}

fn spec(ops: &[Vec<Field>]) -> Value {
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for (i, fields) in ops.iter().enumerate() {
        let props: serde_json::Map<String, Value> = fields
            .iter()
            .map(|f| (f.name.to_string(), f.schema.clone()))
            .collect();
        let required: Vec<&str> = fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        let mut object = json!({"type": "object", "properties": props});
        if !required.is_empty() {
            object["required"] = json!(required);
        }
        schemas.insert(format!("Resp{i}"), object);
        paths.insert(
            format!("/v1/things{i}/{{id}}"),
            json!({"get": {
                "operationId": format!("getThing{i}"),
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/Resp{i}")}}}}}
            }}),
        );
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "prop", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// The document as the diff sees it: through the generator's stages.
fn prepared(doc: Value) -> Value {
    let p = prepare_value(
        doc,
        Path::new("prop.json"),
        None,
        &NormalizeSettings::default(),
    )
    .unwrap();
    serde_json::to_value(p.openapi).unwrap()
}

fn ops() -> impl Strategy<Value = Vec<Vec<Field>>> {
    proptest::collection::vec(response_fields(), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_spec_against_itself_reports_nothing(ops in ops()) {
        let doc = prepared(spec(&ops));
        let report = diff::compare(&doc, &doc, &AdapterUsage::default(), "a".into(), "a".into());
        prop_assert!(report.changes.is_empty(), "{:#?}", report.changes);
        prop_assert_eq!(report.drift.reported, 0);
        prop_assert_eq!(diff::exit_code(&report), 0);
    }

    #[test]
    fn removing_one_response_field_reports_exactly_that_field(
        ops in ops(),
        pick in any::<proptest::sample::Index>(),
        which in any::<proptest::sample::Index>(),
    ) {
        let op = pick.index(ops.len());
        let field = which.index(ops[op].len());
        let removed = ops[op][field].name;
        let mut changed = ops.clone();
        changed[op].remove(field);

        let old = prepared(spec(&ops));
        let new = prepared(spec(&changed));
        let report = diff::compare(&old, &new, &AdapterUsage::default(), "old".into(), "new".into());
        prop_assert_eq!(report.changes.len(), 1, "{:#?}", report.changes);
        let f = &report.changes[0];
        prop_assert_eq!(f.verdict, Verdict::Breaking);
        prop_assert_eq!(f.kind, ChangeKind::FieldRemoved);
        let expected_field = format!("Resp{op}.{removed}");
        prop_assert_eq!(f.field.as_deref(), Some(expected_field.as_str()));
        let expected_op = format!("getThing{op} (GET /v1/things{op}/{{id}})");
        prop_assert_eq!(&f.operations, &vec![expected_op]);
        prop_assert_eq!(diff::exit_code(&report), 1);
    }
}
