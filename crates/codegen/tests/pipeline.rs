//! End-to-end tests of the generator pipeline on small documents and the real corpus.
#![allow(clippy::unwrap_used)]

use psd2_codegen::pipeline::render;
use psd2_codegen::surface::surface_of;
use psd2_codegen::{emit, spec_crate_spec};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn tiny() -> String {
    std::fs::read_to_string(fixture("tiny.yaml")).unwrap()
}

/// Runs the whole pipeline on `text` written as `name`; returns the error text.
fn error_for(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let doc = write(dir.path(), name, text);
    match render(&spec_crate_spec(&doc, &[])) {
        Ok(_) => format!("unexpectedly generated: {text}"),
        Err(e) => e.to_string(),
    }
}

const BANK_TOML: &str = "[bank]\nname = \"tiny\"\ncrate = \"psd2-raw-tiny\"\ndisplay_name = \"Tiny\"\nspec = \"tiny.yaml\"\n[generate]\ndrop_headers = [\"Digest\"]\n";

fn bank_error(bank_toml: &str, overlay: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.yaml", &tiny());
    write(dir.path(), "bank.toml", bank_toml);
    write(dir.path(), "overlay.yaml", overlay);
    let err = psd2_codegen::bank_crate_spec(dir.path()).and_then(|s| render(&s).map(|_| ()));
    err.unwrap_err().to_string()
}

#[test]
fn bad_inputs_give_one_clear_error_each() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "missing file",
            {
                render(&spec_crate_spec(Path::new("/nonexistent/spec.yaml"), &[]))
                    .map(|_| ())
                    .unwrap_err()
                    .to_string()
            },
            "/nonexistent/spec.yaml: No such file",
        ),
        (
            "invalid YAML",
            error_for("a.yaml", "openapi: [3.0\n"),
            "a.yaml: invalid YAML:",
        ),
        (
            "invalid JSON",
            error_for("a.json", "{\"swagger\": \"2.0\",}"),
            "a.json: invalid JSON:",
        ),
        (
            "dangling $ref",
            error_for(
                "a.yaml",
                &tiny().replace("#/components/schemas/Account", "#/components/schemas/Nope"),
            ),
            "dangling $ref `#/components/schemas/Nope` at /paths/~1v1~1accounts~1{account-id}/get/responses/200/content/application~1json/schema",
        ),
        (
            "dangling $ref: the overlay action that fixes it",
            error_for(
                "a.yaml",
                &tiny().replace("#/components/schemas/Account", "#/components/schemas/Nope"),
            ),
            "add the target with an overlay action (`target: \"$.components.schemas\"`, `update: {\"Nope\": <schema>}`)",
        ),
        (
            "no paths",
            error_for(
                "a.yaml",
                "openapi: 3.0.3\ninfo: {title: t, version: '1'}\ncomponents: {schemas: {A: {type: string}}}\n",
            ),
            "a.yaml: the document has no `paths` (JSON pointer /paths), so there are no operations to generate; add them with an overlay action `target: \"$\"`",
        ),
        (
            "openapi 3.1",
            error_for(
                "a.yaml",
                &tiny().replace("openapi: 3.0.3", "openapi: 3.1.0"),
            ),
            "unsupported document version openapi 3.1.0",
        ),
        (
            "swagger 1.2",
            error_for("a.json", "{\"swagger\": \"1.2\"}"),
            "unsupported document version swagger 1.2",
        ),
        (
            "duplicate operationId",
            error_for(
                "a.yaml",
                &tiny().replace(
                    "    delete:\n",
                    "    delete:\n      operationId: getAccount\n",
                ),
            ),
            "duplicate operationId `getAccount` on `GET /v1/accounts/{account-id}` and `DELETE /v1/accounts/{account-id}`",
        ),
        (
            "progenitor error",
            error_for(
                "a.yaml",
                &tiny().replace(
                    "in: path, required: true,",
                    "in: path, required: true, style: matrix,",
                ),
            ),
            "code generation failed in operation `getAccount` (GET /v1/accounts/{account-id}): unexpected or unhandled format in the OpenAPI document unsupported style of path parameter",
        ),
        (
            "typify error",
            error_for(
                "a.yaml",
                &tiny().replace(
                    "        name: {type: string}\n",
                    "        name: {type: string, enum: [1, \"a\"], default: 7}\n",
                ),
            ),
            "code generation failed in operation `getAccount` (GET /v1/accounts/{account-id}): type error",
        ),
        (
            "not a mapping",
            error_for("a.yaml", "- just\n- a list\n"),
            "the document is not a mapping",
        ),
        (
            "overlay matching nothing",
            bank_error(
                BANK_TOML,
                "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.paths['/v2/gone'].get\n    update: {summary: x}\n",
            ),
            "overlay action #0 (target `$.paths['/v2/gone'].get`) no longer matches anything in the document",
        ),
        (
            "missing bank.toml field",
            bank_error(&BANK_TOML.replace("display_name = \"Tiny\"\n", ""), ""),
            "bank.toml: invalid bank config: missing field `display_name`",
        ),
        (
            "unknown bank.toml field",
            bank_error(
                &BANK_TOML.replace("[generate]\n", "[generate]\nfoo = 1\n"),
                "",
            ),
            "unknown field `foo`",
        ),
        (
            "unknown bytes operation",
            bank_error(
                &BANK_TOML.replace(
                    "[generate]\n",
                    "[generate]\nbytes_operations = [\"getAccount\", \"getAcount\"]\n",
                ),
                "",
            ),
            "bank `tiny`: `[generate] bytes_operations` in bank.toml lists `getAcount`: the document has no operation with this operationId (it has: delete_v1_accounts_account_id, getAccount)",
        ),
        (
            "bytes operation without a JSON success body",
            bank_error(
                &BANK_TOML.replace(
                    "[generate]\n",
                    "[generate]\nbytes_operations = [\"delete_v1_accounts_account_id\"]\n",
                ),
                "",
            ),
            "bank `tiny`: `[generate] bytes_operations` in bank.toml lists `delete_v1_accounts_account_id`: its success answer `204u16` is not a JSON body",
        ),
        (
            "bytes operation on the positional interface",
            bank_error(
                &BANK_TOML.replace(
                    "[generate]\n",
                    "[generate]\ninterface = \"positional\"\nbytes_operations = [\"getAccount\"]\n",
                ),
                "",
            ),
            "bank `tiny`: `[generate] bytes_operations` in bank.toml lists `getAccount`: `send_bytes()` is added to operation builders, and this bank has `interface = \"positional\"`",
        ),
    ];
    for (kind, message, expected) in cases {
        assert!(
            message.contains(expected),
            "{kind}: expected `{expected}` in `{message}`"
        );
        assert_eq!(message.lines().count(), 1, "{kind}: one line: {message}");
    }
}

/// A Media Type Object must be a mapping (OpenAPI 3.0.3, "Media Type Object"); a document
/// with a scalar there is refused with an error naming what was found, in a request body and
/// in a response, whatever media type it is filed under.
#[test]
fn a_media_type_that_is_not_a_mapping_is_an_error_not_a_panic() {
    let request_body = tiny().replace(
        "    delete:\n",
        "    post:\n      requestBody: {content: {MEDIA: 7}}\n      responses: {\"204\": {description: ok}}\n    delete:\n",
    );
    let response = tiny().replace(
        "\"204\": {description: gone}",
        "\"204\": {description: gone, content: {MEDIA: 7}}",
    );
    for doc in [request_body, response] {
        for media in ["application/json", "text/plain"] {
            let message = error_for("a.yaml", &doc.replace("MEDIA", media));
            // serde_json words the number differently with its `arbitrary_precision`
            // feature (on in workspace builds through rust_decimal): "integer `7`" or "number".
            assert!(
                message.contains("invalid type: integer `7`")
                    || message.contains("invalid type: number"),
                "{media}: {message}"
            );
            assert!(
                message.contains("expected struct MediaType"),
                "{media}: {message}"
            );
        }
    }
}

#[test]
fn generation_is_deterministic_and_check_detects_drift() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_crate_spec(&fixture("tiny.yaml"), &["Digest".into()]);
    let a = render(&spec).unwrap();
    let b = render(&spec).unwrap();
    assert_eq!(a.files, b.files);
    for file in &a.files[1..3] {
        let text = &file.content;
        assert!(
            text.starts_with("// @generated by `cargo xtask generate`"),
            "{text}"
        );
        assert!(text.contains("tiny.yaml  sha256:"), "{text}");
    }
    assert!(a.files[1].content.contains("#[rustfmt::skip]\nmod client;"));
    let code = &a.files[2].content;
    assert!(code.contains("pub struct Client"), "{code}");
    assert!(
        !code.contains("\"Digest\""),
        "Digest header must be dropped"
    );
    let out = dir.path().join("crate");
    assert_eq!(
        emit(&spec, &out, true).unwrap(),
        4,
        "nothing written yet: all four files differ (Cargo.toml, lib.rs, client.rs, GENERATION.md)"
    );
    assert_eq!(emit(&spec, &out, false).unwrap(), 0);
    assert_eq!(emit(&spec, &out, true).unwrap(), 0);
    std::fs::write(out.join("src/stale.rs"), "// old").unwrap();
    assert_eq!(emit(&spec, &out, true).unwrap(), 1);
    emit(&spec, &out, false).unwrap();
    assert!(!out.join("src/stale.rs").exists());
}

/// `bytes_operations` absent or empty leaves every generated file as it was; listing an
/// operation adds `send_bytes()` to its builder only, the `bytes` dependency, and one row
/// of the generation report, on lean and on as-generated operation code.
#[test]
fn bytes_operations_add_only_send_bytes_and_its_dependency() {
    use psd2_codegen::pipeline::lean::OperationCode;
    for code in [OperationCode::Lean, OperationCode::AsGenerated] {
        let mut spec = spec_crate_spec(&fixture("tiny.yaml"), &["Digest".into()]);
        spec.generate.operation_code = code;
        let plain = render(&spec).unwrap();
        spec.generate.bytes_operations = Vec::new();
        assert_eq!(
            render(&spec).unwrap().files,
            plain.files,
            "{code:?}: empty = absent"
        );
        for file in &plain.files {
            assert!(
                !file.content.contains("send_bytes"),
                "{code:?}: {}",
                file.path.display()
            );
            assert!(
                !file.content.contains("bytes ="),
                "{code:?}: {}",
                file.path.display()
            );
        }
        spec.generate.bytes_operations = vec!["getAccount".into()];
        let with = render(&spec).unwrap();
        let client = &with.files[2].content;
        assert_eq!(
            client.matches("pub async fn send_bytes(").count(),
            1,
            "{code:?}"
        );
        assert!(
            client.contains("-> Result<ResponseValue<::bytes::Bytes>, Error<types::Error>>"),
            "{code:?}: {client}"
        );
        assert!(
            client.contains("200u16 => super::psd2_support::bytes_of(response).await,"),
            "{code:?}: {client}"
        );
        let cargo_lines = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .map(String::from)
                .collect()
        };
        let added: Vec<String> = cargo_lines(&with.files[0].content)
            .into_iter()
            .filter(|l| !cargo_lines(&plain.files[0].content).contains(l))
            .collect();
        assert_eq!(added, ["bytes = \"1\""], "{code:?}");
        assert_eq!(
            with.files[1].content, plain.files[1].content,
            "{code:?}: lib.rs"
        );
        assert!(
            with.files[3]
                .content
                .contains("| bytes | send-bytes-method | 1 |"),
            "{code:?}: {}",
            with.files[3].content
        );
    }
}

#[test]
fn tiny_surface() {
    let spec = spec_crate_spec(&fixture("tiny.yaml"), &["Digest".into()]);
    insta::assert_snapshot!(surface_of(&spec).unwrap());
}

#[test]
fn breaking_change_shows_as_exactly_the_changed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let before = fixture("tiny.yaml");
    let broken = tiny()
        .replace("        product: {type: string}\n", "")
        .replace(
            "        - {name: withBalance,",
            "        - {name: PSU-Corporate-ID, in: header, required: true, schema: {type: string}}\n        - {name: withBalance,",
        );
    let after = write(dir.path(), "tiny.yaml", &broken);
    let a = surface_of(&spec_crate_spec(&before, &["Digest".into()])).unwrap();
    let b = surface_of(&spec_crate_spec(&after, &["Digest".into()])).unwrap();
    let diff = similar::TextDiff::from_lines(&a, &b);
    let changed: Vec<String> = diff
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| format!("{}{}", c.tag(), c.value().trim_end()))
        .collect();
    assert_eq!(
        changed,
        [
            "+  PSU-Corporate-ID (header, required): String",
            "-  product: Option<String>"
        ]
    );
}

#[test]
fn real_specs_generate() {
    let dir = psd2_codegen::repo_root().join("../shared/realspecs");
    if !dir.is_dir() {
        println!("skipping: {} is absent", dir.display());
        return;
    }
    for document in psd2_codegen::corpus::documents(&dir).unwrap() {
        let name = document.display();
        let spec = spec_crate_spec(&document, &[]);
        let rendered = render(&spec).unwrap_or_else(|e| panic!("{name}: {e}"));
        println!(
            "{name}: {:.2}s\n{}",
            rendered.elapsed.as_secs_f64(),
            rendered.report
        );
        assert!(rendered.files[2].content.contains("pub struct Client"));
    }
}

/// The Rust names the collision step predicts are the names typify gives the types.
#[test]
fn generated_names() {
    let names = [
        "OBRate1_0",
        "accountReference",
        "_links",
        "card-account",
        "1st",
    ];
    let mut properties = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        properties.insert(
            format!("p{i}"),
            serde_json::json!({"$ref": format!("#/components/schemas/{name}")}),
        );
        schemas.insert(
            name.to_string(),
            serde_json::json!({"type": "object", "properties": {"a": {"type": "string"}}}),
        );
    }
    let doc = serde_json::json!({
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"operationId": "getA", "responses": {"200": {
            "description": "ok",
            "content": {"application/json": {"schema": {"type": "object", "properties": properties}}}
        }}}}},
        "components": {"schemas": schemas}
    })
    .to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "names.json", &doc);
    let rendered = render(&spec_crate_spec(&path, &[])).unwrap();
    let code = &rendered.files[2].content;
    for name in names {
        let rust = psd2_codegen::pipeline::normalize::rust_type_name(name);
        assert!(
            code.contains(&format!("pub struct {rust} {{")),
            "{name}: no `pub struct {rust}` in the generated code"
        );
    }
}

/// A rewrite that applied in the crate's last generation and applies nowhere now fails
/// generation (in both write and check mode) instead of silently turning the stage off.
#[test]
fn a_rewrite_dropping_to_zero_fails_generation() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_crate_spec(&fixture("tiny.yaml"), &["Digest".into()]);
    let out = dir.path().join("crate");
    emit(&spec, &out, false).unwrap();
    let md = out.join("GENERATION.md");
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        text.contains("| lean | shared-request-execution | "),
        "{text}"
    );
    // As if progenitor had written a shape the lean stage once matched 3 times.
    std::fs::write(
        &md,
        format!("{text}| lean | a-rewrite-now-matching-nothing | 3 |\n"),
    )
    .unwrap();
    for check in [true, false] {
        let err = emit(&spec, &out, check).unwrap_err().to_string();
        assert!(
            err.contains("the lean rewrite `a-rewrite-now-matching-nothing` applied 3 time(s) in the last generation"),
            "{err}"
        );
    }
}

/// No type a bank's answer is parsed into refuses unknown fields: in every bank's crate and
/// every corpus document's, a struct with `deny_unknown_fields` derives `Deserialize` only
/// behind the `deserialize-requests` feature (it is a request-only type).
#[test]
fn no_response_type_denies_unknown_fields() {
    let mut specs: Vec<psd2_codegen::pipeline::CrateSpec> =
        ["berlingroup", "handelsbanken", "openpayments", "swedbank"]
            .iter()
            .map(|b| {
                psd2_codegen::bank_crate_spec(&psd2_codegen::repo_root().join("specs").join(b))
                    .unwrap()
            })
            .collect();
    let corpus = psd2_codegen::repo_root().join("../shared/realspecs");
    if corpus.is_dir() {
        for doc in psd2_codegen::corpus::documents(&corpus).unwrap() {
            specs.push(spec_crate_spec(&doc, &[]));
        }
    } else {
        println!("corpus part skipped: {} is absent", corpus.display());
    }
    let mut closed = 0;
    for spec in specs {
        let rendered = render(&spec).unwrap();
        let file: syn::File = syn::parse_str(&rendered.files[2].content).unwrap();
        let types = file.items.iter().find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref().map(|(_, items)| items),
            _ => None,
        });
        for item in types.into_iter().flatten() {
            let syn::Item::Struct(s) = item else { continue };
            let attrs: Vec<String> = s
                .attrs
                .iter()
                .map(|a| quote::ToTokens::to_token_stream(a).to_string())
                .collect();
            if !attrs.iter().any(|a| a.contains("deny_unknown_fields")) {
                continue;
            }
            closed += 1;
            let parsed_always = attrs
                .iter()
                .any(|a| a.starts_with("# [derive") && a.contains("Deserialize"));
            assert!(
                !parsed_always,
                "{}: `{}` denies unknown fields and derives Deserialize: {attrs:?}",
                spec.bank, s.ident
            );
        }
    }
    println!("{closed} request-only struct(s) keep deny_unknown_fields");
}
