//! The leak sweep of the command line: every command in every output format, with and
//! without `-v`, with the library's logs at TRACE (`RUST_LOG=trace`), on the happy path and
//! on the error paths, must never print a secret: the client secret, the PSU id, the
//! consent id, access and refresh tokens, a base URL's user and password. Without `-v` the
//! bank's free text is not shown either. And the committed test signing key is not in the
//! `psd2` binary.
#![allow(clippy::unwrap_used)]

mod common;

use common::{BANKS, Bench, FakeBank, bare_psd2, security_fixture, swedbank_at, texts};
use psd2_security::redact::assert_no_secrets;
use serde_json::{Value, json};

/// One run's stdout and stderr, labelled for the failure message.
struct Seen {
    label: String,
    stdout: String,
    stderr: String,
}

fn run(label: String, mut cmd: assert_cmd::Command) -> Seen {
    let out = cmd.output().unwrap();
    assert_ne!(out.status.code(), Some(101), "{label}: panicked");
    let (stdout, stderr) = texts(&out);
    Seen {
        label,
        stdout,
        stderr,
    }
}

#[test]
fn every_command_format_and_error_path_at_trace_leaks_nothing() {
    let mut bench = Bench::start();
    // Present PSU: the sweep makes more calls than a consent's daily limit allows.
    bench.psu_ip = Some("192.0.2.10");
    let mut seen: Vec<Seen> = Vec::new();
    let mut secrets: Vec<String> = vec!["test-client-secret".into(), "private-1".into()];
    for (bank, _) in BANKS {
        let with_trace = |args: &[&str]| {
            let mut cmd = bench.psd2(bank, args);
            cmd.env("RUST_LOG", "trace");
            cmd
        };
        for format in ["table", "json", "csv"] {
            seen.push(run(
                format!("{bank} consent create {format}"),
                with_trace(&["consent", "create", "--format", format]),
            ));
        }
        seen.push(run(
            format!("{bank} sca"),
            with_trace(&["sca", "--method", "decoupled", "--timeout", "30"]),
        ));
        let session = bench.session();
        for key in ["consent_id", "access_token", "refresh_token"] {
            if let Some(v) = session[key].as_str() {
                secrets.push(v.to_string());
            }
        }
        let accounts: Value = serde_json::from_slice(
            &bench
                .psd2(bank, &["accounts", "--format", "json"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let account = accounts[0]["id"].as_str().unwrap().to_string();
        let window = ["--from", "2026-01-01", "--status", "both"];
        for format in ["table", "json", "csv"] {
            for verbose in [false, true] {
                let mut commands: Vec<Vec<&str>> = vec![
                    vec!["consent", "status"],
                    vec!["accounts", "--balances"],
                    vec!["balances", &account],
                    vec!["cards"],
                    vec!["balances", "no-such-account"],
                    vec!["transactions", "no-such-account"],
                ];
                let mut tx = vec!["transactions", account.as_str()];
                tx.extend(window);
                commands.push(tx);
                for mut args in commands {
                    args.extend(["--format", format]);
                    if verbose {
                        args.push("-v");
                    }
                    seen.push(run(format!("{bank} {args:?}"), with_trace(&args)));
                }
            }
        }
        // A rate limit and a bank failure, with -v.
        let fault = json!({"bank": bank, "pathContains": "accounts", "rateLimitEvery": 1, "retryAfterSecs": 7});
        assert_eq!(bench.admin_post("/faults", fault), 200);
        seen.push(run(
            format!("{bank} 429 -v"),
            with_trace(&["accounts", "-v"]),
        ));
        let fault = json!({"bank": bank, "pathContains": "accounts", "serverErrorEvery": 1});
        assert_eq!(bench.admin_post("/faults", fault), 200);
        seen.push(run(
            format!("{bank} 5xx -v"),
            with_trace(&["accounts", "-v"]),
        ));
        assert_eq!(bench.admin_post("/faults", json!({})), 200);
        // The consent ends: the auth error paths.
        let consent = session["consent_id"].as_str().unwrap();
        bench.admin_post(&format!("/consents/{consent}/expire"), Value::Null);
        seen.push(run(
            format!("{bank} expired -v"),
            with_trace(&["accounts", "-v"]),
        ));
        seen.push(run(
            format!("{bank} consent delete"),
            with_trace(&["consent", "delete", "-v"]),
        ));
    }
    // The sweep can fail: the logs really were on, and the secrets really were there to leak.
    assert!(
        seen.iter().any(|s| s.stderr.contains("TRACE")),
        "no TRACE lines: RUST_LOG was not honoured"
    );
    assert!(
        secrets.len() >= 2 + 3,
        "too few secrets collected: {}",
        secrets.len()
    );
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    for s in &seen {
        for (what, text) in [("stdout", &s.stdout), ("stderr", &s.stderr)] {
            if let Err(e) = std::panic::catch_unwind(|| assert_no_secrets(text, &refs)) {
                std::panic::resume_unwind(Box::new(format!(
                    "{}: {what}: {}",
                    s.label,
                    e.downcast_ref::<String>().cloned().unwrap_or_default()
                )));
            }
        }
    }
}

/// What a bank's free text looks like when it holds a name and a personal id.
const FREE_TEXT: &str = "Anna Andersson 19121212-1212";

fn consent_info() -> String {
    json!({
        "access": {"allPsd2": "allAccounts"}, "recurringIndicator": true,
        "validUntil": "2099-12-31", "frequencyPerDay": 4, "consentStatus": "valid"
    })
    .to_string()
}

/// (what, the fake bank's answers, the command): answers carrying [`FREE_TEXT`].
type FreeTextCase = (
    &'static str,
    Vec<(&'static str, u16, String)>,
    Vec<&'static str>,
);

fn free_text_cases() -> Vec<FreeTextCase> {
    let accounts = |amount: &str| {
        json!({"accounts": [{
            "resourceId": "acc-1", "iban": "SE3550000000054910000003", "currency": "SEK",
            "name": "Lönekonto",
            "balances": [{"balanceType": "interimAvailable",
                          "balanceAmount": {"currency": "SEK", "amount": amount}}]
        }]})
        .to_string()
    };
    // Swedbank's own error shape (its API description): {id, system, status, code, message}.
    let error_body = json!({
        "id": "5615873375", "system": "ERA-PSD2", "status": 400,
        "code": "FORMAT_ERROR", "message": FREE_TEXT
    })
    .to_string();
    let mut cases: Vec<FreeTextCase> = vec![
        (
            "a value that does not fit",
            vec![("/accounts", 200, accounts(FREE_TEXT))],
            vec!["accounts", "--balances"],
        ),
        (
            "an error message text",
            vec![("/accounts", 400, error_body.clone())],
            vec!["accounts"],
        ),
        (
            "an error body with status 200",
            vec![("/accounts", 200, error_body)],
            vec!["accounts"],
        ),
        (
            "free text where a code belongs",
            vec![(
                "/accounts",
                401,
                json!({"id": "1", "system": "ERA-PSD2", "status": 401, "code": FREE_TEXT})
                    .to_string(),
            )],
            vec!["accounts"],
        ),
    ];
    for (_, answers, _) in &mut cases {
        answers.push(("/consents/", 200, consent_info()));
    }
    cases
}

const CONSENT_ID: &str = "consent-5ecret-77";

#[test]
fn without_v_the_banks_free_text_is_never_shown() {
    for (what, answers, args) in free_text_cases() {
        let bank = FakeBank::start(answers);
        let dir = tempfile::tempdir().unwrap();
        for format in ["table", "json", "csv"] {
            let mut args = args.clone();
            args.extend(["--format", format]);
            let mut cmd = swedbank_at(dir.path(), &bank.url, CONSENT_ID, &args);
            cmd.env("RUST_LOG", "trace");
            let out = cmd.output().unwrap();
            let (stdout, stderr) = texts(&out);
            assert!(!out.status.success(), "{what}: {stdout}");
            assert_ne!(out.status.code(), Some(101), "{what}: panicked: {stderr}");
            for text in [&stdout, &stderr] {
                assert_no_secrets(
                    text,
                    &[
                        FREE_TEXT,
                        "Andersson",
                        "19121212",
                        "191212121212",
                        CONSENT_ID,
                    ],
                );
            }
            // -v shows what the bank sent where it is available, never our secrets.
            args.push("-v");
            let out = swedbank_at(dir.path(), &bank.url, CONSENT_ID, &args)
                .output()
                .unwrap();
            let (stdout, stderr) = texts(&out);
            assert_no_secrets(&stdout, &["191212121212", CONSENT_ID]);
            assert_no_secrets(&stderr, &["191212121212", CONSENT_ID]);
        }
    }
}

#[test]
fn with_v_the_banks_text_is_shown_for_the_operator() {
    let mut hidden = Vec::new();
    for (what, answers, args) in free_text_cases() {
        let bank = FakeBank::start(answers);
        let dir = tempfile::tempdir().unwrap();
        let mut args = args.clone();
        args.push("-v");
        let out = swedbank_at(dir.path(), &bank.url, CONSENT_ID, &args)
            .output()
            .unwrap();
        let (_, stderr) = texts(&out);
        if !stderr.contains(FREE_TEXT) {
            hidden.push(format!("{what}: {stderr}"));
        }
    }
    assert!(
        hidden.is_empty(),
        "-v does not show the bank's text:\n{}",
        hidden.join("\n")
    );
}

#[test]
fn verbose_never_shows_a_base_urls_user_and_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for bank in ["handelsbanken", "openpayments", "swedbank"] {
        let url = format!("http://someone:pa55word@127.0.0.1:{port}/{bank}");
        let out = bare_psd2(dir.path())
            .env("PSD2_BANK", bank)
            .env("PSD2_BASE_URL", &url)
            .env("PSD2_CLIENT_ID", "cli-test")
            .env("PSD2_BIC", "ESSESESS")
            .env("RUST_LOG", "trace")
            .args(["consent", "create", "-v"])
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(6), "{bank}: {stderr}");
        assert!(
            stderr.contains(&format!("http://127.0.0.1:{port}/{bank}")),
            "{bank}: -v names the base URL: {stderr}"
        );
        assert_no_secrets(&stdout, &["pa55word", "someone"]);
        assert_no_secrets(&stderr, &["pa55word", "someone"]);
    }
}

#[test]
fn the_binary_holds_no_test_signing_key() {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_psd2")).unwrap();
    // Searched as text: the standard library's substring search is fast even in a debug build.
    let binary = String::from_utf8_lossy(&binary);
    for name in [
        "test-signing-key.pem",
        "test-signing-key-pkcs1.pem",
        "wrong-signing-key.pem",
    ] {
        let pem = std::fs::read_to_string(security_fixture(name)).unwrap();
        // Any one line of the key's base64 body would do; check them all.
        let lines: Vec<&str> = pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 40)
            .collect();
        assert!(lines.len() > 10, "{name}: not a PEM key");
        for line in lines {
            assert!(
                !binary.contains(line),
                "{name} is compiled into the psd2 binary"
            );
        }
    }
}

#[test]
fn config_and_session_file_errors_never_echo_values() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("psd2.toml");
    let session = dir.path().join("session.json");
    let secret = "191212121212";
    let configs = [
        format!("bank = \"swedbank\"\npsu_id = {secret}\n"),
        format!("bank = \"swedbank\"\npsu_id = \"{secret}\n"),
        format!("bank = \"swedbank\"\ncountry = \"{secret}\"\n"),
        format!("bank = \"swedbank\"\nbase_url = \"{secret}\"\n"),
    ];
    let sessions = [
        format!(
            r#"{{"version":1,"bank":"swedbank","base_url":"http://127.0.0.1:1/swedbank","consent_id":"c","expires_at":"-{secret}-01-01T00:00:00Z"}}"#
        ),
        format!(
            r#"{{"version":1,"bank":"swedbank","base_url":"http://127.0.0.1:1/swedbank","consent_id":{secret}}}"#
        ),
        format!(
            r#"{{"version":1,"bank":"swedbank","base_url":"http://127.0.0.1:1/swedbank","consent_id":"c","authorised":"{secret}"}}"#
        ),
    ];
    let good_config = "bank = \"swedbank\"\nbase_url = \"http://127.0.0.1:1/swedbank\"\n";
    let cases = configs
        .iter()
        .map(|c| (c.as_str(), None))
        .chain(sessions.iter().map(|s| (good_config, Some(s.as_str()))));
    for (config_text, session_text) in cases {
        std::fs::write(&config, config_text).unwrap();
        match session_text {
            Some(text) => std::fs::write(&session, text).unwrap(),
            None => {
                let _ = std::fs::remove_file(&session);
            }
        }
        for args in [vec!["accounts"], vec!["accounts", "-v", "--format", "json"]] {
            let out = bare_psd2(dir.path())
                .env("PSD2_CONFIG", &config)
                .env("PSD2_SESSION", &session)
                .env("RUST_LOG", "trace")
                .args(&args)
                .output()
                .unwrap();
            let (stdout, stderr) = texts(&out);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{config_text:?} {session_text:?}: {stderr}"
            );
            assert_no_secrets(&stdout, &[secret]);
            assert_no_secrets(&stderr, &[secret]);
        }
    }
}
