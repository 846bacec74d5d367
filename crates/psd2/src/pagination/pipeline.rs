//! A listing whose pages go through two stages: a serial chain that fetches each page and
//! reads its next cursor (cheap, in the stream, inside the adapter's retry loop), and a
//! decode stage that turns the page into its items on a spawned task (costly, in parallel).
//!
//! As soon as page k's next cursor is known, page k+1 may be requested while page k is
//! still decoding. The bounds:
//!
//! - at most one page is requested ahead of the page the consumer is on (and none when read
//!   ahead is off: page k+1 is requested only when the consumer has used up page k);
//! - at most two pages are decoding at a time;
//! - pages (and so items) come out strictly in page order, each as soon as it is decoded:
//!   the first page is never held back for the second;
//! - the first error is the last item, after every item before it;
//! - dropping the stream drops the request in flight and aborts the decoding tasks: no
//!   further request is made.
//!
//! The loop and page-count checks are the [`Paginator`]'s: a repeated cursor ends the
//! listing with [`ErrorKind::Pagination`] after the page that pointed back, and so does a
//! listing longer than [`Paginator::max_pages`].
//!
//! Decoding needs a tokio runtime to spawn on; without one (another executor), and without
//! read ahead (where nothing would run beside the task), each page is decoded in place, in
//! the stream, when it arrives.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{BoxStream, Stream};
use futures::{FutureExt, StreamExt};

use super::Paginator;
use crate::error::{Error, ErrorKind};

/// Items yielded between two polls of the request in flight while a page is being used.
const POLL_EVERY: u32 = 32;

/// A page's fetch: its payload for the decode stage and its next cursor.
type Fetching<'a, P, C> = BoxFuture<'a, Result<(P, Option<C>), Error>>;

/// A decoded page with its next cursor, or the error that ends the listing.
type PageResult<U, C> = Result<(U, Option<C>), Error>;

/// A page's decode stage as a shared function.
type DecodeFn<P, U> = Arc<dyn Fn(P) -> Result<U, Error> + Send + Sync>;

/// A page being decoded: a spawned task (aborted when dropped), or the page decoded in
/// place (no runtime, or no read ahead).
enum Decoding<U> {
    Task(tokio::task::JoinHandle<Result<U, Error>>),
    Done(Option<Result<U, Error>>),
}

impl<U> Drop for Decoding<U> {
    fn drop(&mut self) {
        if let Self::Task(handle) = self {
            handle.abort();
        }
    }
}

impl<U: Send + 'static> Decoding<U> {
    fn start<P: Send + 'static>(decode: &DecodeFn<P, U>, payload: P, spawn: bool) -> Self {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if spawn => {
                let decode = Arc::clone(decode);
                Self::Task(runtime.spawn(async move { decode(payload) }))
            }
            _ => Self::Done(Some(decode(payload))),
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>, paginator: &Paginator) -> Poll<Result<U, Error>> {
        match self {
            Self::Task(handle) => handle.poll_unpin(cx).map(|joined| {
                joined.unwrap_or_else(|_| {
                    Err(Error::new(
                        ErrorKind::UnexpectedResponse,
                        paginator.bank,
                        paginator.operation,
                    )
                    .with_detail("decoding the page stopped before it was done"))
                })
            }),
            Self::Done(result) => Poll::Ready(result.take().unwrap_or_else(|| {
                Err(Error::new(
                    ErrorKind::UnexpectedResponse,
                    paginator.bank,
                    paginator.operation,
                )
                .with_detail("the decoded page was already taken"))
            })),
        }
    }
}

/// The serial chain and the decode stage: yields decoded pages in order (see the module
/// docs). `holds` in its methods says whether the consumer is still using a page it got.
struct Pipeline<'a, P, U, C> {
    paginator: Paginator,
    fetch: Box<dyn FnMut(Option<C>) -> Fetching<'a, P, C> + Send + 'a>,
    decode: DecodeFn<P, U>,
    read_ahead: bool,
    in_flight: Option<Fetching<'a, P, C>>,
    /// The cursor of the next page to fetch (`Some(None)`: the first page); `None` when no
    /// page is left to fetch.
    next: Option<Option<C>>,
    seen: HashSet<C>,
    pages: usize,
    /// Fetched pages, in page order, decoding or decoded, with their next cursor.
    queue: VecDeque<(Decoding<U>, Option<C>)>,
    /// The error that ends the listing once the pages before it are out.
    tail_error: Option<Error>,
    done: bool,
}

impl<'a, P, U, C> Pipeline<'a, P, U, C>
where
    P: Send + 'static,
    U: Send + 'static,
    C: Eq + Hash + Clone + Send + 'a,
{
    fn new<F, Fut, D>(
        paginator: Paginator,
        resume: Option<C>,
        read_ahead: bool,
        mut fetch: F,
        decode: D,
    ) -> Self
    where
        F: FnMut(Option<C>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<(P, Option<C>), Error>> + Send + 'a,
        D: Fn(P) -> Result<U, Error> + Send + Sync + 'static,
    {
        let mut seen = HashSet::new();
        if let Some(first) = &resume {
            seen.insert(first.clone());
        }
        Self {
            paginator,
            fetch: Box::new(move |cursor| fetch(cursor).boxed()),
            decode: Arc::new(decode),
            read_ahead,
            in_flight: None,
            next: Some(resume),
            seen,
            pages: 0,
            queue: VecDeque::new(),
            tail_error: None,
            done: false,
        }
    }

    /// Whether the next page may be requested now: the page the consumer needs, or one page
    /// ahead of the one it uses when reading ahead.
    fn may_start(&self, holds: bool) -> bool {
        self.queue.len() + usize::from(holds) <= usize::from(self.read_ahead)
    }

    /// Moves the serial chain on: starts the next request when allowed, polls the one in
    /// flight, and hands each fetched page to the decode stage.
    fn drive(&mut self, cx: &mut Context<'_>, holds: bool) {
        while !self.done {
            if self.in_flight.is_none() {
                if !self.may_start(holds) {
                    return;
                }
                let Some(cursor) = self.next.take() else {
                    return;
                };
                if self.pages >= self.paginator.max_pages {
                    let max = self.paginator.max_pages;
                    self.tail_error = Some(self.paginator.error(format!("more than {max} pages")));
                    return;
                }
                self.pages = self.pages.saturating_add(1);
                self.in_flight = Some((self.fetch)(cursor));
            }
            let Some(fetching) = self.in_flight.as_mut() else {
                return;
            };
            let Poll::Ready(fetched) = fetching.poll_unpin(cx) else {
                return;
            };
            self.in_flight = None;
            match fetched {
                Err(error) => {
                    self.next = None;
                    self.tail_error = Some(error);
                    return;
                }
                Ok((payload, next)) => {
                    let next = self.follow(next);
                    let decoding = Decoding::start(&self.decode, payload, self.read_ahead);
                    self.queue.push_back((decoding, next));
                }
            }
        }
    }

    /// Records a page's next cursor; a cursor seen before ends the listing after this page.
    fn follow(&mut self, next: Option<C>) -> Option<C> {
        let next = next?;
        if self.seen.insert(next.clone()) {
            self.next = Some(Some(next.clone()));
            Some(next)
        } else {
            let detail = format!("page {} points to an already fetched page", self.pages);
            self.tail_error = Some(self.paginator.error(detail));
            None
        }
    }

    /// The next decoded page, in page order; the first error is the last item.
    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<PageResult<U, C>>> {
        if self.done {
            return Poll::Ready(None);
        }
        self.drive(cx, false);
        if let Some((decoding, _)) = self.queue.front_mut() {
            let decoded = match decoding.poll(cx, &self.paginator) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(decoded) => decoded,
            };
            let next = self.queue.pop_front().and_then(|(_, next)| next);
            match decoded {
                Ok(page) => {
                    // The consumer now holds this page: the next request may go out.
                    self.drive(cx, true);
                    return Poll::Ready(Some(Ok((page, next))));
                }
                Err(error) => {
                    self.finish();
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
        if self.in_flight.is_some() {
            return Poll::Pending;
        }
        let last = self.tail_error.take();
        self.finish();
        Poll::Ready(last.map(Err))
    }
}

impl<P, U, C> Pipeline<'_, P, U, C> {
    /// Ends the listing: the request in flight is dropped, the decoding tasks are aborted.
    fn finish(&mut self) {
        self.done = true;
        self.next = None;
        self.in_flight = None;
        self.queue.clear();
        self.tail_error = None;
    }
}

/// Whole decoded pages with their next cursor.
struct Pages<'a, P, U, C>(Pipeline<'a, P, U, C>);

impl<P, U, C> Unpin for Pages<'_, P, U, C> {}

impl<'a, P, U, C> Stream for Pages<'a, P, U, C>
where
    P: Send + 'static,
    U: Send + 'static,
    C: Eq + Hash + Clone + Send + 'a,
{
    type Item = PageResult<U, C>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_page(cx)
    }
}

/// A page's items as the decode stage fills them.
type PageItems<T> = Vec<Result<T, Error>>;

/// Emptied page buffers, handed back to the decode stage: each page's items are written
/// into a buffer of an earlier page, so the large allocation is made once per listing
/// rather than once per page (a fresh one is mapped in and its memory faulted in each time).
struct Buffers<T>(Mutex<Vec<PageItems<T>>>);

impl<T> Buffers<T> {
    /// Kept at most: the page in use and the two decoding.
    const KEEP: usize = 3;

    fn take(&self) -> PageItems<T> {
        self.0
            .lock()
            .ok()
            .and_then(|mut kept| kept.pop())
            .unwrap_or_default()
    }

    fn give_back(&self, mut buffer: PageItems<T>) {
        buffer.clear();
        if let Ok(mut kept) = self.0.lock()
            && kept.len() < Self::KEEP
        {
            kept.push(buffer);
        }
    }
}

/// The items of the decoded pages, moved out of each page's buffer one at a time; the
/// request ahead is polled now and then while a page is used, so it moves on while the
/// consumer works.
struct Items<'a, P, T, C> {
    pipeline: Pipeline<'a, P, PageItems<T>, C>,
    current: VecDeque<Result<T, Error>>,
    buffers: Arc<Buffers<T>>,
    since_poll: u32,
}

impl<P, T, C> Unpin for Items<'_, P, T, C> {}

impl<'a, T, P, C> Stream for Items<'a, P, T, C>
where
    T: Send + 'static,
    P: Send + 'static,
    C: Eq + Hash + Clone + Send + 'a,
{
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match this.current.pop_front() {
                Some(Ok(item)) => {
                    this.since_poll = this.since_poll.saturating_add(1);
                    if this.since_poll >= POLL_EVERY {
                        this.since_poll = 0;
                        this.pipeline.drive(cx, true);
                    }
                    return Poll::Ready(Some(Ok(item)));
                }
                Some(Err(error)) => {
                    this.finish();
                    return Poll::Ready(Some(Err(error)));
                }
                None => {}
            }
            match this.pipeline.poll_page(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok((page, _)))) => {
                    let spent = std::mem::replace(&mut this.current, VecDeque::from(page));
                    this.buffers.give_back(Vec::from(spent));
                }
                Poll::Ready(Some(Err(error))) => {
                    this.finish();
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    this.finish();
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl<P, T, C> Items<'_, P, T, C> {
    fn finish(&mut self) {
        self.pipeline.finish();
        self.current = VecDeque::new();
    }
}

impl Paginator {
    /// Streams items through a two-stage page source (see
    /// [pipelined listings](crate::pagination#pipelined-listings)): `fetch(cursor)` gets a
    /// page's payload and its next cursor (starting with `fetch(None)`), `decode(payload,
    /// buffer)` appends the page's items to `buffer` (empty; a spent page's, reused) and
    /// returns it, on a spawned task when reading ahead. With `read_ahead`, the next page is requested while the
    /// consumer is still on the current one; a consumer that stops early may so have caused
    /// one request more than it used. An `Err` item (from a page or inside one) is the last
    /// item.
    pub fn stream_pipelined<'a, T, P, C, F, Fut, D>(
        self,
        read_ahead: bool,
        fetch: F,
        decode: D,
    ) -> BoxStream<'a, Result<T, Error>>
    where
        T: Send + 'static,
        P: Send + 'static,
        C: Eq + Hash + Clone + Send + 'a,
        F: FnMut(Option<C>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<(P, Option<C>), Error>> + Send + 'a,
        D: Fn(P, PageItems<T>) -> Result<PageItems<T>, Error> + Send + Sync + 'static,
    {
        let buffers = Arc::new(Buffers(Mutex::new(Vec::new())));
        let kept = Arc::clone(&buffers);
        let decode = move |payload| decode(payload, kept.take());
        Items {
            pipeline: Pipeline::new(self, None, read_ahead, fetch, decode),
            current: VecDeque::new(),
            buffers,
            since_poll: 0,
        }
        .boxed()
    }

    /// Streams whole decoded pages with their next cursor through a two-stage page source,
    /// like [`Paginator::stream_pipelined`], starting at `resume` (fetched as
    /// `fetch(Some(resume))`, counted as seen) or at the first page. The same loop and
    /// page-count checks as [`Paginator::pages`]; the first error is the last item. With
    /// `read_ahead`, the page after the one last yielded is requested before the consumer
    /// asks for it.
    pub fn pages_pipelined<'a, P, U, C, F, Fut, D>(
        self,
        resume: Option<C>,
        read_ahead: bool,
        fetch: F,
        decode: D,
    ) -> BoxStream<'a, PageResult<U, C>>
    where
        P: Send + 'static,
        U: Send + 'static,
        C: Eq + Hash + Clone + Send + 'a,
        F: FnMut(Option<C>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<(P, Option<C>), Error>> + Send + 'a,
        D: Fn(P) -> Result<U, Error> + Send + Sync + 'static,
    {
        Pages(Pipeline::new(self, resume, read_ahead, fetch, decode)).boxed()
    }
}

#[cfg(test)]
mod tests;
