//! Stage 5b: drop the struct builders (`types::builder::X`) nobody can reach from a request.
//!
//! progenitor's builder interface turns on typify's struct builders for *every* struct: a
//! builder type with a setter per field, `Default`, `TryFrom<builder::X> for X` and
//! `From<X> for builder::X`, plus `X::builder()`. An operation builder only takes them for
//! its request body (`body_map`), and a caller building a request needs them for the types
//! that request contains. For a type only ever received (a transaction, a balance, a
//! `_links` object) the builder is dead code that still has to be expanded and
//! type-checked: in the Berlin Group 1.3.12 crate the struct builders were a fifth of the
//! expanded code, and most of them were for response types.
//!
//! The stage keeps the builders of every struct reachable from an operation's parameters or
//! request body (field by field, transitively) and removes the rest. With
//! `struct_builders = "all"` in `bank.toml` (or the positional interface, which has none) the
//! code is left as progenitor wrote it.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet};

/// Which typify struct builders the crate keeps (builder interface only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StructBuilders {
    /// Builders for the structs a request can contain (default).
    #[default]
    Requests,
    /// A builder for every struct, as progenitor writes it.
    All,
}

/// Removes the struct builders of every struct not reachable from a request; returns how
/// many were removed. A file without an operation `builder` module (positional interface)
/// or without `types::builder` is left alone.
pub fn prune_struct_builders(file: &mut syn::File) -> usize {
    let Some(types) = module(&file.items, "types") else {
        return 0;
    };
    let Some(operations) = module(&file.items, "builder") else {
        return 0;
    };
    let names = type_items(types);
    let mut roots = BTreeSet::new();
    for item in operations {
        if let syn::Item::Struct(s) = item {
            mentioned(s.fields.to_token_stream(), &names, &mut roots);
        }
    }
    let keep = closure(roots, &names);
    let Some(types) = module_mut(&mut file.items, "types") else {
        return 0;
    };
    let mut removed = 0;
    if let Some(builders) = module_mut(types, "builder") {
        builders.retain(|item| match subject(item) {
            Some(name) if !keep.contains(&name) => {
                if matches!(item, syn::Item::Struct(_)) {
                    removed += 1;
                }
                false
            }
            _ => true,
        });
    }
    types.retain_mut(|item| {
        let syn::Item::Impl(imp) = item else {
            return true;
        };
        if imp.trait_.is_some() || matches!(self_name(&imp.self_ty), Some(n) if keep.contains(&n)) {
            return true;
        }
        imp.items.retain(|i| !is_builder_fn(i));
        !imp.items.is_empty()
    });
    let empty = module_mut(types, "builder").is_some_and(|b| b.is_empty());
    if empty {
        types.retain(|item| !matches!(item, syn::Item::Mod(m) if m.ident == "builder"));
    }
    removed
}

pub(super) fn module<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a Vec<syn::Item>> {
    items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

pub(super) fn module_mut<'a>(
    items: &'a mut [syn::Item],
    name: &str,
) -> Option<&'a mut Vec<syn::Item>> {
    items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

/// The types module's named items (structs, enums, aliases) and their definitions.
pub(super) fn type_items(types: &[syn::Item]) -> BTreeMap<String, TokenStream> {
    let mut names = BTreeMap::new();
    for item in types {
        let (ident, body) = match item {
            syn::Item::Struct(s) => (&s.ident, s.fields.to_token_stream()),
            syn::Item::Enum(e) => (&e.ident, e.variants.to_token_stream()),
            syn::Item::Type(t) => (&t.ident, t.ty.to_token_stream()),
            _ => continue,
        };
        names.insert(ident.to_string(), body);
    }
    names
}

/// Adds every identifier in `tokens` that names a type of the types module to `found`.
pub(super) fn mentioned(
    tokens: TokenStream,
    names: &BTreeMap<String, TokenStream>,
    found: &mut BTreeSet<String>,
) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                let ident = ident.to_string();
                if names.contains_key(&ident) {
                    found.insert(ident);
                }
            }
            TokenTree::Group(group) => mentioned(group.stream(), names, found),
            _ => {}
        }
    }
}

/// Every type reachable from `roots` through fields, variants and aliases.
pub(super) fn closure(
    roots: BTreeSet<String>,
    names: &BTreeMap<String, TokenStream>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut work: Vec<String> = roots.into_iter().collect();
    while let Some(name) = work.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let mut next = BTreeSet::new();
        if let Some(body) = names.get(&name) {
            mentioned(body.clone(), names, &mut next);
        }
        work.extend(next.into_iter().filter(|n| !seen.contains(n)));
    }
    seen
}

/// The type an item of `types::builder` belongs to: the struct, or an impl's self type.
fn subject(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Impl(imp) => self_name(&imp.self_ty),
        _ => None,
    }
}

fn self_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `pub fn builder() -> builder::X`, the entry point typify adds to each struct.
fn is_builder_fn(item: &syn::ImplItem) -> bool {
    match item {
        syn::ImplItem::Fn(f) => {
            f.sig.ident == "builder"
                && f.sig.inputs.is_empty()
                && f.sig
                    .output
                    .to_token_stream()
                    .to_string()
                    .contains("builder ::")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    /// The shape progenitor writes: types with builders, one operation taking `Req`.
    fn sample() -> syn::File {
        syn::parse2(quote! {
            pub mod types {
                pub struct Req { pub part: Part, pub list: Vec<Leaf> }
                pub struct Part { pub kind: Kind }
                pub enum Kind { A, B(Leaf) }
                pub struct Leaf { pub x: String }
                pub struct Resp { pub items: Vec<Item> }
                pub struct Item { pub x: String }
                impl Req { pub fn builder() -> builder::Req { Default::default() } }
                impl Part { pub fn builder() -> builder::Part { Default::default() } }
                impl Leaf { pub fn builder() -> builder::Leaf { Default::default() } }
                impl Resp { pub fn builder() -> builder::Resp { Default::default() } }
                impl Item { pub fn builder() -> builder::Item { Default::default() } }
                impl From<&Item> for Item { fn from(v: &Item) -> Self { v.clone() } }
                pub mod builder {
                    pub struct Req { part: Result<super::Part, String> }
                    impl Default for Req { fn default() -> Self { todo!() } }
                    impl TryFrom<Req> for super::Req { type Error = String; fn try_from(v: Req) -> Result<Self, String> { todo!() } }
                    pub struct Part { kind: Result<super::Kind, String> }
                    impl Default for Part { fn default() -> Self { todo!() } }
                    pub struct Leaf { x: Result<String, String> }
                    pub struct Resp { items: Result<Vec<super::Item>, String> }
                    impl Default for Resp { fn default() -> Self { todo!() } }
                    impl Resp { pub fn items<T>(self, v: T) -> Self { self } }
                    impl From<super::Resp> for Resp { fn from(v: super::Resp) -> Self { todo!() } }
                    pub struct Item { x: Result<String, String> }
                    impl TryFrom<Item> for super::Item { type Error = String; fn try_from(v: Item) -> Result<Self, String> { todo!() } }
                }
            }
            pub struct Client;
            impl Client { pub fn send_req(&self) -> builder::SendReq<'_> { todo!() } }
            pub mod builder {
                pub struct SendReq<'a> { client: &'a super::Client, body: Result<types::builder::Req, String> }
                impl<'a> SendReq<'a> { pub async fn send(self) -> Result<types::Resp, ()> { todo!() } }
            }
        })
        .unwrap()
    }

    fn names_in(file: &syn::File, path: &[&str]) -> Vec<String> {
        let mut items = &file.items;
        for p in path {
            items = module(items, p).unwrap();
        }
        items.iter().filter_map(subject).collect()
    }

    #[test]
    fn keeps_the_builders_a_request_reaches_and_drops_the_rest() {
        let mut file = sample();
        assert_eq!(prune_struct_builders(&mut file), 2);
        // Req (the body), Part (a field), Leaf (through Vec and the enum variant) stay;
        // Resp and Item (only in the response) go, with their impls and `builder()`.
        assert_eq!(
            names_in(&file, &["types", "builder"]),
            ["Req", "Req", "Req", "Part", "Part", "Leaf"]
        );
        let code = prettyplease::unparse(&file);
        assert!(!code.contains("builder::Resp"), "{code}");
        assert!(!code.contains("builder::Item"), "{code}");
        assert!(code.contains("impl Req {\n        pub fn builder() -> builder::Req"));
        assert!(
            code.contains("impl From<&Item> for Item"),
            "other impls stay"
        );
        assert!(
            code.contains("pub struct Resp"),
            "the types themselves stay"
        );
    }

    #[test]
    fn a_crate_without_requests_loses_the_whole_builder_module() {
        let mut file: syn::File = syn::parse2(quote! {
            pub mod types {
                pub struct Resp { pub x: String }
                impl Resp { pub fn builder() -> builder::Resp { Default::default() } }
                pub mod builder { pub struct Resp { x: Result<String, String> } }
            }
            pub mod builder {
                pub struct GetResp<'a> { client: &'a super::Client }
            }
        })
        .unwrap();
        assert_eq!(prune_struct_builders(&mut file), 1);
        assert_eq!(
            prettyplease::unparse(&file),
            prettyplease::unparse(
                &syn::parse2(quote! {
                    pub mod types { pub struct Resp { pub x: String } }
                    pub mod builder { pub struct GetResp<'a> { client: &'a super::Client } }
                })
                .unwrap()
            )
        );
    }

    #[test]
    fn the_positional_interface_is_left_alone() {
        let mut file: syn::File = syn::parse2(quote! {
            pub mod types { pub struct Resp { pub x: String } }
            impl Client { pub async fn get(&self) -> Result<types::Resp, ()> { todo!() } }
        })
        .unwrap();
        let before = prettyplease::unparse(&file);
        assert_eq!(prune_struct_builders(&mut file), 0);
        assert_eq!(prettyplease::unparse(&file), before);
    }
}
