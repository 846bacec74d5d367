//! The pipelined listing against in-memory page sources. Expected items and request counts
//! come from the page tables written in each test (and from the sequential
//! [`Paginator::stream`] over the same table), never from the pipeline itself.

use super::*;
use crate::pagination::Page;
use futures::TryStreamExt;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A page table: cursor → (items, next cursor); an item `0` is an error inside the page.
type Table = HashMap<Option<String>, (Vec<u32>, Option<String>)>;

fn table(pages: &[(Option<&str>, &[u32], Option<&str>)]) -> Table {
    pages
        .iter()
        .map(|(k, items, next)| {
            (
                k.map(str::to_owned),
                (items.to_vec(), next.map(str::to_owned)),
            )
        })
        .collect()
}

fn missing() -> Error {
    Error::new(ErrorKind::ResourceUnknown, "test", "page")
}

fn bad_item() -> Error {
    Error::new(ErrorKind::UnexpectedResponse, "test", "item")
}

/// A fetched page of the tests: its items (the payload) and next cursor.
type Fetched = futures::future::Ready<Result<(Vec<u32>, Option<String>), Error>>;

/// The pipelined fetch over `table`: the payload is the page's items, counted in `fetched`.
fn fetch_from(
    table: Table,
    fetched: Arc<AtomicUsize>,
) -> impl FnMut(Option<String>) -> Fetched + Send {
    move |cursor| {
        fetched.fetch_add(1, Ordering::SeqCst);
        futures::future::ready(table.get(&cursor).cloned().ok_or_else(missing))
    }
}

/// The decode stage: each item as a result (`0` fails).
fn decode(
    items: Vec<u32>,
    mut out: Vec<Result<u32, Error>>,
) -> Result<Vec<Result<u32, Error>>, Error> {
    out.extend(
        items
            .into_iter()
            .map(|n| if n == 0 { Err(bad_item()) } else { Ok(n) }),
    );
    Ok(out)
}

/// The same table through the sequential paginator.
async fn sequential(table: &Table) -> Vec<Result<u32, Error>> {
    let table = table.clone();
    Paginator::new("test", "transactions")
        .stream_lazy(move |cursor: Option<String>| {
            let page = table.get(&cursor).cloned().ok_or_else(missing);
            futures::future::ready(page.and_then(|(items, next)| {
                let items = decode(items, Vec::new())?;
                Ok(crate::pagination::LazyPage::new(items.into_iter(), next))
            }))
        })
        .collect()
        .await
}

async fn pipelined(table: &Table, read_ahead: bool) -> Vec<Result<u32, Error>> {
    Paginator::new("test", "transactions")
        .stream_pipelined(
            read_ahead,
            fetch_from(table.clone(), Arc::default()),
            decode,
        )
        .collect()
        .await
}

/// Items and error kinds, comparable.
fn shown(results: &[Result<u32, Error>]) -> Vec<Result<u32, ErrorKind>> {
    results
        .iter()
        .map(|r| r.as_ref().copied().map_err(|e| e.kind.clone()))
        .collect()
}

fn tables() -> Vec<(Table, Vec<Result<u32, ErrorKind>>)> {
    let pagination = ErrorKind::Pagination;
    vec![
        (
            table(&[
                (None, &[1, 2], Some("k1")),
                (Some("k1"), &[], Some("k2")),
                (Some("k2"), &[3], Some("k3")),
                (Some("k3"), &[4, 5], None),
            ]),
            vec![Ok(1), Ok(2), Ok(3), Ok(4), Ok(5)],
        ),
        (
            table(&[(None, &[1], Some("k1")), (Some("k1"), &[2], Some("k1"))]),
            vec![Ok(1), Ok(2), Err(pagination)],
        ),
        (
            table(&[(None, &[1, 2], Some("gone"))]),
            vec![Ok(1), Ok(2), Err(ErrorKind::ResourceUnknown)],
        ),
        (
            table(&[
                (None, &[1], Some("k1")),
                (Some("k1"), &[2, 0, 3], Some("k2")),
                (Some("k2"), &[4], None),
            ]),
            vec![Ok(1), Ok(2), Err(ErrorKind::UnexpectedResponse)],
        ),
        (table(&[(None, &[], None)]), vec![]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yields_what_the_sequential_stream_yields() {
    for (table, expected) in tables() {
        let sequential = shown(&sequential(&table).await);
        assert_eq!(sequential, expected, "the sequential stream, as written");
        for read_ahead in [true, false] {
            assert_eq!(
                shown(&pipelined(&table, read_ahead).await),
                expected,
                "read ahead {read_ahead}"
            );
        }
    }
}

#[test]
fn without_a_tokio_runtime_pages_are_decoded_in_place() {
    for (table, expected) in tables() {
        let got = futures::executor::block_on(pipelined(&table, true));
        assert_eq!(shown(&got), expected);
    }
}

/// Ten pages of three items: page p holds 3p+1, 3p+2, 3p+3.
fn ten_pages() -> Table {
    (0..10u32)
        .map(|p| {
            let key = (p > 0).then(|| format!("k{p}"));
            let next = (p < 9).then(|| format!("k{}", p + 1));
            (key, ((3 * p + 1..=3 * p + 3).collect(), next))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_at_most_one_page_ahead_and_none_without_read_ahead() {
    for read_ahead in [true, false] {
        let fetched = Arc::new(AtomicUsize::new(0));
        let mut stream = Paginator::new("test", "transactions").stream_pipelined(
            read_ahead,
            fetch_from(ten_pages(), fetched.clone()),
            decode,
        );
        let mut most_ahead = 0;
        let mut n = 0u32;
        while let Some(item) = stream.next().await {
            let item = item.unwrap();
            n += 1;
            assert_eq!(item, n, "in page order");
            // The consumer is on page (item - 1) / 3 (0-based), so it has used that many
            // pages plus the one it is on.
            let on = usize::try_from((item - 1) / 3).unwrap() + 1;
            // Give the read-ahead every chance to run further than allowed.
            tokio::time::sleep(Duration::from_millis(1)).await;
            let ahead = fetched.load(Ordering::SeqCst) - on;
            most_ahead = most_ahead.max(ahead);
        }
        assert_eq!(n, 30);
        assert_eq!(fetched.load(Ordering::SeqCst), 10);
        let expected = usize::from(read_ahead);
        assert_eq!(most_ahead, expected, "read ahead {read_ahead}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_after_the_first_item_makes_no_further_request() {
    for (read_ahead, expected) in [(true, 2), (false, 1)] {
        let fetched = Arc::new(AtomicUsize::new(0));
        let mut stream = Paginator::new("test", "transactions").stream_pipelined(
            read_ahead,
            fetch_from(ten_pages(), fetched.clone()),
            decode,
        );
        assert_eq!(stream.next().await.unwrap().unwrap(), 1);
        drop(stream);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(fetched.load(Ordering::SeqCst), expected, "{read_ahead}");
    }
}

#[test]
fn dropping_the_stream_aborts_the_decoding_that_has_not_started() {
    let decoded = Arc::new(AtomicUsize::new(0));
    let count = decoded.clone();
    // A single worker thread, kept busy by the first page's decoding, so the second page's
    // task is still queued when the stream is dropped.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (started, has_started) = std::sync::mpsc::channel::<()>();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let hold = Mutex::new((started, wait));
        let mut stream = Paginator::new("test", "transactions").stream_pipelined(
            true,
            fetch_from(ten_pages(), Arc::default()),
            move |items: Vec<u32>, out| {
                if items.first() == Some(&1) {
                    // Page 1 says it started, then waits until the test lets it go.
                    let hold = hold.lock().unwrap();
                    hold.0.send(()).unwrap();
                    let _ = hold.1.recv_timeout(Duration::from_secs(5));
                }
                count.fetch_add(1, Ordering::SeqCst);
                decode(items, out)
            },
        );
        // Starts both requests and both decodings; page 1's blocks the only worker.
        assert!(futures::poll!(stream.next()).is_pending());
        has_started.recv_timeout(Duration::from_secs(5)).unwrap();
        drop(stream);
        release.send(()).unwrap();
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    assert_eq!(
        decoded.load(Ordering::SeqCst),
        1,
        "page 2 was never decoded"
    );
}

#[tokio::test]
async fn a_single_threaded_runtime_yields_what_the_sequential_stream_yields() {
    for (table, expected) in tables() {
        assert_eq!(shown(&pipelined(&table, true).await), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_page_is_not_held_back_by_the_second() {
    let first = (vec![1, 2], Some("k1".to_owned()));
    let fetched = Arc::new(AtomicUsize::new(0));
    let count = fetched.clone();
    let fetch = move |cursor: Option<String>| {
        count.fetch_add(1, Ordering::SeqCst);
        let page = first.clone();
        async move {
            if cursor.is_some() {
                // The second page never arrives.
                futures::future::pending::<()>().await;
            }
            Ok::<_, Error>(page)
        }
    };
    let mut stream = Paginator::new("test", "transactions").stream_pipelined(true, fetch, decode);
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        vec![
            stream.next().await.unwrap().unwrap(),
            stream.next().await.unwrap().unwrap(),
        ]
    })
    .await
    .unwrap();
    assert_eq!(got, [1, 2]);
    assert_eq!(
        fetched.load(Ordering::SeqCst),
        2,
        "the second page was asked for"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_page_keeps_its_place() {
    let table = table(&[
        (None, &[1, 2], Some("k1")),
        (Some("k1"), &[3], Some("k2")),
        (Some("k2"), &[4], None),
    ]);
    let items: Vec<u32> = Paginator::new("test", "transactions")
        .stream_pipelined(
            true,
            fetch_from(table, Arc::default()),
            |items: Vec<u32>, out| {
                if items.first() == Some(&1) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                decode(items, out)
            },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items, [1, 2, 3, 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_fails_to_decode_ends_the_stream_after_the_pages_before() {
    let table = table(&[
        (None, &[1], Some("k1")),
        (Some("k1"), &[2], Some("k2")),
        (Some("k2"), &[3], None),
    ]);
    let results: Vec<Result<u32, Error>> = Paginator::new("test", "transactions")
        .stream_pipelined(
            true,
            fetch_from(table, Arc::default()),
            |items: Vec<u32>, out| {
                if items == [2] {
                    return Err(bad_item());
                }
                decode(items, out)
            },
        )
        .collect()
        .await;
    assert_eq!(shown(&results), [Ok(1), Err(ErrorKind::UnexpectedResponse)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_pages_bounds_an_endless_pipelined_source() {
    let mut n = 0u32;
    let fetch = move |_cursor: Option<u32>| {
        n += 1;
        futures::future::ready(Ok::<_, Error>((vec![n], Some(n))))
    };
    let results: Vec<Result<u32, Error>> = Paginator::new("test", "transactions")
        .max_pages(5)
        .stream_pipelined(true, fetch, decode)
        .collect()
        .await;
    assert_eq!(
        shown(&results),
        [
            Ok(1),
            Ok(2),
            Ok(3),
            Ok(4),
            Ok(5),
            Err(ErrorKind::Pagination)
        ]
    );
    let error = results[5].as_ref().unwrap_err();
    assert!(error.to_string().contains("more than 5 pages"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_pages_resume_and_keep_their_cursors() {
    let table = ten_pages();
    let expected: Vec<(Vec<u32>, Option<String>)> = (7..10u32)
        .map(|p| {
            let items = (3 * p + 1..=3 * p + 3).collect();
            (items, (p < 9).then(|| format!("k{}", p + 1)))
        })
        .collect();
    for read_ahead in [true, false] {
        let fetched = Arc::new(AtomicUsize::new(0));
        let pages: Vec<(Vec<u32>, Option<String>)> = Paginator::new("test", "transactions")
            .pages_pipelined(
                Some("k7".to_owned()),
                read_ahead,
                fetch_from(table.clone(), fetched.clone()),
                |items: Vec<u32>| Ok::<_, Error>(items),
            )
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pages, expected);
        assert_eq!(fetched.load(Ordering::SeqCst), 3);
    }
    // The same pages through the sequential `pages`.
    let table2 = table.clone();
    let sequential: Vec<(Vec<u32>, Option<String>)> = Paginator::new("test", "transactions")
        .pages(Some("k7".to_owned()), move |cursor: Option<String>| {
            let page = table2.get(&cursor).cloned().ok_or_else(missing);
            futures::future::ready(page.map(|(items, next)| {
                let page = Page::new(items, next);
                (page.items, page.next)
            }))
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sequential, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_back_to_the_resumed_page_is_detected() {
    let table = table(&[(Some("first"), &[1], Some("first"))]);
    let pages: Vec<PageResult<Vec<u32>, String>> = Paginator::new("test", "transactions")
        .pages_pipelined(
            Some("first".to_owned()),
            true,
            fetch_from(table, Arc::default()),
            |items: Vec<u32>| Ok::<_, Error>(items),
        )
        .collect()
        .await;
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].as_ref().unwrap(), &(vec![1], None));
    assert_eq!(pages[1].as_ref().unwrap_err().kind, ErrorKind::Pagination);
}
