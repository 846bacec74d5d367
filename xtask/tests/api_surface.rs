//! One insta snapshot per bank of its generated client's API surface: a change to a bank's
//! spec shows up here as a few readable lines. Review with `cargo insta review`.
#![allow(clippy::unwrap_used)]

use xtask::generate_cmd::bank_crate_spec;
use xtask::surface::surface_of;

fn snapshot_bank(bank: &str) {
    let dir = xtask::repo_root().join("specs").join(bank);
    if !dir.join("bank.toml").is_file() {
        println!("skipping: {} has no bank.toml", dir.display());
        return;
    }
    let spec = bank_crate_spec(&dir).unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(
        format!("surface_{bank}"),
        surface_of(&spec).unwrap_or_else(|e| panic!("{e}"))
    );
}

#[test]
fn handelsbanken_surface() {
    snapshot_bank("handelsbanken");
}

#[test]
fn openpayments_surface() {
    snapshot_bank("openpayments");
}

#[test]
fn swedbank_surface() {
    snapshot_bank("swedbank");
}

#[test]
fn berlingroup_surface() {
    snapshot_bank("berlingroup");
}
