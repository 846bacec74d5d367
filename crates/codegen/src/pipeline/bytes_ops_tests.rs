//! Tests of the bytes stage: the method it writes, the helper, and what it refuses.

use super::*;
use proc_macro2::TokenStream;
use quote::quote;

fn file(tokens: TokenStream) -> syn::File {
    syn::parse2(tokens).unwrap()
}

fn code(file: &syn::File) -> String {
    prettyplease::unparse(file)
}

/// A builder module as progenitor writes it after the lean stage (shared `execute`), with
/// one operation `get_things` and, next to it, another operation that must stay untouched.
fn lean_builder() -> TokenStream {
    quote! {
        pub mod builder {
            impl<'a> GetThings<'a> {
                pub fn new(client: &'a super::Client) -> Self {
                    Self { client }
                }
                ///Sends a `GET` request to `/things`
                pub async fn send(
                    self,
                ) -> Result<ResponseValue<types::ThingList>, Error<types::ErrorResponse>> {
                    let Self { client } = self;
                    let url = format!("{}/things", client.baseurl);
                    #[allow(unused_mut)]
                    let mut request = client.client.get(url).build()?;
                    let response =
                        super::psd2_support::execute(client, request, "get_things").await?;
                    match response.status().as_u16() {
                        200u16 | 203u16 => ResponseValue::from_response(response).await,
                        400u16 | 404u16 => {
                            Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
                        }
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
            impl<'a> DeleteThing<'a> {
                ///Sends a `DELETE` request to `/things/{id}`
                pub async fn send(self) -> Result<ResponseValue<()>, Error<types::ErrorResponse>> {
                    let Self { client } = self;
                    let response =
                        super::psd2_support::execute(client, request, "delete_thing").await?;
                    match response.status().as_u16() {
                        204u16 => Ok(ResponseValue::empty(response)),
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        }
        mod psd2_support {
            pub(super) fn first_error() {}
        }
    }
}

/// The `send_bytes()` expected for [`lean_builder`]'s `get_things`, written out by hand
/// from the brief's seam: `send()`'s statements, its error arms unchanged, the success
/// arms reading bytes.
const EXPECTED_LEAN_SEND_BYTES: &str = r#"/// Sends the request like `send()`; a success answer's body is returned undecoded.
pub async fn send_bytes(
    self,
) -> Result<ResponseValue<::bytes::Bytes>, Error<types::ErrorResponse>> {
    let Self { client } = self;
    let url = format!("{}/things", client.baseurl);
    #[allow(unused_mut)]
    let mut request = client.client.get(url).build()?;
    let response = super::psd2_support::execute(client, request, "get_things").await?;
    match response.status().as_u16() {
        200u16 | 203u16 => super::psd2_support::bytes_of(response).await,
        400u16 | 404u16 => {
            Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
        }
        _ => Err(Error::UnexpectedResponse(response)),
    }
}
"#;

/// The builder impl of `name`, unparsed on its own.
fn impl_fn(file: &syn::File, name: &str) -> Option<String> {
    let syn::Item::Mod(builder) = &file.items[0] else {
        panic!("builder first")
    };
    builder.content.as_ref().unwrap().1.iter().find_map(|item| {
        let syn::Item::Impl(imp) = item else {
            return None;
        };
        imp.items.iter().find_map(|it| match it {
            syn::ImplItem::Fn(f) if f.sig.ident == name => {
                let wrapped: syn::File = syn::parse_quote!(#f);
                Some(code(&wrapped))
            }
            _ => None,
        })
    })
}

#[test]
fn send_bytes_is_send_with_the_json_success_arms_reading_bytes() {
    let mut f = file(lean_builder());
    let send_before = impl_fn(&f, "send").unwrap();
    assert_eq!(add_send_bytes(&mut f, &["getThings".into()]), Ok(1));
    assert_eq!(impl_fn(&f, "send_bytes").unwrap(), EXPECTED_LEAN_SEND_BYTES);
    assert_eq!(
        impl_fn(&f, "send").unwrap(),
        send_before,
        "send() itself is unchanged"
    );
    let got = code(&f);
    assert_eq!(
        got.matches("pub async fn send_bytes").count(),
        1,
        "only the listed operation: {got}"
    );
    let send_at = got.find("pub async fn send(").unwrap();
    let bytes_at = got.find("pub async fn send_bytes(").unwrap();
    let delete_at = got.find("impl<'a> DeleteThing<'a>").unwrap();
    assert!(
        send_at < bytes_at && bytes_at < delete_at,
        "right after send(): {got}"
    );
    // The helper joins the existing support module, next to what the lean stage put there.
    let support = &got[got.find("mod psd2_support").unwrap()..];
    assert!(support.contains("pub(super) fn first_error()"), "{support}");
    assert!(
        support.contains(
            "pub(super) async fn bytes_of<E>(\n        response: ::reqwest::Response,\n    )"
        ),
        "{support}"
    );
    assert!(
        support.contains(".map_err(progenitor_client::Error::ResponseBodyError)?;"),
        "{support}"
    );
    assert!(
        support.contains("Ok(progenitor_client::ResponseValue::new(inner, status, headers))"),
        "{support}"
    );
    assert_eq!(got.matches("mod psd2_support").count(), 1, "{got}");
}

#[test]
fn as_generated_send_gets_send_bytes_and_a_support_module_of_its_own() {
    // progenitor's own shape: `OperationInfo` inline, arms in braces, no support module.
    let mut f = file(quote! {
        pub mod builder {
            impl<'a> GetThings<'a> {
                pub async fn send(self) -> Result<ResponseValue<types::ThingList>, Error<()>> {
                    let Self { client } = self;
                    let info = OperationInfo { operation_id: "get_things" };
                    client.pre(&mut request, &info).await?;
                    let response = result?;
                    match response.status().as_u16() {
                        200u16 => { ResponseValue::from_response(response).await }
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        }
    });
    assert_eq!(add_send_bytes(&mut f, &["getThings".into()]), Ok(1));
    let bytes = impl_fn(&f, "send_bytes").unwrap();
    assert!(
        bytes.contains("-> Result<ResponseValue<::bytes::Bytes>, Error<()>>"),
        "the error type is send()'s: {bytes}"
    );
    assert!(
        bytes.contains("200u16 => super::psd2_support::bytes_of(response).await,"),
        "{bytes}"
    );
    assert!(
        bytes.contains("let info = OperationInfo {"),
        "same execution: {bytes}"
    );
    let got = code(&f);
    assert!(
        got.contains("mod psd2_support {\n    /// Reads a success answer's body undecoded"),
        "{got}"
    );
}

#[test]
fn nothing_listed_changes_nothing() {
    let mut f = file(lean_builder());
    let before = code(&f);
    assert_eq!(add_send_bytes(&mut f, &[]), Ok(0));
    assert_eq!(code(&f), before);
}

#[test]
fn operations_it_cannot_serve_are_refused_with_the_reason() {
    let refused = |tokens: TokenStream, id: &str| {
        let mut f = file(tokens);
        let (operation, reason) = add_send_bytes(&mut f, &[id.to_string()]).unwrap_err();
        assert_eq!(operation, id);
        reason
    };
    assert_eq!(
        refused(lean_builder(), "deleteThing"),
        "its success answer `204u16` is not a JSON body (`Ok (ResponseValue :: empty (response))`); `send_bytes()` returns JSON bodies only"
    );
    assert_eq!(
        refused(lean_builder(), "getOther"),
        "found no single operation builder whose `send()` is the operation `get_other`"
    );
    assert_eq!(
        refused(
            quote! { impl Client { pub async fn get_things(&self) {} } },
            "getThings"
        ),
        "the client has no operation builders (`send_bytes()` needs `interface = \"builder\"`)"
    );
    let only_errors = quote! {
        pub mod builder {
            impl<'a> GetThings<'a> {
                pub async fn send(self) -> Result<ResponseValue<()>, Error<()>> {
                    let response = super::psd2_support::execute(client, request, "get_things").await?;
                    match response.status().as_u16() {
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        }
    };
    assert_eq!(
        refused(only_errors, "getThings"),
        "it has no success answer with a JSON body"
    );
    let other_return = quote! {
        pub mod builder {
            impl<'a> GetThings<'a> {
                pub async fn send(self) -> Option<u8> {
                    let response = super::psd2_support::execute(client, request, "get_things").await?;
                    match response.status().as_u16() {
                        200u16 => ResponseValue::from_response(response).await,
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        }
    };
    assert_eq!(
        refused(other_return, "getThings"),
        "its `send()` does not return `Result<ResponseValue<T>, E>` (it returns `-> Option < u8 >`)"
    );
}

#[test]
fn a_builder_with_a_send_bytes_of_its_own_is_refused() {
    let mut f = file(lean_builder());
    add_send_bytes(&mut f, &["getThings".into()]).unwrap();
    let (_, reason) = add_send_bytes(&mut f, &["getThings".into()]).unwrap_err();
    assert_eq!(reason, "its builder already has a method `send_bytes`");
}

fn document(ids: &[&str]) -> openapiv3::OpenAPI {
    let mut paths = serde_json::Map::new();
    for (i, id) in ids.iter().enumerate() {
        paths.insert(
            format!("/p{i}"),
            serde_json::json!({"get": {"operationId": id, "responses": {"204": {"description": "ok"}}}}),
        );
    }
    serde_json::from_value(serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
    }))
    .unwrap()
}

#[test]
fn listed_ids_must_name_operations_of_the_document_once() {
    let doc = document(&["getB", "getA"]);
    assert_eq!(check_listed(&doc, &[]), Ok(()));
    assert_eq!(check_listed(&doc, &["getA".into(), "getB".into()]), Ok(()));
    assert_eq!(
        check_listed(&doc, &["getA".into(), "getTransactions".into()]),
        Err((
            "getTransactions".into(),
            "the document has no operation with this operationId (it has: getA, getB)".into()
        ))
    );
    assert_eq!(
        check_listed(&doc, &["getA".into(), "getA".into()]),
        Err(("getA".into(), "listed more than once".into()))
    );
}
