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
    let file = open_log(log)?;
    let err_file = file.try_clone().map_err(|e| Error::io(log, e))?;
    let log_start = file.metadata().map(|m| m.len()).unwrap_or(0);
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
            message: format!(
                "{status}; output in {}; its last lines:\n{}",
                log.display(),
                log_tail(log, log_start, FAILURE_TAIL_LINES)
            ),
        });
    }
    Ok(secs)
}

/// Opens `log` for appending, creating it and its folder when missing.
fn open_log(log: &Path) -> Result<std::fs::File> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io(log, e))
}

/// How many lines of a failed command's output an error quotes (CI shows only stderr).
const FAILURE_TAIL_LINES: usize = 40;

/// The last `lines` lines `log` received after byte `from` (what one command wrote), each
/// indented; a note when the log cannot be read.
fn log_tail(log: &Path, from: u64, lines: usize) -> String {
    let text = match std::fs::read(log) {
        Ok(bytes) => {
            let from = usize::try_from(from).unwrap_or(0).min(bytes.len());
            String::from_utf8_lossy(&bytes[from..]).into_owned()
        }
        Err(e) => return format!("    (cannot read {}: {e})", log.display()),
    };
    let all: Vec<&str> = text.lines().collect();
    let shown = &all[all.len().saturating_sub(lines)..];
    shown
        .iter()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `cmd` and returns its stdout (stderr goes to `log`).
pub fn output(cmd: &mut Command, log: &Path) -> Result<String> {
    let shown = format!("{cmd:?}");
    let file = open_log(log)?;
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

/// Samples every job in turn, `rounds` times over (one sample of each job per round), so a
/// change in the machine's load during the run touches all jobs alike. `slots` holds each
/// job's samples so far, or why it cannot be sampled; a job whose sample fails is not
/// sampled again.
pub fn interleaved<J, T, E>(
    jobs: &[J],
    mut slots: Vec<std::result::Result<Vec<T>, E>>,
    rounds: usize,
    mut sample: impl FnMut(&J) -> std::result::Result<T, E>,
) -> Vec<std::result::Result<Vec<T>, E>> {
    for _ in 0..rounds {
        for (job, slot) in jobs.iter().zip(slots.iter_mut()) {
            let Ok(samples) = slot else { continue };
            match sample(job) {
                Ok(value) => samples.push(value),
                Err(e) => *slot = Err(e),
            }
        }
    }
    slots
}

#[cfg(test)]
mod interleave_tests {
    use super::interleaved;

    #[test]
    fn rounds_take_turns_and_a_failing_job_stops() {
        let mut order = Vec::new();
        let slots = interleaved(
            &["a", "b", "c"],
            vec![Ok(Vec::new()), Ok(Vec::new()), Err("not built")],
            3,
            |job: &&str| {
                order.push(*job);
                if *job == "b" && order.len() > 3 {
                    Err("broke")
                } else {
                    Ok(order.len())
                }
            },
        );
        assert_eq!(
            order,
            ["a", "b", "a", "b", "a"],
            "turns; b stops after failing, c never runs"
        );
        assert_eq!(slots[0], Ok(vec![1, 3, 5]));
        assert_eq!(slots[1], Err("broke"));
        assert_eq!(slots[2], Err("not built"));
    }
}

#[cfg(test)]
mod failure_tests {
    use super::timed;
    use std::process::Command;

    #[test]
    fn a_failed_command_quotes_only_its_own_last_output_lines() {
        let dir = std::env::temp_dir().join(format!("psd2-exec-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("bench.log");
        std::fs::write(&log, "an earlier command's line\n").unwrap();
        let script = "for i in $(seq 1 50); do echo line$i; done; echo broke >&2; exit 3";
        let err = timed(Command::new("sh").args(["-c", script]), &log)
            .unwrap_err()
            .to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains("exit status: 3"), "{err}");
        assert!(err.contains("    broke"), "stderr is quoted: {err}");
        assert!(err.contains("    line50"), "{err}");
        assert!(
            err.contains("    line12\n"),
            "the 40th line from the end: {err}"
        );
        assert!(!err.contains("line11\n"), "only the last 40 lines: {err}");
        assert!(!err.contains("earlier"), "nothing written before: {err}");
    }
}
