//! Rows "generation" and "generated crate build": our generator and the crate it writes
//! for the Berlin Group spec, against openapi-generator's `rust` client of the same file.

use super::exec;
use super::report::{Row, Stats, Verdict, at_least, at_most};
use super::{Ctx, ratio};
use psd2_codegen::bank_config::list_banks;
use psd2_codegen::pipeline::{load, render, write};
use psd2_codegen::{Error, Result, bank_crate_spec, spec_crate_spec};
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

/// Where openapi-generator's crate of the compared spec lands.
pub(crate) fn oag_dir(ctx: &Ctx) -> PathBuf {
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
                    ctx.oag_made = Some(spec.clone());
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

/// One crate to build: its sources, its target dir, extra `cargo` arguments.
struct BuildJob {
    dir: PathBuf,
    target_dir: PathBuf,
    extra: &'static [&'static str],
}

/// Builds every job once untimed (its dependencies), then `build_reps` rounds of one timed
/// build of each, in turn, after touching its sources (interleaved, so a change in the
/// machine's load during the run affects every crate alike). A job whose untimed build fails
/// is not timed.
fn build_interleaved(ctx: &Ctx, jobs: &[BuildJob]) -> Vec<Result<Vec<f64>>> {
    let cmd = |job: &BuildJob| {
        let mut c = Command::new(exec::cargo());
        c.arg(ctx.build_verb)
            .args(job.extra)
            .current_dir(&job.dir)
            .env("CARGO_TARGET_DIR", &job.target_dir)
            .env("CARGO_INCREMENTAL", "0")
            .env_remove("RUSTFLAGS");
        c
    };
    let built = jobs
        .iter()
        .map(|job| {
            ctx.add_setup(exec::timed(&mut cmd(job), &ctx.log)?);
            Ok(Vec::new())
        })
        .collect();
    exec::interleaved(jobs, built, ctx.build_reps, |job| {
        exec::touch_tree(&job.dir.join("src"))?;
        exec::timed(&mut cmd(job), &ctx.log)
    })
}

/// Rows "generated crate build": `cargo build` of both Berlin Group crates, each in its own
/// target dir with its dependencies built first (untimed), the crate itself from scratch.
/// The headline row is our default. More rows show what the generator's choices cost: the
/// same spec as progenitor and typify write it (prune, lean and serde stages off), the
/// positional interface, and our crate with both serde directions on
/// (`--features serialize-responses,deserialize-requests`). All crates are built in turn,
/// round by round, in one run.
pub fn build_rows(ctx: &mut Ctx) -> Result<Vec<Row>> {
    let what = format!(
        "generated crate build: {} crate, `cargo {}` (dev profile, deps pre-built, no incremental)",
        ctx.spec_label, ctx.build_verb
    );
    let target = "≤ 0.5x of openapi-generator's";
    if !ours_dir(ctx).join("Cargo.toml").is_file() {
        return Ok(vec![Row::skipped(
            what,
            target,
            "the spec is absent".into(),
        )]);
    }
    let build = ctx.bench_dir.join("build");
    let lock = ctx.root.join("Cargo.lock");
    let ours_target = build.join("target-ours");
    let ours_src = build.join("ours");
    stage(&ours_dir(ctx), &ours_src, Some(&lock), false)?;
    let mut jobs = vec![BuildJob {
        dir: ours_src.clone(),
        target_dir: ours_target.clone(),
        extra: &[],
    }];
    // Labels of the rows after the headline, one per job.
    let mut labels: Vec<&'static str> = Vec::new();
    // The variants: (directory name, row label, generator settings).
    type Variant = (
        &'static str,
        &'static str,
        fn(&mut psd2_codegen::pipeline::CrateSpec),
    );
    let variants: [Variant; 2] = [
        (
            "ours-as-generated",
            "as progenitor and typify write it (`--struct-builders all --operation-code \
             as-generated --serde-directions both`: the prune, lean and serde stages off)",
            |spec| {
                spec.generate.struct_builders = psd2_codegen::pipeline::prune::StructBuilders::All;
                spec.generate.operation_code =
                    psd2_codegen::pipeline::lean::OperationCode::AsGenerated;
                spec.generate.serde_directions =
                    psd2_codegen::pipeline::serde_dirs::SerdeDirections::Both;
            },
        ),
        (
            "ours-positional",
            "positional interface (`--interface positional`)",
            |spec| {
                spec.generate.interface = psd2_codegen::pipeline::generate::Interface::Positional
            },
        ),
    ];
    for (name, label, change) in &variants {
        let generated = ctx.bench_dir.join("gen").join(name);
        let mut spec = spec_crate_spec(&ctx.compare_spec, &[]);
        change(&mut spec);
        write::write_crate(&generated, &render(&spec)?.files)?;
        let src = build.join(name);
        stage(&generated, &src, Some(&lock), false)?;
        jobs.push(BuildJob {
            dir: src,
            target_dir: ours_target.clone(),
            extra: &[],
        });
        labels.push(label);
    }
    let manifest = std::fs::read_to_string(ours_src.join("Cargo.toml"))
        .map_err(|e| Error::io(ours_src.join("Cargo.toml"), e))?;
    if manifest.contains("\nserialize-responses = []") {
        jobs.push(BuildJob {
            dir: ours_src,
            target_dir: ours_target.clone(),
            extra: &["--features", "serialize-responses,deserialize-requests"],
        });
        labels.push(
            "the same crate with both serde directions on every type (`--features \
             serialize-responses,deserialize-requests`)",
        );
    }
    let oag_job = match &ctx.oag {
        Ok(_) if oag_dir(ctx).join("Cargo.toml").is_file() => {
            let oag_src = build.join("oag");
            stage(&oag_dir(ctx), &oag_src, None, true)?;
            // Same TLS stack as ours (reqwest with rustls) instead of its native-tls default.
            jobs.push(BuildJob {
                dir: oag_src,
                target_dir: build.join("target-oag"),
                extra: &["--no-default-features", "--features", "rustls"],
            });
            Ok(())
        }
        Ok(_) => Err("openapi-generator produced no crate".to_string()),
        Err(why) => Err(why.clone()),
    };
    let mut times = build_interleaved(ctx, &jobs);
    let oag: std::result::Result<Stats, String> = match oag_job {
        Ok(()) => match times.pop() {
            Some(Ok(t)) => Stats::of(&t).ok_or_else(|| "no samples".to_string()),
            Some(Err(e)) => Err(format!("building openapi-generator's crate failed: {e}")),
            None => Err("not built".into()),
        },
        Err(why) => Err(why),
    };
    let baseline = |b: &Stats| (format!("openapi-generator `rust` ({OAG_CRATE})"), *b);
    let mut rows = Vec::new();
    for (i, result) in times.into_iter().enumerate() {
        let ours = match result {
            Ok(t) => Stats::of(&t),
            Err(e) => {
                return Err(e);
            }
        };
        let (what, target, headline) = match i {
            0 => (what.clone(), target.to_string(), true),
            _ => (
                format!(
                    "generated crate build: {} crate, {}, `cargo {}`",
                    ctx.spec_label,
                    labels[i - 1],
                    ctx.build_verb
                ),
                "report (the first build row is the target)".to_string(),
                false,
            ),
        };
        rows.push(match (&oag, ours) {
            (Ok(b), Some(o)) => {
                let r = ratio(o.median, b.median);
                Row {
                    what,
                    unit: "s",
                    ours: Some(o),
                    baseline: Some(baseline(b)),
                    ratio: Some(r),
                    target,
                    verdict: if headline {
                        at_most(r, 0.5)
                    } else {
                        Verdict::Info
                    },
                }
            }
            (Err(why), o) => Row {
                ours: o,
                unit: "s",
                ..Row::skipped(what, &target, why.clone())
            },
            (Ok(_), None) => Row::skipped(what, &target, "no samples".into()),
        });
    }
    Ok(rows)
}
