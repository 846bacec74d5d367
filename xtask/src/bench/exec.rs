//! Running external commands with timing, their output kept in a log file.

use crate::error::{Error, Result};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The cargo binary running this command (or `cargo`).
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs `cmd` to completion, appending its stdout and stderr to `log`; returns the wall
/// time in seconds, or an error naming the command and the log when it fails.
pub fn timed(cmd: &mut Command, log: &Path) -> Result<f64> {
    let shown = format!("{cmd:?}");
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io(log, e))?;
    let err_file = file.try_clone().map_err(|e| Error::io(log, e))?;
    let start = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err_file))
        .status()
        .map_err(|e| Error::Command {
            command: shown.clone(),
            message: e.to_string(),
        })?;
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(Error::Command {
            command: shown,
            message: format!("{status}; output in {}", log.display()),
        });
    }
    Ok(secs)
}

/// Runs `cmd` and returns its stdout (stderr goes to `log`).
pub fn output(cmd: &mut Command, log: &Path) -> Result<String> {
    let shown = format!("{cmd:?}");
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io(log, e))?;
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::from(file))
        .output()
        .map_err(|e| Error::Command {
            command: shown.clone(),
            message: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(Error::Command {
            command: shown,
            message: format!("{}; output in {}", out.status, log.display()),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Sets the modification time of every file below `dir` to now, so cargo rebuilds the
/// crate (and only the crate) on the next build.
pub fn touch_tree(dir: &Path) -> Result<()> {
    let now = std::time::SystemTime::now();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            touch_tree(&path)?;
        } else {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            f.set_modified(now).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Copies the directory tree `from` into `to` (created; existing files overwritten).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| Error::io(from, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(from, e))?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        let dest = to.join(name);
        if path.is_dir() {
            copy_tree(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Removes `dir` if it exists.
pub fn remove_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}
