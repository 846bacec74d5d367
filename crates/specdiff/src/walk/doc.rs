//! Reading a prepared document: JSON pointers, `$ref` resolution, operations and their
//! parameters, short descriptions of schemas.

use serde_json::Value;
use std::collections::BTreeMap;

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
    pub(crate) fn key(&self) -> (String, String) {
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
pub(crate) struct Param<'a> {
    pub(crate) location: String,
    pub(crate) name: String,
    pub(crate) required: bool,
    pub(crate) schema: Option<&'a Value>,
    pub(crate) pointer: String,
}

/// Parameters of an operation keyed by (location, name); path parameters by position.
pub(crate) fn params<'a>(doc: &'a Value, op: &Op<'a>) -> BTreeMap<(String, String), Param<'a>> {
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
pub(crate) fn snake(name: &str) -> String {
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
    crate::schema::describe_inline(doc, schema)
}

/// Per-operation context handed to the schema walk.
#[derive(Clone)]
pub(crate) struct Scope {
    pub(crate) label: String,
    pub(crate) id: Option<String>,
    pub(crate) route: String,
}

pub(crate) fn scope_of(op: &Op<'_>) -> Scope {
    Scope {
        label: op.label(),
        id: op.id.clone(),
        route: op.route(),
    }
}

pub(crate) fn is_json(mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m.starts_with("application/json") || m.contains("+json")
}

pub(crate) fn is_success(status: &str) -> bool {
    status.starts_with('2')
}

pub(crate) fn requirement(required: bool) -> String {
    if required { "required" } else { "optional" }.to_string()
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
