//! One insta snapshot per format of the small fixed account (booked and pending, November
//! 2026), read by a person before it was accepted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use psd2_export::{Format, StatusFilter};

#[tokio::test]
async fn each_format_of_the_fixed_account() {
    let (store, c) = fixture_store().await;
    let request = november(&c, StatusFilter::Both);
    for format in [Format::Camt053, Format::Ofx, Format::Csv, Format::Jsonl] {
        let text = export_text(store.as_ref(), &request, format).await;
        insta::assert_snapshot!(format.as_str(), text);
    }
}
