//! The config file's `[retry]` table reaches every bank's adapter: requests are counted by
//! a forwarding proxy between `psd2` and the sandbox (what went over the wire, not what the
//! library reports), with the sandbox's fault rules failing the account listing. Bad
//! `[retry]` values are configuration errors naming the key, never the value.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::Response;
use common::{BANKS, Bench, FakeBank, texts};
use serde_json::json;

/// Exit code of a bank error (HTTP 503 is `BankUnavailable`), as docs/cli.md's table says.
const EXIT_BANK: i32 = 5;
/// Exit code of a usage or configuration error, as docs/cli.md's table says.
const EXIT_CONFIG: i32 = 2;
/// The documented default of `max_attempts`.
const DEFAULT_ATTEMPTS: usize = 4;

/// A proxy in front of the sandbox that forwards every request unchanged and remembers its
/// method and path.
struct Proxy {
    url: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

struct Upstream {
    base: String,
    client: reqwest::Client,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl Proxy {
    /// Serves on a free local port, on `bench`'s runtime, forwarding to its sandbox.
    fn start(bench: &Bench) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let upstream = Arc::new(Upstream {
            base: bench.sandbox.base_url().trim_end_matches('/').to_string(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            seen: seen.clone(),
        });
        let listener = bench
            .runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new().fallback(forward).with_state(upstream);
        bench.runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            seen,
        }
    }

    /// The `GET`s of an account listing (`…/accounts`, no account id after it) seen since
    /// the last call, which forgets them.
    fn take_account_listings(&self) -> usize {
        let mut seen = self.seen.lock().unwrap();
        let n = seen
            .iter()
            .filter(|(method, path)| method == "GET" && path.ends_with("/accounts"))
            .count();
        seen.clear();
        n
    }
}

async fn forward(State(up): State<Arc<Upstream>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    up.seen
        .lock()
        .unwrap()
        .push((parts.method.to_string(), parts.uri.path().to_string()));
    let target = match parts.uri.path_and_query() {
        Some(pq) => format!("{}{}", up.base, pq.as_str()),
        None => up.base.clone(),
    };
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut outgoing = up.client.request(parts.method, target).body(body);
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != header::TRANSFER_ENCODING && name != header::CONTENT_LENGTH {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap();
    response.body(Body::from(bytes)).unwrap()
}

/// `psd2 ARGS` for `bank`, through the proxy.
fn via_proxy(bench: &Bench, proxy: &Proxy, bank: &str, args: &[&str]) -> Command {
    let mut cmd = bench.psd2(bank, args);
    cmd.env("PSD2_BASE_URL", format!("{}/{bank}", proxy.url));
    cmd
}

/// Writes `./psd2.toml` of the commands' working directory (the bank and the rest come
/// from the environment).
fn write_config(bench: &Bench, text: &str) {
    std::fs::write(bench.dir.path().join("psd2.toml"), text).unwrap();
}

/// Every GET of `bank`'s account listing answers 503 (`every` 1), or every second one.
fn fail_listings(bench: &Bench, bank: &str, every: u64) {
    assert!((200..300).contains(&clear_faults(bench)));
    let rule = json!({
        "bank": bank, "pathContains": "/accounts", "method": "GET",
        "serverErrorEvery": every, "serverErrorStatus": 503
    });
    assert_eq!(bench.admin_post("/faults", rule), 200);
}

/// `DELETE /admin/faults`: the sandbox's fault rules (and their call counters) are gone.
fn clear_faults(bench: &Bench) -> u16 {
    let url = format!("{}/admin/faults", bench.sandbox.base_url());
    bench.runtime.block_on(async move {
        reqwest::Client::new()
            .delete(url)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

/// Runs `psd2 accounts` and returns its exit code and how many listings went over the wire.
fn accounts(bench: &Bench, proxy: &Proxy, bank: &str) -> (i32, usize) {
    let out = via_proxy(bench, proxy, bank, &["accounts"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    if code != 0 && code != EXIT_BANK {
        let (_, stderr) = texts(&out);
        panic!("{bank}: unexpected exit {code}: {stderr}");
    }
    (code, proxy.take_account_listings())
}

fn policy_reaches_the_adapter(bank: &str) {
    let mut bench = Bench::start();
    // The PSU is present: no listing counts against the consent's frequencyPerDay.
    bench.psu_ip = Some("192.0.2.10");
    let proxy = Proxy::start(&bench);
    for args in [
        &["consent", "create"][..],
        &["sca", "--method", "decoupled", "--timeout", "30"],
    ] {
        let out = via_proxy(&bench, &proxy, bank, args).output().unwrap();
        assert!(out.status.success(), "{bank} {args:?}: {}", texts(&out).1);
    }
    // Nothing failing yet: one listing per command.
    assert_eq!(accounts(&bench, &proxy, bank), (0, 1), "{bank}");

    fail_listings(&bench, bank, 1);
    write_config(&bench, "[retry]\nmax_attempts = 1\n");
    assert_eq!(accounts(&bench, &proxy, bank), (EXIT_BANK, 1), "{bank}");

    write_config(&bench, "[retry]\nmax_attempts = 2\nbase_delay = \"5ms\"\n");
    assert_eq!(accounts(&bench, &proxy, bank), (EXIT_BANK, 2), "{bank}");

    // No [retry] table: the documented default of 4 attempts.
    write_config(&bench, "");
    assert_eq!(
        accounts(&bench, &proxy, bank),
        (EXIT_BANK, DEFAULT_ATTEMPTS),
        "{bank}"
    );

    // max_elapsed reaches the adapter too: after the first wait (1 s) less than the
    // second (2 s) is left of it, so two attempts of the ten allowed are sent.
    write_config(
        &bench,
        "[retry]\nmax_attempts = 10\nbase_delay = \"1s\"\njitter = false\nmax_elapsed = \"3s\"\n",
    );
    let started = Instant::now();
    assert_eq!(accounts(&bench, &proxy, bank), (EXIT_BANK, 2), "{bank}");
    assert!(started.elapsed() >= Duration::from_secs(1), "{bank}");

    // Every second listing fails: the default policy sends the failed one again and the
    // command succeeds; with one attempt the same failure ends the command.
    fail_listings(&bench, bank, 2);
    write_config(&bench, "");
    assert_eq!(accounts(&bench, &proxy, bank), (0, 1), "{bank}: call 1");
    assert_eq!(accounts(&bench, &proxy, bank), (0, 2), "{bank}: calls 2, 3");
    write_config(&bench, "[retry]\nmax_attempts = 1\n");
    assert_eq!(
        accounts(&bench, &proxy, bank),
        (EXIT_BANK, 1),
        "{bank}: call 4"
    );
    assert_eq!(accounts(&bench, &proxy, bank), (0, 1), "{bank}: call 5");
}

#[test]
fn retry_table_reaches_handelsbanken() {
    policy_reaches_the_adapter(BANKS[0].0);
}

#[test]
fn retry_table_reaches_openpayments() {
    policy_reaches_the_adapter(BANKS[1].0);
}

#[test]
fn retry_table_reaches_swedbank() {
    policy_reaches_the_adapter(BANKS[2].0);
}

/// A value shaped like a PSU id: it must never be echoed.
const SECRET: &str = "191212121212";

#[test]
fn bad_retry_values_are_config_errors_naming_the_key() {
    // (file, the key the message must name, its line)
    let cases = [
        ("[retry]\nmax_attempts = \"x\"\n", "retry.max_attempts", 2),
        (
            &format!("[retry]\nmax_attempts = \"{SECRET}\"\n"),
            "retry.max_attempts",
            2,
        ),
        (
            &format!("[retry]\nmax_attempts = {SECRET}\n"),
            "retry.max_attempts",
            2,
        ),
        (
            &format!("[retry]\njitter = true\nmax_atempts = {SECRET}\n"),
            "max_atempts",
            3,
        ),
        (&format!("[retry]\npsu_id = \"{SECRET}\"\n"), "psu_id", 2),
        (
            &format!("[retry]\nbase_delay = -{SECRET}\n"),
            "retry.base_delay",
            2,
        ),
        (
            &format!("[retry]\nmax_delay = \"-{SECRET}ms\"\n"),
            "retry.max_delay",
            2,
        ),
        (
            &format!("[retry]\nmax_elapsed = \"{SECRET}h\"\n"),
            "retry.max_elapsed",
            2,
        ),
        (
            &format!("[retry]\nretry_after_cap = {SECRET}\n"),
            "retry.retry_after_cap",
            2,
        ),
        (
            &format!("[retry]\nbase_delay = \"{SECRET} fortnights\"\n"),
            "retry.base_delay",
            2,
        ),
        (
            &format!("[retry]\njitter = \"{SECRET}\"\n"),
            "retry.jitter",
            2,
        ),
        (&format!("retry = {SECRET}\n"), "retry", 1),
        (&format!("[retyr]\nmax_attempts = {SECRET}\n"), "retyr", 1),
    ];
    // A bank that counts what reaches it: a config error sends nothing.
    let bank = FakeBank::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("psd2.toml");
    // The exit code of a config error this table has nothing to do with.
    std::fs::write(&path, "bank = \"nordea\"\n").unwrap();
    let other = common::bare_psd2(dir.path())
        .args(["--config", path.to_str().unwrap(), "accounts"])
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(EXIT_CONFIG));
    // Each file plainly, and with `-v` and the library's logs at their most talkative.
    let runs = cases.iter().flat_map(|case| [(case, false), (case, true)]);
    for ((file, key, line), verbose) in runs {
        std::fs::write(&path, file).unwrap();
        let mut cmd = common::bare_psd2(dir.path());
        cmd.env("PSD2_BANK", "swedbank")
            .env("PSD2_BASE_URL", &bank.url)
            .env("PSD2_SESSION", dir.path().join("session.json"))
            .args(["--config", path.to_str().unwrap(), "accounts"]);
        if verbose {
            cmd.arg("-v").env("RUST_LOG", "trace");
        }
        let out = cmd.output().unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), other.status.code(), "{file:?}: {stderr}");
        assert!(
            stderr.contains(&format!("`{key}`")) || stderr.contains(&format!("{key} ")),
            "{file:?}: the key is not named: {stderr}"
        );
        assert!(
            stderr.contains("psd2.toml") && stderr.contains(&format!("line {line}")),
            "{file:?}: {stderr}"
        );
        assert!(
            !stderr.contains(SECRET) && !stdout.contains(SECRET),
            "{file:?}: the value is echoed: {stderr}"
        );
    }
    assert_eq!(bank.requests(), 0, "a bad config sent a request");
}

#[test]
fn example_config_retry_block_is_valid() {
    // psd2.example.toml shows the table commented out; uncommented it must load.
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../psd2.example.toml"
    ))
    .unwrap();
    let start = example
        .find("# [retry]")
        .expect("psd2.example.toml shows a [retry] table");
    let mut config = String::from("bank = \"swedbank\"\n");
    for line in example[start..].lines() {
        let Some(line) = line.strip_prefix("# ") else {
            break;
        };
        config.push_str(line);
        config.push('\n');
    }
    assert!(config.contains("max_attempts"), "{config}");
    // A bank answering 404 (never retried): the command gets past the config to one call.
    let bank = FakeBank::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("psd2.toml"), &config).unwrap();
    let out = common::swedbank_at(dir.path(), &bank.url, "consent-1", &["accounts"])
        .output()
        .unwrap();
    let (_, stderr) = texts(&out);
    assert_ne!(out.status.code(), Some(EXIT_CONFIG), "{stderr}");
    assert!(!stderr.contains("config file"), "{stderr}");
    assert_eq!(bank.requests(), 1, "{stderr}");
}
