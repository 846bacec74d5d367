//! `cargo xtask` entry point.
#![forbid(unsafe_code)]

use clap::Parser;
use std::process::ExitCode;
use xtask::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => xtask::generate_cmd::run(&args),
        Command::Surface(args) => xtask::surface::run(&args),
        Command::Corpus(args) => xtask::corpus::run(&args),
        Command::Diff(args) => return xtask::diff::run(args),
        Command::Bench(args) => xtask::bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
