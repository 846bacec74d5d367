//! Stage 5c: each type derives the serde direction the client uses; the other is a feature.
//!
//! typify derives both `Serialize` and `Deserialize` on every type. The client only ever
//! serializes what it sends (bodies, query and header values) and deserializes what it
//! receives (success and error bodies). A type only received still gets a `Serialize` impl,
//! and a type only sent a `Deserialize` impl; in the Berlin Group 1.3.12 crate those unused
//! directions were about a tenth of the crate's compile time (`docs/performance.md`).
//!
//! The stage finds the types a request reaches (operation builder fields, or positional
//! method parameters) and the types a response reaches (the `ResponseValue<T>` and
//! `Error<E>` of each operation), each closed over fields and variants. For a type only a
//! response reaches, `Serialize` moves behind the crate feature [`SERIALIZE_RESPONSES`];
//! for a type only a request reaches, `Deserialize` moves behind [`DESERIALIZE_REQUESTS`].
//! Types both reach, or neither, keep both derives. (The facade, which re-reads a bank's
//! error body from its JSON, turns [`SERIALIZE_RESPONSES`] on.) Turning both features on gives back the
//! API typify writes. `serde_directions = "both"` in `bank.toml` turns the stage off.

use crate::pipeline::prune::{closure, mentioned, module, module_mut, type_items};
use proc_macro2::TokenStream;
use quote::ToTokens;
use std::collections::BTreeSet;

/// The crate feature that adds `Serialize` to the types only responses contain.
pub const SERIALIZE_RESPONSES: &str = "serialize-responses";
/// The crate feature that adds `Deserialize` to the types only requests contain.
pub const DESERIALIZE_REQUESTS: &str = "deserialize-requests";

/// Which serde derives the generated types carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SerdeDirections {
    /// The direction the client uses; the other behind a crate feature (default).
    #[default]
    Used,
    /// Both on every type, as typify writes them.
    Both,
}

/// How many types lost a derive (or a hand-written impl) to a feature.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Gated {
    /// `Serialize` behind [`SERIALIZE_RESPONSES`].
    pub serialize: usize,
    /// `Deserialize` behind [`DESERIALIZE_REQUESTS`].
    pub deserialize: usize,
}

/// Moves the unused serde direction of each type behind its feature.
pub fn gate_serde_directions(file: &mut syn::File) -> Gated {
    let mut gated = Gated::default();
    let Some(types) = module(&file.items, "types") else {
        return gated;
    };
    let names = type_items(types);
    let (mut requests, mut responses) = (BTreeSet::new(), BTreeSet::new());
    let mut operation = |inputs: TokenStream, output: &syn::ReturnType| {
        mentioned(inputs, &names, &mut requests);
        mentioned(output.to_token_stream(), &names, &mut responses);
    };
    // Positional methods (`impl Client { pub async fn op(&self, x: T) -> Result<..> }`).
    for item in &file.items {
        if let syn::Item::Impl(imp) = item {
            for f in fns(&imp.items) {
                operation(f.sig.inputs.to_token_stream(), &f.sig.output);
            }
        }
    }
    // Operation builders: fields are the request, `send()`'s return type the response.
    if let Some(builders) = module(&file.items, "builder") {
        for item in builders {
            match item {
                syn::Item::Struct(s) => {
                    operation(s.fields.to_token_stream(), &syn::ReturnType::Default);
                }
                syn::Item::Impl(imp) => {
                    for f in fns(&imp.items).filter(|f| f.sig.ident == "send") {
                        operation(TokenStream::new(), &f.sig.output);
                    }
                }
                _ => {}
            }
        }
    }
    let requests = closure(requests, &names);
    let responses = closure(responses, &names);
    // A type that keeps a derive needs that derive on every type it contains. Types the
    // operations never mention (e.g. reached only through a response header's schema,
    // which progenitor does not type) keep both derives, so whatever they contain must
    // keep both too, even when only a response (or only a request) reaches it otherwise.
    let keeps = |dropped_from: &BTreeSet<String>, only_not: &BTreeSet<String>| {
        let roots = names
            .keys()
            .filter(|n| !dropped_from.contains(*n) || only_not.contains(*n))
            .cloned()
            .collect();
        closure(roots, &names)
    };
    let keeps_serialize = keeps(&responses, &requests);
    let keeps_deserialize = keeps(&requests, &responses);
    let Some(types) = module_mut(&mut file.items, "types") else {
        return gated;
    };
    for item in types.iter_mut() {
        let Some(name) = type_name(item) else {
            continue;
        };
        let (sent, received) = (requests.contains(&name), responses.contains(&name));
        let (drop, feature, count) = match (sent, received) {
            (true, false) if !keeps_deserialize.contains(&name) => {
                ("Deserialize", DESERIALIZE_REQUESTS, &mut gated.deserialize)
            }
            (false, true) if !keeps_serialize.contains(&name) => {
                ("Serialize", SERIALIZE_RESPONSES, &mut gated.serialize)
            }
            _ => continue,
        };
        if gate(item, drop, feature) {
            *count += 1;
        }
    }
    gated
}

fn fns(items: &[syn::ImplItem]) -> impl Iterator<Item = &syn::ImplItemFn> {
    items.iter().filter_map(|item| match item {
        syn::ImplItem::Fn(f) => Some(f),
        _ => None,
    })
}

/// The type a derive or a serde impl belongs to.
fn type_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        syn::Item::Impl(imp) => match &*imp.self_ty {
            syn::Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                Some(p.path.segments[0].ident.to_string())
            }
            _ => None,
        },
        _ => None,
    }
}

/// Is `path` serde's `trait_name` (`::serde::X`, `serde::X`)?
fn is_serde(path: &syn::Path, trait_name: &str) -> bool {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.len() == 2 && segments[0] == "serde" && segments[1] == trait_name
}

/// Moves `trait_name` of one struct, enum or hand-written impl behind `feature`; false when
/// the item has none (or would be left with serde attributes but no serde derive).
fn gate(item: &mut syn::Item, trait_name: &str, feature: &str) -> bool {
    let attrs = match item {
        syn::Item::Struct(s) => &mut s.attrs,
        syn::Item::Enum(e) => &mut e.attrs,
        syn::Item::Impl(imp) => {
            let Some((path, _)) = &imp.trait_ else {
                return false;
            };
            if !is_serde(path, trait_name) {
                return false;
            }
            imp.attrs
                .push(syn::parse_quote!(#[cfg(feature = #feature)]));
            return true;
        }
        _ => return false,
    };
    for at in 0..attrs.len() {
        if !attrs[at].path().is_ident("derive") {
            continue;
        }
        let Ok(paths) = attrs[at].parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            continue;
        };
        let Some(position) = paths.iter().position(|p| is_serde(p, trait_name)) else {
            continue;
        };
        let other = if trait_name == "Serialize" {
            "Deserialize"
        } else {
            "Serialize"
        };
        if !paths.iter().any(|p| is_serde(p, other)) {
            // The type's `#[serde(..)]` attributes need one serde derive to stay.
            return false;
        }
        let kept = paths
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != position)
            .map(|(_, p)| p);
        let moved = &paths[position];
        attrs[at] = syn::parse_quote!(#[derive(#(#kept),*)]);
        attrs.insert(
            at + 1,
            syn::parse_quote!(#[cfg_attr(feature = #feature, derive(#moved))]),
        );
        return true;
    }
    false
}

/// The `[features]` table for a crate whose code gates serde directions, or `""`.
pub fn features_toml(code: &str) -> String {
    let gates = |feature: &str| code.contains(&format!("feature = \"{feature}\""));
    if !gates(SERIALIZE_RESPONSES) && !gates(DESERIALIZE_REQUESTS) {
        return String::new();
    }
    format!(
        "\n[features]\n\
         # `Serialize` on the types only responses contain (to store or re-emit a response).\n\
         {SERIALIZE_RESPONSES} = []\n\
         # `Deserialize` on the types only requests contain (to load a request from JSON).\n\
         {DESERIALIZE_REQUESTS} = []\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    /// Each type's derive list and its gated derives, e.g. `Req: derive(Serialize, Clone)
    /// cfg_attr(deserialize-requests: Deserialize)`.
    fn derives(file: &syn::File) -> Vec<String> {
        let types = module(&file.items, "types").unwrap();
        types
            .iter()
            .filter_map(|item| {
                let (name, attrs) = match item {
                    syn::Item::Struct(s) => (s.ident.to_string(), &s.attrs),
                    syn::Item::Enum(e) => (e.ident.to_string(), &e.attrs),
                    syn::Item::Impl(i) => {
                        (format!("impl {}", i.self_ty.to_token_stream()), &i.attrs)
                    }
                    _ => return None,
                };
                let attrs: Vec<String> = attrs
                    .iter()
                    .map(|a| {
                        a.meta
                            .to_token_stream()
                            .to_string()
                            .replace(":: serde :: ", "")
                    })
                    .collect();
                Some(format!("{name}: {}", attrs.join(" ")))
            })
            .collect()
    }

    fn sample() -> syn::File {
        syn::parse2(quote! {
            pub mod types {
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
                pub struct Req { pub part: Part, pub shared: Shared }
                #[derive(::serde::Serialize, Clone, Debug)]
                pub struct Part(String);
                impl<'de> ::serde::Deserialize<'de> for Part { fn deserialize() {} }
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
                #[serde(untagged)]
                pub enum Resp { One(Item), Two(Shared) }
                #[derive(::serde::Deserialize, ::serde::Serialize, Debug)]
                pub struct Item { pub x: String }
                #[derive(::serde::Deserialize, ::serde::Serialize)]
                pub struct Shared { pub x: String }
                #[derive(::serde::Deserialize, ::serde::Serialize)]
                pub struct Problem { pub messages: Vec<Message> }
                #[derive(::serde::Deserialize, ::serde::Serialize)]
                pub struct Message { pub text: String }
                #[derive(::serde::Deserialize)]
                #[serde(rename_all = "camelCase")]
                pub struct OnlyDe { pub x: String }
                #[derive(::serde::Deserialize, ::serde::Serialize)]
                pub struct Unreached { pub x: String }
            }
            pub mod builder {
                pub struct Op<'a> { client: &'a super::Client, body: Result<types::Req, String> }
                impl<'a> Op<'a> {
                    pub async fn send(self) -> Result<ResponseValue<types::Resp>, Error<types::Problem>> { todo!() }
                }
                pub struct Other<'a> { client: &'a super::Client }
                impl<'a> Other<'a> {
                    pub async fn send(self) -> Result<ResponseValue<types::OnlyDe>, Error<()>> { todo!() }
                }
            }
        })
        .unwrap()
    }

    #[test]
    fn each_type_keeps_the_direction_the_client_uses_and_gates_the_other() {
        let mut file = sample();
        let gated = gate_serde_directions(&mut file);
        assert_eq!(
            gated,
            Gated {
                serialize: 4,
                deserialize: 2
            }
        );
        assert_eq!(
            derives(&file),
            [
                "Req: derive (Serialize , Clone , Debug) cfg_attr (feature = \"deserialize-requests\" , derive (Deserialize))",
                "Part: derive (Serialize , Clone , Debug)",
                "impl Part: cfg (feature = \"deserialize-requests\")",
                "Resp: derive (Deserialize , Clone , Debug) cfg_attr (feature = \"serialize-responses\" , derive (Serialize)) serde (untagged)",
                "Item: derive (Deserialize , Debug) cfg_attr (feature = \"serialize-responses\" , derive (Serialize))",
                // In a request and a response: both stay.
                "Shared: derive (Deserialize , Serialize)",
                // Error bodies are received like any response.
                "Problem: derive (Deserialize) cfg_attr (feature = \"serialize-responses\" , derive (Serialize))",
                "Message: derive (Deserialize) cfg_attr (feature = \"serialize-responses\" , derive (Serialize))",
                // Only Deserialize already: nothing to gate.
                "OnlyDe: derive (Deserialize) serde (rename_all = \"camelCase\")",
                // Reached by no operation: left as typify wrote it.
                "Unreached: derive (Deserialize , Serialize)",
            ]
        );
        let code = prettyplease::unparse(&file);
        let toml = features_toml(&code);
        assert!(toml.contains("\n[features]\n"), "{toml}");
        assert!(toml.contains("\nserialize-responses = []\n"), "{toml}");
        assert!(toml.contains("\ndeserialize-requests = []\n"), "{toml}");
    }

    #[test]
    fn a_response_type_whose_serde_attributes_need_its_only_other_derive_is_left_alone() {
        let mut file: syn::File = syn::parse2(quote! {
            pub mod types {
                #[derive(::serde::Serialize)]
                #[serde(rename_all = "camelCase")]
                pub struct Resp { pub x: String }
            }
            impl Client {
                pub async fn get(&self) -> Result<ResponseValue<types::Resp>, Error<()>> { todo!() }
            }
        })
        .unwrap();
        let before = prettyplease::unparse(&file);
        assert_eq!(gate_serde_directions(&mut file), Gated::default());
        assert_eq!(prettyplease::unparse(&file), before);
        assert_eq!(features_toml(&before), "", "no features without gates");
    }

    #[test]
    fn positional_methods_count_their_parameters_as_requests() {
        let mut file: syn::File = syn::parse2(quote! {
            pub mod types {
                #[derive(::serde::Deserialize, ::serde::Serialize)]
                pub struct Body { pub x: String }
                #[derive(::serde::Deserialize, ::serde::Serialize)]
                pub struct Resp { pub x: String }
            }
            impl Client {
                pub async fn put(&self, body: &types::Body) -> Result<ResponseValue<types::Resp>, Error<()>> { todo!() }
            }
        })
        .unwrap();
        assert_eq!(
            gate_serde_directions(&mut file),
            Gated {
                serialize: 1,
                deserialize: 1
            }
        );
    }
}
