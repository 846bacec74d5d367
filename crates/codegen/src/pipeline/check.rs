//! `--check`: compare what would be written with what is on disk, as unified diffs.

use super::write::{OutFile, existing_src_files};
use similar::TextDiff;
use std::path::Path;

/// Unified diffs (one per differing file, stale files included); empty when up to date.
pub fn check_crate(dir: &Path, files: &[OutFile]) -> Vec<String> {
    let mut diffs = Vec::new();
    for file in files {
        let path = dir.join(&file.path);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != file.content {
            let name = path.display().to_string();
            let diff = TextDiff::from_lines(&current, &file.content)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{name}"), &format!("b/{name}"))
                .to_string();
            diffs.push(diff);
        }
    }
    for stale in existing_src_files(dir) {
        if !files.iter().any(|f| f.path == stale) {
            diffs.push(format!(
                "stale file (would be removed): {}\n",
                dir.join(stale).display()
            ));
        }
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::write::write_crate;

    #[test]
    fn detects_changes_and_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![OutFile {
            path: "src/lib.rs".into(),
            content: "a\nb\n".into(),
        }];
        assert_eq!(check_crate(dir.path(), &files).len(), 1);
        write_crate(dir.path(), &files).unwrap();
        assert!(check_crate(dir.path(), &files).is_empty());
        std::fs::write(dir.path().join("src/old.rs"), "x").unwrap();
        let changed = vec![OutFile {
            path: "src/lib.rs".into(),
            content: "a\nc\n".into(),
        }];
        let diffs = check_crate(dir.path(), &changed);
        assert_eq!(diffs.len(), 2);
        assert!(diffs[0].contains("-b\n+c\n"), "{}", diffs[0]);
        assert!(diffs[1].starts_with("stale file"), "{}", diffs[1]);
        write_crate(dir.path(), &changed).unwrap();
        assert!(check_crate(dir.path(), &changed).is_empty());
    }
}
