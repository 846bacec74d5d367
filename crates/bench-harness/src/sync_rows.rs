//! Rows of the `psd2-sync` benchmarks, each sample a child process of the `psd2-bench-sync`
//! binary (`crates/bench/src/sync.rs`) against the in-process sandbox:
//!
//! - sync throughput into SQLite and into PostgreSQL against the facade's plain stream of
//!   the same account (≥ 0.7x), the pages built by the sandbox, and again with the pages
//!   served from memory (`psd2_bench::page_server`), which times the client and the store
//!   alone;
//! - the incremental cost of a second sync after new entries (< 1% of the first), from the
//!   sandbox and from served pages;
//! - scale-out: 4 workers against 1 on one PostgreSQL store with latency per bank call
//!   (≥ 3.5x).
//!
//! PostgreSQL rows use `PSD2_TEST_DATABASE_URL` (the cluster `.ci/run` starts); without it
//! they are skipped with that reason.

use super::exec;
use super::report::{Row, Stats, at_least, at_most};
use super::{Ctx, ratio};
use psd2_codegen::{Error, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Sizes of the sync rows.
#[derive(Debug, Clone, Copy)]
struct SyncSizes {
    throughput: u64,
    incremental: u64,
    new_entries: u64,
    connections: u64,
    latency_ms: u64,
    reps: usize,
}

const FULL: SyncSizes = SyncSizes {
    throughput: 100_000,
    incremental: 1_000_000,
    new_entries: 100,
    // 80 connections: 20 per worker, so the last connection's sync (the tail a round
    // cannot share) is a small part of a round.
    connections: 80,
    latency_ms: 50,
    reps: 3,
};

const SMOKE: SyncSizes = SyncSizes {
    throughput: 2_000,
    incremental: 5_000,
    new_entries: 10,
    connections: 6,
    latency_ms: 10,
    reps: 1,
};

/// Every sync row (skipped rows say why).
pub fn sync_rows(ctx: &Ctx) -> Vec<Row> {
    let sizes = if ctx.smoke { SMOKE } else { FULL };
    let bin = match build(ctx) {
        Ok(bin) => bin,
        Err(e) => {
            return vec![Row::skipped(
                "sync",
                "see docs",
                format!("building psd2-bench-sync failed: {e}"),
            )];
        }
    };
    let postgres = std::env::var("PSD2_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let mut rows = Vec::new();
    for pages in [Pages::Sandbox, Pages::Served] {
        rows.push(throughput_row(
            ctx,
            &bin,
            ("SQLite", Some("sqlite".into())),
            pages,
            &sizes,
        ));
        rows.push(throughput_row(
            ctx,
            &bin,
            ("PostgreSQL", postgres.clone()),
            pages,
            &sizes,
        ));
    }
    rows.push(incremental_row(ctx, &bin, Pages::Sandbox, &sizes));
    rows.push(incremental_row(ctx, &bin, Pages::Served, &sizes));
    rows.push(scale_out_row(ctx, &bin, postgres, &sizes));
    rows
}

/// Where a row's bank pages come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pages {
    /// The in-process sandbox builds them.
    Sandbox,
    /// A page server answers them from memory.
    Served,
}

impl Pages {
    fn arg(self) -> &'static str {
        match self {
            Pages::Sandbox => "sandbox",
            Pages::Served => "served",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Pages::Sandbox => "pages from the sandbox",
            Pages::Served => "pages served from memory",
        }
    }
}

fn build(ctx: &Ctx) -> Result<PathBuf> {
    let mut cmd = Command::new(exec::cargo());
    cmd.current_dir(&ctx.root)
        .args(["build", "-p", "psd2-bench", "--bin", "psd2-bench-sync"]);
    if !ctx.smoke {
        cmd.arg("--release");
    }
    println!("building psd2-bench-sync ({} profile)...", ctx.profile());
    ctx.add_setup(exec::timed(&mut cmd, &ctx.log)?);
    Ok(ctx
        .target
        .join(if ctx.smoke { "debug" } else { "release" })
        .join("psd2-bench-sync"))
}

/// Runs the binary once; its last stdout line is a JSON object.
fn run_json(ctx: &Ctx, bin: &Path, args: &[String]) -> std::result::Result<Value, String> {
    let out = exec::output(Command::new(bin).args(args), &ctx.log).map_err(|e| e.to_string())?;
    let line = out
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(line).map_err(|e| {
        Error::Command {
            command: format!("{} {}", bin.display(), args.join(" ")),
            message: format!("unexpected output {line:?}: {e}"),
        }
        .to_string()
    })
}

fn field(v: &Value, name: &str) -> f64 {
    v.get(name).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn throughput_row(
    ctx: &Ctx,
    bin: &Path,
    (label, database): (&str, Option<String>),
    pages: Pages,
    sizes: &SyncSizes,
) -> Row {
    let what = format!(
        "sync throughput into {label}, {}: one account of {} transactions, first sync vs the facade's plain stream of the same account and window",
        pages.label(),
        sizes.throughput
    );
    let target = "≥ 0.7x the plain stream";
    let Some(database) = database else {
        return Row::skipped(what, target, "PSD2_TEST_DATABASE_URL is not set".into());
    };
    println!("sync throughput into {label}, {}...", pages.label());
    let (mut sync, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..sizes.reps {
        let n = sizes.throughput.to_string();
        let list = [
            "--database",
            &database,
            "throughput",
            "--transactions",
            &n,
            "--pages",
            pages.arg(),
        ];
        match run_json(ctx, bin, &args(&list)) {
            Ok(v) => {
                sync.push(field(&v, "sync_per_sec"));
                plain.push(field(&v, "plain_per_sec"));
            }
            Err(why) => return Row::skipped(what, target, why),
        }
    }
    match (Stats::of(&sync), Stats::of(&plain)) {
        (Some(s), Some(p)) => {
            let x = ratio(s.median, p.median);
            Row {
                what,
                unit: "tx/s",
                ours: Some(s),
                baseline: Some(("plain stream".into(), p)),
                ratio: Some(x),
                target: target.into(),
                verdict: at_least(x, 0.7),
            }
        }
        _ => Row::skipped(what, target, "no samples".into()),
    }
}

fn incremental_row(ctx: &Ctx, bin: &Path, pages: Pages, sizes: &SyncSizes) -> Row {
    // Served pages are held in memory: the throughput size, not the million.
    let size = match pages {
        Pages::Sandbox => sizes.incremental,
        Pages::Served => sizes.throughput,
    };
    let what = format!(
        "sync incremental, {}: second sync of a {size}-transaction account after {} new entries vs the first sync (SQLite, wall time)",
        pages.label(),
        sizes.new_entries
    );
    let target = "< 1% of the first sync";
    println!("sync incremental, {}...", pages.label());
    let (n, new) = (size.to_string(), sizes.new_entries.to_string());
    let list = [
        "--database",
        "sqlite",
        "incremental",
        "--transactions",
        &n,
        "--new",
        &new,
        "--pages",
        pages.arg(),
    ];
    match run_json(ctx, bin, &args(&list)) {
        Ok(v) => match (
            Stats::of(&[field(&v, "second_secs")]),
            Stats::of(&[field(&v, "first_secs")]),
        ) {
            (Some(second), Some(first)) => {
                let x = ratio(second.median, first.median);
                Row {
                    what,
                    unit: "s",
                    ours: Some(second),
                    baseline: Some(("first sync".into(), first)),
                    ratio: Some(x),
                    target: target.into(),
                    verdict: at_most(x, 0.01),
                }
            }
            _ => Row::skipped(what, target, "no samples".into()),
        },
        Err(why) => Row::skipped(what, target, why),
    }
}

fn scale_out_row(ctx: &Ctx, bin: &Path, database: Option<String>, sizes: &SyncSizes) -> Row {
    let what = format!(
        "sync scale-out: {} connections, {} ms latency per bank call, 4 workers vs 1 on one PostgreSQL store (wall time)",
        sizes.connections, sizes.latency_ms
    );
    let target = "≥ 3.5x faster";
    let Some(database) = database else {
        return Row::skipped(what, target, "PSD2_TEST_DATABASE_URL is not set".into());
    };
    println!("sync scale-out...");
    let mut secs = [Vec::new(), Vec::new()];
    for _ in 0..sizes.reps {
        for (slot, workers) in [(0, "1"), (1, "4")] {
            let (c, l) = (sizes.connections.to_string(), sizes.latency_ms.to_string());
            let list = [
                "--database",
                &database,
                "scale-out",
                "--workers",
                workers,
                "--connections",
                &c,
                "--latency-ms",
                &l,
            ];
            match run_json(ctx, bin, &args(&list)) {
                Ok(v) => secs[slot].push(field(&v, "secs")),
                Err(why) => return Row::skipped(what, target, why),
            }
        }
    }
    match (Stats::of(&secs[1]), Stats::of(&secs[0])) {
        (Some(four), Some(one)) => {
            let x = ratio(one.median, four.median);
            Row {
                what,
                unit: "s",
                ours: Some(four),
                baseline: Some(("1 worker".into(), one)),
                ratio: Some(x),
                target: target.into(),
                verdict: at_least(x, 3.5),
            }
        }
        _ => Row::skipped(what, target, "no samples".into()),
    }
}
