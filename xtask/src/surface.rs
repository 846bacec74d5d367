//! `cargo xtask surface`: prints the compact API surface of a bank's or a document's client.

pub use psd2_codegen::surface::*;

use crate::cli::SurfaceArgs;
use crate::error::{Error, Result};
use crate::generate_cmd::{bank_crate_spec, spec_crate_spec};
use crate::repo_root;

/// Runs the command.
pub fn run(args: &SurfaceArgs) -> Result<()> {
    let spec = match (&args.bank, &args.spec) {
        (Some(bank), _) => bank_crate_spec(&repo_root().join("specs").join(bank))?,
        (None, Some(doc)) => spec_crate_spec(doc, &[]),
        (None, None) => return Err(Error::Usage("give --bank NAME or --spec FILE".into())),
    };
    print!("{}", surface_of(&spec)?);
    Ok(())
}
