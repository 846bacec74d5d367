//! Stage 5e: `send_bytes()` next to `send()` for the operations a bank lists in
//! `[generate] bytes_operations` (operationIds).
//!
//! progenitor's `send()` always decodes a success answer's JSON body into the typed value. A
//! caller that wants the body itself (to read a page's next link first and decode the
//! entries elsewhere) gets, on the listed operations' builders only:
//!
//! ```text
//! pub async fn send_bytes(self) -> Result<ResponseValue<::bytes::Bytes>, Error<E>>
//! ```
//!
//! It is a copy of the operation's `send()` (after the lean stage, when that runs), with the
//! same request building, hooks, headers and error arms; only the status arms that decode a
//! JSON success body (`ResponseValue::from_response(response).await`) call the shared
//! `bytes_of` helper in the private support module instead, which reads the body into bytes
//! with the status and headers (a body-read failure is `Error::ResponseBodyError`, as in
//! `from_response`). Works on lean and on as-generated operation code; needs the builder
//! interface. An operation the stage cannot serve (unknown id, no JSON success body, a
//! `send()` in another shape) fails generation with an error naming the `bank.toml` key.

use crate::pipeline::lean::SUPPORT_MODULE;
use crate::pipeline::normalize::rust_method_name;
use quote::{ToTokens, format_ident};

/// The stage's name in the generation report.
pub const STAGE: &str = "bytes";

/// The rewrite's report key: one per operation given `send_bytes()`.
pub const REWRITE: &str = "send-bytes-method";

/// The method added next to `send()`.
pub const METHOD: &str = "send_bytes";

/// Why one listed operation cannot get `send_bytes()`: `(operationId, reason)`.
pub type Refusal = (String, String);

/// Checks the listed operationIds against the (normalized) document: each must name one of
/// its operations, once.
pub fn check_listed(openapi: &openapiv3::OpenAPI, listed: &[String]) -> Result<(), Refusal> {
    let known: Vec<&str> = openapi
        .operations()
        .filter_map(|(_, _, op)| op.operation_id.as_deref())
        .collect();
    for (i, id) in listed.iter().enumerate() {
        if listed[..i].contains(id) {
            return Err((id.clone(), "listed more than once".into()));
        }
        if !known.contains(&id.as_str()) {
            let mut sorted = known.clone();
            sorted.sort_unstable();
            return Err((
                id.clone(),
                format!(
                    "the document has no operation with this operationId (it has: {})",
                    sorted.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Adds `send_bytes()` to the builder of every listed operation and `bytes_of` to the
/// support module; returns how many methods it added (the listed count) or the first
/// operation it cannot serve.
pub fn add_send_bytes(file: &mut syn::File, listed: &[String]) -> Result<usize, Refusal> {
    if listed.is_empty() {
        return Ok(0);
    }
    let builder = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
            _ => None,
        })
        .map(|(_, items)| items);
    let Some(builder) = builder else {
        let first = listed.first().cloned().unwrap_or_default();
        return Err((
            first,
            "the client has no operation builders (`send_bytes()` needs `interface = \"builder\"`)"
                .into(),
        ));
    };
    for id in listed {
        add_to_builder(builder, id).map_err(|reason| (id.clone(), reason))?;
    }
    add_helper(file).map_err(|reason| (listed.first().cloned().unwrap_or_default(), reason))?;
    Ok(listed.len())
}

fn tokens(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string()
}

/// Whether `send` is the one of operation `method` (its operation id literal, as the
/// as-generated `OperationInfo` or the lean `execute` call carry it).
fn is_send_of(f: &syn::ImplItemFn, method: &str) -> bool {
    if f.sig.ident != "send" {
        return false;
    }
    let body = tokens(&f.block);
    let literal = format!("{method:?}");
    body.contains(&format!("operation_id : {literal}"))
        || body.contains(&format!("execute (client , request , {literal})"))
}

fn add_to_builder(items: &mut [syn::Item], id: &str) -> Result<(), String> {
    let method = rust_method_name(id);
    let mut found = items.iter_mut().filter_map(|item| match item {
        syn::Item::Impl(imp)
            if imp.items.iter().any(|it| match it {
                syn::ImplItem::Fn(f) => is_send_of(f, &method),
                _ => false,
            }) =>
        {
            Some(imp)
        }
        _ => None,
    });
    let (Some(imp), None) = (found.next(), found.next()) else {
        return Err(format!(
            "found no single operation builder whose `send()` is the operation `{method}`"
        ));
    };
    if imp.items.iter().any(|it| match it {
        syn::ImplItem::Fn(f) => f.sig.ident == METHOD,
        _ => false,
    }) {
        return Err(format!("its builder already has a method `{METHOD}`"));
    }
    let at = imp
        .items
        .iter()
        .position(|it| matches!(it, syn::ImplItem::Fn(f) if f.sig.ident == "send"))
        .ok_or_else(|| "its builder lost `send()`".to_string())?;
    let syn::ImplItem::Fn(send) = &imp.items[at] else {
        return Err("its builder lost `send()`".into());
    };
    let bytes = send_bytes_of(send)?;
    imp.items.insert(at + 1, syn::ImplItem::Fn(bytes));
    Ok(())
}

/// `send()` copied into `send_bytes()`: renamed, its doc replaced, `ResponseValue<T>`
/// becoming `ResponseValue<::bytes::Bytes>`, and its JSON success arms reading bytes.
pub fn send_bytes_of(send: &syn::ImplItemFn) -> Result<syn::ImplItemFn, String> {
    let mut f = send.clone();
    f.sig.ident = format_ident!("{METHOD}");
    f.attrs.retain(|a| !a.path().is_ident("doc"));
    f.attrs.insert(
        0,
        syn::parse_quote!(
            #[doc = " Sends the request like `send()`; a success answer's body is returned undecoded."]
        ),
    );
    f.sig.output = bytes_output(&f.sig.output)?;
    let mut matches = f.block.stmts.iter_mut().filter_map(|stmt| match stmt {
        syn::Stmt::Expr(syn::Expr::Match(m), _)
            if tokens(&m.expr) == "response . status () . as_u16 ()" =>
        {
            Some(m)
        }
        _ => None,
    });
    let (Some(status), None) = (matches.next(), matches.next()) else {
        return Err(
            "its `send()` has no single `match response.status().as_u16()` to rewrite".into(),
        );
    };
    let support = format_ident!("{SUPPORT_MODULE}");
    let mut rewritten = 0usize;
    for arm in &mut status.arms {
        let body = tokens(unbraced(&arm.body));
        if body == "ResponseValue :: from_response (response) . await" {
            *arm.body = syn::parse_quote!(super::#support::bytes_of(response).await);
            rewritten += 1;
        } else if !body.starts_with("Err (") {
            return Err(format!(
                "its success answer `{}` is not a JSON body (`{body}`); `send_bytes()` returns JSON bodies only",
                tokens(&arm.pat)
            ));
        }
    }
    if rewritten == 0 {
        return Err("it has no success answer with a JSON body".into());
    }
    Ok(f)
}

/// An arm's expression without the braces of a block that holds only it.
fn unbraced(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Block(b) if b.attrs.is_empty() && b.label.is_none() => {
            match b.block.stmts.as_slice() {
                [syn::Stmt::Expr(inner, None)] => unbraced(inner),
                _ => expr,
            }
        }
        _ => expr,
    }
}

/// `-> Result<ResponseValue<T>, E>` → `-> Result<ResponseValue<::bytes::Bytes>, E>`.
fn bytes_output(output: &syn::ReturnType) -> Result<syn::ReturnType, String> {
    let shape = || {
        format!(
            "its `send()` does not return `Result<ResponseValue<T>, E>` (it returns `{}`)",
            tokens(output)
        )
    };
    let syn::ReturnType::Type(_, ty) = output else {
        return Err(shape());
    };
    let syn::Type::Path(result) = &**ty else {
        return Err(shape());
    };
    let Some(last) = result.path.segments.last() else {
        return Err(shape());
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return Err(shape());
    };
    let (Some(syn::GenericArgument::Type(ok)), Some(syn::GenericArgument::Type(err)), 2) =
        (args.args.first(), args.args.get(1), args.args.len())
    else {
        return Err(shape());
    };
    let is_response_value = matches!(ok, syn::Type::Path(p)
        if p.path.segments.last().is_some_and(|s| s.ident == "ResponseValue"));
    if last.ident != "Result" || !is_response_value {
        return Err(shape());
    }
    let ident = &last.ident;
    Ok(syn::parse_quote!(-> #ident<ResponseValue<::bytes::Bytes>, #err>))
}

/// Adds `bytes_of` to the support module, creating the module when the lean stage did not.
fn add_helper(file: &mut syn::File) -> Result<(), String> {
    let helper: syn::Item = syn::parse_quote! {
        /// Reads a success answer's body undecoded, with its status and headers: what
        /// `send_bytes()` returns where `send()` decodes JSON (a failed read is the same
        /// `Error::ResponseBodyError` as there).
        pub(super) async fn bytes_of<E>(
            response: ::reqwest::Response,
        ) -> ::std::result::Result<
            progenitor_client::ResponseValue<::bytes::Bytes>,
            progenitor_client::Error<E>,
        > {
            let status = response.status();
            let headers = response.headers().clone();
            let inner = response
                .bytes()
                .await
                .map_err(progenitor_client::Error::ResponseBodyError)?;
            Ok(progenitor_client::ResponseValue::new(inner, status, headers))
        }
    };
    let existing = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == SUPPORT_MODULE => Some(m),
        _ => None,
    });
    if let Some(module) = existing {
        let Some((_, items)) = module.content.as_mut() else {
            return Err(format!("the module `{SUPPORT_MODULE}` has no body"));
        };
        items.push(helper);
        return Ok(());
    }
    if file
        .items
        .iter()
        .any(|item| matches!(item, syn::Item::Fn(f) if f.sig.ident == SUPPORT_MODULE))
    {
        return Err(format!(
            "the client already has an item named `{SUPPORT_MODULE}`"
        ));
    }
    let support = format_ident!("{SUPPORT_MODULE}");
    file.items.push(syn::parse_quote! {
        /// Helpers shared by the operation code (see the generator's bytes stage).
        mod #support {
            #helper
        }
    });
    Ok(())
}

#[cfg(test)]
#[path = "bytes_ops_tests.rs"]
mod tests;
