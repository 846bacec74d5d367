//! The compact, reviewable API surface of a generated client: one block per operation
//! (method, path, parameters with Rust types, success and error types) and the fields of
//! every generated type. Operations and locations come from the normalized document; Rust
//! types come from parsing the generated code with syn, so they are exact.

use crate::error::{Error, Result};
use crate::pipeline::normalize::METHODS;
use crate::pipeline::{CrateSpec, render};
use quote::ToTokens;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Renders the surface of `spec`'s generated client.
pub fn surface_of(spec: &CrateSpec) -> Result<String> {
    let rendered = render(spec)?;
    let code = rendered
        .files
        .iter()
        .find(|f| f.path.ends_with("client.rs"))
        .map(|f| f.content.clone())
        .unwrap_or_default();
    render_surface(&rendered.prepared.value, &code)
}

/// Builds the surface text from a normalized document and its generated code.
pub fn render_surface(doc: &Value, code: &str) -> Result<String> {
    let file: syn::File = syn::parse_str(code).map_err(|e| Error::Format(e.to_string()))?;
    let builders = builders(&file);
    let mut out = String::new();
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (path, item) in &paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let builder = builders.get(&key(id));
            let _ = writeln!(out, "{id}: {} {path}", method.to_uppercase());
            let mut params: Vec<&Value> = item
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            if let Some(own) = op.get("parameters").and_then(Value::as_array) {
                params.retain(|p| {
                    !own.iter()
                        .any(|o| o.get("name") == p.get("name") && o.get("in") == p.get("in"))
                });
                params.extend(own.iter());
            }
            for p in params {
                let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
                let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                let ty = builder
                    .and_then(|b| {
                        b.fields
                            .get(&snake(name))
                            .or_else(|| b.fields.get(&format!("{}_", snake(name))))
                    })
                    .map(String::as_str)
                    .unwrap_or("?");
                let req = if required { "required" } else { "optional" };
                let _ = writeln!(out, "  {name} ({location}, {req}): {ty}");
            }
            if let Some(body) = op.get("requestBody") {
                let mt = body
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.keys().next().cloned())
                    .unwrap_or_default();
                let required = body
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let ty = builder
                    .and_then(|b| b.fields.get("body"))
                    .map(String::as_str)
                    .unwrap_or("?");
                let req = if required { "required" } else { "optional" };
                let _ = writeln!(out, "  body ({mt}, {req}): {ty}");
            }
            let (ok, err) = builder
                .map(|b| (b.ok.as_str(), b.err.as_str()))
                .unwrap_or(("?", "?"));
            let _ = writeln!(out, "  -> {ok}");
            // The undecoded variant `bytes_operations` adds (its error type is `send()`'s).
            if let Some(bytes) = builder.and_then(|b| b.bytes.as_deref()) {
                let _ = writeln!(out, "  send_bytes -> {bytes}");
            }
            let _ = writeln!(out, "  !> {err}\n");
        }
    }
    out.push_str("# types\n\n");
    out.push_str(&types(&file));
    Ok(out)
}

/// Lowercase alphanumerics only: matches an operationId to its builder struct name.
fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Approximates progenitor's snake-casing of parameter names (`X-Request-ID` → `x_request_id`).
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if (prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower))
                && !out.ends_with('_')
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out.trim_end_matches('_').to_string()
}

/// Token text of a type, shortened for reading.
fn type_text(ty: &impl ToTokens) -> String {
    let mut s = ty.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& '", "&'"),
        ("::std::string::", ""),
        ("::std::vec::", ""),
        ("::std::option::", ""),
        ("::std::collections::", ""),
        ("::std::net::", ""),
        ("::serde_json::", "serde_json::"),
        ("::chrono::", "chrono::"),
        ("::uuid::", "uuid::"),
        ("::bytes::", "bytes::"),
        ("types::", ""),
        ("super::", ""),
        ("::std::num::", ""),
        ("::std::boxed::", ""),
    ] {
        s = s.replace(from, to);
    }
    s
}

struct Builder {
    fields: BTreeMap<String, String>,
    ok: String,
    err: String,
    /// The success type of `send_bytes()`, when the builder has one.
    bytes: Option<String>,
}

fn builders(file: &syn::File) -> BTreeMap<String, Builder> {
    let mut out = BTreeMap::new();
    let Some(items) = module(&file.items, "builder") else {
        return out;
    };
    for item in items {
        if let syn::Item::Struct(s) = item
            && s.fields
                .iter()
                .any(|f| f.ident.as_ref().is_some_and(|i| i == "client"))
        {
            let fields = s
                .fields
                .iter()
                .filter_map(|f| {
                    let name = f.ident.as_ref()?.to_string();
                    (name != "client").then(|| (name, unwrap_builder_field(&f.ty)))
                })
                .collect();
            out.insert(
                key(&s.ident.to_string()),
                Builder {
                    fields,
                    ok: "?".into(),
                    err: "?".into(),
                    bytes: None,
                },
            );
        }
    }
    for item in items {
        let syn::Item::Impl(imp) = item else { continue };
        let name = match &*imp.self_ty {
            syn::Type::Path(p) => p
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default(),
            _ => continue,
        };
        let Some(b) = out.get_mut(&key(&name)) else {
            continue;
        };
        for it in &imp.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            let syn::ReturnType::Type(_, ty) = &f.sig.output else {
                continue;
            };
            if f.sig.ident == "send" {
                let (ok, err) = split_result(ty);
                b.ok = ok;
                b.err = err;
            } else if f.sig.ident == crate::pipeline::bytes_ops::METHOD {
                b.bytes = Some(split_result(ty).0);
            }
        }
    }
    out
}

/// `Result<Option<T>, String>` → `T`; `Result<T, String>` → `T`.
fn unwrap_builder_field(ty: &syn::Type) -> String {
    let inner = generic_args(ty).into_iter().next();
    match inner {
        Some(t) if last_ident(&t) == "Option" => {
            generic_args(&t).first().map(type_text).unwrap_or_default()
        }
        Some(t) => type_text(&t),
        None => type_text(ty),
    }
}

/// `Result<ResponseValue<T>, Error<E>>` → (`T`, `E`).
fn split_result(ty: &syn::Type) -> (String, String) {
    let args = generic_args(ty);
    let unwrap = |t: Option<&syn::Type>| {
        t.map(|t| {
            generic_args(t)
                .first()
                .map(type_text)
                .unwrap_or_else(|| "()".into())
        })
        .unwrap_or_else(|| "?".into())
    };
    (unwrap(args.first()), unwrap(args.get(1)))
}

fn last_ident(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn generic_args(ty: &syn::Type) -> Vec<syn::Type> {
    let syn::Type::Path(p) = ty else {
        return Vec::new();
    };
    let Some(seg) = p.path.segments.last() else {
        return Vec::new();
    };
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return Vec::new();
    };
    args.args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn module<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a Vec<syn::Item>> {
    items.iter().find_map(|i| match i {
        syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .find_map(|a| {
            let text = a.meta.to_token_stream().to_string();
            let start = text.find("rename = \"")? + "rename = \"".len();
            let end = text[start..].find('"')?;
            Some(text[start..start + end].to_string())
        })
}

fn types(file: &syn::File) -> String {
    let mut out = String::new();
    let Some(items) = module(&file.items, "types") else {
        return out;
    };
    for item in items {
        match item {
            syn::Item::Struct(s) => match &s.fields {
                syn::Fields::Named(named) => {
                    let _ = writeln!(out, "struct {}", s.ident);
                    for f in &named.named {
                        let name = f
                            .ident
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default();
                        let wire = serde_rename(&f.attrs)
                            .map(|r| format!(" \"{r}\""))
                            .unwrap_or_default();
                        let _ = writeln!(out, "  {name}{wire}: {}", type_text(&f.ty));
                    }
                    out.push('\n');
                }
                syn::Fields::Unnamed(u) => {
                    let inner: Vec<String> = u.unnamed.iter().map(|f| type_text(&f.ty)).collect();
                    let _ = writeln!(out, "struct {}({})\n", s.ident, inner.join(", "));
                }
                syn::Fields::Unit => {
                    let _ = writeln!(out, "struct {}\n", s.ident);
                }
            },
            syn::Item::Enum(e) => {
                let _ = writeln!(out, "enum {}", e.ident);
                for v in &e.variants {
                    let wire = serde_rename(&v.attrs)
                        .map(|r| format!(" \"{r}\""))
                        .unwrap_or_default();
                    let payload = match &v.fields {
                        syn::Fields::Unit => String::new(),
                        syn::Fields::Unnamed(u) => {
                            let t: Vec<String> =
                                u.unnamed.iter().map(|f| type_text(&f.ty)).collect();
                            format!("({})", t.join(", "))
                        }
                        syn::Fields::Named(n) => {
                            let t: Vec<String> = n
                                .named
                                .iter()
                                .map(|f| {
                                    format!(
                                        "{}: {}",
                                        f.ident
                                            .as_ref()
                                            .map(ToString::to_string)
                                            .unwrap_or_default(),
                                        type_text(&f.ty)
                                    )
                                })
                                .collect();
                            format!(" {{ {} }}", t.join(", "))
                        }
                    };
                    let _ = writeln!(out, "  {}{payload}{wire}", v.ident);
                }
                out.push('\n');
            }
            syn::Item::Type(t) => {
                let _ = writeln!(out, "type {} = {}\n", t.ident, type_text(&t.ty));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_matches_progenitor_for_common_names() {
        for (api, rust) in [
            ("X-Request-ID", "x_request_id"),
            ("withBalance", "with_balance"),
            ("account-id", "account_id"),
            ("PSU-IP-Address", "psu_ip_address"),
            ("TPP-Redirect-URI", "tpp_redirect_uri"),
            ("consentId", "consent_id"),
            ("X-IBM-Client-Id", "x_ibm_client_id"),
        ] {
            assert_eq!(snake(api), rust, "{api}");
        }
    }
}
