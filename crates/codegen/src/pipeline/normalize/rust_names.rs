//! Distinct Rust names: typify turns each component schema's name into a PascalCase type
//! name, and two names that differ only in `_`, `-` or case (`OBRate1_0`, `OB_Rate1_0`) become
//! the same type (`ObRate10`): the crate would not compile. This step finds those groups and
//! renames every schema of a group but the first (by byte order of the original names) to
//! `<name>_Renamed<k>`, with the smallest `k` (from 2) whose Rust name is still free, and
//! rewrites every `$ref` (and discriminator mapping) to it. operationIds that become the
//! same method name (`getAccounts`, `get_accounts`) are made distinct the same way
//! (`<id>_renamed<k>`). Each rename is a warning.

use super::Report;
use super::reachable::schema_ref;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// `name` without apostrophes and with every character an identifier cannot continue
/// with turned into a word break (`-`), as typify and progenitor clean names before
/// changing their case.
fn word_separated(name: &str) -> String {
    name.replace('\'', "")
        .chars()
        .map(|c| {
            if unicode_ident::is_xid_continue(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The Rust type name typify derives from a schema name (its `sanitize` for types).
pub fn rust_type_name(name: &str) -> String {
    use heck::ToPascalCase;
    let out = word_separated(name).to_pascal_case();
    match out.chars().next() {
        None => "X".into(),
        Some(c) if unicode_ident::is_xid_start(c) => out,
        Some(_) => format!("X{out}"),
    }
}

/// The Rust method name progenitor derives from an operationId (its `sanitize` in snake
/// case, keyword suffix aside).
pub fn rust_method_name(operation_id: &str) -> String {
    use heck::ToSnakeCase;
    let out = word_separated(operation_id).to_snake_case();
    match out.chars().next() {
        None => "x".into(),
        Some(c) if unicode_ident::is_xid_start(c) => out,
        Some(_) => format!("_{out}"),
    }
}

/// Renames operationIds whose Rust method names collide (`getAccounts`, `get_accounts`):
/// all but the first (by byte order) become `<id>_renamed<k>`, each a warning.
pub(super) fn distinct_operation_ids(doc: &mut Value, report: &mut Report) {
    let mut ops: Vec<(String, String, String)> = Vec::new();
    super::for_each_operation(doc, |path, method, op| {
        if let Some(Value::String(id)) = op.get("operationId") {
            ops.push((path.to_string(), method.to_string(), id.clone()));
        }
    });
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, _, id) in &ops {
        groups
            .entry(rust_method_name(id))
            .or_default()
            .insert(id.clone());
    }
    let mut taken: BTreeSet<String> = groups.keys().cloned().collect();
    let mut renames: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for (rust, ids) in &groups {
        let mut ids = ids.iter();
        let Some(first) = ids.next() else { continue };
        for id in ids {
            let (new, new_rust) = (2usize..)
                .map(|k| format!("{id}_renamed{k}"))
                .map(|n| {
                    let r = rust_method_name(&n);
                    (n, r)
                })
                .find(|(_, r)| !taken.contains(r))
                .unwrap_or_default();
            taken.insert(new_rust.clone());
            renames.insert(
                id.clone(),
                (
                    new,
                    new_rust,
                    format!("`{first}` and `{id}` both become the method `{rust}`"),
                ),
            );
        }
    }
    if renames.is_empty() {
        return;
    }
    super::for_each_operation(doc, |path, method, op| {
        let Some(Value::String(id)) = op.get("operationId") else {
            return;
        };
        let Some((new, new_rust, why)) = renames.get(id) else {
            return;
        };
        report.warn(
            "rename-colliding-operation-id",
            format!("/paths/{}/{method}/operationId", escape(path)),
            format!("operationId `{id}` renamed to `{new}` (method `{new_rust}`)"),
            why.clone(),
        );
        op.insert("operationId".into(), Value::String(new.clone()));
    });
}

/// Renames the component schemas whose Rust names collide.
pub(super) fn distinct_schema_names(doc: &mut Value, report: &mut Report) {
    let Some(Value::Object(schemas)) = doc.pointer("/components/schemas") else {
        return;
    };
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in schemas.keys() {
        groups
            .entry(rust_type_name(name))
            .or_default()
            .insert(name.clone());
    }
    let mut taken: BTreeSet<String> = groups.keys().cloned().collect();
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    for (rust, names) in &groups {
        let mut names = names.iter();
        let Some(first) = names.next() else { continue };
        for name in names {
            let (new, new_rust) = (2usize..)
                .map(|k| format!("{name}_Renamed{k}"))
                .map(|n| {
                    let r = rust_type_name(&n);
                    (n, r)
                })
                .find(|(n, r)| !taken.contains(r) && !schemas.contains_key(n))
                .unwrap_or_default();
            taken.insert(new_rust.clone());
            report.warn(
                "rename-colliding-schema",
                format!("/components/schemas/{}", escape(name)),
                format!("schema `{name}` renamed to `{new}` (Rust type `{new_rust}`)"),
                format!("`{first}` and `{name}` both become the Rust type `{rust}`"),
            );
            renames.insert(name.clone(), new);
        }
    }
    if renames.is_empty() {
        return;
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        let old = std::mem::take(schemas);
        *schemas = old
            .into_iter()
            .map(|(k, v)| (renames.get(&k).cloned().unwrap_or(k), v))
            .collect::<Map<String, Value>>();
    }
    let refs: BTreeMap<String, String> = renames
        .iter()
        .map(|(old, new)| (schema_ref(old), schema_ref(new)))
        .collect();
    rewrite_refs(doc, &refs);
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Rewrites `$ref`s and discriminator mapping values that point at a renamed schema (or
/// inside it).
fn rewrite_refs(value: &mut Value, refs: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key == "$ref" => rewrite_one(s, refs),
                    Value::Object(mapping) if key == "mapping" => {
                        for target in mapping.values_mut() {
                            if let Value::String(s) = target {
                                rewrite_one(s, refs);
                            }
                        }
                    }
                    _ => rewrite_refs(v, refs),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, refs)),
        _ => {}
    }
}

fn rewrite_one(reference: &mut String, refs: &BTreeMap<String, String>) {
    for (old, new) in refs {
        if let Some(rest) = reference.strip_prefix(old.as_str())
            && (rest.is_empty() || rest.starts_with('/'))
        {
            *reference = format!("{new}{rest}");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rust_names_follow_typify() {
        // Expected names from typify 0.8's naming rule for types (its `util::sanitize`);
        // the integration test `generated_names` checks them against typify's output.
        for (schema, rust) in [
            ("OBRate1_0", "ObRate10"),
            ("OB_Rate1_0", "ObRate10"),
            ("accountReference", "AccountReference"),
            ("_links", "Links"),
            ("card-account", "CardAccount"),
            ("1st", "X1st"),
        ] {
            assert_eq!(rust_type_name(schema), rust, "{schema}");
        }
    }

    #[test]
    fn colliding_operation_ids_are_renamed() {
        let mut d = json!({"paths": {
            "/a": {"get": {"operationId": "getAccounts", "responses": {}}},
            "/b": {"get": {"operationId": "get_accounts", "responses": {}}},
            "/c": {"get": {"operationId": "getBalances", "responses": {}}}
        }});
        let mut report = Report::default();
        distinct_operation_ids(&mut d, &mut report);
        assert_eq!(
            d.pointer("/paths/~1a/get/operationId"),
            Some(&json!("getAccounts"))
        );
        assert_eq!(
            d.pointer("/paths/~1b/get/operationId"),
            Some(&json!("get_accounts_renamed2"))
        );
        assert_eq!(report.warnings.len(), 1);
        assert_eq!(report.warnings[0].pointer, "/paths/~1b/get/operationId");
    }

    #[test]
    fn colliding_names_are_renamed_and_refs_follow() {
        let mut d = json!({
            "paths": {"/r": {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "a": {"$ref": "#/components/schemas/OB_Rate1_0"},
                    "b": {"$ref": "#/components/schemas/OBRate1_0"}
                }}}}}}}}},
            "components": {"schemas": {
                "OB_Rate1_0": {"type": "string"},
                "OBRate1_0": {"type": "number"},
                "Poly": {"oneOf": [{"$ref": "#/components/schemas/OB_Rate1_0"}],
                    "discriminator": {"propertyName": "k",
                        "mapping": {"x": "#/components/schemas/OB_Rate1_0"}}}
            }}
        });
        let mut report = Report::default();
        distinct_schema_names(&mut d, &mut report);
        let schemas = d["components"]["schemas"].as_object().unwrap();
        let keys: Vec<&String> = schemas.keys().collect();
        assert_eq!(keys, ["OBRate1_0", "OB_Rate1_0_Renamed2", "Poly"]);
        assert_eq!(
            d.pointer(
                "/paths/~1r/get/responses/200/content/application~1json/schema/properties/a/$ref"
            ),
            Some(&json!("#/components/schemas/OB_Rate1_0_Renamed2"))
        );
        assert_eq!(
            d.pointer("/components/schemas/Poly/discriminator/mapping/x"),
            Some(&json!("#/components/schemas/OB_Rate1_0_Renamed2"))
        );
        assert_eq!(report.warnings.len(), 1);
        assert_eq!(
            report.warnings[0].to_string(),
            "/components/schemas/OB_Rate1_0: schema `OB_Rate1_0` renamed to \
             `OB_Rate1_0_Renamed2` (Rust type `ObRate10Renamed2`) (`OBRate1_0` and \
             `OB_Rate1_0` both become the Rust type `ObRate10`)"
        );
    }
}
