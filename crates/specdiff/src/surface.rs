//! The generated client's API surface, as `psd2_codegen::surface` renders it, read back into a
//! small model: per operation the Rust types of its parameters, body, success and error type;
//! per generated struct the Rust type of each field by its wire name.
//!
//! The walk asks it "which Rust type does the caller see here, before and after?", so a type
//! rename is seen however it came about (a `$ref` inlined, a schema renamed, a name made
//! distinct by the generator) and messages can name the types callers use.

use std::collections::BTreeMap;

/// One operation of the surface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpSurface {
    /// The operationId the generated method is named after.
    pub id: String,
    /// Builder field types by `(location, name)`; header names lower case.
    pub params: BTreeMap<(String, String), String>,
    /// The body's type, when the operation has one.
    pub body: Option<String>,
    /// The success type (`()` for none).
    pub ok: String,
    /// The error type (`()` for none).
    pub err: String,
}

/// One generated struct: field types by wire name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StructSurface {
    /// `wire name → Rust type` (the Rust field name where serde renames nothing).
    pub fields: BTreeMap<String, String>,
}

/// The parsed surface of one generated client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Surface {
    /// Operations by `(method, path with parameter names erased)`.
    pub ops: BTreeMap<(String, String), OpSurface>,
    /// Structs with named fields, by Rust name.
    pub structs: BTreeMap<String, StructSurface>,
}

impl Surface {
    /// Reads the text `psd2_codegen::surface::render_surface` writes.
    pub fn parse(text: &str) -> Self {
        let mut surface = Surface::default();
        let (ops_text, types_text) = text.split_once("# types").unwrap_or((text, ""));
        let mut current: Option<((String, String), OpSurface)> = None;
        for line in ops_text.lines() {
            if !line.starts_with(' ') {
                if let Some((key, op)) = current.take() {
                    surface.ops.insert(key, op);
                }
                current = parse_op_header(line);
                continue;
            }
            let Some((_, op)) = current.as_mut() else {
                continue;
            };
            let line = line.trim();
            if let Some(ok) = line.strip_prefix("-> ") {
                op.ok = tidy(ok);
            } else if let Some(err) = line.strip_prefix("!> ") {
                op.err = tidy(err);
            } else if let Some((head, ty)) = line.split_once("): ") {
                let Some((name, rest)) = head.split_once(" (") else {
                    continue;
                };
                let location = rest.split(',').next().unwrap_or_default().trim();
                if name == "body" && location.contains('/') {
                    op.body = Some(tidy(ty));
                } else {
                    op.params.insert(param_key(location, name), tidy(ty));
                }
            }
        }
        if let Some((key, op)) = current.take() {
            surface.ops.insert(key, op);
        }
        surface.structs = parse_structs(types_text);
        surface
    }

    /// The operation at `method path` (parameter names in the path do not matter).
    pub fn op(&self, method: &str, path: &str) -> Option<&OpSurface> {
        self.ops
            .get(&(method.to_ascii_lowercase(), erase_param_names(path)))
    }

    /// The Rust type of field `wire` of the struct that `owner` (a Rust type) names.
    pub fn field(&self, owner: &str, wire: &str) -> Option<String> {
        self.structs.get(core(owner))?.fields.get(wire).cloned()
    }
}

fn parse_op_header(line: &str) -> Option<((String, String), OpSurface)> {
    let (id, route) = line.split_once(": ")?;
    let (method, path) = route.trim().split_once(' ')?;
    let op = OpSurface {
        id: id.to_string(),
        ..OpSurface::default()
    };
    Some((
        (method.to_ascii_lowercase(), erase_param_names(path.trim())),
        op,
    ))
}

/// Key of a parameter: header names are case-insensitive.
pub fn param_key(location: &str, name: &str) -> (String, String) {
    let name = if location == "header" {
        name.to_ascii_lowercase()
    } else {
        name.to_string()
    };
    (location.to_string(), name)
}

fn parse_structs(text: &str) -> BTreeMap<String, StructSurface> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, StructSurface)> = None;
    for line in text.lines() {
        if !line.starts_with(' ') {
            if let Some((name, s)) = current.take() {
                out.insert(name, s);
            }
            if let Some(name) = line.strip_prefix("struct ")
                && !name.contains('(')
            {
                current = Some((name.trim().to_string(), StructSurface::default()));
            }
            continue;
        }
        let Some((_, s)) = current.as_mut() else {
            continue;
        };
        if let Some((head, ty)) = line.trim().split_once(": ") {
            let wire = match head.split_once(" \"") {
                Some((_, quoted)) => quoted.trim_end_matches('"').to_string(),
                None => head.to_string(),
            };
            s.fields.insert(wire, tidy(ty));
        }
    }
    if let Some((name, s)) = current.take() {
        out.insert(name, s);
    }
    out
}

/// A type as the surface prints it, without leading `::` on paths.
fn tidy(ty: &str) -> String {
    ty.trim()
        .trim_start_matches("::")
        .replace("<::", "<")
        .replace(", ::", ", ")
        .replace("builder::", "")
        .replace(",>", ">")
}

/// `/v1/accounts/{account-id}` → `/v1/accounts/{}`.
pub fn erase_param_names(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push('{');
            }
            '}' if inside => {
                inside = false;
                out.push('}');
            }
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

/// The wrapped type when `ty` is `Wrapper<T>`.
fn strip<'t>(ty: &'t str, wrapper: &str) -> Option<&'t str> {
    ty.strip_prefix(wrapper)?
        .strip_prefix('<')?
        .strip_suffix('>')
        .map(str::trim)
}

/// The type without `Option<…>` and `Box<…>` around it: what a rename is judged on.
pub fn core(ty: &str) -> &str {
    let mut t = ty.trim();
    loop {
        match strip(t, "Option").or_else(|| strip(t, "Box")) {
            Some(inner) => t = inner,
            None => return t,
        }
    }
}

/// The element type of `Vec<T>` (under any `Option`).
pub fn item(ty: &str) -> Option<&str> {
    strip(core(ty), "Vec")
}

/// The value type of a `HashMap<String, T>` or `BTreeMap<String, T>` (under any `Option`).
pub fn map_value(ty: &str) -> Option<&str> {
    let t = core(ty);
    let inner = strip(t, "HashMap")
        .or_else(|| strip(t, "BTreeMap"))
        .or_else(|| strip(t, "serde_json::Map"))?;
    inner.split_once(',').map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "getAccountList: GET /v1/accounts/{account-id}\n  account-id (path, required): AccountId\n  X-Request-ID (header, required): uuid::Uuid\n  body (application/json, required): ConsentRequest\n  -> AccountList\n  !> ErrorResponse\n\n# types\n\nstruct AccountList\n  accounts: Vec<AccountDetails>\n  sca_status \"scaStatus\": Option<ScaStatus>\n  type_: String\n\nstruct AccountId(String)\n\nenum ScaStatus\n  Received \"received\"\n\n";

    #[test]
    fn reads_operations_and_struct_fields() {
        let s = Surface::parse(TEXT);
        let op = s.op("GET", "/v1/accounts/{id}").unwrap();
        assert_eq!(op.id, "getAccountList");
        assert_eq!(
            op.params.get(&param_key("path", "account-id")).unwrap(),
            "AccountId"
        );
        assert_eq!(
            op.params.get(&param_key("header", "x-request-id")).unwrap(),
            "uuid::Uuid"
        );
        assert_eq!(op.body.as_deref(), Some("ConsentRequest"));
        assert_eq!(
            (op.ok.as_str(), op.err.as_str()),
            ("AccountList", "ErrorResponse")
        );
        assert_eq!(
            s.field("Option<AccountList>", "scaStatus").unwrap(),
            "Option<ScaStatus>"
        );
        assert_eq!(s.field("AccountList", "type_").unwrap(), "String");
        assert!(!s.structs.contains_key("AccountId"));
    }

    #[test]
    fn wrappers() {
        assert_eq!(core("Option<Box<Amount>>"), "Amount");
        assert_eq!(item("Option<Vec<Balance>>"), Some("Balance"));
        assert_eq!(map_value("HashMap<String, Link>"), Some("Link"));
        assert_eq!(item("String"), None);
    }
}
