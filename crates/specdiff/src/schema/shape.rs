//! The shape of a schema node: its kind, format, nullability, enum values, properties.

use crate::walk::{describe, escape, resolve};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a schema node is, as far as the generated type is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Integer,
    Boolean,
    OneOf(usize),
    AnyOf(usize),
    Any,
}

pub(crate) fn req(required: bool) -> String {
    if required { "required" } else { "optional" }.to_string()
}

/// Resolves refs and single-element `allOf`/`oneOf`/`anyOf` wrappers.
pub(crate) fn unwrap<'a>(
    doc: &'a Value,
    value: &'a Value,
    pointer: &str,
) -> (&'a Value, String, Option<String>, bool) {
    let (mut v, mut p, mut name) = resolve(doc, value, pointer);
    let mut wrapper_nullable = false;
    for _ in 0..8 {
        let single = ["allOf", "oneOf", "anyOf"].into_iter().find_map(|k| {
            let list = v.get(k)?.as_array()?;
            (list.len() == 1 && v.get("properties").is_none()).then(|| (k, &list[0]))
        });
        let Some((k, inner)) = single else { break };
        wrapper_nullable |= nullable(v);
        let (iv, ip, iname) = resolve(doc, inner, &format!("{p}/{k}/0"));
        v = iv;
        p = ip;
        if iname.is_some() {
            name = iname;
        }
    }
    (v, p, name, wrapper_nullable)
}

pub(crate) fn kind(doc: &Value, v: &Value) -> Kind {
    match v.get("type").and_then(Value::as_str) {
        Some("object") => return Kind::Object,
        Some("array") => return Kind::Array,
        Some("string") => return Kind::String,
        Some("number") => return Kind::Number,
        Some("integer") => return Kind::Integer,
        Some("boolean") => return Kind::Boolean,
        _ => {}
    }
    if let Some(l) = v.get("oneOf").and_then(Value::as_array) {
        return Kind::OneOf(l.len());
    }
    if let Some(l) = v.get("anyOf").and_then(Value::as_array) {
        return Kind::AnyOf(l.len());
    }
    if v.get("properties").is_some() || v.get("additionalProperties").is_some() {
        return Kind::Object;
    }
    if let Some(parts) = v.get("allOf").and_then(Value::as_array) {
        let objecty = parts
            .iter()
            .any(|p| kind(doc, resolve(doc, p, "").0) == Kind::Object);
        return if objecty { Kind::Object } else { Kind::Any };
    }
    if v.get("items").is_some() {
        return Kind::Array;
    }
    if let Some(first) = v
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return match first {
            Value::String(_) => Kind::String,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => Kind::Integer,
            Value::Number(_) => Kind::Number,
            _ => Kind::Any,
        };
    }
    Kind::Any
}

pub(crate) fn format(v: &Value) -> Option<&str> {
    v.get("format").and_then(Value::as_str)
}

pub(crate) fn nullable(v: &Value) -> bool {
    v.get("nullable").and_then(Value::as_bool).unwrap_or(false)
}

/// Enum values: `enum`, or `x-known-values` where the generator's normalize stage opened a
/// response enum into a plain string (the raw client then accepts any value).
pub(crate) fn enum_values(v: &Value) -> Option<Vec<String>> {
    let list = v
        .get("enum")
        .or_else(|| v.get("x-known-values"))?
        .as_array()?;
    Some(
        list.iter()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
    )
}

/// Properties (with pointers) and required names of an object, merging `allOf` parts.
pub(crate) fn properties<'a>(
    doc: &'a Value,
    v: &'a Value,
    pointer: &str,
) -> (BTreeMap<String, (&'a Value, String)>, BTreeSet<String>) {
    let mut props = BTreeMap::new();
    let mut required = BTreeSet::new();
    collect(doc, v, pointer, &mut props, &mut required, 0);
    (props, required)
}

fn collect<'a>(
    doc: &'a Value,
    v: &'a Value,
    pointer: &str,
    props: &mut BTreeMap<String, (&'a Value, String)>,
    required: &mut BTreeSet<String>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    if let Some(map) = v.get("properties").and_then(Value::as_object) {
        for (k, pv) in map {
            props
                .entry(k.clone())
                .or_insert_with(|| (pv, format!("{pointer}/properties/{}", escape(k))));
        }
    }
    if let Some(list) = v.get("required").and_then(Value::as_array) {
        required.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(parts) = v.get("allOf").and_then(Value::as_array) {
        for (i, part) in parts.iter().enumerate() {
            let (pv, pp, _) = resolve(doc, part, &format!("{pointer}/allOf/{i}"));
            collect(doc, pv, &pp, props, required, depth + 1);
        }
    }
}

/// Describes an inline (non-`$ref`) schema briefly.
pub(crate) fn describe_inline(doc: &Value, v: &Value) -> String {
    let with_format = |t: &str| match format(v) {
        Some(f) => format!("{t}({f})"),
        None => t.to_string(),
    };
    let list = |key: &str, sep: &str| -> Option<String> {
        let l = v.get(key)?.as_array()?;
        let parts: Vec<String> = l.iter().map(|s| describe(doc, s)).collect();
        Some(format!("{key}<{}>", parts.join(sep)))
    };
    let base = match kind(doc, v) {
        Kind::Array => format!(
            "array<{}>",
            v.get("items")
                .map_or_else(|| "any".to_string(), |i| describe(doc, i))
        ),
        Kind::Object => match v.get("allOf") {
            Some(_) => list("allOf", " & ").unwrap_or_else(|| "object".into()),
            None => "object".into(),
        },
        Kind::String => with_format("string"),
        Kind::Number => with_format("number"),
        Kind::Integer => with_format("integer"),
        Kind::Boolean => "boolean".into(),
        Kind::OneOf(_) => list("oneOf", " | ").unwrap_or_default(),
        Kind::AnyOf(_) => list("anyOf", " | ").unwrap_or_default(),
        Kind::Any => "any".into(),
    };
    if nullable(v) {
        format!("{base}?")
    } else {
        base
    }
}

/// True when the object refuses unknown fields (`additionalProperties: false`), directly or in
/// one of its `allOf` parts: the generated type then has `deny_unknown_fields`.
pub(crate) fn closed(doc: &Value, v: &Value) -> bool {
    if v.get("additionalProperties") == Some(&Value::Bool(false)) {
        return true;
    }
    v.get("allOf")
        .and_then(Value::as_array)
        .is_some_and(|parts| {
            parts.iter().any(|p| {
                resolve(doc, p, "").0.get("additionalProperties") == Some(&Value::Bool(false))
            })
        })
}
