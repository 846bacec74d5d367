//! Criterion: domain mapping of one page of 500 Open Payments transactions against
//! deserializing the same bytes into the raw generated types. The page is mapped by value
//! and entry by entry, as the adapter's transaction stream does
//! (`mapping::MappedTransactions`): each domain transaction is handed to the consumer
//! (`black_box`) and dropped before the next one is mapped.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use psd2::adapters::openpayments::mapping;
use psd2_bench::setup::{self, Settings};
use psd2_raw_openpayments::types as raw;

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
fn consume(transactions: mapping::MappedTransactions) -> usize {
    let mut n = 0;
    for tx in transactions {
        black_box(tx.unwrap());
        n += 1;
    }
    n
}

fn mapping_bench(c: &mut Criterion) {
    let bytes = page_bytes();
    let page: raw::TransactionsResponse = serde_json::from_slice(&bytes).unwrap();
    let report = page.transactions.unwrap();
    assert_eq!(report.booked.len(), 500, "a page of 500");
    assert_eq!(
        mapping::into_transaction_page(report.clone()).unwrap(),
        mapping::transaction_page(&report).unwrap(),
        "by value and by reference map alike"
    );
    assert_eq!(
        mapping::MappedTransactions::new(report.clone())
            .collect::<Result<Vec<_>, _>>()
            .unwrap(),
        mapping::transaction_page(&report).unwrap(),
        "entry by entry maps as the whole page"
    );
    let mut group = c.benchmark_group("mapping");
    group.bench_function("deserialize_raw", |b| {
        b.iter(|| {
            let page: raw::TransactionsResponse =
                serde_json::from_slice(black_box(&bytes)).unwrap();
            black_box(page)
        })
    });
    group.bench_function("deserialize_and_map", |b| {
        b.iter(|| {
            let page: raw::TransactionsResponse =
                serde_json::from_slice(black_box(&bytes)).unwrap();
            let report = page.transactions.unwrap_or_default();
            consume(mapping::MappedTransactions::new(report))
        })
    });
    group.bench_function("map_only", |b| {
        b.iter_batched(
            || report.clone(),
            // Each mapped transaction is dropped inside the timed routine, as in the other benches.
            |report| consume(mapping::MappedTransactions::new(black_box(report))),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, mapping_bench);
criterion_main!(benches);
