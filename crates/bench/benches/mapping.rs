//! Criterion: domain mapping of one page of 500 Open Payments transactions against
//! deserializing the same bytes into the raw generated types (`answers::DecodedTransactions`,
//! opaque). The page is mapped by value and entry by entry, as the adapter's transaction
//! stream does (`DecodedTransactions::into_entries`): each domain transaction is handed to the
//! consumer (`black_box`) and dropped before the next one is mapped.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use psd2::adapters::openpayments::answers::DecodedTransactions;
use psd2::{EntryError, Transaction};
use psd2_bench::setup::{self, Settings};

/// One page of the sandbox's transactions, as the bank sends it.
fn page_bytes() -> Vec<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let env = setup::start(&Settings {
            history_size: 2_000,
            page_size: 500,
            faults: Vec::new(),
        })
        .await
        .expect("sandbox");
        psd2_bench::stream::first_page_bytes(&env)
            .await
            .expect("first page")
    })
}

/// Pulls every transaction, as a stream's consumer would, and drops it; returns the count.
fn consume(transactions: impl Iterator<Item = Result<Transaction, EntryError>>) -> usize {
    let mut n = 0;
    for tx in transactions {
        black_box(tx.unwrap());
        n += 1;
    }
    n
}

fn mapping_bench(c: &mut Criterion) {
    let bytes = page_bytes();
    let report = DecodedTransactions::decode(&bytes).unwrap();
    assert_eq!(report.len(), 500, "a page of 500");
    assert_eq!(
        report.clone().into_page().unwrap(),
        report.map_page().unwrap(),
        "by value and by reference map alike"
    );
    assert_eq!(
        report
            .clone()
            .into_entries()
            .collect::<Result<Vec<_>, _>>()
            .unwrap(),
        report.map_page().unwrap(),
        "entry by entry maps as the whole page"
    );
    let mut group = c.benchmark_group("mapping");
    group.bench_function("deserialize_raw", |b| {
        b.iter(|| {
            let page = DecodedTransactions::decode(black_box(&bytes)).unwrap();
            black_box(page)
        })
    });
    group.bench_function("deserialize_and_map", |b| {
        b.iter(|| {
            let report = DecodedTransactions::decode(black_box(&bytes)).unwrap();
            consume(report.into_entries())
        })
    });
    group.bench_function("map_only", |b| {
        b.iter_batched(
            || report.clone(),
            // Each mapped transaction is dropped inside the timed routine, as in the other benches.
            |report| consume(black_box(report).into_entries()),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, mapping_bench);
criterion_main!(benches);
