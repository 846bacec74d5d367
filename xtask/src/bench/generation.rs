//! Rows "generation" and "generated crate build": our generator and the crate it writes
//! for the Berlin Group spec, against openapi-generator's `rust` client of the same file.

use super::exec;
use super::report::{Row, Stats, Verdict, at_least, at_most};
use super::{Ctx, ratio};
use crate::bank_config::list_banks;
use crate::error::{Error, Result};
use crate::generate_cmd::{bank_crate_spec, spec_crate_spec};
use crate::pipeline::{load, render, write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The Berlin Group spec, relative to the repository root.
pub const BERLIN_GROUP: &str = "../shared/realspecs/berlin-group-psd2-api-1.3.12.yaml";

/// The small spec smoke runs compare with, relative to the repository root.
pub const SMOKE_SPEC: &str = "specs/openpayments/openpayments.yaml";

const OAG_CRATE: &str = "oag-client";

/// Where each generator's Berlin Group crate lands.
fn ours_dir(ctx: &Ctx) -> PathBuf {
    ctx.bench_dir.join("gen").join("ours-bg")
}

fn oag_dir(ctx: &Ctx) -> PathBuf {
    ctx.bench_dir.join("gen").join("oag-bg")
}

/// Generation rows: all banks (in-process), Berlin Group (process, against
/// openapi-generator) and the share of YAML parsing.
pub fn generation_rows(ctx: &mut Ctx) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let spec = ctx.compare_spec.clone();

    // All banks, in-process: the pipeline of `cargo xtask generate`, written under target/.
    let banks = list_banks(&ctx.root.join("specs"))?;
    let mut all = Vec::new();
    for _ in 0..ctx.reps {
        let start = Instant::now();
        for dir in &banks {
            let crate_spec = bank_crate_spec(dir)?;
            let rendered = render(&crate_spec)?;
            let out = ctx
                .bench_dir
                .join("gen")
                .join("banks")
                .join(&crate_spec.bank);
            write::write_crate(&out, &rendered.files)?;
        }
        all.push(start.elapsed().as_secs_f64());
    }
    rows.push(Row {
        what: format!(
            "generation: all {} banks under specs/ (in-process pipeline, written to target/bench)",
            banks.len()
        ),
        unit: "s",
        ours: Stats::of(&all),
        baseline: None,
        ratio: None,
        target: "–".into(),
        verdict: Verdict::Info,
    });

    if !spec.is_file() {
        let why = format!("{} is absent", spec.display());
        println!("skipping the Berlin Group rows: {why}");
        rows.push(Row::skipped(
            format!("generation: {}", ctx.spec_label),
            "≥ 10x faster",
            why.clone(),
        ));
        rows.push(Row::skipped("generation: YAML parse share", "–", why));
        return Ok(rows);
    }

    // The spec as a process: `xtask generate --spec FILE --out DIR`, like a user runs it;
    // release-built in a full run, plus the everyday dev build as a figure of its own.
    let dev_exe = std::env::current_exe().map_err(|e| Error::io("current_exe", e))?;
    let exe = if ctx.smoke {
        dev_exe.clone()
    } else {
        println!("building xtask (release)...");
        ctx.add_setup(exec::timed(
            Command::new(exec::cargo()).current_dir(&ctx.root).args([
                "build",
                "--release",
                "-p",
                "xtask",
            ]),
            &ctx.log,
        )?);
        ctx.target.join("release").join("xtask")
    };
    let ours_stats = Stats::of(&time_ours(ctx, &exe, &spec)?);
    if !ctx.smoke {
        rows.push(Row {
            what: format!(
                "generation: {}, process wall time, dev-built xtask (what `cargo xtask generate` runs)",
                ctx.spec_label
            ),
            unit: "s",
            ours: Stats::of(&time_ours(ctx, &dev_exe, &spec)?),
            baseline: None,
            ratio: None,
            target: "–".into(),
            verdict: Verdict::Info,
        });
    }
    let what = format!(
        "generation: {}, process wall time (`xtask generate --spec`, {} build)",
        ctx.spec_label,
        if ctx.smoke { "dev" } else { "release" }
    );
    let target = "≥ 10x faster than openapi-generator";
    match &ctx.oag {
        Ok(oag) => {
            let mut base = Vec::new();
            let mut failure = None;
            for _ in 0..ctx.oag_reps {
                let out = oag_dir(ctx);
                exec::remove_dir(&out)?;
                match exec::timed(&mut oag.generate_command(&spec, &out, OAG_CRATE), &ctx.log) {
                    Ok(s) => base.push(s),
                    Err(e) => {
                        failure = Some(e.to_string());
                        break;
                    }
                }
            }
            match (failure, Stats::of(&base), ours_stats) {
                (None, Some(b), Some(o)) => {
                    let r = ratio(b.median, o.median);
                    rows.push(Row {
                        what,
                        unit: "s",
                        ours: Some(o),
                        baseline: Some((format!("openapi-generator {}", super::oag::VERSION), b)),
                        ratio: Some(r),
                        target: target.into(),
                        verdict: at_least(r, 10.0),
                    });
                }
                (failure, _, _) => {
                    let why = failure.unwrap_or_else(|| "no samples".into());
                    ctx.oag = Err(format!("openapi-generator failed: {why}"));
                    rows.push(Row {
                        ours: ours_stats,
                        unit: "s",
                        ..Row::skipped(what, target, format!("openapi-generator failed: {why}"))
                    });
                }
            }
        }
        Err(why) => rows.push(Row {
            ours: ours_stats,
            unit: "s",
            ..Row::skipped(what, target, why.clone())
        }),
    }

    // The share of YAML parsing in the in-process pipeline.
    let crate_spec = spec_crate_spec(&spec, &[]);
    let mut parse = Vec::new();
    let mut total = Vec::new();
    for _ in 0..ctx.reps {
        let bytes = std::fs::read(&spec).map_err(|e| Error::io(&spec, e))?;
        let start = Instant::now();
        let value = load::parse(&bytes, &spec)?;
        parse.push(start.elapsed().as_secs_f64());
        drop(value);
        let start = Instant::now();
        let _rendered = render(&crate_spec)?;
        total.push(start.elapsed().as_secs_f64());
    }
    if let (Some(p), Some(t)) = (Stats::of(&parse), Stats::of(&total)) {
        let share = ratio(p.median, t.median);
        rows.push(Row {
            what: format!(
                "generation: YAML parse share of the {} pipeline (in-process, this binary)",
                ctx.spec_label
            ),
            unit: "s",
            ours: Some(p),
            baseline: Some(("whole pipeline".into(), t)),
            ratio: Some(share),
            target: "report".into(),
            verdict: Verdict::Info,
        });
    }
    Ok(rows)
}

/// Wall times of `exe generate --spec SPEC --out target/bench/gen/ours-bg`.
fn time_ours(ctx: &Ctx, exe: &Path, spec: &Path) -> Result<Vec<f64>> {
    let mut times = Vec::new();
    for _ in 0..ctx.reps {
        let out = ours_dir(ctx);
        exec::remove_dir(&out)?;
        times.push(exec::timed(
            Command::new(exe)
                .arg("generate")
                .arg("--spec")
                .arg(spec)
                .arg("--out")
                .arg(&out),
            &ctx.log,
        )?);
    }
    Ok(times)
}

/// Prepares a buildable copy of a generated crate in `dir`.
fn stage(from: &Path, dir: &Path, lock: Option<&Path>, add_workspace: bool) -> Result<()> {
    exec::remove_dir(&dir.join("src"))?;
    exec::copy_tree(from, dir)?;
    if let Some(lock) = lock {
        std::fs::copy(lock, dir.join("Cargo.lock")).map_err(|e| Error::io(lock, e))?;
    }
    if add_workspace {
        // Make the crate its own workspace (target/ lies inside this repository's).
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).map_err(|e| Error::io(&manifest, e))?;
        if !text.contains("[workspace]") {
            std::fs::write(&manifest, format!("{text}\n[workspace]\n"))
                .map_err(|e| Error::io(&manifest, e))?;
        }
    }
    Ok(())
}

/// Builds `dir` once untimed (dependencies), then `reps` times after touching its sources.
fn build_times(ctx: &Ctx, dir: &Path, target_dir: &Path, extra: &[&str]) -> Result<Vec<f64>> {
    let cmd = |ctx: &Ctx| {
        let mut c = Command::new(exec::cargo());
        c.arg(ctx.build_verb)
            .args(extra)
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", target_dir)
            .env("CARGO_INCREMENTAL", "0")
            .env_remove("RUSTFLAGS");
        c
    };
    ctx.add_setup(exec::timed(&mut cmd(ctx), &ctx.log)?);
    let mut times = Vec::new();
    for _ in 0..ctx.build_reps {
        exec::touch_tree(&dir.join("src"))?;
        times.push(exec::timed(&mut cmd(ctx), &ctx.log)?);
    }
    Ok(times)
}

/// Rows "generated crate build": `cargo build` of both Berlin Group crates, each in its own
/// target dir with its dependencies built first (untimed), the crate itself from scratch.
/// The headline row is our default (builder) interface; a second row builds the same spec
/// generated with `--interface positional`, to show what the builder interface costs.
pub fn build_rows(ctx: &mut Ctx) -> Result<Vec<Row>> {
    let (headline, oag) = build_row(ctx)?;
    let mut rows = vec![headline];
    if ours_dir(ctx).join("Cargo.toml").is_file() {
        let what = format!(
            "generated crate build: {} crate, positional interface (`--interface positional`), `cargo {}`",
            ctx.spec_label, ctx.build_verb
        );
        let generated = ctx.bench_dir.join("gen").join("ours-bg-positional");
        let mut spec = spec_crate_spec(&ctx.compare_spec, &[]);
        spec.generate.interface = crate::pipeline::generate::Interface::Positional;
        write::write_crate(&generated, &render(&spec)?.files)?;
        let build = ctx.bench_dir.join("build");
        let src = build.join("ours-positional");
        stage(&generated, &src, Some(&ctx.root.join("Cargo.lock")), false)?;
        let ours = Stats::of(&build_times(ctx, &src, &build.join("target-ours"), &[])?);
        rows.push(match (ours, oag) {
            (Some(o), Some(b)) => Row {
                what,
                unit: "s",
                ratio: Some(ratio(o.median, b.median)),
                ours: Some(o),
                baseline: Some((format!("openapi-generator `rust` ({OAG_CRATE})"), b)),
                target: "report (builder row is the target)".into(),
                verdict: Verdict::Info,
            },
            (o, _) => Row {
                what,
                unit: "s",
                ours: o,
                baseline: None,
                ratio: None,
                target: "report".into(),
                verdict: Verdict::Info,
            },
        });
    }
    Ok(rows)
}

/// The headline build row, and openapi-generator's figures for the positional row.
fn build_row(ctx: &mut Ctx) -> Result<(Row, Option<Stats>)> {
    let what = format!(
        "generated crate build: {} crate, `cargo {}` (dev profile, deps pre-built, no incremental)",
        ctx.spec_label, ctx.build_verb
    );
    let target = "≤ 0.5x of openapi-generator's";
    if !ours_dir(ctx).join("Cargo.toml").is_file() {
        return Ok((
            Row::skipped(what, target, "the spec is absent".into()),
            None,
        ));
    }
    let build = ctx.bench_dir.join("build");
    let ours_src = build.join("ours");
    stage(
        &ours_dir(ctx),
        &ours_src,
        Some(&ctx.root.join("Cargo.lock")),
        false,
    )?;
    let ours = build_times(ctx, &ours_src, &build.join("target-ours"), &[])?;
    let ours_stats = Stats::of(&ours);
    let oag = match &ctx.oag {
        Ok(_) if oag_dir(ctx).join("Cargo.toml").is_file() => {
            let oag_src = build.join("oag");
            stage(&oag_dir(ctx), &oag_src, None, true)?;
            // Same TLS stack as ours (reqwest with rustls) instead of its native-tls default.
            build_times(
                ctx,
                &oag_src,
                &build.join("target-oag"),
                &["--no-default-features", "--features", "rustls"],
            )
            .map_err(|e| format!("building openapi-generator's crate failed: {e}"))
        }
        Ok(_) => Err("openapi-generator produced no crate".into()),
        Err(why) => Err(why.clone()),
    };
    let oag_stats = oag.as_ref().ok().and_then(|b| Stats::of(b));
    let row = match (oag, ours_stats) {
        (Ok(base), Some(o)) => match Stats::of(&base) {
            Some(b) => {
                let r = ratio(o.median, b.median);
                Row {
                    what,
                    unit: "s",
                    ours: Some(o),
                    baseline: Some((format!("openapi-generator `rust` ({OAG_CRATE})"), b)),
                    ratio: Some(r),
                    target: target.into(),
                    verdict: at_most(r, 0.5),
                }
            }
            None => Row::skipped(what, target, "no samples".into()),
        },
        (Err(why), o) => Row {
            ours: o,
            unit: "s",
            ..Row::skipped(what, target, why)
        },
        (Ok(_), None) => Row::skipped(what, target, "no samples".into()),
    };
    Ok((row, oag_stats))
}
