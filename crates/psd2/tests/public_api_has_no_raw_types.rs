//! The facade's public API names no generated raw type.
//!
//! Reads the crate's own source with `syn` (no rustdoc, no nightly) and walks its module tree
//! from `lib.rs` as the compiler does (`mod x;` files, `#[path]`, inline modules; modules
//! under `#[cfg(test)]` are skipped). A *raw name* is a generated crate (`psd2_raw_*`),
//! `progenitor_client`, or any name imported from them (`use psd2_raw_x::types as raw`
//! makes `raw` one). Fails when:
//! - a module reachable from the crate root (every module on its path declared `pub`)
//!   declares a `pub` item whose signature, public fields, variants or type mention a raw
//!   name, or `pub use`s one;
//! - an item of an unreachable module that a reachable module's `pub use` re-exports (by
//!   name) does, or a `pub fn` of its inherent impls does;
//! - any impl of a trait other than the crate-private `FromRaw`/`TryFromRaw` mentions a raw
//!   name in its trait or self type (every impl of a public trait is public: `impl
//!   TryFrom<&raw::Account> for Account` would put the raw type in the API).
//!
//! It must also see the modules it is about, so it fails when the mapping modules or the
//! crate-private conversion traits are not found.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use quote::ToTokens;
use syn::{Attribute, ImplItem, Item, UseTree, Visibility};

const RAW_CRATES: [&str; 5] = [
    "psd2_raw_berlingroup",
    "psd2_raw_handelsbanken",
    "psd2_raw_openpayments",
    "psd2_raw_swedbank",
    "progenitor_client",
];
const PRIVATE_CONVERSIONS: [&str; 2] = ["FromRaw", "TryFromRaw"];

/// One parsed module: where it is, whether it is reachable, its items.
struct Module {
    path: String,
    reachable: bool,
    items: Vec<Item>,
}

fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let text = a.meta.to_token_stream().to_string();
            text.contains("test") && !text.contains("not (test")
        }
    })
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Collects every module of the crate (files and inline), skipping `#[cfg(test)]` ones.
fn collect(
    file: &Path,
    dir: &Path,
    items: Vec<Item>,
    path: String,
    reachable: bool,
    out: &mut Vec<Module>,
) {
    for item in &items {
        let Item::Mod(m) = item else { continue };
        if is_cfg_test(&m.attrs) {
            continue;
        }
        let child_reachable = reachable && matches!(m.vis, Visibility::Public(_));
        let child_path = format!("{path}::{}", m.ident);
        let name = m.ident.to_string();
        if let Some((_, inner)) = &m.content {
            collect(
                file,
                &dir.join(&name),
                inner.clone(),
                child_path,
                child_reachable,
                out,
            );
            continue;
        }
        let source = match path_attr(&m.attrs) {
            Some(p) => file.parent().unwrap().join(p),
            None if dir.join(format!("{name}.rs")).exists() => dir.join(format!("{name}.rs")),
            None => dir.join(&name).join("mod.rs"),
        };
        let text = std::fs::read_to_string(&source)
            .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        let child_dir = if source.file_name().is_some_and(|n| n == "mod.rs") {
            source.parent().unwrap().to_path_buf()
        } else {
            source.with_extension("")
        };
        collect(
            &source,
            &child_dir,
            parsed.items,
            child_path,
            child_reachable,
            out,
        );
    }
    out.push(Module {
        path,
        reachable,
        items,
    });
}

/// The names a `use` tree brings in from a raw crate (renames included).
fn raw_imports(tree: &UseTree, from_raw: bool, out: &mut BTreeSet<String>) {
    match tree {
        UseTree::Path(p) => {
            let raw = from_raw || RAW_CRATES.contains(&p.ident.to_string().as_str());
            raw_imports(&p.tree, raw, out);
        }
        UseTree::Name(n) if from_raw => {
            out.insert(n.ident.to_string());
        }
        UseTree::Rename(r) if from_raw || RAW_CRATES.contains(&r.ident.to_string().as_str()) => {
            out.insert(r.rename.to_string());
        }
        UseTree::Group(g) => g.items.iter().for_each(|t| raw_imports(t, from_raw, out)),
        _ => {}
    }
}

/// The leaf names a `pub use` re-exports.
fn use_leaves(tree: &UseTree, out: &mut BTreeSet<String>) {
    match tree {
        UseTree::Path(p) => use_leaves(&p.tree, out),
        UseTree::Name(n) => {
            out.insert(n.ident.to_string());
        }
        UseTree::Rename(r) => {
            out.insert(r.ident.to_string());
        }
        UseTree::Group(g) => g.items.iter().for_each(|t| use_leaves(t, out)),
        UseTree::Glob(_) => {}
    }
}

/// The raw names `tokens` mentions, as identifiers.
fn mentions(tokens: &dyn ToTokens, raw: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    visit_idents(tokens.to_token_stream(), &mut |ident| {
        if raw.contains(ident) && !found.iter().any(|f| f == ident) {
            found.push(ident.to_owned());
        }
    });
    found
}

fn visit_idents(stream: proc_macro2::TokenStream, f: &mut dyn FnMut(&str)) {
    for tree in stream {
        match tree {
            proc_macro2::TokenTree::Ident(i) => f(&i.to_string()),
            proc_macro2::TokenTree::Group(g) => visit_idents(g.stream(), f),
            _ => {}
        }
    }
}

/// What a public item exposes: signature, public fields, variants, types (never bodies).
fn exposed(item: &Item) -> Option<(String, proc_macro2::TokenStream)> {
    let public = |v: &Visibility| matches!(v, Visibility::Public(_));
    Some(match item {
        Item::Fn(f) if public(&f.vis) => (f.sig.ident.to_string(), f.sig.to_token_stream()),
        Item::Struct(s) if public(&s.vis) => {
            let mut t = s.generics.to_token_stream();
            for field in s.fields.iter().filter(|f| public(&f.vis)) {
                field.ty.to_tokens(&mut t);
            }
            (s.ident.to_string(), t)
        }
        Item::Enum(e) if public(&e.vis) => (e.ident.to_string(), e.to_token_stream()),
        Item::Type(t) if public(&t.vis) => (t.ident.to_string(), t.to_token_stream()),
        Item::Const(c) if public(&c.vis) => (c.ident.to_string(), c.ty.to_token_stream()),
        Item::Static(s) if public(&s.vis) => (s.ident.to_string(), s.ty.to_token_stream()),
        Item::Trait(t) if public(&t.vis) => (t.ident.to_string(), t.to_token_stream()),
        Item::Use(u) if public(&u.vis) => ("pub use".to_owned(), u.tree.to_token_stream()),
        _ => return None,
    })
}

fn self_ident(imp: &syn::ItemImpl) -> Option<String> {
    match &*imp.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The problems found in `modules`, and how many crate-private conversion impls were seen.
fn check(modules: &[Module]) -> (Vec<String>, usize) {
    let mut raw: BTreeSet<String> = RAW_CRATES.iter().map(|s| (*s).to_owned()).collect();
    let mut reexported = BTreeSet::new();
    for module in modules {
        for item in &module.items {
            if let Item::Use(u) = item {
                raw_imports(&u.tree, false, &mut raw);
                if module.reachable && matches!(u.vis, Visibility::Public(_)) {
                    use_leaves(&u.tree, &mut reexported);
                }
            }
        }
    }

    let mut problems = Vec::new();
    let mut seen_private_conversions = 0;
    for module in modules {
        for item in &module.items {
            if let Some((name, tokens)) = exposed(item) {
                let counts = module.reachable || reexported.contains(&name);
                let found = mentions(&tokens, &raw);
                if counts && !found.is_empty() {
                    problems.push(format!("{}: pub {name} names {found:?}", module.path));
                }
            }
            let Item::Impl(imp) = item else { continue };
            if is_cfg_test(&imp.attrs) {
                continue;
            }
            match &imp.trait_ {
                Some((trait_path, _)) => {
                    let trait_name = trait_path.segments.last().unwrap().ident.to_string();
                    if PRIVATE_CONVERSIONS.contains(&trait_name.as_str()) {
                        seen_private_conversions += 1;
                        continue;
                    }
                    let mut t = trait_path.to_token_stream();
                    imp.self_ty.to_tokens(&mut t);
                    let found = mentions(&t, &raw);
                    if !found.is_empty() {
                        problems.push(format!(
                            "{}: impl {trait_name} for {} names {found:?}",
                            module.path,
                            imp.self_ty.to_token_stream()
                        ));
                    }
                }
                None => {
                    let Some(ty) = self_ident(imp) else { continue };
                    if !(module.reachable || reexported.contains(&ty)) {
                        continue;
                    }
                    for f in imp.items.iter().filter_map(|i| match i {
                        ImplItem::Fn(f) if matches!(f.vis, Visibility::Public(_)) => Some(f),
                        _ => None,
                    }) {
                        let found = mentions(&f.sig, &raw);
                        if !found.is_empty() {
                            problems.push(format!(
                                "{}: {ty}::{} names {found:?}",
                                module.path, f.sig.ident
                            ));
                        }
                    }
                }
            }
        }
    }
    (problems, seen_private_conversions)
}

#[test]
fn no_raw_type_in_the_public_api() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = src.join("lib.rs");
    let parsed = syn::parse_file(&std::fs::read_to_string(&lib).unwrap()).unwrap();
    let mut modules = Vec::new();
    collect(&lib, &src, parsed.items, "psd2".into(), true, &mut modules);

    let (problems, seen_private_conversions) = check(&modules);

    let paths: Vec<&str> = modules.iter().map(|m| m.path.as_str()).collect();
    // Swedbank is served by the generic Berlin Group adapter and its mapping.
    for bank in ["handelsbanken", "openpayments", "berlingroup"] {
        let mapping = format!("psd2::adapters::{bank}::mapping");
        let module = modules
            .iter()
            .find(|m| m.path == mapping)
            .unwrap_or_else(|| panic!("{mapping} not found in {paths:?}"));
        assert!(
            !module.reachable,
            "{mapping} is reachable from the crate root"
        );
    }
    assert!(
        seen_private_conversions >= 20,
        "only {seen_private_conversions} FromRaw/TryFromRaw impls seen"
    );
    assert!(
        problems.is_empty(),
        "raw generated types in the public API:\n{}",
        problems.join("\n")
    );
}

/// The checker itself finds what it is for: a public function taking a raw type, a public
/// `TryFrom` impl from one and a `pub use` of a raw crate; a crate-private conversion and a
/// private function are fine.
#[test]
fn the_check_sees_a_raw_type_when_there_is_one() {
    let file: syn::File = syn::parse_str(
        "use psd2_raw_swedbank::types as raw;\n\
         pub fn exposed(a: &raw::Account) {}\n\
         fn private(a: &raw::Account) {}\n\
         impl TryFrom<&raw::Account> for Account { }\n\
         impl TryFromRaw<&raw::Account> for Account { }\n\
         pub use psd2_raw_openpayments as again;",
    )
    .unwrap();
    let modules = [Module {
        path: "psd2".into(),
        reachable: true,
        items: file.items,
    }];
    let (problems, private_conversions) = check(&modules);
    assert_eq!(private_conversions, 1);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].contains("pub exposed names [\"raw\"]"),
        "{problems:#?}"
    );
    assert!(problems[1].contains("impl TryFrom"), "{problems:#?}");
    assert!(
        problems[2].contains("psd2_raw_openpayments"),
        "{problems:#?}"
    );
}
