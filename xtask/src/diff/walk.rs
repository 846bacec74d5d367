//! The built-in checks: walk both documents per operation and compare what a client sees.
//!
//! Operations are paired by method and path template (parameter names ignored), then by
//! operationId for the ones that moved. `$ref`s are resolved as the walk goes, and every finding
//! carries the JSON pointers of the changed nodes so drift's findings can be merged with them.

use super::model::{ChangeKind, Direction, Finding, Source, Verdict};
use super::schema::{FieldCtx, SchemaWalk};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Escapes one JSON pointer segment (RFC 6901).
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one JSON pointer segment (RFC 6901).
pub(crate) fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Follows `$ref`s from `value` (found at `pointer`); returns the target, its pointer and the
/// name of the last `#/components/schemas/<name>` passed through.
pub(crate) fn resolve<'a>(
    doc: &'a Value,
    value: &'a Value,
    pointer: &str,
) -> (&'a Value, String, Option<String>) {
    let mut current = value;
    let mut at = pointer.to_string();
    let mut name = None;
    for _ in 0..32 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(target) = reference.strip_prefix('#').and_then(|p| doc.pointer(p)) else {
            break;
        };
        if let Some(n) = reference.strip_prefix("#/components/schemas/")
            && !n.contains('/')
        {
            name = Some(unescape(n));
        }
        at = reference.to_string();
        current = target;
    }
    (current, at, name)
}

/// One operation of a document.
#[derive(Clone)]
pub(crate) struct Op<'a> {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) id: Option<String>,
    pub(crate) value: &'a Value,
    pub(crate) pointer: String,
    /// Parameters declared on the path item.
    pub(crate) shared_params: Option<&'a Value>,
    pub(crate) shared_params_pointer: String,
}

impl Op<'_> {
    /// `operationId (METHOD path)` or `METHOD path`.
    pub(crate) fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("{id} ({})", self.route()),
            None => self.route(),
        }
    }

    /// `METHOD path`.
    pub(crate) fn route(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    /// Method and path template with parameter names erased: how operations are paired.
    fn key(&self) -> (String, String) {
        (self.method.clone(), erase_param_names(&self.path))
    }
}

fn erase_param_names(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push('{');
                }
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push('}');
                }
            }
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

fn path_param_names(path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('}') else { break };
        names.push(rest[..end].to_string());
        rest = &rest[end + 1..];
    }
    names
}

/// Lists the operations of a document in document order.
pub(crate) fn operations(doc: &Value) -> Vec<Op<'_>> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let item_pointer = format!("#/paths/{}", escape(path));
        let (item, item_pointer, _) = resolve(doc, item, &item_pointer);
        for method in METHODS {
            if let Some(op) = item.get(method).filter(|v| v.is_object()) {
                out.push(Op {
                    method: method.to_string(),
                    path: path.clone(),
                    id: op
                        .get("operationId")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    value: op,
                    pointer: format!("{item_pointer}/{method}"),
                    shared_params: item.get("parameters"),
                    shared_params_pointer: format!("{item_pointer}/parameters"),
                });
            }
        }
    }
    out
}

/// One resolved parameter.
struct Param<'a> {
    location: String,
    name: String,
    required: bool,
    schema: Option<&'a Value>,
    pointer: String,
}

/// Parameters of an operation keyed by (location, name); path parameters by position.
fn params<'a>(doc: &'a Value, op: &Op<'a>) -> BTreeMap<(String, String), Param<'a>> {
    let positions: Vec<String> = path_param_names(&op.path);
    let mut out = BTreeMap::new();
    let sources = [
        (op.shared_params, op.shared_params_pointer.clone()),
        (
            op.value.get("parameters"),
            format!("{}/parameters", op.pointer),
        ),
    ];
    for (list, list_pointer) in sources {
        let Some(list) = list.and_then(Value::as_array) else {
            continue;
        };
        for (i, raw) in list.iter().enumerate() {
            let (p, pointer, _) = resolve(doc, raw, &format!("{list_pointer}/{i}"));
            let location = p
                .get("in")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            let key_name = match location.as_str() {
                "header" => name.to_ascii_lowercase(),
                "path" => positions
                    .iter()
                    .position(|n| *n == name)
                    .map_or_else(|| name.clone(), |i| format!("#{i}")),
                _ => name.clone(),
            };
            let required =
                location == "path" || p.get("required").and_then(Value::as_bool).unwrap_or(false);
            out.insert(
                (location.clone(), key_name),
                Param {
                    location,
                    name,
                    required,
                    schema: p.get("schema"),
                    pointer,
                },
            );
        }
    }
    out
}

/// Snake-case form of a name, as the generated builder method would be named.
fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out.trim_matches('_').to_string()
}

/// Describes a schema briefly (`string(date)`, `array<Amount>`, `Balance`).
pub(crate) fn describe(doc: &Value, schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().map(unescape).unwrap_or_default();
    }
    super::schema::describe_inline(doc, schema)
}

/// Per-operation context handed to the schema walk.
#[derive(Clone)]
pub(crate) struct Scope {
    pub(crate) label: String,
    pub(crate) id: Option<String>,
    pub(crate) route: String,
}

/// Collects the raw (ungrouped) findings of the built-in checks.
pub(crate) struct Walker<'a> {
    pub(crate) old: &'a Value,
    pub(crate) new: &'a Value,
    /// Findings, one per operation and place.
    pub(crate) findings: Vec<Finding>,
    /// Pointers the walk found differences under but did not report line by line (error bodies).
    pub(crate) quiet_pointers: Vec<String>,
    /// Old-document pointers of every schema node the walk compared.
    pub(crate) inspected: std::collections::HashSet<String>,
}

impl<'a> Walker<'a> {
    /// Compares the two documents.
    pub(crate) fn run(old: &'a Value, new: &'a Value) -> Self {
        let mut w = Walker {
            old,
            new,
            findings: Vec::new(),
            quiet_pointers: Vec::new(),
            inspected: std::collections::HashSet::new(),
        };
        w.servers();
        w.security_schemes();
        w.operations();
        w
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        scope: Option<&Scope>,
        verdict: Verdict,
        kind: ChangeKind,
        direction: Direction,
        location: String,
        field: Option<String>,
        old: Option<String>,
        new: Option<String>,
        reason: &str,
        pointers: (Option<String>, Option<String>),
    ) {
        self.findings.push(Finding {
            verdict,
            kind,
            direction,
            operations: scope.map(|s| vec![s.label.clone()]).unwrap_or_default(),
            operation_ids: scope.and_then(|s| s.id.clone()).into_iter().collect(),
            operation_routes: scope.map(|s| vec![s.route.clone()]).unwrap_or_default(),
            location,
            field,
            old,
            new,
            reason: reason.to_string(),
            adapter: false,
            source: Source::Builtin,
            old_pointer: pointers.0,
            new_pointer: pointers.1,
        });
    }

    fn servers(&mut self) {
        let urls = |doc: &Value| -> Vec<String> {
            doc.get("servers")
                .and_then(Value::as_array)
                .map(|s| {
                    s.iter()
                        .filter_map(|s| s.get("url").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (old, new) = (urls(self.old), urls(self.new));
        if old == new {
            return;
        }
        let lost = old.iter().any(|u| !new.contains(u));
        let (verdict, reason) = if lost {
            (
                Verdict::Breaking,
                "clients configured with the old base URL no longer reach the API; update bank.toml servers and client configs",
            )
        } else {
            (Verdict::Compatible, "only new servers were added")
        };
        let show = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.join(", ")
            }
        };
        self.push(
            None,
            verdict,
            ChangeKind::ServerChanged,
            Direction::Document,
            "servers".into(),
            None,
            Some(show(&old)),
            Some(show(&new)),
            reason,
            (Some("#/servers".into()), Some("#/servers".into())),
        );
    }

    fn security_schemes(&mut self) {
        let schemes = |doc: &'a Value| -> BTreeMap<String, &'a Value> {
            doc.pointer("/components/securitySchemes")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
                .unwrap_or_default()
        };
        let (old, new) = (schemes(self.old), schemes(self.new));
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for name in names {
            let pointer = Some(format!("#/components/securitySchemes/{}", escape(name)));
            let location = format!("security scheme {name}");
            match (old.get(name), new.get(name)) {
                (Some(o), None) => self.push(
                    None,
                    Verdict::Breaking,
                    ChangeKind::SecurityChanged,
                    Direction::Document,
                    location,
                    None,
                    Some(describe_scheme(self.old, o)),
                    None,
                    "the scheme is gone; the facade's auth hooks must use what the bank now requires",
                    (pointer, None),
                ),
                (None, Some(n)) => self.push(
                    None,
                    Verdict::Compatible,
                    ChangeKind::SecurityChanged,
                    Direction::Document,
                    location,
                    None,
                    None,
                    Some(describe_scheme(self.new, n)),
                    "a new scheme; no operation that old clients call requires it unless reported below",
                    (None, pointer),
                ),
                (Some(o), Some(n)) => {
                    let (od, nd) = (describe_scheme(self.old, o), describe_scheme(self.new, n));
                    if od != nd {
                        self.push(
                            None,
                            Verdict::Breaking,
                            ChangeKind::SecurityChanged,
                            Direction::Document,
                            location,
                            None,
                            Some(od),
                            Some(nd),
                            "the scheme's type, location or token endpoints changed; the auth hooks must follow",
                            (pointer.clone(), pointer),
                        );
                    }
                }
                (None, None) => {}
            }
        }
        let (og, ng) = (
            requirements(self.old.get("security")),
            requirements(self.new.get("security")),
        );
        if og != ng {
            self.push(
                None,
                Verdict::Breaking,
                ChangeKind::SecurityChanged,
                Direction::Document,
                "global security requirement".into(),
                None,
                Some(og),
                Some(ng),
                "operations without their own `security` now need other credentials",
                (Some("#/security".into()), Some("#/security".into())),
            );
        }
    }

    fn operations(&mut self) {
        let old_ops = operations(self.old);
        let new_ops = operations(self.new);
        let new_by_key: BTreeMap<(String, String), usize> = new_ops
            .iter()
            .enumerate()
            .map(|(i, op)| (op.key(), i))
            .collect();
        let mut new_used = vec![false; new_ops.len()];
        let mut unmatched_old = Vec::new();
        for old_op in &old_ops {
            match new_by_key.get(&old_op.key()) {
                Some(&i) if !new_used[i] => {
                    new_used[i] = true;
                    self.operation(old_op, &new_ops[i]);
                }
                _ => unmatched_old.push(old_op),
            }
        }
        for old_op in unmatched_old {
            let moved = old_op.id.as_ref().and_then(|id| {
                new_ops
                    .iter()
                    .enumerate()
                    .find(|(i, n)| !new_used[*i] && n.id.as_ref() == Some(id))
                    .map(|(i, _)| i)
            });
            let scope = scope_of(old_op);
            match moved {
                Some(i) => {
                    new_used[i] = true;
                    let new_op = &new_ops[i];
                    self.push(
                        Some(&scope),
                        Verdict::Breaking,
                        ChangeKind::OperationMoved,
                        Direction::Document,
                        "method and path".into(),
                        None,
                        Some(old_op.route()),
                        Some(new_op.route()),
                        "deployed clients call the old URL; the regenerated method sends requests elsewhere",
                        (Some(old_op.pointer.clone()), Some(new_op.pointer.clone())),
                    );
                    self.operation(old_op, new_op);
                }
                None => self.push(
                    Some(&scope),
                    Verdict::Breaking,
                    ChangeKind::OperationRemoved,
                    Direction::Document,
                    "operation".into(),
                    None,
                    Some(old_op.route()),
                    None,
                    "the operation is gone: calls fail and the generated method disappears",
                    (Some(old_op.pointer.clone()), None),
                ),
            }
        }
        for (i, new_op) in new_ops.iter().enumerate() {
            if !new_used[i] {
                self.push(
                    Some(&scope_of(new_op)),
                    Verdict::Compatible,
                    ChangeKind::OperationAdded,
                    Direction::Document,
                    "operation".into(),
                    None,
                    None,
                    Some(new_op.route()),
                    "a new operation; nothing that exists uses it yet",
                    (None, Some(new_op.pointer.clone())),
                );
            }
        }
    }

    fn operation(&mut self, old_op: &Op<'a>, new_op: &Op<'a>) {
        let scope = scope_of(old_op);
        if old_op.id != new_op.id {
            self.push(
                Some(&scope),
                Verdict::Breaking,
                ChangeKind::OperationRenamed,
                Direction::Document,
                "operationId".into(),
                None,
                old_op.id.clone(),
                new_op.id.clone(),
                "the generated method is renamed; adapter code calling it stops compiling",
                (Some(old_op.pointer.clone()), Some(new_op.pointer.clone())),
            );
        }
        self.parameters(&scope, old_op, new_op);
        self.request_body(&scope, old_op, new_op);
        self.responses(&scope, old_op, new_op);
        let has_own = |op: &Op<'_>| op.value.get("security").is_some();
        if has_own(old_op) || has_own(new_op) {
            let effective = |op: &Op<'_>, doc: &Value| {
                requirements(op.value.get("security").or_else(|| doc.get("security")))
            };
            let (o, n) = (effective(old_op, self.old), effective(new_op, self.new));
            if o != n {
                self.push(
                    Some(&scope),
                    Verdict::Breaking,
                    ChangeKind::SecurityChanged,
                    Direction::Document,
                    "operation security requirement".into(),
                    None,
                    Some(o),
                    Some(n),
                    "the operation now needs other credentials",
                    (
                        Some(format!("{}/security", old_op.pointer)),
                        Some(format!("{}/security", new_op.pointer)),
                    ),
                );
            }
        }
    }

    fn parameters(&mut self, scope: &Scope, old_op: &Op<'a>, new_op: &Op<'a>) {
        let old = params(self.old, old_op);
        let new = params(self.new, new_op);
        let keys: BTreeSet<&(String, String)> = old.keys().chain(new.keys()).collect();
        for key in keys {
            match (old.get(key), new.get(key)) {
                (Some(o), None) => self.push(
                    Some(scope),
                    Verdict::Breaking,
                    ChangeKind::ParameterRemoved,
                    Direction::Request,
                    format!("parameter {} {}", o.location, o.name),
                    None,
                    Some(requirement(o.required)),
                    None,
                    "the regenerated builder loses the setter; adapter code calling it stops compiling",
                    (Some(o.pointer.clone()), None),
                ),
                (None, Some(n)) => {
                    let (verdict, reason) = if n.required {
                        (
                            Verdict::Breaking,
                            "old clients do not send it, and the regenerated builder fails until adapter code sets it",
                        )
                    } else {
                        (Verdict::Compatible, "optional; old clients simply omit it")
                    };
                    let ty = n.schema.map(|s| describe(self.new, s)).unwrap_or_default();
                    self.push(
                        Some(scope),
                        verdict,
                        ChangeKind::ParameterAdded,
                        Direction::Request,
                        format!("parameter {} {}", n.location, n.name),
                        None,
                        None,
                        Some(format!("{} {ty}", requirement(n.required)).trim_end().to_string()),
                        reason,
                        (None, Some(n.pointer.clone())),
                    );
                }
                (Some(o), Some(n)) => self.parameter(scope, o, n),
                (None, None) => {}
            }
        }
    }

    fn parameter(&mut self, scope: &Scope, o: &Param<'a>, n: &Param<'a>) {
        let location = format!("parameter {} {}", n.location, n.name);
        let pointers = (Some(o.pointer.clone()), Some(n.pointer.clone()));
        if o.location == "path" && snake(&o.name) != snake(&n.name) {
            self.push(
                Some(scope),
                Verdict::Breaking,
                ChangeKind::ParameterRenamed,
                Direction::Request,
                location.clone(),
                None,
                Some(o.name.clone()),
                Some(n.name.clone()),
                "the regenerated builder's setter is renamed; adapter code calling it stops compiling",
                pointers.clone(),
            );
        }
        if o.required != n.required {
            let (verdict, reason) = if n.required {
                (
                    Verdict::Breaking,
                    "old clients may omit a parameter the bank now requires",
                )
            } else {
                (Verdict::Compatible, "the bank no longer insists on it")
            };
            self.push(
                Some(scope),
                verdict,
                ChangeKind::ParameterRequirement,
                Direction::Request,
                location.clone(),
                None,
                Some(requirement(o.required)),
                Some(requirement(n.required)),
                reason,
                pointers,
            );
        }
        if let (Some(os), Some(ns)) = (o.schema, n.schema) {
            let ctx = FieldCtx::root(location.clone(), location);
            let mut walk = SchemaWalk::new(self, scope.clone(), Direction::Request);
            walk.compare(
                &ctx,
                (os, format!("{}/schema", o.pointer)),
                (ns, format!("{}/schema", n.pointer)),
            );
        }
    }

    fn request_body(&mut self, scope: &Scope, old_op: &Op<'a>, new_op: &Op<'a>) {
        let body = |doc: &'a Value, op: &Op<'a>| {
            op.value.get("requestBody").map(|b| {
                let (b, p, _) = resolve(doc, b, &format!("{}/requestBody", op.pointer));
                (b, p)
            })
        };
        let required = |b: &Value| b.get("required").and_then(Value::as_bool).unwrap_or(false);
        match (body(self.old, old_op), body(self.new, new_op)) {
            (None, None) => {}
            (Some((o, op)), None) => self.push(
                Some(scope),
                Verdict::Breaking,
                ChangeKind::RequestBody,
                Direction::Request,
                "request body".into(),
                None,
                Some(requirement(required(o))),
                None,
                "the regenerated builder loses `body`; adapter code setting it stops compiling",
                (Some(op), None),
            ),
            (None, Some((n, np))) => {
                let (verdict, reason) = if required(n) {
                    (
                        Verdict::Breaking,
                        "old clients send no body where one is now required",
                    )
                } else {
                    (Verdict::Compatible, "optional; old clients simply omit it")
                };
                self.push(
                    Some(scope),
                    verdict,
                    ChangeKind::RequestBody,
                    Direction::Request,
                    "request body".into(),
                    None,
                    None,
                    Some(requirement(required(n))),
                    reason,
                    (None, Some(np)),
                );
            }
            (Some((o, op)), Some((n, np))) => {
                if required(o) != required(n) {
                    let (verdict, reason) = if required(n) {
                        (
                            Verdict::Breaking,
                            "old clients may omit a body the bank now requires",
                        )
                    } else {
                        (Verdict::Compatible, "the bank no longer insists on a body")
                    };
                    self.push(
                        Some(scope),
                        verdict,
                        ChangeKind::RequestBody,
                        Direction::Request,
                        "request body".into(),
                        None,
                        Some(requirement(required(o))),
                        Some(requirement(required(n))),
                        reason,
                        (Some(op.clone()), Some(np.clone())),
                    );
                }
                self.content(
                    scope,
                    Direction::Request,
                    "request body",
                    "request",
                    (o, op),
                    (n, np),
                );
            }
        }
    }

    /// Compares the media types of a body (request or response).
    fn content(
        &mut self,
        scope: &Scope,
        direction: Direction,
        root_label: &str,
        field_prefix: &str,
        old: (&'a Value, String),
        new: (&'a Value, String),
    ) {
        let pick = |v: &'a Value, p: &str| -> Option<(String, &'a Value, String)> {
            let content = v.get("content")?.as_object()?;
            let (mime, media) = content
                .iter()
                .find(|(k, _)| is_json(k))
                .or_else(|| content.iter().next())?;
            Some((mime.clone(), media, format!("{p}/content/{}", escape(mime))))
        };
        let (o, n) = (pick(old.0, &old.1), pick(new.0, &new.1));
        let kind = if direction == Direction::Response {
            ChangeKind::SuccessResponseType
        } else {
            ChangeKind::RequestBody
        };
        let pointers = |o: &Option<(String, &Value, String)>,
                        n: &Option<(String, &Value, String)>| {
            (
                o.as_ref().map(|x| x.2.clone()).or(Some(old.1.clone())),
                n.as_ref().map(|x| x.2.clone()).or(Some(new.1.clone())),
            )
        };
        let breaking = Verdict::Breaking;
        match (&o, &n) {
            (None, None) => {}
            (Some((om, oms, _)), None) => {
                let ty = oms.get("schema").map(|s| describe(self.old, s));
                let p = pointers(&o, &n);
                self.push_body(
                    scope,
                    direction,
                    breaking,
                    kind,
                    root_label,
                    (
                        Some(
                            format!("{om} {}", ty.unwrap_or_default())
                                .trim_end()
                                .to_string(),
                        ),
                        Some("no body".into()),
                    ),
                    "the body is gone; the generated type changes",
                    p,
                );
            }
            (None, Some((nm, nms, _))) => {
                let ty = nms.get("schema").map(|s| describe(self.new, s));
                let p = pointers(&o, &n);
                self.push_body(
                    scope,
                    direction,
                    breaking,
                    kind,
                    root_label,
                    (
                        Some("no body".into()),
                        Some(
                            format!("{nm} {}", ty.unwrap_or_default())
                                .trim_end()
                                .to_string(),
                        ),
                    ),
                    "a body appears where there was none; the generated type changes",
                    p,
                );
            }
            (Some((om, oms, op)), Some((nm, nms, np))) => {
                if is_json(om) != is_json(nm) {
                    let p = pointers(&o, &n);
                    self.push_body(
                        scope,
                        direction,
                        breaking,
                        kind,
                        root_label,
                        (Some(om.clone()), Some(nm.clone())),
                        "the media type changed; the generated client (de)serializes differently",
                        p,
                    );
                    return;
                }
                match (oms.get("schema"), nms.get("schema")) {
                    (Some(os), Some(ns)) => {
                        let ctx = FieldCtx::root(root_label.to_string(), field_prefix.to_string());
                        let mut walk = SchemaWalk::new(self, scope.clone(), direction);
                        walk.top_level = direction == Direction::Response;
                        walk.compare(
                            &ctx,
                            (os, format!("{op}/schema")),
                            (ns, format!("{np}/schema")),
                        );
                    }
                    (None, None) => {}
                    (os, ns) => {
                        let d = |doc, s: Option<&Value>| {
                            s.map_or_else(|| "no schema".to_string(), |s| describe(doc, s))
                        };
                        let p = pointers(&o, &n);
                        self.push_body(
                            scope,
                            direction,
                            breaking,
                            kind,
                            root_label,
                            (Some(d(self.old, os)), Some(d(self.new, ns))),
                            "the body's schema appeared or disappeared; the generated type changes",
                            p,
                        );
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_body(
        &mut self,
        scope: &Scope,
        direction: Direction,
        verdict: Verdict,
        kind: ChangeKind,
        root_label: &str,
        states: (Option<String>, Option<String>),
        reason: &str,
        pointers: (Option<String>, Option<String>),
    ) {
        self.push(
            Some(scope),
            verdict,
            kind,
            direction,
            root_label.to_string(),
            None,
            states.0,
            states.1,
            reason,
            pointers,
        );
    }

    fn responses(&mut self, scope: &Scope, old_op: &Op<'a>, new_op: &Op<'a>) {
        let list = |op: &Op<'a>| -> BTreeMap<String, &'a Value> {
            op.value
                .get("responses")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
                .unwrap_or_default()
        };
        let (old, new) = (list(old_op), list(new_op));
        let new_has_success = new.keys().any(|s| is_success(s));
        let statuses: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for status in statuses {
            let success = is_success(status);
            let op_ptr = format!("{}/responses/{}", old_op.pointer, escape(status));
            let np_ptr = format!("{}/responses/{}", new_op.pointer, escape(status));
            match (old.get(status), new.get(status)) {
                (Some(_), None) => {
                    let (kind, verdict, reason) = if !success {
                        (
                            ChangeKind::ErrorResponse,
                            Verdict::Compatible,
                            "the bank no longer documents this error",
                        )
                    } else if new_has_success {
                        (
                            ChangeKind::SuccessStatus,
                            Verdict::Compatible,
                            "another success status remains",
                        )
                    } else {
                        (
                            ChangeKind::SuccessStatus,
                            Verdict::Breaking,
                            "no success response is left",
                        )
                    };
                    self.push(
                        Some(scope),
                        verdict,
                        kind,
                        Direction::Response,
                        format!("response {status}"),
                        None,
                        Some("documented".into()),
                        None,
                        reason,
                        (Some(op_ptr), None),
                    );
                }
                (None, Some(_)) => {
                    let (kind, verdict, reason) = if success {
                        (
                            ChangeKind::SuccessStatus,
                            Verdict::Breaking,
                            "deployed clients treat the new success status as an unexpected response",
                        )
                    } else {
                        (
                            ChangeKind::ErrorResponse,
                            Verdict::Compatible,
                            "error statuses reach the facade as errors either way",
                        )
                    };
                    self.push(
                        Some(scope),
                        verdict,
                        kind,
                        Direction::Response,
                        format!("response {status}"),
                        None,
                        None,
                        Some("documented".into()),
                        reason,
                        (None, Some(np_ptr)),
                    );
                }
                (Some(o), Some(n)) => {
                    let (o, op, _) = resolve(self.old, o, &op_ptr);
                    let (n, np, _) = resolve(self.new, n, &np_ptr);
                    if success {
                        self.content(
                            scope,
                            Direction::Response,
                            &format!("response {status} body"),
                            &format!("response {status}"),
                            (o, op),
                            (n, np),
                        );
                    } else {
                        self.error_response(scope, status, (o, op), (n, np));
                    }
                }
                (None, None) => {}
            }
        }
    }

    /// Error bodies: compared quietly, summarised in one compatible line per status.
    fn error_response(
        &mut self,
        scope: &Scope,
        status: &str,
        old: (&'a Value, String),
        new: (&'a Value, String),
    ) {
        let before = self.findings.len();
        self.content(
            scope,
            Direction::Error,
            &format!("response {status} body"),
            &format!("response {status}"),
            old.clone(),
            new.clone(),
        );
        let quiet: Vec<Finding> = self.findings.drain(before..).collect();
        if quiet.is_empty() {
            return;
        }
        for f in &quiet {
            self.quiet_pointers.extend(f.old_pointer.iter().cloned());
            self.quiet_pointers.extend(f.new_pointer.iter().cloned());
        }
        self.push(
            Some(scope),
            Verdict::Compatible,
            ChangeKind::ErrorResponse,
            Direction::Error,
            format!("response {status} body"),
            None,
            None,
            None,
            &format!(
                "{} schema difference(s); error bodies only feed the facade's error type, which keeps the raw body",
                quiet.len()
            ),
            (Some(old.1), Some(new.1)),
        );
    }
}

fn scope_of(op: &Op<'_>) -> Scope {
    Scope {
        label: op.label(),
        id: op.id.clone(),
        route: op.route(),
    }
}

fn is_json(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m.starts_with("application/json") || m.contains("+json")
}

fn is_success(status: &str) -> bool {
    status.starts_with('2')
}

fn requirement(required: bool) -> String {
    if required { "required" } else { "optional" }.to_string()
}

/// A security requirement list as text: alternatives separated by ` | `, schemes by ` + `.
fn requirements(value: Option<&Value>) -> String {
    let Some(list) = value.and_then(Value::as_array) else {
        return "(none)".into();
    };
    let mut alts: Vec<String> = list
        .iter()
        .filter_map(Value::as_object)
        .map(|req| {
            let mut names: Vec<String> = req
                .iter()
                .map(|(k, scopes)| {
                    let scopes: Vec<&str> = scopes
                        .as_array()
                        .map(|s| s.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    if scopes.is_empty() {
                        k.clone()
                    } else {
                        format!("{k}[{}]", scopes.join(" "))
                    }
                })
                .collect();
            names.sort();
            if names.is_empty() {
                "anonymous".into()
            } else {
                names.join(" + ")
            }
        })
        .collect();
    alts.sort();
    if alts.is_empty() {
        "(none)".into()
    } else {
        alts.join(" | ")
    }
}

/// The parts of a security scheme a client depends on, as text.
fn describe_scheme(doc: &Value, scheme: &Value) -> String {
    let (s, _, _) = resolve(doc, scheme, "");
    let get = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
    let mut parts = vec![get("type").to_string()];
    for k in ["scheme", "bearerFormat", "in", "name", "openIdConnectUrl"] {
        if !get(k).is_empty() {
            parts.push(format!("{k}={}", get(k)));
        }
    }
    if let Some(flows) = s.get("flows").and_then(Value::as_object) {
        for (flow, f) in flows {
            let mut p = vec![flow.clone()];
            for k in ["authorizationUrl", "tokenUrl", "refreshUrl"] {
                if let Some(u) = f.get(k).and_then(Value::as_str) {
                    p.push(format!("{k}={u}"));
                }
            }
            if let Some(scopes) = f.get("scopes").and_then(Value::as_object) {
                let names: Vec<&str> = scopes.keys().map(String::as_str).collect();
                p.push(format!("scopes=[{}]", names.join(" ")));
            }
            parts.push(p.join(" "));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn path_templates_pair_regardless_of_parameter_names() {
        assert_eq!(
            erase_param_names("/v1/accounts/{account-id}/x/{b}"),
            "/v1/accounts/{}/x/{}"
        );
        assert_eq!(path_param_names("/a/{x}/b/{y-z}"), ["x", "y-z"]);
    }

    #[test]
    fn snake_case_matches_builder_names() {
        assert_eq!(snake("account-id"), "account_id");
        assert_eq!(snake("accountId"), "account_id");
        assert_eq!(snake("consentId"), "consent_id");
    }
}
