//! Following a bank's pages as one stream, safely.
//!
//! A [`Paginator`] turns "fetch the page at this cursor" into a `Stream` of items. The cursor
//! carries only the continuation (a `continuationKey` or a next href); the adapter's fetch
//! closure rebuilds every request from the caller's original query plus the cursor, so date
//! range and booking status are kept on every page even where a bank's next link drops them.
//!
//! The stream follows every page (also empty pages that still have a next link), and ends
//! with [`ErrorKind::Pagination`] instead of looping when a cursor repeats (a seen
//! continuation key, or a next link back to the first page) or when more than
//! [`Paginator::max_pages`] pages would be fetched. The first error is always the stream's
//! last item.
//!
//! A page is either ready ([`Page`]: a `Vec` of items) or lazy ([`LazyPage`]: an iterator
//! whose items are produced as the consumer pulls them, e.g. mapped from the bank's raw page
//! one at a time, [`Paginator::stream_lazy`]); a lazy page holds only the raw page, and a
//! consumer that stops early never pays for the rest of it. Items go from the page's iterator
//! to the consumer through one layer, and a spent page is dropped only when the next one has
//! arrived, so the memory it held is reused by the next page rather than returned to the
//! operating system and faulted in again between pages.
//!
//! [`Paginator::pages`] yields whole pages with their next cursor instead, and can start at a
//! stored cursor: the resumable listings ([`PageCursor`]) are built on it.
//!
//! # Pipelined listings
//!
//! [`Paginator::stream_pipelined`] and [`Paginator::pages_pipelined`] take a page source in
//! two stages: a fetch that gets a page's payload (e.g. its body bytes) and reads only its
//! next cursor, run one page after the other in the stream (inside the adapter's retry
//! loop), and a decode that turns a payload into the page's items on a spawned tokio task.
//! As soon as a page's next cursor is known, the next page may be requested (read ahead)
//! while the page is still decoding: at most one request ahead of the page the consumer is
//! on, at most two pages decoding, items strictly in page order, and the first page's items
//! are never held back. Dropping the stream drops the request in flight and aborts the
//! decoding tasks. Without read ahead, a page is requested only when the consumer has used
//! up the one before, and is decoded in place, in the stream (a task would have nothing to
//! run beside); a stream without a tokio runtime decodes in place too.
//!
//! # When a listing ends
//!
//! Only with the bank's last page (a page without a next link) or with an error. A page that
//! fails is retried by the adapter's retry policy ([`crate::retry`]), the page alone, never
//! the listing from page 1. An answer without the listing object, or an error body sent with
//! status 200, is an error, never an empty last page. An empty page *without* a next link after
//! a page that had one is accepted as the bank's last page: banks send one when the number of
//! entries is a multiple of the page size.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream, Stream};
use futures::{FutureExt, StreamExt, future};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, ErrorKind};

mod pipeline;

/// Default bound on pages per listing (10,000 transactions at 100 per page is 100 pages).
pub const DEFAULT_MAX_PAGES: usize = 100_000;

/// One page: its items and the cursor of the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    /// The page's items (may be empty).
    pub items: Vec<T>,
    /// Where the next page is; `None` on the last page.
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// A page with a continuation.
    pub fn new(items: Vec<T>, next: Option<C>) -> Self {
        Self { items, next }
    }

    /// The last page.
    pub fn last(items: Vec<T>) -> Self {
        Self { items, next: None }
    }
}

/// One page whose items are produced as they are pulled (e.g. mapped from the raw page one
/// at a time): an iterator of results, and the cursor of the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LazyPage<I, C> {
    /// The page's items; an `Err` item ends the stream after the items before it.
    pub items: I,
    /// Where the next page is; `None` on the last page.
    pub next: Option<C>,
}

impl<I, C> LazyPage<I, C> {
    /// A page with a continuation.
    pub fn new(items: I, next: Option<C>) -> Self {
        Self { items, next }
    }
}

/// An opaque position in a listing: where its next page starts. Store it (it serializes as a
/// string) to resume a listing later with
/// [`AccountInformation::transaction_pages`](crate::AccountInformation::transaction_pages).
///
/// It holds what the bank needs to find the page (a continuation key or a next link) and may
/// carry ids, so `Debug` shows only its length. A bank that no longer accepts a stored cursor
/// answers with an error ([`ErrorKind::Pagination`] or the bank's 4xx); start again from the
/// first page then.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageCursor(String);

impl PageCursor {
    /// Wraps an adapter's cursor text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The cursor's text, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An adapter's cursor: `<bank>:<position>`, so a cursor of another bank is recognised.
    pub fn for_bank(bank: &str, position: &str) -> Self {
        Self(format!("{bank}:{position}"))
    }

    /// The position of a cursor made by [`PageCursor::for_bank`] for `bank`; an error of
    /// kind [`ErrorKind::Pagination`] for a cursor of another bank or an empty position.
    pub fn position(&self, bank: &'static str, operation: &'static str) -> Result<&str, Error> {
        self.0
            .strip_prefix(bank)
            .and_then(|rest| rest.strip_prefix(':'))
            .filter(|position| !position.is_empty())
            .ok_or_else(|| {
                Error::new(ErrorKind::Pagination, bank, operation)
                    .with_detail("the stored page cursor is not one of this bank's cursors")
            })
    }
}

impl fmt::Debug for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PageCursor({} chars)", self.0.chars().count())
    }
}

/// Turns a page-fetching closure into a stream of items (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Paginator {
    bank: &'static str,
    operation: &'static str,
    max_pages: usize,
}

struct State<F, C> {
    fetch: F,
    next: Option<Option<C>>,
    seen: HashSet<C>,
    pages: usize,
    pending_error: Option<Error>,
}

impl Paginator {
    /// A paginator whose errors name `bank` and `operation`.
    pub fn new(bank: &'static str, operation: &'static str) -> Self {
        Self {
            bank,
            operation,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// Sets the most pages fetched before the stream ends with an error.
    pub fn max_pages(mut self, max_pages: usize) -> Self {
        self.max_pages = max_pages;
        self
    }

    fn error(&self, detail: String) -> Error {
        Error::new(ErrorKind::Pagination, self.bank, self.operation).with_detail(detail)
    }

    /// Streams items starting with `fetch(None)` (the first page, from the original query).
    pub fn stream<'a, T, C, F, Fut>(self, mut fetch: F) -> BoxStream<'a, Result<T, Error>>
    where
        T: Send + 'a,
        C: Eq + Hash + Clone + Send + 'a,
        F: FnMut(Option<C>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<Page<T, C>, Error>> + Send + 'a,
    {
        self.run(move |cursor| fetch(cursor).map(eager), None)
    }

    /// Streams items starting with `fetch(Some(first))`; `first` counts as seen, so a next
    /// link pointing back at the first page is detected.
    pub fn stream_from<'a, T, C, F, Fut>(
        self,
        first: C,
        mut fetch: F,
    ) -> BoxStream<'a, Result<T, Error>>
    where
        T: Send + 'a,
        C: Eq + Hash + Clone + Send + 'a,
        F: FnMut(Option<C>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<Page<T, C>, Error>> + Send + 'a,
    {
        self.run(move |cursor| fetch(cursor).map(eager), Some(first))
    }

    /// Like [`Paginator::stream`], for pages whose items are produced as the consumer pulls
    /// them ([`LazyPage`]): only one page's raw items are held, and an item that fails ends
    /// the stream after the items before it (no later item or page is produced).
    pub fn stream_lazy<'a, T, I, C, F, Fut>(self, fetch: F) -> BoxStream<'a, Result<T, Error>>
    where
        T: Send + 'a,
        I: Iterator<Item = Result<T, Error>> + Send + 'a,
        C: Eq + Hash + Clone + Send + 'a,
        F: FnMut(Option<C>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<LazyPage<I, C>, Error>> + Send + 'a,
    {
        self.run(fetch, None)
    }

    /// Streams whole pages with their next cursor, starting at `resume` (fetched as
    /// `fetch(Some(resume))`, counted as seen) or at the first page (`fetch(None)`). The same
    /// loop and page-count checks as [`Paginator::stream`]; the first error is the last item.
    pub fn pages<'a, P, C, F, Fut>(
        self,
        resume: Option<C>,
        fetch: F,
    ) -> BoxStream<'a, Result<(P, Option<C>), Error>>
    where
        P: Send + 'a,
        C: Eq + Hash + Clone + Send + 'a,
        F: FnMut(Option<C>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<(P, Option<C>), Error>> + Send + 'a,
    {
        let mut seen = HashSet::new();
        if let Some(first) = &resume {
            seen.insert(first.clone());
        }
        let state = State {
            fetch,
            next: Some(resume),
            seen,
            pages: 0,
            pending_error: None,
        };
        stream::unfold(state, move |mut st| async move {
            if let Some(error) = st.pending_error.take() {
                return Some((Err(error), st));
            }
            let cursor = st.next.take()?;
            if st.pages >= self.max_pages {
                let error = self.error(format!("more than {} pages", self.max_pages));
                return Some((Err(error), st));
            }
            st.pages += 1;
            match (st.fetch)(cursor).await {
                Err(error) => Some((Err(error), st)),
                Ok((page, next)) => {
                    let next = match next {
                        Some(next) if st.seen.insert(next.clone()) => {
                            st.next = Some(Some(next.clone()));
                            Some(next)
                        }
                        // The page is kept, without the looping cursor; the error follows.
                        Some(_) => {
                            st.pending_error = Some(self.error(format!(
                                "page {} points to an already fetched page",
                                st.pages
                            )));
                            None
                        }
                        None => None,
                    };
                    Some((Ok((page, next)), st))
                }
            }
        })
        .scan(false, |failed, item| {
            let out = if *failed {
                None
            } else {
                *failed = item.is_err();
                Some(item)
            };
            future::ready(out)
        })
        .boxed()
    }

    fn run<'a, T, I, C, F, Fut>(self, fetch: F, first: Option<C>) -> BoxStream<'a, Result<T, Error>>
    where
        T: Send + 'a,
        I: Iterator<Item = Result<T, Error>> + Send + 'a,
        C: Eq + Hash + Clone + Send + 'a,
        F: FnMut(Option<C>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<LazyPage<I, C>, Error>> + Send + 'a,
    {
        let mut seen = HashSet::new();
        if let Some(first) = &first {
            seen.insert(first.clone());
        }
        let state = State {
            fetch,
            next: Some(first),
            seen,
            pages: 0,
            pending_error: None,
        };
        let pages = stream::unfold(state, move |mut st| async move {
            if let Some(error) = st.pending_error.take() {
                return Some((Err(error), st));
            }
            let cursor = st.next.take()?;
            if st.pages >= self.max_pages {
                let error = self.error(format!("more than {} pages", self.max_pages));
                return Some((Err(error), st));
            }
            st.pages += 1;
            match (st.fetch)(cursor).await {
                Err(error) => Some((Err(error), st)),
                Ok(page) => {
                    if let Some(next) = page.next {
                        if st.seen.insert(next.clone()) {
                            st.next = Some(Some(next));
                        } else {
                            st.pending_error = Some(self.error(format!(
                                "page {} points to an already fetched page",
                                st.pages
                            )));
                        }
                    }
                    Some((Ok(page.items), st))
                }
            }
        })
        .boxed();
        Items {
            pages,
            current: None,
            spent: None,
            done: false,
        }
        .boxed()
    }
}

/// The items of a stream of pages, yielded straight from each page's iterator (one layer
/// between the page and the consumer, so a large item is moved as few times as possible).
/// The first error is the last item: nothing after it is fetched or produced.
///
/// The previous page's spent iterator is dropped only once the next page has arrived, so
/// the memory it still holds (e.g. the raw page's buffer) is reused by the next page's
/// allocations instead of being handed back to the operating system in between.
struct Items<'a, I> {
    pages: BoxStream<'a, Result<I, Error>>,
    current: Option<I>,
    spent: Option<I>,
    done: bool,
}

// `Items` never pins its iterators (they are only used through `&mut`), and `pages` is boxed.
impl<I> Unpin for Items<'_, I> {}

impl<T, I> Stream for Items<'_, I>
where
    I: Iterator<Item = Result<T, Error>>,
{
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(items) = this.current.as_mut() {
                match items.next() {
                    Some(Ok(item)) => return Poll::Ready(Some(Ok(item))),
                    Some(Err(error)) => {
                        this.finish();
                        return Poll::Ready(Some(Err(error)));
                    }
                    None => this.spent = this.current.take(),
                }
            }
            match this.pages.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(items))) => {
                    this.spent = None;
                    this.current = Some(items);
                }
                Poll::Ready(Some(Err(error))) => {
                    this.finish();
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => this.finish(),
            }
        }
    }
}

impl<I> Items<'_, I> {
    /// Ends the stream and lets go of what it holds.
    fn finish(&mut self) {
        self.done = true;
        self.current = None;
        self.spent = None;
    }
}

/// The items of a [`Page`] as the iterator of a [`LazyPage`].
type ReadyItems<T> = std::iter::Map<std::vec::IntoIter<T>, fn(T) -> Result<T, Error>>;

/// A page of ready items as a lazy one.
fn eager<T, C>(page: Result<Page<T, C>, Error>) -> Result<LazyPage<ReadyItems<T>, C>, Error> {
    page.map(|p| LazyPage::new(p.items.into_iter().map(Ok as fn(T) -> _), p.next))
}

/// Reads the `continuationKey` query parameter from a next href, relative
/// (`/psd2/.../transactions?...&continuationKey=abc`) or absolute. Percent-decoded; `None`
/// when absent or empty.
pub fn continuation_key(href: &str) -> Option<String> {
    query_param(href, "continuationKey")
}

/// Reads one query parameter (exact name, percent-decoded, non-empty) from an href that may
/// be relative or absolute.
pub fn query_param(href: &str, name: &str) -> Option<String> {
    let url = match Url::parse(href) {
        Ok(url) => url,
        Err(_) => Url::parse("http://relative.invalid/")
            .ok()?
            .join(href)
            .ok()?,
    };
    url.query_pairs()
        .find(|(key, value)| key == name && !value.is_empty())
        .map(|(_, value)| value.into_owned())
}

/// Reads `_links.next.href` (or `_links.next` as a plain string) from a response object,
/// a transactions object, or a `_links` object itself.
pub fn next_href(json: &serde_json::Value) -> Option<String> {
    let links = json.get("_links").unwrap_or(json);
    match links.get("next")? {
        serde_json::Value::String(href) => Some(href.clone()),
        next => next.get("href")?.as_str().map(str::to_owned),
    }
    .filter(|href| !href.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    type Calls = Arc<Mutex<Vec<Option<String>>>>;

    /// An in-memory page source: cursor → page; records the cursors asked for.
    #[allow(clippy::type_complexity)]
    fn source(
        pages: Vec<(Option<&'static str>, Vec<u32>, Option<&'static str>)>,
    ) -> (
        impl FnMut(Option<String>) -> futures::future::Ready<Result<Page<u32, String>, Error>> + Send,
        Calls,
    ) {
        let map: HashMap<Option<String>, (Vec<u32>, Option<String>)> = pages
            .into_iter()
            .map(|(k, items, next)| (k.map(str::to_owned), (items, next.map(str::to_owned))))
            .collect();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        let fetch = move |cursor: Option<String>| {
            log.lock().unwrap().push(cursor.clone());
            futures::future::ready(match map.get(&cursor) {
                Some((items, next)) => Ok(Page::new(items.clone(), next.clone())),
                None => Err(Error::new(ErrorKind::ResourceUnknown, "test", "page")),
            })
        };
        (fetch, calls)
    }

    #[tokio::test]
    async fn follows_every_page_including_empty_ones() {
        let (fetch, calls) = source(vec![
            (None, vec![1, 2], Some("k1")),
            (Some("k1"), vec![], Some("k2")),
            (Some("k2"), vec![3], Some("k3")),
            (Some("k3"), vec![4, 5], None),
        ]);
        let items: Vec<u32> = Paginator::new("test", "transactions")
            .stream(fetch)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items, [1, 2, 3, 4, 5]);
        assert_eq!(calls.lock().unwrap().len(), 4);
    }

    /// The documented rule: an empty page without a next link after a page that had one is
    /// the bank's last page (a listing whose size is a multiple of the page size), so the
    /// listing ends there, complete, with no error and no further request.
    #[tokio::test]
    async fn an_empty_page_without_a_next_link_after_one_with_is_the_last_page() {
        let (fetch, calls) = source(vec![
            (None, vec![1, 2], Some("k1")),
            (Some("k1"), vec![], None),
        ]);
        let results: Vec<Result<u32, Error>> = Paginator::new("test", "transactions")
            .stream(fetch)
            .collect()
            .await;
        assert_eq!(results.len(), 2, "two items and nothing else");
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(
            *calls.lock().unwrap(),
            [None, Some("k1".to_owned())],
            "no request after the empty last page"
        );

        // The same through whole pages (the resumable listings): the empty page is the last
        // one, without a cursor.
        let (mut fetch, calls) = source(vec![
            (None, vec![1, 2], Some("k1")),
            (Some("k1"), vec![], None),
        ]);
        let pages: Vec<(Vec<u32>, Option<String>)> = Paginator::new("test", "transactions")
            .pages(None, move |cursor| {
                fetch(cursor).map(|page| page.map(|p| (p.items, p.next)))
            })
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pages, [(vec![1, 2], Some("k1".to_owned())), (vec![], None)]);
        assert_eq!(calls.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn repeated_key_ends_with_pagination_error_after_the_items() {
        let (fetch, calls) = source(vec![
            (None, vec![1], Some("k1")),
            (Some("k1"), vec![2], Some("k2")),
            (Some("k2"), vec![3], Some("k1")),
        ]);
        let results: Vec<Result<u32, Error>> = Paginator::new("test", "transactions")
            .stream(fetch)
            .collect()
            .await;
        assert_eq!(results.len(), 4);
        assert_eq!(
            results[..3]
                .iter()
                .map(|r| *r.as_ref().unwrap())
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let err = results[3].as_ref().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Pagination);
        assert_eq!(calls.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn next_link_to_the_first_page_is_detected() {
        let (fetch, _) = source(vec![(Some("first"), vec![1], Some("first"))]);
        let results: Vec<Result<u32, Error>> = Paginator::new("test", "transactions")
            .stream_from("first".to_owned(), fetch)
            .collect()
            .await;
        assert_eq!(results.len(), 2);
        assert_eq!(results[1].as_ref().unwrap_err().kind, ErrorKind::Pagination);
    }

    #[tokio::test]
    async fn max_pages_bounds_an_endless_source() {
        let mut n = 0u32;
        let fetch = move |_cursor: Option<u32>| {
            n += 1;
            futures::future::ready(Ok::<_, Error>(Page::new(vec![n], Some(n))))
        };
        let results: Vec<Result<u32, Error>> = Paginator::new("test", "transactions")
            .max_pages(5)
            .stream(fetch)
            .collect()
            .await;
        assert_eq!(results.len(), 6);
        assert!(results[..5].iter().all(Result::is_ok));
        let err = results[5].as_ref().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Pagination);
        assert!(err.to_string().contains("more than 5 pages"), "{err}");
    }

    #[tokio::test]
    async fn fetch_error_ends_the_stream() {
        let (fetch, _) = source(vec![(None, vec![1], Some("missing"))]);
        let results: Vec<Result<u32, Error>> = Paginator::new("test", "transactions")
            .stream(fetch)
            .collect()
            .await;
        assert_eq!(results.len(), 2);
        assert_eq!(
            results[1].as_ref().unwrap_err().kind,
            ErrorKind::ResourceUnknown
        );
    }

    #[tokio::test]
    async fn a_failing_lazy_item_ends_the_stream_after_the_items_before_it() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        let fetch = move |cursor: Option<String>| {
            log.lock().unwrap().push(cursor.clone());
            let items: Vec<Result<u32, Error>> = match cursor.as_deref() {
                None => vec![Ok(1), Ok(2)],
                _ => vec![
                    Ok(3),
                    Err(Error::new(ErrorKind::UnexpectedResponse, "test", "map")),
                    Ok(4),
                ],
            };
            let next = match cursor.as_deref() {
                None => Some("k1".to_owned()),
                Some("k1") => Some("k2".to_owned()),
                _ => None,
            };
            futures::future::ready(Ok::<_, Error>(LazyPage::new(items.into_iter(), next)))
        };
        let results: Vec<Result<u32, Error>> = Paginator::new("test", "transactions")
            .stream_lazy(fetch)
            .collect()
            .await;
        let oks: Vec<u32> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        assert_eq!(oks, [1, 2, 3], "nothing after the failing item");
        assert_eq!(results.len(), 4);
        assert_eq!(
            results[3].as_ref().unwrap_err().kind,
            ErrorKind::UnexpectedResponse
        );
        assert_eq!(
            *calls.lock().unwrap(),
            [None, Some("k1".to_owned())],
            "the page after the failing one is never fetched"
        );
    }

    #[tokio::test]
    async fn lazy_items_are_produced_only_as_they_are_pulled() {
        let produced = Arc::new(Mutex::new(0u32));
        let counter = produced.clone();
        let fetch = move |_cursor: Option<String>| {
            let counter = counter.clone();
            let items = (1..=500u32).map(move |n| {
                *counter.lock().unwrap() += 1;
                Ok::<_, Error>(n)
            });
            futures::future::ready(Ok::<_, Error>(LazyPage::new(items, None)))
        };
        let first: Vec<u32> = Paginator::new("test", "transactions")
            .stream_lazy(fetch)
            .take(3)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(first, [1, 2, 3]);
        assert_eq!(
            *produced.lock().unwrap(),
            3,
            "the rest of the page is never mapped"
        );
    }

    #[test]
    fn continuation_keys_from_hrefs() {
        let seed = "/psd2/accountinformation/v1/accounts/ab82/transactions?bookingStatus=booked&dateFrom=2025-04-21&dateTo=2025-04-22&continuationKey=0jrZlU66guCSgkTDQr8cuA";
        assert_eq!(
            continuation_key(seed).as_deref(),
            Some("0jrZlU66guCSgkTDQr8cuA")
        );
        assert_eq!(
            continuation_key("https://api.example.com/v1/tx?continuationKey=a%2Bb%3D&x=1")
                .as_deref(),
            Some("a+b=")
        );
        assert_eq!(
            continuation_key("transactions?continuationKey=k").as_deref(),
            Some("k")
        );
        assert_eq!(continuation_key("/tx?continuationKey="), None);
        assert_eq!(continuation_key("/tx?page=2"), None);
        assert_eq!(continuation_key(""), None);
        assert_eq!(query_param("/tx?page=2", "page").as_deref(), Some("2"));
    }

    #[test]
    fn next_href_from_links() {
        let body = serde_json::json!({"transactions": {"_links": {"next": {"href": "/n?continuationKey=x"}}}});
        assert_eq!(
            next_href(&body["transactions"]).as_deref(),
            Some("/n?continuationKey=x")
        );
        assert_eq!(
            next_href(&serde_json::json!({"next": "/n2"})).as_deref(),
            Some("/n2")
        );
        assert_eq!(
            next_href(&serde_json::json!({"_links": {"account": {"href": "/a"}}})),
            None
        );
    }
}
