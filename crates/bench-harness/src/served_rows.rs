//! Rows that time the client, not the sandbox: a `psd2-bench serve` process records the
//! long account's pages from the sandbox once and serves them from memory over loopback;
//! every sample is a client process pulling all of them (`psd2-bench stream --at URL` in
//! facade, raw, floor and parse mode, and the openapi-generator peer). The same process
//! also times the sandbox serving those pages itself.

use super::exec;
use super::report::{Row, Stats, Verdict, at_least, num};
use super::runtime::Sizes;
use super::{Ctx, ratio};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A running `psd2-bench serve`.
struct ServeProcess {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// Its first line: where the pages are (`base_url`, `consent_id`, ...).
    served: Value,
}

impl ServeProcess {
    /// Starts `bin serve` and waits for its first line.
    fn start(
        ctx: &Ctx,
        bin: &Path,
        history: u64,
        page_size: u64,
        passes: usize,
    ) -> Result<Self, String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&ctx.log)
            .map_err(|e| format!("{}: {e}", ctx.log.display()))?;
        let mut child = Command::new(bin)
            .args(["serve", "--transactions", &history.to_string()])
            .args(["--page-size", &page_size.to_string()])
            .args(["--sandbox-passes", &passes.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("{} serve: {e}", bin.display()))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("serve: no standard output".into());
        };
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let served = match read.map(|_| serde_json::from_str::<Value>(&line)) {
            Ok(Ok(v)) => v,
            _ => {
                let _ = child.kill();
                let status = child.wait();
                return Err(format!(
                    "serve ended ({status:?}) without serving; see {}",
                    ctx.log.display()
                ));
            }
        };
        Ok(ServeProcess {
            child,
            stdout,
            served,
        })
    }

    /// `--at URL --token T --consent-id C --account A --date-from F --date-to T`.
    fn client_args(&self) -> Vec<String> {
        let field = |name: &str| {
            self.served
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let mut args = Vec::new();
        for (flag, name) in [
            ("--at", "base_url"),
            ("--token", "token"),
            ("--consent-id", "consent_id"),
            ("--account", "account"),
            ("--date-from", "date_from"),
            ("--date-to", "date_to"),
        ] {
            args.push(flag.to_string());
            args.push(field(name));
        }
        args
    }

    /// Closes its standard input (it stops serving) and returns its last line: what it
    /// served from memory and what it forwarded.
    fn finish(mut self) -> Result<Value, String> {
        drop(self.child.stdin.take());
        let mut last = String::new();
        let mut line = String::new();
        while self
            .stdout
            .read_line(&mut line)
            .map_err(|e| e.to_string())?
            > 0
        {
            if !line.trim().is_empty() {
                last = line.clone();
            }
            line.clear();
        }
        let status = self.child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("serve ended {status}"));
        }
        serde_json::from_str(&last).map_err(|e| format!("serve's last line {last:?}: {e}"))
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        // Only when `finish` was not reached: stop this run's own child.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Who pulls the pages in one sample.
#[derive(Debug, Clone)]
enum Client {
    /// `psd2-bench stream --mode MODE --at ...`.
    Bench(&'static str),
    /// The openapi-generator peer binary.
    Peer(PathBuf),
}

/// One sample: transactions per second and, where known, MB of JSON per second.
#[derive(Debug, Clone, Copy)]
struct Sample {
    tps: f64,
    mbps: Option<f64>,
    /// Microseconds of CPU (user + system, all threads) per transaction, where the client
    /// reports its CPU time.
    cpu_us: Option<f64>,
}

fn sample_once(
    ctx: &Ctx,
    bin: &Path,
    client: &Client,
    serve: &ServeProcess,
    history: u64,
    listings: u32,
    page_size: u64,
) -> Result<Sample, String> {
    let mut cmd = match client {
        Client::Bench(mode) => {
            let mut c = Command::new(bin);
            c.args([
                "stream",
                "--mode",
                mode,
                "--transactions",
                &history.to_string(),
            ])
            .args(["--page-size", &page_size.to_string()]);
            c
        }
        Client::Peer(peer) => Command::new(peer),
    };
    cmd.args(serve.client_args())
        .args(["--passes", &listings.to_string()]);
    let out = exec::output(&mut cmd, &ctx.log).map_err(|e| e.to_string())?;
    let line = out
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let v: Value = serde_json::from_str(line).map_err(|e| format!("{line:?}: {e}"))?;
    let items = v.get("items").and_then(Value::as_u64).unwrap_or(0);
    let expected = history.saturating_mul(u64::from(listings));
    if items != expected {
        return Err(format!(
            "{client:?} pulled {items} of {expected} transactions ({listings} listings of {history})"
        ));
    }
    let secs = v.get("secs").and_then(Value::as_f64).unwrap_or(f64::NAN);
    let mbps = v
        .get("bytes")
        .and_then(Value::as_f64)
        .map(|b| b / 1e6 / secs);
    let cpu_us = v
        .get("cpu_secs")
        .and_then(Value::as_f64)
        .filter(|c| *c > 0.0 && items > 0)
        .map(|c| c * 1e6 / items as f64);
    Ok(Sample {
        tps: items as f64 / secs,
        mbps,
        cpu_us,
    })
}

/// Every figure of one history length.
struct Figures {
    history: u64,
    page_size: u64,
    /// Listings per sample.
    passes: u32,
    /// Samples per client, in the order of the clients.
    samples: Vec<Result<Vec<Sample>, String>>,
    /// The sandbox's passes: (pages/s, tx/s).
    sandbox: Vec<(f64, f64)>,
    /// What the page server answered from memory and forwarded.
    stats: Result<Value, String>,
}

const MODES: [&str; 5] = ["facade", "raw", "floor", "parse", "facade-sequential"];

#[allow(clippy::too_many_arguments)]
fn measure(
    ctx: &Ctx,
    bin: &Path,
    peer: &Result<PathBuf, String>,
    history: u64,
    reps: usize,
    passes: usize,
    listings: u32,
    page_size: u64,
) -> Result<Figures, String> {
    let serve = ServeProcess::start(ctx, bin, history, page_size, passes)?;
    let sandbox = serve
        .served
        .get("sandbox")
        .and_then(Value::as_array)
        .map(|passes| {
            passes
                .iter()
                .filter_map(|p| {
                    let secs = p.get("secs")?.as_f64()?;
                    let pages = p.get("pages")?.as_f64()?;
                    let n = history as f64;
                    Some((pages / secs, n / secs))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut clients: Vec<Client> = MODES.iter().map(|m| Client::Bench(m)).collect();
    let mut slots: Vec<Result<Vec<Sample>, String>> =
        MODES.iter().map(|_| Ok(Vec::new())).collect();
    match peer {
        Ok(p) => {
            clients.push(Client::Peer(p.clone()));
            slots.push(Ok(Vec::new()));
        }
        Err(why) => {
            clients.push(Client::Bench("peer"));
            slots.push(Err(why.clone()));
        }
    }
    let samples = exec::interleaved(&clients, slots, reps, |client| {
        sample_once(ctx, bin, client, &serve, history, listings, page_size)
    });
    let stats = serve.finish();
    Ok(Figures {
        history,
        page_size,
        passes: listings,
        samples,
        sandbox,
        stats,
    })
}

fn stats_of(
    samples: &Result<Vec<Sample>, String>,
    f: impl Fn(&Sample) -> Option<f64>,
) -> Result<Stats, String> {
    let samples = samples.as_ref().map_err(Clone::clone)?;
    let values: Vec<f64> = samples.iter().filter_map(f).collect();
    Stats::of(&values).ok_or_else(|| "no samples".to_string())
}

/// A row comparing `ours` with `base`, or skipped with the first failure.
fn compare(
    what: String,
    unit: &'static str,
    ours: Result<Stats, String>,
    base_name: &str,
    base: Result<Stats, String>,
    target: &str,
    verdict: impl Fn(f64) -> Verdict,
) -> Row {
    match (ours, base) {
        (Ok(o), Ok(b)) => {
            let x = ratio(o.median, b.median);
            Row {
                what,
                unit,
                ours: Some(o),
                baseline: Some((base_name.to_string(), b)),
                ratio: Some(x),
                target: target.into(),
                verdict: verdict(x),
            }
        }
        (Err(why), b) => Row {
            unit,
            baseline: b.ok().map(|b| (base_name.to_string(), b)),
            ..Row::skipped(what, target, why)
        },
        (o, Err(why)) => Row {
            unit,
            ours: o.ok(),
            ..Row::skipped(what, target, format!("{base_name}: {why}"))
        },
    }
}

fn rows_of(f: &Figures) -> Vec<Row> {
    let tps = |i: usize| stats_of(&f.samples[i], |s| Some(s.tps));
    let mbps = |i: usize| stats_of(&f.samples[i], |s| s.mbps);
    let cpu = |i: usize| stats_of(&f.samples[i], |s| s.cpu_us);
    let (facade, raw, floor, parse, sequential, peer) = (0, 1, 2, 3, 4, 5);
    let base_size = format!("{} tx, pages of {}", num(f.history as f64), f.page_size);
    let size = match f.passes {
        1 => base_size.clone(),
        n => format!("{base_size}, {n} listings per sample"),
    };
    let label = |who: &str, unit: &str| {
        format!(
            "served pages: {size}, {who} ({unit}, pre-rendered pages from memory over loopback)"
        )
    };
    let floor_name = "reqwest + serde_json::from_slice (floor)";
    let parse_name = "serde_json::from_slice alone, same bytes in memory";
    let info = |_: f64| Verdict::Info;
    let mut rows = vec![
        compare(
            label("facade vs floor", "tx/s"),
            "tx/s",
            tps(facade),
            floor_name,
            tps(floor),
            "facade ≥ 0.9x of the floor",
            |x| at_least(x, 0.9),
        ),
        compare(
            label(
                "facade with read-ahead off (one page at a time) vs floor",
                "tx/s",
            ),
            "tx/s",
            tps(sequential),
            floor_name,
            tps(floor),
            "report",
            info,
        ),
        compare(
            label(
                "CPU per transaction, all threads: facade vs floor",
                "µs of CPU per tx; ratio above 1: the facade spends more",
            ),
            "µs",
            cpu(facade),
            floor_name,
            cpu(floor),
            "report",
            info,
        ),
        compare(
            label("raw client vs floor", "tx/s"),
            "tx/s",
            tps(raw),
            floor_name,
            tps(floor),
            "report",
            info,
        ),
        compare(
            label("floor vs serde_json alone", "tx/s"),
            "tx/s",
            tps(floor),
            parse_name,
            tps(parse),
            "report (the limit on one core)",
            info,
        ),
        compare(
            label("floor vs serde_json alone", "MB/s of JSON"),
            "MB/s",
            mbps(floor),
            parse_name,
            mbps(parse),
            "report (the limit on one core)",
            info,
        ),
        compare(
            label(
                "peer: facade with full domain mapping vs openapi-generator's `rust` client mapped to nothing",
                "tx/s",
            ),
            "tx/s",
            tps(facade),
            "openapi-generator `rust` (Open Payments spec)",
            tps(peer),
            "facade ≥ 1.0x of the peer",
            |x| at_least(x, 1.0),
        ),
    ];
    rows.extend(sandbox_rows(f, &base_size, tps(facade)));
    rows
}

/// The sandbox's own rate: tx/s against the facade's on served pages, and pages/s.
fn sandbox_rows(f: &Figures, size: &str, facade: Result<Stats, String>) -> Vec<Row> {
    let info = |_: f64| Verdict::Info;
    let mut out = Vec::new();
    let sandbox_tps = Stats::of(&f.sandbox.iter().map(|s| s.1).collect::<Vec<_>>())
        .ok_or_else(|| "no sandbox passes".to_string());
    let sandbox_pps = Stats::of(&f.sandbox.iter().map(|s| s.0).collect::<Vec<_>>());
    out.push(compare(
        format!("sandbox's own rate: {size}, the in-process sandbox serving the same requests, bodies read into bytes (tx/s; ratio: sandbox / facade on served pages)"),
        "tx/s",
        sandbox_tps,
        "facade on served pages",
        facade,
        "report",
        info,
    ));
    out.push(Row {
        what: format!("sandbox's own rate: {size} (pages/s)"),
        unit: "pages/s",
        ours: sandbox_pps,
        baseline: None,
        ratio: None,
        target: "report".into(),
        verdict: Verdict::Info,
    });
    out
}

/// The page server's own count, as a note.
fn note_of(f: &Figures) -> String {
    match &f.stats {
        Ok(v) => format!(
            "page server, {} tx: {} answers from memory ({} MB), {} forwarded to the sandbox (token calls)",
            num(f.history as f64),
            v.get("served").and_then(Value::as_u64).unwrap_or(0),
            v.get("served_bytes").and_then(Value::as_u64).unwrap_or(0) / 1_000_000,
            v.get("forwarded").and_then(Value::as_u64).unwrap_or(0)
        ),
        Err(e) => format!("page server, {} tx: {e}", num(f.history as f64)),
    }
}

/// Sandbox passes per history length (the long history's pass takes as long as the
/// recording).
fn passes(ctx: &Ctx) -> [usize; 2] {
    if ctx.smoke { [1, 1] } else { [3, 1] }
}

/// Every served-pages row, and notes on what the page server did.
pub fn served_rows(ctx: &Ctx, bin: &Path, sizes: &Sizes) -> (Vec<Row>, Vec<String>) {
    let peer = super::peer::build(ctx);
    if let Err(why) = &peer {
        println!("no openapi-generator peer: {why}");
    }
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    // Smoke mode: the shorter history only (the rows exist; the figures mean nothing).
    let histories = if ctx.smoke { 1 } else { sizes.histories.len() };
    for (((history, reps), passes), listings) in sizes
        .histories
        .into_iter()
        .zip(sizes.stream_reps)
        .zip(passes(ctx))
        .zip(sizes.served_passes)
        .take(histories)
    {
        println!(
            "served pages: {history} transactions (recording, then facade, raw, floor, parse, peer)..."
        );
        match measure(
            ctx,
            bin,
            &peer,
            history,
            reps,
            passes,
            listings,
            sizes.page_size,
        ) {
            Ok(f) => {
                rows.extend(rows_of(&f));
                notes.push(note_of(&f));
            }
            Err(why) => rows.push(Row::skipped(
                format!("served pages: {} tx", num(history as f64)),
                "see docs",
                why,
            )),
        }
    }
    (rows, notes)
}
