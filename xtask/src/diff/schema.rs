//! Schema comparison for one operation and direction: fields, requiredness, types, enums.

use super::model::{ChangeKind, Direction, Verdict};
use super::walk::{Scope, Walker, describe, escape, resolve};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Where in a body (or parameter) the walk is: the label of the root and the field path from
/// the nearest named schema.
#[derive(Clone, Debug)]
pub(crate) struct FieldCtx {
    /// Location of the root itself (`response 200 body`, `parameter query x`).
    root_label: String,
    /// Prefix for fields below it (`response 200`, `request`).
    field_prefix: String,
    /// Nearest named schema above the current node.
    schema: Option<String>,
    /// Path from that schema (`accounts[].iban`), empty at the schema itself.
    rel: String,
}

impl FieldCtx {
    /// The context at the root of a body or parameter schema.
    pub(crate) fn root(root_label: String, field_prefix: String) -> Self {
        FieldCtx {
            root_label,
            field_prefix,
            schema: None,
            rel: String::new(),
        }
    }

    fn child(&self, segment: &str) -> Self {
        let mut c = self.clone();
        if segment.starts_with('[') || c.rel.is_empty() {
            c.rel.push_str(segment);
        } else {
            c.rel = format!("{}.{segment}", c.rel);
        }
        c
    }

    fn entering(&self, name: &Option<String>) -> Self {
        match name {
            Some(n) => FieldCtx {
                schema: Some(n.clone()),
                rel: String::new(),
                ..self.clone()
            },
            None => self.clone(),
        }
    }

    /// `Schema.field` when the node is a field.
    fn field(&self) -> Option<String> {
        if self.rel.is_empty() {
            return None;
        }
        let owner = self.schema.as_deref().unwrap_or("body");
        Some(format!("{owner}.{}", self.rel))
    }

    fn location(&self) -> String {
        match (self.field(), &self.schema) {
            (Some(f), _) => format!("{} field {f}", self.field_prefix),
            (None, Some(s)) => format!("{} {s}", self.root_label),
            (None, None) => self.root_label.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
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

/// Compares schemas below one body or parameter.
pub(crate) struct SchemaWalk<'w, 'a> {
    w: &'w mut Walker<'a>,
    scope: Scope,
    dir: Direction,
    visited: HashSet<(String, String)>,
    /// True while comparing the root schema of a success response.
    pub(crate) top_level: bool,
}

impl<'w, 'a> SchemaWalk<'w, 'a> {
    /// A walk for one operation in one direction.
    pub(crate) fn new(w: &'w mut Walker<'a>, scope: Scope, dir: Direction) -> Self {
        SchemaWalk {
            w,
            scope,
            dir,
            visited: HashSet::new(),
            top_level: false,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        verdict: Verdict,
        kind: ChangeKind,
        ctx: &FieldCtx,
        old: Option<String>,
        new: Option<String>,
        reason: &str,
        pointers: (Option<String>, Option<String>),
    ) {
        let scope = self.scope.clone();
        self.w.push(
            Some(&scope),
            verdict,
            kind,
            self.dir,
            ctx.location(),
            ctx.field(),
            old,
            new,
            reason,
            pointers,
        );
    }

    fn reads(&self) -> bool {
        self.dir != Direction::Request
    }

    /// Compares two schemas (each with its pointer) at `ctx`.
    pub(crate) fn compare(
        &mut self,
        ctx: &FieldCtx,
        old: (&'a Value, String),
        new: (&'a Value, String),
    ) {
        let top = std::mem::replace(&mut self.top_level, false);
        let (od, nd) = (self.w.old, self.w.new);
        let (ov, op, oname, o_wrap_null) = unwrap(od, old.0, &old.1);
        let (nv, np, nname, n_wrap_null) = unwrap(nd, new.0, &new.1);
        let pointers = (Some(op.clone()), Some(np.clone()));
        let type_kind = if top {
            ChangeKind::SuccessResponseType
        } else {
            ChangeKind::TypeChanged
        };
        if let (Some(on), Some(nn)) = (&oname, &nname)
            && on != nn
        {
            let (kind, reason) = if top {
                (
                    type_kind,
                    "the generated response type changes; adapter code using it stops compiling",
                )
            } else {
                (
                    ChangeKind::SchemaRenamed,
                    "the generated type is renamed; adapter code naming it stops compiling",
                )
            };
            self.push(
                Verdict::Breaking,
                kind,
                ctx,
                Some(on.clone()),
                Some(nn.clone()),
                reason,
                pointers.clone(),
            );
        }
        if !self.visited.insert((op.clone(), np.clone())) {
            return;
        }
        self.w.inspected.insert(op.clone());
        let (ok, nk) = (kind(od, ov), kind(nd, nv));
        let (of, nf) = (format(ov), format(nv));
        if ok != nk || of != nf {
            if matches!(
                (ok, nk),
                (Kind::OneOf(_), Kind::OneOf(_)) | (Kind::AnyOf(_), Kind::AnyOf(_))
            ) {
                self.push(
                    Verdict::Breaking,
                    ChangeKind::VariantsChanged,
                    ctx,
                    Some(describe(od, old.0)),
                    Some(describe(nd, new.0)),
                    "the generated enum's variants change; values of the new shape fail to decode in old clients",
                    pointers,
                );
            } else {
                let reason = if top {
                    "the generated response type changes; deployed clients fail to decode it and adapter code stops compiling"
                } else {
                    "the generated type changes; old clients fail to (de)serialize it and adapter code using it stops compiling"
                };
                self.push(
                    Verdict::Breaking,
                    type_kind,
                    ctx,
                    Some(describe(od, old.0)),
                    Some(describe(nd, new.0)),
                    reason,
                    pointers,
                );
            }
            return;
        }
        self.nullability(
            ctx,
            (nullable(ov) || o_wrap_null, nullable(nv) || n_wrap_null),
            &pointers,
        );
        self.enums(ctx, ov, nv, &pointers);
        let inner = ctx.entering(&oname.clone().or(nname));
        match ok {
            Kind::Object => self.objects(&inner, (ov, op), (nv, np)),
            Kind::Array => {
                if let (Some(oi), Some(ni)) = (ov.get("items"), nv.get("items")) {
                    let c = inner.child("[]");
                    self.compare(
                        &c,
                        (oi, format!("{}/items", pointers.0.unwrap_or_default())),
                        (ni, format!("{}/items", pointers.1.unwrap_or_default())),
                    );
                }
            }
            Kind::OneOf(_) | Kind::AnyOf(_) => {
                let key = if matches!(ok, Kind::OneOf(_)) {
                    "oneOf"
                } else {
                    "anyOf"
                };
                if let (Some(ol), Some(nl)) = (
                    ov.get(key).and_then(Value::as_array),
                    nv.get(key).and_then(Value::as_array),
                ) {
                    for (i, (o, n)) in ol.iter().zip(nl).enumerate() {
                        self.compare(
                            &inner,
                            (o, format!("{op}/{key}/{i}")),
                            (n, format!("{np}/{key}/{i}")),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn nullability(
        &mut self,
        ctx: &FieldCtx,
        (on, nn): (bool, bool),
        pointers: &(Option<String>, Option<String>),
    ) {
        if on == nn {
            return;
        }
        let loosened = nn;
        let (verdict, reason) = match (self.reads(), loosened) {
            (true, true) => (Verdict::Breaking, "old clients fail on null values"),
            (true, false) => (Verdict::Compatible, "the value is never null now"),
            (false, true) => (Verdict::Compatible, "the bank now also accepts null"),
            (false, false) => (
                Verdict::Breaking,
                "old clients may send null, which the bank now rejects",
            ),
        };
        let show = |b: bool| if b { "nullable" } else { "not nullable" }.to_string();
        self.push(
            verdict,
            ChangeKind::Nullability,
            ctx,
            Some(show(on)),
            Some(show(nn)),
            reason,
            pointers.clone(),
        );
    }

    fn enums(
        &mut self,
        ctx: &FieldCtx,
        ov: &Value,
        nv: &Value,
        pointers: &(Option<String>, Option<String>),
    ) {
        let (Some(oe), Some(ne)) = (enum_values(ov), enum_values(nv)) else {
            return;
        };
        let open = nv.get("enum").is_none();
        for value in oe.iter().filter(|v| !ne.contains(*v)) {
            let reason = if self.reads() && open {
                "the bank no longer sends this known value; the adapter's mapping of it to a domain value needs a look"
            } else if self.reads() {
                "the regenerated enum loses the variant; adapter code matching on it stops compiling"
            } else {
                "old clients may send a value the bank now rejects"
            };
            self.push(
                Verdict::Breaking,
                ChangeKind::EnumValueRemoved,
                ctx,
                Some(value.clone()),
                None,
                reason,
                pointers.clone(),
            );
        }
        for value in ne.iter().filter(|v| !oe.contains(*v)) {
            let (verdict, reason) = if self.reads() {
                (
                    Verdict::Compatible,
                    "the facade maps unknown values to Other",
                )
            } else {
                (
                    Verdict::Breaking,
                    "the regenerated request enum gains a variant; exhaustive matches on it in adapter code stop compiling",
                )
            };
            self.push(
                verdict,
                ChangeKind::EnumValueAdded,
                ctx,
                None,
                Some(value.clone()),
                reason,
                pointers.clone(),
            );
        }
    }

    fn objects(&mut self, ctx: &FieldCtx, old: (&'a Value, String), new: (&'a Value, String)) {
        let (op, oreq) = properties(self.w.old, old.0, &old.1);
        let (np, nreq) = properties(self.w.new, new.0, &new.1);
        let names: BTreeSet<&String> = op.keys().chain(np.keys()).collect();
        let reads = self.reads();
        for name in names {
            let c = ctx.child(name);
            match (op.get(name), np.get(name)) {
                (Some((ov, optr)), None) => {
                    let state =
                        format!("{} {}", req(oreq.contains(name)), describe(self.w.old, ov));
                    let reason = if reads {
                        "the regenerated type loses the field; adapter code reading it stops compiling"
                    } else {
                        "the regenerated request type loses the field; adapter code setting it stops compiling"
                    };
                    self.push(
                        Verdict::Breaking,
                        ChangeKind::FieldRemoved,
                        &c,
                        Some(state),
                        None,
                        reason,
                        (Some(optr.clone()), None),
                    );
                }
                (None, Some((nv, nptr))) => {
                    let required = nreq.contains(name);
                    let state = format!("{} {}", req(required), describe(self.w.new, nv));
                    let (verdict, reason) = match (reads, required) {
                        (true, _) => (
                            Verdict::Compatible,
                            "a new response field; old clients ignore it",
                        ),
                        (false, false) => {
                            (Verdict::Compatible, "optional; old clients simply omit it")
                        }
                        (false, true) => (
                            Verdict::Breaking,
                            "a new required request field that old clients do not send",
                        ),
                    };
                    self.push(
                        verdict,
                        ChangeKind::FieldAdded,
                        &c,
                        None,
                        Some(state),
                        reason,
                        (None, Some(nptr.clone())),
                    );
                }
                (Some((ov, optr)), Some((nv, nptr))) => {
                    let (or, nr) = (oreq.contains(name), nreq.contains(name));
                    if or != nr {
                        let (verdict, reason) = match (reads, nr) {
                            (true, false) => (
                                Verdict::Breaking,
                                "old clients fail when the bank omits it; the regenerated field becomes Option<_>",
                            ),
                            (true, true) => {
                                (Verdict::Compatible, "the field is always present now")
                            }
                            (false, true) => (
                                Verdict::Breaking,
                                "old clients may omit a field the bank now requires",
                            ),
                            (false, false) => {
                                (Verdict::Compatible, "the bank no longer insists on it")
                            }
                        };
                        self.push(
                            verdict,
                            ChangeKind::FieldRequirement,
                            &c,
                            Some(req(or)),
                            Some(req(nr)),
                            reason,
                            (Some(optr.clone()), Some(nptr.clone())),
                        );
                    }
                    self.compare(&c, (ov, optr.clone()), (nv, nptr.clone()));
                }
                (None, None) => {}
            }
        }
        let ap = |v: &'a Value| v.get("additionalProperties").filter(|a| a.is_object());
        if let (Some(oa), Some(na)) = (ap(old.0), ap(new.0)) {
            let c = ctx.child("{}");
            self.compare(
                &c,
                (oa, format!("{}/additionalProperties", old.1)),
                (na, format!("{}/additionalProperties", new.1)),
            );
        }
    }
}

fn req(required: bool) -> String {
    if required { "required" } else { "optional" }.to_string()
}

/// Resolves refs and single-element `allOf`/`oneOf`/`anyOf` wrappers.
fn unwrap<'a>(
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

fn kind(doc: &Value, v: &Value) -> Kind {
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

fn format(v: &Value) -> Option<&str> {
    v.get("format").and_then(Value::as_str)
}

fn nullable(v: &Value) -> bool {
    v.get("nullable").and_then(Value::as_bool).unwrap_or(false)
}

/// Enum values: `enum`, or `x-known-values` where the generator's normalize stage opened a
/// response enum into a plain string (the raw client then accepts any value).
fn enum_values(v: &Value) -> Option<Vec<String>> {
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
fn properties<'a>(
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
