//! Stage 7: write a generated crate, wiping its `src/` first so no stale file survives.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One file of a generated crate: path relative to the crate root, and its content.
#[derive(Debug, Clone, PartialEq)]
pub struct OutFile {
    /// Relative path, e.g. `src/lib.rs`.
    pub path: PathBuf,
    /// Full text.
    pub content: String,
}

/// Writes `files` under `dir`, removing `dir/src` beforehand.
pub fn write_crate(dir: &Path, files: &[OutFile]) -> Result<()> {
    let src = dir.join("src");
    if src.exists() {
        std::fs::remove_dir_all(&src).map_err(|e| Error::io(&src, e))?;
    }
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&path, &file.content).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

/// Every file under `dir/src`, relative to `dir`, sorted.
pub fn existing_src_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("src")];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    out
}
