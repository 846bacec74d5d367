//! Our signatures checked by implementations nobody here wrote: the `openssl` CLI and
//! Python's `cryptography` package. The signing string is rebuilt from the wire headers by
//! code in this file (OpenSSL half) and by `verify_signature.py` (Python half), never by
//! the crate under test.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue};
use psd2_security::{SigningHook, SigningIdentity};
use std::path::{Path, PathBuf};
use std::process::Command;

const CERT: &str = include_str!("../fixtures/test-signing-cert.pem");
const KEY: &str = include_str!("../fixtures/test-signing-key.pem");

struct Case {
    name: &'static str,
    body: &'static [u8],
    headers: Vec<(&'static str, HeaderValue)>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "get-no-body",
            body: b"",
            headers: vec![],
        },
        Case {
            name: "post-json-with-psu-and-redirect",
            body: br#"{"access":{"balances":[],"transactions":[]},"recurringIndicator":true,"validUntil":"2030-01-01","frequencyPerDay":4}"#,
            headers: vec![
                ("psu-id", HeaderValue::from_static("private-1")),
                (
                    "tpp-redirect-uri",
                    HeaderValue::from_static("https://tpp.example/cb?state=x"),
                ),
                ("content-type", HeaderValue::from_static("application/json")),
            ],
        },
        Case {
            name: "get-non-ascii-psu-and-corporate",
            body: b"",
            headers: vec![
                (
                    "psu-id",
                    HeaderValue::from_bytes("Åsa Öberg-Ängström".as_bytes()).expect("obs-text"),
                ),
                ("psu-corporate-id", HeaderValue::from_static("5560000001")),
            ],
        },
    ]
}

fn sign(case: &Case) -> HeaderMap {
    let identity = SigningIdentity::from_pem(CERT, KEY).expect("fixture identity");
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-request-id",
        HeaderValue::from_static("8a1c0b2e-9f3d-4c55-8e1a-0d6f2b7c9e11"),
    );
    for (name, value) in &case.headers {
        headers.append(*name, value.clone());
    }
    SigningHook::new(identity)
        .sign_headers(&mut headers, case.body)
        .expect("signs");
    headers
}

/// Independent parse of `name="value"` parameters (values never contain `"` here).
fn params(signature: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = signature;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim_start_matches(',').trim().to_string();
        let after = &rest[eq + 2..];
        let end = after.find('"').expect("closing quote");
        out.push((name, after[..end].to_string()));
        rest = &after[end + 1..];
    }
    out
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} parameter"))
}

fn wire_signature(headers: &HeaderMap) -> String {
    let raw = headers["signature"]
        .to_str()
        .expect("wire headers are ASCII");
    match raw
        .strip_prefix("=?utf-8?B?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => String::from_utf8(STANDARD.decode(b64).expect("b64")).expect("utf8"),
        None => raw.to_string(),
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Whether the `openssl` CLI runs; when not, the rule for missing oracles applies (skip
/// locally, fail under CI, where `.ci/run` installs it).
fn openssl_available() -> bool {
    match Command::new("openssl").arg("version").output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            psd2_test_support::oracle_missing(
                "openssl",
                &format!("`openssl version` exited with {}", out.status),
            );
            false
        }
        Err(e) => {
            psd2_test_support::oracle_missing("openssl", &format!("cannot run it: {e}"));
            false
        }
    }
}

fn workdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn openssl_cli_verifies_our_signatures() {
    if !openssl_available() {
        return;
    }
    let dir = workdir();
    let cert = write(dir.path(), "cert.pem", CERT.as_bytes());
    let out = run(Command::new("openssl")
        .args(["x509", "-pubkey", "-noout", "-in"])
        .arg(&cert));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pubkey = write(dir.path(), "pub.pem", &out.stdout);

    for case in cases() {
        let headers = sign(&case);
        for (_, value) in headers.iter() {
            assert!(
                value.to_str().is_ok(),
                "{}: non-ASCII on the wire",
                case.name
            );
        }
        // Digest, computed by openssl.
        let body = write(dir.path(), &format!("{}.body", case.name), case.body);
        let out = run(Command::new("openssl")
            .args(["dgst", "-sha256", "-binary"])
            .arg(&body));
        assert!(out.status.success());
        assert_eq!(
            headers["digest"].to_str().expect("ascii"),
            format!("SHA-256={}", STANDARD.encode(&out.stdout)),
            "{}",
            case.name
        );

        // Signing string rebuilt from the wire headers listed in headers=.
        let sig = wire_signature(&headers);
        let p = params(&sig);
        let signing_string = param(&p, "headers")
            .split(' ')
            .map(|h| format!("{h}: {}", headers[h].to_str().expect("ascii")))
            .collect::<Vec<_>>()
            .join("\n");
        let data = write(
            dir.path(),
            &format!("{}.txt", case.name),
            signing_string.as_bytes(),
        );
        let sig_bin = write(
            dir.path(),
            &format!("{}.sig", case.name),
            &STANDARD.decode(param(&p, "signature")).expect("b64"),
        );
        let verify = |file: &Path| {
            run(Command::new("openssl")
                .args(["dgst", "-sha256", "-verify"])
                .arg(&pubkey)
                .arg("-signature")
                .arg(&sig_bin)
                .arg(file))
        };
        let out = verify(&data);
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK"),
            "{}: openssl says {} {}",
            case.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // And openssl rejects a one-byte change, so the check above can fail.
        let mut tampered = signing_string.into_bytes();
        tampered[0] ^= 0x20;
        let bad = write(dir.path(), &format!("{}.bad", case.name), &tampered);
        assert!(!verify(&bad).status.success(), "{}", case.name);
    }
}

/// The Python interpreter that has `cryptography`: `$PSD2_PYTHON` (`.ci/run` points it at
/// the virtual environment it installs the package into), else `python3`. This test
/// installs nothing: a missing package follows the rule for missing oracles.
fn python_with_cryptography() -> Option<String> {
    let python = std::env::var("PSD2_PYTHON")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "python3".to_string());
    match Command::new(&python)
        .args(["-c", "import cryptography"])
        .output()
    {
        Ok(out) if out.status.success() => Some(python),
        Ok(_) => {
            psd2_test_support::oracle_missing(
                "Python package `cryptography`",
                &format!("`{python} -c 'import cryptography'` failed"),
            );
            None
        }
        Err(e) => {
            psd2_test_support::oracle_missing("Python 3", &format!("cannot run `{python}`: {e}"));
            None
        }
    }
}

#[test]
fn python_cryptography_verifies_our_signatures() {
    let Some(python_bin) = python_with_cryptography() else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify_signature.py");
    let dir = workdir();
    let cert = write(dir.path(), "cert.pem", CERT.as_bytes());
    let python = |headers: &HeaderMap, body: &[u8], name: &str| {
        let mut lines = String::new();
        for (k, v) in headers.iter() {
            lines.push_str(&format!(
                "{}\t{}\n",
                k,
                v.to_str().expect("ascii on the wire")
            ));
        }
        let h = write(dir.path(), &format!("{name}.headers"), lines.as_bytes());
        let b = write(dir.path(), &format!("{name}.body"), body);
        run(Command::new(&python_bin)
            .arg(&script)
            .arg(&cert)
            .arg(h)
            .arg(b))
    };
    for case in cases() {
        let headers = sign(&case);
        let out = python(&headers, case.body, case.name);
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "OK",
            "{}: python says {} {}",
            case.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The script can fail: a changed body and a changed signed header are caught.
        let out = python(&headers, b"tampered", &format!("{}-body", case.name));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(|l| l.starts_with("digest mismatch")),
            Some(true)
        );
        let mut changed = headers.clone();
        changed.insert("x-request-id", HeaderValue::from_static("other"));
        let out = python(&changed, case.body, &format!("{}-hdr", case.name));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "signature invalid",
            "{}",
            case.name
        );
    }
}
