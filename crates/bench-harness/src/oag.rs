//! openapi-generator (`openapi-generator-cli` from PyPI, which bundles the jar) as the
//! baseline of the generation and build rows, installed into a venv under `target/bench/`.

use super::exec;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned PyPI version (it is also the generator's version).
pub const VERSION: &str = "7.26.0";

/// An installed openapi-generator.
#[derive(Debug, Clone)]
pub struct Oag {
    /// The `openapi-generator-cli` launcher inside the venv.
    pub cli: PathBuf,
}

/// The major version in `java -version` output (`openjdk version "17.0.15" ...`).
pub fn java_major(version_output: &str) -> Option<u32> {
    let quoted = version_output.split('"').nth(1)?;
    let mut parts = quoted.split(['.', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        // Old scheme: "1.8.0_392" is Java 8.
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

/// Installs (once) and returns openapi-generator, or why it cannot be used.
pub fn setup(bench_dir: &Path, log: &Path) -> Result<Oag, String> {
    let java = Command::new("java")
        .arg("-version")
        .output()
        .map_err(|e| format!("java not found ({e})"))?;
    let text =
        String::from_utf8_lossy(&java.stderr).into_owned() + &String::from_utf8_lossy(&java.stdout);
    match java_major(&text) {
        Some(v) if v >= 17 => {}
        Some(v) => return Err(format!("Java {v} found, openapi-generator needs 17")),
        None => return Err("`java -version` gave no version".into()),
    }
    let venv = bench_dir.join("oag-venv");
    let cli = venv.join("bin").join("openapi-generator-cli");
    let marker = venv.join(format!("installed-{VERSION}"));
    if cli.is_file() && marker.is_file() {
        return Ok(Oag { cli });
    }
    exec::timed(Command::new("python3").args(["-m", "venv"]).arg(&venv), log)
        .map_err(|e| format!("cannot create a Python venv: {e}"))?;
    exec::timed(
        Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("openapi-generator-cli=={VERSION}")),
        log,
    )
    .map_err(|e| format!("pip install openapi-generator-cli failed: {e}"))?;
    if !cli.is_file() {
        return Err(format!("{} missing after pip install", cli.display()));
    }
    let _ = std::fs::write(&marker, VERSION);
    Ok(Oag { cli })
}

impl Oag {
    /// The command generating the `rust` client of `spec` into `out` as crate `package`.
    pub fn generate_command(&self, spec: &Path, out: &Path, package: &str) -> Command {
        let mut cmd = Command::new(&self.cli);
        cmd.arg("generate")
            .arg("-i")
            .arg(spec)
            .args(["-g", "rust", "-o"])
            .arg(out)
            // The real spec has findings openapi-generator's validator rejects; progenitor's
            // side normalizes them, so the baseline gets to skip validation.
            .arg("--skip-validate-spec")
            // Its default version (the spec's `info.version`, e.g. `1.3.12_2022-07-01`) is
            // not valid semver, so cargo would refuse the crate.
            .arg(format!(
                "--additional-properties=packageName={package},packageVersion=0.1.0"
            ));
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions() {
        assert_eq!(
            java_major("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime"),
            Some(17)
        );
        assert_eq!(java_major("java version \"1.8.0_392\""), Some(8));
        assert_eq!(java_major("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(java_major("nothing"), None);
    }
}
