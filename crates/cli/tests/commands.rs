//! `psd2` against a sandbox started in the test process: every command and format, the
//! session file, and the error paths with their exit codes.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::{BANKS, Bench, bare_psd2, texts};
use predicates::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The whole flow for one bank, checking each command in table, JSON and CSV.
fn full_flow(bank: &str) {
    let mut bench = Bench::start();
    // The PSU is at the screen: no call counts against the consent's frequencyPerDay.
    bench.psu_ip = Some("192.0.2.10");

    // consent create: table output, session file with 0600, consent id never printed.
    let out = bench
        .psd2(bank, &["consent", "create"])
        .assert()
        .success()
        .stdout(predicate::str::contains("status").and(predicate::str::contains("received")))
        .get_output()
        .clone();
    let consent_id = bench.session()["consent_id"].as_str().unwrap().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(bench.session_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{bank}: session file mode");
    }
    let (stdout, stderr) = texts(&out);
    assert!(
        !stdout.contains(&consent_id) && !stderr.contains(&consent_id),
        "{bank}: consent id printed"
    );

    // Not authorised yet: accounts is refused locally with exit 2.
    bench
        .psd2(bank, &["accounts"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("psd2 sca"));

    // Decoupled SCA.
    let out = bench
        .psd2(bank, &["sca", "--method", "decoupled", "--timeout", "30"])
        .assert()
        .success()
        .stdout(predicate::str::contains("authorised").and(predicate::str::contains("true")))
        .get_output()
        .clone();
    let session = bench.session();
    assert_eq!(session["authorised"], true);
    for secret in [
        session["access_token"].as_str(),
        session["refresh_token"].as_str(),
        Some(consent_id.as_str()),
    ]
    .into_iter()
    .flatten()
    {
        let (stdout, stderr) = texts(&out);
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{bank}: secret printed"
        );
    }

    // consent status (JSON: the domain value, id redacted).
    let out = bench
        .psd2(bank, &["consent", "status", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let consent = json_of(&out);
    assert_eq!(consent["status"], "valid", "{bank}: {consent}");
    assert_eq!(consent["id"], "[REDACTED]");

    // accounts in the three formats.
    let out = bench
        .psd2(bank, &["accounts", "--balances", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let accounts = json_of(&out);
    let accounts = accounts.as_array().unwrap();
    assert!(accounts.len() >= 3, "{bank}: {accounts:?}");
    assert!(
        accounts
            .iter()
            .all(|a| !a["balances"].as_array().unwrap().is_empty())
    );
    let sek = accounts
        .iter()
        .find(|a| a["currency"] == "SEK")
        .unwrap_or_else(|| panic!("{bank}: no SEK account"));
    let account_id = sek["id"].as_str().unwrap().to_string();
    let iban = sek["iban"].as_str().unwrap().to_string();

    bench
        .psd2(bank, &["accounts", "--balances"])
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("id ")
                .and(predicate::str::contains(&account_id))
                .and(predicate::str::contains(&iban)),
        );
    let out = bench
        .psd2(bank, &["accounts", "--balances", "--format", "csv"])
        .assert()
        .success()
        .get_output()
        .clone();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with(
        "account_id,iban,currency,name,product,status,balance_type,balance_amount,balance_currency\n"
    ));
    assert!(
        csv.lines()
            .any(|l| l.starts_with(&format!("{account_id},{iban},SEK,"))),
        "{csv}"
    );

    // balances by id and by IBAN.
    let out = bench
        .psd2(bank, &["balances", &account_id, "--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let balances = json_of(&out);
    assert!(!balances.as_array().unwrap().is_empty());
    bench
        .psd2(bank, &["balances", &iban, "--format", "csv"])
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with(
                "account_id,balance_type,amount,currency,reference_date,credit_limit_included\n",
            )
            .and(predicate::str::contains(format!("{account_id},"))),
        );
    bench
        .psd2(bank, &["balances", &account_id])
        .assert()
        .success()
        .stdout(predicate::str::contains("balance_type").and(predicate::str::contains("SEK")));

    // transactions: JSON and CSV agree on count and sums, exactly.
    let window = ["--from", "2000-01-01", "--status", "both"];
    let mut args = vec!["transactions", account_id.as_str()];
    args.extend(window);
    let mut json_args = args.clone();
    json_args.extend(["--format", "json"]);
    let out = bench
        .psd2(bank, &json_args)
        .assert()
        .success()
        .get_output()
        .clone();
    let list = json_of(&out);
    let list = list.as_array().unwrap();
    assert!(
        list.len() >= 1000,
        "{bank}: only {} transactions",
        list.len()
    );
    let json_sum: Decimal = list
        .iter()
        .map(|t| {
            t["amount"]["amount"]
                .as_str()
                .unwrap()
                .parse::<Decimal>()
                .unwrap()
        })
        .sum();

    let mut csv_args = args.clone();
    csv_args.extend(["--format", "csv"]);
    let out = bench
        .psd2(bank, &csv_args)
        .assert()
        .success()
        .get_output()
        .clone();
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "booking_date,value_date,status,amount,currency,counterparty,remittance,transaction_id"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), list.len(), "{bank}: CSV and JSON row counts");
    let date = regex_like_date;
    let mut csv_sum = Decimal::ZERO;
    for row in &rows {
        let first: Vec<&str> = row.splitn(6, ',').collect();
        assert!(
            first[0].is_empty() || date(first[0]),
            "{bank}: booking date {row}"
        );
        assert!(
            matches!(first[2], "booked" | "pending"),
            "{bank}: status {row}"
        );
        assert_eq!(first[4], "SEK", "{bank}: {row}");
        csv_sum += first[3].parse::<Decimal>().unwrap();
    }
    assert_eq!(csv_sum, json_sum, "{bank}: exact sums");

    let out = bench
        .psd2(bank, &args)
        .assert()
        .success()
        .get_output()
        .clone();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("booking_date"), "{table}");
    assert!(
        table.contains(&format!("{} transactions", list.len())),
        "{bank}: summary"
    );
    assert!(table.contains("SEK: in "), "{bank}: summary sums");

    // Card accounts: Handelsbanken has them; the others say the bank does not offer them.
    if bank == "handelsbanken" {
        bench
            .psd2(bank, &["cards", "--format", "csv"])
            .assert()
            .success()
            .stdout(predicate::str::starts_with(
                "account_id,masked_pans,currency,name,product,status,credit_limit,balance\n",
            ));
        let out = bench
            .psd2(bank, &["cards", "--format", "json"])
            .assert()
            .success()
            .get_output()
            .clone();
        assert!(!json_of(&out).as_array().unwrap().is_empty());
    } else {
        bench
            .psd2(bank, &["cards"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not supported").and(predicate::str::contains(bank)));
    }

    // Unknown account: the bank's RESOURCE_UNKNOWN, exit 5, with a request id.
    bench
        .psd2(bank, &["balances", "no-such-account"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains(bank).and(predicate::str::contains("request id")));

    // consent delete forgets the session; accounts then needs a new consent.
    bench
        .psd2(bank, &["consent", "delete"])
        .assert()
        .success()
        .stdout(predicate::str::contains("deleted"));
    assert!(!bench.session_path().exists());
    bench
        .psd2(bank, &["accounts"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("psd2 consent create"));
}

fn regex_like_date(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

#[test]
fn handelsbanken_full_flow() {
    full_flow("handelsbanken");
}

#[test]
fn openpayments_full_flow() {
    full_flow("openpayments");
}

#[test]
fn swedbank_full_flow() {
    full_flow("swedbank");
}

#[test]
fn redirect_sca_waits_for_the_callback() {
    let bench = Bench::start();
    for (bank, _) in BANKS {
        bench.psd2(bank, &["consent", "create"]).assert().success();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut cmd = bench.psd2_std(
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
        );
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut url = String::new();
        for _ in 0..5 {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            if line.starts_with("http") {
                url = line.trim().to_string();
                break;
            }
        }
        assert!(
            url.starts_with(&bench.sandbox.base_url()),
            "{bank}: URL {url:?}"
        );
        // The "browser": follows the bank's redirect to the CLI's callback port.
        let status = bench.runtime.block_on(async {
            reqwest::Client::new()
                .get(&url)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
        assert_eq!(status, 200, "{bank}: callback page");
        let exit = child.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        assert!(exit.success(), "{bank}: {rest}");
        assert!(rest.contains("authorised"), "{bank}: {rest}");
        assert_eq!(bench.session()["authorised"], true);
        bench.psd2(bank, &["accounts"]).assert().success();
    }
}

#[test]
fn expired_consent_exits_3_and_says_what_to_do() {
    let bench = Bench::start();
    for (bank, _) in BANKS {
        let consent = bench.authorise(bank, 4);
        assert_eq!(
            bench.admin_post(&format!("/consents/{consent}/expire"), Value::Null),
            204
        );
        let out = bench
            .psd2(bank, &["accounts"])
            .assert()
            .code(3)
            .stderr(
                // Handelsbanken's adapter reports the refused token renewal; the CLI then
                // reads the consent's status to explain it.
                predicate::str::contains(format!("psd2: error: {bank} "))
                    .and(predicate::str::contains("expired"))
                    .and(predicate::str::contains("request id"))
                    .and(predicate::str::contains(
                        "run `psd2 consent create` and `psd2 sca` again",
                    )),
            )
            .get_output()
            .clone();
        let (_, stderr) = texts(&out);
        assert!(!stderr.contains(&consent), "{bank}: consent id in error");
        // -v adds the bank's message, still without the consent id.
        let out = bench
            .psd2(bank, &["accounts", "-v"])
            .assert()
            .code(3)
            .get_output()
            .clone();
        let (_, stderr) = texts(&out);
        assert!(stderr.contains("bank message:"), "{bank}: {stderr}");
        assert!(!stderr.contains(&consent), "{bank}: consent id in -v error");
        assert!(!stderr.contains("test-client-secret"));
    }
}

#[test]
fn frequency_per_day_exceeded_exits_4_with_retry_advice() {
    let bench = Bench::start();
    for bank in ["openpayments", "swedbank"] {
        bench.authorise(bank, 1);
        bench.psd2(bank, &["accounts"]).assert().success();
        bench.psd2(bank, &["accounts"]).assert().code(4).stderr(
            predicate::str::contains("ACCESS_EXCEEDED")
                .and(predicate::str::contains("request id"))
                .and(predicate::str::is_match(r"try again in \d+ (s|min|h)").unwrap())
                .and(predicate::str::contains("PSU-IP-Address")),
        );
        // With the PSU present the limit does not apply.
        bench
            .psd2(bank, &["accounts", "--psu-ip", "192.0.2.10"])
            .assert()
            .success();
    }
}

#[test]
fn injected_429_exits_4_with_the_banks_retry_after() {
    let bench = Bench::start();
    bench.authorise("swedbank", 4);
    let fault = serde_json::json!({"bank": "swedbank", "pathContains": "/accounts", "rateLimitEvery": 1, "retryAfterSecs": 7});
    assert_eq!(bench.admin_post("/faults", fault), 200);
    bench
        .psd2("swedbank", &["accounts"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("swedbank accounts")
                .and(predicate::str::contains("try again in 7 s")),
        );
}

#[test]
fn bad_config_file_exits_2_naming_file_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "bank = \"swedbank\"\nbase_url = \"http://127.0.0.1:1/swedbank\"\nsigning_kye = \"x.pem\"\n").unwrap();
    bare_psd2(dir.path())
        .args(["--config", path.to_str().unwrap(), "accounts"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("bad.toml")
                .and(predicate::str::contains("line 3"))
                .and(predicate::str::contains("signing_kye")),
        );

    std::fs::write(&path, "bank = \"swedbank\"\nclient_secret = \"s3cret\"\n").unwrap();
    bare_psd2(dir.path())
        .env("PSD2_CONFIG", &path)
        .arg("accounts")
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("PSD2_CLIENT_SECRET")
                .and(predicate::str::contains("s3cret").not()),
        );

    // A missing explicit file, and the default ./psd2.toml being picked up.
    bare_psd2(dir.path())
        .args(["--config", "nope.toml", "cards"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.toml"));
    std::fs::write(dir.path().join("psd2.toml"), "bank = \"handelsbanken\"\n").unwrap();
    bare_psd2(dir.path())
        .arg("accounts")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("psd2.toml").and(predicate::str::contains("client_id")));
}

#[test]
fn unreachable_bank_exits_6() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for bank in ["handelsbanken", "openpayments", "swedbank"] {
        bare_psd2(dir.path())
            .env("PSD2_BANK", bank)
            .env("PSD2_BASE_URL", format!("http://127.0.0.1:{port}/{bank}"))
            .env("PSD2_CLIENT_ID", "cli-test")
            .env("PSD2_BIC", "ESSESESS")
            .args(["consent", "create"])
            .assert()
            .code(6)
            .stderr(
                predicate::str::contains(bank).and(predicate::str::contains("transport error")),
            );
    }
}

#[test]
fn usage_errors_exit_2_and_help_exists_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    bare_psd2(dir.path()).arg("frobnicate").assert().code(2);
    bare_psd2(dir.path())
        .args(["transactions"])
        .assert()
        .code(2);
    bare_psd2(dir.path())
        .args(["accounts", "--format", "xml"])
        .assert()
        .code(2);
    // No bank configured at all.
    bare_psd2(dir.path())
        .arg("accounts")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("PSD2_BANK"));
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["consent", "--help"],
        vec!["consent", "create", "--help"],
        vec!["consent", "status", "--help"],
        vec!["consent", "delete", "--help"],
        vec!["sca", "--help"],
        vec!["accounts", "--help"],
        vec!["balances", "--help"],
        vec!["transactions", "--help"],
        vec!["cards", "--help"],
        vec!["completions", "--help"],
    ] {
        bare_psd2(dir.path())
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: psd2"));
    }
    bare_psd2(dir.path())
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_psd2").and(predicate::str::contains("transactions")));
    bare_psd2(dir.path())
        .args(["completions", "zsh"])
        .assert()
        .success()
        .stdout(predicate::str::contains("#compdef psd2"));
}

#[test]
fn demo_runs_to_completion_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = bare_psd2(dir.path())
        .arg("demo")
        .timeout(Duration::from_secs(180))
        .assert()
        .success()
        .get_output()
        .clone();
    let (stdout, _) = texts(&out);
    for name in ["Handelsbanken", "Open Payments", "Swedbank"] {
        assert!(stdout.contains(name), "{name} missing:\n{stdout}");
    }
    assert!(stdout.contains("Accounts and balances"), "{stdout}");
    assert!(
        stdout.contains("Transactions of private-1's first SEK account"),
        "{stdout}"
    );
    assert!(stdout.contains("Timings"), "{stdout}");
    assert!(stdout.contains("not offered"), "{stdout}");
    // Every bank read the whole default history (>= 10,000) of the long-history account.
    let summary: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Transactions of"))
        .skip(3)
        .take(3)
        .collect();
    assert_eq!(summary.len(), 3, "{stdout}");
    for line in summary {
        let count: u64 = line
            .split_whitespace()
            .find_map(|w| w.parse().ok())
            .unwrap();
        assert!(count >= 10_000, "{line}");
    }
    // No terminal: no progress bar control sequences.
    assert!(!stdout.contains('\u{1b}'), "escape codes in non-TTY output");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "demo took {:?}",
        started.elapsed()
    );
}
