//! One account's listing: window, resume, pages, matching, commits.

use std::collections::VecDeque;

use chrono::NaiveDate;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use psd2::entry::{EntryError, TransactionPage};
use psd2::{
    AccountInformation, Bank, Error, ErrorKind, PageCursor, Psu, Session, Transaction,
    TransactionQuery, TransactionStatus,
};

use super::{AccountOutcome, AccountReport, Engine, Run, SyncError};
use crate::budget::lock;
use crate::identity::{Listed, Matched, Matcher, Outcome};
use crate::model::{
    ChangeKind, CommitCursors, ConnectionAccount, EventKind, NewChange, NewEvent, PageCommit,
    Progress, ProgressUpdate, ResumeCursor, StoredTransaction,
};
use crate::settings::DateField;
use crate::window::Window;

/// Where a listing starts.
struct Start {
    window: Window,
    listing_id: String,
    resume: Option<ResumeCursor>,
    pages_done: u32,
}

/// Pages read from the bank ahead of the one being matched (besides the one being read).
const READ_AHEAD: usize = 2;

/// Pages read from the bank at most while the stored entries load (an incremental sync's
/// window of a long history takes a while to load, and its listing to read): the listing
/// goes on meanwhile instead of stopping after [`READ_AHEAD`] pages.
const READ_WHILE_LOADING: usize = 32;

/// A listing's page as read and prepared for matching (or the error that ended the
/// listing).
type PageItem = Result<PreparedPage, Error>;

/// A listing's page, each entry's facts worked out for matching ([`Listed::new`]) as the
/// page arrived, and the next page.
struct PreparedPage {
    entries: Vec<Result<Listed, EntryError>>,
    next: Option<PageCursor>,
}

impl PreparedPage {
    /// `page` prepared, entries' dates read as `date_field` says.
    fn new(page: TransactionPage, date_field: DateField) -> Self {
        let mut buffer = Vec::with_capacity(4096);
        let entries = page
            .entries
            .into_iter()
            .map(|entry| entry.map(|tx| Listed::new(tx, date_field, &mut buffer)))
            .collect();
        Self {
            entries,
            next: page.next,
        }
    }
}

/// What one listing attempt reads.
struct Listing<'a> {
    ai: &'a dyn AccountInformation,
    account: &'a ConnectionAccount,
    start: &'a Start,
    session: &'a Session,
    psu: &'a Psu,
    query: &'a TransactionQuery,
}

/// Transactions one commit gathers at most from pages that waited for the store.
const MAX_BATCH: usize = 5_000;

/// A commit running as its own task: `pages` pages, the last one the listing's
/// `pages_done`-th, `entries` transactions.
struct InFlight {
    handle: tokio::task::JoinHandle<(PageCommit, Result<CommitCursors, SyncError>)>,
    pages: u32,
    pages_done: u32,
    entries: usize,
}

/// The commit of pages matched while the previous commit was still being written.
struct Queued {
    commit: PageCommit,
    pages: u32,
    pages_done: u32,
}

/// How a listing attempt ended.
enum ListEnd {
    Complete,
    Failed(Error),
}

fn new_listing_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether the bank refused a stored page cursor (start again from page 1).
fn cursor_refused(error: &Error) -> bool {
    matches!(
        error.kind,
        ErrorKind::Pagination | ErrorKind::FormatError | ErrorKind::ResourceUnknown
    ) || matches!(error.status, Some(400 | 404 | 410))
}

impl Engine {
    /// Syncs one account; returns its report and the latest booking date it listed.
    pub(super) async fn sync_account(
        &self,
        run: &mut Run<'_>,
        ai: &dyn AccountInformation,
        account: &ConnectionAccount,
    ) -> Result<(AccountReport, Option<NaiveDate>), SyncError> {
        let mut report = AccountReport::new(account.id.clone());
        let now = self.clock.now();
        let today = lock(&run.ledger).day_of(now);
        let saved = self.store.progress(&run.connection.id, &account.id).await?;
        let mut start = match saved {
            Some(p) => Start {
                window: Window {
                    from: p.window_from,
                    to: p.window_to,
                },
                listing_id: p.listing_id,
                resume: p.next_page,
                pages_done: p.pages_done,
            },
            None => Start {
                window: Window::for_account(
                    &run.settings,
                    today,
                    self.store
                        .latest_booked_date(&run.connection.id, &account.id)
                        .await?,
                ),
                listing_id: new_listing_id(),
                resume: None,
                pages_done: 0,
            },
        };
        let next_allowed = {
            let ledger = lock(&run.ledger);
            if start.resume.is_some() {
                // A resumed listing's requests carry the bank's continuation.
                ledger.next_continuation_allowed(Some(&account.id), "transactions", now)
            } else {
                ledger.next_allowed(Some(&account.id), "transactions", now)
            }
        };
        if let Some(until) = next_allowed {
            report.outcome = AccountOutcome::Deferred { until };
            return Ok((report, None));
        }
        let mut latest = None;
        let mut restarted = false;
        loop {
            let resumed = start.resume.is_some();
            let pages_before = report.pages;
            lock(&run.ledger).begin_listing(Some(&account.id), resumed);
            let end = self
                .list(run, ai, account, &start, &mut report, &mut latest)
                .await;
            lock(&run.ledger).end_listing(Some(&account.id));
            let end = end?;
            match end {
                ListEnd::Complete => return Ok((report, latest)),
                ListEnd::Failed(error)
                    if resumed
                        && !restarted
                        && report.pages == pages_before
                        && cursor_refused(&error) =>
                {
                    // The bank no longer takes the stored cursor: a fresh listing from page 1
                    // (a new listing id, so the entries claimed before are claimable again).
                    restarted = true;
                    start.listing_id = new_listing_id();
                    start.resume = None;
                    start.pages_done = 0;
                }
                ListEnd::Failed(error) => {
                    report.outcome = failed_outcome(&error, now);
                    let events = self.on_error(run, &error, Some(&account.id));
                    self.commit_events(run, events).await?;
                    return Ok((report, latest));
                }
            }
        }
    }

    /// One listing attempt from `start`, committing page by page.
    ///
    /// Three things overlap: the bank's next pages are read ahead (up to [`READ_AHEAD`]
    /// pages waiting; the first ones while the stored entries load), the current page is
    /// matched, and the previous page's commit runs as its own task (pages matched while it
    /// runs are committed together next, up to [`MAX_BATCH`] transactions). Commits still happen one after another, in page order, each naming the
    /// page after it as the progress: a process killed at any point resumes after the last
    /// commit, and pages read ahead but not committed are simply read again.
    async fn list(
        &self,
        run: &mut Run<'_>,
        ai: &dyn AccountInformation,
        account: &ConnectionAccount,
        start: &Start,
        report: &mut AccountReport,
        latest: &mut Option<NaiveDate>,
    ) -> Result<ListEnd, SyncError> {
        let query = start.window.query();
        let session = run.session.clone();
        let psu = run.psu.clone();
        let resume = start.resume.as_ref().map(|c| PageCursor::new(c.as_str()));
        let bank = run.bank;
        let pages = open_pages(bank, ai, account, &session, &psu, &query, resume);
        let (sender, mut receiver) = tokio::sync::mpsc::channel(READ_AHEAD);
        // The reader never ends on its own: the listing ends when the consumer does, and
        // dropping the reader then stops any read still under way.
        let mut reader = std::pin::pin!(read_ahead(pages, run.settings.date_field, sender));
        let (mut matcher, early) = self
            .load_while_reading(run, account, start, reader.as_mut(), &mut receiver)
            .await?;
        let listing = Listing {
            ai,
            account,
            start,
            session: &session,
            psu: &psu,
            query: &query,
        };
        let mut inflight = None;
        let end = {
            let consumer = std::pin::pin!(self.consume(
                run,
                &listing,
                &mut matcher,
                (early, &mut receiver),
                &mut inflight,
                report,
                latest,
            ));
            match futures::future::select(consumer, reader).await {
                futures::future::Either::Left((end, _)) => end,
                futures::future::Either::Right((never, _)) => match never {},
            }
        };
        // Whatever happened, the last commit finishes before anything else is written.
        let (settled, written) = match self.settle(run, account, report, &mut inflight).await {
            Ok(written) => (Ok(()), written),
            Err(error) => (Err(error), None),
        };
        // The window's stored entries (the matcher) and the last commit are freed on
        // another thread: the next account's listing need not wait for it.
        tokio::task::spawn_blocking(move || drop((matcher, written)));
        let end = end?;
        settled?;
        Ok(end)
    }

    /// The matcher over the account's stored entries of the window, loaded and indexed on a
    /// task of their own while the bank's first pages are read, and those pages: taken off
    /// the channel as they come (up to [`READ_WHILE_LOADING`]) so that the reader keeps
    /// reading.
    async fn load_while_reading(
        &self,
        run: &Run<'_>,
        account: &ConnectionAccount,
        start: &Start,
        mut reader: std::pin::Pin<&mut impl std::future::Future<Output = std::convert::Infallible>>,
        receiver: &mut tokio::sync::mpsc::Receiver<PageItem>,
    ) -> Result<(Matcher, VecDeque<PageItem>), SyncError> {
        let mut load = {
            let store = self.store.clone();
            let (connection, account, from) = (
                run.connection.id.clone(),
                account.id.clone(),
                start.window.from,
            );
            let (settings, listing_id) = (run.settings.clone(), start.listing_id.clone());
            tokio::spawn(async move {
                let stored = store.load_window(&connection, &account, Some(from)).await?;
                Ok::<_, SyncError>(Matcher::from_entries(
                    connection, account, settings, listing_id, stored,
                ))
            })
        };
        let mut early = VecDeque::new();
        loop {
            tokio::select! {
                biased;
                loaded = &mut load => {
                    let matcher = loaded.map_err(|e| SyncError::LoadTask(e.to_string()))??;
                    return Ok((matcher, early));
                }
                never = reader.as_mut() => match never {},
                Some(item) = receiver.recv(), if early.len() < READ_WHILE_LOADING => {
                    early.push_back(item);
                }
            }
        }
    }

    /// Matches the pages as they arrive and commits each (see [`Engine::list`]).
    #[allow(clippy::too_many_arguments)]
    async fn consume(
        &self,
        run: &mut Run<'_>,
        listing: &Listing<'_>,
        matcher: &mut Matcher,
        (mut early, receiver): (
            VecDeque<PageItem>,
            &mut tokio::sync::mpsc::Receiver<PageItem>,
        ),
        inflight: &mut Option<InFlight>,
        report: &mut AccountReport,
        latest: &mut Option<NaiveDate>,
    ) -> Result<ListEnd, SyncError> {
        let (account, start) = (listing.account, listing.start);
        let mut pages_done = start.pages_done;
        let mut first = true;
        let mut queued: Option<Queued> = None;
        // Reused for the JSON of transactions not encoded as their page arrived, encoded
        // here while the previous commit is being written rather than in the commit.
        let mut json = Vec::with_capacity(4096);
        let end = loop {
            let Some(item) = next_page(&mut early, receiver).await else {
                break ListEnd::Complete;
            };
            let page = match item {
                Ok(page) => page,
                Err(error) if first && matches!(error.kind, ErrorKind::Unsupported { .. }) => {
                    // No resumable listing: the all-or-nothing stream as one page.
                    match all_at_once(run.bank, listing).await {
                        Ok(page) => PreparedPage::new(page, run.settings.date_field),
                        Err(error) => break ListEnd::Failed(error),
                    }
                }
                Err(error) => break ListEnd::Failed(error),
            };
            first = false;
            pages_done = pages_done.saturating_add(1);
            let done = page.next.is_none();
            let mut commit = self.page_commit(
                run, matcher, account, start, page, pages_done, report, latest,
            )?;
            commit.encode_transactions(&mut json)?;
            let batch = match queued.as_mut() {
                Some(batch) => {
                    // Room for a whole batch at the first page absorbed, so absorbing never
                    // regrows the vectors again (each regrowth copies every row so far).
                    let rows = &mut batch.commit.transactions;
                    if rows.capacity() < MAX_BATCH {
                        rows.reserve(MAX_BATCH.saturating_add(commit.transactions.len()));
                        let changes = &mut batch.commit.changes;
                        changes.reserve(MAX_BATCH.saturating_add(commit.changes.len()));
                    }
                    batch.commit.absorb(commit);
                    batch.pages = batch.pages.saturating_add(1);
                    batch.pages_done = pages_done;
                    batch
                }
                None => queued.insert(Queued {
                    commit,
                    pages: 1,
                    pages_done,
                }),
            };
            if done {
                break ListEnd::Complete;
            }
            // While the store is still busy with the previous commit, the pages matched
            // meanwhile wait and go into one commit (up to a size).
            let busy = inflight.as_ref().is_some_and(|f| !f.handle.is_finished());
            if !busy || batch.commit.transactions.len() >= MAX_BATCH {
                self.flush(run, account, report, inflight, &mut queued)
                    .await?;
            }
        };
        self.flush(run, account, report, inflight, &mut queued)
            .await?;
        // The stream ended without a page saying it is the last. With nothing read at all,
        // the listing is empty and complete; otherwise the saved progress stays and the next
        // sync resumes from it.
        if first && matches!(end, ListEnd::Complete) {
            let mut commit = PageCommit::new(run.connection.id.clone());
            self.finish_listing(run, matcher, start, &mut commit, report)?;
            self.commit(run, &commit).await?;
        }
        Ok(end)
    }

    /// Starts the queued commit, if any, as its own task once the one in flight is done
    /// (one commit at a time, in page order).
    async fn flush(
        &self,
        run: &mut Run<'_>,
        account: &ConnectionAccount,
        report: &mut AccountReport,
        inflight: &mut Option<InFlight>,
        queued: &mut Option<Queued>,
    ) -> Result<(), SyncError> {
        let written = self.settle(run, account, report, inflight).await?;
        let Some(batch) = queued.take() else {
            return Ok(());
        };
        let entries = batch.commit.transactions.len();
        let committer = self.committer(run);
        let commit = batch.commit;
        let handle = tokio::spawn(async move {
            let result = committer.write(&commit).await;
            (commit, result)
        });
        *inflight = Some(InFlight {
            handle,
            pages: batch.pages,
            pages_done: batch.pages_done,
            entries,
        });
        // The written commit (thousands of transactions) is freed on another thread,
        // while the next one is being written and the next pages matched.
        if let Some(written) = written {
            tokio::task::spawn_blocking(move || drop(written));
        }
        Ok(())
    }

    /// Waits for the page commit in flight, if any, and publishes its events; returns the
    /// written commit (for the caller to free when it suits it).
    async fn settle(
        &self,
        run: &mut Run<'_>,
        account: &ConnectionAccount,
        report: &mut AccountReport,
        inflight: &mut Option<InFlight>,
    ) -> Result<Option<PageCommit>, SyncError> {
        let Some(job) = inflight.take() else {
            return Ok(None);
        };
        let (commit, written) = job
            .handle
            .await
            .map_err(|e| SyncError::CommitTask(e.to_string()))?;
        let cursors = written?;
        self.publish(run, &commit.events, &cursors);
        report.pages = report.pages.saturating_add(job.pages);
        self.observe(run, account, job.pages_done, job.entries);
        Ok(Some(commit))
    }

    /// Tells the observer, if any, that a page was committed.
    fn observe(&self, run: &Run<'_>, account: &ConnectionAccount, pages: u32, entries: usize) {
        if let Some(observer) = &self.observer {
            observer.page(&run.connection.id, &account.id, pages, entries);
        }
    }

    /// The commit for one page (and, on the last page, the removals).
    #[allow(clippy::too_many_arguments)]
    fn page_commit(
        &self,
        run: &mut Run<'_>,
        matcher: &mut Matcher,
        account: &ConnectionAccount,
        start: &Start,
        page: PreparedPage,
        pages_done: u32,
        report: &mut AccountReport,
        latest: &mut Option<NaiveDate>,
    ) -> Result<PageCommit, SyncError> {
        let now = self.clock.now();
        let mut commit = PageCommit::new(run.connection.id.clone());
        let entries = quarantine(run, account, page.entries, &mut commit, report, now);
        // The entries listed again unchanged, freed on another thread (an incremental
        // sync re-lists thousands).
        let mut not_stored = Vec::new();
        for matched in matcher.try_match_listed(entries)? {
            if matched.row.status == TransactionStatus::Booked {
                *latest = (*latest).max(matched.row.booking_date.or(matched.row.date));
            }
            if !matcher.must_store(&matched) {
                report.unchanged = report.unchanged.saturating_add(1);
                not_stored.push(matched);
                continue;
            }
            let Matched { row, outcome, json } = matched;
            let kind = match outcome {
                Outcome::Added => {
                    report.added = report.added.saturating_add(1);
                    Some(ChangeKind::Added)
                }
                Outcome::Modified => {
                    report.modified = report.modified.saturating_add(1);
                    Some(ChangeKind::Modified)
                }
                Outcome::Unchanged => {
                    report.unchanged = report.unchanged.saturating_add(1);
                    None
                }
            };
            if let Some(kind) = kind {
                commit.changes.push(change(&row, kind, now));
            }
            commit.push_transaction(row, json);
        }
        match page.next {
            Some(next) => {
                commit.progress = ProgressUpdate::Save(Progress {
                    connection: run.connection.id.clone(),
                    account: account.id.clone(),
                    window_from: start.window.from,
                    window_to: start.window.to,
                    next_page: Some(ResumeCursor::new(next.as_str())),
                    pages_done,
                    listing_id: start.listing_id.clone(),
                });
            }
            None => self.finish_listing(run, matcher, start, &mut commit, report)?,
        }
        if !not_stored.is_empty() {
            tokio::task::spawn_blocking(move || drop(not_stored));
        }
        let mut ledger = lock(&run.ledger);
        commit.budget = ledger.take_dirty();
        commit.events.extend(ledger.take_events());
        Ok(commit)
    }

    /// Adds the end of a complete listing to `commit`: removals and the cleared progress.
    fn finish_listing(
        &self,
        run: &Run<'_>,
        matcher: &mut Matcher,
        start: &Start,
        commit: &mut PageCommit,
        report: &mut AccountReport,
    ) -> Result<(), SyncError> {
        let now = self.clock.now();
        for row in matcher.try_finish(start.window.from)? {
            report.removed = report.removed.saturating_add(1);
            commit.changes.push(change(&row, ChangeKind::Removed, now));
            commit.transactions.push(row);
        }
        let _ = run;
        commit.progress = ProgressUpdate::Clear {
            account: matcher.account().clone(),
        };
        Ok(())
    }
}

/// The page's entries the facade could read; an event in `commit` for each it could not.
fn quarantine<T>(
    run: &Run<'_>,
    account: &ConnectionAccount,
    listed: Vec<Result<T, EntryError>>,
    commit: &mut PageCommit,
    report: &mut AccountReport,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<T> {
    let mut entries = Vec::with_capacity(listed.len());
    for entry in listed {
        match entry {
            Ok(tx) => entries.push(tx),
            Err(error) => {
                report.quarantined = report.quarantined.saturating_add(1);
                commit.events.push(NewEvent {
                    connection: run.connection.id.clone(),
                    account: Some(account.id.clone()),
                    kind: EventKind::EntryQuarantined,
                    at: now,
                    error_kind: None,
                    detail: format!("{}: {}", error.field, error.reason),
                });
            }
        }
    }
    entries
}

/// How an account's sync ended on `error`: deferred when the budget or the bank said
/// "not now" (until its `Retry-After`, else an hour), failed otherwise.
fn failed_outcome(error: &Error, now: chrono::DateTime<chrono::Utc>) -> AccountOutcome {
    match &error.kind {
        ErrorKind::AccessExceeded { retry_after } => {
            let wait = retry_after
                .and_then(|d| chrono::TimeDelta::from_std(d).ok())
                .unwrap_or_else(|| chrono::TimeDelta::hours(1));
            AccountOutcome::Deferred {
                until: now.checked_add_signed(wait).unwrap_or(now),
            }
        }
        kind => AccountOutcome::Failed {
            kind: kind.to_string(),
        },
    }
}

/// The account's resumable listing (card accounts through the card capability).
fn open_pages<'a>(
    bank: &'a dyn Bank,
    ai: &'a dyn AccountInformation,
    account: &'a ConnectionAccount,
    session: &'a Session,
    psu: &'a Psu,
    query: &'a TransactionQuery,
    resume: Option<PageCursor>,
) -> BoxStream<'a, Result<TransactionPage, Error>> {
    if !account.card {
        return ai.transaction_pages(session, psu, &account.id, query, resume);
    }
    match bank.as_card_account_information() {
        Some(card) => card.card_transaction_pages(session, psu, &account.id, query, resume),
        None => futures::stream::iter([Err(Error::unsupported(
            bank.name(),
            "card_transaction_pages",
        ))])
        .boxed(),
    }
}

/// The whole listing from the all-or-nothing stream, as one last page.
async fn all_at_once(bank: &dyn Bank, listing: &Listing<'_>) -> Result<TransactionPage, Error> {
    let (account, session, psu, query) =
        (listing.account, listing.session, listing.psu, listing.query);
    let all: Vec<Transaction> = if account.card {
        match bank.as_card_account_information() {
            Some(card) => {
                card.card_transactions(session, psu, &account.id, query)
                    .try_collect()
                    .await?
            }
            None => return Err(Error::unsupported(bank.name(), "card_transactions")),
        }
    } else {
        listing
            .ai
            .transactions(session, psu, &account.id, query)
            .try_collect()
            .await?
    };
    Ok(TransactionPage::new(
        all.into_iter().map(Ok).collect(),
        None,
    ))
}

/// The next page: one read while the stored entries loaded, else the reader's next (`None`:
/// the listing ended).
async fn next_page(
    early: &mut VecDeque<PageItem>,
    receiver: &mut tokio::sync::mpsc::Receiver<PageItem>,
) -> Option<PageItem> {
    match early.pop_front() {
        Some(item) => Some(item),
        None => receiver.recv().await,
    }
}

/// Reads the listing's pages into `sender` ahead of their matching, each prepared for it as
/// it arrives (so an incremental sync works out the listed entries' facts while the stored
/// entries load), stopping after an error or when the receiver is gone; then waits forever
/// (the caller drops it).
async fn read_ahead(
    mut pages: BoxStream<'_, Result<TransactionPage, Error>>,
    date_field: DateField,
    sender: tokio::sync::mpsc::Sender<PageItem>,
) -> std::convert::Infallible {
    while let Some(item) = pages.next().await {
        let failed = item.is_err();
        let item = item.map(|page| PreparedPage::new(page, date_field));
        if sender.send(item).await.is_err() || failed {
            break;
        }
    }
    drop(sender);
    futures::future::pending().await
}

/// The change about `row`, which goes into the same commit: its transaction is the row's
/// (not copied).
fn change(
    row: &StoredTransaction,
    kind: ChangeKind,
    at: chrono::DateTime<chrono::Utc>,
) -> NewChange {
    NewChange {
        account: row.account.clone(),
        key: row.key.clone(),
        kind,
        transaction: None,
        at,
    }
}
