//! Unattended PSD2 account sync on top of the `psd2` facade's traits.
//!
//! - [`model`]: the plain data shared by the engine and the stores (connections, stored
//!   transactions with our stable [`model::TxKey`], the change feed, the event outbox, the
//!   budget ledger, listing progress, and [`model::PageCommit`], what one database
//!   transaction writes).
//! - [`settings`]: the rules that differ between banks ([`settings::BankSyncSettings`]).
//! - [`identity`]: fingerprints and matching (stable keys across id changes, twins).
//! - [`window`]: which days a sync reads; [`budget`]: the access budget ledger and hook;
//!   [`lifecycle`]: consent events; [`clock`]: the time source.
//! - [`engine`]: [`Engine`], syncing connections page by page into a store.
//! - [`store`]: the `Store` trait and its SQLite and PostgreSQL implementations.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod budget;
pub mod clock;
pub mod engine;
pub mod identity;
pub mod lifecycle;
pub mod model;
pub mod settings;
pub mod store;
pub mod window;

pub use engine::{
    AccountOutcome, AccountReport, BankResolver, Engine, SyncError, SyncObserver, SyncReport,
};
pub use model::{
    BudgetDay, Change, ChangeKind, CommitCursors, Connection, ConnectionAccount, ConnectionId,
    ConnectionState, ConsentState, Event, EventKind, NewChange, NewEvent, PageCommit, Progress,
    ProgressUpdate, PsuRecord, ResumeCursor, SessionRecord, StoredTransaction, TxKey,
};
pub use settings::{BankSyncSettings, BudgetScope, DateField, IdStability};
