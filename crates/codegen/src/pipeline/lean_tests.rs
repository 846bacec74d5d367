//! Tests of the lean stage: each rewrite, and code it must leave alone.

use super::*;

fn code(file: &syn::File) -> String {
    prettyplease::unparse(file)
}

fn file(tokens: TokenStream) -> syn::File {
    syn::parse2(tokens).unwrap()
}

#[test]
fn identical_status_arms_merge_but_never_across_a_range_or_wildcard() {
    let mut f = file(quote! {
        impl Client {
            pub async fn op(&self) -> R {
                match response.status().as_u16() {
                    200u16 => ok(response).await,
                    400u16 => Err(e(response).await?),
                    401u16 => Err(e(response).await?),
                    404u16..=410u16 => range(response),
                    409u16 => Err(e(response).await?),
                    429u16 => Err(e(response).await?),
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        }
    });
    let counts = lean_operations(&mut f);
    assert_eq!(counts["merge-identical-status-arms"], 2);
    let got = code(&f);
    assert!(
        got.contains("400u16 | 401u16 => Err(e(response).await?)"),
        "{got}"
    );
    assert!(
        got.contains("409u16 | 429u16 => Err(e(response).await?)"),
        "409 stays after the range that would catch it first: {got}"
    );
    let order: Vec<usize> = [
        "200u16 =>",
        "400u16 |",
        "404u16..=410u16",
        "409u16 |",
        "_ =>",
    ]
    .iter()
    .map(|arm| got.find(arm).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "order kept: {got}");
    assert!(!counts.contains_key("one-step-field-conversions"));
    assert!(!got.contains(SUPPORT_MODULE), "no helper needed: {got}");
}

#[test]
fn send_converts_its_fields_in_one_step_and_appends_headers_in_one_loop() {
    let mut f = file(quote! {
        pub mod builder {
            impl<'a> Op<'a> {
                pub async fn send(self) -> R {
                    let Self { client, id, date, agent, request_id } = self;
                    let id = id.map_err(Error::InvalidRequest)?;
                    let date = date.map_err(Error::InvalidRequest)?;
                    let agent = agent.map_err(Error::InvalidRequest)?;
                    let request_id = request_id.map_err(Error::InvalidRequest)?;
                    let url = format!("{}/x/{}", client.baseurl, id);
                    let mut header_map = HeaderMap::with_capacity(2usize);
                    header_map.append(HeaderName::from_static("api-version"), v);
                    if let Some(value) = agent {
                        header_map.append("PSU-User-Agent", value.to_string().try_into()?);
                    }
                    header_map.append("X-Request-ID", request_id.to_string().try_into()?);
                    let lone = lone.map_err(Error::InvalidRequest)?;
                    todo!()
                }
            }
        }
    });
    let counts = lean_operations(&mut f);
    assert_eq!(counts["one-step-field-conversions"], 1);
    assert_eq!(counts["header-loop"], 1);
    let got = code(&f);
    let expected = code(&file(quote! {
        pub mod builder {
            impl<'a> Op<'a> {
                pub async fn send(self) -> R {
                    let Self { client, id, date, agent, request_id } = self;
                    let (id, date, agent, request_id,) = match (id, date, agent, request_id,) {
                        (
                            ::std::result::Result::Ok(id),
                            ::std::result::Result::Ok(date),
                            ::std::result::Result::Ok(agent),
                            ::std::result::Result::Ok(request_id),
                        ) => (id, date, agent, request_id,),
                        (id, date, agent, request_id,) => {
                            return ::std::result::Result::Err(Error::InvalidRequest(
                                super::psd2_support::first_error([
                                    id.err(), date.err(), agent.err(), request_id.err(),
                                ]),
                            ));
                        }
                    };
                    let url = format!("{}/x/{}", client.baseurl, id);
                    let mut header_map = HeaderMap::with_capacity(2usize);
                    header_map.append(HeaderName::from_static("api-version"), v);
                    for (name, value) in [
                        ("PSU-User-Agent", agent.map(|value| value.to_string())),
                        ("X-Request-ID", ::std::option::Option::Some(request_id.to_string())),
                    ] {
                        if let ::std::option::Option::Some(value) = value {
                            header_map.append(name, value.try_into()?);
                        }
                    }
                    let lone = lone.map_err(Error::InvalidRequest)?;
                    todo!()
                }
            }
        }
        mod psd2_support {}
    }));
    let (expected, _) = expected.split_once("mod psd2_support").unwrap();
    assert!(
        got.starts_with(expected),
        "got:\n{got}\nexpected:\n{expected}"
    );
    assert!(got.contains("mod psd2_support {"), "{got}");
}

#[test]
fn setters_call_the_shared_conversions_with_the_same_messages() {
    let mut f = file(quote! {
        pub mod types {
            pub mod builder {
                impl Access {
                    pub fn accounts<T>(mut self, value: T) -> Self
                    where T: TryInto<Vec<Reference>>, T::Error: Display {
                        self.accounts = value.try_into().map_err(|e| {
                            format!("error converting supplied value for accounts: {e}")
                        });
                        self
                    }
                    pub fn other<T>(mut self, value: T) -> Self {
                        self.other = value.try_into().map_err(|e| format!("{e}"));
                        self
                    }
                }
            }
        }
        pub mod builder {
            impl<'a> Op<'a> {
                pub fn id<V>(mut self, value: V) -> Self where V: TryInto<types::Id> {
                    self.id = value.try_into().map_err(|_| {
                        "conversion to `Id` for id failed".to_string()
                    });
                    self
                }
                pub fn date<V>(mut self, value: V) -> Self where V: TryInto<NaiveDate> {
                    self.date = value.try_into().map(Some).map_err(|_| {
                        "conversion to `NaiveDate` for date failed".to_string()
                    });
                    self
                }
                pub fn body<V>(mut self, value: V) -> Self {
                    self.body = value.try_into().map(From::from).map_err(|s| s.to_string());
                    self
                }
            }
        }
    });
    let counts = lean_operations(&mut f);
    assert_eq!(counts["shared-setter-conversion"], 3);
    let got = code(&f);
    let squeezed = |s: &str| s.split_whitespace().collect::<String>().replace(",)", ")");
    for expected in [
        r#"self.accounts = super::super::psd2_support::convert_field(value, "accounts");"#,
        r#"self.other = value.try_into().map_err(|e| format!("{e}"));"#,
        r#"self.id = super::psd2_support::convert(value, "conversion to `Id` for id failed");"#,
        "self.date = super::psd2_support::convert(value, \"conversion to `NaiveDate` for date failed\").map(Some);",
        "self.body = value.try_into().map(From::from).map_err(|s| s.to_string());",
        r#"format!("error converting supplied value for {field}: {e}")"#,
        r#"map_err(|_| failure.to_string())"#,
    ] {
        assert!(
            squeezed(&got).contains(&squeezed(expected)),
            "missing {expected:?} in:\n{got}"
        );
    }
}

#[test]
fn a_crate_that_already_has_the_support_name_is_left_alone() {
    let tokens = quote! {
        mod psd2_support {}
        impl Client {
            pub async fn op(&self) -> R {
                match response.status().as_u16() {
                    400u16 => Err(e(response).await?),
                    401u16 => Err(e(response).await?),
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        }
    };
    let mut f = file(tokens.clone());
    assert!(lean_operations(&mut f).is_empty());
    assert_eq!(code(&f), code(&file(tokens)));
}

mod execution_tests {
    use super::super::*;

    fn send_with(hook: TokenStream) -> syn::File {
        syn::parse2(quote! {
            pub mod builder {
                impl<'a> Op<'a> {
                    pub async fn send(self) -> R {
                        #[allow(unused_mut)]
                        let mut request = client.client.get(url).build()?;
                        let info = OperationInfo {
                            operation_id: "get_thing",
                        };
                        match (#hook)(&client.inner, &mut request).await {
                            Ok(_) => (),
                            Err(e) => return Err(Error::Custom(e.to_string())),
                        }
                        client.pre(&mut request, &info).await?;
                        let result = client.exec(request, &info).await;
                        client.post(&result, &info).await?;
                        let response = result?;
                        match response.status().as_u16() {
                            200u16 => ResponseValue::from_response(response).await,
                            _ => Err(Error::UnexpectedResponse(response)),
                        }
                    }
                }
            }
        })
        .unwrap()
    }

    #[test]
    fn the_hook_and_execution_statements_become_one_shared_call() {
        let mut f = send_with(quote!(psd2_hooks::pre_request));
        let counts = lean_operations(&mut f);
        assert_eq!(counts["shared-request-execution"], 1);
        let got = prettyplease::unparse(&f);
        let squeezed = got.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squeezed.contains(
                "let mut request = client.client.get(url).build()?; let response = \
                 super::psd2_support::execute(client, request, \"get_thing\") .await?; \
                 match response.status().as_u16() {"
            ),
            "{got}"
        );
        let (send, _) = got.split_once("mod psd2_support").unwrap();
        assert!(!send.contains("let info"), "{got}");
        // The helper runs the same statements, generic over the error type.
        for line in [
            "let info = progenitor_client::OperationInfo { operation_id, };",
            "match (psd2_hooks::pre_request)(&client.inner, &mut request).await {",
            "Err(e) => return Err(progenitor_client::Error::Custom(e.to_string())),",
            "client.pre(&mut request, &info).await?;",
            "let result = client.exec(request, &info).await;",
            "client.post(&result, &info).await?;",
            "Ok(result?)",
        ] {
            assert!(squeezed.contains(line), "helper lacks {line:?}:\n{got}");
        }
    }

    #[test]
    fn other_execution_code_is_left_alone() {
        let tokens = send_with(quote!(other_hooks::pre_request));
        let mut f = tokens.clone();
        assert!(!lean_operations(&mut f).contains_key("shared-request-execution"));
        assert_eq!(prettyplease::unparse(&f), prettyplease::unparse(&tokens));
    }
}
