//! What a hostile tester tried: bad session files, another host, odd account ids, a
//! consent past its `validUntil`, an SCA that runs out of time, a limit of four calls a day,
//! and the words the CLI uses for each.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read as _;

use common::{Bench, FakeBank, swedbank_at, texts};
use predicates::prelude::*;
use psd2_sandbox::Sandbox;
use serde_json::{Value, json};

#[test]
fn a_session_is_never_used_with_another_base_url() {
    let bench = Bench::start();
    bench.authorise("swedbank", 4);
    // Another "bank" that records whether anything connects to it.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    other.set_nonblocking(true).unwrap();
    let port = other.local_addr().unwrap().port();
    for var_url in [
        format!("http://127.0.0.1:{port}/swedbank"),
        format!("http://user:pa55word@127.0.0.1:{port}/swedbank"),
    ] {
        for args in [
            vec!["accounts"],
            vec!["consent", "status"],
            vec!["consent", "delete"],
        ] {
            let out = bench
                .psd2("swedbank", &args)
                .env("PSD2_BASE_URL", &var_url)
                .output()
                .unwrap();
            let (_, stderr) = texts(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains("base_url") && stderr.contains(&bench.sandbox.base_url()),
                "{args:?}: {stderr}"
            );
            assert!(!stderr.contains("pa55word"), "{stderr}");
        }
    }
    assert!(
        other.accept().is_err(),
        "the session's consent was sent to another host"
    );
    // The session still works where it was made.
    bench.psd2("swedbank", &["accounts"]).assert().success();
}

#[test]
fn absurd_session_files_are_clear_errors_not_crashes() {
    let bench = Bench::start();
    bench.authorise("handelsbanken", 4);
    let good = bench.session();
    for (field, value) in [
        ("expires_at", json!("-262143-01-01T00:00:00Z")),
        ("expires_at", json!("+262142-12-31T23:59:59Z")),
        ("expires_at", json!(191212121212u64)),
        ("access_token", json!(191212121212u64)),
        ("version", json!(191212121212u64)),
    ] {
        let mut session = good.clone();
        session[field] = value;
        std::fs::write(bench.session_path(), session.to_string()).unwrap();
        let out = bench.psd2("handelsbanken", &["accounts"]).output().unwrap();
        let (_, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{field}: {stderr}");
        assert!(stderr.contains(field), "{field}: {stderr}");
        assert!(
            !stderr.contains("262143") && !stderr.contains("262142") && !stderr.contains("191212"),
            "{field}: the value is echoed: {stderr}"
        );
    }
}

#[test]
fn account_arguments_that_are_not_ids_are_refused_before_anything_is_sent() {
    let bank = FakeBank::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let long = "A".repeat(70_000);
    for account in [".", "..", " .. ", long.as_str(), "a/../b", "acc\u{7}1", ""] {
        for command in ["balances", "transactions"] {
            let out = swedbank_at(dir.path(), &bank.url, "c-1", &[command, account])
                .output()
                .unwrap();
            let (_, stderr) = texts(&out);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{command} {:.20}: {stderr}",
                account
            );
            assert!(stderr.contains("account"), "{stderr}");
            assert!(!stderr.contains("could not talk"), "{stderr}");
            assert!(
                stderr.len() < 1000,
                "the argument is echoed: {} bytes",
                stderr.len()
            );
        }
    }
    assert!(stderr_mentions_length(&bank.url, &long));
    assert_eq!(
        bank.requests(),
        0,
        "a request was sent for an invalid account id"
    );
}

fn stderr_mentions_length(url: &str, long: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let out = swedbank_at(dir.path(), url, "c-1", &["balances", long])
        .output()
        .unwrap();
    texts(&out).1.contains("70000 characters")
}

#[test]
fn a_consent_past_its_valid_until_is_not_called_usable() {
    let consent = json!({
        "access": {"allPsd2": "allAccounts"}, "recurringIndicator": true,
        "validUntil": "2020-01-31", "frequencyPerDay": 4, "consentStatus": "valid",
        "lastActionDate": "2020-01-02"
    });
    let bank = FakeBank::start(vec![("/consents/", 200, consent.to_string())]);
    let dir = tempfile::tempdir().unwrap();
    let out = swedbank_at(
        dir.path(),
        &bank.url,
        "c-1",
        &["consent", "status", "--format", "json"],
    )
    .output()
    .unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    let value: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["status"], "valid");
    assert_eq!(value["usable"], false, "{stdout}");
    swedbank_at(dir.path(), &bank.url, "c-1", &["consent", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("false (valid_until has passed)"));
}

#[test]
fn an_sca_that_runs_out_of_time_is_not_a_network_error() {
    let bench = Bench::with(
        Sandbox::builder()
            .history_size(100)
            .decoupled_pending_polls(100_000),
    );
    bench
        .psd2("handelsbanken", &["consent", "create"])
        .assert()
        .success();
    bench
        .psd2("handelsbanken", &["sca", "--timeout", "3"])
        .assert()
        .code(7)
        .stderr(
            predicate::str::contains("SCA not finished in time")
                .and(predicate::str::contains("psd2 sca"))
                .and(predicate::str::contains("did not answer in time").not()),
        );
}

#[test]
fn a_stray_request_to_the_callback_neither_aborts_nor_ends_the_redirect_sca() {
    let bench = Bench::start();
    let bank = "openpayments";
    bench.psd2(bank, &["consent", "create"]).assert().success();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = bench
        .psd2_std(
            bank,
            &[
                "sca",
                "--method",
                "redirect",
                "--callback-port",
                &port.to_string(),
                "--timeout",
                "30",
            ],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    for _ in 0..5 {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        if line.starts_with("http") {
            url = line.trim().to_string();
            break;
        }
    }
    let client = reqwest::Client::new();
    // Another web page aborting the SCA, and a forged code: ignored, and said so.
    for stray in [
        "/callback?error=access_denied",
        "/callback?error=access_denied&state=forged",
        "/callback?code=stolen&state=forged",
    ] {
        let (status, body) = bench.runtime.block_on(async {
            let r = client
                .get(format!("http://127.0.0.1:{port}{stray}"))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        });
        assert_eq!(status, 400, "{stray}");
        assert!(!body.contains("authorisation received"), "{stray}: {body}");
    }
    // The real redirect still arrives and completes the SCA.
    let status = bench
        .runtime
        .block_on(async { client.get(&url).send().await.unwrap().status().as_u16() });
    assert_eq!(status, 200);
    let exit = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(exit.success(), "{rest}");
    assert_eq!(bench.session()["authorised"], true);
}

#[test]
fn handelsbanken_balances_show_what_arrived_when_the_daily_limit_runs_out() {
    let bench = Bench::start();
    bench.authorise("handelsbanken", 4);
    // The sandbox gives private-1 four Handelsbanken accounts and a consent four
    // unattended calls a day: the list and three balances arrive, the fourth is refused.
    let out = bench
        .psd2(
            "handelsbanken",
            &["accounts", "--balances", "--format", "json"],
        )
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    let list: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let list = list.as_array().unwrap();
    let with_balances = list
        .iter()
        .filter(|a| a["balances"].as_array().is_some_and(|b| !b.is_empty()))
        .count();
    assert_eq!((list.len(), with_balances), (4, 3), "{stdout}");
    assert!(
        stderr.contains("no balances for account")
            && stderr.contains("balances shown for 3 of 4 accounts"),
        "{stderr}"
    );
    assert!(stderr.contains("frequencyPerDay"), "{stderr}");
}

#[test]
fn consent_create_shows_what_the_bank_granted() {
    // A Swedbank that grants less than asked: its creation answer and the consent as read
    // back afterwards (shapes from its API description).
    let created = json!({
        "consentStatus": "received", "consentId": "c-9",
        "_links": {
            "self": {"href": "/v1/consents/c-9"},
            "status": {"href": "/v1/consents/c-9/status"},
            "startAuthorisation": {"href": "/v1/consents/c-9/authorisations"}
        }
    });
    // (`lastActionDate` is mandatory in the Berlin Group consent answer.)
    let granted = json!({
        "access": {"allPsd2": "allAccounts"}, "recurringIndicator": false,
        "validUntil": "2026-12-31", "frequencyPerDay": 2, "consentStatus": "received",
        "lastActionDate": "2026-11-30"
    });
    let bank = FakeBank::start(vec![
        ("/consents/", 200, granted.to_string()),
        ("/consents", 201, created.to_string()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "consent",
        "create",
        "--frequency-per-day",
        "4",
        "--valid-until",
        "2027-01-31",
        "--format",
        "csv",
    ];
    swedbank_at(dir.path(), &bank.url, "c-1", &args)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("\nvalid_until,2026-12-31\n")
                .and(predicate::str::contains("\nfrequency_per_day,2\n"))
                .and(predicate::str::contains("\nrecurring,false\n")),
        );
    // A bank whose API does not state them (Handelsbanken): never shown as granted.
    let bench = Bench::start();
    bench
        .psd2(
            "handelsbanken",
            &[
                "consent",
                "create",
                "--frequency-per-day",
                "2",
                "--format",
                "csv",
            ],
        )
        .assert()
        .success()
        .stdout(
            predicate::str::contains("\nfrequency_per_day,2\n")
                .not()
                .and(predicate::str::contains("not stated by the bank")),
        );
}

#[test]
fn the_rate_limit_hint_fits_the_cause() {
    let mut bench = Bench::start();
    bench.authorise("swedbank", 4);
    let fault = json!({"bank": "swedbank", "pathContains": "/accounts", "rateLimitEvery": 1, "retryAfterSecs": 4000});
    assert_eq!(bench.admin_post("/faults", fault), 200);
    // PSU present: PSU-IP-Address was sent, so the daily limit is not the cause.
    bench.psu_ip = Some("192.0.2.10");
    bench
        .psd2("swedbank", &["accounts"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("frequencyPerDay")
                .not()
                .and(predicate::str::contains("--psu-ip").not())
                .and(predicate::str::is_match(r"in 1 h 6 min(, at [0-9: -]+ UTC)?").unwrap())
                .and(predicate::str::contains("4000s").not()),
        );
}

#[test]
fn help_says_what_each_command_costs_and_flags_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for (args, cost) in [
        (
            vec!["accounts", "--help"],
            "Handelsbanken 1 + one per account",
        ),
        (vec!["balances", "--help"], "Cost in unattended calls"),
        (vec!["transactions", "--help"], "one per page"),
        (vec!["cards", "--help"], "Cost in unattended calls"),
        (vec!["sca", "--help"], "do not count"),
        (vec!["consent", "--help"], "do not count"),
    ] {
        common::bare_psd2(dir.path())
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains(cost));
    }
    // Numbers that would overflow further down are refused by the command line.
    for args in [
        vec!["demo", "--history-size", "18446744073709551615"],
        vec!["sca", "--timeout", "18446744073709551615"],
        vec!["sca", "--timeout", "0"],
    ] {
        common::bare_psd2(dir.path()).args(&args).assert().code(2);
    }
    common::bare_psd2(dir.path())
        .env("PSD2_BANK", "swedbank")
        .env("PSD2_TIMEOUT_SECS", "18446744073709551615")
        .arg("accounts")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("timeout_secs"));
}

#[test]
fn an_unknown_final_sca_status_stops_polling() {
    // Swedbank's start-authorisation answer (its API description), then a status this
    // crate does not know on every poll.
    let started = json!({
        "scaStatus": "started", "authorisationId": "auth-1",
        "psuMessage": "Open BankID\u{1b}[2J",
        "_links": {"scaStatus": {"href": "/v1/consents/c-1/authorisations/auth-1"}}
    });
    let bank = FakeBank::start(vec![
        (
            "/authorisations/",
            200,
            json!({"scaStatus": "somethingNew"}).to_string(),
        ),
        ("/authorisations", 201, started.to_string()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let began = std::time::Instant::now();
    let out = swedbank_at(dir.path(), &bank.url, "c-1", &["sca", "--timeout", "60"])
        .output()
        .unwrap();
    let (_, stderr) = texts(&out);
    assert!(
        began.elapsed() < std::time::Duration::from_secs(30),
        "polled on for {:?}",
        began.elapsed()
    );
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(!stderr.contains("not finished in time"), "{stderr}");
    // The bank's message for the PSU is shown, but not as terminal control codes.
    assert!(
        stderr.contains("Open BankID") && !stderr.contains('\u{1b}'),
        "{stderr}"
    );
    assert!(bank.requests() <= 5, "{} requests", bank.requests());
}
