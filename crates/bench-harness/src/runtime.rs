//! Rows measured by the `psd2-bench` crate: transaction streaming, memory, concurrency
//! (each sample a child process of the `psd2-bench` binary) and mapping (criterion).

use super::exec;
use super::report::{Row, Stats, Verdict, at_least, at_most};
use super::{Ctx, ratio};
use psd2_codegen::{Error, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// The two history lengths of the streaming and memory rows.
    pub histories: [u64; 2],
    /// Transactions per page.
    pub page_size: u64,
    /// Accounts of the concurrency row.
    pub accounts: u64,
    /// Added latency per call in the concurrency row.
    pub latency_ms: u64,
    /// Concurrency limit of the bounded helper.
    pub limit: u64,
    /// Samples per concurrency figure.
    pub reps: usize,
    /// Samples per streaming figure, per history length: a short run (about 2 s at
    /// 100,000) is noisier, so it gets more samples.
    pub stream_reps: [usize; 2],
    /// Listings per served-pages sample, per history length: a listing of 100,000 served
    /// transactions takes about 0.4 s, too short for a steady figure, so each of its samples
    /// lists the account several times in one process.
    pub served_passes: [u32; 2],
    /// Criterion: warm-up seconds, measurement seconds, samples.
    pub criterion: (f64, f64, usize),
}

/// Full-run sizes (the targets' figures).
pub const FULL: Sizes = Sizes {
    histories: [100_000, 1_000_000],
    page_size: 500,
    accounts: 50,
    latency_ms: 50,
    limit: 10,
    reps: 3,
    stream_reps: [7, 3],
    served_passes: [4, 1],
    criterion: (2.0, 5.0, 50),
};

/// Smoke sizes: every row, in seconds.
pub const SMOKE: Sizes = Sizes {
    histories: [2_000, 20_000],
    page_size: 500,
    accounts: 50,
    latency_ms: 10,
    limit: 10,
    reps: 1,
    stream_reps: [1, 1],
    served_passes: [1, 1],
    criterion: (0.2, 0.5, 10),
};

/// Builds `psd2-bench` (release, or dev in smoke mode) and returns the binary.
pub fn build_binary(ctx: &Ctx) -> Result<PathBuf> {
    let mut cmd = Command::new(exec::cargo());
    cmd.current_dir(&ctx.root)
        .args(["build", "-p", "psd2-bench", "--bin", "psd2-bench"]);
    if !ctx.smoke {
        cmd.arg("--release");
    }
    println!("building psd2-bench ({} profile)...", ctx.profile());
    ctx.add_setup(exec::timed(&mut cmd, &ctx.log)?);
    Ok(ctx
        .target
        .join(if ctx.smoke { "debug" } else { "release" })
        .join("psd2-bench"))
}

/// Runs the binary once; its last stdout line is a JSON object.
fn run_json(ctx: &Ctx, bin: &Path, args: &[String]) -> Result<Value> {
    let out = exec::output(Command::new(bin).args(args), &ctx.log)?;
    let line = out
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(line).map_err(|e| Error::Command {
        command: format!("{} {}", bin.display(), args.join(" ")),
        message: format!("unexpected output {line:?}: {e}"),
    })
}

/// One streaming mode at one history length: throughputs and peak RSS of each sample,
/// or why the mode is unavailable.
struct StreamSamples {
    tps: Vec<f64>,
    rss_mib: Vec<f64>,
}

/// One sample of `mode` over `history` transactions: transactions per second and peak RSS.
fn stream_once(
    ctx: &Ctx,
    bin: &Path,
    mode: &str,
    history: u64,
    sizes: &Sizes,
) -> std::result::Result<(f64, Option<f64>), String> {
    let args = vec![
        "stream".to_string(),
        "--mode".into(),
        mode.into(),
        "--transactions".into(),
        history.to_string(),
        "--page-size".into(),
        sizes.page_size.to_string(),
    ];
    let v = run_json(ctx, bin, &args).map_err(|e| e.to_string())?;
    if let Some(why) = v.get("unavailable").and_then(Value::as_str) {
        return Err(why.to_string());
    }
    let items = v.get("items").and_then(Value::as_u64).unwrap_or(0);
    if items != history {
        return Err(format!("{mode} streamed {items} of {history} transactions"));
    }
    let secs = v.get("secs").and_then(Value::as_f64).unwrap_or(f64::NAN);
    let rss = v
        .get("vm_hwm_kib")
        .and_then(Value::as_f64)
        .map(|kib| kib / 1024.0);
    Ok((items as f64 / secs, rss))
}

/// Samples of every mode in `modes`, interleaved (one of each per round), so a change in
/// the machine's load during the run affects all of them alike. A mode that fails once is
/// not run again.
fn stream_modes(
    ctx: &Ctx,
    bin: &Path,
    modes: &[&str],
    history: u64,
    reps: usize,
    sizes: &Sizes,
) -> Vec<std::result::Result<StreamSamples, String>> {
    let slots = modes.iter().map(|_| Ok(Vec::new())).collect();
    super::exec::interleaved(modes, slots, reps, |mode| {
        stream_once(ctx, bin, mode, history, sizes)
    })
    .into_iter()
    .map(|samples| {
        samples.map(|samples| StreamSamples {
            tps: samples.iter().map(|(tps, _)| *tps).collect(),
            rss_mib: samples.iter().filter_map(|(_, rss)| *rss).collect(),
        })
    })
    .collect()
}

/// Streaming and memory rows.
pub fn streaming_rows(ctx: &Ctx, bin: &Path, sizes: &Sizes) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut facade_rss: Vec<Option<Stats>> = Vec::new();
    for (history, reps) in sizes.histories.into_iter().zip(sizes.stream_reps) {
        println!(
            "end to end: streaming {history} transactions from the sandbox (facade, raw, floor)..."
        );
        let modes = ["facade", "raw", "floor"];
        let mut modes = stream_modes(ctx, bin, &modes, history, reps, sizes);
        let floor = modes.pop().unwrap_or_else(|| Err("not run".into()));
        let raw = modes.pop().unwrap_or_else(|| Err("not run".into()));
        let facade = modes.pop().unwrap_or_else(|| Err("not run".into()));
        let label = |who: &str| {
            format!(
                "end to end (sandbox-bound): streaming {} tx, pages of {}, {who} (tx/s, in-process sandbox over loopback)",
                super::report::num(history as f64),
                sizes.page_size
            )
        };
        let target = "facade ≥ 0.9x of raw";
        match (&facade, &raw) {
            (Ok(f), Ok(r)) => {
                let (fs, rs) = (Stats::of(&f.tps), Stats::of(&r.tps));
                let x = match (&fs, &rs) {
                    (Some(f), Some(r)) => Some(ratio(f.median, r.median)),
                    _ => None,
                };
                rows.push(Row {
                    what: label("facade vs raw client"),
                    unit: "tx/s",
                    ours: fs,
                    baseline: rs.map(|r| ("raw progenitor client".to_string(), r)),
                    ratio: x,
                    target: target.into(),
                    verdict: x.map_or(Verdict::Skipped("no samples".into()), |x| at_least(x, 0.9)),
                });
            }
            (Err(why), Ok(r)) => rows.push(Row {
                baseline: Stats::of(&r.tps).map(|r| ("raw progenitor client".to_string(), r)),
                unit: "tx/s",
                ..Row::skipped(label("facade vs raw client"), target, why.clone())
            }),
            (_, Err(why)) => rows.push(Row::skipped(
                label("facade vs raw client"),
                target,
                format!("raw client: {why}"),
            )),
        }
        match (&raw, &floor) {
            (Ok(r), Ok(fl)) => {
                let (rs, fls) = (Stats::of(&r.tps), Stats::of(&fl.tps));
                let x = match (&rs, &fls) {
                    (Some(r), Some(f)) => Some(ratio(r.median, f.median)),
                    _ => None,
                };
                rows.push(Row {
                    what: label("raw client vs floor"),
                    unit: "tx/s",
                    ours: rs,
                    baseline: fls.map(|f| ("reqwest + serde_json::from_slice".to_string(), f)),
                    ratio: x,
                    target: "report".into(),
                    verdict: Verdict::Info,
                });
            }
            (_, Err(why)) | (Err(why), _) => rows.push(Row::skipped(
                label("raw client vs floor"),
                "report",
                why.clone(),
            )),
        }
        facade_rss.push(match &facade {
            Ok(f) => Stats::of(&f.rss_mib),
            Err(_) => None,
        });
    }
    let what = format!(
        "memory: peak RSS (VmHWM) of the facade streaming run, {} vs {} tx",
        super::report::num(sizes.histories[1] as f64),
        super::report::num(sizes.histories[0] as f64)
    );
    let target = "within 10% (≤ 1.10x)";
    match (
        facade_rss.first().cloned().flatten(),
        facade_rss.get(1).cloned().flatten(),
    ) {
        (Some(small), Some(large)) => {
            let x = ratio(large.median, small.median);
            rows.push(Row {
                what,
                unit: "MiB",
                ours: Some(large),
                baseline: Some((
                    format!("{} tx", super::report::num(sizes.histories[0] as f64)),
                    small,
                )),
                ratio: Some(x),
                target: target.into(),
                verdict: at_most(x, 1.10),
            });
        }
        _ => rows.push(Row::skipped(
            what,
            target,
            "the facade streaming run is unavailable".into(),
        )),
    }
    rows
}

fn concurrency(
    ctx: &Ctx,
    bin: &Path,
    mode: &str,
    sizes: &Sizes,
) -> std::result::Result<Vec<f64>, String> {
    let mut secs = Vec::new();
    for _ in 0..sizes.reps {
        let args = vec![
            "concurrency".to_string(),
            "--mode".into(),
            mode.into(),
            "--accounts".into(),
            sizes.accounts.to_string(),
            "--latency-ms".into(),
            sizes.latency_ms.to_string(),
            "--limit".into(),
            sizes.limit.to_string(),
        ];
        let v = run_json(ctx, bin, &args).map_err(|e| e.to_string())?;
        if let Some(why) = v.get("unavailable").and_then(Value::as_str) {
            return Err(why.to_string());
        }
        secs.push(v.get("secs").and_then(Value::as_f64).unwrap_or(f64::NAN));
    }
    Ok(secs)
}

/// The concurrency row.
pub fn concurrency_row(ctx: &Ctx, bin: &Path, sizes: &Sizes) -> Row {
    println!(
        "concurrency: {} accounts, {} ms latency...",
        sizes.accounts, sizes.latency_ms
    );
    let what = format!(
        "concurrency: all transactions of {} accounts, {} ms added latency per call: `transactions_for_accounts` at limit {} vs sequential (wall time)",
        sizes.accounts, sizes.latency_ms, sizes.limit
    );
    let target = format!("≥ 8x faster at limit {}", sizes.limit);
    let bounded = concurrency(ctx, bin, "bounded", sizes);
    let sequential = concurrency(ctx, bin, "sequential", sizes);
    match (bounded, sequential) {
        (Ok(b), Ok(s)) => match (Stats::of(&b), Stats::of(&s)) {
            (Some(b), Some(s)) => {
                let x = ratio(s.median, b.median);
                Row {
                    what,
                    unit: "s",
                    ours: Some(b),
                    baseline: Some(("sequential".into(), s)),
                    ratio: Some(x),
                    target,
                    verdict: at_least(x, 8.0),
                }
            }
            _ => Row::skipped(what, target, "no samples".into()),
        },
        (Err(why), _) | (_, Err(why)) => Row::skipped(what, target, why),
    }
}

/// Per-iteration times (seconds) of one criterion benchmark, from its `sample.json`.
pub fn criterion_samples(dir: &Path) -> Option<Vec<f64>> {
    let text = std::fs::read_to_string(dir.join("new").join("sample.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let iters = v.get("iters")?.as_array()?;
    let times = v.get("times")?.as_array()?;
    Some(
        iters
            .iter()
            .zip(times)
            .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()? / 1e9))
            .collect(),
    )
}

/// The mapping row (criterion bench `mapping` of `psd2-bench`).
pub fn mapping_row(ctx: &Ctx, sizes: &Sizes) -> Row {
    let what = "mapping: one page of 500 enriched Open Payments transactions, deserialize + map to the domain vs deserialize into raw types (criterion)";
    let target = "mapping adds ≤ 20% (≤ 1.20x)";
    println!("criterion: mapping...");
    let group = ctx.target.join("criterion").join("mapping");
    for name in ["deserialize_raw", "deserialize_and_map"] {
        let _ = exec::remove_dir(&group.join(name).join("new"));
    }
    let (warm, measure, samples) = sizes.criterion;
    let bench = |ctx: &Ctx| {
        let mut cmd = Command::new(exec::cargo());
        cmd.current_dir(&ctx.root)
            .args(["bench", "-p", "psd2-bench", "--bench", "mapping"]);
        if ctx.smoke {
            cmd.args(["--profile", "dev"]);
        }
        cmd
    };
    match exec::timed(bench(ctx).arg("--no-run"), &ctx.log) {
        Ok(secs) => ctx.add_setup(secs),
        Err(e) => return Row::skipped(what, target, e.to_string()),
    }
    let mut cmd = bench(ctx);
    cmd.args([
        "--",
        "--warm-up-time",
        &warm.to_string(),
        "--measurement-time",
        &measure.to_string(),
        "--sample-size",
        &samples.to_string(),
        "--noplot",
    ]);
    if let Err(e) = exec::timed(&mut cmd, &ctx.log) {
        return Row::skipped(what, target, e.to_string());
    }
    let raw = criterion_samples(&group.join("deserialize_raw")).and_then(|s| Stats::of(&s));
    let mapped = criterion_samples(&group.join("deserialize_and_map")).and_then(|s| Stats::of(&s));
    let to_ms = |s: Stats| Stats {
        median: s.median * 1e3,
        min: s.min * 1e3,
        max: s.max * 1e3,
        n: s.n,
    };
    match (mapped, raw) {
        (Some(m), Some(r)) => {
            let x = ratio(m.median, r.median);
            Row {
                what: what.into(),
                unit: "ms",
                ours: Some(to_ms(m)),
                baseline: Some(("serde_json into raw types".into(), to_ms(r))),
                ratio: Some(x),
                target: target.into(),
                verdict: at_most(x, 1.2),
            }
        }
        (None, Some(r)) => Row {
            baseline: Some(("serde_json into raw types".into(), to_ms(r))),
            unit: "ms",
            ..Row::skipped(
                what,
                target,
                "the Open Payments adapter's mapping is not available yet".into(),
            )
        },
        _ => Row::skipped(what, target, "criterion wrote no samples".into()),
    }
}
