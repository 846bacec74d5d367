//! Stage 5d: the same operation code in less of it (compile time, not behaviour).
//!
//! progenitor writes every operation out in full, and rustc's time on a generated crate is
//! mostly type checking, borrow checking and drop elaboration of those bodies. Five
//! rewrites on the syn tree keep what every operation does and shrink what rustc checks:
//!
//! - **Status arms.** `match response.status().as_u16()` arms with identical bodies (every
//!   error status decodes the same unified error type) become one arm with an or-pattern.
//!   Only literal arms are merged, and only across other literal arms, so a range or `_`
//!   arm in between keeps the order in which statuses are tried.
//! - **Field conversions.** An operation builder's `send()` unwraps each `Result<T, String>`
//!   field with its own `?`: one early return, with its own drops, per field. They become
//!   one `match` over all fields; the error is still the first failing field's, in field
//!   order.
//! - **Headers.** A run of `header_map.append("Name", x.to_string().try_into()?)` statements
//!   (optional ones inside `if let Some(value) = x`) becomes one loop over
//!   `(name, Option<String>)` pairs, appended in the same order with the same error.
//! - **Execution.** The pre-hook, `pre`/`exec`/`post` and transport-error statements of
//!   every `send()` become one call of a shared `execute`: the same statements, generic
//!   over the error type, so rustc checks them once instead of once per operation.
//! - **Setters.** Operation builder setters (`.try_into().map_err(|_| "conversion to ...")`)
//!   and typify struct builder setters (`.map_err(|e| format!("error converting supplied
//!   value for field: {e}"))`) call one shared helper instead of each carrying a closure;
//!   the messages are the same text.
//!
//! Anything not in exactly these shapes is left as progenitor wrote it. The helpers live in
//! a private module, [`SUPPORT_MODULE`], added to the crate when a rewrite uses them.
//! `operation_code = "as-generated"` in `bank.toml` turns the stage off.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use std::collections::BTreeMap;

/// Whether operation code is rewritten by this stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OperationCode {
    /// The rewrites above (default).
    #[default]
    Lean,
    /// As progenitor and typify wrote it.
    AsGenerated,
}

/// The private module holding the helpers the rewritten code calls.
pub const SUPPORT_MODULE: &str = "psd2_support";

/// Every rewrite of the stage, by its report key.
pub const REWRITES: [&str; 5] = [
    "merge-identical-status-arms",
    "one-step-field-conversions",
    "header-loop",
    "shared-request-execution",
    "shared-setter-conversion",
];

/// What the stage changed, by rewrite (report keys).
pub type Counts = BTreeMap<&'static str, usize>;

/// Rewrites the operation code of a generated file; returns how many places each rewrite
/// changed. A file with an item named [`SUPPORT_MODULE`] already is left alone.
pub fn lean_operations(file: &mut syn::File) -> Counts {
    let mut counts = Counts::new();
    let taken = file.items.iter().any(|item| match item {
        syn::Item::Mod(m) => m.ident == SUPPORT_MODULE,
        syn::Item::Fn(f) => f.sig.ident == SUPPORT_MODULE,
        _ => false,
    });
    let Some(support) = support_module().filter(|_| !taken) else {
        return counts;
    };
    // What `send()` runs between building the request and reading its status, parsed once.
    let execution = execution_statements().unwrap_or_default();
    let send = Send {
        execution: &execution,
    };
    for item in &mut file.items {
        match item {
            // Positional methods (`impl Client`) and whatever else has bodies at the top.
            syn::Item::Impl(imp) => {
                for f in impl_fns(imp) {
                    rewrite_body(&mut f.block, None, &mut counts);
                }
            }
            syn::Item::Mod(m) if m.ident == "builder" => {
                for imp in mod_impls(m) {
                    for f in impl_fns(imp) {
                        if f.sig.ident == "send" {
                            rewrite_body(&mut f.block, Some(&send), &mut counts);
                        } else {
                            operation_setter(f, &mut counts);
                        }
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "types" => {
                if let Some((_, items)) = m.content.as_mut() {
                    for item in items {
                        if let syn::Item::Mod(b) = item
                            && b.ident == "builder"
                        {
                            for imp in mod_impls(b) {
                                for f in impl_fns(imp) {
                                    struct_setter(f, &mut counts);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let uses_support = [
        "one-step-field-conversions",
        "shared-setter-conversion",
        "shared-request-execution",
    ]
    .iter()
    .any(|k| counts.get(k).is_some_and(|n| *n > 0));
    if uses_support {
        file.items.push(support);
    }
    counts
}

fn mod_impls(m: &mut syn::ItemMod) -> impl Iterator<Item = &mut syn::ItemImpl> {
    m.content
        .as_mut()
        .map(|(_, items)| items.as_mut_slice())
        .unwrap_or_default()
        .iter_mut()
        .filter_map(|item| match item {
            syn::Item::Impl(imp) => Some(imp),
            _ => None,
        })
}

fn impl_fns(imp: &mut syn::ItemImpl) -> impl Iterator<Item = &mut syn::ImplItemFn> {
    imp.items.iter_mut().filter_map(|item| match item {
        syn::ImplItem::Fn(f) => Some(f),
        _ => None,
    })
}

fn bump(counts: &mut Counts, key: &'static str, by: usize) {
    if by > 0 {
        *counts.entry(key).or_default() += by;
    }
}

fn tokens(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string()
}

/// Code built by `quote!` below from parsed parts; `None` (the rewrite is skipped) if it
/// does not parse.
fn parse<T: syn::parse::Parse>(t: TokenStream) -> Option<T> {
    syn::parse2(t).ok()
}

/// What only an operation builder's `send()` gets rewritten with.
struct Send<'a> {
    /// [`execution_statements`], as token strings (empty if they did not parse).
    execution: &'a [String],
}

/// The top-level statements of one body: headers, field conversions and execution (in
/// `send`) and status arms.
fn rewrite_body(block: &mut syn::Block, send: Option<&Send<'_>>, counts: &mut Counts) {
    if let Some(send) = send {
        let n = one_step_conversions(&mut block.stmts);
        bump(counts, "one-step-field-conversions", n);
        if shared_execution(&mut block.stmts, send.execution) {
            bump(counts, "shared-request-execution", 1);
        }
    }
    let n = header_loops(&mut block.stmts);
    bump(counts, "header-loop", n);
    for stmt in &mut block.stmts {
        if let syn::Stmt::Expr(syn::Expr::Match(m), _) = stmt
            && tokens(&m.expr) == "response . status () . as_u16 ()"
        {
            let n = merge_arms(&mut m.arms);
            bump(counts, "merge-identical-status-arms", n);
        }
    }
}

/// The statements of `send()` between building the request and reading the response's
/// status, exactly as progenitor writes them with the `psd2_hooks` pre-hook (the operation
/// id is a placeholder).
fn execution_statements() -> Option<Vec<String>> {
    let block: syn::Block = parse(quote!({
        let info = OperationInfo {
            operation_id: "__operation_id",
        };
        match (psd2_hooks::pre_request)(&client.inner, &mut request).await {
            Ok(_) => (),
            Err(e) => return Err(Error::Custom(e.to_string())),
        }
        client.pre(&mut request, &info).await?;
        let result = client.exec(request, &info).await;
        client.post(&result, &info).await?;
        let response = result?;
    }))?;
    Some(block.stmts.iter().map(tokens).collect())
}

/// Replaces the hook, execution and transport-error statements of `send()` with one call
/// of the shared `execute` (the same statements, generic over the error type, so rustc
/// checks them once instead of once per operation); true when it did.
fn shared_execution(stmts: &mut Vec<syn::Stmt>, expected: &[String]) -> bool {
    if expected.is_empty() {
        return false;
    }
    let Some(start) = stmts
        .iter()
        .position(|s| tokens(s).starts_with("let info = OperationInfo { operation_id :"))
    else {
        return false;
    };
    let Some(found) = stmts.get(start..start + expected.len()) else {
        return false;
    };
    let syn::Stmt::Local(info) = &found[0] else {
        return false;
    };
    let Some(syn::Expr::Struct(init)) = info.init.as_ref().map(|i| &*i.expr) else {
        return false;
    };
    let Some(syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(operation_id),
        ..
    })) = init.fields.first().map(|f| &f.expr)
    else {
        return false;
    };
    let placeholder = format!("{:?}", operation_id.value());
    let same = found
        .iter()
        .zip(expected)
        .all(|(stmt, want)| *want == tokens(stmt).replace(&placeholder, "\"__operation_id\""));
    if !same {
        return false;
    }
    let support = format_ident!("{SUPPORT_MODULE}");
    let operation_id = operation_id.clone();
    let Some(call) = parse::<syn::Stmt>(quote! {
        let response = super::#support::execute(client, request, #operation_id).await?;
    }) else {
        return false;
    };
    stmts.splice(start..start + expected.len(), [call]);
    true
}

/// Merges literal arms with identical bodies into the first of them; returns how many arms
/// went. An arm only moves up past literal arms (literals never overlap).
fn merge_arms(arms: &mut Vec<syn::Arm>) -> usize {
    let before = arms.len();
    let mut out: Vec<syn::Arm> = Vec::with_capacity(arms.len());
    // Index in `out` of the first arm after which every arm is literal.
    let mut literal_run_start = 0;
    for arm in arms.drain(..) {
        if !is_literal_pattern(&arm.pat) || !arm.attrs.is_empty() {
            out.push(arm);
            literal_run_start = out.len();
            continue;
        }
        let body = tokens(&arm.body);
        let target = out[literal_run_start..]
            .iter()
            .position(|o| tokens(&o.body) == body)
            .map(|i| i + literal_run_start);
        match target {
            Some(i) => {
                let first =
                    std::mem::replace(&mut out[i].pat, syn::Pat::Verbatim(TokenStream::new()));
                let mut cases: Vec<syn::Pat> = match first {
                    syn::Pat::Or(or) => or.cases.into_iter().collect(),
                    pat => vec![pat],
                };
                cases.push(arm.pat);
                out[i].pat = syn::Pat::Or(syn::PatOr {
                    attrs: Vec::new(),
                    leading_vert: None,
                    cases: cases.into_iter().collect(),
                });
            }
            None => out.push(arm),
        }
    }
    *arms = out;
    before - arms.len()
}

fn is_literal_pattern(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Lit(_) => true,
        syn::Pat::Or(or) => {
            or.attrs.is_empty() && or.cases.iter().all(|p| matches!(p, syn::Pat::Lit(_)))
        }
        _ => false,
    }
}

/// `let x = x.map_err(Error::InvalidRequest)?;` → `Some("x")`.
fn field_conversion(stmt: &syn::Stmt) -> Option<syn::Ident> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(p) = &local.pat else {
        return None;
    };
    if p.by_ref.is_some() || p.mutability.is_some() || p.subpat.is_some() {
        return None;
    }
    let name = &p.ident;
    let expected = format!("let {name} = {name} . map_err (Error :: InvalidRequest) ? ;");
    (tokens(local) == expected).then(|| name.clone())
}

/// Replaces each run of two or more field conversions with one `match`; returns how many
/// runs.
fn one_step_conversions(stmts: &mut Vec<syn::Stmt>) -> usize {
    let support = format_ident!("{SUPPORT_MODULE}");
    replace_runs(stmts, field_conversion, |names| {
        let oks = names.iter().map(|n| quote!(::std::result::Result::Ok(#n)));
        let errs = names.iter().map(|n| quote!(#n.err()));
        parse(quote! {
            let (#(#names,)*) = match (#(#names,)*) {
                (#(#oks,)*) => (#(#names,)*),
                (#(#names,)*) => {
                    return ::std::result::Result::Err(Error::InvalidRequest(
                        super::#support::first_error([#(#errs,)*]),
                    ));
                }
            };
        })
    })
}

/// One header append: its name literal and what is appended.
struct HeaderAppend {
    name: syn::LitStr,
    /// `Some(x)` for `x.to_string()` (required), `None` for an `if let Some(value) = x`.
    value: HeaderValue,
}

enum HeaderValue {
    Required(syn::Ident),
    Optional(syn::Ident),
}

/// `header_map.append("Name", <receiver>.to_string().try_into()?)` → (name, receiver).
fn append_call(expr: &syn::Expr) -> Option<(syn::LitStr, syn::Ident)> {
    let syn::Expr::MethodCall(call) = expr else {
        return None;
    };
    if call.method != "append" || tokens(&call.receiver) != "header_map" || call.args.len() != 2 {
        return None;
    }
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(name),
        ..
    }) = &call.args[0]
    else {
        return None;
    };
    let syn::Expr::Try(t) = &call.args[1] else {
        return None;
    };
    let syn::Expr::MethodCall(try_into) = &*t.expr else {
        return None;
    };
    let syn::Expr::MethodCall(to_string) = &*try_into.receiver else {
        return None;
    };
    let syn::Expr::Path(receiver) = &*to_string.receiver else {
        return None;
    };
    let receiver = receiver.path.get_ident()?;
    let shape = format!("{receiver} . to_string () . try_into () ?");
    (tokens(&call.args[1]) == shape).then(|| (name.clone(), receiver.clone()))
}

fn header_append(stmt: &syn::Stmt) -> Option<HeaderAppend> {
    match stmt {
        syn::Stmt::Expr(expr, Some(_)) => {
            let (name, receiver) = append_call(expr)?;
            Some(HeaderAppend {
                name,
                value: HeaderValue::Required(receiver),
            })
        }
        syn::Stmt::Expr(syn::Expr::If(e), None) => {
            if e.else_branch.is_some() || !e.attrs.is_empty() || e.then_branch.stmts.len() != 1 {
                return None;
            }
            let syn::Expr::Let(cond) = &*e.cond else {
                return None;
            };
            let syn::Expr::Path(optional) = &*cond.expr else {
                return None;
            };
            let optional = optional.path.get_ident()?;
            if tokens(&cond.pat) != "Some (value)" {
                return None;
            }
            let syn::Stmt::Expr(inner, Some(_)) = &e.then_branch.stmts[0] else {
                return None;
            };
            let (name, receiver) = append_call(inner)?;
            (receiver == "value").then(|| HeaderAppend {
                name,
                value: HeaderValue::Optional(optional.clone()),
            })
        }
        _ => None,
    }
}

/// Replaces each run of two or more header appends with one loop; returns how many runs.
fn header_loops(stmts: &mut Vec<syn::Stmt>) -> usize {
    replace_runs(stmts, header_append, |appends| {
        let pairs = appends.iter().map(|a| {
            let name = &a.name;
            match &a.value {
                HeaderValue::Required(x) => {
                    quote!((#name, ::std::option::Option::Some(#x.to_string())))
                }
                HeaderValue::Optional(x) => quote!((#name, #x.map(|value| value.to_string()))),
            }
        });
        parse(quote! {
            for (name, value) in [#(#pairs,)*] {
                if let ::std::option::Option::Some(value) = value {
                    header_map.append(name, value.try_into()?);
                }
            }
        })
    })
}

/// Replaces every run of two or more consecutive statements `matches` recognizes with the
/// one statement `build` makes of them; returns how many runs were replaced.
fn replace_runs<T>(
    stmts: &mut Vec<syn::Stmt>,
    matches: impl Fn(&syn::Stmt) -> Option<T>,
    build: impl Fn(&[&T]) -> Option<syn::Stmt>,
) -> usize {
    let mut out = Vec::with_capacity(stmts.len());
    let mut run: Vec<(syn::Stmt, T)> = Vec::new();
    let mut replaced = 0;
    let mut flush = |run: &mut Vec<(syn::Stmt, T)>, out: &mut Vec<syn::Stmt>| {
        let built = if run.len() >= 2 {
            build(&run.iter().map(|(_, t)| t).collect::<Vec<_>>())
        } else {
            None
        };
        match built {
            Some(stmt) => {
                out.push(stmt);
                run.clear();
                replaced += 1;
            }
            None => out.extend(run.drain(..).map(|(s, _)| s)),
        }
    };
    for stmt in stmts.drain(..) {
        match matches(&stmt) {
            Some(t) => run.push((stmt, t)),
            None => {
                flush(&mut run, &mut out);
                out.push(stmt);
            }
        }
    }
    flush(&mut run, &mut out);
    *stmts = out;
    replaced
}

/// The single assignment a setter body starts with, `self.<field> = <expr>;`, followed by
/// `self`.
fn setter_assignment(f: &mut syn::ImplItemFn) -> Option<&mut syn::Expr> {
    if f.block.stmts.len() != 2 || tokens(&f.block.stmts[1]) != "self" {
        return None;
    }
    let syn::Stmt::Expr(syn::Expr::Assign(assign), Some(_)) = &mut f.block.stmts[0] else {
        return None;
    };
    let syn::Expr::Field(field) = &*assign.left else {
        return None;
    };
    if tokens(&field.base) != "self" {
        return None;
    }
    Some(&mut assign.right)
}

/// `<receiver>.map_err(|<input>| <body>)` (the body braced or not) → (receiver, body).
fn map_err_closure<'a>(expr: &'a syn::Expr, input: &str) -> Option<(String, &'a syn::Expr)> {
    let syn::Expr::MethodCall(map_err) = expr else {
        return None;
    };
    if map_err.method != "map_err" || map_err.args.len() != 1 {
        return None;
    }
    let syn::Expr::Closure(closure) = &map_err.args[0] else {
        return None;
    };
    if tokens(&closure.inputs) != input {
        return None;
    }
    let body = match &*closure.body {
        syn::Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
            syn::Stmt::Expr(e, None) => e,
            _ => return None,
        },
        e => e,
    };
    Some((tokens(&map_err.receiver), body))
}

/// Replaces a setter's right-hand side with `code`; counts it.
fn replace_setter(right: &mut syn::Expr, code: TokenStream, counts: &mut Counts) {
    if let Some(rewritten) = parse(code) {
        *right = rewritten;
        bump(counts, "shared-setter-conversion", 1);
    }
}

/// `value.try_into()[.map(Some)].map_err(|_| "msg".to_string())` →
/// `super::psd2_support::convert(value, "msg")[.map(Some)]`.
fn operation_setter(f: &mut syn::ImplItemFn, counts: &mut Counts) {
    let Some(right) = setter_assignment(f) else {
        return;
    };
    let Some((converted, body)) = map_err_closure(right, "_") else {
        return;
    };
    let syn::Expr::MethodCall(to_string) = body else {
        return;
    };
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(message),
        ..
    }) = &*to_string.receiver
    else {
        return;
    };
    if to_string.method != "to_string" || !to_string.args.is_empty() {
        return;
    }
    let support = format_ident!("{SUPPORT_MODULE}");
    let code = match converted.as_str() {
        "value . try_into ()" => quote!(super::#support::convert(value, #message)),
        "value . try_into () . map (Some)" => {
            quote!(super::#support::convert(value, #message).map(Some))
        }
        _ => return,
    };
    replace_setter(right, code, counts);
}

/// `value.try_into().map_err(|e| format!("error converting supplied value for F: {e}"))` →
/// `super::super::psd2_support::convert_field(value, "F")`.
fn struct_setter(f: &mut syn::ImplItemFn, counts: &mut Counts) {
    let Some(right) = setter_assignment(f) else {
        return;
    };
    let Some((converted, body)) = map_err_closure(right, "e") else {
        return;
    };
    if converted != "value . try_into ()" {
        return;
    }
    let syn::Expr::Macro(mac) = body else {
        return;
    };
    if tokens(&mac.mac.path) != "format" {
        return;
    }
    let Ok(syn::Lit::Str(template)) = syn::parse2::<syn::Lit>(mac.mac.tokens.clone()) else {
        return;
    };
    let template = template.value();
    let Some(field) = template
        .strip_prefix("error converting supplied value for ")
        .and_then(|rest| rest.strip_suffix(": {e}"))
    else {
        return;
    };
    if field.contains(['{', '}']) {
        return;
    }
    let support = format_ident!("{SUPPORT_MODULE}");
    let code = quote!(super::super::#support::convert_field(value, #field));
    replace_setter(right, code, counts);
}

/// The helpers the rewritten code calls.
fn support_module() -> Option<syn::Item> {
    let support = format_ident!("{SUPPORT_MODULE}");
    parse(quote! {
        /// Helpers shared by the operation code (see the generator's lean-operations stage).
        mod #support {
            /// The first error among an operation builder's fields, in field order.
            pub(super) fn first_error<const N: usize>(
                errors: [::std::option::Option<::std::string::String>; N],
            ) -> ::std::string::String {
                errors.into_iter().flatten().next().unwrap_or_default()
            }

            /// An operation builder setter's conversion; `failure` is its message.
            pub(super) fn convert<V, T>(
                value: V,
                failure: &str,
            ) -> ::std::result::Result<T, ::std::string::String>
            where
                V: ::std::convert::TryInto<T>,
            {
                value.try_into().map_err(|_| failure.to_string())
            }

            /// Runs the request through the `psd2_hooks` pre-hook and the client's hooks and
            /// sends it: what every operation's `send()` does between building the request
            /// and reading the response's status.
            pub(super) async fn execute<E>(
                client: &super::Client,
                mut request: ::reqwest::Request,
                operation_id: &'static str,
            ) -> ::std::result::Result<::reqwest::Response, progenitor_client::Error<E>> {
                use progenitor_client::ClientHooks as _;
                let info = progenitor_client::OperationInfo { operation_id };
                match (psd2_hooks::pre_request)(&client.inner, &mut request).await {
                    Ok(_) => {}
                    Err(e) => return Err(progenitor_client::Error::Custom(e.to_string())),
                }
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                Ok(result?)
            }

            /// A struct builder setter's conversion, naming the field and the cause.
            pub(super) fn convert_field<V, T>(
                value: V,
                field: &str,
            ) -> ::std::result::Result<T, ::std::string::String>
            where
                V: ::std::convert::TryInto<T>,
                V::Error: ::std::fmt::Display,
            {
                value
                    .try_into()
                    .map_err(|e| format!("error converting supplied value for {field}: {e}"))
            }
        }
    })
}

#[cfg(test)]
#[path = "lean_tests.rs"]
mod tests;
