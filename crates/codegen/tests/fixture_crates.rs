//! Small documents of our own, each reproducing one way a real document broke generation,
//! generated into standalone crates that must build (and pass a parse test of their own)
//! with default and with all features.
//!
//! The crates go to `target/corpus/fixtures/`, sharing the corpus's target dir
//! (`target/corpus/target`), so their dependencies are built once for both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use psd2_codegen::pipeline::render;
use psd2_codegen::{repo_root, spec_crate_spec};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Generates `doc` into its own crate, adds `test_source` as `tests/parse.rs`, and runs
/// `cargo test` and `cargo check --all-features` there. Returns the warnings' pointers.
fn build_fixture(doc: &str, test_source: &str) -> Vec<String> {
    let rendered = render(&spec_crate_spec(&fixture(doc), &[]))
        .unwrap_or_else(|e| panic!("{doc}: generation failed: {e}"));
    build_rendered(&doc.replace('.', "-"), &rendered.files, test_source, "");
    rendered
        .report
        .warnings
        .iter()
        .map(|w| w.pointer.clone())
        .collect()
}

/// Writes generated `files` as the crate `target/corpus/fixtures/<name>` with
/// `test_source` as `tests/parse.rs` and `manifest_tail` appended to its `Cargo.toml`, and
/// runs `cargo test` and `cargo check --all-features` there.
fn build_rendered(
    name: &str,
    files: &[psd2_codegen::pipeline::write::OutFile],
    test_source: &str,
    manifest_tail: &str,
) {
    let root = repo_root();
    let work = root.join("target/corpus");
    let out = work.join("fixtures").join(name);
    psd2_codegen::pipeline::write::write_crate(&out, files).unwrap();
    if !manifest_tail.is_empty() {
        let manifest = out.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, format!("{text}{manifest_tail}")).unwrap();
    }
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(out.join("tests")).unwrap();
    std::fs::write(out.join("tests/parse.rs"), test_source).unwrap();
    for args in [
        &["test", "--quiet"][..],
        &["check", "--all-features", "--quiet"][..],
    ] {
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(args)
            .current_dir(&out)
            .env("CARGO_TARGET_DIR", work.join("target"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{name}: cargo {} failed:\n{}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Two schema names that become one Rust name (`OBRate1_0`, `OB_Rate1_0`): without the
/// renaming the crate fails with `the name ObRate10 is defined multiple times`. Likewise two
/// operationIds that become one method name (`getRates`, `get_rates`).
#[test]
fn colliding_schema_names_compile_as_two_types() {
    let warnings = build_fixture(
        "colliding-names.yaml",
        r##"
use psd2_raw_colliding_names::types::{GetRatesResponse, ObRate10, ObRate10Renamed2};

#[test]
fn both_rates_parse_into_their_own_types() {
    let body = r#"{"Rate": 1.25, "Label": "one and a quarter", "Items": ["a"]}"#;
    let parsed: GetRatesResponse = serde_json::from_str(body).unwrap();
    let rate: &ObRate10 = &parsed.rate;
    let label: &ObRate10Renamed2 = &parsed.label;
    assert_eq!(rate.0.to_string(), "1.25");
    assert_eq!(label.0, "one and a quarter");
}

#[test]
fn both_operations_have_their_own_method() {
    let client = psd2_raw_colliding_names::Client::new_with_client(
        "http://127.0.0.1:9",
        reqwest::Client::new(),
        psd2_hooks::Hooks::new(),
    );
    let _all = client.get_rates();
    let _latest = client.get_rates_renamed2();
}
"##,
    );
    assert_eq!(
        warnings,
        [
            "/components/schemas/OB_Rate1_0",
            "/paths/~1rates~1latest/get/operationId"
        ]
    );
}

/// A Swagger 2.0 response header whose items name a schema keeps that schema in the
/// document though progenitor types no response header; the type that contains a
/// response-only type must still derive `Serialize` (it failed with `the trait bound
/// ResponseHeader: serde::Serialize is not satisfied`).
#[test]
fn swagger_response_header_types_compile() {
    build_fixture(
        "response-header-types.swagger.json",
        r##"
use psd2_raw_response_header_types_swagger::types::{AccountList, GroupHeaderEcho};

#[test]
fn the_body_parses_and_the_header_type_serializes() {
    let body = r#"{"group_header": {"message_identification": "m-1"}, "accounts": ["a"]}"#;
    let list: AccountList = serde_json::from_str(body).unwrap();
    assert_eq!(list.group_header.message_identification, "m-1");
    let echo = GroupHeaderEcho { header: Some(list.group_header) };
    assert_eq!(
        serde_json::to_value(&echo).unwrap(),
        serde_json::json!({"header": {"message_identification": "m-1"}})
    );
}
"##,
    );
}

/// `additionalProperties: false` on response schemas: the generated types must still
/// accept a field the document does not list (a bank adds fields to what it sends).
#[test]
fn closed_response_objects_accept_unknown_fields() {
    let warnings = build_fixture(
        "closed-response-object.yaml",
        r##"
use psd2_raw_closed_response_object::types::{CreateStatementResponse, Problem, Statement};

#[test]
fn unknown_fields_in_responses_parse() {
    let body = r#"{"StatementId": "s-1", "TotalValue": {"Amount": "1.00"},
        "Amount": {"Amount": "10.00", "Currency": "GBP", "SubType": "x"}}"#;
    let statement: Statement = serde_json::from_str(body).unwrap();
    assert_eq!(statement.statement_id, "s-1");
    assert_eq!(statement.amount.currency, "GBP");
    let problem: Problem = serde_json::from_str(r#"{"Code": "E1", "Path": "/x"}"#).unwrap();
    assert_eq!(problem.code.as_deref(), Some("E1"));
    let created: CreateStatementResponse =
        serde_json::from_str(r#"{"StatementId": "s-2", "Extra": 1}"#).unwrap();
    assert_eq!(created.statement_id, "s-2");
}
"##,
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let rendered = render(&spec_crate_spec(
        &fixture("closed-response-object.yaml"),
        &[],
    ))
    .unwrap();
    let code = &rendered.files[2].content;
    // The request-only type keeps the document's closed object; no response type does.
    assert_eq!(code.matches("deny_unknown_fields").count(), 1, "{code}");
    let at = code.find("deny_unknown_fields").unwrap();
    assert!(code[at..].contains("pub struct StatementRequest"));
    assert_eq!(rendered.report.counts.get("open-response-object"), Some(&4));
}

/// Defects that shape no type: `info: null`, an example `$ref` that points at nothing, a
/// pattern the regex engine rejects. Each is a warning (JSON pointer, what, why) and the
/// crate compiles.
#[test]
fn defects_that_shape_no_type_are_warnings() {
    let warnings = build_fixture(
        "relaxed-defects.yaml",
        r##"
use psd2_raw_relaxed_defects::types::PaymentRequest;

#[test]
fn the_reference_is_a_plain_string() {
    let request = PaymentRequest { iban: None, reference: "no pattern left".into() };
    assert_eq!(serde_json::to_value(&request).unwrap()["reference"], "no pattern left");
}
"##,
    );
    assert_eq!(
        warnings,
        [
            "/info",
            "/paths/~1payments/post/requestBody/content/application~1json/examples/missing",
            "/components/schemas/PaymentRequest/properties/reference/pattern",
        ]
    );
}

/// `send_bytes()` against a local HTTP server whose answers are written out byte for byte
/// below: a success answer's body comes back exactly as sent (also when it is not JSON,
/// where `send()` fails to decode it), with the status and headers; an error status decodes
/// into `Error::ErrorResponse` like `send()`'s; the request is the one `send()` makes. Run
/// on lean and on as-generated operation code.
#[test]
fn send_bytes_returns_the_body_as_sent_and_errors_like_send() {
    use psd2_codegen::pipeline::lean::OperationCode;
    for (code, name) in [
        (OperationCode::Lean, "bytes-operation-lean"),
        (OperationCode::AsGenerated, "bytes-operation-as-generated"),
    ] {
        let mut spec = spec_crate_spec(&fixture("bytes-operation.yaml"), &[]);
        spec.crate_name = format!("psd2-raw-{name}");
        spec.generate.operation_code = code;
        spec.generate.bytes_operations = vec!["getTransactionList".into()];
        let rendered = render(&spec).unwrap_or_else(|e| panic!("{name}: {e}"));
        build_rendered(
            name,
            &rendered.files,
            &SEND_BYTES_TEST.replace("RAW_CRATE", &format!("psd2_raw_{}", name.replace('-', "_"))),
            "\n[dev-dependencies]\ntokio = { version = \"1\", features = [\"macros\", \"rt\"] }\n",
        );
    }
}

/// The generated crate's test of `send_bytes()` (`RAW_CRATE` is its crate name).
const SEND_BYTES_TEST: &str = r##"
use RAW_CRATE::{Client, Error};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

/// Answers one connection after another with `answers`, in order; the thread returns the
/// request heads it read.
fn serve(answers: Vec<Vec<u8>>) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let mut heads = Vec::new();
        for answer in answers {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut chunk = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0, "the request ended early");
                head.extend_from_slice(&chunk[..n]);
            }
            heads.push(String::from_utf8(head).unwrap());
            stream.write_all(&answer).unwrap();
        }
        heads
    });
    (base, thread)
}

fn answer(status: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-Page: 7\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn client(base: &str) -> Client {
    Client::new_with_client(base, reqwest::Client::new(), psd2_hooks::Hooks::new())
}

const PAGE: &[u8] =
    b"{\"entries\" : [\"a\",\"b\"],\n  \"next\":\"/v1/accounts/acc-1/transactions?page=2\"}  \n";
const NOT_JSON: &[u8] = b"\xff\x00 not json {";
const ERROR: &[u8] = b"{\"code\": \"RESOURCE_UNKNOWN\", \"text\": \"no such account\"}";

#[tokio::test]
async fn a_success_body_comes_back_as_sent_with_status_and_headers() {
    let (base, server) = serve(vec![
        answer("200 OK", PAGE),
        answer("200 OK", PAGE),
        answer("200 OK", NOT_JSON),
        answer("200 OK", NOT_JSON),
    ]);
    let c = client(&base);
    let call = || {
        c.get_transaction_list()
            .account_id("acc-1")
            .x_request_id("req-1")
            .date_from("2026-01-01")
    };
    let bytes = call().send_bytes().await.unwrap();
    assert_eq!(bytes.status().as_u16(), 200);
    assert_eq!(bytes.headers()["x-page"], "7");
    assert_eq!(bytes.into_inner().as_ref(), PAGE);
    let typed = call().send().await.unwrap().into_inner();
    assert_eq!(typed.entries, ["a", "b"]);
    let raw = call().send_bytes().await.unwrap().into_inner();
    assert_eq!(raw.as_ref(), NOT_JSON, "not decoded at all");
    match call().send().await {
        Err(Error::InvalidResponsePayload(body, _)) => assert_eq!(body.as_ref(), NOT_JSON),
        other => panic!("send() decodes, and fails here: {other:?}"),
    }
    let heads = server.join().unwrap();
    assert_eq!(heads[0], heads[1], "send_bytes() and send() send the same request");
    assert!(
        heads[0].starts_with("GET /v1/accounts/acc-1/transactions?dateFrom=2026-01-01 HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[0].to_ascii_lowercase().contains("\r\nx-request-id: req-1\r\n"),
        "{}",
        heads[0]
    );
}

#[tokio::test]
async fn an_error_status_decodes_like_send() {
    let (base, server) = serve(vec![
        answer("404 Not Found", ERROR),
        answer("404 Not Found", ERROR),
    ]);
    let c = client(&base);
    let call = || c.get_transaction_list().account_id("acc-9").x_request_id("req-2");
    for (which, result) in [
        ("send_bytes", call().send_bytes().await.map(|_| ())),
        ("send", call().send().await.map(|_| ())),
    ] {
        match result {
            Err(Error::ErrorResponse(e)) => {
                assert_eq!(e.status().as_u16(), 404, "{which}");
                assert_eq!(e.code, "RESOURCE_UNKNOWN", "{which}");
                assert_eq!(e.text.as_deref(), Some("no such account"), "{which}");
            }
            other => panic!("{which}: expected Error::ErrorResponse, got {other:?}"),
        }
    }
    server.join().unwrap();
}
"##;
