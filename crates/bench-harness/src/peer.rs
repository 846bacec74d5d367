//! The peer of the streaming rows: openapi-generator's `rust` client of the Open Payments
//! spec (`specs/openpayments/openpayments.yaml`, the spec `psd2-raw-openpayments` is
//! generated from), driven by a small binary (`peer/main.rs` of this crate) that pulls every
//! transaction page by page and maps nothing.
//!
//! The project lives in `target/bench/peer/`: the generated crate in `oag-client/`, the
//! binary's `Cargo.toml` and `src/main.rs`, this repository's `Cargo.lock` (so shared
//! dependencies resolve to the same versions). It builds into the repository's target
//! directory, so dependencies the workspace already built with the same features are reused.
//!
//! Why not the Berlin Group spec's client: its models require fields the Open Payments pages
//! leave out (e.g. `quotationDate` of `currencyExchange`), so it fails on the first page.

use super::Ctx;
use super::exec;
use psd2_codegen::{Error, Result};
use std::path::PathBuf;
use std::process::Command;

/// The spec of the peer's client, relative to the repository root.
pub const PEER_SPEC: &str = "specs/openpayments/openpayments.yaml";

/// The binary's source.
const MAIN_RS: &str = include_str!("../peer/main.rs");

/// The binary's package name (and file name).
const PACKAGE: &str = "psd2-bench-peer";

fn manifest() -> String {
    format!(
        r#"[package]
name = "{PACKAGE}"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
# The generated client as it comes, without a TLS stack (the pages are served over http).
oag-client = {{ path = "oag-client", default-features = false }}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread"] }}
serde_json = "1"
chrono = {{ version = "0.4", default-features = false, features = ["std"] }}
uuid = {{ version = "1", features = ["v4"] }}
url = "2"

# The repository's profile settings, so its already-built dependencies are reused.
[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false

[workspace]
"#
    )
}

/// Generates the peer's client and builds the binary (release, or dev in smoke mode);
/// returns the binary, or why there is none.
pub fn build(ctx: &Ctx) -> std::result::Result<PathBuf, String> {
    let oag = ctx.oag.as_ref().map_err(Clone::clone)?;
    let dir = ctx.bench_dir.join("peer");
    let client = dir.join("oag-client");
    let spec = ctx.root.join(PEER_SPEC);
    // The generation rows already made this crate in this run when they compare the same
    // spec (smoke mode).
    let made = super::generation::oag_dir(ctx);
    let reuse = ctx.oag_made.as_ref() == Some(&spec) && made.join("Cargo.toml").is_file();
    let prepare = || -> Result<()> {
        exec::remove_dir(&client)?;
        if reuse {
            exec::copy_tree(&made, &client)?;
        } else {
            ctx.add_setup(exec::timed(
                &mut oag.generate_command(&spec, &client, "oag-client"),
                &ctx.log,
            )?);
        }
        std::fs::create_dir_all(dir.join("src")).map_err(|e| Error::io(&dir, e))?;
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
        };
        write("Cargo.toml", &manifest())?;
        write("src/main.rs", MAIN_RS)?;
        let lock = ctx.root.join("Cargo.lock");
        std::fs::copy(&lock, dir.join("Cargo.lock")).map_err(|e| Error::io(&lock, e))?;
        let mut cmd = Command::new(exec::cargo());
        cmd.current_dir(&dir)
            .arg("build")
            .env("CARGO_TARGET_DIR", &ctx.target)
            .env_remove("RUSTFLAGS");
        if !ctx.smoke {
            cmd.arg("--release");
        }
        println!(
            "building the openapi-generator peer ({} profile)...",
            ctx.profile()
        );
        ctx.add_setup(exec::timed(&mut cmd, &ctx.log)?);
        Ok(())
    };
    prepare().map_err(|e| format!("the openapi-generator peer: {e}"))?;
    Ok(ctx
        .target
        .join(if ctx.smoke { "debug" } else { "release" })
        .join(PACKAGE))
}
