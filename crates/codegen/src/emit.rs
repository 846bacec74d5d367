//! Rendering a crate and writing it, or checking it against what is on disk.

use crate::error::Result;
use crate::pipeline::{CrateSpec, Rendered, check, generation_md, render, write};
use std::path::Path;

fn print_summary(name: &str, rendered: &Rendered) {
    eprintln!(
        "{name}: generated in {:.2}s, {} normalization(s):\n{}",
        rendered.elapsed.as_secs_f64(),
        rendered.report.total(),
        rendered.report
    );
}

/// Renders `spec` and writes or checks it at `out`; returns the number of differing files.
pub fn emit(spec: &CrateSpec, out: &Path, check_only: bool) -> Result<usize> {
    let rendered = render(spec)?;
    print_summary(&spec.bank, &rendered);
    let previous = out.join(generation_md::FILE);
    if let Ok(text) = std::fs::read_to_string(&previous) {
        generation_md::check_rewrites(&spec.bank, &text, &rendered.rewrites)?;
    }
    if check_only {
        let diffs = check::check_crate(out, &rendered.files);
        for d in &diffs {
            println!("{d}");
        }
        Ok(diffs.len())
    } else {
        write::write_crate(out, &rendered.files)?;
        eprintln!("{}: wrote {}", spec.bank, out.display());
        Ok(0)
    }
}
