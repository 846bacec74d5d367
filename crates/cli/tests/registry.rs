//! Registry banks from the command line: `psd2 banks` and its filters, `--bank` by BIC (a
//! whole flow with embedded SCA and one with decoupled SCA against the sandbox), an unknown
//! bank, `registry_dir`, and `psd2 demo --all-banks` end to end.
//!
//! Expected values come from the registry files themselves, read here with `toml` (not
//! through `psd2-registry`), and from the sandbox's own fixtures.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Bench, bare_psd2, security_fixture, texts};
use psd2_sandbox::banks::berlingroup::HOST;
use psd2_sandbox::fixtures::AccountKind;
use serde_json::Value;

/// One registry file as plain TOML.
struct File {
    id: String,
    toml: toml::Table,
}

impl File {
    fn str(&self, key: &str) -> String {
        self.toml[key].as_str().unwrap().to_string()
    }
    fn list(&self, path: &[&str]) -> Vec<String> {
        let mut value = &toml::Value::Table(self.toml.clone());
        for key in path {
            value = &value[*key];
        }
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }
    fn profile_int(&self, table: &str, key: &str) -> i64 {
        self.toml["profile"][table][key].as_integer().unwrap()
    }
}

fn registry_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../registry")
}

/// Every `registry/*.toml`, by id (the file stem).
fn files() -> BTreeMap<String, File> {
    let mut files = BTreeMap::new();
    for item in std::fs::read_dir(registry_dir()).unwrap() {
        let path = item.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let id = path.file_stem().unwrap().to_str().unwrap().to_string();
            let toml: toml::Table =
                toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            files.insert(id.clone(), File { id, toml });
        }
    }
    files
}

fn banks_json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let output = bare_psd2(dir)
        .args(["banks", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let (out, err) = texts(&output);
    assert!(output.status.success(), "{err}");
    serde_json::from_str::<Vec<Value>>(&out).unwrap()
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn banks_lists_every_registry_file_with_its_facts() {
    let dir = tempfile::tempdir().unwrap();
    let files = files();
    assert!(files.len() >= 7, "{} registry files", files.len());
    let rows = banks_json(dir.path(), &[]);
    assert_eq!(ids(&rows), files.keys().cloned().collect::<Vec<_>>());
    for row in &rows {
        let file = &files[row["id"].as_str().unwrap()];
        assert_eq!(row["name"], file.str("name"), "{}", file.id);
        assert_eq!(row["country"], file.str("country"), "{}", file.id);
        assert_eq!(row["platform"], file.str("platform"), "{}", file.id);
        let bics: Vec<String> = serde_json::from_value(row["bics"].clone()).unwrap();
        assert_eq!(bics, file.list(&["bics"]), "{}", file.id);
        let approaches: Vec<String> = serde_json::from_value(row["scaApproaches"].clone()).unwrap();
        assert_eq!(
            approaches,
            file.list(&["profile", "sca_approaches"]),
            "{}",
            file.id
        );
        let live = file.toml["urls"]["live"].as_str().unwrap();
        assert_eq!(
            row["liveUrl"].as_str().unwrap().trim_end_matches('/'),
            live.trim_end_matches('/'),
            "{}",
            file.id
        );
    }
}

#[test]
fn banks_filters_by_country_and_bic() {
    let dir = tempfile::tempdir().unwrap();
    let files = files();
    for country in ["DE", "at", "SE", "NO"] {
        let expected: Vec<String> = files
            .values()
            .filter(|f| f.str("country").eq_ignore_ascii_case(country))
            .map(|f| f.id.clone())
            .collect();
        let rows = banks_json(dir.path(), &["--country", country]);
        assert_eq!(ids(&rows), expected, "--country {country}");
    }
    for file in files.values() {
        for bic in file.list(&["bics"]) {
            // The 8-character BIC and its head-office form with XXX find the same bank.
            for form in [bic.clone(), format!("{bic}XXX"), bic.to_ascii_lowercase()] {
                let rows = banks_json(dir.path(), &["--bic", &form]);
                assert_eq!(ids(&rows), vec![file.id.clone()], "--bic {form}");
            }
        }
    }
    // Nothing matches: an empty list, a note on stderr, exit 0.
    let output = bare_psd2(dir.path())
        .args(["banks", "--bic", "NOPEXXYY"])
        .output()
        .unwrap();
    let (out, err) = texts(&output);
    assert!(output.status.success(), "{err}");
    assert!(err.contains("no registry bank matches"), "{err}");
    assert_eq!(out.lines().count(), 2, "header and rule only: {out}");
    // CSV has the documented header.
    let output = bare_psd2(dir.path())
        .args(["banks", "--country", "de", "--format", "csv"])
        .output()
        .unwrap();
    let (out, _) = texts(&output);
    assert_eq!(
        out.lines().next(),
        Some("id,name,country,bics,platform,sca")
    );
}

#[test]
fn an_unknown_bank_points_to_psd2_banks_without_repeating_the_value() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--bank", "nordbank-191212", "accounts"],
        vec!["accounts", "--bank", "XXXXSESS"],
        vec!["--bank", "n26,lhv", "accounts"],
    ] {
        let output = bare_psd2(dir.path()).args(&args).output().unwrap();
        let (_, err) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            !err.contains("191212") && !err.contains("XXXXSESS"),
            "{err}"
        );
        if args.contains(&"n26,lhv") {
            assert!(err.contains("one bank"), "{err}");
        } else {
            assert!(err.contains("psd2 banks"), "{err}");
        }
    }
    // Embedded SCA is a registry bank's: a named bank says so before anything is sent
    // (nothing listens at the base URL).
    let output = bare_psd2(dir.path())
        .env("PSD2_BASE_URL", "http://127.0.0.1:9/swedbank")
        .env("PSD2_SESSION", dir.path().join("session.json"))
        .args([
            "--bank", "swedbank", "consent", "create", "--sca", "embedded",
        ])
        .output()
        .unwrap();
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("offers no embedded SCA"), "{err}");
    // The demo's --bank takes the named banks only.
    let output = bare_psd2(dir.path())
        .args(["demo", "--bank", "n26"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_registry_dir_adds_a_bank_and_a_broken_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("extra");
    std::fs::create_dir(&extra).unwrap();
    let mut text = std::fs::read_to_string(registry_dir().join("n26.toml")).unwrap();
    text = text
        .replace("name = \"N26 Bank\"", "name = \"Testbank\"")
        .replace("\"NTSBDEB1\"", "\"TESTSESS\"")
        .replace("country = \"DE\"", "country = \"SE\"");
    std::fs::write(extra.join("testbank.toml"), &text).unwrap();
    let output = bare_psd2(dir.path())
        .env("PSD2_REGISTRY_DIR", &extra)
        .args(["banks", "--country", "se", "--format", "json"])
        .output()
        .unwrap();
    let (out, err) = texts(&output);
    assert!(output.status.success(), "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(ids(&rows), vec!["testbank".to_string()]);
    // The config file's registry_dir, relative to the file, does the same.
    std::fs::write(dir.path().join("psd2.toml"), "registry_dir = \"extra\"\n").unwrap();
    let rows = banks_json(dir.path(), &["--bic", "TESTSESS"]);
    assert_eq!(ids(&rows), vec!["testbank".to_string()]);
    // A broken file: exit 2 naming the file and the key.
    std::fs::write(
        extra.join("broken.toml"),
        text.replace("page_size = 10000", "page_size = 0"),
    )
    .unwrap();
    let output = bare_psd2(dir.path()).args(["banks"]).output().unwrap();
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("broken.toml") && err.contains("profile.transactions.page_size"),
        "{err}"
    );
}

/// `psd2 ARGS` against a registry bank of `bench`'s sandbox, the bank chosen by `--bank`.
fn registry_psd2(bench: &Bench, id: &str, bank_arg: &str, args: &[&str]) -> std::process::Output {
    registry_cmd(bench, id, bank_arg, args).output().unwrap()
}

/// [`registry_psd2`] with `input` on stdin.
fn registry_psd2_stdin(
    bench: &Bench,
    id: &str,
    bank_arg: &str,
    args: &[&str],
    input: &str,
) -> std::process::Output {
    use std::io::Write as _;
    let mut child = registry_cmd(bench, id, bank_arg, args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn registry_cmd(bench: &Bench, id: &str, bank_arg: &str, args: &[&str]) -> std::process::Command {
    let entry = bench.sandbox.registry_bank(id).unwrap().entry().clone();
    let mut cmd = common::bare_std(bench.dir.path());
    cmd.env("PSD2_BASE_URL", bench.sandbox.registry_url(&entry))
        .env("PSD2_PSU_ID", "private-1")
        .env("PSD2_SESSION", bench.session_path())
        .env(
            "PSD2_SIGNING_CERTIFICATE",
            security_fixture("test-signing-cert.pem"),
        )
        .env("PSD2_SIGNING_KEY", security_fixture("test-signing-key.pem"))
        .env("PSD2_PSU_PASSWORD", psd2_sandbox::EMBEDDED_PASSWORD)
        .args(["--bank", bank_arg])
        .args(args);
    cmd
}

/// The IBANs of `private-1`'s payment accounts in the sandbox's data for bank `id` (a
/// registry bank serves the account set of the sandbox's `HOST` bank, from its own seed).
fn fixture_ibans(bench: &Bench, id: &str) -> Vec<String> {
    let mut ibans: Vec<String> = bench
        .sandbox
        .registry_bank(id)
        .unwrap()
        .fixtures()
        .accounts_of(HOST, "private-1", AccountKind::Payment)
        .into_iter()
        .filter_map(|a| a.iban.clone())
        .collect();
    ibans.sort();
    ibans
}

fn account_ibans(output: &std::process::Output) -> Vec<String> {
    let (out, err) = texts(output);
    assert!(output.status.success(), "{err}");
    let accounts: Vec<Value> = serde_json::from_str(&out).unwrap();
    let mut ibans: Vec<String> = accounts
        .iter()
        .filter_map(|a| a["iban"].as_str().map(str::to_string))
        .collect();
    ibans.sort();
    ibans
}

#[test]
fn bank_by_bic_runs_embedded_sca_and_reads_the_accounts() {
    let bench = Bench::start();
    let files = files();
    let bic = files["consorsbank"].list(&["bics"])[0].clone();
    // A wrong one-time code fails SCA; neither secret shows up anywhere.
    let output = registry_psd2(
        &bench,
        "consorsbank",
        &format!("{bic}XXX"),
        &["consent", "create", "--sca", "embedded", "--otp", "987650"],
    );
    let (out, err) = texts(&output);
    assert!(!output.status.success(), "{out}");
    for text in [&out, &err] {
        assert!(!text.contains(psd2_sandbox::EMBEDDED_PASSWORD), "{text}");
        assert!(!text.contains("987650"), "{text}");
    }
    // The right one, typed on stdin, authorises the consent in the same command; the
    // prompt goes to stderr, and the code is not echoed.
    let output = registry_psd2_stdin(
        &bench,
        "consorsbank",
        &bic,
        &["consent", "create", "--sca", "embedded", "--format", "json"],
        &format!("{}\n", psd2_sandbox::EMBEDDED_OTP),
    );
    let (out, err) = texts(&output);
    assert!(output.status.success(), "{err}");
    assert!(err.contains("one-time code"), "{err}");
    for text in [&out, &err] {
        assert!(!text.contains(psd2_sandbox::EMBEDDED_PASSWORD), "{text}");
        assert!(!text.contains(psd2_sandbox::EMBEDDED_OTP), "{text}");
    }
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["authorised"], true, "{out}");
    assert_eq!(bench.session()["bank"], "consorsbank");
    assert_eq!(bench.session()["authorised"], true);
    let output = registry_psd2(
        &bench,
        "consorsbank",
        "Consorsbank",
        &["accounts", "--format", "json"],
    );
    let ibans = account_ibans(&output);
    assert!(!ibans.is_empty());
    assert_eq!(ibans, fixture_ibans(&bench, "consorsbank"));

    // A stored consent authorised later with `psd2 sca --method embedded`: a method the bank
    // does not offer is refused naming the offered ones; the second offered one works.
    let output = registry_psd2(&bench, "consorsbank", &bic, &["consent", "create"]);
    assert!(output.status.success(), "{}", texts(&output).1);
    assert_eq!(bench.session()["authorised"], false);
    let sca = |method: &str| {
        registry_psd2(
            &bench,
            "consorsbank",
            &bic,
            &[
                "sca",
                "--method",
                "embedded",
                "--sca-method",
                method,
                "--otp",
                psd2_sandbox::EMBEDDED_OTP,
            ],
        )
    };
    let output = sca("push-otp");
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("sms-otp, chip-otp"), "{err}");
    assert!(err.contains("--sca-method ID"), "{err}");
    // What cannot be right is refused before the password leaves: with a wrong password in
    // the environment the answer is still the usage error, never the bank's refusal.
    let wrong_password = |method: &str, otp: &str| {
        registry_cmd(
            &bench,
            "consorsbank",
            &bic,
            &[
                "sca",
                "--method",
                "embedded",
                "--sca-method",
                method,
                "--otp",
                otp,
            ],
        )
        .env("PSD2_PSU_PASSWORD", "not-the-password")
        .output()
        .unwrap()
    };
    let too_long = "m".repeat(36);
    for (method, otp) in [
        ("sms otp", psd2_sandbox::EMBEDDED_OTP),
        (too_long.as_str(), psd2_sandbox::EMBEDDED_OTP),
        ("sms-otp", "12 34"),
    ] {
        let output = wrong_password(method, otp);
        let (_, err) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{method} {otp}: {err}");
        assert!(!err.contains("PSU_CREDENTIALS_INVALID"), "{err}");
    }
    let output = sca("chip-otp");
    let (out, err) = texts(&output);
    assert!(output.status.success(), "{err}");
    assert!(!out.contains(psd2_sandbox::EMBEDDED_OTP) && !err.contains(psd2_sandbox::EMBEDDED_OTP));
    assert_eq!(bench.session()["authorised"], true);

    // The same wrong password with usable arguments does reach the bank (which refuses it,
    // failing that consent's SCA): the refusals above were the CLI's own.
    let output = registry_psd2(&bench, "consorsbank", &bic, &["consent", "create"]);
    assert!(output.status.success(), "{}", texts(&output).1);
    let output = wrong_password("sms-otp", psd2_sandbox::EMBEDDED_OTP);
    let (_, err) = texts(&output);
    assert_ne!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("PSU_CREDENTIALS_INVALID"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");
}

#[test]
fn bank_by_bic_runs_decoupled_sca_and_reads_transactions() {
    let bench = Bench::start();
    let files = files();
    let bic = files["n26"].list(&["bics"])[0].clone();
    let run = |args: &[&str]| registry_psd2(&bench, "n26", &bic, args);
    let output = run(&["consent", "create"]);
    assert!(output.status.success(), "{}", texts(&output).1);
    let output = run(&["sca", "--method", "decoupled", "--timeout", "30"]);
    assert!(output.status.success(), "{}", texts(&output).1);
    let output = run(&["accounts", "--format", "json"]);
    let ibans = account_ibans(&output);
    assert_eq!(ibans, fixture_ibans(&bench, "n26"));
    let iban = ibans.first().unwrap().clone();
    // The bank keeps 90 days: a period inside them is read.
    let today = bench.sandbox.today();
    let inside = today.checked_sub_days(chrono::Days::new(80)).unwrap();
    let output = run(&[
        "transactions",
        &iban,
        "--from",
        &inside.to_string(),
        "--format",
        "json",
    ]);
    let (out, err) = texts(&output);
    assert!(output.status.success(), "{err}");
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(!list.is_empty());
    for t in &list {
        let booked = t["bookingDate"].as_str().unwrap();
        assert!(
            booked >= inside.to_string().as_str(),
            "{booked} before {inside}"
        );
    }
    // N26 reports no pending entries: asking for both is refused before any call.
    let output = run(&["transactions", &iban, "--status", "both"]);
    assert!(!output.status.success());
}

#[test]
fn a_bank_requiring_psu_ip_gets_the_tpp_address_for_unattended_calls() {
    let bench = Bench::start();
    let files = files();
    assert_eq!(
        files["lhv"].toml["profile"]["psu_ip_address"].as_str(),
        Some("required")
    );
    let run = |args: &[&str]| registry_psd2(&bench, "lhv", "lhv", args);
    // Consent and SCA with the PSU present.
    let output = run(&["--psu-ip", "127.0.0.1", "consent", "create"]);
    assert!(output.status.success(), "{}", texts(&output).1);
    let output = run(&[
        "--psu-ip",
        "127.0.0.1",
        "sca",
        "--method",
        "decoupled",
        "--timeout",
        "30",
    ]);
    assert!(output.status.success(), "{}", texts(&output).1);
    // Unattended, without an address to send: refused before anything is sent.
    let output = run(&["accounts"]);
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("PSU-IP-Address"), "{err}");
    // With the TPP's address configured, the call goes out and the accounts come back.
    let output = registry_cmd(&bench, "lhv", "lhv", &["accounts", "--format", "json"])
        .env("PSD2_TPP_IP_ADDRESS", "192.0.2.10")
        .output()
        .unwrap();
    assert_eq!(account_ibans(&output), fixture_ibans(&bench, "lhv"));
    let output = registry_cmd(&bench, "lhv", "lhv", &["accounts"])
        .env("PSD2_TPP_IP_ADDRESS", "not-an-address")
        .output()
        .unwrap();
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("tpp_ip_address") && !err.contains("not-an-address"),
        "{err}"
    );
}

/// The rows of the `--all-banks` table: id → its cells.
fn registry_rows(out: &str) -> BTreeMap<String, Vec<String>> {
    let mut lines = out
        .lines()
        .skip_while(|l| !l.starts_with("bank ") || !l.contains("platform"));
    lines.next();
    lines.next();
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            (cells[0].clone(), cells)
        })
        .collect()
}

#[test]
fn all_banks_demo_walks_every_registry_bank() {
    let dir = tempfile::tempdir().unwrap();
    let output = bare_psd2(dir.path())
        .args([
            "demo",
            "--all-banks",
            "--bank",
            "swedbank",
            "--history-size",
            "300",
        ])
        .output()
        .unwrap();
    let (out, err) = texts(&output);
    assert!(output.status.success(), "{out}\n{err}");
    let rows = registry_rows(&out);
    let files = files();
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        files.keys().collect::<Vec<_>>(),
        "{out}"
    );
    for (id, cells) in &rows {
        let file = &files[id];
        // bank, country, platform, sca, accounts, transactions, time
        assert_eq!(cells[1], file.str("country"), "{id}");
        assert_eq!(cells[2], file.str("platform"), "{id}");
        assert_eq!(
            cells[3],
            file.list(&["profile", "sca_approaches"])[0],
            "{id}"
        );
        let accounts: usize = cells[4].parse().unwrap();
        assert!(accounts > 0, "{id}: {cells:?}");
        let first_page: i64 = cells[5].parse().unwrap();
        let page_size = file.profile_int("transactions", "page_size");
        assert!(
            first_page > 0 && first_page <= page_size,
            "{id}: {first_page} entries, page size {page_size}"
        );
    }
}

#[test]
fn the_architecture_docs_example_is_a_registry_file() {
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/architecture.md"),
    )
    .unwrap();
    let section = docs
        .split("### A complete example")
        .nth(1)
        .expect("the example section");
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block");
    let example: toml::Table = toml::from_str(block).unwrap();
    let file: toml::Table =
        toml::from_str(&std::fs::read_to_string(registry_dir().join("consorsbank.toml")).unwrap())
            .unwrap();
    assert_eq!(example, file);
}
