//! `psd2-bench-harness`: the performance suite behind `cargo xtask bench [--smoke]`, written
//! as a Markdown report to `target/bench-report.md` (see `docs/performance.md`).
//!
//! Rows: generation and generated crate build (against openapi-generator, installed into a
//! venv under `target/bench/`), transaction streaming, memory and concurrency (child
//! processes of the `psd2-bench` binary against the in-process sandbox) and mapping
//! (criterion bench `mapping` of `psd2-bench`).

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod generation;
pub mod oag;
pub mod report;
pub mod runtime;
pub mod sync_rows;

pub use psd2_codegen::exec;
use psd2_codegen::{Error, Result, repo_root};
use report::{Header, Row};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Tiny sizes and single samples (CI): every row in well under a minute after building.
    #[arg(long)]
    pub smoke: bool,
    /// Leave out the openapi-generator comparisons (no Java/Python needed).
    #[arg(long)]
    pub no_openapi_generator: bool,
    /// Where to write the report (default: target/bench-report.md).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// State shared by the rows of one run.
#[derive(Debug)]
pub struct Ctx {
    /// The repository root.
    pub root: PathBuf,
    /// Cargo's target directory.
    pub target: PathBuf,
    /// `target/bench`: scratch space of the suite.
    pub bench_dir: PathBuf,
    /// Log of every command the suite runs.
    pub log: PathBuf,
    /// Smoke mode.
    pub smoke: bool,
    /// Samples per in-process and build figure.
    pub reps: usize,
    /// Samples per generated-crate build.
    pub build_reps: usize,
    /// Samples per openapi-generator run.
    pub oag_reps: usize,
    /// `build` or `check` (smoke).
    pub build_verb: &'static str,
    /// The spec of the comparisons (Berlin Group; the small Open Payments spec in smoke mode).
    pub compare_spec: PathBuf,
    /// How the report names `compare_spec`.
    pub spec_label: String,
    /// Seconds spent installing and building (not measuring).
    pub setup_secs: std::cell::Cell<f64>,
    /// openapi-generator, or why it is not used.
    pub oag: std::result::Result<oag::Oag, String>,
}

impl Ctx {
    /// Counts `secs` as setup (installing, building) rather than measuring.
    pub fn add_setup(&self, secs: f64) {
        self.setup_secs.set(self.setup_secs.get() + secs);
    }

    /// Profile of the `psd2-bench` binaries.
    pub fn profile(&self) -> &'static str {
        if self.smoke { "dev" } else { "release" }
    }
}

/// `a / b`, NaN when `b` is zero.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { f64::NAN } else { a / b }
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
}

fn rustc_version() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc).arg("-V").output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs the suite.
pub fn run(args: &BenchArgs) -> Result<()> {
    let start = Instant::now();
    let root = repo_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bench_dir = target.join("bench");
    std::fs::create_dir_all(&bench_dir).map_err(|e| Error::io(&bench_dir, e))?;
    let log = bench_dir.join("bench.log");
    let _ = std::fs::remove_file(&log);
    let oag = if args.no_openapi_generator {
        Err("--no-openapi-generator".to_string())
    } else {
        println!("setting up openapi-generator {}...", oag::VERSION);
        oag::setup(&bench_dir, &log)
    };
    let oag_setup = start.elapsed().as_secs_f64();
    if let Err(why) = &oag {
        println!("skipping the openapi-generator comparisons: {why}");
    }
    let mut ctx = Ctx {
        root: root.clone(),
        target: target.clone(),
        bench_dir,
        log,
        smoke: args.smoke,
        reps: if args.smoke { 1 } else { 5 },
        oag_reps: if args.smoke { 1 } else { 3 },
        build_reps: if args.smoke { 1 } else { 3 },
        build_verb: if args.smoke { "check" } else { "build" },
        compare_spec: if args.smoke {
            root.join(generation::SMOKE_SPEC)
        } else {
            root.join(generation::BERLIN_GROUP)
        },
        spec_label: if args.smoke {
            "Open Payments spec (smoke)".into()
        } else {
            "Berlin Group 1.3.12".into()
        },
        setup_secs: std::cell::Cell::new(oag_setup),
        oag,
    };
    let sizes = if args.smoke {
        runtime::SMOKE
    } else {
        runtime::FULL
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    println!("generation...");
    rows.extend(generation::generation_rows(&mut ctx)?);
    println!("generated crate build...");
    rows.extend(generation::build_rows(&mut ctx)?);

    match runtime::build_binary(&ctx) {
        Ok(bin) => {
            rows.extend(runtime::streaming_rows(&ctx, &bin, &sizes));
            rows.push(runtime::concurrency_row(&ctx, &bin, &sizes));
        }
        Err(e) => {
            let why = format!("building psd2-bench failed: {e}");
            rows.push(Row::skipped(
                "streaming, memory, concurrency",
                "see docs",
                why,
            ));
        }
    }
    rows.push(runtime::mapping_row(&ctx, &sizes));
    rows.extend(sync_rows::sync_rows(&ctx));

    if args.smoke {
        notes.push(
            "smoke mode: tiny sizes and one sample each, dev profile, the small Open Payments \
             spec instead of Berlin Group and `cargo check` for the generation and build rows; \
             the figures exercise the suite, they are not the project's numbers"
                .into(),
        );
    }
    notes.push(format!(
        "commands and their output: {}",
        ctx.log.strip_prefix(&root).unwrap_or(&ctx.log).display()
    ));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let header = Header {
        mode: if args.smoke { "smoke" } else { "full" },
        cores,
        cpu: cpu_model(),
        rustc: rustc_version(),
        profile: ctx.profile(),
        total_secs: start.elapsed().as_secs_f64(),
        setup_secs: ctx.setup_secs.get(),
    };
    let md = report::render(&header, &rows, &notes);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| target.join("bench-report.md"));
    std::fs::write(&out, &md).map_err(|e| Error::io(&out, e))?;
    println!("\n{md}\nwrote {}", out.display());
    Ok(())
}
