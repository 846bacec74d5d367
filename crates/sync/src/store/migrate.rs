//! The versioned schema migrations, embedded in the binary (no files needed at run time).
//!
//! Each engine has its own directory, `crates/sync/migrations/<engine>/NNNN_name.sql`, in
//! sqlx's layout and with its bookkeeping table `_sqlx_migrations`: a migration that was
//! applied and then changed is refused (checksum), and one never applied is run in order.
//! A new schema version is a new file here and a new line in the list below.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::StoreError;

/// One embedded migration: version, description, SQL.
type Embedded = (i64, &'static str, &'static str);

/// SQLite's migrations, oldest first.
pub(crate) const SQLITE: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "lean writes",
        include_str!("../../migrations/sqlite/0002_lean_writes.sql"),
    ),
    (
        3,
        "changes without rowid",
        include_str!("../../migrations/sqlite/0003_changes_without_rowid.sql"),
    ),
];

/// PostgreSQL's migrations, oldest first.
pub(crate) const POSTGRES: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "lean writes",
        include_str!("../../migrations/postgres/0002_lean_writes.sql"),
    ),
];

/// A list of embedded migrations as an sqlx migration source.
#[derive(Debug, Clone, Copy)]
struct EmbeddedSource(&'static [Embedded]);

impl MigrationSource<'static> for EmbeddedSource {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// The migrator for one engine's list.
pub(crate) async fn migrator(list: &'static [Embedded]) -> Result<Migrator, StoreError> {
    Migrator::new(EmbeddedSource(list))
        .await
        .map_err(|e| StoreError::Migrate(e.to_string()))
}
